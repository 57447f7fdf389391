/*
 * namespace.c -- the managed Namespace: attributes by name, on the table in
 * dict.c with str keys. Printed as Python prints one: the "name=repr"
 * strings of the attributes not starting with '_', sorted. Names that
 * start with '_' are the handle's own, never shared, as Python's proxy
 * keeps them (nspriv.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "containers/dict.h"
#include "containers/nspriv.h"
#include "base/heap.h"
#include "values/repr.h"

/* The key for attribute NAME, checking the handle first. */
static int ns_key(shmc_obj_t *h, const char *name, struct shmc__obj **o,
		  struct shmc__key *k)
{
	int rc = shmc__resolve(h, SHMC_KIND_NAMESPACE, o);
	return rc ? rc : shmc__ns_key(name, k);
}

/* The attributes as a plain dict. */
static int ns_snapshot(shmc_obj_t *h, shmc_value_t *d)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_NAMESPACE, &o);
	return rc ? rc : shmc__dict_snapshot(shmc__handle_arena(h), o, d);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int ns_str(shmc_obj_t *h, char **out)
{
	shmc_value_t d;
	int rc = ns_snapshot(h, &d);
	if (rc)
		return rc;
	size_t n = d.map->len, m = 0;
	char **items = shmc__heap_alloc((n ? n : 1) * sizeof(char *));
	if (items == NULL) {
		shmc_value_free(&d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct shmc_pmap_entry *e = &d.map->e[i];
		if (e->key.type != SHMC_STR || (e->key.len && e->key.str[0] == '_'))
			continue;
		struct shmc__sbuf sb = {0};
		shmc__sb_putn(&sb, e->key.str, e->key.len);
		shmc__sb_putc(&sb, '=');
		shmc__repr(&sb, e->val);
		if ((rc = shmc__sb_finish(&sb, &items[m])) == 0)
			m++;
	}
	/* Python sorts the "name=value" strings, by code point: byte order
	 * for UTF-8. */
	qsort(items, m, sizeof(char *), cmp_str);
	struct shmc__sbuf sb = {0};
	shmc__sb_puts(&sb, "Namespace(");
	for (size_t i = 0; i < m; i++) {
		if (i)
			shmc__sb_puts(&sb, ", ");
		shmc__sb_puts(&sb, items[i]);
		shmc__heap_free(items[i]);
	}
	shmc__sb_putc(&sb, ')');
	shmc__heap_free(items);
	shmc_value_free(&d);
	if (rc) {
		shmc__heap_free(sb.p);
		return rc;
	}
	return shmc__sb_finish(&sb, out);
}

const struct shmc__kind shmc__namespace_kind = {
	.typeid = "Namespace",
	.proxy = "NamespaceProxy",
	.body_size = SHMC__DICT_BODY_SIZE,
	.destroy = shmc__dict_destroy,
	.repair = shmc__dict_repair,
	.walk = shmc__dict_walk,
	.length = shmc__dict_length,
	.items = shmc__dict_items,
	.str = ns_str,
	.body_magic = SHMC__DICT_TABLE_MAGIC,
	.body_drop = shmc__dict_body_drop,
	.body_walk = shmc__dict_walk_body,
};

int shmc_namespace_new(shmc_arena_t *a, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	return shmc__obj_create(a, SHMC_KIND_NAMESPACE, out);
}

int shmc_namespace_set(shmc_obj_t *h, const char *name, shmc_value_t v)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = ns_key(h, name, &o, &k);
	if (rc)
		return rc;
	if (shmc__nspriv_is(name))
		return shmc__nspriv_set(h, name, v);
	return shmc__dict_set(shmc__handle_arena(h), o, &k, v);
}

int shmc_namespace_get(shmc_obj_t *h, const char *name, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = ns_key(h, name, &o, &k);
	if (rc)
		return rc;
	if (shmc__nspriv_is(name))
		return shmc__nspriv_get(h, name, out);
	return shmc__dict_get(shmc__handle_arena(h), o, &k, SHMC_EATTR, out);
}

int shmc_namespace_del(shmc_obj_t *h, const char *name)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = ns_key(h, name, &o, &k);
	if (rc)
		return rc;
	if (shmc__nspriv_is(name))
		return shmc__nspriv_del(h, name);
	return shmc__dict_remove(shmc__handle_arena(h), o, &k, SHMC_EATTR, NULL);
}

int shmc_namespace_has(shmc_obj_t *h, const char *name)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = ns_key(h, name, &o, &k);
	if (rc)
		return rc;
	if (shmc__nspriv_is(name))
		return shmc__nspriv_has(h, name);
	return shmc__dict_has(shmc__handle_arena(h), o, &k);
}

int shmc_namespace_names(shmc_obj_t *h, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	shmc_value_t d, l;
	int rc = ns_snapshot(h, &d);
	if (rc)
		return rc;
	size_t n = d.map->len;
	if ((rc = shmc__seq_new(SHMC_LIST, n, &l)) == 0) {
		for (size_t i = 0; i < n; i++) {
			shmc_value_t *k = &d.map->e[i].key;
			if (k->type == SHMC_STR && k->len && k->str[0] == '_')
				continue; /* private names are the handle's */
			shmc__seq_push(&l, *k);
			*k = shmc_none();
		}
		/* Sorted by name, as dir() lists them. */
		struct shmc_seq *s = l.seq;
		for (size_t i = 1; i < s->len; i++) { /* insertion sort: few names */
			shmc_value_t x = s->items[i];
			size_t j = i;
			while (j > 0 && strcmp(s->items[j - 1].str, x.str) > 0) {
				s->items[j] = s->items[j - 1];
				j--;
			}
			s->items[j] = x;
		}
		*out = l;
	}
	shmc_value_free(&d);
	return rc;
}

static int ns_rmw(shmc_obj_t *h, const char *name, const struct shmc__rmw *op)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = ns_key(h, name, &o, &k);
	if (rc)
		return rc;
	if (shmc__nspriv_is(name))
		return shmc__nspriv_rmw(h, name, op);
	return shmc__dict_rmw(shmc__handle_arena(h), o, &k, SHMC_EATTR, op);
}

int shmc_namespace_add(shmc_obj_t *h, const char *name, shmc_value_t delta,
		shmc_value_t *result)
{
	struct shmc__rmw op = {.kind = SHMC__RMW_ADD, .arg = delta, .result = result};
	return ns_rmw(h, name, &op);
}

int shmc_namespace_cas(shmc_obj_t *h, const char *name, shmc_value_t expected,
		shmc_value_t desired)
{
	struct shmc__rmw op = {.kind = SHMC__RMW_CAS, .arg = expected,
			       .desired = desired};
	return ns_rmw(h, name, &op);
}

int shmc_namespace_update(shmc_obj_t *h, const char *name, shmc_update_fn fn, void *ctx)
{
	if (fn == NULL)
		return -EINVAL;
	struct shmc__rmw op = {.kind = SHMC__RMW_UPDATE, .fn = fn, .ctx = ctx};
	return ns_rmw(h, name, &op);
}
