/*
 * numeric.c -- Value and Array of C numbers: Python's manager.Value(code, x)
 * and manager.Array(code, seq), with the array module's typecodes.
 *
 * Layout. A Value's body holds its typecode and one element; an Array's
 * body holds its typecode, its length and the offset of a block of `len`
 * elements, allocated at creation and never replaced. Each element has its
 * C type's natural size and alignment:
 *
 *   b B  1 byte      h H  2      i I  4      l L  sizeof(long)      q Q  8
 *   f    float       d    double
 *
 * and is read and written only with C11 atomics of that size, which are
 * always lock-free (asserted below): a load, a store, or a compare-and-swap
 * loop for read-modify-write (add, compare-and-set). Floats are added and
 * compared through their bit patterns, in a compare-and-swap loop. Every
 * change is therefore one atomic store or compare-and-swap: a process
 * killed at any instruction leaves each element as it was or as it should
 * be, and there is no lock to recover and nothing to repair.
 *
 * Values travel as shmc ints and floats. Integers must fit the element (a
 * value or a sum that does not fails with -ERANGE and changes nothing, like
 * Python's OverflowError); 64-bit unsigned elements hold 0 .. INT64_MAX,
 * the range of a shmc int. Floats are refused by integer elements
 * (SHMC_ETYPE, Python's TypeError); a double too large for a float element
 * becomes an infinity, as in Python.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "memory/alloc.h"
#include "values/repr.h"
#include "values/value.h"
#include "sync/sync.h"

_Static_assert(__atomic_always_lock_free(1, 0) && __atomic_always_lock_free(2, 0),
	       "8- and 16-bit atomics must be lock-free");

typedef _Atomic uint8_t atomic_u8;
typedef _Atomic uint16_t atomic_u16;

struct tinfo {
	char code;
	uint8_t size;
	bool is_signed, is_float;
	int64_t min, max;
};

static const struct tinfo types[] = {
	{'b', 1, true, false, INT8_MIN, INT8_MAX},
	{'B', 1, false, false, 0, UINT8_MAX},
	{'h', 2, true, false, INT16_MIN, INT16_MAX},
	{'H', 2, false, false, 0, UINT16_MAX},
	{'i', 4, true, false, INT32_MIN, INT32_MAX},
	{'I', 4, false, false, 0, UINT32_MAX},
	{'l', sizeof(long), true, false, LONG_MIN, LONG_MAX},
	{'L', sizeof(long), false, false, 0,
	 sizeof(long) == 8 ? INT64_MAX : (int64_t)UINT32_MAX},
	{'q', 8, true, false, INT64_MIN, INT64_MAX},
	{'Q', 8, false, false, 0, INT64_MAX},
	{'f', 4, true, true, 0, 0},
	{'d', 8, true, true, 0, 0},
};

static const struct tinfo *tinfo_of(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].code == code)
			return &types[i];
	return NULL;
}

/* Elements ------------------------------------------------------------------ */

static uint64_t elem_load(const struct tinfo *t, void *p)
{
	switch (t->size) {
	case 1: return atomic_load_explicit((atomic_u8 *)p, memory_order_acquire);
	case 2: return atomic_load_explicit((atomic_u16 *)p, memory_order_acquire);
	case 4: return atomic_load_explicit((atomic_u32 *)p, memory_order_acquire);
	default: return atomic_load_explicit((atomic_u64 *)p, memory_order_acquire);
	}
}

/* Release: what the writer did before happens before what a reader of the
 * new value does after (acquire loads above). */
static void elem_store(const struct tinfo *t, void *p, uint64_t bits)
{
	switch (t->size) {
	case 1: atomic_store_explicit((atomic_u8 *)p, (uint8_t)bits, memory_order_release); break;
	case 2: atomic_store_explicit((atomic_u16 *)p, (uint16_t)bits, memory_order_release); break;
	case 4: atomic_store_explicit((atomic_u32 *)p, (uint32_t)bits, memory_order_release); break;
	default: atomic_store_explicit((atomic_u64 *)p, bits, memory_order_release); break;
	}
}

/* Compare-and-swap; on failure *old receives the current bits. */
static bool elem_cas(const struct tinfo *t, void *p, uint64_t *old, uint64_t bits)
{
	bool ok;
	switch (t->size) {
	case 1: {
		uint8_t o = (uint8_t)*old;
		ok = atomic_compare_exchange_strong_explicit((atomic_u8 *)p, &o, (uint8_t)bits,
			memory_order_acq_rel, memory_order_acquire);
		*old = o;
		return ok;
	}
	case 2: {
		uint16_t o = (uint16_t)*old;
		ok = atomic_compare_exchange_strong_explicit((atomic_u16 *)p, &o, (uint16_t)bits,
			memory_order_acq_rel, memory_order_acquire);
		*old = o;
		return ok;
	}
	case 4: {
		uint32_t o = (uint32_t)*old;
		ok = atomic_compare_exchange_strong_explicit((atomic_u32 *)p, &o, (uint32_t)bits,
			memory_order_acq_rel, memory_order_acquire);
		*old = o;
		return ok;
	}
	default:
		return atomic_compare_exchange_strong_explicit((atomic_u64 *)p, old, bits,
			memory_order_acq_rel, memory_order_acquire);
	}
}

/* The value that BITS hold. */
static shmc_value_t decode(const struct tinfo *t, uint64_t bits)
{
	if (t->is_float) {
		if (t->size == 4) {
			float f;
			uint32_t u = (uint32_t)bits;
			memcpy(&f, &u, 4);
			return shmc_float(f);
		}
		double d;
		memcpy(&d, &bits, 8);
		return shmc_float(d);
	}
	if (t->is_signed && t->size < 8) {
		unsigned shift = 64 - 8 * t->size;
		return shmc_int((int64_t)(bits << shift) >> shift);
	}
	return shmc_int((int64_t)bits);
}

static uint64_t float_bits(const struct tinfo *t, double d)
{
	if (t->size == 4) {
		float f;
		if (isfinite(d) && fabs(d) > FLT_MAX)
			f = d > 0 ? INFINITY : -INFINITY;
		else
			f = (float)d;
		uint32_t u;
		memcpy(&u, &f, 4);
		return u;
	}
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static int int_bits(const struct tinfo *t, int64_t i, uint64_t *bits)
{
	if (i < t->min || i > t->max)
		return -ERANGE;
	uint64_t mask = t->size == 8 ? ~0ull : (1ull << (8 * t->size)) - 1;
	*bits = (uint64_t)i & mask;
	return 0;
}

/* The bits that hold V. @return 0, SHMC_ETYPE, -ERANGE */
static int encode(const struct tinfo *t, shmc_value_t v, uint64_t *bits)
{
	int64_t i;
	switch (v.type) {
	case SHMC_BOOL:
		i = v.b;
		break;
	case SHMC_INT:
		i = v.i;
		break;
	case SHMC_FLOAT:
		if (!t->is_float)
			return SHMC_ETYPE;
		*bits = float_bits(t, v.f);
		return 0;
	case SHMC_BIGINT: { /* past int64: no integer element holds it */
		double f;
		int rc = t->is_float ? shmc__bigint_to_double(v.big->limb, v.big->n,
							      v.big->neg, &f)
				     : -ERANGE;
		if (rc == 0)
			*bits = float_bits(t, f);
		return rc;
	}
	case SHMC_ERROR:
		return (int)v.i;
	default:
		return SHMC_ETYPE;
	}
	if (t->is_float) {
		*bits = float_bits(t, (double)i);
		return 0;
	}
	return int_bits(t, i, bits);
}

/* Atomically *p += DELTA; *result gets the new value. */
static int elem_add(const struct tinfo *t, void *p, shmc_value_t delta, shmc_value_t *result)
{
	if (delta.type == SHMC_ERROR)
		return (int)delta.i;
	if (delta.type == SHMC_BIGINT) { /* as a double, or out of range */
		double f;
		int rc = t->is_float ? shmc__bigint_to_double(delta.big->limb, delta.big->n,
							      delta.big->neg, &f)
				     : -ERANGE;
		if (rc)
			return rc;
		delta = shmc_float(f);
	}
	if (delta.type != SHMC_INT && delta.type != SHMC_BOOL &&
	    !(delta.type == SHMC_FLOAT && t->is_float))
		return SHMC_ETYPE;
	uint64_t old = elem_load(t, p), bits;
	for (;;) {
		shmc_value_t cur = decode(t, old), next;
		if (t->is_float) {
			double d = delta.type == SHMC_FLOAT ? delta.f
				 : delta.type == SHMC_INT ? (double)delta.i : delta.b;
			next = shmc_float(cur.f + d);
			bits = float_bits(t, next.f);
			next = decode(t, bits); /* rounded to the element */
		} else {
			int64_t d = delta.type == SHMC_INT ? delta.i : delta.b, sum;
			if (__builtin_add_overflow(cur.i, d, &sum))
				return -ERANGE;
			int rc = int_bits(t, sum, &bits);
			if (rc)
				return rc;
			next = shmc_int(sum);
		}
		if (elem_cas(t, p, &old, bits)) {
			if (result)
				*result = next;
			return 0;
		}
	}
}

/* Atomically: if *p == EXPECTED, *p = DESIRED. @return 1, 0 or an error */
static int elem_cmpset(const struct tinfo *t, void *p, shmc_value_t expected,
		       shmc_value_t desired)
{
	uint64_t bits = 0; /* set by encode(); -O3 cannot see it */
	int rc = encode(t, desired, &bits);
	if (rc)
		return rc;
	if (expected.type == SHMC_ERROR)
		return (int)expected.i;
	uint64_t old = elem_load(t, p);
	for (;;) {
		/* Python's ==: 1 == 1.0 == True; nan equals nothing. */
		if (!shmc_value_eq(decode(t, old), expected))
			return 0;
		if (elem_cas(t, p, &old, bits))
			return 1;
	}
}

static void put_elem(struct shmc__sbuf *sb, const struct tinfo *t, uint64_t bits)
{
	shmc_value_t v = decode(t, bits);
	if (v.type == SHMC_FLOAT) {
		shmc__repr_float(sb, v.f);
	} else {
		char buf[24];
		snprintf(buf, sizeof(buf), "%lld", (long long)v.i);
		shmc__sb_puts(sb, buf);
	}
}

/* Value ------------------------------------------------------------------- */

struct num_body {
	char code;
	uint8_t pad_[7];
	union {
		atomic_u8 u8;
		atomic_u16 u16;
		atomic_u32 u32;
		atomic_u64 u64;
	} elem;
};

static inline struct num_body *num_body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct num_body);
}

static void nothing_to_destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	(void)o;
}

static int nothing_to_repair(shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	(void)o; /* the header lock is never taken */
	return 0;
}

static void num_walk(struct shmc__walk *w, struct shmc__obj *o)
{
	if (tinfo_of(num_body(o)->code) == NULL)
		shmc__walk_error(w, "value %#llx: typecode %#x",
				 (unsigned long long)shmc__off(shmc__walk_arena(w), o),
				 (unsigned)(unsigned char)num_body(o)->code);
}

/* The Value behind H, and its type. */
static int num_resolve(shmc_obj_t *h, struct num_body **b, const struct tinfo **t)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_CVALUE, &o);
	if (rc)
		return rc;
	*b = num_body(o);
	if ((*t = tinfo_of((*b)->code)) == NULL)
		return SHMC_ECORRUPT;
	return 0;
}

static int num_str(shmc_obj_t *h, char **out)
{
	struct num_body *b;
	const struct tinfo *t;
	int rc = num_resolve(h, &b, &t);
	if (rc)
		return rc;
	struct shmc__sbuf sb = {0};
	char head[16];
	snprintf(head, sizeof(head), "Value('%c', ", t->code);
	shmc__sb_puts(&sb, head);
	put_elem(&sb, t, elem_load(t, &b->elem));
	shmc__sb_putc(&sb, ')');
	return shmc__sb_finish(&sb, out);
}

const struct shmc__kind shmc__cvalue_kind = {
	.typeid = "Value",
	.proxy = "ValueProxy",
	.body_size = sizeof(struct num_body),
	.destroy = nothing_to_destroy,
	.repair = nothing_to_repair,
	.str = num_str,
	.walk = num_walk,
};

int shmc_cvalue_new(shmc_arena_t *a, char typecode, shmc_value_t v, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	const struct tinfo *t = tinfo_of(typecode);
	if (t == NULL)
		return -EINVAL;
	uint64_t bits = 0; /* set by encode(); -O3 cannot see it */
	int rc = encode(t, v, &bits);
	if (rc)
		return rc;
	shmc_obj_t *h;
	if ((rc = shmc__obj_create(a, SHMC_KIND_CVALUE, &h)) != 0)
		return rc;
	struct num_body *b = num_body(shmc__obj_of(h));
	b->code = typecode;
	elem_store(t, &b->elem, bits); /* release: before the handle is shared */
	*out = h;
	return 0;
}

int shmc_cvalue_get(shmc_obj_t *h, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	struct num_body *b;
	const struct tinfo *t;
	int rc = num_resolve(h, &b, &t);
	if (rc)
		return rc;
	*out = decode(t, elem_load(t, &b->elem));
	return 0;
}

int shmc_cvalue_set(shmc_obj_t *h, shmc_value_t v)
{
	struct num_body *b;
	const struct tinfo *t;
	uint64_t bits = 0; /* set by encode(); -O3 cannot see it */
	int rc = num_resolve(h, &b, &t);
	if (rc || (rc = encode(t, v, &bits)) != 0)
		return rc;
	elem_store(t, &b->elem, bits);
	return 0;
}

int shmc_cvalue_add(shmc_obj_t *h, shmc_value_t delta, shmc_value_t *result)
{
	struct num_body *b;
	const struct tinfo *t;
	int rc = num_resolve(h, &b, &t);
	return rc ? rc : elem_add(t, &b->elem, delta, result);
}

int shmc_cvalue_cas(shmc_obj_t *h, shmc_value_t expected, shmc_value_t desired)
{
	struct num_body *b;
	const struct tinfo *t;
	int rc = num_resolve(h, &b, &t);
	return rc ? rc : elem_cmpset(t, &b->elem, expected, desired);
}

int shmc_cvalue_typecode(shmc_obj_t *h)
{
	struct num_body *b;
	const struct tinfo *t;
	int rc = num_resolve(h, &b, &t);
	return rc ? rc : t->code;
}

/* Array ------------------------------------------------------------------- */

struct array_body {
	char code;
	uint8_t pad_[7];
	uint64_t len;
	atomic_u64 data_off; /* 0 when len is 0 */
	uint64_t pad2_;
};

static inline struct array_body *array_body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct array_body);
}

/* The elements of B, or NULL (with len 0 that is fine). */
static unsigned char *array_data(shmc_arena_t *a, struct array_body *b,
				 const struct tinfo *t)
{
	uint64_t off = ld_acquire(&b->data_off);
	if (off == 0 || b->len > a->capacity / t->size)
		return NULL;
	return shmc__at(a, off, b->len * t->size, 16);
}

static int array_resolve(shmc_obj_t *h, struct array_body **b, const struct tinfo **t,
			 unsigned char **data)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_ARRAY, &o);
	if (rc)
		return rc;
	*b = array_body(o);
	if ((*t = tinfo_of((*b)->code)) == NULL)
		return SHMC_ECORRUPT;
	*data = array_data(shmc__handle_arena(h), *b, *t);
	if (*data == NULL && (*b)->len)
		return SHMC_ECORRUPT;
	return 0;
}

static void array_destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	uint64_t off = ld_relaxed(&array_body(o)->data_off);
	if (off)
		shmc__free(a, off);
}

static void array_walk(struct shmc__walk *w, struct shmc__obj *o)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	struct array_body *b = array_body(o);
	const struct tinfo *t = tinfo_of(b->code);
	uint64_t off = ld_acquire(&b->data_off);
	if (t == NULL || (b->len && array_data(a, b, t) == NULL) || (!b->len && off)) {
		shmc__walk_error(w, "array %#llx: typecode %#x, %llu elements at %#llx",
				 (unsigned long long)shmc__off(a, o),
				 (unsigned)(unsigned char)b->code,
				 (unsigned long long)b->len, (unsigned long long)off);
		return;
	}
	if (off)
		shmc__walk_block(w, off, b->len * t->size, "array elements");
}

static int array_str(shmc_obj_t *h, char **out)
{
	struct array_body *b;
	const struct tinfo *t;
	unsigned char *data;
	int rc = array_resolve(h, &b, &t, &data);
	if (rc)
		return rc;
	struct shmc__sbuf sb = {0};
	char head[16];
	snprintf(head, sizeof(head), "array('%c'", t->code);
	shmc__sb_puts(&sb, head);
	if (b->len) {
		shmc__sb_puts(&sb, ", [");
		for (uint64_t i = 0; i < b->len; i++) {
			if (i)
				shmc__sb_puts(&sb, ", ");
			put_elem(&sb, t, elem_load(t, data + i * t->size));
		}
		shmc__sb_putc(&sb, ']');
	}
	shmc__sb_putc(&sb, ')');
	return shmc__sb_finish(&sb, out);
}

const struct shmc__kind shmc__array_kind = {
	.typeid = "Array",
	.proxy = "ArrayProxy",
	.body_size = sizeof(struct array_body),
	.destroy = array_destroy,
	.repair = nothing_to_repair,
	.str = array_str,
	.walk = array_walk,
};

int shmc_array_new(shmc_arena_t *a, char typecode, shmc_value_t init, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	const struct tinfo *t = tinfo_of(typecode);
	if (t == NULL)
		return -EINVAL;
	uint64_t n;
	if (init.type == SHMC_INT) {
		if (init.i < 0)
			return -EINVAL;
		n = (uint64_t)init.i;
	} else if (init.type == SHMC_TUPLE || init.type == SHMC_LIST) {
		n = init.seq->len;
	} else {
		return init.type == SHMC_ERROR ? (int)init.i : SHMC_ETYPE;
	}
	if (n > (SHMC__MAX_BLOCK >> 4) / t->size)
		return SHMC_EFULL;
	uint64_t off = 0;
	int rc;
	if (n && (rc = shmc__alloc(a, n * t->size, &off)) != 0)
		return rc;
	unsigned char *data = (unsigned char *)a->base + off;
	if (n)
		memset(data, 0, n * t->size);
	for (uint64_t i = 0; i < n && init.type != SHMC_INT; i++) {
		uint64_t bits = 0; /* set by encode(); -O3 cannot see it */
		if ((rc = encode(t, init.seq->items[i], &bits)) != 0) {
			shmc__free(a, off);
			return rc;
		}
		elem_store(t, data + i * t->size, bits);
	}
	shmc_obj_t *h;
	if ((rc = shmc__obj_create(a, SHMC_KIND_ARRAY, &h)) != 0) {
		if (off)
			shmc__free(a, off);
		return rc;
	}
	struct array_body *b = array_body(shmc__obj_of(h));
	b->code = typecode;
	b->len = n;
	st_release(&b->data_off, off);
	*out = h;
	return 0;
}

int64_t shmc_array_len(shmc_obj_t *h)
{
	struct array_body *b;
	const struct tinfo *t;
	unsigned char *data;
	int rc = array_resolve(h, &b, &t, &data);
	return rc ? rc : (int64_t)b->len;
}

/* The element at Python index I. */
static int elem_at(shmc_obj_t *h, int64_t i, const struct tinfo **t, void **p)
{
	struct array_body *b;
	unsigned char *data;
	int rc = array_resolve(h, &b, t, &data);
	if (rc)
		return rc;
	if (i < 0)
		i += (int64_t)b->len;
	if (i < 0 || (uint64_t)i >= b->len)
		return SHMC_EINDEX;
	*p = data + (uint64_t)i * (*t)->size;
	return 0;
}

int shmc_array_get(shmc_obj_t *h, int64_t i, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	const struct tinfo *t;
	void *p;
	int rc = elem_at(h, i, &t, &p);
	if (rc)
		return rc;
	*out = decode(t, elem_load(t, p));
	return 0;
}

int shmc_array_set(shmc_obj_t *h, int64_t i, shmc_value_t v)
{
	const struct tinfo *t;
	void *p;
	uint64_t bits = 0; /* set by encode(); -O3 cannot see it */
	int rc = elem_at(h, i, &t, &p);
	if (rc || (rc = encode(t, v, &bits)) != 0)
		return rc;
	elem_store(t, p, bits);
	return 0;
}

int shmc_array_add(shmc_obj_t *h, int64_t i, shmc_value_t delta, shmc_value_t *result)
{
	const struct tinfo *t;
	void *p;
	int rc = elem_at(h, i, &t, &p);
	return rc ? rc : elem_add(t, p, delta, result);
}

int shmc_array_cas(shmc_obj_t *h, int64_t i, shmc_value_t expected, shmc_value_t desired)
{
	const struct tinfo *t;
	void *p;
	int rc = elem_at(h, i, &t, &p);
	return rc ? rc : elem_cmpset(t, p, expected, desired);
}

int shmc_array_copy(shmc_obj_t *h, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	struct array_body *b;
	const struct tinfo *t;
	unsigned char *data;
	int rc = array_resolve(h, &b, &t, &data);
	if (rc)
		return rc;
	shmc_value_t l;
	if ((rc = shmc__seq_new(SHMC_LIST, b->len, &l)) != 0)
		return rc;
	for (uint64_t i = 0; i < b->len; i++)
		shmc__seq_push(&l, decode(t, elem_load(t, data + i * t->size)));
	*out = l;
	return 0;
}

int shmc_array_typecode(shmc_obj_t *h)
{
	struct array_body *b;
	const struct tinfo *t;
	unsigned char *data;
	int rc = array_resolve(h, &b, &t, &data);
	return rc ? rc : t->code;
}
