/*
 * stress_list -- the list's compound operations (sort, reverse, slice
 * assignment and deletion, *=, += itself) from threads as peers on one
 * arena, for ThreadSanitizer, and from forked processes in the other
 * builds (see stress_threads.c for why TSan runs without them).
 *
 * The list holds each of 0..N-1 once (the single state) or twice (the
 * double state). Every operation keeps it in one of the two:
 *   - one thread grows it (ls *= 2, ls += ls or ls[0:0] = ls), shuffles it
 *     (a sort by a random key), assigns it to itself reversed (ls[::-1] =
 *     ls), and shrinks it back (sort, then del ls[::2], which drops one of
 *     each pair of equal neighbours);
 *   - other writers reverse it, sort it either way and assign it to itself
 *     (ls[:] = ls), which all keep equal neighbours together, so the
 *     shrink stays right whatever they do between its two steps;
 *   - readers check that every snapshot (copy, slice) is a whole state and
 *     every count is 1 or 2.
 * At the end: a whole state, no broken invariant in the arena check, and
 * once everything is released the arena's memory where it started.
 *
 * Usage: stress_list [--ci] [--threads N] [--procs N] [--iters N]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "testutil.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifdef __SANITIZE_THREAD__
#define UNDER_TSAN 1
#endif
#ifdef UNDER_TSAN
#define DEFAULT_PROCS 0
#else
#define DEFAULT_PROCS 2
#endif

#define N 64
#define NONE SHMC_SLICE_NONE

static shmc_obj_t *LS;
static long iters = 2000;
static _Atomic int stop, failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "stress_list: %s:%d: %s\n", __FILE__,  \
				__LINE__, #cond);                              \
			atomic_fetch_add(&failures, 1);                        \
			atomic_store(&stop, 1);                                \
		}                                                              \
	} while (0)
#define OK(call) CHECK((call) >= 0)

/* 1 or 2: each value once or twice; 0: anything else. */
static int state_of(shmc_value_t snap)
{
	size_t n = shmc_seq_len(snap);
	if (n != N && n != 2 * N)
		return 0;
	unsigned char seen[N] = {0};
	for (size_t i = 0; i < n; i++) {
		shmc_value_t *v = shmc_seq_at(snap, (int64_t)i);
		if (v->type != SHMC_INT || v->i < 0 || v->i >= N || seen[v->i] >= n / N)
			return 0;
		seen[v->i]++;
	}
	return (int)(n / N);
}

static int shuffle_key(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	*key = shmc_int((int64_t)(mix64((uint64_t)item->i ^ *(uint64_t *)ctx) >> 4));
	return 0;
}

static shmc_arena_t *WARM;
static pthread_barrier_t warm_barrier;

static void *warm(void *arg)
{
	(void)arg;
	arena_warm(WARM);
	pthread_barrier_wait(&warm_barrier); /* all at once: a record each */
	return NULL;
}

static void *grower(void *arg)
{
	(void)arg;
	for (uint64_t k = 0; k < (uint64_t)iters && !atomic_load(&stop); k++) {
		switch (k % 3) {
		case 0:
			OK(shmc_list_inplace_repeat(LS, 2));
			break;
		case 1:
			OK(shmc_list_extend(LS, shmc_ref(LS)));
			break;
		default:
			OK(shmc_list_slice_set(LS, 0, 0, NONE, shmc_ref(LS)));
			break;
		}
		OK(shmc_list_sort(LS, shuffle_key, NULL, &k, false));
		OK(shmc_list_slice_set(LS, NONE, NONE, -1, shmc_ref(LS)));
		OK(shmc_list_sort(LS, NULL, NULL, NULL, k & 1));
		OK(shmc_list_slice_del(LS, NONE, NONE, 2));
		OK(shmc_list_sort(LS, shuffle_key, NULL, &k, true));
	}
	return NULL;
}

static void *mover(void *arg)
{
	uint64_t k = (uint64_t)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		switch (k++ % 4) {
		case 0:
			OK(shmc_list_reverse(LS));
			break;
		case 1:
			OK(shmc_list_sort(LS, NULL, NULL, NULL, k & 8));
			break;
		case 2:
			OK(shmc_list_slice_set(LS, NONE, NONE, NONE, shmc_ref(LS)));
			break;
		default:
			OK(shmc_list_reverse(LS));
			break;
		}
	}
	return NULL;
}

static void *reader(void *arg)
{
	uint64_t k = (uint64_t)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		shmc_value_t snap;
		int rc = k % 2 ? shmc_list_copy(LS, &snap)
			       : shmc_list_slice_get(LS, NONE, NONE, k % 4 ? 1 : -1, &snap);
		OK(rc);
		if (rc)
			break;
		CHECK(state_of(snap) != 0);
		shmc_value_free(&snap);
		int64_t c = shmc_list_count(LS, shmc_int((int64_t)(k % N)));
		CHECK(c == 1 || c == 2);
		CHECK(shmc_list_contains(LS, shmc_int((int64_t)(k % N))) == 1);
		k++;
	}
	return NULL;
}

/* A forked process: a mover and a reader thread, until told to stop. */
static int proc_main(void *arg)
{
	pthread_t t[2];
	pthread_create(&t[0], NULL, mover, arg);
	pthread_create(&t[1], NULL, reader, arg);
	while (!atomic_load(&stop) && !atomic_load((_Atomic int *)arg))
		usleep(1000); /* polls the parent's flag */
	atomic_store(&stop, 1);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	return atomic_load(&failures) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int nthreads = 4, nprocs = DEFAULT_PROCS;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ci")) {
			iters = 300;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			nthreads = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--procs") && i + 1 < argc) {
			nprocs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			iters = atol(argv[++i]);
		} else {
			fprintf(stderr, "usage: stress_list [--ci] [--threads N] [--procs N] "
					"[--iters N]\n");
			return 2;
		}
	}
	if (nthreads < 3)
		nthreads = 3;
	shmc_arena_t *a = test_arena(64 << 20);
	/* Each thread's epoch record keeps a retire queue after its thread
	 * exits: make them now, so that the baseline counts them. */
	pthread_t t[64];
	nthreads = nthreads > 64 ? 64 : nthreads;
	WARM = a;
	pthread_barrier_init(&warm_barrier, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, warm, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&warm_barrier);
	size_t base = arena_in_use(a);
	if (shmc_list_new(a, &LS) != 0)
		return 1;
	for (int64_t i = 0; i < N; i++)
		if (shmc_list_append(LS, shmc_int(i)) != 0)
			return 1;

	_Atomic int *proc_stop = shared_page(sizeof(*proc_stop));
	pid_t pids[16];
	nprocs = nprocs > 16 ? 16 : nprocs;
	for (int i = 0; i < nprocs; i++)
		pids[i] = fork_fn(proc_main, (void *)proc_stop);

	double t0 = now_s();
	pthread_create(&t[0], NULL, grower, NULL);
	for (int i = 1; i < nthreads; i++)
		pthread_create(&t[i], NULL, i % 2 ? reader : mover, (void *)(uintptr_t)i);
	pthread_join(t[0], NULL); /* the grower sets the pace */
	atomic_store(&stop, 1);
	atomic_store(proc_stop, 1);
	for (int i = 1; i < nthreads; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < nprocs; i++)
		CHECK(wait_exit(pids[i], TEST_DEADLINE) == 0);

	shmc_value_t snap;
	OK(shmc_list_copy(LS, &snap));
	CHECK(state_of(snap) == 1);
	shmc_value_free(&snap);
	shmc_obj_release(LS);
	/* Nothing is left but per-thread bookkeeping (retire queues, which
	 * large deletions grew): no object, no unreachable block, no
	 * uncounted reference. */
	shmc_check_report_t rep;
	size_t now = arena_in_use(a);
	CHECK(shmc_arena_check(a, SHMC_CHECK_REAP, &rep, print_finding, NULL) == 0);
	CHECK(rep.objects == 0 && rep.leaked_blocks == 0 && rep.leaked_refs == 0);
	if (now < base || now - base > 4096)
		fprintf(stderr, "stress_list: %zd bytes more in use than at the start\n",
			(ssize_t)(now - base));
	CHECK(now >= base && now - base <= 4096);
	shmc_arena_close(a);
	int f = atomic_load(&failures);
	printf("stress_list: %ld rounds of the grower, %d threads, %d processes, %.2f s: %s\n",
	       iters, nthreads, nprocs, now_s() - t0, f ? "FAILED" : "ok");
	return f ? 1 : 0;
}
