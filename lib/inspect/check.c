/*
 * check.c -- the arena check: walk everything, report every broken
 * invariant, optionally release what the dead left behind.
 *
 * The walk, in order:
 *   1. the header (magic, version, fingerprint, geometry, watermarks);
 *   2. process slots: a slot marked live whose lock is free belongs to a dead
 *      process; each slot's handle table counts one reference per entry;
 *   3. epoch records: each retire queue, whose pending items are still
 *      owned (a retired value keeps its references until it is freed);
 *   4. the directory of named objects;
 *   5. every object reached, once: its header, then its own blocks and value
 *      words through the kind's walk function (walk.h);
 *   6. the allocator: the pagemap's runs, each free list and parked list
 *      and each thread's cache of free blocks (bounded by the number of
 *      blocks carved, so a cycle ends the walk),
 *      the page pool (its runs and bins agree; free pages are not leaks),
 *      and then every carved block, which must be exactly one of reachable
 *      or free.
 * Reference counts are then compared with the references found.
 *
 * Everything read from the arena is untrusted: offsets go through the
 * checked accessor, every loop is bounded by a size validated first, and
 * the walk uses explicit queues, not recursion, for objects. A corrupt arena
 * yields error reports, never a crash or a hang.
 *
 * Sweeping (SHMC_CHECK_SWEEP) frees what is allocated but unreachable --
 * blocks a killed process had allocated and not yet published, or had
 * unlinked and not yet retired, and pages it had carved and not marked --
 * sets counts to what was found, rebuilds the page pool if a killed process
 * left it half changed, then trims (shmc__alloc_trim). It is only correct
 * while no other process is in the middle of an operation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory/alloc.h"
#include "memory/epoch.h"
#include "memory/pages.h"
#include "memory/tcache.h"
#include "objects/obj.h"
#include "arena/proc.h"
#include "inspect/inspect.h"
#include "values/venc.h"

/* 1. Header ---------------------------------------------------------------- */

static bool check_header(struct shmc__walk *w)
{
	struct shmc__hdr *h = w->a->hdr;
	uint64_t committed = ld_relaxed(&h->committed), brk = ld_relaxed(&h->brk);
	if (h->data_off != w->a->data_off || h->pagemap_off != w->a->pagemap_off ||
	    h->data_off >= w->a->capacity || brk < h->data_off || brk > committed ||
	    committed > w->a->capacity || (brk & (SHMC__PAGE - 1))) {
		shmc__walk_error(w, "header: data %#llx, brk %#llx, committed %#llx, capacity %#llx are inconsistent",
				 (unsigned long long)h->data_off, (unsigned long long)brk,
				 (unsigned long long)committed,
				 (unsigned long long)w->a->capacity);
		return false;
	}
	if (ld_relaxed(&h->rec_hwm) > w->a->nrecs)
		shmc__walk_error(w, "header: %u epoch records claimed of %u",
				 ld_relaxed(&h->rec_hwm), w->a->nrecs);
	if (ld_relaxed(&h->proc_hwm) > w->a->nprocs)
		shmc__walk_error(w, "header: %u process slots claimed of %u",
				 ld_relaxed(&h->proc_hwm), w->a->nprocs);
	w->data_off = w->a->data_off;
	w->brk = brk;
	return true;
}

/* 2-4. Roots ----------------------------------------------------------------- */

static void walk_roots(struct shmc__walk *w, bool reap)
{
	shmc_arena_t *a = w->a;
	/* Reapers look no further than the mark (0: an arena older than it). */
	uint32_t claimed = ld_acquire(&a->hdr->proc_hwm);
	for (uint32_t s = 0; s < a->nprocs; s++) {
		struct shmc__proc *p = shmc__proc_at(a, s);
		uint32_t state = ld_acquire(&p->state);
		if (state == SHMC__PROC_FREE)
			continue;
		if (state != SHMC__PROC_LIVE) {
			shmc__walk_error(w, "process slot %u has state %#x", s, state);
			continue;
		}
		/* A process may have claimed slot s since the mark was read:
		 * it raises the mark before it stores LIVE (release), so after
		 * the acquire of LIVE above, the mark read again covers it. */
		if (claimed != 0 && s >= claimed)
			claimed = ld_acquire(&a->hdr->proc_hwm);
		if (claimed != 0 && s >= claimed)
			shmc__walk_error(w, "process slot %u is in use above the %u ever claimed",
					 s, claimed);
		if (a->lock_fd >= 0 && !shmc__proc_alive(a, s)) {
			if (reap && a->hooks.reap_if_dead) {
				a->hooks.reap_if_dead(a, s);
				if (ld_acquire(&p->state) == SHMC__PROC_FREE) {
					w->rep->reaped++;
					continue;
				}
			}
			w->rep->dead_processes++;
			shmc__walk_note(w, "process slot %u (pid %u) belongs to a dead process", s,
			     ld_relaxed(&p->pid));
		}
		shmc__handles_visit(w, s);
	}
	uint32_t hwm = ld_acquire(&a->hdr->rec_hwm);
	for (uint32_t i = 0; i < hwm && i < a->nrecs; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		uint32_t owner = ld_relaxed(&r->owner);
		if (owner == 0)
			continue;
		if (owner > a->nprocs)
			shmc__walk_error(w, "epoch record %u has owner %u", i, owner);
		shmc__walk_limbo(w, r);
		uint64_t tco;
		if (shmc__tcache_of(a, r, &tco) != NULL)
			shmc__walk_block(w, tco, sizeof(struct shmc__tcache), "thread cache");
		else if (tco != 0)
			shmc__walk_error(w, "epoch record %u names %#llx as its cache, not a block of its size",
					 i, (unsigned long long)tco);
	}
	uint64_t roots = ld_acquire(&a->hdr->roots_off);
	if (roots)
		shmc__walk_ref(w, roots, "the directory of named objects");
}

/* 5. Objects ---------------------------------------------------------------- */

static void walk_objects(struct shmc__walk *w)
{
	while (w->qhead < w->qtail && !w->oom) {
		uint64_t off = w->queue[w->qhead++];
		struct shmc__obj *o = (struct shmc__obj *)(w->a->base + off);
		/* Checked when it was queued; checked again, as a live arena may
		 * have reused its memory since. */
		const struct shmc__kind *k = shmc__kind_of(o->kind);
		if (o->magic != SHMC__OBJ_MAGIC || k == NULL) {
			shmc__walk_error(w, "object %#llx changed while it was walked",
					 (unsigned long long)off);
			continue;
		}
		w->rep->objects++;
		if (!shmc__walk_block(w, off, shmc__kind_size(w->a, k), k->typeid))
			continue;
		if (w->on_object)
			w->on_object(w->octx, off);
		k->walk(w, o);
	}
}

static void check_refs(struct shmc__walk *w, bool sweep)
{
	for (size_t i = 0; i < w->capobjs; i++) {
		struct shmc__walk_obj *e = &w->objs[i];
		if (e->off == 0)
			continue;
		struct shmc__obj *o = (struct shmc__obj *)(w->a->base + e->off);
		if (o->magic != SHMC__OBJ_MAGIC)
			continue; /* freed while walked: reported already */
		uint64_t refs = ld_relaxed(&o->refs);
		if (refs < e->found) {
			shmc__walk_error(w, "object %#llx counts %llu references, %llu exist",
					 (unsigned long long)e->off,
					 (unsigned long long)refs,
					 (unsigned long long)e->found);
		} else if (refs > e->found) {
			w->rep->leaked_refs += refs - e->found;
			shmc__walk_note(w, "object %#llx counts %llu references, %llu exist (leaked)",
			     (unsigned long long)e->off, (unsigned long long)refs,
			     (unsigned long long)e->found);
			if (sweep)
				st_relaxed(&o->refs, e->found);
		}
	}
}

/* 6. Allocator ---------------------------------------------------------------- */

/* Walk the list from HEAD of class CLS (its free list, or the chain its
 * scavenger parked), bounded by the blocks carved for it. */
static uint64_t walk_free_list(struct shmc__walk *w, unsigned cls, uint64_t carved,
			       uint64_t head, const char *what)
{
	uint64_t off = head, n = 0;
	while (off) {
		if (n > carved) {
			shmc__walk_error(w, "%s of class %u is longer than the %llu blocks carved",
					 what, cls, (unsigned long long)carved);
			break;
		}
		if (off >= w->brk || shmc__block_class(w->a, off) != (int)cls) {
			shmc__walk_error(w, "%s of class %u holds %#llx, not a block of it",
					 what, cls, (unsigned long long)off);
			break;
		}
		if (shmc__walk_bit_set(w->freeb, (off - w->data_off) / SHMC__WALK_GRAIN)) {
			shmc__walk_error(w, "%s of class %u holds %#llx twice (a cycle)",
					 what, cls, (unsigned long long)off);
			break;
		}
		n++;
		off = ld_relaxed((atomic_u64 *)(w->a->base + off));
	}
	return n;
}

#define RUN_LEAKED UINT32_MAX     /* pages carved, never marked as a run */
#define RUN_POOL (UINT32_MAX - 1) /* free pages of the page pool */

struct run {
	uint64_t off, npages, npunched;
	unsigned cls;
};

/* What the allocator walk keeps beside the block bitmaps. */
struct pool_walk {
	int lock;            /* shmc__pool_lock_state() */
	uint8_t *runs;       /* a bit per page: a free run starts here */
	uint8_t *listed;     /* ... and a bin lists it */
	uint64_t nruns, pages, punched;
	/* For the sweep, which frees once the walk is over (freeing may send
	 * slabs to the pool, which would change the pagemap under the walk). */
	struct offs {
		uint64_t *v;
		size_t n, cap;
	} lpages, lblocks; /* leaked pages; leaked blocks */
};

/* The run starting at page P, or false (with a report) if malformed. */
static bool run_at(struct shmc__walk *w, struct pool_walk *pw, uint64_t p, uint64_t end,
		   struct run *r)
{
	const uint16_t *pm = (const uint16_t *)shmc__pagemap(w->a);
	uint16_t e = __atomic_load_n(&pm[p], __ATOMIC_RELAXED);
	unsigned cls = e & SHMC__PM_CLASS_MASK;
	r->off = p << SHMC__PAGE_SHIFT;
	r->npages = 1;
	r->npunched = 0;
	if (cls == SHMC__PM_FREE) {
		r->cls = RUN_POOL;
		if (pw->lock != 0) { /* being changed: count pages one by one */
			r->npunched = (e & SHMC__PM_PUNCHED) != 0;
			return true;
		}
		uint64_t n = shmc__pool_run(w->a, r->off, w->brk, &r->npunched);
		if (n == 0) {
			shmc__walk_error(w, "page pool: page %#llx is free but starts no sound run",
					 (unsigned long long)r->off);
			r->npunched = (e & SHMC__PM_PUNCHED) != 0;
			return true;
		}
		/* Every page of the run is free, and only the inner ones say
		 * so truly when they are punched. */
		uint64_t k = 0;
		for (uint64_t i = 0; i < n; i++) {
			uint16_t x = __atomic_load_n(&pm[p + i], __ATOMIC_RELAXED);
			bool inner = i > 0 && i + 1 < n;
			if ((x & SHMC__PM_CLASS_MASK) != SHMC__PM_FREE ||
			    ((x & SHMC__PM_RUN_START) != 0) != (i == 0) ||
			    ((x & SHMC__PM_RUN_END) != 0) != (i + 1 == n) ||
			    ((x & SHMC__PM_PUNCHED) && !inner)) {
				shmc__walk_error(w, "page pool: run at %#llx is broken at page %llu",
						 (unsigned long long)r->off, (unsigned long long)i);
				return true; /* stepped over page by page */
			}
			k += (x & SHMC__PM_PUNCHED) != 0;
		}
		if (k != r->npunched)
			shmc__walk_error(w, "page pool: run at %#llx counts %llu pages given back, has %llu",
					 (unsigned long long)r->off,
					 (unsigned long long)r->npunched, (unsigned long long)k);
		r->npages = n;
		r->npunched = k;
		shmc__walk_bit_set(pw->runs, p - (w->data_off >> SHMC__PAGE_SHIFT));
		pw->nruns++;
		return true;
	}
	if (cls == 0 || !(e & SHMC__PM_RUN_START)) {
		/* Carved, or cut from the pool, by a process killed before it
		 * marked the run's first page (see shmc__pages_mark). */
		if (cls > shmc__class_count()) {
			shmc__walk_error(w, "pagemap: page %#llx holds %#x",
					 (unsigned long long)r->off, e);
			return false;
		}
		r->cls = RUN_LEAKED;
		return true;
	}
	cls--;
	if (cls >= shmc__class_count()) {
		shmc__walk_error(w, "pagemap: page %#llx starts no run",
				 (unsigned long long)r->off);
		return false;
	}
	uint64_t n = shmc__class_is_small(cls) ? SHMC__SLAB_PAGES
					       : shmc__class_size(cls) >> SHMC__PAGE_SHIFT;
	/* A run's first page says no more: a slab index there (not 0) would
	 * make every block of the slab unknown to frees. */
	if (e & ~(uint16_t)(SHMC__PM_CLASS_MASK | SHMC__PM_RUN_START)) {
		shmc__walk_error(w, "pagemap: run at %#llx is broken at page 0 (%#x)",
				 (unsigned long long)r->off, e);
		return false;
	}
	if (n > end - p) {
		/* On a live arena, a block at the break may have grown in
		 * place (shmc__alloc_grow) since brk was read: the break,
		 * read again after the first page that says so (acquire:
		 * the grower moved brk first), covers it. */
		atomic_thread_fence(memory_order_acquire);
		uint64_t now = ld_relaxed(&w->a->hdr->brk);
		if (now > w->a->capacity || (now >> SHMC__PAGE_SHIFT) < p ||
		    n > (now >> SHMC__PAGE_SHIFT) - p) {
			shmc__walk_error(w, "pagemap: run at %#llx ends past brk",
					 (unsigned long long)r->off);
			return false;
		}
	}
	for (uint64_t i = 1; i < n; i++) {
		uint16_t x = __atomic_load_n(&pm[p + i], __ATOMIC_RELAXED);
		bool ok = shmc__class_is_small(cls) ? x == ((cls + 1) | i << SHMC__PM_SLAB_IDX_SHIFT)
						     : x == (cls + 1) || x == 0;
		if (!ok) {
			shmc__walk_error(w, "pagemap: run at %#llx is broken at page %llu",
					 (unsigned long long)r->off, (unsigned long long)i);
			return false;
		}
	}
	r->npages = n;
	r->cls = cls;
	return true;
}

static bool pool_run_listed(void *ctx, uint64_t off, uint64_t npages, unsigned bin)
{
	(void)npages;
	(void)bin;
	struct shmc__walk *w = ((void **)ctx)[0];
	struct pool_walk *pw = ((void **)ctx)[1];
	uint64_t i = (off >> SHMC__PAGE_SHIFT) - (w->data_off >> SHMC__PAGE_SHIFT);
	if (!shmc__walk_bit(pw->runs, i)) {
		shmc__walk_error(w, "page pool: a bin lists %#llx, which the pagemap does not show as a free run",
				 (unsigned long long)off);
		return false;
	}
	if (shmc__walk_bit_set(pw->listed, i)) {
		shmc__walk_error(w, "page pool: run %#llx is listed twice",
				 (unsigned long long)off);
		return false;
	}
	return true;
}

__attribute__((format(printf, 2, 3)))
static void pool_error(void *ctx, const char *fmt, ...)
{
	struct shmc__walk *w = ((void **)ctx)[0];
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	shmc__walk_error(w, "%s", msg);
}

/* The page pool: its bins list exactly the free runs the pagemap shows, and
 * its counters match (or are off after a kill: a note, fixed by a sweep). */
static void check_pool(struct shmc__walk *w, struct pool_walk *pw, uint64_t p0,
		       uint64_t p1, bool sweep)
{
	struct shmc__page_pool *pool = &w->a->hdr->pool;
	if (pw->lock < 0)
		shmc__walk_note(w, "page pool: its lock is held by a dead process; the next pool operation rebuilds it%s",
				sweep ? " (rebuilt)" : "");
	if (pw->lock == 0) {
		static const struct shmc__pool_visitor v = {pool_run_listed, pool_error};
		void *ctx[2] = {w, pw};
		if (shmc__pool_visit(w->a, w->brk, pw->nruns, &v, ctx) == 0) {
			for (uint64_t i = 0; i < p1 - p0; i++)
				if (shmc__walk_bit(pw->runs, i) && !shmc__walk_bit(pw->listed, i))
					shmc__walk_error(w, "page pool: free run %#llx is in no bin",
							 (unsigned long long)((p0 + i) << SHMC__PAGE_SHIFT));
		}
	}
	uint64_t fp = ld_relaxed(&pool->free_pages), pp = ld_relaxed(&pool->punched_pages);
	if (pw->lock == 0 && (fp != pw->pages || pp != pw->punched))
		shmc__walk_note(w, "page pool counts %llu free pages, %llu given back; found %llu, %llu",
				(unsigned long long)fp, (unsigned long long)pp,
				(unsigned long long)pw->pages, (unsigned long long)pw->punched);
	w->rep->pool_pages = pw->pages;
	if (sweep && (pw->lock < 0 || fp != pw->pages || pp != pw->punched))
		shmc__pool_repair(w->a);
}

static bool offs_add(struct offs *o, uint64_t off)
{
	if (o->n == o->cap) {
		size_t ncap = o->cap ? 2 * o->cap : 64;
		uint64_t *n = realloc(o->v, ncap * sizeof(uint64_t));
		if (n == NULL)
			return false;
		o->v = n;
		o->cap = ncap;
	}
	o->v[o->n++] = off;
	return true;
}

static void check_allocator(struct shmc__walk *w, bool sweep)
{
	unsigned nclasses = shmc__class_count();
	uint64_t carved[SHMC__NCLASSES] = {0}, freed[SHMC__NCLASSES] = {0};
	uint64_t p0 = w->data_off >> SHMC__PAGE_SHIFT, p1 = w->brk >> SHMC__PAGE_SHIFT;
	struct pool_walk pw = {.lock = shmc__pool_lock_state(w->a)};
	pw.runs = calloc((p1 - p0) / 8 + 1, 1);
	pw.listed = calloc((p1 - p0) / 8 + 1, 1);
	if (pw.runs == NULL || pw.listed == NULL) {
		w->oom = true;
		goto out;
	}
	struct run r;
	for (uint64_t p = p0; p < p1; p += r.npages) {
		if (!run_at(w, &pw, p, p1, &r))
			goto out; /* cannot tell blocks apart any more */
		if (r.cls == RUN_POOL) {
			pw.pages += r.npages;
			pw.punched += r.npunched;
		} else if (r.cls == RUN_LEAKED) {
			w->rep->leaked_pages++;
		} else {
			carved[r.cls] += (r.npages << SHMC__PAGE_SHIFT) / shmc__class_size(r.cls);
		}
	}
	for (unsigned c = 0; c < nclasses; c++) {
		struct shmc__class_head *h = &w->a->hdr->classes[c];
		freed[c] = walk_free_list(w, c, carved[c],
					  ld_acquire((atomic_u64 *)&h->free.AO_val1), "free list");
		freed[c] += walk_free_list(w, c, carved[c], ld_acquire(&h->park),
					   "parked list");
		freed[c] += walk_free_list(w, c, carved[c], ld_acquire(&h->retiring),
					   "retiring list");
		w->rep->free_blocks += freed[c];
	}
	/* Blocks in threads' caches are free, but counted in use by their
	 * class (tcache.c). */
	uint64_t cached[SHMC__TC_CLASSES] = {0};
	uint32_t hwm = ld_acquire(&w->a->hdr->rec_hwm);
	for (uint32_t i = 0; i < hwm && i < w->a->nrecs; i++) {
		struct shmc__rec *rec = shmc__rec_at(w->a, i);
		uint64_t tco;
		struct shmc__tcache *tc = shmc__tcache_of(w->a, rec, &tco);
		if (ld_relaxed(&rec->owner) == 0 || tc == NULL)
			continue;
		for (unsigned c = 0; c < SHMC__TC_CLASSES && c < nclasses; c++)
			cached[c] += walk_free_list(w, c, carved[c], ld_relaxed(&tc->bin[c].head),
						    "thread cache");
	}
	for (unsigned c = 0; c < SHMC__TC_CLASSES && c < nclasses; c++)
		w->rep->free_blocks += cached[c];
	check_pool(w, &pw, p0, p1, sweep);
	/* Every carved block is reachable or free, never both, never neither. */
	for (uint64_t p = p0; p < p1; p += r.npages) {
		run_at(w, &pw, p, p1, &r);
		if (r.cls == RUN_POOL)
			continue;
		if (r.cls == RUN_LEAKED) {
			if (sweep && !offs_add(&pw.lpages, r.off))
				sweep = false;
			continue;
		}
		uint64_t size = shmc__class_size(r.cls);
		uint64_t n = (r.npages << SHMC__PAGE_SHIFT) / size;
		for (uint64_t b = 0; b < n; b++) {
			uint64_t off = r.off + b * size, g = (off - w->data_off) / SHMC__WALK_GRAIN;
			bool reach = shmc__walk_bit(w->reach, g), isfree = shmc__walk_bit(w->freeb, g);
			if (reach && isfree) {
				shmc__walk_error(w, "block %#llx is in use and on a free list",
						 (unsigned long long)off);
			} else if (!reach && !isfree) {
				w->rep->leaked_blocks++;
				w->rep->leaked_bytes += size;
				if (sweep && offs_add(&pw.lblocks, off))
					w->rep->swept_blocks++;
			}
		}
	}
	if (w->rep->leaked_pages)
		shmc__walk_note(w, "%llu pages carved but never used (a killed carve)%s",
				(unsigned long long)w->rep->leaked_pages,
				sweep ? ": given to the page pool" : "");
	if (w->rep->leaked_blocks)
		shmc__walk_note(w, "%llu blocks (%llu bytes) allocated but unreachable%s",
		     (unsigned long long)w->rep->leaked_blocks,
		     (unsigned long long)w->rep->leaked_bytes,
		     sweep ? ": freed" : "");
	for (unsigned c = 0; c < nclasses; c++) {
		struct shmc__class_head *h = &w->a->hdr->classes[c];
		uint64_t in_use = carved[c] - freed[c]; /* cached ones included */
		if (ld_relaxed(&h->carved) != carved[c] || ld_relaxed(&h->in_use) != in_use) {
			shmc__walk_note(w, "class %u counts %llu carved, %llu in use; found %llu, %llu",
			     c, (unsigned long long)ld_relaxed(&h->carved),
			     (unsigned long long)ld_relaxed(&h->in_use),
			     (unsigned long long)carved[c], (unsigned long long)in_use);
			if (sweep) {
				st_relaxed(&h->carved, carved[c]);
				st_relaxed(&h->in_use, in_use);
			}
		}
	}
	/* The counters are right now, counting the leaked blocks in use:
	 * freeing them counts them out, and may send slabs to the pool,
	 * which then gives back what it holds beyond its threshold. */
	for (size_t i = 0; sweep && i < pw.lblocks.n; i++)
		shmc__free(w->a, pw.lblocks.v[i]);
	for (size_t i = 0; sweep && i < pw.lpages.n; i++)
		shmc__pool_put(w->a, &pw.lpages.v[i], 1, 1);
	if (sweep && (pw.lblocks.n || pw.lpages.n))
		shmc__alloc_trim(w->a);
out:
	free(pw.runs);
	free(pw.listed);
	free(pw.lpages.v);
	free(pw.lblocks.v);
}

/* The whole check --------------------------------------------------------------- */

int shmc__check_walk(shmc_arena_t *a, unsigned flags, shmc_check_report_t *rep,
		     shmc_check_fn fn, void *ctx,
		     void (*on_object)(void *octx, uint64_t off), void *octx)
{
	shmc_check_report_t local;
	struct shmc__walk w = {.a = a, .rep = rep ? rep : &local, .fn = fn, .ctx = ctx,
			       .on_object = on_object, .octx = octx};
	memset(w.rep, 0, sizeof(*w.rep));
	if (!check_header(&w))
		return SHMC_ECORRUPT;
	uint64_t grains = (w.brk - w.data_off) / SHMC__WALK_GRAIN;
	w.reach = calloc(grains / 8 + 1, 1);
	w.freeb = calloc(grains / 8 + 1, 1);
	int rc = 0;
	if (w.reach == NULL || w.freeb == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	walk_roots(&w, flags & SHMC_CHECK_REAP);
	walk_objects(&w);
	if (w.oom) {
		rc = -ENOMEM;
		goto out;
	}
	if (on_object) /* a view wants the objects, not the verdict */
		goto out;
	/* Sweeping on a corrupt arena would free what only looks leaked. */
	bool sweep = (flags & SHMC_CHECK_SWEEP) && w.rep->errors == 0;
	check_refs(&w, sweep);
	check_allocator(&w, sweep && w.rep->errors == 0);
	rc = w.oom ? -ENOMEM : w.rep->errors ? SHMC_ECORRUPT : 0;
out:
	free(w.reach);
	free(w.freeb);
	free(w.objs);
	free(w.queue);
	return rc;
}

int shmc_arena_check(shmc_arena_t *a, unsigned flags, shmc_check_report_t *rep,
		     shmc_check_fn fn, void *ctx)
{
	if (!shmc__arena_ok(a))
		return SHMC_EHANDLE;
	return shmc__check_walk(a, flags, rep, fn, ctx, NULL, NULL);
}

int shmc__check_mapping(void *base, uint64_t capacity, int lock_fd,
			shmc_check_report_t *rep, shmc_check_fn fn, void *ctx)
{
	shmc_arena_t a = {0};
	a.base = base;
	a.capacity = capacity;
	a.hdr = base;
	a.fd = -1;
	a.lock_fd = lock_fd;
	a.slot = UINT32_MAX;
	shmc__arena_adopt_limits(&a);
	return shmc__check_walk(&a, 0, rep, fn, ctx, NULL, NULL);
}
