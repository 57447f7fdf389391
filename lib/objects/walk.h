/*
 * walk.h -- the walker: how the arena check (inspect/check.c) visits what
 * each module owns.
 *
 * Every module that keeps a private layout in the arena lets the walker see
 * its blocks and the value words and references they hold, without the
 * walker knowing the layout. The walker's core (objects/walk.c) marks
 * blocks, follows value words and counts references; the check's driver
 * (inspect/check.c) walks the header, slots, records and allocator and
 * compares what was found. Nothing here writes to the arena.
 */
#ifndef SHMC_WALK_H
#define SHMC_WALK_H

#include "arena/arena.h"

/* The walk's state, shared by its core and its driver. */
#define SHMC__WALK_GRAIN 16 /* bitmaps have a bit per 16 bytes of the data region */

struct shmc__walk_obj {
	uint64_t off; /* 0: empty */
	uint64_t found;
};

struct shmc__walk {
	shmc_arena_t *a;
	uint64_t data_off, brk;
	uint8_t *reach, *freeb; /* bitmaps over [data_off, brk) */
	struct shmc__walk_obj *objs;    /* open addressing on off */
	size_t nobjs, capobjs;
	uint64_t *queue;
	size_t qhead, qtail, qcap;
	bool oom;
	shmc_check_report_t *rep;
	shmc_check_fn fn;
	void *ctx;
	void (*on_object)(void *octx, uint64_t off); /* views: each object */
	void *octx;
};


static inline bool shmc__walk_bit_set(uint8_t *map, uint64_t i)
{
	bool was = map[i >> 3] & (1u << (i & 7));
	map[i >> 3] |= (uint8_t)(1u << (i & 7));
	return was;
}

static inline bool shmc__walk_bit(const uint8_t *map, uint64_t i)
{
	return map[i >> 3] & (1u << (i & 7));
}

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
/* Report a finding that is not a broken invariant (a leak, a dead process). */
void shmc__walk_note(struct shmc__walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
shmc_arena_t *shmc__walk_arena(struct shmc__walk *w);

/* Visitors of the modules (each bounded by what it validates). */
struct shmc__rec;
/* The value block at OFF: FN is called with each object it refers to.
 * @return false when the block is malformed */
bool shmc__vblock_visit(const shmc_arena_t *a, uint64_t off, uint64_t *size,
			void (*fn)(void *ctx, uint64_t obj), void *ctx);
/* A detached container body (a retired list array or dict table) with its
 * values, through the kind that owns it; an error if no kind does. */
void shmc__walk_body(struct shmc__walk *w, uint64_t off);
/* A retired item (an offset | SHMC__RETIRE_*), still owned until freed. */
void shmc__walk_retired(struct shmc__walk *w, uint64_t what);
/* The retire queue of record R: its block, and each pending item. */
void shmc__walk_limbo(struct shmc__walk *w, struct shmc__rec *r);
/* The handle table of process slot SLOT: its block and each reference. */
void shmc__handles_visit(struct shmc__walk *w, uint32_t slot);

#endif
