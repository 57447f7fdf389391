/*
 * mdict.c -- the managed dict's public operations, on the table in dict.c.
 */
#include <errno.h>

#include "containers/dict.h"
#include "values/repr.h"

/* Resolve a handle to a dict. */
static int dict_of(shmc_obj_t *h, struct shmc__obj **o)
{
	return shmc__resolve(h, SHMC_KIND_DICT, o);
}

static int dict_str(shmc_obj_t *h, char **out)
{
	shmc_value_t v;
	struct shmc__obj *o;
	int rc = dict_of(h, &o);
	if (rc == 0)
		rc = shmc__dict_snapshot(shmc__handle_arena(h), o, &v);
	if (rc)
		return rc;
	rc = shmc__repr_snapshot_str(v, out);
	shmc_value_free(&v);
	return rc;
}

const struct shmc__kind shmc__dict_kind = {
	.typeid = "dict",
	.proxy = "DictProxy",
	.body_size = SHMC__DICT_BODY_SIZE,
	.destroy = shmc__dict_destroy,
	.repair = shmc__dict_repair,
	.walk = shmc__dict_walk,
	.length = shmc__dict_length,
	.items = shmc__dict_items,
	.str = dict_str,
	.body_magic = SHMC__DICT_TABLE_MAGIC,
	.body_drop = shmc__dict_body_drop,
	.body_walk = shmc__dict_walk_body,
};

int shmc_dict_new(shmc_arena_t *a, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	return shmc__obj_create(a, SHMC_KIND_DICT, out);
}

int shmc_dict_new_from(shmc_arena_t *a, shmc_value_t entries, shmc_obj_t **out)
{
	if (out == NULL)
		return -EINVAL;
	if (entries.type != SHMC_DICT)
		return entries.type == SHMC_ERROR ? (int)entries.i : SHMC_ETYPE;
	shmc_obj_t *h;
	int rc = shmc_dict_new(a, &h);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < entries.map->len; i++)
		rc = shmc_dict_set(h, entries.map->e[i].key, entries.map->e[i].val);
	if (rc) {
		shmc_obj_release(h);
		return rc;
	}
	*out = h;
	return 0;
}

int64_t shmc_dict_len(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = dict_of(h, &o);
	return rc ? rc : shmc__dict_len(shmc__handle_arena(h), o);
}

/* Resolve the handle before the key, so a bad handle reports as such. */
static int key_for(shmc_obj_t *h, shmc_value_t key, struct shmc__obj **o,
		   struct shmc__key *k)
{
	int rc = dict_of(h, o);
	return rc ? rc : shmc__dict_key(key, k);
}

int shmc_dict_get(shmc_obj_t *h, shmc_value_t key, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = key_for(h, key, &o, &k);
	return rc ? rc : shmc__dict_get(shmc__handle_arena(h), o, &k, SHMC_EKEY, out);
}

int shmc_dict_set(shmc_obj_t *h, shmc_value_t key, shmc_value_t v)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = key_for(h, key, &o, &k);
	return rc ? rc : shmc__dict_set(shmc__handle_arena(h), o, &k, v);
}

int shmc_dict_del(shmc_obj_t *h, shmc_value_t key)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = key_for(h, key, &o, &k);
	return rc ? rc : shmc__dict_remove(shmc__handle_arena(h), o, &k, SHMC_EKEY, NULL);
}

int shmc_dict_has(shmc_obj_t *h, shmc_value_t key)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = key_for(h, key, &o, &k);
	return rc ? rc : shmc__dict_has(shmc__handle_arena(h), o, &k);
}

int shmc_dict_pop(shmc_obj_t *h, shmc_value_t key, shmc_value_t *out)
{
	struct shmc__key k;
	struct shmc__obj *o;
	shmc_value_t v;
	int rc = key_for(h, key, &o, &k);
	if (rc == 0)
		rc = shmc__dict_remove(shmc__handle_arena(h), o, &k, SHMC_EKEY, &v);
	if (rc == 0) {
		if (out)
			*out = v;
		else
			shmc_value_free(&v);
	}
	return rc;
}

int shmc_dict_setdefault(shmc_obj_t *h, shmc_value_t key, shmc_value_t dflt,
			 shmc_value_t *out)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = key_for(h, key, &o, &k);
	return rc ? rc : shmc__dict_setdefault(shmc__handle_arena(h), o, &k, dflt, out);
}

int shmc_dict_clear(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = dict_of(h, &o);
	return rc ? rc : shmc__dict_clear(shmc__handle_arena(h), o);
}

/* Snapshots as lists of keys, values or (key, value) tuples. */
enum part { KEYS, VALUES, ITEMS };

static int dict_part(shmc_obj_t *h, enum part part, shmc_value_t *out)
{
	shmc_value_t d, l;
	struct shmc__obj *o;
	int rc = dict_of(h, &o);
	if (rc == 0)
		rc = shmc__dict_snapshot(shmc__handle_arena(h), o, &d);
	if (rc)
		return rc;
	if ((rc = shmc__seq_new(SHMC_LIST, d.map->len, &l)) == 0) {
		for (size_t i = 0; i < d.map->len; i++) {
			struct shmc_pmap_entry *e = &d.map->e[i];
			shmc_value_t item;
			if (part == KEYS) {
				item = e->key;
				e->key = shmc_none();
			} else if (part == VALUES) {
				item = e->val;
				e->val = shmc_none();
			} else {
				if ((rc = shmc__seq_new(SHMC_TUPLE, 2, &item)) != 0) {
					shmc_value_free(&l);
					break;
				}
				shmc__seq_push(&item, e->key);
				shmc__seq_push(&item, e->val);
				e->key = e->val = shmc_none();
			}
			shmc__seq_push(&l, item);
		}
	}
	shmc_value_free(&d);
	if (rc == 0)
		*out = l;
	return rc;
}

int shmc_dict_keys(shmc_obj_t *h, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	return dict_part(h, KEYS, out);
}

int shmc_dict_values(shmc_obj_t *h, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	return dict_part(h, VALUES, out);
}

int shmc_dict_items(shmc_obj_t *h, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	return dict_part(h, ITEMS, out);
}

int shmc_dict_copy(shmc_obj_t *h, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__obj *o;
	int rc = dict_of(h, &o);
	return rc ? rc : shmc__dict_snapshot(shmc__handle_arena(h), o, out);
}

static int dict_rmw(shmc_obj_t *h, shmc_value_t key, const struct shmc__rmw *op)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = key_for(h, key, &o, &k);
	return rc ? rc : shmc__dict_rmw(shmc__handle_arena(h), o, &k, SHMC_EKEY, op);
}

int shmc_dict_add(shmc_obj_t *h, shmc_value_t key, shmc_value_t delta,
		  shmc_value_t *result)
{
	struct shmc__rmw op = {.kind = SHMC__RMW_ADD, .arg = delta, .result = result};
	return dict_rmw(h, key, &op);
}

int shmc_dict_cas(shmc_obj_t *h, shmc_value_t key, shmc_value_t expected,
		  shmc_value_t desired)
{
	struct shmc__rmw op = {.kind = SHMC__RMW_CAS, .arg = expected,
			       .desired = desired};
	return dict_rmw(h, key, &op);
}

int shmc_dict_update(shmc_obj_t *h, shmc_value_t key, shmc_update_fn fn,
		     void *ctx)
{
	if (fn == NULL)
		return -EINVAL;
	struct shmc__rmw op = {.kind = SHMC__RMW_UPDATE, .fn = fn, .ctx = ctx};
	return dict_rmw(h, key, &op);
}

/* A default is checked before the key is looked up, so that a bad one is
 * refused whether or not it would be used: its error, a str or bytes view
 * of NULL with a length, a reference through a released handle. */
static int dflt_check(shmc_value_t v)
{
	if (v.type == SHMC_ERROR)
		return (int)v.i;
	if ((v.type == SHMC_STR || v.type == SHMC_BYTES || v.type == SHMC_BYTEARRAY) &&
	    v.len && v.str == NULL)
		return -EINVAL;
	return v.type == SHMC_REF && shmc_obj_kind(v.ref) == 0 ? SHMC_EHANDLE : 0;
}

int shmc_dict_get_default(shmc_obj_t *h, shmc_value_t key, shmc_value_t dflt,
			  shmc_value_t *out)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = key_for(h, key, &o, &k);
	if (rc)
		return rc;
	if (out == NULL)
		return -EINVAL;
	if ((rc = dflt_check(dflt)) != 0)
		return rc;
	rc = shmc__dict_get(shmc__handle_arena(h), o, &k, SHMC_EKEY, out);
	return rc == SHMC_EKEY ? shmc_value_copy(dflt, out) : rc;
}

int shmc_dict_pop_default(shmc_obj_t *h, shmc_value_t key, shmc_value_t dflt,
			  shmc_value_t *out)
{
	struct shmc__key k;
	struct shmc__obj *o;
	shmc_value_t v;
	int rc = key_for(h, key, &o, &k);
	if (rc)
		return rc;
	if ((rc = dflt_check(dflt)) != 0)
		return rc;
	rc = shmc__dict_remove(shmc__handle_arena(h), o, &k, SHMC_EKEY, out ? &v : NULL);
	if (rc == SHMC_EKEY)
		return out ? shmc_value_copy(dflt, out) : 0;
	if (rc == 0 && out)
		*out = v;
	return rc;
}

int shmc_dict_popitem(shmc_obj_t *h, shmc_value_t *key, shmc_value_t *val)
{
	struct shmc__obj *o;
	int rc = dict_of(h, &o);
	return rc ? rc : shmc__dict_popitem(shmc__handle_arena(h), o, key, val);
}
