/*
 * bench_shmc.c -- shmc's managed containers, through the public API only.
 *
 * Anonymous arenas, created before the children are forked, hold every
 * container: a namespace (x, c, arr), dicts of 10 000 and 1 000 000 entries
 * with int keys and with short str keys, a list of 1 000 000 ints and a list
 * to append to. Each 1M container has an arena of its own, so that a child
 * prepares only that arena's pages (bench_prefault_shared); the rest share
 * one. Keys are drawn at random from the populated range, so sets replace
 * existing values and gets always hit. The arena-memory figures are taken
 * first, from shmc_arena_stats() deltas around building the big containers
 * in their arenas, after reclaiming what growth retired.
 * A Lock and an unbounded Queue serve the lock and queue operations.
 *
 * With --lines (bench/lines.py, under valgrind) the "10k" containers and
 * the list of ints hold LINES_SMALL entries, the 1M dicts are not built and
 * no memory figure is taken: valgrind's trace costs about a microsecond per
 * access, and building 10 000 entries alone would be 27 million of them.
 * An operation takes the same path whatever the size (bench/README.md).
 */
#include <errno.h>
#include <shmc.h>

#include "bench.h"

#define SMALL 10000u
#define LINES_SMALL 1000u
#define BIG 1000000u

#define OK(call)                                                               \
	do {                                                                   \
		int64_t rc_ = (int64_t)(call);                                 \
		if (rc_ < 0)                                                   \
			bench_die("%s:%d: %s -> %s", __FILE__, __LINE__, #call, \
				  shmc_errname((int)rc_));                      \
	} while (0)

static struct {
	shmc_arena_t *a;
	shmc_arena_t *big[3];     /* the arenas of dint[1], dstr[1], ls_big */
	struct bench_ranges big_ranges[3]; /* their mappings */
	shmc_obj_t *ns;           /* x: int, c: counter, arr: plain list of 10 ints */
	shmc_obj_t *dint[2];      /* int -> int, SMALL and BIG entries */
	shmc_obj_t *dstr[2];      /* "k0000123" -> int */
	shmc_obj_t *ls_big;       /* BIG ints */
	shmc_obj_t *ls_app;       /* appended to; fresh for each process count */
	shmc_value_t arr;         /* the plain list written back */
	shmc_obj_t *lock, *queue;
	shmc_obj_t *cache, *cache_ev; /* bounded caches of S.small int keys, full */
	char named[64];           /* the named arena others open */
	uint64_t ls_len;          /* entries in ls_big */
	uint64_t small;           /* entries in the "10k" dicts: SMALL or LINES_SMALL */
} S;

struct dict_case {
	shmc_obj_t **d;
	uint64_t size;
	int str;
};

/* The benchmark children ---------------------------------------------------- */

static void child_fini(void *arg, int rank)
{
	(void)arg;
	(void)rank;
	shmc_arena_close(S.a); /* detach politely: our slot and records go back */
	for (int i = 0; i < 3; i++)
		if (S.big[i])
			shmc_arena_close(S.big[i]);
}

static void run_ns_set(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++)
		OK(shmc_namespace_set(S.ns, "x", shmc_int((int64_t)i)));
}

/* A process asleep in shmc_obj_wait_change() on another namespace, while
 * ns_set_watched runs: a registered waiter elsewhere must cost a store
 * nothing. It leaves when "stop" is set. */
static pid_t start_watcher(shmc_obj_t *other)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		for (;;) {
			uint64_t ver;
			OK(shmc_obj_version(other, &ver));
			if (shmc_namespace_has(other, "stop") == 1)
				_exit(0);
			int rc = shmc_obj_wait_change(other, ver, SHMC_FOREVER);
			if (rc)
				_exit(1);
		}
	}
	for (uint64_t n = 0; n != 1;) {
		OK(shmc_obj_waiters(other, &n));
		usleep(100);
	}
	return pid;
}

static void stop_watcher(shmc_obj_t *other, pid_t pid)
{
	int st;
	OK(shmc_namespace_set(other, "stop", shmc_int(1)));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bench_die("the watcher failed");
}

static void run_ns_get(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		shmc_value_t v;
		OK(shmc_namespace_get(S.ns, "x", &v));
		acc += (uint64_t)v.i;
		shmc_value_free(&v);
	}
	bench_sink += acc;
}

static shmc_value_t dict_key(const struct dict_case *c, char *buf)
{
	uint64_t k = bench_below(&bench_rng, c->size);
	if (!c->str)
		return shmc_int((int64_t)k);
	bench_key(buf, k);
	return shmc_strn(buf, BENCH_KEY_LEN);
}

static void run_dict_set(void *arg, int rank, uint64_t n)
{
	const struct dict_case *c = arg;
	char buf[BENCH_KEY_LEN + 1];
	(void)rank;
	for (uint64_t i = 0; i < n; i++)
		OK(shmc_dict_set(*c->d, dict_key(c, buf), shmc_int((int64_t)i)));
}

static void run_dict_get(void *arg, int rank, uint64_t n)
{
	const struct dict_case *c = arg;
	char buf[BENCH_KEY_LEN + 1];
	uint64_t acc = 0;
	(void)rank;
	for (uint64_t i = 0; i < n; i++) {
		shmc_value_t v;
		OK(shmc_dict_get(*c->d, dict_key(c, buf), &v));
		acc += (uint64_t)v.i;
		shmc_value_free(&v);
	}
	bench_sink += acc;
}

static void run_list_append(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++)
		OK(shmc_list_append(S.ls_app, shmc_int((int64_t)i)));
}

static void fresh_append_list(void *arg)
{
	(void)arg;
	shmc_obj_release(S.ls_app);
	OK(shmc_list_new(S.a, &S.ls_app));
	OK(shmc_arena_reclaim(S.a));
}

static void run_list_get(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		shmc_value_t v;
		OK(shmc_list_get(S.ls_big, (int64_t)bench_below(&bench_rng, S.ls_len), &v));
		acc += (uint64_t)v.i;
		shmc_value_free(&v);
	}
	bench_sink += acc;
}

static void run_ns_add(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++)
		OK(shmc_namespace_add(S.ns, "c", shmc_int(1), NULL));
}

static void run_dict_add(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++)
		OK(shmc_dict_add(S.dint[0], shmc_int((int64_t)bench_below(&bench_rng, S.small)),
				 shmc_int(1), NULL));
}

static void run_plist_read(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		shmc_value_t v;
		OK(shmc_namespace_get(S.ns, "arr", &v));
		acc += (uint64_t)shmc_seq_at(v, 9)->i;
		shmc_value_free(&v);
	}
	bench_sink += acc;
}

static void run_plist_write(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++)
		OK(shmc_namespace_set(S.ns, "arr", S.arr));
}

/* The cache rows: nginx's lua_shared_dict operations (get that hits, set
 * of a new key that evicts, incr of a counter there). */
static void run_cache_get(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		shmc_value_t v;
		OK(shmc_cache_get(S.cache, shmc_int((int64_t)bench_below(&bench_rng, S.small)), &v,
				  NULL));
		acc += (uint64_t)v.i;
	}
	bench_sink += acc;
}

static void run_cache_set_evict(void *arg, int rank, uint64_t n)
{
	static uint64_t next;
	(void)arg;
	uint64_t mine = (uint64_t)getpid() << 32 | (uint64_t)rank << 24;
	for (uint64_t i = 0; i < n; i++) /* a key never stored: an eviction each */
		OK(shmc_cache_set(S.cache_ev, shmc_int((int64_t)(mine | next++)),
				  shmc_int((int64_t)i), 0));
}

static void run_cache_incr(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++)
		OK(shmc_cache_incr(S.cache, shmc_int((int64_t)bench_below(&bench_rng, S.small)), 1,
				   shmc_int(0), 0, NULL));
}

static void setup_lock(void)
{
	OK(shmc_lock_new(S.a, &S.lock));
	OK(shmc_queue_new(S.a, 0, &S.queue));
}

static void run_lock(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++) {
		OK(shmc_lock_acquire(S.lock, SHMC_FOREVER));
		OK(shmc_lock_release(S.lock));
	}
}

static void run_queue(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++) {
		shmc_value_t v;
		OK(shmc_queue_put(S.queue, shmc_int((int64_t)i), SHMC_FOREVER));
		OK(shmc_queue_get(S.queue, SHMC_FOREVER, &v));
		shmc_value_free(&v);
	}
}

static void run_arena_create(void *arg, int rank, uint64_t n)
{
	char name[64];
	(void)arg;
	(void)rank;
	snprintf(name, sizeof(name), "shmc-bench-new-%d", (int)getpid());
	for (uint64_t i = 0; i < n; i++) {
		shmc_arena_t *b;
		OK(shmc_arena_create(name, NULL, &b));
		shmc_arena_close(b);
		OK(shmc_arena_unlink(name));
	}
}

static void run_arena_open(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++) {
		shmc_arena_t *b;
		OK(shmc_arena_open(S.named, &b));
		shmc_arena_close(b);
	}
}

/* Set-up and memory -------------------------------------------------------- */

/* Bytes in use in A once everything retired has been reclaimed. */
static size_t in_use(shmc_arena_t *a)
{
	shmc_arena_stats_t st;
	for (int i = 0; i < 4; i++)
		OK(shmc_arena_reclaim(a));
	OK(shmc_arena_stats(a, &st));
	return st.bytes_in_use;
}

/* Big arena I, with this process's bookkeeping in it (handle table, retire
 * queue) made first, so the memory delta counts the container only. */
static shmc_arena_t *big_arena(int i)
{
	struct bench_ranges before;
	shmc_obj_t *ns;
	bench_ranges_now(&before);
	OK(shmc_arena_create_anon(NULL, &S.big[i]));
	bench_ranges_new(&before, &S.big_ranges[i]);
	OK(shmc_namespace_new(S.big[i], &ns));
	OK(shmc_namespace_set(ns, "x", shmc_int(0)));
	OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	shmc_obj_release(ns);
	return S.big[i];
}

static shmc_value_t key_of(int str, uint64_t k, char *buf)
{
	if (!str)
		return shmc_int((int64_t)k);
	bench_key(buf, k);
	return shmc_strn(buf, BENCH_KEY_LEN);
}

static shmc_obj_t *fill_dict(shmc_arena_t *a, int str, uint64_t n)
{
	shmc_obj_t *d;
	char buf[BENCH_KEY_LEN + 1];
	OK(shmc_dict_new(a, &d));
	for (uint64_t k = 0; k < n; k++)
		OK(shmc_dict_set(d, key_of(str, k, buf), shmc_int((int64_t)k)));
	return d;
}

static void setup(void)
{
	OK(shmc_arena_create_anon(NULL, &S.a));
	/* This process's bookkeeping (handle table, retire queue) first, so
	 * the memory deltas count containers and values only. */
	OK(shmc_namespace_new(S.a, &S.ns));
	OK(shmc_namespace_set(S.ns, "x", shmc_int(0)));
	OK(shmc_namespace_set(S.ns, "c", shmc_int(0)));
	S.arr = shmc_plist_of(10, shmc_int(1), shmc_int(2), shmc_int(3), shmc_int(4),
			      shmc_int(5), shmc_int(6), shmc_int(7), shmc_int(8),
			      shmc_int(9), shmc_int(10));
	OK(shmc_namespace_set(S.ns, "arr", S.arr));

	S.small = bench_cfg.lines ? LINES_SMALL : SMALL;
	S.ls_len = bench_cfg.lines ? LINES_SMALL : BIG;
	if (bench_cfg.lines) {
		OK(shmc_list_new(S.a, &S.ls_big));
		for (uint64_t i = 0; i < S.ls_len; i++)
			OK(shmc_list_append(S.ls_big, shmc_int((int64_t)i)));
	} else {
		shmc_arena_t *a = big_arena(0);
		size_t base = in_use(a);
		S.dint[1] = fill_dict(a, 0, BIG);
		bench_memory("dict_int_1m", BIG, (double)(in_use(a) - base),
			     "shmc_arena_stats bytes_in_use delta; 1e6 x shmc_dict_set(int, int)");
		a = big_arena(1);
		base = in_use(a);
		S.dstr[1] = fill_dict(a, 1, BIG);
		bench_memory("dict_str_1m", BIG, (double)(in_use(a) - base),
			     "bytes_in_use delta; 1e6 x shmc_dict_set(\"k0000123\", int)");
		a = big_arena(2);
		base = in_use(a);
		OK(shmc_list_new(a, &S.ls_big));
		for (uint64_t i = 0; i < BIG; i++)
			OK(shmc_list_append(S.ls_big, shmc_int((int64_t)i)));
		bench_memory("list_int_1m", BIG, (double)(in_use(a) - base),
			     "bytes_in_use delta; 1e6 x shmc_list_append(int)");
	}

	S.dint[0] = fill_dict(S.a, 0, S.small);
	S.dstr[0] = fill_dict(S.a, 1, S.small);
	OK(shmc_list_new(S.a, &S.ls_app));
	OK(shmc_cache_new(S.a, NULL, S.small, 0, &S.cache));
	OK(shmc_cache_new(S.a, NULL, S.small, 0, &S.cache_ev));
	for (uint64_t i = 0; i < S.small; i++) {
		OK(shmc_cache_set(S.cache, shmc_int((int64_t)i), shmc_int((int64_t)i), 0));
		OK(shmc_cache_set(S.cache_ev, shmc_int((int64_t)i), shmc_int((int64_t)i), 0));
	}
	setup_lock();
	snprintf(S.named, sizeof(S.named), "shmc-bench-open-%d", (int)getpid());
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "shmc");
	setup();

	static struct dict_case dc[2][2]; /* [str][big] */
	for (int str = 0; str < 2; str++)
		for (int big = 0; big < 2; big++)
			dc[str][big] = (struct dict_case){
				str ? &S.dstr[big] : &S.dint[big], big ? BIG : S.small, str};
	static const char *const names[2][2][2] = {
		{{"dict_set_int_10k", "dict_get_int_10k"}, {"dict_set_int_1m", "dict_get_int_1m"}},
		{{"dict_set_str_10k", "dict_get_str_10k"}, {"dict_set_str_1m", "dict_get_str_1m"}},
	};

	struct bench_op ops[] = {
		{.op = "ns_set", .run = run_ns_set, .kind = BENCH_WRITE,
		 .note = "shmc_namespace_set(ns, \"x\", int)"},
		{.op = "ns_get", .run = run_ns_get, .kind = BENCH_READ,
		 .note = "shmc_namespace_get(ns, \"x\")"},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		ops[i].child_fini = child_fini;
		bench_case(&ops[i]);
	}
	if (bench_selected("ns_set_watched")) {
		shmc_obj_t *other;
		OK(shmc_namespace_new(S.a, &other));
		pid_t w = start_watcher(other);
		struct bench_op o = {.op = "ns_set_watched", .run = run_ns_set,
				     .child_fini = child_fini, .kind = BENCH_WRITE,
				     .note = "ns_set while another process waits on another "
					     "object (shmc_obj_wait_change)"};
		bench_case(&o);
		stop_watcher(other, w);
		shmc_obj_release(other);
	}
	for (int str = 0; str < 2; str++)
		for (int big = 0; big < 2 - bench_cfg.lines; big++)
			for (int get = 0; get < 2; get++) {
				struct bench_op o = {
					.op = names[str][big][get],
					.run = get ? run_dict_get : run_dict_set,
					.arg = &dc[str][big],
					.child_fini = child_fini,
					.kind = get ? BENCH_READ : BENCH_WRITE,
					.prefault = big,
					.prefault_only = big ? &S.big_ranges[str] : NULL,
					.note = get ? "shmc_dict_get, random existing key"
						    : "shmc_dict_set, random existing key",
				};
				bench_case(&o);
			}

	struct bench_op more[] = {
		{.op = "list_append", .run = run_list_append, .before = fresh_append_list,
		 .kind = BENCH_WRITE, .note = "shmc_list_append(int), list grows from empty"},
		{.op = "list_get", .run = run_list_get, .kind = BENCH_READ, .prefault = 1,
		 .prefault_only = &S.big_ranges[2], .note = "shmc_list_get, random index of 1e6"},
		{.op = "ns_add", .run = run_ns_add, .kind = BENCH_WRITE, .note = "shmc_namespace_add(ns, \"c\", 1)"},
		{.op = "dict_add", .run = run_dict_add, .kind = BENCH_WRITE,
		 .note = "shmc_dict_add(d, random int key of 1e4, 1)"},
		{.op = "plist_read", .run = run_plist_read, .kind = BENCH_READ,
		 .note = "shmc_namespace_get of a plain list of 10 ints (private copy)"},
		{.op = "plist_write", .run = run_plist_write, .kind = BENCH_WRITE,
		 .note = "shmc_namespace_set of a plain list of 10 ints"},
		{.op = "lock", .run = run_lock, .kind = BENCH_WRITE,
		 .note = "shmc_lock_acquire + shmc_lock_release"},
		{.op = "cache_get_hit", .run = run_cache_get, .kind = BENCH_READ,
		 .note = "shmc_cache_get, random key of a full cache of 1e4 ints"},
		{.op = "cache_set_evict", .run = run_cache_set_evict, .kind = BENCH_WRITE,
		 .note = "shmc_cache_set of a new int key into a full cache of 1e4: one eviction"},
		{.op = "cache_incr", .run = run_cache_incr, .kind = BENCH_WRITE,
		 .note = "shmc_cache_incr(c, random key of 1e4, 1, init 0)"},
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		more[i].child_fini = child_fini;
		bench_case(&more[i]);
		OK(shmc_arena_reclaim(S.a));
	}

	struct bench_op q = {.op = "queue", .run = run_queue, .child_fini = child_fini,
			     .kind = BENCH_WRITE, .note = "shmc_queue_put + shmc_queue_get (unbounded)"};
	bench_case(&q);

	struct bench_op create = {.op = "arena_create", .run = run_arena_create,
				  .child_fini = child_fini,
				  .note = "shmc_arena_create(name, default 4 GiB) + close + unlink"};
	bench_case(&create);
	if (bench_selected("arena_open") && !bench_cfg.lines) {
		shmc_arena_t *named;
		OK(shmc_arena_create(S.named, NULL, &named));
		struct bench_op open = {.op = "arena_open", .run = run_arena_open,
					.child_fini = child_fini,
					.note = "shmc_arena_open(name) + close, in another process"};
		bench_case(&open);
		shmc_arena_close(named);
		OK(shmc_arena_unlink(S.named));
	}

	shmc_value_free(&S.arr);
	for (int i = 0; i < 3; i++)
		if (S.big[i])
			shmc_arena_close(S.big[i]);
	shmc_arena_close(S.a);
	return 0;
}
