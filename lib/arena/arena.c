/*
 * arena.c -- creating, opening and closing arenas; reserving their memory.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "memory/alloc.h"
#include "memory/epoch.h"
#include "objects/handle.h"
#include "base/heap.h"
#include "arena/proc.h"

#define OPEN_WAIT_MS 5000 /* how long open() waits for a creator to finish */
#define EMPTY_WAIT_MS 200 /* how long an empty file may be a creator's */

/* The list of attached arenas, for fork handling. */
static pthread_mutex_t attached_mu = PTHREAD_MUTEX_INITIALIZER;
static shmc_arena_t *attached;

void shmc__arena_list_lock(void)
{
	pthread_mutex_lock(&attached_mu);
}

void shmc__arena_list_unlock(void)
{
	pthread_mutex_unlock(&attached_mu);
}

shmc_arena_t *shmc__arena_list_first(void)
{
	return attached;
}

/* Geometry ----------------------------------------------------------------- */

struct geometry {
	uint64_t procs_off, recs_off, pagemap_off, data_off;
};

static struct geometry geometry_for(uint64_t capacity)
{
	struct geometry g;
	g.procs_off = ALIGN_UP(sizeof(struct shmc__hdr), CACHE_LINE);
	g.recs_off = g.procs_off + SHMC__MAX_PROCS * sizeof(struct shmc__proc);
	g.pagemap_off = ALIGN_UP(g.recs_off + SHMC__MAX_RECS * sizeof(struct shmc__rec),
				 SHMC__PAGE);
	uint64_t pages = capacity >> SHMC__PAGE_SHIFT;
	g.data_off = ALIGN_UP(g.pagemap_off + pages * sizeof(uint16_t), SHMC__PAGE);
	return g;
}

static int reserve(int fd, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	int rc = posix_fallocate(fd, (off_t)off, (off_t)len);
	if (rc == 0)
		return 0;
	return (rc == ENOSPC || rc == ENOMEM || rc == EFBIG) ? SHMC_EFULL : -rc;
}

int shmc__arena_commit(shmc_arena_t *a, uint64_t end)
{
	struct shmc__hdr *h = a->hdr;
	uint64_t c = ld_acquire(&h->committed);
	if (end <= c)
		return 0;
	if (end > a->capacity)
		return SHMC_EFULL;
	/* Grow by a quarter of what is committed (at least a chunk): small
	 * arenas stay cheap to create, big ones make few calls. */
	uint64_t step = (c - h->data_off) / 4;
	step = ALIGN_UP(step > SHMC__COMMIT_CHUNK ? step : SHMC__COMMIT_CHUNK,
			SHMC__COMMIT_CHUNK);
	uint64_t target = ALIGN_UP(end, SHMC__COMMIT_CHUNK);
	if (target < c + step)
		target = c + step;
	if (target > a->capacity)
		target = a->capacity;
	/* Reserve the data pages, then the pagemap entries that describe
	 * them. Racing processes may reserve the same range: harmless. */
	int rc = reserve(a->fd, c, target - c);
	if (rc == 0) {
		uint64_t pm0 = h->pagemap_off + (c >> SHMC__PAGE_SHIFT) * sizeof(uint16_t);
		uint64_t pm1 = h->pagemap_off + (target >> SHMC__PAGE_SHIFT) * sizeof(uint16_t);
		pm0 &= ~(SHMC__PAGE - 1);
		pm1 = ALIGN_UP(pm1, SHMC__PAGE);
		rc = reserve(a->fd, pm0, pm1 - pm0);
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

/* Attaching ---------------------------------------------------------------- */

static shmc_arena_t *handle_new(void)
{
	shmc_arena_t *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->fd = a->lock_fd = a->fork_lock_fd = -1;
	a->slot = UINT32_MAX;
	return a;
}

static void handle_free(shmc_arena_t *a)
{
	if (a->base)
		munmap(a->base, a->capacity);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	shmc__heap_free(a->handles.free);
	free(a);
}

static int map(shmc_arena_t *a, uint64_t capacity)
{
	void *p = mmap(NULL, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	a->base = p;
	a->capacity = capacity;
	a->hdr = p;
	return 0;
}

/* The process-local half of attaching, once the arena is valid and mapped
 * and a->lock_fd is open. */
static int attach(shmc_arena_t *a)
{
	/* An arena whose readers rely on membarrier(2) needs every process
	 * registered for it. */
	a->membarrier = a->hdr->features & SHMC__FEAT_MEMBARRIER;
	if (a->membarrier && !shmc__membarrier_ready())
		return -ENOSYS;
	int rc = shmc__proc_claim(a, a->lock_fd, &a->slot);
	if (rc)
		return rc;
	a->token = shmc__proc_token(a, a->slot);
	if ((rc = pthread_key_create(&a->rec_key, shmc__thread_rec_release)) != 0) {
		shmc__proc_unlock(a->lock_fd, SHMC__LOCK_BASE + a->slot);
		return -rc;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->reap_mu, NULL);
	static _Atomic uint64_t serials;
	a->serial = atomic_fetch_add(&serials, 1) + 1;
	a->magic = SHMC__ARENA_HANDLE_MAGIC;
	shmc__fork_register();
	shmc__arena_list_lock();
	a->next_attached = attached;
	attached = a;
	shmc__arena_list_unlock();
	/* Whatever dead processes left behind can go now. */
	shmc__proc_reap_dead(a);
	return 0;
}

static int init_header(shmc_arena_t *a)
{
	struct geometry g = geometry_for(a->capacity);
	struct shmc__hdr *h = a->hdr;
	int rc = reserve(a->fd, 0, g.pagemap_off);
	if (rc)
		return rc;
	memset(h, 0, sizeof(*h));
	st_relaxed(&h->state, SHMC__ARENA_INITIALISING);
	h->version = SHMC__FORMAT_VERSION;
	h->hdr_size = sizeof(*h);
	h->fingerprint = shmc__layout_fingerprint();
	h->capacity = a->capacity;
	h->nprocs = SHMC__MAX_PROCS;
	h->nrecs = SHMC__MAX_RECS;
	h->procs_off = g.procs_off;
	h->recs_off = g.recs_off;
	h->pagemap_off = g.pagemap_off;
	h->data_off = g.data_off;
	h->features = shmc__membarrier_ready() ? SHMC__FEAT_MEMBARRIER : 0;
	st_relaxed(&h->committed, g.data_off);
	st_relaxed(&h->brk, g.data_off);
	st_relaxed(&h->epoch, 1);
	st_relaxed(&h->next_id, 1);
	shmc__alloc_init(a);
	if ((rc = shmc__arena_commit(a, g.data_off + 1)) != 0)
		return rc;
	memcpy(h->magic, SHMC__MAGIC, sizeof(h->magic));
	/* Last: everything above is visible before READY. */
	st_release(&h->state, SHMC__ARENA_READY);
	return 0;
}

static int check_capacity(const shmc_arena_options_t *opts, uint64_t *cap)
{
	uint64_t c = opts && opts->capacity ? opts->capacity : SHMC_DEFAULT_CAPACITY;
	if (c < SHMC_MIN_CAPACITY || c > SHMC__MAX_CAPACITY)
		return -EINVAL;
	*cap = ALIGN_UP(c, SHMC__COMMIT_CHUNK);
	return 0;
}

/* Initialise a new, empty arena file FD and attach to it. */
static int create_on(shmc_arena_t *a, uint64_t capacity)
{
	int rc;
	if ((a->lock_fd = shmc__proc_open_lockfd(a->fd)) < 0)
		return a->lock_fd;
	if ((rc = shmc__proc_trylock(a->lock_fd, SHMC__LOCK_INIT)) != 0)
		return rc;
	if (ftruncate(a->fd, (off_t)capacity) != 0)
		return -errno;
	if ((rc = map(a, capacity)) != 0)
		return rc;
	if ((rc = init_header(a)) != 0)
		return rc;
	rc = attach(a);
	shmc__proc_unlock(a->lock_fd, SHMC__LOCK_INIT);
	return rc;
}

int shmc_arena_create_anon(const shmc_arena_options_t *opts, shmc_arena_t **out)
{
	uint64_t cap;
	int rc = check_capacity(opts, &cap);
	if (rc)
		return rc;
	if (out == NULL)
		return -EINVAL;
	shmc_arena_t *a = handle_new();
	if (a == NULL)
		return -ENOMEM;
	a->fd = memfd_create("shmc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (a->fd < 0) {
		rc = -errno;
	} else if ((rc = create_on(a, cap)) == 0) {
		/* Nobody may resize it under the others. */
		fcntl(a->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
		*out = a;
		return 0;
	}
	handle_free(a);
	return rc;
}

/* "name" means /dev/shm/name; anything with a '/' is a path. */
static int path_for(const char *name, char **out)
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

int shmc_arena_create(const char *name, const shmc_arena_options_t *opts,
		      shmc_arena_t **out)
{
	uint64_t cap;
	int rc = check_capacity(opts, &cap);
	if (rc)
		return rc;
	if (out == NULL)
		return -EINVAL;
	shmc_arena_t *a = handle_new();
	if (a == NULL)
		return -ENOMEM;
	if ((rc = path_for(name, &a->path)) != 0)
		goto fail;
	unsigned mode = opts && opts->mode ? (opts->mode & 0777) : 0600;
	a->fd = open(a->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (a->fd < 0) {
		rc = -errno;
		goto fail;
	}
	fchmod(a->fd, mode); /* not narrowed by the umask: the caller asked */
	if ((rc = create_on(a, cap)) == 0) {
		*out = a;
		return 0;
	}
	unlink(a->path); /* a half-made arena must not be found by name */
fail:
	handle_free(a);
	return rc;
}

/* Check the file before mapping it; nothing is written. */
int shmc__arena_validate(int fd, struct shmc__hdr *h, uint64_t *capacity)
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
	return shmc__arena_validate_header(h, (uint64_t)st.st_size, capacity);
}

int shmc__arena_validate_header(const struct shmc__hdr *h, uint64_t file_size,
				uint64_t *capacity)
{
	if (memcmp(h->magic, SHMC__MAGIC, sizeof(h->magic)))
		return ld_relaxed(&((struct shmc__hdr *)h)->state) == SHMC__ARENA_INITIALISING &&
				       h->hdr_size == sizeof(*h)
			       ? SHMC_EINIT
			       : SHMC_ENOTARENA;
	if (h->version != SHMC__FORMAT_VERSION)
		return SHMC_EVERSION;
	if (h->hdr_size != sizeof(*h) || h->fingerprint != shmc__layout_fingerprint())
		return SHMC_ELAYOUT;
	struct geometry g = geometry_for(h->capacity);
	if (h->capacity < SHMC_MIN_CAPACITY || h->capacity > SHMC__MAX_CAPACITY ||
	    file_size != h->capacity || h->procs_off != g.procs_off ||
	    h->recs_off != g.recs_off || h->pagemap_off != g.pagemap_off ||
	    h->data_off != g.data_off || h->nprocs != SHMC__MAX_PROCS ||
	    h->nrecs != SHMC__MAX_RECS)
		return SHMC_ECORRUPT;
	*capacity = h->capacity;
	return 0;
}

/* Wait while a creator holds the init lock; SHMC_EINIT if it died. */
static int wait_ready(shmc_arena_t *a, struct shmc__hdr *h, uint64_t *cap)
{
	for (int waited = 0;; waited++) {
		int rc = shmc__arena_validate(a->fd, h, cap);
		if (rc != SHMC_EINIT && rc != SHMC_ENOTARENA)
			return rc;
		int held = shmc__proc_lock_held(a->lock_fd, SHMC__LOCK_INIT);
		if (held < 0)
			return held;
		struct stat st;
		bool empty = fstat(a->fd, &st) == 0 && st.st_size == 0;
		if (!held && !(empty && waited < EMPTY_WAIT_MS))
			return shmc__arena_validate(a->fd, h, cap); /* no creator at work */
		if (waited >= OPEN_WAIT_MS)
			return -ETIMEDOUT;
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
}

int shmc__arena_open_fd(const char *name, int flags, char **path)
{
	int rc = path_for(name, path);
	if (rc)
		return rc;
	/* O_NONBLOCK: opening a FIFO must not hang; O_NOFOLLOW: no symlinks. */
	int fd = open(*path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		free(*path);
		*path = NULL;
		return rc;
	}
	return fd;
}

int shmc_arena_open(const char *name, shmc_arena_t **out)
{
	if (out == NULL)
		return -EINVAL;
	shmc_arena_t *a = handle_new();
	if (a == NULL)
		return -ENOMEM;
	struct shmc__hdr h;
	uint64_t cap;
	int rc = shmc__arena_open_fd(name, O_RDWR, &a->path);
	if (rc < 0)
		goto fail;
	a->fd = rc;
	if ((rc = shmc__arena_validate(a->fd, &h, &cap)) == SHMC_EINIT || rc == SHMC_ENOTARENA) {
		struct stat st;
		/* Maybe a creator is still at work: only a regular file of ours
		 * gets a lock descriptor. */
		if (fstat(a->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (a->lock_fd = shmc__proc_open_lockfd(a->fd)) >= 0)
			rc = wait_ready(a, &h, &cap);
	}
	if (rc)
		goto fail;
	if (ld_relaxed(&h.state) != SHMC__ARENA_READY) {
		rc = SHMC_EINIT;
		goto fail;
	}
	fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) & ~O_NONBLOCK);
	if (a->lock_fd < 0 && (a->lock_fd = shmc__proc_open_lockfd(a->fd)) < 0) {
		rc = a->lock_fd;
		goto fail;
	}
	if ((rc = map(a, cap)) != 0 || (rc = attach(a)) != 0)
		goto fail;
	*out = a;
	return 0;
fail:
	handle_free(a);
	return rc;
}

int shmc_arena_unlink(const char *name)
{
	char *path;
	int rc = path_for(name, &path);
	if (rc)
		return rc;
	rc = unlink(path) == 0 ? 0 : -errno;
	free(path);
	return rc;
}

void shmc_arena_close(shmc_arena_t *a)
{
	if (!shmc__arena_ok(a))
		return;
	shmc__arena_list_lock();
	for (shmc_arena_t **p = &attached; *p; p = &(*p)->next_attached)
		if (*p == a) {
			*p = a->next_attached;
			break;
		}
	shmc__arena_list_unlock();
	/* Detaching is dying politely: release our slot's handles and epoch
	 * records as a reaper would, then let go of the slot. */
	shmc__proc_reap_locked(a, a->slot);
	shmc__proc_unlock(a->lock_fd, SHMC__LOCK_BASE + a->slot);
	a->magic = 0;
	a->serial = 0;
	memset(&shmc__tls_rec, 0, sizeof(shmc__tls_rec));
	free(pthread_getspecific(a->rec_key));
	pthread_key_delete(a->rec_key);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->reap_mu);
	handle_free(a);
}

int64_t shmc_arena_reclaim(shmc_arena_t *a)
{
	if (!shmc__arena_ok(a))
		return SHMC_EHANDLE;
	struct shmc__rec *r = shmc__epoch_rec(a);
	if (r == NULL)
		return SHMC_ETHREADS;
	shmc__proc_reap_dead(a);
	shmc__handles_shrink(a);
	int64_t n = shmc__epoch_flush(a, r);
	return n + shmc__epoch_flush_idle(a);
}

int shmc_arena_stats(shmc_arena_t *a, shmc_arena_stats_t *st)
{
	if (!shmc__arena_ok(a) || st == NULL)
		return SHMC_EHANDLE;
	shmc__stats(a, st);
	return 0;
}

void shmc__stats(shmc_arena_t *a, shmc_arena_stats_t *st)
{
	memset(st, 0, sizeof(*st));
	struct shmc__hdr *h = a->hdr;
	st->capacity = a->capacity;
	st->committed = ld_relaxed(&h->committed);
	st->used = ld_relaxed(&h->brk);
	unsigned n = shmc__class_count();
	for (unsigned c = 0; c < n; c++) {
		uint64_t in_use = ld_relaxed(&h->classes[c].in_use);
		uint64_t carved = ld_relaxed(&h->classes[c].carved);
		uint64_t size = shmc__class_size(c);
		st->bytes_in_use += in_use * size;
		st->blocks_in_use += in_use;
		unsigned k = c < SHMC_STATS_CLASSES ? c : SHMC_STATS_CLASSES - 1;
		if (k == c)
			st->classes[k].block_size = size;
		st->classes[k].in_use += in_use;
		st->classes[k].carved += carved;
	}
	st->nclasses = n < SHMC_STATS_CLASSES ? n : SHMC_STATS_CLASSES;
	st->lock_recoveries = ld_relaxed(&h->lock_recoveries);
	for (uint32_t s = 0; s < SHMC__MAX_PROCS; s++)
		st->processes += ld_relaxed(&shmc__proc_at(a, s)->state) != SHMC__PROC_FREE;
}
