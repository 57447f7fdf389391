/*
 * obj.c -- managed objects: creation, handles, reference counts, the
 * owner lock, consistent snapshots, and disposal of retired items.
 *
 * Lifetime. An object is freed when its reference count reaches zero: no
 * container, plain value or directory refers to it, and no process holds a
 * handle. A stored reference is dropped only after a grace period (it is
 * retired as SHMC__RETIRE_DECREF), so a reader that found the reference
 * inside an epoch section can always take a reference of its own. Once the
 * count reaches zero nothing can reach the object, so it is destroyed at
 * once; destroying it drops what it holds, which may destroy more objects:
 * those are queued on a per-thread worklist instead of recursing.
 *
 * The writer lock is an owner lock (olock.c): a futex word holding the
 * owner's token. When a waiter finds the owner dead, it takes the lock over
 * and runs the kind's repair function, which makes the object consistent
 * (or verifies that it is), and closes the sequence lock before going on. If
 * repair fails the object is marked broken and every later operation on it
 * reports SHMC_ECORRUPT.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "memory/alloc.h"
#include "base/heap.h"
#include "objects/obj.h"
#include "values/venc.h"

/* Handles ----------------------------------------------------------------- */

/* A handle for OFF, whose reference the caller already holds. On failure
 * the reference is the caller's to drop. */
static int new_handle(shmc_arena_t *a, uint64_t off, unsigned kind,
		      shmc_obj_t **out)
{
	uint32_t slot;
	int rc = shmc__handle_add(a, off, &slot);
	if (rc)
		return rc;
	if ((rc = shmc__htab_add(a, off, kind, slot, 0, out)) != 0)
		shmc__handle_remove(a, slot);
	return rc;
}

int shmc__obj_create(shmc_arena_t *a, unsigned kind, shmc_obj_t **out)
{
	const struct shmc__kind *k = shmc__kind_of(kind);
	SHMC_ASSERT(k != NULL);
	uint64_t off;
	uint64_t size = shmc__kind_size(a, k);
	int rc = shmc__alloc(a, size, &off);
	if (rc)
		return rc;
	struct shmc__obj *o = (struct shmc__obj *)(a->base + off);
	memset(o, 0, size);
	o->kind = (uint16_t)kind;
	o->id = atomic_fetch_add_explicit(&a->hdr->next_id, 1, memory_order_relaxed);
	st_relaxed(&o->refs, 1);
	o->magic = SHMC__OBJ_MAGIC;
	if ((rc = new_handle(a, off, kind, out)) != 0)
		shmc__free(a, off);
	return rc;
}

int shmc__obj_wrap(shmc_arena_t *a, uint64_t off, shmc_obj_t **out)
{
	struct shmc__obj *o = shmc__at(a, off, sizeof(struct shmc__obj), 16);
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC || !shmc__kind_of(o->kind))
		return SHMC_ECORRUPT;
	/* Take a reference only if the object is still alive. */
	uint64_t n = ld_relaxed(&o->refs);
	do {
		if (n == 0)
			return SHMC_ECORRUPT;
	} while (!atomic_compare_exchange_weak_explicit(
		&o->refs, &n, n + 1, memory_order_acquire, memory_order_relaxed));
	int rc = new_handle(a, off, o->kind, out);
	if (rc)
		shmc__obj_decref(a, off);
	return rc;
}

int shmc__obj_stub(shmc_arena_t *a, uint64_t off, shmc_obj_t **out)
{
	struct shmc__obj *o = shmc__at(a, off, sizeof(struct shmc__obj), 16);
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC || !shmc__kind_of(o->kind))
		return SHMC_ECORRUPT;
	return shmc__htab_add(a, off, o->kind, UINT32_MAX, SHMC__HENT_STUB, out);
}

/* Reference counts -------------------------------------------------------- */

void shmc__obj_incref(shmc_arena_t *a, uint64_t off)
{
	struct shmc__obj *o = shmc__at(a, off, sizeof(struct shmc__obj), 16);
	if (o && o->magic == SHMC__OBJ_MAGIC)
		atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
}

static void destroy(shmc_arena_t *a, uint64_t off)
{
	struct shmc__obj *o = (struct shmc__obj *)(a->base + off);
	const struct shmc__kind *k = shmc__kind_of(o->kind);
	if (k)
		k->destroy(a, o);
	o->magic = 0;
	shmc__free(a, off);
}

/* Objects whose count reached zero while this thread was destroying others. */
static _Thread_local struct {
	uint64_t *off;
	size_t n, cap;
	bool draining;
} doomed;

void shmc__obj_decref(shmc_arena_t *a, uint64_t off)
{
	struct shmc__obj *o = shmc__at(a, off, sizeof(struct shmc__obj), 16);
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC)
		return;
	/* Release: our uses of the object happen before its destruction. */
	uint64_t n = atomic_fetch_sub_explicit(&o->refs, 1, memory_order_release);
	if (n != 1) {
		if (n == 0) /* corrupt count: put it back, leak the object */
			atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
		return;
	}
	atomic_thread_fence(memory_order_acquire); /* pairs with the release */
#ifdef SHMC_TSAN
	/* TSan does not model fences: the same acquire, as a load of the
	 * count (the last value of the release sequence of every decref). */
	(void)ld_acquire(&o->refs);
#endif
	if (doomed.draining) {
		if (doomed.n == doomed.cap) {
			size_t ncap = doomed.cap ? 2 * doomed.cap : 64;
			uint64_t *p = shmc__heap_realloc(doomed.off, ncap * sizeof(uint64_t));
			if (p == NULL) {
				destroy(a, off); /* recurse rather than leak */
				return;
			}
			doomed.off = p;
			doomed.cap = ncap;
		}
		doomed.off[doomed.n++] = off;
		return;
	}
	doomed.draining = true;
	destroy(a, off);
	while (doomed.n)
		destroy(a, doomed.off[--doomed.n]);
	doomed.draining = false;
}

void shmc__obj_dispose(shmc_arena_t *a, uint64_t what)
{
	uint64_t off = what & ~(uint64_t)SHMC__RETIRE_TAG_MASK;
	switch (what & SHMC__RETIRE_TAG_MASK) {
	case SHMC__RETIRE_FREE:
		shmc__free(a, off);
		break;
	case SHMC__RETIRE_VALUE:
		shmc__vblock_drop(a, off);
		break;
	case SHMC__RETIRE_DECREF:
		shmc__obj_decref(a, off);
		break;
	case SHMC__RETIRE_BODY: {
		/* The body's first word says which kind's it is. */
		const struct shmc__kind *k = shmc__kind_of_body(a, off);
		if (k && k->body_drop)
			k->body_drop(a, off);
		break; /* not a known body: leak it */
	}
	default:
		break; /* corrupt entry: leak it */
	}
}

/* The writer lock --------------------------------------------------------- */

/* Called holding the lock taken from a dead owner. */
static int recover(shmc_arena_t *a, struct shmc__obj *o)
{
	const struct shmc__kind *k = shmc__kind_of(o->kind);
	if (k == NULL || k->repair(a, o) != 0) {
		atomic_fetch_or(&o->flags, SHMC__OBJ_BROKEN);
		shmc__obj_unlock(a, o);
		return SHMC_ECORRUPT;
	}
	uint64_t s = ld_relaxed(&o->seq);
	if (s & 1) { /* the dead writer's change is now complete or undone */
		st_release(&o->seq, s + 1);
		if (ld_relaxed(&o->watch)) {
			shmc__watch_wake_obj(o);
			shmc__watch_wake_key(a, o, SHMC__WATCH_ALL_KEYS);
		}
	}
	atomic_fetch_add_explicit(&a->hdr->lock_recoveries, 1, memory_order_relaxed);
	return 0;
}

/* What an acquire returned, turned into 0 (held) or an error (not held). */
static int after_acquire(shmc_arena_t *a, struct shmc__obj *o, int rc)
{
	if (rc == SHMC__LOCKED_OWNER_DIED)
		rc = recover(a, o);
	else if (rc != SHMC__LOCKED)
		return rc;
	if (rc == 0 && (ld_relaxed(&o->flags) & SHMC__OBJ_BROKEN)) {
		shmc__obj_unlock(a, o);
		return SHMC_ECORRUPT;
	}
	return rc;
}

int shmc__obj_lock_slow(shmc_arena_t *a, struct shmc__obj *o)
{
	return after_acquire(a, o,
			     shmc__olock_acquire_marked(a, &o->lock, -1, shmc__obj_mark(o)));
}

/* Writer and reader frames ------------------------------------------------ */

int shmc__writer_enter(shmc_obj_t *h, unsigned kind, uint64_t nretire,
		       struct shmc__writer *w)
{
	struct shmc__obj *o;
	shmc_arena_t *a;
	int rc = shmc__resolve_in(h, kind, &a, &o);
	return rc ? rc : shmc__writer_begin(a, o, nretire, w);
}

/* Snapshots ----------------------------------------------------------------- */

#define OPTIMISTIC_TRIES 8

int shmc__obj_snapshot(shmc_arena_t *a, struct shmc__obj *o, shmc__snap_fn fn,
		       void (*reset)(void *ctx), void *ctx)
{
	int rc;
	struct shmc__rec *r = shmc__rec(a, &rc);
	if (r == NULL)
		return rc;
	for (int attempt = 0; attempt < OPTIMISTIC_TRIES; attempt++) {
		uint64_t s = ld_acquire(&o->seq);
		if (s & 1) {
			/* A writer is mid-change. If it died, trying the lock
			 * hands it to us to repair; if it lives, let it run. */
			rc = after_acquire(a, o, shmc__olock_acquire_marked(a, &o->lock, 0,
									  shmc__obj_mark(o)));
			if (rc == 0)
				shmc__obj_unlock(a, o);
			else if (rc == -EAGAIN)
				sched_yield();
			else
				return rc;
			continue;
		}
		shmc__epoch_enter(a, r);
		rc = fn(a, o, ctx);
		shmc__epoch_exit(r);
		/* Pairs with the release fence in shmc__write_begin(). */
		atomic_thread_fence(memory_order_acquire);
		if (ld_relaxed(&o->seq) == s)
			return rc;
		if (rc == 0)
			reset(ctx);
	}
	/* Writers keep interfering: read under their lock (a live holder
	 * finishes soon; a dead one is repaired by shmc__obj_lock). */
	if ((rc = shmc__obj_lock(a, o)) != 0)
		return rc;
	shmc__epoch_enter(a, r);
	rc = fn(a, o, ctx);
	shmc__epoch_exit(r);
	shmc__obj_unlock(a, o);
	return rc;
}

/* Public: common operations ------------------------------------------------- */

shmc_kind_t shmc_obj_kind(const shmc_obj_t *h)
{
	struct shmc__obj *o;
	return shmc__resolve(h, 0, &o) == 0 ? (shmc_kind_t)o->kind : 0;
}

shmc_arena_t *shmc_obj_arena(const shmc_obj_t *h)
{
	struct shmc__obj *o;
	shmc_arena_t *a;
	return shmc__resolve_in(h, 0, &a, &o) == 0 ? a : NULL;
}

int shmc_obj_dup(shmc_obj_t *h, shmc_obj_t **out)
{
	struct shmc__obj *o;
	shmc_arena_t *a;
	int rc = shmc__resolve_in(h, 0, &a, &o);
	if (rc)
		return rc;
	if (out == NULL)
		return -EINVAL;
	uint64_t off = shmc__off(a, o);
	shmc__obj_incref(a, off);
	if ((rc = new_handle(a, off, o->kind, out)) != 0)
		shmc__obj_decref(a, off);
	return rc;
}

void shmc_obj_release(shmc_obj_t *h)
{
	/* Only the one call that ends the handle's life drops what it held:
	 * a second release, or one after the arena was closed, finds it
	 * ended and does nothing. */
	struct shmc__hview v;
	if (!shmc__htab_end(h, &v) || v.stub)
		return;
	shmc__handle_remove(v.a, v.slot);
	shmc__obj_decref(v.a, v.off);
}

bool shmc_obj_same(const shmc_obj_t *a, const shmc_obj_t *b)
{
	return shmc__htab_same(a, b);
}

int shmc_obj_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	if (out == NULL)
		return -EINVAL;
	const struct shmc__kind *k = shmc__kind_of(o->kind);
	return k ? k->str(h, out) : SHMC_ECORRUPT;
}

int shmc_obj_print(shmc_obj_t *h, FILE *f)
{
	char *s;
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	if (f == NULL)
		return -EINVAL;
	rc = shmc_obj_str(h, &s);
	if (rc)
		return rc;
	rc = fprintf(f, "%s\n", s) < 0 ? -EIO : 0;
	shmc_free(s);
	return rc;
}
