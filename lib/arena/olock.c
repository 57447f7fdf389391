/*
 * olock.c -- the owner lock: a futex word holding its owner's token.
 *
 * Lock word states:
 *   0                   free
 *   T                   held by the process whose token is T
 *   T | WAITERS         held, and someone may be asleep on the word
 *
 * Acquire: compare-and-swap 0 -> T. Under contention, spin briefly (backing
 * off, and yielding the CPU once the pauses are long), then
 * mark the word WAITERS and sleep on it -- always with a bounded timeout, so
 * that no wake-up can be lost for good (a woken waiter may be killed before
 * passing the wake-up on). Every time a sleep times out, the owner's
 * liveness is probed; if it is dead, its token is replaced by ours with one
 * compare-and-swap and the caller is told, so that it repairs what the dead
 * owner was changing before it goes on.
 *
 * Release: exchange the word with 0; wake one sleeper if it was marked.
 *
 * A token is (generation << 13) | (slot + 1). The generation of a slot is
 * bumped each time a process claims it, so a lock held by a dead process
 * whose slot was reused still reads as dead. Liveness is the slot's
 * open-file-description lock (proc.c): no pid is involved, so PID reuse and
 * PID namespaces cannot fool it.
 *
 * Dying with the lock: between a successful acquire and the release, the
 * word holds the dead owner's token until a waiter probes it. Dying while
 * waiting: the WAITERS mark may be left set with nobody asleep, which costs
 * the next release one needless wake.
 */
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/futex.h"
#include "arena/olock.h"
#include "arena/proc.h"

#define SPIN_PAUSES 1024u  /* pauses before sleeping */
#define SPIN_DELAY_MAX 64u /* pauses between two looks at the word */
#define SLEEP_NS 10000000L /* between liveness probes */
#define UNOWNED_NAPS 100u  /* 1 s: see sleep_until */

bool shmc__token_alive(shmc_arena_t *a, uint32_t token)
{
	uint32_t slot = (token & ((1u << SHMC__TOKEN_SLOT_BITS) - 1)) - 1;
	uint32_t gen = (token >> SHMC__TOKEN_SLOT_BITS) & SHMC__TOKEN_GEN_MASK;
	if (slot >= a->nprocs)
		return false;
	if (slot == a->slot)
		return token == a->token;
	struct shmc__proc *p = shmc__proc_at(a, slot);
	/* The generation first: if the slot was claimed again since, the owner
	 * is gone whoever holds the slot now. */
	if ((ld_acquire(&p->gen) & SHMC__TOKEN_GEN_MASK) != gen)
		return false;
	return shmc__proc_alive(a, slot);
}

_Thread_local uint32_t shmc__olock_tid_cache;

/* The cache is per thread; a fork child's only thread inherits the value of
 * the thread that forked, so the child handler clears it (lifecycle/fork.c). */
uint32_t shmc__olock_tid_slow(void)
{
	return shmc__olock_tid_cache = (uint32_t)syscall(SYS_gettid);
}

/* The phases of an acquire, in order: one compare-and-swap; the checks that
 * need no waiting (our own lock, a try-lock); a bounded spin; sleeping on
 * the futex with the waiters bit set, probing the owner after each nap;
 * and, whenever the owner is found dead, taking its place. Each phase that
 * takes the lock does so with an acquire CAS, which pairs with the release
 * exchange in shmc__olock_release(). */

enum { PHASE_GOT = 1, PHASE_OWNER_DEAD = 2 };

/* Whether thread TID of this process exists (a TID that is no thread id
 * at all, such as a negative one, does not). */
static bool own_thread_alive(uint32_t tid)
{
	if ((int32_t)tid <= 0)
		return false;
	return syscall(SYS_tgkill, getpid(), (pid_t)tid, 0) == 0 || errno == EPERM;
}

/* INTERNAL: a lock of the library's own, held by a thread only inside one
 * call (see shmc__olock_acquire_internal), so that our own token with a
 * thread of ours that does not exist is a dead owner's (a scribbled word):
 * else the thread would wait for itself for ever. A tid of 0 is a holder
 * between its CAS and its store of tid, so it counts as alive here (see
 * sleep_until for how long). */
static inline bool owner_dead(shmc_arena_t *a, struct shmc__olock *l, uint32_t word,
			      bool internal)
{
	if (word == 0)
		return false;
	uint32_t token = word & ~SHMC__OLOCK_WAITERS;
	if (!shmc__token_alive(a, token))
		return true;
	if (!internal || token != a->token)
		return false;
	uint32_t tid = ld_relaxed(&l->tid);
	return tid != 0 && !own_thread_alive(tid);
}

/* Phase 1: the free lock, in one CAS. *cur receives the word seen. */
static inline bool try_fast(struct shmc__olock *l, uint32_t me, uint32_t *cur)
{
	*cur = 0;
	/* Acquire: pairs with the release in shmc__olock_release(). */
	return atomic_compare_exchange_strong_explicit(&l->word, cur, me,
						       memory_order_acquire,
						       memory_order_relaxed);
}

/* Phase 2: spin a little, for a holder about to release, looking at the
 * word less and less often: a waiter that reads it after every pause pulls
 * its cache line away from the holder, whose release and next acquire then
 * each wait for the line to come back (two processes writing one object
 * took turns at every operation). Once the steps are long, each look also
 * yields the CPU: where processes outnumber CPUs the holder may be waiting
 * for this one's, and where each has its own the call is a longer pause,
 * which leaves the holder its line for several operations in a row (a
 * namespace set by 2 processes: 12.7-15.8 -> 18.7 M/s; by 8 on 2 CPUs:
 * 12.8-15.9 -> 27.3 M/s). */
static bool spin(struct shmc__olock *l, uint32_t me, int64_t deadline)
{
	unsigned delay = 1, paused = 0;
	while (paused < SPIN_PAUSES) {
		for (unsigned k = 0; k < delay; k++)
			shmc__cpu_relax();
		paused += delay;
		/* A timed wait may be shorter than the spin (about 40 us
		 * here): once the steps are long, look at the clock too. */
		if (delay == SPIN_DELAY_MAX && deadline >= 0 && shmc__now_ns() >= deadline)
			return false;
		delay = delay < SPIN_DELAY_MAX ? 2 * delay : delay;
		if (delay == SPIN_DELAY_MAX)
			sched_yield();
		uint32_t cur = ld_relaxed(&l->word);
		/* Acquire: pairs with the release in shmc__olock_release(). */
		if (cur == 0 && atomic_compare_exchange_weak_explicit(
					&l->word, &cur, me, memory_order_acquire,
					memory_order_relaxed))
			return true;
	}
	return false;
}

/* Phase 3: sleep until the lock is ours, its owner is found dead
 * (PHASE_OWNER_DEAD, *cur the dead owner's word) or DEADLINE passes. */
static int sleep_until(shmc_arena_t *a, struct shmc__olock *l, uint32_t me,
		       int64_t deadline, uint32_t *cur, bool internal)
{
	unsigned unowned = 0; /* naps our token was seen with no thread */
	for (;;) {
		uint32_t w = ld_relaxed(&l->word);
		if (w == 0) {
			/* Others may be asleep: keep the mark when taking it.
			 * Acquire: pairs with the release in
			 * shmc__olock_release(). */
			if (atomic_compare_exchange_strong_explicit(
				    &l->word, &w, me | SHMC__OLOCK_WAITERS,
				    memory_order_acquire, memory_order_relaxed))
				return PHASE_GOT;
			continue;
		}
		/* Past the deadline (the spin may have used it up): give up
		 * before marking the word, which would cost the holder's
		 * release a wake-up for nobody. */
		if (deadline >= 0 && shmc__now_ns() >= deadline)
			return -ETIMEDOUT;
		/* Mark the word before sleeping, so that the release wakes.
		 * Relaxed: the mark publishes nothing; the futex call
		 * compares the word as marked. */
		if (!(w & SHMC__OLOCK_WAITERS) &&
		    !atomic_compare_exchange_strong_explicit(
			    &l->word, &w, w | SHMC__OLOCK_WAITERS,
			    memory_order_relaxed, memory_order_relaxed))
			continue;
		int64_t nap = SLEEP_NS;
		if (deadline >= 0) {
			int64_t left = deadline - shmc__now_ns();
			if (left <= 0)
				return -ETIMEDOUT;
			nap = left < nap ? left : nap;
		}
		if (shmc__futex_wait(&l->word, w | SHMC__OLOCK_WAITERS, nap) == -ETIMEDOUT) {
			/* A nap ran out: a dead owner never wakes anyone. */
			*cur = ld_relaxed(&l->word);
			if (owner_dead(a, l, *cur, internal))
				return PHASE_OWNER_DEAD;
			/* Our token and no thread for UNOWNED_NAPS naps: no
			 * holder takes that long from its CAS to its store. */
			bool ours = internal && (*cur & ~SHMC__OLOCK_WAITERS) == me &&
				    ld_relaxed(&l->tid) == 0;
			unowned = ours ? unowned + 1 : 0;
			if (unowned >= UNOWNED_NAPS)
				return PHASE_OWNER_DEAD;
		}
	}
}

/* Phase 4: the owner whose word is *CUR is dead: take its place, keeping
 * the waiters bit, unless someone else did first; then wait again, within
 * what is left of the caller's time. */
static int acquire(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns,
		   bool internal);

static int take_over(shmc_arena_t *a, struct shmc__olock *l, uint32_t me, uint32_t cur,
		     int64_t timeout_ns, int64_t deadline, bool internal)
{
	for (;;) {
		uint32_t next = me | (cur & SHMC__OLOCK_WAITERS);
		/* Acquire: pairs with the release in shmc__olock_release()
		 * of the owners before the dead one; what the dead owner
		 * changed since is what the caller repairs. */
		if (atomic_compare_exchange_strong_explicit(&l->word, &cur, next,
							    memory_order_acquire,
							    memory_order_relaxed)) {
			st_relaxed(&l->tid, shmc__tid());
			return SHMC__LOCKED_OWNER_DIED;
		}
		if (cur == 0 || !owner_dead(a, l, cur, internal)) {
			int64_t left = timeout_ns;
			if (deadline >= 0) {
				left = deadline - shmc__now_ns();
				left = left > 0 ? left : 0;
			}
			return acquire(a, l, left, internal);
		}
	}
}

static int acquire(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns,
		   bool internal)
{
	uint32_t me = a->token, cur;
	int64_t deadline = -1; /* set once we know we must wait */
	if (try_fast(l, me, &cur))
		goto got;
	if ((cur & ~SHMC__OLOCK_WAITERS) == me && ld_relaxed(&l->tid) == shmc__tid())
		return -EDEADLK;
	if (timeout_ns == 0)
		return owner_dead(a, l, cur, internal) ? take_over(a, l, me, cur, 0, -1, internal)
							  : -EAGAIN;
	if (timeout_ns > 0)
		deadline = shmc__now_ns() + timeout_ns;
	if (spin(l, me, deadline))
		goto got;
	/* About to sleep: if the owner is already dead, nobody will ever
	 * wake us, so find out now rather than after the first nap. */
	cur = ld_relaxed(&l->word);
	if (owner_dead(a, l, cur, internal))
		return take_over(a, l, me, cur, timeout_ns, deadline, internal);
	int rc = sleep_until(a, l, me, deadline, &cur, internal);
	if (rc == PHASE_OWNER_DEAD)
		return take_over(a, l, me, cur, timeout_ns, deadline, internal);
	if (rc != PHASE_GOT)
		return rc;
got:
	st_relaxed(&l->tid, shmc__tid());
	return SHMC__LOCKED;
}

int shmc__olock_acquire(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns)
{
	return acquire(a, l, timeout_ns, false);
}

int shmc__olock_acquire_internal(shmc_arena_t *a, struct shmc__olock *l,
				 int64_t timeout_ns)
{
	return acquire(a, l, timeout_ns, true);
}

void shmc__olock_wake(struct shmc__olock *l)
{
	shmc__futex_wake(&l->word, 1);
}
