/*
 * test_walkthrough.c -- the README's walk-through: a producer and a
 * consumer, started separately (not forked from each other), cooperate
 * through a named Queue and named dicts; the tools then look inside.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>

#include "testutil.h"

TestSuite(walkthrough, .timeout = 120);

/* The path of example NAME of this build (PATH gets it). */
static char *example(const char *name, char *path, size_t n)
{
	cr_assert(build_program("examples", name, path, n), "no example at %s (set SHMC_BUILD)",
		  path);
	return path;
}

/* Start PROG ARGS... as a new program (fork + exec through posix_spawn),
 * its stdout to OUT. */
static pid_t start(const char *out, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "cannot start %s", argv[0]);
	return pid;
}

/* Wait (at most TEST_DEADLINE) for PID to exit: its exit status. */
static int finish(pid_t pid)
{
	int st = wait_exit(pid, TEST_DEADLINE);
	cr_assert_neq(st, CHILD_HUNG, "pid %d still running after %.0f s", (int)pid, TEST_DEADLINE);
	return st;
}

/* The whole of file PATH must be WANT. */
static void expect_file(const char *path, const char *want)
{
	char *got = read_file(path, NULL);
	cr_assert_str_eq(got, want, "%s", path);
	free(got);
}

/* Wait (at most TEST_DEADLINE) until status["consumed"] in arena NAME is at
 * least N, read as the tools read it. */
static void wait_consumed(const char *name, int64_t n)
{
	double end = now_s() + TEST_DEADLINE;
	for (;;) {
		shmc_view_t *v;
		char *text;
		int64_t got = -1;
		if (shmc_view_open(name, &v) == 0) { /* not until the producer made it */
			if (shmc_view_dump(v, "status/consumed", 0, &text) == 0) {
				got = strtoll(text, NULL, 10);
				shmc_free(text);
			}
			shmc_view_close(v);
		}
		if (got >= n)
			return;
		cr_assert(now_s() < end, "%lld jobs consumed after %.0f s, expected %lld",
			  (long long)got, TEST_DEADLINE, (long long)n);
		usleep(1000); /* a poll interval */
	}
}

Test(walkthrough, producer_and_consumer_share_a_named_queue)
{
	char prod[4096], cons[4096], name[64], out1[64], out2[64];
	example("producer", prod, sizeof(prod));
	example("consumer", cons, sizeof(cons));
	snprintf(name, sizeof(name), "shmc-walk-%d", getpid());
	snprintf(out1, sizeof(out1), "/tmp/shmc-walk-%d.1", getpid());
	snprintf(out2, sizeof(out2), "/tmp/shmc-walk-%d.2", getpid());
	shmc_arena_unlink(name);

	/* The consumer first: it waits for the producer to create the arena. */
	char *cargv[] = {cons, name, NULL};
	char *pargv[] = {prod, name, "300", "1", NULL};
	pid_t c = start(out2, cargv);
	pid_t p = start(out1, pargv);
	cr_assert_eq(finish(p), 0);
	cr_assert_eq(finish(c), 0);
	char want[128];
	snprintf(want, sizeof(want), "producer: put 300 jobs on %s\n", name);
	expect_file(out1, want);
	snprintf(want, sizeof(want), "consumer: took 300 jobs from %s\n", name);
	expect_file(out2, want);

	/* What they left, seen read-only as the tools see it. */
	shmc_view_t *v;
	char *text;
	ASSERT_OK(shmc_view_open(name, &v));
	ASSERT_OK(shmc_view_dump(v, "status", 0, &text));
	cr_assert_str_eq(text, "{'produced': 300, 'consumed': 300}");
	shmc_free(text);
	ASSERT_OK(shmc_view_dump(v, "results/299", 0, &text));
	cr_assert_str_eq(text, "89401");
	shmc_free(text);
	ASSERT_OK(shmc_view_dump(v, "results", SHMC_VIEW_JSON, &text));
	cr_assert(strncmp(text, "{\"items\": [[0, 0], [", 20) == 0, "%.40s", text);
	shmc_free(text);
	shmc_view_close(v);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check_file(name, &rep, NULL, NULL));
	cr_assert_eq(rep.dead_processes, 0);
	cr_assert_eq(rep.leaked_blocks, 0);
	ASSERT_OK(shmc_arena_unlink(name));
	unlink(out1);
	unlink(out2);
}

/* Two consumers at once, and one killed half-way and started again: every
 * job is taken exactly once by a survivor or by the one that died holding
 * none (it dies between jobs, as the oracle below allows for). */
Test(walkthrough, consumers_can_come_and_go)
{
	char prod[4096], cons[4096], name[64], out[64];
	example("producer", prod, sizeof(prod));
	example("consumer", cons, sizeof(cons));
	snprintf(name, sizeof(name), "shmc-walk2-%d", getpid());
	snprintf(out, sizeof(out), "/tmp/shmc-walk2-%d", getpid());
	shmc_arena_unlink(name);

	char *pargv[] = {prod, name, "400", "1", NULL};
	char *cargv[] = {cons, name, NULL};
	pid_t p = start(out, pargv);
	pid_t c1 = start("/dev/null", cargv);
	/* Killed mid-run, once it has taken a quarter of the jobs (alone, so
	 * far): the kill lands anywhere, even inside a get(). (On a machine
	 * slow enough it may have taken them all first: still correct.) */
	wait_consumed(name, 100);
	kill_wait(c1);
	pid_t c2 = start("/dev/null", cargv), c3 = start("/dev/null", cargv);
	cr_assert_eq(finish(p), 0);
	cr_assert_eq(finish(c2), 0);
	cr_assert_eq(finish(c3), 0);

	shmc_arena_t *a;
	shmc_obj_t *results, *status;
	shmc_value_t v;
	ASSERT_OK(shmc_arena_open(name, &a));
	ASSERT_OK(shmc_root_find(a, "results", &results));
	ASSERT_OK(shmc_root_find(a, "status", &status));
	/* A job the killed consumer had taken but not recorded is the only
	 * one that may be missing. */
	int64_t n = shmc_dict_len(results);
	cr_assert(n == 400 || n == 399, "%lld results", (long long)n);
	for (int64_t i = 0; i < 400; i++) {
		int rc = shmc_dict_get(results, shmc_int(i), &v);
		if (rc == SHMC_EKEY && n == 399)
			continue;
		ASSERT_OK(rc);
		cr_assert_eq(v.i, i * i);
	}
	shmc_obj_release(results);
	shmc_obj_release(status);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(a, SHMC_CHECK_REAP, &rep, NULL, NULL));
	cr_assert_eq(rep.errors, 0);
	shmc_arena_close(a);
	ASSERT_OK(shmc_arena_unlink(name));
	unlink(out);
}
