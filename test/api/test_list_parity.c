/*
 * test_list_parity.c -- the list's methods, and shmc_value_lt, against
 * Python.
 *
 * A case is one operation on a list (or one "<"), written once as Python
 * and once as shmc calls, and both print one line: the result's repr (or
 * the name of the exception) and the list afterwards. Values are written
 * as Python literals, which this file parses for the C side and python3
 * reads as they are.
 *
 *   - The table below carries the line python3 3.11 printed for each case:
 *     checked on every run, and against a live python3 when there is one.
 *   - Random cases (slices of every shape, index ranges, sorts with NaN and
 *     with comparisons that fail part-way) are checked against
 *     test/api/expected/list_parity.out, which python3 wrote, and against a
 *     live python3 when there is one (a stale file fails too;
 *     SHMC_WRITE_EXPECTED=1 rewrites it from python3).
 *
 * Where shmc departs from Python on purpose, the Python side says so, so
 * that everything else compares exactly:
 *   - a sort that fails leaves the list as it was (Python leaves it part
 *     sorted): the Python side sorts a copy and assigns it back;
 *   - ls + managed list is list + list (Python's manager refuses a
 *     ListProxy there): the Python side uses a plain list ("M[...]").
 * Not tested here because values have no identity: Python's == takes an
 * object to equal itself, so [nan].count(nan) is 1 in one process; through
 * a manager (as here) the NaN is another object, and the count 0.
 */
#include <criterion/criterion.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>

#include "testutil.h"

TestSuite(parity, .timeout = 120);

#define NONE SHMC_SLICE_NONE

/* Python literals ---------------------------------------------------------- */

struct parser {
	const char *p;
	bool ok;
};

static shmc_value_t parse_value(struct parser *ps);

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ')
		ps->p++;
}

static bool word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(ps->p, w, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static void put_utf8(char *buf, size_t *n, uint32_t c)
{
	if (c < 0x80) {
		buf[(*n)++] = (char)c;
	} else if (c < 0x800) {
		buf[(*n)++] = (char)(0xc0 | c >> 6);
		buf[(*n)++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		buf[(*n)++] = (char)(0xe0 | c >> 12);
		buf[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (c & 0x3f));
	} else {
		buf[(*n)++] = (char)(0xf0 | c >> 18);
		buf[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3f));
		buf[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (c & 0x3f));
	}
}

static uint32_t hex(struct parser *ps, int digits)
{
	char tmp[9] = {0};
	memcpy(tmp, ps->p, (size_t)digits);
	ps->p += digits;
	return (uint32_t)strtoul(tmp, NULL, 16);
}

/* 'text' or "text" (after a b for bytes), with Python's escapes. */
static shmc_value_t parse_text(struct parser *ps, bool bytes)
{
	char q = *ps->p++, buf[512];
	size_t n = 0;
	while (*ps->p && *ps->p != q && n < sizeof(buf) - 4) {
		char c = *ps->p++;
		if (c != '\\') {
			buf[n++] = c;
			continue;
		}
		c = *ps->p++;
		switch (c) {
		case 'n': buf[n++] = '\n'; break;
		case 't': buf[n++] = '\t'; break;
		case 'r': buf[n++] = '\r'; break;
		case 'x':
			if (bytes)
				buf[n++] = (char)hex(ps, 2);
			else
				put_utf8(buf, &n, hex(ps, 2));
			break;
		case 'u': put_utf8(buf, &n, hex(ps, 4)); break;
		case 'U': put_utf8(buf, &n, hex(ps, 8)); break;
		default: buf[n++] = c; break;
		}
	}
	ps->ok &= *ps->p == q;
	if (*ps->p)
		ps->p++;
	shmc_value_t v;
	ps->ok &= shmc_value_copy(bytes ? shmc_bytes(buf, n) : shmc_strn(buf, n), &v) == 0;
	return v;
}

/* A tuple of the items of plain list L (freed). */
static shmc_value_t tuple_from(shmc_value_t l)
{
	shmc_value_t c[6] = {{0}}, t;
	size_t n = shmc_seq_len(l);
	cr_assert(n <= 6, "tuples in these tests have at most 6 items");
	for (size_t i = 0; i < n; i++)
		cr_assert(shmc_value_copy(*shmc_seq_at(l, (int64_t)i), &c[i]) == 0);
	switch (n) {
	case 0: t = shmc_tuple_of(0); break;
	case 1: t = shmc_tuple_of(1, c[0]); break;
	case 2: t = shmc_tuple_of(2, c[0], c[1]); break;
	case 3: t = shmc_tuple_of(3, c[0], c[1], c[2]); break;
	case 4: t = shmc_tuple_of(4, c[0], c[1], c[2], c[3]); break;
	case 5: t = shmc_tuple_of(5, c[0], c[1], c[2], c[3], c[4]); break;
	default: t = shmc_tuple_of(6, c[0], c[1], c[2], c[3], c[4], c[5]); break;
	}
	shmc_value_free(&l);
	return t;
}

/* [a, b], (a, b) or (a,) -- or (a), which is a. */
static shmc_value_t parse_items(struct parser *ps, char close)
{
	shmc_value_t l = shmc_plist_of(0);
	bool comma = false;
	for (skip_ws(ps); ps->ok && *ps->p != close; skip_ws(ps)) {
		ps->ok &= shmc_plist_append(&l, parse_value(ps)) == 0;
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			comma = true;
		} else if (*ps->p != close) {
			ps->ok = false;
		}
	}
	if (*ps->p == close)
		ps->p++;
	else
		ps->ok = false;
	if (close == ']')
		return l;
	if (shmc_seq_len(l) == 1 && !comma) { /* parentheses only */
		shmc_value_t v;
		cr_assert(shmc_value_copy(*shmc_seq_at(l, 0), &v) == 0);
		shmc_value_free(&l);
		return v;
	}
	return tuple_from(l);
}

static shmc_value_t parse_dict(struct parser *ps)
{
	shmc_value_t d = shmc_pdict_of(0);
	for (skip_ws(ps); ps->ok && *ps->p != '}'; skip_ws(ps)) {
		shmc_value_t k = parse_value(ps);
		skip_ws(ps);
		ps->ok &= *ps->p++ == ':';
		ps->ok &= shmc_pdict_set(&d, k, parse_value(ps)) == 0;
		skip_ws(ps);
		if (*ps->p == ',')
			ps->p++;
	}
	if (*ps->p == '}')
		ps->p++;
	else
		ps->ok = false;
	return d;
}

static shmc_value_t parse_value(struct parser *ps)
{
	skip_ws(ps);
	char c = *ps->p;
	if (c == '[' || c == '(') {
		ps->p++;
		return parse_items(ps, c == '[' ? ']' : ')');
	}
	if (c == '{') {
		ps->p++;
		return parse_dict(ps);
	}
	if (c == '\'' || c == '"')
		return parse_text(ps, false);
	if (c == 'b' && (ps->p[1] == '\'' || ps->p[1] == '"')) {
		ps->p++;
		return parse_text(ps, true);
	}
	if (word(ps, "None"))
		return shmc_none();
	if (word(ps, "True"))
		return shmc_bool(true);
	if (word(ps, "False"))
		return shmc_bool(false);
	if (word(ps, "nan"))
		return shmc_float(NAN);
	if (word(ps, "inf"))
		return shmc_float(INFINITY);
	if (word(ps, "-inf"))
		return shmc_float(-INFINITY);
	const char *s = ps->p;
	size_t n = strspn(s, "+-0123456789.e");
	ps->ok &= n > 0;
	ps->p += n;
	if (memchr(s, '.', n) || memchr(s, 'e', n))
		return shmc_float(strtod(s, NULL));
	return shmc_int(strtoll(s, NULL, 10));
}

/* The value the literal TEXT writes (owned). */
static shmc_value_t parse(const char *text)
{
	struct parser ps = {text, true};
	shmc_value_t v = parse_value(&ps);
	skip_ws(&ps);
	cr_assert(ps.ok && *ps.p == '\0', "cannot parse %s", text);
	return v;
}

/* Cases -------------------------------------------------------------------- */

enum op { LT, COUNT, CONTAINS, INDEX, REVERSE, SORT, SGET, SSET, SDEL, CONCAT, REPEAT, IMUL,
	  EXTEND };

/* The key functions of the sort cases, Python's KEYS[] below. */
enum key { K_NONE, K_NEG, K_LEN, K_MOD3, K_FIRST, K_FAIL2 };

struct pcase {
	enum op op;
	const char *init; /* the list (LT: the left operand) */
	const char *arg;  /* the value or items (LT: the right operand); "L" is
			     the list itself, "M[...]" another managed list */
	int64_t a, b, c;  /* INDEX: start, stop; SORT: key, reverse; SGET, SSET,
			     SDEL: start, stop, step; REPEAT, IMUL: n */
	const char *want; /* what python3 3.11 prints */
};

/* lambda x: -x, len, lambda x: x % 3, lambda x: x[0], and fail2, which
 * raises ZeroDivisionError on 2 (here -EDOM). */
static int key_fn(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	switch (*(enum key *)ctx) {
	case K_NEG:
		if (item->type == SHMC_FLOAT)
			*key = shmc_float(-item->f);
		else if (item->type == SHMC_INT || item->type == SHMC_BOOL)
			*key = shmc_int(item->type == SHMC_BOOL ? -(int64_t)item->b : -item->i);
		else
			return SHMC_ETYPE;
		return 0;
	case K_LEN:
		if (item->type == SHMC_STR) { /* code points */
			int64_t n = 0;
			for (uint32_t i = 0; i < item->len; i++)
				n += ((unsigned char)item->str[i] & 0xc0) != 0x80;
			*key = shmc_int(n);
		} else if (item->type == SHMC_BYTES) {
			*key = shmc_int(item->len);
		} else if (item->type == SHMC_TUPLE || item->type == SHMC_LIST) {
			*key = shmc_int((int64_t)shmc_seq_len(*item));
		} else {
			return SHMC_ETYPE;
		}
		return 0;
	case K_MOD3:
		if (item->type != SHMC_INT)
			return SHMC_ETYPE;
		*key = shmc_int(((item->i % 3) + 3) % 3);
		return 0;
	case K_FIRST:
		if (item->type != SHMC_TUPLE && item->type != SHMC_LIST)
			return SHMC_ETYPE;
		if (shmc_seq_len(*item) == 0)
			return SHMC_EINDEX;
		*key = *shmc_seq_at(*item, 0);
		key->owned = 0; /* a view into ITEM */
		return 0;
	case K_FAIL2:
		if (shmc_value_eq(*item, shmc_int(2)))
			return -EDOM;
		*key = *item;
		key->owned = 0;
		return 0;
	default:
		return -EINVAL;
	}
}

/* The name of the exception Python raises where shmc returns RC. */
static const char *exception(enum op op, int rc)
{
	switch (rc) {
	case SHMC_ETYPE:
		return "TypeError";
	case -EINVAL:
	case SHMC_ESIZE:
		return "ValueError";
	case SHMC_EINDEX:
		return op == INDEX ? "ValueError" : "IndexError";
	case -EDOM:
		return "ZeroDivisionError";
	default:
		return shmc_errname(rc);
	}
}

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	cr_assert(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	return s;
}

/* The line shmc prints for case C (malloc'd). */
static char *shmc_line(const struct pcase *c)
{
	char *res = NULL, *after;
	if (c->op == LT) {
		shmc_value_t x = parse(c->init), y = parse(c->arg);
		int rc = shmc_value_lt(x, y);
		shmc_value_free(&x);
		shmc_value_free(&y);
		return strf("%s None", rc == 1 ? "True" : rc == 0 ? "False" : exception(LT, rc));
	}
	shmc_obj_t *ls, *other = NULL;
	shmc_value_t init = parse(c->init), arg = shmc_none(), out = shmc_none();
	ASSERT_OK(shmc_list_new_from(A, init, &ls));
	shmc_value_free(&init);
	if (c->arg && strcmp(c->arg, "L") == 0) {
		arg = shmc_ref(ls);
	} else if (c->arg && c->arg[0] == 'M') {
		shmc_value_t items = parse(c->arg + 1);
		ASSERT_OK(shmc_list_new_from(A, items, &other));
		shmc_value_free(&items);
		arg = shmc_ref(other);
	} else if (c->arg) {
		arg = parse(c->arg);
	}
	int64_t r = 0;
	enum key key = (enum key)c->a;
	switch (c->op) {
	case COUNT:
		r = shmc_list_count(ls, arg);
		if (r >= 0)
			res = strf("%lld", (long long)r);
		break;
	case CONTAINS:
		r = shmc_list_contains(ls, arg);
		if (r >= 0)
			res = strf("%s", r ? "True" : "False");
		break;
	case INDEX:
		r = shmc_list_index_range(ls, arg, c->a, c->b);
		if (r >= 0)
			res = strf("%lld", (long long)r);
		break;
	case REVERSE:
		r = shmc_list_reverse(ls);
		break;
	case SORT:
		r = shmc_list_sort(ls, key == K_NONE ? NULL : key_fn, NULL, &key, c->b != 0);
		break;
	case SGET:
		r = shmc_list_slice_get(ls, c->a, c->b, c->c, &out);
		break;
	case SSET:
		r = shmc_list_slice_set(ls, c->a, c->b, c->c, arg);
		break;
	case SDEL:
		r = shmc_list_slice_del(ls, c->a, c->b, c->c);
		break;
	case CONCAT:
		r = shmc_list_concat(ls, arg, &out);
		break;
	case REPEAT:
		r = shmc_list_repeat(ls, c->a, &out);
		break;
	case IMUL:
		r = shmc_list_inplace_repeat(ls, c->a);
		break;
	case EXTEND:
		r = shmc_list_extend(ls, arg);
		break;
	case LT:
		break;
	}
	if (r < 0)
		res = strf("%s", exception(c->op, (int)r));
	else if (res == NULL && out.type == SHMC_NONE)
		res = strf("None");
	else if (res == NULL) {
		char *s = value_repr(out);
		res = strf("%s", s);
		shmc_free(s);
	}
	after = obj_str(ls);
	char *line = strf("%s %s", res, after);
	free(res);
	shmc_free(after);
	shmc_value_free(&out);
	if (arg.owned)
		shmc_value_free(&arg);
	shmc_obj_release(other);
	shmc_obj_release(ls);
	return line;
}

/* The Python side --------------------------------------------------------- */

static const char py_prelude[] =
	"import sys\n"
	"nan = float('nan'); inf = float('inf')\n"
	"def fail2(x):\n"
	"    if x == 2: raise ZeroDivisionError\n"
	"    return x\n"
	"KEYS = [None, lambda x: -x, len, lambda x: x % 3, lambda x: x[0], fail2]\n"
	"def sort_(L, key, reverse):\n"
	"    # shmc publishes all or nothing: a failed sort changes nothing\n"
	"    C = list(L); C.sort(key=key, reverse=reverse); L[:] = C\n"
	"def setslice(L, s, v): L[s] = v\n"
	"def delslice(L, s): del L[s]\n"
	"def imul(L, n): L *= n\n"
	"def iadd(L, x): L += x\n"
	"def out(f, L):\n"
	"    try: r = repr(f())\n"
	"    except Exception as e: r = type(e).__name__\n"
	"    sys.stdout.buffer.write((r + ' ' + repr(L) + '\\n').encode())\n";

static char *py_index(int64_t i)
{
	return i == NONE ? strf("None") : strf("%lld", (long long)i);
}

/* Case C as one line of Python (malloc'd). */
static char *py_line(const struct pcase *c)
{
	if (c->op == LT)
		return strf("L = None; out(lambda: %s < %s, L)\n", c->init, c->arg);
	const char *x = c->arg ? (c->arg[0] == 'M' ? c->arg + 1 : c->arg) : "";
	char *a = py_index(c->a), *b = py_index(c->b), *s = py_index(c->c), *e = NULL;
	switch (c->op) {
	case COUNT: e = strf("L.count(%s)", x); break;
	case CONTAINS: e = strf("%s in L", x); break;
	case INDEX:
		e = strf("L.index(%s, %lld, %lld)", x, (long long)(c->a == NONE ? 0 : c->a),
			 (long long)(c->b == NONE ? INT64_MAX : c->b));
		break;
	case REVERSE: e = strf("L.reverse()"); break;
	case SORT: e = strf("sort_(L, KEYS[%d], %s)", (int)c->a, c->b ? "True" : "False"); break;
	case SGET: e = strf("L[%s:%s:%s]", a, b, s); break;
	case SSET: e = strf("setslice(L, slice(%s, %s, %s), %s)", a, b, s, x); break;
	case SDEL: e = strf("delslice(L, slice(%s, %s, %s))", a, b, s); break;
	case CONCAT: e = strf("L + %s", x); break;
	case REPEAT: e = strf("L * %lld", (long long)c->a); break;
	case IMUL: e = strf("imul(L, %lld)", (long long)c->a); break;
	case EXTEND: e = strf("iadd(L, %s)", x); break;
	case LT: break;
	}
	char *line = strf("L = %s; out(lambda: %s, L)\n", c->init, e);
	free(a);
	free(b);
	free(s);
	free(e);
	return line;
}

/* The lines python3 prints for the N cases C, or NULL without python3
 * (the caller frees *LINES' buffer, *BUF). */
static char **python_lines(const struct pcase *c, size_t n, char **buf)
{
	if (!have_python3())
		return NULL;
	char path[] = "/tmp/shmc_test_parity_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(py_prelude, f);
	for (size_t i = 0; i < n; i++) {
		char *l = py_line(&c[i]);
		fputs(l, f);
		free(l);
	}
	cr_assert_eq(fclose(f), 0);
	char *argv[] = {"python3", "-I", "-S", path, NULL};
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 2e3));
	unlink(path);
	cr_assert(!r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		  "python3 failed: %s", r.err);
	*buf = strdup(r.out);
	run_free(&r);
	char **lines = calloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (char *save = NULL, *l = strtok_r(*buf, "\n", &save); l && k < n;
	     l = strtok_r(NULL, "\n", &save))
		lines[k++] = l;
	cr_assert_eq(k, n, "python3 printed %zu lines for %zu cases", k, n);
	return lines;
}

/* Compare the N lines X (from XNAME) with Y (from YNAME), case by case;
 * report the first differences. @return how many differ */
static int compare(const struct pcase *c, char **x, const char *xname, char **y,
		   const char *yname, size_t n)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(x[i], y[i]) == 0)
			continue;
		if (bad++ < 20) {
			char *py = py_line(&c[i]);
			cr_log_error("%s  %s: %s\n  %s: %s", py, xname, x[i], yname, y[i]);
			free(py);
		}
	}
	return bad;
}

/* The table --------------------------------------------------------------- */

static const struct pcase table[] = {
	{LT, "1", "2", 0, 0, 0, "True None"},
	{LT, "2", "1", 0, 0, 0, "False None"},
	{LT, "1", "1.5", 0, 0, 0, "True None"},
	{LT, "True", "2", 0, 0, 0, "True None"},
	{LT, "False", "True", 0, 0, 0, "True None"},
	{LT, "1", "1.0", 0, 0, 0, "False None"},
	{LT, "9007199254740993", "9007199254740992.0", 0, 0, 0, "False None"},
	{LT, "9007199254740992.0", "9007199254740993", 0, 0, 0, "True None"},
	{LT, "9223372036854775807", "9.223372036854776e+18", 0, 0, 0, "True None"},
	{LT, "-9223372036854775808", "-9.223372036854776e+18", 0, 0, 0, "False None"},
	{LT, "-9.223372036854776e+18", "-9223372036854775807", 0, 0, 0, "True None"},
	{LT, "-0.0", "0", 0, 0, 0, "False None"},
	{LT, "0.5", "True", 0, 0, 0, "True None"},
	{LT, "nan", "1", 0, 0, 0, "False None"},
	{LT, "1", "nan", 0, 0, 0, "False None"},
	{LT, "nan", "nan", 0, 0, 0, "False None"},
	{LT, "inf", "nan", 0, 0, 0, "False None"},
	{LT, "-inf", "-9223372036854775808", 0, 0, 0, "True None"},
	{LT, "'a'", "'b'", 0, 0, 0, "True None"},
	{LT, "'a'", "'ab'", 0, 0, 0, "True None"},
	{LT, "'ab'", "'a'", 0, 0, 0, "False None"},
	{LT, "''", "'a'", 0, 0, 0, "True None"},
	{LT, "'Z'", "'a'", 0, 0, 0, "True None"},
	{LT, "'\\xe9'", "'z'", 0, 0, 0, "False None"},
	{LT, "'\\xe9'", "'\\U0001f600'", 0, 0, 0, "True None"},
	{LT, "'\\uffff'", "'\\U00010000'", 0, 0, 0, "True None"},
	{LT, "b'a'", "b'b'", 0, 0, 0, "True None"},
	{LT, "b'\\x00'", "b''", 0, 0, 0, "False None"},
	{LT, "b'\\xff'", "b'\\x00\\x00'", 0, 0, 0, "False None"},
	{LT, "'a'", "b'a'", 0, 0, 0, "TypeError None"},
	{LT, "1", "'a'", 0, 0, 0, "TypeError None"},
	{LT, "None", "None", 0, 0, 0, "TypeError None"},
	{LT, "None", "1", 0, 0, 0, "TypeError None"},
	{LT, "{}", "{}", 0, 0, 0, "TypeError None"},
	{LT, "[1]", "(1,)", 0, 0, 0, "TypeError None"},
	{LT, "(1, 2)", "(1, 3)", 0, 0, 0, "True None"},
	{LT, "(1, 2)", "(1, 2)", 0, 0, 0, "False None"},
	{LT, "(1,)", "(1, 2)", 0, 0, 0, "True None"},
	{LT, "()", "()", 0, 0, 0, "False None"},
	{LT, "(1, 'a')", "(2, 3)", 0, 0, 0, "True None"},
	{LT, "(1, 'a')", "(1, 3)", 0, 0, 0, "TypeError None"},
	{LT, "(1, None)", "(2, None)", 0, 0, 0, "True None"},
	{LT, "(1, None)", "(1, None)", 0, 0, 0, "False None"},
	{LT, "(1.0, 'b')", "(1, 'c')", 0, 0, 0, "True None"},
	{LT, "(True, 'x')", "(1, 'y')", 0, 0, 0, "True None"},
	{LT, "[1, 2]", "[1, 3]", 0, 0, 0, "True None"},
	{LT, "[]", "[]", 0, 0, 0, "False None"},
	{LT, "[[1, 2], 3]", "[[1, 2], 4]", 0, 0, 0, "True None"},
	{LT, "([1],)", "([1, 0],)", 0, 0, 0, "True None"},
	{LT, "({1: 2},)", "({1: 2}, 1)", 0, 0, 0, "True None"},
	{LT, "({1: 2},)", "({1: 3},)", 0, 0, 0, "TypeError None"},
	{LT, "(b'x', 'y')", "(b'x', 'z')", 0, 0, 0, "True None"},
	{LT, "((1, 2), 3)", "((1, 'a'), 3)", 0, 0, 0, "TypeError None"},
	{COUNT, "[1, 2, 1, 1.0, True, 'a']", "1", 0, 0, 0, "4 [1, 2, 1, 1.0, True, 'a']"},
	{COUNT, "[1, 2, 1, 1.0, True, 'a']", "'a'", 0, 0, 0, "1 [1, 2, 1, 1.0, True, 'a']"},
	{COUNT, "[(1,), [1], (1.0,), (True,)]", "(1,)", 0, 0, 0, "3 [(1,), [1], (1.0,), (True,)]"},
	{COUNT, "[]", "None", 0, 0, 0, "0 []"},
	{COUNT, "[None, {}, {1: 2}, {}]", "{}", 0, 0, 0, "2 [None, {}, {1: 2}, {}]"},
	{CONTAINS, "[1, 2]", "2", 0, 0, 0, "True [1, 2]"},
	{CONTAINS, "[1, 2]", "2.0", 0, 0, 0, "True [1, 2]"},
	{CONTAINS, "[1, 2]", "'2'", 0, 0, 0, "False [1, 2]"},
	{CONTAINS, "[[]]", "[]", 0, 0, 0, "True [[]]"},
	{CONTAINS, "[[]]", "()", 0, 0, 0, "False [[]]"},
	{CONTAINS, "[]", "0", 0, 0, 0, "False []"},
	{INDEX, "[1, 2, 3, 2]", "2", NONE, NONE, 0, "1 [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "2", 2, NONE, 0, "3 [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "2", -1, NONE, 0, "3 [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "2", -100, 2, 0, "1 [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "2", 2, 3, 0, "ValueError [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "9", NONE, NONE, 0, "ValueError [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "2", 10, NONE, 0, "ValueError [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "1", NONE, -3, 0, "0 [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "1", NONE, -4, 0, "ValueError [1, 2, 3, 2]"},
	{INDEX, "[1, 2, 3, 2]", "3.0", -2, 100, 0, "2 [1, 2, 3, 2]"},
	{REVERSE, "[]", NULL, 0, 0, 0, "None []"},
	{REVERSE, "[1]", NULL, 0, 0, 0, "None [1]"},
	{REVERSE, "[1, 'a', None, (2,)]", NULL, 0, 0, 0, "None [(2,), None, 'a', 1]"},
	{SORT, "[3, 1, 2]", NULL, K_NONE, 0, 0, "None [1, 2, 3]"},
	{SORT, "[3, 1, 2]", NULL, K_NONE, 1, 0, "None [3, 2, 1]"},
	{SORT, "[]", NULL, K_NONE, 0, 0, "None []"},
	{SORT, "[None]", NULL, K_NONE, 0, 0, "None [None]"},
	{SORT, "[None, None]", NULL, K_NONE, 0, 0, "TypeError [None, None]"},
	{SORT, "[3, 1, 'a']", NULL, K_NONE, 0, 0, "TypeError [3, 1, 'a']"},
	{SORT, "['a', 1]", NULL, K_NONE, 0, 0, "TypeError ['a', 1]"},
	{SORT, "[{}, {}]", NULL, K_NONE, 0, 0, "TypeError [{}, {}]"},
	{SORT, "['b', 'a', 'B', '\\xe9', '']", NULL, K_NONE, 0, 0, "None ['', 'B', 'a', 'b', 'é']"},
	{SORT, "[b'b', b'a', b'']", NULL, K_NONE, 0, 0, "None [b'', b'a', b'b']"},
	{SORT, "[(1, 'b'), (1, 'a'), (0, 'z')]", NULL, K_NONE, 0, 0, "None [(0, 'z'), (1, 'a'), (1, 'b')]"},
	{SORT, "[2.5, 1, True, 0.5, False, 1.0]", NULL, K_NONE, 0, 0, "None [False, 0.5, 1, True, 1.0, 2.5]"},
	{SORT, "[2.5, 1, True, 0.5, False, 1.0]", NULL, K_NONE, 1, 0, "None [2.5, 1, True, 1.0, 0.5, False]"},
	{SORT, "[5, 3, 4, 1, 2, 0, 6]", NULL, K_MOD3, 0, 0, "None [3, 0, 6, 4, 1, 5, 2]"},
	{SORT, "[5, 3, 4, 1, 2, 0, 6]", NULL, K_MOD3, 1, 0, "None [5, 2, 4, 1, 3, 0, 6]"},
	{SORT, "['ccc', 'a', 'bb', '\\xe9', '']", NULL, K_LEN, 0, 0, "None ['', 'a', 'é', 'bb', 'ccc']"},
	{SORT, "[1, 3, 2]", NULL, K_NEG, 0, 0, "None [3, 2, 1]"},
	{SORT, "['a']", NULL, K_NEG, 0, 0, "TypeError ['a']"},
	{SORT, "[(2, 'b'), (1, 'z'), (2, 'a')]", NULL, K_FIRST, 0, 0, "None [(1, 'z'), (2, 'b'), (2, 'a')]"},
	{SORT, "[(1,), ()]", NULL, K_FIRST, 0, 0, "IndexError [(1,), ()]"},
	{SORT, "[3, 2, 1]", NULL, K_FAIL2, 0, 0, "ZeroDivisionError [3, 2, 1]"},
	{SORT, "[3, 1]", NULL, K_FAIL2, 1, 0, "None [3, 1]"},
	{SORT, "[nan, 1, nan, 0]", NULL, K_NONE, 0, 0, "None [nan, 1, nan, 0]"},
	{SORT, "[3, nan, 1, 2]", NULL, K_NONE, 0, 0, "None [3, nan, 1, 2]"},
	{SORT, "[3, nan, 1, 2]", NULL, K_NONE, 1, 0, "None [3, nan, 2, 1]"},
	{SORT, "[[2], [1, 5], [1]]", NULL, K_NONE, 0, 0, "None [[1], [1, 5], [2]]"},
	{SORT, "[(2, 3), (1, 'a')]", NULL, K_NONE, 0, 0, "None [(1, 'a'), (2, 3)]"},
	{SORT, "[(2, 3), (1, 'a'), (1, 5)]", NULL, K_NONE, 0, 0, "TypeError [(2, 3), (1, 'a'), (1, 5)]"},
	{SORT, "[1, 2, 3, 0.5, 'a']", NULL, K_NONE, 0, 0, "TypeError [1, 2, 3, 0.5, 'a']"},
	{SORT, "[9007199254740993, 9007199254740992.0, 9007199254740992]", NULL, K_NONE, 0, 0, "None [9007199254740992.0, 9007199254740992, 9007199254740993]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, NONE, NONE, 2, "[0, 2, 4, 6, 8] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, NONE, NONE, -1, "[9, 8, 7, 6, 5, 4, 3, 2, 1, 0] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, -3, NONE, NONE, "[7, 8, 9] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, NONE, -3, NONE, "[0, 1, 2, 3, 4, 5, 6] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, 1, 8, 3, "[1, 4, 7] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, 8, 1, -3, "[8, 5, 2] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, 100, NONE, NONE, "[] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, -100, 2, NONE, "[0, 1] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, 5, 1, NONE, "[] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, NONE, NONE, 0, "ValueError [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, NONE, NONE, -4, "[9, 5, 1] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, 3, 3, NONE, "[] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, -1, -100, -3, "[9, 6, 3, 0] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SGET, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", NULL, 2, -2, 1, "[2, 3, 4, 5, 6, 7] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"},
	{SSET, "[0, 1, 2, 3]", "['a']", 1, 3, NONE, "None [0, 'a', 3]"},
	{SSET, "[0, 1, 2, 3]", "[9, 9]", 1, 1, NONE, "None [0, 9, 9, 1, 2, 3]"},
	{SSET, "[0, 1, 2, 3]", "[7]", 5, 1, NONE, "None [0, 1, 2, 3, 7]"},
	{SSET, "[0, 1, 2, 3]", "['a', 'b']", NONE, NONE, 2, "None ['a', 1, 'b', 3]"},
	{SSET, "[0, 1, 2, 3]", "['a']", NONE, NONE, 2, "ValueError [0, 1, 2, 3]"},
	{SSET, "[0, 1, 2, 3]", "L", NONE, NONE, -1, "None [3, 2, 1, 0]"},
	{SSET, "[0, 1, 2, 3]", "L", 1, 3, NONE, "None [0, 0, 1, 2, 3, 3]"},
	{SSET, "[0, 1, 2, 3]", "()", NONE, NONE, NONE, "None []"},
	{SSET, "[0, 1, 2, 3]", "[]", NONE, NONE, 0, "ValueError [0, 1, 2, 3]"},
	{SSET, "[0, 1, 2, 3]", "5", 1, 3, NONE, "TypeError [0, 1, 2, 3]"},
	{SSET, "[0, 1, 2, 3]", "5", NONE, NONE, 2, "TypeError [0, 1, 2, 3]"},
	{SSET, "[0, 1, 2, 3]", "5", NONE, NONE, 0, "ValueError [0, 1, 2, 3]"},
	{SSET, "[0, 1, 2, 3]", "[7, 8, 9]", 3, 0, -1, "None [0, 9, 8, 7]"},
	{SSET, "[0, 1, 2, 3]", "[]", 10, 20, 2, "None [0, 1, 2, 3]"},
	{SSET, "[0, 1, 2, 3]", "M[5, 6]", 1, 3, NONE, "None [0, 5, 6, 3]"},
	{SSET, "[0, 1, 2, 3]", "(7, 8)", -1, NONE, -2, "None [0, 8, 2, 7]"},
	{SSET, "[0, 1, 2, 3]", "[(1, 'x'), [None]]", NONE, 2, NONE, "None [(1, 'x'), [None], 2, 3]"},
	{SDEL, "[0, 1, 2, 3, 4]", NULL, NONE, NONE, 2, "None [1, 3]"},
	{SDEL, "[0, 1, 2, 3, 4]", NULL, 1, 3, NONE, "None [0, 3, 4]"},
	{SDEL, "[0, 1, 2, 3, 4]", NULL, NONE, NONE, -2, "None [1, 3]"},
	{SDEL, "[0, 1, 2, 3, 4]", NULL, NONE, NONE, 0, "ValueError [0, 1, 2, 3, 4]"},
	{SDEL, "[0, 1, 2, 3, 4]", NULL, 5, NONE, NONE, "None [0, 1, 2, 3, 4]"},
	{SDEL, "[0, 1, 2, 3, 4]", NULL, -2, NONE, NONE, "None [0, 1, 2]"},
	{SDEL, "[0, 1, 2, 3, 4]", NULL, NONE, NONE, NONE, "None []"},
	{SDEL, "[0, 1, 2, 3, 4]", NULL, 3, 0, -2, "None [0, 2, 4]"},
	{CONCAT, "[1]", "[2]", 0, 0, 0, "[1, 2] [1]"},
	{CONCAT, "[1]", "(2,)", 0, 0, 0, "TypeError [1]"},
	{CONCAT, "[1, 2]", "L", 0, 0, 0, "[1, 2, 1, 2] [1, 2]"},
	{CONCAT, "[1]", "M[3]", 0, 0, 0, "[1, 3] [1]"},
	{CONCAT, "[]", "[]", 0, 0, 0, "[] []"},
	{CONCAT, "[1]", "5", 0, 0, 0, "TypeError [1]"},
	{CONCAT, "['a']", "[b'a', None]", 0, 0, 0, "['a', b'a', None] ['a']"},
	{REPEAT, "[1, 2]", NULL, 3, 0, 0, "[1, 2, 1, 2, 1, 2] [1, 2]"},
	{REPEAT, "[1, 2]", NULL, 0, 0, 0, "[] [1, 2]"},
	{REPEAT, "[1, 2]", NULL, -1, 0, 0, "[] [1, 2]"},
	{REPEAT, "[]", NULL, 5, 0, 0, "[] []"},
	{REPEAT, "[[1]]", NULL, 2, 0, 0, "[[1], [1]] [[1]]"},
	{REPEAT, "['x']", NULL, 1, 0, 0, "['x'] ['x']"},
	{IMUL, "[1, 2]", NULL, 2, 0, 0, "None [1, 2, 1, 2]"},
	{IMUL, "[1, 2]", NULL, 0, 0, 0, "None []"},
	{IMUL, "[1, 2]", NULL, -3, 0, 0, "None []"},
	{IMUL, "[1, 2]", NULL, 1, 0, 0, "None [1, 2]"},
	{IMUL, "['x', (1, 'y')]", NULL, 3, 0, 0, "None ['x', (1, 'y'), 'x', (1, 'y'), 'x', (1, 'y')]"},
	{IMUL, "[]", NULL, 4, 0, 0, "None []"},
	{EXTEND, "[1]", "[2, 3]", 0, 0, 0, "None [1, 2, 3]"},
	{EXTEND, "[1]", "(4,)", 0, 0, 0, "None [1, 4]"},
	{EXTEND, "[1]", "L", 0, 0, 0, "None [1, 1]"},
	{EXTEND, "[1]", "M[7, 8]", 0, 0, 0, "None [1, 7, 8]"},
	{EXTEND, "[1]", "5", 0, 0, 0, "TypeError [1]"},
	{EXTEND, "[]", "L", 0, 0, 0, "None []"},
};

Test(parity, table_matches_python3, .init = arena_setup, .fini = arena_teardown)
{
	size_t n = sizeof(table) / sizeof(table[0]);
	char **mine = calloc(n, sizeof(char *)), **want = calloc(n, sizeof(char *)), *buf = NULL;
	for (size_t i = 0; i < n; i++) {
		mine[i] = shmc_line(&table[i]);
		want[i] = (char *)table[i].want;
	}
	int bad = compare(table, mine, "shmc", want, "table", n);
	char **py = python_lines(table, n, &buf);
	int stale = py ? compare(table, want, "table", py, "python3", n) : 0;
	for (size_t i = 0; i < n; i++)
		free(mine[i]);
	free(mine);
	free(want);
	free(py);
	free(buf);
	cr_assert_eq(bad, 0, "%d of %zu cases differ from python3", bad, n);
	cr_assert_eq(stale, 0, "%d of %zu expected lines differ from a live python3", stale, n);
}

/* Random cases ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t below(uint64_t n)
{
	rng_state += 0x9e3779b97f4a7c15ull;
	return mix64(rng_state) % n;
}

/* An index or slice bound in [-SPAN, SPAN], or (one time in six) None. */
static int64_t any_index(int64_t span)
{
	return below(6) == 0 ? NONE : (int64_t)below((uint64_t)(2 * span + 1)) - span;
}

/* Append the text of FMT to the growing string *S. */
static void cat(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cat(char **s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *more = NULL;
	cr_assert(vasprintf(&more, fmt, ap) >= 0);
	va_end(ap);
	char *old = *s;
	*s = strf("%s%s", old ? old : "", more);
	free(old);
	free(more);
}

/* "[FIRST, FIRST + 1, ... ]" of N items. */
static char *int_list(uint64_t n, int64_t first)
{
	char *s = strf("[");
	for (uint64_t i = 0; i < n; i++)
		cat(&s, "%s%lld", i ? ", " : "", (long long)first + (long long)i);
	cat(&s, "]");
	return s;
}

/* How many items ls[A:B:C] of a list of N covers (to pick replacements of
 * the right size half the time), or -1 for step 0. */
static int64_t slice_len(uint64_t n, int64_t a, int64_t b, int64_t c)
{
	char *l = int_list(n, 0);
	shmc_value_t items = parse(l), got;
	shmc_obj_t *ls;
	free(l);
	ASSERT_OK(shmc_list_new_from(A, items, &ls));
	shmc_value_free(&items);
	int64_t k = shmc_list_slice_get(ls, a, b, c, &got) == 0 ? (int64_t)shmc_seq_len(got) : -1;
	shmc_value_free(&got);
	shmc_obj_release(ls);
	return k;
}

static size_t gen_slices(struct pcase *c, size_t per_op)
{
	size_t k = 0;
	for (int op = SGET; op <= SDEL; op++) {
		for (size_t i = 0; i < per_op * (op == SSET ? 2 : 1); i++, k++) {
			uint64_t n = below(11);
			struct pcase *x = &c[k];
			*x = (struct pcase){(enum op)op, int_list(n, 0), NULL, any_index(13),
					    any_index(13), below(6) == 0 ? NONE : (int64_t)below(9) - 4,
					    NULL};
			if (op != SSET)
				continue;
			int64_t want = slice_len(n, x->a, x->b, x->c);
			uint64_t m = want >= 0 && below(2) ? (uint64_t)want : below(6);
			if (below(16) == 0)
				x->arg = strdup("L");
			else if (below(8) == 0) {
				char *l = int_list(m, 100);
				x->arg = strf("M%s", l);
				free(l);
			} else
				x->arg = int_list(m, 100);
		}
	}
	return k;
}

static size_t gen_index(struct pcase *c, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		uint64_t n = below(10);
		char *l = strf("[");
		for (uint64_t j = 0; j < n; j++)
			cat(&l, "%s%d", j ? ", " : "", (int)below(4));
		cat(&l, "]");
		c[i] = (struct pcase){INDEX, l, strf("%d", (int)below(5)), any_index(12),
				      any_index(12), 0, NULL};
	}
	return count;
}

/* Lists to sort: numbers with NaN (whose order depends on every comparison
 * made), long ones too (merges, galloping); tuples whose second items are
 * compared (and fail) only on ties of the first; strings by length. */
static size_t gen_sorts(struct pcase *c, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		uint64_t kind = below(3), n = below(10) == 0 ? 100 + below(150) : below(70);
		enum key key = K_NONE;
		char *l = strf("[");
		for (uint64_t j = 0; j < n; j++) {
			uint64_t r = below(20);
			const char *sep = j ? ", " : "";
			if (kind == 0 && r < 3)
				cat(&l, "%snan", sep);
			else if (kind == 0)
				cat(&l, r < 7 ? "%s%d.5" : "%s%d", sep, (int)below(10));
			else if (kind == 1)
				cat(&l, r < 2 ? "%s(%d, 'a')" : "%s(%d, %d)", sep, (int)below(12),
				    (int)below(3));
			else
				cat(&l, "%s'%.*s'", sep, (int)below(4), &"abca"[below(2)]);
		}
		cat(&l, "]");
		if (kind == 0 && below(4) == 0)
			key = K_NEG;
		else if (kind == 2)
			key = below(2) ? K_LEN : K_NONE;
		c[i] = (struct pcase){SORT, l, NULL, key, (int64_t)below(2), 0, NULL};
	}
	return count;
}

/* The expected file, next to this source (as make builds it, from the
 * top of the tree) or found from this program's path. */
static char *expected_path(void)
{
	char here[] = __FILE__;
	char *p = strf("%s/expected/list_parity.out", dirname(here));
	if (access(p, R_OK) == 0 || getenv("SHMC_WRITE_EXPECTED"))
		return p;
	free(p);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert_gt(n, 0);
	exe[n] = '\0';
	return strf("%s/../../../test/api/expected/list_parity.out", dirname(exe));
}

#define NRANDOM 1650

Test(parity, random_cases_match_python3_and_the_expected_file, .init = arena_setup,
     .fini = arena_teardown)
{
	struct pcase *c = calloc(NRANDOM, sizeof(*c));
	size_t n = 0;
	rng_state = 20240611;
	n += gen_slices(c + n, 300);    /* 300 get, 600 set, 300 del */
	n += gen_index(c + n, 200);
	n += gen_sorts(c + n, 250);
	cr_assert_leq(n, NRANDOM);
	char **mine = calloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		mine[i] = shmc_line(&c[i]);

	char *pybuf = NULL, **py = python_lines(c, n, &pybuf);
	char *path = expected_path();
	if (py && getenv("SHMC_WRITE_EXPECTED")) {
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f, "%s: %s", path, strerror(errno));
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s\n", py[i]);
		cr_assert_eq(fclose(f), 0);
	}
	size_t len;
	char *file = read_file(path, &len), **want = calloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (char *save = NULL, *l = strtok_r(file, "\n", &save); l && k < n;
	     l = strtok_r(NULL, "\n", &save))
		want[k++] = l;
	cr_assert_eq(k, n, "%s has %zu lines for %zu cases", path, k, n);

	int bad_py = py ? compare(c, mine, "shmc", py, "python3", n) : 0;
	int bad_file = compare(c, mine, "shmc", want, "file", n);
	int stale = py ? compare(c, want, "file", py, "python3", n) : 0;
	cr_assert_eq(bad_py, 0, "%d of %zu random cases differ from python3", bad_py, n);
	cr_assert_eq(bad_file, 0, "%d of %zu random cases differ from %s", bad_file, n, path);
	cr_assert_eq(stale, 0, "%s is stale: rerun with SHMC_WRITE_EXPECTED=1", path);
	cr_log_info("%zu random cases agree with %s", n, py ? "python3 and the file" : "the file");
	for (size_t i = 0; i < n; i++) {
		free(mine[i]);
		free((char *)c[i].init);
		free((char *)c[i].arg);
	}
	free(mine);
	free(c);
	free(py);
	free(pybuf);
	free(want);
	free(file);
	free(path);
}
