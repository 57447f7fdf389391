/*
 * test_inject_cache.c -- allocation failure injection over the cache's
 * compound writes (shmc_cache_*): a set that evicts, a set that grows the
 * table, an incr that inserts with a TTL and evicts, an expire that
 * re-encodes, flush_expired. The method of test_inject_dict.c: allocation
 * n fails, n = 0, 1, ... until the call succeeds; after each failure the
 * call must have returned SHMC_EFULL, the cache print and count as before
 * (entries, bytes, evictions, expirations) and the arena's bytes in use be
 * as before, to the byte.
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX /* inject_ok */
#include "testutil.h"

TestSuite(inject_cache, .timeout = 60);

#define MS 1000000LL

struct op {
	shmc_obj_t *c;
	int64_t i;
};

/* What a failed call must leave as it was: the text and the counts. */
static char *state(void *p)
{
	shmc_obj_t *c = ((struct op *)p)->c;
	shmc_cache_stats_t st;
	char *s = obj_str(c), *out;
	cr_assert_eq(shmc_cache_stats(c, &st), 0);
	cr_assert(asprintf(&out, "%s entries %llu bytes %llu evictions %llu expirations %llu", s,
			   (unsigned long long)st.entries, (unsigned long long)st.bytes,
			   (unsigned long long)st.evictions,
			   (unsigned long long)st.expirations) > 0);
	shmc_free(s);
	return out;
}

/* @return the number of failures before OP succeeded (testutil.h) */
static int inject(const char *what, int (*op)(void *), struct op *c)
{
	return inject_ok(A, what, 1000, op, state, c);
}

static shmc_obj_t *filled(uint64_t max_entries, int n)
{
	shmc_obj_t *c;
	cr_assert_eq(shmc_cache_new(A, NULL, max_entries, 0, &c), 0);
	for (int i = 0; i < n; i++) {
		char k[32];
		snprintf(k, sizeof(k), "k%d", i);
		cr_assert_eq(shmc_cache_set(c, shmc_str(k), shmc_str("a value"), 0), 0);
	}
	return c;
}

static int do_set(void *p)
{
	struct op *c = p;
	char k[32];
	snprintf(k, sizeof(k), "new%lld", (long long)c->i);
	return shmc_cache_set(c->c, shmc_str(k), shmc_str("another value"), 3600 * 1000 * MS);
}

Test(inject_cache, set_that_evicts, .init = arena_setup, .fini = arena_teardown)
{
	struct op c = {.c = filled(4, 4)};
	cr_assert_geq(inject("set evicting", do_set, &c), 2); /* value, key */
	shmc_cache_stats_t st;
	cr_assert_eq(shmc_cache_stats(c.c, &st), 0);
	cr_assert_eq(st.entries, 4);
	cr_assert_eq(st.evictions, 1);
	shmc_obj_release(c.c);
}

Test(inject_cache, set_that_grows_the_table, .init = arena_setup, .fini = arena_teardown)
{
	struct op c = {.c = filled(1000, 0)};
	int grew = 0;
	/* Insert until one insert needed a new table (a failure more). */
	for (c.i = 0; c.i < 40; c.i++)
		grew += inject("set growing", do_set, &c) > 2;
	cr_assert_gt(grew, 0, "no insert grew the table");
	cr_assert_eq(shmc_cache_len(c.c), 40);
	shmc_obj_release(c.c);
}

static int do_incr(void *p)
{
	struct op *c = p;
	int64_t n;
	return shmc_cache_incr(c->c, shmc_str("counter"), 5, shmc_int(100), 3600 * 1000 * MS, &n);
}

Test(inject_cache, incr_inserting_with_ttl_and_evicting, .init = arena_setup,
     .fini = arena_teardown)
{
	struct op c = {.c = filled(3, 3)};
	cr_assert_geq(inject("incr init", do_incr, &c), 2);
	cr_assert_geq(inject("incr again", do_incr, &c), 1); /* a new block: it has a TTL */
	shmc_value_t v;
	cr_assert_eq(shmc_cache_get(c.c, shmc_str("counter"), &v, NULL), 0);
	cr_assert_eq(v.i, 110);
	shmc_obj_release(c.c);
}

static int do_expire(void *p)
{
	struct op *c = p;
	return shmc_cache_expire(c->c, shmc_str("k1"), 3600 * 1000 * MS);
}

Test(inject_cache, expire_re_encodes, .init = arena_setup, .fini = arena_teardown)
{
	struct op c = {.c = filled(10, 3)};
	cr_assert_geq(inject("expire", do_expire, &c), 1);
	int64_t ttl;
	cr_assert_eq(shmc_cache_ttl(c.c, shmc_str("k1"), &ttl), 0);
	cr_assert_gt(ttl, 0);
	shmc_obj_release(c.c);
}

static int do_flush_expired(void *p)
{
	struct op *c = p;
	int64_t n = shmc_cache_flush_expired(c->c);
	if (n >= 0)
		c->i = n;
	return n < 0 ? (int)n : 0;
}

Test(inject_cache, flush_expired, .init = arena_setup, .fini = arena_teardown)
{
	struct op c = {.c = filled(1000, 0)};
	for (int i = 0; i < 200; i++)
		cr_assert_eq(shmc_cache_set(c.c, shmc_int(i), shmc_str("soon gone"), 1 * MS), 0);
	cr_assert_eq(shmc_cache_set(c.c, shmc_str("stays"), shmc_int(1), 0), 0);
	double end = now_s() + TEST_DEADLINE;
	while (shmc_cache_len(c.c) > 1 && now_s() < end)
		;
	cr_assert_eq(shmc_cache_len(c.c), 1);
	inject("flush_expired", do_flush_expired, &c);
	cr_assert_gt(c.i, 0); /* the sets swept those that expired meanwhile */
	shmc_cache_stats_t st;
	cr_assert_eq(shmc_cache_stats(c.c, &st), 0);
	cr_assert_eq(st.entries, 1);
	cr_assert_eq(st.expirations, 200);
	shmc_obj_release(c.c);
}
