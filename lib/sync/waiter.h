/*
 * waiter.h -- the one blocking skeleton of the synchronisation objects
 * (waiter.c): Queue put and get, Semaphore acquire, Condition wait and
 * Barrier wait block through it, each passing in its own step.
 */
#ifndef SHMC_WAITER_H
#define SHMC_WAITER_H

#include "sync/sync.h"

/*
 * Waiting for a word to change, without the object's lock: the loop of
 * Condition wait and Barrier wait.
 *
 *   ready   read without the lock (acquire): whether what is waited for
 *           has happened
 *   seen    the value WORD holds while nothing has changed; read before
 *           READY each round, so that a change made after READY looked
 *           changes WORD too and the futex call returns at once
 *   probe   optional: after a nap that ran out with READY still false,
 *           look for dead processes that would never change WORD (it may
 *           take the object's lock and repair). A non-zero return stops
 *           the wait with that code.
 *
 * The waiter spins a little on READY, then sleeps on WORD while it holds
 * SEEN, a nap at a time, never past DEADLINE.
 * @return 0 (ready), -ETIMEDOUT (DEADLINE passed first), or PROBE's code
 */
struct shmc__sleep {
	atomic_u32 *word;
	bool (*ready)(void *ctx);
	uint32_t (*seen)(void *ctx);
	int (*probe)(void *ctx);
};
int shmc__waiter_sleep(const struct shmc__sleep *s, void *ctx, int64_t deadline);

/*
 * Waiting under the object's lock, with the per-process ledger: the loop of
 * Queue put/get and Semaphore acquire.
 *
 *   lock      take the object's lock and this process's ledger entry
 *             (*mine); with PROBE, also hand what dead processes' entries
 *             hold back to the object. @return 0, or the lock's error (the
 *             wait ends with it; nothing is held)
 *   attempt   with the lock held: the kind's step. @return 0 (done),
 *             -EAGAIN (not possible yet: wait; so no other failure may be
 *             passed up as -EAGAIN), or another code (give up). EXPIRED
 *             says the deadline has passed: then it never returns -EAGAIN
 *   leave     with the lock held, once attempt did not return -EAGAIN (the
 *             waiter is already unregistered): finish, unlock, wake whoever
 *             should be woken. @return the call's result, from RC
 *   park      with the lock held, before sleeping: *seen receives the
 *             value of WORD read under the lock; then unlock (and let go of
 *             what must not be held while sleeping)
 *
 * Each round: lock; attempt; either leave, or register as a sleeper in the
 * ledger (once per call), park, spin while WORD holds *seen, nap on it;
 * after a nap that ran out, probe on the next round if the ledger names a
 * dead process.
 *
 * PROBE_EARLY is for objects a dead process can hold something of that the
 * waiter needs (a Semaphore's permits): they are also probed before the
 * first sleep and once when the deadline passes, so that a dead holder is
 * never the reason for a sleep or a timeout.
 */
struct shmc__waiter {
	shmc_arena_t *a;
	atomic_u64 *ledger;   /* the object's ledger (a->nprocs entries) */
	atomic_u32 *sleepers; /* the object's count of registered sleepers */
	atomic_u32 *word;     /* the futex word sleepers sleep on */
	bool probe_early;
	int (*lock)(void *ctx, bool probe, atomic_u64 **mine);
	int (*attempt)(void *ctx, atomic_u64 *mine, bool expired);
	int (*leave)(void *ctx, atomic_u64 *mine, int rc);
	void (*park)(void *ctx, uint32_t *seen);
};
/* @return what W->leave returns, or W->lock's error */
int shmc__waiter_run(const struct shmc__waiter *w, void *ctx, int64_t deadline);

#endif
