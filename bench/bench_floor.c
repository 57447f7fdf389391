/*
 * bench_floor.c -- the hardware and OS floor that shmc's operations sit on.
 *
 *   atomic_add   __atomic_fetch_add on one word of a shared page (with two
 *                processes: the same word, so the line bounces)
 *   mutex        a process-shared robust pthread_mutex lock + unlock on a
 *                shared page (two processes: the same mutex)
 *   malloc       free + malloc of 16 B-4 KiB blocks, the ring pattern of
 *                bench_alloc.c (glibc's malloc: this program does not link
 *                libshmc, whose jemalloc would replace it)
 *   shm_create   shm_open + ftruncate (4 GiB, sparse) + mmap + first write +
 *                munmap + close + shm_unlink
 *   shm_open     shm_open + mmap + first read + munmap + close, in another
 *                process than the creator
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "bench.h"

#define RING 256u
#define NSIZES 4096u
#define SEGMENT ((size_t)4 << 30)

struct floor_page {
	uint64_t counter __attribute__((aligned(64)));
	pthread_mutex_t mu __attribute__((aligned(64)));
};

static struct floor_page *page;
static void *ring[RING];
static uint64_t sizes[NSIZES];
static uint64_t next;
static char open_name[64];

static void run_atomic(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++)
		__atomic_fetch_add(&page->counter, 1, __ATOMIC_SEQ_CST);
}

static void run_mutex(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++) {
		int rc = pthread_mutex_lock(&page->mu);
		if (rc == EOWNERDEAD)
			pthread_mutex_consistent(&page->mu);
		else if (rc)
			bench_die("pthread_mutex_lock: %s", strerror(rc));
		pthread_mutex_unlock(&page->mu);
	}
}

static void malloc_init(void *arg, int rank)
{
	(void)arg;
	(void)rank;
	for (unsigned i = 0; i < NSIZES; i++)
		sizes[i] = bench_block_size(&bench_rng);
	for (unsigned i = 0; i < RING; i++)
		if ((ring[i] = malloc(sizes[i])) == NULL)
			bench_die("malloc failed");
}

static void run_malloc(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++, next++) {
		void **slot = &ring[next % RING];
		free(*slot);
		if ((*slot = malloc(sizes[next % NSIZES])) == NULL)
			bench_die("malloc failed");
		*(volatile char *)*slot = 1; /* as the arena's blocks, touched */
	}
}

static void *map_segment(int fd)
{
	void *p = mmap(NULL, SEGMENT, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		bench_die("mmap: %s", strerror(errno));
	return p;
}

static void run_shm_create(void *arg, int rank, uint64_t n)
{
	char name[64];
	(void)arg;
	(void)rank;
	snprintf(name, sizeof(name), "/shmc-floor-new-%d", (int)getpid());
	for (uint64_t i = 0; i < n; i++) {
		int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)SEGMENT) != 0)
			bench_die("shm_open/ftruncate: %s", strerror(errno));
		char *p = map_segment(fd);
		p[0] = 1;
		munmap(p, SEGMENT);
		close(fd);
		shm_unlink(name);
	}
}

static void run_shm_open(void *arg, int rank, uint64_t n)
{
	(void)arg;
	(void)rank;
	for (uint64_t i = 0; i < n; i++) {
		int fd = shm_open(open_name, O_RDWR, 0);
		if (fd < 0)
			bench_die("shm_open: %s", strerror(errno));
		char *p = map_segment(fd);
		bench_sink += (uint64_t)p[0];
		munmap(p, SEGMENT);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "floor");
	page = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		    -1, 0);
	if (page == MAP_FAILED)
		bench_die("mmap: %s", strerror(errno));
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&page->mu, &ma);

	struct bench_op ops[] = {
		{.op = "atomic_add", .run = run_atomic, .kind = BENCH_WRITE,
		 .note = "__atomic_fetch_add on one shared word"},
		{.op = "mutex", .run = run_mutex, .kind = BENCH_WRITE,
		 .note = "process-shared robust pthread_mutex lock + unlock"},
		{.op = "malloc", .run = run_malloc, .child_init = malloc_init,
		 .note = "glibc free + malloc, 16 B-4 KiB log-uniform, ring of 256"},
		{.op = "shm_create", .run = run_shm_create,
		 .note = "shm_open + ftruncate 4 GiB + mmap + write + munmap + close + unlink"},
		{.op = "shm_open", .run = run_shm_open,
		 .note = "shm_open + mmap + read + munmap + close"},
	};
	snprintf(open_name, sizeof(open_name), "/shmc-floor-open-%d", (int)getpid());
	int fd = shm_open(open_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)SEGMENT) != 0)
		bench_die("shm_open: %s", strerror(errno));
	close(fd);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		bench_case(&ops[i]);
	shm_unlink(open_name);
	return 0;
}
