/*
 * pset.c -- plain sets and frozensets, laid out as CPython lays them out.
 *
 * Python iterates (and prints) a set in the order of its hash table's
 * slots. To print what python3 prints, this table is CPython's
 * (Objects/setobject.c, 3.7 to 3.13): 8 slots to start with; a key goes to
 * slot hash & mask, then the 9 slots after it (when they lie inside the
 * table), then jumps to i * 5 + 1 + perturb, perturb being the hash shifted
 * right by 5 more bits at every jump; a discarded key leaves a dummy, which
 * a later add reuses (the last one its probe passed) and which a resize
 * drops; the table grows when active and dummy slots reach 3/5 of it, to
 * the smallest power of two above 4 x the members (2 x past 50 000), the
 * old slots reinserted in their order. With Python's hash values (hash.c)
 * the same keys added and discarded in the same order land in the same
 * slots as in CPython.
 *
 * Two departures, neither visible in the order: an add that must grow the
 * table allocates the new one before it inserts, so that a failed
 * allocation leaves the set as it was (CPython inserts, then may fail to
 * grow); and a copy (shmc_value_copy) clones the table slot for slot, where
 * CPython's set.copy() reinserts.
 *
 * Sets are private values: no locking, no arena. Members are hashable
 * values (never references), each owned by the set.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "base/heap.h"
#include "base/util.h"
#include "values/value.h"

#define MINSIZE 8
#define LINEAR_PROBES 9
#define PERTURB_SHIFT 5

typedef struct shmc_pset_entry entry_t;

static entry_t *table_new(size_t n)
{
	if (n > SIZE_MAX / sizeof(entry_t))
		return NULL;
	entry_t *t = shmc__heap_alloc(n * sizeof(entry_t));
	if (t)
		memset(t, 0, n * sizeof(entry_t)); /* all SHMC__PSET_UNUSED */
	return t;
}

int shmc__pset_new(shmc_type_t type, shmc_value_t *out)
{
	struct shmc_pset *s = shmc__heap_alloc(sizeof(*s));
	entry_t *t = s ? table_new(MINSIZE) : NULL;
	if (t == NULL) {
		shmc__heap_free(s);
		return -ENOMEM;
	}
	*s = (struct shmc_pset){0, 0, MINSIZE - 1, t, 1};
	*out = (shmc_value_t){.type = (uint8_t)type, .owned = 1, .set = s};
	return 0;
}

void shmc__pset_free(struct shmc_pset *s)
{
	for (size_t i = 0; i <= s->mask; i++)
		if (s->table[i].state == SHMC__PSET_ACTIVE)
			shmc_value_free(&s->table[i].key);
	shmc__heap_free(s->table);
	shmc__heap_free(s);
}

/* set_lookkey: the active entry equal to KEY, or the unused one that ends
 * its probe. The table always has an unused slot. */
static entry_t *lookkey(const struct shmc_pset *s, shmc_value_t key, int64_t hash, int depth)
{
	size_t mask = s->mask, perturb = (size_t)hash, i = (size_t)hash & mask;
	for (;;) {
		entry_t *e = &s->table[i];
		int probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
		do {
			if (e->state == SHMC__PSET_UNUSED)
				return e;
			if (e->hash == hash && e->state == SHMC__PSET_ACTIVE &&
			    shmc__value_eq_depth(e->key, key, depth))
				return e;
			e++;
		} while (probes--);
		perturb >>= PERTURB_SHIFT;
		i = (i * 5 + 1 + perturb) & mask;
	}
}

const shmc_value_t *shmc__pset_find(const struct shmc_pset *s, shmc_value_t key,
				    int64_t hash, int depth)
{
	const entry_t *e = lookkey(s, key, hash, depth);
	return e->state == SHMC__PSET_ACTIVE ? &e->key : NULL;
}

/* set_insert_clean: place a key known to be absent in a table without
 * dummies. */
static void insert_clean(entry_t *t, size_t mask, const entry_t *src)
{
	size_t perturb = (size_t)src->hash, i = (size_t)src->hash & mask;
	entry_t *e;
	for (;;) {
		e = &t[i];
		if (e->state == SHMC__PSET_UNUSED)
			goto found;
		if (i + LINEAR_PROBES <= mask)
			for (int j = 0; j < LINEAR_PROBES; j++) {
				e++;
				if (e->state == SHMC__PSET_UNUSED)
					goto found;
			}
		perturb >>= PERTURB_SHIFT;
		i = (i * 5 + 1 + perturb) & mask;
	}
found:
	*e = *src;
}

/* The table size set_table_resize picks for MINUSED. */
static size_t size_for(size_t minused)
{
	size_t n = MINSIZE;
	while (n <= minused)
		n <<= 1;
	return n;
}

/* set_table_resize into NT (NSIZE zeroed slots, allocated by the caller):
 * the old slots in their order, dummies dropped. Takes NT. */
static void resize_into(struct shmc_pset *s, entry_t *nt, size_t nsize)
{
	entry_t *old = s->table;
	size_t omask = s->mask;
	for (size_t i = 0; i <= omask; i++)
		if (old[i].state == SHMC__PSET_ACTIVE)
			insert_clean(nt, nsize - 1, &old[i]);
	s->fill = s->used;
	s->table = nt;
	s->mask = nsize - 1;
	shmc__heap_free(old);
}

/* How deep V nests (a scalar 0), counted up to past LIMIT: a frozenset
 * keeps its own, so that hashing one (which reads no member) can bound
 * nesting as hashing a tuple does. */
static int nesting(shmc_value_t v, int limit)
{
	if (v.type == SHMC_FROZENSET)
		return v.set->depth;
	if (v.type != SHMC_TUPLE)
		return 0;
	int d = 0;
	for (size_t i = 0; i < v.seq->len && d <= limit; i++) {
		int k = nesting(v.seq->items[i], limit - 1);
		d = k > d ? k : d;
	}
	return d + 1;
}

int shmc__pset_add(struct shmc_pset *s, shmc_value_t key, int64_t hash, int depth)
{
	size_t mask = s->mask, perturb = (size_t)hash, i = (size_t)hash & mask;
	entry_t *freeslot = NULL, *e;
	for (;;) {
		e = &s->table[i];
		int probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
		do {
			if (e->state == SHMC__PSET_UNUSED)
				goto found_unused_or_dummy;
			if (e->state == SHMC__PSET_ACTIVE) {
				if (e->hash == hash && shmc__value_eq_depth(e->key, key, depth))
					return 0; /* found active: the first key stays */
			} else {
				freeslot = e; /* CPython keeps the last dummy passed */
			}
			e++;
		} while (probes--);
		perturb >>= PERTURB_SHIFT;
		i = (i * 5 + 1 + perturb) & mask;
	}
found_unused_or_dummy:;
	int kd = 1 + nesting(key, SHMC__MAX_DEPTH);
	if (kd > s->depth)
		s->depth = kd;
	if (freeslot) {
		*freeslot = (entry_t){hash, SHMC__PSET_ACTIVE, key};
		s->used++;
		return 1;
	}
	/* An unused slot: CPython grows once fill * 5 >= mask * 3. Get the
	 * new table first, so that failing changes nothing. */
	entry_t *nt = NULL;
	size_t nsize = 0;
	if ((s->fill + 1) * 5 >= mask * 3) {
		size_t used = s->used + 1;
		nsize = size_for(used > 50000 ? used * 2 : used * 4);
		if ((nt = table_new(nsize)) == NULL)
			return -ENOMEM;
	}
	*e = (entry_t){hash, SHMC__PSET_ACTIVE, key};
	s->fill++;
	s->used++;
	if (nt)
		resize_into(s, nt, nsize);
	return 1;
}

/* set_discard_entry: the key becomes a dummy. @return 1, 0 */
static int pset_discard(struct shmc_pset *s, shmc_value_t key, int64_t hash)
{
	entry_t *e = lookkey(s, key, hash, 1);
	if (e->state != SHMC__PSET_ACTIVE)
		return 0;
	shmc_value_free(&e->key);
	e->state = SHMC__PSET_DUMMY;
	e->hash = -1;
	s->used--;
	return 1;
}

/* CPython's _shuffle_bits and frozenset_hash: a xor over the members, so
 * independent of their order (CPython xors every slot, then takes the
 * unused and dummy ones out again: the same number). */
static inline uint64_t shuffle_bits(uint64_t h)
{
	return ((h ^ 89869747ull) ^ (h << 16)) * 3644798167ull;
}

int64_t shmc__pset_hash(const struct shmc_pset *s)
{
	uint64_t h = 0;
	for (size_t i = 0; i <= s->mask; i++)
		if (s->table[i].state == SHMC__PSET_ACTIVE)
			h ^= shuffle_bits((uint64_t)s->table[i].hash);
	h ^= ((uint64_t)s->used + 1) * 1927868237ull;
	h ^= (h >> 11) ^ (h >> 25);
	h = h * 69069u + 907133923ull;
	return h == (uint64_t)-1 ? 590923713 : (int64_t)h;
}

/* A copy: the same slots, each member copied. */
int shmc__pset_clone(const struct shmc_pset *s, shmc_type_t type, shmc_value_t *out)
{
	shmc_value_t c;
	int rc = shmc__pset_new(type, &c);
	if (rc)
		return rc;
	entry_t *t = table_new(s->mask + 1);
	if (t == NULL) {
		shmc_value_free(&c);
		return -ENOMEM;
	}
	shmc__heap_free(c.set->table);
	c.set->table = t;
	c.set->mask = s->mask;
	for (size_t i = 0; i <= s->mask; i++) {
		const entry_t *e = &s->table[i];
		if (e->state == SHMC__PSET_ACTIVE &&
		    (rc = shmc_value_copy(e->key, &t[i].key)) != 0) {
			shmc_value_free(&c);
			return rc;
		}
		t[i].hash = e->hash;
		t[i].state = e->state; /* active once its key is there */
	}
	c.set->fill = s->fill;
	c.set->used = s->used;
	c.set->depth = s->depth;
	*out = c;
	return 0;
}

/* The public API --------------------------------------------------------- */

/* Add ITEM (taken) to the set S: hashed, a view copied. @return 1, 0, or
 * an error with ITEM freed */
static int add_taken(struct shmc_pset *s, shmc_value_t item)
{
	int64_t h = 0; /* set on success; -O3 cannot see it */
	shmc_value_t taken;
	int rc = shmc__py_hash(item, 1, &h);
	if (rc == 0 && shmc__pset_find(s, item, h, 1) != NULL)
		rc = 1; /* present: nothing to copy */
	if (rc) {
		shmc_value_free(&item);
		return rc == 1 ? 0 : rc;
	}
	if ((rc = shmc__value_take(item, &taken)) != 0)
		return rc;
	rc = shmc__pset_add(s, taken, h, 1);
	if (rc <= 0)
		shmc_value_free(&taken);
	return rc;
}

static shmc_value_t build(shmc_type_t type, size_t n, va_list ap)
{
	shmc_value_t out;
	int rc = shmc__pset_new(type, &out);
	for (size_t i = 0; i < n; i++) {
		shmc_value_t item = va_arg(ap, shmc_value_t);
		if (rc == 0) {
			rc = add_taken(out.set, item);
			rc = rc > 0 ? 0 : rc;
			if (rc)
				shmc_value_free(&out);
		} else {
			shmc_value_free(&item);
		}
	}
	return rc ? shmc__error_value(rc) : out;
}

shmc_value_t shmc_set_of(size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	shmc_value_t v = build(SHMC_SET, n, ap);
	va_end(ap);
	return v;
}

shmc_value_t shmc_frozenset_of(size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	shmc_value_t v = build(SHMC_FROZENSET, n, ap);
	va_end(ap);
	return v;
}

int shmc_set_add(shmc_value_t *s, shmc_value_t item)
{
	if (s == NULL || s->type != SHMC_SET || !s->owned) {
		shmc_value_free(&item);
		return s == NULL ? -EINVAL : SHMC_ETYPE;
	}
	int rc = add_taken(s->set, item);
	return rc > 0 ? 0 : rc;
}

/* The hash to look ITEM up with: as CPython's set_contains and
 * set_discard do, a set is looked up as the frozenset it equals. */
static int lookup_hash(shmc_value_t item, int64_t *h)
{
	if (item.type == SHMC_SET) {
		*h = shmc__pset_hash(item.set);
		return 0;
	}
	return shmc__py_hash(item, 1, h);
}

int shmc_set_discard(shmc_value_t *s, shmc_value_t item)
{
	if (s == NULL)
		return -EINVAL;
	if (s->type != SHMC_SET || !s->owned)
		return SHMC_ETYPE;
	int64_t h = 0;
	int rc = lookup_hash(item, &h);
	return rc ? rc : pset_discard(s->set, item, h);
}

int shmc_set_contains(shmc_value_t s, shmc_value_t item)
{
	if (s.type != SHMC_SET && s.type != SHMC_FROZENSET)
		return SHMC_ETYPE;
	int64_t h = 0;
	int rc = lookup_hash(item, &h);
	return rc ? rc : shmc__pset_find(s.set, item, h, 1) != NULL;
}

size_t shmc_set_len(shmc_value_t s)
{
	return s.type == SHMC_SET || s.type == SHMC_FROZENSET ? s.set->used : 0;
}

shmc_value_t *shmc_set_next(shmc_value_t s, size_t *pos)
{
	if ((s.type != SHMC_SET && s.type != SHMC_FROZENSET) || pos == NULL)
		return NULL;
	for (size_t i = *pos; i <= s.set->mask; i++)
		if (s.set->table[i].state == SHMC__PSET_ACTIVE) {
			*pos = i + 1;
			return &s.set->table[i].key;
		}
	*pos = s.set->mask + 1;
	return NULL;
}

int shmc_set_freeze(shmc_value_t *s)
{
	if (s == NULL)
		return -EINVAL;
	if ((s->type != SHMC_SET && s->type != SHMC_FROZENSET) || !s->owned)
		return SHMC_ETYPE;
	s->type = SHMC_FROZENSET;
	return 0;
}
