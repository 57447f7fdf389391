/*
 * lifecycle.c -- creating, opening and closing arenas; views and checks of
 * arena files; reclaiming and statistics.
 *
 * An arena is a file: a memfd for an anonymous arena, a file under /dev/shm
 * (or any path) for a named one. Its size is set to the full capacity at
 * creation, and every process maps all of it at once, so the arena never
 * needs remapping; backing memory is reserved as the allocator grows
 * (arena/arena.c), so running out of memory is SHMC_EFULL, never a SIGBUS.
 * A memfd is sealed against shrinking and growing; a named file cannot be
 * sealed, so its owner must not truncate it (it is private to its user:
 * created exclusively, mode 0600 by default).
 *
 * Creation happens under a byte-range lock (SHMC__LOCK_INIT) and ends by
 * storing READY in the header. A process opening the arena meanwhile waits
 * for that lock; if it finds the lock free and the arena not READY, the
 * creator died half-way and the open fails with SHMC_EINIT. Opening checks
 * everything (file type, owner, mode, magic, version, layout fingerprint,
 * size) before writing a single byte.
 *
 * Attaching claims a process slot (arena/proc.c), installs the hooks the
 * lower layers call up through (dispose, reap), registers the fork handlers
 * (fork.c) and reaps what dead processes left (reap.c). Closing is dying
 * politely: this process's slot is reaped by itself.
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

#include "arena/proc.h"
#include "inspect/inspect.h"
#include "lifecycle/lifecycle.h"
#include "memory/alloc.h"
#include "memory/epoch.h"
#include "objects/handle.h"
#include "objects/obj.h"

#define OPEN_WAIT_MS 5000 /* how long open() waits for a creator to finish */
#define EMPTY_WAIT_MS 200 /* how long an empty file may be a creator's */

/* Attaching ---------------------------------------------------------------- */

/* The process-local half of attaching, once the arena is valid and mapped
 * and a->lock_fd is open; FRESH: we just created it, nobody died in it.
 * An attach and a close touch the page of their slot and nothing else of
 * the arena, (slot 32 on, and reaping a dead process, touch more): each
 * page a process touches costs it a fault and, on a virtual machine, tens
 * of microseconds more to unmap. */
static int attach(shmc_arena_t *a, bool fresh, uint64_t features)
{
	/* An arena whose readers rely on membarrier(2) needs every process
	 * registered for it. (FEATURES: the header's, fixed at creation, as
	 * read before mapping: attaching touches no more pages than needed.) */
	a->membarrier = features & SHMC__FEAT_MEMBARRIER;
	/* Before claiming a slot: claiming may reap a dead owner's. */
	a->hooks.dispose = shmc__obj_dispose;
	a->hooks.reap_if_dead = shmc__reap_if_dead;
	if (a->membarrier && !shmc__epoch_membarrier_ready())
		return -ENOSYS;
	int rc = shmc__proc_claim(a, a->lock_fd, shmc__reap_locked, &a->slot);
	if (rc)
		return rc;
	a->token = shmc__proc_token(a, a->slot);
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->reap_mu, NULL);
	static _Atomic uint64_t serials;
	a->serial = atomic_fetch_add(&serials, 1) + 1;
	st_relaxed(&a->magic, SHMC__ARENA_HANDLE_MAGIC);
	shmc__fork_track(a);
	/* Whatever dead processes left behind can go now. (A new arena has
	 * none: not reading its slots keeps their pages unmapped, and each
	 * page mapped costs its unmap at close.) */
	if (!fresh)
		shmc__reap_dead_seen(a);
	return 0;
}

/* Write the N bytes at P to FD at offset 0. @return 0, -errno */
static int write_all(int fd, const void *p, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t w = pwrite(fd, (const char *)p + done, n - done, (off_t)done);
		if (w < 0 && errno != EINTR)
			return -errno;
		if (w == 0)
			return -EIO; /* no progress: never loop on it */
		done += w > 0 ? (size_t)w : 0;
	}
	return 0;
}

static int init_header(shmc_arena_t *a)
{
	struct shmc__geometry g = shmc__arena_geometry(a->capacity, a->nprocs, a->nrecs);
	int rc = shmc__arena_reserve(a->fd, 0, g.pagemap_off);
	if (rc)
		return rc;
	/* Creating touches the page of slot 0 and page 0 (to publish READY)
	 * and nothing else: each page a process touches costs it a fault and
	 * its unmap. So the header is built here and written to the file
	 * with one call, magic and READY last, through the mapping. */
	shmc__arena_prefault(a, 0, g.procs_off + sizeof(struct shmc__proc));
	struct shmc__hdr *mapped = a->hdr, built, *h = &built;
	memset(h, 0, sizeof(*h));
	st_relaxed(&h->state, SHMC__ARENA_INITIALISING);
	h->version = SHMC__FORMAT_VERSION;
	h->hdr_size = sizeof(*h);
	h->fingerprint = shmc__layout_fingerprint();
	h->capacity = a->capacity;
	h->nprocs = a->nprocs;
	h->nrecs = a->nrecs;
	h->procs_off = g.procs_off;
	h->recs_off = g.recs_off;
	h->pagemap_off = g.pagemap_off;
	h->data_off = g.data_off;
	h->features = shmc__epoch_membarrier_ready() ? SHMC__FEAT_MEMBARRIER : 0;
	st_relaxed(&h->committed, g.data_off);
	st_relaxed(&h->brk, g.data_off);
	st_relaxed(&h->epoch, 1);
	st_relaxed(&h->next_id, 1);
	st_relaxed(&h->proc_hwm, 1); /* slot 0, ours below */
	shmc__arena_set_layout(a, h);
	a->hdr = h; /* the allocator's heads go in the copy */
	shmc__alloc_init(a);
	a->hdr = mapped;
	/* Nothing of the data is reserved yet: the first allocation does it
	 * (shmc__arena_commit), which an arena created and closed unused, or
	 * opened by others only, never pays for. */
	if ((rc = write_all(a->fd, h, sizeof(*h))) != 0)
		return rc;
	memcpy(mapped->magic, SHMC__MAGIC, sizeof(mapped->magic));
	/* Last: everything above is visible before READY. */
	st_release(&mapped->state, SHMC__ARENA_READY);
	return 0;
}

/* The options, checked: capacity, slots and records, which must leave
 * room for data in the arena. @return 0, -EINVAL */
static int check_options(const shmc_arena_options_t *opts, shmc_arena_t *a)
{
	uint64_t c = opts && opts->capacity ? opts->capacity : SHMC_DEFAULT_CAPACITY;
	unsigned np = opts && opts->max_procs ? opts->max_procs : SHMC_DEFAULT_PROCS;
	unsigned nr = opts && opts->max_threads ? opts->max_threads : SHMC_DEFAULT_THREADS;
	if (c < SHMC_MIN_CAPACITY || c > SHMC__MAX_CAPACITY || np > SHMC_MAX_PROCS ||
	    nr > SHMC_MAX_THREADS)
		return -EINVAL;
	c = ALIGN_UP(c, SHMC__COMMIT_CHUNK);
	/* The header, slots, records and page map take at most a quarter. */
	if (shmc__arena_geometry(c, np, nr).data_off > c / 4)
		return -EINVAL;
	a->capacity = c;
	a->nprocs = np;
	a->nrecs = nr;
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
	if ((rc = shmc__arena_map(a, capacity)) != 0)
		return rc;
	if ((rc = init_header(a)) != 0)
		return rc;
	rc = attach(a, true, a->hdr->features);
	shmc__proc_unlock(a->lock_fd, SHMC__LOCK_INIT);
	return rc;
}

int shmc_arena_create_anon(const shmc_arena_options_t *opts, shmc_arena_t **out)
{
	shmc__kinds_install();
	if (out == NULL)
		return -EINVAL;
	shmc_arena_t *a = shmc__arena_handle_new();
	if (a == NULL)
		return -ENOMEM;
	int rc = check_options(opts, a);
	if (rc)
		goto fail;
	a->fd = memfd_create("shmc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (a->fd < 0) {
		rc = -errno;
	} else if ((rc = create_on(a, a->capacity)) == 0) {
		/* Nobody may resize it under the others. */
		fcntl(a->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
		*out = a;
		return 0;
	}
fail:
	shmc__arena_handle_free(a);
	return rc;
}

int shmc_arena_create(const char *name, const shmc_arena_options_t *opts,
		      shmc_arena_t **out)
{
	shmc__kinds_install();
	if (out == NULL)
		return -EINVAL;
	shmc_arena_t *a = shmc__arena_handle_new();
	if (a == NULL)
		return -ENOMEM;
	int rc = check_options(opts, a);
	if (rc || (rc = shmc__arena_path(name, &a->path)) != 0)
		goto fail;
	unsigned mode = opts && opts->mode ? (opts->mode & 0777) : 0600;
	if (mode & S_IWOTH) { /* shmc_arena_open would refuse the file */
		rc = SHMC_EMODE;
		goto fail;
	}
	a->fd = open(a->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (a->fd < 0) {
		rc = -errno;
		goto fail;
	}
	fchmod(a->fd, mode); /* not narrowed by the umask: the caller asked */
	if ((rc = create_on(a, a->capacity)) == 0) {
		*out = a;
		return 0;
	}
	unlink(a->path); /* a half-made arena must not be found by name */
fail:
	shmc__arena_handle_free(a);
	return rc;
}

/* Whether a header that validated (RC) is not READY yet, or did not
 * validate as a creator's unfinished work would not. */
static bool unfinished(int rc, const struct shmc__hdr *h)
{
	return rc == SHMC_EINIT || rc == SHMC_ENOTARENA ||
	       (rc == 0 && ld_relaxed(&h->state) != SHMC__ARENA_READY);
}

/* Wait while a creator holds the init lock; the caller finds SHMC_EINIT if
 * it died. A creator stores the magic number, then READY: between the two
 * the header validates and is not READY yet, which is waited out too. */
static int wait_ready(shmc_arena_t *a, struct shmc__hdr *h, uint64_t *cap)
{
	for (int waited = 0;; waited++) {
		int rc = shmc__arena_validate(a->fd, h, cap, shmc__layout_fingerprint());
		if (!unfinished(rc, h))
			return rc;
		int held = shmc__proc_lock_held(a->lock_fd, SHMC__LOCK_INIT);
		if (held < 0)
			return held;
		struct stat st;
		bool empty = fstat(a->fd, &st) == 0 && st.st_size == 0;
		if (!held && !(empty && waited < EMPTY_WAIT_MS))
			return shmc__arena_validate(a->fd, h, cap, shmc__layout_fingerprint()); /* no creator at work */
		if (waited >= OPEN_WAIT_MS)
			return -ETIMEDOUT;
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
}

/* Attaching reads the slots ever claimed (reaping the dead, then claiming
 * the first free one), as a->proc_seen counts them: their pages (a page
 * missed is faulted in when touched). */
static void prefault_attach(shmc_arena_t *a)
{
	uint64_t np = a->proc_seen;
	np = np == 0 || np >= a->nprocs ? a->nprocs : np + 1;
	shmc__arena_prefault(a, a->procs_off, np * sizeof(struct shmc__proc));
}

int shmc_arena_open(const char *name, shmc_arena_t **out)
{
	shmc__kinds_install();
	if (out == NULL)
		return -EINVAL;
	shmc_arena_t *a = shmc__arena_handle_new();
	if (a == NULL)
		return -ENOMEM;
	struct shmc__hdr h;
	uint64_t cap;
	int rc = shmc__arena_open_fd(name, O_RDWR, &a->path);
	if (rc < 0)
		goto fail;
	a->fd = rc;
	rc = shmc__arena_validate(a->fd, &h, &cap, shmc__layout_fingerprint());
	if (unfinished(rc, &h)) {
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
	/* Of the flags F_SETFL changes, shmc__arena_open_fd set O_NONBLOCK
	 * only (for FIFOs): clearing them all clears it, in one call. */
	fcntl(a->fd, F_SETFL, 0);
	if (a->lock_fd < 0 && (a->lock_fd = shmc__proc_open_lockfd(a->fd)) < 0) {
		rc = a->lock_fd;
		goto fail;
	}
	shmc__arena_set_layout(a, &h);
	if ((rc = shmc__arena_map(a, cap)) != 0)
		goto fail;
	uint32_t seen = ld_relaxed(&h.proc_hwm);
	a->proc_seen = seen < a->nprocs ? seen : a->nprocs;
	prefault_attach(a);
	if ((rc = attach(a, false, h.features)) != 0)
		goto fail;
	*out = a;
	return 0;
fail:
	shmc__arena_handle_free(a);
	return rc;
}

int shmc_arena_unlink(const char *name)
{
	char *path;
	int rc = shmc__arena_path(name, &path);
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
	shmc__fork_untrack(a);
	/* Closed from here on: exiting threads leave its records alone (the
	 * reap below releases them), and the handle reads as closed. */
	shmc__arena_close_lock();
	st_relaxed(&a->magic, 0);
	shmc__arena_close_unlock();
	/* Its handles end here: each answers SHMC_EHANDLE from now on, and a
	 * release of one does nothing. Their references go with the slot. */
	shmc__htab_end_arena(a);
	/* Detaching is dying politely: release our slot's handles and epoch
	 * records as a reaper would, then let go of the slot. */
	shmc__reap_locked(a, a->slot);
	shmc__proc_unlock(a->lock_fd, SHMC__LOCK_BASE + a->slot);
	shmc__epoch_forget(a);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->reap_mu);
	shmc__arena_handle_free(a);
}

int64_t shmc_arena_reclaim(shmc_arena_t *a)
{
	if (!shmc__arena_ok(a))
		return SHMC_EHANDLE;
	struct shmc__rec *r = shmc__epoch_rec(a);
	if (r == NULL)
		return SHMC_ETHREADS;
	shmc__reap_dead(a);
	shmc__handles_shrink(a);
	int64_t n = shmc__epoch_flush(a, r);
	n += shmc__epoch_flush_idle(a);
	shmc__alloc_trim(a);
	return n;
}

int shmc_arena_stats(shmc_arena_t *a, shmc_arena_stats_t *st)
{
	if (!shmc__arena_ok(a) || st == NULL)
		return SHMC_EHANDLE;
	shmc__stats(a, st);
	return 0;
}

/* Read-only views and checks of arena files ---------------------------------- */

int shmc_view_open(const char *name, shmc_view_t **out)
{
	char *path;
	struct shmc__hdr h;
	uint64_t cap;
	if (out == NULL)
		return -EINVAL;
	shmc__kinds_install();
	int fd = shmc__arena_open_fd(name, O_RDONLY, &path);
	if (fd < 0)
		return fd;
	free(path);
	int rc = shmc__arena_validate(fd, &h, &cap, shmc__layout_fingerprint());
	if (rc == 0 && ld_relaxed(&h.state) != SHMC__ARENA_READY)
		rc = SHMC_EINIT;
	if (rc) {
		close(fd);
		return rc;
	}
	void *base = mmap(NULL, cap, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* The view owns the mapping and FD, which answers liveness queries
	 * only (F_OFD_GETLK). */
	if ((rc = shmc__view_of_mapping(base, cap, fd, false, out)) != 0) {
		munmap(base, cap);
		close(fd);
	}
	return rc;
}

int shmc_arena_check_file(const char *name, shmc_check_report_t *rep,
		    shmc_check_fn fn, void *ctx)
{
	if (rep) /* a refused file reports nothing walked */
		memset(rep, 0, sizeof(*rep));
	shmc_view_t *v;
	int rc = shmc_view_open(name, &v); /* read-only, not attached */
	if (rc)
		return rc;
	rc = shmc__check_walk(shmc__view_arena(v), 0, rep, fn, ctx, NULL, NULL);
	shmc_view_close(v);
	return rc;
}
