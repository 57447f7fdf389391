/*
 * test_inject_dict.c -- allocation failure injection over the dict's
 * compound operations added with Python's full DictProxy: merge (both ways
 * of publishing: appended with room, and a rebuilt table with a graveyard
 * for the values it replaces), popitem and pop with a default; the same
 * method as test_inject.c. Each allocation in turn fails; the call must
 * then fail with SHMC_EFULL, the dict print and measure as before, and the
 * arena's bytes in use be as before, to the byte. At the first n where it
 * succeeds it has had its whole effect.
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX /* inject_ok */
#include "testutil.h"

TestSuite(inject_dict, .timeout = 60);

struct op {
	shmc_obj_t *d;
	shmc_value_t arg, out, key;
};

/* What a failed call must leave as it was. */
static char *state(void *p)
{
	struct op *c = p;
	return obj_state(c->d, "length", shmc_dict_len(c->d));
}

/* OP with allocation n failing, n = 0, 1, ... until it succeeds (testutil.h).
 * @return the number of failures */
static int inject(const char *what, int (*op)(void *), struct op *c)
{
	return inject_ok(A, what, 1000, op, state, c);
}

/* A dict {"k0": "v0", ...} of N entries. */
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

static int do_merge(void *p)
{
	struct op *c = p;
	return shmc_dict_merge(c->d, c->arg);
}

Test(inject_dict, merge_of_new_keys_appended, .init = arena_setup, .fini = arena_teardown)
{
	/* 12 entries: the table (of 21) has room for two more. */
	struct op c = {.d = string_dict(12)};
	c.arg = shmc_pdict_of(2, shmc_str("new1"), shmc_str("a value"), shmc_str("new2"),
			      shmc_str("another value"));
	/* Two values, then two keys: no table. */
	cr_assert_eq(inject("merge appended", do_merge, &c), 4);
	cr_assert_eq(shmc_dict_len(c.d), 14);
	shmc_value_t v;
	ASSERT_OK(shmc_dict_get(c.d, shmc_str("new2"), &v));
	expect_repr(v, "'another value'");
	shmc_value_free(&v);
	shmc_value_free(&c.arg);
	shmc_obj_release(c.d);
}

Test(inject_dict, merge_that_rebuilds_with_a_graveyard, .init = arena_setup,
     .fini = arena_teardown)
{
	struct op c = {.d = string_dict(5)};
	/* k1 and k3 are there (their strings go to the graveyard); "k9" is
	 * new. */
	c.arg = shmc_pdict_of(3, shmc_str("k1"), shmc_str("V1"), shmc_str("k9"),
			      shmc_plist_of(1, shmc_str("nine")), shmc_str("k3"), shmc_int(3));
	/* Two values, the retire queue perhaps, the new table, the graveyard,
	 * the new key. */
	cr_assert_geq(inject("merge rebuilt", do_merge, &c), 5);
	expect_str(c.d, "{'k0': 'v0', 'k1': 'V1', 'k2': 'v2', 'k3': 3, 'k4': 'v4', "
			"'k9': ['nine']}");
	shmc_value_free(&c.arg);
	shmc_obj_release(c.d);
}

Test(inject_dict, merge_of_a_managed_dict_and_of_pairs, .init = arena_setup,
     .fini = arena_teardown)
{
	struct op c = {.d = string_dict(3)};
	shmc_obj_t *src = string_dict(7);
	c.arg = shmc_ref(src);
	cr_assert_geq(inject("merge managed", do_merge, &c), 4);
	cr_assert_eq(shmc_dict_len(c.d), 7);
	shmc_obj_release(src);
	c.arg = shmc_plist_of(2, shmc_tuple_of(2, shmc_str("p"), shmc_str("pair value")),
			      shmc_plist_of(2, shmc_str("k0"), shmc_none()));
	cr_assert_geq(inject("merge pairs", do_merge, &c), 2);
	cr_assert_eq(shmc_dict_len(c.d), 8);
	shmc_value_free(&c.arg);
	shmc_obj_release(c.d);
}

static int do_popitem(void *p)
{
	struct op *c = p;
	c->out = c->key = shmc_int(-7);
	int rc = shmc_dict_popitem(c->d, &c->key, &c->out);
	if (rc)
		cr_assert(c->out.type == SHMC_INT && c->out.i == -7 &&
				  c->key.type == SHMC_INT && c->key.i == -7,
			  "popitem wrote its out-parameters and failed");
	return rc;
}

Test(inject_dict, popitem, .init = arena_setup, .fini = arena_teardown)
{
	struct op c = {.d = string_dict(4)};
	/* Removal allocates in the arena only the retire queue's room. */
	inject("popitem", do_popitem, &c);
	expect_repr(c.key, "'k3'");
	expect_repr(c.out, "'v3'");
	shmc_value_free(&c.key);
	shmc_value_free(&c.out);
	expect_str(c.d, "{'k0': 'v0', 'k1': 'v1', 'k2': 'v2'}");
	shmc_obj_release(c.d);
}

static int do_pop_default(void *p)
{
	struct op *c = p;
	c->out = shmc_int(-7);
	int rc = shmc_dict_pop_default(c->d, c->key, c->arg, &c->out);
	if (rc)
		cr_assert(c->out.type == SHMC_INT && c->out.i == -7,
			  "pop wrote its out-parameter and failed");
	return rc;
}

Test(inject_dict, pop_with_a_default, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ref;
	ASSERT_OK(shmc_list_new(A, &ref));
	struct op c = {.d = string_dict(4), .key = shmc_str("k2"), .arg = shmc_ref(ref)};
	inject("pop present", do_pop_default, &c);
	expect_repr(c.out, "'v2'");
	shmc_value_free(&c.out);
	/* Missing: the default comes back, a new handle to the list. */
	inject("pop missing", do_pop_default, &c);
	cr_assert(c.out.type == SHMC_REF && shmc_obj_same(c.out.ref, ref));
	shmc_value_free(&c.out);
	expect_str(c.d, "{'k0': 'v0', 'k1': 'v1', 'k3': 'v3'}");
	shmc_obj_release(ref);
	shmc_obj_release(c.d);
}
