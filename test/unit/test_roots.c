/*
 * test_roots.c -- named objects: shmc_root_find_or_create/find/setdefault/remove/names,
 * their error codes, the lifetime a name gives an object, processes racing
 * to create the same name, and unrelated processes (test/helper_roots,
 * started with fork+exec) that share nothing but the arena's name.
 *
 * The directory of names is itself a dict that lives as long as the arena.
 * The fixtures create it (empty) before the leak baseline is taken, and
 * empty it again before the leak check, so what is checked is exactly what
 * the named objects and their names cost.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#define SHMC_TEST_WHITEBOX /* wrap_off; memory/alloc.h, objects/obj.h */
#include "testutil.h"

TestSuite(roots, .timeout = 120);

/* The directory ------------------------------------------------------------- */

static uint64_t dir_off(shmc_arena_t *a)
{
	return atomic_load(&a->hdr->roots_off);
}

/* Empty the directory (its entries' tombstones and table go). Only when no
 * name is left: it is the fixtures' way back to the baseline. */
static void dir_clear(shmc_arena_t *a)
{
	uint64_t off = dir_off(a);
	if (off == 0)
		return;
	shmc_obj_t *d;
	int rc = wrap_off(a, off, &d);
	if (rc || shmc_dict_len(d) != 0 || shmc_dict_clear(d) != 0) {
		fprintf(stderr, "directory: %s, %lld names left\n", shmc_errname(rc),
			rc ? -1LL : (long long)shmc_dict_len(d));
		abort();
	}
	shmc_obj_release(d);
}

/* Create the directory, empty. */
static void dir_make(shmc_arena_t *a)
{
	shmc_obj_t *o;
	if (shmc_root_find_or_create(a, "warm-up", SHMC_KIND_LIST, &o) != 0)
		abort();
	shmc_obj_release(o);
	if (shmc_root_remove(a, "warm-up") != 0)
		abort();
	dir_clear(a);
}

static void roots_setup(void)
{
	A = test_arena(64 << 20);
	arena_warm(A);
	dir_make(A);
	A_base = arena_in_use(A);
}

static void roots_teardown(void)
{
	dir_clear(A); /* aborts when a test left a name behind */
	arena_leak_check(A, A_base);
	shmc_arena_close(A);
}

/* Helpers ------------------------------------------------------------------- */

static uint64_t off_of(const shmc_obj_t *h)
{
	return shmc__handle_off(h);
}

static shmc_check_report_t check(shmc_arena_t *a)
{
	shmc_check_report_t rep;
	shmc_arena_reclaim(a);
	int rc = shmc_arena_check(a, 0, &rep, NULL, NULL);
	cr_assert(rc == 0 || rc == SHMC_ECORRUPT, "check: %s", shmc_errname(rc));
	cr_assert_eq(rep.errors, 0, "the arena check found %llu errors",
		     (unsigned long long)rep.errors);
	return rep;
}

/* Managed objects reached, the directory included. */
static uint64_t objects(shmc_arena_t *a)
{
	shmc_check_report_t rep = check(a);
	cr_assert_eq(rep.leaked_blocks, 0, "leaked blocks: %llu",
		     (unsigned long long)rep.leaked_blocks);
	cr_assert_eq(rep.leaked_refs, 0, "leaked references: %llu",
		     (unsigned long long)rep.leaked_refs);
	return rep.objects;
}

static char *names_repr(shmc_arena_t *a)
{
	shmc_value_t l;
	ASSERT_OK(shmc_root_names(a, &l));
	cr_assert_eq(l.type, SHMC_LIST);
	char *s = value_repr(l);
	shmc_value_free(&l);
	return s;
}

static void expect_names(shmc_arena_t *a, const char *want)
{
	char *s = names_repr(a);
	cr_assert_str_eq(s, want);
	shmc_free(s);
}

/* Semantics --------------------------------------------------------------------- */

Test(roots, get_creates_once_then_finds_the_same_object, .init = roots_setup,
     .fini = roots_teardown)
{
	shmc_obj_t *a, *b, *c;
	ASSERT_OK(shmc_root_find_or_create(A, "jobs", SHMC_KIND_LIST, &a));
	cr_assert_eq(shmc_obj_kind(a), SHMC_KIND_LIST);
	cr_assert_eq(shmc_list_len(a), 0);
	ASSERT_OK(shmc_list_append(a, shmc_int(1)));
	ASSERT_OK(shmc_root_find_or_create(A, "jobs", SHMC_KIND_LIST, &b));
	ASSERT_OK(shmc_root_find(A, "jobs", &c));
	cr_assert(shmc_obj_same(a, b) && shmc_obj_same(a, c));
	expect_str(b, "[1]");
	cr_assert_eq(objects(A), 2); /* the directory and jobs */
	shmc_obj_release(a);
	shmc_obj_release(b);
	shmc_obj_release(c);
	ASSERT_OK(shmc_root_remove(A, "jobs"));
}

Test(roots, each_kind_is_created_empty, .init = roots_setup, .fini = roots_teardown)
{
	shmc_obj_t *ns, *ls, *d;
	ASSERT_OK(shmc_root_find_or_create(A, "ns", SHMC_KIND_NAMESPACE, &ns));
	ASSERT_OK(shmc_root_find_or_create(A, "ls", SHMC_KIND_LIST, &ls));
	ASSERT_OK(shmc_root_find_or_create(A, "d", SHMC_KIND_DICT, &d));
	cr_assert_eq(shmc_obj_kind(ns), SHMC_KIND_NAMESPACE);
	cr_assert_eq(shmc_obj_kind(ls), SHMC_KIND_LIST);
	cr_assert_eq(shmc_obj_kind(d), SHMC_KIND_DICT);
	expect_str(ns, "Namespace()");
	expect_str(ls, "[]");
	expect_str(d, "{}");
	cr_assert(!shmc_obj_same(ls, d));
	expect_names(A, "['d', 'ls', 'ns']");
	shmc_obj_release(ns);
	shmc_obj_release(ls);
	shmc_obj_release(d);
	ASSERT_OK(shmc_root_remove(A, "ns"));
	ASSERT_OK(shmc_root_remove(A, "ls"));
	ASSERT_OK(shmc_root_remove(A, "d"));
	expect_names(A, "[]");
}

Test(roots, kind_mismatch_is_refused_and_changes_nothing, .init = roots_setup,
     .fini = roots_teardown)
{
	shmc_obj_t *ls, *o = NULL;
	ASSERT_OK(shmc_root_find_or_create(A, "x", SHMC_KIND_LIST, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_str("kept")));
	ASSERT_ERR(shmc_root_find_or_create(A, "x", SHMC_KIND_DICT, &o), SHMC_EKIND);
	ASSERT_ERR(shmc_root_find_or_create(A, "x", SHMC_KIND_NAMESPACE, &o), SHMC_EKIND);
	cr_assert_null(o, "out written on failure");
	expect_str(ls, "['kept']");
	expect_names(A, "['x']");
	cr_assert_eq(objects(A), 2, "a refused get left an object behind");
	shmc_obj_release(ls);
	ASSERT_OK(shmc_root_remove(A, "x"));
}

Test(roots, bad_names_and_kinds_are_invalid, .init = roots_setup, .fini = roots_teardown)
{
	shmc_obj_t *o = NULL, *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_ERR(shmc_root_find_or_create(A, "", SHMC_KIND_LIST, &o), -EINVAL);
	ASSERT_ERR(shmc_root_find_or_create(A, NULL, SHMC_KIND_LIST, &o), -EINVAL);
	ASSERT_ERR(shmc_root_find(A, "", &o), -EINVAL);
	ASSERT_ERR(shmc_root_setdefault(A, "", ls, &o), -EINVAL);
	ASSERT_ERR(shmc_root_remove(A, ""), -EINVAL);
	ASSERT_ERR(shmc_root_remove(A, NULL), -EINVAL);
	/* Kinds that need parameters to be created, or do not exist. */
	ASSERT_ERR(shmc_root_find_or_create(A, "k", SHMC_KIND_BARRIER, &o), -EINVAL);
	ASSERT_ERR(shmc_root_find_or_create(A, "k", SHMC_KIND_CVALUE, &o), -EINVAL);
	ASSERT_ERR(shmc_root_find_or_create(A, "k", SHMC_KIND_ARRAY, &o), -EINVAL);
	ASSERT_ERR(shmc_root_find_or_create(A, "k", (shmc_kind_t)0, &o), -EINVAL);
	ASSERT_ERR(shmc_root_find_or_create(A, "k", (shmc_kind_t)(SHMC_KIND_ARRAY + 1), &o), -EINVAL);
	ASSERT_ERR(shmc_root_find_or_create(A, "k", (shmc_kind_t)999, &o), -EINVAL);
	cr_assert_null(o, "out written on failure");
	expect_names(A, "[]");
	cr_assert_eq(objects(A), 2); /* the directory and ls */
	shmc_obj_release(ls);
}

Test(roots, missing_names_are_key_errors, .init = roots_setup, .fini = roots_teardown)
{
	shmc_obj_t *o = NULL;
	ASSERT_ERR(shmc_root_find(A, "nobody", &o), SHMC_EKEY);
	ASSERT_ERR(shmc_root_remove(A, "nobody"), SHMC_EKEY);
	cr_assert_null(o);
	ASSERT_OK(shmc_root_find_or_create(A, "somebody", SHMC_KIND_DICT, &o));
	shmc_obj_release(o);
	o = NULL;
	ASSERT_ERR(shmc_root_find(A, "Somebody", &o), SHMC_EKEY); /* case matters */
	ASSERT_ERR(shmc_root_find(A, "somebody ", &o), SHMC_EKEY);
	ASSERT_OK(shmc_root_remove(A, "somebody"));
	ASSERT_ERR(shmc_root_remove(A, "somebody"), SHMC_EKEY); /* only once */
	ASSERT_ERR(shmc_root_find(A, "somebody", &o), SHMC_EKEY);
	cr_assert_null(o);
}

Test(roots, bad_handles_are_refused, .init = roots_setup, .fini = roots_teardown)
{
	shmc_obj_t *o = NULL;
	shmc_value_t l;
	ASSERT_ERR(shmc_root_find_or_create(NULL, "x", SHMC_KIND_LIST, &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_root_find_or_create(A, "x", SHMC_KIND_LIST, NULL), SHMC_EHANDLE);
	ASSERT_ERR(shmc_root_find(NULL, "x", &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_root_find(A, "x", NULL), SHMC_EHANDLE);
	ASSERT_ERR(shmc_root_remove(NULL, "x"), SHMC_EHANDLE);
	ASSERT_ERR(shmc_root_names(NULL, &l), SHMC_EHANDLE);
	ASSERT_ERR(shmc_root_names(A, NULL), SHMC_EHANDLE);
	ASSERT_ERR(shmc_root_setdefault(A, "x", NULL, &o), SHMC_EHANDLE);
	cr_assert_null(o);
	expect_names(A, "[]");
}

/* A fresh arena has no directory at all: every read says so, and nothing
 * is created by reading. */
Test(roots, a_fresh_arena_has_no_names, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *o = NULL;
	cr_assert_eq(dir_off(A), 0);
	expect_names(A, "[]");
	ASSERT_ERR(shmc_root_find(A, "x", &o), SHMC_EKEY);
	ASSERT_ERR(shmc_root_remove(A, "x"), SHMC_EKEY);
	ASSERT_ERR(shmc_root_find_or_create(A, "x", (shmc_kind_t)0, &o), -EINVAL);
	ASSERT_ERR(shmc_root_find_or_create(A, "", SHMC_KIND_LIST, &o), -EINVAL);
	cr_assert_null(o);
	cr_assert_eq(dir_off(A), 0, "reading created the directory");
}

Test(roots, names_are_sorted_and_exact, .init = roots_setup, .fini = roots_teardown)
{
	static const char *names[] = {"zeta", "alpha", "Beta", "alpha2", "a/b",
				      "caf\xc3\xa9", "_private", "x y", "9"};
	const size_t n = sizeof(names) / sizeof(names[0]);
	for (size_t i = 0; i < n; i++) {
		shmc_obj_t *o;
		ASSERT_OK(shmc_root_find_or_create(A, names[i], SHMC_KIND_NAMESPACE, &o));
		shmc_obj_release(o);
	}
	/* Sorted by bytes, as Python sorts str (code points). */
	expect_names(A, "['9', 'Beta', '_private', 'a/b', 'alpha', 'alpha2', "
			"'caf\xc3\xa9', 'x y', 'zeta']");
	shmc_value_t l;
	ASSERT_OK(shmc_root_names(A, &l));
	cr_assert_eq(shmc_seq_len(l), n);
	cr_assert_eq(shmc_seq_at(l, 0)->type, SHMC_STR);
	shmc_value_free(&l);
	for (size_t i = 0; i < n; i++)
		ASSERT_OK(shmc_root_remove(A, names[i]));
	expect_names(A, "[]");
}

Test(roots, long_and_invalid_names, .init = roots_setup, .fini = roots_teardown)
{
	char big[5000];
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	shmc_obj_t *a, *b = NULL;
	ASSERT_OK(shmc_root_find_or_create(A, big, SHMC_KIND_LIST, &a));
	ASSERT_OK(shmc_root_find(A, big, &b));
	cr_assert(shmc_obj_same(a, b));
	shmc_obj_release(a);
	shmc_obj_release(b);
	big[4000] = '\0'; /* a prefix is another name */
	ASSERT_ERR(shmc_root_find(A, big, &b), SHMC_EKEY);
	big[4000] = 'n';
	ASSERT_OK(shmc_root_remove(A, big));
	/* Names are str: text that is not UTF-8 cannot name anything. */
	b = NULL;
	int rc = shmc_root_find_or_create(A, "bad\xff", SHMC_KIND_LIST, &b);
	cr_assert(rc == -EILSEQ || rc == -EINVAL, "root_get(invalid UTF-8) -> %s",
		  shmc_errname(rc));
	cr_assert_null(b);
	ASSERT_ERR(shmc_root_find(A, "bad\xff", &b), SHMC_EKEY);
	expect_names(A, "[]");
	cr_assert_eq(objects(A), 1, "a refused name left its object behind");
}

/* Every kind Python's manager makes without arguments is made by get, as
 * Python's defaults make it; Barrier, Value and Array need parameters. */
Test(roots, get_makes_what_python_makes_without_arguments, .init = roots_setup,
     .fini = roots_teardown)
{
	static const struct {
		shmc_kind_t kind;
		const char *name;
	} kinds[] = {
		{SHMC_KIND_NAMESPACE, "ns"},  {SHMC_KIND_LIST, "ls"},
		{SHMC_KIND_DICT, "d"},        {SHMC_KIND_LOCK, "lock"},
		{SHMC_KIND_RLOCK, "rlock"},   {SHMC_KIND_SEMAPHORE, "sem"},
		{SHMC_KIND_BOUNDED_SEMAPHORE, "bsem"},
		{SHMC_KIND_CONDITION, "cond"}, {SHMC_KIND_EVENT, "ev"},
		{SHMC_KIND_QUEUE, "q"},       {SHMC_KIND_JOINABLE_QUEUE, "jq"},
	};
	const size_t n = sizeof(kinds) / sizeof(kinds[0]);
	for (size_t i = 0; i < n; i++) {
		shmc_obj_t *o, *again;
		ASSERT_OK(shmc_root_find_or_create(A, kinds[i].name, kinds[i].kind, &o));
		cr_assert_eq(shmc_obj_kind(o), kinds[i].kind, "%s", kinds[i].name);
		ASSERT_OK(shmc_root_find_or_create(A, kinds[i].name, kinds[i].kind, &again));
		cr_assert(shmc_obj_same(o, again), "%s", kinds[i].name);
		ASSERT_ERR(shmc_root_find_or_create(A, kinds[i].name,
					 kinds[i].kind == SHMC_KIND_LIST ? SHMC_KIND_DICT
									 : SHMC_KIND_LIST,
					 &again),
			   SHMC_EKIND);
		shmc_obj_release(again);
		shmc_obj_release(o);
	}
	cr_assert_eq(objects(A), 1 + n + 1); /* the directory; the Condition's RLock */
	/* As Python's defaults: a Semaphore of 1, a clear Event, an unbounded
	 * Queue, a free Lock. */
	shmc_obj_t *o;
	ASSERT_OK(shmc_root_find(A, "sem", &o));
	cr_assert_eq(shmc_semaphore_value(o), 1);
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find(A, "bsem", &o));
	cr_assert_eq(shmc_semaphore_value(o), 1);
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find(A, "ev", &o));
	cr_assert_eq(shmc_event_is_set(o), 0);
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find(A, "q", &o));
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_queue_put(o, shmc_int(i), SHMC_NOWAIT));
	cr_assert_eq(shmc_queue_full(o), 0);
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find(A, "lock", &o));
	ASSERT_OK(shmc_lock_acquire(o, SHMC_NOWAIT));
	ASSERT_OK(shmc_lock_release(o));
	shmc_obj_release(o);
	for (size_t i = 0; i < n; i++)
		ASSERT_OK(shmc_root_remove(A, kinds[i].name));
	cr_assert_eq(objects(A), 1, "objects outlived their names");
	/* Kinds that need parameters: nothing made, nothing named. */
	const shmc_kind_t need[] = {SHMC_KIND_BARRIER, SHMC_KIND_CVALUE, SHMC_KIND_ARRAY};
	for (size_t i = 0; i < 3; i++) {
		shmc_obj_t *x = NULL;
		int rc = shmc_root_find_or_create(A, "k", need[i], &x);
		cr_assert_eq(rc, -EINVAL, "root_get(kind %d) -> %s", need[i], shmc_errname(rc));
		cr_assert_null(x);
	}
	expect_names(A, "[]");
	cr_assert_eq(objects(A), 1);
}

Test(roots, a_queue_is_named_with_setdefault, .init = roots_setup, .fini = roots_teardown)
{
	shmc_obj_t *q, *got, *again, *o = NULL;
	ASSERT_OK(shmc_queue_new(A, 4, &q));
	ASSERT_OK(shmc_root_setdefault(A, "jobs", q, &got));
	cr_assert(shmc_obj_same(got, q));
	shmc_obj_release(got);
	/* Found by name, of its own kind; not as another kind. */
	ASSERT_OK(shmc_root_find_or_create(A, "jobs", SHMC_KIND_QUEUE, &again));
	cr_assert(shmc_obj_same(again, q));
	shmc_obj_release(again);
	ASSERT_ERR(shmc_root_find_or_create(A, "jobs", SHMC_KIND_LIST, &o), SHMC_EKIND);
	cr_assert_null(o);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_queue_put(q, shmc_str(i == 1 ? "two" : "item"), SHMC_NOWAIT));
	shmc_obj_release(q);
	/* Named, it lives on with its items. */
	cr_assert_eq(objects(A), 2);
	ASSERT_OK(shmc_root_find(A, "jobs", &q));
	cr_assert_eq(shmc_queue_qsize(q), 3);
	shmc_value_t v;
	ASSERT_OK(shmc_queue_get(q, SHMC_NOWAIT, &v));
	shmc_value_free(&v);
	ASSERT_OK(shmc_queue_get(q, SHMC_NOWAIT, &v));
	cr_assert(v.type == SHMC_STR && strcmp(v.str, "two") == 0);
	shmc_value_free(&v);
	shmc_obj_release(q);
	ASSERT_OK(shmc_root_remove(A, "jobs"));
	cr_assert_eq(objects(A), 1, "the queue outlived its name");
}

/* Lifetime ------------------------------------------------------------------------ */

Test(roots, a_named_object_lives_while_named, .init = roots_setup, .fini = roots_teardown)
{
	shmc_obj_t *ls, *again;
	ASSERT_OK(shmc_root_find_or_create(A, "keep", SHMC_KIND_LIST, &ls));
	uint64_t off = off_of(ls);
	for (int i = 0; i < 1000; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
	shmc_obj_release(ls); /* no handle left anywhere */
	cr_assert_eq(objects(A), 2, "the named object was freed with its last handle");
	ASSERT_OK(shmc_root_find(A, "keep", &again));
	cr_assert_eq(off_of(again), off);
	cr_assert_eq(shmc_list_len(again), 1000);
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(again, -1, &v));
	cr_assert(v.type == SHMC_INT && v.i == 999);
	shmc_obj_release(again);
	ASSERT_OK(shmc_root_remove(A, "keep"));
}

Test(roots, removing_the_name_frees_an_unreferenced_object, .init = roots_setup,
     .fini = roots_teardown)
{
	size_t before = arena_in_use(A);
	shmc_obj_t *d, *inner;
	ASSERT_OK(shmc_root_find_or_create(A, "big", SHMC_KIND_DICT, &d));
	ASSERT_OK(shmc_list_new(A, &inner));
	for (int i = 0; i < 500; i++) {
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_str("a string long enough "
								   "to need a block of its own")));
		ASSERT_OK(shmc_list_append(inner, shmc_float(i + 0.5)));
	}
	ASSERT_OK(shmc_dict_set(d, shmc_str("inner"), shmc_ref(inner)));
	shmc_obj_release(inner);
	shmc_obj_release(d);
	cr_assert_eq(objects(A), 3); /* directory, big and the list inside */
	cr_assert_gt(arena_in_use(A), before + 500 * 32);
	ASSERT_OK(shmc_root_remove(A, "big"));
	cr_assert_eq(objects(A), 1, "removing the name did not free the object");
	dir_clear(A);
	cr_assert_eq(arena_in_use(A), before, "%zd bytes left after the name went",
		     (ssize_t)(arena_in_use(A) - before));
}

Test(roots, a_removed_name_leaves_held_objects_alive, .init = roots_setup,
     .fini = roots_teardown)
{
	shmc_obj_t *ls, *holder, *o = NULL;
	ASSERT_OK(shmc_root_find_or_create(A, "ls", SHMC_KIND_LIST, &ls));
	ASSERT_OK(shmc_root_find_or_create(A, "holder", SHMC_KIND_LIST, &holder));
	ASSERT_OK(shmc_list_append(ls, shmc_str("alive")));
	ASSERT_OK(shmc_list_append(holder, shmc_ref(ls)));
	ASSERT_OK(shmc_root_remove(A, "ls"));
	ASSERT_ERR(shmc_root_find(A, "ls", &o), SHMC_EKEY);
	expect_str(ls, "['alive']"); /* our handle still works */
	ASSERT_OK(shmc_list_append(ls, shmc_int(2)));
	shmc_obj_release(ls);
	/* Still reachable through holder, with its contents. */
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(holder, 0, &v));
	cr_assert_eq(v.type, SHMC_REF);
	expect_str(v.ref, "['alive', 2]");
	shmc_value_free(&v);
	cr_assert_eq(objects(A), 3);
	/* The same name again makes a new, empty object. */
	ASSERT_OK(shmc_root_find_or_create(A, "ls", SHMC_KIND_LIST, &o));
	expect_str(o, "[]");
	shmc_obj_release(o);
	cr_assert_eq(objects(A), 4);
	ASSERT_OK(shmc_root_remove(A, "ls"));
	ASSERT_OK(shmc_list_clear(holder));
	cr_assert_eq(objects(A), 2);
	shmc_obj_release(holder);
	ASSERT_OK(shmc_root_remove(A, "holder"));
	cr_assert_eq(objects(A), 1);
}

Test(roots, setdefault_names_an_object_once, .init = roots_setup, .fini = roots_teardown)
{
	shmc_obj_t *mine, *other, *got, *got2;
	ASSERT_OK(shmc_dict_new(A, &mine));
	ASSERT_OK(shmc_dict_set(mine, shmc_str("who"), shmc_str("mine")));
	ASSERT_OK(shmc_root_setdefault(A, "cfg", mine, &got));
	cr_assert(shmc_obj_same(got, mine));
	shmc_obj_release(got);
	/* The name is taken: setdefault returns the named one and names
	 * nothing else, whatever the kind offered. */
	ASSERT_OK(shmc_list_new(A, &other));
	ASSERT_OK(shmc_root_setdefault(A, "cfg", other, &got2));
	cr_assert(shmc_obj_same(got2, mine));
	cr_assert_eq(shmc_obj_kind(got2), SHMC_KIND_DICT);
	shmc_obj_release(got2);
	shmc_obj_release(other); /* never named: freed now */
	cr_assert_eq(objects(A), 2);
	/* One object under two names. */
	ASSERT_OK(shmc_root_setdefault(A, "cfg2", mine, &got));
	cr_assert(shmc_obj_same(got, mine));
	shmc_obj_release(got);
	shmc_obj_release(mine);
	ASSERT_OK(shmc_root_remove(A, "cfg"));
	ASSERT_OK(shmc_root_find(A, "cfg2", &got));
	expect_str(got, "{'who': 'mine'}");
	shmc_obj_release(got);
	cr_assert_eq(objects(A), 2);
	ASSERT_OK(shmc_root_remove(A, "cfg2"));
	cr_assert_eq(objects(A), 1);
}

Test(roots, setdefault_refuses_another_arenas_object, .init = roots_setup,
     .fini = roots_teardown)
{
	shmc_arena_t *b = test_arena(8 << 20);
	shmc_obj_t *foreign, *got = NULL;
	ASSERT_OK(shmc_list_new(b, &foreign));
	ASSERT_ERR(shmc_root_setdefault(A, "f", foreign, &got), SHMC_EARENA);
	cr_assert_null(got);
	expect_names(A, "[]");
	shmc_obj_release(foreign);
	shmc_arena_close(b);
}

Test(roots, names_outlive_the_processes_that_made_them, .init = roots_setup,
     .fini = roots_teardown)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) { /* makes two objects, then exits without releasing */
		shmc_obj_t *ls, *ns;
		CHILD_OK(shmc_root_find_or_create(A, "from-child", SHMC_KIND_LIST, &ls));
		CHILD_OK(shmc_list_append(ls, shmc_str("left by the child")));
		CHILD_OK(shmc_root_find_or_create(A, "killed", SHMC_KIND_NAMESPACE, &ns));
		CHILD_OK(shmc_namespace_set(ns, "x", shmc_int(42)));
		raise(SIGKILL);
		_exit(1);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	shmc_obj_t *ls, *ns;
	ASSERT_OK(shmc_root_find(A, "from-child", &ls));
	expect_str(ls, "['left by the child']");
	ASSERT_OK(shmc_root_find(A, "killed", &ns));
	expect_str(ns, "Namespace(x=42)");
	shmc_obj_release(ls);
	shmc_obj_release(ns);
	cr_assert_eq(objects(A), 3); /* the dead child's handles were reaped */
	expect_names(A, "['from-child', 'killed']");
	ASSERT_OK(shmc_root_remove(A, "from-child"));
	ASSERT_OK(shmc_root_remove(A, "killed"));
	cr_assert_eq(objects(A), 1);
}

/* The create race ---------------------------------------------------------------- */

#define RACERS 8

struct race {
	atomic_int ready, go;
	struct {
		int rc;
		uint64_t off;
	} res[RACERS];
};

static struct race *race_new(void)
{
	return shared_page(sizeof(struct race));
}

struct racer {
	struct race *r;
	shmc_arena_t *a;
	const char *name;
	bool mixed; /* odd racers ask for a dict */
};

static int racer(int i, void *arg)
{
	struct racer *x = arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
	atomic_fetch_add(&x->r->ready, 1);
	for (unsigned long spins = 0; !atomic_load(&x->r->go); spins++)
		if (spins % 4096 == 0)
			sched_yield(); /* 8 racers may share fewer CPUs */
	shmc_kind_t kind = x->mixed && (i & 1) ? SHMC_KIND_DICT : SHMC_KIND_LIST;
	shmc_obj_t *o = NULL;
	int rc = shmc_root_find_or_create(x->a, x->name, kind, &o);
	x->r->res[i].rc = rc;
	if (rc == 0) {
		x->r->res[i].off = off_of(o);
		if (kind == SHMC_KIND_LIST)
			CHILD_OK(shmc_list_append(o, shmc_int(i)));
		else
			CHILD_OK(shmc_dict_set(o, shmc_int(i), shmc_int(i)));
		shmc_obj_release(o);
	}
	return 0;
}

/* Fork the racers; they start together once all are ready. */
static void race_run(struct racer *x)
{
	pid_t pids[RACERS];
	memset(x->r, 0, sizeof(*x->r));
	fflush(NULL);
	for (int i = 0; i < RACERS; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(racer(i, x));
	}
	cr_assert(wait_flag(&x->r->ready, RACERS, TEST_DEADLINE), "the racers did not start");
	atomic_store(&x->r->go, 1);
	for (int i = 0; i < RACERS; i++) {
		int st;
		cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "racer %d failed", i);
	}
}

/* What one race left: a single object, named, that every winner got. */
static void race_verify(struct racer *x)
{
	shmc_obj_t *o;
	ASSERT_OK(shmc_root_find(x->a, x->name, &o));
	shmc_kind_t kind = shmc_obj_kind(o);
	int got = 0;
	for (int i = 0; i < RACERS; i++) {
		shmc_kind_t want = x->mixed && (i & 1) ? SHMC_KIND_DICT : SHMC_KIND_LIST;
		if (want == kind) {
			ASSERT_OK(x->r->res[i].rc);
			cr_assert_eq(x->r->res[i].off, off_of(o),
				     "racer %d got %#" PRIx64 ", the name holds %#" PRIx64, i,
				     x->r->res[i].off, off_of(o));
			got++;
		} else {
			ASSERT_ERR(x->r->res[i].rc, SHMC_EKIND);
		}
	}
	cr_assert_eq(got, x->mixed ? RACERS / 2 : RACERS);
	/* Every winner's item landed in the one object. */
	int64_t len = kind == SHMC_KIND_LIST ? shmc_list_len(o) : shmc_dict_len(o);
	cr_assert_eq(len, got);
	shmc_obj_release(o);
	cr_assert_eq(objects(x->a), 2, "more than one object exists after the race");
}

Test(roots, eight_processes_racing_get_the_same_object, .init = roots_setup,
     .fini = roots_teardown)
{
	struct racer x = {.r = race_new(), .a = A};
	for (int round = 0; round < 25; round++) {
		char name[32];
		snprintf(name, sizeof(name), "race-%d", round);
		x.name = name;
		race_run(&x);
		race_verify(&x);
		ASSERT_OK(shmc_root_remove(A, name));
		cr_assert_eq(objects(A), 1);
	}
	munmap(x.r, sizeof(*x.r));
}

Test(roots, racers_asking_for_different_kinds_agree_on_one, .init = roots_setup,
     .fini = roots_teardown)
{
	struct racer x = {.r = race_new(), .a = A, .mixed = true};
	for (int round = 0; round < 25; round++) {
		char name[32];
		snprintf(name, sizeof(name), "mixed-%d", round);
		x.name = name;
		race_run(&x);
		race_verify(&x);
		ASSERT_OK(shmc_root_remove(A, name));
	}
	munmap(x.r, sizeof(*x.r));
}

/* On a fresh arena the racers also race to create the directory itself. */
Test(roots, racing_on_a_fresh_arena_creates_one_directory, .init = arena_setup,
     .fini = arena_teardown)
{
	struct racer x = {.r = race_new(), .name = "first"};
	for (int round = 0; round < 15; round++) {
		shmc_arena_t *b = test_arena(16 << 20);
		arena_warm(b);
		size_t base = arena_in_use(b);
		cr_assert_eq(dir_off(b), 0);
		x.a = b;
		race_run(&x);
		race_verify(&x);
		uint64_t dir = dir_off(b);
		cr_assert_neq(dir, 0);
		ASSERT_OK(shmc_root_remove(b, "first"));
		cr_assert_eq(dir_off(b), dir, "the directory moved");
		dir_clear(b);
		/* What is left is the directory's own block: the losers' were
		 * freed. */
		cr_assert_eq(arena_in_use(b), base + shmc__block_size(b, dir),
			     "round %d: %zd bytes beyond the directory", round,
			     (ssize_t)(arena_in_use(b) - base - shmc__block_size(b, dir)));
		shmc_arena_close(b);
	}
	munmap(x.r, sizeof(*x.r));
}

/* Unrelated processes -------------------------------------------------------------- */

static shmc_arena_t *NA;
static size_t NA_base;
static char NA_name[128], NA_path[160];

static void named_setup(void)
{
	unique_name(NA_name, sizeof(NA_name), NA_path, sizeof(NA_path), "roots");
	crash_cleanup_install(); /* a crashed test leaves no arena file behind */
	NA = test_named_arena(NA_name, 64 << 20);
	arena_warm(NA);
	dir_make(NA);
	NA_base = arena_in_use(NA);
}

static void named_teardown(void)
{
	files_cleanup();
	dir_clear(NA);
	arena_leak_check(NA, NA_base);
	shmc_arena_close(NA);
}

static const char *helper_exe(void)
{
	static char path[4096];
	cr_assert(build_program("test", "helper_roots", path, sizeof(path)),
		  "no helper_roots (set SHMC_BUILD)");
	return path;
}

struct helper {
	pid_t pid;
	int out; /* its stdout */
};

/* Start the helper: CMD NAME OBJ N [EXTRA] (EXTRA < 0: none). */
static struct helper helper_start2(const char *cmd, const char *obj, int n, int extra)
{
	char count[32], x[32];
	snprintf(count, sizeof(count), "%d", n);
	snprintf(x, sizeof(x), "%d", extra);
	char *argv[] = {(char *)helper_exe(), (char *)cmd, NA_name, (char *)obj, count,
			extra < 0 ? NULL : x, NULL};
	int p[2];
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	return (struct helper){pid, p[0]};
}

static struct helper helper_start(const char *cmd, const char *obj, int n)
{
	return helper_start2(cmd, obj, n, -1);
}

/* The helper's first line must be WANT: read it, waiting at most
 * TEST_DEADLINE. */
static void helper_expect_line(struct helper h, const char *want)
{
	char line[256];
	size_t len = 0;
	double end = now_s() + TEST_DEADLINE;
	while (len == 0 || line[len - 1] != '\n') {
		struct pollfd p = {h.out, POLLIN, 0};
		int left = (int)((end - now_s()) * 1e3);
		cr_assert(left > 0, "the helper did not say \"%.*s\" in time", (int)strcspn(want, "\n"), want);
		int k = poll(&p, 1, left);
		if (k < 0 && errno == EINTR)
			continue;
		cr_assert(k >= 0 && len + 1 < sizeof(line));
		if (k == 0)
			continue;
		cr_assert_eq(read(h.out, line + len, 1), 1, "the helper ended before it said \"%.*s\"",
			     (int)strcspn(want, "\n"), want);
		len++;
	}
	line[len] = '\0';
	cr_assert_str_eq(line, want);
}

/* Wait for the helper; OUT gets its output. Returns its exit status. */
static int helper_wait(struct helper h, char *out, size_t n)
{
	size_t len = 0;
	ssize_t r;
	while (len + 1 < n && (r = read(h.out, out + len, n - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(h.out);
	int st;
	cr_assert_eq(waitpid(h.pid, &st, 0), h.pid);
	cr_assert(WIFEXITED(st), "helper killed by signal %d", WTERMSIG(st));
	return WEXITSTATUS(st);
}

static void expect_produced(const char *obj, int n)
{
	/* The test process sees the same dict, and so does the arena check. */
	shmc_obj_t *d;
	ASSERT_OK(shmc_root_find(NA, obj, &d));
	cr_assert_eq(shmc_dict_len(d), n + 1);
	shmc_value_t v;
	ASSERT_OK(shmc_dict_get(d, shmc_int(n - 1), &v));
	char *s = value_repr(v), want[128];
	int64_t k = n - 1;
	snprintf(want, sizeof(want), "(%" PRId64 ", 'value-%" PRId64 "-\xc3\xa9', %g, %s, "
		 "b'\\x%02x\\x%02x\\xff')", k * k - 7, k, (double)k / 4,
		 k & 1 ? "True" : "False", (unsigned)(k & 0xff), (unsigned)((k >> 8) & 0xff));
	cr_assert_str_eq(s, want);
	shmc_free(s);
	shmc_value_free(&v);
	shmc_obj_release(d);
	cr_assert_eq(objects(NA), 2);
}

Test(roots, unrelated_processes_share_a_dict_by_name, .init = named_setup,
     .fini = named_teardown)
{
	char out[4096];
	const int n = 2000;
	/* The producer runs to completion and exits; then a consumer that
	 * shares nothing with it but the arena's name finds the dict. */
	int st = helper_wait(helper_start("produce", "results", n), out, sizeof(out));
	cr_assert_eq(st, 0, "producer: %s", out);
	st = helper_wait(helper_start("consume", "results", n), out, sizeof(out));
	cr_assert_eq(st, 0, "consumer: %s", out);
	cr_assert_str_eq(out, "ok 2000\n");
	expect_produced("results", n);
	ASSERT_OK(shmc_root_remove(NA, "results"));
	cr_assert_eq(objects(NA), 1);
}

Test(roots, unrelated_consumer_waits_for_a_running_producer, .init = named_setup,
     .fini = named_teardown)
{
	char out[4096];
	const int n = 5000;
	/* The consumer starts first, and waits: the name does not exist yet. */
	struct helper c = helper_start("await", "live", n);
	helper_expect_line(c, "waiting for live\n");
	struct helper p = helper_start("produce", "live", n);
	int st = helper_wait(p, out, sizeof(out));
	cr_assert_eq(st, 0, "producer: %s", out);
	st = helper_wait(c, out, sizeof(out));
	cr_assert_eq(st, 0, "consumer: %s", out);
	cr_assert_str_eq(out, "ok 5000\n");
	expect_produced("live", n);
	ASSERT_OK(shmc_root_remove(NA, "live"));
}

Test(roots, a_consumer_finds_nothing_before_the_producer, .init = named_setup,
     .fini = named_teardown)
{
	char out[4096];
	int st = helper_wait(helper_start("consume", "absent", 10), out, sizeof(out));
	cr_assert_eq(st, 4);
	cr_assert_str_eq(out, "find absent: SHMC_EKEY\n");
	expect_names(NA, "[]"); /* finding created nothing */
}

Test(roots, two_producers_fill_one_named_dict, .init = named_setup, .fini = named_teardown)
{
	char out[4096];
	const int n = 3000;
	/* Both race to create the dict by name, then each sets every key:
	 * one dict, each key once, the values exact. */
	struct helper p1 = helper_start("produce", "shared", n);
	struct helper p2 = helper_start("produce", "shared", n);
	int st1 = helper_wait(p1, out, sizeof(out));
	cr_assert_eq(st1, 0, "producer 1: %s", out);
	int st2 = helper_wait(p2, out, sizeof(out));
	cr_assert_eq(st2, 0, "producer 2: %s", out);
	int st = helper_wait(helper_start("consume", "shared", n), out, sizeof(out));
	cr_assert_eq(st, 0, "consumer: %s", out);
	expect_produced("shared", n);
	ASSERT_OK(shmc_root_remove(NA, "shared"));
}

/* A named Queue between unrelated processes: bounded (8 items), so the
 * producer waits for the consumer, which started first and waited for the
 * name. */
Test(roots, unrelated_processes_share_a_named_queue, .init = named_setup,
     .fini = named_teardown)
{
	char out[4096];
	const int n = 2000;
	struct helper c = helper_start2("qget", "work", n, 1);
	helper_expect_line(c, "waiting for work\n");
	struct helper p = helper_start2("qput", "work", n, 0);
	int st = helper_wait(p, out, sizeof(out));
	cr_assert_eq(st, 0, "producer: %s", out);
	st = helper_wait(c, out, sizeof(out));
	cr_assert_eq(st, 0, "consumer: %s", out);
	cr_assert_str_eq(out, "ok 2000\n");
	shmc_obj_t *q;
	ASSERT_OK(shmc_root_find(NA, "work", &q));
	cr_assert_eq(shmc_obj_kind(q), SHMC_KIND_QUEUE);
	cr_assert_eq(shmc_queue_qsize(q), 0);
	shmc_obj_release(q);
	cr_assert_eq(objects(NA), 2);
	ASSERT_OK(shmc_root_remove(NA, "work"));
	cr_assert_eq(objects(NA), 1);
}

/* Two producers race to name their own queue: both must use the one that
 * won, so the consumer gets every item of both, each producer's in order. */
Test(roots, unrelated_producers_race_to_name_one_queue, .init = named_setup,
     .fini = named_teardown)
{
	char out[4096];
	const int n = 1500;
	struct helper c = helper_start2("qget", "work", n, 2);
	helper_expect_line(c, "waiting for work\n");
	struct helper p0 = helper_start2("qput", "work", n, 0);
	struct helper p1 = helper_start2("qput", "work", n, 1);
	int st = helper_wait(p0, out, sizeof(out));
	cr_assert_eq(st, 0, "producer 0: %s", out);
	st = helper_wait(p1, out, sizeof(out));
	cr_assert_eq(st, 0, "producer 1: %s", out);
	st = helper_wait(c, out, sizeof(out));
	cr_assert_eq(st, 0, "consumer: %s", out);
	cr_assert_str_eq(out, "ok 3000\n");
	cr_assert_eq(objects(NA), 2, "the losing producer's queue was not freed");
	ASSERT_OK(shmc_root_remove(NA, "work"));
	cr_assert_eq(objects(NA), 1);
}
