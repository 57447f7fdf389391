/*
 * venc.c -- plain values serialised into immutable arena blocks.
 *
 * A block is a 16-byte header {magic, number of references, stream length}
 * followed by a stream of items. An item is a type byte and its payload:
 *
 *   NONE FALSE TRUE           -
 *   INT FLOAT                 8 bytes
 *   STR BYTES                 length (8 bytes), then the bytes
 *   TUPLE LIST                count (8 bytes), then the items
 *   DICT                      count (8 bytes), then key, value, key, value...
 *   REF                       offset of a managed object (8 bytes)
 *
 * The whole value goes in one block: one allocation to store it, one
 * retirement to replace it, one pass to copy it out. The block holds one
 * reference to each managed object it names, dropped when it is freed.
 *
 * Blocks are read by processes that must not trust them (a corrupt or
 * hostile arena): the decoder checks every length against the block and
 * bounds nesting, and reports SHMC_ECORRUPT instead of reading outside.
 */
#include <errno.h>
#include <string.h>

#include "memory/alloc.h"
#include "base/heap.h"
#include "objects/obj.h"
#include "objects/walk.h"
#include "values/venc.h"

#define vblock shmc__vblock
#define VBLOCK_MAGIC SHMC__VBLOCK_MAGIC
enum {
	T_NONE = 1, T_FALSE, T_TRUE, T_INT, T_FLOAT, T_STR = SHMC__T_STR, T_BYTES,
	T_TUPLE, T_LIST, T_DICT, T_REF
};

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
		*size += 9 + v.len;
		return 0;
	case SHMC_BYTES:
		if (v.len && v.str == NULL)
			return -EINVAL;
		*size += 9 + v.len;
		return 0;
	case SHMC_TUPLE:
	case SHMC_LIST:
		*size += 9;
		for (size_t i = 0; i < v.seq->len; i++) {
			shmc_value_t item = v.seq->items[i];
			if (item.type <= SHMC_FLOAT) { /* scalars, without a call */
				*size += item.type >= SHMC_INT ? 9 : 1;
				continue;
			}
			int rc = measure(a, item, depth + 1, size, nrefs);
			if (rc)
				return rc;
		}
		return 0;
	case SHMC_DICT:
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
		int rc = shmc__resolve(v.ref, 0, &o);
		if (rc)
			return rc;
		if (v.ref->arena != a)
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
		*p++ = T_NONE;
		return p;
	case SHMC_BOOL:
		*p++ = v.b ? T_TRUE : T_FALSE;
		return p;
	case SHMC_INT:
		*p++ = T_INT;
		return put_u64(p, (uint64_t)v.i);
	case SHMC_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &v.f, 8);
		*p++ = T_FLOAT;
		return put_u64(p, bits);
	}
	case SHMC_STR:
	case SHMC_BYTES:
		*p++ = v.type == SHMC_STR ? T_STR : T_BYTES;
		p = put_u64(p, v.len);
		if (v.len)
			memcpy(p, v.str, v.len);
		return p + v.len;
	case SHMC_TUPLE:
	case SHMC_LIST:
		*p++ = v.type == SHMC_TUPLE ? T_TUPLE : T_LIST;
		p = put_u64(p, v.seq->len);
		for (size_t i = 0; i < v.seq->len; i++) {
			shmc_value_t item = v.seq->items[i];
			if (item.type == SHMC_INT || item.type == SHMC_FLOAT) {
				*p++ = item.type == SHMC_INT ? T_INT : T_FLOAT;
				p = put_u64(p, (uint64_t)item.i); /* the 8 bytes */
				continue;
			}
			p = emit(a, item, p);
		}
		return p;
	case SHMC_DICT:
		*p++ = T_DICT;
		p = put_u64(p, v.map->len);
		for (size_t i = 0; i < v.map->len; i++) {
			p = emit(a, v.map->e[i].key, p);
			p = emit(a, v.map->e[i].val, p);
		}
		return p;
	case SHMC_REF:
		shmc__obj_incref(a, v.ref->off);
		*p++ = T_REF;
		return put_u64(p, v.ref->off);
	default:
		SHMC_ASSERT(!"emit: unmeasured type");
	}
}

int shmc__word_store_slow(shmc_arena_t *a, shmc_value_t v, uint64_t *w)
{
	if (v.type == SHMC_REF) { /* a reference needs no block */
		struct shmc__obj *o;
		int rc = shmc__resolve(v.ref, 0, &o);
		if (rc)
			return rc;
		if (v.ref->arena != a)
			return SHMC_EARENA;
		shmc__obj_incref(a, v.ref->off);
		*w = v.ref->off | 3;
		return 0;
	}
	uint64_t size = 0;
	uint32_t nrefs = 0;
	int rc = measure(a, v, 0, &size, &nrefs);
	if (rc)
		return rc;
	uint64_t off;
	if ((rc = shmc__alloc(a, sizeof(struct vblock) + size, &off)) != 0)
		return rc;
	struct vblock *b = (struct vblock *)(a->base + off);
	b->magic = VBLOCK_MAGIC;
	b->nrefs = nrefs;
	b->len = size;
	unsigned char *end = emit(a, v, b->data);
	SHMC_ASSERT((uint64_t)(end - b->data) == size);
	*w = off;
	return 0;
}

/* Decoding ---------------------------------------------------------------- */

struct cursor {
	const unsigned char *p, *end;
};

static bool get_u64(struct cursor *c, uint64_t *x)
{
	if (c->end - c->p < 8)
		return false;
	memcpy(x, c->p, 8);
	c->p += 8;
	return true;
}

static const struct vblock *block_at(shmc_arena_t *a, uint64_t off)
{
	const struct vblock *b = shmc__at(a, off, sizeof(struct vblock), 16);
	if (b == NULL || b->magic != VBLOCK_MAGIC ||
	    b->len > a->capacity - off - sizeof(struct vblock))
		return NULL;
	return b;
}

uint64_t shmc__word_block_bytes(const shmc_arena_t *a, uint64_t w)
{
	if (!shmc__w_is_block(w))
		return 0;
	const struct vblock *b = block_at((shmc_arena_t *)a, w);
	return b ? sizeof(*b) + b->len : 0;
}

/* The decoder: one function per kind of item, each reading only what it
 * validated (every length is checked against what is left of the block),
 * dispatched by the item's type byte. */
static int decode(shmc_arena_t *a, struct cursor *c, int depth, bool stubs,
		  shmc_value_t *out);

static int decode_number(struct cursor *c, unsigned t, shmc_value_t *out)
{
	uint64_t x;
	if (!get_u64(c, &x))
		return SHMC_ECORRUPT;
	if (t == T_INT) {
		*out = shmc_int((int64_t)x);
	} else {
		double f;
		memcpy(&f, &x, 8);
		*out = shmc_float(f);
	}
	return 0;
}

static int decode_text(struct cursor *c, unsigned t, shmc_value_t *out)
{
	uint64_t x;
	if (!get_u64(c, &x) || x > (uint64_t)(c->end - c->p) || x > SHMC_MAX_LEN)
		return SHMC_ECORRUPT;
	int rc = shmc__str_copy(t == T_STR ? SHMC_STR : SHMC_BYTES, (const char *)c->p, x, out);
	c->p += x;
	return rc;
}

static int decode_seq(shmc_arena_t *a, struct cursor *c, unsigned t, int depth,
		      bool stubs, shmc_value_t *out)
{
	uint64_t x;
	/* Each item takes at least one byte: bounds the allocation. */
	if (!get_u64(c, &x) || x > (uint64_t)(c->end - c->p))
		return SHMC_ECORRUPT;
	shmc_value_t s;
	int rc = shmc__seq_new(t == T_TUPLE ? SHMC_TUPLE : SHMC_LIST, x, &s);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < x; i++) {
		shmc_value_t item;
		unsigned it = *c->p; /* c->p < c->end: x bytes remain */
		if ((it == T_INT || it == T_FLOAT) && c->end - c->p >= 9) {
			/* Numbers, the usual items, without a call. */
			uint64_t bits;
			memcpy(&bits, c->p + 1, 8);
			c->p += 9;
			item = it == T_INT ? shmc_int((int64_t)bits) : shmc_int(0);
			if (it == T_FLOAT) {
				item.type = SHMC_FLOAT;
				memcpy(&item.f, &bits, 8);
			}
		} else if ((rc = decode(a, c, depth + 1, stubs, &item))) {
			shmc_value_free(&s);
			return rc;
		}
		shmc__seq_push(&s, item);
	}
	*out = s;
	return 0;
}

static int decode_dict(shmc_arena_t *a, struct cursor *c, int depth, bool stubs,
		       shmc_value_t *out)
{
	uint64_t x;
	if (!get_u64(c, &x) || x > (uint64_t)(c->end - c->p) / 2)
		return SHMC_ECORRUPT;
	shmc_value_t d;
	int rc = shmc__pmap_new(&d);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < x; i++) {
		shmc_value_t k, v;
		if ((rc = decode(a, c, depth + 1, stubs, &k)) == 0 &&
		    (rc = decode(a, c, depth + 1, stubs, &v)) != 0)
			shmc_value_free(&k);
		if (rc == 0)
			rc = shmc_pdict_set(&d, k, v);
		if (rc) {
			shmc_value_free(&d);
			return rc == SHMC_EUNHASHABLE ? SHMC_ECORRUPT : rc;
		}
	}
	*out = d;
	return 0;
}

/* A reference: a handle holding a reference of its own, or (views) a stub
 * that names the object without holding it. */
static int decode_ref(shmc_arena_t *a, struct cursor *c, bool stubs, shmc_value_t *out)
{
	uint64_t x;
	shmc_obj_t *h;
	if (!get_u64(c, &x))
		return SHMC_ECORRUPT;
	int rc = stubs ? shmc__obj_stub(a, x, &h) : shmc__obj_wrap(a, x, &h);
	if (rc)
		return rc;
	out->type = SHMC_REF;
	out->owned = 1;
	out->ref = h;
	return 0;
}

static int decode(shmc_arena_t *a, struct cursor *c, int depth, bool stubs,
		  shmc_value_t *out)
{
	if (depth > SHMC__MAX_DEPTH || c->p >= c->end)
		return SHMC_ECORRUPT;
	unsigned t = *c->p++;
	switch (t) {
	case T_NONE:
		*out = shmc_none();
		return 0;
	case T_FALSE:
	case T_TRUE:
		*out = shmc_bool(t == T_TRUE);
		return 0;
	case T_INT:
	case T_FLOAT:
		return decode_number(c, t, out);
	case T_STR:
	case T_BYTES:
		return decode_text(c, t, out);
	case T_TUPLE:
	case T_LIST:
		return decode_seq(a, c, t, depth, stubs, out);
	case T_DICT:
		return decode_dict(a, c, depth, stubs, out);
	case T_REF:
		return decode_ref(a, c, stubs, out);
	default:
		return SHMC_ECORRUPT;
	}
}

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
	if (shmc__w_is_ref(w)) {
		shmc_obj_t *h;
		int rc = stubs ? shmc__obj_stub(a, shmc__w_ref_off(w), &h)
			       : shmc__obj_wrap(a, shmc__w_ref_off(w), &h);
		if (rc)
			return rc;
		out->type = SHMC_REF;
		out->owned = 1;
		out->ref = h;
		return 0;
	}
	if (!shmc__w_is_block(w))
		return SHMC_ECORRUPT;
	const struct vblock *b = block_at(a, w);
	if (b == NULL)
		return SHMC_ECORRUPT;
	struct cursor c = {b->data, b->data + b->len};
	shmc_value_t v;
	int rc = decode(a, &c, 0, stubs, &v);
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

/* Equality without decoding --------------------------------------------- */

/* The stream is walked here; every rule of Python's == is value.c's
 * (shmc_value_eq and the shape and identity helpers beside it), asked about
 * each item in turn: numbers and None as immediates, text as a borrowed
 * view where it lies, sequences by shape then item by item, dicts (order-
 * insensitive) decoded as stubs and compared whole. */

/* Compare the item at C with V; on return C is past the item (or the walk
 * stopped early and the result is false). */
static bool item_eq(shmc_arena_t *a, struct cursor *c, shmc_value_t v, int depth)
{
	if (depth > SHMC__MAX_DEPTH || c->p >= c->end)
		return false;
	unsigned t = *c->p;
	uint64_t x;
	switch (t) {
	case T_NONE:
		c->p++;
		return shmc_value_eq(shmc_none(), v);
	case T_FALSE:
	case T_TRUE:
	case T_INT:
	case T_FLOAT: {
		shmc_value_t mine;
		c->p++;
		if (t == T_INT || t == T_FLOAT) {
			if (!get_u64(c, &x))
				return false;
			if (t == T_INT) {
				mine = shmc_int((int64_t)x);
			} else {
				double f;
				memcpy(&f, &x, 8);
				mine = shmc_float(f);
			}
		} else {
			mine = shmc_bool(t == T_TRUE);
		}
		return shmc_value_eq(mine, v);
	}
	case T_STR:
	case T_BYTES:
		c->p++;
		if (!get_u64(c, &x) || x > (uint64_t)(c->end - c->p))
			return false;
		if (x > SHMC_MAX_LEN)
			return false;
		c->p += x;
		/* A borrowed view of the text where it lies: no copy. */
		shmc_value_t text = {t == T_STR ? SHMC_STR : SHMC_BYTES, 0, 0, (uint32_t)x,
				     {.str = (const char *)c->p - x}};
		return shmc_value_eq(text, v);
	case T_TUPLE:
	case T_LIST:
		c->p++;
		if (!get_u64(c, &x))
			return false;
		if (!shmc__value_seq_shape_eq(t == T_TUPLE ? SHMC_TUPLE : SHMC_LIST, x, v))
			return false;
		for (uint64_t i = 0; i < x; i++)
			if (!item_eq(a, c, v.seq->items[i], depth + 1))
				return false;
		return true;
	case T_DICT: {
		/* Order-insensitive: decode this item and compare. */
		shmc_value_t mine;
		/* Stubs: comparing must not take references (nor write). */
		if (v.type != SHMC_DICT || decode(a, c, depth, true, &mine) != 0)
			return false;
		bool eq = shmc_value_eq(mine, v);
		shmc_value_free(&mine);
		return eq;
	}
	case T_REF:
		c->p++;
		if (!get_u64(c, &x))
			return false;
		return shmc__value_is_ref_to(v, x);
	default:
		return false;
	}
}

bool shmc__word_eq(shmc_arena_t *a, uint64_t w, shmc_value_t v)
{
	uint64_t imm = shmc__word_immediate(v);
	if (imm && imm == w)
		return true;
	if (shmc__w_is_int(w))
		return shmc_value_eq(shmc_int(shmc__w_int(w)), v);
	if (w == SHMC__W_TRUE || w == SHMC__W_FALSE)
		return shmc_value_eq(shmc_bool(w == SHMC__W_TRUE), v);
	if (w == SHMC__W_NONE)
		return shmc_value_eq(shmc_none(), v);
	if (shmc__w_is_ref(w))
		return shmc__value_is_ref_to(v, shmc__w_ref_off(w));
	if (!shmc__w_is_block(w))
		return false;
	const struct vblock *b = block_at(a, w);
	if (b == NULL)
		return false;
	struct cursor c = {b->data, b->data + b->len};
	return item_eq(a, &c, v, 0) && c.p == c.end;
}

/* Releasing --------------------------------------------------------------- */

/* Call FN for each reference in the stream at C; false when malformed.
 * No allocation: this runs while reclaiming memory. */
static bool visit_refs(struct cursor *c, int depth,
		       void (*fn)(void *ctx, uint64_t obj), void *ctx)
{
	if (depth > SHMC__MAX_DEPTH || c->p >= c->end)
		return false;
	unsigned t = *c->p++;
	uint64_t x;
	switch (t) {
	case T_NONE:
	case T_FALSE:
	case T_TRUE:
		return true;
	case T_INT:
	case T_FLOAT:
		return get_u64(c, &x);
	case T_STR:
	case T_BYTES:
		if (!get_u64(c, &x) || x > (uint64_t)(c->end - c->p))
			return false;
		c->p += x;
		return true;
	case T_TUPLE:
	case T_LIST:
	case T_DICT:
		if (!get_u64(c, &x) || x > (uint64_t)(c->end - c->p))
			return false; /* each item takes at least a byte */
		if (t == T_DICT)
			x *= 2;
		for (uint64_t i = 0; i < x; i++)
			if (!visit_refs(c, depth + 1, fn, ctx))
				return false;
		return true;
	case T_REF:
		if (!get_u64(c, &x))
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
	const struct vblock *b = block_at((shmc_arena_t *)a, off);
	if (b == NULL)
		return false;
	*size = sizeof(*b) + b->len;
	struct cursor c = {b->data, b->data + b->len};
	return visit_refs(&c, 0, fn, ctx) && c.p == c.end;
}

static void decref_fn(void *ctx, uint64_t obj)
{
	shmc__obj_decref(ctx, obj);
}

void shmc__vblock_drop(shmc_arena_t *a, uint64_t off)
{
	const struct vblock *b = block_at(a, off);
	if (b == NULL)
		return;
	if (b->nrefs) {
		struct cursor c = {b->data, b->data + b->len};
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
