/*
 * vdec.c -- value blocks decoded back into private values.
 *
 * The stream (its format is at the top of venc.c) is untrusted: any process
 * with the arena mapped may have written it, or died writing near it. So
 * each kind of item has its own small decoder that reads only what it has
 * validated: every length and count is checked against what is left of the
 * block before it is used (a count also bounds the allocation it sizes:
 * each item takes at least one byte), nesting is bounded by SHMC__MAX_DEPTH,
 * and anything out of place is SHMC_ECORRUPT. decode() dispatches on the
 * item's type byte; load() first handles the words that need no block.
 *
 * Two modes. A load makes handles that hold references of their own. A
 * view makes stubs, which name a managed object without holding it, so
 * that reading writes nothing to the arena (the inspector, and veq.c's
 * comparison of dicts).
 */
#include <errno.h>
#include <string.h>

#include "base/heap.h"
#include "objects/obj.h"
#include "values/value.h"
#include "values/venc.h"

/* What every decoder of one stream shares. */
struct dec {
	shmc_arena_t *a;
	struct shmc__vcursor *c;
	bool stubs; /* managed objects as stubs (a view), not handles */
};

static int decode(struct dec *d, int depth, shmc_value_t *out);

/* The number whose 8 bytes are BITS, as an INT or FLOAT item holds it. */
static inline shmc_value_t number_of(unsigned t, uint64_t bits)
{
	if (t == SHMC__T_INT)
		return shmc_int((int64_t)bits);
	double f;
	memcpy(&f, &bits, 8);
	return shmc_float(f);
}

/* None, False, True: no payload; an int or a float: 8 bytes. */
static int decode_scalar(struct dec *d, unsigned t, shmc_value_t *out)
{
	uint64_t x;
	switch (t) {
	case SHMC__T_NONE:
		*out = shmc_none();
		return 0;
	case SHMC__T_FALSE:
	case SHMC__T_TRUE:
		*out = shmc_bool(t == SHMC__T_TRUE);
		return 0;
	default:
		if (!shmc__vcursor_u64(d->c, &x))
			return SHMC_ECORRUPT;
		*out = number_of(t, x);
		return 0;
	}
}

/* A str, bytes or bytearray: its text, copied. The encoder checked a
 * str's UTF-8. */
static int decode_text(struct dec *d, unsigned t, shmc_value_t *out)
{
	uint64_t n;
	const char *s;
	if (!shmc__vcursor_text(d->c, &n, &s))
		return SHMC_ECORRUPT;
	return shmc__str_copy(t == SHMC__T_STR     ? SHMC_STR
			      : t == SHMC__T_BYTES ? SHMC_BYTES
						   : SHMC_BYTEARRAY,
			      s, n, out);
}

/* A big int: its limb count and sign, then the limbs, which must be
 * canonical (not an int64, no zero on top). */
static int decode_bigint(struct dec *d, shmc_value_t *out)
{
	struct shmc__vcursor *c = d->c;
	uint64_t x;
	if (!shmc__vcursor_u64(c, &x) || x / 2 > (uint64_t)(c->end - c->p) / 8 ||
	    !shmc__bigint_canonical(c->p, x / 2, x & 1))
		return SHMC_ECORRUPT;
	c->p += 8 * (x / 2);
	return shmc__bigint_make(c->p - 8 * (x / 2), x / 2, x & 1, out);
}

static int decode_complex(struct dec *d, shmc_value_t *out)
{
	uint64_t re, im;
	if (!shmc__vcursor_u64(d->c, &re) || !shmc__vcursor_u64(d->c, &im))
		return SHMC_ECORRUPT;
	double f[2];
	memcpy(&f[0], &re, 8);
	memcpy(&f[1], &im, 8);
	*out = shmc_complex(f[0], f[1]);
	return out->type == SHMC_ERROR ? (int)out->i : 0;
}

/* An opaque value: its bytes, then its repr, UTF-8 without a NUL (the
 * builder took it from a C string). */
static int decode_opaque(struct dec *d, shmc_value_t *out)
{
	uint64_t n, rn;
	const char *s, *r;
	if (!shmc__vcursor_text(d->c, &n, &s) || !shmc__vcursor_text(d->c, &rn, &r) ||
	    memchr(r, '\0', rn) != NULL || !shmc__utf8_valid(r, rn))
		return SHMC_ECORRUPT;
	return shmc__opaque_new(s, n, r, rn, out);
}

/* A tuple or list: its count, then its items. */
static int decode_seq(struct dec *d, unsigned t, int depth, shmc_value_t *out)
{
	struct shmc__vcursor *c = d->c;
	uint64_t x;
	/* Each item takes at least one byte: bounds the allocation. */
	if (!shmc__vcursor_u64(c, &x) || x > (uint64_t)(c->end - c->p))
		return SHMC_ECORRUPT;
	shmc_value_t s;
	int rc = shmc__seq_new(t == SHMC__T_TUPLE ? SHMC_TUPLE : SHMC_LIST, x, &s);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < x; i++) {
		shmc_value_t item;
		/* Numbers, the usual items, without a call, in a run read
		 * through locals (stores to the items would otherwise make
		 * the compiler reload the cursor and the length each time). */
		const unsigned char *p = c->p, *end = c->end;
		shmc_value_t *items = s.seq->items;
		uint64_t j = i;
		for (; j < x && end - p >= 9 && (*p == SHMC__T_INT || *p == SHMC__T_FLOAT);
		     j++, p += 9) {
			uint64_t bits;
			memcpy(&bits, p + 1, 8);
			shmc__value_set_number(&items[j], *p == SHMC__T_INT ? SHMC_INT : SHMC_FLOAT,
					       bits);
		}
		c->p = p;
		s.seq->len = j;
		if ((i = j) == x)
			break;
		/* c->p < c->end: x - i bytes remain */
		if ((rc = decode(d, depth + 1, &item))) {
			shmc_value_free(&s);
			return rc;
		}
		shmc__seq_push(&s, item);
	}
	*out = s;
	return 0;
}

/* A dict: its count of pairs (two items each, at least two bytes), then
 * key, value, key, value... A key that cannot be hashed was never encoded,
 * so it is corruption. */
static int decode_dict(struct dec *d, int depth, shmc_value_t *out)
{
	struct shmc__vcursor *c = d->c;
	uint64_t x;
	if (!shmc__vcursor_u64(c, &x) || x > (uint64_t)(c->end - c->p) / 2)
		return SHMC_ECORRUPT;
	shmc_value_t m;
	int rc = shmc__pmap_new(&m);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < x; i++) {
		shmc_value_t k, v;
		if ((rc = decode(d, depth + 1, &k)) == 0 &&
		    (rc = decode(d, depth + 1, &v)) != 0)
			shmc_value_free(&k);
		if (rc == 0)
			rc = shmc_pdict_set(&m, k, v);
		if (rc) {
			shmc_value_free(&m);
			return rc == SHMC_EUNHASHABLE ? SHMC_ECORRUPT : rc;
		}
	}
	*out = m;
	return 0;
}

/* A set or frozenset: its count, then its members, added in their order
 * (which rebuilds CPython's table as unpickling does). A member that
 * cannot be hashed, or a second equal member, was never encoded. */
static int decode_set(struct dec *d, unsigned t, int depth, shmc_value_t *out)
{
	struct shmc__vcursor *c = d->c;
	uint64_t x;
	if (!shmc__vcursor_u64(c, &x) || x > (uint64_t)(c->end - c->p))
		return SHMC_ECORRUPT;
	shmc_value_t s = shmc_none();
	int rc = shmc__pset_new(t == SHMC__T_SET ? SHMC_SET : SHMC_FROZENSET, &s);
	for (uint64_t i = 0; rc == 0 && i < x; i++) {
		shmc_value_t m;
		int64_t h = 0; /* set on success; -O3 cannot see it */
		if ((rc = decode(d, depth + 1, &m)) != 0)
			break;
		rc = shmc__py_hash(m, depth + 1, &h);
		if (rc == 0)
			rc = shmc__pset_add(s.set, m, h, depth + 1);
		if (rc <= 0) { /* 0: a duplicate */
			shmc_value_free(&m);
			rc = rc == -ENOMEM ? rc : SHMC_ECORRUPT;
		} else {
			rc = 0;
		}
	}
	if (rc) {
		shmc_value_free(&s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The managed object at OFF: a handle holding a reference of its own, or
 * (STUBS) a stub that names the object without holding it. The object
 * layer validates OFF. */
static int ref_value(shmc_arena_t *a, uint64_t off, bool stubs, shmc_value_t *out)
{
	shmc_obj_t *h;
	int rc = stubs ? shmc__obj_stub(a, off, &h) : shmc__obj_wrap(a, off, &h);
	if (rc)
		return rc;
	out->type = SHMC_REF;
	out->owned = 1;
	out->ref = h;
	return 0;
}

/* A reference: the object's offset. */
static int decode_ref(struct dec *d, shmc_value_t *out)
{
	uint64_t x;
	if (!shmc__vcursor_u64(d->c, &x))
		return SHMC_ECORRUPT;
	return ref_value(d->a, x, d->stubs, out);
}

static int decode(struct dec *d, int depth, shmc_value_t *out)
{
	if (depth > SHMC__MAX_DEPTH || d->c->p >= d->c->end)
		return SHMC_ECORRUPT;
	unsigned t = *d->c->p++;
	switch (t) {
	case SHMC__T_NONE:
	case SHMC__T_FALSE:
	case SHMC__T_TRUE:
	case SHMC__T_INT:
	case SHMC__T_FLOAT:
		return decode_scalar(d, t, out);
	case SHMC__T_STR:
	case SHMC__T_BYTES:
	case SHMC__T_BYTEARRAY:
		return decode_text(d, t, out);
	case SHMC__T_BIGINT:
		return decode_bigint(d, out);
	case SHMC__T_COMPLEX:
		return decode_complex(d, out);
	case SHMC__T_OPAQUE:
		return decode_opaque(d, out);
	case SHMC__T_SET:
	case SHMC__T_FROZENSET:
		return decode_set(d, t, depth, out);
	case SHMC__T_TUPLE:
	case SHMC__T_LIST:
		/* Never stored so deep (shmc__too_deep): corrupt. */
		return shmc__too_deep(depth) ? SHMC_ECORRUPT : decode_seq(d, t, depth, out);
	case SHMC__T_DICT:
		return shmc__too_deep(depth) ? SHMC_ECORRUPT : decode_dict(d, depth, out);
	case SHMC__T_REF:
		return decode_ref(d, out);
	default:
		return SHMC_ECORRUPT;
	}
}

int shmc__vstream_decode(shmc_arena_t *a, struct shmc__vcursor *c, int depth,
			 bool stubs, shmc_value_t *out)
{
	struct dec d = {a, c, stubs};
	return decode(&d, depth, out);
}

/* Word W: an immediate, a reference, or a block whose stream must be
 * exactly one item. */
static int load(shmc_arena_t *a, uint64_t w, bool stubs, shmc_value_t *out)
{
	if (shmc__w_is_int(w)) {
		*out = shmc_int(shmc__w_int(w));
		return 0;
	}
	switch (w) {
	case SHMC__W_NONE:
		*out = shmc_none();
		return 0;
	case SHMC__W_FALSE:
	case SHMC__W_TRUE:
		*out = shmc_bool(w == SHMC__W_TRUE);
		return 0;
	default:
		break;
	}
	if (shmc__w_is_ref(w))
		return ref_value(a, shmc__w_ref_off(w), stubs, out);
	if (!shmc__w_is_block(w))
		return SHMC_ECORRUPT;
	const struct shmc__vblock *b = shmc__vblock_at(a, w);
	if (b == NULL)
		return SHMC_ECORRUPT;
	struct shmc__vcursor c = shmc__vblock_stream(b);
	shmc_value_t v;
	int rc = shmc__vstream_decode(a, &c, 0, stubs, &v);
	if (rc)
		return rc;
	if (c.p != c.end) {
		shmc_value_free(&v);
		return SHMC_ECORRUPT;
	}
	*out = v;
	return 0;
}

int shmc__word_load(shmc_arena_t *a, uint64_t w, shmc_value_t *out)
{
	return load(a, w, false, out);
}

int shmc__word_load_view(shmc_arena_t *a, uint64_t w, shmc_value_t *out)
{
	return load(a, w, true, out);
}

uint64_t shmc__word_block_bytes(const shmc_arena_t *a, uint64_t w)
{
	if (!shmc__w_is_block(w))
		return 0;
	const struct shmc__vblock *b = shmc__vblock_at(a, w);
	return b ? sizeof(*b) + b->len : 0;
}
