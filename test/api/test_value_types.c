/*
 * test_value_types.c -- the value types past the first ones: ints of any
 * size, complex, bytearray, set, frozenset and opaque values.
 *
 * Each is stored in a namespace, a list item, a dict value and (when
 * hashable) a dict key and read back in another process; printed as
 * python3 prints it (expected strings here, and live python3 when it is
 * installed); compared and hashed across types as Python does (1 == 1.0 ==
 * True == complex(1, 0), 2**64 == 2.0**64, b'a' == bytearray(b'a'),
 * frozenset({1}) == {1}, each group one dict key); sets iterate in
 * CPython's order after adds and discards (random int sets replayed in
 * python3); atomic adds cross 2**63 from two processes to the exact big
 * total; the arena check is clean afterwards. Failure injection on storing
 * each type is white-box: test/unit/test_values.c.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>

#include "testutil.h"

TestSuite(value_types, .timeout = 120);

/* Helpers ------------------------------------------------------------------ */

/* An int from decimal text (a fixture: abort when it does not parse). */
static shmc_value_t num(const char *s)
{
	shmc_value_t v;
	int rc = shmc_int_from_str(s, strlen(s), 10, &v);
	if (rc) {
		fprintf(stderr, "num(%s): %s\n", s, shmc_errname(rc));
		abort();
	}
	return v;
}

/* repr(V) must be WANT; V is freed. */
static void expect_repr_free(shmc_value_t v, const char *want)
{
	char *s = value_repr(v);
	cr_expect_str_eq(s, want);
	shmc_free(s);
	shmc_value_free(&v);
}

/* Run python3 on SCRIPT; its stdout, split into lines (NUL-terminated, in
 * one buffer the caller frees with run_free(R)). *N gets the count. */
static char **python_lines(const char *script, struct run *r, size_t *n)
{
	char path[] = "/tmp/shmc_test_types_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	size_t len = strlen(script);
	cr_assert_eq(write(fd, script, len), (ssize_t)len);
	close(fd);
	char *argv[] = {"python3", "-I", "-S", path, NULL};
	*r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 1e3));
	unlink(path);
	cr_assert(!r->timed_out && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
		  "python3 failed: %s", r->err);
	size_t cap = 16, k = 0;
	char **lines = malloc(cap * sizeof(*lines));
	for (char *p = r->out; *p;) {
		char *nl = strchr(p, '\n');
		if (k == cap)
			lines = realloc(lines, (cap *= 2) * sizeof(*lines));
		lines[k++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	*n = k;
	return lines;
}

/* A growing Python script. */
struct script {
	char *p;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void py(struct script *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line;
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	if (s->p == NULL)
		s->p = calloc(1, 1);
	buf_add(&s->p, &s->len, line, (size_t)n);
	free(line);
}

/* Printed forms ------------------------------------------------------------ */

struct form {
	const char *py; /* a Python expression */
	shmc_value_t v; /* the same value built in C */
	const char *want;
};

static struct form *forms(size_t *n)
{
	static const char pickle[] = "\x80\x04\x95\x05\x00K\x01.";
	struct form t[] = {
		{"2**64", num("18446744073709551616"), "18446744073709551616"},
		{"-10**30", num("-1000000000000000000000000000000"),
		 "-1000000000000000000000000000000"},
		{"2**63", num("9223372036854775808"), "9223372036854775808"},
		{"-2**63 - 1", num("-9223372036854775809"), "-9223372036854775809"},
		{"-2**63", num("-9223372036854775808"), "-9223372036854775808"},
		{"3**100", num("515377520732011331036461129765621272702107522001"),
		 "515377520732011331036461129765621272702107522001"},
		{"complex(1, 2)", shmc_complex(1, 2), "(1+2j)"},
		{"1j", shmc_complex(0, 1), "1j"},
		{"0j", shmc_complex(0, 0), "0j"},
		{"complex(-0.0, -1)", shmc_complex(-0.0, -1), "(-0-1j)"},
		{"complex(float('nan'), float('inf'))", shmc_complex(NAN, INFINITY),
		 "(nan+infj)"},
		{"complex(1, -float('nan'))", shmc_complex(1, -NAN), "(1+nanj)"},
		{"complex(float('inf'), -float('inf'))", shmc_complex(INFINITY, -INFINITY),
		 "(inf-infj)"},
		{"complex(1e16, 1)", shmc_complex(1e16, 1), "(1e+16+1j)"},
		{"complex(-0.0, 1)", shmc_complex(-0.0, 1), "(-0+1j)"},
		{"complex(1, -0.0)", shmc_complex(1, -0.0), "(1-0j)"},
		{"complex(0.0, -0.0)", shmc_complex(0.0, -0.0), "-0j"},
		{"complex(1.5, 2.25e-7)", shmc_complex(1.5, 2.25e-7), "(1.5+2.25e-07j)"},
		{"complex(1e17, 0)", shmc_complex(1e17, 0), "(1e+17+0j)"},
		{"1e-05j", shmc_complex(0, 1e-5), "1e-05j"},
		{"complex(0.1, 100.0)", shmc_complex(0.1, 100.0), "(0.1+100j)"},
		{"complex(0.0, float('nan'))", shmc_complex(0.0, NAN), "nanj"},
		{"complex(-0.0, float('nan'))", shmc_complex(-0.0, NAN), "(-0+nanj)"},
		{"complex(float('inf'), 0)", shmc_complex(INFINITY, 0), "(inf+0j)"},
		{"complex(-float('inf'), -0.0)", shmc_complex(-INFINITY, -0.0), "(-inf-0j)"},
		{"complex(0, -float('inf'))", shmc_complex(0, -INFINITY), "-infj"},
		{"complex(5e-324, -1e308)", shmc_complex(5e-324, -1e308), "(5e-324-1e+308j)"},
		{"complex(1e22, 1e-7)", shmc_complex(1e22, 1e-7), "(1e+22+1e-07j)"},
		{"bytearray(b'\\x00a')", shmc_bytearray("\0a", 2), "bytearray(b'\\x00a')"},
		{"bytearray()", shmc_bytearray("", 0), "bytearray(b'')"},
		{"bytearray(b\"it's\")", shmc_bytearray("it's", 4), "bytearray(b\"it\\'s\")"},
		{"bytearray(b'a\"b\\'c')", shmc_bytearray("a\"b'c", 5),
		 "bytearray(b'a\"b\\'c')"},
		{"bytearray(b'\\t\\n\\r\\\\\\x7f\\xff')", shmc_bytearray("\t\n\r\\\x7f\xff", 6),
		 "bytearray(b'\\t\\n\\r\\\\\\x7f\\xff')"},
		{"set()", shmc_set_of(0), "set()"},
		{"{1, 2, 3}", shmc_set_of(3, shmc_int(3), shmc_int(1), shmc_int(2)), "{1, 2, 3}"},
		{"set([3, 1, 2, 100, -1, 2**61])",
		 shmc_set_of(6, shmc_int(3), shmc_int(1), shmc_int(2), shmc_int(100),
			     shmc_int(-1), shmc_int(1LL << 61)),
		 "{1, 2, 3, 100, 2305843009213693952, -1}"},
		{"{3, 1, 2, 100, -1, 2**61}", /* a literal: CPython merges a constant */
		 shmc_set_of(6, shmc_int(3), shmc_int(1), shmc_int(2), shmc_int(100),
			     shmc_int(-1), shmc_int(1LL << 61)),
		 "{1, 2, 3, 100, 2305843009213693952, -1}"},
		{"frozenset()", shmc_frozenset_of(0), "frozenset()"},
		{"frozenset({1})", shmc_frozenset_of(1, shmc_int(1)), "frozenset({1})"},
		{"frozenset([2, 1])", shmc_frozenset_of(2, shmc_int(2), shmc_int(1)),
		 "frozenset({1, 2})"},
		{"set([frozenset({1, 2}), frozenset()])",
		 shmc_set_of(2, shmc_frozenset_of(2, shmc_int(1), shmc_int(2)),
			     shmc_frozenset_of(0)),
		 "{frozenset(), frozenset({1, 2})}"},
		{"set([1, 1.0, True, complex(1, 0)])",
		 shmc_set_of(4, shmc_int(1), shmc_float(1.0), shmc_bool(true), shmc_complex(1, 0)),
		 "{1}"},
		{"set([(1, 2), (2, 1), 0.5, 2**64, None is None])",
		 shmc_set_of(5, shmc_tuple_of(2, shmc_int(1), shmc_int(2)),
			     shmc_tuple_of(2, shmc_int(2), shmc_int(1)), shmc_float(0.5),
			     num("18446744073709551616"), shmc_bool(true)),
		 "{0.5, True, (1, 2), (2, 1), 18446744073709551616}"},
		{"[set(), {2**64: 1j}, (bytearray(),)]",
		 shmc_plist_of(3, shmc_set_of(0),
			       shmc_pdict_of(1, num("18446744073709551616"), shmc_complex(0, 1)),
			       shmc_tuple_of(1, shmc_bytearray("", 0))),
		 "[set(), {18446744073709551616: 1j}, (bytearray(b''),)]"},
		{"{frozenset({1}): frozenset()}",
		 shmc_pdict_of(1, shmc_frozenset_of(1, shmc_int(1)), shmc_frozenset_of(0)),
		 "{frozenset({1}): frozenset()}"},
		{"None", shmc_opaque(pickle, sizeof(pickle) - 1, "None"), "None"},
		{"[1, 2]", shmc_opaque("x", 1, "[1, 2]"), "[1, 2]"},
	};
	*n = sizeof(t) / sizeof(t[0]);
	struct form *out = malloc(sizeof(t));
	memcpy(out, t, sizeof(t));
	return out;
}

Test(value_types, printed_forms_are_pythons)
{
	size_t n;
	struct form *t = forms(&n);
	for (size_t i = 0; i < n; i++) {
		char *s = value_repr(t[i].v), *str;
		cr_expect_str_eq(s, t[i].want, "%s", t[i].py);
		ASSERT_OK(shmc_value_str(t[i].v, &str)); /* str() is repr() for these */
		cr_expect_str_eq(str, t[i].want);
		shmc_free(str);
		shmc_free(s);
		shmc_value_free(&t[i].v);
	}
	free(t);
}

Test(value_types, printed_forms_match_live_python3)
{
	if (!have_python3())
		cr_skip("python3 is not on PATH");
	size_t n;
	struct form *t = forms(&n);
	struct script sc = {0};
	py(&sc, "import sys\nvals = [\n");
	for (size_t i = 0; i < n; i++)
		py(&sc, "    %s,\n", t[i].py);
	py(&sc, "]\nfor v in vals:\n    print(repr(v))\n");
	struct run r;
	size_t got;
	char **lines = python_lines(sc.p, &r, &got);
	cr_assert_eq(got, n);
	size_t opaque = 0;
	for (size_t i = 0; i < n; i++) {
		char *s = value_repr(t[i].v);
		cr_expect_str_eq(s, lines[i], "%s: python3 printed %s, shmc %s", t[i].py,
				 lines[i], s);
		opaque += t[i].v.type == SHMC_OPAQUE;
		shmc_free(s);
		shmc_value_free(&t[i].v);
	}
	cr_assert_eq(opaque, 2); /* an opaque value prints the repr it was given */
	free(lines);
	run_free(&r);
	free(sc.p);
	free(t);
}

/* Storing and reading back, in another process ---------------------------- */

enum { NSAMPLES = 19 };

/* Sample I, built the same way in every process. *HASHABLE: whether it
 * can be a dict key. */
static shmc_value_t sample(int i, bool *hashable)
{
	static const char pickle[] = "\x80\x04\x95\x0d\x00\x00\x00\x00\x00\x00\x00}\x94.";
	*hashable = true;
	switch (i) {
	case 0: return num("18446744073709551616");
	case 1: return num("-1000000000000000000000000000000");
	case 2: return num("9223372036854775808");
	case 3: return num("-9223372036854775809");
	case 4: return num("1234567890123456789012345678901234567890123456789012345678901234567"
			   "8901234567890123456789012345678901234567890123456789");
	case 5: return num("-9223372036854775808"); /* an int, not big */
	case 6: return shmc_complex(1, 2);
	case 7: return shmc_complex(-0.0, -1);
	case 8: return shmc_complex(INFINITY, 1e-300);
	case 9: return shmc_frozenset_of(0);
	case 10:
		return shmc_frozenset_of(3, shmc_int(1), shmc_str("a"),
					 shmc_tuple_of(2, shmc_int(1), num("18446744073709551616")));
	case 11: return shmc_opaque(pickle, sizeof(pickle) - 1, "OrderedDict()");
	case 12:
		return shmc_tuple_of(3, num("-18446744073709551617"), shmc_complex(0, 1),
				     shmc_frozenset_of(1, shmc_frozenset_of(1, shmc_int(2))));
	}
	*hashable = false;
	switch (i) {
	case 13: return shmc_bytearray("\0a\xff'", 4);
	case 14: return shmc_bytearray("", 0);
	case 15: return shmc_set_of(0);
	case 16:
		return shmc_set_of(5, shmc_int(3), shmc_int(1), shmc_int(2), shmc_int(100),
				   shmc_int(-1));
	case 17:
		return shmc_set_of(2, shmc_frozenset_of(1, shmc_int(1)), shmc_complex(0, 1));
	default:
		return shmc_plist_of(2, shmc_pdict_of(1, shmc_frozenset_of(1, shmc_int(1)),
						     shmc_set_of(2, shmc_int(1), shmc_int(2))),
				     shmc_tuple_of(2, shmc_bytearray("x", 1), num("-36893488147419103232")));
	}
}

struct stores {
	shmc_obj_t *ns, *ls, *d;
};

/* Whether the value read back is V: equal, and printed the same. */
static bool same(shmc_value_t got, shmc_value_t v)
{
	char *a = value_repr(got), *b = value_repr(v);
	bool ok = shmc_value_eq(got, v) && strcmp(a, b) == 0 && got.type == v.type;
	if (!ok)
		fprintf(stderr, "read %s, stored %s\n", a, b);
	shmc_free(a);
	shmc_free(b);
	return ok;
}

/* Read every sample back from S; 0 when all are there and equal. */
static int read_back(void *arg)
{
	struct stores *s = arg;
	for (int i = 0; i < NSAMPLES; i++) {
		bool hashable;
		shmc_value_t v = sample(i, &hashable), got;
		char name[16];
		snprintf(name, sizeof(name), "a%d", i);
		CHILD_OK(shmc_namespace_get(s->ns, name, &got));
		CHILD_CHECK(same(got, v));
		shmc_value_free(&got);
		CHILD_OK(shmc_list_get(s->ls, i, &got));
		CHILD_CHECK(same(got, v));
		shmc_value_free(&got);
		CHILD_OK(shmc_dict_get(s->d, shmc_int(1000 + i), &got));
		CHILD_CHECK(same(got, v));
		shmc_value_free(&got);
		if (hashable) { /* v -> i, found by an equal key of this process */
			CHILD_OK(shmc_dict_get(s->d, v, &got));
			CHILD_CHECK(got.type == SHMC_INT && got.i == i);
		} else {
			CHILD_CHECK(shmc_dict_get(s->d, v, &got) == SHMC_EUNHASHABLE);
		}
		shmc_value_free(&v);
	}
	return 0;
}

Test(value_types, every_type_is_stored_and_read_back_in_another_process,
     .init = arena_setup, .fini = arena_teardown)
{
	struct stores s;
	ASSERT_OK(shmc_namespace_new(A, &s.ns));
	ASSERT_OK(shmc_list_new(A, &s.ls));
	ASSERT_OK(shmc_dict_new(A, &s.d));
	int keys = 0;
	for (int i = 0; i < NSAMPLES; i++) {
		bool hashable;
		shmc_value_t v = sample(i, &hashable);
		cr_assert_neq(v.type, SHMC_ERROR, "sample %d", i);
		char name[16];
		snprintf(name, sizeof(name), "a%d", i);
		ASSERT_OK(shmc_namespace_set(s.ns, name, v));
		ASSERT_OK(shmc_list_append(s.ls, v));
		ASSERT_OK(shmc_dict_set(s.d, shmc_int(1000 + i), v));
		if (hashable) {
			ASSERT_OK(shmc_dict_set(s.d, v, shmc_int(i)));
			keys++;
		} else {
			ASSERT_ERR(shmc_dict_set(s.d, v, shmc_int(i)), SHMC_EUNHASHABLE);
		}
		shmc_value_free(&v);
	}
	cr_assert_eq(shmc_dict_len(s.d), NSAMPLES + keys);
	cr_assert_eq(read_back(&s), 0); /* here */
	cr_assert_eq(wait_exit(fork_fn(read_back, &s), TEST_DEADLINE), 0); /* and there */

	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	shmc_obj_release(s.ns);
	shmc_obj_release(s.ls);
	shmc_obj_release(s.d);
}

Test(value_types, a_stored_set_reads_back_as_unpickling_rebuilds_it, .init = arena_setup,
     .fini = arena_teardown)
{
	/* Members added in the stored set's iteration order: what python3's
	 * set(list(s)) does. A set whose table grew keeps its order. */
	shmc_value_t s = shmc_set_of(0), got;
	for (int i = 0; i < 40; i++)
		ASSERT_OK(shmc_set_add(&s, shmc_int(i * 37 % 101)));
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, s));
	ASSERT_OK(shmc_list_get(ls, 0, &got));
	char *a = value_repr(s), *b = value_repr(got);
	cr_assert_str_eq(a, b);
	shmc_free(a);
	shmc_free(b);
	shmc_value_free(&got);
	shmc_value_free(&s);
	shmc_obj_release(ls);
}

/* Equality and hashing across types --------------------------------------- */

Test(value_types, numbers_compare_as_python_compares_them)
{
	shmc_value_t two64 = num("18446744073709551616");
	shmc_value_t two64p1 = num("18446744073709551617");
	shmc_value_t m = num("-18446744073709551616");
	shmc_value_t c1 = shmc_complex(1, 0), c1i = shmc_complex(1, 1);
	shmc_value_t c64 = shmc_complex(18446744073709551616.0, 0);
	cr_expect(shmc_value_eq(two64, shmc_float(18446744073709551616.0)));
	cr_expect(shmc_value_eq(shmc_float(18446744073709551616.0), two64));
	cr_expect(!shmc_value_eq(two64p1, shmc_float(18446744073709551616.0)));
	cr_expect(shmc_value_eq(m, shmc_float(-18446744073709551616.0)));
	cr_expect(!shmc_value_eq(m, shmc_float(18446744073709551616.0)));
	cr_expect(!shmc_value_eq(two64, m));
	cr_expect(!shmc_value_eq(two64, shmc_int(INT64_MAX)));
	cr_expect(shmc_value_eq(two64, c64));
	cr_expect(shmc_value_eq(c1, shmc_int(1)));
	cr_expect(shmc_value_eq(c1, shmc_bool(true)));
	cr_expect(shmc_value_eq(shmc_float(1.0), c1));
	cr_expect(!shmc_value_eq(c1i, shmc_int(1)));
	cr_expect(!shmc_value_eq(c1i, c1));
	/* complex(2**53 + 1, 0) is the float 2**53, not the int 2**53 + 1. */
	shmc_value_t c53 = shmc_complex(9007199254740993.0, 0);
	cr_expect(!shmc_value_eq(c53, shmc_int(9007199254740993LL)));
	cr_expect(shmc_value_eq(c53, shmc_int(9007199254740992LL)));
	shmc_value_t cn = shmc_complex(NAN, 0);
	cr_expect(!shmc_value_eq(cn, cn));
	cr_expect(!shmc_value_eq(two64, shmc_float(INFINITY)));
	cr_expect(!shmc_value_eq(two64, shmc_str("18446744073709551616")));
	shmc_value_t all[] = {two64, two64p1, m, c1, c1i, c64, c53, cn};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		shmc_value_free(&all[i]);
}

Test(value_types, equal_values_are_one_key_in_plain_and_managed_dicts,
     .init = arena_setup, .fini = arena_teardown)
{
	/* Python: {1: 'a', 1.0: 'b', True: 'c', complex(1, 0): 'd'} == {1: 'd'};
	 * {2**64: 'a', 2.0**64: 'b', complex(2.0**64, 0): 'c'} == {2**64: 'c'}. */
	shmc_value_t groups[][4] = {
		{shmc_int(1), shmc_float(1.0), shmc_bool(true), shmc_complex(1, 0)},
		{num("18446744073709551616"), shmc_float(18446744073709551616.0),
		 shmc_complex(18446744073709551616.0, 0), num("18446744073709551616")},
		{num("-9223372036854775809"), shmc_float(-9223372036854777856.0 + 2048.0),
		 shmc_complex(-9223372036854775808.0, -0.0), shmc_int(INT64_MIN)},
		{shmc_frozenset_of(2, shmc_int(1), shmc_int(2)),
		 shmc_frozenset_of(2, shmc_float(2.0), shmc_complex(1, 0)),
		 shmc_frozenset_of(2, shmc_bool(true), num("2")),
		 shmc_frozenset_of(2, shmc_int(2), shmc_int(1))},
		{shmc_tuple_of(2, num("18446744073709551616"), shmc_complex(0, 1)),
		 shmc_tuple_of(2, shmc_float(18446744073709551616.0), shmc_complex(0, 1)),
		 shmc_tuple_of(2, shmc_complex(18446744073709551616.0, 0), shmc_complex(0, 1)),
		 shmc_tuple_of(2, num("18446744073709551616"), shmc_complex(-0.0, 1))},
	};
	/* Row 2: -2**63 - 1 is big; -2.0**63 and complex(-2.0**63) equal the
	 * int -2**63, which is not the big int: two keys. */
	size_t want_keys[] = {1, 1, 2, 1, 1};
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		shmc_value_t pd = shmc_pdict_of(0);
		for (int k = 0; k < 4; k++) {
			cr_assert_neq(groups[g][k].type, SHMC_ERROR);
			ASSERT_OK(shmc_dict_set(d, groups[g][k], shmc_int(k)));
			shmc_value_t key;
			ASSERT_OK(shmc_value_copy(groups[g][k], &key));
			ASSERT_OK(shmc_pdict_set(&pd, key, shmc_int(k)));
		}
		cr_expect_eq(shmc_dict_len(d), (int64_t)want_keys[g], "group %zu", g);
		cr_expect_eq(shmc_pdict_len(pd), want_keys[g], "group %zu", g);
		for (int k = 0; k < 4; k++) { /* each finds its own group's last value */
			shmc_value_t got;
			ASSERT_OK(shmc_dict_get(d, groups[g][k], &got));
			shmc_value_t *pv = shmc_pdict_get(pd, groups[g][k]);
			cr_assert_not_null(pv);
			if (want_keys[g] == 1) {
				cr_expect_eq(got.i, 3);
				cr_expect_eq(pv->i, 3);
			}
		}
		ASSERT_OK(shmc_dict_clear(d));
		shmc_value_free(&pd);
		for (int k = 0; k < 4; k++)
			shmc_value_free(&groups[g][k]);
	}
	shmc_obj_release(d);
}

Test(value_types, bytes_equal_bytearray_which_is_unhashable, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_value_t ba = shmc_bytearray("ab", 2), b = shmc_bytes("ab", 2);
	cr_expect(shmc_value_eq(ba, b));
	cr_expect(shmc_value_eq(b, ba));
	cr_expect(!shmc_value_eq(ba, shmc_str("ab")));
	cr_expect(!shmc_value_eq(ba, shmc_bytearray("abc", 3)));
	shmc_obj_t *d, *ls;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_ERR(shmc_dict_set(d, ba, shmc_int(1)), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_dict_get(d, ba, &(shmc_value_t){0}), SHMC_EUNHASHABLE);
	shmc_value_t pd = shmc_pdict_of(0);
	ASSERT_ERR(shmc_pdict_set(&pd, ba, shmc_int(1)), SHMC_EUNHASHABLE);
	shmc_value_t s = shmc_set_of(0);
	ASSERT_ERR(shmc_set_add(&s, ba), SHMC_EUNHASHABLE);
	shmc_value_t bad = shmc_frozenset_of(1, shmc_bytearray("x", 1));
	cr_assert_eq(bad.type, SHMC_ERROR);
	cr_assert_eq(bad.i, SHMC_EUNHASHABLE);
	/* A stored bytearray equals bytes where it lies (list.index). */
	ASSERT_OK(shmc_list_append(ls, shmc_int(0)));
	ASSERT_OK(shmc_list_append(ls, ba));
	cr_expect_eq(shmc_list_index(ls, b), 1);
	ASSERT_OK(shmc_list_set(ls, 0, b));
	cr_expect_eq(shmc_list_index(ls, ba), 0);
	shmc_value_free(&pd);
	shmc_value_free(&s);
	shmc_obj_release(d);
	shmc_obj_release(ls);
}

Test(value_types, sets_equal_frozensets_and_only_frozensets_are_keys, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_value_t s = shmc_set_of(3, shmc_int(1), shmc_str("x"), shmc_float(2.5));
	shmc_value_t f = shmc_frozenset_of(3, shmc_float(2.5), shmc_int(1), shmc_str("x"));
	shmc_value_t g = shmc_frozenset_of(2, shmc_float(2.5), shmc_int(1));
	cr_expect(shmc_value_eq(s, f));
	cr_expect(shmc_value_eq(f, s));
	cr_expect(!shmc_value_eq(f, g));
	shmc_value_t empty_tuple = shmc_tuple_of(0), empty_list = shmc_plist_of(0);
	shmc_value_t empty_frozen = shmc_frozenset_of(0);
	cr_expect(!shmc_value_eq(s, empty_tuple));
	cr_expect_eq(shmc_set_len(s), 3);
	cr_expect_eq(shmc_set_contains(s, shmc_float(1.0)), 1);
	cr_expect_eq(shmc_set_contains(f, shmc_str("y")), 0);
	ASSERT_ERR(shmc_set_contains(f, empty_list), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_set_contains(shmc_int(1), shmc_int(1)), SHMC_ETYPE);
	/* A set argument is looked up as the frozenset it equals (CPython). */
	shmc_value_t ss = shmc_set_of(1, shmc_frozenset_of(1, shmc_int(1)));
	shmc_value_t probe = shmc_set_of(1, shmc_int(1));
	cr_expect_eq(shmc_set_contains(ss, probe), 1);
	cr_expect_eq(shmc_set_discard(&ss, probe), 1);
	cr_expect_eq(shmc_set_len(ss), 0);
	/* Frozensets are immutable; sets cannot be keys. */
	ASSERT_ERR(shmc_set_add(&f, shmc_int(9)), SHMC_ETYPE);
	ASSERT_ERR(shmc_set_discard(&f, shmc_int(1)), SHMC_ETYPE);

	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_ERR(shmc_dict_set(d, s, shmc_int(1)), SHMC_EUNHASHABLE);
	ASSERT_OK(shmc_dict_set(d, f, shmc_str("f")));
	ASSERT_OK(shmc_dict_set(d, g, shmc_str("g")));
	shmc_value_t got;
	shmc_value_t f2 = shmc_frozenset_of(3, shmc_str("x"), shmc_int(1), shmc_float(2.5));
	ASSERT_OK(shmc_dict_get(d, f2, &got));
	expect_repr_free(got, "'f'");
	cr_expect_eq(shmc_dict_has(d, empty_frozen), 0);
	/* A set equals the frozenset key, but is unhashable as a lookup key
	 * too (Python: TypeError). */
	ASSERT_ERR(shmc_dict_get(d, s, &got), SHMC_EUNHASHABLE);
	/* Frozen in place, a set becomes a key. */
	ASSERT_OK(shmc_set_freeze(&s));
	cr_expect_eq(s.type, SHMC_FROZENSET);
	ASSERT_OK(shmc_dict_get(d, s, &got));
	expect_repr_free(got, "'f'");
	shmc_value_t all[] = {s, f, g, ss, probe, f2, empty_tuple, empty_list, empty_frozen};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		shmc_value_free(&all[i]);
	shmc_obj_release(d);
}

Test(value_types, opaque_values_are_equal_by_their_bytes, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_value_t a = shmc_opaque("\x80\x04K\x01.", 5, "Thing(1)");
	shmc_value_t b = shmc_opaque("\x80\x04K\x01.", 5, "another repr");
	shmc_value_t c = shmc_opaque("\x80\x04K\x02.", 5, "Thing(1)");
	cr_expect(shmc_value_eq(a, b)); /* the bytes decide */
	cr_expect(!shmc_value_eq(a, c));
	cr_expect(!shmc_value_eq(a, shmc_bytes("\x80\x04K\x01.", 5)));
	size_t len;
	const char *p = shmc_opaque_data(a, &len);
	cr_assert_eq(len, 5);
	cr_expect(memcmp(p, "\x80\x04K\x01.", 5) == 0);
	cr_expect_str_eq(shmc_opaque_repr(b), "another repr");
	cr_expect_null(shmc_opaque_repr(shmc_int(1)));
	cr_expect_null(shmc_opaque_data(shmc_int(1), &len));
	shmc_value_t e1 = shmc_opaque(NULL, 1, "x"), e2 = shmc_opaque("x", 1, NULL);
	shmc_value_t e3 = shmc_opaque("x", 1, "\xff");
	cr_expect(e1.type == SHMC_ERROR && e1.i == -EINVAL);
	cr_expect(e2.type == SHMC_ERROR && e2.i == -EINVAL);
	cr_expect(e3.type == SHMC_ERROR && e3.i == -EILSEQ);
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, a, shmc_int(1)));
	ASSERT_OK(shmc_dict_set(d, b, shmc_int(2))); /* the same key */
	ASSERT_OK(shmc_dict_set(d, c, shmc_int(3)));
	cr_expect_eq(shmc_dict_len(d), 2);
	char *s = obj_str(d);
	cr_expect_str_eq(s, "{Thing(1): 2, Thing(1): 3}");
	shmc_free(s);
	shmc_value_free(&a);
	shmc_value_free(&b);
	shmc_value_free(&c);
	shmc_obj_release(d);
}

/* Set order --------------------------------------------------------------- */

/* A member for a random set: ints of several shapes (small, colliding
 * multiples, near 2**61 where hashes wrap, big), floats, bools, complex,
 * tuples and frozensets of ints. SRC gets its Python form. */
static shmc_value_t random_member(uint64_t r, char *src, size_t n)
{
	int64_t k = (int64_t)(r >> 8) % 200 - 100;
	switch (r % 10) {
	case 0:
	case 1:
	case 2:
		snprintf(src, n, "%lld", (long long)k);
		return shmc_int(k);
	case 3:
		snprintf(src, n, "%lld", (long long)(k * 64));
		return shmc_int(k * 64);
	case 4:
		snprintf(src, n, "%lld", (long long)((1LL << 61) + k));
		return shmc_int((1LL << 61) + k);
	case 5: {
		char dec[64];
		snprintf(dec, sizeof(dec), "%s18446744073709551%03lld", k < 0 ? "-" : "",
			 (long long)(k < 0 ? -k : k));
		snprintf(src, n, "%s", dec);
		return num(dec);
	}
	case 6:
		snprintf(src, n, "%lld.5", (long long)k);
		return shmc_float((double)k + (k < 0 ? -0.5 : 0.5));
	case 7:
		snprintf(src, n, "(%lld, %lld)", (long long)k, (long long)(k % 7));
		return shmc_tuple_of(2, shmc_int(k), shmc_int(k % 7));
	case 8:
		snprintf(src, n, "frozenset([%lld, %lld])", (long long)k, (long long)(k / 3));
		return shmc_frozenset_of(2, shmc_int(k), shmc_int(k / 3));
	default:
		if (k % 3 == 0) {
			snprintf(src, n, "%s", k % 2 ? "True" : "False");
			return shmc_bool(k % 2);
		}
		snprintf(src, n, "complex(%lld, %lld)", (long long)k, (long long)(k % 5));
		return shmc_complex((double)k, (double)(k % 5));
	}
}

Test(value_types, set_order_matches_python3_after_adds_and_discards)
{
	if (!have_python3())
		cr_skip("python3 is not on PATH");
	enum { NCASES = 80 };
	struct script sc = {0};
	char *mine[NCASES];
	py(&sc, "def run(ops):\n"
		"    s = set()\n"
		"    for add, x in ops:\n"
		"        s.add(x) if add else s.discard(x)\n"
		"    print(repr(s))\n");
	for (int c = 0; c < NCASES; c++) {
		uint64_t seed = mix64(0x5e7 + (uint64_t)c);
		int nops = 1 + (int)(seed % (c < 40 ? 30 : 300));
		shmc_value_t s = shmc_set_of(0);
		py(&sc, "run([");
		for (int i = 0; i < nops; i++) {
			uint64_t r = mix64(seed + (uint64_t)i);
			char src[96];
			shmc_value_t m = random_member(r >> 4, src, sizeof(src));
			bool add = (r & 15) > 3; /* a quarter are discards */
			py(&sc, "(%d, %s), ", add, src);
			if (add) {
				ASSERT_OK(shmc_set_add(&s, m));
			} else {
				cr_assert_geq(shmc_set_discard(&s, m), 0);
				shmc_value_free(&m);
			}
		}
		py(&sc, "])\n");
		mine[c] = value_repr(s);
		shmc_value_free(&s);
	}
	struct run r;
	size_t got;
	char **lines = python_lines(sc.p, &r, &got);
	cr_assert_eq(got, NCASES);
	int mismatches = 0;
	for (int c = 0; c < NCASES; c++) {
		if (strcmp(mine[c], lines[c]) != 0) {
			cr_log_error("case %d: python3 printed\n  %s\nshmc printed\n  %s", c,
				     lines[c], mine[c]);
			mismatches++;
		}
		shmc_free(mine[c]);
	}
	cr_assert_eq(mismatches, 0);
	free(lines);
	run_free(&r);
	free(sc.p);
}

Test(value_types, frozenset_order_and_nested_sets_match_python3)
{
	if (!have_python3())
		cr_skip("python3 is not on PATH");
	/* frozenset([...]) adds in order like set([...]); sets of frozensets
	 * place them by CPython's frozenset hash. */
	enum { NCASES = 30 };
	struct script sc = {0};
	char *mine[NCASES];
	for (int c = 0; c < NCASES; c++) {
		uint64_t seed = mix64(0xf502e + (uint64_t)c);
		int outer = 1 + (int)(seed % 12);
		shmc_value_t s = shmc_set_of(0);
		py(&sc, "print(repr(frozenset([");
		for (int i = 0; i < outer; i++) {
			uint64_t r = mix64(seed ^ (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull);
			int inner = (int)(r % 5);
			shmc_value_t f = shmc_set_of(0);
			py(&sc, "frozenset([");
			for (int j = 0; j < inner; j++) {
				int64_t x = (int64_t)(mix64(r + (uint64_t)j) % 40) - 20;
				py(&sc, "%lld, ", (long long)x);
				ASSERT_OK(shmc_set_add(&f, shmc_int(x)));
			}
			py(&sc, "]), ");
			ASSERT_OK(shmc_set_freeze(&f));
			ASSERT_OK(shmc_set_add(&s, f));
		}
		py(&sc, "])))\n");
		ASSERT_OK(shmc_set_freeze(&s));
		mine[c] = value_repr(s);
		shmc_value_free(&s);
	}
	struct run r;
	size_t got;
	char **lines = python_lines(sc.p, &r, &got);
	cr_assert_eq(got, NCASES);
	for (int c = 0; c < NCASES; c++) {
		cr_expect_str_eq(mine[c], lines[c], "case %d", c);
		shmc_free(mine[c]);
	}
	free(lines);
	run_free(&r);
	free(sc.p);
}

Test(value_types, set_members_iterate_in_table_order_and_a_copy_keeps_it)
{
	shmc_value_t s = shmc_set_of(0);
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_set_add(&s, shmc_int(i * 1024)));
	for (int i = 0; i < 100; i += 3)
		cr_assert_eq(shmc_set_discard(&s, shmc_int(i * 1024)), 1);
	cr_assert_eq(shmc_set_discard(&s, shmc_int(5)), 0);
	cr_assert_eq(shmc_set_len(s), 66);
	shmc_value_t c;
	ASSERT_OK(shmc_value_copy(s, &c));
	size_t pa = 0, pb = 0, n = 0;
	shmc_value_t *a, *b;
	while ((a = shmc_set_next(s, &pa)) != NULL) {
		b = shmc_set_next(c, &pb);
		cr_assert_not_null(b);
		cr_assert(shmc_value_eq(*a, *b));
		cr_assert_eq(shmc_set_contains(c, *a), 1);
		n++;
	}
	cr_assert_null(shmc_set_next(c, &pb));
	cr_assert_eq(n, 66);
	cr_assert_null(shmc_set_next(shmc_int(1), &pa));
	shmc_value_free(&s);
	shmc_value_free(&c);
}

/* Ints of any size ------------------------------------------------------- */

Test(value_types, int_from_str_reads_what_python_int_reads)
{
	struct {
		const char *s;
		int base;
		const char *want; /* NULL: -EINVAL */
	} t[] = {
		{"0", 10, "0"}, {" -12 ", 10, "-12"}, {"+7", 0, "7"},
		{"9223372036854775807", 10, "9223372036854775807"},
		{"9223372036854775808", 10, "9223372036854775808"},
		{"-9223372036854775808", 10, "-9223372036854775808"},
		{"1_000_000_000_000_000_000_000", 10, "1000000000000000000000"},
		{"0x_ffff_ffff_ffff_ffff_f", 0, "295147905179352825855"},
		{"0b1" "0000000000000000000000000000000000000000000000000000000000000000", 0,
		 "18446744073709551616"},
		{"0o777", 8, "511"}, {"0XfF", 16, "255"}, {"zz", 36, "1295"},
		{"0b1", 16, "177"}, {"00", 0, "0"}, {"0_0", 0, "0"}, {"-0", 10, "0"},
		{"\t\n12\v", 10, "12"},
		{"", 10, NULL}, {"-", 10, NULL}, {"_1", 10, NULL}, {"1_", 10, NULL},
		{"1__2", 10, NULL}, {"010", 0, NULL}, {"0x", 16, NULL}, {"0x_", 0, NULL},
		{"12a", 10, NULL}, {"- 1", 10, NULL}, {"2", 2, NULL}, {"1", 37, NULL},
		{"1", 1, NULL}, {"1.0", 10, NULL}, {"0x1", 10, NULL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		shmc_value_t v = shmc_none();
		int rc = shmc_int_from_str(t[i].s, strlen(t[i].s), t[i].base, &v);
		if (t[i].want == NULL) {
			cr_expect_eq(rc, -EINVAL, "'%s' base %d: %s", t[i].s, t[i].base,
				     shmc_errname(rc));
			cr_expect_eq(v.type, SHMC_NONE); /* not written */
			continue;
		}
		cr_assert_eq(rc, 0, "'%s' base %d: %s", t[i].s, t[i].base, shmc_errname(rc));
		/* Canonical: an int when it fits. */
		bool fits = strlen(t[i].want) < 19 || strcmp(t[i].want, "9223372036854775807") == 0 ||
			    strcmp(t[i].want, "-9223372036854775808") == 0;
		cr_expect_eq(v.type, fits ? SHMC_INT : SHMC_BIGINT, "'%s'", t[i].s);
		expect_repr_free(v, t[i].want);
	}
	ASSERT_ERR(shmc_int_from_str(NULL, 0, 10, &(shmc_value_t){0}), -EINVAL);
	ASSERT_ERR(shmc_int_from_str("1", 1, 10, NULL), -EINVAL);
}

Test(value_types, int_text_and_bytes_round_trip_as_in_python3)
{
	if (!have_python3())
		cr_skip("python3 is not on PATH");
	enum { N = 200 };
	struct script sc = {0};
	char *mine[N];
	py(&sc, "for x, b in [\n");
	for (int i = 0; i < N; i++) {
		/* Random lengths up to 40 bytes, both signs, edges of int64. */
		unsigned char bytes[40];
		size_t n = i < 8 ? 8 : 1 + mix64((uint64_t)i) % sizeof(bytes);
		for (size_t k = 0; k < n; k++)
			bytes[k] = (unsigned char)(mix64((uint64_t)(i * 64) + k) >> 17);
		if (i < 8) /* 2**63 - 1 + {0, 1}, -2**63 - {0, 1}, 0, -1 ... */
			memset(bytes, i % 2 ? 0xff : 0, 8), bytes[7] ^= (unsigned char)(i < 4 ? 0x80 : 0);
		shmc_value_t v;
		ASSERT_OK(shmc_int_from_bytes(bytes, n, &v));
		py(&sc, "  (int.from_bytes(bytes.fromhex('");
		for (size_t k = 0; k < n; k++)
			py(&sc, "%02x", bytes[k]);
		py(&sc, "'), 'little', signed=True), %zu),\n", n);
		/* Back to bytes at the smallest length, and to text in 4 bases. */
		size_t bl = shmc_int_byte_len(v);
		unsigned char back[48];
		ASSERT_OK(shmc_int_to_bytes(v, back, bl));
		if (bl > 1)
			ASSERT_ERR(shmc_int_to_bytes(v, back, bl - 1), -ERANGE);
		shmc_value_t again;
		ASSERT_OK(shmc_int_from_bytes(back, bl, &again));
		cr_assert(shmc_value_eq(v, again));
		shmc_value_free(&again);
		char *t10, *t2, *t16, *t36, line[4096];
		ASSERT_OK(shmc_int_to_str(v, 10, &t10));
		ASSERT_OK(shmc_int_to_str(v, 2, &t2));
		ASSERT_OK(shmc_int_to_str(v, 16, &t16));
		ASSERT_OK(shmc_int_to_str(v, 36, &t36));
		char hex[100] = "";
		for (size_t k = 0; k < bl; k++)
			snprintf(hex + 2 * k, 3, "%02x", back[k]);
		snprintf(line, sizeof(line), "%s %zu %s %s %s %s", t10, bl, hex, t2, t16, t36);
		mine[i] = strdup(line);
		char *r = value_repr(v);
		cr_assert_str_eq(r, t10);
		/* Text back to the same int. */
		ASSERT_OK(shmc_int_from_str(t36, strlen(t36), 36, &again));
		cr_assert(shmc_value_eq(v, again));
		shmc_value_free(&again);
		shmc_free(r);
		shmc_free(t10);
		shmc_free(t2);
		shmc_free(t16);
		shmc_free(t36);
		shmc_value_free(&v);
	}
	py(&sc, "]:\n"
		"    k = 1\n"
		"    while not -(1 << (8 * k - 1)) <= x < (1 << (8 * k - 1)): k += 1\n"
		"    def base(x, b):\n"
		"        d = '0123456789abcdefghijklmnopqrstuvwxyz'; s = ''; y = abs(x)\n"
		"        while True:\n"
		"            s = d[y %% b] + s; y //= b\n"
		"            if not y: break\n"
		"        return ('-' if x < 0 else '') + s\n"
		"    print(x, k, x.to_bytes(k, 'little', signed=True).hex(), base(x, 2),\n"
		"          base(x, 16), base(x, 36))\n");
	struct run r;
	size_t got;
	char **lines = python_lines(sc.p, &r, &got);
	cr_assert_eq(got, N);
	for (int i = 0; i < N; i++) {
		cr_expect_str_eq(mine[i], lines[i], "case %d", i);
		free(mine[i]);
	}
	free(lines);
	run_free(&r);
	free(sc.p);
}

Test(value_types, int_conversions_refuse_what_is_not_an_int)
{
	unsigned char b[8];
	cr_expect_eq(shmc_int_byte_len(shmc_float(1.0)), 0);
	cr_expect_eq(shmc_int_byte_len(shmc_bool(true)), 1);
	ASSERT_ERR(shmc_int_to_bytes(shmc_float(1.0), b, 8), SHMC_ETYPE);
	ASSERT_ERR(shmc_int_to_bytes(shmc_int(1), NULL, 8), -EINVAL);
	ASSERT_ERR(shmc_int_to_bytes(shmc_int(128), b, 1), -ERANGE);
	ASSERT_OK(shmc_int_to_bytes(shmc_int(-128), b, 1));
	cr_expect_eq(b[0], 0x80);
	ASSERT_ERR(shmc_int_to_str(shmc_str("1"), 10, &(char *){0}), SHMC_ETYPE);
	ASSERT_ERR(shmc_int_to_str(shmc_int(1), 1, &(char *){0}), -EINVAL);
	ASSERT_ERR(shmc_int_to_str(shmc_int(1), 37, &(char *){0}), -EINVAL);
	ASSERT_ERR(shmc_int_from_bytes(NULL, 1, &(shmc_value_t){0}), -EINVAL);
	shmc_value_t z;
	ASSERT_OK(shmc_int_from_bytes(NULL, 0, &z));
	cr_expect(z.type == SHMC_INT && z.i == 0);
	double re, im;
	ASSERT_ERR(shmc_complex_parts(shmc_float(1), &re, &im), SHMC_ETYPE);
	shmc_value_t c = shmc_complex(1.5, -2);
	ASSERT_OK(shmc_complex_parts(c, &re, &im));
	cr_expect(re == 1.5 && im == -2);
	ASSERT_OK(shmc_complex_parts(c, NULL, NULL));
	shmc_value_free(&c);
}

/* Atomic add past 64 bits -------------------------------------------------- */

struct adders {
	shmc_obj_t *ns, *ls, *d;
	int rounds;
};

static int add_2_62(int rank, void *arg)
{
	(void)rank;
	struct adders *a = arg;
	shmc_value_t q = shmc_int(1LL << 62);
	for (int i = 0; i < a->rounds; i++) {
		shmc_value_t res;
		CHILD_OK(shmc_namespace_add(a->ns, "n", q, NULL));
		CHILD_OK(shmc_list_add(a->ls, 0, q, &res));
		shmc_value_free(&res); /* a big int past the first rounds */
		CHILD_OK(shmc_dict_add(a->d, shmc_str("k"), q, NULL));
	}
	return 0;
}

Test(value_types, atomic_add_from_two_processes_crosses_2_63_exactly, .init = arena_setup,
     .fini = arena_teardown)
{
	struct adders a = {.rounds = 200};
	ASSERT_OK(shmc_namespace_new(A, &a.ns));
	ASSERT_OK(shmc_list_new(A, &a.ls));
	ASSERT_OK(shmc_dict_new(A, &a.d));
	ASSERT_OK(shmc_namespace_set(a.ns, "n", shmc_int(0)));
	ASSERT_OK(shmc_list_append(a.ls, shmc_int(-1)));
	ASSERT_OK(shmc_dict_set(a.d, shmc_str("k"), shmc_int(0)));
	cr_assert_eq(run_children(2, add_2_62, &a), 0);
	/* 2 x 200 x 2**62 = 100 x 2**64 */
	shmc_value_t want = num("1844674407370955161600"), wantm1 = num("1844674407370955161599");
	shmc_value_t got;
	ASSERT_OK(shmc_namespace_get(a.ns, "n", &got));
	cr_expect(shmc_value_eq(got, want));
	expect_repr_free(got, "1844674407370955161600");
	ASSERT_OK(shmc_list_get(a.ls, 0, &got));
	cr_expect(shmc_value_eq(got, wantm1));
	shmc_value_free(&got);
	ASSERT_OK(shmc_dict_get(a.d, shmc_str("k"), &got));
	cr_expect(shmc_value_eq(got, want));
	shmc_value_free(&got);

	/* ... and back below 2**63: the canonical int again. */
	shmc_value_t neg = num("-1844674407370955161599");
	shmc_value_t res;
	ASSERT_OK(shmc_list_add(a.ls, 0, neg, &res));
	cr_expect(res.type == SHMC_INT && res.i == 0);
	ASSERT_OK(shmc_list_get(a.ls, 0, &got));
	cr_expect(got.type == SHMC_INT && got.i == 0);
	shmc_value_free(&neg);
	shmc_value_free(&want);
	shmc_value_free(&wantm1);
	shmc_obj_release(a.ns);
	shmc_obj_release(a.ls);
	shmc_obj_release(a.d);
}

Test(value_types, add_mixes_big_ints_floats_and_complex_as_python, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	shmc_value_t res;
	/* INT64_MAX + 1 = 2**63, a big int; + 0.5 a float. */
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(INT64_MAX)));
	ASSERT_OK(shmc_namespace_add(ns, "x", shmc_bool(true), &res));
	expect_repr_free(res, "9223372036854775808");
	ASSERT_OK(shmc_namespace_add(ns, "x", shmc_float(0.5), &res));
	expect_repr_free(res, "9.223372036854776e+18");
	/* big + complex is complex */
	shmc_value_t big = num("18446744073709551616");
	ASSERT_OK(shmc_namespace_set(ns, "x", big));
	shmc_value_t j = shmc_complex(0, 1);
	ASSERT_OK(shmc_namespace_add(ns, "x", j, &res));
	expect_repr_free(res, "(1.8446744073709552e+19+1j)");
	ASSERT_OK(shmc_namespace_add(ns, "x", shmc_int(1), &res));
	expect_repr_free(res, "(1.8446744073709552e+19+1j)");
	/* int + big: the delta may be big too */
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(-5)));
	ASSERT_OK(shmc_namespace_add(ns, "x", big, &res));
	expect_repr_free(res, "18446744073709551611");
	/* 2**1100 + 0.5: OverflowError, nothing changed */
	char huge[400] = "1";
	for (int i = 0; i < 331; i++)
		strcat(huge, "0"); /* 10**331 > 2**1024 */
	shmc_value_t h = num(huge);
	ASSERT_OK(shmc_namespace_set(ns, "x", h));
	ASSERT_ERR(shmc_namespace_add(ns, "x", shmc_float(0.5), &res), -ERANGE);
	ASSERT_ERR(shmc_namespace_add(ns, "x", j, &res), -ERANGE);
	ASSERT_OK(shmc_namespace_get(ns, "x", &res));
	cr_expect(shmc_value_eq(res, h));
	shmc_value_free(&res);
	ASSERT_ERR(shmc_namespace_add(ns, "x", shmc_str("1"), &res), SHMC_ETYPE);
	ASSERT_ERR(shmc_namespace_add(ns, "x", shmc_bytearray("1", 1), &res), SHMC_ETYPE);
	shmc_value_free(&h);
	shmc_value_free(&big);
	shmc_value_free(&j);
	shmc_obj_release(ns);
}

Test(value_types, c_numbers_refuse_big_ints_but_doubles_take_them, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_value_t big = num("18446744073709551616"), got;
	shmc_obj_t *q, *d;
	ASSERT_ERR(shmc_cvalue_new(A, 'q', big, &q), -ERANGE);
	ASSERT_OK(shmc_cvalue_new(A, 'q', shmc_int(1), &q));
	ASSERT_ERR(shmc_cvalue_set(q, big), -ERANGE);
	ASSERT_ERR(shmc_cvalue_add(q, big, &got), -ERANGE);
	ASSERT_OK(shmc_cvalue_new(A, 'd', big, &d));
	ASSERT_OK(shmc_cvalue_add(d, big, &got));
	cr_expect(got.type == SHMC_FLOAT && got.f == 36893488147419103232.0);
	shmc_value_t c = shmc_complex(1, 0);
	ASSERT_ERR(shmc_cvalue_set(d, c), SHMC_ETYPE);
	shmc_value_free(&c);
	shmc_value_free(&big);
	shmc_obj_release(q);
	shmc_obj_release(d);
}

/* Limits ----------------------------------------------------------------- */

Test(value_types, nesting_limit_applies_to_sets, .init = arena_setup,
     .fini = arena_teardown)
{
	/* frozenset(frozenset(... 1 ...)): hashing a member 512 deep is
	 * refused, as storing one is. */
	shmc_value_t v = shmc_int(1);
	int depth = 0;
	while (v.type != SHMC_ERROR && depth < 600) {
		v = shmc_frozenset_of(1, v);
		depth++;
	}
	cr_assert_eq(v.type, SHMC_ERROR);
	cr_assert_eq(v.i, SHMC_EDEPTH);
	cr_assert_gt(depth, 500);
	/* A list of sets nested the other way stores up to the limit. */
	shmc_value_t l = shmc_set_of(1, shmc_int(0));
	for (int i = 0; i < 520; i++)
		l = shmc_plist_of(1, l);
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_ERR(shmc_namespace_set(ns, "deep", l), SHMC_EDEPTH);
	char *s;
	ASSERT_ERR(shmc_value_repr(l, &s), SHMC_EDEPTH);
	shmc_value_free(&l);
	shmc_obj_release(ns);
}

/* Looking inside: JSON and the arena check -------------------------------- */

Test(value_types, view_dumps_each_type_as_json_and_python_text)
{
	char name[64], path[128];
	unique_name(name, sizeof(name), path, sizeof(path), "types");
	shmc_arena_t *a = test_named_arena(name, 8 << 20);
	shmc_obj_t *ns;
	ASSERT_OK(shmc_root_find_or_create(a, "ns", SHMC_KIND_NAMESPACE, &ns));
	shmc_value_t vals[] = {
		num("-18446744073709551617"), shmc_complex(1, NAN), shmc_bytearray("a\x01", 2),
		shmc_set_of(2, shmc_int(2), shmc_int(1)),
		shmc_frozenset_of(1, shmc_tuple_of(1, shmc_int(1))),
		shmc_opaque("\x00\xff", 2, "Obj(\"\xc3\xa9\")"),
	};
	const char *names[] = {"big", "c", "ba", "s", "f", "o"};
	for (int i = 0; i < 6; i++) {
		ASSERT_OK(shmc_namespace_set(ns, names[i], vals[i]));
		shmc_value_free(&vals[i]);
	}
	shmc_view_t *v;
	ASSERT_OK(shmc_view_open(name, &v));
	char *json, *text;
	ASSERT_OK(shmc_view_dump(v, "ns", SHMC_VIEW_JSON, &json));
	ASSERT_OK(shmc_view_dump(v, "ns", 0, &text));
	cr_expect(strstr(json, "\"big\": -18446744073709551617") != NULL, "%s", json);
	cr_expect(strstr(json, "\"c\": {\"complex\": [1.0, \"nan\"]}") != NULL, "%s", json);
	cr_expect(strstr(json, "\"ba\": {\"bytearray\": \"6101\"}") != NULL, "%s", json);
	cr_expect(strstr(json, "\"s\": {\"set\": [1, 2]}") != NULL, "%s", json);
	cr_expect(strstr(json, "\"f\": {\"frozenset\": [{\"tuple\": [1]}]}") != NULL, "%s",
		  json);
	cr_expect(strstr(json, "\"o\": {\"opaque\": \"00ff\", \"repr\": \"Obj(\\\"\xc3\xa9\\\")\"}") !=
			  NULL,
		  "%s", json);
	cr_expect_str_eq(text, "Namespace(ba=bytearray(b'a\\x01'), big=-18446744073709551617, "
			       "c=(1+nanj), f=frozenset({(1,)}), o=Obj(\"\xc3\xa9\"), s={1, 2})");
	if (have_python3()) { /* valid JSON */
		char *argv[] = {"python3", "-I", "-S", "-c", "import json, sys; json.load(sys.stdin)",
				NULL};
		struct run r = run_input(argv, json, strlen(json), (int)(TEST_DEADLINE * 1e3));
		cr_expect(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s", r.err);
		run_free(&r);
	}
	shmc_free(json);
	shmc_free(text);
	shmc_view_close(v);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check_file(name, &rep, print_finding, NULL));
	cr_expect_eq(rep.errors, 0);
	shmc_obj_release(ns);
	shmc_arena_close(a);
	files_cleanup();
}
