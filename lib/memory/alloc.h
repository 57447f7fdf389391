/*
 * alloc.h -- the arena's allocator, shared by every attached process.
 */
#ifndef SHMC_ALLOC_H
#define SHMC_ALLOC_H

#include "arena/arena.h"

#define SHMC__ALIGN 16u             /* every block is 16-byte aligned */
#define SHMC__SLAB_PAGES 16u        /* small classes are carved 64 KiB at a time */
#define SHMC__MAX_BLOCK ((uint64_t)1 << 40)
/* Freed large blocks of at most LARGE_CACHE_MAX bytes wait on their class's
 * list, up to LARGE_CACHE_BYTES (at least one block) a class and about a
 * second, before they go to the page pool; bigger ones go at once. */
#define SHMC__LARGE_CACHE_MAX ((uint64_t)1 << 20)
#define SHMC__LARGE_CACHE_BYTES ((uint64_t)1 << 20)

/* pagemap entries: class + 1 in the low byte (0: carved, not yet marked);
 * RUN_START on a run's first page; a slab's page's index in it. Pages of the page pool (pages.c) have
 * the class byte FREE; RUN_END marks a free run's last page, PUNCHED a free
 * page whose memory was given back to the system. */
#define SHMC__PM_CLASS_MASK 0xffu
#define SHMC__PM_RUN_START 0x100u
#define SHMC__PM_RUN_END 0x200u
#define SHMC__PM_PUNCHED 0x400u
#define SHMC__PM_FREE 0xffu
/* A slab's pages (small classes) also carry their place in it, 0 on its
 * first page: a block's slab is found with one more load, not a walk
 * back over up to SHMC__SLAB_PAGES entries (every free, and every block a
 * thread cache gives back, finds its slab). */
#define SHMC__PM_SLAB_IDX_SHIFT 12
#define SHMC__PM_SLAB_IDX_MASK 0xf000u
_Static_assert(((SHMC__SLAB_PAGES - 1) << SHMC__PM_SLAB_IDX_SHIFT) == SHMC__PM_SLAB_IDX_MASK,
	       "a slab's page indices fill the pagemap's index bits");

/* A block of at least SIZE bytes; *off receives its offset.
 * @return 0, SHMC_EFULL (no room, or an injected failure), SHMC_ECORRUPT
 *         (the class's free list starts outside the arena), -EINVAL */
int shmc__alloc(shmc_arena_t *a, uint64_t size, uint64_t *off);

/* The same, for the allocator's own bookkeeping: never a failure injected
 * by shmc__alloc_fail_after(), never from the calling thread's cache. */
int shmc__alloc_quiet(shmc_arena_t *a, uint64_t size, uint64_t *off);

/* Grow the large block at OFF where it is, to hold SIZE bytes, when it
 * ends at the arena's break (the pages after it are nobody's): a growing
 * array neither copies itself nor touches more new pages than it adds.
 * Its bytes stay where they are; its usable size is then
 * shmc__alloc_usable(SIZE). Any other case changes nothing.
 * @return 0, SHMC_EFULL (not grown: allocate and copy) */
int shmc__alloc_grow(shmc_arena_t *a, uint64_t off, uint64_t size);

/* Return a block. Offsets that do not name a block are ignored (and counted
 * nowhere): a corrupt arena must not make free() write outside it. */
void shmc__free(shmc_arena_t *a, uint64_t off);

/* Blocks of small class CLS were pushed onto its list other than by
 * shmc__free() (a thread cache emptied): scavenge the class if its list has
 * grown enough, as a free would. */
void shmc__alloc_pushed(shmc_arena_t *a, unsigned cls);

/* The usable size of the block at OFF, or 0 when OFF names no block. */
uint64_t shmc__block_size(const shmc_arena_t *a, uint64_t off);

/* The size of the class whose pages hold OFF, or 0: what a block there
 * would be, without checking that one starts at OFF (for accounting). */
uint64_t shmc__block_size_hint(const shmc_arena_t *a, uint64_t off);

/* The size class of the block starting at OFF, or -1. */
int shmc__block_class(const shmc_arena_t *a, uint64_t off);
bool shmc__class_is_small(unsigned cls);

/* The usable size of a block allocated for SIZE bytes (its class's size),
 * and the largest class size below SIZE (0 if none): callers size arrays
 * to fill their blocks. */
uint64_t shmc__alloc_usable(uint64_t size);
uint64_t shmc__alloc_class_below(uint64_t size);

/* Size classes. */
unsigned shmc__class_count(void);
uint64_t shmc__class_size(unsigned cls);

/* Initialise the allocator's part of a new arena's header. */
void shmc__alloc_init(shmc_arena_t *a);

/* Give back what is free: every empty slab (and every large block left on
 * a class's list) to the page pool, and the pool's pages beyond its
 * threshold to the system. Slow: walks the free lists that grew. */
void shmc__alloc_trim(shmc_arena_t *a);

/* The first page of the slab or run holding the block at OFF of class CLS
 * (as shmc__block_class found it), or 0. */
uint64_t shmc__run_start(const shmc_arena_t *a, uint64_t off, unsigned cls);

/* Blocks in one slab of small class CLS. */
uint64_t shmc__slab_blocks(unsigned cls);

/* The free blocks at which frees start the next scavenge of small class CLS
 * (its scav_at), when the last one left KEPT free blocks, SPARED whether
 * empty slabs among them (bit 0). */
uint64_t shmc__scav_at(unsigned cls, uint64_t kept, bool spared);

/* Failure injection for tests: the (N+1)-th allocation from now fails with
 * SHMC_EFULL, once. A negative N switches injection off. Process-wide. */
void shmc__alloc_fail_after(long n);

#endif
