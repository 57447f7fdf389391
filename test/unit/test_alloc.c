/*
 * test_alloc.c -- the arena allocator (internal API, lib/alloc.h): block
 * sizes, alignment and disjointness from 1 byte to several MiB, per-class
 * statistics, frees from other processes, many processes at once, frees of
 * offsets that name no block, and the failure-injection hook.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "memory/alloc.h"
#include "arena/arena.h"
#include "containers/list.h"

#define SHMC_TEST_WHITEBOX /* inject_ok */
#include "testutil.h"

TestSuite(alloc, .timeout = 900); /* the GiB tests take minutes on a loaded machine */

/* A roomier arena than arena_setup's, with the same leak check. */
static void big_setup(void)
{
	A = test_arena((size_t)256 << 20);
	arena_warm(A);
	A_base = arena_in_use(A);
}

static void fini_injection_off(void)
{
	shmc__alloc_fail_after(-1);
	arena_teardown();
}

/* Helpers ---------------------------------------------------------------------- */

/* Index in shmc_arena_stats_t.classes[] where class C is counted. */
static unsigned stats_index(unsigned c)
{
	return c < SHMC_STATS_CLASSES ? c : SHMC_STATS_CLASSES - 1;
}

static shmc_arena_stats_t stats_now(void)
{
	shmc_arena_stats_t st;
	ASSERT_OK(shmc_arena_stats(A, &st));
	return st;
}

static void expect_same_counts(const shmc_arena_stats_t *a,
			       const shmc_arena_stats_t *b, const char *what)
{
	cr_assert_eq(a->blocks_in_use, b->blocks_in_use, "%s: blocks %llu -> %llu", what,
		     (unsigned long long)a->blocks_in_use,
		     (unsigned long long)b->blocks_in_use);
	cr_assert_eq(a->bytes_in_use, b->bytes_in_use, "%s", what);
	for (unsigned c = 0; c < SHMC_STATS_CLASSES; c++)
		cr_assert_eq(a->classes[c].in_use, b->classes[c].in_use,
			     "%s: class %u in_use %llu -> %llu", what, c,
			     (unsigned long long)a->classes[c].in_use,
			     (unsigned long long)b->classes[c].in_use);
}

/* Pattern: the first 8 bytes hold TAG, the rest a byte derived from it. */
static void fill(uint64_t off, uint64_t size, uint64_t tag)
{
	unsigned char *p = (unsigned char *)A->base + off;
	unsigned char b = (unsigned char)(tag * 131 + 7);
	if (size >= 8) {
		memcpy(p, &tag, 8);
		memset(p + 8, b, size - 8);
	} else {
		memset(p, b, size);
	}
}

static bool check(uint64_t off, uint64_t size, uint64_t tag)
{
	const unsigned char *p = (const unsigned char *)A->base + off;
	unsigned char b = (unsigned char)(tag * 131 + 7);
	size_t i = 0;
	if (size >= 8) {
		if (memcmp(p, &tag, 8) != 0)
			return false;
		i = 8;
	}
	for (; i < size; i++)
		if (p[i] != b)
			return false;
	return true;
}

struct blk {
	uint64_t off, size, bsize;
};

static int by_off(const void *x, const void *y)
{
	const struct blk *a = x, *b = y;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* Blocks never overlap, given their full block sizes. */
static void expect_disjoint(struct blk *b, size_t n)
{
	struct blk *s = malloc(n * sizeof(*s));
	memcpy(s, b, n * sizeof(*s));
	qsort(s, n, sizeof(*s), by_off);
	for (size_t i = 0; i + 1 < n; i++)
		cr_assert_leq(s[i].off + s[i].bsize, s[i + 1].off,
			      "block %#llx (+%llu) overlaps block %#llx",
			      (unsigned long long)s[i].off, (unsigned long long)s[i].bsize,
			      (unsigned long long)s[i + 1].off);
	free(s);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Size classes -------------------------------------------------------------------- */

Test(alloc, size_classes_are_sound)
{
	unsigned n = shmc__class_count();
	cr_assert_gt(n, SHMC_STATS_CLASSES);
	cr_assert_leq(n, SHMC__NCLASSES);
	for (unsigned c = 0; c < n; c++) {
		uint64_t s = shmc__class_size(c);
		cr_assert_eq(s % SHMC__ALIGN, 0, "class %u: %llu", c, (unsigned long long)s);
		if (c)
			cr_assert_gt(s, shmc__class_size(c - 1));
	}
	cr_assert_eq(shmc__class_size(0), 16);
	cr_assert_geq(shmc__class_size(n - 1), SHMC__MAX_BLOCK);
	cr_assert_eq(shmc__class_size(n), 0);
}

/* Sizes from 1 byte to several MiB -------------------------------------------------- */

Test(alloc, sizes_from_one_byte_to_several_mib, .init = big_setup, .fini = arena_teardown)
{
	struct blk b[200];
	size_t n = 0;
	for (uint64_t s = 1; s <= 64; s++)
		b[n++].size = s;
	for (int k = 7; k <= 22; k++) {
		uint64_t p = (uint64_t)1 << k;
		b[n++].size = p - 1;
		b[n++].size = p;
		b[n++].size = p + 1;
		b[n++].size = p + p / 2;
	}
	b[n++].size = ((uint64_t)6 << 20) + 5;
	cr_assert_leq(n, 200);
	shmc_arena_stats_t s0 = stats_now();
	for (size_t i = 0; i < n; i++) {
		ASSERT_OK(shmc__alloc(A, b[i].size, &b[i].off));
		b[i].bsize = shmc__block_size(A, b[i].off);
		cr_assert_eq(b[i].off % 16, 0, "size %llu at %#llx",
			     (unsigned long long)b[i].size, (unsigned long long)b[i].off);
		cr_assert_geq(b[i].bsize, b[i].size, "size %llu got a block of %llu",
			      (unsigned long long)b[i].size, (unsigned long long)b[i].bsize);
		cr_assert_eq(b[i].bsize, shmc__class_size(class_of(b[i].size)));
		cr_assert_geq(b[i].off, A->hdr->data_off);
		cr_assert_leq(b[i].off + b[i].bsize, stats_now().used);
		fill(b[i].off, b[i].bsize, i + 1); /* the whole block is usable */
	}
	for (size_t i = 0; i < n; i++)
		cr_assert(check(b[i].off, b[i].bsize, i + 1), "block %zu (size %llu) damaged",
			  i, (unsigned long long)b[i].size);
	expect_disjoint(b, n);
	shmc_arena_stats_t s1 = stats_now();
	cr_assert_eq(s1.blocks_in_use, s0.blocks_in_use + n);
	cr_assert_gt(s1.committed, s0.committed + ((size_t)30 << 20));
	/* Free in a scrambled order. */
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (size_t i = n; i > 1; i--) {
		size_t j = xorshift(&seed) % i;
		struct blk t = b[i - 1];
		b[i - 1] = b[j];
		b[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		shmc__free(A, b[i].off);
	shmc_arena_stats_t s2 = stats_now();
	expect_same_counts(&s0, &s2, "after freeing all");
}

Test(alloc, freed_blocks_are_reused, .init = arena_setup, .fini = arena_teardown)
{
	uint64_t off[3], again[3];
	const uint64_t sizes[3] = {40, 5000, 300000};
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc__alloc(A, sizes[i], &off[i]));
	size_t used = stats_now().used;
	for (int i = 0; i < 3; i++)
		shmc__free(A, off[i]);
	for (int i = 0; i < 3; i++) {
		ASSERT_OK(shmc__alloc(A, sizes[i], &again[i]));
		cr_assert_eq(again[i], off[i], "size %llu not reused",
			     (unsigned long long)sizes[i]);
	}
	cr_assert_eq(stats_now().used, used, "carved anew instead of reusing");
	for (int i = 0; i < 3; i++)
		shmc__free(A, again[i]);
}

Test(alloc, too_large_requests_fail_with_efull, .init = arena_setup, .fini = arena_teardown)
{
	shmc_arena_stats_t s0 = stats_now();
	uint64_t off = 12345;
	ASSERT_ERR(shmc__alloc(A, SHMC__MAX_BLOCK + 1, &off), SHMC_EFULL);
	ASSERT_ERR(shmc__alloc(A, UINT64_MAX, &off), SHMC_EFULL);
	ASSERT_ERR(shmc__alloc(A, A->capacity, &off), SHMC_EFULL);
	ASSERT_ERR(shmc__alloc(A, A->capacity - A->hdr->data_off, &off), SHMC_EFULL);
	ASSERT_ERR(shmc__alloc(A, (uint64_t)1 << 36, &off), SHMC_EFULL);
	cr_assert_eq(off, 12345, "a failed alloc wrote its out-parameter");
	shmc_arena_stats_t s1 = stats_now();
	expect_same_counts(&s0, &s1, "failed allocs");
	cr_assert_eq(s1.used, s0.used);
	/* What remains still serves a sensible request. */
	ASSERT_OK(shmc__alloc(A, 1 << 20, &off));
	shmc__free(A, off);
}

/* Stats per class ---------------------------------------------------------------------- */

Test(alloc, stats_count_each_class, .init = arena_setup, .fini = arena_teardown)
{
	const uint64_t sizes[] = {1, 17, 48, 100, 1000, 14336, 14337, 16384, 20000,
				  100000, 131072, (uint64_t)1 << 20, 3 << 20};
	unsigned n = shmc__class_count();
	shmc_arena_stats_t s0 = stats_now();
	cr_assert_eq(s0.nclasses, n < SHMC_STATS_CLASSES ? n : SHMC_STATS_CLASSES);
	for (unsigned c = 0; c < SHMC_STATS_CLASSES; c++)
		cr_assert_eq(s0.classes[c].block_size, shmc__class_size(c), "class %u", c);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned c = class_of(sizes[i]), k = stats_index(c);
		uint64_t csize = shmc__class_size(c);
		shmc_arena_stats_t before = stats_now();
		uint64_t off[5];
		for (int j = 0; j < 5; j++)
			ASSERT_OK(shmc__alloc(A, sizes[i], &off[j]));
		shmc_arena_stats_t st = stats_now();
		cr_assert_eq(st.classes[k].in_use, before.classes[k].in_use + 5,
			     "size %llu, class %u", (unsigned long long)sizes[i], c);
		cr_assert_geq(st.classes[k].carved, st.classes[k].in_use);
		cr_assert_eq(st.blocks_in_use, before.blocks_in_use + 5);
		cr_assert_eq(st.bytes_in_use, before.bytes_in_use + 5 * csize,
			     "size %llu: bytes %zu -> %zu, class size %llu",
			     (unsigned long long)sizes[i], before.bytes_in_use,
			     st.bytes_in_use, (unsigned long long)csize);
		for (unsigned o = 0; o < SHMC_STATS_CLASSES; o++)
			if (o != k)
				cr_assert_eq(st.classes[o].in_use, before.classes[o].in_use);
		for (int j = 0; j < 5; j++)
			shmc__free(A, off[j]);
		st = stats_now();
		expect_same_counts(&before, &st, "after free");
		/* A large block's pages go back to the page pool when it is
		 * freed (past its class's small cache); a small class's slabs
		 * when enough of them are empty. */
		cr_assert_geq(st.classes[k].carved, st.classes[k].in_use);
		if (!shmc__class_is_small(c) && k == c)
			cr_assert_leq(st.classes[k].carved, before.classes[k].carved +
				      SHMC__LARGE_CACHE_BYTES / csize + 1);
	}
}

/* Other processes ---------------------------------------------------------------------- */

struct xfree {
	uint64_t off, size;
	int fd;
};

static int free_child(int i, void *arg)
{
	(void)i;
	struct xfree *x = arg;
	CHILD_CHECK(check(x->off, x->size, 0xabcdef));
	shmc__free(A, x->off);
	return 0;
}

static int alloc_child(int i, void *arg)
{
	(void)i;
	struct xfree *x = arg;
	uint64_t off;
	CHILD_OK(shmc__alloc(A, x->size, &off));
	fill(off, x->size, 0x123456);
	CHILD_CHECK(write(x->fd, &off, sizeof(off)) == sizeof(off));
	return 0;
}

Test(alloc, a_block_freed_by_another_process, .init = arena_setup, .fini = arena_teardown)
{
	/* We allocate, a child frees. */
	struct xfree x = {.size = 200};
	unsigned k = stats_index(class_of(x.size));
	shmc_arena_stats_t s0 = stats_now();
	ASSERT_OK(shmc__alloc(A, x.size, &x.off));
	fill(x.off, x.size, 0xabcdef);
	cr_assert_eq(stats_now().classes[k].in_use, s0.classes[k].in_use + 1);
	cr_assert_eq(run_children(1, free_child, &x), 0);
	cr_assert_eq(stats_now().classes[k].in_use, s0.classes[k].in_use);
	uint64_t again;
	ASSERT_OK(shmc__alloc(A, x.size, &again));
	cr_assert_eq(again, x.off, "the block freed by the child was not reused");
	shmc__free(A, again);

	/* A child allocates, we free. */
	int p[2];
	cr_assert(pipe(p) == 0);
	struct xfree y = {.size = 3000, .fd = p[1]};
	k = stats_index(class_of(y.size));
	uint64_t in_use = stats_now().classes[k].in_use;
	cr_assert_eq(run_children(1, alloc_child, &y), 0);
	cr_assert(read(p[0], &y.off, sizeof(y.off)) == sizeof(y.off));
	close(p[0]);
	close(p[1]);
	cr_assert_eq(stats_now().classes[k].in_use, in_use + 1);
	cr_assert_geq(shmc__block_size(A, y.off), y.size);
	cr_assert(check(y.off, y.size, 0x123456));
	shmc__free(A, y.off);
	cr_assert_eq(stats_now().classes[k].in_use, in_use);
}

#define NSLOTS 64
#define NOPS 30000

static int churn_child(int i, void *arg)
{
	(void)arg;
	struct blk slot[NSLOTS];
	uint64_t tag[NSLOTS];
	memset(slot, 0, sizeof(slot));
	uint64_t seed = 0x2545f4914f6cdd1dull * (uint64_t)(i + 1);
	for (uint64_t op = 1; op <= NOPS; op++) {
		unsigned j = (unsigned)(xorshift(&seed) % NSLOTS);
		if (slot[j].off) {
			CHILD_CHECK(check(slot[j].off, slot[j].size, tag[j]));
			shmc__free(A, slot[j].off);
			slot[j].off = 0;
			continue;
		}
		uint64_t r = xorshift(&seed) % 1000, size;
		if (r < 850)
			size = 1 + xorshift(&seed) % 1024;
		else if (r < 985)
			size = 1 + xorshift(&seed) % 32768;
		else
			size = 1 + xorshift(&seed) % 300000;
		CHILD_OK(shmc__alloc(A, size, &slot[j].off));
		CHILD_CHECK(slot[j].off % 16 == 0);
		CHILD_CHECK(shmc__block_size(A, slot[j].off) >= size);
		slot[j].size = size;
		tag[j] = ((uint64_t)i << 56) | op;
		fill(slot[j].off, size, tag[j]);
	}
	for (unsigned j = 0; j < NSLOTS; j++)
		if (slot[j].off) {
			CHILD_CHECK(check(slot[j].off, slot[j].size, tag[j]));
			shmc__free(A, slot[j].off);
		}
	return 0;
}

Test(alloc, eight_processes_allocate_and_free_at_once, .init = big_setup,
     .fini = arena_teardown)
{
	shmc_arena_stats_t s0 = stats_now();
	cr_assert_eq(run_children(8, churn_child, NULL), 0);
	cr_assert_eq(arena_in_use(A), A_base);
	shmc_arena_stats_t s1 = stats_now();
	expect_same_counts(&s0, &s1, "after the children");
	for (unsigned c = 0; c < SHMC_STATS_CLASSES; c++)
		cr_assert_leq(s1.classes[c].in_use, s1.classes[c].carved);
}

/* Offsets that name no block -------------------------------------------------------- */

static void expect_ignored(uint64_t off, const char *what)
{
	shmc_arena_stats_t s0 = stats_now();
	cr_assert_eq(shmc__block_size(A, off), 0, "%s (%#llx) reads as a block", what,
		     (unsigned long long)off);
	shmc__free(A, off);
	shmc_arena_stats_t s1 = stats_now();
	expect_same_counts(&s0, &s1, what);
}

Test(alloc, frees_of_invalid_offsets_are_ignored, .init = arena_setup,
     .fini = arena_teardown)
{
	uint64_t o48, o100, big, page;
	ASSERT_OK(shmc__alloc(A, 48, &o48));
	ASSERT_OK(shmc__alloc(A, 100, &o100));
	ASSERT_OK(shmc__alloc(A, (64 << 10) + 1, &big));
	ASSERT_OK(shmc__alloc(A, 8192, &page));
	fill(o48, 48, 1);
	fill(o100, 100, 2);
	fill(big, (64 << 10) + 1, 3);
	fill(page, 8192, 4);
	uint64_t cap = A->capacity, brk = stats_now().used;

	expect_ignored(0, "offset 0");
	expect_ignored(16, "the header");
	expect_ignored(A->hdr->procs_off, "the process slots");
	expect_ignored(A->hdr->pagemap_off, "the pagemap");
	expect_ignored(A->hdr->data_off - 16, "just below the data");
	expect_ignored(o48 + 8, "misaligned");
	expect_ignored(o48 + 1, "misaligned by 1");
	expect_ignored(o48 + 16, "inside a 48-byte block");
	expect_ignored(o48 + 32, "inside a 48-byte block");
	expect_ignored(o100 + 64, "inside a 112-byte block");
	expect_ignored(big + 16, "inside a large block");
	expect_ignored(big + 4096, "a large block's second page");
	expect_ignored(big + (64 << 10), "a large block's last page");
	expect_ignored(page + 4096, "an 8 KiB block's second page");
	expect_ignored(ALIGN_UP(brk, 16), "the brk");
	expect_ignored(ALIGN_UP(brk, 16) + 4096, "past the brk");
	expect_ignored(cap - 16, "the arena's end");
	expect_ignored(cap, "the capacity");
	expect_ignored(cap + 16, "past the capacity");
	expect_ignored(UINT64_MAX & ~(uint64_t)15, "the largest offset");
	expect_ignored(UINT64_MAX, "UINT64_MAX");

	/* Nothing was damaged or put on a free list: new blocks of the same
	 * classes are disjoint from the live ones. */
	cr_assert(check(o48, 48, 1) && check(o100, 100, 2) &&
		  check(big, (64 << 10) + 1, 3) && check(page, 8192, 4));
	struct blk b[64];
	size_t n = 0;
	b[n++] = (struct blk){o48, 48, shmc__block_size(A, o48)};
	b[n++] = (struct blk){o100, 100, shmc__block_size(A, o100)};
	b[n++] = (struct blk){big, 0, shmc__block_size(A, big)};
	b[n++] = (struct blk){page, 0, shmc__block_size(A, page)};
	const uint64_t sizes[] = {48, 100, (64 << 10) + 1, 8192};
	for (int r = 0; r < 12; r++)
		for (int s = 0; s < 4; s++) {
			ASSERT_OK(shmc__alloc(A, sizes[s], &b[n].off));
			b[n].bsize = shmc__block_size(A, b[n].off);
			n++;
		}
	expect_disjoint(b, n);
	for (size_t i = 0; i < n; i++)
		shmc__free(A, b[i].off);
}

/* A slab of a small class is 64 KiB; when the class size does not divide it,
 * the bytes past its last whole block are no block, though they sit at a
 * multiple of the class size from the slab's start. */
Test(alloc, the_tail_of_a_slab_is_not_a_block, .init = arena_setup,
     .fini = arena_teardown)
{
	const uint64_t slab = (uint64_t)SHMC__SLAB_PAGES << SHMC__PAGE_SHIFT;
	const uint16_t *pm = (const uint16_t *)shmc__pagemap(A);
	int tested = 0, bad = 0;
	char first[96] = "";
	for (unsigned c = 0; shmc__class_size(c) < 16384; c++) {
		uint64_t size = shmc__class_size(c);
		uint64_t nblocks = slab / size;
		if (slab - nblocks * size < 16)
			continue; /* no room for a tail */
		uint64_t off;
		ASSERT_OK(shmc__alloc(A, size, &off));
		uint64_t p = off >> SHMC__PAGE_SHIFT;
		while (!(pm[p] & SHMC__PM_RUN_START))
			p--;
		uint64_t tail = (p << SHMC__PAGE_SHIFT) + nblocks * size;
		tested++;
		if (shmc__block_size(A, tail) != 0) {
			/* Freeing it would corrupt the free list: don't. */
			if (bad++ == 0)
				snprintf(first, sizeof(first), "%llu-byte class, tail at +%llu",
					 (unsigned long long)size,
					 (unsigned long long)(nblocks * size));
		} else {
			char what[64];
			snprintf(what, sizeof(what), "the tail of a %llu-byte slab",
				 (unsigned long long)size);
			expect_ignored(tail, what);
		}
		shmc__free(A, off);
	}
	cr_assert_gt(tested, 10);
	cr_assert_eq(bad, 0, "%d of %d slab tails read as blocks (first: %s)", bad,
		     tested, first);
}

/* A slab's pages name their place in it (the pagemap's index bits), so that
 * a block's slab is found in one step: every block of a slab spread over
 * its 16 pages is found, no offset between blocks is, and a page whose
 * index was scribbled to name a page that starts no slab holds no block
 * (freeing one changes nothing) until it is mended. */
Test(alloc, a_slab_page_finds_its_slab_by_its_index, .init = arena_setup,
     .fini = arena_teardown)
{
	const uint64_t size = 1024; /* 64 to a slab, 4 to a page */
	enum { N = 64 };
	uint64_t off[N];
	for (int i = 0; i < N; i++)
		ASSERT_OK(shmc__alloc(A, size, &off[i]));
	uint16_t *pm = (uint16_t *)shmc__pagemap(A);
	/* The slab of the first block, and its 16 pages' entries. */
	uint64_t start = off[0] >> SHMC__PAGE_SHIFT;
	while (!(pm[start] & SHMC__PM_RUN_START))
		start--;
	int found = 0;
	for (unsigned i = 0; i < SHMC__SLAB_PAGES; i++) {
		uint16_t e = pm[start + i];
		cr_assert_eq((e & SHMC__PM_SLAB_IDX_MASK) >> SHMC__PM_SLAB_IDX_SHIFT, i,
			     "page %u of the slab says %u", i,
			     (e & SHMC__PM_SLAB_IDX_MASK) >> SHMC__PM_SLAB_IDX_SHIFT);
		for (uint64_t b = 0; b < SHMC__PAGE; b += 16) {
			uint64_t o = ((start + i) << SHMC__PAGE_SHIFT) + b;
			uint64_t want = b % size == 0 ? size : 0;
			cr_assert_eq(shmc__block_size(A, o), want, "+%llu on page %u: %llu",
				     (unsigned long long)b, i,
				     (unsigned long long)shmc__block_size(A, o));
			found += want != 0;
		}
	}
	cr_assert_eq(found, N);
	/* Page 5 scribbled to say 2: its blocks are no blocks. */
	uint16_t was = pm[start + 5];
	pm[start + 5] = (uint16_t)((was & ~SHMC__PM_SLAB_IDX_MASK) | 2u << SHMC__PM_SLAB_IDX_SHIFT);
	uint64_t victim = ((start + 5) << SHMC__PAGE_SHIFT) + size;
	expect_ignored(victim, "a block on a page whose index was scribbled");
	/* And 0 (a page that says it starts the slab, without RUN_START). */
	pm[start + 5] = (uint16_t)(was & ~SHMC__PM_SLAB_IDX_MASK);
	expect_ignored(victim, "a block on a page whose index was zeroed");
	pm[start + 5] = was;
	cr_assert_eq(shmc__block_size(A, victim), size);
	for (int i = 0; i < N; i++)
		shmc__free(A, off[i]);
}

/* An index that names a page below the data (below page 0, unsigned) is
 * scribbled: no block, and no read before the pagemap. An arena of one
 * process and one thread starts its data a few pages in, so that a page
 * just past it with an index of 15 would wrap. */
Test(alloc, a_slab_index_reaching_below_the_data_is_no_block)
{
	shmc_arena_options_t o = {.capacity = 4 << 20, .max_procs = 1, .max_threads = 1};
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_create_anon(&o, &a));
	uint64_t d = a->data_off >> SHMC__PAGE_SHIFT;
	cr_assert_lt(d, 14, "the data starts at page %llu", (unsigned long long)d);
	uint16_t *pm = (uint16_t *)shmc__pagemap(a);
	uint64_t p = d + 1;
	uint16_t was = pm[p];
	/* Whatever it held: now a page of the 16-byte class's slab that
	 * starts 15 pages back, below page 0. (Read there, the pointer
	 * overflows: UBSan aborts the test.) */
	pm[p] = (uint16_t)(1u | SHMC__PM_SLAB_IDX_MASK);
	cr_assert_eq(shmc__block_size(a, p << SHMC__PAGE_SHIFT), 0);
	cr_assert_eq(shmc__block_class(a, (p << SHMC__PAGE_SHIFT) + 32), -1);
	pm[p] = was;
	shmc_arena_close(a);
}

/* Growing in place -------------------------------------------------------------------------- */

/* The first finding of a check, or of the kind that says a class's
 * counters disagree with what the pagemap and the lists hold. */
struct findings {
	bool counters_only;
	char first[256];
};

static void first_finding(void *ctx, const char *message)
{
	struct findings *f = ctx;
	if (f->first[0] == '\0' && (!f->counters_only || strstr(message, " counts ")))
		snprintf(f->first, sizeof(f->first), "%s", message);
}

/* No error, and no finding at all (COUNTERS_ONLY: none about a class's
 * counters, for raw blocks, which the check calls unreachable). */
static void expect_check_clean(shmc_arena_t *a, bool counters_only, const char *when)
{
	shmc_check_report_t rep;
	struct findings f = {counters_only, ""};
	ASSERT_OK(shmc_arena_check(a, 0, &rep, first_finding, &f));
	cr_assert_eq(rep.errors, 0, "%s: %s", when, f.first);
	cr_assert_eq(f.first[0], '\0', "%s: %s", when, f.first);
}

/* A large block at the break grows where it is: same offset, its bytes
 * kept, its new size usable, the break moved by the pages added, the
 * counters moved from one class to the other. A block with anything after
 * it, or a small one, does not (nothing changes). */
Test(alloc, a_large_block_at_the_break_grows_in_place, .init = arena_setup,
     .fini = arena_teardown)
{
	/* Until one is carved at the break (the pool may have runs). */
	uint64_t off, other, before[64];
	int nbefore = 0;
	for (;;) {
		ASSERT_OK(shmc__alloc(A, 40000, &off));
		if (off + shmc__block_size(A, off) == ld_relaxed(&A->hdr->brk))
			break;
		cr_assert_lt(nbefore, 64, "never carved at the break");
		before[nbefore++] = off;
	}
	uint64_t size = shmc__block_size(A, off);
	fill(off, size, 7);
	shmc_arena_stats_t s0 = stats_now();
	ASSERT_OK(shmc__alloc_grow(A, off, 100000));
	uint64_t grown = shmc__block_size(A, off);
	cr_assert_eq(grown, shmc__alloc_usable(100000));
	cr_assert_eq(off + grown, ld_relaxed(&A->hdr->brk));
	cr_assert(check(off, size, 7), "the block's bytes moved or changed");
	fill(off, grown, 8); /* all of it is usable */
	shmc_arena_stats_t s1 = stats_now();
	cr_assert_eq(s1.blocks_in_use, s0.blocks_in_use);
	cr_assert_eq(s1.bytes_in_use, s0.bytes_in_use + (grown - size));
	expect_check_clean(A, true, "after a growth");
	/* Not at the break any more: nothing changes. */
	ASSERT_OK(shmc__alloc(A, 40000, &other));
	ASSERT_ERR(shmc__alloc_grow(A, off, 200000), SHMC_EFULL);
	cr_assert_eq(shmc__block_size(A, off), grown);
	cr_assert(check(off, grown, 8));
	/* Already big enough, small, or no block: nothing either. */
	ASSERT_ERR(shmc__alloc_grow(A, other, 1000), SHMC_EFULL);
	uint64_t small;
	ASSERT_OK(shmc__alloc(A, 100, &small));
	ASSERT_ERR(shmc__alloc_grow(A, small, 50000), SHMC_EFULL);
	ASSERT_ERR(shmc__alloc_grow(A, off + 16, 500000), SHMC_EFULL);
	cr_assert_eq(shmc__block_size(A, small), shmc__alloc_usable(100));
	shmc__free(A, small);
	shmc__free(A, other);
	shmc__free(A, off);
	while (nbefore > 0)
		shmc__free(A, before[--nbefore]);
	expect_check_clean(A, true, "after freeing them");
}

/* A list appended past its array grows the array where it is when the
 * array ends at the break: its offset stays, its items stay, and nothing
 * is retired for it. */
Test(alloc, a_list_appended_at_the_break_grows_its_array_in_place, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	struct shmc__obj *o = shmc__obj_of(ls);
	int in_place = 0, copies = 0;
	uint64_t last = 0, last_size = 0;
	for (int64_t i = 0; i < 60000; i++) {
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
		uint64_t now = ld_relaxed(&SHMC__BODY(o, struct shmc__list_body)->arr_off);
		uint64_t size = shmc__block_size(A, now);
		cr_assert_neq(size, 0);
		if (now == last && size != last_size)
			in_place++;
		else if (now != last)
			copies++;
		last = now;
		last_size = size;
	}
	cr_assert_geq(in_place, 2, "%d growths in place, %d copies", in_place, copies);
	/* A writer killed after growing the block, before storing cap: the
	 * next append that finds the array full takes that room, and grows
	 * nothing more. */
	struct shmc__list_arr *arr = (struct shmc__list_arr *)(A->base + last);
	uint64_t len = shmc_list_len(ls);
	while (len < arr->cap)
		ASSERT_OK(shmc_list_append(ls, shmc_int((int64_t)len++)));
	cr_assert_eq(last + shmc__block_size(A, last), ld_relaxed(&A->hdr->brk),
		     "the array grew in place last: it ends at the break");
	ASSERT_OK(shmc__alloc_grow(A, last, shmc__block_size(A, last) * 2));
	uint64_t brk = ld_relaxed(&A->hdr->brk), size = shmc__block_size(A, last);
	ASSERT_OK(shmc_list_append(ls, shmc_int((int64_t)len++)));
	cr_assert_eq(ld_relaxed(&SHMC__BODY(o, struct shmc__list_body)->arr_off), last);
	cr_assert_eq(ld_relaxed(&A->hdr->brk), brk);
	cr_assert_eq(shmc__block_size(A, last), size);
	cr_assert_eq(arr->cap, (size - sizeof(*arr)) / sizeof(uint64_t));
	for (int64_t i = 0; i < (int64_t)shmc_list_len(ls); i += 997) {
		shmc_value_t v;
		ASSERT_OK(shmc_list_get(ls, i, &v));
		cr_assert_eq(v.i, i);
	}
	expect_check_clean(A, false, "after the appends");
	shmc_obj_release(ls);
}

/* Another process reads the list while its array grows in place: every
 * item it reads below the length it read is the one appended there (no
 * read past the block, none of a capacity older than the length). */
enum { GROW_N = 200000 };

struct grow_ctx {
	shmc_obj_t *ls;
};

static int grow_child(int i, void *arg)
{
	struct grow_ctx *g = arg;
	if (i == 0) { /* the appender */
		struct shmc__obj *o = shmc__obj_of(g->ls);
		uint64_t last = 0, last_size = 0;
		int in_place = 0;
		for (int64_t k = 0; k < GROW_N; k++) {
			CHILD_OK(shmc_list_append(g->ls, shmc_int(k)));
			uint64_t off = ld_relaxed(&SHMC__BODY(o, struct shmc__list_body)->arr_off);
			uint64_t size = shmc__block_size(A, off);
			in_place += off == last && size != last_size;
			last = off;
			last_size = size;
		}
		CHILD_CHECK(in_place >= 2);
		return 0;
	}
	/* The reader: until the list is complete, or a minute has passed. */
	uint64_t seed = 0x2545f4914f6cdd1dull, reads = 0;
	double end = now_s() + 60;
	for (;;) {
		int64_t n = shmc_list_len(g->ls);
		CHILD_CHECK(n >= 0 && n <= GROW_N);
		if (n > 0) {
			int64_t k[2] = {n - 1, (int64_t)(xorshift(&seed) % (uint64_t)n)};
			for (int j = 0; j < 2; j++) {
				shmc_value_t v;
				CHILD_OK(shmc_list_get(g->ls, k[j], &v));
				CHILD_CHECK(v.type == SHMC_INT && v.i == k[j]);
				reads++;
			}
		}
		if (n == GROW_N)
			break;
		CHILD_CHECK(now_s() < end);
	}
	CHILD_CHECK(reads > 0);
	return 0;
}

Test(alloc, a_process_reads_a_list_while_its_array_grows_in_place, .init = arena_setup,
     .fini = arena_teardown)
{
	struct grow_ctx g;
	ASSERT_OK(shmc_list_new(A, &g.ls));
	cr_assert_eq(run_children(2, grow_child, &g), 0);
	cr_assert_eq(shmc_list_len(g.ls), GROW_N);
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, NULL, NULL, NULL)); /* the children's slots */
	expect_check_clean(A, false, "after the appends");
	shmc_obj_release(g.ls);
}

/* Failure injection ----------------------------------------------------------------------- */

Test(alloc, fail_after_n_fails_the_next_plus_one_once, .init = arena_setup,
     .fini = fini_injection_off)
{
	for (long n = 0; n < 5; n++) {
		uint64_t off[8];
		shmc__alloc_fail_after(n);
		for (long i = 0; i < n; i++)
			ASSERT_OK(shmc__alloc(A, 64, &off[i]));
		shmc_arena_stats_t s0 = stats_now();
		uint64_t bad = 777;
		ASSERT_ERR(shmc__alloc(A, 64, &bad), SHMC_EFULL);
		cr_assert_eq(bad, 777);
		shmc_arena_stats_t s1 = stats_now();
		expect_same_counts(&s0, &s1, "an injected failure");
		/* Once: what follows succeeds. */
		for (long i = n; i < n + 3; i++)
			ASSERT_OK(shmc__alloc(A, 64, &off[i]));
		for (long i = 0; i < n + 3; i++)
			shmc__free(A, off[i]);
	}
	/* A negative count switches injection off. */
	shmc__alloc_fail_after(1);
	shmc__alloc_fail_after(-1);
	uint64_t off[10];
	for (int i = 0; i < 10; i++)
		ASSERT_OK(shmc__alloc(A, 1000, &off[i]));
	for (int i = 0; i < 10; i++)
		shmc__free(A, off[i]);
}

/* An extend, then a dict store, of values built afresh for each call. */
struct grow_op {
	shmc_obj_t *ls, *d;
	const char *big;
	int calls;
};

static int do_extend(void *p)
{
	struct grow_op *c = p;
	shmc_value_t items = shmc_plist_of(3, shmc_str("one string"), shmc_str(c->big),
					   shmc_plist_of(1, shmc_str(c->big)));
	int rc = shmc_list_extend(c->ls, items);
	shmc_value_free(&items);
	return rc;
}

static int do_dict_set(void *p)
{
	struct grow_op *c = p;
	shmc_value_t val = shmc_tuple_of(2, shmc_str(c->big), shmc_int(c->calls));
	int rc = shmc_dict_set(c->d, shmc_int(c->calls++), val);
	shmc_value_free(&val);
	return rc;
}

static char *list_state(void *p)
{
	struct grow_op *c = p;
	return obj_state(c->ls, "length", shmc_list_len(c->ls));
}

static char *dict_state(void *p)
{
	struct grow_op *c = p;
	return obj_state(c->d, "length", shmc_dict_len(c->d));
}

/* Every allocation an operation makes may fail: each failure leaves the
 * container exactly as it was, and leaks nothing (testutil.h). */
Test(alloc, injected_failures_leave_containers_unchanged, .init = arena_setup,
     .fini = fini_injection_off)
{
	struct grow_op c = {0};
	ASSERT_OK(shmc_list_new(A, &c.ls));
	ASSERT_OK(shmc_dict_new(A, &c.d));
	for (int i = 0; i < 4; i++)
		ASSERT_OK(shmc_list_append(c.ls, shmc_int(i)));
	ASSERT_OK(shmc_dict_set(c.d, shmc_str("k"), shmc_str("v")));
	char big[3000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	c.big = big;

	expect_str(c.ls, "[0, 1, 2, 3]");
	int n = inject_ok(A, "extend", 100, do_extend, list_state, &c);
	cr_assert_gt(n, 1, "extend made only %d allocations", n);
	cr_assert_eq(shmc_list_len(c.ls), 7);

	expect_str(c.d, "{'k': 'v'}");
	inject_ok(A, "dict set", 100, do_dict_set, dict_state, &c);
	cr_assert_eq(shmc_dict_len(c.d), 2);
	shmc_obj_release(c.ls);
	shmc_obj_release(c.d);
}

/* Memory flows back ---------------------------------------------------------------- */

/* The bytes of shared memory process PID has mapped in (RssShmem: pages
 * of the arena file it has touched and that are still there). */
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

/* Allocate blocks of SIZE until SHMC_EFULL; *offs (malloc'd) receives them. */
static size_t fill_until_full(uint64_t size, uint64_t **offs)
{
	size_t n = 0, cap = 1024;
	uint64_t *v = malloc(cap * sizeof(uint64_t));
	for (;;) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(uint64_t));
		int rc = shmc__alloc(A, size, &v[n]);
		if (rc == SHMC_EFULL)
			break;
		ASSERT_OK(rc);
		memset(A->base + v[n], (int)(n & 0x7f), size < 64 ? size : 64);
		n++;
	}
	*offs = v;
	return n;
}

static void free_all(uint64_t *offs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shmc__free(A, offs[i]);
	free(offs);
}

static void min_setup(void)
{
	A = test_arena(SHMC_MIN_CAPACITY);
	arena_warm(A);
	A_base = arena_in_use(A);
}

/* Each size in turn fills the arena, then is freed: every later size finds
 * the memory the earlier ones used, though no two share a size class. The
 * allocator gives the empty slabs back by itself (no reclaim call). */
Test(alloc, a_full_4mib_arena_once_freed_serves_any_other_size, .init = min_setup,
     .fini = arena_teardown)
{
	const uint64_t sizes[] = {48, 3000, 200, 20000, (64 << 10) + 1, 640, 16};
	size_t first = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t *offs;
		size_t n = fill_until_full(sizes[i], &offs);
		size_t bytes = n * shmc__alloc_usable(sizes[i]);
		shmc_arena_stats_t st = stats_now();
		cr_log_info("%llu-byte blocks: %zu until full (%zu KiB), pool %zu KiB",
			    (unsigned long long)sizes[i], n, bytes >> 10, st.pool_bytes >> 10);
		if (i == 0)
			first = bytes;
		/* Within what one size class wastes (a slab's tail, a run's
		 * rounding) plus the pages that hold the pool's run headers. */
		cr_assert_geq(bytes, first * 3 / 4, "%llu-byte blocks: %zu bytes, the first size %zu",
			      (unsigned long long)sizes[i], bytes, first);
		free_all(offs, n);
	}
	/* And one block of most of the arena. */
	uint64_t big;
	ASSERT_OK(shmc__alloc(A, (size_t)first * 3 / 4, &big));
	shmc__free(A, big);
}

/* The same through containers: a list of short strings fills the arena;
 * once cleared (and reclaimed), a 64 KiB string, new named objects and a
 * dict of 1000-byte strings fit. */
Test(alloc, a_cleared_list_leaves_room_for_big_strings_and_new_names, .init = min_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls, *d;
	/* The directory of names keeps its size once grown: grow it before
	 * the baseline. */
	for (int i = 0; i < 100; i++) {
		char name[32];
		snprintf(name, sizeof(name), "name-%d", i % 50);
		if (i < 50) {
			ASSERT_OK(shmc_root_find_or_create(A, name, SHMC_KIND_DICT, &d));
			shmc_obj_release(d);
		} else {
			ASSERT_OK(shmc_root_remove(A, name));
		}
	}
	A_base = arena_in_use(A);
	ASSERT_OK(shmc_list_new(A, &ls));
	char s[1001];
	int rc;
	size_t n = 0;
	while ((rc = shmc_list_append(ls, shmc_str("forty bytes of string, or thereabouts"))) == 0)
		n++;
	ASSERT_ERR(rc, SHMC_EFULL);
	cr_assert_gt(n, 10000);
	ASSERT_OK(shmc_list_clear(ls));
	shmc_arena_reclaim(A);
	char *big = malloc(64 << 10);
	memset(big, 'x', (64 << 10) - 1);
	big[(64 << 10) - 1] = 0;
	ASSERT_OK(shmc_list_append(ls, shmc_str(big)));
	free(big);
	for (int i = 0; i < 50; i++) {
		char name[32];
		shmc_obj_t *o;
		snprintf(name, sizeof(name), "name-%d", i);
		ASSERT_OK(shmc_root_find_or_create(A, name, SHMC_KIND_DICT, &o));
		shmc_obj_release(o);
	}
	ASSERT_OK(shmc_dict_new(A, &d));
	memset(s, 'y', 1000);
	s[1000] = 0;
	size_t m = 0;
	while ((rc = shmc_dict_set(d, shmc_int((int64_t)m), shmc_str(s))) == 0)
		m++;
	ASSERT_ERR(rc, SHMC_EFULL);
	cr_log_info("%zu short strings; then %zu strings of 1000 bytes", n, m);
	cr_assert_gt(m * 1024, n * 48 * 3 / 4, "%zu strings of 1000 bytes after %zu of 40", m, n);
	shmc_obj_release(d);
	shmc_obj_release(ls);
	shmc_arena_reclaim(A);
	for (int i = 0; i < 50; i++) {
		char name[32];
		snprintf(name, sizeof(name), "name-%d", i);
		ASSERT_OK(shmc_root_remove(A, name));
	}
}

/* A GiB written, then cleared --------------------------------------------------------- */

#define GIB_STR 1000                    /* one value: 1000 bytes of string */
#define GIB_N ((size_t)1 << 20)         /* 1 Mi values: 1 GiB of blocks */

/* The value stored under key K: letters that depend on K everywhere. */
static void gib_value(char *s, uint64_t k)
{
	uint64_t x = mix64(k);
	for (int i = 0; i < GIB_STR; i++)
		s[i] = (char)('a' + (x >> (i % 59)) % 26);
	s[GIB_STR] = 0;
}

struct reader {
	shmc_obj_t *d;
	_Atomic int *state; /* [0] reads done (saturated), [1] stop, [2] failures */
};

/* Read random keys until told to stop: every value found is the one stored
 * under its key; a missing key is SHMC_EKEY; nothing else. */
static int gib_reader(void *p)
{
	struct reader *r = p;
	char want[GIB_STR + 1];
	uint64_t seed = 0x1234567 ^ (uint64_t)getpid();
	while (!atomic_load(&r->state[1])) {
		uint64_t k = xorshift(&seed) % GIB_N;
		shmc_value_t v;
		int rc = shmc_dict_get(r->d, shmc_int((int64_t)k), &v);
		if (rc == 0) {
			gib_value(want, k);
			if (v.type != SHMC_STR || v.len != GIB_STR || memcmp(v.str, want, GIB_STR))
				atomic_fetch_add(&r->state[2], 1);
			shmc_value_free(&v);
		} else if (rc != SHMC_EKEY) {
			atomic_fetch_add(&r->state[2], 1);
		}
		if (atomic_load(&r->state[0]) < (1 << 30))
			atomic_fetch_add(&r->state[0], 1);
	}
	return atomic_load(&r->state[2]) ? 1 : 0;
}

static void gib_setup(void)
{
	A = test_arena((size_t)3 << 29); /* 1.5 GiB */
	arena_warm(A);
	A_base = arena_in_use(A);
}

static void gib_written_then_cleared(bool with_reader)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	struct reader r = {d, shared_page(4096)};
	pid_t child = -1;
	if (with_reader) {
		ASSERT_OK(shmc_dict_set(d, shmc_int(0), shmc_str("")));
		ASSERT_OK(shmc_dict_clear(d));
		child = fork_fn(gib_reader, &r);
		cr_assert(wait_flag(&r.state[0], 100, TEST_DEADLINE), "the reader did not start");
	}
	shmc_arena_stats_t s0 = stats_now();
	size_t rss0 = rss_shmem(getpid());
	double t0 = now_s();
	char s[GIB_STR + 1];
	for (uint64_t k = 0; k < GIB_N; k++) {
		gib_value(s, k);
		ASSERT_OK(shmc_dict_set(d, shmc_int((int64_t)k), shmc_strn(s, GIB_STR)));
	}
	double t1 = now_s();
	shmc_arena_stats_t s1 = stats_now();
	size_t rss1 = rss_shmem(getpid()), crss1 = with_reader ? rss_shmem(child) : 0;
	ASSERT_OK(shmc_dict_clear(d));
	/* The cleared table is freed once no reader can see it, which a reader
	 * in another process may delay (it may be descheduled inside a read):
	 * reclaim until it is. */
	double end = now_s() + TEST_DEADLINE;
	while (shmc_arena_reclaim(A) >= 0 && stats_now().bytes_in_use > s0.bytes_in_use &&
	       now_s() < end)
		usleep(100); /* a poll interval */
	double t2 = now_s();
	shmc_arena_stats_t s2 = stats_now();
	size_t rss2 = rss_shmem(getpid()), crss2 = with_reader ? rss_shmem(child) : 0;
	int reads = 0;
	if (with_reader) {
		reads = atomic_load(&r.state[0]);
		atomic_store(&r.state[1], 1);
		cr_assert_eq(wait_exit(child, TEST_DEADLINE), 0, "the reader saw %d failures",
			     atomic_load(&r.state[2]));
	}
	const size_t gib = (size_t)1 << 30, mib = (size_t)1 << 20;
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "1 GiB %s: written in %.2f s, cleared and reclaimed in %.2f s; committed "
		 "%zu -> %zu -> %zu MiB; RssShmem %zu -> %zu -> %zu MiB%s; released %zu MiB, "
		 "pool %zu MiB",
		 with_reader ? "while another process reads it" : "alone", t1 - t0, t2 - t1,
		 s0.committed / mib, s1.committed / mib, s2.committed / mib, rss0 / mib,
		 rss1 / mib, rss2 / mib, with_reader ? "" : "", s2.released_bytes / mib,
		 s2.pool_bytes / mib);
	cr_log_info("%s", msg);
	fprintf(stderr, "alloc: %s\n", msg);
	if (with_reader)
		fprintf(stderr, "alloc: the reader: %d reads, RssShmem %zu -> %zu MiB\n", reads,
			crss1 / mib, crss2 / mib);
	cr_assert_geq(s1.committed, s0.committed + gib, "the GiB was not committed");
	cr_assert_leq(s2.committed + gib * 7 / 8, s1.committed, "committed fell by only %zu MiB",
		      (s1.committed - s2.committed) / mib);
	cr_assert_leq(rss2 + gib * 7 / 8, rss1, "RssShmem fell by only %zu MiB",
		      (rss1 - rss2) / mib);
	if (with_reader)
		cr_assert_leq(crss2 + crss1 / 2, crss1, "the reader's RssShmem fell from %zu to %zu MiB",
			      crss1 / mib, crss2 / mib);
	/* What is left in the pool serves the next GiB. */
	uint64_t big;
	ASSERT_OK(shmc__alloc(A, (size_t)1 << 29, &big));
	cr_assert_eq(stats_now().used, s2.used, "the arena grew instead of reusing its pool");
	shmc__free(A, big);
	shmc_obj_release(d);
	munmap(r.state, 4096);
}

Test(alloc, a_gib_written_then_cleared_gives_back_committed_memory_and_rss,
     .init = gib_setup, .fini = arena_teardown)
{
	gib_written_then_cleared(false);
}

Test(alloc, the_same_while_another_process_reads_the_dict, .init = gib_setup,
     .fini = arena_teardown)
{
	gib_written_then_cleared(true);
}

/* Killed at any instruction ---------------------------------------------------------- */

#define KILL_PROCS 4
#define KILL_ROUNDS 80

struct killable {
	_Atomic int ops[KILL_PROCS]; /* operations done by each slot's process */
};

struct killable_arg { /* private: each child gets its copy at fork() */
	struct killable *k;
	int who;
};

/* Allocate and free at random, mixed sizes, checking every block's pattern
 * before freeing it, and trimming now and then (scavenges, pool puts and
 * punches); forever: only a kill ends it. */
static int killable_churn(void *arg)
{
	struct killable *k = ((struct killable_arg *)arg)->k;
	int me = ((struct killable_arg *)arg)->who;
	struct blk slot[NSLOTS];
	uint64_t tag[NSLOTS];
	memset(slot, 0, sizeof(slot));
	uint64_t seed = mix64((uint64_t)getpid()) | 1;
	for (uint64_t op = 1;; op++) {
		unsigned j = (unsigned)(xorshift(&seed) % NSLOTS);
		if (slot[j].off) {
			CHILD_CHECK(check(slot[j].off, slot[j].size, tag[j]));
			shmc__free(A, slot[j].off);
			slot[j].off = 0;
		} else {
			uint64_t r = xorshift(&seed) % 1000, size;
			if (r < 850)
				size = 1 + xorshift(&seed) % 1024;
			else if (r < 985)
				size = 1 + xorshift(&seed) % 32768;
			else
				size = 1 + xorshift(&seed) % 300000;
			CHILD_OK(shmc__alloc(A, size, &slot[j].off));
			slot[j].size = size;
			tag[j] = ((uint64_t)getpid() << 32) | op;
			fill(slot[j].off, size, tag[j]);
		}
		if (op % 512 == 0)
			shmc__alloc_trim(A);
		atomic_fetch_add(&k->ops[me], 1);
	}
	return 0;
}

static pid_t start_killable(struct killable *k, int who)
{
	struct killable_arg arg = {k, who};
	return fork_fn(killable_churn, &arg);
}

Test(alloc, processes_killed_at_random_leave_leaks_the_sweep_restores,
     .init = big_setup, .fini = arena_teardown)
{
	struct killable *k = shared_page(sizeof(*k));
	pid_t pids[KILL_PROCS];
	for (int i = 0; i < KILL_PROCS; i++)
		pids[i] = start_killable(k, i);
	uint64_t seed = 0x6b696c6cull, ops = 0;
	double t0 = now_s();
	for (int round = 0; round < KILL_ROUNDS; round++) {
		int v = round % KILL_PROCS;
		/* Kill the victim after a random number of its operations:
		 * anywhere in one, as they are not synchronised with us. */
		int want = atomic_load(&k->ops[v]) + 1 + (int)(xorshift(&seed) % 3000);
		cr_assert(wait_flag(&k->ops[v], want, TEST_DEADLINE),
			  "process %d stopped making progress (exit %d)", v,
			  wait_exit(pids[v], 0.01));
		cr_assert(kill_wait(pids[v]), "process %d ended before it was killed", v);
		pids[v] = start_killable(k, v);
	}
	for (int i = 0; i < KILL_PROCS; i++) {
		cr_assert(kill_wait(pids[i]), "process %d ended before it was killed", i);
		ops += (uint64_t)atomic_load(&k->ops[i]);
	}
	double t1 = now_s();
	shmc_check_report_t rep;
	shmc_arena_reclaim(A); /* reaps the dead */
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, print_finding, "check"));
	cr_assert_eq(rep.errors, 0);
	cr_assert_gt(rep.leaked_blocks, 0, "the killed processes' blocks are leaked");
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_SWEEP, &rep, print_finding, "sweep"));
	uint64_t swept = rep.swept_blocks, pages = rep.leaked_pages;
	cr_assert_eq(arena_in_use(A), A_base, "the sweep left %zd bytes",
		     (ssize_t)(arena_in_use(A) - A_base));
	ASSERT_OK(shmc_arena_check(A, 0, &rep, print_finding, "after"));
	cr_assert_eq(rep.errors + rep.leaked_blocks + rep.leaked_pages + rep.leaked_refs, 0);
	fprintf(stderr, "alloc: %d processes killed at random, %llu operations in %.1f s: "
			"the sweep freed %llu blocks and %llu pages; %llu pages in the pool\n",
		KILL_ROUNDS + KILL_PROCS, (unsigned long long)ops, t1 - t0,
		(unsigned long long)swept, (unsigned long long)pages,
		(unsigned long long)rep.pool_pages);
	munmap(k, sizeof(*k));
}
