/*
 * test_value_order.c -- Python's "<" (shmc_value_lt) for the value types
 * beyond the first ones: big ints against ints, bools and floats, exactly;
 * complex numbers (never ordered); bytearray with bytes; sets and
 * frozensets (proper subsets, a partial order), and what shmc_list_sort
 * makes of them. Every expected string is what python3 (3.11) printed for
 * the same values; where python3 is installed it is asked again.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

TestSuite(value_order, .timeout = 120);

/* What python3 printed for the tests below (its scripts are built from the
 * same tables). */
#define WANT_NUMBERS \
	"FFFTTTTFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"FFFTTTTFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"TTFTTTTFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"FFFFTTTFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"FFFFFFFFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"FFFFTFTFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"FFFFFFFFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"TTTTTTTFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"TTTTTTTFFFFFFFFFFFFTTTTFFFFFFF\n" \
	"TTTTTTTTTFFFFFFFFFFTTTTFFFFFFF\n" \
	"TTTTTTTTTTFFFFFFFFFTTTTFFTTTTT\n" \
	"TTTTTTTTTTTFTFFFFFFTTTTFFTTTTT\n" \
	"TTTTTTTTTTFFFFFFFFFTTTTFFTTTTT\n" \
	"TTTTTTTTTTTTTFFFFFFTTTTFFTTTTT\n" \
	"TTTTTTTTTTTTTTFTFTTTTTTFFTTTTT\n" \
	"TTTTTTTTTTTTTTFFFTTTTTTFFTTTTT\n" \
	"TTTTTTTTTTTTTTTTFTTTTTTFFTTTTT\n" \
	"TTTTTTTTTTTTTTFFFFFTTTTFFTTTTT\n" \
	"TTTTTTTTTTTTTTFFFFFTTTTFFTTTTT\n" \
	"FFFFFFFFFFFFFFFFFFFFFTTFFFFFFF\n" \
	"FFFFFFFFFFFFFFFFFFFFFTTFFFFFFF\n" \
	"FFFFFFFFFFFFFFFFFFFFFFTFFFFFFF\n" \
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\n" \
	"TTTTTTTTTTTTTTTTTTTTTTTFFTTTTT\n" \
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\n" \
	"TTTTTTTTTTFFFFFFFFFTTTTFFFTFTF\n" \
	"TTTTTTTTTTFFFFFFFFFTTTTFFFFFFF\n" \
	"TTTTTTTTTTFFFFFFFFFTTTTFFFTFTF\n" \
	"TTTTTTTTTTFFFFFFFFFTTTTFFFTFFF\n" \
	"TTTTTTTTTTFFFFFFFFFTTTTFFFTFTF\n"
#define WANT_KINDS \
	"EEEEEEEEEEEEEEEEEEEEEEEE\n" \
	"EEEEEEEEEEEEEEEEEEEEEEEE\n" \
	"EEFFTFEEEEEEEEEEEEEEEEEE\n" \
	"EEFFTFEEEEEEEEEEEEEEEEEE\n" \
	"EEFFFFEEEEEEEEEEEEEEEEEE\n" \
	"EEFFTFEEEEEEEEEEEEEEEEEE\n" \
	"EEEEEEFFTTFTEEEEEEEEEEEE\n" \
	"EEEEEEFFTTFTEEEEEEEEEEEE\n" \
	"EEEEEEFFFFFTEEEEEEEEEEEE\n" \
	"EEEEEEFFFFFTEEEEEEEEEEEE\n" \
	"EEEEEETTTTFTEEEEEEEEEEEE\n" \
	"EEEEEEFFFFFFEEEEEEEEEEEE\n" \
	"EEEEEEEEEEEEFEEEEEEEEEEE\n" \
	"EEEEEEEEEEEEEFFTTTTTTEEE\n" \
	"EEEEEEEEEEEEEFFTTTTTTEEE\n" \
	"EEEEEEEEEEEEEFFFFFTTTEEE\n" \
	"EEEEEEEEEEEEEFFFFFTTTEEE\n" \
	"EEEEEEEEEEEEEFFFFFTTTEEE\n" \
	"EEEEEEEEEEEEEFFFFFFFTEEE\n" \
	"EEEEEEEEEEEEEFFFFFFFTEEE\n" \
	"EEEEEEEEEEEEEFFFFFFFFEEE\n" \
	"EEEEEEEEEEEEEEEEEEEEEFEE\n" \
	"EEEEEEEEEEEEEEEEEEEEEEFE\n" \
	"EEEEEEEEEEEEEEEEEEEEEEEE\n"
#define WANT_OTHER_SORTS \
	"[-inf, -1000000000000000000000000000000, -1e+29, -18446744073709551617, 1, True, 9223372036854775807, 9223372036854775808, 9.223372036854776e+18, 18446744073709551616, 1.8446744073709552e+19, inf]\n" \
	"[inf, 18446744073709551616, 1.8446744073709552e+19, 9223372036854775808, 9.223372036854776e+18, 9223372036854775807, 1, True, -18446744073709551617, -1e+29, -1000000000000000000000000000000, -inf]\n" \
	"[3, nan, -18446744073709551617, 0, 1.5, 18446744073709551617, nan]\n" \
	"[3, nan, 18446744073709551617, 1.5, -18446744073709551617, nan, 0]\n" \
	"[b'', bytearray(b''), b'a', bytearray(b'a'), b'ab', bytearray(b'b')]\n" \
	"[bytearray(b'b'), b'ab', b'a', bytearray(b'a'), b'', bytearray(b'')]\n" \
	"TypeError\n" \
	"TypeError\n" \
	"TypeError\n" \
	"TypeError\n" \
	"TypeError\n" \
	"TypeError\n" \
	"TypeError\n" \
	"TypeError\n" \
	"[1j]\n" \
	"[1j]\n"
#define WANT_SET_SORTS \
	"[set(), {1}, {2}, {1, 2}, {3}, {1, 2, 3}]\n" \
	"[{1, 2, 3}, {1, 2}, {1}, {3}, {2}, set()]\n" \
	"[frozenset(), frozenset({1}), {2}, {1, 2}, {3}, frozenset({2, 3}), {1, 2, 3, 4}]\n" \
	"[{1, 2, 3, 4}, {1, 2}, frozenset({1}), frozenset({2, 3}), {2}, {3}, frozenset()]\n" \
	"[set(), {5}, {4}, {3}, {2}, {1}, {1, 2}, {2, 3}, {3, 4}]\n" \
	"[{5}, {4}, {1, 2}, {1}, {2, 3}, {2}, {3, 4}, {3}, set()]\n" \
	"[set(), {1}, {1, 2}, {1, 2, 3}, frozenset({1, 2, 3}), frozenset({4}), {1, 4}]\n" \
	"[{1, 2, 3}, frozenset({1, 2, 3}), {1, 2}, {1, 4}, {1}, frozenset({4}), set()]\n" \
	"[set(), {1}, {1}, frozenset({1})]\n" \
	"[{1}, {1}, frozenset({1}), set()]\n" \
	"TypeError\n" \
	"TypeError\n" \
	"TypeError\n" \
	"TypeError\n"

/* A value given as its Python form: KIND says how to build it from ARG.
 *   i  an int (any size) in decimal      f  a float (float('ARG'))
 *   b  a bool ("1" or "0")               c  complex(ARG), "re, im"
 *   y  bytes                             a  bytearray
 *   s  str                               n  None
 *   S  a set of the ints in ARG ("1,2")  Z  a frozenset of them
 *   l  a list of one int                 t  a tuple of one int */
struct item {
	char kind;
	const char *arg;
};

static shmc_value_t int_of_text(const char *s)
{
	shmc_value_t v;
	ASSERT_OK(shmc_int_from_str(s, strlen(s), 10, &v));
	return v;
}

static shmc_value_t ints_set(bool frozen, const char *arg)
{
	shmc_value_t s = shmc_set_of(0);
	for (const char *p = arg; *p;) {
		char *end;
		long x = strtol(p, &end, 10);
		if (end == p)
			break;
		ASSERT_OK(shmc_set_add(&s, shmc_int(x)));
		p = *end == ',' ? end + 1 : end;
	}
	if (frozen)
		ASSERT_OK(shmc_set_freeze(&s));
	return s;
}

static shmc_value_t build(struct item it)
{
	double re, im;
	switch (it.kind) {
	case 'i':
		return int_of_text(it.arg);
	case 'f':
		return shmc_float(strtod(it.arg, NULL));
	case 'b':
		return shmc_bool(it.arg[0] == '1');
	case 'c':
		cr_assert_eq(sscanf(it.arg, "%lf, %lf", &re, &im), 2);
		return shmc_complex(re, im);
	case 'y':
		return shmc_bytes(it.arg, strlen(it.arg));
	case 'a':
		return shmc_bytearray(it.arg, strlen(it.arg));
	case 's':
		return shmc_str(it.arg);
	case 'n':
		return shmc_none();
	case 'S':
	case 'Z':
		return ints_set(it.kind == 'Z', it.arg);
	case 'l':
		return shmc_plist_of(1, int_of_text(it.arg));
	case 't':
		return shmc_tuple_of(1, int_of_text(it.arg));
	default:
		cr_assert_fail("kind %c", it.kind);
		return shmc_none();
	}
}

/* ITEM's Python form, appended to *S (grown with realloc). */
static void put_py(char **s, size_t *n, struct item it)
{
	char buf[1024];
	switch (it.kind) {
	case 'i':
		snprintf(buf, sizeof(buf), "%s", it.arg);
		break;
	case 'f':
		snprintf(buf, sizeof(buf), "float('%s')", it.arg);
		break;
	case 'b':
		snprintf(buf, sizeof(buf), "%s", it.arg[0] == '1' ? "True" : "False");
		break;
	case 'c':
		snprintf(buf, sizeof(buf), "complex(%s)", it.arg);
		break;
	case 'y':
		snprintf(buf, sizeof(buf), "b'%s'", it.arg);
		break;
	case 'a':
		snprintf(buf, sizeof(buf), "bytearray(b'%s')", it.arg);
		break;
	case 's':
		snprintf(buf, sizeof(buf), "'%s'", it.arg);
		break;
	case 'n':
		snprintf(buf, sizeof(buf), "None");
		break;
	case 'S':
		snprintf(buf, sizeof(buf), "set([%s])", it.arg);
		break;
	case 'Z':
		snprintf(buf, sizeof(buf), "frozenset([%s])", it.arg);
		break;
	case 'l':
		snprintf(buf, sizeof(buf), "[%s]", it.arg);
		break;
	case 't':
		snprintf(buf, sizeof(buf), "(%s,)", it.arg);
		break;
	}
	size_t k = strlen(buf);
	*s = realloc(*s, *n + k + 3);
	cr_assert_not_null(*s);
	memcpy(*s + *n, buf, k);
	memcpy(*s + *n + k, ", ", 3);
	*n += k + 2;
}

/* The matrix of a < b over ITEMS: one line per a, one character per b:
 * 'T' (true), 'F' (false) or 'E' (TypeError; SHMC_ETYPE here). */
static char *lt_matrix(const struct item *items, size_t n)
{
	shmc_value_t *v = calloc(n, sizeof(*v));
	char *m = malloc(n * (n + 1) + 1);
	cr_assert(v && m);
	for (size_t i = 0; i < n; i++) {
		v[i] = build(items[i]);
		cr_assert_neq(v[i].type, SHMC_ERROR, "item %zu", i);
	}
	char *p = m;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int rc = shmc_value_lt(v[i], v[j]);
			cr_assert(rc == 0 || rc == 1 || rc == SHMC_ETYPE, "%zu < %zu -> %s", i, j,
				  shmc_errname(rc));
			*p++ = rc == 1 ? 'T' : rc == 0 ? 'F' : 'E';
		}
		*p++ = '\n';
	}
	*p = '\0';
	for (size_t i = 0; i < n; i++)
		shmc_value_free(&v[i]);
	free(v);
	return m;
}

/* The same matrix as python3 computes it: the script. */
static char *lt_matrix_script(const struct item *items, size_t n)
{
	char *s = NULL;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		put_py(&s, &len, items[i]);
	const char *head = "vals = [";
	const char *tail = "]\n"
			   "def lt(a, b):\n"
			   "    try:\n"
			   "        return 'T' if a < b else 'F'\n"
			   "    except TypeError:\n"
			   "        return 'E'\n"
			   "for a in vals:\n"
			   "    print(''.join(lt(a, b) for b in vals))\n";
	char *script = malloc(strlen(head) + len + strlen(tail) + 1);
	cr_assert_not_null(script);
	sprintf(script, "%s%.*s%s", head, (int)len, s ? s : "", tail);
	free(s);
	return script;
}

static void check_matrix(const struct item *items, size_t n, const char *want)
{
	char *got = lt_matrix(items, n);
	char *script = lt_matrix_script(items, n);
	expect_python(got, want, script);
	free(script);
	free(got);
}

/* Big ints, ints, bools and floats: exact, on both sides of 2**63 and
 * 2**64, far past the doubles' range, with infinities, NaN and -0.0. */
Test(value_order, big_ints_order_exactly_with_ints_floats_and_bools)
{
	static const struct item items[] = {
		{'i', "18446744073709551616"},  /* 2**64 */
		{'f', "18446744073709551616"},  /* 2.0**64 */
		{'i', "18446744073709551615"},  /* 2**64 - 1 */
		{'i', "18446744073709551617"},  /* 2**64 + 1 */
		{'f', "18446744073709555712"},  /* the next double, 2**64 + 4096 */
		{'i', "18446744073709555711"},
		{'i', "18446744073709555712"},
		{'i', "9223372036854775808"},   /* 2**63: the smallest positive big int */
		{'f', "9223372036854775808"},   /* 2.0**63 */
		{'i', "9223372036854775807"},   /* 2**63 - 1: an int */
		{'i', "-9223372036854775808"},  /* -2**63: an int */
		{'i', "-9223372036854775809"},  /* the largest negative big int */
		{'f', "-9223372036854775808"},
		{'f', "-9223372036854777856"},  /* the next double below -2**63 */
		{'i', "-1000000000000000000000000000000"}, /* -10**30 */
		{'f', "-1e29"},
		{'f', "-1e30"},                 /* below -10**30 by a little */
		{'i', "-18446744073709551616"},
		{'f', "-18446744073709551616"},
		{'i', "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368"}, /* the largest double's value */
		{'f', "1.7976931348623157e308"},
		{'i', "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858369"}, /* one more */
		{'f', "inf"},
		{'f', "-inf"},
		{'f', "nan"},
		{'f', "-0.0"},
		{'f', "1.5"},
		{'i', "0"},
		{'b', "1"},
		{'b', "0"},
	};
	check_matrix(items, sizeof(items) / sizeof(items[0]), WANT_NUMBERS);
}

/* Each kind against each: complex never orders (not even with an equal
 * number), bytearray with bytes, sets and frozensets by proper subset,
 * and every other mix a TypeError. */
Test(value_order, kinds_order_as_python_orders_them)
{
	static const struct item items[] = {
		{'c', "1, 0"}, {'c', "0, 1"}, {'i', "1"}, {'f', "1.0"},
		{'i', "18446744073709551616"}, {'b', "1"},
		{'y', "a"}, {'a', "a"}, {'a', "ab"}, {'y', "ab"}, {'a', ""}, {'y', "b"},
		{'s', "a"},
		{'S', ""}, {'Z', ""}, {'S', "1"}, {'Z', "1"}, {'S', "2"}, {'S', "1,2"},
		{'Z', "1,2"}, {'Z', "1,2,3"},
		{'l', "1"}, {'t', "1"}, {'n', ""},
	};
	check_matrix(items, sizeof(items) / sizeof(items[0]), WANT_KINDS);
}

/* Inside tuples and lists the first items that differ (by ==) decide: an
 * equal complex or set is passed over, a different one is compared. */
Test(value_order, new_types_inside_sequences)
{
	shmc_value_t big = int_of_text("18446744073709551616");
	shmc_value_t big2 = int_of_text("18446744073709551617");
	struct {
		shmc_value_t a, b;
	} t[] = {
		{shmc_tuple_of(2, shmc_complex(0, 1), shmc_int(1)),
		 shmc_tuple_of(2, shmc_complex(0, 1), shmc_int(2))},
		{shmc_tuple_of(2, shmc_complex(0, 1), shmc_int(1)),
		 shmc_tuple_of(2, shmc_complex(0, 2), shmc_int(1))},
		{shmc_tuple_of(2, shmc_set_of(1, shmc_int(1)), shmc_int(3)),
		 shmc_tuple_of(2, shmc_frozenset_of(1, shmc_int(1)), shmc_int(2))},
		{shmc_plist_of(1, shmc_set_of(1, shmc_int(1))),
		 shmc_plist_of(1, shmc_set_of(2, shmc_int(1), shmc_int(2)))},
		{shmc_tuple_of(2, big, shmc_str("a")), shmc_tuple_of(2, shmc_float(18446744073709551616.0),
									  shmc_str("b"))},
		{shmc_tuple_of(1, big2), shmc_tuple_of(1, shmc_float(18446744073709551616.0))},
		{shmc_tuple_of(2, shmc_bytearray("x", 1), shmc_int(1)),
		 shmc_tuple_of(2, shmc_bytes("x", 1), shmc_int(0))},
		{shmc_tuple_of(1, shmc_opaque("x", 1, "X()")), shmc_tuple_of(1, shmc_opaque("y", 1, "Y()"))},
		{shmc_tuple_of(2, shmc_opaque("x", 1, "X()"), shmc_int(1)),
		 shmc_tuple_of(2, shmc_opaque("x", 1, "X()"), shmc_int(2))},
	};
	char got[64] = "";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = shmc_value_lt(t[i].a, t[i].b);
		strcat(got, rc == 1 ? "T" : rc == 0 ? "F" : rc == SHMC_ETYPE ? "E" : "?");
		rc = shmc_value_lt(t[i].b, t[i].a);
		strcat(got, rc == 1 ? "T" : rc == 0 ? "F" : rc == SHMC_ETYPE ? "E" : "?");
		shmc_value_free(&t[i].a);
		shmc_value_free(&t[i].b);
	}
	/* Opaque values stand for pickled objects shmc cannot compare: the
	 * script's stand-in is a class without "<" (equal ones by ==). */
	expect_python(got, "TFEEFTTFTFFTFTEETF",
		      "class O:\n"
		      "    def __init__(s, b): s.b = b\n"
		      "    def __eq__(s, o): return isinstance(o, O) and s.b == o.b\n"
		      "    __hash__ = None\n"
		      "pairs = [((1j, 1), (1j, 2)), ((1j, 1), (2j, 1)), (({1}, 3), (frozenset({1}), 2)),\n"
		      "         ([{1}], [{1, 2}]), ((2**64, 'a'), (2.0**64, 'b')), ((2**64 + 1,), (2.0**64,)),\n"
		      "         ((bytearray(b'x'), 1), (b'x', 0)), ((O('x'),), (O('y'),)),\n"
		      "         ((O('x'), 1), (O('x'), 2))]\n"
		      "def lt(a, b):\n"
		      "    try:\n"
		      "        return 'T' if a < b else 'F'\n"
		      "    except TypeError:\n"
		      "        return 'E'\n"
		      "print(''.join(lt(a, b) + lt(b, a) for a, b in pairs), end='')\n");
}

/* Sorting ------------------------------------------------------------------ */

/* Sort a managed list of ITEMS (REVERSE as given) and print it as str()
 * does, or "TypeError" when the sort fails with SHMC_ETYPE, which must
 * leave the list as it was. */
static void sort_line(const struct item *items, size_t n, bool reverse, char **out, size_t *len)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (size_t i = 0; i < n; i++) {
		shmc_value_t v = build(items[i]);
		ASSERT_OK(shmc_list_append(ls, v));
		shmc_value_free(&v);
	}
	char *before = obj_str(ls);
	int rc = shmc_list_sort(ls, NULL, NULL, NULL, reverse);
	char *after = obj_str(ls);
	const char *line = after;
	if (rc == SHMC_ETYPE) {
		cr_assert_str_eq(after, before, "a failed sort changed the list");
		line = "TypeError";
	} else {
		ASSERT_OK(rc);
	}
	size_t k = strlen(line);
	*out = realloc(*out, *len + k + 2);
	cr_assert_not_null(*out);
	memcpy(*out + *len, line, k);
	(*out)[*len + k] = '\n';
	(*out)[*len + k + 1] = '\0';
	*len += k + 1;
	shmc_free(before);
	shmc_free(after);
	shmc_obj_release(ls);
}

struct sort_case {
	const struct item *items;
	size_t n;
};
#define SORT_CASE(...)                                                         \
	{                                                                      \
		(const struct item[]){__VA_ARGS__},                            \
			sizeof((const struct item[]){__VA_ARGS__}) / sizeof(struct item) \
	}

/* Each case sorted both ways, against python3's sorted(). */
static void check_sorts(const struct sort_case *c, size_t ncases, const char *want)
{
	char *got = NULL, *py = NULL;
	size_t len = 0, plen = 0;
	const char *head = "cases = [\n";
	py = strdup(head);
	plen = strlen(head);
	for (size_t i = 0; i < ncases; i++) {
		for (int rev = 0; rev < 2; rev++)
			sort_line(c[i].items, c[i].n, rev, &got, &len);
		py = realloc(py, plen + 2);
		py[plen++] = '[';
		py[plen] = '\0';
		for (size_t j = 0; j < c[i].n; j++)
			put_py(&py, &plen, c[i].items[j]);
		py = realloc(py, plen + 4);
		memcpy(py + plen, "],\n", 4);
		plen += 3;
	}
	const char *tail = "]\n"
			   "for c in cases:\n"
			   "    for rev in (False, True):\n"
			   "        try:\n"
			   "            print(sorted(c, reverse=rev))\n"
			   "        except TypeError:\n"
			   "            print('TypeError')\n";
	py = realloc(py, plen + strlen(tail) + 1);
	strcpy(py + plen, tail);
	expect_python(got ? got : "", want, py);
	free(got);
	free(py);
}

/* Sets order by proper subset, a partial order: the result is whatever
 * the algorithm's comparisons give, so shmc's sort must make Python's
 * comparisons, in Python's order. */
Test(value_order, sorting_sets_gives_what_python_sorted_gives, .init = arena_setup,
     .fini = arena_teardown)
{
	const struct sort_case cases[] = {
		SORT_CASE({'S', "1,2"}, {'S', "1"}, {'S', "3"}, {'S', ""}, {'S', "1,2,3"}, {'S', "2"}),
		SORT_CASE({'Z', "1"}, {'S', "1,2"}, {'S', "2"}, {'Z', ""}, {'Z', "2,3"}, {'S', "3"},
			  {'S', "1,2,3,4"}),
		SORT_CASE({'S', "5"}, {'S', "4"}, {'S', "3"}, {'S', "2"}, {'S', "1"}, {'S', "1,2"},
			  {'S', "2,3"}, {'S', "3,4"}, {'S', ""}),
		SORT_CASE({'S', "1,2,3"}, {'S', "1,2"}, {'S', "1"}, {'S', ""}, {'Z', "1,2,3"},
			  {'Z', "4"}, {'S', "1,4"}),
		SORT_CASE({'S', "1"}, {'S', "1"}, {'Z', "1"}, {'S', ""}),
		SORT_CASE({'S', "1"}, {'l', "1"}),
		SORT_CASE({'Z', "1"}, {'t', "1"}),
	};
	check_sorts(cases, sizeof(cases) / sizeof(cases[0]), WANT_SET_SORTS);
}

/* Numbers of every size sorted together, NaN included (where it lands
 * depends on the comparisons made, as with sets); bytes with bytearray;
 * anything with a complex, a None or an opaque value fails whole. */
Test(value_order, sorting_numbers_bytes_and_unorderable_values, .init = arena_setup,
     .fini = arena_teardown)
{
	const struct sort_case cases[] = {
		SORT_CASE({'i', "18446744073709551616"}, {'f', "18446744073709551616"},
			  {'i', "-1000000000000000000000000000000"}, {'f', "-1e29"}, {'i', "1"},
			  {'b', "1"}, {'i', "9223372036854775808"}, {'f', "9223372036854775808"},
			  {'i', "9223372036854775807"}, {'f', "-inf"}, {'f', "inf"},
			  {'i', "-18446744073709551617"}),
		SORT_CASE({'i', "3"}, {'f', "nan"}, {'i', "18446744073709551617"}, {'f', "1.5"},
			  {'i', "-18446744073709551617"}, {'f', "nan"}, {'i', "0"}),
		SORT_CASE({'a', "b"}, {'y', "a"}, {'a', "a"}, {'y', "ab"}, {'y', ""}, {'a', ""}),
		SORT_CASE({'i', "1"}, {'c', "1, 0"}),
		SORT_CASE({'c', "1, 0"}, {'c', "0, 1"}),
		SORT_CASE({'i', "1"}, {'i', "18446744073709551616"}, {'n', ""}),
		SORT_CASE({'y', "a"}, {'s', "a"}),
		SORT_CASE({'c', "0, 1"}),
	};
	check_sorts(cases, sizeof(cases) / sizeof(cases[0]), WANT_OTHER_SORTS);
}

/* Opaque values cannot be written as literals: shmc_value_lt and the sort
 * refuse them, and a list of one needs no comparison (as in Python). */
Test(value_order, opaque_values_are_not_ordered, .init = arena_setup, .fini = arena_teardown)
{
	shmc_value_t x = shmc_opaque("a", 1, "A()"), y = shmc_opaque("b", 1, "B()");
	ASSERT_ERR(shmc_value_lt(x, y), SHMC_ETYPE);
	ASSERT_ERR(shmc_value_lt(x, x), SHMC_ETYPE);
	ASSERT_ERR(shmc_value_lt(x, shmc_int(1)), SHMC_ETYPE);
	ASSERT_ERR(shmc_value_lt(shmc_bytes("a", 1), x), SHMC_ETYPE);
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, x));
	ASSERT_OK(shmc_list_sort(ls, NULL, NULL, NULL, false));
	ASSERT_OK(shmc_list_append(ls, y));
	ASSERT_ERR(shmc_list_sort(ls, NULL, NULL, NULL, false), SHMC_ETYPE);
	expect_str(ls, "[A(), B()]");
	shmc_value_free(&x);
	shmc_value_free(&y);
	shmc_obj_release(ls);
}
