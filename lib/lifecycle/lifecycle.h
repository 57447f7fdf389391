/*
 * lifecycle.h -- the top of the library: creating, opening and closing
 * arenas, reaping the dead, fork handling, the table of kinds and the
 * layout fingerprint. Everything below is reached from here; nothing below
 * calls up into it except through the hooks it installs (arena/arena.h).
 */
#ifndef SHMC_LIFECYCLE_H
#define SHMC_LIFECYCLE_H

#include "arena/arena.h"

/* Reaping (reap.c) ---------------------------------------------------------- */

/* Release what the dead owner of SLOT left (handles, epoch records), while
 * holding the slot's lock. @return 0 when the slot is clean and free, or
 * -EAGAIN when a reader holds the epoch back (the slot is left for later) */
int shmc__reap_locked(shmc_arena_t *a, uint32_t slot);

/* Reap SLOT if its owner is dead (the arena's reap_if_dead hook). */
void shmc__reap_if_dead(shmc_arena_t *a, uint32_t slot);

/* Reap every slot whose owner has died. @return the number reaped */
int shmc__reap_dead(shmc_arena_t *a);
/* The same below the mark of slots claimed as this process last saw it
 * (a->proc_seen: at attach, the header read before mapping): a slot
 * claimed since was claimed by a process alive then; if it has died, a
 * later reap finds it. @return the number reaped */
int shmc__reap_dead_seen(shmc_arena_t *a);

/* Look at up to N slots in use, from where the last call stopped, and reap
 * those whose owner has died. @return the number reaped */
int shmc__reap_some(shmc_arena_t *a, uint32_t n);

/* Fork (fork.c) ------------------------------------------------------------- */

/* Track an arena just attached, so that a fork() child gets a slot of its
 * own in it (installing the fork handlers, once per process); and stop,
 * before it is closed. */
void shmc__fork_track(shmc_arena_t *a);
void shmc__fork_untrack(shmc_arena_t *a);

/* Kinds and layout (kinds.c, layout.c) -------------------------------------- */

/* Register every kind of managed object with the object layer, once per
 * process; every entry point that attaches or maps an arena calls it. */
void shmc__kinds_install(void);

/* The layout fingerprint of this build: what an arena's header must carry
 * to be opened by it. Needs the kinds installed. */
uint64_t shmc__layout_fingerprint(void);

#endif
