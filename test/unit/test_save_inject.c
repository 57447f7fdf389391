/*
 * test_save_inject.c -- shmc_arena_load and shmc_arena_save with the first,
 * second, third ... arena allocation failing (shmc__alloc_fail_after, as
 * test_inject.c does): a load that fails is SHMC_EFULL and leaves no arena
 * behind, whichever allocation failed (the arena's own, an object's, a
 * value's, a name's); a save that fails is SHMC_EFULL, leaves the old file
 * as it was and the source arena's bytes in use as they were.
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX /* inject_loop */
#include "testutil.h"

TestSuite(save_inject, .timeout = 120);

static char file[128], nm[128], nm_path[256];

static void populate(shmc_arena_t *a, shmc_obj_t **keep, int *nkeep);
static void unname(shmc_arena_t *a);

static void setup(void)
{
	crash_cleanup_install();
	arena_setup();
	snprintf(file, sizeof(file), "/tmp/shmc-test-%d-inject.save", (int)getpid());
	unlink(file);
	track(file);
	unique_name(nm, sizeof(nm), nm_path, sizeof(nm_path), "inject");
	/* The directory of names lives as long as the arena: made before the
	 * leak baseline, at the size the tests give it. */
	shmc_obj_t *keep[8];
	int nkeep = 0;
	populate(A, keep, &nkeep);
	for (int i = 0; i < nkeep; i++)
		shmc_obj_release(keep[i]);
	unname(A);
	A_base = arena_in_use(A);
}

static void teardown(void)
{
	arena_teardown();
	files_cleanup();
}

/* Objects of several kinds, nested, with values that need blocks. */
static void populate(shmc_arena_t *a, shmc_obj_t **keep, int *nkeep)
{
	shmc_obj_t *ls, *d, *ns, *q, *mv;
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_dict_new(a, &d));
	ASSERT_OK(shmc_namespace_new(a, &ns));
	ASSERT_OK(shmc_queue_new(a, 0, &q));
	for (int i = 0; i < 20; i++) {
		char s[64];
		snprintf(s, sizeof(s), "a string long enough for a block of its own, %d", i);
		ASSERT_OK(shmc_list_append(ls, shmc_str(s)));
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_str(s)));
		ASSERT_OK(shmc_queue_put_nowait(q, shmc_str(s)));
	}
	ASSERT_OK(shmc_list_append(ls, shmc_ref(d)));
	ASSERT_OK(shmc_namespace_set(ns, "ls", shmc_ref(ls)));
	ASSERT_OK(shmc_mvalue_new(a, "x", shmc_ref(q), &mv));
	const char *names[] = {"ls", "d", "ns", "q", "mv"};
	shmc_obj_t *objs[] = {ls, d, ns, q, mv};
	for (int i = 0; i < 5; i++) {
		shmc_obj_t *got;
		ASSERT_OK(shmc_root_setdefault(a, names[i], objs[i], &got));
		shmc_obj_release(got);
		keep[(*nkeep)++] = objs[i];
	}
}

static void unname(shmc_arena_t *a)
{
	const char *names[] = {"ls", "d", "ns", "q", "mv"};
	for (int i = 0; i < 5; i++)
		ASSERT_OK(shmc_root_remove(a, names[i]));
}

/* A load into *B (NULL until one succeeds). */
static int do_load(void *p)
{
	return shmc_arena_load(file, nm, NULL, (shmc_arena_t **)p);
}

/* What a failed load must leave: no arena. */
static char *arena_there(void *p)
{
	(void)p;
	return strdup(access(nm_path, F_OK) == 0 ? "an arena is left" : "no arena");
}

static int do_save(void *p)
{
	(void)p;
	return shmc_arena_save(A, file, 0);
}

/* What a failed save must leave: the old file. */
static char *file_there(void *p)
{
	(void)p;
	size_t len;
	char *text = read_file(file, &len), *out;
	cr_assert(asprintf(&out, "%zu bytes: %s", len, text) > 0);
	free(text);
	return out;
}

Test(save_inject, a_load_failing_at_any_allocation_is_efull_and_leaves_no_arena,
     .init = setup, .fini = teardown)
{
	shmc_obj_t *keep[8];
	int nkeep = 0;
	populate(A, keep, &nkeep);
	ASSERT_OK(shmc_arena_save(A, file, 0));
	shmc_arena_t *b = NULL;
	int fails, rc = inject_loop(NULL, "load", 2000, do_load, arena_there, &b, &fails);
	ASSERT_OK(rc);
	shmc_obj_t *ls;
	ASSERT_OK(shmc_root_find(b, "ls", &ls));
	cr_assert_eq(shmc_list_len(ls), 21);
	shmc_obj_release(ls);
	shmc_arena_close(b);
	ASSERT_OK(shmc_arena_unlink(nm));
	cr_assert_gt(fails, 60, "every object, value and name allocates (%d failures)", fails);
	cr_log_info("load: %d injected failures, each SHMC_EFULL with nothing left", fails);
	for (int i = 0; i < nkeep; i++)
		shmc_obj_release(keep[i]);
	unname(A);
}

Test(save_inject, a_save_failing_at_any_allocation_leaves_the_old_file_and_the_arena,
     .init = setup, .fini = teardown)
{
	shmc_obj_t *keep[8];
	int nkeep = 0;
	populate(A, keep, &nkeep);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0 && write(fd, "old", 3) == 3);
	close(fd);
	size_t before = arena_in_use(A);
	char *old = file_there(NULL);
	cr_assert_str_eq(old, "3 bytes: old");
	free(old);
	int nfail, rc = inject_loop(A, "save", 100, do_save, file_there, NULL, &nfail);
	ASSERT_OK(rc);
	cr_assert_eq(arena_in_use(A), before, "a save leaves the arena as it was");
	cr_log_info("save: %d injected failures", nfail);
	for (int i = 0; i < nkeep; i++)
		shmc_obj_release(keep[i]);
	unname(A);
}
