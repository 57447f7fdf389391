/*
 * timsort.c -- Python's list.sort: an adaptive, stable, natural merge sort.
 *
 * Why Python's algorithm and not any stable sort: a stable sort by a strict
 * weak order gives one result whatever the algorithm, but Python's "<" is
 * not always one. NaN compares false both ways, so [3, nan, 1, 2] sorts to
 * whatever the sequence of comparisons makes of it; and a comparison that
 * fails (1 < 'a') fails only if the algorithm happens to make it:
 * [(2, 3), (1, 'a')] sorts in Python, and another algorithm comparing other
 * pairs would fail where Python does not. Making exactly CPython 3.11's
 * comparisons, in its order, gives its results in both cases.
 *
 * The method (CPython's Objects/listsort.txt describes it at length):
 *   - scan for a natural run: ascending (a[0] <= a[1] <= ...) or strictly
 *     descending (reversed in place, which strictness keeps stable);
 *   - extend a run shorter than minrun (32..64, so that the number of runs
 *     is a power of two or just under) by binary insertion;
 *   - push it on a stack of pending runs, first merging the runs whose
 *     "power" (depth in a balanced merge tree over the whole array) exceeds
 *     the new boundary's (powersort, new in 3.11); merge the rest at the end;
 *   - a merge first skips what is already in place (gallop_right of b's
 *     first into a, gallop_left of a's last into b), copies the shorter run
 *     out, and merges one element at a time until one side wins MIN_GALLOP
 *     times in a row; then it gallops (exponential, then binary search)
 *     while that pays, adapting min_gallop as it goes.
 *
 * Only LT(x, y) is ever asked: "x < y". Every element is a pointer; the
 * caller's comparison reads what it points at. On an error the merge in
 * progress copies its temporary run back, so V always holds its N pointers.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/heap.h"
#include "base/timsort.h"

#define MIN_GALLOP 7
#define MAX_PENDING 64 /* runs pending: at most log2(n) + 1 */

struct run {
	size_t base, len;
	int power;
};

struct merge_state {
	void **v;
	size_t n;
	shmc__lt_fn lt;
	void *ctx;
	ptrdiff_t min_gallop;
	void **tmp;
	size_t tmp_cap;
	int nruns;
	struct run runs[MAX_PENDING];
};

/* 1, 0, or a negative error: LT's answer, normalised. */
static inline int islt(struct merge_state *ms, const void *x, const void *y)
{
	int k = ms->lt(ms->ctx, x, y);
	return k > 0 ? 1 : k;
}

static void reverse(void **lo, void **hi)
{
	for (--hi; lo < hi; lo++, hi--) {
		void *t = *lo;
		*lo = *hi;
		*hi = t;
	}
}

/* Sort [lo, hi) by binary insertion, [lo, start) being sorted already. An
 * element equal to others goes after them: stable. */
static int binarysort(struct merge_state *ms, void **lo, void **hi, void **start)
{
	if (lo == start)
		++start;
	for (; start < hi; ++start) {
		void **l = lo, **r = start, *pivot = *start;
		do {
			void **p = l + ((r - l) >> 1);
			int k = islt(ms, pivot, *p);
			if (k < 0)
				return k;
			if (k)
				r = p;
			else
				l = p + 1;
		} while (l < r);
		memmove(l + 1, l, (size_t)(start - l) * sizeof(void *));
		*l = pivot;
	}
	return 0;
}

/* The length of the run at [lo, hi) (lo < hi): ascending, or strictly
 * descending (*descending set). */
static ptrdiff_t count_run(struct merge_state *ms, void **lo, void **hi, int *descending)
{
	*descending = 0;
	if (++lo == hi)
		return 1;
	ptrdiff_t n = 2;
	int k = islt(ms, *lo, *(lo - 1));
	if (k < 0)
		return k;
	if (k) {
		*descending = 1;
		for (lo++; lo < hi; lo++, n++) {
			if ((k = islt(ms, *lo, *(lo - 1))) < 0)
				return k;
			if (!k)
				break;
		}
	} else {
		for (lo++; lo < hi; lo++, n++) {
			if ((k = islt(ms, *lo, *(lo - 1))) < 0)
				return k;
			if (k)
				break;
		}
	}
	return n;
}

/* Where KEY goes in the sorted A[0..n), left of any equal element: the k
 * with a[k-1] < key <= a[k]. The search starts at HINT, galloping out by
 * 1, 3, 7, 15 ... then bisecting. */
static ptrdiff_t gallop_left(struct merge_state *ms, const void *key, void **a,
			     ptrdiff_t n, ptrdiff_t hint)
{
	ptrdiff_t ofs = 1, lastofs = 0;
	int k;
	a += hint;
	if ((k = islt(ms, *a, key)) < 0)
		return k;
	if (k) { /* a[hint] < key: gallop right */
		const ptrdiff_t maxofs = n - hint;
		while (ofs < maxofs) {
			if ((k = islt(ms, a[ofs], key)) < 0)
				return k;
			if (!k)
				break;
			lastofs = ofs;
			ofs = (ofs << 1) + 1;
		}
		if (ofs > maxofs)
			ofs = maxofs;
		lastofs += hint;
		ofs += hint;
	} else { /* key <= a[hint]: gallop left */
		const ptrdiff_t maxofs = hint + 1;
		while (ofs < maxofs) {
			if ((k = islt(ms, *(a - ofs), key)) < 0)
				return k;
			if (k)
				break;
			lastofs = ofs;
			ofs = (ofs << 1) + 1;
		}
		if (ofs > maxofs)
			ofs = maxofs;
		ptrdiff_t t = lastofs;
		lastofs = hint - ofs;
		ofs = hint - t;
	}
	a -= hint;
	/* a[lastofs] < key <= a[ofs]: bisect between them. */
	++lastofs;
	while (lastofs < ofs) {
		ptrdiff_t m = lastofs + ((ofs - lastofs) >> 1);
		if ((k = islt(ms, a[m], key)) < 0)
			return k;
		if (k)
			lastofs = m + 1;
		else
			ofs = m;
	}
	return ofs;
}

/* As gallop_left, but right of any equal element: a[k-1] <= key < a[k]. */
static ptrdiff_t gallop_right(struct merge_state *ms, const void *key, void **a,
			      ptrdiff_t n, ptrdiff_t hint)
{
	ptrdiff_t ofs = 1, lastofs = 0;
	int k;
	a += hint;
	if ((k = islt(ms, key, *a)) < 0)
		return k;
	if (k) { /* key < a[hint]: gallop left */
		const ptrdiff_t maxofs = hint + 1;
		while (ofs < maxofs) {
			if ((k = islt(ms, key, *(a - ofs))) < 0)
				return k;
			if (!k)
				break;
			lastofs = ofs;
			ofs = (ofs << 1) + 1;
		}
		if (ofs > maxofs)
			ofs = maxofs;
		ptrdiff_t t = lastofs;
		lastofs = hint - ofs;
		ofs = hint - t;
	} else { /* a[hint] <= key: gallop right */
		const ptrdiff_t maxofs = n - hint;
		while (ofs < maxofs) {
			if ((k = islt(ms, key, a[ofs])) < 0)
				return k;
			if (k)
				break;
			lastofs = ofs;
			ofs = (ofs << 1) + 1;
		}
		if (ofs > maxofs)
			ofs = maxofs;
		lastofs += hint;
		ofs += hint;
	}
	a -= hint;
	++lastofs;
	while (lastofs < ofs) {
		ptrdiff_t m = lastofs + ((ofs - lastofs) >> 1);
		if ((k = islt(ms, key, a[m])) < 0)
			return k;
		if (k)
			ofs = m;
		else
			lastofs = m + 1;
	}
	return ofs;
}

static int getmem(struct merge_state *ms, size_t need)
{
	if (need <= ms->tmp_cap)
		return 0;
	shmc__heap_free(ms->tmp);
	ms->tmp_cap = 0;
	if (need > SIZE_MAX / sizeof(void *) ||
	    (ms->tmp = shmc__heap_alloc(need * sizeof(void *))) == NULL)
		return -ENOMEM;
	ms->tmp_cap = need;
	return 0;
}

/* Merge the runs A[0..na) and B[0..nb) (B = A + na), na <= nb, a's last
 * element belonging at the end, with A copied out. */
static int merge_lo(struct merge_state *ms, void **a, ptrdiff_t na, void **b, ptrdiff_t nb)
{
	int rc = getmem(ms, (size_t)na);
	if (rc)
		return rc;
	memcpy(ms->tmp, a, (size_t)na * sizeof(void *));
	void **dest = a;
	a = ms->tmp;
	ptrdiff_t k;

	*dest++ = *b++;
	if (--nb == 0)
		goto done;
	if (na == 1)
		goto copy_b;
	ptrdiff_t min_gallop = ms->min_gallop;
	for (;;) {
		ptrdiff_t acount = 0, bcount = 0; /* wins in a row */
		/* One at a time, until one run wins consistently. */
		for (;;) {
			if ((k = islt(ms, *b, *a)) < 0)
				goto fail;
			if (k) {
				*dest++ = *b++;
				++bcount;
				acount = 0;
				if (--nb == 0)
					goto done;
				if (bcount >= min_gallop)
					break;
			} else {
				*dest++ = *a++;
				++acount;
				bcount = 0;
				if (--na == 1)
					goto copy_b;
				if (acount >= min_gallop)
					break;
			}
		}
		/* Gallop while it pays. */
		++min_gallop;
		do {
			min_gallop -= min_gallop > 1;
			ms->min_gallop = min_gallop;
			k = gallop_right(ms, *b, a, na, 0);
			acount = k;
			if (k) {
				if (k < 0)
					goto fail;
				memcpy(dest, a, (size_t)k * sizeof(void *));
				dest += k;
				a += k;
				na -= k;
				if (na == 1)
					goto copy_b;
				/* 0 only if LT is inconsistent. */
				if (na == 0)
					goto done;
			}
			*dest++ = *b++;
			if (--nb == 0)
				goto done;

			k = gallop_left(ms, *a, b, nb, 0);
			bcount = k;
			if (k) {
				if (k < 0)
					goto fail;
				memmove(dest, b, (size_t)k * sizeof(void *));
				dest += k;
				b += k;
				nb -= k;
				if (nb == 0)
					goto done;
			}
			*dest++ = *a++;
			if (--na == 1)
				goto copy_b;
		} while (acount >= MIN_GALLOP || bcount >= MIN_GALLOP);
		++min_gallop; /* a penalty for leaving galloping */
		ms->min_gallop = min_gallop;
	}
done:
	k = 0;
fail:
	if (na)
		memcpy(dest, a, (size_t)na * sizeof(void *));
	return (int)k;
copy_b:
	/* A's last element goes after everything left of B. */
	memmove(dest, b, (size_t)nb * sizeof(void *));
	dest[nb] = *a;
	return 0;
}

/* The mirror image: na >= nb, B copied out, merging from the right. */
static int merge_hi(struct merge_state *ms, void **a, ptrdiff_t na, void **b, ptrdiff_t nb)
{
	int rc = getmem(ms, (size_t)nb);
	if (rc)
		return rc;
	void **dest = b + nb - 1, **basea = a, **baseb = ms->tmp;
	memcpy(ms->tmp, b, (size_t)nb * sizeof(void *));
	b = ms->tmp + nb - 1;
	a += na - 1;
	ptrdiff_t k;

	*dest-- = *a--;
	if (--na == 0)
		goto done;
	if (nb == 1)
		goto copy_a;
	ptrdiff_t min_gallop = ms->min_gallop;
	for (;;) {
		ptrdiff_t acount = 0, bcount = 0;
		for (;;) {
			if ((k = islt(ms, *b, *a)) < 0)
				goto fail;
			if (k) {
				*dest-- = *a--;
				++acount;
				bcount = 0;
				if (--na == 0)
					goto done;
				if (acount >= min_gallop)
					break;
			} else {
				*dest-- = *b--;
				++bcount;
				acount = 0;
				if (--nb == 1)
					goto copy_a;
				if (bcount >= min_gallop)
					break;
			}
		}
		++min_gallop;
		do {
			min_gallop -= min_gallop > 1;
			ms->min_gallop = min_gallop;
			if ((k = gallop_right(ms, *b, basea, na, na - 1)) < 0)
				goto fail;
			k = na - k;
			acount = k;
			if (k) {
				dest -= k;
				a -= k;
				memmove(dest + 1, a + 1, (size_t)k * sizeof(void *));
				na -= k;
				if (na == 0)
					goto done;
			}
			*dest-- = *b--;
			if (--nb == 1)
				goto copy_a;

			if ((k = gallop_left(ms, *a, baseb, nb, nb - 1)) < 0)
				goto fail;
			k = nb - k;
			bcount = k;
			if (k) {
				dest -= k;
				b -= k;
				memcpy(dest + 1, b + 1, (size_t)k * sizeof(void *));
				nb -= k;
				if (nb == 1)
					goto copy_a;
				/* 0 only if LT is inconsistent. */
				if (nb == 0)
					goto done;
			}
			*dest-- = *a--;
			if (--na == 0)
				goto done;
		} while (acount >= MIN_GALLOP || bcount >= MIN_GALLOP);
		++min_gallop;
		ms->min_gallop = min_gallop;
	}
done:
	k = 0;
fail:
	if (nb)
		memcpy(dest - (nb - 1), baseb, (size_t)nb * sizeof(void *));
	return (int)k;
copy_a:
	/* B's first element goes before everything left of A. */
	memmove(dest + 1 - na, a + 1 - na, (size_t)na * sizeof(void *));
	dest -= na;
	*dest = *b;
	return 0;
}

/* Merge pending runs I and I+1 (I is the second or third from the top). */
static int merge_at(struct merge_state *ms, int i)
{
	void **a = ms->v + ms->runs[i].base, **b = ms->v + ms->runs[i + 1].base;
	ptrdiff_t na = (ptrdiff_t)ms->runs[i].len, nb = (ptrdiff_t)ms->runs[i + 1].len;

	ms->runs[i].len = (size_t)(na + nb);
	if (i == ms->nruns - 3)
		ms->runs[i + 1] = ms->runs[i + 2];
	--ms->nruns;

	/* What of A precedes B's first is in place already. */
	ptrdiff_t k = gallop_right(ms, *b, a, na, 0);
	if (k < 0)
		return (int)k;
	a += k;
	na -= k;
	if (na == 0)
		return 0;
	/* So is what of B follows A's last. */
	nb = gallop_left(ms, a[na - 1], b, nb, nb - 1);
	if (nb <= 0)
		return (int)nb;
	return na <= nb ? merge_lo(ms, a, na, b, nb) : merge_hi(ms, a, na, b, nb);
}

/* The power of the boundary between the run of N1 at S1 and the next, of
 * N2: the first bit where the binary fractions of their midpoints (over the
 * whole length N) differ. */
static int powerloop(size_t s1, size_t n1, size_t n2, size_t n)
{
	int result = 0;
	size_t a = 2 * s1 + n1; /* twice the midpoints: integers */
	size_t b = a + n1 + n2;
	for (;;) {
		++result;
		if (a >= n) { /* both bits 1 */
			a -= n;
			b -= n;
		} else if (b >= n) { /* they differ */
			break;
		}
		a <<= 1;
		b <<= 1;
	}
	return result;
}

/* A run of N2 follows the top one: merge what powersort says must be. */
static int found_new_run(struct merge_state *ms, size_t n2)
{
	if (ms->nruns == 0)
		return 0;
	struct run *top = &ms->runs[ms->nruns - 1];
	int power = powerloop(top->base, top->len, n2, ms->n);
	while (ms->nruns > 1 && ms->runs[ms->nruns - 2].power > power) {
		int rc = merge_at(ms, ms->nruns - 2);
		if (rc)
			return rc;
	}
	ms->runs[ms->nruns - 1].power = power;
	return 0;
}

static int merge_force_collapse(struct merge_state *ms)
{
	while (ms->nruns > 1) {
		int i = ms->nruns - 2;
		if (i > 0 && ms->runs[i - 1].len < ms->runs[i + 1].len)
			--i;
		int rc = merge_at(ms, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* N itself below 64; else 32..64, such that N / minrun is a power of two
 * or just under one. */
static size_t compute_minrun(size_t n)
{
	size_t r = 0;
	while (n >= 64) {
		r |= n & 1;
		n >>= 1;
	}
	return n + r;
}

int shmc__timsort(void **v, size_t n, shmc__lt_fn lt, void *ctx)
{
	if (n < 2)
		return 0;
	struct merge_state ms = {.v = v, .n = n, .lt = lt, .ctx = ctx,
				 .min_gallop = MIN_GALLOP};
	size_t minrun = compute_minrun(n), lo = 0, left = n;
	int rc = 0;
	do {
		int descending;
		ptrdiff_t k = count_run(&ms, v + lo, v + lo + left, &descending);
		if (k < 0) {
			rc = (int)k;
			break;
		}
		size_t len = (size_t)k;
		if (descending)
			reverse(v + lo, v + lo + len);
		if (len < minrun) {
			size_t force = left <= minrun ? left : minrun;
			if ((rc = binarysort(&ms, v + lo, v + lo + force, v + lo + len)) != 0)
				break;
			len = force;
		}
		if ((rc = found_new_run(&ms, len)) != 0)
			break;
		ms.runs[ms.nruns].base = lo;
		ms.runs[ms.nruns].len = len;
		ms.nruns++;
		lo += len;
		left -= len;
	} while (left);
	if (rc == 0)
		rc = merge_force_collapse(&ms);
	shmc__heap_free(ms.tmp);
	return rc;
}
