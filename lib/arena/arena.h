/*
 * arena.h -- the shared region: its header layout, the process-local handle,
 * and the one checked accessor that turns an offset into an address.
 *
 * Layout of an arena (all positions are byte offsets from its start):
 *
 *   [0]            struct shmc__hdr: identity, geometry, global atomics,
 *                  allocator free-list heads (one cache line per class)
 *   [procs_off]    nprocs process slots (struct shmc__proc)
 *   [recs_off]     nrecs epoch records, one per thread
 *   [pagemap_off]  16 bits per page of the arena: the size class carved
 *                  there (0: not carved), or the page pool's (memory/alloc.h)
 *   [data_off]     blocks handed out by the allocator, carved upwards from
 *                  brk
 *
 * The whole capacity is mapped once, at attach time, so the arena grows
 * without remapping. Backing memory is reserved with posix_fallocate() up to
 * `committed` before any of it is handed out: on tmpfs an untouched page of a
 * sparse file would otherwise raise SIGBUS when memory runs out.
 */
#ifndef SHMC_ARENA_H
#define SHMC_ARENA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/atomics.h"
#include "base/util.h"

#define SHMC__MAGIC "SHMCAREN"
#define SHMC__FORMAT_VERSION 7u

#define SHMC__PAGE_SHIFT 12
#define SHMC__PAGE ((uint64_t)1 << SHMC__PAGE_SHIFT)
/* How many process slots and epoch records an arena has is fixed at its
 * creation (shmc_arena_options_t: max_procs, max_threads) and kept in its
 * header; an attached process keeps the validated figures in its handle
 * (nprocs, nrecs) and bounds every loop over slots or records by them. */
#define SHMC__NCLASSES 144u
#define SHMC__COMMIT_CHUNK ((uint64_t)256 << 10)
/* An arena's first commit is smaller: reserving shared memory zeroes it,
 * and at 256 KiB that was a third of what creating an arena costs. */
#define SHMC__COMMIT_FIRST ((uint64_t)64 << 10)
#define SHMC__COMMIT_MAX_STEP ((uint64_t)32 << 20)
#define SHMC__MAX_CAPACITY ((uint64_t)1 << 44)

/* Features an arena was created with (hdr.features). */
#define SHMC__FEAT_MEMBARRIER 1u /* readers rely on membarrier(2), see epoch.c */

/* Arena life cycle, in hdr.state. */
enum { SHMC__ARENA_INITIALISING = 0x494e4954u, SHMC__ARENA_READY = 0x52454459u };

/* One allocator size class: its free list and counters share a cache line,
 * because every allocation touches both. The last four fields are the
 * slab scavenger's (memory/slabs.c). */
struct shmc__class_head {
	AO_double_t free; /* {offset of first free block, ABA tag} */
	atomic_u64 in_use;
	atomic_u64 carved;
	atomic_u64 park;      /* a free list taken away to be scavenged */
	atomic_u64 retiring;  /* ... and the blocks of its empty slabs */
	atomic_u64 scav_at;   /* free blocks that start a scavenge (slabs.c) */
	atomic_u32 scav_lock[2]; /* a struct shmc__olock (arena/olock.h) */
} __attribute__((aligned(CACHE_LINE)));
_Static_assert(sizeof(struct shmc__class_head) == CACHE_LINE, "a class head is one line");

/* The page pool (memory/pages.c): free runs of pages, in bins by size. */
#define SHMC__POOL_BINS 40u
#define SHMC__WATCH_BUCKETS 64u
struct shmc__page_pool {
	atomic_u32 lock[2];        /* a struct shmc__olock (arena/olock.h) */
	atomic_u64 free_pages;     /* pages in the pool */
	atomic_u64 punched_pages;  /* of those, given back to the system */
	atomic_u64 released_total; /* pages ever given back */
	atomic_u64 trim_mark;      /* unpunched pages the last trim left */
	atomic_u64 trim_ns;        /* when the pool last looked for old runs */
	atomic_u64 drain_ns;       /* when large classes' caches were emptied */
	atomic_u64 bins[SHMC__POOL_BINS]; /* first run of each bin, or 0 */
} __attribute__((aligned(CACHE_LINE)));

/* A process slot. Owned by the process whose open file description holds
 * the byte-range lock of the slot (see proc.c); state says whether anything
 * is left to clean up once that lock is free. */
enum { SHMC__PROC_FREE = 0, SHMC__PROC_LIVE = 1 };
struct shmc__proc {
	atomic_u32 state;
	atomic_u32 pid;         /* informational: pid in the owner's namespace */
	atomic_u64 handles_off; /* handle table: objects this process holds */
	atomic_u64 attached_ns; /* CLOCK_REALTIME at attach, informational */
	atomic_u32 gen;         /* bumped at each claim: part of lock tokens */
	uint32_t pad0_;
	char pad_[CACHE_LINE - 4 * sizeof(atomic_u64)];
} __attribute__((aligned(CACHE_LINE)));

/* An epoch record: one per thread that uses the arena (see epoch.c). */
#define SHMC__REC_ORPHAN 0xffffffffu
struct shmc__rec {
	atomic_u64 epoch;     /* 0: quiescent; else (epoch << 1) | 1 */
	atomic_u32 owner;     /* proc slot + 1; 0 free; ORPHAN: owner died */
	atomic_u32 in_use;    /* a live thread of the owner is attached */
	atomic_u64 limbo_off; /* retired blocks waiting for a grace period */
	/* What the thread waits for (objects/watch.c): the object's offset,
	 * | 1 when it waits on one of its keys; 0 when it waits for nothing. */
	atomic_u64 watch_off;
	/* The thread's cache of free blocks (memory/tcache.c), or 0. */
	atomic_u64 tcache_off;
	char pad_[CACHE_LINE - 5 * sizeof(atomic_u64)];
} __attribute__((aligned(CACHE_LINE)));

struct shmc__hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;
	uint64_t fingerprint;
	uint64_t capacity;
	atomic_u32 state;
	uint32_t nprocs;
	uint32_t nrecs;
	uint32_t nclasses;
	uint64_t procs_off;
	uint64_t recs_off;
	uint64_t pagemap_off;
	uint64_t data_off;
	atomic_u64 roots_off; /* directory of named objects (0: none yet) */
	atomic_u64 next_id;   /* serial numbers for objects */
	atomic_u64 lock_recoveries; /* locks taken over from dead holders */
	uint64_t features;          /* SHMC__FEAT_*, fixed at creation */
	/* Slots [0, proc_hwm) have ever been claimed (arena/proc.c); 0 in
	 * an arena made before the mark was kept: then any may have been. */
	atomic_u32 proc_hwm;
	uint32_t pad1_;
	uint64_t reserved_[3];

	atomic_u64 committed __attribute__((aligned(CACHE_LINE)));
	atomic_u64 brk __attribute__((aligned(CACHE_LINE)));
	atomic_u64 epoch __attribute__((aligned(CACHE_LINE)));
	atomic_u32 rec_hwm; /* records [0, rec_hwm) have ever been claimed */
	struct shmc__class_head classes[SHMC__NCLASSES];
	struct shmc__page_pool pool;
	/* Futex words of the threads waiting on a dict's key, hashed by
	 * object and key (objects/watch.c); bumped only when someone waits. */
	atomic_u32 watch_buckets[SHMC__WATCH_BUCKETS] __attribute__((aligned(CACHE_LINE)));
};

/* What this layer calls above itself, installed by the lifecycle when it
 * attaches an arena (a lower layer never names an upper one): disposing of
 * a retired item once no reader can see it (the objects' shmc__obj_dispose),
 * and reaping a process slot whose owner has died (lifecycle/reap.c). NULL
 * in the read-only arenas of views and checks of a mapping, which retire
 * nothing and reap nothing. */
struct shmc__arena_hooks {
	void (*dispose)(shmc_arena_t *a, uint64_t what);
	void (*reap_if_dead)(shmc_arena_t *a, uint32_t slot);
};

/* The process-local handle of an attached arena. */
struct shmc_arena {
	atomic_u32 magic; /* SHMC__ARENA_HANDLE_MAGIC while open */
	char *base;
	uint64_t capacity;
	struct shmc__hdr *hdr;
	int fd;      /* the mapped file or memfd */
	int lock_fd; /* private open file description holding our slot lock */
	uint32_t slot;
	uint32_t nprocs; /* process slots, as validated at attach */
	uint32_t nrecs;  /* epoch records, as validated at attach */
	uint64_t procs_off, recs_off; /* where they lie, as validated */
	uint64_t pagemap_off, data_off; /* the same: never re-read from hdr */
	uint32_t token; /* names this process in lock words (olock.h) */
	uint64_t serial; /* unique in this process, for thread-local caches */
	bool membarrier; /* the arena's readers use no fence (epoch.c) */
	uint32_t proc_seen; /* hdr->proc_hwm was at least this (0: unknown) */
	atomic_u32 recs_claimed; /* a thread of ours claimed a record (epoch.c) */
	char *path; /* named arenas: the file's path */
	struct shmc__arena_hooks hooks;

	/* Serialises reaping by the threads of this process: the slot lock
	 * that excludes other reapers is an OFD lock, and all our threads
	 * share our open file description (proc.c). */
	pthread_mutex_t reap_mu;
	pthread_mutex_t mu;     /* guards the fields below */
	struct shmc__htab_local { /* mirror of our handle table's free slots */
		uint32_t *free;
		uint32_t nfree, capfree;
		uint32_t next; /* first never-used index */
	} handles;
	uint32_t reap_next; /* where the next bounded reap looks (reap.c) */
	uint32_t fork_slot; /* slot prepared for a child during fork() */
	int fork_lock_fd;
	struct shmc_arena *next_attached;
	struct shmc_arena *next_closed; /* the pool of closed handles (arena.c) */
};
#define SHMC__ARENA_HANDLE_MAGIC 0x41524e41u

/* The checked accessor: the address of SIZE bytes at OFF, or NULL when the
 * range is not inside the arena or OFF is not aligned to ALIGN (a power of
 * two). Every offset read from shared memory goes through here. */
#ifdef SHMC_FUZZ_DURING
/* The fuzz build only: called at every checked access, so that a fuzz
 * target can write into the arena in the middle of an operation, as
 * another process scribbling at that instant would (test/fuzz/fuzz_live.c). */
extern void (*shmc__fuzz_hook)(void);
#endif

static inline void *shmc__at(const shmc_arena_t *a, uint64_t off, uint64_t size,
			     uint64_t align)
{
#ifdef SHMC_FUZZ_DURING
	if (shmc__fuzz_hook)
		shmc__fuzz_hook();
#endif
	if (unlikely(off == 0 || (off & (align - 1)) != 0 ||
		     off > a->capacity || size > a->capacity - off))
		return NULL;
	return a->base + off;
}

/* The offset of an address inside the arena. */
static inline uint64_t shmc__off(const shmc_arena_t *a, const void *p)
{
	return (uint64_t)((const char *)p - a->base);
}

/* Process slot I (< a->nprocs) and epoch record I (< a->nrecs), where the
 * validated header put them. */
static inline struct shmc__proc *shmc__proc_at(const shmc_arena_t *a, uint32_t i)
{
	return (struct shmc__proc *)(a->base + a->procs_off) + i;
}

static inline struct shmc__rec *shmc__rec_at(const shmc_arena_t *a, uint32_t i)
{
	return (struct shmc__rec *)(a->base + a->recs_off) + i;
}

static inline uint8_t *shmc__pagemap(const shmc_arena_t *a)
{
	return (uint8_t *)(a->base + a->pagemap_off);
}

/* Reserve backing memory for [0, end) of the arena, so that blocks carved
 * below END can be touched without SIGBUS. @return 0, SHMC_EFULL */
int shmc__arena_commit(shmc_arena_t *a, uint64_t end);

/* Give the backing memory of [OFF, OFF+LEN) back to the system (page
 * aligned): every process then reads zeros there, and the range must be
 * reserved again (shmc__arena_reserve) before it is used. @return 0, -errno */
int shmc__arena_decommit(shmc_arena_t *a, uint64_t off, uint64_t len);

/* Validate a handle passed in by the user: NULL, or one closed since, is
 * refused. A closed handle's memory is never freed (see
 * shmc__arena_handle_free), so this reads no freed memory. */
static inline bool shmc__arena_ok(const shmc_arena_t *a)
{
	return a && ld_relaxed(&a->magic) == SHMC__ARENA_HANDLE_MAGIC;
}

/* Where the parts of an arena of CAPACITY bytes, with NPROCS process slots
 * and NRECS epoch records, lie. */
struct shmc__geometry {
	uint64_t procs_off, recs_off, pagemap_off, data_off;
};
struct shmc__geometry shmc__arena_geometry(uint64_t capacity, uint32_t nprocs,
					   uint32_t nrecs);

/* Keep the numbers and places of slots, records, page map and data of
 * header H, which shmc__arena_validate_header accepted (or which this
 * process wrote): the shared header is never trusted for them again. */
void shmc__arena_set_layout(shmc_arena_t *a, const struct shmc__hdr *h);
/* The same from the header of a mapping that no attach validated (a view
 * of a mapping, a fuzzer's), bounded by the limits and by the mapping:
 * no slots and no records, and no data, when they are out of bounds. */
void shmc__arena_adopt_limits(shmc_arena_t *a);

/* Reserve backing memory for [OFF, OFF+LEN) of the file FD; retried when
 * a signal interrupts it. @return 0, SHMC_EFULL (any other failure) */
int shmc__arena_reserve(int fd, uint64_t off, uint64_t len);

/* A new, unattached handle (no file, no mapping), or NULL; and freeing one
 * with whatever it has (mapping, descriptors, path, handle-table mirror).
 * The handle's own memory is kept, closed (magic 0), and serves a new
 * arena only once SHMC__ARENA_QUARANTINE others have been closed since: a
 * handle used after its close is refused, not a use after free. */
#define SHMC__ARENA_QUARANTINE 64u
shmc_arena_t *shmc__arena_handle_new(void);
void shmc__arena_handle_free(shmc_arena_t *a);

/* The lock that orders closing an arena (its magic cleared under it, its
 * mapping removed after) with a thread's exit, which marks the thread's
 * epoch records idle only if the arena is still open (epoch.c). */
void shmc__arena_close_lock(void);
void shmc__arena_close_unlock(void);
/* Whether A is open with serial number SERIAL (the close lock held). */
static inline bool shmc__arena_open_locked(const shmc_arena_t *a, uint64_t serial)
{
	return ld_relaxed(&a->magic) == SHMC__ARENA_HANDLE_MAGIC && a->serial == serial;
}

/* Map all CAPACITY bytes of a->fd, read-write and shared. @return 0, -errno */
int shmc__arena_map(shmc_arena_t *a, uint64_t capacity);
/* Map the pages of [OFF, OFF+LEN) of A's mapping now, writable, in one
 * call, before they are touched. Best effort: where the kernel cannot, the
 * first access maps each page as before. */
void shmc__arena_prefault(shmc_arena_t *a, uint64_t off, uint64_t len);

/* The expensive half of an asymmetric barrier pair (the epoch's advance,
 * a marked lock's sleeper): where A's other side relies on membarrier(2)
 * (a->membarrier), a full barrier on every thread of every attached
 * process; elsewhere a fence, paired with the other side's. @return false
 * when membarrier(2) failed (ENOMEM, a seccomp filter installed since): a
 * fence here would not order the other side's accesses. */
bool shmc__arena_barrier_all(const shmc_arena_t *a);

/* The path of arena NAME: "name" means /dev/shm/name; a name with a '/' is
 * a path. *out receives a malloc'd copy. @return 0, -EINVAL, -ENOMEM */
int shmc__arena_path(const char *name, char **out);

/* Open the file of a named arena (no symlinks, FIFOs do not block).
 * *path receives its path. @return fd or -errno */
int shmc__arena_open_fd(const char *name, int flags, char **path);
/* Check an arena file's type, owner, mode and header before it is mapped;
 * reads only. *h receives the header. FINGERPRINT is the layout this build
 * expects (lifecycle/layout.c). @return 0 or the refusal code */
int shmc__arena_validate(int fd, struct shmc__hdr *h, uint64_t *capacity,
			 uint64_t fingerprint);
/* The header checks of shmc__arena_validate, on a header already read from
 * a file of FILE_SIZE bytes. @return 0 or the refusal code */
int shmc__arena_validate_header(const struct shmc__hdr *h, uint64_t file_size,
				uint64_t *capacity, uint64_t fingerprint);

#endif
