/*
 * test_unicode.c -- repr() of a str escapes exactly the code points Python
 * 3.11 escapes: every code point, against live python3 where it is there,
 * and a fixed sample everywhere.
 */
#include <criterion/criterion.h>
#include <shmc.h>
#include <string.h>

#include "testutil.h"

/* CP as UTF-8 in BUF (4 bytes at most): its length. */
static size_t utf8(uint32_t cp, char *buf)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | cp >> 6);
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | cp >> 12);
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | cp >> 18);
	buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* shmc's repr of the one-character str CP; the caller frees. */
static char *repr_cp(uint32_t cp)
{
	char buf[4], *s = NULL;
	int rc = shmc_value_repr(shmc_strn(buf, utf8(cp, buf)), &s);
	cr_assert_eq(rc, 0, "repr of U+%04X: %s", cp, shmc_errname(rc));
	return s;
}

Test(unicode, sample_escaped_as_python_3_11)
{
	static const struct {
		uint32_t cp;
		const char *repr;
	} cases[] = {
		{0x41, "'A'"}, {0x7f, "'\\x7f'"}, {0xa0, "'\\xa0'"}, {0xe9, "'\xc3\xa9'"},
		{0xad, "'\\xad'"}, {0x378, "'\\u0378'"}, /* unassigned in Unicode 14 */
		{0x37a, "'\xcd\xba'"}, {0x200b, "'\\u200b'"}, {0x2028, "'\\u2028'"},
		{0x3000, "'\\u3000'"}, {0xfeff, "'\\ufeff'"}, {0xe000, "'\\ue000'"},
		{0xfffd, "'\xef\xbf\xbd'"}, {0x1f600, "'\xf0\x9f\x98\x80'"},
		{0x1f6d7, "'\xf0\x9f\x9b\x97'"}, /* assigned in Unicode 13 */
		{0x1fae8, "'\\U0001fae8'"},     /* assigned in Unicode 15 only */
		{0xe0001, "'\\U000e0001'"}, {0x10ffff, "'\\U0010ffff'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = repr_cp(cases[i].cp);
		cr_expect_str_eq(s, cases[i].repr, "U+%04X", cases[i].cp);
		shmc_free(s);
	}
}

/* Every code point but the surrogates (which UTF-8 cannot hold), against
 * python3's repr of the same one-character string, one line each. */
Test(unicode, every_code_point_as_live_python3, .timeout = 600)
{
	if (!have_python3())
		cr_skip_test("python3 is not installed");
	char *argv[] = {"python3", "-c",
			"import sys, unicodedata\n"
			"if unicodedata.unidata_version != '14.0.0': sys.exit(77)\n"
			"sys.stdout.write('\\n'.join(repr(chr(c)) for c in range(0x110000)))\n",
			NULL};
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 4e3));
	cr_assert(!r.timed_out);
	if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 77)
		cr_skip_test("python3's Unicode database is not 14.0.0 (Python 3.11)");
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s", r.err);
	char *line = r.out, *end = r.out + r.outlen;
	uint32_t mismatches = 0;
	for (uint32_t cp = 0; cp < 0x110000; cp++) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		if (cp < 0xd800 || cp > 0xdfff) {
			char *s = repr_cp(cp);
			if (strlen(s) != n || memcmp(s, line, n) != 0) {
				if (mismatches++ < 10)
					cr_log_error("U+%04X: shmc %s, python %.*s", cp, s, (int)n, line);
			}
			shmc_free(s);
		}
		cr_assert(nl || cp == 0x10ffff, "python3 printed too few lines");
		line = nl ? nl + 1 : end;
	}
	cr_assert_eq(mismatches, 0, "%u code points print differently", mismatches);
	run_free(&r);
}

/* The committed table is what the generator makes from python3's database:
 * nobody edits it by hand. */
Test(unicode, committed_table_matches_generator, .timeout = 600)
{
	if (!have_python3())
		cr_skip_test("python3 is not installed");
	/* The suite runs from the top of the source tree. */
	const char *gen = "tools/gen-printable.py", *tab = "lib/values/printable.h";
	if (access(gen, R_OK) != 0)
		cr_skip_test("not run from the top of a source tree");
	char *argv[] = {"python3", (char *)gen, NULL};
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 4e3));
	cr_assert(!r.timed_out);
	if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1 && strstr(r.err, "want 14.0.0"))
		cr_skip_test("python3's Unicode database is not 14.0.0");
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s", r.err);
	size_t len = 0;
	char *committed = read_file(tab, &len);
	cr_assert(committed, "cannot read %s", tab);
	cr_assert(len == r.outlen && memcmp(committed, r.out, len) == 0,
		  "lib/values/printable.h differs from tools/gen-printable.py's output: "
		  "run make printable-table");
	free(committed);
	run_free(&r);
}
