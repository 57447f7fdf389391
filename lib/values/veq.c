/*
 * veq.c -- Python's ==, implemented once.
 *
 * Values are compared in two settings: private value against private value
 * (shmc_value_eq: plain dicts' lookups, compare-and-set of a number), and
 * the value a shared word holds against a private value (shmc__word_eq:
 * shared dict and namespace probes that venc.h's inline shortcuts do not
 * settle, list.index and .count, compare-and-set, the inspector's paths).
 * Both are one walk, eq(), over two readers. A reader is either a private
 * value or the next item of a value block's stream, read where it lies.
 *
 * A reader yields one item's head at a time: its kind and, for a scalar or
 * a text, all of it (a stream's text is a view into the block, not a copy);
 * for a tuple or list its count, the items following; for a reference what
 * identifies the object. The rules are applied to two heads (judge()),
 * then the walk goes down the items in order, which is the stream's order
 * too, so a stream reader is only a cursor that moves forward. The rules:
 *
 *   - bool, int, big int, float and complex compare as numbers (True == 1
 *     == 1.0 == complex(1, 0), 2**64 == 2.0**64), an int and a float
 *     exactly (2**53 + 1 != 2.0**53), a complex as a float when its
 *     imaginary part is 0; NaN equals nothing. A big int never equals an
 *     int (an int that fits in 64 bits is never big);
 *   - otherwise the kinds must agree: a str never equals bytes, nor a tuple
 *     a list; bytes and bytearray are one kind, as are set and frozenset;
 *     None equals None;
 *   - str, bytes (and bytearray) and opaque values by their bytes; tuples
 *     and lists by length, then item by item;
 *   - sets by length, then each member of one looked up in the other; a
 *     set in a stream is decoded first, as a dict is;
 *   - dicts by length, then each key of one looked up in the other (order
 *     does not matter); a dict in a stream is decoded first, with stubs for
 *     the objects it names, since comparing must take no reference and
 *     write nothing;
 *   - managed objects by identity: two handles by shmc_obj_same, a stream's
 *     reference and a handle by the object's offset in the arena being
 *     read;
 *   - a container nested deeper than SHMC__MAX_DEPTH allows
 *     (shmc__too_deep) is unequal to anything;
 *   - a str or bytes view of NULL with a non-zero length is malformed:
 *     unequal to anything.
 *
 * A stream is untrusted (venc.c): every length is checked against what is
 * left of the block, and a malformed item compares unequal. Nothing here
 * allocates, except to decode a dict.
 */
#include <math.h>
#include <string.h>

#include "objects/obj.h"
#include "values/value.h"
#include "values/venc.h"

/* One side of a comparison: a private value, or (v == NULL) the next item
 * of the stream at C, in arena A. */
struct reader {
	const shmc_value_t *v;
	struct shmc__vcursor *c;
	shmc_arena_t *a;
};

/* An item as == sees it, short of its items. */
struct head {
	shmc_type_t type;
	uint64_t n; /* str, bytes, opaque: length; tuple, list: count; big
		     * int: limbs */
	bool neg;   /* big int: its sign */
	union {
		int64_t i;              /* int, bool (0 or 1) */
		double f;               /* float */
		struct { double re, im; } c; /* complex */
		const char *s;          /* str, bytes, opaque; big int: limbs */
		const shmc_obj_t *ref;  /* a private reference */
		uint64_t off;           /* a stream's reference */
	} u;
};

static bool eq(struct reader x, struct reader y, int depth);

/* Reading heads ------------------------------------------------------------ */

static inline void private_head(const shmc_value_t *v, struct head *h)
{
	h->type = v->type;
	switch (v->type) {
	case SHMC_BOOL:
		h->u.i = v->b;
		break;
	case SHMC_INT:
		h->u.i = v->i;
		break;
	case SHMC_FLOAT:
		h->u.f = v->f;
		break;
	case SHMC_STR:
	case SHMC_BYTES:
	case SHMC_BYTEARRAY:
		h->n = v->len;
		h->u.s = v->str;
		break;
	case SHMC_BIGINT:
		h->n = v->big->n;
		h->neg = v->big->neg;
		h->u.s = (const char *)v->big->limb;
		break;
	case SHMC_COMPLEX:
		h->u.c.re = v->cx->re;
		h->u.c.im = v->cx->im;
		break;
	case SHMC_OPAQUE:
		h->n = v->opq->len;
		h->u.s = v->opq->data;
		break;
	case SHMC_TUPLE:
	case SHMC_LIST:
		h->n = v->seq->len;
		break;
	case SHMC_REF:
		h->u.ref = v->ref;
		break;
	default: /* None; a dict or set is read whole by dicts_eq, sets_eq */
		break;
	}
}

/* The head of the item at C, C moved past it (a dict or set: left at its
 * start, for dicts_eq or sets_eq to decode); false when malformed. */
static inline bool stream_head(struct shmc__vcursor *c, struct head *h)
{
	if (c->p >= c->end)
		return false;
	unsigned t = *c->p++;
	uint64_t x;
	switch (t) {
	case SHMC__T_NONE:
		h->type = SHMC_NONE;
		return true;
	case SHMC__T_FALSE:
	case SHMC__T_TRUE:
		h->type = SHMC_BOOL;
		h->u.i = t == SHMC__T_TRUE;
		return true;
	case SHMC__T_INT:
	case SHMC__T_FLOAT:
		if (!shmc__vcursor_u64(c, &x))
			return false;
		h->type = t == SHMC__T_INT ? SHMC_INT : SHMC_FLOAT;
		memcpy(&h->u, &x, 8); /* the int or the double's bits */
		return true;
	case SHMC__T_STR:
	case SHMC__T_BYTES:
	case SHMC__T_BYTEARRAY:
		h->type = t == SHMC__T_STR ? SHMC_STR : t == SHMC__T_BYTES ? SHMC_BYTES
									 : SHMC_BYTEARRAY;
		return shmc__vcursor_text(c, &h->n, &h->u.s);
	case SHMC__T_BIGINT:
		/* (limbs << 1 | sign), then the limbs, canonical. */
		if (!shmc__vcursor_u64(c, &x) || x / 2 > (uint64_t)(c->end - c->p) / 8)
			return false;
		h->type = SHMC_BIGINT;
		h->n = x / 2;
		h->neg = x & 1;
		h->u.s = (const char *)c->p;
		c->p += 8 * h->n;
		return shmc__bigint_canonical(h->u.s, h->n, h->neg);
	case SHMC__T_COMPLEX:
		if (c->end - c->p < 16)
			return false;
		h->type = SHMC_COMPLEX;
		memcpy(&h->u.c.re, c->p, 8);
		memcpy(&h->u.c.im, c->p + 8, 8);
		c->p += 16;
		return true;
	case SHMC__T_OPAQUE: {
		const char *r;
		h->type = SHMC_OPAQUE;
		return shmc__vcursor_text(c, &h->n, &h->u.s) && shmc__vcursor_text(c, &x, &r);
	}
	case SHMC__T_SET:
	case SHMC__T_FROZENSET:
		c->p--;
		h->type = t == SHMC__T_SET ? SHMC_SET : SHMC_FROZENSET;
		return true;
	case SHMC__T_TUPLE:
	case SHMC__T_LIST:
		/* The count is not bounded here: each item read is. */
		if (!shmc__vcursor_u64(c, &h->n))
			return false;
		h->type = t == SHMC__T_TUPLE ? SHMC_TUPLE : SHMC_LIST;
		return true;
	case SHMC__T_DICT:
		c->p--;
		h->type = SHMC_DICT;
		return true;
	case SHMC__T_REF:
		if (!shmc__vcursor_u64(c, &h->u.off))
			return false;
		h->type = SHMC_REF;
		return true;
	default:
		return false;
	}
}

static inline bool read_head(const struct reader *r, struct head *h)
{
	if (r->v) {
		private_head(r->v, h);
		return true;
	}
	return stream_head(r->c, h);
}

/* The head of an immediate or reference word (a block's is its stream's);
 * false for anything else. */
static bool word_head(uint64_t w, struct head *h)
{
	if (shmc__w_is_int(w)) {
		h->type = SHMC_INT;
		h->u.i = shmc__w_int(w);
	} else if (w == SHMC__W_TRUE || w == SHMC__W_FALSE) {
		h->type = SHMC_BOOL;
		h->u.i = w == SHMC__W_TRUE;
	} else if (w == SHMC__W_NONE) {
		h->type = SHMC_NONE;
	} else if (shmc__w_is_ref(w)) {
		h->type = SHMC_REF;
		h->u.off = shmc__w_ref_off(w);
	} else {
		return false;
	}
	return true;
}

/* The rules ---------------------------------------------------------------- */

static inline bool is_number(shmc_type_t t)
{
	return t == SHMC_BOOL || t == SHMC_INT || t == SHMC_FLOAT || t == SHMC_BIGINT ||
	       t == SHMC_COMPLEX;
}

/* The kind == compares within: bytes and bytearray are one, as are set
 * and frozenset. */
static inline shmc_type_t kind_of(shmc_type_t t)
{
	return t == SHMC_BYTEARRAY ? SHMC_BYTES : t == SHMC_FROZENSET ? SHMC_SET : t;
}

/* Exact, as Python compares them: 2**53 + 1 != 2.0**53. */
static bool int_eq_float(int64_t i, double f)
{
	if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
		return false;
	if (f != floor(f))
		return false;
	return (int64_t)f == i;
}

/* Two real numbers: bool, int, big int or float. */
static bool reals_eq(const struct head *x, const struct head *y)
{
	if (x->type == SHMC_BIGINT || y->type == SHMC_BIGINT) {
		if (x->type != SHMC_BIGINT) {
			const struct head *t = x;
			x = y;
			y = t;
		}
		if (y->type == SHMC_FLOAT)
			return shmc__bigint_eq_double(x->u.s, x->n, x->neg, y->u.f);
		/* Both canonical: equal limbs; an int is never big. */
		return y->type == SHMC_BIGINT && x->neg == y->neg && x->n == y->n &&
		       memcmp(x->u.s, y->u.s, 8 * x->n) == 0;
	}
	if (x->type == SHMC_FLOAT && y->type == SHMC_FLOAT)
		return x->u.f == y->u.f;
	if (x->type == SHMC_FLOAT)
		return int_eq_float(y->u.i, x->u.f);
	if (y->type == SHMC_FLOAT)
		return int_eq_float(x->u.i, y->u.f);
	return x->u.i == y->u.i;
}

static bool numbers_eq(const struct head *x, const struct head *y)
{
	if (x->type != SHMC_COMPLEX && y->type != SHMC_COMPLEX)
		return reals_eq(x, y);
	if (x->type == SHMC_COMPLEX && y->type == SHMC_COMPLEX)
		return x->u.c.re == y->u.c.re && x->u.c.im == y->u.c.im;
	/* A complex and a real: as Python, its real part as a float. */
	const struct head *c = x->type == SHMC_COMPLEX ? x : y;
	const struct head *r = x->type == SHMC_COMPLEX ? y : x;
	struct head f = {.type = SHMC_FLOAT, .u.f = c->u.c.re};
	return c->u.c.im == 0 && reals_eq(&f, r);
}

static bool refs_eq(const struct reader *x, const struct head *hx,
		    const struct reader *y, const struct head *hy)
{
	if (x->v && y->v)
		return shmc_obj_same(hx->u.ref, hy->u.ref);
	if (!x->v && !y->v) /* two streams */
		return x->a->base == y->a->base && hx->u.off == hy->u.off;
	/* A stream's reference: the object at OFF of the arena being read,
	 * which a handle names only if it is of that arena (attachment). */
	const shmc_obj_t *h = x->v ? hx->u.ref : hy->u.ref;
	uint64_t off = x->v ? hy->u.off : hx->u.off;
	shmc_arena_t *a = x->v ? y->a : x->a;
	struct shmc__hview hv;
	return shmc__handle_read(h, &hv) && hv.a == a && hv.off == off;
}

/* Two private dicts, order-insensitive. */
static bool pdicts_eq(shmc_value_t a, shmc_value_t b, int depth)
{
	if (a.map->len != b.map->len)
		return false;
	for (size_t i = 0; i < a.map->len; i++) {
		shmc_value_t *v = shmc_pdict_get(b, a.map->e[i].key);
		if (v == NULL)
			return false;
		struct reader rx = {&a.map->e[i].val, NULL, NULL};
		struct reader ry = {v, NULL, NULL};
		if (!eq(rx, ry, depth + 1))
			return false;
	}
	return true;
}

/* Two dicts, either of which may be a stream's, decoded (as stubs) first. */
static bool dicts_eq(const struct reader *x, const struct reader *y, int depth)
{
	shmc_value_t dx = shmc_none(), dy = shmc_none();
	if (!x->v && shmc__vstream_decode(x->a, x->c, depth, true, &dx) != 0)
		return false;
	if (!y->v && shmc__vstream_decode(y->a, y->c, depth, true, &dy) != 0) {
		shmc_value_free(&dx);
		return false;
	}
	bool r = pdicts_eq(x->v ? *x->v : dx, y->v ? *y->v : dy, depth);
	shmc_value_free(&dx);
	shmc_value_free(&dy);
	return r;
}

/* Two private sets (or frozensets). */
static bool psets_eq(const struct shmc_pset *a, const struct shmc_pset *b, int depth)
{
	if (a->used != b->used)
		return false;
	for (size_t i = 0; i <= a->mask; i++) {
		const struct shmc_pset_entry *e = &a->table[i];
		if (e->state == SHMC__PSET_ACTIVE &&
		    shmc__pset_find(b, e->key, e->hash, depth + 1) == NULL)
			return false;
	}
	return true;
}

/* Two sets, either of which may be a stream's, decoded first. */
static bool sets_eq(const struct reader *x, const struct reader *y, int depth)
{
	shmc_value_t sx = shmc_none(), sy = shmc_none();
	if (!x->v && shmc__vstream_decode(x->a, x->c, depth, true, &sx) != 0)
		return false;
	if (!y->v && shmc__vstream_decode(y->a, y->c, depth, true, &sy) != 0) {
		shmc_value_free(&sx);
		return false;
	}
	bool r = psets_eq(x->v ? x->v->set : sx.set, y->v ? y->v->set : sy.set, depth);
	shmc_value_free(&sx);
	shmc_value_free(&sy);
	return r;
}

/* What the rules say of two heads, before any item is read. */
enum verdict { UNEQUAL, EQUAL, ITEMS, DICTS, SETS, REFS };

static inline enum verdict judge(const struct head *hx, const struct head *hy)
{
	if (is_number(hx->type) && is_number(hy->type))
		return numbers_eq(hx, hy) ? EQUAL : UNEQUAL;
	if (kind_of(hx->type) != kind_of(hy->type))
		return UNEQUAL;
	switch (kind_of(hx->type)) {
	case SHMC_NONE:
		return EQUAL;
	case SHMC_STR:
	case SHMC_BYTES:
	case SHMC_OPAQUE:
		return hx->n == hy->n &&
				       (hx->n == 0 || (hx->u.s && hy->u.s &&
						       memcmp(hx->u.s, hy->u.s, hx->n) == 0))
			       ? EQUAL
			       : UNEQUAL;
	case SHMC_TUPLE:
	case SHMC_LIST:
		return hx->n == hy->n ? ITEMS : UNEQUAL;
	case SHMC_DICT:
		return DICTS;
	case SHMC_SET:
		return SETS;
	case SHMC_REF:
		return REFS;
	default:
		return UNEQUAL;
	}
}

/* The item R reads at position I of the tuple or list it has just read the
 * head of: a private item, or the stream's next. */
static inline struct reader item_reader(struct reader r, uint64_t i)
{
	if (r.v)
		r.v = &r.v->seq->items[i];
	return r;
}

/* The rest of the walk once heads HX and HY (of X and Y) are judged. */
static bool finish(const struct reader *x, const struct head *hx,
		   const struct reader *y, const struct head *hy, enum verdict vd,
		   int depth)
{
	switch (vd) {
	case EQUAL:
		return true;
	case ITEMS:
		for (uint64_t i = 0; i < hx->n; i++)
			if (!eq(item_reader(*x, i), item_reader(*y, i), depth + 1))
				return false;
		return true;
	case DICTS:
		return dicts_eq(x, y, depth);
	case SETS:
		return sets_eq(x, y, depth);
	case REFS:
		return refs_eq(x, hx, y, hy);
	default:
		return false;
	}
}

static bool eq(struct reader x, struct reader y, int depth)
{
	struct head hx, hy;
	if (!read_head(&x, &hx) || !read_head(&y, &hy))
		return false;
	enum verdict vd = judge(&hx, &hy);
	if ((vd == ITEMS || vd == DICTS) && shmc__too_deep(depth))
		return false;
	return vd == EQUAL || (vd != UNEQUAL && finish(&x, &hx, &y, &hy, vd, depth));
}

/* The two entry points ---------------------------------------------------- */

bool shmc_value_eq(shmc_value_t a, shmc_value_t b)
{
	return shmc__value_eq_depth(a, b, 0);
}

bool shmc__value_eq_depth(shmc_value_t a, shmc_value_t b, int depth)
{
	struct reader x = {&a, NULL, NULL}, y = {&b, NULL, NULL};
	return eq(x, y, depth);
}

bool shmc__word_eq(shmc_arena_t *a, uint64_t w, shmc_value_t v)
{
	uint64_t imm = shmc__word_immediate(v);
	if (imm && imm == w)
		return true;
	/* eq() unrolled once: a scalar or a text, the usual keys, is settled
	 * here without a call. */
	struct reader x = {NULL, NULL, a}, y = {&v, NULL, NULL};
	struct shmc__vcursor c;
	struct head hx, hy;
	if (shmc__w_is_block(w)) {
		const struct shmc__vblock *b = shmc__vblock_at(a, w);
		if (b == NULL)
			return false;
		c = shmc__vblock_stream(b);
		x.c = &c;
		if (!stream_head(&c, &hx))
			return false;
	} else if (!word_head(w, &hx)) { /* an immediate or a reference */
		return false;
	}
	private_head(&v, &hy);
	enum verdict vd = judge(&hx, &hy);
	if (vd == UNEQUAL || (vd != EQUAL && !finish(&x, &hx, &y, &hy, vd, 0)))
		return false;
	return x.c == NULL || c.p == c.end; /* a block holds one item */
}
