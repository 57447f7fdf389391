/*
 * cache.h -- the bounded cache dict (cache.c), for the facade that names it.
 */
#ifndef SHMC_CACHE_H
#define SHMC_CACHE_H

#include "objects/obj.h"

/* A new, unnamed cache with these limits (0: none; not both).
 * @return 0, -EINVAL, SHMC_EFULL, -ENOMEM */
int shmc__cache_create(shmc_arena_t *a, uint64_t max_entries, uint64_t max_bytes,
		       shmc_obj_t **out);

/* Nanoseconds this process adds to the cache's clock: 0, but for the
 * tests that move time forward (test/unit/test_cache_clock.c). */
extern _Atomic int64_t shmc__cache_clock_skew;

/* For a save: H's limits and its live entries as a plain list of (key,
 * value, ns left or 0), in insertion order, read consistently.
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -ENOMEM */
int shmc__cache_export(shmc_obj_t *h, uint64_t *max_entries, uint64_t *max_bytes,
		       shmc_value_t *out);

#endif
