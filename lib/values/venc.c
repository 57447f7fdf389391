/*
 * venc.c -- plain values serialised into immutable arena blocks.
 *
 * A block is a 16-byte header {magic, number of references, stream length}
 * followed by a stream of items. An item is a type byte and its payload:
 *
 *   NONE FALSE TRUE           -
 *   INT FLOAT                 8 bytes
 *   STR BYTES BYTEARRAY       length (8 bytes), then the bytes
 *   TUPLE LIST                count (8 bytes), then the items
 *   DICT                      count (8 bytes), then key, value, key, value...
 *   REF                       offset of a managed object (8 bytes)
 *   BIGINT                    limbs << 1 | sign (8 bytes), then the limbs
 *                             of the magnitude, 8 bytes each, least
 *                             significant first, canonical (the last one
 *                             non-zero; an int64 is never a BIGINT)
 *   COMPLEX                   real and imaginary parts (8 bytes each)
 *   SET FROZENSET             count (8 bytes), then the members in their
 *                             iteration order (decoding adds them in that
 *                             order, as unpickling a set does)
 *   OPAQUE                    length, bytes, length of the repr, repr
 *
 * The whole value goes in one block: one allocation to store it, one
 * retirement to replace it, one pass to copy it out. The block holds one
 * reference to each managed object it names, dropped when it is freed.
 *
 * Blocks are read by processes that must not trust them (a corrupt or
 * hostile arena): every reader of the stream checks every length against
 * the block and bounds nesting (SHMC__MAX_DEPTH), and reports SHMC_ECORRUPT
 * (or "not equal", or "malformed") instead of reading outside. The readers
 * are the decoder (vdec.c), the comparison with a private value (veq.c) and,
 * here, the walk over the references that releasing a block drops.
 *
 * This file writes the stream (measure, then emit into one allocation) and
 * releases it; the header and the type bytes are declared in venc.h.
 */
#include <errno.h>
#include <string.h>

#include "memory/alloc.h"
#include "base/heap.h"
#include "objects/obj.h"
#include "objects/walk.h"
#include "values/value.h"
#include "values/venc.h"

int shmc__key_hash(shmc_value_t v, uint64_t *h)
{
	return shmc__value_hash(v, h);
}

/* Encoding ---------------------------------------------------------------- */

/* Validate V and add its encoded size to *size. */
static int measure(shmc_arena_t *a, shmc_value_t v, int depth, uint64_t *size,
		   uint32_t *nrefs)
{
	if (depth > SHMC__MAX_DEPTH)
		return SHMC_EDEPTH;
	switch (v.type) {
	case SHMC_NONE:
	case SHMC_BOOL:
		*size += 1;
		return 0;
	case SHMC_INT:
	case SHMC_FLOAT:
		*size += 9;
		return 0;
	case SHMC_STR:
		if (v.len && v.str == NULL)
			return -EINVAL;
		if (!shmc__utf8_valid(v.str, v.len))
			return -EILSEQ;
		*size += 1 + shmc__text_len_size(v.len) + v.len;
		return 0;
	case SHMC_BYTES:
	case SHMC_BYTEARRAY:
		if (v.len && v.str == NULL)
			return -EINVAL;
		*size += 1 + shmc__text_len_size(v.len) + v.len;
		return 0;
	case SHMC_BIGINT:
		*size += 9 + 8 * (uint64_t)v.big->n;
		return 0;
	case SHMC_COMPLEX:
		*size += 17;
		return 0;
	case SHMC_OPAQUE:
		*size += 1 + shmc__text_len_size(v.opq->len) + (uint64_t)v.opq->len +
			 shmc__text_len_size(v.opq->rlen) + v.opq->rlen;
		return 0;
	case SHMC_SET:
	case SHMC_FROZENSET: {
		*size += 9;
		size_t pos = 0;
		for (shmc_value_t *m; (m = shmc_set_next(v, &pos)) != NULL;) {
			int rc = measure(a, *m, depth + 1, size, nrefs);
			if (rc)
				return rc;
		}
		return 0;
	}
	case SHMC_TUPLE:
	case SHMC_LIST:
		if (shmc__too_deep(depth))
			return SHMC_EDEPTH;
	{
		/* Scalars, the usual items, without a call, summed in a local
		 * (a store through SIZE could change the items, for all the
		 * compiler knows: it would reload them each time). */
		const shmc_value_t *items = v.seq->items;
		uint64_t sum = 9;
		for (size_t i = 0, n = v.seq->len; i < n; i++) {
			unsigned t = items[i].type;
			if (t <= SHMC_FLOAT) {
				sum += t >= SHMC_INT ? 9 : 1;
				continue;
			}
			*size += sum;
			sum = 0;
			int rc = measure(a, items[i], depth + 1, size, nrefs);
			if (rc)
				return rc;
		}
		*size += sum;
		return 0;
	}
	case SHMC_DICT:
		if (shmc__too_deep(depth))
			return SHMC_EDEPTH;
		*size += 9;
		for (size_t i = 0; i < v.map->len; i++) {
			int rc = measure(a, v.map->e[i].key, depth + 1, size, nrefs);
			if (rc == 0)
				rc = measure(a, v.map->e[i].val, depth + 1, size, nrefs);
			if (rc)
				return rc;
		}
		return 0;
	case SHMC_REF: {
		struct shmc__obj *o;
		shmc_arena_t *ra;
		int rc = shmc__resolve_in(v.ref, 0, &ra, &o);
		if (rc)
			return rc;
		if (ra != a)
			return SHMC_EARENA;
		*size += 9;
		(*nrefs)++;
		return 0;
	}
	case SHMC_ERROR:
		return (int)v.i;
	default:
		return -EINVAL;
	}
}

static unsigned char *put_u64(unsigned char *p, uint64_t x)
{
	memcpy(p, &x, 8);
	return p + 8;
}

/* Write V (already measured) at P; take references. */
static unsigned char *emit(shmc_arena_t *a, shmc_value_t v, unsigned char *p)
{
	switch (v.type) {
	case SHMC_NONE:
		*p++ = SHMC__T_NONE;
		return p;
	case SHMC_BOOL:
		*p++ = v.b ? SHMC__T_TRUE : SHMC__T_FALSE;
		return p;
	case SHMC_INT:
		*p++ = SHMC__T_INT;
		return put_u64(p, (uint64_t)v.i);
	case SHMC_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &v.f, 8);
		*p++ = SHMC__T_FLOAT;
		return put_u64(p, bits);
	}
	case SHMC_STR:
	case SHMC_BYTES:
	case SHMC_BYTEARRAY:
		*p++ = v.type == SHMC_STR     ? SHMC__T_STR
		       : v.type == SHMC_BYTES ? SHMC__T_BYTES
					      : SHMC__T_BYTEARRAY;
		p = shmc__text_len_put(p, v.len);
		if (v.len)
			memcpy(p, v.str, v.len);
		return p + v.len;
	case SHMC_BIGINT:
		*p++ = SHMC__T_BIGINT;
		p = put_u64(p, (uint64_t)v.big->n << 1 | v.big->neg);
		memcpy(p, v.big->limb, 8 * (size_t)v.big->n);
		return p + 8 * (size_t)v.big->n;
	case SHMC_COMPLEX:
		*p++ = SHMC__T_COMPLEX;
		memcpy(p, &v.cx->re, 8);
		memcpy(p + 8, &v.cx->im, 8);
		return p + 16;
	case SHMC_OPAQUE:
		*p++ = SHMC__T_OPAQUE;
		p = shmc__text_len_put(p, v.opq->len);
		memcpy(p, v.opq->data, v.opq->len);
		p = shmc__text_len_put(p + v.opq->len, v.opq->rlen);
		memcpy(p, shmc__opaque_repr(v.opq), v.opq->rlen);
		return p + v.opq->rlen;
	case SHMC_SET:
	case SHMC_FROZENSET: {
		*p++ = v.type == SHMC_SET ? SHMC__T_SET : SHMC__T_FROZENSET;
		p = put_u64(p, v.set->used);
		size_t pos = 0;
		for (shmc_value_t *m; (m = shmc_set_next(v, &pos)) != NULL;)
			p = emit(a, *m, p);
		return p;
	}
	case SHMC_TUPLE:
	case SHMC_LIST:
		*p++ = v.type == SHMC_TUPLE ? SHMC__T_TUPLE : SHMC__T_LIST;
		p = put_u64(p, v.seq->len);
		/* The count read once: the bytes written could be it, for
		 * all the compiler knows. */
		for (size_t i = 0, n = v.seq->len; i < n; i++) {
			shmc_value_t item = v.seq->items[i];
			if (item.type == SHMC_INT || item.type == SHMC_FLOAT) {
				p[0] = item.type == SHMC_INT ? SHMC__T_INT : SHMC__T_FLOAT;
				p = put_u64(p + 1, (uint64_t)item.i); /* the 8 bytes */
				continue;
			}
			p = emit(a, item, p);
		}
		return p;
	case SHMC_DICT:
		*p++ = SHMC__T_DICT;
		p = put_u64(p, v.map->len);
		for (size_t i = 0; i < v.map->len; i++) {
			p = emit(a, v.map->e[i].key, p);
			p = emit(a, v.map->e[i].val, p);
		}
		return p;
	case SHMC_REF: {
		/* Measured: a live handle of this arena. */
		uint64_t off = shmc__handle_off(v.ref);
		shmc__obj_incref(a, off);
		*p++ = SHMC__T_REF;
		return put_u64(p, off);
	}
	default:
		SHMC_ASSERT(!"emit: unmeasured type");
	}
}

int shmc__word_check(shmc_arena_t *a, shmc_value_t v)
{
	if (shmc__word_immediate(v))
		return 0;
	uint64_t size = 0;
	uint32_t nrefs = 0;
	return measure(a, v, 0, &size, &nrefs);
}

int shmc__word_store_slow(shmc_arena_t *a, shmc_value_t v, uint64_t *w)
{
	if (v.type == SHMC_REF) { /* a reference needs no block */
		struct shmc__obj *o;
		shmc_arena_t *ra;
		int rc = shmc__resolve_in(v.ref, 0, &ra, &o);
		if (rc)
			return rc;
		if (ra != a)
			return SHMC_EARENA;
		uint64_t off = shmc__off(a, o);
		shmc__obj_incref(a, off);
		*w = off | 3;
		return 0;
	}
	uint64_t size = 0;
	uint32_t nrefs = 0;
	int rc = measure(a, v, 0, &size, &nrefs);
	if (rc)
		return rc;
	uint64_t off;
	if ((rc = shmc__alloc(a, sizeof(struct shmc__vblock) + size, &off)) != 0)
		return rc;
	struct shmc__vblock *b = (struct shmc__vblock *)(a->base + off);
	b->magic = SHMC__VBLOCK_MAGIC;
	b->nrefs = nrefs;
	b->len = size;
	unsigned char *end = emit(a, v, b->data);
	SHMC_ASSERT((uint64_t)(end - b->data) == size);
	*w = off;
	return 0;
}

/* Releasing --------------------------------------------------------------- */

/* Skip a length and that many bytes at C; false when they overrun it. */
static bool skip_text(struct shmc__vcursor *c)
{
	uint64_t x;
	if (!shmc__vcursor_len(c, &x) || x > (uint64_t)(c->end - c->p))
		return false;
	c->p += x;
	return true;
}

/* Call FN for each reference in the stream at C; false when malformed.
 * No allocation: this runs while reclaiming memory. */
static bool visit_refs(struct shmc__vcursor *c, int depth,
		       void (*fn)(void *ctx, uint64_t obj), void *ctx)
{
	if (depth > SHMC__MAX_DEPTH || c->p >= c->end)
		return false;
	unsigned t = *c->p++;
	uint64_t x;
	switch (t) {
	case SHMC__T_NONE:
	case SHMC__T_FALSE:
	case SHMC__T_TRUE:
		return true;
	case SHMC__T_INT:
	case SHMC__T_FLOAT:
		return shmc__vcursor_u64(c, &x);
	case SHMC__T_STR:
	case SHMC__T_BYTES:
	case SHMC__T_BYTEARRAY:
		return skip_text(c);
	case SHMC__T_OPAQUE:
		return skip_text(c) && skip_text(c);
	case SHMC__T_COMPLEX:
		return shmc__vcursor_u64(c, &x) && shmc__vcursor_u64(c, &x);
	case SHMC__T_BIGINT:
		if (!shmc__vcursor_u64(c, &x) || x / 2 > (uint64_t)(c->end - c->p) / 8)
			return false;
		c->p += 8 * (x / 2);
		return shmc__bigint_canonical(c->p - 8 * (x / 2), x / 2, x & 1);
	case SHMC__T_TUPLE:
	case SHMC__T_LIST:
	case SHMC__T_DICT:
	case SHMC__T_SET:
	case SHMC__T_FROZENSET:
		if (shmc__too_deep(depth)) /* never stored so deep */
			return false;
		if (!shmc__vcursor_u64(c, &x) || x > (uint64_t)(c->end - c->p))
			return false; /* each item takes at least a byte */
		if (t == SHMC__T_DICT)
			x *= 2;
		for (uint64_t i = 0; i < x; i++)
			if (!visit_refs(c, depth + 1, fn, ctx))
				return false;
		return true;
	case SHMC__T_REF:
		if (!shmc__vcursor_u64(c, &x))
			return false;
		if (fn)
			fn(ctx, x);
		return true;
	default:
		return false;
	}
}

bool shmc__vblock_visit(const shmc_arena_t *a, uint64_t off, uint64_t *size,
			void (*fn)(void *ctx, uint64_t obj), void *ctx)
{
	const struct shmc__vblock *b = shmc__vblock_at(a, off);
	if (b == NULL)
		return false;
	*size = sizeof(*b) + b->len;
	struct shmc__vcursor c = shmc__vblock_stream(b);
	return visit_refs(&c, 0, fn, ctx) && c.p == c.end;
}

static void decref_fn(void *ctx, uint64_t obj)
{
	shmc__obj_decref(ctx, obj);
}

void shmc__vblock_drop(shmc_arena_t *a, uint64_t off)
{
	const struct shmc__vblock *b = shmc__vblock_at(a, off);
	if (b == NULL)
		return;
	if (b->nrefs) {
		struct shmc__vcursor c = shmc__vblock_stream(b);
		visit_refs(&c, 0, decref_fn, a);
	}
	shmc__free(a, off);
}

void shmc__word_drop(shmc_arena_t *a, uint64_t w)
{
	if (shmc__w_is_block(w))
		shmc__vblock_drop(a, w);
	else if (shmc__w_is_ref(w))
		shmc__obj_decref(a, shmc__w_ref_off(w));
}
