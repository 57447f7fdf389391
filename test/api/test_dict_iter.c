/*
 * test_dict_iter.c -- live iterators over managed dicts (iter(d), over
 * values and items): CPython's test_dict_iter and Python's other rules
 * (a change of size fails every call after; an entry too many fails once
 * and ends it; exhausted stays exhausted), compared with a live python3
 * Manager; every entry exactly once while the table is rebuilt under the
 * iterator, also by another process; bad arguments; the reference the
 * iterator holds.
 */
#include <criterion/criterion.h>
#include <sched.h>

#include "testutil.h"

TestSuite(dict_iter, .timeout = 120);

/* Python's list(it): the items left, as a repr, or the exception. */
static void print_list(FILE *f, shmc_dict_iter_t *it)
{
	shmc_value_t l = shmc_plist_of(0), v;
	int rc;
	while ((rc = shmc_dict_iter_next(it, &v)) == 1)
		ASSERT_OK(shmc_plist_append(&l, v));
	ASSERT_OK(rc);
	char *s = value_repr(l);
	fprintf(f, "%s", s);
	shmc_free(s);
	shmc_value_free(&l);
}

/* next(it), printed as Python prints it or its exception. */
static void print_next(FILE *f, shmc_dict_iter_t *it)
{
	shmc_value_t v;
	int rc = shmc_dict_iter_next(it, &v);
	if (rc == 1) {
		char *s;
		ASSERT_OK(shmc_value_str(v, &s));
		fprintf(f, "%s", s);
		shmc_free(s);
		shmc_value_free(&v);
	} else if (rc == 0) {
		fprintf(f, "StopIteration ");
	} else {
		cr_assert_eq(rc, SHMC_ECHANGED, "next -> %s", shmc_errname(rc));
		fprintf(f, "RuntimeError %s", "dictionary changed");
	}
}

static const char iter_py[] =
	"from multiprocessing import Manager\n"
	"m = Manager()\n"
	"d = m.dict()\n"
	"for i in range(65, 70):\n"
	"    d[i] = chr(i)\n"
	"it = iter(d)\n"
	"print(list(it), list(it))\n"
	"it = iter(d)\n"
	"d.clear()\n"
	"for _ in range(2):\n"
	"    try:\n"
	"        next(it)\n"
	"    except RuntimeError as x:\n"
	"        print('RuntimeError', x)\n"
	"d.update({'a': 1, 'b': [2], 'c': (3,)})\n"
	"print(list(iter(d.values())), list(iter(d.items())))\n"
	"it = iter(d)\n"
	"print(next(it), next(it))\n"
	"del d['a']\n"
	"d['z'] = 26\n"
	"print(next(it))\n"
	"for _ in range(2):\n"
	"    try:\n"
	"        print(next(it))\n"
	"    except (RuntimeError, StopIteration) as x:\n"
	"        print(type(x).__name__, x)\n"
	"it = iter(d)\n"
	"print(list(it))\n"
	"d['more'] = 1\n"
	"print(list(it))\n";

/* What python3 printed; our RuntimeError lines name the code, whose
 * message is checked separately. */
static const char iter_want[] =
	"[65, 66, 67, 68, 69] []\n"
	"RuntimeError dictionary changed size during iteration\n"
	"RuntimeError dictionary changed size during iteration\n"
	"[1, [2], (3,)] [('a', 1), ('b', [2]), ('c', (3,))]\n"
	"a b\n"
	"c\n"
	"RuntimeError dictionary keys changed during iteration\n"
	"StopIteration \n"
	"['b', 'c', 'z']\n"
	"[]\n";

Test(dict_iter, cpython_test_dict_iter_and_the_rest_match_python, .init = arena_setup,
     .fini = arena_teardown)
{
	char *got;
	size_t len;
	FILE *f = open_memstream(&got, &len);
	shmc_obj_t *d;
	shmc_dict_iter_t *it;
	ASSERT_OK(shmc_dict_new(A, &d));
	for (int i = 65; i < 70; i++) {
		char c[2] = {(char)i, 0};
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_str(c)));
	}
	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_KEYS, &it));
	print_list(f, it);
	fputc(' ', f);
	print_list(f, it); /* exhausted */
	fputc('\n', f);
	shmc_dict_iter_free(it);

	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_KEYS, &it));
	ASSERT_OK(shmc_dict_clear(d));
	shmc_value_t v = shmc_int(-7);
	for (int i = 0; i < 2; i++) { /* sticky */
		ASSERT_ERR(shmc_dict_iter_next(it, &v), SHMC_ECHANGED);
		fprintf(f, "RuntimeError dictionary changed size during iteration\n");
	}
	cr_assert(v.type == SHMC_INT && v.i == -7, "out written on failure");
	shmc_dict_iter_free(it);

	v = shmc_pdict_of(3, shmc_str("a"), shmc_int(1), shmc_str("b"),
			  shmc_plist_of(1, shmc_int(2)), shmc_str("c"),
			  shmc_tuple_of(1, shmc_int(3)));
	ASSERT_OK(shmc_dict_merge(d, v));
	shmc_value_free(&v);
	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_VALUES, &it));
	print_list(f, it);
	shmc_dict_iter_free(it);
	fputc(' ', f);
	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_ITEMS, &it));
	print_list(f, it);
	shmc_dict_iter_free(it);
	fputc('\n', f);

	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_KEYS, &it));
	print_next(f, it);
	fputc(' ', f);
	print_next(f, it);
	fputc('\n', f);
	ASSERT_OK(shmc_dict_del(d, shmc_str("a")));
	ASSERT_OK(shmc_dict_set(d, shmc_str("z"), shmc_int(26)));
	print_next(f, it);
	fputc('\n', f);
	/* An entry more than there were: said once, then exhausted. */
	ASSERT_ERR(shmc_dict_iter_next(it, &v), SHMC_ECHANGED);
	fprintf(f, "RuntimeError dictionary keys changed during iteration\n");
	print_next(f, it);
	fputc('\n', f);
	shmc_dict_iter_free(it);

	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_KEYS, &it));
	print_list(f, it);
	fputc('\n', f);
	ASSERT_OK(shmc_dict_set(d, shmc_str("more"), shmc_int(1)));
	print_list(f, it);
	fputc('\n', f);
	shmc_dict_iter_free(it);
	fclose(f);
	expect_python(got, iter_want, iter_py);
	free(got);
	cr_assert_str_eq(shmc_strerror(SHMC_ECHANGED), "container changed size during iteration");
	cr_assert_str_eq(shmc_errname(SHMC_ECHANGED), "SHMC_ECHANGED");
	cr_assert_str_eq(shmc_python_exception(SHMC_ECHANGED, "shmc_dict_iter_next"),
			 "RuntimeError");
	shmc_obj_release(d);
}

Test(dict_iter, bad_arguments_are_refused, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d, *ls;
	shmc_dict_iter_t *it = NULL;
	shmc_value_t v = shmc_int(-7);
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_ERR(shmc_dict_iter_new(NULL, SHMC_ITER_KEYS, &it), SHMC_EHANDLE);
	ASSERT_ERR(shmc_dict_iter_new(ls, SHMC_ITER_KEYS, &it), SHMC_EKIND);
	ASSERT_ERR(shmc_dict_iter_new(d, 0, &it), -EINVAL);
	ASSERT_ERR(shmc_dict_iter_new(d, (shmc_iter_what_t)4, &it), -EINVAL);
	ASSERT_ERR(shmc_dict_iter_new(d, SHMC_ITER_ITEMS, NULL), -EINVAL);
	cr_assert_null(it);
	ASSERT_ERR(shmc_dict_iter_next(NULL, &v), -EINVAL);
	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_ITEMS, &it));
	ASSERT_ERR(shmc_dict_iter_next(it, NULL), -EINVAL);
	ASSERT_ERR(shmc_dict_iter_next(it, &v), 0); /* empty */
	cr_assert(v.type == SHMC_INT && v.i == -7, "out written at the end");
	shmc_dict_iter_free(it);
	shmc_dict_iter_free(NULL);
	shmc_obj_release(ls);
	shmc_obj_release(d);
}

/* The iterator keeps the dict alive; freeing it lets the dict go. */
Test(dict_iter, holds_a_reference_to_its_dict, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *d;
	shmc_dict_iter_t *it;
	shmc_value_t v;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_str("k"), shmc_str("a value with a block")));
	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_ITEMS, &it));
	shmc_obj_release(d);
	ASSERT_ERR(shmc_dict_iter_next(it, &v), 1);
	expect_repr(v, "('k', 'a value with a block')");
	shmc_value_free(&v);
	ASSERT_ERR(shmc_dict_iter_next(it, &v), 0);
	shmc_dict_iter_free(it); /* the leak check sees the dict gone */
}

/* Merges of keys already there rebuild the table under the iterator, and
 * inserts past its room compact it; with the size kept, the iterator goes
 * on after its last key in the new table: every key exactly once, in
 * order. */
Test(dict_iter, every_entry_once_while_the_table_is_rebuilt, .init = arena_setup,
     .fini = arena_teardown)
{
	enum { N = 1000 };
	shmc_obj_t *d;
	shmc_dict_iter_t *it;
	ASSERT_OK(shmc_dict_new(A, &d));
	for (int i = 0; i < N; i++)
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_int(0)));
	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_ITEMS, &it));
	int64_t next = 0;
	for (int step = 0;; step++) {
		shmc_value_t v;
		int rc = shmc_dict_iter_next(it, &v);
		if (rc == 0)
			break;
		cr_assert_eq(rc, 1, "step %d: %s", step, shmc_errname(rc));
		shmc_value_t *k = shmc_seq_at(v, 0), *val = shmc_seq_at(v, 1);
		cr_assert_eq(k->i, next, "step %d: key %lld, expected %lld", step,
			     (long long)k->i, (long long)next);
		/* A value changed before it is reached is seen changed. */
		cr_assert_eq(val->i, k->i >= 1 && (k->i - 1) % 7 == 3 ? 1 : 0);
		next++;
		shmc_value_free(&v);
		if (step % 7 == 3) { /* rebuilds: a key behind, one ahead */
			shmc_value_t m = shmc_pdict_of(2, shmc_int(step / 2), shmc_int(0),
						       shmc_int(step + 1), shmc_int(1));
			ASSERT_OK(shmc_dict_merge(d, m));
			shmc_value_free(&m);
		}
		if (step % 50 == 0) { /* a key added and deleted: same size */
			ASSERT_OK(shmc_dict_set(d, shmc_str("tmp"), shmc_none()));
			ASSERT_OK(shmc_dict_del(d, shmc_str("tmp")));
		}
	}
	cr_assert_eq(next, N);
	shmc_dict_iter_free(it);
	shmc_obj_release(d);
}

/* The last key given is deleted, and the table compacted away with it
 * while the length is made up: no place to go on from, which is reported
 * as a change of keys (Python would give the new key or skip some). */
Test(dict_iter, last_key_deleted_and_table_rebuilt_is_echanged, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	shmc_dict_iter_t *it;
	shmc_value_t v;
	ASSERT_OK(shmc_dict_new(A, &d));
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_int(i)));
	ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_KEYS, &it));
	ASSERT_ERR(shmc_dict_iter_next(it, &v), 1);
	cr_assert_eq(v.i, 0);
	ASSERT_OK(shmc_dict_del(d, shmc_int(0)));
	/* A merge of a key already there and a new one rebuilds. */
	shmc_value_t m = shmc_pdict_of(2, shmc_int(1), shmc_int(1), shmc_int(9), shmc_int(9));
	ASSERT_OK(shmc_dict_merge(d, m));
	shmc_value_free(&m);
	cr_assert_eq(shmc_dict_len(d), 3);
	ASSERT_ERR(shmc_dict_iter_next(it, &v), SHMC_ECHANGED);
	ASSERT_ERR(shmc_dict_iter_next(it, &v), 0);
	shmc_dict_iter_free(it);
	shmc_obj_release(d);
}

/* Another process rebuilds the table again and again (merges of keys
 * already there, which keep the size) and changes values, while this one
 * iterates: each pass gives every key once, in order, lock-free. */
#define SHARED_N 2000

struct shared {
	shmc_obj_t *d;
	_Atomic int *rebuilds;
};

static int rebuilder(void *arg)
{
	struct shared *c = arg;
	shmc_value_t v;
	for (int r = 1;; r++) {
		if (shmc_dict_get(c->d, shmc_str("stop"), &v) == 0)
			return 0;
		shmc_value_t m = shmc_pdict_of(2, shmc_int(r % SHARED_N), shmc_int(r),
					       shmc_int((r * 7) % SHARED_N), shmc_str("rebuilt"));
		CHILD_OK(shmc_dict_merge(c->d, m));
		shmc_value_free(&m);
		CHILD_OK(shmc_dict_set(c->d, shmc_int((r * 13) % SHARED_N), shmc_int(-r)));
		atomic_fetch_add(c->rebuilds, 1);
	}
}

Test(dict_iter, another_process_rebuilding_the_table_costs_no_entry, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	for (int i = 0; i < SHARED_N; i++)
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_int(0)));
	struct shared c = {d, shared_page(4096)};
	pid_t pid = fork_fn(rebuilder, &c);
	cr_assert(wait_flag(c.rebuilds, 1, TEST_DEADLINE));
	int before = atomic_load(c.rebuilds);
	for (int pass = 0; pass < 40; pass++) {
		shmc_dict_iter_t *it;
		shmc_value_t k;
		int rc;
		int64_t next = 0;
		ASSERT_OK(shmc_dict_iter_new(d, SHMC_ITER_KEYS, &it));
		while ((rc = shmc_dict_iter_next(it, &k)) == 1) {
			cr_assert_eq(k.i, next, "pass %d: key %lld, expected %lld", pass,
				     (long long)k.i, (long long)next);
			next++;
			if (next % 100 == 0)
				sched_yield(); /* varies the interleaving only */
		}
		ASSERT_OK(rc);
		cr_assert_eq(next, SHARED_N, "pass %d: %lld keys", pass, (long long)next);
		shmc_dict_iter_free(it);
	}
	int during = atomic_load(c.rebuilds) - before;
	ASSERT_OK(shmc_dict_set(d, shmc_str("stop"), shmc_none()));
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	cr_log_info("dict_iter: %d rebuilds by the other process during 40 passes", during);
	cr_assert_gt(during, 0);
	munmap((void *)c.rebuilds, 4096);
	shmc_obj_release(d);
}
