/*
 * test_sync_cond.c -- Condition: wait, wait_for, notify(n), notify_all,
 * bound to a Lock, an RLock or its own; errors; waiters in other
 * processes; waiters killed while they wait.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>

#include "sync/sync.h"
#define SHMC_TEST_WHITEBOX /* inject_until_ok */
#include "testutil.h"

TestSuite(cond, .timeout = 120);

Test(cond, default_lock_is_an_rlock_and_forms_print, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c, *l;
	ASSERT_OK(shmc_condition_new(A, NULL, &c));
	char *r;
	ASSERT_OK(shmc_obj_repr(c, &r));
	cr_assert(strncmp(r, "<ConditionProxy object, typeid 'Condition' at 0x", 48) == 0,
		  "%s", r);
	shmc_free(r);
	r = obj_str(c);
	cr_assert(strncmp(r, "<Condition(<unlocked _thread.RLock object owner=0 count=0 at 0x",
			  63) == 0, "%s", r);
	cr_assert(strcmp(r + strlen(r) - 6, ">, 0)>") == 0, "%s", r);
	shmc_free(r);
	ASSERT_OK(shmc_condition_lock(c, &l));
	cr_assert_eq(shmc_obj_kind(l), SHMC_KIND_RLOCK);
	ASSERT_OK(shmc_condition_acquire(c, SHMC_FOREVER));
	ASSERT_OK(shmc_condition_acquire(c, SHMC_FOREVER)); /* re-entrant */
	r = obj_str(c);
	cr_assert(strstr(r, "<locked _thread.RLock object owner=") && strstr(r, " count=2 at 0x"),
		  "%s", r);
	shmc_free(r);
	ASSERT_OK(shmc_lock_release(l));
	ASSERT_OK(shmc_condition_release(c));
	ASSERT_ERR(shmc_condition_release(c), SHMC_ENOTHELD);
	shmc_obj_release(l);
	shmc_obj_release(c);
}

Test(cond, waiting_or_notifying_without_the_lock_is_enotheld, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c, *l, *ls;
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_OK(shmc_condition_new(A, l, &c));
	ASSERT_ERR(shmc_condition_wait(c, 0.01), SHMC_ENOTHELD);
	ASSERT_ERR(shmc_condition_notify(c, 1), SHMC_ENOTHELD);
	ASSERT_ERR(shmc_condition_notify_all(c), SHMC_ENOTHELD);
	ASSERT_ERR(shmc_condition_release(c), SHMC_ENOTHELD);
	ASSERT_OK(shmc_lock_acquire(l, SHMC_FOREVER));
	cr_assert_eq(shmc_condition_notify(c, 1), 0); /* nobody waits */
	ASSERT_ERR(shmc_condition_wait(c, -7), -EINVAL);
	double t0 = now_s();
	ASSERT_ERR(shmc_condition_wait(c, 0.05), -ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 0.049);
	ASSERT_ERR(shmc_condition_wait(c, SHMC_NOWAIT), -ETIMEDOUT);
	/* Still held after a timed-out wait. */
	ASSERT_ERR(shmc_lock_acquire(l, SHMC_NOWAIT), -ETIMEDOUT);
	ASSERT_ERR(shmc_lock_acquire(l, SHMC_FOREVER), -EDEADLK);
	double t1 = now_s();
	ASSERT_ERR(shmc_condition_acquire(c, 0.05), -ETIMEDOUT); /* waits, as Python */
	cr_assert_geq(now_s() - t1, 0.049);
	char *s = obj_str(c);
	cr_assert(strncmp(s, "<Condition(<locked _thread.lock object at 0x", 44) == 0, "%s", s);
	shmc_free(s);
	ASSERT_OK(shmc_condition_release(c));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_ERR(shmc_condition_new(A, ls, &c), SHMC_EKIND);
	ASSERT_ERR(shmc_condition_wait(ls, 1), SHMC_EKIND);
	ASSERT_ERR(shmc_condition_new(NULL, NULL, &c), SHMC_EHANDLE);
	shmc_obj_release(ls);
	shmc_obj_release(l);
	shmc_obj_release(c);
	cr_assert_eq(shmc__cond_nwaiters(NULL), SHMC_EHANDLE);
}

/* A failed allocation changes nothing. */
static int new_cond(void *out)
{
	return shmc_condition_new(A, NULL, out);
}

static int wait_briefly(void *c)
{
	return shmc_condition_wait(c, 0.001);
}

Test(cond, a_failed_allocation_changes_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *c;
	int nfail;
	ASSERT_OK(inject_until_ok(A, new_cond, &c, &nfail));
	cr_assert_geq(nfail, 2); /* its RLock, itself */
	ASSERT_OK(shmc_condition_acquire(c, SHMC_FOREVER));
	ASSERT_ERR(inject_until_ok(A, wait_briefly, c, &nfail), -ETIMEDOUT);
	cr_assert_eq(nfail, 1); /* the waiter's cell */
	cr_assert_eq(shmc__cond_nwaiters(c), 0);
	ASSERT_OK(shmc_condition_release(c)); /* still held after the failure */
	shmc_obj_release(c);
}

/* Waiters in other processes, counting what they got. */
struct world {
	shmc_obj_t *c, *l;
	shmc_obj_t *items; /* a list: the state the condition guards */
	_Atomic int *woken, *ready;
	double timeout;
};

static bool has_items(void *p)
{
	return shmc_list_len(((struct world *)p)->items) > 0;
}

static int waiter(void *p)
{
	struct world *w = p;
	CHILD_OK(shmc_condition_acquire(w->c, SHMC_FOREVER));
	atomic_fetch_add(w->ready, 1);
	int rc = shmc_condition_wait(w->c, w->timeout);
	if (rc == 0)
		atomic_fetch_add(w->woken, 1);
	CHILD_OK(shmc_condition_release(w->c));
	return rc == 0 ? 0 : rc == -ETIMEDOUT ? 2 : 1;
}

static int consumer(void *p)
{
	struct world *w = p;
	CHILD_OK(shmc_condition_acquire(w->c, SHMC_FOREVER));
	atomic_fetch_add(w->ready, 1);
	int rc = shmc_condition_wait_for(w->c, has_items, w, TEST_DEADLINE);
	if (rc == 0)
		CHILD_OK(shmc_list_pop(w->items, 0, NULL));
	CHILD_OK(shmc_condition_release(w->c));
	return rc == 0 ? 0 : 1;
}

static void setup_world(struct world *w, bool rlock)
{
	w->woken = shared_page(4096);
	w->ready = w->woken + 1;
	w->timeout = 10;
	if (rlock)
		ASSERT_OK(shmc_rlock_new(A, &w->l));
	else
		ASSERT_OK(shmc_lock_new(A, &w->l));
	ASSERT_OK(shmc_condition_new(A, w->l, &w->c));
	ASSERT_OK(shmc_list_new(A, &w->items));
}

static void teardown_world(struct world *w)
{
	munmap((void *)w->woken, 4096);
	shmc_obj_release(w->items);
	shmc_obj_release(w->c);
	shmc_obj_release(w->l);
}

/* Minus the waiters on C: wait_count() waits for it to rise to -N, that is
 * for the waiters to fall to N. */
static int64_t minus_nwaiters(shmc_obj_t *c)
{
	return -(int64_t)shmc__cond_nwaiters(c);
}

static void notify_wakes_exactly_n(bool rlock)
{
	struct world w;
	setup_world(&w, rlock);
	/* Events, not a short timeout the others would have to outlast: on a
	 * loaded machine all five could time out before the notify. */
	w.timeout = TEST_DEADLINE;
	pid_t pids[5];
	for (int i = 0; i < 5; i++)
		pids[i] = fork_fn(waiter, &w);
	cr_assert(wait_count(shmc__cond_nwaiters, w.c, 5, TEST_DEADLINE));
	ASSERT_OK(shmc_condition_acquire(w.c, SHMC_FOREVER));
	cr_assert_eq(shmc_condition_notify(w.c, 2), 2);
	ASSERT_OK(shmc_condition_release(w.c));
	/* Two wake now; the other three still wait: notify_all finds exactly
	 * them. */
	cr_assert(wait_flag(w.woken, 2, TEST_DEADLINE));
	cr_assert(wait_count(minus_nwaiters, w.c, -3, TEST_DEADLINE));
	cr_assert_eq(shmc__cond_nwaiters(w.c), 3);
	cr_assert_eq(atomic_load(w.woken), 2);
	ASSERT_OK(shmc_condition_acquire(w.c, SHMC_FOREVER));
	cr_assert_eq(shmc_condition_notify_all(w.c), 3);
	ASSERT_OK(shmc_condition_release(w.c));
	for (int i = 0; i < 5; i++)
		cr_assert_eq(wait_exit(pids[i], TEST_DEADLINE), 0);
	cr_assert_eq(atomic_load(w.woken), 5);
	cr_assert_eq(shmc__cond_nwaiters(w.c), 0);
	teardown_world(&w);
}

Test(cond, notify_n_wakes_exactly_n_waiters, .init = arena_setup, .fini = arena_teardown)
{
	notify_wakes_exactly_n(false);
}

Test(cond, notify_n_wakes_exactly_n_waiters_with_an_rlock, .init = arena_setup,
     .fini = arena_teardown)
{
	notify_wakes_exactly_n(true);
}

Test(cond, notify_all_wakes_everyone, .init = arena_setup, .fini = arena_teardown)
{
	struct world w;
	setup_world(&w, false);
	pid_t pids[6];
	for (int i = 0; i < 6; i++)
		pids[i] = fork_fn(waiter, &w);
	cr_assert(wait_count(shmc__cond_nwaiters, w.c, 6, TEST_DEADLINE));
	char *s = obj_str(w.c);
	cr_assert(strcmp(s + strlen(s) - 6, ">, 6)>") == 0, "%s", s);
	shmc_free(s);
	ASSERT_OK(shmc_condition_acquire(w.c, SHMC_FOREVER));
	cr_assert_eq(shmc_condition_notify_all(w.c), 6);
	ASSERT_OK(shmc_condition_release(w.c));
	for (int i = 0; i < 6; i++)
		cr_assert_eq(wait_exit(pids[i], TEST_DEADLINE), 0);
	teardown_world(&w);
}

/* Minus the length of list LS: wait_count() waits for it to rise to 0. */
static int64_t minus_len(shmc_obj_t *ls)
{
	return -shmc_list_len(ls);
}

/* wait_for: consumers take items as producers add them. */
static void wait_for_consumers(bool rlock)
{
	struct world w;
	setup_world(&w, rlock);
	pid_t pids[4];
	for (int i = 0; i < 4; i++)
		pids[i] = fork_fn(consumer, &w);
	cr_assert(wait_flag(w.ready, 4, TEST_DEADLINE));
	for (int i = 0; i < 4; i++) {
		ASSERT_OK(shmc_condition_acquire(w.c, SHMC_FOREVER));
		ASSERT_OK(shmc_list_append(w.items, shmc_int(i)));
		shmc_condition_notify(w.c, 1);
		ASSERT_OK(shmc_condition_release(w.c));
		/* An event, not a pause: the item was taken. */
		cr_assert(wait_count(minus_len, w.items, 0, TEST_DEADLINE));
	}
	for (int i = 0; i < 4; i++)
		cr_assert_eq(wait_exit(pids[i], TEST_DEADLINE), 0);
	cr_assert_eq(shmc_list_len(w.items), 0);
	teardown_world(&w);
}

Test(cond, wait_for_returns_once_the_predicate_holds, .init = arena_setup,
     .fini = arena_teardown)
{
	wait_for_consumers(false);
}

Test(cond, wait_for_returns_once_the_predicate_holds_with_an_rlock,
     .init = arena_setup, .fini = arena_teardown)
{
	wait_for_consumers(true);
}

static bool never(void *p)
{
	(void)p;
	return false;
}

static bool always(void *p)
{
	(void)p;
	return true;
}

Test(cond, wait_for_times_out_or_returns_at_once, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c;
	ASSERT_OK(shmc_condition_new(A, NULL, &c));
	ASSERT_ERR(shmc_condition_wait_for(c, always, NULL, 1), SHMC_ENOTHELD);
	ASSERT_OK(shmc_condition_acquire(c, SHMC_FOREVER));
	ASSERT_OK(shmc_condition_wait_for(c, always, NULL, SHMC_NOWAIT));
	double t0 = now_s();
	ASSERT_ERR(shmc_condition_wait_for(c, never, NULL, 0.05), -ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 0.049);
	ASSERT_ERR(shmc_condition_wait_for(c, NULL, NULL, 1), -EINVAL);
	ASSERT_OK(shmc_condition_release(c));
	shmc_obj_release(c);
}

/* The RLock's recursion level survives a wait. */
static int notify_later(void *p)
{
	struct world *w = p;
	/* Once the parent waits (its cell is on the list), not after a guess. */
	if (!wait_count(shmc__cond_nwaiters, w->c, 1, TEST_DEADLINE))
		return 2;
	CHILD_OK(shmc_condition_acquire(w->c, SHMC_FOREVER));
	int n = shmc_condition_notify(w->c, 1);
	CHILD_OK(shmc_condition_release(w->c));
	return n == 1 ? 0 : 1;
}

Test(cond, wait_releases_every_level_of_an_rlock_and_restores_them,
     .init = arena_setup, .fini = arena_teardown)
{
	struct world w;
	setup_world(&w, true);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_condition_acquire(w.c, SHMC_FOREVER));
	pid_t pid = fork_fn(notify_later, &w);
	ASSERT_OK(shmc_condition_wait(w.c, 2 * TEST_DEADLINE));
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	char *s = obj_str(w.l);
	cr_assert(strstr(s, " count=3 at "), "%s", s);
	shmc_free(s);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_condition_release(w.c));
	ASSERT_ERR(shmc_condition_release(w.c), SHMC_ENOTHELD);
	teardown_world(&w);
}

/* Stored by reference and printed inside a container. */
Test(cond, a_condition_in_a_dict_prints_its_proxy, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d, *c;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_condition_new(A, NULL, &c));
	ASSERT_OK(shmc_dict_set(d, shmc_str("c"), shmc_ref(c)));
	shmc_obj_release(c);
	char *s = obj_str(d);
	cr_assert(strncmp(s, "{'c': <ConditionProxy object, typeid 'Condition' at 0x", 54) == 0,
		  "%s", s);
	shmc_free(s);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	cr_assert_eq(rep.objects, 3, "%llu", (unsigned long long)rep.objects); /* + RLock */
	shmc_obj_release(d);
}

/* Death ------------------------------------------------------------------- */

static int wait_forever(void *p)
{
	struct world *w = p;
	CHILD_OK(shmc_condition_acquire(w->c, SHMC_FOREVER));
	atomic_fetch_add(w->ready, 1);
	shmc_condition_wait(w->c, SHMC_FOREVER);
	return 3;
}

Test(cond, waiter_killed_200_times_notify_still_wakes_a_live_one, .init = arena_setup,
     .fini = arena_teardown)
{
	struct world w;
	setup_world(&w, false);
	int hangs = 0;
	double t0 = now_s();
	for (int k = 0; k < 200; k++) {
		atomic_store(w.ready, 0);
		/* The dead one waits first: notify(1) must skip it. */
		pid_t dead = fork_fn(wait_forever, &w);
		cr_assert(wait_count(shmc__cond_nwaiters, w.c, 1, TEST_DEADLINE));
		pid_t live = fork_fn(waiter, &w);
		cr_assert(wait_count(shmc__cond_nwaiters, w.c, 2, TEST_DEADLINE));
		kill_wait(dead);
		ASSERT_OK(shmc_condition_acquire(w.c, SHMC_FOREVER));
		cr_assert_eq(shmc_condition_notify(w.c, 1), 1);
		ASSERT_OK(shmc_condition_release(w.c));
		int rc = wait_exit(live, TEST_DEADLINE);
		hangs += rc == CHILD_HUNG;
		cr_assert_eq(rc, 0, "kill %d: the live waiter got %d", k, rc);
		cr_assert_eq(shmc__cond_nwaiters(w.c), 0);
	}
	fprintf(stderr, "cond: waiter killed 200 times: %d hangs, %.2f s\n", hangs,
		now_s() - t0);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, NULL, NULL));
	teardown_world(&w);
}

/* Killed after being notified, before waking: the notification passes on. */
static int stop_in_wait(void *p)
{
	struct world *w = p;
	CHILD_OK(shmc_condition_acquire(w->c, SHMC_FOREVER));
	atomic_fetch_add(w->ready, 1);
	shmc_condition_wait(w->c, SHMC_FOREVER);
	return 3;
}

Test(cond, notified_waiter_killed_before_waking_passes_it_on, .init = arena_setup,
     .fini = arena_teardown)
{
	struct world w;
	setup_world(&w, false);
	double t0 = now_s();
	for (int k = 0; k < 20; k++) {
		atomic_store(w.ready, 0);
		pid_t dead = fork_fn(stop_in_wait, &w);
		cr_assert(wait_count(shmc__cond_nwaiters, w.c, 1, TEST_DEADLINE));
		/* Stopped, it cannot consume the notification it gets. */
		kill(dead, SIGSTOP);
		pid_t live = fork_fn(waiter, &w);
		cr_assert(wait_count(shmc__cond_nwaiters, w.c, 2, TEST_DEADLINE));
		ASSERT_OK(shmc_condition_acquire(w.c, SHMC_FOREVER));
		cr_assert_eq(shmc_condition_notify(w.c, 1), 1); /* to the stopped one */
		ASSERT_OK(shmc_condition_release(w.c));
		kill_wait(dead);
		int rc = wait_exit(live, TEST_DEADLINE);
		cr_assert_eq(rc, 0, "round %d: the live waiter got %d", k, rc);
	}
	fprintf(stderr, "cond: notified waiter killed 20 times: passed on, %.2f s\n",
		now_s() - t0);
	teardown_world(&w);
}

/* A holder of the lock killed: a waiter returning from wait() gets the lock
 * with SHMC_EOWNERDEAD. */
static int notify_and_hang(void *p)
{
	struct world *w = p;
	CHILD_OK(shmc_condition_acquire(w->c, SHMC_FOREVER));
	CHILD_CHECK(shmc_condition_notify(w->c, 1) == 1);
	atomic_fetch_add(w->ready, 1);
	for (;;)
		pause();
}

struct killer {
	_Atomic int *ready;
	pid_t pid;
};

static void *kill_when_ready(void *p)
{
	struct killer *k = p;
	wait_flag(k->ready, 1, TEST_DEADLINE); /* else killed all the same */
	/* Not synchronisation: a moment for the waiter to start taking the
	 * lock back, so that it is killed under it as often as not. Either
	 * way the waiter must get SHMC_EOWNERDEAD. */
	usleep(5000);
	kill(k->pid, SIGKILL);
	return NULL;
}

Test(cond, lock_holder_killed_waiter_gets_eownerdead, .init = arena_setup,
     .fini = arena_teardown)
{
	struct world w;
	setup_world(&w, false);
	for (int k = 0; k < 20; k++) {
		atomic_store(w.ready, 0);
		ASSERT_OK(shmc_condition_acquire(w.c, SHMC_FOREVER));
		struct killer kl = {w.ready, fork_fn(notify_and_hang, &w)};
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, kill_when_ready, &kl), 0);
		/* Notified by the child, which then dies holding the lock. */
		ASSERT_ERR(shmc_condition_wait(w.c, TEST_DEADLINE), SHMC_EOWNERDEAD);
		pthread_join(t, NULL);
		cr_assert_eq(wait_exit(kl.pid, TEST_DEADLINE), CHILD_KILLED);
		ASSERT_OK(shmc_condition_release(w.c));
	}
	teardown_world(&w);
}

/* Killed anywhere, waiting or notifying: the list of waiters stays sound
 * and notifications keep reaching the living. */
static int cond_hammer(void *p)
{
	struct world *w = p;
	for (int k = 0;; k++) {
		int rc = shmc_condition_acquire(w->c, TEST_DEADLINE);
		CHILD_CHECK(rc == 0 || rc == SHMC_EOWNERDEAD);
		if (k % 2)
			rc = shmc_condition_wait(w->c, 0.002);
		else
			rc = shmc_condition_notify(w->c, 1);
		CHILD_CHECK(rc >= 0 || rc == -ETIMEDOUT || rc == SHMC_EOWNERDEAD);
		CHILD_OK(shmc_condition_release(w->c));
	}
}

Test(cond, processes_killed_mid_wait_or_notify_leave_it_sound, .init = arena_setup,
     .fini = arena_teardown)
{
	struct world w;
	setup_world(&w, true);
	pid_t pids[4];
	for (int i = 0; i < 4; i++)
		pids[i] = fork_fn(cond_hammer, &w);
	unsigned seed = 11;
	for (int k = 0; k < 150; k++) {
		usleep(100 + rand_r(&seed) % 1500); /* varies where the kill lands */
		int i = (int)(rand_r(&seed) % 4);
		kill_wait(pids[i]);
		pids[i] = fork_fn(cond_hammer, &w);
		/* Stopped anywhere, as the killed were: the arena is sound. */
		stop_all(pids, 4);
		shmc_check_report_t rep;
		int rc = shmc_arena_check(A, 0, &rep, print_finding, "check");
		cont_all(pids, 4);
		cr_assert_eq(rc, 0, "kill %d", k);
	}
	for (int i = 0; i < 4; i++)
		kill_wait(pids[i]);
	/* Still works: a live waiter is woken by one notify, past whatever
	 * cells the dead left. The waiter holds the lock when it says it is
	 * ready, so once we have the lock it is on the list. */
	int rc = shmc_condition_acquire(w.c, TEST_DEADLINE);
	cr_assert(rc == 0 || rc == SHMC_EOWNERDEAD, "%s", shmc_errname(rc));
	ASSERT_OK(shmc_condition_release(w.c));
	atomic_store(w.ready, 0);
	pid_t live = fork_fn(waiter, &w);
	cr_assert(wait_flag(w.ready, 1, TEST_DEADLINE));
	ASSERT_OK(shmc_condition_acquire(w.c, TEST_DEADLINE));
	/* 0 when a notification swallowed by a killed waiter was passed on
	 * to the live one first (condition.c's essay): woken either way. */
	int n = shmc_condition_notify(w.c, 1);
	cr_assert(n == 1 || n == 0, "notify: %d", n);
	ASSERT_OK(shmc_condition_release(w.c));
	cr_assert_eq(wait_exit(live, TEST_DEADLINE), 0);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP | SHMC_CHECK_SWEEP, &rep, NULL, NULL));
	teardown_world(&w);
}
