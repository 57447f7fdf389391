/*
 * htab.c -- the process's table of handles (layout and encoding in htab.h).
 *
 * Entries live in chunks of 4096 that are allocated once and never freed,
 * reached through a fixed directory, so a stale or forged handle value can
 * always be looked up without touching freed memory: it either finds a
 * live entry of the same generation or it does not. A chunk pointer is
 * published with a release store once the chunk is zeroed.
 *
 * An entry's `seq` is a sequence lock over its fields:
 *
 *   free (even)  --hand out-->  live (odd)  --end-->  free (even) ...
 *
 * Handing out (under the table's lock, on an entry taken off the free
 * list, so nobody else writes it): write the fields, then store seq + 1
 * with release. Ending: one compare-and-swap of seq from the live value to
 * the next, so that of two threads releasing the same handle exactly one
 * ends it; the fields are read after it and are not changed until the
 * entry is handed out again. A reader (shmc__handle_obj) loads seq, the
 * fields, then seq again: the same odd value twice means the fields are
 * the handle's. seq counts modulo 2^36, all of it in the handle's value: an
 * entry must be reused 2^35 times before a stale handle could match it
 * again (handed out last-freed first, so a hot entry is the one reused).
 *
 * What this does not do: make a released handle safe for a thread that is
 * in the middle of a call with it. That call resolved the handle before
 * the release; it completes on the object, which lives on if anything else
 * refers to it. A call that resolves the handle after the release gets
 * SHMC_EHANDLE (see Handles and threads in shmc.h).
 *
 * Free entries form a LIFO list under one mutex, also held across fork()
 * so that a child never inherits it locked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "objects/htab.h"

/* The chunk every slot of the directory names until its own is made: its
 * entries stay free (seq 0, even), so they never match a handle. */
static struct shmc__hent shmc__htab_none[1u << SHMC__HTAB_CHUNK_SHIFT];
_Atomic(struct shmc__hent *) shmc__htab_dir[SHMC__HTAB_CHUNKS] = {
	[0 ... SHMC__HTAB_CHUNKS - 1] = shmc__htab_none,
};
_Thread_local struct shmc__resolved shmc__last_resolved;

#define NO_ENTRY UINT32_MAX
#define CHUNK (1u << SHMC__HTAB_CHUNK_SHIFT)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint32_t free_head = NO_ENTRY; /* under mu */
static uint64_t next_new;             /* first index never handed out, under mu */
static atomic_u64 live;

/* Entry IDX, known to exist. */
static struct shmc__hent *entry_at(uint64_t idx)
{
	struct shmc__hent *c = atomic_load_explicit(
		&shmc__htab_dir[idx >> SHMC__HTAB_CHUNK_SHIFT], memory_order_acquire);
	return c + (idx & (CHUNK - 1));
}

/* The entry for a new index, making its chunk if needed (under mu). */
static struct shmc__hent *entry_new(uint64_t idx)
{
	_Atomic(struct shmc__hent *) *d = &shmc__htab_dir[idx >> SHMC__HTAB_CHUNK_SHIFT];
	if (atomic_load_explicit(d, memory_order_relaxed) == shmc__htab_none) {
		/* Never freed: stale handles may look entries up at any time.
		 * The process heap, not the private one, so that a sanitizer
		 * sees it. */
		struct shmc__hent *c = calloc(CHUNK, sizeof(*c));
		if (c == NULL)
			return NULL;
		/* Release: the zeroed chunk before its pointer (pairs with the
		 * acquire in shmc__hent_at). */
		atomic_store_explicit(d, c, memory_order_release);
	}
	return entry_at(idx);
}

int shmc__htab_add(shmc_arena_t *a, uint64_t off, unsigned kind, uint32_t slot,
		   unsigned flags, shmc_obj_t **out)
{
	pthread_mutex_lock(&mu);
	uint64_t idx;
	struct shmc__hent *e;
	if (free_head != NO_ENTRY) {
		idx = free_head;
		e = entry_at(idx);
		free_head = e->next_free;
	} else {
		if (next_new > SHMC__HTAB_IDX_MASK || (e = entry_new(next_new)) == NULL) {
			pthread_mutex_unlock(&mu);
			return -ENOMEM;
		}
		idx = next_new++;
	}
	/* The entry is free (seq even) and ours: nobody changes it now.
	 * Release: the end of its last life (the seq made even) happens
	 * before these stores, for a reader that sees them (pairs with the
	 * acquire fence in shmc__handle_obj). */
	uint64_t s = (ld_relaxed(&e->seq) + 1) & SHMC__HTAB_GEN_MASK;
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&e->arena, a, memory_order_relaxed);
	atomic_store_explicit(&e->obj, (struct shmc__obj *)(a->base + off), memory_order_relaxed);
	st_relaxed(&e->off, off);
	st_relaxed(&e->kindflags, (kind & 0xffffu) | flags);
	st_relaxed(&e->slot, slot);
	atomic_store_explicit(&e->local, NULL, memory_order_relaxed);
	atomic_store_explicit(&e->local_free, NULL, memory_order_relaxed);
	/* Release: the fields before the entry reads as live (pairs with the
	 * acquire load of seq in shmc__handle_obj). */
	st_release(&e->seq, s);
	pthread_mutex_unlock(&mu);
	atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
	*out = (shmc_obj_t *)(uintptr_t)((s << SHMC__HTAB_GEN_SHIFT) |
					 ((flags & SHMC__HENT_STUB) ? SHMC__HTAB_STUB_BIT : 0) |
					 (idx << 1) | 1);
	return 0;
}

/* The entry of a live-looking handle value, and the seq it must have. */
static struct shmc__hent *entry_of(const shmc_obj_t *h, uint64_t *seq)
{
	struct shmc__hent *e = shmc__hent_of(h);
	if (e == NULL)
		return NULL;
	uint64_t s = ld_acquire(&e->seq);
	if (s != (uint64_t)(uintptr_t)h >> SHMC__HTAB_GEN_SHIFT)
		return NULL;
	*seq = s;
	return e;
}

/* Free what E's local slot holds, then put E (index IDX) on the free list.
 * E is no longer live and belongs to the caller. */
static void entry_release(struct shmc__hent *e, uint64_t idx)
{
	void *p = atomic_exchange(&e->local, NULL);
	shmc__local_free_fn f = atomic_exchange(&e->local_free, NULL);
	if (p && f)
		f(p);
	atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
	pthread_mutex_lock(&mu);
	e->next_free = free_head;
	free_head = (uint32_t)idx;
	pthread_mutex_unlock(&mu);
}

/* Move E from live SEQ to free; true for the one caller that does. */
static bool end_entry(struct shmc__hent *e, uint64_t s, struct shmc__hview *v)
{
	if (!atomic_compare_exchange_strong(&e->seq, &s, (s + 1) & SHMC__HTAB_GEN_MASK))
		return false;
	/* The fields are stable now: the entry is free but not yet on the
	 * list, so nobody hands it out again before entry_release. */
	v->a = atomic_load_explicit(&e->arena, memory_order_relaxed);
	v->off = ld_relaxed(&e->off);
	uint32_t kf = ld_relaxed(&e->kindflags);
	v->kind = kf & 0xffffu;
	v->stub = kf & SHMC__HENT_STUB;
	v->slot = ld_relaxed(&e->slot);
	return true;
}

bool shmc__htab_end(shmc_obj_t *h, struct shmc__hview *v)
{
	uint64_t s;
	struct shmc__hent *e = entry_of(h, &s);
	if (e == NULL || !end_entry(e, s, v))
		return false;
	entry_release(e, ((uint64_t)(uintptr_t)h >> 1) & SHMC__HTAB_IDX_MASK);
	return true;
}

/* Entries ever handed out, read under mu. */
static uint64_t high_water(void)
{
	pthread_mutex_lock(&mu);
	uint64_t n = next_new;
	pthread_mutex_unlock(&mu);
	return n;
}

void shmc__htab_end_arena(const shmc_arena_t *a)
{
	uint64_t n = high_water();
	for (uint64_t i = 0; i < n; i++) {
		struct shmc__hent *e = entry_at(i);
		uint64_t s = ld_acquire(&e->seq);
		struct shmc__hview v;
		if ((s & 1) && atomic_load_explicit(&e->arena, memory_order_relaxed) == a &&
		    end_entry(e, s, &v))
			entry_release(e, i);
	}
}

bool shmc__htab_same(const shmc_obj_t *a, const shmc_obj_t *b)
{
	uint64_t sa, sb;
	struct shmc__hent *ea = entry_of(a, &sa), *eb = entry_of(b, &sb);
	if (ea == NULL || eb == NULL)
		return false;
	/* The same object of the same mapping is the same address. */
	struct shmc__obj *oa = atomic_load_explicit(&ea->obj, memory_order_relaxed);
	struct shmc__obj *ob = atomic_load_explicit(&eb->obj, memory_order_relaxed);
	/* Pairs with the release fence of a writer of the fields. */
	atomic_thread_fence(memory_order_acquire);
	return ld_relaxed(&ea->seq) == sa && ld_relaxed(&eb->seq) == sb && oa == ob;
}

int shmc__handle_local_set(shmc_obj_t *h, void *p, shmc__local_free_fn free_fn)
{
	uint64_t s;
	struct shmc__hent *e = entry_of(h, &s);
	if (e == NULL)
		return SHMC_EHANDLE;
	void *old = atomic_exchange(&e->local, p);
	shmc__local_free_fn f = atomic_exchange(&e->local_free, free_fn);
	if (old && f)
		f(old);
	return 0;
}

void *shmc__handle_local(const shmc_obj_t *h)
{
	uint64_t s;
	struct shmc__hent *e = entry_of(h, &s);
	return e ? atomic_load(&e->local) : NULL;
}

void shmc__htab_fork_prepare(void)
{
	pthread_mutex_lock(&mu);
}

void shmc__htab_fork_done(void)
{
	pthread_mutex_unlock(&mu);
}

uint64_t shmc__htab_live(void)
{
	return ld_relaxed(&live);
}
