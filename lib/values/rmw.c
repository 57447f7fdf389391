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
#include "values/value.h"
#include "values/venc.h"

static bool is_number(shmc_value_t v)
{
	switch (v.type) {
	case SHMC_INT:
	case SHMC_BOOL:
	case SHMC_FLOAT:
	case SHMC_BIGINT:
	case SHMC_COMPLEX:
		return true;
	default:
		return false;
	}
}

/* A real number as a double: -ERANGE for an int past 2**1024 (Python's
 * OverflowError: int too large to convert to float). */
static int as_double(shmc_value_t v, double *out)
{
	switch (v.type) {
	case SHMC_FLOAT:
		*out = v.f;
		return 0;
	case SHMC_BIGINT:
		return shmc__bigint_to_double(v.big->limb, v.big->n, v.big->neg, out);
	default:
		*out = v.type == SHMC_BOOL ? v.b : (double)v.i;
		return 0;
	}
}

/* Python's a + b for numbers: ints add exactly (past 64 bits too), a float
 * makes the sum a float and a complex a complex; bools count as ints. */
int shmc__rmw_add_numbers(shmc_value_t a, shmc_value_t b, shmc_value_t *out)
{
	if (!is_number(a) || !is_number(b))
		return SHMC_ETYPE;
	if (a.type == SHMC_COMPLEX || b.type == SHMC_COMPLEX) {
		double re[2], im[2];
		shmc_value_t v[2] = {a, b};
		for (int k = 0; k < 2; k++) {
			im[k] = 0;
			if (v[k].type == SHMC_COMPLEX) {
				re[k] = v[k].cx->re;
				im[k] = v[k].cx->im;
			} else {
				int rc = as_double(v[k], &re[k]);
				if (rc)
					return rc;
			}
		}
		*out = shmc_complex(re[0] + re[1], im[0] + im[1]);
		return out->type == SHMC_ERROR ? (int)out->i : 0;
	}
	if (a.type == SHMC_FLOAT || b.type == SHMC_FLOAT) {
		double x, y;
		int rc = as_double(a, &x);
		if (rc || (rc = as_double(b, &y)) != 0)
			return rc;
		*out = shmc_float(x + y);
		return 0;
	}
	return shmc__int_add(a, b, out);
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
	int64_t sum;
	int rc;

	switch (op->kind) {
	case SHMC__RMW_ADD:
		if (shmc__w_is_int(old) && op->arg.type == SHMC_INT &&
		    !__builtin_add_overflow(shmc__w_int(old), op->arg.i, &sum)) {
			/* The common case, without decoding. */
			next = shmc_int(sum);
		} else { /* past 64 bits too: a big int */
			if ((rc = shmc__word_load(a, old, &cur)) != 0)
				return rc;
			rc = shmc__rmw_add_numbers(cur, op->arg, &next);
			shmc_value_free(&cur);
			if (rc)
				return rc;
		}
		if ((rc = shmc__word_store(a, next, &nw)) != 0 ||
		    (rc = publish(w, slot, old, nw)) != 0) {
			if (next.owned) /* a big int or complex */
				shmc_value_free(&next);
			return rc;
		}
		if (op->result)
			*op->result = next;
		else if (next.owned)
			shmc_value_free(&next);
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
