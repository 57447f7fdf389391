/*
 * baction.h -- the actions of barriers, remembered per process (baction.c).
 */
#ifndef SHMC_BACTION_H
#define SHMC_BACTION_H

#include "objects/obj.h"

/* Remember FN(CTX) as barrier O's action in this process (replacing one
 * already there). @return 0, -ENOMEM */
int shmc__baction_set(shmc_arena_t *a, struct shmc__obj *o, shmc_barrier_action_fn fn,
		      void *ctx);
/* The action this process remembers for barrier O: false if none. */
bool shmc__baction_get(shmc_arena_t *a, struct shmc__obj *o, shmc_barrier_action_fn *fn,
		       void **ctx);
/* Forget barrier O's action (it is being destroyed). */
void shmc__baction_forget(shmc_arena_t *a, struct shmc__obj *o);

#endif
