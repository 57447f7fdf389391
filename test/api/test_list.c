/*
 * test_list.c -- the managed list: Python's semantics, errors that change
 * nothing, and many processes appending at once.
 */
#include <criterion/criterion.h>

#include "testutil.h"

TestSuite(list, .timeout = 60);

static int64_t get_int(shmc_obj_t *ls, int64_t i)
{
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, i, &v));
	cr_assert_eq(v.type, SHMC_INT);
	return v.i;
}

Test(list, append_get_len_and_python_indices, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	cr_assert_eq(shmc_list_len(ls), 0);
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
	cr_assert_eq(shmc_list_len(ls), 100);
	cr_assert_eq(get_int(ls, 0), 0);
	cr_assert_eq(get_int(ls, 99), 99);
	cr_assert_eq(get_int(ls, -1), 99);
	cr_assert_eq(get_int(ls, -100), 0);
	shmc_value_t v;
	ASSERT_ERR(shmc_list_get(ls, 100, &v), SHMC_EINDEX);
	ASSERT_ERR(shmc_list_get(ls, -101, &v), SHMC_EINDEX);
	shmc_obj_release(ls);
}

Test(list, set_insert_pop_del_follow_python, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	shmc_value_t v;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int i = 0; i < 5; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
	ASSERT_OK(shmc_list_set(ls, -1, shmc_str("last")));
	ASSERT_OK(shmc_list_insert(ls, 0, shmc_float(0.5)));
	ASSERT_OK(shmc_list_insert(ls, -1, shmc_none()));   /* before the last */
	ASSERT_OK(shmc_list_insert(ls, 1000, shmc_bool(true))); /* clamps: end */
	ASSERT_OK(shmc_list_insert(ls, -1000, shmc_int(-1)));   /* clamps: start */
	expect_str(ls, "[-1, 0.5, 0, 1, 2, 3, None, 'last', True]");
	ASSERT_OK(shmc_list_pop(ls, -1, &v));
	cr_assert(v.type == SHMC_BOOL && v.b);
	ASSERT_OK(shmc_list_pop(ls, 1, &v));
	cr_assert(v.type == SHMC_FLOAT && v.f == 0.5);
	ASSERT_OK(shmc_list_del(ls, 0));
	ASSERT_OK(shmc_list_pop(ls, 3, NULL));
	expect_str(ls, "[0, 1, 2, None, 'last']");
	ASSERT_ERR(shmc_list_pop(ls, 5, &v), SHMC_EINDEX);
	ASSERT_ERR(shmc_list_del(ls, -6), SHMC_EINDEX);
	ASSERT_ERR(shmc_list_set(ls, 5, shmc_int(0)), SHMC_EINDEX);
	expect_str(ls, "[0, 1, 2, None, 'last']");
	shmc_obj_release(ls);
}

Test(list, pop_from_empty_is_an_index_error, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	shmc_value_t v;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_ERR(shmc_list_pop(ls, -1, &v), SHMC_EINDEX);
	ASSERT_ERR(shmc_list_get(ls, 0, &v), SHMC_EINDEX);
	shmc_obj_release(ls);
}

Test(list, extend_new_from_clear_and_copy, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	shmc_value_t items = shmc_plist_of(3, shmc_int(1), shmc_str("two"),
					   shmc_tuple_of(2, shmc_int(3), shmc_int(4)));
	ASSERT_OK(shmc_list_new_from(A, items, &ls));
	ASSERT_OK(shmc_list_extend(ls, items));
	expect_str(ls, "[1, 'two', (3, 4), 1, 'two', (3, 4)]");
	shmc_value_t copy;
	ASSERT_OK(shmc_list_copy(ls, &copy));
	cr_assert_eq(shmc_seq_len(copy), 6);
	cr_assert_str_eq(shmc_seq_at(copy, 1)->str, "two");
	shmc_value_free(&copy);
	ASSERT_OK(shmc_list_clear(ls));
	cr_assert_eq(shmc_list_len(ls), 0);
	expect_str(ls, "[]");
	ASSERT_OK(shmc_list_append(ls, shmc_int(7)));
	expect_str(ls, "[7]");
	ASSERT_ERR(shmc_list_extend(ls, shmc_int(3)), SHMC_ETYPE);
	ASSERT_ERR(shmc_list_new_from(A, shmc_str("abc"), &ls), SHMC_ETYPE);
	shmc_value_free(&items);
	shmc_obj_release(ls);
}

Test(list, large_list_grows_and_shrinks, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int i = 0; i < 100000; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
	for (int i = 0; i < 100000; i += 997)
		cr_assert_eq(get_int(ls, i), i);
	for (int i = 0; i < 50000; i++)
		ASSERT_OK(shmc_list_pop(ls, -1, NULL));
	cr_assert_eq(shmc_list_len(ls), 50000);
	cr_assert_eq(get_int(ls, -1), 49999);
	shmc_obj_release(ls);
}

Test(list, wrong_handles_are_refused, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d;
	shmc_value_t v;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_ERR(shmc_list_append(d, shmc_int(1)), SHMC_EKIND);
	ASSERT_ERR(shmc_list_get(d, 0, &v), SHMC_EKIND);
	cr_assert_eq(shmc_list_len(d), SHMC_EKIND);
	ASSERT_ERR(shmc_list_append(NULL, shmc_int(1)), SHMC_EHANDLE);
	cr_assert_eq(shmc_list_len(NULL), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_new(NULL, &d), SHMC_EHANDLE);
	shmc_obj_release(d);
}

Test(list, invalid_values_change_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	ASSERT_ERR(shmc_list_append(ls, shmc_strn("\xff\xfe", 2)), -EILSEQ);
	ASSERT_ERR(shmc_list_set(ls, 0, shmc_strn("\xc0\x80", 2)), -EILSEQ);
	shmc_value_t bad = shmc_plist_of(2, shmc_int(1), shmc_strn("\xed\xa0\x80", 3));
	ASSERT_ERR(shmc_list_extend(ls, bad), -EILSEQ);
	shmc_value_free(&bad);
	expect_str(ls, "[1]");
	shmc_obj_release(ls);
}

/* Many processes appending at once: no item lost or duplicated, and each
 * producer's items in the order it appended them. */
#define PER_CHILD 10000

static int append_child(int i, void *arg)
{
	shmc_obj_t *ls = arg;
	for (int k = 0; k < PER_CHILD; k++)
		CHILD_OK(shmc_list_append(ls, shmc_int((int64_t)i * 1000000 + k)));
	return 0;
}

static void appenders(int nchildren)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	cr_assert_eq(run_children(nchildren, append_child, ls), 0);
	shmc_value_t all;
	ASSERT_OK(shmc_list_copy(ls, &all));
	cr_assert_eq(shmc_seq_len(all), (size_t)nchildren * PER_CHILD);
	int next[64] = {0};
	for (size_t i = 0; i < shmc_seq_len(all); i++) {
		int64_t x = shmc_seq_at(all, (int64_t)i)->i;
		int child = (int)(x / 1000000), k = (int)(x % 1000000);
		cr_assert(child >= 0 && child < nchildren);
		cr_assert_eq(k, next[child], "child %d: item %d where %d was due",
			     child, k, next[child]);
		next[child]++;
	}
	shmc_value_free(&all);
	shmc_obj_release(ls);
}

Test(list, two_processes_append_10000_each, .init = arena_setup, .fini = arena_teardown)
{
	appenders(2);
}

Test(list, eight_processes_append_10000_each, .init = arena_setup, .fini = arena_teardown)
{
	appenders(8);
}

/* Readers in other processes see a consistent list while it changes. */
static int reader_child(int i, void *arg)
{
	(void)i;
	shmc_obj_t *ls = arg;
	for (int k = 0; k < 2000; k++) {
		shmc_value_t snap;
		CHILD_OK(shmc_list_copy(ls, &snap));
		/* The writer keeps every item equal to the list's length. */
		size_t n = shmc_seq_len(snap);
		for (size_t j = 0; j < n; j++)
			CHILD_CHECK(shmc_seq_at(snap, (int64_t)j)->i == (int64_t)n);
		shmc_value_free(&snap);
	}
	return 0;
}

static int rewriter_child(int i, void *arg)
{
	(void)i;
	shmc_obj_t *ls = arg;
	for (int k = 0; k < 300; k++) {
		/* Grow by one, then rewrite every item to the new length; the
		 * snapshot readers must never see a mixture. */
		shmc_value_t items;
		CHILD_OK(shmc_list_copy(ls, &items));
		int64_t n = (int64_t)shmc_seq_len(items) + 1;
		shmc_value_free(&items);
		items = shmc_plist_of(0);
		for (int64_t j = 0; j < n; j++)
			CHILD_OK(shmc_plist_append(&items, shmc_int(n)));
		CHILD_OK(shmc_list_clear(ls));
		CHILD_OK(shmc_list_extend(ls, items));
		shmc_value_free(&items);
	}
	return 0;
}

static int mixed_child(int i, void *arg)
{
	return i == 0 ? rewriter_child(i, arg) : reader_child(i, arg);
}

Test(list, snapshots_are_consistent_under_writes, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	cr_assert_eq(run_children(3, mixed_child, ls), 0);
	shmc_obj_release(ls);
}
