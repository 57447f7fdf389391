/*
 * testutil.h -- helpers shared by the Criterion tests and stress programs.
 *
 * Children forked by a test never call cr_assert: they report through their
 * exit status (0 = success), which the parent checks.
 */
#ifndef SHMC_TESTUTIL_H
#define SHMC_TESTUTIL_H

#include <errno.h>
#include <signal.h>
#include <shmc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef CRITERION_H_
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
#endif

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

/* Fork N children running FN(i, ARG) and wait for all; returns how many
 * failed (non-zero exit or killed). */
static inline int run_children(int n, int (*fn)(int i, void *arg), void *arg)
{
	pid_t pids[256];
	fflush(NULL);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			abort();
		if (pids[i] == 0)
			_exit(fn(i, arg));
	}
	int failed = 0;
	for (int i = 0; i < n; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	return failed;
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

/* Abort (which fails the run even from a Criterion .fini) when the arena
 * holds more than it did at BASE. */
static inline void arena_leak_check(shmc_arena_t *a, size_t base)
{
	size_t now = arena_in_use(a);
	if (now != base) {
		fprintf(stderr, "arena memory leaked: %zd bytes\n", (ssize_t)(now - base));
		abort();
	}
}

#ifdef CRITERION_H_
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
#endif

/* The path of test program NAME of this build (a helper started as an
 * unrelated process): $SHMC_BUILD/test/NAME, else NAME beside this program.
 * PATH (N bytes) receives it. @return PATH, or NULL when it is not there */
static inline const char *test_program(const char *name, char *path, size_t n)
{
	const char *b = getenv("SHMC_BUILD");
	if (b && *b) {
		snprintf(path, n, "%s/test/%s", b, name);
	} else {
		ssize_t len = readlink("/proc/self/exe", path, n - 1);
		if (len <= 0)
			return NULL;
		path[len] = '\0';
		char *slash = strrchr(path, '/');
		size_t at = slash ? (size_t)(slash + 1 - path) : 0;
		snprintf(path + at, n - at, "%s", name);
	}
	return access(path, X_OK) == 0 ? path : NULL;
}

#ifdef CRITERION_H_
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
#endif

#endif
