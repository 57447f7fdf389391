/*
 * test_sync_lock.c -- Lock and RLock: Python's semantics (the hand-off: one
 * acquires, another thread or process releases, also to a holder waiting
 * on its own Lock), timeouts, errors, many processes at once, and holders
 * killed while they hold them.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>

#define SHMC_TEST_WHITEBOX
#include "testutil.h"

TestSuite(lock, .timeout = 120);

static void expect_prefix(char *s, const char *want)
{
	cr_assert(strncmp(s, want, strlen(want)) == 0, "got %s, want %s...", s, want);
	shmc_free(s);
}

Test(lock, acquire_release_and_printed_forms, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *l;
	ASSERT_OK(shmc_lock_new(A, &l));
	cr_assert_eq(shmc_obj_kind(l), SHMC_KIND_LOCK);
	char *s;
	ASSERT_OK(shmc_obj_repr(l, &s));
	expect_prefix(s, "<AcquirerProxy object, typeid 'Lock' at 0x");
	expect_prefix(obj_str(l), "<unlocked _thread.lock object at 0x");
	ASSERT_OK(shmc_lock_acquire(l, SHMC_FOREVER));
	expect_prefix(obj_str(l), "<locked _thread.lock object at 0x");
	ASSERT_OK(shmc_lock_release(l));
	ASSERT_ERR(shmc_lock_release(l), SHMC_ENOTHELD);
	ASSERT_OK(shmc_lock_acquire(l, SHMC_NOWAIT));
	ASSERT_OK(shmc_lock_release(l));
	shmc_obj_release(l);
}

static const char self_py[] =
	"from multiprocessing import Manager\n"
	"import time\n"
	"l = Manager().Lock()\n"
	"l.acquire()\n"
	"t = time.monotonic()\n"
	"got = l.acquire(timeout=0.2)\n"
	"took = time.monotonic() - t\n"
	"print(got, 0.2 <= took < 1.0, l.acquire(False), l.acquire(blocking=True, timeout=0))\n";

/* Python waits the timeout and says False; only a wait without a timeout,
 * which nobody may ever end, is refused. */
Test(lock, acquiring_a_lock_held_by_this_thread_waits_its_timeout, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *l;
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_OK(shmc_lock_acquire(l, SHMC_FOREVER));
	double t0 = now_s();
	int rc = shmc_lock_acquire(l, 0.2);
	double took = now_s() - t0;
	ASSERT_ERR(rc, -ETIMEDOUT);
	t0 = now_s();
	ASSERT_ERR(shmc_lock_acquire(l, SHMC_NOWAIT), -ETIMEDOUT);
	ASSERT_ERR(shmc_lock_acquire(l, 0.0), -ETIMEDOUT);
	cr_assert_lt(now_s() - t0, TEST_LATE);
	char got[64];
	snprintf(got, sizeof(got), "False %s False False\n",
		 took >= 0.2 && took < 0.2 + TEST_LATE ? "True" : "False");
	expect_python(got, "False True False False\n", self_py);
	t0 = now_s();
	ASSERT_ERR(shmc_lock_acquire(l, SHMC_FOREVER), -EDEADLK);
	cr_assert_lt(now_s() - t0, TEST_LATE);
	ASSERT_OK(shmc_lock_release(l));
	ASSERT_ERR(shmc_lock_release(l), SHMC_ENOTHELD);
	shmc_obj_release(l);
}

/* Whether someone sleeps on lock L (its word's waiters bit). */
static bool lock_has_sleeper(shmc_obj_t *l)
{
	struct shmc__obj *o;
	if (shmc__resolve(l, 0, &o) != 0)
		return false;
	return ld_relaxed(&SHMC__BODY(o, struct shmc__olock)->word) & SHMC__OLOCK_WAITERS;
}

/* Release L once someone sleeps on it (at most TEST_DEADLINE). */
static int release_when_waited_for(shmc_obj_t *l)
{
	double end = now_s() + TEST_DEADLINE;
	while (!lock_has_sleeper(l)) {
		if (now_s() > end)
			return 1;
		usleep(100); /* a poll interval */
	}
	return shmc_lock_release(l) == 0 ? 0 : 1;
}

static int release_when_waited_for_child(void *p)
{
	return release_when_waited_for(p);
}

static void *release_when_waited_for_thread(void *p)
{
	return (void *)(intptr_t)release_when_waited_for(p);
}

/* The holder acquires its own Lock again and sleeps; another thread, then
 * another process, releases it: the holder gets it, long before its
 * timeout. */
Test(lock, another_thread_or_process_releasing_lets_the_holder_through,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *l;
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_OK(shmc_lock_acquire(l, SHMC_FOREVER));
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, release_when_waited_for_thread, l), 0);
	double t0 = now_s();
	ASSERT_OK(shmc_lock_acquire(l, TEST_DEADLINE));
	double by_thread = now_s() - t0;
	void *res;
	pthread_join(t, &res);
	cr_assert_null(res);
	pid_t pid = fork_fn(release_when_waited_for_child, l);
	t0 = now_s();
	ASSERT_OK(shmc_lock_acquire(l, TEST_DEADLINE));
	double by_process = now_s() - t0;
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	cr_assert_lt(by_thread, TEST_DEADLINE / 2);
	cr_assert_lt(by_process, TEST_DEADLINE / 2);
	cr_log_info("lock: handed to its waiting holder by a thread in %.1f ms, by a process "
		    "in %.1f ms", by_thread * 1e3, by_process * 1e3);
	ASSERT_OK(shmc_lock_release(l));
	shmc_obj_release(l);
}

/* Python's hand-off across three processes: one acquires, a second
 * releases, a third acquires with a timeout and gets it. */
struct handoff {
	shmc_obj_t *l;
	_Atomic int *step;
};

static int handoff_acquirer(void *p)
{
	struct handoff *h = p;
	CHILD_OK(shmc_lock_acquire(h->l, SHMC_NOWAIT));
	atomic_store(h->step, 1);
	CHILD_CHECK(wait_flag(h->step, 3, TEST_DEADLINE)); /* alive throughout */
	return 0;
}

static int handoff_releaser(void *p)
{
	struct handoff *h = p;
	CHILD_CHECK(wait_flag(h->step, 1, TEST_DEADLINE));
	CHILD_OK(shmc_lock_release(h->l));
	atomic_store(h->step, 2);
	return 0;
}

Test(lock, hand_off_one_process_acquires_another_releases_a_third_acquires,
     .init = arena_setup, .fini = arena_teardown)
{
	struct handoff h = {NULL, shared_page(4096)};
	ASSERT_OK(shmc_lock_new(A, &h.l));
	pid_t a = fork_fn(handoff_acquirer, &h);
	pid_t b = fork_fn(handoff_releaser, &h);
	cr_assert(wait_flag(h.step, 1, TEST_DEADLINE));
	ASSERT_OK(shmc_lock_acquire(h.l, TEST_DEADLINE)); /* once b has released it */
	cr_assert(wait_flag(h.step, 2, TEST_DEADLINE)); /* b said so after its release */
	atomic_store(h.step, 3);
	cr_assert_eq(wait_exit(a, TEST_DEADLINE), 0);
	cr_assert_eq(wait_exit(b, TEST_DEADLINE), 0);
	ASSERT_OK(shmc_lock_release(h.l));
	munmap((void *)h.step, 4096);
	shmc_obj_release(h.l);
}

Test(lock, bad_arguments_are_refused, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *l, *ls;
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_ERR(shmc_lock_acquire(l, -2), -EINVAL);
	ASSERT_ERR(shmc_lock_acquire(l, NAN), -EINVAL);
	/* Refused, the free lock was not taken either. */
	ASSERT_ERR(shmc_lock_release(l), SHMC_ENOTHELD);
	ASSERT_ERR(shmc_lock_acquire(ls, SHMC_FOREVER), SHMC_EKIND);
	ASSERT_ERR(shmc_lock_release(ls), SHMC_EKIND);
	ASSERT_ERR(shmc_lock_acquire(NULL, SHMC_FOREVER), SHMC_EHANDLE);
	ASSERT_ERR(shmc_lock_new(NULL, &l), SHMC_EHANDLE);
	ASSERT_OK(shmc_lock_acquire(l, INFINITY));
	ASSERT_OK(shmc_lock_release(l));
	shmc_obj_release(ls);
	shmc_obj_release(l);
}

/* A child holds the lock until told to let go. */
struct holder {
	shmc_obj_t *l;
	_Atomic int *held, *go;
};

static int hold_until_told(void *p)
{
	struct holder *h = p;
	CHILD_OK(shmc_lock_acquire(h->l, SHMC_FOREVER));
	atomic_store(h->held, 1);
	CHILD_CHECK(wait_flag(h->go, 1, TEST_DEADLINE));
	CHILD_OK(shmc_lock_release(h->l));
	return 0;
}

Test(lock, timeouts_wait_as_long_as_asked, .init = arena_setup, .fini = arena_teardown)
{
	_Atomic int *flags = shared_page(4096);
	struct holder h = {NULL, &flags[0], &flags[1]};
	for (int k = 0; k < 2; k++) {
		if (k == 0)
			ASSERT_OK(shmc_lock_new(A, &h.l));
		else
			ASSERT_OK(shmc_rlock_new(A, &h.l));
		atomic_store(h.held, 0);
		atomic_store(h.go, 0);
		pid_t pid = fork_fn(hold_until_told, &h);
		cr_assert(wait_flag(h.held, 1, TEST_DEADLINE));
		double t0 = now_s();
		ASSERT_ERR(shmc_lock_acquire(h.l, SHMC_NOWAIT), -ETIMEDOUT);
		cr_assert_lt(now_s() - t0, TEST_LATE);
		t0 = now_s();
		ASSERT_ERR(shmc_lock_acquire(h.l, 0.1), -ETIMEDOUT);
		double took = now_s() - t0;
		cr_assert(took >= 0.099 && took < 0.1 + TEST_LATE, "waited %.3f s", took);
		atomic_store(h.go, 1);
		ASSERT_OK(shmc_lock_acquire(h.l, TEST_DEADLINE));
		ASSERT_OK(shmc_lock_release(h.l));
		cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
		shmc_obj_release(h.l);
	}
	munmap(flags, 4096);
}

static int release_foreign(void *p)
{
	shmc_obj_t *l = p;
	return shmc_lock_release(l) == 0 ? 0 : 1;
}

static int release_foreign_rlock(void *p)
{
	shmc_obj_t *l = p;
	return shmc_lock_release(l) == SHMC_ENOTHELD ? 0 : 1;
}

Test(lock, any_process_may_release_a_lock_as_in_python, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *l;
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_OK(shmc_lock_acquire(l, SHMC_FOREVER));
	cr_assert_eq(wait_exit(fork_fn(release_foreign, l), TEST_DEADLINE), 0);
	ASSERT_OK(shmc_lock_acquire(l, SHMC_NOWAIT));
	ASSERT_OK(shmc_lock_release(l));
	shmc_obj_release(l);
}

Test(lock, rlock_is_reentrant_and_only_its_owner_releases_it, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *r;
	ASSERT_OK(shmc_rlock_new(A, &r));
	char *s;
	ASSERT_OK(shmc_obj_repr(r, &s));
	expect_prefix(s, "<AcquirerProxy object, typeid 'RLock' at 0x");
	expect_prefix(obj_str(r), "<unlocked _thread.RLock object owner=0 count=0 at 0x");
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_lock_acquire(r, SHMC_NOWAIT));
	char want[96];
	snprintf(want, sizeof(want), "<locked _thread.RLock object owner=%d count=3 at 0x",
		 (int)gettid());
	expect_prefix(obj_str(r), want);
	cr_assert_eq(wait_exit(fork_fn(release_foreign_rlock, r), TEST_DEADLINE), 0);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_lock_release(r));
	ASSERT_ERR(shmc_lock_release(r), SHMC_ENOTHELD);
	expect_prefix(obj_str(r), "<unlocked _thread.RLock object owner=0 count=0 at 0x");
	shmc_obj_release(r);
}

/* Threads of one process: an RLock belongs to a thread, not the process. */
static void *thread_try(void *p)
{
	shmc_obj_t *r = p;
	intptr_t rc = shmc_lock_acquire(r, SHMC_NOWAIT);
	intptr_t rc2 = shmc_lock_release(r);
	return (void *)(intptr_t)(rc == -ETIMEDOUT && rc2 == SHMC_ENOTHELD ? 0 : 1);
}

Test(lock, rlock_owner_is_a_thread, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *r;
	ASSERT_OK(shmc_rlock_new(A, &r));
	ASSERT_OK(shmc_lock_acquire(r, SHMC_FOREVER));
	pthread_t t;
	void *res;
	cr_assert_eq(pthread_create(&t, NULL, thread_try, r), 0);
	cr_assert_eq(pthread_join(t, &res), 0);
	cr_assert_null(res);
	ASSERT_OK(shmc_lock_release(r));
	shmc_obj_release(r);
}

/* Many processes: no lost update under the lock. */
#define INCREMENTS 20000

struct counter {
	shmc_obj_t *l, *num;
	long *plain; /* outside the arena, written non-atomically */
};

static int incrementer(int i, void *p)
{
	(void)i;
	struct counter *c = p;
	for (int k = 0; k < INCREMENTS; k++) {
		CHILD_OK(shmc_lock_acquire(c->l, SHMC_FOREVER));
		shmc_value_t v;
		CHILD_OK(shmc_cvalue_get(c->num, &v));
		CHILD_OK(shmc_cvalue_set(c->num, shmc_int(v.i + 1)));
		long x = *(volatile long *)c->plain;
		*(volatile long *)c->plain = x + 1;
		CHILD_OK(shmc_lock_release(c->l));
	}
	return 0;
}

static void eight_incrementers(bool rlock)
{
	struct counter c;
	c.plain = shared_page(4096);
	ASSERT_OK(rlock ? shmc_rlock_new(A, &c.l) : shmc_lock_new(A, &c.l));
	ASSERT_OK(shmc_cvalue_new(A, 'q', shmc_int(0), &c.num));
	double t0 = now_s();
	cr_assert_eq(run_children(8, incrementer, &c), 0);
	double took = now_s() - t0;
	shmc_value_t v;
	ASSERT_OK(shmc_cvalue_get(c.num, &v));
	cr_assert_eq(v.i, 8 * INCREMENTS);
	cr_assert_eq(*c.plain, 8 * INCREMENTS);
	fprintf(stderr, "lock: 8 processes x %d increments under %s: %.3f s\n",
		INCREMENTS, rlock ? "an RLock" : "a Lock", took);
	munmap(c.plain, 4096);
	shmc_obj_release(c.num);
	shmc_obj_release(c.l);
}

Test(lock, eight_processes_increment_under_a_lock_without_losing_one,
     .init = arena_setup, .fini = arena_teardown)
{
	eight_incrementers(false);
}

Test(lock, eight_processes_increment_under_an_rlock_without_losing_one,
     .init = arena_setup, .fini = arena_teardown)
{
	eight_incrementers(true);
}

/* Death ------------------------------------------------------------------- */

#define KILLS 200

struct victim {
	shmc_obj_t *l;
	int depth;
	_Atomic int *ready;
};

static int acquire_and_hang(void *p)
{
	struct victim *v = p;
	for (int i = 0; i < v->depth; i++)
		CHILD_OK(shmc_lock_acquire(v->l, SHMC_FOREVER));
	atomic_store(v->ready, 1);
	for (;;)
		pause();
}

static void holder_killed(bool rlock, int depth)
{
	struct victim v = {NULL, depth, shared_page(4096)};
	ASSERT_OK(rlock ? shmc_rlock_new(A, &v.l) : shmc_lock_new(A, &v.l));
	shmc_arena_stats_t st0, st1;
	ASSERT_OK(shmc_arena_stats(A, &st0));
	int ownerdead = 0, hangs = 0;
	double t0 = now_s(), worst = 0;
	for (int k = 0; k < KILLS; k++) {
		atomic_store(v.ready, 0);
		pid_t pid = fork_fn(acquire_and_hang, &v);
		cr_assert(wait_flag(v.ready, 1, TEST_DEADLINE), "the child did not acquire");
		kill_wait(pid);
		double t = now_s();
		int rc = shmc_lock_acquire(v.l, TEST_DEADLINE);
		worst = fmax(worst, now_s() - t);
		if (rc == -ETIMEDOUT)
			hangs++;
		ownerdead += rc == SHMC_EOWNERDEAD;
		cr_assert_eq(rc, SHMC_EOWNERDEAD, "kill %d: %s", k, shmc_errname(rc));
		/* We hold it once, whatever depth the dead held it at. */
		ASSERT_OK(shmc_lock_release(v.l));
		ASSERT_ERR(shmc_lock_release(v.l), SHMC_ENOTHELD);
	}
	ASSERT_OK(shmc_arena_stats(A, &st1));
	cr_assert_eq(st1.lock_recoveries - st0.lock_recoveries, KILLS);
	fprintf(stderr, "lock: %s holder (depth %d) killed %d times: %d SHMC_EOWNERDEAD, "
		"%d hangs, %.2f s, slowest recovery %.1f ms\n", rlock ? "RLock" : "Lock",
		depth, KILLS, ownerdead, hangs, now_s() - t0, worst * 1e3);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, NULL, NULL));
	munmap((void *)v.ready, 4096);
	shmc_obj_release(v.l);
}

Test(lock, lock_holder_killed_200_times_next_acquirer_gets_eownerdead,
     .init = arena_setup, .fini = arena_teardown)
{
	holder_killed(false, 1);
}

Test(lock, rlock_holder_killed_200_times_next_acquirer_gets_eownerdead,
     .init = arena_setup, .fini = arena_teardown)
{
	holder_killed(true, 3);
}

/* A waiter killed while it waits takes nothing with it. */
static int wait_forever(void *p)
{
	struct victim *v = p;
	atomic_fetch_add(v->ready, 1);
	int rc = shmc_lock_acquire(v->l, SHMC_FOREVER);
	return rc == 0 ? 3 : 1; /* should be killed before */
}

static int acquire_in_time(void *p)
{
	struct victim *v = p;
	int rc = shmc_lock_acquire(v->l, TEST_DEADLINE);
	if (rc == 0)
		rc = shmc_lock_release(v->l);
	return rc == 0 ? 0 : 1;
}

Test(lock, waiter_killed_200_times_others_unaffected, .init = arena_setup,
     .fini = arena_teardown)
{
	struct victim v = {NULL, 1, shared_page(4096)};
	ASSERT_OK(shmc_lock_new(A, &v.l));
	double t0 = now_s();
	int hangs = 0;
	for (int k = 0; k < KILLS; k++) {
		atomic_store(v.ready, 0);
		ASSERT_OK(shmc_lock_acquire(v.l, SHMC_FOREVER));
		pid_t dead = fork_fn(wait_forever, &v);
		pid_t live = fork_fn(acquire_in_time, &v);
		cr_assert(wait_flag(v.ready, 1, TEST_DEADLINE));
		usleep(k % 4 == 0 ? 300 : 20); /* now and then, let it sleep */
		kill_wait(dead);
		ASSERT_OK(shmc_lock_release(v.l));
		int rc = wait_exit(live, TEST_DEADLINE);
		hangs += rc == CHILD_HUNG;
		cr_assert_eq(rc, 0, "kill %d: the live waiter got %d", k, rc);
	}
	fprintf(stderr, "lock: waiter killed %d times: %d hangs, %.2f s\n", KILLS, hangs,
		now_s() - t0);
	munmap((void *)v.ready, 4096);
	shmc_obj_release(v.l);
}

/* By reference ------------------------------------------------------------ */

static int use_lock_from_list(void *p)
{
	shmc_obj_t *ls = p;
	shmc_value_t v;
	CHILD_OK(shmc_list_get(ls, 0, &v));
	CHILD_CHECK(v.type == SHMC_REF && shmc_obj_kind(v.ref) == SHMC_KIND_LOCK);
	CHILD_OK(shmc_lock_acquire(v.ref, SHMC_NOWAIT));
	shmc_value_free(&v);
	return 0; /* exits holding it */
}

Test(lock, a_lock_stored_in_a_list_is_shared_by_reference, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls, *l;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_OK(shmc_list_append(ls, shmc_ref(l)));
	char *s = obj_str(ls);
	cr_assert(strncmp(s, "[<AcquirerProxy object, typeid 'Lock' at 0x", 43) == 0, "%s", s);
	shmc_free(s);
	shmc_obj_release(l);
	cr_assert_eq(wait_exit(fork_fn(use_lock_from_list, ls), TEST_DEADLINE), 0);
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, 0, &v));
	/* The child exited holding it: the lock comes to us as recovered. */
	ASSERT_ERR(shmc_lock_acquire(v.ref, TEST_DEADLINE), SHMC_EOWNERDEAD);
	ASSERT_OK(shmc_lock_release(v.ref));
	shmc_value_free(&v);
	shmc_obj_release(ls);
}
