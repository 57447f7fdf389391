/*
 * shmc.h -- shared-memory managed containers for multiprocess C programs.
 *
 * Overview
 * ========
 * shmc gives C programs what Python's multiprocessing.Manager gives Python
 * programs -- a shared Namespace, lists and dicts that any process mutates in
 * place -- but the objects live directly in shared memory, so an operation
 * costs nanoseconds instead of an IPC round trip.
 *
 * An ARENA is a shared mapping. Create an anonymous one before fork(), or a
 * named one that unrelated processes open by name. Everything shared lives
 * inside it and is addressed by offsets, never by pointers, so processes may
 * map it at different addresses.
 *
 * MANAGED objects (namespace, list, dict, and the locks, events, barriers,
 * queues and numbers of the last section) live in the arena. A process holds
 * them through handles (shmc_obj_t *). Every operation on them is safe when
 * many processes and threads call it at once: writers serialise on a robust
 * process-shared lock, readers never take a lock and never wait for a writer
 * that has died.
 *
 * PLAIN values (none, bool, int, float, str, bytes, tuple, plain list, plain
 * dict) are what you store in managed objects. They follow Python's Manager
 * rules exactly:
 *   - storing a plain value copies it into the arena;
 *   - reading one out gives you a private deep copy on your own heap; changing
 *     that copy changes nothing shared until you store it back;
 *   - a managed object stored inside another (or inside a plain value) is
 *     shared by reference, so a copy that holds it still reaches the shared one.
 *
 * Arguments
 * =========
 * Unless a function's comment says otherwise:
 *   - pointer arguments are IN and BORROWED: read during the call only,
 *     still the caller's afterwards (names, paths, handles, options, FILE *);
 *   - a shmc_value_t stored into a managed object is copied into the arena:
 *     the caller keeps it (and frees it, if it owns it). The plain-value
 *     builders and the shmc_plist_* / shmc_pdict_* mutators instead TAKE the
 *     values given to them (see Ownership in the values section);
 *   - an OUT parameter (named out, or a pointer to what a call returns) is
 *     written only on success, and what it receives is the caller's: a handle
 *     to release with shmc_obj_release(), a value to free with
 *     shmc_value_free(), a string or buffer to free with shmc_free();
 *   - a pointer returned directly (shmc_seq_at, shmc_pdict_get) is borrowed
 *     from the value passed in (see Caveats: interior pointers);
 *   - a pointer argument may be NULL only where its comment says so (e.g.
 *     options: NULL for the defaults).
 *
 * Caveats
 * =======
 * - fork(): a child inherits the arenas and handles of its parent and may use
 *   them at once; shmc registers the child as a new process during fork()
 *   (pthread_atfork). Create anonymous arenas before fork(). A child created
 *   with vfork() or clone() without fork handlers must exec or _exit.
 * - Dying processes: a process may be killed at any instruction. Every
 *   operation is published with a single atomic store, so the others see it
 *   wholly applied or not at all; a lock held by the dead process is
 *   recovered by the next process that needs it; memory the dead process
 *   held is released when a survivor notices (see shmc_arena_reclaim()).
 *   What each lock, semaphore, condition, barrier and queue does when a
 *   process dies holding or waiting on it is listed in the last section.
 * - Returned values are yours: free them with shmc_value_free(). Returned
 *   strings are freed with shmc_free(). Handles are released with
 *   shmc_obj_release(). A handle belongs to the arena handle it came from and
 *   must not be used after shmc_arena_close().
 * - Cycles of managed objects (a list that contains itself) are not
 *   collected, exactly as with Python's Manager.
 * - Integers are 64-bit: arithmetic that would overflow fails with -ERANGE.
 * - Strings are UTF-8; storing an invalid one fails with -EILSEQ.
 * - Linking libshmc links jemalloc, which then serves the whole process's
 *   malloc(); private copies of values come from a jemalloc arena of their
 *   own. A build with JEMALLOC=0 uses the C library's malloc instead (for
 *   valgrind).
 * - Signals: no shmc function is async-signal-safe. They allocate, take
 *   process-local mutexes and may sleep on futexes; call none of them from
 *   a signal handler. (A fork() child may use shmc at once: the fork
 *   handlers prepare its process slot, and jemalloc has its own.)
 * - Threads: every function may be called by several threads at once, on
 *   the same arena handle and on the same object handle: a handle is not
 *   changed by the operations made through it. Releasing a handle
 *   (shmc_obj_release), or closing its arena (shmc_arena_close), while
 *   another thread still uses it is a use after free: release each handle
 *   once, after its last use, as with free(). shmc_obj_dup() gives a thread
 *   a handle of its own.
 * - A thread's record: each thread that uses an arena takes an epoch record
 *   (at most 1 024 threads at once, else SHMC_ETHREADS). When the thread
 *   exits the record becomes idle and is taken over by the next thread of
 *   the same process; blocks it had retired wait in it until then, or until
 *   shmc_arena_reclaim() frees what is safe to free.
 * - Lock order: the *_update callbacks (shmc_namespace_update,
 *   shmc_list_update, shmc_dict_update) run while the object's writer lock
 *   is held. A callback must not operate
 *   on the same object (the lock is not recursive: -EDEADLK) and should not
 *   operate on any other managed object: two processes doing that in
 *   opposite orders deadlock each other, as with any two locks. Reads of
 *   other objects are safe (readers take no lock). shmc_condition_wait_for's
 *   predicate runs holding the condition's own Lock, as in Python, and may
 *   use any object.
 * - Interior pointers: shmc_seq_at(), shmc_pdict_get() and shmc_pdict_entry()
 *   return pointers into a private value. They stay valid until that value
 *   is changed (any store into it may reallocate its storage) or freed; a
 *   value read again from the arena is a new copy with new pointers.
 * - Strings: every string shmc returns (shmc_obj_str, shmc_value_repr,
 *   views' dumps, a str or bytes value's text) ends in a NUL byte that is
 *   not counted in its length. A str or bytes value may itself contain NUL
 *   bytes: use its len, not strlen(). Returned strings are freed with
 *   shmc_free(); shmc_strerror(), shmc_errname() and shmc_version() return
 *   static strings, never to be freed.
 * - Names: a kind's functions carry its whole name (shmc_namespace_*,
 *   shmc_semaphore_*, ...). Lengths of managed containers are int64_t
 *   because they can fail (a negative length is an error code); lengths of
 *   plain values are size_t, because reading a private value cannot fail.
 *
 * Errors
 * ======
 * Every fallible function returns 0 (or a non-negative count) on success and a
 * negative number on failure: either a negated errno value (-ENOMEM, -EINVAL,
 * -ERANGE and the like) or one of the SHMC_E* codes below. shmc_strerror() and
 * shmc_errname() describe any of them. Out-parameters are written only on
 * success, and a failed call leaves every container exactly as it was.
 *
 * Three sets of codes recur, and the functions' comments name them:
 *   READ errors    SHMC_EHANDLE (a NULL, released or foreign handle),
 *                  SHMC_EKIND (a handle of another kind), SHMC_ECORRUPT (the
 *                  object fails its checks, or a repair after a writer died
 *                  failed), SHMC_ETHREADS (no epoch record left for this
 *                  thread), -ENOMEM (the private copy of a result);
 *   WRITE errors   the READ errors, and SHMC_EFULL (the arena is full);
 *   STORE errors   what storing a value V can fail with: SHMC_EDEPTH (nested
 *                  deeper than 512), -EILSEQ (a str that is not UTF-8),
 *                  SHMC_EARENA (a managed object of another arena inside V),
 *                  SHMC_EHANDLE (a released handle inside V), -EINVAL (a
 *                  malformed value), and the code of an SHMC_ERROR value.
 */
#ifndef SHMC_H
#define SHMC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SHMC_API __attribute__((visibility("default")))
#else
#define SHMC_API
#endif

#define SHMC_VERSION_MAJOR 0
#define SHMC_VERSION_MINOR 1
#define SHMC_VERSION_PATCH 0
#define SHMC_VERSION_STRING "0.1.0"

/** The library's version as "major.minor.patch". */
SHMC_API const char *shmc_version(void);

/* ------------------------------------------------------------------------ */
/** @defgroup errors Error codes
 * Library-specific failures take the range below -30900, clear of errno.
 * @{ */
#define SHMC_ERRORS(X)                                                        \
	X(EKIND, -30901, "handle is not of the kind this operation needs")    \
	X(EHANDLE, -30902, "null or invalid handle")                          \
	X(EINDEX, -30903, "index out of range")                              \
	X(EKEY, -30904, "key not found")                                     \
	X(EATTR, -30905, "attribute not found")                              \
	X(EUNHASHABLE, -30906, "unhashable type used as a dict key")         \
	X(ETYPE, -30907, "value is of the wrong type for this operation")    \
	X(EFULL, -30908, "arena is full")                                    \
	X(ENOTARENA, -30909, "file is not an shmc arena")                    \
	X(EVERSION, -30910, "arena has another format version")              \
	X(ELAYOUT, -30911, "arena was built with another memory layout")     \
	X(EINIT, -30912, "arena's creator died before it was initialised")   \
	X(ECORRUPT, -30913, "arena is corrupt")                              \
	X(EPROCS, -30914, "too many processes attached to the arena")        \
	X(ETHREADS, -30915, "too many threads using the arena")              \
	X(EDEPTH, -30916, "value nested too deeply")                         \
	X(ENOTREG, -30917, "arena path is not a regular file")               \
	X(EOWNER, -30918, "arena file belongs to another user")              \
	X(EMODE, -30919, "arena file is writable by others")                 \
	X(EOWNERDEAD, -30920, "acquired; the previous owner died")           \
	X(EARENA, -30921, "objects belong to different arenas")               \
	X(ENOTHELD, -30922, "lock is not held by the caller")                 \
	X(EBOUND, -30923, "semaphore released too many times")               \
	X(EBROKEN, -30924, "barrier is broken")                              \
	X(EQUEUEEMPTY, -30925, "queue is empty")                       \
	X(EQUEUEFULL, -30926, "queue is full")                         \
	X(ENOTASK, -30927, "task_done() called more times than items were put")

enum shmc_error {
#define SHMC_ERR_ENUM_(name, value, text) SHMC_##name = (value),
	SHMC_ERRORS(SHMC_ERR_ENUM_)
#undef SHMC_ERR_ENUM_
};

/** A message for any return code: 0, a negated errno value or SHMC_E*. */
SHMC_API const char *shmc_strerror(int err);
/** The symbolic name of a return code ("SHMC_EKEY", "ENOMEM", "OK"). */
SHMC_API const char *shmc_errname(int err);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup arena Arenas
 * @{ */
typedef struct shmc_arena shmc_arena_t;

/** Options for creating an arena; zero-initialise and set what you need. */
typedef struct shmc_arena_options {
	/** Bytes of address space to reserve; 0 means SHMC_DEFAULT_CAPACITY.
	 *  Memory is committed as it is used, so a large figure costs nothing
	 *  until it is filled. */
	size_t capacity;
	/** Permission bits of a named arena's file; 0 means 0600. */
	unsigned mode;
} shmc_arena_options_t;

#define SHMC_DEFAULT_CAPACITY ((size_t)4 << 30)
#define SHMC_MIN_CAPACITY ((size_t)4 << 20)

/** Create an anonymous arena (a memfd), to share with children by fork().
 * @return 0, -EINVAL (capacity out of range), -ENOMEM, -EMFILE */
SHMC_API int shmc_arena_create_anon(const shmc_arena_options_t *opts,
				    shmc_arena_t **out);

/** Create a named arena, exclusively. NAME is a file under /dev/shm when it
 * holds no '/', or else a path. Fails with -EEXIST if it exists.
 * @return 0, -EEXIST, -EINVAL, -ENOSPC, -EACCES, -ENOMEM */
SHMC_API int shmc_arena_create(const char *name,
			       const shmc_arena_options_t *opts,
			       shmc_arena_t **out);

/** Open an existing named arena. Nothing is written to the file before it
 * passes every check.
 * @return 0, -ENOENT, -ELOOP (a symlink), SHMC_ENOTREG, SHMC_EOWNER,
 *         SHMC_EMODE, SHMC_ENOTARENA, SHMC_EVERSION, SHMC_ELAYOUT,
 *         SHMC_EINIT, SHMC_ECORRUPT (a header that contradicts itself),
 *         SHMC_EPROCS, -ENOMEM */
SHMC_API int shmc_arena_open(const char *name, shmc_arena_t **out);

/** Remove a named arena's name; processes attached to it keep using it.
 * @return 0, -ENOENT, -EACCES */
SHMC_API int shmc_arena_unlink(const char *name);

/** Detach from an arena. Handles from it must have been released (any left
 * are released here). The arena itself lives on while any process uses it. */
SHMC_API void shmc_arena_close(shmc_arena_t *arena);

/** Free what can be freed now: memory retired by this process once no
 * process can still read it, and whatever dead processes left behind.
 * Returns the number of blocks freed, or a negative error. */
SHMC_API int64_t shmc_arena_reclaim(shmc_arena_t *arena);

/** Usage of one allocator size class. */
typedef struct shmc_class_stats {
	size_t block_size;  /**< bytes per block */
	uint64_t in_use;    /**< blocks handed out */
	uint64_t carved;    /**< blocks ever carved from the arena */
} shmc_class_stats_t;

#define SHMC_STATS_CLASSES 48 /**< classes reported in shmc_arena_stats_t */

/** A snapshot of an arena's memory use. */
typedef struct shmc_arena_stats {
	size_t capacity;       /**< bytes of address space reserved */
	size_t committed;      /**< bytes of backing memory reserved */
	size_t used;           /**< bytes carved out for blocks and metadata */
	size_t bytes_in_use;   /**< bytes in blocks handed out (by class size) */
	uint64_t blocks_in_use;
	unsigned nclasses;     /**< entries of classes[] filled */
	shmc_class_stats_t classes[SHMC_STATS_CLASSES]; /**< classes in use;
				 larger classes are summed into the last */
	unsigned processes;    /**< process slots in use */
	uint64_t lock_recoveries; /**< locks taken over from dead holders */
} shmc_arena_stats_t;

/** Fill *st with the arena's current usage. @return 0, SHMC_EHANDLE */
SHMC_API int shmc_arena_stats(shmc_arena_t *arena, shmc_arena_stats_t *st);

/** What shmc_arena_check() found. */
typedef struct shmc_check_report {
	uint64_t errors;         /**< broken invariants */
	uint64_t objects;        /**< managed objects reached */
	uint64_t blocks;         /**< blocks reached */
	uint64_t free_blocks;    /**< blocks on the free lists */
	uint64_t leaked_blocks;  /**< allocated, unreachable: left by killed operations */
	uint64_t leaked_bytes;
	uint64_t leaked_refs;    /**< references counted but not found */
	uint64_t dead_processes; /**< slots of dead processes not yet reaped */
	uint64_t reaped;         /**< SHMC_CHECK_REAP: dead slots released */
	uint64_t swept_blocks;   /**< SHMC_CHECK_SWEEP: leaked blocks freed */
} shmc_check_report_t;

/** Release what dead processes left behind (their handles and retired
 * memory). Safe at any time. */
#define SHMC_CHECK_REAP 1u
/** Free leaked blocks, drop uncounted references and recount the
 * allocator. Only while no other process is in the middle of an operation
 * (stopped, or waiting between operations): a block another process has
 * allocated but not yet published looks leaked. */
#define SHMC_CHECK_SWEEP 2u

/** Receives each finding of a check as one line of text. */
typedef void (*shmc_check_fn)(void *ctx, const char *message);

/** Walk the whole arena -- header, allocator, process slots, every managed
 * object reachable and every value -- and report each broken invariant to
 * FN (may be NULL). Every traversal is bounded: a corrupt arena gives
 * errors, never a hang or a crash. REPORT (may be NULL) receives the counts.
 * On a live arena the check is exact only while nobody changes it.
 * @return 0 when no invariant is broken, SHMC_ECORRUPT when one is,
 *         SHMC_EHANDLE, -ENOMEM */
SHMC_API int shmc_arena_check(shmc_arena_t *arena, unsigned flags,
			      shmc_check_report_t *report, shmc_check_fn fn,
			      void *ctx);

/** The same check on a named arena or arena file, without attaching to it
 * and without writing to it (a read-only mapping).
 * @return as shmc_arena_check, and the errors of shmc_arena_open */
SHMC_API int shmc_arena_check_file(const char *name, shmc_check_report_t *report,
			     shmc_check_fn fn, void *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup values Plain values
 * A shmc_value_t is a small tagged value you pass by value. Scalars are held
 * inline; a str or bytes is v.str and v.len. A str, bytes or managed reference
 * made with shmc_str(), shmc_bytes()
 * or shmc_ref() is a VIEW: it borrows your memory (or handle) and is never
 * freed by shmc. Values returned by shmc and values made by the builders
 * (shmc_tuple_of, shmc_plist_of, shmc_pdict_of, shmc_value_copy) OWN their
 * memory: release them with shmc_value_free().
 *
 * Ownership: builders and the shmc_plist_* / shmc_pdict_* mutators take
 * ownership of the values you pass them (views are copied). Functions that
 * store into managed objects copy the value and leave it with you.
 * A builder that fails returns a value of type SHMC_ERROR carrying the error
 * code in .i; storing such a value returns that code.
 * @{ */
typedef struct shmc_obj shmc_obj_t;

typedef enum shmc_type {
	SHMC_NONE = 0,
	SHMC_BOOL,
	SHMC_INT,
	SHMC_FLOAT,
	SHMC_STR,
	SHMC_BYTES,
	SHMC_TUPLE,
	SHMC_LIST, /**< a plain (unmanaged) list */
	SHMC_DICT, /**< a plain (unmanaged) dict */
	SHMC_REF,  /**< a reference to a managed object */
	SHMC_ERROR /**< a failed builder's result; .i holds the error */
} shmc_type_t;

struct shmc_seq;  /* tuple or plain list: opaque */
struct shmc_pmap; /* plain dict: opaque */

/* Sixteen bytes, so that it travels in two registers. */
typedef struct shmc_value {
	uint8_t type;      /**< a shmc_type_t */
	uint8_t owned;     /**< nonzero when shmc_value_free() must free it */
	uint16_t reserved_;
	uint32_t len;      /**< SHMC_STR, SHMC_BYTES: length in bytes */
	union {
		bool b;
		int64_t i;
		double f;
		const char *str;       /**< SHMC_STR, SHMC_BYTES: the bytes */
		struct shmc_seq *seq;  /**< SHMC_TUPLE, SHMC_LIST */
		struct shmc_pmap *map; /**< SHMC_DICT */
		shmc_obj_t *ref;       /**< SHMC_REF */
	};
} shmc_value_t;

static inline shmc_value_t shmc_none(void)
{
	shmc_value_t v = {SHMC_NONE, 0, 0, 0, {.i = 0}};
	return v;
}
static inline shmc_value_t shmc_bool(bool b)
{
	shmc_value_t v = {SHMC_BOOL, 0, 0, 0, {.b = b}};
	return v;
}
static inline shmc_value_t shmc_int(int64_t i)
{
	shmc_value_t v = {SHMC_INT, 0, 0, 0, {.i = i}};
	return v;
}
static inline shmc_value_t shmc_float(double f)
{
	shmc_value_t v = {SHMC_FLOAT, 0, 0, 0, {.f = f}};
	return v;
}
/** Strings and bytes are at most SHMC_MAX_LEN bytes long. */
#define SHMC_MAX_LEN UINT32_MAX
/** A view of LEN bytes of UTF-8 text at S (an SHMC_ERROR value holding
 * -EOVERFLOW if LEN exceeds SHMC_MAX_LEN). */
static inline shmc_value_t shmc_strn(const char *s, size_t len)
{
	shmc_value_t v = {SHMC_STR, 0, 0, (uint32_t)len, {.str = s}};
	shmc_value_t e = {SHMC_ERROR, 0, 0, 0, {.i = -EOVERFLOW}};
	return len > SHMC_MAX_LEN ? e : v;
}
/** A view of the NUL-terminated UTF-8 string S. */
SHMC_API shmc_value_t shmc_str(const char *s);
/** A view of LEN bytes at P (see shmc_strn for the limit). */
static inline shmc_value_t shmc_bytes(const void *p, size_t len)
{
	shmc_value_t v = shmc_strn((const char *)p, len);
	if (v.type == SHMC_STR)
		v.type = SHMC_BYTES;
	return v;
}
/** A view of a managed object, to store a reference to it. */
static inline shmc_value_t shmc_ref(shmc_obj_t *obj)
{
	shmc_value_t v = {SHMC_REF, 0, 0, 0, {.ref = obj}};
	return v;
}

/** A tuple of the N values that follow (taken over). */
SHMC_API shmc_value_t shmc_tuple_of(size_t n, ...);
/** A plain list of the N values that follow (taken over). */
SHMC_API shmc_value_t shmc_plist_of(size_t n, ...);
/** A plain dict of N key/value pairs that follow: k1, v1, k2, v2 ...
 * (taken over). A later duplicate key replaces the earlier value. */
SHMC_API shmc_value_t shmc_pdict_of(size_t npairs, ...);

/** Release what V owns (recursively) and set it to none. Views and scalars
 * are left alone. Safe on a none value. */
SHMC_API void shmc_value_free(shmc_value_t *v);
/** A deep copy of V that owns all its memory (views are copied; references
 * get handles of their own). @return 0, -ENOMEM */
SHMC_API int shmc_value_copy(shmc_value_t v, shmc_value_t *out);
/** Python's ==: 1 == 1.0 == True, (1, 'a') == (1.0, 'a'), [1] != (1,);
 * references are equal when they name the same managed object. */
SHMC_API bool shmc_value_eq(shmc_value_t a, shmc_value_t b);

/** Items of a tuple or plain list: their number (0 for other types). */
SHMC_API size_t shmc_seq_len(shmc_value_t v);
/** Item I of a tuple or plain list, borrowed from V (Python's negative
 * indices work); NULL when out of range or not a sequence. Changing the item
 * in place changes V, and nothing shared. */
SHMC_API shmc_value_t *shmc_seq_at(shmc_value_t v, int64_t i);
/** Append ITEM (taken over) to the plain list *L. @return 0, SHMC_ETYPE, -ENOMEM */
SHMC_API int shmc_plist_append(shmc_value_t *l, shmc_value_t item);
/** Replace item I of plain list *L with ITEM (taken over).
 * @return 0, SHMC_ETYPE, SHMC_EINDEX, -ENOMEM */
SHMC_API int shmc_plist_set(shmc_value_t *l, int64_t i, shmc_value_t item);

/** Entries of a plain dict (0 for other types). */
SHMC_API size_t shmc_pdict_len(shmc_value_t d);
/** The value for KEY in plain dict D, borrowed; NULL when missing. */
SHMC_API shmc_value_t *shmc_pdict_get(shmc_value_t d, shmc_value_t key);
/** Set KEY to VAL (both taken over) in plain dict *D.
 * @return 0, SHMC_ETYPE, SHMC_EUNHASHABLE, -ENOMEM */
SHMC_API int shmc_pdict_set(shmc_value_t *d, shmc_value_t key, shmc_value_t val);
/** Remove KEY from plain dict *D. @return 0, SHMC_EKEY, SHMC_ETYPE */
SHMC_API int shmc_pdict_del(shmc_value_t *d, shmc_value_t key);
/** Key and value of entry I (insertion order) of plain dict D, borrowed.
 * @return 0, SHMC_EINDEX, SHMC_ETYPE */
SHMC_API int shmc_pdict_entry(shmc_value_t d, size_t i, shmc_value_t **key,
			      shmc_value_t **val);

/** Python's repr() of V, as a new string (free with shmc_free()).
 * @return 0, -ENOMEM, SHMC_EDEPTH */
SHMC_API int shmc_value_repr(shmc_value_t v, char **out);
/** Python's str() of V: like repr but a top-level str is not quoted.
 * @return 0, -ENOMEM, SHMC_EDEPTH */
SHMC_API int shmc_value_str(shmc_value_t v, char **out);
/** Free a string returned by shmc. */
SHMC_API void shmc_free(void *p);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup objects Managed objects, common operations
 * @{ */
typedef enum shmc_kind {
	SHMC_KIND_NAMESPACE = 1,
	SHMC_KIND_LIST,
	SHMC_KIND_DICT,
	SHMC_KIND_LOCK,
	SHMC_KIND_RLOCK,
	SHMC_KIND_SEMAPHORE,
	SHMC_KIND_BOUNDED_SEMAPHORE,
	SHMC_KIND_CONDITION,
	SHMC_KIND_EVENT,
	SHMC_KIND_BARRIER,
	SHMC_KIND_QUEUE,
	SHMC_KIND_JOINABLE_QUEUE,
	SHMC_KIND_VALUE,
	SHMC_KIND_ARRAY,
} shmc_kind_t;

/** The kind of managed object H names, or 0 for a null or invalid handle. */
SHMC_API shmc_kind_t shmc_obj_kind(const shmc_obj_t *h);
/** The arena H lives in, or NULL. */
SHMC_API shmc_arena_t *shmc_obj_arena(const shmc_obj_t *h);
/** A second handle to the same object. @return 0, SHMC_EHANDLE, -ENOMEM */
SHMC_API int shmc_obj_dup(shmc_obj_t *h, shmc_obj_t **out);
/** Let go of a handle. The object is freed once no container refers to it
 * and no process holds a handle to it. NULL is ignored. */
SHMC_API void shmc_obj_release(shmc_obj_t *h);
/** Whether two handles name the same managed object. */
SHMC_API bool shmc_obj_same(const shmc_obj_t *a, const shmc_obj_t *b);
/** Python's str() of the proxy: the object's contents, e.g. "[1, [1]]",
 * "{0: 1}", "Namespace(x=1, y=[1])". @return 0, SHMC_EHANDLE, -ENOMEM */
SHMC_API int shmc_obj_str(shmc_obj_t *h, char **out);
/** Python's repr() of the proxy: "<ListProxy object, typeid 'list' at 0x…>".
 * The address is the object's address in this process's mapping.
 * @return 0, SHMC_EHANDLE, SHMC_ECORRUPT, -ENOMEM */
SHMC_API int shmc_obj_repr(const shmc_obj_t *h, char **out);
/** Write shmc_obj_str(H) and a newline to F (borrowed).
 * @return 0, shmc_obj_str's errors, -EIO (the write failed) */
SHMC_API int shmc_obj_print(shmc_obj_t *h, FILE *f);
/** Write shmc_value_str(V) and a newline to F (borrowed).
 * @return 0, shmc_value_str's errors, -EIO (the write failed) */
SHMC_API int shmc_value_print(shmc_value_t v, FILE *f);

/** A caller's function for the *_update operations: it gets a private copy
 * of the current value and changes it in place (replacing it is fine: free
 * the old one). Return 0 to store the result, or a negative code to abort
 * with nothing changed. It runs while the object is locked: it must not use
 * the same object, and should be quick. */
typedef int (*shmc_update_fn)(shmc_value_t *value, void *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup namespace Namespace
 * Python's manager.Namespace(): named attributes holding values.
 * @{ */
/** A new empty namespace. @return 0, SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_namespace_new(shmc_arena_t *arena, shmc_obj_t **out);
/** ns.NAME = V. @return 0, -EINVAL (an empty name), the WRITE and STORE
 * errors */
SHMC_API int shmc_namespace_set(shmc_obj_t *ns, const char *name, shmc_value_t v);
/** *out = ns.NAME, a private copy. @return 0, SHMC_EATTR, the READ errors */
SHMC_API int shmc_namespace_get(shmc_obj_t *ns, const char *name, shmc_value_t *out);
/** del ns.NAME. @return 0, SHMC_EATTR, the WRITE errors */
SHMC_API int shmc_namespace_del(shmc_obj_t *ns, const char *name);
/** hasattr(ns, NAME): 1 or 0, or one of the READ errors. */
SHMC_API int shmc_namespace_has(shmc_obj_t *ns, const char *name);
/** The attribute names, sorted, as a plain list of str (OUT, to free with
 * shmc_value_free). @return 0, the READ errors */
SHMC_API int shmc_namespace_names(shmc_obj_t *ns, shmc_value_t *out);
/** Atomically ns.NAME += DELTA (int or float); *result (may be NULL) gets
 * the new value. @return 0, SHMC_EATTR, SHMC_ETYPE (not a number), -ERANGE
 * (64-bit overflow), the WRITE errors */
SHMC_API int shmc_namespace_add(shmc_obj_t *ns, const char *name, shmc_value_t delta,
			 shmc_value_t *result);
/** Atomically: if ns.NAME == EXPECTED (Python's ==), set it to DESIRED.
 * @return 1 if swapped, 0 if not, SHMC_EATTR, the WRITE and STORE errors */
SHMC_API int shmc_namespace_cas(shmc_obj_t *ns, const char *name,
			 shmc_value_t expected, shmc_value_t desired);
/** Atomically apply FN to ns.NAME with no other writer in between.
 * @return 0, FN's error, SHMC_EATTR, the WRITE and STORE errors */
SHMC_API int shmc_namespace_update(shmc_obj_t *ns, const char *name,
			    shmc_update_fn fn, void *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup list List
 * Python's manager.list(). Indices may be negative, as in Python.
 * @{ */
/** A new empty list. @return 0, SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_list_new(shmc_arena_t *arena, shmc_obj_t **out);
/** A new list holding copies of the items of tuple or plain list ITEMS,
 * as manager.list([...]). @return as shmc_list_new, and SHMC_ETYPE */
SHMC_API int shmc_list_new_from(shmc_arena_t *arena, shmc_value_t items,
				shmc_obj_t **out);
/** len(ls), or one of the READ errors. */
SHMC_API int64_t shmc_list_len(shmc_obj_t *ls);
/** *out = ls[I], a private copy. @return 0, SHMC_EINDEX, the READ errors */
SHMC_API int shmc_list_get(shmc_obj_t *ls, int64_t i, shmc_value_t *out);
/** ls[I] = V. @return 0, SHMC_EINDEX, the WRITE and STORE errors */
SHMC_API int shmc_list_set(shmc_obj_t *ls, int64_t i, shmc_value_t v);
/** ls.append(V). @return 0, the WRITE and STORE errors */
SHMC_API int shmc_list_append(shmc_obj_t *ls, shmc_value_t v);
/** ls.insert(I, V), clamping I as Python does. @return 0, the WRITE and
 * STORE errors */
SHMC_API int shmc_list_insert(shmc_obj_t *ls, int64_t i, shmc_value_t v);
/** *out = ls.pop(I) (OUT may be NULL). @return 0, SHMC_EINDEX, the WRITE
 * errors */
SHMC_API int shmc_list_pop(shmc_obj_t *ls, int64_t i, shmc_value_t *out);
/** del ls[I]. @return 0, SHMC_EINDEX, the WRITE errors */
SHMC_API int shmc_list_del(shmc_obj_t *ls, int64_t i);
/** ls.extend(ITEMS), ITEMS a tuple or plain list; all or nothing.
 * @return 0, SHMC_ETYPE (ITEMS is not a sequence), the WRITE and STORE errors */
SHMC_API int shmc_list_extend(shmc_obj_t *ls, shmc_value_t items);
/** ls.clear(). @return 0, the WRITE errors */
SHMC_API int shmc_list_clear(shmc_obj_t *ls);
/** ls.remove(V): delete the first item equal to V (Python's ==).
 * @return 0, SHMC_EINDEX (no such item), the WRITE errors */
SHMC_API int shmc_list_remove(shmc_obj_t *ls, shmc_value_t v);
/** ls.index(V): the position of the first item equal to V, SHMC_EINDEX, or
 * one of the READ errors. */
SHMC_API int64_t shmc_list_index(shmc_obj_t *ls, shmc_value_t v);
/** list(ls): a consistent snapshot as a plain list, to iterate (OUT, to free
 * with shmc_value_free). @return 0, the READ errors */
SHMC_API int shmc_list_copy(shmc_obj_t *ls, shmc_value_t *out);
/** Atomically ls[I] += DELTA; see shmc_namespace_add. */
SHMC_API int shmc_list_add(shmc_obj_t *ls, int64_t i, shmc_value_t delta,
			   shmc_value_t *result);
/** Atomic compare-and-set of ls[I]; see shmc_namespace_cas. */
SHMC_API int shmc_list_cas(shmc_obj_t *ls, int64_t i, shmc_value_t expected,
			   shmc_value_t desired);
/** Atomically apply FN to ls[I]; see shmc_namespace_update. */
SHMC_API int shmc_list_update(shmc_obj_t *ls, int64_t i, shmc_update_fn fn,
			      void *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup dict Dict
 * Python's manager.dict(), in insertion order. Keys are none, bool, int,
 * float, str, bytes and tuples of those, with Python's equality: 1, 1.0 and
 * True are one key. A list, dict or managed reference as a key fails with
 * SHMC_EUNHASHABLE.
 * @{ */
/** A new empty dict. @return 0, SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_dict_new(shmc_arena_t *arena, shmc_obj_t **out);
/** A new dict holding copies of the entries of plain dict ENTRIES.
 * @return 0, SHMC_ETYPE (not a plain dict), SHMC_EUNHASHABLE, the WRITE and
 * STORE errors */
SHMC_API int shmc_dict_new_from(shmc_arena_t *arena, shmc_value_t entries,
				shmc_obj_t **out);
/** len(d), or one of the READ errors. */
SHMC_API int64_t shmc_dict_len(shmc_obj_t *d);
/** *out = d[KEY], a private copy. @return 0, SHMC_EKEY, SHMC_EUNHASHABLE,
 * the READ errors */
SHMC_API int shmc_dict_get(shmc_obj_t *d, shmc_value_t key, shmc_value_t *out);
/** d[KEY] = V. @return 0, SHMC_EUNHASHABLE, the WRITE and STORE errors */
SHMC_API int shmc_dict_set(shmc_obj_t *d, shmc_value_t key, shmc_value_t v);
/** del d[KEY]. @return 0, SHMC_EKEY, SHMC_EUNHASHABLE, the WRITE errors */
SHMC_API int shmc_dict_del(shmc_obj_t *d, shmc_value_t key);
/** KEY in d: 1 or 0, SHMC_EUNHASHABLE, or one of the READ errors. */
SHMC_API int shmc_dict_has(shmc_obj_t *d, shmc_value_t key);
/** *out = d.pop(KEY) (OUT may be NULL). @return 0, SHMC_EKEY,
 * SHMC_EUNHASHABLE, the WRITE errors */
SHMC_API int shmc_dict_pop(shmc_obj_t *d, shmc_value_t key, shmc_value_t *out);
/** *out = d.setdefault(KEY, DFLT) (OUT may be NULL). @return 0,
 * SHMC_EUNHASHABLE, the WRITE and STORE errors */
SHMC_API int shmc_dict_setdefault(shmc_obj_t *d, shmc_value_t key,
				  shmc_value_t dflt, shmc_value_t *out);
/** d.clear(). @return 0, the WRITE errors */
SHMC_API int shmc_dict_clear(shmc_obj_t *d);
/** A consistent snapshot as a plain list of keys / values / (key, value)
 * tuples, in insertion order, to iterate (OUT, to free with
 * shmc_value_free). @return 0, the READ errors */
SHMC_API int shmc_dict_keys(shmc_obj_t *d, shmc_value_t *out);
SHMC_API int shmc_dict_values(shmc_obj_t *d, shmc_value_t *out);
SHMC_API int shmc_dict_items(shmc_obj_t *d, shmc_value_t *out);
/** dict(d): a consistent snapshot as a plain dict (OUT, to free with
 * shmc_value_free). @return 0, the READ errors */
SHMC_API int shmc_dict_copy(shmc_obj_t *d, shmc_value_t *out);
/** Atomically d[KEY] += DELTA; see shmc_namespace_add (SHMC_EKEY when missing). */
SHMC_API int shmc_dict_add(shmc_obj_t *d, shmc_value_t key, shmc_value_t delta,
			   shmc_value_t *result);
/** Atomic compare-and-set of d[KEY]; see shmc_namespace_cas. */
SHMC_API int shmc_dict_cas(shmc_obj_t *d, shmc_value_t key,
			   shmc_value_t expected, shmc_value_t desired);
/** Atomically apply FN to d[KEY]; see shmc_namespace_update. */
SHMC_API int shmc_dict_update(shmc_obj_t *d, shmc_value_t key,
			      shmc_update_fn fn, void *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup sync Locks, conditions, events, barriers, queues and numbers
 * The rest of what Python's SyncManager serves -- Lock, RLock, Semaphore,
 * BoundedSemaphore, Condition, Event, Barrier, Queue, JoinableQueue, Value
 * and Array -- as managed objects in the arena. They are shared like the
 * containers: by fork(), by opening a named arena, and by reference when
 * stored in a list, dict or namespace (shmc_ref()).
 *
 * Timeouts are in seconds, as Python takes them: SHMC_FOREVER waits without
 * limit, SHMC_NOWAIT tries once (Python's block=False). Where Python returns
 * False on a timeout, these functions return -ETIMEDOUT; where it raises
 * Empty or Full, SHMC_EQUEUEEMPTY or SHMC_EQUEUEFULL. A negative timeout other than
 * SHMC_FOREVER, or NaN, is -EINVAL. Waiting spins briefly, then sleeps on a
 * futex in naps of at most 10 ms, so that a wake-up lost with a dying
 * process is only a delay; a wake-up wakes only whom it must (a release or
 * put one sleeper, notify(n) n of them).
 *
 * Dying processes never wedge these objects. Death is told by process
 * tokens (a slot and its generation, whose liveness the kernel keeps), never
 * by pids. What happens when a process dies:
 *
 *   Lock, RLock      killed holding it: the next acquirer gets it with
 *                    SHMC_EOWNERDEAD (an RLock at recursion level 1).
 *   Semaphore,       the permits each process holds are counted per process;
 *   BoundedSemaphore a dead holder's permits come back, and the acquirer that
 *                    reclaims them gets its permit with SHMC_EOWNERDEAD.
 *                    Permits are not owned in Python: a release by a process
 *                    that holds none is counted against another process that
 *                    holds one (so that permit no longer comes back if that
 *                    process dies); only when none is held does the count of
 *                    permits grow (a BoundedSemaphore then fails SHMC_EBOUND).
 *   Condition        a waiter killed is skipped by notify (notify(1) still
 *                    wakes one live waiter); the notification of a waiter
 *                    killed after being notified, before it woke, is passed
 *                    on to a live waiter (within a nap). A wait() that
 *                    re-acquires the lock from a dead holder returns
 *                    SHMC_EOWNERDEAD (holding the lock).
 *   Event            nothing to recover: every change is one atomic store.
 *   Barrier          a party killed after arriving breaks the barrier: the
 *                    others get SHMC_EBROKEN instead of waiting forever.
 *   Queue            an item is either in the queue or delivered: a process
 *                    killed inside put() or get() leaves the queue as before
 *                    or after its operation, never half. A killed waiter
 *                    affects no one else.
 *   JoinableQueue    tasks taken by a consumer that dies are counted done,
 *                    so join() returns once the living are done.
 *   Value, Array     every change is one atomic store or compare-and-swap.
 *
 * Memory a killed process had allocated but not yet published (an item it
 * was putting) is reported as leaked by shmc_arena_check(), which can sweep
 * it.
 * @{ */
#define SHMC_FOREVER (-1.0) /**< timeout: wait without limit */
#define SHMC_NOWAIT (0.0)   /**< timeout: do not wait */

/** Python's manager.Lock(). Any process may release it (as Python allows),
 * but acquiring it twice from one thread fails rather than deadlocking.
 * @return 0, SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_lock_new(shmc_arena_t *arena, shmc_obj_t **out);
/** Python's manager.RLock(): owned by one thread, re-entrant; only the
 * owner may release it. @return as shmc_lock_new */
SHMC_API int shmc_rlock_new(shmc_arena_t *arena, shmc_obj_t **out);
/** lock.acquire(timeout=TIMEOUT), for a Lock or an RLock.
 * @return 0 (acquired), SHMC_EOWNERDEAD (acquired from a holder that died:
 *         what it protected may be half changed), -ETIMEDOUT (not acquired
 *         in time, SHMC_NOWAIT included), -EDEADLK (a Lock this thread
 *         already holds), -EOVERFLOW (RLock recursion over 2^32 - 1),
 *         -EINVAL, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_lock_acquire(shmc_obj_t *lock, double timeout);
/** lock.release(), for a Lock or an RLock.
 * @return 0, SHMC_ENOTHELD (a Lock that is not locked; an RLock this thread
 *         does not own), SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_lock_release(shmc_obj_t *lock);

/** Python's manager.Semaphore(VALUE) (VALUE >= 0).
 * @return 0, -EINVAL (VALUE negative or over UINT32_MAX), SHMC_EHANDLE,
 *         SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_semaphore_new(shmc_arena_t *arena, int64_t value, shmc_obj_t **out);
/** Python's manager.BoundedSemaphore(VALUE). @return as shmc_semaphore_new */
SHMC_API int shmc_bounded_semaphore_new(shmc_arena_t *arena, int64_t value, shmc_obj_t **out);
/** sem.acquire(timeout=TIMEOUT), for either kind of semaphore.
 * @return 0, SHMC_EOWNERDEAD (the permit came back from a holder that
 *         died), -ETIMEDOUT, -EOVERFLOW (2^32 - 1 permits held by this
 *         process), -EINVAL, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_semaphore_acquire(shmc_obj_t *sem, double timeout);
/** sem.release(). @return 0, SHMC_EBOUND (a BoundedSemaphore already at
 *         its initial value), -EOVERFLOW (a Semaphore at UINT32_MAX),
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_semaphore_release(shmc_obj_t *sem);
/** The number of permits available now, or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int64_t shmc_semaphore_value(shmc_obj_t *sem);

/** Python's manager.Condition(LOCK): bound to LOCK, a Lock or an RLock of
 * the same arena, or to an RLock of its own when LOCK is NULL.
 * @return 0, SHMC_EKIND (LOCK is neither), SHMC_EARENA, SHMC_EHANDLE,
 *         SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_condition_new(shmc_arena_t *arena, shmc_obj_t *lock, shmc_obj_t **out);
/** A handle to the condition's lock. @return 0, SHMC_EHANDLE, SHMC_EKIND,
 *         -ENOMEM */
SHMC_API int shmc_condition_lock(shmc_obj_t *cond, shmc_obj_t **out);
/** cond.acquire(timeout=TIMEOUT): acquires the condition's lock.
 * @return as shmc_lock_acquire */
SHMC_API int shmc_condition_acquire(shmc_obj_t *cond, double timeout);
/** cond.release(). @return as shmc_lock_release */
SHMC_API int shmc_condition_release(shmc_obj_t *cond);
/** cond.wait(timeout=TIMEOUT): release the lock (all levels of an RLock),
 * sleep until notified or TIMEOUT, and re-acquire the lock (without a time
 * limit, as Python does) before returning -- in every case but
 * SHMC_ENOTHELD and -EINVAL.
 * @return 0 (notified), -ETIMEDOUT, SHMC_EOWNERDEAD (re-acquired the lock
 *         from a holder that died; treat as a spurious wake-up),
 *         SHMC_ENOTHELD (the caller does not hold the lock), -EINVAL,
 *         SHMC_EFULL, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_condition_wait(shmc_obj_t *cond, double timeout);
/** What cond.wait_for() evaluates, called with the lock held. */
typedef bool (*shmc_pred_fn)(void *ctx);
/** cond.wait_for(PRED, timeout=TIMEOUT): wait until PRED(CTX) is true.
 * @return 0 (PRED is true), -ETIMEDOUT (still false), SHMC_EOWNERDEAD (the
 *         lock was re-acquired from a dead holder on the way; PRED's value
 *         is unknown), and the errors of shmc_condition_wait */
SHMC_API int shmc_condition_wait_for(shmc_obj_t *cond, shmc_pred_fn pred, void *ctx,
				double timeout);
/** cond.notify(N): wake up to N waiters, oldest first, skipping dead ones.
 * @return the number woken, SHMC_ENOTHELD, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT */
SHMC_API int shmc_condition_notify(shmc_obj_t *cond, int n);
/** cond.notify_all(). @return as shmc_condition_notify */
SHMC_API int shmc_condition_notify_all(shmc_obj_t *cond);

/** Python's manager.Event(), initially unset.
 * @return 0, SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_event_new(shmc_arena_t *arena, shmc_obj_t **out);
/** event.set(): wakes every waiter. @return 0, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_event_set(shmc_obj_t *ev);
/** event.clear(). @return 0, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_event_clear(shmc_obj_t *ev);
/** event.is_set(): 1 or 0, or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int shmc_event_is_set(shmc_obj_t *ev);
/** event.wait(timeout=TIMEOUT).
 * @return 0 (set), -ETIMEDOUT, -EINVAL, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_event_wait(shmc_obj_t *ev, double timeout);

/** Python's manager.Barrier(PARTIES) (1 <= PARTIES < 2^20), without
 * Python's action and default timeout.
 * @return 0, -EINVAL, SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_barrier_new(shmc_arena_t *arena, unsigned parties, shmc_obj_t **out);
/** barrier.wait(timeout=TIMEOUT).
 * @return the arrival index, 0 to parties - 1 (parties - 1 for the party
 *         that trips the barrier); SHMC_EBROKEN (the barrier is or became
 *         broken: aborted, reset while waiting, timed out or left by a dead
 *         party); -ETIMEDOUT (this call timed out, which breaks the barrier
 *         for the others, as in Python); -EINVAL, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT */
SHMC_API int shmc_barrier_wait(shmc_obj_t *b, double timeout);
/** barrier.abort(): break it; waiters get SHMC_EBROKEN.
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_barrier_abort(shmc_obj_t *b);
/** barrier.reset(): back to its initial state; waiters get SHMC_EBROKEN.
 * @return as shmc_barrier_abort */
SHMC_API int shmc_barrier_reset(shmc_obj_t *b);
/** barrier.parties, or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int64_t shmc_barrier_parties(shmc_obj_t *b);
/** barrier.n_waiting (0 when broken), or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int64_t shmc_barrier_n_waiting(shmc_obj_t *b);
/** barrier.broken: 1 or 0, or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int shmc_barrier_broken(shmc_obj_t *b);

/** Python's manager.Queue(MAXSIZE): MAXSIZE <= 0 is unbounded. Items are
 * any value: plain values travel as copies, managed objects by reference.
 * @return 0, SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_queue_new(shmc_arena_t *arena, int64_t maxsize, shmc_obj_t **out);
/** Python's manager.JoinableQueue(MAXSIZE): a Queue with task_done() and
 * join(). @return as shmc_queue_new */
SHMC_API int shmc_joinable_queue_new(shmc_arena_t *arena, int64_t maxsize, shmc_obj_t **out);
/** q.put(V, timeout=TIMEOUT) (SHMC_NOWAIT: block=False). V is copied.
 * @return 0, SHMC_EQUEUEFULL (no room in time), SHMC_EFULL (the arena),
 *         -EINVAL, -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_queue_put(shmc_obj_t *q, shmc_value_t v, double timeout);
/** q.put_nowait(V). @return as shmc_queue_put */
SHMC_API int shmc_queue_put_nowait(shmc_obj_t *q, shmc_value_t v);
/** *out = q.get(timeout=TIMEOUT), a private copy, in FIFO order.
 * @return 0, SHMC_EQUEUEEMPTY (nothing came in time), -ENOMEM, -EINVAL,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_queue_get(shmc_obj_t *q, double timeout, shmc_value_t *out);
/** *out = q.get_nowait(). @return as shmc_queue_get */
SHMC_API int shmc_queue_get_nowait(shmc_obj_t *q, shmc_value_t *out);
/** q.qsize(), or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int64_t shmc_queue_qsize(shmc_obj_t *q);
/** q.empty(): 1 or 0, or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int shmc_queue_empty(shmc_obj_t *q);
/** q.full(): 1 or 0 (always 0 when unbounded), or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int shmc_queue_full(shmc_obj_t *q);
/** q.task_done(), for a JoinableQueue.
 * @return 0, SHMC_ENOTASK (more calls than items put), SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_queue_task_done(shmc_obj_t *q);
/** q.join(), for a JoinableQueue: wait until every item put has been
 * marked done (or was taken by a process that died).
 * @return 0, -ETIMEDOUT, -EINVAL, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_queue_join(shmc_obj_t *q, double timeout);

/** Python's manager.Value(TYPECODE, V), with a C element of one of the
 * array module's typecodes: b B h H i I l L q Q (integers) or f d (float,
 * double). Named "num" so as not to clash with the shmc_value_* functions
 * of plain values. Reads and writes are single atomic operations on the
 * element (lock-free); 64-bit unsigned elements hold 0 .. INT64_MAX, since
 * shmc integers are 64-bit signed.
 * @return 0, -EINVAL (unknown typecode), SHMC_ETYPE (V is not a number, or
 *         a float for an integer typecode), -ERANGE (V does not fit),
 *         SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_cvalue_new(shmc_arena_t *arena, char typecode, shmc_value_t v,
			  shmc_obj_t **out);
/** *out = value.value (an int, or a float for f and d).
 * @return 0, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_cvalue_get(shmc_obj_t *num, shmc_value_t *out);
/** value.value = V. @return 0, SHMC_ETYPE, -ERANGE, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_cvalue_set(shmc_obj_t *num, shmc_value_t v);
/** Atomically value.value += DELTA; *result (may be NULL) gets the new
 * value. Integer elements refuse a float DELTA (SHMC_ETYPE) and a result
 * out of their range (-ERANGE, nothing changed).
 * @return 0, SHMC_ETYPE, -ERANGE, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_cvalue_add(shmc_obj_t *num, shmc_value_t delta, shmc_value_t *result);
/** Atomically: if value.value == EXPECTED (numerically), set it to DESIRED.
 * @return 1 if swapped, 0 if not, SHMC_ETYPE, -ERANGE (DESIRED does not
 *         fit), SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_cvalue_cas(shmc_obj_t *num, shmc_value_t expected, shmc_value_t desired);
/** The typecode ('i', 'd', 'q' and the rest of the array module's), or
 * SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int shmc_cvalue_typecode(shmc_obj_t *num);

/** Python's manager.Array(TYPECODE, INIT): INIT is a tuple or plain list of
 * numbers, or an int N for N zeros. Elements are as in shmc_cvalue_new; each is
 * read and changed atomically, the array as a whole is not a snapshot.
 * @return 0, -EINVAL, SHMC_ETYPE, -ERANGE, SHMC_EHANDLE, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_array_new(shmc_arena_t *arena, char typecode, shmc_value_t init,
			    shmc_obj_t **out);
/** len(array), or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int64_t shmc_array_len(shmc_obj_t *arr);
/** *out = array[I] (negative I counts from the end).
 * @return 0, SHMC_EINDEX, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_array_get(shmc_obj_t *arr, int64_t i, shmc_value_t *out);
/** array[I] = V. @return 0, SHMC_EINDEX, SHMC_ETYPE, -ERANGE, SHMC_EHANDLE,
 *         SHMC_EKIND */
SHMC_API int shmc_array_set(shmc_obj_t *arr, int64_t i, shmc_value_t v);
/** Atomically array[I] += DELTA; see shmc_cvalue_add.
 * @return 0, SHMC_EINDEX, SHMC_ETYPE, -ERANGE, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_array_add(shmc_obj_t *arr, int64_t i, shmc_value_t delta,
			    shmc_value_t *result);
/** Atomic compare-and-set of array[I]; see shmc_cvalue_cas.
 * @return 1, 0, SHMC_EINDEX, SHMC_ETYPE, -ERANGE, SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_array_cas(shmc_obj_t *arr, int64_t i, shmc_value_t expected,
			    shmc_value_t desired);
/** array.tolist(): the elements as a plain list. @return 0, -ENOMEM,
 *         SHMC_EHANDLE, SHMC_EKIND */
SHMC_API int shmc_array_copy(shmc_obj_t *arr, shmc_value_t *out);
/** The typecode, or SHMC_EHANDLE, SHMC_EKIND. */
SHMC_API int shmc_array_typecode(shmc_obj_t *arr);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup roots Named objects
 * An arena keeps a directory of named managed objects, so that processes
 * which share nothing but the arena's name find the objects that matter.
 * The directory holds a reference to each: a named object lives until its
 * name is removed (and nothing else refers to it).
 * @{ */
/** The object named NAME, created as a new object of KIND if there is
 * none. Atomic: processes racing to create the same name get the same
 * object. New objects are made as Python's constructors without arguments
 * make them: an empty namespace, list or dict, an unlocked Lock or RLock, a
 * Semaphore of 1, a Condition with its own RLock, a clear Event, an
 * unbounded Queue. A Barrier, Value or Array needs parameters: create it,
 * then name it with shmc_root_setdefault().
 * @return 0, SHMC_EKIND (NAME names an object of another kind), -EINVAL
 *         (empty name, or a kind that needs parameters), SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_root_find_or_create(shmc_arena_t *arena, const char *name, shmc_kind_t kind,
			   shmc_obj_t **out);
/** The object named NAME if there is one; else name OBJ so, atomically.
 * *out receives a handle to whichever object is named NAME afterwards.
 * @return 0, SHMC_EARENA, SHMC_EHANDLE, -EINVAL, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_root_setdefault(shmc_arena_t *arena, const char *name,
				  shmc_obj_t *obj, shmc_obj_t **out);
/** The object named NAME. @return 0, SHMC_EKEY, -EINVAL, -ENOMEM */
SHMC_API int shmc_root_find(shmc_arena_t *arena, const char *name, shmc_obj_t **out);
/** Remove the name NAME (the object lives on while referred to).
 * @return 0, SHMC_EKEY, -EINVAL */
SHMC_API int shmc_root_remove(shmc_arena_t *arena, const char *name);
/** The names, sorted, as a plain list of str. @return 0, -ENOMEM */
SHMC_API int shmc_root_names(shmc_arena_t *arena, shmc_value_t *out);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup view Looking inside an arena
 * A view maps an arena read-only without attaching to it: it writes nothing
 * and takes no lock, so it neither disturbs nor waits for the processes
 * using the arena. What it reads while they change the arena may be
 * momentarily inconsistent; everything it reads is validated, so a corrupt
 * arena gives errors, never a crash. This is what shmc-stat and shmc-dump
 * are built on. Objects are identified by their offset in the arena, which
 * is also the address shown in proxy forms.
 * @{ */
typedef struct shmc_view shmc_view_t;

/** Map the named arena NAME (or arena file) read-only.
 * @return 0, and the refusal codes of shmc_arena_open() */
SHMC_API int shmc_view_open(const char *name, shmc_view_t **out);
SHMC_API void shmc_view_close(shmc_view_t *view);
/** The arena's format version and layout fingerprint (either OUT may be
 * NULL). @return 0, SHMC_EHANDLE (not an open view) */
SHMC_API int shmc_view_format_version(shmc_view_t *view, unsigned *version,
				      uint64_t *fingerprint);
/** Memory use, as shmc_arena_stats() reports it (ST is OUT).
 * @return 0, SHMC_EHANDLE (not an open view, or ST is NULL) */
SHMC_API int shmc_view_stats(shmc_view_t *view, shmc_arena_stats_t *st);

/** A process slot in use. */
typedef struct shmc_proc_info {
	unsigned slot;
	uint32_t pid;         /**< in the pid namespace of the process */
	bool alive;           /**< false: dead, its leftovers not yet reaped */
	uint64_t handles;     /**< objects it holds */
	uint64_t attached_ns; /**< when it attached (CLOCK_REALTIME) */
} shmc_proc_info_t;
/** Call FN for each process slot in use (P is borrowed for the call); stops
 * when FN returns non-zero. @return 0, FN's non-zero result, SHMC_EHANDLE */
SHMC_API int shmc_view_procs(shmc_view_t *view,
			     int (*fn)(void *ctx, const shmc_proc_info_t *p),
			     void *ctx);

/** A managed object. */
typedef struct shmc_object_info {
	uint64_t offset;    /**< identity: its offset in the arena */
	uint64_t id;        /**< serial number, in order of creation */
	shmc_kind_t kind;
	const char *typeid; /**< Python's typeid: "list", "dict", "Namespace" */
	const char *proxy;  /**< Python's proxy class: "ListProxy" */
	uint64_t refs;      /**< references held to it */
	int64_t length;     /**< items or entries; -1 if not a container */
	bool locked;        /**< a writer (or holder) has its lock */
	int lock_slot;      /**< the lock's owner: process slot, or -1 */
	uint32_t lock_pid;
	bool lock_owner_alive;
	bool waiters;       /**< someone may be waiting on its lock */
	const char *name;   /**< its name if it is a named object, else NULL */
} shmc_object_info_t;
/** Call FN for each object reachable (from named objects and from the
 * handles processes hold; O and its strings are borrowed for the call);
 * stops when FN returns non-zero. @return 0, FN's non-zero result,
 * SHMC_EHANDLE, -ENOMEM */
SHMC_API int shmc_view_objects(shmc_view_t *view,
			       int (*fn)(void *ctx, const shmc_object_info_t *o),
			       void *ctx);

#define SHMC_VIEW_JSON 1u /**< shmc_view_dump: JSON instead of Python text */
/** The contents of the object reached by PATH, in Python's text form (or
 * JSON): PATH is a name, then '/'-separated steps through managed
 * containers -- a list index, a dict key (an int if it reads as one, else a
 * str) or an attribute name. A NULL or empty PATH dumps every named object,
 * one "name: contents" line each (a JSON object). Managed objects inside
 * are shown as references with their identity, never followed, so cycles
 * print finitely. *out is freed with shmc_free().
 * @return 0, SHMC_EKEY (no such name or key), SHMC_EINDEX, SHMC_ETYPE (a
 *         step into something that is not a managed container),
 *         SHMC_ECORRUPT, -ENOMEM */
SHMC_API int shmc_view_dump(shmc_view_t *view, const char *path, unsigned flags,
			    char **out);
/** @} */

#ifdef __cplusplus
}
#endif
#endif /* SHMC_H */
