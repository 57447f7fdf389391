/*
 * test_walkthrough.c -- the README's walk-through: a producer and a
 * consumer, started separately (not forked from each other), cooperate
 * through a named Queue and named dicts; the tools then look inside.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>

#include "testutil.h"

extern char **environ;

TestSuite(walkthrough, .timeout = 120);

static void build_dir(char *out, size_t n)
{
	const char *b = getenv("SHMC_BUILD");
	if (b) {
		snprintf(out, n, "%s", b);
		return;
	}
	char self[1024];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(len, 0);
	self[len] = '\0';
	snprintf(out, n, "%s/..", dirname(self)); /* build/x/test/.. */
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

static int finish(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	static char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(walkthrough, producer_and_consumer_share_a_named_queue)
{
	char dir[1024], prod[1100], cons[1100], name[64], out1[64], out2[64];
	build_dir(dir, sizeof(dir));
	snprintf(prod, sizeof(prod), "%s/examples/producer", dir);
	snprintf(cons, sizeof(cons), "%s/examples/consumer", dir);
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
	cr_assert_str_eq(slurp(out1), want);
	snprintf(want, sizeof(want), "consumer: took 300 jobs from %s\n", name);
	cr_assert_str_eq(slurp(out2), want);

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
	char dir[1024], prod[1100], cons[1100], name[64], out[64];
	build_dir(dir, sizeof(dir));
	snprintf(prod, sizeof(prod), "%s/examples/producer", dir);
	snprintf(cons, sizeof(cons), "%s/examples/consumer", dir);
	snprintf(name, sizeof(name), "shmc-walk2-%d", getpid());
	snprintf(out, sizeof(out), "/tmp/shmc-walk2-%d", getpid());
	shmc_arena_unlink(name);

	char *pargv[] = {prod, name, "400", "1", NULL};
	char *cargv[] = {cons, name, NULL};
	pid_t p = start(out, pargv);
	pid_t c1 = start("/dev/null", cargv);
	/* Not synchronisation: the kill lands anywhere, even inside a get();
	 * any moment is correct, this one is usually mid-run. */
	usleep(100 * 1000);
	kill(c1, SIGKILL);
	finish(c1);
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
