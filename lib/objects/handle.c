/*
 * handle.c -- which managed objects each process holds.
 *
 * A handle in a process stands for one reference to its object. So that a
 * dead process does not pin objects forever, each process slot has a table
 * in the arena listing the objects it holds, one entry per handle. Only the
 * owning process writes its table (under its arena mutex); a reaper reads it
 * once the owner is dead and drops each reference.
 *
 * Order, so that a crash leaks rather than double-drops: a new handle takes
 * its reference before its entry is written; a released handle clears its
 * entry before dropping its reference; a reaper clears each entry before
 * dropping the reference it stood for.
 */
#include <errno.h>
#include <string.h>

#include "memory/alloc.h"
#include "objects/handle.h"
#include "base/heap.h"
#include "objects/obj.h"
#include "objects/walk.h"

#define TABLE_MIN 64u

struct shmc__htab {
	uint64_t cap;
	atomic_u64 off[];
};

static struct shmc__htab *table_of(shmc_arena_t *a, uint32_t slot)
{
	uint64_t off = ld_acquire(&shmc__proc_at(a, slot)->handles_off);
	if (off == 0)
		return NULL;
	struct shmc__htab *t = shmc__at(a, off, sizeof(*t), 16);
	if (t == NULL || t->cap > (a->capacity - off - sizeof(*t)) / sizeof(uint64_t))
		return NULL;
	return t;
}

/* A table of CAP entries for SLOT holding the entries of OLD. */
static int grow(shmc_arena_t *a, uint32_t slot, struct shmc__htab *old,
		uint64_t cap)
{
	uint64_t off;
	int rc = shmc__alloc(a, sizeof(struct shmc__htab) + cap * sizeof(uint64_t), &off);
	if (rc)
		return rc;
	struct shmc__htab *t = (struct shmc__htab *)(a->base + off);
	t->cap = cap;
	uint64_t n = old ? old->cap : 0;
	for (uint64_t i = 0; i < cap; i++)
		st_relaxed(&t->off[i], i < n ? ld_relaxed(&old->off[i]) : 0);
	struct shmc__proc *p = shmc__proc_at(a, slot);
	uint64_t prev = ld_relaxed(&p->handles_off);
	st_release(&p->handles_off, off); /* a reaper sees a whole table */
	if (prev)
		shmc__free(a, prev);
	return 0;
}

int shmc__handle_add(shmc_arena_t *a, uint64_t obj_off, uint32_t *idx)
{
	struct shmc__htab_local *l = &a->handles;
	pthread_mutex_lock(&a->mu);
	uint32_t i = l->nfree ? l->free[l->nfree - 1] : l->next;
	struct shmc__htab *t = table_of(a, a->slot);
	if (t == NULL || i >= t->cap) {
		int rc = grow(a, a->slot, t, t ? 2 * t->cap : TABLE_MIN);
		if (rc) {
			pthread_mutex_unlock(&a->mu);
			return rc;
		}
		t = table_of(a, a->slot);
	}
	if (l->nfree)
		l->nfree--;
	else
		l->next++;
	st_release(&t->off[i], obj_off);
	pthread_mutex_unlock(&a->mu);
	*idx = i;
	return 0;
}

void shmc__handle_remove(shmc_arena_t *a, uint32_t idx)
{
	struct shmc__htab_local *l = &a->handles;
	pthread_mutex_lock(&a->mu);
	struct shmc__htab *t = table_of(a, a->slot);
	if (t && idx < t->cap)
		st_release(&t->off[idx], 0);
	if (l->nfree == l->capfree) {
		uint32_t ncap = l->capfree ? 2 * l->capfree : 64;
		uint32_t *nf = shmc__heap_realloc(l->free, ncap * sizeof(uint32_t));
		if (nf) {
			l->free = nf;
			l->capfree = ncap;
		}
	}
	if (l->nfree < l->capfree) /* else the index is simply not reused */
		l->free[l->nfree++] = idx;
	pthread_mutex_unlock(&a->mu);
}

void shmc__handles_shrink(shmc_arena_t *a)
{
	struct shmc__htab_local *l = &a->handles;
	pthread_mutex_lock(&a->mu);
	struct shmc__htab *t = table_of(a, a->slot);
	/* Only when no handle is held: indices need not be renumbered. */
	if (t && t->cap > TABLE_MIN && l->nfree == l->next &&
	    grow(a, a->slot, NULL, TABLE_MIN) == 0) {
		l->nfree = 0;
		l->next = 0;
	}
	pthread_mutex_unlock(&a->mu);
}

int shmc__handles_copy(shmc_arena_t *a, uint32_t child)
{
	struct shmc__htab *t = table_of(a, a->slot);
	if (t == NULL)
		return 0;
	/* References first: if this process dies before the child's table is
	 * published, they leak; the reverse order could drop them twice. */
	for (uint64_t i = 0; i < t->cap; i++) {
		uint64_t off = ld_relaxed(&t->off[i]);
		if (off)
			shmc__obj_incref(a, off);
	}
	int rc = grow(a, child, t, t->cap);
	for (uint64_t i = 0; rc && i < t->cap; i++) {
		uint64_t off = ld_relaxed(&t->off[i]);
		if (off)
			shmc__obj_decref(a, off);
	}
	return rc;
}

void shmc__handles_reap(shmc_arena_t *a, uint32_t slot)
{
	struct shmc__htab *t = table_of(a, slot);
	if (t) {
		for (uint64_t i = 0; i < t->cap; i++) {
			uint64_t off = atomic_exchange(&t->off[i], 0);
			if (off)
				shmc__obj_decref(a, off);
		}
	}
	struct shmc__proc *p = shmc__proc_at(a, slot);
	uint64_t off = atomic_exchange(&p->handles_off, 0);
	if (off)
		shmc__free(a, off);
}

void shmc__handles_visit(struct shmc__walk *w, uint32_t slot)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	uint64_t off = ld_acquire(&shmc__proc_at(a, slot)->handles_off);
	if (off == 0)
		return;
	struct shmc__htab *t = table_of(a, slot);
	if (t == NULL) {
		shmc__walk_error(w, "process %u: handle table at %#llx is malformed",
				 slot, (unsigned long long)off);
		return;
	}
	if (!shmc__walk_block(w, off, sizeof(*t) + t->cap * sizeof(uint64_t),
			      "handle table"))
		return;
	for (uint64_t i = 0; i < t->cap; i++) {
		uint64_t obj = ld_relaxed(&t->off[i]);
		if (obj)
			shmc__walk_ref(w, obj, "handle");
	}
}

uint64_t shmc__handles_count(shmc_arena_t *a, uint32_t slot)
{
	struct shmc__htab *t = table_of(a, slot);
	uint64_t n = 0;
	for (uint64_t i = 0; t && i < t->cap; i++)
		n += ld_relaxed(&t->off[i]) != 0;
	return n;
}
