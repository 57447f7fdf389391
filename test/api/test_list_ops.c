/*
 * test_list_ops.c -- slices, searches and the sequence operators of the
 * managed list, beyond what test_list_parity.c compares with Python: values
 * that own memory or hold references (copied, never shared between two
 * slots), the list itself as an operand, extreme indices, and bad input
 * that changes nothing.
 */
#include <criterion/criterion.h>

#include "testutil.h"

TestSuite(list_ops, .timeout = 60);

#define NONE SHMC_SLICE_NONE

static shmc_obj_t *list_of(shmc_value_t items)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new_from(A, items, &ls));
	shmc_value_free(&items);
	return ls;
}

static shmc_obj_t *range_list(int64_t n)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int64_t i = 0; i < n; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
	return ls;
}

static void expect_value(shmc_value_t v, const char *want)
{
	expect_repr(v, want);
	shmc_value_free(&v);
}

/* The arena's bytes in use and the list's text are as they were. */
struct unchanged {
	shmc_obj_t *ls;
	char *text;
	size_t used;
};

static struct unchanged remember(shmc_obj_t *ls)
{
	return (struct unchanged){ls, obj_str(ls), arena_in_use(A)};
}

static void check_unchanged(struct unchanged *u)
{
	expect_str(u->ls, u->text);
	cr_assert_eq(arena_in_use(A), u->used, "arena in use changed by a failed call");
}

static void forget(struct unchanged *u)
{
	shmc_free(u->text);
}

/* Slices ------------------------------------------------------------------ */

Test(list_ops, slice_bounds_at_the_ends_of_int64, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls = range_list(5);
	shmc_value_t v;
	ASSERT_OK(shmc_list_slice_get(ls, -INT64_MAX, INT64_MAX, INT64_MAX, &v));
	expect_value(v, "[0]");
	ASSERT_OK(shmc_list_slice_get(ls, INT64_MAX, -INT64_MAX, -INT64_MAX, &v));
	expect_value(v, "[4]");
	ASSERT_OK(shmc_list_slice_get(ls, NONE, NONE, -INT64_MAX, &v));
	expect_value(v, "[4]");
	ASSERT_OK(shmc_list_slice_get(ls, 1, INT64_MAX, NONE, &v));
	expect_value(v, "[1, 2, 3, 4]");
	ASSERT_OK(shmc_list_slice_get(ls, NONE, -INT64_MAX, NONE, &v));
	expect_value(v, "[]");
	shmc_value_t empty = shmc_plist_of(0);
	ASSERT_OK(shmc_list_slice_set(ls, INT64_MAX, NONE, NONE, empty));
	shmc_value_free(&empty);
	ASSERT_OK(shmc_list_slice_del(ls, -INT64_MAX, INT64_MAX, 3));
	expect_str(ls, "[1, 2, 4]");
	cr_assert_eq(shmc_list_index_range(ls, shmc_int(4), -INT64_MAX, INT64_MAX), 2);
	cr_assert_eq(shmc_list_index_range(ls, shmc_int(4), INT64_MIN + 1, NONE), 2);
	ASSERT_ERR(shmc_list_index_range(ls, shmc_int(4), INT64_MAX, NONE), SHMC_EINDEX);
	shmc_obj_release(ls);
}

Test(list_ops, step_zero_is_einval_and_changes_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls = range_list(4);
	shmc_value_t v = shmc_none();
	ASSERT_ERR(shmc_list_slice_get(ls, NONE, NONE, 0, &v), -EINVAL);
	cr_assert_eq(v.type, SHMC_NONE, "out written on failure");
	shmc_value_t empty = shmc_tuple_of(0);
	ASSERT_ERR(shmc_list_slice_set(ls, NONE, NONE, 0, empty), -EINVAL);
	shmc_value_free(&empty);
	ASSERT_ERR(shmc_list_slice_del(ls, 0, 4, 0), -EINVAL);
	expect_str(ls, "[0, 1, 2, 3]");
	shmc_obj_release(ls);
}

Test(list_ops, extended_slice_of_another_size_is_esize_and_changes_nothing,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls = list_of(shmc_plist_of(4, shmc_str("a"), shmc_str("b"), shmc_str("c"),
					      shmc_str("d")));
	struct unchanged u = remember(ls);
	shmc_value_t three = shmc_plist_of(3, shmc_str("x"), shmc_str("y"), shmc_str("z"));
	ASSERT_ERR(shmc_list_slice_set(ls, NONE, NONE, 2, three), SHMC_ESIZE);
	ASSERT_ERR(shmc_list_slice_set(ls, NONE, NONE, -1, three), SHMC_ESIZE);
	ASSERT_ERR(shmc_list_slice_set(ls, 1, NONE, 2, shmc_ref(ls)), SHMC_ESIZE);
	check_unchanged(&u);
	ASSERT_OK(shmc_list_slice_set(ls, NONE, -1, NONE, three)); /* step 1: any size */
	expect_str(ls, "['x', 'y', 'z', 'd']");
	shmc_value_free(&three);
	forget(&u);
	shmc_obj_release(ls);
}

/* ls[a:b] = ls copies each value: the two slots that hold it afterwards
 * own it separately (replacing one leaves the other; the leak check finds
 * a value freed twice or never). */
Test(list_ops, assigning_the_list_to_its_slice_copies_values, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	shmc_obj_t *ls = list_of(shmc_plist_of(3, shmc_str("text"), shmc_ref(d),
					      shmc_tuple_of(2, shmc_bytes("b", 1), shmc_ref(d))));
	ASSERT_OK(shmc_list_slice_set(ls, 1, 2, NONE, shmc_ref(ls)));
	cr_assert_eq(shmc_list_len(ls), 5);
	ASSERT_OK(shmc_list_slice_set(ls, NONE, NONE, -1, shmc_ref(ls)));
	ASSERT_OK(shmc_list_set(ls, 0, shmc_none()));
	ASSERT_OK(shmc_list_set(ls, 2, shmc_none()));
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, 4, &v));
	cr_assert_str_eq(v.str, "text");
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_get(ls, 1, &v));
	cr_assert(shmc_obj_same(shmc_seq_at(v, 1)->ref, d));
	shmc_value_free(&v);
	cr_assert_eq(shmc_list_count(ls, shmc_ref(d)), 0); /* replaced by None */
	ASSERT_OK(shmc_list_slice_del(ls, 1, 2, NONE));
	expect_str(ls, "[None, None, 'text', 'text']");
	shmc_obj_release(ls);
	shmc_obj_release(d);
}

Test(list_ops, slice_get_gives_private_copies, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls = list_of(shmc_plist_of(2, shmc_plist_of(1, shmc_int(1)), shmc_str("s")));
	shmc_value_t v;
	ASSERT_OK(shmc_list_slice_get(ls, NONE, NONE, -1, &v));
	ASSERT_OK(shmc_plist_append(shmc_seq_at(v, 1), shmc_int(2)));
	expect_repr(v, "['s', [1, 2]]");
	expect_str(ls, "[[1], 's']");
	shmc_value_free(&v);
	shmc_obj_release(ls);
}

Test(list_ops, bad_items_change_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls = range_list(4), *d, *other = range_list(2);
	ASSERT_OK(shmc_dict_new(A, &d));
	struct unchanged u = remember(ls);
	shmc_value_t bad = shmc_plist_of(2, shmc_str("ok"), shmc_strn("\xff", 1));
	ASSERT_ERR(shmc_list_slice_set(ls, 0, 2, NONE, bad), -EILSEQ);
	ASSERT_ERR(shmc_list_extend(ls, bad), -EILSEQ);
	ASSERT_ERR(shmc_list_slice_set(ls, 0, 2, NONE, shmc_ref(d)), SHMC_ETYPE);
	ASSERT_ERR(shmc_list_slice_set(ls, 0, 2, NONE, shmc_str("ab")), SHMC_ETYPE);
	ASSERT_ERR(shmc_list_slice_set(ls, 0, 2, NONE, shmc_strn("x", (size_t)SHMC_MAX_LEN + 1)),
		   -EOVERFLOW);
	ASSERT_ERR(shmc_list_extend(ls, shmc_ref(d)), SHMC_ETYPE);
	ASSERT_ERR(shmc_list_extend(ls, shmc_ref(NULL)), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_slice_set(ls, 0, 2, NONE, shmc_ref(NULL)), SHMC_EHANDLE);
	check_unchanged(&u);
	ASSERT_OK(shmc_list_slice_set(ls, 0, 2, NONE, shmc_ref(other)));
	ASSERT_OK(shmc_list_extend(ls, shmc_ref(other)));
	expect_str(ls, "[0, 1, 2, 3, 0, 1]");
	shmc_value_free(&bad);
	forget(&u);
	shmc_obj_release(d);
	shmc_obj_release(other);
	shmc_obj_release(ls);
}

Test(list_ops, wrong_handles_and_null_outputs, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d, *ls = range_list(2);
	shmc_value_t v = shmc_none(), empty = shmc_plist_of(0);
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_ERR(shmc_list_slice_get(d, NONE, NONE, NONE, &v), SHMC_EKIND);
	ASSERT_ERR(shmc_list_slice_set(d, NONE, NONE, NONE, empty), SHMC_EKIND);
	ASSERT_ERR(shmc_list_slice_del(d, NONE, NONE, NONE), SHMC_EKIND);
	ASSERT_ERR(shmc_list_count(d, shmc_int(1)), SHMC_EKIND);
	ASSERT_ERR(shmc_list_contains(d, shmc_int(1)), SHMC_EKIND);
	ASSERT_ERR(shmc_list_index_range(d, shmc_int(1), 0, 1), SHMC_EKIND);
	ASSERT_ERR(shmc_list_concat(d, empty, &v), SHMC_EKIND);
	ASSERT_ERR(shmc_list_repeat(d, 2, &v), SHMC_EKIND);
	ASSERT_ERR(shmc_list_inplace_repeat(d, 2), SHMC_EKIND);
	ASSERT_ERR(shmc_list_slice_get(NULL, NONE, NONE, NONE, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_count(NULL, shmc_int(1)), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_concat(NULL, empty, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_inplace_repeat(NULL, 2), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_slice_get(ls, NONE, NONE, NONE, NULL), -EINVAL);
	ASSERT_ERR(shmc_list_concat(ls, empty, NULL), -EINVAL);
	ASSERT_ERR(shmc_list_repeat(ls, 2, NULL), -EINVAL);
	ASSERT_ERR(shmc_list_concat(ls, shmc_ref(d), &v), SHMC_ETYPE);
	cr_assert_eq(v.type, SHMC_NONE, "out written on failure");
	shmc_value_free(&empty);
	shmc_obj_release(d);
	shmc_obj_release(ls);
}

/* Searches ------------------------------------------------------------------ */

Test(list_ops, searches_use_python_equality_and_pass_errors, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d, *e;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_new(A, &e));
	shmc_obj_t *ls = list_of(shmc_plist_of(5, shmc_ref(d), shmc_float(2.0),
					      shmc_tuple_of(2, shmc_ref(d), shmc_str("x")),
					      shmc_bool(true), shmc_ref(d)));
	cr_assert_eq(shmc_list_count(ls, shmc_ref(d)), 2);
	cr_assert_eq(shmc_list_count(ls, shmc_ref(e)), 0);
	cr_assert_eq(shmc_list_count(ls, shmc_int(1)), 1);
	cr_assert_eq(shmc_list_contains(ls, shmc_int(2)), 1);
	shmc_value_t t = shmc_tuple_of(2, shmc_ref(d), shmc_str("x"));
	cr_assert_eq(shmc_list_index_range(ls, t, 1, NONE), 2);
	ASSERT_ERR(shmc_list_index_range(ls, t, 3, NONE), SHMC_EINDEX);
	shmc_value_free(&t);
	cr_assert_eq(shmc_list_index_range(ls, shmc_ref(d), 1, NONE), 4);
	shmc_value_t err = shmc_strn("x", (size_t)SHMC_MAX_LEN + 1);
	ASSERT_ERR(shmc_list_count(ls, err), -EOVERFLOW);
	ASSERT_ERR(shmc_list_contains(ls, err), -EOVERFLOW);
	ASSERT_ERR(shmc_list_index_range(ls, err, 0, NONE), -EOVERFLOW);
	shmc_obj_release(ls);
	shmc_obj_release(d);
	shmc_obj_release(e);
}

/* + and * ------------------------------------------------------------------- */

Test(list_ops, concat_and_repeat_return_plain_copies, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	shmc_obj_t *ls = list_of(shmc_plist_of(2, shmc_str("s"), shmc_ref(d)));
	shmc_obj_t *other = list_of(shmc_plist_of(1, shmc_tuple_of(1, shmc_ref(d))));
	shmc_value_t v, plain = shmc_plist_of(1, shmc_ref(d));
	ASSERT_OK(shmc_list_concat(ls, plain, &v));
	cr_assert_eq(shmc_seq_len(v), 3);
	cr_assert(shmc_obj_same(shmc_seq_at(v, 2)->ref, d));
	cr_assert(shmc_seq_at(v, 2)->ref != shmc_seq_at(plain, 0)->ref, "a handle shared");
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_concat(ls, shmc_ref(other), &v));
	cr_assert_eq(shmc_seq_len(v), 3);
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_concat(ls, shmc_ref(ls), &v));
	cr_assert_eq(shmc_seq_len(v), 4);
	cr_assert_str_eq(shmc_seq_at(v, 2)->str, "s");
	cr_assert(shmc_seq_at(v, 0)->str != shmc_seq_at(v, 2)->str, "a string shared");
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_repeat(ls, 3, &v));
	cr_assert_eq(shmc_seq_len(v), 6);
	cr_assert(shmc_obj_same(shmc_seq_at(v, 5)->ref, d));
	cr_assert(shmc_seq_at(v, 1)->ref != shmc_seq_at(v, 5)->ref, "a handle shared");
	shmc_value_free(&v);
	ASSERT_ERR(shmc_list_repeat(ls, INT64_MAX, &v), -ENOMEM);
	shmc_value_t tuple = shmc_tuple_of(1, shmc_int(1));
	ASSERT_ERR(shmc_list_concat(ls, tuple, &v), SHMC_ETYPE);
	shmc_value_free(&tuple);
	cr_assert_eq(shmc_list_len(ls), 2);
	shmc_value_free(&plain);
	shmc_obj_release(other);
	shmc_obj_release(ls);
	shmc_obj_release(d);
}

Test(list_ops, inplace_repeat_copies_values_and_refuses_impossible_sizes,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	shmc_obj_t *ls = list_of(shmc_plist_of(2, shmc_str("s"), shmc_tuple_of(1, shmc_ref(d))));
	struct unchanged u = remember(ls);
	ASSERT_ERR(shmc_list_inplace_repeat(ls, INT64_MAX), SHMC_EFULL);
	ASSERT_ERR(shmc_list_inplace_repeat(ls, (int64_t)1 << 40), SHMC_EFULL);
	ASSERT_ERR(shmc_list_inplace_repeat(ls, (int64_t)1 << 22), SHMC_EFULL); /* 64 MiB arena */
	check_unchanged(&u);
	ASSERT_OK(shmc_list_inplace_repeat(ls, 3));
	cr_assert_eq(shmc_list_len(ls), 6);
	ASSERT_OK(shmc_list_set(ls, 0, shmc_int(0)));
	ASSERT_OK(shmc_list_set(ls, 1, shmc_int(1)));
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, 4, &v));
	cr_assert_str_eq(v.str, "s");
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_get(ls, 5, &v));
	cr_assert(shmc_obj_same(shmc_seq_at(v, 0)->ref, d));
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_inplace_repeat(ls, 1));
	cr_assert_eq(shmc_list_len(ls), 6);
	ASSERT_OK(shmc_list_inplace_repeat(ls, -5));
	expect_str(ls, "[]");
	ASSERT_OK(shmc_list_inplace_repeat(ls, 5));
	expect_str(ls, "[]");
	forget(&u);
	shmc_obj_release(ls);
	shmc_obj_release(d);
}

Test(list_ops, extend_with_itself_doubles_the_list, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls = list_of(shmc_plist_of(2, shmc_str("a"), shmc_tuple_of(1, shmc_str("b"))));
	for (int i = 0; i < 10; i++)
		ASSERT_OK(shmc_list_extend(ls, shmc_ref(ls)));
	cr_assert_eq(shmc_list_len(ls), 2 << 10);
	cr_assert_eq(shmc_list_count(ls, shmc_str("a")), 1 << 10);
	ASSERT_OK(shmc_list_slice_del(ls, 2, NONE, NONE));
	expect_str(ls, "['a', ('b',)]");
	shmc_obj_release(ls);
}

/* The value types beyond the first: found by Python's == where they lie
 * (2.0**64 == 2**64, bytes == bytearray, set == frozenset, 2 == 2+0j),
 * copied as they are by the list's own copies (ls += ls, ls * n, slices),
 * and a set extends a list or fills a slice in its iteration order. */
Test(list_ops, new_value_types_are_searched_copied_and_extended_as_python,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_value_t big, nbig;
	ASSERT_OK(shmc_int_from_str("18446744073709551616", 20, 10, &big));
	ASSERT_OK(shmc_int_from_str("-1180591620717411303424", 23, 10, &nbig));
	shmc_obj_t *ls = list_of(shmc_plist_of(
		8, big, shmc_bytearray("ab", 2), shmc_set_of(2, shmc_int(1), shmc_int(2)),
		shmc_frozenset_of(1, shmc_int(3)), shmc_complex(0, 1), shmc_complex(2, 0), nbig,
		shmc_bytes("cd", 2)));
	char got[2048];
	shmc_value_t fz12 = shmc_frozenset_of(2, shmc_int(2), shmc_int(1));
	shmc_value_t s3 = shmc_set_of(1, shmc_int(3));
	shmc_value_t cx = shmc_complex(0, 1);
	int n = snprintf(got, sizeof(got), "%lld %lld %lld %lld %d %lld %lld %lld\n",
			 (long long)shmc_list_count(ls, shmc_float(18446744073709551616.0)),
			 (long long)shmc_list_count(ls, shmc_bytes("ab", 2)),
			 (long long)shmc_list_index(ls, fz12), (long long)shmc_list_index(ls, s3),
			 shmc_list_contains(ls, cx), (long long)shmc_list_count(ls, shmc_int(2)),
			 (long long)shmc_list_index(ls, shmc_bytearray("cd", 2)),
			 (long long)shmc_list_index(ls, shmc_float(-1180591620717411303424.0)));
	shmc_value_free(&fz12);
	shmc_value_free(&s3);
	shmc_value_free(&cx);
	ASSERT_OK(shmc_list_remove(ls, shmc_float(18446744073709551616.0)));
	ASSERT_OK(shmc_list_extend(ls, shmc_ref(ls)));
	shmc_value_t v;
	ASSERT_OK(shmc_list_repeat(ls, 2, &v));
	n += snprintf(got + n, sizeof(got) - n, "%lld %zu\n", (long long)shmc_list_len(ls),
		      shmc_seq_len(v));
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_slice_get(ls, 1, 3, NONE, &v));
	char *s = value_repr(v);
	n += snprintf(got + n, sizeof(got) - n, "%s\n", s);
	shmc_free(s);
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_slice_del(ls, 7, NONE, NONE));
	v = shmc_set_of(3, shmc_int(30), shmc_int(10), shmc_int(20));
	ASSERT_OK(shmc_list_extend(ls, v));
	shmc_value_free(&v);
	v = shmc_frozenset_of(2, shmc_int(-1), shmc_int(40));
	ASSERT_OK(shmc_list_slice_set(ls, 0, 1, NONE, v));
	shmc_value_free(&v);
	v = shmc_set_of(2, shmc_int(5), shmc_int(6));
	ASSERT_OK(shmc_list_slice_set(ls, 0, 4, 2, v));
	shmc_value_free(&v);
	s = obj_str(ls);
	n += snprintf(got + n, sizeof(got) - n, "%s\n", s);
	shmc_free(s);
	/* ls + set is a TypeError, as list + set; a set of the wrong size
	 * for an extended slice, ValueError; both change nothing. */
	struct unchanged u = remember(ls);
	v = shmc_set_of(1, shmc_int(1));
	n += snprintf(got + n, sizeof(got) - n, "%s %s\n",
		      shmc_list_concat(ls, v, &(shmc_value_t){0}) == SHMC_ETYPE ? "TypeError" : "?",
		      shmc_list_slice_set(ls, 0, 4, 2, v) == SHMC_ESIZE ? "ValueError" : "?");
	shmc_value_free(&v);
	check_unchanged(&u);
	forget(&u);
	expect_python(got,
		      "1 1 2 3 1 1 7 6\n"
		      "14 28\n"
		      "[{1, 2}, frozenset({3})]\n"
		      "[5, -1, 6, frozenset({3}), 1j, (2+0j), -1180591620717411303424, b'cd', 10, 20, "
		      "30]\n"
		      "TypeError ValueError\n",
		      "ls = [2**64, bytearray(b'ab'), {1, 2}, frozenset({3}), 1j, complex(2, 0),\n"
		      "      -2**70, b'cd']\n"
		      "print(ls.count(2.0**64), ls.count(b'ab'), ls.index(frozenset({2, 1})),\n"
		      "      ls.index({3}), int(1j in ls), ls.count(2), ls.index(bytearray(b'cd')),\n"
		      "      ls.index(float(-2**70)))\n"
		      "ls.remove(2.0**64)\n"
		      "ls += ls\n"
		      "print(len(ls), len(ls * 2))\n"
		      "print(ls[1:3])\n"
		      "del ls[7:]\n"
		      "ls.extend({30, 10, 20})\n"
		      "ls[0:1] = frozenset({-1, 40})\n"
		      "ls[0:4:2] = {5, 6}\n"
		      "print(ls)\n"
		      "r = []\n"
		      "for f in (lambda: ls + {1}, lambda: ls.__setitem__(slice(0, 4, 2), {1})):\n"
		      "    try:\n"
		      "        f()\n"
		      "    except TypeError:\n"
		      "        r.append('TypeError')\n"
		      "    except ValueError:\n"
		      "        r.append('ValueError')\n"
		      "print(*r)\n");
	shmc_obj_release(ls);
}

/* manager.list({...}): a set's members in iteration order; a frozenset's
 * too; anything else that is not a sequence, SHMC_ETYPE. */
Test(list_ops, new_from_a_set_takes_its_members_in_order, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *a, *b;
	shmc_value_t s = shmc_set_of(4, shmc_int(33), shmc_int(1), shmc_int(-1), shmc_int(8));
	shmc_value_t f = shmc_frozenset_of(0);
	ASSERT_OK(shmc_list_new_from(A, s, &a));
	ASSERT_OK(shmc_list_new_from(A, f, &b));
	char *sa = obj_str(a), *sb = obj_str(b), got[256];
	snprintf(got, sizeof(got), "%s %s\n", sa, sb);
	shmc_free(sa);
	shmc_free(sb);
	expect_python(got, "[8, 33, 1, -1] []\n", "print(list({33, 1, -1, 8}), list(frozenset()))\n");
	shmc_obj_t *c = NULL;
	ASSERT_ERR(shmc_list_new_from(A, shmc_bytearray("ab", 2), &c), SHMC_ETYPE);
	shmc_value_t cx = shmc_complex(1, 1);
	ASSERT_ERR(shmc_list_new_from(A, cx, &c), SHMC_ETYPE);
	cr_assert_null(c);
	shmc_value_free(&cx);
	shmc_value_free(&s);
	shmc_value_free(&f);
	shmc_obj_release(a);
	shmc_obj_release(b);
}
