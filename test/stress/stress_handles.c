/*
 * stress_handles -- threads that share handles, for ThreadSanitizer and
 * AddressSanitizer: the handle table (objects/htab.c) under contention.
 *
 * Each round, worker threads use one shared handle (append, len, get,
 * copy, str) while making and dropping handles of their own (reading
 * references out of a list makes a handle each; dup and release), so that
 * table entries are handed out, ended and handed out again under them;
 * then the main thread releases the shared handle in the middle of their
 * calls, and a second thread releases it too. Every call on the shared
 * handle must complete (0 or a count) or answer SHMC_EHANDLE, and once a
 * worker has seen the release every call must answer SHMC_EHANDLE. Another
 * handle keeps the object alive, so a call that completes does so on a
 * live object. At the end the arena check finds no leak, and the arena's
 * memory is back where it started.
 *
 * Usage: stress_handles [--ci] [--rounds N] [--threads N]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "testutil.h"

#define MAX_THREADS 16

struct shared {
	shmc_obj_t *h;    /* the handle released under the workers */
	shmc_obj_t *refs; /* a list of references: reading one makes a handle */
	_Atomic int released;
	_Atomic int calls;
};

struct worker {
	struct shared *s;
	int ok, dead, bad;
};

static int one_call(shmc_obj_t *h, int i)
{
	shmc_value_t v;
	char *str;
	int rc;
	switch (i % 5) {
	case 0:
		return shmc_list_append(h, shmc_int(i));
	case 1:
		return (int)(shmc_list_len(h) < 0 ? shmc_list_len(h) : 0);
	case 2:
		rc = shmc_list_get(h, 0, &v);
		if (rc == 0)
			shmc_value_free(&v);
		return rc == SHMC_EINDEX ? 0 : rc;
	case 3:
		rc = shmc_list_copy(h, &v);
		if (rc == 0)
			shmc_value_free(&v);
		return rc;
	default:
		rc = shmc_obj_str(h, &str);
		if (rc == 0)
			shmc_free(str);
		return rc;
	}
}

static void *work(void *p)
{
	struct worker *w = p;
	struct shared *s = w->s;
	for (int i = 0;; i++) {
		bool after = atomic_load(&s->released) != 0;
		int rc = one_call(s->h, i);
		atomic_fetch_add(&s->calls, 1);
		if (rc == 0 && !after)
			w->ok++;
		else if (rc == SHMC_EHANDLE)
			w->dead++;
		else
			w->bad++;
		/* Handles of our own, made and dropped around the others'. */
		shmc_value_t v;
		if (shmc_list_get(s->refs, i % 8, &v) == 0) {
			shmc_obj_t *d;
			if (v.type != SHMC_REF || shmc_obj_dup(v.ref, &d) != 0)
				w->bad++;
			else
				shmc_obj_release(d);
			shmc_value_free(&v);
		} else {
			w->bad++;
		}
		if (after && w->dead >= 20)
			return NULL;
	}
}

static void *release_too(void *p)
{
	struct shared *s = p;
	shmc_obj_release(s->h);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = 300, nthreads = 4;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ci") == 0)
			rounds = 60;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: stress_handles [--ci] [--rounds N] [--threads N]\n");
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS || rounds < 1)
		return 2;
	shmc_arena_t *a = test_arena(64 << 20);
	arena_warm(a);
	size_t base = arena_in_use(a);
	struct shared s = {0};
	if (shmc_list_new(a, &s.refs) != 0)
		return 1;
	for (int i = 0; i < 8; i++) {
		shmc_obj_t *x;
		if (shmc_dict_new(a, &x) || shmc_list_append(s.refs, shmc_ref(x)))
			return 1;
		shmc_obj_release(x);
	}
	double t0 = now_s();
	long ok = 0, dead = 0;
	for (int r = 0; r < rounds; r++) {
		shmc_obj_t *keep;
		if (shmc_list_new(a, &s.h) || shmc_obj_dup(s.h, &keep))
			return 1;
		atomic_store(&s.released, 0);
		atomic_store(&s.calls, 0);
		struct worker w[MAX_THREADS];
		pthread_t t[MAX_THREADS], other;
		for (int i = 0; i < nthreads; i++) {
			w[i] = (struct worker){&s, 0, 0, 0};
			if (pthread_create(&t[i], NULL, work, &w[i]))
				return 1;
		}
		/* Release in the middle of their calls (an event: calls made). */
		double end = now_s() + TEST_DEADLINE;
		while (atomic_load(&s.calls) < 50 * nthreads && now_s() < end)
			sched_yield();
		if (pthread_create(&other, NULL, release_too, &s))
			return 1;
		shmc_obj_release(s.h);
		pthread_join(other, NULL);
		atomic_store(&s.released, 1);
		for (int i = 0; i < nthreads; i++) {
			pthread_join(t[i], NULL);
			if (w[i].bad) {
				fprintf(stderr, "round %d, thread %d: %d calls neither completed nor "
						"refused\n", r, i, w[i].bad);
				return 1;
			}
			ok += w[i].ok;
			dead += w[i].dead;
		}
		shmc_obj_release(keep);
	}
	shmc_obj_release(s.refs);
	shmc_check_report_t rep;
	int rc = shmc_arena_check(a, 0, &rep, print_finding, "check");
	if (rc || rep.leaked_blocks || rep.leaked_refs) {
		fprintf(stderr, "arena check: %s, %llu leaked blocks, %llu leaked refs\n",
			shmc_errname(rc), (unsigned long long)rep.leaked_blocks,
			(unsigned long long)rep.leaked_refs);
		return 1;
	}
	/* The workers' records keep their retire queues for the next threads;
	 * everything else is back. */
	size_t now = arena_in_use(a);
	printf("stress_handles: %d rounds x %d threads: %ld calls completed, %ld refused, "
	       "%.2f s; arena %zd bytes over the start (idle records' queues)\n",
	       rounds, nthreads, ok, dead, now_s() - t0, (ssize_t)(now - base));
	shmc_arena_close(a);
	return 0;
}
