/*
 * freelist.h -- a size class's free list: a Treiber stack of blocks in the
 * arena, shared by the allocator (alloc.c) and the slab scavenger
 * (slabs.c). Its protocol is described atop alloc.c.
 */
#ifndef SHMC_FREELIST_H
#define SHMC_FREELIST_H

#include "memory/alloc.h"

static inline atomic_u64 *shmc__next_word(const shmc_arena_t *a, uint64_t off)
{
	return (atomic_u64 *)shmc__at(a, off, sizeof(uint64_t), SHMC__ALIGN);
}

/* The next word of a block that may have been popped and be in use by
 * now (see the top of alloc.c): one relaxed 8-byte load, which TSan is
 * not shown. */
SHMC_TSAN_IGNORE static inline uint64_t shmc__next_racy(atomic_u64 *np)
{
#ifdef SHMC_TSAN
	return *(volatile uint64_t *)np; /* an aligned 8-byte load is atomic */
#else
	return ld_relaxed(np);
#endif
}

/* The free-list head is read as two 8-byte halves; a torn pair only makes
 * the CAS that follows fail. */
static inline void shmc__head_load(struct shmc__class_head *h, uint64_t *off,
				   uint64_t *tag)
{
	*tag = atomic_load_explicit((atomic_u64 *)&h->free.AO_val2,
				    memory_order_acquire);
	*off = atomic_load_explicit((atomic_u64 *)&h->free.AO_val1,
				    memory_order_acquire);
}

/* Pop up to WANT (>= 1) blocks off H's list in one CAS: *FIRST the first,
 * *LAST the last, linked through their first words (LAST's link is what
 * followed it on the list); the class counts them in use. The links are
 * read racily, as a single pop reads one: if the list changed meanwhile
 * the tag did, and the CAS fails. A link that names no block ends the
 * chain, as it would end a run of single pops; a head whose link is
 * outside the arena is a torn read, read again, and the same pair twice a
 * head outside the arena.
 * @return the blocks taken, 0 when the list is empty, SHMC_ECORRUPT */
static inline int64_t shmc__pop_chain(const shmc_arena_t *a, struct shmc__class_head *h,
				      uint64_t want, uint64_t *first, uint64_t *last)
{
	uint64_t bad_off = 0, bad_tag = 0;
	for (;;) {
		uint64_t off, tag;
		shmc__head_load(h, &off, &tag);
		if (off == 0)
			return 0;
		atomic_u64 *np = shmc__next_word(a, off);
		if (np == NULL) {
			if (off == bad_off && tag == bad_tag)
				return SHMC_ECORRUPT;
			bad_off = off;
			bad_tag = tag;
			continue;
		}
		uint64_t end = off, k = 1, next;
		for (;;) {
			next = shmc__next_racy(np);
			if (next == 0 || k == want)
				break;
			atomic_u64 *nn = shmc__next_word(a, next);
			if (nn == NULL)
				break;
			end = next;
			np = nn;
			k++;
		}
		if (!shmc__cas2(&h->free, off, tag, next, tag + 1))
			continue;
		atomic_fetch_add_explicit(&h->in_use, k, memory_order_relaxed);
#ifdef SHMC_TSAN
		/* Pairs with each block's release by its pusher (the links
		 * cannot have changed: the tag did not). */
		for (uint64_t b = off, i = 0; i < k; i++) {
			SHMC_TSAN_ACQUIRE((char *)a->base + b);
			if (i + 1 < k)
				b = ld_relaxed(shmc__next_word(a, b));
		}
#endif
		*first = off;
		*last = end;
		return (int64_t)k;
	}
}

/* Push the chain first..last (already linked through their first words).
 * @return the list's new tag (it counts the list's pushes and pops) */
static inline uint64_t shmc__push_chain(struct shmc__class_head *h, uint64_t first,
					atomic_u64 *last_next)
{
	uint64_t off, tag;
	do {
		shmc__head_load(h, &off, &tag);
		st_relaxed(last_next, off);
		/* Pairs with the acquire in shmc__alloc() and in the
		 * scavenger (slabs.c): the link just written, and all before
		 * it, happen before the block's next owner's uses (the other
		 * blocks of a chain are released by whoever built it).
		 * Nobody can pop the block before the CAS below. */
		SHMC_TSAN_RELEASE(last_next);
		/* Full barrier: the chain's links are visible before its head. */
	} while (!shmc__cas2(&h->free, off, tag, first, tag + 1));
	return tag + 1;
}

/* Take the whole list in one CAS: *first receives its first block (0 when
 * it was empty). The chain is then ours alone: a pop that loaded one of its
 * blocks as the head fails its CAS, as the tag has moved. */
static inline void shmc__detach_all(struct shmc__class_head *h, uint64_t *first)
{
	uint64_t off, tag;
	do {
		shmc__head_load(h, &off, &tag);
		if (off == 0)
			break;
	} while (!shmc__cas2(&h->free, off, tag, 0, tag + 1));
	*first = off;
}

/* Walk the private chain from FIRST of blocks of class CLS and end it: its
 * last block goes in *last, with its link set to 0. A link that names no
 * block of CLS ends the chain there, and so does the LIMIT-th block (the
 * rest, if any, is damage and is dropped: a cycle, maybe). @return the
 * blocks in the chain left, FIRST..*last (freelist.c) */
uint64_t shmc__chain_end(shmc_arena_t *a, unsigned cls, uint64_t first, uint64_t limit,
			 uint64_t *last);

/* Push the private chain FIRST..LAST (linked, LAST's link any) onto the
 * list of H. @return the list's new tag (freelist.c) */
uint64_t shmc__push_private(struct shmc__class_head *h, shmc_arena_t *a, uint64_t first,
			    uint64_t last);

/* The blocks of class CLS that fit below the arena's brk, plus one: the
 * bound of a walk along one of its chains. (freelist.c) */
uint64_t shmc__chain_limit(const shmc_arena_t *a, unsigned cls);

#endif
