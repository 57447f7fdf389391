/*
 * slabs.h -- the slab scavenger: empty slabs back to the page pool
 * (slabs.c).
 */
#ifndef SHMC_SLABS_H
#define SHMC_SLABS_H

#include "arena/arena.h"

/* Scavenge class CLS: the slabs whose blocks are all on its free list go to
 * the page pool, but for SHMC__SLABS_KEPT of them unless ALL. Skipped when
 * another process is at it. @return the pages given to the pool */
uint64_t shmc__slabs_scavenge(shmc_arena_t *a, unsigned cls, bool all);

/* Empty slabs a scavenge started by frees leaves to the class, so that a
 * class whose use swings by a slab or two does not send it to the pool and
 * take it back over and over. */
#define SHMC__SLABS_KEPT 2u

/* Scavenge every class whose free list grew since its last scavenge, every
 * empty slab. @return the pages given to the pool */
uint64_t shmc__slabs_scavenge_all(shmc_arena_t *a);

/* Empty the large classes' caches of freed blocks into the pool. */
void shmc__slabs_drain_caches(shmc_arena_t *a);

#endif
