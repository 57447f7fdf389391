/*
 * test_sharing.c -- the sharing rules of Python's Manager
 * (shared/reference/README.md), row by row, for the namespace, the list and
 * the dict. Each row: a forked child does the mutation, the parent checks
 * what it sees.
 *
 *   what a child does                                   seen by the parent?
 *   ns.x = v, ls[i] = v, di[k] = v                      yes
 *   ns.x += 1, ls[0] += 1, di[0] += 1 (read, store)     yes
 *   ls[1][0] += 1 where ls[1] is a plain list           no
 *   t = ls[2]; t[0] += 1; ls[2] = t                     yes
 *   ls[3][0] += 1 where ls[3] is a managed list         yes
 *   ns.x.append(10) where ns.x is a plain list          no
 *   a plain list holding a managed list, read out and
 *   changed through that inner managed list             yes
 */
#include <criterion/criterion.h>

#include "testutil.h"

TestSuite(sharing, .timeout = 60);

/* A container of one of the three kinds, holding in its slots 0..5 what
 * manager_example.py puts in each (and two more):
 *   0: 1   1: [1]   2: [1]   3: manager.list([1])
 *   4: [manager.list([1])]   5: {'m': manager.dict()}
 * A slot is an attribute (x, y, z, w, p, q), an index, or an int key. */
enum kind { NS, LS, DI };

struct box {
	enum kind kind;
	shmc_obj_t *o;
	shmc_obj_t *inner3; /* the managed list in slot 3 */
	shmc_obj_t *inner4; /* the managed list inside the plain list in slot 4 */
	shmc_obj_t *inner5; /* the managed dict inside the plain dict in slot 5 */
};

static const char *const attr[] = {"x", "y", "z", "w", "p", "q"};

static int box_get(struct box *b, int slot, shmc_value_t *out)
{
	switch (b->kind) {
	case NS:
		return shmc_namespace_get(b->o, attr[slot], out);
	case LS:
		return shmc_list_get(b->o, slot, out);
	default:
		return shmc_dict_get(b->o, shmc_int(slot), out);
	}
}

static int box_set(struct box *b, int slot, shmc_value_t v)
{
	switch (b->kind) {
	case NS:
		return shmc_namespace_set(b->o, attr[slot], v);
	case LS:
		return shmc_list_set(b->o, slot, v);
	default:
		return shmc_dict_set(b->o, shmc_int(slot), v);
	}
}

static void box_new(enum kind kind, struct box *b)
{
	b->kind = kind;
	ASSERT_OK(kind == NS ? shmc_namespace_new(A, &b->o)
			     : kind == LS ? shmc_list_new(A, &b->o) : shmc_dict_new(A, &b->o));
	shmc_value_t one = shmc_plist_of(1, shmc_int(1));
	ASSERT_OK(shmc_list_new_from(A, one, &b->inner3));
	ASSERT_OK(shmc_list_new_from(A, one, &b->inner4));
	ASSERT_OK(shmc_dict_new(A, &b->inner5));
	shmc_value_t slots[] = {
		shmc_int(1),
		shmc_plist_of(1, shmc_int(1)),
		shmc_plist_of(1, shmc_int(1)),
		shmc_ref(b->inner3),
		shmc_plist_of(1, shmc_ref(b->inner4)),
		shmc_pdict_of(1, shmc_str("m"), shmc_ref(b->inner5)),
	};
	for (int i = 0; i < 6; i++) {
		if (kind == LS)
			ASSERT_OK(shmc_list_append(b->o, slots[i]));
		else
			ASSERT_OK(box_set(b, i, slots[i]));
		shmc_value_free(&slots[i]);
	}
	shmc_value_free(&one);
}

static void box_free(struct box *b)
{
	shmc_obj_release(b->o);
	shmc_obj_release(b->inner3);
	shmc_obj_release(b->inner4);
	shmc_obj_release(b->inner5);
}

/* The parent's view of a slot. */
static void expect_slot(struct box *b, int slot, const char *want)
{
	shmc_value_t v;
	ASSERT_OK(box_get(b, slot, &v));
	char *s = value_repr(v);
	cr_assert_str_eq(s, want, "slot %d of a %s", slot,
			 b->kind == NS ? "namespace" : b->kind == LS ? "list" : "dict");
	shmc_free(s);
	shmc_value_free(&v);
}

/* Run FN in a forked child on B and check that it succeeded. */
static void in_child(int (*fn)(int, void *), struct box *b)
{
	cr_assert_eq(run_children(1, fn, b), 0, "the child failed");
}

/* Slots nothing touched are as they were. */
static void expect_untouched(struct box *b, int except)
{
	const char *orig[] = {"1", "[1]", "[1]", NULL, NULL, NULL};
	for (int i = 0; i < 3; i++)
		if (i != except)
			expect_slot(b, i, orig[i]);
	if (except != 3)
		expect_str(b->inner3, "[1]");
	if (except != 4)
		expect_str(b->inner4, "[1]");
	if (except != 5)
		expect_str(b->inner5, "{}");
}

#define FOR_EACH_KIND(row)                                                     \
	Test(sharing, row##_namespace, .init = arena_setup, .fini = arena_teardown) \
	{                                                                      \
		row(NS);                                                       \
	}                                                                      \
	Test(sharing, row##_list, .init = arena_setup, .fini = arena_teardown) \
	{                                                                      \
		row(LS);                                                       \
	}                                                                      \
	Test(sharing, row##_dict, .init = arena_setup, .fini = arena_teardown) \
	{                                                                      \
		row(DI);                                                       \
	}

/* Row: ns.x = v, ls[i] = v, di[k] = v -- seen. --------------------------- */

static int child_store(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t v = shmc_tuple_of(2, shmc_str("stored"), shmc_float(2.5));
	CHILD_OK(box_set(b, 0, v));
	shmc_value_free(&v);
	return 0;
}

static void store_is_seen(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	in_child(child_store, &b);
	expect_slot(&b, 0, "('stored', 2.5)");
	expect_untouched(&b, 0);
	box_free(&b);
}
FOR_EACH_KIND(store_is_seen)

/* A store that adds an entry (new attribute, append, new key) is seen too. */
static int child_store_new(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	switch (b->kind) {
	case NS:
		CHILD_OK(shmc_namespace_set(b->o, "new", shmc_str("n")));
		break;
	case LS:
		CHILD_OK(shmc_list_append(b->o, shmc_str("n")));
		break;
	default:
		CHILD_OK(shmc_dict_set(b->o, shmc_str("new"), shmc_str("n")));
	}
	return 0;
}

static void new_entry_is_seen(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	in_child(child_store_new, &b);
	shmc_value_t v;
	switch (kind) {
	case NS:
		ASSERT_OK(shmc_namespace_get(b.o, "new", &v));
		break;
	case LS:
		cr_assert_eq(shmc_list_len(b.o), 7);
		ASSERT_OK(shmc_list_get(b.o, 6, &v));
		break;
	default:
		cr_assert_eq(shmc_dict_len(b.o), 7);
		ASSERT_OK(shmc_dict_get(b.o, shmc_str("new"), &v));
	}
	cr_assert(v.type == SHMC_STR && v.len == 1 && v.str[0] == 'n');
	shmc_value_free(&v);
	expect_untouched(&b, -1);
	box_free(&b);
}
FOR_EACH_KIND(new_entry_is_seen)

/* Row: x += 1 (a read, then a store) -- seen. ------------------------------ */

/* Slot 0 += 1: a read, then a store. */
static int child_incr(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t v;
	CHILD_OK(box_get(b, 0, &v));
	CHILD_CHECK(v.type == SHMC_INT);
	CHILD_OK(box_set(b, 0, shmc_int(v.i + 1)));
	return 0;
}

/* Twice, in two children: the second reads what the first stored. */
static void incr_twice_is_seen(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	in_child(child_incr, &b);
	expect_slot(&b, 0, "2");
	in_child(child_incr, &b);
	expect_slot(&b, 0, "3");
	expect_untouched(&b, 0);
	box_free(&b);
}
FOR_EACH_KIND(incr_twice_is_seen)

/* Row: ls[1][0] += 1 on a plain list -- not seen. -------------------------- */

static int child_plain_in_place(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t v;
	CHILD_OK(box_get(b, 1, &v));
	CHILD_CHECK(v.type == SHMC_LIST && shmc_seq_len(v) == 1);
	shmc_seq_at(v, 0)->i += 1;
	/* The child's copy did change... */
	char *s = value_repr(v);
	CHILD_CHECK(strcmp(s, "[2]") == 0);
	shmc_free(s);
	shmc_value_free(&v);
	/* ...and a fresh read in the child shows the shared value. */
	CHILD_OK(box_get(b, 1, &v));
	CHILD_CHECK(shmc_seq_at(v, 0)->i == 1);
	shmc_value_free(&v);
	return 0;
}

static void plain_in_place_is_not_seen(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	in_child(child_plain_in_place, &b);
	expect_slot(&b, 1, "[1]");
	expect_untouched(&b, -1);
	box_free(&b);
}
FOR_EACH_KIND(plain_in_place_is_not_seen)

/* Row: t = ls[2]; t[0] += 1; ls[2] = t -- seen. ---------------------------- */

static int child_plain_write_back(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t t;
	CHILD_OK(box_get(b, 2, &t));
	CHILD_CHECK(t.type == SHMC_LIST && shmc_seq_len(t) == 1);
	shmc_seq_at(t, 0)->i += 1;
	CHILD_OK(box_set(b, 2, t));
	shmc_value_free(&t);
	return 0;
}

static void plain_write_back_is_seen(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	/* A copy the parent took before: private, so it stays as it was. */
	shmc_value_t before;
	ASSERT_OK(box_get(&b, 2, &before));
	in_child(child_plain_write_back, &b);
	expect_slot(&b, 2, "[2]");
	char *s = value_repr(before);
	cr_assert_str_eq(s, "[1]");
	shmc_free(s);
	shmc_value_free(&before);
	expect_untouched(&b, 2);
	box_free(&b);
}
FOR_EACH_KIND(plain_write_back_is_seen)

/* Row: ls[3][0] += 1 on a nested managed list -- seen. --------------------- */

static int child_managed_nested(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t r, x;
	CHILD_OK(box_get(b, 3, &r));
	CHILD_CHECK(r.type == SHMC_REF && shmc_obj_kind(r.ref) == SHMC_KIND_LIST);
	CHILD_OK(shmc_list_get(r.ref, 0, &x));
	CHILD_OK(shmc_list_set(r.ref, 0, shmc_int(x.i + 1)));
	shmc_value_free(&r);
	return 0;
}

static void managed_nested_is_seen(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	shmc_value_t before;
	ASSERT_OK(box_get(&b, 3, &before));
	in_child(child_managed_nested, &b);
	/* Through the parent's own handle, through a reference read out
	 * before the child ran, and through a fresh read. */
	expect_str(b.inner3, "[2]");
	expect_str(before.ref, "[2]");
	shmc_value_free(&before);
	shmc_value_t r;
	ASSERT_OK(box_get(&b, 3, &r));
	cr_assert_eq(r.type, SHMC_REF);
	cr_assert(shmc_obj_same(r.ref, b.inner3));
	expect_str(r.ref, "[2]");
	shmc_value_free(&r);
	expect_untouched(&b, 3);
	box_free(&b);
}
FOR_EACH_KIND(managed_nested_is_seen)

/* Row: ns.x.append(10) on a plain list -- not seen; stored back -- seen. --- */

static int child_append_lost(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t v;
	CHILD_OK(box_get(b, 1, &v));
	CHILD_OK(shmc_plist_append(&v, shmc_int(10)));
	CHILD_CHECK(shmc_seq_len(v) == 2);
	shmc_value_free(&v);
	return 0;
}

static int child_append_kept(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t v;
	CHILD_OK(box_get(b, 2, &v));
	CHILD_OK(shmc_plist_append(&v, shmc_int(10)));
	CHILD_OK(box_set(b, 2, v));
	shmc_value_free(&v);
	return 0;
}

static void append_to_plain_is_lost_unless_stored(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	in_child(child_append_lost, &b);
	expect_slot(&b, 1, "[1]");
	in_child(child_append_kept, &b);
	expect_slot(&b, 2, "[1, 10]");
	expect_slot(&b, 1, "[1]");
	expect_untouched(&b, 2);
	box_free(&b);
}
FOR_EACH_KIND(append_to_plain_is_lost_unless_stored)

/* append_example.py exactly: ns.x = []; lost -> Namespace(x=[]);
 * kept -> Namespace(x=[10]). */
static int child_ns_lost(int i, void *arg)
{
	(void)i;
	shmc_value_t x;
	CHILD_OK(shmc_namespace_get(arg, "x", &x));
	CHILD_OK(shmc_plist_append(&x, shmc_int(10)));
	shmc_value_free(&x);
	return 0;
}

static int child_ns_kept(int i, void *arg)
{
	(void)i;
	shmc_value_t tmp;
	CHILD_OK(shmc_namespace_get(arg, "x", &tmp));
	CHILD_OK(shmc_plist_append(&tmp, shmc_int(10)));
	CHILD_OK(shmc_namespace_set(arg, "x", tmp));
	shmc_value_free(&tmp);
	return 0;
}

Test(sharing, append_example, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	shmc_value_t empty = shmc_plist_of(0);
	ASSERT_OK(shmc_namespace_set(ns, "x", empty));
	shmc_value_free(&empty);
	cr_assert_eq(run_children(1, child_ns_lost, ns), 0);
	expect_str(ns, "Namespace(x=[])");
	cr_assert_eq(run_children(1, child_ns_kept, ns), 0);
	expect_str(ns, "Namespace(x=[10])");
	shmc_obj_release(ns);
}

/* Row: a plain list holding a managed list, read out and changed through
 * that inner managed list -- seen. ----------------------------------------- */

static int child_through_plain_copy(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t t;
	CHILD_OK(box_get(b, 4, &t));
	CHILD_CHECK(t.type == SHMC_LIST && shmc_seq_len(t) == 1);
	shmc_value_t *inner = shmc_seq_at(t, 0);
	CHILD_CHECK(inner->type == SHMC_REF);
	CHILD_OK(shmc_list_append(inner->ref, shmc_int(5)));
	CHILD_OK(shmc_list_set(inner->ref, 0, shmc_str("changed")));
	/* The copy itself is dropped, never stored back. */
	shmc_value_free(&t);
	return 0;
}

static void inner_managed_through_plain_copy_is_seen(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	shmc_value_t before;
	ASSERT_OK(box_get(&b, 4, &before));
	in_child(child_through_plain_copy, &b);
	expect_str(b.inner4, "['changed', 5]");
	/* The parent's copy, taken before, reaches the same shared list. */
	shmc_value_t *r = shmc_seq_at(before, 0);
	cr_assert_eq(r->type, SHMC_REF);
	cr_assert(shmc_obj_same(r->ref, b.inner4));
	expect_str(r->ref, "['changed', 5]");
	shmc_value_free(&before);
	expect_untouched(&b, 4);
	box_free(&b);
}
FOR_EACH_KIND(inner_managed_through_plain_copy_is_seen)

/* The same through a plain dict holding a managed dict. */
static int child_through_plain_dict(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	shmc_value_t t;
	CHILD_OK(box_get(b, 5, &t));
	shmc_value_t *m = shmc_pdict_get(t, shmc_str("m"));
	CHILD_CHECK(m != NULL && m->type == SHMC_REF);
	CHILD_OK(shmc_dict_set(m->ref, shmc_str("k"), shmc_str("v")));
	/* Also replace the reference in the copy: not seen, as any change to
	 * the plain copy. */
	CHILD_OK(shmc_pdict_set(&t, shmc_str("m"), shmc_int(0)));
	shmc_value_free(&t);
	return 0;
}

static void inner_managed_through_plain_dict_is_seen(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	in_child(child_through_plain_dict, &b);
	expect_str(b.inner5, "{'k': 'v'}");
	shmc_value_t t;
	ASSERT_OK(box_get(&b, 5, &t));
	shmc_value_t *m = shmc_pdict_get(t, shmc_str("m"));
	cr_assert(m != NULL && m->type == SHMC_REF && shmc_obj_same(m->ref, b.inner5));
	shmc_value_free(&t);
	expect_untouched(&b, 5);
	box_free(&b);
}
FOR_EACH_KIND(inner_managed_through_plain_dict_is_seen)

/* manager_example.py's f(), all rows at once, checked against its output
 * ("after" part, but for the addresses). */
static int child_manager_example(int i, void *arg)
{
	(void)i;
	struct box *bs = arg;
	for (int k = 0; k < 3; k++) {
		CHILD_CHECK(child_incr(0, &bs[k]) == 0);
		CHILD_CHECK(child_plain_in_place(0, &bs[k]) == 0);
		CHILD_CHECK(child_plain_write_back(0, &bs[k]) == 0);
		CHILD_CHECK(child_managed_nested(0, &bs[k]) == 0);
	}
	return 0;
}

Test(sharing, all_rows_at_once, .init = arena_setup, .fini = arena_teardown)
{
	struct box bs[3];
	box_new(NS, &bs[0]);
	box_new(LS, &bs[1]);
	box_new(DI, &bs[2]);
	cr_assert_eq(run_children(1, child_manager_example, bs), 0);
	for (int k = 0; k < 3; k++) {
		expect_slot(&bs[k], 0, "2");
		expect_slot(&bs[k], 1, "[1]");
		expect_slot(&bs[k], 2, "[2]");
		expect_str(bs[k].inner3, "[2]");
		expect_str(bs[k].inner4, "[1]");
		expect_str(bs[k].inner5, "{}");
	}
	/* Namespace(x=2, y=[1], z=[2], ...) as manager_example prints it. */
	char *s = obj_str(bs[0].o);
	const char *want = "Namespace(p=[<ListProxy object, typeid 'list' at 0x";
	cr_assert(strncmp(s, want, strlen(want)) == 0, "%s", s);
	cr_assert(strstr(s, ">], q={'m': <DictProxy object, typeid 'dict' at 0x") != NULL, "%s", s);
	cr_assert(strstr(s, ">}, w=<ListProxy object, typeid 'list' at 0x") != NULL, "%s", s);
	cr_assert(strstr(s, ">, x=2, y=[1], z=[2])") != NULL, "%s", s);
	shmc_free(s);
	for (int k = 0; k < 3; k++)
		box_free(&bs[k]);
}

/* x += 1 is a read and a store: it is seen, but two processes doing it at
 * once may lose updates. The atomic form (shmc_*_add) loses none. */
#define ADDERS 4
#define ADDS 2000

static int child_add(int i, void *arg)
{
	(void)i;
	struct box *b = arg;
	for (int k = 0; k < ADDS; k++) {
		switch (b->kind) {
		case NS:
			CHILD_OK(shmc_namespace_add(b->o, "x", shmc_int(1), NULL));
			break;
		case LS:
			CHILD_OK(shmc_list_add(b->o, 0, shmc_int(1), NULL));
			break;
		default:
			CHILD_OK(shmc_dict_add(b->o, shmc_int(0), shmc_int(1), NULL));
		}
	}
	return 0;
}

static void atomic_add_loses_nothing(enum kind kind)
{
	struct box b;
	box_new(kind, &b);
	cr_assert_eq(run_children(ADDERS, child_add, &b), 0);
	char want[32];
	snprintf(want, sizeof(want), "%d", 1 + ADDERS * ADDS);
	expect_slot(&b, 0, want);
	expect_untouched(&b, 0);
	box_free(&b);
}
FOR_EACH_KIND(atomic_add_loses_nothing)
