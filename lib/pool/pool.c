/*
 * pool.c -- the Pool object: Python's manager.Pool(), its kind, and its
 * life: new, close, terminate, join.
 *
 * Layout: struct shmc__pool (pool.h): the state, the fixed parameters, the
 * board of jobs (board.c), one entry per worker, and futex words for the
 * three kinds of sleepers -- idle workers (work), the supervisor
 * (sup_word), joiners (gone).
 *
 * States. RUN accepts tasks; close() makes it CLOSE, after which workers run
 * what is on the board and end, then the supervisor ends; terminate() makes
 * it TERMINATE from any state, fails every pending chunk at once, and the
 * supervisor kills the workers (failing the running chunks) and ends. The
 * state is one word changed under the pool's lock, so it moves forward
 * only: RUN -> CLOSE -> TERMINATE, or RUN -> TERMINATE. A pool whose
 * supervisor died is moved to TERMINATE by whoever notices (board.c).
 *
 * Who has ended. The supervisor and each worker are known by their process
 * tokens, whose liveness the kernel keeps (a slot's lock, released at
 * death): join() waits until no token of the pool is alive, sleeping on
 * `gone` (bumped by a supervisor that ends normally) in naps, so that one
 * killed outright is noticed within a nap. Only the process that forked the
 * supervisor may waitpid() it; it remembers which supervisors are its
 * children in a process-local list (a fork child starts with it empty).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memory/alloc.h"
#include "pool/pool.h"
#include "values/repr.h"
#include "values/venc.h"

#define START_WAIT_S 30.0 /* how long new() waits for its supervisor */

/* Supervisors this process forked and has not reaped --------------------------- */

#define MAX_CHILDREN 256
static struct child {
	const void *pool; /* the pool object's address here */
	uint64_t id;      /* and its serial number: an address may be reused */
	pid_t pid;
} children[MAX_CHILDREN];
static pthread_mutex_t children_mu = PTHREAD_MUTEX_INITIALIZER;

static void children_lock(void)
{
	pthread_mutex_lock(&children_mu);
}

static void children_unlock(void)
{
	pthread_mutex_unlock(&children_mu);
}

static void children_forget(void)
{
	/* A fork child's children are its own: none yet. */
	memset(children, 0, sizeof(children));
	children_unlock();
}

static void children_install(void)
{
	pthread_atfork(children_lock, children_unlock, children_forget);
}

static void child_add(struct shmc__obj *p, pid_t pid)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, children_install);
	children_lock();
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid == 0) {
			children[i] = (struct child){p, p->id, pid};
			break;
		} /* full: it is left a zombie until we exit */
	children_unlock();
}

/* The supervisor of P if this process forked it (and forgets it), or 0. */
static pid_t child_take(struct shmc__obj *p)
{
	pid_t pid = 0;
	children_lock();
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid && children[i].pool == p && children[i].id == p->id) {
			pid = children[i].pid;
			children[i].pid = 0;
			break;
		}
	children_unlock();
	return pid;
}

static void reap_child(struct shmc__obj *p)
{
	pid_t pid = child_take(p);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* Kind functions ----------------------------------------------------------------- */

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	struct shmc__pool *b = shmc__pool_body(o);
	/* Every job on the board holds a reference to the pool: none is left
	 * here, unless the arena is corrupt (then leak them, never drop them
	 * twice). */
	uint64_t off = ld_relaxed(&b->ring_off);
	if (off && shmc__block_size(a, off))
		shmc__free(a, off);
	if (b->names_word)
		shmc__word_drop(a, b->names_word);
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	return shmc__board_repair(a, o);
}

static const char *state_name(uint32_t s)
{
	return s == SHMC__POOL_RUN ? "RUN" : s == SHMC__POOL_CLOSE ? "CLOSE" : "TERMINATE";
}

static int pool_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_POOL, &o);
	if (rc)
		return rc;
	struct shmc__pool *b = shmc__pool_body(o);
	char buf[96];
	snprintf(buf, sizeof(buf), "<multiprocessing.pool.Pool state=%s pool_size=%u>",
		 state_name(ld_relaxed(&b->state)), b->nworkers);
	struct shmc__sbuf sb = {0};
	shmc__sb_puts(&sb, buf);
	return shmc__sb_finish(&sb, out);
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	struct shmc__pool *b = shmc__pool_body(o);
	uint32_t state = ld_relaxed(&b->state);
	if (state < SHMC__POOL_RUN || state > SHMC__POOL_TERMINATE || b->nworkers == 0 ||
	    b->nworkers > SHMC_POOL_MAX_WORKERS)
		shmc__walk_error(w, "pool %#llx: state %u, %u workers",
				 (unsigned long long)shmc__off(a, o), state, b->nworkers);
	shmc__walk_word(w, b->names_word, "pool task names");
	uint64_t off = ld_acquire(&b->ring_off), head = ld_acquire(&b->head),
		 claim = ld_acquire(&b->claim), tail = ld_acquire(&b->tail);
	if (off == 0) {
		if (head != tail)
			shmc__walk_error(w, "pool %#llx: jobs [%llu, %llu) without a ring",
					 (unsigned long long)shmc__off(a, o),
					 (unsigned long long)head, (unsigned long long)tail);
		return;
	}
	struct shmc__pool_ring *r = shmc__at(a, off, sizeof(*r), 16);
	if (r == NULL || r->magic != SHMC__POOL_RING_MAGIC || r->cap == 0 ||
	    (r->cap & (r->cap - 1)) || r->cap > (a->capacity - off) / sizeof(uint64_t) ||
	    head > claim || claim > tail || tail - head > r->cap) {
		shmc__walk_error(w, "pool %#llx: ring %#llx, jobs [%llu, %llu, %llu)",
				 (unsigned long long)shmc__off(a, o), (unsigned long long)off,
				 (unsigned long long)head, (unsigned long long)claim,
				 (unsigned long long)tail);
		return;
	}
	if (!shmc__walk_block(w, off, sizeof(*r) + r->cap * sizeof(uint64_t), "pool ring"))
		return;
	for (uint64_t pos = head; pos != tail; pos++) {
		uint64_t j = ld_acquire(&r->job[pos & (r->cap - 1)]);
		if (j)
			shmc__walk_ref(w, j, "pool job");
	}
}

const struct shmc__kind shmc__pool_kind = {
	.typeid = "Pool",
	.proxy = "PoolProxy",
	.body_size = sizeof(struct shmc__pool),
	.destroy = destroy,
	.repair = repair,
	.str = pool_str,
	.walk = walk,
};

/* Public API ---------------------------------------------------------------------- */

/* Wait (in naps) for the supervisor's start, or for its death. */
static int await_supervisor(struct shmc__pool *b, pid_t pid)
{
	int64_t deadline = shmc__now_ns() + (int64_t)(START_WAIT_S * 1e9);
	for (;;) {
		uint32_t seen = ld_acquire(&b->sup_word);
		if (ld_acquire(&b->sup_token))
			return 0;
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR)) {
			/* It could not use the arena: no slot was left for it. */
			return r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3 ? SHMC_EPROCS
										 : -ECHILD;
		}
		if (shmc__expired(deadline)) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -ETIMEDOUT;
		}
		shmc__nap(&b->sup_word, seen, deadline);
	}
}

int shmc_pool_new(shmc_arena_t *a, unsigned nworkers, const shmc_pool_options_t *opts,
		  shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	if (nworkers == 0 || nworkers > SHMC_POOL_MAX_WORKERS)
		return -EINVAL;
	shmc_pool_options_t o = {0};
	if (opts)
		o = *opts;
	shmc_value_t names;
	uint64_t nw;
	int rc = shmc__task_names(&names);
	if (rc)
		return rc;
	rc = shmc__word_store(a, names, &nw);
	shmc_value_free(&names);
	if (rc)
		return rc;
	shmc_obj_t *h;
	if ((rc = shmc__obj_create(a, SHMC_KIND_POOL, &h)) != 0) {
		shmc__word_drop(a, nw);
		return rc;
	}
	struct shmc__obj *p = shmc__obj_of(h);
	struct shmc__pool *b = shmc__pool_body(p);
	b->names_word = nw;
	st_relaxed(&b->state, SHMC__POOL_RUN);
	b->nworkers = nworkers;
	b->maxtasks = o.maxtasksperchild;
	b->creator_token = a->token;
	b->creator_pid = (uint32_t)getpid();
	b->image_id = shmc__task_image_id();
	/* Release: the body is complete before another process sees it. */
	atomic_thread_fence(memory_order_release);
	fflush(NULL); /* else the children would write our buffers again */
	pid_t pid = fork();
	if (pid < 0) {
		rc = -errno;
		shmc_obj_release(h);
		return rc;
	}
	if (pid == 0)
		shmc__pool_supervise(h, &o);
	child_add(p, pid);
	if ((rc = await_supervisor(b, pid)) != 0) {
		child_take(p); /* reaped already */
		shmc_obj_release(h);
		return rc;
	}
	*out = h;
	return 0;
}

int shmc_pool_close(shmc_obj_t *h)
{
	struct shmc__obj *p;
	int rc = shmc__resolve(h, SHMC_KIND_POOL, &p);
	if (rc || (rc = shmc__pool_lock(shmc__handle_arena(h), p)) != 0)
		return rc;
	struct shmc__pool *b = shmc__pool_body(p);
	bool changed = ld_relaxed(&b->state) == SHMC__POOL_RUN;
	if (changed)
		st_relaxed(&b->state, SHMC__POOL_CLOSE);
	shmc__pool_unlock(shmc__handle_arena(h), p);
	if (changed) {
		shmc__pool_bump(&b->work);
		shmc__pool_bump(&b->sup_word);
	}
	return 0;
}

/* Whether no process of the pool is alive. */
static bool ended(shmc_arena_t *a, struct shmc__pool *b)
{
	uint32_t t = ld_acquire(&b->sup_token);
	if (t && shmc__token_alive(a, t))
		return false;
	for (uint32_t i = 0; i < b->nworkers && i < SHMC_POOL_MAX_WORKERS; i++) {
		t = ld_relaxed(&b->workers[i].token);
		if (t && shmc__token_alive(a, t))
			return false;
	}
	return true;
}

/* Wait until the pool's processes have ended, then finish what they left
 * and reap the supervisor if it is our child. */
static int await_end(shmc_obj_t *h, struct shmc__obj *p, int64_t deadline)
{
	shmc_arena_t *a = shmc__handle_arena(h);
	struct shmc__pool *b = shmc__pool_body(p);
	for (;;) {
		uint32_t seen = ld_acquire(&b->gone);
		if (ended(a, b))
			break;
		if (shmc__expired(deadline))
			return -ETIMEDOUT;
		shmc__nap(&b->gone, seen, deadline);
	}
	int rc = shmc__pool_lock(a, p);
	if (rc)
		return rc;
	shmc__board_reap_locked(a, p);
	shmc__pool_unlock(a, p);
	reap_child(p);
	return 0;
}

/* Whether this process is one of P's (which would wait for itself). */
static bool one_of_ours(shmc_arena_t *a, struct shmc__pool *b)
{
	if (ld_relaxed(&b->sup_token) == a->token)
		return true;
	for (uint32_t i = 0; i < b->nworkers && i < SHMC_POOL_MAX_WORKERS; i++)
		if (ld_relaxed(&b->workers[i].token) == a->token)
			return true;
	return false;
}

int shmc_pool_terminate(shmc_obj_t *h)
{
	struct shmc__obj *p;
	int rc = shmc__resolve(h, SHMC_KIND_POOL, &p);
	if (rc || (rc = shmc__pool_lock(shmc__handle_arena(h), p)) != 0)
		return rc;
	struct shmc__pool *b = shmc__pool_body(p);
	if (ld_relaxed(&b->state) != SHMC__POOL_TERMINATE) {
		st_relaxed(&b->state, SHMC__POOL_TERMINATE);
		shmc__board_cancel_locked(shmc__handle_arena(h), p, -ECANCELED);
	}
	shmc__pool_unlock(shmc__handle_arena(h), p);
	shmc__pool_bump(&b->work);
	shmc__pool_bump(&b->sup_word);
	/* A worker terminating its own pool is killed while it waits here. */
	return await_end(h, p, -1);
}

int shmc_pool_join(shmc_obj_t *h, double timeout)
{
	struct shmc__obj *p;
	int64_t deadline;
	int rc = shmc__resolve(h, SHMC_KIND_POOL, &p);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	struct shmc__pool *b = shmc__pool_body(p);
	if (ld_acquire(&b->state) == SHMC__POOL_RUN)
		return SHMC_ERUNNING;
	if (one_of_ours(shmc__handle_arena(h), b))
		return -EDEADLK;
	return await_end(h, p, deadline);
}

int shmc__pool_pids(shmc_obj_t *h, int32_t *sup, int32_t *pids, int n)
{
	struct shmc__obj *p;
	int rc = shmc__resolve(h, SHMC_KIND_POOL, &p);
	if (rc)
		return rc;
	shmc_arena_t *a = shmc__handle_arena(h);
	struct shmc__pool *b = shmc__pool_body(p);
	uint32_t t = ld_acquire(&b->sup_token);
	*sup = t && shmc__token_alive(a, t) ? (int32_t)ld_relaxed(&b->sup_pid) : 0;
	int k = 0;
	for (uint32_t i = 0; i < b->nworkers && i < SHMC_POOL_MAX_WORKERS; i++) {
		t = ld_relaxed(&b->workers[i].token);
		if (t && shmc__token_alive(a, t)) {
			if (k < n)
				pids[k] = (int32_t)ld_relaxed(&b->workers[i].pid);
			k++;
		}
	}
	return k;
}
