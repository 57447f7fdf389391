/*
 * test_mvalue.c -- the Manager's Value (shmc_mvalue_*): any value under a
 * typecode that is only a label, printed as a live python3 Manager prints
 * it; get, set and the atomic add, compare-and-set and update, also from
 * many processes at once; a managed object inside shared by reference;
 * errors; failure injection over every call that allocates; its kind
 * beside the C-typed Value's.
 */
#include <criterion/criterion.h>

#define SHMC_TEST_WHITEBOX /* inject_until_ok */
#include "testutil.h"

TestSuite(mvalue, .timeout = 120);

static const char print_py[] =
	"from multiprocessing import Manager\n"
	"m = Manager()\n"
	"for v in [m.Value('f', 0.1), m.Value('i', 'text'), m.Value('i', [1, 'a']),\n"
	"          m.Value(\"it's\", None), m.Value('d', True), m.Value('d', (1,)),\n"
	"          m.Value('d', {1: 2}), m.Value('q', 2**62), m.Value('', b'x\\x00'),\n"
	"          m.Value('c', -0.0), m.Value('\\u00e9', '\\u00e9')]:\n"
	"    print(v)\n"
	"v = m.Value('i', 1)\n"
	"v.set(v.get() + 1)\n"
	"print(v.get(), v.value, v)\n"
	"v.value = 'now a str'\n"
	"print(v, repr(v)[:40])\n";

static const char print_want[] =
	"Value('f', 0.1)\n"
	"Value('i', 'text')\n"
	"Value('i', [1, 'a'])\n"
	"Value(\"it's\", None)\n"
	"Value('d', True)\n"
	"Value('d', (1,))\n"
	"Value('d', {1: 2})\n"
	"Value('q', 4611686018427387904)\n"
	"Value('', b'x\\x00')\n"
	"Value('c', -0.0)\n"
	"Value('\xc3\xa9', '\xc3\xa9')\n"
	"2 2 Value('i', 2)\n"
	"Value('i', 'now a str') <ValueProxy object, typeid 'Value' at 0x\n";

static void print_obj(FILE *f, shmc_obj_t *o, const char *end)
{
	char *s = obj_str(o);
	fprintf(f, "%s%s", s, end);
	shmc_free(s);
}

Test(mvalue, every_kind_of_value_prints_as_python, .init = arena_setup,
     .fini = arena_teardown)
{
	char *got;
	size_t len;
	FILE *f = open_memstream(&got, &len);
	struct {
		const char *code;
		shmc_value_t v;
	} t[] = {
		{"f", shmc_float(0.1)},
		{"i", shmc_str("text")},
		{"i", shmc_plist_of(2, shmc_int(1), shmc_str("a"))},
		{"it's", shmc_none()},
		{"d", shmc_bool(true)},
		{"d", shmc_tuple_of(1, shmc_int(1))},
		{"d", shmc_pdict_of(1, shmc_int(1), shmc_int(2))},
		{"q", shmc_int((int64_t)1 << 62)},
		{"", shmc_bytes("x\0", 2)},
		{"c", shmc_float(-0.0)},
		{"\xc3\xa9", shmc_str("\xc3\xa9")},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		shmc_obj_t *v;
		shmc_value_t back, code;
		ASSERT_OK(shmc_mvalue_new(A, t[i].code, t[i].v, &v));
		cr_assert_eq(shmc_obj_kind(v), SHMC_KIND_MVALUE);
		print_obj(f, v, "\n");
		ASSERT_OK(shmc_mvalue_get(v, &back));
		cr_assert(shmc_value_eq(back, t[i].v), "value %zu comes back changed", i);
		shmc_value_free(&back);
		ASSERT_OK(shmc_mvalue_typecode(v, &code));
		cr_assert(code.type == SHMC_STR && code.len == strlen(t[i].code) &&
			  memcmp(code.str, t[i].code, code.len) == 0);
		shmc_value_free(&code);
		shmc_value_free(&t[i].v);
		shmc_obj_release(v);
	}
	shmc_obj_t *v;
	shmc_value_t x;
	ASSERT_OK(shmc_mvalue_new(A, "i", shmc_int(1), &v));
	ASSERT_OK(shmc_mvalue_get(v, &x));
	ASSERT_OK(shmc_mvalue_set(v, shmc_int(x.i + 1)));
	ASSERT_OK(shmc_mvalue_get(v, &x));
	fprintf(f, "%lld %lld ", (long long)x.i, (long long)x.i);
	print_obj(f, v, "\n");
	ASSERT_OK(shmc_mvalue_set(v, shmc_str("now a str")));
	print_obj(f, v, " ");
	char *r;
	ASSERT_OK(shmc_obj_repr(v, &r));
	fprintf(f, "%.40s\n", r);
	shmc_free(r);
	fclose(f);
	expect_python(got, print_want, print_py);
	free(got);
	shmc_obj_release(v);
}

static int append_x(shmc_value_t *v, void *ctx)
{
	(void)ctx;
	if (v->type != SHMC_STR)
		return SHMC_ETYPE;
	char *buf = malloc(v->len + 2);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, v->str, v->len);
	buf[v->len] = 'x';
	shmc_value_t n;
	int rc = shmc_value_copy(shmc_strn(buf, v->len + 1), &n);
	free(buf);
	if (rc == 0) {
		shmc_value_free(v);
		*v = n;
	}
	return rc;
}

Test(mvalue, add_cas_update_and_their_errors, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *v, *l;
	shmc_value_t r = shmc_int(-7);
	ASSERT_OK(shmc_mvalue_new(A, "i", shmc_int(40), &v));
	ASSERT_OK(shmc_mvalue_add(v, shmc_int(2), &r));
	expect_repr(r, "42");
	ASSERT_OK(shmc_mvalue_add(v, shmc_float(0.5), NULL));
	expect_str(v, "Value('i', 42.5)"); /* the typecode is a label only */
	ASSERT_ERR(shmc_mvalue_add(v, shmc_str("s"), &r), SHMC_ETYPE);
	ASSERT_ERR(shmc_mvalue_cas(v, shmc_int(42), shmc_int(0)), 0);
	ASSERT_ERR(shmc_mvalue_cas(v, shmc_float(42.5), shmc_str("")), 1);
	ASSERT_OK(shmc_mvalue_update(v, append_x, NULL));
	ASSERT_OK(shmc_mvalue_update(v, append_x, NULL));
	expect_str(v, "Value('i', 'xx')");
	ASSERT_ERR(shmc_mvalue_add(v, shmc_int(1), &r), SHMC_ETYPE);
	ASSERT_ERR(shmc_mvalue_update(v, NULL, NULL), -EINVAL);
	ASSERT_OK(shmc_mvalue_set(v, shmc_int(INT64_MAX)));
	ASSERT_OK(shmc_mvalue_add(v, shmc_int(1), &r)); /* past int64: a big int, as Python */
	expect_repr(r, "9223372036854775808");
	shmc_value_free(&r);
	expect_str(v, "Value('i', 9223372036854775808)");
	ASSERT_OK(shmc_mvalue_set(v, shmc_int(INT64_MAX)));
	r = shmc_int(42);
	ASSERT_ERR(shmc_mvalue_add(v, shmc_str("s"), &r), SHMC_ETYPE);
	expect_repr(r, "42"); /* out written only on success */
	expect_str(v, "Value('i', 9223372036854775807)");
	/* Bad arguments change nothing. */
	shmc_value_t bad = shmc_plist_of(1, shmc_strn("\xff", 1));
	ASSERT_ERR(shmc_mvalue_set(v, bad), -EILSEQ);
	ASSERT_ERR(shmc_mvalue_cas(v, shmc_int(INT64_MAX), bad), -EILSEQ);
	shmc_value_free(&bad);
	shmc_value_t err = shmc_tuple_of(1, shmc_strn("x", (size_t)SHMC_MAX_LEN + 1));
	ASSERT_ERR(shmc_mvalue_set(v, err), -EOVERFLOW);
	expect_str(v, "Value('i', 9223372036854775807)");
	shmc_obj_t *x = NULL;
	ASSERT_ERR(shmc_mvalue_new(A, NULL, shmc_int(1), &x), -EINVAL);
	ASSERT_ERR(shmc_mvalue_new(A, "\xff", shmc_int(1), &x), -EILSEQ);
	ASSERT_ERR(shmc_mvalue_new(A, "i", err, &x), -EOVERFLOW);
	ASSERT_ERR(shmc_mvalue_new(NULL, "i", shmc_int(1), &x), SHMC_EHANDLE);
	ASSERT_ERR(shmc_mvalue_new(A, "i", shmc_int(1), NULL), SHMC_EHANDLE);
	cr_assert_null(x);
	ASSERT_ERR(shmc_mvalue_get(v, NULL), -EINVAL);
	ASSERT_OK(shmc_lock_new(A, &l));
	ASSERT_ERR(shmc_mvalue_get(l, &r), SHMC_EKIND);
	ASSERT_ERR(shmc_mvalue_set(l, shmc_int(1)), SHMC_EKIND);
	ASSERT_ERR(shmc_mvalue_add(NULL, shmc_int(1), &r), SHMC_EHANDLE);
	ASSERT_ERR(shmc_mvalue_typecode(l, &r), SHMC_EKIND);
	/* A C-typed Value is another kind. */
	shmc_obj_t *c;
	ASSERT_OK(shmc_cvalue_new(A, 'i', shmc_int(1), &c));
	cr_assert_eq(shmc_obj_kind(c), SHMC_KIND_CVALUE);
	ASSERT_ERR(shmc_mvalue_get(c, &r), SHMC_EKIND);
	ASSERT_ERR(shmc_cvalue_get(v, &r), SHMC_EKIND);
	shmc_obj_release(c);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	shmc_obj_release(l);
	shmc_obj_release(v);
}

/* Python's Value() needs arguments: no Value is made by name, but one made
 * is named and found. (An arena of its own: the directory of names stays.) */
Test(mvalue, named_only_once_made)
{
	shmc_arena_t *a = test_arena(16 << 20);
	shmc_obj_t *v, *x = NULL, *y;
	ASSERT_OK(shmc_mvalue_new(a, "i", shmc_int(1), &v));
	ASSERT_ERR(shmc_root_find_or_create(a, "v", SHMC_KIND_MVALUE, &x), -EINVAL);
	cr_assert_null(x);
	ASSERT_OK(shmc_root_setdefault(a, "v", v, &x));
	cr_assert(shmc_obj_same(x, v));
	ASSERT_OK(shmc_root_find_or_create(a, "v", SHMC_KIND_MVALUE, &y));
	cr_assert(shmc_obj_same(y, v));
	ASSERT_ERR(shmc_root_find_or_create(a, "v", SHMC_KIND_CVALUE, &y), SHMC_EKIND);
	shmc_obj_release(x);
	shmc_obj_release(y);
	shmc_obj_release(v);
	shmc_arena_close(a);
}

/* Eight processes add 10 000 each, and append to a str by update: none is
 * lost. */
#define PROCS 8
#define ADDS 10000

static int adder(int i, void *p)
{
	shmc_obj_t **v = p;
	for (int k = 0; k < ADDS; k++) {
		CHILD_OK(shmc_mvalue_add(v[0], shmc_int(1), NULL));
		if (k % 100 == i)
			CHILD_OK(shmc_mvalue_update(v[1], append_x, NULL));
	}
	return 0;
}

Test(mvalue, eight_processes_update_atomically_without_losing_one, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *v[2];
	ASSERT_OK(shmc_mvalue_new(A, "i", shmc_int(0), &v[0]));
	ASSERT_OK(shmc_mvalue_new(A, "u", shmc_str(""), &v[1]));
	double t0 = now_s();
	cr_assert_eq(run_children(PROCS, adder, v), 0);
	double took = now_s() - t0;
	shmc_value_t x;
	ASSERT_OK(shmc_mvalue_get(v[0], &x));
	cr_assert_eq(x.i, PROCS * ADDS);
	ASSERT_OK(shmc_mvalue_get(v[1], &x));
	cr_assert_eq(x.len, PROCS * (ADDS / 100));
	shmc_value_free(&x);
	cr_log_info("mvalue: %d processes x %d adds: %.3f s", PROCS, ADDS, took);
	shmc_obj_release(v[0]);
	shmc_obj_release(v[1]);
}

/* A managed object inside is shared by reference, as in any container. */
static int append_through_value(void *p)
{
	shmc_obj_t *v = p;
	shmc_value_t x;
	CHILD_OK(shmc_mvalue_get(v, &x));
	CHILD_CHECK(x.type == SHMC_REF && shmc_obj_kind(x.ref) == SHMC_KIND_LIST);
	CHILD_OK(shmc_list_append(x.ref, shmc_str("from the child")));
	shmc_value_free(&x);
	return 0;
}

Test(mvalue, a_managed_object_inside_is_shared_by_reference, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *l, *v;
	ASSERT_OK(shmc_list_new(A, &l));
	ASSERT_OK(shmc_mvalue_new(A, "L", shmc_ref(l), &v));
	shmc_obj_release(l);
	cr_assert_eq(wait_exit(fork_fn(append_through_value, v), TEST_DEADLINE), 0);
	shmc_value_t x;
	ASSERT_OK(shmc_mvalue_get(v, &x));
	expect_str(x.ref, "['from the child']");
	shmc_value_free(&x);
	char *s = obj_str(v);
	cr_assert(strncmp(s, "Value('L', <ListProxy object, typeid 'list' at 0x", 49) == 0,
		  "%s", s);
	shmc_free(s);
	ASSERT_OK(shmc_mvalue_set(v, shmc_none())); /* the list goes */
	shmc_obj_release(v);
}

/* Failure injection: each allocation of new and set in turn. */
struct op {
	shmc_obj_t *v;
	shmc_value_t arg;
};

static int do_new(void *p)
{
	struct op *c = p;
	return shmc_mvalue_new(A, "a typecode label", c->arg, &c->v);
}

static int do_set(void *p)
{
	struct op *c = p;
	return shmc_mvalue_set(c->v, c->arg);
}

static int do_add(void *p)
{
	struct op *c = p;
	return shmc_mvalue_add(c->v, c->arg, NULL);
}

static int do_update(void *p)
{
	struct op *c = p;
	return shmc_mvalue_update(c->v, append_x, NULL);
}

Test(mvalue, failed_allocations_change_nothing, .init = arena_setup, .fini = arena_teardown)
{
	struct op c = {NULL, shmc_str("a value that needs a block of its own")};
	int nfail;
	ASSERT_OK(inject_until_ok(A, do_new, &c, &nfail));
	cr_assert_geq(nfail, 3, "%d", nfail); /* the label, the value, the object */
	expect_str(c.v, "Value('a typecode label', 'a value that needs a block of its own')");
	c.arg = shmc_str("another value, with a block");
	ASSERT_OK(inject_until_ok(A, do_set, &c, &nfail));
	cr_assert_geq(nfail, 1);
	expect_str(c.v, "Value('a typecode label', 'another value, with a block')");
	ASSERT_OK(inject_until_ok(A, do_update, &c, &nfail));
	cr_assert_geq(nfail, 1);
	expect_str(c.v, "Value('a typecode label', 'another value, with a blockx')");
	ASSERT_OK(shmc_mvalue_set(c.v, shmc_float(1.5)));
	c.arg = shmc_float(1.0);
	ASSERT_OK(inject_until_ok(A, do_add, &c, &nfail));
	cr_assert_geq(nfail, 1); /* a float is a block */
	expect_str(c.v, "Value('a typecode label', 2.5)");
	shmc_obj_release(c.v);
}
