/*
 * test_contracts.c -- every public function keeps its contract on bad
 * arguments: NULL in each pointer position in turn gives -EINVAL or
 * SHMC_EHANDLE (or the documented NULL/0/false, or is ignored by a
 * function that returns nothing), never a crash, and changes nothing; a
 * str view of NULL with a non-zero length in each value position is an
 * error, or equals nothing where the value is only compared.
 *
 * The table below names every function of shmc.h; a test reads the header
 * and fails when a function is declared there that the table does not
 * cover (or the table names one the header no longer declares), so a new
 * function cannot be added without its row.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <libgen.h>
#include <sys/stat.h>

#include "testutil.h"

TestSuite(contracts, .timeout = 60);

/* The fixture: a named arena with one object of each kind, and a view. */
static struct fixture {
	shmc_arena_t *a;
	shmc_obj_t *ns, *ls, *d, *lock, *rlock, *sem, *bsem, *cond, *ev, *bar, *q, *jq,
		*num, *arr, *mv, *bara;
	shmc_obj_t *cache;
	shmc_obj_t *pool, *res, *it; /* for the pool's rows only (pool_up) */
	shmc_value_t pl, pd; /* a plain list [1, 2] and a plain dict {1: 2} */
	shmc_value_t ps, op; /* a plain set {1, 2} and an opaque value */
	shmc_view_t *view;
	FILE *devnull;
	char name[128], path[256];
	size_t base;
} F;

static int no_action(void *ctx)
{
	(void)ctx;
	return 0;
}

/* A str view of nothing: NULL with three bytes. */
#define BAD ((shmc_value_t){SHMC_STR, 0, 0, 3, {.str = NULL}})

static void fixture_up(void)
{
	crash_cleanup_install();
	unique_name(F.name, sizeof(F.name), F.path, sizeof(F.path), "contracts");
	F.a = test_named_arena(F.name, 16 << 20);
	arena_warm(F.a);
	ASSERT_OK(shmc_namespace_new(F.a, &F.ns));
	ASSERT_OK(shmc_namespace_set(F.ns, "x", shmc_int(1)));
	ASSERT_OK(shmc_list_new(F.a, &F.ls));
	ASSERT_OK(shmc_list_append(F.ls, shmc_int(1)));
	ASSERT_OK(shmc_list_append(F.ls, shmc_int(2)));
	ASSERT_OK(shmc_dict_new(F.a, &F.d));
	ASSERT_OK(shmc_dict_set(F.d, shmc_int(1), shmc_int(2)));
	ASSERT_OK(shmc_lock_new(F.a, &F.lock));
	ASSERT_OK(shmc_rlock_new(F.a, &F.rlock));
	ASSERT_OK(shmc_semaphore_new(F.a, 2, &F.sem));
	ASSERT_OK(shmc_bounded_semaphore_new(F.a, 2, &F.bsem));
	ASSERT_OK(shmc_condition_new(F.a, NULL, &F.cond));
	ASSERT_OK(shmc_event_new(F.a, &F.ev));
	ASSERT_OK(shmc_barrier_new(F.a, 2, &F.bar));
	ASSERT_OK(shmc_queue_new(F.a, 0, &F.q));
	ASSERT_OK(shmc_queue_put(F.q, shmc_int(1), SHMC_NOWAIT));
	ASSERT_OK(shmc_joinable_queue_new(F.a, 0, &F.jq));
	ASSERT_OK(shmc_queue_put(F.jq, shmc_int(1), SHMC_NOWAIT));
	ASSERT_OK(shmc_cvalue_new(F.a, 'i', shmc_int(7), &F.num));
	ASSERT_OK(shmc_array_new(F.a, 'd', shmc_int(2), &F.arr));
	ASSERT_OK(shmc_mvalue_new(F.a, "i", shmc_int(7), &F.mv));
	ASSERT_OK(shmc_barrier_new_ex(F.a, 2, no_action, NULL, SHMC_FOREVER, &F.bara));
	ASSERT_OK(shmc_cache_new(F.a, NULL, 10, 0, &F.cache));
	ASSERT_OK(shmc_cache_set(F.cache, shmc_int(1), shmc_int(2), 0));
	shmc_obj_t *named;
	ASSERT_OK(shmc_root_setdefault(F.a, "r", F.ls, &named));
	shmc_obj_release(named);
	F.pl = shmc_plist_of(2, shmc_int(1), shmc_int(2));
	F.pd = shmc_pdict_of(1, shmc_int(1), shmc_int(2));
	cr_assert_eq(F.pl.type, SHMC_LIST);
	cr_assert_eq(F.pd.type, SHMC_DICT);
	F.ps = shmc_set_of(2, shmc_int(1), shmc_int(2));
	F.op = shmc_opaque("\x80\x04", 2, "<obj>");
	cr_assert_eq(F.ps.type, SHMC_SET);
	cr_assert_eq(F.op.type, SHMC_OPAQUE);
	ASSERT_OK(shmc_view_open(F.name, &F.view));
	F.devnull = fopen("/dev/null", "w");
	cr_assert_not_null(F.devnull);
}

static void fixture_down(void)
{
	if (F.pool) {
		shmc_obj_release(F.res);
		shmc_obj_release(F.it);
		shmc_pool_terminate(F.pool);
		shmc_pool_join(F.pool, TEST_DEADLINE);
		shmc_obj_release(F.pool);
	}
	shmc_obj_t **objs[] = {&F.ns, &F.ls, &F.d, &F.lock, &F.rlock, &F.sem, &F.bsem,
			       &F.cond, &F.ev, &F.bar, &F.q, &F.jq, &F.num, &F.arr,
			       &F.mv, &F.bara, &F.cache};
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		shmc_obj_release(*objs[i]);
	shmc_value_free(&F.pl);
	shmc_value_free(&F.pd);
	shmc_value_free(&F.ps);
	shmc_value_free(&F.op);
	shmc_view_close(F.view);
	fclose(F.devnull);
	shmc_arena_close(F.a);
	files_cleanup();
}

/* Everything the fixture holds, as text: what a failed call must leave. */
static char *state(void)
{
	struct {
		char *p;
		size_t n;
	} b = {calloc(1, 1), 0};
	shmc_obj_t *objs[] = {F.ns, F.ls, F.d, F.lock, F.rlock, F.sem, F.bsem,
			      F.cond, F.ev, F.bar, F.q, F.jq, F.num, F.arr,
			      F.mv, F.bara, F.cache};
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		char *s = obj_str(objs[i]);
		buf_add(&b.p, &b.n, s, strlen(s));
		buf_add(&b.p, &b.n, "\n", 1);
		shmc_free(s);
	}
	char line[256];
	shmc_value_t v = shmc_none(), arr = shmc_none(), names = shmc_none();
	shmc_cvalue_get(F.num, &v);
	shmc_array_copy(F.arr, &arr);
	shmc_root_names(F.a, &names);
	char *rl = value_repr(F.pl), *rd = value_repr(F.pd), *ra = value_repr(arr),
	     *rn = value_repr(names), *rs = value_repr(F.ps), *ro = value_repr(F.op);
	snprintf(line, sizeof(line),
		 "q %lld jq %lld sem %lld bsem %lld ev %d bar %lld/%d num %lld arr %s names %s pl %s pd %s"
		 " ps %s op %s in use %zu",
		 (long long)shmc_queue_qsize(F.q), (long long)shmc_queue_qsize(F.jq),
		 (long long)shmc_semaphore_value(F.sem), (long long)shmc_semaphore_value(F.bsem),
		 shmc_event_is_set(F.ev), (long long)shmc_barrier_n_waiting(F.bar),
		 shmc_barrier_broken(F.bar), (long long)v.i, ra, rn, rl, rd, rs, ro,
		 arena_in_use(F.a));
	buf_add(&b.p, &b.n, line, strlen(line));
	if (F.pool) {
		shmc_obj_t *pool_objs[] = {F.pool, F.res, F.it};
		for (size_t i = 0; i < 3; i++) {
			char *s = obj_str(pool_objs[i]);
			buf_add(&b.p, &b.n, "\n", 1);
			buf_add(&b.p, &b.n, s, strlen(s));
			shmc_free(s);
		}
	}
	shmc_free(rs);
	shmc_free(ro);
	shmc_free(rl);
	shmc_free(rd);
	shmc_free(ra);
	shmc_free(rn);
	shmc_value_free(&arr);
	shmc_value_free(&names);
	return b.p;
}

/* Callbacks the calls pass where a function is wanted. */
static int keep(shmc_value_t *v, void *ctx)
{
	(void)v;
	(void)ctx;
	return 0;
}
static bool yes(void *ctx)
{
	(void)ctx;
	return true;
}
static void ignore_finding(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}
static int each_proc(void *ctx, const shmc_proc_info_t *p)
{
	(void)ctx;
	(void)p;
	return 0;
}
static int each_object(void *ctx, const shmc_object_info_t *o)
{
	(void)ctx;
	(void)o;
	return 0;
}

/* Argument K of the call: NULL (a pointer) or BAD (a value) when bit K of
 * M is set, else the good argument X. */
#define P(k, x) ((m >> (k) & 1) ? NULL : (x))
#define V(k, x) ((m >> (k) & 1) ? BAD : (x))

/* What a call returned, as a number: an int's value; a pointer, bool or
 * kind as 0 (NULL, false, 0) or 1; a value as its error code (SHMC_ERROR)
 * or 0; 0 for a function that returns nothing. Each call frees what it
 * made. */
typedef long (*call_fn)(unsigned m);

static long ret_value(shmc_value_t v)
{
	long r = v.type == SHMC_ERROR ? (long)v.i : 0;
	shmc_value_free(&v);
	return r;
}
static long ret_obj(int rc, shmc_obj_t **h)
{
	if (rc == 0 && h)
		shmc_obj_release(*h);
	return rc;
}
static long ret_out(int rc, shmc_value_t *v)
{
	if (rc >= 0 && v)
		shmc_value_free(v);
	return rc;
}
static long ret_str(int rc, char **s)
{
	if (rc == 0 && s)
		shmc_free(*s);
	return rc;
}

/* Arenas */
static long c_version(unsigned m)
{
	(void)m;
	return shmc_version() != NULL;
}
static long c_strerror(unsigned m)
{
	(void)m;
	return shmc_strerror(-EINVAL) != NULL;
}
static long c_errname(unsigned m)
{
	(void)m;
	return shmc_errname(-EINVAL) != NULL;
}
static long c_arena_create_anon(unsigned m)
{
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY};
	shmc_arena_t *a;
	int rc = shmc_arena_create_anon(P(0, &o), P(1, &a));
	if (rc == 0 && !(m & 2))
		shmc_arena_close(a);
	return rc;
}
static long c_arena_create(unsigned m)
{
	char name[160];
	snprintf(name, sizeof(name), "%s-c", F.name);
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY};
	shmc_arena_t *a;
	int rc = shmc_arena_create(P(0, name), P(1, &o), P(2, &a));
	if (rc == 0 && !(m & 4))
		shmc_arena_close(a);
	shmc_arena_unlink(name);
	return rc;
}
static long c_arena_open(unsigned m)
{
	shmc_arena_t *a;
	int rc = shmc_arena_open(P(0, F.name), P(1, &a));
	if (rc == 0 && !(m & 2))
		shmc_arena_close(a);
	return rc;
}
static long c_arena_unlink(unsigned m)
{
	return shmc_arena_unlink(P(0, "shmc-test-contracts-none"));
}
static long c_arena_close(unsigned m)
{
	shmc_arena_close(P(0, F.a)); /* only ever called with NULL */
	return 0;
}
static long c_arena_reclaim(unsigned m)
{
	return shmc_arena_reclaim(P(0, F.a));
}
static long c_arena_stats(unsigned m)
{
	shmc_arena_stats_t st;
	return shmc_arena_stats(P(0, F.a), P(1, &st));
}
static long c_arena_check(unsigned m)
{
	shmc_check_report_t r;
	return shmc_arena_check(P(0, F.a), 0, P(2, &r), P(3, ignore_finding), P(4, &r));
}
static long c_arena_check_file(unsigned m)
{
	shmc_check_report_t r;
	return shmc_arena_check_file(P(0, F.name), P(1, &r), P(2, ignore_finding), P(3, &r));
}

/* Plain values */
static long c_str(unsigned m)
{
	shmc_value_t v = shmc_str(P(0, "abc"));
	return v.type == SHMC_STR && v.len == ((m & 1) ? 0 : 3) ? 0 : -1;
}
static long c_tuple_of(unsigned m)
{
	return ret_value(shmc_tuple_of(1, V(1, shmc_int(1))));
}
static long c_plist_of(unsigned m)
{
	return ret_value(shmc_plist_of(1, V(1, shmc_int(1))));
}
static long c_pdict_of(unsigned m)
{
	return ret_value(shmc_pdict_of(1, V(1, shmc_int(1)), V(2, shmc_int(2))));
}
static long c_value_free(unsigned m)
{
	shmc_value_free(P(0, &F.pl)); /* only ever called with NULL */
	return 0;
}
static long c_value_copy(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_value_copy(V(0, F.pl), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_value_eq(unsigned m)
{
	return shmc_value_eq(V(0, shmc_str("abc")), V(1, shmc_str("abc")));
}
static long c_seq_len(unsigned m)
{
	return (long)shmc_seq_len(V(0, F.pl));
}
static long c_seq_at(unsigned m)
{
	return shmc_seq_at(V(0, F.pl), 0) != NULL;
}
static long c_plist_append(unsigned m)
{
	return shmc_plist_append(P(0, &F.pl), V(1, shmc_int(3)));
}
static long c_plist_set(unsigned m)
{
	return shmc_plist_set(P(0, &F.pl), 0, V(2, shmc_int(3)));
}
static long c_pdict_len(unsigned m)
{
	return (long)shmc_pdict_len(V(0, F.pd));
}
static long c_pdict_get(unsigned m)
{
	return shmc_pdict_get(V(0, F.pd), V(1, shmc_int(1))) != NULL;
}
static long c_pdict_set(unsigned m)
{
	return shmc_pdict_set(P(0, &F.pd), V(1, shmc_int(5)), V(2, shmc_int(6)));
}
static long c_pdict_del(unsigned m)
{
	return shmc_pdict_del(P(0, &F.pd), V(1, shmc_int(1)));
}
static long c_pdict_entry(unsigned m)
{
	shmc_value_t *k, *v;
	return shmc_pdict_entry(F.pd, 0, P(2, &k), P(3, &v));
}
static long c_value_repr(unsigned m)
{
	char *s;
	return ret_str(shmc_value_repr(V(0, F.pl), P(1, &s)), (m & 2) ? NULL : &s);
}
static long c_value_str(unsigned m)
{
	char *s;
	return ret_str(shmc_value_str(V(0, shmc_str("abc")), P(1, &s)), (m & 2) ? NULL : &s);
}
static long c_free(unsigned m)
{
	shmc_free(P(0, (void *)"never freed")); /* only ever called with NULL */
	return 0;
}

/* Managed objects, common */
static long c_obj_kind(unsigned m)
{
	return shmc_obj_kind(P(0, F.ls)) != 0;
}
static long c_obj_arena(unsigned m)
{
	return shmc_obj_arena(P(0, F.ls)) != NULL;
}
static long c_obj_dup(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_obj_dup(P(0, F.ls), P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_obj_release(unsigned m)
{
	shmc_obj_release(P(0, F.ls)); /* only ever called with NULL */
	return 0;
}
static long c_obj_same(unsigned m)
{
	return shmc_obj_same(P(0, F.ls), P(1, F.ls));
}
static long c_obj_ident(unsigned m)
{
	shmc_ident_t id;
	return shmc_obj_ident(P(0, F.ls), P(1, &id));
}
static long c_obj_from_ident(unsigned m)
{
	shmc_ident_t id;
	shmc_obj_t *h;
	if (shmc_obj_ident(F.ls, &id) != 0)
		return -9999;
	return ret_obj(shmc_obj_from_ident(P(0, F.a), id, P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_arena_save(unsigned m)
{
	char path[300];
	snprintf(path, sizeof(path), "/tmp/%s.save", F.name);
	long rc = shmc_arena_save(P(0, F.a), P(1, path), 0);
	unlink(path);
	return rc;
}
static long c_arena_load(unsigned m)
{
	char path[300], name[160];
	snprintf(path, sizeof(path), "/tmp/%s.load", F.name);
	snprintf(name, sizeof(name), "%s-l", F.name);
	if (shmc_arena_save(F.a, path, 0) != 0)
		return -9999;
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY};
	shmc_arena_t *a;
	long rc = shmc_arena_load(P(0, path), P(1, name), P(2, &o), P(3, &a));
	if (rc == 0 && !(m & 8))
		shmc_arena_close(a);
	shmc_arena_unlink(name);
	unlink(path);
	return rc;
}
static long c_arena_name(unsigned m)
{
	const char *s;
	return shmc_arena_name(P(0, F.a), P(1, &s));
}
static long c_obj_str(unsigned m)
{
	char *s;
	return ret_str(shmc_obj_str(P(0, F.ls), P(1, &s)), (m & 2) ? NULL : &s);
}
static long c_obj_repr(unsigned m)
{
	char *s;
	return ret_str(shmc_obj_repr(P(0, F.ls), P(1, &s)), (m & 2) ? NULL : &s);
}
static long c_obj_print(unsigned m)
{
	return shmc_obj_print(P(0, F.ls), P(1, F.devnull));
}
static long c_value_print(unsigned m)
{
	return shmc_value_print(V(0, F.pl), P(1, F.devnull));
}

/* Namespace */
static long c_namespace_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_namespace_new(P(0, F.a), P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_namespace_set(unsigned m)
{
	return shmc_namespace_set(P(0, F.ns), P(1, "y"), V(2, shmc_int(2)));
}
static long c_namespace_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_namespace_get(P(0, F.ns), P(1, "x"), P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_namespace_del(unsigned m)
{
	return shmc_namespace_del(P(0, F.ns), P(1, "x"));
}
static long c_namespace_has(unsigned m)
{
	return shmc_namespace_has(P(0, F.ns), P(1, "x"));
}
static long c_namespace_names(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_namespace_names(P(0, F.ns), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_namespace_add(unsigned m)
{
	shmc_value_t r;
	return ret_out(shmc_namespace_add(P(0, F.ns), P(1, "x"), V(2, shmc_int(1)), P(3, &r)),
		       (m & 8) ? NULL : &r);
}
static long c_namespace_cas(unsigned m)
{
	return shmc_namespace_cas(P(0, F.ns), P(1, "x"), V(2, shmc_int(1)), V(3, shmc_int(5)));
}
static long c_namespace_update(unsigned m)
{
	return shmc_namespace_update(P(0, F.ns), P(1, "x"), P(2, keep), P(3, &F));
}

/* List */
static long c_list_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_list_new(P(0, F.a), P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_list_new_from(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_list_new_from(P(0, F.a), V(1, F.pl), P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_list_len(unsigned m)
{
	return shmc_list_len(P(0, F.ls));
}
static long c_list_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_list_get(P(0, F.ls), 0, P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_list_set(unsigned m)
{
	return shmc_list_set(P(0, F.ls), 0, V(2, shmc_int(9)));
}
static long c_list_append(unsigned m)
{
	return shmc_list_append(P(0, F.ls), V(1, shmc_int(9)));
}
static long c_list_insert(unsigned m)
{
	return shmc_list_insert(P(0, F.ls), 0, V(2, shmc_int(9)));
}
static long c_list_pop(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_list_pop(P(0, F.ls), 0, P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_list_del(unsigned m)
{
	return shmc_list_del(P(0, F.ls), 0);
}
static long c_list_extend(unsigned m)
{
	return shmc_list_extend(P(0, F.ls), V(1, F.pl));
}
static long c_list_clear(unsigned m)
{
	return shmc_list_clear(P(0, F.ls));
}
static long c_list_remove(unsigned m)
{
	return shmc_list_remove(P(0, F.ls), V(1, shmc_int(1)));
}
static long c_list_index(unsigned m)
{
	return shmc_list_index(P(0, F.ls), V(1, shmc_int(1)));
}
static long c_list_copy(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_list_copy(P(0, F.ls), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_list_add(unsigned m)
{
	shmc_value_t r;
	return ret_out(shmc_list_add(P(0, F.ls), 0, V(2, shmc_int(1)), P(3, &r)),
		       (m & 8) ? NULL : &r);
}
static long c_list_cas(unsigned m)
{
	return shmc_list_cas(P(0, F.ls), 0, V(2, shmc_int(1)), V(3, shmc_int(5)));
}
static long c_list_update(unsigned m)
{
	return shmc_list_update(P(0, F.ls), 0, P(2, keep), P(3, &F));
}

/* Dict */
static long c_dict_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_dict_new(P(0, F.a), P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_dict_new_from(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_dict_new_from(P(0, F.a), V(1, F.pd), P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_dict_len(unsigned m)
{
	return shmc_dict_len(P(0, F.d));
}
static long c_dict_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_get(P(0, F.d), V(1, shmc_int(1)), P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_dict_set(unsigned m)
{
	return shmc_dict_set(P(0, F.d), V(1, shmc_int(3)), V(2, shmc_int(4)));
}
static long c_dict_del(unsigned m)
{
	return shmc_dict_del(P(0, F.d), V(1, shmc_int(1)));
}
static long c_dict_has(unsigned m)
{
	return shmc_dict_has(P(0, F.d), V(1, shmc_int(1)));
}
static long c_dict_pop(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_pop(P(0, F.d), V(1, shmc_int(1)), P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_dict_setdefault(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_setdefault(P(0, F.d), V(1, shmc_int(3)), V(2, shmc_int(4)),
					    P(3, &v)),
		       (m & 8) ? NULL : &v);
}
static long c_dict_clear(unsigned m)
{
	return shmc_dict_clear(P(0, F.d));
}
static long c_dict_keys(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_keys(P(0, F.d), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_dict_values(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_values(P(0, F.d), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_dict_items(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_items(P(0, F.d), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_dict_copy(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_copy(P(0, F.d), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_dict_add(unsigned m)
{
	shmc_value_t r;
	return ret_out(shmc_dict_add(P(0, F.d), V(1, shmc_int(1)), V(2, shmc_int(1)), P(3, &r)),
		       (m & 8) ? NULL : &r);
}
static long c_dict_cas(unsigned m)
{
	return shmc_dict_cas(P(0, F.d), V(1, shmc_int(1)), V(2, shmc_int(2)), V(3, shmc_int(5)));
}
static long c_dict_update(unsigned m)
{
	return shmc_dict_update(P(0, F.d), V(1, shmc_int(1)), P(2, keep), P(3, &F));
}

/* Locks, conditions, events, barriers, queues and numbers */
static long c_lock_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_lock_new(P(0, F.a), P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_rlock_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_rlock_new(P(0, F.a), P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_lock_acquire(unsigned m)
{
	return shmc_lock_acquire(P(0, F.lock), SHMC_NOWAIT);
}
static long c_lock_release(unsigned m)
{
	return shmc_lock_release(P(0, F.lock));
}
static long c_semaphore_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_semaphore_new(P(0, F.a), 1, P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_bounded_semaphore_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_bounded_semaphore_new(P(0, F.a), 1, P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_semaphore_acquire(unsigned m)
{
	return shmc_semaphore_acquire(P(0, F.sem), SHMC_NOWAIT);
}
static long c_semaphore_release(unsigned m)
{
	return shmc_semaphore_release(P(0, F.sem));
}
static long c_semaphore_value(unsigned m)
{
	return shmc_semaphore_value(P(0, F.sem));
}
static long c_condition_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_condition_new(P(0, F.a), P(1, F.lock), P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_condition_lock(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_condition_lock(P(0, F.cond), P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_condition_acquire(unsigned m)
{
	return shmc_condition_acquire(P(0, F.cond), SHMC_NOWAIT);
}
static long c_condition_release(unsigned m)
{
	return shmc_condition_release(P(0, F.cond));
}
static long c_condition_wait(unsigned m)
{
	return shmc_condition_wait(P(0, F.cond), SHMC_NOWAIT);
}
static long c_condition_wait_for(unsigned m)
{
	/* Holding the lock, so that only the argument under test can fail. */
	int rc = shmc_condition_acquire(F.cond, SHMC_NOWAIT);
	if (rc)
		return -1000;
	rc = shmc_condition_wait_for(P(0, F.cond), P(1, yes), P(2, &F), SHMC_NOWAIT);
	shmc_condition_release(F.cond);
	return rc;
}
static long c_condition_notify(unsigned m)
{
	return shmc_condition_notify(P(0, F.cond), 1);
}
static long c_condition_notify_all(unsigned m)
{
	return shmc_condition_notify_all(P(0, F.cond));
}
static long c_event_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_event_new(P(0, F.a), P(1, &h)), (m & 2) ? NULL : &h);
}
static long c_event_set(unsigned m)
{
	return shmc_event_set(P(0, F.ev));
}
static long c_event_clear(unsigned m)
{
	return shmc_event_clear(P(0, F.ev));
}
static long c_event_is_set(unsigned m)
{
	return shmc_event_is_set(P(0, F.ev));
}
static long c_event_wait(unsigned m)
{
	return shmc_event_wait(P(0, F.ev), SHMC_NOWAIT);
}
static long c_barrier_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_barrier_new(P(0, F.a), 2, P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_barrier_wait(unsigned m)
{
	return shmc_barrier_wait(P(0, F.bar), SHMC_NOWAIT);
}
static long c_barrier_abort(unsigned m)
{
	return shmc_barrier_abort(P(0, F.bar));
}
static long c_barrier_reset(unsigned m)
{
	return shmc_barrier_reset(P(0, F.bar));
}
static long c_barrier_parties(unsigned m)
{
	return shmc_barrier_parties(P(0, F.bar));
}
static long c_barrier_n_waiting(unsigned m)
{
	return shmc_barrier_n_waiting(P(0, F.bar));
}
static long c_barrier_broken(unsigned m)
{
	return shmc_barrier_broken(P(0, F.bar));
}
static long c_queue_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_queue_new(P(0, F.a), 0, P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_joinable_queue_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_joinable_queue_new(P(0, F.a), 0, P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_queue_put(unsigned m)
{
	return shmc_queue_put(P(0, F.q), V(1, shmc_int(2)), SHMC_NOWAIT);
}
static long c_queue_put_nowait(unsigned m)
{
	return shmc_queue_put_nowait(P(0, F.q), V(1, shmc_int(2)));
}
static long c_queue_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_queue_get(P(0, F.q), SHMC_NOWAIT, P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_queue_get_nowait(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_queue_get_nowait(P(0, F.q), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_queue_qsize(unsigned m)
{
	return shmc_queue_qsize(P(0, F.q));
}
static long c_queue_empty(unsigned m)
{
	return shmc_queue_empty(P(0, F.q));
}
static long c_queue_full(unsigned m)
{
	return shmc_queue_full(P(0, F.q));
}
static long c_queue_task_done(unsigned m)
{
	return shmc_queue_task_done(P(0, F.jq));
}
static long c_queue_join(unsigned m)
{
	return shmc_queue_join(P(0, F.jq), SHMC_NOWAIT);
}
static long c_cvalue_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_cvalue_new(P(0, F.a), 'i', V(2, shmc_int(1)), P(3, &h)),
		       (m & 8) ? NULL : &h);
}
static long c_cvalue_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_cvalue_get(P(0, F.num), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_cvalue_set(unsigned m)
{
	return shmc_cvalue_set(P(0, F.num), V(1, shmc_int(8)));
}
static long c_cvalue_add(unsigned m)
{
	shmc_value_t r;
	return ret_out(shmc_cvalue_add(P(0, F.num), V(1, shmc_int(1)), P(2, &r)),
		       (m & 4) ? NULL : &r);
}
static long c_cvalue_cas(unsigned m)
{
	return shmc_cvalue_cas(P(0, F.num), V(1, shmc_int(7)), V(2, shmc_int(8)));
}
static long c_cvalue_typecode(unsigned m)
{
	return shmc_cvalue_typecode(P(0, F.num));
}
static long c_array_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_array_new(P(0, F.a), 'd', V(2, shmc_int(2)), P(3, &h)),
		       (m & 8) ? NULL : &h);
}
static long c_array_len(unsigned m)
{
	return shmc_array_len(P(0, F.arr));
}
static long c_array_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_array_get(P(0, F.arr), 0, P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_array_set(unsigned m)
{
	return shmc_array_set(P(0, F.arr), 0, V(2, shmc_float(1.5)));
}
static long c_array_add(unsigned m)
{
	shmc_value_t r;
	return ret_out(shmc_array_add(P(0, F.arr), 0, V(2, shmc_float(1)), P(3, &r)),
		       (m & 8) ? NULL : &r);
}
static long c_array_cas(unsigned m)
{
	return shmc_array_cas(P(0, F.arr), 0, V(2, shmc_float(0)), V(3, shmc_float(2)));
}
static long c_array_copy(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_array_copy(P(0, F.arr), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_array_typecode(unsigned m)
{
	return shmc_array_typecode(P(0, F.arr));
}

/* Named objects */
static long c_root_find_or_create(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_root_find_or_create(P(0, F.a), P(1, "r2"), SHMC_KIND_LIST, P(3, &h)),
		       (m & 8) ? NULL : &h);
}
static long c_root_setdefault(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_root_setdefault(P(0, F.a), P(1, "r2"), P(2, F.d), P(3, &h)),
		       (m & 8) ? NULL : &h);
}
static long c_root_find(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_root_find(P(0, F.a), P(1, "r"), P(2, &h)), (m & 4) ? NULL : &h);
}
static long c_root_remove(unsigned m)
{
	return shmc_root_remove(P(0, F.a), P(1, "r"));
}
static long c_root_names(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_root_names(P(0, F.a), P(1, &v)), (m & 2) ? NULL : &v);
}

/* Views */
static long c_view_open(unsigned m)
{
	shmc_view_t *v;
	int rc = shmc_view_open(P(0, F.name), P(1, &v));
	if (rc == 0 && !(m & 2))
		shmc_view_close(v);
	return rc;
}
static long c_view_close(unsigned m)
{
	shmc_view_close(P(0, F.view)); /* only ever called with NULL */
	return 0;
}
static long c_view_format_version(unsigned m)
{
	unsigned version;
	uint64_t fp;
	return shmc_view_format_version(P(0, F.view), P(1, &version), P(2, &fp));
}
static long c_view_stats(unsigned m)
{
	shmc_arena_stats_t st;
	return shmc_view_stats(P(0, F.view), P(1, &st));
}
static long c_view_procs(unsigned m)
{
	return shmc_view_procs(P(0, F.view), P(1, each_proc), P(2, &F));
}
static long c_view_objects(unsigned m)
{
	return shmc_view_objects(P(0, F.view), P(1, each_object), P(2, &F));
}
static long c_view_dump(unsigned m)
{
	char *s;
	return ret_str(shmc_view_dump(P(0, F.view), P(1, "r"), 0, P(3, &s)), (m & 8) ? NULL : &s);
}

/* Plain-value helpers, numbers, sets and opaque values */
static long c_python_exception(unsigned m)
{
	return shmc_python_exception(SHMC_EINDEX, P(1, "shmc_list_get")) != NULL;
}
static long c_tuple_from(unsigned m)
{
	shmc_value_t items[1] = {shmc_int(1)};
	return ret_value(shmc_tuple_from(1, P(1, items)));
}
static long c_plist_from(unsigned m)
{
	shmc_value_t items[1] = {shmc_int(1)};
	return ret_value(shmc_plist_from(1, P(1, items)));
}
static long c_plist_insert(unsigned m)
{
	return shmc_plist_insert(P(0, &F.pl), 0, V(2, shmc_int(3)));
}
static long c_plist_pop(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_plist_pop(P(0, &F.pl), 0, P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_plist_del(unsigned m)
{
	return shmc_plist_del(P(0, &F.pl), 0);
}
static long c_plist_clear(unsigned m)
{
	return shmc_plist_clear(P(0, &F.pl)); /* only ever called with NULL */
}
static long c_plist_extend(unsigned m)
{
	return shmc_plist_extend(P(0, &F.pl), V(1, F.pl));
}
static long c_value_concat(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_value_concat(V(0, shmc_str("ab")), V(1, shmc_str("c")), P(2, &v)),
		       (m & 4) ? NULL : &v);
}
static long c_value_len(unsigned m)
{
	return (long)shmc_value_len(V(0, F.pl));
}
static long c_pdict_get_or(unsigned m)
{
	/* Found, that is: neither NULL nor the default. */
	shmc_value_t dflt = shmc_none();
	shmc_value_t *r = shmc_pdict_get_or(V(0, F.pd), V(1, shmc_int(1)), P(2, &dflt));
	return r != NULL && r != &dflt;
}
static long c_pdict_pop(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_pdict_pop(P(0, &F.pd), V(1, shmc_int(1)), P(2, &v)),
		       (m & 4) ? NULL : &v);
}
static long c_pdict_pop_or(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_pdict_pop_or(P(0, &F.pd), V(1, shmc_int(1)), V(2, shmc_int(0)),
					 P(3, &v)),
		       (m & 8) ? NULL : &v);
}
static long c_int_from_str(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_int_from_str(P(0, "123"), 3, 10, P(3, &v)), (m & 8) ? NULL : &v);
}
static long c_int_from_bytes(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_int_from_bytes(P(0, "\x01\x02"), 2, P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_int_byte_len(unsigned m)
{
	return (long)shmc_int_byte_len(V(0, shmc_int(300)));
}
static long c_int_to_bytes(unsigned m)
{
	unsigned char buf[8];
	return shmc_int_to_bytes(V(0, shmc_int(300)), P(1, buf), sizeof(buf));
}
static long c_int_to_str(unsigned m)
{
	char *s;
	return ret_str(shmc_int_to_str(V(0, shmc_int(300)), 16, P(2, &s)), (m & 4) ? NULL : &s);
}
static long c_complex(unsigned m)
{
	(void)m;
	return ret_value(shmc_complex(1, 2));
}
static long c_complex_parts(unsigned m)
{
	double re, im;
	shmc_value_t z = shmc_complex(1, 2);
	int rc = shmc_complex_parts(V(0, z), P(1, &re), P(2, &im));
	shmc_value_free(&z);
	return rc;
}
static long c_set_of(unsigned m)
{
	return ret_value(shmc_set_of(1, V(1, shmc_int(1))));
}
static long c_frozenset_of(unsigned m)
{
	return ret_value(shmc_frozenset_of(1, V(1, shmc_int(1))));
}
static long c_set_add(unsigned m)
{
	return shmc_set_add(P(0, &F.ps), V(1, shmc_int(3)));
}
static long c_set_discard(unsigned m)
{
	return shmc_set_discard(P(0, &F.ps), V(1, shmc_int(1)));
}
static long c_set_contains(unsigned m)
{
	return shmc_set_contains(V(0, F.ps), V(1, shmc_int(1)));
}
static long c_set_len(unsigned m)
{
	return (long)shmc_set_len(V(0, F.ps));
}
static long c_set_next(unsigned m)
{
	size_t pos = 0;
	return shmc_set_next(V(0, F.ps), P(1, &pos)) != NULL;
}
static long c_set_freeze(unsigned m)
{
	return shmc_set_freeze(P(0, &F.ps)); /* only ever called with NULL */
}
static long c_opaque(unsigned m)
{
	return ret_value(shmc_opaque(P(0, "\x80\x04"), 2, P(2, "<obj>")));
}
static long c_opaque_data(unsigned m)
{
	size_t len;
	return shmc_opaque_data(V(0, F.op), P(1, &len)) != NULL;
}
static long c_opaque_repr(unsigned m)
{
	return shmc_opaque_repr(V(0, F.op)) != NULL;
}

/* The rest of the list, the order of values, the rest of the dict */
static long c_list_count(unsigned m)
{
	return (long)shmc_list_count(P(0, F.ls), V(1, shmc_int(1)));
}
static long c_list_contains(unsigned m)
{
	return shmc_list_contains(P(0, F.ls), V(1, shmc_int(1)));
}
static long c_list_index_range(unsigned m)
{
	return (long)shmc_list_index_range(P(0, F.ls), V(1, shmc_int(1)), 0, SHMC_SLICE_NONE);
}
static long c_list_reverse(unsigned m)
{
	return shmc_list_reverse(P(0, F.ls));
}
static int key_of(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	(void)ctx;
	*key = *item;
	key->owned = 0;
	return 0;
}
static int lt_of(const shmc_value_t *a, const shmc_value_t *b, void *ctx)
{
	(void)ctx;
	return shmc_value_lt(*a, *b);
}
static long c_list_sort(unsigned m)
{
	return shmc_list_sort(P(0, F.ls), P(1, key_of), P(2, lt_of), P(3, &F), true);
}
static long c_list_slice_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_list_slice_get(P(0, F.ls), 0, SHMC_SLICE_NONE, 1, P(4, &v)),
		       (m & 16) ? NULL : &v);
}
static long c_list_slice_set(unsigned m)
{
	return shmc_list_slice_set(P(0, F.ls), 0, 1, 1, V(4, F.pl));
}
static long c_list_slice_del(unsigned m)
{
	return shmc_list_slice_del(P(0, F.ls), 0, 1, 1);
}
static long c_list_concat(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_list_concat(P(0, F.ls), V(1, F.pl), P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_list_repeat(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_list_repeat(P(0, F.ls), 2, P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_list_inplace_repeat(unsigned m)
{
	return shmc_list_inplace_repeat(P(0, F.ls), 2);
}
static long c_value_lt(unsigned m)
{
	return shmc_value_lt(V(0, shmc_str("a")), V(1, shmc_str("b")));
}
static long c_dict_get_default(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_get_default(P(0, F.d), V(1, shmc_int(1)), V(2, shmc_int(0)),
					     P(3, &v)),
		       (m & 8) ? NULL : &v);
}
static long c_dict_pop_default(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_pop_default(P(0, F.d), V(1, shmc_int(1)), V(2, shmc_int(0)),
					     P(3, &v)),
		       (m & 8) ? NULL : &v);
}
static long c_dict_popitem(unsigned m)
{
	shmc_value_t k, v;
	int rc = shmc_dict_popitem(P(0, F.d), P(1, &k), P(2, &v));
	if (rc == 0 && !(m & 2))
		shmc_value_free(&k);
	if (rc == 0 && !(m & 4))
		shmc_value_free(&v);
	return rc;
}
static long c_dict_merge(unsigned m)
{
	return shmc_dict_merge(P(0, F.d), V(1, F.pd));
}
static long c_dict_or(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_dict_or(P(0, F.d), V(1, F.pd), P(2, &v)), (m & 4) ? NULL : &v);
}
static long c_dict_iter_new(unsigned m)
{
	shmc_dict_iter_t *it;
	int rc = shmc_dict_iter_new(P(0, F.d), SHMC_ITER_ITEMS, P(2, &it));
	if (rc == 0 && !(m & 4))
		shmc_dict_iter_free(it);
	return rc;
}
static long c_dict_iter_next(unsigned m)
{
	shmc_dict_iter_t *it;
	if (shmc_dict_iter_new(F.d, SHMC_ITER_KEYS, &it))
		return -1000;
	shmc_value_t v;
	long rc = ret_out(shmc_dict_iter_next(P(0, it), P(1, &v)), (m & 2) ? NULL : &v);
	shmc_dict_iter_free(it);
	return rc;
}
static long c_dict_iter_free(unsigned m)
{
	shmc_dict_iter_free(P(0, (shmc_dict_iter_t *)&F)); /* only ever called with NULL */
	return 0;
}

/* Barrier actions, the Manager's Value */
static long c_barrier_new_ex(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_barrier_new_ex(P(0, F.a), 2, P(2, no_action), P(3, &F), 1.0,
					   P(5, &h)),
		       (m & 32) ? NULL : &h);
}
static long c_barrier_set_action(unsigned m)
{
	return shmc_barrier_set_action(P(0, F.bara), P(1, no_action), P(2, &F));
}
static long c_mvalue_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_mvalue_new(P(0, F.a), P(1, "i"), V(2, shmc_int(1)), P(3, &h)),
		       (m & 8) ? NULL : &h);
}
static long c_mvalue_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_mvalue_get(P(0, F.mv), P(1, &v)), (m & 2) ? NULL : &v);
}
static long c_mvalue_set(unsigned m)
{
	return shmc_mvalue_set(P(0, F.mv), V(1, shmc_int(8)));
}
static long c_mvalue_add(unsigned m)
{
	shmc_value_t r;
	return ret_out(shmc_mvalue_add(P(0, F.mv), V(1, shmc_int(1)), P(2, &r)),
		       (m & 4) ? NULL : &r);
}
static long c_mvalue_cas(unsigned m)
{
	return shmc_mvalue_cas(P(0, F.mv), V(1, shmc_int(7)), V(2, shmc_int(8)));
}
static long c_mvalue_update(unsigned m)
{
	return shmc_mvalue_update(P(0, F.mv), P(1, keep), P(2, &F));
}
static long c_mvalue_typecode(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_mvalue_typecode(P(0, F.mv), P(1, &v)), (m & 2) ? NULL : &v);
}

/* The Pool (F.pool, F.res, F.it exist for these rows only: see pool_up) */
static int sqr(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	if (arg.type != SHMC_INT)
		return SHMC_ETYPE;
	*res = shmc_int(arg.i * arg.i);
	return 0;
}
static long c_pool_register(unsigned m)
{
	return shmc_pool_register(P(0, "sqr2"), P(1, sqr), P(2, &F));
}
static long c_pool_new(unsigned m)
{
	shmc_pool_options_t o = {0};
	shmc_obj_t *h;
	int rc = shmc_pool_new(P(0, F.a), 1, P(2, &o), P(3, &h));
	if (rc == 0 && !(m & 8)) {
		if (shmc_pool_terminate(h) || shmc_pool_join(h, TEST_DEADLINE))
			rc = -1000;
		shmc_obj_release(h);
	}
	return rc;
}
static long c_pool_apply_async(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_pool_apply_async(P(0, F.pool), shmc_task_named("sqr"),
					     V(2, shmc_int(2)), P(3, &h)),
		       (m & 8) ? NULL : &h);
}
static long c_pool_apply(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_pool_apply(P(0, F.pool), shmc_task_named("sqr"), V(2, shmc_int(2)),
				       P(3, &v)),
		       (m & 8) ? NULL : &v);
}
static long c_pool_map_async(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_pool_map_async(P(0, F.pool), shmc_task_named("sqr"), V(2, F.pl), 0,
					   P(4, &h)),
		       (m & 16) ? NULL : &h);
}
static long c_pool_map(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_pool_map(P(0, F.pool), shmc_task_named("sqr"), V(2, F.pl), 0,
				     P(4, &v)),
		       (m & 16) ? NULL : &v);
}
static long c_pool_starmap_async(unsigned m)
{
	shmc_obj_t *h;
	shmc_value_t items = shmc_plist_of(1, shmc_tuple_of(1, shmc_int(2)));
	long rc = ret_obj(shmc_pool_starmap_async(P(0, F.pool), shmc_task_named("sqr"),
						  V(2, items), 0, P(4, &h)),
			  (m & 16) ? NULL : &h);
	shmc_value_free(&items);
	return rc;
}
static long c_pool_starmap(unsigned m)
{
	shmc_value_t v, items = shmc_plist_of(1, shmc_tuple_of(1, shmc_int(2)));
	long rc = ret_out(shmc_pool_starmap(P(0, F.pool), shmc_task_named("sqr"), V(2, items), 0,
					    P(4, &v)),
			  (m & 16) ? NULL : &v);
	shmc_value_free(&items);
	return rc;
}
static long c_pool_imap(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_pool_imap(P(0, F.pool), shmc_task_named("sqr"), V(2, F.pl), 0,
				      P(4, &h)),
		       (m & 16) ? NULL : &h);
}
static long c_pool_imap_unordered(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_pool_imap_unordered(P(0, F.pool), shmc_task_named("sqr"), V(2, F.pl),
						0, P(4, &h)),
		       (m & 16) ? NULL : &h);
}
static long c_pool_close(unsigned m)
{
	return shmc_pool_close(P(0, F.pool));
}
static long c_pool_terminate(unsigned m)
{
	return shmc_pool_terminate(P(0, F.pool));
}
static long c_pool_join(unsigned m)
{
	return shmc_pool_join(P(0, F.pool), SHMC_NOWAIT);
}
static long c_async_result_get(unsigned m)
{
	shmc_value_t v;
	return ret_out(shmc_async_result_get(P(0, F.res), TEST_DEADLINE, P(2, &v)),
		       (m & 4) ? NULL : &v);
}
static long c_async_result_wait(unsigned m)
{
	return shmc_async_result_wait(P(0, F.res), TEST_DEADLINE);
}
static long c_async_result_ready(unsigned m)
{
	return shmc_async_result_ready(P(0, F.res));
}
static long c_async_result_successful(unsigned m)
{
	return shmc_async_result_successful(P(0, F.res));
}
static long c_iterator_next(unsigned m)
{
	shmc_value_t v;
	long rc = shmc_iterator_next(P(0, F.it), TEST_DEADLINE, P(2, &v));
	if (rc == 1 && !(m & 4))
		shmc_value_free(&v);
	/* Refused, it handed out nothing: the first result is still there. */
	if (m && (shmc_iterator_next(F.it, TEST_DEADLINE, &v) != 1 || v.type != SHMC_INT ||
		  v.i != 1))
		return -1000;
	return rc;
}

/* Cache */
static long c_cache_new(unsigned m)
{
	shmc_obj_t *h;
	return ret_obj(shmc_cache_new(P(0, F.a), P(1, "contracts-cache"), 5, 0, P(4, &h)),
		       (m & 16) ? NULL : &h);
}
static long c_cache_get(unsigned m)
{
	shmc_value_t v;
	int64_t t;
	return ret_out(shmc_cache_get(P(0, F.cache), V(1, shmc_int(1)), P(2, &v), P(3, &t)),
		       (m & 4) ? NULL : &v);
}
static long c_cache_set(unsigned m)
{
	return shmc_cache_set(P(0, F.cache), V(1, shmc_int(3)), V(2, shmc_int(4)), 0);
}
static long c_cache_safe_set(unsigned m)
{
	return shmc_cache_safe_set(P(0, F.cache), V(1, shmc_int(3)), V(2, shmc_int(4)), 0);
}
static long c_cache_add(unsigned m)
{
	return shmc_cache_add(P(0, F.cache), V(1, shmc_int(5)), V(2, shmc_int(4)), 0);
}
static long c_cache_safe_add(unsigned m)
{
	return shmc_cache_safe_add(P(0, F.cache), V(1, shmc_int(6)), V(2, shmc_int(4)), 0);
}
static long c_cache_replace(unsigned m)
{
	return shmc_cache_replace(P(0, F.cache), V(1, shmc_int(1)), V(2, shmc_int(2)), 0);
}
static long c_cache_incr(unsigned m)
{
	int64_t n;
	return shmc_cache_incr(P(0, F.cache), V(1, shmc_int(7)), 1, V(3, shmc_int(0)), 0,
			       P(5, &n));
}
static long c_cache_delete(unsigned m)
{
	return shmc_cache_delete(P(0, F.cache), V(1, shmc_int(3)));
}
static long c_cache_len(unsigned m)
{
	return shmc_cache_len(P(0, F.cache));
}
static long c_cache_flush_all(unsigned m)
{
	return shmc_cache_flush_all(P(0, F.cache));
}
static long c_cache_flush_expired(unsigned m)
{
	return shmc_cache_flush_expired(P(0, F.cache));
}
static long c_cache_ttl(unsigned m)
{
	int64_t t;
	return shmc_cache_ttl(P(0, F.cache), V(1, shmc_int(1)), P(2, &t));
}
static long c_cache_expire(unsigned m)
{
	return shmc_cache_expire(P(0, F.cache), V(1, shmc_int(1)), 0);
}
static long c_cache_stats(unsigned m)
{
	shmc_cache_stats_t st;
	return shmc_cache_stats(P(0, F.cache), P(1, &st));
}

/* Versions and waiting */
static long c_obj_version(unsigned m)
{
	uint64_t v;
	return shmc_obj_version(P(0, F.d), P(1, &v));
}
static long c_obj_wait_change(unsigned m)
{
	return shmc_obj_wait_change(P(0, F.d), 1, SHMC_NOWAIT);
}
static long c_obj_waiters(unsigned m)
{
	uint64_t n;
	return shmc_obj_waiters(P(0, F.d), P(1, &n));
}
static long c_namespace_get_versioned(unsigned m)
{
	shmc_value_t v;
	uint64_t ver;
	return ret_out(shmc_namespace_get_versioned(P(0, F.ns), P(1, "x"), P(2, &v), P(3, &ver)),
		       (m & 12) ? NULL : &v);
}
static long c_namespace_set_if(unsigned m)
{
	return shmc_namespace_set_if(P(0, F.ns), P(1, "y"), V(2, shmc_int(9)), 0);
}
static long c_list_get_versioned(unsigned m)
{
	shmc_value_t v;
	uint64_t ver;
	return ret_out(shmc_list_get_versioned(P(0, F.ls), 0, P(2, &v), P(3, &ver)),
		       (m & 12) ? NULL : &v);
}
static long c_list_set_if(unsigned m)
{
	uint64_t ver;
	if (shmc_obj_version(F.ls, &ver))
		return -1000;
	return shmc_list_set_if(P(0, F.ls), 0, V(2, shmc_int(9)), ver);
}
static long c_dict_get_versioned(unsigned m)
{
	shmc_value_t v;
	uint64_t ver;
	return ret_out(shmc_dict_get_versioned(P(0, F.d), V(1, shmc_int(1)), P(2, &v), P(3, &ver)),
		       (m & 12) ? NULL : &v);
}
static long c_dict_set_if(unsigned m)
{
	return shmc_dict_set_if(P(0, F.d), V(1, shmc_int(3)), V(2, shmc_int(4)), 0);
}
static long c_dict_wait_key(unsigned m)
{
	return shmc_dict_wait_key(P(0, F.d), V(1, shmc_int(1)), 1, SHMC_NOWAIT);
}

/*
 * The table. ARGS has one letter per argument:
 *   E  a pointer that must not be NULL: NULL is refused (-EINVAL or
 *      SHMC_EHANDLE; NULL, 0 or false from a function that returns a
 *      pointer, a kind or a bool; ignored by one that returns nothing),
 *      and nothing changes;
 *   N  a pointer documented as optional: NULL works (the call succeeds);
 *   V  a value: a str view of NULL with a length is an error (a negative
 *      code, an SHMC_ERROR value; "not there" from a lookup that returns a
 *      pointer or a length), and nothing changes;
 *   C  a value that is only compared: a malformed one equals nothing, and
 *      nothing changes;
 *   -  anything else (not tried).
 * RET says what the function returns: i (a code), p (a pointer), b (a
 * bool), k (a kind), v (nothing), x (a value), z (a length).
 */
struct row {
	const char *name;
	call_fn call;
	const char *args;
	char ret;
};

#define ROW(fn, args, ret) {"shmc_" #fn, c_##fn, args, ret}
static const struct row rows[] = {
	ROW(version, "", 'p'),
	ROW(strerror, "-", 'p'),
	ROW(errname, "-", 'p'),
	ROW(arena_create_anon, "NE", 'i'),
	ROW(arena_create, "ENE", 'i'),
	ROW(arena_open, "EE", 'i'),
	ROW(arena_unlink, "E", 'i'),
	ROW(arena_close, "E", 'v'),
	ROW(arena_reclaim, "E", 'i'),
	ROW(arena_stats, "EE", 'i'),
	ROW(arena_check, "E-NNN", 'i'),
	ROW(arena_check_file, "ENNN", 'i'),
	ROW(str, "N", 'x'),
	ROW(tuple_of, "-V", 'x'),
	ROW(plist_of, "-V", 'x'),
	ROW(pdict_of, "-VV", 'x'),
	ROW(value_free, "N", 'v'),
	ROW(value_copy, "VE", 'i'),
	ROW(value_eq, "CC", 'b'),
	ROW(seq_len, "V", 'z'),
	ROW(seq_at, "V-", 'p'),
	ROW(plist_append, "EV", 'i'),
	ROW(plist_set, "E-V", 'i'),
	ROW(pdict_len, "V", 'z'),
	ROW(pdict_get, "VV", 'p'),
	ROW(pdict_set, "EVV", 'i'),
	ROW(pdict_del, "EV", 'i'),
	ROW(pdict_entry, "--NN", 'i'),
	ROW(value_repr, "VE", 'i'),
	ROW(value_str, "VE", 'i'),
	ROW(free, "N", 'v'),
	ROW(obj_kind, "E", 'k'),
	ROW(obj_arena, "E", 'p'),
	ROW(obj_dup, "EE", 'i'),
	ROW(obj_release, "E", 'v'),
	ROW(obj_same, "EE", 'b'),
	ROW(obj_ident, "EE", 'i'),
	ROW(obj_from_ident, "EE", 'i'),
	ROW(arena_name, "EE", 'i'),
	ROW(arena_save, "EE-", 'i'),
	ROW(arena_load, "ENNE", 'i'),
	ROW(obj_str, "EE", 'i'),
	ROW(obj_repr, "EE", 'i'),
	ROW(obj_print, "EE", 'i'),
	ROW(value_print, "VE", 'i'),
	ROW(namespace_new, "EE", 'i'),
	ROW(namespace_set, "EEV", 'i'),
	ROW(namespace_get, "EEE", 'i'),
	ROW(namespace_del, "EE", 'i'),
	ROW(namespace_has, "EE", 'i'),
	ROW(namespace_names, "EE", 'i'),
	ROW(namespace_add, "EEVN", 'i'),
	ROW(namespace_cas, "EECV", 'i'),
	ROW(namespace_update, "EEEN", 'i'),
	ROW(list_new, "EE", 'i'),
	ROW(list_new_from, "EVE", 'i'),
	ROW(list_len, "E", 'i'),
	ROW(list_get, "E-E", 'i'),
	ROW(list_set, "E-V", 'i'),
	ROW(list_append, "EV", 'i'),
	ROW(list_insert, "E-V", 'i'),
	ROW(list_pop, "E-N", 'i'),
	ROW(list_del, "E-", 'i'),
	ROW(list_extend, "EV", 'i'),
	ROW(list_clear, "E", 'i'),
	ROW(list_remove, "EC", 'i'),
	ROW(list_index, "EC", 'i'),
	ROW(list_copy, "EE", 'i'),
	ROW(list_add, "E-VN", 'i'),
	ROW(list_cas, "E-CV", 'i'),
	ROW(list_update, "E-EN", 'i'),
	ROW(dict_new, "EE", 'i'),
	ROW(dict_new_from, "EVE", 'i'),
	ROW(dict_len, "E", 'i'),
	ROW(dict_get, "EVE", 'i'),
	ROW(dict_set, "EVV", 'i'),
	ROW(dict_del, "EV", 'i'),
	ROW(dict_has, "EV", 'i'),
	ROW(dict_pop, "EVN", 'i'),
	ROW(dict_setdefault, "EVVN", 'i'),
	ROW(dict_clear, "E", 'i'),
	ROW(dict_keys, "EE", 'i'),
	ROW(dict_values, "EE", 'i'),
	ROW(dict_items, "EE", 'i'),
	ROW(dict_copy, "EE", 'i'),
	ROW(dict_add, "EVVN", 'i'),
	ROW(dict_cas, "EVCV", 'i'),
	ROW(dict_update, "EVEN", 'i'),
	ROW(lock_new, "EE", 'i'),
	ROW(rlock_new, "EE", 'i'),
	ROW(lock_acquire, "E-", 'i'),
	ROW(lock_release, "E", 'i'),
	ROW(semaphore_new, "E-E", 'i'),
	ROW(bounded_semaphore_new, "E-E", 'i'),
	ROW(semaphore_acquire, "E-", 'i'),
	ROW(semaphore_release, "E", 'i'),
	ROW(semaphore_value, "E", 'i'),
	ROW(condition_new, "ENE", 'i'),
	ROW(condition_lock, "EE", 'i'),
	ROW(condition_acquire, "E-", 'i'),
	ROW(condition_release, "E", 'i'),
	ROW(condition_wait, "E-", 'i'),
	ROW(condition_wait_for, "EEN-", 'i'),
	ROW(condition_notify, "E-", 'i'),
	ROW(condition_notify_all, "E", 'i'),
	ROW(event_new, "EE", 'i'),
	ROW(event_set, "E", 'i'),
	ROW(event_clear, "E", 'i'),
	ROW(event_is_set, "E", 'i'),
	ROW(event_wait, "E-", 'i'),
	ROW(barrier_new, "E-E", 'i'),
	ROW(barrier_wait, "E-", 'i'),
	ROW(barrier_abort, "E", 'i'),
	ROW(barrier_reset, "E", 'i'),
	ROW(barrier_parties, "E", 'i'),
	ROW(barrier_n_waiting, "E", 'i'),
	ROW(barrier_broken, "E", 'i'),
	ROW(queue_new, "E-E", 'i'),
	ROW(joinable_queue_new, "E-E", 'i'),
	ROW(queue_put, "EV-", 'i'),
	ROW(queue_put_nowait, "EV", 'i'),
	ROW(queue_get, "E-E", 'i'),
	ROW(queue_get_nowait, "EE", 'i'),
	ROW(queue_qsize, "E", 'i'),
	ROW(queue_empty, "E", 'i'),
	ROW(queue_full, "E", 'i'),
	ROW(queue_task_done, "E", 'i'),
	ROW(queue_join, "E-", 'i'),
	ROW(cvalue_new, "E-VE", 'i'),
	ROW(cvalue_get, "EE", 'i'),
	ROW(cvalue_set, "EV", 'i'),
	ROW(cvalue_add, "EVN", 'i'),
	ROW(cvalue_cas, "ECV", 'i'),
	ROW(cvalue_typecode, "E", 'i'),
	ROW(array_new, "E-VE", 'i'),
	ROW(array_len, "E", 'i'),
	ROW(array_get, "E-E", 'i'),
	ROW(array_set, "E-V", 'i'),
	ROW(array_add, "E-VN", 'i'),
	ROW(array_cas, "E-CV", 'i'),
	ROW(array_copy, "EE", 'i'),
	ROW(array_typecode, "E", 'i'),
	ROW(root_find_or_create, "EE-E", 'i'),
	ROW(root_setdefault, "EEEE", 'i'),
	ROW(root_find, "EEE", 'i'),
	ROW(root_remove, "EE", 'i'),
	ROW(root_names, "EE", 'i'),
	ROW(view_open, "EE", 'i'),
	ROW(view_close, "E", 'v'),
	ROW(view_format_version, "ENN", 'i'),
	ROW(view_stats, "EE", 'i'),
	ROW(view_procs, "EEN", 'i'),
	ROW(view_objects, "EEN", 'i'),
	ROW(view_dump, "EN-E", 'i'),
	ROW(python_exception, "-N", 'p'),
	ROW(tuple_from, "-E", 'x'),
	ROW(plist_from, "-E", 'x'),
	ROW(plist_insert, "E-V", 'i'),
	ROW(plist_pop, "E-N", 'i'),
	ROW(plist_del, "E-", 'i'),
	ROW(plist_clear, "E", 'i'),
	ROW(plist_extend, "EV", 'i'),
	ROW(value_concat, "VVE", 'i'),
	ROW(value_len, "V", 'i'),
	ROW(pdict_get_or, "VVN", 'p'),
	ROW(pdict_pop, "EVN", 'i'),
	ROW(pdict_pop_or, "EVVE", 'i'),
	ROW(int_from_str, "E--E", 'i'),
	ROW(int_from_bytes, "E-E", 'i'),
	ROW(int_byte_len, "V", 'z'),
	ROW(int_to_bytes, "VE-", 'i'),
	ROW(int_to_str, "V-E", 'i'),
	ROW(complex, "--", 'x'),
	ROW(complex_parts, "VNN", 'i'),
	ROW(set_of, "-V", 'x'),
	ROW(frozenset_of, "-V", 'x'),
	ROW(set_add, "EV", 'i'),
	ROW(set_discard, "EV", 'i'),
	ROW(set_contains, "VV", 'i'),
	ROW(set_len, "V", 'z'),
	ROW(set_next, "VE", 'p'),
	ROW(set_freeze, "E", 'i'),
	ROW(opaque, "E-E", 'x'),
	ROW(opaque_data, "VN", 'p'),
	ROW(opaque_repr, "V", 'p'),
	ROW(list_count, "EC", 'i'),
	ROW(list_contains, "EC", 'i'),
	ROW(list_index_range, "EC--", 'i'),
	ROW(list_reverse, "E", 'i'),
	ROW(list_sort, "ENNN-", 'i'),
	ROW(list_slice_get, "E---E", 'i'),
	ROW(list_slice_set, "E---V", 'i'),
	ROW(list_slice_del, "E---", 'i'),
	ROW(list_concat, "EVE", 'i'),
	ROW(list_repeat, "E-E", 'i'),
	ROW(list_inplace_repeat, "E-", 'i'),
	ROW(value_lt, "VV", 'i'),
	ROW(dict_get_default, "EVVE", 'i'),
	ROW(dict_pop_default, "EVVN", 'i'),
	ROW(dict_popitem, "ENN", 'i'),
	ROW(dict_merge, "EV", 'i'),
	ROW(dict_or, "EVE", 'i'),
	ROW(dict_iter_new, "E-E", 'i'),
	ROW(dict_iter_next, "EE", 'i'),
	ROW(dict_iter_free, "N", 'v'),
	ROW(obj_version, "EE", 'i'),
	ROW(obj_wait_change, "E--", 'i'),
	ROW(obj_waiters, "EE", 'i'),
	ROW(namespace_get_versioned, "EEEE", 'i'),
	ROW(namespace_set_if, "EEV-", 'i'),
	ROW(list_get_versioned, "E-EE", 'i'),
	ROW(list_set_if, "E-V-", 'i'),
	ROW(dict_get_versioned, "EVEE", 'i'),
	ROW(dict_set_if, "EVV-", 'i'),
	ROW(dict_wait_key, "EV--", 'i'),
	ROW(barrier_new_ex, "E-NN-E", 'i'),
	ROW(barrier_set_action, "EEN", 'i'),
	ROW(mvalue_new, "EEVE", 'i'),
	ROW(mvalue_get, "EE", 'i'),
	ROW(mvalue_set, "EV", 'i'),
	ROW(mvalue_add, "EVN", 'i'),
	ROW(mvalue_cas, "ECV", 'i'),
	ROW(mvalue_update, "EEN", 'i'),
	ROW(mvalue_typecode, "EE", 'i'),
	ROW(pool_register, "EEN", 'i'),
	ROW(pool_new, "E-NE", 'i'),
	ROW(pool_apply_async, "E-VE", 'i'),
	ROW(pool_apply, "E-VE", 'i'),
	ROW(pool_map_async, "E-V-E", 'i'),
	ROW(pool_map, "E-V-E", 'i'),
	ROW(pool_starmap_async, "E-V-E", 'i'),
	ROW(pool_starmap, "E-V-E", 'i'),
	ROW(pool_imap, "E-V-E", 'i'),
	ROW(pool_imap_unordered, "E-V-E", 'i'),
	ROW(pool_close, "E", 'i'),
	ROW(pool_terminate, "E", 'i'),
	ROW(pool_join, "E-", 'i'),
	ROW(async_result_get, "E-E", 'i'),
	ROW(async_result_wait, "E-", 'i'),
	ROW(async_result_ready, "E", 'i'),
	ROW(async_result_successful, "E", 'i'),
	ROW(iterator_next, "E-E", 'i'),
	ROW(cache_new, "EN--E", 'i'),
	ROW(cache_get, "EVEN", 'i'),
	ROW(cache_set, "EVV-", 'i'),
	ROW(cache_safe_set, "EVV-", 'i'),
	ROW(cache_add, "EVV-", 'i'),
	ROW(cache_safe_add, "EVV-", 'i'),
	ROW(cache_replace, "EVV-", 'i'),
	ROW(cache_incr, "EV-V-N", 'i'),
	ROW(cache_delete, "EV", 'i'),
	ROW(cache_len, "E", 'i'),
	ROW(cache_flush_all, "E", 'i'),
	ROW(cache_flush_expired, "E", 'i'),
	ROW(cache_ttl, "EVE", 'i'),
	ROW(cache_expire, "EV-", 'i'),
	ROW(cache_stats, "EE", 'i'),
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* The pool's rows get a pool of one worker, an AsyncResult and an Iterator,
 * made for each of their cases only (forking a pool for every case of the
 * table would cost more than the table). Both results are ready before
 * the case runs: the one worker takes chunks in order, so once the
 * apply_async submitted last is ready, nothing else runs. */
static bool pool_row(const char *name)
{
	return (strncmp(name, "shmc_pool_", 10) == 0 && strcmp(name, "shmc_pool_new") != 0 &&
		strcmp(name, "shmc_pool_register") != 0) ||
	       strncmp(name, "shmc_async_result_", 18) == 0 ||
	       strncmp(name, "shmc_iterator_", 14) == 0;
}

static void pool_up(void)
{
	ASSERT_OK(shmc_pool_register("sqr", sqr, NULL));
	ASSERT_OK(shmc_pool_new(F.a, 1, NULL, &F.pool));
	ASSERT_OK(shmc_pool_imap(F.pool, shmc_task_named("sqr"), F.pl, 1, &F.it));
	ASSERT_OK(shmc_pool_apply_async(F.pool, shmc_task_named("sqr"), shmc_int(3), &F.res));
	ASSERT_OK(shmc_async_result_wait(F.res, TEST_DEADLINE));
}

/* One case: argument POS of row ROW made NULL (or BAD). */
struct kase {
	unsigned row, pos;
};

ParameterizedTestParameters(contracts, bad_argument_in_each_position)
{
	static struct kase cases[1024];
	size_t n = 0;
	for (unsigned r = 0; r < NROWS; r++)
		for (unsigned k = 0; rows[r].args[k]; k++)
			if (strchr("ENVC", rows[r].args[k]) && n < 1024)
				cases[n++] = (struct kase){r, k};
	return cr_make_param_array(struct kase, cases, n);
}

/* A crash names the case it ended (Criterion reports only "CRASH"). */
static char current[160];
static void say_case(int sig)
{
	(void)!write(2, current, strlen(current));
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Whether RC is the refusal RET calls for. */
static bool refused(char ret, long rc)
{
	switch (ret) {
	case 'i':
		return rc == -EINVAL || rc == SHMC_EHANDLE;
	case 'x':
		return rc == -EINVAL || rc == SHMC_EHANDLE;
	case 'p':
	case 'b':
	case 'k':
	case 'z':
		return rc == 0;
	default: /* 'v': returned, that is all */
		return true;
	}
}

ParameterizedTest(struct kase *c, contracts, bad_argument_in_each_position,
		  .init = fixture_up, .fini = fixture_down)
{
	const struct row *r = &rows[c->row];
	char kind = r->args[c->pos];
	snprintf(current, sizeof(current), "crashed: %s, argument %u (%c)\n", r->name,
		 c->pos + 1, kind);
	signal(SIGSEGV, say_case);
	signal(SIGBUS, say_case);
	signal(SIGABRT, say_case);
	if (pool_row(r->name))
		pool_up();
	char *before = state();
	long rc = r->call(1u << c->pos);
	char *after = state();
	switch (kind) {
	case 'E':
		cr_assert(refused(r->ret, rc), "%s, argument %u NULL: returned %ld (%s)", r->name,
			  c->pos + 1, rc, shmc_errname((int)rc));
		cr_assert_str_eq(after, before, "%s, argument %u NULL changed something", r->name,
				 c->pos + 1);
		break;
	case 'N':
		if (r->ret == 'i')
			cr_assert_geq(rc, 0, "%s, argument %u NULL (allowed): %ld (%s)", r->name,
				      c->pos + 1, rc, shmc_errname((int)rc));
		else if (r->ret == 'x')
			cr_assert_eq(rc, 0, "%s, argument %u NULL (allowed)", r->name, c->pos + 1);
		break;
	case 'V':
		if (r->ret == 'i' || r->ret == 'x')
			cr_assert_lt(rc, 0, "%s, argument %u a str view of NULL: %ld", r->name,
				     c->pos + 1, rc);
		else
			cr_assert(refused(r->ret, rc), "%s, argument %u a str view of NULL: %ld",
				  r->name, c->pos + 1, rc);
		cr_assert_str_eq(after, before, "%s, argument %u a str view of NULL changed something",
				 r->name, c->pos + 1);
		break;
	case 'C':
		if (r->ret == 'b')
			cr_assert_eq(rc, 0, "%s: a str view of NULL equals something", r->name);
		else
			cr_assert_leq(rc, 0, "%s, argument %u a str view of NULL: %ld", r->name,
				      c->pos + 1, rc);
		cr_assert_str_eq(after, before, "%s, argument %u a str view of NULL changed something",
				 r->name, c->pos + 1);
		break;
	}
	free(before);
	free(after);
}

/* Every function the header declares has its row, and every row a
 * function: read shmc.h and compare the two sets of names. */
static char *header_text(void)
{
	char here[1024], path[1200];
	snprintf(here, sizeof(here), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../../include/shmc.h", dirname(here));
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof(path), "include/shmc.h");
	return read_file(path, NULL);
}

Test(contracts, every_function_of_the_header_has_a_row)
{
	char *h = header_text();
	size_t declared = 0;
	/* A declaration: SHMC_API <type> <name>(...; the name is the last
	 * identifier before the first '(' that follows. */
	for (char *p = strstr(h, "SHMC_API "); p; p = strstr(p + 1, "SHMC_API ")) {
		char *paren = strchr(p, '(');
		char *semi = strchr(p, ';');
		if (paren == NULL || (semi && semi < paren))
			continue; /* the macro's own definition */
		char *e = paren;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		char *b = e;
		while (b > p && (isalnum((unsigned char)b[-1]) || b[-1] == '_'))
			b--;
		if (strncmp(b, "shmc_", 5) != 0)
			continue; /* "__attribute__((visibility..." */
		char name[96];
		snprintf(name, sizeof(name), "%.*s", (int)(e - b), b);
		bool found = false;
		for (size_t i = 0; i < NROWS && !found; i++)
			found = strcmp(rows[i].name, name) == 0;
		cr_expect(found, "%s is declared in shmc.h but has no row in test_contracts.c",
			  name);
		declared++;
	}
	for (size_t i = 0; i < NROWS; i++) {
		char pat[112];
		snprintf(pat, sizeof(pat), " %s(", rows[i].name);
		char pat2[112];
		snprintf(pat2, sizeof(pat2), "*%s(", rows[i].name);
		cr_expect(strstr(h, pat) || strstr(h, pat2), "%s has a row but is not in shmc.h",
			  rows[i].name);
	}
	cr_assert_eq(declared, NROWS, "%zu functions declared, %zu rows", declared, NROWS);
	free(h);
}

/* Named arenas: what create makes, open must accept ------------------------- */

Test(contracts, create_refuses_a_mode_that_open_would_refuse, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "mode");
	static const unsigned bad[] = {0666, 0622, 0602, 0777, 0002};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY, .mode = bad[i]};
		shmc_arena_t *a = NULL;
		ASSERT_ERR(shmc_arena_create(name, &o, &a), SHMC_EMODE);
		cr_assert_null(a);
		cr_assert_neq(access(path, F_OK), 0, "mode %o left a file", bad[i]);
	}
	/* Group-writable is the caller's choice, and open accepts it. */
	static const unsigned good[] = {0600, 0660, 0640, 0644};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY, .mode = good[i]};
		shmc_arena_t *a, *b;
		ASSERT_OK(shmc_arena_create(name, &o, &a));
		struct stat st;
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 0777, good[i]);
		ASSERT_OK(shmc_arena_open(name, &b));
		shmc_arena_close(b);
		shmc_arena_close(a);
		ASSERT_OK(shmc_arena_unlink(name));
	}
}

Test(contracts, a_directory_is_not_an_arena)
{
	char dir[] = "/tmp/shmc-test-dir-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	shmc_arena_t *a = NULL;
	shmc_view_t *v = NULL;
	int rc_open = shmc_arena_open(dir, &a);
	int rc_view = shmc_view_open(dir, &v);
	int rc_check = shmc_arena_check_file(dir, NULL, NULL, NULL);
	rmdir(dir);
	cr_assert_eq(rc_open, SHMC_ENOTREG, "open: %s", shmc_errname(rc_open));
	cr_assert_eq(rc_view, SHMC_ENOTREG, "view: %s", shmc_errname(rc_view));
	cr_assert_eq(rc_check, SHMC_ENOTREG, "check: %s", shmc_errname(rc_check));
	cr_assert_null(a);
	cr_assert_null(v);
}

/* Options out of range are -EINVAL, and leave nothing behind. */
Test(contracts, arena_options_out_of_range_are_einval, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "opts");
	const shmc_arena_options_t bad[] = {
		{.capacity = SHMC_MIN_CAPACITY - 1},
		{.capacity = (size_t)1 << 45},
		{.capacity = SHMC_MIN_CAPACITY, .max_procs = SHMC_MAX_PROCS + 1},
		{.capacity = SHMC_MIN_CAPACITY, .max_threads = SHMC_MAX_THREADS + 1},
		{.capacity = SHMC_MIN_CAPACITY, .max_procs = UINT32_MAX},
		/* Slots and records must leave the arena room for data. */
		{.capacity = SHMC_MIN_CAPACITY, .max_threads = SHMC_MAX_THREADS},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		shmc_arena_t *a = NULL;
		ASSERT_ERR(shmc_arena_create_anon(&bad[i], &a), -EINVAL);
		ASSERT_ERR(shmc_arena_create(name, &bad[i], &a), -EINVAL);
		cr_assert_null(a);
		cr_assert_neq(access(path, F_OK), 0);
	}
}
