/*
 * test_tools.c -- the command-line tools shmc-stat, shmc-dump and shmc-check,
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

static void track(const char *path)
{
	cr_assert(ntracked < 8);
	snprintf(tracked[ntracked++], sizeof(tracked[0]), "%s", path);
}

static void files_cleanup(void)
{
	for (int i = 0; i < ntracked; i++)
		unlink(tracked[i]);
	ntracked = 0;
}

/* A test that crashes skips its fixture: remove its files on the way out
 * (unlink is async-signal-safe), then die of the same signal. */
static pid_t files_owner;

static void crash_cleanup(int sig)
{
	for (int i = 0; getpid() == files_owner && i < ntracked; i++) /* not a child */
		unlink(tracked[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_cleanup_install(void)
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

static void dir_clear(shmc_arena_t *a)
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
static void names_drop(shmc_arena_t *a)
{
	shmc_value_t l;
	if (shmc_root_names(a, &l) != 0)
		abort();
	for (size_t i = 0; i < shmc_seq_len(l); i++)
		shmc_root_remove(a, shmc_seq_at(l, (int64_t)i)->str);
	shmc_value_free(&l);
	dir_clear(a);
}

static void named_setup(void)
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

static void mutator_stop(void)
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

static void named_teardown(void)
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
static void child_init(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
}

/* Running programs ---------------------------------------------------------- */

static const char *tool(const char *name)
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

static void live_track(char *p)
{
	for (int i = 0; i < 64; i++)
		if (live_bufs[i] == NULL) {
			live_bufs[i] = p;
			return;
		}
}

static void live_forget(char *p)
{
	for (int i = 0; i < 64; i++)
		if (live_bufs[i] == p)
			live_bufs[i] = NULL;
}

static void runs_cleanup(void)
{
	for (int i = 0; i < 64; i++) {
		free(live_bufs[i]);
		live_bufs[i] = NULL;
	}
}

static void run_free(struct run *r)
{
	live_forget(r->out);
	live_forget(r->err);
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static void buf_add(char **b, size_t *len, const char *p, size_t n)
{
	char *nb = realloc(*b, *len + n + 1);
	cr_assert(nb);
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*b = nb;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run ARGV (argv[0] a path, or a name looked up in PATH), feeding it INPUT
 * (may be NULL), collecting its stdout and stderr; kill it after TIMEOUT_MS. */
static struct run run_input(char *const argv[], const char *input, size_t inlen,
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
static struct run run_tool(const char *name, ...)
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
static int exited(const struct run *r, const char *what)
{
	cr_assert(!r->timed_out, "%s: still running after %d ms: killed", what,
		  TOOL_TIMEOUT_MS);
	cr_assert(!WIFSIGNALED(r->status), "%s: killed by signal %d (%s)\nstderr: %s", what,
		  WTERMSIG(r->status), strsignal(WTERMSIG(r->status)), r->err);
	cr_assert(WIFEXITED(r->status));
	return WEXITSTATUS(r->status);
}

/* Run a tool expecting exit status WANT and exactly OUT / ERR (NULL: any). */
static void expect_run(int want, const char *out, const char *err, const char *name, ...)
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

static void j_ws(struct jp *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) && *j->p)
		j->p++;
}

static bool j_value(struct jp *j);

static bool j_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool j_string(struct jp *j)
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

static bool j_digits(struct jp *j)
{
	const char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool j_number(struct jp *j)
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

static bool j_seq(struct jp *j, char close, bool object)
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

static bool j_value(struct jp *j)
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

static bool json_ok(const char *text, size_t len)
{
	struct jp j = {text, text + len, 0};
	j_ws(&j);
	if (!j_value(&j))
		return false;
	j_ws(&j);
	return j.p == j.end;
}

/* Python's text form, roughly: brackets balance outside string literals. */
static bool text_balanced(const char *s, size_t len)
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

static bool have_python(void)
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

static void records_cleanup(void)
{
	free(live_records);
	live_records = NULL;
}

static void record(struct records *rs, const char *kind, const char *text, size_t len)
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
static void records_check(struct records *rs)
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

/* Usage, versions, missing arenas ------------------------------------------- */

static const char *const TOOLS[] = {"shmc-stat", "shmc-dump", "shmc-check"};

Test(tools, help_and_version_exit_0, .fini = runs_cleanup)
{
	for (int i = 0; i < 3; i++) {
		char want[64], usage[64];
		snprintf(want, sizeof(want), "%s %s\n", TOOLS[i], shmc_version());
		cr_assert_str_eq(shmc_version(), SHMC_VERSION_STRING);
		expect_run(0, want, "", TOOLS[i], "-V", NULL);
		expect_run(0, want, "", TOOLS[i], "--version", NULL);
		snprintf(usage, sizeof(usage), "usage: %s ", TOOLS[i]);
		const char *flags[] = {"-h", "--help"};
		for (int f = 0; f < 2; f++) {
			struct run r = run_tool(TOOLS[i], flags[f], NULL);
			cr_assert_eq(exited(&r, TOOLS[i]), 0);
			cr_assert(strncmp(r.out, usage, strlen(usage)) == 0, "%s %s: %s", TOOLS[i],
				  flags[f], r.out);
			cr_assert(strstr(r.out, "-V, --version") != NULL);
			cr_assert_str_eq(r.err, "");
			run_free(&r);
		}
	}
}

/* A usage error: exit 2, the usage on stderr, nothing on stdout. */
static void expect_usage_error(const char *t, char *a1, char *a2, char *a3, char *a4)
{
	char *argv[] = {(char *)tool(t), a1, a2, a3, a4, NULL};
	struct run r = run_input(argv, NULL, 0, TOOL_TIMEOUT_MS);
	char what[256];
	snprintf(what, sizeof(what), "%s %s %s %s %s", t, a1 ? a1 : "", a2 ? a2 : "",
		 a3 ? a3 : "", a4 ? a4 : "");
	cr_assert_eq(exited(&r, what), 2, "%s: exit %d\nstdout: %s\nstderr: %s", what,
		     WEXITSTATUS(r.status), r.out, r.err);
	cr_assert_str_eq(r.out, "", "%s: stdout", what);
	cr_assert(strstr(r.err, "usage: ") != NULL, "%s: stderr: %s", what, r.err);
	run_free(&r);
}

Test(tools, usage_errors_exit_2, .fini = runs_cleanup)
{
	for (int i = 0; i < 3; i++) {
		expect_usage_error(TOOLS[i], NULL, NULL, NULL, NULL);  /* no NAME */
		expect_usage_error(TOOLS[i], "-Z", "x", NULL, NULL);   /* unknown option */
		expect_usage_error(TOOLS[i], "--no-such-option", "x", NULL, NULL);
		expect_usage_error(TOOLS[i], "a", "b", "c", NULL);     /* too many */
	}
	expect_usage_error("shmc-stat", "a", "b", NULL, NULL);
	expect_usage_error("shmc-check", "a", "b", NULL, NULL);
	expect_usage_error("shmc-check", "-q", NULL, NULL, NULL);
	expect_usage_error("shmc-dump", "--json", NULL, NULL, NULL);
	expect_usage_error("shmc-dump", "--json", "a", "b", "c");
}

Test(tools, a_missing_arena_exits_1_with_a_message, .fini = runs_cleanup)
{
	char name[128], want[512];
	snprintf(name, sizeof(name), "shmc-test-%d-missing", (int)getpid());
	const char *enoent = shmc_strerror(-ENOENT);
	cr_assert(strstr(enoent, "No such file") != NULL, "%s", enoent);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s: %s: %s\n", TOOLS[i], name, enoent);
		expect_run(1, "", want, TOOLS[i], name, NULL);
	}
	snprintf(want, sizeof(want), "shmc-dump: %s: %s\n", name, enoent);
	expect_run(1, "", want, "shmc-dump", "--json", name, "a/b", NULL);
	snprintf(want, sizeof(want), "shmc-check: %s: %s\n", name, enoent);
	expect_run(1, "", want, "shmc-check", "--reap", name, NULL);
	expect_run(1, "", want, "shmc-check", "-q", name, NULL);
	/* A path in a folder that does not exist, and one that is a folder. */
	snprintf(want, sizeof(want), "shmc-stat: /nonexistent-%d/arena: %s\n", (int)getpid(),
		 enoent);
	char path[128];
	snprintf(path, sizeof(path), "/nonexistent-%d/arena", (int)getpid());
	expect_run(1, "", want, "shmc-stat", path, NULL);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s: /tmp: %s\n", TOOLS[i],
			 shmc_strerror(SHMC_ENOTREG));
		expect_run(1, "", want, TOOLS[i], "/tmp", NULL);
	}
}

Test(tools, a_file_that_is_not_an_arena_exits_1, .init = named_setup, .fini = named_teardown)
{
	char path[256], want[512];
	snprintf(path, sizeof(path), "/tmp/shmc-test-%d-notarena", (int)getpid());
	track(path);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	char junk[8192];
	memset(junk, 'x', sizeof(junk));
	cr_assert(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	close(fd);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s: %s: %s\n", TOOLS[i], path,
			 shmc_strerror(SHMC_ENOTARENA));
		expect_run(1, "", want, TOOLS[i], path, NULL);
	}
	/* An empty file too. */
	cr_assert(truncate(path, 0) == 0);
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s: %s: %s\n", TOOLS[i], path,
			 shmc_strerror(SHMC_ENOTARENA));
		expect_run(1, "", want, TOOLS[i], path, NULL);
	}
}

/* A known arena and shmc-dump's exact output ------------------------------- */

struct known {
	uint64_t jobs, config, settings, state, inner;
};

/* The arena every exact-output test uses; every handle released after, so
 * that only names hold the objects. */
static struct known populate(shmc_arena_t *a)
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
static char *fmt(const char *f, ...)
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

Test(tools, dump_prints_every_named_object_as_python_does, .init = named_setup,
     .fini = named_teardown)
{
	struct known k = populate(NA);
	const char *want = fmt(
		"config: {'threads': 4, 'name': \"x'y\", 7: None, (1, 2): 'tuple key', "
		"'jobs': <ListProxy object, typeid 'list' at %#" PRIx64 ">}\n"
		"jobs: " JOBS_TEXT "\n"
		"settings: {'mode': 'fast', 'level': 3}\n"
		"state: Namespace(a0=2, a=1, done=True, ratio=inf, text='line\\nbreak')\n",
		k.jobs, k.inner);
	expect_run(0, want, "", "shmc-dump", NA_name, NULL);
	expect_run(0, want, "", "shmc-dump", NA_path, NULL); /* by path */
	struct records rs = {0};
	record(&rs, "lines", want, strlen(want));
	records_check(&rs);
}

Test(tools, dump_json_is_exact_and_parses, .init = named_setup, .fini = named_teardown)
{
	struct known k = populate(NA);
	const char *want = fmt(
		"{\"config\": {\"items\": [[\"threads\", 4], [\"name\", \"x'y\"], [7, null], "
		"[{\"tuple\": [1, 2]}, \"tuple key\"], [\"jobs\", {\"ref\": \"%#" PRIx64
		"\", \"typeid\": \"list\"}]]}, "
		"\"jobs\": " JOBS_JSON ", "
		"\"settings\": {\"mode\": \"fast\", \"level\": 3}, "
		"\"state\": {\"_hidden\": 1, \"a\": 1, \"a0\": 2, \"done\": true, "
		"\"ratio\": \"inf\", \"text\": \"line\\u000abreak\"}}\n",
		k.jobs, k.inner);
	expect_run(0, want, "", "shmc-dump", "--json", NA_name, NULL);
	expect_run(0, want, "", "shmc-dump", "-j", NA_name, NULL);
	expect_run(0, want, "", "shmc-dump", NA_name, "--json", NULL); /* options anywhere */
	cr_assert(json_ok(want, strlen(want)));
	struct records rs = {0};
	record(&rs, "json", want, strlen(want));
	records_check(&rs);
}

Test(tools, dump_paths_reach_into_containers, .init = named_setup, .fini = named_teardown)
{
	struct known k = populate(NA);
	const char *n = NA_name;
	expect_run(0, fmt(JOBS_TEXT "\n", k.inner), "", "shmc-dump", n, "jobs", NULL);
	expect_run(0, "1\n", "", "shmc-dump", n, "jobs/0", NULL);
	expect_run(0, "{'name': 'build', 'id': 7}\n", "", "shmc-dump", n, "jobs/1", NULL);
	expect_run(0, "('a\"b', 2.5)\n", "", "shmc-dump", n, "jobs/2", NULL);
	expect_run(0, "-0.0\n", "", "shmc-dump", n, "jobs/-1", NULL);
	expect_run(0, "'caf\xc3\xa9'\n", "", "shmc-dump", n, "jobs/-3", NULL);
	expect_run(0, "1\n", "", "shmc-dump", n, "jobs/-10", NULL);
	expect_run(0, "'build'\n", "", "shmc-dump", n, "jobs/1/name", NULL);
	expect_run(0, "7\n", "", "shmc-dump", n, "jobs/-9/id", NULL);
	expect_run(0, "4\n", "", "shmc-dump", n, "config/threads", NULL);
	expect_run(0, "None\n", "", "shmc-dump", n, "config/7", NULL);
	expect_run(0, "\"x'y\"\n", "", "shmc-dump", n, "config/name", NULL);
	/* Through a reference to another named object. */
	expect_run(0, fmt(JOBS_TEXT "\n", k.inner), "", "shmc-dump", n, "config/jobs", NULL);
	expect_run(0, "'build'\n", "", "shmc-dump", n, "config/jobs/1/name", NULL);
	expect_run(0, "{'mode': 'fast', 'level': 3}\n", "", "shmc-dump", n, "settings", NULL);
	expect_run(0, "Namespace(a0=2, a=1, done=True, ratio=inf, text='line\\nbreak')\n", "",
		   "shmc-dump", n, "state", NULL);
	expect_run(0, "2\n", "", "shmc-dump", n, "state/a0", NULL);
	expect_run(0, "1\n", "", "shmc-dump", n, "state/_hidden", NULL);
	expect_run(0, "'line\\nbreak'\n", "", "shmc-dump", n, "state/text", NULL);
	/* JSON. */
	expect_run(0, "4\n", "", "shmc-dump", "--json", n, "config/threads", NULL);
	expect_run(0, fmt(JOBS_JSON "\n", k.inner), "", "shmc-dump", "--json", n, "jobs", NULL);
	expect_run(0, "{\"name\": \"build\", \"id\": 7}\n", "", "shmc-dump", "--json", n,
		   "jobs/1", NULL);
	expect_run(0, "{\"tuple\": [\"a\\\"b\", 2.5]}\n", "", "shmc-dump", "--json", n,
		   "jobs/-8", NULL);
	expect_run(0, "\"line\\u000abreak\"\n", "", "shmc-dump", "--json", n, "state/text", NULL);
	expect_run(0, "\"inf\"\n", "", "shmc-dump", "--json", n, "state/ratio", NULL);
	expect_run(0, "{\"mode\": \"fast\", \"level\": 3}\n", "", "shmc-dump", "-j", n,
		   "settings", NULL);
	expect_run(0, "null\n", "", "shmc-dump", "--json", n, "config/7", NULL);
}

Test(tools, dump_paths_that_lead_nowhere_exit_1, .init = named_setup, .fini = named_teardown)
{
	populate(NA);
	const char *n = NA_name;
	const char *key = shmc_strerror(SHMC_EKEY), *index = shmc_strerror(SHMC_EINDEX),
		   *type = shmc_strerror(SHMC_ETYPE);
	expect_run(1, "", fmt("shmc-dump: %s config/nope: %s\n", n, key), "shmc-dump", n,
		   "config/nope", NULL);
	expect_run(1, "", fmt("shmc-dump: %s config/8: %s\n", n, key), "shmc-dump", n,
		   "config/8", NULL);
	expect_run(1, "", fmt("shmc-dump: %s nosuch: %s\n", n, key), "shmc-dump", n, "nosuch",
		   NULL);
	expect_run(1, "", fmt("shmc-dump: %s nosuch/1: %s\n", n, key), "shmc-dump", n,
		   "nosuch/1", NULL);
	expect_run(1, "", fmt("shmc-dump: %s state/nope: %s\n", n, key), "shmc-dump", n,
		   "state/nope", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/1/nope: %s\n", n, key), "shmc-dump", n,
		   "jobs/1/nope", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/10: %s\n", n, index), "shmc-dump", n,
		   "jobs/10", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/-11: %s\n", n, index), "shmc-dump", n,
		   "jobs/-11", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/x: %s\n", n, index), "shmc-dump", n,
		   "jobs/x", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/0/x: %s\n", n, type), "shmc-dump", n,
		   "jobs/0/x", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/2/0: %s\n", n, type), "shmc-dump", n,
		   "jobs/2/0", NULL); /* a step into a plain tuple */
	expect_run(1, "", fmt("shmc-dump: %s config/nope: %s\n", n, key), "shmc-dump",
		   "--json", n, "config/nope", NULL);
}

Test(tools, dump_shows_empty_containers, .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *o;
	ASSERT_OK(shmc_root_find_or_create(NA, "e_dict", SHMC_KIND_DICT, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find_or_create(NA, "e_list", SHMC_KIND_LIST, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find_or_create(NA, "e_ns", SHMC_KIND_NAMESPACE, &o));
	ASSERT_OK(shmc_namespace_set(o, "_only_hidden", shmc_int(1)));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find_or_create(NA, "e_ns2", SHMC_KIND_NAMESPACE, &o));
	shmc_obj_release(o);
	expect_run(0, "e_dict: {}\ne_list: []\ne_ns: Namespace()\ne_ns2: Namespace()\n", "",
		   "shmc-dump", NA_name, NULL);
	expect_run(0, "{\"e_dict\": {}, \"e_list\": [], \"e_ns\": {\"_only_hidden\": 1}, "
		   "\"e_ns2\": {}}\n", "", "shmc-dump", "--json", NA_name, NULL);
	expect_run(0, "Namespace()\n", "", "shmc-dump", NA_name, "e_ns2", NULL);
	expect_run(0, "{}\n", "", "shmc-dump", "--json", NA_name, "e_ns2", NULL);
	expect_run(0, "[]\n", "", "shmc-dump", "--json", NA_name, "e_list", NULL);
	expect_run(1, "", fmt("shmc-dump: %s e_list/0: %s\n", NA_name,
			      shmc_strerror(SHMC_EINDEX)), "shmc-dump", NA_name, "e_list/0", NULL);
	expect_run(1, "", fmt("shmc-dump: %s e_list/-1: %s\n", NA_name,
			      shmc_strerror(SHMC_EINDEX)), "shmc-dump", NA_name, "e_list/-1", NULL);
}

static char *stat_out(const char *name);
static bool has_line(const char *out, const char *line);
static void buf_release(char *p);

/* Objects that are not containers show as Python shows their proxies. */
Test(tools, dump_shows_other_kinds_as_proxies, .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *q, *lk, *ev, *holder, *o;
	ASSERT_OK(shmc_queue_new(NA, 5, &q));
	ASSERT_OK(shmc_queue_put(q, shmc_int(1), SHMC_NOWAIT));
	ASSERT_OK(shmc_lock_new(NA, &lk));
	ASSERT_OK(shmc_event_new(NA, &ev));
	ASSERT_OK(shmc_root_setdefault(NA, "q", q, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_setdefault(NA, "lk", lk, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_setdefault(NA, "ev", ev, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find_or_create(NA, "holder", SHMC_KIND_LIST, &holder));
	ASSERT_OK(shmc_list_append(holder, shmc_ref(q)));
	uint64_t qo = q->off, lo = lk->off, eo = ev->off, holder_off = holder->off;
	shmc_obj_release(q);
	shmc_obj_release(lk);
	shmc_obj_release(ev);
	shmc_obj_release(holder);
	const char *n = NA_name;
	const char *want = fmt("ev: <EventProxy object, typeid 'Event' at %#" PRIx64 ">\n"
			       "holder: [<AutoProxy[Queue] object, typeid 'Queue' at %#" PRIx64 ">]\n"
			       "lk: <AcquirerProxy object, typeid 'Lock' at %#" PRIx64 ">\n"
			       "q: <AutoProxy[Queue] object, typeid 'Queue' at %#" PRIx64 ">\n",
			       eo, qo, lo, qo);
	expect_run(0, want, "", "shmc-dump", n, NULL);
	struct records rs = {0};
	record(&rs, "lines", want, strlen(want));
	records_check(&rs);
	expect_run(0, fmt("{\"ev\": {\"ref\": \"%#" PRIx64 "\", \"typeid\": \"Event\"}, "
			  "\"holder\": [{\"ref\": \"%#" PRIx64 "\", \"typeid\": \"Queue\"}], "
			  "\"lk\": {\"ref\": \"%#" PRIx64 "\", \"typeid\": \"Lock\"}, "
			  "\"q\": {\"ref\": \"%#" PRIx64 "\", \"typeid\": \"Queue\"}}\n",
			  eo, qo, lo, qo),
		   "", "shmc-dump", "--json", n, NULL);
	expect_run(0, fmt("<AutoProxy[Queue] object, typeid 'Queue' at %#" PRIx64 ">\n", qo), "",
		   "shmc-dump", n, "holder/0", NULL);
	expect_run(1, "", fmt("shmc-dump: %s q/0: %s\n", n, shmc_strerror(SHMC_ETYPE)),
		   "shmc-dump", n, "q/0", NULL);
	char *out = stat_out(n);
	cr_assert(strstr(out, "objects by kind:\n"
			      "  list               1\n"
			      "  Lock               1\n"
			      "  Event              1\n"
			      "  Queue              1\n"
			      "named objects:\n"), "%s", out);
	/* Named objects that are not containers: no count of items. */
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d refs", "q", "Queue", qo, 2)),
		  "%s", out);
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d refs", "lk", "Lock", lo, 1)),
		  "%s", out);
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d items, %d refs", "holder",
				    "list", holder_off, 1, 1)), "%s", out);
	cr_assert(strstr(out, "-1 items") == NULL, "%s", out);
	buf_release(out);
}

Test(tools, dump_of_an_arena_without_names, .init = named_setup, .fini = named_teardown)
{
	expect_run(0, "", "", "shmc-dump", NA_name, NULL);
	expect_run(0, "{}\n", "", "shmc-dump", "--json", NA_name, NULL);
	expect_run(1, "", fmt("shmc-dump: %s x: %s\n", NA_name, shmc_strerror(SHMC_EKEY)),
		   "shmc-dump", NA_name, "x", NULL);
	/* A brand-new arena, whose directory was never made. */
	char name[128], path[256];
	snprintf(name, sizeof(name), "shmc-test-%d-fresh", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	track(path);
	shmc_arena_t *b;
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY};
	ASSERT_OK(shmc_arena_create(name, &o, &b));
	cr_assert_eq(atomic_load(&b->hdr->roots_off), 0);
	expect_run(0, "", "", "shmc-dump", name, NULL);
	expect_run(0, "{}\n", "", "shmc-dump", "--json", name, NULL);
	struct run r = run_tool("shmc-stat", name, NULL);
	cr_assert_eq(exited(&r, "shmc-stat"), 0, "%s", r.err);
	cr_assert(strstr(r.out, "objects by kind:\nnamed objects:\nprocesses (1 slots in use):\n"),
		  "%s", r.out);
	run_free(&r);
	expect_run(0, NULL, "", "shmc-check", name, NULL);
	shmc_arena_close(b);
}

/* shmc-stat ------------------------------------------------------------------- */

static char *stat_out(const char *name)
{
	struct run r = run_tool("shmc-stat", name, NULL);
	cr_assert_eq(exited(&r, "shmc-stat"), 0, "shmc-stat: %s", r.err);
	cr_assert_str_eq(r.err, "");
	live_forget(r.err);
	free(r.err);
	return r.out; /* freed with buf_release() */
}

static void buf_release(char *p)
{
	live_forget(p);
	free(p);
}

static bool has_line(const char *out, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = out; (p = strstr(p, line)) != NULL; p++)
		if ((p == out || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* The "processes" line of PID: its slot and state ("alive"/"DEAD"); -1 if
 * absent. */
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
				    "Namespace", k.state, 6, 1)), "%s", out);
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

/* A child that attaches (by fork) and holds handles, then waits. */
static pid_t child_holding(int *ready_fd)
{
	int p[2];
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		child_init(parent);
		shmc_obj_t *a, *b;
		CHILD_OK(shmc_root_find(NA, "jobs", &a));
		CHILD_OK(shmc_root_find(NA, "state", &b));
		CHILD_CHECK(write(p[1], "R", 1) == 1);
		for (;;)
			pause();
	}
	close(p[1]);
	*ready_fd = p[0];
	char c;
	cr_assert_eq(read(p[0], &c, 1), 1, "the child died before it was ready");
	return pid;
}

static void kill_child(pid_t pid)
{
	int st;
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

Test(tools, stat_shows_processes_alive_then_dead, .init = named_setup, .fini = named_teardown)
{
	populate(NA);
	int fd;
	pid_t child = child_holding(&fd);
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

	kill_child(child);
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
	close(fd);
}

/* Holding a container's lock: the update function tells the parent, then
 * sleeps inside the update until it is killed. */
static int hold_lock(shmc_value_t *v, void *ctx)
{
	(void)v;
	if (write(*(int *)ctx, "L", 1) != 1)
		_exit(1);
	for (;;)
		pause();
	return 0;
}

Test(tools, stat_shows_a_held_lock_and_its_dead_holder, .init = named_setup,
     .fini = named_teardown)
{
	struct known k = populate(NA);
	int p[2];
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		child_init(parent);
		shmc_obj_t *jobs;
		CHILD_OK(shmc_root_find(NA, "jobs", &jobs));
		CHILD_OK(shmc_list_update(jobs, 0, hold_lock, &p[1]));
		_exit(1); /* never reached */
	}
	close(p[1]);
	char c;
	cr_assert_eq(read(p[0], &c, 1), 1, "the child died before it held the lock");
	close(p[0]);

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

	kill_child(child);
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

/* shmc-check ------------------------------------------------------------------- */

Test(tools, check_reports_a_clean_arena, .init = named_setup, .fini = named_teardown)
{
	populate(NA);
	struct run r = run_tool("shmc-check", NA_name, NULL);
	cr_assert_eq(exited(&r, "shmc-check"), 0, "%s%s", r.out, r.err);
	/* Five objects and the directory; nothing leaked, nobody dead. */
	const char *head = fmt("%s: 0 errors; 6 objects, ", NA_name);
	cr_assert(strncmp(r.out, head, strlen(head)) == 0, "%s", r.out);
	cr_assert(strstr(r.out, " free; leaked: 0 blocks (0 bytes), 0 references; "
				"0 dead processes\n"), "%s", r.out);
	cr_assert_str_eq(r.err, "");
	struct run q = run_tool("shmc-check", "-q", NA_name, NULL);
	cr_assert_eq(exited(&q, "shmc-check -q"), 0);
	cr_assert_str_eq(q.out, r.out); /* nothing to report: the same summary */
	run_free(&q);
	run_free(&r);
}

/* Read-only ---------------------------------------------------------------------- */

static uint64_t file_hash(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	uint64_t h = 1469598103934665603ull;
	unsigned char buf[65536];
	ssize_t n;
	*size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
		*size += (size_t)n;
	}
	close(fd);
	return h;
}

static void run_all_read_only(const char *name)
{
	static const char *const argvs[][4] = {
		{"shmc-stat", NULL},
		{"shmc-dump", NULL},
		{"shmc-dump", "--json", NULL},
		{"shmc-dump", "@", "jobs/1/name"},
		{"shmc-dump", "--json", "@", "config/jobs"},
		{"shmc-dump", "@", "config/nope"},
		{"shmc-check", NULL},
		{"shmc-check", "-q", NULL},
	};
	for (size_t i = 0; i < sizeof(argvs) / sizeof(argvs[0]); i++) {
		char *argv[6];
		int n = 0;
		argv[n++] = (char *)tool(argvs[i][0]);
		bool named = false;
		for (int j = 1; j < 4 && argvs[i][j]; j++) {
			named |= strcmp(argvs[i][j], "@") == 0;
			argv[n++] = strcmp(argvs[i][j], "@") == 0 ? (char *)name : (char *)argvs[i][j];
		}
		if (!named) {
			argv[n++] = (char *)name;
		}
		argv[n] = NULL;
		struct run r = run_input(argv, NULL, 0, TOOL_TIMEOUT_MS);
		int st = exited(&r, argvs[i][0]);
		cr_assert(st == 0 || (st == 1 && i == 5), "%s: exit %d: %s", argvs[i][0], st, r.err);
		run_free(&r);
	}
}

Test(tools, tools_write_nothing, .init = named_setup, .fini = named_teardown)
{
	populate(NA);
	size_t size0, size1;
	/* While this process is attached (and idle)... */
	uint64_t h0 = file_hash(NA_path, &size0);
	run_all_read_only(NA_name);
	uint64_t h1 = file_hash(NA_path, &size1);
	cr_assert_eq(size1, size0);
	cr_assert_eq(h1, h0, "the tools changed the arena's bytes");
	/* ...and on a file nobody is attached to: a copy, closed. */
	char copy[256];
	snprintf(copy, sizeof(copy), "/dev/shm/shmc-test-%d-ro-copy", (int)getpid());
	track(copy);
	{
		int in = open(NA_path, O_RDONLY | O_CLOEXEC);
		int out = open(copy, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
		cr_assert(in >= 0 && out >= 0);
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			cr_assert_eq(write(out, buf, (size_t)n), n);
		close(in);
		close(out);
	}
	struct stat sb0, sb1;
	cr_assert(stat(copy, &sb0) == 0);
	h0 = file_hash(copy, &size0);
	/* Not synchronisation: a later mtime would show a write (stat below). */
	nanosleep(&(struct timespec){0, 20 * 1000000}, NULL);
	run_all_read_only(copy);
	h1 = file_hash(copy, &size1);
	cr_assert(stat(copy, &sb1) == 0);
	cr_assert_eq(size1, size0);
	cr_assert_eq(h1, h0, "the tools changed the copy's bytes");
	cr_assert(sb1.st_mtim.tv_sec == sb0.st_mtim.tv_sec &&
		  sb1.st_mtim.tv_nsec == sb0.st_mtim.tv_nsec, "the copy was written to");
}

/* A live arena changing under the tools ------------------------------------------ */

static shmc_value_t some_value(unsigned long r)
{
	static const double floats[] = {0.5, -0.0, 1e300, 1.0 / 0.0, -1.0 / 0.0, 1e-7};
	char s[64];
	switch (r % 9) {
	case 0: return shmc_int((int64_t)(r * 2654435761u));
	case 1: return shmc_float(floats[r % 6]);
	case 2:
		snprintf(s, sizeof(s), "it's \"%lu\"\n\t\\ caf\xc3\xa9 \xe2\x82\xac", r);
		return shmc_tuple_of(1, shmc_str(s));
	case 3: return shmc_bytes("\x00\x01'\"\\\xff", 6);
	case 4: return shmc_plist_of(3, shmc_none(), shmc_bool(r & 1), shmc_plist_of(0));
	case 5: return shmc_pdict_of(2, shmc_int((int64_t)r), shmc_str("x"),
				     shmc_tuple_of(2, shmc_int(1), shmc_str("k")), shmc_float(0.25));
	case 6: return shmc_tuple_of(0);
	case 7: return shmc_float(0.0 / 0.0);
	default: return shmc_str("");
	}
}

/* Change every named object as fast as possible until told to stop: plain
 * values of every type, containers that grow past their capacity and are
 * rebuilt, managed objects replaced (so freed and their memory reused), and
 * names that come and go. */
static int mutator(struct flag *f)
{
	shmc_obj_t *jobs, *config, *state;
	CHILD_OK(shmc_root_find_or_create(NA, "jobs", SHMC_KIND_LIST, &jobs));
	CHILD_OK(shmc_root_find_or_create(NA, "config", SHMC_KIND_DICT, &config));
	CHILD_OK(shmc_root_find_or_create(NA, "state", SHMC_KIND_NAMESPACE, &state));
	/* A dict whose keys are all str, then not: its JSON form changes. */
	shmc_obj_t *flip;
	CHILD_OK(shmc_root_find_or_create(NA, "flip", SHMC_KIND_DICT, &flip));
	for (int i = 0; i < 300; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		CHILD_OK(shmc_dict_set(flip, shmc_str(key), shmc_int(i)));
	}
	for (unsigned long r = 0; !atomic_load(&f->stop); r++) {
		if (r & 1)
			CHILD_OK(shmc_dict_del(flip, shmc_int((int64_t)r - 1)));
		else
			CHILD_OK(shmc_dict_set(flip, shmc_int((int64_t)r), shmc_int(1)));
		shmc_value_t v = some_value(r);
		CHILD_OK(shmc_list_append(jobs, v));
		if (shmc_list_len(jobs) > 40)
			CHILD_OK(r % 7 ? shmc_list_pop(jobs, 0, NULL) : shmc_list_clear(jobs));
		if (shmc_list_len(jobs) > 3)
			CHILD_OK(shmc_list_set(jobs, (int64_t)(r % 3), v));
		CHILD_OK(shmc_dict_set(config, shmc_int((int64_t)(r % 50)), v));
		CHILD_OK(shmc_dict_set(config, shmc_str(r & 1 ? "odd" : "even"), v));
		if (r % 5 == 0)
			shmc_dict_del(config, shmc_int((int64_t)((r / 5) % 50)));
		if (r % 97 == 0)
			CHILD_OK(shmc_dict_clear(config));
		shmc_value_free(&v);
		CHILD_OK(shmc_namespace_set(state, r % 3 ? "count" : "other", shmc_int((int64_t)r)));
		if (r % 10 == 0) { /* a managed object inside, replaced */
			shmc_obj_t *inner;
			CHILD_OK(shmc_dict_new(NA, &inner));
			CHILD_OK(shmc_dict_set(inner, shmc_str("round"), shmc_int((int64_t)r)));
			CHILD_OK(shmc_namespace_set(state, "inner", shmc_ref(inner)));
			CHILD_OK(shmc_list_append(jobs, shmc_ref(inner)));
			shmc_obj_release(inner);
		}
		if (r % 25 == 0) { /* names come and go */
			char name[32];
			shmc_obj_t *t;
			snprintf(name, sizeof(name), "tmp-%lu", (r / 25) % 4);
			if (shmc_root_remove(NA, name) == SHMC_EKEY) {
				CHILD_OK(shmc_root_find_or_create(NA, name, SHMC_KIND_LIST, &t));
				CHILD_OK(shmc_list_append(t, shmc_str(name)));
				shmc_obj_release(t);
			}
		}
		atomic_fetch_add(&f->rounds, 1);
	}
	shmc_obj_release(jobs);
	shmc_obj_release(config);
	shmc_obj_release(state);
	shmc_obj_release(flip);
	return 0;
}

/* Fork the mutator and return once it has done 100 rounds; mut_pid is
 * its pid, and the fixture stops it if the test fails first. */
static struct flag *mutator_start(void)
{
	struct flag *f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(f != MAP_FAILED);
	pid_t parent = getpid();
	fflush(NULL);
	pid_t child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		child_init(parent);
		_exit(mutator(f));
	}
	mut_flag = f;
	mut_pid = child;
	while (atomic_load(&f->rounds) < 100) {
		int st;
		cr_assert_eq(waitpid(child, &st, WNOHANG), 0, "the mutator failed");
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return f;
}

Test(tools, tools_never_crash_or_block_on_a_changing_arena, .init = named_setup,
     .fini = named_teardown)
{
	struct flag *f = mutator_start();
	struct records rs = {0};
	/* Every kind of run, with what went wrong, so that one report names
	 * every tool that crashed, hung or printed garbage. */
	struct tally {
		const char *what;
		int runs, ok, crashed, hung, bad;
		char first[600];
	} t[6] = {{.what = "shmc-stat"}, {.what = "shmc-dump"}, {.what = "shmc-dump --json"},
		  {.what = "shmc-dump PATH"},
		  {.what = "shmc-dump --json PATH"}, {.what = "shmc-check"}};
	static const char *paths[] = {"jobs", "flip", "config/even", "state/inner", "flip",
				      "state/inner/round", "jobs/-1", "config/3", "flip", "tmp-1"};
	int runs = 0;
	double until = now_ms() + 8000;
	for (int i = 0; i < 400 && (i < 20 || now_ms() < until); i++, runs++) {
		const char *path = paths[i % 10];
		for (int k = 0; k < 6; k++) {
			struct tally *x = &t[k];
			bool json = k == 2 || k == 4;
			struct run r;
			switch (k) {
			case 0: r = run_tool("shmc-stat", NA_name, NULL); break;
			case 1: r = run_tool("shmc-dump", NA_name, NULL); break;
			case 2: r = run_tool("shmc-dump", "--json", NA_name, NULL); break;
			case 3: r = run_tool("shmc-dump", NA_name, path, NULL); break;
			case 4: r = run_tool("shmc-dump", "--json", NA_name, path, NULL); break;
			default: r = run_tool("shmc-check", "-q", NA_name, NULL); break;
			}
			x->runs++;
			const char *fault = NULL;
			int st = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
			if (r.timed_out) {
				x->hung++;
				fault = "still running after the timeout";
			} else if (WIFSIGNALED(r.status)) {
				x->crashed++;
				fault = strsignal(WTERMSIG(r.status));
			} else if (st == 0 && k == 0 && !strstr(r.out, "\nlocks held: ")) {
				x->bad++;
				fault = "incomplete output";
			} else if (st == 0 && k >= 1 && k <= 4 &&
				   !(json ? json_ok(r.out, r.outlen)
					  : text_balanced(r.out, r.outlen))) {
				x->bad++;
				fault = json ? "output is not JSON" : "output is not Python's text form";
			} else if (st == 1 && k >= 1 && k <= 4 &&
				   strncmp(r.err, "shmc-dump: ", 11) != 0) {
				x->bad++;
				fault = "exit 1 without a message";
			} else if (st == 0 || (st == 1 && k != 0)) {
				/* The check is exact only on a quiet arena: any
				 * verdict. A dump may meet a momentary tear. */
				x->ok += st == 0;
				if (st == 0 && k >= 1 && k <= 4)
					record(&rs, json ? "json" : k == 1 ? "lines" : "value", r.out,
					       r.outlen);
			} else {
				x->bad++;
				fault = "unexpected exit status";
			}
			if (fault && !x->first[0])
				snprintf(x->first, sizeof(x->first), "%s (exit %d): %.200s%.200s",
					 fault, st, r.err, r.out);
			run_free(&r);
		}
	}
	/* Then the JSON form of one dict whose keys keep changing between all
	 * str (a JSON object) and not (pairs): never a mixture. */
	struct tally *x = &t[4];
	double flip_until = now_ms() + 3000;
	for (int i = 0; i < 2000 && now_ms() < flip_until; i++) {
		struct run r = run_tool("shmc-dump", "--json", NA_name, "flip", NULL);
		x->runs++;
		const char *fault = NULL;
		if (r.timed_out) {
			x->hung++;
			fault = "still running after the timeout";
		} else if (WIFSIGNALED(r.status)) {
			x->crashed++;
			fault = strsignal(WTERMSIG(r.status));
		} else if (WEXITSTATUS(r.status) == 0 && !json_ok(r.out, r.outlen)) {
			x->bad++;
			fault = "output is not JSON";
		} else if (WEXITSTATUS(r.status) > 1) {
			x->bad++;
			fault = "unexpected exit status";
		} else {
			x->ok += WEXITSTATUS(r.status) == 0;
		}
		if (fault && !x->first[0])
			snprintf(x->first, sizeof(x->first), "flip: %s: %.300s%.100s", fault, r.out,
				 r.err);
		run_free(&r);
	}
	long rounds = atomic_load(&f->rounds);
	atomic_store(&f->stop, 1);
	int st;
	cr_assert_eq(waitpid(mut_pid, &st, 0), mut_pid);
	mut_pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the mutator failed");
	char report[4096] = "";
	bool failed = false;
	for (int k = 0; k < 6; k++) {
		snprintf(report + strlen(report), sizeof(report) - strlen(report),
			 "\n  %-22s %3d runs: %3d ok, %d crashed, %d hung, %d bad%s%s", t[k].what,
			 t[k].runs, t[k].ok, t[k].crashed, t[k].hung, t[k].bad,
			 t[k].first[0] ? "; first: " : "", t[k].first);
		failed |= t[k].crashed || t[k].hung || t[k].bad;
	}
	cr_log_info("%d rounds of tools over %ld mutations:%s", runs, rounds, report);
	cr_assert(!failed, "tools on an arena being changed:%s", report);
	/* Reading a changing arena may fail ("arena is corrupt": a torn
	 * read), but not always: what succeeded is checked below. */
	cr_assert_gt(t[1].ok, 0, "shmc-dump always fails:%s", report);
	cr_assert_gt(t[2].ok, 0, "shmc-dump --json always fails:%s", report);
	records_check(&rs);
	/* Once it is quiet, the arena is sound. */
	expect_run(0, NULL, "", "shmc-check", NA_name, NULL);
	munmap(f, sizeof(*f));
}

/* The same through the library call the tool is built on, many times a
 * second: a dict whose keys flip between all str and not must always come
 * out as valid JSON (or an error), never a mixture of the two forms. */
Test(tools, view_dump_json_of_a_changing_dict_is_valid, .init = named_setup,
     .fini = named_teardown)
{
	struct flag *f = mutator_start();
	shmc_view_t *v;
	ASSERT_OK(shmc_view_open(NA_name, &v));
	int dumps = 0, ok = 0, bad = 0;
	static char first[600];
	first[0] = '\0';
	static const char *paths[] = {"flip", "config", NULL};
	double until = now_ms() + 5000;
	for (int i = 0; now_ms() < until; i++) {
		char *out;
		const char *path = paths[i % 3];
		int rc = shmc_view_dump(v, path, SHMC_VIEW_JSON, &out);
		dumps++;
		if (rc == 0) {
			ok++;
			if (!json_ok(out, strlen(out)) && bad++ == 0)
				snprintf(first, sizeof(first), "%s: %.500s", path ? path : "(all)", out);
			shmc_free(out);
		} else if (rc != SHMC_ECORRUPT && bad++ == 0) { /* a torn read, at worst */
			snprintf(first, sizeof(first), "%s: %s", path ? path : "(all)",
				 shmc_errname(rc));
		}
	}
	shmc_view_close(v);
	mutator_stop();
	cr_log_info("%d JSON dumps of a changing arena: %d ok, %d not JSON", dumps, ok, bad);
	cr_assert_gt(ok, 0);
	cr_assert_eq(bad, 0, "%d of %d JSON dumps are not JSON (or failed oddly); the first: %s",
		     bad, dumps, first);
	munmap(f, sizeof(*f));
}

/* Corrupt copies -------------------------------------------------------------------- */

/* Layouts private to list.c and dict.c, as the corruption needs them. */
struct t_list_arr {
	uint32_t magic, pad_;
	uint64_t cap, len;
	uint64_t item[];
};
struct t_dict_table {
	uint32_t magic, pad_;
	uint64_t nindex, cap, used, live, pad2_;
	uint32_t index[];
};

struct corpus {
	uint8_t *gold, *work;
	size_t size;
	char path[256];
	struct known k;
	uint64_t data_off, brk, pagemap_off, procs_off, recs_off, roots;
	int variants, detected; /* run; found by shmc-check */
};

static uint64_t rd64(const struct corpus *c, uint64_t off)
{
	uint64_t v = 0;
	if (off + 8 <= c->size)
		memcpy(&v, c->gold + off, 8);
	return v;
}

static void put(struct corpus *c, uint64_t off, uint64_t v, int width)
{
	if (off + (uint64_t)width > c->size)
		return;
	memcpy(c->work + off, &v, (size_t)width); /* little-endian */
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static struct corpus live_corpus; /* a copy, for the fixture to free */

static void corpus_cleanup(void)
{
	free(live_corpus.gold);
	free(live_corpus.work);
	if (live_corpus.path[0])
		unlink(live_corpus.path);
	memset(&live_corpus, 0, sizeof(live_corpus));
}

static void corpus_setup(struct corpus *c)
{
	memset(c, 0, sizeof(*c));
	c->k = populate(NA);
	/* More to damage: a long list and a big dict. */
	shmc_obj_t *jobs, *config;
	ASSERT_OK(shmc_root_find(NA, "jobs", &jobs));
	ASSERT_OK(shmc_root_find(NA, "config", &config));
	for (int i = 0; i < 300; i++) {
		ASSERT_OK(shmc_list_append(jobs, shmc_str(i % 2 ? "some text" : "x")));
		ASSERT_OK(shmc_dict_set(config, shmc_int(1000 + i), shmc_float(i / 3.0)));
	}
	shmc_obj_release(jobs);
	shmc_obj_release(config);
	shmc_arena_reclaim(NA);
	int fd = open(NA_path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	struct stat sb;
	cr_assert(fstat(fd, &sb) == 0);
	c->size = (size_t)sb.st_size;
	c->gold = malloc(c->size);
	c->work = malloc(c->size);
	cr_assert(c->gold && c->work);
	cr_assert_eq(pread(fd, c->gold, c->size, 0), (ssize_t)c->size);
	close(fd);
	struct shmc__hdr *h = (struct shmc__hdr *)c->gold;
	c->data_off = h->data_off;
	c->brk = atomic_load(&h->brk);
	c->pagemap_off = h->pagemap_off;
	c->procs_off = h->procs_off;
	c->recs_off = h->recs_off;
	c->roots = atomic_load(&h->roots_off);
	snprintf(c->path, sizeof(c->path), "/dev/shm/shmc-test-%d-corrupt", (int)getpid());
	track(c->path);
	live_corpus = *c;
}

static void corpus_free(struct corpus *c)
{
	(void)c;
	corpus_cleanup();
}

static void variant_begin(struct corpus *c)
{
	memcpy(c->work, c->gold, c->size);
}

/* A tool on the damaged copy: exit 0 or 1 with something to say, never a
 * signal or a hang. Returns the exit status. */
static int corrupt_run(struct corpus *c, const char *desc, const char *t, const char *a1,
		       const char *a2)
{
	char *argv[6];
	int n = 0;
	argv[n++] = (char *)tool(t);
	if (a1)
		argv[n++] = (char *)a1;
	argv[n++] = c->path;
	if (a2)
		argv[n++] = (char *)a2;
	argv[n] = NULL;
	char what[512];
	snprintf(what, sizeof(what), "[%s] %s %s %s", desc, t, a1 ? a1 : "", a2 ? a2 : "");
	struct run r = run_input(argv, NULL, 0, TOOL_TIMEOUT_MS);
	int st = exited(&r, what);
	cr_assert(st == 0 || st == 1, "%s: exit %d\n%s", what, st, r.err);
	if (st == 1) {
		/* A clear message: "tool: NAME: reason" on stderr, or the
		 * check's findings and a count of errors. */
		char head[300];
		snprintf(head, sizeof(head), "%s: %s", t, c->path);
		bool said = strncmp(r.err, head, strlen(head)) == 0 && r.err[r.errlen - 1] == '\n';
		if (!said && strcmp(t, "shmc-check") == 0) {
			const char *s = strstr(r.out, fmt("%s: ", c->path));
			unsigned long long errors = 0;
			said = s && sscanf(s + strlen(c->path) + 2, "%llu errors", &errors) == 1 &&
			       errors > 0;
		}
		cr_assert(said, "%s: exit 1 without a clear message\nstdout: %s\nstderr: %s", what,
			  r.out, r.err);
	} else if (strcmp(t, "shmc-dump") == 0 && a1 && strcmp(a1, "--json") == 0) {
		cr_assert(json_ok(r.out, r.outlen), "%s: exit 0 with output that is not JSON: %s",
			  what, r.out);
	} else if (strcmp(t, "shmc-dump") == 0) {
		cr_assert(text_balanced(r.out, r.outlen), "%s: exit 0 with garbled output: %s", what,
			  r.out);
	}
	run_free(&r);
	return st;
}

/* Write the damaged copy and run every tool on it. */
static void variant_run(struct corpus *c, const char *desc)
{
	int fd = open(c->path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, c->work, c->size), (ssize_t)c->size);
	close(fd);
	corrupt_run(c, desc, "shmc-stat", NULL, NULL);
	corrupt_run(c, desc, "shmc-dump", NULL, NULL);
	corrupt_run(c, desc, "shmc-dump", "--json", NULL);
	corrupt_run(c, desc, "shmc-dump", NULL, "jobs/1/name");
	corrupt_run(c, desc, "shmc-dump", "--json", "config/threads");
	corrupt_run(c, desc, "shmc-dump", NULL, "state/a");
	if (corrupt_run(c, desc, "shmc-check", NULL, NULL))
		c->detected++;
	c->variants++;
}

/* Damage that breaks an invariant outright: shmc-check must find it. */
static void variant_detected(struct corpus *c, const char *desc)
{
	int before = c->detected;
	variant_run(c, desc);
	cr_assert_eq(c->detected, before + 1, "[%s] shmc-check finds nothing wrong", desc);
}

/* The header refusals have their own messages, the same from every tool.
 * shmc-check may instead report a corrupt header as a finding: exit 1 and
 * a summary counting it as an error. */
static void expect_refusal(struct corpus *c, const char *desc, int code)
{
	int fd = open(c->path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, c->work, c->size), (ssize_t)c->size);
	close(fd);
	for (int i = 0; i < 3; i++) {
		struct run r = run_tool(TOOLS[i], c->path, NULL);
		char what[256];
		snprintf(what, sizeof(what), "[%s] %s", desc, TOOLS[i]);
		int st = exited(&r, what);
		const char *want = fmt("%s: %s: %s\n", TOOLS[i], c->path, shmc_strerror(code));
		if (i == 2 && code == SHMC_ECORRUPT && strcmp(r.err, want) != 0) {
			const char *s = strstr(r.out, fmt("%s: ", c->path));
			unsigned long long errors = 0;
			cr_assert(st == 1 && s && sscanf(s + strlen(c->path) + 2, "%llu errors",
							 &errors) == 1 && errors > 0,
				  "%s: a corrupt header passes: exit %d\nstdout: %sstderr: %s", what,
				  st, r.out, r.err);
		} else {
			cr_assert_eq(st, 1, "%s: %s", what, r.out);
			cr_assert_str_eq(r.err, want, "%s", what);
		}
		run_free(&r);
	}
}

Test(tools, header_damage_is_refused_clearly, .init = named_setup, .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	const size_t H_MAGIC = offsetof(struct shmc__hdr, magic),
		     H_VERSION = offsetof(struct shmc__hdr, version),
		     H_HDRSIZE = offsetof(struct shmc__hdr, hdr_size),
		     H_FP = offsetof(struct shmc__hdr, fingerprint),
		     H_CAP = offsetof(struct shmc__hdr, capacity),
		     H_STATE = offsetof(struct shmc__hdr, state),
		     H_NPROCS = offsetof(struct shmc__hdr, nprocs),
		     H_DATA = offsetof(struct shmc__hdr, data_off);
	variant_begin(&c);
	c.work[H_MAGIC] ^= 0x20;
	expect_refusal(&c, "magic", SHMC_ENOTARENA);
	variant_begin(&c);
	put(&c, H_VERSION, 2, 4);
	expect_refusal(&c, "version", SHMC_EVERSION);
	variant_begin(&c);
	put(&c, H_FP, rd64(&c, H_FP) ^ 1, 8);
	expect_refusal(&c, "fingerprint", SHMC_ELAYOUT);
	variant_begin(&c);
	put(&c, H_HDRSIZE, 64, 4);
	expect_refusal(&c, "hdr_size", SHMC_ELAYOUT);
	variant_begin(&c);
	put(&c, H_STATE, SHMC__ARENA_INITIALISING, 4);
	expect_refusal(&c, "state", SHMC_EINIT);
	const uint64_t caps[] = {0, 4096, c.size / 2, c.size * 2, c.size + 4096, UINT64_MAX};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		variant_begin(&c);
		put(&c, H_CAP, caps[i], 8);
		expect_refusal(&c, fmt("capacity %#" PRIx64, caps[i]), SHMC_ECORRUPT);
	}
	variant_begin(&c);
	put(&c, H_NPROCS, 1000, 4);
	expect_refusal(&c, "nprocs", SHMC_ECORRUPT);
	variant_begin(&c);
	put(&c, H_DATA, rd64(&c, H_DATA) + 4096, 8);
	expect_refusal(&c, "data_off", SHMC_ECORRUPT);
	corpus_free(&c);
}

Test(tools, damaged_header_fields_never_crash_the_tools, .init = named_setup,
     .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	struct field {
		const char *name;
		size_t off;
		int width;
	} fields[] = {
#define F(f, w) {#f, offsetof(struct shmc__hdr, f), w}
		F(version, 4),     F(hdr_size, 4),  F(fingerprint, 8), F(capacity, 8),
		F(state, 4),       F(nprocs, 4),    F(nrecs, 4),       F(nclasses, 4),
		F(procs_off, 8),   F(recs_off, 8),  F(pagemap_off, 8), F(data_off, 8),
		F(roots_off, 8),   F(next_id, 8),   F(lock_recoveries, 8), F(features, 8),
		F(committed, 8),   F(brk, 8),       F(epoch, 8),       F(rec_hwm, 4),
#undef F
	};
	uint64_t seed = 0x5eed0001;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t gold = rd64(&c, fields[i].off);
		if (fields[i].width == 4)
			gold &= 0xffffffffu;
		const uint64_t values[] = {0, 1, 8, gold + 16, gold - 16, gold * 2, c.size,
					   c.size - 16, c.data_off, UINT64_MAX,
					   (uint64_t)1 << 63, rng(&seed)};
		for (size_t j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
			variant_begin(&c);
			put(&c, fields[i].off, values[j], fields[i].width);
			variant_run(&c, fmt("hdr.%s = %#" PRIx64, fields[i].name, values[j]));
		}
	}
	/* The allocator's class heads. */
	for (unsigned cls = 0; cls < 8; cls++) {
		size_t off = offsetof(struct shmc__hdr, classes) +
			     cls * sizeof(struct shmc__class_head);
		variant_begin(&c);
		put(&c, off, c.data_off + 16 * (cls + 1), 8);               /* free list head */
		put(&c, off + offsetof(struct shmc__class_head, in_use), UINT64_MAX, 8);
		variant_run(&c, fmt("class %u free head and in_use", cls));
		variant_begin(&c);
		put(&c, off + offsetof(struct shmc__class_head, carved), (uint64_t)1 << 40, 8);
		variant_run(&c, fmt("class %u carved", cls));
	}
	cr_log_info("%d header variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}

Test(tools, damaged_slots_and_records_never_crash_the_tools, .init = named_setup,
     .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	uint64_t seed = 0x5eed0002;
	for (unsigned s = 0; s < 6; s++) {
		uint64_t p = c.procs_off + s * sizeof(struct shmc__proc);
		const uint64_t offs[] = {0, 1, c.size - 8, c.k.jobs, rng(&seed)};
		for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			variant_begin(&c);
			put(&c, p + offsetof(struct shmc__proc, state), SHMC__PROC_LIVE, 4);
			put(&c, p + offsetof(struct shmc__proc, pid), rng(&seed), 4);
			put(&c, p + offsetof(struct shmc__proc, handles_off), offs[j], 8);
			variant_run(&c, fmt("slot %u handles_off %#" PRIx64, s, offs[j]));
		}
		variant_begin(&c);
		put(&c, p + offsetof(struct shmc__proc, state), 0xdeadbeef, 4);
		variant_run(&c, fmt("slot %u state", s));
	}
	for (unsigned i = 0; i < 4; i++) {
		uint64_t rec = c.recs_off + i * sizeof(struct shmc__rec);
		variant_begin(&c);
		put(&c, rec + offsetof(struct shmc__rec, owner), 1 + i, 4);
		put(&c, rec + offsetof(struct shmc__rec, limbo_off), rng(&seed) % c.size & ~15ull, 8);
		put(&c, rec + offsetof(struct shmc__rec, epoch), UINT64_MAX, 8);
		variant_run(&c, fmt("record %u limbo", i));
		variant_begin(&c);
		put(&c, rec + offsetof(struct shmc__rec, owner), SHMC__REC_ORPHAN, 4);
		put(&c, rec + offsetof(struct shmc__rec, limbo_off), c.k.config, 8);
		variant_run(&c, fmt("record %u orphan limbo at an object", i));
	}
	cr_log_info("%d slot variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}

Test(tools, damaged_objects_never_crash_the_tools, .init = named_setup, .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	const uint64_t body = sizeof(struct shmc__obj);
	const struct {
		const char *name;
		uint64_t off;
	} objs[] = {{"jobs", c.k.jobs},   {"config", c.k.config}, {"state", c.k.state},
		    {"inner", c.k.inner}, {"directory", c.roots}};
	uint64_t seed = 0x5eed0003;
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		uint64_t o = objs[i].off;
		/* MUST: damage the check has to find (no magic, no kind, or no
		 * reference counted while references exist). */
		const struct {
			const char *f;
			size_t off;
			int width;
			uint64_t v;
			bool must;
		} hv[] = {
			{"magic", offsetof(struct shmc__obj, magic), 4, 0, true},
			{"kind", offsetof(struct shmc__obj, kind), 2, 0, true},
			{"kind", offsetof(struct shmc__obj, kind), 2, 0x1234, true},
			{"kind", offsetof(struct shmc__obj, kind), 2, 0xffff, true},
			{"kind", offsetof(struct shmc__obj, kind), 2, SHMC_KIND_QUEUE, false},
			{"kind", offsetof(struct shmc__obj, kind), 2, SHMC_KIND_LIST, false},
			{"kind", offsetof(struct shmc__obj, kind), 2, SHMC_KIND_NAMESPACE, false},
			{"refs", offsetof(struct shmc__obj, refs), 8, 0, o != c.roots},
			{"refs", offsetof(struct shmc__obj, refs), 8, UINT64_MAX, false},
			{"seq (odd: a writer forever)", offsetof(struct shmc__obj, seq), 8, 12345,
			 false},
			{"flags", offsetof(struct shmc__obj, flags), 2, 0xffff, false},
			{"lock", offsetof(struct shmc__obj, lock), 4, 0x7fffffff, false},
			{"lock", offsetof(struct shmc__obj, lock), 4, 0xffffffff, false},
			{"lock", offsetof(struct shmc__obj, lock), 4, 1, false},
		};
		for (size_t j = 0; j < sizeof(hv) / sizeof(hv[0]); j++) {
			variant_begin(&c);
			put(&c, o + hv[j].off, hv[j].v, hv[j].width);
			const char *d = fmt("%s.%s = %#" PRIx64, objs[i].name, hv[j].f, hv[j].v);
			if (hv[j].must)
				variant_detected(&c, d);
			else
				variant_run(&c, d);
		}
		/* The body's one offset: the list's array or the dict's table. */
		uint64_t gold = rd64(&c, o + body);
		const uint64_t bodies[] = {0, 1, 8, 16, gold + 16, gold - 16, c.k.jobs, c.k.config,
					   o, c.size - 16, c.size, UINT64_MAX, c.data_off,
					   rng(&seed) & ~15ull, (rng(&seed) % c.brk) & ~15ull};
		for (size_t j = 0; j < sizeof(bodies) / sizeof(bodies[0]); j++) {
			variant_begin(&c);
			put(&c, o + body, bodies[j], 8);
			/* Anything but 0 (empty) and the other real array or
			 * table is not a block of the object's own. */
			const char *d = fmt("%s body offset = %#" PRIx64, objs[i].name, bodies[j]);
			if (j >= 1 && j <= 5)
				variant_detected(&c, d);
			else
				variant_run(&c, d);
		}
	}
	/* The list's array: its header and items. */
	uint64_t arr = rd64(&c, c.k.jobs + body);
	const size_t A_CAP = offsetof(struct t_list_arr, cap),
		     A_LEN = offsetof(struct t_list_arr, len),
		     A_ITEM = offsetof(struct t_list_arr, item);
	const uint64_t counts[] = {0, 1, 1000, 1u << 20, (uint64_t)1 << 40, UINT64_MAX,
				   UINT64_MAX / 8, (c.size - arr) / 8};
	for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
		variant_begin(&c);
		put(&c, arr + A_CAP, counts[j], 8);
		if (counts[j] >= 1u << 20) /* larger than its block */
			variant_detected(&c, fmt("list cap = %#" PRIx64, counts[j]));
		else
			variant_run(&c, fmt("list cap = %#" PRIx64, counts[j]));
		variant_begin(&c);
		put(&c, arr + A_LEN, counts[j], 8);
		variant_run(&c, fmt("list len = %#" PRIx64, counts[j]));
		variant_begin(&c);
		put(&c, arr + A_CAP, counts[j], 8);
		put(&c, arr + A_LEN, counts[j], 8);
		variant_run(&c, fmt("list cap = len = %#" PRIx64, counts[j]));
	}
	variant_begin(&c);
	put(&c, arr, 0, 4);
	variant_detected(&c, "list array magic");
	for (int round = 0; round < 12; round++) {
		variant_begin(&c);
		for (int i = 0; i < 12; i++) /* item words: references, strings, garbage */
			put(&c, arr + A_ITEM + 8 * (rng(&seed) % 12), rng(&seed) >> (round % 4 * 16), 8);
		variant_run(&c, fmt("list items, round %d", round));
	}
	/* The dicts' tables: header, index and entries. */
	const uint64_t tables[] = {rd64(&c, c.k.config + body), rd64(&c, c.k.state + body),
				   rd64(&c, c.roots + body)};
	const size_t T_NINDEX = offsetof(struct t_dict_table, nindex),
		     T_CAP = offsetof(struct t_dict_table, cap),
		     T_USED = offsetof(struct t_dict_table, used),
		     T_LIVE = offsetof(struct t_dict_table, live),
		     T_INDEX = offsetof(struct t_dict_table, index);
	for (size_t t = 0; t < 3; t++) {
		uint64_t tb = tables[t];
		uint64_t nindex = rd64(&c, tb + T_NINDEX);
		const uint64_t ns[] = {0, 1, 3, 6, nindex * 2, nindex / 2, (uint64_t)1 << 40,
				       UINT64_MAX, (uint64_t)1 << 63};
		for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
			variant_begin(&c);
			put(&c, tb + T_NINDEX, ns[j], 8);
			/* Not a power of two, or larger than the table's block. */
			if (ns[j] != nindex / 2)
				variant_detected(&c, fmt("table %zu nindex = %#" PRIx64, t, ns[j]));
			else
				variant_run(&c, fmt("table %zu nindex = %#" PRIx64, t, ns[j]));
			variant_begin(&c);
			put(&c, tb + T_CAP, ns[j], 8);
			put(&c, tb + T_USED, ns[j], 8);
			variant_run(&c, fmt("table %zu cap = used = %#" PRIx64, t, ns[j]));
			variant_begin(&c);
			put(&c, tb + T_USED, ns[j], 8);
			put(&c, tb + T_LIVE, ns[j], 8);
			variant_run(&c, fmt("table %zu used = live = %#" PRIx64, t, ns[j]));
		}
		variant_begin(&c);
		for (uint64_t i = 0; i < nindex && i < 4096; i++)
			put(&c, tb + T_INDEX + 4 * i, 0xffffffff, 4);
		variant_run(&c, fmt("table %zu index all 0xffffffff", t));
		variant_begin(&c);
		for (uint64_t i = 0; i < nindex && i < 4096; i++)
			put(&c, tb + T_INDEX + 4 * i, 1, 4); /* every slot: entry 0 */
		variant_run(&c, fmt("table %zu index all entry 0", t));
		uint64_t ent = (tb + T_INDEX + 4 * nindex + 15) & ~15ull;
		for (int round = 0; round < 10; round++) {
			variant_begin(&c);
			for (int i = 0; i < 8; i++) /* hash, key and value words */
				put(&c, ent + 8 * (rng(&seed) % 30), rng(&seed) >> (round % 4 * 16), 8);
			variant_run(&c, fmt("table %zu entries, round %d", t, round));
		}
	}
	cr_log_info("%d object variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}

Test(tools, damaged_pagemap_never_crashes_the_tools, .init = named_setup,
     .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	uint64_t pages = c.brk / SHMC__PAGE, first = c.data_off / SHMC__PAGE;
	uint64_t seed = 0x5eed0004;
	/* Entries are pagemap_off-relative; their width is the allocator's
	 * business: damage bytes. */
	const uint8_t fills[] = {0x00, 0xff, 0x01, 0x7f};
	for (size_t f = 0; f < sizeof(fills); f++) {
		variant_begin(&c);
		for (uint64_t p = 0; p < 2 * pages + 8; p++)
			c.work[c.pagemap_off + p] = fills[f];
		variant_run(&c, fmt("pagemap all %#x", fills[f]));
	}
	for (int round = 0; round < 30; round++) {
		variant_begin(&c);
		for (int i = 0; i < 1 + round % 8; i++) {
			uint64_t p = c.pagemap_off + (first + rng(&seed) % (pages - first + 2)) * 2 +
				     rng(&seed) % 2;
			c.work[p] = (uint8_t)rng(&seed);
		}
		variant_run(&c, fmt("pagemap random, round %d", round));
	}
	cr_log_info("%d pagemap variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}

Test(tools, random_damage_never_crashes_the_tools, .init = named_setup, .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	for (uint64_t s = 1; s <= 120; s++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull * s;
		variant_begin(&c);
		int n = 1 + (int)(rng(&seed) % 64);
		/* Mostly in the data region (blocks and values), some anywhere
		 * below the break (header, slots, records, pagemap). */
		for (int i = 0; i < n; i++) {
			uint64_t lo = s % 4 ? c.data_off : 0;
			uint64_t off = lo + rng(&seed) % (c.brk - lo);
			c.work[off] = (uint8_t)rng(&seed);
		}
		variant_run(&c, fmt("seed %" PRIu64 ": %d random bytes", s, n));
	}
	cr_log_info("%d random variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}
