/*
 * testutil.h -- the fixtures the test programs share: the one test header.
 *
 * Three sections, each for what its users can see:
 *
 *   1. Everywhere (Criterion tests, stress programs, helpers; the public
 *      header only): children that report through their exit status,
 *      arenas and their leak check, time and the deadline, forking children
 *      that die with the test, waiting for events with a deadline (a
 *      child's exit, a flag on a shared page, a count), one-byte pipe
 *      messages, the build's programs.
 *   2. Criterion tests (include <criterion/criterion.h> first): ASSERT_OK,
 *      the arena fixture A, str()/repr() checks, files removed by the
 *      fixture and unique arena names, reading a whole file, running a
 *      program with a deadline and capturing its output, python3.
 *   3. White-box (#define SHMC_TEST_WHITEBOX before including; needs -Ilib,
 *      so unit and integration tests and helpers only, never api tests):
 *      failure injection, a handle for an object's offset.
 *
 * Children forked by a test never call cr_assert: they report through their
 * exit status (0 = success), which the parent checks.
 *
 * Tests wait for events, never for time: whatever must happen (a child
 * ready, a sleeper registered, a process gone) is polled for with
 * TEST_DEADLINE, so a loaded machine is slow but does not fail them.
 */
#ifndef SHMC_TESTUTIL_H
#define SHMC_TESTUTIL_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <shmc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* 1. Everywhere ============================================================ */

/* In a child: exit with a line number when a call fails. */
#define CHILD_OK(call)                                                         \
	do {                                                                   \
		int rc_ = (int)(call);                                         \
		if (rc_ < 0) {                                                 \
			fprintf(stderr, "child %d: %s:%d: %s -> %s\n", getpid(), \
				__FILE__, __LINE__, #call, shmc_errname(rc_)); \
			_exit(1);                                              \
		}                                                              \
	} while (0)
#define CHILD_CHECK(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "child %d: %s:%d: %s failed\n", getpid(), \
				__FILE__, __LINE__, #cond);                    \
			_exit(1);                                              \
		}                                                              \
	} while (0)

/* How much slower than usual this machine may be: SHMC_TEST_SLOW=N (a
 * number >= 1, default 1) multiplies every deadline of the tests (and
 * Criterion's timeouts, section 2), for a loaded machine, valgrind, a
 * sanitizer on a slow box. Builds under a sanitizer count double. */
static inline double test_slow(void)
{
	static double k;
	if (k == 0) {
		const char *s = getenv("SHMC_TEST_SLOW");
		char *end;
		double v = s && *s ? strtod(s, &end) : 1;
		if (!(v >= 1 && v <= 1000) || (s && *s && *end))
			v = 1;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
		v *= 2;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
		v *= 2;
#endif
#endif
		k = v;
	}
	return k;
}

/* Seconds to wait for anything that must happen: a child ready or gone, a
 * sleeper registered, a blocking call that should succeed. Generous, so
 * that only a real hang fails; a passing test never waits it out. */
#define TEST_DEADLINE (30.0 * test_slow())

/* Seconds a call that must return at once, or at its timeout, may be late
 * on a loaded machine (a process waiting for a CPU behind 20 others): the
 * bound that tells "returned" from "waited for ever" or "took its timeout
 * in the wrong unit". */
#define TEST_LATE (1.0 * test_slow())

/* Arenas ------------------------------------------------------------------- */

static inline shmc_arena_t *test_arena(size_t capacity)
{
	shmc_arena_options_t o = {.capacity = capacity};
	shmc_arena_t *a = NULL;
	int rc = shmc_arena_create_anon(&o, &a);
	if (rc) {
		fprintf(stderr, "arena: %s\n", shmc_strerror(rc));
		abort();
	}
	return a;
}

/* Create the arena named NAME of CAPACITY bytes (a fixture: abort when it
 * cannot). */
static inline shmc_arena_t *test_named_arena(const char *name, size_t capacity)
{
	shmc_arena_options_t o = {.capacity = capacity};
	shmc_arena_t *a = NULL;
	int rc = shmc_arena_create(name, &o, &a);
	if (rc) {
		fprintf(stderr, "create %s: %s\n", name, shmc_errname(rc));
		abort();
	}
	return a;
}

/* Bytes in use once everything retired has been reclaimed. */
static inline size_t arena_in_use(shmc_arena_t *a)
{
	for (int i = 0; i < 4; i++)
		shmc_arena_reclaim(a);
	shmc_arena_stats_t st;
	if (shmc_arena_stats(a, &st) != 0)
		abort();
	return st.bytes_in_use;
}

/* Make this process's bookkeeping (handle table, retire queue) exist, so
 * that a baseline taken afterwards counts only containers and values. */
static inline void arena_warm(shmc_arena_t *a)
{
	shmc_obj_t *ls;
	if (shmc_list_new(a, &ls) != 0 || shmc_list_append(ls, shmc_float(1.5)) != 0 ||
	    shmc_list_set(ls, 0, shmc_float(2.5)) != 0)
		abort();
	shmc_obj_release(ls);
}

/* Abort (which fails the run even from a Criterion .fini) when the arena
 * holds more than it did at BASE. Less is no leak -- a dict whose deleted
 * keys were compacted away may hold a smaller table than at BASE -- but a
 * block freed twice would look the same: then the arena check must find
 * every block accounted for. */
static inline void arena_leak_check(shmc_arena_t *a, size_t base)
{
	size_t now = arena_in_use(a);
	if (now > base) {
		fprintf(stderr, "arena memory leaked: %zd bytes\n", (ssize_t)(now - base));
		abort();
	}
	if (now < base) {
		shmc_check_report_t r = {0};
		if (shmc_arena_check(a, 0, &r, NULL, NULL) != 0 || r.errors || r.leaked_blocks) {
			fprintf(stderr, "arena memory below its start by %zd bytes, and the "
					"arena check finds %llu errors, %llu leaked blocks\n",
				(ssize_t)(base - now), (unsigned long long)r.errors,
				(unsigned long long)r.leaked_blocks);
			abort();
		}
	}
}

/* str() of a managed object, or "<error>"; the caller frees. */
static inline char *obj_str(shmc_obj_t *o)
{
	char *s;
	return shmc_obj_str(o, &s) == 0 ? s : strdup("<error>");
}

static inline char *value_repr(shmc_value_t v)
{
	char *s;
	return shmc_value_repr(v, &s) == 0 ? s : strdup("<error>");
}

/* Print each finding of an arena check (a shmc_arena_check callback); CTX
 * is a prefix, or NULL. */
static inline void print_finding(void *ctx, const char *msg)
{
	fprintf(stderr, "  %s%s%s\n", ctx ? (const char *)ctx : "", ctx ? ": " : "", msg);
}

/* Time, hashing ------------------------------------------------------------ */

static inline double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A 64-bit mix (splitmix64's finaliser): pseudo-random values from a seed. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	return x ^ (x >> 33);
}

/* Children ----------------------------------------------------------------- */

/* A zeroed shared anonymous mapping of SIZE bytes, outside any arena (so
 * that the tests' own bookkeeping cannot be what is being tested). */
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

/* Fork N children running FN(i, ARG) and wait for all; returns how many
 * failed (non-zero exit or killed). GATED: no child starts FN before the
 * last one is forked -- each fork() reaps the slots of processes already
 * dead (lifecycle/fork.c), so a test that looks at what dead children left
 * must not let the first die while the parent is still forking. */
static inline int run_children_ex(int n, int (*fn)(int i, void *arg), void *arg, bool gated)
{
	pid_t pids[256];
	int gate[2] = {-1, -1};
	if (gated && pipe(gate) != 0)
		abort();
	fflush(NULL);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			abort();
		if (pids[i] == 0) {
			char c;
			if (gated) {
				close(gate[1]);
				if (read(gate[0], &c, 1) != 0) /* EOF: all are forked */
					_exit(126);
			}
			_exit(fn(i, arg));
		}
	}
	if (gated) {
		close(gate[0]);
		close(gate[1]);
	}
	int failed = 0;
	for (int i = 0; i < n; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	return failed;
}

static inline int run_children(int n, int (*fn)(int i, void *arg), void *arg)
{
	return run_children_ex(n, fn, arg, false);
}

static inline int run_children_gated(int n, int (*fn)(int i, void *arg), void *arg)
{
	return run_children_ex(n, fn, arg, true);
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
		usleep(200); /* a poll interval */
	}
}

/* SIGKILL PID and reap it. @return true when the kill is what ended it */
static inline bool kill_wait(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
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

/* Waiting for events ------------------------------------------------------- */

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

/* Poll FN(H) until it returns at least WANT, for at most TIMEOUT seconds. */
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

/* One byte through a pipe: say() sends it (false when the other end is
 * closed); hear() waits for it (false when the other end closed first). */
static inline bool say(int fd)
{
	return write(fd, "!", 1) == 1;
}

static inline bool hear(int fd)
{
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1;
}

/* The build's programs ----------------------------------------------------- */

/* The path of program NAME in folder SUB ("test", "tools", "examples") of
 * this build: $SHMC_BUILD/SUB/NAME (test/run-tests.sh sets it), else
 * beside this program's folder (build/x/test/../SUB/NAME). PATH (N bytes)
 * receives it. @return PATH, or NULL when no executable is there */
static inline const char *build_program(const char *sub, const char *name, char *path,
					size_t n)
{
	const char *b = getenv("SHMC_BUILD");
	if (b && *b) {
		int w = snprintf(path, n, "%s/%s/%s", b, sub, name);
		if (w < 0 || (size_t)w >= n)
			return NULL;
	} else {
		char exe[4096];
		ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (len <= 0)
			return NULL;
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		/* A truncated path would name another file: refuse it. */
		int w = snprintf(path, n, "%s/../%s/%s", slash ? exe : ".", sub, name);
		if (w < 0 || (size_t)w >= n)
			return NULL;
	}
	return access(path, X_OK) == 0 ? path : NULL;
}

/* 2. Criterion tests ======================================================= */

#ifdef CRITERION_H_
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>
#include <fcntl.h>
#include <spawn.h>

extern char **environ;

/* A Criterion timeout (TestSuite's or Test's .timeout) of at least
 * TEST_TIMEOUT_MIN seconds, scaled like TEST_DEADLINE: a timeout catches a
 * hang, and a test that takes 5 s alone may take 50 beside a busy load. */
#define TEST_TIMEOUT_MIN 120.0
static inline double test_timeout(double t)
{
	return t > 0 ? (t < TEST_TIMEOUT_MIN ? TEST_TIMEOUT_MIN : t) * test_slow() : t;
}

/* The runner reads the timeouts when it starts each test, after this hook
 * has run in it. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	for (struct criterion_ordered_set_node *ns = set->suites->first; ns; ns = ns->next) {
		struct criterion_suite_set *ss = (void *)(ns + 1);
		if (ss->suite.data)
			ss->suite.data->timeout = test_timeout(ss->suite.data->timeout);
		for (struct criterion_ordered_set_node *nt = ss->tests ? ss->tests->first : NULL;
		     nt; nt = nt->next) {
			struct criterion_test *t = (void *)(nt + 1);
			if (t->data)
				t->data->timeout = test_timeout(t->data->timeout);
		}
	}
}

#define ASSERT_OK(call)                                                        \
	do {                                                                   \
		int rc_ = (int)(call);                                         \
		cr_assert_eq(rc_, 0, "%s -> %s (%d)", #call, shmc_errname(rc_), rc_); \
	} while (0)
#define ASSERT_ERR(call, code)                                                 \
	do {                                                                   \
		int rc_ = (int)(call);                                         \
		cr_assert_eq(rc_, (code), "%s -> %s, expected %s", #call,      \
			     shmc_errname(rc_), shmc_errname(code));           \
	} while (0)

/* The usual fixture: a fresh arena A per test, checked for leaks after. */
static shmc_arena_t *A;
static size_t A_base;
__attribute__((unused)) static void arena_setup(void)
{
	A = test_arena(64 << 20);
	arena_warm(A);
	A_base = arena_in_use(A);
}
__attribute__((unused)) static void arena_teardown(void)
{
	arena_leak_check(A, A_base);
	shmc_arena_close(A);
}

/* Python's str() of O, and repr() of V, must be WANT. */
static inline void expect_str(shmc_obj_t *o, const char *want)
{
	char *s = obj_str(o);
	cr_assert_str_eq(s, want);
	shmc_free(s);
}

static inline void expect_repr(shmc_value_t v, const char *want)
{
	char *s = value_repr(v);
	cr_assert_str_eq(s, want);
	shmc_free(s);
}

/* Files made by the test, removed by the fixture (files_cleanup in .fini).
 * A test that crashes skips its fixture: crash_cleanup_install() makes a
 * fatal signal remove them on the way out first. */
static char tracked[16][256];
static int ntracked;
static pid_t tracked_owner;

static inline void track(const char *path)
{
	cr_assert(ntracked < 16);
	snprintf(tracked[ntracked++], sizeof(tracked[0]), "%s", path);
}

static inline void files_cleanup(void)
{
	for (int i = 0; i < ntracked; i++)
		unlink(tracked[i]);
	ntracked = 0;
}

/* unlink is async-signal-safe; a forked child leaves the files alone. */
static inline void crash_cleanup(int sig)
{
	for (int i = 0; getpid() == tracked_owner && i < ntracked; i++)
		unlink(tracked[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void crash_cleanup_install(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTERM};
	tracked_owner = getpid();
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], crash_cleanup);
}

/* An arena name unique to this test process and TAG ("shmc-test-PID-TAG");
 * PATH gets its file in /dev/shm, which is tracked, and a leftover of a
 * killed run with the same pid is removed. */
static inline void unique_name(char *name, size_t n, char *path, size_t pn, const char *tag)
{
	snprintf(name, n, "shmc-test-%d-%s", (int)getpid(), tag);
	snprintf(path, pn, "/dev/shm/%s", name);
	unlink(path);
	track(path);
}

#ifdef SHMC_TEST_NAMED_FIXTURE
/* The named fixture, for programs that define SHMC_TEST_NAMED_FIXTURE: a
 * named arena NA (64 MiB) per test, its file tracked, checked for leaks
 * after the test. */
static shmc_arena_t *NA;
static size_t NA_base;
static char NA_name[128], NA_path[256];

static void named_setup(void)
{
	unique_name(NA_name, sizeof(NA_name), NA_path, sizeof(NA_path), "named");
	NA = test_named_arena(NA_name, 64 << 20);
	arena_warm(NA);
	NA_base = arena_in_use(NA);
}

static void named_teardown(void)
{
	files_cleanup();
	arena_leak_check(NA, NA_base);
	shmc_arena_close(NA);
}
#endif

/* Append N bytes at P to the NUL-terminated buffer *B of *LEN bytes. */
static inline void buf_add(char **b, size_t *len, const char *p, size_t n)
{
	char *nb = realloc(*b, *len + n + 1);
	cr_assert(nb);
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*b = nb;
}

/* The whole of file PATH, NUL-terminated; *LEN (if not NULL) gets its
 * size. Symbolic links are not followed, and a FIFO reads as empty. The
 * caller frees. */
static inline char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	char *buf = calloc(1, 1), chunk[65536];
	size_t n = 0;
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			break;
		cr_assert(got >= 0, "read %s: %s", path, strerror(errno));
		if (got == 0)
			break;
		buf_add(&buf, &n, chunk, (size_t)got);
	}
	close(fd);
	if (len)
		*len = n;
	return buf;
}

/* Running programs --------------------------------------------------------- */

struct run {
	int status;     /* as waitpid gives it */
	bool timed_out; /* killed by us after the timeout */
	char *out, *err;
	size_t outlen, errlen;
};

/* Output buffers not yet freed: a failed assertion leaves the test at
 * once, and runs_cleanup() (in the fixture) frees them, so that a failure
 * brings no leak reports. */
static char *live_bufs[64];

static inline void live_track(char *p)
{
	for (int i = 0; i < 64; i++)
		if (live_bufs[i] == NULL) {
			live_bufs[i] = p;
			return;
		}
}

static inline void live_forget(char *p)
{
	for (int i = 0; i < 64; i++)
		if (live_bufs[i] == p)
			live_bufs[i] = NULL;
}

static inline void runs_cleanup(void)
{
	for (int i = 0; i < 64; i++) {
		free(live_bufs[i]);
		live_bufs[i] = NULL;
	}
}

static inline void run_free(struct run *r)
{
	live_forget(r->out);
	live_forget(r->err);
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* Run ARGV (argv[0] a path, or a name looked up in PATH), feeding it INPUT
 * (may be NULL: /dev/null), collecting its stdout and stderr; kill it after
 * TIMEOUT_MS. It is started with posix_spawn, which runs no fork handlers:
 * a plain fork() from a process attached to an arena would register the
 * child in it. */
static inline struct run run_input(char *const argv[], const char *input, size_t inlen,
				   int timeout_ms)
{
	struct run r = {0};
	int pin[2] = {-1, -1}, pout[2], perr[2];
	cr_assert(pipe2(pout, O_CLOEXEC) == 0 && pipe2(perr, O_CLOEXEC) == 0);
	if (input)
		cr_assert(pipe2(pin, O_CLOEXEC) == 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (input)
		posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	pid_t pid;
	int rc = strchr(argv[0], '/') ? posix_spawn(&pid, argv[0], &fa, NULL, argv, environ)
				       : posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s: %s", argv[0], strerror(rc));
	close(pout[1]);
	close(perr[1]);
	if (input) {
		close(pin[0]);
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	}
	r.out = calloc(1, 1);
	r.err = calloc(1, 1);
	size_t sent = 0;
	int fin = input ? pin[1] : -1, fout = pout[0], ferr = perr[0];
	if (fin >= 0 && inlen == 0) {
		close(fin);
		fin = -1;
	}
	double deadline = now_s() + timeout_ms / 1e3;
	bool exited = false;
	while (!exited) {
		double left = deadline - now_s();
		if (left <= 0) {
			kill(pid, SIGKILL);
			r.timed_out = true;
			break;
		}
		struct pollfd p[3];
		int n = 0;
		if (fout >= 0)
			p[n++] = (struct pollfd){fout, POLLIN, 0};
		if (ferr >= 0)
			p[n++] = (struct pollfd){ferr, POLLIN, 0};
		if (fin >= 0)
			p[n++] = (struct pollfd){fin, POLLOUT, 0};
		if (n == 0) { /* both closed: wait for the exit */
			pid_t w = waitpid(pid, &r.status, WNOHANG);
			cr_assert(w >= 0);
			if (w == pid)
				exited = true;
			else
				usleep(1000); /* a poll interval */
			continue;
		}
		int k = poll(p, (nfds_t)n, left > 0.1 ? 100 : (int)(left * 1e3) + 1);
		if (k < 0 && errno == EINTR)
			continue;
		cr_assert(k >= 0);
		for (int i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == fin) {
				ssize_t w = write(fin, input + sent, inlen - sent);
				if (w > 0)
					sent += (size_t)w;
				if (w < 0 || sent == inlen) { /* done, or it stopped reading */
					close(fin);
					fin = -1;
				}
				continue;
			}
			char buf[65536];
			ssize_t got = read(p[i].fd, buf, sizeof(buf));
			if (got > 0) {
				if (p[i].fd == fout)
					buf_add(&r.out, &r.outlen, buf, (size_t)got);
				else
					buf_add(&r.err, &r.errlen, buf, (size_t)got);
			} else if (got == 0 || errno != EINTR) {
				close(p[i].fd);
				if (p[i].fd == fout)
					fout = -1;
				else
					ferr = -1;
			}
		}
	}
	if (r.timed_out)
		cr_assert_eq(waitpid(pid, &r.status, 0), pid);
	if (fin >= 0)
		close(fin);
	if (fout >= 0)
		close(fout);
	if (ferr >= 0)
		close(ferr);
	live_track(r.out);
	live_track(r.err);
	return r;
}

/* Whether a working python3 is on PATH (checked once). */
static inline bool have_python3(void)
{
	static int have = -1;
	if (have < 0) {
		char *argv[] = {"python3", "-c", "import json, ast", NULL};
		struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 2e3));
		have = !r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
		run_free(&r);
	}
	return have;
}

/* What python3 prints running SCRIPT (python3 -c), or NULL when there is
 * no python3; the caller frees. A script that fails fails the test. */
static inline char *python3_output(const char *script)
{
	if (!have_python3())
		return NULL;
	char *argv[] = {"python3", "-c", (char *)script, NULL};
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 2e3));
	cr_assert(!r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		  "python3 failed: %s", r.err);
	char *out = strdup(r.out);
	run_free(&r);
	return out;
}

/* GOT, what shmc printed, must be WANT, what python3 printed for SCRIPT
 * (kept in the test for machines without it); where python3 is
 * installed, SCRIPT must print WANT now too. */
static inline void expect_python(const char *got, const char *want, const char *script)
{
	cr_assert_str_eq(got, want, "shmc printed:\n%s", got);
	char *py = python3_output(script);
	if (py) {
		cr_assert_str_eq(py, want, "python3 printed:\n%s", py);
		free(py);
	}
}
#endif /* CRITERION_H_ */

/* 3. White-box ============================================================= */

#ifdef SHMC_TEST_WHITEBOX
#include "memory/alloc.h"
#include "memory/epoch.h"
#include "objects/obj.h"

#ifdef CRITERION_H_
/* The allocator's size class for SIZE bytes. */
static inline unsigned class_of(uint64_t size)
{
	unsigned n = shmc__class_count();
	for (unsigned c = 0; c < n; c++)
		if (shmc__class_size(c) >= size)
			return c;
	cr_assert_fail("no class for %llu", (unsigned long long)size);
	return 0;
}

/* Failure injection, in the manner of SQLite's out-of-memory tests: run
 * OP(CTX) with the first arena allocation failing, then the second, ...
 * (shmc__alloc_fail_after(n), n = 0, 1, ...; at most MAX calls) until it
 * returns anything but SHMC_EFULL. After each failure, what STATE(CTX)
 * prints (may be NULL: the text of everything OP may change; free()d) must
 * be as before the first call, and so must A's bytes in use (A may be
 * NULL: OP works on no arena of the test's). WHAT names OP in messages.
 * @return OP's last result; *NFAIL = the failures injected */
static inline int inject_loop(shmc_arena_t *a, const char *what, int max, int (*op)(void *ctx),
			      char *(*state)(void *ctx), void *ctx, int *nfail)
{
	char *before = state ? state(ctx) : NULL;
	size_t used = a ? arena_in_use(a) : 0;
	int n, rc = SHMC_EFULL;
	for (n = 0; n < max; n++) {
		shmc__alloc_fail_after(n);
		rc = op(ctx);
		shmc__alloc_fail_after(-1);
		if (rc != SHMC_EFULL)
			break;
		if (state) {
			char *now = state(ctx);
			cr_assert_str_eq(now, before, "%s, allocation %d failed: it changed", what, n);
			free(now);
		}
		if (a) {
			size_t after = arena_in_use(a);
			cr_assert_eq(after, used, "%s, allocation %d failed: %zd bytes leaked", what,
				     n, (ssize_t)(after - used));
		}
	}
	free(before);
	*nfail = n;
	return rc;
}

/* inject_loop, which must end with OP's success (0).
 * @return the failures injected */
static inline int inject_ok(shmc_arena_t *a, const char *what, int max, int (*op)(void *ctx),
			    char *(*state)(void *ctx), void *ctx)
{
	int n, rc = inject_loop(a, what, max, op, state, ctx, &n);
	cr_assert_eq(rc, 0, "%s -> %s after %d injected failures", what, shmc_errname(rc), n);
	return n;
}

/* The text of O and a count NAME'd (its length, its version: what the
 * text does not show), as a STATE of inject_loop prints them (free()). */
static inline char *obj_state(shmc_obj_t *o, const char *name, int64_t count)
{
	char *s = obj_str(o);
	size_t n = strlen(s) + strlen(name) + 32;
	char *out = malloc(n);
	cr_assert(out);
	snprintf(out, n, "%s, %s %lld", s, name, (long long)count);
	shmc_free(s);
	return out;
}

/* inject_loop (100 calls at most) checking only A's bytes in use: for
 * operations whose callers check the rest themselves. */
static inline int inject_until_ok(shmc_arena_t *a, int (*op)(void *ctx), void *ctx,
				  int *nfail)
{
	return inject_loop(a, "the operation", 100, op, NULL, ctx, nfail);
}
#endif /* CRITERION_H_ */

/* A handle for the object at OFF in A: how a process reaches an object it
 * knows only by offset (the directory of names, an object a peer made). */
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
#endif /* SHMC_TEST_WHITEBOX */

#endif
