/*
 * inspect.h -- the arena check, read-only views and statistics, as the
 * lifecycle and the fuzzers reach them.
 */
#ifndef SHMC_INSPECT_H
#define SHMC_INSPECT_H

#include "objects/walk.h"

/* The walk of the arena check; with ON_OBJECT, only as far as calling it
 * for each object reached (views). */
int shmc__check_walk(shmc_arena_t *a, unsigned flags, shmc_check_report_t *rep,
		     shmc_check_fn fn, void *ctx,
		     void (*on_object)(void *octx, uint64_t off), void *octx);

/* The read-only arena behind a view (view.c). */
shmc_arena_t *shmc__view_arena(shmc_view_t *v);

/* Check an arena mapped at BASE without attaching to it (fuzzing, and
 * shmc_arena_check_file). LOCK_FD (may be -1) answers liveness queries. */
int shmc__check_mapping(void *base, uint64_t capacity, int lock_fd,
			shmc_check_report_t *rep, shmc_check_fn fn, void *ctx);

/* A view of an arena mapped read-only at BASE, with LOCK_FD (may be -1)
 * answering liveness queries. BORROWED: the caller keeps the mapping and
 * the descriptor until shmc_view_close() (fuzzing); else the view owns
 * them (shmc_view_open). @return 0, -ENOMEM */
int shmc__view_of_mapping(void *base, uint64_t capacity, int lock_fd,
			  bool borrowed, shmc_view_t **out);

/* Fill *st (shmc_arena_stats), for an attached arena or a view's. */
void shmc__stats(shmc_arena_t *a, shmc_arena_stats_t *st);

#endif
