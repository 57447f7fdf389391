/*
 * stress_sync -- the locks, semaphores, conditions, barriers, events and
 * queues used by threads of one process, for ThreadSanitizer (which cannot
 * see across processes: the Criterion tests cover processes).
 *
 * Each phase guards plain, non-atomic data with one of the objects only, so
 * that TSan reports a data race if the object fails to order what it
 * guards, and checks the result:
 *
 *   lock      8 threads increment a plain counter under a Lock, then an RLock
 *   sem       8 threads through a Semaphore(3); never more than 3 inside
 *   cond      producers and consumers of a plain count, with wait_for
 *   barrier   8 threads write their slot of a plain array, meet, read all
 *   event     ping-pong of a plain value between two threads
 *   queue     4 producers, 4 consumers, bounded: every item once, FIFO per
 *             producer; plain payloads written before put, read after get
 *   join      workers write results, task_done; join, then read them
 *
 * Usage: stress_sync [--ci] [--rounds N]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "testutil.h"

#define NT 8

static shmc_arena_t *A;
static long rounds = 20000;
static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "stress_sync: %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			atomic_fetch_add((_Atomic int *)&failures, 1);         \
		}                                                              \
	} while (0)
#define OK(call)                                                               \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ < 0) {                                                 \
			fprintf(stderr, "stress_sync: %s:%d: %s -> %s\n",       \
				__FILE__, __LINE__, #call, shmc_errname(rc_)); \
			atomic_fetch_add((_Atomic int *)&failures, 1);         \
			return NULL;                                           \
		}                                                              \
	} while (0)

static void run_threads(int n, void *(*fn)(void *))
{
	pthread_t t[NT];
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, (void *)i) != 0)
			abort();
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* lock ------------------------------------------------------------------- */

static shmc_obj_t *lock;
static long plain_counter;

static void *lock_worker(void *p)
{
	(void)p;
	for (long k = 0; k < rounds; k++) {
		OK(shmc_lock_acquire(lock, SHMC_FOREVER));
		if (shmc_obj_kind(lock) == SHMC_KIND_RLOCK)
			OK(shmc_lock_acquire(lock, SHMC_FOREVER));
		plain_counter++;
		if (shmc_obj_kind(lock) == SHMC_KIND_RLOCK)
			OK(shmc_lock_release(lock));
		OK(shmc_lock_release(lock));
	}
	return NULL;
}

static void phase_lock(void)
{
	for (int r = 0; r < 2; r++) {
		plain_counter = 0;
		if (r == 0)
			shmc_lock_new(A, &lock);
		else
			shmc_rlock_new(A, &lock);
		run_threads(NT, lock_worker);
		CHECK(plain_counter == NT * rounds);
		shmc_obj_release(lock);
	}
}

/* sem -------------------------------------------------------------------- */

static shmc_obj_t *sem;
static _Atomic int inside, most;

static void *sem_worker(void *p)
{
	(void)p;
	for (long k = 0; k < rounds / 4; k++) {
		OK(shmc_semaphore_acquire(sem, SHMC_FOREVER));
		int n = atomic_fetch_add(&inside, 1) + 1, m = atomic_load(&most);
		while (n > m && !atomic_compare_exchange_weak(&most, &m, n))
			;
		atomic_fetch_sub(&inside, 1);
		OK(shmc_semaphore_release(sem));
	}
	return NULL;
}

static void phase_sem(void)
{
	shmc_bounded_semaphore_new(A, 3, &sem);
	run_threads(NT, sem_worker);
	CHECK(atomic_load(&most) <= 3);
	CHECK(shmc_semaphore_value(sem) == 3);
	shmc_obj_release(sem);
}

/* cond ------------------------------------------------------------------- */

static shmc_obj_t *cond;
static long plain_items, plain_taken;

static bool have_items(void *p)
{
	(void)p;
	return plain_items > 0;
}

static void *cond_worker(void *p)
{
	long i = (long)p, n = rounds / 8;
	for (long k = 0; k < n; k++) {
		OK(shmc_condition_acquire(cond, SHMC_FOREVER));
		if (i % 2 == 0) {
			plain_items++;
			OK(shmc_condition_notify(cond, 1));
		} else {
			OK(shmc_condition_wait_for(cond, have_items, NULL, SHMC_FOREVER));
			plain_items--;
			plain_taken++;
		}
		OK(shmc_condition_release(cond));
	}
	return NULL;
}

static void phase_cond(void)
{
	shmc_condition_new(A, NULL, &cond);
	run_threads(NT, cond_worker);
	CHECK(plain_items == 0 && plain_taken == NT / 2 * (rounds / 8));
	shmc_obj_release(cond);
}

/* barrier ---------------------------------------------------------------- */

static shmc_obj_t *barrier;
static long plain_slots[NT];

static void *barrier_worker(void *p)
{
	long i = (long)p;
	for (long k = 0; k < rounds / 20; k++) {
		plain_slots[i] = k;
		int idx = shmc_barrier_wait(barrier, TEST_DEADLINE);
		OK(idx);
		for (int j = 0; j < NT; j++)
			CHECK(plain_slots[j] == k);
		OK(shmc_barrier_wait(barrier, TEST_DEADLINE)); /* nobody writes before all read */
	}
	return NULL;
}

static void phase_barrier(void)
{
	shmc_barrier_new(A, NT, &barrier);
	run_threads(NT, barrier_worker);
	CHECK(shmc_barrier_broken(barrier) == 0);
	shmc_obj_release(barrier);
}

/* event ------------------------------------------------------------------ */

static shmc_obj_t *ping, *pong;
static long plain_ball;

static void *event_worker(void *p)
{
	long i = (long)p;
	shmc_obj_t *mine = i ? pong : ping, *theirs = i ? ping : pong;
	for (long k = 0; k < rounds / 20; k++) {
		OK(shmc_event_wait(mine, TEST_DEADLINE));
		OK(shmc_event_clear(mine));
		CHECK(plain_ball == 2 * k + i);
		plain_ball++;
		OK(shmc_event_set(theirs));
	}
	return NULL;
}

static void phase_event(void)
{
	shmc_event_new(A, &ping);
	shmc_event_new(A, &pong);
	shmc_event_set(ping);
	run_threads(2, event_worker);
	CHECK(plain_ball == 2 * (rounds / 20));
	shmc_obj_release(ping);
	shmc_obj_release(pong);
}

/* queue ------------------------------------------------------------------ */

#define PRODUCERS 4
static shmc_obj_t *queue;
static long *payload; /* [PRODUCERS * rounds]: written before put */
static _Atomic int *seen;

static void *queue_worker(void *p)
{
	long i = (long)p;
	if (i < PRODUCERS) {
		for (long k = 0; k < rounds; k++) {
			long x = i * rounds + k;
			payload[x] = x * 7;
			OK(shmc_queue_put(queue, shmc_int(x), TEST_DEADLINE));
		}
		return NULL;
	}
	long last[PRODUCERS] = {-1, -1, -1, -1};
	for (;;) {
		shmc_value_t v;
		OK(shmc_queue_get(queue, TEST_DEADLINE, &v));
		if (v.i < 0)
			return NULL;
		long pr = v.i / rounds, k = v.i % rounds;
		CHECK(k > last[pr]);
		last[pr] = k;
		CHECK(payload[v.i] == v.i * 7);
		atomic_fetch_add(&seen[v.i], 1);
	}
}

static void phase_queue(void)
{
	long n = PRODUCERS * rounds;
	payload = calloc((size_t)n, sizeof(long));
	seen = calloc((size_t)n, sizeof(*seen));
	shmc_queue_new(A, 64, &queue);
	pthread_t t[NT];
	for (long i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, queue_worker, (void *)i);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	for (int i = PRODUCERS; i < NT; i++)
		shmc_queue_put(queue, shmc_int(-1), TEST_DEADLINE);
	for (int i = PRODUCERS; i < NT; i++)
		pthread_join(t[i], NULL);
	for (long x = 0; x < n; x++)
		CHECK(atomic_load(&seen[x]) == 1);
	shmc_obj_release(queue);
	free(payload);
	free(seen);
}

/* join ------------------------------------------------------------------- */

static long *results;

static void *join_worker(void *p)
{
	(void)p;
	for (;;) {
		shmc_value_t v;
		int rc = shmc_queue_get(queue, 0.2, &v);
		if (rc == SHMC_EQUEUEEMPTY)
			return NULL;
		OK(rc);
		results[v.i] = v.i + 1;
		OK(shmc_queue_task_done(queue));
	}
}

static void phase_join(void)
{
	long n = rounds / 10;
	results = calloc((size_t)n, sizeof(long));
	shmc_joinable_queue_new(A, 16, &queue);
	pthread_t t[NT];
	for (long i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, join_worker, (void *)i);
	for (long x = 0; x < n; x++)
		shmc_queue_put(queue, shmc_int(x), TEST_DEADLINE);
	CHECK(shmc_queue_join(queue, 2 * TEST_DEADLINE) == 0);
	for (long x = 0; x < n; x++)
		CHECK(results[x] == x + 1);
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	shmc_obj_release(queue);
	free(results);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ci") == 0)
			rounds = 2000;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atol(argv[++i]);
	}
	if (rounds < 20)
		rounds = 20;
	A = test_arena(64 << 20);
	arena_warm(A);
	size_t base = arena_in_use(A);
	struct {
		const char *name;
		void (*fn)(void);
	} phases[] = {
		{"lock", phase_lock},       {"sem", phase_sem},     {"cond", phase_cond},
		{"barrier", phase_barrier}, {"event", phase_event}, {"queue", phase_queue},
		{"join", phase_join},
	};
	double t0 = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		phases[i].fn();
	arena_leak_check(A, base);
	shmc_check_report_t rep;
	CHECK(shmc_arena_check(A, 0, &rep, NULL, NULL) == 0);
	shmc_arena_close(A);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("stress_sync: %d threads, %ld rounds, 7 phases: %s, %.2f s\n", NT, rounds,
	       failures ? "FAILED" : "ok",
	       (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 - t0);
	return failures ? 1 : 0;
}
