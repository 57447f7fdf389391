/*
 * waiter.h -- the one blocking skeleton of the synchronisation objects
 * (waiter.c): Queue put and get, Semaphore acquire, Condition wait and
 * Barrier wait wait through it, each passing in its own step.
 */
#ifndef SHMC_WAITER_H
#define SHMC_WAITER_H

#include "sync/sync.h"

/*
 * Waiting for a word to change. READY (read without the lock) says whether
 * what is waited for has happened; while it has not, the waiter spins a
 * little on WORD, then sleeps on it while it still holds SEEN, a nap at a
 * time, never past DEADLINE. After a nap that ran out, PROBE looks for dead
 * processes that would never wake it (it may take the object's lock and
 * repair); a non-zero return stops the wait with that code.
 */
struct shmc__sleep {
	atomic_u32 *word;
	bool (*ready)(void *ctx);
	/* The value WORD holds while nothing has changed (re-read each round). */
	uint32_t (*seen)(void *ctx);
	int (*probe)(void *ctx);
};
/* @return 0 (ready), -ETIMEDOUT (DEADLINE passed), or PROBE's code */
int shmc__waiter_sleep(const struct shmc__sleep *s, void *ctx, int64_t deadline);

/*
 * Waiting under the object's lock, with the per-process ledger: the loop of
 * Queue put/get and Semaphore acquire.
 *
 *   lock      take the object's lock and this process's ledger entry
 *             (*mine); with PROBE, first hand what dead processes' entries
 *             hold back to the object. @return 0 or the lock's error
 *   attempt   with the lock held: the kind's step. @return 0 (done),
 *             -EAGAIN (not possible yet: wait), or another code (give up);
 *             EXPIRED says the deadline has passed (then never -EAGAIN)
 *   leave     with the lock held, once attempt did not return -EAGAIN (the
 *             waiter is already unregistered): finish, unlock, wake whoever
 *             should be woken. @return the call's result, from RC
 *   park      with the lock held, before sleeping: unlock (and let go of
 *             what must not be held while sleeping). *seen receives the
 *             value of the word sleepers wait on, read under the lock.
 *
 * The skeleton, for each round: lock; attempt; leave, or register as a
 * sleeper in the ledger (once), park, spin while the word holds *seen, nap
 * on it; after a nap that ran out, or before the first sleep, look at the
 * ledger for the dead and, if any, probe on the next round. The deadline's
 * first expiry also probes, so a dead holder is never the reason for a
 * timeout.
 */
struct shmc__waiter {
	shmc_arena_t *a;
	atomic_u64 *ledger;   /* the object's ledger (SHMC__MAX_PROCS entries) */
	atomic_u32 *sleepers; /* the object's count of registered sleepers */
	atomic_u32 *word;     /* the futex word sleepers sleep on */
	int (*lock)(void *ctx, bool probe, atomic_u64 **mine);
	int (*attempt)(void *ctx, atomic_u64 *mine, bool expired);
	int (*leave)(void *ctx, atomic_u64 *mine, int rc);
	void (*park)(void *ctx, uint32_t *seen);
};
/* @return what W->leave returns, or W->lock's error */
int shmc__waiter_run(const struct shmc__waiter *w, void *ctx, int64_t deadline);

#endif
