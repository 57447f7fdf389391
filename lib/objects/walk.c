/*
 * walk.c -- the walker's core: what every module's walk function calls to
 * show the arena check its blocks, value words and references.
 *
 * A block is marked in the reach bitmap (one bit per 16 bytes of the data
 * region, as carved when the walk began); reaching one twice, or a block
 * that is not one, is an error. A reference to an object counts one found
 * reference and queues the object the first time it is seen; the driver
 * (inspect/check.c) drains the queue, so objects are visited iteratively,
 * however deep they nest. Everything read from the arena is untrusted:
 * offsets go through the checked accessor and value blocks are validated
 * before they are followed. Nothing is written to the arena.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "memory/alloc.h"
#include "memory/epoch.h"
#include "objects/obj.h"
#include "objects/walk.h"
#include "values/venc.h"

shmc_arena_t *shmc__walk_arena(struct shmc__walk *w)
{
	return w->a;
}

__attribute__((format(printf, 2, 0)))
static void say(struct shmc__walk *w, const char *fmt, va_list ap)
{
	if (w->fn == NULL)
		return;
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	w->fn(w->ctx, msg);
}

void shmc__walk_error(struct shmc__walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	w->rep->errors++;
	say(w, fmt, ap);
	va_end(ap);
}

/* A finding that is not a broken invariant (a leak, a dead process). */
void shmc__walk_note(struct shmc__walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(w, fmt, ap);
	va_end(ap);
}

bool shmc__walk_block(struct shmc__walk *w, uint64_t off, uint64_t size,
		      const char *what)
{
	/* Only blocks below the brk read at the start have bits (a live
	 * arena may grow while it is walked). */
	if (off < w->data_off || off >= w->brk) {
		shmc__walk_error(w, "%s at %#llx is outside the carved region", what,
				 (unsigned long long)off);
		return false;
	}
	uint64_t bs = shmc__block_size(w->a, off);
	if (bs == 0) {
		shmc__walk_error(w, "%s at %#llx is not a block", what,
				 (unsigned long long)off);
		return false;
	}
	if (bs < size) {
		shmc__walk_error(w, "%s at %#llx needs %llu bytes, its block has %llu",
				 what, (unsigned long long)off,
				 (unsigned long long)size, (unsigned long long)bs);
		return false;
	}
	if (shmc__walk_bit_set(w->reach, (off - w->data_off) / SHMC__WALK_GRAIN)) {
		shmc__walk_error(w, "%s at %#llx is reached twice", what,
				 (unsigned long long)off);
		return false;
	}
	w->rep->blocks++;
	return true;
}

/* The entry for object OFF, inserted if new (NULL when out of memory). */
static struct shmc__walk_obj *obj_entry(struct shmc__walk *w, uint64_t off, bool *isnew)
{
	if (w->nobjs * 2 >= w->capobjs) {
		size_t ncap = w->capobjs ? 2 * w->capobjs : 1024;
		struct shmc__walk_obj *n = calloc(ncap, sizeof(*n));
		if (n == NULL) {
			w->oom = true;
			return NULL;
		}
		for (size_t i = 0; i < w->capobjs; i++) {
			if (w->objs[i].off == 0)
				continue;
			size_t j = (w->objs[i].off >> 4) & (ncap - 1);
			while (n[j].off)
				j = (j + 1) & (ncap - 1);
			n[j] = w->objs[i];
		}
		free(w->objs);
		w->objs = n;
		w->capobjs = ncap;
	}
	size_t j = (off >> 4) & (w->capobjs - 1);
	while (w->objs[j].off && w->objs[j].off != off)
		j = (j + 1) & (w->capobjs - 1);
	*isnew = w->objs[j].off == 0;
	if (*isnew) {
		w->objs[j].off = off;
		w->nobjs++;
	}
	return &w->objs[j];
}

void shmc__walk_ref(struct shmc__walk *w, uint64_t off, const char *what)
{
	struct shmc__obj *o = shmc__at(w->a, off, sizeof(struct shmc__obj), 16);
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC || !shmc__kind_of(o->kind)) {
		shmc__walk_error(w, "%s refers to %#llx, which is not an object", what,
				 (unsigned long long)off);
		return;
	}
	bool isnew;
	struct shmc__walk_obj *e = obj_entry(w, off, &isnew);
	if (e == NULL)
		return;
	e->found++;
	if (!isnew)
		return;
	if (w->qtail == w->qcap) {
		size_t ncap = w->qcap ? 2 * w->qcap : 1024;
		uint64_t *q = realloc(w->queue, ncap * sizeof(uint64_t));
		if (q == NULL) {
			w->oom = true;
			return;
		}
		w->queue = q;
		w->qcap = ncap;
	}
	w->queue[w->qtail++] = off;
}

static void ref_fn(void *ctx, uint64_t obj)
{
	shmc__walk_ref(ctx, obj, "a stored value");
}

static void walk_value_block(struct shmc__walk *w, uint64_t off, const char *what)
{
	uint64_t size;
	if (!shmc__vblock_visit(w->a, off, &size, NULL, NULL)) {
		shmc__walk_error(w, "%s: value block at %#llx is malformed", what,
				 (unsigned long long)off);
		return;
	}
	if (shmc__walk_block(w, off, size, what))
		shmc__vblock_visit(w->a, off, &size, ref_fn, w);
}

void shmc__walk_word(struct shmc__walk *w, uint64_t word, const char *what)
{
	if (shmc__w_is_int(word) || word == SHMC__W_NONE || word == SHMC__W_TRUE ||
	    word == SHMC__W_FALSE)
		return;
	if (shmc__w_is_ref(word))
		shmc__walk_ref(w, shmc__w_ref_off(word), what);
	else if (shmc__w_is_block(word))
		walk_value_block(w, word, what);
	else
		shmc__walk_error(w, "%s holds %#llx, which is not a value", what,
				 (unsigned long long)word);
}

void shmc__walk_body(struct shmc__walk *w, uint64_t off)
{
	/* The body's first word says which kind's it is. */
	const struct shmc__kind *k = shmc__kind_of_body(w->a, off);
	if (k == NULL || k->body_walk == NULL || k->body_walk(w, off) != 0)
		shmc__walk_error(w, "retired body at %#llx is no kind's body",
				 (unsigned long long)off);
}

void shmc__walk_retired(struct shmc__walk *w, uint64_t what)
{
	uint64_t off = what & ~(uint64_t)SHMC__RETIRE_TAG_MASK;
	switch (what & SHMC__RETIRE_TAG_MASK) {
	case SHMC__RETIRE_FREE:
		shmc__walk_block(w, off, 1, "retired block");
		break;
	case SHMC__RETIRE_VALUE:
		walk_value_block(w, off, "retired value");
		break;
	case SHMC__RETIRE_DECREF:
		shmc__walk_ref(w, off, "retired reference");
		break;
	case SHMC__RETIRE_BODY:
		shmc__walk_body(w, off);
		break;
	default:
		shmc__walk_error(w, "retire queue holds %#llx, which is not an item",
				 (unsigned long long)what);
	}
}

/* The retire queue: epoch.c knows its layout and calls back for each part. */
static bool limbo_block(void *ctx, uint64_t off, uint64_t size)
{
	return shmc__walk_block(ctx, off, size, "retire queue");
}

static void limbo_item(void *ctx, uint64_t what)
{
	shmc__walk_retired(ctx, what);
}

__attribute__((format(printf, 2, 3)))
static void limbo_error(void *ctx, const char *fmt, ...)
{
	struct shmc__walk *w = ctx;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	shmc__walk_error(w, "%s", msg);
}

void shmc__walk_limbo(struct shmc__walk *w, struct shmc__rec *r)
{
	static const struct shmc__limbo_visitor v = {limbo_block, limbo_item,
						     limbo_error};
	shmc__epoch_limbo_visit(w->a, r, &v, w);
}
