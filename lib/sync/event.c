/*
 * event.c -- Event: Python's manager.Event().
 *
 * Layout: one futex word.
 *
 *   bit 0   the flag (set / unset)
 *   bit 1   someone may be asleep on the word
 *
 *   set     exchange the word with 1; wake everyone if bit 1 was set
 *   clear   clear bit 0 (fetch-and)
 *   wait    while bit 0 is clear: set bit 1 (compare-and-swap), sleep on
 *           the word as it now reads, in bounded naps
 *
 * Every change is one atomic operation, so a process killed anywhere leaves
 * the flag set or not, nothing in between, and there is nothing to repair.
 * A sleeper that dies leaves bit 1 set: the next set() makes one needless
 * futex call and clears it. set() wakes every sleeper because Python's
 * set() releases every waiter; that is the fewest that are needed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "values/repr.h"
#include "sync/sync.h"

#define FLAG 1u
#define SLEEPERS 2u

struct event_body {
	atomic_u32 word;
	uint32_t pad_[3];
};

static inline struct event_body *body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct event_body);
}

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	(void)o;
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	(void)a;
	(void)o;
	return 0;
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	if (ld_relaxed(&body(o)->word) & ~(FLAG | SLEEPERS))
		shmc__walk_error(w, "event %#llx: word %#x",
				 (unsigned long long)shmc__off(shmc__walk_arena(w), o),
				 ld_relaxed(&body(o)->word));
}

static int event_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_EVENT, &o);
	if (rc)
		return rc;
	char buf[96];
	snprintf(buf, sizeof(buf), "<threading.Event at %p: %s>", (void *)body(o),
		 (ld_relaxed(&body(o)->word) & FLAG) ? "set" : "unset");
	struct shmc__sbuf sb = {0};
	shmc__sb_puts(&sb, buf);
	return shmc__sb_finish(&sb, out);
}

const struct shmc__kind shmc__event_kind = {
	.typeid = "Event",
	.proxy = "EventProxy",
	.body_size = sizeof(struct event_body),
	.destroy = destroy,
	.repair = repair,
	.str = event_str,
	.walk = walk,
};

int shmc_event_new(shmc_arena_t *a, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	return shmc__obj_create(a, SHMC_KIND_EVENT, out);
}

int shmc_event_set(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_EVENT, &o);
	if (rc)
		return rc;
	/* Release: what the setter did before happens before what a waiter
	 * does after seeing the flag (acquire loads below). */
	uint32_t old = atomic_exchange_explicit(&body(o)->word, FLAG, memory_order_acq_rel);
	if (old & SLEEPERS)
		shmc__futex_wake(&body(o)->word, INT_MAX);
	return 0;
}

int shmc_event_clear(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_EVENT, &o);
	if (rc)
		return rc;
	atomic_fetch_and_explicit(&body(o)->word, ~FLAG, memory_order_relaxed);
	return 0;
}

int shmc_event_is_set(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_EVENT, &o);
	if (rc)
		return rc;
	return (ld_acquire(&body(o)->word) & FLAG) != 0;
}

int shmc_event_wait(shmc_obj_t *h, double timeout)
{
	struct shmc__obj *o;
	int64_t deadline;
	int rc = shmc__resolve(h, SHMC_KIND_EVENT, &o);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	atomic_u32 *w = &body(o)->word;
	for (int i = 0; i < SHMC__SPINS; i++) {
		if (ld_acquire(w) & FLAG)
			return 0;
		if (deadline >= 0 && i == 0 && shmc__expired(deadline))
			return -ETIMEDOUT;
		shmc__cpu_relax();
	}
	for (;;) {
		uint32_t cur = ld_acquire(w);
		if (cur & FLAG)
			return 0;
		if (shmc__expired(deadline))
			return -ETIMEDOUT;
		if (!(cur & SLEEPERS) &&
		    !atomic_compare_exchange_strong_explicit(w, &cur, cur | SLEEPERS,
							     memory_order_relaxed,
							     memory_order_relaxed))
			continue;
		/* The word as we marked it: a set() since changes it, and the
		 * futex call then returns at once. */
		shmc__nap(w, cur | SLEEPERS, deadline);
	}
}
