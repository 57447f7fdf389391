/*
 * olock.h -- a process-shared lock that knows its owner and survives it.
 */
#ifndef SHMC_OLOCK_H
#define SHMC_OLOCK_H

#include "arena/arena.h"

/* The lock word: 0 when free; else the owner's token, with bit 31 set when
 * someone may be sleeping on it. A token names a process slot and the
 * generation of that slot (see proc.c), never a pid or a pointer. */
#define SHMC__OLOCK_WAITERS 0x80000000u
#define SHMC__TOKEN_SLOT_BITS 13u   /* slot + 1, up to SHMC_MAX_PROCS */
#define SHMC__TOKEN_GEN_MASK 0x3ffffu /* 18 bits of the slot's generation */
_Static_assert(SHMC_MAX_PROCS < (1u << SHMC__TOKEN_SLOT_BITS), "slots fit a token");

struct shmc__olock {
	atomic_u32 word;
	atomic_u32 tid; /* the owning thread (informational; deadlock checks) */
};

/* The mark a marked lock's sleepers leave beside it (olock.c: "Marked
 * locks"): a bit of a 16-bit word of the lock's owner. */
struct shmc__olock_mark {
	atomic_ushort *word;
	uint16_t bit;
};

/* This process's token in A. */
static inline uint32_t shmc__token(const shmc_arena_t *a)
{
	return a->token;
}

enum {
	SHMC__LOCKED = 0,
	SHMC__LOCKED_OWNER_DIED = 1, /* acquired from a dead owner: repair */
};

/* Acquire L, waiting at most TIMEOUT_NS (0: do not wait; negative: no
 * limit). @return SHMC__LOCKED, SHMC__LOCKED_OWNER_DIED, -EAGAIN (timeout
 * 0), -ETIMEDOUT, -EDEADLK (this thread holds it) */
int shmc__olock_acquire(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns);
/* The same for a lock of the library's own, which a thread takes and
 * releases inside one call (object, pool and scavenger locks; not the
 * user's Lock, which a thread may keep when it exits): a word naming this
 * process with a thread of it that does not exist (a scribble) is taken
 * over as a dead owner's, not waited on for ever. */
int shmc__olock_acquire_internal(shmc_arena_t *a, struct shmc__olock *l,
				 int64_t timeout_ns);

/* The same for a marked lock (the library's own, as above): one that is
 * only ever released by shmc__olock_release_marked() with the same MARK. */
int shmc__olock_acquire_marked(shmc_arena_t *a, struct shmc__olock *l, int64_t timeout_ns,
			       struct shmc__olock_mark mark);

/* This thread's id, for the lock's deadlock check. */
extern _Thread_local uint32_t shmc__olock_tid_cache;
uint32_t shmc__olock_tid_slow(void);
static inline uint32_t shmc__olock_tid(void)
{
	uint32_t t = shmc__olock_tid_cache;
	return likely(t) ? t : shmc__olock_tid_slow();
}

/* Take L if it is free, in one compare-and-swap: the first thing
 * shmc__olock_acquire() tries, for callers with a fast path of their own
 * (a free lock then costs no deadline, no call). False: not taken, call
 * shmc__olock_acquire(). */
static inline bool shmc__olock_try(shmc_arena_t *a, struct shmc__olock *l)
{
	uint32_t cur = 0;
	/* Acquire: pairs with the release in shmc__olock_release(). */
	if (!atomic_compare_exchange_strong_explicit(&l->word, &cur, a->token,
						     memory_order_acquire,
						     memory_order_relaxed))
		return false;
	st_relaxed(&l->tid, shmc__olock_tid());
	return true;
}

/* Release L (held by anyone of this process). @return the word it
 * replaced: 0 when L was not held (an exchange of 0 for 0 changes
 * nothing), which a Lock that anyone may release reports. */
void shmc__olock_wake(struct shmc__olock *l);
static inline uint32_t shmc__olock_release(struct shmc__olock *l)
{
	st_relaxed(&l->tid, 0);
	/* Release: the critical section happens before the next acquire. */
	uint32_t prev = atomic_exchange_explicit(&l->word, 0, memory_order_release);
	if (unlikely(prev & SHMC__OLOCK_WAITERS))
		shmc__olock_wake(l);
	return prev;
}

/* Release marked lock L, held by this thread: a plain store, with a look
 * at the mark, which sleepers set, before and after it (olock.c says why
 * no exchange is needed, and why the mark is cleared before). */
void shmc__olock_unmark(struct shmc__olock_mark mark);
static inline void shmc__olock_release_marked(shmc_arena_t *a, struct shmc__olock *l,
					      struct shmc__olock_mark mark)
{
	unsigned held_mark = ld_relaxed(mark.word) & mark.bit;
	if (unlikely(held_mark))
		shmc__olock_unmark(mark);
	st_relaxed(&l->tid, 0);
	/* Release: the critical section happens before the next acquire. */
	atomic_store_explicit(&l->word, 0, memory_order_release);
	/* The store, then the load (store-load order): a full fence, or,
	 * where a sleeper runs membarrier(2) between marking and looking at
	 * the word again, the compiler's order only. */
	if (likely(a->membarrier))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	if (unlikely(held_mark | (ld_relaxed(mark.word) & mark.bit)))
		shmc__olock_wake(l);
}

/* How long a sleeper naps before it looks at the owner (by default
 * SHMC__OLOCK_NAP_NS); tests make it long, so that a lost wake-up hangs
 * instead of costing a nap. */
#define SHMC__OLOCK_NAP_NS 10000000L
extern int64_t shmc__olock_nap_ns;

/* This thread's kernel thread id (cached; reset in a fork child). */
static inline uint32_t shmc__tid(void)
{
	return shmc__olock_tid();
}
static inline void shmc__tid_after_fork_child(void)
{
	shmc__olock_tid_cache = 0;
}

/* Whether the owner named by TOKEN is alive. */
bool shmc__token_alive(shmc_arena_t *a, uint32_t token);

#endif
