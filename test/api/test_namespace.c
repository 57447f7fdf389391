/*
 * test_namespace.c -- the managed Namespace: attributes by name, printed and
 * listed as Python does, errors that change nothing, processes setting
 * and reading attributes at once, and the '_' attributes that belong to
 * one handle as they belong to one proxy in Python (against live python3),
 * across dup, fork and threads.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "testutil.h"

TestSuite(namespace, .timeout = 60);

static void expect_names(shmc_obj_t *ns, const char *want)
{
	shmc_value_t names;
	ASSERT_OK(shmc_namespace_names(ns, &names));
	cr_assert_eq(names.type, SHMC_LIST);
	expect_repr(names, want);
	shmc_value_free(&names);
}

static void expect_attr(shmc_obj_t *ns, const char *name, const char *want)
{
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_get(ns, name, &v));
	expect_repr(v, want);
	shmc_value_free(&v);
}

Test(namespace, set_get_has_del, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	cr_assert_eq(shmc_obj_kind(ns), SHMC_KIND_NAMESPACE);
	expect_str(ns, "Namespace()");
	cr_assert_eq(shmc_namespace_has(ns, "x"), 0);
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "y", shmc_str("why")));
	cr_assert_eq(shmc_namespace_has(ns, "x"), 1);
	cr_assert_eq(shmc_namespace_has(ns, "y"), 1);
	cr_assert_eq(shmc_namespace_has(ns, "X"), 0);
	cr_assert_eq(shmc_namespace_has(ns, "xx"), 0);
	ASSERT_OK(shmc_namespace_get(ns, "x", &v));
	cr_assert(v.type == SHMC_INT && v.i == 1);
	expect_attr(ns, "y", "'why'");
	/* Overwrite, with another type. */
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_float(2.5)));
	expect_attr(ns, "x", "2.5");
	expect_str(ns, "Namespace(x=2.5, y='why')");
	ASSERT_OK(shmc_namespace_del(ns, "x"));
	cr_assert_eq(shmc_namespace_has(ns, "x"), 0);
	v = shmc_int(-7);
	ASSERT_ERR(shmc_namespace_get(ns, "x", &v), SHMC_EATTR);
	cr_assert(v.type == SHMC_INT && v.i == -7, "out written on failure");
	ASSERT_ERR(shmc_namespace_del(ns, "x"), SHMC_EATTR);
	expect_str(ns, "Namespace(y='why')");
	/* Set again after del. */
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_none()));
	expect_str(ns, "Namespace(x=None, y='why')");
	shmc_obj_release(ns);
}

Test(namespace, missing_attributes_are_attribute_errors, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	shmc_value_t v = shmc_int(-7);
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_ERR(shmc_namespace_get(ns, "nope", &v), SHMC_EATTR);
	ASSERT_ERR(shmc_namespace_del(ns, "nope"), SHMC_EATTR);
	ASSERT_ERR(shmc_namespace_add(ns, "nope", shmc_int(1), &v), SHMC_EATTR);
	ASSERT_ERR(shmc_namespace_cas(ns, "nope", shmc_none(), shmc_int(1)), SHMC_EATTR);
	cr_assert_eq(shmc_namespace_has(ns, "nope"), 0);
	ASSERT_OK(shmc_namespace_set(ns, "nop", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "nopee", shmc_int(1)));
	ASSERT_ERR(shmc_namespace_get(ns, "nope", &v), SHMC_EATTR);
	ASSERT_ERR(shmc_namespace_get(ns, "Nop", &v), SHMC_EATTR);
	cr_assert(v.type == SHMC_INT && v.i == -7, "out written on failure");
	expect_str(ns, "Namespace(nop=1, nopee=1)");
	shmc_obj_release(ns);
}

static int add_one(shmc_value_t *v, void *ctx)
{
	(void)ctx;
	v->i++;
	return 0;
}

Test(namespace, empty_or_null_names_are_invalid, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	shmc_value_t v = shmc_int(-7);
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	const char *bad[] = {"", NULL};
	for (int i = 0; i < 2; i++) {
		const char *n = bad[i];
		ASSERT_ERR(shmc_namespace_set(ns, n, shmc_int(2)), -EINVAL);
		ASSERT_ERR(shmc_namespace_get(ns, n, &v), -EINVAL);
		ASSERT_ERR(shmc_namespace_del(ns, n), -EINVAL);
		ASSERT_ERR(shmc_namespace_has(ns, n), -EINVAL);
		ASSERT_ERR(shmc_namespace_add(ns, n, shmc_int(1), &v), -EINVAL);
		ASSERT_ERR(shmc_namespace_cas(ns, n, shmc_int(1), shmc_int(2)), -EINVAL);
		ASSERT_ERR(shmc_namespace_update(ns, n, add_one, NULL), -EINVAL);
	}
	cr_assert(v.type == SHMC_INT && v.i == -7, "out written on failure");
	expect_names(ns, "['x']");
	expect_str(ns, "Namespace(x=1)");
	shmc_obj_release(ns);
}

Test(namespace, invalid_values_and_names_change_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	ASSERT_ERR(shmc_namespace_set(ns, "x", shmc_strn("\xff", 1)), -EILSEQ);
	ASSERT_ERR(shmc_namespace_set(ns, "y", shmc_strn("\xed\xa0\x80", 3)), -EILSEQ);
	ASSERT_ERR(shmc_namespace_set(ns, "\xc3", shmc_int(1)), -EILSEQ); /* a cut UTF-8 name */
	shmc_value_t err = {.type = SHMC_ERROR, .i = -ENOMEM};
	ASSERT_ERR(shmc_namespace_set(ns, "x", err), -ENOMEM);
	ASSERT_ERR(shmc_namespace_set(ns, "z", err), -ENOMEM);
	cr_assert_eq(shmc_namespace_has(ns, "y"), 0);
	cr_assert_eq(shmc_namespace_has(ns, "z"), 0);
	expect_names(ns, "['x']");
	expect_str(ns, "Namespace(x=1)");
	shmc_obj_release(ns);
}

Test(namespace, names_are_sorted, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	expect_names(ns, "[]");
	/* python3: sorted(['zeta', 'alpha', 'Beta', 'a_b', 'a', 'été', 'ab',
	 *                  '_hidden', 'a0'])
	 * -> ['Beta', '_hidden', 'a', 'a0', 'a_b', 'ab', 'alpha', 'zeta', 'été'],
	 * but '_hidden' is the handle's own, so not listed. */
	const char *names[] = {"zeta", "alpha", "Beta", "a_b", "a", "\xc3\xa9t\xc3\xa9",
			       "ab", "_hidden", "a0"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ASSERT_OK(shmc_namespace_set(ns, names[i], shmc_int((int64_t)i)));
	expect_names(ns, "['Beta', 'a', 'a0', 'a_b', 'ab', 'alpha', 'zeta', "
			 "'\xc3\xa9t\xc3\xa9']");
	ASSERT_OK(shmc_namespace_del(ns, "a"));
	ASSERT_OK(shmc_namespace_set(ns, "a", shmc_int(0))); /* re-set: still sorted */
	ASSERT_OK(shmc_namespace_del(ns, "alpha"));
	expect_names(ns, "['Beta', 'a', 'a0', 'a_b', 'ab', 'zeta', "
			 "'\xc3\xa9t\xc3\xa9']");
	/* The names are a private copy. */
	shmc_value_t l;
	ASSERT_OK(shmc_namespace_names(ns, &l));
	ASSERT_OK(shmc_plist_append(&l, shmc_str("extra")));
	shmc_value_free(&l);
	cr_assert_eq(shmc_namespace_has(ns, "extra"), 0);
	shmc_obj_release(ns);
}

Test(namespace, str_matches_python, .init = arena_setup, .fini = arena_teardown)
{
	/* python3 (multiprocessing.managers.Namespace, what a proxy prints):
	 *   ns.zeta = 1; ns.alpha = 'a'; ns.Beta = [1, (2,)]; ns.a_b = None
	 *   ns.a = 2.5; setattr(ns, 'été', b'x'); ns.ab = {1: 'x'}
	 *   print(ns)
	 *   ns.x = 0.1; ns.y = 1e16; ns.z = -0.0; ns.w = float('inf')
	 *   ns.v = float('nan'); ns.u = 1e-5; ns.t = 123456789.0
	 *   print(ns) */
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	shmc_value_t beta = shmc_plist_of(2, shmc_int(1), shmc_tuple_of(1, shmc_int(2)));
	shmc_value_t ab = shmc_pdict_of(1, shmc_int(1), shmc_str("x"));
	ASSERT_OK(shmc_namespace_set(ns, "zeta", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "alpha", shmc_str("a")));
	ASSERT_OK(shmc_namespace_set(ns, "Beta", beta));
	ASSERT_OK(shmc_namespace_set(ns, "a_b", shmc_none()));
	ASSERT_OK(shmc_namespace_set(ns, "a", shmc_float(2.5)));
	ASSERT_OK(shmc_namespace_set(ns, "\xc3\xa9t\xc3\xa9", shmc_bytes("x", 1)));
	ASSERT_OK(shmc_namespace_set(ns, "ab", ab));
	shmc_value_free(&beta);
	shmc_value_free(&ab);
	expect_str(ns, "Namespace(Beta=[1, (2,)], a=2.5, a_b=None, ab={1: 'x'}, alpha='a', "
		       "zeta=1, \xc3\xa9t\xc3\xa9=b'x')");
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_float(0.1)));
	ASSERT_OK(shmc_namespace_set(ns, "y", shmc_float(1e16)));
	ASSERT_OK(shmc_namespace_set(ns, "z", shmc_float(-0.0)));
	ASSERT_OK(shmc_namespace_set(ns, "w", shmc_float(INFINITY)));
	ASSERT_OK(shmc_namespace_set(ns, "v", shmc_float(NAN)));
	ASSERT_OK(shmc_namespace_set(ns, "u", shmc_float(1e-5)));
	ASSERT_OK(shmc_namespace_set(ns, "t", shmc_float(123456789.0)));
	expect_str(ns, "Namespace(Beta=[1, (2,)], a=2.5, a_b=None, ab={1: 'x'}, alpha='a', "
		       "t=123456789.0, u=1e-05, v=nan, w=inf, x=0.1, y=1e+16, z=-0.0, "
		       "zeta=1, \xc3\xa9t\xc3\xa9=b'x')");
	shmc_obj_release(ns);
}

Test(namespace, str_sorts_name_value_strings_and_hides_underscores, .init = arena_setup,
     .fini = arena_teardown)
{
	/* python3: ns.a = 2; ns.a0 = 1; ns._hidden = 3; ns.A = 0; print(ns)
	 * -> Namespace(A=0, a0=1, a=2)   ('a0=1' < 'a=2': '0' < '=') */
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "a", shmc_int(2)));
	ASSERT_OK(shmc_namespace_set(ns, "a0", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "_hidden", shmc_int(3)));
	ASSERT_OK(shmc_namespace_set(ns, "A", shmc_int(0)));
	expect_str(ns, "Namespace(A=0, a0=1, a=2)");
	expect_names(ns, "['A', 'a', 'a0']"); /* '_hidden' is the handle's own */
	expect_attr(ns, "_hidden", "3");
	shmc_obj_release(ns);
}

Test(namespace, values_of_every_type_round_trip, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns, *ls, *d, *other;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_namespace_new(A, &other));
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_int(2)));
	ASSERT_OK(shmc_namespace_set(other, "q", shmc_int(3)));
	struct {
		const char *name;
		shmc_value_t v;
	} cases[] = {
		{"none", shmc_none()},
		{"f", shmc_bool(false)},
		{"t", shmc_bool(true)},
		{"zero", shmc_int(0)},
		{"neg", shmc_int(-5)},
		{"imm_max", shmc_int(((int64_t)1 << 60) - 1)},
		{"imm_over", shmc_int((int64_t)1 << 60)},
		{"imm_min", shmc_int(-((int64_t)1 << 60))},
		{"imm_under", shmc_int(-((int64_t)1 << 60) - 1)},
		{"max", shmc_int(INT64_MAX)},
		{"min", shmc_int(INT64_MIN)},
		{"fl", shmc_float(0.1)},
		{"fbig", shmc_float(1e300)},
		{"finf", shmc_float(-INFINITY)},
		{"s", shmc_str("h\xc3\xa9llo \xf0\x9f\x98\x80")},
		{"s_empty", shmc_str("")},
		{"s_nul", shmc_strn("a\0b", 3)},
		{"b", shmc_bytes("\x00\xff\x01", 3)},
		{"b_empty", shmc_bytes("", 0)},
		{"tuple", shmc_tuple_of(3, shmc_int(1), shmc_str("a"),
					shmc_tuple_of(1, shmc_none()))},
		{"tuple_empty", shmc_tuple_of(0)},
		{"list", shmc_plist_of(3, shmc_float(1.5), shmc_plist_of(0),
				       shmc_bytes("z", 1))},
		{"dict", shmc_pdict_of(2, shmc_tuple_of(2, shmc_int(1), shmc_int(2)),
				       shmc_plist_of(1, shmc_int(3)), shmc_str("k"),
				       shmc_pdict_of(0))},
		{"ref_list", shmc_ref(ls)},
		{"ref_dict", shmc_ref(d)},
		{"ref_ns", shmc_ref(other)},
		{"mixed", shmc_plist_of(2, shmc_ref(ls),
					shmc_pdict_of(1, shmc_str("d"), shmc_ref(d)))},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	for (size_t i = 0; i < n; i++)
		ASSERT_OK(shmc_namespace_set(ns, cases[i].name, cases[i].v));
	for (size_t i = 0; i < n; i++) {
		shmc_value_t v;
		ASSERT_OK(shmc_namespace_get(ns, cases[i].name, &v));
		cr_assert_eq(v.type, cases[i].v.type, "%s: type %d", cases[i].name, v.type);
		cr_assert(shmc_value_eq(v, cases[i].v), "%s differs", cases[i].name);
		shmc_value_free(&v);
	}
	/* What == cannot tell. */
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_set(ns, "nan", shmc_float(NAN)));
	ASSERT_OK(shmc_namespace_get(ns, "nan", &v));
	cr_assert(v.type == SHMC_FLOAT && isnan(v.f));
	ASSERT_OK(shmc_namespace_set(ns, "negzero", shmc_float(-0.0)));
	ASSERT_OK(shmc_namespace_get(ns, "negzero", &v));
	cr_assert(v.type == SHMC_FLOAT && v.f == 0 && signbit(v.f));
	ASSERT_OK(shmc_namespace_get(ns, "t", &v));
	cr_assert_eq(v.type, SHMC_BOOL, "True came back as type %d", v.type);
	ASSERT_OK(shmc_namespace_get(ns, "ref_ns", &v));
	cr_assert(shmc_obj_same(v.ref, other));
	cr_assert_eq(shmc_obj_kind(v.ref), SHMC_KIND_NAMESPACE);
	expect_attr(v.ref, "q", "3");
	shmc_value_free(&v);
	ASSERT_OK(shmc_namespace_get(ns, "mixed", &v));
	cr_assert(shmc_obj_same(shmc_seq_at(v, 0)->ref, ls));
	cr_assert(shmc_obj_same(shmc_pdict_get(*shmc_seq_at(v, 1), shmc_str("d"))->ref, d));
	shmc_value_free(&v);
	expect_attr(ns, "s_nul", "'a\\x00b'");
	expect_attr(ns, "b", "b'\\x00\\xff\\x01'");

	for (size_t i = 0; i < n; i++)
		shmc_value_free(&cases[i].v);
	shmc_obj_release(ls);
	shmc_obj_release(d);
	shmc_obj_release(other);
	shmc_obj_release(ns);
}

Test(namespace, proxies_print_as_python, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns, *other;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_new(A, &other));
	ASSERT_OK(shmc_namespace_set(ns, "o", shmc_ref(other)));
	char *s = obj_str(ns);
	const char *want = "Namespace(o=<NamespaceProxy object, typeid 'Namespace' at 0x";
	cr_assert(strncmp(s, want, strlen(want)) == 0, "str(ns) = %s", s);
	cr_assert_str_eq(s + strlen(s) - 2, ">)");
	shmc_free(s);
	ASSERT_OK(shmc_obj_repr(ns, &s));
	want = "<NamespaceProxy object, typeid 'Namespace' at 0x";
	cr_assert(strncmp(s, want, strlen(want)) == 0, "repr(ns) = %s", s);
	shmc_free(s);
	shmc_obj_release(other);
	shmc_obj_release(ns);
}

Test(namespace, wrong_kind_and_null_handles_are_refused, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *d, *ns = NULL;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_str("x"), shmc_int(1)));
	shmc_obj_t *hs[] = {ls, d, NULL};
	int codes[] = {SHMC_EKIND, SHMC_EKIND, SHMC_EHANDLE};
	for (int i = 0; i < 3; i++) {
		shmc_obj_t *h = hs[i];
		int code = codes[i];
		shmc_value_t v = shmc_int(-7);
		ASSERT_ERR(shmc_namespace_set(h, "x", shmc_int(2)), code);
		ASSERT_ERR(shmc_namespace_get(h, "x", &v), code);
		ASSERT_ERR(shmc_namespace_del(h, "x"), code);
		ASSERT_ERR(shmc_namespace_has(h, "x"), code);
		ASSERT_ERR(shmc_namespace_names(h, &v), code);
		ASSERT_ERR(shmc_namespace_add(h, "x", shmc_int(1), &v), code);
		ASSERT_ERR(shmc_namespace_cas(h, "x", shmc_int(1), shmc_int(2)), code);
		ASSERT_ERR(shmc_namespace_update(h, "x", add_one, NULL), code);
		/* The handle is checked before the name. */
		ASSERT_ERR(shmc_namespace_set(h, "", shmc_int(2)), code);
		ASSERT_ERR(shmc_namespace_get(h, NULL, &v), code);
		cr_assert(v.type == SHMC_INT && v.i == -7, "out written on failure");
	}
	/* The dict with a str key "x" is untouched, as is the list. */
	expect_str(d, "{'x': 1}");
	cr_assert_eq(shmc_list_len(ls), 0);
	ASSERT_ERR(shmc_namespace_new(NULL, &ns), SHMC_EHANDLE);
	ASSERT_ERR(shmc_namespace_new(A, NULL), SHMC_EHANDLE);
	cr_assert_null(ns);
	shmc_obj_release(ls);
	shmc_obj_release(d);
}

Test(namespace, many_attributes, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	char name[32];
	ASSERT_OK(shmc_namespace_new(A, &ns));
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "attr%05d", i);
		ASSERT_OK(shmc_namespace_set(ns, name, shmc_int(i)));
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(name, sizeof(name), "attr%05d", i);
		ASSERT_OK(shmc_namespace_del(ns, name));
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "attr%05d", i);
		shmc_value_t v;
		int rc = shmc_namespace_get(ns, name, &v);
		if (i % 2 == 0) {
			cr_assert_eq(rc, SHMC_EATTR, "%s: %s", name, shmc_errname(rc));
		} else {
			cr_assert_eq(rc, 0, "%s: %s", name, shmc_errname(rc));
			cr_assert(v.type == SHMC_INT && v.i == i);
		}
	}
	shmc_value_t names;
	ASSERT_OK(shmc_namespace_names(ns, &names));
	cr_assert_eq(shmc_seq_len(names), 2500);
	for (int j = 0; j < 2500; j++) {
		snprintf(name, sizeof(name), "attr%05d", 2 * j + 1);
		shmc_value_t *x = shmc_seq_at(names, j);
		cr_assert(x->type == SHMC_STR && x->len == strlen(name) &&
			  memcmp(x->str, name, x->len) == 0, "names[%d]", j);
	}
	shmc_value_free(&names);
	shmc_obj_release(ns);
}

/* Processes -------------------------------------------------------------- */

/* Wait (at most TEST_DEADLINE) until ns.NAME == WANT; 0 when it did. */
static int wait_for(shmc_obj_t *ns, const char *name, int64_t want)
{
	double end = now_s() + TEST_DEADLINE;
	while (now_s() < end) {
		shmc_value_t v;
		int rc = shmc_namespace_get(ns, name, &v);
		if (rc == 0 && v.type == SHMC_INT && v.i == want)
			return 0;
		if (rc == 0)
			shmc_value_free(&v);
		else if (rc != SHMC_EATTR)
			return rc;
		sched_yield();
	}
	return -ETIMEDOUT;
}

#define ROUNDS 2000

/* The child answers each ping with a pong carrying a value it read. */
static int pong_child(int i, void *arg)
{
	(void)i;
	shmc_obj_t *ns = arg;
	for (int k = 1; k <= ROUNDS; k++) {
		CHILD_OK(wait_for(ns, "ping", k));
		shmc_value_t v;
		CHILD_OK(shmc_namespace_get(ns, "payload", &v));
		CHILD_CHECK(v.type == SHMC_TUPLE && shmc_seq_len(v) == 2);
		CHILD_CHECK(shmc_seq_at(v, 0)->i == k);
		/* Send back the payload's string, then -k. */
		shmc_value_t str;
		CHILD_OK(shmc_value_copy(*shmc_seq_at(v, 1), &str));
		shmc_value_free(&v);
		shmc_value_t back = shmc_tuple_of(2, str, shmc_int(-k));
		CHILD_OK(shmc_namespace_set(ns, "reply", back));
		shmc_value_free(&back);
		CHILD_OK(shmc_namespace_set(ns, "pong", shmc_int(k)));
	}
	CHILD_OK(shmc_namespace_del(ns, "ping"));
	return 0;
}

Test(namespace, parent_and_child_ping_pong, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(pong_child(0, ns));
	int failed = 0;
	char buf[32];
	for (int k = 1; k <= ROUNDS && !failed; k++) {
		snprintf(buf, sizeof(buf), "msg %d", k);
		shmc_value_t p = shmc_tuple_of(2, shmc_int(k), shmc_str(buf));
		failed = shmc_namespace_set(ns, "payload", p) != 0 || shmc_namespace_set(ns, "ping", shmc_int(k)) != 0;
		shmc_value_free(&p);
		if (failed || wait_for(ns, "pong", k) != 0) {
			failed = k;
			break;
		}
		shmc_value_t r;
		ASSERT_OK(shmc_namespace_get(ns, "reply", &r));
		char *s = value_repr(r);
		char want[64];
		snprintf(want, sizeof(want), "('msg %d', %d)", k, -k);
		failed = strcmp(s, want) != 0 ? k : 0;
		shmc_free(s);
		shmc_value_free(&r);
	}
	if (failed)
		kill(pid, SIGKILL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert_eq(failed, 0, "round %d failed", failed);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed (status %#x)", st);
	/* The child's last act is seen too. */
	cr_assert_eq(shmc_namespace_has(ns, "ping"), 0);
	expect_names(ns, "['payload', 'pong', 'reply']");
	shmc_obj_release(ns);
}

#define WRITERS 4
#define SETS 5000

/* Each child sets its own attribute over and over, deletes and re-creates a
 * scratch one, and reads the others' attributes, which must always be ints
 * another child could have written. */
static int writer_child(int i, void *arg)
{
	shmc_obj_t *ns = arg;
	char mine[32], scratch[32], theirs[32];
	snprintf(mine, sizeof(mine), "w%d", i);
	snprintf(scratch, sizeof(scratch), "scratch%d", i);
	for (int k = 0; k < SETS; k++) {
		CHILD_OK(shmc_namespace_set(ns, mine, shmc_int(k)));
		CHILD_OK(shmc_namespace_set(ns, scratch, shmc_str(mine)));
		shmc_value_t v;
		CHILD_OK(shmc_namespace_get(ns, mine, &v));
		CHILD_CHECK(v.type == SHMC_INT && v.i == k);
		CHILD_OK(shmc_namespace_del(ns, scratch));
		CHILD_CHECK(shmc_namespace_has(ns, scratch) == 0);
		snprintf(theirs, sizeof(theirs), "w%d", (i + 1 + k % (WRITERS - 1)) % WRITERS);
		int rc = shmc_namespace_get(ns, theirs, &v);
		CHILD_CHECK(rc == 0 || rc == SHMC_EATTR);
		if (rc == 0)
			CHILD_CHECK(v.type == SHMC_INT && v.i >= 0 && v.i < SETS);
	}
	return 0;
}

Test(namespace, processes_set_and_get_at_once, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "before_fork", shmc_str("seen by children")));
	cr_assert_eq(run_children(WRITERS, writer_child, ns), 0);
	char buf[32];
	for (int i = 0; i < WRITERS; i++) {
		snprintf(buf, sizeof(buf), "w%d", i);
		expect_attr(ns, buf, "4999");
		snprintf(buf, sizeof(buf), "scratch%d", i);
		cr_assert_eq(shmc_namespace_has(ns, buf), 0);
	}
	expect_str(ns, "Namespace(before_fork='seen by children', w0=4999, w1=4999, "
		       "w2=4999, w3=4999)");
	shmc_obj_release(ns);
}

/* Private attributes ------------------------------------------------------ */

static const char private_py[] =
	"from multiprocessing import Manager\n"
	"m = Manager()\n"
	"ns = m.Namespace()\n"
	"ns._x = 1; ns.y = 2; ns._z = [3]\n"
	"print(ns, ns._x, ns._z, hasattr(ns, '_x'), hasattr(ns, '_q'))\n"
	"ns._x += 5\n"
	"print(ns._x, ns.y)\n"
	"l = m.list([ns])\n"
	"other = l[0]\n"
	"print(other, hasattr(other, '_x'), hasattr(other, '_z'), other.y)\n"
	"other._x = 'other'\n"
	"print(ns._x, other._x)\n"
	"del ns._x\n"
	"print(hasattr(ns, '_x'))\n"
	"for f in (lambda: ns._x, lambda: delattr(ns, '_q')):\n"
	"    try:\n"
	"        f()\n"
	"    except AttributeError:\n"
	"        print('AttributeError')\n";

static const char private_want[] =
	"Namespace(y=2) 1 [3] True False\n"
	"6 2\n"
	"Namespace(y=2) False False 2\n"
	"6 other\n"
	"False\n"
	"AttributeError\n"
	"AttributeError\n";

static void print_attr(FILE *f, shmc_obj_t *ns, const char *name)
{
	shmc_value_t v;
	char *s;
	ASSERT_OK(shmc_namespace_get(ns, name, &v));
	ASSERT_OK(shmc_value_str(v, &s));
	fprintf(f, "%s ", s);
	shmc_free(s);
	shmc_value_free(&v);
}

static void print_ns(FILE *f, shmc_obj_t *ns)
{
	char *s = obj_str(ns);
	fprintf(f, "%s ", s);
	shmc_free(s);
}

static void line_end(FILE *f)
{
	fseek(f, -1, SEEK_CUR);
	fputc('\n', f);
}

Test(namespace, underscore_names_belong_to_the_handle_as_in_python, .init = arena_setup,
     .fini = arena_teardown)
{
	char *got;
	size_t len;
	FILE *f = open_memstream(&got, &len);
	shmc_obj_t *ns, *ls, *other;
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "_x", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "y", shmc_int(2)));
	v = shmc_plist_of(1, shmc_int(3));
	ASSERT_OK(shmc_namespace_set(ns, "_z", v));
	shmc_value_free(&v);
	print_ns(f, ns);
	print_attr(f, ns, "_x");
	print_attr(f, ns, "_z");
	fprintf(f, "%s %s\n", shmc_namespace_has(ns, "_x") == 1 ? "True" : "False",
		shmc_namespace_has(ns, "_q") == 1 ? "True" : "False");
	ASSERT_OK(shmc_namespace_add(ns, "_x", shmc_int(5), NULL));
	print_attr(f, ns, "_x");
	print_attr(f, ns, "y");
	line_end(f);
	/* Another handle to the same namespace, read out of a list. */
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_ref(ns)));
	ASSERT_OK(shmc_list_get(ls, 0, &v));
	other = v.ref;
	print_ns(f, other);
	fprintf(f, "%s %s ", shmc_namespace_has(other, "_x") == 1 ? "True" : "False",
		shmc_namespace_has(other, "_z") == 1 ? "True" : "False");
	print_attr(f, other, "y");
	line_end(f);
	ASSERT_OK(shmc_namespace_set(other, "_x", shmc_str("other")));
	print_attr(f, ns, "_x");
	print_attr(f, other, "_x");
	line_end(f);
	ASSERT_OK(shmc_namespace_del(ns, "_x"));
	fprintf(f, "%s\n", shmc_namespace_has(ns, "_x") == 1 ? "True" : "False");
	shmc_value_t keep = shmc_int(-7);
	if (shmc_namespace_get(ns, "_x", &keep) == SHMC_EATTR)
		fprintf(f, "AttributeError\n");
	if (shmc_namespace_del(ns, "_q") == SHMC_EATTR)
		fprintf(f, "AttributeError\n");
	cr_assert(keep.type == SHMC_INT && keep.i == -7, "out written on failure");
	fclose(f);
	expect_python(got, private_want, private_py);
	free(got);
	expect_names(ns, "['y']");
	shmc_value_free(&v); /* releases other, with its '_x' */
	shmc_obj_release(ls);
	shmc_obj_release(ns); /* with its '_z': the leak check sees both go */
}

static int double_it(shmc_value_t *v, void *ctx)
{
	(void)ctx;
	if (v->type != SHMC_INT)
		return SHMC_ETYPE;
	v->i *= 2;
	return 0;
}

/* An update callback may use the private attributes of its own handle. */
static int set_another(shmc_value_t *v, void *ctx)
{
	shmc_obj_t *ns = ctx;
	int rc = shmc_namespace_set(ns, "_other", shmc_str("set from the callback"));
	if (rc == 0) {
		shmc_value_free(v); /* replaced: the old value freed first */
		*v = shmc_str("replaced by a view");
	}
	return rc;
}

Test(namespace, underscore_names_add_cas_update_and_errors, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ns, *dup;
	shmc_value_t r = shmc_int(-7);
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_ERR(shmc_namespace_add(ns, "_n", shmc_int(1), &r), SHMC_EATTR);
	ASSERT_ERR(shmc_namespace_cas(ns, "_n", shmc_int(1), shmc_int(2)), SHMC_EATTR);
	ASSERT_ERR(shmc_namespace_update(ns, "_n", double_it, NULL), SHMC_EATTR);
	ASSERT_ERR(shmc_namespace_update(ns, "_n", NULL, NULL), -EINVAL);
	ASSERT_ERR(shmc_namespace_set(ns, "_\xff", shmc_int(1)), -EILSEQ);
	shmc_value_t err = shmc_tuple_of(1, shmc_strn("x", (size_t)SHMC_MAX_LEN + 1));
	ASSERT_ERR(shmc_namespace_set(ns, "_e", err), -EOVERFLOW);
	ASSERT_OK(shmc_namespace_set(ns, "_n", shmc_int(20)));
	ASSERT_OK(shmc_namespace_add(ns, "_n", shmc_float(0.5), &r));
	expect_repr(r, "20.5");
	ASSERT_ERR(shmc_namespace_add(ns, "_n", shmc_str("s"), &r), SHMC_ETYPE);
	ASSERT_OK(shmc_namespace_set(ns, "_n", shmc_int(INT64_MAX)));
	ASSERT_OK(shmc_namespace_add(ns, "_n", shmc_int(1), &r)); /* a big int, as Python */
	expect_repr(r, "9223372036854775808");
	shmc_value_free(&r);
	ASSERT_OK(shmc_namespace_set(ns, "_n", shmc_int(INT64_MAX)));
	ASSERT_ERR(shmc_namespace_cas(ns, "_n", shmc_int(1), shmc_int(2)), 0);
	ASSERT_ERR(shmc_namespace_cas(ns, "_n", shmc_int(INT64_MAX), shmc_int(21)), 1);
	ASSERT_OK(shmc_namespace_update(ns, "_n", double_it, NULL));
	expect_attr(ns, "_n", "42");
	ASSERT_OK(shmc_namespace_set(ns, "_s", shmc_str("text")));
	ASSERT_ERR(shmc_namespace_update(ns, "_s", double_it, NULL), SHMC_ETYPE);
	expect_attr(ns, "_s", "'text'");
	ASSERT_OK(shmc_namespace_update(ns, "_s", set_another, ns));
	expect_attr(ns, "_s", "'replaced by a view'");
	expect_attr(ns, "_other", "'set from the callback'");
	/* A private attribute holding a reference keeps its object alive
	 * until the handle goes. */
	ASSERT_OK(shmc_obj_dup(ns, &dup));
	cr_assert_eq(shmc_namespace_has(dup, "_n"), 0);
	ASSERT_OK(shmc_namespace_set(dup, "_self", shmc_ref(ns)));
	shmc_obj_release(ns);
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_get(dup, "_self", &v));
	cr_assert(v.type == SHMC_REF && shmc_obj_kind(v.ref) == SHMC_KIND_NAMESPACE);
	cr_assert_eq(shmc_namespace_has(v.ref, "_n"), 0); /* a handle of its own */
	shmc_value_free(&v);
	expect_names(dup, "[]");
	expect_str(dup, "Namespace()");
	shmc_obj_release(dup);
}

/* A forked child starts with a copy of its parent's private attributes
 * (as a forked Python child has a copy of the proxy); what either sets
 * afterwards the other never sees. A handle the child reads out of a
 * container has none. */
struct fork_ctx {
	shmc_obj_t *ns, *ls;
};

static int private_child(void *arg)
{
	struct fork_ctx *c = arg;
	shmc_value_t v;
	CHILD_OK(shmc_namespace_get(c->ns, "_p", &v));
	CHILD_CHECK(v.type == SHMC_INT && v.i == 1);
	CHILD_OK(shmc_namespace_set(c->ns, "_p", shmc_int(2)));
	CHILD_OK(shmc_namespace_set(c->ns, "_c", shmc_int(3)));
	CHILD_OK(shmc_namespace_set(c->ns, "shared", shmc_str("from the child")));
	CHILD_OK(shmc_list_get(c->ls, 0, &v));
	CHILD_CHECK(shmc_namespace_has(v.ref, "_p") == 0);
	CHILD_CHECK(shmc_namespace_has(v.ref, "shared") == 1);
	shmc_value_free(&v);
	return 0;
}

Test(namespace, underscore_names_across_fork, .init = arena_setup, .fini = arena_teardown)
{
	struct fork_ctx c;
	ASSERT_OK(shmc_namespace_new(A, &c.ns));
	ASSERT_OK(shmc_list_new(A, &c.ls));
	ASSERT_OK(shmc_list_append(c.ls, shmc_ref(c.ns)));
	ASSERT_OK(shmc_namespace_set(c.ns, "_p", shmc_int(1)));
	pid_t pid = fork_fn(private_child, &c);
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	expect_attr(c.ns, "_p", "1");
	cr_assert_eq(shmc_namespace_has(c.ns, "_c"), 0);
	expect_attr(c.ns, "shared", "'from the child'");
	expect_str(c.ns, "Namespace(shared='from the child')");
	shmc_obj_release(c.ls);
	shmc_obj_release(c.ns);
}

/* Threads sharing one handle add to its private counter: none is lost. */
#define PRIV_THREADS 4
#define PRIV_ADDS 20000

static void *private_adder(void *arg)
{
	shmc_obj_t *ns = arg;
	for (int i = 0; i < PRIV_ADDS; i++)
		if (shmc_namespace_add(ns, "_count", shmc_int(1), NULL) != 0)
			return (void *)1;
	return NULL;
}

Test(namespace, underscore_counter_shared_by_threads_loses_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ns;
	pthread_t t[PRIV_THREADS];
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "_count", shmc_int(0)));
	for (int i = 0; i < PRIV_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, private_adder, ns), 0);
	for (int i = 0; i < PRIV_THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		cr_assert_null(r);
	}
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_get(ns, "_count", &v));
	cr_assert_eq(v.i, PRIV_THREADS * PRIV_ADDS);
	shmc_obj_release(ns);
}

/* A private attribute's add past int64 (or of complex numbers) stores a
 * number that owns memory: the result is the caller's own copy, and the
 * number replaced is freed (ns._n = 2**63 - 1; ns._n += 1 ...). */
Test(namespace, private_add_of_big_ints_and_complex_gives_copies_of_their_own,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	shmc_value_t r;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "_n", shmc_int(INT64_MAX)));
	ASSERT_OK(shmc_namespace_add(ns, "_n", shmc_int(1), &r));
	expect_repr(r, "9223372036854775808");
	shmc_value_free(&r);
	ASSERT_OK(shmc_namespace_add(ns, "_n", shmc_int(1), &r));
	expect_repr(r, "9223372036854775809");
	shmc_value_free(&r);
	ASSERT_OK(shmc_namespace_add(ns, "_n", shmc_int(1), NULL));
	expect_attr(ns, "_n", "9223372036854775810");
	ASSERT_OK(shmc_namespace_add(ns, "_n", shmc_int(INT64_MIN), &r));
	expect_repr(r, "2");
	expect_attr(ns, "_n", "2");
	shmc_value_t c = shmc_complex(1, 1);
	ASSERT_OK(shmc_namespace_set(ns, "_c", c));
	shmc_value_free(&c);
	c = shmc_complex(0, 1);
	ASSERT_OK(shmc_namespace_add(ns, "_c", c, &r));
	expect_repr(r, "(1+2j)");
	shmc_value_free(&r);
	ASSERT_OK(shmc_namespace_add(ns, "_c", c, &r));
	shmc_value_free(&c);
	expect_repr(r, "(1+3j)");
	shmc_value_free(&r);
	expect_attr(ns, "_c", "(1+3j)");
	shmc_obj_release(ns);
}
