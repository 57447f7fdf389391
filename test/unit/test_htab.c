/*
 * test_htab.c -- the process's table of handles (objects/htab.c): what a
 * handle value encodes, per-handle local data freed with the handle (on
 * release and on close), stubs that name but never resolve, entries
 * reused with a new generation, the count of live handles, and handles
 * across fork().
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX
#include "testutil.h"

TestSuite(htab, .timeout = 60);

static int freed;
static void count_free(void *p)
{
	freed++;
	free(p);
}

Test(htab, a_handle_value_is_tagged_and_never_a_pointer, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *h;
	ASSERT_OK(shmc_list_new(A, &h));
	uint64_t x = (uint64_t)(uintptr_t)h;
	cr_assert_eq(x & 1, 1);
	cr_assert_eq((x >> SHMC__HTAB_GEN_SHIFT) & 1, 1, "a live generation is odd");
	struct shmc__hview v;
	cr_assert(shmc__handle_read(h, &v));
	cr_assert_eq(v.a, A);
	cr_assert_eq(v.kind, SHMC_KIND_LIST);
	cr_assert_not(v.stub);
	cr_assert_eq(shmc__handle_arena(h), A);
	cr_assert_eq(shmc__handle_kind(h), SHMC_KIND_LIST);
	cr_assert_eq(shmc__obj_of(h), (struct shmc__obj *)(A->base + shmc__handle_off(h)));
	shmc_obj_release(h);
	cr_assert_not(shmc__handle_read(h, &v));
	cr_assert_null(shmc__handle_arena(h));
	cr_assert_eq(shmc__handle_off(h), 0);
}

Test(htab, local_data_is_freed_with_its_handle, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *h, *dup;
	ASSERT_OK(shmc_namespace_new(A, &h));
	ASSERT_OK(shmc_obj_dup(h, &dup));
	freed = 0;
	cr_assert_null(shmc__handle_local(h));
	ASSERT_OK(shmc__handle_local_set(h, malloc(16), count_free));
	cr_assert_not_null(shmc__handle_local(h));
	cr_assert_null(shmc__handle_local(dup), "local data is per handle");
	/* Replacing frees the old pointer. */
	void *p = malloc(16);
	ASSERT_OK(shmc__handle_local_set(h, p, count_free));
	cr_assert_eq(freed, 1);
	cr_assert_eq(shmc__handle_local(h), p);
	shmc_obj_release(h);
	cr_assert_eq(freed, 2);
	cr_assert_null(shmc__handle_local(h));
	ASSERT_ERR(shmc__handle_local_set(h, NULL, NULL), SHMC_EHANDLE);
	shmc_obj_release(h);
	cr_assert_eq(freed, 2, "a second release frees nothing twice");
	shmc_obj_release(dup);
}

Test(htab, closing_an_arena_frees_the_local_data_of_its_handles)
{
	shmc_arena_t *b = test_arena(SHMC_MIN_CAPACITY);
	shmc_obj_t *h[3];
	freed = 0;
	for (int i = 0; i < 3; i++) {
		ASSERT_OK(shmc_list_new(b, &h[i]));
		ASSERT_OK(shmc__handle_local_set(h[i], malloc(8), count_free));
	}
	uint64_t live = shmc__htab_live();
	shmc_arena_close(b);
	cr_assert_eq(freed, 3);
	cr_assert_eq(shmc__htab_live(), live - 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_null(shmc__handle_local(h[i]));
		shmc_obj_release(h[i]);
	}
	cr_assert_eq(freed, 3);
}

Test(htab, a_stub_names_an_object_but_never_resolves, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls, *stub;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc__obj_stub(A, shmc__handle_off(ls), &stub));
	struct shmc__hview v;
	cr_assert(shmc__handle_read(stub, &v));
	cr_assert(v.stub);
	cr_assert_eq(v.off, shmc__handle_off(ls));
	cr_assert(shmc_obj_same(stub, ls));
	struct shmc__obj *o;
	ASSERT_ERR(shmc__resolve(stub, 0, &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_len(stub), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_append(ls, shmc_ref(stub)), SHMC_EHANDLE);
	shmc_value_t ref = {SHMC_REF, 0, 0, 0, {.ref = stub}};
	char *s;
	ASSERT_OK(shmc_value_repr(ref, &s)); /* its proxy form, from the stub */
	cr_assert(strstr(s, "<ListProxy object, typeid 'list' at 0x"), "%s", s);
	shmc_free(s);
	shmc_obj_release(stub); /* holds no reference: the list lives on */
	cr_assert_eq(shmc_list_len(ls), 0);
	shmc_obj_release(ls);
}

Test(htab, entries_are_reused_with_a_new_generation_and_counted, .init = arena_setup,
     .fini = arena_teardown)
{
	uint64_t live = shmc__htab_live();
	shmc_obj_t *h[100];
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_list_new(A, &h[i]));
	cr_assert_eq(shmc__htab_live(), live + 100);
	uint64_t idx = ((uint64_t)(uintptr_t)h[99] >> 1) & SHMC__HTAB_IDX_MASK;
	shmc_obj_t *old = h[99];
	shmc_obj_release(h[99]);
	ASSERT_OK(shmc_dict_new(A, &h[99])); /* the last freed entry first */
	cr_assert_eq(((uint64_t)(uintptr_t)h[99] >> 1) & SHMC__HTAB_IDX_MASK, idx);
	cr_assert_neq(h[99], old);
	ASSERT_ERR(shmc_list_len(old), SHMC_EHANDLE);
	cr_assert_eq(shmc_obj_kind(h[99]), SHMC_KIND_DICT);
	for (int i = 0; i < 100; i++)
		shmc_obj_release(h[i]);
	cr_assert_eq(shmc__htab_live(), live);
}

/* A fork child's handles are its own: they work there, and a release in
 * the child leaves the parent's alone. */
static shmc_obj_t *child_ls;
static int child_uses(void *arg)
{
	(void)arg;
	CHILD_OK(shmc_list_append(child_ls, shmc_int(2)));
	shmc_obj_release(child_ls);
	CHILD_CHECK(shmc_list_len(child_ls) == SHMC_EHANDLE);
	return 0;
}

Test(htab, fork_children_inherit_handles_of_their_own, .init = arena_setup,
     .fini = arena_teardown)
{
	ASSERT_OK(shmc_list_new(A, &child_ls));
	ASSERT_OK(shmc_list_append(child_ls, shmc_int(1)));
	cr_assert_eq(wait_exit(fork_fn(child_uses, NULL), TEST_DEADLINE), 0);
	shmc_arena_reclaim(A); /* the child's references are reaped */
	cr_assert_eq(shmc_list_len(child_ls), 2);
	expect_str(child_ls, "[1, 2]");
	shmc_obj_release(child_ls);
}
