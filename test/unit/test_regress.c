/*
 * test_regress.c -- bugs found in review, each with the test that failed
 * before its fix: shmc_queue_get writing *out on -EOVERFLOW; a condition
 * waiter that cannot take the condition's lock again leaving its cell
 * behind; posix_fallocate errors passed through; a value block nested too
 * deep read as sound.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>

#include "sync/sync.h"
#include "values/venc.h"
#define SHMC_TEST_WHITEBOX
#include "testutil.h"

TestSuite(regress, .timeout = 60);

/* shmc_queue_get on a JoinableQueue of which this process holds 2^32 - 1
 * tasks not yet done: -EOVERFLOW, and *out as it was. */
Test(regress, queue_get_leaves_out_alone_on_eoverflow, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *q;
	ASSERT_OK(shmc_joinable_queue_new(A, 0, &q));
	ASSERT_OK(shmc_queue_put(q, shmc_str("item"), SHMC_NOWAIT));
	/* The ledger follows the body (kind.per_proc): our entry, full. */
	const struct shmc__kind *k = shmc__kind_of(SHMC_KIND_JOINABLE_QUEUE);
	cr_assert_eq(k->per_proc, sizeof(atomic_u64));
	cr_assert_eq(k->body_size % sizeof(atomic_u64), 0);
	atomic_u64 *ledger = (atomic_u64 *)((char *)shmc__obj_of(q) + sizeof(struct shmc__obj) +
					    k->body_size);
	atomic_u64 *mine = &ledger[A->slot];
	atomic_store(mine, shmc__led_make(shmc__ledger_gen(A), 0, SHMC__LEDGER_HELD_MASK));
	shmc_value_t out = shmc_int(42);
	ASSERT_ERR(shmc_queue_get(q, SHMC_NOWAIT, &out), -EOVERFLOW);
	cr_assert_eq(out.type, SHMC_INT, "*out was written: type %d", out.type);
	cr_assert_eq(out.i, 42);
	cr_assert_eq(shmc_queue_qsize(q), 1, "the item stays queued");
	/* Back to a sane count, the same get works. */
	atomic_store(mine, 0);
	ASSERT_OK(shmc_queue_get(q, SHMC_NOWAIT, &out));
	cr_assert_eq(out.type, SHMC_STR);
	shmc_value_free(&out);
	ASSERT_OK(shmc_queue_task_done(q));
	ASSERT_OK(shmc_queue_join(q, SHMC_NOWAIT));
	shmc_obj_release(q);
}

/* A waiter whose condition breaks while it sleeps (its lock cannot be
 * taken again: SHMC_ECORRUPT) cannot unlink its cell; it leaves it
 * ABANDONED, and the next holder of the lock frees it instead of
 * notifying it. */
struct breaker {
	shmc_obj_t *cond;
	struct shmc__obj *o;
};

static void *break_when_waiting(void *p)
{
	struct breaker *b = p;
	double end = now_s() + TEST_DEADLINE;
	for (;;) {
		char *s = obj_str(b->cond);
		bool waiting = strstr(s, ", 1)>") != NULL;
		shmc_free(s);
		if (waiting || now_s() > end)
			break;
		usleep(200); /* a poll interval */
	}
	atomic_fetch_or(&b->o->flags, SHMC__OBJ_BROKEN);
	return NULL;
}

Test(regress, a_waiter_that_cannot_relock_leaves_no_cell_behind, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *c;
	ASSERT_OK(shmc_condition_new(A, NULL, &c));
	struct breaker b = {c, shmc__obj_of(c)};
	ASSERT_OK(shmc_condition_acquire(c, SHMC_NOWAIT));
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, break_when_waiting, &b), 0);
	/* Times out (nobody notifies), then finds the condition broken. */
	ASSERT_ERR(shmc_condition_wait(c, 0.3), SHMC_ECORRUPT);
	pthread_join(t, NULL);
	/* Say the condition mends (a repair that succeeds later): the cell
	 * left behind must not take a notification, and must be freed. */
	atomic_fetch_and(&b.o->flags, (unsigned short)~SHMC__OBJ_BROKEN);
	ASSERT_ERR(shmc_condition_notify(c, 1), 0);
	char *s = obj_str(c);
	cr_assert(strstr(s, ", 0)>"), "%s", s);
	shmc_free(s);
	ASSERT_OK(shmc_condition_release(c));
	shmc_obj_release(c); /* the fixture checks the cell was freed */
}

/* Whatever stops posix_fallocate is SHMC_EFULL: the caller cannot have
 * the memory, whatever the reason. */
Test(regress, fallocate_failures_are_efull)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	ASSERT_ERR(shmc__arena_reserve(p[0], 0, 4096), SHMC_EFULL); /* ESPIPE */
	close(p[0]);
	close(p[1]);
	int fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 0);
	ASSERT_ERR(shmc__arena_reserve(fd, 0, 4096), SHMC_EFULL); /* EBADF/ENODEV */
	close(fd);
	ASSERT_OK(shmc__arena_reserve(-1, 0, 0)); /* nothing to reserve */
}

/* A value block nesting 513 containers was never stored by shmc: reading
 * it is SHMC_ECORRUPT, it equals nothing, and the check's visit calls it
 * malformed; 512 is sound. */
static uint64_t craft(shmc_arena_t *a, int depth)
{
	uint64_t len = (uint64_t)depth * 9 + 9, off;
	ASSERT_OK(shmc__alloc(a, sizeof(struct shmc__vblock) + len, &off));
	struct shmc__vblock *b = (struct shmc__vblock *)(a->base + off);
	b->magic = SHMC__VBLOCK_MAGIC;
	b->nrefs = 0;
	b->len = len;
	unsigned char *p = b->data;
	for (int i = 0; i < depth; i++) {
		uint64_t one = 1;
		*p++ = SHMC__T_LIST;
		memcpy(p, &one, 8);
		p += 8;
	}
	int64_t v = 1;
	*p++ = SHMC__T_INT;
	memcpy(p, &v, 8);
	return off;
}

Test(regress, a_block_nested_too_deep_is_corrupt, .init = arena_setup,
     .fini = arena_teardown)
{
	uint64_t ok = craft(A, 512), deep = craft(A, 513);
	shmc_value_t v, probe = shmc_int(1);
	for (int i = 0; i < 512; i++)
		probe = shmc_plist_of(1, probe);
	struct shmc__rec *r = shmc__epoch_rec(A);
	shmc__epoch_enter(A, r);
	ASSERT_OK(shmc__word_load(A, ok, &v));
	cr_assert(shmc_value_eq(v, probe));
	cr_assert(shmc__word_eq(A, ok, probe));
	shmc_value_free(&v);
	ASSERT_ERR(shmc__word_load(A, deep, &v), SHMC_ECORRUPT);
	probe = shmc_plist_of(1, probe);
	cr_assert_not(shmc__word_eq(A, deep, probe));
	shmc__epoch_exit(r);
	uint64_t size;
	cr_assert(shmc__vblock_visit(A, ok, &size, NULL, NULL));
	cr_assert_not(shmc__vblock_visit(A, deep, &size, NULL, NULL));
	shmc_value_free(&probe);
	shmc__free(A, ok);
	shmc__free(A, deep);
}

/* A write on an object marked broken (a repair failed) whose lock is free
 * is SHMC_ECORRUPT at once: the fast path took the lock, saw the mark and
 * then waited for itself. */
Test(regress, a_write_on_a_broken_object_is_ecorrupt_not_a_hang, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	struct shmc__obj *o = shmc__obj_of(ls);
	atomic_fetch_or(&o->flags, SHMC__OBJ_BROKEN);
	ASSERT_ERR(shmc_list_append(ls, shmc_int(1)), SHMC_ECORRUPT);
	ASSERT_ERR(shmc_list_append(ls, shmc_int(1)), SHMC_ECORRUPT);
	cr_assert_eq(atomic_load(&o->lock.word), 0, "the lock was left held");
	atomic_fetch_and(&o->flags, (unsigned short)~SHMC__OBJ_BROKEN);
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	shmc_obj_release(ls);
}
