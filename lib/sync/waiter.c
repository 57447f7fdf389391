/*
 * waiter.c -- the one blocking skeleton: lock, per-process ledger, try,
 * register, spin, sleep, probe for the dead.
 *
 * The protocol. Every blocking call of the synchronisation objects sleeps
 * on a 32-bit futex word of the object that its wakers change before they
 * wake: a Queue's count of puts (getters sleep on it) or gets (putters), a
 * Semaphore's permits, a Condition cell's state, a Barrier's sequence. A
 * waiter reads the word (SEEN) before it last looks at what it waits for,
 * and the futex call sleeps only while the word still holds SEEN.
 *
 *   shmc__waiter_run()    (Queue, Semaphore) under the object's lock:
 *                         attempt; if it must wait, register in the ledger
 *                         (this process's entry + the object's sleepers),
 *                         read SEEN, unlock, spin, nap; then again
 *   shmc__waiter_sleep()  (Condition, Barrier) without a lock: read SEEN,
 *                         then READY (acquire), spin, nap; then again
 *
 * Why no wake-up is lost. Under the lock: a waker changes the word and
 * reads the sleepers count under the same lock, and wakes after unlocking.
 * A change before our round is seen by our attempt; a change after our
 * unlock finds us registered (so the waker wakes), and either precedes our
 * futex call, which then sees a word other than SEEN and returns at once,
 * or follows it, and the wake finds us queued (the kernel compares the word
 * and queues the sleeper atomically). Without the lock: a waker stores what
 * READY reads, then changes the word (release; pairs with SEEN's acquire
 * load), then wakes: if READY missed the store, the change of the word comes
 * after SEEN was read, and the same two cases apply. A registration that is
 * saturated (SHMC__LEDGER_WAIT_MAX threads of one process) makes the waiter
 * sleep unregistered: it may then miss a wake and only wake at the end of
 * its nap, later but still correct.
 *
 * Death. No sleep lasts longer than a nap (SHMC__NAP_NS, never past the
 * deadline), and a nap that runs out probes:
 *
 *   a waker that dies between its change and its wake, or a woken waiter
 *   that dies before it acts on (or passes on) its wake-up, costs the
 *   others at most one nap: they wake by themselves and retry;
 *
 *   a holder that dies with what the waiter needs (a Semaphore's permits,
 *   counted in its ledger entry) is found by the probe: under the lock, the
 *   entries of dead processes are handed back to the object. With
 *   PROBE_EARLY this is also done before the first sleep and at the
 *   deadline, so nobody sleeps on, or times out because of, a process that
 *   is gone. A Condition's probe hands the notifications of dead waiters'
 *   cells on, a Barrier's breaks the barrier when an arrived party is dead;
 *
 *   the waiter itself, killed at any instruction, holds the object's lock
 *   only inside lock/attempt/leave/park, which the lock's owner-death
 *   repair covers (the kinds' repair recomputes the sleepers total from the
 *   ledger), and never while sleeping. Killed while sleeping, it leaves a
 *   ledger registration behind, which costs needless wake-ups until a probe
 *   reaps it; a wake-up meant for it is recovered by another sleeper's nap.
 *
 * EINTR: a signal ends a futex call early; shmc__nap() reports it as a
 * wake-up, and the round simply runs again against the same deadline.
 */
#include "sync/waiter.h"

int shmc__waiter_sleep(const struct shmc__sleep *s, void *ctx, int64_t deadline)
{
	for (int i = 0; i < SHMC__SPINS && !s->ready(ctx); i++)
		shmc__cpu_relax();
	for (;;) {
		uint32_t seen = s->seen(ctx);
		if (s->ready(ctx))
			return 0;
		if (shmc__expired(deadline))
			return -ETIMEDOUT;
		if (shmc__nap(s->word, seen, deadline) == -ETIMEDOUT && !s->ready(ctx)) {
			int rc = s->probe ? s->probe(ctx) : 0;
			if (rc)
				return rc;
		}
	}
}

int shmc__waiter_run(const struct shmc__waiter *w, void *ctx, int64_t deadline)
{
	bool registered = false, probe = false;
	/* Without PROBE_EARLY, the probes before the first sleep and at the
	 * deadline count as done already. */
	bool probed = !w->probe_early;
	for (;;) {
		bool expired = shmc__expired(deadline);
		/* At the deadline, look for the dead once before giving up. */
		bool probe_now = probe || (expired && !probed);
		probed |= probe_now;
		probe = false;
		atomic_u64 *mine;
		int rc = w->lock(ctx, probe_now, &mine);
		if (rc)
			return rc;
		rc = w->attempt(ctx, mine, expired);
		if (rc != -EAGAIN) {
			if (registered)
				shmc__ledger_unwait_locked(w->a, mine, w->sleepers);
			return w->leave(ctx, mine, rc);
		}
		if (!registered)
			registered = shmc__ledger_wait_locked(w->a, mine, w->sleepers);
		uint32_t seen;
		w->park(ctx, &seen);
		if (!probed) {
			/* Before the first sleep: a dead holder would never
			 * wake us. */
			probed = true;
			if ((probe = shmc__ledger_has_dead(w->a, w->ledger)))
				continue;
		}
		/* Spin a little: the change may be about to come. */
		for (int i = 0; i < SHMC__SPINS && ld_relaxed(w->word) == seen; i++)
			shmc__cpu_relax();
		if (ld_relaxed(w->word) == seen &&
		    shmc__nap(w->word, seen, deadline) == -ETIMEDOUT)
			probe = shmc__ledger_has_dead(w->a, w->ledger);
	}
}
