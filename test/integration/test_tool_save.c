/*
 * test_tool_save.c -- shmc-save and shmc-load: one process saves a live
 * arena, another loads the file into a new arena, and shmc-dump shows the
 * same objects in both (references aside, which name other offsets); their
 * options, versions and exit codes; a bad file and an existing name refused
 * with nothing created. Fixtures: tooltest.h.
 */
#include <ctype.h>

#include "tooltest.h"

static char save_file[256], new_name[128], new_path[256];

static void save_setup(void)
{
	named_setup();
	snprintf(save_file, sizeof(save_file), "/tmp/shmc-test-%d-tool.save", (int)getpid());
	unlink(save_file);
	track(save_file);
	unique_name(new_name, sizeof(new_name), new_path, sizeof(new_path), "loaded");
}

/* TEXT with every "0x<hex>" made "0x?": the identities of references. */
static char *no_offsets(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	cr_assert(out);
	for (const char *p = text; *p;) {
		if (p[0] == '0' && p[1] == 'x') {
			*o++ = '0';
			*o++ = 'x';
			*o++ = '?';
			p += 2;
			while (isxdigit((unsigned char)*p))
				p++;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	return out;
}

/* shmc-dump of NAME (with OPT, may be NULL), offsets taken out. */
static char *dump_of(const char *name, const char *opt)
{
	struct run r = opt ? run_tool("shmc-dump", opt, name, NULL)
			   : run_tool("shmc-dump", name, NULL);
	cr_assert_eq(exited(&r, "shmc-dump"), 0, "%s", r.err);
	char *s = no_offsets(r.out);
	run_free(&r);
	return s;
}

Test(tools, save_in_one_process_load_in_another_dumps_the_same, .init = save_setup,
     .fini = named_teardown)
{
	populate(NA);
	expect_run(0, "", "", "shmc-save", NA_name, save_file, NULL);
	expect_run(0, "", "", "shmc-load", save_file, new_name, NULL);
	for (int json = 0; json < 2; json++) {
		char *a = dump_of(NA_name, json ? "--json" : NULL);
		char *b = dump_of(new_name, json ? "--json" : NULL);
		cr_assert_str_eq(b, a);
		cr_assert(strstr(a, "jobs: [1, <DictProxy object, typeid 'dict' at 0x?>") || json,
			  "%s", a);
		free(a);
		free(b);
	}
	/* A path through a reference: the nested dict came along. */
	expect_run(0, "{'name': 'build', 'id': 7}\n", "", "shmc-dump", new_name, "jobs/1", NULL);
	/* Loading again under the same name: refused, the arena untouched. */
	struct run r = run_tool("shmc-load", save_file, new_name, NULL);
	cr_assert_eq(exited(&r, "shmc-load"), 1);
	cr_assert(strstr(r.err, "File exists") != NULL, "%s", r.err);
	run_free(&r);
	expect_run(0, "{'name': 'build', 'id': 7}\n", "", "shmc-dump", new_name, "jobs/1", NULL);
	ASSERT_OK(shmc_arena_unlink(new_name));
}

Test(tools, load_refuses_a_bad_file_and_creates_nothing, .init = save_setup,
     .fini = named_teardown)
{
	populate(NA);
	expect_run(0, "", "", "shmc-save", NA_name, save_file, NULL);
	size_t n;
	char *f = read_file(save_file, &n);
	int fd = open(save_file, O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, f, n / 2), (ssize_t)(n / 2));
	close(fd);
	free(f);
	struct run r = run_tool("shmc-load", save_file, new_name, NULL);
	cr_assert_eq(exited(&r, "shmc-load"), 1);
	cr_assert(strstr(r.err, "saved file is truncated or corrupt") != NULL, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	run_free(&r);
	cr_assert(access(new_path, F_OK) != 0, "nothing created");
	/* An arena file is not a save file. */
	r = run_tool("shmc-load", NA_path, new_name, NULL);
	cr_assert_eq(exited(&r, "shmc-load"), 1);
	cr_assert(strstr(r.err, "not an shmc arena") != NULL, "%s", r.err);
	run_free(&r);
	cr_assert(access(new_path, F_OK) != 0, "nothing created");
	/* No such arena, no such directory. */
	r = run_tool("shmc-save", "shmc-test-no-such-arena", save_file, NULL);
	cr_assert_eq(exited(&r, "shmc-save"), 1);
	run_free(&r);
	r = run_tool("shmc-save", NA_name, "/no-such-dir-shmc/file", NULL);
	cr_assert_eq(exited(&r, "shmc-save"), 1);
	cr_assert(strstr(r.err, "No such file") != NULL, "%s", r.err);
	run_free(&r);
}

Test(tools, save_and_load_help_version_and_usage_errors, .fini = runs_cleanup)
{
	const char *const t[] = {"shmc-save", "shmc-load"};
	for (int i = 0; i < 2; i++) {
		char want[64], usage[64];
		snprintf(want, sizeof(want), "%s %s\n", t[i], shmc_version());
		expect_run(0, want, "", t[i], "-V", NULL);
		expect_run(0, want, "", t[i], "--version", NULL);
		snprintf(usage, sizeof(usage), "usage: %s ", t[i]);
		struct run r = run_tool(t[i], "--help", NULL);
		cr_assert_eq(exited(&r, t[i]), 0);
		cr_assert(strncmp(r.out, usage, strlen(usage)) == 0, "%s", r.out);
		cr_assert(strstr(r.out, "-V, --version") != NULL);
		run_free(&r);
		const char *bad[][3] = {{"x", NULL, NULL}, {"-Z", "a", "b"}, {"a", "b", "c"}};
		for (int k = 0; k < 3; k++) {
			r = run_tool(t[i], bad[k][0], bad[k][1], bad[k][2], NULL);
			cr_assert_eq(exited(&r, t[i]), 2, "%s %s", t[i], bad[k][0]);
			cr_assert_str_eq(r.out, "");
			cr_assert(strstr(r.err, "usage: ") != NULL);
			run_free(&r);
		}
	}
	struct run r = run_tool("shmc-load", "--capacity", "lots", "a", "b", NULL);
	cr_assert_eq(exited(&r, "shmc-load"), 2);
	run_free(&r);
}
