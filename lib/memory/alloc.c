/*
 * alloc.c -- a size-class allocator that every process uses at once.
 *
 * Blocks come in SHMC__NCLASSES size classes: multiples of 16 up to 128
 * bytes, then four classes per doubling. Small classes (up to 14 KiB) are
 * carved from 64 KiB slabs; larger ones are runs of whole pages of exactly
 * the class size. Slabs and runs are cut from the page pool (pages.c) when
 * it has a fitting run, else carved upwards from the arena's `brk`; a 16-bit
 * pagemap entry per page records the class carved there, so free() needs
 * nothing but the offset: no block carries a header.
 *
 * Each class keeps its free blocks on a Treiber stack whose head is a
 * {offset, tag} pair swapped with a 16-byte CAS; the tag, bumped on every
 * change, defeats ABA. A free block's first word holds the offset of the next
 * (freelist.h). Popping reads the head block's next word while another
 * thread may already have popped that block and be writing to it: a benign
 * race, as the tag then makes the CAS fail and the value read is dropped.
 * In front of the lists of the classes up to 512 bytes stands each
 * thread's cache (tcache.c): a thread that has an epoch record takes and
 * returns those blocks there, with plain loads and stores, and moves half
 * a bin to or from the list in one CAS when its bin runs dry or full. A
 * cache pop or push, else a list pop or push, is the whole fast path.
 *
 * Memory flows back. A large block of more than SHMC__LARGE_CACHE_MAX goes
 * back to the page pool as soon as it is freed; a smaller one onto its
 * class's list, a cache of SHMC__LARGE_CACHE_BYTES (at least one block)
 * that serves the class's next allocations without the pool's lock or a
 * fault on untouched pages, emptied into the pool when full and once a
 * second (frees tick the pool, see below). A small block
 * goes onto its class's list too, and when a list has grown to twice what
 * its last scavenge left plus two slabs, the freeing process scavenges the
 * class (slabs.c): the slabs whose blocks are all on the list go to the
 * pool, where any class or large block can reuse their pages, and the pool
 * gives pages beyond its threshold back to the system (pages.c). When
 * neither the pool nor brk can serve a request, the caller's cache is
 * emptied and every class scavenged before SHMC_EFULL is answered; shmc__alloc_trim() does the same on demand
 * (shmc_arena_reclaim()). All of it is off the fast path: a free only
 * compares its class's free blocks with a stored threshold, and ticks the
 * pool (pages.c) once in SHMC__POOL_TICK operations on a list.
 *
 * ThreadSanitizer cannot see the 16-byte CAS (inline assembly). What it
 * orders is that everything written to a block before it is pushed happens
 * before whatever the thread that pops it does with it; that is told to
 * TSan per block (SHMC_TSAN_RELEASE before the push, SHMC_TSAN_ACQUIRE after
 * the pop), and the benign read above goes through a function TSan does not
 * watch (shmc__next_racy). Neither does anything in other builds.
 *
 * Dying mid-operation: every change to a free list or to brk is one CAS, so
 * a process killed at any point leaves the lists well formed. What it can
 * lose is the block it was handing out or taking back (killed between the
 * CAS and its caller recording the block): that block is leaked, never
 * handed out twice. Pages carved from brk by a process killed before it
 * marked them are leaked too (the arena check finds them, and --sweep gives
 * them to the pool). The counters are updated after the CAS and may then be
 * off by one; the arena check recounts them.
 *
 * Freeing is immediate: callers that may still have readers retire blocks
 * through epoch.c instead, which frees them here after a grace period.
 */
#include <errno.h>
#include <string.h>

#include "memory/alloc.h"
#include "memory/freelist.h"
#include "memory/pages.h"
#include "memory/slabs.h"
#include "memory/tcache.h"

static uint64_t class_size_tab[SHMC__NCLASSES];
static uint64_t slab_blocks_tab[SHMC__NCLASSES]; /* small classes */
static uint64_t tc_cap_tab[SHMC__TC_CLASSES];     /* a thread cache's bins */
/* ceil(2^64 / size) of each small class: a 32-bit R is a multiple of the
 * size when R times it, modulo 2^64, is below it (Lemire, Kaser and Kurz,
 * "Faster remainder by direct computation", 2019): a multiply where the
 * remainder took a division (20-40 cycles) on every free. */
static uint64_t class_mult_tab[SHMC__NCLASSES];
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
	for (unsigned c = 0; c < nsmall; c++) {
		slab_blocks_tab[c] = (SHMC__SLAB_PAGES << SHMC__PAGE_SHIFT) / class_size_tab[c];
		class_mult_tab[c] = UINT64_MAX / class_size_tab[c] + 1;
	}
	SHMC_ASSERT(class_size_tab[SHMC__TC_CLASSES - 1] == 512 && SHMC__TC_CLASSES <= nsmall);
	for (unsigned c = 0; c < SHMC__TC_CLASSES; c++) {
		uint64_t k = SHMC__TC_BYTES / class_size_tab[c];
		tc_cap_tab[c] = k < SHMC__TC_MIN ? SHMC__TC_MIN : k > SHMC__TC_MAX ? SHMC__TC_MAX : k;
	}
}

static atomic_bool classes_done;

static void classes_init_once(void)
{
	classes_init();
	atomic_store_explicit(&classes_done, true, memory_order_release);
}

/* Every allocation and free asks: a load (acquire: pairs with the store
 * above) where pthread_once() was a call, 1-2 ns, several times a write. */
static inline void classes_ready(void)
{
	if (unlikely(!atomic_load_explicit(&classes_done, memory_order_acquire)))
		pthread_once(&classes_once, classes_init_once);
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

uint64_t shmc__scav_at(unsigned cls, uint64_t kept, bool spared)
{
	classes_ready();
	if (!is_small(cls)) { /* a full cache (see SHMC__LARGE_CACHE_BYTES) */
		uint64_t n = SHMC__LARGE_CACHE_BYTES / class_size_tab[cls];
		return (n ? n : 1) + 1;
	}
	return 2 * kept + 2 * slab_blocks_tab[cls] + spared;
}

uint64_t shmc__slab_blocks(unsigned cls)
{
	classes_ready();
	return is_small(cls) ? slab_blocks_tab[cls] : 1;
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
		st_relaxed(&h->park, 0);
		st_relaxed(&h->retiring, 0);
		st_relaxed(&h->scav_at, c < nclasses ? shmc__scav_at(c, 0, false) : 0);
		st_relaxed(&h->scav_lock[0], 0);
		st_relaxed(&h->scav_lock[1], 0);
	}
	memset(&a->hdr->pool, 0, sizeof(a->hdr->pool));
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

/* Carve NPAGES fresh pages from brk. */
static int carve_pages(shmc_arena_t *a, uint64_t npages, uint64_t *off)
{
	uint64_t len = npages << SHMC__PAGE_SHIFT;
	uint64_t b = ld_relaxed(&a->hdr->brk);
	for (;;) {
		/* brk is a shared word: below the data, or off a page, it
		 * would hand out the header or a slab's middle. */
		if (b < a->data_off || (b & (SHMC__PAGE - 1)))
			return SHMC_ECORRUPT;
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

/* Map a run of NPAGES just handed out into this process in one call: its
 * pages are new to it (carved, or from the pool, maybe given back to the
 * system), and the caller is about to write them, page after page -- a
 * grown list's array, a slab, a big value. A fault a page costs 12-20 us
 * on a virtual machine, the call about 3 us a page (arena.c). Runs below
 * a slab are left to fault: a page or two. */
static void prefault_run(shmc_arena_t *a, uint64_t off, uint64_t npages)
{
	/* At most 16 MiB: a bigger block's writer may not touch all of it
	 * soon (a grown array's last third), and one call should not stall
	 * for long; the rest faults as it is used. */
	if (npages >= SHMC__SLAB_PAGES)
		shmc__arena_prefault(a, off, (npages < 4096 ? npages : 4096) << SHMC__PAGE_SHIFT);
}

/* Empty the calling thread's cache onto the lists: its blocks pin their
 * slabs, which a scavenge could otherwise give to the pool. */
static void flush_mine(shmc_arena_t *a)
{
	if (shmc__tcache_mine(a) != NULL)
		shmc__tcache_flush(a, shmc__epoch_tls.rec, false);
}

/* NPAGES pages for class CLS, marked: from the pool if a run fits, else
 * from brk; when both fail, after every class has given its empty slabs to
 * the pool, from the pool again. Pagemap entries are written before the
 * run's blocks are published by a free-list CAS (or returned to the
 * caller), which orders them for readers. */
static int get_pages(shmc_arena_t *a, uint64_t npages, unsigned cls, uint64_t *off)
{
	if (ld_relaxed(&a->hdr->pool.free_pages) >= npages &&
	    shmc__pool_take(a, npages, cls, off) == 0) {
		prefault_run(a, *off, npages);
		return 0;
	}
	int rc = carve_pages(a, npages, off);
	if (rc == 0) {
		shmc__pages_mark(a, *off, npages, cls);
		prefault_run(a, *off, npages);
		return 0;
	}
	if (rc != SHMC_EFULL)
		return rc;
	flush_mine(a);
	if (shmc__slabs_scavenge_all(a) > 0 && shmc__pool_take(a, npages, cls, off) == 0) {
		prefault_run(a, *off, npages);
		return 0;
	}
	return rc;
}

int shmc__alloc_grow(shmc_arena_t *a, uint64_t off, uint64_t size)
{
	classes_ready();
	int cls = shmc__block_class(a, off);
	if (cls < 0 || is_small((unsigned)cls) || size > SHMC__MAX_BLOCK)
		return SHMC_EFULL;
	unsigned ncls = class_for(size);
	if (ncls <= (unsigned)cls)
		return SHMC_EFULL;
	uint64_t old_pages = class_size_tab[cls] >> SHMC__PAGE_SHIFT;
	uint64_t new_pages = class_size_tab[ncls] >> SHMC__PAGE_SHIFT;
	uint64_t end = off + (old_pages << SHMC__PAGE_SHIFT);
	uint64_t new_end = off + (new_pages << SHMC__PAGE_SHIFT);
	/* Not at the break: no memory committed for nothing. */
	if (new_end > a->capacity || ld_relaxed(&a->hdr->brk) != end ||
	    shmc__arena_commit(a, new_end) != 0)
		return SHMC_EFULL;
	/* Claim the pages after it: only if it ends at brk, and nobody
	 * carves meanwhile. Past brk the pagemap says 0: nobody's pages. */
	uint64_t b = end;
	if (!atomic_compare_exchange_strong_explicit(&a->hdr->brk, &b, new_end,
						     memory_order_relaxed, memory_order_relaxed))
		return SHMC_EFULL;
	/* Re-marked so that a kill at any point leaves a sound run: first
	 * the old run's inner pages to 0 (a large run's inner pages may be
	 * unmarked), so that the run is of the old class, then pages
	 * claimed but unmarked, which the check calls leaked; the first
	 * page's store makes it one run of the new class; the inner pages
	 * are marked after, as shmc__pages_mark leaves them. */
	uint16_t *pm = (uint16_t *)shmc__pagemap(a);
	uint64_t p = off >> SHMC__PAGE_SHIFT;
	for (uint64_t i = 1; i < old_pages; i++)
		__atomic_store_n(&pm[p + i], (uint16_t)0, __ATOMIC_RELAXED);
	__atomic_store_n(&pm[p], (uint16_t)((ncls + 1) | SHMC__PM_RUN_START), __ATOMIC_RELEASE);
	for (uint64_t i = 1; i < new_pages; i++)
		__atomic_store_n(&pm[p + i], (uint16_t)(ncls + 1), __ATOMIC_RELAXED);
	/* The new class counts it before the old one lets go: a kill in
	 * between over-counts (a note of the check), never makes a count
	 * that the block's later free takes below zero. */
	struct shmc__class_head *h = &a->hdr->classes[cls], *nh = &a->hdr->classes[ncls];
	atomic_fetch_add_explicit(&nh->carved, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&nh->in_use, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&h->in_use, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&h->carved, 1, memory_order_relaxed);
	prefault_run(a, end, new_pages - old_pages);
	return 0;
}

static int refill(shmc_arena_t *a, unsigned cls, uint64_t *out)
{
	struct shmc__class_head *h = &a->hdr->classes[cls];
	uint64_t size = class_size_tab[cls];
	uint64_t npages = is_small(cls) ? SHMC__SLAB_PAGES : size >> SHMC__PAGE_SHIFT;
	uint64_t run;
	int rc = get_pages(a, npages, cls, &run);
	if (rc)
		return rc;
	uint64_t nblocks = (npages << SHMC__PAGE_SHIFT) / size;
	atomic_fetch_add_explicit(&h->carved, nblocks, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->in_use, 1, memory_order_relaxed);
	/* The list ran dry: what the last scavenge left is in use. */
	if (is_small(cls) && ld_relaxed(&h->scav_at) != shmc__scav_at(cls, 0, false))
		st_relaxed(&h->scav_at, shmc__scav_at(cls, 0, false));
	if (nblocks > 1) {
		/* Link blocks 1..n-1 privately, then publish them in one CAS. */
		uint64_t first = run + size;
		for (uint64_t i = 1; i + 1 < nblocks; i++)
			st_relaxed(shmc__next_word(a, run + i * size), run + (i + 1) * size);
#ifdef SHMC_TSAN
		/* Pairs with the acquire in shmc__alloc(), per block; the
		 * last one is released by shmc__push_chain(). */
		for (uint64_t i = 1; i + 1 < nblocks; i++)
			SHMC_TSAN_RELEASE(a->base + run + i * size);
#endif
		shmc__push_chain(h, first, shmc__next_word(a, run + (nblocks - 1) * size));
	}
	*out = run;
	return 0;
}

/* A block of class CLS from its list, or carved when the list is empty. */
static int alloc_shared(shmc_arena_t *a, unsigned cls, uint64_t *out)
{
	uint64_t last;
	int64_t k = shmc__pop_chain(a, &a->hdr->classes[cls], 1, out, &last);
	return k > 0 ? 0 : k == 0 ? refill(a, cls, out) : (int)k;
}

int shmc__alloc(shmc_arena_t *a, uint64_t size, uint64_t *out)
{
	classes_ready();
	if (size > SHMC__MAX_BLOCK)
		return SHMC_EFULL;
	if (unlikely(injected_failure()))
		return SHMC_EFULL;
	unsigned cls = class_for(size);
	struct shmc__tcache *tc;
	if (cls < SHMC__TC_CLASSES && (tc = shmc__tcache_mine(a)) != NULL) {
		if (shmc__tcache_pop(a, tc, cls, class_size_tab[cls], out))
			return 0;
		int rc = shmc__tcache_fill(a, tc, cls, tc_cap_tab[cls] / 2, out);
		return rc <= 0 ? rc : refill(a, cls, out);
	}
	return alloc_shared(a, cls, out);
}

int shmc__alloc_quiet(shmc_arena_t *a, uint64_t size, uint64_t *out)
{
	classes_ready();
	return size > SHMC__MAX_BLOCK ? SHMC_EFULL : alloc_shared(a, class_for(size), out);
}

/* The first page of the slab of small class CLS that PAGE (not below the
 * data), whose entry is E, lies in: IDX pages back, a page of that class
 * starting a run, with index 0; UINT64_MAX when the pagemap says otherwise
 * (scribbled). */
static inline uint64_t slab_first_page(const shmc_arena_t *a, const uint16_t *pm,
				       uint64_t page, uint16_t e, unsigned cls)
{
	unsigned idx = (e & SHMC__PM_SLAB_IDX_MASK) >> SHMC__PM_SLAB_IDX_SHIFT;
	if (idx) {
		/* Not below the data (nor below 0): scribbled. */
		if (idx > page - (a->data_off >> SHMC__PAGE_SHIFT))
			return UINT64_MAX;
		page -= idx;
		e = __atomic_load_n(&pm[page], __ATOMIC_RELAXED);
	}
	if ((e & (SHMC__PM_CLASS_MASK | SHMC__PM_RUN_START | SHMC__PM_SLAB_IDX_MASK)) !=
	    ((cls + 1) | SHMC__PM_RUN_START))
		return UINT64_MAX;
	return page;
}

/* The class of the block at OFF, or -1 when OFF is not a block's start. */
int shmc__block_class(const shmc_arena_t *a, uint64_t off)
{
	/* brk is a shared word: a scribbled one must not stretch the page
	 * map past the capacity validated at attach. */
	if (off < a->data_off || off >= a->capacity || off >= ld_relaxed(&a->hdr->brk) ||
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
	if (is_small(cls)) {
		if ((start = slab_first_page(a, pm, page, e, cls)) == UINT64_MAX)
			return -1;
	} else if (!(e & SHMC__PM_RUN_START)) {
		return -1;
	}
	/* A block starts a whole number of blocks into its run, and ends
	 * inside it (a slab's tail is too short to be one). A large block is
	 * its run. A slab is 64 KiB, so the offset in it fits 32 bits, which
	 * the divisibility test by multiplication needs. */
	uint64_t rel = off - (start << SHMC__PAGE_SHIFT);
	if (!is_small(cls))
		return rel == 0 ? (int)cls : -1;
	uint64_t m = class_mult_tab[cls];
	if ((uint64_t)(uint32_t)rel * m >= m || rel + class_size_tab[cls] > (SHMC__SLAB_PAGES << SHMC__PAGE_SHIFT))
		return -1;
	return (int)cls;
}

uint64_t shmc__block_size_hint(const shmc_arena_t *a, uint64_t off)
{
	if (off < a->data_off || off >= a->capacity)
		return 0;
	const uint16_t *pm = (const uint16_t *)shmc__pagemap(a);
	unsigned cls = __atomic_load_n(&pm[off >> SHMC__PAGE_SHIFT], __ATOMIC_RELAXED) &
		       SHMC__PM_CLASS_MASK;
	return cls == 0 || cls > nclasses ? 0 : class_size_tab[cls - 1];
}

uint64_t shmc__run_start(const shmc_arena_t *a, uint64_t off, unsigned cls)
{
	if (off < a->data_off || off >= a->capacity)
		return 0;
	const uint16_t *pm = (const uint16_t *)shmc__pagemap(a);
	uint64_t page = off >> SHMC__PAGE_SHIFT;
	uint16_t e = __atomic_load_n(&pm[page], __ATOMIC_RELAXED);
	if ((e & SHMC__PM_CLASS_MASK) != cls + 1)
		return 0;
	if (is_small(cls))
		page = slab_first_page(a, pm, page, e, cls);
	else if (!(e & SHMC__PM_RUN_START))
		return 0;
	return page == UINT64_MAX ? 0 : page << SHMC__PAGE_SHIFT;
}

uint64_t shmc__block_size(const shmc_arena_t *a, uint64_t off)
{
	classes_ready();
	int cls = shmc__block_class(a, off);
	return cls < 0 ? 0 : class_size_tab[cls];
}

/* Out of line, so that the free path stays a leaf that saves no register:
 * the scavenge the free path asked for, or (when not) the pool's tick. */
__attribute__((noinline, cold)) static void free_slow(shmc_arena_t *a, unsigned cls,
						      bool full)
{
	if (full)
		shmc__slabs_scavenge(a, cls, false);
	else if (shmc__pool_tick(a))
		shmc__slabs_drain_caches(a);
}

/* A large block goes straight back to the page pool. Until this process
 * holds a slot (it may be reaping a dead one's memory while attaching), the
 * pool cannot be locked: the block then waits on its class's list, which
 * the next scavenge of the class empties into the pool. */
__attribute__((noinline)) static void free_large(shmc_arena_t *a,
						  struct shmc__class_head *h,
						  uint64_t off, unsigned cls)
{
	atomic_fetch_sub_explicit(&h->in_use, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&h->carved, 1, memory_order_relaxed);
	if (shmc__pool_put(a, &off, 1, class_size_tab[cls] >> SHMC__PAGE_SHIFT))
		return;
	atomic_fetch_add_explicit(&h->carved, 1, memory_order_relaxed);
	shmc__push_chain(h, off, shmc__next_word(a, off));
}

/* Blocks were pushed onto the list of class CLS, whose tag is now TAG and
 * in_use IN_USE: a scavenge if the list has grown enough, or the pool's
 * tick. */
static inline void after_push(shmc_arena_t *a, struct shmc__class_head *h, unsigned cls,
			      uint64_t tag, uint64_t in_use)
{
	/* Free blocks: carved - in_use (signed: the counters may be off by a
	 * little after a kill). Scavenging walks the list, so it waits until
	 * the list has doubled since the last one (slabs.c); a large class's
	 * list is a small cache, emptied into the pool when it is full. */
	bool full = (int64_t)(ld_relaxed(&h->carved) - in_use) >= (int64_t)ld_relaxed(&h->scav_at);
	/* Once in SHMC__POOL_TICK operations on a list, the pool looks for
	 * runs old enough to give back, so that it does so even while every
	 * allocation is served by a list. (Two tag values: a list that only
	 * alternates pops and pushes gives its pushes tags of one parity.) */
	if (unlikely(full || (tag & (SHMC__POOL_TICK - 1)) <= 1))
		free_slow(a, cls, full);
}

void shmc__alloc_pushed(shmc_arena_t *a, unsigned cls)
{
	struct shmc__class_head *h = &a->hdr->classes[cls];
	after_push(a, h, cls, ld_relaxed((atomic_u64 *)&h->free.AO_val2), ld_relaxed(&h->in_use));
}

/* A thread's bin of class CLS is full: half of it goes to the list. */
__attribute__((noinline)) static void free_spill(shmc_arena_t *a, struct shmc__tcache *tc,
						  unsigned cls, uint64_t off)
{
	struct shmc__class_head *h = &a->hdr->classes[cls];
	uint64_t tag;
	if (shmc__tcache_spill(a, tc, cls, tc_cap_tab[cls] / 2, &tag) == 0 ||
	    !shmc__tcache_push(a, tc, cls, off, tc_cap_tab[cls])) {
		tag = shmc__push_chain(h, off, shmc__next_word(a, off));
		atomic_fetch_sub_explicit(&h->in_use, 1, memory_order_relaxed);
	}
	after_push(a, h, cls, tag, ld_relaxed(&h->in_use));
}

void shmc__free(shmc_arena_t *a, uint64_t off)
{
	classes_ready();
	int cls = shmc__block_class(a, off);
	if (cls < 0)
		return;
	struct shmc__tcache *tc;
	if ((unsigned)cls < SHMC__TC_CLASSES && (tc = shmc__tcache_mine(a)) != NULL) {
		if (unlikely(!shmc__tcache_push(a, tc, (unsigned)cls, off, tc_cap_tab[cls])))
			free_spill(a, tc, (unsigned)cls, off);
		/* The pool's tick, as a list's (below): a thread whose frees
		 * its cache serves does not touch a list for long. */
		else if (unlikely((++shmc__epoch_tls.tc_frees & (SHMC__POOL_TICK - 1)) == 0))
			free_slow(a, (unsigned)cls, false);
		return;
	}
	struct shmc__class_head *h = &a->hdr->classes[cls];
	if (unlikely(class_size_tab[cls] > SHMC__LARGE_CACHE_MAX)) {
		free_large(a, h, off, (unsigned)cls);
		return;
	}
	/* push_chain() tells TSan that our uses of the block happen before
	 * its next owner's. */
	uint64_t tag = shmc__push_chain(h, off, shmc__next_word(a, off));
	uint64_t in_use = atomic_fetch_sub_explicit(&h->in_use, 1, memory_order_relaxed) - 1;
	after_push(a, h, (unsigned)cls, tag, in_use);
}

void shmc__alloc_trim(shmc_arena_t *a)
{
	flush_mine(a);
	shmc__slabs_scavenge_all(a);
	shmc__pool_trim(a, true);
}
