/*
 * dmerge.c -- Python's d.update(other) (shmc_dict_merge, also d |= other)
 * and d | other, for managed dicts.
 *
 * What Python accepts as OTHER is first turned into one private plain dict,
 * in order, a key given twice keeping its first place and its last value:
 * a mapping as it is (a managed dict as one consistent snapshot), an
 * iterable of pairs pair by pair, with Python's errors (TypeError for what
 * is not iterable, ValueError for an item not of length 2). Only then is
 * the dict touched, by shmc__dict_merge (dict.c), which publishes all of
 * it with one store. So unlike Python's update, which stops half-way at a
 * bad item, a failure changes nothing.
 */
#include <errno.h>

#include "containers/dict.h"

/* The N-th item of plain sequence S, copied. */
static int item_copy(shmc_value_t s, size_t i, shmc_value_t *out)
{
	return shmc_value_copy(s.seq->items[i], out);
}

/* The bytes of the first UTF-8 character of [P, P + N) (at least 1). */
static size_t char_len(const char *p, size_t n)
{
	unsigned char c = (unsigned char)p[0];
	size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	return len < n ? len : n;
}

/* The two items of X, an item of an update sequence, as Python iterates
 * it: a tuple or list its items, a dict its keys, a str its characters,
 * bytes its ints, a managed list or dict likewise. K and V out.
 * @return 0, SHMC_ETYPE (not iterable), -EINVAL (not two items), -ENOMEM,
 *         X's error, and the errors of reading a managed X */
static int pair_of(shmc_value_t x, shmc_value_t *k, shmc_value_t *v)
{
	shmc_value_t l = shmc_none();
	int rc = 0;
	switch (x.type) {
	case SHMC_TUPLE:
	case SHMC_LIST:
		break;
	case SHMC_DICT: {
		struct shmc_pmap *m = x.map;
		if (m->len != 2)
			return -EINVAL;
		if ((rc = shmc_value_copy(m->e[0].key, k)) != 0)
			return rc;
		if ((rc = shmc_value_copy(m->e[1].key, v)) != 0)
			shmc_value_free(k);
		return rc;
	}
	case SHMC_STR: {
		size_t a = x.len ? char_len(x.str, x.len) : 0;
		size_t b = a < x.len ? char_len(x.str + a, x.len - a) : 0;
		if (a == 0 || b == 0 || a + b != x.len)
			return -EINVAL;
		if ((rc = shmc__str_copy(SHMC_STR, x.str, a, k)) != 0)
			return rc;
		if ((rc = shmc__str_copy(SHMC_STR, x.str + a, b, v)) != 0)
			shmc_value_free(k);
		return rc;
	}
	case SHMC_BYTES:
	case SHMC_BYTEARRAY:
		if (x.len != 2)
			return -EINVAL;
		*k = shmc_int((unsigned char)x.str[0]);
		*v = shmc_int((unsigned char)x.str[1]);
		return 0;
	case SHMC_SET:
	case SHMC_FROZENSET: { /* its two members, in iteration order */
		size_t pos = 0;
		if (shmc_set_len(x) != 2)
			return -EINVAL;
		if ((rc = shmc_value_copy(*shmc_set_next(x, &pos), k)) != 0)
			return rc;
		if ((rc = shmc_value_copy(*shmc_set_next(x, &pos), v)) != 0)
			shmc_value_free(k);
		return rc;
	}
	case SHMC_REF:
		switch ((int)shmc_obj_kind(x.ref)) {
		case SHMC_KIND_LIST:
			rc = shmc_list_copy(x.ref, &l);
			break;
		case SHMC_KIND_DICT:
			rc = shmc_dict_keys(x.ref, &l);
			break;
		case 0:
			return SHMC_EHANDLE;
		default:
			return SHMC_ETYPE;
		}
		if (rc)
			return rc;
		x = l;
		break;
	case SHMC_ERROR:
		return (int)x.i;
	default:
		return SHMC_ETYPE;
	}
	if (x.seq->len != 2)
		rc = -EINVAL;
	else if ((rc = item_copy(x, 0, k)) == 0 && (rc = item_copy(x, 1, v)) != 0)
		shmc_value_free(k);
	shmc_value_free(&l);
	return rc;
}

/* A plain dict of the pairs of S (a tuple or plain list, or a set or
 * frozenset in iteration order), in order; a later duplicate key replaces
 * the value. *OUT out. */
static int dict_of_pairs(shmc_value_t s, shmc_value_t *out)
{
	shmc_value_t d;
	int rc = shmc__pmap_new(&d);
	bool set = s.type == SHMC_SET || s.type == SHMC_FROZENSET;
	size_t pos = 0;
	for (size_t i = 0; rc == 0; i++) {
		const shmc_value_t *item = set ? shmc_set_next(s, &pos)
					   : i < s.seq->len ? &s.seq->items[i] : NULL;
		if (item == NULL)
			break;
		shmc_value_t k, v;
		if ((rc = pair_of(*item, &k, &v)) == 0)
			rc = shmc_pdict_set(&d, k, v); /* takes both */
	}
	if (rc) {
		shmc_value_free(&d);
		return rc;
	}
	*out = d;
	return 0;
}

/* OTHER as a plain dict: *MAP points into OTHER itself, or into *OWNED
 * (to free) when it had to be built. */
static int mapping_of(shmc_value_t other, bool pairs, const struct shmc_pmap **map,
		      shmc_value_t *owned)
{
	shmc_value_t l = shmc_none();
	int rc;
	*owned = shmc_none();
	switch (other.type) {
	case SHMC_DICT:
		*map = other.map;
		return 0;
	case SHMC_REF:
		switch ((int)shmc_obj_kind(other.ref)) {
		case SHMC_KIND_DICT:
			if ((rc = shmc_dict_copy(other.ref, owned)) == 0)
				*map = owned->map;
			return rc;
		case SHMC_KIND_LIST:
			if (!pairs)
				return SHMC_ETYPE;
			if ((rc = shmc_list_copy(other.ref, &l)) != 0)
				return rc;
			rc = dict_of_pairs(l, owned);
			shmc_value_free(&l);
			if (rc == 0)
				*map = owned->map;
			return rc;
		case 0:
			return SHMC_EHANDLE;
		default:
			return SHMC_ETYPE;
		}
	case SHMC_TUPLE:
	case SHMC_LIST:
	case SHMC_SET:
	case SHMC_FROZENSET:
		if (!pairs)
			return SHMC_ETYPE;
		if ((rc = dict_of_pairs(other, owned)) == 0)
			*map = owned->map;
		return rc;
	case SHMC_STR:
	case SHMC_BYTES:
	case SHMC_BYTEARRAY:
		/* Iterable: each item is one character (length 1) or an int. */
		if (!pairs)
			return SHMC_ETYPE;
		if (other.len)
			return other.type == SHMC_STR ? -EINVAL : SHMC_ETYPE;
		if ((rc = shmc__pmap_new(owned)) == 0)
			*map = owned->map;
		return rc;
	case SHMC_ERROR:
		return (int)other.i;
	default:
		return SHMC_ETYPE;
	}
}

int shmc_dict_merge(shmc_obj_t *h, shmc_value_t other)
{
	struct shmc__obj *o;
	const struct shmc_pmap *m;
	shmc_value_t owned;
	int rc = shmc__resolve(h, SHMC_KIND_DICT, &o);
	if (rc || (rc = mapping_of(other, true, &m, &owned)) != 0)
		return rc;
	rc = shmc__dict_merge(shmc__handle_arena(h), o, m);
	shmc_value_free(&owned);
	return rc;
}

int shmc_dict_or(shmc_obj_t *h, shmc_value_t other, shmc_value_t *out)
{
	struct shmc__obj *o;
	const struct shmc_pmap *m;
	shmc_value_t owned, d;
	int rc = shmc__resolve(h, SHMC_KIND_DICT, &o);
	if (rc)
		return rc;
	if (out == NULL)
		return -EINVAL;
	if ((rc = mapping_of(other, false, &m, &owned)) != 0)
		return rc;
	if ((rc = shmc__dict_snapshot(shmc__handle_arena(h), o, &d)) == 0) {
		for (size_t i = 0; rc == 0 && i < m->len; i++) {
			shmc_value_t k, v;
			if ((rc = shmc_value_copy(m->e[i].key, &k)) != 0)
				break;
			if ((rc = shmc_value_copy(m->e[i].val, &v)) != 0) {
				shmc_value_free(&k);
				break;
			}
			rc = shmc_pdict_set(&d, k, v); /* takes both */
		}
		if (rc)
			shmc_value_free(&d);
		else
			*out = d;
	}
	shmc_value_free(&owned);
	return rc;
}
