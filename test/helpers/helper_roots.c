/*
 * helper_roots.c -- an UNRELATED process for the named-object tests:
 * started with fork+exec, it shares nothing with the test or with another
 * helper but an arena's name, and finds its objects by name.
 *
 * Usage (exit status: 0 ok, 2 usage, 3 open failed, 4 an operation failed
 * or a value differed, 5 timed out):
 *   helper_roots produce NAME OBJ N   shmc_root_find_or_create the dict OBJ, set
 *                                     d[k] = expected_value(k) for k in
 *                                     [0, N), then d["done"] = N
 *   helper_roots consume NAME OBJ N   shmc_root_find the dict OBJ (it must
 *                                     exist), check that it holds exactly
 *                                     those N + 1 entries, print "ok N"
 *   helper_roots await NAME OBJ N     as consume, but first wait (up to 30 s)
 *                                     for OBJ to be named (saying "waiting
 *                                     for OBJ" when it is not yet) and for
 *                                     "done"
 *   helper_roots qput NAME Q N TAG    name a new Queue(8) Q unless Q is named
 *                                     already (shmc_root_setdefault), then put
 *                                     (TAG, expected_value(k)) for k in [0, N)
 *   helper_roots qget NAME Q N P      wait (up to 30 s) for Q to be named (as
 *                                     await says it does), get
 *                                     N items from each of P producers, tags
 *                                     0 .. P-1: each producer's in its order,
 *                                     values exact; then the queue is empty;
 *                                     print "ok N*P"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

/* The value stored under key K: a tuple of every scalar type, different for
 * each K. The test builds the same values to compare. */
static shmc_value_t expected_value(int64_t k)
{
	char s[64];
	unsigned char b[3] = {(unsigned char)k, (unsigned char)(k >> 8), 0xff};
	snprintf(s, sizeof(s), "value-%" PRId64 "-\xc3\xa9", k);
	return shmc_tuple_of(5, shmc_int(k * k - 7), shmc_str(s), shmc_float((double)k / 4),
			     shmc_bool(k & 1), shmc_bytes(b, sizeof(b)));
}

/* A == B, and of the same types item by item (== treats 1 and True alike). */
static bool exactly(shmc_value_t a, shmc_value_t b)
{
	bool same = shmc_value_eq(a, b) && a.type == b.type;
	for (size_t i = 0; same && i < shmc_seq_len(b); i++)
		same = shmc_seq_at(a, (int64_t)i)->type == shmc_seq_at(b, (int64_t)i)->type;
	return same;
}

static int produce(shmc_arena_t *a, const char *obj, int64_t n)
{
	shmc_obj_t *d;
	int rc = shmc_root_find_or_create(a, obj, SHMC_KIND_DICT, &d);
	if (rc)
		return rc;
	for (int64_t k = 0; k < n && rc == 0; k++) {
		shmc_value_t v = expected_value(k);
		rc = shmc_dict_set(d, shmc_int(k), v);
		shmc_value_free(&v);
	}
	if (rc == 0)
		rc = shmc_dict_set(d, shmc_str("done"), shmc_int(n));
	shmc_obj_release(d);
	return rc;
}

/* The interval of a poll for an event (a name, "done"), which has a
 * deadline of its own. */
static void nap(void)
{
	struct timespec ts = {0, 1000000};
	nanosleep(&ts, NULL);
}

/* Find OBJ, waiting (at most TEST_DEADLINE) for it to be named if WAIT;
 * the first time it is not there, say "waiting for OBJ" (a line on stdout),
 * so that the test can start the producer knowing this one waits. */
static int find_waiting(shmc_arena_t *a, const char *obj, bool wait, shmc_obj_t **out)
{
	double deadline = now_s() + TEST_DEADLINE;
	bool said = false;
	int rc;
	while ((rc = shmc_root_find(a, obj, out)) == SHMC_EKEY && wait && now_s() < deadline) {
		if (!said) {
			printf("waiting for %s\n", obj);
			fflush(stdout);
			said = true;
		}
		nap();
	}
	return rc;
}

/* 0 when D holds exactly what produce() stores, else a message. */
static int verify(shmc_obj_t *d, int64_t n)
{
	int64_t len = shmc_dict_len(d);
	if (len != n + 1) {
		printf("len %" PRId64 ", expected %" PRId64 "\n", len, n + 1);
		return 4;
	}
	shmc_value_t v;
	int rc = shmc_dict_get(d, shmc_str("done"), &v);
	if (rc || v.type != SHMC_INT || v.i != n) {
		printf("done: %s\n", rc ? shmc_errname(rc) : "wrong value");
		shmc_value_free(&v);
		return 4;
	}
	for (int64_t k = 0; k < n; k++) {
		if ((rc = shmc_dict_get(d, shmc_int(k), &v)) != 0) {
			printf("key %" PRId64 ": %s\n", k, shmc_errname(rc));
			return 4;
		}
		shmc_value_t want = expected_value(k);
		bool same = exactly(v, want);
		if (!same) {
			char *got = value_repr(v), *exp = value_repr(want);
			printf("key %" PRId64 ": %s, expected %s\n", k, got, exp);
			shmc_free(got);
			shmc_free(exp);
		}
		shmc_value_free(&v);
		shmc_value_free(&want);
		if (!same)
			return 4;
	}
	return 0;
}

static int consume(shmc_arena_t *a, const char *obj, int64_t n, bool wait)
{
	shmc_obj_t *d = NULL;
	int rc = find_waiting(a, obj, wait, &d);
	if (rc) {
		printf("find %s: %s\n", obj, shmc_errname(rc));
		return rc == SHMC_EKEY && wait ? 5 : 4;
	}
	if (shmc_obj_kind(d) != SHMC_KIND_DICT) {
		printf("%s is not a dict\n", obj);
		shmc_obj_release(d);
		return 4;
	}
	double deadline = now_s() + TEST_DEADLINE;
	while (wait && shmc_dict_has(d, shmc_str("done")) == 0 && now_s() < deadline)
		nap();
	int st = verify(d, n);
	shmc_obj_release(d);
	if (st == 0)
		printf("ok %" PRId64 "\n", n);
	return st;
}

static int qput(shmc_arena_t *a, const char *name, int64_t n, int64_t tag)
{
	shmc_obj_t *mine, *q;
	int rc = shmc_queue_new(a, 8, &mine);
	if (rc)
		return rc;
	rc = shmc_root_setdefault(a, name, mine, &q);
	shmc_obj_release(mine);
	if (rc)
		return rc;
	for (int64_t k = 0; k < n && rc == 0; k++) {
		shmc_value_t v = shmc_tuple_of(2, shmc_int(tag), expected_value(k));
		rc = shmc_queue_put(q, v, TEST_DEADLINE);
		shmc_value_free(&v);
	}
	shmc_obj_release(q);
	return rc;
}

static int qget(shmc_arena_t *a, const char *name, int64_t n, int64_t producers)
{
	shmc_obj_t *q = NULL;
	int rc = find_waiting(a, name, true, &q);
	if (rc) {
		printf("find %s: %s\n", name, shmc_errname(rc));
		return 5;
	}
	int st = 0;
	int64_t next[64] = {0};
	if (shmc_obj_kind(q) != SHMC_KIND_QUEUE || producers > 64) {
		printf("%s is not a queue\n", name);
		st = 4;
	}
	for (int64_t i = 0; st == 0 && i < n * producers; i++) {
		shmc_value_t v;
		if ((rc = shmc_queue_get(q, TEST_DEADLINE, &v)) != 0) {
			printf("get %" PRId64 ": %s\n", i, shmc_errname(rc));
			st = rc == SHMC_EQUEUEEMPTY ? 5 : 4;
			break;
		}
		shmc_value_t *tag = shmc_seq_at(v, 0), *item = shmc_seq_at(v, 1);
		int64_t t = tag && tag->type == SHMC_INT ? tag->i : -1;
		shmc_value_t want = t >= 0 && t < producers ? expected_value(next[t]) : shmc_none();
		if (v.type != SHMC_TUPLE || shmc_seq_len(v) != 2 || t < 0 || t >= producers ||
		    !exactly(*item, want)) {
			char *got = value_repr(v);
			printf("item %" PRId64 ": %s, expected producer %" PRId64 "'s item %" PRId64 "\n",
			       i, got, t, t >= 0 && t < producers ? next[t] : -1);
			shmc_free(got);
			st = 4;
		} else {
			next[t]++;
		}
		shmc_value_free(&want);
		shmc_value_free(&v);
	}
	shmc_value_t extra;
	if (st == 0 && (rc = shmc_queue_get_nowait(q, &extra)) != SHMC_EQUEUEEMPTY) {
		printf("the queue is not empty after %" PRId64 " items: %s\n", n * producers,
		       shmc_errname(rc));
		if (rc == 0)
			shmc_value_free(&extra);
		st = 4;
	}
	shmc_obj_release(q);
	if (st == 0)
		printf("ok %" PRId64 "\n", n * producers);
	return st;
}

static int usage(void)
{
	fprintf(stderr, "usage: helper_roots produce|consume|await NAME OBJ N\n"
			"       helper_roots qput NAME Q N TAG | qget NAME Q N PRODUCERS\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return usage();
	const char *cmd = argv[1], *name = argv[2], *obj = argv[3];
	int64_t n = strtoll(argv[4], NULL, 10);
	bool prod = strcmp(cmd, "produce") == 0, cons = strcmp(cmd, "consume") == 0,
	     wait = strcmp(cmd, "await") == 0, put = strcmp(cmd, "qput") == 0,
	     get = strcmp(cmd, "qget") == 0;
	if (((prod || cons || wait) && argc != 5) || ((put || get) && argc != 6) ||
	    !(prod || cons || wait || put || get))
		return usage();
	shmc_arena_t *a;
	int rc = shmc_arena_open(name, &a);
	if (rc) {
		printf("open %s: %s\n", name, shmc_errname(rc));
		return 3;
	}
	int st;
	if (prod || put) {
		rc = prod ? produce(a, obj, n) : qput(a, obj, n, strtoll(argv[5], NULL, 10));
		if (rc)
			printf("%s: %s\n", cmd, shmc_errname(rc));
		st = rc ? 4 : 0;
	} else if (get) {
		st = qget(a, obj, n, strtoll(argv[5], NULL, 10));
	} else {
		st = consume(a, obj, n, wait);
	}
	shmc_arena_close(a);
	fflush(stdout);
	return st;
}
