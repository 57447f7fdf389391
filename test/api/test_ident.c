/*
 * test_ident.c -- identities across processes: an object's identity turned
 * back into a handle in this process and in another one that opened the
 * arena by name, refused once the object is gone (also when its block now
 * holds another object), bad arguments; the arena's name.
 */
#include <criterion/criterion.h>

#include "testutil.h"

TestSuite(ident, .timeout = 60);

static char name[128], path[256];
static shmc_arena_t *N;
static size_t N_base;

static void named_setup(void)
{
	crash_cleanup_install();
	unique_name(name, sizeof(name), path, sizeof(path), "ident");
	N = test_named_arena(name, 64 << 20);
	arena_warm(N);
	N_base = arena_in_use(N);
}

static void named_teardown(void)
{
	arena_leak_check(N, N_base);
	shmc_arena_close(N);
	files_cleanup();
}

Test(ident, round_trip_in_one_process_names_the_same_object, .init = named_setup,
     .fini = named_teardown)
{
	shmc_obj_t *ls, *again;
	shmc_ident_t id, id2;
	ASSERT_OK(shmc_list_new(N, &ls));
	ASSERT_OK(shmc_obj_ident(ls, &id));
	cr_assert_neq(id.offset, 0);
	ASSERT_OK(shmc_obj_from_ident(N, id, &again));
	cr_assert(shmc_obj_same(ls, again));
	ASSERT_OK(shmc_list_append(again, shmc_int(7)));
	cr_assert_eq(shmc_list_len(ls), 1);
	ASSERT_OK(shmc_obj_ident(again, &id2));
	cr_assert(id.offset == id2.offset && id.id == id2.id);
	/* The identity is the address the proxy form shows. */
	char *r, want[96];
	ASSERT_OK(shmc_obj_repr(ls, &r));
	snprintf(want, sizeof(want), "<ListProxy object, typeid 'list' at %#llx>",
		 (unsigned long long)id.offset);
	cr_assert_str_eq(r, want);
	shmc_free(r);
	/* Each handle holds a reference: the object outlives the first. */
	shmc_obj_release(ls);
	cr_assert_eq(shmc_list_len(again), 1);
	shmc_obj_release(again);
}

Test(ident, serial_numbers_differ_between_objects, .init = named_setup,
     .fini = named_teardown)
{
	shmc_obj_t *a, *b;
	shmc_ident_t ia, ib;
	ASSERT_OK(shmc_dict_new(N, &a));
	ASSERT_OK(shmc_dict_new(N, &b));
	ASSERT_OK(shmc_obj_ident(a, &ia));
	ASSERT_OK(shmc_obj_ident(b, &ib));
	cr_assert_neq(ia.offset, ib.offset);
	cr_assert_neq(ia.id, ib.id);
	shmc_obj_release(a);
	shmc_obj_release(b);
}

struct child_arg {
	int rd, wr; /* identity in, done out */
};

/* An unrelated attachment: open the arena by its name, read an identity
 * from the pipe, append to the list it names. */
static int child_uses_ident(void *p)
{
	struct child_arg *c = p;
	shmc_arena_t *a;
	shmc_obj_t *ls;
	shmc_ident_t id;
	CHILD_CHECK(read(c->rd, &id, sizeof(id)) == (ssize_t)sizeof(id));
	CHILD_OK(shmc_arena_open(path, &a));
	CHILD_OK(shmc_obj_from_ident(a, id, &ls));
	CHILD_CHECK(shmc_obj_kind(ls) == SHMC_KIND_LIST);
	CHILD_OK(shmc_list_append(ls, shmc_str("from the child")));
	/* A serial that is not the object's is refused. */
	shmc_ident_t wrong = {id.offset, id.id + 1000};
	shmc_obj_t *none = NULL;
	CHILD_CHECK(shmc_obj_from_ident(a, wrong, &none) == SHMC_EKEY && none == NULL);
	shmc_obj_release(ls);
	shmc_arena_close(a);
	CHILD_CHECK(say(c->wr));
	return 0;
}

Test(ident, another_process_opens_the_arena_by_name_and_finds_the_object,
     .init = named_setup, .fini = named_teardown)
{
	const char *n = NULL;
	ASSERT_OK(shmc_arena_name(N, &n));
	cr_assert_str_eq(n, path);
	shmc_obj_t *ls;
	shmc_ident_t id;
	ASSERT_OK(shmc_list_new(N, &ls));
	ASSERT_OK(shmc_obj_ident(ls, &id));
	int to_child[2], from_child[2];
	cr_assert(pipe(to_child) == 0 && pipe(from_child) == 0);
	struct child_arg c = {to_child[0], from_child[1]};
	pid_t pid = fork_fn(child_uses_ident, &c);
	cr_assert(write(to_child[1], &id, sizeof(id)) == (ssize_t)sizeof(id));
	cr_assert(hear(from_child[0]), "the child did not finish");
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, 0, &v));
	expect_repr(v, "'from the child'");
	shmc_value_free(&v);
	shmc_obj_release(ls);
	for (int i = 0; i < 2; i++) {
		close(to_child[i]);
		close(from_child[i]);
	}
}

Test(ident, freed_object_is_ekey_also_when_its_block_holds_another,
     .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *ls, *got = NULL, *next;
	shmc_ident_t id, nid;
	ASSERT_OK(shmc_list_new(N, &ls));
	ASSERT_OK(shmc_obj_ident(ls, &id));
	shmc_obj_release(ls);
	ASSERT_ERR(shmc_obj_from_ident(N, id, &got), SHMC_EKEY);
	cr_assert_null(got, "out written on failure");
	/* A new list of the same size takes the freed block back. */
	ASSERT_OK(shmc_list_new(N, &next));
	ASSERT_OK(shmc_obj_ident(next, &nid));
	cr_assert_eq(nid.offset, id.offset, "the block was not reused (test premise)");
	ASSERT_ERR(shmc_obj_from_ident(N, id, &got), SHMC_EKEY);
	cr_assert_null(got);
	ASSERT_OK(shmc_obj_from_ident(N, nid, &got));
	cr_assert(shmc_obj_same(got, next));
	shmc_obj_release(got);
	shmc_obj_release(next);
}

Test(ident, offsets_that_hold_no_object_are_ekey, .init = named_setup,
     .fini = named_teardown)
{
	shmc_obj_t *ls, *got = NULL;
	shmc_ident_t id;
	ASSERT_OK(shmc_list_new(N, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_str("some text to have a value block")));
	ASSERT_OK(shmc_obj_ident(ls, &id));
	const uint64_t offs[] = {0, 8, id.offset + 8, id.offset + 16, 4096,
				 (uint64_t)1 << 40, UINT64_MAX - 15};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		shmc_ident_t bad = {offs[i], id.id};
		ASSERT_ERR(shmc_obj_from_ident(N, bad, &got), SHMC_EKEY);
		cr_assert_null(got);
	}
	cr_assert_eq(shmc_list_len(ls), 1);
	shmc_obj_release(ls);
}

Test(ident, bad_arguments_change_nothing, .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *ls, *got = NULL;
	shmc_ident_t id = {0, 0};
	const char *n = NULL;
	ASSERT_OK(shmc_list_new(N, &ls));
	ASSERT_ERR(shmc_obj_ident(NULL, &id), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_ident(NULL, NULL), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_ident(ls, NULL), -EINVAL);
	cr_assert(id.offset == 0 && id.id == 0, "out written on failure");
	ASSERT_OK(shmc_obj_ident(ls, &id));
	ASSERT_ERR(shmc_obj_from_ident(NULL, id, &got), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_from_ident(N, id, NULL), -EINVAL);
	cr_assert_null(got);
	ASSERT_ERR(shmc_arena_name(NULL, &n), SHMC_EHANDLE);
	ASSERT_ERR(shmc_arena_name(N, NULL), -EINVAL);
	cr_assert_null(n);
	shmc_obj_release(ls);
}

Test(ident, anonymous_arena_has_no_name, .init = arena_setup, .fini = arena_teardown)
{
	const char *n = NULL;
	ASSERT_ERR(shmc_arena_name(A, &n), -ENOENT);
	cr_assert_null(n);
	/* Identities work in an anonymous arena too (shared by fork). */
	shmc_obj_t *ns, *again;
	shmc_ident_t id;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_obj_ident(ns, &id));
	ASSERT_OK(shmc_obj_from_ident(A, id, &again));
	cr_assert(shmc_obj_same(ns, again));
	shmc_obj_release(again);
	shmc_obj_release(ns);
}
