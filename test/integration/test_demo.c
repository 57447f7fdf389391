/*
 * test_demo.c -- the example programs print what Python prints.
 *
 * Runs build/<variant>/examples/manager_example, append_example and
 * sync_example and compares their output, line by line and with hexadecimal
 * addresses masked, with test/expected/NAME.out; and, when python3 is on
 * PATH, with what python3 prints running test/expected/NAME.py now.
 *
 * The examples are found through $SHMC_BUILD (set by test/run-tests.sh),
 * else next to this program (../examples). test/expected is found next to
 * this source file (__FILE__, relative to the repository root when built by
 * make), else from this program's path (build/<variant>/test/../../../test).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>

#include "testutil.h"

TestSuite(demo, .timeout = 120);

/* A malloc'd string of FMT. */
__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	int n = vasprintf(&s, f, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	return s;
}

static char *example_path(const char *name)
{
	char path[4096];
	cr_assert(build_program("examples", name, path, sizeof(path)),
		  "no example at %s (is SHMC_BUILD right?)", path);
	return strdup(path);
}

static bool is_file(const char *p)
{
	return access(p, R_OK) == 0;
}

/* The folder holding the reference outputs and scripts. */
static char *expected_dir(void)
{
	char here[] = __FILE__;
	char *cand = fmt("%s/expected", dirname(here));
	char *probe = fmt("%s/manager_example.out", cand);
	bool ok = is_file(probe);
	free(probe);
	if (ok)
		return cand;
	free(cand);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert_gt(n, 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	cand = fmt("%s/../../../test/integration/expected", dirname(exe));
	probe = fmt("%s/manager_example.out", cand);
	ok = is_file(probe);
	free(probe);
	cr_assert(ok, "test/expected not found (next to %s or to this program)", __FILE__);
	return cand;
}

/* Run ARGV (ARGV[0] searched on PATH when it holds no '/'), at most
 * TEST_DEADLINE; *out gets its standard output, NUL-terminated (freed by
 * the caller). Returns the wait status. */
static int run_capture(char *const argv[], char **out)
{
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 1000));
	cr_assert(!r.timed_out, "%s: still running after %.0f s", argv[0], TEST_DEADLINE);
	if (r.errlen)
		fprintf(stderr, "%s", r.err);
	live_forget(r.out);
	*out = r.out;
	r.out = NULL;
	run_free(&r);
	return r.status;
}

/* S with every 0x[0-9a-f]+ replaced by "0x...", as a new string. */
static char *mask(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1); /* "0x1" grows to "0x..." */
	cr_assert_not_null(out);
	char *o = out;
	while (*s) {
		if (s[0] == '0' && s[1] == 'x' &&
		    ((s[2] >= '0' && s[2] <= '9') || (s[2] >= 'a' && s[2] <= 'f'))) {
			s += 2;
			while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))
				s++;
			memcpy(o, "0x...", 5);
			o += 5;
		} else {
			*o++ = *s++;
		}
	}
	*o = 0;
	return out;
}

/* Compare two outputs line by line, after masking: 0 when they match, else
 * the number of the first line that differs, described in *why (freed by
 * the caller). */
static int first_difference(const char *what_a, const char *a, const char *what_b,
			    const char *b, char **why)
{
	char *ma = mask(a), *mb = mask(b);
	char *pa = ma, *pb = mb;
	int line = 1, diff = 0;
	*why = NULL;
	for (;; line++) {
		char *ea = strchr(pa, '\n'), *eb = strchr(pb, '\n');
		if (ea)
			*ea = 0;
		if (eb)
			*eb = 0;
		if (strcmp(pa, pb) != 0 || (ea == NULL) != (eb == NULL)) {
			diff = line;
			*why = fmt("line %d: %s has\n  %s%s\nwhere %s has\n  %s%s", line,
				   what_a, pa, ea ? "" : " (last line)", what_b, pb,
				   eb ? "" : " (last line)");
			break;
		}
		if (ea == NULL)
			break;
		pa = ea + 1;
		pb = eb + 1;
	}
	free(ma);
	free(mb);
	return diff;
}

static void compare(const char *what_a, const char *a, const char *what_b, const char *b)
{
	char *why;
	cr_assert_neq(*a, 0, "%s printed nothing", what_a);
	int line = first_difference(what_a, a, what_b, b, &why);
	cr_assert_eq(line, 0, "%s", why);
}

static char *run_example(const char *name)
{
	char *path = example_path(name);
	char *out;
	char *argv[] = {path, NULL};
	int st = run_capture(argv, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed (status %#x)", path, st);
	free(path);
	return out;
}

static void example_matches_expected(const char *name)
{
	char *dir = expected_dir();
	char *path = fmt("%s/%s.out", dir, name);
	char *want = read_file(path, NULL);
	char *got = run_example(name);
	compare(name, got, path, want);
	free(got);
	free(want);
	free(path);
	free(dir);
}

Test(demo, manager_example_prints_the_expected_output)
{
	example_matches_expected("manager_example");
}

Test(demo, append_example_prints_the_expected_output)
{
	example_matches_expected("append_example");
}

Test(demo, sync_example_prints_the_expected_output)
{
	example_matches_expected("sync_example");
}

static void example_matches_python(const char *name)
{
	if (!have_python3())
		cr_skip("python3 is not on PATH");
	setenv("PYTHONUNBUFFERED", "1", 1);
	char *dir = expected_dir();
	char *script = fmt("%s/%s.py", dir, name);
	cr_assert(is_file(script), "%s: %s", script, strerror(errno));
	char *py;
	char *argv[] = {"python3", script, NULL};
	int st = run_capture(argv, &py);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "python3 %s failed (status %#x)",
		  script, st);
	char *got = run_example(name);
	char *what = fmt("python3 %s", script);
	compare(name, got, what, py);
	free(what);
	free(got);
	free(py);
	free(script);
	free(dir);
}

Test(demo, manager_example_prints_what_python_prints)
{
	example_matches_python("manager_example");
}

Test(demo, append_example_prints_what_python_prints)
{
	example_matches_python("append_example");
}

Test(demo, sync_example_prints_what_python_prints)
{
	example_matches_python("sync_example");
}

/* The comparison itself: masking, and a difference anywhere is found (so
 * the tests above can fail). */
Test(demo, the_comparison_sees_differences)
{
	char *m = mask("a 0x7f00ab <X at 0x1> 0xg 0x 10x1f\n");
	cr_assert_str_eq(m, "a 0x... <X at 0x...> 0xg 0x 10x...\n");
	free(m);
	m = mask("<queue.Queue object at 0x7f3fe57b9390>\n");
	cr_assert_str_eq(m, "<queue.Queue object at 0x...>\n");
	free(m);
	char *why;
	cr_assert_eq(first_difference("a", "x\n<at 0x12>\n", "b", "x\n<at 0xfe>\n", &why), 0);
	cr_assert_eq(first_difference("a", "x\ny\n", "b", "x\nz\n", &why), 2);
	free(why);
	cr_assert_eq(first_difference("a", "x\ny\n", "b", "x\ny\nz\n", &why), 3);
	free(why);
	cr_assert_eq(first_difference("a", "x\ny", "b", "x\ny\n", &why), 2);
	free(why);
	cr_assert_eq(first_difference("a", "x 0x1f\n", "b", "y 0x1f\n", &why), 1);
	free(why);

	char *out;
	char *argv[] = {"/bin/sh", "-c", "printf 'one\\ntwo\\n'", NULL};
	int st = run_capture(argv, &out);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert_str_eq(out, "one\ntwo\n");
	free(out);
}
