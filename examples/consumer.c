/*
 * consumer.c -- takes the jobs a producer puts on a named Queue.
 *
 *   consumer NAME
 *
 * Opens the named arena NAME (waiting for the producer to create it), takes
 * jobs from the Queue named "jobs" until it gets None, and records each
 * result in the dict named "results" and a count in "status" -- with an
 * atomic add, so several consumers may run at once.
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
			fprintf(stderr, "consumer: %s: %s\n", #call,           \
				shmc_strerror(rc_));                           \
			exit(1);                                               \
		}                                                              \
	} while (0)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: consumer NAME\n");
		return 2;
	}
	const char *name = argv[1];
	shmc_arena_t *arena;
	shmc_obj_t *jobs, *results, *status;

	/* Wait up to 10 s for the producer to create the arena. */
	int rc;
	for (int tries = 0; (rc = shmc_arena_open(name, &arena)) == -ENOENT && tries < 1000;
	     tries++) {
		struct timespec nap = {0, 10000000L};
		nanosleep(&nap, NULL);
	}
	CHECK(rc);
	CHECK(shmc_root_find_or_create(arena, "jobs", SHMC_KIND_QUEUE, &jobs));
	CHECK(shmc_root_find_or_create(arena, "results", SHMC_KIND_DICT, &results));
	CHECK(shmc_root_find_or_create(arena, "status", SHMC_KIND_DICT, &status));
	long done = 0;
	for (;;) {
		shmc_value_t job;
		CHECK(shmc_queue_get(jobs, SHMC_FOREVER, &job));
		if (job.type == SHMC_NONE) {
			/* Pass the end on, for any other consumer. */
			CHECK(shmc_queue_put(jobs, job, SHMC_FOREVER));
			break;
		}
		int64_t n = shmc_seq_at(job, 0)->i;
		CHECK(shmc_dict_set(results, shmc_int(n), shmc_int(n * n)));
		/* status["consumed"] starts at 0 (if no other consumer set it),
		 * once a job shows that the producer has set up "produced". */
		if (done == 0)
			CHECK(shmc_dict_setdefault(status, shmc_str("consumed"), shmc_int(0), NULL));
		CHECK(shmc_dict_add(status, shmc_str("consumed"), shmc_int(1), NULL));
		shmc_value_free(&job);
		done++;
	}
	printf("consumer: took %ld jobs from %s\n", done, name);

	shmc_obj_release(jobs);
	shmc_obj_release(results);
	shmc_obj_release(status);
	shmc_arena_close(arena);
	return 0;
}
