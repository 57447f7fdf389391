/*
 * proc.h -- process slots and death detection.
 */
#ifndef SHMC_PROC_H
#define SHMC_PROC_H

#include "arena/arena.h"

/* Byte-range lock positions in the arena file: far past its end, where no
 * data lives. One byte per slot, and one taken by a creator while it
 * initialises the arena. */
#define SHMC__LOCK_BASE ((int64_t)1 << 50)
#define SHMC__LOCK_INIT (SHMC__LOCK_BASE - 1)

/* A fresh open file description of the arena file (not a dup: a lock held
 * through it belongs to it alone). @return fd or -errno */
int shmc__proc_open_lockfd(int arena_fd);

/* Take the write lock on byte POS through FD without waiting.
 * @return 0, -EAGAIN (held through another description), -errno */
int shmc__proc_trylock(int fd, int64_t pos);
void shmc__proc_unlock(int fd, int64_t pos);
/* Whether another open file description holds the lock on byte POS.
 * @return 1 held, 0 free, -errno */
int shmc__proc_lock_held(int fd, int64_t pos);

/* Whether the process owning SLOT is alive. Immune to PID reuse: the lock
 * that marks a slot as owned is released by the kernel when the last
 * descriptor of its owner closes, that is, when the owner dies. */
bool shmc__proc_alive(shmc_arena_t *a, uint32_t slot);

/* Claim a free or dead slot through lock descriptor FD. A slot a dead owner
 * left is first given to REAP_LOCKED (called with the slot's lock held; it
 * returns 0 when the slot is clean and free, else the slot is skipped).
 * *slot receives it. @return 0, SHMC_EPROCS */
int shmc__proc_claim(shmc_arena_t *a, int fd, int (*reap_locked)(shmc_arena_t *, uint32_t),
		     uint32_t *slot);

/* How many slots, from slot 0, have ever been claimed: the others are free
 * and hold nothing, and loops over slots in use stop there, which keeps
 * their pages untouched. Bounded by a->nprocs (also when the header has no
 * mark: an arena made before it). A new arena's header starts it at 1. */
uint32_t shmc__proc_hwm(const shmc_arena_t *a);

/* The lock token of the process that claimed SLOT (olock.h). */
uint32_t shmc__proc_token(shmc_arena_t *a, uint32_t slot);

#endif
