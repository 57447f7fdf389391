/*
 * dict.h -- the hash table behind managed dicts and namespaces.
 */
#ifndef SHMC_DICT_H
#define SHMC_DICT_H

#include "objects/obj.h"
#include "values/rmw.h"

/* A key as the caller gives it, with its hash, and its word when it needs
 * no block (ints, bools, None), for comparisons without decoding. */
struct shmc__key {
	shmc_value_t v;
	uint64_t hash;
	uint64_t word;
};

/* The key for a dict operation, or SHMC_EUNHASHABLE. */
int shmc__dict_key(shmc_value_t v, struct shmc__key *k);
/* The key for a namespace attribute. @return 0, -EINVAL */
int shmc__ns_key(const char *name, struct shmc__key *k);

/* Operations shared by the dict and namespace kinds, on an object already
 * resolved (A, O). MISSING is the code for an absent key (SHMC_EKEY or
 * SHMC_EATTR). */
int shmc__dict_get(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		   int missing, shmc_value_t *out);
int shmc__dict_has(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k);
int shmc__dict_set(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		   shmc_value_t v);
/* shmc__dict_set only if VERSION is still K's (0: K absent), else
 * SHMC_ECONFLICT with nothing changed. */
int shmc__dict_set_if(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		      shmc_value_t v, uint64_t version);
/* Remove K; if OUT, decode its value first. */
int shmc__dict_remove(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		      int missing, shmc_value_t *out);
int shmc__dict_rmw(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		   int missing, const struct shmc__rmw *op);
int64_t shmc__dict_len(shmc_arena_t *a, struct shmc__obj *o);
/* A consistent snapshot of the entries as a plain dict (insertion order). */
int shmc__dict_snapshot(shmc_arena_t *a, struct shmc__obj *o, shmc_value_t *out);
/* *out (if OUT) = the value of K, after inserting DFLT if K was missing;
 * one atomic step. */
int shmc__dict_setdefault(shmc_arena_t *a, struct shmc__obj *o,
			  const struct shmc__key *k, shmc_value_t dflt,
			  shmc_value_t *out);
int shmc__dict_clear(shmc_arena_t *a, struct shmc__obj *o);

/* d.popitem(): remove the last entry; *KEY and *VAL (either may be NULL)
 * receive it. @return 0, SHMC_EKEY (empty), and the errors of a write */
int shmc__dict_popitem(shmc_arena_t *a, struct shmc__obj *o, shmc_value_t *key,
		       shmc_value_t *val);
/* d.update(M): the entries of plain dict M (in), all published at once.
 * @return 0, and the errors of a write and of encoding M's values */
int shmc__dict_merge(shmc_arena_t *a, struct shmc__obj *o, const struct shmc_pmap *m);

/* Where an iterator is: the table it walks (by gen), the next entry there,
 * and the last key it gave (its word and hash; 0 before the first). */
struct shmc__dict_cursor {
	uint64_t gen, pos, last_kw, last_hash;
	bool started;
};
/* The next entry after C, as WHAT asks (SHMC_ITER_KEYS, _VALUES, _ITEMS),
 * lock-free. LEN is the length the iterator started with.
 * @return 1 (*OUT written), 0 (no more), SHMC_ECHANGED (the length is not
 *         LEN), SHMC_EKEY (the table was rebuilt without the last key
 *         given: no place to go on from), SHMC_ETHREADS, -ENOMEM,
 *         SHMC_EFULL, SHMC_ECORRUPT */
int shmc__dict_next(shmc_arena_t *a, struct shmc__obj *o, struct shmc__dict_cursor *c,
		    int64_t len, unsigned what, shmc_value_t *out);

void shmc__dict_destroy(shmc_arena_t *a, struct shmc__obj *o);
/* Drop a detached table with its keys and values (-1: not a table). */
int shmc__dict_body_drop(shmc_arena_t *a, uint64_t off);
/* The arena check's walk of a detached table. @return -1 if OFF is none */
int shmc__dict_walk_body(struct shmc__walk *w, uint64_t off);
/* What a dict's table block starts with (the kinds' body_magic). */
#define SHMC__DICT_TABLE_MAGIC 0x54434944u /* "DICT" */
int shmc__dict_repair(shmc_arena_t *a, struct shmc__obj *o);
void shmc__dict_walk(struct shmc__walk *w, struct shmc__obj *o);
int64_t shmc__dict_length(shmc_arena_t *a, struct shmc__obj *o);
void shmc__dict_items(shmc_arena_t *a, struct shmc__obj *o,
		      int (*fn)(void *ctx, uint64_t key, uint64_t val), void *ctx);
#define SHMC__DICT_BODY_SIZE sizeof(atomic_u64)

/* Primitives for kinds built on the dict's table (containers/cache.c),
 * whose body starts with the dict's (SHMC__DICT_BODY_SIZE bytes). */
/* Inside an epoch section, lock-free: *VW = K's value word. @return 1, 0 */
int shmc__dict_peek(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		    uint64_t *vw);
/* With the lock held. POS is an entry's number in the current table,
 * valid until shmc__dict_room_locked rebuilds it. */
/* K's entry number, or -1. */
int64_t shmc__dict_find_locked(shmc_arena_t *a, struct shmc__obj *o,
			       const struct shmc__key *k);
/* The end of the entries to walk: [0, used). */
uint64_t shmc__dict_used_locked(shmc_arena_t *a, struct shmc__obj *o);
/* Entry POS's hash, key word and value word (any may be NULL); false when
 * it is deleted or out of range. */
bool shmc__dict_entry_locked(shmc_arena_t *a, struct shmc__obj *o, uint64_t pos,
			     uint64_t *hash, uint64_t *kw, uint64_t *vw);
/* Room for one more entry: may build a new table (compacting or growing),
 * which changes no content and retires the old one (reserved here).
 * @return 0, SHMC_EFULL */
int shmc__dict_room_locked(struct shmc__writer *w);
/* After shmc__dict_room_locked: append HASH, KW -> VW, published at once. */
void shmc__dict_append_locked(struct shmc__writer *w, uint64_t hash, uint64_t kw,
			      uint64_t vw);
/* Publish VW as entry POS's value (the caller retires the old word). */
void shmc__dict_store_locked(struct shmc__writer *w, uint64_t pos, uint64_t vw);
/* Delete entry POS (the caller retires its key and value words). */
void shmc__dict_delete_locked(struct shmc__writer *w, uint64_t pos);

#endif
