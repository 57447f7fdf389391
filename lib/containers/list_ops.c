/*
 * list_ops.c -- the rest of ListProxy: searches (count, in, index with a
 * range) and the sequence operators (ls + x and ls * n, which return plain
 * lists, and ls *= n in place; ls += x is shmc_list_extend, in list.c).
 *
 * Searches read the list in a snapshot (shmc__obj_snapshot: optimistic,
 * validated by the sequence lock), comparing each word with Python's ==
 * where it lies (veq.c), without decoding. + and * copy the list out in a
 * snapshot and build the result privately; the other operand of +, when it
 * is another managed list, is read in a snapshot of its own (one state of
 * each list, not of both at one instant: that would take both locks).
 *
 * ls *= n holds the writer lock and builds the new array privately: the
 * first copy of the items is the words themselves, the others are
 * duplicates (values/vdup.h: a value block copied, references counted
 * again), then one store publishes it (list.c). A failure part-way drops
 * the duplicates made; a writer killed part-way leaks them and leaves the
 * list as it was.
 */
#include <errno.h>

#include <string.h>

#include "containers/list.h"
#include "memory/alloc.h"
#include "values/vdup.h"
#include "values/venc.h"

/* Searching --------------------------------------------------------------- */

struct find_ctx {
	shmc_value_t v;
	int64_t start, stop; /* Python's, adjusted to the length when read */
	bool all;	     /* count them all, or stop at the first */
	int64_t found;	     /* the count, or the first position (-1) */
};

/* Python's list.index clamping: negative counts from the end, then 0. */
static uint64_t clamp_start(int64_t i, uint64_t n)
{
	if (i < 0 && (i += (int64_t)n) < 0)
		i = 0;
	return (uint64_t)i;
}

static int find_fn(shmc_arena_t *a, struct shmc__obj *o, void *p)
{
	struct find_ctx *c = p;
	struct shmc__list_arr *arr;
	uint64_t n;
	int rc = shmc__list_arr_get(a, o, &arr, &n);
	if (rc)
		return rc;
	uint64_t stop = clamp_start(c->stop, n);
	c->found = c->all ? 0 : -1;
	for (uint64_t i = clamp_start(c->start, n); i < stop && i < n; i++) {
		if (!shmc__word_eq(a, ld_acquire(&arr->item[i]), c->v))
			continue;
		if (!c->all) {
			c->found = (int64_t)i;
			break;
		}
		c->found++;
	}
	return 0;
}

static void nothing_to_reset(void *p)
{
	(void)p;
}

static int find(shmc_obj_t *h, shmc_value_t v, int64_t start, int64_t stop, bool all,
		int64_t *found)
{
	if (v.type == SHMC_ERROR)
		return (int)v.i;
	struct find_ctx c = {v, start == SHMC_SLICE_NONE ? 0 : start,
			     stop == SHMC_SLICE_NONE ? INT64_MAX : stop, all, 0};
	int rc = shmc__list_snapshot(h, find_fn, nothing_to_reset, &c);
	if (rc == 0)
		*found = c.found;
	return rc;
}

int64_t shmc_list_count(shmc_obj_t *h, shmc_value_t v)
{
	int64_t k = 0;
	int rc = find(h, v, 0, INT64_MAX, true, &k);
	return rc ? rc : k;
}

int shmc_list_contains(shmc_obj_t *h, shmc_value_t v)
{
	int64_t k = 0;
	int rc = find(h, v, 0, INT64_MAX, false, &k);
	return rc ? rc : k >= 0;
}

int64_t shmc_list_index_range(shmc_obj_t *h, shmc_value_t v, int64_t start, int64_t stop)
{
	int64_t k = 0;
	int rc = find(h, v, start, stop, false, &k);
	return rc ? rc : k >= 0 ? k : SHMC_EINDEX;
}

/* + and * ------------------------------------------------------------------ */

/* Append the N items at SRC to the plain list *OUT (with room): moved, or
 * copied. Nothing is appended when a copy fails. */
static int push_items(shmc_value_t *out, shmc_value_t *src, size_t n, bool move)
{
	size_t start = out->seq->len;
	for (size_t i = 0; i < n; i++) {
		shmc_value_t v = src[i];
		int rc = move ? 0 : shmc_value_copy(src[i], &v);
		if (rc) {
			while (out->seq->len > start)
				shmc_value_free(&out->seq->items[--out->seq->len]);
			return rc;
		}
		shmc__seq_push(out, v);
	}
	return 0;
}

int shmc_list_concat(shmc_obj_t *h, shmc_value_t other, shmc_value_t *out)
{
	struct shmc__obj *o;
	shmc_value_t mine, theirs = shmc_none(), res;
	bool self = false;
	int rc = shmc__resolve(h, SHMC_KIND_LIST, &o);
	if (rc)
		return rc;
	if (out == NULL)
		return -EINVAL;
	if (other.type == SHMC_ERROR)
		return (int)other.i;
	if (other.type != SHMC_LIST && other.type != SHMC_REF)
		return SHMC_ETYPE; /* Python: list + tuple is a TypeError */
	if (other.type == SHMC_REF &&
	    (rc = shmc__list_source(h, other, &theirs, &self)) != 0)
		return rc;
	if ((rc = shmc_list_copy(h, &mine)) != 0) {
		shmc_value_free(&theirs);
		return rc;
	}
	const shmc_value_t *b = self ? &mine : other.type == SHMC_REF ? &theirs : &other;
	size_t na = mine.seq->len, nb = b->seq->len;
	if ((rc = shmc__seq_new(SHMC_LIST, na + nb, &res)) == 0) {
		push_items(&res, mine.seq->items, na, true);
		/* RES owns them now; for ls + ls they are also copied from
		 * there, below (nb was read before). */
		mine.seq->len = 0;
		if ((rc = push_items(&res, b->seq->items, nb, b == &theirs)) == 0) {
			if (b == &theirs)
				theirs.seq->len = 0;
			*out = res;
		} else {
			shmc_value_free(&res);
		}
	}
	shmc_value_free(&mine);
	shmc_value_free(&theirs);
	return rc;
}

int shmc_list_repeat(shmc_obj_t *h, int64_t n, shmc_value_t *out)
{
	shmc_value_t mine, res;
	if (out == NULL)
		return -EINVAL;
	int rc = shmc_list_copy(h, &mine);
	if (rc)
		return rc;
	size_t len = mine.seq->len;
	if (n <= 0 || len == 0) {
		shmc_value_free(&mine);
		return shmc__seq_new(SHMC_LIST, 0, out);
	}
	if ((uint64_t)n > SIZE_MAX / sizeof(shmc_value_t) / len) {
		shmc_value_free(&mine);
		return -ENOMEM; /* Python: MemoryError */
	}
	if ((rc = shmc__seq_new(SHMC_LIST, len * (size_t)n, &res)) != 0) {
		shmc_value_free(&mine);
		return rc;
	}
	push_items(&res, mine.seq->items, len, true);
	mine.seq->len = 0; /* moved */
	shmc_value_free(&mine);
	for (int64_t k = 1; k < n; k++) {
		if ((rc = push_items(&res, res.seq->items, len, false)) != 0) {
			shmc_value_free(&res);
			return rc;
		}
	}
	*out = res;
	return 0;
}

int shmc_list_inplace_repeat(shmc_obj_t *h, int64_t n)
{
	struct shmc__writer w;
	struct shmc__list_arr *arr, *na;
	uint64_t len, off;
	int rc = shmc__writer_enter(h, SHMC_KIND_LIST, 1, &w);
	if (rc)
		return rc;
	if ((rc = shmc__list_arr_get(w.a, w.o, &arr, &len)) != 0)
		goto out;
	if (n <= 0) { /* Python clears the list */
		shmc__writer_detach(&w, &SHMC__BODY(w.o, struct shmc__list_body)->arr_off, arr);
		goto out;
	}
	if (n == 1 || len == 0)
		goto out;
	if (len > UINT64_MAX / (uint64_t)n) {
		rc = SHMC_EFULL; /* no arena holds it */
		goto out;
	}
	uint64_t total = len * (uint64_t)n, i;
	if ((rc = shmc__list_arr_new(w.a, total, arr, len, &na, &off)) != 0)
		goto out;
	for (i = len; i < total; i++) {
		uint64_t word;
		if ((rc = shmc__word_dup(w.a, ld_relaxed(&arr->item[i % len]), &word)) != 0)
			break;
		st_relaxed(&na->item[i], word);
	}
	if (rc) { /* nobody saw the new array: drop it and the copies */
		while (i-- > len)
			shmc__word_drop(w.a, ld_relaxed(&na->item[i]));
		shmc__free(w.a, off);
		goto out;
	}
	st_relaxed(&na->len, total);
	shmc__list_replace_locked(&w, off);
out:
	shmc__writer_exit(&w);
	return rc;
}
