/*
 * dict.c -- the insertion-ordered hash table behind dicts and namespaces.
 *
 * Layout: the object body holds `table_off`, the offset of one table block:
 *
 *   header   {magic, dead_tail, nindex, cap, used, live, gen}
 *   index    nindex 32-bit slots: 0 empty, else entry number + 1
 *   entries  cap entries {hash, key word, value word}, in insertion order
 *
 * Lookup probes the index linearly from hash & (nindex - 1) and compares the
 * entry's hash, then its key with Python's equality (values/venc.h). Iteration walks
 * entries [0, used) and skips deleted keys, which keeps Python's order.
 *
 * `used` is the fence of visibility: readers ignore entries at or past it,
 * and index slots that name them. Writers hold the lock and publish each
 * change with one atomic store:
 *   - insert: the entry's hash, key and value are written, then its index
 *     slot, then used is bumped (the publication), then live;
 *   - a merge of new keys into a table with room for them (the common
 *     case of shmc__dict_merge): the same for each, and one store of used
 *     publishes them all at once;
 *   - update: the value word is stored;
 *   - delete: the key word is stored as DELETED (its index slot stays, as a
 *     tombstone for probing), then live is dropped;
 *   - growth, compaction, clear and any other merge build a new table
 *     privately and store its offset in table_off.
 * If a writer dies before its store of used, repair (under the recovered
 * lock) rolls the insert or merge back: it clears the index slots that name
 * entries past used and drops their keys and values, which no reader can
 * have seen. Rolling back is the only choice that keeps a merge all or
 * nothing. Repair then recounts live from the entries. The sequence lock
 * keeps snapshot readers from ever seeing the bookkeeping half done.
 *
 * Each table records `gen`, the object's sequence count when it was built:
 * unique among the tables a dict ever has, so that an iterator knows when
 * the table it walks was replaced. `dead_tail` (writers only) counts entries
 * known deleted at the end of [0, used), so that repeated popitem() calls do
 * not scan the same tombstones again; any insert resets it to 0.
 *
 * Readers: get/has probe inside an epoch section without the lock; len and
 * snapshots validate with the sequence lock; an iterator reads one entry a
 * call, and finds its place again by its last key's word when the table
 * was replaced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/heap.h"
#include "memory/alloc.h"
#include "containers/dict.h"
#include "values/venc.h"

#define MIN_INDEX 8u

struct dict_body {
	atomic_u64 table_off;
};

struct dict_entry {
	atomic_u64 hash;
	atomic_u64 key;
	atomic_u64 val;
};

struct dict_table {
	uint32_t magic;
	uint32_t dead_tail; /* entries [used - dead_tail, used) are deleted */
	uint64_t nindex; /* a power of two */
	uint64_t cap;    /* entries: at most two thirds of nindex */
	atomic_u64 used;
	atomic_u64 live;
	uint64_t gen;    /* the object's seq when this table was built */
	atomic_u32 index[];
};

/* The entries of T, whose index has NINDEX slots. */
static inline struct dict_entry *entries_at(struct dict_table *t, uint64_t nindex)
{
	return (struct dict_entry *)ALIGN_UP((uintptr_t)&t->index[nindex], 16);
}

static inline struct dict_entry *entries(struct dict_table *t)
{
	return entries_at(t, t->nindex);
}

static inline uint64_t table_bytes(uint64_t nindex, uint64_t cap)
{
	return ALIGN_UP(sizeof(struct dict_table) + nindex * sizeof(uint32_t), 16) +
	       cap * sizeof(struct dict_entry);
}

static inline uint64_t cap_for(uint64_t nindex)
{
	return nindex / 3 * 2 + (nindex % 3 == 2); /* nindex * 2 / 3, no overflow */
}

/* The table at OFF, validated so that every read through it stays inside
 * the arena, or NULL; *NINDEX and *CAP receive the dimensions validated,
 * each read once: a reader without an epoch section (the arena check of a
 * live arena) must use these, not read them again from a block that may
 * have been freed and reused meanwhile. */
static inline struct dict_table *table_dims_at(shmc_arena_t *a, uint64_t off,
					       uint64_t *nindex, uint64_t *cap)
{
	struct dict_table *t = shmc__at(a, off, sizeof(*t), 16);
	if (unlikely(t == NULL))
		return NULL;
	/* cap < nindex <= 2^32, so the size cannot overflow; the whole table
	 * lies inside the arena. */
	uint64_t n = __atomic_load_n(&t->nindex, __ATOMIC_RELAXED);
	uint64_t c = __atomic_load_n(&t->cap, __ATOMIC_RELAXED);
	if (unlikely(t->magic != SHMC__DICT_TABLE_MAGIC || n < MIN_INDEX || (n & (n - 1)) ||
		     n > ((uint64_t)1 << 32) || c >= n ||
		     table_bytes(n, c) > a->capacity - off))
		return NULL;
	*nindex = n;
	*cap = c;
	return t;
}

/* The same for readers inside an epoch section, where the table cannot be
 * freed under them and its dimensions never change. */
static inline struct dict_table *table_at(shmc_arena_t *a, uint64_t off)
{
	uint64_t n, c;
	return table_dims_at(a, off, &n, &c);
}

static inline struct dict_table *table_of(shmc_arena_t *a, struct shmc__obj *o)
{
	uint64_t off = ld_acquire(&SHMC__BODY(o, struct dict_body)->table_off);
	return off ? table_at(a, off) : NULL;
}

static inline uint64_t used_of(struct dict_table *t)
{
	uint64_t u = ld_acquire(&t->used);
	return u > t->cap ? t->cap : u;
}

int shmc__dict_key(shmc_value_t v, struct shmc__key *k)
{
	if (v.type == SHMC_INT) { /* the common case, quickly */
		k->hash = shmc__hash_int(v.i);
	} else {
		int rc = shmc__key_hash(v, &k->hash);
		if (rc) /* SHMC_EUNHASHABLE, SHMC_EDEPTH, or a builder's error */
			return rc;
	}
	k->v = v;
	k->word = shmc__word_immediate(v);
	return 0;
}

int shmc__ns_key(const char *name, struct shmc__key *k)
{
	if (name == NULL || name[0] == '\0')
		return -EINVAL;
	k->v = shmc_strn(name, strlen(name));
	if (k->v.type == SHMC_ERROR)
		return (int)k->v.i;
	k->hash = shmc__hash_bytes(k->v.str, k->v.len, SHMC__SEED_STR);
	k->word = 0;
	return 0;
}

/* Whether stored key word KW equals K (Python's ==, values/veq.c). The
 * usual cases are settled inline: the same word (an int key's hit), a str
 * compared where it lies. Anything else, 1 == True included, is
 * shmc__word_eq's; probes get here only when the hashes agree. */
static inline __attribute__((always_inline)) bool key_matches(shmc_arena_t *a, uint64_t kw, const struct shmc__key *k)
{
	if (kw == k->word)
		return true;
	if (k->v.type == SHMC_STR)
		return shmc__word_is_str(a, kw, k->v.str, k->v.len);
	return shmc__word_eq(a, kw, k->v);
}

/* The entry holding K in T, or NULL. Bounded: at most nindex probes. */
static inline __attribute__((always_inline)) struct dict_entry *lookup(shmc_arena_t *a, struct dict_table *t,
				 const struct shmc__key *k)
{
	if (t == NULL)
		return NULL;
	/* Locals: the acquire loads below would make the compiler reload
	 * anything read through a pointer. */
	const uint64_t nindex = __atomic_load_n(&t->nindex, __ATOMIC_RELAXED), hash = k->hash;
	struct dict_entry *e = entries_at(t, nindex);
	/* Acquire: pairs with the release store of used that published the
	 * entries below it. */
	const uint64_t used = used_of(t);
	/* table_at() validated the table, and a reader's section keeps it as
	 * it was; but the words are shared, and read again here: what this
	 * loop reads must lie inside the arena whatever they say now (and
	 * table_bytes() must not overflow: nindex at most 2^32, as there). */
	if (unlikely((nindex & (nindex - 1)) || used >= nindex || nindex > ((uint64_t)1 << 32) ||
		     table_bytes(nindex, used) > a->capacity - (uint64_t)((char *)t - a->base)))
		return NULL;
	const uint64_t mask = nindex - 1;
	atomic_u32 *index = t->index;
	uint64_t i = hash & mask;
	for (uint64_t n = 0; n < nindex; n++, i = (i + 1) & mask) {
		uint32_t x = ld_acquire(&index[i]);
		if (x == 0)
			return NULL;
		if (unlikely(x > used))
			continue; /* not published yet (or corrupt): skip it */
		struct dict_entry *c = &e[x - 1];
		if (ld_relaxed(&c->hash) != hash)
			continue;
		uint64_t kw = ld_acquire(&c->key);
		if (kw == SHMC__W_DELETED || kw == SHMC__W_EMPTY)
			continue;
		if (key_matches(a, kw, k))
			return c;
	}
	return NULL;
}

/* Place entry number X (0-based) in T's index. */
static void index_put(struct dict_table *t, uint64_t hash, uint64_t x)
{
	uint64_t mask = t->nindex - 1, i = hash & mask;
	while (ld_relaxed(&t->index[i]))
		i = (i + 1) & mask;
	st_release(&t->index[i], (uint32_t)(x + 1));
}

/* A new empty table with room for at least N entries, built for the
 * object whose sequence count is GEN. The index is the smallest power of two
 * that N fills to at most two thirds; the entries are sized for N, not for
 * the index (whose two thirds may be up to twice N), then to fill the
 * table's block: a table that grew by half holds at most half as many
 * again, where sizing them by the index left a 1M dict with 1.4M. */
static int table_new(shmc_arena_t *a, uint64_t n, uint64_t gen,
		     struct dict_table **out, uint64_t *off)
{
	uint64_t nindex = MIN_INDEX;
	while (cap_for(nindex) < n) {
		if (nindex >= ((uint64_t)1 << 31))
			return SHMC_EFULL;
		nindex *= 2;
	}
	uint64_t most = cap_for(nindex), fixed = table_bytes(nindex, 0);
	uint64_t cap = n < most ? n : most;
	uint64_t usable = shmc__alloc_usable(table_bytes(nindex, cap));
	if (usable > fixed && (usable - fixed) / sizeof(struct dict_entry) > cap)
		cap = (usable - fixed) / sizeof(struct dict_entry);
	if (cap > most)
		cap = most;
	int rc = shmc__alloc(a, table_bytes(nindex, cap), off);
	if (rc)
		return rc;
	struct dict_table *t = (struct dict_table *)(a->base + *off);
	memset(t, 0, table_bytes(nindex, 0));
	t->magic = SHMC__DICT_TABLE_MAGIC;
	t->nindex = nindex;
	t->cap = cap;
	t->gen = gen;
	*out = t;
	return 0;
}

/* Replace the table with the lock held; the old one is retired, not its
 * words (they moved, or the caller retired them). */
static void table_publish(struct shmc__writer *w, uint64_t off)
{
	struct dict_body *b = SHMC__BODY(w->o, struct dict_body);
	uint64_t old = ld_relaxed(&b->table_off);
	st_release(&b->table_off, off);
	if (old)
		shmc__epoch_retire(w->a, w->r, old | SHMC__RETIRE_FREE);
}

/* Make room for one more entry: a fresh table (first insert), or a copy of
 * the live entries into a table sized for them (growing, or compacting away
 * deleted entries). */
static int make_room_locked(struct shmc__writer *w, struct dict_table **tp)
{
	struct dict_table *t = *tp, *nt;
	if (t && used_of(t) < t->cap)
		return 0;
	uint64_t live = t ? ld_relaxed(&t->live) : 0, off;
	/* Room for half as many again before the next resize. Compacting
	 * away deleted entries keeps the table's size unless it would be
	 * less than half full: a dict whose keys come and go does not shrink
	 * and grow back again and again. */
	uint64_t want = live < 4 ? 5 : live + live / 2 + 1;
	if (t && want <= t->cap && want > t->cap / 2)
		want = t->cap;
	int rc = table_new(w->a, want, ld_relaxed(&w->o->seq), &nt, &off);
	if (rc)
		return rc;
	uint64_t n = 0;
	if (t) {
		struct dict_entry *src = entries(t), *dst = entries(nt);
		for (uint64_t i = 0, u = used_of(t); i < u; i++) {
			uint64_t kw = ld_relaxed(&src[i].key);
			if (kw == SHMC__W_DELETED || kw == SHMC__W_EMPTY)
				continue;
			uint64_t h = ld_relaxed(&src[i].hash);
			st_relaxed(&dst[n].hash, h);
			st_relaxed(&dst[n].key, kw);
			st_relaxed(&dst[n].val, ld_relaxed(&src[i].val));
			index_put(nt, h, n);
			n++;
		}
	}
	st_relaxed(&nt->used, n);
	st_relaxed(&nt->live, n);
	table_publish(w, off);
	*tp = nt;
	return 0;
}

/* Append a new entry (room made) and publish it. */
static void insert_locked(struct dict_table *t, uint64_t hash, uint64_t kw,
			  uint64_t vw)
{
	uint64_t u = ld_relaxed(&t->used);
	struct dict_entry *e = &entries(t)[u];
	st_relaxed(&e->hash, hash);
	st_relaxed(&e->key, kw);
	st_relaxed(&e->val, vw);
	index_put(t, hash, u);
	st_release(&t->used, u + 1); /* the publication */
	st_release(&t->live, ld_relaxed(&t->live) + 1);
	t->dead_tail = 0;
}

/* Operations -------------------------------------------------------------- */

int shmc__dict_get(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		   int missing, shmc_value_t *out)
{
	struct shmc__rec *r = shmc__epoch_rec(a);
	if (unlikely(r == NULL))
		return SHMC_ETHREADS;
	shmc__epoch_enter(a, r);
	struct dict_entry *e = lookup(a, table_of(a, o), k);
	int rc = missing;
	if (e) {
		uint64_t w = ld_acquire(&e->val);
		if (likely(shmc__w_is_int(w))) { /* the common case, inline */
			*out = shmc_int(shmc__w_int(w));
			rc = 0;
		} else {
			rc = shmc__word_load(a, w, out);
		}
	}
	shmc__epoch_exit(r);
	return rc;
}

int shmc__dict_has(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k)
{
	struct shmc__rec *r = shmc__epoch_rec(a);
	if (unlikely(r == NULL))
		return SHMC_ETHREADS;
	shmc__epoch_enter(a, r);
	int rc = lookup(a, table_of(a, o), k) != NULL;
	shmc__epoch_exit(r);
	return rc;
}

/* Insert K -> VW (value already stored) into the locked table T, which does
 * not hold K. */
static int insert_new_locked(struct shmc__writer *w, struct dict_table *t,
			     const struct shmc__key *k, uint64_t vw)
{
	uint64_t kw;
	/* A new key is stored under the lock: rarer than updates, and it is
	 * not encoded twice. */
	int rc = shmc__word_store(w->a, k->v, &kw);
	if (rc)
		return rc;
	if ((rc = make_room_locked(w, &t)) != 0) {
		shmc__word_drop(w->a, kw);
		return rc;
	}
	uint64_t s = shmc__write_begin(w->o);
	insert_locked(t, k->hash, kw, vw);
	shmc__write_end(w->o, s);
	return 0;
}

/* Whether a conditional store expecting VERSION (shmc_dict_set_if) must
 * give way: 0 expects K absent, any other its object's version. */
static inline bool conflicts(struct shmc__obj *o, const struct dict_entry *e,
			     uint64_t version)
{
	return version == 0 ? e != NULL : e == NULL || shmc__obj_version(o) != version;
}

/* Store V under K; with EXPECT, only if conflicts() says no. */
static int dict_store(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		      shmc_value_t v, const uint64_t *expect)
{
	struct shmc__writer w;
	uint64_t vw;
	int rc = shmc__word_store(a, v, &vw);
	if (rc)
		return rc;
	if ((rc = shmc__writer_begin(a, o, 0, &w)) != 0)
		goto fail;
	struct dict_table *t = table_of(w.a, w.o);
	struct dict_entry *e = lookup(w.a, t, k);
	if (expect && conflicts(w.o, e, *expect)) {
		shmc__writer_exit(&w);
		rc = SHMC_ECONFLICT;
		goto fail;
	}
	if (e) {
		/* Replacing an int by an int retires nothing: no bookkeeping. */
		uint64_t old = ld_relaxed(&e->val);
		if (shmc__word_needs_retire(old) && (rc = shmc__writer_reserve(&w, 1)) != 0) {
			shmc__writer_exit(&w);
			goto fail;
		}
		uint64_t s = shmc__write_begin(w.o);
		st_release(&e->val, vw);
		shmc__write_end(w.o, s);
		shmc__write_key(w.a, w.o, k->hash);
		shmc__word_retire(w.a, w.r, old);
		shmc__writer_exit(&w);
		return 0;
	}
	/* A new key: growing the table retires the old one. */
	if (t && used_of(t) >= t->cap && (rc = shmc__writer_reserve(&w, 1)) != 0) {
		shmc__writer_exit(&w);
		goto fail;
	}
	rc = insert_new_locked(&w, t, k, vw);
	if (rc == 0)
		shmc__write_key(w.a, w.o, k->hash);
	shmc__writer_exit(&w);
	if (rc == 0)
		return 0;
fail:
	shmc__word_drop(a, vw);
	return rc;
}

int shmc__dict_set(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		   shmc_value_t v)
{
	return dict_store(a, o, k, v, NULL);
}

int shmc__dict_set_if(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		      shmc_value_t v, uint64_t version)
{
	return dict_store(a, o, k, v, &version);
}

int shmc__dict_setdefault(shmc_arena_t *a, struct shmc__obj *o,
			  const struct shmc__key *k, shmc_value_t dflt,
			  shmc_value_t *out)
{
	struct shmc__writer w;
	shmc_value_t v = shmc_none();
	uint64_t vw;
	int rc = shmc__word_store(a, dflt, &vw);
	if (rc)
		return rc;
	if ((rc = shmc__writer_begin(a, o, 1, &w)) != 0) {
		shmc__word_drop(a, vw);
		return rc;
	}
	struct dict_table *t = table_of(w.a, w.o);
	struct dict_entry *e = lookup(w.a, t, k);
	if (e) {
		if (out)
			rc = shmc__word_load(w.a, ld_relaxed(&e->val), &v);
		shmc__writer_exit(&w);
		shmc__word_drop(a, vw);
	} else {
		/* Decode before inserting: after, a failure could not be undone. */
		if (out)
			rc = shmc__word_load(w.a, vw, &v);
		if (rc == 0 && (rc = insert_new_locked(&w, t, k, vw)) != 0)
			shmc_value_free(&v);
		if (rc == 0)
			shmc__write_key(w.a, w.o, k->hash);
		shmc__writer_exit(&w);
		if (rc)
			shmc__word_drop(a, vw);
	}
	if (rc == 0 && out)
		*out = v;
	return rc;
}

int shmc__dict_clear(shmc_arena_t *a, struct shmc__obj *o)
{
	struct shmc__writer w;
	int rc = shmc__writer_begin(a, o, 1, &w);
	if (rc)
		return rc;
	shmc__writer_detach(&w, &SHMC__BODY(w.o, struct dict_body)->table_off,
			    table_of(w.a, w.o));
	shmc__write_key(w.a, w.o, SHMC__WATCH_ALL_KEYS);
	shmc__writer_exit(&w);
	return 0;
}

int shmc__dict_remove(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		      int missing, shmc_value_t *out)
{
	struct shmc__writer w;
	int rc = shmc__writer_begin(a, o, 2, &w);
	if (rc)
		return rc;
	struct dict_table *t = table_of(w.a, w.o);
	struct dict_entry *e = lookup(w.a, t, k);
	shmc_value_t v;
	if (e == NULL) {
		rc = missing;
	} else if (out == NULL || (rc = shmc__word_load(w.a, ld_relaxed(&e->val), &v)) == 0) {
		uint64_t kw = ld_relaxed(&e->key), vw = ld_relaxed(&e->val);
		uint64_t s = shmc__write_begin(w.o);
		st_release(&e->key, SHMC__W_DELETED); /* the publication */
		st_relaxed(&t->live, ld_relaxed(&t->live) - 1);
		shmc__write_end(w.o, s);
		shmc__write_key(w.a, w.o, k->hash);
		shmc__word_retire(w.a, w.r, kw);
		shmc__word_retire(w.a, w.r, vw);
		if (out)
			*out = v;
	}
	shmc__writer_exit(&w);
	return rc;
}

int shmc__dict_rmw(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		   int missing, const struct shmc__rmw *op)
{
	struct shmc__writer w;
	int rc = shmc__writer_begin(a, o, 0, &w);
	if (rc)
		return rc;
	struct dict_entry *e = lookup(w.a, table_of(w.a, w.o), k);
	rc = e ? shmc__rmw_locked(&w, &e->val, op) : missing;
	if (rc == 0)
		shmc__write_key(w.a, w.o, k->hash);
	shmc__writer_exit(&w);
	return rc;
}

static int len_fn(shmc_arena_t *a, struct shmc__obj *o, void *p)
{
	struct dict_table *t = table_of(a, o);
	*(int64_t *)p = t ? (int64_t)ld_acquire(&t->live) : 0;
	return 0;
}

static void nothing(void *p)
{
	(void)p;
}

int64_t shmc__dict_len(shmc_arena_t *a, struct shmc__obj *o)
{
	int64_t n;
	int rc = shmc__obj_snapshot(a, o, len_fn, nothing, &n);
	return rc ? rc : n;
}

static int snapshot_fn(shmc_arena_t *a, struct shmc__obj *o, void *p)
{
	shmc_value_t *out = p;
	struct dict_table *t = table_of(a, o);
	int rc = shmc__pmap_new(out);
	if (rc || t == NULL)
		return rc;
	struct dict_entry *e = entries(t);
	for (uint64_t i = 0, u = used_of(t); i < u; i++) {
		uint64_t kw = ld_acquire(&e[i].key);
		if (kw == SHMC__W_DELETED || kw == SHMC__W_EMPTY)
			continue;
		shmc_value_t k, v;
		if ((rc = shmc__word_load(a, kw, &k)) == 0 &&
		    (rc = shmc__word_load(a, ld_acquire(&e[i].val), &v)) != 0)
			shmc_value_free(&k);
		if (rc == 0)
			rc = shmc_pdict_set(out, k, v);
		if (rc) {
			shmc_value_free(out);
			return rc == SHMC_EUNHASHABLE ? SHMC_ECORRUPT : rc;
		}
	}
	return 0;
}

static void snapshot_reset(void *p)
{
	shmc_value_free(p);
}

int shmc__dict_snapshot(shmc_arena_t *a, struct shmc__obj *o, shmc_value_t *out)
{
	shmc_value_t v;
	int rc = shmc__obj_snapshot(a, o, snapshot_fn, snapshot_reset, &v);
	if (rc == 0)
		*out = v;
	return rc;
}

/* Drop a detached table with every key and value in it. @return -1 when
 * OFF is not a dict table. */
int shmc__dict_body_drop(shmc_arena_t *a, uint64_t off)
{
	struct dict_table *t = table_at(a, off);
	if (t == NULL)
		return -1;
	struct dict_entry *e = entries(t);
	for (uint64_t i = 0, u = used_of(t); i < u; i++) {
		uint64_t kw = ld_relaxed(&e[i].key);
		if (kw == SHMC__W_DELETED || kw == SHMC__W_EMPTY)
			continue;
		shmc__word_drop(a, kw);
		shmc__word_drop(a, ld_relaxed(&e[i].val));
	}
	shmc__free(a, off);
	return 0;
}

void shmc__dict_destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	uint64_t off = ld_relaxed(&SHMC__BODY(o, struct dict_body)->table_off);
	if (off)
		shmc__dict_body_drop(a, off);
}

int shmc__dict_repair(shmc_arena_t *a, struct shmc__obj *o)
{
	if (ld_relaxed(&SHMC__BODY(o, struct dict_body)->table_off) == 0)
		return 0;
	struct dict_table *t = table_of(a, o);
	if (t == NULL)
		return SHMC_ECORRUPT;
	uint64_t used = ld_relaxed(&t->used);
	if (used > t->cap)
		return SHMC_ECORRUPT;
	struct dict_entry *e = entries(t);
	/* Roll back the inserts a dead writer had indexed but not published:
	 * no reader has seen them (see the top). Each was complete before its
	 * slot was stored, so its words are dropped with it. */
	for (uint64_t i = 0; i < t->nindex; i++) {
		uint32_t x = ld_relaxed(&t->index[i]);
		if (x <= used)
			continue;
		if (x > t->cap)
			return SHMC_ECORRUPT;
		uint64_t kw = ld_relaxed(&e[x - 1].key);
		if (kw != SHMC__W_DELETED && kw != SHMC__W_EMPTY) {
			shmc__word_drop(a, kw);
			shmc__word_drop(a, ld_relaxed(&e[x - 1].val));
		}
		st_relaxed(&e[x - 1].key, SHMC__W_EMPTY);
		st_relaxed(&t->index[i], 0);
	}
	t->dead_tail = 0;
	uint64_t live = 0;
	for (uint64_t i = 0; i < used; i++) {
		uint64_t kw = ld_relaxed(&e[i].key);
		live += kw != SHMC__W_DELETED && kw != SHMC__W_EMPTY;
	}
	st_relaxed(&t->used, used);
	st_relaxed(&t->live, live);
	return 0;
}

int shmc__dict_walk_body(struct shmc__walk *w, uint64_t off)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	unsigned long long self = off;
	/* The arena may be changing under a view: the dimensions are read
	 * once, and every bound below is theirs. */
	uint64_t nindex, cap;
	struct dict_table *t = table_dims_at(a, off, &nindex, &cap);
	if (t == NULL)
		return -1;
	if (!shmc__walk_block(w, off, table_bytes(nindex, cap), "dict table"))
		return 0;
	uint64_t used = ld_acquire(&t->used), live = 0;
	if (used > cap) {
		shmc__walk_error(w, "dict table %#llx: %llu entries used of %llu", self,
				 (unsigned long long)used, (unsigned long long)cap);
		return 0;
	}
	/* Every index slot names a used entry, and every entry is found by
	 * probing from its hash: no empty slot lies between its hash's slot
	 * and its own. Checked in O(nindex + used), with a count of empty
	 * slots before each slot and each entry's slot: probing for each entry
	 * would take O(nindex * used) on a corrupt table (an index with no
	 * empty slot), which is hours on a big one. */
	struct dict_entry *e = entries_at(t, nindex);
	uint64_t mask = nindex - 1;
	uint64_t *empties = malloc((nindex + 1) * sizeof(uint64_t));
	uint64_t *slot_of = calloc(used + 1, sizeof(uint64_t)); /* slot + 1 */
	if (empties == NULL || slot_of == NULL) {
		free(empties);
		free(slot_of);
		shmc__walk_error(w, "dict table %#llx: no memory to check its index", self);
		return 0;
	}
	empties[0] = 0;
	for (uint64_t i = 0; i < nindex; i++) {
		uint32_t x = ld_relaxed(&t->index[i]);
		empties[i + 1] = empties[i] + (x == 0);
		if (x > used)
			shmc__walk_error(w, "dict table %#llx: index slot %llu names entry %u of %llu",
					 self, (unsigned long long)i, x,
					 (unsigned long long)used);
		else if (x && slot_of[x - 1])
			shmc__walk_error(w, "dict table %#llx: entry %u is in the index twice",
					 self, x - 1);
		else if (x)
			slot_of[x - 1] = i + 1;
	}
	for (uint64_t i = 0; i < used; i++) {
		uint64_t kw = ld_acquire(&e[i].key);
		if (kw == SHMC__W_DELETED)
			continue;
		if (kw == SHMC__W_EMPTY) {
			shmc__walk_error(w, "dict table %#llx: entry %llu has no key", self,
					 (unsigned long long)i);
			continue;
		}
		live++;
		uint64_t h = ld_relaxed(&e[i].hash) & mask, j = slot_of[i];
		bool found = j != 0;
		if (found) { /* the empty slots in [h, j), cyclically */
			j--;
			uint64_t gap = h <= j ? empties[j] - empties[h]
					      : empties[nindex] - empties[h] + empties[j];
			found = gap == 0;
		}
		if (!found)
			shmc__walk_error(w, "dict table %#llx: entry %llu cannot be found from its hash",
					 self, (unsigned long long)i);
		shmc__walk_word(w, kw, "dict key");
		shmc__walk_word(w, ld_acquire(&e[i].val), "dict value");
	}
	free(empties);
	free(slot_of);
	if (live != ld_relaxed(&t->live))
		shmc__walk_error(w, "dict table %#llx: counts %llu live entries, holds %llu",
				 self, (unsigned long long)ld_relaxed(&t->live),
				 (unsigned long long)live);
	return 0;
}

void shmc__dict_walk(struct shmc__walk *w, struct shmc__obj *o)
{
	uint64_t off = ld_acquire(&SHMC__BODY(o, struct dict_body)->table_off);
	if (off && shmc__dict_walk_body(w, off) != 0)
		shmc__walk_error(w, "dict %#llx: table at %#llx is malformed",
				 (unsigned long long)shmc__off(shmc__walk_arena(w), o),
				 (unsigned long long)off);
}

int64_t shmc__dict_length(shmc_arena_t *a, struct shmc__obj *o)
{
	struct dict_table *t = table_of(a, o);
	return t ? (int64_t)ld_acquire(&t->live) : 0;
}

void shmc__dict_items(shmc_arena_t *a, struct shmc__obj *o,
		      int (*fn)(void *ctx, uint64_t key, uint64_t val), void *ctx)
{
	/* For views of a live arena too: the dimensions are read once. */
	uint64_t off = ld_acquire(&SHMC__BODY(o, struct dict_body)->table_off), nindex, cap;
	struct dict_table *t = off ? table_dims_at(a, off, &nindex, &cap) : NULL;
	if (t == NULL)
		return;
	struct dict_entry *e = entries_at(t, nindex);
	uint64_t u = ld_acquire(&t->used);
	for (uint64_t i = 0, n = u < cap ? u : cap; i < n; i++) {
		uint64_t kw = ld_acquire(&e[i].key);
		if (kw == SHMC__W_DELETED || kw == SHMC__W_EMPTY)
			continue;
		if (fn(ctx, kw, ld_acquire(&e[i].val)))
			break;
	}
}

/* popitem ------------------------------------------------------------------ */

int shmc__dict_popitem(shmc_arena_t *a, struct shmc__obj *o, shmc_value_t *key,
		       shmc_value_t *val)
{
	struct shmc__writer w;
	int rc = shmc__writer_begin(a, o, 2, &w);
	if (rc)
		return rc;
	struct dict_table *t = table_of(w.a, w.o);
	if (t == NULL || ld_relaxed(&t->live) == 0) {
		shmc__writer_exit(&w);
		return SHMC_EKEY;
	}
	/* The last live entry: Python's LIFO order. */
	struct dict_entry *e = entries(t);
	uint64_t u = used_of(t), i = u - (t->dead_tail < u ? t->dead_tail : u), kw = 0;
	while (i > 0) {
		kw = ld_relaxed(&e[--i].key);
		if (kw != SHMC__W_DELETED && kw != SHMC__W_EMPTY)
			break;
		kw = 0;
	}
	if (kw == 0) { /* live said there was one */
		shmc__writer_exit(&w);
		return SHMC_ECORRUPT;
	}
	uint64_t vw = ld_relaxed(&e[i].val);
	shmc_value_t k = shmc_none(), v = shmc_none();
	/* Decode first: after the removal a failure could not be undone. */
	if ((key && (rc = shmc__word_load(w.a, kw, &k)) != 0) ||
	    (val && (rc = shmc__word_load(w.a, vw, &v)) != 0)) {
		shmc_value_free(&k);
		shmc__writer_exit(&w);
		return rc;
	}
	uint64_t s = shmc__write_begin(w.o);
	st_release(&e[i].key, SHMC__W_DELETED); /* the publication */
	st_relaxed(&t->live, ld_relaxed(&t->live) - 1);
	shmc__write_end(w.o, s);
	shmc__write_key(w.a, w.o, ld_relaxed(&e[i].hash));
	t->dead_tail = (uint32_t)(u - i);
	shmc__word_retire(w.a, w.r, kw);
	shmc__word_retire(w.a, w.r, vw);
	shmc__writer_exit(&w);
	if (key)
		*key = k;
	if (val)
		*val = v;
	return 0;
}

/* merge --------------------------------------------------------------------- */

/* The entry of T whose key word is KW (found from its hash), or NULL:
 * where an entry went when its table was rebuilt, since rebuilding moves
 * key words, never re-encodes them. */
static struct dict_entry *find_word(struct dict_table *t, uint64_t hash, uint64_t kw)
{
	struct dict_entry *e = entries(t);
	uint64_t mask = t->nindex - 1, i = hash & mask, used = used_of(t);
	for (uint64_t n = 0; n < t->nindex; n++, i = (i + 1) & mask) {
		uint32_t x = ld_acquire(&t->index[i]);
		if (x == 0)
			return NULL;
		if (x <= used && ld_relaxed(&e[x - 1].key) == kw)
			return &e[x - 1];
	}
	return NULL;
}

/* One entry of a merge: its key, the word of its new value, the entry now
 * holding the key (NULL for a new key) and the new key's word. */
struct merge_item {
	struct shmc__key k;
	uint64_t vw, kw;
	struct dict_entry *old;
};

static void drop_words(shmc_arena_t *a, struct merge_item *it, size_t n, bool keys)
{
	for (size_t i = 0; i < n; i++) {
		shmc__word_drop(a, it[i].vw);
		if (keys && it[i].kw)
			shmc__word_drop(a, it[i].kw);
	}
}

/* Store the key words of the new keys (lock held). */
static int store_new_keys(shmc_arena_t *a, struct merge_item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (it[i].old)
			continue;
		int rc = shmc__word_store(a, it[i].k.v, &it[i].kw);
		if (rc) {
			for (size_t j = 0; j < i; j++)
				if (it[j].kw)
					shmc__word_drop(a, it[j].kw);
			for (size_t j = 0; j < n; j++)
				it[j].kw = 0;
			return rc;
		}
	}
	return 0;
}

/* Every key is new and T has room for them all: append them and publish
 * them with one store of used. */
static int merge_append_locked(struct shmc__writer *w, struct dict_table *t,
			       struct merge_item *it, size_t n)
{
	int rc = store_new_keys(w->a, it, n);
	if (rc)
		return rc;
	struct dict_entry *e = entries(t);
	uint64_t u = ld_relaxed(&t->used);
	for (size_t i = 0; i < n; i++) {
		st_relaxed(&e[u + i].hash, it[i].k.hash);
		st_relaxed(&e[u + i].key, it[i].kw);
		st_relaxed(&e[u + i].val, it[i].vw);
		index_put(t, it[i].k.hash, u + i);
	}
	uint64_t s = shmc__write_begin(w->o);
	st_release(&t->used, u + n); /* the publication of them all */
	st_release(&t->live, ld_relaxed(&t->live) + n);
	shmc__write_end(w->o, s);
	t->dead_tail = 0;
	return 0;
}

/* Anything else: a new table holding the old entries, the new values of
 * the keys already there (in their places) and the new keys (at the end),
 * published with one store of table_off. The values replaced go to a
 * second table, a graveyard retired whole, so that a merge of any size
 * needs two retirements, not one per value. */
static int merge_rebuild_locked(struct shmc__writer *w, struct dict_table *t,
				struct merge_item *it, size_t n, uint64_t nnew,
				uint64_t nret)
{
	uint64_t live = t ? ld_relaxed(&t->live) : 0, total = live + nnew, noff, goff = 0;
	struct dict_table *nt, *gy = NULL;
	int rc = shmc__writer_reserve(w, (t != NULL) + (nret != 0));
	if (rc)
		return rc;
	if ((rc = table_new(w->a, total < 4 ? 5 : total + total / 2 + 1,
			    ld_relaxed(&w->o->seq), &nt, &noff)) != 0)
		return rc;
	if (nret && (rc = table_new(w->a, nret, 0, &gy, &goff)) != 0) {
		shmc__free(w->a, noff);
		return rc;
	}
	if ((rc = store_new_keys(w->a, it, n)) != 0) {
		shmc__free(w->a, noff);
		if (gy)
			shmc__free(w->a, goff);
		return rc;
	}
	/* Nothing can fail from here on. */
	struct dict_entry *dst = entries(nt);
	uint64_t m = 0, g = 0;
	if (t) {
		struct dict_entry *src = entries(t);
		for (uint64_t i = 0, u = used_of(t); i < u; i++) {
			uint64_t kw = ld_relaxed(&src[i].key);
			if (kw == SHMC__W_DELETED || kw == SHMC__W_EMPTY)
				continue;
			uint64_t h = ld_relaxed(&src[i].hash);
			st_relaxed(&dst[m].hash, h);
			st_relaxed(&dst[m].key, kw);
			st_relaxed(&dst[m].val, ld_relaxed(&src[i].val));
			index_put(nt, h, m);
			m++;
		}
	}
	st_relaxed(&nt->used, m);
	for (size_t i = 0; i < n; i++) {
		if (it[i].old == NULL)
			continue;
		struct dict_entry *ne = find_word(nt, it[i].k.hash, ld_relaxed(&it[i].old->key));
		SHMC_ASSERT(ne != NULL);
		uint64_t ov = ld_relaxed(&ne->val);
		st_relaxed(&ne->val, it[i].vw);
		if (shmc__word_needs_retire(ov)) {
			/* nret counted these: the keys of M are distinct */
			SHMC_ASSERT(g < nret);
			struct dict_entry *ge = &entries(gy)[g];
			st_relaxed(&ge->hash, g);
			st_relaxed(&ge->key, SHMC__W_NONE);
			st_relaxed(&ge->val, ov);
			index_put(gy, g, g);
			g++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (it[i].old)
			continue;
		st_relaxed(&dst[m].hash, it[i].k.hash);
		st_relaxed(&dst[m].key, it[i].kw);
		st_relaxed(&dst[m].val, it[i].vw);
		index_put(nt, it[i].k.hash, m);
		m++;
	}
	st_relaxed(&nt->used, m);
	st_relaxed(&nt->live, m);
	if (gy) {
		st_relaxed(&gy->used, g);
		st_relaxed(&gy->live, g);
	}
	struct dict_body *b = SHMC__BODY(w->o, struct dict_body);
	uint64_t s = shmc__write_begin(w->o);
	st_release(&b->table_off, noff); /* the publication of it all */
	shmc__write_end(w->o, s);
	if (t) /* its words moved, or went to the graveyard */
		shmc__epoch_retire(w->a, w->r, shmc__off(w->a, t) | SHMC__RETIRE_FREE);
	if (gy)
		shmc__epoch_retire(w->a, w->r, goff | SHMC__RETIRE_BODY);
	return 0;
}

int shmc__dict_merge(shmc_arena_t *a, struct shmc__obj *o, const struct shmc_pmap *m)
{
	size_t n = m->len;
	if (n == 0)
		return 0;
	struct merge_item *it = shmc__heap_alloc(n * sizeof(*it));
	if (it == NULL)
		return -ENOMEM;
	/* Values are encoded before the lock, as every write does. */
	int rc = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		it[i].kw = 0;
		it[i].old = NULL;
		if ((rc = shmc__dict_key(m->e[i].key, &it[i].k)) != 0 ||
		    (rc = shmc__word_store(a, m->e[i].val, &it[i].vw)) != 0)
			break;
	}
	if (rc) {
		drop_words(a, it, i, false);
		shmc__heap_free(it);
		return rc;
	}
	struct shmc__writer w;
	if ((rc = shmc__writer_begin(a, o, 0, &w)) != 0) {
		drop_words(a, it, n, false);
		shmc__heap_free(it);
		return rc;
	}
	struct dict_table *t = table_of(w.a, w.o);
	uint64_t nnew = 0, nret = 0;
	for (i = 0; i < n; i++) {
		it[i].old = lookup(w.a, t, &it[i].k);
		if (it[i].old == NULL)
			nnew++;
		else if (shmc__word_needs_retire(ld_relaxed(&it[i].old->val)))
			nret++;
	}
	bool append = nnew == n && t && used_of(t) + n <= t->cap;
	uint64_t old_bytes = t ? table_bytes(t->nindex, t->cap) : 0;
	if (append)
		rc = merge_append_locked(&w, t, it, n);
	else
		rc = merge_rebuild_locked(&w, t, it, n, nnew, nret);
	if (rc == 0)
		shmc__write_key(w.a, w.o, SHMC__WATCH_ALL_KEYS);
	shmc__writer_exit(&w);
	/* A rebuild retired a whole table: when it is big, free it as soon
	 * as no reader can be in it rather than after the next few dozen
	 * retirements, so that merges into a big dict do not pile its old
	 * tables up (a flush costs a few membarriers: tens of microseconds,
	 * less than rebuilding a megabyte). */
	if (rc == 0 && !append && old_bytes >= ((uint64_t)1 << 20))
		shmc__epoch_flush(w.a, w.r);
	if (rc)
		drop_words(a, it, n, false);
	shmc__heap_free(it);
	return rc;
}

/* Primitives for the cache (dict.h) ---------------------------------------- */

int shmc__dict_peek(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__key *k,
		    uint64_t *vw)
{
	struct dict_entry *e = lookup(a, table_of(a, o), k);
	if (e == NULL)
		return 0;
	*vw = ld_acquire(&e->val);
	return 1;
}

int64_t shmc__dict_find_locked(shmc_arena_t *a, struct shmc__obj *o,
			       const struct shmc__key *k)
{
	struct dict_table *t = table_of(a, o);
	struct dict_entry *e = lookup(a, t, k);
	return e ? (int64_t)(e - entries(t)) : -1;
}

uint64_t shmc__dict_used_locked(shmc_arena_t *a, struct shmc__obj *o)
{
	struct dict_table *t = table_of(a, o);
	return t ? used_of(t) : 0;
}

bool shmc__dict_entry_locked(shmc_arena_t *a, struct shmc__obj *o, uint64_t pos,
			     uint64_t *hash, uint64_t *kw, uint64_t *vw)
{
	struct dict_table *t = table_of(a, o);
	if (t == NULL || pos >= used_of(t))
		return false;
	struct dict_entry *e = &entries(t)[pos];
	uint64_t k = ld_relaxed(&e->key);
	if (k == SHMC__W_DELETED || k == SHMC__W_EMPTY)
		return false;
	if (hash)
		*hash = ld_relaxed(&e->hash);
	if (kw)
		*kw = k;
	if (vw)
		*vw = ld_relaxed(&e->val);
	return true;
}

int shmc__dict_room_locked(struct shmc__writer *w)
{
	struct dict_table *t = table_of(w->a, w->o);
	int rc;
	if (t && used_of(t) >= t->cap && (rc = shmc__writer_reserve(w, 1)) != 0)
		return rc;
	return make_room_locked(w, &t);
}

void shmc__dict_append_locked(struct shmc__writer *w, uint64_t hash, uint64_t kw,
			      uint64_t vw)
{
	struct dict_table *t = table_of(w->a, w->o);
	SHMC_ASSERT(t != NULL && used_of(t) < t->cap);
	uint64_t s = shmc__write_begin(w->o);
	insert_locked(t, hash, kw, vw);
	shmc__write_end(w->o, s);
}

void shmc__dict_store_locked(struct shmc__writer *w, uint64_t pos, uint64_t vw)
{
	struct dict_entry *e = &entries(table_of(w->a, w->o))[pos];
	uint64_t s = shmc__write_begin(w->o);
	st_release(&e->val, vw); /* the publication */
	shmc__write_end(w->o, s);
}

void shmc__dict_delete_locked(struct shmc__writer *w, uint64_t pos)
{
	struct dict_table *t = table_of(w->a, w->o);
	struct dict_entry *e = &entries(t)[pos];
	uint64_t s = shmc__write_begin(w->o);
	st_release(&e->key, SHMC__W_DELETED); /* the publication */
	st_relaxed(&t->live, ld_relaxed(&t->live) - 1);
	shmc__write_end(w->o, s);
}

/* Iteration ----------------------------------------------------------------- */

int shmc__dict_next(shmc_arena_t *a, struct shmc__obj *o, struct shmc__dict_cursor *c,
		    int64_t len, unsigned what, shmc_value_t *out)
{
	struct shmc__rec *r = shmc__epoch_rec(a);
	if (unlikely(r == NULL))
		return SHMC_ETHREADS;
	shmc__epoch_enter(a, r);
	struct dict_table *t = table_of(a, o);
	int rc = 0;
	if ((t ? (int64_t)ld_acquire(&t->live) : 0) != len) {
		rc = SHMC_ECHANGED;
		goto out;
	}
	if (t == NULL)
		goto out; /* empty, and was */
	if (t->gen != c->gen || !c->started) {
		/* A new table (rebuilt by a merge or a compaction): go on after
		 * the last key given, which it moved there, with its word. */
		c->pos = 0;
		if (c->last_kw) {
			struct dict_entry *e = find_word(t, c->last_hash, c->last_kw);
			if (e == NULL) { /* deleted, and the size is back */
				rc = SHMC_EKEY;
				goto out;
			}
			c->pos = (uint64_t)(e - entries(t)) + 1;
		}
		c->gen = t->gen;
		c->started = true;
	}
	struct dict_entry *e = entries(t);
	for (uint64_t i = c->pos, u = used_of(t); i < u; i++) {
		uint64_t kw = ld_acquire(&e[i].key);
		if (kw == SHMC__W_DELETED || kw == SHMC__W_EMPTY)
			continue;
		shmc_value_t k = shmc_none(), v = shmc_none();
		if ((what & SHMC_ITER_KEYS) && (rc = shmc__word_load(a, kw, &k)) != 0)
			goto out;
		if ((what & SHMC_ITER_VALUES) &&
		    (rc = shmc__word_load(a, ld_acquire(&e[i].val), &v)) != 0) {
			shmc_value_free(&k);
			goto out;
		}
		if (what == SHMC_ITER_ITEMS) {
			shmc_value_t tup;
			if ((rc = shmc__seq_new(SHMC_TUPLE, 2, &tup)) != 0) {
				shmc_value_free(&k);
				shmc_value_free(&v);
				goto out;
			}
			shmc__seq_push(&tup, k);
			shmc__seq_push(&tup, v);
			*out = tup;
		} else {
			*out = what == SHMC_ITER_KEYS ? k : v;
		}
		c->pos = i + 1;
		c->last_kw = kw;
		c->last_hash = ld_relaxed(&e[i].hash);
		rc = 1;
		goto out;
	}
	c->pos = used_of(t);
out:
	shmc__epoch_exit(r);
	return rc;
}
