/*
 * test_list_sort.c -- ls.sort() and ls.reverse(): stability, the key and
 * less-than callbacks, errors that change nothing, values that hold
 * references, and Python's "<" (shmc_value_lt) at its edges. What Python
 * prints for the same sorts is checked in test_list_parity.c.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "testutil.h"

TestSuite(sort, .timeout = 60);

static shmc_obj_t *int_list(const int64_t *v, size_t n)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (size_t i = 0; i < n; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(v[i])));
	return ls;
}

static int64_t get_int(shmc_obj_t *ls, int64_t i)
{
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, i, &v));
	cr_assert_eq(v.type, SHMC_INT);
	return v.i;
}

/* Items are (key, serial) pairs, sorted by key only: equal keys must keep
 * the order of their serials (ascending, also with reverse=True). */
static int first_of_pair(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	(void)ctx;
	*key = *shmc_seq_at(*item, 0);
	key->owned = 0;
	return 0;
}

static void check_stable(bool reverse)
{
	enum { N = 5000 };
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int64_t i = 0; i < N; i++) {
		shmc_value_t t = shmc_tuple_of(2, shmc_int((int64_t)(mix64((uint64_t)i) % 50)),
					       shmc_int(i));
		ASSERT_OK(shmc_list_append(ls, t));
		shmc_value_free(&t);
	}
	ASSERT_OK(shmc_list_sort(ls, first_of_pair, NULL, NULL, reverse));
	shmc_value_t all;
	ASSERT_OK(shmc_list_copy(ls, &all));
	cr_assert_eq(shmc_seq_len(all), N);
	for (int64_t i = 1; i < N; i++) {
		int64_t k0 = shmc_seq_at(*shmc_seq_at(all, i - 1), 0)->i;
		int64_t k1 = shmc_seq_at(*shmc_seq_at(all, i), 0)->i;
		int64_t s0 = shmc_seq_at(*shmc_seq_at(all, i - 1), 1)->i;
		int64_t s1 = shmc_seq_at(*shmc_seq_at(all, i), 1)->i;
		cr_assert(reverse ? k0 >= k1 : k0 <= k1, "item %lld out of order", (long long)i);
		if (k0 == k1)
			cr_assert_lt(s0, s1, "equal keys %lld: serial %lld before %lld",
				     (long long)k0, (long long)s0, (long long)s1);
	}
	shmc_value_free(&all);
	shmc_obj_release(ls);
}

Test(sort, equal_keys_keep_their_order, .init = arena_setup, .fini = arena_teardown)
{
	check_stable(false);
}

Test(sort, reverse_keeps_equal_keys_in_their_order, .init = arena_setup,
     .fini = arena_teardown)
{
	check_stable(true);
}

Test(sort, mixed_types_is_etype_and_unchanged, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *inner;
	ASSERT_OK(shmc_list_new(A, &inner));
	shmc_value_t items = shmc_plist_of(6, shmc_int(5), shmc_str("five"), shmc_float(1.5),
					   shmc_ref(inner), shmc_int(-1), shmc_bytes("b", 1));
	ASSERT_OK(shmc_list_new_from(A, items, &ls));
	shmc_value_free(&items);
	char *before = obj_str(ls);
	size_t used = arena_in_use(A);
	ASSERT_ERR(shmc_list_sort(ls, NULL, NULL, NULL, false), SHMC_ETYPE);
	ASSERT_ERR(shmc_list_sort(ls, NULL, NULL, NULL, true), SHMC_ETYPE);
	char *after = obj_str(ls);
	cr_assert_str_eq(after, before);
	cr_assert_eq(arena_in_use(A), used);
	shmc_free(before);
	shmc_free(after);
	shmc_obj_release(ls);
	shmc_obj_release(inner);
}

/* A key that fails on the Nth call, counting calls. */
struct counted {
	int calls, fail_at, err;
	int64_t seen[16];
};

static int counting_key(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	struct counted *c = ctx;
	if (c->calls < 16)
		c->seen[c->calls] = item->i;
	if (++c->calls == c->fail_at)
		return c->err;
	*key = shmc_int(-item->i);
	return 0;
}

Test(sort, key_is_called_once_per_item_in_order, .init = arena_setup, .fini = arena_teardown)
{
	int64_t v[] = {4, 9, 1, 7, 3};
	shmc_obj_t *ls = int_list(v, 5);
	struct counted c = {0, -1, 0, {0}};
	ASSERT_OK(shmc_list_sort(ls, counting_key, NULL, &c, false));
	cr_assert_eq(c.calls, 5);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(c.seen[i], v[i], "call %d saw %lld", i, (long long)c.seen[i]);
	expect_str(ls, "[9, 7, 4, 3, 1]");
	shmc_obj_release(ls);
}

Test(sort, key_error_propagates_and_changes_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	int64_t v[] = {4, 9, 1, 7, 3};
	shmc_obj_t *ls = int_list(v, 5);
	for (int at = 1; at <= 5; at++) {
		struct counted c = {0, at, -EDOM, {0}};
		ASSERT_ERR(shmc_list_sort(ls, counting_key, NULL, &c, false), -EDOM);
		cr_assert_eq(c.calls, at, "the sort went on after the key failed");
		expect_str(ls, "[4, 9, 1, 7, 3]");
	}
	/* A positive result stops it too, and is returned as it is. */
	struct counted c = {0, 3, 42, {0}};
	ASSERT_ERR(shmc_list_sort(ls, counting_key, NULL, &c, false), 42);
	expect_str(ls, "[4, 9, 1, 7, 3]");
	shmc_obj_release(ls);
}

/* Orders str by length, then stops with ERR after LIMIT comparisons. */
struct by_len {
	int calls, limit, err;
};

static int shorter(const shmc_value_t *a, const shmc_value_t *b, void *ctx)
{
	struct by_len *c = ctx;
	if (++c->calls > c->limit)
		return c->err;
	return a->len < b->len;
}

Test(sort, lt_callback_orders_and_its_error_changes_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls;
	shmc_value_t items = shmc_plist_of(5, shmc_str("ccc"), shmc_str("a"), shmc_str("dddd"),
					   shmc_str("bb"), shmc_str("e"));
	ASSERT_OK(shmc_list_new_from(A, items, &ls));
	shmc_value_free(&items);
	struct by_len c = {0, 3, -ERANGE};
	ASSERT_ERR(shmc_list_sort(ls, NULL, shorter, &c, false), -ERANGE);
	expect_str(ls, "['ccc', 'a', 'dddd', 'bb', 'e']");
	c = (struct by_len){0, 1000, 0};
	ASSERT_OK(shmc_list_sort(ls, NULL, shorter, &c, false));
	expect_str(ls, "['a', 'e', 'bb', 'ccc', 'dddd']"); /* stable: a before e */
	ASSERT_OK(shmc_list_sort(ls, NULL, shorter, &c, true));
	expect_str(ls, "['dddd', 'ccc', 'bb', 'a', 'e']");
	shmc_obj_release(ls);
}

/* Callbacks run under the list's writer lock: reading the list works (and
 * shows it unsorted), writing it is -EDEADLK. */
struct reentry {
	shmc_obj_t *ls;
	int64_t len_seen, first_seen;
	int write_rc;
};

static int reentrant_key(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	struct reentry *r = ctx;
	shmc_value_t v;
	r->len_seen = shmc_list_len(r->ls);
	if (shmc_list_get(r->ls, 0, &v) == 0)
		r->first_seen = v.i;
	r->write_rc = shmc_list_append(r->ls, shmc_int(0));
	if (r->write_rc != -EDEADLK)
		return r->write_rc ? r->write_rc : -1;
	*key = *item;
	return 0;
}

static int writing_lt(const shmc_value_t *a, const shmc_value_t *b, void *ctx)
{
	struct reentry *r = ctx;
	r->write_rc = shmc_list_reverse(r->ls);
	return r->write_rc < 0 ? r->write_rc : a->i < b->i;
}

Test(sort, callbacks_read_the_list_and_writing_it_is_edeadlk, .init = arena_setup,
     .fini = arena_teardown)
{
	int64_t v[] = {3, 1, 2};
	shmc_obj_t *ls = int_list(v, 3);
	struct reentry r = {ls, 0, 0, 0};
	ASSERT_OK(shmc_list_sort(ls, reentrant_key, NULL, &r, false));
	cr_assert_eq(r.write_rc, -EDEADLK);
	cr_assert_eq(r.len_seen, 3);
	cr_assert_eq(r.first_seen, 3, "the callback saw the list already changed");
	expect_str(ls, "[1, 2, 3]");
	ASSERT_ERR(shmc_list_sort(ls, NULL, writing_lt, &r, true), -EDEADLK);
	expect_str(ls, "[1, 2, 3]");
	shmc_obj_release(ls);
}

/* Sorting moves words, not values: items holding strings and managed
 * references come out whole, and nothing is left behind (the fixture's
 * leak check). */
Test(sort, items_holding_references_move_whole, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_str("k"), shmc_int(1)));
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int i = 9; i >= 0; i--) {
		char s[32];
		snprintf(s, sizeof(s), "item %d", i);
		shmc_value_t t = shmc_tuple_of(3, shmc_int(i), shmc_str(s), shmc_ref(d));
		ASSERT_OK(shmc_list_append(ls, t));
		shmc_value_free(&t);
	}
	ASSERT_OK(shmc_list_sort(ls, first_of_pair, NULL, NULL, false));
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, 3, &v));
	cr_assert_str_eq(shmc_seq_at(v, 1)->str, "item 3");
	cr_assert(shmc_obj_same(shmc_seq_at(v, 2)->ref, d));
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_reverse(ls));
	ASSERT_OK(shmc_list_get(ls, 0, &v));
	cr_assert_str_eq(shmc_seq_at(v, 1)->str, "item 9");
	shmc_value_free(&v);
	shmc_obj_release(ls);
	/* The list held ten references to D; they are gone with it. */
	ASSERT_OK(shmc_dict_set(d, shmc_str("k"), shmc_int(2)));
	shmc_obj_release(d);
}

Test(sort, large_list_sorts_and_reverses, .init = arena_setup, .fini = arena_teardown)
{
	enum { N = 100000 };
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int64_t i = 0; i < N; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int((int64_t)(mix64((uint64_t)i) % 1000000))));
	double t0 = now_s();
	ASSERT_OK(shmc_list_sort(ls, NULL, NULL, NULL, false));
	double t1 = now_s();
	ASSERT_OK(shmc_list_reverse(ls));
	double t2 = now_s();
	cr_log_info("sort of %d ints: %.1f ms; reverse: %.1f ms", N, (t1 - t0) * 1e3,
		    (t2 - t1) * 1e3);
	shmc_value_t all;
	ASSERT_OK(shmc_list_copy(ls, &all));
	for (int64_t i = 1; i < N; i++)
		cr_assert_geq(shmc_seq_at(all, i - 1)->i, shmc_seq_at(all, i)->i);
	shmc_value_free(&all);
	/* In order already: sorting again changes nothing. */
	int64_t first = get_int(ls, 0), last = get_int(ls, -1);
	ASSERT_OK(shmc_list_sort(ls, NULL, NULL, NULL, true));
	cr_assert_eq(get_int(ls, 0), first);
	cr_assert_eq(get_int(ls, -1), last);
	cr_assert_eq(shmc_list_len(ls), N);
	shmc_obj_release(ls);
}

Test(sort, short_lists_and_bad_handles, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *d;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_sort(ls, NULL, NULL, NULL, false));
	ASSERT_OK(shmc_list_reverse(ls));
	expect_str(ls, "[]");
	ASSERT_OK(shmc_list_append(ls, shmc_none()));
	ASSERT_OK(shmc_list_sort(ls, NULL, NULL, NULL, true)); /* nothing compared */
	ASSERT_OK(shmc_list_reverse(ls));
	expect_str(ls, "[None]");
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_ERR(shmc_list_sort(d, NULL, NULL, NULL, false), SHMC_EKIND);
	ASSERT_ERR(shmc_list_reverse(d), SHMC_EKIND);
	ASSERT_ERR(shmc_list_sort(NULL, NULL, NULL, NULL, false), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_reverse(NULL), SHMC_EHANDLE);
	shmc_obj_release(d);
	shmc_obj_release(ls);
}

/* shmc_value_lt beyond what python3 can be asked in a literal. */
Test(sort, value_lt_errors_and_depth)
{
	cr_assert_eq(shmc_value_lt(shmc_int(INT64_MAX), shmc_float(9223372036854775808.0)), 1);
	cr_assert_eq(shmc_value_lt(shmc_float(-9223372036854775808.0), shmc_int(INT64_MIN)), 0);
	cr_assert_eq(shmc_value_lt(shmc_int(INT64_MIN), shmc_float(-9223372036854775808.0)), 0);
	cr_assert_eq(shmc_value_lt(shmc_int(INT64_MIN), shmc_float(-9223372036854774784.0)), 1);
	cr_assert_eq(shmc_value_lt(shmc_int(3), shmc_float(3.5)), 1);
	cr_assert_eq(shmc_value_lt(shmc_float(3.5), shmc_int(4)), 1);
	cr_assert_eq(shmc_value_lt(shmc_int(-3), shmc_float(-3.5)), 0);
	cr_assert_eq(shmc_value_lt(shmc_float(-3.5), shmc_int(-3)), 1);
	cr_assert_eq(shmc_value_lt(shmc_float(-INFINITY), shmc_int(INT64_MIN)), 1);
	cr_assert_eq(shmc_value_lt(shmc_int(INT64_MAX), shmc_float(INFINITY)), 1);
	cr_assert_eq(shmc_value_lt(shmc_int(0), shmc_float(NAN)), 0);
	cr_assert_eq(shmc_value_lt(shmc_float(NAN), shmc_int(0)), 0);
	/* Text with NUL bytes compares by all its bytes. */
	cr_assert_eq(shmc_value_lt(shmc_strn("a\0b", 3), shmc_strn("a\0c", 3)), 1);
	cr_assert_eq(shmc_value_lt(shmc_bytes("\x80", 1), shmc_bytes("\x7f", 1)), 0);
	ASSERT_ERR(shmc_value_lt(shmc_strn(NULL, 2), shmc_str("a")), -EINVAL);
	/* A failed builder's value: its error. */
	ASSERT_ERR(shmc_value_lt(shmc_int(1), shmc_strn("x", (size_t)SHMC_MAX_LEN + 1)), -EOVERFLOW);
	shmc_value_t bad = {.type = 99};
	ASSERT_ERR(shmc_value_lt(bad, shmc_int(1)), -EINVAL);
	ASSERT_ERR(shmc_value_lt(shmc_none(), shmc_int(1)), SHMC_ETYPE);
	/* Nesting: a list 600 deep compares to SHMC_EDEPTH, 500 deep fine. */
	shmc_value_t deep[2];
	for (int k = 0; k < 2; k++) {
		deep[k] = shmc_int(k);
		for (int i = 0; i < 500; i++)
			deep[k] = shmc_plist_of(1, deep[k]);
	}
	cr_assert_eq(shmc_value_lt(deep[0], deep[1]), 1);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 100; i++)
			deep[k] = shmc_plist_of(1, deep[k]);
	ASSERT_ERR(shmc_value_lt(deep[0], deep[1]), SHMC_EDEPTH);
	shmc_value_free(&deep[0]);
	shmc_value_free(&deep[1]);
}
