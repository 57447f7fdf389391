/*
 * timsort.h -- Python's list.sort algorithm, over an array of pointers.
 */
#ifndef SHMC_TIMSORT_H
#define SHMC_TIMSORT_H

#include <stddef.h>

/* Python's "<" between the things X and Y point at: 1 when X sorts before
 * Y, 0 when not, a negative error code to stop the sort. */
typedef int (*shmc__lt_fn)(void *ctx, const void *x, const void *y);

/* Sort the N pointers at V, stably, by LT. The comparisons made, and their
 * order, are exactly those of CPython 3.11's list.sort (natural runs,
 * binary insertion up to minrun, powersort's merge order, galloping), so
 * that an order that is not total (NaN) or an error part-way gives the
 * result Python gives. Python's key= and reverse= are the caller's: sort
 * pointers to (key, item) pairs; reverse V before and after.
 * @return 0, LT's error, -ENOMEM; after an error V holds the same pointers
 *         in some order */
int shmc__timsort(void **v, size_t n, shmc__lt_fn lt, void *ctx);

#endif
