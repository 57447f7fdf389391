/*
 * test_dict_repair.c -- a writer that dies between indexing new entries and
 * publishing them (the store of `used` that makes a merge of new keys
 * visible all at once): readers never see those entries, and the repair
 * run by the next writer rolls them back, dropping their keys and values,
 * so nothing leaks. The dead writer is played by a child that writes what
 * dict.c writes, in its order, and dies before the publication. (Layout of
 * a table, from dict.c: a 48-byte header {magic, dead_tail, nindex, cap,
 * used, live, gen}, nindex 32-bit index slots, then 24-byte entries {hash,
 * key, value}, 16-aligned.)
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX
#include "testutil.h"
#include "values/venc.h"

TestSuite(dict_repair, .timeout = 60);

struct dead_writer {
	shmc_arena_t *a;
	shmc_obj_t *d;
	int n; /* entries to index and not publish */
};

/* Take D's lock, index N new entries {100 + i: "a string ..."} past used
 * as a merge does, then die holding the lock. */
static int index_and_die(void *p)
{
	struct dead_writer *w = p;
	shmc_arena_t *a = w->a;
	struct shmc__obj *o;
	CHILD_OK(shmc__resolve(w->d, SHMC_KIND_DICT, &o));
	CHILD_OK(shmc__obj_lock(a, o));
	char *t = a->base + atomic_load((atomic_u64 *)SHMC__BODY(o, char));
	uint64_t nindex = *(uint64_t *)(t + 8), cap = *(uint64_t *)(t + 16);
	uint64_t used = atomic_load((atomic_u64 *)(t + 24));
	atomic_uint *index = (atomic_uint *)(t + 48);
	atomic_u64 *ent = (atomic_u64 *)(t + ALIGN_UP(48 + nindex * 4, 16));
	CHILD_CHECK(used + (uint64_t)w->n <= cap);
	for (int i = 0; i < w->n; i++) {
		uint64_t u = used + (uint64_t)i, kw, vw, h = shmc__hash_int(100 + i);
		CHILD_OK(shmc__word_store(a, shmc_int(100 + i), &kw));
		CHILD_OK(shmc__word_store(a, shmc_str("a string that needs a block"), &vw));
		atomic_store(&ent[3 * u], h);
		atomic_store(&ent[3 * u + 1], kw);
		atomic_store(&ent[3 * u + 2], vw);
		uint64_t j = h & (nindex - 1);
		while (atomic_load(&index[j]))
			j = (j + 1) & (nindex - 1);
		atomic_store(&index[j], (uint32_t)(u + 1));
	}
	_exit(0); /* holding the lock, before the store of used */
}

Test(dict_repair, indexed_but_unpublished_entries_are_invisible_then_rolled_back)
{
	for (int n = 1; n <= 2; n++) {
		shmc_arena_t *a = test_arena(16 << 20);
		arena_warm(a);
		shmc_obj_t *d;
		ASSERT_OK(shmc_dict_new(a, &d));
		for (int i = 0; i < 3; i++) /* 3 of the first table's 5 */
			ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_int(i)));
		size_t base = arena_in_use(a);
		struct dead_writer w = {a, d, n};
		cr_assert_eq(wait_exit(fork_fn(index_and_die, &w), TEST_DEADLINE), 0);
		/* Not published: no reader sees them, before any repair. */
		for (int i = 0; i < n; i++)
			cr_assert_eq(shmc_dict_has(d, shmc_int(100 + i)), 0);
		shmc_value_t v;
		ASSERT_ERR(shmc_dict_get(d, shmc_int(100), &v), SHMC_EKEY);
		cr_assert_eq(shmc_dict_len(d), 3);
		shmc_arena_stats_t st0, st1;
		ASSERT_OK(shmc_arena_stats(a, &st0));
		/* The next writer takes the lock over and repairs. */
		ASSERT_OK(shmc_dict_set(d, shmc_int(7), shmc_int(7)));
		ASSERT_OK(shmc_arena_stats(a, &st1));
		cr_assert_eq(st1.lock_recoveries - st0.lock_recoveries, 1);
		expect_str(d, "{0: 0, 1: 1, 2: 2, 7: 7}");
		for (int i = 0; i < n; i++)
			cr_assert_eq(shmc_dict_has(d, shmc_int(100 + i)), 0);
		/* The next insert took the place of the first rolled back. */
		ASSERT_OK(shmc_dict_set(d, shmc_int(8), shmc_int(8)));
		expect_str(d, "{0: 0, 1: 1, 2: 2, 7: 7, 8: 8}");
		shmc_check_report_t rep;
		ASSERT_OK(shmc_arena_check(a, SHMC_CHECK_REAP, &rep, print_finding, NULL));
		cr_assert_eq(rep.errors, 0);
		cr_assert_eq(rep.leaked_blocks, 0, "the dead writer's strings were not dropped");
		ASSERT_OK(shmc_dict_del(d, shmc_int(7)));
		ASSERT_OK(shmc_dict_del(d, shmc_int(8)));
		arena_leak_check(a, base);
		shmc_obj_release(d);
		shmc_arena_close(a);
	}
}
