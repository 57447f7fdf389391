/*
 * bench.h -- the harness every benchmark program shares (C11 and C++).
 *
 * A program registers operations; for each one and each process count the
 * harness forks that many children, which
 *
 *   1. for an operation on a big container, touch the shared pages already
 *      resident (bench_prefault_shared), so that a fresh child does not
 *      measure first-touch costs; smaller ones are prepared by step 3;
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
 * Process counts are 1, 2, 4 and 8. Beyond the CPU count a process that
 * has finished its repetition must not steal the CPU from one still timing,
 * so there the barrier sleeps on a futex instead of spinning. Repetitions at
 * P > 2 are fewer (bench_reps_for).
 *
 * Latency: for operations marked BENCH_WRITE, a second pass at 2 processes
 * times every single operation (two clock reads around one call), keeps the
 * last BENCH_LAT_CAP samples of each process and prints p50/p99/p99.9. The
 * median cost of two back-to-back clock reads, measured in each process, is
 * subtracted from every sample and printed beside the percentiles.
 *
 * Cache lines (--lines, run under valgrind's lackey by bench/lines.py): no
 * fork and no timing; each BENCH_WRITE or BENCH_READ operation runs
 * BENCH_LINES_SAMPLES times in this process, each call bracketed by stores
 * to two marker words whose addresses are printed first, so that the trace
 * can be cut into one segment per call.
 *
 * Only the header is shared between the C programs and the C++ Boost peer,
 * so it uses GCC __atomic builtins rather than <stdatomic.h>.
 */
#ifndef SHMC_BENCH_H
#define SHMC_BENCH_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_PROCS 8
#define BENCH_MAX_REPS 32
#define BENCH_CASE_TIMEOUT_S 300 /* a child that takes longer is killed */
#define BENCH_CHUNK_NS 20000     /* operations run between clock reads */
#define BENCH_NPROCS_MAX 4       /* process counts in one run: 1, 2, 4, 8 */
#define BENCH_LAT_CAP (1u << 19) /* latency samples kept per process */
#define BENCH_LINES_SAMPLES 100  /* traced calls per operation (--lines) */
#define BENCH_LINES_WARMUP 20    /* untraced calls before them */

/* What an operation does to the shared object, for the passes beyond the
 * throughput table: writes get latency percentiles; writes and reads get
 * their cache lines counted. */
enum { BENCH_OTHER = 0, BENCH_WRITE = 1, BENCH_READ = 2 };

/* Address ranges of shared mappings: those of one container's arena or
 * segment, found by bench_ranges_new (what appeared since a snapshot). */
#define BENCH_MAX_RANGES 8
struct bench_ranges {
	int n;
	unsigned long lo[BENCH_MAX_RANGES], hi[BENCH_MAX_RANGES];
};

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
	int kind;              /* BENCH_OTHER, BENCH_WRITE or BENCH_READ */
	int prefault;          /* touch resident shared pages first (bench_prefault_shared) */
	const struct bench_ranges *prefault_only; /* NULL: every shared mapping */
};

struct bench_config {
	const char *system; /* "shmc", "boost", "floor" ... */
	int quick;
	int reps;
	double rep_ms;      /* target duration of one timed repetition */
	const char *filter; /* run only ops whose id contains this */
	int nprocs[BENCH_NPROCS_MAX + 1]; /* process counts to run, 0-terminated */
	int reps_many;      /* repetitions at P > 2 */
	int lat_procs;      /* processes of the latency pass; 0: none */
	double lat_ms;      /* duration of the latency pass */
	int lines;          /* --lines: trace mode for bench/lines.py */
	int ncpus;
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

static inline void bench_lines_begin(void);

static inline void bench_usage(const char *argv0)
{
	bench_die("usage: %s [--quick] [--reps N] [--procs 1,2,4,8] [--latency P] [--lines] "
		  "[--filter OP]",
		  argv0);
}

static inline void bench_init(int argc, char **argv, const char *system)
{
	static const int all_procs[] = {1, 2, 4, 8, 0};
	bench_cfg.system = system;
	bench_cfg.reps = 0;
	bench_cfg.lat_procs = 2;
	memcpy(bench_cfg.nprocs, all_procs, sizeof(all_procs));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			bench_cfg.quick = 1;
		else if (strcmp(argv[i], "--lines") == 0)
			bench_cfg.lines = 1;
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			bench_cfg.reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
			bench_cfg.filter = argv[++i];
		else if (strcmp(argv[i], "--latency") == 0 && i + 1 < argc) {
			bench_cfg.lat_procs = atoi(argv[++i]);
			if (bench_cfg.lat_procs < 0 || bench_cfg.lat_procs > BENCH_MAX_PROCS)
				bench_usage(argv[0]);
		} else if (strcmp(argv[i], "--procs") == 0 && i + 1 < argc) {
			/* "1", "2" or "1,2,4,8"; "0": the latency pass only */
			const char *p = argv[++i];
			int k = 0;
			while (*p && k < BENCH_NPROCS_MAX) {
				int n = atoi(p);
				if (n < 0 || n > BENCH_MAX_PROCS)
					bench_usage(argv[0]);
				if (n > 0)
					bench_cfg.nprocs[k++] = n;
				while (*p && *p != ',')
					p++;
				if (*p == ',')
					p++;
			}
			bench_cfg.nprocs[k] = 0;
		} else
			bench_usage(argv[0]);
	}
	if (bench_cfg.reps <= 0) {
		bench_cfg.reps = bench_cfg.quick ? 3 : 7;
		bench_cfg.reps_many = bench_cfg.quick ? 3 : 5;
	} else
		bench_cfg.reps_many = bench_cfg.reps;
	if (bench_cfg.reps > BENCH_MAX_REPS)
		bench_cfg.reps = BENCH_MAX_REPS;
	if (bench_cfg.reps_many > BENCH_MAX_REPS)
		bench_cfg.reps_many = BENCH_MAX_REPS;
	bench_cfg.rep_ms = bench_cfg.quick ? 6.0 : 40.0;

	bench_cfg.lat_ms = bench_cfg.quick ? 20.0 : 100.0;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	bench_cfg.ncpus = n > 0 ? (int)n : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (bench_cfg.lines)
		bench_lines_begin();
}

/* Repetitions at PROCS processes: fewer beyond 2, where a process has less
 * than a CPU and every repetition costs P times the CPU time. */
static inline int bench_reps_for(int procs)
{
	return procs > 2 ? bench_cfg.reps_many : bench_cfg.reps;
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

/* Call FN(lo, hi) for each shared readable mapping of this process. */
static inline void bench_each_shared(void (*fn)(unsigned long lo, unsigned long hi, void *ctx),
				     void *ctx)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && perms[0] == 'r' &&
		    perms[3] == 's')
			fn(lo, hi, ctx);
	}
	fclose(f);
}

static inline void bench_ranges_add(unsigned long lo, unsigned long hi, void *ctx)
{
	struct bench_ranges *r = (struct bench_ranges *)ctx;
	if (r->n < BENCH_MAX_RANGES) {
		r->lo[r->n] = lo;
		r->hi[r->n++] = hi;
	}
}

/* The shared mappings now: a snapshot for bench_ranges_new. */
static inline void bench_ranges_now(struct bench_ranges *out)
{
	out->n = 0;
	bench_each_shared(bench_ranges_add, out);
}

/* Into OUT, the shared mappings that are not in BEFORE: those of an arena
 * or segment created since BEFORE was taken. */
static inline void bench_ranges_new(const struct bench_ranges *before, struct bench_ranges *out)
{
	struct bench_ranges now;
	bench_ranges_now(&now);
	out->n = 0;
	for (int i = 0; i < now.n; i++) {
		int old = 0;
		for (int j = 0; j < before->n; j++)
			old |= before->lo[j] == now.lo[i] && before->hi[j] == now.hi[i];
		if (!old)
			bench_ranges_add(now.lo[i], now.hi[i], out);
	}
}

/* Touch every resident page of [LO, HI). */
static inline void bench_touch_resident(unsigned long lo, unsigned long hi, void *ctx)
{
	static unsigned char vec[16384];
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
	(void)ctx;
	for (unsigned long at = lo; at < hi;) {
		unsigned long len = hi - at;
		if (len > sizeof(vec) * page)
			len = sizeof(vec) * page;
		if (mincore((void *)at, len, vec) == 0) {
			for (unsigned long i = 0; i < len / page; i++)
				if (vec[i] & 1)
					bench_sink += *(volatile unsigned char *)(at + i * page);
		}
		at += len;
	}
}

/*
 * A forked child starts with no page-table entries for the shared mappings
 * it inherits (the kernel fills them on first touch), so its first pass
 * over a big container would measure minor faults, not the container. A
 * long-running process has those entries: map every page that is resident
 * in the shared mappings now, before anything is timed. Pages never
 * touched (the sparse rest of an arena or segment) are left alone.
 *
 * Each page is touched from user space. On the (nested) virtual machines
 * this runs on, the first hardware access to a page from a new process
 * costs 5-30 us even when the kernel has its entry (MADV_POPULATE_READ
 * builds the entries but leaves that cost to the timed loop), so only a
 * real access prepares the page. That makes this the dearest step of a
 * case (about 1 s per child for the 140 MB of the big containers on a
 * busy machine), so it runs only for operations marked .prefault, which
 * reach a big container at random, and only over that container's own
 * arena or segment when the program gives it (.prefault_only); the others
 * touch a few pages, which the untimed warm-up prepares.
 *
 * ONLY: the mappings to prepare; NULL: every shared one.
 */
static inline void bench_prefault_shared(const struct bench_ranges *only)
{
	if (only == NULL) {
		bench_each_shared(bench_touch_resident, NULL);
		return;
	}
	for (int i = 0; i < only->n; i++)
		bench_touch_resident(only->lo[i], only->hi[i], NULL);
}

/* Wait until *WORD reaches VALUE: spin briefly, then yield (P <= CPUs: the
 * start stays tight) or sleep on a futex (P > CPUs: a waiting process must
 * leave the CPU to those still timing). Pairs with bench_release. */
static inline void bench_wait_go(int *word, int value, int sleep)
{
	int cur;
	for (unsigned i = 0; (cur = __atomic_load_n(word, __ATOMIC_ACQUIRE)) < value; i++) {
		if (i < 1000)
			__builtin_ia32_pause();
		else if (!sleep)
			sched_yield();
		else
			syscall(SYS_futex, word, FUTEX_WAIT, cur, NULL, NULL, 0);
	}
}

static inline void bench_release(int *word, int value)
{
	__atomic_store_n(word, value, __ATOMIC_RELEASE); /* pairs with bench_wait_go */
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
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

/* A fresh child's set-up: page tables, its random stream, the op's hook. */
static inline void bench_child_start(const struct bench_op *o, int rank)
{
	alarm(BENCH_CASE_TIMEOUT_S);
	if (o->prefault)
		bench_prefault_shared(o->prefault_only);
	bench_rng = 0x9e3779b97f4a7c15ull * (uint64_t)(rank + 1) + 0x632be59bd9b4e019ull;
	if (o->child_init)
		o->child_init(o->arg, rank);
}

static inline void bench_child(const struct bench_op *o, int rank, int procs, int reps)
{
	struct bench_shared *sh = bench_shm;
	int sleep = procs > bench_cfg.ncpus;
	bench_child_start(o, rank);
	/* The warm-up first, in single calls: a fresh child's first call
	 * claims an epoch record and takes copy-on-write faults (about 20 us),
	 * and its first access to each page of the container costs 5-30 us
	 * here. Sizing the chunk before those were paid stopped the doubling
	 * at k = 1 or 2 for the containers reached at random (10k dicts), so
	 * that every operation also paid a clock read (about 25 ns).
	 * A chunk: enough operations to make reading the clock negligible,
	 * few enough to stop close to the deadline. Each size is timed three
	 * times and the fastest kept, so one preemption cannot stop it early. */
	int64_t duration = (int64_t)(bench_cfg.rep_ms * 1e6), t0, t1;
	bench_timed(o, rank, 1, duration / 2, &t0, &t1);
	uint64_t k = 1;
	for (;;) {
		int64_t best = INT64_MAX;
		for (int t = 0; t < 3; t++) {
			int64_t c0 = bench_now_ns();
			o->run(o->arg, rank, k);
			int64_t e = bench_now_ns() - c0;
			best = e < best ? e : best;
		}
		if (best >= BENCH_CHUNK_NS || k >= ((uint64_t)1 << 30))
			break;
		k *= 2;
	}
	sh->chunk[rank] = k;
	for (int r = 0; r < reps; r++) {
		__atomic_fetch_add(&sh->ready, 1, __ATOMIC_ACQ_REL);
		bench_wait_go(&sh->go, r + 1, sleep);
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

/* Release REPS barriers, each once all PROCS children wait at it, then reap
 * them; poll gently so that the parent steals no CPU from the children.
 * @return 0, or -1 (and a skip record for OP saying WHY) when a child failed. */
static inline int bench_drive(const struct bench_op *o, pid_t *pids, int procs, int reps,
			      const char *why)
{
	struct bench_shared *sh = bench_shm;
	for (int r = 0; r < reps; r++) {
		while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) < procs * (r + 1)) {
			struct timespec ms = {0, 200000};
			nanosleep(&ms, NULL);
			for (int p = 0; p < procs; p++) {
				int st;
				if (waitpid(pids[p], &st, WNOHANG) == pids[p]) {
					pids[p] = 0;
					bench_reap(pids, procs, 1);
					bench_skip(o->op, procs, why);
					return -1;
				}
			}
		}
		bench_release(&sh->go, r + 1);
	}
	if (bench_reap(pids, procs, 0)) {
		bench_skip(o->op, procs, why);
		return -1;
	}
	return 0;
}

/* Run OP with PROCS processes and print its record. @return 0 or -1. */
static inline int bench_case_procs(const struct bench_op *o, int procs)
{
	int reps = bench_reps_for(procs);
	struct bench_shared *sh = bench_shared_page();
	pid_t pids[BENCH_MAX_PROCS] = {0};
	int64_t case_t0 = bench_now_ns();
	fflush(NULL);
	for (int p = 0; p < procs; p++) {
		pids[p] = fork();
		if (pids[p] < 0)
			bench_die("fork: %s", strerror(errno));
		if (pids[p] == 0)
			bench_child(o, p, procs, reps);
	}
	if (bench_drive(o, pids, procs, reps, "a benchmark process failed"))
		return -1;
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
	fprintf(stderr, "  %-6s %-22s p=%d  %10.1f ns/op  (%.1f-%.1f, %llu ops/rep; %.1f s)\n",
		bench_cfg.system, o->op, procs, sorted[reps / 2], sorted[0],
		sorted[reps - 1], (unsigned long long)n, (double)(bench_now_ns() - case_t0) / 1e9);
	return 0;
}

/* The latency pass --------------------------------------------------------- */

struct bench_lat {
	uint64_t count[BENCH_MAX_PROCS];   /* operations timed (kept or not) */
	int64_t clock_ns[BENCH_MAX_PROCS]; /* cost of the two clock reads */
	uint32_t ns[];                     /* [rank * BENCH_LAT_CAP + i % CAP] */
};

static inline int bench_cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

/* What two back-to-back clock reads cost: the median of many empty pairs.
 * Every sample pays it once, so it is subtracted from each. */
static inline int64_t bench_clock_cost(void)
{
	enum { N = 4001 };
	static int64_t d[N];
	for (int i = 0; i < N; i++) {
		int64_t a = bench_now_ns();
		d[i] = bench_now_ns() - a;
	}
	qsort(d, N, sizeof(d[0]), bench_cmp_i64);
	return d[N / 2];
}

static inline void bench_lat_child(const struct bench_op *o, int rank, int procs,
				   struct bench_lat *lat)
{
	struct bench_shared *sh = bench_shm;
	uint32_t *out = lat->ns + (size_t)rank * BENCH_LAT_CAP;
	int64_t duration = (int64_t)(bench_cfg.lat_ms * 1e6);
	bench_child_start(o, rank);
	o->run(o->arg, rank, 1); /* the fresh child's first call: no sample */
	lat->clock_ns[rank] = bench_clock_cost();
	for (int64_t w = bench_now_ns(); bench_now_ns() - w < duration / 4;)
		o->run(o->arg, rank, 1); /* warm-up, in the same single calls */
	__atomic_fetch_add(&sh->ready, 1, __ATOMIC_ACQ_REL);
	bench_wait_go(&sh->go, 1, procs > bench_cfg.ncpus);
	/* Every process runs for the same duration; the buffer keeps each
	 * one's last BENCH_LAT_CAP samples, so a fast operation's figures come
	 * from the end of the pass, when all processes are well under way. */
	uint64_t n = 0;
	int64_t start = bench_now_ns(), t1 = start;
	while (t1 - start < duration) {
		int64_t t0 = bench_now_ns();
		o->run(o->arg, rank, 1);
		t1 = bench_now_ns();
		int64_t d = t1 - t0;
		out[n++ % BENCH_LAT_CAP] = d > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	}
	lat->count[rank] = n;
	if (o->child_fini)
		o->child_fini(o->arg, rank);
	fflush(NULL);
	_exit(0);
}

/* Nearest-rank percentile Q (0 < Q <= 1) of N sorted values. */
static inline double bench_pct(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n + 0.999999);
	return v[i > 0 ? (i <= n ? i - 1 : n - 1) : 0];
}

/* Time single operations of OP with PROCS processes at once and print the
 * percentiles of their latency. @return 0 or -1. */
static inline int bench_latency_case(const struct bench_op *o, int procs)
{
	size_t bytes = sizeof(struct bench_lat) +
		       (size_t)procs * BENCH_LAT_CAP * sizeof(uint32_t);
	struct bench_lat *lat = (struct bench_lat *)mmap(
		NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (lat == (struct bench_lat *)MAP_FAILED)
		bench_die("mmap: %s", strerror(errno));
	bench_shared_page();
	pid_t pids[BENCH_MAX_PROCS] = {0};
	fflush(NULL);
	for (int p = 0; p < procs; p++) {
		pids[p] = fork();
		if (pids[p] < 0)
			bench_die("fork: %s", strerror(errno));
		if (pids[p] == 0)
			bench_lat_child(o, p, procs, lat);
	}
	if (bench_drive(o, pids, procs, 1, "latency pass: a benchmark process failed")) {
		munmap(lat, bytes);
		return -1;
	}
	size_t total = 0, k = 0;
	uint64_t timed = 0;
	double clock = 0;
	for (int p = 0; p < procs; p++) {
		timed += lat->count[p];
		total += lat->count[p] < BENCH_LAT_CAP ? lat->count[p] : BENCH_LAT_CAP;
		clock += (double)lat->clock_ns[p] / procs;
	}
	double *v = (double *)malloc((total ? total : 1) * sizeof(double));
	if (v == NULL)
		bench_die("out of memory");
	for (int p = 0; p < procs; p++) {
		uint64_t n = lat->count[p] < BENCH_LAT_CAP ? lat->count[p] : BENCH_LAT_CAP;
		for (uint64_t i = 0; i < n; i++) {
			double d = (double)lat->ns[(size_t)p * BENCH_LAT_CAP + i] -
				   (double)lat->clock_ns[p];
			v[k++] = d > 0 ? d : 0;
		}
	}
	munmap(lat, bytes);
	if (total == 0) {
		free(v);
		bench_skip(o->op, procs, "latency pass: no sample");
		return -1;
	}
	qsort(v, total, sizeof(double), bench_cmp_double);
	double p50 = bench_pct(v, total, 0.5), p99 = bench_pct(v, total, 0.99),
	       p999 = bench_pct(v, total, 0.999);
	bench_emit_head(o->op, procs);
	printf(", \"latency\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"p999\": %.1f, "
	       "\"max\": %.1f}, \"samples\": %llu, \"timed\": %llu, \"clock_ns\": %.1f, "
	       "\"note\": ",
	       p50, bench_pct(v, total, 0.9), p99, p999, v[total - 1],
	       (unsigned long long)total, (unsigned long long)timed, clock);
	bench_json_str(o->note);
	printf("}\n");
	fprintf(stderr, "  %-6s %-22s p=%d  latency p50 %.0f  p99 %.0f  p99.9 %.0f ns  "
		"(%llu samples, clock %.0f ns subtracted)\n",
		bench_cfg.system, o->op, procs, p50, p99, p999, (unsigned long long)total,
		clock);
	free(v);
	return 0;
}

/* Cache lines (--lines) ---------------------------------------------------- */

/* Stores to [0] and [16] open and close one traced call: two cache lines of
 * private memory, which the trace never confuses with shared ones. */
static BENCH_UNUSED volatile int bench_mark[32] __attribute__((aligned(64)));

/* Print the marker addresses, before any set-up is traced. */
static inline void bench_lines_begin(void)
{
	printf("{\"system\": ");
	bench_json_str(bench_cfg.system);
	printf(", \"marks\": [\"%p\", \"%p\"]}\n", (void *)&bench_mark[0],
	       (void *)&bench_mark[16]);
	fflush(stdout);
}

/* Run OP BENCH_LINES_SAMPLES times in this process, each call between the
 * two marks, after its record (which lists the shared mappings). */
static inline void bench_lines_case(const struct bench_op *o)
{
	if (o->kind == BENCH_OTHER)
		return;
	if (o->before)
		o->before(o->arg);
	if (o->child_init)
		o->child_init(o->arg, 0);
	o->run(o->arg, 0, BENCH_LINES_WARMUP);
	bench_emit_head(o->op, 1);
	printf(", \"lines\": %d, \"kind\": \"%s\", \"shared\": [", BENCH_LINES_SAMPLES,
	       o->kind == BENCH_WRITE ? "write" : "read");
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int first = 1;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && perms[0] == 'r' &&
		    perms[3] == 's') {
			printf("%s[\"%#lx\", \"%#lx\"]", first ? "" : ", ", lo, hi);
			first = 0;
		}
	}
	if (f)
		fclose(f);
	printf("], \"note\": ");
	bench_json_str(o->note);
	printf("}\n");
	fflush(stdout);
	for (int i = 0; i < BENCH_LINES_SAMPLES; i++) {
		bench_mark[0] = i;
		o->run(o->arg, 0, 1);
		bench_mark[16] = i;
	}
}

/* Run OP at every configured process count. */
static inline void bench_case(const struct bench_op *o)
{
	if (!bench_selected(o->op))
		return;
	if (bench_cfg.lines) {
		bench_lines_case(o);
		return;
	}
	for (int i = 0; bench_cfg.nprocs[i]; i++) {
		int procs = bench_cfg.nprocs[i];
		if (procs > BENCH_MAX_PROCS || (o->max_procs && procs > o->max_procs))
			continue;
		/* Quick: a big container's P = 4 and 8 cases would be mostly the
		 * children's page-touch passes (40 s of a 130 s smoke run). */
		if (bench_cfg.quick && o->prefault && procs > 2)
			continue;
		if (o->before)
			o->before(o->arg);
		bench_case_procs(o, procs);
	}
	int lp = bench_cfg.lat_procs;
	if (o->kind == BENCH_WRITE && lp > 0 && !(o->max_procs && lp > o->max_procs)) {
		if (o->before)
			o->before(o->arg);
		bench_latency_case(o, lp);
	}
}

#endif
