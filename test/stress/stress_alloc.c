/*
 * stress_alloc -- threads as peers on the allocator, for ThreadSanitizer:
 * the fast path, the slab scavenger and the page pool at once.
 *
 * N threads allocate and free blocks of mixed sizes (mostly small, some
 * large) with a pattern checked before each free -- half of them through a
 * thread cache -- and now and then free all
 * they hold at once, so that whole slabs empty; frees start scavenges, large
 * blocks go through the pool, and one more thread scavenges classes at
 * random and trims the pool (punching pages) the whole time. Threads only:
 * TSan cannot follow a hand-off through another process (see
 * stress_threads.c); the processes' side is test/unit/test_pages.c.
 *
 * Checked: every block's pattern (a block handed out twice, or punched
 * while in use, breaks it); at the end the arena check finds nothing broken
 * and nothing leaked, and in-use bytes are back where they started.
 *
 * Usage: stress_alloc [--ci] [--threads N] [--iters N] [--seed S]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "testutil.h"

#include "memory/alloc.h"
#include "memory/epoch.h"
#include "memory/slabs.h"

#define SLOTS 48
#define MAX_THREADS 32

static shmc_arena_t *arena;
static uint64_t iters, seed;
static _Atomic int done, failures;

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The tag in the first and last 8 bytes (SIZE >= 16), a byte of it in up
 * to 256 bytes between. */
static uint64_t middle(uint64_t size)
{
	return size - 16 < 256 ? size - 16 : 256;
}

static void pattern(uint64_t off, uint64_t size, uint64_t tag)
{
	unsigned char *p = (unsigned char *)arena->base + off;
	memcpy(p, &tag, 8);
	memset(p + 8, (int)(tag & 0xff), middle(size));
	memcpy(p + size - 8, &tag, 8);
}

static bool intact(uint64_t off, uint64_t size, uint64_t tag)
{
	const unsigned char *p = (const unsigned char *)arena->base + off;
	uint64_t a, b;
	memcpy(&a, p, 8);
	memcpy(&b, p + size - 8, 8);
	if (a != tag || b != tag)
		return false;
	for (uint64_t i = 8; i < 8 + middle(size); i++)
		if (p[i] != (unsigned char)(tag & 0xff))
			return false;
	return true;
}

static void *churn(void *arg)
{
	uint64_t me = (uint64_t)(intptr_t)arg, s = seed * 2654435761u + me + 1;
	uint64_t off[SLOTS] = {0}, size[SLOTS], tag[SLOTS];
	/* Half the threads have an epoch record, and so a cache of free
	 * blocks (memory/tcache.c), which they fill from the lists, spill
	 * onto them, and empty as they exit; the others use the lists only. */
	if (me % 2 == 0 && shmc__epoch_rec(arena) == NULL)
		atomic_fetch_add(&failures, 1);
	for (uint64_t op = 1; op <= iters; op++) {
		unsigned j = (unsigned)(next_rand(&s) % SLOTS);
		if (off[j]) {
			if (!intact(off[j], size[j], tag[j])) {
				fprintf(stderr, "stress_alloc: block %#llx damaged\n",
					(unsigned long long)off[j]);
				atomic_fetch_add(&failures, 1);
			}
			shmc__free(arena, off[j]);
			off[j] = 0;
		} else {
			uint64_t r = next_rand(&s) % 100;
			size[j] = r < 90 ? 16 + next_rand(&s) % 1024
			        : r < 98 ? 16 + next_rand(&s) % 16384
				         : 16384 + next_rand(&s) % 200000;
			if (shmc__alloc(arena, size[j], &off[j]) != 0) {
				atomic_fetch_add(&failures, 1);
				off[j] = 0;
				continue;
			}
			tag[j] = me << 48 | op;
			pattern(off[j], size[j], tag[j]);
		}
		if (op % 1000 == 0) /* whole slabs empty at once */
			for (unsigned k = 0; k < SLOTS; k++)
				if (off[k]) {
					shmc__free(arena, off[k]);
					off[k] = 0;
				}
	}
	for (unsigned k = 0; k < SLOTS; k++)
		if (off[k])
			shmc__free(arena, off[k]);
	return NULL;
}

static void *scavenger(void *arg)
{
	(void)arg;
	uint64_t s = seed ^ 0x5ca7;
	unsigned small = 0;
	while (shmc__class_is_small(small))
		small++;
	for (unsigned n = 0; !atomic_load(&done); n++) {
		shmc__slabs_scavenge(arena, (unsigned)(next_rand(&s) % small), n % 2);
		if (n % 16 == 0)
			shmc__alloc_trim(arena);
		sched_yield();
	}
	return NULL;
}

static void report(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "stress_alloc: check: %s\n", msg);
}

int main(int argc, char **argv)
{
	int nthreads = 6;
	iters = 200000;
	seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ci")) {
			nthreads = 4;
			iters = 20000;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			nthreads = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			iters = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: stress_alloc [--ci] [--threads N] [--iters N] "
					"[--seed S]\n");
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS || iters == 0)
		return 2;
	arena = test_arena(256 << 20);
	arena_warm(arena);
	size_t base = arena_in_use(arena);
	double t0 = now_s();
	pthread_t t[MAX_THREADS], sc;
	if (pthread_create(&sc, NULL, scavenger, NULL) != 0)
		return 2;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i) != 0)
			return 2;
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	atomic_store(&done, 1);
	pthread_join(sc, NULL);
	double t1 = now_s();
	shmc__alloc_trim(arena);
	shmc_arena_stats_t st;
	shmc_arena_stats(arena, &st);
	shmc_check_report_t rep;
	int rc = shmc_arena_check(arena, 0, &rep, report, NULL);
	size_t now = arena_in_use(arena);
	printf("stress_alloc seed=%llu: threads=%d ops=%llu (%.0f/s) pool=%zu KiB "
	       "released=%zu KiB (%zu KiB in all) failures=%d check=%s errors=%llu leaked=%llu\n",
	       (unsigned long long)seed, nthreads, (unsigned long long)iters * (uint64_t)nthreads,
	       (double)iters * nthreads / (t1 - t0), st.pool_bytes >> 10,
	       st.released_bytes >> 10, (size_t)(st.released_total >> 10),
	       atomic_load(&failures), shmc_errname(rc), (unsigned long long)rep.errors,
	       (unsigned long long)(rep.leaked_blocks + rep.leaked_pages));
	bool ok = rc == 0 && atomic_load(&failures) == 0 && rep.leaked_blocks == 0 &&
		  rep.leaked_pages == 0 && now == base;
	if (now != base)
		fprintf(stderr, "stress_alloc: %zd bytes still in use\n", (ssize_t)(now - base));
	shmc_arena_close(arena);
	return ok ? 0 : 1;
}
