/*
 * mvalue.c -- the Manager's Value: Python's manager.Value(typecode, value),
 * where the typecode is only a label and the value is any value
 * (Value('f', 0.1), Value('i', 'text')). The C-typed numbers of
 * multiprocessing.Value are numeric.c's.
 *
 * Layout: the body is two value words (values/venc.h):
 *
 *   typecode  the label, a str, fixed at creation
 *   val       the value
 *
 * Reads are lock-free: one acquire load of val inside an epoch section,
 * then its decoding (a replaced block is retired, never freed under a
 * reader). Writers hold the object's writer lock and publish with one
 * atomic store of val, retiring the old word: set() stores a value encoded
 * before the lock; add, compare-and-set and update run the same
 * read-modify-write of one word as a namespace attribute (values/rmw.c).
 * A writer killed anywhere leaves val old or new: repair has nothing to
 * do, and a value it had encoded but not stored is a leak the arena check
 * can sweep.
 */
#include <errno.h>
#include <string.h>

#include "values/repr.h"
#include "values/rmw.h"
#include "values/venc.h"
#include "sync/sync.h"

struct mvalue_body {
	atomic_u64 typecode;
	atomic_u64 val;
};

static inline struct mvalue_body *body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct mvalue_body);
}

/* Kind functions ------------------------------------------------------------ */

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	shmc__word_drop(a, ld_relaxed(&body(o)->typecode));
	shmc__word_drop(a, ld_relaxed(&body(o)->val));
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	(void)o; /* every change is one store */
	return 0;
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	shmc__walk_word(w, ld_acquire(&body(o)->typecode), "Value typecode");
	shmc__walk_word(w, ld_acquire(&body(o)->val), "Value value");
}

/* Value('f', 0.1): the repr of the label and of the value, as Python's
 * managers.Value.__repr__ (which str() of a ValueProxy prints). */
static int mvalue_str(shmc_obj_t *h, char **out)
{
	struct shmc__reader rd;
	shmc_value_t code = shmc_none(), v = shmc_none();
	int rc = shmc__reader_enter(h, SHMC_KIND_MVALUE, &rd);
	if (rc)
		return rc;
	if ((rc = shmc__word_load(rd.a, ld_acquire(&body(rd.o)->typecode), &code)) == 0)
		rc = shmc__word_load(rd.a, ld_acquire(&body(rd.o)->val), &v);
	shmc__reader_exit(&rd);
	if (rc == 0) {
		struct shmc__sbuf sb = {0};
		shmc__sb_puts(&sb, "Value(");
		shmc__repr(&sb, code);
		shmc__sb_puts(&sb, ", ");
		shmc__repr(&sb, v);
		shmc__sb_putc(&sb, ')');
		rc = shmc__sb_finish(&sb, out);
	}
	shmc_value_free(&code);
	shmc_value_free(&v);
	return rc;
}

const struct shmc__kind shmc__mvalue_kind = {
	.typeid = "Value",
	.proxy = "ValueProxy",
	.body_size = sizeof(struct mvalue_body),
	.destroy = destroy,
	.repair = repair,
	.str = mvalue_str,
	.walk = walk,
};

/* Public API -------------------------------------------------------------- */

int shmc_mvalue_new(shmc_arena_t *a, const char *typecode, shmc_value_t v, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	if (typecode == NULL)
		return -EINVAL;
	uint64_t cw, vw;
	shmc_value_t code = shmc_strn(typecode, strlen(typecode));
	int rc = shmc__word_store(a, code, &cw);
	if (rc)
		return rc;
	if ((rc = shmc__word_store(a, v, &vw)) != 0) {
		shmc__word_drop(a, cw);
		return rc;
	}
	shmc_obj_t *h;
	if ((rc = shmc__obj_create(a, SHMC_KIND_MVALUE, &h)) != 0) {
		shmc__word_drop(a, cw);
		shmc__word_drop(a, vw);
		return rc;
	}
	struct mvalue_body *b = body(shmc__obj_of(h));
	st_relaxed(&b->typecode, cw);
	st_release(&b->val, vw); /* before the handle is shared */
	*out = h;
	return 0;
}

/* A word of H read lock-free and decoded into *OUT. */
static int load(shmc_obj_t *h, bool typecode, shmc_value_t *out)
{
	struct shmc__reader rd;
	shmc_value_t v;
	int rc = shmc__reader_enter(h, SHMC_KIND_MVALUE, &rd);
	if (rc)
		return rc;
	if (out == NULL) {
		shmc__reader_exit(&rd);
		return -EINVAL;
	}
	struct mvalue_body *b = body(rd.o);
	rc = shmc__word_load(rd.a, ld_acquire(typecode ? &b->typecode : &b->val), &v);
	shmc__reader_exit(&rd);
	if (rc == 0)
		*out = v;
	return rc;
}

int shmc_mvalue_get(shmc_obj_t *h, shmc_value_t *out)
{
	return load(h, false, out);
}

int shmc_mvalue_typecode(shmc_obj_t *h, shmc_value_t *out)
{
	return load(h, true, out);
}

int shmc_mvalue_set(shmc_obj_t *h, shmc_value_t v)
{
	struct shmc__obj *o;
	struct shmc__writer w;
	uint64_t vw;
	int rc = shmc__resolve(h, SHMC_KIND_MVALUE, &o);
	if (rc || (rc = shmc__word_store(shmc__handle_arena(h), v, &vw)) != 0)
		return rc;
	if ((rc = shmc__writer_begin(shmc__handle_arena(h), o, 1, &w)) != 0) {
		shmc__word_drop(shmc__handle_arena(h), vw);
		return rc;
	}
	struct mvalue_body *b = body(o);
	uint64_t old = ld_relaxed(&b->val);
	uint64_t s = shmc__write_begin(o);
	st_release(&b->val, vw); /* the publication */
	shmc__write_end(o, s);
	shmc__word_retire(w.a, w.r, old);
	shmc__writer_exit(&w);
	return 0;
}

static int mvalue_rmw(shmc_obj_t *h, const struct shmc__rmw *op)
{
	struct shmc__writer w;
	int rc = shmc__writer_enter(h, SHMC_KIND_MVALUE, 0, &w);
	if (rc)
		return rc;
	rc = shmc__rmw_locked(&w, &body(w.o)->val, op);
	shmc__writer_exit(&w);
	return rc;
}

int shmc_mvalue_add(shmc_obj_t *h, shmc_value_t delta, shmc_value_t *result)
{
	struct shmc__rmw op = {.kind = SHMC__RMW_ADD, .arg = delta, .result = result};
	return mvalue_rmw(h, &op);
}

int shmc_mvalue_cas(shmc_obj_t *h, shmc_value_t expected, shmc_value_t desired)
{
	struct shmc__rmw op = {.kind = SHMC__RMW_CAS, .arg = expected, .desired = desired};
	return mvalue_rmw(h, &op);
}

int shmc_mvalue_update(shmc_obj_t *h, shmc_update_fn fn, void *ctx)
{
	if (fn == NULL)
		return -EINVAL;
	struct shmc__rmw op = {.kind = SHMC__RMW_UPDATE, .fn = fn, .ctx = ctx};
	return mvalue_rmw(h, &op);
}
