/*
 * epoch.c -- epoch-based reclamation (Fraser's EBR) shared by processes.
 *
 * Readers never lock and never write a shared cache line: each thread has a
 * record in the arena and announces, on entering a read-side section, the
 * global epoch it saw; on leaving it stores 0. A writer that unlinks a block
 * retires it into its own record's limbo, tagged with the global epoch at
 * that moment. The global epoch advances from E to E+1 only when every active
 * record announces E; so once it reaches R+2, no reader that could have seen
 * a block retired at R is still inside its section, and the block is freed.
 *
 * Records (struct shmc__rec) belong to a process slot (owner = slot + 1).
 * Limbo is a ring of {what, epoch} pairs in an arena block; only the owning
 * thread writes it, so it needs no lock, and it lives in the arena so that a
 * reaper can dispose of what a dead process left.
 *
 * Dead readers: a process killed inside a section leaves its record active
 * and would hold the epoch back forever. When a record keeps blocking the
 * advance, its owner's slot lock is probed (arena/proc.c); if the owner is
 * dead the slot is reaped, through the arena's reap hook (the lifecycle's
 * reap.c): its records are deactivated and their limbo disposed of after
 * one more grace period. Nothing here trusts a pid. Disposing of a retired
 * item is the objects' (the arena's dispose hook).
 *
 * Memory order: enter() stores the announcement, then needs a full barrier
 * before it reads anything, pairing with a full barrier in try_advance()
 * before it scans the records (store-load on both sides). Readers are the
 * hot path, so where the kernel offers membarrier(2), the barrier is moved
 * to the advancer: MEMBARRIER_CMD_GLOBAL_EXPEDITED runs one on every thread
 * of every registered process (each attaching process registers), and the
 * reader needs only a compiler barrier. Whether an arena works so is fixed
 * at its creation (SHMC__FEAT_MEMBARRIER); a process that cannot register
 * cannot attach to it.
 *
 * Retirement. Without membarrier, retire reads the global epoch G after a
 * seq_cst fence that follows the unlink, and tags the block G: the classic
 * argument. With membarrier the fence goes too (it was a fifth of a write
 * that replaces a block), and the block is tagged G + 1, freed one advance
 * later. Why that is safe: let the unlink be S and the epoch read L (G),
 * in this program order with a compiler barrier between; the processor may
 * perform L before S becomes visible. A reader that can still reach the
 * block loaded the old pointer before S became visible. The block is freed
 * once the epoch reaches G + 3, and the advance to G + 3 needs every active
 * reader to announce G + 2. A reader that announced G + 2 read G + 2 from
 * the global epoch (acquire), stored by an advance that first read G + 1
 * and then ran membarrier M: a full barrier on every thread of every
 * attached process, the writer's included, at some point of its program.
 * If that point came before S, L came after it too, and L would have read
 * at least G + 1, which was visible before M began: so S came before it,
 * was visible when M returned, hence before G + 2 was stored, and the
 * reader's loads after reading G + 2 see S, never the old pointer. Readers
 * that announced less than G + 2 block that advance while active. So
 * membarrier's one-epoch slack costs a batch of retired memory held back
 * one advance longer, and nothing on the write path.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "memory/alloc.h"
#include "memory/epoch.h"
#include "memory/tcache.h"
#include "arena/proc.h"

struct limbo_entry {
	atomic_u64 what;
	atomic_u64 epoch;
};

struct shmc__limbo {
	uint64_t cap;    /* entries; a power of two */
	atomic_u64 head; /* count of entries ever disposed of */
	atomic_u64 tail; /* count of entries ever retired */
	uint64_t pad_;
	struct limbo_entry e[];
};

/* An advance costs a membarrier(2): interrupts on every CPU running an
 * attached process, 2-10 us on a quiet machine and far more on a busy or
 * virtualised one. At 64 pending items it was most of the time of a write
 * that replaces a block (a plain list set: one membarrier per 32 writes).
 * So a thread advances once it holds poll_threshold() retired items -- up
 * to 2048, and no more than its ring can take in 1/1024 of the arena -- or
 * poll_bytes() of retired blocks, whichever comes first: the memory held
 * back stays bounded while small writes pay for an advance once in
 * hundreds or thousands. */
#define LIMBO_MIN 64u        /* a ring's first size; it grows to the threshold */
#define POLL_MAX 2048u

static inline uint64_t poll_threshold(const shmc_arena_t *a)
{
	uint64_t t = a->capacity >> 14; /* 16-byte entries: capacity / 1024 */
	return t < LIMBO_MIN ? LIMBO_MIN : t > POLL_MAX ? POLL_MAX : t;
}

/* The retired bytes that advance at once: a megabyte, and no more than
 * 1/64 of the arena (a thread holds back up to two such batches, since an
 * advance frees only what is two epochs old -- three where retirements
 * are tagged one epoch later: in a 4 MiB arena, 128 or 192 KiB). */
static inline uint64_t poll_bytes(const shmc_arena_t *a)
{
	uint64_t b = a->capacity >> 6;
	return b < SHMC__POLL_BYTES ? b : SHMC__POLL_BYTES;
}
/* Blocked advances before the blocking record's owner is probed (one
 * syscall): few, because with advances once in hundreds of retirements a
 * dead reader would otherwise hold every thread's memory for long. */
#define STALL_PROBE 4u
#define REAP_ATTEMPTS 2000u

static _Thread_local unsigned reap_budget; /* 0: REAP_ATTEMPTS */

unsigned shmc__epoch_reap_budget(unsigned n)
{
	unsigned old = reap_budget;
	reap_budget = n;
	return old;
}

/* This thread's records, one per arena it has used, in a list behind one
 * pthread key for the whole library (a key per arena would run out of
 * keys at PTHREAD_KEYS_MAX arenas). An entry names its arena by address
 * and serial number: a closed arena's entry is stale, pruned when met. */
struct tls_rec {
	shmc_arena_t *arena;
	uint64_t serial;
	struct shmc__rec *rec;
	unsigned fork_gen;
	unsigned stall;
	struct tls_rec *next;
};

static pthread_key_t rec_key;
static pthread_once_t rec_key_once = PTHREAD_ONCE_INIT;
static int rec_key_err;

static void rec_key_create(void)
{
	rec_key_err = pthread_key_create(&rec_key, shmc__epoch_thread_exit);
}

/* This thread's entry for A, or NULL. */
static struct tls_rec *tls_find(const shmc_arena_t *a)
{
	if (pthread_once(&rec_key_once, rec_key_create) != 0 || rec_key_err)
		return NULL;
	for (struct tls_rec *t = pthread_getspecific(rec_key); t; t = t->next)
		if (t->arena == a && t->serial == a->serial)
			return t;
	return NULL;
}

_Atomic unsigned shmc__epoch_fork_gen;
_Thread_local struct shmc__epoch_tls_cache shmc__epoch_tls;

void shmc__epoch_after_fork_child(void)
{
	atomic_fetch_add(&shmc__epoch_fork_gen, 1);
	memset(&shmc__epoch_tls, 0, sizeof(shmc__epoch_tls));
}

static struct shmc__limbo *limbo_of(shmc_arena_t *a, struct shmc__rec *r)
{
	uint64_t off = ld_acquire(&r->limbo_off);
	if (off == 0)
		return NULL;
	struct shmc__limbo *l = shmc__at(a, off, sizeof(*l), 16);
	if (l == NULL || l->cap == 0 || (l->cap & (l->cap - 1)) ||
	    l->cap > (a->capacity - off - sizeof(*l)) / sizeof(struct limbo_entry))
		return NULL;
	return l;
}

void shmc__epoch_thread_exit(void *p)
{
	memset(&shmc__epoch_tls, 0, sizeof(shmc__epoch_tls));
	unsigned gen = atomic_load(&shmc__epoch_fork_gen);
	for (struct tls_rec *t = p, *next; t; t = next) {
		next = t->next;
		/* Only a record of an arena still open, and of this process
		 * (not one inherited from before a fork): the close lock keeps
		 * the arena mapped meanwhile. */
		shmc__arena_close_lock();
		if (t->fork_gen == gen && shmc__arena_open_locked(t->arena, t->serial)) {
			/* What it cached goes back for every thread to use,
			 * and the cache itself: an idle record holds none. */
			shmc__tcache_flush(t->arena, t->rec, true);
			st_release(&t->rec->epoch, 0);
			st_release(&t->rec->in_use, 0);
		}
		shmc__arena_close_unlock();
		free(t);
	}
}

void shmc__epoch_forget(shmc_arena_t *a)
{
	memset(&shmc__epoch_tls, 0, sizeof(shmc__epoch_tls));
	if (pthread_once(&rec_key_once, rec_key_create) != 0 || rec_key_err)
		return;
	struct tls_rec *head = pthread_getspecific(rec_key);
	for (struct tls_rec **pp = &head; *pp; pp = &(*pp)->next)
		if ((*pp)->arena == a) {
			struct tls_rec *t = *pp;
			*pp = t->next;
			free(t);
			break;
		}
	pthread_setspecific(rec_key, head);
}

static void hwm_raise(shmc_arena_t *a, uint32_t n)
{
	uint32_t h = ld_relaxed(&a->hdr->rec_hwm);
	while (h < n && !atomic_compare_exchange_weak(&a->hdr->rec_hwm, &h, n))
		;
}

static struct shmc__rec *claim_record(shmc_arena_t *a)
{
	uint32_t me = a->slot + 1;
	/* Before any record is ours: closing looks for ours only if set. */
	st_relaxed(&a->recs_claimed, 1);
	uint32_t hwm = ld_acquire(&a->hdr->rec_hwm);
	/* Prefer an idle record of our own process: it may hold limbo. */
	for (uint32_t i = 0; i < hwm && i < a->nrecs; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		uint32_t zero = 0;
		if (ld_relaxed(&r->owner) == me &&
		    atomic_compare_exchange_strong(&r->in_use, &zero, 1))
			return r;
	}
	for (uint32_t i = 0; i < a->nrecs; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		uint32_t zero = 0;
		if (ld_relaxed(&r->owner) != 0)
			continue;
		/* The mark first: a thread killed between the two leaves it
		 * one too high (a look), never a record owned above it, which
		 * reapers would not find. */
		hwm_raise(a, i + 1);
		if (atomic_compare_exchange_strong(&r->owner, &zero, me)) {
			st_relaxed(&r->epoch, 0);
			st_relaxed(&r->limbo_off, 0);
			st_relaxed(&r->tcache_off, 0); /* (the reaper freed it) */
			st_release(&r->in_use, 1);
			return r;
		}
	}
	return NULL;
}

struct shmc__rec *shmc__epoch_rec_slow(shmc_arena_t *a)
{
	if (pthread_once(&rec_key_once, rec_key_create) != 0 || rec_key_err)
		return NULL;
	struct tls_rec *head = pthread_getspecific(rec_key), *t = NULL;
	/* Find A's entry; drop entries of arenas closed since. */
	for (struct tls_rec **pp = &head; *pp;) {
		struct tls_rec *x = *pp;
		if (x->arena == a && x->serial == a->serial) {
			t = x;
			pp = &x->next;
		} else if (x->arena == a || x->serial != x->arena->serial) {
			*pp = x->next; /* the arena is closed: a stale entry */
			free(x);
		} else {
			pp = &x->next;
		}
	}
	unsigned gen = atomic_load_explicit(&shmc__epoch_fork_gen, memory_order_relaxed);
	if (t != NULL && t->fork_gen == gen)
		goto cache;
	bool added = false;
	if (t == NULL) {
		if ((t = malloc(sizeof(*t))) == NULL)
			goto fail;
		t->next = head;
		head = t;
		added = true;
	}
	t->rec = claim_record(a);
	if (t->rec == NULL) {
		if (added) {
			head = t->next;
			free(t);
		} else { /* an entry inherited across fork(): useless now */
			for (struct tls_rec **pp = &head; *pp; pp = &(*pp)->next)
				if (*pp == t) {
					*pp = t->next;
					break;
				}
			free(t);
		}
		goto fail;
	}
	t->arena = a;
	t->serial = a->serial;
	t->fork_gen = gen;
	t->stall = 0;
cache:
	pthread_setspecific(rec_key, head);
	/* No cache while the entry names A (its bind may allocate). */
	shmc__epoch_tls.tc = NULL;
	shmc__epoch_tls.arena = a;
	shmc__epoch_tls.serial = a->serial;
	shmc__epoch_tls.fork_gen = gen;
	shmc__epoch_tls.rec = t->rec;
	shmc__epoch_tls.tc = shmc__tcache_bind(a, t->rec);
	return t->rec;
fail:
	pthread_setspecific(rec_key, head);
	return NULL;
}

static _Atomic int membarrier_state; /* 0 unknown, 1 ready, -1 unavailable */
static _Atomic unsigned membarrier_gen = ~0u; /* fork generation registered */

bool shmc__epoch_membarrier_ready(void)
{
	unsigned gen = atomic_load(&shmc__epoch_fork_gen);
	if (atomic_load(&membarrier_state) != 0 && atomic_load(&membarrier_gen) == gen)
		return atomic_load(&membarrier_state) > 0;
	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	bool ok = q > 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
		  syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
	atomic_store(&membarrier_state, ok ? 1 : -1);
	atomic_store(&membarrier_gen, gen);
	return ok;
}

/* Try to move the global epoch one step. @return true if it moved (or
 * someone else moved it meanwhile). */
static bool try_advance(shmc_arena_t *a, bool may_reap)
{
	struct shmc__hdr *h = a->hdr;
	uint64_t g = atomic_load(&h->epoch);
	/* Pairs with enter(); if membarrier(2) failed, the epoch must not
	 * move. */
	if (!shmc__arena_barrier_all(a))
		return false;
	uint32_t hwm = ld_acquire(&h->rec_hwm);
	if (hwm > a->nrecs)
		hwm = a->nrecs;
	for (uint32_t i = 0; i < hwm; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		uint64_t w = ld_acquire(&r->epoch);
		if (!(w & 1) || (w >> 1) == g)
			continue;
		/* Blocked by a reader of an older epoch. If that keeps
		 * happening, find out whether the reader is dead. */
		struct tls_rec *t = may_reap ? tls_find(a) : NULL;
		if (t && ++t->stall % STALL_PROBE == 0) {
			uint32_t owner = ld_relaxed(&r->owner);
			if (owner >= 1 && owner <= a->nprocs &&
			    !shmc__proc_alive(a, owner - 1) && a->hooks.reap_if_dead) {
				/* Its records stop blocking at once; what it
				 * retired waits for a later reap if the epoch
				 * cannot move soon (we may hold a lock). */
				unsigned old = shmc__epoch_reap_budget(SHMC__REAP_BUDGET_IMPLICIT);
				a->hooks.reap_if_dead(a, owner - 1);
				shmc__epoch_reap_budget(old);
			}
		}
		return false;
	}
	uint64_t expect = g;
	atomic_compare_exchange_strong(&h->epoch, &expect, g + 1);
	return true;
}

/* Dispose of the entries of L that are safe at global epoch G. */
static int64_t drain(shmc_arena_t *a, struct shmc__limbo *l, uint64_t g,
		     bool all)
{
	int64_t n = 0;
	uint64_t head = ld_relaxed(&l->head), tail = ld_acquire(&l->tail);
	if (tail - head > l->cap) /* corrupt: leak rather than misbehave */
		return 0;
	while (head != tail) {
		struct limbo_entry *e = &l->e[head & (l->cap - 1)];
		uint64_t epoch = ld_relaxed(&e->epoch);
		if (!all && epoch + 2 > g)
			break;
		uint64_t what = ld_relaxed(&e->what);
		/* Consume first, then dispose: a crash in between leaks the
		 * item instead of disposing of it twice. */
		st_release(&l->head, ++head);
		a->hooks.dispose(a, what);
		n++;
	}
	return n;
}

void shmc__epoch_poll_slow(shmc_arena_t *a, struct shmc__rec *r)
{
	struct shmc__limbo *l = limbo_of(a, r);
	if (l == NULL) {
		shmc__epoch_tls.retired_bytes = 0; /* (counted in another arena) */
		return;
	}
	uint64_t pending = ld_relaxed(&l->tail) - ld_relaxed(&l->head);
	if (pending < poll_threshold(a) && shmc__epoch_tls.retired_bytes < poll_bytes(a))
		return;
	shmc__epoch_tls.retired_bytes = 0;
	try_advance(a, true);
	drain(a, l, atomic_load(&a->hdr->epoch), false);
}

/* A queue that grew for a burst of retirements goes back to its first size
 * once empty, so that it does not hold memory for good. */
static void shrink_if_empty(shmc_arena_t *a, struct shmc__rec *r)
{
	struct shmc__limbo *l = limbo_of(a, r);
	if (l == NULL || l->cap <= LIMBO_MIN || ld_relaxed(&l->head) != ld_relaxed(&l->tail))
		return;
	uint64_t off;
	if (shmc__alloc(a, sizeof(struct shmc__limbo) + LIMBO_MIN * sizeof(struct limbo_entry),
			&off) != 0)
		return;
	struct shmc__limbo *nl = (struct shmc__limbo *)(a->base + off);
	nl->cap = LIMBO_MIN;
	st_relaxed(&nl->head, 0);
	st_relaxed(&nl->tail, 0);
	uint64_t old = ld_relaxed(&r->limbo_off);
	st_release(&r->limbo_off, off);
	shmc__free(a, old);
}

int64_t shmc__epoch_flush(shmc_arena_t *a, struct shmc__rec *r)
{
	int64_t n = 0;
	/* Three advances free what was tagged one epoch ahead; a fourth
	 * lets one of them be blocked by a reader passing through. */
	for (int i = 0; i < 4; i++) {
		try_advance(a, true);
		struct shmc__limbo *l = limbo_of(a, r);
		if (l == NULL)
			break;
		n += drain(a, l, atomic_load(&a->hdr->epoch), false);
	}
	shrink_if_empty(a, r);
	return n;
}

int64_t shmc__epoch_flush_idle(shmc_arena_t *a)
{
	uint32_t me = a->slot + 1;
	uint32_t hwm = ld_acquire(&a->hdr->rec_hwm);
	int64_t n = 0;
	for (uint32_t i = 0; i < hwm && i < a->nrecs; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		uint32_t zero = 0;
		/* Borrow the record as a new thread would (claim_record): no
		 * thread of ours uses it while in_use is ours. */
		if (ld_relaxed(&r->owner) != me ||
		    !atomic_compare_exchange_strong(&r->in_use, &zero, 1))
			continue;
		n += shmc__epoch_flush(a, r);
		st_release(&r->in_use, 0);
	}
	return n;
}

int shmc__epoch_reserve(shmc_arena_t *a, struct shmc__rec *r, uint64_t n)
{
	struct shmc__limbo *l = limbo_of(a, r);
	uint64_t pending = 0, cap = 0;
	if (l) {
		pending = ld_relaxed(&l->tail) - ld_relaxed(&l->head);
		cap = l->cap;
		if (pending <= cap && n <= cap - pending)
			return 0;
		/* Below the poll threshold a ring grows rather than paying
		 * for an advance (a thread that writes little keeps a small
		 * one); at the threshold, or when the arena has no room to
		 * grow it, the pending items are freed first. */
		if (pending > cap || pending + n > poll_threshold(a)) {
			try_advance(a, true);
			drain(a, l, atomic_load(&a->hdr->epoch), false);
			pending = ld_relaxed(&l->tail) - ld_relaxed(&l->head);
			if (pending <= cap && n <= cap - pending)
				return 0;
		}
		if (pending > cap) {
			/* Corrupt: a new queue, leaking the items (as drain). */
			l = NULL;
			pending = cap = 0;
		}
	}
	uint64_t ncap = cap ? cap : LIMBO_MIN;
	while (ncap < pending + n)
		ncap *= 2;
	if (cap && ncap < 2 * cap)
		ncap = 2 * cap;
	uint64_t off;
	int rc = shmc__alloc(a, sizeof(struct shmc__limbo) +
				     ncap * sizeof(struct limbo_entry), &off);
	if (rc == SHMC_EFULL && l && pending + n <= poll_threshold(a)) {
		/* No room to grow: free what is safe instead. */
		try_advance(a, true);
		drain(a, l, atomic_load(&a->hdr->epoch), false);
		pending = ld_relaxed(&l->tail) - ld_relaxed(&l->head);
		if (pending <= cap && n <= cap - pending)
			return 0;
	}
	if (rc)
		return rc;
	struct shmc__limbo *nl = (struct shmc__limbo *)(a->base + off);
	nl->cap = ncap;
	uint64_t i = 0;
	if (l) {
		for (uint64_t k = ld_relaxed(&l->head); i < pending; k++, i++) {
			struct limbo_entry *e = &l->e[k & (l->cap - 1)];
			st_relaxed(&nl->e[i].what, ld_relaxed(&e->what));
			st_relaxed(&nl->e[i].epoch, ld_relaxed(&e->epoch));
		}
	}
	st_relaxed(&nl->head, 0);
	st_relaxed(&nl->tail, i);
	uint64_t old = ld_relaxed(&r->limbo_off);
	/* Release: a reaper that reads limbo_off sees a complete ring. */
	st_release(&r->limbo_off, off);
	if (old)
		shmc__free(a, old);
	return 0;
}

void shmc__epoch_retire(shmc_arena_t *a, struct shmc__rec *r, uint64_t what)
{
	struct shmc__limbo *l = limbo_of(a, r);
	uint64_t tail = l ? ld_relaxed(&l->tail) : 0;
	/* Room was reserved; a queue found without it was scribbled on since
	 * (another process writing where it must not): the item is leaked,
	 * never freed while a reader may hold it (the check reports it,
	 * --sweep frees it). */
	if (unlikely(l == NULL || tail - ld_relaxed(&l->head) >= l->cap))
		return;
	/* The unlink that precedes this call is ordered before the epoch is
	 * read by a fence, or, where advances run membarrier, by tagging the
	 * block one epoch later (the proof is in the header comment; the
	 * compiler barrier keeps the read after the unlink in program
	 * order, which the proof needs). */
	uint64_t tag;
	if (likely(a->membarrier)) {
		atomic_signal_fence(memory_order_seq_cst);
		tag = ld_relaxed(&a->hdr->epoch) + 1;
	} else {
		atomic_thread_fence(memory_order_seq_cst);
		tag = atomic_load(&a->hdr->epoch);
	}
	struct limbo_entry *e = &l->e[tail & (l->cap - 1)];
	st_relaxed(&e->what, what);
	st_relaxed(&e->epoch, tag);
	st_release(&l->tail, tail + 1);
	shmc__epoch_tls.retired++;
	if ((what & SHMC__RETIRE_TAG_MASK) != SHMC__RETIRE_DECREF)
		shmc__epoch_tls.retired_bytes +=
			shmc__block_size_hint(a, what & ~(uint64_t)SHMC__RETIRE_TAG_MASK);
}

int shmc__epoch_reap_records(shmc_arena_t *a, uint32_t slot)
{
	uint32_t owner = slot + 1;
	uint32_t hwm = ld_acquire(&a->hdr->rec_hwm);
	if (hwm > a->nrecs)
		hwm = a->nrecs;
	uint64_t newest = 0;
	bool any = false;
	/* Our own records (closing): what they dispose of below goes to the
	 * lists, not to the cache of the record being released. */
	if (slot == a->slot && shmc__epoch_tls.arena == a)
		shmc__epoch_tls.tc = NULL;
	for (uint32_t i = 0; i < hwm; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		if (ld_relaxed(&r->owner) != owner)
			continue;
		st_release(&r->epoch, 0);
		struct shmc__limbo *l = limbo_of(a, r);
		if (l == NULL)
			continue;
		uint64_t head = ld_relaxed(&l->head), tail = ld_relaxed(&l->tail);
		if (tail - head > l->cap)
			continue;
		for (; head != tail; head++) {
			uint64_t e = ld_relaxed(&l->e[head & (l->cap - 1)].epoch);
			newest = e > newest ? e : newest;
			any = true;
		}
	}
	/* Wait (boundedly) until nothing the dead left can still be read. */
	for (unsigned k = 0; any && atomic_load(&a->hdr->epoch) < newest + 2; k++) {
		if (k == (reap_budget ? reap_budget : REAP_ATTEMPTS))
			return -EAGAIN;
		if (!try_advance(a, false))
			sched_yield();
	}
	for (uint32_t i = 0; i < hwm; i++) {
		struct shmc__rec *r = shmc__rec_at(a, i);
		if (ld_relaxed(&r->owner) != owner)
			continue;
		struct shmc__limbo *l = limbo_of(a, r);
		if (l)
			drain(a, l, 0, true);
		uint64_t off = ld_relaxed(&r->limbo_off);
		st_relaxed(&r->limbo_off, 0);
		if (off)
			shmc__free(a, off);
		shmc__tcache_flush(a, r, true);
		st_relaxed(&r->in_use, 0);
		st_release(&r->owner, 0);
	}
	return 0;
}

int shmc__epoch_limbo_visit(const shmc_arena_t *a, struct shmc__rec *r,
			    const struct shmc__limbo_visitor *v, void *ctx)
{
	uint64_t off = ld_acquire(&r->limbo_off);
	if (off == 0)
		return 0;
	struct shmc__limbo *l = limbo_of((shmc_arena_t *)a, r);
	if (l == NULL) {
		v->error(ctx, "retire queue at %#llx is malformed",
			 (unsigned long long)off);
		return -1;
	}
	if (!v->block(ctx, off, sizeof(*l) + l->cap * sizeof(struct limbo_entry)))
		return -1;
	uint64_t head = ld_relaxed(&l->head), tail = ld_relaxed(&l->tail);
	if (tail - head > l->cap) {
		v->error(ctx, "retire queue at %#llx: %llu items in %llu slots",
			 (unsigned long long)off, (unsigned long long)(tail - head),
			 (unsigned long long)l->cap);
		return -1;
	}
	for (; head != tail; head++)
		v->item(ctx, ld_relaxed(&l->e[head & (l->cap - 1)].what));
	return 0;
}
