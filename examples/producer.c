/*
 * producer.c -- puts jobs on a named Queue that an unrelated consumer takes.
 *
 *   producer NAME [COUNT [DELAY_MS]]
 *
 * Opens the named arena NAME (creating it if there is none), finds or
 * creates the Queue named "jobs" and the dict named "status", and puts COUNT
 * jobs, each a tuple (number, "job-number"), then None to say it is done.
 * Start it in one shell and examples/consumer in another; watch them with
 * tools/shmc-stat and tools/shmc-dump in a third.
 */
#include <errno.h>
#include <shmc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                            \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ < 0) {                                                 \
			fprintf(stderr, "producer: %s: %s\n", #call,           \
				shmc_strerror(rc_));                           \
			exit(1);                                               \
		}                                                              \
	} while (0)

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: producer NAME [COUNT [DELAY_MS]]\n");
		return 2;
	}
	const char *name = argv[1];
	long count = argc > 2 ? atol(argv[2]) : 100;
	long delay_ms = argc > 3 ? atol(argv[3]) : 10;
	shmc_arena_t *arena;
	shmc_obj_t *jobs, *status;

	/* Whoever comes first creates the arena; the other opens it. */
	int rc = shmc_arena_create(name, NULL, &arena);
	if (rc == -EEXIST)
		rc = shmc_arena_open(name, &arena);
	CHECK(rc);
	CHECK(shmc_root_find_or_create(arena, "jobs", SHMC_KIND_QUEUE, &jobs));
	CHECK(shmc_root_find_or_create(arena, "status", SHMC_KIND_DICT, &status));
	/* "produced" exists before the first job is put, so it comes first in
	 * status, ahead of the consumers' "consumed" (dicts keep insertion
	 * order). */
	CHECK(shmc_dict_setdefault(status, shmc_str("produced"), shmc_int(0), NULL));

	for (long i = 0; i < count; i++) {
		char text[32];
		snprintf(text, sizeof(text), "job-%ld", i);
		shmc_value_t job = shmc_tuple_of(2, shmc_int(i), shmc_str(text));
		CHECK(shmc_queue_put(jobs, job, SHMC_FOREVER));
		shmc_value_free(&job);
		CHECK(shmc_dict_set(status, shmc_str("produced"), shmc_int(i + 1)));
		struct timespec nap = {0, delay_ms * 1000000L};
		nanosleep(&nap, NULL);
	}
	CHECK(shmc_queue_put(jobs, shmc_none(), SHMC_FOREVER)); /* the end */
	printf("producer: put %ld jobs on %s\n", count, name);

	shmc_obj_release(jobs);
	shmc_obj_release(status);
	shmc_arena_close(arena);
	return 0;
}
