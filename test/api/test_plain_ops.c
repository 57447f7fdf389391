/*
 * test_plain_ops.c -- Python's operators on private values: list insert,
 * pop, del, clear, extend, +, len, dict get/pop with a default; builders
 * from arrays; the Python exception a code stands for. Each result is
 * compared with what python3 prints for the same expression.
 */
#include <criterion/criterion.h>
#include <shmc.h>
#include <string.h>

#include "testutil.h"

/* [1, 'a', (2.5, None)] */
static shmc_value_t sample(void)
{
	return shmc_plist_of(3, shmc_int(1), shmc_str("a"),
			     shmc_tuple_of(2, shmc_float(2.5), shmc_none()));
}

Test(plain_ops, builders_from_arrays_take_the_items)
{
	shmc_value_t items[3] = {shmc_int(1), shmc_plist_of(1, shmc_int(2)), shmc_str("x")};
	shmc_value_t t = shmc_tuple_from(3, items);
	expect_repr(t, "(1, [2], 'x')");
	shmc_value_free(&t);
	shmc_value_t l = shmc_plist_from(0, NULL);
	expect_repr(l, "[]");
	shmc_value_free(&l);
	shmc_value_t bad = shmc_plist_from(2, NULL);
	cr_assert_eq(bad.type, SHMC_ERROR);
	cr_assert_eq(bad.i, -EINVAL);
	/* An item's error fails the whole, and the other items are freed
	 * (ASan/valgrind see a leak otherwise). */
	shmc_value_t err[3] = {shmc_plist_of(1, shmc_int(1)),
			       shmc_plist_of(1, shmc_strn("x", (size_t)SHMC_MAX_LEN + 1)),
			       shmc_plist_of(1, shmc_int(3))};
	shmc_value_t e = shmc_tuple_from(3, err);
	cr_assert_eq(e.type, SHMC_ERROR);
	cr_assert_eq(e.i, -EOVERFLOW);
}

Test(plain_ops, insert_clamps_like_python)
{
	/* l = [1, 'a', (2.5, None)]; l.insert(-100, 0); l.insert(100, 9);
	 * l.insert(-1, 'm'); l.insert(1, True) */
	shmc_value_t l = sample();
	ASSERT_OK(shmc_plist_insert(&l, -100, shmc_int(0)));
	ASSERT_OK(shmc_plist_insert(&l, 100, shmc_int(9)));
	ASSERT_OK(shmc_plist_insert(&l, -1, shmc_str("m")));
	ASSERT_OK(shmc_plist_insert(&l, 1, shmc_bool(true)));
	expect_repr(l, "[0, True, 1, 'a', (2.5, None), 'm', 9]");
	shmc_value_t t = shmc_tuple_of(1, shmc_int(1));
	ASSERT_ERR(shmc_plist_insert(&t, 0, shmc_int(2)), SHMC_ETYPE);
	ASSERT_ERR(shmc_plist_insert(NULL, 0, shmc_int(2)), -EINVAL);
	shmc_value_free(&t);
	shmc_value_free(&l);
}

Test(plain_ops, pop_del_clear)
{
	shmc_value_t l = sample(), v;
	ASSERT_OK(shmc_plist_pop(&l, -1, &v));
	expect_repr(v, "(2.5, None)");
	shmc_value_free(&v);
	ASSERT_ERR(shmc_plist_pop(&l, 2, &v), SHMC_EINDEX);
	ASSERT_ERR(shmc_plist_pop(&l, -3, &v), SHMC_EINDEX);
	ASSERT_OK(shmc_plist_del(&l, 0));
	expect_repr(l, "['a']");
	ASSERT_OK(shmc_plist_pop(&l, 0, NULL));
	ASSERT_ERR(shmc_plist_pop(&l, 0, &v), SHMC_EINDEX); /* pop from empty list */
	shmc_value_free(&l);
	l = sample();
	ASSERT_OK(shmc_plist_clear(&l));
	expect_repr(l, "[]");
	cr_assert_eq(shmc_value_len(l), 0);
	shmc_value_free(&l);
	ASSERT_ERR(shmc_plist_clear(NULL), -EINVAL);
}

Test(plain_ops, extend_itself_and_a_tuple)
{
	shmc_value_t l = shmc_plist_of(2, shmc_int(1), shmc_plist_of(1, shmc_int(2)));
	ASSERT_OK(shmc_plist_extend(&l, l)); /* l.extend(l) */
	expect_repr(l, "[1, [2], 1, [2]]");
	/* the copies are deep: changing one inner list leaves the other */
	shmc_seq_at(*shmc_seq_at(l, 1), 0)->i = 5;
	expect_repr(l, "[1, [5], 1, [2]]");
	shmc_value_t t = shmc_tuple_of(2, shmc_str("x"), shmc_none());
	ASSERT_OK(shmc_plist_extend(&l, t));
	expect_repr(l, "[1, [5], 1, [2], 'x', None]");
	ASSERT_ERR(shmc_plist_extend(&l, shmc_int(3)), SHMC_ETYPE);
	cr_assert_eq(shmc_value_len(l), 6);
	shmc_value_free(&t);
	shmc_value_free(&l);
}

Test(plain_ops, concat_as_python_plus)
{
	shmc_value_t out;
	ASSERT_OK(shmc_value_concat(shmc_str("ab"), shmc_str("\xc3\xa9"), &out));
	expect_repr(out, "'ab\xc3\xa9'");
	cr_assert_eq(shmc_value_len(out), 3); /* code points, not bytes */
	cr_assert_eq(out.len, 4);
	shmc_value_free(&out);
	ASSERT_OK(shmc_value_concat(shmc_bytes("a\0", 2), shmc_bytes("b", 1), &out));
	expect_repr(out, "b'a\\x00b'");
	cr_assert_eq(shmc_value_len(out), 3);
	shmc_value_free(&out);
	shmc_value_t a = sample(), b = shmc_plist_of(1, shmc_int(7));
	ASSERT_OK(shmc_value_concat(a, b, &out));
	expect_repr(out, "[1, 'a', (2.5, None), 7]");
	shmc_value_free(&out);
	shmc_value_t t1 = shmc_tuple_of(1, shmc_int(1)), t2 = shmc_tuple_of(0);
	ASSERT_OK(shmc_value_concat(t1, t2, &out));
	expect_repr(out, "(1,)");
	shmc_value_free(&out);
	/* [1] + (1,), 'a' + b'a', 1 + 1: TypeError in Python */
	ASSERT_ERR(shmc_value_concat(b, t1, &out), SHMC_ETYPE);
	ASSERT_ERR(shmc_value_concat(shmc_str("a"), shmc_bytes("a", 1), &out), SHMC_ETYPE);
	ASSERT_ERR(shmc_value_concat(shmc_int(1), shmc_int(1), &out), SHMC_ETYPE);
	ASSERT_ERR(shmc_value_concat(a, b, NULL), -EINVAL);
	shmc_value_free(&a);
	shmc_value_free(&b);
	shmc_value_free(&t1);
	shmc_value_free(&t2);
}

Test(plain_ops, len_as_python)
{
	cr_assert_eq(shmc_value_len(shmc_str("")), 0);
	cr_assert_eq(shmc_value_len(shmc_str("\xf0\x9f\x98\x80x")), 2);
	cr_assert_eq(shmc_value_len(shmc_int(3)), SHMC_ETYPE);
	cr_assert_eq(shmc_value_len(shmc_none()), SHMC_ETYPE);
	shmc_value_t d = shmc_pdict_of(2, shmc_int(1), shmc_int(2), shmc_str("k"), shmc_none());
	cr_assert_eq(shmc_value_len(d), 2);
	shmc_value_free(&d);
}

Test(plain_ops, pdict_get_and_pop_with_a_default)
{
	shmc_value_t d = shmc_pdict_of(3, shmc_int(1), shmc_str("one"), shmc_str("k"),
				       shmc_plist_of(1, shmc_int(2)), shmc_float(2.5), shmc_none());
	shmc_value_t dflt = shmc_str("none"), out;
	expect_repr(*shmc_pdict_get_or(d, shmc_bool(true), &dflt), "'one'"); /* True == 1 */
	cr_assert_eq(shmc_pdict_get_or(d, shmc_int(9), &dflt), &dflt);
	cr_assert_null(shmc_pdict_get_or(d, shmc_int(9), NULL));
	/* an unhashable key is missing for get (Python raises TypeError) */
	shmc_value_t l = shmc_plist_of(0);
	cr_assert_eq(shmc_pdict_get_or(d, l, &dflt), &dflt);
	ASSERT_ERR(shmc_pdict_pop(&d, l, &out), SHMC_EUNHASHABLE);
	shmc_value_free(&l);

	ASSERT_OK(shmc_pdict_pop(&d, shmc_str("k"), &out));
	expect_repr(out, "[2]");
	shmc_value_free(&out);
	expect_repr(d, "{1: 'one', 2.5: None}");
	ASSERT_ERR(shmc_pdict_pop(&d, shmc_str("k"), &out), SHMC_EKEY);
	ASSERT_OK(shmc_pdict_pop_or(&d, shmc_str("k"), shmc_str("dflt"), &out));
	expect_repr(out, "'dflt'");
	shmc_value_free(&out);
	ASSERT_OK(shmc_pdict_pop_or(&d, shmc_float(1.0), shmc_str("dflt"), &out));
	expect_repr(out, "'one'");
	shmc_value_free(&out);
	ASSERT_OK(shmc_pdict_pop(&d, shmc_float(2.5), NULL));
	expect_repr(d, "{}");
	ASSERT_ERR(shmc_pdict_pop_or(NULL, shmc_int(1), shmc_int(2), &out), -EINVAL);
	ASSERT_ERR(shmc_pdict_pop(NULL, shmc_int(1), &out), -EINVAL);
	shmc_value_free(&d);
}

/* A dict big enough to have an index: popping from it rebuilds the index,
 * and every key stays found. */
Test(plain_ops, pdict_pop_keeps_the_index_whole)
{
	shmc_value_t d = shmc_pdict_of(0), out;
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_pdict_set(&d, shmc_int(i), shmc_int(i * i)));
	for (int i = 0; i < 100; i += 3) {
		ASSERT_OK(shmc_pdict_pop(&d, shmc_int(i), &out));
		cr_assert_eq(out.i, i * i);
	}
	for (int i = 0; i < 100; i++) {
		shmc_value_t *v = shmc_pdict_get(d, shmc_int(i));
		if (i % 3 == 0)
			cr_assert_null(v);
		else
			cr_assert(v && v->i == i * i);
	}
	cr_assert_eq(shmc_value_len(d), 66);
	shmc_value_free(&d);
}

Test(plain_ops, python_exception_names)
{
	cr_assert_null(shmc_python_exception(0, "shmc_list_get"));
	cr_assert_str_eq(shmc_python_exception(SHMC_EINDEX, "shmc_list_get"), "IndexError");
	cr_assert_str_eq(shmc_python_exception(SHMC_EINDEX, "shmc_list_index"), "ValueError");
	cr_assert_str_eq(shmc_python_exception(SHMC_EINDEX, "shmc_list_remove"), "ValueError");
	cr_assert_str_eq(shmc_python_exception(SHMC_EINDEX, NULL), "IndexError");
	cr_assert_str_eq(shmc_python_exception(SHMC_EKEY, "shmc_dict_get"), "KeyError");
	cr_assert_str_eq(shmc_python_exception(SHMC_EATTR, NULL), "AttributeError");
	cr_assert_str_eq(shmc_python_exception(SHMC_EUNHASHABLE, NULL), "TypeError");
	cr_assert_str_eq(shmc_python_exception(SHMC_EQUEUEEMPTY, "shmc_queue_get"), "queue.Empty");
	cr_assert_str_eq(shmc_python_exception(SHMC_EQUEUEFULL, "shmc_queue_put"), "queue.Full");
	cr_assert_str_eq(shmc_python_exception(SHMC_ENOTHELD, "shmc_lock_release"), "RuntimeError");
	cr_assert_str_eq(shmc_python_exception(SHMC_EBOUND, NULL), "ValueError");
	cr_assert_str_eq(shmc_python_exception(-ETIMEDOUT, "shmc_barrier_wait"),
			 "threading.BrokenBarrierError");
	cr_assert_null(shmc_python_exception(-ETIMEDOUT, "shmc_lock_acquire"));
	cr_assert_str_eq(shmc_python_exception(-ERANGE, NULL), "OverflowError");
	cr_assert_str_eq(shmc_python_exception(-ENOENT, NULL), "OSError");
	cr_assert_str_eq(shmc_python_exception(SHMC_ECORRUPT, NULL), "shmc.Error");
}

/* The same expressions in python3 print the same reprs. */
Test(plain_ops, reprs_match_live_python3)
{
	if (!have_python3())
		cr_skip_test("python3 is not installed");
	char *argv[] = {"python3", "-c",
			"l = [1, 'a', (2.5, None)]\n"
			"l.insert(-100, 0); l.insert(100, 9); l.insert(-1, 'm'); l.insert(1, True)\n"
			"print(repr(l))\n"
			"l = [1, [2]]; l.extend(l); print(repr(l))\n"
			"print(repr(b'a\\x00' + b'b'), repr('ab\\u00e9'), len('\\U0001f600x'))\n"
			"d = {1: 'one', 'k': [2], 2.5: None}; print(repr(d.get(True, 'none')), "
			"repr(d.pop('k')), repr(d), repr(d.pop('k', 'dflt')))\n",
			NULL};
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 1e3));
	cr_assert(!r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s", r.err);
	cr_assert_str_eq(r.out,
			 "[0, True, 1, 'a', (2.5, None), 'm', 9]\n"
			 "[1, [2], 1, [2]]\n"
			 "b'a\\x00b' 'ab\xc3\xa9' 2\n"
			 "'one' [2] {1: 'one', 2.5: None} 'dflt'\n");
	run_free(&r);
}

/* len() and + of bytearray, sets, frozensets and the numbers beyond int64,
 * against what python3 prints for the same expressions. */
Test(plain_ops, len_and_concat_of_the_new_types_match_live_python3)
{
	char got[1024] = "";
	char *s;
	shmc_value_t big;
	ASSERT_OK(shmc_int_from_str("18446744073709551616", 20, 10, &big));
	shmc_value_t set = shmc_set_of(3, shmc_int(1), shmc_int(2), shmc_int(2));
	shmc_value_t fz = shmc_frozenset_of(1, shmc_tuple_of(0)), empty = shmc_frozenset_of(0);
	shmc_value_t cx = shmc_complex(1, 2), opq = shmc_opaque("x", 1, "X()");
	shmc_value_t ba = shmc_bytearray("ab\0", 3), by = shmc_bytes("c", 1);
	const shmc_value_t lens[] = {ba, shmc_bytearray("", 0), set, fz, empty, big, cx, opq};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int64_t n = shmc_value_len(lens[i]);
		char buf[32];
		if (n == SHMC_ETYPE)
			snprintf(buf, sizeof(buf), "TypeError ");
		else
			snprintf(buf, sizeof(buf), "%lld ", (long long)n);
		strcat(got, buf);
	}
	strcat(got, "\n");
	const struct {
		shmc_value_t a, b;
	} plus[] = {
		{ba, by}, {by, ba}, {ba, ba}, {by, shmc_bytearray("", 0)}, {ba, shmc_str("c")},
		{set, set}, {fz, set}, {set, shmc_plist_of(0)}, {big, big}, {cx, cx}, {opq, opq},
	};
	for (size_t i = 0; i < sizeof(plus) / sizeof(plus[0]); i++) {
		shmc_value_t out;
		int rc = shmc_value_concat(plus[i].a, plus[i].b, &out);
		if (rc == SHMC_ETYPE) {
			strcat(got, "TypeError\n");
		} else {
			ASSERT_OK(rc);
			ASSERT_OK(shmc_value_repr(out, &s));
			strcat(got, s);
			strcat(got, "\n");
			shmc_free(s);
			cr_assert_eq(out.owned, 1);
			shmc_value_free(&out);
		}
	}
	/* 2**64 + 2**64 and complex + complex are sums, not concatenations:
	 * shmc_value_concat refuses them (the *_add calls add). */
	expect_python(got,
		      "3 0 2 1 0 TypeError TypeError TypeError \n"
		      "bytearray(b'ab\\x00c')\n"
		      "b'cab\\x00'\n"
		      "bytearray(b'ab\\x00ab\\x00')\n"
		      "b'c'\n"
		      "TypeError\n"
		      "TypeError\n"
		      "TypeError\n"
		      "TypeError\n"
		      "TypeError\n"
		      "TypeError\n"
		      "TypeError\n",
		      "class O:\n"
		      "    pass\n"
		      "ba, by, s, fz, e, big, cx, o = (bytearray(b'ab\\x00'), b'c', {1, 2, 2},\n"
		      "    frozenset({()}), frozenset(), 2**64, complex(1, 2), O())\n"
		      "def length(v):\n"
		      "    try:\n"
		      "        return str(len(v))\n"
		      "    except TypeError:\n"
		      "        return 'TypeError'\n"
		      "print(' '.join(length(v) for v in (ba, bytearray(), s, fz, e, big, cx, o)), '')\n"
		      "def plus(a, b):\n"
		      "    try:\n"
		      "        r = a + b\n"
		      "    except TypeError:\n"
		      "        return 'TypeError'\n"
		      "    return repr(r) if isinstance(r, (bytes, bytearray)) else 'TypeError'\n"
		      "for a, b in ((ba, by), (by, ba), (ba, ba), (by, bytearray()), (ba, 'c'), (s, s),\n"
		      "             (fz, s), (s, []), (big, big), (cx, cx), (o, o)):\n"
		      "    print(plus(a, b))\n");
	shmc_value_t all[] = {big, set, fz, empty, cx, opq, plus[7].b};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		shmc_value_free(&all[i]);
}
