/*
 * sync.h -- what the synchronisation objects, queues and numbers share:
 * deadlines and bounded naps, the per-process ledger, and the lock helpers
 * a Condition uses on the Lock or RLock it is bound to.
 *
 * Waiting. Every blocking call turns its timeout (seconds, as Python takes
 * it) into a deadline, spins briefly, then sleeps on a futex word, never for
 * longer than SHMC__NAP_NS at a time. A wake-up lost because a woken process
 * died before passing it on is therefore only a delay, and each nap that
 * runs out is the moment to look for dead processes that someone might be
 * waiting for.
 *
 * The ledger. Objects that must give back what a dead process held (the
 * permits of a Semaphore, the tasks a JoinableQueue consumer took) or must
 * know how many processes sleep on them keep one 64-bit entry per process
 * slot, changed only under the object's owner lock:
 *
 *   bits 42..63  generation of the slot's owner (from its token, olock.h)
 *   bits 32..41  threads of that process sleeping on the object
 *   bits  0..31  what the process holds (permits, tasks)
 *
 * An entry names its process by slot (its index) and generation, so an
 * entry left by a dead process reads as dead even after its slot has been
 * claimed again. Each change of an entry is one store; totals derived from
 * the entries are recomputed by the object's repair function when a process
 * dies holding the owner lock.
 */
#ifndef SHMC_SYNC_H
#define SHMC_SYNC_H

#include <math.h>

#include "base/futex.h"
#include "objects/obj.h"
#include "arena/olock.h"

/* The longest single sleep: the delay a lost wake-up costs at most, and how
 * often a sleeper looks for the dead. */
#define SHMC__NAP_NS 10000000L
/* Spins on the awaited condition before going to sleep. */
#define SHMC__SPINS 100

/* Deadlines ---------------------------------------------------------------- */

/* A deadline in CLOCK_MONOTONIC nanoseconds, or -1 for none. TIMEOUT is in
 * seconds: SHMC_FOREVER (-1, or +inf) waits without limit, SHMC_NOWAIT (0)
 * tries once. @return 0, -EINVAL (NaN or negative other than -1) */
static inline int shmc__deadline(double timeout, int64_t *out)
{
	if (isnan(timeout) || (timeout < 0 && timeout != SHMC_FOREVER))
		return -EINVAL;
	if (timeout == SHMC_FOREVER || timeout > 1e9) /* 31 years: forever */
		*out = -1;
	else
		*out = shmc__now_ns() + (int64_t)(timeout * 1e9);
	return 0;
}

static inline bool shmc__expired(int64_t deadline)
{
	return deadline >= 0 && shmc__now_ns() >= deadline;
}

/* What is left of DEADLINE for shmc__olock_acquire(): -1 (none) or >= 0. */
static inline int64_t shmc__left_ns(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - shmc__now_ns();
	return left > 0 ? left : 0;
}

/* Sleep while *W == VAL for one nap at most, never past DEADLINE.
 * @return 0 (woken, or the word had changed), -ETIMEDOUT (the nap ran out:
 * look for the dead, then check the deadline) */
static inline int shmc__nap(atomic_u32 *w, uint32_t val, int64_t deadline)
{
	int64_t nap = SHMC__NAP_NS;
	if (deadline >= 0) {
		int64_t left = deadline - shmc__now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		nap = left < nap ? left : nap;
	}
	int rc = shmc__futex_wait(w, val, nap);
	return rc == -ETIMEDOUT ? rc : 0;
}

/* Count a lock or permit taken over from a dead process (arena stats). */
static inline void shmc__count_recovery(shmc_arena_t *a)
{
	atomic_fetch_add_explicit(&a->hdr->lock_recoveries, 1, memory_order_relaxed);
}

/* The managed object that reference word W names, or NULL. */
static inline struct shmc__obj *shmc__ref_obj(shmc_arena_t *a, uint64_t w)
{
	if ((w & 15) != 3)
		return NULL;
	struct shmc__obj *o = shmc__at(a, w & ~(uint64_t)15, sizeof(struct shmc__obj), 16);
	return o && o->magic == SHMC__OBJ_MAGIC ? o : NULL;
}

/* The ledger ----------------------------------------------------------------- */

#define SHMC__LEDGER_HELD_MASK 0xffffffffull
#define SHMC__LEDGER_WAIT_SHIFT 32
#define SHMC__LEDGER_WAIT_MAX 0x3ffu
#define SHMC__LEDGER_GEN_SHIFT 42

static inline uint64_t shmc__led_held(uint64_t e)
{
	return e & SHMC__LEDGER_HELD_MASK;
}
static inline uint32_t shmc__led_waiting(uint64_t e)
{
	return (uint32_t)(e >> SHMC__LEDGER_WAIT_SHIFT) & SHMC__LEDGER_WAIT_MAX;
}
static inline uint32_t shmc__led_gen(uint64_t e)
{
	return (uint32_t)(e >> SHMC__LEDGER_GEN_SHIFT);
}
static inline uint64_t shmc__led_make(uint32_t gen, uint32_t waiting, uint64_t held)
{
	return ((uint64_t)(gen & SHMC__TOKEN_GEN_MASK) << SHMC__LEDGER_GEN_SHIFT) |
	       ((uint64_t)waiting << SHMC__LEDGER_WAIT_SHIFT) | held;
}

/* Store an entry: it carries its process's generation while it holds or
 * waits for anything, and is 0 otherwise (so scans skip it). */
static inline void shmc__led_put(atomic_u64 *slot, uint32_t gen, uint32_t waiting,
				 uint64_t held)
{
	st_relaxed(slot, (waiting || held) ? shmc__led_make(gen, waiting, held) : 0);
}

/* The generation this process's entries carry. */
static inline uint32_t shmc__ledger_gen(shmc_arena_t *a)
{
	return (a->token >> SHMC__TOKEN_SLOT_BITS) & SHMC__TOKEN_GEN_MASK;
}

/* What a dead process's entry held, handed to the object once the entry is
 * cleared (with the object's lock held). */
typedef void (*shmc__ledger_fn)(void *ctx, uint64_t held, uint32_t waiting);

/* This process's entry (lock held). An entry left in our slot by a dead
 * predecessor is first handed to FN and cleared. */
atomic_u64 *shmc__ledger_mine_locked(shmc_arena_t *a, atomic_u64 *led,
				     shmc__ledger_fn fn, void *ctx);

/* Hand every entry of a dead process to FN and clear it (lock held).
 * @return the number of entries cleared */
int shmc__ledger_reap_locked(shmc_arena_t *a, atomic_u64 *led,
			     shmc__ledger_fn fn, void *ctx);

/* Whether some entry belongs to a dead process: a hint, read without the
 * lock, so that the lock is taken only when there is work. */
bool shmc__ledger_has_dead(shmc_arena_t *a, atomic_u64 *led);

/* Sums over all entries (for repair and checks). */
void shmc__ledger_sums(shmc_arena_t *a, atomic_u64 *led, uint64_t *held,
		       uint64_t *waiting);

/* Register or unregister one sleeping thread of this process in its entry
 * MINE and in the total SLEEPERS (lock held). Registration fails (false)
 * only when the entry's count is saturated: the caller then sleeps
 * unregistered, which costs it at most a nap's delay per wake-up. */
bool shmc__ledger_wait_locked(shmc_arena_t *a, atomic_u64 *mine, atomic_u32 *sleepers);
void shmc__ledger_unwait_locked(shmc_arena_t *a, atomic_u64 *mine, atomic_u32 *sleepers);

/* Lock helpers for Condition (sync/lock.c) ----------------------------------- */

/* Whether this process (a Lock) or this thread (an RLock) holds L. */
bool shmc__lock_mine(shmc_arena_t *a, struct shmc__obj *l);

/* Acquire L (a Lock or an RLock) before DEADLINE.
 * @return 0, SHMC_EOWNERDEAD, -ETIMEDOUT, -EDEADLK, -EOVERFLOW */
int shmc__lock_acquire(shmc_arena_t *a, struct shmc__obj *l, int64_t deadline);

/* Release L once (an RLock goes down one level). @return 0, SHMC_ENOTHELD */
int shmc__lock_release(shmc_arena_t *a, struct shmc__obj *l);

/* Release L entirely; *count receives the RLock's recursion level (1 for a
 * Lock). @return 0, SHMC_ENOTHELD */
int shmc__lock_release_save(shmc_arena_t *a, struct shmc__obj *l, uint32_t *count);

/* Acquire L without a time limit and restore the recursion level COUNT.
 * @return 0, SHMC_EOWNERDEAD */
int shmc__lock_acquire_restore(shmc_arena_t *a, struct shmc__obj *l, uint32_t count);

/* Python's str() of a Lock or RLock object, appended to SB. */
struct shmc__sbuf;
void shmc__lock_str(shmc_arena_t *a, struct shmc__obj *l, struct shmc__sbuf *sb);

/* Test hooks ------------------------------------------------------------------ */

/* Threads waiting in a Condition's wait() (dead ones until noticed). */
int64_t shmc__cond_nwaiters(shmc_obj_t *cond);
/* Threads registered as sleeping on a Semaphore, or on a Queue. */
int64_t shmc__sem_sleepers(shmc_obj_t *sem);
int64_t shmc__queue_sleepers(shmc_obj_t *q);

/* Snapshots for lifecycle/save.c ------------------------------------------------ */

/* The items of a Queue or JoinableQueue, in order, as a plain list (*OUT,
 * owned), and its maxsize (0: unbounded), read at one moment under its owner
 * lock. @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -ENOMEM */
int shmc__queue_snapshot(shmc_obj_t *q, int64_t *maxsize, shmc_value_t *out);
/* The value a Semaphore or BoundedSemaphore was created with, or
 * SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
int64_t shmc__semaphore_initial(shmc_obj_t *sem);

#endif
