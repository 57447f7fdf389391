/*
 * slabs.h -- the slab scavenger: empty slabs back to the page pool
 * (slabs.c).
 */
#ifndef SHMC_SLABS_H
#define SHMC_SLABS_H

#include "arena/arena.h"

/* Scavenge class CLS: the slabs whose blocks are all on its free list go to
 * the page pool. Skipped when another process is at it. @return the pages
 * given to the pool */
uint64_t shmc__slabs_scavenge(shmc_arena_t *a, unsigned cls);

/* Scavenge every class whose free list grew since its last scavenge.
 * @return the pages given to the pool */
uint64_t shmc__slabs_scavenge_all(shmc_arena_t *a);

#endif
