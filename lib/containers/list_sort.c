/*
 * list_sort.c -- ls.sort() and ls.reverse(), each in one atomic step.
 *
 * A C program that emulates ls.sort() with a copy, a clear and an extend
 * lets other processes see an empty or half-filled list in between. Here
 * the new order is computed with the writer lock held and published as a
 * new array with one store (list.c): readers, which take no lock, see the
 * list before or after, never a part-sorted one. The old array is retired;
 * the items themselves do not change, they only move, so no value is
 * copied or retired.
 *
 * Sorting decodes each item to a private value (an immediate, a small int
 * or a bool, costs no allocation), applies the key function if there is
 * one, and sorts pointers to (key, word) entries with Python's algorithm
 * (base/timsort.c) and Python's "<" (values/vcmp.c, or the caller's LT).
 * Like Python, reverse=True reverses, sorts stably and reverses again, so
 * that equal items keep their order. If any comparison or callback fails,
 * nothing is published: the list is exactly as it was (Python would leave
 * it partly sorted, which its documentation does not promise either way).
 *
 * Where the callbacks run: under the lock, as the *_update callbacks do.
 * The alternative -- sort a snapshot without the lock, publish only if the
 * list did not change meanwhile, else start again -- keeps writers waiting
 * less, but a sort can then be starved by a steady writer, and retrying
 * calls each key function again, which a caller can observe; falling back
 * to the lock after some retries would bring back the lock's rules anyway,
 * only rarely, which is worse than always. So the callbacks may read the
 * list (they see it unsorted: readers take no lock) but writing it is
 * -EDEADLK, as for shmc_list_update.
 */
#include <errno.h>

#include "base/heap.h"
#include "base/timsort.h"
#include "containers/list.h"
#include "values/venc.h"

struct entry {
	shmc_value_t item; /* the decoded item */
	shmc_value_t key;  /* KEY's result, or a shallow copy of item */
	uint64_t word;
};

struct sort_ctx {
	shmc_lt_fn lt;
	void *ctx;
};

static int entry_lt(void *p, const void *x, const void *y)
{
	const struct sort_ctx *c = p;
	const struct entry *a = x, *b = y;
	return c->lt ? c->lt(&a->key, &b->key, c->ctx) : shmc_value_lt(a->key, b->key);
}

static void reverse_ptrs(void **v, uint64_t n)
{
	for (uint64_t i = 0, j = n - 1; i < j; i++, j--) {
		void *t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static void free_entries(struct entry *e, uint64_t n, bool keys)
{
	for (uint64_t i = 0; i < n; i++) {
		if (keys)
			shmc_value_free(&e[i].key);
		shmc_value_free(&e[i].item);
	}
	shmc__heap_free(e);
}

/* Decode the N items of ARR and compute their keys, in order (Python calls
 * the key function on every item before comparing any). *DONE: entries
 * filled, to free. */
static int load_entries(struct shmc__writer *w, struct shmc__list_arr *arr, uint64_t n,
			shmc_key_fn key, void *ctx, struct entry *e, uint64_t *done)
{
	int rc = 0;
	for (*done = 0; *done < n; ++*done) {
		struct entry *x = &e[*done];
		x->word = ld_relaxed(&arr->item[*done]);
		if ((rc = shmc__word_load(w->a, x->word, &x->item)) != 0)
			return rc;
		if (key == NULL) {
			x->key = x->item;
			continue;
		}
		shmc_value_t k = shmc_none();
		if ((rc = key(&x->item, &k, ctx)) != 0) {
			x->key = shmc_none();
			++*done; /* its item is loaded */
			return rc;
		}
		x->key = k;
	}
	return 0;
}

/* The N words of E in the order of P, published as the list's array. */
static int publish_order_locked(struct shmc__writer *w, struct shmc__list_arr *arr,
				void **p, uint64_t n)
{
	struct shmc__list_arr *na;
	uint64_t off, i;
	for (i = 0; i < n && ((struct entry *)p[i])->word == ld_relaxed(&arr->item[i]); i++)
		;
	if (i == n) /* already in order: nothing to publish */
		return 0;
	int rc = shmc__list_arr_new(w->a, arr->cap, NULL, 0, &na, &off);
	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		st_relaxed(&na->item[i], ((struct entry *)p[i])->word);
	st_relaxed(&na->len, n);
	shmc__list_replace_locked(w, off);
	return 0;
}

int shmc_list_sort(shmc_obj_t *h, shmc_key_fn key, shmc_lt_fn lt, void *ctx, bool reverse)
{
	struct shmc__writer w;
	struct shmc__list_arr *arr;
	struct entry *e = NULL;
	void **p = NULL;
	uint64_t n, done = 0;
	int rc = shmc__writer_enter(h, SHMC_KIND_LIST, 1, &w);
	if (rc)
		return rc;
	if ((rc = shmc__list_arr_get(w.a, w.o, &arr, &n)) != 0 || n == 0)
		goto out;
	if (n > SIZE_MAX / sizeof(struct entry) ||
	    (e = shmc__heap_alloc(n * sizeof(*e))) == NULL ||
	    (p = shmc__heap_alloc(n * sizeof(*p))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = load_entries(&w, arr, n, key, ctx, e, &done)) != 0 || n < 2)
		goto out;
	for (uint64_t i = 0; i < n; i++)
		p[i] = &e[i];
	struct sort_ctx sc = {lt, ctx};
	if (reverse)
		reverse_ptrs(p, n);
	rc = shmc__timsort(p, n, entry_lt, &sc);
	if (reverse)
		reverse_ptrs(p, n);
	if (rc == 0)
		rc = publish_order_locked(&w, arr, p, n);
out:
	shmc__writer_exit(&w);
	if (e)
		free_entries(e, done, key != NULL);
	shmc__heap_free(p);
	return rc;
}

int shmc_list_reverse(shmc_obj_t *h)
{
	struct shmc__writer w;
	struct shmc__list_arr *arr, *na;
	uint64_t n, off;
	int rc = shmc__writer_enter(h, SHMC_KIND_LIST, 1, &w);
	if (rc)
		return rc;
	if ((rc = shmc__list_arr_get(w.a, w.o, &arr, &n)) != 0 || n < 2 ||
	    (rc = shmc__list_arr_new(w.a, arr->cap, NULL, 0, &na, &off)) != 0)
		goto out;
	for (uint64_t i = 0; i < n; i++)
		st_relaxed(&na->item[i], ld_relaxed(&arr->item[n - 1 - i]));
	st_relaxed(&na->len, n);
	shmc__list_replace_locked(&w, off);
out:
	shmc__writer_exit(&w);
	return rc;
}
