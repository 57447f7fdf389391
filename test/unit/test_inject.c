/*
 * test_inject.c -- allocation failure injection, in the manner of SQLite's
 * out-of-memory tests.
 *
 * For each compound operation: make the first arena allocation fail, then
 * the second, the third ... (shmc__alloc_fail_after(n), n = 0, 1, 2 ...).
 * While the operation fails it must fail with SHMC_EFULL and leave
 * everything exactly as it was: the container's contents and length, and
 * the arena's bytes in use (after reclamation) to the byte. At the first n
 * where it succeeds it must have had its full effect. Containers are built
 * so that the operation really allocates several times (a list at exactly
 * its capacity, a dict table that is full, values holding strings), and the
 * number of failures seen is checked against the allocations the operation
 * cannot do without.
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX /* inject_loop, shmc__alloc_fail_after */
#include "testutil.h"

TestSuite(inject, .timeout = 60);

#define MAX_INJECT 1000 /* no operation here allocates anywhere near this */

static int64_t obj_len(shmc_obj_t *o)
{
	switch (shmc_obj_kind(o)) {
	case SHMC_KIND_LIST:
		return shmc_list_len(o);
	case SHMC_KIND_DICT:
		return shmc_dict_len(o);
	case SHMC_KIND_NAMESPACE: {
		shmc_value_t names;
		int rc = shmc_namespace_names(o, &names);
		if (rc)
			return rc;
		int64_t n = (int64_t)shmc_seq_len(names);
		shmc_value_free(&names);
		return n;
	}
	default:
		break;
	}
	return -1;
}

/* OP(CTX), and OBJ (NULL: none) whose text and length it must leave as
 * they were when it fails. */
struct injected {
	shmc_obj_t *obj;
	int (*op)(void *ctx);
	void *ctx;
};

static int injected_op(void *p)
{
	struct injected *in = p;
	return in->op(in->ctx);
}

static char *injected_state(void *p)
{
	struct injected *in = p;
	return obj_state(in->obj, "length", obj_len(in->obj));
}

/* Run OP(CTX) with allocation n failing, n = 0, 1, 2 ... until it
 * succeeds (testutil.h's inject_loop). After each failure, OBJ (when not
 * NULL) and the arena are checked to be exactly as before. Returns OP's
 * successful result and puts the number of injected failures in *NFAIL. */
static int inject(const char *what, shmc_obj_t *obj, int (*op)(void *ctx),
		  void *ctx, int *nfail)
{
	struct injected in = {obj, op, ctx};
	int rc = inject_loop(A, what, MAX_INJECT, injected_op, obj ? injected_state : NULL, &in,
			     nfail);
	cr_assert(rc >= 0, "%s -> %s after %d injected failures", what,
		  shmc_errname(rc), *nfail);
	return rc;
}

#define INJECT(obj, op, ctx, min_fail)                                         \
	({                                                                     \
		int nfail_;                                                    \
		int r_ = inject(#op, (obj), (op), (ctx), &nfail_);             \
		cr_assert_geq(nfail_, (min_fail),                              \
			      "%s: %d injected failures, expected at least %d", \
			      #op, nfail_, (int)(min_fail));                   \
		r_;                                                            \
	})

/* A list of N strings "s0", "s1" ... built by appends from empty; with
 * N = 4 it is exactly at its capacity (the first array holds 4). */
static shmc_obj_t *string_list(int n)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int i = 0; i < n; i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "s%d", i);
		ASSERT_OK(shmc_list_append(ls, shmc_str(buf)));
	}
	return ls;
}

/* A dict of N entries "k0": "v0" ...; with N = 5 its first table is full. */
static shmc_obj_t *string_dict(int n)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	for (int i = 0; i < n; i++) {
		char k[32], v[32];
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		ASSERT_OK(shmc_dict_set(d, shmc_str(k), shmc_str(v)));
	}
	return d;
}

/* List -------------------------------------------------------------------- */

struct list_op {
	shmc_obj_t *ls;
	int64_t i;
	shmc_value_t v;
	shmc_value_t out;
};

static int do_list_append(void *p)
{
	struct list_op *c = p;
	return shmc_list_append(c->ls, c->v);
}

/* A list of ints whose array is exactly full: the next append of an int
 * must allocate a new array (an int needs no block of its own). */
static shmc_obj_t *full_int_list(int64_t *len)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(0)));
	for (int64_t n = 1;; n++) {
		shmc__alloc_fail_after(0);
		int rc = shmc_list_append(ls, shmc_int(n));
		shmc__alloc_fail_after(-1);
		if (rc == SHMC_EFULL) {
			*len = n;
			return ls;
		}
		ASSERT_OK(rc);
		cr_assert_lt(n, 1000, "the array never filled up");
	}
}

Test(inject, list_append_that_grows_the_array, .init = arena_setup, .fini = arena_teardown)
{
	int64_t n;
	struct list_op c = {.v = shmc_str("a longer string")};
	c.ls = full_int_list(&n);
	/* The value's block, then the new array. */
	INJECT(c.ls, do_list_append, &c, 2);
	cr_assert_eq(shmc_list_len(c.ls), n + 1);
	shmc_value_t last;
	ASSERT_OK(shmc_list_get(c.ls, -1, &last));
	cr_assert_str_eq(last.str, "a longer string");
	shmc_value_free(&last);
	shmc_obj_release(c.ls);
}

static int do_list_insert(void *p)
{
	struct list_op *c = p;
	return shmc_list_insert(c->ls, c->i, c->v);
}

Test(inject, list_insert_in_the_middle, .init = arena_setup, .fini = arena_teardown)
{
	struct list_op c = {.ls = string_list(4), .i = 2, .v = shmc_str("middle")};
	INJECT(c.ls, do_list_insert, &c, 2);
	expect_str(c.ls, "['s0', 's1', 'middle', 's2', 's3']");
	shmc_obj_release(c.ls);
}

static int do_list_extend(void *p)
{
	struct list_op *c = p;
	return shmc_list_extend(c->ls, c->v);
}

Test(inject, list_extend, .init = arena_setup, .fini = arena_teardown)
{
	struct list_op c = {.ls = string_list(4)};
	c.v = shmc_plist_of(4, shmc_str("x"), shmc_int(7),
			    shmc_tuple_of(2, shmc_str("y"), shmc_float(0.5)),
			    shmc_bytes("zz", 2));
	/* Three value blocks and the new array. */
	INJECT(c.ls, do_list_extend, &c, 4);
	expect_str(c.ls, "['s0', 's1', 's2', 's3', 'x', 7, ('y', 0.5), b'zz']");
	shmc_value_free(&c.v);
	shmc_obj_release(c.ls);
}

static int do_list_set(void *p)
{
	struct list_op *c = p;
	return shmc_list_set(c->ls, c->i, c->v);
}

Test(inject, list_set_of_a_string, .init = arena_setup, .fini = arena_teardown)
{
	struct list_op c = {.ls = string_list(3), .i = 1,
			    .v = shmc_str("replacement string")};
	INJECT(c.ls, do_list_set, &c, 1);
	expect_str(c.ls, "['s0', 'replacement string', 's2']");
	shmc_obj_release(c.ls);
}

static int do_list_pop(void *p)
{
	struct list_op *c = p;
	c->out = shmc_int(-12345); /* must stay untouched on failure */
	int rc = shmc_list_pop(c->ls, c->i, &c->out);
	if (rc)
		cr_assert(c->out.type == SHMC_INT && c->out.i == -12345,
			  "pop wrote its out-parameter and failed");
	return rc;
}

Test(inject, list_pop_from_the_middle, .init = arena_setup, .fini = arena_teardown)
{
	struct list_op c = {.ls = string_list(5), .i = 2};
	INJECT(c.ls, do_list_pop, &c, 1); /* the new array */
	cr_assert_eq(c.out.type, SHMC_STR);
	cr_assert_str_eq(c.out.str, "s2");
	shmc_value_free(&c.out);
	expect_str(c.ls, "['s0', 's1', 's3', 's4']");
	shmc_obj_release(c.ls);
}

static int do_list_clear(void *p)
{
	struct list_op *c = p;
	return shmc_list_clear(c->ls);
}

Test(inject, list_clear_of_a_small_list, .init = arena_setup, .fini = arena_teardown)
{
	/* Needs no arena memory: room to retire 6 items is there already. */
	struct list_op c = {.ls = string_list(5)};
	INJECT(c.ls, do_list_clear, &c, 0);
	expect_str(c.ls, "[]");
	cr_assert_eq(shmc_list_len(c.ls), 0);
	ASSERT_OK(shmc_list_append(c.ls, shmc_str("again")));
	expect_str(c.ls, "['again']");
	shmc_obj_release(c.ls);
}

Test(inject, clear_of_a_large_list_allocates_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	/* The array is retired whole, with its 100 values: one retire slot,
	 * no growth of the retire ring, nothing that can fail. */
	struct list_op c = {.ls = string_list(100)};
	INJECT(c.ls, do_list_clear, &c, 0);
	expect_str(c.ls, "[]");
	cr_assert_eq(shmc_list_len(c.ls), 0);
	shmc_obj_release(c.ls);
}

struct new_op {
	shmc_value_t items;
	shmc_obj_t *out;
};

static shmc_obj_t *const SENTINEL = (shmc_obj_t *)&SENTINEL;

static int do_list_new_from(void *p)
{
	struct new_op *c = p;
	c->out = SENTINEL;
	int rc = shmc_list_new_from(A, c->items, &c->out);
	if (rc)
		cr_assert(c->out == SENTINEL, "new_from wrote *out and failed");
	return rc;
}

Test(inject, list_new_from, .init = arena_setup, .fini = arena_teardown)
{
	struct new_op c;
	c.items = shmc_plist_of(4, shmc_str("one"), shmc_int(2),
				shmc_tuple_of(2, shmc_str("three"), shmc_none()),
				shmc_str("four"));
	/* The object, three value blocks, the array. */
	INJECT(NULL, do_list_new_from, &c, 5);
	expect_str(c.out, "['one', 2, ('three', None), 'four']");
	cr_assert_eq(shmc_list_len(c.out), 4);
	shmc_value_free(&c.items);
	shmc_obj_release(c.out);
}

/* Dict -------------------------------------------------------------------- */

struct dict_op {
	shmc_obj_t *d;
	shmc_value_t key, v;
	shmc_value_t out;
};

static int do_dict_set(void *p)
{
	struct dict_op *c = p;
	return shmc_dict_set(c->d, c->key, c->v);
}

Test(inject, dict_set_of_a_new_key_that_resizes, .init = arena_setup, .fini = arena_teardown)
{
	struct dict_op c = {.d = string_dict(5), .key = shmc_str("new key"),
			    .v = shmc_str("new value")};
	/* The value's block, the key's block, the bigger table. */
	INJECT(c.d, do_dict_set, &c, 3);
	expect_str(c.d, "{'k0': 'v0', 'k1': 'v1', 'k2': 'v2', 'k3': 'v3', "
			"'k4': 'v4', 'new key': 'new value'}");
	cr_assert_eq(shmc_dict_len(c.d), 6);
	shmc_obj_release(c.d);
}

Test(inject, dict_set_of_an_existing_key_to_a_string, .init = arena_setup, .fini = arena_teardown)
{
	struct dict_op c = {.d = string_dict(3), .key = shmc_str("k1"),
			    .v = shmc_str("a replacement value")};
	INJECT(c.d, do_dict_set, &c, 1);
	expect_str(c.d, "{'k0': 'v0', 'k1': 'a replacement value', 'k2': 'v2'}");
	shmc_obj_release(c.d);
}

static int do_dict_setdefault(void *p)
{
	struct dict_op *c = p;
	c->out = shmc_int(-12345);
	int rc = shmc_dict_setdefault(c->d, c->key, c->v, &c->out);
	if (rc)
		cr_assert(c->out.type == SHMC_INT && c->out.i == -12345,
			  "setdefault wrote its out-parameter and failed");
	return rc;
}

Test(inject, dict_setdefault_of_a_new_key, .init = arena_setup, .fini = arena_teardown)
{
	struct dict_op c = {.d = string_dict(5), .key = shmc_str("fresh"),
			    .v = shmc_plist_of(2, shmc_int(1), shmc_str("default"))};
	/* The default's block, the key's block, the bigger table. */
	INJECT(c.d, do_dict_setdefault, &c, 3);
	char *got = value_repr(c.out);
	cr_assert_str_eq(got, "[1, 'default']");
	shmc_free(got);
	shmc_value_free(&c.out);
	expect_str(c.d, "{'k0': 'v0', 'k1': 'v1', 'k2': 'v2', 'k3': 'v3', "
			"'k4': 'v4', 'fresh': [1, 'default']}");
	shmc_value_free(&c.v);
	shmc_obj_release(c.d);
}

Test(inject, dict_setdefault_of_an_existing_key, .init = arena_setup, .fini = arena_teardown)
{
	struct dict_op c = {.d = string_dict(3), .key = shmc_str("k2"),
			    .v = shmc_str("unused default")};
	INJECT(c.d, do_dict_setdefault, &c, 0);
	cr_assert_eq(c.out.type, SHMC_STR);
	cr_assert_str_eq(c.out.str, "v2");
	shmc_value_free(&c.out);
	expect_str(c.d, "{'k0': 'v0', 'k1': 'v1', 'k2': 'v2'}");
	shmc_obj_release(c.d);
}

static int do_dict_pop(void *p)
{
	struct dict_op *c = p;
	c->out = shmc_int(-12345);
	int rc = shmc_dict_pop(c->d, c->key, &c->out);
	if (rc)
		cr_assert(c->out.type == SHMC_INT && c->out.i == -12345,
			  "pop wrote its out-parameter and failed");
	return rc;
}

Test(inject, dict_pop, .init = arena_setup, .fini = arena_teardown)
{
	struct dict_op c = {.d = string_dict(4), .key = shmc_str("k1")};
	INJECT(c.d, do_dict_pop, &c, 0); /* removal allocates nothing */
	cr_assert_eq(c.out.type, SHMC_STR);
	cr_assert_str_eq(c.out.str, "v1");
	shmc_value_free(&c.out);
	expect_str(c.d, "{'k0': 'v0', 'k2': 'v2', 'k3': 'v3'}");
	cr_assert_eq(shmc_dict_len(c.d), 3);
	shmc_obj_release(c.d);
}

static int do_dict_clear(void *p)
{
	struct dict_op *c = p;
	return shmc_dict_clear(c->d);
}

Test(inject, dict_clear_of_a_small_dict, .init = arena_setup, .fini = arena_teardown)
{
	struct dict_op c = {.d = string_dict(5)};
	INJECT(c.d, do_dict_clear, &c, 0);
	expect_str(c.d, "{}");
	cr_assert_eq(shmc_dict_len(c.d), 0);
	ASSERT_OK(shmc_dict_set(c.d, shmc_str("k"), shmc_str("again")));
	expect_str(c.d, "{'k': 'again'}");
	shmc_obj_release(c.d);
}

Test(inject, clear_of_a_large_dict_allocates_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	/* The table is retired whole, with its 40 keys and values. */
	struct dict_op c = {.d = string_dict(40)};
	INJECT(c.d, do_dict_clear, &c, 0);
	expect_str(c.d, "{}");
	cr_assert_eq(shmc_dict_len(c.d), 0);
	shmc_obj_release(c.d);
}

static int do_dict_new_from(void *p)
{
	struct new_op *c = p;
	c->out = SENTINEL;
	int rc = shmc_dict_new_from(A, c->items, &c->out);
	if (rc)
		cr_assert(c->out == SENTINEL, "new_from wrote *out and failed");
	return rc;
}

Test(inject, dict_new_from, .init = arena_setup, .fini = arena_teardown)
{
	struct new_op c;
	c.items = shmc_pdict_of(3, shmc_str("a"), shmc_str("alpha"),
				shmc_int(2), shmc_tuple_of(1, shmc_str("two")),
				shmc_str("c"), shmc_float(3.5));
	/* The object, the table, five value blocks. */
	INJECT(NULL, do_dict_new_from, &c, 7);
	expect_str(c.out, "{'a': 'alpha', 2: ('two',), 'c': 3.5}");
	cr_assert_eq(shmc_dict_len(c.out), 3);
	shmc_value_free(&c.items);
	shmc_obj_release(c.out);
}

/* A failed new_from must touch no handle but its own. Two calls made back
 * to back from the same frame: a careless failure path of the second would
 * find the first one's handle left on the stack and release it. */
Test(inject, dict_new_from_failing_at_once_leaves_other_handles_alone,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_value_t items = shmc_pdict_of(1, shmc_str("a"), shmc_int(1));
	size_t before = arena_in_use(A);
	shmc_obj_t *keep = NULL, *other = SENTINEL;
	int rc1 = shmc_dict_new_from(A, items, &keep);
	shmc__alloc_fail_after(0);
	int rc2 = shmc_dict_new_from(A, items, &other);
	shmc__alloc_fail_after(-1);
	ASSERT_OK(rc1);
	ASSERT_ERR(rc2, SHMC_EFULL);
	cr_assert(other == SENTINEL);
	cr_assert_eq(shmc_obj_kind(keep), SHMC_KIND_DICT,
		     "a failed shmc_dict_new_from released another handle");
	expect_str(keep, "{'a': 1}");
	ASSERT_OK(shmc_dict_set(keep, shmc_str("b"), shmc_int(2)));
	expect_str(keep, "{'a': 1, 'b': 2}");
	shmc_obj_release(keep);
	cr_assert_eq(arena_in_use(A), before);
	shmc_value_free(&items);
}

/* The other way new_from can fail half way: an entry whose value names no
 * object. The dict made for the result must go, as after any failure. */
Test(inject, dict_new_from_with_an_invalid_reference_leaks_nothing,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_value_t items = shmc_pdict_of(2, shmc_str("a"), shmc_str("alpha"),
					   shmc_str("b"), shmc_int(0));
	shmc_value_t *b = shmc_pdict_get(items, shmc_str("b"));
	cr_assert_not_null(b);
	*b = shmc_ref(NULL); /* a view: shmc_value_free leaves it alone */
	size_t before = arena_in_use(A);
	shmc_obj_t *out = SENTINEL;
	ASSERT_ERR(shmc_dict_new_from(A, items, &out), SHMC_EHANDLE);
	cr_assert(out == SENTINEL);
	size_t now = arena_in_use(A);
	cr_assert_eq(now, before, "a failed shmc_dict_new_from left %zd bytes",
		     (ssize_t)(now - before));
	shmc_value_free(&items);
}

/* Namespace --------------------------------------------------------------- */

struct ns_op {
	shmc_obj_t *ns;
	const char *name;
	shmc_value_t v, expected;
};

static int do_ns_set(void *p)
{
	struct ns_op *c = p;
	return shmc_namespace_set(c->ns, c->name, c->v);
}

static shmc_obj_t *ns_with(int n)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "a%d", i);
		ASSERT_OK(shmc_namespace_set(ns, name, shmc_int(i)));
	}
	return ns;
}

Test(inject, ns_set_of_a_new_attribute_that_resizes, .init = arena_setup, .fini = arena_teardown)
{
	struct ns_op c = {.ns = ns_with(5), .name = "x"};
	c.v = shmc_plist_of(2, shmc_int(1), shmc_str("some string"));
	/* The value's block, the name's block, the bigger table. */
	INJECT(c.ns, do_ns_set, &c, 3);
	expect_str(c.ns, "Namespace(a0=0, a1=1, a2=2, a3=3, a4=4, x=[1, 'some string'])");
	shmc_value_free(&c.v);
	shmc_obj_release(c.ns);
}

Test(inject, ns_set_of_an_existing_attribute, .init = arena_setup, .fini = arena_teardown)
{
	struct ns_op c = {.ns = ns_with(3), .name = "a1"};
	c.v = shmc_tuple_of(2, shmc_str("replaced"), shmc_float(2.5));
	INJECT(c.ns, do_ns_set, &c, 1);
	expect_str(c.ns, "Namespace(a0=0, a1=('replaced', 2.5), a2=2)");
	shmc_value_free(&c.v);
	shmc_obj_release(c.ns);
}

/* Atomic operations ------------------------------------------------------- */

static int do_list_add(void *p)
{
	struct list_op *c = p;
	c->out = shmc_int(-12345);
	int rc = shmc_list_add(c->ls, c->i, c->v, &c->out);
	if (rc)
		cr_assert(c->out.type == SHMC_INT && c->out.i == -12345,
			  "add wrote its result and failed");
	return rc;
}

Test(inject, list_add_on_a_float_item, .init = arena_setup, .fini = arena_teardown)
{
	struct list_op c = {.i = 1, .v = shmc_float(2.25)};
	ASSERT_OK(shmc_list_new(A, &c.ls));
	ASSERT_OK(shmc_list_append(c.ls, shmc_str("first")));
	ASSERT_OK(shmc_list_append(c.ls, shmc_float(1.5)));
	INJECT(c.ls, do_list_add, &c, 1); /* the new float's block */
	cr_assert(c.out.type == SHMC_FLOAT && c.out.f == 3.75);
	expect_str(c.ls, "['first', 3.75]");
	shmc_obj_release(c.ls);
}

static int calls;

static int append_b(shmc_value_t *v, void *ctx)
{
	(void)ctx;
	calls++;
	return shmc_plist_append(v, shmc_str("b"));
}

static int do_dict_update(void *p)
{
	struct dict_op *c = p;
	return shmc_dict_update(c->d, c->key, append_b, NULL);
}

Test(inject, dict_update, .init = arena_setup, .fini = arena_teardown)
{
	struct dict_op c = {.d = string_dict(2), .key = shmc_str("k1")};
	shmc_value_t l = shmc_plist_of(2, shmc_int(1), shmc_str("a"));
	ASSERT_OK(shmc_dict_set(c.d, c.key, l));
	shmc_value_free(&l);
	calls = 0;
	int rc = INJECT(c.d, do_dict_update, &c, 1); /* the result's block */
	cr_assert_eq(rc, 0);
	cr_assert_geq(calls, 2);
	expect_str(c.d, "{'k0': 'v0', 'k1': [1, 'a', 'b']}");
	shmc_obj_release(c.d);
}

static int do_ns_cas(void *p)
{
	struct ns_op *c = p;
	return shmc_namespace_cas(c->ns, c->name, c->expected, c->v);
}

Test(inject, ns_cas_with_a_string_desired, .init = arena_setup, .fini = arena_teardown)
{
	struct ns_op c = {.ns = ns_with(2), .name = "x",
			  .expected = shmc_str("old string"),
			  .v = shmc_str("the new string")};
	ASSERT_OK(shmc_namespace_set(c.ns, "x", shmc_str("old string")));
	int rc = INJECT(c.ns, do_ns_cas, &c, 1); /* the new string's block */
	cr_assert_eq(rc, 1, "cas did not swap");
	expect_str(c.ns, "Namespace(a0=0, a1=1, x='the new string')");
	/* A second cas with the stale expectation swaps nothing. */
	ASSERT_OK(shmc_namespace_cas(c.ns, "x", c.expected, shmc_str("never")));
	expect_str(c.ns, "Namespace(a0=0, a1=1, x='the new string')");
	shmc_obj_release(c.ns);
}
