/*
 * semaphore.c -- Semaphore and BoundedSemaphore, with permits that come back
 * from processes that die holding them.
 *
 * Layout of the body:
 *
 *   value      permits available: the futex word acquirers sleep on
 *   sleepers   threads registered as sleeping (sum of the ledger's counts)
 *   total      permits in circulation: value + what the ledger holds
 *   initial    the value given at creation (a BoundedSemaphore's bound)
 *   ledger[]   per process slot: permits held, threads sleeping (sync.h)
 *
 * Everything is changed under the object's owner lock (the header's), which
 * is held only for a few stores, never while sleeping. The ledger entries
 * and `total` are the truth; `value` and `sleepers` are derived from them:
 *
 *   value = total - sum(held)        sleepers = sum(waiting)
 *
 * Each operation orders its stores so that value + sum(held) never exceeds
 * total, even for an instant: a permit is taken out of value before it is
 * entered in the ledger, and out of the ledger before it is put back in
 * value. A process killed with the lock held can thus only have lost a
 * permit in flight, never made one up; repair (below) recomputes the derived
 * words, and the next lock holder goes on.
 *
 *   acquire   value > 0: value -1, then the ledger entry +1.
 *             value == 0: register as a sleeper, unlock, sleep on value.
 *   release   the releaser's own entry -1 if it holds a permit; else another
 *             holder's entry -1 (Python's permits have no owner: a producer
 *             may release what a consumer took); else total +1 (a
 *             BoundedSemaphore refuses: SHMC_EBOUND). Then value +1, and one
 *             sleeper is woken if any is registered.
 *
 * Death. A holder's permits stay counted in its entry after it dies. An
 * acquirer that finds no permit looks for entries of dead processes before
 * it sleeps, and after every nap; it gives their permits back to value,
 * takes one, and returns SHMC_EOWNERDEAD. A sleeper that dies leaves its
 * registration behind, which costs a needless wake-up until it is reaped
 * the same way. A wake-up that went to a sleeper that then timed out or died
 * is passed on by the leaving sleeper, or else recovered by the next nap.
 */
#include <errno.h>
#include <stdio.h>

#include "values/repr.h"
#include "sync/sync.h"
#include "sync/waiter.h"

struct sem_body {
	atomic_u32 value;
	atomic_u32 sleepers;
	atomic_u64 total;
	uint64_t initial;
	uint64_t pad_;
	atomic_u64 ledger[]; /* a->nprocs entries (kind.per_proc) */
};

static inline struct sem_body *body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct sem_body);
}

static inline bool is_sem_kind(unsigned k)
{
	return k == SHMC_KIND_SEMAPHORE || k == SHMC_KIND_BOUNDED_SEMAPHORE;
}

/* A dead process's entry: its permits come back, its sleepers are gone. */
struct reclaim {
	struct sem_body *b;
	uint64_t permits;
};

static void reclaim_fn(void *ctx, uint64_t held, uint32_t waiting)
{
	struct reclaim *r = ctx;
	uint32_t v = ld_relaxed(&r->b->value), s = ld_relaxed(&r->b->sleepers);
	/* The entry was cleared first: value + held stays <= total. */
	st_relaxed(&r->b->value, v + (uint32_t)held);
	st_relaxed(&r->b->sleepers, s > waiting ? s - waiting : 0);
	r->permits += held;
}

static void repair_derived(shmc_arena_t *a, struct sem_body *b)
{
	uint64_t held, waiting, total = ld_relaxed(&b->total);
	shmc__ledger_sums(a, b->ledger, &held, &waiting);
	st_relaxed(&b->value, (uint32_t)(total > held ? total - held : 0));
	st_relaxed(&b->sleepers, (uint32_t)waiting);
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	struct sem_body *b = body(o);
	uint64_t held, waiting;
	shmc__ledger_sums(a, b->ledger, &held, &waiting);
	if (ld_relaxed(&b->total) > UINT32_MAX || held > ld_relaxed(&b->total))
		return SHMC_ECORRUPT;
	repair_derived(a, b);
	return 0;
}

/* Acquiring, through the one waiter (waiter.c) ------------------------------ */

struct acquire {
	shmc_arena_t *a;
	struct shmc__obj *o;
	struct sem_body *b;
	bool dead; /* permits came back from a dead holder */
};

static int acquire_lock(void *ctx, bool probe, atomic_u64 **mine)
{
	struct acquire *q = ctx;
	int rc = shmc__obj_lock(q->a, q->o);
	if (rc)
		return rc;
	struct reclaim r = {q->b, 0};
	*mine = shmc__ledger_mine_locked(q->a, q->b->ledger, reclaim_fn, &r);
	/* No permit left: a dead holder would never release, so reclaim
	 * what it held. */
	if (probe && ld_relaxed(&q->b->value) == 0)
		shmc__ledger_reap_locked(q->a, q->b->ledger, reclaim_fn, &r);
	q->dead |= r.permits != 0;
	return 0;
}

/* Take a permit if there is one (lock held). */
static int acquire_attempt(void *ctx, atomic_u64 *mine, bool expired)
{
	struct acquire *q = ctx;
	uint32_t v = ld_relaxed(&q->b->value);
	if (v == 0)
		return expired ? -ETIMEDOUT : -EAGAIN;
	uint64_t e = ld_relaxed(mine);
	if (shmc__led_held(e) == SHMC__LEDGER_HELD_MASK)
		return -EOVERFLOW;
	st_relaxed(&q->b->value, v - 1);
	shmc__led_put(mine, shmc__ledger_gen(q->a), shmc__led_waiting(e),
		      shmc__led_held(e) + 1);
	return 0;
}

static int acquire_leave(void *ctx, atomic_u64 *mine, int rc)
{
	struct acquire *q = ctx;
	(void)mine;
	/* Leaving without the permit a wake-up may have been meant for: pass
	 * it on. */
	bool pass = rc != 0 && ld_relaxed(&q->b->value) > 0 &&
		    ld_relaxed(&q->b->sleepers) > 0;
	shmc__obj_unlock(q->a, q->o);
	if (pass)
		shmc__futex_wake(&q->b->value, 1);
	if (rc == 0 && q->dead) {
		shmc__count_recovery(q->a);
		return SHMC_EOWNERDEAD;
	}
	return rc;
}

static void acquire_park(void *ctx, uint32_t *seen)
{
	struct acquire *q = ctx;
	*seen = ld_relaxed(&q->b->value); /* 0: sleep until a release */
	shmc__obj_unlock(q->a, q->o);
}

static int sem_acquire(shmc_arena_t *a, struct shmc__obj *o, int64_t deadline)
{
	struct acquire q = {a, o, body(o), false};
	const struct shmc__waiter w = {
		.a = a,
		.ledger = q.b->ledger,
		.sleepers = &q.b->sleepers,
		.word = &q.b->value,
		/* A dead holder keeps its permits until it is reaped. */
		.probe_early = true,
		.lock = acquire_lock,
		.attempt = acquire_attempt,
		.leave = acquire_leave,
		.park = acquire_park,
	};
	return shmc__waiter_run(&w, &q, deadline);
}

static int sem_release(shmc_arena_t *a, struct shmc__obj *o)
{
	struct sem_body *b = body(o);
	int rc = shmc__obj_lock(a, o);
	if (rc)
		return rc;
	struct reclaim r = {b, 0};
	atomic_u64 *mine = shmc__ledger_mine_locked(a, b->ledger, reclaim_fn, &r);
	uint32_t v = ld_relaxed(&b->value);
	uint64_t e = ld_relaxed(mine);
	if (o->kind == SHMC_KIND_BOUNDED_SEMAPHORE && v >= b->initial) {
		rc = SHMC_EBOUND;
		goto out;
	}
	/* The permit leaves the ledger (or total grows) before value grows:
	 * see the essay. */
	if (shmc__led_held(e)) {
		shmc__led_put(mine, shmc__ledger_gen(a), shmc__led_waiting(e),
			      shmc__led_held(e) - 1);
	} else {
		/* Count it against another holder, the lowest slot first. */
		uint32_t s;
		for (s = 0; s < a->nprocs; s++) {
			uint64_t x = ld_relaxed(&b->ledger[s]);
			if (shmc__led_held(x)) {
				shmc__led_put(&b->ledger[s], shmc__led_gen(x),
					      shmc__led_waiting(x), shmc__led_held(x) - 1);
				break;
			}
		}
		if (s == a->nprocs) {
			uint64_t t = ld_relaxed(&b->total);
			if (t >= UINT32_MAX) {
				rc = -EOVERFLOW;
				goto out;
			}
			st_relaxed(&b->total, t + 1);
		}
	}
	st_relaxed(&b->value, v + 1);
out:;
	bool wake = rc == 0 && ld_relaxed(&b->sleepers) > 0;
	shmc__obj_unlock(a, o);
	if (wake)
		shmc__futex_wake(&b->value, 1);
	return rc;
}

/* Kind functions ------------------------------------------------------------ */

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	(void)o;
}

static int sem_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	struct sem_body *b = body(o);
	char buf[128];
	if (o->kind == SHMC_KIND_BOUNDED_SEMAPHORE)
		snprintf(buf, sizeof(buf), "<threading.BoundedSemaphore at %p: value=%u/%llu>",
			 (void *)b, ld_relaxed(&b->value), (unsigned long long)b->initial);
	else
		snprintf(buf, sizeof(buf), "<threading.Semaphore at %p: value=%u>",
			 (void *)b, ld_relaxed(&b->value));
	struct shmc__sbuf sb = {0};
	shmc__sb_puts(&sb, buf);
	return shmc__sb_finish(&sb, out);
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	struct sem_body *b = body(o);
	uint64_t held, waiting, total = ld_relaxed(&b->total);
	shmc__ledger_sums(shmc__walk_arena(w), b->ledger, &held, &waiting);
	/* A process killed mid-way may have lost a permit in flight (repaired
	 * by the next lock holder); it can never have made one up. */
	if (held > total || ld_relaxed(&b->value) > total - held)
		shmc__walk_error(w, "semaphore %#llx: %u available and %llu held of %llu",
				 (unsigned long long)shmc__off(shmc__walk_arena(w), o),
				 ld_relaxed(&b->value), (unsigned long long)held,
				 (unsigned long long)total);
}

const struct shmc__kind shmc__semaphore_kind = {
	.typeid = "Semaphore",
	.proxy = "AcquirerProxy",
	.body_size = sizeof(struct sem_body),
	.per_proc = sizeof(atomic_u64),
	.destroy = destroy,
	.repair = repair,
	.str = sem_str,
	.walk = walk,
};

const struct shmc__kind shmc__bounded_semaphore_kind = {
	.typeid = "BoundedSemaphore",
	.proxy = "AcquirerProxy",
	.body_size = sizeof(struct sem_body),
	.per_proc = sizeof(atomic_u64),
	.destroy = destroy,
	.repair = repair,
	.str = sem_str,
	.walk = walk,
};

/* Public API -------------------------------------------------------------- */

static int sem_new(shmc_arena_t *a, unsigned kind, int64_t value, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	if (value < 0 || value > (int64_t)UINT32_MAX)
		return -EINVAL;
	shmc_obj_t *h;
	int rc = shmc__obj_create(a, kind, &h);
	if (rc)
		return rc;
	struct sem_body *b = body(shmc__obj_of(h));
	b->initial = (uint64_t)value;
	st_relaxed(&b->total, (uint64_t)value);
	st_release(&b->value, (uint32_t)value);
	*out = h;
	return 0;
}

int shmc_semaphore_new(shmc_arena_t *a, int64_t value, shmc_obj_t **out)
{
	return sem_new(a, SHMC_KIND_SEMAPHORE, value, out);
}

int shmc_bounded_semaphore_new(shmc_arena_t *a, int64_t value, shmc_obj_t **out)
{
	return sem_new(a, SHMC_KIND_BOUNDED_SEMAPHORE, value, out);
}

static int resolve_sem(shmc_obj_t *h, struct shmc__obj **o)
{
	int rc = shmc__resolve(h, 0, o);
	if (rc == 0 && !is_sem_kind((*o)->kind))
		rc = SHMC_EKIND;
	return rc;
}

int shmc_semaphore_acquire(shmc_obj_t *h, double timeout)
{
	struct shmc__obj *o;
	int64_t deadline;
	int rc = resolve_sem(h, &o);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	return sem_acquire(shmc__handle_arena(h), o, deadline);
}

int shmc_semaphore_release(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = resolve_sem(h, &o);
	return rc ? rc : sem_release(shmc__handle_arena(h), o);
}

int64_t shmc_semaphore_value(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = resolve_sem(h, &o);
	return rc ? rc : (int64_t)ld_relaxed(&body(o)->value);
}

int64_t shmc__sem_sleepers(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = resolve_sem(h, &o);
	return rc ? rc : (int64_t)ld_relaxed(&body(o)->sleepers);
}

/* Snapshot (lifecycle/save.c) --------------------------------------------- */

int64_t shmc__semaphore_initial(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = resolve_sem(h, &o);
	if (rc)
		return rc;
	uint64_t v = body(o)->initial; /* written once, before the handle was shared */
	return v > UINT32_MAX ? SHMC_ECORRUPT : (int64_t)v;
}
