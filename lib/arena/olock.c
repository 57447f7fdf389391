/*
 * olock.c -- the owner lock: a futex word holding its owner's token.
 *
 * Lock word states:
 *   0                   free
 *   T                   held by the process whose token is T
 *   T | WAITERS         held, and someone may be asleep on the word
 *
 * Acquire: compare-and-swap 0 -> T. Under contention, spin a while (backing
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
 *
 * Marked locks (every object's writer lock: the hot path of every write).
 * The exchange that releases a lock is a serialising instruction, a fifth
 * of a namespace set; a marked lock is released with a plain store S of 0
 * followed by a load L of a mark beside the lock (a bit of a word of its
 * owner: struct shmc__olock_mark), which sleepers set. A sleeper
 * still sets WAITERS in the word, which is what its futex call compares
 * (a new holder of the same process then writes a word without it, so a
 * wait cannot mistake it for the holder it saw), and before sleeping it
 * also sets the mark (M), runs a barrier B, and looks again: the word
 * still the one it marked and the mark still set, or it starts over.
 *
 * Why no wake is lost. Where the arena works with membarrier(2), B is one
 * (a full barrier on every thread of every attached process, at some
 * point of its program) and the releaser has only a compiler barrier
 * between S and L; elsewhere B and the releaser's S-L are full fences.
 * If B's point on the releaser came before S, L came after it and sees M
 * (done before B began): it wakes. If it came after S, S was visible when
 * B returned, and the sleeper's second look sees the word changed: it
 * does not sleep.
 *
 * Who clears the mark. Only a holder, before its S: the release reads the
 * mark while it still holds the lock (L0), clears it if set, stores 0,
 * reads it again (L), and wakes one sleeper if either read found it. The
 * invariant: while a sleeper is queued on the futex, the mark is set, or a
 * release that cleared it has yet to wake, or a woken sleeper has yet to
 * take the lock or to sleep again -- and both of those set it again. A
 * clear comes with a wake, and the wake comes after that release's S, so
 * a sleeper that reaches its futex call after the wake finds the word
 * changed (0, or a new holder's word without WAITERS) unless someone set
 * WAITERS again after marking again, which that tenure's L0 or L sees; a
 * sleeper queued before it is woken, or the one woken instead marks again.
 * A clear after S (it was done so first) could come after another holder's
 * whole tenure and after a sleeper's second look, with no wake left for
 * that sleeper. A holder that dies between its clear and its S leaves the
 * mark set again by whoever takes its lock over (take_over), since a dead
 * holder wakes nobody. If membarrier(2) fails, the sleeper naps 1 ms at a
 * time instead. A sleeper killed after marking costs the next release one
 * needless wake (the release clears the mark, then wakes nobody).
 */
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/futex.h"
#include "arena/olock.h"
#include "arena/proc.h"

#define SPIN_PAUSES 1024u  /* pauses before sleeping */
/* A marked lock's: its sleeper pays a membarrier(2), interrupts on every
 * CPU running an attached process, the holder's too, and its holders hold
 * it for one call of the library. With 1024 pauses, writers at 2 and 8
 * processes slept so often that a dict set of 1M ints at P=2 took 2.2x as
 * long as with the exchange release; with 16384 (about 0.3 ms, yielding
 * at each look) they rarely sleep and every contended row is faster. */
#define SPIN_PAUSES_MARKED 16384u
#define SPIN_DELAY_MAX 64u /* pauses between two looks at the word */
#define UNOWNED_NS 1000000000L /* see sleep_until */
#define MARK_FAILED_NAP_NS 1000000L /* a marked sleeper without its barrier */

int64_t shmc__olock_nap_ns = SHMC__OLOCK_NAP_NS;

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
 * the futex with the waiters bit set (and a marked lock's mark), probing
 * the owner after each nap; and, whenever the owner is found dead, taking
 * its place. Each phase that takes the lock does so with an acquire CAS,
 * which pairs with the release store of shmc__olock_release() or
 * shmc__olock_release_marked(). */

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
static bool spin(struct shmc__olock *l, uint32_t me, int64_t deadline, unsigned pauses)
{
	unsigned delay = 1, paused = 0;
	while (paused < pauses) {
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
 * (PHASE_OWNER_DEAD, *cur the dead owner's word) or DEADLINE passes. A
 * marked lock (MARK.word) has its sleepers set the mark too. */
static int sleep_until(shmc_arena_t *a, struct shmc__olock *l, uint32_t me,
		       int64_t deadline, uint32_t *cur, bool internal,
		       struct shmc__olock_mark mark)
{
	int64_t unowned = 0; /* time our token was seen with no thread */
	for (;;) {
		uint32_t w = ld_relaxed(&l->word);
		if (w == 0) {
			/* Others may be asleep: keep the mark when taking it
			 * (a marked lock's in its mark: its release ignores
			 * the word's). Acquire: pairs with the release. */
			uint32_t next = mark.word ? me : me | SHMC__OLOCK_WAITERS;
			if (atomic_compare_exchange_strong_explicit(
				    &l->word, &w, next, memory_order_acquire,
				    memory_order_relaxed)) {
				if (mark.word)
					atomic_fetch_or(mark.word, mark.bit);
				return PHASE_GOT;
			}
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
		int64_t nap = shmc__olock_nap_ns;
		if (mark.word) {
			/* M, B, and the second look (see the header); no B
			 * (membarrier failed): nap briefly. */
			atomic_fetch_or(mark.word, mark.bit);
			if (!shmc__arena_barrier_all(a) && nap > MARK_FAILED_NAP_NS)
				nap = MARK_FAILED_NAP_NS;
			if (ld_relaxed(&l->word) != (w | SHMC__OLOCK_WAITERS) ||
			    !(ld_relaxed(mark.word) & mark.bit))
				continue;
		}
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
			/* Our token and no thread for UNOWNED_NS: no holder
			 * takes that long from its CAS to its store. */
			bool ours = internal && (*cur & ~SHMC__OLOCK_WAITERS) == me &&
				    ld_relaxed(&l->tid) == 0;
			unowned = ours ? unowned + nap : 0;
			if (unowned >= UNOWNED_NS)
				return PHASE_OWNER_DEAD;
		}
	}
}

/* Phase 4: the owner whose word is *CUR is dead: take its place, keeping
 * the waiters bit, unless someone else did first; then wait again, within
 * what is left of the caller's time. */
static int acquire(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns,
		   bool internal, struct shmc__olock_mark mark);

static int take_over(shmc_arena_t *a, struct shmc__olock *l, uint32_t me, uint32_t cur,
		     int64_t timeout_ns, int64_t deadline, bool internal,
		     struct shmc__olock_mark mark)
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
			/* The dead holder may have cleared the mark and not
			 * woken anyone: ours will. */
			if (mark.word && (next & SHMC__OLOCK_WAITERS))
				atomic_fetch_or(mark.word, mark.bit);
			return SHMC__LOCKED_OWNER_DIED;
		}
		if (cur == 0 || !owner_dead(a, l, cur, internal)) {
			int64_t left = timeout_ns;
			if (deadline >= 0) {
				left = deadline - shmc__now_ns();
				left = left > 0 ? left : 0;
			}
			return acquire(a, l, left, internal, mark);
		}
	}
}

static int acquire(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns,
		   bool internal, struct shmc__olock_mark mark)
{
	uint32_t me = a->token, cur;
	int64_t deadline = -1; /* set once we know we must wait */
	if (try_fast(l, me, &cur))
		goto got;
	if ((cur & ~SHMC__OLOCK_WAITERS) == me && ld_relaxed(&l->tid) == shmc__tid())
		return -EDEADLK;
	if (timeout_ns == 0)
		return owner_dead(a, l, cur, internal)
			       ? take_over(a, l, me, cur, 0, -1, internal, mark)
			       : -EAGAIN;
	if (timeout_ns > 0)
		deadline = shmc__now_ns() + timeout_ns;
	if (spin(l, me, deadline, mark.word ? SPIN_PAUSES_MARKED : SPIN_PAUSES))
		goto got;
	/* About to sleep: if the owner is already dead, nobody will ever
	 * wake us, so find out now rather than after the first nap. */
	cur = ld_relaxed(&l->word);
	if (owner_dead(a, l, cur, internal))
		return take_over(a, l, me, cur, timeout_ns, deadline, internal, mark);
	int rc = sleep_until(a, l, me, deadline, &cur, internal, mark);
	if (rc == PHASE_OWNER_DEAD)
		return take_over(a, l, me, cur, timeout_ns, deadline, internal, mark);
	if (rc != PHASE_GOT)
		return rc;
got:
	st_relaxed(&l->tid, shmc__tid());
	return SHMC__LOCKED;
}

static const struct shmc__olock_mark unmarked = {NULL, 0};

int shmc__olock_acquire(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns)
{
	return acquire(a, l, timeout_ns, false, unmarked);
}

int shmc__olock_acquire_internal(shmc_arena_t *a, struct shmc__olock *l,
				 int64_t timeout_ns)
{
	return acquire(a, l, timeout_ns, true, unmarked);
}

int shmc__olock_acquire_marked(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns,
			       struct shmc__olock_mark mark)
{
	return acquire(a, l, timeout_ns, true, mark);
}

void shmc__olock_wake(struct shmc__olock *l)
{
	shmc__futex_wake(&l->word, 1);
}

void shmc__olock_unmark(struct shmc__olock_mark mark)
{
	atomic_fetch_and(mark.word, (unsigned short)~mark.bit);
}
