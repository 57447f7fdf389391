/*
 * watch.h -- waiting for an object, or one of its keys, to change
 * (watch.c; the writers' side is in obj.h: shmc__write_end, _write_key).
 */
#ifndef SHMC_WATCH_H
#define SHMC_WATCH_H

#include "objects/obj.h"

/* Whether what is waited for has changed: 1 yes, 0 no, < 0 an error
 * that ends the wait. Called without the lock. */
typedef int (*shmc__watch_fn)(void *ctx, shmc_arena_t *a, struct shmc__obj *o);
/* Sleep until CHANGED(CTX) (NULL: until O's version differs from the
 * uint64_t at CTX), or DEADLINE (CLOCK_MONOTONIC ns, -1: none) passes.
 * With KEY_HASH, sleep on that key's bucket: woken by stores to the key
 * (or to every key) of O; without, by every store to O.
 * @return 0, -ETIMEDOUT, CHANGED's error, SHMC_ETHREADS, SHMC_ECORRUPT,
 *         -EDEADLK (called inside a wait, from a signal handler) */
int shmc__watch_wait(shmc_arena_t *a, struct shmc__obj *o, const uint64_t *key_hash,
		     shmc__watch_fn changed, void *ctx, int64_t deadline);
/* A deadline from a timeout in seconds (sync.h's rules). @return 0, -EINVAL */
int shmc__watch_deadline(double timeout, int64_t *out);
/* Take back the registrations of the dead process that had SLOT; before its
 * references are dropped. */
void shmc__watch_reap(shmc_arena_t *a, uint32_t slot);

#endif
