/*
 * baction.c -- the actions of barriers, remembered per process.
 *
 * Python's Barrier(parties, action) runs ACTION, a callable, in the party
 * that trips it. Here the action is a C function pointer and its context:
 * process-local values, which must never enter the arena. The arena
 * records only that a barrier has an action (barrier.c); each process
 * keeps, in this table, the function it runs for each barrier when it is
 * the one to trip it. The creator registers it (shmc_barrier_new_ex);
 * forked children inherit the table with the rest of their parent's
 * memory, so in them the same function runs; an unrelated process
 * registers its own (shmc_barrier_set_action).
 *
 * An entry names its barrier by the attachment (its serial, unique in the
 * process), the object's offset and its serial number in the arena: a
 * later object at the same offset has another number, so a stale entry
 * never matches it. Entries are dropped when this process destroys the
 * barrier; one another process destroyed stays until the table is pruned
 * of dead entries on insertion.
 *
 * A mutex guards the table; fork handlers keep it consistent in the child.
 */
#include <errno.h>
#include <pthread.h>

#include "base/heap.h"
#include "sync/baction.h"

struct entry {
	uint64_t serial, off, id;
	shmc_barrier_action_fn fn;
	void *ctx;
};

static struct {
	struct entry *e;
	size_t n, cap;
} table;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
	pthread_mutex_lock(&mu);
}

static void after_fork(void)
{
	pthread_mutex_unlock(&mu);
}

static void install(void)
{
	pthread_atfork(before_fork, after_fork, after_fork);
}

static void lock(void)
{
	pthread_once(&once, install);
	pthread_mutex_lock(&mu);
}

static struct entry *find_locked(uint64_t serial, uint64_t off, uint64_t id)
{
	for (size_t i = 0; i < table.n; i++)
		if (table.e[i].serial == serial && table.e[i].off == off && table.e[i].id == id)
			return &table.e[i];
	return NULL;
}

static void remove_locked(struct entry *e)
{
	*e = table.e[--table.n];
}

/* Whether entry E still names a live object of arena A (of serial
 * A->serial): the same object serial number at its offset. */
static bool alive(shmc_arena_t *a, const struct entry *e)
{
	struct shmc__obj *o = shmc__at(a, e->off, sizeof(*o), 16);
	return o && o->magic == SHMC__OBJ_MAGIC && o->id == e->id;
}

int shmc__baction_set(shmc_arena_t *a, struct shmc__obj *o, shmc_barrier_action_fn fn,
		      void *ctx)
{
	uint64_t off = shmc__off(a, o);
	int rc = 0;
	lock();
	struct entry *e = find_locked(a->serial, off, o->id);
	if (e == NULL) {
		/* Make room, dropping entries of this arena whose barrier is
		 * gone (destroyed by another process). */
		for (size_t i = 0; i < table.n;)
			if (table.e[i].serial == a->serial && !alive(a, &table.e[i]))
				remove_locked(&table.e[i]);
			else
				i++;
		if (table.n == table.cap) {
			size_t ncap = table.cap ? 2 * table.cap : 8;
			struct entry *ne = shmc__heap_realloc(table.e, ncap * sizeof(*ne));
			if (ne == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			table.e = ne;
			table.cap = ncap;
		}
		e = &table.e[table.n++];
		*e = (struct entry){a->serial, off, o->id, NULL, NULL};
	}
	e->fn = fn;
	e->ctx = ctx;
out:
	pthread_mutex_unlock(&mu);
	return rc;
}

bool shmc__baction_get(shmc_arena_t *a, struct shmc__obj *o, shmc_barrier_action_fn *fn,
		       void **ctx)
{
	lock();
	struct entry *e = find_locked(a->serial, shmc__off(a, o), o->id);
	if (e) {
		*fn = e->fn;
		*ctx = e->ctx;
	}
	pthread_mutex_unlock(&mu);
	return e != NULL;
}

void shmc__baction_forget(shmc_arena_t *a, struct shmc__obj *o)
{
	lock();
	struct entry *e = find_locked(a->serial, shmc__off(a, o), o->id);
	if (e)
		remove_locked(e);
	pthread_mutex_unlock(&mu);
}
