/*
 * slabs.c -- the slab scavenger: slabs whose blocks are all free go back to
 * the page pool (pages.c), where any size class or large block reuses them.
 *
 * A small class's free blocks are one Treiber stack (alloc.c), with blocks of
 * all its slabs interleaved, and the fast path must stay one CAS: no slab
 * keeps a count of its own. So a slab is found empty by taking the class's
 * whole list in one CAS and counting, privately, how many of each slab's
 * blocks it holds. Every block on that list is free and, once taken, nobody
 * else's; so a slab with all its blocks there has no block handed out, none
 * on any other list, and none that anybody can pop: it is the scavenger's.
 *
 * The states of a slab of class C:
 *
 *   IN USE     marked for C in the pagemap; its blocks are handed out or on
 *              C's list, in any mix.
 *   TAKEN      every one of its blocks is in the list the scavenger took
 *              (parked: the list's first block is in C's `park` word).
 *   RETIRING   its blocks moved from that chain to a second one (C's
 *              `retiring` word); no caller has one, no list can pop one.
 *   LEAVING    `retiring` emptied: the slab is the scavenger's alone, on
 *              its way to the pool.
 *   FREE       given to the pool under the pool's lock: its pages are FREE
 *              in the pagemap, part of a free run, maybe punched.
 *   IN USE     again, for any class, once the pool hands its pages out.
 *
 * Racing. The list is taken with one CAS that bumps the tag, so a pop that
 * had loaded one of its blocks as the head fails; pops after it see an empty
 * or new list; a block freed meanwhile goes onto the new list. So "one
 * process frees the last block of a slab while another allocates from it"
 * is decided by the order of their CASes on the list head against ours:
 * the allocation before the take leaves the slab with a block in use (not
 * TAKEN); the free after the take leaves a block outside the taken list
 * (not TAKEN); either way the slab stays IN USE and its blocks in the taken
 * list are put back. Only a block that is free, and on the taken list, can
 * be RETIRING. Blocks are retired through the epoch layer before they are
 * freed, so no reader is inside a slab that reaches the pool.
 *
 * One read still reaches a slab after the take: a pop that loaded a block
 * as the list's head, was descheduled before it read the block's link, and
 * resumes after the slab reached the pool. The read is harmless (the CAS
 * after it fails on the tag); if meanwhile the pool punched that page, the
 * kernel backs it again with zeros (a page the pool counts as given back
 * until it is reused). That takes a process stalled between two adjacent
 * loads for a whole scavenge and then, as a run is punched only after a
 * second free (pages.c), usually a second more; and on a named arena whose
 * tmpfs is full at that instant, the kernel's refusal to back the page
 * would be a SIGBUS. Closing it would take a per-thread "popping" mark on
 * the fast path, waited for before punching (as epoch.c's readers are).
 *
 * Scavenging is amortised: the freeing process starts it when the class's
 * free blocks reach twice what the last scavenge left plus two slabs
 * (`scav_at`), so the walk is paid for by the frees since. A scavenge
 * started so leaves SHMC__SLABS_KEPT empty slabs to the class, so that a
 * class whose use swings by a slab does not send slabs to the pool and take
 * them back over and over; scavenging every class (when the arena is full,
 * and shmc__alloc_trim()) takes them too, and skips a class whose list has
 * not grown since a scavenge that left no empty slab. Only one process
 * scavenges a class at a time (the class's `scav` owner lock, try-locked:
 * whoever finds it busy moves on).
 *
 * Dying. Every block the scavenger holds is on one of two chains parked in
 * the class header, `park` (the list it took) and `retiring`, but for the
 * instants between two stores. Relinking `park` changes one link at a
 * time, each pointing further down the chain, so the chain is always well
 * formed; the blocks it skips are pushed onto `retiring` just after the
 * link that skips them is written. Both chains hold free blocks only, and
 * no slab goes to the pool before `retiring` is emptied, so a dead
 * scavenger's chains can simply be pushed back onto the list: a scavenger
 * that takes the class's lock from a dead one (SHMC__LOCKED_OWNER_DIED)
 * does so first, and the arena check counts parked blocks as free.
 * Publishing empties a parked word before pushing its chain back, so a kill
 * in between leaks the chain rather than leaving it both parked and listed.
 * What a kill can leak: the blocks between two stores, or the LEAVING slabs
 * (a kill while the pool takes them); the arena check finds them and
 * --sweep frees them.
 */
#include <stdlib.h>

#include "arena/olock.h"
#include "memory/alloc.h"
#include "memory/freelist.h"
#include "memory/pages.h"
#include "memory/slabs.h"

_Static_assert(sizeof(struct shmc__olock) ==
		       sizeof(((struct shmc__class_head *)0)->scav_lock),
	       "a class's scav_lock words hold an olock");

/* A private count of blocks per slab, open addressing on the slab's offset. */
struct tally {
	struct slot {
		uint64_t slab, n;
	} *t;
	size_t cap, used;
};

static size_t slot_of(const struct tally *t, uint64_t slab)
{
	size_t i = (size_t)((slab >> SHMC__PAGE_SHIFT) * 0x9e3779b97f4a7c15ull >> 20) &
		   (t->cap - 1);
	while (t->t[i].slab && t->t[i].slab != slab)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static bool tally_init(struct tally *t, uint64_t want)
{
	t->cap = 64;
	while (t->cap < 2 * want && t->cap < ((size_t)1 << 40))
		t->cap *= 2;
	t->used = 0;
	t->t = calloc(t->cap, sizeof(*t->t));
	return t->t != NULL;
}

static bool tally_add(struct tally *t, uint64_t slab)
{
	if (2 * (t->used + 1) > t->cap) {
		struct tally n = {calloc(2 * t->cap, sizeof(*t->t)), 2 * t->cap, t->used};
		if (n.t == NULL)
			return false;
		for (size_t i = 0; i < t->cap; i++)
			if (t->t[i].slab)
				n.t[slot_of(&n, t->t[i].slab)] = t->t[i];
		free(t->t);
		*t = n;
	}
	size_t i = slot_of(t, slab);
	if (t->t[i].slab == 0) {
		t->t[i].slab = slab;
		t->used++;
	}
	t->t[i].n++;
	return true;
}

static uint64_t tally_get(const struct tally *t, uint64_t slab)
{
	return t->t[slot_of(t, slab)].n;
}

/* Put the parked chain FIRST..LAST back on the list: unparked first. */
static void republish(struct shmc__class_head *h, shmc_arena_t *a, uint64_t first,
		      uint64_t last)
{
	/* Release: pairs with the acquire of a later scavenger or check. */
	st_release(&h->park, 0);
	if (first != 0 && last != 0)
		shmc__push_private(h, a, first, last);
}

/* Push back what a dead scavenger parked. */
static void unpark(shmc_arena_t *a, struct shmc__class_head *h, unsigned cls,
		   uint64_t limit)
{
	uint64_t first = ld_acquire(&h->retiring), last;
	if (first) {
		shmc__chain_end(a, cls, first, limit, &last);
		st_release(&h->retiring, 0);
		if (last)
			shmc__push_private(h, a, first, last);
	}
	first = ld_acquire(&h->park);
	if (first) {
		shmc__chain_end(a, cls, first, limit, &last);
		republish(h, a, last ? first : 0, last);
	}
}

/* Link the blocks of a whole slab and push them (the pool would not take
 * it). */
static void slab_back(shmc_arena_t *a, struct shmc__class_head *h, uint64_t slab,
		      uint64_t size, uint64_t bps)
{
	for (uint64_t i = 0; i + 1 < bps; i++)
		st_relaxed(shmc__next_word(a, slab + i * size), slab + (i + 1) * size);
	shmc__push_private(h, a, slab, slab + (bps - 1) * size);
}

static uint64_t scavenge_slabs(shmc_arena_t *a, struct shmc__class_head *h,
			       unsigned cls, uint64_t limit, bool all)
{
	uint64_t bps = shmc__slab_blocks(cls), size = shmc__class_size(cls);
	/* The chain's slabs: no more than its blocks, nor than the class's
	 * slabs (both counters approximate; the tally grows if need be). */
	struct tally t;
	uint64_t carved = ld_relaxed(&h->carved), in_use = ld_relaxed(&h->in_use);
	uint64_t guess = carved > in_use ? carved - in_use : 0;
	if (guess > carved / bps)
		guess = carved / bps;
	/* The counters are shared words: bound the guess by the blocks the
	 * data area can hold (LIMIT, from the validated layout). */
	if (guess > limit / bps)
		guess = limit / bps;
	if (!tally_init(&t, guess + 16))
		return 0;
	uint64_t first;
	shmc__detach_all(h, &first);
	if (first == 0) {
		free(t.t);
		return 0;
	}
	/* Release: a later scavenger or check that reads park sees the chain. */
	st_release(&h->park, first);

	/* Count each slab's blocks. */
	uint64_t n = 0, last = 0, b = first;
	bool counted = true;
	for (; b && n < limit; n++) {
		if (shmc__block_class(a, b) != (int)cls)
			break; /* damage: the chain ends at the last block */
		/* Pairs with the release of whoever pushed it: the block is
		 * ours now. */
		SHMC_TSAN_ACQUIRE(a->base + b);
		uint64_t s = shmc__run_start(a, b, cls);
		if (s == 0 || !tally_add(&t, s)) {
			counted = false;
			break;
		}
		last = b;
		b = ld_relaxed(shmc__next_word(a, b));
	}
	/* Which slabs are complete. A chain longer than the blocks that fit
	 * below brk has a cycle, whose repeats would fake complete slabs. */
	uint64_t nslabs = 0, *slabs = NULL, spare = all ? 0 : SHMC__SLABS_KEPT, spared = 0;
	if (counted && last && !(b && n == limit)) {
		for (size_t i = 0; i < t.cap; i++)
			nslabs += t.t[i].n == bps;
		/* The first SPARE empty slabs stay (their count is unmarked). */
		for (size_t i = 0; i < t.cap && spare && nslabs; i++)
			if (t.t[i].n == bps) {
				t.t[i].n = 0;
				spare--;
				spared++;
				nslabs--;
			}
		slabs = nslabs ? calloc(nslabs, sizeof(uint64_t)) : NULL;
	}
	if (slabs == NULL) {
		shmc__chain_end(a, cls, first, limit, &last);
		republish(h, a, last ? first : 0, last);
		st_relaxed(&h->scav_at, shmc__scav_at(cls, n, false));
		free(t.t);
		return 0;
	}
	nslabs = 0;
	for (size_t i = 0; i < t.cap; i++)
		if (t.t[i].n == bps)
			slabs[nslabs++] = t.t[i].slab;

	/* Relink the blocks of slabs with a block elsewhere; move the rest,
	 * a run of them at a time, to the retiring chain. Each store to the
	 * parked chain points further down it (see the top). */
	uint64_t prev = 0, kept = 0, keep_first = 0, skip = 0, skip_last = 0;
	b = first;
	for (uint64_t i = 0; i <= n; i++) {
		/* The chain is read again: where it no longer holds a block
		 * of the class (the arena scribbled on since the count), it
		 * ends. */
		if (i < n && shmc__block_class(a, b) != (int)cls)
			n = i;
		uint64_t next = i < n ? ld_relaxed(shmc__next_word(a, b)) : 0;
		bool keep = i < n && tally_get(&t, shmc__run_start(a, b, cls)) != bps;
		if (i < n && !keep) {
			if (!skip)
				skip = b;
			skip_last = b;
		} else {
			/* Unlink the skipped run from the park chain, then
			 * put it on the retiring chain. */
			if (prev)
				st_relaxed(shmc__next_word(a, prev), i < n ? b : 0);
			else
				st_release(&h->park, i < n ? b : 0);
			if (skip) {
				st_relaxed(shmc__next_word(a, skip_last), ld_relaxed(&h->retiring));
				/* Release: pairs with a recovering scavenger's
				 * or the check's acquire. */
				st_release(&h->retiring, skip);
				skip = 0;
			}
			if (i < n) {
				keep_first = keep_first ? keep_first : b;
				prev = b;
				kept++;
			}
		}
		b = next;
	}
	free(t.t);

	/* The slabs whose blocks were all here go to the pool: LEAVING once
	 * the retiring chain is emptied. */
	st_release(&h->retiring, 0);
	atomic_fetch_sub_explicit(&h->carved, nslabs * bps, memory_order_relaxed);
	if (!shmc__pool_put(a, slabs, nslabs, SHMC__SLAB_PAGES)) {
		atomic_fetch_add_explicit(&h->carved, nslabs * bps, memory_order_relaxed);
		for (uint64_t i = 0; i < nslabs; i++)
			slab_back(a, h, slabs[i], size, bps);
		nslabs = 0;
	}
	republish(h, a, keep_first, prev);
	st_relaxed(&h->scav_at, shmc__scav_at(cls, kept, spared != 0));
	free(slabs);
	return nslabs * SHMC__SLAB_PAGES;
}

/* A large class's list is a cache of freed blocks (alloc.c), and holds
 * those freed before this process could lock the pool: they all go to the
 * pool. */
static uint64_t scavenge_large(shmc_arena_t *a, struct shmc__class_head *h,
			       unsigned cls, uint64_t limit)
{
	uint64_t npages = shmc__class_size(cls) >> SHMC__PAGE_SHIFT;
	uint64_t first, last;
	shmc__detach_all(h, &first);
	if (first == 0)
		return 0;
	st_release(&h->park, first);
	uint64_t n = shmc__chain_end(a, cls, first, limit, &last);
	uint64_t *offs = n ? calloc(n, sizeof(uint64_t)) : NULL;
	if (offs == NULL) {
		republish(h, a, last ? first : 0, last);
		return 0;
	}
	uint64_t b = first;
	for (uint64_t i = 0; i < n; i++, b = ld_relaxed(shmc__next_word(a, b))) {
		SHMC_TSAN_ACQUIRE(a->base + b); /* pairs with its push */
		offs[i] = b;
	}
	/* Unparked before the pool has them: a recovering scavenger must
	 * never push back pages the pool owns. */
	st_release(&h->park, 0);
	atomic_fetch_sub_explicit(&h->carved, n, memory_order_relaxed);
	if (!shmc__pool_put(a, offs, n, npages)) {
		atomic_fetch_add_explicit(&h->carved, n, memory_order_relaxed);
		republish(h, a, first, last);
		n = 0;
	}
	free(offs);
	return n * npages;
}

uint64_t shmc__slabs_scavenge(shmc_arena_t *a, unsigned cls, bool all)
{
	if (a->token == 0 || cls >= shmc__class_count())
		return 0;
	struct shmc__class_head *h = &a->hdr->classes[cls];
	struct shmc__olock *l = (struct shmc__olock *)h->scav_lock;
	/* Busy elsewhere: that scavenger will find what we would. */
	int rc = shmc__olock_acquire_internal(a, l, 0);
	if (rc < 0)
		return 0;
	uint64_t limit = shmc__chain_limit(a, cls);
	/* A dead scavenger's chain (a live one never leaves park set). */
	unpark(a, h, cls, limit);
	uint64_t pages = shmc__class_is_small(cls) ? scavenge_slabs(a, h, cls, limit, all)
						   : scavenge_large(a, h, cls, limit);
	shmc__olock_release(l);
	return pages;
}

void shmc__slabs_drain_caches(shmc_arena_t *a)
{
	unsigned n = shmc__class_count();
	for (unsigned c = 0; c < n; c++) {
		struct shmc__class_head *h = &a->hdr->classes[c];
		if (!shmc__class_is_small(c) &&
		    ld_relaxed((atomic_u64 *)&h->free.AO_val1) != 0)
			shmc__slabs_scavenge(a, c, true);
	}
}

uint64_t shmc__slabs_scavenge_all(shmc_arena_t *a)
{
	unsigned n = shmc__class_count();
	uint64_t pages = 0;
	for (unsigned c = 0; c < n; c++) {
		struct shmc__class_head *h = &a->hdr->classes[c];
		bool parked = ld_relaxed(&h->park) || ld_relaxed(&h->retiring);
		if (ld_relaxed((atomic_u64 *)&h->free.AO_val1) == 0 && !parked)
			continue;
		if (shmc__class_is_small(c)) {
			uint64_t carved = ld_relaxed(&h->carved), in_use = ld_relaxed(&h->in_use);
			uint64_t nfree = carved > in_use ? carved - in_use : 0;
			uint64_t at = ld_relaxed(&h->scav_at), bps = shmc__slab_blocks(c);
			uint64_t kept = at >= 2 * bps ? (at - 2 * bps) / 2 : 0;
			/* Less than a slab free, or nothing freed since the last
			 * scavenge, which spared no empty slab: no slab can be
			 * empty that was not before. */
			if (!parked && (nfree < bps || (nfree <= kept && !(at & 1))))
				continue;
		}
		pages += shmc__slabs_scavenge(a, c, true);
	}
	return pages;
}
