/*
 * vdup.h -- a second, independent copy of a stored value word.
 */
#ifndef SHMC_VDUP_H
#define SHMC_VDUP_H

#include "arena/arena.h"

/* A word holding the same value as W, owned separately (for a container
 * that stores one value twice: ls *= 2, ls[0:0] = ls): an immediate is
 * itself, a reference takes one more reference to its object, a value block
 * is copied and takes one more reference to each object it names. W must
 * be held (the caller has its container locked), and what W holds is
 * checked, not trusted. *OUT out. @return 0, SHMC_EFULL, SHMC_ECORRUPT */
int shmc__word_dup(shmc_arena_t *a, uint64_t w, uint64_t *out);

#endif
