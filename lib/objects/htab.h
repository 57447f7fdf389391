/*
 * htab.h -- the process's table of handles: what a shmc_obj_t * names.
 *
 * A handle the caller holds is not a pointer. Its value encodes an index
 * into this table and the generation the entry had when the handle was
 * made; it is never dereferenced. Resolving it finds the entry (the table
 * grows in chunks that are never freed), checks that the entry still has
 * that generation, and reads the arena and object it names. A released
 * handle, a handle released twice, a handle of a closed arena, or any
 * other value that is not a live handle resolves to nothing (SHMC_EHANDLE),
 * without touching freed memory. See htab.c for the protocol.
 *
 * struct shmc_obj is never defined: `h->arena` does not compile. Use the
 * accessors below, or the frames of obj.h, which read the entry once.
 */
#ifndef SHMC_HTAB_H
#define SHMC_HTAB_H

#include "arena/arena.h"

/* A handle's value: bit 0 set (never an aligned pointer, never NULL); the
 * entry's index in bits 1..26; bit 27 set for a stub (a handle that names
 * an object of a read-only view and never resolves); the entry's
 * generation (36 bits) above, which is odd: a live entry's seq. */
#define SHMC__HTAB_IDX_BITS 26u
#define SHMC__HTAB_IDX_MASK ((1ull << SHMC__HTAB_IDX_BITS) - 1)
#define SHMC__HTAB_STUB_BIT (1ull << (SHMC__HTAB_IDX_BITS + 1))
#define SHMC__HTAB_GEN_SHIFT (SHMC__HTAB_IDX_BITS + 2)
#define SHMC__HTAB_GEN_MASK ((1ull << (64 - SHMC__HTAB_GEN_SHIFT)) - 1)
#define SHMC__HTAB_TAG (1ull | (1ull << SHMC__HTAB_GEN_SHIFT))
/* The table: a directory of chunks of 4096 entries, each made once and
 * never freed; a slot of the directory with no chunk yet names an empty
 * chunk (shmc__htab_none), whose entries are never live. */
#define SHMC__HTAB_CHUNK_SHIFT 12u
#define SHMC__HTAB_CHUNKS (1u << (SHMC__HTAB_IDX_BITS - SHMC__HTAB_CHUNK_SHIFT))

#define SHMC__HENT_STUB 0x10000u /* in kindflags: a stub (also bit 27 of its value) */

/* An entry. `seq` (36 bits) is odd while a handle lives in it; it is
 * bumped when the handle is released (even: free) and when the entry is
 * handed out again. The other fields change only while `seq` is even, so
 * a reader that sees the same odd `seq` before and after reading them read
 * one handle's. The entry is in private memory, written by this process
 * only: its object address was validated when the handle was made. */
typedef void (*shmc__local_free_fn)(void *p);
struct shmc__obj;
struct shmc__hent {
	atomic_u64 seq;
	_Atomic(shmc_arena_t *) arena;
	_Atomic(struct shmc__obj *) obj; /* the object, in this mapping */
	atomic_u64 off;
	atomic_u32 kindflags;  /* the object's kind when the handle was made | SHMC__HENT_* */
	atomic_u32 slot;       /* its entry in our table in the arena (handle.c) */
	uint32_t next_free;    /* free list, under the table's lock */
	uint32_t pad_;
	_Atomic(void *) local; /* per-handle private data (shmc__handle_local_set) */
	_Atomic(shmc__local_free_fn) local_free;
};

extern _Atomic(struct shmc__hent *) shmc__htab_dir[SHMC__HTAB_CHUNKS];

/* The entry handle value X names (live or not): its tag and generation
 * bit already checked. */
static inline __attribute__((always_inline)) struct shmc__hent *shmc__hent_at(uint64_t x)
{
	uint64_t idx = (x >> 1) & SHMC__HTAB_IDX_MASK;
	/* Acquire: pairs with the release that published the zeroed chunk. */
	struct shmc__hent *c = atomic_load_explicit(
		&shmc__htab_dir[idx >> SHMC__HTAB_CHUNK_SHIFT], memory_order_acquire);
	return c + (idx & ((1u << SHMC__HTAB_CHUNK_SHIFT) - 1));
}

/* The entry a handle value (or stub) names, live or not, or NULL when the
 * value cannot be a handle. */
static inline struct shmc__hent *shmc__hent_of(const shmc_obj_t *h)
{
	uint64_t x = (uint64_t)(uintptr_t)h;
	if ((x & SHMC__HTAB_TAG) != SHMC__HTAB_TAG)
		return NULL;
	return shmc__hent_at(x);
}

/* The arena and object of live handle H, read consistently: false when H
 * is not a live handle, or is a stub. The fast path of every call. */
static inline __attribute__((always_inline)) bool
shmc__handle_obj(const shmc_obj_t *h, shmc_arena_t **a, struct shmc__obj **o)
{
	uint64_t x = (uint64_t)(uintptr_t)h;
	/* Tagged, a live (odd) generation, not a stub. */
	if (unlikely((x & (SHMC__HTAB_TAG | SHMC__HTAB_STUB_BIT)) != SHMC__HTAB_TAG))
		return false;
	struct shmc__hent *e = shmc__hent_at(x);
	/* Acquire: pairs with the release that made the entry live. */
	uint64_t s = ld_acquire(&e->seq);
	if (unlikely(s != x >> SHMC__HTAB_GEN_SHIFT))
		return false;
	*a = atomic_load_explicit(&e->arena, memory_order_relaxed);
	*o = atomic_load_explicit(&e->obj, memory_order_relaxed);
	/* The fields were read before seq is read again: pairs with the
	 * release fence of the writer that changes them (htab.c). */
	atomic_thread_fence(memory_order_acquire);
	return likely(ld_relaxed(&e->seq) == s);
}

/* What a live handle (or stub) names, read consistently. */
struct shmc__hview {
	shmc_arena_t *a;
	uint64_t off;
	unsigned kind;
	bool stub;
	uint32_t slot; /* filled by shmc__htab_end only */
};

/* Read handle H (a stub too): false when H is not a live handle (NULL,
 * released, of a closed arena, or not a handle at all). */
static inline bool shmc__handle_read(const shmc_obj_t *h, struct shmc__hview *v)
{
	struct shmc__hent *e = shmc__hent_of(h);
	if (e == NULL)
		return false;
	uint64_t s = ld_acquire(&e->seq);
	if (s != (uint64_t)(uintptr_t)h >> SHMC__HTAB_GEN_SHIFT)
		return false;
	v->a = atomic_load_explicit(&e->arena, memory_order_relaxed);
	v->off = ld_relaxed(&e->off);
	uint32_t kf = ld_relaxed(&e->kindflags);
	v->kind = kf & 0xffffu;
	v->stub = kf & SHMC__HENT_STUB;
	/* Pairs with the release fence of a writer of the fields (htab.c). */
	atomic_thread_fence(memory_order_acquire);
	return ld_relaxed(&e->seq) == s;
}

/* The handle this thread resolved last (shmc__resolve) and its arena: a
 * handle value names one arena for as long as it lives, so the pair
 * stays true, and the arena of the handle just resolved costs a compare. */
struct shmc__resolved {
	const shmc_obj_t *h;
	shmc_arena_t *a;
};
extern _Thread_local struct shmc__resolved shmc__last_resolved;

/* The arena, offset and kind of handle H, which the caller has just
 * resolved (NULL/0 when it is not a live handle): what `h->arena`,
 * `h->off` and `h->kind` were. Prefer shmc__resolve_in and the frames of
 * obj.h, which read the entry once. */
static inline shmc_arena_t *shmc__handle_arena(const shmc_obj_t *h)
{
	if (likely(shmc__last_resolved.h == h))
		return shmc__last_resolved.a;
	struct shmc__hview v;
	return shmc__handle_read(h, &v) ? v.a : NULL;
}
static inline uint64_t shmc__handle_off(const shmc_obj_t *h)
{
	struct shmc__hview v;
	return shmc__handle_read(h, &v) ? v.off : 0;
}
static inline unsigned shmc__handle_kind(const shmc_obj_t *h)
{
	struct shmc__hview v;
	return shmc__handle_read(h, &v) ? v.kind : 0;
}

/* A new handle naming OFF (an object of KIND, validated by the caller) in
 * A. SLOT is its entry in our table in the arena, or UINT32_MAX for a stub
 * (FLAGS SHMC__HENT_STUB).
 * @return 0, -ENOMEM (no memory for a chunk, or 2^27 handles live) */
int shmc__htab_add(shmc_arena_t *a, uint64_t off, unsigned kind, uint32_t slot,
		   unsigned flags, shmc_obj_t **out);

/* End handle H's life, once: true (and *V what it named) for the one
 * caller that ends it; false when H is not live (released already, by
 * another thread or before). The entry goes back to the free list after
 * its local data is freed. */
bool shmc__htab_end(shmc_obj_t *h, struct shmc__hview *v);

/* End every live handle of arena A (closing it): their local data is
 * freed; they hold no reference any more (the caller reaps those). */
void shmc__htab_end_arena(const shmc_arena_t *a);

/* Whether handles A and B name the same object of the same attachment
 * (stubs included); false for anything not live. */
bool shmc__htab_same(const shmc_obj_t *a, const shmc_obj_t *b);

/* Per-handle private data. The pointer this process keeps with handle H
 * (e.g. a namespace's '_' attributes): FREE_FN(P) is called when H is
 * released, when H's arena is closed, or when another pointer replaces P.
 * P may be NULL. @return 0, SHMC_EHANDLE */
int shmc__handle_local_set(shmc_obj_t *h, void *p, shmc__local_free_fn free_fn);
/* The pointer set last for H, or NULL (none, or H not live). */
void *shmc__handle_local(const shmc_obj_t *h);

/* Around fork(): the table's lock is held across it (fork.c). */
void shmc__htab_fork_prepare(void);
void shmc__htab_fork_done(void);

/* Live handles in this process, all arenas together (tests). */
uint64_t shmc__htab_live(void);

#endif
