/*
 * rmw.c -- atomic read-modify-write: add, compare-and-set, update.
 *
 * All three run under the container's writer lock: the slot cannot be
 * replaced, moved by a resize or retired while they compute, so "no other
 * writer in between" holds by construction. The result is published with
 * one atomic store, as every write is.
 */
#include <errno.h>
#include <math.h>

#include "values/rmw.h"
#include "values/venc.h"

static bool is_number(shmc_value_t v)
{
	return v.type == SHMC_INT || v.type == SHMC_BOOL || v.type == SHMC_FLOAT;
}

static double as_double(shmc_value_t v)
{
	return v.type == SHMC_FLOAT ? v.f : (double)(v.type == SHMC_BOOL ? v.b : v.i);
}

/* Python's a + b for numbers: int + int is int (here: -ERANGE on 64-bit
 * overflow), anything with a float is a float, bools count as ints. */
static int add_numbers(shmc_value_t a, shmc_value_t b, shmc_value_t *out)
{
	if (!is_number(a) || !is_number(b))
		return SHMC_ETYPE;
	if (a.type == SHMC_FLOAT || b.type == SHMC_FLOAT) {
		*out = shmc_float(as_double(a) + as_double(b));
		return 0;
	}
	int64_t x = a.type == SHMC_BOOL ? a.b : a.i;
	int64_t y = b.type == SHMC_BOOL ? b.b : b.i;
	int64_t s;
	if (__builtin_add_overflow(x, y, &s))
		return -ERANGE;
	*out = shmc_int(s);
	return 0;
}

/* Store NW over OLD; nothing is changed on failure (no room to retire). */
static int publish(struct shmc__writer *w, atomic_u64 *slot, uint64_t old,
		   uint64_t nw)
{
	int rc;
	if (shmc__word_needs_retire(old) && (rc = shmc__writer_reserve(w, 1)) != 0) {
		shmc__word_drop(w->a, nw);
		return rc;
	}
	uint64_t s = shmc__write_begin(w->o);
	st_release(slot, nw);
	shmc__write_end(w->o, s);
	shmc__word_retire(w->a, w->r, old);
	return 0;
}

int shmc__rmw_locked(struct shmc__writer *w, atomic_u64 *slot,
		     const struct shmc__rmw *op)
{
	shmc_arena_t *a = w->a;
	uint64_t old = ld_acquire(slot), nw;
	shmc_value_t cur, next;
	int rc;

	switch (op->kind) {
	case SHMC__RMW_ADD:
		if (shmc__w_is_int(old) && op->arg.type == SHMC_INT) {
			/* The common case, without decoding. */
			int64_t s;
			if (__builtin_add_overflow(shmc__w_int(old), op->arg.i, &s))
				return -ERANGE;
			next = shmc_int(s);
		} else {
			if ((rc = shmc__word_load(a, old, &cur)) != 0)
				return rc;
			rc = add_numbers(cur, op->arg, &next);
			shmc_value_free(&cur);
			if (rc)
				return rc;
		}
		if ((rc = shmc__word_store(a, next, &nw)) != 0 ||
		    (rc = publish(w, slot, old, nw)) != 0)
			return rc;
		if (op->result)
			*op->result = next;
		return 0;
	case SHMC__RMW_CAS:
		/* DESIRED is checked first, as Value's and Array's are: a
		 * malformed one fails whatever the comparison says. */
		if ((rc = shmc__word_check(a, op->desired)) != 0)
			return rc;
		if (!shmc__word_eq(a, old, op->arg))
			return 0;
		if ((rc = shmc__word_store(a, op->desired, &nw)) != 0 ||
		    (rc = publish(w, slot, old, nw)) != 0)
			return rc;
		return 1;
	case SHMC__RMW_UPDATE:
		if ((rc = shmc__word_load(a, old, &cur)) != 0)
			return rc;
		if ((rc = op->fn(&cur, op->ctx)) == 0 &&
		    (rc = shmc__word_store(a, cur, &nw)) == 0)
			rc = publish(w, slot, old, nw);
		shmc_value_free(&cur);
		return rc;
	}
	return -EINVAL;
}
