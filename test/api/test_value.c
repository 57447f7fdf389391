/*
 * test_value.c -- plain values (lib/value.c, lib/pdict.c): builders and
 * ownership, error values, deep copies, Python's ==, sequences, plain dicts
 * (Python's first-key rule, unhashable keys, the hash index) and the UTF-8
 * check made when a str is stored into a managed container.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "testutil.h"

TestSuite(value, .timeout = 60);

static void expect_obj_str(shmc_obj_t *o, const char *want)
{
	char *s = obj_str(o);
	cr_assert_str_eq(s, want);
	shmc_free(s);
}

/* An error value, as a failing builder makes it: an unhashable key. */
static shmc_value_t unhashable_error(void)
{
	return shmc_pdict_of(1, shmc_plist_of(0), shmc_int(1));
}

/* Builders ---------------------------------------------------------------- */

Test(value, builders_make_owned_containers)
{
	shmc_value_t t = shmc_tuple_of(3, shmc_int(1), shmc_str("a"), shmc_none());
	cr_assert_eq(t.type, SHMC_TUPLE);
	cr_assert(t.owned);
	cr_assert_eq(shmc_seq_len(t), 3);
	cr_assert_eq(shmc_seq_at(t, 0)->type, SHMC_INT);
	cr_assert_eq(shmc_seq_at(t, 0)->i, 1);
	cr_assert_eq(shmc_seq_at(t, 1)->type, SHMC_STR);
	cr_assert_eq(shmc_seq_at(t, 1)->len, 1);
	cr_assert_eq(shmc_seq_at(t, 2)->type, SHMC_NONE);
	expect_repr(t, "(1, 'a', None)");

	shmc_value_t l = shmc_plist_of(0);
	cr_assert_eq(l.type, SHMC_LIST);
	cr_assert(l.owned);
	cr_assert_eq(shmc_seq_len(l), 0);
	expect_repr(l, "[]");

	shmc_value_t e = shmc_tuple_of(0);
	cr_assert_eq(e.type, SHMC_TUPLE);
	expect_repr(e, "()");

	shmc_value_t d = shmc_pdict_of(2, shmc_str("x"), shmc_float(2.5),
				       shmc_int(7), shmc_plist_of(1, t));
	cr_assert_eq(d.type, SHMC_DICT);
	cr_assert(d.owned);
	cr_assert_eq(shmc_pdict_len(d), 2);
	expect_repr(d, "{'x': 2.5, 7: [(1, 'a', None)]}");
	shmc_value_t *x = shmc_pdict_get(d, shmc_str("x"));
	cr_assert_not_null(x);
	cr_assert_eq(x->type, SHMC_FLOAT);
	cr_assert_eq(x->f, 2.5);

	/* A later duplicate key replaces the earlier value. */
	shmc_value_t dup = shmc_pdict_of(3, shmc_str("k"), shmc_int(1), shmc_str("j"),
					 shmc_int(2), shmc_str("k"), shmc_int(3));
	expect_repr(dup, "{'k': 3, 'j': 2}");

	shmc_value_free(&d); /* owns t now */
	shmc_value_free(&l);
	shmc_value_free(&e);
	shmc_value_free(&dup);
	cr_assert_eq(d.type, SHMC_NONE);
	cr_assert_eq(l.type, SHMC_NONE);
}

Test(value, builders_copy_views_and_never_free_them, .init = arena_setup,
     .fini = arena_teardown)
{
	char *buf = strdup("hello");
	unsigned char raw[4] = {0, 'b', 0xff, 0};
	shmc_value_t t = shmc_tuple_of(2, shmc_str(buf), shmc_bytes(raw, sizeof(raw)));
	cr_assert_eq(t.type, SHMC_TUPLE);
	shmc_value_t *s = shmc_seq_at(t, 0), *b = shmc_seq_at(t, 1);
	cr_assert(s->owned);
	cr_assert(b->owned);
	cr_assert_neq(s->str, buf, "the builder kept the view's memory");
	cr_assert_neq((const void *)b->str, (const void *)raw);
	cr_assert_eq(b->len, 4);
	/* Changing the caller's memory changes nothing in the value. */
	buf[0] = 'J';
	raw[1] = 'X';
	cr_assert_eq(memcmp(s->str, "hello", 5), 0);
	cr_assert_eq(memcmp(b->str, "\0b\xff\0", 4), 0);
	expect_repr(t, "('hello', b'\\x00b\\xff\\x00')");

	/* A dict copies viewed keys and values too. */
	char key[] = "key", val[] = "val";
	shmc_value_t d = shmc_pdict_of(1, shmc_str(key), shmc_str(val));
	key[0] = 'K';
	val[0] = 'V';
	expect_repr(d, "{'key': 'val'}");
	cr_assert_not_null(shmc_pdict_get(d, shmc_str("key")));
	cr_assert_null(shmc_pdict_get(d, shmc_str("Key")));

	/* A referenced object gets a handle of the value's own. */
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	shmc_value_t r = shmc_plist_of(1, shmc_ref(ls));
	shmc_value_t *item = shmc_seq_at(r, 0);
	cr_assert_eq(item->type, SHMC_REF);
	cr_assert(item->owned);
	cr_assert_neq(item->ref, ls);
	cr_assert(shmc_obj_same(item->ref, ls));

	/* Freeing the values leaves every view alone. */
	shmc_value_free(&t);
	shmc_value_free(&d);
	shmc_value_free(&r);
	cr_assert_str_eq(buf, "Jello");
	cr_assert_eq(shmc_list_len(ls), 0);
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	expect_obj_str(ls, "[1]");

	/* shmc_value_free of a view resets it and frees nothing. */
	shmc_value_t v = shmc_str(buf);
	shmc_value_free(&v);
	cr_assert_eq(v.type, SHMC_NONE);
	cr_assert_str_eq(buf, "Jello");
	v = shmc_ref(ls);
	shmc_value_free(&v);
	cr_assert_eq(v.type, SHMC_NONE);
	cr_assert_eq(shmc_obj_kind(ls), SHMC_KIND_LIST);
	cr_assert_eq(shmc_list_len(ls), 1);
	shmc_value_t n = shmc_none();
	shmc_value_free(&n);
	shmc_value_free(NULL);

	shmc_obj_release(ls);
	free(buf);
}

/* Error values ------------------------------------------------------------ */

Test(value, a_builder_given_an_error_value_returns_an_error_value)
{
	shmc_value_t err = unhashable_error();
	cr_assert_eq(err.type, SHMC_ERROR);
	cr_assert_eq(err.i, SHMC_EUNHASHABLE);

	shmc_value_t t = shmc_tuple_of(3, shmc_int(1), unhashable_error(), shmc_str("x"));
	cr_assert_eq(t.type, SHMC_ERROR);
	cr_assert_eq(t.i, SHMC_EUNHASHABLE);

	shmc_value_t l = shmc_plist_of(2, unhashable_error(), shmc_plist_of(1, shmc_int(2)));
	cr_assert_eq(l.type, SHMC_ERROR);
	cr_assert_eq(l.i, SHMC_EUNHASHABLE);

	shmc_value_t dv = shmc_pdict_of(2, shmc_str("k"), unhashable_error(),
					shmc_str("j"), shmc_int(1));
	cr_assert_eq(dv.type, SHMC_ERROR);
	cr_assert_eq(dv.i, SHMC_EUNHASHABLE);

	/* An error value as a key reports the error it carries. */
	shmc_value_t enomem = {SHMC_ERROR, 0, 0, 0, {.i = -ENOMEM}};
	shmc_value_t dk = shmc_pdict_of(1, enomem, shmc_int(1));
	cr_assert_eq(dk.type, SHMC_ERROR);
	cr_assert_eq(dk.i, -ENOMEM);

	/* The code is carried unchanged, through any depth. */
	shmc_value_t nested = shmc_tuple_of(
		2, shmc_str("a"), shmc_plist_of(1, shmc_tuple_of(1, enomem)));
	cr_assert_eq(nested.type, SHMC_ERROR);
	cr_assert_eq(nested.i, -ENOMEM);

	/* Everything else refuses it with its code. */
	shmc_value_t out = shmc_int(99);
	ASSERT_ERR(shmc_value_copy(err, &out), SHMC_EUNHASHABLE);
	cr_assert(out.type == SHMC_INT && out.i == 99, "out written on failure");
	char *s = (char *)"untouched";
	ASSERT_ERR(shmc_value_repr(enomem, &s), -ENOMEM);
	cr_assert_str_eq(s, "untouched");
	ASSERT_ERR(shmc_value_str(err, &s), SHMC_EUNHASHABLE);

	shmc_value_t pl = shmc_plist_of(1, shmc_int(1));
	ASSERT_ERR(shmc_plist_append(&pl, err), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_plist_set(&pl, 0, enomem), -ENOMEM);
	expect_repr(pl, "[1]");
	shmc_value_t pd = shmc_pdict_of(1, shmc_int(1), shmc_int(2));
	ASSERT_ERR(shmc_pdict_set(&pd, shmc_int(1), enomem), -ENOMEM);
	ASSERT_ERR(shmc_pdict_set(&pd, shmc_int(3), enomem), -ENOMEM);
	ASSERT_ERR(shmc_pdict_set(&pd, enomem, shmc_int(3)), -ENOMEM);
	expect_repr(pd, "{1: 2}");

	shmc_value_free(&pl);
	shmc_value_free(&pd);
	/* Freeing an error value is harmless. */
	shmc_value_free(&err);
	cr_assert_eq(err.type, SHMC_NONE);
	shmc_value_free(&t);
	shmc_value_free(&l);
	shmc_value_free(&dv);
	shmc_value_free(&dk);
	shmc_value_free(&nested);
}

Test(value, storing_an_error_value_returns_its_code_and_changes_nothing,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *d, *ns, *x = NULL;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	ASSERT_OK(shmc_dict_set(d, shmc_str("k"), shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "a", shmc_int(1)));

	shmc_value_t err = unhashable_error();
	shmc_value_t enomem = {SHMC_ERROR, 0, 0, 0, {.i = -ENOMEM}};
	ASSERT_ERR(shmc_list_append(ls, err), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_list_set(ls, 0, err), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_list_insert(ls, 0, enomem), -ENOMEM);
	ASSERT_ERR(shmc_list_extend(ls, err), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_list_new_from(A, err, &x), SHMC_EUNHASHABLE);
	cr_assert_null(x);
	ASSERT_ERR(shmc_dict_set(d, shmc_str("k"), err), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_dict_set(d, shmc_str("new"), enomem), -ENOMEM);
	ASSERT_ERR(shmc_dict_set(d, enomem, shmc_int(2)), -ENOMEM);
	ASSERT_ERR(shmc_dict_new_from(A, err, &x), SHMC_EUNHASHABLE);
	cr_assert_null(x);
	ASSERT_ERR(shmc_namespace_set(ns, "a", err), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_namespace_set(ns, "b", enomem), -ENOMEM);

	/* An error value planted inside a container (through shmc_seq_at,
	 * which lends the item) is found however deep it is. */
	shmc_value_t deep = shmc_plist_of(2, shmc_int(5),
					  shmc_tuple_of(2, shmc_str("x"), shmc_none()));
	shmc_value_t *slot = shmc_seq_at(*shmc_seq_at(deep, 1), 1);
	*slot = enomem;
	ASSERT_ERR(shmc_list_append(ls, deep), -ENOMEM);
	ASSERT_ERR(shmc_list_set(ls, 0, deep), -ENOMEM);
	ASSERT_ERR(shmc_dict_set(d, shmc_str("k"), deep), -ENOMEM);
	ASSERT_ERR(shmc_namespace_set(ns, "a", deep), -ENOMEM);
	*slot = shmc_none();

	cr_assert_eq(shmc_list_len(ls), 1);
	cr_assert_eq(shmc_dict_len(d), 1);
	expect_obj_str(ls, "[1]");
	expect_obj_str(d, "{'k': 1}");
	expect_obj_str(ns, "Namespace(a=1)");

	shmc_value_free(&deep);
	shmc_obj_release(ls);
	shmc_obj_release(d);
	shmc_obj_release(ns);
}

/* Deep copies ------------------------------------------------------------- */

Test(value, copy_is_deep)
{
	const char *want = "{'list': [1, ('x', b'ab')], 's': 'text'}";
	shmc_value_t orig = shmc_pdict_of(
		2, shmc_str("list"),
		shmc_plist_of(2, shmc_int(1),
			      shmc_tuple_of(2, shmc_str("x"), shmc_bytes("ab", 2))),
		shmc_str("s"), shmc_str("text"));
	shmc_value_t copy;
	ASSERT_OK(shmc_value_copy(orig, &copy));
	cr_assert_eq(copy.type, SHMC_DICT);
	cr_assert(copy.owned);
	cr_assert_neq(copy.map, orig.map);
	cr_assert(shmc_value_eq(orig, copy));
	expect_repr(copy, want);

	/* No memory is shared, at any depth. */
	shmc_value_t *ol = shmc_pdict_get(orig, shmc_str("list"));
	shmc_value_t *cl = shmc_pdict_get(copy, shmc_str("list"));
	cr_assert_neq(ol->seq, cl->seq);
	shmc_value_t *ot = shmc_seq_at(*ol, 1), *ct = shmc_seq_at(*cl, 1);
	cr_assert_neq(ot->seq, ct->seq);
	cr_assert_neq(shmc_seq_at(*ot, 0)->str, shmc_seq_at(*ct, 0)->str);

	/* Change the copy every way there is. */
	((char *)shmc_seq_at(*ct, 0)->str)[0] = 'y';
	((char *)shmc_seq_at(*ct, 1)->str)[1] = 'Z';
	ASSERT_OK(shmc_plist_set(cl, 0, shmc_str("changed")));
	ASSERT_OK(shmc_plist_append(cl, shmc_int(2)));
	ASSERT_OK(shmc_pdict_set(&copy, shmc_str("new"), shmc_none()));
	ASSERT_OK(shmc_pdict_del(&copy, shmc_str("s")));
	expect_repr(copy, "{'list': ['changed', ('y', b'aZ'), 2], 'new': None}");
	expect_repr(orig, want);
	cr_assert_not(shmc_value_eq(orig, copy));

	/* A copy of a view owns its bytes. */
	char buf[] = "view";
	shmc_value_t vc;
	ASSERT_OK(shmc_value_copy(shmc_str(buf), &vc));
	cr_assert(vc.owned);
	cr_assert_neq(vc.str, buf);
	buf[0] = 'V';
	expect_repr(vc, "'view'");

	/* Scalars copy as themselves. */
	shmc_value_t sc;
	ASSERT_OK(shmc_value_copy(shmc_float(-2.5), &sc));
	cr_assert(sc.type == SHMC_FLOAT && sc.f == -2.5);
	ASSERT_OK(shmc_value_copy(shmc_int(INT64_MIN), &sc));
	cr_assert(sc.type == SHMC_INT && sc.i == INT64_MIN);
	ASSERT_OK(shmc_value_copy(shmc_none(), &sc));
	cr_assert_eq(sc.type, SHMC_NONE);

	shmc_value_free(&vc);
	shmc_value_free(&orig);
	shmc_value_free(&copy);
}

Test(value, copy_of_a_reference_gets_its_own_handle, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	shmc_value_t t = shmc_tuple_of(2, shmc_ref(ls), shmc_int(1));
	shmc_value_t c;
	ASSERT_OK(shmc_value_copy(t, &c));
	shmc_value_t *ro = shmc_seq_at(t, 0), *rc = shmc_seq_at(c, 0);
	cr_assert_eq(rc->type, SHMC_REF);
	cr_assert(rc->owned);
	cr_assert_neq(rc->ref, ro->ref);
	cr_assert(shmc_obj_same(rc->ref, ls));
	cr_assert(shmc_value_eq(t, c));
	/* The copy still reaches the shared object. */
	ASSERT_OK(shmc_list_append(rc->ref, shmc_str("via copy")));
	shmc_value_free(&c);
	ASSERT_OK(shmc_list_append(ro->ref, shmc_int(2)));
	expect_obj_str(ls, "['via copy', 2]");
	shmc_value_free(&t);
	expect_obj_str(ls, "['via copy', 2]");
	shmc_obj_release(ls);
}

/* Python's == ------------------------------------------------------------- */

struct eq_case {
	const char *what;
	shmc_value_t a, b;
	bool eq;
};

Test(value, eq_follows_python)
{
	struct eq_case c[] = {
		{"1 == 1.0", shmc_int(1), shmc_float(1.0), true},
		{"1 == True", shmc_int(1), shmc_bool(true), true},
		{"True == 1.0", shmc_bool(true), shmc_float(1.0), true},
		{"0 == False", shmc_int(0), shmc_bool(false), true},
		{"0.0 == False", shmc_float(0.0), shmc_bool(false), true},
		{"2 != True", shmc_int(2), shmc_bool(true), false},
		{"1 != 1.5", shmc_int(1), shmc_float(1.5), false},
		{"-0.0 == 0", shmc_float(-0.0), shmc_int(0), true},
		{"-0.0 == 0.0", shmc_float(-0.0), shmc_float(0.0), true},
		{"nan != nan", shmc_float(NAN), shmc_float(NAN), false},
		{"nan != 0", shmc_float(NAN), shmc_int(0), false},
		{"inf == inf", shmc_float(INFINITY), shmc_float(INFINITY), true},
		{"inf != -inf", shmc_float(INFINITY), shmc_float(-INFINITY), false},
		{"2**53 == 2.0**53", shmc_int(9007199254740992LL),
		 shmc_float(9007199254740992.0), true},
		{"2**53+1 != 2.0**53", shmc_int(9007199254740993LL),
		 shmc_float(9007199254740992.0), false},
		{"2**63-1 != 2.0**63", shmc_int(INT64_MAX), shmc_float(9223372036854775808.0),
		 false},
		{"-2**63 == -2.0**63", shmc_int(INT64_MIN),
		 shmc_float(-9223372036854775808.0), true},
		{"None == None", shmc_none(), shmc_none(), true},
		{"None != 0", shmc_none(), shmc_int(0), false},
		{"None != False", shmc_none(), shmc_bool(false), false},
		{"None != ''", shmc_none(), shmc_str(""), false},
		{"'a' == 'a'", shmc_str("a"), shmc_strn("ab", 1), true},
		{"'a' != b'a'", shmc_str("a"), shmc_bytes("a", 1), false},
		{"'' != b''", shmc_str(""), shmc_bytes("", 0), false},
		{"'a\\0b' != 'a\\0c'", shmc_strn("a\0b", 3), shmc_strn("a\0c", 3), false},
		{"'a\\0b' != 'a'", shmc_strn("a\0b", 3), shmc_str("a"), false},
		{"b'\\xff' == b'\\xff'", shmc_bytes("\xff", 1), shmc_bytes("\xff", 1), true},
		{"'1' != 1", shmc_str("1"), shmc_int(1), false},
		{"(1, 'a') == (1.0, 'a')", shmc_tuple_of(2, shmc_int(1), shmc_str("a")),
		 shmc_tuple_of(2, shmc_float(1.0), shmc_str("a")), true},
		{"(1, 'a') != (1, 'b')", shmc_tuple_of(2, shmc_int(1), shmc_str("a")),
		 shmc_tuple_of(2, shmc_int(1), shmc_str("b")), false},
		{"(1,) != (1, 1)", shmc_tuple_of(1, shmc_int(1)),
		 shmc_tuple_of(2, shmc_int(1), shmc_int(1)), false},
		{"[1] != (1,)", shmc_plist_of(1, shmc_int(1)), shmc_tuple_of(1, shmc_int(1)),
		 false},
		{"[] != ()", shmc_plist_of(0), shmc_tuple_of(0), false},
		{"[] == []", shmc_plist_of(0), shmc_plist_of(0), true},
		{"[] != {}", shmc_plist_of(0), shmc_pdict_of(0), false},
		{"[[1, 2], (3,)] == [[1.0, 2], (True+2,)]",
		 shmc_plist_of(2, shmc_plist_of(2, shmc_int(1), shmc_int(2)),
			       shmc_tuple_of(1, shmc_int(3))),
		 shmc_plist_of(2, shmc_plist_of(2, shmc_float(1.0), shmc_int(2)),
			       shmc_tuple_of(1, shmc_float(3.0))),
		 true},
		{"[nan] != [nan]", shmc_plist_of(1, shmc_float(NAN)),
		 shmc_plist_of(1, shmc_float(NAN)), false},
		{"{} == {}", shmc_pdict_of(0), shmc_pdict_of(0), true},
		{"{1: 'a', 2: 'b'} == {2: 'b', 1: 'a'}",
		 shmc_pdict_of(2, shmc_int(1), shmc_str("a"), shmc_int(2), shmc_str("b")),
		 shmc_pdict_of(2, shmc_int(2), shmc_str("b"), shmc_int(1), shmc_str("a")),
		 true},
		{"{1: 'a'} != {1: 'b'}", shmc_pdict_of(1, shmc_int(1), shmc_str("a")),
		 shmc_pdict_of(1, shmc_int(1), shmc_str("b")), false},
		{"{1: 'a'} != {2: 'a'}", shmc_pdict_of(1, shmc_int(1), shmc_str("a")),
		 shmc_pdict_of(1, shmc_int(2), shmc_str("a")), false},
		{"{1: 'a'} != {1: 'a', 2: 'a'}", shmc_pdict_of(1, shmc_int(1), shmc_str("a")),
		 shmc_pdict_of(2, shmc_int(1), shmc_str("a"), shmc_int(2), shmc_str("a")),
		 false},
		{"{1: [1]} == {True: [1.0]}", shmc_pdict_of(1, shmc_int(1), shmc_plist_of(1, shmc_int(1))),
		 shmc_pdict_of(1, shmc_bool(true), shmc_plist_of(1, shmc_float(1.0))), true},
		{"{(1, 'x'): None} == {(1.0, 'x'): None}",
		 shmc_pdict_of(1, shmc_tuple_of(2, shmc_int(1), shmc_str("x")), shmc_none()),
		 shmc_pdict_of(1, shmc_tuple_of(2, shmc_float(1.0), shmc_str("x")), shmc_none()),
		 true},
		{"{'a': 1} != [('a', 1)]", shmc_pdict_of(1, shmc_str("a"), shmc_int(1)),
		 shmc_plist_of(1, shmc_tuple_of(2, shmc_str("a"), shmc_int(1))), false},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cr_assert_neq(c[i].a.type, SHMC_ERROR, "%s", c[i].what);
		cr_assert_neq(c[i].b.type, SHMC_ERROR, "%s", c[i].what);
		cr_assert_eq(shmc_value_eq(c[i].a, c[i].b), c[i].eq, "%s", c[i].what);
		cr_assert_eq(shmc_value_eq(c[i].b, c[i].a), c[i].eq, "%s (swapped)",
			     c[i].what);
	}
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		shmc_value_free(&c[i].a);
		shmc_value_free(&c[i].b);
	}
}

Test(value, refs_are_equal_iff_they_name_the_same_object, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *a, *a2, *b;
	ASSERT_OK(shmc_list_new(A, &a));
	ASSERT_OK(shmc_list_new(A, &b)); /* same (empty) contents */
	ASSERT_OK(shmc_obj_dup(a, &a2));
	cr_assert(shmc_value_eq(shmc_ref(a), shmc_ref(a)));
	cr_assert(shmc_value_eq(shmc_ref(a), shmc_ref(a2)));
	cr_assert_not(shmc_value_eq(shmc_ref(a), shmc_ref(b)));
	shmc_value_t empty = shmc_plist_of(0);
	cr_assert_not(shmc_value_eq(shmc_ref(a), empty));
	cr_assert_not(shmc_value_eq(empty, shmc_ref(a)));
	shmc_value_free(&empty);
	/* A ref read back from a container is the same object. */
	shmc_obj_t *outer;
	ASSERT_OK(shmc_list_new(A, &outer));
	ASSERT_OK(shmc_list_append(outer, shmc_ref(a)));
	shmc_value_t got;
	ASSERT_OK(shmc_list_get(outer, 0, &got));
	cr_assert_eq(got.type, SHMC_REF);
	cr_assert(shmc_value_eq(got, shmc_ref(a2)));
	cr_assert_not(shmc_value_eq(got, shmc_ref(b)));
	shmc_value_t t1 = shmc_tuple_of(1, shmc_ref(a)), t2 = shmc_tuple_of(1, shmc_ref(a2));
	shmc_value_t t3 = shmc_tuple_of(1, shmc_ref(b));
	cr_assert(shmc_value_eq(t1, t2));
	cr_assert_not(shmc_value_eq(t1, t3));
	shmc_value_free(&t1);
	shmc_value_free(&t2);
	shmc_value_free(&t3);
	shmc_value_free(&got);
	shmc_obj_release(outer);
	shmc_obj_release(a);
	shmc_obj_release(a2);
	shmc_obj_release(b);
}

/* Sequences --------------------------------------------------------------- */

Test(value, seq_at_takes_python_indices)
{
	shmc_value_t t = shmc_tuple_of(3, shmc_int(10), shmc_int(11), shmc_int(12));
	cr_assert_eq(shmc_seq_at(t, 0)->i, 10);
	cr_assert_eq(shmc_seq_at(t, 2)->i, 12);
	cr_assert_eq(shmc_seq_at(t, -1)->i, 12);
	cr_assert_eq(shmc_seq_at(t, -3)->i, 10);
	cr_assert_eq(shmc_seq_at(t, -2), shmc_seq_at(t, 1));
	cr_assert_null(shmc_seq_at(t, 3));
	cr_assert_null(shmc_seq_at(t, -4));
	cr_assert_null(shmc_seq_at(t, INT64_MAX));
	cr_assert_null(shmc_seq_at(t, INT64_MIN));
	/* The item is lent: changing it changes the tuple. */
	shmc_seq_at(t, -1)->i = 99;
	expect_repr(t, "(10, 11, 99)");

	shmc_value_t empty = shmc_plist_of(0);
	cr_assert_null(shmc_seq_at(empty, 0));
	cr_assert_null(shmc_seq_at(empty, -1));

	/* Not sequences. */
	shmc_value_t d = shmc_pdict_of(1, shmc_int(0), shmc_int(1));
	cr_assert_null(shmc_seq_at(d, 0));
	cr_assert_null(shmc_seq_at(shmc_str("abc"), 0));
	cr_assert_null(shmc_seq_at(shmc_int(3), 0));
	cr_assert_null(shmc_seq_at(shmc_none(), 0));
	cr_assert_eq(shmc_seq_len(d), 0);
	cr_assert_eq(shmc_seq_len(shmc_str("abc")), 0);
	cr_assert_eq(shmc_seq_len(shmc_bytes("abc", 3)), 0);
	cr_assert_eq(shmc_seq_len(t), 3);
	shmc_value_free(&t);
	shmc_value_free(&empty);
	shmc_value_free(&d);
}

Test(value, plist_append_and_set)
{
	shmc_value_t l = shmc_plist_of(0);
	for (int i = 0; i < 1000; i++)
		ASSERT_OK(shmc_plist_append(&l, shmc_int(i)));
	ASSERT_OK(shmc_plist_append(&l, shmc_str("end")));
	cr_assert_eq(shmc_seq_len(l), 1001);
	for (int i = 0; i < 1000; i += 37)
		cr_assert_eq(shmc_seq_at(l, i)->i, i);
	ASSERT_OK(shmc_plist_set(&l, 0, shmc_str("first")));
	ASSERT_OK(shmc_plist_set(&l, -1, shmc_plist_of(1, shmc_none())));
	ASSERT_OK(shmc_plist_set(&l, -1001, shmc_float(0.5))); /* the first again */
	cr_assert_eq(shmc_seq_at(l, 0)->type, SHMC_FLOAT);
	cr_assert_eq(shmc_seq_at(l, -1)->type, SHMC_LIST);

	ASSERT_ERR(shmc_plist_set(&l, 1001, shmc_int(0)), SHMC_EINDEX);
	ASSERT_ERR(shmc_plist_set(&l, -1002, shmc_int(0)), SHMC_EINDEX);
	ASSERT_ERR(shmc_plist_set(&l, INT64_MIN, shmc_str("x")), SHMC_EINDEX);
	cr_assert_eq(shmc_seq_len(l), 1001);

	shmc_value_t empty = shmc_plist_of(0);
	ASSERT_ERR(shmc_plist_set(&empty, 0, shmc_int(0)), SHMC_EINDEX);
	ASSERT_ERR(shmc_plist_set(&empty, -1, shmc_int(0)), SHMC_EINDEX);

	/* Only a plain list will do. */
	shmc_value_t t = shmc_tuple_of(1, shmc_int(1));
	shmc_value_t d = shmc_pdict_of(0);
	shmc_value_t n = shmc_int(5);
	ASSERT_ERR(shmc_plist_append(&t, shmc_int(2)), SHMC_ETYPE);
	ASSERT_ERR(shmc_plist_append(&d, shmc_int(2)), SHMC_ETYPE);
	ASSERT_ERR(shmc_plist_append(&n, shmc_str("x")), SHMC_ETYPE);
	ASSERT_ERR(shmc_plist_append(NULL, shmc_int(2)), -EINVAL);
	ASSERT_ERR(shmc_plist_set(&t, 0, shmc_int(2)), SHMC_ETYPE);
	ASSERT_ERR(shmc_plist_set(&d, 0, shmc_int(2)), SHMC_ETYPE);
	ASSERT_ERR(shmc_plist_set(NULL, 0, shmc_int(2)), -EINVAL);
	expect_repr(t, "(1,)");
	cr_assert(n.type == SHMC_INT && n.i == 5);
	/* The refused item was taken over all the same (an owned one is
	 * freed): nothing to check but that it does not crash. */
	ASSERT_ERR(shmc_plist_append(&t, shmc_plist_of(1, shmc_str("owned"))), SHMC_ETYPE);

	shmc_value_free(&l);
	shmc_value_free(&empty);
	shmc_value_free(&t);
	shmc_value_free(&d);
}

/* Plain dicts ------------------------------------------------------------- */

Test(value, pdict_set_get_del_entry)
{
	shmc_value_t d = shmc_pdict_of(0);
	cr_assert_eq(d.type, SHMC_DICT);
	cr_assert_eq(shmc_pdict_len(d), 0);
	expect_repr(d, "{}");
	ASSERT_OK(shmc_pdict_set(&d, shmc_str("a"), shmc_int(1)));
	ASSERT_OK(shmc_pdict_set(&d, shmc_str("b"), shmc_int(2)));
	ASSERT_OK(shmc_pdict_set(&d, shmc_int(3), shmc_str("three")));
	ASSERT_OK(shmc_pdict_set(&d, shmc_tuple_of(2, shmc_int(1), shmc_str("x")),
				 shmc_none()));
	cr_assert_eq(shmc_pdict_len(d), 4);

	shmc_value_t *v = shmc_pdict_get(d, shmc_str("b"));
	cr_assert_not_null(v);
	cr_assert(v->type == SHMC_INT && v->i == 2);
	v = shmc_pdict_get(d, shmc_float(3.0)); /* 3.0 finds 3 */
	cr_assert_not_null(v);
	cr_assert_eq(v->type, SHMC_STR);
	shmc_value_t tk = shmc_tuple_of(2, shmc_bool(true), shmc_str("x"));
	cr_assert_not_null(shmc_pdict_get(d, tk)); /* (True, 'x') finds (1, 'x') */
	cr_assert_null(shmc_pdict_get(d, shmc_str("c")));
	cr_assert_null(shmc_pdict_get(d, shmc_bytes("a", 1))); /* b'a' is not 'a' */
	cr_assert_null(shmc_pdict_get(d, shmc_float(3.5)));

	/* The value is lent: changing it changes the dict. */
	shmc_pdict_get(d, shmc_str("a"))->i = 10;

	shmc_value_t *ek, *ev;
	ASSERT_OK(shmc_pdict_entry(d, 0, &ek, &ev));
	cr_assert_eq(ek->type, SHMC_STR);
	cr_assert_eq(ev->i, 10);
	ASSERT_OK(shmc_pdict_entry(d, 3, &ek, &ev));
	cr_assert_eq(ek->type, SHMC_TUPLE);
	ASSERT_ERR(shmc_pdict_entry(d, 4, &ek, &ev), SHMC_EINDEX);
	ASSERT_ERR(shmc_pdict_entry(d, SIZE_MAX, &ek, &ev), SHMC_EINDEX);

	ASSERT_OK(shmc_pdict_del(&d, shmc_str("b")));
	ASSERT_ERR(shmc_pdict_del(&d, shmc_str("b")), SHMC_EKEY);
	ASSERT_OK(shmc_pdict_del(&d, tk)); /* an equal key deletes it */
	ASSERT_ERR(shmc_pdict_del(&d, shmc_str("zz")), SHMC_EKEY);
	cr_assert_eq(shmc_pdict_len(d), 2);
	expect_repr(d, "{'a': 10, 3: 'three'}");
	ASSERT_OK(shmc_pdict_entry(d, 1, &ek, &ev));
	cr_assert(ek->type == SHMC_INT && ek->i == 3);

	/* -0.0 and 0 are one key. */
	ASSERT_OK(shmc_pdict_set(&d, shmc_int(0), shmc_str("zero")));
	ASSERT_OK(shmc_pdict_set(&d, shmc_float(-0.0), shmc_str("minus zero")));
	cr_assert_eq(shmc_pdict_len(d), 3);
	expect_repr(d, "{'a': 10, 3: 'three', 0: 'minus zero'}");

	/* Only a plain dict will do. */
	shmc_value_t l = shmc_plist_of(1, shmc_int(1));
	ASSERT_ERR(shmc_pdict_set(&l, shmc_int(1), shmc_int(2)), SHMC_ETYPE);
	ASSERT_ERR(shmc_pdict_set(NULL, shmc_int(1), shmc_int(2)), -EINVAL);
	ASSERT_ERR(shmc_pdict_del(&l, shmc_int(1)), SHMC_ETYPE);
	ASSERT_ERR(shmc_pdict_del(NULL, shmc_int(1)), -EINVAL);
	ASSERT_ERR(shmc_pdict_entry(l, 0, &ek, &ev), SHMC_ETYPE);
	ASSERT_ERR(shmc_pdict_entry(shmc_int(1), 0, &ek, &ev), SHMC_ETYPE);
	cr_assert_null(shmc_pdict_get(l, shmc_int(1)));
	cr_assert_null(shmc_pdict_get(shmc_str("a"), shmc_int(1)));
	cr_assert_eq(shmc_pdict_len(l), 0);
	cr_assert_eq(shmc_pdict_len(shmc_none()), 0);
	expect_repr(l, "[1]");

	shmc_value_free(&tk);
	shmc_value_free(&l);
	shmc_value_free(&d);
}

Test(value, pdict_equal_key_keeps_the_first_key_and_the_last_value)
{
	/* Python: {1: 'a', 1.0: 'b'} == {1: 'b'} and prints as {1: 'b'}. */
	shmc_value_t d = shmc_pdict_of(2, shmc_int(1), shmc_str("a"), shmc_float(1.0),
				       shmc_str("b"));
	cr_assert_eq(d.type, SHMC_DICT);
	expect_repr(d, "{1: 'b'}");
	ASSERT_OK(shmc_pdict_set(&d, shmc_bool(true), shmc_str("c")));
	expect_repr(d, "{1: 'c'}");
	shmc_value_t *k, *v;
	ASSERT_OK(shmc_pdict_entry(d, 0, &k, &v));
	cr_assert_eq(k->type, SHMC_INT);
	cr_assert_eq(shmc_pdict_len(d), 1);

	/* {True: 'x', 1: 'y', 1.0: 'z'} is {True: 'z'}. */
	shmc_value_t t = shmc_pdict_of(3, shmc_bool(true), shmc_str("x"), shmc_int(1),
				       shmc_str("y"), shmc_float(1.0), shmc_str("z"));
	expect_repr(t, "{True: 'z'}");

	/* Tuple keys: {(1, 'a'): 1, (1.0, 'a'): 2} is {(1, 'a'): 2}. */
	shmc_value_t tk = shmc_pdict_of(
		2, shmc_tuple_of(2, shmc_int(1), shmc_str("a")), shmc_int(1),
		shmc_tuple_of(2, shmc_float(1.0), shmc_str("a")), shmc_int(2));
	expect_repr(tk, "{(1, 'a'): 2}");

	/* The same rule once the dict has its hash index, and the entry
	 * keeps its place. */
	shmc_value_t big = shmc_pdict_of(0);
	for (int i = 0; i < 20; i++)
		ASSERT_OK(shmc_pdict_set(&big, shmc_int(i), shmc_int(i)));
	ASSERT_OK(shmc_pdict_set(&big, shmc_float(5.0), shmc_str("five")));
	ASSERT_OK(shmc_pdict_set(&big, shmc_bool(false), shmc_str("zero")));
	cr_assert_eq(shmc_pdict_len(big), 20);
	ASSERT_OK(shmc_pdict_entry(big, 5, &k, &v));
	cr_assert(k->type == SHMC_INT && k->i == 5);
	cr_assert_eq(v->type, SHMC_STR);
	ASSERT_OK(shmc_pdict_entry(big, 0, &k, &v));
	cr_assert(k->type == SHMC_INT && k->i == 0);
	cr_assert_eq(v->type, SHMC_STR);

	shmc_value_free(&d);
	shmc_value_free(&t);
	shmc_value_free(&tk);
	shmc_value_free(&big);
}

Test(value, pdict_unhashable_keys_are_refused, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_value_t d = shmc_pdict_of(1, shmc_str("k"), shmc_int(1));
	ASSERT_ERR(shmc_pdict_set(&d, shmc_plist_of(0), shmc_int(1)), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_pdict_set(&d, shmc_pdict_of(0), shmc_int(1)), SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_pdict_set(&d, shmc_tuple_of(2, shmc_int(1),
						     shmc_plist_of(1, shmc_int(2))),
				  shmc_int(1)),
		   SHMC_EUNHASHABLE);
	ASSERT_ERR(shmc_pdict_set(&d, shmc_tuple_of(1, shmc_pdict_of(0)), shmc_str("v")),
		   SHMC_EUNHASHABLE);
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_ERR(shmc_pdict_set(&d, shmc_ref(ls), shmc_int(1)), SHMC_EUNHASHABLE);

	shmc_value_t key = shmc_plist_of(1, shmc_int(1));
	cr_assert_null(shmc_pdict_get(d, key));
	ASSERT_ERR(shmc_pdict_del(&d, key), SHMC_EUNHASHABLE);
	cr_assert_eq(shmc_pdict_len(d), 1);
	expect_repr(d, "{'k': 1}");

	shmc_value_t e = shmc_pdict_of(1, shmc_plist_of(1, shmc_int(1)), shmc_str("v"));
	cr_assert_eq(e.type, SHMC_ERROR);
	cr_assert_eq(e.i, SHMC_EUNHASHABLE);
	shmc_value_t e2 = shmc_pdict_of(2, shmc_int(1), shmc_int(2), shmc_ref(ls),
					shmc_int(3));
	cr_assert_eq(e2.type, SHMC_ERROR);
	cr_assert_eq(e2.i, SHMC_EUNHASHABLE);

	/* Lists are fine as values. */
	ASSERT_OK(shmc_pdict_set(&d, shmc_str("l"), shmc_plist_of(1, shmc_ref(ls))));
	cr_assert_eq(shmc_pdict_len(d), 2);

	shmc_value_free(&key);
	shmc_value_free(&e);
	shmc_value_free(&e2);
	shmc_value_free(&d);
	shmc_obj_release(ls);
}

/* Keys of several kinds, for the big dict: owned values. */
static shmc_value_t big_key(int i)
{
	char buf[32];
	shmc_value_t k;
	switch (i % 4) {
	case 0:
		return shmc_int(i);
	case 1:
		return shmc_float(i + 0.5);
	case 2:
		snprintf(buf, sizeof(buf), "key%d", i);
		if (shmc_value_copy(shmc_str(buf), &k) != 0)
			abort();
		return k;
	default:
		snprintf(buf, sizeof(buf), "%d", i);
		return shmc_tuple_of(2, shmc_int(i), shmc_bytes(buf, strlen(buf)));
	}
}

static void expect_found(shmc_value_t d, int i, int64_t want)
{
	shmc_value_t k = big_key(i);
	shmc_value_t *v = shmc_pdict_get(d, k);
	shmc_value_free(&k);
	cr_assert_not_null(v, "key %d missing", i);
	cr_assert_eq(v->type, SHMC_INT, "key %d", i);
	cr_assert_eq(v->i, want, "key %d", i);
}

static void expect_missing(shmc_value_t d, int i)
{
	shmc_value_t k = big_key(i);
	shmc_value_t *v = shmc_pdict_get(d, k);
	shmc_value_free(&k);
	cr_assert_null(v, "key %d still there", i);
}

Test(value, pdict_of_1000_entries_with_deletes_keeps_order)
{
	enum { N = 1000 };
	shmc_value_t d = shmc_pdict_of(0);
	for (int i = 0; i < N; i++)
		ASSERT_OK(shmc_pdict_set(&d, big_key(i), shmc_int(i * 10)));
	cr_assert_eq(shmc_pdict_len(d), N);
	for (int i = 0; i < N; i++)
		expect_found(d, i, i * 10);
	for (int i = N; i < N + 50; i++)
		expect_missing(d, i);
	/* An int key is found by an equal float or bool. */
	cr_assert_not_null(shmc_pdict_get(d, shmc_float(400.0)));
	cr_assert_not_null(shmc_pdict_get(d, shmc_bool(false)));
	cr_assert_null(shmc_pdict_get(d, shmc_bool(true))); /* 1 is not a key */
	cr_assert_null(shmc_pdict_get(d, shmc_str("key3")));

	/* Delete every third key. */
	size_t left = N;
	for (int i = 0; i < N; i += 3) {
		shmc_value_t k = big_key(i);
		cr_assert_eq(shmc_pdict_del(&d, k), 0, "key %d", i);
		ASSERT_ERR(shmc_pdict_del(&d, k), SHMC_EKEY);
		shmc_value_free(&k);
		left--;
	}
	cr_assert_eq(shmc_pdict_len(d), left);
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			expect_missing(d, i);
		else
			expect_found(d, i, i * 10);
	}
	/* The rest in insertion order. */
	size_t e = 0;
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			continue;
		shmc_value_t *k, *v, want = big_key(i);
		ASSERT_OK(shmc_pdict_entry(d, e, &k, &v));
		cr_assert(shmc_value_eq(*k, want), "entry %zu is not key %d", e, i);
		cr_assert_eq(k->type, want.type);
		cr_assert_eq(v->i, i * 10);
		shmc_value_free(&want);
		e++;
	}
	cr_assert_eq(e, left);
	ASSERT_ERR(shmc_pdict_entry(d, left, NULL, NULL), SHMC_EINDEX);

	/* A deleted key comes back at the end; a kept one keeps its place. */
	ASSERT_OK(shmc_pdict_set(&d, big_key(0), shmc_int(-1)));
	ASSERT_OK(shmc_pdict_set(&d, big_key(1), shmc_int(-2)));
	shmc_value_t *k, *v;
	ASSERT_OK(shmc_pdict_entry(d, left, &k, &v));
	cr_assert(k->type == SHMC_INT && k->i == 0 && v->i == -1);
	ASSERT_OK(shmc_pdict_entry(d, 0, &k, &v));
	cr_assert(k->type == SHMC_FLOAT && k->f == 1.5 && v->i == -2);
	cr_assert_eq(shmc_pdict_len(d), left + 1);

	/* Delete everything, then fill it again. */
	for (int i = 0; i < N; i++) {
		shmc_value_t key = big_key(i);
		int rc = shmc_pdict_del(&d, key);
		shmc_value_free(&key);
		cr_assert_eq(rc, (i % 3 == 0 && i != 0) ? SHMC_EKEY : 0, "key %d: %s", i,
			     shmc_errname(rc));
	}
	cr_assert_eq(shmc_pdict_len(d), 0);
	expect_repr(d, "{}");
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_pdict_set(&d, big_key(i), shmc_int(i)));
	for (int i = 0; i < 100; i++)
		expect_found(d, i, i);
	cr_assert_eq(shmc_pdict_len(d), 100);
	shmc_value_free(&d);
}

Test(value, pdict_insertion_order_survives_deletes)
{
	shmc_value_t d = shmc_pdict_of(4, shmc_str("a"), shmc_int(1), shmc_str("b"),
				       shmc_int(2), shmc_str("c"), shmc_int(3),
				       shmc_str("d"), shmc_int(4));
	ASSERT_OK(shmc_pdict_del(&d, shmc_str("b")));
	expect_repr(d, "{'a': 1, 'c': 3, 'd': 4}");
	ASSERT_OK(shmc_pdict_set(&d, shmc_str("b"), shmc_int(2)));
	expect_repr(d, "{'a': 1, 'c': 3, 'd': 4, 'b': 2}");
	ASSERT_OK(shmc_pdict_set(&d, shmc_str("a"), shmc_int(5)));
	expect_repr(d, "{'a': 5, 'c': 3, 'd': 4, 'b': 2}");
	ASSERT_OK(shmc_pdict_del(&d, shmc_str("a")));
	ASSERT_OK(shmc_pdict_del(&d, shmc_str("b")));
	expect_repr(d, "{'c': 3, 'd': 4}");
	shmc_value_free(&d);
}

/* UTF-8 ------------------------------------------------------------------- */

static const struct {
	const char *what, *s;
	size_t n;
} bad_utf8[] = {
#define B_(what, lit) {what, lit, sizeof(lit) - 1}
	B_("overlong NUL", "\xc0\x80"),
	B_("overlong 2-byte", "\xc1\xbf"),
	B_("overlong 3-byte", "\xe0\x80\x80"),
	B_("overlong 3-byte max", "\xe0\x9f\xbf"),
	B_("overlong 4-byte", "\xf0\x80\x80\x80"),
	B_("overlong 4-byte max", "\xf0\x8f\xbf\xbf"),
	B_("surrogate D800", "\xed\xa0\x80"),
	B_("surrogate DFFF", "\xed\xbf\xbf"),
	B_("surrogate pair", "\xed\xa0\xbd\xed\xb8\x80"),
	B_("truncated 2-byte", "\xc3"),
	B_("truncated 3-byte", "\xe2\x82"),
	B_("truncated 4-byte", "\xf0\x9f\x98"),
	B_("truncated at the end", "abc\xe2\x82"),
	B_("truncated in the middle", "\xe2\x82" "abc"),
	B_("lone continuation", "\x80"),
	B_("continuation after ASCII", "a\xbf"),
	B_("above U+10FFFF", "\xf4\x90\x80\x80"),
	B_("F5 lead", "\xf5\x80\x80\x80"),
	B_("5-byte form", "\xf8\x88\x80\x80\x80"),
	B_("FE", "\xfe"),
	B_("FF", "\xff"),
	/* Cut short by the length, though the bytes that follow in memory
	 * would complete the character. */
	{"cut 2-byte", "a\xc3\xa9", 2},
	{"cut 3-byte", "\xe2\x82\xac", 2},
	{"cut 4-byte", "\xf0\x9f\x98\x80", 3},
	{"cut 4-byte after one", "\xf0\x9f\x98\x80", 1},
#undef B_
};

static const struct {
	const char *what, *s;
	size_t n;
} good_utf8[] = {
#define G_(what, lit) {what, lit, sizeof(lit) - 1}
	G_("empty", ""),
	G_("ASCII", "plain"),
	G_("embedded NUL", "a\0b"),
	G_("U+0080", "\xc2\x80"),
	G_("U+07FF", "\xdf\xbf"),
	G_("U+0800", "\xe0\xa0\x80"),
	G_("U+D7FF", "\xed\x9f\xbf"),
	G_("U+E000", "\xee\x80\x80"),
	G_("U+FFFF", "\xef\xbf\xbf"),
	G_("U+10000", "\xf0\x90\x80\x80"),
	G_("U+1F600 emoji", "\xf0\x9f\x98\x80"),
	G_("U+10FFFF", "\xf4\x8f\xbf\xbf"),
	G_("mixed", "caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80!"),
#undef G_
};

Test(value, invalid_utf8_is_refused_when_stored, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls, *d, *ns;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_list_append(ls, shmc_int(0)));
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		const char *what = bad_utf8[i].what;
		shmc_value_t s = shmc_strn(bad_utf8[i].s, bad_utf8[i].n);
		cr_assert_eq(shmc_list_append(ls, s), -EILSEQ, "%s", what);
		cr_assert_eq(shmc_list_set(ls, 0, s), -EILSEQ, "%s", what);
		cr_assert_eq(shmc_list_insert(ls, 0, s), -EILSEQ, "%s", what);
		cr_assert_eq(shmc_dict_set(d, s, shmc_int(1)), -EILSEQ, "%s (key)", what);
		cr_assert_eq(shmc_dict_set(d, shmc_str("k"), s), -EILSEQ, "%s (value)",
			     what);
		cr_assert_eq(shmc_namespace_set(ns, "x", s), -EILSEQ, "%s", what);
		/* However deep it sits. */
		shmc_value_t nested = shmc_tuple_of(
			2, shmc_int(1), shmc_plist_of(1, shmc_pdict_of(1, shmc_str("k"), s)));
		cr_assert_eq(nested.type, SHMC_TUPLE, "%s", what);
		cr_assert_eq(shmc_list_append(ls, nested), -EILSEQ, "%s (nested)", what);
		cr_assert_eq(shmc_dict_set(d, shmc_str("k"), nested), -EILSEQ,
			     "%s (nested)", what);
		shmc_value_t tkey = shmc_tuple_of(1, s);
		cr_assert_eq(shmc_dict_set(d, tkey, shmc_int(1)), -EILSEQ,
			     "%s (in a tuple key)", what);
		shmc_value_free(&nested);
		shmc_value_free(&tkey);
		/* The same bytes as bytes are fine. */
		ASSERT_OK(shmc_list_append(ls, shmc_bytes(bad_utf8[i].s, bad_utf8[i].n)));
	}
	size_t nbad = sizeof(bad_utf8) / sizeof(bad_utf8[0]);
	cr_assert_eq(shmc_list_len(ls), (int64_t)nbad + 1);
	shmc_value_t first;
	ASSERT_OK(shmc_list_get(ls, 0, &first));
	cr_assert(first.type == SHMC_INT && first.i == 0);
	cr_assert_eq(shmc_dict_len(d), 0);
	expect_obj_str(ns, "Namespace()");
	shmc_obj_release(ls);
	shmc_obj_release(d);
	shmc_obj_release(ns);
}

Test(value, invalid_utf8_namespace_name_is_refused, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_ERR(shmc_namespace_set(ns, "\xc0\x80", shmc_int(1)), -EILSEQ);
	ASSERT_ERR(shmc_namespace_set(ns, "\xed\xa0\x80", shmc_int(1)), -EILSEQ);
	ASSERT_ERR(shmc_namespace_set(ns, "a\xe2\x82", shmc_int(1)), -EILSEQ);
	expect_obj_str(ns, "Namespace()");
	ASSERT_OK(shmc_namespace_set(ns, "\xf0\x9f\x98\x80", shmc_int(1)));
	expect_obj_str(ns, "Namespace(\xf0\x9f\x98\x80=1)");
	shmc_obj_release(ns);
}

Test(value, valid_utf8_is_stored_and_read_back, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls, *d;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_dict_new(A, &d));
	size_t n = sizeof(good_utf8) / sizeof(good_utf8[0]);
	for (size_t i = 0; i < n; i++) {
		shmc_value_t s = shmc_strn(good_utf8[i].s, good_utf8[i].n);
		cr_assert_eq(shmc_list_append(ls, s), 0, "%s", good_utf8[i].what);
		cr_assert_eq(shmc_dict_set(d, s, shmc_int((int64_t)i)), 0, "%s",
			     good_utf8[i].what);
	}
	cr_assert_eq(shmc_list_len(ls), (int64_t)n);
	cr_assert_eq(shmc_dict_len(d), (int64_t)n);
	for (size_t i = 0; i < n; i++) {
		shmc_value_t got;
		ASSERT_OK(shmc_list_get(ls, (int64_t)i, &got));
		cr_assert_eq(got.type, SHMC_STR, "%s", good_utf8[i].what);
		cr_assert_eq(got.len, good_utf8[i].n, "%s", good_utf8[i].what);
		cr_assert_eq(memcmp(got.str, good_utf8[i].s, good_utf8[i].n), 0, "%s",
			     good_utf8[i].what);
		cr_assert(shmc_value_eq(got, shmc_strn(good_utf8[i].s, good_utf8[i].n)));
		shmc_value_t idx;
		ASSERT_OK(shmc_dict_get(d, got, &idx));
		cr_assert(idx.type == SHMC_INT && idx.i == (int64_t)i, "%s",
			  good_utf8[i].what);
		shmc_value_free(&got);
	}
	/* A 4-byte character in a namespace value too. */
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "e", shmc_str("\xf0\x9f\x98\x80")));
	expect_obj_str(ns, "Namespace(e='\xf0\x9f\x98\x80')");
	shmc_obj_release(ns);
	shmc_obj_release(ls);
	shmc_obj_release(d);
}
