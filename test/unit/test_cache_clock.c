/*
 * test_cache_clock.c -- the cache's times-to-live against a clock the test
 * moves (shmc__cache_clock_skew, added to CLOCK_MONOTONIC in this process):
 * an entry is there until its deadline and gone from it on, whatever the
 * machine's load; incr's init_ttl and expire() follow the same clock;
 * flush_expired and the statistics count what expired.
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX
#include "testutil.h"
#include "containers/cache.h"

#define S 1000000000LL

static shmc_arena_t *A;
static shmc_obj_t *C;

static void setup(void)
{
	atomic_store(&shmc__cache_clock_skew, 0);
	A = test_arena(8 << 20);
	cr_assert_eq(shmc_cache_new(A, NULL, 100, 0, &C), 0);
}

static void teardown(void)
{
	atomic_store(&shmc__cache_clock_skew, 0);
	shmc_obj_release(C);
	shmc_arena_close(A);
}

TestSuite(cache_clock, .init = setup, .fini = teardown, .timeout = 60);

static void move_to(int64_t ns)
{
	atomic_store(&shmc__cache_clock_skew, ns);
}

static bool present(const char *k, int64_t *left)
{
	shmc_value_t v;
	int rc = shmc_cache_get(C, shmc_str(k), &v, left);
	if (rc == SHMC_EKEY)
		return false;
	cr_assert_eq(rc, 0, "get %s: %s", k, shmc_errname(rc));
	shmc_value_free(&v);
	return true;
}

Test(cache_clock, an_entry_lives_until_its_deadline_and_not_after)
{
	int64_t left;
	ASSERT_OK(shmc_cache_set(C, shmc_str("a"), shmc_int(1), 10 * S));
	ASSERT_OK(shmc_cache_set(C, shmc_str("b"), shmc_int(2), 20 * S));
	ASSERT_OK(shmc_cache_set(C, shmc_str("c"), shmc_int(3), 0));
	move_to(9 * S);
	cr_assert(present("a", &left), "a lives before its deadline");
	cr_assert(left > 0 && left <= 1 * S, "a has under a second left: %lld", (long long)left);
	move_to(10 * S);
	cr_assert_not(present("a", NULL), "a is gone at its deadline");
	cr_assert(present("b", &left) && left > 0 && left <= 10 * S);
	cr_assert(present("c", &left) && left == 0, "c never expires");
	cr_assert_eq(shmc_cache_len(C), 2);
	cr_assert_eq(shmc_cache_flush_expired(C), 1, "flush_expired reclaims a");
	move_to(20 * S);
	cr_assert_not(present("b", NULL));
	cr_assert_eq(shmc_cache_flush_expired(C), 1);
	move_to(1000000 * S);
	cr_assert(present("c", NULL), "no time-to-live: forever");
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(C, &st));
	cr_assert_eq(st.expirations, 2, "two entries expired: %llu",
		     (unsigned long long)st.expirations);
	cr_assert_eq(st.entries, 1);
	char *s = obj_str(C);
	cr_assert_str_eq(s, "{'c': 3}");
	shmc_free(s);
}

Test(cache_clock, incr_init_ttl_and_expire_follow_the_clock)
{
	int64_t n, left;
	ASSERT_OK(shmc_cache_incr(C, shmc_str("n"), 1, shmc_int(10), 5 * S, &n));
	cr_assert_eq(n, 11);
	ASSERT_OK(shmc_cache_incr(C, shmc_str("n"), 1, shmc_int(10), 5 * S, &n));
	cr_assert_eq(n, 12, "an existing counter keeps its value");
	move_to(4 * S);
	ASSERT_OK(shmc_cache_ttl(C, shmc_str("n"), &left));
	cr_assert(left > 0 && left <= 1 * S, "incr kept the first deadline: %lld",
		  (long long)left);
	move_to(5 * S);
	ASSERT_OK(shmc_cache_incr(C, shmc_str("n"), 1, shmc_int(10), 5 * S, &n));
	cr_assert_eq(n, 11, "an expired counter starts again from init");

	ASSERT_OK(shmc_cache_set(C, shmc_str("e"), shmc_str("v"), 0));
	ASSERT_OK(shmc_cache_expire(C, shmc_str("e"), 2 * S));
	move_to(6 * S);
	cr_assert(present("e", &left), "expire() set the deadline 2 s from when it was called");
	cr_assert(left > 0 && left <= 1 * S, "one second left at most: %lld", (long long)left);
	move_to(7 * S);
	cr_assert_not(present("e", NULL));
}
