/*
 * test_watch.c -- waiting for a change: shmc_obj_wait_change() and
 * shmc_dict_wait_key() woken by other processes, timing out, never losing a
 * change made between reading the version and sleeping, woken only by
 * stores to what they wait on, and waiters killed while they sleep
 * affecting nobody once reaped.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "testutil.h"

TestSuite(watch, .timeout = 120);

static uint64_t version_of(shmc_obj_t *o)
{
	uint64_t v = 0;
	ASSERT_OK(shmc_obj_version(o, &v));
	return v;
}

static uint64_t waiters_of(shmc_obj_t *o)
{
	uint64_t n = 0;
	ASSERT_OK(shmc_obj_waiters(o, &n));
	return n;
}

/* Poll until N threads wait on O (they registered: a store now wakes them). */
static bool wait_waiters(shmc_obj_t *o, uint64_t n)
{
	double end = now_s() + TEST_DEADLINE;
	while (waiters_of(o) != n) {
		if (now_s() > end)
			return false;
		usleep(50);
	}
	return true;
}

Test(watch, wait_change_times_out_and_returns_at_once_when_changed, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	uint64_t v = version_of(ns);
	double t0 = now_s();
	ASSERT_ERR(shmc_obj_wait_change(ns, v, 0.05), -ETIMEDOUT);
	double dt = now_s() - t0;
	cr_assert(dt >= 0.05 && dt < TEST_DEADLINE, "timed out after %.3f s", dt);
	ASSERT_ERR(shmc_obj_wait_change(ns, v, SHMC_NOWAIT), -ETIMEDOUT);
	cr_assert_eq(waiters_of(ns), 0);
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	ASSERT_OK(shmc_obj_wait_change(ns, v, SHMC_FOREVER)); /* already changed */
	ASSERT_OK(shmc_obj_wait_change(ns, v, SHMC_NOWAIT));
	ASSERT_ERR(shmc_obj_wait_change(ns, v, NAN), -EINVAL);
	ASSERT_ERR(shmc_obj_wait_change(ns, v, -2.0), -EINVAL);
	shmc_obj_release(ns);
}

/* A child that waits for O to change from the version it is given. */
struct waiter {
	shmc_obj_t *o;
	uint64_t seen;
	double timeout;
	shmc_value_t key; /* SHMC_NONE: wait on the object */
	bool on_key;
};

static int wait_child(void *arg)
{
	struct waiter *w = arg;
	int rc = w->on_key ? shmc_dict_wait_key(w->o, w->key, w->seen, w->timeout)
			   : shmc_obj_wait_change(w->o, w->seen, w->timeout);
	if (rc == -ETIMEDOUT)
		return 3;
	return rc == 0 ? 0 : 1;
}

Test(watch, wait_change_wakes_on_a_store_from_another_process, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	struct waiter w = {ls, version_of(ls), TEST_DEADLINE, shmc_none(), false};
	pid_t pid = fork_fn(wait_child, &w);
	cr_assert(wait_waiters(ls, 1), "the child never waited");
	double t0 = now_s();
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	cr_log_info("wait_change: woken %.0f us after the store", (now_s() - t0) * 1e6);
	cr_assert_eq(waiters_of(ls), 0);
	shmc_obj_release(ls);
}

/* The version is read, then another process stores, then the wait starts:
 * it must not sleep. */
static int store_child(void *arg)
{
	return shmc_dict_set(arg, shmc_str("k"), shmc_int(2)) == 0 ? 0 : 1;
}

Test(watch, no_lost_wakeup_for_a_change_before_the_wait, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_str("k"), shmc_int(1)));
	shmc_value_t v;
	uint64_t ver;
	ASSERT_OK(shmc_dict_get_versioned(d, shmc_str("k"), &v, &ver));
	cr_assert_eq(wait_exit(fork_fn(store_child, d), TEST_DEADLINE), 0);
	double t0 = now_s();
	ASSERT_OK(shmc_dict_wait_key(d, shmc_str("k"), ver, TEST_DEADLINE));
	ASSERT_OK(shmc_obj_wait_change(d, ver, TEST_DEADLINE));
	cr_assert_lt(now_s() - t0, 0.005 * test_slow() + 0.005, "it slept");
	shmc_obj_release(d);
}

/* Two processes take turns through one namespace attribute, each waiting
 * for the other's store: a lost wake-up would cost a 10 ms nap a round. */
#define PINGS 500

static int pong_child(void *arg)
{
	shmc_obj_t *ns = arg;
	for (int64_t i = 1; i <= PINGS; i += 2) {
		for (;;) {
			shmc_value_t v;
			uint64_t ver;
			CHILD_OK(shmc_namespace_get_versioned(ns, "turn", &v, &ver));
			if (v.i == i)
				break;
			int rc = shmc_obj_wait_change(ns, ver, TEST_DEADLINE);
			CHILD_CHECK(rc == 0);
		}
		CHILD_OK(shmc_namespace_set(ns, "turn", shmc_int(i + 1)));
	}
	return 0;
}

Test(watch, ping_pong_between_processes_loses_no_wakeup, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "turn", shmc_int(0)));
	pid_t pid = fork_fn(pong_child, ns);
	double t0 = now_s();
	for (int64_t i = 0; i < PINGS; i += 2) {
		for (;;) {
			shmc_value_t v;
			uint64_t ver;
			ASSERT_OK(shmc_namespace_get_versioned(ns, "turn", &v, &ver));
			if (v.i == i)
				break;
			ASSERT_OK(shmc_obj_wait_change(ns, ver, TEST_DEADLINE));
		}
		ASSERT_OK(shmc_namespace_set(ns, "turn", shmc_int(i + 1)));
	}
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	double dt = now_s() - t0;
	cr_log_info("ping-pong: %d turns in %.3f s (%.1f us a turn)", PINGS, dt, dt / PINGS * 1e6);
	/* Half the turns each losing a wake-up would take 2.5 s. */
	cr_assert_lt(dt, 2.5 * test_slow(), "%d turns took %.3f s", PINGS, dt);
	shmc_obj_release(ns);
}

Test(watch, wait_key_wakes_on_its_key_not_on_others, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	shmc_value_t v;
	uint64_t ver;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_str("a"), shmc_int(0)));
	ASSERT_OK(shmc_dict_set(d, shmc_str("b"), shmc_int(0)));
	ASSERT_OK(shmc_dict_get_versioned(d, shmc_str("a"), &v, &ver));
	/* Stores to "b" all along the child's wait: it times out. (The keys
	 * are not in one bucket: the buckets' hash is fixed.) */
	struct waiter w = {d, ver, 0.3, shmc_str("a"), true};
	pid_t pid = fork_fn(wait_child, &w);
	cr_assert(wait_waiters(d, 1));
	int stores = 0;
	while (waiters_of(d) == 1 && stores < 1000000) {
		ASSERT_OK(shmc_dict_set(d, shmc_str("b"), shmc_int(++stores)));
		if (stores % 64 == 0)
			usleep(100); /* a pace: the child's 0.3 s pass */
	}
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 3, "woken by stores to another key");
	cr_log_info("wait_key: %d stores to another key during a 0.3 s wait, no wake-up", stores);
	/* A store to "a" wakes it. */
	ASSERT_OK(shmc_dict_get_versioned(d, shmc_str("a"), &v, &ver));
	w.seen = ver;
	w.timeout = TEST_DEADLINE;
	pid = fork_fn(wait_child, &w);
	cr_assert(wait_waiters(d, 1));
	ASSERT_OK(shmc_dict_set(d, shmc_str("a"), shmc_int(1)));
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	/* Version 0: wait for a key to appear; clear wakes key waiters. */
	w.key = shmc_str("new");
	w.seen = 0;
	pid = fork_fn(wait_child, &w);
	cr_assert(wait_waiters(d, 1));
	ASSERT_OK(shmc_dict_set(d, shmc_str("new"), shmc_int(1)));
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	ASSERT_OK(shmc_dict_get_versioned(d, shmc_str("new"), &v, &ver));
	w.seen = ver;
	pid = fork_fn(wait_child, &w);
	cr_assert(wait_waiters(d, 1));
	ASSERT_OK(shmc_dict_clear(d));
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	cr_assert_eq(waiters_of(d), 0);
	shmc_obj_release(d);
}

Test(watch, a_waiter_killed_asleep_affects_no_one, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	struct waiter obj_w = {d, version_of(d), SHMC_FOREVER, shmc_none(), false};
	struct waiter key_w = {d, 0, SHMC_FOREVER, shmc_int(7), true};
	pid_t victim1 = fork_fn(wait_child, &obj_w);
	pid_t victim2 = fork_fn(wait_child, &key_w);
	cr_assert(wait_waiters(d, 2));
	pid_t survivor = fork_fn(wait_child, &obj_w);
	pid_t key_survivor = fork_fn(wait_child, &key_w);
	cr_assert(wait_waiters(d, 4));
	cr_assert(kill_wait(victim1));
	cr_assert(kill_wait(victim2));
	/* The others still wake. */
	ASSERT_OK(shmc_dict_set(d, shmc_int(7), shmc_int(7)));
	cr_assert_eq(wait_exit(survivor, TEST_DEADLINE), 0);
	cr_assert_eq(wait_exit(key_survivor, TEST_DEADLINE), 0);
	/* The dead still count until reaped; then stores wake nobody, and
	 * make no system call (they call one only while the count is not 0). */
	cr_assert_eq(waiters_of(d), 2);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	cr_assert_geq(rep.reaped, 2);
	cr_assert_eq(waiters_of(d), 0);
	ASSERT_OK(shmc_dict_set(d, shmc_int(7), shmc_int(8)));
	shmc_obj_release(d);
}

Test(watch, waiting_on_the_wrong_kind_or_key_is_refused, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_ERR(shmc_dict_wait_key(ls, shmc_int(1), 0, SHMC_NOWAIT), SHMC_EKIND);
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	shmc_value_t pl = shmc_plist_of(0);
	ASSERT_ERR(shmc_dict_wait_key(d, pl, 0, SHMC_NOWAIT), SHMC_EUNHASHABLE);
	shmc_value_free(&pl);
	ASSERT_ERR(shmc_dict_wait_key(d, shmc_int(1), 0, SHMC_NOWAIT), -ETIMEDOUT);
	ASSERT_ERR(shmc_dict_wait_key(d, shmc_int(1), 0, NAN), -EINVAL);
	cr_assert_eq(waiters_of(d), 0);
	shmc_obj_release(d);
	shmc_obj_release(ls);
}
