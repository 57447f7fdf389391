/*
 * list_slice.c -- ls[start:stop:step]: read, assign and delete a slice,
 * each in one atomic step.
 *
 * Indices follow CPython exactly: PySlice_Unpack turns an omitted part
 * (SHMC_SLICE_NONE) into its default, which depends on the sign of the
 * step, and refuses step 0; PySlice_AdjustIndices then makes negative
 * indices count from the end and clamps the rest to the list, giving the
 * number of items the slice covers. An assignment with step 1 replaces the
 * slice by any number of items (Python's list_ass_slice, where a stop
 * before the start inserts at the start); with another step it needs as
 * many items as the slice covers (SHMC_ESIZE).
 *
 * Publication, as everywhere in the list (list.c): a read runs in a
 * snapshot (validated by the sequence lock, so it sees one state of the
 * list); a change holds the writer lock and builds the new array privately,
 * then makes it the list's with one store, and retires the old array and
 * the words it removed, which readers may still be reading. Everything
 * that can fail is done before that store: new items are encoded before
 * the lock is taken, and the retirements are reserved under it. A writer
 * killed before the store leaves the old list and some blocks leaked for
 * the arena check; after it, the new list.
 *
 * The items assigned may be the list itself (ls[1:3] = ls): Python copies
 * it first. Here its words are duplicated under the lock (values/vdup.h),
 * so that the copy is of the list as it is when the assignment happens.
 */
#include <errno.h>

#include "base/heap.h"
#include "containers/list.h"
#include "values/venc.h"

/* A slice as given, with omitted parts replaced (PySlice_Unpack). */
struct slice {
	int64_t start, stop, step;
};

/* The indices it covers in a list of N (PySlice_AdjustIndices): START,
 * START + STEP, ... LEN of them. */
struct span {
	int64_t start, stop, step;
	uint64_t len;
};

static int slice_unpack(int64_t start, int64_t stop, int64_t step, struct slice *s)
{
	if (step == 0)
		return -EINVAL;
	if (step == SHMC_SLICE_NONE)
		step = 1;
	s->step = step;
	s->start = start != SHMC_SLICE_NONE ? start : step < 0 ? INT64_MAX : 0;
	s->stop = stop != SHMC_SLICE_NONE ? stop : step < 0 ? INT64_MIN : INT64_MAX;
	return 0;
}

static int64_t clamp_index(int64_t i, int64_t n, int64_t step)
{
	if (i < 0) {
		i += n;
		if (i < 0)
			i = step < 0 ? -1 : 0;
	} else if (i >= n) {
		i = step < 0 ? n - 1 : n;
	}
	return i;
}

static struct span slice_adjust(const struct slice *s, uint64_t n)
{
	struct span sp = {clamp_index(s->start, (int64_t)n, s->step),
			  clamp_index(s->stop, (int64_t)n, s->step), s->step, 0};
	if (sp.step < 0 && sp.stop < sp.start)
		sp.len = (uint64_t)((sp.start - sp.stop - 1) / -sp.step + 1);
	else if (sp.step > 0 && sp.start < sp.stop)
		sp.len = (uint64_t)((sp.stop - sp.start - 1) / sp.step + 1);
	return sp;
}

/* The index of the J-th item of the span. */
static inline uint64_t span_at(const struct span *sp, uint64_t j)
{
	return (uint64_t)(sp->start + (int64_t)j * sp->step);
}

/* Reading ----------------------------------------------------------------- */

struct get_ctx {
	struct slice s;
	shmc_value_t out;
};

static int get_fn(shmc_arena_t *a, struct shmc__obj *o, void *p)
{
	struct get_ctx *c = p;
	struct shmc__list_arr *arr;
	uint64_t n;
	int rc = shmc__list_arr_get(a, o, &arr, &n);
	if (rc)
		return rc;
	struct span sp = slice_adjust(&c->s, n);
	if ((rc = shmc__seq_new(SHMC_LIST, sp.len, &c->out)) != 0)
		return rc;
	for (uint64_t j = 0; j < sp.len; j++) {
		shmc_value_t v;
		if ((rc = shmc__word_load(a, ld_acquire(&arr->item[span_at(&sp, j)]), &v)) != 0) {
			shmc_value_free(&c->out);
			return rc;
		}
		shmc__seq_push(&c->out, v);
	}
	return 0;
}

static void get_reset(void *p)
{
	shmc_value_free(&((struct get_ctx *)p)->out);
}

int shmc_list_slice_get(shmc_obj_t *h, int64_t start, int64_t stop, int64_t step,
			shmc_value_t *out)
{
	struct get_ctx c;
	int rc;
	if (out == NULL || (rc = slice_unpack(start, stop, step, &c.s)) != 0)
		return out == NULL ? -EINVAL : rc;
	if ((rc = shmc__list_snapshot(h, get_fn, get_reset, &c)) == 0)
		*out = c.out;
	return rc;
}

/* Deleting ---------------------------------------------------------------- */

/* Whether index I is in SP (walked in increasing order: first FIRST, every
 * STRIDE, LEN of them). */
struct ascending {
	uint64_t first, last, stride;
};

static struct ascending ascending_of(const struct span *sp)
{
	struct ascending up;
	up.stride = (uint64_t)(sp->step < 0 ? -sp->step : sp->step);
	up.first = sp->step < 0 ? span_at(sp, sp->len - 1) : (uint64_t)sp->start;
	up.last = up.first + (sp->len - 1) * up.stride;
	return up;
}

static inline bool in_span(const struct ascending *up, uint64_t i)
{
	return i >= up->first && i <= up->last && (i - up->first) % up->stride == 0;
}

int shmc_list_slice_del(shmc_obj_t *h, int64_t start, int64_t stop, int64_t step)
{
	struct slice s;
	struct shmc__writer w;
	struct shmc__list_arr *arr, *na;
	uint64_t n, off;
	int rc = slice_unpack(start, stop, step, &s);
	if (rc || (rc = shmc__writer_enter(h, SHMC_KIND_LIST, 0, &w)) != 0)
		return rc;
	if ((rc = shmc__list_arr_get(w.a, w.o, &arr, &n)) != 0)
		goto out;
	struct span sp = slice_adjust(&s, n);
	if (sp.len == 0)
		goto out;
	if ((rc = shmc__writer_reserve(&w, sp.len + 1)) != 0 ||
	    (rc = shmc__list_arr_new(w.a, n - sp.len, NULL, 0, &na, &off)) != 0)
		goto out;
	struct ascending up = ascending_of(&sp);
	uint64_t k = 0;
	for (uint64_t i = 0; i < n; i++)
		if (!in_span(&up, i))
			st_relaxed(&na->item[k++], ld_relaxed(&arr->item[i]));
	st_relaxed(&na->len, k);
	shmc__list_replace_locked(&w, off);
	for (uint64_t j = 0; j < sp.len; j++)
		shmc__word_retire(w.a, w.r, ld_relaxed(&arr->item[span_at(&sp, j)]));
out:
	shmc__writer_exit(&w);
	return rc;
}

/* Assigning --------------------------------------------------------------- */

/* ls[lo:hi] = WS[0..m), with the lock held; the list's N items in ARR. */
static int assign_run_locked(struct shmc__writer *w, struct shmc__list_arr *arr,
			     uint64_t n, uint64_t lo, uint64_t hi, const uint64_t *ws,
			     uint64_t m)
{
	struct shmc__list_arr *na;
	uint64_t off, removed = hi - lo;
	if (removed == 0 && m == 0)
		return 0;
	int rc = shmc__writer_reserve(w, removed + 1);
	if (rc || (rc = shmc__list_arr_new(w->a, n - removed + m, arr, lo, &na, &off)) != 0)
		return rc;
	for (uint64_t j = 0; j < m; j++)
		st_relaxed(&na->item[lo + j], ws[j]);
	for (uint64_t i = hi; i < n; i++)
		st_relaxed(&na->item[i - removed + m], ld_relaxed(&arr->item[i]));
	st_relaxed(&na->len, n - removed + m);
	shmc__list_replace_locked(w, off);
	for (uint64_t i = lo; i < hi; i++)
		shmc__word_retire(w->a, w->r, ld_relaxed(&arr->item[i]));
	return 0;
}

/* ls[SP] = WS[0..SP.len), an extended slice, with the lock held. */
static int assign_span_locked(struct shmc__writer *w, struct shmc__list_arr *arr,
			      uint64_t n, const struct span *sp, const uint64_t *ws)
{
	struct shmc__list_arr *na;
	uint64_t off;
	if (sp->len == 0)
		return 0;
	int rc = shmc__writer_reserve(w, sp->len + 1);
	if (rc || (rc = shmc__list_arr_new(w->a, arr->cap, arr, n, &na, &off)) != 0)
		return rc;
	for (uint64_t j = 0; j < sp->len; j++)
		st_relaxed(&na->item[span_at(sp, j)], ws[j]);
	shmc__list_replace_locked(w, off);
	for (uint64_t j = 0; j < sp->len; j++)
		shmc__word_retire(w->a, w->r, ld_relaxed(&arr->item[span_at(sp, j)]));
	return 0;
}

int shmc_list_slice_set(shmc_obj_t *h, int64_t start, int64_t stop, int64_t step,
			shmc_value_t items)
{
	struct shmc__writer w;
	struct shmc__obj *o;
	struct shmc__list_arr *arr;
	struct slice s;
	shmc_value_t src = shmc_none();
	uint64_t *ws = NULL, m = 0, n;
	bool self, taken = false;
	/* In Python's order: the handle, the step, then the items. */
	int rc = shmc__resolve(h, SHMC_KIND_LIST, &o);
	if (rc || (rc = slice_unpack(start, stop, step, &s)) != 0 ||
	    (rc = shmc__list_source(h, items, &src, &self)) != 0)
		return rc;
	if (!self && (m = src.seq->len) != 0) {
		if ((ws = shmc__heap_alloc(m * sizeof(uint64_t))) == NULL)
			rc = -ENOMEM;
		else if ((rc = shmc__list_encode(shmc__handle_arena(h), src.seq->items, m, ws)) != 0)
			m = 0; /* nothing left to drop */
		if (rc)
			goto free;
	}
	if ((rc = shmc__writer_enter(h, SHMC_KIND_LIST, 0, &w)) != 0)
		goto drop;
	if ((rc = shmc__list_arr_get(w.a, w.o, &arr, &n)) != 0)
		goto unlock;
	if (self && (m = n) != 0) {
		/* ls[a:b] = ls: the items as they are now, copied. */
		if ((ws = shmc__heap_alloc(m * sizeof(uint64_t))) == NULL) {
			rc = -ENOMEM;
			m = 0;
		} else if ((rc = shmc__list_dup_words(w.a, arr, m, ws)) != 0) {
			m = 0;
		}
		if (rc)
			goto unlock;
	}
	struct span sp = slice_adjust(&s, n);
	if (sp.step == 1) {
		uint64_t lo = (uint64_t)sp.start;
		uint64_t hi = sp.stop < sp.start ? lo : (uint64_t)sp.stop;
		rc = assign_run_locked(&w, arr, n, lo, hi, ws, m);
	} else if (m != sp.len) {
		rc = SHMC_ESIZE;
	} else {
		rc = assign_span_locked(&w, arr, n, &sp, ws);
	}
	taken = rc == 0;
unlock:
	shmc__writer_exit(&w);
drop:
	if (!taken)
		shmc__list_drop_words(shmc__handle_arena(h), ws, m);
free:
	shmc__heap_free(ws);
	shmc_value_free(&src);
	return rc;
}
