/*
 * test_sync_barrier.c -- Barrier: arrival indices, generations, abort,
 * reset, timeouts, parties killed while they wait (the barrier breaks);
 * the action (exactly once a trip, by the last to arrive, before the
 * others go on; a failing or killed one breaks it; per process) and the
 * default timeout, against live python3.
 */
#include <criterion/criterion.h>
#include <math.h>

#define SHMC_TEST_WHITEBOX /* inject_until_ok */
#include "testutil.h"

TestSuite(barrier, .timeout = 120);

static void expect_suffix(shmc_obj_t *b, const char *want)
{
	char *s = obj_str(b);
	size_t n = strlen(s), m = strlen(want);
	cr_assert(strncmp(s, "<threading.Barrier at 0x", 24) == 0, "%s", s);
	cr_assert(n >= m && strcmp(s + n - m, want) == 0, "got %s, want ...%s", s, want);
	shmc_free(s);
}

Test(barrier, one_party_passes_alone_and_forms_print, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *b;
	ASSERT_OK(shmc_barrier_new(A, 1, &b));
	char *r;
	ASSERT_OK(shmc_obj_repr(b, &r));
	cr_assert(strncmp(r, "<BarrierProxy object, typeid 'Barrier' at 0x", 44) == 0, "%s", r);
	shmc_free(r);
	cr_assert_eq(shmc_barrier_wait(b, SHMC_FOREVER), 0);
	cr_assert_eq(shmc_barrier_wait(b, SHMC_NOWAIT), 0);
	cr_assert_eq(shmc_barrier_parties(b), 1);
	expect_suffix(b, ": waiters=0/1>");
	shmc_obj_release(b);
}

Test(barrier, bad_arguments_are_refused, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *b, *l;
	ASSERT_ERR(shmc_barrier_new(A, 0, &b), -EINVAL);
	ASSERT_ERR(shmc_barrier_new(A, 1u << 20, &b), -EINVAL);
	ASSERT_ERR(shmc_barrier_new(NULL, 2, &b), SHMC_EHANDLE);
	ASSERT_OK(shmc_barrier_new(A, 2, &b));
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_ERR(shmc_barrier_wait(b, -2), -EINVAL);
	ASSERT_ERR(shmc_barrier_wait(l, 1), SHMC_EKIND);
	cr_assert_eq(shmc_barrier_parties(l), SHMC_EKIND);
	cr_assert_eq(shmc_barrier_broken(NULL), SHMC_EHANDLE);
	shmc_obj_release(l);
	shmc_obj_release(b);
}

static int new_barrier(void *out)
{
	return shmc_barrier_new(A, 5, out);
}

Test(barrier, a_failed_allocation_changes_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *b;
	int nfail;
	ASSERT_OK(inject_until_ok(A, new_barrier, &b, &nfail));
	cr_assert_geq(nfail, 2); /* its tokens, itself */
	cr_assert_eq(shmc_barrier_parties(b), 5);
	shmc_obj_release(b);
}

/* Parties in other processes: every generation gives indices 0..n-1. */
#define PARTIES 4
#define GENERATIONS 300

struct party {
	shmc_obj_t *b;
	_Atomic int *seen; /* [generation][index] */
};

static int party(int i, void *p)
{
	(void)i;
	struct party *pt = p;
	for (int g = 0; g < GENERATIONS; g++) {
		int idx = shmc_barrier_wait(pt->b, TEST_DEADLINE);
		CHILD_OK(idx);
		CHILD_CHECK(idx < PARTIES);
		atomic_fetch_add(&pt->seen[g * PARTIES + idx], 1);
	}
	return 0;
}

Test(barrier, every_generation_hands_out_each_index_once, .init = arena_setup,
     .fini = arena_teardown)
{
	size_t bytes = sizeof(_Atomic int) * PARTIES * GENERATIONS;
	struct party pt = {NULL, shared_page(bytes)};
	ASSERT_OK(shmc_barrier_new(A, PARTIES, &pt.b));
	double t0 = now_s();
	cr_assert_eq(run_children(PARTIES, party, &pt), 0);
	for (int g = 0; g < GENERATIONS; g++)
		for (int i = 0; i < PARTIES; i++)
			cr_assert_eq(atomic_load(&pt.seen[g * PARTIES + i]), 1,
				     "generation %d, index %d", g, i);
	fprintf(stderr, "barrier: %d processes through %d generations: %.3f s\n", PARTIES,
		GENERATIONS, now_s() - t0);
	cr_assert_eq(shmc_barrier_n_waiting(pt.b), 0);
	cr_assert_eq(shmc_barrier_broken(pt.b), 0);
	munmap((void *)pt.seen, bytes);
	shmc_obj_release(pt.b);
}

struct waiter {
	shmc_obj_t *b;
	int want;
	double timeout;
};

static int wait_expect(void *p)
{
	struct waiter *w = p;
	int rc = shmc_barrier_wait(w->b, w->timeout);
	if (rc != w->want)
		fprintf(stderr, "barrier wait: %s (%d), expected %d\n", shmc_errname(rc), rc,
			w->want);
	return rc == w->want ? 0 : 1;
}

Test(barrier, abort_breaks_it_for_waiters_and_newcomers_until_reset,
     .init = arena_setup, .fini = arena_teardown)
{
	struct waiter w = {NULL, SHMC_EBROKEN, 10};
	ASSERT_OK(shmc_barrier_new(A, 3, &w.b));
	pid_t p1 = fork_fn(wait_expect, &w), p2 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 2, TEST_DEADLINE));
	expect_suffix(w.b, ": waiters=2/3>");
	ASSERT_OK(shmc_barrier_abort(w.b));
	cr_assert_eq(wait_exit(p1, TEST_DEADLINE), 0);
	cr_assert_eq(wait_exit(p2, TEST_DEADLINE), 0);
	cr_assert_eq(shmc_barrier_broken(w.b), 1);
	cr_assert_eq(shmc_barrier_n_waiting(w.b), 0);
	expect_suffix(w.b, ": broken>");
	ASSERT_ERR(shmc_barrier_wait(w.b, 1), SHMC_EBROKEN);
	ASSERT_OK(shmc_barrier_reset(w.b));
	cr_assert_eq(shmc_barrier_broken(w.b), 0);
	expect_suffix(w.b, ": waiters=0/3>");
	/* Usable again. */
	w.want = 0;
	p1 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, TEST_DEADLINE));
	w.want = 1;
	p2 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 2, TEST_DEADLINE));
	cr_assert_eq(shmc_barrier_wait(w.b, TEST_DEADLINE), 2);
	cr_assert_eq(wait_exit(p1, TEST_DEADLINE), 0);
	cr_assert_eq(wait_exit(p2, TEST_DEADLINE), 0);
	shmc_obj_release(w.b);
}

Test(barrier, reset_while_waiting_gives_ebroken_and_leaves_it_usable,
     .init = arena_setup, .fini = arena_teardown)
{
	struct waiter w = {NULL, SHMC_EBROKEN, 10};
	ASSERT_OK(shmc_barrier_new(A, 2, &w.b));
	pid_t p1 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, TEST_DEADLINE));
	ASSERT_OK(shmc_barrier_reset(w.b));
	cr_assert_eq(wait_exit(p1, TEST_DEADLINE), 0);
	cr_assert_eq(shmc_barrier_broken(w.b), 0);
	w.want = 0;
	p1 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, TEST_DEADLINE));
	cr_assert_eq(shmc_barrier_wait(w.b, TEST_DEADLINE), 1);
	cr_assert_eq(wait_exit(p1, TEST_DEADLINE), 0);
	shmc_obj_release(w.b);
}

Test(barrier, a_timeout_breaks_it_as_in_python, .init = arena_setup, .fini = arena_teardown)
{
	struct waiter w = {NULL, SHMC_EBROKEN, 10};
	ASSERT_OK(shmc_barrier_new(A, 3, &w.b));
	pid_t p1 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, TEST_DEADLINE));
	double t0 = now_s();
	ASSERT_ERR(shmc_barrier_wait(w.b, 0.05), -ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 0.049);
	cr_assert_eq(wait_exit(p1, TEST_DEADLINE), 0);
	cr_assert_eq(shmc_barrier_broken(w.b), 1);
	shmc_obj_release(w.b);
}

/* Death ------------------------------------------------------------------- */

struct dying {
	shmc_obj_t *b;
	_Atomic int *arrived;
};

static int arrive_forever(void *p)
{
	struct dying *d = p;
	atomic_fetch_add(d->arrived, 1);
	shmc_barrier_wait(d->b, SHMC_FOREVER);
	return 3;
}

static int arrive_expect_broken(void *p)
{
	struct dying *d = p;
	int rc = shmc_barrier_wait(d->b, TEST_DEADLINE);
	return rc == SHMC_EBROKEN ? 0 : 1;
}

Test(barrier, party_killed_200_times_breaks_the_barrier, .init = arena_setup,
     .fini = arena_teardown)
{
	struct dying d = {NULL, shared_page(4096)};
	int hangs = 0, broken = 0;
	double t0 = now_s(), worst = 0;
	for (int k = 0; k < 200; k++) {
		ASSERT_OK(shmc_barrier_new(A, 3, &d.b));
		atomic_store(d.arrived, 0);
		pid_t dead = fork_fn(arrive_forever, &d);
		/* The dead one arrives first or second. */
		pid_t live = -1;
		if (k % 2) {
			live = fork_fn(arrive_expect_broken, &d);
			cr_assert(wait_count(shmc_barrier_n_waiting, d.b, 1, TEST_DEADLINE));
		}
		cr_assert(wait_flag(d.arrived, 1, TEST_DEADLINE));
		cr_assert(wait_count(shmc_barrier_n_waiting, d.b, k % 2 ? 2 : 1, TEST_DEADLINE));
		if (live < 0) {
			live = fork_fn(arrive_expect_broken, &d);
			cr_assert(wait_count(shmc_barrier_n_waiting, d.b, 2, TEST_DEADLINE));
		}
		kill_wait(dead);
		double t = now_s();
		int rc = wait_exit(live, TEST_DEADLINE);
		worst = fmax(worst, now_s() - t);
		hangs += rc == CHILD_HUNG;
		cr_assert_eq(rc, 0, "kill %d: the live party got %d", k, rc);
		broken += shmc_barrier_broken(d.b) == 1;
		ASSERT_ERR(shmc_barrier_wait(d.b, 1), SHMC_EBROKEN);
		shmc_obj_release(d.b);
	}
	cr_assert_eq(broken, 200);
	fprintf(stderr, "barrier: party killed 200 times: %d broken, %d hangs, %.2f s, "
		"slowest to break %.1f ms\n", broken, hangs, now_s() - t0, worst * 1e3);
	munmap((void *)d.arrived, 4096);
}

Test(barrier, check_passes_with_waiters_arrived, .init = arena_setup, .fini = arena_teardown)
{
	struct waiter w = {NULL, 0, 10};
	ASSERT_OK(shmc_barrier_new(A, 2, &w.b));
	pid_t p1 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, TEST_DEADLINE));
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(shmc_barrier_wait(w.b, TEST_DEADLINE), 1);
	cr_assert_eq(wait_exit(p1, TEST_DEADLINE), 0);
	shmc_obj_release(w.b);
}

/* The action and the default timeout ------------------------------------- */

/* What the actions below count, on a shared page. */
struct action_log {
	shmc_obj_t *b;
	_Atomic int *runs;   /* actions run */
	_Atomic int *runner; /* [trip]: the pid that ran its action */
	int fail_at;         /* the run that fails (-1: none) */
};

static void action_log_init(struct action_log *l, int fail_at)
{
	l->runs = shared_page(8192);
	l->runner = l->runs + 1;
	l->fail_at = fail_at;
}

static void action_log_fini(struct action_log *l)
{
	munmap((void *)l->runs, 8192);
	shmc_obj_release(l->b);
}

static int count_calls(void *ctx)
{
	struct action_log *l = ctx;
	/* All parties of the trip are in, none released yet. */
	if (shmc_barrier_n_waiting(l->b) != shmc_barrier_parties(l->b))
		return -EPROTO;
	int run = atomic_fetch_add(l->runs, 1);
	if (run < 2000)
		atomic_store(&l->runner[run], getpid());
	return run == l->fail_at ? -EIO : 0;
}

static const char action_py[] =
	"import threading, time\n"
	"calls = []\n"
	"b = threading.Barrier(1, action=lambda: calls.append(b.n_waiting))\n"
	"print(b.wait(), b.wait(), calls)\n"
	"b = threading.Barrier(2, timeout=0.2)\n"
	"t = time.monotonic()\n"
	"try:\n"
	"    b.wait()\n"
	"except threading.BrokenBarrierError:\n"
	"    print('BrokenBarrierError', b.broken, 0.2 <= time.monotonic() - t < 1.0)\n"
	"def bad():\n"
	"    raise ValueError('x')\n"
	"b = threading.Barrier(1, action=bad)\n"
	"try:\n"
	"    b.wait()\n"
	"except ValueError:\n"
	"    print('ValueError', b.broken)\n"
	"b.reset()\n"
	"print(b.broken)\n";

/* Appends n_waiting to the list at CTX: {count, items...}. */
static int note_waiting(void *ctx)
{
	struct action_log *l = ctx;
	int n = atomic_fetch_add(l->runs, 1);
	atomic_store(&l->runner[n], (int)shmc_barrier_n_waiting(l->b));
	return 0;
}

static int fail_eio(void *ctx)
{
	(void)ctx;
	return -EIO;
}

/* Python's threading.Barrier, which the Manager serves, for the same
 * steps; its BrokenBarrierError on a timeout is our -ETIMEDOUT for the
 * party that timed out (SHMC_EBROKEN for the others). */
Test(barrier, action_and_default_timeout_match_python, .init = arena_setup,
     .fini = arena_teardown)
{
	char got[256];
	size_t n = 0;
	struct action_log l;
	action_log_init(&l, -1);
	ASSERT_OK(shmc_barrier_new_ex(A, 1, note_waiting, &l, SHMC_FOREVER, &l.b));
	int w0 = shmc_barrier_wait(l.b, SHMC_FOREVER), w1 = shmc_barrier_wait(l.b, SHMC_FOREVER);
	n += (size_t)snprintf(got + n, sizeof(got) - n, "%d %d [%d, %d]\n", w0, w1,
			      atomic_load(&l.runner[0]), atomic_load(&l.runner[1]));
	action_log_fini(&l);

	shmc_obj_t *b;
	ASSERT_OK(shmc_barrier_new_ex(A, 2, NULL, NULL, 0.2, &b));
	double t0 = now_s();
	ASSERT_ERR(shmc_barrier_wait(b, SHMC_FOREVER), -ETIMEDOUT);
	double took = now_s() - t0;
	n += (size_t)snprintf(got + n, sizeof(got) - n, "BrokenBarrierError %s %s\n",
			      shmc_barrier_broken(b) == 1 ? "True" : "False",
			      took >= 0.2 && took < 0.2 + TEST_LATE ? "True" : "False");
	shmc_obj_release(b);

	ASSERT_OK(shmc_barrier_new_ex(A, 1, fail_eio, NULL, SHMC_FOREVER, &b));
	ASSERT_ERR(shmc_barrier_wait(b, SHMC_FOREVER), -EIO);
	n += (size_t)snprintf(got + n, sizeof(got) - n, "ValueError %s\n",
			      shmc_barrier_broken(b) == 1 ? "True" : "False");
	ASSERT_OK(shmc_barrier_reset(b));
	n += (size_t)snprintf(got + n, sizeof(got) - n, "%s\n",
			      shmc_barrier_broken(b) == 1 ? "True" : "False");
	shmc_obj_release(b);
	expect_python(got, "0 0 [1, 1]\nBrokenBarrierError True True\nValueError True\nFalse\n",
		      action_py);
}

/* PARTIES forked processes through GENERATIONS trips: the action, made by
 * the parent before the fork, runs exactly once a trip, in the party that
 * arrived last (index parties - 1), before any party of the trip goes on. */
static int action_party(int i, void *p)
{
	(void)i;
	struct action_log *l = p;
	for (int g = 0; g < GENERATIONS; g++) {
		int idx = shmc_barrier_wait(l->b, TEST_DEADLINE);
		CHILD_OK(idx);
		CHILD_CHECK(atomic_load(l->runs) >= g + 1); /* this trip's ran */
		if (idx == PARTIES - 1)
			CHILD_CHECK(atomic_load(&l->runner[g]) == getpid());
	}
	return 0;
}

Test(barrier, action_runs_exactly_once_a_trip_across_processes, .init = arena_setup,
     .fini = arena_teardown)
{
	struct action_log l;
	action_log_init(&l, -1);
	ASSERT_OK(shmc_barrier_new_ex(A, PARTIES, count_calls, &l, SHMC_FOREVER, &l.b));
	double t0 = now_s();
	cr_assert_eq(run_children(PARTIES, action_party, &l), 0);
	cr_log_info("barrier: %d processes through %d trips with an action: %.3f s", PARTIES,
		    GENERATIONS, now_s() - t0);
	cr_assert_eq(atomic_load(l.runs), GENERATIONS);
	cr_assert_eq(shmc_barrier_broken(l.b), 0);
	action_log_fini(&l);
}

/* An action that fails breaks the barrier: the party that ran it gets its
 * code, the others SHMC_EBROKEN, and so does everyone until reset(). */
static int fail_party_fn(void *p)
{
	struct action_log *l = p;
	int rc = shmc_barrier_wait(l->b, TEST_DEADLINE);
	if (rc == -EIO)
		return 10;
	return rc == SHMC_EBROKEN ? 0 : 1;
}

Test(barrier, a_failing_action_breaks_it_for_the_others, .init = arena_setup,
     .fini = arena_teardown)
{
	struct action_log l;
	action_log_init(&l, 0);
	ASSERT_OK(shmc_barrier_new_ex(A, PARTIES, count_calls, &l, SHMC_FOREVER, &l.b));
	pid_t pids[PARTIES];
	for (int i = 0; i < PARTIES; i++)
		pids[i] = fork_fn(fail_party_fn, &l);
	int ran = 0;
	for (int i = 0; i < PARTIES; i++) {
		int rc = wait_exit(pids[i], TEST_DEADLINE);
		cr_assert(rc == 0 || rc == 10, "party %d: %d", i, rc);
		ran += rc == 10;
	}
	cr_assert_eq(ran, 1);
	cr_assert_eq(atomic_load(l.runs), 1);
	cr_assert_eq(shmc_barrier_broken(l.b), 1);
	ASSERT_ERR(shmc_barrier_wait(l.b, 1), SHMC_EBROKEN);
	ASSERT_OK(shmc_barrier_reset(l.b));
	cr_assert_eq(shmc_barrier_broken(l.b), 0);
	action_log_fini(&l);
}

/* A process with no action for a barrier that has one cannot trip it: its
 * wait says so, and the barrier breaks rather than go on without the
 * action. Another attachment of the arena stands for an unrelated
 * process; shmc_barrier_set_action() gives it one. */
static int plus_one(void *ctx)
{
	atomic_fetch_add((_Atomic int *)ctx, 1);
	return 0;
}

/* The fixture's arena, and the named arena's file (the test's own). */
static void teardown_with_files(void)
{
	arena_teardown();
	files_cleanup();
}

Test(barrier, another_process_needs_its_own_action, .init = arena_setup,
     .fini = teardown_with_files)
{
	char name[64], path[128];
	unique_name(name, sizeof(name), path, sizeof(path), "baction");
	shmc_arena_t *mine = test_named_arena(name, 16 << 20), *other;
	ASSERT_OK(shmc_arena_open(name, &other));
	_Atomic int calls = 0, other_calls = 0;
	shmc_obj_t *b, *b2;
	ASSERT_OK(shmc_barrier_new_ex(mine, 1, plus_one, &calls, SHMC_FOREVER, &b));
	ASSERT_OK(shmc_root_setdefault(mine, "b", b, &b2));
	shmc_obj_release(b2);
	ASSERT_OK(shmc_root_find(other, "b", &b2));
	ASSERT_ERR(shmc_barrier_wait(b2, 1), -ENOENT);
	cr_assert_eq(shmc_barrier_broken(b), 1);
	ASSERT_OK(shmc_barrier_reset(b2));
	ASSERT_OK(shmc_barrier_set_action(b2, plus_one, &other_calls));
	ASSERT_ERR(shmc_barrier_wait(b2, 1), 0);
	ASSERT_ERR(shmc_barrier_wait(b, 1), 0);
	cr_assert_eq(atomic_load(&calls), 1);
	cr_assert_eq(atomic_load(&other_calls), 1);
	/* Bad arguments. */
	shmc_obj_t *plain, *l;
	ASSERT_OK(shmc_barrier_new(other, 2, &plain));
	ASSERT_OK(shmc_lock_new(other, &l));
	ASSERT_ERR(shmc_barrier_set_action(plain, plus_one, NULL), -EINVAL);
	ASSERT_ERR(shmc_barrier_set_action(b2, NULL, NULL), -EINVAL);
	ASSERT_ERR(shmc_barrier_set_action(l, plus_one, NULL), SHMC_EKIND);
	ASSERT_ERR(shmc_barrier_set_action(NULL, plus_one, NULL), SHMC_EHANDLE);
	shmc_obj_t *x = NULL;
	ASSERT_ERR(shmc_barrier_new_ex(other, 2, NULL, NULL, NAN, &x), -EINVAL);
	ASSERT_ERR(shmc_barrier_new_ex(other, 2, NULL, NULL, -0.5, &x), -EINVAL);
	ASSERT_ERR(shmc_barrier_new_ex(other, 0, plus_one, NULL, 1, &x), -EINVAL);
	ASSERT_ERR(shmc_barrier_new_ex(NULL, 2, NULL, NULL, 1, &x), SHMC_EHANDLE);
	ASSERT_ERR(shmc_barrier_new_ex(other, 2, NULL, NULL, 1, NULL), SHMC_EHANDLE);
	cr_assert_null(x);
	shmc_obj_release(l);
	shmc_obj_release(plain);
	shmc_obj_release(b2);
	shmc_obj_release(b);
	ASSERT_OK(shmc_root_remove(mine, "b"));
	shmc_arena_close(other);
	shmc_arena_close(mine);
}

static int new_barrier_with_action(void *out)
{
	return shmc_barrier_new_ex(A, 3, fail_eio, NULL, 2.5, out);
}

Test(barrier, new_ex_failing_allocations_change_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *b;
	int nfail;
	ASSERT_OK(inject_until_ok(A, new_barrier_with_action, &b, &nfail));
	cr_assert_geq(nfail, 2);
	cr_assert_eq(shmc_barrier_parties(b), 3);
	shmc_obj_release(b);
}

/* The default timeout is what SHMC_FOREVER (Python's None) waits; a
 * timeout given overrides it, and +inf waits without limit. */
Test(barrier, default_timeout_and_what_overrides_it, .init = arena_setup,
     .fini = arena_teardown)
{
	/* A default long enough that a wait of 0.02 s, late on a loaded
	 * machine, still ends well before it. */
	shmc_obj_t *b;
	ASSERT_OK(shmc_barrier_new_ex(A, 2, NULL, NULL, 1.0, &b));
	double t0 = now_s();
	ASSERT_ERR(shmc_barrier_wait(b, 0.02), -ETIMEDOUT);
	double took = now_s() - t0;
	cr_assert(took >= 0.019 && took < 0.99, "waited %.3f s", took);
	ASSERT_OK(shmc_barrier_reset(b));
	t0 = now_s();
	ASSERT_ERR(shmc_barrier_wait(b, SHMC_FOREVER), -ETIMEDOUT);
	took = now_s() - t0;
	cr_assert(took >= 0.999 && took < 1.0 + TEST_LATE, "waited %.3f s", took);
	ASSERT_OK(shmc_barrier_reset(b));
	struct waiter w = {b, 0, INFINITY};
	pid_t p = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, b, 1, TEST_DEADLINE));
	/* Let the default pass: the waiter, on +inf, is still there. */
	t0 = now_s();
	while (now_s() - t0 < 1.2)
		usleep(1000); /* a time that must pass, not a synchronisation */
	cr_assert_eq(shmc_barrier_n_waiting(b), 1);
	ASSERT_ERR(shmc_barrier_wait(b, SHMC_FOREVER), 1);
	cr_assert_eq(wait_exit(p, TEST_DEADLINE), 0);
	shmc_obj_release(b);
}

/* The party running the action is killed in it, holding the barrier's
 * lock: the others are not left waiting. The barrier breaks (repair, by
 * the waiter that finds the killed party), and reset() makes it usable. */
static int hang_in_action(void *ctx)
{
	atomic_store((_Atomic int *)ctx, 1);
	for (;;)
		pause();
	return 0;
}

struct kill_ctx {
	shmc_obj_t *b;
	_Atomic int *in_action;
};

static int trip_and_hang(void *p)
{
	struct kill_ctx *k = p;
	shmc_barrier_wait(k->b, SHMC_FOREVER);
	return 3;
}

Test(barrier, party_killed_in_the_action_50_times_breaks_the_barrier,
     .init = arena_setup, .fini = arena_teardown)
{
	struct kill_ctx k = {NULL, shared_page(4096)};
	double worst = 0, t0 = now_s();
	int hangs = 0;
	ASSERT_OK(shmc_barrier_new_ex(A, 3, hang_in_action, k.in_action, SHMC_FOREVER, &k.b));
	struct waiter w = {k.b, SHMC_EBROKEN, TEST_DEADLINE};
	for (int i = 0; i < 50; i++) {
		atomic_store(k.in_action, 0);
		pid_t w1 = fork_fn(wait_expect, &w);
		cr_assert(wait_count(shmc_barrier_n_waiting, k.b, 1, TEST_DEADLINE));
		pid_t w2 = fork_fn(wait_expect, &w);
		cr_assert(wait_count(shmc_barrier_n_waiting, k.b, 2, TEST_DEADLINE));
		pid_t tripper = fork_fn(trip_and_hang, &k);
		cr_assert(wait_flag(k.in_action, 1, TEST_DEADLINE));
		cr_assert_eq(shmc_barrier_n_waiting(k.b), 3);
		cr_assert(kill_wait(tripper));
		double t = now_s();
		int r1 = wait_exit(w1, TEST_DEADLINE), r2 = wait_exit(w2, TEST_DEADLINE);
		worst = fmax(worst, now_s() - t);
		hangs += (r1 == CHILD_HUNG) + (r2 == CHILD_HUNG);
		cr_assert(r1 == 0 && r2 == 0, "kill %d: the waiters got %d, %d", i, r1, r2);
		cr_assert_eq(shmc_barrier_broken(k.b), 1);
		ASSERT_OK(shmc_barrier_reset(k.b));
	}
	fprintf(stderr, "barrier: party killed in its action 50 times: %d hangs, %.2f s, "
		"slowest to break %.1f ms\n", hangs, now_s() - t0, worst * 1e3);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	munmap((void *)k.in_action, 4096);
	shmc_obj_release(k.b);
}
