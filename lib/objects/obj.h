/*
 * obj.h -- managed objects: the header every one carries in the arena, the
 * table of kinds, the process-local handles that name them, reference
 * counting, and the owner lock with its repair protocol.
 */
#ifndef SHMC_OBJ_H
#define SHMC_OBJ_H

#include <pthread.h>

#include "arena/arena.h"
#include "memory/epoch.h"
#include "arena/olock.h"
#include "values/value.h"
#include "objects/htab.h"
#include "objects/walk.h"

#define SHMC__OBJ_MAGIC 0x4f434d53u    /* "SMCO" */

/*
 * The header of a managed object. `refs` counts the references stored in
 * the arena (in containers, in plain values, in the root directory) plus
 * the handles processes hold. `seq` is a sequence lock: writers make it odd
 * while they change the object, so that readers who need a consistent view
 * of several words can validate what they read. `lock` serialises writers;
 * it survives its owner's death (olock.h).
 */
struct shmc__obj {
	uint32_t magic;
	uint16_t kind;
	atomic_ushort flags; /* SHMC__OBJ_BROKEN */
	atomic_u64 refs;
	atomic_u64 seq;
	uint64_t id; /* serial number within the arena */
	struct shmc__olock lock;
	/* Threads waiting for a change (objects/watch.c): the low half counts
	 * those waiting on the object, the high half those waiting on one of
	 * its keys. Changed only under the lock; writers read it, no more. */
	atomic_u64 watch;
} __attribute__((aligned(16)));

/* Set when a repair failed: the object is left as it is, and every
 * operation on it reports SHMC_ECORRUPT. */
#define SHMC__OBJ_BROKEN 1u
/* The writer lock's mark: someone may be asleep on it (arena/olock.c,
 * "Marked locks"). Set by sleepers, cleared by the release that wakes. */
#define SHMC__OBJ_SLEEPERS 2u

static inline struct shmc__olock_mark shmc__obj_mark(struct shmc__obj *o)
{
	return (struct shmc__olock_mark){&o->flags, SHMC__OBJ_SLEEPERS};
}

#define SHMC__BODY(o, type) ((type *)((char *)(o) + sizeof(struct shmc__obj)))

/* What each kind of managed object supplies. */
struct shmc__kind {
	const char *typeid; /* Python's typeid: 'list', 'dict', 'Namespace' */
	const char *proxy;  /* Python's proxy class: 'ListProxy' */
	size_t body_size;
	/* Bytes the body takes per process slot of the arena, after the
	 * first body_size (a per-process ledger); 0 for most kinds. */
	size_t per_proc;
	/* Release everything the object owns, at once: nobody can reach it. */
	void (*destroy)(shmc_arena_t *a, struct shmc__obj *o);
	/* After a writer died holding the lock: make the object consistent
	 * (or verify it is) while holding the lock. @return 0 or ECORRUPT */
	int (*repair)(shmc_arena_t *a, struct shmc__obj *o);
	/* Python's str() of the proxy, as a new string. */
	int (*str)(shmc_obj_t *h, char **out);
	/* Show the arena check every block and word the object owns. */
	void (*walk)(struct shmc__walk *w, struct shmc__obj *o);
	/* Read-only, bounded, lock-free (for views of an arena): the number of
	 * items, and each (key, value) word pair in order -- for a list the
	 * key is the index as an int word. Either may be NULL. FN returns
	 * non-zero to stop. */
	int64_t (*length)(shmc_arena_t *a, struct shmc__obj *o);
	void (*items)(shmc_arena_t *a, struct shmc__obj *o,
		      int (*fn)(void *ctx, uint64_t key, uint64_t val), void *ctx);
	/* Kinds whose item value words wrap the value (a cache's entry holds
	 * its deadline beside it): decode value word VAL of an item for a
	 * view, read-only, managed objects as stubs. NULL: the word is the
	 * value. @return 0, SHMC_EKEY (an expired entry: views leave it
	 * out), -ENOMEM, SHMC_ECORRUPT */
	int (*item_load_view)(shmc_arena_t *a, uint64_t val, shmc_value_t *out);
	/* Kinds whose body lives in a block of its own that writers detach
	 * and retire whole (a list's array, a dict's table): the magic number
	 * that block starts with, how to drop it with every value in it once
	 * no reader can see it, and how the arena check walks it. 0/NULL for
	 * the others. @return -1 when OFF is not such a block */
	uint32_t body_magic;
	int (*body_drop)(shmc_arena_t *a, uint64_t off);
	int (*body_walk)(struct shmc__walk *w, uint64_t off);
};

/* The bytes of an object of kind K in arena A: header and body. */
static inline uint64_t shmc__kind_size(const shmc_arena_t *a, const struct shmc__kind *k)
{
	return sizeof(struct shmc__obj) + k->body_size + (uint64_t)k->per_proc * a->nprocs;
}

/* The table of kinds. Kinds are registered by the layer above the
 * containers (lifecycle/kinds.c), once, before the first arena is created,
 * opened or mapped; this layer names none of them. */
#define SHMC__MAX_KINDS 32u
void shmc__kind_register(unsigned kind, const struct shmc__kind *k);
/* The kind KIND, or NULL when no such kind is registered. */
const struct shmc__kind *shmc__kind_of(unsigned kind);
/* The kind owning the detached body block at OFF (by its magic), or NULL. */
const struct shmc__kind *shmc__kind_of_body(const shmc_arena_t *a, uint64_t off);

/* Dispose of a retired item (an offset | SHMC__RETIRE_*): the hook the
 * epoch layer calls (arena hooks, arena.h) once no reader can see it. */
void shmc__obj_dispose(shmc_arena_t *a, uint64_t what);

/* Check handle H and find its object and arena; KIND 0 accepts any kind.
 * The entry is read once (htab.h), so *A and *OUT belong together; the
 * object's address was validated when the handle was made, its header is
 * checked here (the arena may have been scribbled on since).
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
static inline __attribute__((always_inline)) int
shmc__resolve_in(const shmc_obj_t *h, unsigned kind, shmc_arena_t **a, struct shmc__obj **out)
{
	struct shmc__obj *o;
	if (unlikely(!shmc__handle_obj(h, a, &o)))
		return SHMC_EHANDLE;
	if (unlikely(o->magic != SHMC__OBJ_MAGIC))
		return SHMC_ECORRUPT;
	if (kind && unlikely(o->kind != kind))
		return SHMC_EKIND;
	*out = o;
	return 0;
}

/* The same without the arena: shmc__handle_arena(h) gives it afterwards,
 * at the cost of a compare (the pair is remembered per thread). */
static inline __attribute__((always_inline)) int
shmc__resolve(const shmc_obj_t *h, unsigned kind, struct shmc__obj **out)
{
	shmc_arena_t *a;
	int rc = shmc__resolve_in(h, kind, &a, out);
	if (likely(rc == 0)) {
		shmc__last_resolved.h = h;
		shmc__last_resolved.a = a;
	}
	return rc;
}

/* Create an object of KIND with a zeroed body, and a handle holding its
 * only reference. @return 0, SHMC_EFULL, -ENOMEM */
int shmc__obj_create(shmc_arena_t *a, unsigned kind, shmc_obj_t **out);
/* The object of a handle known to be good, without checking it again: one
 * this process has just created, or one an earlier call has resolved. */
static inline struct shmc__obj *shmc__obj_of(const shmc_obj_t *h)
{
	shmc_arena_t *a;
	struct shmc__obj *o;
	SHMC_ASSERT(shmc__handle_obj(h, &a, &o));
	return o;
}

/* A handle for the object at OFF, taking a new reference if the object is
 * still alive. Used when reading references out of the arena, inside an
 * epoch section. @return 0, -ENOMEM, SHMC_ECORRUPT (not an object or dead) */
int shmc__obj_wrap(shmc_arena_t *a, uint64_t off, shmc_obj_t **out);

/* A stub for the object at OFF: a handle-shaped name for printing, which
 * holds no reference (read-only views). @return 0, -ENOMEM, SHMC_ECORRUPT */
int shmc__obj_stub(shmc_arena_t *a, uint64_t off, shmc_obj_t **out);

void shmc__obj_incref(shmc_arena_t *a, uint64_t off);
void shmc__obj_decref(shmc_arena_t *a, uint64_t off);

/* Take the writer lock, repairing the object if its last holder died.
 * @return 0, SHMC_ECORRUPT (unrepairable), -EDEADLK (this thread holds it) */
int shmc__obj_lock_slow(shmc_arena_t *a, struct shmc__obj *o);
static inline int shmc__obj_lock(shmc_arena_t *a, struct shmc__obj *o)
{
	/* The uncontended case: one compare-and-swap (acquire: pairs with
	 * the release in shmc__olock_release_marked). */
	uint32_t free_word = 0;
	if (likely(atomic_compare_exchange_strong_explicit(
		    &o->lock.word, &free_word, a->token, memory_order_acquire,
		    memory_order_relaxed))) {
		if (likely(!(ld_relaxed(&o->flags) & SHMC__OBJ_BROKEN))) {
			st_relaxed(&o->lock.tid, shmc__olock_tid());
			return 0;
		}
		/* Taken, but broken: give it back (the slow path would wait
		 * for ourselves). */
		shmc__olock_release_marked(a, &o->lock, shmc__obj_mark(o));
		return SHMC_ECORRUPT;
	}
	return shmc__obj_lock_slow(a, o);
}
static inline void shmc__obj_unlock(shmc_arena_t *a, struct shmc__obj *o)
{
	shmc__olock_release_marked(a, &o->lock, shmc__obj_mark(o));
}

/* Writers bracket every change with these (sequence lock). */
static inline uint64_t shmc__write_begin(struct shmc__obj *o)
{
	uint64_t s = ld_relaxed(&o->seq);
	st_relaxed(&o->seq, s + 1);
	/* The odd value is visible before any data store that follows;
	 * pairs with the acquire fence in shmc__obj_snapshot(). */
	atomic_thread_fence(memory_order_release);
	return s;
}
/* Wake the threads waiting on O or on its keys (watch.c); called by
 * writers only when O's watch word says some wait. KEY_HASH names the key
 * stored, or is SHMC__WATCH_ALL_KEYS. */
#define SHMC__WATCH_ALL_KEYS UINT64_MAX
void shmc__watch_wake_obj(struct shmc__obj *o);
void shmc__watch_wake_key(shmc_arena_t *a, struct shmc__obj *o, uint64_t key_hash);
static inline void shmc__write_end(struct shmc__obj *o, uint64_t s)
{
	st_release(&o->seq, s + 2);
	/* Nobody waiting costs one load of a word on the line just written.
	 * Read under the lock, as waiters register: see watch.c. */
	if (unlikely((uint32_t)ld_relaxed(&o->watch)))
		shmc__watch_wake_obj(o);
}
/* After a store to the entry with key hash KEY_HASH (or to every entry). */
static inline void shmc__write_key(shmc_arena_t *a, struct shmc__obj *o, uint64_t key_hash)
{
	if (unlikely(ld_relaxed(&o->watch) >> 32))
		shmc__watch_wake_key(a, o, key_hash);
}
/* The version of the object as a whole: changes with every store to it
 * (seq is bumped twice by each), never 0 (0 names an absent entry). */
static inline uint64_t shmc__obj_version(struct shmc__obj *o)
{
	return (ld_acquire(&o->seq) >> 1) + 1;
}

/* Run FN (reading the object, inside an epoch section) so that what it
 * reads is one consistent state: optimistically, validated by the sequence
 * lock, and under the writer lock if writers keep interfering. RESET undoes
 * a partial result before a retry. Never waits for a dead writer. */
typedef int (*shmc__snap_fn)(shmc_arena_t *a, struct shmc__obj *o, void *ctx);
int shmc__obj_snapshot(shmc_arena_t *a, struct shmc__obj *o, shmc__snap_fn fn,
		       void (*reset)(void *ctx), void *ctx);

/* This thread's epoch record, or an error code in *rc. */
static inline struct shmc__rec *shmc__rec(shmc_arena_t *a, int *rc)
{
	struct shmc__rec *r = shmc__epoch_rec(a);
	*rc = r ? 0 : SHMC_ETHREADS;
	return r;
}

/* The common frame of a write: resolve the handle, make room to retire
 * NRETIRE items, take the lock. Encode values before entering (allocation
 * stays outside the lock); on failure nothing has changed. */
struct shmc__writer {
	shmc_arena_t *a;
	struct shmc__obj *o;
	struct shmc__rec *r;
};
int shmc__writer_enter(shmc_obj_t *h, unsigned kind, uint64_t nretire,
		       struct shmc__writer *w);
/* The same for an object already resolved. */
static inline int shmc__writer_begin(shmc_arena_t *a, struct shmc__obj *o,
				     uint64_t nretire, struct shmc__writer *w)
{
	w->a = a;
	w->o = o;
	w->r = shmc__epoch_rec(a);
	if (unlikely(w->r == NULL))
		return SHMC_ETHREADS;
	if (nretire) {
		int rc = shmc__epoch_reserve(a, w->r, nretire);
		if (rc)
			return rc;
	}
	return shmc__obj_lock(a, o);
}
/* Unlock, then free what has become safe to free. */
static inline void shmc__writer_exit(struct shmc__writer *w)
{
	shmc__obj_unlock(w->a, w->o);
	shmc__epoch_poll(w->a, w->r);
}
/* With the lock held: make room to retire N more items, when an operation
 * learns only under the lock whether it will retire anything. Nothing is
 * changed on failure. @return 0, SHMC_EFULL */
static inline int shmc__writer_reserve(struct shmc__writer *w, uint64_t n)
{
	return shmc__epoch_reserve(w->a, w->r, n);
}
/* With the lock held and one retirement reserved: detach BLOCK (a dict's
 * table, a list's array, as found valid through SLOT) in one published
 * store, and retire it with everything it holds, once no reader can be in
 * it. Nothing to do when BLOCK is NULL. */
static inline void shmc__writer_detach(struct shmc__writer *w, atomic_u64 *slot,
				       void *block)
{
	if (block == NULL)
		return;
	uint64_t s = shmc__write_begin(w->o);
	st_release(slot, 0);
	shmc__write_end(w->o, s);
	shmc__epoch_retire(w->a, w->r, shmc__off(w->a, block) | SHMC__RETIRE_BODY);
}

/* The common frame of a lock-free read: resolve, enter an epoch section. */
struct shmc__reader {
	shmc_arena_t *a;
	struct shmc__obj *o;
	struct shmc__rec *r;
};
static inline __attribute__((always_inline)) int shmc__reader_enter(const shmc_obj_t *h, unsigned kind,
				     struct shmc__reader *rd)
{
	int rc = shmc__resolve_in(h, kind, &rd->a, &rd->o);
	if (rc)
		return rc;
	if ((rd->r = shmc__rec(rd->a, &rc)) == NULL)
		return rc;
	shmc__epoch_enter(rd->a, rd->r);
	return 0;
}
static inline void shmc__reader_exit(struct shmc__reader *rd)
{
	shmc__epoch_exit(rd->r);
}

/* Handle tables (handle.c) ------------------------------------------------ */

/* Record that this process holds a reference to OFF. @return 0, SHMC_EFULL */
int shmc__handle_add(shmc_arena_t *a, uint64_t off, uint32_t *idx);
/* Forget entry IDX (the caller then drops the reference). */
void shmc__handle_remove(shmc_arena_t *a, uint32_t idx);

#endif
