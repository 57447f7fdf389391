/*
 * test_attach.c -- what attaching and closing touch: the page of the slot
 * and nothing else of the arena, the mark of slots ever claimed (which
 * bounds reaping), and that a process's records still go at its close.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "arena/arena.h"
#include "arena/proc.h"
#define SHMC_TEST_NAMED_FIXTURE
#include "testutil.h"

TestSuite(attach, .timeout = 120);


/* Pages of [BASE, BASE+LEN) this process has mapped (/proc/self/pagemap:
 * bit 63, present), written to PAGES (up to MAX); @return their count or
 * -1 when the file cannot be read. */
static int present_pages(const char *base, uint64_t len, uint64_t *pages, int max)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int n = 0;
	for (uint64_t i = 0; i < len / SHMC__PAGE; i++) {
		uint64_t e;
		off_t at = (off_t)(((uintptr_t)base / SHMC__PAGE + i) * sizeof(e));
		if (pread(fd, &e, sizeof(e), at) != (ssize_t)sizeof(e)) {
			n = -1;
			break;
		}
		if ((e >> 63) && n < max)
			pages[n] = i;
		n += (int)(e >> 63);
	}
	close(fd);
	return n;
}

/* Whether /dev/shm may hand out huge pages (a forced shmem policy, or a
 * huge= mount option): one of them maps 512 pages at once. */
static bool shm_may_be_huge(void)
{
	char line[512];
	bool huge = false;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "r");
	if (f) {
		huge = fgets(line, sizeof(line), f) && strstr(line, "[force]");
		fclose(f);
	}
	if ((f = fopen("/proc/mounts", "r")) != NULL) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, " /dev/shm ") && strstr(line, "huge=") &&
			    !strstr(line, "huge=never"))
				huge = true;
		fclose(f);
	}
	return huge;
}

/* Whether the kernel maps pages on request (5.14 and later). */
static bool can_populate(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	bool ok = madvise(p, 4096, MADV_POPULATE_WRITE) == 0;
	munmap(p, 4096);
	return ok;
}

/* Open NA by name in a process that has it attached already (a fork
 * child, as in the benchmark), and check the pages mapped of everything
 * below the data: one, the slot's. The first open raises the mark (the
 * header's page); the second, in the same slot below it, does not. */
static int open_maps_one_page(void *arg)
{
	(void)arg;
	shmc_arena_t *b;
	CHILD_OK(shmc_arena_open(NA_name, &b));
	uint32_t first = b->slot;
	shmc_arena_close(b);
	CHILD_OK(shmc_arena_open(NA_name, &b));
	CHILD_CHECK(b->slot == first && b->slot < 32); /* the first page of slots */
	uint64_t pages[8];
	int n = present_pages(b->base, b->data_off, pages, 8);
	CHILD_CHECK(n == 1);
	CHILD_CHECK(pages[0] == (b->procs_off + b->slot * sizeof(struct shmc__proc)) / SHMC__PAGE);
	CHILD_CHECK(ld_relaxed(&b->recs_claimed) == 0);
	shmc_arena_close(b);
	return 0;
}

Test(attach, open_and_close_map_only_the_page_of_the_slot, .init = named_setup,
     .fini = named_teardown)
{
	if (!can_populate())
		cr_skip_test("no MADV_POPULATE_WRITE: the first reads map neighbours too");
	if (shm_may_be_huge())
		cr_skip_test("/dev/shm may use huge pages: pages are mapped 512 at a time");
	cr_assert_eq(wait_exit(fork_fn(open_maps_one_page, NULL), TEST_DEADLINE), 0);
}

/* Open NA, say so, and wait for the word from the parent; then close. */
struct holder {
	int ready[2], go[2];
	bool use; /* make an object first (claims an epoch record) */
};

static int hold_open(void *arg)
{
	struct holder *h = arg;
	shmc_arena_t *b;
	CHILD_OK(shmc_arena_open(NA_name, &b));
	if (h->use) {
		shmc_obj_t *ns;
		CHILD_OK(shmc_namespace_new(b, &ns));
		CHILD_OK(shmc_namespace_set(ns, "x", shmc_str("a string, not inline")));
		CHILD_OK(shmc_namespace_set(ns, "x", shmc_str("another string, not inline")));
		shmc_obj_release(ns);
	}
	if (!say(h->ready[1]) || !hear(h->go[0]))
		return 1;
	shmc_arena_close(b);
	return 0;
}

static void holder_init(struct holder *h, bool use)
{
	cr_assert_eq(pipe(h->ready), 0);
	cr_assert_eq(pipe(h->go), 0);
	h->use = use;
}

static void holder_fini(struct holder *h)
{
	close(h->ready[0]);
	close(h->ready[1]);
	close(h->go[0]);
	close(h->go[1]);
}

static unsigned live_slots(shmc_arena_t *a)
{
	unsigned n = 0;
	for (uint32_t s = 0; s < a->nprocs; s++)
		n += ld_acquire(&shmc__proc_at(a, s)->state) != SHMC__PROC_FREE;
	return n;
}

Test(attach, the_mark_counts_every_slot_ever_claimed_and_never_falls, .init = named_setup,
     .fini = named_teardown)
{
	cr_assert_eq(ld_relaxed(&NA->hdr->proc_hwm), 1); /* the creator's */
	cr_assert_eq(shmc__proc_hwm(NA), 1);
	struct holder h;
	holder_init(&h, false);
	pid_t pids[3];
	for (int i = 0; i < 3; i++) {
		pids[i] = fork_fn(hold_open, &h);
		cr_assert(hear(h.ready[0]));
	}
	/* Each fork claimed a slot for its child (1, 3, 5), each child's
	 * open another (2, 4, 6). */
	cr_assert_eq(live_slots(NA), 7);
	cr_assert_eq(ld_relaxed(&NA->hdr->proc_hwm), 7);
	for (int i = 0; i < 3; i++) /* any of them may hear any byte */
		cr_assert(say(h.go[1]));
	for (int i = 0; i < 3; i++)
		cr_assert_eq(wait_exit(pids[i], TEST_DEADLINE), 0);
	cr_assert_geq(shmc_arena_reclaim(NA), 0);
	cr_assert_eq(live_slots(NA), 1);
	cr_assert_eq(ld_relaxed(&NA->hdr->proc_hwm), 7);
	holder_fini(&h);
}

/* Open NA in a forked child, make objects, say so, and wait to be killed. */
static int die_holding(void *arg)
{
	struct holder *h = arg;
	shmc_arena_t *b;
	CHILD_OK(shmc_arena_open(NA_name, &b));
	shmc_obj_t *ls;
	CHILD_OK(shmc_list_new(b, &ls));
	for (int k = 0; k < 100; k++)
		CHILD_OK(shmc_list_append(ls, shmc_str("a string of some length, not inline")));
	if (!say(h->ready[1]))
		return 1;
	for (;;)
		pause(); /* until the kill */
}

/* A process killed holding memory in slot 2 (slot 1 was its fork's): an
 * open (a second handle of ours, in slot 3) frees it all. With NO_MARK,
 * the arena's header has no mark, as one made before it: every slot is
 * looked at. */
static void killed_holder_is_reaped_by_open(bool no_mark)
{
	struct holder h;
	holder_init(&h, false);
	pid_t pid = fork_fn(die_holding, &h); /* its fork slot 1, its open slot 2 */
	cr_assert(hear(h.ready[0]));
	size_t held = arena_in_use(NA);
	cr_assert_gt(held, NA_base + 100 * 32);
	cr_assert(kill_wait(pid));
	for (uint32_t s = 1; s <= 2; s++)
		cr_assert_neq(ld_acquire(&shmc__proc_at(NA, s)->state), SHMC__PROC_FREE);
	if (no_mark)
		st_relaxed(&NA->hdr->proc_hwm, 0);
	shmc_arena_t *b;
	ASSERT_OK(shmc_arena_open(NA_name, &b));
	cr_assert_eq(b->slot, 3);
	for (uint32_t s = 1; s <= 2; s++) /* before anything else could reap */
		cr_assert_eq(ld_acquire(&shmc__proc_at(NA, s)->state), SHMC__PROC_FREE);
	cr_assert_eq(ld_relaxed(&NA->hdr->proc_hwm), no_mark ? 0 : 4); /* unknown stays */
	shmc_arena_close(b);
	cr_assert_eq(arena_in_use(NA), NA_base);
	holder_fini(&h);
}

Test(attach, open_reaps_a_killed_process_below_the_mark, .init = named_setup,
     .fini = named_teardown)
{
	killed_holder_is_reaped_by_open(false);
}

Test(attach, an_arena_without_the_mark_is_reaped_over_every_slot, .init = named_setup,
     .fini = named_teardown)
{
	killed_holder_is_reaped_by_open(true);
}

/* A process that used the arena (claimed an epoch record) and one that
 * did not both leave no record behind at close, and nothing of theirs. */
Test(attach, close_releases_the_records_of_a_process_that_claimed_them,
     .init = named_setup, .fini = named_teardown)
{
	for (int use = 0; use < 2; use++) {
		struct holder h;
		holder_init(&h, use);
		pid_t pid = fork_fn(hold_open, &h);
		cr_assert(hear(h.ready[0]));
		/* Records not ours (slot 0: owner 1): the child's open's. */
		unsigned owned = 0;
		for (uint32_t i = 0; i < NA->nrecs; i++)
			owned += ld_relaxed(&shmc__rec_at(NA, i)->owner) > 1;
		cr_assert_eq(owned, use ? 1u : 0u);
		cr_assert(say(h.go[1]));
		cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
		for (uint32_t i = 0; i < NA->nrecs; i++)
			cr_assert_leq(ld_relaxed(&shmc__rec_at(NA, i)->owner), 1u,
				      "record %u still owned after close", i);
		cr_assert_eq(arena_in_use(NA), NA_base);
		holder_fini(&h);
	}
}

/* The check reports a slot in use above the mark (reapers would never look
 * there), and a mark past the slots. */
Test(attach, check_reports_a_slot_in_use_above_the_mark, .init = named_setup,
     .fini = named_teardown)
{
	struct holder h;
	holder_init(&h, false);
	pid_t pid = fork_fn(hold_open, &h);
	cr_assert(hear(h.ready[0]));
	shmc_check_report_t rep;
	cr_assert_eq(shmc_arena_check(NA, 0, &rep, NULL, NULL), 0);
	st_relaxed(&NA->hdr->proc_hwm, 2); /* the child's open is in slot 2 */
	cr_assert_eq(shmc_arena_check(NA, 0, &rep, NULL, NULL), SHMC_ECORRUPT);
	st_relaxed(&NA->hdr->proc_hwm, NA->nprocs + 1);
	cr_assert_eq(shmc_arena_check(NA, 0, &rep, NULL, NULL), SHMC_ECORRUPT);
	st_relaxed(&NA->hdr->proc_hwm, 3);
	cr_assert_eq(shmc_arena_check(NA, 0, &rep, NULL, NULL), 0);
	cr_assert(say(h.go[1]));
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	holder_fini(&h);
}

/* Creating reserves the header, slots and records, and no data: the first
 * allocation reserves its first chunk (an arena created and closed, or only
 * opened by others, never pays for it). */
Test(attach, create_reserves_no_data_until_the_first_allocation, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "lazy");
	shmc_arena_t *a = test_named_arena(name, 64 << 20);
	cr_assert_eq(ld_relaxed(&a->hdr->committed), a->data_off);
	cr_assert_eq(ld_relaxed(&a->hdr->brk), a->data_off);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq((uint64_t)st.st_blocks * 512, a->pagemap_off, "only the header is reserved");
	shmc_obj_t *ns;
	ASSERT_OK(shmc_namespace_new(a, &ns));
	ASSERT_OK(shmc_namespace_set(ns, "x", shmc_str("a string, not inline")));
	cr_assert_geq(ld_relaxed(&a->hdr->committed), a->data_off + (64 << 10));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_geq((uint64_t)st.st_blocks * 512, a->pagemap_off + (64 << 10) + SHMC__PAGE);
	shmc_obj_release(ns);
	shmc_arena_close(a);
	ASSERT_OK(shmc_arena_unlink(name));
}

/* The descriptor of an opened arena is opened non-blocking (a FIFO must
 * not hang the open) and is blocking again once the file is known to be an
 * arena; nothing else of its flags changes. */
Test(attach, an_opened_arena_descriptor_is_blocking, .init = named_setup,
     .fini = named_teardown)
{
	shmc_arena_t *b;
	ASSERT_OK(shmc_arena_open(NA_name, &b));
	int fl = fcntl(b->fd, F_GETFL);
	cr_assert_eq(fl & (O_NONBLOCK | O_APPEND | O_ACCMODE), O_RDWR);
	cr_assert_eq(fcntl(b->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	shmc_arena_close(b);
}
