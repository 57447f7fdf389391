/*
 * queue.c -- Queue and JoinableQueue: Python's manager.Queue(maxsize) and
 * JoinableQueue(maxsize), many producers and consumers at once.
 *
 * Layout of the body:
 *
 *   ring_off    a block {magic, cap, item[cap]}: cap is a power of two and
 *               item[i & (cap - 1)] for head <= i < tail are the queued
 *               items, each a value word (values/venc.h) the queue owns
 *   head, tail  items ever taken / ever put; the queue is [head, tail)
 *   maxsize     0: unbounded; else put() waits while tail - head == maxsize
 *   puts, gets  futex words bumped by every put / get: getters sleep on
 *               puts, putters on gets
 *   join_word   futex word for join(): bit 0 set while someone may be
 *               joining, +2 each time the unfinished count reaches 0
 *   sleepers    getters and putters registered as sleeping (derived)
 *   unfinished  JoinableQueue: items put and not yet marked done (derived)
 *   credit      JoinableQueue: task_done() calls not matched by a task
 *               taken (Python lets task_done() run ahead of get())
 *   ledger[]    per process slot (sync.h): tasks taken and not yet done;
 *               threads sleeping
 *
 * Everything is changed under the object's owner lock (the header's), never
 * held while sleeping, so items leave in the order they came in: FIFO
 * overall, hence FIFO per producer, and each item is taken exactly once.
 *
 * Crash atomicity. A put encodes its value into a word (allocating a value
 * block if needed) only once there is room, so that it holds no block while
 * it sleeps; it writes the word into the free slot item[tail], then
 * publishes it with one store of tail + 1; a get reads item[head], decodes
 * it into a private copy (so that running out of memory changes nothing),
 * then takes it with one store of head + 1, and frees the word's block after
 * unlocking. A process killed anywhere thus leaves an item queued or taken,
 * never both or half: a put killed before its store leaves no item (its
 * value block leaks, for the arena check to sweep); a get killed after its
 * store took the item with it (ditto). Growing the ring builds a new one
 * privately and publishes it with one store of ring_off. The derived words
 * are recomputed by repair when a process dies holding the lock:
 *
 *   sleepers = sum(waiting)
 *   unfinished = (tail - head) + sum(held) - credit
 *
 * Death. A consumer of a JoinableQueue that dies takes its tasks with it:
 * they are counted done (its ledger entry is cleared and unfinished drops),
 * so that join() does not wait for the dead. Sleepers look for dead
 * processes in the ledger whenever a nap runs out; join() does, too. A
 * sleeper that dies leaves its registration behind, which costs needless
 * wake-ups until it is reaped the same way; a wake-up it swallowed is
 * recovered by the next nap of another sleeper.
 *
 * Wake-ups: a put wakes one sleeping getter, a get one sleeping putter (in
 * a bounded queue), and only when someone is registered as sleeping. join()
 * sleepers are all woken when the count of unfinished tasks reaches 0.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "memory/alloc.h"
#include "values/repr.h"
#include "sync/sync.h"
#include "sync/waiter.h"
#include "values/venc.h"

#define RING_MAGIC 0x474e4952u /* "RING" */
#define RING_MIN 16u
#define RING_SHRINK 1024u /* an emptied ring larger than this is freed */

struct ring {
	uint32_t magic;
	uint32_t pad_;
	uint64_t cap;
	atomic_u64 item[];
};

struct queue_body {
	atomic_u64 ring_off;
	atomic_u64 head;
	atomic_u64 tail;
	uint64_t maxsize;
	atomic_u32 puts;
	atomic_u32 gets;
	atomic_u32 join_word;
	atomic_u32 sleepers;
	atomic_u64 unfinished;
	atomic_u64 credit;
	atomic_u64 ledger[]; /* a->nprocs entries (kind.per_proc) */
};

static inline struct queue_body *body(struct shmc__obj *o)
{
	return SHMC__BODY(o, struct queue_body);
}

static inline bool is_queue_kind(unsigned k)
{
	return k == SHMC_KIND_QUEUE || k == SHMC_KIND_JOINABLE_QUEUE;
}

static struct ring *ring_of(shmc_arena_t *a, struct queue_body *b)
{
	uint64_t off = ld_acquire(&b->ring_off);
	if (off == 0)
		return NULL;
	struct ring *r = shmc__at(a, off, sizeof(struct ring), 16);
	if (r == NULL || r->magic != RING_MAGIC || r->cap == 0 || (r->cap & (r->cap - 1)) ||
	    r->cap > (a->capacity - off - sizeof(*r)) / sizeof(uint64_t))
		return NULL;
	return r;
}

/* The queued items are consistent with the ring. */
static bool ring_sound(shmc_arena_t *a, struct queue_body *b, uint64_t head, uint64_t tail)
{
	if (tail < head)
		return false;
	struct ring *r = ring_of(a, b);
	if (r == NULL)
		return ld_relaxed(&b->ring_off) == 0 && tail == head;
	return tail - head <= r->cap;
}

/* Joiners ------------------------------------------------------------------- */

/* The count of unfinished tasks reached 0 (lock held): bump join_word,
 * clearing its sleepers bit. @return whether someone may be asleep */
static bool tasks_done_locked(struct queue_body *b)
{
	uint32_t w = ld_relaxed(&b->join_word);
	/* Seq_cst, with the store of unfinished before it and the joiner's
	 * compare-and-swap then load in join(): one of the two sides sees
	 * the other (Dekker). */
	while (!atomic_compare_exchange_weak(&b->join_word, &w, (w + 2) & ~1u))
		;
	return w & 1;
}

static void wake_joiners(struct queue_body *b)
{
	shmc__futex_wake(&b->join_word, INT_MAX);
}

/* What dead processes leave (lock held) ----------------------------------- */

struct dead {
	struct queue_body *b;
	bool joinable;
	bool done; /* unfinished reached 0 */
};

static void dead_fn(void *ctx, uint64_t held, uint32_t waiting)
{
	struct dead *d = ctx;
	struct queue_body *b = d->b;
	uint32_t s = ld_relaxed(&b->sleepers);
	st_relaxed(&b->sleepers, s > waiting ? s - waiting : 0);
	if (!d->joinable || held == 0)
		return;
	/* Its tasks count as done. Some of them may already have been
	 * matched by task_done() calls that ran ahead (credit): those are
	 * not counted twice. */
	uint64_t u = ld_relaxed(&b->unfinished), dec = held < u ? held : u;
	uint64_t c = ld_relaxed(&b->credit), over = held - dec;
	st_relaxed(&b->credit, c > over ? c - over : 0);
	atomic_store(&b->unfinished, u - dec);
	if (u && u == dec)
		d->done = tasks_done_locked(b) || d->done;
}

/* Recompute what is derived (lock held). */
static void recount_locked(shmc_arena_t *a, struct shmc__obj *o)
{
	struct queue_body *b = body(o);
	uint64_t held, waiting, head = ld_relaxed(&b->head), tail = ld_relaxed(&b->tail);
	shmc__ledger_sums(a, b->ledger, &held, &waiting);
	st_relaxed(&b->sleepers, (uint32_t)(waiting > UINT32_MAX ? UINT32_MAX : waiting));
	if (o->kind != SHMC_KIND_JOINABLE_QUEUE)
		return;
	uint64_t have = tail - head + held, c = ld_relaxed(&b->credit);
	if (c > have)
		st_relaxed(&b->credit, c = have);
	atomic_store(&b->unfinished, have - c);
}

static int repair(shmc_arena_t *a, struct shmc__obj *o)
{
	struct queue_body *b = body(o);
	if (!ring_sound(a, b, ld_relaxed(&b->head), ld_relaxed(&b->tail)))
		return SHMC_ECORRUPT;
	recount_locked(a, o);
	/* Sleepers may have missed a wake-up: their naps end soon. */
	return 0;
}

/* Room for one more item (lock held): a first ring, or one twice as large.
 * @return 0, SHMC_EFULL */
static int make_room_locked(shmc_arena_t *a, struct queue_body *b, uint64_t head,
			    uint64_t tail)
{
	struct ring *r = ring_of(a, b);
	if (r && tail - head < r->cap)
		return 0;
	if (r && tail - head > r->cap) /* more items than the ring holds: scribbled */
		return SHMC_ECORRUPT;
	uint64_t cap = r ? 2 * r->cap : RING_MIN, off;
	if (cap > (SHMC__MAX_BLOCK - sizeof(struct ring)) / sizeof(uint64_t))
		return SHMC_EFULL;
	int rc = shmc__alloc(a, sizeof(struct ring) + cap * sizeof(uint64_t), &off);
	if (rc)
		return rc;
	struct ring *n = (struct ring *)(a->base + off);
	n->magic = RING_MAGIC;
	n->cap = cap;
	for (uint64_t i = head; r && i != tail; i++)
		st_relaxed(&n->item[i & (cap - 1)], ld_relaxed(&r->item[i & (r->cap - 1)]));
	uint64_t old = ld_relaxed(&b->ring_off);
	st_release(&b->ring_off, off); /* the ring is complete before it is seen */
	if (old)
		shmc__free(a, old); /* read only under the lock */
	return 0;
}

/* Lock the queue and settle this process's ledger entry; with PROBE, reap
 * every dead process's. */
static int lock_queue(shmc_arena_t *a, struct shmc__obj *o, bool probe, struct dead *d,
		      atomic_u64 **mine)
{
	int rc = shmc__obj_lock(a, o);
	if (rc)
		return rc;
	d->b = body(o);
	d->joinable = o->kind == SHMC_KIND_JOINABLE_QUEUE;
	d->done = false;
	*mine = shmc__ledger_mine_locked(a, d->b->ledger, dead_fn, d);
	if (probe)
		shmc__ledger_reap_locked(a, d->b->ledger, dead_fn, d);
	return 0;
}

static void unlock_queue(shmc_arena_t *a, struct shmc__obj *o, struct dead *d)
{
	shmc__obj_unlock(a, o);
	if (d->done)
		wake_joiners(d->b);
}

/* put / get ------------------------------------------------------------------- */

/* Whether the queue looks full (no lock: a hint). */
static bool looks_full(struct queue_body *b)
{
	uint64_t head = ld_acquire(&b->head), tail = ld_acquire(&b->tail);
	return b->maxsize && tail - head >= b->maxsize;
}

/* put and get wait through the one waiter (waiter.c). */
struct xfer {
	shmc_arena_t *a;
	struct shmc__obj *o;
	struct queue_body *b;
	struct dead d;
	shmc_value_t v;    /* put: the value */
	uint64_t w;        /* put: its word, once encoded; get: the item's */
	bool have;         /* put: W is encoded and ours to drop */
	bool encode_failed; /* put: encoding under the lock failed */
	shmc_value_t *out; /* get */
};

static int xfer_lock(void *ctx, bool probe, atomic_u64 **mine)
{
	struct xfer *x = ctx;
	return lock_queue(x->a, x->o, probe, &x->d, mine);
}

static void xfer_park(void *ctx, uint32_t *seen)
{
	struct xfer *x = ctx;
	/* A putter sleeps until a get, a getter until a put. */
	*seen = ld_relaxed(x->out ? &x->b->puts : &x->b->gets);
	unlock_queue(x->a, x->o, &x->d);
	if (x->have) { /* full after all: let go of the block while we wait */
		shmc__word_drop(x->a, x->w);
		x->have = false;
	}
}

/* The value is encoded (allocated) outside the lock when there looks to be
 * room, under it when room appeared meanwhile, and never held while
 * sleeping: a putter killed while it waits leaks nothing. */
static int put_lock(void *ctx, bool probe, atomic_u64 **mine)
{
	struct xfer *x = ctx;
	if (!x->have && !looks_full(x->b)) {
		int rc = shmc__word_store(x->a, x->v, &x->w);
		if (rc)
			return rc;
		x->have = true;
	}
	return xfer_lock(ctx, probe, mine);
}

static int put_attempt(void *ctx, atomic_u64 *mine, bool expired)
{
	struct xfer *x = ctx;
	struct queue_body *b = x->b;
	(void)mine;
	uint64_t head = ld_relaxed(&b->head), tail = ld_relaxed(&b->tail);
	bool room = b->maxsize == 0 || tail - head < b->maxsize;
	if (room && !x->have) {
		int rc = shmc__word_store(x->a, x->v, &x->w);
		if (rc) {
			x->encode_failed = true;
			return rc;
		}
		x->have = true;
	}
	if (!room && !expired)
		return -EAGAIN;
	int rc = room ? make_room_locked(x->a, b, head, tail) : SHMC_EQUEUEFULL;
	if (rc == 0) {
		struct ring *r = ring_of(x->a, b);
		st_relaxed(&r->item[tail & (r->cap - 1)], x->w);
		/* Release: the item is written before it is published (pairs
		 * with qsize's and the walk's acquire loads). */
		st_release(&b->tail, tail + 1);
		x->have = false; /* the queue's now */
		if (x->d.joinable)
			atomic_store(&b->unfinished, ld_relaxed(&b->unfinished) + 1);
		st_relaxed(&b->puts, ld_relaxed(&b->puts) + 1);
	}
	return rc;
}

static int put_leave(void *ctx, atomic_u64 *mine, int rc)
{
	struct xfer *x = ctx;
	struct queue_body *b = x->b;
	(void)mine;
	/* After a put, one getter; after a timeout with room left, the putter
	 * a wake-up may have been meant for. */
	bool wake = !x->encode_failed && ld_relaxed(&b->sleepers) > 0 &&
		    (rc == 0 || (b->maxsize && ld_relaxed(&b->tail) - ld_relaxed(&b->head) <
						       b->maxsize));
	unlock_queue(x->a, x->o, &x->d);
	if (wake)
		shmc__futex_wake(rc == 0 ? &b->puts : &b->gets, 1);
	return rc;
}

static int queue_put(shmc_arena_t *a, struct shmc__obj *o, shmc_value_t v, int64_t deadline)
{
	struct xfer x = {.a = a, .o = o, .b = body(o), .v = v};
	const struct shmc__waiter w = {
		.a = a,
		.ledger = x.b->ledger,
		.sleepers = &x.b->sleepers,
		.word = &x.b->gets,
		.lock = put_lock,
		.attempt = put_attempt,
		.leave = put_leave,
		.park = xfer_park,
	};
	int rc = shmc__waiter_run(&w, &x, deadline);
	if (x.have)
		shmc__word_drop(a, x.w);
	return rc;
}

static int get_attempt(void *ctx, atomic_u64 *mine, bool expired)
{
	struct xfer *x = ctx;
	struct queue_body *b = x->b;
	uint64_t head = ld_relaxed(&b->head), tail = ld_relaxed(&b->tail);
	bool any = tail != head;
	if (!any)
		return expired ? SHMC_EQUEUEEMPTY : -EAGAIN;
	struct ring *r = ring_of(x->a, b);
	if (r == NULL)
		return SHMC_ECORRUPT;
	x->w = ld_relaxed(&r->item[head & (r->cap - 1)]);
	/* Decoded first: failing here changes nothing (*out included). */
	shmc_value_t v;
	int rc = shmc__word_load(x->a, x->w, &v);
	if (rc)
		return rc;
	uint64_t e = ld_relaxed(mine);
	if (x->d.joinable && shmc__led_held(e) == SHMC__LEDGER_HELD_MASK) {
		shmc_value_free(&v);
		return -EOVERFLOW;
	}
	*x->out = v;
	/* One store takes the item. */
	st_release(&b->head, head + 1);
	if (x->d.joinable)
		shmc__led_put(mine, shmc__ledger_gen(x->a), shmc__led_waiting(e),
			      shmc__led_held(e) + 1);
	st_relaxed(&b->gets, ld_relaxed(&b->gets) + 1);
	if (head + 1 == tail && r->cap > RING_SHRINK) {
		st_release(&b->ring_off, 0);
		shmc__free(x->a, shmc__off(x->a, r));
	}
	return 0;
}

static int get_leave(void *ctx, atomic_u64 *mine, int rc)
{
	struct xfer *x = ctx;
	struct queue_body *b = x->b;
	(void)mine;
	/* After a get, one putter of a bounded queue; after a timeout with
	 * items left, a getter. */
	bool wake = ld_relaxed(&b->sleepers) > 0 &&
		    (rc == 0 ? b->maxsize != 0 : ld_relaxed(&b->tail) != ld_relaxed(&b->head));
	unlock_queue(x->a, x->o, &x->d);
	if (wake)
		shmc__futex_wake(rc == 0 ? &b->gets : &b->puts, 1);
	if (rc == 0)
		shmc__word_drop(x->a, x->w);
	return rc;
}

static int queue_get(shmc_arena_t *a, struct shmc__obj *o, int64_t deadline,
		     shmc_value_t *out)
{
	struct xfer x = {.a = a, .o = o, .b = body(o), .out = out};
	const struct shmc__waiter w = {
		.a = a,
		.ledger = x.b->ledger,
		.sleepers = &x.b->sleepers,
		.word = &x.b->puts,
		.lock = xfer_lock,
		.attempt = get_attempt,
		.leave = get_leave,
		.park = xfer_park,
	};
	return shmc__waiter_run(&w, &x, deadline);
}

static int task_done(shmc_arena_t *a, struct shmc__obj *o)
{
	struct queue_body *b = body(o);
	struct dead d;
	atomic_u64 *mine;
	int rc = lock_queue(a, o, false, &d, &mine);
	if (rc)
		return rc;
	uint64_t u = ld_relaxed(&b->unfinished);
	if (u == 0) {
		unlock_queue(a, o, &d);
		return SHMC_ENOTASK;
	}
	uint64_t e = ld_relaxed(mine);
	if (shmc__led_held(e)) {
		shmc__led_put(mine, shmc__ledger_gen(a), shmc__led_waiting(e),
			      shmc__led_held(e) - 1);
	} else {
		/* Another process's task (Python does not say whose), the
		 * lowest slot first; or one not taken yet. */
		uint32_t s;
		for (s = 0; s < a->nprocs; s++) {
			uint64_t x = ld_relaxed(&b->ledger[s]);
			if (shmc__led_held(x)) {
				shmc__led_put(&b->ledger[s], shmc__led_gen(x),
					      shmc__led_waiting(x), shmc__led_held(x) - 1);
				break;
			}
		}
		if (s == a->nprocs)
			st_relaxed(&b->credit, ld_relaxed(&b->credit) + 1);
	}
	atomic_store(&b->unfinished, u - 1);
	if (u == 1)
		d.done = tasks_done_locked(b) || d.done;
	unlock_queue(a, o, &d);
	return 0;
}

static int join(shmc_arena_t *a, struct shmc__obj *o, int64_t deadline)
{
	struct queue_body *b = body(o);
	for (;;) {
		uint32_t jw = atomic_load(&b->join_word);
		if (atomic_load(&b->unfinished) == 0)
			return 0;
		if (shmc__expired(deadline))
			return -ETIMEDOUT;
		if (!(jw & 1)) {
			if (!atomic_compare_exchange_strong(&b->join_word, &jw, jw | 1))
				continue;
			jw |= 1;
			/* Seq_cst, after our mark: see tasks_done_locked(). */
			if (atomic_load(&b->unfinished) == 0)
				return 0;
		}
		if (shmc__nap(&b->join_word, jw, deadline) == -ETIMEDOUT &&
		    shmc__ledger_has_dead(a, b->ledger)) {
			struct dead d;
			atomic_u64 *mine;
			int rc = lock_queue(a, o, true, &d, &mine);
			if (rc)
				return rc;
			unlock_queue(a, o, &d);
		}
	}
}

/* Kind functions ------------------------------------------------------------ */

static void destroy(shmc_arena_t *a, struct shmc__obj *o)
{
	struct queue_body *b = body(o);
	struct ring *r = ring_of(a, b);
	if (r == NULL)
		return;
	uint64_t head = ld_relaxed(&b->head), tail = ld_relaxed(&b->tail);
	if (tail - head <= r->cap)
		for (uint64_t i = head; i != tail; i++)
			shmc__word_drop(a, ld_relaxed(&r->item[i & (r->cap - 1)]));
	shmc__free(a, shmc__off(a, r));
}

static void walk(struct shmc__walk *w, struct shmc__obj *o)
{
	shmc_arena_t *a = shmc__walk_arena(w);
	struct queue_body *b = body(o);
	uint64_t head = ld_acquire(&b->head), tail = ld_acquire(&b->tail);
	uint64_t off = ld_acquire(&b->ring_off);
	if (!ring_sound(a, b, head, tail)) {
		shmc__walk_error(w, "queue %#llx: items [%llu, %llu) in ring %#llx",
				 (unsigned long long)shmc__off(a, o),
				 (unsigned long long)head, (unsigned long long)tail,
				 (unsigned long long)off);
		return;
	}
	if (b->maxsize && tail - head > b->maxsize)
		shmc__walk_error(w, "queue %#llx: %llu items, maxsize %llu",
				 (unsigned long long)shmc__off(a, o),
				 (unsigned long long)(tail - head),
				 (unsigned long long)b->maxsize);
	uint64_t held, waiting;
	shmc__ledger_sums(a, b->ledger, &held, &waiting);
	if (ld_relaxed(&b->credit) > tail - head + held)
		shmc__walk_error(w, "queue %#llx: %llu tasks done ahead of %llu",
				 (unsigned long long)shmc__off(a, o),
				 (unsigned long long)ld_relaxed(&b->credit),
				 (unsigned long long)(tail - head + held));
	struct ring *r = ring_of(a, b);
	if (r == NULL)
		return;
	if (!shmc__walk_block(w, off, sizeof(*r) + r->cap * sizeof(uint64_t), "queue ring"))
		return;
	for (uint64_t i = head; i != tail; i++)
		shmc__walk_word(w, ld_acquire(&r->item[i & (r->cap - 1)]), "queued item");
}

static int queue_str(shmc_obj_t *h, char **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, 0, &o);
	if (rc)
		return rc;
	char buf[64];
	snprintf(buf, sizeof(buf), "<queue.Queue object at %p>", (void *)body(o));
	struct shmc__sbuf sb = {0};
	shmc__sb_puts(&sb, buf);
	return shmc__sb_finish(&sb, out);
}

const struct shmc__kind shmc__queue_kind = {
	.typeid = "Queue",
	.proxy = "AutoProxy[Queue]",
	.body_size = sizeof(struct queue_body),
	.per_proc = sizeof(atomic_u64),
	.destroy = destroy,
	.repair = repair,
	.str = queue_str,
	.walk = walk,
};

const struct shmc__kind shmc__joinable_queue_kind = {
	.typeid = "JoinableQueue",
	.proxy = "AutoProxy[JoinableQueue]",
	.body_size = sizeof(struct queue_body),
	.per_proc = sizeof(atomic_u64),
	.destroy = destroy,
	.repair = repair,
	.str = queue_str,
	.walk = walk,
};

/* Public API -------------------------------------------------------------- */

static int queue_new(shmc_arena_t *a, unsigned kind, int64_t maxsize, shmc_obj_t **out)
{
	if (!shmc__arena_ok(a) || out == NULL)
		return SHMC_EHANDLE;
	shmc_obj_t *h;
	int rc = shmc__obj_create(a, kind, &h);
	if (rc)
		return rc;
	body(shmc__obj_of(h))->maxsize =
		maxsize > 0 ? (uint64_t)maxsize : 0;
	atomic_thread_fence(memory_order_release); /* before the handle is shared */
	*out = h;
	return 0;
}

int shmc_queue_new(shmc_arena_t *a, int64_t maxsize, shmc_obj_t **out)
{
	return queue_new(a, SHMC_KIND_QUEUE, maxsize, out);
}

int shmc_joinable_queue_new(shmc_arena_t *a, int64_t maxsize, shmc_obj_t **out)
{
	return queue_new(a, SHMC_KIND_JOINABLE_QUEUE, maxsize, out);
}

static int resolve_queue(shmc_obj_t *h, struct shmc__obj **o)
{
	int rc = shmc__resolve(h, 0, o);
	if (rc == 0 && !is_queue_kind((*o)->kind))
		rc = SHMC_EKIND;
	return rc;
}

int shmc_queue_put(shmc_obj_t *h, shmc_value_t v, double timeout)
{
	struct shmc__obj *o;
	int64_t deadline;
	int rc = resolve_queue(h, &o);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	return queue_put(shmc__handle_arena(h), o, v, deadline);
}

int shmc_queue_put_nowait(shmc_obj_t *h, shmc_value_t v)
{
	return shmc_queue_put(h, v, SHMC_NOWAIT);
}

int shmc_queue_get(shmc_obj_t *h, double timeout, shmc_value_t *out)
{
	struct shmc__obj *o;
	int64_t deadline;
	int rc = resolve_queue(h, &o);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	if (out == NULL)
		return -EINVAL;
	return queue_get(shmc__handle_arena(h), o, deadline, out);
}

int shmc_queue_get_nowait(shmc_obj_t *h, shmc_value_t *out)
{
	return shmc_queue_get(h, SHMC_NOWAIT, out);
}

int64_t shmc_queue_qsize(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = resolve_queue(h, &o);
	if (rc)
		return rc;
	/* head first: tail, read after, is at least that. */
	uint64_t head = ld_acquire(&body(o)->head), tail = ld_acquire(&body(o)->tail);
	return tail > head ? (int64_t)(tail - head) : 0;
}

int shmc_queue_empty(shmc_obj_t *h)
{
	int64_t n = shmc_queue_qsize(h);
	return n < 0 ? (int)n : n == 0;
}

int shmc_queue_full(shmc_obj_t *h)
{
	int64_t n = shmc_queue_qsize(h);
	if (n < 0)
		return (int)n;
	uint64_t max = body(shmc__obj_of(h))->maxsize;
	return max != 0 && (uint64_t)n >= max;
}

int shmc_queue_task_done(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_JOINABLE_QUEUE, &o);
	return rc ? rc : task_done(shmc__handle_arena(h), o);
}

int shmc_queue_join(shmc_obj_t *h, double timeout)
{
	struct shmc__obj *o;
	int64_t deadline;
	int rc = shmc__resolve(h, SHMC_KIND_JOINABLE_QUEUE, &o);
	if (rc || (rc = shmc__deadline(timeout, &deadline)) != 0)
		return rc;
	return join(shmc__handle_arena(h), o, deadline);
}

int64_t shmc__queue_sleepers(shmc_obj_t *h)
{
	struct shmc__obj *o;
	int rc = resolve_queue(h, &o);
	return rc ? rc : (int64_t)ld_relaxed(&body(o)->sleepers);
}

/* Snapshot (lifecycle/save.c) --------------------------------------------- */

int shmc__queue_snapshot(shmc_obj_t *h, int64_t *maxsize, shmc_value_t *out)
{
	struct shmc__obj *o;
	int rc = resolve_queue(h, &o);
	if (rc)
		return rc;
	shmc_arena_t *a = shmc__handle_arena(h);
	struct queue_body *b = body(o);
	shmc_value_t items = shmc_plist_of(0);
	if (items.type == SHMC_ERROR)
		return (int)items.i;
	/* Under the owner lock no put or get runs, and a get frees its item
	 * only after it unlocked, having taken it out of [head, tail) first:
	 * every word read here is owned by the queue until we unlock. */
	if ((rc = shmc__obj_lock(a, o)) != 0) {
		shmc_value_free(&items);
		return rc;
	}
	uint64_t head = ld_relaxed(&b->head), tail = ld_relaxed(&b->tail);
	struct ring *r = ring_of(a, b);
	if (!ring_sound(a, b, head, tail))
		rc = SHMC_ECORRUPT;
	for (uint64_t i = head; rc == 0 && r && i != tail; i++) {
		shmc_value_t v;
		rc = shmc__word_load(a, ld_relaxed(&r->item[i & (r->cap - 1)]), &v);
		if (rc == 0)
			rc = shmc_plist_append(&items, v);
	}
	uint64_t max = b->maxsize;
	shmc__obj_unlock(a, o);
	if (rc == 0 && max > INT64_MAX)
		rc = SHMC_ECORRUPT;
	if (rc) {
		shmc_value_free(&items);
		return rc;
	}
	*maxsize = (int64_t)max;
	*out = items;
	return 0;
}
