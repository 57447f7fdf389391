/*
 * tooltest.h -- fixtures of the tool tests (test/integration/test_tool_*.c):
 * files made by a test and removed by its fixture, running the tools as
 * subprocesses with a deadline, checking their output forms, a known arena
 * and what shmc-stat prints of it.
 *
 * The tool tests (test_tool_*.c) run shmc-stat, shmc-dump and shmc-check,
 * run as subprocesses (from $SHMC_BUILD/tools, else ../tools beside this
 * program): their options and exit codes, shmc-dump's exact output on a
 * known arena, what shmc-stat shows of processes, locks and objects, that
 * they write nothing, that they neither crash nor block on a live arena
 * being changed under them, and that a corrupt arena file gives an error --
 * never a crash or a hang.
 *
 * Tools are started with posix_spawn, which runs no fork handlers: a plain
 * fork() from a process attached to an arena registers the child in it,
 * which would show in shmc-stat and write to the arena.
 *
 * Every arena and file a test makes has a name unique to the test process
 * and is removed by the fixture.
 */
#ifndef SHMC_TOOLTEST_H
#define SHMC_TOOLTEST_H

#include <criterion/criterion.h>

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include "arena/arena.h"
#include "memory/epoch.h"
#include "objects/obj.h"

#include "testutil.h"

extern char **environ;

TestSuite(tools, .timeout = 300);

#define TOOL_TIMEOUT_MS 20000

/* Files made by the test, removed by the fixture ---------------------------- */

static char tracked[8][256];
static int ntracked;

static inline void track(const char *path)
{
	cr_assert(ntracked < 8);
	snprintf(tracked[ntracked++], sizeof(tracked[0]), "%s", path);
}

static inline void files_cleanup(void)
{
	for (int i = 0; i < ntracked; i++)
		unlink(tracked[i]);
	ntracked = 0;
}

/* A test that crashes skips its fixture: remove its files on the way out
 * (unlink is async-signal-safe), then die of the same signal. */
static pid_t files_owner;

static inline void crash_cleanup(int sig)
{
	for (int i = 0; getpid() == files_owner && i < ntracked; i++) /* not a child */
		unlink(tracked[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void crash_cleanup_install(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTERM};
	files_owner = getpid();
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], crash_cleanup);
}

/* Fixture: a named arena NA, its directory of names made before the leak
 * baseline (it lives as long as the arena) and emptied after the test. --- */

static shmc_arena_t *NA;
static size_t NA_base;
static char NA_name[128], NA_path[256];

static inline void dir_clear(shmc_arena_t *a)
{
	uint64_t off = atomic_load(&a->hdr->roots_off);
	if (off == 0)
		return;
	struct shmc__rec *r = shmc__epoch_rec(a);
	if (r == NULL)
		abort();
	shmc_obj_t *d;
	shmc__epoch_enter(a, r);
	int rc = shmc__obj_wrap(a, off, &d);
	shmc__epoch_exit(r);
	if (rc || shmc_dict_clear(d) != 0)
		abort();
	shmc_obj_release(d);
}

/* Remove every name (the objects go with them), then empty the directory. */
static inline void names_drop(shmc_arena_t *a)
{
	shmc_value_t l;
	if (shmc_root_names(a, &l) != 0)
		abort();
	for (size_t i = 0; i < shmc_seq_len(l); i++)
		shmc_root_remove(a, shmc_seq_at(l, (int64_t)i)->str);
	shmc_value_free(&l);
	dir_clear(a);
}

static inline void named_setup(void)
{
	snprintf(NA_name, sizeof(NA_name), "shmc-test-%d-tools", (int)getpid());
	snprintf(NA_path, sizeof(NA_path), "/dev/shm/%s", NA_name);
	track(NA_path);
	crash_cleanup_install();
	unlink(NA_path); /* a leftover of a killed run with this pid */
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY};
	int rc = shmc_arena_create(NA_name, &o, &NA);
	if (rc) {
		fprintf(stderr, "create %s: %s\n", NA_name, shmc_errname(rc));
		abort();
	}
	arena_warm(NA);
	shmc_obj_t *o1;
	if (shmc_root_find_or_create(NA, "warm-up", SHMC_KIND_LIST, &o1) != 0)
		abort();
	shmc_obj_release(o1);
	names_drop(NA);
	NA_base = arena_in_use(NA);
}

/* A child changing the arena (tools_never_crash_or_block_on_a_changing_arena):
 * stopped by the fixture too, when the test fails while it runs. */
struct flag {
	atomic_int stop;
	atomic_long rounds;
};
static struct flag *mut_flag;
static pid_t mut_pid;

static inline void mutator_stop(void)
{
	if (mut_pid <= 0)
		return;
	atomic_store(&mut_flag->stop, 1);
	int st;
	for (int ms = 0; waitpid(mut_pid, &st, WNOHANG) == 0; ms++) {
		if (ms == 20000) {
			kill(mut_pid, SIGKILL);
			waitpid(mut_pid, &st, 0);
			break;
		}
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	mut_pid = 0;
}

static void runs_cleanup(void);
static void corpus_cleanup(void);
static void records_cleanup(void);

static inline void named_teardown(void)
{
	mutator_stop();
	runs_cleanup();
	corpus_cleanup();
	records_cleanup();
	files_cleanup();
	names_drop(NA);
	arena_leak_check(NA, NA_base);
	shmc_arena_close(NA);
}

/* In a forked child: die with the test process, never outlive it. */
static inline void child_init(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
}

/* Running programs ---------------------------------------------------------- */

static inline const char *tool(const char *name)
{
	static char paths[4][4096];
	static int next;
	char *path = paths[next++ % 4];
	const char *b = getenv("SHMC_BUILD");
	if (b && *b) {
		snprintf(path, 4096, "%s/tools/%s", b, name);
	} else {
		char exe[4000];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		cr_assert(n > 0);
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(path, 4096, "%s/../tools/%s", exe, name);
	}
	cr_assert(access(path, X_OK) == 0, "no tool at %s (set SHMC_BUILD)", path);
	return path;
}

struct run {
	int status;     /* as waitpid gives it */
	bool timed_out; /* killed by us after the timeout */
	char *out, *err;
	size_t outlen, errlen;
};

/* Output buffers not yet freed: a failed assertion leaves the test at
 * once, and the fixture frees them (no leak reports on failures). */
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

static inline void buf_add(char **b, size_t *len, const char *p, size_t n)
{
	char *nb = realloc(*b, *len + n + 1);
	cr_assert(nb);
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*b = nb;
}

static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run ARGV (argv[0] a path, or a name looked up in PATH), feeding it INPUT
 * (may be NULL), collecting its stdout and stderr; kill it after TIMEOUT_MS. */
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
	double deadline = now_ms() + timeout_ms;
	bool exited = false;
	while (!exited) {
		double left = deadline - now_ms();
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
				nanosleep(&(struct timespec){0, 1000000}, NULL);
			continue;
		}
		int k = poll(p, (nfds_t)n, left > 100 ? 100 : (int)left + 1);
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

/* Run tool NAME with the arguments that follow (NULL-terminated). */
static inline struct run run_tool(const char *name, ...)
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)tool(name);
	va_list ap;
	va_start(ap, name);
	for (char *s; n < 15 && (s = va_arg(ap, char *)) != NULL;)
		argv[n++] = s;
	va_end(ap);
	argv[n] = NULL;
	return run_input(argv, NULL, 0, TOOL_TIMEOUT_MS);
}

/* It ran to an exit (no signal, no timeout): its exit status. */
static inline int exited(const struct run *r, const char *what)
{
	cr_assert(!r->timed_out, "%s: still running after %d ms: killed", what,
		  TOOL_TIMEOUT_MS);
	cr_assert(!WIFSIGNALED(r->status), "%s: killed by signal %d (%s)\nstderr: %s", what,
		  WTERMSIG(r->status), strsignal(WTERMSIG(r->status)), r->err);
	cr_assert(WIFEXITED(r->status));
	return WEXITSTATUS(r->status);
}

/* Run a tool expecting exit status WANT and exactly OUT / ERR (NULL: any). */
static inline void expect_run(int want, const char *out, const char *err, const char *name, ...)
{
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)tool(name);
	va_list ap;
	va_start(ap, name);
	for (char *s; n < 15 && (s = va_arg(ap, char *)) != NULL;)
		argv[n++] = s;
	va_end(ap);
	argv[n] = NULL;
	char what[512] = "";
	for (int i = 0; i < n; i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s", i ? " " : "",
			 i ? argv[i] : name);
	struct run r = run_input(argv, NULL, 0, TOOL_TIMEOUT_MS);
	int st = exited(&r, what);
	cr_assert_eq(st, want, "%s: exit %d, expected %d\nstdout: %s\nstderr: %s", what, st,
		     want, r.out, r.err);
	if (out)
		cr_assert_str_eq(r.out, out, "%s: stdout", what);
	if (err)
		cr_assert_str_eq(r.err, err, "%s: stderr", what);
	run_free(&r);
}

/* Checking output forms ------------------------------------------------------ */

/* A strict JSON parser that only says whether TEXT is one JSON value. */
struct jp {
	const char *p, *end;
	int depth;
};

static inline void j_ws(struct jp *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) && *j->p)
		j->p++;
}

static bool j_value(struct jp *j);

static inline bool j_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static inline bool j_string(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (j->p >= j->end)
				return false;
			char e = *j->p++;
			if (e == 'u') {
				for (int i = 0; i < 4; i++, j->p++)
					if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) ||
					    !*j->p)
						return false;
			} else if (!strchr("\"\\/bfnrt", e) || !e) {
				return false;
			}
		}
	}
	return false;
}

static inline bool j_digits(struct jp *j)
{
	const char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static inline bool j_number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!(j->p < j->end && *j->p >= '1' && *j->p <= '9' && j_digits(j)))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!j_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!j_digits(j))
			return false;
	}
	return true;
}

static inline bool j_seq(struct jp *j, char close, bool object)
{
	j->p++;
	j_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		if (object) {
			if (!j_string(j))
				return false;
			j_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
			j_ws(j);
		}
		if (!j_value(j))
			return false;
		j_ws(j);
		if (j->p >= j->end)
			return false;
		char c = *j->p++;
		if (c == close)
			return true;
		if (c != ',')
			return false;
		j_ws(j);
	}
}

static inline bool j_value(struct jp *j)
{
	if (j->p >= j->end || ++j->depth > 2000)
		return false;
	bool ok;
	switch (*j->p) {
	case '{': ok = j_seq(j, '}', true); break;
	case '[': ok = j_seq(j, ']', false); break;
	case '"': ok = j_string(j); break;
	case 't': ok = j_lit(j, "true"); break;
	case 'f': ok = j_lit(j, "false"); break;
	case 'n': ok = j_lit(j, "null"); break;
	default: ok = j_number(j);
	}
	j->depth--;
	return ok;
}

static inline bool json_ok(const char *text, size_t len)
{
	struct jp j = {text, text + len, 0};
	j_ws(&j);
	if (!j_value(&j))
		return false;
	j_ws(&j);
	return j.p == j.end;
}

/* Python's text form, roughly: brackets balance outside string literals. */
static inline bool text_balanced(const char *s, size_t len)
{
	char stack[4096];
	int n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\'' || c == '"') {
			for (i++; i < len && s[i] != c; i++)
				if (s[i] == '\\')
					i++;
			if (i >= len)
				return false;
		} else if (c == '(' || c == '[' || c == '{' || c == '<') {
			if (n == (int)sizeof(stack))
				return false;
			stack[n++] = c == '(' ? ')' : c == '[' ? ']' : c == '{' ? '}' : '>';
		} else if (c == ')' || c == ']' || c == '}' || c == '>') {
			if (n == 0 || stack[--n] != c)
				return false;
		}
	}
	return n == 0;
}

static inline bool have_python(void)
{
	static int have = -1;
	if (have < 0) {
		char *argv[] = {"python3", "-c", "import json, ast", NULL};
		struct run r = run_input(argv, NULL, 0, 60000);
		have = !r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
		run_free(&r);
	}
	return have;
}

/* Records for python to parse: "json", "lines" (one "name: text" each) or
 * "value" (one Python text), then \x1f, then the output; records end with
 * \x1e. Python's text forms are evaluated with managed proxies replaced by
 * None and Namespace(...) read as a dict. */
static const char PY_CHECK[] =
	"import json, re, sys\n"
	"proxy = re.compile(r\"<[\\w\\[\\]]+ object, typeid '\\w+' at 0x[0-9a-f]+>\")\n"
	"env = {'__builtins__': {}, 'Namespace': lambda **kw: kw,\n"
	"       'nan': float('nan'), 'inf': float('inf')}\n"
	"def value(t):\n"
	"    eval(compile(proxy.sub('None', t), 'dump', 'eval'), env)\n"
	"bad = 0\n"
	"data = sys.stdin.buffer.read().split(b'\\x1e')[:-1]\n"
	"for i, rec in enumerate(data):\n"
	"    kind, _, raw = rec.partition(b'\\x1f')\n"
	"    try:\n"
	"        text = raw.decode('utf-8')\n"
	"        if kind == b'json':\n"
	"            json.loads(text)\n"
	"        elif kind == b'value':\n"
	"            value(text)\n"
	"        else:\n"
	"            for line in text.splitlines():\n"
	"                name, sep, rest = line.partition(': ')\n"
	"                assert sep and name, 'no name: ' + line\n"
	"                value(rest)\n"
	"    except Exception as e:\n"
	"        bad += 1\n"
	"        print('record %d (%s): %r: %r' % (i, kind.decode(), e, raw[:300]))\n"
	"print('%d of %d records do not parse' % (bad, len(data)) if bad else 'ok')\n"
	"sys.exit(1 if bad else 0)\n";

struct records {
	char *buf;
	size_t len;
	int n;
};

static char *live_records; /* the records' buffer, for the fixture to free */

static inline void records_cleanup(void)
{
	free(live_records);
	live_records = NULL;
}

static inline void record(struct records *rs, const char *kind, const char *text, size_t len)
{
	buf_add(&rs->buf, &rs->len, kind, strlen(kind));
	buf_add(&rs->buf, &rs->len, "\x1f", 1);
	buf_add(&rs->buf, &rs->len, text, len);
	buf_add(&rs->buf, &rs->len, "\x1e", 1);
	live_records = rs->buf;
	rs->n++;
}

/* Every record parses as Python's text form or JSON (checked by python3
 * when there is one). */
static inline void records_check(struct records *rs)
{
	if (rs->n == 0 || !have_python()) {
		records_cleanup();
		return;
	}
	char *argv[] = {"python3", "-c", (char *)PY_CHECK, NULL};
	struct run r = run_input(argv, rs->buf, rs->len, 120000);
	int st = exited(&r, "python3 parse check");
	cr_assert_eq(st, 0, "shmc-dump output that does not parse:\n%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "ok\n");
	run_free(&r);
	records_cleanup();
}

/* A known arena and shmc-dump's exact output ------------------------------- */

struct known {
	uint64_t jobs, config, settings, state, inner;
};

/* The arena every exact-output test uses; every handle released after, so
 * that only names hold the objects. */
static inline struct known populate(shmc_arena_t *a)
{
	struct known k;
	shmc_obj_t *jobs, *config, *settings, *state, *inner;
	ASSERT_OK(shmc_root_find_or_create(a, "jobs", SHMC_KIND_LIST, &jobs));
	ASSERT_OK(shmc_root_find_or_create(a, "config", SHMC_KIND_DICT, &config));
	ASSERT_OK(shmc_root_find_or_create(a, "settings", SHMC_KIND_DICT, &settings));
	ASSERT_OK(shmc_root_find_or_create(a, "state", SHMC_KIND_NAMESPACE, &state));
	ASSERT_OK(shmc_dict_new(a, &inner));
	ASSERT_OK(shmc_dict_set(inner, shmc_str("name"), shmc_str("build")));
	ASSERT_OK(shmc_dict_set(inner, shmc_str("id"), shmc_int(7)));

	ASSERT_OK(shmc_list_append(jobs, shmc_int(1)));
	ASSERT_OK(shmc_list_append(jobs, shmc_ref(inner)));
	shmc_value_t v = shmc_tuple_of(2, shmc_str("a\"b"), shmc_float(2.5));
	ASSERT_OK(shmc_list_append(jobs, v));
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_append(jobs, shmc_int(-7)));
	ASSERT_OK(shmc_list_append(jobs, shmc_none()));
	v = shmc_plist_of(2, shmc_bool(true), shmc_bool(false));
	ASSERT_OK(shmc_list_append(jobs, v));
	shmc_value_free(&v);
	v = shmc_pdict_of(1, shmc_str("k"), shmc_bytes("\x00\xff", 2));
	ASSERT_OK(shmc_list_append(jobs, v));
	shmc_value_free(&v);
	ASSERT_OK(shmc_list_append(jobs, shmc_str("caf\xc3\xa9")));
	ASSERT_OK(shmc_list_append(jobs, shmc_float(1e16)));
	ASSERT_OK(shmc_list_append(jobs, shmc_float(-0.0)));

	ASSERT_OK(shmc_dict_set(config, shmc_str("threads"), shmc_int(4)));
	ASSERT_OK(shmc_dict_set(config, shmc_str("name"), shmc_str("x'y")));
	ASSERT_OK(shmc_dict_set(config, shmc_int(7), shmc_none()));
	v = shmc_tuple_of(2, shmc_int(1), shmc_int(2));
	ASSERT_OK(shmc_dict_set(config, v, shmc_str("tuple key")));
	shmc_value_free(&v);
	ASSERT_OK(shmc_dict_set(config, shmc_str("jobs"), shmc_ref(jobs)));

	ASSERT_OK(shmc_dict_set(settings, shmc_str("mode"), shmc_str("fast")));
	ASSERT_OK(shmc_dict_set(settings, shmc_str("level"), shmc_int(3)));

	ASSERT_OK(shmc_namespace_set(state, "text", shmc_str("line\nbreak")));
	ASSERT_OK(shmc_namespace_set(state, "a", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(state, "done", shmc_bool(true)));
	ASSERT_OK(shmc_namespace_set(state, "_hidden", shmc_int(1)));
	ASSERT_OK(shmc_namespace_set(state, "a0", shmc_int(2)));
	ASSERT_OK(shmc_namespace_set(state, "ratio", shmc_float(1.0 / 0.0)));

	k.jobs = jobs->off;
	k.config = config->off;
	k.settings = settings->off;
	k.state = state->off;
	k.inner = inner->off;
	shmc_obj_release(jobs);
	shmc_obj_release(config);
	shmc_obj_release(settings);
	shmc_obj_release(state);
	shmc_obj_release(inner);
	return k;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static inline char *fmt(const char *f, ...)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

#define JOBS_TEXT                                                                      \
	"[1, <DictProxy object, typeid 'dict' at %#" PRIx64 ">, ('a\"b', 2.5), -7, None, " \
	"[True, False], {'k': b'\\x00\\xff'}, 'caf\xc3\xa9', 1e+16, -0.0]"
#define JOBS_JSON                                                                      \
	"[1, {\"ref\": \"%#" PRIx64 "\", \"typeid\": \"dict\"}, {\"tuple\": [\"a\\\"b\", " \
	"2.5]}, -7, null, [true, false], {\"k\": {\"bytes\": \"00ff\"}}, \"caf\xc3\xa9\", " \
	"1e+16, -0.0]"

static inline char *stat_out(const char *name)
{
	struct run r = run_tool("shmc-stat", name, NULL);
	cr_assert_eq(exited(&r, "shmc-stat"), 0, "shmc-stat: %s", r.err);
	cr_assert_str_eq(r.err, "");
	live_forget(r.err);
	free(r.err);
	return r.out; /* freed with buf_release() */
}

static inline void buf_release(char *p)
{
	live_forget(p);
	free(p);
}

static inline bool has_line(const char *out, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = out; (p = strstr(p, line)) != NULL; p++)
		if ((p == out || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* The "processes" line of PID: its slot and state ("alive"/"DEAD"); -1 if
 * absent. */
/* Corrupt copies of a known arena (test_tool_corrupt.c); the fixture frees
 * the live one. */
struct corpus {
	uint8_t *gold, *work;
	size_t size;
	char path[256];
	struct known k;
	uint64_t data_off, brk, pagemap_off, procs_off, recs_off, roots;
	int variants, detected; /* run; found by shmc-check */
};

static inline uint64_t rd64(const struct corpus *c, uint64_t off)
{
	uint64_t v = 0;
	if (off + 8 <= c->size)
		memcpy(&v, c->gold + off, 8);
	return v;
}

static inline void put(struct corpus *c, uint64_t off, uint64_t v, int width)
{
	if (off + (uint64_t)width > c->size)
		return;
	memcpy(c->work + off, &v, (size_t)width); /* little-endian */
}

static inline uint64_t rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static struct corpus live_corpus; /* a copy, for the fixture to free */

static inline void corpus_cleanup(void)
{
	free(live_corpus.gold);
	free(live_corpus.work);
	if (live_corpus.path[0])
		unlink(live_corpus.path);
	memset(&live_corpus, 0, sizeof(live_corpus));
}


static const char *const TOOLS[] = {"shmc-stat", "shmc-dump", "shmc-check"};

#endif
