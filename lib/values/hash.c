/*
 * hash.c -- Python's hash(), implemented once, and the hash the tables
 * store.
 *
 * Equal values must hash equal, across types: 1 == 1.0 == True ==
 * complex(1, 0), 2**64 == 2.0**64, frozenset({1}) == {1}. Python gets this
 * from one numeric hash, the value modulo the prime P = 2**61 - 1 (with
 * -1, its error code, replaced by -2): an int's is its residue, a float's
 * the residue of the rational it is exactly, a complex's hash(re) +
 * 1000003 * hash(im). shmc computes the same numbers, bit for bit, and
 * CPython's tuple (xxHash-based) and frozenset algorithms over them, so
 * that a set of numbers, or of tuples or frozensets of numbers, lands in
 * the slots CPython's would (pset.c) and prints in CPython's order.
 *
 * str, bytes, None and opaque values take a fixed hash of shmc's own:
 * CPython's is seeded per process (or, for None in 3.11, an address), so
 * no order of theirs can be reproduced anyway.
 *
 * The tables (managed dicts and namespaces, plain dicts) probe linearly
 * from the low bits of the hash they store, which the residues of a run
 * of ints would crowd: they store a hash passed through a bijective mix
 * (shmc__hash_mix). For an int64 that is the int itself, mixed -- the
 * 64-bit key's hash stays one multiply, as it was before big ints -- so a
 * float, bool or complex equal to an int64 hashes as that int; any other
 * number (a big int, a float beyond int64 or not integral) mixes Python's
 * hash, which makes 2**64 and 2.0**64 one key. A str's stored hash is
 * shmc__hash_bytes(SHMC__SEED_STR) itself, which namespace names use.
 */
#include <math.h>
#include <string.h>

#include "base/util.h"
#include "values/value.h"

#define HASH_INF 314159               /* _PyHASH_INF */
#define HASH_IMAG 1000003u            /* _PyHASH_IMAG */

/* Bytes ------------------------------------------------------------------ */

/* The 128-bit product of A and B, its halves folded: one multiply that
 * every input bit reaches. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load8(const unsigned char *s)
{
	uint64_t w;
	memcpy(&w, s, 8);
	return w;
}

static inline uint64_t load4(const unsigned char *s)
{
	uint32_t w;
	memcpy(&w, s, 4);
	return w;
}

#define K1 0x9e3779b97f4a7c15ull /* odd constants with balanced bits */
#define K2 0xbf58476d1ce4e5b9ull
#define K3 0x94d049bb133111ebull

/* Keys are short (names, "k0000123"): up to 16 bytes are two words read
 * whole (overlapping when shorter) and two folded multiplies, the second
 * with the length; longer texts fold 16 bytes a multiply first. Where the
 * tables probe from the low bits, every bit of the key has reached them
 * through a multiply's high half. (It was five dependent multiplies for 8
 * bytes: a fifth of a dict lookup by str.) */
uint64_t shmc__hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t a, b, h = seed ^ K3;
	if (n <= 16) {
		if (n >= 8) {
			a = load8(s);
			b = load8(s + n - 8);
		} else if (n >= 4) {
			a = load4(s);
			b = load4(s + n - 4);
		} else if (n > 0) {
			a = ((uint64_t)s[0] << 16) | ((uint64_t)s[n >> 1] << 8) | s[n - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t left = n;
		while (left > 16) {
			h = fold_mul(load8(s) ^ K1, load8(s + 8) ^ h);
			s += 16;
			left -= 16;
		}
		a = load8(s + left - 16);
		b = load8(s + left - 8);
	}
	return fold_mul(K1 ^ n, fold_mul(a ^ K1, b ^ h ^ K2));
}

/* Numbers ---------------------------------------------------------------- */

static inline int64_t not_minus_one(int64_t h)
{
	return h == -1 ? -2 : h;
}

int64_t shmc__py_hash_int_far(int64_t i)
{
	uint64_t m = i < 0 ? -(uint64_t)i : (uint64_t)i;
	m = (m & SHMC__P61) + (m >> 61);
	if (m >= SHMC__P61)
		m -= SHMC__P61;
	return not_minus_one(i < 0 ? -(int64_t)m : (int64_t)m);
}

/* CPython's _Py_HashDouble, but a NaN hashes to 0 (3.11 hashes its
 * address; a NaN equals nothing anyway). CPython reduces the significand
 * 28 bits at a time; the result is the residue of |v| = m * 2**e, which
 * is m (< 2**53 < P61) times 2**e, and 2**61 = 1 (mod P61): m rotated
 * left by e mod 61 within 61 bits. The same number, without the loop. */
static int64_t py_hash_double(double v)
{
	uint64_t bits;
	memcpy(&bits, &v, 8);
	int ex = (int)(bits >> 52) & 0x7ff;
	uint64_t m = bits & (((uint64_t)1 << 52) - 1);
	if (ex == 0x7ff)
		return m ? 0 : (int64_t)(bits >> 63) ? -HASH_INF : HASH_INF;
	int e = ex ? ex - 1075 : -1074; /* a subnormal has no implicit bit */
	if (ex)
		m |= (uint64_t)1 << 52;
	int r = e % 61;
	if (r < 0)
		r += 61;
	uint64_t x = ((m << r) & SHMC__P61) | (m >> (61 - r));
	if (bits >> 63)
		x = -x;
	return not_minus_one((int64_t)x);
}

static int64_t py_hash_complex(double re, double im)
{
	uint64_t h = (uint64_t)py_hash_double(re) + HASH_IMAG * (uint64_t)py_hash_double(im);
	return not_minus_one((int64_t)h);
}

/* Containers ------------------------------------------------------------- */

/* CPython's tuplehash (3.8+, after xxHash's round). */
#define XXPRIME_1 11400714785074694791ull
#define XXPRIME_2 14029467366897019727ull
#define XXPRIME_5 2870177450012600261ull

static int py_hash_tuple(const struct shmc_seq *t, int depth, int64_t *out)
{
	uint64_t acc = XXPRIME_5;
	for (size_t i = 0; i < t->len; i++) {
		int64_t lane = 0; /* set on success; -O3 cannot see it */
		int rc = shmc__py_hash(t->items[i], depth + 1, &lane);
		if (rc)
			return rc;
		acc += (uint64_t)lane * XXPRIME_2;
		acc = (acc << 31) | (acc >> 33);
		acc *= XXPRIME_1;
	}
	acc += t->len ^ (XXPRIME_5 ^ 3527539ull);
	*out = acc == (uint64_t)-1 ? 1546275796 : (int64_t)acc;
	return 0;
}

static inline int64_t text_hash(const char *p, size_t n, uint64_t seed)
{
	return not_minus_one((int64_t)shmc__hash_bytes(p, n, seed));
}

int shmc__py_hash(shmc_value_t v, int depth, int64_t *out)
{
	if (depth > SHMC__MAX_DEPTH)
		return SHMC_EDEPTH;
	if ((v.type == SHMC_STR || v.type == SHMC_BYTES) && v.len && v.str == NULL)
		return -EINVAL; /* a view of nothing */
	switch (v.type) {
	case SHMC_NONE:
		*out = SHMC__HASH_NONE;
		return 0;
	case SHMC_BOOL:
		*out = v.b;
		return 0;
	case SHMC_INT:
		*out = shmc__py_hash_int(v.i);
		return 0;
	case SHMC_BIGINT:
		*out = shmc__bigint_hash(v.big->limb, v.big->n, v.big->neg);
		return 0;
	case SHMC_FLOAT:
		*out = py_hash_double(v.f);
		return 0;
	case SHMC_COMPLEX:
		*out = py_hash_complex(v.cx->re, v.cx->im);
		return 0;
	case SHMC_STR:
		*out = text_hash(v.str, v.len, SHMC__SEED_STR);
		return 0;
	case SHMC_BYTES:
		*out = text_hash(v.str, v.len, SHMC__SEED_BYTES);
		return 0;
	case SHMC_OPAQUE:
		*out = text_hash(v.opq->data, v.opq->len, SHMC__SEED_OPAQUE);
		return 0;
	case SHMC_TUPLE:
		if (shmc__too_deep(depth))
			return SHMC_EDEPTH;
		return py_hash_tuple(v.seq, depth, out);
	case SHMC_FROZENSET: /* the members' hashes are kept: bound nesting */
		if (depth + v.set->depth > SHMC__MAX_DEPTH)
			return SHMC_EDEPTH;
		*out = shmc__pset_hash(v.set);
		return 0;
	case SHMC_ERROR:
		return (int)v.i;
	default: /* list, dict, set, bytearray, reference */
		return SHMC_EUNHASHABLE;
	}
}

/* The table hash of a float: an int64's when it equals one. */
static uint64_t table_hash_double(double f)
{
	if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 && f == floor(f))
		return shmc__hash_int((int64_t)f);
	return shmc__hash_mix((uint64_t)py_hash_double(f));
}

int shmc__value_hash(shmc_value_t v, uint64_t *out)
{
	switch (v.type) {
	case SHMC_STR:
		if (v.len && v.str == NULL) /* a view of nothing */
			return -EINVAL;
		*out = shmc__hash_bytes(v.str, v.len, SHMC__SEED_STR);
		return 0;
	case SHMC_INT:
		*out = shmc__hash_int(v.i);
		return 0;
	case SHMC_BOOL:
		*out = shmc__hash_int(v.b);
		return 0;
	case SHMC_FLOAT:
		*out = table_hash_double(v.f);
		return 0;
	case SHMC_COMPLEX:
		if (v.cx->im == 0) { /* equal to its real part */
			*out = table_hash_double(v.cx->re);
			return 0;
		}
		__attribute__((fallthrough));
	default: {
		int64_t h = 0; /* set on success; -O3 cannot see it */
		int rc = shmc__py_hash(v, 0, &h);
		if (rc)
			return rc;
		*out = shmc__hash_mix((uint64_t)h);
		return 0;
	}
	}
}
