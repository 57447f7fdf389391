/*
 * roots.c -- the directory of named objects.
 *
 * The directory is a managed dict from names (str) to references, created
 * on first use. Its offset is published in the header with one
 * compare-and-swap, which also holds the directory's one reference: a
 * process that loses the race to create it drops its own. Each operation
 * then is a dict operation, atomic under the dict's lock: find-or-create is
 * setdefault, so racing creators all get the object that won.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "containers/dict.h"
#include "values/venc.h"

/* A handle to the directory, creating it if needed. */
static int directory(shmc_arena_t *a, bool create, shmc_obj_t **out)
{
	for (;;) {
		uint64_t off = ld_acquire(&a->hdr->roots_off);
		if (off)
			return shmc__obj_wrap(a, off, out);
		if (!create)
			return SHMC_EKEY;
		shmc_obj_t *d;
		int rc = shmc_dict_new(a, &d);
		if (rc)
			return rc;
		/* The header takes over the handle's reference... */
		uint64_t zero = 0, doff = shmc__handle_off(d);
		shmc__obj_incref(a, doff);
		if (atomic_compare_exchange_strong(&a->hdr->roots_off, &zero, doff)) {
			*out = d;
			return 0;
		}
		/* ...unless another process published its directory first. */
		shmc__obj_decref(a, doff);
		shmc_obj_release(d);
	}
}

/* The directory's object, from a handle that directory() made. */
static struct shmc__obj *dir_obj(shmc_obj_t *dir)
{
	return shmc__obj_of(dir);
}

static int name_key(const char *name, struct shmc__key *k)
{
	return shmc__ns_key(name, k);
}

int shmc_root_setdefault(shmc_arena_t *a, const char *name, shmc_obj_t *obj,
			 shmc_obj_t **out)
{
	struct shmc__key k;
	shmc_obj_t *dir;
	shmc_value_t v;
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	int rc = name_key(name, &k);
	if (rc || (rc = directory(a, true, &dir)) != 0)
		return rc;
	rc = shmc__dict_setdefault(a, dir_obj(dir), &k, shmc_ref(obj), &v);
	shmc_obj_release(dir);
	if (rc)
		return rc;
	if (v.type != SHMC_REF) { /* a directory entry that is not an object */
		shmc_value_free(&v);
		return SHMC_ECORRUPT;
	}
	*out = v.ref;
	return 0;
}

int shmc_root_find_or_create(shmc_arena_t *a, const char *name, shmc_kind_t kind,
		  shmc_obj_t **out)
{
	shmc_obj_t *mine, *got;
	int rc;
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	if (shmc_root_find(a, name, &got) == 0)
		goto found; /* the common case: no object made in vain */
	/* Kinds whose Python constructor needs no argument, made as Python's
	 * defaults make them. */
	switch (kind) {
	case SHMC_KIND_NAMESPACE:
		rc = shmc_namespace_new(a, &mine);
		break;
	case SHMC_KIND_LIST:
		rc = shmc_list_new(a, &mine);
		break;
	case SHMC_KIND_DICT:
		rc = shmc_dict_new(a, &mine);
		break;
	case SHMC_KIND_LOCK:
		rc = shmc_lock_new(a, &mine);
		break;
	case SHMC_KIND_RLOCK:
		rc = shmc_rlock_new(a, &mine);
		break;
	case SHMC_KIND_SEMAPHORE:
		rc = shmc_semaphore_new(a, 1, &mine);
		break;
	case SHMC_KIND_BOUNDED_SEMAPHORE:
		rc = shmc_bounded_semaphore_new(a, 1, &mine);
		break;
	case SHMC_KIND_CONDITION:
		rc = shmc_condition_new(a, NULL, &mine);
		break;
	case SHMC_KIND_EVENT:
		rc = shmc_event_new(a, &mine);
		break;
	case SHMC_KIND_QUEUE:
		rc = shmc_queue_new(a, 0, &mine);
		break;
	case SHMC_KIND_JOINABLE_QUEUE:
		rc = shmc_joinable_queue_new(a, 0, &mine);
		break;
	default: /* Barrier, Value, Array: create them, then setdefault */
		return -EINVAL;
	}
	if (rc)
		return rc;
	rc = shmc_root_setdefault(a, name, mine, &got);
	shmc_obj_release(mine);
	if (rc)
		return rc;
found:
	if (shmc_obj_kind(got) != kind) {
		shmc_obj_release(got);
		return SHMC_EKIND;
	}
	*out = got;
	return 0;
}

int shmc_root_find(shmc_arena_t *a, const char *name, shmc_obj_t **out)
{
	struct shmc__key k;
	shmc_obj_t *dir;
	shmc_value_t v;
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	int rc = name_key(name, &k);
	if (rc || (rc = directory(a, false, &dir)) != 0)
		return rc;
	rc = shmc__dict_get(a, dir_obj(dir), &k, SHMC_EKEY, &v);
	shmc_obj_release(dir);
	if (rc)
		return rc;
	if (v.type != SHMC_REF) {
		shmc_value_free(&v);
		return SHMC_ECORRUPT;
	}
	*out = v.ref;
	return 0;
}

int shmc_root_remove(shmc_arena_t *a, const char *name)
{
	struct shmc__key k;
	shmc_obj_t *dir;
	if (!shmc__arena_ok(a))
		return SHMC_EHANDLE;
	int rc = name_key(name, &k);
	if (rc || (rc = directory(a, false, &dir)) != 0)
		return rc;
	rc = shmc__dict_remove(a, dir_obj(dir), &k, SHMC_EKEY, NULL);
	shmc_obj_release(dir);
	return rc;
}

static int cmp_names(const void *x, const void *y)
{
	const shmc_value_t *a = x, *b = y;
	return strcmp(a->str, b->str);
}

int shmc_root_names(shmc_arena_t *a, shmc_value_t *out)
{
	shmc_obj_t *dir;
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	int rc = directory(a, false, &dir);
	if (rc == SHMC_EKEY) {
		shmc_value_t empty;
		if ((rc = shmc__seq_new(SHMC_LIST, 0, &empty)) == 0)
			*out = empty;
		return rc;
	}
	if (rc)
		return rc;
	shmc_value_t l;
	rc = shmc_dict_keys(dir, &l);
	shmc_obj_release(dir);
	if (rc)
		return rc;
	for (size_t i = 0; i < l.seq->len; i++)
		if (l.seq->items[i].type != SHMC_STR) {
			shmc_value_free(&l);
			return SHMC_ECORRUPT;
		}
	qsort(l.seq->items, l.seq->len, sizeof(shmc_value_t), cmp_names);
	*out = l;
	return 0;
}
