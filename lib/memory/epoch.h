/*
 * epoch.h -- epoch-based reclamation across processes.
 */
#ifndef SHMC_EPOCH_H
#define SHMC_EPOCH_H

#include "arena/arena.h"

/* What a retired word asks for once no reader can see it: the low four bits
 * of a (16-aligned) offset say what to do with it (see shmc__obj_dispose, the arena's dispose hook). */
enum {
	SHMC__RETIRE_FREE = 0,   /* free the block */
	SHMC__RETIRE_VALUE = 1,  /* a stored value: drop its references, free */
	SHMC__RETIRE_DECREF = 2, /* drop one reference to a managed object */
	SHMC__RETIRE_BODY = 3,   /* a container's detached body (a list's
				    array, a dict's table) and every value in it */
};
#define SHMC__RETIRE_TAG_MASK 0xfu

/* This thread's epoch record in A, claimed on first use.
 * NULL when every record is taken (SHMC_ETHREADS). */
struct shmc__rec *shmc__epoch_rec_slow(shmc_arena_t *a);

/* The record this thread used last, so that the common case is two
 * compares: which arena (by address and serial number, as an address may be
 * reused after a close) and which process (the fork generation). */
struct shmc__epoch_tls_cache {
	const shmc_arena_t *arena;
	uint64_t serial;
	unsigned fork_gen;
	unsigned retired; /* items retired since the last poll */
	uint64_t retired_bytes; /* bytes of blocks retired since the last advance */
	struct shmc__rec *rec;
	struct shmc__tcache *tc; /* REC's cache of free blocks, or NULL */
	unsigned tc_frees;       /* frees into TC: the pool's tick (alloc.c) */
};
extern _Thread_local struct shmc__epoch_tls_cache shmc__epoch_tls;
extern _Atomic unsigned shmc__epoch_fork_gen;

static inline struct shmc__rec *shmc__epoch_rec(shmc_arena_t *a)
{
	struct shmc__epoch_tls_cache *c = &shmc__epoch_tls;
	if (likely(c->arena == a && c->serial == a->serial &&
		   c->fork_gen == atomic_load_explicit(&shmc__epoch_fork_gen,
						       memory_order_relaxed)))
		return c->rec;
	return shmc__epoch_rec_slow(a);
}

/* A read-side critical section: nothing retired after enter() is freed
 * before the matching exit(). Sections do not nest. */
static inline void shmc__epoch_enter(shmc_arena_t *a, struct shmc__rec *r)
{
	/* Acquire: the section's loads come after the epoch read (free on
	 * x86, whose loads are ordered; on aarch64 a later load of a shared
	 * pointer could otherwise be satisfied before it, and see what was
	 * unlinked before the epoch it then announces). */
	uint64_t e = ld_acquire(&a->hdr->epoch);
	st_relaxed(&r->epoch, (e << 1) | 1);
	/* Pairs with the barrier in try_advance(): either the advancer sees
	 * this announcement, or this thread sees every unlink that preceded
	 * the advance. With membarrier(2) the advancer makes every thread of
	 * every attached process execute that barrier, so a compiler barrier
	 * is enough here: reads then cost no fence. */
	if (likely(a->membarrier))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
}

static inline void shmc__epoch_exit(struct shmc__rec *r)
{
	/* Release: all reads of the section happen before the record says
	 * it is quiescent. */
	st_release(&r->epoch, 0);
}

/* Make room in R's limbo for N more retirements, so that an operation can
 * fail before changing anything. @return 0, SHMC_EFULL */
int shmc__epoch_reserve(shmc_arena_t *a, struct shmc__rec *r, uint64_t n);

/* Defer WHAT (an offset | SHMC__RETIRE_*) until every reader that might see
 * it has left its critical section. Room must have been reserved; if the
 * queue was scribbled on since, WHAT is leaked. */
void shmc__epoch_retire(shmc_arena_t *a, struct shmc__rec *r, uint64_t what);

/* How many epoch advances reaping a dead thread's records may try before
 * it leaves their retired items for a later reap (-EAGAIN); 0 is the
 * default, 2000. The reaps nobody asked for -- after a fork(), when a dead
 * reader blocks an advance -- use 16: they run inside fork() or under an
 * object's lock. @return the budget before */
unsigned shmc__epoch_reap_budget(unsigned n);
#define SHMC__REAP_BUDGET_IMPLICIT 16u

/* Free what R has retired and is now safe; free when little was retired. */
void shmc__epoch_poll_slow(shmc_arena_t *a, struct shmc__rec *r);
#define SHMC__POLL_EVERY 32u
#define SHMC__POLL_BYTES ((uint64_t)1 << 20) /* retired bytes that poll at once */
static inline void shmc__epoch_poll(shmc_arena_t *a, struct shmc__rec *r)
{
	if (unlikely(shmc__epoch_tls.retired >= SHMC__POLL_EVERY ||
		     shmc__epoch_tls.retired_bytes >= SHMC__POLL_BYTES)) {
		shmc__epoch_tls.retired = 0;
		shmc__epoch_poll_slow(a, r);
	}
}

/* Advance the epoch as far as readers allow and free everything of R's that
 * is safe. Returns the number of retired items disposed of. */
int64_t shmc__epoch_flush(shmc_arena_t *a, struct shmc__rec *r);

/* The same for every idle record of this process: records of threads that
 * have exited keep what they retired until a new thread takes them over.
 * Returns the number of items disposed of. */
int64_t shmc__epoch_flush_idle(shmc_arena_t *a);

/* Release the epoch records of process slot SLOT, whose lock the caller
 * holds: deactivate them, wait for a grace period and dispose of their
 * pending items. @return 0, or -EAGAIN when a reader holds the epoch back
 * (try again later) */
int shmc__epoch_reap_records(shmc_arena_t *a, uint32_t slot);

/* What the arena check sees of a retire queue (it lives above this layer,
 * so it passes its callbacks in): the queue's block, each pending item, and
 * a malformed queue. BLOCK returns false to stop. */
struct shmc__limbo_visitor {
	bool (*block)(void *ctx, uint64_t off, uint64_t size);
	void (*item)(void *ctx, uint64_t what);
	void (*error)(void *ctx, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
};
/* Visit R's retire queue, reading only, bounded by what it validates.
 * @return 0, or -1 when the queue is malformed (reported through V) */
int shmc__epoch_limbo_visit(const shmc_arena_t *a, struct shmc__rec *r,
			    const struct shmc__limbo_visitor *v, void *ctx);

/* The pthread key destructor for a thread's records (one key for the
 * library, a list of records behind it): each record of an arena still
 * open becomes idle, for the next thread of this process to reuse. */
void shmc__epoch_thread_exit(void *tls);

/* Closing A: forget the calling thread's record of A (the close reaps the
 * records themselves). Other threads' entries go stale and are dropped
 * when next met. */
void shmc__epoch_forget(shmc_arena_t *a);

/* Whether membarrier(2) can serve arenas here: registers this process for
 * MEMBARRIER_CMD_GLOBAL_EXPEDITED (once; again after fork). */
bool shmc__epoch_membarrier_ready(void);

/* Called in a fork child: thread records cached by this thread belong to
 * the parent. */
void shmc__epoch_after_fork_child(void);

#endif
