/*
 * test_tcache.c -- a thread's cache of free blocks (lib/memory/tcache.c):
 * frees and allocations it serves touch no list; a full bin spills half of
 * itself in one push, a dry one takes half a bin in one pop; cached blocks
 * are free to the stats and the arena check; a thread that exits, and the
 * reaper of a process killed with a full cache, give the blocks back; a
 * scribbled cache is dropped, never followed.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <signal.h>

#include "arena/arena.h"
#include "memory/alloc.h"
#include "memory/tcache.h"

#define SHMC_TEST_WHITEBOX
#include "testutil.h"

TestSuite(tcache, .timeout = 300);

/* A bin's capacity, as tcache.h states it. */
static uint64_t cap_of(unsigned cls)
{
	uint64_t n = SHMC__TC_BYTES / shmc__class_size(cls);
	return n < SHMC__TC_MIN ? SHMC__TC_MIN : n > SHMC__TC_MAX ? SHMC__TC_MAX : n;
}

/* The tag of class CLS's list: it moves with every push and pop. */
static uint64_t list_tag(unsigned cls)
{
	return ld_relaxed((atomic_u64 *)&A->hdr->classes[cls].free.AO_val2);
}

static uint64_t class_in_use(unsigned cls)
{
	return ld_relaxed(&A->hdr->classes[cls].in_use);
}

static struct shmc__tcache *my_cache(void)
{
	cr_assert_not_null(shmc__epoch_rec(A));
	struct shmc__tcache *tc = shmc__tcache_mine(A);
	cr_assert_not_null(tc, "the thread has no cache");
	return tc;
}

static uint64_t *alloc_n(uint64_t size, size_t n)
{
	uint64_t *v = calloc(n, sizeof(uint64_t));
	cr_assert_not_null(v);
	for (size_t i = 0; i < n; i++)
		ASSERT_OK(shmc__alloc(A, size, &v[i]));
	return v;
}

static void free_n(uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shmc__free(A, v[i]);
	free(v);
}

/* The check's messages about the allocator's counters, counted. */
static void count_counter_notes(void *ctx, const char *msg)
{
	if (strstr(msg, " carved, ") != NULL)
		++*(int *)ctx;
}

static shmc_check_report_t check_now(int *counter_notes)
{
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, count_counter_notes, counter_notes));
	cr_assert_eq(rep.errors, 0);
	return rep;
}

Test(tcache, frees_and_allocations_it_serves_touch_no_list, .init = arena_setup,
     .fini = arena_teardown)
{
	my_cache();
	unsigned c = class_of(48);
	uint64_t off, again;
	ASSERT_OK(shmc__alloc(A, 48, &off));
	shmc__free(A, off);
	uint64_t tag = list_tag(c), in_use = class_in_use(c);
	for (int i = 0; i < 10000; i++) {
		ASSERT_OK(shmc__alloc(A, 48, &again));
		cr_assert_eq(again, off, "the block just freed is the next one handed out");
		shmc__free(A, again);
	}
	cr_assert_eq(list_tag(c), tag, "the class's list was touched");
	cr_assert_eq(class_in_use(c), in_use);
}

Test(tcache, a_full_bin_spills_half_of_it_onto_the_list_in_one_push, .init = arena_setup,
     .fini = arena_teardown)
{
	struct shmc__tcache *tc = my_cache();
	unsigned c = class_of(32);
	uint64_t cap = cap_of(c);
	size_t n = 2 * cap + 2;
	uint64_t *v = alloc_n(32, n);
	uint64_t n0 = ld_relaxed(&tc->bin[c].n), tag = list_tag(c), in_use = class_in_use(c);
	cr_assert_leq(n0, cap);
	size_t i = 0;
	for (; i < cap - n0; i++)
		shmc__free(A, v[i]);
	cr_assert_eq(ld_relaxed(&tc->bin[c].n), cap);
	cr_assert_eq(list_tag(c), tag, "a free into a bin with room pushed onto the list");
	shmc__free(A, v[i++]);
	cr_assert_eq(list_tag(c), tag + 1, "the spill took %llu pushes",
		     (unsigned long long)(list_tag(c) - tag));
	cr_assert_eq(ld_relaxed(&tc->bin[c].n), cap - cap / 2 + 1);
	cr_assert_eq(class_in_use(c), in_use - cap / 2, "the spilled blocks are counted off");
	for (; i < n; i++)
		shmc__free(A, v[i]);
	free(v);
}

Test(tcache, a_dry_bin_takes_half_a_bin_from_the_list_in_one_pop, .init = arena_setup,
     .fini = arena_teardown)
{
	struct shmc__tcache *tc = my_cache();
	unsigned c = class_of(96);
	uint64_t cap = cap_of(c);
	/* Freed, they fill the bin and put the rest on the list. */
	free_n(alloc_n(96, 4 * cap), 4 * cap);
	uint64_t cached = ld_relaxed(&tc->bin[c].n);
	cr_assert_geq(cached, cap / 2);
	uint64_t *v = alloc_n(96, cached);
	cr_assert_eq(ld_relaxed(&tc->bin[c].n), 0, "the bin is dry");
	uint64_t tag = list_tag(c), in_use = class_in_use(c), off;
	ASSERT_OK(shmc__alloc(A, 96, &off));
	cr_assert_eq(list_tag(c), tag + 1, "the fill took %llu pops",
		     (unsigned long long)(list_tag(c) - tag));
	cr_assert_eq(ld_relaxed(&tc->bin[c].n), cap / 2 - 1);
	cr_assert_eq(class_in_use(c), in_use + cap / 2);
	cr_assert_eq(shmc__block_size(A, off), shmc__class_size(c));
	/* Every block handed out is distinct. */
	for (size_t i = 0; i < cached; i++)
		cr_assert_neq(v[i], off);
	shmc__free(A, off);
	free_n(v, cached);
}

Test(tcache, cached_blocks_are_free_to_the_stats_and_the_check, .init = arena_setup,
     .fini = arena_teardown)
{
	struct shmc__tcache *tc = my_cache();
	unsigned c = class_of(64);
	shmc_arena_stats_t s0, s1;
	ASSERT_OK(shmc_arena_stats(A, &s0));
	int notes = 0;
	shmc_check_report_t r0 = check_now(&notes);
	uint64_t before = ld_relaxed(&tc->bin[c].n);
	free_n(alloc_n(64, 10), 10);
	cr_assert_geq(ld_relaxed(&tc->bin[c].n), before + 10 < cap_of(c) ? before + 10 : 1);
	ASSERT_OK(shmc_arena_stats(A, &s1));
	cr_assert_eq(s1.blocks_in_use, s0.blocks_in_use);
	cr_assert_eq(s1.bytes_in_use, s0.bytes_in_use);
	shmc_check_report_t r1 = check_now(&notes);
	cr_assert_eq(r1.leaked_blocks, 0);
	cr_assert_eq(r1.blocks, r0.blocks);
	cr_assert_eq(notes, 0, "the check found the class's counters wrong");
}

static void *cache_user(void *arg)
{
	struct shmc__rec **rec = arg;
	*rec = shmc__epoch_rec(A);
	if (*rec == NULL || shmc__tcache_mine(A) == NULL)
		return "no cache";
	uint64_t off[20];
	for (int i = 0; i < 20; i++)
		if (shmc__alloc(A, 80, &off[i]) != 0)
			return "alloc";
	for (int i = 0; i < 20; i++)
		shmc__free(A, off[i]);
	return ld_relaxed(&(*rec)->tcache_off) != 0 ? NULL : "no cache named by the record";
}

Test(tcache, a_thread_that_exits_gives_its_cache_back, .init = arena_setup,
     .fini = arena_teardown)
{
	unsigned c = class_of(80);
	uint64_t in_use = class_in_use(c);
	shmc_arena_stats_t s0, s1;
	ASSERT_OK(shmc_arena_stats(A, &s0));
	struct shmc__rec *rec = NULL;
	pthread_t t;
	void *err;
	cr_assert_eq(pthread_create(&t, NULL, cache_user, &rec), 0);
	cr_assert_eq(pthread_join(t, &err), 0);
	cr_assert_null(err, "%s", (char *)err);
	cr_assert_eq(ld_relaxed(&rec->tcache_off), 0, "an idle record keeps a cache");
	cr_assert_eq(class_in_use(c), in_use, "the cached blocks are not back on the list");
	ASSERT_OK(shmc_arena_stats(A, &s1));
	cr_assert_eq(s1.bytes_in_use, s0.bytes_in_use, "the cache itself is not freed");
	int notes = 0;
	cr_assert_eq(check_now(&notes).leaked_blocks, 0);
	cr_assert_eq(notes, 0);
}

static int fill_cache_and_die(int child, void *arg)
{
	(void)child;
	(void)arg;
	if (shmc__epoch_rec(A) == NULL || shmc__tcache_mine(A) == NULL)
		return 3;
	enum { N = 300 };
	uint64_t off[N];
	for (int i = 0; i < N; i++)
		if (shmc__alloc(A, 112, &off[i]) != 0)
			return 4;
	for (int i = 0; i < N; i++)
		shmc__free(A, off[i]);
	raise(SIGKILL);
	return 5;
}

Test(tcache, a_process_killed_with_a_full_cache_loses_no_block, .init = arena_setup,
     .fini = arena_teardown)
{
	unsigned c = class_of(112);
	/* Gated: a fork() reaps the dead it finds, and the child must not die
	 * before the parent's fork() is over. */
	cr_assert_eq(run_children_gated(1, fill_cache_and_die, NULL), 1);
	/* Before the reap its cached blocks are free, not leaked. */
	int notes = 0;
	shmc_check_report_t r = check_now(&notes);
	cr_assert_eq(r.dead_processes, 1, "%llu dead", (unsigned long long)r.dead_processes);
	cr_assert_eq(r.leaked_blocks, 0);
	cr_assert_eq(notes, 0);
	/* The reap puts them back on the list (the class counts them off)
	 * and frees the cache. */
	cr_assert_geq(shmc_arena_reclaim(A), 0);
	r = check_now(&notes);
	cr_assert_eq(r.dead_processes, 0);
	cr_assert_eq(r.leaked_blocks, 0);
	cr_assert_eq(notes, 0);
	uint64_t carved = ld_relaxed(&A->hdr->classes[c].carved);
	cr_assert_eq(class_in_use(c), 0, "%llu of %llu blocks still counted in use",
		     (unsigned long long)class_in_use(c), (unsigned long long)carved);
}

Test(tcache, a_scribbled_cache_is_dropped_not_followed, .init = arena_setup,
     .fini = arena_teardown)
{
	struct shmc__tcache *tc = my_cache();
	unsigned c = class_of(16);
	free_n(alloc_n(16, 4), 4);
	cr_assert_geq(ld_relaxed(&tc->bin[c].n), 4);
	/* A head that names no block: the next allocation drops the bin (its
	 * blocks leak) and is served by the list. */
	st_relaxed(&tc->bin[c].head, 8);
	uint64_t off;
	ASSERT_OK(shmc__alloc(A, 16, &off));
	cr_assert_eq(shmc__block_size(A, off), 16);
	uint64_t head = ld_relaxed(&tc->bin[c].head);
	cr_assert(head == 0 || shmc__block_size(A, head) == 16, "the bin starts at %#llx",
		  (unsigned long long)head);
	shmc__free(A, off);
	int notes = 0;
	shmc_check_report_t r = check_now(&notes);
	cr_assert_geq(r.leaked_blocks, 4);
	/* A record naming something else as its cache is an error. */
	struct shmc__rec *rec = shmc__epoch_rec(A);
	uint64_t mine = ld_relaxed(&rec->tcache_off);
	st_relaxed(&rec->tcache_off, mine + 16);
	cr_assert_eq(shmc_arena_check(A, 0, &r, NULL, NULL), SHMC_ECORRUPT);
	cr_assert_geq(r.errors, 1);
	st_relaxed(&rec->tcache_off, mine);
	/* The sweep frees what was dropped. */
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_SWEEP, &r, NULL, NULL));
	cr_assert_geq(r.swept_blocks, 4);
	cr_assert_eq(check_now(&notes).leaked_blocks, 0);
}

/* The check's messages that name a free list, counted. */
static void count_list_msgs(void *ctx, const char *msg)
{
	cr_log_info("check: %s", msg);
	if (strstr(msg, "free list") != NULL)
		++*(int *)ctx;
}

/* A link of a full bin scribbled to name a word of the header: the spill
 * pushes the blocks before it only (the list holds blocks of its class,
 * nothing else), and the next pop drops the rest. A head at the end of the
 * arena is not handed out. */
Test(tcache, a_scribbled_link_never_reaches_the_shared_list, .init = arena_setup,
     .fini = arena_teardown)
{
	struct shmc__tcache *tc = my_cache();
	unsigned c = class_of(512);
	uint64_t cap = cap_of(c);
	size_t n = 2 * cap;
	uint64_t *v = alloc_n(512, n);
	size_t i = 0;
	while (ld_relaxed(&tc->bin[c].n) < cap)
		shmc__free(A, v[i++]);
	/* The third block's link names the class heads. */
	uint64_t b = ld_relaxed(&tc->bin[c].head);
	for (int k = 0; k < 2; k++)
		b = ld_relaxed((atomic_u64 *)(A->base + b));
	st_relaxed((atomic_u64 *)(A->base + b), 64);
	uint64_t tag = list_tag(c);
	shmc__free(A, v[i++]); /* spills */
	cr_assert_eq(list_tag(c), tag + 1);
	/* The check sees the scribble where it is: in the bin. */
	shmc_check_report_t r;
	int list_msgs = 0;
	cr_assert_eq(shmc_arena_check(A, 0, &r, count_list_msgs, &list_msgs), SHMC_ECORRUPT);
	cr_assert_eq(list_msgs, 0, "the scribble reached the class's list");
	uint64_t off;
	for (size_t k = 0; k < 2 * cap; k++) { /* through the bin, then the list */
		ASSERT_OK(shmc__alloc(A, 512, &off));
		cr_assert_eq(shmc__block_size(A, off), 512, "handed out %#llx",
			     (unsigned long long)off);
		shmc__free(A, off);
	}
	st_relaxed(&tc->bin[c].head, A->capacity - 16);
	st_relaxed(&tc->bin[c].n, 1);
	ASSERT_OK(shmc__alloc(A, 512, &off));
	cr_assert_eq(shmc__block_size(A, off), 512);
	shmc__free(A, off);
	ASSERT_OK(shmc_arena_check(A, 0, &r, count_list_msgs, &list_msgs));
	cr_assert_eq(list_msgs, 0);
	for (; i < n; i++)
		shmc__free(A, v[i]);
	free(v);
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_SWEEP, &r, NULL, NULL));
}

/* A bin whose chain was scribbled into a cycle is emptied as the blocks it
 * holds: the class counts off those pushed back, not the steps the bounded
 * walk took round the cycle (which made its in-use count wrap). */
Test(tcache, emptying_a_bin_with_a_cycle_counts_off_only_its_blocks, .init = arena_setup,
     .fini = arena_teardown)
{
	struct shmc__tcache *tc = my_cache();
	unsigned c = class_of(48);
	uint64_t *v = alloc_n(48, 2);
	cr_assert_geq(shmc_arena_reclaim(A), 0); /* empties our bins */
	cr_assert_eq(ld_relaxed(&tc->bin[c].head), 0);
	shmc__free(A, v[0]);
	shmc__free(A, v[1]);
	free(v);
	uint64_t in_use = class_in_use(c);
	uint64_t b = ld_relaxed(&tc->bin[c].head);
	uint64_t a = ld_relaxed((atomic_u64 *)(A->base + b));
	cr_assert_eq(ld_relaxed((atomic_u64 *)(A->base + a)), 0);
	st_relaxed((atomic_u64 *)(A->base + a), b); /* b -> a -> b -> ... */
	cr_assert_geq(shmc_arena_reclaim(A), 0);
	cr_assert_eq(class_in_use(c), in_use - 2, "in use %llu, was %llu",
		     (unsigned long long)class_in_use(c), (unsigned long long)in_use);
	int notes = 0;
	cr_assert_eq(check_now(&notes).leaked_blocks, 0);
	cr_assert_eq(notes, 0);
}
