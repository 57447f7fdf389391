/*
 * test_depth.c -- the nesting limit is exact everywhere: a value nesting
 * 512 containers (lists, tuples, dicts) is stored, read back, copied,
 * compared, found, checked, printed (alone, and inside the managed list,
 * dict or namespace that holds it) and dumped by a view; one nesting 513 is
 * refused with SHMC_EDEPTH by every call that can say so, and equals
 * nothing.
 */
#include <criterion/criterion.h>

#include "testutil.h"

TestSuite(depth, .timeout = 120);

#define LIMIT 512

/* N containers of kind K ('l' list, 't' tuple, 'd' dict {0: ...}) around
 * the int 1: [[...[1]...]]. */
static shmc_value_t nest(int n, char k)
{
	shmc_value_t v = shmc_int(1);
	for (int i = 0; i < n; i++)
		v = k == 'l' ? shmc_plist_of(1, v)
		  : k == 't' ? shmc_tuple_of(1, v)
			     : shmc_pdict_of(1, shmc_int(0), v);
	cr_assert_neq(v.type, SHMC_ERROR, "building %d deep: %s", n, shmc_errname((int)v.i));
	return v;
}

/* What Python prints for nest(N, K). */
static char *python_text(int n, char k)
{
	const char *open = k == 'l' ? "[" : k == 't' ? "(" : "{0: ";
	const char *close = k == 'l' ? "]" : k == 't' ? ",)" : "}";
	size_t len = (size_t)n * (strlen(open) + strlen(close)) + 2;
	char *s = malloc(len), *p = s;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s", open);
	p += sprintf(p, "1");
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s", close);
	return s;
}

static void check_kind(char k)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "depth");
	shmc_arena_t *a = test_named_arena(name, 64 << 20);
	arena_warm(a);
	shmc_obj_t *dir; /* the directory of names exists before the baseline */
	ASSERT_OK(shmc_root_find_or_create(a, "tmp", SHMC_KIND_LIST, &dir));
	ASSERT_OK(shmc_root_remove(a, "tmp"));
	shmc_obj_release(dir);
	size_t base = arena_in_use(a);
	shmc_value_t ok = nest(LIMIT, k), deep = nest(LIMIT + 1, k);
	char *want = python_text(LIMIT, k), *s;

	/* Printing. */
	ASSERT_OK(shmc_value_repr(ok, &s));
	cr_assert_str_eq(s, want);
	shmc_free(s);
	ASSERT_OK(shmc_value_str(ok, &s));
	shmc_free(s);
	FILE *null = fopen("/dev/null", "w");
	ASSERT_OK(shmc_value_print(ok, null));
	ASSERT_ERR(shmc_value_repr(deep, &s), SHMC_EDEPTH);
	ASSERT_ERR(shmc_value_str(deep, &s), SHMC_EDEPTH);
	ASSERT_ERR(shmc_value_print(deep, null), SHMC_EDEPTH);

	/* Copying and comparing. */
	shmc_value_t c;
	ASSERT_OK(shmc_value_copy(ok, &c));
	cr_assert(shmc_value_eq(ok, c));
	shmc_value_free(&c);
	ASSERT_ERR(shmc_value_copy(deep, &c), SHMC_EDEPTH);
	cr_assert_not(shmc_value_eq(deep, deep), "a value too deep equals nothing");

	/* Storing, in every container, and reading back. */
	shmc_obj_t *ns, *ls, *d, *q;
	ASSERT_OK(shmc_namespace_new(a, &ns));
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_dict_new(a, &d));
	ASSERT_OK(shmc_queue_new(a, 0, &q));
	ASSERT_OK(shmc_namespace_set(ns, "x", ok));
	ASSERT_OK(shmc_list_append(ls, ok));
	ASSERT_OK(shmc_dict_set(d, shmc_int(0), ok));
	ASSERT_OK(shmc_queue_put(q, ok, SHMC_NOWAIT));
	ASSERT_ERR(shmc_namespace_set(ns, "y", deep), SHMC_EDEPTH);
	ASSERT_ERR(shmc_list_append(ls, deep), SHMC_EDEPTH);
	ASSERT_ERR(shmc_list_set(ls, 0, deep), SHMC_EDEPTH);
	ASSERT_ERR(shmc_dict_set(d, shmc_int(1), deep), SHMC_EDEPTH);
	ASSERT_ERR(shmc_queue_put(q, deep, SHMC_NOWAIT), SHMC_EDEPTH);
	ASSERT_ERR(shmc_namespace_cas(ns, "x", ok, deep), SHMC_EDEPTH);
	shmc_value_t items = shmc_plist_of(2, nest(LIMIT, k), nest(LIMIT + 1, k));
	shmc_obj_t *none = NULL;
	ASSERT_ERR(shmc_list_new_from(a, items, &none), SHMC_EDEPTH);
	ASSERT_ERR(shmc_list_extend(ls, items), SHMC_EDEPTH);
	cr_assert_null(none);
	shmc_value_free(&items);
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_get(ns, "x", &v));
	cr_assert(shmc_value_eq(v, ok));
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_get(ls, 0, &v));
	cr_assert(shmc_value_eq(v, ok));
	shmc_value_free(&v);
	ASSERT_OK(shmc_dict_get(d, shmc_int(0), &v));
	cr_assert(shmc_value_eq(v, ok));
	shmc_value_free(&v);
	ASSERT_OK(shmc_queue_get(q, SHMC_NOWAIT, &v));
	cr_assert(shmc_value_eq(v, ok));
	shmc_value_free(&v);
	/* Compared where it lies. */
	cr_assert_eq(shmc_list_index(ls, ok), 0);
	ASSERT_ERR(shmc_list_index(ls, deep), SHMC_EINDEX);
	ASSERT_ERR(shmc_namespace_cas(ns, "x", ok, shmc_int(2)), 1);
	ASSERT_OK(shmc_namespace_set(ns, "x", ok));

	/* The holders print it, one level deeper than it nests. */
	char *holder = malloc(strlen(want) + 32);
	sprintf(holder, "[%s]", want);
	expect_str(ls, holder);
	sprintf(holder, "{0: %s}", want);
	expect_str(d, holder);
	sprintf(holder, "Namespace(x=%s)", want);
	expect_str(ns, holder);

	/* The arena check walks it, and a view dumps it. */
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(a, 0, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	shmc_obj_t *named;
	ASSERT_OK(shmc_root_setdefault(a, "ls", ls, &named));
	shmc_obj_release(named);
	shmc_view_t *view;
	ASSERT_OK(shmc_view_open(name, &view));
	ASSERT_OK(shmc_view_dump(view, "ls", 0, &s));
	sprintf(holder, "[%s]", want);
	cr_assert_str_eq(s, holder);
	shmc_free(s);
	ASSERT_OK(shmc_view_dump(view, "ls/0", 0, &s));
	cr_assert_str_eq(s, want);
	shmc_free(s);
	ASSERT_OK(shmc_view_dump(view, "ls", SHMC_VIEW_JSON, &s));
	shmc_free(s);
	ASSERT_OK(shmc_view_dump(view, NULL, 0, &s));
	shmc_free(s);
	shmc_view_close(view);
	ASSERT_OK(shmc_arena_check_file(name, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	ASSERT_OK(shmc_root_remove(a, "ls"));

	free(holder);
	fclose(null);
	free(want);
	shmc_value_free(&ok);
	shmc_value_free(&deep);
	shmc_obj_release(ns);
	shmc_obj_release(ls);
	shmc_obj_release(d);
	shmc_obj_release(q);
	arena_leak_check(a, base);
	shmc_arena_close(a);
}

Test(depth, lists_512_deep_work_everywhere_513_are_edepth, .fini = files_cleanup)
{
	check_kind('l');
}

Test(depth, tuples_512_deep_work_everywhere_513_are_edepth, .fini = files_cleanup)
{
	check_kind('t');
}

Test(depth, dicts_512_deep_work_everywhere_513_are_edepth, .fini = files_cleanup)
{
	check_kind('d');
}

/* Keys are hashed: a tuple key 512 deep is a key; 513 deep is refused. */
Test(depth, keys_512_deep_are_keys_513_are_edepth, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	shmc_value_t ok = nest(LIMIT, 't'), deep = nest(LIMIT + 1, 't');
	ASSERT_OK(shmc_dict_set(d, ok, shmc_int(1)));
	cr_assert_eq(shmc_dict_has(d, ok), 1);
	ASSERT_ERR(shmc_dict_set(d, deep, shmc_int(1)), SHMC_EDEPTH);
	ASSERT_ERR(shmc_dict_has(d, deep), SHMC_EDEPTH);
	shmc_value_t pd = shmc_pdict_of(0);
	ASSERT_OK(shmc_pdict_set(&pd, nest(LIMIT, 't'), shmc_int(1)));
	ASSERT_ERR(shmc_pdict_set(&pd, nest(LIMIT + 1, 't'), shmc_int(1)), SHMC_EDEPTH);
	cr_assert_eq(shmc_pdict_len(pd), 1);
	shmc_value_free(&pd);
	shmc_value_free(&ok);
	shmc_value_free(&deep);
	shmc_obj_release(d);
}

/* Python prints the same text for the deepest value (when python3 is
 * there: the expected text above is built, this asks Python itself). */
Test(depth, the_deepest_value_prints_as_python_prints_it)
{
	if (!have_python3())
		cr_skip("python3 is not on PATH");
	char *argv[] = {"python3", "-c",
			"x = 1\nfor _ in range(512): x = [x]\nprint(repr(x), end='')", NULL};
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 1e3));
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s", r.err);
	shmc_value_t v = nest(LIMIT, 'l');
	char *s;
	ASSERT_OK(shmc_value_repr(v, &s));
	cr_assert_str_eq(s, r.out);
	shmc_free(s);
	shmc_value_free(&v);
	run_free(&r);
}
