/*
 * test_objlock.c -- the writer lock every object carries, released with a
 * plain store: its sleepers leave a mark beside it (arena/olock.c, "Marked
 * locks"), which the release that wakes one clears, a sleeper that takes
 * the lock sets again, and a killed sleeper's costs one needless wake.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>

#define SHMC_TEST_WHITEBOX
#include "testutil.h"

/* Sleepers nap for an hour, not 10 ms: a wake-up lost hangs the test
 * (until its deadline) instead of costing a nap. */
static void long_naps(void)
{
	arena_setup();
	shmc__olock_nap_ns = (int64_t)3600 * 1000000000;
}

static void naps_back(void)
{
	shmc__olock_nap_ns = SHMC__OLOCK_NAP_NS;
	arena_teardown();
}

TestSuite(objlock, .timeout = 120, .init = long_naps, .fini = naps_back);

static struct shmc__obj *obj_of(shmc_obj_t *h)
{
	struct shmc__obj *o = NULL;
	cr_assert_eq(shmc__resolve(h, 0, &o), 0);
	return o;
}

static bool marked(struct shmc__obj *o)
{
	return (ld_relaxed(&o->flags) & SHMC__OBJ_SLEEPERS) != 0;
}

/* Wait (at most TEST_DEADLINE) until someone sleeps on O's lock: its mark
 * set and its word marked too. */
static bool wait_for_sleeper(struct shmc__obj *o)
{
	double end = now_s() + TEST_DEADLINE;
	while (!(marked(o) && (ld_relaxed(&o->lock.word) & SHMC__OLOCK_WAITERS))) {
		if (now_s() > end)
			return false;
		usleep(100); /* a poll interval */
	}
	return true;
}

static int set_x(void *arg)
{
	return shmc_namespace_set(arg, "x", shmc_int(1)) == 0 ? 0 : 1;
}

static int64_t get_x(shmc_obj_t *ns)
{
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_get(ns, "x", &v));
	cr_assert_eq(v.type, SHMC_INT);
	return v.i;
}

/* A namespace holding x = 0, unmarked, whose lock this process takes. */
static shmc_obj_t *held_namespace(struct shmc__obj **o)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(0)));
	*o = obj_of(ns);
	cr_assert(!marked(*o));
	ASSERT_OK(shmc__obj_lock(A, *o));
	return ns;
}

Test(objlock, a_release_wakes_the_sleeper_it_finds_marked)
{
	struct shmc__obj *o;
	shmc_obj_t *ns = held_namespace(&o);
	pid_t pid = fork_fn(set_x, ns);
	cr_assert(wait_for_sleeper(o), "the writer never slept on the lock");
	shmc__obj_unlock(A, o);
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0, "the sleeper was not woken");
	cr_assert_eq(get_x(ns), 1);
	/* The woken writer set the mark again when it took the lock (others
	 * might sleep), and its release, finding it, cleared it. */
	cr_assert(!marked(o));
	cr_assert_eq(ld_relaxed(&o->lock.word), 0);
	shmc_obj_release(ns);
}

Test(objlock, a_killed_sleepers_mark_costs_one_wake)
{
	struct shmc__obj *o;
	shmc_obj_t *ns = held_namespace(&o);
	pid_t pid = fork_fn(set_x, ns);
	cr_assert(wait_for_sleeper(o), "the writer never slept on the lock");
	cr_assert(kill_wait(pid));
	cr_assert(marked(o), "a mark nobody cleared");
	shmc__obj_unlock(A, o);
	cr_assert(!marked(o), "the release did not clear a dead sleeper's mark");
	cr_assert_eq(ld_relaxed(&o->lock.word), 0);
	cr_assert_eq(get_x(ns), 0);
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(2)));
	cr_assert_eq(get_x(ns), 2);
	cr_assert(!marked(o));
	shmc_obj_release(ns);
}

/* The first line of /proc/PID/NAME into BUF ("" if unreadable). */
static void proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
}

/* Whether process PID sleeps in a futex call: asleep (state S), and in a
 * futex wait where the kernel names wait channels (a hardened one shows
 * "0"; then the writer's only sleep is on the lock's futex). */
static bool asleep_in_futex(pid_t pid)
{
	char stat[512], wchan[64];
	proc_read(pid, "stat", stat, sizeof(stat));
	char *paren = strrchr(stat, ')');
	if (paren == NULL || paren[1] != ' ' || paren[2] != 'S')
		return false;
	proc_read(pid, "wchan", wchan, sizeof(wchan));
	return strstr(wchan, "futex") != NULL || strcmp(wchan, "0") == 0;
}

static int add_one(void *arg)
{
	return shmc_namespace_add(arg, "x", shmc_int(1), NULL) == 0 ? 0 : 1;
}

/* Four writers asleep on a held lock: its release wakes one, and each,
 * once done, wakes the next (it set the mark again when it took the
 * lock); with naps of an hour, a broken chain would hang. */
Test(objlock, sleepers_are_woken_one_after_another)
{
	struct shmc__obj *o;
	shmc_obj_t *ns = held_namespace(&o);
	pid_t pid[4];
	for (int i = 0; i < 4; i++)
		pid[i] = fork_fn(add_one, ns);
	double end = now_s() + TEST_DEADLINE;
	for (int i = 0; i < 4; i++)
		while (!asleep_in_futex(pid[i])) {
			cr_assert(now_s() < end, "writer %d never slept", i);
			usleep(100); /* a poll interval */
		}
	cr_assert(marked(o));
	shmc__obj_unlock(A, o);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(wait_exit(pid[i], TEST_DEADLINE), 0, "writer %d was not woken", i);
	cr_assert_eq(get_x(ns), 4);
	cr_assert(!marked(o));
	cr_assert_eq(ld_relaxed(&o->lock.word), 0);
	shmc_obj_release(ns);
}

/* Writers that keep taking turns, sleeping often: none waits for good,
 * no increment is lost, and the lock ends free and unmarked. */
static int adder(int i, void *arg)
{
	(void)i;
	for (int k = 0; k < 3000; k++)
		if (shmc_namespace_add(arg, "x", shmc_int(1), NULL) != 0)
			return 1;
	return 0;
}

Test(objlock, writers_sleeping_in_turn_lose_nothing)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(0)));
	cr_assert_eq(run_children(6, adder, ns), 0);
	cr_assert_eq(get_x(ns), 6 * 3000);
	struct shmc__obj *o = obj_of(ns);
	cr_assert(!marked(o));
	cr_assert_eq(ld_relaxed(&o->lock.word), 0);
	shmc_obj_release(ns);
}
