/*
 * synctest.h -- helpers for the tests of locks, queues and the other
 * synchronisation objects: forking children that block, waiting for them
 * with a time limit, killing them, and a scratch page shared with them
 * outside the arena (so that the tests' own bookkeeping cannot be what is
 * being tested).
 */
#ifndef SHMC_SYNCTEST_H
#define SHMC_SYNCTEST_H

#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include "memory/alloc.h"
#include "memory/epoch.h"
#include "objects/obj.h"
#include "testutil.h"

/* Run OP(CTX) with the (n+1)-th allocation failing, n = 0, 1, 2 ... until
 * it succeeds; each failure must be SHMC_EFULL and leave the arena's bytes
 * in use as they were. @return OP's last result; *nfail gets the failures */
static inline int inject_until_ok(shmc_arena_t *a, int (*op)(void *ctx), void *ctx,
				  int *nfail)
{
	int rc = SHMC_EFULL;
	*nfail = 0;
	for (long n = 0; n < 100; n++) {
		size_t before = arena_in_use(a);
		shmc__alloc_fail_after(n);
		rc = op(ctx);
		shmc__alloc_fail_after(-1);
		if (rc != SHMC_EFULL)
			break;
		(*nfail)++;
		if (arena_in_use(a) != before) {
			fprintf(stderr, "failure %ld leaked %zd bytes\n", n,
				(ssize_t)(arena_in_use(a) - before));
			return -1000;
		}
	}
	return rc;
}

/* A handle for the object at OFF in A: how a process that opened a named
 * arena reaches an object until named roots exist (as helper_peer does). */
static inline int wrap_off(shmc_arena_t *a, uint64_t off, shmc_obj_t **out)
{
	struct shmc__rec *r = shmc__epoch_rec(a);
	if (r == NULL)
		return SHMC_ETHREADS;
	shmc__epoch_enter(a, r);
	int rc = shmc__obj_wrap(a, off, out);
	shmc__epoch_exit(r);
	return rc;
}

static inline double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A zeroed shared anonymous mapping of SIZE bytes, outside the arena. */
static inline void *shared_page(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	return p;
}

/* Fork a child running FN(ARG), which exits with FN's result. The child
 * dies with the test process: a failed test leaves no process behind. */
static inline pid_t fork_fn(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		_exit(fn(arg));
	}
	return pid;
}

/* Stop the N processes PIDS wherever they are (as if killed there), and
 * let them go on. */
static inline void stop_all(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGSTOP);
	for (int i = 0; i < n; i++) {
		int st;
		waitpid(pids[i], &st, WUNTRACED);
	}
}

static inline void cont_all(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGCONT);
}

/* Print each finding of an arena check. */
static inline void print_finding(void *ctx, const char *msg)
{
	fprintf(stderr, "%s: %s\n", (const char *)ctx, msg);
}

#define CHILD_HUNG (-2)
#define CHILD_KILLED (-1)

/* Wait at most TIMEOUT seconds for PID: its exit status, CHILD_KILLED if a
 * signal ended it, or CHILD_HUNG (then it is killed and reaped). */
static inline int wait_exit(pid_t pid, double timeout)
{
	double end = now_s() + timeout;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : CHILD_KILLED;
		if (r < 0)
			return CHILD_KILLED;
		if (now_s() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return CHILD_HUNG;
		}
		usleep(200);
	}
}

/* SIGKILL PID and reap it. */
static inline void kill_wait(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* Poll FLAG until it is at least WANT, for at most TIMEOUT seconds. */
static inline bool wait_flag(_Atomic int *flag, int want, double timeout)
{
	double end = now_s() + timeout;
	while (atomic_load(flag) < want) {
		if (now_s() > end)
			return false;
		usleep(50);
	}
	return true;
}

/* Poll FN(ARG) until it returns at least WANT, for at most TIMEOUT seconds. */
static inline bool wait_count(int64_t (*fn)(shmc_obj_t *), shmc_obj_t *h, int64_t want,
			      double timeout)
{
	double end = now_s() + timeout;
	while (fn(h) < want) {
		if (now_s() > end)
			return false;
		usleep(50);
	}
	return true;
}

#endif
