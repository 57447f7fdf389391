/*
 * test_versions.c -- versions and conditional write-back: a conditional
 * store that conflicts changes nothing, every kind of store changes the
 * version and no read does, and the README's write-back loop run from 8
 * processes counts every change.
 */
#include <criterion/criterion.h>

#include "testutil.h"

TestSuite(versions, .timeout = 120);

static uint64_t version_of(shmc_obj_t *o)
{
	uint64_t v = 0;
	ASSERT_OK(shmc_obj_version(o, &v));
	cr_assert_neq(v, 0, "a version is never 0");
	return v;
}

Test(versions, dict_set_if_conflicts_and_changes_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	shmc_value_t v;
	uint64_t ver, ver2;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_str("k"), shmc_str("first")));
	ASSERT_OK(shmc_dict_get_versioned(d, shmc_str("k"), &v, &ver));
	expect_repr(v, "'first'");
	shmc_value_free(&v);
	cr_assert_eq(ver, version_of(d));
	/* Another writer comes in between. */
	ASSERT_OK(shmc_dict_set(d, shmc_str("k"), shmc_str("second")));
	ASSERT_ERR(shmc_dict_set_if(d, shmc_str("k"), shmc_str("mine"), ver), SHMC_ECONFLICT);
	expect_str(d, "{'k': 'second'}");
	/* Re-read, then the conditional store goes through. */
	ASSERT_OK(shmc_dict_get_versioned(d, shmc_str("k"), &v, &ver2));
	shmc_value_free(&v);
	cr_assert_neq(ver2, ver);
	ASSERT_OK(shmc_dict_set_if(d, shmc_str("k"), shmc_str("mine"), ver2));
	expect_str(d, "{'k': 'mine'}");
	/* The store changed the version: the same version conflicts now. */
	ASSERT_ERR(shmc_dict_set_if(d, shmc_str("k"), shmc_str("again"), ver2), SHMC_ECONFLICT);
	expect_str(d, "{'k': 'mine'}");
	shmc_obj_release(d);
}

Test(versions, version_0_adds_only_if_absent, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d, *ns;
	shmc_value_t v;
	uint64_t ver;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_ERR(shmc_dict_get_versioned(d, shmc_int(1), &v, &ver), SHMC_EKEY);
	ASSERT_OK(shmc_dict_set_if(d, shmc_int(1), shmc_str("one"), 0));
	ASSERT_ERR(shmc_dict_set_if(d, shmc_int(1), shmc_str("uno"), 0), SHMC_ECONFLICT);
	expect_str(d, "{1: 'one'}");
	/* A version given for a key deleted since conflicts too. */
	ASSERT_OK(shmc_dict_get_versioned(d, shmc_int(1), &v, &ver));
	shmc_value_free(&v);
	ASSERT_OK(shmc_dict_del(d, shmc_int(1)));
	ASSERT_ERR(shmc_dict_set_if(d, shmc_int(1), shmc_str("x"), ver), SHMC_ECONFLICT);
	expect_str(d, "{}");

	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_ERR(shmc_namespace_get_versioned(ns, "x", &v, &ver), SHMC_EATTR);
	ASSERT_OK(shmc_namespace_set_if(ns, "x", shmc_int(1), 0));
	ASSERT_ERR(shmc_namespace_set_if(ns, "x", shmc_int(2), 0), SHMC_ECONFLICT);
	ASSERT_OK(shmc_namespace_get_versioned(ns, "x", &v, &ver));
	cr_assert(v.type == SHMC_INT && v.i == 1);
	ASSERT_OK(shmc_namespace_set_if(ns, "x", shmc_int(2), ver));
	expect_str(ns, "Namespace(x=2)");
	/* The short names are the same calls. */
	ASSERT_ERR(shmc_ns_set_if(ns, "x", shmc_int(3), ver), SHMC_ECONFLICT);
	ASSERT_OK(shmc_ns_get_versioned(ns, "x", &v, &ver));
	ASSERT_OK(shmc_ns_set_if(ns, "x", shmc_int(3), ver));
	expect_str(ns, "Namespace(x=3)");
	/* Private names belong to the handle: no version. */
	ASSERT_ERR(shmc_namespace_get_versioned(ns, "_p", &v, &ver), -EINVAL);
	ASSERT_ERR(shmc_namespace_set_if(ns, "_p", shmc_int(1), 0), -EINVAL);
	shmc_obj_release(ns);
	shmc_obj_release(d);
}

Test(versions, list_set_if_checks_version_before_index, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls;
	shmc_value_t v;
	uint64_t ver;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
	ASSERT_OK(shmc_list_get_versioned(ls, -1, &v, &ver));
	cr_assert(v.type == SHMC_INT && v.i == 2);
	ASSERT_ERR(shmc_list_get_versioned(ls, 3, &v, &ver), SHMC_EINDEX);
	ASSERT_ERR(shmc_list_set_if(ls, 5, shmc_int(0), ver), SHMC_EINDEX);
	ASSERT_ERR(shmc_list_set_if(ls, 0, shmc_str("stale"), ver - 1), SHMC_ECONFLICT);
	ASSERT_ERR(shmc_list_set_if(ls, 0, shmc_str("zero"), 0), SHMC_ECONFLICT);
	expect_str(ls, "[0, 1, 2]");
	ASSERT_OK(shmc_list_set_if(ls, 0, shmc_str("zero"), ver));
	expect_str(ls, "['zero', 1, 2]");
	ASSERT_ERR(shmc_list_set_if(ls, 1, shmc_str("one"), ver), SHMC_ECONFLICT);
	/* A store to another item changed the version too: the price of a
	 * version per object (see the header). */
	ASSERT_OK(shmc_list_get_versioned(ls, 2, &v, &ver));
	ASSERT_OK(shmc_list_set(ls, 0, shmc_int(0)));
	ASSERT_ERR(shmc_list_set_if(ls, 2, shmc_int(3), ver), SHMC_ECONFLICT);
	expect_str(ls, "[0, 1, 2]");
	shmc_obj_release(ls);
}

/* Every kind of store, each changing the version of its object; reads
 * leave it. */
struct op {
	const char *name;
	int (*fn)(shmc_obj_t *o);
};

static int l_set(shmc_obj_t *o) { return shmc_list_set(o, 0, shmc_int(7)); }
static int l_append(shmc_obj_t *o) { return shmc_list_append(o, shmc_str("a")); }
static int l_insert(shmc_obj_t *o) { return shmc_list_insert(o, 1, shmc_int(-1)); }
static int l_pop(shmc_obj_t *o) { return shmc_list_pop(o, -1, NULL); }
static int l_del(shmc_obj_t *o) { return shmc_list_del(o, 0); }
static int l_add(shmc_obj_t *o) { return shmc_list_add(o, 1, shmc_int(5), NULL); }
/* Built values are ours after a store (it copies): free them. */
static int store_built(int (*fn)(shmc_obj_t *, shmc_value_t), shmc_obj_t *o, shmc_value_t v)
{
	int rc = fn(o, v);
	shmc_value_free(&v);
	return rc;
}
static int l_extend(shmc_obj_t *o)
{
	return store_built(shmc_list_extend, o, shmc_plist_of(2, shmc_int(9), shmc_int(8)));
}
static int l_sort(shmc_obj_t *o) { return shmc_list_sort(o, NULL, NULL, NULL, false); }
static int l_reverse(shmc_obj_t *o) { return shmc_list_reverse(o); }
static int l_slice_set(shmc_obj_t *o)
{
	shmc_value_t v = shmc_plist_of(1, shmc_int(4));
	int rc = shmc_list_slice_set(o, 0, 2, 1, v);
	shmc_value_free(&v);
	return rc;
}
static int l_slice_del(shmc_obj_t *o) { return shmc_list_slice_del(o, 0, 1, 1); }
static int l_remove(shmc_obj_t *o) { return shmc_list_remove(o, shmc_int(1)); }
static int l_clear(shmc_obj_t *o) { return shmc_list_clear(o); }

static const struct op list_ops[] = {
	{"set", l_set},       {"append", l_append},   {"insert", l_insert},
	{"pop", l_pop},       {"del", l_del},         {"add", l_add},
	{"extend", l_extend}, {"sort", l_sort},       {"reverse", l_reverse},
	{"slice_set", l_slice_set}, {"slice_del", l_slice_del}, {"remove", l_remove},
	{"clear", l_clear},
};

static int d_set(shmc_obj_t *o) { return shmc_dict_set(o, shmc_int(1), shmc_str("x")); }
static int d_set_new(shmc_obj_t *o) { return shmc_dict_set(o, shmc_int(2), shmc_int(2)); }
static int d_del(shmc_obj_t *o) { return shmc_dict_del(o, shmc_int(2)); }
static int d_add(shmc_obj_t *o) { return shmc_dict_add(o, shmc_str("n"), shmc_int(1), NULL); }
static int d_setdefault(shmc_obj_t *o)
{
	return shmc_dict_setdefault(o, shmc_int(3), shmc_int(3), NULL);
}
static int d_pop(shmc_obj_t *o) { return shmc_dict_pop(o, shmc_int(3), NULL); }
static int d_merge(shmc_obj_t *o)
{
	return store_built(shmc_dict_merge, o,
			   shmc_pdict_of(2, shmc_int(5), shmc_int(5), shmc_int(1), shmc_int(1)));
}
static int d_popitem(shmc_obj_t *o) { return shmc_dict_popitem(o, NULL, NULL); }
static int d_clear(shmc_obj_t *o) { return shmc_dict_clear(o); }

static const struct op dict_ops[] = {
	{"set", d_set},   {"set new", d_set_new}, {"del", d_del},         {"add", d_add},
	{"setdefault", d_setdefault}, {"pop", d_pop}, {"merge", d_merge}, {"popitem", d_popitem},
	{"clear", d_clear},
};

static int n_set(shmc_obj_t *o) { return shmc_namespace_set(o, "x", shmc_int(3)); }
static int n_add(shmc_obj_t *o) { return shmc_namespace_add(o, "x", shmc_int(1), NULL); }
static int n_del(shmc_obj_t *o) { return shmc_namespace_del(o, "x"); }

static const struct op ns_ops[] = {{"set", n_set}, {"add", n_add}, {"del", n_del}};

static int m_set(shmc_obj_t *o) { return shmc_mvalue_set(o, shmc_str("v")); }
static int m_add(shmc_obj_t *o) { return shmc_mvalue_add(o, shmc_int(2), NULL); }

static int m_set_int(shmc_obj_t *o) { return shmc_mvalue_set(o, shmc_int(1)); }

static const struct op mvalue_ops[] = {{"set", m_set}, {"set int", m_set_int}, {"add", m_add}};

static void each_changes(shmc_obj_t *o, const struct op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t before = version_of(o);
		char *s0 = obj_str(o);
		/* Reads leave the version. */
		free(obj_str(o));
		cr_assert_eq(version_of(o), before);
		int rc = ops[i].fn(o);
		cr_assert_eq(rc, 0, "%s on %s -> %s", ops[i].name, s0, shmc_errname(rc));
		char *s1 = obj_str(o);
		cr_assert_neq(version_of(o), before, "%s (%s -> %s) left the version", ops[i].name,
			      s0, s1);
		free(s0);
		free(s1);
	}
}

Test(versions, every_kind_of_store_changes_the_version, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls, *d, *ns;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int i = 0; i < 5; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(5 - i)));
	each_changes(ls, list_ops, sizeof(list_ops) / sizeof(list_ops[0]));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_int(1)));
	ASSERT_OK(shmc_dict_set(d, shmc_str("n"), shmc_int(0)));
	each_changes(d, dict_ops, sizeof(dict_ops) / sizeof(dict_ops[0]));
	ASSERT_OK(shmc_namespace_new(A, &ns));
	each_changes(ns, ns_ops, sizeof(ns_ops) / sizeof(ns_ops[0]));
	shmc_obj_t *mv;
	ASSERT_OK(shmc_mvalue_new(A, "i", shmc_int(0), &mv));
	each_changes(mv, mvalue_ops, sizeof(mvalue_ops) / sizeof(mvalue_ops[0]));
	shmc_obj_release(mv);
	shmc_obj_release(ns);
	shmc_obj_release(d);
	shmc_obj_release(ls);
}

Test(versions, versions_of_other_objects_are_unchanged, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d1, *d2;
	ASSERT_OK(shmc_dict_new(A, &d1));
	ASSERT_OK(shmc_dict_new(A, &d2));
	uint64_t v2 = version_of(d2);
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_dict_set(d1, shmc_int(i), shmc_str("v")));
	cr_assert_eq(version_of(d2), v2);
	shmc_obj_release(d2);
	shmc_obj_release(d1);
}

Test(versions, a_failed_conditional_store_leaks_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d, *ls;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(0)));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_int(1)));
	size_t before = arena_in_use(A);
	/* Values stored in blocks of their own, refused after encoding. */
	for (int i = 0; i < 100; i++) {
		ASSERT_ERR(shmc_dict_set_if(d, shmc_int(1), shmc_str("a string long enough to be a block"), 1),
			   SHMC_ECONFLICT);
		shmc_value_t t = shmc_tuple_of(2, shmc_str("t"), shmc_float(1.5));
		ASSERT_ERR(shmc_list_set_if(ls, 0, t, 1), SHMC_ECONFLICT);
		shmc_value_free(&t);
	}
	cr_assert_eq(arena_in_use(A), before);
	expect_str(d, "{1: 1}");
	expect_str(ls, "[0]");
	shmc_obj_release(ls);
	shmc_obj_release(d);
}

/* The README's write-back, t = ls[2]; t[0] += 1; ls[2] = t, as a retry
 * loop: every increment of every process is counted. */
#define WB_PROCS 8
#define WB_INCS 10000

struct wb {
	shmc_obj_t *ls;
	_Atomic long conflicts;
	_Atomic int ready; /* all start together, to contend */
	bool naive;        /* Python's pattern: no version, no retry */
};

static int writeback_child(int id, void *arg)
{
	(void)id;
	struct wb *w = arg;
	long conflicts = 0;
	atomic_fetch_add(&w->ready, 1);
	CHILD_CHECK(wait_flag(&w->ready, WB_PROCS, TEST_DEADLINE));
	for (int n = 0; n < WB_INCS; n++) {
		for (;;) {
			/* As the README writes it. */
			shmc_value_t t;
			uint64_t ver;
			CHILD_OK(shmc_list_get_versioned(w->ls, 2, &t, &ver));
			CHILD_CHECK(t.type == SHMC_LIST && shmc_seq_len(t) == 2);
			CHILD_OK(shmc_plist_set(&t, 0, shmc_int(shmc_seq_at(t, 0)->i + 1)));
			int rc = w->naive ? shmc_list_set(w->ls, 2, t)
					  : shmc_list_set_if(w->ls, 2, t, ver);
			shmc_value_free(&t);
			if (rc != SHMC_ECONFLICT) {
				CHILD_OK(rc);
				break;
			}
			conflicts++;
		}
	}
	atomic_fetch_add(&w->conflicts, conflicts);
	return 0;
}

Test(versions, readme_writeback_loop_from_8_processes_loses_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	struct wb *w = shared_page(sizeof(*w));
	ASSERT_OK(shmc_list_new(A, &w->ls));
	ASSERT_OK(shmc_list_append(w->ls, shmc_int(0)));
	ASSERT_OK(shmc_list_append(w->ls, shmc_int(1)));
	shmc_value_t first = shmc_plist_of(2, shmc_int(0), shmc_str("hits"));
	ASSERT_OK(shmc_list_append(w->ls, first));
	shmc_value_free(&first);
	double t0 = now_s();
	cr_assert_eq(run_children(WB_PROCS, writeback_child, w), 0);
	double dt = now_s() - t0;
	shmc_value_t t;
	ASSERT_OK(shmc_list_get(w->ls, 2, &t));
	cr_assert_eq(shmc_seq_at(t, 0)->i, WB_PROCS * WB_INCS, "counted %lld of %d",
		     (long long)shmc_seq_at(t, 0)->i, WB_PROCS * WB_INCS);
	shmc_value_free(&t);
	cr_log_info("write-back: %d processes x %d increments = %d counted, %ld retries, %.3f s",
		    WB_PROCS, WB_INCS, WB_PROCS * WB_INCS, atomic_load(&w->conflicts), dt);
	/* Python's pattern beside it, for the record: how many it loses
	 * depends on the scheduling, so it is shown, not asserted. */
	first = shmc_plist_of(2, shmc_int(0), shmc_str("hits"));
	ASSERT_OK(shmc_list_set(w->ls, 2, first));
	shmc_value_free(&first);
	w->naive = true;
	atomic_store(&w->ready, 0);
	cr_assert_eq(run_children(WB_PROCS, writeback_child, w), 0);
	ASSERT_OK(shmc_list_get(w->ls, 2, &t));
	long naive = (long)shmc_seq_at(t, 0)->i;
	shmc_value_free(&t);
	cr_assert(naive > 0 && naive <= WB_PROCS * WB_INCS);
	cr_log_info("write-back without versions (Python's pattern): %ld of %d counted, %ld lost",
		    naive, WB_PROCS * WB_INCS, (long)WB_PROCS * WB_INCS - naive);
	shmc_obj_release(w->ls);
	munmap(w, sizeof(*w));
}

/* The same loop on a dict entry, the key added by the first to come. */
static int dict_child(int id, void *arg)
{
	(void)id;
	shmc_obj_t *d = arg;
	for (int n = 0; n < WB_INCS; n++) {
		for (;;) {
			shmc_value_t v;
			uint64_t ver = 0;
			int64_t count = 0;
			int rc = shmc_dict_get_versioned(d, shmc_str("hits"), &v, &ver);
			if (rc == 0)
				count = v.i;
			else
				CHILD_CHECK(rc == SHMC_EKEY); /* absent: version 0 */
			rc = shmc_dict_set_if(d, shmc_str("hits"), shmc_int(count + 1), ver);
			if (rc == 0)
				break;
			CHILD_CHECK(rc == SHMC_ECONFLICT);
		}
	}
	return 0;
}

Test(versions, dict_writeback_with_add_if_absent_from_8_processes, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	cr_assert_eq(run_children(WB_PROCS, dict_child, d), 0);
	shmc_value_t v;
	ASSERT_OK(shmc_dict_get(d, shmc_str("hits"), &v));
	cr_assert_eq(v.i, WB_PROCS * WB_INCS);
	shmc_obj_release(d);
}

Test(versions, wrong_kinds_and_released_handles_are_refused, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls, *d, *ns, *gone, *keep;
	shmc_value_t v = shmc_none();
	uint64_t ver = 7, n = 7;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_ERR(shmc_dict_get_versioned(ls, shmc_int(1), &v, &ver), SHMC_EKIND);
	ASSERT_ERR(shmc_dict_set_if(ns, shmc_int(1), shmc_int(1), 0), SHMC_EKIND);
	ASSERT_ERR(shmc_list_get_versioned(d, 0, &v, &ver), SHMC_EKIND);
	ASSERT_ERR(shmc_list_set_if(d, 0, shmc_int(1), 1), SHMC_EKIND);
	ASSERT_ERR(shmc_namespace_get_versioned(d, "x", &v, &ver), SHMC_EKIND);
	ASSERT_ERR(shmc_namespace_set_if(ls, "x", shmc_int(1), 0), SHMC_EKIND);
	ASSERT_ERR(shmc_dict_wait_key(ns, shmc_int(1), 0, SHMC_NOWAIT), SHMC_EKIND);
	/* Out-parameters untouched by failures. */
	cr_assert(v.type == SHMC_NONE && ver == 7);
	ASSERT_OK(shmc_list_new(A, &gone));
	ASSERT_OK(shmc_obj_dup(gone, &keep));
	shmc_obj_release(gone);
	ASSERT_ERR(shmc_obj_version(gone, &ver), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_waiters(gone, &n), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_wait_change(gone, 1, SHMC_NOWAIT), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_get_versioned(gone, 0, &v, &ver), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_set_if(gone, 0, shmc_int(1), 1), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_get_versioned(gone, shmc_int(1), &v, &ver), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_set_if(gone, shmc_int(1), shmc_int(1), 0), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_wait_key(gone, shmc_int(1), 0, SHMC_NOWAIT), SHMC_EHANDLE);
	ASSERT_ERR(shmc_namespace_get_versioned(gone, "x", &v, &ver), SHMC_EHANDLE);
	ASSERT_ERR(shmc_namespace_set_if(gone, "x", shmc_int(1), 0), SHMC_EHANDLE);
	cr_assert(v.type == SHMC_NONE && ver == 7 && n == 7);
	expect_str(keep, "[]");
	shmc_obj_release(keep);
	shmc_obj_release(ns);
	shmc_obj_release(d);
	shmc_obj_release(ls);
}
