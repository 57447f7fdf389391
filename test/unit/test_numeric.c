/*
 * test_numeric.c -- Value and Array of C numbers: every typecode, ranges,
 * atomic add and compare-and-set from many processes, printed forms.
 */
#include <criterion/criterion.h>
#include <math.h>

#define SHMC_TEST_WHITEBOX /* inject_until_ok */
#include "testutil.h"

TestSuite(numeric, .timeout = 60);

Test(numeric, every_typecode_holds_its_range, .init = arena_setup, .fini = arena_teardown)
{
	struct {
		char code;
		int64_t min, max;
	} ints[] = {
		{'b', -128, 127}, {'B', 0, 255}, {'h', -32768, 32767}, {'H', 0, 65535},
		{'i', INT32_MIN, INT32_MAX}, {'I', 0, UINT32_MAX}, {'l', INT64_MIN, INT64_MAX},
		{'L', 0, INT64_MAX}, {'q', INT64_MIN, INT64_MAX}, {'Q', 0, INT64_MAX},
	};
	for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
		shmc_obj_t *n;
		shmc_value_t v;
		ASSERT_OK(shmc_cvalue_new(A, ints[k].code, shmc_int(ints[k].min), &n));
		cr_assert_eq(shmc_cvalue_typecode(n), ints[k].code);
		ASSERT_OK(shmc_cvalue_get(n, &v));
		cr_assert(v.type == SHMC_INT && v.i == ints[k].min, "%c", ints[k].code);
		ASSERT_OK(shmc_cvalue_set(n, shmc_int(ints[k].max)));
		ASSERT_OK(shmc_cvalue_get(n, &v));
		cr_assert(v.type == SHMC_INT && v.i == ints[k].max, "%c", ints[k].code);
		if (ints[k].max < INT64_MAX)
			ASSERT_ERR(shmc_cvalue_set(n, shmc_int(ints[k].max + 1)), -ERANGE);
		if (ints[k].min > INT64_MIN)
			ASSERT_ERR(shmc_cvalue_set(n, shmc_int(ints[k].min - 1)), -ERANGE);
		ASSERT_ERR(shmc_cvalue_set(n, shmc_float(1.5)), SHMC_ETYPE);
		ASSERT_ERR(shmc_cvalue_set(n, shmc_str("1")), SHMC_ETYPE);
		ASSERT_OK(shmc_cvalue_get(n, &v));
		cr_assert_eq(v.i, ints[k].max); /* unchanged */
		ASSERT_OK(shmc_cvalue_set(n, shmc_bool(true)));
		ASSERT_OK(shmc_cvalue_get(n, &v));
		cr_assert_eq(v.i, 1);
		shmc_obj_release(n);
	}
	shmc_obj_t *n;
	ASSERT_ERR(shmc_cvalue_new(A, 'x', shmc_int(0), &n), -EINVAL);
	ASSERT_ERR(shmc_cvalue_new(A, 'b', shmc_int(128), &n), -ERANGE);
	ASSERT_ERR(shmc_cvalue_new(A, 'i', shmc_float(1.0), &n), SHMC_ETYPE);
	ASSERT_ERR(shmc_cvalue_new(NULL, 'i', shmc_int(0), &n), SHMC_EHANDLE);
}

Test(numeric, floats_round_to_their_element, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *f, *d;
	shmc_value_t v;
	ASSERT_OK(shmc_cvalue_new(A, 'f', shmc_float(0.1), &f));
	ASSERT_OK(shmc_cvalue_new(A, 'd', shmc_int(3), &d));
	ASSERT_OK(shmc_cvalue_get(f, &v));
	cr_assert(v.type == SHMC_FLOAT && v.f == (double)0.1f);
	expect_str(f, "Value('f', 0.10000000149011612)");
	ASSERT_OK(shmc_cvalue_get(d, &v));
	cr_assert(v.type == SHMC_FLOAT && v.f == 3.0);
	expect_str(d, "Value('d', 3.0)");
	ASSERT_OK(shmc_cvalue_set(f, shmc_float(1e300)));
	ASSERT_OK(shmc_cvalue_get(f, &v));
	cr_assert(isinf(v.f) && v.f > 0);
	expect_str(f, "Value('f', inf)");
	ASSERT_OK(shmc_cvalue_set(d, shmc_float(NAN)));
	expect_str(d, "Value('d', nan)");
	cr_assert_eq(shmc_cvalue_cas(d, shmc_float(NAN), shmc_float(1)), 0); /* nan != nan */
	char *s;
	ASSERT_OK(shmc_obj_repr(d, &s));
	cr_assert(strncmp(s, "<ValueProxy object, typeid 'Value' at 0x", 40) == 0, "%s", s);
	shmc_free(s);
	shmc_obj_release(f);
	shmc_obj_release(d);
}

Test(numeric, add_and_cas_follow_python, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *b, *d;
	shmc_value_t r;
	ASSERT_OK(shmc_cvalue_new(A, 'b', shmc_int(120), &b));
	ASSERT_OK(shmc_cvalue_add(b, shmc_int(7), &r));
	cr_assert(r.type == SHMC_INT && r.i == 127);
	ASSERT_ERR(shmc_cvalue_add(b, shmc_int(1), &r), -ERANGE);
	ASSERT_ERR(shmc_cvalue_add(b, shmc_float(1), &r), SHMC_ETYPE);
	ASSERT_OK(shmc_cvalue_add(b, shmc_int(-255), NULL));
	expect_str(b, "Value('b', -128)");
	cr_assert_eq(shmc_cvalue_cas(b, shmc_int(-128), shmc_int(5)), 1);
	cr_assert_eq(shmc_cvalue_cas(b, shmc_int(-128), shmc_int(6)), 0);
	cr_assert_eq(shmc_cvalue_cas(b, shmc_float(5.0), shmc_int(7)), 1); /* 5 == 5.0 */
	ASSERT_ERR(shmc_cvalue_cas(b, shmc_int(7), shmc_int(1000)), -ERANGE);
	expect_str(b, "Value('b', 7)");
	ASSERT_OK(shmc_cvalue_new(A, 'd', shmc_float(1.5), &d));
	ASSERT_OK(shmc_cvalue_add(d, shmc_int(2), &r));
	cr_assert(r.type == SHMC_FLOAT && r.f == 3.5);
	ASSERT_OK(shmc_cvalue_add(d, shmc_float(0.25), &r));
	cr_assert_eq(r.f, 3.75);
	cr_assert_eq(shmc_cvalue_cas(d, shmc_float(3.75), shmc_int(1)), 1);
	cr_assert_eq(shmc_cvalue_cas(d, shmc_bool(true), shmc_float(2.5)), 1); /* 1.0 == True */
	expect_str(d, "Value('d', 2.5)");
	shmc_obj_t *l;
	ASSERT_OK(shmc_list_new(A, &l));
	ASSERT_ERR(shmc_cvalue_add(l, shmc_int(1), &r), SHMC_EKIND);
	ASSERT_ERR(shmc_cvalue_get(l, &r), SHMC_EKIND);
	shmc_obj_release(l);
	shmc_obj_release(b);
	shmc_obj_release(d);
}

Test(numeric, arrays_index_like_python_and_print_like_array, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *a, *e, *z, *f;
	shmc_value_t v, init = shmc_plist_of(3, shmc_int(1), shmc_int(2), shmc_int(3));
	ASSERT_OK(shmc_array_new(A, 'i', init, &a));
	shmc_value_free(&init);
	char *s;
	ASSERT_OK(shmc_obj_repr(a, &s));
	cr_assert(strncmp(s, "<ArrayProxy object, typeid 'Array' at 0x", 40) == 0, "%s", s);
	shmc_free(s);
	expect_str(a, "array('i', [1, 2, 3])");
	cr_assert_eq(shmc_array_len(a), 3);
	cr_assert_eq(shmc_array_typecode(a), 'i');
	ASSERT_OK(shmc_array_get(a, -1, &v));
	cr_assert_eq(v.i, 3);
	ASSERT_OK(shmc_array_set(a, -3, shmc_int(-7)));
	ASSERT_ERR(shmc_array_get(a, 3, &v), SHMC_EINDEX);
	ASSERT_ERR(shmc_array_set(a, -4, shmc_int(0)), SHMC_EINDEX);
	ASSERT_ERR(shmc_array_set(a, 0, shmc_float(0.5)), SHMC_ETYPE);
	ASSERT_OK(shmc_array_add(a, 1, shmc_int(40), &v));
	cr_assert_eq(v.i, 42);
	cr_assert_eq(shmc_array_cas(a, 2, shmc_int(3), shmc_int(4)), 1);
	ASSERT_OK(shmc_array_copy(a, &v));
	s = value_repr(v);
	cr_assert_str_eq(s, "[-7, 42, 4]");
	shmc_free(s);
	shmc_value_free(&v);
	init = shmc_tuple_of(0);
	ASSERT_OK(shmc_array_new(A, 'd', init, &e));
	shmc_value_free(&init);
	expect_str(e, "array('d')");
	cr_assert_eq(shmc_array_len(e), 0);
	ASSERT_ERR(shmc_array_get(e, 0, &v), SHMC_EINDEX);
	ASSERT_OK(shmc_array_new(A, 'H', shmc_int(4), &z));
	expect_str(z, "array('H', [0, 0, 0, 0])");
	init = shmc_tuple_of(2, shmc_float(0.1), shmc_int(2));
	ASSERT_OK(shmc_array_new(A, 'f', init, &f));
	shmc_value_free(&init);
	expect_str(f, "array('f', [0.10000000149011612, 2.0])");
	init = shmc_tuple_of(2, shmc_int(1), shmc_int(300));
	ASSERT_ERR(shmc_array_new(A, 'B', init, &z), -ERANGE);
	shmc_value_free(&init);
	ASSERT_ERR(shmc_array_new(A, 'B', shmc_str("ab"), &z), SHMC_ETYPE);
	ASSERT_ERR(shmc_array_new(A, 'B', shmc_int(-1), &z), -EINVAL);
	ASSERT_ERR(shmc_array_new(A, 'z', shmc_int(1), &z), -EINVAL);
	shmc_obj_release(f);
	shmc_obj_release(a);
	shmc_obj_release(e);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	shmc_obj_release(z);
}

static int new_array(void *out)
{
	return shmc_array_new(A, 'd', shmc_int(100), out);
}

Test(numeric, a_failed_allocation_changes_nothing, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *a;
	int nfail;
	ASSERT_OK(inject_until_ok(A, new_array, &a, &nfail));
	cr_assert_geq(nfail, 2); /* its elements, itself */
	cr_assert_eq(shmc_array_len(a), 100);
	shmc_obj_release(a);
}

/* Many processes add at once: nothing lost. */
#define ADDS 20000

struct nums {
	shmc_obj_t *q, *d, *arr, *casv;
};

static int adder(int i, void *p)
{
	struct nums *n = p;
	for (int k = 0; k < ADDS; k++) {
		CHILD_OK(shmc_cvalue_add(n->q, shmc_int(1), NULL));
		CHILD_OK(shmc_cvalue_add(n->d, shmc_float(0.5), NULL));
		CHILD_OK(shmc_array_add(n->arr, 0, shmc_int(1), NULL));      /* shared */
		CHILD_OK(shmc_array_add(n->arr, 1 + i, shmc_int(1), NULL));  /* own */
		if (k % 4 == 0) {
			for (;;) { /* increment by compare-and-set */
				shmc_value_t v;
				CHILD_OK(shmc_cvalue_get(n->casv, &v));
				int rc = shmc_cvalue_cas(n->casv, v, shmc_int(v.i + 1));
				CHILD_OK(rc);
				if (rc == 1)
					break;
			}
		}
	}
	return 0;
}

Test(numeric, eight_processes_add_atomically_without_losing_one, .init = arena_setup,
     .fini = arena_teardown)
{
	struct nums n;
	ASSERT_OK(shmc_cvalue_new(A, 'q', shmc_int(0), &n.q));
	ASSERT_OK(shmc_cvalue_new(A, 'd', shmc_int(0), &n.d));
	ASSERT_OK(shmc_array_new(A, 'i', shmc_int(9), &n.arr));
	ASSERT_OK(shmc_cvalue_new(A, 'i', shmc_int(0), &n.casv));
	double t0 = now_s();
	cr_assert_eq(run_children(8, adder, &n), 0);
	double took = now_s() - t0;
	shmc_value_t v;
	ASSERT_OK(shmc_cvalue_get(n.q, &v));
	cr_assert_eq(v.i, 8 * ADDS);
	ASSERT_OK(shmc_cvalue_get(n.d, &v));
	cr_assert_eq(v.f, 8 * ADDS * 0.5);
	ASSERT_OK(shmc_array_get(n.arr, 0, &v));
	cr_assert_eq(v.i, 8 * ADDS);
	for (int i = 1; i <= 8; i++) {
		ASSERT_OK(shmc_array_get(n.arr, i, &v));
		cr_assert_eq(v.i, ADDS);
	}
	ASSERT_OK(shmc_cvalue_get(n.casv, &v));
	cr_assert_eq(v.i, 8 * (ADDS / 4));
	fprintf(stderr, "numeric: 8 processes x %d rounds of 4 atomic adds (+ a CAS loop "
		"every 4th): %.3f s\n", ADDS, took);
	shmc_obj_release(n.q);
	shmc_obj_release(n.d);
	shmc_obj_release(n.arr);
	shmc_obj_release(n.casv);
}

static int use_value_from_namespace(void *p)
{
	shmc_value_t v;
	CHILD_OK(shmc_namespace_get(p, "counter", &v));
	CHILD_CHECK(v.type == SHMC_REF && shmc_obj_kind(v.ref) == SHMC_KIND_CVALUE);
	CHILD_OK(shmc_cvalue_add(v.ref, shmc_int(41), NULL));
	shmc_value_free(&v);
	return 0;
}

Test(numeric, a_value_in_a_namespace_is_shared_by_reference, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ns, *n;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_cvalue_new(A, 'i', shmc_int(1), &n));
	ASSERT_OK(shmc_namespace_set(ns, "counter", shmc_ref(n)));
	char *s = obj_str(ns);
	const char *want = "Namespace(counter=<ValueProxy object, typeid 'Value' at 0x";
	cr_assert(strncmp(s, want, strlen(want)) == 0, "%s", s);
	shmc_free(s);
	cr_assert_eq(wait_exit(fork_fn(use_value_from_namespace, ns), TEST_DEADLINE), 0);
	expect_str(n, "Value('i', 42)");
	shmc_obj_release(n);
	shmc_obj_release(ns);
}
