/*
 * vcmp.c -- Python's "<", implemented once: the only place where the order
 * of values lives (list.sort uses it, and so may anyone through
 * shmc_value_lt).
 *
 * Python's rules, for the types shmc holds:
 *   - bool, int, big int and float compare as numbers, an int and a float
 *     exactly (2**53 + 1 > 2.0**53, 2**64 + 1 > 2.0**64: never through a
 *     rounded double); anything compared with NaN is false, both ways,
 *     which is why sorting with NaN depends on the algorithm
 *     (base/timsort.c makes Python's comparisons, so it gets Python's
 *     result);
 *   - complex numbers are not ordered: "<" with a complex on either side
 *     is a TypeError, even against an equal number (== still works);
 *   - str by code point, which for UTF-8 is the order of the bytes; bytes
 *     and bytearray bytewise, with each other too; a shorter prefix first;
 *   - a tuple only with a tuple and a plain list only with a plain list:
 *     the first position where the items differ (Python's ==, veq.c)
 *     decides, by "<" of those items; if none differs, the shorter first;
 *   - set and frozenset, with each other: a < b when a is a proper subset
 *     of b. That is a partial order ({1} < {2} and {2} < {1} are both
 *     false), so a sort of sets gives whatever the algorithm's comparisons
 *     give, as in Python;
 *   - anything else raises TypeError in Python: None, dicts, opaque values
 *     (shmc cannot see the objects they hold), managed objects, and two
 *     values of different kinds (1 < 'a', (1,) < [1], {1} < [1]).
 *     Here that is SHMC_ETYPE. Like Python, only the items actually
 *     compared must be comparable: (1, 'a') < (2, 3) is true, and
 *     (1, 'a') < (1, 3) a TypeError.
 * One difference: Python's == takes an object to equal itself, so its
 * (x, 1) < (x, 2) is true even for x = nan when both hold the same NaN
 * object; values here have no identity, and NaN equals nothing.
 *
 * Nesting deeper than SHMC__MAX_DEPTH is SHMC_EDEPTH (Python: a
 * RecursionError at a similar depth).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "values/value.h"

static inline bool is_number(shmc_type_t t)
{
	return t == SHMC_BOOL || t == SHMC_INT || t == SHMC_FLOAT || t == SHMC_BIGINT;
}

/* The kind "<" compares within: bytes and bytearray are one, as are set
 * and frozenset. */
static inline shmc_type_t kind_of(shmc_type_t t)
{
	return t == SHMC_BYTEARRAY ? SHMC_BYTES : t == SHMC_FROZENSET ? SHMC_SET : t;
}

static inline int64_t int_of(shmc_value_t v)
{
	return v.type == SHMC_BOOL ? (int64_t)v.b : v.i;
}

#define TWO_63 9223372036854775808.0

/* i < f, exactly. Below 2^63 in magnitude, ceil(f) is an integral double
 * that converts exactly, and for an integer i: i < f <=> i < ceil(f). */
static bool int_lt_float(int64_t i, double f)
{
	if (isnan(f) || f < -TWO_63)
		return false;
	if (f >= TWO_63)
		return true;
	return i < (int64_t)ceil(f);
}

/* f < i, exactly: f < i <=> floor(f) < i. */
static bool float_lt_int(double f, int64_t i)
{
	if (isnan(f) || f >= TWO_63)
		return false;
	if (f < -TWO_63)
		return true;
	return (int64_t)floor(f) < i;
}

/* A < B where either is a big int (the other a bool, int, big int or
 * float), exactly. */
static int big_lt(shmc_value_t a, shmc_value_t b)
{
	if (a.type == SHMC_FLOAT)
		return shmc__bigint_cmp_double(b.big->limb, b.big->n, b.big->neg, a.f) == 1;
	if (b.type == SHMC_FLOAT)
		return shmc__bigint_cmp_double(a.big->limb, a.big->n, a.big->neg, b.f) == -1;
	return shmc__int_cmp(a, b) == -1;
}

static int numbers_lt(shmc_value_t a, shmc_value_t b)
{
	if (a.type == SHMC_BIGINT || b.type == SHMC_BIGINT)
		return big_lt(a, b);
	if (a.type == SHMC_FLOAT && b.type == SHMC_FLOAT)
		return a.f < b.f;
	if (a.type == SHMC_FLOAT)
		return float_lt_int(a.f, int_of(b));
	if (b.type == SHMC_FLOAT)
		return int_lt_float(int_of(a), b.f);
	return int_of(a) < int_of(b);
}

static int text_lt(shmc_value_t a, shmc_value_t b)
{
	if ((a.len && a.str == NULL) || (b.len && b.str == NULL))
		return -EINVAL;
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.str, b.str, n) : 0;
	return c != 0 ? c < 0 : a.len < b.len;
}

static int lt(shmc_value_t a, shmc_value_t b, int depth);

/* A < B for two sets (or frozensets): A a proper subset of B. */
static int sets_lt(const struct shmc_pset *x, const struct shmc_pset *y, int depth)
{
	if (x->used >= y->used)
		return 0;
	for (size_t i = 0; i <= x->mask; i++) {
		const struct shmc_pset_entry *e = &x->table[i];
		if (e->state == SHMC__PSET_ACTIVE &&
		    shmc__pset_find(y, e->key, e->hash, depth + 1) == NULL)
			return 0;
	}
	return 1;
}

static int seq_lt(const struct shmc_seq *x, const struct shmc_seq *y, int depth)
{
	size_t n = x->len < y->len ? x->len : y->len;
	for (size_t i = 0; i < n; i++)
		if (!shmc_value_eq(x->items[i], y->items[i]))
			return lt(x->items[i], y->items[i], depth + 1);
	return x->len < y->len;
}

static int lt(shmc_value_t a, shmc_value_t b, int depth)
{
	if (depth > SHMC__MAX_DEPTH)
		return SHMC_EDEPTH;
	if (a.type == SHMC_ERROR)
		return (int)a.i;
	if (b.type == SHMC_ERROR)
		return (int)b.i;
	if (a.type > SHMC_ERROR || b.type > SHMC_ERROR)
		return -EINVAL;
	if (is_number(a.type) && is_number(b.type))
		return numbers_lt(a, b);
	if (kind_of(a.type) != kind_of(b.type))
		return SHMC_ETYPE;
	switch (kind_of(a.type)) {
	case SHMC_STR:
	case SHMC_BYTES:
		return text_lt(a, b);
	case SHMC_TUPLE:
	case SHMC_LIST:
		return seq_lt(a.seq, b.seq, depth);
	case SHMC_SET:
		return sets_lt(a.set, b.set, depth);
	default: /* None, complex, dict, opaque, a managed object: not ordered */
		return SHMC_ETYPE;
	}
}

int shmc_value_lt(shmc_value_t a, shmc_value_t b)
{
	return lt(a, b, 0);
}
