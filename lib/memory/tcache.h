/*
 * tcache.h -- a thread's cache of free blocks of the small classes, kept in
 * the arena beside its epoch record (tcache.c says how and why).
 */
#ifndef SHMC_TCACHE_H
#define SHMC_TCACHE_H

#include "memory/epoch.h"
#include "memory/freelist.h"

/* The classes cached: those up to 512 bytes (every value a write replaces
 * in the common case). A bin holds up to SHMC__TC_BYTES of blocks, at
 * least SHMC__TC_MIN and at most SHMC__TC_MAX of them; it is filled and
 * emptied half a bin at a time. */
#define SHMC__TC_CLASSES 16u
#define SHMC__TC_BYTES 4096u
#define SHMC__TC_MIN 8u
#define SHMC__TC_MAX 64u

struct shmc__tcache {
	struct shmc__tc_bin {
		atomic_u64 head; /* first block; blocks link through their first word */
		atomic_u64 n;    /* blocks in the chain: a hint (a kill may skew it) */
	} bin[SHMC__TC_CLASSES];
};

/* The calling thread's cache in A, or NULL (no record in A yet, or none to
 * be had): the cache goes with the record shmc__epoch_rec() found last. */
static inline struct shmc__tcache *shmc__tcache_mine(const shmc_arena_t *a)
{
	const struct shmc__epoch_tls_cache *c = &shmc__epoch_tls;
	return likely(c->arena == a && c->serial == a->serial) ? c->tc : NULL;
}

/* Take a block of class CLS (of SIZE bytes) from TC: false when its bin
 * is empty. */
static inline bool shmc__tcache_pop(shmc_arena_t *a, struct shmc__tcache *tc, unsigned cls,
				    uint64_t size, uint64_t *out)
{
	struct shmc__tc_bin *b = &tc->bin[cls];
	uint64_t off = ld_relaxed(&b->head);
	if (off == 0)
		return false;
	atomic_u64 *np = shmc__next_word(a, off);
	/* The head is a shared word: a block handed out lies in the data
	 * area, whole (a full check of its class costs a walk of the
	 * pagemap; spills make that check, off this path). */
	if (unlikely(np == NULL || off < a->data_off || size > a->capacity - off)) {
		/* Scribbled: drop the chain (a leak). */
		st_relaxed(&b->head, 0);
		st_relaxed(&b->n, 0);
		return false;
	}
	/* Unlinked before it is handed out: a kill after this store leaks the
	 * block, as one between a list's pop and its caller's use does. */
	st_relaxed(&b->head, ld_relaxed(np));
	uint64_t n = ld_relaxed(&b->n);
	st_relaxed(&b->n, n ? n - 1 : 0);
	*out = off;
	return true;
}

/* Put the block at OFF (of class CLS) in TC: false when its bin holds CAP
 * blocks already. */
static inline bool shmc__tcache_push(shmc_arena_t *a, struct shmc__tcache *tc, unsigned cls,
				     uint64_t off, uint64_t cap)
{
	struct shmc__tc_bin *b = &tc->bin[cls];
	uint64_t n = ld_relaxed(&b->n);
	if (n >= cap)
		return false;
	/* Linked before it is listed: a kill in between leaks it. */
	st_relaxed(shmc__next_word(a, off), ld_relaxed(&b->head));
	st_relaxed(&b->head, off);
	st_relaxed(&b->n, n + 1);
	return true;
}

/* A bin of class CLS ran dry: take up to WANT blocks from the class's list
 * in one CAS, hand out the first in *out, cache the rest.
 * @return 0, 1 when the list is empty too, SHMC_ECORRUPT */
int shmc__tcache_fill(shmc_arena_t *a, struct shmc__tcache *tc, unsigned cls, uint64_t want,
		      uint64_t *out);

/* A bin of class CLS is full: push its first K blocks onto the class's
 * list in one CAS. @return the blocks pushed; *tag the list's new tag */
uint64_t shmc__tcache_spill(shmc_arena_t *a, struct shmc__tcache *tc, unsigned cls, uint64_t k,
			    uint64_t *tag);

/* R's cache, validated (a block of its size), or NULL; *off its offset
 * (0 when R has none). */
struct shmc__tcache *shmc__tcache_of(const shmc_arena_t *a, struct shmc__rec *r,
				     uint64_t *off);

/* R's cache, made if R has none (NULL when the arena is full): the record
 * is the calling thread's. */
struct shmc__tcache *shmc__tcache_bind(shmc_arena_t *a, struct shmc__rec *r);

/* Every block of R's cache back onto its class's list: the record's thread
 * is the caller, has exited, or is dead. RELEASE also frees the cache
 * itself and unlinks it from R (a reaped record). */
void shmc__tcache_flush(shmc_arena_t *a, struct shmc__rec *r, bool release);

/* Add the blocks cached by every thread, per class, to COUNTS (stats). */
void shmc__tcache_tally(const shmc_arena_t *a, uint64_t counts[SHMC__TC_CLASSES]);

#endif
