/*
 * stats.c -- an arena's figures (shmc_arena_stats_t), read from its header
 * and process slots with relaxed loads: a snapshot that may be a moment
 * old, never a consistent cut, and never a write to the arena. Serves
 * attached arenas (shmc_arena_stats) and views (shmc_view_stats).
 */
#include <string.h>

#include "inspect/inspect.h"
#include "memory/alloc.h"
#include "memory/tcache.h"

void shmc__stats(shmc_arena_t *a, shmc_arena_stats_t *st)
{
	memset(st, 0, sizeof(*st));
	struct shmc__hdr *h = a->hdr;
	st->capacity = a->capacity;
	uint64_t punched = ld_relaxed(&h->pool.punched_pages) << SHMC__PAGE_SHIFT;
	st->committed = ld_relaxed(&h->committed);
	st->committed -= punched < st->committed ? punched : st->committed;
	st->pool_bytes = ld_relaxed(&h->pool.free_pages) << SHMC__PAGE_SHIFT;
	st->released_bytes = punched;
	st->released_total = ld_relaxed(&h->pool.released_total) << SHMC__PAGE_SHIFT;
	st->used = ld_relaxed(&h->brk);
	unsigned n = shmc__class_count();
	/* A class counts its threads' cached blocks in use (tcache.c); they
	 * are free. */
	uint64_t cached[SHMC__TC_CLASSES] = {0};
	shmc__tcache_tally(a, cached);
	for (unsigned c = 0; c < n; c++) {
		uint64_t in_use = ld_relaxed(&h->classes[c].in_use);
		if (c < SHMC__TC_CLASSES)
			in_use -= cached[c] < in_use ? cached[c] : in_use;
		uint64_t carved = ld_relaxed(&h->classes[c].carved);
		uint64_t size = shmc__class_size(c);
		st->bytes_in_use += in_use * size;
		st->blocks_in_use += in_use;
		unsigned k = c < SHMC_STATS_CLASSES ? c : SHMC_STATS_CLASSES - 1;
		if (k == c)
			st->classes[k].block_size = size;
		st->classes[k].in_use += in_use;
		st->classes[k].carved += carved;
	}
	st->nclasses = n < SHMC_STATS_CLASSES ? n : SHMC_STATS_CLASSES;
	st->lock_recoveries = ld_relaxed(&h->lock_recoveries);
	st->max_procs = a->nprocs;
	st->max_threads = a->nrecs;
	for (uint32_t s = 0; s < a->nprocs; s++)
		st->processes += ld_relaxed(&shmc__proc_at(a, s)->state) != SHMC__PROC_FREE;
}
