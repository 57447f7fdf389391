/*
 * condition.c -- Condition: Python's manager.Condition(lock), bound to a
 * managed Lock or RLock, with waiters that may die.
 *
 * Layout of the body:
 *
 *   lock_word   a reference word (values/venc.h) to the Lock or RLock: the
 *               condition holds a counted reference to it
 *   head_off    the oldest waiter's cell, or 0
 *   tail_off    the newest waiter's cell (derived: repair recomputes it)
 *   nwaiters    cells on the list (derived; Python's str() shows it)
 *
 * A waiter cell, one per wait() call, allocated by the waiter:
 *
 *   state       WAITING, then NOTIFIED: the futex word its owner sleeps on;
 *               ABANDONED when its owner could not take the condition's
 *               lock again to unlink it (the next holder frees it)
 *   token       the waiting process
 *   next_off    the next cell, or 0
 *
 * The list is Python's deque of waiter locks: notify(n) marks the n oldest
 * live waiters NOTIFIED and wakes exactly those. It is changed under the
 * condition's own owner lock (the header's), never held while sleeping; the
 * user's lock orders waits against notifications, exactly as in Python: a
 * waiter enqueues its cell while holding the user's lock and only then
 * releases it, and notify() must be called holding it, so a notification
 * cannot fall between a waiter's check of its predicate and its sleep.
 *
 * Each change of the list is one store: a cell is complete before the store
 * that links it (the previous cell's next_off, or head_off); unlinking
 * stores the predecessor's next_off (or head_off). tail_off and nwaiters are
 * updated after, and recomputed by repair, which walks the list from head
 * (bounded). A cell is freed only by its owner, or by whoever unlinks it
 * once its owner is dead, always after unlinking it with the lock held, so
 * nothing touches a freed cell; a process killed between unlinking and
 * freeing leaks the cell (the arena check finds it).
 *
 * Death. notify() checks that each waiter it is about to notify is alive;
 * a dead one is unlinked and freed, and does not count. A waiter killed
 * after being notified, before it woke, would swallow the notification: a
 * sleeping waiter looks for such cells whenever a nap runs out, and passes
 * their notifications on to the oldest live waiter. A process killed holding
 * the user's lock is the lock's business: the next acquirer, possibly a
 * waiter returning from wait(), gets SHMC_EOWNERDEAD.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "memory/alloc.h"
#include "values/repr.h"
#include "sync/sync.h"
#include "sync/waiter.h"
#include "values/venc.h"

#define CELL_MAGIC 0x4c4c4543u /* "CELL" */
#define WAITING 1u
#define NOTIFIED 2u
#define ABANDONED 3u
/* Bound on list walks: more cells than this means a cycle. */
#define MAX_CELLS ((uint64_t)1 << 24)

struct cond_body {
	atomic_u64 lock_word;
	atomic_u64 head_off;
	atomic_u64 tail_off;
	atomic_u64 nwaiters;
};

struct cond_cell {
	uint32_t magic;
	atomic_u32 state;
	atomic_u32 token;
	uint32_t pad_;
	atomic_u64 next_off;
	uint64_t pad2_;
};

static inline struct cond_body *body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct cond_body);
}

static struct cond_cell *cell_at(shmc_arena_t *a, uint64_t off)
{
	struct cond_cell *c = shmc__at(a, off, sizeof(struct cond_cell), 16);
	return c && c->magic == CELL_MAGIC ? c : NULL;
}

/* The lock the condition is bound to. */
static struct shmc__obj *user_lock(shmc_arena_t *a, struct shmc__obj *o)
{
	struct shmc__obj *l = shmc__ref_obj(a, ld_relaxed(&body(o)->lock_word));
	if (l && l->kind != SHMC_KIND_LOCK && l->kind != SHMC_KIND_RLOCK)
		return NULL;
	return l;
}

/* The list (lock held) ---------------------------------------------------- */

static void append_locked(shmc_arena_t *a, struct cond_body *b, struct cond_cell *c)
{
	uint64_t off = shmc__off(a, c);
	struct cond_cell *t = cell_at(a, ld_relaxed(&b->tail_off));
	/* Release: the cell is complete before it is linked. */
	if (t)
		st_release(&t->next_off, off);
	else
		st_release(&b->head_off, off);
	st_relaxed(&b->tail_off, off);
	st_relaxed(&b->nwaiters, ld_relaxed(&b->nwaiters) + 1);
}

/* Unlink C, whose predecessor is PREV (NULL: C is the head). */
static void unlink_locked(shmc_arena_t *a, struct cond_body *b,
			  struct cond_cell *prev, struct cond_cell *c)
{
	uint64_t next = ld_relaxed(&c->next_off);
	if (prev)
		st_release(&prev->next_off, next);
	else
		st_release(&b->head_off, next);
	if (ld_relaxed(&b->tail_off) == shmc__off(a, c))
		st_relaxed(&b->tail_off, prev ? shmc__off(a, prev) : 0);
	uint64_t n = ld_relaxed(&b->nwaiters);
	st_relaxed(&b->nwaiters, n ? n - 1 : 0);
}

/* Find C's predecessor; false when C is not on the list. */
static bool find_locked(shmc_arena_t *a, struct cond_body *b, struct cond_cell *c,
			struct cond_cell **prev)
{
	struct cond_cell *p = NULL;
	uint64_t off = ld_relaxed(&b->head_off);
	for (uint64_t n = 0; off && n < MAX_CELLS; n++) {
		struct cond_cell *x = cell_at(a, off);
		if (x == NULL)
			return false;
		if (x == c) {
			*prev = p;
			return true;
		}
		p = x;
		off = ld_relaxed(&x->next_off);
	}
	return false;
}

/* Notify up to N live waiters, oldest first; dead ones are unlinked and
 * freed. @return how many were notified */
static int notify_locked(shmc_arena_t *a, struct cond_body *b, int n)
{
	int done = 0;
	struct cond_cell *prev = NULL;
	uint64_t off = ld_relaxed(&b->head_off);
	for (uint64_t k = 0; off && done < n && k < MAX_CELLS; k++) {
		struct cond_cell *c = cell_at(a, off);
		if (c == NULL)
			break;
		off = ld_relaxed(&c->next_off);
		uint32_t st = ld_relaxed(&c->state);
		if (st == ABANDONED) { /* its waiter is gone: ours to free */
			unlink_locked(a, b, prev, c);
			shmc__free(a, shmc__off(a, c));
			continue;
		}
		if (st != WAITING) {
			prev = c;
			continue;
		}
		if (!shmc__token_alive(a, ld_relaxed(&c->token))) {
			unlink_locked(a, b, prev, c);
			shmc__free(a, shmc__off(a, c));
			continue;
		}
		/* Release: pairs with the owner's acquire load of state. */
		st_release(&c->state, NOTIFIED);
		shmc__futex_wake(&c->state, 1);
		done++;
		prev = c;
	}
	return done;
}

/* Unlink and free the cells of dead processes; hand the notifications the
 * notified ones never consumed to live waiters. */
static void sweep_dead_locked(shmc_arena_t *a, struct cond_body *b)
{
	int lost = 0;
	struct cond_cell *prev = NULL;
	uint64_t off = ld_relaxed(&b->head_off);
	for (uint64_t k = 0; off && k < MAX_CELLS; k++) {
		struct cond_cell *c = cell_at(a, off);
		if (c == NULL)
			break;
		off = ld_relaxed(&c->next_off);
		uint32_t t = ld_relaxed(&c->token);
		if (ld_relaxed(&c->state) == ABANDONED ||
		    (t != a->token && !shmc__token_alive(a, t))) {
			lost += ld_relaxed(&c->state) == NOTIFIED;
			unlink_locked(a, b, prev, c);
			shmc__free(a, shmc__off(a, c));
			continue;
		}
		prev = c;
	}
	if (lost)
		notify_locked(a, b, lost);
}

/* Whether a cell of a dead process was notified and so holds on to a
 * notification (lock held). Only notified cells are probed: few, briefly. */
static bool dead_notified_locked(shmc_arena_t *a, struct cond_body *b)
{
	uint64_t off = ld_relaxed(&b->head_off);
	for (uint64_t k = 0; off && k < MAX_CELLS; k++) {
		struct cond_cell *c = cell_at(a, off);
		if (c == NULL)
			return false;
		if (ld_relaxed(&c->state) == NOTIFIED) {
			uint32_t t = ld_relaxed(&c->token);
			if (t != a->token && !shmc__token_alive(a, t))
				return true;
		}
		off = ld_relaxed(&c->next_off);
	}
	return false;
}

/* Waiting --------------------------------------------------------------------- */

/* Waiting in a cell, through the one waiter (waiter.c). */
struct sleeper {
	shmc_arena_t *a;
	struct shmc__obj *o;
	struct cond_body *b;
	struct cond_cell *c;
};

static bool cell_notified(void *ctx)
{
	struct sleeper *sl = ctx;
	return ld_acquire(&sl->c->state) == NOTIFIED;
}

static uint32_t cell_waiting(void *ctx)
{
	(void)ctx;
	return WAITING;
}

/* A nap ran out: a notification may have gone to a dead waiter's cell. */
static int sweep_dead(void *ctx)
{
	struct sleeper *sl = ctx;
	if (ld_acquire(&sl->c->state) == WAITING && shmc__obj_lock(sl->a, sl->o) == 0) {
		if (dead_notified_locked(sl->a, sl->b))
			sweep_dead_locked(sl->a, sl->b);
		shmc__obj_unlock(sl->a, sl->o);
	}
	return 0;
}

static int cond_wait(shmc_arena_t *a, struct shmc__obj *o, int64_t deadline)
{
	struct cond_body *b = body(o);
	struct shmc__obj *l = user_lock(a, o);
	if (l == NULL)
		return SHMC_ECORRUPT;
	if (!shmc__lock_mine(a, l))
		return SHMC_ENOTHELD;
	uint64_t off;
	int rc = shmc__alloc(a, sizeof(struct cond_cell), &off);
	if (rc)
		return rc;
	struct cond_cell *c = (struct cond_cell *)(a->base + off);
	c->magic = CELL_MAGIC;
	st_relaxed(&c->state, WAITING);
	st_relaxed(&c->token, a->token);
	st_relaxed(&c->next_off, 0);
	if ((rc = shmc__obj_lock(a, o)) != 0) {
		shmc__free(a, off);
		return rc;
	}
	append_locked(a, b, c);
	shmc__obj_unlock(a, o);

	uint32_t saved;
	if ((rc = shmc__lock_release_save(a, l, &saved)) != 0) {
		/* Someone released our lock meanwhile (a Lock may be released
		 * by anyone): take our cell back. */
		struct cond_cell *prev;
		if (shmc__obj_lock(a, o) == 0) {
			if (find_locked(a, b, c, &prev))
				unlink_locked(a, b, prev, c);
			shmc__obj_unlock(a, o);
			shmc__free(a, off);
		} else {
			/* Release: the next holder of the lock frees it. */
			st_release(&c->state, ABANDONED);
		}
		return rc;
	}

	struct sleeper sl = {a, o, b, c};
	const struct shmc__sleep sp = {.word = &c->state, .ready = cell_notified,
				       .seen = cell_waiting, .probe = sweep_dead};
	bool notified = shmc__waiter_sleep(&sp, &sl, deadline) == 0;
	/* Take our cell off the list. A notification that lands while we take
	 * the lock still counts: unlike Python, we do not drop it. */
	int lrc = shmc__obj_lock(a, o);
	if (lrc == 0) {
		struct cond_cell *prev;
		notified = ld_acquire(&c->state) == NOTIFIED;
		if (find_locked(a, b, c, &prev))
			unlink_locked(a, b, prev, c);
		shmc__obj_unlock(a, o);
		shmc__free(a, off);
	} else {
		/* We cannot unlink our cell: leave it to the next holder of
		 * the lock to free (release: pairs with its relaxed load under
		 * the lock, which the lock's acquire orders). */
		st_release(&c->state, ABANDONED);
	}
	rc = shmc__lock_acquire_restore(a, l, saved);
	if (rc)
		return rc; /* SHMC_EOWNERDEAD, holding the lock */
	if (lrc)
		return lrc;
	return notified ? 0 : -ETIMEDOUT;
}

/* Kind functions ------------------------------------------------------------ */

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	struct cond_body *b = body(o);
	/* Nobody can reach the condition, so nobody waits on it: the cells
	 * left are those of dead waiters. */
	uint64_t off = ld_relaxed(&b->head_off);
	for (uint64_t k = 0; off && k < MAX_CELLS; k++) {
		struct cond_cell *c = cell_at(a, off);
		if (c == NULL)
			break;
		off = ld_relaxed(&c->next_off);
		shmc__free(a, shmc__off(a, c));
	}
	shmc__word_drop(a, ld_relaxed(&b->lock_word));
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	struct cond_body *b = body(o);
	if (user_lock(a, o) == NULL)
		return SHMC_ECORRUPT;
	uint64_t off = ld_relaxed(&b->head_off), last = 0, n = 0;
	for (; off; n++) {
		struct cond_cell *c = cell_at(a, off);
		if (c == NULL || n >= MAX_CELLS)
			return SHMC_ECORRUPT;
		last = off;
		off = ld_relaxed(&c->next_off);
	}
	st_relaxed(&b->tail_off, last);
	st_relaxed(&b->nwaiters, n);
	return 0;
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	struct cond_body *b = body(o);
	uint64_t lw = ld_acquire(&b->lock_word);
	struct shmc__obj *l = shmc__ref_obj(a, lw);
	if (l == NULL || (l->kind != SHMC_KIND_LOCK && l->kind != SHMC_KIND_RLOCK))
		shmc__walk_error(w, "condition %#llx: lock word %#llx is not a lock",
				 (unsigned long long)shmc__off(a, o), (unsigned long long)lw);
	else
		shmc__walk_word(w, lw, "condition lock");
	uint64_t off = ld_acquire(&b->head_off);
	for (uint64_t n = 0; off; n++) {
		struct cond_cell *c = cell_at(a, off);
		if (c == NULL || n >= MAX_CELLS) {
			shmc__walk_error(w, "condition %#llx: waiter cell %#llx is malformed",
					 (unsigned long long)shmc__off(a, o),
					 (unsigned long long)off);
			return;
		}
		if (!shmc__walk_block(w, off, sizeof(*c), "condition waiter"))
			return;
		off = ld_acquire(&c->next_off);
	}
}

static int cond_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_CONDITION, &o);
	if (rc)
		return rc;
	struct shmc__obj *l = user_lock(shmc__handle_arena(h), o);
	if (l == NULL)
		return SHMC_ECORRUPT;
	struct shmc__sbuf sb = {0};
	char buf[32];
	shmc__sb_puts(&sb, "<Condition(");
	shmc__lock_str(shmc__handle_arena(h), l, &sb);
	snprintf(buf, sizeof(buf), ", %llu)>",
		 (unsigned long long)ld_relaxed(&body(o)->nwaiters));
	shmc__sb_puts(&sb, buf);
	return shmc__sb_finish(&sb, out);
}

const struct shmc__kind shmc__condition_kind = {
	.typeid = "Condition",
	.proxy = "ConditionProxy",
	.body_size = sizeof(struct cond_body),
	.destroy = destroy,
	.repair = repair,
	.str = cond_str,
	.walk = walk,
};

/* Public API -------------------------------------------------------------- */

int shmc_condition_new(shmc_arena_t *a, shmc_obj_t *lock, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	shmc_obj_t *own = NULL;
	int rc;
	if (lock == NULL) {
		if ((rc = shmc_rlock_new(a, &own)) != 0)
			return rc;
		lock = own;
	} else {
		struct shmc__obj *l;
		if ((rc = shmc__resolve(lock, 0, &l)) != 0)
			return rc;
		if (l->kind != SHMC_KIND_LOCK && l->kind != SHMC_KIND_RLOCK)
			return SHMC_EKIND;
	}
	uint64_t lw;
	if ((rc = shmc__word_store(a, shmc_ref(lock), &lw)) == 0) {
		shmc_obj_t *h;
		if ((rc = shmc__obj_create(a, SHMC_KIND_CONDITION, &h)) == 0) {
			st_release(&body(shmc__obj_of(h))->lock_word, lw);
			*out = h;
		} else {
			shmc__word_drop(a, lw);
		}
	}
	shmc_obj_release(own);
	return rc;
}

int shmc_condition_lock(shmc_obj_t *h, shmc_obj_t **out)
{
	if (out == NULL)
		return -EINVAL;
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_CONDITION, &o);
	if (rc)
		return rc;
	if (user_lock(shmc__handle_arena(h), o) == NULL)
		return SHMC_ECORRUPT;
	/* The condition's reference keeps the lock alive while we wrap it. */
	uint64_t lw = ld_relaxed(&body(o)->lock_word);
	return shmc__obj_wrap(shmc__handle_arena(h), shmc__w_ref_off(lw), out);
}

static int resolve_cond(shmc_obj_t *h, struct shmc__obj **o, struct shmc__obj **l)
{
	int rc = shmc__resolve(h, SHMC_KIND_CONDITION, o);
	if (rc)
		return rc;
	if ((*l = user_lock(shmc__handle_arena(h), *o)) == NULL)
		return SHMC_ECORRUPT;
	return 0;
}

int shmc_condition_acquire(shmc_obj_t *h, double timeout)
{
	struct shmc__obj *o, *l;
	int64_t deadline;
	int rc = resolve_cond(h, &o, &l);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	return shmc__lock_acquire(shmc__handle_arena(h), l, deadline);
}

int shmc_condition_release(shmc_obj_t *h)
{
	struct shmc__obj *o, *l;
	int rc = resolve_cond(h, &o, &l);
	return rc ? rc : shmc__lock_release(shmc__handle_arena(h), l);
}

int shmc_condition_wait(shmc_obj_t *h, double timeout)
{
	struct shmc__obj *o, *l;
	int64_t deadline;
	int rc = resolve_cond(h, &o, &l);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	return cond_wait(shmc__handle_arena(h), o, deadline);
}

int shmc_condition_wait_for(shmc_obj_t *h, shmc_pred_fn pred, void *ctx, double timeout)
{
	struct shmc__obj *o, *l;
	int64_t deadline;
	int rc = resolve_cond(h, &o, &l);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	if (pred == NULL)
		return -EINVAL;
	if (!shmc__lock_mine(shmc__handle_arena(h), l))
		return SHMC_ENOTHELD;
	bool owner_died = false;
	while (!pred(ctx)) {
		if (shmc__expired(deadline))
			return owner_died ? SHMC_EOWNERDEAD : -ETIMEDOUT;
		rc = cond_wait(shmc__handle_arena(h), o, deadline);
		if (rc == SHMC_EOWNERDEAD)
			owner_died = true;
		else if (rc != 0 && rc != -ETIMEDOUT)
			return rc;
	}
	return owner_died ? SHMC_EOWNERDEAD : 0;
}

static int notify(shmc_obj_t *h, int n)
{
	struct shmc__obj *o, *l;
	int rc = resolve_cond(h, &o, &l);
	if (rc)
		return rc;
	if (!shmc__lock_mine(shmc__handle_arena(h), l))
		return SHMC_ENOTHELD;
	if (n <= 0 || ld_acquire(&body(o)->head_off) == 0)
		return 0;
	if ((rc = shmc__obj_lock(shmc__handle_arena(h), o)) != 0)
		return rc;
	/* Waking happens with the list locked, so that no cell is freed by
	 * its owner while we wake it. */
	rc = notify_locked(shmc__handle_arena(h), body(o), n);
	shmc__obj_unlock(shmc__handle_arena(h), o);
	return rc;
}

int shmc_condition_notify(shmc_obj_t *h, int n)
{
	return notify(h, n);
}

int shmc_condition_notify_all(shmc_obj_t *h)
{
	return notify(h, INT_MAX);
}

int64_t shmc__cond_nwaiters(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_CONDITION, &o);
	return rc ? rc : (int64_t)ld_relaxed(&body(o)->nwaiters);
}
