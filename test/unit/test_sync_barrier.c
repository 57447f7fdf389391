/*
 * test_sync_barrier.c -- Barrier: arrival indices, generations, abort,
 * reset, timeouts, and parties killed while they wait (the barrier breaks).
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
		int idx = shmc_barrier_wait(pt->b, 10);
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
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 2, 10));
	expect_suffix(w.b, ": waiters=2/3>");
	ASSERT_OK(shmc_barrier_abort(w.b));
	cr_assert_eq(wait_exit(p1, 10), 0);
	cr_assert_eq(wait_exit(p2, 10), 0);
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
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, 10));
	w.want = 1;
	p2 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 2, 10));
	cr_assert_eq(shmc_barrier_wait(w.b, 10), 2);
	cr_assert_eq(wait_exit(p1, 10), 0);
	cr_assert_eq(wait_exit(p2, 10), 0);
	shmc_obj_release(w.b);
}

Test(barrier, reset_while_waiting_gives_ebroken_and_leaves_it_usable,
     .init = arena_setup, .fini = arena_teardown)
{
	struct waiter w = {NULL, SHMC_EBROKEN, 10};
	ASSERT_OK(shmc_barrier_new(A, 2, &w.b));
	pid_t p1 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, 10));
	ASSERT_OK(shmc_barrier_reset(w.b));
	cr_assert_eq(wait_exit(p1, 10), 0);
	cr_assert_eq(shmc_barrier_broken(w.b), 0);
	w.want = 0;
	p1 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, 10));
	cr_assert_eq(shmc_barrier_wait(w.b, 10), 1);
	cr_assert_eq(wait_exit(p1, 10), 0);
	shmc_obj_release(w.b);
}

Test(barrier, a_timeout_breaks_it_as_in_python, .init = arena_setup, .fini = arena_teardown)
{
	struct waiter w = {NULL, SHMC_EBROKEN, 10};
	ASSERT_OK(shmc_barrier_new(A, 3, &w.b));
	pid_t p1 = fork_fn(wait_expect, &w);
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, 10));
	double t0 = now_s();
	ASSERT_ERR(shmc_barrier_wait(w.b, 0.05), -ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 0.049);
	cr_assert_eq(wait_exit(p1, 10), 0);
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
	int rc = shmc_barrier_wait(d->b, 10);
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
			cr_assert(wait_count(shmc_barrier_n_waiting, d.b, 1, 10));
		}
		cr_assert(wait_flag(d.arrived, 1, 10));
		cr_assert(wait_count(shmc_barrier_n_waiting, d.b, k % 2 ? 2 : 1, 10));
		if (live < 0) {
			live = fork_fn(arrive_expect_broken, &d);
			cr_assert(wait_count(shmc_barrier_n_waiting, d.b, 2, 10));
		}
		kill_wait(dead);
		double t = now_s();
		int rc = wait_exit(live, 10);
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
	cr_assert(wait_count(shmc_barrier_n_waiting, w.b, 1, 10));
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(shmc_barrier_wait(w.b, 10), 1);
	cr_assert_eq(wait_exit(p1, 10), 0);
	shmc_obj_release(w.b);
}
