/*
 * repr.c -- Python's repr() and str(), byte for byte.
 *
 * Floats: the shortest decimal that reads back to the same double, laid out
 * as Python's float_repr_style 'short' does (fixed notation when the decimal
 * exponent is in [-4, 16), else d.ddde+XX). Strings: single quotes unless
 * the text has a single quote and no double quote; \\, \n, \r, \t and the
 * quote escaped; other characters that Python does not consider printable as
 * \xNN, \uNNNN or \UNNNNNNNN. The set of non-printable code points follows
 * Unicode's Cc, Cf, Zs (but space), Zl, Zp and Co categories for the ranges
 * that matter in practice (as of Unicode 14, Python 3.11), and Unicode's
 * noncharacters; other unassigned code points are printed as they are.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/heap.h"
#include "objects/obj.h"
#include "values/repr.h"
#include "values/value.h"

/* A decimal D.DDD x 10^EXP held as its digits. */
struct decimal {
	char d[20];
	int n, exp;
};

static double decimal_value(const struct decimal *x)
{
	char buf[48];
	snprintf(buf, sizeof(buf), "0.%.*se%d", x->n, x->d, x->exp + 1);
	return strtod(buf, NULL);
}

/* X moved by one unit in its last digit (DIR +1 or -1); false if it would
 * lose a digit (a leading zero) -- that neighbour is then not shorter. */
static bool decimal_step(struct decimal *x, int dir)
{
	int i = x->n - 1;
	while (i >= 0) {
		int v = x->d[i] - '0' + dir;
		if (v >= 0 && v <= 9) {
			x->d[i] = (char)('0' + v);
			break;
		}
		x->d[i] = dir > 0 ? '0' : '9';
		i--;
	}
	if (i < 0) {
		if (dir < 0)
			return false;
		memmove(x->d + 1, x->d, (size_t)x->n - 1); /* 9.99 -> 10.0 */
		x->d[0] = '1';
		x->exp++;
	}
	return x->d[0] != '0';
}

/* The shortest digits that read back as |F|. The nearest P-digit decimal
 * may miss where its neighbour does not: at a power of two the gap to the
 * next double below is half the gap above. */
static struct decimal shortest(double f)
{
	struct decimal x;
	for (int prec = 1;; prec++) {
		char buf[40];
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, fabs(f));
		x.n = 0;
		const char *p = buf;
		for (; *p && *p != 'e'; p++)
			if (*p >= '0' && *p <= '9')
				x.d[x.n++] = *p;
		x.exp = atoi(p + 1);
		if (prec >= 17 || decimal_value(&x) == fabs(f))
			break;
		struct decimal up = x, down = x;
		if (decimal_step(&up, +1) && decimal_value(&up) == fabs(f))
			return up;
		if (decimal_step(&down, -1) && decimal_value(&down) == fabs(f))
			return down;
	}
	while (x.n > 1 && x.d[x.n - 1] == '0')
		x.n--;
	return x;
}

void shmc__repr_float(struct shmc__sbuf *sb, double f)
{
	if (isnan(f)) {
		shmc__sb_puts(sb, "nan");
		return;
	}
	if (isinf(f)) {
		shmc__sb_puts(sb, f < 0 ? "-inf" : "inf");
		return;
	}
	struct decimal x = shortest(f);
	while (x.n > 1 && x.d[x.n - 1] == '0')
		x.n--;
	int nd = x.n, decpt = x.exp + 1; /* d[0] is worth 10^exp */
	const char *digits = x.d;
	if (signbit(f))
		shmc__sb_putc(sb, '-');
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			shmc__sb_puts(sb, "0.");
			for (int i = 0; i < -decpt; i++)
				shmc__sb_putc(sb, '0');
			shmc__sb_putn(sb, digits, (size_t)nd);
		} else if (decpt >= nd) {
			shmc__sb_putn(sb, digits, (size_t)nd);
			for (int i = nd; i < decpt; i++)
				shmc__sb_putc(sb, '0');
			shmc__sb_puts(sb, ".0");
		} else {
			shmc__sb_putn(sb, digits, (size_t)decpt);
			shmc__sb_putc(sb, '.');
			shmc__sb_putn(sb, digits + decpt, (size_t)(nd - decpt));
		}
		return;
	}
	shmc__sb_putc(sb, digits[0]);
	if (nd > 1) {
		shmc__sb_putc(sb, '.');
		shmc__sb_putn(sb, digits + 1, (size_t)(nd - 1));
	}
	char e[16];
	snprintf(e, sizeof(e), "e%c%02d", x.exp < 0 ? '-' : '+', abs(x.exp));
	shmc__sb_puts(sb, e);
}

static bool printable(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f)
		return false;
	if (cp < 0x7f)
		return true;
	if (cp <= 0xa0 || cp == 0xad)      /* C1 controls, NBSP, soft hyphen */
		return false;
	if ((cp >= 0x600 && cp <= 0x605) || cp == 0x61c || cp == 0x6dd ||
	    cp == 0x70f || cp == 0x1680 || cp == 0x180e)
		return false;
	if ((cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
	    (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff ||
	    (cp >= 0xfff9 && cp <= 0xfffb))
		return false;
	if ((cp >= 0xd800 && cp <= 0xf8ff) || (cp >= 0xf0000)) /* surrogates, private use */
		return false;
	if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe) /* noncharacters */
		return false;
	if (cp == 0x890 || cp == 0x891 || cp == 0x8e2 || (cp >= 0x13430 && cp <= 0x13438))
		return false;
	if (cp == 0x110bd || cp == 0x110cd || (cp >= 0x1bca0 && cp <= 0x1bca3) ||
	    (cp >= 0x1d173 && cp <= 0x1d17a) || cp == 0xe0001 ||
	    (cp >= 0xe0020 && cp <= 0xe007f))
		return false;
	return true;
}

static void put_escape(struct shmc__sbuf *sb, uint32_t cp)
{
	char e[12];
	if (cp < 0x100)
		snprintf(e, sizeof(e), "\\x%02x", cp);
	else if (cp < 0x10000)
		snprintf(e, sizeof(e), "\\u%04x", cp);
	else
		snprintf(e, sizeof(e), "\\U%08x", cp);
	shmc__sb_puts(sb, e);
}

static char pick_quote(const char *s, size_t n)
{
	bool single = memchr(s, '\'', n) != NULL;
	bool dbl = memchr(s, '"', n) != NULL;
	return single && !dbl ? '"' : '\'';
}

static bool simple_escape(struct shmc__sbuf *sb, unsigned c, char quote)
{
	switch (c) {
	case '\\': shmc__sb_puts(sb, "\\\\"); return true;
	case '\n': shmc__sb_puts(sb, "\\n"); return true;
	case '\r': shmc__sb_puts(sb, "\\r"); return true;
	case '\t': shmc__sb_puts(sb, "\\t"); return true;
	default:
		if (c == (unsigned char)quote) {
			shmc__sb_putc(sb, '\\');
			shmc__sb_putc(sb, quote);
			return true;
		}
		return false;
	}
}

void shmc__repr_str(struct shmc__sbuf *sb, const char *s, size_t n)
{
	char quote = n ? pick_quote(s, n) : '\'';
	const unsigned char *u = (const unsigned char *)s;
	shmc__sb_putc(sb, quote);
	for (size_t i = 0; i < n;) {
		unsigned c = u[i];
		if (c < 0x80) {
			if (!simple_escape(sb, c, quote)) {
				if (printable(c))
					shmc__sb_putc(sb, (char)c);
				else
					put_escape(sb, c);
			}
			i++;
			continue;
		}
		/* Stored strings are valid UTF-8 (checked on the way in). */
		size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (len > n - i)
			len = n - i;
		uint32_t cp = c & (0x7f >> len);
		for (size_t k = 1; k < len; k++)
			cp = (cp << 6) | (u[i + k] & 0x3f);
		if (printable(cp))
			shmc__sb_putn(sb, s + i, len);
		else
			put_escape(sb, cp);
		i += len;
	}
	shmc__sb_putc(sb, quote);
}

void shmc__repr_bytes(struct shmc__sbuf *sb, const char *s, size_t n)
{
	char quote = n ? pick_quote(s, n) : '\'';
	shmc__sb_putc(sb, 'b');
	shmc__sb_putc(sb, quote);
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];
		if (simple_escape(sb, c, quote))
			continue;
		if (c < 0x20 || c >= 0x7f)
			put_escape(sb, c);
		else
			shmc__sb_putc(sb, (char)c);
	}
	shmc__sb_putc(sb, quote);
}

void shmc__repr_proxy(struct shmc__sbuf *sb, const shmc_obj_t *h)
{
	struct shmc__obj *o = NULL;
	const struct shmc__kind *k = NULL;
	struct shmc__hview hv;
	if (!shmc__handle_read(h, &hv))
		k = NULL;
	else if (hv.stub)
		k = shmc__kind_of(hv.kind); /* as it was when the stub was made */
	else if (shmc__resolve(h, 0, &o) == 0)
		k = shmc__kind_of(o->kind);
	if (k == NULL) {
		shmc__sb_puts(sb, "<invalid handle>");
		return;
	}
	/* The address shown is the object's offset in the arena: the same in
	 * every process, wherever each maps the arena. */
	char buf[160];
	snprintf(buf, sizeof(buf), "<%s object, typeid '%s' at %#llx>", k->proxy,
		 k->typeid, (unsigned long long)hv.off);
	shmc__sb_puts(sb, buf);
}

/* The first error of SB, if none yet. */
static void sb_fail(struct shmc__sbuf *sb, int err)
{
	sb->err = sb->err ? sb->err : err;
}

/* Whether V cannot be printed at DEPTH: a container too deep, or a str or
 * bytes view of NULL (SB then holds the error). */
static bool unprintable(struct shmc__sbuf *sb, shmc_value_t v, int depth)
{
	switch (v.type) {
	case SHMC_TUPLE:
	case SHMC_LIST:
	case SHMC_DICT:
		if (shmc__too_deep(depth)) {
			sb_fail(sb, SHMC_EDEPTH);
			return true;
		}
		return false;
	case SHMC_STR:
	case SHMC_BYTES:
		if (v.len && v.str == NULL) {
			sb_fail(sb, -EINVAL);
			return true;
		}
		return false;
	default:
		return false;
	}
}

static void repr_depth(struct shmc__sbuf *sb, shmc_value_t v, int depth)
{
	if (unprintable(sb, v, depth))
		return;
	char buf[32];
	switch (v.type) {
	case SHMC_NONE:
		shmc__sb_puts(sb, "None");
		break;
	case SHMC_BOOL:
		shmc__sb_puts(sb, v.b ? "True" : "False");
		break;
	case SHMC_INT:
		snprintf(buf, sizeof(buf), "%lld", (long long)v.i);
		shmc__sb_puts(sb, buf);
		break;
	case SHMC_FLOAT:
		shmc__repr_float(sb, v.f);
		break;
	case SHMC_STR:
		shmc__repr_str(sb, v.str, v.len);
		break;
	case SHMC_BYTES:
		shmc__repr_bytes(sb, v.str, v.len);
		break;
	case SHMC_TUPLE:
	case SHMC_LIST:
		shmc__sb_putc(sb, v.type == SHMC_TUPLE ? '(' : '[');
		for (size_t i = 0; i < v.seq->len; i++) {
			if (i)
				shmc__sb_puts(sb, ", ");
			repr_depth(sb, v.seq->items[i], depth + 1);
		}
		if (v.type == SHMC_TUPLE && v.seq->len == 1)
			shmc__sb_putc(sb, ',');
		shmc__sb_putc(sb, v.type == SHMC_TUPLE ? ')' : ']');
		break;
	case SHMC_DICT:
		shmc__sb_putc(sb, '{');
		for (size_t i = 0; i < v.map->len; i++) {
			if (i)
				shmc__sb_puts(sb, ", ");
			repr_depth(sb, v.map->e[i].key, depth + 1);
			shmc__sb_puts(sb, ": ");
			repr_depth(sb, v.map->e[i].val, depth + 1);
		}
		shmc__sb_putc(sb, '}');
		break;
	case SHMC_REF:
		shmc__repr_proxy(sb, v.ref);
		break;
	case SHMC_ERROR:
		sb->err = sb->err ? sb->err : (int)v.i;
		break;
	}
}

void shmc__repr(struct shmc__sbuf *sb, shmc_value_t v)
{
	repr_depth(sb, v, 0);
}

/* A snapshot's items sit one level deeper than they were stored: start
 * one level up, so that each may nest as deep as a stored value. */
void shmc__repr_snapshot(struct shmc__sbuf *sb, shmc_value_t v)
{
	repr_depth(sb, v, -1);
}

int shmc__repr_snapshot_str(shmc_value_t v, char **out)
{
	struct shmc__sbuf sb = {0};
	shmc__repr_snapshot(&sb, v);
	return shmc__sb_finish(&sb, out);
}

int shmc_value_repr(shmc_value_t v, char **out)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__sbuf sb = {0};
	shmc__repr(&sb, v);
	return shmc__sb_finish(&sb, out);
}

int shmc_value_str(shmc_value_t v, char **out)
{
	if (v.type != SHMC_STR)
		return shmc_value_repr(v, out);
	if (out == NULL)
		return -EINVAL;
	if (v.len && v.str == NULL)
		return -EINVAL;
	struct shmc__sbuf sb = {0};
	shmc__sb_putn(&sb, v.str, v.len);
	return shmc__sb_finish(&sb, out);
}

int shmc_value_print(shmc_value_t v, FILE *f)
{
	char *s;
	if (f == NULL)
		return -EINVAL;
	int rc = shmc_value_str(v, &s);
	if (rc)
		return rc;
	rc = fprintf(f, "%s\n", s) < 0 ? -EIO : 0;
	shmc_free(s);
	return rc;
}

int shmc_obj_repr(const shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	if (out == NULL)
		return -EINVAL;
	struct shmc__sbuf sb = {0};
	shmc__repr_proxy(&sb, h);
	return shmc__sb_finish(&sb, out);
}

/* JSON ------------------------------------------------------------------- */

static void json_str(struct shmc__sbuf *sb, const char *s, size_t n)
{
	shmc__sb_putc(sb, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];
		if (c == '"' || c == '\\') {
			shmc__sb_putc(sb, '\\');
			shmc__sb_putc(sb, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			shmc__sb_puts(sb, e);
		} else {
			shmc__sb_putc(sb, (char)c);
		}
	}
	shmc__sb_putc(sb, '"');
}

static void json_depth(struct shmc__sbuf *sb, shmc_value_t v, int depth)
{
	char buf[64];
	if (unprintable(sb, v, depth))
		return;
	switch (v.type) {
	case SHMC_NONE:
		shmc__sb_puts(sb, "null");
		break;
	case SHMC_BOOL:
		shmc__sb_puts(sb, v.b ? "true" : "false");
		break;
	case SHMC_INT:
		snprintf(buf, sizeof(buf), "%lld", (long long)v.i);
		shmc__sb_puts(sb, buf);
		break;
	case SHMC_FLOAT:
		if (isnan(v.f) || isinf(v.f)) { /* not numbers in JSON */
			shmc__sb_puts(sb, isnan(v.f) ? "\"nan\"" : v.f > 0 ? "\"inf\"" : "\"-inf\"");
		} else {
			struct shmc__sbuf t = {0};
			shmc__repr_float(&t, v.f);
			shmc__sb_puts(sb, t.p ? t.p : "0");
			shmc__heap_free(t.p);
		}
		break;
	case SHMC_STR:
		if (shmc__utf8_valid(v.str, v.len)) {
			json_str(sb, v.str, v.len);
			break;
		}
		__attribute__((fallthrough)); /* not text: show the bytes */
	case SHMC_BYTES:
		shmc__sb_puts(sb, "{\"bytes\": \"");
		for (size_t i = 0; i < v.len; i++) {
			snprintf(buf, sizeof(buf), "%02x", (unsigned char)v.str[i]);
			shmc__sb_puts(sb, buf);
		}
		shmc__sb_puts(sb, "\"}");
		break;
	case SHMC_TUPLE:
	case SHMC_LIST:
		shmc__sb_puts(sb, v.type == SHMC_TUPLE ? "{\"tuple\": [" : "[");
		for (size_t i = 0; i < v.seq->len; i++) {
			if (i)
				shmc__sb_puts(sb, ", ");
			json_depth(sb, v.seq->items[i], depth + 1);
		}
		shmc__sb_puts(sb, v.type == SHMC_TUPLE ? "]}" : "]");
		break;
	case SHMC_DICT: {
		bool str_keys = true;
		for (size_t i = 0; i < v.map->len; i++)
			str_keys = str_keys && v.map->e[i].key.type == SHMC_STR;
		shmc__sb_puts(sb, str_keys ? "{" : "{\"items\": [");
		for (size_t i = 0; i < v.map->len; i++) {
			if (i)
				shmc__sb_puts(sb, ", ");
			if (!str_keys)
				shmc__sb_putc(sb, '[');
			json_depth(sb, v.map->e[i].key, depth + 1);
			shmc__sb_puts(sb, str_keys ? ": " : ", ");
			json_depth(sb, v.map->e[i].val, depth + 1);
			if (!str_keys)
				shmc__sb_putc(sb, ']');
		}
		shmc__sb_puts(sb, str_keys ? "}" : "]}");
		break;
	}
	case SHMC_REF: {
		struct shmc__hview hv;
		const struct shmc__kind *k = NULL;
		if (shmc__handle_read(v.ref, &hv))
			k = shmc__kind_of(hv.kind);
		else
			hv.off = 0;
		snprintf(buf, sizeof(buf), "{\"ref\": \"%#llx\", \"typeid\": ",
			 (unsigned long long)hv.off);
		shmc__sb_puts(sb, buf);
		json_str(sb, k ? k->typeid : "?", strlen(k ? k->typeid : "?"));
		shmc__sb_putc(sb, '}');
		break;
	}
	case SHMC_ERROR:
		sb->err = sb->err ? sb->err : (int)v.i;
		break;
	}
}

void shmc__json(struct shmc__sbuf *sb, shmc_value_t v)
{
	json_depth(sb, v, 0);
}

void shmc__json_snapshot(struct shmc__sbuf *sb, shmc_value_t v)
{
	json_depth(sb, v, -1);
}
