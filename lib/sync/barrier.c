/*
 * barrier.c -- Barrier: Python's manager.Barrier(parties, action, timeout),
 * which a dead party breaks instead of wedging.
 *
 * Layout of the body:
 *
 *   st          the state, one 64-bit word:
 *                 bits  0..19  count: parties arrived in this generation
 *                 bit  20      broken
 *                 bits 21..39  history: bit 21 + i tells whether the i-th
 *                              latest change of epoch was a trip (1) or a
 *                              break or reset (0)
 *                 bits 40..63  epoch: +1 at every trip, break and reset
 *   seq         a futex word bumped after every change of epoch
 *   parties     fixed at creation
 *   tokens_off  a block of `parties` tokens: tokens[i] names the process
 *               that arrived i-th in the current generation
 *   timeout_ns  the default timeout of a wait, fixed at creation (-1: none)
 *   flags       HAS_ACTION, fixed at creation: the party that trips the
 *               barrier runs the action its process remembers for it
 *               (baction.c: a function pointer never enters the arena)
 *
 * Changes are made under the object's owner lock and published by one store
 * of st: an arrival writes its token in tokens[count], then stores count+1;
 * the last arrival stores count 0 with the epoch advanced and a trip
 * recorded in the history, then bumps seq and wakes everyone; abort and
 * reset store a new epoch with a break recorded (abort also sets broken).
 * Killed anywhere, a process leaves st as it was or as it should be: a token
 * written past count is simply not counted. Repair only verifies.
 *
 * Waiters remember the epoch E they arrived in and sleep on seq, reading seq
 * before st so that a change between the two is not slept through. When the
 * epoch has moved on, the first change after E decides: a trip means they
 * passed (returning their arrival index), a break or reset means
 * SHMC_EBROKEN, as in Python. The history keeps the last 19 changes; a
 * waiter that sleeps through more (stopped, say) reports SHMC_EBROKEN.
 *
 * The action. The last arrival of a barrier with an action writes its
 * token and stores count = parties (the action is running), runs the
 * action still holding the lock (as Python runs it under the condition's
 * lock: arrivals meanwhile wait for the lock), then publishes a trip, or a
 * break if the action failed, which its own wait returns. If it dies in
 * the action, the waiters' probe finds its token dead and takes the lock
 * over, and repair, seeing count = parties, publishes the break.
 *
 * Unlike Python's barrier there is no draining phase: the next generation
 * may start filling while the last one's waiters are still waking up,
 * because they only compare epochs. So a waiter killed after a trip delays
 * no one.
 *
 * Death. At every nap, a waiter checks the tokens of the parties arrived in
 * its generation; if one is dead, it breaks the barrier: every waiter gets
 * SHMC_EBROKEN, and later arrivals too, until reset(). A party that dies
 * before arriving cannot be told from a late one: the others wait for it as
 * Python's would, until their timeout.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "memory/alloc.h"
#include "values/repr.h"
#include "sync/baction.h"
#include "sync/sync.h"
#include "sync/waiter.h"

#define COUNT_BITS 20
#define COUNT_MASK ((1ull << COUNT_BITS) - 1)
#define BROKEN (1ull << 20)
#define HIST_SHIFT 21
#define HIST_BITS 19
#define HIST_MASK (((1ull << HIST_BITS) - 1) << HIST_SHIFT)
#define EPOCH_SHIFT 40
#define EPOCH_MASK 0xffffffu

#define HAS_ACTION 1u

struct barrier_body {
	atomic_u64 st;
	atomic_u32 seq;
	uint32_t parties;
	atomic_u64 tokens_off;
	int64_t timeout_ns;
	uint32_t flags;
	uint32_t pad_;
};

static inline struct barrier_body *body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct barrier_body);
}

static inline uint32_t st_count(uint64_t st) { return (uint32_t)(st & COUNT_MASK); }
static inline uint32_t st_epoch(uint64_t st) { return (uint32_t)(st >> EPOCH_SHIFT); }

/* The state after a change of epoch: TRIP or a break/reset. */
static uint64_t next_epoch(uint64_t st, bool trip, bool broken)
{
	uint64_t hist = ((st & HIST_MASK) << 1) & HIST_MASK;
	if (trip)
		hist |= 1ull << HIST_SHIFT;
	uint64_t epoch = (uint64_t)((st_epoch(st) + 1) & EPOCH_MASK) << EPOCH_SHIFT;
	return epoch | hist | (broken ? BROKEN : 0);
}

static atomic_u32 *tokens_of(shmc_arena_t *a, struct barrier_body *b)
{
	uint64_t off = ld_acquire(&b->tokens_off);
	if (b->parties == 0 || b->parties > COUNT_MASK)
		return NULL;
	return shmc__at(a, off, (uint64_t)b->parties * sizeof(atomic_u32), 16);
}

/* Store NEXT (lock held), then let the sleepers see it. */
static void publish_epoch_locked(struct barrier_body *b, uint64_t next)
{
	/* Release: pairs with the acquire load of st by waiters. */
	st_release(&b->st, next);
	atomic_fetch_add_explicit(&b->seq, 1, memory_order_release);
}

static void wake_all(struct barrier_body *b)
{
	shmc__futex_wake(&b->seq, INT_MAX);
}

/* Break the barrier if it is still in epoch E (lock not held).
 * @return 0, SHMC_ECORRUPT */
static int break_if_epoch(shmc_arena_t *a, struct shmc__obj *o, uint32_t e)
{
	struct barrier_body *b = body(o);
	int rc = shmc__obj_lock(a, o);
	if (rc)
		return rc;
	uint64_t st = ld_relaxed(&b->st);
	bool change = st_epoch(st) == e;
	if (change)
		publish_epoch_locked(b, next_epoch(st, false, true));
	shmc__obj_unlock(a, o);
	if (change)
		wake_all(b);
	return 0;
}

/* Whether a party arrived in ST's generation has died. */
static bool arrived_dead(shmc_arena_t *a, struct barrier_body *b, uint64_t st)
{
	atomic_u32 *tok = tokens_of(a, b);
	if (tok == NULL)
		return false;
	uint32_t n = st_count(st), last = 0;
	for (uint32_t i = 0; i < n && i < b->parties; i++) {
		uint32_t t = ld_acquire(&tok[i]);
		if (t == last || t == a->token)
			continue;
		if (!shmc__token_alive(a, t))
			return true;
		last = t;
	}
	return false;
}

/* The outcome for a waiter of epoch E, now that the state reads ST. */
static int outcome(uint64_t st, uint32_t e, uint32_t index)
{
	uint32_t k = (st_epoch(st) - e - 1) & EPOCH_MASK;
	if (k >= HIST_BITS)
		return SHMC_EBROKEN;
	return (st >> (HIST_SHIFT + k)) & 1 ? (int)index : SHMC_EBROKEN;
}

/* Run the action this process remembers for barrier O (lock held).
 * @return 0, the action's negative result, SHMC_EBROKEN (a positive one),
 *         -ENOENT (this process has none) */
static int run_action(shmc_arena_t *a, struct shmc__obj *o)
{
	shmc_barrier_action_fn fn;
	void *ctx;
	if (!shmc__baction_get(a, o, &fn, &ctx))
		return -ENOENT;
	int rc = fn(ctx);
	return rc > 0 ? SHMC_EBROKEN : rc;
}

/* Waiting for the epoch to change, through the one waiter (waiter.c). */
struct party {
	shmc_arena_t *a;
	struct shmc__obj *o;
	struct barrier_body *b;
	uint32_t e; /* the epoch we arrived in */
};

static bool tripped(void *ctx)
{
	struct party *p = ctx;
	return st_epoch(ld_acquire(&p->b->st)) != p->e;
}

/* seq is read before st (ready): a change after we read st bumps seq after
 * storing st, so the futex call sees it. */
static uint32_t seq_now(void *ctx)
{
	struct party *p = ctx;
	return ld_acquire(&p->b->seq);
}

/* A nap ran out: a party that arrived and died will never be back. */
static int dead_party(void *ctx)
{
	struct party *p = ctx;
	if (arrived_dead(p->a, p->b, ld_acquire(&p->b->st)))
		return break_if_epoch(p->a, p->o, p->e);
	return 0;
}

static int barrier_wait(shmc_arena_t *a, struct shmc__obj *o, int64_t deadline)
{
	struct barrier_body *b = body(o);
	atomic_u32 *tok = tokens_of(a, b);
	if (tok == NULL)
		return SHMC_ECORRUPT;
	int rc = shmc__obj_lock(a, o);
	if (rc)
		return rc;
	uint64_t st = ld_relaxed(&b->st);
	uint32_t index = st_count(st), e = st_epoch(st);
	if (st & BROKEN) {
		shmc__obj_unlock(a, o);
		return SHMC_EBROKEN;
	}
	if (index >= b->parties) { /* repair verifies this cannot be */
		shmc__obj_unlock(a, o);
		return SHMC_ECORRUPT;
	}
	if (index + 1 == b->parties && (b->flags & HAS_ACTION)) {
		st_release(&tok[index], a->token); /* before it is counted */
		st_release(&b->st, st + 1);        /* the action is running */
		rc = run_action(a, o);
		publish_epoch_locked(b, next_epoch(st, rc == 0, rc != 0));
		shmc__obj_unlock(a, o);
		wake_all(b);
		return rc ? rc : (int)index;
	}
	if (index + 1 == b->parties) {
		publish_epoch_locked(b, next_epoch(st, true, false));
		shmc__obj_unlock(a, o);
		wake_all(b);
		return (int)index;
	}
	st_release(&tok[index], a->token); /* before it is counted */
	st_release(&b->st, st + 1);
	shmc__obj_unlock(a, o);

	struct party p = {a, o, b, e};
	const struct shmc__sleep sp = {.word = &b->seq, .ready = tripped,
				       .seen = seq_now, .probe = dead_party};
	rc = shmc__waiter_sleep(&sp, &p, deadline);
	if (rc == -ETIMEDOUT) {
		/* Python breaks the barrier for everyone on a timeout. */
		if ((rc = break_if_epoch(a, o, e)) != 0)
			return rc;
		rc = outcome(ld_acquire(&b->st), e, index);
		return rc >= 0 ? rc : -ETIMEDOUT;
	}
	if (rc)
		return rc;
	return outcome(ld_acquire(&b->st), e, index);
}

static int change_epoch(shmc_obj_t *h, bool broken)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_BARRIER, &o);
	if (rc || (rc = shmc__obj_lock(shmc__handle_arena(h), o)) != 0)
		return rc;
	struct barrier_body *b = body(o);
	publish_epoch_locked(b, next_epoch(ld_relaxed(&b->st), false, broken));
	shmc__obj_unlock(shmc__handle_arena(h), o);
	wake_all(b);
	return 0;
}

/* Kind functions ------------------------------------------------------------ */

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	uint64_t off = ld_relaxed(&body(o)->tokens_off);
	if (off)
		shmc__free(a, off);
	if (body(o)->flags & HAS_ACTION)
		shmc__baction_forget(a, o);
}

/* Whether count C is possible: below parties, or parties while the action
 * runs. */
static bool count_ok(struct barrier_body *b, uint32_t c)
{
	return c < b->parties || (c == b->parties && (b->flags & HAS_ACTION));
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	struct barrier_body *b = body(o);
	uint64_t st = ld_relaxed(&b->st);
	if (tokens_of(a, b) == NULL || !count_ok(b, st_count(st)))
		return SHMC_ECORRUPT;
	if (st_count(st) == b->parties) {
		/* The party running the action died in it: as if it failed. */
		publish_epoch_locked(b, next_epoch(st, false, true));
		wake_all(b);
	}
	return 0;
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	struct barrier_body *b = body(o);
	uint64_t off = ld_acquire(&b->tokens_off);
	if (tokens_of(a, b) == NULL) {
		shmc__walk_error(w, "barrier %#llx: %u parties, tokens at %#llx",
				 (unsigned long long)shmc__off(a, o), b->parties,
				 (unsigned long long)off);
		return;
	}
	shmc__walk_block(w, off, (uint64_t)b->parties * sizeof(uint32_t), "barrier tokens");
	if (!count_ok(b, st_count(ld_relaxed(&b->st))))
		shmc__walk_error(w, "barrier %#llx: %u arrived of %u",
				 (unsigned long long)shmc__off(a, o),
				 st_count(ld_relaxed(&b->st)), b->parties);
}

static int barrier_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_BARRIER, &o);
	if (rc)
		return rc;
	struct barrier_body *b = body(o);
	uint64_t st = ld_acquire(&b->st);
	char buf[128];
	if (st & BROKEN)
		snprintf(buf, sizeof(buf), "<threading.Barrier at %p: broken>", (void *)b);
	else
		snprintf(buf, sizeof(buf), "<threading.Barrier at %p: waiters=%u/%u>",
			 (void *)b, st_count(st), b->parties);
	struct shmc__sbuf sb = {0};
	shmc__sb_puts(&sb, buf);
	return shmc__sb_finish(&sb, out);
}

const struct shmc__kind shmc__barrier_kind = {
	.typeid = "Barrier",
	.proxy = "BarrierProxy",
	.body_size = sizeof(struct barrier_body),
	.destroy = destroy,
	.repair = repair,
	.str = barrier_str,
	.walk = walk,
};

/* Public API -------------------------------------------------------------- */

int shmc_barrier_new_ex(shmc_arena_t *a, unsigned parties, shmc_barrier_action_fn action,
			void *ctx, double timeout, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	int64_t deadline;
	int rc = shmc__deadline(timeout, &deadline);
	if (rc)
		return rc;
	if (parties == 0 || parties > COUNT_MASK)
		return -EINVAL;
	uint64_t off;
	if ((rc = shmc__alloc(a, (uint64_t)parties * sizeof(atomic_u32), &off)) != 0)
		return rc;
	memset(a->base + off, 0, (size_t)parties * sizeof(atomic_u32));
	shmc_obj_t *h;
	if ((rc = shmc__obj_create(a, SHMC_KIND_BARRIER, &h)) != 0) {
		shmc__free(a, off);
		return rc;
	}
	struct shmc__obj *o = shmc__obj_of(h);
	struct barrier_body *b = body(o);
	b->parties = parties;
	b->timeout_ns = deadline < 0 ? -1 : (int64_t)(timeout * 1e9);
	b->flags = action ? HAS_ACTION : 0;
	st_release(&b->tokens_off, off);
	if (action && (rc = shmc__baction_set(a, o, action, ctx)) != 0) {
		shmc_obj_release(h); /* destroys it, and its tokens */
		return rc;
	}
	*out = h;
	return 0;
}

int shmc_barrier_new(shmc_arena_t *a, unsigned parties, shmc_obj_t **out)
{
	return shmc_barrier_new_ex(a, parties, NULL, NULL, SHMC_FOREVER, out);
}

int shmc_barrier_set_action(shmc_obj_t *h, shmc_barrier_action_fn action, void *ctx)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_BARRIER, &o);
	if (rc)
		return rc;
	if (action == NULL || !(body(o)->flags & HAS_ACTION))
		return -EINVAL;
	return shmc__baction_set(shmc__handle_arena(h), o, action, ctx);
}

int shmc_barrier_wait(shmc_obj_t *h, double timeout)
{
	struct shmc__obj *o;
	int64_t deadline;
	int rc = shmc__resolve(h, SHMC_KIND_BARRIER, &o);
	if (rc)
		return rc;
	/* Python's timeout=None: the barrier's own (at most 10^9 s, as
	 * shmc__deadline makes it; more is not one it wrote). */
	int64_t dflt = body(o)->timeout_ns;
	if (timeout == SHMC_FOREVER && dflt >= 0 && dflt <= (int64_t)1e18)
		deadline = shmc__now_ns() + dflt;
	else if ((rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	return barrier_wait(shmc__handle_arena(h), o, deadline);
}

int shmc_barrier_abort(shmc_obj_t *h)
{
	return change_epoch(h, true);
}

int shmc_barrier_reset(shmc_obj_t *h)
{
	return change_epoch(h, false);
}

int64_t shmc_barrier_parties(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_BARRIER, &o);
	return rc ? rc : (int64_t)body(o)->parties;
}

int64_t shmc_barrier_n_waiting(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_BARRIER, &o);
	if (rc)
		return rc;
	uint64_t st = ld_acquire(&body(o)->st);
	return (st & BROKEN) ? 0 : st_count(st);
}

int shmc_barrier_broken(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_BARRIER, &o);
	return rc ? rc : (ld_acquire(&body(o)->st) & BROKEN) != 0;
}
