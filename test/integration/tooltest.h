/*
 * tooltest.h -- the fixtures only the tool tests use (test_tool_*.c): a
 * named arena NA emptied and leak-checked by the fixture, running the tools
 * with a deadline, checking their output forms (JSON, Python's text forms),
 * a known arena and shmc-dump's exact output of it, corrupt copies of it.
 * What every test shares (files removed by the fixture, unique names,
 * running a program, the build's programs) is in testutil.h.
 *
 * The tool tests run shmc-stat, shmc-dump and shmc-check as subprocesses
 * (from $SHMC_BUILD/tools, else ../tools beside this program): their
 * options and exit codes, shmc-dump's exact output on a known arena, what
 * shmc-stat shows of processes, locks and objects, that they write nothing,
 * that they neither crash nor block on a live arena being changed under
 * them, and that a corrupt arena file gives an error -- never a crash or a
 * hang.
 *
 * Tools are started with posix_spawn (run_input), which runs no fork
 * handlers: a plain fork() from a process attached to an arena registers
 * the child in it, which would show in shmc-stat and write to the arena.
 *
 * Every arena and file a test makes has a name unique to the test process
 * and is removed by the fixture.
 */
#ifndef SHMC_TOOLTEST_H
#define SHMC_TOOLTEST_H

#include <criterion/criterion.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include "arena/arena.h"

#define SHMC_TEST_WHITEBOX /* wrap_off; objects/obj.h */
#include "testutil.h"

TestSuite(tools, .timeout = 300);

/* How long a tool may run before it counts as hung. */
#define TOOL_TIMEOUT_MS ((int)(TEST_DEADLINE * 1000))

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
	shmc_obj_t *d;
	if (wrap_off(a, off, &d) != 0 || shmc_dict_clear(d) != 0)
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
	unique_name(NA_name, sizeof(NA_name), NA_path, sizeof(NA_path), "tools");
	crash_cleanup_install();
	NA = test_named_arena(NA_name, SHMC_MIN_CAPACITY);
	arena_warm(NA);
	shmc_obj_t *o1;
	if (shmc_root_find_or_create(NA, "warm-up", SHMC_KIND_LIST, &o1) != 0)
		abort();
	shmc_obj_release(o1);
	names_drop(NA);
	NA_base = arena_in_use(NA);
}

/* A child changing the arena (test_tool_live.c): stopped by the fixture
 * too, when the test fails while it runs. */
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
	wait_exit(mut_pid, TEST_DEADLINE); /* killed if it does not stop */
	mut_pid = 0;
}

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

/* Running the tools ---------------------------------------------------------- */

/* The path of tool NAME of this build. */
static inline const char *tool(const char *name)
{
	static char paths[4][4096];
	static int next;
	char *path = paths[next++ % 4];
	cr_assert(build_program("tools", name, path, sizeof(paths[0])),
		  "no tool at %s (set SHMC_BUILD)", path);
	return path;
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
	if (rs->n == 0 || !have_python3()) {
		records_cleanup();
		return;
	}
	char *argv[] = {"python3", "-c", (char *)PY_CHECK, NULL};
	struct run r = run_input(argv, rs->buf, rs->len, (int)(4 * TEST_DEADLINE * 1000));
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

	k.jobs = shmc__handle_off(jobs);
	k.config = shmc__handle_off(config);
	k.settings = shmc__handle_off(settings);
	k.state = shmc__handle_off(state);
	k.inner = shmc__handle_off(inner);
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

/* The tools, for tests that run each. */
static const char *const TOOLS[] = {"shmc-stat", "shmc-dump", "shmc-check"};

#endif
