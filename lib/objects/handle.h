/*
 * handle.h -- per-process handle tables in the arena.
 */
#ifndef SHMC_HANDLE_H
#define SHMC_HANDLE_H

#include "arena/arena.h"

/* Give process slot CHILD a copy of this process's table, taking a
 * reference for each entry (fork). @return 0, SHMC_EFULL */
int shmc__handles_copy(shmc_arena_t *a, uint32_t child);

/* Give this process's table its first size back if it grew and no handle
 * is held any more. */
void shmc__handles_shrink(shmc_arena_t *a);

/* How many objects slot SLOT holds (read-only). */
uint64_t shmc__handles_count(shmc_arena_t *a, uint32_t slot);

/* Drop every reference held by slot SLOT (dead or detaching). */
void shmc__handles_reap(shmc_arena_t *a, uint32_t slot);

#endif
