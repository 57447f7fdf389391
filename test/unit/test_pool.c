/*
 * test_pool.c -- Pool, AsyncResult and Iterator: CPython's _TestPool cases
 * translated to C (named after them), Python's printed forms, errors that
 * change nothing (failure injection), and processes killed anywhere: a
 * worker mid-task (200 times), the supervisor, the creator, a submitter;
 * submitting from a fork child and from an unrelated process.
 *
 * Tasks that block wait for an Event passed to them as their argument (a
 * managed object travels by reference), never for time; the only sleeps
 * are tasks' workloads of Python's tests (sqr with a wait), whose timing
 * is what is measured.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>

#include "pool/pool.h"
#define SHMC_TEST_WHITEBOX /* inject_until_ok */
#include "testutil.h"

TestSuite(pool, .timeout = 240);

/* Tasks ------------------------------------------------------------------------ */

/* Python's sqr(x, wait=0.0): x*x after WAIT seconds (arg x, or (x, wait)). */
static int sqr(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	if (arg.type == SHMC_TUPLE && shmc_seq_len(arg) == 2) {
		double wait = shmc_seq_at(arg, 1)->f;
		struct timespec ts = {(time_t)wait, (long)((wait - floor(wait)) * 1e9)};
		nanosleep(&ts, NULL); /* the workload Python's test measures */
		arg = *shmc_seq_at(arg, 0);
	}
	if (arg.type != SHMC_INT)
		return SHMC_ETYPE;
	*res = shmc_int(arg.i * arg.i);
	return 0;
}

/* Python's mul(x, y), given the tuple (x, y). */
static int mul(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	if (shmc_seq_len(arg) != 2)
		return SHMC_ETYPE;
	*res = shmc_int(shmc_seq_at(arg, 0)->i * shmc_seq_at(arg, 1)->i);
	return 0;
}

/* x*x, but fails with -(100 + x) for x in {3, 7} (a task's own error). */
static int sqr_fails(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	if (arg.i == 3 || arg.i == 7)
		return -(int)(100 + arg.i);
	*res = shmc_int(arg.i * arg.i);
	return 0;
}

/* Wait for the Event ARG (up to TEST_DEADLINE), then return "woken". */
static int wait_event(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	if (arg.type != SHMC_REF)
		return SHMC_ETYPE;
	int rc = shmc_event_wait(arg.ref, TEST_DEADLINE);
	if (rc)
		return rc;
	*res = shmc_str("woken"); /* a view: stored before the task's call ends */
	return 0;
}

/* Kill the worker running it when ARG is true (or not a bool). */
static int die(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	if (arg.type != SHMC_BOOL || arg.b)
		raise(SIGKILL);
	*res = shmc_str("alive");
	return 0;
}

static void register_tasks(void)
{
	ASSERT_OK(shmc_pool_register("sqr", sqr, NULL));
	ASSERT_OK(shmc_pool_register("mul", mul, NULL));
	ASSERT_OK(shmc_pool_register("wait_event", wait_event, NULL));
}

/* Fixtures ----------------------------------------------------------------------- */

static int live_workers(shmc_obj_t *p, int want);

/* A pool of N workers, once they all run: starting one allocates in the
 * arena (its handle table), which the tests' baselines must not see. */
static shmc_obj_t *new_pool(unsigned n)
{
	register_tasks();
	shmc_obj_t *p;
	ASSERT_OK(shmc_pool_new(A, n, NULL, &p));
	cr_assert_eq(live_workers(p, (int)n), (int)n);
	return p;
}

static void end_pool(shmc_obj_t *p)
{
	ASSERT_OK(shmc_pool_terminate(p));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	shmc_obj_release(p);
}

/* After a test that killed workers at arbitrary instructions: a worker
 * killed between taking a reference (decoding an argument that holds one)
 * and recording its handle leaks that reference, as any process would
 * (README: When processes die). The check sweeps it, now that no process
 * of the pool is left. */
static void sweep(void)
{
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP | SHMC_CHECK_SWEEP, &rep, NULL, NULL));
}

/* range(N) as a plain list. */
static shmc_value_t range(int64_t n)
{
	shmc_value_t l = shmc_plist_of(0);
	for (int64_t i = 0; i < n; i++)
		cr_assert_eq(shmc_plist_append(&l, shmc_int(i)), 0);
	return l;
}

/* L must be [f(0), f(1), ...] for N items. */
static void expect_ints(shmc_value_t l, int64_t n, int64_t (*f)(int64_t))
{
	cr_assert_eq(l.type, SHMC_LIST);
	cr_assert_eq(shmc_seq_len(l), (size_t)n);
	for (int64_t i = 0; i < n; i++) {
		shmc_value_t *v = shmc_seq_at(l, i);
		cr_assert(v->type == SHMC_INT && v->i == f(i), "item %lld: %lld, not %lld",
			  (long long)i, (long long)v->i, (long long)f(i));
	}
}

static int64_t square(int64_t i)
{
	return i * i;
}

/* How many workers of P are alive, waiting up to TEST_DEADLINE for N. */
static int live_workers(shmc_obj_t *p, int want)
{
	int32_t sup, pids[SHMC_POOL_MAX_WORKERS];
	double end = now_s() + TEST_DEADLINE;
	int n;
	while ((n = shmc__pool_pids(p, &sup, pids, SHMC_POOL_MAX_WORKERS)) != want &&
	       now_s() < end)
		usleep(1000); /* a poll interval */
	return n;
}

/* The _TestPool cases ------------------------------------------------------------ */

Test(pool, test_apply, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4);
	shmc_value_t v;
	ASSERT_OK(shmc_pool_apply(p, shmc_task(sqr), shmc_int(5), &v));
	cr_assert(v.type == SHMC_INT && v.i == 25);
	ASSERT_OK(shmc_pool_apply(p, shmc_task_named("sqr"), shmc_int(3), &v));
	cr_assert(v.type == SHMC_INT && v.i == 9);
	end_pool(p);
}

Test(pool, test_map, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4);
	shmc_value_t in = range(10), out;
	ASSERT_OK(shmc_pool_map(p, shmc_task(sqr), in, 0, &out));
	expect_ints(out, 10, square);
	shmc_value_free(&out);
	shmc_value_free(&in);
	in = range(100);
	ASSERT_OK(shmc_pool_map(p, shmc_task(sqr), in, 20, &out));
	expect_ints(out, 100, square);
	shmc_value_free(&out);
	shmc_value_free(&in);
	end_pool(p);
}

static shmc_value_t tuples(int64_t n)
{
	shmc_value_t l = shmc_plist_of(0);
	for (int64_t i = 0; i < n; i++)
		cr_assert_eq(shmc_plist_append(&l, shmc_tuple_of(2, shmc_int(i),
								 shmc_int(n - 1 - i))),
			     0);
	return l;
}

static int64_t mul10(int64_t i)
{
	return i * (9 - i);
}

static int64_t mul100(int64_t i)
{
	return i * (99 - i);
}

Test(pool, test_starmap, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4);
	shmc_value_t in = tuples(10), out;
	ASSERT_OK(shmc_pool_starmap(p, shmc_task(mul), in, 0, &out));
	expect_ints(out, 10, mul10);
	shmc_value_free(&out);
	shmc_value_free(&in);
	in = tuples(100);
	ASSERT_OK(shmc_pool_starmap(p, shmc_task_named("mul"), in, 20, &out));
	expect_ints(out, 100, mul100);
	shmc_value_free(&out);
	shmc_value_free(&in);
	end_pool(p);
}

Test(pool, test_starmap_async, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4), *r;
	shmc_value_t in = tuples(100), out;
	ASSERT_OK(shmc_pool_starmap_async(p, shmc_task(mul), in, 0, &r));
	ASSERT_OK(shmc_async_result_get(r, TEST_DEADLINE, &out));
	expect_ints(out, 100, mul100);
	shmc_value_free(&out);
	shmc_value_free(&in);
	shmc_obj_release(r);
	end_pool(p);
}

Test(pool, test_map_async, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4), *r;
	shmc_value_t in = range(10), out;
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(sqr), in, 0, &r));
	ASSERT_OK(shmc_async_result_wait(r, TEST_DEADLINE));
	cr_assert_eq(shmc_async_result_ready(r), 1);
	cr_assert_eq(shmc_async_result_successful(r), 1);
	ASSERT_OK(shmc_async_result_get(r, SHMC_NOWAIT, &out));
	expect_ints(out, 10, square);
	shmc_value_free(&out);
	shmc_value_free(&in);
	shmc_obj_release(r);
	end_pool(p);
}

Test(pool, test_async, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4), *r;
	shmc_value_t arg = shmc_tuple_of(2, shmc_int(7), shmc_float(0.2));
	ASSERT_OK(shmc_pool_apply_async(p, shmc_task(sqr), arg, &r));
	shmc_value_free(&arg);
	double t0 = now_s();
	shmc_value_t v;
	ASSERT_OK(shmc_async_result_get(r, SHMC_FOREVER, &v));
	double took = now_s() - t0;
	cr_assert(v.type == SHMC_INT && v.i == 49);
	cr_assert(took > 0.1 && took < 0.2 + TEST_DEADLINE / 2, "%f s", took);
	shmc_obj_release(r);
	end_pool(p);
}

Test(pool, test_async_timeout, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(3), *ev, *r;
	ASSERT_OK(shmc_event_new(A, &ev));
	ASSERT_OK(shmc_pool_apply_async(p, shmc_task(wait_event), shmc_ref(ev), &r));
	double t0 = now_s();
	shmc_value_t v;
	ASSERT_ERR(shmc_async_result_get(r, 0.2, &v), -ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 0.19);
	ASSERT_ERR(shmc_async_result_wait(r, SHMC_NOWAIT), -ETIMEDOUT);
	cr_assert_eq(shmc_async_result_ready(r), 0);
	ASSERT_ERR(shmc_async_result_successful(r), SHMC_ENOTREADY);
	ASSERT_OK(shmc_event_set(ev));
	ASSERT_OK(shmc_async_result_get(r, TEST_DEADLINE, &v));
	cr_assert(v.type == SHMC_STR && strcmp(v.str, "woken") == 0);
	shmc_value_free(&v);
	cr_assert_eq(shmc_async_result_successful(r), 1);
	shmc_obj_release(r);
	shmc_obj_release(ev);
	end_pool(p);
}

Test(pool, test_imap, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4), *it;
	shmc_value_t in = range(10), v;
	ASSERT_OK(shmc_pool_imap(p, shmc_task(sqr), in, 0, &it));
	for (int64_t i = 0; i < 10; i++) {
		ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 1);
		cr_assert(v.type == SHMC_INT && v.i == i * i);
	}
	ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 0); /* StopIteration */
	ASSERT_ERR(shmc_iterator_next(it, SHMC_NOWAIT, &v), 0);
	shmc_obj_release(it);
	shmc_value_free(&in);
	in = range(1000);
	ASSERT_OK(shmc_pool_imap(p, shmc_task(sqr), in, 100, &it));
	for (int64_t i = 0; i < 1000; i++) {
		ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 1);
		cr_assert(v.type == SHMC_INT && v.i == i * i);
	}
	ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 0);
	shmc_obj_release(it);
	shmc_value_free(&in);
	end_pool(p);
}

/* Every value of IT (unordered) until the end: each i*i for i < N once. */
static void expect_squares_unordered(shmc_obj_t *it, int64_t n)
{
	bool *seen = calloc((size_t)n, 1);
	shmc_value_t v;
	for (int64_t k = 0; k < n; k++) {
		ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 1);
		int64_t r = (int64_t)llround(sqrt((double)v.i));
		cr_assert(v.type == SHMC_INT && r * r == v.i && r < n && !seen[r]);
		seen[r] = true;
	}
	ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 0);
	free(seen);
}

Test(pool, test_imap_unordered, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4), *it;
	shmc_value_t in = range(10);
	ASSERT_OK(shmc_pool_imap_unordered(p, shmc_task(sqr), in, 0, &it));
	expect_squares_unordered(it, 10);
	shmc_obj_release(it);
	shmc_value_free(&in);
	in = range(1000);
	ASSERT_OK(shmc_pool_imap_unordered(p, shmc_task_named("sqr"), in, 100, &it));
	expect_squares_unordered(it, 1000);
	shmc_obj_release(it);
	shmc_value_free(&in);
	end_pool(p);
}

Test(pool, test_make_pool, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = NULL;
	ASSERT_ERR(shmc_pool_new(A, 0, NULL, &p), -EINVAL);
	ASSERT_ERR(shmc_pool_new(A, SHMC_POOL_MAX_WORKERS + 1, NULL, &p), -EINVAL);
	ASSERT_ERR(shmc_pool_new(NULL, 3, NULL, &p), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_new(A, 3, NULL, NULL), SHMC_EHANDLE);
	cr_assert_null(p);
	p = new_pool(3);
	cr_assert_eq(live_workers(p, 3), 3);
	ASSERT_OK(shmc_pool_close(p));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	int32_t sup, pids[4];
	cr_assert_eq(shmc__pool_pids(p, &sup, pids, 4), 0);
	cr_assert_eq(sup, 0);
	shmc_obj_release(p);
}

static shmc_value_t repeat(shmc_value_t v, int64_t n)
{
	shmc_value_t l = shmc_plist_of(0);
	for (int64_t i = 0; i < n; i++) {
		shmc_value_t c;
		cr_assert_eq(shmc_value_copy(v, &c), 0);
		cr_assert_eq(shmc_plist_append(&l, c), 0);
	}
	return l;
}

Test(pool, test_terminate, .init = arena_setup, .fini = arena_teardown)
{
	/* Tasks that would take "forever": each waits for an event never set. */
	shmc_obj_t *p = new_pool(3), *ev, *r;
	ASSERT_OK(shmc_event_new(A, &ev));
	shmc_value_t in = repeat(shmc_ref(ev), 10000), v;
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(wait_event), in, 1, &r));
	cr_assert_eq(live_workers(p, 3), 3);
	ASSERT_OK(shmc_pool_terminate(p));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	ASSERT_ERR(shmc_async_result_get(r, TEST_DEADLINE, &v), -ECANCELED);
	cr_assert_eq(shmc_async_result_successful(r), 0);
	expect_str(p, "<multiprocessing.pool.Pool state=TERMINATE pool_size=3>");
	shmc_obj_release(r);
	shmc_value_free(&in);
	shmc_obj_release(ev);
	shmc_obj_release(p);
	sweep(); /* terminate() killed workers wherever they were */
}

Test(pool, test_empty_iterable, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(1), *it, *r;
	shmc_value_t empty = shmc_plist_of(0), v;
	ASSERT_OK(shmc_pool_map(p, shmc_task(sqr), empty, 0, &v));
	expect_repr(v, "[]");
	shmc_value_free(&v);
	ASSERT_OK(shmc_pool_imap(p, shmc_task(sqr), empty, 0, &it));
	ASSERT_ERR(shmc_iterator_next(it, SHMC_NOWAIT, &v), 0);
	shmc_obj_release(it);
	ASSERT_OK(shmc_pool_imap_unordered(p, shmc_task(sqr), empty, 0, &it));
	ASSERT_ERR(shmc_iterator_next(it, SHMC_NOWAIT, &v), 0);
	shmc_obj_release(it);
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(sqr), empty, 0, &r));
	ASSERT_OK(shmc_async_result_get(r, SHMC_NOWAIT, &v));
	expect_repr(v, "[]");
	shmc_value_free(&v);
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_close(p));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	shmc_value_free(&empty);
	shmc_obj_release(p);
}

Test(pool, test_map_chunksize, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4), *r;
	shmc_value_t empty = shmc_tuple_of(0), v;
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(sqr), empty, 1, &r));
	ASSERT_OK(shmc_async_result_get(r, 1.0, &v)); /* no stall on an empty list */
	expect_repr(v, "[]");
	shmc_value_free(&v);
	shmc_obj_release(r);
	shmc_value_free(&empty);
	end_pool(p);
}

Test(pool, test_context_join_before_close_is_erunning, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2), *r;
	shmc_value_t in = range(10), v;
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(sqr), in, 0, &r));
	ASSERT_OK(shmc_async_result_get(r, TEST_DEADLINE, &v));
	expect_ints(v, 10, square);
	shmc_value_free(&v);
	shmc_obj_release(r);
	/* Python's join() on a running pool: ValueError "Pool is still running". */
	ASSERT_ERR(shmc_pool_join(p, TEST_DEADLINE), SHMC_ERUNNING);
	ASSERT_OK(shmc_pool_terminate(p)); /* the with-block's exit */
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	r = NULL;
	ASSERT_ERR(shmc_pool_map_async(p, shmc_task(sqr), in, 0, &r), SHMC_ENOTRUNNING);
	cr_assert_null(r);
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE)); /* again: nothing to wait for */
	ASSERT_OK(shmc_pool_terminate(p));
	ASSERT_OK(shmc_pool_close(p));
	shmc_value_free(&in);
	shmc_obj_release(p);
}

Test(pool, close_runs_what_was_submitted_then_ends, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2), *r;
	shmc_value_t in = range(200), v;
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(sqr), in, 1, &r));
	ASSERT_OK(shmc_pool_close(p));
	expect_str(p, "<multiprocessing.pool.Pool state=CLOSE pool_size=2>");
	ASSERT_ERR(shmc_pool_apply(p, shmc_task(sqr), shmc_int(2), &v), SHMC_ENOTRUNNING);
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	cr_assert_eq(shmc_async_result_ready(r), 1);
	ASSERT_OK(shmc_async_result_get(r, SHMC_NOWAIT, &v));
	expect_ints(v, 200, square);
	shmc_value_free(&v);
	expect_str(p, "<multiprocessing.pool.Pool state=CLOSE pool_size=2>");
	shmc_obj_release(r);
	shmc_value_free(&in);
	shmc_obj_release(p);
}

/* Errors -------------------------------------------------------------------------- */

static int positive_error(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)arg, (void)res, (void)ctx;
	return 5;
}

static int bad_result(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)arg, (void)ctx;
	*res = shmc_strn("\xff", 1); /* not UTF-8: storing it fails */
	return 0;
}

Test(pool, task_errors_are_the_results_errors, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2), *r;
	shmc_value_t v, in = range(10);
	ASSERT_ERR(shmc_pool_apply(p, shmc_task(sqr_fails), shmc_int(3), &v), -103);
	ASSERT_ERR(shmc_pool_apply(p, shmc_task(positive_error), shmc_none(), &v), -5);
	ASSERT_ERR(shmc_pool_apply(p, shmc_task(bad_result), shmc_none(), &v), -EILSEQ);
	ASSERT_ERR(shmc_pool_apply(p, shmc_task(sqr), shmc_str("x"), &v), SHMC_ETYPE);
	/* map fails with the error of the first failed item (3, not 7),
	 * once every chunk has run. */
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(sqr_fails), in, 1, &r));
	ASSERT_ERR(shmc_async_result_get(r, TEST_DEADLINE, &v), -103);
	cr_assert_eq(shmc_async_result_successful(r), 0);
	shmc_obj_release(r);
	ASSERT_ERR(shmc_pool_map(p, shmc_task(sqr_fails), in, 4, &v), -103);
	end_pool(p);
	shmc_value_free(&in);
}

/* Fails at once for 0; for anything else waits for the Event ARG[1]. */
static int fail_or_wait(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	if (shmc_seq_at(arg, 0)->i == 0)
		return -EPERM;
	return wait_event(*shmc_seq_at(arg, 1), res, ctx);
}

Test(pool, test_map_no_failfast, .init = arena_setup, .fini = arena_teardown)
{
	/* An error does not make map ready before every chunk has run. */
	shmc_obj_t *p = new_pool(2), *ev, *r;
	ASSERT_OK(shmc_event_new(A, &ev));
	shmc_value_t in = shmc_plist_of(2, shmc_tuple_of(2, shmc_int(0), shmc_ref(ev)),
					shmc_tuple_of(2, shmc_int(1), shmc_ref(ev))),
		     v;
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(fail_or_wait), in, 1, &r));
	ASSERT_ERR(shmc_async_result_get(r, 0.2, &v), -ETIMEDOUT);
	ASSERT_OK(shmc_event_set(ev));
	ASSERT_ERR(shmc_async_result_get(r, TEST_DEADLINE, &v), -EPERM);
	shmc_obj_release(r);
	shmc_value_free(&in);
	shmc_obj_release(ev);
	end_pool(p);
}

static int identity(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	return shmc_value_copy(arg, res);
}

Test(pool, test_release_task_refs, .init = arena_setup, .fini = arena_teardown)
{
	/* Arguments and results hold managed objects only while the result
	 * is held: released, everything goes (the fixture's leak check). */
	shmc_obj_t *p = new_pool(2), *objs[10];
	shmc_value_t in = shmc_plist_of(0), out;
	for (int i = 0; i < 10; i++) {
		ASSERT_OK(shmc_list_new(A, &objs[i]));
		cr_assert_eq(shmc_plist_append(&in, shmc_ref(objs[i])), 0);
	}
	ASSERT_OK(shmc_pool_map(p, shmc_task(identity), in, 0, &out));
	for (int i = 0; i < 10; i++)
		cr_assert(shmc_obj_same(shmc_seq_at(out, i)->ref, objs[i]));
	shmc_value_free(&out);
	shmc_value_free(&in);
	for (int i = 0; i < 10; i++)
		shmc_obj_release(objs[i]);
	end_pool(p);
}

Test(pool, test_unpickleable_result_loses_no_worker, .init = arena_setup,
     .fini = arena_teardown)
{
	/* _TestPoolWorkerErrors: a result that cannot be stored is the
	 * task's error, and costs no worker. */
	shmc_obj_t *p = new_pool(2);
	int32_t sup, before[2], after[2];
	cr_assert_eq(shmc__pool_pids(p, &sup, before, 2), 2);
	for (int i = 0; i < 20; i++) {
		shmc_value_t v;
		ASSERT_ERR(shmc_pool_apply(p, shmc_task(bad_result), shmc_none(), &v), -EILSEQ);
	}
	cr_assert_eq(shmc__pool_pids(p, &sup, after, 2), 2);
	cr_assert((before[0] == after[0] && before[1] == after[1]) ||
		  (before[0] == after[1] && before[1] == after[0]));
	end_pool(p);
}

Test(pool, imap_hands_out_a_failed_chunks_error_once, .init = arena_setup,
     .fini = arena_teardown)
{
	/* Python's test_imap_handle_iterable_exception, with a failing task:
	 * chunksize 1 goes on after the error; a larger one ends there. */
	shmc_obj_t *p = new_pool(2), *it;
	shmc_value_t v, in = range(10);
	ASSERT_OK(shmc_pool_imap(p, shmc_task(sqr_fails), in, 1, &it));
	for (int64_t i = 0; i < 10; i++) {
		int rc = shmc_iterator_next(it, TEST_DEADLINE, &v);
		if (i == 3 || i == 7) {
			cr_assert_eq(rc, -(int)(100 + i));
		} else {
			cr_assert_eq(rc, 1);
			cr_assert_eq(v.i, i * i);
		}
	}
	ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 0);
	shmc_obj_release(it);
	ASSERT_OK(shmc_pool_imap(p, shmc_task(sqr_fails), in, 2, &it));
	for (int64_t i = 0; i < 2; i++) {
		ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 1);
		cr_assert_eq(v.i, i * i);
	}
	ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), -103); /* items 2, 3 */
	ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 0);
	shmc_obj_release(it);
	/* Unordered: every other value once, the two errors once each. */
	ASSERT_OK(shmc_pool_imap_unordered(p, shmc_task(sqr_fails), in, 1, &it));
	int values = 0, errors = 0, rc;
	while ((rc = shmc_iterator_next(it, TEST_DEADLINE, &v)) != 0) {
		if (rc == 1)
			values++;
		else
			errors += rc == -103 || rc == -107;
	}
	cr_assert(values == 8 && errors == 2, "%d values, %d errors", values, errors);
	shmc_obj_release(it);
	end_pool(p);
	shmc_value_free(&in);
}

Test(pool, bad_arguments_change_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(1), *r = NULL, *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	shmc_value_t v, in = range(3), bad_items = shmc_plist_of(2, shmc_int(1), shmc_tuple_of(0));
	size_t before = arena_in_use(A);
	ASSERT_ERR(shmc_pool_apply_async(NULL, shmc_task(sqr), shmc_int(1), &r), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_apply_async(ls, shmc_task(sqr), shmc_int(1), &r), SHMC_EKIND);
	ASSERT_ERR(shmc_pool_apply_async(p, shmc_task(sqr), shmc_int(1), NULL), -EINVAL);
	ASSERT_ERR(shmc_pool_apply(p, shmc_task(sqr), shmc_int(1), NULL), -EINVAL);
	shmc_task_t both = {sqr, "sqr"}, neither = {NULL, NULL};
	ASSERT_ERR(shmc_pool_apply_async(p, both, shmc_int(1), &r), -EINVAL);
	ASSERT_ERR(shmc_pool_apply_async(p, neither, shmc_int(1), &r), -EINVAL);
	ASSERT_ERR(shmc_pool_apply_async(p, shmc_task_named("nope"), shmc_int(1), &r),
		   SHMC_ENOFUNC);
	ASSERT_ERR(shmc_pool_apply_async(p, shmc_task_named(""), shmc_int(1), &r), -EINVAL);
	ASSERT_ERR(shmc_pool_map_async(p, shmc_task(sqr), shmc_int(1), 0, &r), SHMC_ETYPE);
	ASSERT_ERR(shmc_pool_map_async(p, shmc_task(sqr), in, -1, &r), -EINVAL);
	ASSERT_ERR(shmc_pool_starmap_async(p, shmc_task(mul), in, 0, &r), SHMC_ETYPE);
	ASSERT_ERR(shmc_pool_starmap_async(p, shmc_task(mul), bad_items, 0, &r), SHMC_ETYPE);
	ASSERT_ERR(shmc_pool_apply_async(p, shmc_task(sqr), shmc_strn("\xff", 1), &r), -EILSEQ);
	ASSERT_ERR(shmc_pool_map_async(p, shmc_task(sqr), in, 0, NULL), -EINVAL);
	cr_assert_null(r);
	ASSERT_ERR(shmc_pool_close(ls), SHMC_EKIND);
	ASSERT_ERR(shmc_pool_terminate(NULL), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_join(p, -2), -EINVAL);
	ASSERT_ERR(shmc_async_result_get(p, 1, &v), SHMC_EKIND);
	ASSERT_ERR(shmc_iterator_next(p, 1, &v), SHMC_EKIND);
	ASSERT_ERR(shmc_async_result_ready(NULL), SHMC_EHANDLE);
	cr_assert_eq(arena_in_use(A), before);
	ASSERT_ERR(shmc_pool_register(NULL, sqr, NULL), -EINVAL);
	ASSERT_ERR(shmc_pool_register("x", NULL, NULL), -EINVAL);
	ASSERT_ERR(shmc_pool_register("", sqr, NULL), -EINVAL);
	ASSERT_ERR(shmc_pool_register("\xff", sqr, NULL), -EILSEQ);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ASSERT_ERR(shmc_pool_register(longname, sqr, NULL), -EINVAL);
	/* The pool still works. */
	ASSERT_OK(shmc_pool_apply(p, shmc_task(sqr), shmc_int(4), &v));
	cr_assert_eq(v.i, 16);
	shmc_value_free(&in);
	shmc_value_free(&bad_items);
	shmc_obj_release(ls);
	end_pool(p);
}

struct submit_ctx {
	shmc_obj_t *p;
	shmc_value_t items;
	shmc_obj_t *r;
};

static int submit_map(void *ctx)
{
	struct submit_ctx *c = ctx;
	return shmc_pool_map_async(c->p, shmc_task_named("sqr"), c->items, 3, &c->r);
}

Test(pool, a_failed_allocation_changes_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2);
	struct submit_ctx c = {p, shmc_plist_of(0), NULL};
	for (int64_t i = 0; i < 20; i++)
		cr_assert_eq(shmc_plist_append(&c.items, shmc_str("a str in a value block")), 0);
	struct shmc__pool *b = shmc__pool_body(shmc__obj_of(p));
	uint64_t jobs = b->jobs;
	cr_assert_eq(live_workers(p, 2), 2); /* their start allocates (handle tables) */
	int nfail;
	/* Each allocation of a submission fails in turn: SHMC_EFULL, the arena
	 * as it was (inject_until_ok checks), no job on the board. */
	ASSERT_OK(inject_until_ok(A, submit_map, &c, &nfail));
	cr_assert_geq(nfail, 4, "%d", nfail); /* job, handle, words, chunks, values */
	cr_assert_eq(b->jobs, jobs + 1);
	shmc_value_t v;
	ASSERT_ERR(shmc_async_result_get(c.r, TEST_DEADLINE, &v), SHMC_ETYPE);
	shmc_obj_release(c.r);
	shmc_value_free(&c.items);
	end_pool(p);
}

/* Printed forms -------------------------------------------------------------------- */

static void expect_prefix(const char *s, const char *prefix)
{
	cr_assert(strncmp(s, prefix, strlen(prefix)) == 0, "%s does not start with %s", s,
		  prefix);
}

static void expect_forms(shmc_obj_t *o, const char *str_prefix, const char *repr_prefix)
{
	char *s = obj_str(o);
	expect_prefix(s, str_prefix);
	shmc_free(s);
	ASSERT_OK(shmc_obj_repr(o, &s));
	expect_prefix(s, repr_prefix);
	shmc_free(s);
}

Test(pool, printed_as_python_prints_them, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(4), *r;
	shmc_value_t in = range(2);
	expect_str(p, "<multiprocessing.pool.Pool state=RUN pool_size=4>");
	expect_forms(p, "<multiprocessing.pool.Pool state=RUN", "<PoolProxy object, typeid 'Pool' at 0x");
	cr_assert_eq(shmc_obj_kind(p), SHMC_KIND_POOL);
	ASSERT_OK(shmc_pool_apply_async(p, shmc_task(sqr), shmc_int(3), &r));
	expect_forms(r, "<multiprocessing.pool.ApplyResult object at 0x",
		     "<AutoProxy[AsyncResult] object, typeid 'AsyncResult' at 0x");
	cr_assert_eq(shmc_obj_kind(r), SHMC_KIND_ASYNC_RESULT);
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(sqr), in, 0, &r));
	expect_forms(r, "<multiprocessing.pool.MapResult object at 0x",
		     "<AutoProxy[AsyncResult] object, typeid 'AsyncResult' at 0x");
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_imap(p, shmc_task(sqr), in, 0, &r));
	expect_forms(r, "<multiprocessing.pool.IMapIterator object at 0x",
		     "<IteratorProxy object, typeid 'Iterator' at 0x");
	cr_assert_eq(shmc_obj_kind(r), SHMC_KIND_ITERATOR);
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_imap_unordered(p, shmc_task(sqr), in, 0, &r));
	expect_forms(r, "<multiprocessing.pool.IMapUnorderedIterator object at 0x",
		     "<IteratorProxy object, typeid 'Iterator' at 0x");
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_close(p));
	expect_str(p, "<multiprocessing.pool.Pool state=CLOSE pool_size=4>");
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	expect_str(p, "<multiprocessing.pool.Pool state=CLOSE pool_size=4>");
	ASSERT_OK(shmc_pool_terminate(p));
	expect_str(p, "<multiprocessing.pool.Pool state=TERMINATE pool_size=4>");
	cr_assert_str_eq(shmc_errname(SHMC_EWORKERDIED), "SHMC_EWORKERDIED");
	shmc_value_free(&in);
	shmc_obj_release(p);
}

/* What python3 prints for a Manager's Pool and its results, against ours:
 * the forms without their addresses, and the values of the _TestPool
 * cases above. */
static const char py_script[] =
	"import multiprocessing as mp, re\n"
	"def sqr(x): return x * x\n"
	"def mul(x, y): return x * y\n"
	"if __name__ == '__main__':\n"
	"    with mp.Manager() as m:\n"
	"        p = m.Pool(4)\n"
	"        a = lambda o: re.sub(' at 0x[0-9a-f]+', ' at 0x', o)\n"
	"        print(str(p)); print(a(repr(p)))\n"
	"        r = p.apply_async(sqr, (3,)); print(a(str(r))); print(a(repr(r)))\n"
	"        r.get()\n"
	"        r = p.map_async(sqr, range(3)); print(a(str(r))); r.get()\n"
	"        it = p.imap(sqr, range(3)); print(a(str(it))); print(a(repr(it))); list(it)\n"
	"        it = p.imap_unordered(sqr, range(3)); print(a(str(it))); list(it)\n"
	"        print(p.map(sqr, range(10)))\n"
	"        print(p.starmap(mul, list(zip(range(10), range(9, -1, -1)))))\n"
	"        print(p.apply(sqr, (5,)))\n"
	"        p.close(); print(str(p)); p.join(); print(str(p))\n"
	"        q = m.Pool(2); q.terminate(); print(str(q))\n";

static const char py_expected[] =
	"<multiprocessing.pool.Pool state=RUN pool_size=4>\n"
	"<PoolProxy object, typeid 'Pool' at 0x>\n"
	"<multiprocessing.pool.ApplyResult object at 0x>\n"
	"<AutoProxy[AsyncResult] object, typeid 'AsyncResult' at 0x>\n"
	"<multiprocessing.pool.MapResult object at 0x>\n"
	"<multiprocessing.pool.IMapIterator object at 0x>\n"
	"<IteratorProxy object, typeid 'Iterator' at 0x>\n"
	"<multiprocessing.pool.IMapUnorderedIterator object at 0x>\n"
	"[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n"
	"[0, 8, 14, 18, 20, 20, 18, 14, 8, 0]\n"
	"25\n"
	"<multiprocessing.pool.Pool state=CLOSE pool_size=4>\n"
	"<multiprocessing.pool.Pool state=CLOSE pool_size=4>\n"
	"<multiprocessing.pool.Pool state=TERMINATE pool_size=2>\n";

/* Our str() or repr() with the address cut as the script cuts it. */
static void put_form(char **b, size_t *len, shmc_obj_t *o, bool repr)
{
	char *s;
	ASSERT_OK(repr ? shmc_obj_repr(o, &s) : shmc_obj_str(o, &s));
	char *at = strstr(s, " at 0x");
	if (at) {
		char *end = at + 6;
		while (isxdigit((unsigned char)*end))
			end++;
		memmove(at + 6, end, strlen(end) + 1);
	}
	buf_add(b, len, s, strlen(s));
	buf_add(b, len, "\n", 1);
	shmc_free(s);
}

static void put_value(char **b, size_t *len, shmc_value_t v)
{
	char *s = value_repr(v);
	buf_add(b, len, s, strlen(s));
	buf_add(b, len, "\n", 1);
	shmc_free(s);
}

Test(pool, prints_and_computes_what_live_python3_does, .init = arena_setup,
     .fini = arena_teardown)
{
	char *ours = calloc(1, 1);
	size_t len = 0;
	shmc_obj_t *p = new_pool(4), *q, *r;
	shmc_value_t three = range(3), ten = range(10), pairs = tuples(10), v;
	put_form(&ours, &len, p, false);
	put_form(&ours, &len, p, true);
	ASSERT_OK(shmc_pool_apply_async(p, shmc_task(sqr), shmc_int(3), &r));
	put_form(&ours, &len, r, false);
	put_form(&ours, &len, r, true);
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(sqr), three, 0, &r));
	put_form(&ours, &len, r, false);
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_imap(p, shmc_task(sqr), three, 0, &r));
	put_form(&ours, &len, r, false);
	put_form(&ours, &len, r, true);
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_imap_unordered(p, shmc_task(sqr), three, 0, &r));
	put_form(&ours, &len, r, false);
	shmc_obj_release(r);
	ASSERT_OK(shmc_pool_map(p, shmc_task(sqr), ten, 0, &v));
	put_value(&ours, &len, v);
	shmc_value_free(&v);
	ASSERT_OK(shmc_pool_starmap(p, shmc_task(mul), pairs, 0, &v));
	put_value(&ours, &len, v);
	shmc_value_free(&v);
	ASSERT_OK(shmc_pool_apply(p, shmc_task(sqr), shmc_int(5), &v));
	put_value(&ours, &len, v);
	ASSERT_OK(shmc_pool_close(p));
	put_form(&ours, &len, p, false);
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	put_form(&ours, &len, p, false);
	ASSERT_OK(shmc_pool_new(A, 2, NULL, &q));
	ASSERT_OK(shmc_pool_terminate(q));
	put_form(&ours, &len, q, false);
	ASSERT_OK(shmc_pool_join(q, TEST_DEADLINE));
	shmc_obj_release(q);
	shmc_obj_release(p);
	shmc_value_free(&three);
	shmc_value_free(&ten);
	shmc_value_free(&pairs);
	/* The recorded output always; python3's own when it is there. */
	cr_assert_str_eq(ours, py_expected);
	if (have_python3()) {
		char *argv[] = {"python3", "-I", "-c", (char *)py_script, NULL};
		struct run run = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 2e3));
		cr_assert(!run.timed_out && WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0,
			  "python3 failed: %s", run.err);
		cr_assert_str_eq(run.out, ours, "python3 printed:\n%s\nshmc printed:\n%s",
				 run.out, ours);
		run_free(&run);
	}
	free(ours);
}

/* Workers' lifetime ------------------------------------------------------------------ */

Test(pool, test_pool_worker_lifetime, .init = arena_setup, .fini = arena_teardown)
{
	register_tasks();
	shmc_pool_options_t o = {.maxtasksperchild = 10};
	shmc_obj_t *p, *r[100];
	ASSERT_OK(shmc_pool_new(A, 3, &o, &p));
	int32_t sup, before[3], after[3];
	cr_assert_eq(live_workers(p, 3), 3);
	cr_assert_eq(shmc__pool_pids(p, &sup, before, 3), 3);
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_pool_apply_async(p, shmc_task(sqr), shmc_int(i), &r[i]));
	for (int i = 0; i < 100; i++) {
		shmc_value_t v;
		ASSERT_OK(shmc_async_result_get(r[i], TEST_DEADLINE, &v));
		cr_assert_eq(v.i, i * i);
		shmc_obj_release(r[i]);
	}
	/* A worker ends after 10 chunks: the three alive have run at most 9
	 * each, so at least 8 have ended, and each is replaced. */
	struct shmc__pool *b = shmc__pool_body(shmc__obj_of(p));
	double end = now_s() + TEST_DEADLINE;
	while (ld_acquire(&b->started) < 3 + 8 && now_s() < end)
		usleep(1000); /* a poll interval */
	cr_assert_geq(ld_acquire(&b->started), 3 + 8);
	cr_assert_eq(live_workers(p, 3), 3);
	cr_assert_eq(shmc__pool_pids(p, &sup, after, 3), 3);
	bool changed = false; /* Python's check: the pids are not all the same */
	for (int i = 0; i < 3; i++)
		changed |= before[i] != after[0] && before[i] != after[1] && before[i] != after[2];
	cr_assert(changed);
	ASSERT_OK(shmc_pool_close(p));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	shmc_obj_release(p);
}

Test(pool, test_pool_worker_lifetime_early_close, .init = arena_setup,
     .fini = arena_teardown)
{
	register_tasks();
	shmc_pool_options_t o = {.maxtasksperchild = 1};
	shmc_obj_t *p, *r[6];
	ASSERT_OK(shmc_pool_new(A, 3, &o, &p));
	for (int i = 0; i < 6; i++) {
		shmc_value_t arg = shmc_tuple_of(2, shmc_int(i), shmc_float(0.05));
		ASSERT_OK(shmc_pool_apply_async(p, shmc_task(sqr), arg, &r[i]));
		shmc_value_free(&arg);
	}
	ASSERT_OK(shmc_pool_close(p));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	for (int i = 0; i < 6; i++) {
		shmc_value_t v;
		ASSERT_OK(shmc_async_result_get(r[i], SHMC_NOWAIT, &v));
		cr_assert_eq(v.i, i * i);
		shmc_obj_release(r[i]);
	}
	shmc_obj_release(p);
}

static int64_t initialized; /* set in each worker by its initializer */

static int init_worker(void *ctx)
{
	initialized = *(int64_t *)ctx;
	return 0;
}

static int get_initialized(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)arg;
	*res = shmc_tuple_of(2, shmc_int(initialized), shmc_int(*(int64_t *)ctx));
	return 0;
}

Test(pool, initializer_runs_in_each_worker_with_ctx, .init = arena_setup,
     .fini = arena_teardown)
{
	static int64_t token = 4242;
	shmc_pool_options_t o = {.initializer = init_worker, .ctx = &token};
	shmc_obj_t *p;
	ASSERT_OK(shmc_pool_new(A, 2, &o, &p));
	shmc_value_t v;
	ASSERT_OK(shmc_pool_apply(p, shmc_task(get_initialized), shmc_none(), &v));
	expect_repr(v, "(4242, 4242)");
	shmc_value_free(&v);
	cr_assert_eq(initialized, 0); /* in the workers only */
	end_pool(p);
}

/* Other processes ------------------------------------------------------------------- */

static int64_t ctx_value = 77;

static int from_ctx(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)arg;
	*res = shmc_int(*(int64_t *)ctx);
	return 0;
}

Test(pool, a_named_task_gets_the_ctx_it_was_registered_with, .init = arena_setup,
     .fini = arena_teardown)
{
	ASSERT_OK(shmc_pool_register("from_ctx", from_ctx, &ctx_value));
	shmc_obj_t *p = new_pool(1);
	/* Registered after the pool: its workers do not know it. */
	ASSERT_OK(shmc_pool_register("late", sqr, NULL));
	shmc_value_t v;
	ASSERT_OK(shmc_pool_apply(p, shmc_task_named("from_ctx"), shmc_none(), &v));
	cr_assert_eq(v.i, 77);
	ASSERT_ERR(shmc_pool_apply(p, shmc_task_named("late"), shmc_int(2), &v), SHMC_ENOFUNC);
	end_pool(p);
}

static shmc_obj_t *child_pool;

static int submit_from_child(void *arg)
{
	(void)arg;
	shmc_value_t v, in = shmc_tuple_of(3, shmc_int(1), shmc_int(2), shmc_int(3));
	CHILD_OK(shmc_pool_apply(child_pool, shmc_task(sqr), shmc_int(6), &v));
	CHILD_CHECK(v.i == 36);
	CHILD_OK(shmc_pool_apply(child_pool, shmc_task_named("sqr"), shmc_int(7), &v));
	CHILD_CHECK(v.i == 49);
	CHILD_OK(shmc_pool_map(child_pool, shmc_task(sqr), in, 0, &v));
	CHILD_CHECK(shmc_seq_len(v) == 3 && shmc_seq_at(v, 2)->i == 9);
	shmc_value_free(&v);
	shmc_value_free(&in);
	return 0;
}

Test(pool, submit_from_a_forked_child, .init = arena_setup, .fini = arena_teardown)
{
	child_pool = new_pool(2);
	cr_assert_eq(wait_exit(fork_fn(submit_from_child, NULL), TEST_DEADLINE), 0);
	end_pool(child_pool);
}

Test(pool, submit_from_an_unrelated_process_by_name)
{
	char name[128], path[256], prog[4096];
	crash_cleanup_install();
	unique_name(name, sizeof(name), path, sizeof(path), "pool");
	cr_assert(build_program("test", "helper_pool", prog, sizeof(prog)),
		  "no helper_pool (set SHMC_BUILD)");
	shmc_arena_t *a = test_named_arena(name, 64 << 20);
	arena_warm(a);
	shmc_obj_t *p, *named;
	ASSERT_OK(shmc_root_find_or_create(a, "warm", SHMC_KIND_LIST, &named));
	shmc_obj_release(named); /* the directory of names now exists */
	ASSERT_OK(shmc_root_remove(a, "warm"));
	size_t base = arena_in_use(a);
	register_tasks();
	ASSERT_OK(shmc_pool_new(a, 2, NULL, &p));
	ASSERT_OK(shmc_root_setdefault(a, "workers", p, &named));
	shmc_obj_release(named);
	char *argv[] = {prog, name, "workers", "5", NULL};
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 1e3));
	cr_assert(!r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		  "helper_pool: status %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "apply 25\n"
				"map [0, 1, 4, 9, 16]\n"
				"imap 30\n"
				"pointer SHMC_ENOFUNC\n"
				"<multiprocessing.pool.Pool state=RUN pool_size=2>\n");
	run_free(&r);
	ASSERT_OK(shmc_root_remove(a, "workers"));
	ASSERT_OK(shmc_pool_terminate(p));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	shmc_obj_release(p);
	arena_leak_check(a, base);
	shmc_arena_close(a);
	files_cleanup();
	runs_cleanup();
}

/* Deaths ---------------------------------------------------------------------------- */

Test(pool, worker_killed_mid_task_fails_its_chunk_others_arrive, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(3), *it;
	shmc_value_t in = shmc_plist_of(0), v;
	for (int i = 0; i < 30; i++)
		cr_assert_eq(shmc_plist_append(&in, shmc_bool(i % 10 == 5)), 0);
	ASSERT_OK(shmc_pool_imap(p, shmc_task(die), in, 1, &it));
	for (int i = 0; i < 30; i++) {
		int rc = shmc_iterator_next(it, TEST_DEADLINE, &v);
		if (i % 10 == 5) {
			cr_assert_eq(rc, SHMC_EWORKERDIED, "item %d: %s", i, shmc_errname(rc));
		} else {
			cr_assert_eq(rc, 1, "item %d: %s", i, shmc_errname(rc));
			cr_assert_str_eq(v.str, "alive");
			shmc_value_free(&v);
		}
	}
	ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 0);
	shmc_obj_release(it);
	cr_assert_eq(live_workers(p, 3), 3); /* the pool keeps its worker count */
	ASSERT_ERR(shmc_pool_map(p, shmc_task(die), in, 10, &v), SHMC_EWORKERDIED);
	cr_assert_eq(live_workers(p, 3), 3);
	shmc_value_free(&in);
	end_pool(p);
}

Test(pool, worker_killed_200_times_no_result_hangs, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2), *r[20];
	double t0 = now_s();
	for (int round = 0; round < 20; round++) {
		/* Ten tasks that kill their worker, ten that do not, mixed. */
		for (int i = 0; i < 20; i++)
			ASSERT_OK(shmc_pool_apply_async(p, shmc_task(die), shmc_bool(i % 2), &r[i]));
		for (int i = 0; i < 20; i++) {
			shmc_value_t v;
			int rc = shmc_async_result_get(r[i], TEST_DEADLINE, &v);
			if (i % 2) {
				cr_assert_eq(rc, SHMC_EWORKERDIED, "round %d, task %d: %s", round, i,
					     shmc_errname(rc));
			} else {
				cr_assert_eq(rc, 0, "round %d, task %d: %s", round, i,
					     shmc_errname(rc));
				shmc_value_free(&v);
			}
			shmc_obj_release(r[i]);
		}
	}
	cr_assert_eq(live_workers(p, 2), 2);
	cr_assert_geq(shmc__pool_body(shmc__obj_of(p))->started, 2 + 200);
	fprintf(stderr, "pool: 200 workers killed mid-task, 200 tasks done beside them, "
		"%.2f s\n", now_s() - t0);
	end_pool(p);
}

static int busy_sqr(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	volatile uint64_t x = 0;
	for (int i = 0; i < 20000; i++) /* some work to be killed in */
		x += mix64((uint64_t)i);
	*res = shmc_int(arg.i * arg.i + (int64_t)(x & 0));
	return 0;
}

Test(pool, workers_killed_at_random_lose_no_item_and_hang_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(3), *it;
	shmc_value_t in = range(3000), v;
	ASSERT_OK(shmc_pool_imap(p, shmc_task(busy_sqr), in, 1, &it));
	unsigned seed = 4321;
	int kills = 0, died = 0;
	for (int64_t i = 0; i < 3000; i++) {
		if (i % 50 == 25) {
			/* Kill a worker wherever it is: between claiming and
			 * recording, mid-task, holding the pool's lock. */
			int32_t sup, pids[3];
			int n = shmc__pool_pids(p, &sup, pids, 3);
			if (n > 0 && kill(pids[rand_r(&seed) % (unsigned)(n < 3 ? n : 3)],
					  SIGKILL) == 0)
				kills++;
		}
		int rc = shmc_iterator_next(it, TEST_DEADLINE, &v);
		if (rc == SHMC_EWORKERDIED) {
			died++;
			continue;
		}
		cr_assert_eq(rc, 1, "item %lld: %s", (long long)i, shmc_errname(rc));
		cr_assert_eq(v.i, i * i);
	}
	ASSERT_ERR(shmc_iterator_next(it, TEST_DEADLINE, &v), 0);
	cr_assert_leq(died, kills);
	fprintf(stderr, "pool: %d workers killed at random during an imap of 3000: %d items "
		"failed with them, none lost\n", kills, died);
	shmc_obj_release(it);
	shmc_value_free(&in);
	end_pool(p);
	sweep();
}

Test(pool, supervisor_killed_fails_what_is_left_and_stops_the_pool, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2), *ev, *r;
	ASSERT_OK(shmc_event_new(A, &ev));
	shmc_value_t in = repeat(shmc_ref(ev), 10), v;
	ASSERT_OK(shmc_pool_map_async(p, shmc_task(wait_event), in, 1, &r));
	int32_t sup, pids[2];
	cr_assert_eq(live_workers(p, 2), 2);
	shmc__pool_pids(p, &sup, pids, 2);
	cr_assert(sup > 0 && kill(sup, SIGKILL) == 0);
	/* Its workers die with it; the waiter finds the rest undone. */
	int rc = shmc_async_result_get(r, TEST_DEADLINE, &v);
	cr_assert(rc == SHMC_EWORKERDIED || rc == -ECANCELED, "%s", shmc_errname(rc));
	cr_assert_eq(live_workers(p, 0), 0);
	expect_str(p, "<multiprocessing.pool.Pool state=TERMINATE pool_size=2>");
	ASSERT_ERR(shmc_pool_apply(p, shmc_task(sqr), shmc_int(1), &v), SHMC_ENOTRUNNING);
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	shmc_obj_release(r);
	shmc_value_free(&in);
	shmc_obj_release(ev);
	shmc_obj_release(p);
	sweep();
}

struct creator {
	shmc_obj_t *ls; /* where the creator puts its pool and result */
	shmc_obj_t *ev;
	int ready[2];
};

static int create_then_wait(void *arg)
{
	struct creator *c = arg;
	shmc_obj_t *p, *r;
	shmc_value_t in = repeat(shmc_ref(c->ev), 6);
	CHILD_OK(shmc_pool_new(A, 2, NULL, &p));
	CHILD_OK(shmc_pool_map_async(p, shmc_task(wait_event), in, 1, &r));
	CHILD_OK(shmc_list_append(c->ls, shmc_ref(p)));
	CHILD_OK(shmc_list_append(c->ls, shmc_ref(r)));
	say(c->ready[1]);
	for (;;)
		pause(); /* until the test kills it */
}

Test(pool, creator_killed_its_pool_ends_and_results_fail, .init = arena_setup,
     .fini = arena_teardown)
{
	struct creator c;
	register_tasks();
	ASSERT_OK(shmc_list_new(A, &c.ls));
	ASSERT_OK(shmc_event_new(A, &c.ev));
	cr_assert(pipe(c.ready) == 0);
	pid_t pid = fork_fn(create_then_wait, &c);
	cr_assert(hear(c.ready[0]));
	shmc_value_t pv, rv, v;
	ASSERT_OK(shmc_list_get(c.ls, 0, &pv));
	ASSERT_OK(shmc_list_get(c.ls, 1, &rv));
	cr_assert(kill_wait(pid));
	/* The supervisor notices, terminates: nothing is left waiting. */
	ASSERT_ERR(shmc_async_result_get(rv.ref, TEST_DEADLINE, &v), -ECANCELED);
	ASSERT_OK(shmc_pool_join(pv.ref, TEST_DEADLINE));
	int32_t sup, pids[2];
	cr_assert_eq(shmc__pool_pids(pv.ref, &sup, pids, 2), 0);
	cr_assert_eq(sup, 0);
	expect_str(pv.ref, "<multiprocessing.pool.Pool state=TERMINATE pool_size=2>");
	shmc_value_free(&rv);
	shmc_value_free(&pv);
	shmc_obj_release(c.ls);
	shmc_obj_release(c.ev);
	close(c.ready[0]);
	close(c.ready[1]);
	sweep();
}

static shmc_obj_t *hammered;

static int hammer_submit(void *arg)
{
	(void)arg;
	shmc_value_t in = range(8);
	for (;;) {
		shmc_obj_t *r;
		CHILD_OK(shmc_pool_map_async(hammered, shmc_task(sqr), in, 1, &r));
		shmc_obj_release(r);
		CHILD_OK(shmc_pool_apply_async(hammered, shmc_task_named("sqr"), shmc_int(3), &r));
		shmc_value_t v;
		CHILD_OK(shmc_async_result_get(r, TEST_DEADLINE, &v));
		shmc_obj_release(r);
	}
}

Test(pool, submitters_killed_mid_submit_leave_the_pool_usable, .init = arena_setup,
     .fini = arena_teardown)
{
	hammered = new_pool(2);
	unsigned seed = 99;
	for (int round = 0; round < 50; round++) {
		pid_t a = fork_fn(hammer_submit, NULL), b = fork_fn(hammer_submit, NULL);
		usleep(500 + rand_r(&seed) % 5000); /* varies where they are killed */
		cr_assert(kill_wait(a));
		cr_assert(kill_wait(b));
		shmc_value_t v;
		ASSERT_OK(shmc_pool_apply(hammered, shmc_task(sqr), shmc_int(round), &v));
		cr_assert_eq(v.i, round * round);
	}
	/* Checked once the pool's own processes are gone: while they run, a
	 * worker still completing a killed submitter's job holds blocks it has
	 * not linked yet, which a check running beside it would report (seen
	 * under ASan, where the workers lag). */
	end_pool(hammered);
	shmc_check_report_t rep;
	int rc = shmc_arena_check(A, SHMC_CHECK_REAP, &rep, print_finding, "check");
	cr_assert_eq(rc, 0, "%s", shmc_errname(rc));
	sweep(); /* what a killed submitter had taken but not published */
}

Test(pool, terminate_while_tasks_run_fails_them_with_ecanceled, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2), *ev, *r[4];
	ASSERT_OK(shmc_event_new(A, &ev));
	for (int i = 0; i < 4; i++)
		ASSERT_OK(shmc_pool_apply_async(p, shmc_task(wait_event), shmc_ref(ev), &r[i]));
	/* Two run (each worker waits in one), two are pending. */
	struct shmc__job *j0 = shmc__job_body(shmc__obj_of(r[0]));
	struct shmc__job *j1 = shmc__job_body(shmc__obj_of(r[1]));
	double end = now_s() + TEST_DEADLINE;
	while (ld_acquire(&j0->next_claim) + ld_acquire(&j1->next_claim) < 2 && now_s() < end)
		usleep(1000); /* a poll interval */
	ASSERT_OK(shmc_pool_terminate(p));
	for (int i = 0; i < 4; i++) {
		shmc_value_t v;
		ASSERT_ERR(shmc_async_result_get(r[i], SHMC_NOWAIT, &v), -ECANCELED);
		shmc_obj_release(r[i]);
	}
	cr_assert_eq(live_workers(p, 0), 0);
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	shmc_obj_release(ev);
	shmc_obj_release(p);
	sweep();
}

/* ARG: (the pool, an Event). Once the event is set, join the pool. */
static int join_own_pool(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	int rc = shmc_event_wait(shmc_seq_at(arg, 1)->ref, TEST_DEADLINE);
	*res = shmc_int(rc ? rc : shmc_pool_join(shmc_seq_at(arg, 0)->ref, 1));
	return 0;
}

Test(pool, join_from_a_worker_of_the_pool_is_edeadlk, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ev, *p = new_pool(1), *r;
	ASSERT_OK(shmc_event_new(A, &ev));
	/* The pool travels to its worker by reference, like any managed object. */
	shmc_value_t arg = shmc_tuple_of(2, shmc_ref(p), shmc_ref(ev)), v;
	ASSERT_OK(shmc_pool_apply_async(p, shmc_task(join_own_pool), arg, &r));
	ASSERT_OK(shmc_pool_close(p));
	ASSERT_OK(shmc_event_set(ev));
	ASSERT_OK(shmc_async_result_get(r, TEST_DEADLINE, &v));
	cr_assert_eq(v.i, -EDEADLK, "%s", shmc_errname((int)v.i));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	shmc_value_free(&arg);
	shmc_obj_release(r);
	shmc_obj_release(ev);
	shmc_obj_release(p);
}

/* A new managed list [ARG], made in the worker: the result holds it by
 * reference. */
static int make_list(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	shmc_obj_t *ls;
	shmc_value_t init = shmc_plist_of(1, shmc_strn(arg.str, arg.len)); /* takes a view */
	int rc = shmc_list_new_from(A, init, &ls); /* A: inherited from the test */
	shmc_value_free(&init);
	if (rc)
		return rc;
	rc = shmc_value_copy(shmc_ref(ls), res); /* owned: the pool frees it */
	shmc_obj_release(ls);
	return rc;
}

Test(pool, a_result_may_be_a_managed_object_made_by_the_worker, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2);
	shmc_value_t v, item;
	ASSERT_OK(shmc_pool_apply(p, shmc_task(make_list), shmc_str("made there"), &v));
	cr_assert_eq(v.type, SHMC_REF);
	cr_assert_eq(shmc_obj_kind(v.ref), SHMC_KIND_LIST);
	ASSERT_OK(shmc_list_get(v.ref, 0, &item));
	cr_assert_str_eq(item.str, "made there");
	shmc_value_free(&item);
	shmc_value_free(&v);
	end_pool(p);
}

struct scramble {
	shmc_obj_t *p, *job;
	int ready[2];
};

/* Take the pool's lock, scramble what the board derives, as a holder
 * killed half-way through an operation would leave it, and die holding
 * the lock. */
static int scramble_and_die(void *arg)
{
	struct scramble *s = arg;
	struct shmc__obj *p = shmc__obj_of(s->p);
	CHILD_OK(shmc__pool_lock(shmc_obj_arena(s->p), p));
	struct shmc__pool *b = shmc__pool_body(p);
	struct shmc__job *j = shmc__job_body(shmc__obj_of(s->job));
	st_relaxed(&b->claim, ld_relaxed(&b->tail)); /* the job looks handed out */
	st_relaxed(&j->next_claim, j->nchunks);
	st_relaxed(&j->left, 5);
	say(s->ready[1]);
	for (;;)
		pause(); /* killed here, the lock held */
}

Test(pool, a_holder_killed_mid_change_is_repaired_by_the_next, .init = arena_setup,
     .fini = arena_teardown)
{
	struct scramble s;
	shmc_obj_t *ev, *busy;
	s.p = new_pool(1);
	ASSERT_OK(shmc_event_new(A, &ev));
	/* The one worker is busy; the map waits on the board. */
	ASSERT_OK(shmc_pool_apply_async(s.p, shmc_task(wait_event), shmc_ref(ev), &busy));
	shmc_value_t in = range(4), v;
	ASSERT_OK(shmc_pool_map_async(s.p, shmc_task(sqr), in, 1, &s.job));
	cr_assert(pipe(s.ready) == 0);
	shmc_arena_stats_t st0, st1;
	ASSERT_OK(shmc_arena_stats(A, &st0));
	pid_t pid = fork_fn(scramble_and_die, &s);
	cr_assert(hear(s.ready[0]));
	cr_assert(kill_wait(pid));
	/* The next locker (the supervisor in its rounds, or the worker once
	 * done) takes the lock from the dead holder: repair recounts the job
	 * and finds its chunks pending again. */
	ASSERT_OK(shmc_event_set(ev));
	ASSERT_OK(shmc_async_result_get(s.job, TEST_DEADLINE, &v));
	expect_ints(v, 4, square);
	shmc_value_free(&v);
	ASSERT_OK(shmc_async_result_get(busy, TEST_DEADLINE, &v));
	shmc_value_free(&v);
	ASSERT_OK(shmc_arena_stats(A, &st1));
	cr_assert_gt(st1.lock_recoveries, st0.lock_recoveries);
	shmc_obj_release(busy);
	shmc_obj_release(s.job);
	shmc_obj_release(ev);
	shmc_value_free(&in);
	close(s.ready[0]);
	close(s.ready[1]);
	end_pool(s.p);
}

Test(pool, a_scribbled_board_breaks_the_pool_and_stops_its_processes, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *p = new_pool(2), *r = NULL;
	shmc_value_t v;
	ASSERT_OK(shmc_pool_apply(p, shmc_task(sqr), shmc_int(3), &v));
	struct shmc__pool *b = shmc__pool_body(shmc__obj_of(p));
	/* A stray write between operations (under the lock: the worker may
	 * still be taking the job it finished off the ring): not a ring. */
	ASSERT_OK(shmc__pool_lock(A, shmc__obj_of(p)));
	uint64_t ring = ld_relaxed(&b->ring_off);
	st_relaxed(&b->ring_off, 0x10);
	shmc__pool_unlock(A, shmc__obj_of(p));
	ASSERT_ERR(shmc_pool_apply_async(p, shmc_task(sqr), shmc_int(3), &r), SHMC_ECORRUPT);
	cr_assert_null(r);
	/* Every later operation reports it; the processes stop, none is
	 * started again. */
	ASSERT_ERR(shmc_pool_apply_async(p, shmc_task(sqr), shmc_int(3), &r), SHMC_ECORRUPT);
	ASSERT_ERR(shmc_pool_terminate(p), SHMC_ECORRUPT);
	cr_assert_eq(live_workers(p, 0), 0);
	int32_t sup = 1, pids[2];
	double end = now_s() + TEST_DEADLINE;
	while (shmc__pool_pids(p, &sup, pids, 2) >= 0 && sup && now_s() < end)
		usleep(1000); /* a poll interval */
	cr_assert_eq(sup, 0);
	cr_assert_eq(ld_relaxed(&b->started), 2);
	st_relaxed(&b->ring_off, ring); /* so that the pool's memory is freed */
	shmc_obj_release(p);
}
