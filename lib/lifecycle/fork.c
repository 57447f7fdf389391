/*
 * fork.c -- making a fork() child a process of its own in every arena.
 *
 * A child inherits its parent's mapping and handles, but not its identity:
 * it needs a process slot of its own, and references of its own for the
 * handles it inherited (else the parent could release an object the child
 * still uses). Both are prepared in the parent, before fork() copies it:
 *
 *   prepare  (parent) for each arena: open a new open file description of
 *            the arena file, claim a free slot through it, and give that
 *            slot a copy of our handle table, taking a reference per entry;
 *   child    adopt the prepared slot: its lock travels into the child with
 *            the inherited descriptor; close our copy of the parent's lock
 *            descriptor (the parent still holds its own);
 *   parent   close the parent's copy of the child's descriptor: from now on
 *            the child alone keeps the child's slot locked; then look at a
 *            few slots in use and reap those of dead processes.
 *
 * That last step is for programs that fork and kill workers in a loop:
 * claiming prefers a free slot to a dead one (cheaper to find), so without
 * it a dead child's slot, with its retired memory, would wait for the next
 * attach, for a reader stalled on it or for the check; reaping up to
 * REAP_PER_FORK slots per fork keeps the dead from outnumbering the forks.
 *
 * If fork() fails, the parent's close drops the last reference to the
 * prepared description, the kernel releases its lock, and the slot reads as
 * a dead process: the next reaper drops the references it holds.
 */
#include <pthread.h>
#include <unistd.h>

#include "memory/epoch.h"
#include "objects/handle.h"
#include "objects/htab.h"
#include "arena/olock.h"
#include "arena/proc.h"
#include "lifecycle/lifecycle.h"

#define REAP_PER_FORK 4u /* slots in use looked at after each fork */

/* The arenas this process has attached: the handlers visit each. */
static pthread_mutex_t attached_mu = PTHREAD_MUTEX_INITIALIZER;
static shmc_arena_t *attached;

static void attached_lock(void)
{
	pthread_mutex_lock(&attached_mu);
}

static void attached_unlock(void)
{
	pthread_mutex_unlock(&attached_mu);
}

static void prepare(void)
{
	attached_lock();
	shmc__htab_fork_prepare();
	shmc__arena_close_lock(); /* no close, no thread exit, half done */
	for (shmc_arena_t *a = attached; a; a = a->next_attached) {
		/* No reaper of ours mid-way when the child is copied. */
		pthread_mutex_lock(&a->reap_mu);
		pthread_mutex_lock(&a->mu);
		a->fork_lock_fd = shmc__proc_open_lockfd(a->fd);
		if (a->fork_lock_fd < 0)
			continue;
		if (shmc__proc_claim(a, a->fork_lock_fd, shmc__reap_locked, &a->fork_slot) != 0 ||
		    shmc__handles_copy(a, a->fork_slot) != 0) {
			close(a->fork_lock_fd); /* releases the claimed slot */
			a->fork_lock_fd = -1;
		}
	}
}

static void parent(void)
{
	for (shmc_arena_t *a = attached; a; a = a->next_attached) {
		if (a->fork_lock_fd >= 0)
			close(a->fork_lock_fd);
		a->fork_lock_fd = -1;
		pthread_mutex_unlock(&a->mu);
		pthread_mutex_unlock(&a->reap_mu);
	}
	shmc__arena_close_unlock();
	shmc__htab_fork_done();
	/* Nothing of ours is held now; the list lock keeps the arenas open. */
	for (shmc_arena_t *a = attached; a; a = a->next_attached)
		if (shmc__arena_ok(a))
			shmc__reap_some(a, REAP_PER_FORK);
	attached_unlock();
}

static void child(void)
{
	shmc__epoch_after_fork_child();
	shmc__tid_after_fork_child(); /* another thread id now */
	shmc__epoch_membarrier_ready();      /* a new process: register it again */
	for (shmc_arena_t *a = attached; a; a = a->next_attached) {
		close(a->lock_fd); /* our copy of the parent's description */
		if (a->fork_lock_fd >= 0) {
			a->lock_fd = a->fork_lock_fd;
			a->slot = a->fork_slot;
			a->token = shmc__proc_token(a, a->slot);
			st_relaxed(&shmc__proc_at(a, a->slot)->pid, (uint32_t)getpid());
		} else {
			/* The parent could not prepare a slot: this arena is
			 * unusable here. */
			a->lock_fd = -1;
			st_relaxed(&a->magic, 0);
		}
		a->fork_lock_fd = -1;
		pthread_mutex_unlock(&a->mu);
		pthread_mutex_unlock(&a->reap_mu);
	}
	shmc__arena_close_unlock();
	shmc__htab_fork_done();
	/* Handles of an unusable arena hold nothing here: they end now, so
	 * that every call on them is SHMC_EHANDLE. */
	for (shmc_arena_t *a = attached; a; a = a->next_attached)
		if (!shmc__arena_ok(a))
			shmc__htab_end_arena(a);
	attached_unlock();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void register_handlers(void)
{
	pthread_atfork(prepare, parent, child);
}

void shmc__fork_track(shmc_arena_t *a)
{
	pthread_once(&once, register_handlers);
	attached_lock();
	a->next_attached = attached;
	attached = a;
	attached_unlock();
}

void shmc__fork_untrack(shmc_arena_t *a)
{
	attached_lock();
	for (shmc_arena_t **p = &attached; *p; p = &(*p)->next_attached)
		if (*p == a) {
			*p = a->next_attached;
			break;
		}
	attached_unlock();
}
