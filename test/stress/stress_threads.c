/*
 * stress_threads -- threads as peers on one arena, for ThreadSanitizer.
 *
 * TSan sees only the threads of one process, so this program puts the
 * concurrency where it can see it: N threads of one process hammer the same
 * managed containers -- list append/pop/set/get/copy, dict set/del/get/items,
 * namespace add/cas/update, handle dup/release, nested references, named
 * objects and arena reclaim -- while a few forked processes (each with two
 * threads of its own) do the same on the same arena.
 *
 * Invariants checked at the end (and, for torn values, at every read):
 *   - ns.count equals the number of successful adds, ns.cas the number of
 *     successful compare-and-sets, ns.upd the number of updates (exact);
 *   - every list item appended is popped exactly once or still in the list,
 *     and the list's length is appends - pops;
 *   - every dict key a worker owns holds exactly what the worker last wrote;
 *   - each worker's nested list holds what the worker last put in it;
 *   - every value read anywhere is whole (a checksum);
 *   - the arena check finds no broken invariant and no leak, and once
 *     everything is released the arena's memory returns to where it started.
 *
 * Under ThreadSanitizer the processes are left out (--procs 0 unless asked
 * for): TSan keeps its happens-before state per process, so a hand-off that
 * passes through another process -- a block freed there and reused here, a
 * value written there and read here, an epoch advanced there -- is
 * invisible to it, and the memory's earlier accesses by this process's
 * threads then look like races with the later ones. No annotation can say
 * what another process released. The processes run in the other builds
 * (make test, and make check's AddressSanitizer pass); TSan watches the
 * threads, which exercise the same code.
 *
 * Usage: stress_threads [--ci] [--threads N] [--procs N] [--iters N] [--seed S]
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

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
#define DEFAULT_PROCS 0 /* see above */
#else
#define DEFAULT_PROCS 3
#endif

#define PROC_THREADS 2 /* threads in each forked process */
#define DKEYS 16       /* dict keys each worker owns */
#define FIXED 64       /* items of the fixed-size list */
#define MAX_WORKERS 64

/* State shared by every worker, thread or process (MAP_SHARED). */
struct worker_log {
	_Atomic uint64_t adds, cas_wins, updates, appends, pops, ops;
	uint64_t dver[DKEYS]; /* version each own dict key holds; 0: absent */
	uint64_t nest_len;    /* items in this worker's nested list */
	int nest_live;        /* the nested list exists */
};

struct control {
	_Atomic int go;
	_Atomic uint64_t torn, errors;
	uint64_t iters;
	int nworkers;
	struct worker_log w[MAX_WORKERS];
	_Atomic uint8_t item_state[]; /* per (worker, seq): 1 appended, 2 popped */
};

static struct control *ctl;
static shmc_arena_t *arena;
static uint64_t seed;

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "stress_threads %d: ", __LINE__);             \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		atomic_fetch_add(&ctl->errors, 1);                             \
	} while (0)

/* An operation that must succeed. */
#define OK(call)                                                               \
	do {                                                                   \
		int rc_ = (int)(call);                                         \
		if (rc_ < 0)                                                   \
			FAIL("%s -> %s", #call, shmc_errname(rc_));            \
	} while (0)

/* Values: (tag, a, b, padding, checksum), padding varying block sizes. */
static shmc_value_t make_value(int64_t tag, int64_t a, int64_t b)
{
	char pad[40];
	size_t n = (size_t)(a + b) % sizeof(pad);
	memset(pad, 'a' + (int)((a + b) % 26), n);
	uint64_t sum = mix64((uint64_t)tag * 31 + (uint64_t)a * 1000003 + (uint64_t)b + n);
	return shmc_tuple_of(5, shmc_int(tag), shmc_int(a), shmc_int(b), shmc_strn(pad, n),
			     shmc_int((int64_t)(sum >> 1)));
}

/* Whether V is a whole value of TAG; *a and *b receive its fields. */
static bool parse_value(shmc_value_t v, int64_t tag, int64_t *a, int64_t *b)
{
	if (v.type != SHMC_TUPLE || shmc_seq_len(v) != 5)
		goto torn;
	shmc_value_t *t = shmc_seq_at(v, 0), *x = shmc_seq_at(v, 1), *y = shmc_seq_at(v, 2);
	shmc_value_t *pad = shmc_seq_at(v, 3), *sum = shmc_seq_at(v, 4);
	if (t->type != SHMC_INT || x->type != SHMC_INT || y->type != SHMC_INT ||
	    pad->type != SHMC_STR || sum->type != SHMC_INT || t->i != tag)
		goto torn;
	size_t n = (size_t)(x->i + y->i) % 40;
	uint64_t want = mix64((uint64_t)tag * 31 + (uint64_t)x->i * 1000003 + (uint64_t)y->i + n);
	if (pad->len != n || (uint64_t)sum->i != want >> 1)
		goto torn;
	for (size_t i = 0; i < n; i++)
		if (pad->str[i] != 'a' + (char)((x->i + y->i) % 26))
			goto torn;
	*a = x->i;
	*b = y->i;
	return true;
torn:
	atomic_fetch_add(&ctl->torn, 1);
	return false;
}

enum { TAG_LIST = 1, TAG_FIXED, TAG_DICT, TAG_NEST };

static _Atomic uint8_t *item_state(int w, uint64_t seq)
{
	return &ctl->item_state[(uint64_t)w * ctl->iters + seq];
}

/* The containers, found by name in each worker. */
struct objs {
	shmc_obj_t *ns, *ls, *fixed, *d;
};

static void objs_get(struct objs *o)
{
	OK(shmc_root_find_or_create(arena, "ns", SHMC_KIND_NAMESPACE, &o->ns));
	OK(shmc_root_find_or_create(arena, "ls", SHMC_KIND_LIST, &o->ls));
	OK(shmc_root_find_or_create(arena, "fixed", SHMC_KIND_LIST, &o->fixed));
	OK(shmc_root_find_or_create(arena, "d", SHMC_KIND_DICT, &o->d));
}

static void objs_release(struct objs *o)
{
	shmc_obj_release(o->ns);
	shmc_obj_release(o->ls);
	shmc_obj_release(o->fixed);
	shmc_obj_release(o->d);
}

/* The update function: ns.upd is (n, str(n)); it becomes (n+1, str(n+1)). */
static int bump(shmc_value_t *v, void *ctx)
{
	(void)ctx;
	if (v->type != SHMC_TUPLE || shmc_seq_len(*v) != 2 ||
	    shmc_seq_at(*v, 0)->type != SHMC_INT)
		return SHMC_ETYPE;
	int64_t n = shmc_seq_at(*v, 0)->i;
	char buf[24], want[24];
	snprintf(want, sizeof(want), "%" PRId64, n);
	shmc_value_t *s = shmc_seq_at(*v, 1);
	if (s->type != SHMC_STR || s->len != strlen(want) || memcmp(s->str, want, s->len)) {
		atomic_fetch_add(&ctl->torn, 1);
		return SHMC_ETYPE;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, n + 1);
	shmc_value_free(v);
	*v = shmc_tuple_of(2, shmc_int(n + 1), shmc_str(buf));
	return 0;
}

static shmc_value_t dkey(int w, int k)
{
	return shmc_tuple_of(2, shmc_int(w), shmc_int(k));
}

static shmc_value_t nest_key(int w)
{
	return shmc_tuple_of(2, shmc_str("nest"), shmc_int(w));
}

/* Verify every item of a plain list of TAG values. */
static void check_items(shmc_value_t l, int64_t tag)
{
	for (size_t i = 0; i < shmc_seq_len(l); i++) {
		int64_t a, b;
		shmc_value_t *it = shmc_seq_at(l, (int64_t)i);
		if (tag == TAG_FIXED && it->type == SHMC_NONE)
			continue;
		parse_value(*it, tag, &a, &b);
	}
}

static void op_list(struct objs *o, int w, uint64_t r, uint64_t *seq)
{
	struct worker_log *me = &ctl->w[w];
	int64_t a, b;
	shmc_value_t v;
	switch (r % 7) {
	case 0:
	case 1: { /* append */
		if (*seq >= ctl->iters)
			return;
		shmc_value_t x = make_value(TAG_LIST, w, (int64_t)*seq);
		atomic_store(item_state(w, *seq), 1);
		int rc = shmc_list_append(o->ls, x);
		if (rc)
			FAIL("append: %s", shmc_errname(rc));
		else
			atomic_fetch_add(&me->appends, 1);
		(*seq)++;
		shmc_value_free(&x);
		return;
	}
	case 2:
	case 3: { /* pop */
		int rc = shmc_list_pop(o->ls, (r >> 8) % 2 ? -1 : 0, &v);
		if (rc == SHMC_EINDEX)
			return;
		if (rc) {
			FAIL("pop: %s", shmc_errname(rc));
			return;
		}
		if (parse_value(v, TAG_LIST, &a, &b)) {
			if (a < 0 || a >= ctl->nworkers || b < 0 || (uint64_t)b >= ctl->iters) {
				FAIL("popped (%" PRId64 ", %" PRId64 ")", a, b);
			} else {
				uint8_t one = 1;
				if (!atomic_compare_exchange_strong(item_state((int)a, (uint64_t)b),
								    &one, 2))
					FAIL("item (%" PRId64 ", %" PRId64 ") popped in state %u",
					     a, b, one);
			}
			atomic_fetch_add(&me->pops, 1);
		}
		shmc_value_free(&v);
		return;
	}
	case 4: { /* get */
		int64_t n = shmc_list_len(o->ls);
		if (n <= 0)
			return;
		int rc = shmc_list_get(o->ls, (int64_t)((r >> 8) % (uint64_t)n), &v);
		if (rc == SHMC_EINDEX) /* popped meanwhile */
			return;
		OK(rc);
		if (rc == 0) {
			parse_value(v, TAG_LIST, &a, &b);
			shmc_value_free(&v);
		}
		return;
	}
	case 5: { /* set / get on the fixed list */
		int64_t i = (int64_t)((r >> 8) % FIXED);
		if ((r >> 16) % 2) {
			shmc_value_t x = make_value(TAG_FIXED, w, (int64_t)(r >> 20) % 1000);
			OK(shmc_list_set(o->fixed, i, x));
			shmc_value_free(&x);
		} else if (shmc_list_get(o->fixed, i, &v) == 0) {
			if (v.type != SHMC_NONE)
				parse_value(v, TAG_FIXED, &a, &b);
			shmc_value_free(&v);
		} else {
			FAIL("fixed[%" PRId64 "] unreadable", i);
		}
		return;
	}
	default: { /* copy */
		shmc_obj_t *which = (r >> 8) % 4 ? o->fixed : o->ls;
		int rc = shmc_list_copy(which, &v);
		OK(rc);
		if (rc == 0) {
			if (which == o->fixed && shmc_seq_len(v) != FIXED)
				FAIL("fixed list has %zu items", shmc_seq_len(v));
			check_items(v, which == o->fixed ? TAG_FIXED : TAG_LIST);
			shmc_value_free(&v);
		}
		return;
	}
	}
}

static void op_dict(struct objs *o, int w, uint64_t r, uint64_t *ver)
{
	struct worker_log *me = &ctl->w[w];
	int k = (int)((r >> 8) % DKEYS);
	shmc_value_t key = dkey(w, k), v;
	int64_t a, b;
	switch (r % 5) {
	case 0:
	case 1: { /* set */
		shmc_value_t x = make_value(TAG_DICT, w * DKEYS + k, (int64_t)++*ver);
		int rc = shmc_dict_set(o->d, key, x);
		OK(rc);
		if (rc == 0)
			me->dver[k] = *ver;
		shmc_value_free(&x);
		break;
	}
	case 2: { /* del */
		int rc = shmc_dict_del(o->d, key);
		if (rc != 0 && !(rc == SHMC_EKEY && me->dver[k] == 0))
			FAIL("del (%d, %d): %s", w, k, shmc_errname(rc));
		me->dver[k] = 0;
		break;
	}
	case 3: { /* get: own keys hold exactly what we wrote */
		int rc = shmc_dict_get(o->d, key, &v);
		if (rc == SHMC_EKEY) {
			if (me->dver[k])
				FAIL("key (%d, %d) lost", w, k);
		} else if (rc) {
			FAIL("get: %s", shmc_errname(rc));
		} else {
			if (parse_value(v, TAG_DICT, &a, &b) && (uint64_t)b != me->dver[k])
				FAIL("key (%d, %d) holds %" PRId64 ", wrote %" PRIu64, w, k, b,
				     me->dver[k]);
			shmc_value_free(&v);
		}
		/* Someone else's key: whole or absent. */
		shmc_value_t other = dkey((int)((r >> 16) % (uint64_t)ctl->nworkers), k);
		rc = shmc_dict_get(o->d, other, &v);
		if (rc == 0) {
			parse_value(v, TAG_DICT, &a, &b);
			shmc_value_free(&v);
		} else if (rc != SHMC_EKEY) {
			FAIL("get other: %s", shmc_errname(rc));
		}
		shmc_value_free(&other);
		break;
	}
	default: { /* items: a consistent snapshot */
		int rc = shmc_dict_items(o->d, &v);
		OK(rc);
		if (rc)
			break;
		int mine = 0, want = 0;
		for (int i = 0; i < DKEYS; i++)
			want += me->dver[i] != 0;
		for (size_t i = 0; i < shmc_seq_len(v); i++) {
			shmc_value_t *kv = shmc_seq_at(v, (int64_t)i);
			shmc_value_t *ik = shmc_seq_at(*kv, 0), *iv = shmc_seq_at(*kv, 1);
			if (ik == NULL || iv == NULL) {
				FAIL("items: malformed entry");
				continue;
			}
			if (ik->type != SHMC_TUPLE || shmc_seq_at(*ik, 0)->type == SHMC_STR)
				continue; /* "ns", or a nested list's key */
			int64_t kw = shmc_seq_at(*ik, 0)->i, kk = shmc_seq_at(*ik, 1)->i;
			if (parse_value(*iv, TAG_DICT, &a, &b) && a != kw * DKEYS + kk)
				FAIL("items: key (%" PRId64 ", %" PRId64 ") holds another's value",
				     kw, kk);
			if (kw == w) {
				mine++;
				if ((uint64_t)b != me->dver[kk])
					FAIL("items: own key %" PRId64 " holds %" PRId64, kk, b);
			}
		}
		if (mine != want)
			FAIL("items: %d own keys, expected %d", mine, want);
		shmc_value_free(&v);
	}
	}
	shmc_value_free(&key);
}

static void op_ns(struct objs *o, uint64_t r, struct worker_log *me)
{
	shmc_value_t v;
	switch (r % 3) {
	case 0: {
		int rc = shmc_namespace_add(o->ns, "count", shmc_int(1), NULL);
		OK(rc);
		if (rc == 0)
			atomic_fetch_add(&me->adds, 1);
		break;
	}
	case 1: {
		int rc = shmc_namespace_get(o->ns, "cas", &v);
		OK(rc);
		if (rc || v.type != SHMC_INT) {
			FAIL("ns.cas is not an int");
			break;
		}
		rc = shmc_namespace_cas(o->ns, "cas", v, shmc_int(v.i + 1));
		if (rc < 0)
			FAIL("cas: %s", shmc_errname(rc));
		else if (rc == 1)
			atomic_fetch_add(&me->cas_wins, 1);
		break;
	}
	default: {
		int rc = shmc_namespace_update(o->ns, "upd", bump, NULL);
		OK(rc);
		if (rc == 0)
			atomic_fetch_add(&me->updates, 1);
	}
	}
}

/* Handles and named objects. */
static void op_handles(struct objs *o, int w, uint64_t r)
{
	shmc_obj_t *h, *h2;
	char name[32];
	switch (r % 3) {
	case 0:
		OK(shmc_obj_dup(o->ls, &h));
		OK(shmc_root_find(arena, "d", &h2));
		if (!shmc_obj_same(h2, o->d) || shmc_obj_kind(h) != SHMC_KIND_LIST)
			FAIL("dup/find gave another object");
		shmc_obj_release(h);
		shmc_obj_release(h2);
		break;
	case 1: /* a named object of our own, made and removed */
		snprintf(name, sizeof(name), "tmp-%d", w);
		if (shmc_root_find_or_create(arena, name, SHMC_KIND_DICT, &h) == 0) {
			OK(shmc_dict_set(h, shmc_int(1), shmc_ref(o->ls)));
			OK(shmc_root_remove(arena, name));
			shmc_obj_release(h);
		} else {
			FAIL("root_get %s", name);
		}
		break;
	default: { /* a shared name everyone races to create and remove */
		int rc = shmc_root_find_or_create(arena, "race", SHMC_KIND_LIST, &h);
		if (rc == 0) {
			OK(shmc_list_append(h, shmc_int(w)));
			rc = shmc_root_remove(arena, "race");
			if (rc && rc != SHMC_EKEY)
				FAIL("remove race: %s", shmc_errname(rc));
			shmc_obj_release(h);
		} else {
			FAIL("root_get race: %s", shmc_errname(rc));
		}
	}
	}
}

/* Nested references: a list of our own, stored in the dict by reference. */
static void op_nested(struct objs *o, int w, uint64_t r)
{
	struct worker_log *me = &ctl->w[w];
	shmc_value_t key = nest_key(w), v;
	shmc_obj_t *ls;
	switch (r % 4) {
	case 0: { /* replace it with a fresh list (the old one is freed) */
		if (shmc_list_new(arena, &ls) != 0) {
			FAIL("list_new");
			break;
		}
		shmc_value_t x = make_value(TAG_NEST, w, 0);
		OK(shmc_list_append(ls, x));
		shmc_value_free(&x);
		/* The list holds a reference to the shared one: a cycle-free
		 * chain the reclaimer must walk. */
		OK(shmc_list_append(ls, shmc_ref(o->fixed)));
		OK(shmc_dict_set(o->d, key, shmc_ref(ls)));
		shmc_obj_release(ls);
		me->nest_live = 1;
		me->nest_len = 2;
		break;
	}
	case 1:
	case 2: { /* read it back and add to it */
		int rc = shmc_dict_get(o->d, key, &v);
		if (rc == SHMC_EKEY) {
			if (me->nest_live)
				FAIL("nested list of %d lost", w);
			break;
		}
		if (rc || v.type != SHMC_REF) {
			FAIL("nested: %s", shmc_errname(rc));
			break;
		}
		int64_t n = shmc_list_len(v.ref);
		if (n != (int64_t)me->nest_len)
			FAIL("nested list of %d has %" PRId64 " items, expected %" PRIu64, w, n,
			     me->nest_len);
		shmc_value_t x = make_value(TAG_NEST, w, n);
		if (n < 32 && shmc_list_append(v.ref, x) == 0)
			me->nest_len++;
		shmc_value_free(&x);
		shmc_value_t first;
		if (shmc_list_get(v.ref, 0, &first) == 0) {
			int64_t a, b;
			parse_value(first, TAG_NEST, &a, &b);
			shmc_value_free(&first);
		}
		shmc_value_free(&v);
		break;
	}
	default: {
		int rc = shmc_dict_del(o->d, key);
		if (rc && !(rc == SHMC_EKEY && !me->nest_live))
			FAIL("del nested: %s", shmc_errname(rc));
		me->nest_live = 0;
		me->nest_len = 0;
	}
	}
	shmc_value_free(&key);
}

static void *worker(void *arg)
{
	int w = (int)(intptr_t)arg;
	struct worker_log *me = &ctl->w[w];
	struct objs o;
	objs_get(&o);
	uint64_t rng = mix64(seed + (uint64_t)w * 7919), seq = 0, ver = 0;
	while (!atomic_load(&ctl->go))
		sched_yield();
	for (uint64_t i = 0; i < ctl->iters; i++) {
		rng = mix64(rng);
		unsigned r = (unsigned)(rng % 100);
		uint64_t sub = rng >> 7;
		if (r < 30)
			op_list(&o, w, sub, &seq);
		else if (r < 55)
			op_dict(&o, w, sub, &ver);
		else if (r < 75)
			op_ns(&o, sub, me);
		else if (r < 87)
			op_handles(&o, w, sub);
		else if (r < 99)
			op_nested(&o, w, sub);
		else if (shmc_arena_reclaim(arena) < 0)
			FAIL("reclaim");
		atomic_fetch_add(&me->ops, 1);
	}
	objs_release(&o);
	return NULL;
}

static pthread_barrier_t warm_barrier;

static void *warm(void *arg)
{
	(void)arg;
	arena_warm(arena);
	pthread_barrier_wait(&warm_barrier); /* all at once: a record each */
	return NULL;
}

static void join_threads(pthread_t *t, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* Final verification ------------------------------------------------------- */

static void verify(struct objs *o, uint64_t *appended, uint64_t *popped)
{
	uint64_t adds = 0, cas = 0, upd = 0, app = 0, pops = 0;
	for (int w = 0; w < ctl->nworkers; w++) {
		adds += ctl->w[w].adds;
		cas += ctl->w[w].cas_wins;
		upd += ctl->w[w].updates;
		app += ctl->w[w].appends;
		pops += ctl->w[w].pops;
	}
	*appended = app;
	*popped = pops;
	shmc_value_t v;
	OK(shmc_namespace_get(o->ns, "count", &v));
	if (v.type != SHMC_INT || (uint64_t)v.i != adds)
		FAIL("ns.count = %" PRId64 ", %" PRIu64 " adds", v.i, adds);
	OK(shmc_namespace_get(o->ns, "cas", &v));
	if (v.type != SHMC_INT || (uint64_t)v.i != cas)
		FAIL("ns.cas = %" PRId64 ", %" PRIu64 " successful cas", v.i, cas);
	OK(shmc_namespace_get(o->ns, "upd", &v));
	if (v.type != SHMC_TUPLE || shmc_seq_at(v, 0)->i != (int64_t)upd)
		FAIL("ns.upd does not count %" PRIu64 " updates", upd);
	shmc_value_free(&v);

	/* The list: every appended item popped once or present once. */
	OK(shmc_list_copy(o->ls, &v));
	if (shmc_seq_len(v) != app - pops)
		FAIL("list holds %zu items: %" PRIu64 " appended, %" PRIu64 " popped",
		     shmc_seq_len(v), app, pops);
	for (size_t i = 0; i < shmc_seq_len(v); i++) {
		int64_t a, b;
		if (!parse_value(*shmc_seq_at(v, (int64_t)i), TAG_LIST, &a, &b))
			continue;
		uint8_t one = 1;
		if (a < 0 || a >= ctl->nworkers || b < 0 || (uint64_t)b >= ctl->iters ||
		    !atomic_compare_exchange_strong(item_state((int)a, (uint64_t)b), &one, 3))
			FAIL("list item (%" PRId64 ", %" PRId64 ") duplicated or unknown", a, b);
	}
	shmc_value_free(&v);
	for (uint64_t i = 0; i < (uint64_t)ctl->nworkers * ctl->iters; i++)
		if (atomic_load(&ctl->item_state[i]) == 1)
			FAIL("item (%" PRIu64 ", %" PRIu64 ") appended, then lost",
			     i / ctl->iters, i % ctl->iters);

	/* The dict: own keys hold what their owner wrote last. */
	for (int w = 0; w < ctl->nworkers; w++) {
		for (int k = 0; k < DKEYS; k++) {
			shmc_value_t key = dkey(w, k);
			int rc = shmc_dict_get(o->d, key, &v);
			int64_t a, b;
			if (rc == SHMC_EKEY) {
				if (ctl->w[w].dver[k])
					FAIL("key (%d, %d) lost", w, k);
			} else if (rc) {
				FAIL("get: %s", shmc_errname(rc));
			} else {
				if (!parse_value(v, TAG_DICT, &a, &b) ||
				    (uint64_t)b != ctl->w[w].dver[k])
					FAIL("key (%d, %d) holds another version", w, k);
				shmc_value_free(&v);
			}
			shmc_value_free(&key);
		}
		shmc_value_t key = nest_key(w);
		int rc = shmc_dict_get(o->d, key, &v);
		if (rc == 0 && v.type == SHMC_REF) {
			if ((uint64_t)shmc_list_len(v.ref) != ctl->w[w].nest_len)
				FAIL("nested list of %d has the wrong length", w);
			shmc_value_free(&v);
		} else if (rc != SHMC_EKEY || ctl->w[w].nest_live) {
			FAIL("nested list of %d: %s", w, shmc_errname(rc));
		}
		shmc_value_free(&key);
	}
}


int main(int argc, char **argv)
{
	int nthreads = 8, nprocs = DEFAULT_PROCS;
	uint64_t iters = 20000;
	seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ci")) {
			nthreads = 4;
			nprocs = DEFAULT_PROCS ? 2 : 0;
			iters = 3000;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			nthreads = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--procs") && i + 1 < argc) {
			nprocs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			iters = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: stress_threads [--ci] [--threads N] "
					"[--procs N] [--iters N] [--seed S]\n");
			return 2;
		}
	}
	int nworkers = nthreads + nprocs * PROC_THREADS;
	if (nthreads < 1 || nprocs < 0 || nworkers > MAX_WORKERS || iters == 0) {
		fprintf(stderr, "stress_threads: at most %d workers\n", MAX_WORKERS);
		return 2;
	}
	size_t ctl_size = sizeof(*ctl) + (size_t)nworkers * iters;
	ctl = mmap(NULL, ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED)
		return 2;
	ctl->iters = iters;
	ctl->nworkers = nworkers;

	arena = test_arena(256 << 20);
	/* Each thread's epoch record keeps a retire queue when its thread
	 * exits (for the next thread to reuse): let the threads to come find
	 * theirs made, so that the baseline counts only containers and values. */
	pthread_t t[MAX_WORKERS];
	arena_warm(arena);
	pthread_barrier_init(&warm_barrier, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, warm, NULL) != 0)
			return 2;
	join_threads(t, nthreads);
	pthread_barrier_destroy(&warm_barrier);
	size_t base = arena_in_use(arena);
	struct objs o;
	objs_get(&o);
	OK(shmc_namespace_set(o.ns, "count", shmc_int(0)));
	OK(shmc_namespace_set(o.ns, "cas", shmc_int(0)));
	shmc_value_t upd = shmc_tuple_of(2, shmc_int(0), shmc_str("0"));
	OK(shmc_namespace_set(o.ns, "upd", upd));
	shmc_value_free(&upd);
	OK(shmc_namespace_set(o.ns, "ls", shmc_ref(o.ls))); /* nested references */
	OK(shmc_dict_set(o.d, shmc_str("ns"), shmc_ref(o.ns)));
	for (int i = 0; i < FIXED; i++)
		OK(shmc_list_append(o.fixed, shmc_none()));

	/* Processes first: fork() before any thread exists. */
	pid_t pids[MAX_WORKERS];
	fflush(NULL);
	for (int p = 0; p < nprocs; p++) {
		pids[p] = fork();
		if (pids[p] < 0) {
			perror("fork");
			return 2;
		}
		if (pids[p] == 0) {
			int first = nthreads + p * PROC_THREADS;
			pthread_t pt[PROC_THREADS];
			for (int i = 0; i < PROC_THREADS; i++)
				if (pthread_create(&pt[i], NULL, worker,
						   (void *)(intptr_t)(first + i)) != 0)
					_exit(3);
			join_threads(pt, PROC_THREADS);
			objs_release(&o);
			/* Half detach politely, half just die: the parent
			 * reaps what those leave. */
			if (p % 2)
				shmc_arena_close(arena);
			_exit(atomic_load(&ctl->errors) ? 1 : 0);
		}
	}
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) != 0) {
			perror("pthread_create");
			return 2;
		}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	atomic_store(&ctl->go, 1);
	join_threads(t, nthreads);
	int failed_procs = 0;
	for (int p = 0; p < nprocs; p++) {
		int st;
		if (waitpid(pids[p], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "process %d failed (status %#x)\n", p, st);
			failed_procs++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	uint64_t appended, popped;
	verify(&o, &appended, &popped);
	shmc_check_report_t rep;
	shmc_arena_reclaim(arena);
	int rc = shmc_arena_check(arena, SHMC_CHECK_REAP, &rep, print_finding, "check");
	if (rc != 0 || rep.errors || rep.leaked_blocks || rep.leaked_refs)
		FAIL("arena check: %s, %" PRIu64 " errors, %" PRIu64 " leaked blocks, %" PRIu64
		     " leaked references", shmc_strerror(rc), rep.errors, rep.leaked_blocks,
		     rep.leaked_refs);
	uint64_t objects = rep.objects;

	/* Release everything: the arena must return to where it started. */
	shmc_value_t names;
	OK(shmc_root_names(arena, &names));
	for (size_t i = 0; i < shmc_seq_len(names); i++)
		OK(shmc_root_remove(arena, shmc_seq_at(names, (int64_t)i)->str));
	shmc_value_free(&names);
	OK(shmc_dict_clear(o.d)); /* d -> ns -> ls: break the chain */
	objs_release(&o);
	/* Nothing may be left but the directory of names (which lives on,
	 * empty, with the table it grew to) and per-thread bookkeeping: no
	 * other object, no unreachable block, no uncounted reference. */
	size_t now = arena_in_use(arena);
	rc = shmc_arena_check(arena, 0, &rep, print_finding, "check");
	if (rc != 0 || rep.objects != 1 || rep.leaked_blocks || rep.leaked_refs)
		FAIL("after release: %s, %" PRIu64 " objects, %" PRIu64 " leaked blocks, %" PRIu64
		     " leaked references", shmc_strerror(rc), rep.objects, rep.leaked_blocks,
		     rep.leaked_refs);
	if (now < base || now - base > 4096)
		FAIL("arena holds %zd bytes more than at the start", (ssize_t)(now - base));
	shmc_arena_close(arena);

	uint64_t ops = 0;
	for (int w = 0; w < nworkers; w++)
		ops += ctl->w[w].ops;
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("stress_threads seed=%" PRIu64 ": threads=%d procs=%d (x%d threads) ops=%" PRIu64
	       " (%.0f/s) appended=%" PRIu64 " popped=%" PRIu64 " objects=%" PRIu64
	       " torn=%" PRIu64 " errors=%" PRIu64 "\n",
	       seed, nthreads, nprocs, PROC_THREADS, ops, ops / (secs > 0 ? secs : 1), appended,
	       popped, objects, atomic_load(&ctl->torn), atomic_load(&ctl->errors));
	return failed_procs || atomic_load(&ctl->torn) || atomic_load(&ctl->errors) ? 1 : 0;
}
