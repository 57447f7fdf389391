/*
 * vdup.c -- duplicating a stored value without decoding it.
 *
 * A value block is immutable once published, so its bytes can be copied as
 * they are into a new block; what makes the copy a value of its own is the
 * references: each object the stream names gets one more reference, as
 * encoding the value again would have given it. The copy is validated
 * before any reference is taken, so a malformed block takes none and costs
 * nothing. This is cheaper than decoding and encoding again (no private
 * copy, no handles), and makes no difference for anything that reads it.
 */
#include <string.h>

#include "memory/alloc.h"
#include "objects/obj.h"
#include "values/vdup.h"
#include "values/venc.h"

static void incref_fn(void *ctx, uint64_t obj)
{
	shmc__obj_incref(ctx, obj);
}

/* Whether OFF names a live managed object. */
static bool is_object(shmc_arena_t *a, uint64_t off)
{
	const struct shmc__obj *o = shmc__at(a, off, sizeof(struct shmc__obj), 16);
	return o && o->magic == SHMC__OBJ_MAGIC && ld_relaxed(&((struct shmc__obj *)o)->refs) > 0;
}

/* Every reference in the stream must name an object: checked before any
 * reference is taken. */
static void check_fn(void *ctx, uint64_t obj)
{
	struct { shmc_arena_t *a; bool ok; } *c = ctx;
	if (!is_object(c->a, obj))
		c->ok = false;
}

int shmc__word_dup(shmc_arena_t *a, uint64_t w, uint64_t *out)
{
	if (shmc__w_is_ref(w)) {
		if (!is_object(a, shmc__w_ref_off(w)))
			return SHMC_ECORRUPT;
		shmc__obj_incref(a, shmc__w_ref_off(w));
		*out = w;
		return 0;
	}
	if (!shmc__w_is_block(w)) {
		if (w == SHMC__W_EMPTY || w == SHMC__W_DELETED)
			return SHMC_ECORRUPT;
		*out = w; /* an immediate: the word is the value */
		return 0;
	}
	const struct shmc__vblock *src = shmc__vblock_at(a, w);
	if (src == NULL)
		return SHMC_ECORRUPT;
	uint64_t size = sizeof(*src) + src->len, off, checked;
	int rc = shmc__alloc(a, size, &off);
	if (rc)
		return rc;
	memcpy(a->base + off, src, size);
	/* From here on only the copy is read: another process scribbling on
	 * the original cannot make the references taken differ from those
	 * the copy holds. */
	struct { shmc_arena_t *a; bool ok; } c = {a, true};
	if (!shmc__vblock_visit(a, off, &checked, check_fn, &c) || !c.ok || checked != size) {
		shmc__free(a, off);
		return SHMC_ECORRUPT;
	}
	shmc__vblock_visit(a, off, &checked, incref_fn, a);
	*out = off;
	return 0;
}
