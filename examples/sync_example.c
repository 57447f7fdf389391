/*
 * sync_example.c -- test/expected/sync_example.py, in C.
 *
 * A Lock, a Queue and a Value shared with a forked child: the child counts
 * under the lock and sends what it saw through the queue, then a None to
 * say it is done. Prints what Python prints (but for the addresses in the
 * proxy forms).
 */
#include <shmc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(call)                                                            \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ < 0) {                                                 \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__,  \
				#call, shmc_strerror(rc_));                    \
			exit(1);                                               \
		}                                                              \
	} while (0)

/* print(X): str() of a proxy or of a value, then a newline. */
static void print_str(const char *before, shmc_obj_t *o)
{
	char *s;
	CHECK(shmc_obj_str(o, &s));
	printf("%s%s\n", before, s);
	shmc_free(s);
}

static void print_repr(shmc_obj_t *o)
{
	char *s;
	CHECK(shmc_obj_repr(o, &s));
	printf("%s\n", s);
	shmc_free(s);
}

static void print_value(const char *before, shmc_value_t v)
{
	char *s;
	CHECK(shmc_value_str(v, &s));
	printf("%s%s\n", before, s);
	shmc_free(s);
}

static void worker(shmc_obj_t *lock, shmc_obj_t *queue, shmc_obj_t *counter, int n)
{
	for (int i = 0; i < n; i++) {
		shmc_value_t v;
		/* with lock: counter.value += 1; seen = counter.value */
		CHECK(shmc_lock_acquire(lock, SHMC_FOREVER));
		CHECK(shmc_cvalue_get(counter, &v));
		CHECK(shmc_cvalue_set(counter, shmc_int(v.i + 1)));
		CHECK(shmc_cvalue_get(counter, &v));
		CHECK(shmc_lock_release(lock));
		shmc_value_t item = shmc_tuple_of(3, shmc_str("item"), shmc_int(i), v);
		CHECK(shmc_queue_put(queue, item, SHMC_FOREVER));
		shmc_value_free(&item);
	}
	CHECK(shmc_queue_put(queue, shmc_none(), SHMC_FOREVER));
}

int main(void)
{
	shmc_arena_t *arena;
	shmc_obj_t *lock, *queue, *counter;
	CHECK(shmc_arena_create_anon(NULL, &arena));
	CHECK(shmc_lock_new(arena, &lock));
	CHECK(shmc_queue_new(arena, 0, &queue));
	CHECK(shmc_cvalue_new(arena, 'i', shmc_int(0), &counter));
	print_str("", lock);
	print_repr(lock);
	print_str("", queue);
	print_repr(queue);
	print_str("", counter);
	print_repr(counter);

	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		worker(lock, queue, counter, 3);
		_exit(0);
	}
	shmc_value_t items = shmc_plist_of(0);
	for (;;) {
		shmc_value_t item;
		CHECK(shmc_queue_get(queue, SHMC_FOREVER, &item));
		if (item.type == SHMC_NONE)
			break;
		CHECK(shmc_plist_append(&items, item));
	}
	int st;
	waitpid(pid, &st, 0);
	print_value("received ", items);
	shmc_value_free(&items);

	shmc_value_t v;
	CHECK(shmc_cvalue_get(counter, &v));
	printf("counter %lld ", (long long)v.i);
	print_str("", counter);
	CHECK(shmc_lock_acquire(lock, SHMC_FOREVER));
	print_str("inside ", lock);
	CHECK(shmc_lock_release(lock));
	print_str("after ", lock);
	printf("qsize %lld empty %s\n", (long long)shmc_queue_qsize(queue),
	       shmc_queue_empty(queue) ? "True" : "False");

	shmc_value_t x = shmc_plist_of(3, shmc_int(1), shmc_str("two"),
				       shmc_tuple_of(2, shmc_float(3.5), shmc_none()));
	CHECK(shmc_queue_put_nowait(queue, x));
	shmc_value_free(&x);
	CHECK(shmc_queue_get_nowait(queue, &x));
	print_value("get_nowait ", x);
	shmc_value_free(&x);
	if (shmc_queue_get(queue, 0.05, &x) == SHMC_EQUEUEEMPTY)
		printf("get timed out: Empty\n");

	CHECK(shmc_cvalue_get(counter, &v));
	CHECK(shmc_cvalue_set(counter, shmc_int(v.i * 10)));
	CHECK(shmc_cvalue_get(counter, &v));
	printf("counter %lld ", (long long)v.i);
	print_str("", counter);

	shmc_obj_release(lock);
	shmc_obj_release(queue);
	shmc_obj_release(counter);
	shmc_arena_close(arena);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
