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
 *   6. the allocator: the pagemap's runs, each free list (bounded by the
 *      number of blocks carved, so a cycle ends the walk), and then every
 *      carved block, which must be exactly one of reachable or free.
 * Reference counts are then compared with the references found.
 *
 * Everything read from the arena is untrusted: offsets go through the
 * checked accessor, every loop is bounded by a size validated first, and
 * the walk uses explicit queues, not recursion, for objects. A corrupt arena
 * yields error reports, never a crash or a hang.
 *
 * Sweeping (SHMC_CHECK_SWEEP) frees what is allocated but unreachable --
 * blocks a killed process had allocated and not yet published, or had
 * unlinked and not yet retired -- and sets counts to what was found. It is
 * only correct while no other process is in the middle of an operation.
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
#include "objects/obj.h"
#include "arena/proc.h"
#include "inspect/inspect.h"
#include "values/venc.h"

/* 1. Header ---------------------------------------------------------------- */

static bool check_header(struct shmc__walk *w)
{
	struct shmc__hdr *h = w->a->hdr;
	uint64_t committed = ld_relaxed(&h->committed), brk = ld_relaxed(&h->brk);
	if (h->data_off >= w->a->capacity || brk < h->data_off || brk > committed ||
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
	w->data_off = h->data_off;
	w->brk = brk;
	return true;
}

/* 2-4. Roots ----------------------------------------------------------------- */

static void walk_roots(struct shmc__walk *w, bool reap)
{
	shmc_arena_t *a = w->a;
	for (uint32_t s = 0; s < a->nprocs; s++) {
		struct shmc__proc *p = shmc__proc_at(a, s);
		uint32_t state = ld_acquire(&p->state);
		if (state == SHMC__PROC_FREE)
			continue;
		if (state != SHMC__PROC_LIVE) {
			shmc__walk_error(w, "process slot %u has state %#x", s, state);
			continue;
		}
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

/* Walk free list CLS, bounded by the blocks carved for it. */
static uint64_t walk_free_list(struct shmc__walk *w, unsigned cls, uint64_t carved)
{
	struct shmc__class_head *h = &w->a->hdr->classes[cls];
	uint64_t off = ld_acquire((atomic_u64 *)&h->free.AO_val1), n = 0;
	while (off) {
		if (n > carved) {
			shmc__walk_error(w, "free list of class %u is longer than the %llu blocks carved",
					 cls, (unsigned long long)carved);
			break;
		}
		if (off >= w->brk || shmc__block_class(w->a, off) != (int)cls) {
			shmc__walk_error(w, "free list of class %u holds %#llx, not a block of it",
					 cls, (unsigned long long)off);
			break;
		}
		if (shmc__walk_bit_set(w->freeb, (off - w->data_off) / SHMC__WALK_GRAIN)) {
			shmc__walk_error(w, "free list of class %u holds %#llx twice (a cycle)",
					 cls, (unsigned long long)off);
			break;
		}
		n++;
		off = ld_relaxed((atomic_u64 *)(w->a->base + off));
	}
	return n;
}

struct run {
	uint64_t off, npages;
	unsigned cls;
};

/* The run starting at page P, or false (with a report) if malformed. */
static bool run_at(struct shmc__walk *w, uint64_t p, uint64_t end, struct run *r)
{
	const uint16_t *pm = (const uint16_t *)shmc__pagemap(w->a);
	uint16_t e = __atomic_load_n(&pm[p], __ATOMIC_RELAXED);
	unsigned cls = e & SHMC__PM_CLASS_MASK;
	if (cls == 0) {
		r->cls = UINT32_MAX; /* carved but never marked: a killed carve */
		r->off = p << SHMC__PAGE_SHIFT;
		r->npages = 1;
		return true;
	}
	cls--;
	if (!(e & SHMC__PM_RUN_START) || cls >= shmc__class_count()) {
		shmc__walk_error(w, "pagemap: page %#llx starts no run",
				 (unsigned long long)(p << SHMC__PAGE_SHIFT));
		return false;
	}
	uint64_t n = shmc__class_is_small(cls) ? SHMC__SLAB_PAGES
					       : shmc__class_size(cls) >> SHMC__PAGE_SHIFT;
	if (n > end - p) {
		shmc__walk_error(w, "pagemap: run at %#llx ends past brk",
				 (unsigned long long)(p << SHMC__PAGE_SHIFT));
		return false;
	}
	for (uint64_t i = 1; i < n; i++) {
		uint16_t x = __atomic_load_n(&pm[p + i], __ATOMIC_RELAXED);
		bool ok = shmc__class_is_small(cls) ? x == (cls + 1)
						     : x == (cls + 1) || x == 0;
		if (!ok) {
			shmc__walk_error(w, "pagemap: run at %#llx is broken at page %llu",
					 (unsigned long long)(p << SHMC__PAGE_SHIFT),
					 (unsigned long long)i);
			return false;
		}
	}
	r->off = p << SHMC__PAGE_SHIFT;
	r->npages = n;
	r->cls = cls;
	return true;
}

static void check_allocator(struct shmc__walk *w, bool sweep)
{
	unsigned nclasses = shmc__class_count();
	uint64_t carved[SHMC__NCLASSES] = {0}, freed[SHMC__NCLASSES] = {0};
	uint64_t p0 = w->data_off >> SHMC__PAGE_SHIFT, p1 = w->brk >> SHMC__PAGE_SHIFT;
	struct run r;
	for (uint64_t p = p0; p < p1; p += r.npages) {
		if (!run_at(w, p, p1, &r))
			return; /* cannot tell blocks apart any more */
		if (r.cls != UINT32_MAX)
			carved[r.cls] += (r.npages << SHMC__PAGE_SHIFT) / shmc__class_size(r.cls);
	}
	for (unsigned c = 0; c < nclasses; c++)
		w->rep->free_blocks += freed[c] = walk_free_list(w, c, carved[c]);
	/* Every carved block is reachable or free, never both, never neither. */
	uint64_t leaked_pages = 0;
	for (uint64_t p = p0; p < p1; p += r.npages) {
		run_at(w, p, p1, &r);
		if (r.cls == UINT32_MAX) {
			leaked_pages++;
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
				if (sweep) {
					shmc__free(w->a, off);
					w->rep->swept_blocks++;
					freed[r.cls]++;
				}
			}
		}
	}
	if (leaked_pages)
		shmc__walk_note(w, "%llu pages carved but never used (a killed carve)",
		     (unsigned long long)leaked_pages);
	if (w->rep->leaked_blocks)
		shmc__walk_note(w, "%llu blocks (%llu bytes) allocated but unreachable%s",
		     (unsigned long long)w->rep->leaked_blocks,
		     (unsigned long long)w->rep->leaked_bytes,
		     sweep ? ": freed" : "");
	for (unsigned c = 0; c < nclasses; c++) {
		struct shmc__class_head *h = &w->a->hdr->classes[c];
		uint64_t in_use = carved[c] - freed[c];
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
	rc = w.rep->errors ? SHMC_ECORRUPT : 0;
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
