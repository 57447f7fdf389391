/*
 * test_repr.c -- Python's printed forms, byte for byte (lib/repr.c). Every
 * expected string below is what python3 (3.11) printed for the same value;
 * the last test asks a live python3, when there is one.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>

#include "testutil.h"

TestSuite(repr, .timeout = 60);

/* Check repr(V) and free V. */
static void check_repr(shmc_value_t v, const char *want)
{
	cr_assert_neq(v.type, SHMC_ERROR, "building the value for %s", want);
	char *s = NULL;
	int rc = shmc_value_repr(v, &s);
	cr_assert_eq(rc, 0, "repr -> %s, expected %s", shmc_errname(rc), want);
	cr_assert_str_eq(s, want);
	shmc_free(s);
	shmc_value_free(&v);
}

static void check_str(shmc_value_t v, const char *want)
{
	char *s = NULL;
	int rc = shmc_value_str(v, &s);
	cr_assert_eq(rc, 0, "str -> %s, expected %s", shmc_errname(rc), want);
	cr_assert_str_eq(s, want);
	shmc_free(s);
	shmc_value_free(&v);
}

/* Scalars ----------------------------------------------------------------- */

Test(repr, floats_as_python_prints_them)
{
	static const struct {
		double f;
		const char *want;
	} t[] = {
		{0.1, "0.1"},
		{1.0, "1.0"},
		{2.5, "2.5"},
		{0.5, "0.5"},
		{-1.5, "-1.5"},
		{1.1, "1.1"},
		{0.0, "0.0"},
		{-0.0, "-0.0"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{9999999999999998.0, "9999999999999998.0"},
		{9007199254740992.0, "9007199254740992.0"},
		{1e-05, "1e-05"},
		{0.0001, "0.0001"},
		{0.001, "0.001"},
		{-0.00123456, "-0.00123456"},
		{1.5e-07, "1.5e-07"},
		{-2.5e-10, "-2.5e-10"},
		{123456789012345678.0, "1.2345678901234568e+17"},
		{1.0 / 3.0, "0.3333333333333333"},
		{0.1 + 0.2, "0.30000000000000004"},
		{12345.678, "12345.678"},
		{100.0, "100.0"},
		{123.0, "123.0"},
		{1e22, "1e+22"},
		{1e23, "1e+23"},
		{8.41e21, "8.41e+21"},
		{1e100, "1e+100"},
		{1e301, "1e+301"},
		{-1e-300, "-1e-300"},
		{5e-324, "5e-324"},
		{1.5e-323, "1.5e-323"},
		{5e-310, "5e-310"},
		{2.2250738585072014e-308, "2.2250738585072014e-308"},
		{1.7976931348623157e+308, "1.7976931348623157e+308"},
		{INFINITY, "inf"},
		{-INFINITY, "-inf"},
		{NAN, "nan"},
		{-NAN, "nan"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *s = value_repr(shmc_float(t[i].f));
		cr_assert_str_eq(s, t[i].want, "repr(%.17g)", t[i].f);
		shmc_free(s);
	}
}

/* At a power of two the doubles below are twice as close as those above,
 * so the nearest decimal of N digits may not read back while another one
 * does: Python prints that one, the shortest. */
Test(repr, floats_at_powers_of_two_are_shortest)
{
	static const struct {
		int exp2;
		const char *want;
	} t[] = {
		{-24, "5.960464477539063e-08"},
		{-44, "5.684341886080802e-14"},
		{89, "6.189700196426902e+26"},
		{-1017, "7.120236347223045e-307"},
		{976, "6.386688990511104e+293"},
		/* powers of two that were never in doubt */
		{-1074, "5e-324"},
		{-1, "0.5"},
		{10, "1024.0"},
		{53, "9007199254740992.0"},
		{1023, "8.98846567431158e+307"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double f = ldexp(1.0, t[i].exp2);
		char *s = value_repr(shmc_float(f));
		cr_expect_str_eq(s, t[i].want, "repr(2.0 ** %d): %s, python3: %s", t[i].exp2,
				 s, t[i].want);
		shmc_free(s);
	}
}

Test(repr, ints_none_and_bools)
{
	check_repr(shmc_int(0), "0");
	check_repr(shmc_int(-1), "-1");
	check_repr(shmc_int(1234567), "1234567");
	check_repr(shmc_int(INT64_MAX), "9223372036854775807");
	check_repr(shmc_int(INT64_MIN), "-9223372036854775808");
	check_repr(shmc_none(), "None");
	check_repr(shmc_bool(true), "True");
	check_repr(shmc_bool(false), "False");
}

/* Strings and bytes ------------------------------------------------------- */

#define STRN(lit) shmc_strn(lit, sizeof(lit) - 1)
#define BYTES(lit) shmc_bytes(lit, sizeof(lit) - 1)

Test(repr, strings_quotes_and_escapes)
{
	check_repr(STRN(""), "''");
	check_repr(STRN("abc"), "'abc'");
	check_repr(STRN("it's"), "\"it's\"");
	check_repr(STRN("say \"hi\""), "'say \"hi\"'");
	check_repr(STRN("both ' and \""), "'both \\' and \"'");
	check_repr(STRN("'\""), "'\\'\"'");
	check_repr(STRN("a\nb\tc\rd\\e"), "'a\\nb\\tc\\rd\\\\e'");
	check_repr(STRN("\t"), "'\\t'");
	check_repr(STRN("\\"), "'\\\\'");
	check_repr(STRN("\x00\x1f\x7f"), "'\\x00\\x1f\\x7f'");
	check_repr(STRN("a\x00"), "'a\\x00'");
	check_repr(STRN("\x0b\x0c"), "'\\x0b\\x0c'");
	check_repr(STRN("\x1b[0m"), "'\\x1b[0m'");
}

Test(repr, strings_non_ascii_printable_and_not)
{
	/* Printable: as they are. */
	check_repr(STRN("\xc3\xa9"), "'\xc3\xa9'");                     /* é */
	check_repr(STRN("\xe6\xbc\xa2\xe5\xad\x97"), "'\xe6\xbc\xa2\xe5\xad\x97'"); /* 漢字 */
	check_repr(STRN("\xf0\x9f\x98\x80"), "'\xf0\x9f\x98\x80'");     /* 😀 */
	check_repr(STRN("\xc2\xa1"), "'\xc2\xa1'");                     /* ¡ U+00A1 */
	check_repr(STRN("\xc2\xae"), "'\xc2\xae'");                     /* ® U+00AE */
	check_repr(STRN("\xc3\xbf\xc4\x80"), "'\xc3\xbf\xc4\x80'");     /* ÿĀ */
	check_repr(STRN("\xcc\x80"), "'\xcc\x80'");                     /* U+0300 */
	check_repr(STRN("\xe2\x80\x90"), "'\xe2\x80\x90'");             /* U+2010 */
	check_repr(STRN("\xe2\x80\xb0"), "'\xe2\x80\xb0'");             /* U+2030 */
	check_repr(STRN("\xef\xa4\x80"), "'\xef\xa4\x80'");             /* U+F900 */
	check_repr(STRN("\xef\xbf\xbd"), "'\xef\xbf\xbd'");             /* U+FFFD */
	check_repr(STRN("\xf3\xa0\x84\x80"), "'\xf3\xa0\x84\x80'");     /* U+E0100 */
	/* Not printable: escaped, \xNN, \uNNNN or \UNNNNNNNN by size. */
	check_repr(STRN("\xc2\x85"), "'\\x85'");
	check_repr(STRN("\xc2\xa0"), "'\\xa0'");
	check_repr(STRN("\xc2\xad"), "'\\xad'");
	check_repr(STRN("\xe2\x80\xa8"), "'\\u2028'");
	check_repr(STRN("\xe2\x80\x8b"), "'\\u200b'");
	check_repr(STRN("\xc3\xa9\xc2\x85\xc3\xbc"), "'\xc3\xa9\\x85\xc3\xbc'"); /* é\x85ü */
	check_repr(STRN("\xe3\x80\x80"), "'\\u3000'");
	check_repr(STRN("\xe1\x9a\x80"), "'\\u1680'");
	check_repr(STRN("\xe2\x80\xaf"), "'\\u202f'");
	check_repr(STRN("\xe2\x81\x9f"), "'\\u205f'");
	check_repr(STRN("\xe2\x81\xa0"), "'\\u2060'");
	check_repr(STRN("\xd8\x9c"), "'\\u061c'");
	check_repr(STRN("\xe1\xa0\x8e"), "'\\u180e'");
	check_repr(STRN("\xef\xbb\xbf"), "'\\ufeff'");
	check_repr(STRN("\xef\xbf\xb9"), "'\\ufff9'");
	check_repr(STRN("\xee\x80\x80"), "'\\ue000'");
	check_repr(STRN("\xf0\x9d\x85\xb3"), "'\\U0001d173'");
	check_repr(STRN("\xf3\xa0\x80\x81"), "'\\U000e0001'");
	check_repr(STRN("\xf3\xb0\x80\x80"), "'\\U000f0000'");
	check_repr(STRN("\xf4\x8f\xbf\xbf"), "'\\U0010ffff'");
}

/* Python escapes every code point of categories Cc, Cf, Cs, Co, Cn, Zl, Zp
 * and Zs (but space); these assigned format characters (Cf) fall outside the
 * ranges repr.c lists. */
Test(repr, assigned_format_characters_are_escaped)
{
	check_repr(STRN("\xe0\xa3\xa2"), "'\\u08e2'");         /* U+08E2, Cf */
	check_repr(STRN("\xf0\x93\x90\xb0"), "'\\U00013430'"); /* U+13430, Cf */
}

Test(repr, bytes_forms)
{
	check_repr(BYTES(""), "b''");
	check_repr(BYTES("abc"), "b'abc'");
	check_repr(BYTES("it's"), "b\"it's\"");
	check_repr(BYTES("say \"hi\""), "b'say \"hi\"'");
	check_repr(BYTES("both ' and \""), "b'both \\' and \"'");
	check_repr(BYTES("\x00\x1f\x7f\x80\xff"), "b'\\x00\\x1f\\x7f\\x80\\xff'");
	check_repr(BYTES("a\nb\tc\rd\\e"), "b'a\\nb\\tc\\rd\\\\e'");
	check_repr(BYTES("\t\x0b\x0c"), "b'\\t\\x0b\\x0c'");
	/* Bytes are not text: UTF-8 is escaped byte by byte. */
	check_repr(BYTES("\xc3\xa9"), "b'\\xc3\\xa9'");
}

/* Containers -------------------------------------------------------------- */

Test(repr, tuples_lists_and_dicts)
{
	check_repr(shmc_tuple_of(0), "()");
	check_repr(shmc_tuple_of(1, shmc_int(1)), "(1,)");
	check_repr(shmc_tuple_of(2, shmc_int(1), shmc_int(2)), "(1, 2)");
	check_repr(shmc_tuple_of(1, shmc_tuple_of(0)), "((),)");
	check_repr(shmc_tuple_of(1, shmc_tuple_of(1, shmc_str("a"))), "(('a',),)");
	check_repr(shmc_plist_of(0), "[]");
	check_repr(shmc_plist_of(1, shmc_plist_of(0)), "[[]]");
	check_repr(shmc_pdict_of(0), "{}");
	check_repr(shmc_plist_of(4, shmc_int(1),
				 shmc_plist_of(2, shmc_float(2.5), shmc_none()),
				 shmc_pdict_of(1, shmc_str("a"),
					       shmc_tuple_of(2, shmc_bool(true),
							     shmc_bool(false))),
				 shmc_tuple_of(0)),
		   "[1, [2.5, None], {'a': (True, False)}, ()]");
	check_repr(shmc_pdict_of(3, shmc_int(1), shmc_plist_of(0),
				 shmc_tuple_of(2, shmc_int(1), shmc_str("x")), shmc_pdict_of(0),
				 shmc_bytes("k", 1), shmc_none()),
		   "{1: [], (1, 'x'): {}, b'k': None}");
	check_repr(shmc_pdict_of(1, shmc_str("a"),
				 shmc_pdict_of(1, shmc_str("b"), shmc_pdict_of(0))),
		   "{'a': {'b': {}}}");
	check_repr(shmc_plist_of(3, shmc_str("it's"), shmc_bytes("\n", 1),
				 shmc_float(-0.0)),
		   "[\"it's\", b'\\n', -0.0]");
	/* Insertion order, and the first of equal keys. */
	check_repr(shmc_pdict_of(3, shmc_str("z"), shmc_int(1), shmc_str("a"), shmc_int(2),
				 shmc_str("m"), shmc_int(3)),
		   "{'z': 1, 'a': 2, 'm': 3}");
	check_repr(shmc_pdict_of(2, shmc_int(1), shmc_str("a"), shmc_float(1.0),
				 shmc_str("b")),
		   "{1: 'b'}");
}

Test(repr, str_leaves_only_a_top_level_str_unquoted)
{
	check_str(STRN("abc"), "abc");
	check_str(STRN("it's"), "it's");
	check_str(STRN("a\nb\\"), "a\nb\\");
	check_str(STRN("\xc2\x85"), "\xc2\x85");
	check_str(STRN(""), "");
	check_str(shmc_plist_of(1, shmc_str("it's")), "[\"it's\"]");
	check_str(shmc_tuple_of(1, shmc_str("a")), "('a',)");
	check_str(BYTES("abc"), "b'abc'");
	check_str(shmc_float(1.0), "1.0");
	check_str(shmc_int(-5), "-5");
	check_str(shmc_none(), "None");
}

Test(repr, value_print_writes_str_and_a_newline)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	ASSERT_OK(shmc_value_print(shmc_str("top"), f));
	shmc_value_t l = shmc_plist_of(2, shmc_str("x"), shmc_float(2.0));
	ASSERT_OK(shmc_value_print(l, f));
	shmc_value_free(&l);
	fclose(f);
	cr_assert_str_eq(buf, "top\n['x', 2.0]\n");
	free(buf);
}

static shmc_value_t nested_lists(int depth)
{
	shmc_value_t v = shmc_plist_of(0);
	for (int i = 0; i < depth; i++)
		v = shmc_plist_of(1, v);
	return v;
}

Test(repr, nesting_too_deep_is_an_error)
{
	shmc_value_t ok = nested_lists(99); /* 100 lists */
	char *s;
	ASSERT_OK(shmc_value_repr(ok, &s));
	cr_assert_eq(strlen(s), 200);
	cr_assert_eq(strspn(s, "["), 100);
	cr_assert_eq(strspn(s + 100, "]"), 100);
	shmc_free(s);
	shmc_value_free(&ok);

	shmc_value_t deep = nested_lists(1000);
	cr_assert_eq(deep.type, SHMC_LIST);
	s = (char *)"untouched";
	ASSERT_ERR(shmc_value_repr(deep, &s), SHMC_EDEPTH);
	cr_assert_str_eq(s, "untouched");
	shmc_value_free(&deep);
}

/* Managed objects --------------------------------------------------------- */

#define MAX_ADDRS 16

/* S with every 0x<hex> replaced by "0x?"; the addresses go to ADDR. */
static char *mask_addrs(const char *s, uintptr_t *addr, int *naddr)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	cr_assert_not_null(out);
	*naddr = 0;
	while (*s) {
		if (s[0] == '0' && s[1] == 'x' && isxdigit((unsigned char)s[2])) {
			const char *p = s + 2;
			uintptr_t a = 0;
			int digits = 0;
			for (; isxdigit((unsigned char)*p); p++, digits++) {
				cr_assert(!isupper((unsigned char)*p), "upper-case hex in %s", s);
				a = a * 16 + (uintptr_t)(isdigit((unsigned char)*p)
								 ? *p - '0'
								 : *p - 'a' + 10);
			}
			cr_assert(digits <= 16, "address too long in %s", s);
			cr_assert_neq(a, 0);
			cr_assert_lt(*naddr, MAX_ADDRS);
			addr[(*naddr)++] = a;
			memcpy(o, "0x?", 3);
			o += 3;
			s = p;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* The address in the proxy form of H, checking the form. */
static uintptr_t proxy_addr(shmc_obj_t *h, const char *want_masked)
{
	char *r;
	ASSERT_OK(shmc_obj_repr(h, &r));
	uintptr_t a[MAX_ADDRS];
	int n;
	char *m = mask_addrs(r, a, &n);
	cr_assert_str_eq(m, want_masked, "repr was %s", r);
	cr_assert_eq(n, 1);
	free(m);
	shmc_free(r);
	return a[0];
}

#define LIST_PROXY "<ListProxy object, typeid 'list' at 0x?>"
#define DICT_PROXY "<DictProxy object, typeid 'dict' at 0x?>"
#define NS_PROXY "<NamespaceProxy object, typeid 'Namespace' at 0x?>"

Test(repr, managed_objects_print_nested_ones_as_proxies, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *outer, *inner, *d, *ns;
	ASSERT_OK(shmc_list_new(A, &outer));
	ASSERT_OK(shmc_list_new(A, &inner));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_list_append(inner, shmc_int(1)));

	uintptr_t a_inner = proxy_addr(inner, LIST_PROXY);
	uintptr_t a_d = proxy_addr(d, DICT_PROXY);
	uintptr_t a_ns = proxy_addr(ns, NS_PROXY);
	uintptr_t a_outer = proxy_addr(outer, LIST_PROXY);
	cr_assert(a_inner != a_d && a_inner != a_ns && a_d != a_ns && a_outer != a_inner);
	cr_assert_eq(proxy_addr(inner, LIST_PROXY), a_inner);

	/* A list: the example's shape, and the same object twice. */
	shmc_value_t pl = shmc_plist_of(1, shmc_int(1));
	ASSERT_OK(shmc_list_append(outer, shmc_int(1)));
	ASSERT_OK(shmc_list_append(outer, pl));
	ASSERT_OK(shmc_list_append(outer, shmc_ref(inner)));
	ASSERT_OK(shmc_list_append(outer, shmc_ref(d)));
	ASSERT_OK(shmc_list_append(outer, shmc_ref(ns)));
	ASSERT_OK(shmc_list_append(outer, shmc_ref(inner)));
	shmc_value_free(&pl);
	char *s = obj_str(outer);
	uintptr_t a[MAX_ADDRS];
	int n;
	char *m = mask_addrs(s, a, &n);
	cr_assert_str_eq(m, "[1, [1], " LIST_PROXY ", " DICT_PROXY ", " NS_PROXY ", " LIST_PROXY "]");
	cr_assert_eq(n, 4);
	cr_assert_eq(a[0], a_inner);
	cr_assert_eq(a[1], a_d);
	cr_assert_eq(a[2], a_ns);
	cr_assert_eq(a[3], a_inner, "the same object printed two addresses");
	/* Printing again gives the same text. */
	char *s2 = obj_str(outer);
	cr_assert_str_eq(s2, s);
	shmc_free(s2);
	free(m);
	shmc_free(s);

	/* A dict. */
	ASSERT_OK(shmc_dict_set(d, shmc_int(0), shmc_int(1)));
	pl = shmc_plist_of(1, shmc_int(1));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), pl));
	shmc_value_free(&pl);
	ASSERT_OK(shmc_dict_set(d, shmc_int(2), shmc_ref(inner)));
	ASSERT_OK(shmc_dict_set(d, shmc_str("ns"), shmc_ref(ns)));
	s = obj_str(d);
	m = mask_addrs(s, a, &n);
	cr_assert_str_eq(m, "{0: 1, 1: [1], 2: " LIST_PROXY ", 'ns': " NS_PROXY "}");
	cr_assert(n == 2 && a[0] == a_inner && a[1] == a_ns);
	free(m);
	shmc_free(s);

	/* A namespace. */
	ASSERT_OK(shmc_namespace_set(ns, "z", shmc_ref(inner)));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	pl = shmc_plist_of(1, shmc_int(1));
	ASSERT_OK(shmc_namespace_set(ns, "y", pl));
	shmc_value_free(&pl);
	s = obj_str(ns);
	m = mask_addrs(s, a, &n);
	cr_assert_str_eq(m, "Namespace(x=1, y=[1], z=" LIST_PROXY ")");
	cr_assert(n == 1 && a[0] == a_inner);
	free(m);
	shmc_free(s);

	/* A reference read back out prints the same address, and so does a
	 * plain value holding the reference. */
	shmc_value_t got;
	ASSERT_OK(shmc_list_get(outer, -1, &got));
	cr_assert_eq(got.type, SHMC_REF);
	s = value_repr(got);
	m = mask_addrs(s, a, &n);
	cr_assert_str_eq(m, LIST_PROXY);
	cr_assert(n == 1 && a[0] == a_inner);
	free(m);
	shmc_free(s);
	shmc_value_t t = shmc_tuple_of(2, got, shmc_ref(d));
	s = value_repr(t);
	m = mask_addrs(s, a, &n);
	cr_assert_str_eq(m, "(" LIST_PROXY ", " DICT_PROXY ")");
	cr_assert(n == 2 && a[0] == a_inner && a[1] == a_d);
	free(m);
	shmc_free(s);
	shmc_value_free(&t); /* took GOT over */

	ASSERT_ERR(shmc_obj_str(NULL, &s), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_repr(NULL, &s), SHMC_EHANDLE);

	shmc_obj_release(outer);
	shmc_obj_release(inner);
	shmc_obj_release(d);
	shmc_obj_release(ns);
}

Test(repr, namespace_sorts_name_value_strings_and_hides_underscores,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	char *s = obj_str(ns);
	cr_assert_str_eq(s, "Namespace()");
	shmc_free(s);

	ASSERT_OK(shmc_namespace_set(ns, "_x", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "__y", shmc_int(2)));
	s = obj_str(ns);
	cr_assert_str_eq(s, "Namespace()");
	shmc_free(s);
	cr_assert_eq(shmc_namespace_has(ns, "_x"), 1);

	/* Python (3.11), setting these in this order:
	 * Namespace(B='x', Z=True, a-b=(1,), a0=0, a=1, ab=[1], b=2, z=1.5, é=None)
	 * "a0=0" sorts before "a=1" because '0' < '='. */
	shmc_value_t pl = shmc_plist_of(1, shmc_int(1));
	shmc_value_t tu = shmc_tuple_of(1, shmc_int(1));
	ASSERT_OK(shmc_namespace_set(ns, "b", shmc_int(2)));
	ASSERT_OK(shmc_namespace_set(ns, "a", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "a0", shmc_int(0)));
	ASSERT_OK(shmc_namespace_set(ns, "_hidden", shmc_int(9)));
	ASSERT_OK(shmc_namespace_set(ns, "__d", shmc_int(8)));
	ASSERT_OK(shmc_namespace_set(ns, "B", shmc_str("x")));
	ASSERT_OK(shmc_namespace_set(ns, "ab", pl));
	ASSERT_OK(shmc_namespace_set(ns, "a-b", tu));
	ASSERT_OK(shmc_namespace_set(ns, "\xc3\xa9", shmc_none()));
	ASSERT_OK(shmc_namespace_set(ns, "z", shmc_float(1.5)));
	ASSERT_OK(shmc_namespace_set(ns, "Z", shmc_bool(true)));
	shmc_value_free(&pl);
	shmc_value_free(&tu);
	s = obj_str(ns);
	cr_assert_str_eq(s, "Namespace(B='x', Z=True, a-b=(1,), a0=0, a=1, ab=[1], b=2, "
			    "z=1.5, \xc3\xa9=None)");
	shmc_free(s);

	/* Values sort too: "a0=0" and "a=1" swap when a0 goes. */
	ASSERT_OK(shmc_namespace_del(ns, "a0"));
	ASSERT_OK(shmc_namespace_del(ns, "B"));
	ASSERT_OK(shmc_namespace_set(ns, "a", shmc_str("it's")));
	s = obj_str(ns);
	cr_assert_str_eq(s, "Namespace(Z=True, a-b=(1,), a=\"it's\", ab=[1], b=2, z=1.5, "
			    "\xc3\xa9=None)");
	shmc_free(s);

	/* shmc_obj_print writes the same and a newline. */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	ASSERT_OK(shmc_obj_print(ns, f));
	fclose(f);
	cr_assert_str_eq(buf, "Namespace(Z=True, a-b=(1,), a=\"it's\", ab=[1], b=2, z=1.5, "
			      "\xc3\xa9=None)\n");
	free(buf);
	shmc_obj_release(ns);
}

/* Live comparison with python3 -------------------------------------------- */

struct live_case {
	const char *py; /* a Python expression */
	shmc_value_t v; /* the same value built in C */
};

Test(repr, matches_live_python3)
{
	if (!have_python3())
		cr_skip("python3 is not on PATH");
	struct live_case t[] = {
		{"0.1", shmc_float(0.1)},
		{"1.0", shmc_float(1.0)},
		{"2.5", shmc_float(2.5)},
		{"1e16", shmc_float(1e16)},
		{"1e15", shmc_float(1e15)},
		{"1e-05", shmc_float(1e-05)},
		{"0.0001", shmc_float(0.0001)},
		{"-0.0", shmc_float(-0.0)},
		{"float('inf')", shmc_float(INFINITY)},
		{"float('-inf')", shmc_float(-INFINITY)},
		{"float('nan')", shmc_float(NAN)},
		{"1.5e-07", shmc_float(1.5e-07)},
		{"123456789012345678.0", shmc_float(123456789012345678.0)},
		{"1/3", shmc_float(1.0 / 3.0)},
		{"0.1 + 0.2", shmc_float(0.1 + 0.2)},
		{"5e-324", shmc_float(5e-324)},
		{"1.7976931348623157e+308", shmc_float(1.7976931348623157e+308)},
		{"100.0", shmc_float(100.0)},
		{"1e22", shmc_float(1e22)},
		{"1e23", shmc_float(1e23)},
		{"2.0 ** 53", shmc_float(9007199254740992.0)},
		{"-2 ** 63", shmc_int(INT64_MIN)},
		{"2 ** 63 - 1", shmc_int(INT64_MAX)},
		{"0", shmc_int(0)},
		{"None", shmc_none()},
		{"True", shmc_bool(true)},
		{"False", shmc_bool(false)},
		{"''", STRN("")},
		{"'abc'", STRN("abc")},
		{"\"it's\"", STRN("it's")},
		{"'say \"hi\"'", STRN("say \"hi\"")},
		{"'both \\' and \"'", STRN("both ' and \"")},
		{"'a\\nb\\tc\\rd\\\\e'", STRN("a\nb\tc\rd\\e")},
		{"'\\x00\\x1f\\x7f'", STRN("\x00\x1f\x7f")},
		{"'\\xe9'", STRN("\xc3\xa9")},
		{"'\\u6f22\\u5b57'", STRN("\xe6\xbc\xa2\xe5\xad\x97")},
		{"'\\U0001f600'", STRN("\xf0\x9f\x98\x80")},
		{"'\\x85'", STRN("\xc2\x85")},
		{"'\\xa0'", STRN("\xc2\xa0")},
		{"'\\xad'", STRN("\xc2\xad")},
		{"'\\u2028'", STRN("\xe2\x80\xa8")},
		{"'\\u200b'", STRN("\xe2\x80\x8b")},
		{"'\\u3000'", STRN("\xe3\x80\x80")},
		{"'\\ufeff'", STRN("\xef\xbb\xbf")},
		{"'\\ue000'", STRN("\xee\x80\x80")},
		{"b''", BYTES("")},
		{"b'abc'", BYTES("abc")},
		{"b\"it's\"", BYTES("it's")},
		{"b'both \\' and \"'", BYTES("both ' and \"")},
		{"b'\\x00\\x1f\\x7f\\x80\\xff'", BYTES("\x00\x1f\x7f\x80\xff")},
		{"b'a\\nb\\tc\\rd\\\\e'", BYTES("a\nb\tc\rd\\e")},
		{"()", shmc_tuple_of(0)},
		{"(1,)", shmc_tuple_of(1, shmc_int(1))},
		{"(1, 2)", shmc_tuple_of(2, shmc_int(1), shmc_int(2))},
		{"[(), [], {}]", shmc_plist_of(3, shmc_tuple_of(0), shmc_plist_of(0),
					       shmc_pdict_of(0))},
		{"[1, [2.5, None], {'a': (True, False)}, ()]",
		 shmc_plist_of(4, shmc_int(1), shmc_plist_of(2, shmc_float(2.5), shmc_none()),
			       shmc_pdict_of(1, shmc_str("a"),
					     shmc_tuple_of(2, shmc_bool(true), shmc_bool(false))),
			       shmc_tuple_of(0))},
		{"{1: [], (1, 'x'): {}, b'k': None}",
		 shmc_pdict_of(3, shmc_int(1), shmc_plist_of(0),
			       shmc_tuple_of(2, shmc_int(1), shmc_str("x")), shmc_pdict_of(0),
			       shmc_bytes("k", 1), shmc_none())},
		{"{1: 'a', 1.0: 'b'}",
		 shmc_pdict_of(2, shmc_int(1), shmc_str("a"), shmc_float(1.0), shmc_str("b"))},
		{"{True: 'x', 1: 'y', 1.0: 'z'}",
		 shmc_pdict_of(3, shmc_bool(true), shmc_str("x"), shmc_int(1), shmc_str("y"),
			       shmc_float(1.0), shmc_str("z"))},
	};
	size_t n = sizeof(t) / sizeof(t[0]);

	char path[] = "/tmp/shmc_test_repr_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *py = fdopen(fd, "w");
	cr_assert_not_null(py);
	fputs("import sys\nvals = [\n", py);
	for (size_t i = 0; i < n; i++)
		fprintf(py, "    %s,\n", t[i].py);
	fputs("]\nfor v in vals:\n"
	      "    sys.stdout.buffer.write((repr(v) + '\\n').encode('utf-8'))\n",
	      py);
	fclose(py);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "python3 -I -S %s", path);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char *line = NULL;
	size_t cap = 0, got = 0;
	ssize_t len;
	int mismatches = 0;
	while ((len = getline(&line, &cap, p)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (got < n) {
			char *mine = value_repr(t[got].v);
			if (strcmp(mine, line) != 0) {
				cr_log_error("%s: python3 printed %s, shmc printed %s",
					     t[got].py, line, mine);
				mismatches++;
			}
			shmc_free(mine);
		}
		got++;
	}
	free(line);
	int st = pclose(p);
	unlink(path);
	for (size_t i = 0; i < n; i++)
		shmc_value_free(&t[i].v);
	cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "python3 failed (status %d)", st);
	cr_assert_eq(got, n, "python3 printed %zu lines for %zu values", got, n);
	cr_assert_eq(mismatches, 0, "%d values print differently from python3",
		     mismatches);
}
