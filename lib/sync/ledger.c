/*
 * ledger.c -- one entry per process slot: what each process holds of an
 * object, and how many of its threads sleep on it (layout in sync.h).
 *
 * Entries change only under the owning object's lock, each change one
 * store, so a process killed mid-way leaves every entry either as it was or
 * as it should be; totals derived from them are recomputed by the object's
 * repair. Liveness is asked of the token an entry names (slot + generation,
 * olock.c), never of a pid.
 */
#include "sync/sync.h"

static inline uint32_t my_gen(shmc_arena_t *a)
{
	return shmc__ledger_gen(a);
}

static inline uint32_t entry_token(uint32_t slot, uint64_t e)
{
	return (shmc__led_gen(e) << SHMC__TOKEN_SLOT_BITS) | (slot + 1);
}

atomic_u64 *shmc__ledger_mine_locked(shmc_arena_t *a, atomic_u64 *led,
				     shmc__ledger_fn fn, void *ctx)
{
	atomic_u64 *mine = &led[a->slot];
	uint64_t e = ld_relaxed(mine);
	if (e != 0 && shmc__led_gen(e) != my_gen(a)) {
		/* A dead process had our slot before us. The entry is
		 * cleared first: killed in between, we lose what it held
		 * until repair recounts, rather than count it twice. */
		st_relaxed(mine, 0);
		fn(ctx, shmc__led_held(e), shmc__led_waiting(e));
	}
	return mine;
}

static bool entry_dead(shmc_arena_t *a, uint32_t slot, uint64_t e)
{
	if (e == 0)
		return false;
	if (slot == a->slot)
		return shmc__led_gen(e) != my_gen(a);
	return !shmc__token_alive(a, entry_token(slot, e));
}

int shmc__ledger_reap_locked(shmc_arena_t *a, atomic_u64 *led,
			     shmc__ledger_fn fn, void *ctx)
{
	int n = 0;
	for (uint32_t s = 0; s < a->nprocs; s++) {
		uint64_t e = ld_relaxed(&led[s]);
		if (!entry_dead(a, s, e))
			continue;
		st_relaxed(&led[s], 0); /* first: see above */
		fn(ctx, shmc__led_held(e), shmc__led_waiting(e));
		n++;
	}
	return n;
}

bool shmc__ledger_has_dead(shmc_arena_t *a, atomic_u64 *led)
{
	for (uint32_t s = 0; s < a->nprocs; s++)
		if (entry_dead(a, s, ld_relaxed(&led[s])))
			return true;
	return false;
}

void shmc__ledger_sums(shmc_arena_t *a, atomic_u64 *led, uint64_t *held,
		       uint64_t *waiting)
{
	uint64_t h = 0, w = 0;
	for (uint32_t s = 0; s < a->nprocs; s++) {
		uint64_t e = ld_relaxed(&led[s]);
		h += shmc__led_held(e);
		w += shmc__led_waiting(e);
	}
	*held = h;
	*waiting = w;
}

bool shmc__ledger_wait_locked(shmc_arena_t *a, atomic_u64 *mine, atomic_u32 *sleepers)
{
	uint64_t e = ld_relaxed(mine);
	uint32_t w = shmc__led_waiting(e);
	if (w == SHMC__LEDGER_WAIT_MAX)
		return false;
	/* The entry first (it is what repair counts), then the total. */
	shmc__led_put(mine, my_gen(a), w + 1, shmc__led_held(e));
	st_relaxed(sleepers, ld_relaxed(sleepers) + 1);
	return true;
}

void shmc__ledger_unwait_locked(shmc_arena_t *a, atomic_u64 *mine, atomic_u32 *sleepers)
{
	uint64_t e = ld_relaxed(mine);
	uint32_t w = shmc__led_waiting(e);
	if (w == 0)
		return;
	shmc__led_put(mine, my_gen(a), w - 1, shmc__led_held(e));
	uint32_t s = ld_relaxed(sleepers);
	st_relaxed(sleepers, s ? s - 1 : 0);
}
