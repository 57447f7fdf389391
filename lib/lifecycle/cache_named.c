/*
 * cache_named.c -- shmc_cache_new: a cache, named in the arena's directory
 * when asked (the directory is the lifecycle's, above the containers).
 */
#include <errno.h>

#include "containers/cache.h"
#include "lifecycle/lifecycle.h"

int shmc_cache_new(shmc_arena_t *a, const char *name, uint64_t max_entries,
		   uint64_t max_bytes, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	shmc_obj_t *h, *got;
	int rc = shmc__cache_create(a, max_entries, max_bytes, &h);
	if (rc || name == NULL) {
		if (rc == 0)
			*out = h;
		return rc;
	}
	/* An existing cache of that name wins, with its own limits. */
	rc = shmc_root_setdefault(a, name, h, &got);
	shmc_obj_release(h);
	if (rc)
		return rc;
	if (shmc_obj_kind(got) != SHMC_KIND_CACHE) {
		shmc_obj_release(got);
		return SHMC_EKIND;
	}
	*out = got;
	return 0;
}
