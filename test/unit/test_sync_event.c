/*
 * test_sync_event.c -- Event: set, clear, is_set, wait with timeouts, many
 * waiters in other processes, and waiters killed while they wait.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>

#include "testutil.h"

TestSuite(event, .timeout = 60);

static void expect_event_state(shmc_obj_t *e, const char *state)
{
	char *s = obj_str(e), want[32];
	snprintf(want, sizeof(want), ": %s>", state);
	cr_assert(strncmp(s, "<threading.Event at 0x", 22) == 0, "%s", s);
	cr_assert(strlen(s) > strlen(want) && strcmp(s + strlen(s) - strlen(want), want) == 0,
		  "%s", s);
	shmc_free(s);
}

Test(event, set_clear_and_is_set, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *e;
	ASSERT_OK(shmc_event_new(A, &e));
	char *r;
	ASSERT_OK(shmc_obj_repr(e, &r));
	cr_assert(strncmp(r, "<EventProxy object, typeid 'Event' at 0x", 40) == 0, "%s", r);
	shmc_free(r);
	cr_assert_eq(shmc_event_is_set(e), 0);
	expect_event_state(e, "unset");
	ASSERT_ERR(shmc_event_wait(e, SHMC_NOWAIT), -ETIMEDOUT);
	double t0 = now_s();
	ASSERT_ERR(shmc_event_wait(e, 0.05), -ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 0.049);
	ASSERT_OK(shmc_event_set(e));
	cr_assert_eq(shmc_event_is_set(e), 1);
	expect_event_state(e, "set");
	ASSERT_OK(shmc_event_wait(e, SHMC_NOWAIT));
	ASSERT_OK(shmc_event_wait(e, SHMC_FOREVER));
	ASSERT_OK(shmc_event_set(e));
	ASSERT_OK(shmc_event_clear(e));
	cr_assert_eq(shmc_event_is_set(e), 0);
	ASSERT_ERR(shmc_event_wait(e, -3), -EINVAL);
	ASSERT_ERR(shmc_event_wait(e, NAN), -EINVAL);
	shmc_obj_t *l;
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_ERR(shmc_event_set(l), SHMC_EKIND);
	cr_assert_eq(shmc_event_is_set(l), SHMC_EKIND);
	cr_assert_eq(shmc_event_is_set(NULL), SHMC_EHANDLE);
	shmc_obj_release(l);
	shmc_obj_release(e);
}

struct waiters {
	shmc_obj_t *e;
	_Atomic int *ready;
};

static int wait_for_set(int i, void *p)
{
	(void)i;
	struct waiters *w = p;
	atomic_fetch_add(w->ready, 1);
	return shmc_event_wait(w->e, TEST_DEADLINE) == 0 ? 0 : 1;
}

static void *setter(void *p)
{
	struct waiters *w = p;
	wait_flag(w->ready, 8, TEST_DEADLINE); /* else their waits fail the test */
	/* Not synchronisation: a moment for them to fall asleep, so that the
	 * wake-up path is what is tested; a waiter that has not slept yet
	 * sees the flag set and returns all the same. */
	usleep(20000);
	shmc_event_set(w->e);
	return NULL;
}

Test(event, set_releases_every_waiter, .init = arena_setup, .fini = arena_teardown)
{
	struct waiters w = {NULL, shared_page(4096)};
	ASSERT_OK(shmc_event_new(A, &w.e));
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, setter, &w), 0);
	cr_assert_eq(run_children(8, wait_for_set, &w), 0);
	pthread_join(t, NULL);
	munmap((void *)w.ready, 4096);
	shmc_obj_release(w.e);
}

static int wait_forever(void *p)
{
	struct waiters *w = p;
	atomic_fetch_add(w->ready, 1);
	shmc_event_wait(w->e, SHMC_FOREVER);
	return 3;
}

static int wait_in_time(void *p)
{
	struct waiters *w = p;
	return shmc_event_wait(w->e, TEST_DEADLINE) == 0 ? 0 : 1;
}

Test(event, waiter_killed_200_times_others_unaffected, .init = arena_setup,
     .fini = arena_teardown)
{
	struct waiters w = {NULL, shared_page(4096)};
	ASSERT_OK(shmc_event_new(A, &w.e));
	int hangs = 0;
	double t0 = now_s();
	for (int k = 0; k < 200; k++) {
		atomic_store(w.ready, 0);
		ASSERT_OK(shmc_event_clear(w.e));
		pid_t dead = fork_fn(wait_forever, &w);
		pid_t live = fork_fn(wait_in_time, &w);
		cr_assert(wait_flag(w.ready, 1, TEST_DEADLINE));
		/* Not synchronisation: now and then, time for the doomed
		 * waiter to fall asleep, so that it is killed asleep. */
		usleep(k % 4 == 0 ? 2000 : 10);
		kill_wait(dead);
		ASSERT_OK(shmc_event_set(w.e));
		int rc = wait_exit(live, TEST_DEADLINE);
		hangs += rc == CHILD_HUNG;
		cr_assert_eq(rc, 0, "kill %d: the live waiter got %d", k, rc);
	}
	fprintf(stderr, "event: waiter killed 200 times: %d hangs, %.2f s\n", hangs,
		now_s() - t0);
	munmap((void *)w.ready, 4096);
	shmc_obj_release(w.e);
}
