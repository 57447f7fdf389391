/*
 * watch.c -- sleeping until a managed object, or one key of a dict, changes.
 *
 * Versions. Every store to an object goes through its sequence lock
 * (obj.h: shmc__write_begin/_end), so `seq` already changes on every store;
 * the object's version is seq / 2 + 1 (never 0). No word is added per
 * entry, and a store writes nothing it did not write before.
 *
 * Futex words. A thread waiting on the object sleeps on the low half of
 * `seq` (little-endian): the word every store changes anyway, so the futex
 * compare covers a change made between reading the version and sleeping.
 * A thread waiting on a key sleeps on one of the arena's
 * SHMC__WATCH_BUCKETS words (hdr.watch_buckets), chosen by hashing the
 * object's serial and the key's hash; a store to a key bumps its bucket's
 * word and wakes it, only when someone waits on a key of that object.
 *
 * Registration. `watch` in the object header counts the waiters: low half
 * on the object, high half on its keys. Writers read it (with the lock
 * held, after storing seq) and call the slow paths below only when it is
 * non-zero: a store with nobody waiting pays one load of the header's line,
 * which the store of seq has just brought in. Waiters add themselves to
 * `watch` with the object's lock held, so each writer either finished
 * before the registration (the waiter then reads its seq) or sees it (and
 * wakes the waiter after changing the word the waiter sleeps on). Then,
 * for a key, the waiter reads its bucket word before the version: a writer
 * stores seq (release) before bumping the bucket (a read-modify-write), so
 * a waiter that read the bumped word also reads the new version.
 *
 * Death. Each waiting thread names what it waits for in its epoch record
 * (watch_off); the registration is counted first and named second, the
 * unregistration unnamed first and uncounted second. Reaping a dead
 * process (lifecycle/reap.c, before its handles' references are dropped,
 * so the object is still alive) takes back what its records name. A
 * waiter killed between the two steps leaves one count too many: stores
 * then pay a wake syscall for nothing, which is harmless, where the other
 * order could take back a count never given. A writer killed mid-store
 * leaves seq odd: the waiter's naps run out and it takes the lock, which
 * repairs the object and completes seq (obj.c), waking everyone.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>

#include "base/futex.h"
#include "memory/epoch.h"
#include "objects/obj.h"
#include "objects/watch.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "waiters sleep on the low half of seq");

/* A nap never longer than this: then look for a dead writer. */
#define WATCH_NAP_NS 10000000L

#define KEY_WAITER ((uint64_t)1 << 32)

static inline atomic_u32 *seq_word(struct shmc__obj *o)
{
	return (atomic_u32 *)(void *)&o->seq;
}

static inline atomic_u32 *bucket_word(shmc_arena_t *a, struct shmc__obj *o, uint64_t key_hash)
{
	uint64_t x = (key_hash ^ (o->id * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	return &a->hdr->watch_buckets[(x >> 32) % SHMC__WATCH_BUCKETS];
}

void shmc__watch_wake_obj(struct shmc__obj *o)
{
	shmc__futex_wake(seq_word(o), INT_MAX);
}

void shmc__watch_wake_key(shmc_arena_t *a, struct shmc__obj *o, uint64_t key_hash)
{
	if (key_hash == SHMC__WATCH_ALL_KEYS) {
		for (uint32_t i = 0; i < SHMC__WATCH_BUCKETS; i++) {
			atomic_fetch_add(&a->hdr->watch_buckets[i], 1);
			shmc__futex_wake(&a->hdr->watch_buckets[i], INT_MAX);
		}
		return;
	}
	atomic_u32 *w = bucket_word(a, o, key_hash);
	/* Sequentially consistent: after the store of seq (release) it
	 * publishes; see the essay. */
	atomic_fetch_add(w, 1);
	shmc__futex_wake(w, INT_MAX);
}

/* Take back one count of the half of O's watch word that WHAT names,
 * never below zero (a scribbled word is not made worse). */
static void watch_sub(struct shmc__obj *o, uint64_t what)
{
	uint64_t w = ld_relaxed(&o->watch);
	for (int i = 0; i < 1000; i++) {
		uint64_t half = what == KEY_WAITER ? w >> 32 : (uint32_t)w;
		if (half == 0)
			return;
		if (atomic_compare_exchange_weak(&o->watch, &w, w - what))
			return;
	}
}

/* Whether O's version differs from *CTX: the default test. */
static int obj_changed(void *ctx, shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	return shmc__obj_version(o) != *(const uint64_t *)ctx;
}

int shmc__watch_wait(shmc_arena_t *a, struct shmc__obj *o, const uint64_t *key_hash,
		     shmc__watch_fn changed, void *ctx, int64_t deadline)
{
	if (changed == NULL)
		changed = obj_changed;
	int rc = changed(ctx, a, o);
	if (rc)
		return rc < 0 ? rc : 0; /* a retry loop's usual answer: no registration */
	struct shmc__rec *r = shmc__epoch_rec(a);
	if (r == NULL)
		return SHMC_ETHREADS;
	if (ld_relaxed(&r->watch_off) != 0)
		return -EDEADLK; /* a signal handler waiting inside a wait */
	uint64_t what = key_hash ? KEY_WAITER : 1;
	atomic_u32 *word = key_hash ? bucket_word(a, o, *key_hash) : seq_word(o);
	rc = shmc__obj_lock(a, o); /* repairs after a dead writer */
	if (rc)
		return rc;
	atomic_fetch_add_explicit(&o->watch, what, memory_order_relaxed);
	st_relaxed(&r->watch_off, shmc__off(a, o) | (key_hash ? 1u : 0u));
	/* A key's waiter is done when its bucket moves: every store to the
	 * key from now on moves it. What came before, CHANGED says once. */
	uint32_t start = ld_relaxed(word);
	shmc__obj_unlock(a, o);
	bool once = key_hash != NULL;
	for (;;) {
		/* Acquire: pairs with the bucket's read-modify-write (keys) or
		 * the release store of seq (objects). */
		uint32_t val = ld_acquire(word);
		if (key_hash && val != start) {
			rc = 0;
			break;
		}
		if ((key_hash == NULL || once) && (rc = changed(ctx, a, o)) != 0) {
			rc = rc < 0 ? rc : 0;
			break;
		}
		once = false;
		int64_t nap = WATCH_NAP_NS;
		if (deadline >= 0) {
			int64_t left = deadline - shmc__now_ns();
			if (left <= 0) {
				rc = -ETIMEDOUT;
				break;
			}
			nap = left < nap ? left : nap;
		}
		if (shmc__futex_wait(word, val, nap) != -ETIMEDOUT)
			continue;
		/* A nap ran out. A writer that died mid-store leaves seq odd
		 * and would never wake us: its lock's recovery completes it. */
		if (ld_acquire(&o->seq) & 1) {
			if ((rc = shmc__obj_lock(a, o)) != 0)
				break;
			shmc__obj_unlock(a, o);
		}
	}
	st_relaxed(&r->watch_off, 0);
	watch_sub(o, what);
	return rc;
}

void shmc__watch_reap(shmc_arena_t *a, uint32_t slot)
{
	/* A waiter names its wait in a record it claimed, and a record is
	 * counted in rec_hwm before it is handed out: those above were never
	 * used. Not reading them keeps their pages unmapped (each page a
	 * process maps costs a fault, and its unmap at close). */
	uint32_t hwm = ld_acquire(&a->hdr->rec_hwm);
	if (hwm > a->nrecs)
		hwm = a->nrecs;
	for (uint32_t i = 0; i < hwm; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		if (ld_relaxed(&r->owner) != slot + 1)
			continue;
		uint64_t w = ld_relaxed(&r->watch_off);
		if (w == 0)
			continue;
		st_relaxed(&r->watch_off, 0); /* first: see the essay */
		struct shmc__obj *o = shmc__at(a, w & ~(uint64_t)15, sizeof(*o), 16);
		if (o && o->magic == SHMC__OBJ_MAGIC)
			watch_sub(o, (w & 1) ? KEY_WAITER : 1);
	}
}

/* Public ------------------------------------------------------------------- */

int shmc__watch_deadline(double timeout, int64_t *out)
{
	if (isnan(timeout) || (timeout < 0 && timeout != SHMC_FOREVER))
		return -EINVAL;
	if (timeout == SHMC_FOREVER || timeout > 1e9)
		*out = -1;
	else
		*out = shmc__now_ns() + (int64_t)(timeout * 1e9);
	return 0;
}

int shmc_obj_version(shmc_obj_t *h, uint64_t *version)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	if (version == NULL)
		return -EINVAL;
	*version = shmc__obj_version(o);
	return 0;
}

int shmc_obj_wait_change(shmc_obj_t *h, uint64_t seen_version, double timeout)
{
	shmc_arena_t *a;
	struct shmc__obj *o;
	int64_t deadline;
	int rc = shmc__resolve_in(h, 0, &a, &o);
	if (rc)
		return rc;
	if ((rc = shmc__watch_deadline(timeout, &deadline)) != 0)
		return rc;
	return shmc__watch_wait(a, o, NULL, NULL, &seen_version, deadline);
}

int shmc_obj_waiters(shmc_obj_t *h, uint64_t *count)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	if (count == NULL)
		return -EINVAL;
	uint64_t w = ld_relaxed(&o->watch);
	*count = (w >> 32) + (uint32_t)w;
	return 0;
}
