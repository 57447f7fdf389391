/*
 * test_save.c -- shmc_arena_save and shmc_arena_load: a round trip of every
 * kind of object, with nested managed objects shared and in cycles, and
 * plain values of every type; saves while other processes write; saves
 * killed at random points; every refusal of a bad file, with nothing
 * created; one file loaded twice.
 *
 * Loaded objects are compared with the originals structurally: the same
 * kinds and contents, references mapped one to one (an object reached twice
 * in the original is one object, reached twice, in the copy).
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "testutil.h"

TestSuite(save, .timeout = 120);

static char save_path[128], tmp_glob[128];
static char nm1[128], nm1_path[256], nm2[128], nm2_path[256];

static void names_drop(shmc_arena_t *a);

static void save_setup(void)
{
	crash_cleanup_install();
	arena_setup();
	/* The directory of names lives as long as the arena: make it, as
	 * large as the tests make it, before the leak baseline. */
	for (int i = 0; i < 32; i++) {
		char n[16];
		shmc_obj_t *h;
		snprintf(n, sizeof(n), "warm%d", i);
		if (shmc_root_find_or_create(A, n, SHMC_KIND_LOCK, &h))
			abort();
		shmc_obj_release(h);
	}
	names_drop(A);
	A_base = arena_in_use(A);
	snprintf(save_path, sizeof(save_path), "/tmp/shmc-test-%d-save.bin", (int)getpid());
	snprintf(tmp_glob, sizeof(tmp_glob), "shmc-test-%d-save.bin.tmp.", (int)getpid());
	unlink(save_path);
	track(save_path);
	unique_name(nm1, sizeof(nm1), nm1_path, sizeof(nm1_path), "load1");
	unique_name(nm2, sizeof(nm2), nm2_path, sizeof(nm2_path), "load2");
}

static void save_teardown(void)
{
	arena_teardown();
	files_cleanup();
}

/* Structural comparison ------------------------------------------------------ */

struct pairs {
	shmc_ident_t a[256], b[256];
	int n;
};

static bool same_obj(shmc_obj_t *a, shmc_obj_t *b, struct pairs *m);

static bool same_value(shmc_value_t a, shmc_value_t b, struct pairs *m)
{
	if (a.type != b.type)
		return false;
	switch (a.type) {
	case SHMC_REF:
		return same_obj(a.ref, b.ref, m);
	case SHMC_TUPLE:
	case SHMC_LIST:
		if (shmc_seq_len(a) != shmc_seq_len(b))
			return false;
		for (size_t i = 0; i < shmc_seq_len(a); i++)
			if (!same_value(*shmc_seq_at(a, (int64_t)i), *shmc_seq_at(b, (int64_t)i), m))
				return false;
		return true;
	case SHMC_DICT:
		if (shmc_pdict_len(a) != shmc_pdict_len(b))
			return false;
		for (size_t i = 0; i < shmc_pdict_len(a); i++) {
			shmc_value_t *ka, *va, *kb, *vb;
			if (shmc_pdict_entry(a, i, &ka, &va) || shmc_pdict_entry(b, i, &kb, &vb) ||
			    !same_value(*ka, *kb, m) || !same_value(*va, *vb, m))
				return false;
		}
		return true;
	default:
		return shmc_value_eq(a, b);
	}
}

/* Compare what two calls made, then free both. */
static bool same_made(int ra, shmc_value_t a, int rb, shmc_value_t b, struct pairs *m)
{
	bool ok = ra == 0 && rb == 0 && same_value(a, b, m);
	if (ra == 0)
		shmc_value_free(&a);
	if (rb == 0)
		shmc_value_free(&b);
	return ok;
}

static bool same_obj(shmc_obj_t *a, shmc_obj_t *b, struct pairs *m)
{
	shmc_ident_t ia, ib;
	if (shmc_obj_ident(a, &ia) || shmc_obj_ident(b, &ib))
		return false;
	for (int i = 0; i < m->n; i++) {
		bool ma = m->a[i].offset == ia.offset && m->a[i].id == ia.id;
		bool mb = m->b[i].offset == ib.offset && m->b[i].id == ib.id;
		if (ma || mb) /* one to one */
			return ma && mb;
	}
	cr_assert(m->n < 256);
	m->a[m->n] = ia;
	m->b[m->n++] = ib;
	shmc_kind_t k = shmc_obj_kind(a);
	if (k != shmc_obj_kind(b))
		return false;
	shmc_value_t va = shmc_none(), vb = shmc_none();
	int ra, rb;
	switch (k) {
	case SHMC_KIND_NAMESPACE: {
		if (shmc_namespace_names(a, &va) || shmc_namespace_names(b, &vb))
			return false;
		bool ok = shmc_value_eq(va, vb);
		for (size_t i = 0; ok && i < shmc_seq_len(va); i++) {
			const char *n = shmc_seq_at(va, (int64_t)i)->str;
			shmc_value_t x, y;
			ra = shmc_namespace_get(a, n, &x);
			rb = shmc_namespace_get(b, n, &y);
			ok = same_made(ra, x, rb, y, m);
		}
		shmc_value_free(&va);
		shmc_value_free(&vb);
		return ok;
	}
	case SHMC_KIND_LIST:
		ra = shmc_list_copy(a, &va);
		rb = shmc_list_copy(b, &vb);
		return same_made(ra, va, rb, vb, m);
	case SHMC_KIND_DICT:
		ra = shmc_dict_copy(a, &va);
		rb = shmc_dict_copy(b, &vb);
		return same_made(ra, va, rb, vb, m);
	case SHMC_KIND_MVALUE:
		ra = shmc_mvalue_typecode(a, &va);
		rb = shmc_mvalue_typecode(b, &vb);
		if (!same_made(ra, va, rb, vb, m))
			return false;
		ra = shmc_mvalue_get(a, &va);
		rb = shmc_mvalue_get(b, &vb);
		return same_made(ra, va, rb, vb, m);
	case SHMC_KIND_CVALUE:
		ra = shmc_cvalue_get(a, &va);
		rb = shmc_cvalue_get(b, &vb);
		return shmc_cvalue_typecode(a) == shmc_cvalue_typecode(b) &&
		       same_made(ra, va, rb, vb, m);
	case SHMC_KIND_ARRAY:
		ra = shmc_array_copy(a, &va);
		rb = shmc_array_copy(b, &vb);
		return shmc_array_typecode(a) == shmc_array_typecode(b) &&
		       same_made(ra, va, rb, vb, m);
	case SHMC_KIND_QUEUE:
	case SHMC_KIND_JOINABLE_QUEUE:
		return shmc_queue_qsize(a) == shmc_queue_qsize(b);
	case SHMC_KIND_BARRIER:
		return shmc_barrier_parties(a) == shmc_barrier_parties(b);
	case SHMC_KIND_CONDITION: {
		shmc_obj_t *la, *lb;
		if (shmc_condition_lock(a, &la) || shmc_condition_lock(b, &lb))
			return false;
		bool ok = same_obj(la, lb, m);
		shmc_obj_release(la);
		shmc_obj_release(lb);
		return ok;
	}
	default:
		return true; /* locks, semaphores, events: checked by the tests */
	}
}

/* Every named object of A and B the same, the names too. */
static void expect_same_arena(shmc_arena_t *a, shmc_arena_t *b, struct pairs *m)
{
	shmc_value_t na, nb;
	ASSERT_OK(shmc_root_names(a, &na));
	ASSERT_OK(shmc_root_names(b, &nb));
	cr_assert(shmc_value_eq(na, nb), "the names differ");
	for (size_t i = 0; i < shmc_seq_len(na); i++) {
		const char *n = shmc_seq_at(na, (int64_t)i)->str;
		shmc_obj_t *x, *y;
		ASSERT_OK(shmc_root_find(a, n, &x));
		ASSERT_OK(shmc_root_find(b, n, &y));
		cr_assert(same_obj(x, y, m), "object %s differs", n);
		shmc_obj_release(x);
		shmc_obj_release(y);
	}
	shmc_value_free(&na);
	shmc_value_free(&nb);
}

static void name(shmc_arena_t *a, const char *n, shmc_obj_t *h)
{
	shmc_obj_t *got;
	ASSERT_OK(shmc_root_setdefault(a, n, h, &got));
	shmc_obj_release(got);
}

static shmc_obj_t *find(shmc_arena_t *a, const char *n)
{
	shmc_obj_t *h;
	ASSERT_OK(shmc_root_find(a, n, &h));
	return h;
}

/* A value of every plain type, nested. */
static shmc_value_t every_type(shmc_obj_t *ref)
{
	shmc_value_t big;
	if (shmc_int_from_str("-123456789012345678901234567890", 31, 10, &big))
		abort();
	const unsigned char raw[] = {0, 1, 2, 255};
	return shmc_tuple_of(
		16, shmc_none(), shmc_bool(true), shmc_bool(false), shmc_int(INT64_MIN), big,
		shmc_float(-0.5), shmc_complex(1.5, -2), shmc_str("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"),
		shmc_bytes(raw, sizeof(raw)), shmc_bytearray("ba\0x", 4),
		shmc_plist_of(2, shmc_int(1), shmc_plist_of(1, shmc_str(""))),
		shmc_pdict_of(2, shmc_str("k"), shmc_int(2), shmc_tuple_of(1, shmc_int(3)), shmc_ref(ref)),
		shmc_set_of(3, shmc_int(1), shmc_str("s"), shmc_frozenset_of(1, shmc_int(2))),
		shmc_frozenset_of(2, shmc_float(2.5), shmc_bytes("b", 1)),
		shmc_opaque("\x80\x04K\x01.", 5, "Pickled(1)"), shmc_ref(ref));
}

/* An arena holding every kind; returns nothing, names everything. */
static void fill_every_kind(shmc_arena_t *a)
{
	shmc_obj_t *ns, *ls, *d, *mv, *cv, *arr, *lk, *rl, *sem, *bs, *c1, *c2, *ev, *bar, *q,
		*jq, *inner;
	ASSERT_OK(shmc_namespace_new(a, &ns));
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_dict_new(a, &d));
	ASSERT_OK(shmc_list_new(a, &inner));
	ASSERT_OK(shmc_list_append(inner, shmc_str("inner")));
	shmc_value_t all = every_type(inner);
	cr_assert_neq(all.type, SHMC_ERROR);
	ASSERT_OK(shmc_namespace_set(ns, "all", all));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(7)));
	ASSERT_OK(shmc_namespace_set(ns, "list", shmc_ref(ls)));
	/* The list holds itself, the dict twice, the inner list. */
	ASSERT_OK(shmc_list_append(ls, shmc_ref(d)));
	ASSERT_OK(shmc_list_append(ls, shmc_ref(ls)));
	ASSERT_OK(shmc_list_append(ls, shmc_ref(d)));
	ASSERT_OK(shmc_list_append(ls, all));
	ASSERT_OK(shmc_dict_set(d, shmc_str("back"), shmc_ref(ls)));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_float(1.25)));
	shmc_value_free(&all);
	ASSERT_OK(shmc_mvalue_new(a, "f", shmc_ref(ls), &mv));
	ASSERT_OK(shmc_cvalue_new(a, 'd', shmc_float(3.25), &cv));
	shmc_value_t init = shmc_plist_of(3, shmc_int(1), shmc_int(-2), shmc_int(3));
	ASSERT_OK(shmc_array_new(a, 'i', init, &arr));
	shmc_value_free(&init);
	ASSERT_OK(shmc_lock_new(a, &lk));
	ASSERT_OK(shmc_rlock_new(a, &rl));
	ASSERT_OK(shmc_semaphore_new(a, 3, &sem));
	ASSERT_OK(shmc_bounded_semaphore_new(a, 2, &bs));
	ASSERT_OK(shmc_condition_new(a, lk, &c1));
	ASSERT_OK(shmc_condition_new(a, NULL, &c2));
	ASSERT_OK(shmc_event_new(a, &ev));
	ASSERT_OK(shmc_barrier_new(a, 3, &bar));
	ASSERT_OK(shmc_queue_new(a, 5, &q));
	ASSERT_OK(shmc_joinable_queue_new(a, 0, &jq));
	ASSERT_OK(shmc_queue_put_nowait(q, shmc_int(1)));
	ASSERT_OK(shmc_queue_put_nowait(q, shmc_ref(d)));
	ASSERT_OK(shmc_queue_put_nowait(q, shmc_str("three")));
	ASSERT_OK(shmc_queue_put_nowait(jq, shmc_str("job")));
	ASSERT_OK(shmc_queue_put_nowait(jq, shmc_int(9)));
	/* State the copy does not keep. */
	ASSERT_OK(shmc_lock_acquire(lk, SHMC_NOWAIT));
	ASSERT_OK(shmc_lock_acquire(rl, SHMC_NOWAIT));
	ASSERT_OK(shmc_semaphore_acquire(sem, SHMC_NOWAIT));
	ASSERT_OK(shmc_semaphore_acquire(bs, SHMC_NOWAIT));
	ASSERT_OK(shmc_event_set(ev));
	name(a, "ns", ns);
	name(a, "ls", ls);
	name(a, "d", d);
	name(a, "mv", mv);
	name(a, "cv", cv);
	name(a, "arr", arr);
	name(a, "lock", lk);
	name(a, "rlock", rl);
	name(a, "sem", sem);
	name(a, "bsem", bs);
	name(a, "cond", c1);
	name(a, "cond2", c2);
	name(a, "ev", ev);
	name(a, "bar", bar);
	name(a, "q", q);
	name(a, "jq", jq);
	name(a, "alias", d); /* one object, two names */
	shmc_obj_t *all_h[] = {ns, ls, d, mv, cv, arr, lk, rl, sem, bs, c1, c2, ev, bar, q, jq, inner};
	for (size_t i = 0; i < sizeof(all_h) / sizeof(all_h[0]); i++)
		shmc_obj_release(all_h[i]);
}

static void names_drop(shmc_arena_t *a)
{
	shmc_value_t l;
	ASSERT_OK(shmc_root_names(a, &l));
	for (size_t i = 0; i < shmc_seq_len(l); i++) {
		shmc_obj_t *h = find(a, shmc_seq_at(l, (int64_t)i)->str);
		/* Cycles are not collected: break them. */
		if (shmc_obj_kind(h) == SHMC_KIND_LIST)
			ASSERT_OK(shmc_list_clear(h));
		if (shmc_obj_kind(h) == SHMC_KIND_DICT)
			ASSERT_OK(shmc_dict_clear(h));
		shmc_obj_release(h);
		ASSERT_OK(shmc_root_remove(a, shmc_seq_at(l, (int64_t)i)->str));
	}
	shmc_value_free(&l);
}

/* Fill A with every kind, after one fill and drop that sizes the
 * directory of names (which lives as long as the arena, and keeps the size
 * its history gave it) before the leak baseline. */
static void fill_rebased(void)
{
	fill_every_kind(A);
	shmc_obj_t *lk = find(A, "lock"), *rl = find(A, "rlock");
	ASSERT_OK(shmc_lock_release(lk));
	ASSERT_OK(shmc_lock_release(rl));
	shmc_obj_release(lk);
	shmc_obj_release(rl);
	names_drop(A);
	A_base = arena_in_use(A);
	fill_every_kind(A);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Temporary files of the save file left in /tmp. */
static int temps_left(void)
{
	DIR *d = opendir("/tmp");
	cr_assert(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, tmp_glob, strlen(tmp_glob)) == 0;
	closedir(d);
	return n;
}

/* Round trips ----------------------------------------------------------------- */

Test(save, round_trip_of_every_kind_keeps_contents_sharing_and_cycles,
     .init = save_setup, .fini = save_teardown)
{
	fill_rebased();
	size_t before = arena_in_use(A);
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	cr_assert_eq(arena_in_use(A), before, "a save leaves nothing in the arena");
	struct stat st;
	cr_assert(stat(save_path, &st) == 0 && (st.st_mode & 0777) == 0600);

	shmc_arena_t *b;
	ASSERT_OK(shmc_arena_load(save_path, nm1, NULL, &b));
	struct pairs m = {0};
	expect_same_arena(A, b, &m);
	/* Objects: 17 (the inner list reached from ns, ls and q, the dict from
	 * ls twice, q, the names "d" and "alias"; c2's own RLock). */
	cr_assert_eq(m.n, 18, "%d objects", m.n);

	/* Sharing: ls[0] and ls[2] are one dict, ls[1] is ls, alias is d. */
	shmc_obj_t *ls = find(b, "ls"), *d = find(b, "d"), *alias = find(b, "alias");
	shmc_value_t x0, x1, x2;
	ASSERT_OK(shmc_list_get(ls, 0, &x0));
	ASSERT_OK(shmc_list_get(ls, 1, &x1));
	ASSERT_OK(shmc_list_get(ls, 2, &x2));
	cr_assert(shmc_obj_same(x0.ref, x2.ref) && shmc_obj_same(x0.ref, d) &&
		  shmc_obj_same(x1.ref, ls) && shmc_obj_same(alias, d));
	ASSERT_OK(shmc_dict_set(x0.ref, shmc_str("new"), shmc_int(1)));
	cr_assert_eq(shmc_dict_has(alias, shmc_str("new")), 1, "one object, not copies");
	shmc_value_free(&x0);
	shmc_value_free(&x1);
	shmc_value_free(&x2);
	shmc_obj_release(ls);
	shmc_obj_release(d);
	shmc_obj_release(alias);

	/* Every plain type, equal. */
	shmc_obj_t *ns = find(A, "ns"), *ns2 = find(b, "ns");
	shmc_value_t va, vb;
	ASSERT_OK(shmc_namespace_get(ns, "all", &va));
	ASSERT_OK(shmc_namespace_get(ns2, "all", &vb));
	cr_assert_eq(shmc_seq_len(vb), 16);
	for (int i = 0; i < 15; i++)
		if (shmc_seq_at(va, i)->type != SHMC_DICT)
			cr_assert(shmc_value_eq(*shmc_seq_at(va, i), *shmc_seq_at(vb, i)), "item %d", i);
	char *r = NULL;
	ASSERT_OK(shmc_value_repr(*shmc_seq_at(vb, 6), &r));
	cr_assert_str_eq(r, "(1.5-2j)");
	shmc_free(r);
	ASSERT_OK(shmc_value_repr(*shmc_seq_at(vb, 4), &r));
	cr_assert_str_eq(r, "-123456789012345678901234567890");
	shmc_free(r);
	cr_assert_str_eq(shmc_opaque_repr(*shmc_seq_at(vb, 14)), "Pickled(1)");
	shmc_value_free(&va);
	shmc_value_free(&vb);
	shmc_obj_release(ns);
	shmc_obj_release(ns2);

	/* Sync objects: back as their constructors make them. */
	shmc_obj_t *lk = find(b, "lock"), *rl = find(b, "rlock"), *sem = find(b, "sem"),
		   *bs = find(b, "bsem"), *ev = find(b, "ev"), *c1 = find(b, "cond"),
		   *bar = find(b, "bar"), *q = find(b, "q"), *jq = find(b, "jq"), *cl;
	ASSERT_OK(shmc_lock_acquire(lk, SHMC_NOWAIT));
	ASSERT_OK(shmc_lock_release(lk));
	ASSERT_OK(shmc_lock_acquire(rl, SHMC_NOWAIT));
	ASSERT_OK(shmc_lock_release(rl));
	cr_assert_eq(shmc_semaphore_value(sem), 3);
	cr_assert_eq(shmc_semaphore_value(bs), 2);
	ASSERT_ERR(shmc_semaphore_release(bs), SHMC_EBOUND);
	cr_assert_eq(shmc_event_is_set(ev), 0, "an Event comes back clear");
	ASSERT_OK(shmc_condition_lock(c1, &cl));
	cr_assert(shmc_obj_same(cl, lk), "the condition keeps its named lock");
	shmc_obj_release(cl);
	cr_assert_eq(shmc_barrier_parties(bar), 3);
	cr_assert_eq(shmc_barrier_broken(bar), 0);
	cr_assert_eq(shmc_barrier_n_waiting(bar), 0);
	/* Queue items, in order, the maxsize kept. */
	cr_assert_eq(shmc_queue_qsize(q), 3);
	ASSERT_OK(shmc_queue_put_nowait(q, shmc_int(4)));
	ASSERT_OK(shmc_queue_put_nowait(q, shmc_int(5)));
	ASSERT_ERR(shmc_queue_put_nowait(q, shmc_int(6)), SHMC_EQUEUEFULL);
	shmc_value_t it;
	ASSERT_OK(shmc_queue_get_nowait(q, &it));
	cr_assert(it.type == SHMC_INT && it.i == 1);
	ASSERT_OK(shmc_queue_get_nowait(q, &it));
	cr_assert_eq(it.type, SHMC_REF);
	shmc_value_free(&it);
	ASSERT_OK(shmc_queue_get_nowait(q, &it));
	cr_assert(it.type == SHMC_STR && strcmp(it.str, "three") == 0);
	shmc_value_free(&it);
	cr_assert_eq(shmc_queue_qsize(jq), 2);
	ASSERT_OK(shmc_queue_get_nowait(jq, &it));
	shmc_value_free(&it);
	ASSERT_OK(shmc_queue_task_done(jq));
	ASSERT_OK(shmc_queue_get_nowait(jq, &it));
	ASSERT_OK(shmc_queue_task_done(jq));
	ASSERT_OK(shmc_queue_join(jq, SHMC_NOWAIT));
	shmc_obj_t *all[] = {lk, rl, sem, bs, ev, c1, bar, q, jq};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		shmc_obj_release(all[i]);
	shmc_arena_close(b);
	ASSERT_OK(shmc_arena_unlink(nm1));

	/* The originals are unchanged by the save: the lock still held. */
	shmc_obj_t *lk0 = find(A, "lock");
	ASSERT_ERR(shmc_lock_acquire(lk0, SHMC_NOWAIT), -ETIMEDOUT);
	ASSERT_OK(shmc_lock_release(lk0));
	shmc_obj_release(lk0);
	shmc_obj_t *rl0 = find(A, "rlock");
	ASSERT_OK(shmc_lock_release(rl0));
	shmc_obj_release(rl0);
	names_drop(A);
}

Test(save, empty_arena_round_trips, .init = save_setup, .fini = save_teardown)
{
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	shmc_arena_t *b;
	ASSERT_OK(shmc_arena_load(save_path, NULL, NULL, &b));
	shmc_value_t n;
	ASSERT_OK(shmc_root_names(b, &n));
	cr_assert_eq(shmc_seq_len(n), 0);
	shmc_value_free(&n);
	shmc_arena_close(b);
}

Test(save, one_file_loads_twice_under_two_names_independently, .init = save_setup,
     .fini = save_teardown)
{
	fill_rebased();
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	shmc_arena_t *b, *c;
	ASSERT_OK(shmc_arena_load(save_path, nm1, NULL, &b));
	ASSERT_OK(shmc_arena_load(save_path, nm2, NULL, &c));
	ASSERT_ERR(shmc_arena_load(save_path, nm2, NULL, &c), -EEXIST);
	struct pairs m = {0}, m2 = {0};
	expect_same_arena(b, c, &m);
	shmc_obj_t *l1 = find(b, "ls"), *l2 = find(c, "ls");
	ASSERT_OK(shmc_list_append(l1, shmc_int(99)));
	cr_assert_eq(shmc_list_len(l1), shmc_list_len(l2) + 1, "two arenas, not one");
	shmc_obj_release(l1);
	shmc_obj_release(l2);
	shmc_arena_close(b);
	shmc_arena_close(c);
	/* Opened by name from scratch, the copy is still the same. */
	ASSERT_OK(shmc_arena_open(nm2, &c));
	expect_same_arena(A, c, &m2);
	shmc_arena_close(c);
	ASSERT_OK(shmc_arena_unlink(nm1));
	ASSERT_OK(shmc_arena_unlink(nm2));
	shmc_obj_t *lk = find(A, "lock"), *rl = find(A, "rlock");
	ASSERT_OK(shmc_lock_release(lk));
	ASSERT_OK(shmc_lock_release(rl));
	shmc_obj_release(lk);
	shmc_obj_release(rl);
	names_drop(A);
}

Test(save, bad_arguments_are_refused, .init = save_setup, .fini = save_teardown)
{
	shmc_arena_t *b;
	ASSERT_ERR(shmc_arena_save(NULL, save_path, 0), SHMC_EHANDLE);
	ASSERT_ERR(shmc_arena_save(A, NULL, 0), -EINVAL);
	ASSERT_ERR(shmc_arena_save(A, "", 0), -EINVAL);
	ASSERT_ERR(shmc_arena_save(A, "/tmp/", 0), -EINVAL);
	ASSERT_ERR(shmc_arena_save(A, save_path, 0x80), -EINVAL);
	ASSERT_ERR(shmc_arena_save(A, "/nonexistent-dir-shmc/x", 0), -ENOENT);
	cr_assert(!exists(save_path));
	ASSERT_ERR(shmc_arena_load(NULL, nm1, NULL, &b), -EINVAL);
	ASSERT_ERR(shmc_arena_load("", nm1, NULL, &b), -EINVAL);
	ASSERT_ERR(shmc_arena_load(save_path, nm1, NULL, NULL), -EINVAL);
	ASSERT_ERR(shmc_arena_load(save_path, nm1, NULL, &b), -ENOENT);
	ASSERT_ERR(shmc_arena_load("/tmp", nm1, NULL, &b), SHMC_ENOTREG);
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	shmc_arena_options_t bad = {.capacity = 1};
	ASSERT_ERR(shmc_arena_load(save_path, nm1, &bad, &b), -EINVAL);
	cr_assert(!exists(nm1_path));
	cr_assert_str_eq(shmc_errname(SHMC_ECHECKSUM), "SHMC_ECHECKSUM");
	cr_assert_str_eq(shmc_python_exception(SHMC_ECHECKSUM, "shmc_arena_load"), "ValueError");
}

Test(save, a_full_arena_fails_the_load_and_leaves_nothing, .init = save_setup,
     .fini = save_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	static char blob[64 << 10];
	memset(blob, 'x', sizeof(blob));
	for (int i = 0; i < 100; i++) /* 6.4 MB: more than a minimal arena holds */
		ASSERT_OK(shmc_list_append(ls, shmc_bytes(blob, sizeof(blob))));
	name(A, "big", ls);
	shmc_obj_release(ls);
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	shmc_arena_options_t small = {.capacity = SHMC_MIN_CAPACITY};
	shmc_arena_t *b;
	ASSERT_ERR(shmc_arena_load(save_path, nm1, &small, &b), SHMC_EFULL);
	cr_assert(!exists(nm1_path), "a failed load removes its arena");
	ASSERT_OK(shmc_arena_load(save_path, nm1, NULL, &b));
	shmc_obj_t *l2 = find(b, "big");
	cr_assert_eq(shmc_list_len(l2), 100);
	shmc_obj_release(l2);
	shmc_arena_close(b);
	ASSERT_OK(shmc_arena_unlink(nm1));
	names_drop(A);
}

/* Saving while others work ------------------------------------------------------ */

struct writer_ctx {
	shmc_obj_t *ls, *d, *q;
	_Atomic int *stop, *ready;
};

/* Keep replacing the whole list by 8 copies of K, the dict's 4 entries by
 * K, and cycling the queue, each in one operation. */
static int writer(void *arg)
{
	struct writer_ctx *w = arg;
	int64_t k = getpid() * 1000000ll;
	atomic_fetch_add(w->ready, 1);
	while (!atomic_load(w->stop)) {
		k++;
		shmc_value_t s = shmc_plist_of(8, shmc_int(k), shmc_int(k), shmc_int(k), shmc_int(k),
					       shmc_int(k), shmc_int(k), shmc_int(k), shmc_int(k));
		CHILD_OK(shmc_list_slice_set(w->ls, 0, SHMC_SLICE_NONE, 1, s));
		shmc_value_free(&s);
		shmc_value_t m = shmc_pdict_of(4, shmc_str("a"), shmc_int(k), shmc_str("b"),
					       shmc_int(k), shmc_str("c"), shmc_int(k), shmc_str("d"),
					       shmc_int(k));
		CHILD_OK(shmc_dict_merge(w->d, m));
		shmc_value_free(&m);
		shmc_value_t it;
		CHILD_OK(shmc_queue_put(w->q, shmc_int(k), SHMC_FOREVER));
		CHILD_OK(shmc_queue_get(w->q, SHMC_FOREVER, &it));
	}
	return 0;
}

static bool all_equal(shmc_value_t v)
{
	int64_t first = 0;
	for (size_t i = 0; i < shmc_seq_len(v); i++) {
		shmc_value_t *x = shmc_seq_at(v, (int64_t)i);
		if (x->type != SHMC_INT || (i && x->i != first))
			return false;
		first = x->i;
	}
	return true;
}

Test(save, a_save_while_four_processes_write_copies_each_object_consistently,
     .init = save_setup, .fini = save_teardown)
{
	struct writer_ctx w;
	w.stop = shared_page(4096);
	w.ready = w.stop + 1;
	ASSERT_OK(shmc_list_new(A, &w.ls));
	ASSERT_OK(shmc_dict_new(A, &w.d));
	ASSERT_OK(shmc_queue_new(A, 4, &w.q));
	name(A, "ls", w.ls);
	name(A, "d", w.d);
	name(A, "q", w.q);
	pid_t pid[4];
	for (int i = 0; i < 4; i++)
		pid[i] = fork_fn(writer, &w);
	cr_assert(wait_flag(w.ready, 4, TEST_DEADLINE));
	int saves = 0, distinct = 0;
	int64_t last = -1;
	double end = now_s() + 2.0;
	while (now_s() < end || saves < 20) {
		ASSERT_OK(shmc_arena_save(A, save_path, 0));
		saves++;
		shmc_arena_t *b;
		ASSERT_OK(shmc_arena_load(save_path, NULL, NULL, &b));
		shmc_obj_t *ls = find(b, "ls"), *d = find(b, "d"), *q = find(b, "q");
		shmc_value_t lv, dv;
		ASSERT_OK(shmc_list_copy(ls, &lv));
		ASSERT_OK(shmc_dict_values(d, &dv));
		cr_assert(all_equal(lv) && all_equal(dv), "a torn object in save %d", saves);
		cr_assert(shmc_seq_len(lv) == 0 || shmc_seq_len(lv) == 8);
		cr_assert(shmc_seq_len(dv) == 0 || shmc_seq_len(dv) == 4);
		/* Each writer puts one item and takes one back: at most one
		 * each is in the queue (four, when all four are preempted
		 * between their put and their get). */
		cr_assert(shmc_queue_qsize(q) >= 0 && shmc_queue_qsize(q) <= 4, "qsize %lld",
			  (long long)shmc_queue_qsize(q));
		if (shmc_seq_len(lv) && shmc_seq_at(lv, 0)->i != last) {
			distinct++;
			last = shmc_seq_at(lv, 0)->i;
		}
		shmc_value_free(&lv);
		shmc_value_free(&dv);
		shmc_obj_release(ls);
		shmc_obj_release(d);
		shmc_obj_release(q);
		shmc_arena_close(b);
	}
	atomic_store(w.stop, 1);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(wait_exit(pid[i], TEST_DEADLINE), 0);
	/* Quiescent: the copy is the arena. */
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	shmc_arena_t *b;
	ASSERT_OK(shmc_arena_load(save_path, NULL, NULL, &b));
	struct pairs m = {0};
	expect_same_arena(A, b, &m);
	shmc_arena_close(b);
	cr_assert_gt(distinct, 1, "the writers moved on between saves (%d of %d)", distinct,
		     saves);
	cr_log_info("%d saves during writes, %d distinct states, 0 torn", saves, distinct);
	shmc_obj_release(w.ls);
	shmc_obj_release(w.d);
	shmc_obj_release(w.q);
	names_drop(A);
	munmap((void *)w.stop, 4096);
}

/* Killed mid-save ----------------------------------------------------------------- */

static int saver(void *arg)
{
	(void)arg;
	for (;;)
		CHILD_OK(shmc_arena_save(A, save_path, 0));
}

Test(save, a_save_killed_anywhere_leaves_the_old_file_whole, .init = save_setup,
     .fini = save_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	static char blob[16 << 10];
	memset(blob, 'y', sizeof(blob));
	for (int i = 0; i < 64; i++) /* 1 MiB: a save takes a while */
		ASSERT_OK(shmc_list_append(ls, shmc_bytes(blob, sizeof(blob))));
	name(A, "ls", ls);
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	size_t n0;
	char *old = read_file(save_path, &n0);
	/* Only the saved time (and so the header's checksum) differs between
	 * two saves of the same arena. */
	int kills = 0, files_seen = 0;
	uint64_t seed = (uint64_t)getpid();
	for (int round = 0; round < 40; round++) {
		pid_t pid = fork_fn(saver, NULL);
		seed = mix64(seed + (uint64_t)round);
		usleep((useconds_t)(seed % 20000)); /* a random point: a kill, not a wait */
		kills += kill_wait(pid);
		size_t n;
		char *now = read_file(save_path, &n);
		cr_assert_eq(n, n0, "round %d: the file is whole", round);
		cr_assert(memcmp(now, old, 48) == 0 && memcmp(now + 64, old + 64, n - 64) == 0,
			  "round %d: the old file or a whole new one", round);
		free(now);
		files_seen += temps_left() > 0;
		shmc_arena_t *b;
		ASSERT_OK(shmc_arena_load(save_path, NULL, NULL, &b));
		shmc_arena_close(b);
	}
	free(old);
	/* The killed savers' slots are reaped and the arena is sound; what one
	 * had allocated and not published (a block of its handle table) is
	 * swept. The next save removes any temporary file they named. */
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_REAP, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_SWEEP, &rep, NULL, NULL));
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	cr_assert_eq(temps_left(), 0);
	cr_log_info("%d saves killed, %d left a named temporary file", kills, files_seen);
	shmc_obj_release(ls);
	names_drop(A);
}

/* Refusals ---------------------------------------------------------------------- */

static void write_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static uint32_t crc32c(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t c = ~0u;
	while (n--) {
		c ^= *b++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Load BAD (N bytes) under nm1: the code, with nothing created. */
static int load_bad(const void *bad, size_t n)
{
	char path[300];
	snprintf(path, sizeof(path), "%s.bad", save_path);
	write_bytes(path, bad, n);
	shmc_arena_t *b = NULL;
	int rc = shmc_arena_load(path, nm1, NULL, &b);
	unlink(path);
	if (rc == 0) {
		shmc_arena_close(b);
		shmc_arena_unlink(nm1);
	}
	cr_assert(rc == 0 || !exists(nm1_path), "a refused load created nothing");
	return rc;
}

Test(save, every_bad_file_is_refused_with_its_code_and_nothing_created, .init = save_setup,
     .fini = save_teardown)
{
	fill_rebased();
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	size_t n;
	unsigned char *f = (unsigned char *)read_file(save_path, &n);
	cr_assert_gt(n, 200);
	ASSERT_OK(load_bad(f, n));
	unsigned char *g = malloc(n);
	/* Not a save file. */
	memcpy(g, f, n);
	g[0] = 'X';
	ASSERT_ERR(load_bad(g, n), SHMC_ENOTARENA);
	ASSERT_ERR(load_bad("hello, world\n", 13), SHMC_ENOTARENA);
	/* Another version, another layout (checksums made right). */
	memcpy(g, f, n);
	put32(g + 8, 2);
	put32(g + 60, crc32c(g, 60));
	ASSERT_ERR(load_bad(g, n), SHMC_EVERSION);
	memcpy(g, f, n);
	g[16] ^= 1;
	put32(g + 60, crc32c(g, 60));
	ASSERT_ERR(load_bad(g, n), SHMC_ELAYOUT);
	/* Cut short anywhere. */
	int cuts = 0;
	for (size_t len = 0; len < n; len += len < 80 ? 1 : 7, cuts++)
		ASSERT_ERR(load_bad(f, len), SHMC_ECHECKSUM);
	/* Longer. */
	memcpy(g, f, n);
	unsigned char *h = malloc(n + 1);
	memcpy(h, f, n);
	h[n] = 0;
	ASSERT_ERR(load_bad(h, n + 1), SHMC_ECHECKSUM);
	free(h);
	/* A byte flipped anywhere: refused (the checksums catch what the
	 * version and layout checks do not). */
	int flips = 0;
	for (size_t at = 0; at < n; at += at < 64 ? 1 : 5, flips++) {
		memcpy(g, f, n);
		g[at] ^= (unsigned char)(1u << (at % 8));
		int rc = load_bad(g, n);
		cr_assert(rc == SHMC_ECHECKSUM || (at < 8 && rc == SHMC_ENOTARENA) ||
				  (at >= 8 && at < 12 && rc == SHMC_EVERSION),
			  "byte %zu flipped: %s", at, shmc_errname(rc));
	}
	/* A payload that passes its checksum but is wrong inside: a record
	 * of an unknown kind, a reference past the records. */
	memcpy(g, f, n);
	g[64] = 99;
	put32(g + 40, crc32c(g + 64, n - 64));
	put32(g + 60, crc32c(g, 60));
	ASSERT_ERR(load_bad(g, n), SHMC_ECHECKSUM);
	cr_log_info("%d cuts and %d flips refused", cuts, flips);
	free(g);
	free(f);
	shmc_obj_t *lk = find(A, "lock"), *rl = find(A, "rlock");
	ASSERT_OK(shmc_lock_release(lk));
	ASSERT_OK(shmc_lock_release(rl));
	shmc_obj_release(lk);
	shmc_obj_release(rl);
	names_drop(A);
}

Test(save, a_dead_savers_temporary_file_is_removed_and_a_live_ones_kept, .init = save_setup,
     .fini = save_teardown)
{
	char dead[200], live[200];
	char other[200];
	snprintf(dead, sizeof(dead), "/tmp/%s999991.0", tmp_glob);
	snprintf(live, sizeof(live), "/tmp/%s999992.3", tmp_glob);
	snprintf(other, sizeof(other), "/tmp/%sbackup", tmp_glob);
	track(dead);
	track(live);
	track(other);
	write_bytes(other, "not ours", 8);
	write_bytes(dead, "half a file", 11);
	write_bytes(live, "being written", 13);
	int fd = open(live, O_RDONLY);
	cr_assert(fd >= 0);
	/* A saver at work holds its file's lock (from another open file
	 * description, as another process would). */
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	cr_assert(!exists(dead), "a dead saver's file is swept");
	cr_assert(exists(live), "a live saver's file is left alone");
	close(fd);
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	cr_assert(!exists(live));
	cr_assert(exists(other), "a file of another name is never removed");
	unlink(other);
	cr_assert_eq(temps_left(), 0);
}

static int square(shmc_value_t arg, shmc_value_t *result, void *ctx)
{
	(void)ctx;
	*result = shmc_int(arg.i * arg.i);
	return 0;
}

Test(save, a_pool_is_refused_or_skipped_when_named, .init = save_setup, .fini = save_teardown)
{
	shmc_obj_t *pool, *ls;
	ASSERT_OK(shmc_pool_new(A, 1, NULL, &pool));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	name(A, "ls", ls);
	name(A, "pool", pool);
	ASSERT_ERR(shmc_arena_save(A, save_path, 0), SHMC_EKIND);
	cr_assert(!exists(save_path), "a failed save writes nothing");
	ASSERT_OK(shmc_arena_save(A, save_path, SHMC_SAVE_SKIP_UNSAVABLE));
	shmc_arena_t *b;
	ASSERT_OK(shmc_arena_load(save_path, NULL, NULL, &b));
	shmc_value_t names;
	ASSERT_OK(shmc_root_names(b, &names));
	expect_repr(names, "['ls']");
	shmc_value_free(&names);
	shmc_arena_close(b);
	/* Reached through a value, it cannot be skipped. */
	ASSERT_OK(shmc_list_append(ls, shmc_ref(pool)));
	ASSERT_ERR(shmc_arena_save(A, save_path, SHMC_SAVE_SKIP_UNSAVABLE), SHMC_EKIND);
	shmc_value_t r;
	ASSERT_OK(shmc_pool_apply(pool, shmc_task(square), shmc_int(3), &r));
	cr_assert_eq(r.i, 9, "the pool works on after the saves");
	ASSERT_OK(shmc_pool_terminate(pool));
	ASSERT_OK(shmc_pool_join(pool, TEST_DEADLINE));
	shmc_obj_release(pool);
	shmc_obj_release(ls);
	names_drop(A);
}

Test(save, a_cache_keeps_its_limits_entries_order_and_time_left, .init = save_setup,
     .fini = save_teardown)
{
	shmc_obj_t *c, *ls;
	ASSERT_OK(shmc_cache_new(A, "cache", 8, 1 << 20, &c));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(7)));
	shmc_value_t one_list = shmc_plist_of(1, shmc_int(1));
	ASSERT_OK(shmc_cache_set(c, shmc_str("forever"), one_list, 0));
	shmc_value_free(&one_list);
	ASSERT_OK(shmc_cache_set(c, shmc_int(2), shmc_ref(ls), 3600 * 1000000000LL));
	ASSERT_OK(shmc_cache_set(c, shmc_str("gone"), shmc_int(3), 1)); /* expires at once */
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	shmc_arena_t *b;
	ASSERT_OK(shmc_arena_load(save_path, NULL, NULL, &b));
	shmc_obj_t *c2;
	ASSERT_OK(shmc_root_find(b, "cache", &c2));
	cr_assert_eq(shmc_obj_kind(c2), SHMC_KIND_CACHE);
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(c2, &st));
	cr_assert_eq(st.max_entries, 8);
	cr_assert_eq(st.max_bytes, 1 << 20);
	cr_assert_eq(shmc_cache_len(c2), 2, "the expired entry is not saved");
	char *s;
	ASSERT_OK(shmc_obj_str(c2, &s));
	cr_assert(strncmp(s, "{'forever': [1], 2: <ListProxy", 30) == 0, "printed %s", s);
	shmc_free(s);
	shmc_value_t v;
	int64_t left;
	ASSERT_OK(shmc_cache_get(c2, shmc_str("forever"), &v, &left));
	cr_assert_eq(left, 0, "no time-to-live stays none");
	shmc_value_free(&v);
	ASSERT_OK(shmc_cache_get(c2, shmc_int(2), &v, &left));
	cr_assert(left > 0 && left <= 3600 * 1000000000LL, "the time left is kept: %lld",
		  (long long)left);
	cr_assert_eq(v.type, SHMC_REF);
	shmc_value_t one;
	ASSERT_OK(shmc_list_get(v.ref, 0, &one));
	cr_assert_eq(one.i, 7, "the reference is to the restored list");
	shmc_value_free(&v);
	shmc_obj_release(c2);
	shmc_arena_close(b);
	shmc_obj_release(c);
	shmc_obj_release(ls);
	names_drop(A);
}

/* [[[...[1]...]]], N lists deep. */
static shmc_value_t nested(int n)
{
	shmc_value_t v = shmc_int(1);
	for (int i = 0; i < n; i++)
		v = shmc_plist_of(1, v);
	return v;
}

Test(save, values_nested_as_deep_as_allowed_round_trip_in_every_container,
     .init = save_setup, .fini = save_teardown)
{
	shmc_value_t deep = nested(511); /* 512 containers with the one below */
	shmc_value_t top = shmc_plist_of(1, deep);
	shmc_obj_t *ns, *ls, *d, *mv, *q;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "deep", top));
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, top));
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), top));
	ASSERT_OK(shmc_mvalue_new(A, "x", top, &mv));
	ASSERT_OK(shmc_queue_new(A, 0, &q));
	ASSERT_OK(shmc_queue_put_nowait(q, top));
	shmc_value_t cp;
	ASSERT_OK(shmc_value_copy(top, &cp));
	shmc_value_t deeper = shmc_plist_of(1, cp); /* one too many */
	ASSERT_ERR(shmc_list_append(ls, deeper), SHMC_EDEPTH);
	shmc_value_free(&deeper);
	name(A, "ns", ns);
	name(A, "ls", ls);
	name(A, "d", d);
	name(A, "mv", mv);
	name(A, "q", q);
	ASSERT_OK(shmc_arena_save(A, save_path, 0));
	shmc_arena_t *b;
	ASSERT_OK(shmc_arena_load(save_path, NULL, NULL, &b));
	struct pairs m = {0};
	expect_same_arena(A, b, &m);
	shmc_obj_t *q2 = find(b, "q");
	shmc_value_t got;
	ASSERT_OK(shmc_queue_get_nowait(q2, &got));
	cr_assert(shmc_value_eq(got, top));
	shmc_value_free(&got);
	shmc_obj_release(q2);
	shmc_arena_close(b);
	shmc_value_free(&top);
	shmc_obj_t *all[] = {ns, ls, d, mv, q};
	for (int i = 0; i < 5; i++)
		shmc_obj_release(all[i]);
	names_drop(A);
}
