/*
 * test_list_inject.c -- allocation failure injection over every compound
 * list operation of list_slice.c, list_sort.c and list_ops.c, in the manner
 * of test_inject.c: make the first arena allocation fail, then the second,
 * the third ... until the operation succeeds. Each failure must be
 * SHMC_EFULL and leave the list exactly as it was (its text and length)
 * and the arena's bytes in use as they were, to the byte; the first
 * success must have the operation's whole effect. The lists hold strings
 * and references, so that the operations allocate for values (encoding,
 * duplicating) and for handles (decoding references), not only for the
 * new array.
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX /* inject_ok */
#include "testutil.h"

TestSuite(list_inject, .timeout = 120);

#define NONE SHMC_SLICE_NONE

struct op {
	shmc_obj_t *ls, *other, *d;
	shmc_value_t v, out;
	int64_t n;
};

/* What a failed call must leave as it was. */
static char *state(void *p)
{
	struct op *op = p;
	return obj_state(op->ls, "length", shmc_list_len(op->ls));
}

/* Run F(OP) with allocation n failing, n = 0, 1, ... until it succeeds;
 * check each failure changed nothing (testutil.h). @return the failures
 * seen */
static int inject(const char *what, int (*f)(void *), struct op *op, const char *want)
{
	int n = inject_ok(A, what, 1000, f, state, op);
	if (want)
		expect_str(op->ls, want);
	cr_log_info("%s: %d injected failures, each changing nothing", what, n);
	return n;
}

/* ['s0', <dict>, ('s2', <dict>), 's3', ...]: N items, strings and
 * references. */
static struct op setup(int n)
{
	struct op op = {0};
	ASSERT_OK(shmc_dict_new(A, &op.d));
	ASSERT_OK(shmc_list_new(A, &op.ls));
	for (int i = 0; i < n; i++) {
		char s[32];
		snprintf(s, sizeof(s), "s%d", n - i);
		shmc_value_t v = i % 3 == 1	  ? shmc_ref(op.d)
				 : i % 3 == 2 ? shmc_tuple_of(2, shmc_str(s), shmc_ref(op.d))
					      : shmc_str(s);
		ASSERT_OK(shmc_list_append(op.ls, v));
		shmc_value_free(&v);
	}
	return op;
}

static void teardown(struct op *op)
{
	shmc_value_free(&op->v);
	shmc_value_free(&op->out);
	shmc_obj_release(op->other);
	shmc_obj_release(op->ls);
	shmc_obj_release(op->d);
}

/* Keys that order the mixed items: each item's repr. */
static int repr_key(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	(void)ctx;
	char *s;
	int rc = shmc_value_repr(*item, &s);
	if (rc)
		return rc;
	/* The address of the dict prints the same for all: fine, a key. */
	rc = shmc_value_copy(shmc_str(s), key);
	shmc_free(s);
	return rc;
}

static int do_sort(void *p)
{
	struct op *op = p;
	return shmc_list_sort(op->ls, repr_key, NULL, NULL, op->n != 0);
}

static int do_reverse(void *p)
{
	struct op *op = p;
	return shmc_list_reverse(op->ls);
}

static int do_set_run(void *p)
{
	struct op *op = p;
	return shmc_list_slice_set(op->ls, 1, 3, NONE, op->v);
}

static int do_set_extended(void *p)
{
	struct op *op = p;
	return shmc_list_slice_set(op->ls, NONE, NONE, -2, op->v);
}

static int do_set_self(void *p)
{
	struct op *op = p;
	return shmc_list_slice_set(op->ls, 1, 2, NONE, shmc_ref(op->ls));
}

static int do_set_other(void *p)
{
	struct op *op = p;
	return shmc_list_slice_set(op->ls, 0, 1, NONE, shmc_ref(op->other));
}

static int do_del(void *p)
{
	struct op *op = p;
	return shmc_list_slice_del(op->ls, NONE, NONE, 2);
}

static int do_imul(void *p)
{
	struct op *op = p;
	return shmc_list_inplace_repeat(op->ls, op->n);
}

static int do_extend_self(void *p)
{
	struct op *op = p;
	return shmc_list_extend(op->ls, shmc_ref(op->ls));
}

static int do_extend_other(void *p)
{
	struct op *op = p;
	return shmc_list_extend(op->ls, shmc_ref(op->other));
}

static int do_slice_get(void *p)
{
	struct op *op = p;
	shmc_value_free(&op->out);
	return shmc_list_slice_get(op->ls, NONE, NONE, -1, &op->out);
}

static int do_concat(void *p)
{
	struct op *op = p;
	shmc_value_free(&op->out);
	return shmc_list_concat(op->ls, shmc_ref(op->other), &op->out);
}

static int do_repeat(void *p)
{
	struct op *op = p;
	shmc_value_free(&op->out);
	return shmc_list_repeat(op->ls, 2, &op->out);
}

/* The text of OP's list with the dict's address masked: "<D>". */
static char *masked(struct op *op)
{
	char *s = obj_str(op->ls), *d;
	cr_assert(shmc_obj_repr(op->d, &d) == 0);
	size_t dl = strlen(d);
	char *out = calloc(strlen(s) + 1, 1), *w = out;
	for (const char *p = s; *p;) {
		if (strncmp(p, d, dl) == 0) {
			w += sprintf(w, "<D>");
			p += dl;
		} else {
			*w++ = *p++;
		}
	}
	shmc_free(s);
	shmc_free(d);
	return out;
}

static void expect_masked(struct op *op, const char *want)
{
	char *s = masked(op);
	cr_assert_str_eq(s, want);
	free(s);
}

Test(list_inject, sort_and_reverse, .init = arena_setup, .fini = arena_teardown)
{
	struct op op = setup(7);
	expect_masked(&op, "['s7', <D>, ('s5', <D>), 's4', <D>, ('s2', <D>), 's1']");
	cr_assert_geq(inject("sort", do_sort, &op, NULL), 1);
	expect_masked(&op, "['s1', 's4', 's7', ('s2', <D>), ('s5', <D>), <D>, <D>]");
	op.n = 1;
	cr_assert_geq(inject("sort reverse", do_sort, &op, NULL), 1);
	expect_masked(&op, "[<D>, <D>, ('s5', <D>), ('s2', <D>), 's7', 's4', 's1']");
	cr_assert_geq(inject("reverse", do_reverse, &op, NULL), 1);
	expect_masked(&op, "['s1', 's4', 's7', ('s2', <D>), ('s5', <D>), <D>, <D>]");
	teardown(&op);
}

Test(list_inject, slice_assignment_and_deletion, .init = arena_setup, .fini = arena_teardown)
{
	struct op op = setup(6);
	op.v = shmc_plist_of(3, shmc_str("x"), shmc_tuple_of(1, shmc_str("y")), shmc_str("z"));
	/* Three values to encode, the array, the retirements. */
	cr_assert_geq(inject("ls[1:3] = 3 items", do_set_run, &op, NULL), 3);
	expect_masked(&op, "['s6', 'x', ('y',), 'z', 's3', <D>, ('s1', <D>)]");
	shmc_value_free(&op.v);
	op.v = shmc_tuple_of(4, shmc_str("a"), shmc_ref(op.d), shmc_str("b"), shmc_str("c"));
	cr_assert_geq(inject("ls[::-2] = 4 items", do_set_extended, &op, NULL), 4);
	expect_masked(&op, "['c', 'x', 'b', 'z', <D>, <D>, 'a']");
	/* Copies of the five strings of the list assigned to its own slice,
	 * and the array (the references need no block). */
	cr_assert_geq(inject("ls[1:2] = ls", do_set_self, &op, NULL), 6);
	expect_masked(&op, "['c', 'c', 'x', 'b', 'z', <D>, <D>, 'a', 'b', 'z', <D>, <D>, 'a']");
	ASSERT_OK(shmc_list_new(A, &op.other));
	ASSERT_OK(shmc_list_append(op.other, shmc_str("other")));
	cr_assert_geq(inject("ls[0:1] = other", do_set_other, &op, NULL), 2);
	expect_masked(&op, "['other', 'c', 'x', 'b', 'z', <D>, <D>, 'a', 'b', 'z', <D>, <D>, 'a']");
	cr_assert_geq(inject("del ls[::2]", do_del, &op, NULL), 1);
	expect_masked(&op, "['c', 'b', <D>, 'a', 'z', <D>]");
	teardown(&op);
}

Test(list_inject, repeat_and_extend_in_place, .init = arena_setup, .fini = arena_teardown)
{
	struct op op = setup(3);
	op.n = 3;
	/* Two more copies of two values that own blocks, and the array. */
	cr_assert_geq(inject("ls *= 3", do_imul, &op, NULL), 5);
	expect_masked(&op, "['s3', <D>, ('s1', <D>), 's3', <D>, ('s1', <D>), 's3', <D>, "
			   "('s1', <D>)]");
	op.n = 0;
	inject("ls *= 0", do_imul, &op, "[]");
	ASSERT_OK(shmc_list_append(op.ls, shmc_str("t")));
	ASSERT_OK(shmc_list_append(op.ls, shmc_ref(op.d)));
	/* A copy of the string; the array has room. */
	cr_assert_geq(inject("ls += ls", do_extend_self, &op, NULL), 1);
	expect_masked(&op, "['t', <D>, 't', <D>]");
	ASSERT_OK(shmc_list_new(A, &op.other));
	ASSERT_OK(shmc_list_append(op.other, shmc_str("o")));
	cr_assert_geq(inject("ls += other", do_extend_other, &op, NULL), 1);
	expect_masked(&op, "['t', <D>, 't', <D>, 'o']");
	teardown(&op);
}

/* The operations that return plain lists change no list; they allocate in
 * the arena only for the handles of the references they copy out. */
Test(list_inject, reads_that_return_plain_lists, .init = arena_setup, .fini = arena_teardown)
{
	struct op op = setup(4);
	ASSERT_OK(shmc_list_new(A, &op.other));
	ASSERT_OK(shmc_list_append(op.other, shmc_ref(op.d)));
	inject("ls[::-1]", do_slice_get, &op, NULL);
	cr_assert_eq(shmc_seq_len(op.out), 4);
	inject("ls + other", do_concat, &op, NULL);
	cr_assert_eq(shmc_seq_len(op.out), 5);
	inject("ls * 2", do_repeat, &op, NULL);
	cr_assert_eq(shmc_seq_len(op.out), 8);
	teardown(&op);
}

/* Removing many values needs room to retire each (the epoch layer's queue
 * grows, in the arena): a failure there changes nothing either. */
static int do_del_most(void *p)
{
	struct op *op = p;
	return shmc_list_slice_del(op->ls, 1, NONE, NONE);
}

static int do_replace_all(void *p)
{
	struct op *op = p;
	return shmc_list_slice_set(op->ls, NONE, NONE, -1, op->v);
}

Test(list_inject, many_retirements, .init = arena_setup, .fini = arena_teardown)
{
	struct op op = setup(3000);
	op.v = shmc_plist_of(0);
	for (int i = 0; i < 3000; i++)
		ASSERT_OK(shmc_plist_append(&op.v, shmc_int(i)));
	cr_assert_geq(inject("ls[::-1] = 3000 ints", do_replace_all, &op, NULL), 2);
	cr_assert_eq(shmc_list_count(op.ls, shmc_int(2999)), 1);
	shmc_value_free(&op.v);
	op.v = shmc_plist_of(0);
	for (int i = 0; i < 3000; i++) {
		char s[16];
		snprintf(s, sizeof(s), "v%d", i);
		ASSERT_OK(shmc_plist_append(&op.v, shmc_str(s)));
	}
	ASSERT_OK(do_replace_all(&op));
	cr_assert_geq(inject("del ls[1:]", do_del_most, &op, "['v2999']"), 2);
	teardown(&op);
}
