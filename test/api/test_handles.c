/*
 * test_handles.c -- a handle's life: after shmc_obj_release, after a
 * second release, after its arena is closed, or when it was never a
 * handle, every call answers SHMC_EHANDLE (a release does nothing) and
 * reads no freed memory (make check runs this under AddressSanitizer);
 * threads that release a handle others use; an arena handle after close;
 * a stored reference equals a handle only of its own arena; a
 * compare-and-set checks DESIRED before comparing. The same for the
 * Manager's Value and the Pool, its AsyncResult and Iterator, with every
 * call of theirs.
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "testutil.h"

TestSuite(handles, .timeout = 120);

static int barrier_action(void *ctx)
{
	(void)ctx;
	return 0;
}

/* Every call on a dead handle H of a kind KIND answers SHMC_EHANDLE (or
 * 0, NULL, false where nothing else can be said). */
static void expect_dead(shmc_obj_t *h)
{
	shmc_value_t v = shmc_none();
	shmc_obj_t *o = NULL;
	char *s = NULL;
	cr_assert_eq(shmc_obj_kind(h), 0);
	cr_assert_null(shmc_obj_arena(h));
	cr_assert_not(shmc_obj_same(h, h));
	ASSERT_ERR(shmc_obj_dup(h, &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_str(h, &s), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_repr(h, &s), SHMC_EHANDLE);
	ASSERT_ERR(shmc_obj_print(h, stderr), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_len(h), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_append(h, shmc_int(1)), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_get(h, 0, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_set(h, shmc_int(1), shmc_int(1)), SHMC_EHANDLE);
	ASSERT_ERR(shmc_namespace_get(h, "x", &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_lock_acquire(h, SHMC_NOWAIT), SHMC_EHANDLE);
	ASSERT_ERR(shmc_queue_put(h, shmc_int(1), SHMC_NOWAIT), SHMC_EHANDLE);
	ASSERT_ERR(shmc_cvalue_get(h, &v), SHMC_EHANDLE);
	/* The list's and dict's later calls too. */
	shmc_value_t pl = shmc_plist_of(1, shmc_int(1)), pd = shmc_pdict_of(0);
	shmc_dict_iter_t *it = NULL;
	ASSERT_ERR(shmc_list_count(h, shmc_int(1)), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_contains(h, shmc_int(1)), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_index_range(h, shmc_int(1), 0, SHMC_SLICE_NONE), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_reverse(h), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_sort(h, NULL, NULL, NULL, false), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_slice_get(h, 0, SHMC_SLICE_NONE, 1, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_slice_set(h, 0, 1, 1, pl), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_slice_del(h, 0, 1, 1), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_concat(h, pl, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_repeat(h, 2, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_list_inplace_repeat(h, 2), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_get_default(h, shmc_int(1), shmc_none(), &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_pop_default(h, shmc_int(1), shmc_none(), &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_popitem(h, &v, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_merge(h, pd), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_or(h, pd, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_iter_new(h, SHMC_ITER_KEYS, &it), SHMC_EHANDLE);
	ASSERT_ERR(shmc_barrier_set_action(h, barrier_action, NULL), SHMC_EHANDLE);
	cr_assert_null(it);
	shmc_value_free(&pl);
	shmc_value_free(&pd);
	cr_assert_null(o);
	cr_assert_null(s);
	cr_assert_eq(v.type, SHMC_NONE);
	/* Stored, it is refused; in a builder, it is an error value. */
	ASSERT_ERR(shmc_list_append(h, shmc_ref(h)), SHMC_EHANDLE);
	shmc_value_t t = shmc_tuple_of(1, shmc_ref(h));
	cr_assert_eq(t.type, SHMC_ERROR);
	cr_assert_eq(t.i, SHMC_EHANDLE);
	/* And releasing it again does nothing. */
	shmc_obj_release(h);
}

Test(handles, every_call_on_a_released_handle_is_ehandle, .init = arena_setup,
     .fini = arena_teardown)
{
	int (*makers[])(shmc_arena_t *, shmc_obj_t **) = {
		shmc_namespace_new, shmc_list_new, shmc_dict_new, shmc_lock_new,
		shmc_rlock_new, shmc_event_new,
	};
	for (size_t i = 0; i < sizeof(makers) / sizeof(makers[0]); i++) {
		shmc_obj_t *h, *keep;
		ASSERT_OK(makers[i](A, &h));
		ASSERT_OK(shmc_obj_dup(h, &keep));
		shmc_obj_release(h);
		expect_dead(h);
		/* The other handle, and the object, are untouched. */
		cr_assert_neq(shmc_obj_kind(keep), 0);
		shmc_obj_release(keep);
	}
}

Test(handles, a_second_release_does_nothing, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *other;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_str("kept")));
	ASSERT_OK(shmc_obj_dup(ls, &other));
	shmc_obj_release(ls);
	shmc_obj_release(ls); /* would drop the object's last reference */
	shmc_obj_release(ls);
	cr_assert_eq(shmc_list_len(other), 1);
	expect_str(other, "['kept']");
	shmc_obj_release(other); /* now it goes: the fixture checks nothing leaked */
}

Test(handles, a_released_handle_does_not_name_the_next_handle_in_its_place,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *old, *fresh[64];
	ASSERT_OK(shmc_list_new(A, &old));
	shmc_obj_release(old);
	/* The freed entry is handed out again, with another generation. */
	for (int i = 0; i < 64; i++)
		ASSERT_OK(shmc_dict_new(A, &fresh[i]));
	for (int i = 0; i < 64; i++) {
		cr_assert_neq(old, fresh[i]);
		cr_assert_not(shmc_obj_same(old, fresh[i]));
	}
	expect_dead(old);
	for (int i = 0; i < 64; i++) {
		ASSERT_OK(shmc_dict_set(fresh[i], shmc_int(i), shmc_int(i)));
		shmc_obj_release(fresh[i]);
	}
}

Test(handles, values_that_are_not_handles_are_ehandle, .init = arena_setup,
     .fini = arena_teardown)
{
	int local = 0;
	shmc_obj_t *forged[] = {
		(shmc_obj_t *)(uintptr_t)1,
		(shmc_obj_t *)(uintptr_t)3,
		(shmc_obj_t *)(uintptr_t)0xdeadbeefu,
		(shmc_obj_t *)(uintptr_t)0xfffffffffffffff1ull,
		(shmc_obj_t *)&local, /* a real pointer, never a handle */
		(shmc_obj_t *)A,
	};
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++)
		expect_dead(forged[i]);
	/* Live-looking values: every index, random generations. */
	for (uint64_t i = 0; i < 4096; i++) {
		uint64_t x = (mix64(i) << 28) | ((i & 0x7ffffff) << 1) | 1;
		ASSERT_ERR(shmc_list_len((shmc_obj_t *)(uintptr_t)x), SHMC_EHANDLE);
		shmc_obj_release((shmc_obj_t *)(uintptr_t)x);
	}
}

Test(handles, handles_of_a_closed_arena_are_ehandle_and_release_does_nothing)
{
	shmc_arena_t *b = test_arena(SHMC_MIN_CAPACITY);
	shmc_obj_t *ls, *d, *q;
	ASSERT_OK(shmc_list_new(b, &ls));
	ASSERT_OK(shmc_dict_new(b, &d));
	ASSERT_OK(shmc_queue_new(b, 0, &q));
	ASSERT_OK(shmc_list_append(ls, shmc_ref(d)));
	shmc_value_t held; /* a value owning a handle of its own */
	ASSERT_OK(shmc_list_get(ls, 0, &held));
	cr_assert_eq(held.type, SHMC_REF);
	shmc_value_t pl = shmc_plist_of(2, shmc_ref(q), shmc_int(1));
	cr_assert_eq(pl.type, SHMC_LIST);
	shmc_dict_iter_t *it; /* an iterator holds a reference of its own */
	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_ITEMS, &it));
	shmc_arena_close(b);
	shmc_value_t item = shmc_none();
	ASSERT_ERR(shmc_dict_iter_next(it, &item), SHMC_EHANDLE);
	cr_assert_eq(item.type, SHMC_NONE);
	shmc_dict_iter_free(it);
	expect_dead(ls);
	expect_dead(d);
	expect_dead(q);
	expect_dead(held.ref);
	shmc_obj_release(ls);
	shmc_value_free(&held);
	shmc_value_free(&pl);
	/* The arena handle itself is closed: refused, and closing it again
	 * does nothing. */
	shmc_obj_t *h = NULL;
	ASSERT_ERR(shmc_list_new(b, &h), SHMC_EHANDLE);
	ASSERT_ERR(shmc_arena_reclaim(b), SHMC_EHANDLE);
	shmc_arena_stats_t st;
	ASSERT_ERR(shmc_arena_stats(b, &st), SHMC_EHANDLE);
	ASSERT_ERR(shmc_arena_check(b, 0, NULL, NULL, NULL), SHMC_EHANDLE);
	ASSERT_ERR(shmc_root_find(b, "x", &h), SHMC_EHANDLE);
	cr_assert_null(h);
	shmc_arena_close(b);
}

/* Threads: one releases a handle the others are using. Each call of the
 * others completes or answers SHMC_EHANDLE; once the release is seen,
 * every later call answers SHMC_EHANDLE. */
struct user {
	shmc_obj_t *h;
	_Atomic int *released;
	int done, dead, bad;
};

static void *use(void *p)
{
	struct user *u = p;
	for (int i = 0; i < 200000; i++) {
		bool after = atomic_load(u->released);
		int rc = (i & 1) ? shmc_list_append(u->h, shmc_int(i)) : (int)shmc_list_len(u->h);
		if (rc >= 0 && !after)
			u->done++;
		else if (rc == SHMC_EHANDLE)
			u->dead++;
		else
			u->bad++; /* a success after the release was seen, or an error */
		if (after && u->dead > 100)
			break;
	}
	return NULL;
}

Test(handles, threads_using_a_handle_another_releases_complete_or_get_ehandle)
{
	/* Not the leak-checked fixture: the threads' records keep their retire
	 * queues for the next threads (see A thread's record in shmc.h). */
	shmc_arena_t *a = test_arena(64 << 20);
	shmc_obj_t *ls, *keep;
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_obj_dup(ls, &keep)); /* the object lives on */
	_Atomic int released = 0;
	struct user u[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		u[i] = (struct user){ls, &released, 0, 0, 0};
		cr_assert_eq(pthread_create(&t[i], NULL, use, &u[i]), 0);
	}
	/* Wait until each has made calls (an event, not a time). */
	double end = now_s() + TEST_DEADLINE;
	while (shmc_list_len(keep) < 300 && now_s() < end)
		usleep(100); /* a poll interval */
	shmc_obj_release(ls);
	atomic_store(&released, 1);
	int done = 0, dead = 0;
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(u[i].bad, 0, "thread %d: %d calls neither completed nor refused", i,
			     u[i].bad);
		done += u[i].done;
		dead += u[i].dead;
	}
	cr_assert_gt(done, 0);
	cr_assert_gt(dead, 0);
	cr_assert_geq(shmc_list_len(keep), 150);
	shmc_obj_release(keep);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(a, 0, &rep, print_finding, NULL));
	cr_assert_eq(rep.leaked_blocks + rep.leaked_refs, 0);
	shmc_arena_close(a);
}

/* References and handles of different arenas ---------------------------- */

/* Two arenas made alike hold their objects at the same offsets. */
Test(handles, a_stored_reference_equals_a_handle_only_of_its_own_arena)
{
	shmc_arena_t *a = test_arena(SHMC_MIN_CAPACITY), *b = test_arena(SHMC_MIN_CAPACITY);
	shmc_obj_t *la, *xa, *lb, *xb;
	ASSERT_OK(shmc_list_new(a, &la));
	ASSERT_OK(shmc_list_new(a, &xa));
	ASSERT_OK(shmc_list_new(b, &lb));
	ASSERT_OK(shmc_list_new(b, &xb));
	char *ra, *rb;
	ASSERT_OK(shmc_obj_repr(xa, &ra));
	ASSERT_OK(shmc_obj_repr(xb, &rb));
	cr_assert_str_eq(ra, rb, "the objects should sit at the same offset");
	shmc_free(ra);
	shmc_free(rb);
	ASSERT_OK(shmc_list_append(la, shmc_ref(xa)));
	/* What == says... */
	cr_assert_not(shmc_value_eq(shmc_ref(xa), shmc_ref(xb)));
	cr_assert(shmc_value_eq(shmc_ref(xa), shmc_ref(xa)));
	/* ...index, remove, count and compare-and-set say too. */
	ASSERT_ERR(shmc_list_index(la, shmc_ref(xb)), SHMC_EINDEX);
	ASSERT_ERR(shmc_list_remove(la, shmc_ref(xb)), SHMC_EINDEX);
	ASSERT_ERR(shmc_list_cas(la, 0, shmc_ref(xb), shmc_int(1)), 0);
	cr_assert_eq(shmc_list_index(la, shmc_ref(xa)), 0);
	shmc_value_t got;
	ASSERT_OK(shmc_list_get(la, 0, &got));
	cr_assert(shmc_value_eq(got, shmc_ref(xa)));
	cr_assert_not(shmc_value_eq(got, shmc_ref(xb)));
	shmc_value_free(&got);
	/* Nested in a plain value, the same. */
	shmc_value_t ta = shmc_tuple_of(1, shmc_ref(xa)), tb = shmc_tuple_of(1, shmc_ref(xb));
	ASSERT_OK(shmc_list_append(la, ta));
	ASSERT_ERR(shmc_list_index(la, tb), SHMC_EINDEX);
	cr_assert_eq(shmc_list_index(la, ta), 1);
	shmc_value_free(&ta);
	shmc_value_free(&tb);
	shmc_obj_release(la);
	shmc_obj_release(xa);
	shmc_obj_release(lb);
	shmc_obj_release(xb);
	shmc_arena_close(a);
	shmc_arena_close(b);
}

Test(handles, two_attachments_of_one_arena_have_foreign_handles, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "twice");
	shmc_arena_t *a = test_named_arena(name, SHMC_MIN_CAPACITY), *b;
	ASSERT_OK(shmc_arena_open(name, &b));
	shmc_obj_t *ls, *x, *lsb, *xb;
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_list_new(a, &x));
	ASSERT_OK(shmc_list_append(ls, shmc_ref(x)));
	ASSERT_OK(shmc_root_setdefault(a, "ls", ls, &lsb));
	shmc_obj_release(lsb);
	ASSERT_OK(shmc_root_find(b, "ls", &lsb));
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(lsb, 0, &v));
	xb = v.ref;
	/* Through B, the reference is B's handle; A's handle is foreign. */
	cr_assert_eq(shmc_list_index(lsb, shmc_ref(xb)), 0);
	ASSERT_ERR(shmc_list_index(lsb, shmc_ref(x)), SHMC_EINDEX);
	cr_assert_not(shmc_value_eq(shmc_ref(x), shmc_ref(xb)));
	ASSERT_ERR(shmc_list_append(lsb, shmc_ref(x)), SHMC_EARENA);
	shmc_value_free(&v);
	shmc_obj_release(lsb);
	shmc_obj_release(ls);
	shmc_obj_release(x);
	shmc_arena_close(b);
	shmc_arena_close(a);
}

/* Compare-and-set checks DESIRED first ------------------------------------- */

#define VIEW_OF_NULL ((shmc_value_t){SHMC_STR, 0, 0, 3, {.str = NULL}})

Test(handles, cas_checks_desired_even_when_the_values_differ, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_arena_t *b = test_arena(SHMC_MIN_CAPACITY);
	shmc_obj_t *ns, *ls, *d, *other;
	ASSERT_OK(shmc_list_new(b, &other));
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_int(1)));
	const struct {
		shmc_value_t desired;
		int rc;
	} bad[] = {
		{VIEW_OF_NULL, -EINVAL},
		{shmc_strn("\xff", 1), -EILSEQ},
		{shmc_ref(other), SHMC_EARENA},
		{shmc_ref(NULL), SHMC_EHANDLE},
		{{SHMC_ERROR, 0, 0, 0, {.i = -ENOMEM}}, -ENOMEM},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* 999 is not what is there: the values differ. */
		ASSERT_ERR(shmc_namespace_cas(ns, "x", shmc_int(999), bad[i].desired), bad[i].rc);
		ASSERT_ERR(shmc_list_cas(ls, 0, shmc_int(999), bad[i].desired), bad[i].rc);
		ASSERT_ERR(shmc_dict_cas(d, shmc_int(1), shmc_int(999), bad[i].desired), bad[i].rc);
		/* Equal: the same answer, and nothing stored. */
		ASSERT_ERR(shmc_namespace_cas(ns, "x", shmc_int(1), bad[i].desired), bad[i].rc);
	}
	expect_str(ns, "Namespace(x=1)");
	expect_str(ls, "[1]");
	expect_str(d, "{1: 1}");
	/* A good DESIRED still needs the values equal. */
	ASSERT_ERR(shmc_namespace_cas(ns, "x", shmc_int(999), shmc_str("y")), 0);
	ASSERT_ERR(shmc_namespace_cas(ns, "x", shmc_int(1), shmc_str("y")), 1);
	expect_str(ns, "Namespace(x='y')");
	shmc_obj_release(ns);
	shmc_obj_release(ls);
	shmc_obj_release(d);
	shmc_obj_release(other);
	shmc_arena_close(b);
}

/* The kinds merged later: the Manager's Value and the Pool --------------- */

/* Every mvalue call on the dead handle H is SHMC_EHANDLE, writing nothing. */
static void expect_dead_mvalue(shmc_obj_t *h)
{
	expect_dead(h);
	shmc_value_t v = shmc_none();
	shmc_obj_t *o = NULL;
	ASSERT_ERR(shmc_mvalue_get(h, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_mvalue_set(h, shmc_int(2)), SHMC_EHANDLE);
	ASSERT_ERR(shmc_mvalue_add(h, shmc_int(1), &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_mvalue_cas(h, shmc_int(7), shmc_int(8)), SHMC_EHANDLE);
	ASSERT_ERR(shmc_mvalue_update(h, NULL, NULL), -EINVAL); /* FN first */
	ASSERT_ERR(shmc_mvalue_typecode(h, &v), SHMC_EHANDLE);
	cr_assert_eq(v.type, SHMC_NONE);
	/* As an argument: stored, or as the object of another call. */
	ASSERT_ERR(shmc_mvalue_new(shmc_obj_arena(h), "i", shmc_int(1), &o), SHMC_EHANDLE);
	cr_assert_null(o);
}

static int update_keep(shmc_value_t *v, void *ctx)
{
	(void)v;
	(void)ctx;
	return 0;
}

Test(handles, a_released_or_twice_released_mvalue_is_ehandle, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *h, *keep;
	ASSERT_OK(shmc_mvalue_new(A, "i", shmc_str("kept"), &h));
	ASSERT_OK(shmc_obj_dup(h, &keep));
	shmc_obj_release(h);
	expect_dead_mvalue(h);
	ASSERT_ERR(shmc_mvalue_update(h, update_keep, NULL), SHMC_EHANDLE);
	shmc_obj_release(h); /* again: would drop the object's last reference */
	shmc_obj_release(h);
	cr_assert_eq(shmc_obj_kind(keep), SHMC_KIND_MVALUE);
	expect_str(keep, "Value('i', 'kept')");
	shmc_obj_release(keep); /* now it goes: the fixture checks nothing leaked */
	expect_dead_mvalue(keep);
}

Test(handles, an_mvalue_of_a_closed_arena_is_ehandle)
{
	shmc_arena_t *b = test_arena(SHMC_MIN_CAPACITY);
	shmc_obj_t *h;
	ASSERT_OK(shmc_mvalue_new(b, "d", shmc_float(0.5), &h));
	shmc_arena_close(b);
	expect_dead_mvalue(h);
	shmc_obj_release(h);
}

static int sqr(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)ctx;
	*res = shmc_int(arg.i * arg.i);
	return 0;
}

/* Every pool call on the dead pool handle P, result R and iterator IT is
 * SHMC_EHANDLE, submitting and writing nothing. */
static void expect_dead_pool(shmc_obj_t *p, shmc_obj_t *r, shmc_obj_t *it)
{
	expect_dead(p);
	expect_dead(r);
	expect_dead(it);
	shmc_task_t t = shmc_task_named("sqr");
	shmc_value_t v = shmc_none(), items = shmc_plist_of(1, shmc_int(2));
	shmc_obj_t *o = NULL;
	ASSERT_ERR(shmc_pool_apply_async(p, t, shmc_int(2), &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_apply(p, t, shmc_int(2), &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_map_async(p, t, items, 0, &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_map(p, t, items, 0, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_starmap_async(p, t, items, 0, &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_starmap(p, t, items, 0, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_imap(p, t, items, 0, &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_imap_unordered(p, t, items, 0, &o), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_close(p), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_terminate(p), SHMC_EHANDLE);
	ASSERT_ERR(shmc_pool_join(p, 0), SHMC_EHANDLE);
	ASSERT_ERR(shmc_async_result_get(r, 0, &v), SHMC_EHANDLE);
	ASSERT_ERR(shmc_async_result_wait(r, 0), SHMC_EHANDLE);
	ASSERT_ERR(shmc_async_result_ready(r), SHMC_EHANDLE);
	ASSERT_ERR(shmc_async_result_successful(r), SHMC_EHANDLE);
	ASSERT_ERR(shmc_iterator_next(it, 0, &v), SHMC_EHANDLE);
	cr_assert_null(o);
	cr_assert_eq(v.type, SHMC_NONE);
	shmc_value_free(&items);
}

Test(handles, released_or_twice_released_pool_result_and_iterator_are_ehandle,
     .init = arena_setup, .fini = arena_teardown)
{
	ASSERT_OK(shmc_pool_register("sqr", sqr, NULL));
	shmc_obj_t *p, *r, *it, *kp, *kr, *kit;
	ASSERT_OK(shmc_pool_new(A, 1, NULL, &p));
	shmc_value_t items = shmc_plist_of(2, shmc_int(1), shmc_int(2));
	ASSERT_OK(shmc_pool_apply_async(p, shmc_task_named("sqr"), shmc_int(3), &r));
	ASSERT_OK(shmc_pool_imap(p, shmc_task_named("sqr"), items, 1, &it));
	ASSERT_OK(shmc_obj_dup(p, &kp));
	ASSERT_OK(shmc_obj_dup(r, &kr));
	ASSERT_OK(shmc_obj_dup(it, &kit));
	for (int i = 0; i < 3; i++) { /* released, then twice, thrice: nothing more */
		shmc_obj_release(p);
		shmc_obj_release(r);
		shmc_obj_release(it);
		expect_dead_pool(p, r, it);
	}
	/* The other handles, and the objects, are untouched. */
	cr_assert_eq(shmc_obj_kind(kp), SHMC_KIND_POOL);
	shmc_value_t v;
	ASSERT_OK(shmc_async_result_get(kr, TEST_DEADLINE, &v));
	cr_assert(v.type == SHMC_INT && v.i == 9);
	for (int64_t i = 1; i <= 2; i++) {
		cr_assert_eq(shmc_iterator_next(kit, TEST_DEADLINE, &v), 1);
		cr_assert(v.type == SHMC_INT && v.i == i * i);
	}
	cr_assert_eq(shmc_iterator_next(kit, TEST_DEADLINE, &v), 0);
	ASSERT_OK(shmc_pool_apply(kp, shmc_task_named("sqr"), shmc_int(4), &v));
	cr_assert_eq(v.i, 16);
	ASSERT_OK(shmc_pool_close(kp));
	ASSERT_OK(shmc_pool_join(kp, TEST_DEADLINE));
	shmc_obj_release(kr);
	shmc_obj_release(kit);
	shmc_obj_release(kp);
	expect_dead_pool(kp, kr, kit);
	shmc_value_free(&items);
}

Test(handles, a_joined_pool_of_a_closed_arena_is_ehandle)
{
	shmc_arena_t *b = test_arena(SHMC_MIN_CAPACITY);
	ASSERT_OK(shmc_pool_register("sqr", sqr, NULL));
	shmc_obj_t *p, *r, *it;
	shmc_value_t items = shmc_plist_of(1, shmc_int(2));
	ASSERT_OK(shmc_pool_new(b, 1, NULL, &p));
	ASSERT_OK(shmc_pool_apply_async(p, shmc_task_named("sqr"), shmc_int(3), &r));
	ASSERT_OK(shmc_pool_imap(p, shmc_task_named("sqr"), items, 1, &it));
	ASSERT_OK(shmc_pool_close(p));
	ASSERT_OK(shmc_pool_join(p, TEST_DEADLINE));
	shmc_arena_close(b);
	expect_dead_pool(p, r, it);
	shmc_obj_release(p);
	shmc_obj_release(r);
	shmc_obj_release(it);
	shmc_value_free(&items);
}

/* A default through a dead handle is refused even when it would not be
 * used, as a view of NULL is: nothing popped. */
Test(handles, a_default_through_a_released_handle_is_ehandle_and_pops_nothing,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d, *dead;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_int(2)));
	ASSERT_OK(shmc_list_new(A, &dead));
	shmc_obj_release(dead);
	shmc_value_t pd = shmc_pdict_of(1, shmc_int(1), shmc_int(2)), v = shmc_none();
	shmc_value_t err = {SHMC_ERROR, 0, 0, 0, {.i = -ENOMEM}};
	for (int present = 1; present >= 0; present--) {
		shmc_value_t key = shmc_int(present ? 1 : 9);
		ASSERT_ERR(shmc_dict_get_default(d, key, shmc_ref(dead), &v), SHMC_EHANDLE);
		ASSERT_ERR(shmc_dict_pop_default(d, key, shmc_ref(dead), &v), SHMC_EHANDLE);
		ASSERT_ERR(shmc_dict_pop_default(d, key, shmc_ref(dead), NULL), SHMC_EHANDLE);
		ASSERT_ERR(shmc_pdict_pop_or(&pd, key, shmc_ref(dead), &v), SHMC_EHANDLE);
		ASSERT_ERR(shmc_pdict_pop_or(&pd, key, err, &v), -ENOMEM);
		ASSERT_ERR(shmc_pdict_pop_or(&pd, key, VIEW_OF_NULL, &v), -EINVAL);
		cr_assert_eq(v.type, SHMC_NONE);
		expect_str(d, "{1: 2}");
		expect_repr(pd, "{1: 2}");
	}
	shmc_value_free(&pd);
	shmc_obj_release(d);
}
