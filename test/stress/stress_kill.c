/*
 * stress_kill -- kill processes at random instructions and prove nothing is
 * lost, torn or wedged.
 *
 * Four worker processes run a seeded mix of inserts, updates, deletes and
 * reads on one managed container (a dict of 1 000 keys, a list of 1 000
 * items plus a tail, or a namespace of 1 000 attributes) while the controller
 * SIGKILLs a random worker again and again, restarting each one.
 *
 * The oracle is a log in memory outside the arena: each worker owns a
 * quarter of the keys and, around every write, records what it intends
 * (inflight) and what completed (committed). After a kill the controller
 * parks the survivors between operations and checks:
 *   - every key of a survivor holds exactly its committed value;
 *   - every key of the victim holds its committed value or, for the one
 *     operation in flight when it died, the value that operation wrote
 *     (anything else is a lost committed update);
 *   - every value read anywhere, at any time, is whole (a checksum);
 *   - the arena check finds no broken invariant (and sweeps the leaks);
 *   - parking the survivors never times out (no deadlock).
 * A kill landed inside a critical section when a survivor, or the
 * controller's probe write, had to take over the dead worker's lock; at least
 * 5 % of kills must (2 % under a sanitizer), or the run is not exercising
 * recovery.
 *
 * Two more kinds kill the compound operations, each worker on a container
 * of its own: "lops" sorts lists and assigns and deletes slices (step 1,
 * which resizes, and extended ones), "dops" merges batches into dicts (from
 * a plain dict or from a list of pairs; some keys new, some there) and pops
 * items. A worker keeps a private model of its container and logs, around
 * each operation, a hash of the whole container before and after it (the
 * items in order: a state "between" -- part sorted, a slice half
 * replaced, some keys of a merge but not all -- hashes to neither). After a
 * kill the victim's container must hash to its committed state or to the
 * state its operation in flight would have made; a survivor's to its
 * committed one. Meanwhile workers copy each other's containers and check
 * the same, with a sequence number telling whether an operation ran during
 * the copy.
 *
 * The kind "cache" runs the first mix on a bounded cache (shmc_cache_*)
 * holding three quarters of the keys, so that sets evict: a key may also
 * be absent (evicted) wherever the oracle expects a value, never hold
 * another; replace stands for the atomic update, and the reads also incr a
 * shared counter with an initial value.
 *
 * Usage: stress_kill [--ci] [--kills N]
 *                    [--kind dict|list|ns|lops|dops|cache|all]
 *                    [--seed S]
 */
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include "testutil.h"

#define NWORKERS 4
#define NKEYS 1000
#define TAIL 32         /* list: tail items each worker inserts and removes */
#define PARK_TIMEOUT_S 20

enum kind { DICT, LIST, NS, LOPS, DOPS, CACHE };
static const char *kind_name[] = {"dict", "list", "ns", "lops", "dops", "cache"};
/* The cache holds three quarters of the keys: sets evict. */
#define CACHE_MAX (NKEYS * 3 / 4)

enum { OP_SET = 1, OP_DEL = 2 };

struct slot_log {
	_Atomic uint64_t committed; /* version held; 0 = absent */
	_Atomic uint64_t inflight;  /* version << 2 | op, 0 when none */
};

struct worker {
	_Atomic int pid;
	_Atomic int parked;
	_Atomic uint64_t ops;
	_Atomic uint64_t next_ver;
};

/* A compound kind's log of one worker's container: SEQ is odd while an
 * operation is in flight; the hashes of the whole container committed,
 * and after the operation in flight (0 when none). */
struct whole_log {
	_Atomic uint64_t seq, committed, inflight;
};

struct control {
	_Atomic int park;
	_Atomic int stop;
	_Atomic uint64_t torn;
	_Atomic uint64_t lost; /* found by a worker reading its own key */
	struct worker w[NWORKERS];
	struct slot_log key[NKEYS];
	struct slot_log tail[NWORKERS][TAIL];
	struct whole_log whole[NWORKERS];
};

static struct control *ctl;
static shmc_obj_t *obj;
static enum kind kind;

/* Values ------------------------------------------------------------------ */

/* (key, version, padding, checksum): padding varies the block sizes. */
static shmc_value_t make_value(int key, uint64_t ver)
{
	char pad[64];
	size_t n = ver % 48;
	memset(pad, 'a' + (int)(ver % 26), n);
	uint64_t sum = mix64((uint64_t)key * 1000003 + ver + n);
	return shmc_tuple_of(4, shmc_int(key), shmc_int((int64_t)ver), shmc_strn(pad, n),
			     shmc_int((int64_t)(sum >> 1)));
}

/* The version in V, or 0 with ctl->torn bumped when V is not whole. */
static uint64_t parse_value(int key, shmc_value_t v)
{
	if (v.type != SHMC_TUPLE || shmc_seq_len(v) != 4)
		goto torn;
	shmc_value_t *k = shmc_seq_at(v, 0), *ver = shmc_seq_at(v, 1);
	shmc_value_t *pad = shmc_seq_at(v, 2), *sum = shmc_seq_at(v, 3);
	if (k->type != SHMC_INT || ver->type != SHMC_INT || pad->type != SHMC_STR ||
	    sum->type != SHMC_INT || (key >= 0 && k->i != key) || ver->i <= 0)
		goto torn;
	uint64_t want = mix64((uint64_t)k->i * 1000003 + (uint64_t)ver->i + pad->len);
	if ((uint64_t)sum->i != want >> 1 || pad->len != (uint64_t)ver->i % 48)
		goto torn;
	return (uint64_t)ver->i;
torn:
	atomic_fetch_add(&ctl->torn, 1);
	return 0;
}

static shmc_value_t tail_value(int w, int id)
{
	return shmc_tuple_of(2, shmc_str("tail"), shmc_int(w * 1000 + id));
}

/* Container operations by key ------------------------------------------------ */

static shmc_value_t key_value(int k, char *buf)
{
	if (kind == NS) {
		snprintf(buf, 16, "a%d", k);
		return shmc_str(buf);
	}
	return shmc_int(k);
}

static int c_set(int k, shmc_value_t v)
{
	char buf[16];
	if (kind == DICT)
		return shmc_dict_set(obj, key_value(k, buf), v);
	if (kind == CACHE)
		return shmc_cache_set(obj, key_value(k, buf), v, 0);
	if (kind == NS)
		return shmc_namespace_set(obj, (key_value(k, buf), buf), v);
	return shmc_list_set(obj, k, v);
}

/* Delete key K; for a list, an item is "deleted" by storing None. */
static int c_del(int k)
{
	char buf[16];
	if (kind == DICT)
		return shmc_dict_del(obj, key_value(k, buf));
	if (kind == CACHE)
		return shmc_cache_delete(obj, key_value(k, buf));
	if (kind == NS)
		return shmc_namespace_del(obj, (key_value(k, buf), buf));
	return shmc_list_set(obj, k, shmc_none());
}

/* The version at key K: 0 when absent; sets *torn on a broken value. */
static int c_get(int k, uint64_t *ver)
{
	char buf[16];
	shmc_value_t v;
	int rc;
	if (kind == DICT)
		rc = shmc_dict_get(obj, key_value(k, buf), &v);
	else if (kind == CACHE)
		rc = shmc_cache_get(obj, key_value(k, buf), &v, NULL);
	else if (kind == NS)
		rc = shmc_namespace_get(obj, (key_value(k, buf), buf), &v);
	else
		rc = shmc_list_get(obj, k, &v);
	if (rc == SHMC_EKEY || rc == SHMC_EATTR || (rc == 0 && v.type == SHMC_NONE)) {
		*ver = 0;
		return 0;
	}
	if (rc)
		return rc;
	*ver = parse_value(k, v);
	shmc_value_free(&v);
	return 0;
}

static int cancel(shmc_value_t *v, void *ctx)
{
	(void)v;
	(void)ctx;
	return -ECANCELED;
}

/* Replace the value at key K with version VER, atomically. */
static int replace_fn(shmc_value_t *v, void *ctx)
{
	const uint64_t *kv = ctx;
	shmc_value_free(v);
	*v = make_value((int)kv[0], kv[1]);
	return v->type == SHMC_ERROR ? (int)v->i : 0;
}

static int c_update(int k, uint64_t ver)
{
	char buf[16];
	uint64_t kv[2] = {(uint64_t)k, ver};
	if (kind == DICT)
		return shmc_dict_update(obj, key_value(k, buf), replace_fn, kv);
	if (kind == CACHE) {
		shmc_value_t v = make_value(k, ver);
		int rc = shmc_cache_replace(obj, key_value(k, buf), v, 0);
		shmc_value_free(&v);
		return rc;
	}
	if (kind == NS)
		return shmc_namespace_update(obj, (key_value(k, buf), buf), replace_fn, kv);
	return shmc_list_update(obj, k, replace_fn, kv);
}

/* Take the container's writer lock and change nothing. */
static int probe(void)
{
	char buf[16];
	if (kind == DICT)
		return shmc_dict_update(obj, key_value(0, buf), cancel, NULL);
	if (kind == CACHE) /* takes the lock, changes nothing */
		return shmc_cache_replace(obj, shmc_str("never set"), shmc_int(0), 0);
	if (kind == NS)
		return shmc_namespace_update(obj, (key_value(0, buf), buf), cancel, NULL);
	return shmc_list_update(obj, 0, cancel, NULL);
}

/* Workers ----------------------------------------------------------------------- */

static void park_if_asked(struct worker *me)
{
	if (!atomic_load(&ctl->park))
		return;
	atomic_store(&me->parked, 1);
	while (atomic_load(&ctl->park) && !atomic_load(&ctl->stop))
		sched_yield();
	atomic_store(&me->parked, 0);
}

static void worker_main(int w, uint64_t seed)
{
	struct worker *me = &ctl->w[w];
	uint64_t rng = mix64(seed + (uint64_t)w * 7919 + atomic_load(&me->next_ver));
	while (!atomic_load(&ctl->stop)) {
		park_if_asked(me);
		rng = mix64(rng);
		unsigned r = (unsigned)(rng % 100);
		int k = (int)((rng >> 8) % (NKEYS / NWORKERS)) * NWORKERS + w;
		struct slot_log *log = &ctl->key[k];
		uint64_t ver = (atomic_fetch_add(&me->next_ver, 1) + 1) * NWORKERS + (uint64_t)w;
		if (r < 55) {
			shmc_value_t v = make_value(k, ver);
			atomic_store(&log->inflight, ver << 2 | OP_SET);
			/* Half the writes are atomic updates, whose function
			 * runs while the container is locked. */
			int rc = r < 25 ? c_update(k, ver) : c_set(k, v);
			CHILD_CHECK(rc == 0 || rc == SHMC_EKEY || rc == SHMC_EATTR);
			if (rc != 0) /* the key was deleted: insert it */
				CHILD_OK(c_set(k, v));
			atomic_store(&log->committed, ver);
			atomic_store(&log->inflight, 0);
			shmc_value_free(&v);
		} else if (r < 70) {
			atomic_store(&log->inflight, ver << 2 | OP_DEL);
			int rc = c_del(k);
			CHILD_CHECK(rc == 0 || rc == SHMC_EKEY || rc == SHMC_EATTR);
			atomic_store(&log->committed, 0);
			atomic_store(&log->inflight, 0);
		} else if (r < 80 && kind == LIST) {
			int id = (int)((rng >> 20) % TAIL);
			struct slot_log *t = &ctl->tail[w][id];
			shmc_value_t tv = tail_value(w, id);
			if (atomic_load(&t->committed)) {
				atomic_store(&t->inflight, 1 << 2 | OP_DEL);
				CHILD_OK(shmc_list_remove(obj, tv));
				atomic_store(&t->committed, 0);
			} else {
				int64_t at = NKEYS + (int64_t)((rng >> 32) % (TAIL * NWORKERS));
				atomic_store(&t->inflight, 1 << 2 | OP_SET);
				CHILD_OK(shmc_list_insert(obj, at, tv));
				atomic_store(&t->committed, 1);
			}
			atomic_store(&t->inflight, 0);
			shmc_value_free(&tv);
		} else {
			/* Reads: our own keys must hold exactly what we wrote. */
			uint64_t got;
			CHILD_OK(c_get(k, &got));
			if (got != atomic_load(&log->committed) && !(kind == CACHE && got == 0))
				atomic_fetch_add(&ctl->lost, 1);
			if (kind == CACHE) {
				int64_t n;
				CHILD_OK(shmc_cache_incr(obj, shmc_str("ctr"), 1, shmc_int(0), 0, &n));
				CHILD_CHECK(n > 0);
			}
			int other = (int)((rng >> 40) % NKEYS);
			CHILD_OK(c_get(other, &got));
		}
		atomic_fetch_add(&me->ops, 1);
	}
	_exit(0);
}

static uint64_t seed;
static void compound_worker(int w, uint64_t s);

static void start_worker(int w)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		/* Die with the controller, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		if (kind == LOPS || kind == DOPS)
			compound_worker(w, seed);
		worker_main(w, seed);
	}
	atomic_store(&ctl->w[w].pid, pid);
}

/* Controller ---------------------------------------------------------------------- */

struct figures {
	uint64_t kills, in_cs, deadlocks, lost, torn, check_failures, swept, ops;
};

static bool park_all(int except)
{
	atomic_store(&ctl->park, 1);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		bool all = true;
		for (int w = 0; w < NWORKERS; w++)
			if (w != except && !atomic_load(&ctl->w[w].parked))
				all = false;
		if (all)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > PARK_TIMEOUT_S)
			return false;
		sched_yield();
	}
}

/* Check the oracle; normalise the victim's log to what the container holds. */
static void verify(int victim, struct figures *f)
{
	for (int k = 0; k < NKEYS; k++) {
		struct slot_log *log = &ctl->key[k];
		uint64_t got, committed = atomic_load(&log->committed);
		uint64_t inflight = atomic_load(&log->inflight);
		if (c_get(k, &got) != 0) {
			f->lost++;
			continue;
		}
		bool ok = got == committed || (kind == CACHE && got == 0); /* evicted */
		if (k % NWORKERS == victim && inflight)
			ok = ok || got == ((inflight & 3) == OP_SET ? inflight >> 2 : 0);
		if (!ok) {
			fprintf(stderr, "key %d: holds version %" PRIu64 ", committed %" PRIu64
				", in flight %#" PRIx64 "\n", k, got, committed, inflight);
			f->lost++;
		}
		atomic_store(&log->committed, got);
		atomic_store(&log->inflight, 0);
	}
	if (kind != LIST)
		return;
	for (int w = 0; w < NWORKERS; w++) {
		for (int id = 0; id < TAIL; id++) {
			struct slot_log *t = &ctl->tail[w][id];
			shmc_value_t tv = tail_value(w, id);
			int64_t at = shmc_list_index(obj, tv);
			uint64_t present = at >= NKEYS;
			bool ok = present == atomic_load(&t->committed);
			if (w == victim && atomic_load(&t->inflight))
				ok = true; /* either outcome is right */
			if (at >= 0 && at < NKEYS)
				ok = false; /* in the prefix: something shifted it */
			if (!ok) {
				fprintf(stderr, "tail item %d/%d: present %d, committed %d\n", w,
					id, (int)present, (int)atomic_load(&t->committed));
				f->lost++;
			}
			atomic_store(&t->committed, present);
			atomic_store(&t->inflight, 0);
			shmc_value_free(&tv);
		}
	}
}

/* Compound operations (lops, dops) ------------------------------------------- */

#define CMAX 256 /* most items a worker's list holds */
#define CMIN 32  /* fewest items a lops list keeps */
#define DMAX 128 /* most entries a worker's dict holds */

static shmc_obj_t *objs[NWORKERS]; /* a container per worker */

/* A worker's private model of its container: the list's items, or the
 * dict's keys and values, in order. */
static int64_t mkeys[CMAX], mvals[CMAX];
static int mlen;

/* The hash of a whole container: N items K (with values V for a dict), in
 * order. Never 0, which the log keeps for "no operation in flight". */
static uint64_t hash_items(const int64_t *k, const int64_t *v, int n)
{
	uint64_t h = (uint64_t)n + 1;
	for (int i = 0; i < n; i++) {
		h = mix64(h + (uint64_t)k[i] * 0x9e3779b97f4a7c15ull);
		if (v)
			h = mix64(h + (uint64_t)v[i] * 0xc2b2ae3d27d4eb4full);
	}
	return h ? h : 1;
}

/* Read worker W's container whole (one consistent copy) into K and V.
 * @return 0, 1 when it holds something no worker writes (counted torn), or
 *         the copy's error */
static int read_whole(int w, int64_t *k, int64_t *v, int *n)
{
	shmc_value_t all;
	int rc = kind == LOPS ? shmc_list_copy(objs[w], &all) : shmc_dict_items(objs[w], &all);
	if (rc)
		return rc;
	size_t len = shmc_seq_len(all);
	bool ok = len <= CMAX;
	for (size_t i = 0; ok && i < len; i++) {
		shmc_value_t *it = shmc_seq_at(all, (int64_t)i);
		if (kind == LOPS) {
			ok = it->type == SHMC_INT;
			k[i] = it->i;
			continue;
		}
		ok = it->type == SHMC_TUPLE && shmc_seq_len(*it) == 2 &&
		     shmc_seq_at(*it, 0)->type == SHMC_INT && shmc_seq_at(*it, 1)->type == SHMC_INT;
		if (ok) {
			k[i] = shmc_seq_at(*it, 0)->i;
			v[i] = shmc_seq_at(*it, 1)->i;
		}
	}
	shmc_value_free(&all);
	if (!ok) {
		fprintf(stderr, "worker %d's container holds a foreign item\n", w);
		atomic_fetch_add(&ctl->torn, 1);
		return 1;
	}
	*n = (int)len;
	return 0;
}

/* The hash of worker W's container as it is; 0 when it is not whole. */
static uint64_t hash_whole(int w)
{
	int64_t k[CMAX], v[CMAX];
	int n, rc = read_whole(w, k, v, &n);
	CHILD_CHECK(rc >= 0);
	return rc ? 0 : hash_items(k, kind == DOPS ? v : NULL, n);
}

/* Around each operation: IN FLIGHT before SEQ turns odd, COMMITTED before it
 * turns even again, so that a reader who sees one SEQ throughout knows the
 * states the container may have been in. */
static void op_begin(struct whole_log *l, uint64_t after)
{
	atomic_store(&l->inflight, after);
	atomic_fetch_add(&l->seq, 1);
}

static void op_end(struct whole_log *l, uint64_t after)
{
	atomic_store(&l->committed, after);
	atomic_store(&l->inflight, 0);
	atomic_fetch_add(&l->seq, 1);
}

/* Copy another worker's container while it works on it: unless an
 * operation began or ended meanwhile, the copy is the committed state or
 * (while one is in flight) the state after it, never one between. */
static void check_other(int w)
{
	struct whole_log *l = &ctl->whole[w];
	uint64_t s = atomic_load(&l->seq), in = atomic_load(&l->inflight);
	uint64_t c = atomic_load(&l->committed);
	uint64_t h = hash_whole(w);
	if (h == 0 || atomic_load(&l->seq) != s)
		return;
	if (h != c && !((s & 1) && h == in)) {
		fprintf(stderr, "worker %d's container read between states (seq %" PRIu64 ")\n",
			w, s);
		atomic_fetch_add(&ctl->torn, 1);
	}
}

static uint64_t model_hash(const int64_t *k, const int64_t *v, int n)
{
	return hash_items(k, kind == DOPS ? v : NULL, n);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* key=lambda x: -x: a callback that runs while the list is locked. */
static int neg_key(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	(void)ctx;
	*key = shmc_int(-item->i);
	return 0;
}

/* The indices of [A:B:STEP] (A and B in range, as the callers pick them). */
static int slice_idx(int a, int b, int step, int *idx)
{
	int m = 0;
	if (step > 0)
		for (int i = a; i < b; i += step)
			idx[m++] = i;
	else
		for (int i = a; i > b; i += step)
			idx[m++] = i;
	return m;
}

/* One lops operation on worker W's list: sort (by the items, or by a key
 * function, either way round), slice assignment (step 1, resizing, from a
 * plain list or from the list itself; or an extended slice) or slice
 * deletion. */
static void lops_op(int w, uint64_t *rng)
{
	shmc_obj_t *ls = objs[w];
	struct whole_log *l = &ctl->whole[w];
	int64_t nm[2 * CMAX];
	int idx[CMAX], nn = 0;
	*rng = mix64(*rng);
	uint64_t r = *rng;
	unsigned pick = (unsigned)(r % 100);
	if (pick >= 70 && mlen < 64)
		pick = 30; /* grow instead of deleting */
	if (pick < 20) {
		bool reverse = (r >> 8) & 1, keyed = (r >> 9) % 3 == 0;
		memcpy(nm, mkeys, sizeof(int64_t) * (size_t)mlen);
		nn = mlen;
		qsort(nm, (size_t)nn, sizeof(int64_t), cmp_i64);
		if (reverse != keyed) /* equal ints are alike: no stability to see */
			for (int i = 0; i < nn / 2; i++) {
				int64_t t = nm[i];
				nm[i] = nm[nn - 1 - i];
				nm[nn - 1 - i] = t;
			}
		uint64_t after = model_hash(nm, NULL, nn);
		op_begin(l, after);
		CHILD_OK(shmc_list_sort(ls, keyed ? neg_key : NULL, NULL, NULL, reverse));
		op_end(l, after);
	} else if (pick < 40) {
		int a = (int)((r >> 8) % (uint64_t)(mlen + 1));
		int b = a + (int)((r >> 20) % (uint64_t)(mlen - a < 16 ? mlen - a + 1 : 17));
		int k = (int)((r >> 28) % 17);
		if (mlen < 64)
			k = b - a + 1 + (int)((r >> 36) % 16);
		bool self = (r >> 44) % 8 == 0 && 2 * mlen - (b - a) <= CMAX;
		if (self)
			k = mlen;
		if (mlen - (b - a) + k > CMAX)
			k = b - a;
		shmc_value_t items = shmc_plist_of(0);
		memcpy(nm, mkeys, sizeof(int64_t) * (size_t)a);
		nn = a;
		for (int i = 0; i < k; i++) {
			*rng = mix64(*rng);
			int64_t x = self ? mkeys[i] : (int64_t)(*rng % 1000);
			nm[nn++] = x;
			if (!self)
				CHILD_OK(shmc_plist_append(&items, shmc_int(x)));
		}
		memcpy(nm + nn, mkeys + b, sizeof(int64_t) * (size_t)(mlen - b));
		nn += mlen - b;
		uint64_t after = model_hash(nm, NULL, nn);
		op_begin(l, after);
		CHILD_OK(shmc_list_slice_set(ls, a, b, (r >> 47) & 1 ? 1 : SHMC_SLICE_NONE,
					     self ? shmc_ref(ls) : items));
		op_end(l, after);
		shmc_value_free(&items);
	} else {
		static const int steps[] = {2, 3, -1, -2, 1};
		bool del = pick >= 70;
		int step = steps[(r >> 8) % (del ? 5 : 4)];
		int a, b;
		if (step > 0) {
			a = (int)((r >> 12) % (uint64_t)mlen);
			b = a + (int)((r >> 24) % (uint64_t)(mlen - a + 1));
		} else {
			a = (int)((r >> 12) % (uint64_t)mlen);
			b = (int)((r >> 24) % (uint64_t)(a + 1));
		}
		if (del && step == 1 && b - a > 16)
			b = a + 16;
		int m = slice_idx(a, b, step, idx);
		if (del && mlen - m < CMIN)
			return;
		memcpy(nm, mkeys, sizeof(int64_t) * (size_t)mlen);
		nn = mlen;
		shmc_value_t items = shmc_plist_of(0);
		if (del) {
			for (int j = 0; j < m; j++)
				nm[idx[j]] = INT64_MIN; /* marked: items are never that */
			nn = 0;
			for (int i = 0; i < mlen; i++)
				if (nm[i] != INT64_MIN)
					nm[nn++] = nm[i];
		} else {
			for (int j = 0; j < m; j++) {
				*rng = mix64(*rng);
				nm[idx[j]] = (int64_t)(*rng % 1000);
				CHILD_OK(shmc_plist_append(&items, shmc_int(nm[idx[j]])));
			}
		}
		uint64_t after = model_hash(nm, NULL, nn);
		op_begin(l, after);
		if (del)
			CHILD_OK(shmc_list_slice_del(ls, a, b, step));
		else
			CHILD_OK(shmc_list_slice_set(ls, a, b, step, items));
		op_end(l, after);
		shmc_value_free(&items);
	}
	memcpy(mkeys, nm, sizeof(int64_t) * (size_t)nn);
	mlen = nn;
}

/* One dops operation on worker W's dict: merge a batch of 1 to 8 pairs
 * (some keys new, some there, some twice) from a plain dict or a list of
 * pairs, or popitem. */
static void dops_op(int w, uint64_t *rng)
{
	shmc_obj_t *d = objs[w];
	struct whole_log *l = &ctl->whole[w];
	*rng = mix64(*rng);
	uint64_t r = *rng;
	int k = 1 + (int)((r >> 8) % 8);
	/* A merge does most of its work before it locks the dict (it first
	 * makes OTHER a private dict), a popitem most of its after: a mix that
	 * kills inside the lock often enough, the dict staying near DMAX / 2. */
	bool merge = (r % 100 < 30 || mlen == 0) && mlen + k <= DMAX;
	if (!merge) {
		if (mlen == 0)
			return;
		uint64_t after = model_hash(mkeys, mvals, mlen - 1);
		shmc_value_t key, val;
		op_begin(l, after);
		CHILD_OK(shmc_dict_popitem(d, &key, &val));
		op_end(l, after);
		if (key.type != SHMC_INT || val.type != SHMC_INT || key.i != mkeys[mlen - 1] ||
		    val.i != mvals[mlen - 1])
			atomic_fetch_add(&ctl->lost, 1);
		shmc_value_free(&key);
		shmc_value_free(&val);
		mlen--;
		return;
	}
	bool pairs = (r >> 16) % 4 == 0;
	shmc_value_t other = pairs ? shmc_plist_of(0) : shmc_pdict_of(0);
	int64_t nk[CMAX], nv[CMAX];
	int nn = mlen;
	memcpy(nk, mkeys, sizeof(int64_t) * (size_t)mlen);
	memcpy(nv, mvals, sizeof(int64_t) * (size_t)mlen);
	for (int j = 0; j < k; j++) {
		*rng = mix64(*rng);
		uint64_t x = *rng;
		/* A full dict takes mostly keys it has. */
		int64_t key = mlen > DMAX / 2 && x % 4 ? mkeys[(x >> 8) % (uint64_t)mlen]
						       : (int64_t)((x >> 8) % 600);
		int64_t val = (int64_t)(x >> 20);
		int i = 0;
		while (i < nn && nk[i] != key)
			i++;
		if (i == nn) {
			nk[nn] = key;
			nn++;
		}
		nv[i] = val;
		if (pairs)
			CHILD_OK(shmc_plist_append(&other,
						   shmc_tuple_of(2, shmc_int(key), shmc_int(val))));
		else
			CHILD_OK(shmc_pdict_set(&other, shmc_int(key), shmc_int(val)));
	}
	uint64_t after = model_hash(nk, nv, nn);
	op_begin(l, after);
	CHILD_OK(shmc_dict_merge(d, other));
	op_end(l, after);
	shmc_value_free(&other);
	memcpy(mkeys, nk, sizeof(int64_t) * (size_t)nn);
	memcpy(mvals, nv, sizeof(int64_t) * (size_t)nn);
	mlen = nn;
}

static void compound_worker(int w, uint64_t s)
{
	struct worker *me = &ctl->w[w];
	uint64_t rng = mix64(s + (uint64_t)w * 7919 + atomic_load(&me->ops));
	/* Start from what the container holds: the controller checked it. */
	CHILD_CHECK(read_whole(w, mkeys, mvals, &mlen) == 0);
	while (!atomic_load(&ctl->stop)) {
		park_if_asked(me);
		rng = mix64(rng);
		/* Few reads: a whole copy costs several operations (the
		 * controller checks each worker's own container). */
		if (rng % 100 >= 5) {
			if (kind == LOPS)
				lops_op(w, &rng);
			else
				dops_op(w, &rng);
		} else {
			check_other((int)((rng >> 8) % NWORKERS));
		}
		atomic_fetch_add(&me->ops, 1);
	}
	_exit(0);
}

/* After a kill, with the survivors parked between operations: each
 * container must be its committed state -- or, for the victim's, the state
 * after its operation in flight. The victim's log then records what its
 * container holds, for its successor. */
static void compound_verify(int victim, struct figures *f)
{
	for (int w = 0; w < NWORKERS; w++) {
		struct whole_log *l = &ctl->whole[w];
		uint64_t h = hash_whole(w), c = atomic_load(&l->committed);
		uint64_t in = atomic_load(&l->inflight);
		bool ok = h != 0 && (h == c || (w == victim && in && h == in));
		if (!ok) {
			fprintf(stderr, "worker %d's container: hash %#" PRIx64 ", committed %#" PRIx64
				", in flight %#" PRIx64 "%s\n", w, h, c, in,
				w == victim ? " (the victim)" : "");
			f->lost++;
		}
		if (w == victim) {
			atomic_store(&l->committed, h);
			atomic_store(&l->inflight, 0);
			if (atomic_load(&l->seq) & 1)
				atomic_fetch_add(&l->seq, 1);
		}
	}
}

/* Make each worker's container, and log its state. */
static void compound_setup(shmc_arena_t *a)
{
	uint64_t rng = mix64(seed ^ 0x5eed);
	for (int w = 0; w < NWORKERS; w++) {
		int64_t k[CMAX], v[CMAX];
		int n = kind == LOPS ? 128 : 64;
		if (kind == LOPS)
			CHILD_OK(shmc_list_new(a, &objs[w]));
		else
			CHILD_OK(shmc_dict_new(a, &objs[w]));
		for (int i = 0; i < n; i++) {
			rng = mix64(rng);
			k[i] = kind == LOPS ? (int64_t)(rng % 1000) : i * 7;
			v[i] = (int64_t)(rng >> 20);
			if (kind == LOPS)
				CHILD_OK(shmc_list_append(objs[w], shmc_int(k[i])));
			else
				CHILD_OK(shmc_dict_set(objs[w], shmc_int(k[i]), shmc_int(v[i])));
		}
		atomic_store(&ctl->whole[w].committed, model_hash(k, v, n));
	}
}

/* Take each container's writer lock and change nothing. */
static int compound_probe(void)
{
	for (int w = 0; w < NWORKERS; w++) {
		int rc = kind == LOPS ? shmc_list_update(objs[w], 0, cancel, NULL)
				      : shmc_dict_update(objs[w], shmc_int(-1), cancel, NULL);
		if (rc != -ECANCELED && rc != SHMC_EKEY)
			return rc;
	}
	return -ECANCELED;
}

static int run(shmc_arena_t *a, enum kind k, int kills, struct figures *f)
{
	kind = k;
	memset(ctl, 0, sizeof(*ctl));
	memset(f, 0, sizeof(*f));
	if (k == LOPS || k == DOPS)
		compound_setup(a);
	else if (k == DICT)
		CHILD_OK(shmc_dict_new(a, &obj));
	else if (k == CACHE)
		CHILD_OK(shmc_cache_new(a, NULL, CACHE_MAX, 0, &obj));
	else if (k == NS)
		CHILD_OK(shmc_namespace_new(a, &obj));
	else
		CHILD_OK(shmc_list_new(a, &obj));
	for (int i = 0; i < NKEYS && (k < LOPS || k == CACHE); i++) {
		shmc_value_t v = make_value(i, (uint64_t)i + 1);
		if (k == LIST)
			CHILD_OK(shmc_list_append(obj, v));
		else
			CHILD_OK(c_set(i, v));
		/* The cache evicted the first quarter as it filled. */
		atomic_store(&ctl->key[i].committed, (uint64_t)i + 1);
		shmc_value_free(&v);
	}
	for (int w = 0; w < NWORKERS; w++)
		start_worker(w);
	uint64_t rng = mix64(seed ^ (uint64_t)k);
	shmc_arena_stats_t st;
	for (int i = 0; i < kills; i++) {
		rng = mix64(rng);
		struct timespec nap = {0, (long)(rng % 2000) * 1000};
		nanosleep(&nap, NULL);
		int victim = (int)((rng >> 16) % NWORKERS);
		shmc_arena_stats(a, &st);
		uint64_t rec0 = st.lock_recoveries;
		pid_t pid = atomic_load(&ctl->w[victim].pid);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status)) {
			fprintf(stderr, "worker %d exited by itself (status %#x)\n", victim, status);
			return 1;
		}
		f->kills++;
		atomic_store(&ctl->w[victim].parked, 0);
		if (!park_all(victim)) {
			fprintf(stderr, "kill %d: survivors did not park: deadlock\n", i);
			if (getenv("SHMC_STRESS_GDB"))
				for (int w = 0; w < NWORKERS; w++) {
					char cmd[256];
					if (w == victim || atomic_load(&ctl->w[w].parked))
						continue;
					snprintf(cmd, sizeof(cmd), "gdb -p %d -batch -ex bt -ex 'frame 3' -ex 'p *o' -ex 'p o->lock.__data' 2>&1 | grep -E '^#|^\\$|__lock'",
						 atomic_load(&ctl->w[w].pid));
					if (system(cmd) != 0)
						fprintf(stderr, "gdb failed\n");
				}
			f->deadlocks++;
			break;
		}
		/* An update that changes nothing still takes the container's
		 * lock: if the victim died holding it, this (or a survivor
		 * before) recovered it. */
		int prc = k == LOPS || k == DOPS ? compound_probe() : probe();
		CHILD_CHECK(prc == -ECANCELED || prc == SHMC_EKEY || prc == SHMC_EATTR);
		shmc_arena_stats(a, &st);
		f->in_cs += st.lock_recoveries > rec0;
		if (k == LOPS || k == DOPS)
			compound_verify(victim, f);
		else
			verify(victim, f);
		shmc_check_report_t rep;
		int rc = shmc_arena_check(a, SHMC_CHECK_REAP | SHMC_CHECK_SWEEP, &rep,
					  NULL, NULL);
		if (rc != 0) {
			fprintf(stderr, "kill %d: arena check failed: %s\n", i, shmc_strerror(rc));
			shmc_arena_check(a, 0, &rep, print_finding, "check");
			f->check_failures++;
		}
		f->swept += rep.swept_blocks;
		start_worker(victim);
		atomic_store(&ctl->park, 0);
	}
	atomic_store(&ctl->stop, 1);
	for (int w = 0; w < NWORKERS; w++) {
		int status;
		pid_t pid = atomic_load(&ctl->w[w].pid);
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (waitpid(pid, &status, WNOHANG) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec > PARK_TIMEOUT_S) {
				fprintf(stderr, "worker %d does not stop: deadlock\n", w);
				f->deadlocks++;
				kill(pid, SIGKILL);
			}
			sched_yield();
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
			fprintf(stderr, "worker %d failed\n", w);
			f->check_failures++;
		}
		f->ops += atomic_load(&ctl->w[w].ops);
	}
	f->torn = atomic_load(&ctl->torn);
	f->lost += atomic_load(&ctl->lost);
	shmc_obj_release(obj);
	obj = NULL;
	for (int w = 0; w < NWORKERS && (k == LOPS || k == DOPS); w++)
		shmc_obj_release(objs[w]);
	return 0;
}

/* Under a sanitizer the CI form kills 150 times per kind (each kill and
 * recovery costs several times as much there), and the share of kills
 * that must land inside a critical section is 2 %: the sanitizer stretches
 * the code around the locks more than the code inside them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CI_KILLS 150
#define MIN_IN_CS 2.0
#else
#define CI_KILLS 300
#define MIN_IN_CS 5.0
#endif

int main(int argc, char **argv)
{
	int kills = 1000;
	bool ci = false;
	const char *which = "all";
	seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ci"))
			kills = CI_KILLS, ci = true;
		else if (!strcmp(argv[i], "--kills") && i + 1 < argc)
			kills = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			which = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: stress_kill [--ci] [--kills N] "
					"[--kind dict|list|ns|lops|dops|cache|all] [--seed S]\n");
			return 2;
		}
	}
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	if (ctl == MAP_FAILED)
		return 2;
	int failed = 0;
	for (int k = DICT; k <= CACHE; k++) {
		if (strcmp(which, "all") && strcmp(which, kind_name[k]))
			continue;
		shmc_arena_t *a = test_arena(256 << 20);
		struct figures f;
		/* The compound kinds' kills cost as much as the others': fewer
		 * in CI keep make test's time. */
		int n = ci && k >= LOPS && kills > 200 ? 200 : kills;
		double t0 = now_s();
		if (run(a, (enum kind)k, n, &f))
			failed = 1;
		double secs = now_s() - t0;
		double pct = f.kills ? 100.0 * (double)f.in_cs / (double)f.kills : 0;
		printf("stress_kill %-4s seed=%" PRIu64 ": kills=%" PRIu64
		       " in_critical_section=%" PRIu64 " (%.1f%%) deadlocks=%" PRIu64
		       " lost_updates=%" PRIu64 " torn_values=%" PRIu64
		       " check_failures=%" PRIu64 " swept_blocks=%" PRIu64 " ops=%" PRIu64
		       " secs=%.1f\n",
		       kind_name[k], seed, f.kills, f.in_cs, pct, f.deadlocks, f.lost,
		       f.torn, f.check_failures, f.swept, f.ops, secs);
		fflush(stdout);
		if (f.deadlocks || f.lost || f.torn || f.check_failures ||
		    f.kills < (uint64_t)n || pct < MIN_IN_CS)
			failed = 1;
		shmc_arena_close(a);
	}
	return failed;
}
