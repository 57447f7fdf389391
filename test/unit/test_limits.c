/*
 * test_limits.c -- how many processes and threads an arena takes
 * (shmc_arena_options_t max_procs and max_threads), and how many arenas a
 * process may attach: a thousand processes attached at once, doing
 * operations and exiting, their slots recycled and shown by shmc-stat; the
 * default of 256 still enforced; a thread past max_threads refused; more
 * arenas attached at once than a process has pthread keys.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sys/resource.h>

#define SHMC_TEST_WHITEBOX
#include "testutil.h"

TestSuite(limits, .timeout = 600);

static shmc_arena_stats_t stats_of(shmc_arena_t *a)
{
	shmc_arena_stats_t st;
	ASSERT_OK(shmc_arena_stats(a, &st));
	return st;
}

Test(limits, options_size_the_arena_and_others_see_them, .fini = files_cleanup)
{
	shmc_arena_t *a = test_arena(SHMC_MIN_CAPACITY);
	cr_assert_eq(stats_of(a).max_procs, SHMC_DEFAULT_PROCS);
	cr_assert_eq(stats_of(a).max_threads, SHMC_DEFAULT_THREADS);
	shmc_arena_close(a);

	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "opts");
	shmc_arena_options_t o = {.capacity = 64 << 20, .max_procs = SHMC_MAX_PROCS,
				  .max_threads = 5000};
	shmc_arena_t *b, *c;
	ASSERT_OK(shmc_arena_create(name, &o, &b));
	ASSERT_OK(shmc_arena_open(name, &c)); /* a second attachment reads them */
	cr_assert_eq(stats_of(c).max_procs, SHMC_MAX_PROCS);
	cr_assert_eq(stats_of(c).max_threads, 5000);
	cr_assert_eq(c->nprocs, SHMC_MAX_PROCS);
	cr_assert_eq(c->nrecs, 5000);
	shmc_view_t *v;
	ASSERT_OK(shmc_view_open(name, &v));
	shmc_arena_stats_t st;
	ASSERT_OK(shmc_view_stats(v, &st));
	cr_assert_eq(st.max_procs, SHMC_MAX_PROCS);
	cr_assert_eq(st.processes, 2);
	shmc_view_close(v);
	/* A semaphore's ledger has a word per slot: it still works in the
	 * last slot's process. */
	shmc_obj_t *sem;
	ASSERT_OK(shmc_semaphore_new(c, 1, &sem));
	ASSERT_OK(shmc_semaphore_acquire(sem, SHMC_NOWAIT));
	ASSERT_OK(shmc_semaphore_release(sem));
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(c, 0, &rep, print_finding, NULL));
	shmc_obj_release(sem);
	shmc_arena_close(c);
	shmc_arena_close(b);
}

/* A thousand processes ---------------------------------------------------- */

#define CROWD 1000

struct crowd {
	_Atomic int attached; /* children whose operations succeeded */
	_Atomic int refused;  /* children whose arena was unusable */
	_Atomic int failed;
};

/* Fork N children that each do a few operations on LS and NS, report on
 * C, and wait on GATE (a pipe) until the parent closes it. */
static void crowd_start(struct crowd *c, int n, shmc_obj_t *ls, shmc_obj_t *ns, int gate[2],
			pid_t *pids)
{
	cr_assert_eq(pipe(gate), 0);
	fflush(NULL);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0, "fork %d: %s", i, strerror(errno));
		if (pids[i] == 0) {
			close(gate[1]);
			int rc = shmc_list_append(ls, shmc_int(i));
			if (rc == SHMC_EHANDLE) {
				atomic_fetch_add(&c->refused, 1);
			} else if (rc == 0 && shmc_namespace_add(ns, "n", shmc_int(1), NULL) == 0) {
				atomic_fetch_add(&c->attached, 1);
			} else {
				atomic_fetch_add(&c->failed, 1);
				_exit(1);
			}
			char b;
			while (read(gate[0], &b, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
	}
	close(gate[0]);
}

/* Let them go and reap them all. @return how many failed */
static int crowd_end(int n, int gate[2], pid_t *pids)
{
	close(gate[1]);
	int failed = 0;
	for (int i = 0; i < n; i++)
		failed += wait_exit(pids[i], TEST_DEADLINE) != 0;
	return failed;
}

static int count_lines(const char *out, const char *what)
{
	int n = 0;
	for (const char *p = strstr(out, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

Test(limits, a_thousand_processes_attached_at_once_recycled_and_shown,
     .fini = files_cleanup)
{
	char name[128], path[256], stat[4096];
	unique_name(name, sizeof(name), path, sizeof(path), "crowd");
	cr_assert_not_null(build_program("tools", "shmc-stat", stat, sizeof(stat)));
	shmc_arena_options_t o = {.capacity = 256 << 20, .max_procs = CROWD + 1};
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_create(name, &o, &a));
	shmc_obj_t *ls, *ns;
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_namespace_new(a, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "n", shmc_int(0)));
	static pid_t pids[CROWD];
	struct crowd *c = shared_page(sizeof(*c));
	for (int round = 1; round <= 2; round++) {
		memset(c, 0, sizeof(*c));
		int gate[2];
		double t0 = now_s();
		crowd_start(c, CROWD, ls, ns, gate, pids);
		double end = now_s() + 4 * TEST_DEADLINE;
		while (atomic_load(&c->attached) + atomic_load(&c->refused) +
			       atomic_load(&c->failed) < CROWD &&
		       now_s() < end)
			usleep(1000); /* a poll interval */
		double t1 = now_s();
		cr_assert_eq(atomic_load(&c->attached), CROWD, "round %d: %d attached, %d refused, %d failed",
			     round, atomic_load(&c->attached), atomic_load(&c->refused),
			     atomic_load(&c->failed));
		/* Every slot is taken: one more process is refused. */
		shmc_arena_t *extra = NULL;
		ASSERT_ERR(shmc_arena_open(name, &extra), SHMC_EPROCS);
		cr_assert_eq(stats_of(a).processes, CROWD + 1);
		/* shmc-stat shows every slot, each alive. */
		char *argv[] = {stat, name, NULL};
		struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 1e3));
		cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s", r.err);
		char want[96];
		snprintf(want, sizeof(want), "\nprocesses (%d slots in use):\n", CROWD + 1);
		cr_assert(strstr(r.out, want), "%.2000s", r.out);
		snprintf(want, sizeof(want), "  room for %d processes and %u threads\n", CROWD + 1,
			 SHMC_DEFAULT_THREADS);
		cr_assert(strstr(r.out, want), "%.2000s", r.out);
		cr_assert_eq(count_lines(r.out, " alive "), CROWD + 1);
		cr_assert_eq(count_lines(r.out, "DEAD"), 0);
		cr_assert(strstr(r.out, "  slot 1000  pid "), "%.2000s", r.out);
		run_free(&r);
		cr_assert_eq(crowd_end(CROWD, gate, pids), 0);
		cr_log_info("round %d: %d processes attached in %.2f s", round, CROWD, t1 - t0);
		/* Their slots are reaped and free again. */
		shmc_arena_reclaim(a);
		cr_assert_eq(stats_of(a).processes, 1, "round %d", round);
		shmc_value_t n;
		ASSERT_OK(shmc_namespace_get(ns, "n", &n));
		cr_assert_eq(n.i, (int64_t)round * CROWD);
		cr_assert_eq(shmc_list_len(ls), (int64_t)round * CROWD);
	}
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(a, 0, &rep, print_finding, NULL));
	cr_assert_eq(rep.dead_processes, 0);
	cr_assert_eq(rep.leaked_blocks, 0);
	munmap(c, sizeof(*c));
	shmc_obj_release(ls);
	shmc_obj_release(ns);
	shmc_arena_close(a);
}

Test(limits, the_default_of_256_processes_is_still_enforced)
{
	shmc_arena_t *a = test_arena(64 << 20);
	shmc_obj_t *ls, *ns;
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_namespace_new(a, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "n", shmc_int(0)));
	enum { N = SHMC_DEFAULT_PROCS + 40 };
	static pid_t pids[N];
	struct crowd *c = shared_page(sizeof(*c));
	int gate[2];
	crowd_start(c, N, ls, ns, gate, pids);
	double end = now_s() + 4 * TEST_DEADLINE;
	while (atomic_load(&c->attached) + atomic_load(&c->refused) + atomic_load(&c->failed) < N &&
	       now_s() < end)
		usleep(1000); /* a poll interval */
	/* The parent holds one slot; the children past the rest find the
	 * arena unusable (their fork could get no slot): SHMC_EHANDLE. */
	cr_assert_eq(atomic_load(&c->attached), SHMC_DEFAULT_PROCS - 1);
	cr_assert_eq(atomic_load(&c->refused), N - (SHMC_DEFAULT_PROCS - 1));
	cr_assert_eq(atomic_load(&c->failed), 0);
	cr_assert_eq(stats_of(a).processes, SHMC_DEFAULT_PROCS);
	cr_assert_eq(crowd_end(N, gate, pids), 0);
	shmc_arena_reclaim(a);
	cr_assert_eq(stats_of(a).processes, 1);
	cr_assert_eq(shmc_list_len(ls), SHMC_DEFAULT_PROCS - 1);
	munmap(c, sizeof(*c));
	shmc_obj_release(ls);
	shmc_obj_release(ns);
	shmc_arena_close(a);
}

/* Threads ------------------------------------------------------------------ */

struct crew {
	shmc_obj_t *ls;
	pthread_barrier_t *hold; /* the threads keep their records until here */
	int rc;
};

static void *crew_member(void *p)
{
	struct crew *c = p;
	c->rc = shmc_list_append(c->ls, shmc_int(1));
	if (c->hold)
		pthread_barrier_wait(c->hold);
	return NULL;
}

Test(limits, a_thread_past_max_threads_is_ethreads_until_one_leaves)
{
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY, .max_threads = 4};
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_create_anon(&o, &a));
	cr_assert_eq(stats_of(a).max_threads, 4);
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(0))); /* this thread's record */
	pthread_barrier_t hold;
	pthread_barrier_init(&hold, NULL, 5);
	struct crew c[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		c[i] = (struct crew){ls, &hold, -1};
		cr_assert_eq(pthread_create(&t[i], NULL, crew_member, &c[i]), 0);
	}
	/* All four have made their call, none has left: four records, this
	 * thread's and three others'. Which three is the scheduler's. */
	pthread_barrier_wait(&hold);
	int ok = 0, refused = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += c[i].rc == 0;
		refused += c[i].rc == SHMC_ETHREADS;
	}
	pthread_barrier_destroy(&hold);
	cr_assert_eq(ok, 3);
	cr_assert_eq(refused, 1);
	/* Those threads have exited: their records are idle and serve a new
	 * thread. */
	pthread_t u;
	c[0] = (struct crew){ls, NULL, -1};
	cr_assert_eq(pthread_create(&u, NULL, crew_member, &c[0]), 0);
	pthread_join(u, NULL);
	ASSERT_OK(c[0].rc);
	cr_assert_eq(shmc_list_len(ls), 5);
	shmc_obj_release(ls);
	shmc_arena_close(a);
}

/* Arenas ------------------------------------------------------------------- */

#define MANY_ARENAS 1100 /* more than PTHREAD_KEYS_MAX (1024) */

Test(limits, more_arenas_attached_at_once_than_pthread_keys)
{
	struct rlimit rl;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2 * MANY_ARENAS + 64) { /* two descriptors each */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < 2 * MANY_ARENAS + 64)
			cr_skip("only %llu file descriptors", (unsigned long long)rl.rlim_cur);
	}
	static shmc_arena_t *a[MANY_ARENAS];
	static shmc_obj_t *ls[MANY_ARENAS];
	for (int i = 0; i < MANY_ARENAS; i++) {
		ASSERT_OK(shmc_arena_create_anon(&(shmc_arena_options_t){.capacity =
										 SHMC_MIN_CAPACITY},
						 &a[i]));
		ASSERT_OK(shmc_list_new(a[i], &ls[i]));
		ASSERT_OK(shmc_list_append(ls[i], shmc_int(i)));
	}
	/* Every one still works, each with this thread's record of its own. */
	for (int i = 0; i < MANY_ARENAS; i++) {
		shmc_value_t v;
		ASSERT_OK(shmc_list_get(ls[i], 0, &v));
		cr_assert_eq(v.i, i);
		cr_assert_geq(shmc_arena_reclaim(a[i]), 0);
	}
	for (int i = 0; i < MANY_ARENAS; i++) {
		shmc_obj_release(ls[i]);
		shmc_arena_close(a[i]);
	}
	/* And a thread that used them all exits cleanly. */
}
