/*
 * bench_alloc.c -- the arena allocator (internal API, lib/alloc.h).
 *
 * Each process keeps a ring of 256 live blocks; one operation frees the
 * oldest and allocates a new one in its place, of a size drawn log-uniformly
 * from 16 B to 4 KiB. The same pattern runs against malloc/free in
 * bench_floor.c and against Boost's segment manager in bench_boost.cpp.
 * With two processes both work on the same arena, so its free lists are
 * shared and contended.
 *
 * A second operation, alloc_large, does the same with blocks of 16 KiB to
 * 1 MiB (a ring of 32), which go back to the page pool when freed and are
 * cut from it again: the pool's slow path, under its lock. Each block's
 * first byte is touched, as above; a pool that punched its pages would pay
 * for a fault here, which the threshold (1 MiB or 1/8 of committed memory)
 * is there to avoid.
 */
#include <shmc.h>

#include "memory/alloc.h"
#include "bench.h"

#define RING 256u
#define NSIZES 4096u
#define LARGE_RING 32u

static shmc_arena_t *arena;
static uint64_t ring[RING];
static uint64_t sizes[NSIZES];
static uint64_t next;
static unsigned ring_len = RING;

/* 16 KiB to 1 MiB, log-uniform. */
static uint64_t large_block_size(uint64_t *s)
{
	unsigned shift = 14 + (unsigned)bench_below(s, 6); /* 16 KiB .. 512 KiB */
	uint64_t lo = (uint64_t)1 << shift;
	return lo + bench_below(s, lo + 1);
}

static void child_init(void *arg, int rank)
{
	(void)rank;
	ring_len = arg ? LARGE_RING : RING;
	for (unsigned i = 0; i < NSIZES; i++)
		sizes[i] = arg ? large_block_size(&bench_rng) : bench_block_size(&bench_rng);
	for (unsigned i = 0; i < ring_len; i++)
		if (shmc__alloc(arena, sizes[i], &ring[i]) != 0)
			bench_die("shmc__alloc failed");
}

static void child_fini(void *arg, int rank)
{
	(void)arg;
	(void)rank;
	for (unsigned i = 0; i < ring_len; i++)
		shmc__free(arena, ring[i]);
	shmc_arena_close(arena);
}

static void run_alloc(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++, next++) {
		uint64_t *slot = &ring[next % ring_len];
		shmc__free(arena, *slot);
		if (shmc__alloc(arena, sizes[next % NSIZES], slot) != 0)
			bench_die("shmc__alloc failed");
		arena->base[*slot] = 1; /* as malloc's blocks, touched */
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "shmc");
	int rc = shmc_arena_create_anon(NULL, &arena);
	if (rc)
		bench_die("arena: %s", shmc_strerror(rc));
	struct bench_op o = {
		.op = "alloc",
		.run = run_alloc,
		.child_init = child_init,
		.child_fini = child_fini,
		.note = "shmc__free + shmc__alloc, 16 B-4 KiB log-uniform, ring of 256",
	};
	bench_case(&o);
	static int large = 1;
	struct bench_op l = {
		.op = "alloc_large",
		.run = run_alloc,
		.arg = &large,
		.child_init = child_init,
		.child_fini = child_fini,
		.note = "shmc__free + shmc__alloc, 16 KiB-1 MiB log-uniform, ring of 32",
	};
	bench_case(&l);
	shmc_arena_close(arena);
	return 0;
}
