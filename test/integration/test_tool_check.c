/*
 * test_tool_check.c -- shmc-check on a clean arena, and that no tool writes a byte.
 * Fixtures: tooltest.h.
 */
#include "tooltest.h"

/* shmc-check ------------------------------------------------------------------- */

Test(tools, check_reports_a_clean_arena, .init = named_setup, .fini = named_teardown)
{
	populate(NA);
	struct run r = run_tool("shmc-check", NA_name, NULL);
	cr_assert_eq(exited(&r, "shmc-check"), 0, "%s%s", r.out, r.err);
	/* Five objects and the directory; nothing leaked, nobody dead. */
	const char *head = fmt("%s: 0 errors; 6 objects, ", NA_name);
	cr_assert(strncmp(r.out, head, strlen(head)) == 0, "%s", r.out);
	cr_assert(strstr(r.out, " free; leaked: 0 blocks (0 bytes), 0 references; "
				"0 dead processes\n"), "%s", r.out);
	cr_assert_str_eq(r.err, "");
	struct run q = run_tool("shmc-check", "-q", NA_name, NULL);
	cr_assert_eq(exited(&q, "shmc-check -q"), 0);
	cr_assert_str_eq(q.out, r.out); /* nothing to report: the same summary */
	run_free(&q);
	run_free(&r);
}

/* Read-only ---------------------------------------------------------------------- */

static uint64_t file_hash(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	uint64_t h = 1469598103934665603ull;
	unsigned char buf[65536];
	ssize_t n;
	*size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
		*size += (size_t)n;
	}
	close(fd);
	return h;
}

static void run_all_read_only(const char *name)
{
	static const char *const argvs[][4] = {
		{"shmc-stat", NULL},
		{"shmc-dump", NULL},
		{"shmc-dump", "--json", NULL},
		{"shmc-dump", "@", "jobs/1/name"},
		{"shmc-dump", "--json", "@", "config/jobs"},
		{"shmc-dump", "@", "config/nope"},
		{"shmc-check", NULL},
		{"shmc-check", "-q", NULL},
	};
	for (size_t i = 0; i < sizeof(argvs) / sizeof(argvs[0]); i++) {
		char *argv[6];
		int n = 0;
		argv[n++] = (char *)tool(argvs[i][0]);
		bool named = false;
		for (int j = 1; j < 4 && argvs[i][j]; j++) {
			named |= strcmp(argvs[i][j], "@") == 0;
			argv[n++] = strcmp(argvs[i][j], "@") == 0 ? (char *)name : (char *)argvs[i][j];
		}
		if (!named) {
			argv[n++] = (char *)name;
		}
		argv[n] = NULL;
		struct run r = run_input(argv, NULL, 0, TOOL_TIMEOUT_MS);
		int st = exited(&r, argvs[i][0]);
		cr_assert(st == 0 || (st == 1 && i == 5), "%s: exit %d: %s", argvs[i][0], st, r.err);
		run_free(&r);
	}
}

Test(tools, tools_write_nothing, .init = named_setup, .fini = named_teardown)
{
	populate(NA);
	size_t size0, size1;
	/* While this process is attached (and idle)... */
	uint64_t h0 = file_hash(NA_path, &size0);
	run_all_read_only(NA_name);
	uint64_t h1 = file_hash(NA_path, &size1);
	cr_assert_eq(size1, size0);
	cr_assert_eq(h1, h0, "the tools changed the arena's bytes");
	/* ...and on a file nobody is attached to: a copy, closed. */
	char copy[256];
	snprintf(copy, sizeof(copy), "/dev/shm/shmc-test-%d-ro-copy", (int)getpid());
	track(copy);
	{
		int in = open(NA_path, O_RDONLY | O_CLOEXEC);
		int out = open(copy, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
		cr_assert(in >= 0 && out >= 0);
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			cr_assert_eq(write(out, buf, (size_t)n), n);
		close(in);
		close(out);
	}
	struct stat sb0, sb1;
	cr_assert(stat(copy, &sb0) == 0);
	h0 = file_hash(copy, &size0);
	/* Not synchronisation: a later mtime would show a write (stat below). */
	nanosleep(&(struct timespec){0, 20 * 1000000}, NULL);
	run_all_read_only(copy);
	h1 = file_hash(copy, &size1);
	cr_assert(stat(copy, &sb1) == 0);
	cr_assert_eq(size1, size0);
	cr_assert_eq(h1, h0, "the tools changed the copy's bytes");
	cr_assert(sb1.st_mtim.tv_sec == sb0.st_mtim.tv_sec &&
		  sb1.st_mtim.tv_nsec == sb0.st_mtim.tv_nsec, "the copy was written to");
}
