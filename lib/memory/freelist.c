/*
 * freelist.c -- walking and publishing private chains of free blocks: the
 * scavenger's (slabs.c) and the thread caches' (tcache.c). A private chain
 * is nobody else's, so it is read and linked with plain loads and stores;
 * only its push onto a class's list is shared (freelist.h).
 */
#include "memory/freelist.h"

uint64_t shmc__chain_end(shmc_arena_t *a, unsigned cls, uint64_t first, uint64_t limit,
			 uint64_t *last)
{
	uint64_t n = 0, prev = 0;
	for (uint64_t b = first; b && n < limit; n++) {
		if (shmc__block_class(a, b) != (int)cls)
			break;
		/* The chain is ours since the detach: pairs, for TSan, with the
		 * release its freer made on the block's link (freelist.h). */
		SHMC_TSAN_ACQUIRE(shmc__next_word(a, b));
		prev = b;
		b = ld_relaxed(shmc__next_word(a, b));
	}
	if (prev == 0) {
		*last = 0;
		return 0;
	}
	st_relaxed(shmc__next_word(a, prev), 0);
	*last = prev;
	/* Cut at LIMIT, the walk may have gone round a cycle: the chain left
	 * is FIRST..PREV, which may be shorter than the steps taken. */
	if (n == limit) {
		uint64_t m = 1;
		for (uint64_t b = first; b != prev && m < n; m++)
			b = ld_relaxed(shmc__next_word(a, b));
		n = m;
	}
	return n;
}

uint64_t shmc__push_private(struct shmc__class_head *h, shmc_arena_t *a, uint64_t first,
			    uint64_t last)
{
#ifdef SHMC_TSAN
	/* Pairs with the acquire in shmc__alloc(), per block; the last one is
	 * released by shmc__push_chain(). */
	for (uint64_t b = first; b != last;) {
		uint64_t next = ld_relaxed(shmc__next_word(a, b)); /* before */
		SHMC_TSAN_RELEASE(a->base + b);
		b = next;
	}
#endif
	return shmc__push_chain(h, first, shmc__next_word(a, last));
}

uint64_t shmc__chain_limit(const shmc_arena_t *a, unsigned cls)
{
	uint64_t brk = ld_acquire(&a->hdr->brk);
	brk = brk < a->capacity ? brk : a->capacity;
	return (brk > a->data_off ? brk - a->data_off : 0) / shmc__class_size(cls) + 1;
}
