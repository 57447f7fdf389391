/*
 * board.c -- the pool's board of jobs: how tasks are submitted, claimed by
 * workers, completed, and finished for workers that died.
 *
 * Layout. The pool keeps a ring of the jobs that are not done yet, in the
 * order they were submitted (pool.h): positions [head, tail) of ring_off's
 * block, 0 where a job has finished out of order; [claim, tail) are the
 * jobs that may still have pending chunks (everything before claim has been
 * handed out). Each job holds its items' argument and result words and one
 * state word per chunk:
 *
 *   PENDING          nobody has it yet
 *   RUNNING | token  the worker whose process token this is runs it
 *   DONE | error     finished (error 0: its results are in the words)
 *
 * Every change is made under the pool's owner lock: submitting (a ring
 * slot, then tail), claiming (the worker's entry, then the chunk's state),
 * completing (the chunk's state, then the job's counters; the last chunk
 * finishes the job: done, then the ring slot is cleared, then the board's
 * reference dropped). A worker runs its chunk without the lock, writing the
 * results into the job's words first: the chunk's DONE store (release),
 * read with acquire by waiters, publishes them.
 *
 * References. The board holds one to each job on it (so a job whose
 * owners released it still runs to the end, and a worker's chunk outlives
 * it); each job holds one to its pool from submission until it is
 * destroyed (a job's waiter reaches the pool through it to look for the
 * dead). Whoever holds the pool's lock holds a handle to the pool, so a
 * job dropped under the lock may be destroyed there, dropping its own
 * reference to the pool, which cannot be the last.
 *
 * Taking a task is recording it. A worker claims a chunk with the one store
 * that makes it RUNNING under its token: killed before it, the chunk is
 * still pending; killed after, the chunk names a dead process, which the
 * supervisor (after waitpid), a waiter (after a nap) or join finds through
 * the worker's entry, written just before (it points at the chunk). They
 * complete it with SHMC_EWORKERDIED (-ECANCELED once terminate() was
 * called), and clear the entry only then, so that a reaper killed half-way
 * leaves the chunk to the next. A chunk is never pending forever either: a
 * dead supervisor means nobody will run one again, so the reaper then fails
 * every pending chunk with -ECANCELED (and a running pool stops).
 *
 * Killed holding the lock. The stores above are ordered so that each
 * interrupted operation leaves primary state that says what happened (the
 * ring slots and tail, the chunk states); the kind's repair recomputes from
 * it what is derived -- each job's counters, its first error, head and
 * claim -- and finishes the jobs whose chunks are all done. What an
 * interrupted operation had taken but not yet published (a reference, a
 * block) is leaked, for the arena check to sweep; nothing is dropped twice.
 */
#include <errno.h>
#include <limits.h>

#include "memory/alloc.h"
#include "pool/pool.h"

#define RING_MIN 16u
#define RING_SHRINK 1024u /* an emptied ring larger than this is freed */

static struct shmc__pool_ring *ring_of(shmc_arena_t *a, struct shmc__pool *b)
{
	uint64_t off = ld_acquire(&b->ring_off);
	if (off == 0)
		return NULL;
	struct shmc__pool_ring *r = shmc__at(a, off, sizeof(*r), 16);
	if (r == NULL || r->magic != SHMC__POOL_RING_MAGIC || r->cap == 0 ||
	    (r->cap & (r->cap - 1)) ||
	    r->cap > (a->capacity - off - sizeof(*r)) / sizeof(uint64_t))
		return NULL;
	return r;
}

/* The ring's positions are consistent with its block. */
static bool ring_sound(shmc_arena_t *a, struct shmc__pool *b)
{
	uint64_t head = ld_relaxed(&b->head), claim = ld_relaxed(&b->claim),
		 tail = ld_relaxed(&b->tail);
	if (head > claim || claim > tail)
		return false;
	struct shmc__pool_ring *r = ring_of(a, b);
	if (r == NULL)
		return ld_relaxed(&b->ring_off) == 0 && head == tail;
	return tail - head <= r->cap;
}

/* A broken invariant found under the lock: like a failed repair, it marks
 * the pool broken, so that every later operation -- the supervisor's and
 * the workers' included -- reports SHMC_ECORRUPT instead of going on. */
static int broken(struct shmc__obj *p)
{
	atomic_fetch_or(&p->flags, SHMC__OBJ_BROKEN);
	return SHMC_ECORRUPT;
}

static inline atomic_u64 *slot(struct shmc__pool_ring *r, uint64_t pos)
{
	return &r->job[pos & (r->cap - 1)];
}

void shmc__pool_bump(atomic_u32 *w)
{
	/* Release: what was changed before is seen by whoever sees the new
	 * word (pairs with the acquire loads of sleepers). */
	atomic_fetch_add_explicit(w, 1, memory_order_release);
	shmc__futex_wake(w, INT_MAX);
}

int shmc__pool_lock(shmc_arena_t *a, struct shmc__obj *p)
{
	return shmc__obj_lock(a, p);
}

void shmc__pool_unlock(shmc_arena_t *a, struct shmc__obj *p)
{
	shmc__obj_unlock(a, p);
}

/* Room for one more job (lock held): a first ring, or one twice as large.
 * @return 0, SHMC_EFULL */
static int make_room_locked(shmc_arena_t *a, struct shmc__pool *b)
{
	uint64_t head = ld_relaxed(&b->head), tail = ld_relaxed(&b->tail);
	struct shmc__pool_ring *r = ring_of(a, b);
	if (r && tail - head < r->cap)
		return 0;
	uint64_t cap = r ? 2 * r->cap : RING_MIN, off;
	if (cap > (SHMC__MAX_BLOCK - sizeof(*r)) / sizeof(uint64_t))
		return SHMC_EFULL;
	int rc = shmc__alloc(a, sizeof(*r) + cap * sizeof(uint64_t), &off);
	if (rc)
		return rc;
	struct shmc__pool_ring *n = (struct shmc__pool_ring *)(a->base + off);
	n->magic = SHMC__POOL_RING_MAGIC;
	n->cap = cap;
	for (uint64_t i = 0; i < cap; i++)
		st_relaxed(&n->job[i], 0);
	for (uint64_t i = head; r && i != tail; i++)
		st_relaxed(slot(n, i), ld_relaxed(slot(r, i)));
	uint64_t old = ld_relaxed(&b->ring_off);
	st_release(&b->ring_off, off); /* complete before it is seen */
	if (old)
		shmc__free(a, old); /* read only under the lock (and by checks) */
	return 0;
}

int shmc__board_submit(shmc_arena_t *a, struct shmc__obj *p, struct shmc__obj *jo)
{
	struct shmc__pool *b = shmc__pool_body(p);
	struct shmc__job *j = shmc__job_body(jo);
	int rc = shmc__pool_lock(a, p);
	if (rc)
		return rc;
	if (ld_relaxed(&b->state) != SHMC__POOL_RUN) {
		shmc__pool_unlock(a, p);
		return SHMC_ENOTRUNNING;
	}
	if (!ring_sound(a, b)) {
		rc = broken(p);
		shmc__pool_unlock(a, p);
		return rc;
	}
	if ((rc = make_room_locked(a, b)) != 0) {
		shmc__pool_unlock(a, p);
		return rc;
	}
	struct shmc__pool_ring *r = ring_of(a, b);
	uint64_t tail = ld_relaxed(&b->tail), joff = shmc__off(a, jo), poff = shmc__off(a, p);
	/* References first, publication last: killed in between, they leak. */
	shmc__obj_incref(a, joff); /* the board's */
	shmc__obj_incref(a, poff); /* the job's */
	st_relaxed(&j->pool_off, poff);
	st_relaxed(&j->ring_pos, tail);
	st_relaxed(slot(r, tail), joff);
	/* Release: the job is complete before workers see it (pairs with the
	 * acquire load of tail in claim). */
	st_release(&b->tail, tail + 1);
	st_relaxed(&b->jobs, ld_relaxed(&b->jobs) + 1);
	shmc__pool_unlock(a, p);
	atomic_fetch_add_explicit(&b->work, 1, memory_order_release);
	uint64_t n = j->nchunks < SHMC_POOL_MAX_WORKERS ? j->nchunks : SHMC_POOL_MAX_WORKERS;
	shmc__futex_wake(&b->work, (int)n); /* one idle worker per chunk */
	return 0;
}

/* The job at position POS, if it is a sound job there. */
static struct shmc__obj *job_at_pos(shmc_arena_t *a, struct shmc__pool_ring *r, uint64_t pos)
{
	uint64_t off = ld_relaxed(slot(r, pos));
	struct shmc__obj *jo = off ? shmc__job_at(a, off) : NULL;
	if (jo == NULL || ld_relaxed(&shmc__job_body(jo)->ring_pos) != pos)
		return NULL;
	return jo;
}

/* The first pending chunk of J at or after its next_claim, or nchunks. */
static uint64_t first_pending(shmc_arena_t *a, struct shmc__job *j)
{
	atomic_u64 *chunks = shmc__job_chunks(a, j);
	uint64_t c = ld_relaxed(&j->next_claim);
	while (c < j->nchunks && ld_relaxed(&chunks[c]) != SHMC__CHUNK_PENDING)
		c++;
	return c;
}

int shmc__board_claim_locked(shmc_arena_t *a, struct shmc__obj *p, uint32_t i,
			     uint64_t *job, uint64_t *chunk)
{
	struct shmc__pool *b = shmc__pool_body(p);
	uint32_t state = ld_relaxed(&b->state);
	if (state == SHMC__POOL_TERMINATE || i >= SHMC_POOL_MAX_WORKERS)
		return SHMC__CLAIM_STOP;
	if (!ring_sound(a, b)) {
		broken(p);
		return SHMC__CLAIM_STOP;
	}
	struct shmc__pool_ring *r = ring_of(a, b);
	uint64_t tail = ld_acquire(&b->tail);
	for (uint64_t pos = ld_relaxed(&b->claim); r && pos < tail; pos++) {
		struct shmc__obj *jo = job_at_pos(a, r, pos);
		if (jo) {
			struct shmc__job *j = shmc__job_body(jo);
			uint64_t c = first_pending(a, j);
			if (c < j->nchunks) {
				struct shmc__pool_worker *w = &b->workers[i];
				/* The entry first: it is how the dead are found. */
				st_relaxed(&w->job_off, shmc__off(a, jo));
				st_relaxed(&w->chunk, c);
				st_release(&shmc__job_chunks(a, j)[c],
					   SHMC__CHUNK_RUNNING | a->token);
				st_relaxed(&j->next_claim, c + 1);
				st_relaxed(&b->claim, c + 1 == j->nchunks ? pos + 1 : pos);
				*job = shmc__off(a, jo);
				*chunk = c;
				return SHMC__CLAIM_GOT;
			}
		}
		st_relaxed(&b->claim, pos + 1);
	}
	return state == SHMC__POOL_RUN ? SHMC__CLAIM_WAIT : SHMC__CLAIM_STOP;
}

/* Take finished job JO off the board (lock held): done, then its slot,
 * then the board's reference, which may destroy it. */
static void finish_locked(shmc_arena_t *a, struct shmc__obj *p, struct shmc__obj *jo)
{
	struct shmc__pool *b = shmc__pool_body(p);
	struct shmc__job *j = shmc__job_body(jo);
	/* Release: the results and the error are written before (pairs with
	 * the acquire load of done by get). */
	st_release(&j->done, 1);
	shmc__futex_wake(&j->done, INT_MAX);
	struct shmc__pool_ring *r = ring_of(a, b);
	uint64_t pos = ld_relaxed(&j->ring_pos), joff = shmc__off(a, jo);
	uint64_t head = ld_relaxed(&b->head), tail = ld_relaxed(&b->tail);
	if (r == NULL || pos < head || pos >= tail || ld_relaxed(slot(r, pos)) != joff)
		return;
	st_relaxed(slot(r, pos), 0);
	while (head < tail && ld_relaxed(slot(r, head)) == 0)
		head++;
	st_relaxed(&b->head, head);
	if (ld_relaxed(&b->claim) < head)
		st_relaxed(&b->claim, head);
	if (head == tail && r->cap > RING_SHRINK) {
		st_release(&b->ring_off, 0);
		shmc__free(a, shmc__off(a, r));
	}
	shmc__obj_decref(a, joff);
}

/* Complete chunk C of JO with ERR (lock held). @return true when that
 * finished the job: JO may be gone, and must not be touched again */
static bool complete_locked(shmc_arena_t *a, struct shmc__obj *p, struct shmc__obj *jo,
			    uint64_t c, int err)
{
	struct shmc__job *j = shmc__job_body(jo);
	atomic_u64 *chunks = shmc__job_chunks(a, j);
	if (c >= j->nchunks || shmc__chunk_done(ld_relaxed(&chunks[c])))
		return false;
	if (err && c < ld_relaxed(&j->err_chunk)) {
		st_relaxed(&j->err_chunk, c);
		st_relaxed(&j->error, err);
	}
	/* Release: the chunk's results, written by its worker before it took
	 * the lock, are seen by whoever sees DONE (acquire). */
	st_release(&chunks[c], SHMC__CHUNK_DONE | (uint32_t)err);
	uint64_t left = ld_relaxed(&j->left);
	st_relaxed(&j->left, left ? left - 1 : 0);
	st_relaxed(&j->ndone, ld_relaxed(&j->ndone) + 1);
	if (j->mode == SHMC__JOB_IMAP || j->mode == SHMC__JOB_IMAP_UNORDERED)
		shmc__pool_bump(&j->progress);
	if (left > 1)
		return false;
	finish_locked(a, p, jo);
	return true;
}

void shmc__board_complete_locked(shmc_arena_t *a, struct shmc__obj *p, struct shmc__obj *jo,
				 uint64_t c, int err)
{
	complete_locked(a, p, jo, c, err);
}

/* Complete the pending chunks of the job at POS with ERR (lock held).
 * @return how many */
static int cancel_job_locked(shmc_arena_t *a, struct shmc__obj *p, struct shmc__obj *jo,
			     int err)
{
	struct shmc__job *j = shmc__job_body(jo);
	atomic_u64 *chunks = shmc__job_chunks(a, j);
	int n = 0;
	for (uint64_t c = ld_relaxed(&j->next_claim), end = j->nchunks; c < end; c++) {
		if (ld_relaxed(&chunks[c]) != SHMC__CHUNK_PENDING)
			continue;
		n++;
		if (complete_locked(a, p, jo, c, err))
			break; /* the job is finished, and maybe gone */
	}
	return n;
}

void shmc__board_cancel_locked(shmc_arena_t *a, struct shmc__obj *p, int err)
{
	struct shmc__pool *b = shmc__pool_body(p);
	if (!ring_sound(a, b))
		return;
	struct shmc__pool_ring *r = ring_of(a, b);
	for (uint64_t pos = ld_relaxed(&b->claim), tail = ld_relaxed(&b->tail); r && pos < tail;
	     pos++) {
		struct shmc__obj *jo = job_at_pos(a, r, pos);
		if (jo)
			cancel_job_locked(a, p, jo, err);
		r = ring_of(a, b); /* finishing may free an emptied ring */
	}
	st_relaxed(&b->claim, ld_relaxed(&b->tail));
}

bool shmc__board_pending_locked(shmc_arena_t *a, struct shmc__obj *p)
{
	struct shmc__pool *b = shmc__pool_body(p);
	if (!ring_sound(a, b))
		return false;
	struct shmc__pool_ring *r = ring_of(a, b);
	for (uint64_t pos = ld_relaxed(&b->claim), tail = ld_relaxed(&b->tail); r && pos < tail;
	     pos++) {
		struct shmc__obj *jo = job_at_pos(a, r, pos);
		if (jo && first_pending(a, shmc__job_body(jo)) < shmc__job_body(jo)->nchunks)
			return true;
	}
	return false;
}

/* The dead ------------------------------------------------------------------- */

static bool dead(shmc_arena_t *a, uint32_t token)
{
	return token && !shmc__token_alive(a, token);
}

/* Whether the supervisor is dead with work it will never see to. */
static bool orphaned(shmc_arena_t *a, struct shmc__pool *b)
{
	return dead(a, ld_relaxed(&b->sup_token)) &&
	       (ld_relaxed(&b->state) == SHMC__POOL_RUN ||
		ld_relaxed(&b->claim) != ld_relaxed(&b->tail));
}

bool shmc__board_has_dead(shmc_arena_t *a, struct shmc__obj *p)
{
	struct shmc__pool *b = shmc__pool_body(p);
	uint32_t n = b->nworkers < SHMC_POOL_MAX_WORKERS ? b->nworkers : SHMC_POOL_MAX_WORKERS;
	for (uint32_t i = 0; i < n; i++)
		if (dead(a, ld_relaxed(&b->workers[i].token)))
			return true;
	return orphaned(a, b);
}

int shmc__board_reap_locked(shmc_arena_t *a, struct shmc__obj *p)
{
	struct shmc__pool *b = shmc__pool_body(p);
	int n = 0, code = ld_relaxed(&b->state) == SHMC__POOL_TERMINATE ? -ECANCELED
									  : SHMC_EWORKERDIED;
	uint32_t nw = b->nworkers < SHMC_POOL_MAX_WORKERS ? b->nworkers : SHMC_POOL_MAX_WORKERS;
	for (uint32_t i = 0; i < nw; i++) {
		struct shmc__pool_worker *w = &b->workers[i];
		uint32_t t = ld_relaxed(&w->token);
		if (!dead(a, t))
			continue;
		uint64_t joff = ld_relaxed(&w->job_off), c = ld_relaxed(&w->chunk);
		struct shmc__obj *jo = joff ? shmc__job_at(a, joff) : NULL;
		if (jo && c < shmc__job_body(jo)->nchunks &&
		    ld_relaxed(&shmc__job_chunks(a, shmc__job_body(jo))[c]) ==
			    (SHMC__CHUNK_RUNNING | t)) {
			complete_locked(a, p, jo, c, code);
			n++;
		}
		/* Only now: killed before this, the next reaper finds it. */
		st_relaxed(&w->job_off, 0);
		st_relaxed(&w->token, 0);
	}
	if (orphaned(a, b)) {
		/* Nobody will start a worker again. */
		if (ld_relaxed(&b->state) == SHMC__POOL_RUN)
			st_relaxed(&b->state, SHMC__POOL_TERMINATE);
		uint64_t before = ld_relaxed(&b->claim);
		shmc__board_cancel_locked(a, p, -ECANCELED);
		n += before != ld_relaxed(&b->claim);
		shmc__pool_bump(&b->work);
	}
	return n;
}

/* Repair ------------------------------------------------------------------------ */

/* Recount job JO's derived words from its chunk states. @return whether
 * every chunk is done */
static bool recount(shmc_arena_t *a, struct shmc__job *j)
{
	atomic_u64 *chunks = shmc__job_chunks(a, j);
	uint64_t left = 0, ndone = 0, next = j->nchunks, err_chunk = SHMC__NO_CHUNK;
	int err = 0;
	for (uint64_t c = 0; c < j->nchunks; c++) {
		uint64_t s = ld_relaxed(&chunks[c]);
		if (shmc__chunk_done(s)) {
			ndone++;
			if (shmc__chunk_error(s) && err_chunk == SHMC__NO_CHUNK) {
				err_chunk = c;
				err = shmc__chunk_error(s);
			}
		} else {
			left++;
			if (s == SHMC__CHUNK_PENDING && next == j->nchunks)
				next = c;
		}
	}
	st_relaxed(&j->left, left);
	st_relaxed(&j->ndone, ndone);
	st_relaxed(&j->next_claim, next);
	st_relaxed(&j->err_chunk, err_chunk);
	st_relaxed(&j->error, err);
	shmc__pool_bump(&j->progress);
	return left == 0;
}

int shmc__board_repair(shmc_arena_t *a, struct shmc__obj *p)
{
	struct shmc__pool *b = shmc__pool_body(p);
	uint32_t state = ld_relaxed(&b->state);
	if (state < SHMC__POOL_RUN || state > SHMC__POOL_TERMINATE || !ring_sound(a, b))
		return SHMC_ECORRUPT;
	struct shmc__pool_ring *r = ring_of(a, b);
	uint64_t head = ld_relaxed(&b->head), tail = ld_relaxed(&b->tail);
	for (uint64_t pos = head; r && pos < tail; pos++) {
		if (ld_relaxed(slot(r, pos)) == 0)
			continue;
		struct shmc__obj *jo = job_at_pos(a, r, pos);
		if (jo == NULL)
			return SHMC_ECORRUPT;
		if (recount(a, shmc__job_body(jo)))
			finish_locked(a, p, jo); /* what the dead holder was doing */
		r = ring_of(a, b);
	}
	/* head: the first job left; claim: the first with a pending chunk. */
	head = ld_relaxed(&b->head);
	while (r && head < tail && ld_relaxed(slot(r, head)) == 0)
		head++;
	st_relaxed(&b->head, r ? head : tail);
	uint64_t claim = ld_relaxed(&b->head);
	for (; r && claim < tail; claim++) {
		struct shmc__obj *jo = job_at_pos(a, r, claim);
		if (jo && first_pending(a, shmc__job_body(jo)) < shmc__job_body(jo)->nchunks)
			break;
	}
	st_relaxed(&b->claim, r ? claim : tail);
	/* Workers and the supervisor may have missed a wake-up. */
	shmc__pool_bump(&b->work);
	shmc__pool_bump(&b->sup_word);
	return 0;
}
