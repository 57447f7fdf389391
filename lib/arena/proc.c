/*
 * proc.c -- process slots, and telling the dead from the living.
 *
 * An attached process owns one of the arena's slots. Ownership is an
 * open-file-description (OFD) write lock on byte SHMC__LOCK_BASE + slot of
 * the arena file, taken through a description of the process's own. The
 * kernel drops that lock when the description's last descriptor is closed,
 * which happens at the latest when the process dies, however it dies. So:
 *
 *   - a slot is owned by a live process  <=>  its byte is locked;
 *   - a slot whose state is not FREE but whose byte is unlocked belongs to
 *     a dead process (or one that detached), and whoever takes the lock may
 *     reap what it left: its handles and its epoch records (reaping is the
 *     lifecycle's, lifecycle/reap.c; claiming a slot calls it back).
 *
 * Unlike kill(pid, 0), this cannot be fooled by PID reuse, and it works
 * across PID namespaces: no pid is compared anywhere. OFD locks (not classic
 * POSIX locks) are used because a POSIX lock is dropped when the process
 * closes *any* descriptor of the file, and is not shared with a fork child;
 * the fork protocol in fork.c relies on an OFD lock being carried into the
 * child by the inherited descriptor.
 *
 * Reaping is idempotent and ordered so that a reaper killed mid-way leaves
 * leaks (found by the arena check), never double frees: each handle entry is
 * cleared before the reference it stood for is dropped.
 *
 * The header's proc_hwm counts the slots ever claimed (raised before a slot
 * can hold anything; it never falls): loops over the slots in use stop
 * there, so that an attach reads the page of its own slot, not all 256
 * slots' five. Slots are claimed lowest free first, so the mark stays near
 * the most processes ever attached at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "arena/olock.h"
#include "arena/proc.h"

int shmc__proc_open_lockfd(int arena_fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", arena_fd);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static struct flock byte_lock(short type, int64_t pos)
{
	struct flock fl = {0};
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = pos;
	fl.l_len = 1;
	return fl;
}

int shmc__proc_trylock(int fd, int64_t pos)
{
	struct flock fl = byte_lock(F_WRLCK, pos);
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return (errno == EACCES || errno == EAGAIN) ? -EAGAIN : -errno;
}

void shmc__proc_unlock(int fd, int64_t pos)
{
	struct flock fl = byte_lock(F_UNLCK, pos);
	(void)fcntl(fd, F_OFD_SETLK, &fl);
}

int shmc__proc_lock_held(int fd, int64_t pos)
{
	struct flock fl = byte_lock(F_WRLCK, pos);
	if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

bool shmc__proc_alive(shmc_arena_t *a, uint32_t slot)
{
	if (slot == a->slot)
		return true;
	if (slot >= a->nprocs)
		return false;
	/* An error (which should not happen) counts as alive: wrongly
	 * declaring a live process dead would free memory it is reading. */
	return shmc__proc_lock_held(a->lock_fd, SHMC__LOCK_BASE + slot) != 0;
}

/* Take slot S through FD if it is free or its owner is dead and it can be
 * reaped now. */
static bool claim_one(shmc_arena_t *a, int fd, int (*reap_locked)(shmc_arena_t *, uint32_t),
		      uint32_t s)
{
	if (shmc__proc_trylock(fd, SHMC__LOCK_BASE + s) != 0)
		return false;
	/* The slot is ours. If a dead owner left anything, and it cannot all
	 * be released now, leave it for a later reaper. */
	if (reap_locked(a, s) != 0) {
		shmc__proc_unlock(fd, SHMC__LOCK_BASE + s);
		return false;
	}
	struct shmc__proc *p = shmc__proc_at(a, s);
	/* Counted before it can hold anything: a claimer killed after this
	 * leaves the mark one too high, which costs a look, never a leak.
	 * The mark never falls, so below what we saw it is counted already,
	 * and an attach need not touch the header's page. 0 (an arena older
	 * than the mark) stays: every slot may be in use there. */
	if (s >= a->proc_seen) {
		uint32_t h = ld_relaxed(&a->hdr->proc_hwm);
		/* Before the release store of LIVE below: a reader that
		 * sees the slot LIVE (acquire) sees the mark cover it (the
		 * arena check relies on it). */
		while (h != 0 && h < s + 1 &&
		       !atomic_compare_exchange_weak(&a->hdr->proc_hwm, &h, s + 1))
			;
		a->proc_seen = h == 0 ? 0 : h > s + 1 ? h : s + 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	st_relaxed(&p->attached_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	st_relaxed(&p->pid, (uint32_t)getpid());
	st_relaxed(&p->handles_off, 0);
	/* A new generation: locks the slot's last owner held stay dead. */
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	st_release(&p->state, SHMC__PROC_LIVE);
	return true;
}

int shmc__proc_claim(shmc_arena_t *a, int fd, int (*reap_locked)(shmc_arena_t *, uint32_t),
		     uint32_t *out)
{
	/* Free slots first, then those whose owner may be dead. Each try of
	 * a lock costs the kernel a walk of every lock on the file: trying
	 * the live slots first would make the Nth attach cost N walks. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t s = 0; s < a->nprocs; s++) {
			if (s == a->slot && a->lock_fd >= 0)
				continue;
			bool is_free = ld_relaxed(&shmc__proc_at(a, s)->state) == SHMC__PROC_FREE;
			if (is_free == (pass == 0) && claim_one(a, fd, reap_locked, s)) {
				*out = s;
				return 0;
			}
		}
	}
	return SHMC_EPROCS;
}

uint32_t shmc__proc_hwm(const shmc_arena_t *a)
{
	uint32_t h = ld_acquire(&a->hdr->proc_hwm);
	return h == 0 || h > a->nprocs ? a->nprocs : h;
}

uint32_t shmc__proc_token(shmc_arena_t *a, uint32_t slot)
{
	uint32_t gen = ld_acquire(&shmc__proc_at(a, slot)->gen) & SHMC__TOKEN_GEN_MASK;
	return (gen << SHMC__TOKEN_SLOT_BITS) | (slot + 1);
}
