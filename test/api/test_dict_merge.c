/*
 * test_dict_merge.c -- Python's d.update(other) (shmc_dict_merge, also
 * d |= other) and d | other (shmc_dict_or): every kind of argument Python
 * takes, compared with what a live python3 Manager prints; failures that
 * change nothing (where Python stops half-way); references released with
 * the values they replace; what a merge costs in each of its two ways; and
 * forked readers that never see part of a merge.
 */
#include <criterion/criterion.h>
#include <sched.h>

#include "testutil.h"

TestSuite(dict_merge, .timeout = 120);

/* Python's exception for a code, as the test scripts print it. */
static const char *py_error(int rc)
{
	switch (rc) {
	case 0:
		return "ok";
	case SHMC_ETYPE:
	case SHMC_EUNHASHABLE:
		return "TypeError";
	case -EINVAL:
		return "ValueError";
	default:
		return shmc_errname(rc);
	}
}

static void print_obj(FILE *f, shmc_obj_t *o)
{
	char *s = obj_str(o);
	fprintf(f, "%s", s);
	shmc_free(s);
}

static void print_value(FILE *f, shmc_value_t v)
{
	char *s = value_repr(v);
	fprintf(f, "%s\n", s);
	shmc_free(s);
}

static const char merge_py[] =
	"from multiprocessing import Manager\n"
	"m = Manager()\n"
	"d = m.dict({1: 'a', 'k': [1]})\n"
	"d.update({2: 'b', 1: 'A', 1.0: 'one'})\n"
	"print(d)\n"
	"e = m.dict({'x': 0, 2: None})\n"
	"d.update(e)\n"
	"print(d)\n"
	"d.update([(3, 'c'), [4, 'd'], 'ab', b'cd', {5: 0, 6: 0}, (3, 'C')])\n"
	"print(d)\n"
	"d.update(m.list([(7, 'g'), m.list([8, 'h'])]))\n"
	"d.update(())\n"
	"d.update('')\n"
	"d.update(b'')\n"
	"d.update(d)\n"
	"print(d, len(d))\n"
	"print(dict(d) | {1: 'or', 'new': 0})\n"
	"print(dict(d) | dict(e))\n"
	"for bad in [[(1, 2)], 5]:\n"
	"    try:\n"
	"        print(dict(d) | bad)\n"
	"    except Exception as x:\n"
	"        print(type(x).__name__)\n"
	"for bad in [5, None, 'ab', b'ab', [(1, 2, 3)], [(1, 2), 5], [(1, 2), [3]],\n"
	"            [([1], 2)], m.Namespace(), [m.Namespace()]]:\n"
	"    try:\n"
	"        d.update(bad)\n"
	"        print('ok')\n"
	"    except Exception as x:\n"
	"        print(type(x).__name__)\n";

static const char merge_want[] =
	"{1: 'one', 'k': [1], 2: 'b'}\n"
	"{1: 'one', 'k': [1], 2: None, 'x': 0}\n"
	"{1: 'one', 'k': [1], 2: None, 'x': 0, 3: 'C', 4: 'd', 'a': 'b', 99: 100, 5: 6}\n"
	"{1: 'one', 'k': [1], 2: None, 'x': 0, 3: 'C', 4: 'd', 'a': 'b', 99: 100, 5: 6, "
	"7: 'g', 8: 'h'} 11\n"
	"{1: 'or', 'k': [1], 2: None, 'x': 0, 3: 'C', 4: 'd', 'a': 'b', 99: 100, 5: 6, "
	"7: 'g', 8: 'h', 'new': 0}\n"
	"{1: 'one', 'k': [1], 2: None, 'x': 0, 3: 'C', 4: 'd', 'a': 'b', 99: 100, 5: 6, "
	"7: 'g', 8: 'h'}\n"
	"TypeError\nTypeError\n"
	"TypeError\nTypeError\nValueError\nTypeError\nValueError\nTypeError\nValueError\n"
	"TypeError\nTypeError\nTypeError\n";

Test(dict_merge, every_kind_of_argument_matches_python, .init = arena_setup,
     .fini = arena_teardown)
{
	char *got;
	size_t len;
	FILE *f = open_memstream(&got, &len);
	shmc_obj_t *d, *e, *ls, *inner, *ns;
	shmc_value_t v = shmc_pdict_of(2, shmc_int(1), shmc_str("a"), shmc_str("k"),
				       shmc_plist_of(1, shmc_int(1)));
	ASSERT_OK(shmc_dict_new_from(A, v, &d));
	shmc_value_free(&v);
	/* A later duplicate (1.0 after 1) replaces the value, keeps the key. */
	v = shmc_pdict_of(3, shmc_int(2), shmc_str("b"), shmc_int(1), shmc_str("A"),
			  shmc_float(1.0), shmc_str("one"));
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_free(&v);
	print_obj(f, d);
	fputc('\n', f);

	v = shmc_pdict_of(2, shmc_str("x"), shmc_int(0), shmc_int(2), shmc_none());
	ASSERT_OK(shmc_dict_new_from(A, v, &e));
	shmc_value_free(&v);
	ASSERT_OK(shmc_dict_merge(d, shmc_ref(e)));
	print_obj(f, d);
	fputc('\n', f);

	v = shmc_plist_of(6, shmc_tuple_of(2, shmc_int(3), shmc_str("c")),
			  shmc_plist_of(2, shmc_int(4), shmc_str("d")), shmc_str("ab"),
			  shmc_bytes("cd", 2),
			  shmc_pdict_of(2, shmc_int(5), shmc_int(0), shmc_int(6), shmc_int(0)),
			  shmc_tuple_of(2, shmc_int(3), shmc_str("C")));
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_free(&v);
	print_obj(f, d);
	fputc('\n', f);

	ASSERT_OK(shmc_list_new(A, &ls));
	v = shmc_tuple_of(2, shmc_int(7), shmc_str("g"));
	ASSERT_OK(shmc_list_append(ls, v));
	shmc_value_free(&v);
	v = shmc_plist_of(2, shmc_int(8), shmc_str("h"));
	ASSERT_OK(shmc_list_new_from(A, v, &inner));
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_append(ls, shmc_ref(inner)));
	ASSERT_OK(shmc_dict_merge(d, shmc_ref(ls)));
	v = shmc_tuple_of(0);
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_free(&v);
	ASSERT_OK(shmc_dict_merge(d, shmc_str("")));
	ASSERT_OK(shmc_dict_merge(d, shmc_bytes("", 0)));
	ASSERT_OK(shmc_dict_merge(d, shmc_ref(d)));
	print_obj(f, d);
	fprintf(f, " %lld\n", (long long)shmc_dict_len(d));

	v = shmc_pdict_of(2, shmc_int(1), shmc_str("or"), shmc_str("new"), shmc_int(0));
	shmc_value_t r;
	ASSERT_OK(shmc_dict_or(d, v, &r));
	shmc_value_free(&v);
	print_value(f, r);
	shmc_value_free(&r);
	ASSERT_OK(shmc_dict_or(d, shmc_ref(e), &r));
	print_value(f, r);
	shmc_value_free(&r);
	v = shmc_plist_of(1, shmc_tuple_of(2, shmc_int(1), shmc_int(2)));
	fprintf(f, "%s\n", py_error(shmc_dict_or(d, v, &r)));
	shmc_value_free(&v);
	fprintf(f, "%s\n", py_error(shmc_dict_or(d, shmc_int(5), &r)));

	/* The failures: each changes nothing (Python's stop half-way). */
	ASSERT_OK(shmc_namespace_new(A, &ns));
	char *before = obj_str(d);
	size_t used = arena_in_use(A);
	shmc_value_t bad[] = {
		shmc_int(5),
		shmc_none(),
		shmc_str("ab"),
		shmc_bytes("ab", 2),
		shmc_plist_of(1, shmc_tuple_of(3, shmc_int(1), shmc_int(2), shmc_int(3))),
		shmc_plist_of(2, shmc_tuple_of(2, shmc_int(1), shmc_int(2)), shmc_int(5)),
		shmc_plist_of(2, shmc_tuple_of(2, shmc_int(1), shmc_int(2)),
			      shmc_plist_of(1, shmc_int(3))),
		shmc_plist_of(1, shmc_tuple_of(2, shmc_plist_of(1, shmc_int(1)), shmc_int(2))),
		shmc_ref(ns),
		shmc_plist_of(1, shmc_ref(ns)),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fprintf(f, "%s\n", py_error(shmc_dict_merge(d, bad[i])));
		char *now = obj_str(d);
		cr_assert_str_eq(now, before, "bad argument %zu changed the dict", i);
		shmc_free(now);
		cr_assert_eq(arena_in_use(A), used, "bad argument %zu leaked", i);
		shmc_value_free(&bad[i]);
	}
	shmc_free(before);
	fclose(f);
	expect_python(got, merge_want, merge_py);
	free(got);
	shmc_obj_release(d);
	shmc_obj_release(e);
	shmc_obj_release(ls);
	shmc_obj_release(inner);
	shmc_obj_release(ns);
}

Test(dict_merge, errors_of_the_arguments_themselves, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	shmc_value_t out = shmc_int(-7);
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_int(1)));
	shmc_value_t err = shmc_tuple_of(1, shmc_strn("x", (size_t)SHMC_MAX_LEN + 1));
	ASSERT_ERR(shmc_dict_merge(d, err), -EOVERFLOW);
	ASSERT_ERR(shmc_dict_or(d, err, &out), -EOVERFLOW);
	/* A failed builder as a value is its error; text that is not UTF-8
	 * is refused when stored. */
	shmc_value_t v = shmc_plist_of(1, shmc_tuple_of(2, shmc_int(2), shmc_strn("\xff", 1)));
	ASSERT_ERR(shmc_dict_merge(d, v), -EILSEQ);
	shmc_value_free(&v);
	v = shmc_pdict_of(1, shmc_int(2), shmc_strn("\xff", 1));
	ASSERT_ERR(shmc_dict_merge(d, v), -EILSEQ);
	ASSERT_ERR(shmc_dict_or(d, v, NULL), -EINVAL);
	shmc_value_free(&v);
	cr_assert(out.type == SHMC_INT && out.i == -7, "out written on failure");
	expect_str(d, "{1: 1}");
	/* A dict of another arena: its plain values come over, references
	 * to its objects cannot. */
	shmc_arena_t *b = test_arena(16 << 20);
	shmc_obj_t *o, *l;
	ASSERT_OK(shmc_dict_new(b, &o));
	ASSERT_OK(shmc_dict_set(o, shmc_str("s"), shmc_str("t")));
	ASSERT_OK(shmc_dict_merge(d, shmc_ref(o)));
	expect_str(d, "{1: 1, 's': 't'}");
	ASSERT_OK(shmc_list_new(b, &l));
	ASSERT_OK(shmc_dict_set(o, shmc_str("l"), shmc_ref(l)));
	ASSERT_ERR(shmc_dict_merge(d, shmc_ref(o)), SHMC_EARENA);
	expect_str(d, "{1: 1, 's': 't'}");
	shmc_obj_release(l);
	shmc_obj_release(o);
	shmc_arena_close(b);
	shmc_obj_release(d);
}

/* Values replaced by a merge go to the graveyard, and the references in
 * them are dropped once no reader can see them: the objects are freed. */
Test(dict_merge, replaced_references_are_released, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d, *l[3];
	ASSERT_OK(shmc_dict_new(A, &d));
	size_t before = arena_in_use(A);
	for (int i = 0; i < 3; i++) {
		ASSERT_OK(shmc_list_new(A, &l[i]));
		ASSERT_OK(shmc_list_append(l[i], shmc_str("a string with a block")));
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_ref(l[i])));
		shmc_obj_release(l[i]);
	}
	ASSERT_OK(shmc_dict_set(d, shmc_int(3), shmc_str("a replaced string")));
	shmc_value_t v = shmc_pdict_of(5, shmc_int(0), shmc_int(0), shmc_int(1), shmc_int(1),
				       shmc_int(2), shmc_int(2), shmc_int(3), shmc_int(3),
				       shmc_int(4), shmc_int(4));
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_free(&v);
	expect_str(d, "{0: 0, 1: 1, 2: 2, 3: 3, 4: 4}");
	ASSERT_OK(shmc_dict_clear(d));
	cr_assert_eq(arena_in_use(A), before, "the lists or strings were not freed");
	shmc_obj_release(d);
}

/* A plain dict {k: k * MUL for k in KEYS[0..N)}, every third value a str. */
static shmc_value_t batch(const int64_t *keys, int n, int64_t mul)
{
	shmc_value_t d = shmc_pdict_of(0);
	for (int i = 0; i < n; i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "s%lld", (long long)(keys[i] * mul));
		shmc_value_t v = keys[i] % 3 ? shmc_int(keys[i] * mul) : shmc_str(buf);
		ASSERT_OK(shmc_pdict_set(&d, shmc_int(keys[i]), v));
	}
	return d;
}

/* Merges of new keys (with room: appended; without: a new table), of keys
 * already there (a new table) and of both, into an empty dict, a cleared
 * one and a growing one, agree at every step with the same updates of a
 * plain dict. */
Test(dict_merge, both_ways_of_publishing_agree_with_a_plain_dict, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	shmc_value_t want = shmc_pdict_of(0);
	int64_t keys[40], next = 0;
	uint64_t seed = 1;
	for (int round = 0; round < 400; round++) {
		int n = 1 + round % 23;
		for (int i = 0; i < n; i++) {
			seed = mix64(seed);
			/* Half new keys, half (possibly) old ones; repeats too. */
			keys[i] = (seed & 1) || next == 0 ? next++ : (int64_t)(seed >> 8) % next;
		}
		shmc_value_t b = batch(keys, n, round + 1);
		ASSERT_OK(shmc_dict_merge(d, b));
		for (size_t i = 0; i < shmc_pdict_len(b); i++) {
			shmc_value_t *k, *v, kc, vc;
			ASSERT_OK(shmc_pdict_entry(b, i, &k, &v));
			ASSERT_OK(shmc_value_copy(*k, &kc));
			ASSERT_OK(shmc_value_copy(*v, &vc));
			ASSERT_OK(shmc_pdict_set(&want, kc, vc));
		}
		shmc_value_free(&b);
		if (round % 100 == 99) {
			ASSERT_OK(shmc_dict_clear(d));
			shmc_value_free(&want);
			want = shmc_pdict_of(0);
			next = 0;
		}
		char *got = obj_str(d), *exp = value_repr(want);
		cr_assert_str_eq(got, exp, "round %d", round);
		cr_assert_eq(shmc_dict_len(d), (int64_t)shmc_pdict_len(want));
		shmc_free(got);
		shmc_free(exp);
	}
	shmc_value_free(&want);
	shmc_obj_release(d);
}

/* What a merge costs: new keys into a table with room cost what as many
 * sets cost (they are appended, and one store publishes them); any merge
 * that touches a key already there rebuilds the table, as a resize does:
 * its cost grows with the dict. Printed, and bounded loosely. */
Test(dict_merge, costs_of_the_two_ways, .init = arena_setup, .fini = arena_teardown)
{
	enum { N = 100000, BATCH = 10, ROUNDS = 2000, OLD_ROUNDS = 50 };
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	for (int i = 0; i < N; i++)
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_int(i)));
	int64_t keys[BATCH];
	double t0 = now_s();
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < BATCH; i++)
			ASSERT_OK(shmc_dict_set(d, shmc_int(N + r * BATCH + i), shmc_int(r)));
	}
	double sets = (now_s() - t0) / ROUNDS;
	t0 = now_s();
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < BATCH; i++)
			keys[i] = 2 * N + r * BATCH + i;
		shmc_value_t b = batch(keys, BATCH, 1);
		ASSERT_OK(shmc_dict_merge(d, b));
		shmc_value_free(&b);
	}
	double fresh = (now_s() - t0) / ROUNDS;
	t0 = now_s();
	for (int r = 0; r < OLD_ROUNDS; r++) {
		for (int i = 0; i < BATCH; i++)
			keys[i] = r * BATCH + i;
		shmc_value_t b = batch(keys, BATCH, 2);
		ASSERT_OK(shmc_dict_merge(d, b));
		shmc_value_free(&b);
	}
	double old = (now_s() - t0) / OLD_ROUNDS;
	int64_t n = shmc_dict_len(d);
	cr_assert_eq(n, N + 2 * ROUNDS * BATCH, "%lld entries", (long long)n);
	cr_log_info("dict of %lld: %d sets %.2f us, a merge of %d new keys %.2f us, "
		    "of %d keys already there %.0f us (a rebuild)",
		    (long long)n, BATCH, sets * 1e6, BATCH, fresh * 1e6, BATCH, old * 1e6);
	/* Building the batch is part of the merge's figure: be generous. */
	cr_assert_lt(fresh, 20 * sets + 20e-6, "new keys are not appended");
	shmc_value_t v;
	ASSERT_OK(shmc_dict_get(d, shmc_int(5), &v));
	expect_repr(v, "10");
	shmc_obj_release(d);
}

/* Forked readers never see part of a merge. The writer merges, round after
 * round, ROUND_KEYS new keys (every other round with an update of "round"
 * too, which makes it rebuild the table; the others append). One reader looks the keys of each
 * round up one by one, lock-free and in order: once one is there, all that
 * follow must be, and "round" must have reached that round. Another reader
 * takes snapshots: each holds all of a round's keys or none. */
#define ROUNDS 300
#define ROUND_KEYS 16

struct atomic_ctx {
	shmc_obj_t *d;
	_Atomic int *ready, *done;
};

static int lookup_reader(struct atomic_ctx *c)
{
	atomic_fetch_add(c->ready, 1);
	long transitions = 0;
	double end = now_s() + 2 * TEST_DEADLINE;
	for (int r = 1; r <= ROUNDS; r++) {
		bool seen_absent = false;
		for (;;) {
			CHILD_CHECK(now_s() < end);
			int present = 0;
			for (int i = 0; i < ROUND_KEYS; i++) {
				int rc = shmc_dict_has(c->d, shmc_int((int64_t)r * 1000 + i));
				CHILD_OK(rc);
				if (rc == 0 && present) {
					fprintf(stderr, "round %d: key %d missing after %d present\n",
						r, i, present);
					return 1;
				}
				present += rc;
			}
			if (present == ROUND_KEYS) {
				shmc_value_t v;
				CHILD_OK(shmc_dict_get(c->d, shmc_str("round"), &v));
				CHILD_CHECK(v.type == SHMC_INT && v.i >= r - 1 + (r % 2 == 0));
				transitions += seen_absent;
				break;
			}
			seen_absent = true;
			sched_yield();
		}
	}
	fprintf(stderr, "lookup reader: saw %ld of %d rounds arrive\n", transitions, ROUNDS);
	return 0;
}

static int snapshot_reader(struct atomic_ctx *c)
{
	atomic_fetch_add(c->ready, 1);
	long snaps = 0;
	double end = now_s() + 2 * TEST_DEADLINE;
	while (!atomic_load(c->done)) {
		CHILD_CHECK(now_s() < end);
		shmc_value_t s;
		CHILD_OK(shmc_dict_copy(c->d, &s));
		size_t n = shmc_pdict_len(s);
		/* "round", then whole rounds. */
		CHILD_CHECK(n >= 1 && (n - 1) % ROUND_KEYS == 0);
		shmc_value_t *r = shmc_pdict_get(s, shmc_str("round"));
		CHILD_CHECK(r && r->type == SHMC_INT);
		int rounds = (int)((n - 1) / ROUND_KEYS);
		CHILD_CHECK(r->i == rounds - rounds % 2);
		shmc_value_free(&s);
		snaps++;
	}
	fprintf(stderr, "snapshot reader: %ld snapshots\n", snaps);
	return 0;
}

static int lookup_child(void *arg)
{
	return lookup_reader(arg);
}

static int snapshot_child(void *arg)
{
	return snapshot_reader(arg);
}

Test(dict_merge, forked_readers_see_all_of_a_merge_or_none, .init = arena_setup,
     .fini = arena_teardown)
{
	struct atomic_ctx c;
	_Atomic int *page = shared_page(4096);
	c.ready = &page[0];
	c.done = &page[1];
	ASSERT_OK(shmc_dict_new(A, &c.d));
	ASSERT_OK(shmc_dict_set(c.d, shmc_str("round"), shmc_int(0)));
	pid_t a = fork_fn(lookup_child, &c), b = fork_fn(snapshot_child, &c);
	cr_assert(wait_flag(c.ready, 2, TEST_DEADLINE));
	int64_t keys[ROUND_KEYS];
	for (int r = 1; r <= ROUNDS; r++) {
		for (int i = 0; i < ROUND_KEYS; i++)
			keys[i] = (int64_t)r * 1000 + i;
		shmc_value_t m = batch(keys, ROUND_KEYS, 1);
		if (r % 2 == 0) /* a key already there: the rebuilding way */
			ASSERT_OK(shmc_pdict_set(&m, shmc_str("round"), shmc_int(r)));
		ASSERT_OK(shmc_dict_merge(c.d, m));
		shmc_value_free(&m);
		sched_yield(); /* varies the interleaving only */
	}
	atomic_store(c.done, 1);
	cr_assert_eq(wait_exit(a, TEST_DEADLINE * 2), 0);
	cr_assert_eq(wait_exit(b, TEST_DEADLINE * 2), 0);
	cr_assert_eq(shmc_dict_len(c.d), 1 + ROUNDS * ROUND_KEYS);
	shmc_obj_release(c.d);
	munmap((void *)page, 4096);
}

/* A writer killed anywhere in a merge leaves it all done or not at all:
 * the next process to write or snapshot takes the lock over, and repair
 * rolls back what was indexed but not published. Rounds alternate between
 * the two ways of publishing. */
#define KILL_KEYS 8

static int merge_forever(void *arg)
{
	shmc_obj_t *d = arg;
	int64_t keys[KILL_KEYS];
	shmc_value_t v;
	CHILD_OK(shmc_dict_get(d, shmc_str("next"), &v));
	/* At most 64 rounds a child: on a busy machine the parent's sleep
	 * before the kill may last far longer than asked, and a child
	 * merging all that time would fill the arena. */
	for (int64_t r = v.i;; r++) {
		if (r >= v.i + 64)
			for (;;)
				pause(); /* until the kill */
		for (int i = 0; i < KILL_KEYS; i++)
			keys[i] = r * 100 + i;
		shmc_value_t m = batch(keys, KILL_KEYS, 1);
		CHILD_OK(shmc_pdict_set(&m, shmc_str("next"), shmc_int(r + 1)));
		if (r % 2) /* only new keys: appended when there is room */
			CHILD_OK(shmc_pdict_del(&m, shmc_str("next")));
		CHILD_OK(shmc_dict_merge(d, m));
		shmc_value_free(&m);
	}
	return 0;
}

Test(dict_merge, writer_killed_mid_merge_200_times_leaves_all_or_nothing,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_str("next"), shmc_int(1)));
	uint64_t seed = 7;
	int64_t recoveries = 0;
	for (int k = 0; k < 200; k++) {
		shmc_arena_stats_t st0, st1;
		ASSERT_OK(shmc_arena_stats(A, &st0));
		pid_t pid = fork_fn(merge_forever, d);
		seed = mix64(seed);
		usleep((useconds_t)(200 + seed % 3000)); /* varies where the kill lands */
		cr_assert(kill_wait(pid));
		shmc_value_t s;
		ASSERT_OK(shmc_dict_copy(d, &s));
		ASSERT_OK(shmc_arena_stats(A, &st1));
		recoveries += (int64_t)(st1.lock_recoveries - st0.lock_recoveries);
		/* Whole rounds only; "next" is past every even round present. */
		size_t n = shmc_pdict_len(s);
		cr_assert_eq((n - 1) % KILL_KEYS, 0, "kill %d: %zu entries", k, n);
		int64_t next = shmc_pdict_get(s, shmc_str("next"))->i;
		for (int64_t r = 1; r < next + 2; r++) {
			int have = 0;
			for (int i = 0; i < KILL_KEYS; i++)
				have += shmc_pdict_get(s, shmc_int(r * 100 + i)) != NULL;
			cr_assert(have == 0 || have == KILL_KEYS, "kill %d: round %lld has %d keys", k,
				  (long long)r, have);
			if (r % 2 == 0 && have)
				cr_assert_gt(next, r, "kill %d: round %lld without its update", k,
					     (long long)r);
		}
		shmc_value_free(&s);
		if (k % 50 == 49) { /* keep it small: start again */
			ASSERT_OK(shmc_dict_clear(d));
			ASSERT_OK(shmc_dict_set(d, shmc_str("next"), shmc_int(1)));
		}
	}
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	cr_log_info("dict_merge: 200 kills, %lld locks taken over from the dead writer, "
		    "%llu blocks leaked", (long long)recoveries,
		    (unsigned long long)rep.leaked_blocks);
	/* What killed writers had allocated but not published. */
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_SWEEP, &rep, NULL, NULL));
	shmc_obj_release(d);
}

/* Sets, frozensets and bytearrays are iterables too: as the sequence of
 * pairs (a set's in iteration order) and as a pair. */
Test(dict_merge, sets_and_bytearrays_are_pairs_and_sequences_of_pairs, .init = arena_setup,
     .fini = arena_teardown)
{
	char *got;
	size_t len;
	FILE *f = open_memstream(&got, &len);
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	shmc_value_t v = shmc_plist_of(3, shmc_set_of(2, shmc_int(1), shmc_int(2)),
				       shmc_frozenset_of(2, shmc_int(3), shmc_int(4)),
				       shmc_bytearray("ab", 2));
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_free(&v);
	v = shmc_set_of(3, shmc_tuple_of(2, shmc_int(5), shmc_int(50)),
			shmc_tuple_of(2, shmc_int(6), shmc_int(60)),
			shmc_tuple_of(2, shmc_int(7), shmc_int(70)));
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_free(&v);
	v = shmc_frozenset_of(1, shmc_tuple_of(2, shmc_int(8), shmc_int(80)));
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_t r;
	fprintf(f, "%s\n", py_error(shmc_dict_or(d, v, &r)));
	shmc_value_free(&v);
	ASSERT_OK(shmc_dict_merge(d, shmc_bytearray("", 0)));
	v = shmc_set_of(0);
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_free(&v);
	print_obj(f, d);
	fputc('\n', f);

	char *before = obj_str(d);
	size_t used = arena_in_use(A);
	shmc_value_t bad[] = {
		shmc_plist_of(1, shmc_set_of(1, shmc_int(1))),
		shmc_plist_of(1, shmc_frozenset_of(3, shmc_int(1), shmc_int(2), shmc_int(3))),
		shmc_bytearray("ab", 2),
		shmc_set_of(2, shmc_int(1), shmc_int(2)),
		shmc_plist_of(2, shmc_tuple_of(2, shmc_int(9), shmc_int(9)), shmc_bytearray("abc", 3)),
		shmc_set_of(1, shmc_tuple_of(2, shmc_plist_of(0), shmc_int(1))),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i].type == SHMC_ERROR) { /* a list in a set: unhashable */
			fprintf(f, "%s\n", py_error((int)bad[i].i));
			continue;
		}
		fprintf(f, "%s\n", py_error(shmc_dict_merge(d, bad[i])));
		char *now = obj_str(d);
		cr_assert_str_eq(now, before, "bad argument %zu changed the dict", i);
		shmc_free(now);
		cr_assert_eq(arena_in_use(A), used, "bad argument %zu leaked", i);
		shmc_value_free(&bad[i]);
	}
	shmc_free(before);
	fclose(f);
	expect_python(got,
		      "TypeError\n"
		      "{1: 2, 3: 4, 97: 98, 5: 50, 6: 60, 7: 70, 8: 80}\n"
		      "ValueError\nValueError\nTypeError\nTypeError\nValueError\nTypeError\n",
		      "d = {}\n"
		      "d.update([{1, 2}, frozenset({3, 4}), bytearray(b'ab')])\n"
		      "d.update({(5, 50), (6, 60), (7, 70)})\n"
		      "d.update(frozenset({(8, 80)}))\n"
		      "try:\n"
		      "    print(d | frozenset({(8, 80)}))\n"
		      "except TypeError:\n"
		      "    print('TypeError')\n"
		      "d.update(bytearray())\n"
		      "d.update(set())\n"
		      "print(d)\n"
		      "for bad in ['[{1}]', '[frozenset({1, 2, 3})]', 'bytearray(b\"ab\")', '{1, 2}',\n"
		      "            '[(9, 9), bytearray(b\"abc\")]', '{([], 1)}']:\n"
		      "    try:\n"
		      "        d.update(eval(bad))\n"
		      "        print('ok')\n"
		      "    except Exception as x:\n"
		      "        print(type(x).__name__)\n");
	free(got);
	shmc_obj_release(d);
}
