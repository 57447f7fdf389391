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
#include "objects/walk.h"
#include "values/venc.h"

#define GRAIN 16 /* bitmaps have a bit per 16 bytes of the data region */

struct objent {
	uint64_t off; /* 0: empty */
	uint64_t found;
};

struct shmc__walk {
	shmc_arena_t *a;
	uint64_t data_off, brk;
	uint8_t *reach, *freeb; /* bitmaps over [data_off, brk) */
	struct objent *objs;    /* open addressing on off */
	size_t nobjs, capobjs;
	uint64_t *queue;
	size_t qhead, qtail, qcap;
	bool oom;
	shmc_check_report_t *rep;
	shmc_check_fn fn;
	void *ctx;
	void (*on_object)(void *octx, uint64_t off); /* views: each object */
	void *octx;
};

shmc_arena_t *shmc__walk_arena(struct shmc__walk *w)
{
	return w->a;
}

__attribute__((format(printf, 2, 0)))
static void say(struct shmc__walk *w, const char *fmt, va_list ap)
{
	if (w->fn == NULL)
		return;
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	w->fn(w->ctx, msg);
}

void shmc__walk_error(struct shmc__walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	w->rep->errors++;
	say(w, fmt, ap);
	va_end(ap);
}

/* A finding that is not a broken invariant (a leak, a dead process). */
static void note(struct shmc__walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct shmc__walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(w, fmt, ap);
	va_end(ap);
}

static inline bool bit_test_set(uint8_t *map, uint64_t i)
{
	bool was = map[i >> 3] & (1u << (i & 7));
	map[i >> 3] |= (uint8_t)(1u << (i & 7));
	return was;
}

static inline bool bit_test(const uint8_t *map, uint64_t i)
{
	return map[i >> 3] & (1u << (i & 7));
}

bool shmc__walk_block(struct shmc__walk *w, uint64_t off, uint64_t size,
		      const char *what)
{
	/* Only blocks below the brk read at the start have bits (a live
	 * arena may grow while it is walked). */
	if (off < w->data_off || off >= w->brk) {
		shmc__walk_error(w, "%s at %#llx is outside the carved region", what,
				 (unsigned long long)off);
		return false;
	}
	uint64_t bs = shmc__block_size(w->a, off);
	if (bs == 0) {
		shmc__walk_error(w, "%s at %#llx is not a block", what,
				 (unsigned long long)off);
		return false;
	}
	if (bs < size) {
		shmc__walk_error(w, "%s at %#llx needs %llu bytes, its block has %llu",
				 what, (unsigned long long)off,
				 (unsigned long long)size, (unsigned long long)bs);
		return false;
	}
	if (bit_test_set(w->reach, (off - w->data_off) / GRAIN)) {
		shmc__walk_error(w, "%s at %#llx is reached twice", what,
				 (unsigned long long)off);
		return false;
	}
	w->rep->blocks++;
	return true;
}

/* The entry for object OFF, inserted if new (NULL when out of memory). */
static struct objent *obj_entry(struct shmc__walk *w, uint64_t off, bool *isnew)
{
	if (w->nobjs * 2 >= w->capobjs) {
		size_t ncap = w->capobjs ? 2 * w->capobjs : 1024;
		struct objent *n = calloc(ncap, sizeof(*n));
		if (n == NULL) {
			w->oom = true;
			return NULL;
		}
		for (size_t i = 0; i < w->capobjs; i++) {
			if (w->objs[i].off == 0)
				continue;
			size_t j = (w->objs[i].off >> 4) & (ncap - 1);
			while (n[j].off)
				j = (j + 1) & (ncap - 1);
			n[j] = w->objs[i];
		}
		free(w->objs);
		w->objs = n;
		w->capobjs = ncap;
	}
	size_t j = (off >> 4) & (w->capobjs - 1);
	while (w->objs[j].off && w->objs[j].off != off)
		j = (j + 1) & (w->capobjs - 1);
	*isnew = w->objs[j].off == 0;
	if (*isnew) {
		w->objs[j].off = off;
		w->nobjs++;
	}
	return &w->objs[j];
}

void shmc__walk_ref(struct shmc__walk *w, uint64_t off, const char *what)
{
	struct shmc__obj *o = shmc__at(w->a, off, sizeof(struct shmc__obj), 16);
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC || !shmc__kind_of(o->kind)) {
		shmc__walk_error(w, "%s refers to %#llx, which is not an object", what,
				 (unsigned long long)off);
		return;
	}
	bool isnew;
	struct objent *e = obj_entry(w, off, &isnew);
	if (e == NULL)
		return;
	e->found++;
	if (!isnew)
		return;
	if (w->qtail == w->qcap) {
		size_t ncap = w->qcap ? 2 * w->qcap : 1024;
		uint64_t *q = realloc(w->queue, ncap * sizeof(uint64_t));
		if (q == NULL) {
			w->oom = true;
			return;
		}
		w->queue = q;
		w->qcap = ncap;
	}
	w->queue[w->qtail++] = off;
}

static void ref_fn(void *ctx, uint64_t obj)
{
	shmc__walk_ref(ctx, obj, "a stored value");
}

static void walk_value_block(struct shmc__walk *w, uint64_t off, const char *what)
{
	uint64_t size;
	if (!shmc__vblock_visit(w->a, off, &size, NULL, NULL)) {
		shmc__walk_error(w, "%s: value block at %#llx is malformed", what,
				 (unsigned long long)off);
		return;
	}
	if (shmc__walk_block(w, off, size, what))
		shmc__vblock_visit(w->a, off, &size, ref_fn, w);
}

void shmc__walk_word(struct shmc__walk *w, uint64_t word, const char *what)
{
	if (shmc__w_is_int(word) || word == SHMC__W_NONE || word == SHMC__W_TRUE ||
	    word == SHMC__W_FALSE)
		return;
	if (shmc__w_is_ref(word))
		shmc__walk_ref(w, shmc__w_ref_off(word), what);
	else if (shmc__w_is_block(word))
		walk_value_block(w, word, what);
	else
		shmc__walk_error(w, "%s holds %#llx, which is not a value", what,
				 (unsigned long long)word);
}

void shmc__walk_body(struct shmc__walk *w, uint64_t off)
{
	if (shmc__list_walk_body(w, off) != 0 && shmc__dict_walk_body(w, off) != 0)
		shmc__walk_error(w, "retired body at %#llx is neither an array nor a table",
				 (unsigned long long)off);
}

static void limbo_item(struct shmc__walk *w, uint64_t what)
{
	uint64_t off = what & ~(uint64_t)SHMC__RETIRE_TAG_MASK;
	switch (what & SHMC__RETIRE_TAG_MASK) {
	case SHMC__RETIRE_FREE:
		shmc__walk_block(w, off, 1, "retired block");
		break;
	case SHMC__RETIRE_VALUE:
		walk_value_block(w, off, "retired value");
		break;
	case SHMC__RETIRE_DECREF:
		shmc__walk_ref(w, off, "retired reference");
		break;
	case SHMC__RETIRE_BODY:
		shmc__walk_body(w, off);
		break;
	default:
		shmc__walk_error(w, "retire queue holds %#llx, which is not an item",
				 (unsigned long long)what);
	}
}

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
	if (ld_relaxed(&h->rec_hwm) > SHMC__MAX_RECS)
		shmc__walk_error(w, "header: %u epoch records claimed of %u",
				 ld_relaxed(&h->rec_hwm), SHMC__MAX_RECS);
	w->data_off = h->data_off;
	w->brk = brk;
	return true;
}

/* 2-4. Roots ----------------------------------------------------------------- */

static void walk_roots(struct shmc__walk *w, bool reap)
{
	shmc_arena_t *a = w->a;
	for (uint32_t s = 0; s < SHMC__MAX_PROCS; s++) {
		struct shmc__proc *p = shmc__proc_at(a, s);
		uint32_t state = ld_acquire(&p->state);
		if (state == SHMC__PROC_FREE)
			continue;
		if (state != SHMC__PROC_LIVE) {
			shmc__walk_error(w, "process slot %u has state %#x", s, state);
			continue;
		}
		if (a->lock_fd >= 0 && !shmc__proc_alive(a, s)) {
			if (reap) {
				shmc__proc_reap_if_dead(a, s);
				if (ld_acquire(&p->state) == SHMC__PROC_FREE) {
					w->rep->reaped++;
					continue;
				}
			}
			w->rep->dead_processes++;
			note(w, "process slot %u (pid %u) belongs to a dead process", s,
			     ld_relaxed(&p->pid));
		}
		shmc__handles_visit(w, s);
	}
	uint32_t hwm = ld_acquire(&a->hdr->rec_hwm);
	for (uint32_t i = 0; i < hwm && i < SHMC__MAX_RECS; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		uint32_t owner = ld_relaxed(&r->owner);
		if (owner == 0)
			continue;
		if (owner > SHMC__MAX_PROCS)
			shmc__walk_error(w, "epoch record %u has owner %u", i, owner);
		shmc__limbo_visit(w, r, limbo_item);
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
		if (!shmc__walk_block(w, off, sizeof(*o) + k->body_size, k->typeid))
			continue;
		if (w->on_object)
			w->on_object(w->octx, off);
		k->walk(w, o);
	}
}

static void check_refs(struct shmc__walk *w, bool sweep)
{
	for (size_t i = 0; i < w->capobjs; i++) {
		struct objent *e = &w->objs[i];
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
			note(w, "object %#llx counts %llu references, %llu exist (leaked)",
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
		if (bit_test_set(w->freeb, (off - w->data_off) / GRAIN)) {
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
			uint64_t off = r.off + b * size, g = (off - w->data_off) / GRAIN;
			bool reach = bit_test(w->reach, g), isfree = bit_test(w->freeb, g);
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
		note(w, "%llu pages carved but never used (a killed carve)",
		     (unsigned long long)leaked_pages);
	if (w->rep->leaked_blocks)
		note(w, "%llu blocks (%llu bytes) allocated but unreachable%s",
		     (unsigned long long)w->rep->leaked_blocks,
		     (unsigned long long)w->rep->leaked_bytes,
		     sweep ? ": freed" : "");
	for (unsigned c = 0; c < nclasses; c++) {
		struct shmc__class_head *h = &w->a->hdr->classes[c];
		uint64_t in_use = carved[c] - freed[c];
		if (ld_relaxed(&h->carved) != carved[c] || ld_relaxed(&h->in_use) != in_use) {
			note(w, "class %u counts %llu carved, %llu in use; found %llu, %llu",
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
	uint64_t grains = (w.brk - w.data_off) / GRAIN;
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
	return shmc__check_walk(&a, 0, rep, fn, ctx, NULL, NULL);
}

int shmc_check_file(const char *name, shmc_check_report_t *rep,
		    shmc_check_fn fn, void *ctx)
{
	if (rep) /* a refused file reports nothing walked */
		memset(rep, 0, sizeof(*rep));
	shmc_view_t *v;
	int rc = shmc_view_open(name, &v); /* read-only, not attached */
	if (rc)
		return rc;
	rc = shmc__check_walk(shmc__view_arena(v), 0, rep, fn, ctx, NULL, NULL);
	shmc_view_close(v);
	return rc;
}
