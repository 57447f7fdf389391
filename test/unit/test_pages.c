/*
 * test_pages.c -- the page pool (lib/memory/pages.c) and the slab scavenger
 * (lib/memory/slabs.c): empty slabs serve other classes, freed runs merge,
 * pages beyond the threshold leave every process and are reserved again
 * (or fail with SHMC_EFULL), the arena check understands the pool, a
 * killed pool operation or scavenger is repaired, and frees, allocations
 * and scavenges racing in several processes never hand a block out twice.
 */
#include <criterion/criterion.h>

#include "arena/olock.h"
#include "memory/alloc.h"
#include "memory/freelist.h"
#include "memory/pages.h"
#include "memory/slabs.h"

#define SHMC_TEST_WHITEBOX /* class_of */
#include "testutil.h"

TestSuite(pages, .timeout = 120);

static shmc_arena_stats_t stats_now(void)
{
	shmc_arena_stats_t st;
	ASSERT_OK(shmc_arena_stats(A, &st));
	return st;
}

static uint64_t *alloc_n(uint64_t size, size_t n)
{
	uint64_t *v = malloc(n * sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		ASSERT_OK(shmc__alloc(A, size, &v[i]));
		memset(A->base + v[i], 0x5a, size);
	}
	return v;
}

static void free_n(uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shmc__free(A, v[i]);
	free(v);
}

static shmc_check_report_t check_now(unsigned flags)
{
	shmc_check_report_t rep;
	int rc = shmc_arena_check(A, flags, &rep, print_finding, "check");
	cr_assert(rc == 0 || rc == SHMC_ECORRUPT, "check: %s", shmc_errname(rc));
	return rep;
}

/* The check finds nothing wrong, and as "leaked" exactly the HELD blocks
 * the test holds (raw blocks belong to no object). */
static void expect_clean_holding(uint64_t held, const char *when)
{
	shmc_check_report_t rep = check_now(0);
	cr_assert_eq(rep.errors, 0, "%s: %llu errors", when, (unsigned long long)rep.errors);
	cr_assert_eq(rep.leaked_blocks, held, "%s: %llu blocks unreachable, %llu held", when,
		     (unsigned long long)rep.leaked_blocks, (unsigned long long)held);
	cr_assert_eq(rep.leaked_pages, 0, "%s: %llu pages leaked", when,
		     (unsigned long long)rep.leaked_pages);
}

static void expect_clean(const char *when)
{
	expect_clean_holding(0, when);
}

/* Blocks of 2 MiB taken until one comes from brk: then the pool has no run
 * of 512 pages left, and blocks of 512 pages or more are carved in order. */
static uint64_t *drained;
static size_t ndrained;

static void drain_pool(void)
{
	drained = malloc(4096 * sizeof(uint64_t));
	for (ndrained = 0; ndrained < 4096; ndrained++) {
		size_t used = stats_now().used;
		ASSERT_OK(shmc__alloc(A, 2 << 20, &drained[ndrained]));
		if (stats_now().used > used)
			break;
	}
	ndrained++;
}

static void empty_pool_setup(void)
{
	arena_setup();
	drain_pool();
}

static void empty_pool_teardown(void)
{
	free_n(drained, ndrained);
	arena_teardown();
}

static void injection_off_teardown(void)
{
	shmc__pool_fail_reserve_after(-1);
	arena_teardown();
}

/* Any class reuses an empty slab ------------------------------------------------- */

Test(pages, an_empty_slab_serves_another_class_without_growing_the_arena,
     .init = arena_setup, .fini = arena_teardown)
{
	const uint64_t slab = (uint64_t)SHMC__SLAB_PAGES << SHMC__PAGE_SHIFT;
	unsigned c64 = class_of(64);
	size_t n = 3 * shmc__slab_blocks(c64);
	uint64_t *v = alloc_n(64, n);
	shmc_arena_stats_t s0 = stats_now();
	free_n(v, n);
	shmc__alloc_trim(A);
	shmc_arena_stats_t s1 = stats_now();
	cr_assert_geq(s1.pool_bytes, s0.pool_bytes + 3 * slab, "pool %zu -> %zu", s0.pool_bytes,
		      s1.pool_bytes);
	cr_assert_eq(s1.classes[c64].carved, s0.classes[c64].carved - n);
	/* Three slabs of another class come from the pool, not from brk. */
	unsigned c3k = class_of(3000);
	size_t m = 3 * shmc__slab_blocks(c3k);
	v = alloc_n(3000, m);
	shmc_arena_stats_t s2 = stats_now();
	cr_assert_eq(s2.used, s1.used, "the arena grew from %zu to %zu", s1.used, s2.used);
	cr_assert_eq(s2.pool_bytes, s1.pool_bytes - 3 * slab);
	expect_clean_holding(m, "with the slabs in use again");
	free_n(v, m);
	expect_clean("at the end");
}

/* Free runs merge --------------------------------------------------------------- */

Test(pages, freed_neighbours_merge_into_one_run_that_serves_a_bigger_block,
     .init = empty_pool_setup, .fini = empty_pool_teardown)
{
	/* A class of exactly 512 pages, above SHMC__LARGE_CACHE_MAX: freed
	 * blocks go straight to the pool. */
	const uint64_t sz = 2 << 20, pages = sz >> SHMC__PAGE_SHIFT;
	cr_assert_eq(shmc__alloc_usable(sz), sz);
	cr_assert_gt(sz, SHMC__LARGE_CACHE_MAX);
	uint64_t b[3];
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc__alloc(A, sz, &b[i]));
	cr_assert(b[1] == b[0] + sz && b[2] == b[1] + sz, "not carved in order");
	uint64_t brk = stats_now().used;
	/* The middle one first: then each side merges with it. */
	shmc__free(A, b[1]);
	cr_assert_eq(shmc__pool_run(A, b[1], brk, NULL), pages);
	shmc__free(A, b[0]);
	cr_assert_eq(shmc__pool_run(A, b[0], brk, NULL), 2 * pages);
	shmc__free(A, b[2]);
	cr_assert_eq(shmc__pool_run(A, b[0], brk, NULL), 3 * pages, "one run of three blocks");
	cr_assert_eq(shmc__pool_run(A, b[1], brk, NULL), 0, "a merged run's old head stays one");
	expect_clean_holding(ndrained, "three runs merged");
	/* 5 MiB (a class of 1280 pages) fits in it, cut from its end. */
	uint64_t big, bigsz = 5 << 20;
	cr_assert_eq(shmc__alloc_usable(bigsz), bigsz);
	ASSERT_OK(shmc__alloc(A, bigsz, &big));
	cr_assert_eq(big, b[0] + 3 * sz - bigsz);
	cr_assert_eq(shmc__pool_run(A, b[0], brk, NULL), (3 * sz - bigsz) >> SHMC__PAGE_SHIFT);
	cr_assert_eq(stats_now().used, brk, "the arena grew");
	expect_clean_holding(ndrained + 1, "a block cut from the run");
	shmc__free(A, big);
	cr_assert_eq(shmc__pool_run(A, b[0], brk, NULL), 3 * pages);
}

/* Pages go back to the system -------------------------------------------------------- */

/* A pool of more than max(64 MiB, half of what is committed) is punched at
 * once, as a large clear fills it. */
static void big_setup(void)
{
	A = test_arena((size_t)256 << 20);
	arena_warm(A);
	A_base = arena_in_use(A);
}

Test(pages, a_large_clear_is_given_back_at_once, .init = big_setup, .fini = arena_teardown)
{
	const size_t mib = (size_t)1 << 20, n = 20;
	uint64_t *v = alloc_n(4 * mib, n);
	shmc_arena_stats_t s0 = stats_now();
	free_n(v, n);
	shmc_arena_stats_t s1 = stats_now();
	cr_assert_geq(s1.pool_bytes, 4 * n * mib);
	cr_assert_gt(s1.released_bytes, 32 * mib, "only %zu bytes given back", s1.released_bytes);
	cr_assert_leq(s1.committed + s1.released_bytes, s0.committed + mib);
	size_t high = s1.committed / 2 > 64 * mib ? s1.committed / 2 : 64 * mib;
	cr_assert_leq(s1.pool_bytes - s1.released_bytes, high,
		      "%zu bytes of the pool still backed", s1.pool_bytes - s1.released_bytes);
}

/* Below that, runs are punched once they have stayed free a while, or on
 * demand, down to max(1 MiB, committed / 8); taken again, they are
 * reserved again first. */
Test(pages, pages_beyond_the_threshold_are_given_back_on_demand_and_reserved_again,
     .init = arena_setup, .fini = arena_teardown)
{
	const size_t mib = (size_t)1 << 20, n = 24;
	uint64_t *v = alloc_n(mib, n);
	shmc_arena_stats_t s0 = stats_now();
	free_n(v, n);
	shmc__alloc_trim(A);
	shmc_arena_stats_t s1 = stats_now();
	cr_assert_geq(s1.pool_bytes, n * mib);
	cr_assert_gt(s1.released_bytes, 16 * mib, "only %zu bytes given back", s1.released_bytes);
	cr_assert_leq(s1.committed + s1.released_bytes, s0.committed + mib);
	size_t limit = s1.committed / 8 > mib ? s1.committed / 8 : mib;
	cr_assert_leq(s1.pool_bytes - s1.released_bytes, limit + n * 2 * SHMC__PAGE,
		      "%zu bytes of the pool still backed", s1.pool_bytes - s1.released_bytes);
	cr_assert_geq(s1.released_total, s1.released_bytes);
	/* The same memory again, all of it written: reserved again first. */
	v = alloc_n(mib, n);
	shmc_arena_stats_t s2 = stats_now();
	cr_assert_eq(s2.used, s1.used, "the arena grew");
	cr_assert_lt(s2.released_bytes, s1.released_bytes);
	cr_assert_geq(s2.committed, s0.committed - mib);
	expect_clean_holding(n, "reused");
	free_n(v, n);
}

/* A run that stays free is punched by a later pool operation once it is old
 * (a second), not at once: a pool that serves a churn keeps its pages. */
Test(pages, a_run_left_free_is_given_back_once_it_is_old, .init = arena_setup,
     .fini = arena_teardown)
{
	const size_t sz = (size_t)4 << 20;
	uint64_t off, churn;
	ASSERT_OK(shmc__alloc(A, sz, &off));
	memset(A->base + off, 1, sz);
	shmc__free(A, off);
	shmc_arena_stats_t s0 = stats_now();
	cr_assert_geq(s0.pool_bytes, sz);
	cr_assert_lt(s0.released_bytes, sz / 2, "punched at once: %zu", s0.released_bytes);
	/* Small blocks freed and allocated again meanwhile: every
	 * SHMC__POOL_TICK operations on a list, a free makes the pool look
	 * for old runs, and a second later it finds this one. */
	double t0 = now_s(), end = t0 + TEST_DEADLINE;
	shmc_arena_stats_t s1;
	do {
		for (unsigned i = 0; i < SHMC__POOL_TICK / 16; i++) {
			ASSERT_OK(shmc__alloc(A, 64, &churn));
			shmc__free(A, churn);
		}
		s1 = stats_now();
		if (s1.released_bytes >= sz / 2)
			break;
		usleep(1000); /* a poll interval */
	} while (now_s() < end);
	cr_log_info("punched after %.2f s", now_s() - t0);
	cr_assert_geq(s1.released_bytes, sz / 2, "not punched in %.0f s", TEST_DEADLINE);
	cr_assert_geq(now_s() - t0, 0.5, "punched before it was old");
}

Test(pages, given_back_pages_read_zero_when_reused, .init = empty_pool_setup,
     .fini = empty_pool_teardown)
{
	const size_t sz = (size_t)16 << 20; /* more than half of what is committed */
	uint64_t off, again;
	ASSERT_OK(shmc__alloc(A, sz, &off));
	memset(A->base + off, 0xee, sz);
	shmc__free(A, off);
	shmc__alloc_trim(A);
	cr_assert_gt(stats_now().released_bytes, sz / 2);
	ASSERT_OK(shmc__alloc(A, sz, &again));
	cr_assert_eq(again, off);
	size_t zero = 0;
	for (size_t i = 0; i < sz; i += SHMC__PAGE)
		zero += A->base[again + i] == 0;
	cr_assert_gt(zero * SHMC__PAGE, sz / 2, "%zu pages of %zu read zero", zero,
		     sz / SHMC__PAGE);
	shmc__free(A, again);
}

/* A child that maps a block in, then waits to be told to go. */
struct toucher {
	uint64_t off, size;
	int go[2], done[2];
};

static int touch_and_wait(void *p)
{
	struct toucher *t = p;
	volatile uint64_t sum = 0;
	for (uint64_t i = 0; i < t->size; i += SHMC__PAGE)
		sum += (unsigned char)A->base[t->off + i];
	CHILD_CHECK(say(t->done[1]));
	CHILD_CHECK(hear(t->go[0]));
	return sum == t->size / SHMC__PAGE * 0x77 ? 0 : 1;
}

static size_t rss_shmem(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	size_t kb = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssShmem: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

Test(pages, given_back_pages_leave_every_process_that_mapped_them,
     .init = arena_setup, .fini = arena_teardown)
{
	struct toucher t = {.size = (uint64_t)32 << 20};
	ASSERT_OK(shmc__alloc(A, t.size, &t.off));
	memset(A->base + t.off, 0x77, t.size);
	cr_assert(pipe(t.go) == 0 && pipe(t.done) == 0);
	pid_t child = fork_fn(touch_and_wait, &t);
	cr_assert(hear(t.done[0]), "the child did not map the block in");
	size_t before = rss_shmem(child);
	shmc__free(A, t.off);
	shmc__alloc_trim(A);
	size_t after = rss_shmem(child);
	cr_assert(say(t.go[1]));
	cr_assert_eq(wait_exit(child, TEST_DEADLINE), 0);
	cr_log_info("the child's RssShmem: %zu -> %zu KiB", before >> 10, after >> 10);
	cr_assert_geq(before, t.size);
	cr_assert_leq(after + t.size * 3 / 4, before, "RssShmem %zu -> %zu", before, after);
	for (int i = 0; i < 2; i++) {
		close(t.go[i]);
		close(t.done[i]);
	}
}

/* Reserving again may fail: SHMC_EFULL, nothing changed. */
Test(pages, a_failed_reservation_of_given_back_pages_is_efull_and_changes_nothing)
{
	A = test_arena(SHMC_MIN_CAPACITY);
	arena_warm(A);
	A_base = arena_in_use(A);
	/* Fill the arena with large blocks, so that brk cannot serve. */
	uint64_t v[64];
	size_t n = 0;
	while (n < 64 && shmc__alloc(A, 256 << 10, &v[n]) == 0)
		n++;
	cr_assert_gt(n, 8);
	for (size_t i = 0; i < n; i++)
		shmc__free(A, v[i]);
	shmc__alloc_trim(A); /* a 4 MiB arena's pool is small: given back on demand */
	shmc_arena_stats_t s0 = stats_now();
	cr_assert_gt(s0.released_bytes, 0);
	uint64_t off = 1234;
	shmc__pool_fail_reserve_after(0);
	ASSERT_ERR(shmc__alloc(A, (size_t)(n - 1) * (256 << 10), &off), SHMC_EFULL);
	shmc__pool_fail_reserve_after(-1);
	cr_assert_eq(off, 1234);
	shmc_arena_stats_t s1 = stats_now();
	cr_assert_eq(s1.pool_bytes, s0.pool_bytes);
	cr_assert_eq(s1.released_bytes, s0.released_bytes);
	cr_assert_eq(s1.blocks_in_use, s0.blocks_in_use);
	expect_clean("after the failure");
	ASSERT_OK(shmc__alloc(A, (size_t)(n - 1) * (256 << 10), &off));
	shmc__free(A, off);
	injection_off_teardown();
}

/* The arena check --------------------------------------------------------------------- */

static void free_some_slabs(void)
{
	size_t n = 4 * shmc__slab_blocks(class_of(100));
	free_n(alloc_n(100, n), n);
	shmc__alloc_trim(A);
}

Test(pages, the_check_counts_pool_pages_as_free_and_reports_a_damaged_run,
     .init = arena_setup, .fini = arena_teardown)
{
	free_some_slabs();
	shmc_arena_stats_t st = stats_now();
	shmc_check_report_t rep = check_now(0);
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.leaked_blocks + rep.leaked_pages, 0);
	cr_assert_eq(rep.pool_pages * SHMC__PAGE, st.pool_bytes);
	/* Damage the header of the first run: the check reports it; the
	 * next pool operation rebuilds the pool instead of following it. */
	uint64_t run = 0, brk = st.used;
	for (unsigned b = 0; b < SHMC__POOL_BINS && !run; b++)
		run = atomic_load(&A->hdr->pool.bins[b]);
	cr_assert_neq(run, 0);
	cr_assert_gt(shmc__pool_run(A, run, brk, NULL), 0);
	atomic_u64 *npages = (atomic_u64 *)(A->base + run + 8);
	uint64_t was = atomic_load(npages);
	atomic_store(npages, was + 1000000);
	rep = check_now(0);
	cr_assert_gt(rep.errors, 0, "a damaged run header went unnoticed");
	uint64_t off;
	ASSERT_OK(shmc__alloc(A, 2 << 20, &off));
	shmc__free(A, off);
	expect_clean("rebuilt");
}

/* Killed processes ----------------------------------------------------------------------- */

/* A child that takes the pool's lock, damages the bins and dies holding it. */
static int die_holding_the_pool_lock(void *p)
{
	(void)p;
	struct shmc__olock *l = (struct shmc__olock *)A->hdr->pool.lock;
	CHILD_CHECK(shmc__olock_acquire(A, l, -1) == SHMC__LOCKED);
	for (unsigned b = 0; b < SHMC__POOL_BINS; b++)
		atomic_store(&A->hdr->pool.bins[b], 0);
	atomic_store(&A->hdr->pool.free_pages, 12345);
	_exit(0);
}

Test(pages, a_pool_operation_killed_holding_the_lock_is_rebuilt_by_the_next,
     .init = arena_setup, .fini = arena_teardown)
{
	free_some_slabs();
	shmc_arena_stats_t s0 = stats_now();
	cr_assert_gt(s0.pool_bytes, 0);
	cr_assert_eq(wait_exit(fork_fn(die_holding_the_pool_lock, NULL), TEST_DEADLINE), 0);
	cr_assert_eq(shmc__pool_lock_state(A), -1);
	shmc_check_report_t rep = check_now(0);
	cr_assert_eq(rep.errors, 0, "a pool being changed is not damaged");
	cr_assert_eq(rep.pool_pages * SHMC__PAGE, s0.pool_bytes);
	/* The next operation takes the lock over and rebuilds the pool. */
	uint64_t off;
	ASSERT_OK(shmc__alloc(A, 16 << 10, &off));
	cr_assert_eq(shmc__pool_lock_state(A), 0);
	cr_assert_eq(stats_now().used, s0.used, "the rebuilt pool served the block");
	shmc__free(A, off);
	shmc__alloc_trim(A);
	cr_assert_eq(stats_now().pool_bytes, s0.pool_bytes);
	expect_clean("rebuilt");
}

/* A child that dies as a scavenger of class CLS with half the list parked
 * and half on the retiring chain. */
static int die_scavenging(void *p)
{
	unsigned cls = *(unsigned *)p;
	struct shmc__class_head *h = &A->hdr->classes[cls];
	CHILD_CHECK(shmc__olock_acquire(A, (struct shmc__olock *)h->scav_lock, 0) ==
		    SHMC__LOCKED);
	uint64_t first, mid;
	shmc__detach_all(h, &first);
	CHILD_CHECK(first != 0);
	atomic_store(&h->park, first);
	mid = first;
	for (int i = 0; i < 10; i++)
		mid = atomic_load(shmc__next_word(A, mid));
	uint64_t rest = atomic_load(shmc__next_word(A, mid));
	atomic_store(shmc__next_word(A, mid), 0);
	atomic_store(&h->retiring, rest);
	_exit(0);
}

Test(pages, a_killed_scavengers_parked_blocks_are_free_and_pushed_back,
     .init = arena_setup, .fini = arena_teardown)
{
	unsigned cls = class_of(200);
	size_t n = shmc__slab_blocks(cls) + 40, keep = 40;
	uint64_t *v = alloc_n(200, n);
	for (size_t i = keep; i < n; i++)
		shmc__free(A, v[i]);
	size_t nfree = (size_t)(stats_now().classes[cls].carved - stats_now().classes[cls].in_use);
	cr_assert_eq(wait_exit(fork_fn(die_scavenging, &cls), TEST_DEADLINE), 0);
	struct shmc__class_head *h = &A->hdr->classes[cls];
	cr_assert_eq(atomic_load((atomic_u64 *)&h->free.AO_val1), 0);
	cr_assert_neq(atomic_load(&h->park), 0);
	cr_assert_neq(atomic_load(&h->retiring), 0);
	shmc_check_report_t rep = check_now(0);
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.leaked_blocks, keep, "parked blocks are free, not leaked");
	cr_assert_geq(rep.free_blocks, nfree);
	/* The next scavenger takes the lock over and pushes them back. */
	shmc__slabs_scavenge(A, cls, true);
	cr_assert_eq(atomic_load(&h->park), 0);
	cr_assert_eq(atomic_load(&h->retiring), 0);
	expect_clean_holding(keep, "pushed back");
	uint64_t *w = alloc_n(200, n - keep);
	for (size_t i = 0; i < keep; i++)
		shmc__free(A, v[i]);
	free(v);
	free_n(w, n - keep);
	expect_clean("at the end");
}

/* Racing processes ------------------------------------------------------------------------ */

#define RACE_OPS 40000
#define RACE_LIVE 48

/* Allocate and free blocks of one class with a small live set, so that
 * slabs empty all the time; a block's tag is checked before it is freed:
 * a block handed out twice is found by whichever holder looks next. */
static int race_churn(int i, void *arg)
{
	(void)arg;
	if (i == 2) { /* the scavenger */
		for (int k = 0; k < RACE_OPS / 20; k++) {
			shmc__slabs_scavenge(A, class_of(64), k % 2);
			if (k % 64 == 0)
				shmc__pool_trim(A, k % 128 == 0);
		}
		return 0;
	}
	uint64_t live[RACE_LIVE] = {0}, tag[RACE_LIVE];
	uint64_t seed = mix64((uint64_t)getpid()) | 1;
	for (uint64_t op = 1; op <= RACE_OPS; op++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		unsigned j = (unsigned)(seed % RACE_LIVE);
		if (live[j]) {
			uint64_t *p = (uint64_t *)(A->base + live[j]);
			CHILD_CHECK(p[0] == tag[j] && p[1] == ~tag[j] && p[7] == tag[j]);
			shmc__free(A, live[j]);
			live[j] = 0;
		} else {
			CHILD_OK(shmc__alloc(A, 64, &live[j]));
			uint64_t *p = (uint64_t *)(A->base + live[j]);
			tag[j] = ((uint64_t)getpid() << 32) | op;
			p[0] = tag[j];
			p[1] = ~tag[j];
			p[7] = tag[j];
		}
		/* Now and then free everything: whole slabs empty at once. */
		if (op % 5000 == 0)
			for (unsigned k = 0; k < RACE_LIVE; k++)
				if (live[k]) {
					shmc__free(A, live[k]);
					live[k] = 0;
				}
	}
	for (unsigned k = 0; k < RACE_LIVE; k++)
		if (live[k])
			shmc__free(A, live[k]);
	return 0;
}

Test(pages, frees_allocations_and_scavenges_racing_never_hand_a_block_out_twice,
     .init = arena_setup, .fini = arena_teardown)
{
	/* Many free blocks of the class, in many slabs, for the racers. */
	size_t n = 8 * shmc__slab_blocks(class_of(64));
	uint64_t *v = alloc_n(64, n);
	for (size_t i = 0; i < n; i += 2)
		shmc__free(A, v[i]);
	shmc_arena_stats_t s0 = stats_now();
	cr_assert_eq(run_children(3, race_churn, NULL), 0);
	shmc_arena_reclaim(A); /* the children's slots */
	shmc_arena_stats_t s1 = stats_now();
	expect_clean_holding(n / 2, "after the race");
	cr_assert_eq(s1.blocks_in_use, s0.blocks_in_use, "%llu blocks in use, %llu before",
		     (unsigned long long)s1.blocks_in_use, (unsigned long long)s0.blocks_in_use);
	for (size_t i = 1; i < n; i += 2)
		shmc__free(A, v[i]);
	free(v);
	shmc__alloc_trim(A);
	expect_clean("at the end");
}
