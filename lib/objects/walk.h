/*
 * walk.h -- how the arena check (check.c) visits what each module owns.
 *
 * Every module that keeps a private layout in the arena lets the walker see
 * its blocks and the value words and references they hold, without the
 * walker knowing the layout. Nothing here writes to the arena.
 */
#ifndef SHMC_WALK_H
#define SHMC_WALK_H

#include "arena/arena.h"

struct shmc__walk;

/* Mark the block at OFF, which must start a block of at least SIZE bytes,
 * as reachable. Reports and returns false when it does not. */
bool shmc__walk_block(struct shmc__walk *w, uint64_t off, uint64_t size,
		      const char *what);
/* Check a value word: its block and the objects it refers to. */
void shmc__walk_word(struct shmc__walk *w, uint64_t word, const char *what);
/* One more reference to the object at OFF has been found. */
void shmc__walk_ref(struct shmc__walk *w, uint64_t off, const char *what);
/* Report a broken invariant. */
void shmc__walk_error(struct shmc__walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
shmc_arena_t *shmc__walk_arena(struct shmc__walk *w);

/* Visitors of the modules (each bounded by what it validates). */
struct shmc__rec;
/* The value block at OFF: FN is called with each object it refers to.
 * @return false when the block is malformed */
bool shmc__vblock_visit(const shmc_arena_t *a, uint64_t off, uint64_t *size,
			void (*fn)(void *ctx, uint64_t obj), void *ctx);
/* The retire queue of record R: its block, and each pending item. */
void shmc__limbo_visit(struct shmc__walk *w, struct shmc__rec *r,
		       void (*item)(struct shmc__walk *w, uint64_t what));
/* A container body (a retired list array or dict table) with its values.
 * @return -1 when OFF is not such a body. */
int shmc__list_walk_body(struct shmc__walk *w, uint64_t off);
int shmc__dict_walk_body(struct shmc__walk *w, uint64_t off);
/* Either, or an error. */
void shmc__walk_body(struct shmc__walk *w, uint64_t off);
/* The handle table of process slot SLOT: its block and each reference. */
void shmc__handles_visit(struct shmc__walk *w, uint32_t slot);

/* The walk of the arena check; with ON_OBJECT, only as far as calling it
 * for each object reached (views). */
int shmc__check_walk(shmc_arena_t *a, unsigned flags, shmc_check_report_t *rep,
		     shmc_check_fn fn, void *ctx,
		     void (*on_object)(void *octx, uint64_t off), void *octx);

/* The read-only arena behind a view (view.c). */
shmc_arena_t *shmc__view_arena(shmc_view_t *v);

/* Check an arena mapped at BASE without attaching to it (fuzzing, and
 * shmc_check_file). LOCK_FD (may be -1) answers liveness queries. */
int shmc__check_mapping(void *base, uint64_t capacity, int lock_fd,
			shmc_check_report_t *rep, shmc_check_fn fn, void *ctx);

/* A view of an arena mapped at BASE by the caller, who keeps the mapping
 * (and LOCK_FD, may be -1) until shmc_view_close(). For fuzzing: the same
 * code as shmc_view_open's views, without a file. @return 0, -ENOMEM */
int shmc__view_of_mapping(void *base, uint64_t capacity, int lock_fd,
			  shmc_view_t **out);

#endif
