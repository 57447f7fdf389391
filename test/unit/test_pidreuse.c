/*
 * test_pidreuse.c -- death detection is not fooled by PID reuse.
 *
 * Inside a new PID namespace (so that pids are small, predictable and ours
 * alone) a victim attached to an arena is killed while it holds an object's
 * lock, and a new process attached to the same arena is made to get the
 * victim's pid (ns_last_pid = victim - 1, then fork). Then:
 *   - the victim's slot still reads as dead (shmc_view_procs, shmc-check's
 *     count of dead processes, the lock owner shown by shmc_view_objects),
 *     although a live, attached process now has its pid;
 *   - the new process, with the victim's very pid, sees the victim's lock
 *     token as dead and takes the lock over with the owner-died outcome;
 *   - no live process (the victim before its death, the new process, the
 *     namespace's init) is ever classified dead.
 * The test skips, saying why, where it may not create a PID namespace or
 * choose pids.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sched.h>
#include <time.h>

#include "objects/obj.h"
#include "arena/olock.h"
#include "testutil.h"

TestSuite(pidreuse, .timeout = 60);

#define SKIP_STATUS 77  /* cannot choose pids */
#define NO_NAMESPACE 78 /* cannot make a PID namespace */

static char arena_name[64];

static int held_fd = -1; /* the victim says here that it holds the lock */

/* Runs with the namespace's lock held: say so, and never return. */
static int hold_forever(shmc_value_t *v, void *ctx)
{
	(void)v;
	(void)ctx;
	say(held_fd);
	for (;;)
		pause();
	return 0;
}

struct procs_seen {
	uint32_t pid;      /* the pid looked for */
	int alive, dead;   /* slots with that pid, by verdict */
	int others_dead;   /* slots of other pids classified dead */
};

static int count_proc(void *ctx, const shmc_proc_info_t *p)
{
	struct procs_seen *s = ctx;
	if (p->pid == s->pid) {
		if (p->alive)
			s->alive++;
		else
			s->dead++;
	} else if (!p->alive) {
		s->others_dead++;
	}
	return 0;
}

static struct procs_seen procs_with_pid(uint32_t pid)
{
	struct procs_seen s = {.pid = pid};
	shmc_view_t *v;
	CHILD_OK(shmc_view_open(arena_name, &v));
	CHILD_OK(shmc_view_procs(v, count_proc, &s));
	shmc_view_close(v);
	return s;
}

struct lock_seen {
	int locked;
	uint32_t pid;
	bool alive;
};

static int find_lock(void *ctx, const shmc_object_info_t *o)
{
	struct lock_seen *l = ctx;
	if (o->kind == SHMC_KIND_NAMESPACE && o->locked) {
		l->locked++;
		l->pid = o->lock_pid;
		l->alive = o->lock_owner_alive;
	}
	return 0;
}

static struct lock_seen namespace_lock(void)
{
	struct lock_seen l = {0};
	shmc_view_t *v;
	CHILD_OK(shmc_view_open(arena_name, &v));
	CHILD_OK(shmc_view_objects(v, find_lock, &l));
	shmc_view_close(v);
	return l;
}

static uint64_t dead_processes(void)
{
	shmc_check_report_t rep;
	int rc = shmc_arena_check_file(arena_name, &rep, NULL, NULL);
	CHILD_CHECK(rc == 0 || rc == SHMC_ECORRUPT);
	CHILD_CHECK(rep.errors == 0);
	return rep.dead_processes;
}

static uint64_t lock_recoveries(shmc_arena_t *a)
{
	shmc_arena_stats_t st;
	CHILD_OK(shmc_arena_stats(a, &st));
	return st.lock_recoveries;
}

/* Make the next fork() in this PID namespace get PID. @return 0 or -errno */
static int next_pid_is(pid_t pid)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid - 1);
	int rc = write(fd, buf, (size_t)n) == n ? 0 : -errno;
	close(fd);
	return rc;
}

/* The new process with the victim's pid: attached (by fork), alive. It
 * checks that the lock the victim died holding names a dead owner, takes
 * it over, and waits to be told to go. */
static int newcomer(shmc_arena_t *a, shmc_obj_t *ns, int ready, int go)
{
	struct shmc__obj *o;
	CHILD_OK(shmc__resolve(ns, SHMC_KIND_NAMESPACE, &o));
	uint32_t token = atomic_load(&o->lock.word) & ~SHMC__OLOCK_WAITERS;
	CHILD_CHECK(token != 0);
	/* Its owner had our pid; it is dead all the same. */
	CHILD_CHECK(!shmc__token_alive(a, token));
	CHILD_CHECK(lock_recoveries(a) == 0);
	CHILD_OK(shmc_namespace_set(ns, "x", shmc_int(1)));
	CHILD_CHECK(lock_recoveries(a) == 1); /* taken over: owner died */
	CHILD_CHECK(say(ready));
	CHILD_CHECK(hear(go));
	shmc_obj_release(ns);
	shmc_arena_close(a);
	return 0;
}

/* The namespace's init (pid 1): runs the scenario; exit status 0, 1 (a
 * check failed) or SKIP_STATUS. */
static int scenario(void)
{
	shmc_arena_options_t opts = {.capacity = 8 << 20};
	shmc_arena_t *a;
	shmc_obj_t *ns;
	int held[2], ready[2], go[2];
	CHILD_OK(shmc_arena_create(arena_name, &opts, &a));
	CHILD_OK(shmc_root_find_or_create(a, "ns", SHMC_KIND_NAMESPACE, &ns));
	CHILD_OK(shmc_namespace_set(ns, "x", shmc_int(0)));
	CHILD_CHECK(pipe(held) == 0 && pipe(ready) == 0 && pipe(go) == 0);
	fflush(NULL);

	/* A placeholder takes the slot after ours and gives it back, so that
	 * the newcomer later claims that free slot and not the victim's (a
	 * claim would reap the victim's slot, as it should). */
	pid_t placeholder = fork();
	CHILD_CHECK(placeholder >= 0);
	if (placeholder == 0) {
		CHILD_CHECK(hear(go[0]));
		shmc_obj_release(ns);
		shmc_arena_close(a);
		_exit(0);
	}
	pid_t victim = fork();
	CHILD_CHECK(victim >= 0);
	if (victim == 0) {
		held_fd = held[1];
		CHILD_OK(shmc_namespace_update(ns, "x", hold_forever, NULL));
		_exit(1); /* not reached */
	}
	CHILD_CHECK(say(go[1]));
	int st;
	CHILD_CHECK(waitpid(placeholder, &st, 0) == placeholder && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0);
	CHILD_CHECK(hear(held[0]));

	/* Alive, holding the lock: never classified dead. */
	struct procs_seen s = procs_with_pid((uint32_t)victim);
	CHILD_CHECK(s.alive == 1 && s.dead == 0 && s.others_dead == 0);
	struct lock_seen l = namespace_lock();
	CHILD_CHECK(l.locked == 1 && l.pid == (uint32_t)victim && l.alive);
	CHILD_CHECK(dead_processes() == 0);

	CHILD_CHECK(kill(victim, SIGKILL) == 0);
	CHILD_CHECK(waitpid(victim, &st, 0) == victim && WIFSIGNALED(st));
	s = procs_with_pid((uint32_t)victim);
	CHILD_CHECK(s.alive == 0 && s.dead == 1 && s.others_dead == 0);

	/* The victim's pid goes to a new process, attached to the arena. */
	int rc = next_pid_is(victim);
	if (rc) {
		fprintf(stderr, "pidreuse: cannot choose pids (ns_last_pid: %s)\n",
			strerror(-rc));
		_exit(SKIP_STATUS);
	}
	fflush(NULL);
	pid_t reborn = fork();
	CHILD_CHECK(reborn >= 0);
	if (reborn == 0)
		_exit(newcomer(a, ns, ready[1], go[0]));
	close(ready[1]); /* so that hearing nothing means it failed */
	if (reborn != victim) {
		fprintf(stderr, "pidreuse: the new process got pid %d, not %d\n", (int)reborn,
			(int)victim);
		kill(reborn, SIGKILL);
		_exit(1);
	}
	CHILD_CHECK(hear(ready[0]));

	/* The newcomer's slot, alive, and the victim's, dead -- or already
	 * reaped by the fork (each fork reaps a few dead slots): never two
	 * live ones for one pid. The ns lock was taken over and released by
	 * the newcomer. */
	s = procs_with_pid((uint32_t)victim);
	CHILD_CHECK(s.alive == 1 && s.dead <= 1 && s.others_dead == 0);
	CHILD_CHECK(dead_processes() == (uint64_t)s.dead);
	l = namespace_lock();
	CHILD_CHECK(l.locked == 0);
	CHILD_CHECK(lock_recoveries(a) == 1);
	shmc_value_t x;
	CHILD_OK(shmc_namespace_get(ns, "x", &x));
	CHILD_CHECK(x.type == SHMC_INT && x.i == 1);

	CHILD_CHECK(say(go[1]));
	CHILD_CHECK(waitpid(reborn, &st, 0) == reborn && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0);
	/* Now reap the victim's leftovers. */
	CHILD_CHECK(shmc_arena_reclaim(a) >= 0);
	CHILD_CHECK(dead_processes() == 0);
	s = procs_with_pid((uint32_t)victim);
	CHILD_CHECK(s.alive == 0 && s.dead == 0);
	shmc_obj_release(ns);
	shmc_arena_close(a);
	return 0;
}

/* In a child (so that this process stays in its own PID namespace, where
 * sanitizers' exit-time work expects it): a new PID namespace, whose init
 * runs the scenario. Exits with the scenario's status, or NO_NAMESPACE. */
static int in_new_namespace(void)
{
	if (unshare(CLONE_NEWPID) != 0) {
		fprintf(stderr, "pidreuse: unshare(CLONE_NEWPID): %s\n", strerror(errno));
		return NO_NAMESPACE;
	}
	fflush(NULL);
	pid_t init = fork();
	if (init < 0)
		return 1;
	if (init == 0)
		_exit(getpid() == 1 ? scenario() : NO_NAMESPACE);
	int st;
	if (waitpid(init, &st, 0) != init || !WIFEXITED(st))
		return 1;
	return WEXITSTATUS(st);
}

Test(pidreuse, a_reused_pid_does_not_revive_a_dead_process)
{
	snprintf(arena_name, sizeof(arena_name), "shmc-test-pidreuse-%d", (int)getpid());
	shmc_arena_unlink(arena_name);
	fflush(NULL);
	pid_t helper = fork();
	cr_assert(helper >= 0, "fork: %s", strerror(errno));
	if (helper == 0)
		_exit(in_new_namespace());
	int st;
	cr_assert_eq(waitpid(helper, &st, 0), helper);
	shmc_arena_unlink(arena_name);
	if (WIFEXITED(st) && WEXITSTATUS(st) == NO_NAMESPACE)
		cr_skip_test("cannot create a PID namespace here (see the message above)");
	if (WIFEXITED(st) && WEXITSTATUS(st) == SKIP_STATUS)
		cr_skip_test("cannot choose pids in a PID namespace here (see above)");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "the scenario failed (status %#x): see its messages", st);
}
