/*
 * handle.h -- per-process handle tables in the arena.
 */
#ifndef SHMC_HANDLE_H
#define SHMC_HANDLE_H

#include "arena.h"

/* Give process slot CHILD a copy of this process's table, taking a
 * reference for each entry (fork). @return 0, SHMC_EFULL */
int shmc__handles_copy(shmc_arena_t *a, uint32_t child);

/* Drop every reference held by slot SLOT (dead or detaching). */
void shmc__handles_reap(shmc_arena_t *a, uint32_t slot);

#endif
