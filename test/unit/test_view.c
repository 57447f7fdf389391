/*
 * test_view.c -- read-only views: what they print of a sound arena, and
 * that a corrupt one gives errors, never a crash or a hang.
 */
#include <criterion/criterion.h>
#include <time.h>

#include "objects/obj.h"
#include "values/venc.h"
#include "testutil.h"

TestSuite(view, .timeout = 60);

static char name[64];
static shmc_arena_t *NA; /* a named arena, for views to open */

static void named_setup(void)
{
	snprintf(name, sizeof(name), "shmc-test-view-%d", (int)getpid());
	shmc_arena_unlink(name);
	shmc_arena_options_t o = {.capacity = 8 << 20};
	ASSERT_OK(shmc_arena_create(name, &o, &NA));
}

static void named_teardown(void)
{
	shmc_arena_close(NA);
	shmc_arena_unlink(name);
}

static char *dump(const char *path, unsigned flags)
{
	shmc_view_t *v;
	char *s;
	ASSERT_OK(shmc_view_open(name, &v));
	ASSERT_OK(shmc_view_dump(v, path, flags, &s));
	shmc_view_close(v);
	return s;
}

static void expect_dump(const char *path, unsigned flags, const char *want)
{
	char *s = dump(path, flags);
	cr_assert_str_eq(s, want);
	shmc_free(s);
}

Test(view, dump_shows_named_objects_as_python_and_json, .init = named_setup,
     .fini = named_teardown)
{
	shmc_obj_t *ns, *ls, *d, *empty;
	ASSERT_OK(shmc_root_find_or_create(NA, "ns", SHMC_KIND_NAMESPACE, &ns));
	ASSERT_OK(shmc_root_find_or_create(NA, "ls", SHMC_KIND_LIST, &ls));
	ASSERT_OK(shmc_root_find_or_create(NA, "d", SHMC_KIND_DICT, &d));
	ASSERT_OK(shmc_root_find_or_create(NA, "empty", SHMC_KIND_NAMESPACE, &empty));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(ns, "_hidden", shmc_int(2)));
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	ASSERT_OK(shmc_list_append(ls, shmc_str("a")));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_none()));
	expect_dump(NULL, 0, "d: {1: None}\nempty: Namespace()\nls: [1, 'a']\nns: Namespace(x=1)\n");
	expect_dump("ls/1", 0, "'a'");
	expect_dump("ls/-2", 0, "1");
	expect_dump("empty", SHMC_VIEW_JSON, "{}");
	expect_dump("ns", SHMC_VIEW_JSON, "{\"x\": 1}"); /* '_': the handle's own */
	shmc_obj_t *all[] = {ns, ls, d, empty};
	for (int i = 0; i < 4; i++)
		shmc_obj_release(all[i]);
}

/* In a sound arena each value block belongs to one word. Make thousands
 * of list items name one 512 KiB block: a dump would decode gigabytes. It
 * must stop, reporting corruption, once it has decoded more than the arena
 * holds. */
Test(view, words_sharing_one_huge_block_are_corrupt_not_a_hang, .init = named_setup,
     .fini = named_teardown)
{
	enum { ITEMS = 4000, BIG = 512 << 10 };
	shmc_obj_t *ls;
	ASSERT_OK(shmc_root_find_or_create(NA, "ls", SHMC_KIND_LIST, &ls));
	for (int i = 0; i < ITEMS; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
	char *big = calloc(1, BIG);
	uint64_t w;
	ASSERT_OK(shmc__word_store(NA, shmc_bytes(big, BIG), &w));
	free(big);
	uint64_t arr = atomic_load((atomic_u64 *)(NA->base + shmc__handle_off(ls) + sizeof(struct shmc__obj)));
	atomic_u64 *item = (atomic_u64 *)(NA->base + arr + 24);
	for (int i = 0; i < ITEMS; i++)
		atomic_store(&item[i], w);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	shmc_view_t *v;
	char *s;
	ASSERT_OK(shmc_view_open(name, &v));
	ASSERT_ERR(shmc_view_dump(v, "ls", 0, &s), SHMC_ECORRUPT);
	ASSERT_ERR(shmc_view_dump(v, NULL, SHMC_VIEW_JSON, &s), SHMC_ECORRUPT);
	shmc_view_close(v);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 5 * test_slow(), "dumping took %ld s",
		     (long)(t1.tv_sec - t0.tv_sec));
	/* Two items kept, so that closing frees nothing twice. */
	for (int i = 2; i < ITEMS; i++)
		atomic_store(&item[i], shmc__w_from_int(i));
	atomic_store(&item[1], shmc__w_from_int(1));
	shmc_obj_release(ls);
}

/* A damaged length of the directory of names (its dict table's live
 * count): beyond what the arena can hold it is SHMC_ECORRUPT at once; a
 * large one the arena could hold costs no memory up front and changes
 * nothing that is printed. Either way no allocation of that size and no
 * hang (the fuzz regression names-length-huge is the same damage). */
Test(view, damaged_directory_length_is_corrupt_not_a_huge_allocation,
     .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *a, *b;
	ASSERT_OK(shmc_root_find_or_create(NA, "a", SHMC_KIND_LIST, &a));
	ASSERT_OK(shmc_root_find_or_create(NA, "b", SHMC_KIND_NAMESPACE, &b));
	char *want = dump(NULL, 0);
	cr_assert_str_eq(want, "a: []\nb: Namespace()\n");
	/* dict.c's table: {u32 magic, u32 dead_tail, u64 nindex, cap, used,
	 * live, ...}; checked to be where this test expects it. */
	uint64_t dir = atomic_load(&NA->hdr->roots_off);
	uint64_t table = atomic_load((atomic_u64 *)(NA->base + dir + sizeof(struct shmc__obj)));
	cr_assert_eq(memcmp(NA->base + table, "DICT", 4), 0);
	atomic_u64 *live = (atomic_u64 *)(NA->base + table + 32);
	cr_assert_eq(atomic_load(live), 2);

	const uint64_t lengths[] = {NA->capacity, (uint64_t)1 << 24, (uint64_t)1 << 40, INT64_MAX};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		atomic_store(live, lengths[i]);
		shmc_view_t *v;
		char *s;
		ASSERT_OK(shmc_view_open(name, &v));
		for (int k = 0; k < 20; k++)
			ASSERT_ERR(shmc_view_dump(v, NULL, 0, &s), SHMC_ECORRUPT);
		ASSERT_ERR(shmc_view_dump(v, "a", 0, &s), SHMC_ECORRUPT);
		shmc_view_close(v);
	}
	/* Within what the arena could hold (two words an entry): read, and
	 * only the names that are there are shown. */
	atomic_store(live, NA->capacity / 16);
	for (int k = 0; k < 20; k++) {
		char *s = dump(NULL, 0);
		cr_assert_str_eq(s, want);
		shmc_free(s);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 5, "dumping took %ld s",
		     (long)(t1.tv_sec - t0.tv_sec));
	atomic_store(live, 2);
	shmc_free(want);
	shmc_obj_release(a);
	shmc_obj_release(b);
}

/* A dict step reads as an int of any size: a big int key is found, and
 * so is the str that looks like no int. */
Test(view, path_steps_name_big_int_keys, .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *d, *inner;
	ASSERT_OK(shmc_root_find_or_create(NA, "d", SHMC_KIND_DICT, &d));
	ASSERT_OK(shmc_dict_new(NA, &inner));
	shmc_value_t big, nbig;
	ASSERT_OK(shmc_int_from_str("18446744073709551616", 20, 10, &big));
	ASSERT_OK(shmc_int_from_str("-99999999999999999999", 21, 10, &nbig));
	ASSERT_OK(shmc_dict_set(d, big, shmc_str("two to the 64")));
	ASSERT_OK(shmc_dict_set(d, nbig, shmc_ref(inner)));
	ASSERT_OK(shmc_dict_set(inner, big, shmc_bytearray("x", 1)));
	ASSERT_OK(shmc_dict_set(d, shmc_str("1_0"), shmc_int(10)));
	shmc_value_t cx = shmc_complex(1, -1);
	ASSERT_OK(shmc_dict_set(d, shmc_int(-5), cx));
	shmc_value_free(&cx);
	expect_dump("d/18446744073709551616", 0, "'two to the 64'");
	expect_dump("d/+18446744073709551616", 0, "'two to the 64'");
	expect_dump("d/-99999999999999999999/18446744073709551616", 0, "bytearray(b'x')");
	expect_dump("d/-99999999999999999999", SHMC_VIEW_JSON,
		    "{\"items\": [[18446744073709551616, {\"bytearray\": \"78\"}]]}");
	expect_dump("d/1_0", 0, "10");
	expect_dump("d/-5", 0, "(1-1j)");
	shmc_view_t *v;
	char *s;
	ASSERT_OK(shmc_view_open(name, &v));
	ASSERT_ERR(shmc_view_dump(v, "d/18446744073709551617", 0, &s), SHMC_EKEY);
	ASSERT_ERR(shmc_view_dump(v, "d/184467440737095516160x", 0, &s), SHMC_EKEY);
	shmc_view_close(v);
	shmc_value_free(&big);
	shmc_value_free(&nbig);
	shmc_obj_release(inner);
	shmc_obj_release(d);
}
