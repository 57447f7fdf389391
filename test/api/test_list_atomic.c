/*
 * test_list_atomic.c -- each list operation is one atomic step for other
 * processes: fork()ed readers copying the list in a loop only ever see a
 * state before or after an operation (never an empty, partial or
 * half-sorted list), and a writer SIGKILLed in the middle of one leaves
 * one of those states, with the lock and the arena sound.
 *
 * The list holds a permutation of 0..N-1 (the "single" state) or each of
 * them twice (the "double" state, after ls *= 2 or ls += ls); every
 * operation the writers make keeps it in one of the two.
 */
#include <criterion/criterion.h>

#include "testutil.h"

TestSuite(atomic, .timeout = 180);

#define N 300
#define NONE SHMC_SLICE_NONE

/* 1: a permutation of 0..N-1; 2: each twice; 0: anything else. */
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

/* What readers share with the test: how many snapshots each took, and the
 * word that tells them to stop. */
struct board {
	_Atomic int stop;
	_Atomic int snaps[4];
	_Atomic int changes[4];
};

struct reader_arg {
	shmc_obj_t *ls;
	struct board *b;
	int id;
	bool doubles; /* the double state is allowed */
};

static int reader(void *p)
{
	struct reader_arg *r = p;
	int last_first = -1;
	while (!atomic_load(&r->b->stop)) {
		shmc_value_t snap;
		int how = atomic_load(&r->b->snaps[r->id]) % 3;
		/* Alternate the three whole-list reads. */
		switch (how) {
		case 0:
			CHILD_OK(shmc_list_copy(r->ls, &snap));
			break;
		case 1:
			CHILD_OK(shmc_list_slice_get(r->ls, NONE, NONE, NONE, &snap));
			break;
		default:
			CHILD_OK(shmc_list_slice_get(r->ls, NONE, NONE, -1, &snap));
			break;
		}
		int st = state_of(snap);
		if (st == 0 || (st == 2 && !r->doubles)) {
			char *s = value_repr(snap);
			fprintf(stderr, "reader %d saw a list in no whole state: %.300s\n", r->id, s);
			_exit(1);
		}
		int first = (int)shmc_seq_at(snap, how == 2 ? -1 : 0)->i;
		if (first != last_first)
			atomic_fetch_add(&r->b->changes[r->id], 1);
		last_first = first;
		shmc_value_free(&snap);
		/* Counts taken in one step: one or two of each, never between. */
		int64_t k = shmc_list_count(r->ls, shmc_int(first));
		CHILD_CHECK(k == 1 || (r->doubles && k == 2));
		int64_t len = shmc_list_len(r->ls);
		CHILD_CHECK(len == N || (r->doubles && len == 2 * N));
		atomic_fetch_add(&r->b->snaps[r->id], 1);
	}
	return 0;
}

static shmc_obj_t *permutation_list(void)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int64_t i = 0; i < N; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int((i * 7) % N)));
	return ls;
}

/* A key that shuffles: sorting by it gives a new permutation each round. */
static int shuffle_key(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	*key = shmc_int((int64_t)(mix64((uint64_t)item->i ^ *(uint64_t *)ctx) >> 4));
	return 0;
}

/* V reversed, as a new plain list (V is freed). */
static int reversed(shmc_value_t *v)
{
	shmc_value_t r = shmc_plist_of(0);
	int rc = 0;
	for (size_t i = shmc_seq_len(*v); rc == 0 && i-- > 0;)
		rc = shmc_plist_append(&r, *shmc_seq_at(*v, (int64_t)i)); /* ints: no copy */
	shmc_value_free(v);
	*v = r;
	return rc;
}

/* One reordering step of round K, keeping the multiset. @return 0 or the
 * first error (children report it through their exit status). */
static int reorder(shmc_obj_t *ls, uint64_t k)
{
	shmc_value_t part;
	int64_t a = (int64_t)(mix64(k) % N), b = (int64_t)(mix64(k + 1) % N);
	int rc;
	switch (k % 5) {
	case 0:
		return shmc_list_sort(ls, shuffle_key, NULL, &k, k & 8);
	case 1:
		return shmc_list_reverse(ls);
	case 2: /* ls[a:b] = ls[a:b][::-1], in one assignment */
		if ((rc = shmc_list_slice_get(ls, a, b, NONE, &part)) == 0 &&
		    (rc = reversed(&part)) == 0)
			rc = shmc_list_slice_set(ls, a, b, NONE, part);
		shmc_value_free(&part);
		return rc;
	case 3: /* ls[::2] = ls[::2][::-1], an extended slice */
		if ((rc = shmc_list_slice_get(ls, NONE, NONE, 2, &part)) == 0 &&
		    (rc = reversed(&part)) == 0)
			rc = shmc_list_slice_set(ls, NONE, NONE, 2, part);
		shmc_value_free(&part);
		return rc;
	default:
		return shmc_list_sort(ls, NULL, NULL, NULL, k & 16);
	}
}

static void start_readers(struct reader_arg *args, int n, shmc_obj_t *ls, struct board *b,
			  bool doubles, pid_t *pids)
{
	for (int i = 0; i < n; i++) {
		args[i] = (struct reader_arg){ls, b, i, doubles};
		pids[i] = fork_fn(reader, &args[i]);
	}
}

/* Write until every reader has taken MIN snapshots and seen the list
 * change a few times (or the deadline passes: then the test fails). */
static void write_while_read(shmc_obj_t *ls, struct board *b, int nreaders,
			     int (*step)(shmc_obj_t *, uint64_t), uint64_t *rounds)
{
	double end = now_s() + TEST_DEADLINE;
	bool enough = false;
	for (*rounds = 0; !enough && now_s() < end; ++*rounds) {
		ASSERT_OK(step(ls, *rounds));
		enough = *rounds >= 500;
		for (int i = 0; i < nreaders; i++)
			enough &= atomic_load(&b->snaps[i]) >= 300 && atomic_load(&b->changes[i]) >= 20;
	}
	atomic_store(&b->stop, 1);
	cr_assert(enough, "readers did not get to read enough in %.0f s", TEST_DEADLINE);
}

static void finish_readers(pid_t *pids, int n, struct board *b)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(wait_exit(pids[i], TEST_DEADLINE), 0, "reader %d failed", i);
	for (int i = 0; i < n; i++)
		cr_log_info("reader %d: %d snapshots, %d changes seen", i,
			    atomic_load(&b->snaps[i]), atomic_load(&b->changes[i]));
}

Test(atomic, readers_never_see_a_partly_reordered_list, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls = permutation_list();
	struct board *b = shared_page(sizeof(*b));
	struct reader_arg args[2];
	pid_t pids[2];
	uint64_t rounds;
	start_readers(args, 2, ls, b, false, pids);
	write_while_read(ls, b, 2, reorder, &rounds);
	finish_readers(pids, 2, b);
	cr_log_info("%llu reorderings (sort, reverse, slice assignments)",
		    (unsigned long long)rounds);
	shmc_value_t snap;
	ASSERT_OK(shmc_list_copy(ls, &snap));
	cr_assert_eq(state_of(snap), 1);
	shmc_value_free(&snap);
	munmap(b, sizeof(*b));
	shmc_obj_release(ls);
}

/* Grow to the double state and back, each way in one step; reorder in
 * the single state now and then. */
static int grow_shrink(shmc_obj_t *ls, uint64_t k)
{
	shmc_value_t none = shmc_tuple_of(0);
	int rc;
	switch (k % 6) {
	case 0:
		rc = shmc_list_inplace_repeat(ls, 2);
		break;
	case 1:
		rc = shmc_list_slice_del(ls, N, NONE, NONE);
		break;
	case 2:
		rc = shmc_list_extend(ls, shmc_ref(ls));
		break;
	case 3:
		rc = shmc_list_slice_set(ls, N, NONE, NONE, none);
		break;
	case 4:
		rc = shmc_list_slice_set(ls, 0, 0, NONE, shmc_ref(ls));
		break;
	default:
		if ((rc = shmc_list_slice_del(ls, NONE, N, NONE)) == 0)
			rc = reorder(ls, k / 6);
		break;
	}
	shmc_value_free(&none);
	return rc;
}

Test(atomic, readers_see_whole_lists_while_it_grows_and_shrinks, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls = permutation_list();
	struct board *b = shared_page(sizeof(*b));
	struct reader_arg args[2];
	pid_t pids[2];
	uint64_t rounds;
	start_readers(args, 2, ls, b, true, pids);
	write_while_read(ls, b, 2, grow_shrink, &rounds);
	finish_readers(pids, 2, b);
	cr_log_info("%llu resizes (*=, +=, slice assignment and deletion)",
		    (unsigned long long)rounds);
	munmap(b, sizeof(*b));
	shmc_obj_release(ls);
}

/* A writer killed anywhere in an operation ------------------------------- */

static int busy_writer(void *p)
{
	shmc_obj_t *ls = p;
	for (uint64_t k = 0;; k++)
		CHILD_OK(grow_shrink(ls, k));
	return 0;
}

static void count_errors(void *ctx, const char *msg)
{
	(void)msg;
	++*(int *)ctx;
}

Test(atomic, a_writer_killed_mid_operation_leaves_a_whole_list, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls = permutation_list();
	int before_or_after[3] = {0};
	for (int round = 0; round < 40; round++) {
		pid_t pid = fork_fn(busy_writer, ls);
		/* A sleep of varying length, only to vary where the kill lands:
		 * what is checked does not depend on it. */
		usleep(2000 + (useconds_t)(mix64((uint64_t)round) % 20000));
		cr_assert(kill_wait(pid), "the writer ended before it was killed");
		shmc_value_t snap;
		ASSERT_OK(shmc_list_copy(ls, &snap));
		int st = state_of(snap);
		shmc_value_free(&snap);
		cr_assert_neq(st, 0, "round %d: the kill left a list in no whole state", round);
		before_or_after[st]++;
		/* The lock is taken over from the dead writer; the list is
		 * usable as before. */
		ASSERT_OK(shmc_list_sort(ls, NULL, NULL, NULL, false));
		if (st == 2)
			ASSERT_OK(shmc_list_slice_del(ls, NONE, NONE, 2));
		ASSERT_OK(shmc_list_copy(ls, &snap));
		cr_assert_eq(state_of(snap), 1);
		shmc_value_free(&snap);
	}
	shmc_check_report_t rep;
	int errors = 0;
	cr_assert_eq(shmc_arena_check(A, SHMC_CHECK_REAP | SHMC_CHECK_SWEEP, &rep, count_errors,
				      &errors),
		     0);
	cr_log_info("40 kills: %d single, %d double states; %llu leaked blocks swept, "
		    "%llu dead processes reaped",
		    before_or_after[1], before_or_after[2], (unsigned long long)rep.swept_blocks,
		    (unsigned long long)rep.reaped);
	cr_assert_eq(rep.errors, 0);
	shmc_obj_release(ls);
}
