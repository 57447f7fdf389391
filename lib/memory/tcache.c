/*
 * tcache.c -- each thread's cache of free blocks of the small classes.
 *
 * Why. A write that replaces a value allocates one block and, a grace
 * period later, frees one. On the class's shared list (alloc.c) that is a
 * 16-byte CAS and a shared counter update each way: four serialising
 * instructions on lines every process writes, about a third of a small
 * write. A thread that keeps a few blocks of its own serves most of them
 * with plain loads and stores on a line nobody else writes, and meets the
 * shared list once in half a bin, moving half a bin in one CAS.
 *
 * Where. The cache lives in the arena, in a block named by the thread's
 * epoch record (tcache_off), not in the process: a process killed with
 * blocks in its caches must not lose them. A bin per small class up to 512
 * bytes, each a chain linked through the blocks' first words (as the
 * lists are) and a count. It is made when the thread first finds its record
 * (shmc__epoch_rec) and goes with the record: a thread that exits empties
 * its cache onto the lists and frees it; so does a reaper that releases a
 * dead process's records. shmc__alloc_trim() (shmc_arena_reclaim), and an
 * allocation that finds the arena full, empty the caller's.
 *
 * Who writes. Only the record's owning thread, while it lives, so no access
 * is atomic beyond a plain store; the reaper reads after the owner died (the
 * slot lock says so), and an exiting thread empties and frees its own, so a
 * cache never passes to another thread. The arena check reads the caches
 * of a live arena racily, like the lists, bounded, and counts their blocks
 * free; the stats subtract them from the blocks in use.
 *
 * The price. Nobody but its thread can empty a live thread's cache: an
 * allocation that finds the arena full empties its own cache and scavenges,
 * but blocks cached by other live threads (at most 4 KiB a class each) stay
 * where they are, with the slabs that hold them.
 *
 * Counting. A class's in_use counts the blocks off its shared list: in use,
 * or cached. A cache move adjusts it by the blocks moved, so the scavenging
 * trigger (carved - in_use: the list's length) is unchanged in meaning.
 *
 * Dying. Every change moves blocks between a private chain and somewhere
 * else in an order that can leak them, never list them twice: a block is
 * unlinked from its bin before it is handed out or pushed onto a list, and
 * linked before its bin's head names it; blocks taken from a list are
 * ours after the CAS and cached after. A kill between two such steps
 * leaks what was in flight (the arena check finds it; --sweep frees it);
 * a count left a block off is a hint only (walks stop at the chain's end,
 * bounded). Everything read from a record or a cache is validated: a
 * scribbled cache is dropped (its blocks leaked), never followed outside
 * its class.
 */
#include <string.h>

#include "memory/alloc.h"
#include "memory/tcache.h"

int shmc__tcache_fill(shmc_arena_t *a, struct shmc__tcache *tc, unsigned cls, uint64_t want,
		      uint64_t *out)
{
	uint64_t off, last;
	int64_t k = shmc__pop_chain(a, &a->hdr->classes[cls], want, &off, &last);
	if (k <= 0)
		return k == 0 ? 1 : (int)k;
	if (k > 1) {
		/* The bin is empty (a pop just failed): the chain after the
		 * first block becomes it, ended first. */
		struct shmc__tc_bin *bin = &tc->bin[cls];
		st_relaxed(shmc__next_word(a, last), 0);
		st_relaxed(&bin->head, ld_relaxed(shmc__next_word(a, off)));
		st_relaxed(&bin->n, (uint64_t)k - 1);
	}
	*out = off;
	return 0;
}

uint64_t shmc__tcache_spill(shmc_arena_t *a, struct shmc__tcache *tc, unsigned cls, uint64_t k,
			    uint64_t *tag)
{
	struct shmc__tc_bin *bin = &tc->bin[cls];
	/* The chain is in shared memory: every block pushed onto the list
	 * must be one of its class, whole, or every process would be handed
	 * what a scribble made of it. The chain ends at the first that is
	 * not (the next pop drops the rest). */
	uint64_t first = ld_relaxed(&bin->head);
	if (first == 0 || shmc__block_class(a, first) != (int)cls) {
		st_relaxed(&bin->head, 0);
		st_relaxed(&bin->n, 0);
		return 0;
	}
	uint64_t last = first, n = 1, next = ld_relaxed(shmc__next_word(a, first));
	for (; n < k && next != 0 && shmc__block_class(a, next) == (int)cls; n++) {
		last = next;
		next = ld_relaxed(shmc__next_word(a, last));
	}
	/* Off the bin, then onto the list (a kill in between leaks them). */
	st_relaxed(&bin->head, next);
	uint64_t left = ld_relaxed(&bin->n);
	st_relaxed(&bin->n, left > n ? left - n : 0);
	struct shmc__class_head *h = &a->hdr->classes[cls];
	*tag = shmc__push_private(h, a, first, last);
	atomic_fetch_sub_explicit(&h->in_use, n, memory_order_relaxed);
	return n;
}

struct shmc__tcache *shmc__tcache_of(const shmc_arena_t *a, struct shmc__rec *r,
				     uint64_t *off)
{
	*off = ld_acquire(&r->tcache_off);
	if (*off == 0 || shmc__block_size(a, *off) != shmc__alloc_usable(sizeof(struct shmc__tcache)))
		return NULL;
	return (struct shmc__tcache *)(a->base + *off);
}

struct shmc__tcache *shmc__tcache_bind(shmc_arena_t *a, struct shmc__rec *r)
{
	uint64_t off;
	struct shmc__tcache *tc = shmc__tcache_of(a, r, &off);
	if (tc != NULL || off != 0) /* ours, or scribbled: no cache then */
		return tc;
	if (shmc__alloc_quiet(a, sizeof(*tc), &off) != 0)
		return NULL;
	tc = (struct shmc__tcache *)(a->base + off);
	for (unsigned c = 0; c < SHMC__TC_CLASSES; c++) {
		st_relaxed(&tc->bin[c].head, 0);
		st_relaxed(&tc->bin[c].n, 0);
	}
	/* Release: a reaper or check that reads tcache_off sees empty bins. */
	st_release(&r->tcache_off, off);
	return tc;
}

void shmc__tcache_flush(shmc_arena_t *a, struct shmc__rec *r, bool release)
{
	uint64_t off;
	struct shmc__tcache *tc = shmc__tcache_of(a, r, &off);
	for (unsigned c = 0; tc && c < SHMC__TC_CLASSES; c++) {
		struct shmc__tc_bin *bin = &tc->bin[c];
		uint64_t first = ld_relaxed(&bin->head), last;
		if (first == 0)
			continue;
		/* A bin never holds more than SHMC__TC_MAX: a longer chain is
		 * damage (a cycle, maybe), cut there. */
		uint64_t limit = shmc__chain_limit(a, c);
		limit = limit < 2 * SHMC__TC_MAX ? limit : 2 * SHMC__TC_MAX;
		uint64_t n = shmc__chain_end(a, c, first, limit, &last);
		st_relaxed(&bin->head, 0);
		st_relaxed(&bin->n, 0);
		if (n == 0)
			continue;
		struct shmc__class_head *h = &a->hdr->classes[c];
		shmc__push_private(h, a, first, last);
		atomic_fetch_sub_explicit(&h->in_use, n, memory_order_relaxed);
		shmc__alloc_pushed(a, c);
	}
	if (release && off != 0) {
		st_release(&r->tcache_off, 0);
		if (tc != NULL)
			shmc__free(a, off);
	}
}

void shmc__tcache_tally(const shmc_arena_t *a, uint64_t counts[SHMC__TC_CLASSES])
{
	uint32_t hwm = ld_acquire(&a->hdr->rec_hwm);
	for (uint32_t i = 0; i < hwm && i < a->nrecs; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		uint64_t off;
		struct shmc__tcache *tc;
		if (ld_relaxed(&r->owner) == 0 || (tc = shmc__tcache_of(a, r, &off)) == NULL)
			continue;
		for (unsigned c = 0; c < SHMC__TC_CLASSES; c++) {
			uint64_t n = ld_relaxed(&tc->bin[c].n);
			counts[c] += n < SHMC__TC_MAX ? n : SHMC__TC_MAX;
		}
	}
}
