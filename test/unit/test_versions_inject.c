/*
 * test_versions_inject.c -- the conditional stores under allocation failure
 * injection: while an allocation fails, shmc_*_set_if is SHMC_EFULL, the
 * container and its version are as they were and nothing leaked; the first
 * call that gets its memory stores (the version read before still holds).
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX /* inject_loop */
#include "testutil.h"

TestSuite(versions_inject, .timeout = 60);

struct c {
	shmc_obj_t *o;
	uint64_t ver;
};

/* Each failed call must leave the object's text and version alone. */
static char *state(void *p)
{
	struct c *c = p;
	uint64_t v;
	ASSERT_OK(shmc_obj_version(c->o, &v));
	return obj_state(c->o, "version", (int64_t)v);
}

static int do_dict_new_key(void *p)
{
	struct c *c = p;
	return shmc_dict_set_if(c->o, shmc_str("a key long enough for a block"),
				shmc_str("and a value long enough for a block"), 0);
}

static int do_list(void *p)
{
	struct c *c = p;
	shmc_value_t t = shmc_tuple_of(2, shmc_str("x"), shmc_float(2.5));
	int rc = shmc_list_set_if(c->o, 1, t, c->ver);
	shmc_value_free(&t);
	return rc;
}

static int do_ns(void *p)
{
	struct c *c = p;
	return shmc_namespace_set_if(c->o, "new", shmc_str("a value long enough for a block"), 0);
}

static void run(shmc_obj_t *o, int (*op)(void *), const char *want, int min_fail)
{
	struct c c = {.o = o};
	ASSERT_OK(shmc_obj_version(o, &c.ver));
	int nfail;
	ASSERT_OK(inject_loop(A, "set_if", 100, op, state, &c, &nfail));
	cr_assert_geq(nfail, min_fail, "%d injected failures", nfail);
	expect_str(o, want);
}

Test(versions_inject, dict_set_if_of_a_new_key_that_resizes, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	for (int i = 0; i < 5; i++) /* the first table is full */
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_int(i)));
	/* The value's block, the key's block, the bigger table. */
	run(d, do_dict_new_key, "{0: 0, 1: 1, 2: 2, 3: 3, 4: 4, "
				"'a key long enough for a block': 'and a value long enough for a block'}", 3);
	shmc_obj_release(d);
}

Test(versions_inject, list_set_if_of_a_tuple, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(0)));
	ASSERT_OK(shmc_list_append(ls, shmc_str("old")));
	run(ls, do_list, "[0, ('x', 2.5)]", 1);
	shmc_obj_release(ls);
}

Test(versions_inject, namespace_set_if_of_a_new_attribute, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	run(ns, do_ns, "Namespace(new='a value long enough for a block', x=1)", 1);
	shmc_obj_release(ns);
}
