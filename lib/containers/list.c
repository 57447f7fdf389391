/*
 * list.c -- the managed list.
 *
 * Layout: the object body holds `arr_off`, the offset of an array block
 * {magic, cap, len, item[cap]}; each item is a value word (values/venc.h).
 *
 * Writers hold the object's lock. Every change is published with one atomic
 * store, so a writer killed at any instruction leaves the old or the new
 * list, never a mixture:
 *   - append with room: item[len] is written first, then len+1 is stored;
 *   - set: the item word is stored;
 *   - pop of the last item: len-1 is stored;
 *   - everything else (growth, insert, delete, extend past capacity, clear,
 *     and every operation of list_slice.c, list_sort.c and list_ops.c)
 *     builds a new array privately and stores its offset in arr_off.
 * Replaced arrays and values are retired (epoch.c), so lock-free readers can
 * finish with what they found. What a killed writer had allocated but not
 * published is leaked, for the arena check to find; nothing needs repair.
 *
 * Readers: get and len read arr_off, then len, then an item, inside an epoch
 * section, without the lock. Whole-list reads (copy, str) use the sequence
 * lock to see one state, which writers other than a plain append bump.
 */
#include <errno.h>
#include <string.h>

#include "containers/list.h"
#include "memory/alloc.h"
#include "base/heap.h"
#include "values/repr.h"
#include "values/rmw.h"
#include "values/vdup.h"
#include "values/venc.h"

#define MIN_CAP 4u

/* An array block's capacity fits in the arena after it. */
static bool arr_fits(shmc_arena_t *a, uint64_t off, const struct shmc__list_arr *arr)
{
	return __atomic_load_n(&arr->cap, __ATOMIC_RELAXED) <=
	       (a->capacity - off - sizeof(*arr)) / sizeof(uint64_t);
}

int shmc__list_arr_get(shmc_arena_t *a, struct shmc__obj *o, struct shmc__list_arr **arr,
		       uint64_t *n)
{
	uint64_t off = ld_acquire(&SHMC__BODY(o, struct shmc__list_body)->arr_off);
	*arr = NULL;
	*n = 0;
	if (off == 0)
		return 0;
	struct shmc__list_arr *p = shmc__at(a, off, sizeof(*p), 16);
	if (p == NULL || p->magic != SHMC__LIST_ARR_MAGIC || !arr_fits(a, off, p))
		return SHMC_ECORRUPT;
	*arr = p;
	*n = shmc__list_len(p);
	return 0;
}

struct shmc__list_arr *shmc__list_arr(shmc_arena_t *a, struct shmc__obj *o)
{
	struct shmc__list_arr *arr;
	uint64_t n;
	return shmc__list_arr_get(a, o, &arr, &n) == 0 ? arr : NULL;
}

int shmc__list_arr_new(shmc_arena_t *a, uint64_t cap, const struct shmc__list_arr *src,
		       uint64_t n, struct shmc__list_arr **out, uint64_t *off)
{
	if (cap < MIN_CAP)
		cap = MIN_CAP;
	if (cap > (SHMC__MAX_BLOCK - sizeof(struct shmc__list_arr)) / sizeof(uint64_t))
		return SHMC_EFULL;
	/* Fill the block: its class is bigger than asked for anyway. */
	uint64_t bytes = shmc__alloc_usable(sizeof(struct shmc__list_arr) + cap * sizeof(uint64_t));
	cap = (bytes - sizeof(struct shmc__list_arr)) / sizeof(uint64_t);
	int rc = shmc__alloc(a, bytes, off);
	if (rc)
		return rc;
	struct shmc__list_arr *arr = (struct shmc__list_arr *)(a->base + *off);
	arr->magic = SHMC__LIST_ARR_MAGIC;
	arr->cap = cap;
	/* One memcpy rather than a loop of atomic words (a list that grows
	 * copies three times its length in all): every caller holds the
	 * list's lock, so no word of SRC changes meanwhile, and the new
	 * block is private until published. */
	if (n)
		memcpy((void *)arr->item, (const void *)src->item, n * sizeof(uint64_t));
	st_relaxed(&arr->len, n);
	*out = arr;
	return 0;
}

void shmc__list_replace_locked(struct shmc__writer *w, uint64_t off)
{
	struct shmc__list_body *b = SHMC__BODY(w->o, struct shmc__list_body);
	uint64_t old = ld_relaxed(&b->arr_off);
	uint64_t s = shmc__write_begin(w->o);
	st_release(&b->arr_off, off); /* the array is complete before it is seen */
	shmc__write_end(w->o, s);
	if (old)
		shmc__epoch_retire(w->a, w->r, old | SHMC__RETIRE_FREE);
}

/* Python's index rules: negative counts from the end. */
static int norm_index(int64_t i, uint64_t n, uint64_t *out)
{
	if (i < 0)
		i += (int64_t)n;
	if (i < 0 || (uint64_t)i >= n)
		return SHMC_EINDEX;
	*out = (uint64_t)i;
	return 0;
}

/* Drop a detached array and every value in it. @return -1 when OFF is not
 * a list array. */
static int body_drop(shmc_arena_t *a, uint64_t off)
{
	struct shmc__list_arr *arr = shmc__at(a, off, sizeof(*arr), 16);
	if (arr == NULL || arr->magic != SHMC__LIST_ARR_MAGIC ||
	    arr->cap > (a->capacity - off - sizeof(*arr)) / sizeof(uint64_t))
		return -1;
	uint64_t n = shmc__list_len(arr);
	for (uint64_t i = 0; i < n; i++)
		shmc__word_drop(a, ld_relaxed(&arr->item[i]));
	shmc__free(a, off);
	return 0;
}

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	uint64_t off = ld_relaxed(&SHMC__BODY(o, struct shmc__list_body)->arr_off);
	if (off)
		body_drop(a, off);
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	/* Every change is one store: verify that the array is sound. */
	if (ld_relaxed(&SHMC__BODY(o, struct shmc__list_body)->arr_off) == 0)
		return 0;
	struct shmc__list_arr *arr = shmc__list_arr(a, o);
	if (arr == NULL || ld_relaxed(&arr->len) > arr->cap)
		return SHMC_ECORRUPT;
	return 0;
}

/* The length of ARR, at OFF, for readers without an epoch section (views
 * of a live arena, where the block may be freed and reused as they read):
 * its capacity read once and bounded by the arena. */
static uint64_t len_bounded(shmc_arena_t *a, uint64_t off, struct shmc__list_arr *arr)
{
	uint64_t n = ld_acquire(&arr->len);
	uint64_t cap = __atomic_load_n(&arr->cap, __ATOMIC_RELAXED);
	uint64_t most = (a->capacity - off - sizeof(*arr)) / sizeof(uint64_t);
	cap = cap < most ? cap : most;
	return n < cap ? n : cap;
}

/* Show the check the array at OFF and its items. @return -1 when OFF is not
 * a list array (nothing reported). The arena may be changing under a view:
 * the capacity is read once. */
static int body_walk(struct shmc__walk *w, uint64_t off)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	struct shmc__list_arr *arr = shmc__at(a, off, sizeof(*arr), 16);
	if (arr == NULL || arr->magic != SHMC__LIST_ARR_MAGIC)
		return -1;
	/* len, then cap (acquire), then the block's size: the order in
	 * which an append that grew the array in place published them in
	 * reverse, so that a live arena's check sees them agree. */
	uint64_t n = ld_acquire(&arr->len);
	uint64_t cap = __atomic_load_n(&arr->cap, __ATOMIC_ACQUIRE);
	if (cap > (a->capacity - off - sizeof(*arr)) / sizeof(uint64_t)) {
		shmc__walk_error(w, "list array at %#llx: capacity %llu past the arena",
				 (unsigned long long)off, (unsigned long long)cap);
		return 0;
	}
	if (!shmc__walk_block(w, off, sizeof(*arr) + cap * sizeof(uint64_t), "list array"))
		return 0;
	if (n > cap) {
		shmc__walk_error(w, "list array at %#llx: length %llu over capacity %llu",
				 (unsigned long long)off, (unsigned long long)n,
				 (unsigned long long)cap);
		n = cap;
	}
	for (uint64_t i = 0; i < n; i++)
		shmc__walk_word(w, ld_acquire(&arr->item[i]), "list item");
	return 0;
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	uint64_t off = ld_acquire(&SHMC__BODY(o, struct shmc__list_body)->arr_off);
	if (off && body_walk(w, off) != 0)
		shmc__walk_error(w, "list %#llx: array at %#llx is not one",
				 (unsigned long long)shmc__off(shmc__walk_arena(w), o),
				 (unsigned long long)off);
}

static int64_t length(shmc_arena_t *a, struct shmc__obj *o)
{
	struct shmc__list_arr *arr = shmc__list_arr(a, o);
	return arr ? (int64_t)len_bounded(a, shmc__off(a, arr), arr) : 0;
}

static void items(shmc_arena_t *a, struct shmc__obj *o,
		  int (*fn)(void *ctx, uint64_t key, uint64_t val), void *ctx)
{
	struct shmc__list_arr *arr = shmc__list_arr(a, o);
	uint64_t n = arr ? len_bounded(a, shmc__off(a, arr), arr) : 0;
	for (uint64_t i = 0; i < n; i++)
		if (fn(ctx, shmc__w_from_int((int64_t)i), ld_acquire(&arr->item[i])))
			break;
}

/* Snapshot: the whole list as a plain list. */
struct copy_ctx {
	shmc_value_t out;
};

static int copy_fn(shmc_arena_t *a, struct shmc__obj *o, void *p)
{
	struct copy_ctx *c = p;
	struct shmc__list_arr *arr = shmc__list_arr(a, o);
	uint64_t n = shmc__list_len(arr);
	int rc = shmc__seq_new(SHMC_LIST, n, &c->out);
	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		shmc_value_t v;
		rc = shmc__word_load(a, ld_acquire(&arr->item[i]), &v);
		if (rc == 0)
			shmc__seq_push(&c->out, v);
		else
			shmc_value_free(&c->out);
	}
	return rc;
}

static void copy_reset(void *p)
{
	shmc_value_free(&((struct copy_ctx *)p)->out);
}

static void nothing_to_reset(void *p)
{
	(void)p;
}

int shmc_list_copy(shmc_obj_t *h, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_LIST, &o);
	if (rc)
		return rc;
	struct copy_ctx c;
	if ((rc = shmc__obj_snapshot(shmc__handle_arena(h), o, copy_fn, copy_reset, &c)) == 0)
		*out = c.out;
	return rc;
}

int shmc__list_snapshot(shmc_obj_t *h, shmc__snap_fn fn, void (*reset)(void *ctx),
			void *ctx)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_LIST, &o);
	return rc ? rc : shmc__obj_snapshot(shmc__handle_arena(h), o, fn, reset, ctx);
}

static int list_str(shmc_obj_t *h, char **out)
{
	shmc_value_t v;
	int rc = shmc_list_copy(h, &v);
	if (rc)
		return rc;
	rc = shmc__repr_snapshot_str(v, out);
	shmc_value_free(&v);
	return rc;
}

const struct shmc__kind shmc__list_kind = {
	.typeid = "list",
	.proxy = "ListProxy",
	.body_size = sizeof(struct shmc__list_body),
	.destroy = destroy,
	.repair = repair,
	.str = list_str,
	.walk = walk,
	.length = length,
	.items = items,
	.body_magic = SHMC__LIST_ARR_MAGIC,
	.body_drop = body_drop,
	.body_walk = body_walk,
};

/* Public API -------------------------------------------------------------- */

int shmc_list_new(shmc_arena_t *a, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	return shmc__obj_create(a, SHMC_KIND_LIST, out);
}

int shmc_list_new_from(shmc_arena_t *a, shmc_value_t items, shmc_obj_t **out)
{
	if (out == NULL)
		return -EINVAL;
	if (items.type != SHMC_LIST && items.type != SHMC_TUPLE && items.type != SHMC_SET &&
	    items.type != SHMC_FROZENSET)
		return items.type == SHMC_ERROR ? (int)items.i : SHMC_ETYPE;
	shmc_obj_t *h;
	int rc = shmc_list_new(a, &h);
	if (rc)
		return rc;
	if ((rc = shmc_list_extend(h, items)) != 0) {
		shmc_obj_release(h);
		return rc;
	}
	*out = h;
	return 0;
}

int64_t shmc_list_len(shmc_obj_t *h)
{
	struct shmc__reader rd;
	int rc = shmc__reader_enter(h, SHMC_KIND_LIST, &rd);
	if (rc)
		return rc;
	int64_t n = (int64_t)shmc__list_len(shmc__list_arr(rd.a, rd.o));
	shmc__reader_exit(&rd);
	return n;
}

int shmc_list_get(shmc_obj_t *h, int64_t i, shmc_value_t *out)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__reader rd;
	int rc = shmc__reader_enter(h, SHMC_KIND_LIST, &rd);
	if (rc)
		return rc;
	struct shmc__list_arr *arr = shmc__list_arr(rd.a, rd.o);
	uint64_t k;
	if ((rc = norm_index(i, shmc__list_len(arr), &k)) == 0)
		rc = shmc__word_load(rd.a, ld_acquire(&arr->item[k]), out);
	shmc__reader_exit(&rd);
	return rc;
}

/* Store V at I; with EXPECT, only if the list's version is still *EXPECT
 * (shmc_list_set_if), checked before the index. */
static int list_store(shmc_obj_t *h, int64_t i, shmc_value_t v, const uint64_t *expect)
{
	struct shmc__writer w;
	uint64_t nw, k;
	int rc = shmc__resolve(h, SHMC_KIND_LIST, &w.o);
	if (rc || (rc = shmc__word_store(shmc__handle_arena(h), v, &nw)) != 0)
		return rc;
	if ((rc = shmc__writer_enter(h, SHMC_KIND_LIST, 0, &w)) != 0) {
		shmc__word_drop(shmc__handle_arena(h), nw);
		return rc;
	}
	struct shmc__list_arr *arr = shmc__list_arr(w.a, w.o);
	if (expect && shmc__obj_version(w.o) != *expect)
		rc = SHMC_ECONFLICT;
	else if ((rc = norm_index(i, shmc__list_len(arr), &k)) == 0) {
		uint64_t old = ld_relaxed(&arr->item[k]);
		if (!shmc__word_needs_retire(old) || (rc = shmc__writer_reserve(&w, 1)) == 0) {
			uint64_t s = shmc__write_begin(w.o);
			st_release(&arr->item[k], nw);
			shmc__write_end(w.o, s);
			shmc__word_retire(w.a, w.r, old);
		}
	}
	shmc__writer_exit(&w);
	if (rc)
		shmc__word_drop(shmc__handle_arena(h), nw);
	return rc;
}

int shmc_list_set(shmc_obj_t *h, int64_t i, shmc_value_t v)
{
	return list_store(h, i, v, NULL);
}

int shmc_list_set_if(shmc_obj_t *h, int64_t i, shmc_value_t v, uint64_t version)
{
	return list_store(h, i, v, &version);
}

/* The capacity an array of CAP that needs room for WANT items grows to:
 * by half (with blocks sized to their class, this wastes less than
 * doubling, for a few more copies), or to WANT if that is more. */
static inline uint64_t grown_cap(uint64_t cap, uint64_t want)
{
	return cap + cap / 2 > want ? cap + cap / 2 : want;
}

/* With the lock held: ARR is full, and an append wants room for WANT
 * items. When its block ends at the arena's break, it grows there by
 * half (shmc__alloc_grow) and its new capacity is stored; a reader that
 * reads the old one bounds itself by less. Otherwise nothing changes (the
 * caller copies). A kill after the growth and before the store leaves a
 * block bigger than its capacity says: nothing lost, and the next append
 * that finds the array full takes that room. */
static void grow_in_place_locked(struct shmc__writer *w, struct shmc__list_arr *arr,
				 uint64_t want)
{
	uint64_t cap = arr->cap, off = shmc__off(w->a, arr);
	/* A writer killed between a growth and its store of cap left the
	 * block bigger than cap says: that room first. */
	uint64_t bytes = shmc__block_size(w->a, off);
	if (bytes < sizeof(*arr) + (cap + 1) * sizeof(uint64_t)) {
		cap = grown_cap(cap, want);
		if (cap > (SHMC__MAX_BLOCK - sizeof(*arr)) / sizeof(uint64_t))
			return;
		bytes = sizeof(*arr) + cap * sizeof(uint64_t);
		if (shmc__alloc_grow(w->a, off, bytes) != 0)
			return;
		bytes = shmc__alloc_usable(bytes);
	}
	__atomic_store_n(&arr->cap, (bytes - sizeof(*arr)) / sizeof(uint64_t), __ATOMIC_RELEASE);
}

/* Insert the N encoded words WS at index AT (AT == len appends), with the
 * lock held. Appends in place while there is room (or room can be made
 * where the array is); otherwise copies. */
static int insert_words_locked(struct shmc__writer *w, uint64_t at,
			       const uint64_t *ws, uint64_t n)
{
	struct shmc__list_arr *arr = shmc__list_arr(w->a, w->o);
	if (arr == NULL && ld_relaxed(&SHMC__BODY(w->o, struct shmc__list_body)->arr_off))
		return SHMC_ECORRUPT;
	uint64_t len = shmc__list_len(arr);
	if (at == len && arr && len + n > arr->cap)
		grow_in_place_locked(w, arr, len + n);
	if (at == len && arr && len + n <= arr->cap) {
		/* Release, not relaxed: a reader that loaded len before a pop
		 * shortened the list may read this slot without synchronising
		 * through len, and must still see the value block whole.
		 * Pairs with the acquire loads of items in readers. */
		for (uint64_t i = 0; i < n; i++)
			st_release(&arr->item[len + i], ws[i]);
		/* One store publishes them all; the items are written first.
		 * In the sequence lock only so that the version changes. */
		uint64_t s = shmc__write_begin(w->o);
		st_release(&arr->len, len + n);
		shmc__write_end(w->o, s);
		return 0;
	}
	/* Only a copy retires the old array (an append with room, the
	 * common case, retires nothing and reserves nothing). */
	int rc = shmc__writer_reserve(w, 1);
	if (rc)
		return rc;
	uint64_t cap = arr ? arr->cap : 0, off;
	if (len + n > cap)
		cap = grown_cap(cap, len + n);
	struct shmc__list_arr *na;
	rc = shmc__list_arr_new(w->a, cap, arr, at, &na, &off);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < n; i++)
		st_relaxed(&na->item[at + i], ws[i]);
	for (uint64_t i = at; i < len; i++)
		st_relaxed(&na->item[i + n], ld_relaxed(&arr->item[i]));
	st_relaxed(&na->len, len + n);
	shmc__list_replace_locked(w, off);
	return 0;
}

static int insert_value(shmc_obj_t *h, int64_t i, bool append, shmc_value_t v)
{
	struct shmc__writer w;
	struct shmc__obj *o;
	shmc_arena_t *a;
	uint64_t nw;
	/* The handle is resolved once (the hot path of ls.append). */
	int rc = shmc__resolve_in(h, SHMC_KIND_LIST, &a, &o);
	if (rc || (rc = shmc__word_store(a, v, &nw)) != 0)
		return rc;
	if ((rc = shmc__writer_begin(a, o, 0, &w)) != 0) {
		shmc__word_drop(a, nw);
		return rc;
	}
	uint64_t len = shmc__list_len(shmc__list_arr(w.a, w.o)), at = len;
	if (!append) { /* Python clamps insert positions */
		if (i < 0)
			i += (int64_t)len;
		at = i < 0 ? 0 : (uint64_t)i > len ? len : (uint64_t)i;
	}
	rc = insert_words_locked(&w, at, &nw, 1);
	shmc__writer_exit(&w);
	if (rc)
		shmc__word_drop(a, nw);
	return rc;
}

int shmc_list_append(shmc_obj_t *h, shmc_value_t v)
{
	return insert_value(h, 0, true, v);
}

int shmc_list_insert(shmc_obj_t *h, int64_t i, shmc_value_t v)
{
	return insert_value(h, i, false, v);
}

int shmc__list_encode(shmc_arena_t *a, const shmc_value_t *src, uint64_t n, uint64_t *ws)
{
	for (uint64_t i = 0; i < n; i++) {
		int rc = shmc__word_store(a, src[i], &ws[i]);
		if (rc) {
			shmc__list_drop_words(a, ws, i);
			return rc;
		}
	}
	return 0;
}

int shmc__list_dup_words(shmc_arena_t *a, const struct shmc__list_arr *arr, uint64_t n,
			 uint64_t *ws)
{
	for (uint64_t i = 0; i < n; i++) {
		int rc = shmc__word_dup(a, ld_relaxed(&((struct shmc__list_arr *)arr)->item[i]),
					&ws[i]);
		if (rc) {
			shmc__list_drop_words(a, ws, i);
			return rc;
		}
	}
	return 0;
}

void shmc__list_drop_words(shmc_arena_t *a, const uint64_t *ws, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		shmc__word_drop(a, ws[i]);
}

bool shmc__list_is_self(shmc_obj_t *h, shmc_value_t v)
{
	return v.type == SHMC_REF && shmc_obj_same(h, v.ref);
}

/* The members of set S as a plain list of copies, in iteration order (a
 * set is iterable, as list.extend and slice assignment take it). */
static int set_members(shmc_value_t s, shmc_value_t *out)
{
	shmc_value_t l = shmc_none(), m;
	int rc = shmc__seq_new(SHMC_LIST, shmc_set_len(s), &l);
	size_t pos = 0;
	for (shmc_value_t *p; rc == 0 && (p = shmc_set_next(s, &pos)) != NULL;)
		if ((rc = shmc_value_copy(*p, &m)) == 0)
			shmc__seq_push(&l, m);
	if (rc) {
		if (l.type == SHMC_LIST)
			shmc_value_free(&l);
		return rc;
	}
	*out = l;
	return 0;
}

int shmc__list_source(shmc_obj_t *h, shmc_value_t v, shmc_value_t *out, bool *self)
{
	*self = false;
	switch (v.type) {
	case SHMC_LIST:
	case SHMC_TUPLE:
		*out = v;
		out->owned = 0; /* a view: the caller's value stays the caller's */
		return 0;
	case SHMC_SET:
	case SHMC_FROZENSET:
		return set_members(v, out);
	case SHMC_REF:
		if (shmc__list_is_self(h, v)) {
			*self = true;
			*out = shmc_none();
			return 0;
		}
		if (shmc_obj_kind(v.ref) != SHMC_KIND_LIST)
			return shmc_obj_kind(v.ref) == 0 ? SHMC_EHANDLE : SHMC_ETYPE;
		return shmc_list_copy(v.ref, out);
	case SHMC_ERROR:
		return (int)v.i;
	default:
		return SHMC_ETYPE;
	}
}

/* ls += ls: the items again, copied under the lock. */
static int extend_self(shmc_obj_t *h)
{
	struct shmc__writer w;
	struct shmc__list_arr *arr;
	uint64_t n, *ws = NULL;
	int rc = shmc__writer_enter(h, SHMC_KIND_LIST, 0, &w); /* insert_words_locked reserves */
	if (rc)
		return rc;
	if ((rc = shmc__list_arr_get(w.a, w.o, &arr, &n)) != 0 || n == 0)
		goto out;
	if ((ws = shmc__heap_alloc(n * sizeof(uint64_t))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = shmc__list_dup_words(w.a, arr, n, ws)) == 0 &&
	    (rc = insert_words_locked(&w, n, ws, n)) != 0)
		shmc__list_drop_words(w.a, ws, n);
out:
	shmc__writer_exit(&w);
	shmc__heap_free(ws);
	return rc;
}

int shmc_list_extend(shmc_obj_t *h, shmc_value_t items)
{
	struct shmc__writer w;
	struct shmc__obj *o;
	shmc_value_t src;
	bool self;
	int rc = shmc__resolve(h, SHMC_KIND_LIST, &o);
	if (rc || (rc = shmc__list_source(h, items, &src, &self)) != 0)
		return rc;
	if (self)
		return extend_self(h);
	uint64_t n = src.seq->len;
	uint64_t *ws = NULL;
	if (n == 0)
		goto out;
	if ((ws = shmc__heap_alloc(n * sizeof(uint64_t))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = shmc__list_encode(shmc__handle_arena(h), src.seq->items, n, ws)) != 0)
		goto out;
	if ((rc = shmc__writer_enter(h, SHMC_KIND_LIST, 0, &w)) == 0) {
		rc = insert_words_locked(&w, shmc__list_len(shmc__list_arr(w.a, w.o)), ws, n);
		shmc__writer_exit(&w);
	}
	if (rc)
		shmc__list_drop_words(shmc__handle_arena(h), ws, n);
out:
	shmc__heap_free(ws);
	shmc_value_free(&src);
	return rc;
}

/* The first position holding a value equal to V, or SHMC_EINDEX. */
static int find_item(shmc_arena_t *a, struct shmc__list_arr *arr, shmc_value_t v,
		       uint64_t *k)
{
	uint64_t n = shmc__list_len(arr);
	for (uint64_t i = 0; i < n; i++) {
		if (shmc__word_eq(a, ld_acquire(&arr->item[i]), v)) {
			*k = i;
			return 0;
		}
	}
	return SHMC_EINDEX;
}

/* Remove item I (Python index), or with BYVAL the first item equal to V;
 * decode it into *out when OUT is set. */
static int remove_item(shmc_obj_t *h, int64_t i, const shmc_value_t *byval,
		       shmc_value_t *out)
{
	struct shmc__writer w;
	int rc = shmc__writer_enter(h, SHMC_KIND_LIST, 2, &w);
	if (rc)
		return rc;
	struct shmc__list_arr *arr = shmc__list_arr(w.a, w.o);
	uint64_t len = shmc__list_len(arr), k, off;
	shmc_value_t v = shmc_none();
	rc = byval ? find_item(w.a, arr, *byval, &k) : norm_index(i, len, &k);
	if (rc)
		goto done;
	uint64_t word = ld_relaxed(&arr->item[k]);
	if (out && (rc = shmc__word_load(w.a, word, &v)) != 0)
		goto done;
	if (k == len - 1) {
		uint64_t s = shmc__write_begin(w.o);
		st_release(&arr->len, len - 1);
		shmc__write_end(w.o, s);
	} else {
		struct shmc__list_arr *na;
		uint64_t cap = arr->cap;
		if ((rc = shmc__list_arr_new(w.a, cap, arr, k, &na, &off)) != 0) {
			shmc_value_free(&v);
			goto done;
		}
		for (uint64_t j = k + 1; j < len; j++)
			st_relaxed(&na->item[j - 1], ld_relaxed(&arr->item[j]));
		st_relaxed(&na->len, len - 1);
		shmc__list_replace_locked(&w, off);
	}
	shmc__word_retire(w.a, w.r, word);
	if (out)
		*out = v;
done:
	shmc__writer_exit(&w);
	return rc;
}

int shmc_list_pop(shmc_obj_t *h, int64_t i, shmc_value_t *out)
{
	shmc_value_t v;
	int rc = remove_item(h, i, NULL, out ? &v : NULL);
	if (rc == 0 && out)
		*out = v;
	return rc;
}

int shmc_list_del(shmc_obj_t *h, int64_t i)
{
	return remove_item(h, i, NULL, NULL);
}

int shmc_list_remove(shmc_obj_t *h, shmc_value_t v)
{
	return remove_item(h, 0, &v, NULL);
}

static int index_fn(shmc_arena_t *a, struct shmc__obj *o, void *p)
{
	struct { shmc_value_t v; uint64_t k; } *c = p;
	return find_item(a, shmc__list_arr(a, o), c->v, &c->k);
}

int64_t shmc_list_index(shmc_obj_t *h, shmc_value_t v)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_LIST, &o);
	if (rc)
		return rc;
	struct { shmc_value_t v; uint64_t k; } c = {v, 0};
	rc = shmc__obj_snapshot(shmc__handle_arena(h), o, index_fn, nothing_to_reset, &c);
	return rc ? rc : (int64_t)c.k;
}

int shmc_list_clear(shmc_obj_t *h)
{
	struct shmc__writer w;
	int rc = shmc__writer_enter(h, SHMC_KIND_LIST, 1, &w);
	if (rc)
		return rc;
	shmc__writer_detach(&w, &SHMC__BODY(w.o, struct shmc__list_body)->arr_off,
			    shmc__list_arr(w.a, w.o));
	shmc__writer_exit(&w);
	return 0;
}

static int list_rmw(shmc_obj_t *h, int64_t i, const struct shmc__rmw *op)
{
	struct shmc__writer w;
	int rc = shmc__writer_enter(h, SHMC_KIND_LIST, 0, &w);
	if (rc)
		return rc;
	struct shmc__list_arr *arr = shmc__list_arr(w.a, w.o);
	uint64_t k;
	if ((rc = norm_index(i, shmc__list_len(arr), &k)) == 0)
		rc = shmc__rmw_locked(&w, &arr->item[k], op);
	shmc__writer_exit(&w);
	return rc;
}

int shmc_list_add(shmc_obj_t *h, int64_t i, shmc_value_t delta,
		  shmc_value_t *result)
{
	struct shmc__rmw op = {.kind = SHMC__RMW_ADD, .arg = delta, .result = result};
	return list_rmw(h, i, &op);
}

int shmc_list_cas(shmc_obj_t *h, int64_t i, shmc_value_t expected,
		  shmc_value_t desired)
{
	struct shmc__rmw op = {.kind = SHMC__RMW_CAS, .arg = expected,
			       .desired = desired};
	return list_rmw(h, i, &op);
}

int shmc_list_update(shmc_obj_t *h, int64_t i, shmc_update_fn fn, void *ctx)
{
	if (fn == NULL)
		return -EINVAL;
	struct shmc__rmw op = {.kind = SHMC__RMW_UPDATE, .fn = fn, .ctx = ctx};
	return list_rmw(h, i, &op);
}
