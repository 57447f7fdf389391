/*
 * lock.c -- Lock and RLock: Python's manager.Lock() and RLock().
 *
 * Layout: the body is one owner lock (olock.h) and, for an RLock, its
 * recursion count:
 *
 *   lk.word   0 free; else the holder's token (slot + generation), with
 *             the WAITERS bit when someone may sleep on it -- a futex word
 *   lk.tid    the holding thread (an RLock's owner is a thread)
 *   count     RLock only: recursion level, touched only by the owner thread
 *
 * Acquiring is the owner lock's compare-and-swap and releasing a Lock an
 * exchange: one atomic store each, so there is nothing to repair. A free
 * Lock is taken, and a Lock released, by the public calls themselves
 * (shmc_lock_acquire/release): no deadline, no call below them. Waiting
 * spins, then sleeps on the word in bounded naps (olock.c); a release
 * wakes one sleeper.
 *
 * Death. A holder that dies leaves its token in the word. The next acquirer
 * that finds the token dead (the slot's kernel-held lock is free, or the
 * slot has a newer generation) swaps its own token in with one
 * compare-and-swap and is told SHMC_EOWNERDEAD: it holds the lock, and what
 * the lock protected may be half changed. An RLock's count belongs to its
 * owner, so the new owner simply sets it to 1.
 *
 * Python's rules: a Lock may be released by any process or thread (only an
 * unlocked Lock cannot be released); an RLock only by the thread that owns
 * it. A thread acquiring a Lock it already holds waits, as in Python, for
 * another thread or process to release it (the hand-off: one acquires,
 * another releases), within its timeout: the owner lock refuses such an
 * acquire at once (-EDEADLK), so self_wait() marks the word and naps on it
 * until it changes hands. Only a wait without a timeout, which no one may
 * ever end, gets -EDEADLK instead.
 */
#include <errno.h>
#include <stdio.h>

#include "values/repr.h"
#include "sync/sync.h"

struct lock_body {
	struct shmc__olock lk;
	atomic_u32 count; /* RLock recursion level */
	uint32_t pad_;
};

static inline struct lock_body *body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct lock_body);
}

static inline bool is_lock_kind(unsigned k)
{
	return k == SHMC_KIND_LOCK || k == SHMC_KIND_RLOCK;
}

/* Whether this thread owns RLock B. The tid is stored after the word by the
 * acquirer, so a thread that sees its own token but another tid (or 0) is
 * looking at a lock another thread of its process holds or is taking. */
static bool rlock_owned(shmc_arena_t *a, struct lock_body *b)
{
	uint32_t w = ld_relaxed(&b->lk.word) & ~SHMC__OLOCK_WAITERS;
	return w == shmc__token(a) && ld_relaxed(&b->lk.tid) == shmc__tid();
}

bool shmc__lock_mine(shmc_arena_t *a, struct shmc__obj *l)
{
	struct lock_body *b = body(l);
	if (l->kind == SHMC_KIND_RLOCK)
		return rlock_owned(a, b);
	return (ld_relaxed(&b->lk.word) & ~SHMC__OLOCK_WAITERS) == shmc__token(a);
}

/* Turn what shmc__olock_acquire() said into our codes. */
static int acquired(shmc_arena_t *a, struct lock_body *b, bool rlock, int rc)
{
	switch (rc) {
	case SHMC__LOCKED:
		if (rlock)
			st_relaxed(&b->count, 1);
		return 0;
	case SHMC__LOCKED_OWNER_DIED:
		if (rlock)
			st_relaxed(&b->count, 1);
		shmc__count_recovery(a);
		return SHMC_EOWNERDEAD;
	case -EAGAIN:
		return -ETIMEDOUT;
	default:
		return rc; /* -ETIMEDOUT, -EDEADLK */
	}
}

/* This thread holds Lock B and acquires it again, before DEADLINE (not
 * -1): wait for another thread or process to release it, then take it as
 * any acquirer would. @return as shmc__olock_acquire, but -EDEADLK */
static int self_wait(shmc_arena_t *a, struct lock_body *b, int64_t deadline)
{
	for (;;) {
		uint32_t w = ld_relaxed(&b->lk.word);
		/* Marked, so that the release wakes us. Relaxed: the mark
		 * publishes nothing (as in olock.c). */
		if (w && !(w & SHMC__OLOCK_WAITERS) &&
		    !atomic_compare_exchange_strong_explicit(&b->lk.word, &w,
							     w | SHMC__OLOCK_WAITERS,
							     memory_order_relaxed,
							     memory_order_relaxed))
			continue;
		if (w && shmc__nap(&b->lk.word, w | SHMC__OLOCK_WAITERS, deadline) == -ETIMEDOUT &&
		    shmc__expired(deadline))
			return -ETIMEDOUT;
		int rc = shmc__olock_acquire(a, &b->lk, shmc__left_ns(deadline));
		if (rc != -EDEADLK)
			return rc;
		if (shmc__expired(deadline))
			return -ETIMEDOUT;
	}
}

int shmc__lock_acquire(shmc_arena_t *a, struct shmc__obj *l, int64_t deadline)
{
	struct lock_body *b = body(l);
	bool rlock = l->kind == SHMC_KIND_RLOCK;
	if (rlock && rlock_owned(a, b)) {
		uint32_t c = ld_relaxed(&b->count);
		if (c == UINT32_MAX)
			return -EOVERFLOW;
		st_relaxed(&b->count, c + 1);
		return 0;
	}
	int64_t left = shmc__left_ns(deadline);
	int rc = shmc__olock_acquire(a, &b->lk, left);
	if (rc == -EDEADLK && !rlock && deadline >= 0)
		rc = self_wait(a, b, deadline);
	return acquired(a, b, rlock, rc);
}

int shmc__lock_release_save(shmc_arena_t *a, struct shmc__obj *l, uint32_t *count)
{
	struct lock_body *b = body(l);
	if (l->kind == SHMC_KIND_RLOCK) {
		if (!rlock_owned(a, b))
			return SHMC_ENOTHELD;
		*count = ld_relaxed(&b->count);
		st_relaxed(&b->count, 0);
		shmc__olock_release(&b->lk);
		return 0;
	}
	/* A Lock: whoever holds it, it must be held; of two racing
	 * releases, the exchange leaves one the free word. */
	if (shmc__olock_release(&b->lk) == 0)
		return SHMC_ENOTHELD;
	*count = 1;
	return 0;
}

int shmc__lock_acquire_restore(shmc_arena_t *a, struct shmc__obj *l, uint32_t count)
{
	struct lock_body *b = body(l);
	bool rlock = l->kind == SHMC_KIND_RLOCK;
	int rc;
	do /* -EDEADLK cannot happen: we released it */
		rc = acquired(a, b, rlock, shmc__olock_acquire(a, &b->lk, -1));
	while (rc == -ETIMEDOUT);
	if (rlock && count > 1)
		st_relaxed(&b->count, count);
	return rc;
}

void shmc__lock_str(shmc_arena_t *a, struct shmc__obj *l, struct shmc__sbuf *sb)
{
	(void)a;
	struct lock_body *b = body(l);
	uint32_t w = ld_relaxed(&b->lk.word);
	char buf[128];
	/* Python prints the server-side lock, at another address than the
	 * proxy's: we print the body's. */
	if (l->kind == SHMC_KIND_RLOCK) {
		uint32_t c = w ? ld_relaxed(&b->count) : 0;
		snprintf(buf, sizeof(buf), "<%s _thread.RLock object owner=%u count=%u at %p>",
			 w ? "locked" : "unlocked", w ? ld_relaxed(&b->lk.tid) : 0, c,
			 (void *)b);
	} else {
		snprintf(buf, sizeof(buf), "<%s _thread.lock object at %p>",
			 w ? "locked" : "unlocked", (void *)b);
	}
	shmc__sb_puts(sb, buf);
}

/* Kind functions ------------------------------------------------------------ */

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	(void)o; /* owns nothing */
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	(void)o; /* the header lock is never taken */
	return 0;
}

static int lock_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	struct shmc__sbuf sb = {0};
	shmc__lock_str(shmc__handle_arena(h), o, &sb);
	return shmc__sb_finish(&sb, out);
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	(void)w;
	(void)o; /* no blocks, no values */
}

const struct shmc__kind shmc__lock_kind = {
	.typeid = "Lock",
	.proxy = "AcquirerProxy",
	.body_size = sizeof(struct lock_body),
	.destroy = destroy,
	.repair = repair,
	.str = lock_str,
	.walk = walk,
};

const struct shmc__kind shmc__rlock_kind = {
	.typeid = "RLock",
	.proxy = "AcquirerProxy",
	.body_size = sizeof(struct lock_body),
	.destroy = destroy,
	.repair = repair,
	.str = lock_str,
	.walk = walk,
};

/* Public API -------------------------------------------------------------- */

int shmc_lock_new(shmc_arena_t *a, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	return shmc__obj_create(a, SHMC_KIND_LOCK, out);
}

int shmc_rlock_new(shmc_arena_t *a, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	return shmc__obj_create(a, SHMC_KIND_RLOCK, out);
}

int shmc_lock_acquire(shmc_obj_t *h, double timeout)
{
	shmc_arena_t *a;
	struct shmc__obj *o;
	int64_t deadline;
	int rc = shmc__resolve_in(h, 0, &a, &o);
	if (unlikely(rc))
		return rc;
	/* A free Lock is taken at once: no deadline (a clock read) for a wait
	 * that does not happen. A valid timeout only (NaN fails both tests):
	 * a bad one is refused even when the lock is free, as in Python. */
	if (likely(o->kind == SHMC_KIND_LOCK && (timeout >= 0 || timeout == SHMC_FOREVER)) &&
	    shmc__olock_try(a, &body(o)->lk))
		return 0;
	if (!is_lock_kind(o->kind))
		return SHMC_EKIND;
	if ((rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	return shmc__lock_acquire(a, o, deadline);
}

int shmc__lock_release(shmc_arena_t *a, struct shmc__obj *l)
{
	uint32_t count;
	if (l->kind == SHMC_KIND_RLOCK) {
		struct lock_body *b = body(l);
		if (!rlock_owned(a, b))
			return SHMC_ENOTHELD;
		uint32_t c = ld_relaxed(&b->count);
		if (c > 1) {
			st_relaxed(&b->count, c - 1);
			return 0;
		}
	}
	return shmc__lock_release_save(a, l, &count);
}

int shmc_lock_release(shmc_obj_t *h)
{
	shmc_arena_t *a;
	struct shmc__obj *o;
	int rc = shmc__resolve_in(h, 0, &a, &o);
	if (unlikely(rc))
		return rc;
	/* Whoever holds a Lock may release it, once. */
	if (likely(o->kind == SHMC_KIND_LOCK))
		return shmc__olock_release(&body(o)->lk) ? 0 : SHMC_ENOTHELD;
	return is_lock_kind(o->kind) ? shmc__lock_release(a, o) : SHMC_EKIND;
}
