/*
 * alloc.c -- a size-class allocator that every process uses at once.
 *
 * Blocks come in SHMC__NCLASSES size classes: multiples of 16 up to 128
 * bytes, then four classes per doubling. Small classes (up to 14 KiB) are
 * carved from 64 KiB slabs; larger ones are runs of whole pages of exactly
 * the class size. Both are carved upwards from the arena's `brk`, and a
 * 16-bit pagemap entry per page records the class carved there, so free()
 * needs nothing but the offset: no block carries a header.
 *
 * Each class keeps its free blocks on a Treiber stack whose head is a
 * {offset, tag} pair swapped with a 16-byte CAS; the tag, bumped on every
 * change, defeats ABA. A free block's first word holds the offset of the next.
 * Popping reads the head block's next word while another thread may
 * already have popped that block and be writing to it: a benign race, as
 * the tag then makes the CAS fail and the value read is dropped.
 *
 * ThreadSanitizer cannot see the 16-byte CAS (inline assembly). What it
 * orders is that everything written to a block before it is pushed happens
 * before whatever the thread that pops it does with it; that is told to
 * TSan per block (SHMC_TSAN_RELEASE before the push, SHMC_TSAN_ACQUIRE after
 * the pop), and the benign read above goes through a function TSan does not
 * watch (next_racy). Neither does anything in other builds.
 *
 * Dying mid-operation: every change to a free list or to brk is one CAS, so
 * a process killed at any point leaves the lists well formed. What it can
 * lose is the block it was handing out or taking back (killed between the
 * CAS and its caller recording the block): that block is leaked, never
 * handed out twice. The counters are updated after the CAS and may then be
 * off by one; the arena check recounts them.
 *
 * Freeing is immediate: callers that may still have readers retire blocks
 * through epoch.c instead, which frees them here after a grace period.
 */
#include <errno.h>

#include "memory/alloc.h"

static uint64_t class_size_tab[SHMC__NCLASSES];
static unsigned nclasses, nsmall;
static pthread_once_t classes_once = PTHREAD_ONCE_INIT;
static _Atomic long fail_countdown = -1;

static void classes_init(void)
{
	unsigned n = 0;
	for (uint64_t s = 16; s <= 128; s += 16)
		class_size_tab[n++] = s;
	uint64_t s = 128;
	while (s < 14336) { /* four classes per doubling */
		uint64_t step = s / 4;
		for (int k = 0; k < 4 && s < 14336; k++) {
			s += step;
			class_size_tab[n++] = s;
		}
	}
	nsmall = n;
	s = 16384;
	class_size_tab[n++] = s;
	while (s < SHMC__MAX_BLOCK && n < SHMC__NCLASSES) {
		uint64_t step = s / 4;
		for (int k = 0; k < 4 && n < SHMC__NCLASSES; k++) {
			s += step;
			class_size_tab[n++] = s;
		}
	}
	nclasses = n;
	SHMC_ASSERT(class_size_tab[nclasses - 1] >= SHMC__MAX_BLOCK);
}

static inline void classes_ready(void)
{
	pthread_once(&classes_once, classes_init);
}

unsigned shmc__class_count(void)
{
	classes_ready();
	return nclasses;
}

uint64_t shmc__class_size(unsigned cls)
{
	classes_ready();
	return cls < nclasses ? class_size_tab[cls] : 0;
}

static unsigned class_for(uint64_t size)
{
	if (size <= 128)
		return size == 0 ? 0 : (unsigned)((size - 1) >> 4);
	unsigned lo = 8, hi = nclasses - 1; /* first class >= size */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (class_size_tab[mid] >= size)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

uint64_t shmc__alloc_usable(uint64_t size)
{
	classes_ready();
	return size > SHMC__MAX_BLOCK ? 0 : class_size_tab[class_for(size)];
}

uint64_t shmc__alloc_class_below(uint64_t size)
{
	classes_ready();
	if (size > SHMC__MAX_BLOCK)
		return 0;
	unsigned c = class_for(size);
	return c ? class_size_tab[c - 1] : 0;
}

static inline bool is_small(unsigned cls)
{
	return cls < nsmall;
}

bool shmc__class_is_small(unsigned cls)
{
	classes_ready();
	return is_small(cls);
}

void shmc__alloc_init(shmc_arena_t *a)
{
	classes_ready();
	a->hdr->nclasses = nclasses;
	for (unsigned c = 0; c < SHMC__NCLASSES; c++) {
		struct shmc__class_head *h = &a->hdr->classes[c];
		h->free.AO_val1 = 0;
		h->free.AO_val2 = 0;
		st_relaxed(&h->in_use, 0);
		st_relaxed(&h->carved, 0);
	}
}

void shmc__alloc_fail_after(long n)
{
	atomic_store(&fail_countdown, n < 0 ? -1 : n);
}

static bool injected_failure(void)
{
	long c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
	while (c >= 0) {
		if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1))
			return c == 0;
	}
	return false;
}

static inline atomic_u64 *next_word(const shmc_arena_t *a, uint64_t off)
{
	return (atomic_u64 *)shmc__at(a, off, sizeof(uint64_t), SHMC__ALIGN);
}

/* The next word of a block that may have been popped and be in use by
 * now (see the top of this file): one relaxed 8-byte load, which TSan is
 * not shown. */
SHMC_TSAN_IGNORE static uint64_t next_racy(atomic_u64 *np)
{
#ifdef SHMC_TSAN
	return *(volatile uint64_t *)np; /* an aligned 8-byte load is atomic */
#else
	return ld_relaxed(np);
#endif
}

/* The free-list head is read as two 8-byte halves; a torn pair only makes
 * the CAS that follows fail. */
static inline void head_load(struct shmc__class_head *h, uint64_t *off,
			     uint64_t *tag)
{
	*tag = atomic_load_explicit((atomic_u64 *)&h->free.AO_val2,
				    memory_order_acquire);
	*off = atomic_load_explicit((atomic_u64 *)&h->free.AO_val1,
				    memory_order_acquire);
}

/* Push the chain first..last (already linked through their first words). */
static void push_chain(shmc_arena_t *a, struct shmc__class_head *h,
		       uint64_t first, atomic_u64 *last_next)
{
	uint64_t off, tag;
	(void)a;
	do {
		head_load(h, &off, &tag);
		st_relaxed(last_next, off);
		/* Pairs with the acquire in shmc__alloc(): the link just
		 * written, and all before it, happen before the block's next
		 * owner's uses (the other blocks of a chain are released by
		 * refill()). Nobody can pop the block before the CAS below. */
		SHMC_TSAN_RELEASE(last_next);
		/* Full barrier: the chain's links are visible before its head. */
	} while (!shmc__cas2(&h->free, off, tag, first, tag + 1));
}

/* Carve NPAGES fresh pages from brk. */
static int carve_pages(shmc_arena_t *a, uint64_t npages, uint64_t *off)
{
	uint64_t len = npages << SHMC__PAGE_SHIFT;
	uint64_t b = ld_relaxed(&a->hdr->brk);
	for (;;) {
		if (len > a->capacity || b > a->capacity - len)
			return SHMC_EFULL;
		int rc = shmc__arena_commit(a, b + len);
		if (rc)
			return rc;
		if (atomic_compare_exchange_weak_explicit(
			    &a->hdr->brk, &b, b + len, memory_order_relaxed,
			    memory_order_relaxed))
			break;
	}
	*off = b;
	return 0;
}

/* Pagemap entries are written before the run's blocks are published by a
 * free-list CAS (or returned to the caller), which orders them for readers. */
static void mark_run(shmc_arena_t *a, uint64_t off, uint64_t npages,
		     unsigned cls)
{
	uint16_t *pm = (uint16_t *)shmc__pagemap(a);
	uint64_t p = off >> SHMC__PAGE_SHIFT;
	for (uint64_t i = 0; i < npages; i++)
		__atomic_store_n(&pm[p + i],
				 (uint16_t)((cls + 1) | (i ? 0 : SHMC__PM_RUN_START)),
				 __ATOMIC_RELAXED);
}

static int refill(shmc_arena_t *a, unsigned cls, uint64_t *out)
{
	struct shmc__class_head *h = &a->hdr->classes[cls];
	uint64_t size = class_size_tab[cls];
	uint64_t npages = is_small(cls) ? SHMC__SLAB_PAGES : size >> SHMC__PAGE_SHIFT;
	uint64_t run;
	int rc = carve_pages(a, npages, &run);
	if (rc)
		return rc;
	mark_run(a, run, npages, cls);
	uint64_t nblocks = (npages << SHMC__PAGE_SHIFT) / size;
	atomic_fetch_add_explicit(&h->carved, nblocks, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->in_use, 1, memory_order_relaxed);
	if (nblocks > 1) {
		/* Link blocks 1..n-1 privately, then publish them in one CAS. */
		uint64_t first = run + size;
		for (uint64_t i = 1; i + 1 < nblocks; i++)
			st_relaxed(next_word(a, run + i * size), run + (i + 1) * size);
#ifdef SHMC_TSAN
		/* Pairs with the acquire in shmc__alloc(), per block; the
		 * last one is released by push_chain(). */
		for (uint64_t i = 1; i + 1 < nblocks; i++)
			SHMC_TSAN_RELEASE(a->base + run + i * size);
#endif
		push_chain(a, h, first, next_word(a, run + (nblocks - 1) * size));
	}
	*out = run;
	return 0;
}

int shmc__alloc(shmc_arena_t *a, uint64_t size, uint64_t *out)
{
	classes_ready();
	if (size > SHMC__MAX_BLOCK)
		return SHMC_EFULL;
	if (unlikely(injected_failure()))
		return SHMC_EFULL;
	unsigned cls = class_for(size);
	struct shmc__class_head *h = &a->hdr->classes[cls];
	for (;;) {
		uint64_t off, tag;
		head_load(h, &off, &tag);
		if (off == 0)
			return refill(a, cls, out);
		atomic_u64 *np = next_word(a, off);
		if (np == NULL) /* torn read or corrupt head: re-read */
			continue;
		uint64_t next = next_racy(np);
		if (shmc__cas2(&h->free, off, tag, next, tag + 1)) {
			/* Pairs with the release in shmc__free() or refill():
			 * the block is ours now. */
			SHMC_TSAN_ACQUIRE(a->base + off);
			atomic_fetch_add_explicit(&h->in_use, 1,
						  memory_order_relaxed);
			*out = off;
			return 0;
		}
	}
}

/* The class of the block at OFF, or -1 when OFF is not a block's start. */
int shmc__block_class(const shmc_arena_t *a, uint64_t off)
{
	if (off < a->hdr->data_off || off >= ld_relaxed(&a->hdr->brk) ||
	    (off & (SHMC__ALIGN - 1)))
		return -1;
	const uint16_t *pm = (const uint16_t *)shmc__pagemap(a);
	uint64_t page = off >> SHMC__PAGE_SHIFT;
	uint16_t e = __atomic_load_n(&pm[page], __ATOMIC_RELAXED);
	unsigned cls = (e & SHMC__PM_CLASS_MASK);
	if (cls == 0 || cls > nclasses)
		return -1;
	cls--;
	uint64_t start = page;
	if (is_small(cls)) { /* find the slab's first page */
		while (!(e & SHMC__PM_RUN_START)) {
			if (page - start >= SHMC__SLAB_PAGES || start == 0)
				return -1;
			start--;
			e = __atomic_load_n(&pm[start], __ATOMIC_RELAXED);
			if ((e & SHMC__PM_CLASS_MASK) != cls + 1)
				return -1;
		}
	} else if (!(e & SHMC__PM_RUN_START)) {
		return -1;
	}
	/* A block starts a whole number of blocks into its run, and ends
	 * inside it (a slab's tail is too short to be one). */
	uint64_t rel = off - (start << SHMC__PAGE_SHIFT), size = class_size_tab[cls];
	uint64_t run = is_small(cls) ? SHMC__SLAB_PAGES << SHMC__PAGE_SHIFT : size;
	if (rel % size || rel / size >= run / size)
		return -1;
	return (int)cls;
}

uint64_t shmc__block_size(const shmc_arena_t *a, uint64_t off)
{
	classes_ready();
	int cls = shmc__block_class(a, off);
	return cls < 0 ? 0 : class_size_tab[cls];
}

void shmc__free(shmc_arena_t *a, uint64_t off)
{
	classes_ready();
	int cls = shmc__block_class(a, off);
	if (cls < 0)
		return;
	struct shmc__class_head *h = &a->hdr->classes[cls];
	/* push_chain() tells TSan that our uses of the block happen before
	 * its next owner's. */
	push_chain(a, h, off, next_word(a, off));
	atomic_fetch_sub_explicit(&h->in_use, 1, memory_order_relaxed);
}
