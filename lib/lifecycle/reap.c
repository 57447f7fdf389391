/*
 * reap.c -- releasing what a dead process left in an arena.
 *
 * A process slot whose state is not FREE but whose byte-range lock is free
 * belongs to a process that died (or detached): see arena/proc.c. Whoever
 * takes that lock may reap the slot: its epoch records are deactivated and,
 * after a grace period, their retired items disposed of (memory/epoch.c);
 * the references its handle table stood for are dropped (objects/handle.c);
 * then the slot is marked FREE. Reaping is the lifecycle's because it
 * reaches across layers; the epoch layer and the arena check reach it
 * through the arena's reap_if_dead hook, and claiming a slot calls
 * shmc__reap_locked back.
 *
 * Reaping is idempotent and ordered so that a reaper killed mid-way leaves
 * leaks (found by the arena check), never double frees: each handle entry is
 * cleared before the reference it stood for is dropped, and the slot is
 * marked FREE last. The slot's lock keeps other processes' reapers out; the
 * arena's reap_mu keeps this process's other threads out, because an OFD
 * lock taken again through the same open file description succeeds.
 */
#include <pthread.h>

#include "arena/proc.h"
#include "lifecycle/lifecycle.h"
#include "memory/epoch.h"
#include "objects/handle.h"
#include "objects/watch.h"

int shmc__reap_locked(shmc_arena_t *a, uint32_t slot)
{
	struct shmc__proc *p = shmc__proc_at(a, slot);
	if (ld_acquire(&p->state) == SHMC__PROC_FREE)
		return 0;
	/* Our own slot (closing): its records are those our threads claimed,
	 * since claiming the slot reaped its last owner's; when none did,
	 * there is nothing to look for, and not looking leaves the pages of
	 * the header and the records untouched. */
	bool recs = slot != a->slot || ld_relaxed(&a->recs_claimed);
	/* Before the references go: what its threads waited on is alive. */
	if (recs)
		shmc__watch_reap(a, slot);
	int rc = recs ? shmc__epoch_reap_records(a, slot) : 0;
	shmc__handles_reap(a, slot);
	if (rc == 0) {
		st_relaxed(&p->pid, 0);
		st_release(&p->state, SHMC__PROC_FREE);
	}
	return rc;
}

void shmc__reap_if_dead(shmc_arena_t *a, uint32_t slot)
{
	if (slot >= a->nprocs || slot == a->slot)
		return;
	struct shmc__proc *p = shmc__proc_at(a, slot);
	if (ld_acquire(&p->state) == SHMC__PROC_FREE)
		return;
	/* The slot lock keeps other processes out, not our own threads: an
	 * OFD lock taken again through the same description succeeds, so two
	 * threads would reap the same slot at once and dispose of its retired
	 * items twice. */
	pthread_mutex_lock(&a->reap_mu);
	if (shmc__proc_trylock(a->lock_fd, SHMC__LOCK_BASE + slot) == 0) {
		shmc__reap_locked(a, slot); /* nothing if already reaped */
		shmc__proc_unlock(a->lock_fd, SHMC__LOCK_BASE + slot);
	} /* else alive */
	pthread_mutex_unlock(&a->reap_mu);
}

/* Look at up to N slots in use from slot *S on (wrapping, each slot once),
 * reaping those whose owner is dead; *S ends where the look stopped. Free
 * slots cost a load each; a slot in use costs a probe of its lock (a
 * syscall). @return the number reaped */
static int reap_from(shmc_arena_t *a, uint32_t *s, uint32_t n, uint32_t lim)
{
	int reaped = 0;
	uint32_t at = *s;
	for (uint32_t i = 0; i < lim && n > 0; i++, at++) {
		if (at >= lim)
			at = 0;
		struct shmc__proc *p = shmc__proc_at(a, at);
		if (at == a->slot || ld_acquire(&p->state) == SHMC__PROC_FREE)
			continue;
		n--;
		shmc__reap_if_dead(a, at);
		reaped += ld_acquire(&p->state) == SHMC__PROC_FREE;
	}
	*s = at;
	return reaped;
}

int shmc__reap_dead(shmc_arena_t *a)
{
	uint32_t s = 0;
	return reap_from(a, &s, a->nprocs, shmc__proc_hwm(a)); /* above: free */
}

int shmc__reap_dead_seen(shmc_arena_t *a)
{
	uint32_t s = 0, lim = a->proc_seen;
	return reap_from(a, &s, a->nprocs, lim == 0 || lim > a->nprocs ? a->nprocs : lim);
}

int shmc__reap_some(shmc_arena_t *a, uint32_t n)
{
	pthread_mutex_lock(&a->mu);
	uint32_t s = a->reap_next;
	pthread_mutex_unlock(&a->mu);
	/* A few tries at the grace period each: this runs inside fork(). */
	unsigned budget = shmc__epoch_reap_budget(SHMC__REAP_BUDGET_IMPLICIT);
	int reaped = reap_from(a, &s, n, shmc__proc_hwm(a));
	shmc__epoch_reap_budget(budget);
	pthread_mutex_lock(&a->mu);
	a->reap_next = s;
	pthread_mutex_unlock(&a->mu);
	return reaped;
}
