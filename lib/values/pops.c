/*
 * pops.c -- operations on plain values beyond building and reading them:
 * what Python does to a private list, dict, str, bytes or set with its
 * own operators (insert, pop, del, clear, extend, +, len, d.get(k,
 * default), d.pop(k, default)). Plain values are process-local: nothing here is shared or
 * concurrent. Each operation either completes or leaves its operand as it
 * was.
 */
#include <errno.h>
#include <string.h>

#include "base/heap.h"
#include "base/util.h"
#include "values/value.h"

/* Whether *L is a plain list this caller owns (and may change). */
static bool owned_list(const shmc_value_t *l)
{
	return l && l->type == SHMC_LIST && l->owned;
}

/* Room in plain list *L for N more items. @return 0, -ENOMEM */
static int reserve(shmc_value_t *l, size_t n)
{
	struct shmc_seq *s = l->seq;
	if (n <= s->cap - s->len)
		return 0;
	if (n > (SIZE_MAX - sizeof(*s)) / sizeof(shmc_value_t) - s->len)
		return -ENOMEM;
	size_t ncap = s->cap ? 2 * s->cap : 4;
	if (ncap < s->len + n)
		ncap = s->len + n;
	struct shmc_seq *ns = shmc__heap_realloc(s, sizeof(*s) + ncap * sizeof(shmc_value_t));
	if (ns == NULL)
		return -ENOMEM;
	ns->cap = ncap;
	l->seq = ns;
	return 0;
}

static shmc_value_t build_from(shmc_type_t type, size_t n, shmc_value_t *items)
{
	if (items == NULL && n)
		return shmc__error_value(-EINVAL);
	shmc_value_t out = shmc_none();
	int rc = shmc__seq_new(type, n, &out);
	for (size_t i = 0; i < n; i++) {
		shmc_value_t taken;
		if (rc == 0 && (rc = shmc__value_take(items[i], &taken)) == 0) {
			shmc__seq_push(&out, taken);
			continue;
		}
		if (rc && out.type == type && out.owned)
			shmc_value_free(&out); /* frees the items taken so far */
		shmc_value_free(&items[i]);
		out = shmc_none();
	}
	return rc ? shmc__error_value(rc) : out;
}

shmc_value_t shmc_tuple_from(size_t n, shmc_value_t *items)
{
	return build_from(SHMC_TUPLE, n, items);
}

shmc_value_t shmc_plist_from(size_t n, shmc_value_t *items)
{
	return build_from(SHMC_LIST, n, items);
}

int shmc_plist_insert(shmc_value_t *l, int64_t i, shmc_value_t item)
{
	if (!owned_list(l)) {
		shmc_value_free(&item);
		return l ? SHMC_ETYPE : -EINVAL;
	}
	int rc = reserve(l, 1);
	shmc_value_t taken;
	if (rc) {
		shmc_value_free(&item);
		return rc;
	}
	if ((rc = shmc__value_take(item, &taken)) != 0)
		return rc;
	/* list.insert clamps: before the start, or after the end. */
	struct shmc_seq *s = l->seq;
	int64_t n = (int64_t)s->len;
	if (i < 0)
		i = i + n < 0 ? 0 : i + n;
	if (i > n)
		i = n;
	memmove(&s->items[i + 1], &s->items[i], (size_t)(n - i) * sizeof(shmc_value_t));
	s->items[i] = taken;
	s->len++;
	return 0;
}

int shmc_plist_pop(shmc_value_t *l, int64_t i, shmc_value_t *out)
{
	if (!owned_list(l))
		return l ? SHMC_ETYPE : -EINVAL;
	shmc_value_t *slot = shmc_seq_at(*l, i);
	if (slot == NULL)
		return SHMC_EINDEX;
	struct shmc_seq *s = l->seq;
	size_t at = (size_t)(slot - s->items);
	shmc_value_t item = *slot;
	memmove(slot, slot + 1, (s->len - at - 1) * sizeof(shmc_value_t));
	s->len--;
	if (out)
		*out = item;
	else
		shmc_value_free(&item);
	return 0;
}

int shmc_plist_del(shmc_value_t *l, int64_t i)
{
	return shmc_plist_pop(l, i, NULL);
}

int shmc_plist_clear(shmc_value_t *l)
{
	if (!owned_list(l))
		return l ? SHMC_ETYPE : -EINVAL;
	struct shmc_seq *s = l->seq;
	for (size_t i = 0; i < s->len; i++)
		shmc_value_free(&s->items[i]);
	s->len = 0;
	return 0;
}

/* Append deep copies of the N items at SRC to *L, which has room. On
 * failure the copies made so far are dropped again. */
static int append_copies(shmc_value_t *l, const shmc_value_t *src, size_t n)
{
	struct shmc_seq *s = l->seq;
	size_t start = s->len;
	for (size_t i = 0; i < n; i++) {
		int rc = shmc_value_copy(src[i], &s->items[s->len]);
		if (rc) {
			while (s->len > start)
				shmc_value_free(&s->items[--s->len]);
			return rc;
		}
		s->len++;
	}
	return 0;
}

int shmc_plist_extend(shmc_value_t *l, shmc_value_t items)
{
	if (!owned_list(l))
		return l ? SHMC_ETYPE : -EINVAL;
	if (items.type == SHMC_ERROR)
		return (int)items.i;
	if (items.type != SHMC_TUPLE && items.type != SHMC_LIST)
		return SHMC_ETYPE;
	/* l.extend(l) appends what l held before: copy from a snapshot of the
	 * count, and from the new array if reserve() moved it. */
	size_t n = items.seq->len;
	bool self = items.seq == l->seq;
	int rc = reserve(l, n);
	if (rc)
		return rc;
	return append_copies(l, self ? l->seq->items : items.seq->items, n);
}

int shmc_value_concat(shmc_value_t a, shmc_value_t b, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	if (a.type == SHMC_ERROR)
		return (int)a.i;
	if (b.type == SHMC_ERROR)
		return (int)b.i;
	/* bytes and bytearray concatenate, as the left one's type (Python:
	 * bytearray + bytes is a bytearray, bytes + bytearray bytes). */
	bool binary = (a.type == SHMC_BYTES || a.type == SHMC_BYTEARRAY) &&
		      (b.type == SHMC_BYTES || b.type == SHMC_BYTEARRAY);
	if (a.type != b.type && !binary)
		return SHMC_ETYPE; /* Python: can only concatenate str (not "int") to str */
	shmc_value_t c;
	int rc;
	switch (a.type) {
	case SHMC_STR:
	case SHMC_BYTES:
	case SHMC_BYTEARRAY: {
		if ((a.len && a.str == NULL) || (b.len && b.str == NULL))
			return -EINVAL;
		size_t n = (size_t)a.len + b.len;
		if (n > SHMC_MAX_LEN)
			return -EOVERFLOW;
		if ((rc = shmc__str_copy(a.type, a.str, a.len, &c)) != 0)
			return rc;
		char *p = shmc__heap_realloc((void *)c.str, n + 1);
		if (p == NULL) {
			shmc_value_free(&c);
			return -ENOMEM;
		}
		if (b.len)
			memcpy(p + a.len, b.str, b.len);
		p[n] = '\0';
		c.str = p;
		c.len = (uint32_t)n;
		break;
	}
	case SHMC_TUPLE:
	case SHMC_LIST:
		if (a.seq->len > SIZE_MAX / 2 || b.seq->len > SIZE_MAX / 2)
			return -ENOMEM;
		if ((rc = shmc__seq_new(a.type, a.seq->len + b.seq->len, &c)) != 0)
			return rc;
		if ((rc = append_copies(&c, a.seq->items, a.seq->len)) != 0 ||
		    (rc = append_copies(&c, b.seq->items, b.seq->len)) != 0) {
			shmc_value_free(&c);
			return rc;
		}
		break;
	default: /* sets (Python: unsupported operand type(s) for +), numbers */
		return SHMC_ETYPE;
	}
	*out = c;
	return 0;
}

int64_t shmc_value_len(shmc_value_t v)
{
	switch (v.type) {
	case SHMC_STR: {
		if (v.len && v.str == NULL)
			return -EINVAL;
		/* Code points: every byte but the continuation bytes. */
		int64_t n = 0;
		for (uint32_t i = 0; i < v.len; i++)
			n += ((unsigned char)v.str[i] & 0xc0) != 0x80;
		return n;
	}
	case SHMC_BYTES:
	case SHMC_BYTEARRAY:
		return v.len;
	case SHMC_TUPLE:
	case SHMC_LIST:
		return (int64_t)v.seq->len;
	case SHMC_DICT:
		return (int64_t)v.map->len;
	case SHMC_SET:
	case SHMC_FROZENSET:
		return (int64_t)v.set->used;
	case SHMC_ERROR:
		return v.i;
	default:
		return SHMC_ETYPE; /* Python: object of type 'int' has no len() */
	}
}

shmc_value_t *shmc_pdict_get_or(shmc_value_t d, shmc_value_t key, shmc_value_t *dflt)
{
	shmc_value_t *v = shmc_pdict_get(d, key);
	return v ? v : dflt;
}

int shmc_pdict_pop(shmc_value_t *d, shmc_value_t key, shmc_value_t *out)
{
	if (d == NULL)
		return -EINVAL;
	if (d->type != SHMC_DICT || !d->owned)
		return SHMC_ETYPE;
	if (key.type == SHMC_ERROR)
		return (int)key.i;
	shmc_value_t *slot = shmc_pdict_get(*d, key);
	if (slot == NULL) {
		/* Missing, or a key that cannot be one: say which. */
		int rc = shmc_pdict_del(d, key);
		return rc ? rc : SHMC_ECORRUPT;
	}
	/* Move the value out, so that removing the entry frees only its key;
	 * put it back if the removal fails. */
	shmc_value_t val = *slot;
	*slot = shmc_none();
	int rc = shmc_pdict_del(d, key);
	if (rc) {
		slot = shmc_pdict_get(*d, key);
		SHMC_ASSERT(slot != NULL);
		*slot = val;
		return rc;
	}
	if (out)
		*out = val;
	else
		shmc_value_free(&val);
	return 0;
}

int shmc_pdict_pop_or(shmc_value_t *d, shmc_value_t key, shmc_value_t dflt,
		      shmc_value_t *out)
{
	/* A bad DFLT is refused before anything is popped, used or not. */
	int bad = 0;
	if (d == NULL || out == NULL)
		bad = -EINVAL;
	else if (dflt.type == SHMC_ERROR)
		bad = (int)dflt.i;
	else if ((dflt.type == SHMC_STR || dflt.type == SHMC_BYTES ||
		  dflt.type == SHMC_BYTEARRAY) && dflt.len && dflt.str == NULL)
		bad = -EINVAL; /* a view of nothing */
	else if (dflt.type == SHMC_REF && shmc_obj_kind(dflt.ref) == 0)
		bad = SHMC_EHANDLE; /* through a released handle */
	if (bad) {
		shmc_value_free(&dflt);
		return bad;
	}
	shmc_value_t val;
	int rc = shmc_pdict_pop(d, key, &val);
	if (rc == SHMC_EKEY)
		return shmc__value_take(dflt, out);
	shmc_value_free(&dflt);
	if (rc == 0)
		*out = val;
	return rc;
}
