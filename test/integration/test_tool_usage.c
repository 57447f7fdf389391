/*
 * test_tool_usage.c -- the tools' options, versions and exit codes; a missing arena and a file that is not one.
 * Fixtures: tooltest.h.
 */
#include "tooltest.h"

/* Usage, versions, missing arenas ------------------------------------------- */


Test(tools, help_and_version_exit_0, .fini = runs_cleanup)
{
	for (int i = 0; i < 3; i++) {
		char want[64], usage[64];
		snprintf(want, sizeof(want), "%s %s\n", TOOLS[i], shmc_version());
		cr_assert_str_eq(shmc_version(), SHMC_VERSION_STRING);
		expect_run(0, want, "", TOOLS[i], "-V", NULL);
		expect_run(0, want, "", TOOLS[i], "--version", NULL);
		snprintf(usage, sizeof(usage), "usage: %s ", TOOLS[i]);
		const char *flags[] = {"-h", "--help"};
		for (int f = 0; f < 2; f++) {
			struct run r = run_tool(TOOLS[i], flags[f], NULL);
			cr_assert_eq(exited(&r, TOOLS[i]), 0);
			cr_assert(strncmp(r.out, usage, strlen(usage)) == 0, "%s %s: %s", TOOLS[i],
				  flags[f], r.out);
			cr_assert(strstr(r.out, "-V, --version") != NULL);
			cr_assert_str_eq(r.err, "");
			run_free(&r);
		}
	}
}

/* A usage error: exit 2, the usage on stderr, nothing on stdout. */
static void expect_usage_error(const char *t, char *a1, char *a2, char *a3, char *a4)
{
	char *argv[] = {(char *)tool(t), a1, a2, a3, a4, NULL};
	struct run r = run_input(argv, NULL, 0, TOOL_TIMEOUT_MS);
	char what[256];
	snprintf(what, sizeof(what), "%s %s %s %s %s", t, a1 ? a1 : "", a2 ? a2 : "",
		 a3 ? a3 : "", a4 ? a4 : "");
	cr_assert_eq(exited(&r, what), 2, "%s: exit %d\nstdout: %s\nstderr: %s", what,
		     WEXITSTATUS(r.status), r.out, r.err);
	cr_assert_str_eq(r.out, "", "%s: stdout", what);
	cr_assert(strstr(r.err, "usage: ") != NULL, "%s: stderr: %s", what, r.err);
	run_free(&r);
}

Test(tools, usage_errors_exit_2, .fini = runs_cleanup)
{
	for (int i = 0; i < 3; i++) {
		expect_usage_error(TOOLS[i], NULL, NULL, NULL, NULL);  /* no NAME */
		expect_usage_error(TOOLS[i], "-Z", "x", NULL, NULL);   /* unknown option */
		expect_usage_error(TOOLS[i], "--no-such-option", "x", NULL, NULL);
		expect_usage_error(TOOLS[i], "a", "b", "c", NULL);     /* too many */
	}
	expect_usage_error("shmc-stat", "a", "b", NULL, NULL);
	expect_usage_error("shmc-check", "a", "b", NULL, NULL);
	expect_usage_error("shmc-check", "-q", NULL, NULL, NULL);
	expect_usage_error("shmc-dump", "--json", NULL, NULL, NULL);
	expect_usage_error("shmc-dump", "--json", "a", "b", "c");
}

Test(tools, a_missing_arena_exits_1_with_a_message, .fini = runs_cleanup)
{
	char name[128], want[512];
	snprintf(name, sizeof(name), "shmc-test-%d-missing", (int)getpid());
	const char *enoent = shmc_strerror(-ENOENT);
	cr_assert(strstr(enoent, "No such file") != NULL, "%s", enoent);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s: %s: %s\n", TOOLS[i], name, enoent);
		expect_run(1, "", want, TOOLS[i], name, NULL);
	}
	snprintf(want, sizeof(want), "shmc-dump: %s: %s\n", name, enoent);
	expect_run(1, "", want, "shmc-dump", "--json", name, "a/b", NULL);
	snprintf(want, sizeof(want), "shmc-check: %s: %s\n", name, enoent);
	expect_run(1, "", want, "shmc-check", "--reap", name, NULL);
	expect_run(1, "", want, "shmc-check", "-q", name, NULL);
	/* A path in a folder that does not exist, and one that is a folder. */
	snprintf(want, sizeof(want), "shmc-stat: /nonexistent-%d/arena: %s\n", (int)getpid(),
		 enoent);
	char path[128];
	snprintf(path, sizeof(path), "/nonexistent-%d/arena", (int)getpid());
	expect_run(1, "", want, "shmc-stat", path, NULL);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s: /tmp: %s\n", TOOLS[i],
			 shmc_strerror(SHMC_ENOTREG));
		expect_run(1, "", want, TOOLS[i], "/tmp", NULL);
	}
}

Test(tools, a_file_that_is_not_an_arena_exits_1, .init = named_setup, .fini = named_teardown)
{
	char path[256], want[512];
	snprintf(path, sizeof(path), "/tmp/shmc-test-%d-notarena", (int)getpid());
	track(path);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	char junk[8192];
	memset(junk, 'x', sizeof(junk));
	cr_assert(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	close(fd);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s: %s: %s\n", TOOLS[i], path,
			 shmc_strerror(SHMC_ENOTARENA));
		expect_run(1, "", want, TOOLS[i], path, NULL);
	}
	/* An empty file too. */
	cr_assert(truncate(path, 0) == 0);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s: %s: %s\n", TOOLS[i], path,
			 shmc_strerror(SHMC_ENOTARENA));
		expect_run(1, "", want, TOOLS[i], path, NULL);
	}
}
