/*
 * bigint.c -- ints of any size: Python's int past 64 bits.
 *
 * An int that fits in int64 is always an SHMC_INT (the canonical form, so
 * that == between two ints is one comparison and the 64-bit paths stay as
 * they were); only the others are SHMC_BIGINTs: a sign and a magnitude of
 * 64-bit limbs, least significant first, the last one non-zero. The arena
 * stores the same limbs (venc.c), so everything here that reads a number
 * takes its limbs by address and length, at any alignment (a stream's are
 * unaligned).
 *
 * The arithmetic that is not a few lines -- conversion from and to text
 * in any base, subquadratic for long numbers, and carry-propagating
 * addition -- is GMP's low-level mpn layer (Debian's libgmp-dev): decades
 * of tuning and testing, and a layer that works on caller-provided limb
 * arrays, so shmc keeps its own memory (a failed allocation is -ENOMEM,
 * where GMP's mpz layer would abort), sets no process-wide GMP allocator
 * and shows no GMP type in shmc.h. What is only a few lines -- Python's
 * hash, the exact comparison with a double, the correctly rounded
 * conversion to one, two's-complement bytes -- is written here.
 */
#include <errno.h>
#include <gmp.h>
#include <math.h>
#include <string.h>

#include "base/heap.h"
#include "base/sbuf.h"
#include "base/util.h"
#include "values/value.h"

_Static_assert(GMP_NUMB_BITS == 64 && sizeof(mp_limb_t) == sizeof(uint64_t),
	       "shmc's limbs are GMP's limbs");


static inline uint64_t limb_at(const void *l, size_t i)
{
	uint64_t x;
	memcpy(&x, (const char *)l + 8 * i, 8);
	return x;
}

static inline int bitlen64(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

/* An integer value seen as sign and magnitude: a big int's own limbs, or a
 * small one's in SMALL. */
struct mag {
	const uint64_t *l;
	size_t n; /* 0 for zero */
	bool neg;
	uint64_t small;
};

/* @return false when V is not an integer */
static bool mag_of(const shmc_value_t *v, struct mag *m)
{
	int64_t i;
	switch (v->type) {
	case SHMC_BIGINT:
		m->l = v->big->limb;
		m->n = v->big->n;
		m->neg = v->big->neg;
		return true;
	case SHMC_BOOL:
		i = v->b;
		break;
	case SHMC_INT:
		i = v->i;
		break;
	default:
		return false;
	}
	m->neg = i < 0;
	m->small = i < 0 ? -(uint64_t)i : (uint64_t)i;
	m->l = &m->small;
	m->n = m->small != 0;
	return true;
}

static inline bool fits_int64(uint64_t m, bool neg)
{
	return neg ? m <= ((uint64_t)1 << 63) : m < ((uint64_t)1 << 63);
}

bool shmc__bigint_canonical(const void *l, size_t n, bool neg)
{
	return n > 0 && n <= UINT32_MAX && limb_at(l, n - 1) != 0 &&
	       !(n == 1 && fits_int64(limb_at(l, 0), neg));
}

/* An uninitialised big int of N limbs. */
static struct shmc_bigint *big_alloc(size_t n)
{
	if (n > UINT32_MAX || n > (SIZE_MAX - sizeof(struct shmc_bigint)) / 8)
		return NULL;
	struct shmc_bigint *b = shmc__heap_alloc(sizeof(*b) + 8 * n);
	if (b)
		b->n = (uint32_t)n;
	return b;
}

/* B (N limbs, maybe with zeros on top) as a canonical value, B taken. */
static void big_finish(struct shmc_bigint *b, size_t n, bool neg, shmc_value_t *out)
{
	while (n && b->limb[n - 1] == 0)
		n--;
	if (n <= 1 && fits_int64(n ? b->limb[0] : 0, neg)) {
		uint64_t m = n ? b->limb[0] : 0;
		shmc__heap_free(b);
		*out = shmc_int(neg ? (int64_t)(0 - m) : (int64_t)m);
		return;
	}
	b->n = (uint32_t)n;
	b->neg = neg;
	out->type = SHMC_BIGINT;
	out->owned = 1;
	out->reserved_ = 0;
	out->len = 0;
	out->big = b;
}

int shmc__bigint_make(const void *l, size_t n, bool neg, shmc_value_t *out)
{
	while (n && limb_at(l, n - 1) == 0)
		n--;
	if (n <= 1 && fits_int64(n ? limb_at(l, 0) : 0, neg)) {
		uint64_t m = n ? limb_at(l, 0) : 0;
		*out = shmc_int(neg ? (int64_t)(0 - m) : (int64_t)m);
		return 0;
	}
	struct shmc_bigint *b = big_alloc(n);
	if (b == NULL)
		return -ENOMEM;
	memcpy(b->limb, l, 8 * n);
	big_finish(b, n, neg, out);
	return 0;
}

/* Python's hash: |v| mod 2**61 - 1, negated for a negative v, -1 -> -2.
 * 2**64 = 8 (mod P61), so each limb folds in as h * 8 + limb, and times
 * 8 modulo P61 is a rotation of 61 bits by 3. */
int64_t shmc__bigint_hash(const void *l, size_t n, bool neg)
{
	uint64_t h = 0;
	for (size_t i = n; i-- > 0;) {
		uint64_t x = limb_at(l, i);
		x = (x & SHMC__P61) + (x >> 61); /* <= P61 + 7 */
		if (x >= SHMC__P61)
			x -= SHMC__P61;
		h = ((h << 3) & SHMC__P61) | (h >> 58); /* h * 8, h < P61 */
		h += x;                                  /* < 2 * P61 */
		if (h >= SHMC__P61)
			h -= SHMC__P61;
	}
	int64_t r = neg ? -(int64_t)h : (int64_t)h;
	return r == -1 ? -2 : r;
}

/* The number of bits of the magnitude L[0..N) (N > 0, last limb non-zero). */
static inline uint64_t bits_of(const void *l, size_t n)
{
	return 64 * (uint64_t)(n - 1) + (uint64_t)bitlen64(limb_at(l, n - 1));
}

bool shmc__bigint_eq_double(const void *l, size_t n, bool neg, double f)
{
	if (!isfinite(f) || f != floor(f) || (f < 0) != neg || n == 0)
		return false;
	int ex;
	double fr = frexp(fabs(f), &ex); /* |f| = fr * 2**ex, fr in [0.5, 1) */
	if ((uint64_t)ex != bits_of(l, n))
		return false;
	/* |f| = m * 2**e with m a 53-bit integer; a big int's ex is > 63. */
	uint64_t m = (uint64_t)ldexp(fr, 53);
	int e = ex - 53;
	uint64_t want[17] = {0}; /* |f| < 2**1024: at most 16 limbs */
	want[e / 64] = m << (e % 64);
	if (e % 64)
		want[e / 64 + 1] = m >> (64 - e % 64);
	for (size_t i = 0; i < n; i++)
		if (limb_at(l, i) != want[i])
			return false;
	return true;
}

/* The magnitude L[0..N) (N > 0, canonical) against the integral double
 * |F| >= 2**63, exactly: -1, 0 or 1. */
static int mag_cmp_double(const void *l, size_t n, double af)
{
	int ex;
	double fr = frexp(af, &ex); /* af = fr * 2**ex, fr in [0.5, 1) */
	uint64_t nb = bits_of(l, n);
	if (nb != (uint64_t)ex)
		return nb < (uint64_t)ex ? -1 : 1;
	uint64_t m = (uint64_t)ldexp(fr, 53);
	int e = ex - 53; /* >= 11: af = m * 2**e */
	uint64_t want[17] = {0};
	want[e / 64] = m << (e % 64);
	if (e % 64)
		want[e / 64 + 1] = m >> (64 - e % 64);
	for (size_t i = n; i-- > 0;) /* the same bit length: at most 16 limbs */
		if (limb_at(l, i) != want[i])
			return limb_at(l, i) < want[i] ? -1 : 1;
	return 0;
}

int shmc__bigint_cmp_double(const void *l, size_t n, bool neg, double f)
{
	if (isnan(f))
		return 2;
	if (isinf(f))
		return f > 0 ? -1 : 1;
	if (neg != (f < 0)) /* -0.0 is 0: not negative */
		return neg ? -1 : 1;
	/* The same sign. A big int's magnitude is at least 2**63, and a
	 * double at least that large is an integer. */
	int c = fabs(f) < 9223372036854775808.0 ? 1 : mag_cmp_double(l, n, fabs(f));
	return neg ? -c : c;
}

int shmc__int_cmp(shmc_value_t a, shmc_value_t b)
{
	struct mag x, y;
	if (!mag_of(&a, &x) || !mag_of(&b, &y))
		return 2;
	if (x.neg != y.neg)
		return x.neg ? -1 : 1;
	int c = 0;
	if (x.n != y.n)
		c = x.n < y.n ? -1 : 1;
	else if (x.n)
		c = mpn_cmp((const mp_limb_t *)x.l, (const mp_limb_t *)y.l, (mp_size_t)x.n);
	c = c < 0 ? -1 : c > 0;
	return x.neg ? -c : c;
}

int shmc__bigint_to_double(const void *l, size_t n, bool neg, double *out)
{
	uint64_t nb = bits_of(l, n);
	if (nb > 1024)
		return -ERANGE;
	double d;
	if (nb <= 64) {
		d = (double)limb_at(l, 0); /* rounds to nearest, ties to even */
	} else {
		/* The top 64 bits, the lowest of them or-ed with every bit
		 * below (sticky): rounding those to 53 bits rounds the whole
		 * number, ties to even. */
		uint64_t s = nb - 64, k = s / 64;
		unsigned b = (unsigned)(s % 64);
		uint64_t top = limb_at(l, k) >> b;
		if (b)
			top |= limb_at(l, k + 1) << (64 - b);
		bool sticky = b && (limb_at(l, k) << (64 - b)) != 0;
		for (uint64_t i = 0; i < k && !sticky; i++)
			sticky = limb_at(l, i) != 0;
		d = ldexp((double)(top | sticky), (int)s);
	}
	if (isinf(d))
		return -ERANGE; /* rounded up to 2**1024 */
	*out = neg ? -d : d;
	return 0;
}

/* Addition ---------------------------------------------------------------- */

int shmc__int_add(shmc_value_t a, shmc_value_t b, shmc_value_t *out)
{
	struct mag x, y;
	if (!mag_of(&a, &x) || !mag_of(&b, &y))
		return SHMC_ETYPE;
	if (x.n == 0 || y.n == 0) /* zero: the other, copied */
		return shmc_value_copy(x.n == 0 ? b : a, out);
	if (x.n < y.n || (x.n == y.n && x.neg != y.neg &&
			  mpn_cmp((const mp_limb_t *)x.l, (const mp_limb_t *)y.l, (mp_size_t)x.n) < 0)) {
		struct mag t = x; /* |x| >= |y| from here on */
		x = y;
		y = t;
		if (x.l == &y.small) /* a small magnitude moved with its struct */
			x.l = &x.small;
		if (y.l == &x.small)
			y.l = &y.small;
	}
	struct shmc_bigint *r = big_alloc(x.n + 1);
	if (r == NULL)
		return -ENOMEM;
	mp_limb_t *rl = (mp_limb_t *)r->limb;
	if (x.neg == y.neg) {
		rl[x.n] = mpn_add(rl, (const mp_limb_t *)x.l, (mp_size_t)x.n,
				  (const mp_limb_t *)y.l, (mp_size_t)y.n);
	} else {
		mpn_sub(rl, (const mp_limb_t *)x.l, (mp_size_t)x.n, (const mp_limb_t *)y.l,
			(mp_size_t)y.n);
		rl[x.n] = 0;
	}
	big_finish(r, x.n + 1, x.neg, out); /* a zero result is +0 */
	return 0;
}

/* Text ------------------------------------------------------------------- */

/* The digits of magnitude L[0..N) (N > 0) in BASE, most significant first,
 * as ASCII ("0123456789abcdef..."), appended to SB. */
static void put_digits(struct shmc__sbuf *sb, const uint64_t *l, size_t n, int base)
{
	static const char digit[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	/* mpn_get_str clobbers its input (and wants room for one limb more);
	 * its output has room for the largest N-limb number, plus one. */
	size_t cap = base == 10 ? 20 * n + 2 : 64 * n + 2;
	mp_limb_t *tmp = shmc__heap_alloc(8 * (n + 1));
	unsigned char *s = tmp ? shmc__heap_alloc(cap) : NULL;
	if (s == NULL) {
		shmc__heap_free(tmp);
		sb->err = sb->err ? sb->err : -ENOMEM;
		return;
	}
	memcpy(tmp, l, 8 * n);
	size_t len = mpn_get_str(s, base, tmp, (mp_size_t)n);
	size_t i = 0;
	while (i + 1 < len && s[i] == 0) /* it may leave leading zeros */
		i++;
	for (size_t k = i; k < len; k++)
		s[k] = (unsigned char)digit[s[k]];
	shmc__sb_putn(sb, (const char *)s + i, len - i);
	shmc__heap_free(s);
	shmc__heap_free(tmp);
}

void shmc__bigint_repr(struct shmc__sbuf *sb, const struct shmc_bigint *b)
{
	if (b->neg)
		shmc__sb_putc(sb, '-');
	put_digits(sb, b->limb, b->n, 10);
}

int shmc_int_to_str(shmc_value_t v, int base, char **out)
{
	struct mag m;
	if (v.type == SHMC_ERROR)
		return (int)v.i;
	if (!mag_of(&v, &m))
		return SHMC_ETYPE;
	if (base < 2 || base > 36 || out == NULL)
		return -EINVAL;
	struct shmc__sbuf sb = {0};
	if (m.neg)
		shmc__sb_putc(&sb, '-');
	if (m.n == 0)
		shmc__sb_putc(&sb, '0');
	else
		put_digits(&sb, m.l, m.n, base);
	return shmc__sb_finish(&sb, out);
}

static inline bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* The base a 0b/0o/0x prefix names, or 0. */
static int prefix_base(const char *s, size_t left)
{
	if (left < 2 || s[0] != '0')
		return 0;
	switch (s[1]) {
	case 'b': case 'B': return 2;
	case 'o': case 'O': return 8;
	case 'x': case 'X': return 16;
	default: return 0;
	}
}

int shmc_int_from_str(const char *s, size_t len, int base, shmc_value_t *out)
{
	if (s == NULL || out == NULL || base == 1 || base < 0 || base > 36)
		return -EINVAL;
	size_t i = 0, end = len;
	while (i < end && is_space(s[i]))
		i++;
	while (end > i && is_space(s[end - 1]))
		end--;
	bool neg = false;
	if (i < end && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	/* A prefix: 0b, 0o, 0x in base 0, or the one of BASE. Base 0 without
	 * one is decimal, where a number may not start with 0 (but 0 is 0). */
	int pb = prefix_base(s + i, end - i);
	bool prefixed = pb && (base == 0 || base == pb), zeros_only = false;
	if (prefixed) {
		base = pb;
		i += 2;
	} else if (base == 0) {
		base = 10;
		zeros_only = i < end && s[i] == '0';
	}
	unsigned char *d = shmc__heap_alloc(end - i + 1);
	if (d == NULL)
		return -ENOMEM;
	/* Single underscores between digits, or right after a prefix. */
	size_t nd = 0;
	bool any = false, after_us = false, at_start = true;
	int rc = -EINVAL;
	for (; i < end; i++, at_start = false) {
		if (s[i] == '_') {
			if (after_us || (at_start && !prefixed))
				goto out;
			after_us = true;
			continue;
		}
		int dv = digit_value(s[i]);
		if (dv >= base || (zeros_only && dv != 0))
			goto out;
		if (nd || dv) /* leading zeros are dropped */
			d[nd++] = (unsigned char)dv;
		any = true;
		after_us = false;
	}
	if (!any || after_us)
		goto out;
	if (nd == 0) {
		*out = shmc_int(0);
		rc = 0;
		goto out;
	}
	/* mpn_set_str wants room for the largest ND-digit number plus a limb;
	 * a digit of base 36 or less holds under 6 bits. */
	size_t nl = nd * 6 / 64 + 2;
	mp_limb_t *l = shmc__heap_alloc(8 * nl);
	rc = -ENOMEM;
	if (l == NULL)
		goto out;
	mp_size_t n = mpn_set_str(l, d, nd, base);
	rc = shmc__bigint_make(l, (size_t)n, neg, out);
	shmc__heap_free(l);
out:
	shmc__heap_free(d);
	return rc;
}

/* Bytes ------------------------------------------------------------------ */

int shmc_int_from_bytes(const void *p, size_t n, shmc_value_t *out)
{
	if ((p == NULL && n) || out == NULL)
		return -EINVAL;
	const unsigned char *s = p;
	bool neg = n && (s[n - 1] & 0x80);
	size_t nl = (n + 7) / 8;
	if (nl > UINT32_MAX)
		return -ENOMEM;
	uint64_t small = 0;
	uint64_t *l = nl <= 1 ? &small : shmc__heap_alloc(8 * nl);
	if (l == NULL)
		return -ENOMEM;
	for (size_t k = 0; k < nl; k++) {
		uint64_t x = neg ? ~(uint64_t)0 : 0; /* sign-extended */
		for (size_t j = 0; j < 8 && 8 * k + j < n; j++) {
			x &= ~((uint64_t)0xff << (8 * j));
			x |= (uint64_t)s[8 * k + j] << (8 * j);
		}
		l[k] = x;
	}
	if (neg) { /* the magnitude: -x = ~x + 1 */
		bool carry = true;
		for (size_t k = 0; k < nl; k++) {
			l[k] = ~l[k] + carry;
			carry = carry && l[k] == 0;
		}
	}
	int rc = shmc__bigint_make(l, nl, neg, out);
	if (l != &small)
		shmc__heap_free(l);
	return rc;
}

/* The fewest two's-complement bytes for M: -2**(8k-1) <= v < 2**(8k-1). */
static size_t byte_len(const struct mag *m)
{
	if (m->n == 0)
		return 1;
	uint64_t bits = bits_of(m->l, m->n);
	if (m->neg) {
		/* |v| <= 2**(8k-1): the bits of |v| - 1, one fewer when |v|
		 * is a power of two. */
		bool pow2 = __builtin_popcountll(m->l[m->n - 1]) == 1;
		for (size_t i = 0; pow2 && i + 1 < m->n; i++)
			pow2 = m->l[i] == 0;
		if (pow2)
			bits--;
	}
	return (size_t)(bits / 8 + 1);
}

size_t shmc_int_byte_len(shmc_value_t v)
{
	struct mag m;
	return mag_of(&v, &m) ? byte_len(&m) : 0;
}

int shmc_int_to_bytes(shmc_value_t v, void *buf, size_t n)
{
	struct mag m;
	if (v.type == SHMC_ERROR)
		return (int)v.i;
	if (!mag_of(&v, &m))
		return SHMC_ETYPE;
	if (buf == NULL && n)
		return -EINVAL;
	if (byte_len(&m) > n)
		return -ERANGE;
	unsigned char *o = buf;
	bool carry = true; /* two's complement of the magnitude: ~x + 1 */
	for (size_t i = 0; i < n; i++) {
		unsigned char b = i / 8 < m.n ? (unsigned char)(m.l[i / 8] >> (8 * (i % 8))) : 0;
		if (m.neg) {
			b = (unsigned char)(~b + carry);
			carry = carry && b == 0;
		}
		o[i] = b;
	}
	return 0;
}
