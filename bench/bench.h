/*
 * bench.h -- the harness every benchmark program shares (C11 and C++).
 *
 * A program registers operations; for each one and each process count the
 * harness forks that many children, which
 *
 *   1. map the shared pages already resident (bench_prefault_shared), so a
 *      fresh child does not measure first-touch page faults;
 *   2. size a chunk: after one untimed call (a fresh child's first call
 *      pays for faults and an epoch record), double a batch of operations
 *      until its fastest of three runs takes 20 us, so the clock is read
 *      rarely but a deadline is kept closely; the record shows the chunk;
 *   3. warm up for half a repetition, untimed;
 *   4. run REPS timed repetitions, each started by a barrier that the
 *      parent releases once every child has arrived; a repetition runs
 *      chunks until its duration (40 ms, 6 ms with --quick) has passed and
 *      counts the operations done.
 *
 * Repetitions are time-boxed rather than count-boxed so that with two
 * processes both run over the same interval, whatever the contention.
 * For each repetition the parent derives the per-process latency (the mean
 * over children of elapsed / operations) and the combined throughput (all
 * operations over the wall time from the first start to the last end), and
 * prints one JSON line with every repetition, and the CPU time per
 * operation beside it; bench/report.py takes medians and ranges.
 *
 * Nothing is pinned: the machine is small and noisy, so the spread of the
 * repetitions is reported beside every median.
 *
 * Only the header is shared between the C programs and the C++ Boost peer,
 * so it uses GCC __atomic builtins rather than <stdatomic.h>.
 */
#ifndef SHMC_BENCH_H
#define SHMC_BENCH_H

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_PROCS 8
#define BENCH_MAX_REPS 32
#define BENCH_CASE_TIMEOUT_S 300 /* a child that takes longer is killed */
#define BENCH_CHUNK_NS 20000     /* operations run between clock reads */

/* Perform N operations. ARG is the program's state, inherited by fork:
 * what a child writes to private memory stays its own. */
typedef void (*bench_run_fn)(void *arg, int rank, uint64_t n);
/* Per-child set-up and tear-down, outside the timed region. */
typedef void (*bench_hook_fn)(void *arg, int rank);

struct bench_op {
	const char *op;        /* operation id, the same in every system */
	bench_run_fn run;
	void *arg;
	bench_hook_fn child_init; /* may be NULL */
	bench_hook_fn child_fini; /* may be NULL */
	void (*before)(void *arg); /* in the parent before each process count */
	const char *note;      /* what exactly is measured, for the report */
	int max_procs;         /* 0: every process count */
};

struct bench_config {
	const char *system; /* "shmc", "boost", "floor" ... */
	int quick;
	int reps;
	double rep_ms;      /* target duration of one timed repetition */
	const char *filter; /* run only ops whose id contains this */
	int nprocs[4];      /* process counts to run, 0-terminated */
};

#define BENCH_UNUSED __attribute__((unused))
static BENCH_UNUSED struct bench_config bench_cfg;

/* This child's random stream, seeded by rank (see bench_child). */
static BENCH_UNUSED uint64_t bench_rng = 0x9e3779b97f4a7c15ull;
/* Results of reads are folded in here so the compiler keeps them. */
static BENCH_UNUSED volatile uint64_t bench_sink;

/* Time and randomness ------------------------------------------------------ */

static inline int64_t bench_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* CPU time of this process: wall time well above it means the process was
 * descheduled (another load on the machine, or sleeping on a lock). */
static inline int64_t bench_cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* xorshift64*: a few cycles, good enough to scatter keys. */
static inline uint64_t bench_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) without a division. */
static inline uint64_t bench_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)bench_rand(s) * n) >> 64);
}

/* The short string key of number K: "k" and seven digits (8 bytes). Every
 * system builds its keys with this, so the cost is the same everywhere. */
#define BENCH_KEY_LEN 8
static inline void bench_key(char out[BENCH_KEY_LEN + 1], uint64_t k)
{
	out[0] = 'k';
	for (int i = 7; i >= 1; i--) {
		out[i] = (char)('0' + k % 10);
		k /= 10;
	}
	out[8] = '\0';
}

/* Block sizes for the allocation benchmarks: log-uniform in [16, 4096]. */
static inline uint64_t bench_block_size(uint64_t *s)
{
	unsigned shift = 4 + (unsigned)bench_below(s, 8); /* 16 .. 2048 */
	uint64_t lo = (uint64_t)1 << shift;
	return lo + bench_below(s, lo + 1); /* up to 2 * lo, so 4096 at most */
}

static inline __attribute__((noreturn, format(printf, 1, 2))) void
bench_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* Command line --------------------------------------------------------------- */

static inline void bench_init(int argc, char **argv, const char *system)
{
	bench_cfg.system = system;
	bench_cfg.reps = 0;
	bench_cfg.nprocs[0] = 1;
	bench_cfg.nprocs[1] = 2;
	bench_cfg.nprocs[2] = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			bench_cfg.quick = 1;
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			bench_cfg.reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
			bench_cfg.filter = argv[++i];
		else if (strcmp(argv[i], "--procs") == 0 && i + 1 < argc) {
			/* "1", "2" or "1,2" */
			const char *p = argv[++i];
			int k = 0;
			while (*p && k < 3) {
				bench_cfg.nprocs[k++] = atoi(p);
				while (*p && *p != ',')
					p++;
				if (*p == ',')
					p++;
			}
			bench_cfg.nprocs[k] = 0;
		} else
			bench_die("usage: %s [--quick] [--reps N] [--procs 1,2] [--filter OP]",
				  argv[0]);
	}
	if (bench_cfg.reps <= 0)
		bench_cfg.reps = bench_cfg.quick ? 3 : 7;
	if (bench_cfg.reps > BENCH_MAX_REPS)
		bench_cfg.reps = BENCH_MAX_REPS;
	bench_cfg.rep_ms = bench_cfg.quick ? 6.0 : 40.0;
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline int bench_selected(const char *op)
{
	return bench_cfg.filter == NULL || strstr(op, bench_cfg.filter) != NULL;
}

/* JSON output ---------------------------------------------------------------- */

static inline void bench_json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

static inline void bench_emit_head(const char *op, int procs)
{
	printf("{\"system\": ");
	bench_json_str(bench_cfg.system);
	printf(", \"op\": ");
	bench_json_str(op);
	printf(", \"procs\": %d", procs);
}

/* Record that OP was not measured, and why. */
static inline void bench_skip(const char *op, int procs, const char *why)
{
	if (!bench_selected(op))
		return;
	bench_emit_head(op, procs);
	printf(", \"skip\": ");
	bench_json_str(why);
	printf("}\n");
	fprintf(stderr, "  %-6s %-22s p=%d  skipped: %s\n", bench_cfg.system, op,
		procs, why);
}

/* Record a memory figure: BYTES for ENTRIES entries. */
static inline void bench_memory(const char *what, uint64_t entries, double bytes,
			 const char *note)
{
	printf("{\"system\": ");
	bench_json_str(bench_cfg.system);
	printf(", \"mem\": ");
	bench_json_str(what);
	printf(", \"entries\": %llu, \"bytes\": %.0f, \"bytes_per_entry\": %.3f, \"note\": ",
	       (unsigned long long)entries, bytes, bytes / (double)entries);
	bench_json_str(note);
	printf("}\n");
	fprintf(stderr, "  %-6s memory %-18s %.2f bytes/entry\n", bench_cfg.system,
		what, bytes / (double)entries);
}

/* The fork-and-barrier runner ---------------------------------------------- */

struct bench_shared {
	int ready; /* arrivals at barriers, all repetitions together */
	int go;    /* repetitions released by the parent */
	uint64_t count[BENCH_MAX_REPS][BENCH_MAX_PROCS]; /* operations done */
	int64_t t0[BENCH_MAX_REPS][BENCH_MAX_PROCS];
	int64_t t1[BENCH_MAX_REPS][BENCH_MAX_PROCS];
	int64_t cpu[BENCH_MAX_REPS][BENCH_MAX_PROCS]; /* CPU time of the batch */
	uint64_t chunk[BENCH_MAX_PROCS]; /* operations between clock reads */
};

static BENCH_UNUSED struct bench_shared *bench_shm;

static inline struct bench_shared *bench_shared_page(void)
{
	if (bench_shm == NULL) {
		void *p = mmap(NULL, sizeof(struct bench_shared), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			bench_die("mmap: %s", strerror(errno));
		bench_shm = (struct bench_shared *)p;
	}
	memset(bench_shm, 0, sizeof(*bench_shm));
	return bench_shm;
}

/*
 * A forked child starts with no page-table entries for the shared mappings
 * it inherits (the kernel fills them on first touch), so its first pass
 * over a big container would measure minor faults, not the container. A
 * long-running process has those entries: map every page that is resident
 * in the shared mappings now, before anything is timed. Pages never
 * touched (the sparse rest of an arena or segment) are left alone.
 */
static inline void bench_prefault_shared(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	long page = sysconf(_SC_PAGESIZE);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
		    perms[3] != 's')
			continue;
		static unsigned char vec[16384];
		for (unsigned long at = lo; at < hi;) {
			unsigned long len = hi - at;
			if (len > sizeof(vec) * (unsigned long)page)
				len = sizeof(vec) * (unsigned long)page;
			if (mincore((void *)at, len, vec) == 0) {
				for (unsigned long i = 0; i < len / (unsigned long)page; i++)
					if (vec[i] & 1)
						bench_sink += *(volatile unsigned char *)(at + i * (unsigned long)page);
			}
			at += len;
		}
	}
	fclose(f);
}

static inline void bench_spin_until(int *word, int value)
{
	for (unsigned i = 0; __atomic_load_n(word, __ATOMIC_ACQUIRE) < value; i++) {
		if (i < 1000)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
}

/* Run OP in chunks of K until DURATION_NS has passed; @return the count. */
static inline uint64_t bench_timed(const struct bench_op *o, int rank, uint64_t k,
				   int64_t duration_ns, int64_t *t0, int64_t *t1)
{
	uint64_t done = 0;
	int64_t start = bench_now_ns(), now;
	do {
		o->run(o->arg, rank, k);
		done += k;
		now = bench_now_ns();
	} while (now - start < duration_ns);
	*t0 = start;
	*t1 = now;
	return done;
}

static inline void bench_child(const struct bench_op *o, int rank, int reps)
{
	struct bench_shared *sh = bench_shm;
	alarm(BENCH_CASE_TIMEOUT_S);
	bench_prefault_shared();
	bench_rng = 0x9e3779b97f4a7c15ull * (uint64_t)(rank + 1) + 0x632be59bd9b4e019ull;
	if (o->child_init)
		o->child_init(o->arg, rank);
	/* A chunk: enough operations to make reading the clock (about 25 ns
	 * here) negligible, few enough to stop close to the deadline. The
	 * first call of a fresh child is no sample: it claims an epoch record
	 * and takes copy-on-write faults (about 20 us), which alone used to
	 * stop the doubling at k = 1. Each size is timed three times and the
	 * fastest kept, so one preemption cannot stop it early either. */
	o->run(o->arg, rank, 1);
	uint64_t k = 1;
	for (;;) {
		int64_t best = INT64_MAX;
		for (int t = 0; t < 3; t++) {
			int64_t t0 = bench_now_ns();
			o->run(o->arg, rank, k);
			int64_t e = bench_now_ns() - t0;
			best = e < best ? e : best;
		}
		if (best >= BENCH_CHUNK_NS || k >= ((uint64_t)1 << 30))
			break;
		k *= 2;
	}
	sh->chunk[rank] = k;
	int64_t duration = (int64_t)(bench_cfg.rep_ms * 1e6), t0, t1;
	bench_timed(o, rank, k, duration / 2, &t0, &t1); /* warm-up */
	for (int r = 0; r < reps; r++) {
		__atomic_fetch_add(&sh->ready, 1, __ATOMIC_ACQ_REL);
		bench_spin_until(&sh->go, r + 1);
		int64_t c0 = bench_cpu_ns();
		sh->count[r][rank] = bench_timed(o, rank, k, duration, &t0, &t1);
		sh->cpu[r][rank] = bench_cpu_ns() - c0;
		sh->t0[r][rank] = t0;
		sh->t1[r][rank] = t1;
	}
	if (o->child_fini)
		o->child_fini(o->arg, rank);
	fflush(NULL);
	_exit(0);
}

/* Reap children; @return 0 when every one exited 0. */
static inline int bench_reap(pid_t *pids, int procs, int kill_them)
{
	int bad = 0;
	for (int p = 0; p < procs; p++) {
		int st;
		if (pids[p] <= 0)
			continue;
		if (kill_them)
			kill(pids[p], SIGKILL);
		if (waitpid(pids[p], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
		pids[p] = 0;
	}
	return bad;
}

static inline int bench_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* Run OP with PROCS processes and print its record. @return 0 or -1. */
static inline int bench_case_procs(const struct bench_op *o, int procs)
{
	int reps = bench_cfg.reps;
	struct bench_shared *sh = bench_shared_page();
	pid_t pids[BENCH_MAX_PROCS] = {0};
	fflush(NULL);
	for (int p = 0; p < procs; p++) {
		pids[p] = fork();
		if (pids[p] < 0)
			bench_die("fork: %s", strerror(errno));
		if (pids[p] == 0)
			bench_child(o, p, reps);
	}
	/* Release each repetition once everybody waits at its barrier; poll
	 * gently so that the parent steals no CPU from the children. */
	for (int r = 0; r < reps; r++) {
		while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) < procs * (r + 1)) {
			struct timespec ms = {0, 200000};
			nanosleep(&ms, NULL);
			for (int p = 0; p < procs; p++) {
				int st;
				if (waitpid(pids[p], &st, WNOHANG) == pids[p]) {
					pids[p] = 0;
					bench_reap(pids, procs, 1);
					bench_skip(o->op, procs, "a benchmark process failed");
					return -1;
				}
			}
		}
		__atomic_store_n(&sh->go, r + 1, __ATOMIC_RELEASE);
	}
	if (bench_reap(pids, procs, 0)) {
		bench_skip(o->op, procs, "a benchmark process failed");
		return -1;
	}
	double lat[BENCH_MAX_REPS], thr[BENCH_MAX_REPS], cpu[BENCH_MAX_REPS];
	uint64_t total = 0;
	for (int r = 0; r < reps; r++) {
		int64_t first = INT64_MAX, last = INT64_MIN;
		double sum = 0, csum = 0, ops = 0;
		for (int p = 0; p < procs; p++) {
			double c = (double)sh->count[r][p];
			sum += (double)(sh->t1[r][p] - sh->t0[r][p]) / c;
			csum += (double)sh->cpu[r][p] / c;
			ops += c;
			first = sh->t0[r][p] < first ? sh->t0[r][p] : first;
			last = sh->t1[r][p] > last ? sh->t1[r][p] : last;
		}
		total += (uint64_t)ops;
		lat[r] = sum / procs;
		cpu[r] = csum / procs;
		thr[r] = ops * 1e9 / (double)(last - first);
	}
	uint64_t n = total / (uint64_t)reps, chunk = UINT64_MAX;
	for (int p = 0; p < procs; p++)
		chunk = sh->chunk[p] < chunk ? sh->chunk[p] : chunk;
	bench_emit_head(o->op, procs);
	printf(", \"n\": %llu, \"reps\": %d, \"chunk\": %llu, \"ns\": [", (unsigned long long)n,
	       reps, (unsigned long long)chunk);
	for (int r = 0; r < reps; r++)
		printf("%s%.3f", r ? ", " : "", lat[r]);
	printf("], \"ops\": [");
	for (int r = 0; r < reps; r++)
		printf("%s%.1f", r ? ", " : "", thr[r]);
	printf("], \"cpu_ns\": [");
	for (int r = 0; r < reps; r++)
		printf("%s%.3f", r ? ", " : "", cpu[r]);
	printf("], \"note\": ");
	bench_json_str(o->note);
	printf("}\n");
	double sorted[BENCH_MAX_REPS];
	memcpy(sorted, lat, sizeof(double) * (size_t)reps);
	qsort(sorted, (size_t)reps, sizeof(double), bench_cmp_double);
	fprintf(stderr, "  %-6s %-22s p=%d  %10.1f ns/op  (%.1f-%.1f, %llu ops/rep)\n",
		bench_cfg.system, o->op, procs, sorted[reps / 2], sorted[0],
		sorted[reps - 1], (unsigned long long)n);
	return 0;
}

/* Run OP at every configured process count. */
static inline void bench_case(const struct bench_op *o)
{
	if (!bench_selected(o->op))
		return;
	for (int i = 0; bench_cfg.nprocs[i]; i++) {
		int procs = bench_cfg.nprocs[i];
		if (procs > BENCH_MAX_PROCS || (o->max_procs && procs > o->max_procs))
			continue;
		if (o->before)
			o->before(o->arg);
		bench_case_procs(o, procs);
	}
}

#endif
