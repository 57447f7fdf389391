/*
 * test_queue.c -- Queue and JoinableQueue: FIFO of any value, bounds,
 * timeouts, errors that change nothing, 8 producers and 8 consumers moving
 * 100 000 items, task_done/join, and processes killed while they wait, or in
 * the middle of a put or a get.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "sync/sync.h"
#define SHMC_TEST_WHITEBOX /* inject_until_ok, wrap_off */
#include "testutil.h"

TestSuite(queue, .timeout = 180);

static int64_t get_int(shmc_obj_t *q, double timeout)
{
	shmc_value_t v;
	ASSERT_OK(shmc_queue_get(q, timeout, &v));
	cr_assert_eq(v.type, SHMC_INT);
	return v.i;
}

Test(queue, items_come_out_in_order_as_copies, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *q, *ls;
	ASSERT_OK(shmc_queue_new(A, 0, &q));
	char *s;
	ASSERT_OK(shmc_obj_repr(q, &s));
	cr_assert(strncmp(s, "<AutoProxy[Queue] object, typeid 'Queue' at 0x", 46) == 0, "%s", s);
	shmc_free(s);
	s = obj_str(q);
	cr_assert(strncmp(s, "<queue.Queue object at 0x", 25) == 0, "%s", s);
	shmc_free(s);
	ASSERT_OK(shmc_list_new(A, &ls));
	shmc_value_t t = shmc_tuple_of(3, shmc_int(1), shmc_str("two"),
				       shmc_plist_of(1, shmc_float(3.5)));
	ASSERT_OK(shmc_queue_put(q, shmc_int(42), SHMC_FOREVER));
	ASSERT_OK(shmc_queue_put(q, shmc_str("hello"), SHMC_NOWAIT));
	ASSERT_OK(shmc_queue_put_nowait(q, t));
	ASSERT_OK(shmc_queue_put(q, shmc_none(), 1));
	ASSERT_OK(shmc_queue_put(q, shmc_ref(ls), 1));
	ASSERT_OK(shmc_queue_put(q, shmc_int((int64_t)1 << 62), 1)); /* a block */
	cr_assert_eq(shmc_queue_qsize(q), 6);
	cr_assert_eq(shmc_queue_empty(q), 0);
	cr_assert_eq(shmc_queue_full(q), 0);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	cr_assert_eq(get_int(q, 1), 42);
	shmc_value_t v;
	ASSERT_OK(shmc_queue_get_nowait(q, &v));
	cr_assert(v.type == SHMC_STR && strcmp(v.str, "hello") == 0);
	shmc_value_free(&v);
	ASSERT_OK(shmc_queue_get(q, SHMC_FOREVER, &v));
	cr_assert(shmc_value_eq(v, t));
	shmc_value_free(&v);
	shmc_value_free(&t);
	ASSERT_OK(shmc_queue_get(q, 1, &v));
	cr_assert_eq(v.type, SHMC_NONE);
	ASSERT_OK(shmc_queue_get(q, 1, &v));
	cr_assert(v.type == SHMC_REF && shmc_obj_same(v.ref, ls));
	shmc_value_free(&v);
	cr_assert_eq(get_int(q, 1), (int64_t)1 << 62);
	cr_assert_eq(shmc_queue_empty(q), 1);
	ASSERT_ERR(shmc_queue_get_nowait(q, &v), SHMC_EQUEUEEMPTY);
	double t0 = now_s();
	ASSERT_ERR(shmc_queue_get(q, 0.05, &v), SHMC_EQUEUEEMPTY);
	cr_assert_geq(now_s() - t0, 0.049);
	shmc_obj_release(ls);
	shmc_obj_release(q);
}

Test(queue, a_bounded_queue_refuses_past_maxsize, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *q;
	ASSERT_OK(shmc_queue_new(A, 2, &q));
	ASSERT_OK(shmc_queue_put(q, shmc_int(1), SHMC_NOWAIT));
	ASSERT_OK(shmc_queue_put(q, shmc_str("a string in a block"), SHMC_NOWAIT));
	cr_assert_eq(shmc_queue_full(q), 1);
	ASSERT_ERR(shmc_queue_put_nowait(q, shmc_int(3)), SHMC_EQUEUEFULL);
	double t0 = now_s();
	ASSERT_ERR(shmc_queue_put(q, shmc_str("refused"), 0.05), SHMC_EQUEUEFULL);
	cr_assert_geq(now_s() - t0, 0.049);
	cr_assert_eq(get_int(q, 1), 1);
	ASSERT_OK(shmc_queue_put(q, shmc_int(3), SHMC_NOWAIT));
	cr_assert_eq(shmc_queue_qsize(q), 2);
	shmc_obj_release(q); /* destroyed with two items queued */
}

Test(queue, bad_arguments_change_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *q, *l;
	shmc_value_t v;
	ASSERT_OK(shmc_queue_new(A, -5, &q)); /* <= 0: unbounded */
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_ERR(shmc_queue_put(q, shmc_strn("\xff", 1), 1), -EILSEQ);
	ASSERT_ERR(shmc_queue_put(q, shmc_int(1), -2), -EINVAL);
	ASSERT_ERR(shmc_queue_get(q, NAN, &v), -EINVAL);
	ASSERT_ERR(shmc_queue_get(q, 1, NULL), -EINVAL);
	ASSERT_ERR(shmc_queue_put(l, shmc_int(1), 1), SHMC_EKIND);
	ASSERT_ERR(shmc_queue_task_done(q), SHMC_EKIND);
	ASSERT_ERR(shmc_queue_join(q, 1), SHMC_EKIND);
	cr_assert_eq(shmc_queue_qsize(l), SHMC_EKIND);
	cr_assert_eq(shmc_queue_qsize(NULL), SHMC_EHANDLE);
	cr_assert_eq(shmc_queue_qsize(q), 0);
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_queue_put(q, shmc_int(i), SHMC_NOWAIT));
	cr_assert_eq(shmc_queue_full(q), 0);
	shmc_obj_release(l);
	shmc_obj_release(q);
}

Test(queue, a_managed_object_travels_by_reference, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *q, *ls;
	ASSERT_OK(shmc_queue_new(A, 0, &q));
	ASSERT_OK(shmc_list_new(A, &ls));
	shmc_value_t item = shmc_plist_of(2, shmc_ref(ls), shmc_int(1));
	ASSERT_OK(shmc_queue_put(q, item, 1));
	/* The queue keeps the list alive once we let go of it. */
	shmc_value_free(&item);
	shmc_obj_release(ls);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	cr_assert_eq(rep.objects, 2);
	shmc_value_t v;
	ASSERT_OK(shmc_queue_get(q, 1, &v));
	ls = shmc_seq_at(v, 0)->ref;
	ASSERT_OK(shmc_list_append(ls, shmc_str("still there")));
	char *s = obj_str(ls);
	cr_assert_str_eq(s, "['still there']");
	shmc_free(s);
	shmc_value_free(&v);
	shmc_obj_release(q);
}

/* A failed allocation changes nothing: the value block, then the ring. */
static int put_a_block(void *q)
{
	return shmc_queue_put(q, shmc_str("a string needs a block"), SHMC_NOWAIT);
}

Test(queue, a_failed_allocation_changes_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *q;
	ASSERT_OK(shmc_queue_new(A, 0, &q));
	for (int i = 0; i < 16; i++) /* fills the first ring */
		ASSERT_OK(shmc_queue_put(q, shmc_int(i), SHMC_NOWAIT));
	int nfail;
	ASSERT_OK(inject_until_ok(A, put_a_block, q, &nfail));
	cr_assert_eq(nfail, 2, "%d", nfail); /* the block, the bigger ring */
	cr_assert_eq(shmc_queue_qsize(q), 17);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(get_int(q, 1), i);
	shmc_value_t v;
	ASSERT_OK(shmc_queue_get(q, 1, &v));
	cr_assert_str_eq(v.str, "a string needs a block");
	shmc_value_free(&v);
	shmc_obj_release(q);
}

/* Blocking calls woken by another process: the child acts once the parent
 * is registered as a sleeper on the queue (a deadline, not a guess). */
static int put_later(void *p)
{
	if (!wait_count(shmc__queue_sleepers, p, 1, TEST_DEADLINE))
		return 2;
	return shmc_queue_put(p, shmc_str("late"), 1) == 0 ? 0 : 1;
}

static int get_later(void *p)
{
	if (!wait_count(shmc__queue_sleepers, p, 1, TEST_DEADLINE))
		return 2;
	shmc_value_t v;
	int rc = shmc_queue_get(p, 1, &v);
	shmc_value_free(&v);
	return rc == 0 ? 0 : 1;
}

Test(queue, blocking_get_and_put_are_woken_by_other_processes, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *q;
	shmc_value_t v;
	ASSERT_OK(shmc_queue_new(A, 1, &q));
	pid_t pid = fork_fn(put_later, q);
	ASSERT_OK(shmc_queue_get(q, 2 * TEST_DEADLINE, &v));
	cr_assert_str_eq(v.str, "late");
	shmc_value_free(&v);
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	ASSERT_OK(shmc_queue_put(q, shmc_int(1), SHMC_NOWAIT));
	pid = fork_fn(get_later, q);
	ASSERT_OK(shmc_queue_put(q, shmc_int(2), 2 * TEST_DEADLINE));
	cr_assert_eq(wait_exit(pid, 2 * TEST_DEADLINE), 0);
	cr_assert_eq(get_int(q, 1), 2);
	cr_assert_eq(shmc__queue_sleepers(q), 0);
	shmc_obj_release(q);
}

/* A process that opened the arena by name (not inherited by fork): it
 * attaches anew, at its own address, and reaches the objects by offset. */
struct named {
	char name[64];
	shmc_arena_t *inherited;
	uint64_t q_off, l_off, e_off;
};

static int named_peer(void *p)
{
	struct named *n = p;
	shmc_arena_close(n->inherited);
	shmc_arena_t *b;
	shmc_obj_t *q, *l, *e;
	CHILD_OK(shmc_arena_open(n->name, &b));
	CHILD_OK(wrap_off(b, n->q_off, &q));
	CHILD_OK(wrap_off(b, n->l_off, &l));
	CHILD_OK(wrap_off(b, n->e_off, &e));
	CHILD_CHECK(shmc_obj_kind(q) == SHMC_KIND_QUEUE && shmc_obj_kind(l) == SHMC_KIND_LOCK);
	shmc_value_t v;
	CHILD_OK(shmc_queue_get(q, TEST_DEADLINE, &v)); /* from the creator */
	CHILD_CHECK(v.type == SHMC_STR && strcmp(v.str, "to the peer") == 0);
	shmc_value_free(&v);
	for (int i = 0; i < 3; i++)
		CHILD_OK(shmc_queue_put(q, shmc_tuple_of(2, shmc_str("from the peer"), shmc_int(i)), 1));
	CHILD_OK(shmc_lock_acquire(l, 1));
	CHILD_OK(shmc_event_set(e));
	_exit(0); /* holding the lock, without detaching */
}

Test(queue, usable_from_a_process_that_opened_the_named_arena)
{
	struct named n;
	snprintf(n.name, sizeof(n.name), "shmc-test-sync-%d", (int)getpid());
	shmc_arena_unlink(n.name);
	ASSERT_OK(shmc_arena_create(n.name, NULL, &n.inherited));
	shmc_obj_t *q, *l, *e;
	ASSERT_OK(shmc_queue_new(n.inherited, 0, &q));
	ASSERT_OK(shmc_lock_new(n.inherited, &l));
	ASSERT_OK(shmc_event_new(n.inherited, &e));
	n.q_off = shmc__handle_off(q);
	n.l_off = shmc__handle_off(l);
	n.e_off = shmc__handle_off(e);
	ASSERT_OK(shmc_queue_put(q, shmc_str("to the peer"), 1));
	pid_t pid = fork_fn(named_peer, &n);
	ASSERT_OK(shmc_event_wait(e, TEST_DEADLINE));
	for (int i = 0; i < 3; i++) {
		shmc_value_t v;
		ASSERT_OK(shmc_queue_get(q, TEST_DEADLINE, &v));
		cr_assert_eq(shmc_seq_at(v, 1)->i, i);
		shmc_value_free(&v);
	}
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	ASSERT_ERR(shmc_lock_acquire(l, TEST_DEADLINE), SHMC_EOWNERDEAD);
	ASSERT_OK(shmc_lock_release(l));
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(n.inherited, SHMC_CHECK_REAP, &rep, NULL, NULL));
	cr_assert_eq(rep.errors, 0);
	shmc_obj_release(q);
	shmc_obj_release(l);
	shmc_obj_release(e);
	shmc_arena_close(n.inherited);
	ASSERT_OK(shmc_arena_unlink(n.name));
}

/* 8 producers, 8 consumers, 100 000 items ------------------------------- */

#define PRODUCERS 8
#define CONSUMERS 8
#define ITEMS 100000
#define PER_PRODUCER (ITEMS / PRODUCERS)
#define STOP (-1)

struct flow {
	shmc_obj_t *q;
	_Atomic int *seen;   /* [ITEMS]: times each item was received */
	_Atomic int *errors; /* out-of-order items seen by a consumer */
};

static int producer(int p, void *arg)
{
	struct flow *f = arg;
	for (int k = 0; k < PER_PRODUCER; k++) {
		shmc_value_t v = k % 16 == 0
			? shmc_tuple_of(2, shmc_int(p), shmc_int(k)) /* some blocks */
			: shmc_int((int64_t)p * PER_PRODUCER + k);
		int rc = shmc_queue_put(f->q, v, TEST_DEADLINE);
		shmc_value_free(&v);
		CHILD_OK(rc);
	}
	return 0;
}

static int consumer(int c, void *arg)
{
	(void)c;
	struct flow *f = arg;
	int last[PRODUCERS];
	for (int p = 0; p < PRODUCERS; p++)
		last[p] = -1;
	for (;;) {
		shmc_value_t v;
		CHILD_OK(shmc_queue_get(f->q, TEST_DEADLINE, &v));
		int64_t x;
		if (v.type == SHMC_TUPLE)
			x = shmc_seq_at(v, 0)->i * PER_PRODUCER + shmc_seq_at(v, 1)->i;
		else
			x = v.i;
		shmc_value_free(&v);
		if (x == STOP)
			return 0;
		CHILD_CHECK(x >= 0 && x < ITEMS);
		int p = (int)(x / PER_PRODUCER), k = (int)(x % PER_PRODUCER);
		if (k <= last[p]) /* FIFO per producer, as this consumer sees it */
			atomic_fetch_add(f->errors, 1);
		last[p] = k;
		atomic_fetch_add(&f->seen[x], 1);
	}
}

static int worker(int i, void *arg)
{
	return i < PRODUCERS ? producer(i, arg) : consumer(i - PRODUCERS, arg);
}

static void flow(int64_t maxsize)
{
	struct flow f;
	size_t bytes = sizeof(_Atomic int) * (ITEMS + 1);
	f.seen = shared_page(bytes);
	f.errors = &f.seen[ITEMS];
	ASSERT_OK(shmc_queue_new(A, maxsize, &f.q));
	double t0 = now_s();
	pid_t pids[PRODUCERS + CONSUMERS];
	fflush(NULL);
	for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0)
			_exit(worker(i, &f));
	}
	for (int i = 0; i < PRODUCERS; i++)
		cr_assert_eq(wait_exit(pids[i], 4 * TEST_DEADLINE), 0, "producer %d", i);
	for (int i = 0; i < CONSUMERS; i++)
		ASSERT_OK(shmc_queue_put(f.q, shmc_int(STOP), TEST_DEADLINE));
	for (int i = PRODUCERS; i < PRODUCERS + CONSUMERS; i++)
		cr_assert_eq(wait_exit(pids[i], 4 * TEST_DEADLINE), 0, "consumer %d", i - PRODUCERS);
	double took = now_s() - t0;
	int missing = 0, twice = 0;
	for (int x = 0; x < ITEMS; x++) {
		missing += atomic_load(&f.seen[x]) == 0;
		twice += atomic_load(&f.seen[x]) > 1;
	}
	cr_assert_eq(missing, 0);
	cr_assert_eq(twice, 0);
	cr_assert_eq(atomic_load(f.errors), 0);
	cr_assert_eq(shmc_queue_qsize(f.q), 0);
	fprintf(stderr, "queue: %d producers + %d consumers, %d items, maxsize %lld: "
		"%.2f s (%.0f items/s), none lost, none twice, FIFO per producer\n",
		PRODUCERS, CONSUMERS, ITEMS, (long long)maxsize, took, ITEMS / took);
	munmap((void *)f.seen, bytes);
	shmc_obj_release(f.q);
}

Test(queue, eight_producers_eight_consumers_100000_items_bounded, .init = arena_setup,
     .fini = arena_teardown)
{
	flow(1000);
}

Test(queue, eight_producers_eight_consumers_100000_items_unbounded, .init = arena_setup,
     .fini = arena_teardown)
{
	flow(0);
}

/* JoinableQueue ----------------------------------------------------------- */

Test(queue, join_waits_for_every_task_done, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *q;
	ASSERT_OK(shmc_joinable_queue_new(A, 0, &q));
	char *s;
	ASSERT_OK(shmc_obj_repr(q, &s));
	cr_assert(strncmp(s, "<AutoProxy[JoinableQueue] object, typeid 'JoinableQueue' at 0x",
			  62) == 0, "%s", s);
	shmc_free(s);
	s = obj_str(q);
	cr_assert(strncmp(s, "<queue.Queue object at 0x", 25) == 0, "%s", s);
	shmc_free(s);
	ASSERT_OK(shmc_queue_join(q, SHMC_NOWAIT)); /* nothing to wait for */
	ASSERT_ERR(shmc_queue_task_done(q), SHMC_ENOTASK);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_queue_put(q, shmc_int(i), 1));
	ASSERT_ERR(shmc_queue_join(q, 0.02), -ETIMEDOUT);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(get_int(q, 1), i);
		ASSERT_ERR(shmc_queue_join(q, SHMC_NOWAIT), -ETIMEDOUT);
		ASSERT_OK(shmc_queue_task_done(q));
	}
	ASSERT_OK(shmc_queue_join(q, SHMC_NOWAIT));
	ASSERT_ERR(shmc_queue_task_done(q), SHMC_ENOTASK);
	/* task_done() may run ahead of get(), as in Python. */
	ASSERT_OK(shmc_queue_put(q, shmc_int(9), 1));
	ASSERT_OK(shmc_queue_task_done(q));
	ASSERT_OK(shmc_queue_join(q, SHMC_NOWAIT));
	cr_assert_eq(get_int(q, 1), 9);
	ASSERT_ERR(shmc_queue_task_done(q), SHMC_ENOTASK);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	shmc_obj_release(q);
}

static int work_through(int i, void *p)
{
	(void)i;
	for (;;) {
		shmc_value_t v;
		int rc = shmc_queue_get(p, 0.2, &v);
		if (rc == SHMC_EQUEUEEMPTY)
			return 0;
		CHILD_OK(rc);
		usleep(100); /* the task's work, not a synchronisation */
		CHILD_OK(shmc_queue_task_done(p));
	}
}

Test(queue, join_returns_when_workers_in_other_processes_are_done,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *q;
	ASSERT_OK(shmc_joinable_queue_new(A, 10, &q));
	fflush(NULL);
	pid_t w[3];
	for (int i = 0; i < 3; i++) {
		w[i] = fork();
		if (w[i] == 0)
			_exit(work_through(i, q));
	}
	for (int i = 0; i < 200; i++)
		ASSERT_OK(shmc_queue_put(q, shmc_int(i), TEST_DEADLINE));
	ASSERT_OK(shmc_queue_join(q, TEST_DEADLINE));
	cr_assert_eq(shmc_queue_qsize(q), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(wait_exit(w[i], TEST_DEADLINE), 0);
	shmc_obj_release(q);
}

/* Death ------------------------------------------------------------------- */

#define KILLS 200

struct victim {
	shmc_obj_t *q;
	_Atomic int *ready;
};

static int get_forever(void *p)
{
	struct victim *v = p;
	atomic_fetch_add(v->ready, 1);
	shmc_value_t x;
	shmc_queue_get(v->q, SHMC_FOREVER, &x);
	return 3;
}

static int get_one(void *p)
{
	struct victim *v = p;
	shmc_value_t x;
	int rc = shmc_queue_get(v->q, TEST_DEADLINE, &x);
	if (rc)
		return 1;
	int ok = x.type == SHMC_STR && strcmp(x.str, "for the living") == 0;
	shmc_value_free(&x);
	return ok ? 0 : 2;
}

Test(queue, getter_killed_200_times_the_item_goes_to_a_live_one, .init = arena_setup,
     .fini = arena_teardown)
{
	struct victim v = {NULL, shared_page(4096)};
	ASSERT_OK(shmc_queue_new(A, 0, &v.q));
	int hangs = 0;
	double t0 = now_s();
	for (int k = 0; k < KILLS; k++) {
		atomic_store(v.ready, 0);
		pid_t dead = fork_fn(get_forever, &v);
		pid_t live = fork_fn(get_one, &v);
		cr_assert(wait_flag(v.ready, 1, TEST_DEADLINE));
		if (k % 4 == 0) /* now and then, once both sleep */
			cr_assert(wait_count(shmc__queue_sleepers, v.q, 2, TEST_DEADLINE));
		kill_wait(dead);
		ASSERT_OK(shmc_queue_put(v.q, shmc_str("for the living"), 1));
		int rc = wait_exit(live, TEST_DEADLINE);
		hangs += rc == CHILD_HUNG;
		cr_assert_eq(rc, 0, "kill %d: the live getter got %d", k, rc);
	}
	cr_assert_eq(shmc_queue_qsize(v.q), 0);
	fprintf(stderr, "queue: getter killed %d times: %d hangs, %.2f s\n", KILLS, hangs,
		now_s() - t0);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, NULL, NULL));
	munmap((void *)v.ready, 4096);
	shmc_obj_release(v.q);
}

static int put_forever(void *p)
{
	struct victim *v = p;
	atomic_fetch_add(v->ready, 1);
	shmc_queue_put(v->q, shmc_str("from the dead"), SHMC_FOREVER);
	return 3;
}

static int put_one(void *p)
{
	struct victim *v = p;
	return shmc_queue_put(v->q, shmc_str("for the living"), TEST_DEADLINE) == 0 ? 0 : 1;
}

Test(queue, putter_killed_200_times_others_unaffected, .init = arena_setup,
     .fini = arena_teardown)
{
	struct victim v = {NULL, shared_page(4096)};
	ASSERT_OK(shmc_queue_new(A, 1, &v.q));
	ASSERT_OK(shmc_queue_put(v.q, shmc_int(0), 1));
	int hangs = 0;
	double t0 = now_s();
	for (int k = 0; k < KILLS; k++) {
		atomic_store(v.ready, 0);
		pid_t dead = fork_fn(put_forever, &v);
		cr_assert(wait_flag(v.ready, 1, TEST_DEADLINE));
		if (k % 4 == 0)
			cr_assert(wait_count(shmc__queue_sleepers, v.q, 1, TEST_DEADLINE));
		kill_wait(dead);
		pid_t live = fork_fn(put_one, &v);
		shmc_value_t x;
		ASSERT_OK(shmc_queue_get(v.q, 1, &x)); /* makes room */
		shmc_value_free(&x);
		int rc = wait_exit(live, TEST_DEADLINE);
		hangs += rc == CHILD_HUNG;
		cr_assert_eq(rc, 0, "kill %d: the live putter got %d", k, rc);
		cr_assert_eq(shmc_queue_qsize(v.q), 1);
	}
	shmc_value_t x;
	ASSERT_OK(shmc_queue_get(v.q, 1, &x));
	cr_assert_str_eq(x.str, "for the living");
	shmc_value_free(&x);
	fprintf(stderr, "queue: putter killed %d times: %d hangs, %.2f s\n", KILLS, hangs,
		now_s() - t0);
	munmap((void *)v.ready, 4096);
	shmc_obj_release(v.q);
}

static int take_tasks_and_hang(void *p)
{
	struct victim *v = p;
	for (int i = 0; i < 2; i++) {
		shmc_value_t x;
		CHILD_OK(shmc_queue_get(v->q, TEST_DEADLINE, &x));
		shmc_value_free(&x);
	}
	atomic_store(v->ready, 1);
	for (;;)
		pause();
}

Test(queue, consumer_killed_200_times_join_counts_its_tasks_done, .init = arena_setup,
     .fini = arena_teardown)
{
	struct victim v = {NULL, shared_page(4096)};
	ASSERT_OK(shmc_joinable_queue_new(A, 0, &v.q));
	int hangs = 0;
	double t0 = now_s(), worst = 0;
	for (int k = 0; k < KILLS; k++) {
		atomic_store(v.ready, 0);
		for (int i = 0; i < 3; i++)
			ASSERT_OK(shmc_queue_put(v.q, shmc_int(i), 1));
		pid_t dead = fork_fn(take_tasks_and_hang, &v);
		cr_assert(wait_flag(v.ready, 1, TEST_DEADLINE));
		/* One task is ours: done. Two died with the consumer. */
		cr_assert_eq(get_int(v.q, 1), 2);
		ASSERT_OK(shmc_queue_task_done(v.q));
		ASSERT_ERR(shmc_queue_join(v.q, SHMC_NOWAIT), -ETIMEDOUT);
		kill_wait(dead);
		double t = now_s();
		int rc = shmc_queue_join(v.q, TEST_DEADLINE);
		worst = fmax(worst, now_s() - t);
		hangs += rc == -ETIMEDOUT;
		cr_assert_eq(rc, 0, "kill %d: join got %s", k, shmc_errname(rc));
		ASSERT_ERR(shmc_queue_task_done(v.q), SHMC_ENOTASK);
	}
	fprintf(stderr, "queue: JoinableQueue consumer killed %d times: join returned %d "
		"times, %d hangs, %.2f s, slowest join %.1f ms\n", KILLS, KILLS - hangs, hangs,
		now_s() - t0, worst * 1e3);
	munmap((void *)v.ready, 4096);
	shmc_obj_release(v.q);
}

/* Killed in the middle of a put or a get: every item is queued or was
 * delivered, never both, never half, and at most the one a consumer was
 * taking when it died is lost with it. */
#define ROUNDS 60
#define SLOTS (1 << 22)

struct oracle {
	shmc_obj_t *q;
	_Atomic int64_t next;     /* the producer's next item */
	_Atomic int64_t putting;  /* the item being put, -1 */
	_Atomic int64_t got_last; /* the consumer's last item */
	_Atomic int got[SLOTS];   /* times each item was received */
	_Atomic int disorder;
};

static int hammer_put(void *p)
{
	struct oracle *o = p;
	for (;;) {
		int64_t k = atomic_load(&o->next);
		atomic_store(&o->putting, k);
		shmc_value_t v = k % 3 ? shmc_int(k) : shmc_tuple_of(2, shmc_str("item"), shmc_int(k));
		int rc = shmc_queue_put(o->q, v, TEST_DEADLINE);
		shmc_value_free(&v);
		CHILD_OK(rc);
		atomic_store(&o->next, k + 1);
		atomic_store(&o->putting, -1);
	}
}

static int64_t item_of(shmc_value_t v)
{
	return v.type == SHMC_TUPLE ? shmc_seq_at(v, 1)->i : v.i;
}

static int hammer_get(void *p)
{
	struct oracle *o = p;
	for (;;) {
		shmc_value_t v;
		CHILD_OK(shmc_queue_get(o->q, TEST_DEADLINE, &v));
		int64_t k = item_of(v);
		shmc_value_free(&v);
		if (k <= atomic_load(&o->got_last))
			atomic_fetch_add(&o->disorder, 1);
		atomic_store(&o->got_last, k);
		atomic_fetch_add(&o->got[k % SLOTS], 1);
	}
}

Test(queue, processes_killed_mid_put_or_get_lose_or_duplicate_nothing,
     .init = arena_setup, .fini = arena_teardown)
{
	struct oracle *o = shared_page(sizeof(*o));
	atomic_store(&o->putting, -1);
	atomic_store(&o->got_last, -1);
	ASSERT_OK(shmc_queue_new(A, 64, &o->q));
	unsigned seed = 12345;
	int lost = 0, landed = 0;
	double t0 = now_s();
	for (int r = 0; r < ROUNDS; r++) {
		pid_t prod = fork_fn(hammer_put, o), cons = fork_fn(hammer_get, o);
		usleep(200 + rand_r(&seed) % 3000); /* varies where the kills land */
		/* Kill both, in either order, at arbitrary instructions. */
		if (r % 2) {
			kill_wait(prod);
			kill_wait(cons);
		} else {
			kill_wait(cons);
			kill_wait(prod);
		}
		/* A put that was in flight may or may not have happened. */
		int64_t next = atomic_load(&o->next), putting = atomic_load(&o->putting);
		shmc_value_t v;
		int64_t last = atomic_load(&o->got_last);
		while (shmc_queue_get_nowait(o->q, &v) == 0) {
			int64_t k = item_of(v);
			shmc_value_free(&v);
			cr_assert_gt(k, last, "round %d: %lld after %lld", r, (long long)k,
				     (long long)last);
			last = k;
			atomic_fetch_add(&o->got[k % SLOTS], 1);
		}
		if (putting >= 0 && last == putting) {
			next = putting + 1; /* the killed put had landed */
			landed++;
		}
		atomic_store(&o->next, next);
		atomic_store(&o->putting, -1);
		atomic_store(&o->got_last, last);
		/* Everything put so far was received once, but at most one
		 * item per killed consumer, taken as it died. */
		int missing = 0;
		for (int64_t k = 0; k < next; k++) {
			int n = atomic_load(&o->got[k % SLOTS]);
			cr_assert_leq(n, 1, "item %lld received %d times", (long long)k, n);
			missing += n == 0;
		}
		cr_assert_leq(missing, lost + 1, "round %d: %d items missing", r, missing);
		lost = missing;
		shmc_check_report_t rep;
		int rc = shmc_arena_check(A, SHMC_CHECK_REAP | SHMC_CHECK_SWEEP, &rep, NULL, NULL);
		cr_assert_eq(rc, 0, "round %d: %llu errors", r, (unsigned long long)rep.errors);
	}
	cr_assert_eq(atomic_load(&o->disorder), 0);
	fprintf(stderr, "queue: producer and consumer killed %d times mid-flight: %lld items, "
		"%d taken by a dying consumer, %d puts landed as they died, 0 duplicated, "
		"%.2f s\n", ROUNDS, (long long)atomic_load(&o->next), lost, landed,
		now_s() - t0);
	shmc_obj_release(o->q);
	munmap(o, sizeof(*o));
}
