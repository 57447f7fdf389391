/*
 * pool.h -- Pool: Python's manager.Pool(), a pool of forked worker
 * processes, and its async results and iterators. What the files of lib/pool
 * share: the layouts in the arena and the functions between them.
 *
 *   task.c        the process-local registry of named task functions, and
 *                 the identity of a program image (which function pointers
 *                 a process may hand to the workers)
 *   board.c       the pool's board of jobs: submitting, claiming and
 *                 completing chunks, the dead, repair (the protocol)
 *   pool.c        the Pool object: its kind, new, close, terminate, join
 *   supervisor.c  the supervisor and worker processes
 *   result.c      AsyncResult and Iterator: building a job, waiting for it,
 *                 reading its results
 */
#ifndef SHMC_POOL_H
#define SHMC_POOL_H

#include <sys/types.h>

#include "sync/sync.h"

/* Pool states (pool.state). */
enum { SHMC__POOL_RUN = 1, SHMC__POOL_CLOSE = 2, SHMC__POOL_TERMINATE = 3 };

/* A worker's entry in the pool (changed under the pool's lock). */
struct shmc__pool_worker {
	atomic_u32 token;   /* the worker's process token once it runs; 0: none */
	atomic_u32 pid;     /* informational */
	atomic_u64 job_off; /* the job whose chunk it runs, or 0 */
	atomic_u64 chunk;   /* that chunk */
	atomic_u64 tasks;   /* chunks it has completed */
};

/* The Pool's body. Fields marked (lock) change under the pool's owner lock. */
struct shmc__pool {
	atomic_u32 state;       /* (lock) RUN, CLOSE, TERMINATE */
	uint32_t nworkers;      /* fixed */
	uint32_t maxtasks;      /* fixed: chunks per worker, 0 unlimited */
	atomic_u32 work;        /* futex: idle workers; bumped on new work, state */
	atomic_u32 sup_word;    /* futex: the supervisor; bumped on state changes */
	atomic_u32 gone;        /* futex: joiners; bumped when the supervisor ends */
	atomic_u32 sup_token;   /* the supervisor's process token, once it runs */
	atomic_u32 sup_pid;     /* informational */
	uint32_t creator_token; /* fixed */
	uint32_t creator_pid;   /* fixed */
	uint64_t image_id;      /* fixed: the creator's program image (task.c) */
	uint64_t names_word;    /* fixed: a value word, the tuple of task names */
	atomic_u64 ring_off;    /* (lock) block: struct shmc__pool_ring */
	atomic_u64 head;        /* (lock) ring positions: [head, tail) active, */
	atomic_u64 claim;       /*        [claim, tail) may have pending chunks */
	atomic_u64 tail;
	atomic_u64 started;     /* (lock) workers started, replacements included */
	atomic_u64 jobs;        /* (lock) jobs ever submitted */
	struct shmc__pool_worker workers[SHMC_POOL_MAX_WORKERS];
};

#define SHMC__POOL_RING_MAGIC 0x4c4f4f50u /* "POOL" */
struct shmc__pool_ring {
	uint32_t magic;
	uint32_t pad_;
	uint64_t cap; /* a power of two */
	atomic_u64 job[]; /* the job at position p is job[p & (cap - 1)]; 0: done */
};

/* Jobs: what apply/map/imap submit. The object is an AsyncResult or an
 * Iterator; its items are run in chunks of CHUNKSIZE consecutive items. */
enum {
	SHMC__JOB_APPLY = 1,
	SHMC__JOB_MAP,
	SHMC__JOB_IMAP,
	SHMC__JOB_IMAP_UNORDERED,
};
enum { SHMC__FN_PTR = 1, SHMC__FN_NAME = 2 };

struct shmc__job {
	uint32_t mode;        /* fixed: SHMC__JOB_* */
	uint32_t fn_kind;     /* fixed: SHMC__FN_* */
	uint64_t fn_ptr;      /* fixed: SHMC__FN_PTR: the function and its */
	uint64_t fn_mac;      /*        authenticator (task.c) */
	uint64_t name_word;   /* fixed: SHMC__FN_NAME: a value word, the name */
	uint64_t n;           /* fixed: items */
	uint64_t chunksize;   /* fixed */
	uint64_t nchunks;     /* fixed */
	uint64_t words_off;   /* fixed: block of 2n value words: the arguments,
				 then the results (0 until a worker sets one) */
	uint64_t chunks_off;  /* fixed: block of nchunks chunk states */
	atomic_u64 pool_off;  /* the pool (a reference), from enqueueing on */
	atomic_u64 ring_pos;  /* (pool lock) its position in the pool's ring */
	/* (pool lock) */
	atomic_u64 next_claim; /* chunks below are claimed or done */
	atomic_u64 left;       /* chunks not done */
	atomic_u64 ndone;      /* chunks done */
	atomic_u64 err_chunk;  /* the lowest failed chunk, or UINT64_MAX */
	atomic_u32 done;       /* futex: 1 once every chunk is done */
	atomic_u32 progress;   /* futex: bumped whenever a chunk is done */
	_Atomic int32_t error; /* the error of err_chunk */
	uint32_t pad_;
	/* (the job's own lock) Iterator: what next() has handed out */
	atomic_u64 yielded;   /* items handed out (errors count their chunk) */
	atomic_u64 cur_chunk; /* unordered: the chunk being handed out, or NONE */
	atomic_u64 cur_pos;   /* unordered: the next item of it */
	atomic_u64 taken;     /* unordered: chunks taken */
	atomic_u64 scan;      /* unordered: chunks below are all taken */
};
#define SHMC__NO_CHUNK UINT64_MAX

/* Chunk states: one word each. */
#define SHMC__CHUNK_PENDING 0ull
#define SHMC__CHUNK_RUNNING (1ull << 32) /* | the worker's token */
#define SHMC__CHUNK_DONE (2ull << 32)    /* | (uint32_t) its error, 0 if none */
#define SHMC__CHUNK_STATE (3ull << 32)
#define SHMC__CHUNK_TAKEN (4ull << 32) /* done, and handed out (unordered) */

static inline bool shmc__chunk_done(uint64_t s)
{
	return (s & SHMC__CHUNK_STATE) == SHMC__CHUNK_DONE;
}
static inline int shmc__chunk_error(uint64_t s)
{
	return (int32_t)(uint32_t)s;
}

static inline struct shmc__pool *shmc__pool_body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct shmc__pool);
}
static inline struct shmc__job *shmc__job_body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct shmc__job);
}
static inline bool shmc__is_job_kind(unsigned k)
{
	return k == SHMC_KIND_ASYNC_RESULT || k == SHMC_KIND_ITERATOR;
}

/* The job object at OFF, checked: an object of a job kind whose blocks are
 * where they should be and as large as they should be. NULL if not. */
struct shmc__obj *shmc__job_at(shmc_arena_t *a, uint64_t off);
/* Its words (2n) and chunk states (nchunks), as checked by shmc__job_at. */
static inline atomic_u64 *shmc__job_words(shmc_arena_t *a, struct shmc__job *j)
{
	return (atomic_u64 *)(a->base + j->words_off);
}
static inline atomic_u64 *shmc__job_chunks(shmc_arena_t *a, struct shmc__job *j)
{
	return (atomic_u64 *)(a->base + j->chunks_off);
}
/* Items [first, end) of chunk C. */
static inline uint64_t shmc__chunk_first(const struct shmc__job *j, uint64_t c)
{
	return c * j->chunksize;
}
static inline uint64_t shmc__chunk_end(const struct shmc__job *j, uint64_t c)
{
	uint64_t e = (c + 1) * j->chunksize;
	return e < j->n ? e : j->n;
}

/* The board (board.c) -------------------------------------------------------- */

/* Put job J (a handle of the caller's) on pool P's board; the board and
 * the job each take a reference (to the job, to the pool).
 * @return 0, SHMC_ENOTRUNNING, SHMC_EFULL, SHMC_ECORRUPT, -EDEADLK */
int shmc__board_submit(shmc_arena_t *a, struct shmc__obj *p, struct shmc__obj *j);

/* What a worker is given. */
enum { SHMC__CLAIM_GOT, SHMC__CLAIM_WAIT, SHMC__CLAIM_STOP };
/* With P locked: give worker I the first pending chunk (*job, *chunk),
 * recorded as running under its token in one store. @return SHMC__CLAIM_* */
int shmc__board_claim_locked(shmc_arena_t *a, struct shmc__obj *p, uint32_t i,
			     uint64_t *job, uint64_t *chunk);
/* With P locked: chunk C of job J is done with error ERR (0: none). Does
 * nothing if it was done already. May drop the board's reference to J. */
void shmc__board_complete_locked(shmc_arena_t *a, struct shmc__obj *p, struct shmc__obj *j,
				 uint64_t c, int err);
/* With P locked: finish what dead processes left: the chunks dead workers
 * ran, and, if the supervisor is dead, every pending chunk (the pool then
 * stops). @return the number of chunks completed */
int shmc__board_reap_locked(shmc_arena_t *a, struct shmc__obj *p);
/* Whether a dead process left something for shmc__board_reap_locked (no
 * lock: a hint, so that the lock is taken only when there is work). */
bool shmc__board_has_dead(shmc_arena_t *a, struct shmc__obj *p);
/* With P locked: complete every pending chunk with ERR. */
void shmc__board_cancel_locked(shmc_arena_t *a, struct shmc__obj *p, int err);
/* With P locked: whether some chunk is pending. */
bool shmc__board_pending_locked(shmc_arena_t *a, struct shmc__obj *p);
/* Lock the pool (repairing it if its holder died) / unlock it. */
int shmc__pool_lock(shmc_arena_t *a, struct shmc__obj *p);
void shmc__pool_unlock(shmc_arena_t *a, struct shmc__obj *p);
/* The kind's repair: recompute what the board derives (lock held). */
int shmc__board_repair(shmc_arena_t *a, struct shmc__obj *p);
/* Bump a futex word and wake everyone sleeping on it. */
void shmc__pool_bump(atomic_u32 *w);

/* Jobs (result.c) ------------------------------------------------------------- */

/* In a worker: run chunk C of job JO, writing each item's result word.
 * POOL_CTX: the pool's options' ctx. @return 0 or the chunk's error */
int shmc__job_run(shmc_arena_t *a, struct shmc__obj *jo, uint64_t c, void *pool_ctx);

/* Processes (supervisor.c) --------------------------------------------------- */

/* In a child just forked by shmc_pool_new: run the supervisor of pool H,
 * which forks and watches the workers. Never returns. */
_Noreturn void shmc__pool_supervise(shmc_obj_t *h, const shmc_pool_options_t *opts);

/* Tasks (task.c) ----------------------------------------------------------- */

/* This program image's identity, the same in every process forked from it
 * and different in any other (published in the pool as image_id). */
uint64_t shmc__task_image_id(void);
/* The authenticator of function pointer FN for this image: a worker calls
 * a pointer only if the job's authenticator is the one it computes. */
uint64_t shmc__task_mac(uint64_t fn);
/* The function registered as NAME in this process, with its context.
 * @return 0, SHMC_ENOFUNC */
int shmc__task_lookup(const char *name, size_t len, shmc_task_fn *fn, void **ctx);
/* The registered names, as an owned tuple of str. @return 0, -ENOMEM */
int shmc__task_names(shmc_value_t *out);

/* Test hooks ------------------------------------------------------------------ */

/* The pids of pool H's supervisor (*sup, 0 if it has ended) and of its live
 * workers (up to N in PIDS). @return how many workers are alive, or an
 * error */
int shmc__pool_pids(shmc_obj_t *h, int32_t *sup, int32_t *pids, int n);

#endif
