/*
 * cache.c -- the bounded cache dict (SHMC_KIND_CACHE): nginx's
 * lua_shared_dict on the dict's table (dict.c), with a limit in entries and
 * in bytes, a time-to-live per entry and approximate-LRU eviction.
 *
 * Layout: the body starts with the dict's body (the table's offset), so the
 * table, its lock-free lookup, its repair and its walk are the dict's. Then
 * the limits (fixed at creation), the writers' bookkeeping (bytes held, the
 * CLOCK hand, the expiry sweep's cursor, the eviction and expiration
 * counts), the readers' hit and miss counts in NSTRIPES stripes of 64
 * bytes (a thread counts in the stripe of its thread id, so that readers
 * do not all write one line), and NREFS words of reference bits.
 *
 * An entry's value word is the value itself when it needs no block and
 * never expires (an int, None, a bool: incr and get of a counter stay one
 * word); otherwise it is a value block holding the tuple (deadline, value),
 * so that a value and its deadline are published together by the one store
 * of the word. Deadlines are CLOCK_MONOTONIC nanoseconds: one clock for
 * every process of the machine, unaffected by setting the date (a saved
 * arena's deadlines mean nothing after a reboot: a save must store the time
 * left, and a load add it to the new clock). An entry whose deadline has
 * passed is invisible at once: every read compares it with the clock.
 *
 * Approximate LRU (CLOCK): a read that hits sets the entry's reference bit
 * -- a bit chosen by the key's hash among NREFS * 64, shared by the keys
 * whose hashes collide -- and only when it is not set already, so the LRU
 * bookkeeping of a hot entry costs its readers no write (their hit counts
 * go to their stripes). A writer that must make room advances
 * the hand over the table's entries (insertion order): an expired entry is
 * taken, a referenced one has its bit cleared and is passed, the first
 * unreferenced one is evicted; after a whole turn bits are ignored. So an
 * entry read since the hand last passed it outlives the entries not read
 * (unless its bit is shared with one that was), and among those the oldest
 * inserted after the hand goes first.
 *
 * Memory of expired entries comes back without an overwrite: each write
 * also looks at the next SWEEP entries after its sweep cursor and removes
 * the expired ones; flush_expired removes them all.
 *
 * Crash safety: writers hold the owner lock; every change (a value stored,
 * an entry appended or deleted, a table replaced) is one atomic store of
 * the dict's (dict.c's essay); a write that evicts makes several, each
 * leaving a valid cache (fewer entries). Everything that can fail
 * (encoding, the key's block, the table's room, the limbo slots) is done
 * before the first, so a failed call changes nothing. `bytes` is
 * bookkeeping after the stores: repair recounts it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "base/heap.h"
#include "containers/cache.h"
#include "containers/dict.h"
#include "values/repr.h"
#include "values/venc.h"

#define NSTRIPES 16
#define NREFS 512       /* words of reference bits: 32768 bits */
#define SWEEP 4         /* entries a write looks at for expiry */
#define ENTRY_BYTES 32  /* what an entry counts beside its blocks */

struct cache_stripe {
	atomic_u64 hits, misses;
	uint64_t pad_[6];
};

struct cache_body {
	atomic_u64 table_off; /* the dict's body: first */
	uint64_t max_entries, max_bytes; /* 0: no limit; fixed at creation */
	atomic_u64 bytes;     /* the lock: sum of the entries' sizes */
	atomic_u64 hand, sweep; /* the lock: entry numbers */
	atomic_u64 evictions, expirations; /* the lock */
	struct cache_stripe stripe[NSTRIPES];
	atomic_u64 refs[NREFS];
};

#define BODY(o) SHMC__BODY(o, struct cache_body)

_Atomic int64_t shmc__cache_clock_skew;

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec +
	       atomic_load_explicit(&shmc__cache_clock_skew, memory_order_relaxed);
}

static atomic_u64 *ref_word(struct cache_body *b, uint64_t hash, uint64_t *bit)
{
	*bit = (uint64_t)1 << (hash & 63);
	return &b->refs[(hash >> 6) % NREFS];
}

/* Mark HASH's entry used: a write only when the bit is not set already. */
static inline void touch(struct cache_body *b, uint64_t hash)
{
	uint64_t bit;
	atomic_u64 *w = ref_word(b, hash, &bit);
	if (!(ld_relaxed(w) & bit))
		atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
}

static inline struct cache_stripe *my_stripe(struct cache_body *b)
{
	return &b->stripe[shmc__olock_tid() % NSTRIPES];
}

/* Entry values --------------------------------------------------------------- */

/* The word for V with DEADLINE (0: none): V's own word when it needs no
 * block and no deadline, else a block of (deadline, V). */
static int wrap(shmc_arena_t *a, shmc_value_t v, int64_t deadline, uint64_t *vw)
{
	if (deadline == 0) {
		uint64_t imm = shmc__word_immediate(v);
		if (imm) {
			*vw = imm;
			return 0;
		}
	}
	union {
		struct shmc_seq s;
		unsigned char bytes[sizeof(struct shmc_seq) + 2 * sizeof(shmc_value_t)];
	} u;
	u.s.len = u.s.cap = 2;
	u.s.items[0] = shmc_int(deadline);
	u.s.items[1] = v;
	shmc_value_t t = {.type = SHMC_TUPLE, .seq = &u.s};
	return shmc__word_store(a, t, vw);
}

/* Entry value word VW: its deadline (0: none) and, for a block, a cursor
 * on the value inside (C->p NULL for a word without block).
 * @return 0, SHMC_ECORRUPT */
static int unwrap(shmc_arena_t *a, uint64_t vw, int64_t *deadline, struct shmc__vcursor *c)
{
	c->p = c->end = NULL;
	*deadline = 0;
	if (!shmc__w_is_block(vw))
		return vw == SHMC__W_EMPTY || vw == SHMC__W_DELETED ? SHMC_ECORRUPT : 0;
	const struct shmc__vblock *b = shmc__vblock_at(a, vw);
	uint64_t n;
	if (b == NULL || b->len < 19 || b->data[0] != SHMC__T_TUPLE || b->data[9] != SHMC__T_INT)
		return SHMC_ECORRUPT;
	memcpy(&n, b->data + 1, 8);
	if (n != 2)
		return SHMC_ECORRUPT;
	memcpy(deadline, b->data + 10, 8);
	c->p = b->data + 18;
	c->end = b->data + b->len;
	return 0;
}

/* Decode the value of entry word VW (unwrapped into C by unwrap). */
static int load(shmc_arena_t *a, uint64_t vw, struct shmc__vcursor *c, shmc_value_t *out)
{
	if (c->p == NULL)
		return shmc__word_load(a, vw, out);
	return shmc__vstream_decode(a, c, 1, false, out);
}

static inline bool expired(int64_t deadline, int64_t now)
{
	return deadline != 0 && deadline <= now;
}

/* Whether entry word VW has expired at NOW (a malformed one counts as
 * expired: removing it is the way out). */
static bool word_expired(shmc_arena_t *a, uint64_t vw, int64_t now)
{
	int64_t dl;
	struct shmc__vcursor c;
	return unwrap(a, vw, &dl, &c) != 0 || expired(dl, now);
}

static uint64_t entry_bytes(shmc_arena_t *a, uint64_t kw, uint64_t vw)
{
	return ENTRY_BYTES + shmc__word_block_bytes(a, kw) + shmc__word_block_bytes(a, vw);
}

/* The deadline for a time-to-live of TTL ns from NOW (0: none).
 * @return 0, -EINVAL (negative), -ERANGE (past the clock's range) */
static int deadline_of(int64_t ttl, int64_t now, int64_t *out)
{
	if (ttl < 0)
		return -EINVAL;
	if (ttl > INT64_MAX - now)
		return -ERANGE;
	*out = ttl ? now + ttl : 0;
	return 0;
}

/* The kind ----------------------------------------------------------------- */

/* Recount the bytes held (lock held, after the dict's repair). */
static int cache_repair(shmc_arena_t *a, struct shmc__obj *o)
{
	int rc = shmc__dict_repair(a, o);
	if (rc)
		return rc;
	uint64_t used = shmc__dict_used_locked(a, o), bytes = 0, kw, vw;
	for (uint64_t i = 0; i < used; i++)
		if (shmc__dict_entry_locked(a, o, i, NULL, &kw, &vw))
			bytes += entry_bytes(a, kw, vw);
	st_relaxed(&BODY(o)->bytes, bytes);
	return 0;
}

/* A consistent reading of the live entries: as a plain dict (printing),
 * or for a save as a plain list of (key, value, time left in ns, 0 for
 * none) in insertion order. */
struct snap {
	shmc_arena_t *a;
	shmc_value_t *out;
	int64_t now;
	bool timed; /* the save's list of triples */
	int rc;
};

static int snap_item(void *ctx, uint64_t kw, uint64_t vw)
{
	struct snap *s = ctx;
	int64_t dl;
	struct shmc__vcursor c;
	shmc_value_t k, v;
	if ((s->rc = unwrap(s->a, vw, &dl, &c)) != 0)
		return 1;
	if (expired(dl, s->now))
		return 0;
	if ((s->rc = shmc__word_load(s->a, kw, &k)) != 0)
		return 1;
	if ((s->rc = load(s->a, vw, &c, &v)) != 0) {
		shmc_value_free(&k);
		return 1;
	}
	if (s->timed) {
		shmc_value_t t = shmc_tuple_of(3, k, v, shmc_int(dl ? dl - s->now : 0));
		if (t.type == SHMC_ERROR) {
			s->rc = (int)t.i;
			return 1;
		}
		return (s->rc = shmc_plist_append(s->out, t)) != 0;
	}
	if ((s->rc = shmc_pdict_set(s->out, k, v)) != 0) {
		if (s->rc == SHMC_EUNHASHABLE)
			s->rc = SHMC_ECORRUPT;
		return 1;
	}
	return 0;
}

static int snapshot_fn(shmc_arena_t *a, struct shmc__obj *o, void *p)
{
	struct snap *s = p;
	if (s->timed) {
		*s->out = shmc_plist_of(0);
		s->rc = s->out->type == SHMC_ERROR ? (int)s->out->i : 0;
	} else {
		s->rc = shmc__pmap_new(s->out);
	}
	if (s->rc)
		return s->rc;
	shmc__dict_items(a, o, snap_item, s);
	if (s->rc)
		shmc_value_free(s->out);
	return s->rc;
}

static void snapshot_reset(void *p)
{
	struct snap *s = p;
	shmc_value_free(s->out);
}

static int cache_snapshot(shmc_arena_t *a, struct shmc__obj *o, bool timed, shmc_value_t *out)
{
	shmc_value_t v;
	struct snap s = {a, &v, now_ns(), timed, 0};
	int rc = shmc__obj_snapshot(a, o, snapshot_fn, snapshot_reset, &s);
	if (rc == 0)
		*out = v;
	return rc;
}

int shmc__cache_export(shmc_obj_t *h, uint64_t *max_entries, uint64_t *max_bytes,
		       shmc_value_t *out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_CACHE, &o);
	if (rc == 0)
		rc = cache_snapshot(shmc__handle_arena(h), o, true, out);
	if (rc)
		return rc;
	*max_entries = BODY(o)->max_entries;
	*max_bytes = BODY(o)->max_bytes;
	return 0;
}

static int cache_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	shmc_value_t v;
	int rc = shmc__resolve(h, SHMC_KIND_CACHE, &o);
	if (rc == 0)
		rc = cache_snapshot(shmc__handle_arena(h), o, false, &v);
	if (rc)
		return rc;
	rc = shmc__repr_snapshot_str(v, out);
	shmc_value_free(&v);
	return rc;
}

/* An entry's value as a view shows it (the kind's item_load_view): a
 * view only reads, so it decodes with stubs and leaves expired entries out
 * as every read does. */
static int cache_item_load_view(shmc_arena_t *a, uint64_t vw, shmc_value_t *out)
{
	int64_t dl;
	struct shmc__vcursor c;
	int rc = unwrap(a, vw, &dl, &c);
	if (rc)
		return rc;
	if (expired(dl, now_ns()))
		return SHMC_EKEY;
	if (c.p == NULL)
		return shmc__word_load_view(a, vw, out);
	return shmc__vstream_decode(a, &c, 1, true, out);
}

const struct shmc__kind shmc__cache_kind = {
	.typeid = "cache",
	.proxy = "CacheProxy",
	.body_size = sizeof(struct cache_body),
	.destroy = shmc__dict_destroy,
	.repair = cache_repair,
	.walk = shmc__dict_walk,
	.length = shmc__dict_length,
	.items = shmc__dict_items,
	.item_load_view = cache_item_load_view,
	.str = cache_str,
	/* Its detached tables are the dict's (body_magic), dropped as such. */
};

/* Creating ----------------------------------------------------------------- */

int shmc__cache_create(shmc_arena_t *a, uint64_t max_entries, uint64_t max_bytes,
		       shmc_obj_t **out)
{
	if ((max_entries == 0 && max_bytes == 0) || max_entries > ((uint64_t)1 << 31) ||
	    max_bytes > INT64_MAX)
		return -EINVAL;
	shmc_obj_t *h;
	int rc = shmc__obj_create(a, SHMC_KIND_CACHE, &h);
	if (rc)
		return rc;
	/* Nobody else can reach it yet. */
	struct cache_body *b = BODY(shmc__obj_of(h));
	b->max_entries = max_entries;
	b->max_bytes = max_bytes;
	*out = h;
	return 0;
}

/* Reading ------------------------------------------------------------------ */

/* Inside RD's section: KEY's entry if it is live -- its hash, value word,
 * deadline and a cursor on its value -- and the clock (read only for a
 * deadline). @return 0, SHMC_EKEY (missing or expired), KEY's errors,
 * SHMC_ECORRUPT */
static int find_live(struct shmc__reader *rd, shmc_value_t key, uint64_t *hash, uint64_t *vw,
		     int64_t *dl, int64_t *now, struct shmc__vcursor *c)
{
	struct shmc__key k;
	int rc = shmc__dict_key(key, &k);
	if (rc)
		return rc;
	*hash = k.hash;
	*now = 0;
	if (!shmc__dict_peek(rd->a, rd->o, &k, vw))
		return SHMC_EKEY;
	if ((rc = unwrap(rd->a, *vw, dl, c)) != 0)
		return rc;
	return *dl && expired(*dl, *now = now_ns()) ? SHMC_EKEY : 0;
}

int shmc_cache_get(shmc_obj_t *h, shmc_value_t key, shmc_value_t *out, int64_t *ttl)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__reader rd;
	int rc = shmc__reader_enter(h, SHMC_KIND_CACHE, &rd);
	if (rc)
		return rc;
	struct cache_body *b = BODY(rd.o);
	uint64_t hash, vw;
	int64_t dl, now;
	struct shmc__vcursor c;
	shmc_value_t v;
	rc = find_live(&rd, key, &hash, &vw, &dl, &now, &c);
	if (rc == SHMC_EKEY)
		atomic_fetch_add_explicit(&my_stripe(b)->misses, 1, memory_order_relaxed);
	if (rc == 0 && (rc = load(rd.a, vw, &c, &v)) == 0) {
		touch(b, hash);
		atomic_fetch_add_explicit(&my_stripe(b)->hits, 1, memory_order_relaxed);
		*out = v;
		if (ttl)
			*ttl = dl ? dl - now : 0;
	}
	shmc__reader_exit(&rd);
	return rc;
}

int shmc_cache_ttl(shmc_obj_t *h, shmc_value_t key, int64_t *ttl)
{
	if (ttl == NULL)
		return -EINVAL;
	struct shmc__reader rd;
	int rc = shmc__reader_enter(h, SHMC_KIND_CACHE, &rd);
	if (rc)
		return rc;
	uint64_t hash, vw;
	int64_t dl, now;
	struct shmc__vcursor c;
	rc = find_live(&rd, key, &hash, &vw, &dl, &now, &c);
	shmc__reader_exit(&rd);
	if (rc == 0)
		*ttl = dl ? dl - now : 0;
	return rc;
}

static int len_item(void *ctx, uint64_t kw, uint64_t vw)
{
	struct snap *s = ctx;
	(void)kw;
	if (!word_expired(s->a, vw, s->now))
		s->rc++;
	return 0;
}

static int len_fn(shmc_arena_t *a, struct shmc__obj *o, void *p)
{
	struct snap *s = p;
	s->rc = 0;
	shmc__dict_items(a, o, len_item, s);
	return 0;
}

static void nothing(void *p)
{
	(void)p;
}

int64_t shmc_cache_len(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_CACHE, &o);
	if (rc)
		return rc;
	shmc_arena_t *a = shmc__handle_arena(h);
	struct snap s = {.a = a, .now = now_ns()};
	rc = shmc__obj_snapshot(a, o, len_fn, nothing, &s);
	return rc ? rc : s.rc;
}

int shmc_cache_stats(shmc_obj_t *h, shmc_cache_stats_t *out)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_CACHE, &o);
	if (rc)
		return rc;
	struct cache_body *b = BODY(o);
	shmc_cache_stats_t s = {0};
	for (unsigned i = 0; i < NSTRIPES; i++) {
		s.hits += ld_relaxed(&b->stripe[i].hits);
		s.misses += ld_relaxed(&b->stripe[i].misses);
	}
	s.evictions = ld_relaxed(&b->evictions);
	s.expirations = ld_relaxed(&b->expirations);
	s.entries = (uint64_t)shmc__dict_length(shmc__handle_arena(h), o);
	s.bytes = ld_relaxed(&b->bytes);
	s.max_entries = b->max_entries;
	s.max_bytes = b->max_bytes;
	*out = s;
	return 0;
}

/* Writing ------------------------------------------------------------------ */

/* Resolve the handle, then KEY, so that a bad handle reports as such. */
static int keyed(shmc_obj_t *h, shmc_value_t key, struct shmc__obj **o, struct shmc__key *k)
{
	int rc = shmc__resolve(h, SHMC_KIND_CACHE, o);
	return rc ? rc : shmc__dict_key(key, k);
}

/* Entries a write removes: their numbers, and how many were expired (the
 * rest are evicted). */
struct victims {
	uint64_t *pos;
	size_t n, cap, nexpired;
	uint64_t bytes;
	uint64_t small[16];
};

static bool is_victim(const struct victims *v, uint64_t p)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->pos[i] == p)
			return true;
	return false;
}

static int add_victim(struct victims *v, uint64_t p, uint64_t bytes, bool exp)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap * 2;
		uint64_t *np = v->pos == v->small ? shmc__heap_alloc(ncap * sizeof(*np))
						  : shmc__heap_realloc(v->pos, ncap * sizeof(*np));
		if (np == NULL)
			return -ENOMEM;
		if (v->pos == v->small)
			memcpy(np, v->small, sizeof(v->small));
		v->pos = np;
		v->cap = ncap;
	}
	v->pos[v->n++] = p;
	v->bytes += bytes;
	v->nexpired += exp;
	return 0;
}

static void victims_free(struct victims *v)
{
	if (v->pos != v->small)
		shmc__heap_free(v->pos);
}

/* Choose what to remove so that an entry of NEED bytes fits, in place of
 * entry SELF (-1: a new entry) of HAVE bytes: the expired entries among the
 * next SWEEP after the sweep cursor, then what the CLOCK hand finds. SAFE:
 * only expired entries may go. Changes nothing but reference bits and the
 * cursors. @return 0, SHMC_EFULL, -ENOMEM */
static int choose_locked(struct shmc__writer *w, struct victims *v, int64_t self,
			 uint64_t need, uint64_t have, bool safe, int64_t now)
{
	struct cache_body *b = BODY(w->o);
	uint64_t used = shmc__dict_used_locked(w->a, w->o), h, kw, vw, p;
	uint64_t live = (uint64_t)shmc__dict_length(w->a, w->o) + (self < 0);
	uint64_t bytes = ld_relaxed(&b->bytes) - have + need;
	int rc;
	if (b->max_bytes && need > b->max_bytes)
		return SHMC_EFULL;
	if (used == 0)
		return 0;
	p = ld_relaxed(&b->sweep);
	for (unsigned i = 0; i < SWEEP && i < used; i++, p++) {
		p %= used;
		if ((int64_t)p != self && shmc__dict_entry_locked(w->a, w->o, p, NULL, &kw, &vw) &&
		    word_expired(w->a, vw, now) &&
		    (rc = add_victim(v, p, entry_bytes(w->a, kw, vw), true)) != 0)
			return rc;
	}
	st_relaxed(&b->sweep, p);
	p = ld_relaxed(&b->hand);
	/* Bounded: one turn honouring the reference bits, one ignoring them. */
	for (uint64_t steps = 0;; steps++, p++) {
		if ((b->max_entries == 0 || live - v->n <= b->max_entries) &&
		    (b->max_bytes == 0 || bytes - v->bytes <= b->max_bytes))
			break;
		if (steps >= 2 * used) {
			rc = SHMC_EFULL; /* only SELF is left */
			goto out;
		}
		p %= used;
		if ((int64_t)p == self || is_victim(v, p) ||
		    !shmc__dict_entry_locked(w->a, w->o, p, &h, &kw, &vw))
			continue;
		bool exp = word_expired(w->a, vw, now);
		if (!exp) {
			uint64_t bit;
			atomic_u64 *rw = ref_word(b, h, &bit);
			if (steps < used && (ld_relaxed(rw) & bit)) {
				atomic_fetch_and_explicit(rw, ~bit, memory_order_relaxed);
				continue;
			}
			if (safe) {
				rc = SHMC_EFULL;
				goto out;
			}
		}
		if ((rc = add_victim(v, p, entry_bytes(w->a, kw, vw), exp)) != 0)
			goto out;
	}
	rc = 0;
out:
	st_relaxed(&b->hand, p);
	return rc;
}

/* Remove the victims (their limbo slots reserved); EVICTING: those not
 * expired count as evictions. */
static void evict_locked(struct shmc__writer *w, const struct victims *v, bool evicting)
{
	struct cache_body *b = BODY(w->o);
	for (size_t i = 0; i < v->n; i++) {
		uint64_t kw, vw;
		if (!shmc__dict_entry_locked(w->a, w->o, v->pos[i], NULL, &kw, &vw))
			continue;
		shmc__dict_delete_locked(w, v->pos[i]);
		shmc__word_retire(w->a, w->r, kw);
		shmc__word_retire(w->a, w->r, vw);
	}
	st_relaxed(&b->bytes, ld_relaxed(&b->bytes) - v->bytes);
	st_relaxed(&b->expirations, ld_relaxed(&b->expirations) + v->nexpired);
	if (evicting)
		st_relaxed(&b->evictions, ld_relaxed(&b->evictions) + (v->n - v->nexpired));
}

/* With the lock held: store VW (taken on success only) as K's value, in
 * place of entry POS (-1: K is new), after removing what the limits
 * require. SELF_EXPIRED: POS held an expired value. */
static int put_locked(struct shmc__writer *w, const struct shmc__key *k, int64_t pos,
		      uint64_t vw, bool safe, bool self_expired, int64_t now)
{
	struct cache_body *b = BODY(w->o);
	struct victims v = {.pos = v.small, .cap = ARRAY_SIZE(v.small)};
	uint64_t kw = 0, okw = 0, ovw = 0, have = 0;
	int rc;
	if (pos < 0) {
		/* A new key: its block, then the table's room. */
		if ((rc = shmc__word_store(w->a, k->v, &kw)) != 0)
			return rc;
		if ((rc = shmc__dict_room_locked(w)) != 0)
			goto fail;
	} else {
		if (!shmc__dict_entry_locked(w->a, w->o, (uint64_t)pos, NULL, &okw, &ovw))
			return SHMC_ECORRUPT;
		have = entry_bytes(w->a, okw, ovw);
	}
	uint64_t need = entry_bytes(w->a, pos < 0 ? kw : okw, vw);
	if ((rc = choose_locked(w, &v, pos, need, have, safe, now)) != 0 ||
	    (rc = shmc__writer_reserve(w, 2 * v.n + 1)) != 0)
		goto fail;
	/* Nothing fails from here on. */
	evict_locked(w, &v, true);
	if (pos < 0) {
		shmc__dict_append_locked(w, k->hash, kw, vw);
	} else {
		shmc__dict_store_locked(w, (uint64_t)pos, vw);
		shmc__word_retire(w->a, w->r, ovw);
		if (self_expired)
			st_relaxed(&b->expirations, ld_relaxed(&b->expirations) + 1);
		else
			touch(b, k->hash);
	}
	st_relaxed(&b->bytes, ld_relaxed(&b->bytes) - have + need);
	victims_free(&v);
	return 0;
fail:
	victims_free(&v);
	if (kw)
		shmc__word_drop(w->a, kw);
	return rc;
}

enum put_mode { PUT_SET, PUT_ADD, PUT_REPLACE };

static int put(shmc_obj_t *h, shmc_value_t key, shmc_value_t val, int64_t ttl,
	       enum put_mode mode, bool safe)
{
	struct shmc__obj *o;
	struct shmc__key k;
	int rc = keyed(h, key, &o, &k);
	if (rc)
		return rc;
	shmc_arena_t *a = shmc__handle_arena(h);
	int64_t now = now_ns(), dl;
	uint64_t vw;
	if ((rc = deadline_of(ttl, now, &dl)) != 0 || (rc = wrap(a, val, dl, &vw)) != 0)
		return rc;
	struct shmc__writer w;
	if ((rc = shmc__writer_begin(a, o, 1, &w)) != 0)
		goto fail;
	int64_t pos = shmc__dict_find_locked(w.a, w.o, &k);
	bool self_expired = false;
	if (pos >= 0) {
		uint64_t ovw;
		if (shmc__dict_entry_locked(w.a, w.o, (uint64_t)pos, NULL, NULL, &ovw))
			self_expired = word_expired(w.a, ovw, now);
	}
	bool present = pos >= 0 && !self_expired;
	if (mode == PUT_ADD && present)
		rc = -EEXIST;
	else if (mode == PUT_REPLACE && !present)
		rc = SHMC_EKEY;
	else
		rc = put_locked(&w, &k, pos, vw, safe, self_expired, now);
	shmc__writer_exit(&w);
	if (rc == 0)
		return 0;
fail:
	shmc__word_drop(a, vw);
	return rc;
}

int shmc_cache_set(shmc_obj_t *h, shmc_value_t key, shmc_value_t val, int64_t ttl_ns)
{
	return put(h, key, val, ttl_ns, PUT_SET, false);
}

int shmc_cache_safe_set(shmc_obj_t *h, shmc_value_t key, shmc_value_t val, int64_t ttl_ns)
{
	return put(h, key, val, ttl_ns, PUT_SET, true);
}

int shmc_cache_add(shmc_obj_t *h, shmc_value_t key, shmc_value_t val, int64_t ttl_ns)
{
	return put(h, key, val, ttl_ns, PUT_ADD, false);
}

int shmc_cache_safe_add(shmc_obj_t *h, shmc_value_t key, shmc_value_t val, int64_t ttl_ns)
{
	return put(h, key, val, ttl_ns, PUT_ADD, true);
}

int shmc_cache_replace(shmc_obj_t *h, shmc_value_t key, shmc_value_t val, int64_t ttl_ns)
{
	return put(h, key, val, ttl_ns, PUT_REPLACE, false);
}

int shmc_cache_incr(shmc_obj_t *h, shmc_value_t key, int64_t delta, shmc_value_t init,
		    int64_t init_ttl_ns, int64_t *out)
{
	struct shmc__obj *o;
	struct shmc__key k;
	int rc = keyed(h, key, &o, &k);
	if (rc)
		return rc;
	if (init.type != SHMC_NONE && init.type != SHMC_INT)
		return init.type == SHMC_ERROR ? (int)init.i : SHMC_ETYPE;
	shmc_arena_t *a = shmc__handle_arena(h);
	int64_t now = now_ns(), idl, dl = 0, n = 0;
	if ((rc = deadline_of(init_ttl_ns, now, &idl)) != 0)
		return rc;
	struct shmc__writer w;
	if ((rc = shmc__writer_begin(a, o, 1, &w)) != 0)
		return rc;
	int64_t pos = shmc__dict_find_locked(w.a, w.o, &k);
	uint64_t ovw = 0, vw = 0;
	struct shmc__vcursor c;
	bool self_expired = false;
	if (pos >= 0 && (!shmc__dict_entry_locked(w.a, w.o, (uint64_t)pos, NULL, NULL, &ovw) ||
			 (rc = unwrap(w.a, ovw, &dl, &c)) != 0)) {
		rc = rc ? rc : SHMC_ECORRUPT;
		goto out;
	}
	self_expired = pos >= 0 && expired(dl, now);
	if (pos >= 0 && !self_expired) {
		/* The value there, which keeps its deadline. */
		shmc_value_t v;
		if ((rc = load(w.a, ovw, &c, &v)) != 0)
			goto out;
		bool is_int = v.type == SHMC_INT;
		n = v.i;
		shmc_value_free(&v);
		if (!is_int) {
			rc = SHMC_ETYPE;
			goto out;
		}
	} else if (init.type == SHMC_NONE) {
		rc = SHMC_EKEY;
		goto out;
	} else {
		n = init.i;
		dl = idl;
	}
	if (__builtin_add_overflow(n, delta, &n)) {
		rc = -ERANGE;
		goto out;
	}
	if ((rc = wrap(w.a, shmc_int(n), dl, &vw)) != 0)
		goto out;
	if ((rc = put_locked(&w, &k, pos, vw, false, self_expired, now)) != 0)
		shmc__word_drop(w.a, vw);
out:
	shmc__writer_exit(&w);
	if (rc == 0 && out)
		*out = n;
	return rc;
}

int shmc_cache_expire(shmc_obj_t *h, shmc_value_t key, int64_t ttl_ns)
{
	struct shmc__obj *o;
	struct shmc__key k;
	int rc = keyed(h, key, &o, &k);
	if (rc)
		return rc;
	shmc_arena_t *a = shmc__handle_arena(h);
	int64_t now = now_ns(), dl, odl;
	if ((rc = deadline_of(ttl_ns, now, &dl)) != 0)
		return rc;
	struct shmc__writer w;
	if ((rc = shmc__writer_begin(a, o, 1, &w)) != 0)
		return rc;
	int64_t pos = shmc__dict_find_locked(w.a, w.o, &k);
	uint64_t ovw, vw;
	struct shmc__vcursor c;
	shmc_value_t v;
	if (pos < 0 || !shmc__dict_entry_locked(w.a, w.o, (uint64_t)pos, NULL, NULL, &ovw)) {
		rc = SHMC_EKEY;
	} else if ((rc = unwrap(w.a, ovw, &odl, &c)) == 0) {
		if (expired(odl, now)) {
			rc = SHMC_EKEY;
		} else if ((rc = load(w.a, ovw, &c, &v)) == 0) {
			rc = wrap(w.a, v, dl, &vw);
			shmc_value_free(&v);
			if (rc == 0 && (rc = put_locked(&w, &k, pos, vw, false, false, now)) != 0)
				shmc__word_drop(w.a, vw);
		}
	}
	shmc__writer_exit(&w);
	return rc;
}

int shmc_cache_delete(shmc_obj_t *h, shmc_value_t key)
{
	struct shmc__obj *o;
	struct shmc__key k;
	int rc = keyed(h, key, &o, &k);
	if (rc)
		return rc;
	struct shmc__writer w;
	if ((rc = shmc__writer_begin(shmc__handle_arena(h), o, 2, &w)) != 0)
		return rc;
	struct victims v = {.pos = v.small, .cap = ARRAY_SIZE(v.small)};
	int64_t pos = shmc__dict_find_locked(w.a, w.o, &k);
	uint64_t kw, vw;
	if (pos < 0 || !shmc__dict_entry_locked(w.a, w.o, (uint64_t)pos, NULL, &kw, &vw)) {
		rc = SHMC_EKEY;
	} else {
		bool exp = word_expired(w.a, vw, now_ns());
		add_victim(&v, (uint64_t)pos, entry_bytes(w.a, kw, vw), exp); /* has room */
		evict_locked(&w, &v, false); /* a removal asked for is no eviction */
		rc = exp ? SHMC_EKEY : 0; /* it was gone already */
	}
	shmc__writer_exit(&w);
	return rc;
}

int64_t shmc_cache_flush_expired(shmc_obj_t *h)
{
	struct shmc__writer w;
	int rc = shmc__writer_enter(h, SHMC_KIND_CACHE, 0, &w);
	if (rc)
		return rc;
	struct victims v = {.pos = v.small, .cap = ARRAY_SIZE(v.small)};
	int64_t now = now_ns();
	uint64_t used = shmc__dict_used_locked(w.a, w.o), kw, vw;
	for (uint64_t i = 0; rc == 0 && i < used; i++)
		if (shmc__dict_entry_locked(w.a, w.o, i, NULL, &kw, &vw) &&
		    word_expired(w.a, vw, now))
			rc = add_victim(&v, i, entry_bytes(w.a, kw, vw), true);
	if (rc == 0 && (rc = shmc__writer_reserve(&w, 2 * v.n)) == 0)
		evict_locked(&w, &v, false);
	shmc__writer_exit(&w);
	int64_t n = (int64_t)v.n;
	victims_free(&v);
	return rc ? rc : n;
}

int shmc_cache_flush_all(shmc_obj_t *h)
{
	struct shmc__writer w;
	int rc = shmc__writer_enter(h, SHMC_KIND_CACHE, 1, &w);
	if (rc)
		return rc;
	struct cache_body *b = BODY(w.o);
	uint64_t off = ld_relaxed(&b->table_off);
	if (off) {
		void *t = shmc__at(w.a, off, 16, 16);
		if (t == NULL) {
			shmc__writer_exit(&w);
			return SHMC_ECORRUPT;
		}
		shmc__writer_detach(&w, &b->table_off, t);
	}
	st_relaxed(&b->bytes, 0);
	st_relaxed(&b->hand, 0);
	st_relaxed(&b->sweep, 0);
	shmc__writer_exit(&w);
	return 0;
}
