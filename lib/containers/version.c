/*
 * version.c -- reading a value with its version, storing it back only if the
 * version is still the same, and waiting for one key of a dict to change.
 *
 * The version of an entry (a namespace attribute, a list item, a dict
 * entry) is its object's version (objects/watch.c: seq / 2 + 1): every
 * store to the entry changes it, at no cost in bytes or stores, but so does
 * a store to any other entry of the same object. A conditional store may
 * therefore report a conflict that a version per entry would not; a retry
 * loop is unchanged by it, and never loses a change. An absent entry has
 * version 0, so storing with version 0 means "add only if absent".
 *
 * A versioned read is a sequence-lock read: the value is read without the
 * lock between two reads of seq; if a writer came in between, it is read
 * again, and after a few tries under the lock (a dead writer is repaired
 * there). The conditional store compares the version under the writer
 * lock, in the container's own store path (dict.c, list.c).
 */
#include <errno.h>
#include <sched.h>

#include "containers/dict.h"
#include "containers/list.h"
#include "containers/nspriv.h"
#include "objects/watch.h"

#define OPTIMISTIC_TRIES 64

/* Read one value of O by FN(CTX) so that it and *VERSION belong together. */
typedef int (*read_fn)(shmc_arena_t *a, struct shmc__obj *o, void *ctx, shmc_value_t *out);

static int read_versioned(shmc_arena_t *a, struct shmc__obj *o, read_fn fn, void *ctx,
			  shmc_value_t *out, uint64_t *version)
{
	shmc_value_t v;
	int rc;
	for (int i = 0; i < OPTIMISTIC_TRIES; i++) {
		/* Acquire: pairs with the release store of seq in
		 * shmc__write_end, as in shmc__obj_snapshot. */
		uint64_t s = ld_acquire(&o->seq);
		if (s & 1) {
			sched_yield();
			continue;
		}
		rc = fn(a, o, ctx, &v);
		/* Pairs with the release fence in shmc__write_begin. */
		atomic_thread_fence(memory_order_acquire);
		if (ld_relaxed(&o->seq) != s) {
			if (rc == 0)
				shmc_value_free(&v);
			continue;
		}
		if (rc == 0) {
			*out = v;
			*version = (s >> 1) + 1;
		}
		return rc;
	}
	if ((rc = shmc__obj_lock(a, o)) != 0)
		return rc;
	rc = fn(a, o, ctx, &v);
	uint64_t s = ld_relaxed(&o->seq);
	shmc__obj_unlock(a, o);
	if (rc == 0) {
		*out = v;
		*version = (s >> 1) + 1;
	}
	return rc;
}

struct key_ctx {
	const struct shmc__key *k;
	int missing;
};

static int read_key(shmc_arena_t *a, struct shmc__obj *o, void *ctx, shmc_value_t *out)
{
	struct key_ctx *c = ctx;
	return shmc__dict_get(a, o, c->k, c->missing, out);
}

struct index_ctx {
	shmc_obj_t *h;
	int64_t i;
};

static int read_index(shmc_arena_t *a, struct shmc__obj *o, void *ctx, shmc_value_t *out)
{
	(void)a;
	(void)o;
	struct index_ctx *c = ctx;
	return shmc_list_get(c->h, c->i, out);
}

/* The shared attribute NAME of namespace H (names starting with '_' are the
 * handle's own: they have no version). */
static int ns_key(shmc_obj_t *h, const char *name, struct shmc__obj **o,
		  struct shmc__key *k)
{
	int rc = shmc__resolve(h, SHMC_KIND_NAMESPACE, o);
	if (rc == 0 && (rc = shmc__ns_key(name, k)) == 0 && shmc__nspriv_is(name))
		rc = -EINVAL;
	return rc;
}

int shmc_namespace_get_versioned(shmc_obj_t *h, const char *name, shmc_value_t *out,
				 uint64_t *version)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = ns_key(h, name, &o, &k);
	if (rc)
		return rc;
	if (out == NULL || version == NULL)
		return -EINVAL;
	struct key_ctx c = {&k, SHMC_EATTR};
	return read_versioned(shmc__handle_arena(h), o, read_key, &c, out, version);
}

int shmc_namespace_set_if(shmc_obj_t *h, const char *name, shmc_value_t v, uint64_t version)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = ns_key(h, name, &o, &k);
	return rc ? rc : shmc__dict_set_if(shmc__handle_arena(h), o, &k, v, version);
}

int shmc_list_get_versioned(shmc_obj_t *h, int64_t i, shmc_value_t *out, uint64_t *version)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_LIST, &o);
	if (rc)
		return rc;
	if (out == NULL || version == NULL)
		return -EINVAL;
	struct index_ctx c = {h, i};
	return read_versioned(shmc__handle_arena(h), o, read_index, &c, out, version);
}

static int dict_key(shmc_obj_t *h, shmc_value_t key, struct shmc__obj **o,
		    struct shmc__key *k)
{
	int rc = shmc__resolve(h, SHMC_KIND_DICT, o);
	return rc ? rc : shmc__dict_key(key, k);
}

int shmc_dict_get_versioned(shmc_obj_t *h, shmc_value_t key, shmc_value_t *out,
			    uint64_t *version)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = dict_key(h, key, &o, &k);
	if (rc)
		return rc;
	if (out == NULL || version == NULL)
		return -EINVAL;
	struct key_ctx c = {&k, SHMC_EKEY};
	return read_versioned(shmc__handle_arena(h), o, read_key, &c, out, version);
}

int shmc_dict_set_if(shmc_obj_t *h, shmc_value_t key, shmc_value_t v, uint64_t version)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int rc = dict_key(h, key, &o, &k);
	return rc ? rc : shmc__dict_set_if(shmc__handle_arena(h), o, &k, v, version);
}

struct wait_ctx {
	const struct shmc__key *k;
	uint64_t seen;
};

/* Whether the entry's version (0 absent, else the dict's) is not SEEN. */
static int key_changed(void *ctx, shmc_arena_t *a, struct shmc__obj *o)
{
	struct wait_ctx *c = ctx;
	uint64_t s = ld_acquire(&o->seq);
	int rc = shmc__dict_has(a, o, c->k);
	if (rc < 0)
		return rc;
	return (rc ? (s >> 1) + 1 : 0) != c->seen;
}

int shmc_dict_wait_key(shmc_obj_t *h, shmc_value_t key, uint64_t seen_version,
		       double timeout)
{
	struct shmc__key k;
	struct shmc__obj *o;
	int64_t deadline;
	int rc = dict_key(h, key, &o, &k);
	if (rc || (rc = shmc__watch_deadline(timeout, &deadline)) != 0)
		return rc;
	struct wait_ctx c = {&k, seen_version};
	return shmc__watch_wait(shmc__handle_arena(h), o, &k.hash, key_changed, &c, deadline);
}
