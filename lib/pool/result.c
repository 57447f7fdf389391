/*
 * result.c -- AsyncResult and Iterator: Python's ApplyResult, MapResult,
 * IMapIterator and IMapUnorderedIterator, as managed objects any process
 * may wait on. Each is a job (layout in pool.h): the task function, the
 * items' argument words, a result word per item, a state word per chunk.
 *
 * Building. A submitter builds the job privately -- object, words, chunk
 * states, the arguments encoded -- and only then hands it to the board
 * (board.c), so that a failure (or the submitter's death) before that leaves
 * no trace the reaper does not clean: the job is held by the submitter's
 * handle alone until it is on the board. Everything fixed at building is
 * never written again.
 *
 * Running. A worker decodes its chunk's arguments, calls the task for each
 * item outside any lock and any epoch section (a task may run for hours),
 * and writes each result word once; the chunk's DONE store under the pool's
 * lock publishes them. A result word is never replaced, and lives as long
 * as the job: readers need no lock to decode it once they have seen its
 * chunk DONE (acquire).
 *
 * Waiting. get() and wait() sleep on the job's done word, next() on its
 * progress word (bumped at every chunk done), through the waiter's sleep
 * loop (sync/waiter.c). Each nap that runs out probes the pool (reached
 * through the job's reference to it) for dead workers and a dead
 * supervisor, and finishes what they left: a waiter never depends on the
 * supervisor being alive.
 *
 * Iterating. What next() has handed out is the consumer's state, changed
 * under the job's own owner lock (never held while sleeping, and never
 * together with the pool's). In order (imap): YIELDED is the next item, one
 * store per item. Unordered: a chunk is taken in three stores -- its items'
 * position (cur_pos), cur_chunk (the intent), then its TAKEN bit
 * (fetch-or: the pool never writes a chunk once DONE) -- and handed out
 * item by item; the job's repair, after a consumer died holding the lock,
 * completes an intent whose TAKEN bit is missing and recounts the chunks
 * taken, so that no chunk is handed out twice or lost.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "memory/alloc.h"
#include "pool/pool.h"
#include "sync/waiter.h"
#include "values/repr.h"
#include "values/value.h"
#include "values/venc.h"

struct shmc__obj *shmc__job_at(shmc_arena_t *a, uint64_t off)
{
	struct shmc__obj *o =
		shmc__at(a, off, sizeof(struct shmc__obj) + sizeof(struct shmc__job), 16);
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC || !shmc__is_job_kind(o->kind))
		return NULL;
	struct shmc__job *j = shmc__job_body(o);
	uint64_t n = j->n, cs = j->chunksize, nc = j->nchunks;
	if (n > a->capacity / 16 || cs == 0 || nc != n / cs + (n % cs != 0))
		return NULL;
	if (n && shmc__at(a, j->words_off, 2 * n * sizeof(uint64_t), 16) == NULL)
		return NULL;
	if (nc && shmc__at(a, j->chunks_off, nc * sizeof(uint64_t), 16) == NULL)
		return NULL;
	return o;
}

/* Kind functions ------------------------------------------------------------- */

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	struct shmc__job *j = shmc__job_body(o);
	/* Each block on its own: a job half built has some of them. */
	uint64_t n = j->n <= a->capacity / 16 ? j->n : 0;
	atomic_u64 *words =
		n ? shmc__at(a, j->words_off, 2 * n * sizeof(uint64_t), 16) : NULL;
	if (words) {
		for (uint64_t i = 0; i < 2 * n; i++) {
			uint64_t w = ld_relaxed(&words[i]);
			if (w)
				shmc__word_drop(a, w);
		}
		shmc__free(a, j->words_off);
	}
	if (j->chunks_off)
		shmc__free(a, j->chunks_off);
	if (j->name_word)
		shmc__word_drop(a, j->name_word);
	uint64_t poff = ld_relaxed(&j->pool_off);
	if (poff)
		shmc__obj_decref(a, poff); /* not the last while the pool is locked:
					      its locker holds a handle */
}

static bool chunk_taken(uint64_t s)
{
	return (s & SHMC__CHUNK_TAKEN) != 0;
}

/* A consumer died holding the job's lock: see the essay. */
static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	if (shmc__job_at(a, shmc__off(a, o)) == NULL)
		return SHMC_ECORRUPT;
	struct shmc__job *j = shmc__job_body(o);
	if (j->mode != SHMC__JOB_IMAP_UNORDERED) {
		if (ld_relaxed(&j->yielded) > j->n)
			st_relaxed(&j->yielded, j->n);
		return 0;
	}
	atomic_u64 *chunks = shmc__job_chunks(a, j);
	uint64_t cur = ld_relaxed(&j->cur_chunk), pos = ld_relaxed(&j->cur_pos);
	if (cur != SHMC__NO_CHUNK &&
	    (cur >= j->nchunks || !shmc__chunk_done(ld_relaxed(&chunks[cur])) ||
	     pos < shmc__chunk_first(j, cur) || pos >= shmc__chunk_end(j, cur))) {
		st_relaxed(&j->cur_chunk, SHMC__NO_CHUNK);
		cur = SHMC__NO_CHUNK;
	}
	if (cur != SHMC__NO_CHUNK)
		atomic_fetch_or(&chunks[cur], SHMC__CHUNK_TAKEN); /* the intent */
	uint64_t taken = 0, handed = 0;
	for (uint64_t c = 0; c < j->nchunks; c++) {
		if (!chunk_taken(ld_relaxed(&chunks[c])))
			continue;
		taken++;
		handed += c == cur ? pos - shmc__chunk_first(j, c)
				   : shmc__chunk_end(j, c) - shmc__chunk_first(j, c);
	}
	st_relaxed(&j->taken, taken);
	if (ld_relaxed(&j->yielded) < j->n) /* an iteration ended stays ended */
		st_relaxed(&j->yielded, handed);
	st_relaxed(&j->scan, 0);
	return 0;
}

static const char *class_name(const struct shmc__job *j)
{
	switch (j->mode) {
	case SHMC__JOB_APPLY:
		return "ApplyResult";
	case SHMC__JOB_MAP:
		return "MapResult";
	case SHMC__JOB_IMAP:
		return "IMapIterator";
	default:
		return "IMapUnorderedIterator";
	}
}

static int job_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	char buf[96];
	snprintf(buf, sizeof(buf), "<multiprocessing.pool.%s object at %p>",
		 class_name(shmc__job_body(o)), (void *)shmc__job_body(o));
	struct shmc__sbuf sb = {0};
	shmc__sb_puts(&sb, buf);
	return shmc__sb_finish(&sb, out);
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	if (shmc__job_at(a, shmc__off(a, o)) == NULL) {
		shmc__walk_error(w, "pool job %#llx: malformed",
				 (unsigned long long)shmc__off(a, o));
		return;
	}
	struct shmc__job *j = shmc__job_body(o);
	if (j->n && shmc__walk_block(w, j->words_off, 2 * j->n * sizeof(uint64_t),
				     "pool job words")) {
		atomic_u64 *words = shmc__job_words(a, j);
		for (uint64_t i = 0; i < 2 * j->n; i++) {
			uint64_t x = ld_acquire(&words[i]);
			if (x)
				shmc__walk_word(w, x, i < j->n ? "pool job argument"
							       : "pool job result");
		}
	}
	if (j->nchunks)
		shmc__walk_block(w, j->chunks_off, j->nchunks * sizeof(uint64_t),
				 "pool job chunks");
	if (j->name_word)
		shmc__walk_word(w, j->name_word, "pool job task name");
	uint64_t poff = ld_acquire(&j->pool_off);
	if (poff)
		shmc__walk_ref(w, poff, "pool job's pool");
}

const struct shmc__kind shmc__async_result_kind = {
	.typeid = "AsyncResult",
	.proxy = "AutoProxy[AsyncResult]",
	.body_size = sizeof(struct shmc__job),
	.destroy = destroy,
	.repair = repair,
	.str = job_str,
	.walk = walk,
};

const struct shmc__kind shmc__iterator_kind = {
	.typeid = "Iterator",
	.proxy = "IteratorProxy",
	.body_size = sizeof(struct shmc__job),
	.destroy = destroy,
	.repair = repair,
	.str = job_str,
	.walk = walk,
};

/* Building and submitting -------------------------------------------------- */

/* Whether NAME is one of pool P's registered names. */
static int name_known(shmc_obj_t *ph, const char *name, size_t len)
{
	struct shmc__reader rd;
	int rc = shmc__reader_enter(ph, SHMC_KIND_POOL, &rd);
	if (rc)
		return rc;
	shmc_value_t names;
	rc = shmc__word_load(rd.a, shmc__pool_body(rd.o)->names_word, &names);
	shmc__reader_exit(&rd);
	if (rc)
		return rc;
	rc = SHMC_ENOFUNC;
	for (size_t i = 0; i < shmc_seq_len(names); i++) {
		shmc_value_t *s = shmc_seq_at(names, (int64_t)i);
		if (s->type == SHMC_STR && s->len == len && memcmp(s->str, name, len) == 0)
			rc = 0;
	}
	shmc_value_free(&names);
	return rc;
}

/* Fill the fixed part of job J for TASK (the name encoded into a word). */
static int set_task(shmc_obj_t *ph, struct shmc__pool *pb, struct shmc__job *j,
		    shmc_task_t task)
{
	if ((task.fn == NULL) == (task.name == NULL))
		return -EINVAL;
	if (task.fn) {
		/* A pointer is only meaningful in the creator's image. */
		if (shmc__task_image_id() != pb->image_id)
			return SHMC_ENOFUNC;
		j->fn_kind = SHMC__FN_PTR;
		j->fn_ptr = (uint64_t)(uintptr_t)task.fn;
		j->fn_mac = shmc__task_mac(j->fn_ptr);
		return 0;
	}
	size_t len = strlen(task.name);
	if (len == 0 || len > 255)
		return -EINVAL;
	int rc = name_known(ph, task.name, len);
	if (rc)
		return rc;
	j->fn_kind = SHMC__FN_NAME;
	return shmc__word_store(shmc__handle_arena(ph), shmc_strn(task.name, len), &j->name_word);
}

/* Chunks of Python's default size: about four per worker. */
static uint64_t default_chunksize(uint64_t n, uint32_t nworkers)
{
	uint64_t per = 4 * (uint64_t)(nworkers ? nworkers : 1);
	uint64_t cs = n / per + (n % per != 0);
	return cs ? cs : 1;
}

static int submit(shmc_obj_t *ph, unsigned mode, bool star, shmc_task_t task,
		  shmc_value_t items, int64_t chunksize, shmc_obj_t **out)
{
	struct shmc__obj *p;
	int rc = shmc__resolve(ph, SHMC_KIND_POOL, &p);
	if (rc)
		return rc;
	if (out == NULL || chunksize < 0)
		return -EINVAL;
	struct shmc__pool *pb = shmc__pool_body(p);
	if (ld_relaxed(&pb->state) != SHMC__POOL_RUN)
		return SHMC_ENOTRUNNING; /* checked again on the board */
	if (items.type == SHMC_ERROR)
		return (int)items.i;
	uint64_t n = 1;
	if (mode != SHMC__JOB_APPLY) {
		if (items.type != SHMC_TUPLE && items.type != SHMC_LIST)
			return SHMC_ETYPE;
		n = shmc_seq_len(items);
		for (uint64_t i = 0; star && i < n; i++) {
			shmc_type_t t = shmc_seq_at(items, (int64_t)i)->type;
			if (t != SHMC_TUPLE && t != SHMC_LIST)
				return SHMC_ETYPE;
		}
	}
	uint64_t cs = (uint64_t)chunksize;
	if (mode == SHMC__JOB_APPLY || (cs == 0 && mode != SHMC__JOB_MAP))
		cs = 1;
	else if (cs == 0)
		cs = default_chunksize(n, pb->nworkers);
	shmc_arena_t *a = shmc__handle_arena(ph);
	shmc_obj_t *jh;
	unsigned kind = mode == SHMC__JOB_IMAP || mode == SHMC__JOB_IMAP_UNORDERED
				? SHMC_KIND_ITERATOR
				: SHMC_KIND_ASYNC_RESULT;
	if ((rc = shmc__obj_create(a, kind, &jh)) != 0)
		return rc;
	struct shmc__obj *jo = shmc__obj_of(jh);
	struct shmc__job *j = shmc__job_body(jo);
	j->mode = mode;
	j->n = n;
	j->chunksize = cs;
	j->nchunks = n / cs + (n % cs != 0);
	st_relaxed(&j->err_chunk, SHMC__NO_CHUNK);
	st_relaxed(&j->cur_chunk, SHMC__NO_CHUNK);
	st_relaxed(&j->left, j->nchunks);
	/* From here on, destroying the job frees what it has (destroy()). */
	if ((rc = set_task(ph, pb, j, task)) != 0)
		goto fail;
	if (n) {
		uint64_t off;
		if (n > SHMC__MAX_BLOCK / 16) {
			rc = SHMC_EFULL;
			goto fail;
		}
		if ((rc = shmc__alloc(a, 2 * n * sizeof(uint64_t), &off)) != 0)
			goto fail;
		memset(a->base + off, 0, 2 * n * sizeof(uint64_t));
		j->words_off = off;
		if ((rc = shmc__alloc(a, j->nchunks * sizeof(uint64_t), &off)) != 0)
			goto fail;
		memset(a->base + off, 0, j->nchunks * sizeof(uint64_t));
		j->chunks_off = off;
		atomic_u64 *words = shmc__job_words(a, j);
		for (uint64_t i = 0; i < n; i++) {
			shmc_value_t v = mode == SHMC__JOB_APPLY ? items
								 : *shmc_seq_at(items, (int64_t)i);
			uint64_t w;
			if ((rc = shmc__word_store(a, v, &w)) != 0)
				goto fail;
			st_relaxed(&words[i], w);
		}
	}
	if (j->nchunks == 0) {
		st_relaxed(&j->done, 1); /* nothing to run: ready at once */
	} else if ((rc = shmc__board_submit(a, p, jo)) != 0) {
		goto fail;
	}
	*out = jh;
	return 0;
fail:
	shmc_obj_release(jh);
	return rc;
}

int shmc_pool_apply_async(shmc_obj_t *pool, shmc_task_t task, shmc_value_t arg,
			  shmc_obj_t **out)
{
	return submit(pool, SHMC__JOB_APPLY, false, task, arg, 1, out);
}

int shmc_pool_map_async(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
			int64_t chunksize, shmc_obj_t **out)
{
	return submit(pool, SHMC__JOB_MAP, false, task, items, chunksize, out);
}

int shmc_pool_starmap_async(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
			    int64_t chunksize, shmc_obj_t **out)
{
	return submit(pool, SHMC__JOB_MAP, true, task, items, chunksize, out);
}

int shmc_pool_imap(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
		   int64_t chunksize, shmc_obj_t **out)
{
	return submit(pool, SHMC__JOB_IMAP, false, task, items, chunksize, out);
}

int shmc_pool_imap_unordered(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
			     int64_t chunksize, shmc_obj_t **out)
{
	return submit(pool, SHMC__JOB_IMAP_UNORDERED, false, task, items, chunksize, out);
}

/* The blocking forms: submit, get, release. */
static int get_once(shmc_obj_t *res, shmc_value_t *out)
{
	int rc = shmc_async_result_get(res, SHMC_FOREVER, out);
	shmc_obj_release(res);
	return rc;
}

int shmc_pool_apply(shmc_obj_t *pool, shmc_task_t task, shmc_value_t arg, shmc_value_t *out)
{
	shmc_obj_t *res;
	int rc = out ? shmc_pool_apply_async(pool, task, arg, &res) : -EINVAL;
	return rc ? rc : get_once(res, out);
}

int shmc_pool_map(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items, int64_t chunksize,
		  shmc_value_t *out)
{
	shmc_obj_t *res;
	int rc = out ? shmc_pool_map_async(pool, task, items, chunksize, &res) : -EINVAL;
	return rc ? rc : get_once(res, out);
}

int shmc_pool_starmap(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
		      int64_t chunksize, shmc_value_t *out)
{
	shmc_obj_t *res;
	int rc = out ? shmc_pool_starmap_async(pool, task, items, chunksize, &res) : -EINVAL;
	return rc ? rc : get_once(res, out);
}

/* Running a chunk (in a worker) ---------------------------------------------- */

/* Decode word W (immutable while the job lives) into *OUT. */
static int load(shmc_arena_t *a, uint64_t w, shmc_value_t *out)
{
	int rc;
	struct shmc__rec *r = shmc__rec(a, &rc);
	if (r == NULL)
		return rc;
	shmc__epoch_enter(a, r);
	rc = w ? shmc__word_load(a, w, out) : SHMC_ECORRUPT;
	shmc__epoch_exit(r);
	return rc;
}

static int task_fn(shmc_arena_t *a, struct shmc__job *j, void *pool_ctx, shmc_task_fn *fn,
		   void **ctx)
{
	if (j->fn_kind == SHMC__FN_PTR) {
		/* Never call a word that this image did not put there. */
		if (shmc__task_mac(j->fn_ptr) != j->fn_mac)
			return SHMC_ECORRUPT;
		*fn = (shmc_task_fn)(uintptr_t)j->fn_ptr;
		*ctx = pool_ctx;
		return 0;
	}
	if (j->fn_kind != SHMC__FN_NAME)
		return SHMC_ECORRUPT;
	shmc_value_t name;
	int rc = load(a, j->name_word, &name);
	if (rc)
		return rc;
	rc = name.type == SHMC_STR ? shmc__task_lookup(name.str, name.len, fn, ctx)
				   : SHMC_ECORRUPT;
	shmc_value_free(&name);
	return rc;
}

int shmc__job_run(shmc_arena_t *a, struct shmc__obj *jo, uint64_t c, void *pool_ctx)
{
	struct shmc__job *j = shmc__job_body(jo);
	shmc_task_fn fn;
	void *ctx;
	int rc = task_fn(a, j, pool_ctx, &fn, &ctx);
	if (rc)
		return rc;
	atomic_u64 *words = shmc__job_words(a, j);
	for (uint64_t i = shmc__chunk_first(j, c), end = shmc__chunk_end(j, c); i < end; i++) {
		shmc_value_t arg, res = shmc_none();
		if ((rc = load(a, ld_relaxed(&words[i]), &arg)) != 0)
			return rc;
		rc = fn(arg, &res, ctx); /* no lock, no epoch section held */
		shmc_value_free(&arg);
		uint64_t w = 0;
		if (rc == 0)
			rc = shmc__word_store(a, res, &w);
		else if (rc > 0)
			rc = -rc;
		shmc_value_free(&res);
		if (rc)
			return rc;
		/* Written once; published by the chunk's DONE store. */
		uint64_t old = ld_relaxed(&words[j->n + i]);
		st_relaxed(&words[j->n + i], w);
		if (old)
			shmc__word_drop(a, old); /* not ours to find there: a stray */
	}
	return 0;
}

/* Waiting ------------------------------------------------------------------------ */

struct wait_ctx {
	shmc_arena_t *a;
	struct shmc__obj *jo;
	struct shmc__job *j;
};

static bool done_ready(void *ctx)
{
	struct wait_ctx *w = ctx;
	/* Acquire: pairs with the release store in the board's finish. */
	return ld_acquire(&w->j->done) == 1;
}

static uint32_t done_seen(void *ctx)
{
	struct wait_ctx *w = ctx;
	return ld_acquire(&w->j->done);
}

/* After a nap without news: finish what dead processes left on the pool. */
static int probe(void *ctx)
{
	struct wait_ctx *w = ctx;
	uint64_t poff = ld_acquire(&w->j->pool_off);
	struct shmc__obj *p = shmc__at(w->a, poff, sizeof(struct shmc__obj), 16);
	/* The job's reference keeps the pool alive while we hold the job. */
	if (p == NULL || p->magic != SHMC__OBJ_MAGIC || p->kind != SHMC_KIND_POOL)
		return 0;
	if (!shmc__board_has_dead(w->a, p))
		return 0;
	int rc = shmc__pool_lock(w->a, p);
	if (rc)
		return rc;
	shmc__board_reap_locked(w->a, p);
	shmc__pool_unlock(w->a, p);
	return 0;
}

static int wait_done(struct wait_ctx *w, int64_t deadline)
{
	const struct shmc__sleep s = {
		.word = &w->j->done,
		.ready = done_ready,
		.seen = done_seen,
		.probe = probe,
	};
	return shmc__waiter_sleep(&s, w, deadline);
}

static int resolve_result(shmc_obj_t *h, struct wait_ctx *w)
{
	int rc = shmc__resolve(h, SHMC_KIND_ASYNC_RESULT, &w->jo);
	if (rc)
		return rc;
	w->a = shmc__handle_arena(h);
	if (shmc__job_at(w->a, shmc__off(w->a, w->jo)) == NULL)
		return SHMC_ECORRUPT;
	w->j = shmc__job_body(w->jo);
	return 0;
}

int shmc_async_result_wait(shmc_obj_t *h, double timeout)
{
	struct wait_ctx w;
	int64_t deadline;
	int rc = resolve_result(h, &w);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	return wait_done(&w, deadline);
}

int shmc_async_result_ready(shmc_obj_t *h)
{
	struct wait_ctx w;
	int rc = resolve_result(h, &w);
	return rc ? rc : done_ready(&w);
}

int shmc_async_result_successful(shmc_obj_t *h)
{
	struct wait_ctx w;
	int rc = resolve_result(h, &w);
	if (rc)
		return rc;
	if (!done_ready(&w))
		return SHMC_ENOTREADY;
	return ld_relaxed(&w.j->err_chunk) == SHMC__NO_CHUNK;
}

int shmc_async_result_get(shmc_obj_t *h, double timeout, shmc_value_t *out)
{
	struct wait_ctx w;
	int64_t deadline;
	int rc = resolve_result(h, &w);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	if (out == NULL)
		return -EINVAL;
	if ((rc = wait_done(&w, deadline)) != 0)
		return rc;
	struct shmc__job *j = w.j;
	if (ld_relaxed(&j->err_chunk) != SHMC__NO_CHUNK)
		return ld_relaxed(&j->error);
	atomic_u64 *words = shmc__job_words(w.a, j);
	if (j->mode == SHMC__JOB_APPLY)
		return load(w.a, ld_relaxed(&words[j->n]), out);
	shmc_value_t l;
	if ((rc = shmc__seq_new(SHMC_LIST, j->n, &l)) != 0)
		return rc;
	for (uint64_t i = 0; i < j->n; i++) {
		shmc_value_t v;
		if ((rc = load(w.a, ld_relaxed(&words[j->n + i]), &v)) != 0) {
			shmc_value_free(&l);
			return rc;
		}
		shmc__seq_push(&l, v);
	}
	*out = l;
	return 0;
}

/* Iterators ------------------------------------------------------------------------ */

static bool next_ready(void *ctx)
{
	struct wait_ctx *w = ctx;
	struct shmc__job *j = w->j;
	uint64_t y = ld_relaxed(&j->yielded);
	if (y >= j->n)
		return true;
	if (j->mode == SHMC__JOB_IMAP)
		return shmc__chunk_done(ld_acquire(&shmc__job_chunks(w->a, j)[y / j->chunksize]));
	return ld_relaxed(&j->cur_chunk) != SHMC__NO_CHUNK ||
	       ld_acquire(&j->ndone) > ld_relaxed(&j->taken);
}

static uint32_t next_seen(void *ctx)
{
	struct wait_ctx *w = ctx;
	return ld_acquire(&w->j->progress);
}

/* The next result in order (job lock held). @return 1, 0 (none left),
 * -EAGAIN (not yet), or an error */
static int next_in_order(struct wait_ctx *w, shmc_value_t *out)
{
	struct shmc__job *j = w->j;
	uint64_t y = ld_relaxed(&j->yielded);
	if (y >= j->n)
		return 0;
	uint64_t c = y / j->chunksize;
	uint64_t s = ld_acquire(&shmc__job_chunks(w->a, j)[c]);
	if (!shmc__chunk_done(s))
		return -EAGAIN;
	int err = shmc__chunk_error(s);
	if (err) {
		/* Once per chunk; a chunks' generator ends there (Python). */
		st_relaxed(&j->yielded, j->chunksize > 1 ? j->n : shmc__chunk_end(j, c));
		return err;
	}
	int rc = load(w->a, ld_relaxed(&shmc__job_words(w->a, j)[j->n + y]), out);
	if (rc)
		return rc;
	st_relaxed(&j->yielded, y + 1);
	return 1;
}

/* The next result to have finished (job lock held). */
static int next_unordered(struct wait_ctx *w, shmc_value_t *out)
{
	struct shmc__job *j = w->j;
	atomic_u64 *chunks = shmc__job_chunks(w->a, j);
	if (ld_relaxed(&j->yielded) >= j->n)
		return 0;
	uint64_t c = ld_relaxed(&j->cur_chunk);
	if (c == SHMC__NO_CHUNK) {
		uint64_t scan = ld_relaxed(&j->scan);
		while (scan < j->nchunks && chunk_taken(ld_relaxed(&chunks[scan])))
			scan++;
		st_relaxed(&j->scan, scan);
		for (c = scan; c < j->nchunks; c++) {
			uint64_t s = ld_acquire(&chunks[c]);
			if (shmc__chunk_done(s) && !chunk_taken(s))
				break;
		}
		if (c == j->nchunks)
			return -EAGAIN;
		uint64_t s = ld_relaxed(&chunks[c]);
		int err = shmc__chunk_error(s);
		/* Taken in three stores: see the essay. */
		st_relaxed(&j->cur_pos, shmc__chunk_first(j, c));
		st_relaxed(&j->cur_chunk, c);
		atomic_fetch_or(&chunks[c], SHMC__CHUNK_TAKEN);
		st_relaxed(&j->taken, ld_relaxed(&j->taken) + 1);
		if (err) {
			uint64_t len = shmc__chunk_end(j, c) - shmc__chunk_first(j, c);
			st_relaxed(&j->cur_chunk, SHMC__NO_CHUNK);
			st_relaxed(&j->yielded, j->chunksize > 1 ? j->n : ld_relaxed(&j->yielded) + len);
			return err;
		}
	}
	uint64_t pos = ld_relaxed(&j->cur_pos);
	int rc = load(w->a, ld_relaxed(&shmc__job_words(w->a, j)[j->n + pos]), out);
	if (rc)
		return rc;
	st_relaxed(&j->cur_pos, pos + 1);
	st_relaxed(&j->yielded, ld_relaxed(&j->yielded) + 1);
	if (pos + 1 >= shmc__chunk_end(j, c))
		st_relaxed(&j->cur_chunk, SHMC__NO_CHUNK);
	return 1;
}

int shmc_iterator_next(shmc_obj_t *h, double timeout, shmc_value_t *out)
{
	struct wait_ctx w;
	int64_t deadline;
	int rc = shmc__resolve(h, SHMC_KIND_ITERATOR, &w.jo);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	if (out == NULL)
		return -EINVAL;
	w.a = shmc__handle_arena(h);
	if (shmc__job_at(w.a, shmc__off(w.a, w.jo)) == NULL)
		return SHMC_ECORRUPT;
	w.j = shmc__job_body(w.jo);
	const struct shmc__sleep s = {
		.word = &w.j->progress,
		.ready = next_ready,
		.seen = next_seen,
		.probe = probe,
	};
	for (;;) {
		if ((rc = shmc__obj_lock(w.a, w.jo)) != 0)
			return rc;
		rc = w.j->mode == SHMC__JOB_IMAP ? next_in_order(&w, out) : next_unordered(&w, out);
		shmc__obj_unlock(w.a, w.jo);
		if (rc != -EAGAIN)
			return rc;
		if ((rc = shmc__waiter_sleep(&s, &w, deadline)) != 0)
			return rc;
	}
}
