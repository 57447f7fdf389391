/*
 * value.c -- private values: builders, ownership and hashing (equality,
 * shared with the arena encoding, is veq.c's).
 *
 * A value either owns its memory (owned != 0: it came from shmc or from a
 * builder) or borrows it (a view made by shmc_str(), shmc_bytes(),
 * shmc_ref()). Containers own their items. Everything owned comes from the
 * private heap (heap.c).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "base/heap.h"
#include "base/util.h"
#include "objects/obj.h"
#include "values/value.h"

shmc_value_t shmc_str(const char *s)
{
	return shmc_strn(s, s ? strlen(s) : 0);
}

int shmc__str_copy(shmc_type_t type, const char *p, size_t n, shmc_value_t *out)
{
	if (n > SHMC_MAX_LEN)
		return -EOVERFLOW;
	char *c = shmc__heap_alloc(n + 1);
	if (c == NULL)
		return -ENOMEM;
	if (n)
		memcpy(c, p, n);
	c[n] = '\0';
	out->type = type;
	out->owned = 1;
	out->str = c;
	out->len = (uint32_t)n;
	return 0;
}

int shmc__seq_new(shmc_type_t type, size_t cap, shmc_value_t *out)
{
	if (cap > (SIZE_MAX - sizeof(struct shmc_seq)) / sizeof(shmc_value_t))
		return -ENOMEM;
	struct shmc_seq *s = shmc__heap_alloc(sizeof(*s) + cap * sizeof(shmc_value_t));
	if (s == NULL)
		return -ENOMEM;
	s->len = 0;
	s->cap = cap;
	out->type = type;
	out->owned = 1;
	out->seq = s;
	return 0;
}

void shmc__seq_push(shmc_value_t *seq, shmc_value_t item)
{
	SHMC_ASSERT(seq->seq->len < seq->seq->cap);
	seq->seq->items[seq->seq->len++] = item;
}

int shmc__pmap_new(shmc_value_t *out)
{
	struct shmc_pmap *m = shmc__heap_alloc(sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	out->type = SHMC_DICT;
	out->owned = 1;
	out->map = m;
	return 0;
}

void shmc_value_free(shmc_value_t *v)
{
	if (v == NULL)
		return;
	if (v->owned) {
		switch (v->type) {
		case SHMC_STR:
		case SHMC_BYTES:
		case SHMC_BYTEARRAY:
			shmc__heap_free((void *)v->str);
			break;
		case SHMC_BIGINT:
		case SHMC_COMPLEX:
		case SHMC_OPAQUE:
			shmc__heap_free(v->big); /* one block each */
			break;
		case SHMC_SET:
		case SHMC_FROZENSET:
			shmc__pset_free(v->set);
			break;
		case SHMC_TUPLE:
		case SHMC_LIST:
			for (size_t i = 0; i < v->seq->len; i++)
				if (v->seq->items[i].owned) /* scalars own nothing */
					shmc_value_free(&v->seq->items[i]);
			shmc__heap_free(v->seq);
			break;
		case SHMC_DICT:
			for (size_t i = 0; i < v->map->len; i++) {
				shmc_value_free(&v->map->e[i].key);
				shmc_value_free(&v->map->e[i].val);
			}
			shmc__heap_free(v->map->e);
			shmc__heap_free(v->map->index);
			shmc__heap_free(v->map);
			break;
		case SHMC_REF:
			shmc_obj_release(v->ref);
			break;
		default:
			break;
		}
	}
	*v = shmc_none();
}

static int copy_depth(shmc_value_t v, int depth, shmc_value_t *out)
{
	shmc_value_t c;
	int rc = 0;
	switch (v.type) {
	case SHMC_STR:
	case SHMC_BYTES:
	case SHMC_BYTEARRAY:
		if (v.len && v.str == NULL) /* a view of nothing */
			return -EINVAL;
		rc = shmc__str_copy(v.type, v.str, v.len, &c);
		break;
	case SHMC_BIGINT:
		rc = shmc__bigint_make(v.big->limb, v.big->n, v.big->neg, &c);
		break;
	case SHMC_COMPLEX:
		c = shmc_complex(v.cx->re, v.cx->im);
		rc = c.type == SHMC_ERROR ? (int)c.i : 0;
		break;
	case SHMC_OPAQUE:
		rc = shmc__opaque_new(v.opq->data, v.opq->len, shmc__opaque_repr(v.opq),
				      v.opq->rlen, &c);
		break;
	case SHMC_SET:
	case SHMC_FROZENSET:
		rc = shmc__pset_clone(v.set, v.type, &c);
		break;
	case SHMC_TUPLE:
	case SHMC_LIST:
		if (shmc__too_deep(depth))
			return SHMC_EDEPTH;
		rc = shmc__seq_new(v.type, v.seq->len, &c);
		for (size_t i = 0; rc == 0 && i < v.seq->len; i++) {
			shmc_value_t item;
			rc = copy_depth(v.seq->items[i], depth + 1, &item);
			if (rc == 0)
				shmc__seq_push(&c, item);
			else
				shmc_value_free(&c);
		}
		break;
	case SHMC_DICT:
		if (shmc__too_deep(depth))
			return SHMC_EDEPTH;
		rc = shmc__pmap_new(&c);
		for (size_t i = 0; rc == 0 && i < v.map->len; i++) {
			shmc_value_t k, val;
			rc = copy_depth(v.map->e[i].key, depth + 1, &k);
			if (rc == 0) {
				rc = copy_depth(v.map->e[i].val, depth + 1, &val);
				if (rc)
					shmc_value_free(&k);
			}
			if (rc == 0)
				rc = shmc_pdict_set(&c, k, val);
			if (rc)
				shmc_value_free(&c);
		}
		break;
	case SHMC_REF:
		c.type = SHMC_REF;
		c.owned = 1;
		rc = shmc_obj_dup(v.ref, &c.ref);
		break;
	case SHMC_ERROR:
		return (int)v.i;
	default:
		c = v;
		c.owned = 0;
		break;
	}
	if (rc == 0)
		*out = c;
	return rc;
}

int shmc_value_copy(shmc_value_t v, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	return copy_depth(v, 0, out);
}

int shmc__value_take(shmc_value_t v, shmc_value_t *out)
{
	if (v.type == SHMC_ERROR)
		return (int)v.i;
	if (v.owned || v.type <= SHMC_FLOAT) {
		*out = v;
		return 0;
	}
	return shmc_value_copy(v, out); /* a view: str, bytes or ref */
}

/* Builders -------------------------------------------------------------- */

static shmc_value_t build_seq(shmc_type_t type, size_t n, va_list ap)
{
	shmc_value_t out;
	int rc = shmc__seq_new(type, n, &out);
	for (size_t i = 0; i < n; i++) {
		shmc_value_t item = va_arg(ap, shmc_value_t), taken;
		if (rc == 0) {
			rc = shmc__value_take(item, &taken);
			if (rc == 0)
				shmc__seq_push(&out, taken);
			else
				shmc_value_free(&out);
		} else {
			shmc_value_free(&item);
		}
	}
	return rc ? shmc__error_value(rc) : out;
}

shmc_value_t shmc_tuple_of(size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	shmc_value_t v = build_seq(SHMC_TUPLE, n, ap);
	va_end(ap);
	return v;
}

shmc_value_t shmc_plist_of(size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	shmc_value_t v = build_seq(SHMC_LIST, n, ap);
	va_end(ap);
	return v;
}

shmc_value_t shmc_pdict_of(size_t npairs, ...)
{
	va_list ap;
	shmc_value_t out;
	int rc = shmc__pmap_new(&out);
	va_start(ap, npairs);
	for (size_t i = 0; i < npairs; i++) {
		shmc_value_t k = va_arg(ap, shmc_value_t);
		shmc_value_t v = va_arg(ap, shmc_value_t);
		if (rc == 0) {
			rc = shmc_pdict_set(&out, k, v);
			if (rc)
				shmc_value_free(&out);
		} else {
			shmc_value_free(&k);
			shmc_value_free(&v);
		}
	}
	va_end(ap);
	return rc ? shmc__error_value(rc) : out;
}

/* Sequences ------------------------------------------------------------- */

size_t shmc_seq_len(shmc_value_t v)
{
	return (v.type == SHMC_TUPLE || v.type == SHMC_LIST) ? v.seq->len : 0;
}

shmc_value_t *shmc_seq_at(shmc_value_t v, int64_t i)
{
	if (v.type != SHMC_TUPLE && v.type != SHMC_LIST)
		return NULL;
	int64_t n = (int64_t)v.seq->len;
	if (i < 0)
		i += n;
	if (i < 0 || i >= n)
		return NULL;
	return &v.seq->items[i];
}

int shmc_plist_append(shmc_value_t *l, shmc_value_t item)
{
	shmc_value_t taken;
	if (l == NULL || l->type != SHMC_LIST || !l->owned) {
		shmc_value_free(&item);
		return l ? SHMC_ETYPE : -EINVAL;
	}
	struct shmc_seq *s = l->seq;
	if (s->len == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 4;
		struct shmc_seq *ns = shmc__heap_realloc(
			s, sizeof(*s) + ncap * sizeof(shmc_value_t));
		if (ns == NULL) {
			shmc_value_free(&item);
			return -ENOMEM;
		}
		ns->cap = ncap;
		l->seq = s = ns;
	}
	int rc = shmc__value_take(item, &taken);
	if (rc)
		return rc;
	s->items[s->len++] = taken;
	return 0;
}

int shmc_plist_set(shmc_value_t *l, int64_t i, shmc_value_t item)
{
	shmc_value_t taken;
	if (l == NULL || l->type != SHMC_LIST || !l->owned) {
		shmc_value_free(&item);
		return l ? SHMC_ETYPE : -EINVAL;
	}
	shmc_value_t *slot = shmc_seq_at(*l, i);
	if (slot == NULL) {
		shmc_value_free(&item);
		return SHMC_EINDEX;
	}
	int rc = shmc__value_take(item, &taken);
	if (rc)
		return rc;
	shmc_value_free(slot);
	*slot = taken;
	return 0;
}

bool shmc__utf8_valid(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}
