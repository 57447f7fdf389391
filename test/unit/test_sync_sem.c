/*
 * test_sync_sem.c -- Semaphore and BoundedSemaphore: counting, bounds,
 * timeouts, many processes never over-admitted, and permits that come back
 * from holders killed while they hold them.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "sync/sync.h"
#include "testutil.h"

TestSuite(sem, .timeout = 120);

static void expect_prefix(char *s, const char *want)
{
	cr_assert(strncmp(s, want, strlen(want)) == 0, "got %s, want %s...", s, want);
	shmc_free(s);
}

static void expect_suffix(char *s, const char *want)
{
	size_t n = strlen(s), m = strlen(want);
	cr_assert(n >= m && strcmp(s + n - m, want) == 0, "got %s, want ...%s", s, want);
	shmc_free(s);
}

Test(sem, counts_permits_as_python_does, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *s;
	ASSERT_OK(shmc_semaphore_new(A, 2, &s));
	char *r;
	ASSERT_OK(shmc_obj_repr(s, &r));
	expect_prefix(r, "<AcquirerProxy object, typeid 'Semaphore' at 0x");
	expect_prefix(obj_str(s), "<threading.Semaphore at 0x");
	expect_suffix(obj_str(s), ": value=2>");
	ASSERT_OK(shmc_semaphore_acquire(s, SHMC_FOREVER));
	ASSERT_OK(shmc_semaphore_acquire(s, SHMC_NOWAIT));
	cr_assert_eq(shmc_semaphore_value(s), 0);
	ASSERT_ERR(shmc_semaphore_acquire(s, SHMC_NOWAIT), -ETIMEDOUT);
	double t0 = now_s();
	ASSERT_ERR(shmc_semaphore_acquire(s, 0.05), -ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 0.049);
	ASSERT_OK(shmc_semaphore_release(s));
	ASSERT_OK(shmc_semaphore_release(s));
	/* A plain Semaphore may be released past its initial value. */
	ASSERT_OK(shmc_semaphore_release(s));
	expect_suffix(obj_str(s), ": value=3>");
	cr_assert_eq(shmc_semaphore_value(s), 3);
	cr_assert_eq(shmc__sem_sleepers(s), 0);
	shmc_obj_release(s);
}

Test(sem, bounded_semaphore_refuses_release_past_its_bound, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *s;
	ASSERT_OK(shmc_bounded_semaphore_new(A, 2, &s));
	char *r;
	ASSERT_OK(shmc_obj_repr(s, &r));
	expect_prefix(r, "<AcquirerProxy object, typeid 'BoundedSemaphore' at 0x");
	expect_prefix(obj_str(s), "<threading.BoundedSemaphore at 0x");
	ASSERT_ERR(shmc_semaphore_release(s), SHMC_EBOUND);
	ASSERT_OK(shmc_semaphore_acquire(s, SHMC_NOWAIT));
	expect_suffix(obj_str(s), ": value=1/2>");
	ASSERT_OK(shmc_semaphore_release(s));
	ASSERT_ERR(shmc_semaphore_release(s), SHMC_EBOUND);
	expect_suffix(obj_str(s), ": value=2/2>");
	shmc_obj_release(s);
}

Test(sem, bad_arguments_are_refused, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *s, *l;
	ASSERT_ERR(shmc_semaphore_new(A, -1, &s), -EINVAL);
	ASSERT_ERR(shmc_bounded_semaphore_new(A, (int64_t)1 << 33, &s), -EINVAL);
	ASSERT_ERR(shmc_semaphore_new(NULL, 1, &s), SHMC_EHANDLE);
	ASSERT_OK(shmc_semaphore_new(A, 0, &s));
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_ERR(shmc_semaphore_acquire(s, -5), -EINVAL);
	ASSERT_ERR(shmc_semaphore_acquire(s, NAN), -EINVAL);
	ASSERT_ERR(shmc_semaphore_acquire(l, 1), SHMC_EKIND);
	ASSERT_ERR(shmc_semaphore_release(l), SHMC_EKIND);
	cr_assert_eq(shmc_semaphore_value(l), SHMC_EKIND);
	ASSERT_ERR(shmc_lock_acquire(s, 1), SHMC_EKIND);
	shmc_obj_release(l);
	shmc_obj_release(s);
}

/* A release wakes a sleeper in another process. Each keeps its permit
 * until the parent has seen all three taken: a process that exits holding
 * one is a dead holder, whose permit the next acquirer recovers (with
 * SHMC_EOWNERDEAD) -- a sibling that exited first would make that race. */
struct sem_gate {
	shmc_obj_t *s;
	int gate;   /* read end: EOF once the parent has seen every permit taken */
	int gate_w; /* write end: the parent's only (a child closes its copy) */
};

static int acquire_in_time(void *p)
{
	struct sem_gate *g = p;
	close(g->gate_w);
	if (shmc_semaphore_acquire(g->s, TEST_DEADLINE) != 0)
		return 1;
	hear(g->gate);
	return 0;
}

static bool all_taken(shmc_obj_t *s, double timeout)
{
	double end = now_s() + timeout;
	while (shmc_semaphore_value(s) != 0 || shmc__sem_sleepers(s) != 0) {
		if (now_s() > end)
			return false;
		usleep(50);
	}
	return true;
}

Test(sem, release_wakes_a_sleeping_acquirer, .init = arena_setup, .fini = arena_teardown)
{
	struct sem_gate g;
	int gate[2];
	ASSERT_OK(shmc_semaphore_new(A, 0, &g.s));
	cr_assert_eq(pipe(gate), 0);
	g.gate = gate[0];
	g.gate_w = gate[1];
	pid_t pids[3];
	for (int i = 0; i < 3; i++)
		pids[i] = fork_fn(acquire_in_time, &g);
	close(gate[0]);
	cr_assert(wait_count(shmc__sem_sleepers, g.s, 3, TEST_DEADLINE), "the children did not sleep");
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_semaphore_release(g.s));
	bool taken = all_taken(g.s, TEST_DEADLINE);
	close(gate[1]);
	cr_assert(taken, "value %lld, %lld sleeping", (long long)shmc_semaphore_value(g.s),
		  (long long)shmc__sem_sleepers(g.s));
	for (int i = 0; i < 3; i++)
		cr_assert_eq(wait_exit(pids[i], TEST_DEADLINE), 0);
	cr_assert_eq(shmc_semaphore_value(g.s), 0);
	cr_assert_eq(shmc__sem_sleepers(g.s), 0);
	shmc_obj_release(g.s);
}

/* Many processes never get more permits than there are. */
#define ADMITS 3
#define ROUNDS 3000

struct gate {
	shmc_obj_t *s;
	_Atomic int *inside, *most;
};

static int admitted(int i, void *p)
{
	(void)i;
	struct gate *g = p;
	for (int k = 0; k < ROUNDS; k++) {
		CHILD_OK(shmc_semaphore_acquire(g->s, SHMC_FOREVER));
		int n = atomic_fetch_add(g->inside, 1) + 1;
		int m = atomic_load(g->most);
		while (n > m && !atomic_compare_exchange_weak(g->most, &m, n))
			;
		if (k % 64 == 0)
			sched_yield();
		atomic_fetch_sub(g->inside, 1);
		CHILD_OK(shmc_semaphore_release(g->s));
	}
	return 0;
}

static void never_over_admits(bool bounded)
{
	struct gate g;
	_Atomic int *page = shared_page(4096);
	g.inside = &page[0];
	g.most = &page[1];
	ASSERT_OK(bounded ? shmc_bounded_semaphore_new(A, ADMITS, &g.s) : shmc_semaphore_new(A, ADMITS, &g.s));
	double t0 = now_s();
	cr_assert_eq(run_children(8, admitted, &g), 0);
	cr_assert_leq(atomic_load(g.most), ADMITS);
	cr_assert_eq(shmc_semaphore_value(g.s), ADMITS);
	fprintf(stderr, "sem: 8 processes x %d rounds through %s(%d): at most %d inside, %.3f s\n",
		ROUNDS, bounded ? "BoundedSemaphore" : "Semaphore", ADMITS,
		atomic_load(g.most), now_s() - t0);
	munmap(page, 4096);
	shmc_obj_release(g.s);
}

Test(sem, eight_processes_are_never_over_admitted, .init = arena_setup,
     .fini = arena_teardown)
{
	never_over_admits(false);
}

Test(sem, eight_processes_are_never_over_admitted_bounded, .init = arena_setup,
     .fini = arena_teardown)
{
	never_over_admits(true);
}

/* Death ------------------------------------------------------------------- */

#define KILLS 200

struct victim {
	shmc_obj_t *s;
	int permits;
	_Atomic int *ready;
};

static int take_and_hang(void *p)
{
	struct victim *v = p;
	for (int i = 0; i < v->permits; i++)
		CHILD_OK(shmc_semaphore_acquire(v->s, SHMC_FOREVER));
	atomic_store(v->ready, 1);
	for (;;)
		pause();
}

static void holder_killed(bool bounded, int value, int permits)
{
	struct victim v = {NULL, permits, shared_page(4096)};
	ASSERT_OK(bounded ? shmc_bounded_semaphore_new(A, value, &v.s) : shmc_semaphore_new(A, value, &v.s));
	int ownerdead = 0, hangs = 0;
	double t0 = now_s(), worst = 0;
	for (int k = 0; k < KILLS; k++) {
		atomic_store(v.ready, 0);
		pid_t pid = fork_fn(take_and_hang, &v);
		cr_assert(wait_flag(v.ready, 1, TEST_DEADLINE), "the child did not acquire");
		cr_assert_eq(shmc_semaphore_value(v.s), value - permits);
		kill_wait(pid);
		/* The free permits first, then the dead's come back. */
		for (int i = 0; i < value - permits; i++)
			ASSERT_OK(shmc_semaphore_acquire(v.s, SHMC_NOWAIT));
		double t = now_s();
		int rc = shmc_semaphore_acquire(v.s, TEST_DEADLINE);
		worst = fmax(worst, now_s() - t);
		hangs += rc == -ETIMEDOUT;
		ownerdead += rc == SHMC_EOWNERDEAD;
		cr_assert_eq(rc, SHMC_EOWNERDEAD, "kill %d: %s", k, shmc_errname(rc));
		for (int i = 1; i < permits; i++)
			ASSERT_OK(shmc_semaphore_acquire(v.s, SHMC_NOWAIT));
		ASSERT_ERR(shmc_semaphore_acquire(v.s, SHMC_NOWAIT), -ETIMEDOUT);
		for (int i = 0; i < value; i++)
			ASSERT_OK(shmc_semaphore_release(v.s));
		if (bounded)
			ASSERT_ERR(shmc_semaphore_release(v.s), SHMC_EBOUND);
		cr_assert_eq(shmc_semaphore_value(v.s), value);
	}
	fprintf(stderr, "sem: %s(%d) holder of %d killed %d times: %d SHMC_EOWNERDEAD, "
		"%d hangs, %.2f s, slowest recovery %.1f ms\n",
		bounded ? "BoundedSemaphore" : "Semaphore", value, permits, KILLS,
		ownerdead, hangs, now_s() - t0, worst * 1e3);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, NULL, NULL));
	munmap((void *)v.ready, 4096);
	shmc_obj_release(v.s);
}

Test(sem, holder_killed_200_times_next_acquirer_gets_eownerdead, .init = arena_setup,
     .fini = arena_teardown)
{
	holder_killed(false, 1, 1);
}

Test(sem, holder_of_two_of_three_killed_200_times_both_come_back, .init = arena_setup,
     .fini = arena_teardown)
{
	holder_killed(false, 3, 2);
}

Test(sem, bounded_holder_killed_200_times_next_acquirer_gets_eownerdead,
     .init = arena_setup, .fini = arena_teardown)
{
	holder_killed(true, 2, 1);
}

static int acquire_release_in_time(void *p)
{
	int rc = shmc_semaphore_acquire(p, TEST_DEADLINE);
	if (rc == 0)
		rc = shmc_semaphore_release(p);
	return rc == 0 ? 0 : 1;
}

static int wait_forever(void *p)
{
	struct victim *v = p;
	atomic_fetch_add(v->ready, 1);
	shmc_semaphore_acquire(v->s, SHMC_FOREVER);
	return 3; /* should have been killed before */
}

Test(sem, waiter_killed_200_times_others_unaffected, .init = arena_setup,
     .fini = arena_teardown)
{
	struct victim v = {NULL, 1, shared_page(4096)};
	ASSERT_OK(shmc_semaphore_new(A, 0, &v.s));
	int hangs = 0;
	double t0 = now_s();
	for (int k = 0; k < KILLS; k++) {
		atomic_store(v.ready, 0);
		pid_t dead = fork_fn(wait_forever, &v);
		pid_t live = fork_fn(acquire_release_in_time, v.s);
		cr_assert(wait_flag(v.ready, 1, TEST_DEADLINE));
		if (k % 4 == 0) /* now and then, once both sleep */
			cr_assert(wait_count(shmc__sem_sleepers, v.s, 2, TEST_DEADLINE));
		kill_wait(dead);
		ASSERT_OK(shmc_semaphore_release(v.s));
		int rc = wait_exit(live, TEST_DEADLINE);
		hangs += rc == CHILD_HUNG;
		cr_assert_eq(rc, 0, "kill %d: the live waiter got %d", k, rc);
		ASSERT_OK(shmc_semaphore_acquire(v.s, SHMC_NOWAIT)); /* back to 0 */
	}
	cr_assert_eq(shmc_semaphore_value(v.s), 0);
	/* The dead sleepers' registrations are reaped on the next contention. */
	ASSERT_ERR(shmc_semaphore_acquire(v.s, SHMC_NOWAIT), -ETIMEDOUT);
	cr_assert_eq(shmc__sem_sleepers(v.s), 0);
	fprintf(stderr, "sem: waiter killed %d times: %d hangs, %.2f s\n", KILLS, hangs,
		now_s() - t0);
	munmap((void *)v.ready, 4096);
	shmc_obj_release(v.s);
}

/* A release by a process that holds no permit is counted against a holder:
 * that permit then no longer comes back when the holder dies. */
static int release_one(void *p)
{
	return shmc_semaphore_release(p) == 0 ? 0 : 1;
}

Test(sem, release_by_a_non_holder_counts_against_a_holder, .init = arena_setup,
     .fini = arena_teardown)
{
	struct victim v = {NULL, 1, shared_page(4096)};
	ASSERT_OK(shmc_semaphore_new(A, 1, &v.s));
	pid_t holder = fork_fn(take_and_hang, &v);
	cr_assert(wait_flag(v.ready, 1, TEST_DEADLINE));
	cr_assert_eq(wait_exit(fork_fn(release_one, v.s), TEST_DEADLINE), 0); /* holds none */
	cr_assert_eq(shmc_semaphore_value(v.s), 1);
	kill_wait(holder);
	/* Its permit was released for it: nothing comes back. */
	ASSERT_OK(shmc_semaphore_acquire(v.s, SHMC_NOWAIT));
	ASSERT_ERR(shmc_semaphore_acquire(v.s, SHMC_NOWAIT), -ETIMEDOUT);
	ASSERT_OK(shmc_semaphore_release(v.s));
	cr_assert_eq(shmc_semaphore_value(v.s), 1);
	munmap((void *)v.ready, 4096);
	shmc_obj_release(v.s);
}

/* Killed anywhere, in the middle of acquire or release: no permit is ever
 * made up, and every permit comes back once the killed are noticed. */
static int hammer(void *p)
{
	shmc_obj_t *s = p;
	for (;;) {
		int rc = shmc_semaphore_acquire(s, TEST_DEADLINE);
		CHILD_CHECK(rc == 0 || rc == SHMC_EOWNERDEAD);
		CHILD_OK(shmc_semaphore_release(s));
	}
}

Test(sem, processes_killed_mid_operation_lose_or_make_up_no_permit,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *s;
	ASSERT_OK(shmc_bounded_semaphore_new(A, 2, &s));
	shmc_arena_stats_t st0, st1;
	ASSERT_OK(shmc_arena_stats(A, &st0));
	pid_t pids[4];
	for (int i = 0; i < 4; i++)
		pids[i] = fork_fn(hammer, s);
	unsigned seed = 7;
	for (int k = 0; k < 150; k++) {
		usleep(100 + rand_r(&seed) % 1500); /* varies where the kill lands */
		int i = (int)(rand_r(&seed) % 4);
		kill_wait(pids[i]);
		pids[i] = fork_fn(hammer, s);
		/* Stopped anywhere, as the killed were: the arena is sound. */
		stop_all(pids, 4);
		shmc_check_report_t rep;
		int rc = shmc_arena_check(A, 0, &rep, print_finding, "check");
		cont_all(pids, 4);
		cr_assert_eq(rc, 0, "kill %d", k);
	}
	for (int i = 0; i < 4; i++)
		kill_wait(pids[i]);
	ASSERT_OK(shmc_arena_stats(A, &st1));
	/* Exactly the two permits, whatever the dead held or had in flight. */
	for (int i = 0; i < 2; i++) {
		int rc = shmc_semaphore_acquire(s, TEST_DEADLINE);
		cr_assert(rc == 0 || rc == SHMC_EOWNERDEAD, "%s", shmc_errname(rc));
	}
	ASSERT_ERR(shmc_semaphore_acquire(s, SHMC_NOWAIT), -ETIMEDOUT);
	ASSERT_OK(shmc_semaphore_release(s));
	ASSERT_OK(shmc_semaphore_release(s));
	ASSERT_ERR(shmc_semaphore_release(s), SHMC_EBOUND);
	cr_assert_eq(shmc_semaphore_value(s), 2);
	fprintf(stderr, "sem: 150 kills mid-operation: %llu owner locks or permits recovered, "
		"2 permits at the end\n",
		(unsigned long long)(st1.lock_recoveries - st0.lock_recoveries));
	shmc_obj_release(s);
}
