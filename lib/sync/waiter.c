/*
 * waiter.c -- the one blocking skeleton: lock, per-process ledger, try,
 * register, spin, sleep, probe for the dead.
 *
 * Every blocking call of the synchronisation objects sleeps on a futex word
 * of the object that its wakers change (a counter of puts or gets, the
 * permits, a cell's state, a barrier's sequence) and then wake. The word is
 * read before the waiter lets go of what protects it (the object's lock,
 * or the acquire load that found nothing ready), and the futex call sleeps
 * only while the word still holds that value: a change between the read
 * and the sleep makes the call return at once, so no wake-up is lost.
 *
 * A waker may die between its change and its wake, and a woken waiter may
 * die before it acts; nobody may be left asleep for that. So no sleep lasts
 * longer than a nap (SHMC__NAP_NS), and a nap that runs out probes: under
 * the lock, the ledger's entries of dead processes are handed back to the
 * object (permits a dead holder took, sleepers that will never wake), a
 * Condition's dead waiters are swept, a Barrier with a dead party breaks.
 * Probing is also done before the first sleep and at the deadline, so a
 * waiter never sleeps on, or times out because of, a process that is gone.
 *
 * Death of the waiter itself: at any instruction it leaves at most a ledger
 * registration (a sleeper that will never wake), which costs the others a
 * needless wake-up until the next probe reaps it, and never a held lock
 * (sleeping is done without the object's lock). A registration that is
 * saturated makes the waiter sleep unregistered: it then wakes at the end
 * of each nap instead of being woken, and is still correct.
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
	bool registered = false, probe = false, probed = false;
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
		if (shmc__nap(w->word, seen, deadline) == -ETIMEDOUT)
			probe = shmc__ledger_has_dead(w->a, w->ledger);
	}
}
