/*
 * heap.h -- the private heap: where snapshots and plain values live.
 *
 * Private copies are served by jemalloc from an arena of their own, so the
 * churn of copying values out of shared memory stays apart from the
 * program's own allocations (and benefits from jemalloc's thread caches).
 */
#ifndef SHMC_HEAP_H
#define SHMC_HEAP_H

#include <stddef.h>

void *shmc__heap_alloc(size_t size);
void *shmc__heap_realloc(void *p, size_t size);
void shmc__heap_free(void *p);

#endif
