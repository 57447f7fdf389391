/*
 * test_lifetime.c -- the lifetime rules: overwritten values and dropped
 * objects give their memory back; a managed object lives while a container
 * refers to it or a handle (in any process) holds it, and no longer; a
 * process that dies, however it dies, pins nothing; cycles are not
 * collected, as with Python's Manager.
 *
 * Memory is measured with arena_in_use(), which reclaims first, and compared
 * to the byte.
 */
#include <criterion/criterion.h>

#include "memory/alloc.h" /* shmc__block_size */
#include "memory/epoch.h" /* epoch records: where a killed reader died, the ring */
#include "testutil.h"

TestSuite(lifetime, .timeout = 120);

/* Bytes in use right now, without reclaiming anything. */
static size_t raw_in_use(void)
{
	shmc_arena_stats_t st;
	ASSERT_OK(shmc_arena_stats(A, &st));
	return st.bytes_in_use;
}

/* ns.x = [i, "some string"] */
static void set_x(shmc_obj_t *ns, int64_t i)
{
	shmc_value_t v = shmc_plist_of(2, shmc_int(i), shmc_str("some string"));
	ASSERT_OK(shmc_namespace_set(ns, "x", v));
	shmc_value_free(&v);
}

/* A list of N strings, big enough that its memory dwarfs any bookkeeping. */
static shmc_obj_t *big_list(int n)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int i = 0; i < n; i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "item number %d of a big list", i);
		ASSERT_OK(shmc_list_append(ls, shmc_str(buf)));
	}
	return ls;
}

/* A dict whose table exists already, so that the baseline of a test
 * includes it: a table is not shrunk when its entries are removed. */
static shmc_obj_t *table_dict(void)
{
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(A, &d));
	ASSERT_OK(shmc_dict_set(d, shmc_str("permanent"), shmc_int(0)));
	return d;
}

/* Fork, flushing stdio first; the child runs FN and exits with its result. */
static pid_t fork_child(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

static void expect_exit_ok(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "child failed (status %#x)", st);
}

static void kill_and_reap(pid_t pid)
{
	int st;
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "child was not killed (status %#x)", st);
}

/* Overwrites ------------------------------------------------------------- */

Test(lifetime, overwriting_a_plain_value_100000_times_stays_flat,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	for (int i = 0; i < 100; i++)
		set_x(ns, i);
	size_t first = arena_in_use(A), peak = 0;
	for (int i = 100; i < 100000; i++) {
		set_x(ns, i);
		if (i % 1000 == 0) {
			size_t now = raw_in_use();
			peak = now > peak ? now : peak;
		}
	}
	/* Retired values are freed as writers go, not only on request. */
	cr_assert_lt(peak, first + (1u << 20), "%zu bytes pending", peak - first);
	cr_assert_eq(arena_in_use(A), first);
	expect_str(ns, "Namespace(x=[99999, 'some string'])");
	shmc_obj_release(ns);
}

/* Two processes overwriting 8 KB values in the smallest arena: what each
 * holds back for readers (at most two batches of 1/64 of the arena) leaves
 * room for the values themselves. */
static int big_writer(int i, void *arg)
{
	static char blob[8000];
	memset(blob, 'a' + i, sizeof(blob));
	for (int k = 0; k < 3000; k++)
		CHILD_OK(shmc_namespace_set(arg, i ? "y" : "x", shmc_bytes(blob, sizeof(blob))));
	return 0;
}

Test(lifetime, big_values_overwritten_by_two_processes_fit_a_4_mib_arena)
{
	shmc_arena_t *a = test_arena(4 << 20);
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(a, &ns));
	cr_assert_eq(run_children(2, big_writer, ns), 0, "a writer failed (see its message)");
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_get(ns, "y", &v));
	cr_assert(v.type == SHMC_BYTES && v.len == 8000 && v.str[0] == 'b');
	shmc_value_free(&v);
	shmc_obj_release(ns);
	shmc_arena_close(a);
}

Test(lifetime, overwriting_with_a_new_managed_list_100000_times_stays_flat,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns, *ls;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	size_t first = 0;
	for (int i = 0; i < 100000; i++) {
		ASSERT_OK(shmc_list_new(A, &ls));
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
		ASSERT_OK(shmc_list_append(ls, shmc_str("some string")));
		ASSERT_OK(shmc_namespace_set(ns, "x", shmc_ref(ls)));
		shmc_obj_release(ls);
		if (i == 99)
			first = arena_in_use(A);
	}
	cr_assert_eq(arena_in_use(A), first);
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_get(ns, "x", &v));
	cr_assert_eq(v.type, SHMC_REF);
	expect_str(v.ref, "[99999, 'some string']");
	shmc_value_free(&v);
	shmc_obj_release(ns);
}

/* References and handles ---------------------------------------------------- */

Test(lifetime, object_lives_while_a_container_refers_to_it,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *d = table_dict();
	shmc_value_t v;
	size_t base = arena_in_use(A);
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_str("payload")));
	ASSERT_OK(shmc_dict_set(d, shmc_str("k"), shmc_ref(ls)));
	shmc_obj_release(ls); /* the dict's reference is the only one left */
	cr_assert_gt(arena_in_use(A), base);

	ASSERT_OK(shmc_dict_get(d, shmc_str("k"), &v));
	cr_assert_eq(v.type, SHMC_REF);
	cr_assert_eq(shmc_obj_kind(v.ref), SHMC_KIND_LIST);
	expect_str(v.ref, "['payload']");
	ASSERT_OK(shmc_list_append(v.ref, shmc_int(2)));
	shmc_value_free(&v);
	/* The change went to the shared object, seen through a new handle. */
	ASSERT_OK(shmc_dict_get(d, shmc_str("k"), &v));
	expect_str(v.ref, "['payload', 2]");
	shmc_value_free(&v);

	ASSERT_OK(shmc_dict_del(d, shmc_str("k")));
	cr_assert_eq(arena_in_use(A), base, "the list outlived its last reference");
	shmc_obj_release(d);
}

Test(lifetime, object_inside_a_plain_value_lives_while_the_value_does,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ns, *ls;
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_new(A, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "y", shmc_int(0))); /* its table exists */
	size_t base = arena_in_use(A);
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_str("inner")));
	shmc_value_t t = shmc_tuple_of(2, shmc_int(1), shmc_ref(ls));
	ASSERT_OK(shmc_namespace_set(ns, "x", t));
	shmc_value_free(&t);
	shmc_obj_release(ls);

	ASSERT_OK(shmc_namespace_get(ns, "x", &v));
	shmc_value_t *item = shmc_seq_at(v, 1);
	cr_assert(item && item->type == SHMC_REF);
	expect_str(item->ref, "['inner']");
	ASSERT_OK(shmc_list_append(item->ref, shmc_str("more")));
	shmc_value_free(&v);

	/* Overwriting the tuple drops the last reference. */
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_int(0)));
	ASSERT_OK(shmc_namespace_del(ns, "x"));
	cr_assert_eq(arena_in_use(A), base);
	shmc_obj_release(ns);
}

Test(lifetime, a_handle_keeps_an_object_alive_after_the_container_drops_it,
     .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *d = table_dict();
	size_t base = arena_in_use(A);
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_str("payload")));
	ASSERT_OK(shmc_dict_set(d, shmc_int(1), shmc_ref(ls)));
	ASSERT_OK(shmc_dict_pop(d, shmc_int(1), NULL));
	cr_assert_gt(arena_in_use(A), base);
	ASSERT_OK(shmc_list_append(ls, shmc_str("still here")));
	expect_str(ls, "['payload', 'still here']");
	shmc_obj_release(ls);
	cr_assert_eq(arena_in_use(A), base);
	shmc_obj_release(d);
}

Test(lifetime, dup_and_release_count_handles, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls, *dup[3];
	size_t base = arena_in_use(A);
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_str("x")));
	size_t alive = arena_in_use(A);
	for (int i = 0; i < 3; i++) {
		ASSERT_OK(shmc_obj_dup(ls, &dup[i]));
		cr_assert(dup[i] != ls);
		cr_assert(shmc_obj_same(dup[i], ls));
	}
	cr_assert_eq(arena_in_use(A), alive, "a dup copied the object");
	shmc_obj_release(ls);
	shmc_obj_release(dup[0]);
	shmc_obj_release(dup[1]);
	/* One handle left: the object is whole and usable. */
	cr_assert_eq(arena_in_use(A), alive);
	ASSERT_OK(shmc_list_append(dup[2], shmc_str("y")));
	expect_str(dup[2], "['x', 'y']");
	shmc_obj_release(dup[2]);
	cr_assert_eq(arena_in_use(A), base, "released every handle, still allocated");

	shmc_obj_t *out = NULL;
	ASSERT_ERR(shmc_obj_dup(NULL, &out), SHMC_EHANDLE);
	cr_assert_null(out);
	shmc_obj_release(NULL); /* ignored */
}

/* Forked children ------------------------------------------------------------ */

struct fork_ctx {
	shmc_obj_t *d, *ls;
	int ready[2]; /* child -> parent */
	int go[2];    /* parent -> child */
	int n;        /* items in ls */
};

static void open_pipes(struct fork_ctx *c)
{
	cr_assert_eq(pipe(c->ready), 0);
	cr_assert_eq(pipe(c->go), 0);
}

static void parent_ends(struct fork_ctx *c)
{
	close(c->ready[1]);
	close(c->go[0]);
}

static void close_pipes(struct fork_ctx *c)
{
	close(c->ready[0]);
	close(c->go[1]);
}

/* Wait until the parent has dropped every reference of its own, then use
 * the inherited handle. */
static int inherited_user(void *p)
{
	struct fork_ctx *c = p;
	close(c->ready[0]);
	close(c->go[1]);
	CHILD_CHECK(hear(c->go[0]));
	CHILD_CHECK(shmc_dict_len(c->d) == 1); /* the parent's delete is seen */
	CHILD_CHECK(shmc_list_len(c->ls) == c->n);
	for (int i = 0; i < c->n; i += 97) {
		shmc_value_t v;
		char want[64];
		snprintf(want, sizeof(want), "item number %d of a big list", i);
		CHILD_OK(shmc_list_get(c->ls, i, &v));
		CHILD_CHECK(v.type == SHMC_STR && strcmp(v.str, want) == 0);
		shmc_value_free(&v);
	}
	CHILD_OK(shmc_list_append(c->ls, shmc_str("from the child")));
	CHILD_CHECK(shmc_list_len(c->ls) == c->n + 1);
	shmc_obj_release(c->ls);
	return 0;
}

Test(lifetime, forked_child_uses_inherited_handle_after_parent_let_go,
     .init = arena_setup, .fini = arena_teardown)
{
	struct fork_ctx c = {.n = 1000};
	c.d = table_dict();
	size_t base = arena_in_use(A);
	c.ls = big_list(c.n);
	size_t with_list = arena_in_use(A);
	ASSERT_OK(shmc_dict_set(c.d, shmc_str("k"), shmc_ref(c.ls)));
	open_pipes(&c);
	pid_t pid = fork_child(inherited_user, &c);
	parent_ends(&c);
	/* Drop the container's reference and our handle: only the child's
	 * own reference keeps the list now. */
	ASSERT_OK(shmc_dict_del(c.d, shmc_str("k")));
	shmc_obj_release(c.ls);
	cr_assert_geq(arena_in_use(A), with_list,
		      "the list was freed while a child held a handle");
	cr_assert(say(c.go[1]));
	expect_exit_ok(pid);
	close_pipes(&c);
	cr_assert_eq(arena_in_use(A), base);
	shmc_obj_release(c.d);
}

/* Take handles of our own to the list, make an object nobody else knows,
 * say so, then wait: for SIGKILL, or for the word to exit without
 * releasing anything. */
static int handle_holder(void *p)
{
	struct fork_ctx *c = p;
	close(c->ready[0]);
	close(c->go[1]);
	shmc_value_t v;
	shmc_obj_t *dup, *own;
	CHILD_OK(shmc_dict_get(c->d, shmc_str("k"), &v));
	CHILD_CHECK(v.type == SHMC_REF);
	CHILD_OK(shmc_obj_dup(c->ls, &dup));
	CHILD_OK(shmc_list_new(shmc_obj_arena(c->ls), &own));
	for (int i = 0; i < 200; i++)
		CHILD_OK(shmc_list_append(own, shmc_str("the child's own list")));
	CHILD_OK(shmc_list_set(c->ls, 0, shmc_str("changed by the child")));
	CHILD_CHECK(say(c->ready[1]));
	hear(c->go[0]); /* returns when told, or when the parent is gone */
	return 0;       /* _exit: no handle released */
}

static void dying_holder(bool sigkill)
{
	struct fork_ctx c = {.n = 1000};
	c.d = table_dict();
	size_t base = arena_in_use(A);
	c.ls = big_list(c.n);
	ASSERT_OK(shmc_dict_set(c.d, shmc_str("k"), shmc_ref(c.ls)));
	size_t with_list = arena_in_use(A);
	open_pipes(&c);
	pid_t pid = fork_child(handle_holder, &c);
	parent_ends(&c);
	cr_assert(hear(c.ready[0]), "the child failed before it was ready");
	ASSERT_OK(shmc_dict_del(c.d, shmc_str("k")));
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(c.ls, 0, &v));
	cr_assert_str_eq(v.str, "changed by the child");
	shmc_value_free(&v);
	shmc_obj_release(c.ls);
	/* The living child pins the list (and its own list). */
	cr_assert_gt(arena_in_use(A), with_list);
	if (sigkill) {
		kill_and_reap(pid);
	} else {
		cr_assert(say(c.go[1]));
		expect_exit_ok(pid);
	}
	close_pipes(&c);
	size_t now = arena_in_use(A);
	cr_assert_eq(now, base, "the dead child pinned %zd bytes",
		     (ssize_t)(now - base));
	shmc_obj_release(c.d);
}

Test(lifetime, child_killed_holding_handles_pins_nothing,
     .init = arena_setup, .fini = arena_teardown)
{
	dying_holder(true);
}

Test(lifetime, child_exiting_without_releasing_pins_nothing,
     .init = arena_setup, .fini = arena_teardown)
{
	dying_holder(false);
}

/* Whether a record of another process is inside a read section. */
static bool foreign_reader_in_section(void)
{
	uint32_t hwm = atomic_load(&A->hdr->rec_hwm);
	for (uint32_t i = 0; i < hwm && i < A->nrecs; i++) {
		struct shmc__rec *r = shmc__rec_at(A, i);
		uint32_t owner = atomic_load(&r->owner);
		if (owner != 0 && owner != A->slot + 1 && (atomic_load(&r->epoch) & 1))
			return true;
	}
	return false;
}

/* Bytes of this thread's retire ring. It grows while a reader holds the
 * epoch back, and never shrinks: bookkeeping, not values. */
static size_t ring_bytes(void)
{
	struct shmc__rec *r = shmc__epoch_rec(A);
	cr_assert_not_null(r);
	uint64_t off = atomic_load(&r->limbo_off);
	return off ? shmc__block_size(A, off) : 0;
}

#define BIG_LIST 200000

static int copier(void *p)
{
	struct fork_ctx *c = p;
	close(c->ready[0]);
	close(c->go[1]);
	for (bool told = false;; told = true) {
		shmc_value_t snap;
		CHILD_OK(shmc_list_copy(c->ls, &snap));
		CHILD_CHECK(shmc_seq_len(snap) == BIG_LIST);
		shmc_value_free(&snap);
		if (!told)
			CHILD_CHECK(say(c->ready[1]));
	}
}

Test(lifetime, reader_killed_in_a_read_section_does_not_block_reclamation,
     .init = arena_setup, .fini = arena_teardown)
{
	struct fork_ctx c = {.n = BIG_LIST};
	shmc_obj_t *ns;
	ASSERT_OK(shmc_list_new(A, &c.ls));
	shmc_value_t items = shmc_plist_of(0);
	for (int i = 0; i < BIG_LIST; i++)
		ASSERT_OK(shmc_plist_append(&items, shmc_int(i)));
	ASSERT_OK(shmc_list_extend(c.ls, items));
	shmc_value_free(&items);
	ASSERT_OK(shmc_namespace_new(A, &ns));
	set_x(ns, 0);
	size_t base = arena_in_use(A), ring = ring_bytes();
	int landed = 0;
	/* A kill may land between two copies; repeat until a few landed
	 * inside one (seen in the dead child's epoch record). */
	for (int attempt = 0; attempt < 40 && landed < 3; attempt++) {
		open_pipes(&c);
		pid_t pid = fork_child(copier, &c);
		parent_ends(&c);
		cr_assert(hear(c.ready[0]), "the copier failed");
		/* Retire values while the child reads. */
		for (int i = 1; i <= 300; i++)
			set_x(ns, i);
		usleep(1000 * (attempt % 4)); /* varies where the kill lands */
		kill_and_reap(pid);
		close_pipes(&c);
		landed += foreign_reader_in_section();
		/* Everything retired is freed: what remains beyond the
		 * baseline is the retire ring, grown while the child read. */
		size_t now = arena_in_use(A), grown = ring_bytes() - ring;
		cr_assert_eq(now, base + grown,
			     "after the kill: %zd bytes not reclaimed",
			     (ssize_t)(now - base - grown));
		for (int i = 0; i < 10000; i++)
			set_x(ns, i);
		size_t later = arena_in_use(A);
		cr_assert_eq(later, now, "overwrites after the kill: %zd bytes not reclaimed",
			     (ssize_t)(later - now));
	}
	A_base += ring_bytes() - ring;
	cr_assert_gt(landed, 0, "no kill landed inside a read section");
	shmc_obj_release(ns);
	shmc_obj_release(c.ls);
}

/* Cycles ---------------------------------------------------------------------- */

Test(lifetime, a_list_containing_itself_is_kept_alive, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *ls;
	size_t base = arena_in_use(A);
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_ref(ls)));
	ASSERT_OK(shmc_list_append(ls, shmc_str("payload")));
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, 0, &v));
	cr_assert(v.type == SHMC_REF && shmc_obj_same(v.ref, ls));
	shmc_value_free(&v);
	size_t alive = arena_in_use(A);
	shmc_obj_release(ls);
	/* Unreachable now, but its reference to itself keeps it: cycles are
	 * not collected, as with Python's Manager. */
	cr_assert_eq(arena_in_use(A), alive, "the cycle was collected");
	cr_assert_gt(alive, base);
	A_base += alive - base; /* leaked on purpose: not the fixture's concern */
}

Test(lifetime, breaking_a_cycle_by_hand_frees_it, .init = arena_setup, .fini = arena_teardown)
{
	shmc_obj_t *a, *b;
	size_t base = arena_in_use(A);
	ASSERT_OK(shmc_list_new(A, &a));
	ASSERT_OK(shmc_list_new(A, &b));
	ASSERT_OK(shmc_list_append(a, shmc_ref(b)));
	ASSERT_OK(shmc_list_append(b, shmc_ref(a)));
	ASSERT_OK(shmc_list_append(b, shmc_str("payload")));
	ASSERT_OK(shmc_list_clear(a));
	shmc_obj_release(a);
	shmc_obj_release(b);
	cr_assert_eq(arena_in_use(A), base);
}

/* Reapers ----------------------------------------------------------------- */

static pthread_barrier_t reap_barrier;

static void *reclaimer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&reap_barrier);
	shmc_arena_reclaim(A);
	return NULL;
}

/* Leave retired values in this process's queue (the parent holds the
 * epoch back meanwhile), then die without detaching. */
static int leave_retired(void *p)
{
	shmc_obj_t *ls = p;
	for (int i = 0; i < 3000; i++)
		CHILD_OK(shmc_list_set(ls, i % 4, shmc_str("retired by a child that dies")));
	return 0;
}

/* The slot lock keeps other processes' reapers out, but our own threads
 * share our open file description: several threads reclaiming at once
 * must still dispose of a dead process's leftovers exactly once. */
Test(lifetime, threads_reaping_one_dead_process_dispose_of_its_leftovers_once,
     .init = arena_setup, .fini = arena_teardown)
{
	enum { THREADS = 4, ROUNDS = 10 };
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	for (int i = 0; i < 4; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_str("initial value, a block")));
	struct shmc__rec *r = shmc__epoch_rec(A);
	for (int round = 0; round < ROUNDS; round++) {
		/* A read section of ours keeps the child from freeing what it
		 * retires: thousands of items are left for the reapers. */
		shmc__epoch_enter(A, r);
		expect_exit_ok(fork_child(leave_retired, ls));
		shmc__epoch_exit(r);
		pthread_t t[THREADS];
		pthread_barrier_init(&reap_barrier, NULL, THREADS);
		for (int i = 0; i < THREADS; i++)
			cr_assert_eq(pthread_create(&t[i], NULL, reclaimer, NULL), 0);
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&reap_barrier);
		shmc_check_report_t rep;
		ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
		cr_assert_eq(rep.errors, 0);
		cr_assert_eq(rep.dead_processes, 0);
	}
	shmc_obj_release(ls);
}

/* A writer reserves room in its retire queue, then (under its lock) finds
 * the queue scribbled on by another process: the item it retires is
 * leaked, which the check reports and a sweep frees (it aborted). */
Test(lifetime, a_retire_queue_scribbled_after_its_reservation_leaks_the_item,
     .init = arena_setup, .fini = arena_teardown)
{
	struct shmc__rec *r = shmc__epoch_rec(A);
	cr_assert_not_null(r);
	cr_assert_eq(shmc__epoch_reserve(A, r, 1), 0);
	uint64_t off;
	ASSERT_OK(shmc__alloc(A, 64, &off));
	uint64_t ring = ld_relaxed(&r->limbo_off);
	st_relaxed(&r->limbo_off, 8); /* no queue there */
	shmc__epoch_retire(A, r, off | SHMC__RETIRE_FREE);
	st_relaxed(&r->limbo_off, ring);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.leaked_blocks, 1);
	ASSERT_OK(shmc_arena_check(A, SHMC_CHECK_SWEEP, &rep, NULL, NULL));
	cr_assert_eq(rep.swept_blocks, 1);
	ASSERT_OK(shmc_arena_check(A, 0, &rep, NULL, NULL));
	cr_assert_eq(rep.errors + rep.leaked_blocks, 0);
}
