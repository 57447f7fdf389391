/*
 * busy_load -- load for test/stress/run-busy.sh: N processes contending on
 * an arena of their own, beside which the multi-process tests run, so that
 * they meet a busy machine (every CPU taken, the same futexes, allocator
 * and epoch code hot in other processes).
 *
 * Each process loops over one dict, one list and one Lock of the shared
 * anonymous arena: under the lock it writes a key and appends to the list,
 * outside it reads keys and pops what the list holds. Until SIGTERM or
 * SIGINT (or --seconds); then the processes are killed wherever they are,
 * which the arena must survive: it is checked before the exit.
 *
 * Usage: busy_load [--procs N] [--seconds S]
 * Exit: 0 when every process ran until killed and the arena checks clean.
 */
#include <signal.h>

#include "testutil.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct load {
	shmc_obj_t *d, *ls, *l;
	_Atomic long *ops; /* on a shared page: operations done by all */
};

static int hammer(void *p)
{
	struct load *ld = p;
	uint64_t x = (uint64_t)getpid();
	for (long k = 0;; k++) {
		x = mix64(x + 1);
		int64_t key = (int64_t)(x % 512);
		int rc = shmc_lock_acquire(ld->l, SHMC_FOREVER);
		CHILD_CHECK(rc == 0 || rc == SHMC_EOWNERDEAD); /* a killed holder */
		CHILD_OK(shmc_dict_set(ld->d, shmc_int(key), shmc_int(k)));
		if (shmc_list_len(ld->ls) < 256)
			CHILD_OK(shmc_list_append(ld->ls, shmc_str("busy")));
		CHILD_OK(shmc_lock_release(ld->l));
		shmc_value_t v;
		rc = shmc_dict_get(ld->d, shmc_int((int64_t)(mix64(x) % 512)), &v);
		CHILD_CHECK(rc == 0 || rc == SHMC_EKEY);
		if (rc == 0)
			shmc_value_free(&v);
		rc = shmc_list_pop(ld->ls, -1, NULL);
		CHILD_CHECK(rc == 0 || rc == SHMC_EINDEX); /* empty: another took it */
		if (k % 64 == 0)
			atomic_fetch_add(ld->ops, 64);
	}
}

int main(int argc, char **argv)
{
	int procs = 16;
	double seconds = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--procs") == 0 && i + 1 < argc)
			procs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: busy_load [--procs N] [--seconds S]\n");
			return 2;
		}
	}
	if (procs < 1 || procs > 256) {
		fprintf(stderr, "busy_load: --procs from 1 to 256\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* the script killed: stop too */

	shmc_arena_t *a = test_arena(64 << 20);
	struct load ld = {.ops = shared_page(4096)};
	if (shmc_dict_new(a, &ld.d) || shmc_list_new(a, &ld.ls) || shmc_lock_new(a, &ld.l)) {
		fprintf(stderr, "busy_load: cannot make its objects\n");
		return 1;
	}
	pid_t pids[256];
	for (int i = 0; i < procs; i++)
		pids[i] = fork_fn(hammer, &ld);
	fprintf(stderr, "busy_load: %d processes on an arena of their own\n", procs);

	/* Until told to stop; a process that exits on its own has failed. */
	double t0 = now_s();
	int failed = 0;
	while (!stop && !failed && (seconds <= 0 || now_s() - t0 < seconds)) {
		struct timespec ts = {0, 50 * 1000000};
		nanosleep(&ts, NULL); /* the load's lifetime, not a synchronisation */
		for (int i = 0; i < procs; i++) {
			int st;
			if (waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				fprintf(stderr, "busy_load: process %d ended (status %d)\n",
					(int)pids[i], st);
				pids[i] = 0;
				failed++;
			}
		}
	}
	for (int i = 0; i < procs; i++)
		if (pids[i] > 0)
			kill_wait(pids[i]);
	shmc_check_report_t rep;
	int rc = shmc_arena_check(a, SHMC_CHECK_REAP, &rep, print_finding, "busy_load");
	fprintf(stderr, "busy_load: %ld operations in %.0f s; arena check %s\n",
		atomic_load(ld.ops), now_s() - t0, rc == 0 ? "clean" : shmc_errname(rc));
	shmc_obj_release(ld.d);
	shmc_obj_release(ld.ls);
	shmc_obj_release(ld.l);
	shmc_arena_close(a);
	return failed || rc != 0;
}
