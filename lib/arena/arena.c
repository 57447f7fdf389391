/*
 * arena.c -- the arena's mapping: its geometry, the file it lives in, the
 * checks made before it is mapped, and reserving its memory. Creating,
 * opening and closing an arena are the lifecycle's (lifecycle/arena.c),
 * which builds on these.
 *
 * An arena is a file: a memfd for an anonymous arena, a file under /dev/shm
 * (or any path) for a named one. Its size is set to the full capacity at
 * creation, and every process maps all of it at once, so the arena never
 * needs remapping. The file is sparse: backing memory is reserved with
 * posix_fallocate() up to the `committed` mark before the allocator hands
 * out anything below it, so running out of memory is an error (SHMC_EFULL),
 * never a SIGBUS on first touch. A memfd is sealed against shrinking and
 * growing; a named file cannot be sealed, so its owner must not truncate it
 * (it is private to its user: created exclusively, mode 0600 by default).
 *
 * Creation happens under a byte-range lock (SHMC__LOCK_INIT) and ends by
 * storing READY in the header. A process opening the arena meanwhile waits
 * for that lock; if it finds the lock free and the arena not READY, the
 * creator died half-way and the open fails with SHMC_EINIT. Opening checks
 * everything (file type, owner, mode, magic, version, layout fingerprint,
 * size) before writing a single byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arena/arena.h"
#include "base/heap.h"

#ifdef SHMC_FUZZ_DURING
void (*shmc__fuzz_hook)(void);
#endif

/* Geometry ----------------------------------------------------------------- */

struct shmc__geometry shmc__arena_geometry(uint64_t capacity, uint32_t nprocs,
					   uint32_t nrecs)
{
	struct shmc__geometry g;
	g.procs_off = ALIGN_UP(sizeof(struct shmc__hdr), CACHE_LINE);
	g.recs_off = g.procs_off + (uint64_t)nprocs * sizeof(struct shmc__proc);
	g.pagemap_off = ALIGN_UP(g.recs_off + (uint64_t)nrecs * sizeof(struct shmc__rec),
				 SHMC__PAGE);
	uint64_t pages = capacity >> SHMC__PAGE_SHIFT;
	g.data_off = ALIGN_UP(g.pagemap_off + pages * sizeof(uint16_t), SHMC__PAGE);
	return g;
}

/* Tries at reserving before an interrupted reservation is given up. */
#define RESERVE_TRIES 100

int shmc__arena_reserve(int fd, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	/* Whatever stops the reservation (no space, no memory, a file
	 * system that cannot, an I/O error...) means the same to the caller:
	 * this memory cannot be had. A signal means try again. */
	for (int i = 0; i < RESERVE_TRIES; i++) {
		int rc = posix_fallocate(fd, (off_t)off, (off_t)len);
		if (rc == 0)
			return 0;
		if (rc != EINTR)
			break;
	}
	return SHMC_EFULL;
}

int shmc__arena_commit(shmc_arena_t *a, uint64_t end)
{
	struct shmc__hdr *h = a->hdr;
	uint64_t c = ld_acquire(&h->committed);
	if (end <= c)
		return 0;
	if (end > a->capacity)
		return SHMC_EFULL;
	/* Grow by a quarter of what is committed (at least a chunk, at most
	 * SHMC__COMMIT_MAX_STEP): small arenas stay cheap to create, big ones
	 * make few calls, and no arena holds much reserved above its brk,
	 * which the page pool cannot give back. */
	uint64_t grain = c > a->data_off ? SHMC__COMMIT_CHUNK : SHMC__COMMIT_FIRST;
	uint64_t step = (c > a->data_off ? c - a->data_off : 0) / 4;
	step = step < SHMC__COMMIT_MAX_STEP ? step : SHMC__COMMIT_MAX_STEP;
	step = ALIGN_UP(step > grain ? step : grain, grain);
	uint64_t target = ALIGN_UP(end, grain);
	if (target < c + step)
		target = c + step;
	if (target > a->capacity)
		target = a->capacity;
	/* Reserve the data pages, then the pagemap entries that describe
	 * them. Racing processes may reserve the same range: harmless. */
	int rc = shmc__arena_reserve(a->fd, c, target - c);
	if (rc == 0) {
		uint64_t pm0 = a->pagemap_off + (c >> SHMC__PAGE_SHIFT) * sizeof(uint16_t);
		uint64_t pm1 = a->pagemap_off + (target >> SHMC__PAGE_SHIFT) * sizeof(uint16_t);
		pm0 &= ~(SHMC__PAGE - 1);
		pm1 = ALIGN_UP(pm1, SHMC__PAGE);
		rc = shmc__arena_reserve(a->fd, pm0, pm1 - pm0);
	}
	if (rc) {
		/* Maybe someone else reserved what we need meanwhile. */
		return ld_acquire(&h->committed) >= end ? 0 : rc;
	}
	while (c < target &&
	       !atomic_compare_exchange_weak_explicit(&h->committed, &c, target,
						      memory_order_release,
						      memory_order_acquire))
		;
	return 0;
}

/* Punching a hole frees the pages of a shared file for every process that
 * maps it at once; KEEP_SIZE leaves the file's size (the capacity) alone. */
int shmc__arena_decommit(shmc_arena_t *a, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	if (fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      (off_t)len) != 0)
		return -errno;
	return 0;
}

/* Attaching ---------------------------------------------------------------- */

/* Closed handles, oldest first: reused only once QUARANTINE are waiting. */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static shmc_arena_t *closed_head, *closed_tail;
static unsigned nclosed;

void shmc__arena_close_lock(void)
{
	pthread_mutex_lock(&pool_mu);
}

void shmc__arena_close_unlock(void)
{
	pthread_mutex_unlock(&pool_mu);
}

shmc_arena_t *shmc__arena_handle_new(void)
{
	shmc_arena_t *a = NULL;
	pthread_mutex_lock(&pool_mu);
	if (nclosed > SHMC__ARENA_QUARANTINE) {
		a = closed_head;
		closed_head = a->next_closed;
		if (closed_head == NULL)
			closed_tail = NULL;
		nclosed--;
	}
	pthread_mutex_unlock(&pool_mu);
	if (a == NULL && (a = malloc(sizeof(*a))) == NULL)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->fd = a->lock_fd = a->fork_lock_fd = -1;
	a->slot = UINT32_MAX;
	return a;
}

void shmc__arena_handle_free(shmc_arena_t *a)
{
	if (a->base)
		munmap(a->base, a->capacity);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	shmc__heap_free(a->handles.free);
	pthread_mutex_lock(&pool_mu);
	st_relaxed(&a->magic, 0);
	a->serial = 0;
	a->base = NULL;
	a->hdr = NULL;
	a->path = NULL;
	a->handles.free = NULL;
	a->fd = a->lock_fd = -1;
	a->next_closed = NULL;
	if (closed_tail)
		closed_tail->next_closed = a;
	else
		closed_head = a;
	closed_tail = a;
	nclosed++;
	pthread_mutex_unlock(&pool_mu);
}

int shmc__arena_map(shmc_arena_t *a, uint64_t capacity)
{
	void *p = mmap(NULL, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	a->base = p;
	a->capacity = capacity;
	a->hdr = p;
	return 0;
}

/* Attaching and closing touch a few pages at the start of the arena, and
 * on a virtual machine each page fault is dear (12-20 us here: a trap, and
 * page tables set up by the hypervisor). Worse, a read fault on a shared
 * file maps up to 16 resident neighbours as well ("fault-around"), each of
 * which the final munmap must unmap and flush from the TLB again: a read of
 * the header once mapped the whole header, every slot and every record.
 * MADV_POPULATE_WRITE maps exactly the pages asked for, with one call and
 * no trap (about 3 us a page against 20), and a write fault never maps
 * neighbours. Failure (a kernel before 5.14: EINVAL) changes nothing but
 * the cost; the pages asked for are reserved, so no SIGBUS hides here. */
void shmc__arena_prefault(shmc_arena_t *a, uint64_t off, uint64_t len)
{
#ifdef MADV_POPULATE_WRITE
	uint64_t end = off + len;
	off &= ~(SHMC__PAGE - 1);
	end = ALIGN_UP(end, SHMC__PAGE);
	if (end > a->capacity)
		end = a->capacity;
	if (off < end)
		(void)madvise(a->base + off, end - off, MADV_POPULATE_WRITE);
#else
	(void)a;
	(void)off;
	(void)len;
#endif
}

/* "name" means /dev/shm/name; anything with a '/' is a path. */
int shmc__arena_path(const char *name, char **out)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > 4000)
		return -EINVAL;
	char *p;
	if (strchr(name, '/'))
		p = strdup(name);
	else if (asprintf(&p, "/dev/shm/%s", name) < 0)
		p = NULL;
	if (p == NULL)
		return -ENOMEM;
	*out = p;
	return 0;
}

/* Check the file before mapping it; nothing is written. */
int shmc__arena_validate(int fd, struct shmc__hdr *h, uint64_t *capacity,
			 uint64_t fingerprint)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return SHMC_ENOTREG;
	if (st.st_uid != geteuid())
		return SHMC_EOWNER;
	if (st.st_mode & S_IWOTH)
		return SHMC_EMODE;
	ssize_t n = pread(fd, h, sizeof(*h), 0);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(*h))
		return SHMC_ENOTARENA;
	return shmc__arena_validate_header(h, (uint64_t)st.st_size, capacity, fingerprint);
}

int shmc__arena_validate_header(const struct shmc__hdr *h, uint64_t file_size,
				uint64_t *capacity, uint64_t fingerprint)
{
	if (memcmp(h->magic, SHMC__MAGIC, sizeof(h->magic)))
		return ld_relaxed(&((struct shmc__hdr *)h)->state) == SHMC__ARENA_INITIALISING &&
				       h->hdr_size == sizeof(*h)
			       ? SHMC_EINIT
			       : SHMC_ENOTARENA;
	if (h->version != SHMC__FORMAT_VERSION)
		return SHMC_EVERSION;
	if (h->hdr_size != sizeof(*h) || h->fingerprint != fingerprint)
		return SHMC_ELAYOUT;
	if (h->nprocs < 1 || h->nprocs > SHMC_MAX_PROCS || h->nrecs < 1 ||
	    h->nrecs > SHMC_MAX_THREADS)
		return SHMC_ECORRUPT;
	struct shmc__geometry g = shmc__arena_geometry(h->capacity, h->nprocs, h->nrecs);
	if (h->capacity < SHMC_MIN_CAPACITY || h->capacity > SHMC__MAX_CAPACITY ||
	    file_size != h->capacity || h->procs_off != g.procs_off ||
	    h->recs_off != g.recs_off || h->pagemap_off != g.pagemap_off ||
	    h->data_off != g.data_off || g.data_off >= h->capacity)
		return SHMC_ECORRUPT;
	*capacity = h->capacity;
	return 0;
}

void shmc__arena_set_layout(shmc_arena_t *a, const struct shmc__hdr *h)
{
	a->nprocs = h->nprocs;
	a->nrecs = h->nrecs;
	a->procs_off = h->procs_off;
	a->recs_off = h->recs_off;
	a->pagemap_off = h->pagemap_off;
	a->data_off = h->data_off;
}

void shmc__arena_adopt_limits(shmc_arena_t *a)
{
	/* Read once: the mapping may change under us. */
	const volatile struct shmc__hdr *h = a->hdr;
	uint32_t np = h->nprocs, nr = h->nrecs;
	struct shmc__geometry g = shmc__arena_geometry(a->capacity, np, nr);
	a->nprocs = a->nrecs = 0;
	a->procs_off = g.procs_off;
	a->recs_off = g.recs_off;
	a->pagemap_off = g.pagemap_off;
	a->data_off = a->capacity; /* no data */
	if (np < 1 || np > SHMC_MAX_PROCS || nr < 1 || nr > SHMC_MAX_THREADS ||
	    g.data_off >= a->capacity)
		return;
	a->data_off = g.data_off;
	a->nprocs = np;
	a->nrecs = nr;
}

int shmc__arena_open_fd(const char *name, int flags, char **path)
{
	int rc = shmc__arena_path(name, path);
	if (rc)
		return rc;
	/* O_NONBLOCK: opening a FIFO must not hang; O_NOFOLLOW: no symlinks. */
	int fd = open(*path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		/* A directory cannot be opened for writing: it is no arena. */
		rc = errno == EISDIR ? SHMC_ENOTREG : -errno;
		free(*path);
		*path = NULL;
		return rc;
	}
	return fd;
}

bool shmc__arena_barrier_all(const shmc_arena_t *a)
{
	if (a->membarrier)
		return syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;
	atomic_thread_fence(memory_order_seq_cst);
	return true;
}
