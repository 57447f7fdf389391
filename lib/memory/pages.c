/*
 * pages.c -- the page pool: free runs of whole pages that any size class,
 * or a large block, is cut from before the arena grows; and the pages
 * beyond a threshold given back to the system.
 *
 * Layout. A free run is marked in the pagemap: each of its pages has the
 * class byte SHMC__PM_FREE; its first page also SHMC__PM_RUN_START, its last
 * SHMC__PM_RUN_END, and a page whose memory was given back SHMC__PM_PUNCHED.
 * The first page holds the run's header {magic, pages, punched, next, prev,
 * when last put}, the last 16 bytes of its last page a tail {magic, first
 * page}: boundary
 * tags, so that a run put back next to free runs merges with both in O(1).
 * Those two pages are never punched (a 1-page run has both in one page).
 * The header links the run into one of SHMC__POOL_BINS doubly linked lists
 * by floor(log2(pages)); their heads and the pool's counters are in the
 * arena header (struct shmc__page_pool).
 *
 * Locking. Everything that changes the pool happens under its owner lock
 * (arena/olock.c). Only slow paths come here -- a class that needs a slab,
 * a large block allocated or freed, a scavenged slab given back -- never
 * the lock-free fast path of alloc.c.
 *
 * Operations.
 *   take(n, class): a run of at least n pages (first fit among the first
 *     runs of n's own bin, else the first run of the smallest bigger bin);
 *     the n pages are cut from its end, so its header stays where it is and
 *     the new last page gets the tail. Punched pages among them, and the new
 *     last page, are reserved again (posix_fallocate) before anything
 *     changes, so running out of memory is SHMC_EFULL, never SIGBUS. The
 *     pages are marked for the class before the lock is released.
 *   put(run): its pages become FREE; it merges with a free run ending just
 *     before it (the tail on the page before says where that run starts)
 *     and one starting just after it.
 *   trim: when more than max(1 MiB, committed / 8) of the pool is backed by
 *     memory, the inner pages of runs are punched out of the file
 *     (fallocate PUNCH_HOLE|KEEP_SIZE), biggest runs first, until half that
 *     is left, at most TRIM_BUDGET pages per hold of the lock. The arena is
 *     a MAP_SHARED file: punching frees the pages for every process at
 *     once. Which runs: those that have stayed free for TRIM_DECAY_NS,
 *     looked for at most every TRIM_PERIOD_NS by puts, takes, and frees now
 *     and then (shmc__pool_tick(): a pool nobody uses still ages), since a
 *     pool that serves a churn of blocks should keep their pages, which
 *     would only be reserved and faulted in again; any run at once when the
 *     backed pool exceeds max(64 MiB, committed / 2) (a large clear), or
 *     when asked (shmc_arena_reclaim()). The bits are set before the hole
 *     is punched; a crash in between leaves reserved pages that read as
 *     punched, which costs a needless posix_fallocate.
 *
 * Why punching is safe. A page enters the pool only when no block in it is
 * live: a slab when every block of it is on its class's free list (slabs.c),
 * a large run when it is freed; and callers free a block only once the
 * epoch layer says no reader can still see it. Free pages are read by this
 * file only, which reads header and tail pages, never punched. Two readers
 * may still touch a punched page, harmlessly: a view (tools) that raced
 * with the free, and a lock-free pop descheduled for a whole scavenge
 * (slabs.c). Either reads zeros, and the kernel backs that page again (a
 * page the pool counts as given back until it is reused or punched anew).
 *
 * Dying. A process killed while it holds the lock leaves the pool half
 * changed; the next process to take the lock is told so
 * (SHMC__LOCKED_OWNER_DIED) and rebuilds the pool from the pagemap, which is
 * the truth: each maximal stretch of FREE pages becomes a run, its header
 * and tail rewritten, the bins and counters recomputed. Order makes that
 * enough: a take marks its pages for the class only after the run it cut
 * them from is whole again (a kill while marking leaves pages that are
 * either FREE, taken back by the rebuild, or marked without a run start,
 * which the arena check reports as leaked and --sweep returns); a put makes
 * its pages FREE before merging. A header or link that fails validation (a
 * stray write) triggers the same rebuild rather than being followed.
 */
#include <string.h>
#include <time.h>

#include "arena/olock.h"
#include "memory/alloc.h"
#include "memory/pages.h"

#define RUN_MAGIC 0x52554e2d48454144ull  /* "RUN-HEAD", xor the run's offset */
#define TAIL_MAGIC 0x52554e2d5441494cull /* "RUN-TAIL", xor the run's offset */
#define FIRST_FIT_SCAN 64u               /* runs tried in the request's own bin */
#define TRIM_BUDGET ((uint64_t)16384)    /* pages punched per hold of the lock */
#define TRIM_FLOOR ((uint64_t)256)       /* 1 MiB: pages always kept backed */
#define TRIM_HIGH_FLOOR ((uint64_t)16384) /* 64 MiB: ... and not punched at once */
#define TRIM_DECAY_NS 1000000000ull      /* a run free this long is punched */
#define TRIM_PERIOD_NS 100000000ull      /* how often runs are looked at */

struct run_head {
	atomic_u64 magic;
	atomic_u64 npages;
	atomic_u64 npunched; /* inner pages given back */
	atomic_u64 next, prev; /* the bin's list: run offsets, 0 at the ends */
	atomic_u64 freed_ns; /* when pages were last put into it */
};

struct run_tail {
	atomic_u64 magic;
	atomic_u64 start;
};

_Static_assert(sizeof(struct shmc__olock) == sizeof(((struct shmc__page_pool *)0)->lock),
	       "the pool's lock words hold an olock");

/* One locked operation's view of the pool. */
struct op {
	shmc_arena_t *a;
	struct shmc__page_pool *p;
	uint16_t *pm;
	uint64_t data_off, brk; /* brk as read under the lock */
	uint64_t now;           /* CLOCK_MONOTONIC_COARSE at the lock */
	bool broken;            /* a link or header failed validation */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline struct shmc__olock *pool_olock(shmc_arena_t *a)
{
	return (struct shmc__olock *)a->hdr->pool.lock;
}

static inline uint16_t pm_get(const uint16_t *pm, uint64_t off)
{
	return __atomic_load_n(&pm[off >> SHMC__PAGE_SHIFT], __ATOMIC_RELAXED);
}

static inline void pm_set(uint16_t *pm, uint64_t off, uint16_t v)
{
	__atomic_store_n(&pm[off >> SHMC__PAGE_SHIFT], v, __ATOMIC_RELAXED);
}

static inline bool is_free(uint16_t e)
{
	return (e & SHMC__PM_CLASS_MASK) == SHMC__PM_FREE;
}

static inline struct run_head *head_at(const shmc_arena_t *a, uint64_t off)
{
	return (struct run_head *)(a->base + off);
}

/* The tail of a run whose last page is at LAST. */
static inline struct run_tail *tail_at(const shmc_arena_t *a, uint64_t last)
{
	return (struct run_tail *)(a->base + last + SHMC__PAGE - sizeof(struct run_tail));
}

unsigned shmc__pool_bin_of(uint64_t npages)
{
	unsigned b = 63u - (unsigned)__builtin_clzll(npages | 1);
	return b < SHMC__POOL_BINS ? b : SHMC__POOL_BINS - 1;
}

/* Validation, without the lock --------------------------------------------- */

uint64_t shmc__pool_run(const shmc_arena_t *a, uint64_t off, uint64_t brk,
			uint64_t *npunched)
{
	const uint16_t *pm = (const uint16_t *)shmc__pagemap(a);
	if (off < a->data_off || off >= brk || brk > a->capacity ||
	    (off & (SHMC__PAGE - 1)))
		return 0;
	uint16_t e = pm_get(pm, off);
	if (!is_free(e) || !(e & SHMC__PM_RUN_START) || (e & SHMC__PM_PUNCHED))
		return 0;
	struct run_head *h = head_at(a, off);
	uint64_t n = ld_relaxed(&h->npages), k = ld_relaxed(&h->npunched);
	if (ld_relaxed(&h->magic) != (RUN_MAGIC ^ off) || n == 0 ||
	    n > (brk - off) >> SHMC__PAGE_SHIFT || k > (n > 2 ? n - 2 : 0))
		return 0;
	uint64_t last = off + ((n - 1) << SHMC__PAGE_SHIFT);
	e = pm_get(pm, last);
	if (!is_free(e) || !(e & SHMC__PM_RUN_END) || (e & SHMC__PM_PUNCHED))
		return 0;
	struct run_tail *t = tail_at(a, last);
	if (ld_relaxed(&t->magic) != (TAIL_MAGIC ^ off) || ld_relaxed(&t->start) != off)
		return 0;
	if (npunched)
		*npunched = k;
	return n;
}

static uint64_t run_pages(struct op *o, uint64_t off)
{
	uint64_t n = shmc__pool_run(o->a, off, o->brk, NULL);
	if (n == 0)
		o->broken = true;
	return n;
}

/* The bins ------------------------------------------------------------------- */

static void bin_link(struct op *o, uint64_t off, uint64_t n)
{
	atomic_u64 *bin = &o->p->bins[shmc__pool_bin_of(n)];
	uint64_t first = ld_relaxed(bin);
	struct run_head *h = head_at(o->a, off);
	st_relaxed(&h->prev, 0);
	st_relaxed(&h->next, first);
	if (first && run_pages(o, first))
		st_relaxed(&head_at(o->a, first)->prev, off);
	st_relaxed(bin, off);
}

/* Unlink the run at OFF (of N pages) from its bin; its neighbours must
 * point at it. */
static void bin_unlink(struct op *o, uint64_t off, uint64_t n)
{
	struct run_head *h = head_at(o->a, off);
	uint64_t next = ld_relaxed(&h->next), prev = ld_relaxed(&h->prev);
	atomic_u64 *bin = &o->p->bins[shmc__pool_bin_of(n)];
	if (prev == 0) {
		if (ld_relaxed(bin) != off)
			o->broken = true;
		else
			st_relaxed(bin, next);
	} else if (!run_pages(o, prev) || ld_relaxed(&head_at(o->a, prev)->next) != off) {
		o->broken = true;
	} else {
		st_relaxed(&head_at(o->a, prev)->next, next);
	}
	if (next == 0)
		return;
	if (!run_pages(o, next) || ld_relaxed(&head_at(o->a, next)->prev) != off)
		o->broken = true;
	else
		st_relaxed(&head_at(o->a, next)->prev, prev);
}

/* Make [off, off + n pages) one run, NPUNCHED of its inner pages given back,
 * and link it. Its first and last pages are backed; the pages between carry
 * no START or END. */
static void write_run(struct op *o, uint64_t off, uint64_t n, uint64_t npunched)
{
	uint64_t last = off + ((n - 1) << SHMC__PAGE_SHIFT);
	struct run_head *h = head_at(o->a, off);
	struct run_tail *t = tail_at(o->a, last);
	st_relaxed(&h->magic, RUN_MAGIC ^ off);
	st_relaxed(&h->npages, n);
	st_relaxed(&h->npunched, npunched);
	st_relaxed(&h->freed_ns, o->now);
	st_relaxed(&t->magic, TAIL_MAGIC ^ off);
	st_relaxed(&t->start, off);
	pm_set(o->pm, off, SHMC__PM_FREE | SHMC__PM_RUN_START | (n == 1 ? SHMC__PM_RUN_END : 0));
	if (n > 1)
		pm_set(o->pm, last, SHMC__PM_FREE | SHMC__PM_RUN_END);
	bin_link(o, off, n);
}

/* Memory ------------------------------------------------------------------- */

static _Atomic long reserve_countdown = -1;

void shmc__pool_fail_reserve_after(long n)
{
	atomic_store(&reserve_countdown, n < 0 ? -1 : n);
}

/* Reserve [off, off+len) again, or fail as injected (tests). */
static int reserve(struct op *o, uint64_t off, uint64_t len)
{
	long c = atomic_load_explicit(&reserve_countdown, memory_order_relaxed);
	while (c >= 0)
		if (atomic_compare_exchange_weak(&reserve_countdown, &c, c - 1)) {
			if (c == 0)
				return SHMC_EFULL;
			break;
		}
	return shmc__arena_reserve(o->a->fd, off, len);
}

/* Reserve again the punched pages of [off, off + n pages): one call per
 * stretch. Each page reserved loses its mark at once, and is counted off
 * the pool's punched pages and *npunched. @return 0, SHMC_EFULL */
static int unpunch(struct op *o, uint64_t off, uint64_t n, uint64_t *npunched)
{
	uint64_t end = off + (n << SHMC__PAGE_SHIFT);
	for (uint64_t pg = off; pg < end;) {
		if (!(pm_get(o->pm, pg) & SHMC__PM_PUNCHED)) {
			pg += SHMC__PAGE;
			continue;
		}
		uint64_t q = pg;
		while (q < end && (pm_get(o->pm, q) & SHMC__PM_PUNCHED))
			q += SHMC__PAGE;
		if (reserve(o, pg, q - pg) != 0)
			return SHMC_EFULL;
		uint64_t k = (q - pg) >> SHMC__PAGE_SHIFT;
		for (; pg < q; pg += SHMC__PAGE)
			pm_set(o->pm, pg, (uint16_t)(pm_get(o->pm, pg) & ~SHMC__PM_PUNCHED));
		atomic_fetch_sub_explicit(&o->p->punched_pages, k, memory_order_relaxed);
		if (npunched)
			*npunched -= k <= *npunched ? k : *npunched;
	}
	return 0;
}

/* Committed pages, less those given back. */
static uint64_t committed_pages(struct op *o)
{
	uint64_t c = ld_relaxed(&o->a->hdr->committed) >> SHMC__PAGE_SHIFT;
	uint64_t punched = ld_relaxed(&o->p->punched_pages);
	return c > punched ? c - punched : 0;
}

/* Pages the pool may keep backed: max(1 MiB, committed / 8). */
static uint64_t trim_limit(struct op *o)
{
	uint64_t c = committed_pages(o);
	return c / 8 > TRIM_FLOOR ? c / 8 : TRIM_FLOOR;
}

/* Punch the inner pages of one run, from its start, while WANT > 0.
 * @return pages punched, or -1 when punching fails (not supported) */
static int64_t punch_run(struct op *o, uint64_t off, uint64_t n, uint64_t want)
{
	struct run_head *h = head_at(o->a, off);
	uint64_t end = off + ((n - 1) << SHMC__PAGE_SHIFT), done = 0;
	for (uint64_t pg = off + SHMC__PAGE; pg < end && done < want;) {
		if (pm_get(o->pm, pg) & SHMC__PM_PUNCHED) {
			pg += SHMC__PAGE;
			continue;
		}
		uint64_t q = pg;
		while (q < end && !(pm_get(o->pm, q) & SHMC__PM_PUNCHED) &&
		       ((q - pg) >> SHMC__PAGE_SHIFT) < want - done)
			q += SHMC__PAGE;
		/* Marked first: a crash before the hole is punched costs a
		 * needless reservation later, never a page used unreserved. */
		for (uint64_t x = pg; x < q; x += SHMC__PAGE)
			pm_set(o->pm, x, (uint16_t)(pm_get(o->pm, x) | SHMC__PM_PUNCHED));
		uint64_t k = (q - pg) >> SHMC__PAGE_SHIFT;
		st_relaxed(&h->npunched, ld_relaxed(&h->npunched) + k);
		atomic_fetch_add_explicit(&o->p->punched_pages, k, memory_order_relaxed);
		if (shmc__arena_decommit(o->a, pg, q - pg) != 0) {
			for (uint64_t x = pg; x < q; x += SHMC__PAGE)
				pm_set(o->pm, x, (uint16_t)(pm_get(o->pm, x) & ~SHMC__PM_PUNCHED));
			st_relaxed(&h->npunched, ld_relaxed(&h->npunched) - k);
			atomic_fetch_sub_explicit(&o->p->punched_pages, k, memory_order_relaxed);
			return -1;
		}
		atomic_fetch_add_explicit(&o->p->released_total, k, memory_order_relaxed);
		done += k;
		pg = q;
	}
	return (int64_t)done;
}

/* One pass over the bins, biggest runs first, punching the runs allowed
 * (ANY_AGE, or old enough) until *backed reaches GOAL or *done the budget;
 * *steps bounds the runs visited. @return false when punching failed or a
 * run was malformed (o->broken) */
static bool trim_pass(struct op *o, uint64_t goal, bool any_age, uint64_t *backed,
		      uint64_t *done, uint64_t *steps)
{
	struct shmc__page_pool *p = o->p;
	for (unsigned b = SHMC__POOL_BINS; b-- > 0;) {
		uint64_t off = ld_relaxed(&p->bins[b]);
		for (; off && *backed > goal && *done < TRIM_BUDGET && *steps; --*steps) {
			uint64_t k, n = shmc__pool_run(o->a, off, o->brk, &k);
			if (n == 0) {
				o->broken = true;
				return false;
			}
			struct run_head *h = head_at(o->a, off);
			bool old = o->now - ld_relaxed(&h->freed_ns) >= TRIM_DECAY_NS;
			if (n > 2 && k < n - 2 && (any_age || old)) {
				uint64_t want = *backed - goal;
				want = want < TRIM_BUDGET - *done ? want : TRIM_BUDGET - *done;
				int64_t got = punch_run(o, off, n, want);
				if (got < 0)
					return false;
				*backed -= (uint64_t)got;
				*done += (uint64_t)got;
			}
			off = ld_relaxed(&h->next);
		}
	}
	return true;
}

/* Give back pages beyond the threshold, at most TRIM_BUDGET of them,
 * biggest runs first: runs that have been free for TRIM_DECAY_NS, or any
 * when FORCE or when the pool holds more than half of what is committed.
 * @return pages punched */
static uint64_t trim_locked(struct op *o, bool force)
{
	struct shmc__page_pool *p = o->p;
	uint64_t nfree = ld_relaxed(&p->free_pages), punched = ld_relaxed(&p->punched_pages);
	uint64_t backed = nfree > punched ? nfree - punched : 0;
	uint64_t limit = trim_limit(o);
	if (backed <= limit)
		return 0;
	uint64_t high = committed_pages(o) / 2;
	high = high > TRIM_HIGH_FLOOR ? high : TRIM_HIGH_FLOOR;
	/* Ignoring age: only if something punchable may have come since the
	 * last trim that found nothing left to punch. */
	bool any_age = (force || backed > high) &&
		       backed > ld_relaxed(&p->trim_mark) + limit / 2;
	if (!any_age) {
		if (o->now - ld_relaxed(&p->trim_ns) < TRIM_PERIOD_NS)
			return 0;
		st_relaxed(&p->trim_ns, o->now);
	}
	/* Down to half the limit. Punching lowers what is committed, and so
	 * the limit: a few passes reach the point where both agree. */
	uint64_t done = 0, steps = 4 * (nfree + SHMC__POOL_BINS);
	for (unsigned pass = 0; pass < 4 && done < TRIM_BUDGET; pass++) {
		uint64_t goal = trim_limit(o) / 2, before = done;
		if (backed <= goal || !trim_pass(o, goal, any_age, &backed, &done, &steps) ||
		    done == before)
			break;
	}
	/* Stopped by the budget: the caller comes back. Otherwise what is left
	 * backed cannot be punched now (headers, tails, young runs): ignoring
	 * age is not tried again until the pool has grown. */
	if (any_age)
		st_relaxed(&p->trim_mark, done >= TRIM_BUDGET ? 0 : backed);
	return done;
}

/* Rebuilding from the pagemap ------------------------------------------------ */

static void rebuild_locked(struct op *o)
{
	struct shmc__page_pool *p = o->p;
	for (unsigned b = 0; b < SHMC__POOL_BINS; b++)
		st_relaxed(&p->bins[b], 0);
	uint64_t nfree = 0, npunched = 0;
	o->broken = false;
	for (uint64_t pg = o->data_off; pg < o->brk;) {
		if (!is_free(pm_get(o->pm, pg))) {
			pg += SHMC__PAGE;
			continue;
		}
		uint64_t s = pg, k = 0;
		for (; pg < o->brk && is_free(pm_get(o->pm, pg)); pg += SHMC__PAGE) {
			uint16_t e = pm_get(o->pm, pg) & SHMC__PM_PUNCHED;
			k += e != 0;
			pm_set(o->pm, pg, (uint16_t)(SHMC__PM_FREE | e));
		}
		uint64_t n = (pg - s) >> SHMC__PAGE_SHIFT, last = pg - SHMC__PAGE;
		/* The header and tail pages must be backed. Should that fail,
		 * the stretch stays out of the pool (the check reports it). */
		uint64_t kk = k;
		if (unpunch(o, s, 1, &kk) || unpunch(o, last, 1, &kk))
			continue;
		k = kk;
		write_run(o, s, n, k);
		nfree += n;
		npunched += k;
	}
	st_relaxed(&p->free_pages, nfree);
	st_relaxed(&p->punched_pages, npunched);
	st_relaxed(&p->trim_mark, 0);
	o->broken = false;
}

/* Locking --------------------------------------------------------------------- */

static bool pool_lock(shmc_arena_t *a, struct op *o)
{
	/* No token before this process holds a slot: the lock could not
	 * exclude anyone (see free_large() in alloc.c). */
	if (a->token == 0)
		return false;
	int rc = shmc__olock_acquire_internal(a, pool_olock(a), -1);
	if (rc < 0)
		return false;
	o->a = a;
	o->p = &a->hdr->pool;
	o->pm = (uint16_t *)shmc__pagemap(a);
	o->data_off = a->data_off;
	o->brk = ld_acquire(&a->hdr->brk);
	if (o->brk > a->capacity)
		o->brk = a->capacity;
	o->broken = false;
	o->now = now_ns();
	if (rc == SHMC__LOCKED_OWNER_DIED)
		rebuild_locked(o);
	return true;
}

static void pool_unlock(struct op *o)
{
	if (o->broken)
		rebuild_locked(o);
	shmc__olock_release(pool_olock(o->a));
}

/* Take ------------------------------------------------------------------------- */

/* A run with at least N pages, or 0. */
static uint64_t find_locked(struct op *o, uint64_t n)
{
	unsigned b0 = shmc__pool_bin_of(n);
	uint64_t off = ld_relaxed(&o->p->bins[b0]);
	for (unsigned i = 0; off && i < FIRST_FIT_SCAN; i++) {
		uint64_t m = run_pages(o, off);
		if (m == 0)
			return 0;
		if (m >= n)
			return off;
		off = ld_relaxed(&head_at(o->a, off)->next);
	}
	for (unsigned b = b0 + 1; b < SHMC__POOL_BINS; b++) {
		off = ld_relaxed(&o->p->bins[b]);
		if (off)
			return run_pages(o, off) >= n ? off : 0;
	}
	return 0;
}

static int take_locked(struct op *o, uint64_t n, unsigned cls, uint64_t *out)
{
	uint64_t off = find_locked(o, n);
	if (off == 0)
		return SHMC_EFULL;
	struct run_head *h = head_at(o->a, off);
	uint64_t m = ld_relaxed(&h->npages), k = ld_relaxed(&h->npunched);
	uint64_t cut = off + ((m - n) << SHMC__PAGE_SHIFT);
	/* Memory first, so that a failure changes nothing but marks. */
	int rc = unpunch(o, cut, n, &k);
	if (rc == 0 && m > n)
		rc = unpunch(o, cut - SHMC__PAGE, 1, &k);
	st_relaxed(&h->npunched, k);
	if (rc)
		return rc;
	if (m == n) {
		bin_unlink(o, off, m);
	} else {
		uint64_t last = cut - SHMC__PAGE;
		struct run_tail *t = tail_at(o->a, last);
		st_relaxed(&t->magic, TAIL_MAGIC ^ off);
		st_relaxed(&t->start, off);
		pm_set(o->pm, last, (uint16_t)(SHMC__PM_FREE | SHMC__PM_RUN_END |
					       (last == off ? SHMC__PM_RUN_START : 0)));
		if (shmc__pool_bin_of(m - n) != shmc__pool_bin_of(m)) {
			bin_unlink(o, off, m);
			st_relaxed(&h->npages, m - n);
			bin_link(o, off, m - n);
		} else {
			st_relaxed(&h->npages, m - n);
		}
	}
	shmc__pages_mark(o->a, cut, n, cls);
	atomic_fetch_sub_explicit(&o->p->free_pages, n, memory_order_relaxed);
	*out = cut;
	return 0;
}

int shmc__pool_take(shmc_arena_t *a, uint64_t npages, unsigned cls, uint64_t *off)
{
	struct op o;
	if (npages == 0 || !pool_lock(a, &o))
		return SHMC_EFULL;
	int rc = take_locked(&o, npages, cls, off);
	if (rc && o.broken) { /* rebuilt, then once more */
		rebuild_locked(&o);
		rc = take_locked(&o, npages, cls, off);
	}
	if (!o.broken)
		trim_locked(&o, false);
	pool_unlock(&o);
	return rc;
}

/* Put ------------------------------------------------------------------------- */

static void put_locked(struct op *o, uint64_t off, uint64_t n)
{
	uint64_t end = off + (n << SHMC__PAGE_SHIFT);
	if (n == 0 || off < o->data_off || (off & (SHMC__PAGE - 1)) || end > o->brk ||
	    end < off)
		return;
	for (uint64_t pg = off; pg < end; pg += SHMC__PAGE)
		if (is_free(pm_get(o->pm, pg)))
			return; /* already free: a double put would corrupt the pool */
	for (uint64_t pg = off; pg < end; pg += SHMC__PAGE)
		pm_set(o->pm, pg, SHMC__PM_FREE);
	uint64_t start = off, total = n, punched = 0;
	if (off > o->data_off) {
		uint64_t q = off - SHMC__PAGE;
		uint16_t e = pm_get(o->pm, q);
		if (is_free(e)) {
			/* The tail is read only where the pagemap says one is:
			 * an inner page may be punched. */
			uint64_t s = 0, k, m = 0;
			if ((e & SHMC__PM_RUN_END) && !(e & SHMC__PM_PUNCHED)) {
				s = ld_relaxed(&tail_at(o->a, q)->start);
				m = shmc__pool_run(o->a, s, o->brk, &k);
			}
			if (m && s + (m << SHMC__PAGE_SHIFT) == off) {
				bin_unlink(o, s, m);
				if (q != s)
					pm_set(o->pm, q, SHMC__PM_FREE);
				start = s;
				total += m;
				punched += k;
			} else {
				o->broken = true;
			}
		}
	}
	if (end < o->brk) {
		uint16_t e = pm_get(o->pm, end);
		if (is_free(e)) {
			uint64_t k, m = shmc__pool_run(o->a, end, o->brk, &k);
			if (m) {
				bin_unlink(o, end, m);
				pm_set(o->pm, end, SHMC__PM_FREE | (m == 1 ? SHMC__PM_RUN_END : 0));
				total += m;
				punched += k;
			} else {
				o->broken = true;
			}
		}
	}
	write_run(o, start, total, punched);
	atomic_fetch_add_explicit(&o->p->free_pages, n, memory_order_relaxed);
}

bool shmc__pool_put(shmc_arena_t *a, const uint64_t *offs, size_t n, uint64_t npages)
{
	struct op o;
	if (!pool_lock(a, &o))
		return false;
	for (size_t i = 0; i < n; i++)
		put_locked(&o, offs[i], npages);
	if (o.broken)
		rebuild_locked(&o);
	uint64_t punched = trim_locked(&o, false);
	pool_unlock(&o);
	if (punched >= TRIM_BUDGET)
		shmc__pool_trim(a, false);
	return true;
}

void shmc__pool_trim(shmc_arena_t *a, bool force)
{
	struct op o;
	for (unsigned i = 0; i < (1u << 20); i++) { /* bounded: 64 GiB a round */
		if (!pool_lock(a, &o))
			return;
		uint64_t punched = trim_locked(&o, force);
		pool_unlock(&o);
		if (punched < TRIM_BUDGET)
			return;
	}
}

bool shmc__pool_tick(shmc_arena_t *a)
{
	struct shmc__page_pool *p = &a->hdr->pool;
	uint64_t nfree = ld_relaxed(&p->free_pages), punched = ld_relaxed(&p->punched_pages);
	uint64_t now = now_ns(), last = ld_relaxed(&p->drain_ns);
	if (nfree > punched + TRIM_FLOOR && now - ld_relaxed(&p->trim_ns) >= TRIM_PERIOD_NS)
		shmc__pool_trim(a, false);
	/* Relaxed: the word only spaces drains out; whoever swaps it drains. */
	return now - last >= TRIM_DECAY_NS &&
	       atomic_compare_exchange_strong_explicit(&p->drain_ns, &last, now,
						       memory_order_relaxed,
						       memory_order_relaxed);
}

void shmc__pool_repair(shmc_arena_t *a)
{
	struct op o;
	if (!pool_lock(a, &o))
		return;
	rebuild_locked(&o);
	pool_unlock(&o);
}

void shmc__pages_mark(shmc_arena_t *a, uint64_t off, uint64_t npages, unsigned cls)
{
	uint16_t *pm = (uint16_t *)shmc__pagemap(a);
	uint64_t p = off >> SHMC__PAGE_SHIFT;
	bool slab = shmc__class_is_small(cls);
	/* The first page last: until then the pages start no run, and a
	 * process killed half-way leaves pages the check calls leaked. */
	for (uint64_t i = npages; i-- > 1;)
		__atomic_store_n(&pm[p + i],
				 (uint16_t)((cls + 1) | (slab ? i << SHMC__PM_SLAB_IDX_SHIFT : 0)),
				 __ATOMIC_RELAXED);
	__atomic_store_n(&pm[p], (uint16_t)((cls + 1) | SHMC__PM_RUN_START), __ATOMIC_RELAXED);
}

/* Reading without the lock ----------------------------------------------------- */

int shmc__pool_lock_state(shmc_arena_t *a)
{
	uint32_t w = ld_relaxed(&a->hdr->pool.lock[0]);
	if (w == 0)
		return 0;
	return shmc__token_alive(a, w & ~SHMC__OLOCK_WAITERS) ? 1 : -1;
}

int shmc__pool_visit(const shmc_arena_t *a, uint64_t brk, uint64_t max_runs,
		     const struct shmc__pool_visitor *v, void *ctx)
{
	uint64_t seen = 0;
	for (unsigned b = 0; b < SHMC__POOL_BINS; b++) {
		uint64_t prev = 0;
		for (uint64_t off = ld_relaxed(&a->hdr->pool.bins[b]); off;) {
			uint64_t n = shmc__pool_run(a, off, brk, NULL);
			if (n == 0) {
				v->error(ctx, "page pool: bin %u holds %#llx, which starts no free run",
					 b, (unsigned long long)off);
				return -1;
			}
			if (shmc__pool_bin_of(n) != b ||
			    ld_relaxed(&head_at(a, off)->prev) != prev) {
				v->error(ctx, "page pool: run %#llx (%llu pages) is misfiled in bin %u",
					 (unsigned long long)off, (unsigned long long)n, b);
				return -1;
			}
			if (++seen > max_runs) {
				v->error(ctx, "page pool: bins hold more runs than there are (a cycle)");
				return -1;
			}
			if (!v->run(ctx, off, n, b))
				return -1;
			prev = off;
			off = ld_relaxed(&head_at(a, off)->next);
		}
	}
	return 0;
}
