/*
 * list.h -- the managed list's array, shared by the files that implement
 * its operations: list.c (the kind, single items, append and extend),
 * list_slice.c (slices), list_sort.c (sort and reverse) and list_ops.c
 * (searches and the sequence operators + and *). The layout and how each
 * change is published are described atop list.c.
 */
#ifndef SHMC_LIST_H
#define SHMC_LIST_H

#include "objects/obj.h"

#define SHMC__LIST_ARR_MAGIC 0x5453494cu /* "LIST" */

struct shmc__list_body {
	atomic_u64 arr_off;
};

struct shmc__list_arr {
	uint32_t magic;
	uint32_t pad_;
	uint64_t cap; /* grows in place under the lock: atomic loads */
	atomic_u64 len;
	atomic_u64 item[];
};

/* The array of list O, checked; NULL when it has none (empty) or when it
 * is not a valid array (see shmc__list_arr_get). */
struct shmc__list_arr *shmc__list_arr(shmc_arena_t *a, struct shmc__obj *o);

/* Items in ARR, bounded by its capacity (a corrupt len reads as cap). The
 * capacity grows in place (an append at the arena's break), before a len
 * that needs it is stored: read after len, it is at least as new. */
static inline uint64_t shmc__list_len(const struct shmc__list_arr *arr)
{
	if (arr == NULL)
		return 0;
	uint64_t n = ld_acquire(&((struct shmc__list_arr *)arr)->len);
	uint64_t cap = __atomic_load_n(&arr->cap, __ATOMIC_RELAXED);
	return n > cap ? cap : n;
}

/* *ARR = the array of list O (NULL: empty), *N = its length, from one read
 * of the body; with the lock held, or in a snapshot (which retries if a
 * writer published meanwhile). @return 0, SHMC_ECORRUPT (the body names no
 * valid array) */
int shmc__list_arr_get(shmc_arena_t *a, struct shmc__obj *o, struct shmc__list_arr **arr,
		       uint64_t *n);

/* A new array of capacity at least CAP holding the first N items of SRC
 * (SRC may be NULL when N is 0), not yet published.
 * @return 0, SHMC_EFULL */
int shmc__list_arr_new(shmc_arena_t *a, uint64_t cap, const struct shmc__list_arr *src,
		       uint64_t n, struct shmc__list_arr **out, uint64_t *off);

/* With the lock held and one retirement reserved: make the complete array
 * at OFF the list's, in one store inside a write section, and retire the
 * old array (not its items: the caller moved or retired them). */
void shmc__list_replace_locked(struct shmc__writer *w, uint64_t off);

/* Run FN on list H's object so that it reads one consistent state (see
 * shmc__obj_snapshot). @return 0, FN's error, SHMC_EHANDLE, SHMC_EKIND,
 * SHMC_ECORRUPT, SHMC_ETHREADS */
int shmc__list_snapshot(shmc_obj_t *h, shmc__snap_fn fn, void (*reset)(void *ctx),
			void *ctx);

/* Whether value V names the managed list H itself (ls[0:0] = ls). */
bool shmc__list_is_self(shmc_obj_t *h, shmc_value_t v);

/* The items a list operation takes (extend, slice assignment): a tuple or
 * plain list as given, a set's members (copies, in iteration order), or a
 * snapshot of the managed list V names, into
 * *OUT (a view of V, or an owned plain list: shmc_value_free() frees
 * either). A managed list that is H itself is not read here (*SELF is set
 * instead): the caller copies it under its lock.
 * @return 0, SHMC_ETYPE, V's error, and the errors of shmc_list_copy */
int shmc__list_source(shmc_obj_t *h, shmc_value_t v, shmc_value_t *out, bool *self);

/* Encode the N items of SRC into the words WS[0..N); on failure nothing is
 * left allocated. @return 0, and the errors of storing a value */
int shmc__list_encode(shmc_arena_t *a, const shmc_value_t *src, uint64_t n, uint64_t *ws);
/* Duplicate the N words of ARR (locked) into WS (shmc__word_dup); on
 * failure nothing is left allocated. @return 0, SHMC_EFULL, SHMC_ECORRUPT */
int shmc__list_dup_words(shmc_arena_t *a, const struct shmc__list_arr *arr, uint64_t n,
			 uint64_t *ws);
/* Drop the N words at WS, never published. */
void shmc__list_drop_words(shmc_arena_t *a, const uint64_t *ws, uint64_t n);

#endif
