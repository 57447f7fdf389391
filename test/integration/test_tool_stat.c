/*
 * test_tool_stat.c -- what shmc-stat shows: memory, objects and names; processes alive, then dead; a held lock and its dead holder.
 * Fixtures: tooltest.h.
 */
#include "tooltest.h"

/* The "processes" line of PID in shmc-stat's output OUT: its slot, its
 * state ("alive"/"DEAD") in STATE and its handles in *HANDLES (if not
 * NULL); -1 if absent. */
static int proc_line(const char *out, pid_t pid, char state[8], unsigned long long *handles)
{
	const char *p = strstr(out, "\nprocesses (");
	cr_assert(p, "no processes section:\n%s", out);
	for (p = strchr(p + 1, '\n'); p && p[1] == ' '; p = strchr(p + 1, '\n')) {
		unsigned slot, lpid;
		char st[8];
		unsigned long long h;
		if (sscanf(p + 1, " slot %u pid %u %7s %llu handles", &slot, &lpid, st, &h) == 4 &&
		    lpid == (unsigned)pid) {
			strcpy(state, st);
			if (handles)
				*handles = h;
			return (int)slot;
		}
	}
	return -1;
}

Test(tools, stat_shows_memory_objects_and_names, .init = named_setup, .fini = named_teardown)
{
	struct known k = populate(NA);
	char *out = stat_out(NA_name);
	unsigned version;
	uint64_t fp;
	{
		shmc_view_t *v;
		ASSERT_OK(shmc_view_open(NA_name, &v));
		ASSERT_OK(shmc_view_format_version(v, &version, &fp));
		shmc_view_close(v);
	}
	cr_assert(has_line(out, fmt("arena %s: shmc format %u (layout %016" PRIx64
				    "), library %s", NA_name, version, fp, shmc_version())),
		  "%s", out);
	cr_assert(strstr(out, "\n  capacity 4.0 MiB, committed ") != NULL, "%s", out);
	cr_assert(strstr(out, "\n  page pool ") && strstr(out, " given back to the system ("),
		  "%s", out);
	cr_assert(has_line(out, "  locks recovered from dead holders: 0"), "%s", out);
	cr_assert(strstr(out, "\nmemory by size class (bytes: blocks in use / free):\n"), "%s",
		  out);
	cr_assert(strstr(out, "objects by kind:\n"
			      "  Namespace          1\n"
			      "  list               1\n"
			      "  dict               3\n"
			      "named objects:\n"),
		  "%s", out);
	/* The directory holds one reference to each; config holds one to jobs. */
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d items, %d refs", "jobs",
				    "list", k.jobs, 10, 2)), "%s", out);
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d items, %d refs", "config",
				    "dict", k.config, 5, 1)), "%s", out);
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d items, %d refs",
				    "settings", "dict", k.settings, 2, 1)), "%s", out);
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d items, %d refs", "state",
				    "Namespace", k.state, 5, 1)), "%s", out); /* '_hidden' is not */
	cr_assert(strstr(out, fmt("%#" PRIx64, k.inner)) == NULL,
		  "an unnamed object listed as named:\n%s", out);
	/* This process only: attached, alive. */
	char st[8];
	cr_assert(strstr(out, "\nprocesses (1 slots in use):\n"), "%s", out);
	cr_assert_geq(proc_line(out, getpid(), st, NULL), 0, "%s", out);
	cr_assert_str_eq(st, "alive");
	cr_assert(strstr(out, "\nlocks held: 0\n"), "%s", out);
	cr_assert(out[strlen(out) - 1] == '\n');
	buf_release(out);
}

/* A child that attaches (by fork) and holds handles, says so on the pipe
 * *P, then waits to be killed. */
static int hold_handles(void *p)
{
	shmc_obj_t *a, *b;
	CHILD_OK(shmc_root_find(NA, "jobs", &a));
	CHILD_OK(shmc_root_find(NA, "state", &b));
	CHILD_CHECK(say(*(int *)p));
	for (;;)
		pause();
}

/* Fork FN(&write end of a pipe) and return once it has said it is ready. */
static pid_t child_ready(int (*fn)(void *), const char *ready)
{
	int p[2];
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	pid_t pid = fork_fn(fn, &p[1]);
	close(p[1]);
	cr_assert(hear(p[0]), "the child died before it %s", ready);
	close(p[0]);
	return pid;
}

Test(tools, stat_shows_processes_alive_then_dead, .init = named_setup, .fini = named_teardown)
{
	populate(NA);
	pid_t child = child_ready(hold_handles, "held its handles");
	char st[8];
	unsigned long long handles = 0;
	char *out = stat_out(NA_name);
	cr_assert(strstr(out, "\nprocesses (2 slots in use):\n"), "%s", out);
	cr_assert_geq(proc_line(out, getpid(), st, NULL), 0, "%s", out);
	cr_assert_str_eq(st, "alive");
	int slot = proc_line(out, child, st, &handles);
	cr_assert_geq(slot, 0, "the child is not listed:\n%s", out);
	cr_assert_str_eq(st, "alive");
	cr_assert_eq(handles, 2, "%s", out);
	buf_release(out);

	cr_assert(kill_wait(child));
	out = stat_out(NA_name);
	cr_assert(strstr(out, "\nprocesses (2 slots in use):\n"), "%s", out);
	cr_assert_eq(proc_line(out, child, st, &handles), slot, "%s", out);
	cr_assert_str_eq(st, "DEAD", "%s", out);
	cr_assert_eq(handles, 2, "%s", out);
	cr_assert_geq(proc_line(out, getpid(), st, NULL), 0, "%s", out);
	cr_assert_str_eq(st, "alive");
	buf_release(out);

	/* shmc-check sees the dead process; --reap releases it. */
	struct run r = run_tool("shmc-check", NA_name, NULL);
	cr_assert_eq(exited(&r, "shmc-check"), 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "; 1 dead processes\n"), "%s", r.out);
	run_free(&r);
	r = run_tool("shmc-check", "--reap", NA_name, NULL);
	cr_assert_eq(exited(&r, "shmc-check --reap"), 0, "%s%s", r.out, r.err);
	/* It reports what it released: the one dead process. */
	cr_assert(strstr(r.out, "; 0 dead processes; reaped 1, swept 0 blocks\n"),
		  "shmc-check --reap does not report the dead process it released:\n%s", r.out);
	run_free(&r);
	out = stat_out(NA_name);
	cr_assert(strstr(out, "\nprocesses (1 slots in use):\n"), "%s", out);
	cr_assert_lt(proc_line(out, child, st, NULL), 0, "%s", out);
	buf_release(out);
}

/* Holding a container's lock: the update function tells the parent on the
 * pipe *CTX, then waits inside the update until it is killed. */
static int in_update(shmc_value_t *v, void *ctx)
{
	(void)v;
	CHILD_CHECK(say(*(int *)ctx));
	for (;;)
		pause();
	return 0;
}

static int hold_lock(void *p)
{
	shmc_obj_t *jobs;
	CHILD_OK(shmc_root_find(NA, "jobs", &jobs));
	CHILD_OK(shmc_list_update(jobs, 0, in_update, p));
	return 1; /* never reached */
}

Test(tools, stat_shows_a_held_lock_and_its_dead_holder, .init = named_setup,
     .fini = named_teardown)
{
	struct known k = populate(NA);
	pid_t child = child_ready(hold_lock, "held the lock");

	char st[8];
	char *out = stat_out(NA_name);
	int slot = proc_line(out, child, st, NULL);
	cr_assert_geq(slot, 0, "%s", out);
	cr_assert(strstr(out, "\nlocks held: 1\n"), "%s", out);
	cr_assert(has_line(out, fmt("  list %#" PRIx64 " \"jobs\": held by slot %d (pid %d, alive)",
				    k.jobs, slot, (int)child)), "%s", out);
	buf_release(out);
	/* The tools take no lock: dump and check do not wait for the holder. */
	struct run r = run_tool("shmc-dump", NA_name, "jobs/0", NULL);
	cr_assert_eq(exited(&r, "shmc-dump"), 0, "%s", r.err);
	cr_assert_str_eq(r.out, "1\n");
	run_free(&r);
	r = run_tool("shmc-check", "-q", NA_name, NULL);
	cr_assert_eq(exited(&r, "shmc-check"), 0, "%s%s", r.out, r.err);
	run_free(&r);

	cr_assert(kill_wait(child));
	out = stat_out(NA_name);
	cr_assert(strstr(out, "\nlocks held: 1\n"), "%s", out);
	cr_assert(has_line(out, fmt("  list %#" PRIx64 " \"jobs\": held by slot %d (pid %d, "
				    "DEAD: the next locker recovers it)", k.jobs, slot,
				    (int)child)), "%s", out);
	cr_assert_eq(proc_line(out, child, st, NULL), slot);
	cr_assert_str_eq(st, "DEAD");
	buf_release(out);

	/* The next writer recovers the lock; stat shows that. */
	shmc_obj_t *jobs;
	ASSERT_OK(shmc_root_find(NA, "jobs", &jobs));
	ASSERT_OK(shmc_list_append(jobs, shmc_int(11)));
	cr_assert_eq(shmc_list_len(jobs), 11);
	shmc_obj_release(jobs);
	out = stat_out(NA_name);
	cr_assert(strstr(out, "\nlocks held: 0\n"), "%s", out);
	cr_assert(has_line(out, "  locks recovered from dead holders: 1"), "%s", out);
	buf_release(out);
}
