/*
 * helper_pool.c -- an UNRELATED process for the pool tests: started with
 * posix_spawn, it shares nothing with the test but an arena's name. It finds
 * the pool by name and submits tasks by the names the pool's creator
 * registered; a function pointer of its own must be refused.
 *
 * Usage (exit status: 0 ok, 2 usage, 3 open failed, 4 an operation failed):
 *   helper_pool NAME POOL N   open arena NAME, find POOL; print
 *                             "apply <sqr(N)>"
 *                             "map <map(sqr, range(N))>"
 *                             "imap <sum of imap_unordered(sqr, range(N))>"
 *                             "pointer <errname of apply with a pointer>"
 *                             "<str(pool)>"
 */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

static int mine(shmc_value_t arg, shmc_value_t *res, void *ctx)
{
	(void)arg, (void)ctx;
	*res = shmc_none();
	return 0;
}

#define TRY(call)                                                              \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ < 0) {                                                 \
			fprintf(stderr, "%s: %s\n", #call, shmc_errname(rc_)); \
			return 4;                                              \
		}                                                              \
	} while (0)

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	int64_t n = atoll(argv[3]);
	shmc_arena_t *a;
	shmc_obj_t *pool, *it;
	if (shmc_arena_open(argv[1], &a) != 0)
		return 3;
	TRY(shmc_root_find(a, argv[2], &pool));
	shmc_value_t v, items = shmc_plist_of(0);
	for (int64_t i = 0; i < n; i++)
		TRY(shmc_plist_append(&items, shmc_int(i)));
	TRY(shmc_pool_apply(pool, shmc_task_named("sqr"), shmc_int(n), &v));
	printf("apply %lld\n", (long long)v.i);
	TRY(shmc_pool_map(pool, shmc_task_named("sqr"), items, 0, &v));
	char *s;
	TRY(shmc_value_repr(v, &s));
	printf("map %s\n", s);
	shmc_free(s);
	shmc_value_free(&v);
	TRY(shmc_pool_imap_unordered(pool, shmc_task_named("sqr"), items, 2, &it));
	int64_t sum = 0;
	int rc;
	while ((rc = shmc_iterator_next(it, 30, &v)) == 1)
		sum += v.i;
	TRY(rc);
	printf("imap %lld\n", (long long)sum);
	shmc_obj_release(it);
	printf("pointer %s\n",
	       shmc_errname(shmc_pool_apply(pool, shmc_task(mine), shmc_none(), &v)));
	TRY(shmc_obj_print(pool, stdout));
	shmc_value_free(&items);
	shmc_obj_release(pool);
	shmc_arena_close(a);
	return 0;
}
