/*
 * test_cache.c -- the bounded cache dict (shmc_cache_*): nginx's
 * lua_shared_dict semantics (set, add, replace, safe_*, incr with init and
 * init_ttl, delete, flush, ttl/expire), the limits in entries and bytes,
 * approximate-LRU eviction (what is guaranteed: an entry read since the
 * hand last passed outlives unread ones; unread ones go oldest first), TTL
 * expiry waited for on the clock with generous deadlines, the counters,
 * the printed form (a dict's), and readers and writers in forked processes.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "testutil.h"

TestSuite(cache, .timeout = 60);

#define MS 1000000LL

static shmc_obj_t *new_cache(uint64_t entries, uint64_t bytes)
{
	shmc_obj_t *c;
	int rc = shmc_cache_new(A, NULL, entries, bytes, &c);
	cr_assert_eq(rc, 0, "shmc_cache_new -> %s", shmc_errname(rc));
	return c;
}

static int64_t get_int(shmc_obj_t *c, int64_t key)
{
	shmc_value_t v;
	int rc = shmc_cache_get(c, shmc_int(key), &v, NULL);
	if (rc)
		return rc;
	cr_assert_eq(v.type, SHMC_INT);
	return v.i;
}

static bool has(shmc_obj_t *c, int64_t key)
{
	shmc_value_t v;
	int rc = shmc_cache_get(c, shmc_int(key), &v, NULL);
	shmc_value_free(&v);
	return rc == 0;
}

/* Sleep until KEY is gone (expired), within the test deadline. */
static bool wait_gone(shmc_obj_t *c, shmc_value_t key)
{
	double end = now_s() + TEST_DEADLINE;
	while (now_s() < end) {
		shmc_value_t v;
		int rc = shmc_cache_get(c, key, &v, NULL);
		if (rc == SHMC_EKEY)
			return true;
		shmc_value_free(&v);
		struct timespec ts = {0, 2 * MS};
		nanosleep(&ts, NULL);
	}
	return false;
}

Test(cache, set_get_len_and_printed_like_a_dict, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(100, 0);
	cr_assert_eq(shmc_obj_kind(c), SHMC_KIND_CACHE);
	expect_str(c, "{}");
	ASSERT_OK(shmc_cache_set(c, shmc_str("a"), shmc_int(1), 0));
	ASSERT_OK(shmc_cache_set(c, shmc_int(2), shmc_str("two"), 0));
	shmc_value_t tk = shmc_tuple_of(2, shmc_int(1), shmc_none());
	shmc_value_t lv = shmc_plist_of(2, shmc_float(1.5), shmc_str("x"));
	ASSERT_OK(shmc_cache_set(c, tk, lv, 0)); /* copied in */
	shmc_value_free(&tk);
	shmc_value_free(&lv);
	ASSERT_OK(shmc_cache_set(c, shmc_str("a"), shmc_int(10), 0)); /* keeps its place */
	cr_assert_eq(shmc_cache_len(c), 3);
	/* Python: d = {}; d['a'] = 1; d[2] = 'two'; d[(1, None)] = [1.5, 'x']; d['a'] = 10 */
	expect_str(c, "{'a': 10, 2: 'two', (1, None): [1.5, 'x']}");
	shmc_value_t v;
	int64_t ttl = -5;
	ASSERT_OK(shmc_cache_get(c, shmc_int(2), &v, &ttl));
	expect_repr(v, "'two'");
	cr_assert_eq(ttl, 0, "no TTL reads as 0");
	shmc_value_free(&v);
	ASSERT_ERR(shmc_cache_get(c, shmc_str("nope"), &v, NULL), SHMC_EKEY);
	lv = shmc_plist_of(0);
	ASSERT_ERR(shmc_cache_set(c, lv, shmc_int(1), 0), SHMC_EUNHASHABLE);
	shmc_value_free(&lv);
	ASSERT_OK(shmc_cache_delete(c, shmc_str("a")));
	ASSERT_ERR(shmc_cache_delete(c, shmc_str("a")), SHMC_EKEY);
	expect_str(c, "{2: 'two', (1, None): [1.5, 'x']}");
	ASSERT_OK(shmc_cache_flush_all(c));
	expect_str(c, "{}");
	cr_assert_eq(shmc_cache_len(c), 0);
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(c, &st));
	cr_assert_eq(st.entries, 0);
	cr_assert_eq(st.bytes, 0);
	shmc_obj_release(c);
}

Test(cache, printed_form_matches_python, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(0, 1 << 20);
	ASSERT_OK(shmc_cache_set(c, shmc_str("k"), shmc_bytes("\x00z", 2), 0));
	ASSERT_OK(shmc_cache_set(c, shmc_float(2.5), shmc_bool(true), 0));
	shmc_value_t dv = shmc_pdict_of(1, shmc_str("x"), shmc_int(-3));
	ASSERT_OK(shmc_cache_set(c, shmc_none(), dv, 0));
	shmc_value_free(&dv);
	char *got = obj_str(c);
	expect_python(got, "{'k': b'\\x00z', 2.5: True, None: {'x': -3}}",
		      "print({'k': b'\\x00z', 2.5: True, None: {'x': -3}}, end='')");
	shmc_free(got);
	shmc_obj_release(c);
}

Test(cache, bad_arguments_change_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *c, *d;
	ASSERT_ERR(shmc_cache_new(A, NULL, 0, 0, &c), -EINVAL);
	ASSERT_ERR(shmc_cache_new(NULL, NULL, 1, 0, &c), SHMC_EHANDLE);
	ASSERT_ERR(shmc_cache_new(A, NULL, 1, 0, NULL), SHMC_EHANDLE);
	c = new_cache(4, 0);
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_ERR(shmc_cache_set(d, shmc_int(1), shmc_int(1), 0), SHMC_EKIND);
	ASSERT_ERR(shmc_cache_get(NULL, shmc_int(1), &(shmc_value_t){0}, NULL), SHMC_EHANDLE);
	ASSERT_ERR(shmc_cache_get(c, shmc_int(1), NULL, NULL), -EINVAL);
	ASSERT_ERR(shmc_cache_ttl(c, shmc_int(1), NULL), -EINVAL);
	ASSERT_ERR(shmc_cache_stats(c, NULL), -EINVAL);
	ASSERT_ERR(shmc_cache_set(c, shmc_int(1), shmc_int(1), -1), -EINVAL);
	ASSERT_ERR(shmc_cache_set(c, shmc_int(1), shmc_int(1), INT64_MAX), -ERANGE);
	cr_assert_eq(shmc_cache_len(c), 0);
	shmc_obj_release(d);
	shmc_obj_release(c);
}

Test(cache, named_cache_is_found_again_with_its_limits, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c1, *c2, *d, *got;
	/* The directory's own table stays once made: count from there. */
	ASSERT_OK(shmc_root_find_or_create(A, "warm", SHMC_KIND_LIST, &got));
	ASSERT_OK(shmc_root_remove(A, "warm"));
	shmc_obj_release(got);
	A_base = arena_in_use(A);
	ASSERT_OK(shmc_cache_new(A, "sessions", 2, 0, &c1));
	ASSERT_OK(shmc_cache_new(A, "sessions", 50, 0, &c2));
	cr_assert(shmc_obj_same(c1, c2));
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(c2, &st));
	cr_assert_eq(st.max_entries, 2);
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_root_setdefault(A, "plain", d, &got));
	shmc_obj_release(got);
	ASSERT_ERR(shmc_cache_new(A, "plain", 2, 0, &c2), SHMC_EKIND);
	ASSERT_OK(shmc_root_remove(A, "plain"));
	ASSERT_OK(shmc_root_remove(A, "sessions"));
	shmc_obj_release(d);
	shmc_obj_release(c1);
	shmc_obj_release(c2);
}

Test(cache, entry_limit_evicts_least_recently_used, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(4, 0);
	for (int i = 0; i < 4; i++)
		ASSERT_OK(shmc_cache_set(c, shmc_int(i), shmc_int(i * 10), 0));
	cr_assert_eq(get_int(c, 0), 0); /* 0 is used, 1 2 3 are not */
	ASSERT_OK(shmc_cache_set(c, shmc_int(4), shmc_int(40), 0));
	cr_assert_eq(shmc_cache_len(c), 4);
	cr_assert(!has(c, 1), "1: the least recently used goes first");
	cr_assert(has(c, 0) && has(c, 2) && has(c, 3) && has(c, 4));
	/* Now all are used (has() read them): the hand clears them all and
	 * evicts in insertion order from where it stands. */
	ASSERT_OK(shmc_cache_set(c, shmc_int(5), shmc_int(50), 0));
	cr_assert_eq(shmc_cache_len(c), 4);
	cr_assert(has(c, 5), "the new entry is in");
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(c, &st));
	cr_assert_eq(st.evictions, 2);
	cr_assert_eq(st.entries, 4);
	/* An overwrite of a key there evicts nothing. */
	ASSERT_OK(shmc_cache_set(c, shmc_int(5), shmc_int(51), 0));
	ASSERT_OK(shmc_cache_stats(c, &st));
	cr_assert_eq(st.evictions, 2);
	shmc_obj_release(c);
}

Test(cache, eviction_order_over_many_rounds_keeps_the_hot_keys, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(64, 0);
	for (int i = 0; i < 64; i++)
		ASSERT_OK(shmc_cache_set(c, shmc_int(i), shmc_int(i), 0));
	/* Keys 0..7 are read between every insertion of a new key. */
	for (int i = 64; i < 1000; i++) {
		for (int h = 0; h < 8; h++)
			cr_assert_eq(get_int(c, h), h, "hot key %d evicted at insert %d", h, i);
		ASSERT_OK(shmc_cache_set(c, shmc_int(i), shmc_int(i), 0));
	}
	cr_assert_eq(shmc_cache_len(c), 64);
	cr_assert(has(c, 999) && has(c, 998));
	shmc_obj_release(c);
}

Test(cache, byte_limit_evicts_to_fit_and_refuses_what_cannot, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(0, 4096);
	char big[600];
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 40; i++) {
		ASSERT_OK(shmc_cache_set(c, shmc_int(i), shmc_strn(big, sizeof(big)), 0));
		shmc_cache_stats_t st;
		ASSERT_OK(shmc_cache_stats(c, &st));
		cr_assert_leq(st.bytes, 4096, "bytes %llu over the limit", (unsigned long long)st.bytes);
	}
	cr_assert(has(c, 39));
	int64_t n = shmc_cache_len(c);
	cr_assert(n >= 4 && n <= 6, "%lld entries of ~650 bytes in 4096", (long long)n);
	char huge[5000];
	memset(huge, 'y', sizeof(huge));
	char *before = obj_str(c);
	ASSERT_ERR(shmc_cache_set(c, shmc_int(100), shmc_strn(huge, sizeof(huge)), 0), SHMC_EFULL);
	char *after = obj_str(c);
	cr_assert_str_eq(before, after, "an entry over the limit alone changes nothing");
	shmc_free(before);
	shmc_free(after);
	shmc_obj_release(c);
}

Test(cache, add_replace_and_safe_variants, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(2, 0);
	ASSERT_OK(shmc_cache_add(c, shmc_str("a"), shmc_int(1), 0));
	ASSERT_ERR(shmc_cache_add(c, shmc_str("a"), shmc_int(2), 0), -EEXIST);
	ASSERT_ERR(shmc_cache_replace(c, shmc_str("b"), shmc_int(2), 0), SHMC_EKEY);
	ASSERT_OK(shmc_cache_replace(c, shmc_str("a"), shmc_int(3), 0));
	expect_str(c, "{'a': 3}");
	ASSERT_OK(shmc_cache_safe_set(c, shmc_str("b"), shmc_int(4), 0));
	/* Full of live entries: the safe variants refuse, changing nothing. */
	ASSERT_ERR(shmc_cache_safe_set(c, shmc_str("c"), shmc_int(5), 0), SHMC_EFULL);
	ASSERT_ERR(shmc_cache_safe_add(c, shmc_str("c"), shmc_int(5), 0), SHMC_EFULL);
	ASSERT_ERR(shmc_cache_safe_add(c, shmc_str("a"), shmc_int(5), 0), -EEXIST);
	ASSERT_OK(shmc_cache_safe_set(c, shmc_str("a"), shmc_int(6), 0)); /* no room needed */
	expect_str(c, "{'a': 6, 'b': 4}");
	/* An expired entry may be reclaimed by the safe variants. */
	ASSERT_OK(shmc_cache_set(c, shmc_str("b"), shmc_int(4), 1 * MS));
	cr_assert(wait_gone(c, shmc_str("b")));
	ASSERT_OK(shmc_cache_safe_add(c, shmc_str("c"), shmc_int(7), 0));
	expect_str(c, "{'a': 6, 'c': 7}");
	/* add over an expired key is an add. */
	ASSERT_OK(shmc_cache_set(c, shmc_str("a"), shmc_int(1), 1 * MS));
	cr_assert(wait_gone(c, shmc_str("a")));
	ASSERT_ERR(shmc_cache_replace(c, shmc_str("a"), shmc_int(2), 0), SHMC_EKEY);
	ASSERT_OK(shmc_cache_add(c, shmc_str("a"), shmc_int(8), 0));
	expect_str(c, "{'a': 8, 'c': 7}");
	shmc_obj_release(c);
}

Test(cache, ttl_expiry_is_invisible_at_once_and_reclaimed, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(1000, 0);
	ASSERT_OK(shmc_cache_set(c, shmc_str("short"), shmc_str("gone soon"), 20 * MS));
	ASSERT_OK(shmc_cache_set(c, shmc_str("long"), shmc_str("stays"), 3600 * 1000 * MS));
	ASSERT_OK(shmc_cache_set(c, shmc_str("forever"), shmc_int(1), 0));
	int64_t ttl;
	ASSERT_OK(shmc_cache_ttl(c, shmc_str("long"), &ttl));
	cr_assert(ttl > 3500 * 1000 * MS && ttl <= 3600 * 1000 * MS, "ttl %lld", (long long)ttl);
	ASSERT_OK(shmc_cache_ttl(c, shmc_str("forever"), &ttl));
	cr_assert_eq(ttl, 0);
	cr_assert(wait_gone(c, shmc_str("short")));
	ASSERT_ERR(shmc_cache_ttl(c, shmc_str("short"), &ttl), SHMC_EKEY);
	expect_str(c, "{'long': 'stays', 'forever': 1}");
	cr_assert_eq(shmc_cache_len(c), 2);
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(c, &st));
	cr_assert_eq(st.entries, 3, "still stored until swept");
	/* Writes sweep: a few writes reclaim it without touching its key. */
	for (int i = 0; i < 4; i++)
		ASSERT_OK(shmc_cache_set(c, shmc_str("forever"), shmc_int(i), 0));
	ASSERT_OK(shmc_cache_stats(c, &st));
	cr_assert_eq(st.entries, 2, "the sweep reclaimed the expired entry");
	cr_assert_eq(st.expirations, 1);
	/* expire: a new TTL, then none again. */
	ASSERT_OK(shmc_cache_expire(c, shmc_str("long"), 0));
	ASSERT_OK(shmc_cache_ttl(c, shmc_str("long"), &ttl));
	cr_assert_eq(ttl, 0);
	ASSERT_OK(shmc_cache_expire(c, shmc_str("forever"), 10 * MS));
	ASSERT_OK(shmc_cache_ttl(c, shmc_str("forever"), &ttl));
	cr_assert(ttl > 0 && ttl <= 10 * MS);
	cr_assert(wait_gone(c, shmc_str("forever")));
	ASSERT_ERR(shmc_cache_expire(c, shmc_str("forever"), 0), SHMC_EKEY);
	ASSERT_OK(shmc_cache_set(c, shmc_int(1), shmc_int(1), 1 * MS));
	ASSERT_OK(shmc_cache_set(c, shmc_int(2), shmc_int(2), 1 * MS));
	cr_assert(wait_gone(c, shmc_int(1)) && wait_gone(c, shmc_int(2)));
	cr_assert_geq(shmc_cache_flush_expired(c), 2);
	ASSERT_OK(shmc_cache_stats(c, &st));
	cr_assert_eq(st.entries, 1);
	expect_str(c, "{'long': 'stays'}");
	shmc_obj_release(c);
}

Test(cache, incr_with_init_and_init_ttl, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(10, 0);
	int64_t n;
	ASSERT_ERR(shmc_cache_incr(c, shmc_str("hits"), 1, shmc_none(), 0, &n), SHMC_EKEY);
	ASSERT_OK(shmc_cache_incr(c, shmc_str("hits"), 1, shmc_int(0), 0, &n));
	cr_assert_eq(n, 1);
	ASSERT_OK(shmc_cache_incr(c, shmc_str("hits"), 5, shmc_int(100), 0, &n));
	cr_assert_eq(n, 6, "init is ignored when the key is there");
	ASSERT_OK(shmc_cache_incr(c, shmc_str("hits"), -10, shmc_none(), 0, NULL));
	shmc_value_t v;
	ASSERT_OK(shmc_cache_get(c, shmc_str("hits"), &v, NULL));
	expect_repr(v, "-4");
	ASSERT_OK(shmc_cache_set(c, shmc_str("s"), shmc_str("x"), 0));
	ASSERT_ERR(shmc_cache_incr(c, shmc_str("s"), 1, shmc_int(0), 0, &n), SHMC_ETYPE);
	ASSERT_ERR(shmc_cache_incr(c, shmc_str("new"), 1, shmc_str("0"), 0, &n), SHMC_ETYPE);
	ASSERT_OK(shmc_cache_set(c, shmc_str("max"), shmc_int(INT64_MAX), 0));
	ASSERT_ERR(shmc_cache_incr(c, shmc_str("max"), 1, shmc_none(), 0, &n), -ERANGE);
	/* init_ttl: the counter expires, and starts again from init. */
	ASSERT_OK(shmc_cache_incr(c, shmc_str("rate"), 1, shmc_int(0), 20 * MS, &n));
	ASSERT_OK(shmc_cache_incr(c, shmc_str("rate"), 1, shmc_int(0), 20 * MS, &n));
	int64_t ttl;
	ASSERT_OK(shmc_cache_ttl(c, shmc_str("rate"), &ttl));
	cr_assert(ttl > 0 && ttl <= 20 * MS, "incr keeps the TTL: %lld", (long long)ttl);
	cr_assert(n == 2 || n == 1); /* 1 on a machine slower than 20 ms */
	cr_assert(wait_gone(c, shmc_str("rate")));
	ASSERT_OK(shmc_cache_incr(c, shmc_str("rate"), 1, shmc_int(0), 0, &n));
	cr_assert_eq(n, 1);
	expect_str(c, "{'hits': -4, 's': 'x', 'max': 9223372036854775807, 'rate': 1}");
	shmc_obj_release(c);
}

Test(cache, stats_count_hits_misses_evictions_expirations, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c = new_cache(3, 1 << 20);
	for (int i = 0; i < 5; i++)
		ASSERT_OK(shmc_cache_set(c, shmc_int(i), shmc_int(i), 0));
	for (int i = 0; i < 5; i++)
		has(c, i); /* 3 hits (2, 3, 4), 2 misses */
	ASSERT_OK(shmc_cache_set(c, shmc_int(9), shmc_int(9), 1 * MS));
	cr_assert(wait_gone(c, shmc_int(9)));
	cr_assert_eq(shmc_cache_flush_expired(c), 1);
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(c, &st));
	cr_assert_eq(st.evictions, 3, "5 into 3, then 9 evicts one");
	cr_assert_geq(st.hits, 3); /* and 9 while it lived */
	cr_assert_geq(st.misses, 3); /* 0 and 1, then 9 once gone */
	cr_assert_eq(st.expirations, 1);
	cr_assert_eq(st.entries, 2);
	cr_assert_eq(st.max_entries, 3);
	cr_assert_eq(st.max_bytes, 1 << 20);
	cr_assert_gt(st.bytes, 0);
	shmc_obj_release(c);
}

/* Processes: writers set and incr while readers get; every value read is
 * one some writer stored, counters add up. The counter lives in a cache of
 * its own, which never fills. In the busy one it can be the least recently
 * used entry (readers that reach every key between two incrs make it so),
 * and an eviction then takes it, restarting the count, as an exact LRU
 * would: with every bit set, CLOCK clears them in one turn and takes the
 * entry it started from, just past the last victim, the counter (once in
 * 150-500 runs beside two busy loops; every time in a loop of one process
 * that reads all 300 keys after each set and incr, at the third eviction). */
struct mp {
	shmc_obj_t *c, *counter;
};

static int mp_child(int i, void *arg)
{
	struct mp *m = arg;
	for (int r = 0; r < 2000; r++) {
		int64_t key = (r * 7 + i) % 300;
		if (i % 2 == 0) {
			shmc_value_t t = shmc_tuple_of(2, shmc_int(key), shmc_str("payload"));
			CHILD_OK(shmc_cache_set(m->c, shmc_int(key), t, 0));
			shmc_value_free(&t);
			CHILD_OK(shmc_cache_incr(m->counter, shmc_str("count"), 1, shmc_int(0), 0,
						 NULL));
		} else {
			shmc_value_t v;
			int rc = shmc_cache_get(m->c, shmc_int(key), &v, NULL);
			CHILD_CHECK(rc == 0 || rc == SHMC_EKEY);
			if (rc == 0) {
				char *s = value_repr(v);
				char want[64];
				snprintf(want, sizeof(want), "(%lld, 'payload')", (long long)key);
				CHILD_CHECK(strcmp(s, want) == 0);
				shmc_free(s);
				shmc_value_free(&v);
			}
		}
	}
	return 0;
}

Test(cache, processes_read_and_write_concurrently, .init = arena_setup, .fini = arena_teardown)
{
	struct mp m = {new_cache(100, 0), new_cache(16, 0)};
	cr_assert_eq(run_children(4, mp_child, &m), 0);
	shmc_value_t v;
	ASSERT_OK(shmc_cache_get(m.counter, shmc_str("count"), &v, NULL));
	cr_assert_eq(v.i, 2 * 2000, "incr lost updates: %lld", (long long)v.i);
	cr_assert_leq(shmc_cache_len(m.c), 100);
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(m.c, &st));
	cr_assert_eq(st.hits + st.misses, 2 * 2000);
	cr_assert_gt(st.evictions, 0);
	char *s;
	ASSERT_OK(shmc_arena_check(A, 0, NULL, print_finding, "check"));
	ASSERT_OK(shmc_obj_str(m.c, &s));
	shmc_free(s);
	shmc_obj_release(m.c);
	shmc_obj_release(m.counter);
}
