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
 * process-shared lock; readers of one item take no lock; readers of a whole
 * container (copies, a dict's len, str) check a sequence counter and take
 * the writer lock only if writers keep changing it; no reader ever waits
 * for a writer that has died.
 *
 * PLAIN values (none, bool, int of any size, float, complex, str, bytes,
 * bytearray, tuple, plain list, plain dict, set, frozenset, and opaque
 * values that carry bytes shmc does not interpret) are what you store in
 * managed objects. They follow Python's Manager rules exactly:
 *   - storing a plain value copies it into the arena;
 *   - reading one out gives you a private deep copy on your own heap; changing
 *     that copy changes nothing shared until you store it back;
 *   - a managed object stored inside another (or inside a plain value) is
 *     shared by reference, so a copy that holds it still reaches the shared one.
 *
 * Caveats
 * =======
 * - fork(): a child inherits the arenas and handles of its parent and may use
 *   them at once. During fork() (pthread_atfork handlers) shmc claims a
 *   process slot for the child in every arena and gives it a reference of
 *   its own for each handle the parent holds. If that fails in an arena
 *   (every slot taken, SHMC_EFULL, no /proc), the arena is unusable in that
 *   child: every call on it or on its handles returns SHMC_EHANDLE. Create
 *   anonymous arenas before fork(). A child created with vfork(), or with
 *   clone() without fork handlers, must exec or _exit.
 * - fork() in a multithreaded program: the handlers hold shmc's own mutexes
 *   across fork(), so the child finds them consistent; an arena lock held by
 *   another thread of the parent belongs to the parent, which lives on and
 *   releases it. The private heap (jemalloc, or the C library's malloc) is
 *   kept usable in the child by its own fork handlers. POSIX promises only
 *   async-signal-safe functions in such a child, and shmc's are not: shmc
 *   relies on those handlers, as glibc programs commonly do.
 * - Dying processes: a process may be killed at any instruction. Every
 *   operation is published with a single atomic store, so the others see it
 *   wholly applied or not at all; a lock held by the dead process is
 *   recovered by the next process that needs it; memory the dead process
 *   held is released when a survivor notices (see shmc_arena_reclaim()).
 *   What each lock, semaphore, condition, barrier and queue does when a
 *   process dies holding or waiting on it is listed in the last section.
 * - Ownership: values shmc returns are yours: free them with
 *   shmc_value_free(). Strings it returns are freed with shmc_free(), handles
 *   released with shmc_obj_release(). A handle belongs to the arena handle it
 *   came from. See Conventions below.
 * - Closing: shmc_arena_close() ends every handle still open on that arena
 *   and drops its reference: afterwards each call on such a handle (or on
 *   the arena handle) returns SHMC_EHANDLE, and releasing it, or freeing a
 *   value that holds it, does nothing. Nothing freed is ever read through
 *   them. An arena handle's memory is kept after its close and serves a new
 *   arena only once 64 more arenas have been closed in the process: past
 *   that, a closed arena handle may name a newer arena, so do not keep one.
 * - Signals: no shmc function is async-signal-safe, shmc_version() aside.
 *   They allocate, take process-local mutexes and the arena's owner locks,
 *   and enter per-thread read sections that do not nest: a handler that
 *   interrupts one shmc call and makes another can deadlock or read freed
 *   memory. Call none of them from a signal handler; set a flag (or write(2)
 *   to a pipe) and act on it outside. A signal does not cut a blocking call
 *   short: the wait goes on after the handler returns (no -EINTR from waits).
 * - Handles and threads: an arena handle and an object handle may be used
 *   by any number of threads at once: no operation changes the handle it
 *   is given (but for a namespace's private '_'
 *   attributes, which are guarded). A handle (shmc_obj_t *) is not a pointer but a name in this
 *   process's table of handles, checked at every call: a handle released
 *   (shmc_obj_release(), or shmc_value_free() of a value that owns it),
 *   released twice, of a closed arena, or any value that never was a
 *   handle, gives SHMC_EHANDLE (a release does nothing), never a read of
 *   freed memory. When one thread releases a handle that another is using,
 *   each call of the other either completes (it had checked the handle
 *   before the release) or returns SHMC_EHANDLE; a call begun after the
 *   release has been seen returns SHMC_EHANDLE. A call that completes works
 *   on the object, which lives on while anything else refers to it; if the
 *   released handle held its last reference, the object is freed under that
 *   call, as with free(): release a handle after its last use by any thread
 *   (shmc_obj_dup() gives a thread a handle of its own). Handles are not
 *   reference-counted: each stands for one reference to its object, which
 *   lives while a handle, a container or a name refers to it.
 *   shmc_arena_close(A) while another thread uses A or its handles is not
 *   allowed: close after the last use.
 * - A thread's record: a thread's first call on an arena takes an epoch
 *   record in it; the arena has max_threads of them (1024 by default),
 *   shared by all its processes (SHMC_ETHREADS when none is free). When the
 *   thread exits, a destructor (one pthread key for the whole library, not
 *   one per arena) makes its record idle: it holds back no reclamation any more,
 *   but the blocks the thread retired and had not yet freed stay queued in
 *   it. The next thread of the same process that needs a record takes the
 *   idle one over, queue included, and frees the queue as it goes;
 *   shmc_arena_reclaim() frees what is safe in idle records too; closing the
 *   arena, or the reaping of a dead process, releases its records and
 *   everything queued in them.
 * - Update callbacks and lock order: shmc_namespace_update, shmc_list_update
 *   and shmc_dict_update call FN (and shmc_list_sort its KEY and LT) while
 *   the calling thread holds the object's writer lock. From FN, reading the
 *   same object works (it shows the value before the update); any operation
 *   that writes it returns -EDEADLK instead of waiting for itself. Writing
 *   another managed object from FN takes a second lock while holding the
 *   first: two threads or processes that do so in opposite orders deadlock
 *   for good, since a lock passes on only when its holder releases it or
 *   dies. So write no other managed object from FN, or take such pairs in one
 *   fixed order everywhere. Reading another object is safe: a read waits at
 *   most for a writer in the middle of a change. Blocking in FN (a queue put,
 *   a lock acquire, a wait) stalls every writer of the object meanwhile. FN
 *   must return: leaving it by longjmp(), pthread_exit() or cancellation
 *   leaves the lock held by a live process, and the object's writers wait
 *   forever. shmc_condition_wait_for's PRED holds no writer lock, only the
 *   condition's Lock or RLock (as in Python), and may use any object.
 * - Interior pointers: shmc_seq_at(V, I) points into V's array of items;
 *   shmc_pdict_get(D, K) and shmc_pdict_entry(D, I) into D's array of
 *   entries. Such a pointer stays valid until V or D, or a value holding it,
 *   is freed; until shmc_plist_append() on V, or shmc_pdict_set() of a new
 *   key in D, which may move the array; or until shmc_pdict_del() on D,
 *   which shifts the entries after the one removed. Replacing the item or
 *   the value it points at (shmc_plist_set, shmc_pdict_set of a key already
 *   there) keeps it valid, now pointing at the new value, and frees what the
 *   old one owned. Each nested container has storage of its own: changing
 *   the outer one moves nothing inside its items. Never change a dict key in
 *   place. A copy of a shmc_value_t struct shares what the original owns:
 *   after an append or set through one, the others may be stale, and only
 *   one may be freed (shmc_value_copy() makes a separate copy). A value read
 *   again from the arena is a new copy, with new pointers. A str or bytes
 *   value's .str lives as long as the value. shmc_set_next(S, &POS) points
 *   into S's table: valid until S is freed or changed (an add may move the
 *   table; a discard frees the member); never change a member in place.
 *   shmc_opaque_data() and shmc_opaque_repr() live as long as the value.
 * - Strings: a char * that shmc returns through an out-parameter
 *   (shmc_obj_str, shmc_obj_repr, shmc_value_repr, shmc_value_str,
 *   shmc_view_dump) is NUL-terminated, on the private heap and yours: free
 *   it with shmc_free(). Its length is its strlen(), except that
 *   shmc_value_str() of a str holding NUL bytes copies them as they are. A
 *   str or bytes value that shmc returns owns len bytes followed by a NUL
 *   that len does not count; either may contain NUL bytes, so use len, not
 *   strlen(). A view (shmc_strn, shmc_bytes) holds just the bytes given to
 *   it and needs no terminator. shmc_version(), shmc_strerror(),
 *   shmc_errname() and the typeid and proxy of a shmc_object_info_t return
 *   static strings, never to be freed. The message a shmc_check_fn receives
 *   and the name in a shmc_object_info_t are valid only during that call.
 * - Cycles of managed objects (a list that contains itself) are not
 *   collected, exactly as with Python's Manager.
 * - Integers have any size: one that fits in int64 is an SHMC_INT (v.i),
 *   any other an SHMC_BIGINT (read it with shmc_int_to_str or
 *   shmc_int_to_bytes); the *_add calls go past 64 bits. The C numbers of
 *   shmc_cvalue_* and shmc_array_* stay 64-bit (-ERANGE past them).
 * - Strings are UTF-8; storing an invalid one fails with -EILSEQ. Bytes may
 *   hold anything.
 * - Attaching twice: opening an arena this process has open already makes a
 *   second, independent attachment with a process slot of its own. Its
 *   handles are foreign to the first: storing one through the other fails
 *   with SHMC_EARENA, and shmc_obj_same() tells them apart.
 * - Limits: processes attached to an arena at once, max_procs of
 *   shmc_arena_options_t: 256 by default, up to 4096 (SHMC_EPROCS past it);
 *   threads using it at once, max_threads: 1024 by default, up to 65536
 *   (SHMC_ETHREADS); both are fixed when the arena is created. Values nest
 *   at most 512 containers deep ([[1]] nests 2), in every call that stores,
 *   copies, compares, hashes, prints or checks them (SHMC_EDEPTH past it; a
 *   value too deep equals nothing); str() of a managed list or dict shows
 *   its items one level deeper, and is allowed to. A process may attach any
 *   number of arenas (each takes two file descriptors and its address
 *   space). Attaching and forking reopen the arena file through
 *   /proc/self/fd, which must be mounted.
 * - Linking libshmc links jemalloc, which then serves the whole process's
 *   malloc(); private copies of values come from a jemalloc arena of their
 *   own. A build with JEMALLOC=0 uses the C library's malloc instead (for
 *   valgrind).
 * - Names: a kind's functions carry its whole name (shmc_namespace_*,
 *   shmc_semaphore_*, ...). Lengths of managed containers are int64_t
 *   because they can fail (a negative length is an error code); lengths of
 *   plain values are size_t, because reading a private value cannot fail.
 *
 * Conventions
 * ===========
 * Each function's comment says what its pointer arguments are:
 *   in        read during the call; the caller keeps it (borrowed), and it
 *             need stay valid only until the call returns. A shmc_value_t
 *             argument is passed the same way: a managed object stores a
 *             copy of it, never the caller's memory.
 *   out       written only on success. What it receives is the caller's, to
 *             free with shmc_value_free() (a value), shmc_obj_release() (a
 *             handle), shmc_free() (a string) or the close function named.
 *             It must not be NULL unless the comment says it may: a NULL
 *             one is refused (-EINVAL, or SHMC_EHANDLE where the comment
 *             says so), never written through.
 *   in/out    read, and changed in place only on success.
 *   taken     ownership passes to the library, on failure too: the caller
 *             must not use or free it afterwards.
 * Handle and arena arguments are "in". One that is NULL, released, closed
 * or never was a handle is refused with SHMC_EHANDLE (see Handles and
 * threads in the Caveats). Every pointer argument that is not documented
 * as optional is checked: NULL gives -EINVAL or SHMC_EHANDLE, and a str or
 * bytes value viewing NULL with a non-zero length gives -EINVAL wherever
 * it would be read (and equals nothing where it is only compared).
 *
 * Errors
 * ======
 * Every fallible function returns 0 (or a non-negative count) on success and a
 * negative number on failure: either a negated errno value (-ENOMEM, -EINVAL,
 * -ERANGE) or one of the SHMC_E* codes below. shmc_strerror() and
 * shmc_errname() describe any of them. Out-parameters are written only on
 * success, and a failed call leaves every container exactly as it was
 * (taken arguments are consumed even then; shmc_arena_check() fills its
 * report also when it finds errors).
 *
 * Each function's "@return" lists every code it returns. Those that recur
 * mean:
 *   SHMC_EHANDLE   a handle or arena argument is NULL, not a handle, released
 *                  or of a closed arena, or an out-parameter that
 *                  constructors check is NULL;
 *   SHMC_EKIND     the handle names an object of another kind;
 *   SHMC_ECORRUPT  what the call reads fails validation, or an earlier repair
 *                  of the object (after a writer died) failed;
 *   SHMC_EFULL     the arena has no memory left: for a value block, a
 *                  container's storage, the queue of blocks to free later, or
 *                  this process's table of handles (every new handle needs an
 *                  entry, also those made when reading a value that holds
 *                  references);
 *   SHMC_ETHREADS  this thread can get no epoch record in the arena;
 *   -EDEADLK       a write on an object from inside its own *_update callback;
 *   -EINVAL, -EILSEQ, SHMC_EDEPTH, SHMC_EARENA
 *                  a value to store has a str or bytes with a NULL pointer and
 *                  a non-zero len or an unknown type; text that is not UTF-8;
 *                  nesting deeper than 512; a reference to an object of
 *                  another arena (or attachment);
 *   V's error      V, or a value inside it, is an SHMC_ERROR value (a failed
 *                  builder): its code, V.i, is returned.
 * Whatever stops posix_fallocate(3) from reserving the arena's backing
 * memory (no space, no memory, an I/O error, a file system that cannot) is
 * SHMC_EFULL; an interrupted reservation is retried.
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

/** The library's version as "major.minor.patch": a static string.
 * Async-signal-safe. */
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
	X(ENOTASK, -30927, "task_done() called more times than items were put") \
	X(ESIZE, -30928, "sequence size differs from the extended slice's") \
	X(ECHANGED, -30929, "container changed size during iteration") \
	X(EWORKERDIED, -30930, "the pool worker running the task died")    \
	X(ENOTRUNNING, -30931, "pool is not running")                     \
	X(ERUNNING, -30932, "pool is still running")                      \
	X(ENOTREADY, -30933, "result is not ready")                       \
	X(ENOFUNC, -30934, "the pool's workers have no such task function") \
	X(ECONFLICT, -30935, "the value changed since its version was read") \
	X(ECHECKSUM, -30936, "saved file is truncated or corrupt")

enum shmc_error {
#define SHMC_ERR_ENUM_(name, value, text) SHMC_##name = (value),
	SHMC_ERRORS(SHMC_ERR_ENUM_)
#undef SHMC_ERR_ENUM_
};

/** A message for any return code: 0, a negated errno value or SHMC_E*
 * ("unknown error" for anything else). A static string: do not free it. */
SHMC_API const char *shmc_strerror(int err);
/** The symbolic name of a return code ("SHMC_EKEY", "ENOMEM", "OK";
 * "UNKNOWN" for anything else). A static string: do not free it. */
SHMC_API const char *shmc_errname(int err);
/** The Python exception that return code RC stands for when the shmc
 * function named CALL returns it (CALL may be NULL: the usual meaning).
 * Where Python's exception depends on the call, so does the answer:
 * SHMC_EINDEX is "IndexError" for shmc_list_get but "ValueError" for
 * shmc_list_index and shmc_list_remove; -ETIMEDOUT is
 * "threading.BrokenBarrierError" for shmc_barrier_wait and NULL for an
 * acquire or a wait, which Python answers with False. Other names:
 * "KeyError", "AttributeError", "TypeError", "RecursionError",
 * "queue.Empty", "queue.Full", "RuntimeError", "ValueError",
 * "MemoryError", "OverflowError", "UnicodeError", "RuntimeWarning"
 * (SHMC_EOWNERDEAD: acquired, with a warning), "OSError" (another negated
 * errno) and "shmc.Error" (another shmc code). A static string, or NULL
 * when RC is not an error or Python reports it as a return value. */
SHMC_API const char *shmc_python_exception(int rc, const char *call);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup arena Arenas
 * An arena handle (shmc_arena_t *) is this process's attachment to an
 * arena: made by shmc_arena_create_anon(), shmc_arena_create() or
 * shmc_arena_open(), ended by shmc_arena_close(). Every handle made from it
 * belongs to it.
 * @{ */
typedef struct shmc_arena shmc_arena_t;

/** Options for creating an arena; zero-initialise and set what you need. */
typedef struct shmc_arena_options {
	/** Bytes of address space to reserve; 0 means SHMC_DEFAULT_CAPACITY.
	 *  Memory is committed as it is used, so a large figure costs nothing
	 *  until it is filled. Rounded up to 256 KiB; at least
	 *  SHMC_MIN_CAPACITY, at most 2^44. */
	size_t capacity;
	/** Permission bits of a named arena's file (only mode & 0777, applied
	 *  as given, not narrowed by the umask); 0 means 0600. A mode that
	 *  lets others write (mode & 0002) is refused: shmc_arena_open()
	 *  would refuse the file (SHMC_EMODE). */
	unsigned mode;
	/** Processes that may be attached at once (each attachment takes a
	 *  slot; SHMC_EPROCS past it); 0 means SHMC_DEFAULT_PROCS, at most
	 *  SHMC_MAX_PROCS. A slot costs 64 bytes, and 8 bytes in each
	 *  Semaphore, BoundedSemaphore, Queue and JoinableQueue. */
	unsigned max_procs;
	/** Threads, of all processes together, that may use the arena at
	 *  once (each takes an epoch record; SHMC_ETHREADS past it); 0 means
	 *  SHMC_DEFAULT_THREADS, at most SHMC_MAX_THREADS. A record costs 64
	 *  bytes. */
	unsigned max_threads;
} shmc_arena_options_t;

#define SHMC_DEFAULT_CAPACITY ((size_t)4 << 30)
#define SHMC_MIN_CAPACITY ((size_t)4 << 20)
#define SHMC_DEFAULT_PROCS 256u
#define SHMC_MAX_PROCS 4096u
#define SHMC_DEFAULT_THREADS 1024u
#define SHMC_MAX_THREADS 65536u

/** Create an anonymous arena (a memfd), to share with children by fork().
 * OPTS in (may be NULL: defaults); *OUT out: detach with shmc_arena_close().
 * @return 0, -EINVAL (capacity, max_procs or max_threads out of range, or
 *         slots and records that leave less than 3/4 of the capacity for
 *         data; or OUT NULL), -ENOMEM, -EMFILE, -ENFILE, SHMC_EFULL (no
 *         memory for the arena's header), -ENOENT (no /proc), and any other
 *         errno of memfd_create(2), ftruncate(2) or mmap(2) */
SHMC_API int shmc_arena_create_anon(const shmc_arena_options_t *opts,
				    shmc_arena_t **out);

/** Create a named arena, exclusively. NAME is a file under /dev/shm when it
 * holds no '/', or else a path. Fails with -EEXIST if it exists; a creation
 * that fails removes the file again. NAME in; OPTS in (may be NULL); *OUT
 * out: detach with shmc_arena_close().
 * @return 0, -EEXIST, -EINVAL (options out of range, as for
 *         shmc_arena_create_anon; OUT NULL; NAME NULL, empty or longer than
 *         4000 bytes), SHMC_EMODE (a mode others may write: the file would
 *         be refused by shmc_arena_open), -ENOSPC, -EACCES, -ENOENT (no such
 *         directory, or no /proc), -ENOMEM, SHMC_EFULL (no memory for the
 *         header), and any other errno of open(2), ftruncate(2) or mmap(2) */
SHMC_API int shmc_arena_create(const char *name,
			       const shmc_arena_options_t *opts,
			       shmc_arena_t **out);

/** Open an existing named arena. Nothing is written to the file before it
 * passes every check. If its creator is still initialising it, waits up to
 * 5 s for it to finish. NAME in; *OUT out: detach with shmc_arena_close().
 * @return 0, -ENOENT, -ELOOP (a symlink), -EACCES, SHMC_ENOTREG (a
 *         directory, a FIFO, a device...),
 *         SHMC_EOWNER, SHMC_EMODE, SHMC_ENOTARENA, SHMC_EVERSION,
 *         SHMC_ELAYOUT, SHMC_EINIT, SHMC_ECORRUPT (a header that contradicts
 *         itself), -ETIMEDOUT (its creator is still at work after 5 s),
 *         SHMC_EPROCS, -ENOSYS (the arena relies on membarrier(2), which
 *         this process cannot use), -EINVAL
 *         (OUT NULL; NAME NULL, empty or longer than 4000 bytes), -ENOMEM,
 *         and any other errno of open(2), fstat(2), pread(2) or mmap(2) */
SHMC_API int shmc_arena_open(const char *name, shmc_arena_t **out);

/** Remove a named arena's name; processes attached to it keep using it.
 * NAME in.
 * @return 0, -ENOENT, -EACCES, -EPERM, -EINVAL (NAME NULL, empty or longer
 *         than 4000 bytes), -ENOMEM, and any other errno of unlink(2) */
SHMC_API int shmc_arena_unlink(const char *name);

/** Detach from an arena. ARENA taken (NULL or a closed handle is ignored).
 * Every handle still open on it ends here: its reference is dropped, and
 * any later call on it returns SHMC_EHANDLE (releasing it, or freeing a
 * value that holds it, does nothing). No other thread may be using ARENA
 * or its handles meanwhile. The arena itself lives on while any process
 * uses it. */
SHMC_API void shmc_arena_close(shmc_arena_t *arena);

/** Free what can be freed now: blocks this process retired (including in
 * the idle records of its exited threads) once no process can still read
 * them, and whatever dead processes left behind; then give every empty slab
 * to the page pool and the pool's pages beyond max(1 MiB, committed / 8)
 * back to the system (the allocator also does this by itself as lists
 * grow). ARENA in.
 * @return the number of retired items this process disposed of (what
 *         reaping dead processes freed is not counted), SHMC_EHANDLE,
 *         SHMC_ETHREADS */
SHMC_API int64_t shmc_arena_reclaim(shmc_arena_t *arena);

/** Usage of one allocator size class. */
typedef struct shmc_class_stats {
	size_t block_size;  /**< bytes per block */
	uint64_t in_use;    /**< blocks handed out */
	uint64_t carved;    /**< blocks in this class's slabs and runs now
			         (in use or free); empty slabs go back to the
			         page pool */
} shmc_class_stats_t;

#define SHMC_STATS_CLASSES 48 /**< classes reported in shmc_arena_stats_t */

/** A snapshot of an arena's memory use. */
typedef struct shmc_arena_stats {
	size_t capacity;       /**< bytes of address space reserved */
	size_t committed;      /**< bytes of backing memory reserved (what was
				    given back to the system is not counted) */
	size_t used;           /**< bytes carved out for blocks and metadata
				    (the high-water mark: the page pool is
				    inside it) */
	size_t bytes_in_use;   /**< bytes in blocks handed out (by class size) */
	uint64_t blocks_in_use;
	unsigned nclasses;     /**< entries of classes[] filled */
	shmc_class_stats_t classes[SHMC_STATS_CLASSES]; /**< classes in use;
				 larger classes are summed into the last */
	unsigned processes;    /**< process slots in use */
	uint64_t lock_recoveries; /**< locks taken over from dead holders */
	size_t pool_bytes;     /**< free pages in the page pool, which any
				    size class or large block reuses */
	size_t released_bytes; /**< of those, given back to the system now */
	uint64_t released_total; /**< bytes ever given back to the system */
	unsigned max_procs;    /**< process slots (shmc_arena_options_t) */
	unsigned max_threads;  /**< epoch records: threads of all processes */
} shmc_arena_stats_t;

/** Fill *ST with the arena's current usage: relaxed reads, a moment old,
 * not a consistent cut. ARENA in; ST out.
 * @return 0, SHMC_EHANDLE (ARENA invalid or ST NULL) */
SHMC_API int shmc_arena_stats(shmc_arena_t *arena, shmc_arena_stats_t *st);

/** What shmc_arena_check() found. */
typedef struct shmc_check_report {
	uint64_t errors;         /**< broken invariants */
	uint64_t objects;        /**< managed objects reached */
	uint64_t blocks;         /**< blocks reached */
	uint64_t free_blocks;    /**< blocks on the free lists and in threads'
				      caches of free blocks */
	uint64_t leaked_blocks;  /**< allocated, unreachable: left by killed operations */
	uint64_t leaked_bytes;
	uint64_t leaked_refs;    /**< references counted but not found */
	uint64_t dead_processes; /**< slots of dead processes not yet reaped */
	uint64_t reaped;         /**< SHMC_CHECK_REAP: dead slots released */
	uint64_t swept_blocks;   /**< SHMC_CHECK_SWEEP: leaked blocks freed */
	uint64_t pool_pages;     /**< free pages in the page pool (not leaks) */
	uint64_t leaked_pages;   /**< pages carved by a killed process and never
				      used; SHMC_CHECK_SWEEP gives them to the
				      pool */
} shmc_check_report_t;

/** Release what dead processes left behind (their handles and retired
 * memory). Safe at any time. */
#define SHMC_CHECK_REAP 1u
/** Free leaked blocks and pages, drop uncounted references, recount the
 * allocator and rebuild the page pool's index if a killed process left it
 * half changed. Only while no other process is in the middle of an operation
 * (stopped, or waiting between operations): a block another process has
 * allocated but not yet published looks leaked. Skipped when the check
 * finds a broken invariant. */
#define SHMC_CHECK_SWEEP 2u

/** Receives each finding of a check as one line of text. CTX is the
 * caller's pointer; MESSAGE is NUL-terminated (at most 255 bytes) and valid
 * only during the call. */
typedef void (*shmc_check_fn)(void *ctx, const char *message);

/** Walk the whole arena -- header, allocator, process slots, every managed
 * object reachable and every value -- and report to FN each broken
 * invariant, and each note that is not one (leaked blocks or references,
 * dead processes, allocator counters that are off). Every traversal is
 * bounded: a corrupt arena gives errors, never a hang or a crash. On a live
 * arena the check is exact only while nobody changes it. ARENA in; FLAGS:
 * SHMC_CHECK_REAP, SHMC_CHECK_SWEEP; *REPORT out (may be NULL), filled also
 * when the result is SHMC_ECORRUPT; FN in (may be NULL), called during the
 * check with CTX.
 * @return 0 when no invariant is broken (leaks are notes, not errors),
 *         SHMC_ECORRUPT when one is, SHMC_EHANDLE, -ENOMEM */
SHMC_API int shmc_arena_check(shmc_arena_t *arena, unsigned flags,
			      shmc_check_report_t *report, shmc_check_fn fn,
			      void *ctx);

/** The same check on a named arena or arena file, without attaching to it
 * and without writing to it (a read-only mapping; no reaping, no sweeping).
 * NAME in; *REPORT out (may be NULL; zeroed when the file is refused); FN in
 * (may be NULL), with CTX.
 * @return 0, SHMC_ECORRUPT, -ENOMEM, and the errors of shmc_view_open() */
SHMC_API int shmc_arena_check_file(const char *name, shmc_check_report_t *report,
			     shmc_check_fn fn, void *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup values Plain values
 * A shmc_value_t is a small tagged value you pass by value. Scalars are held
 * inline; a str or bytes is v.str and v.len. A str, bytes or managed reference
 * made with shmc_str(), shmc_strn(), shmc_bytes()
 * or shmc_ref() is a VIEW: it borrows your memory (or handle) and is never
 * freed by shmc; what it points at must outlive every use of the view.
 * Values returned by shmc and values made by the builders
 * (shmc_tuple_of, shmc_plist_of, shmc_pdict_of, shmc_set_of,
 * shmc_frozenset_of, shmc_complex, shmc_opaque, shmc_int_from_str,
 * shmc_int_from_bytes, shmc_value_copy) OWN their memory: release them with
 * shmc_value_free() (an SHMC_INT or SHMC_FLOAT owns nothing, but freeing
 * one is harmless). An owned value that holds a reference owns a handle of
 * its own, released with it. A bytearray made by shmc_bytearray() is a
 * view, as bytes are.
 *
 * Ownership: builders and the shmc_plist_* / shmc_pdict_* mutators take
 * the values you pass them, even when they fail (views are copied; a
 * reference view gets a handle of its own). Functions that store into
 * managed objects copy the value and leave it with you. Assigning a
 * shmc_value_t copies the struct, not what it owns: see Interior pointers
 * in the Caveats.
 * A builder that fails returns a value of type SHMC_ERROR carrying the error
 * code in .i; storing such a value returns that code (V's error).
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
	SHMC_BIGINT,    /**< an int outside int64 (an int inside is SHMC_INT) */
	SHMC_COMPLEX,   /**< a complex: two doubles, owned (shmc_complex) */
	SHMC_BYTEARRAY, /**< a bytearray: .str and .len, as bytes */
	SHMC_SET,       /**< a plain set */
	SHMC_FROZENSET, /**< a frozenset */
	SHMC_OPAQUE,    /**< bytes shmc does not interpret, with their repr */
	SHMC_ERROR /**< a failed builder's result; .i holds the error */
} shmc_type_t;

struct shmc_seq;  /* tuple or plain list: opaque */
struct shmc_pmap; /* plain dict: opaque */
struct shmc_bigint;  /* big int: opaque */
struct shmc_complex; /* complex: opaque */
struct shmc_pset;    /* set or frozenset: opaque */
struct shmc_opaque;  /* opaque value: opaque */

/* Sixteen bytes, so that it travels in two registers. */
typedef struct shmc_value {
	uint8_t type;      /**< a shmc_type_t */
	uint8_t owned;     /**< nonzero when shmc_value_free() must free it */
	uint16_t reserved_;
	uint32_t len;      /**< SHMC_STR, SHMC_BYTES, SHMC_BYTEARRAY: length
			        in bytes */
	union {
		bool b;
		int64_t i;
		double f;
		const char *str;       /**< SHMC_STR, SHMC_BYTES,
					    SHMC_BYTEARRAY: the bytes
					    (followed by a NUL when owned) */
		struct shmc_seq *seq;  /**< SHMC_TUPLE, SHMC_LIST */
		struct shmc_pmap *map; /**< SHMC_DICT */
		shmc_obj_t *ref;       /**< SHMC_REF */
		struct shmc_bigint *big;  /**< SHMC_BIGINT */
		struct shmc_complex *cx;  /**< SHMC_COMPLEX */
		struct shmc_pset *set;    /**< SHMC_SET, SHMC_FROZENSET */
		struct shmc_opaque *opq;  /**< SHMC_OPAQUE */
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
 * -EOVERFLOW if LEN exceeds SHMC_MAX_LEN). S is borrowed and needs no NUL;
 * it is checked for UTF-8 only when stored. */
static inline shmc_value_t shmc_strn(const char *s, size_t len)
{
	shmc_value_t v = {SHMC_STR, 0, 0, (uint32_t)len, {.str = s}};
	shmc_value_t e = {SHMC_ERROR, 0, 0, 0, {.i = -EOVERFLOW}};
	return len > SHMC_MAX_LEN ? e : v;
}
/** A view of the NUL-terminated UTF-8 string S (borrowed), without its NUL;
 * NULL gives the empty str. */
SHMC_API shmc_value_t shmc_str(const char *s);
/** A view of LEN bytes at P (borrowed; see shmc_strn for the limit). */
static inline shmc_value_t shmc_bytes(const void *p, size_t len)
{
	shmc_value_t v = shmc_strn((const char *)p, len);
	if (v.type == SHMC_STR)
		v.type = SHMC_BYTES;
	return v;
}
/** A view of a managed object, to store a reference to it. OBJ is
 * borrowed: it must stay open while the view is used. */
static inline shmc_value_t shmc_ref(shmc_obj_t *obj)
{
	shmc_value_t v = {SHMC_REF, 0, 0, 0, {.ref = obj}};
	return v;
}

/** A tuple of the N values that follow (taken, on failure too).
 * @return the tuple (owned: shmc_value_free()), or an SHMC_ERROR value
 *         whose .i is -ENOMEM, SHMC_EHANDLE, SHMC_ECORRUPT or SHMC_EFULL
 *         (a reference view that could not get a handle), or an item's
 *         error */
SHMC_API shmc_value_t shmc_tuple_of(size_t n, ...);
/** A plain list of the N values that follow (taken, on failure too).
 * @return as shmc_tuple_of */
SHMC_API shmc_value_t shmc_plist_of(size_t n, ...);
/** A plain dict of N key/value pairs that follow: k1, v1, k2, v2 ...
 * (taken, on failure too). A later duplicate key replaces the earlier value.
 * @return the dict (owned: shmc_value_free()), or an SHMC_ERROR value whose
 *         .i is SHMC_EUNHASHABLE (a list, dict, set, bytearray or
 *         reference as a key),
 *         SHMC_EDEPTH (a key nested deeper than 512), -ENOMEM,
 *         SHMC_EHANDLE, SHMC_ECORRUPT, SHMC_EFULL, or a key's or value's
 *         error */
SHMC_API shmc_value_t shmc_pdict_of(size_t npairs, ...);

/** Release what *V owns (recursively: items, entries, handles) and set it
 * to none. V in/out (NULL is ignored). Views and scalars are left alone.
 * Safe on a none value. */
SHMC_API void shmc_value_free(shmc_value_t *v);
/** A deep copy of V that owns all its memory (views are copied; references
 * get handles of their own; a set's copy keeps its table, so its order).
 * V in; *OUT out: shmc_value_free().
 * @return 0, -ENOMEM, SHMC_EFULL, SHMC_EHANDLE or SHMC_ECORRUPT (a
 *         reference whose handle is invalid or cannot be duplicated),
 *         SHMC_EDEPTH (nested deeper than 512), -EINVAL (OUT NULL, or a
 *         str or bytes view of NULL with a length), V's error */
SHMC_API int shmc_value_copy(shmc_value_t v, shmc_value_t *out);
/** Python's ==: 1 == 1.0 == True == complex(1, 0), 2**64 == 2.0**64,
 * (1, 'a') == (1.0, 'a'), [1] != (1,), b'a' == bytearray(b'a'),
 * frozenset({1}) == {1}; opaque values by their bytes; references are
 * equal when they name the same managed object through the same
 * attachment (as shmc_obj_same; a stored reference compared by
 * shmc_list_index, remove, cas... likewise equals only a handle of the
 * arena handle it is read through). A and B in.
 * An SHMC_ERROR value equals nothing, nor does a value nested deeper than
 * 512 or a str or bytes view of NULL with a length. Cannot fail. */
SHMC_API bool shmc_value_eq(shmc_value_t a, shmc_value_t b);

/** Items of a tuple or plain list: their number (0 for other types). */
SHMC_API size_t shmc_seq_len(shmc_value_t v);
/** Item I of a tuple or plain list, borrowed from V (Python's negative
 * indices work); NULL when out of range or not a sequence. Changing the item
 * in place changes V, and nothing shared. The pointer's lifetime is under
 * Interior pointers in the Caveats: an append to V may move it. */
SHMC_API shmc_value_t *shmc_seq_at(shmc_value_t v, int64_t i);
/** Append ITEM to the plain list *L. L in/out: an owned plain list (made by
 * shmc or a builder); ITEM taken. May move *L's items (Interior pointers).
 * @return 0, SHMC_ETYPE (*L is not an owned plain list), -EINVAL (L
 *         NULL, or ITEM a str or bytes view of NULL with a length), -ENOMEM,
 *         SHMC_EHANDLE, SHMC_ECORRUPT, SHMC_EFULL (ITEM is a reference
 *         view that could not get a handle), ITEM's error */
SHMC_API int shmc_plist_append(shmc_value_t *l, shmc_value_t item);
/** Replace item I of plain list *L with ITEM, freeing the old item. L
 * in/out; ITEM taken.
 * @return 0, SHMC_ETYPE, SHMC_EINDEX, -EINVAL (L NULL, or as for
 *         shmc_plist_append), -ENOMEM, SHMC_EHANDLE, SHMC_ECORRUPT,
 *         SHMC_EFULL, ITEM's error */
SHMC_API int shmc_plist_set(shmc_value_t *l, int64_t i, shmc_value_t item);

/** Entries of a plain dict (0 for other types). */
SHMC_API size_t shmc_pdict_len(shmc_value_t d);
/** The value for KEY in plain dict D, borrowed from D; NULL when missing,
 * when KEY is unhashable or when D is not a dict. KEY in. Lifetime: see
 * Interior pointers in the Caveats. */
SHMC_API shmc_value_t *shmc_pdict_get(shmc_value_t d, shmc_value_t key);
/** Set KEY to VAL in plain dict *D (a key already there keeps its first
 * form; its value is replaced and freed). D in/out: an owned plain dict;
 * KEY and VAL taken.
 * @return 0, SHMC_ETYPE (*D is not an owned plain dict), -EINVAL (D NULL,
 *         or a str or bytes view of NULL with a length), SHMC_EUNHASHABLE,
 *         SHMC_EDEPTH, -ENOMEM, SHMC_EHANDLE, SHMC_ECORRUPT, SHMC_EFULL (a
 *         reference view that could not get a handle), KEY's or VAL's
 *         error */
SHMC_API int shmc_pdict_set(shmc_value_t *d, shmc_value_t key, shmc_value_t val);
/** Remove KEY from plain dict *D, freeing its key and value. D in/out; KEY
 * in (not taken). Shifts the later entries (Interior pointers).
 * @return 0, SHMC_EKEY, SHMC_ETYPE, -EINVAL (D NULL, or KEY a view of
 *         NULL), SHMC_EUNHASHABLE, SHMC_EDEPTH, -ENOMEM (rebuilding the
 *         index; nothing removed), KEY's error */
SHMC_API int shmc_pdict_del(shmc_value_t *d, shmc_value_t key);
/** Key and value of entry I (insertion order) of plain dict D, borrowed
 * from D. *KEY and *VAL out (either may be NULL); the key must not be
 * changed through it.
 * @return 0, SHMC_EINDEX, SHMC_ETYPE */
SHMC_API int shmc_pdict_entry(shmc_value_t d, size_t i, shmc_value_t **key,
			      shmc_value_t **val);

/* What Python does to a private list, dict or str with its operators. Each
 * either completes or leaves its operands as they were. */

/** A tuple of the N values at ITEMS (each taken, on failure too), as
 * shmc_tuple_of but from an array. ITEMS in/out: its values are taken (the
 * array itself stays the caller's); may be NULL when N is 0.
 * @return the tuple (owned: shmc_value_free()), or an SHMC_ERROR value
 *         whose .i is -EINVAL (ITEMS NULL, N not 0), -ENOMEM, SHMC_EHANDLE,
 *         SHMC_ECORRUPT, SHMC_EFULL, or an item's error */
SHMC_API shmc_value_t shmc_tuple_from(size_t n, shmc_value_t *items);
/** A plain list of the N values at ITEMS, as shmc_tuple_from.
 * @return as shmc_tuple_from */
SHMC_API shmc_value_t shmc_plist_from(size_t n, shmc_value_t *items);
/** l.insert(I, ITEM) on plain list *L: I is clamped as Python does (before
 * the first item, or after the last). L in/out: an owned plain list; ITEM
 * taken. May move *L's items (Interior pointers).
 * @return 0, -EINVAL (L NULL), SHMC_ETYPE (*L not an owned plain list),
 *         -ENOMEM, SHMC_EHANDLE, SHMC_ECORRUPT, SHMC_EFULL, ITEM's error */
SHMC_API int shmc_plist_insert(shmc_value_t *l, int64_t i, shmc_value_t item);
/** *OUT = l.pop(I) on plain list *L (negative I counts from the end). L
 * in/out; *OUT out (may be NULL: the item is freed): shmc_value_free().
 * @return 0, SHMC_EINDEX, -EINVAL (L NULL), SHMC_ETYPE */
SHMC_API int shmc_plist_pop(shmc_value_t *l, int64_t i, shmc_value_t *out);
/** del l[I] on plain list *L. @return as shmc_plist_pop */
SHMC_API int shmc_plist_del(shmc_value_t *l, int64_t i);
/** l.clear() on plain list *L. L in/out. @return 0, -EINVAL, SHMC_ETYPE */
SHMC_API int shmc_plist_clear(shmc_value_t *l);
/** l.extend(ITEMS) on plain list *L: deep copies of the items of tuple or
 * plain list ITEMS (in; *L itself works). All or nothing.
 * @return 0, -EINVAL (L NULL), SHMC_ETYPE (*L not an owned plain list, or
 *         ITEMS not a sequence), -ENOMEM, SHMC_EFULL, SHMC_EHANDLE (a
 *         reference whose handle cannot be duplicated), ITEMS' error */
SHMC_API int shmc_plist_extend(shmc_value_t *l, shmc_value_t items);
/** *OUT = A + B, Python's concatenation: str + str, bytes and bytearray
 * with each other (the result has A's type, as in Python), tuple + tuple,
 * list + list (deep copies). A and B in; *OUT out: shmc_value_free().
 * @return 0, SHMC_ETYPE (other types -- sets among them -- or two
 *         different ones), -EOVERFLOW
 *         (a str or bytes over SHMC_MAX_LEN), -EINVAL (OUT NULL, or a view
 *         with a NULL pointer), -ENOMEM, SHMC_EFULL, SHMC_EHANDLE, A's or
 *         B's error */
SHMC_API int shmc_value_concat(shmc_value_t a, shmc_value_t b, shmc_value_t *out);
/** Python's len(V): a str's length in code points, bytes and bytearray in
 * bytes, the items of a tuple, list or dict, the members of a set or
 * frozenset. V in.
 * @return the length, SHMC_ETYPE (a value without a length: None, a
 *         number, an opaque value, a reference), -EINVAL (a str view with a NULL pointer),
 *         V's error */
SHMC_API int64_t shmc_value_len(shmc_value_t v);
/** d.get(KEY, DFLT) on plain dict D: the value for KEY, borrowed from D, or
 * DFLT (returned as given, may be NULL) when KEY is missing or cannot be a
 * key. D and KEY in. */
SHMC_API shmc_value_t *shmc_pdict_get_or(shmc_value_t d, shmc_value_t key,
					 shmc_value_t *dflt);
/** *OUT = d.pop(KEY) on plain dict *D: the value moves to *OUT and the key
 * is freed. D in/out; KEY in; *OUT out (may be NULL: the value is freed).
 * @return 0, SHMC_EKEY, -EINVAL (D NULL), SHMC_ETYPE, SHMC_EUNHASHABLE,
 *         SHMC_EDEPTH, -ENOMEM (nothing removed), KEY's error */
SHMC_API int shmc_pdict_pop(shmc_value_t *d, shmc_value_t key, shmc_value_t *out);
/** *OUT = d.pop(KEY, DFLT) on plain dict *D: the value, or DFLT when KEY is
 * missing. D in/out; KEY in; DFLT taken (and checked first, even when KEY
 * is there: a bad one pops nothing); *OUT out: shmc_value_free().
 * @return 0, -EINVAL (D or OUT NULL, or DFLT a str or bytes view of NULL
 *         with a length), SHMC_EHANDLE (DFLT a reference through a
 *         released handle), SHMC_ETYPE, SHMC_EUNHASHABLE, SHMC_EDEPTH,
 *         -ENOMEM, KEY's or DFLT's error */
SHMC_API int shmc_pdict_pop_or(shmc_value_t *d, shmc_value_t key, shmc_value_t dflt,
			       shmc_value_t *out);

/** Python's repr() of V, as a new string. V in; *OUT out: shmc_free().
 * @return 0, -ENOMEM, SHMC_EDEPTH (nested deeper than 512), -EINVAL (OUT
 *         NULL, or a str or bytes view of NULL with a length in V), V's
 *         error */
SHMC_API int shmc_value_repr(shmc_value_t v, char **out);
/** Python's str() of V: like repr but a top-level str is not quoted (its
 * bytes are copied as they are, NUL bytes included). V in; *OUT out:
 * shmc_free(). @return as shmc_value_repr */
SHMC_API int shmc_value_str(shmc_value_t v, char **out);
/** Free a string returned by shmc. P taken (NULL is ignored). Not for
 * values (shmc_value_free) or handles (shmc_obj_release). */
SHMC_API void shmc_free(void *p);

/* Integers of any size, complex, bytearray, sets and opaque values ------- */

/** An int from text, as Python's int(S, BASE) reads it: optional spaces
 * around, an optional sign, digits of BASE (2 to 36; 0: decimal, or a 0b,
 * 0o or 0x prefix; a 0b/0o/0x prefix matching BASE is allowed too), single
 * underscores between digits. The result is an SHMC_INT when it fits in
 * int64 and an SHMC_BIGINT otherwise. S in (LEN bytes, no NUL needed);
 * *OUT out: shmc_value_free().
 * @return 0, -EINVAL (S NULL, OUT NULL, BASE out of range, or not a
 *         number in BASE), -ENOMEM */
SHMC_API int shmc_int_from_str(const char *s, size_t len, int base, shmc_value_t *out);
/** An int from N bytes at P read as a little-endian two's-complement
 * number (Python's int.from_bytes(b, 'little', signed=True), and
 * _PyLong_FromByteArray(p, n, 1, 1)); N == 0 gives 0. P in; *OUT out.
 * @return 0, -EINVAL (P NULL with N > 0, or OUT NULL), -ENOMEM */
SHMC_API int shmc_int_from_bytes(const void *p, size_t n, shmc_value_t *out);
/** The fewest bytes that shmc_int_to_bytes() needs for V (a bool, int or
 * big int): at least 1; 0 when V is not an integer. */
SHMC_API size_t shmc_int_byte_len(shmc_value_t v);
/** V (a bool, int or big int) as N little-endian two's-complement bytes at
 * BUF, sign-extended (Python's v.to_bytes(n, 'little', signed=True)). BUF
 * out (N bytes, written only on success).
 * @return 0, SHMC_ETYPE (V is not an integer), -ERANGE (V needs more than
 *         N bytes), -EINVAL (BUF NULL with N > 0), V's error */
SHMC_API int shmc_int_to_bytes(shmc_value_t v, void *buf, size_t n);
/** V (a bool, int or big int) in BASE (2 to 36): lowercase digits, a '-'
 * when negative, no prefix; base 10 is Python's str(). *OUT out:
 * shmc_free().
 * @return 0, SHMC_ETYPE, -EINVAL (BASE out of range, or OUT NULL),
 *         -ENOMEM, V's error */
SHMC_API int shmc_int_to_str(shmc_value_t v, int base, char **out);

/** complex(RE, IM), an owned value (free it with shmc_value_free()).
 * @return the complex, or an SHMC_ERROR value whose .i is -ENOMEM */
SHMC_API shmc_value_t shmc_complex(double re, double im);
/** The real and imaginary parts of the complex V. *RE and *IM out (either
 * may be NULL). @return 0, SHMC_ETYPE (V is not a complex) */
SHMC_API int shmc_complex_parts(shmc_value_t v, double *re, double *im);

/** A view of LEN bytes at P as a bytearray (borrowed, as shmc_bytes).
 * Equal to bytes of the same content, but not hashable. */
static inline shmc_value_t shmc_bytearray(const void *p, size_t len)
{
	shmc_value_t v = shmc_strn((const char *)p, len);
	if (v.type == SHMC_STR)
		v.type = SHMC_BYTEARRAY;
	return v;
}

/** A set of the N values that follow (taken, on failure too), added in
 * that order as Python's set([...]) adds them: an equal value already
 * there keeps its place and the later one is freed. Iteration and repr
 * follow CPython's table order wherever CPython's does not depend on its
 * per-process hash seed (members that are numbers, and tuples and
 * frozensets of numbers; str and bytes members hash with shmc's own
 * function, so their order is shmc's).
 * @return the set (owned: shmc_value_free()), or an SHMC_ERROR value whose
 *         .i is SHMC_EUNHASHABLE (a list, dict, set, bytearray or reference
 *         as a member), SHMC_EDEPTH (a member nested deeper than 512),
 *         -ENOMEM, or a member's error */
SHMC_API shmc_value_t shmc_set_of(size_t n, ...);
/** A frozenset of the N values that follow; as shmc_set_of. A frozenset
 * is hashable (a dict key, a set member) and equal to a set with the same
 * members. @return as shmc_set_of */
SHMC_API shmc_value_t shmc_frozenset_of(size_t n, ...);
/** s.add(ITEM) on the plain set *S. S in/out: an owned SHMC_SET (not a
 * frozenset); ITEM taken (freed when an equal member is there already).
 * May move *S's members (Interior pointers, in the Caveats).
 * @return 0, SHMC_ETYPE (*S is not an owned set), -EINVAL (S NULL),
 *         SHMC_EUNHASHABLE, SHMC_EDEPTH, -ENOMEM, SHMC_EHANDLE,
 *         SHMC_ECORRUPT, SHMC_EFULL (a reference view that could not get a
 *         handle), ITEM's error */
SHMC_API int shmc_set_add(shmc_value_t *s, shmc_value_t item);
/** s.discard(ITEM) on the plain set *S, freeing the member removed. S
 * in/out: an owned SHMC_SET; ITEM in (a set ITEM is looked up as the
 * frozenset it equals, as in Python).
 * @return 1 (removed), 0 (not there), SHMC_ETYPE, -EINVAL (S NULL),
 *         SHMC_EUNHASHABLE, SHMC_EDEPTH, ITEM's error */
SHMC_API int shmc_set_discard(shmc_value_t *s, shmc_value_t item);
/** ITEM in S (a set or frozenset). S and ITEM in (a set ITEM is looked
 * up as the frozenset it equals, as in Python).
 * @return 1, 0, SHMC_ETYPE (S is not a set), SHMC_EUNHASHABLE,
 *         SHMC_EDEPTH, ITEM's error */
SHMC_API int shmc_set_contains(shmc_value_t s, shmc_value_t item);
/** Members of a set or frozenset (0 for other types). */
SHMC_API size_t shmc_set_len(shmc_value_t s);
/** The next member of the set or frozenset S in iteration order, borrowed
 * from S; NULL at the end (or when S is not a set). *POS in/out: start at
 * 0 and leave it to the calls. Any change to S ends the iteration's
 * validity (as in Python); the pointer's lifetime is under Interior
 * pointers in the Caveats. */
SHMC_API shmc_value_t *shmc_set_next(shmc_value_t s, size_t *pos);
/** Turn the owned set *S into a frozenset in place (its members and order
 * kept): how to build a frozenset member by member. S in/out.
 * @return 0, SHMC_ETYPE (*S is not an owned set or frozenset), -EINVAL
 *         (S NULL) */
SHMC_API int shmc_set_freeze(shmc_value_t *s);

/** An opaque value: LEN bytes at DATA that shmc stores and compares but
 * does not interpret (the Python binding keeps pickled objects in them),
 * printed as REPR (UTF-8, NUL-terminated). Both are copied. Two opaque
 * values are equal when their bytes are (REPR aside); they are hashable
 * (the hash of the bytes) and equal to nothing else.
 * @return the value (owned: shmc_value_free()), or an SHMC_ERROR value
 *         whose .i is -EINVAL (REPR NULL, or DATA NULL with LEN > 0),
 *         -EILSEQ (REPR is not UTF-8), -EOVERFLOW (LEN or REPR's length
 *         over SHMC_MAX_LEN), -ENOMEM */
SHMC_API shmc_value_t shmc_opaque(const void *data, size_t len, const char *repr);
/** The bytes of the opaque value V, borrowed from V; *LEN out (may be
 * NULL) gets their number. @return them, or NULL when V is not opaque */
SHMC_API const void *shmc_opaque_data(shmc_value_t v, size_t *len);
/** The repr of the opaque value V, borrowed from V (NUL-terminated), or
 * NULL when V is not opaque. */
SHMC_API const char *shmc_opaque_repr(shmc_value_t v);
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
	SHMC_KIND_CVALUE, /**< a Value of a C number type (shmc_cvalue_*) */
	SHMC_KIND_ARRAY,
	SHMC_KIND_MVALUE, /**< the Manager's Value of any value (shmc_mvalue_*) */
	SHMC_KIND_POOL,
	SHMC_KIND_ASYNC_RESULT,
	SHMC_KIND_ITERATOR,
	SHMC_KIND_CACHE, /**< a bounded cache dict (shmc_cache_*) */
} shmc_kind_t;

/** The kind of managed object H (in) names, or 0 for a null or invalid
 * handle, or a corrupt object. */
SHMC_API shmc_kind_t shmc_obj_kind(const shmc_obj_t *h);
/** The arena handle H (in) belongs to -- that handle itself, borrowed, not a
 * new one -- or NULL for a null or invalid handle, or a corrupt object. */
SHMC_API shmc_arena_t *shmc_obj_arena(const shmc_obj_t *h);
/** A second handle to the same object, with a reference of its own. H in;
 * *OUT out: shmc_obj_release().
 * @return 0, SHMC_EHANDLE, -EINVAL (OUT NULL), SHMC_ECORRUPT, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_obj_dup(shmc_obj_t *h, shmc_obj_t **out);
/** Let go of a handle: H taken, and ended at once; NULL, a handle released
 * already (by this or another thread), a handle of a closed arena or any
 * other value are ignored. Any later call on H returns SHMC_EHANDLE. The
 * object is freed once no container or name refers to it and no process
 * holds a handle to it (another thread's call on H under way completes, or
 * returns SHMC_EHANDLE: Handles and threads, in the Caveats). */
SHMC_API void shmc_obj_release(shmc_obj_t *h);
/** Whether handles A and B (in) name the same managed object, through the
 * same attachment (false when either is not a live handle). */
SHMC_API bool shmc_obj_same(const shmc_obj_t *a, const shmc_obj_t *b);
/** Python's str() of the proxy: the object's contents, e.g. "[1, [1]]",
 * "{0: 1}", "Namespace(x=1, y=[1])"; for locks, semaphores, conditions,
 * events, barriers and queues Python's form of the object, with its address
 * in this process's mapping. H in; *OUT out: shmc_free().
 * A list or dict holding values nested 512 deep prints (its items sit
 * one level deeper than a plain value may; Limits, in the Caveats).
 * @return 0, SHMC_EHANDLE, -EINVAL (OUT NULL), SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_obj_str(shmc_obj_t *h, char **out);
/** Python's repr() of the proxy: "<ListProxy object, typeid 'list' at 0x217000>".
 * The address is the object's offset in the arena, the same in every
 * process (the identity shmc_view_objects() reports). H in; *OUT out:
 * shmc_free(). @return 0, SHMC_EHANDLE, -EINVAL (OUT NULL), SHMC_ECORRUPT,
 *         -ENOMEM */
SHMC_API int shmc_obj_repr(const shmc_obj_t *h, char **out);
/** Write shmc_obj_str(H) and a newline to F. H and F in.
 * @return 0, -EIO (the write failed), -EINVAL (F NULL), and the errors of
 *         shmc_obj_str */
SHMC_API int shmc_obj_print(shmc_obj_t *h, FILE *f);
/** Write shmc_value_str(V) and a newline to F. V and F in.
 * @return 0, -EIO (the write failed), -EINVAL (F NULL, or V a view of
 *         NULL), -ENOMEM, SHMC_EDEPTH, V's error */
SHMC_API int shmc_value_print(shmc_value_t v, FILE *f);

/** A caller's function for the *_update operations. VALUE in/out: a private
 * copy of the current value, which the *_update call owns and frees after
 * FN returns, stored or not. FN changes it in place or replaces it (freeing
 * the old value first); a view put there must stay valid until the
 * *_update call returns. CTX: the caller's pointer, passed through. Return
 * 0 to store the result; any other value aborts with nothing changed, and
 * the *_update call returns it (make it negative, to read as an error). FN
 * runs while the object's writer lock is held by this thread: it must
 * return, should be quick, and must not write the same object (-EDEADLK)
 * nor, without a fixed lock order, any other (Update callbacks and lock
 * order, in the Caveats). */
typedef int (*shmc_update_fn)(shmc_value_t *value, void *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup namespace Namespace
 * Python's manager.Namespace(): named attributes holding values. NS is a
 * handle (in); NAME is in: a NUL-terminated, non-empty UTF-8 string (NULL or
 * empty is -EINVAL, longer than SHMC_MAX_LEN -EOVERFLOW, not UTF-8 -EILSEQ
 * when it would be stored, SHMC_EATTR when looked up).
 *
 * A NAME that begins with '_' is private to the handle NS, as Python's
 * NamespaceProxy keeps such attributes on the proxy itself: every call
 * below acts on NS's own storage (a copy of the value, on the
 * process-local heap), never shared. Another handle to the same namespace
 * (shmc_obj_dup(), one read out of a container, another process's) does
 * not see it; shmc_namespace_names() and str() leave it out; it is freed
 * with NS. A forked child starts with a copy of its parent's. Atomic
 * operations on it are atomic among the threads sharing NS.
 * @{ */
/** A new empty namespace. ARENA in; *OUT out: shmc_obj_release().
 * @return 0, SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_namespace_new(shmc_arena_t *arena, shmc_obj_t **out);
/** ns.NAME = V. V in: copied (a managed object inside is shared by
 * reference).
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -EINVAL, -EOVERFLOW,
 *         -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, SHMC_EFULL, SHMC_ETHREADS,
 *         -EDEADLK, V's error */
SHMC_API int shmc_namespace_set(shmc_obj_t *ns, const char *name, shmc_value_t v);
/** *OUT = ns.NAME, a private copy. *OUT out: shmc_value_free().
 * @return 0, SHMC_EATTR, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -EINVAL,
 *         -EOVERFLOW, SHMC_ETHREADS, SHMC_EFULL, -ENOMEM (-EINVAL: NAME as
 *         above, or OUT NULL) */
SHMC_API int shmc_namespace_get(shmc_obj_t *ns, const char *name, shmc_value_t *out);
/** del ns.NAME.
 * @return 0, SHMC_EATTR, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -EINVAL,
 *         -EOVERFLOW, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_namespace_del(shmc_obj_t *ns, const char *name);
/** hasattr(ns, NAME).
 * @return 1, 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -EINVAL,
 *         -EOVERFLOW, SHMC_ETHREADS */
SHMC_API int shmc_namespace_has(shmc_obj_t *ns, const char *name);
/** The (shared) attribute names, sorted, as a plain list of str. *OUT out:
 * shmc_value_free().
 * @return 0, SHMC_EHANDLE, -EINVAL (OUT NULL), SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_namespace_names(shmc_obj_t *ns, shmc_value_t *out);
/** Atomically ns.NAME += DELTA, as Python adds numbers (bool, int of any
 * size, float, complex): ints exactly, past 64 bits too; a float makes a
 * float, a complex a complex. DELTA in; *RESULT out (may be NULL): the new
 * value, a number (free it with shmc_value_free(): a big int or a complex
 * owns memory).
 * @return 0, SHMC_EATTR, SHMC_ETYPE (the attribute or DELTA is not a
 *         number), -ERANGE (an int too large for a float, in float or
 *         complex arithmetic: Python's OverflowError), SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT,
 *         -EINVAL, -EOVERFLOW, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK, -ENOMEM */
SHMC_API int shmc_namespace_add(shmc_obj_t *ns, const char *name, shmc_value_t delta,
			 shmc_value_t *result);
/** Atomically: if ns.NAME == EXPECTED (Python's ==), set it to DESIRED.
 * EXPECTED and DESIRED in (DESIRED copied; it is checked first, even when
 * the values differ, as shmc_cvalue_cas does).
 * @return 1 if swapped, 0 if not, SHMC_EATTR, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, -EINVAL, -EOVERFLOW, -EILSEQ, SHMC_EDEPTH,
 *         SHMC_EARENA, SHMC_EFULL, SHMC_ETHREADS, -EDEADLK, DESIRED's
 *         error */
SHMC_API int shmc_namespace_cas(shmc_obj_t *ns, const char *name,
			 shmc_value_t expected, shmc_value_t desired);
/** Atomically apply FN to ns.NAME with no other writer in between (see
 * shmc_update_fn). FN in; CTX passed to it.
 * @return 0, FN's non-zero result, SHMC_EATTR, -EINVAL (FN NULL, or as for
 *         NAME and values), -EOVERFLOW, -EILSEQ, SHMC_EDEPTH, SHMC_EARENA,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK, -ENOMEM, the result's error */
SHMC_API int shmc_namespace_update(shmc_obj_t *ns, const char *name,
			    shmc_update_fn fn, void *ctx);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup list List
 * Python's manager.list(). Indices may be negative, as in Python. LS is a
 * handle (in); values passed in are in, and stored as copies.
 * @{ */
/** A new empty list. ARENA in; *OUT out: shmc_obj_release().
 * @return 0, SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_list_new(shmc_arena_t *arena, shmc_obj_t **out);
/** A new list holding copies of the items of tuple or plain list ITEMS, or
 * of the members of set or frozenset ITEMS in iteration order, as
 * manager.list(ITEMS). ITEMS in; *OUT out: shmc_obj_release().
 * @return 0, SHMC_ETYPE (ITEMS is none of those), ITEMS'
 *         error, SHMC_EHANDLE, SHMC_ECORRUPT, -EINVAL (also OUT NULL), -EILSEQ,
 *         SHMC_EDEPTH, SHMC_EARENA, SHMC_EFULL, SHMC_ETHREADS, -ENOMEM */
SHMC_API int shmc_list_new_from(shmc_arena_t *arena, shmc_value_t items,
				shmc_obj_t **out);
/** len(ls), or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS. */
SHMC_API int64_t shmc_list_len(shmc_obj_t *ls);
/** *OUT = ls[I], a private copy. *OUT out: shmc_value_free().
 * @return 0, SHMC_EINDEX, -EINVAL (OUT NULL), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_list_get(shmc_obj_t *ls, int64_t i, shmc_value_t *out);
/** ls[I] = V.
 * @return 0, SHMC_EINDEX, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -EINVAL,
 *         -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, SHMC_EFULL, SHMC_ETHREADS,
 *         -EDEADLK, V's error */
SHMC_API int shmc_list_set(shmc_obj_t *ls, int64_t i, shmc_value_t v);
/** ls.append(V).
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -EINVAL, -EILSEQ,
 *         SHMC_EDEPTH, SHMC_EARENA, SHMC_EFULL, SHMC_ETHREADS, -EDEADLK,
 *         V's error */
SHMC_API int shmc_list_append(shmc_obj_t *ls, shmc_value_t v);
/** ls.insert(I, V), clamping I as Python does. @return as shmc_list_append */
SHMC_API int shmc_list_insert(shmc_obj_t *ls, int64_t i, shmc_value_t v);
/** *out = ls.pop(I). *OUT out (may be NULL: the item is dropped):
 * shmc_value_free().
 * @return 0, SHMC_EINDEX (empty, or I out of range), SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK,
 *         -ENOMEM */
SHMC_API int shmc_list_pop(shmc_obj_t *ls, int64_t i, shmc_value_t *out);
/** del ls[I].
 * @return 0, SHMC_EINDEX, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_list_del(shmc_obj_t *ls, int64_t i);
/** ls.extend(ITEMS), also ls += ITEMS: ITEMS a tuple, a plain list, a set
 * or frozenset (its members in iteration order) or a managed list
 * (shmc_ref(), LS itself included: its items are then added once more),
 * in; all or nothing.
 * @return 0, SHMC_ETYPE (ITEMS is none of those), ITEMS' error,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -EINVAL, -EILSEQ,
 *         SHMC_EDEPTH, SHMC_EARENA, SHMC_EFULL, SHMC_ETHREADS, -EDEADLK,
 *         -ENOMEM */
SHMC_API int shmc_list_extend(shmc_obj_t *ls, shmc_value_t items);
/** ls.clear().
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_list_clear(shmc_obj_t *ls);
/** ls.remove(V): delete the first item equal to V (Python's ==). V in.
 * @return 0, SHMC_EINDEX (no such item), SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_list_remove(shmc_obj_t *ls, shmc_value_t v);
/** ls.index(V): the position of the first item equal to V. V in.
 * @return the position, SHMC_EINDEX (no such item), SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS */
SHMC_API int64_t shmc_list_index(shmc_obj_t *ls, shmc_value_t v);
/** list(ls): a consistent snapshot as a plain list, to iterate. *OUT out:
 * shmc_value_free().
 * @return 0, SHMC_EHANDLE, -EINVAL (OUT NULL), SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_list_copy(shmc_obj_t *ls, shmc_value_t *out);
/** Atomically ls[I] += DELTA; see shmc_namespace_add.
 * @return 0, SHMC_EINDEX, SHMC_ETYPE, -ERANGE, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK, -ENOMEM */
SHMC_API int shmc_list_add(shmc_obj_t *ls, int64_t i, shmc_value_t delta,
			   shmc_value_t *result);
/** Atomic compare-and-set of ls[I]; see shmc_namespace_cas.
 * @return 1, 0, SHMC_EINDEX, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         -EINVAL, -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, SHMC_EFULL,
 *         SHMC_ETHREADS, -EDEADLK, DESIRED's error */
SHMC_API int shmc_list_cas(shmc_obj_t *ls, int64_t i, shmc_value_t expected,
			   shmc_value_t desired);
/** Atomically apply FN to ls[I]; see shmc_namespace_update.
 * @return 0, FN's non-zero result, SHMC_EINDEX, -EINVAL (FN NULL, or a
 *         malformed result), -EILSEQ, SHMC_EDEPTH, SHMC_EARENA,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK, -ENOMEM, the result's error */
SHMC_API int shmc_list_update(shmc_obj_t *ls, int64_t i, shmc_update_fn fn,
			      void *ctx);

/* The rest of Python's ListProxy. Each call below is one atomic step, as
 * each proxy method is one call to Python's manager: readers see the list
 * before or after it, never in between; one that fails changes nothing. */

/** ls.count(V): how many items equal V (Python's ==). V in.
 * @return the count, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, V's error */
SHMC_API int64_t shmc_list_count(shmc_obj_t *ls, shmc_value_t v);
/** V in ls. V in.
 * @return 1, 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         V's error */
SHMC_API int shmc_list_contains(shmc_obj_t *ls, shmc_value_t v);
/** ls.index(V, START, STOP): the first position i, START <= i < STOP,
 * whose item equals V. START and STOP count from the end when negative and
 * are clamped as Python clamps them; SHMC_SLICE_NONE leaves either out
 * (0, and the end). V in.
 * @return the position, SHMC_EINDEX (no such item: Python's ValueError),
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, V's
 *         error */
SHMC_API int64_t shmc_list_index_range(shmc_obj_t *ls, shmc_value_t v, int64_t start,
				       int64_t stop);
/** ls.reverse().
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_list_reverse(shmc_obj_t *ls);

/** A sort key function: *KEY = the key of ITEM, as Python's key=. ITEM in
 * (a private copy of the list's item, valid until the sort returns); *KEY
 * out, set only when returning 0, and freed by the sort with
 * shmc_value_free(): a scalar, a value of its own (shmc_value_copy() of a
 * part of ITEM), or a view that stays valid until the sort returns. ITEM
 * and its parts may be viewed that way: a struct copy of ITEM or of
 * *shmc_seq_at(*ITEM, i) with .owned set to 0 (left owned, it would be
 * freed twice). CTX: the sort's. Return 0, or anything else to stop the
 * sort, which returns it (make it negative, to read as an error). */
typedef int (*shmc_key_fn)(const shmc_value_t *item, shmc_value_t *key, void *ctx);
/** A sort comparison: whether A sorts before B -- Python's "<", which is
 * all a sort asks -- as 1 (yes) or 0 (no), or a negative error code to stop
 * the sort, which returns it. A and B in (keys, when there is a key
 * function). shmc_value_lt() is the one used when none is given. */
typedef int (*shmc_lt_fn)(const shmc_value_t *a, const shmc_value_t *b, void *ctx);
/** ls.sort(key=KEY, reverse=REVERSE), with the comparison LT: stable, and
 * with Python's algorithm, so that even comparisons that are not a total
 * order (NaN) give Python's result. KEY may be NULL (the items are the
 * keys); LT may be NULL (shmc_value_lt); both are called as Python calls
 * them (KEY once per item, in order, before any comparison), with CTX,
 * while this thread holds the list's writer lock: they may read the list
 * (and see it unsorted), but writing it returns -EDEADLK, and writing
 * other objects needs care (Update callbacks and lock order, in the
 * Caveats). If a comparison fails (SHMC_ETYPE for 1 < 'a', as Python's
 * TypeError) or a callback returns an error, the list is left exactly as
 * it was (Python leaves it partly sorted).
 * @return 0, SHMC_ETYPE, SHMC_EDEPTH, KEY's or LT's error, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK,
 *         -ENOMEM */
SHMC_API int shmc_list_sort(shmc_obj_t *ls, shmc_key_fn key, shmc_lt_fn lt, void *ctx,
			    bool reverse);

/** An omitted start, stop or step of a slice, as None in ls[::2] or ls[:3].
 * (As an index, -2^63 is never needed: any index at or below -len(ls)
 * means the same.) */
#define SHMC_SLICE_NONE INT64_MIN
/* Slices follow Python's rules: negative START and STOP count from the
 * end, out-of-range ones are clamped, STEP may be negative; STEP 0 is
 * -EINVAL (Python's ValueError). */
/** *OUT = ls[START:STOP:STEP], a plain list of private copies. *OUT out:
 * shmc_value_free().
 * @return 0, -EINVAL (STEP 0, or OUT NULL), SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_list_slice_get(shmc_obj_t *ls, int64_t start, int64_t stop,
				 int64_t step, shmc_value_t *out);
/** ls[START:STOP:STEP] = ITEMS: a tuple, a plain list, a set or frozenset
 * (its members in iteration order) or a managed list (shmc_ref(), LS
 * itself included: its items before the assignment), in.
 * With STEP 1 (or SHMC_SLICE_NONE) the slice is replaced by any number of
 * items and the list resizes; with another STEP, ITEMS must have as many
 * items as the slice (else SHMC_ESIZE, Python's ValueError).
 * @return 0, SHMC_ESIZE, -EINVAL (STEP 0, or as for values), SHMC_ETYPE
 *         (ITEMS is none of those), ITEMS' error, -EILSEQ, SHMC_EDEPTH,
 *         SHMC_EARENA, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -EDEADLK, -ENOMEM */
SHMC_API int shmc_list_slice_set(shmc_obj_t *ls, int64_t start, int64_t stop,
				 int64_t step, shmc_value_t items);
/** del ls[START:STOP:STEP].
 * @return 0, -EINVAL (STEP 0), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_list_slice_del(shmc_obj_t *ls, int64_t start, int64_t stop,
				 int64_t step);

/** *OUT = ls + OTHER, a new plain list. OTHER in: a plain list, or a
 * managed list (shmc_ref(), LS itself included); a tuple is SHMC_ETYPE, as
 * in Python. (Python's manager refuses a ListProxy here; shmc takes it, as
 * Python takes list + list.) Each list is read in one consistent state,
 * not both in the same one. *OUT out: shmc_value_free().
 * @return 0, -EINVAL (OUT NULL), SHMC_ETYPE, OTHER's error, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_list_concat(shmc_obj_t *ls, shmc_value_t other, shmc_value_t *out);
/** *OUT = ls * N (also N * ls), a new plain list: empty when N <= 0. *OUT
 * out: shmc_value_free().
 * @return 0, -EINVAL (OUT NULL), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -ENOMEM (also when the result could
 *         not be counted: Python's MemoryError) */
SHMC_API int shmc_list_repeat(shmc_obj_t *ls, int64_t n, shmc_value_t *out);
/** ls *= N: the items N times over, in place; N <= 0 clears the list. (ls
 * += ITEMS is shmc_list_extend, which also takes a managed list.)
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL (also when the result could not be counted), -EDEADLK */
SHMC_API int shmc_list_inplace_repeat(shmc_obj_t *ls, int64_t n);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup order Python's order of values
 * @{ */
/** Python's A < B, for sorting and anyone who needs it: numbers (bool, int
 * of any size, float; an int and a float compared exactly, 2**64 + 1 >
 * 2.0**64; NaN is never less nor more), str by code point, bytes and
 * bytearray bytewise (with each other too), a tuple with a tuple and a
 * plain list with a plain list item by item (the first items that differ
 * decide; else the shorter first), sets and frozensets by proper subset (a
 * partial order: a sort of sets gives what Python's gives). None, complex
 * numbers, dicts, opaque values, managed objects and values of two
 * different kinds (1 < 'a', (1,) < [1], {1} < [1]) are not ordered:
 * SHMC_ETYPE, as Python's TypeError -- only the items actually compared
 * must be comparable. A and B in.
 * @return 1, 0, SHMC_ETYPE, SHMC_EDEPTH (nested deeper than 512), -EINVAL
 *         (an unknown type, or a str or bytes with a NULL pointer and a
 *         non-zero len), A's or B's error */
SHMC_API int shmc_value_lt(shmc_value_t a, shmc_value_t b);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup dict Dict
 * Python's manager.dict(), in insertion order. Keys are none, bool, int,
 * float, str, bytes and tuples of those, with Python's equality: 1, 1.0 and
 * True are one key. A list, dict or managed reference as a key fails with
 * SHMC_EUNHASHABLE; a key nested deeper than 512 with SHMC_EDEPTH. D is a
 * handle (in); keys and values passed in are in, and stored as copies.
 * @{ */
/** A new empty dict. ARENA in; *OUT out: shmc_obj_release().
 * @return 0, SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_dict_new(shmc_arena_t *arena, shmc_obj_t **out);
/** A new dict holding copies of the entries of plain dict ENTRIES (in).
 * *OUT out: shmc_obj_release().
 * @return 0, SHMC_ETYPE (ENTRIES is not a plain dict), ENTRIES' error,
 *         SHMC_EHANDLE, SHMC_ECORRUPT, -EINVAL (also OUT NULL), -EILSEQ, SHMC_EDEPTH,
 *         SHMC_EARENA, SHMC_EFULL, SHMC_ETHREADS, -ENOMEM */
SHMC_API int shmc_dict_new_from(shmc_arena_t *arena, shmc_value_t entries,
				shmc_obj_t **out);
/** len(d), or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS. */
SHMC_API int64_t shmc_dict_len(shmc_obj_t *d);
/** *OUT = d[KEY], a private copy. *OUT out: shmc_value_free().
 * @return 0, SHMC_EKEY, -EINVAL (OUT NULL, or KEY a view of NULL),
 *         SHMC_EUNHASHABLE, SHMC_EDEPTH, KEY's error,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_dict_get(shmc_obj_t *d, shmc_value_t key, shmc_value_t *out);
/** d[KEY] = V.
 * @return 0, SHMC_EUNHASHABLE, SHMC_EDEPTH, -EINVAL, -EILSEQ, SHMC_EARENA,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_EFULL,
 *         SHMC_ETHREADS, -EDEADLK, KEY's or V's error */
SHMC_API int shmc_dict_set(shmc_obj_t *d, shmc_value_t key, shmc_value_t v);
/** del d[KEY].
 * @return 0, SHMC_EKEY, SHMC_EUNHASHABLE, SHMC_EDEPTH, KEY's error,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_dict_del(shmc_obj_t *d, shmc_value_t key);
/** KEY in d.
 * @return 1, 0, SHMC_EUNHASHABLE, SHMC_EDEPTH, KEY's error, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS */
SHMC_API int shmc_dict_has(shmc_obj_t *d, shmc_value_t key);
/** *out = d.pop(KEY). *OUT out (may be NULL: the value is dropped):
 * shmc_value_free().
 * @return 0, SHMC_EKEY, SHMC_EUNHASHABLE, SHMC_EDEPTH, KEY's error,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK, -ENOMEM */
SHMC_API int shmc_dict_pop(shmc_obj_t *d, shmc_value_t key, shmc_value_t *out);
/** *out = d.setdefault(KEY, DFLT), in one atomic step. DFLT in (checked
 * even when KEY is present); *OUT out (may be NULL): a private copy,
 * shmc_value_free().
 * @return 0, SHMC_EUNHASHABLE, SHMC_EDEPTH, -EINVAL, -EILSEQ, SHMC_EARENA,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_EFULL,
 *         SHMC_ETHREADS, -EDEADLK, -ENOMEM, KEY's or DFLT's error */
SHMC_API int shmc_dict_setdefault(shmc_obj_t *d, shmc_value_t key,
				  shmc_value_t dflt, shmc_value_t *out);
/** d.clear().
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_dict_clear(shmc_obj_t *d);
/** d.keys(): a consistent snapshot of the keys as a plain list, in
 * insertion order, to iterate. *OUT out: shmc_value_free().
 * @return 0, SHMC_EHANDLE, -EINVAL (OUT NULL), SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_dict_keys(shmc_obj_t *d, shmc_value_t *out);
/** d.values(), as shmc_dict_keys. @return as shmc_dict_keys */
SHMC_API int shmc_dict_values(shmc_obj_t *d, shmc_value_t *out);
/** d.items(): (key, value) tuples, as shmc_dict_keys.
 * @return as shmc_dict_keys */
SHMC_API int shmc_dict_items(shmc_obj_t *d, shmc_value_t *out);
/** dict(d): a consistent snapshot as a plain dict. *OUT out:
 * shmc_value_free(). @return as shmc_dict_keys */
SHMC_API int shmc_dict_copy(shmc_obj_t *d, shmc_value_t *out);
/** Atomically d[KEY] += DELTA; see shmc_namespace_add.
 * @return 0, SHMC_EKEY (KEY is missing), SHMC_ETYPE, -ERANGE,
 *         SHMC_EUNHASHABLE, SHMC_EDEPTH, KEY's error, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK,
 *         -ENOMEM */
SHMC_API int shmc_dict_add(shmc_obj_t *d, shmc_value_t key, shmc_value_t delta,
			   shmc_value_t *result);
/** Atomic compare-and-set of d[KEY]; see shmc_namespace_cas.
 * @return 1, 0, SHMC_EKEY, SHMC_EUNHASHABLE, SHMC_EDEPTH, -EINVAL, -EILSEQ,
 *         SHMC_EARENA, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -EDEADLK, KEY's or DESIRED's error */
SHMC_API int shmc_dict_cas(shmc_obj_t *d, shmc_value_t key,
			   shmc_value_t expected, shmc_value_t desired);
/** Atomically apply FN to d[KEY]; see shmc_namespace_update.
 * @return 0, FN's non-zero result, SHMC_EKEY, SHMC_EUNHASHABLE,
 *         SHMC_EDEPTH, -EINVAL (FN NULL, or a malformed result), -EILSEQ,
 *         SHMC_EARENA, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -EDEADLK, -ENOMEM, KEY's or the
 *         result's error */
SHMC_API int shmc_dict_update(shmc_obj_t *d, shmc_value_t key,
			      shmc_update_fn fn, void *ctx);
/** *OUT = d.get(KEY, DFLT): a private copy of d[KEY], or of DFLT when KEY
 * is missing (Python's d.get(KEY) is DFLT = shmc_none()). DFLT in (its
 * error is returned even when KEY is present); *OUT out: shmc_value_free().
 * @return 0, -EINVAL (OUT NULL, or DFLT a str or bytes view of NULL with
 *         a length, even when KEY is present), SHMC_EUNHASHABLE,
 *         SHMC_EDEPTH, KEY's or DFLT's error, SHMC_EHANDLE (also DFLT a
 *         reference through a released handle, even when KEY is present),
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_dict_get_default(shmc_obj_t *d, shmc_value_t key, shmc_value_t dflt,
				   shmc_value_t *out);
/** *OUT = d.pop(KEY, DFLT): remove KEY and give its value, or a copy of
 * DFLT when KEY is missing (nothing changes then). DFLT in (its error is
 * returned even when KEY is present); *OUT out (may be NULL: the value is
 * dropped): shmc_value_free().
 * @return 0, -EINVAL (DFLT a str or bytes view of NULL with a length:
 *         nothing removed), SHMC_EUNHASHABLE, SHMC_EDEPTH, KEY's or DFLT's
 *         error, SHMC_EHANDLE (also DFLT a reference through a released
 *         handle: nothing removed), SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -EDEADLK, -ENOMEM */
SHMC_API int shmc_dict_pop_default(shmc_obj_t *d, shmc_value_t key, shmc_value_t dflt,
				   shmc_value_t *out);
/** (*KEY, *VAL) = d.popitem(): remove the entry inserted last (LIFO, as
 * Python) and give it. *KEY and *VAL out (either may be NULL: dropped).
 * @return 0, SHMC_EKEY (the dict is empty), SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK, -ENOMEM */
SHMC_API int shmc_dict_popitem(shmc_obj_t *d, shmc_value_t *key, shmc_value_t *val);
/** d.update(OTHER), also d |= OTHER (shmc_dict_update is the atomic
 * read-modify-write of one entry). OTHER in: a plain dict; a reference to
 * a managed dict (read as one consistent snapshot; D itself is fine); or
 * an iterable of (key, value) pairs: a tuple, a plain list, a set or
 * frozenset (in iteration order) or a reference to a managed list, whose
 * items are each a tuple, plain list, plain dict (its keys), set or
 * frozenset (its members in iteration order), str (its characters), bytes
 * or bytearray (its ints) of length 2. Keys
 * already in D keep their place and take the new value; new keys follow in
 * OTHER's order; a key given twice takes its last value. Atomic, unlike
 * Python's: a reader (of any process) sees all of it or none of it, and a
 * failure changes nothing.
 * @return 0, SHMC_ETYPE (OTHER, or one of its items, is not iterable, as
 *         Python's TypeError; a reference to another kind of object),
 *         -EINVAL (an item is not of length 2, Python's ValueError),
 *         SHMC_EUNHASHABLE, SHMC_EDEPTH, -EILSEQ, SHMC_EARENA, OTHER's
 *         error, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK, -ENOMEM */
SHMC_API int shmc_dict_merge(shmc_obj_t *d, shmc_value_t other);
/** *OUT = d | OTHER: a new plain dict, D's entries updated by OTHER's. D
 * is read as one snapshot and not changed. OTHER in: a plain dict or a
 * reference to a managed dict (anything else is Python's TypeError); *OUT
 * out: shmc_value_free().
 * @return 0, SHMC_ETYPE, OTHER's error, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_dict_or(shmc_obj_t *d, shmc_value_t other, shmc_value_t *out);

/** What an iterator gives: keys, values, or (key, value) tuples. */
typedef enum shmc_iter_what {
	SHMC_ITER_KEYS = 1,
	SHMC_ITER_VALUES = 2,
	SHMC_ITER_ITEMS = 3,
} shmc_iter_what_t;
/** A live iterator over a managed dict, private to its caller (one thread
 * at a time). */
typedef struct shmc_dict_iter shmc_dict_iter_t;
/** iter(d), iter(d.values()) or iter(d.items()): an iterator that reads
 * the dict as it goes, one entry a call, without a lock, in insertion
 * order. It holds a reference to D (which may be released meanwhile). D
 * in; *OUT out: shmc_dict_iter_free().
 * @return 0, -EINVAL (WHAT unknown, or OUT NULL), SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_dict_iter_new(shmc_obj_t *d, shmc_iter_what_t what,
				shmc_dict_iter_t **out);
/** next(it): *OUT receives the next key, value or (key, value) tuple. As
 * in Python, if the dict's length is not what it was when the iterator was
 * made, this and every later call fail with SHMC_ECHANGED (Python's
 * RuntimeError "dictionary changed size during iteration"). A call that
 * finds more entries than that length fails with SHMC_ECHANGED once
 * ("dictionary keys changed during iteration"), and the iterator is then
 * exhausted; so does one whose last key was deleted (and the length made
 * up) while a merge or compaction rebuilt the table. Otherwise every entry
 * present throughout is given exactly once; values changed meanwhile are
 * seen as they are when reached. Once it has returned 0 it returns 0 for
 * good. IT in/out; *OUT out: shmc_value_free().
 * @return 1 (an item), 0 (no more), SHMC_ECHANGED, -EINVAL (IT or OUT
 *         NULL), SHMC_EHANDLE (D's arena was closed), SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_dict_iter_next(shmc_dict_iter_t *it, shmc_value_t *out);
/** Free an iterator and its reference to the dict. IT taken (NULL is
 * ignored). */
SHMC_API void shmc_dict_iter_free(shmc_dict_iter_t *it);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup versions Versions and waiting
 * Writing back without losing a change, and sleeping until something
 * changed. Python's Manager has neither.
 *
 * Every managed object has a version, a number that changes on every store
 * to the object and is never 0. The version of a namespace attribute, list
 * item or dict entry is its object's version: every store to the entry
 * changes it, and so does a store to another entry of the same object (so a
 * conditional store may report a conflict that was not one; a retry loop
 * never loses a change either way). This costs no byte per entry and no
 * store: the version is the object's sequence count, which every store
 * already bumps. An absent attribute or key has version 0: a conditional
 * store with version 0 adds the entry only if it is absent.
 *
 * The write-back rule as a loop that loses nothing, from any number of
 * processes:
 * @code
 *   for (;;) {
 *           shmc_value_t t; uint64_t ver;
 *           shmc_list_get_versioned(ls, 2, &t, &ver);
 *           ... t2 = t with t[0] + 1 ...
 *           int rc = shmc_list_set_if(ls, 2, t2, ver);
 *           ... free t, t2 ...
 *           if (rc != SHMC_ECONFLICT) break;   // 0, or a real error
 *   }
 * @endcode
 *
 * Waiting sleeps on a futex: a store with nobody waiting costs one more
 * load of a word on a line it writes anyway; a store wakes only the threads
 * waiting on its object, or on its key (keys are hashed into 64 buckets per
 * arena: a store to a key sharing a bucket may wake a waiter, which checks
 * and sleeps again). A waiter killed while it waits is taken back when its
 * process is reaped (shmc_arena_check() with SHMC_CHECK_REAP, or a process
 * attaching in its slot); until then stores to what it waited on make a
 * wake-up system call for nobody. Timeouts are in seconds, as in the sync
 * group: SHMC_FOREVER, SHMC_NOWAIT, or a number; negative others or NaN
 * are -EINVAL. Handles are in.
 * @{ */
/** *VERSION = the version of OBJ (any kind) as a whole. *VERSION out.
 * @return 0, -EINVAL (VERSION NULL), SHMC_EHANDLE, SHMC_ECORRUPT */
SHMC_API int shmc_obj_version(shmc_obj_t *obj, uint64_t *version);
/** Sleep until OBJ's version is not SEEN_VERSION (returns at once if it
 * already is not), or TIMEOUT seconds pass. A store made after SEEN_VERSION
 * was read, even before the call, ends the wait.
 * @return 0 (changed), -ETIMEDOUT, -EINVAL (TIMEOUT), SHMC_EHANDLE,
 *         SHMC_ECORRUPT, SHMC_ETHREADS, -EDEADLK (from a signal handler
 *         that interrupted a wait of this thread) */
SHMC_API int shmc_obj_wait_change(shmc_obj_t *obj, uint64_t seen_version, double timeout);
/** *COUNT = how many threads wait now on OBJ or on one of its keys
 * (inspection: 0 once every waiter has returned or been reaped). *COUNT out.
 * @return 0, -EINVAL (COUNT NULL), SHMC_EHANDLE, SHMC_ECORRUPT */
SHMC_API int shmc_obj_waiters(shmc_obj_t *obj, uint64_t *count);
/** *OUT = getattr(ns, NAME) and *VERSION its version, read together. NAME
 * must be a shared attribute (not starting with '_'). *OUT out:
 * shmc_value_free(); *VERSION out.
 * @return 0, SHMC_EATTR, -EINVAL (NAME NULL, empty or private, OUT or
 *         VERSION NULL), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, -EDEADLK, -ENOMEM */
SHMC_API int shmc_namespace_get_versioned(shmc_obj_t *ns, const char *name,
					  shmc_value_t *out, uint64_t *version);
/** setattr(ns, NAME, V), only if NAME's version is still VERSION (0: only
 * if NAME is absent); else nothing changes.
 * @return 0, SHMC_ECONFLICT, -EINVAL (NAME NULL, empty or private, V a
 *         view of NULL), -EILSEQ, SHMC_EARENA, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, SHMC_EFULL, SHMC_ETHREADS, -EDEADLK, V's error */
SHMC_API int shmc_namespace_set_if(shmc_obj_t *ns, const char *name, shmc_value_t v,
				   uint64_t version);
/** The short names: shmc_ns_get_versioned and shmc_ns_set_if are
 * shmc_namespace_get_versioned and shmc_namespace_set_if. */
#define shmc_ns_get_versioned shmc_namespace_get_versioned
#define shmc_ns_set_if shmc_namespace_set_if
/** *OUT = ls[I] and *VERSION its version, read together. *OUT out:
 * shmc_value_free(); *VERSION out.
 * @return 0, SHMC_EINDEX, -EINVAL (OUT or VERSION NULL), SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, -EDEADLK, -ENOMEM */
SHMC_API int shmc_list_get_versioned(shmc_obj_t *ls, int64_t i, shmc_value_t *out,
				     uint64_t *version);
/** ls[I] = V, only if the item's version is still VERSION (the version is
 * compared before the index); else nothing changes.
 * @return 0, SHMC_ECONFLICT, SHMC_EINDEX, -EINVAL, -EILSEQ, SHMC_EARENA,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_EFULL,
 *         SHMC_ETHREADS, -EDEADLK, V's error */
SHMC_API int shmc_list_set_if(shmc_obj_t *ls, int64_t i, shmc_value_t v, uint64_t version);
/** *OUT = d[KEY] and *VERSION its version, read together. *OUT out:
 * shmc_value_free(); *VERSION out.
 * @return 0, SHMC_EKEY, -EINVAL (OUT or VERSION NULL), SHMC_EUNHASHABLE,
 *         SHMC_EDEPTH, KEY's error, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT, SHMC_ETHREADS, -EDEADLK, -ENOMEM */
SHMC_API int shmc_dict_get_versioned(shmc_obj_t *d, shmc_value_t key, shmc_value_t *out,
				     uint64_t *version);
/** d[KEY] = V, only if KEY's version is still VERSION (0: only if KEY is
 * absent); else nothing changes.
 * @return 0, SHMC_ECONFLICT, SHMC_EUNHASHABLE, SHMC_EDEPTH, -EINVAL,
 *         -EILSEQ, SHMC_EARENA, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_EFULL, SHMC_ETHREADS, -EDEADLK, KEY's or V's error */
SHMC_API int shmc_dict_set_if(shmc_obj_t *d, shmc_value_t key, shmc_value_t v,
			      uint64_t version);
/** Sleep until KEY's version in D is not SEEN_VERSION (returns at once if
 * it already is not: since versions are the dict's, after any store to D
 * since SEEN_VERSION was read), or TIMEOUT seconds pass. While it sleeps,
 * only stores to KEY (or to a key sharing its bucket, or to every key:
 * clear, update) wake it. SEEN_VERSION 0 waits for KEY to appear.
 * @return 0 (changed), -ETIMEDOUT, -EINVAL (TIMEOUT), SHMC_EUNHASHABLE,
 *         SHMC_EDEPTH, KEY's error, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, -EDEADLK */
SHMC_API int shmc_dict_wait_key(shmc_obj_t *d, shmc_value_t key, uint64_t seen_version,
				double timeout);
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
 * SHMC_FOREVER, or NaN, is -EINVAL; +inf, or more than 10^9 s, waits
 * without limit. Waiting spins briefly, then sleeps on a
 * futex in naps of at most 10 ms, so that a wake-up lost with a dying
 * process is only a delay; a wake-up wakes only whom it must (a release or
 * put one sleeper, notify(n) n of them). A signal does not end a wait.
 *
 * Every handle argument below is in; *OUT arguments are out (release a
 * handle with shmc_obj_release(), free a value with shmc_value_free()).
 * Values passed in are in: a queue stores a copy of each.
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
 *   Barrier          a party killed after arriving, or while running the
 *                    action, breaks the barrier: the others get
 *                    SHMC_EBROKEN instead of waiting forever.
 *   Queue            an item is either in the queue or delivered: a process
 *                    killed inside put() or get() leaves the queue as before
 *                    or after its operation, never half. A killed waiter
 *                    affects no one else.
 *   JoinableQueue    tasks taken by a consumer that dies are counted done,
 *                    so join() returns once the living are done.
 *   Value, Array     every change is one atomic store or compare-and-swap
 *                    (the Manager's Value: one store under its writer lock,
 *                    which a dead writer passes on).
 *
 * Memory a killed process had allocated but not yet published (an item it
 * was putting) is reported as leaked by shmc_arena_check(), which can sweep
 * it.
 * @{ */
#define SHMC_FOREVER (-1.0) /**< timeout: wait without limit */
#define SHMC_NOWAIT (0.0)   /**< timeout: do not wait */

/** Python's manager.Lock(). Any thread or process may release it, as
 * Python allows: one acquires, another releases (a hand-off). A thread
 * that acquires a Lock it holds already waits, as in Python, for another
 * to release it, within its timeout; without a timeout (SHMC_FOREVER) it
 * would wait for good, and fails with -EDEADLK instead. ARENA in; *OUT out.
 * @return 0, SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_lock_new(shmc_arena_t *arena, shmc_obj_t **out);
/** Python's manager.RLock(): owned by one thread, re-entrant; only the
 * owner may release it. @return as shmc_lock_new */
SHMC_API int shmc_rlock_new(shmc_arena_t *arena, shmc_obj_t **out);
/** lock.acquire(timeout=TIMEOUT), for a Lock or an RLock.
 * @return 0 (acquired), SHMC_EOWNERDEAD (acquired from a holder that died:
 *         what it protected may be half changed), -ETIMEDOUT (not acquired
 *         in time, SHMC_NOWAIT included; also a Lock this thread holds
 *         that no one released in time), -EDEADLK (a Lock this thread
 *         holds, with SHMC_FOREVER), -EOVERFLOW (RLock recursion over
 *         2^32 - 1),
 *         -EINVAL, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_lock_acquire(shmc_obj_t *lock, double timeout);
/** lock.release(), for a Lock or an RLock.
 * @return 0, SHMC_ENOTHELD (a Lock that is not locked; an RLock this thread
 *         does not own), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_lock_release(shmc_obj_t *lock);

/** Python's manager.Semaphore(VALUE) (VALUE >= 0). ARENA in; *OUT out.
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
/** The number of permits available now, or SHMC_EHANDLE, SHMC_EKIND,
 * SHMC_ECORRUPT. */
SHMC_API int64_t shmc_semaphore_value(shmc_obj_t *sem);

/** Python's manager.Condition(LOCK): bound to LOCK, a Lock or an RLock of
 * the same arena, or to an RLock of its own when LOCK is NULL. ARENA in;
 * LOCK in (may be NULL; the condition takes a reference of its own, so LOCK
 * may be released afterwards); *OUT out.
 * @return 0, SHMC_EKIND (LOCK is neither), SHMC_EARENA, SHMC_EHANDLE
 *         (ARENA or LOCK invalid, or OUT NULL), SHMC_ECORRUPT, SHMC_EFULL,
 *         -ENOMEM */
SHMC_API int shmc_condition_new(shmc_arena_t *arena, shmc_obj_t *lock, shmc_obj_t **out);
/** A handle to the condition's lock. *OUT out: a new handle.
 * @return 0, SHMC_EHANDLE, -EINVAL (OUT NULL), SHMC_EKIND, SHMC_ECORRUPT, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_condition_lock(shmc_obj_t *cond, shmc_obj_t **out);
/** cond.acquire(timeout=TIMEOUT): acquires the condition's lock.
 * @return as shmc_lock_acquire */
SHMC_API int shmc_condition_acquire(shmc_obj_t *cond, double timeout);
/** cond.release(). @return as shmc_lock_release */
SHMC_API int shmc_condition_release(shmc_obj_t *cond);
/** cond.wait(timeout=TIMEOUT): release the lock (all levels of an RLock),
 * sleep until notified or TIMEOUT, and re-acquire the lock (without a time
 * limit, as Python does) before returning. Whatever it returns, the caller
 * holds the lock afterwards as before the call, except with SHMC_ENOTHELD.
 * @return 0 (notified), -ETIMEDOUT, SHMC_EOWNERDEAD (re-acquired the lock
 *         from a holder that died; treat as a spurious wake-up),
 *         SHMC_ENOTHELD (the caller does not hold the lock, or another
 *         process released the Lock meanwhile), -EINVAL, SHMC_EFULL,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_condition_wait(shmc_obj_t *cond, double timeout);
/** What cond.wait_for() evaluates, called with the lock held. CTX: the
 * caller's pointer, passed through. */
typedef bool (*shmc_pred_fn)(void *ctx);
/** cond.wait_for(PRED, timeout=TIMEOUT): wait until PRED(CTX) is true.
 * PRED in (called in this thread, holding the lock, before each wait and
 * after each wake-up); CTX passed to it.
 * @return 0 (PRED is true), -ETIMEDOUT (still false), SHMC_EOWNERDEAD (the
 *         lock was re-acquired from a dead holder on the way; PRED's value
 *         is unknown), -EINVAL (PRED NULL, or TIMEOUT), SHMC_ENOTHELD,
 *         SHMC_EFULL, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_condition_wait_for(shmc_obj_t *cond, shmc_pred_fn pred, void *ctx,
				double timeout);
/** cond.notify(N): wake up to N waiters, oldest first, skipping dead ones.
 * N <= 0 wakes none.
 * @return the number woken, SHMC_ENOTHELD, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT */
SHMC_API int shmc_condition_notify(shmc_obj_t *cond, int n);
/** cond.notify_all(). @return as shmc_condition_notify */
SHMC_API int shmc_condition_notify_all(shmc_obj_t *cond);

/** Python's manager.Event(), initially unset. ARENA in; *OUT out.
 * @return 0, SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_event_new(shmc_arena_t *arena, shmc_obj_t **out);
/** event.set(): wakes every waiter.
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_event_set(shmc_obj_t *ev);
/** event.clear(). @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_event_clear(shmc_obj_t *ev);
/** event.is_set(): 1 or 0, or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int shmc_event_is_set(shmc_obj_t *ev);
/** event.wait(timeout=TIMEOUT).
 * @return 0 (set), -ETIMEDOUT, -EINVAL, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT */
SHMC_API int shmc_event_wait(shmc_obj_t *ev, double timeout);

/** Python's manager.Barrier(PARTIES) (1 <= PARTIES < 2^20), with no action
 * and no default timeout: shmc_barrier_new_ex(ARENA, PARTIES, NULL, NULL,
 * SHMC_FOREVER, OUT). ARENA in; *OUT out.
 * @return 0, -EINVAL, SHMC_EHANDLE (ARENA invalid or OUT NULL),
 *         SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_barrier_new(shmc_arena_t *arena, unsigned parties, shmc_obj_t **out);
/** A barrier's action: run by the party that trips it, before the others
 * are released. CTX: the pointer given with it. Return 0, or a negative
 * code to break the barrier (Python's action raising): the others get
 * SHMC_EBROKEN and the tripping party's wait returns the code (a positive
 * return counts as SHMC_EBROKEN). It runs holding the barrier's lock, as
 * Python's does: it must not wait on, abort or reset the same barrier
 * (-EDEADLK), and whoever arrives meanwhile waits for it. */
typedef int (*shmc_barrier_action_fn)(void *ctx);
/** Python's manager.Barrier(PARTIES, action=ACTION, timeout=TIMEOUT).
 * ACTION (may be NULL) is a function of this process: it is remembered
 * per process, and forked children inherit it, but an unrelated process
 * that opens the arena must give its own with shmc_barrier_set_action()
 * before it may trip the barrier (else its wait returns -ENOENT and the
 * barrier breaks). TIMEOUT is the default of shmc_barrier_wait()
 * (SHMC_FOREVER: none). ARENA in; CTX passed to ACTION; *OUT out.
 * @return 0, -EINVAL (PARTIES, or TIMEOUT negative but SHMC_FOREVER, or
 *         NaN), SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL,
 *         -ENOMEM */
SHMC_API int shmc_barrier_new_ex(shmc_arena_t *arena, unsigned parties,
				 shmc_barrier_action_fn action, void *ctx, double timeout,
				 shmc_obj_t **out);
/** Give this process (this attachment of the arena) ACTION(CTX) as barrier
 * B's action, replacing the one it had: for a process that did not create
 * B by fork() from its creator. B in; ACTION in.
 * @return 0, -EINVAL (ACTION NULL, or B was made without an action),
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, -ENOMEM */
SHMC_API int shmc_barrier_set_action(shmc_obj_t *b, shmc_barrier_action_fn action,
				     void *ctx);
/** barrier.wait(timeout=TIMEOUT). SHMC_FOREVER is Python's None: the
 * barrier's default timeout, if it has one (+inf waits without limit
 * whatever the default).
 * @return the arrival index, 0 to parties - 1 (parties - 1 for the party
 *         that trips the barrier); SHMC_EBROKEN (the barrier is or became
 *         broken: aborted, reset while waiting, timed out, its action
 *         failed, or left by a dead party); -ETIMEDOUT (this call timed
 *         out, which breaks the barrier for the others, as in Python); for
 *         the party that trips it, the action's negative result or -ENOENT
 *         (this process has no action for it), the barrier broken for the
 *         others; -EINVAL, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_barrier_wait(shmc_obj_t *b, double timeout);
/** barrier.abort(): break it; waiters get SHMC_EBROKEN.
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_barrier_abort(shmc_obj_t *b);
/** barrier.reset(): back to its initial state; waiters get SHMC_EBROKEN.
 * @return as shmc_barrier_abort */
SHMC_API int shmc_barrier_reset(shmc_obj_t *b);
/** barrier.parties, or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int64_t shmc_barrier_parties(shmc_obj_t *b);
/** barrier.n_waiting (0 when broken), or SHMC_EHANDLE, SHMC_EKIND,
 * SHMC_ECORRUPT. */
SHMC_API int64_t shmc_barrier_n_waiting(shmc_obj_t *b);
/** barrier.broken: 1 or 0, or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int shmc_barrier_broken(shmc_obj_t *b);

/** Python's manager.Queue(MAXSIZE): MAXSIZE <= 0 is unbounded. Items are
 * any value: plain values travel as copies, managed objects by reference.
 * ARENA in; *OUT out.
 * @return 0, SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_queue_new(shmc_arena_t *arena, int64_t maxsize, shmc_obj_t **out);
/** Python's manager.JoinableQueue(MAXSIZE): a Queue with task_done() and
 * join(). @return as shmc_queue_new */
SHMC_API int shmc_joinable_queue_new(shmc_arena_t *arena, int64_t maxsize, shmc_obj_t **out);
/** q.put(V, timeout=TIMEOUT) (SHMC_NOWAIT: block=False). V in: copied
 * (checked only once there is room).
 * @return 0, SHMC_EQUEUEFULL (no room in time), SHMC_EFULL (the arena),
 *         -EINVAL, -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, V's error */
SHMC_API int shmc_queue_put(shmc_obj_t *q, shmc_value_t v, double timeout);
/** q.put_nowait(V). @return as shmc_queue_put */
SHMC_API int shmc_queue_put_nowait(shmc_obj_t *q, shmc_value_t v);
/** *out = q.get(timeout=TIMEOUT), a private copy, in FIFO order. *OUT out:
 * shmc_value_free().
 * @return 0, SHMC_EQUEUEEMPTY (nothing came in time), -ENOMEM, SHMC_EFULL
 *         (the item holds references and no handle can be recorded),
 *         -EOVERFLOW (a JoinableQueue: this process holds 2^32 - 1 tasks
 *         not yet done), -EINVAL (TIMEOUT, or OUT NULL), SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_queue_get(shmc_obj_t *q, double timeout, shmc_value_t *out);
/** *out = q.get_nowait(). @return as shmc_queue_get */
SHMC_API int shmc_queue_get_nowait(shmc_obj_t *q, shmc_value_t *out);
/** q.qsize(), or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int64_t shmc_queue_qsize(shmc_obj_t *q);
/** q.empty(): 1 or 0, or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int shmc_queue_empty(shmc_obj_t *q);
/** q.full(): 1 or 0 (always 0 when unbounded), or SHMC_EHANDLE, SHMC_EKIND,
 * SHMC_ECORRUPT. */
SHMC_API int shmc_queue_full(shmc_obj_t *q);
/** q.task_done(), for a JoinableQueue.
 * @return 0, SHMC_ENOTASK (more calls than items put), SHMC_EHANDLE,
 *         SHMC_EKIND (not a JoinableQueue), SHMC_ECORRUPT */
SHMC_API int shmc_queue_task_done(shmc_obj_t *q);
/** q.join(), for a JoinableQueue: wait until every item put has been
 * marked done (or was taken by a process that died).
 * @return 0, -ETIMEDOUT, -EINVAL, SHMC_EHANDLE, SHMC_EKIND (not a
 *         JoinableQueue), SHMC_ECORRUPT */
SHMC_API int shmc_queue_join(shmc_obj_t *q, double timeout);

/** multiprocessing.Value(TYPECODE, V): a C element of one of the array
 * module's typecodes: b B h H i I l L q Q (integers) or f d (float,
 * double), kind SHMC_KIND_CVALUE. (The Manager's Value, whose typecode is
 * only a label, is shmc_mvalue_new.) Reads and writes are single atomic
 * operations on the element (lock-free); 64-bit unsigned elements hold 0
 * .. INT64_MAX, since shmc integers are 64-bit signed. ARENA in; V in (a
 * bool, int or float); *OUT out.
 * @return 0, -EINVAL (unknown typecode), SHMC_ETYPE (V is not a number, or
 *         a float for an integer typecode), -ERANGE (V does not fit), V's
 *         error, SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL,
 *         -ENOMEM */
SHMC_API int shmc_cvalue_new(shmc_arena_t *arena, char typecode, shmc_value_t v,
			  shmc_obj_t **out);
/** *out = value.value (an int, or a float for f and d). *OUT out: a
 * scalar, nothing to free.
 * @return 0, SHMC_EHANDLE, -EINVAL (OUT NULL), SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_cvalue_get(shmc_obj_t *num, shmc_value_t *out);
/** value.value = V.
 * @return 0, SHMC_ETYPE, -ERANGE, V's error, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT */
SHMC_API int shmc_cvalue_set(shmc_obj_t *num, shmc_value_t v);
/** Atomically value.value += DELTA; *RESULT out (may be NULL): the new
 * value. Integer elements refuse a float DELTA (SHMC_ETYPE) and a result
 * out of their range (-ERANGE, nothing changed).
 * @return 0, SHMC_ETYPE, -ERANGE, DELTA's error, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT */
SHMC_API int shmc_cvalue_add(shmc_obj_t *num, shmc_value_t delta, shmc_value_t *result);
/** Atomically: if value.value == EXPECTED (numerically), set it to DESIRED
 * (checked first, even when the values differ).
 * @return 1 if swapped, 0 if not, SHMC_ETYPE, -ERANGE (DESIRED does not
 *         fit), EXPECTED's or DESIRED's error, SHMC_EHANDLE, SHMC_EKIND,
 *         SHMC_ECORRUPT */
SHMC_API int shmc_cvalue_cas(shmc_obj_t *num, shmc_value_t expected, shmc_value_t desired);
/** The typecode ('i', 'd', 'q' and the rest of the array module's), or
 * SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int shmc_cvalue_typecode(shmc_obj_t *num);

/** Python's manager.Value(TYPECODE, V), kind SHMC_KIND_MVALUE: the
 * typecode is only a label, and the value any value, as in Python
 * (Value('f', 0.1), Value('i', 'text')); str() prints Value('f', 0.1).
 * Reads are lock-free; every write is one atomic store. ARENA in;
 * TYPECODE in (any UTF-8 string); V in: copied, a managed object inside
 * shared by reference; *OUT out.
 * @return 0, -EINVAL (TYPECODE NULL, or V malformed), -EILSEQ, -EOVERFLOW
 *         (TYPECODE longer than SHMC_MAX_LEN), SHMC_EDEPTH, SHMC_EARENA,
 *         V's error, SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL,
 *         -ENOMEM */
SHMC_API int shmc_mvalue_new(shmc_arena_t *arena, const char *typecode, shmc_value_t v,
			     shmc_obj_t **out);
/** *OUT = value.get() (value.value), a private copy. *OUT out:
 * shmc_value_free().
 * @return 0, -EINVAL (OUT NULL), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_mvalue_get(shmc_obj_t *val, shmc_value_t *out);
/** value.set(V). V in: copied.
 * @return 0, -EINVAL, -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, V's error,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_mvalue_set(shmc_obj_t *val, shmc_value_t v);
/** Atomically value.value += DELTA; see shmc_namespace_add.
 * @return 0, SHMC_ETYPE, -ERANGE, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -EDEADLK, -ENOMEM */
SHMC_API int shmc_mvalue_add(shmc_obj_t *val, shmc_value_t delta, shmc_value_t *result);
/** Atomic compare-and-set of value.value; see shmc_namespace_cas.
 * @return 1, 0, -EINVAL, -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, DESIRED's
 *         error, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL, -EDEADLK */
SHMC_API int shmc_mvalue_cas(shmc_obj_t *val, shmc_value_t expected, shmc_value_t desired);
/** Atomically apply FN to value.value; see shmc_namespace_update.
 * @return 0, FN's non-zero result, -EINVAL (FN NULL, or a malformed
 *         result), -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -EDEADLK,
 *         -ENOMEM, the result's error */
SHMC_API int shmc_mvalue_update(shmc_obj_t *val, shmc_update_fn fn, void *ctx);
/** *OUT = the typecode label, a str. *OUT out: shmc_value_free().
 * @return as shmc_mvalue_get */
SHMC_API int shmc_mvalue_typecode(shmc_obj_t *val, shmc_value_t *out);

/** Python's manager.Array(TYPECODE, INIT): INIT is a tuple or plain list of
 * numbers, or an int N for N zeros. Elements are as in shmc_cvalue_new; each is
 * read and changed atomically, the array as a whole is not a snapshot.
 * ARENA in; INIT in; *OUT out.
 * @return 0, -EINVAL (unknown typecode, or N negative), SHMC_ETYPE (INIT,
 *         or one of its items, of the wrong type), -ERANGE, INIT's error,
 *         SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_array_new(shmc_arena_t *arena, char typecode, shmc_value_t init,
			    shmc_obj_t **out);
/** len(array), or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int64_t shmc_array_len(shmc_obj_t *arr);
/** *out = array[I] (negative I counts from the end). *OUT out: a scalar.
 * @return 0, SHMC_EINDEX, -EINVAL (OUT NULL), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_array_get(shmc_obj_t *arr, int64_t i, shmc_value_t *out);
/** array[I] = V. @return 0, SHMC_EINDEX, SHMC_ETYPE, -ERANGE, V's error,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_array_set(shmc_obj_t *arr, int64_t i, shmc_value_t v);
/** Atomically array[I] += DELTA; see shmc_cvalue_add.
 * @return 0, SHMC_EINDEX, SHMC_ETYPE, -ERANGE, DELTA's error, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_array_add(shmc_obj_t *arr, int64_t i, shmc_value_t delta,
			    shmc_value_t *result);
/** Atomic compare-and-set of array[I]; see shmc_cvalue_cas.
 * @return 1, 0, SHMC_EINDEX, SHMC_ETYPE, -ERANGE, EXPECTED's or DESIRED's
 *         error, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_array_cas(shmc_obj_t *arr, int64_t i, shmc_value_t expected,
			    shmc_value_t desired);
/** array.tolist(): the elements as a plain list. *OUT out:
 * shmc_value_free().
 * @return 0, -ENOMEM, -EINVAL (OUT NULL), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_array_copy(shmc_obj_t *arr, shmc_value_t *out);
/** The typecode, or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int shmc_array_typecode(shmc_obj_t *arr);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup pool Pool
 * Python's manager.Pool(N): N worker processes that run tasks -- apply,
 * map, starmap, imap and imap_unordered, blocking or not. The pool and each
 * result are managed objects: any process that has the arena (a fork()
 * child, or a process that opened the named arena and found the pool with
 * shmc_root_find()) may submit tasks and wait for results.
 *
 * Processes. shmc_pool_new() forks a supervisor, which forks the workers,
 * replaces a worker that dies or has run maxtasksperchild chunks, and stops
 * them all on terminate(). Like Python's fork-started workers, they are
 * copies of the creator: they inherit its memory, arenas and handles (and
 * hold those handles' objects until they end). The supervisor ends the
 * pool by itself, as terminate() does, when the creator exits or closes the
 * arena; workers die with their supervisor.
 *
 * Tasks. A task function gets ARG, a private copy of one item (borrowed
 * for the call), stores its result in *RESULT (a none value to begin with;
 * the pool stores a copy and then frees *RESULT: a view put there must
 * outlive the call), and returns 0, or a negative code as its error (a
 * positive R is reported as -R). A function is given by pointer,
 * shmc_task(fn), which only the creator and processes forked from it may
 * submit (others get SHMC_ENOFUNC: a pointer means nothing in another
 * program); or by name, shmc_task_named("sqr"), for a function the creator
 * registered with shmc_pool_register() before creating the pool, which
 * any process may submit.
 *
 * Items are run in chunks of CHUNKSIZE consecutive items, each chunk by one
 * worker in one go (0 asks for Python's default: map splits the items into
 * about 4 chunks per worker, imap uses 1). A task that fails ends its
 * chunk: the chunk's error is that of its failed item.
 *
 * Results. apply_async, map_async and starmap_async return an AsyncResult,
 * imap and imap_unordered an Iterator; release them with shmc_obj_release()
 * (a result dropped before it is ready is still run). The blocking calls
 * submit and wait without limit.
 *
 * Death. A worker killed while it runs a chunk fails that chunk with
 * SHMC_EWORKERDIED; the supervisor forks a replacement and the other chunks
 * go on. terminate() fails what has not finished with -ECANCELED. A pool
 * whose supervisor has died stops (TERMINATE): what had not started fails
 * with -ECANCELED, what its workers (dying with it) ran with
 * SHMC_EWORKERDIED. Nothing waits for the dead: a waiting call looks for
 * dead workers and a dead supervisor whenever a nap runs out, so it
 * returns even if no supervisor is left to notice.
 * @{ */
#define SHMC_POOL_MAX_WORKERS 64

/** A task: run with ARG (in), it sets *RESULT (out, none on entry) and
 * returns 0 or its error. CTX: the pointer given when its name was
 * registered, or the pool's options' ctx for a task given by pointer. */
typedef int (*shmc_task_fn)(shmc_value_t arg, shmc_value_t *result, void *ctx);

/** A task function as submitted: by pointer or by name (one of the two). */
typedef struct shmc_task {
	shmc_task_fn fn;  /**< by pointer: valid in processes forked from the creator */
	const char *name; /**< by name: registered in the creator (in, copied) */
} shmc_task_t;
static inline shmc_task_t shmc_task(shmc_task_fn fn)
{
	shmc_task_t t = {fn, NULL};
	return t;
}
static inline shmc_task_t shmc_task_named(const char *name)
{
	shmc_task_t t = {NULL, name};
	return t;
}

/** Options for a pool; zero-initialise and set what you need. */
typedef struct shmc_pool_options {
	/** Chunks a worker runs before it is replaced; 0: no limit. */
	unsigned maxtasksperchild;
	/** Called with CTX in each worker before its first task; a non-zero
	 * return ends that worker (the supervisor starts another, after a
	 * pause). May be NULL. */
	int (*initializer)(void *ctx);
	/** Passed to the initializer and to tasks given by pointer; a pointer
	 * of the creator's, valid in the workers (forked from it). */
	void *ctx;
} shmc_pool_options_t;

/** Register FN (with CTX) as the task function NAME in this process, for
 * the pools it creates afterwards (their workers are forked with the
 * registry as it is then). A name registered again is replaced. NAME in:
 * 1 to 255 bytes of UTF-8. Thread-safe.
 * @return 0, -EINVAL (NAME or FN NULL, NAME empty or too long), -EILSEQ,
 *         -ENOSPC (256 names registered already) */
SHMC_API int shmc_pool_register(const char *name, shmc_task_fn fn, void *ctx);

/** Python's manager.Pool(NWORKERS): forks the supervisor, which forks the
 * workers, and returns once the supervisor runs. Flushes stdio first (so
 * that no buffered output is written twice). ARENA in; OPTS in (may be
 * NULL); *OUT out: release with shmc_obj_release() after join().
 * @return 0, -EINVAL (NWORKERS 0 or above SHMC_POOL_MAX_WORKERS),
 *         SHMC_EHANDLE (ARENA invalid or OUT NULL), SHMC_EFULL, -ENOMEM,
 *         SHMC_EPROCS (no process slot for the supervisor), -ECHILD (the
 *         supervisor ended before it ran), -ETIMEDOUT (it did not run
 *         within 30 s: it is killed), -EAGAIN and the other errors of
 *         fork(2) */
SHMC_API int shmc_pool_new(shmc_arena_t *arena, unsigned nworkers,
			   const shmc_pool_options_t *opts, shmc_obj_t **out);

/** pool.apply_async(TASK, ARG): run TASK on ARG (in: copied) in a worker.
 * *OUT out: an AsyncResult, released with shmc_obj_release().
 * @return 0, SHMC_ENOTRUNNING (closed or terminated), SHMC_ENOFUNC (a name
 *         the pool does not know, or a pointer from a process not forked
 *         from the creator), -EINVAL (TASK has no or both of fn and name;
 *         OUT NULL), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_EFULL,
 *         SHMC_ETHREADS, -ENOMEM, -EILSEQ, SHMC_EDEPTH, SHMC_EARENA, ARG's
 *         error */
SHMC_API int shmc_pool_apply_async(shmc_obj_t *pool, shmc_task_t task, shmc_value_t arg,
				   shmc_obj_t **out);
/** pool.apply(TASK, ARG): apply_async, then get. *OUT out: the result.
 * @return as shmc_pool_apply_async and shmc_async_result_get */
SHMC_API int shmc_pool_apply(shmc_obj_t *pool, shmc_task_t task, shmc_value_t arg,
			     shmc_value_t *out);
/** pool.map_async(TASK, ITEMS, CHUNKSIZE): TASK on each item of the tuple
 * or plain list ITEMS (in: copied); get() gives the results as a plain
 * list in the order of ITEMS, or the error of the first failed chunk (in
 * that order), once every chunk has run. *OUT out: an AsyncResult.
 * @return as shmc_pool_apply_async, and SHMC_ETYPE (ITEMS is not a tuple
 *         or plain list), -EINVAL (CHUNKSIZE negative) */
SHMC_API int shmc_pool_map_async(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
				 int64_t chunksize, shmc_obj_t **out);
/** pool.map(TASK, ITEMS, CHUNKSIZE): map_async, then get. *OUT out: the
 * plain list. @return as shmc_pool_map_async and shmc_async_result_get */
SHMC_API int shmc_pool_map(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
			   int64_t chunksize, shmc_value_t *out);
/** pool.starmap_async(TASK, ITEMS, CHUNKSIZE): as map_async, but every item
 * must be a tuple or plain list (the arguments: C has no unpacking, so
 * TASK gets each tuple whole). @return as shmc_pool_map_async; SHMC_ETYPE
 *         also for an item that is not a tuple or plain list */
SHMC_API int shmc_pool_starmap_async(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
				     int64_t chunksize, shmc_obj_t **out);
/** pool.starmap(TASK, ITEMS, CHUNKSIZE). *OUT out: the plain list.
 * @return as shmc_pool_starmap_async and shmc_async_result_get */
SHMC_API int shmc_pool_starmap(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
			       int64_t chunksize, shmc_value_t *out);
/** pool.imap(TASK, ITEMS, CHUNKSIZE): an Iterator over the results, in the
 * order of ITEMS, each available as soon as its chunk has run. *OUT out:
 * an Iterator, read with shmc_iterator_next(). @return as
 * shmc_pool_map_async */
SHMC_API int shmc_pool_imap(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
			    int64_t chunksize, shmc_obj_t **out);
/** pool.imap_unordered(TASK, ITEMS, CHUNKSIZE): as imap, the results in the
 * order their chunks finish. @return as shmc_pool_map_async */
SHMC_API int shmc_pool_imap_unordered(shmc_obj_t *pool, shmc_task_t task, shmc_value_t items,
				      int64_t chunksize, shmc_obj_t **out);

/** pool.close(): accept no more tasks; the workers run what was submitted,
 * then end. Closing a pool that is not running does nothing.
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_pool_close(shmc_obj_t *pool);
/** pool.terminate(): stop now. The supervisor kills the workers; whatever
 * has not finished fails with -ECANCELED. Returns once the supervisor and
 * the workers have ended. Any state (terminating again does nothing).
 * @return 0, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_pool_terminate(shmc_obj_t *pool);
/** pool.join(): wait until the supervisor and the workers have ended,
 * after close() or terminate(). The process that created the pool also
 * reaps the supervisor (waitpid).
 * @return 0, SHMC_ERUNNING (neither closed nor terminated: Python's
 *         ValueError "Pool is still running"), -ETIMEDOUT, -EDEADLK (called
 *         by one of the pool's own processes), -EINVAL (TIMEOUT),
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT */
SHMC_API int shmc_pool_join(shmc_obj_t *pool, double timeout);

/** result.get(TIMEOUT), for an AsyncResult: wait until it is ready, then
 * give the result (apply: the task's value; map and starmap: a plain list)
 * or the task's error. *OUT out.
 * @return 0, -ETIMEDOUT (not ready in time: Python's TimeoutError), the
 *         task's error (its return, SHMC_EWORKERDIED, -ECANCELED,
 *         SHMC_ENOFUNC, SHMC_EFULL storing its result, or its result's
 *         error), -EINVAL (TIMEOUT, or OUT NULL), -ENOMEM, SHMC_EHANDLE,
 *         SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL */
SHMC_API int shmc_async_result_get(shmc_obj_t *res, double timeout, shmc_value_t *out);
/** result.wait(TIMEOUT): wait until it is ready.
 * @return 0, -ETIMEDOUT, -EINVAL, SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT,
 *         SHMC_ETHREADS */
SHMC_API int shmc_async_result_wait(shmc_obj_t *res, double timeout);
/** result.ready(): 1 or 0, or SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int shmc_async_result_ready(shmc_obj_t *res);
/** result.successful(): 1 or 0 once ready, or SHMC_ENOTREADY (Python's
 * ValueError), SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT. */
SHMC_API int shmc_async_result_successful(shmc_obj_t *res);
/** next(it, TIMEOUT) (Python's it.next(timeout)), for an Iterator: the next
 * result, waiting for it. Each result is handed out once, also across
 * processes. A failed chunk hands out its error once; with a CHUNKSIZE of
 * 1 the iteration goes on after it, with a larger one it ends (as in
 * Python, where the chunks' generator stops). *OUT out: the result.
 * @return 1 (*OUT set), 0 (no results left: StopIteration), -ETIMEDOUT, the
 *         task's error (as shmc_async_result_get), -EINVAL, -ENOMEM,
 *         SHMC_EHANDLE, SHMC_EKIND, SHMC_ECORRUPT, SHMC_ETHREADS,
 *         SHMC_EFULL */
SHMC_API int shmc_iterator_next(shmc_obj_t *it, double timeout, shmc_value_t *out);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup cache A bounded cache dict
 * nginx's lua_shared_dict: a managed dict with a limit in entries and in
 * bytes, a time-to-live per entry and least-recently-used eviction. Keys
 * are any hashable values (as a dict's: SHMC_EUNHASHABLE otherwise), values
 * any values; get returns a private copy. Printed (shmc_obj_str) like a
 * dict of its live entries.
 *
 * Time: TTLs are int64 nanoseconds, 0 meaning "never expires" (negative is
 * -EINVAL); deadlines are kept in CLOCK_MONOTONIC, which every process of
 * the machine shares and setting the date does not move (a saved arena's
 * deadlines would mean nothing after a reboot: a save keeps the time left).
 * An expired entry is invisible at once (every read checks the clock); its
 * memory comes back when a write sweeps it (each write looks at a few
 * entries for expired ones, and removes the expired ones its eviction
 * meets), or at shmc_cache_flush_expired().
 *
 * Limits: an entry counts 32 bytes plus the arena blocks of its key and
 * value (an int, None or a bool without TTL needs none); the table is not
 * counted. A set that would go over a limit first evicts: approximate LRU
 * (CLOCK) -- an entry read or updated since the eviction hand last passed
 * it outlives those that were not, except that entries whose keys share a
 * reference bit (one of 32768, by hash) share their fate. The safe_
 * variants evict nothing unexpired and return SHMC_EFULL instead.
 *
 * Concurrency: gets and ttl are lock-free and never wait for a writer; a
 * get writes only its thread's hit or miss count (one of 16 cache lines, by
 * thread id) and, on a hit of an entry not marked used yet, its reference
 * bit. Writes take the cache's lock. A failed write changes nothing.
 *
 * Every function: C in (SHMC_EHANDLE for a null or invalid handle,
 * SHMC_EKIND for another kind, SHMC_ECORRUPT), KEY and VAL in (views
 * fine). Writes may also return SHMC_ETHREADS, SHMC_EFULL (the arena is
 * full), -ENOMEM and a value's encoding errors (SHMC_EDEPTH, -EILSEQ, ...).
 * @{ */
/** What shmc_cache_stats() reports. hits/misses: gets; evictions: live
 * entries removed to make room; expirations: expired entries reclaimed;
 * entries and bytes: what is stored (expired entries not yet reclaimed
 * included); max_entries, max_bytes: the limits (0: none). */
typedef struct shmc_cache_stats {
	uint64_t hits, misses, evictions, expirations;
	uint64_t entries, bytes, max_entries, max_bytes;
} shmc_cache_stats_t;
/** A new cache holding at most MAX_ENTRIES entries and MAX_BYTES bytes (0:
 * no limit for that one; not both). NAME (in, may be NULL): also name it in
 * the arena's directory, or, if NAME names a cache already, return that one
 * (with its own limits). ARENA in; *OUT out: shmc_obj_release().
 * @return 0, SHMC_EHANDLE (ARENA invalid or OUT NULL), -EINVAL (no limit,
 *         MAX_ENTRIES over 2^31, MAX_BYTES over INT64_MAX, or NAME as in
 *         Named objects), SHMC_EKIND (NAME names another kind), -EOVERFLOW,
 *         -EILSEQ, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_cache_new(shmc_arena_t *arena, const char *name, uint64_t max_entries,
			    uint64_t max_bytes, shmc_obj_t **out);
/** *OUT = a private copy of KEY's value (out: shmc_value_free()); *TTL_NS
 * (out, may be NULL) = its time left in ns, 0 if it never expires. Counts a
 * hit or a miss.
 * @return 0, SHMC_EKEY (missing or expired), -EINVAL (OUT NULL),
 *         SHMC_EUNHASHABLE, SHMC_ETHREADS, -ENOMEM, and the common errors */
SHMC_API int shmc_cache_get(shmc_obj_t *c, shmc_value_t key, shmc_value_t *out, int64_t *ttl_ns);
/** Store KEY -> VAL for TTL_NS ns (0: forever), evicting to fit.
 * @return 0, SHMC_EFULL (the entry alone is over the byte limit, or the
 *         arena is full), -EINVAL (TTL_NS < 0), -ERANGE (a TTL past the
 *         clock), SHMC_EUNHASHABLE, and the common errors */
SHMC_API int shmc_cache_set(shmc_obj_t *c, shmc_value_t key, shmc_value_t val, int64_t ttl_ns);
/** shmc_cache_set, but SHMC_EFULL instead of evicting an unexpired entry.
 * @return as shmc_cache_set */
SHMC_API int shmc_cache_safe_set(shmc_obj_t *c, shmc_value_t key, shmc_value_t val,
				 int64_t ttl_ns);
/** shmc_cache_set only if KEY is absent (or expired).
 * @return as shmc_cache_set, and -EEXIST (KEY is there: nothing changed) */
SHMC_API int shmc_cache_add(shmc_obj_t *c, shmc_value_t key, shmc_value_t val, int64_t ttl_ns);
/** shmc_cache_add, but SHMC_EFULL instead of evicting an unexpired entry.
 * @return as shmc_cache_add */
SHMC_API int shmc_cache_safe_add(shmc_obj_t *c, shmc_value_t key, shmc_value_t val,
				 int64_t ttl_ns);
/** shmc_cache_set only if KEY is there (and not expired).
 * @return as shmc_cache_set, and SHMC_EKEY (absent: nothing changed) */
SHMC_API int shmc_cache_replace(shmc_obj_t *c, shmc_value_t key, shmc_value_t val,
				int64_t ttl_ns);
/** Add DELTA to KEY's int value, keeping its TTL; when KEY is absent (or
 * expired) and INIT (in) is an int, store INIT + DELTA with INIT_TTL_NS
 * (0: forever), evicting to fit. *OUT (out, may be NULL) = the new value.
 * @return 0, SHMC_EKEY (absent and INIT is None), SHMC_ETYPE (the value, or
 *         INIT, is not an int), -ERANGE (the sum overflows int64, or a TTL
 *         past the clock), -EINVAL (INIT_TTL_NS < 0), SHMC_EUNHASHABLE, and
 *         the common errors */
SHMC_API int shmc_cache_incr(shmc_obj_t *c, shmc_value_t key, int64_t delta, shmc_value_t init,
			     int64_t init_ttl_ns, int64_t *out);
/** Remove KEY. @return 0, SHMC_EKEY (absent, or expired: then reclaimed),
 *         SHMC_EUNHASHABLE, and the common errors */
SHMC_API int shmc_cache_delete(shmc_obj_t *c, shmc_value_t key);
/** The number of live (unexpired) entries: O(n), one consistent reading.
 * @return the count, or SHMC_ETHREADS, -ENOMEM and the common errors */
SHMC_API int64_t shmc_cache_len(shmc_obj_t *c);
/** Remove every entry (not counted as evictions). @return 0, and the common
 *         errors */
SHMC_API int shmc_cache_flush_all(shmc_obj_t *c);
/** Reclaim every expired entry. @return how many, and the common errors */
SHMC_API int64_t shmc_cache_flush_expired(shmc_obj_t *c);
/** *TTL_NS (out) = KEY's time left in ns, 0 if it never expires.
 * @return 0, SHMC_EKEY (missing or expired), -EINVAL (TTL_NS NULL),
 *         SHMC_EUNHASHABLE, SHMC_ETHREADS, and the common errors */
SHMC_API int shmc_cache_ttl(shmc_obj_t *c, shmc_value_t key, int64_t *ttl_ns);
/** Give KEY a new TTL of TTL_NS ns from now (0: forever).
 * @return 0, SHMC_EKEY (missing or expired), -EINVAL (TTL_NS < 0), -ERANGE,
 *         SHMC_EUNHASHABLE, and the common errors */
SHMC_API int shmc_cache_expire(shmc_obj_t *c, shmc_value_t key, int64_t ttl_ns);
/** *OUT (out) = the cache's counters and limits (each read atomically; the
 * set of them is not one instant). @return 0, -EINVAL (OUT NULL), and the
 * common errors */
SHMC_API int shmc_cache_stats(shmc_obj_t *c, shmc_cache_stats_t *out);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup roots Named objects
 * An arena keeps a directory of named managed objects, so that processes
 * which share nothing but the arena's name find the objects that matter.
 * The directory holds a reference to each: a named object lives until its
 * name is removed (and nothing else refers to it). ARENA is in; NAME is in:
 * a NUL-terminated, non-empty UTF-8 string (NULL or empty is -EINVAL,
 * longer than SHMC_MAX_LEN -EOVERFLOW, not UTF-8 -EILSEQ when it would be
 * stored). *OUT, where there is one, is out (shmc_obj_release() for a
 * handle) and must not be NULL (SHMC_EHANDLE).
 * @{ */
/** The object named NAME, created as a new object of KIND if there is
 * none. Atomic: processes racing to create the same name get the same
 * object. New objects are made as Python's constructors without arguments
 * make them: an empty namespace, list or dict, an unlocked Lock or RLock, a
 * Semaphore of 1, a Condition with its own RLock, a clear Event, an
 * unbounded Queue. A Barrier, Value or Array needs parameters: create it,
 * then name it with shmc_root_setdefault() (an existing one is found).
 * @return 0, SHMC_EKIND (NAME names an object of another kind), -EINVAL
 *         (as for NAME, or no object is named so and KIND needs parameters
 *         or is none), -EOVERFLOW, -EILSEQ, SHMC_EHANDLE (ARENA invalid or
 *         OUT NULL), SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_root_find_or_create(shmc_arena_t *arena, const char *name, shmc_kind_t kind,
			   shmc_obj_t **out);
/** The object named NAME if there is one; else name OBJ so, atomically.
 * OBJ in (the directory takes a reference of its own); *out receives a new
 * handle to whichever object is named NAME afterwards (of any kind).
 * @return 0, SHMC_EARENA, SHMC_EHANDLE (ARENA or OBJ invalid, or OUT NULL),
 *         SHMC_ECORRUPT, -EINVAL, -EOVERFLOW, -EILSEQ, SHMC_ETHREADS,
 *         SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_root_setdefault(shmc_arena_t *arena, const char *name,
				  shmc_obj_t *obj, shmc_obj_t **out);
/** The object named NAME: *OUT a new handle to it.
 * @return 0, SHMC_EKEY, SHMC_EHANDLE, -EINVAL, -EOVERFLOW, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_root_find(shmc_arena_t *arena, const char *name, shmc_obj_t **out);
/** Remove the name NAME (the object lives on while referred to).
 * @return 0, SHMC_EKEY, SHMC_EHANDLE, -EINVAL, -EOVERFLOW, SHMC_ECORRUPT,
 *         SHMC_ETHREADS, SHMC_EFULL, -ENOMEM */
SHMC_API int shmc_root_remove(shmc_arena_t *arena, const char *name);
/** The names, sorted, as a plain list of str. *OUT out: shmc_value_free().
 * @return 0, SHMC_EHANDLE, SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL,
 *         -ENOMEM */
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
 * is also the address shown in proxy forms. A view handle (shmc_view_t *)
 * may be used by several threads at once, but not while it is closed.
 * @{ */
typedef struct shmc_view shmc_view_t;

/** Map the named arena NAME (or arena file) read-only, with the checks of
 * shmc_arena_open() but without waiting for a creator. NAME in; *OUT out:
 * close with shmc_view_close().
 * @return 0, -EINVAL (OUT NULL; NAME NULL, empty or longer than 4000
 *         bytes), -ENOMEM, -ENOENT, -ELOOP (a symlink), -EACCES,
 *         SHMC_ENOTREG, SHMC_EOWNER, SHMC_EMODE, SHMC_ENOTARENA,
 *         SHMC_EVERSION, SHMC_ELAYOUT, SHMC_EINIT (also while its creator
 *         is still at work), SHMC_ECORRUPT, and any other errno of open(2),
 *         fstat(2), pread(2) or mmap(2) */
SHMC_API int shmc_view_open(const char *name, shmc_view_t **out);
/** Unmap a view. VIEW taken (NULL or a closed view is ignored). */
SHMC_API void shmc_view_close(shmc_view_t *view);
/** The arena's format version and layout fingerprint. VIEW in; *VERSION and
 * *FINGERPRINT out (either may be NULL).
 * @return 0, SHMC_EHANDLE */
SHMC_API int shmc_view_format_version(shmc_view_t *view, unsigned *version,
				      uint64_t *fingerprint);
/** Memory use, as shmc_arena_stats() reports it. VIEW in; ST out.
 * @return 0, SHMC_EHANDLE (VIEW invalid or ST NULL) */
SHMC_API int shmc_view_stats(shmc_view_t *view, shmc_arena_stats_t *st);

/** A process slot in use. */
typedef struct shmc_proc_info {
	unsigned slot;
	uint32_t pid;         /**< in the pid namespace of the process */
	bool alive;           /**< false: dead, its leftovers not yet reaped */
	uint64_t handles;     /**< objects it holds */
	uint64_t attached_ns; /**< when it attached (CLOCK_REALTIME) */
} shmc_proc_info_t;
/** Call FN for each process slot in use; stops when FN returns non-zero
 * (which is then returned). VIEW and FN in; CTX passed to FN; P is valid
 * only during FN's call.
 * @return 0, FN's non-zero result, SHMC_EHANDLE (VIEW invalid or FN NULL) */
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
 * handles processes hold); stops when FN returns non-zero (which is then
 * returned). On a corrupt arena, the objects that can be reached are shown.
 * VIEW and FN in; CTX passed to FN; O and its name are valid only during
 * FN's call (typeid and proxy are static).
 * @return 0, FN's non-zero result, SHMC_EHANDLE (VIEW invalid or FN NULL),
 *         -ENOMEM */
SHMC_API int shmc_view_objects(shmc_view_t *view,
			       int (*fn)(void *ctx, const shmc_object_info_t *o),
			       void *ctx);

#define SHMC_VIEW_JSON 1u /**< shmc_view_dump: JSON instead of Python text */
/** The contents of the object reached by PATH, in Python's text form (or
 * JSON): PATH is a name, then '/'-separated steps through managed
 * containers -- a list index, a dict or cache key (an int of any size if it reads
 * as one: a sign, then decimal digits; else a str) or an attribute name. A NULL or empty PATH dumps every named object,
 * one "name: contents" line each (a JSON object). A cache shows as a dict
 * of its unexpired entries (an expired one is SHMC_EKEY). Managed objects inside
 * are shown as references with their identity, never followed, so cycles
 * print finitely. VIEW in; PATH in (may be NULL); *OUT out: shmc_free().
 * @return 0, SHMC_EKEY (no such name or key), SHMC_EINDEX, SHMC_ETYPE (a
 *         step into something that is not a managed container),
 *         SHMC_ECORRUPT, SHMC_EDEPTH, -EAGAIN (writers kept changing what
 *         was read), -ENOMEM, SHMC_EHANDLE (VIEW invalid or OUT NULL) */
SHMC_API int shmc_view_dump(shmc_view_t *view, const char *path, unsigned flags,
			    char **out);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup ident Identities across processes
 * What a process needs to name a managed object to another process that
 * shares nothing with it but the arena's name (the Python binding pickles
 * its proxies so): the arena's name, and the object's identity -- its
 * offset in the arena and its serial number, the same in every process --
 * with the way back from an identity to a handle. An identity is only a
 * name: it holds no reference. Keep the object alive (a handle, a
 * container, a named object) while its identity travels.
 * @{ */
/** An object's identity: its offset in the arena (the address proxy forms
 * show) and its serial number (never reused within an arena). */
typedef struct shmc_ident {
	uint64_t offset;
	uint64_t id;
} shmc_ident_t;

/** The identity of the object H names. H in; *OUT out.
 * @return 0, SHMC_EHANDLE, SHMC_ECORRUPT, SHMC_ETHREADS, -EINVAL (OUT
 *         NULL) */
SHMC_API int shmc_obj_ident(const shmc_obj_t *h, shmc_ident_t *out);
/** A new handle to the live object of identity IDENT in ARENA (in), as
 * another process of the same arena gave it. *OUT out: shmc_obj_release().
 * @return 0, SHMC_EKEY (no live object of that identity: freed, or never
 *         there), SHMC_EHANDLE (ARENA invalid), -EINVAL (OUT NULL),
 *         SHMC_EFULL (no room in this process's table of handles),
 *         -ENOMEM */
SHMC_API int shmc_obj_from_ident(shmc_arena_t *arena, shmc_ident_t ident,
				 shmc_obj_t **out);
/** The path of a named arena's file (for a name without '/', the file
 * under /dev/shm), as shmc_arena_open() takes it. ARENA in; *OUT out: a
 * string owned by ARENA, valid until it is closed.
 * @return 0, -ENOENT (an anonymous arena has no name), SHMC_EHANDLE
 *         (ARENA invalid), -EINVAL (OUT NULL) */
SHMC_API int shmc_arena_name(shmc_arena_t *arena, const char **out);
/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup save Snapshot and restore
 * A save file holds every named object of an arena and everything they
 * reach (managed objects nested in values, by reference: an object reached
 * twice is one object in the file, and again one after loading, so sharing
 * and cycles survive). The format (lib/lifecycle/savefmt.h) does not depend
 * on the arena's memory layout; it is checksummed (CRC-32C).
 *
 * What a save holds: each object is copied at one moment of its own, while
 * other processes go on using the arena (a list or dict by its snapshot, as
 * shmc_list_copy does; a queue under its lock; an Array element by element,
 * each atomically). Nothing holds ACROSS objects: two objects may be copied
 * before and after one change that touched both.
 *
 * What comes back: namespaces, lists, dicts, Values (both kinds), Arrays
 * and the items of Queues and JoinableQueues (a JoinableQueue with no task
 * taken and not done), with their names. Sync objects come back as their
 * constructors make them: a Lock or RLock released; a Semaphore or
 * BoundedSemaphore at the value it was created with; a Condition bound to
 * its (restored, released) lock, without waiters; an Event CLEAR, even if
 * it was set; a Barrier of the same parties, not broken, nobody waiting,
 * without its action (a function of a process). A bounded cache keeps its
 * limits, its live entries in their order and each entry's time left (a
 * deadline would mean nothing after a reboot); its statistics and
 * reference bits start afresh. A Pool, AsyncResult or Iterator cannot be
 * saved (SHMC_EKIND); with SHMC_SAVE_SKIP_UNSAVABLE a named one is left
 * out.
 * @{ */
#define SHMC_SAVE_SKIP_UNSAVABLE 1u /**< leave out named Pools, results, iterators */

/** Write a copy of ARENA's named objects, and of all they reach, to the
 * file PATH: written to a temporary file in PATH's directory, synced,
 * renamed over PATH, and the directory synced, so that a crash leaves the
 * old file or the new one, never half of one (and a temporary file that a
 * dead saver left is removed by the next save to PATH). The file gets mode
 * 0600. Names removed during the save are left out. ARENA in; PATH in;
 * FLAGS 0 or SHMC_SAVE_SKIP_UNSAVABLE.
 * @return 0, SHMC_EHANDLE (ARENA invalid), -EINVAL (PATH NULL, empty,
 *         ending in '/' or longer than 4000 bytes; unknown FLAGS),
 *         SHMC_EKIND (a Pool, AsyncResult or Iterator reached),
 *         SHMC_ECORRUPT, SHMC_ETHREADS, SHMC_EFULL (no room for handles),
 *         -ENOMEM, and any errno of open(2), write(2), fsync(2), linkat(2)
 *         or rename(2) (-ENOENT: no such directory; -EACCES; -ENOSPC...) */
SHMC_API int shmc_arena_save(shmc_arena_t *arena, const char *path, unsigned flags);

/** Create a NEW arena from the save file PATH, as shmc_arena_create() would
 * (NAME named, exclusively; NULL: an anonymous one, as
 * shmc_arena_create_anon()), and re-create every object, under its name.
 * The whole file is read and checked before anything is created; a load
 * that fails removes the arena it was making. PATH in; NAME in (may be
 * NULL); OPTS in (may be NULL: defaults); *OUT out: shmc_arena_close().
 * @return 0, SHMC_ENOTARENA (not a save file), SHMC_EVERSION (another
 *         format version), SHMC_ELAYOUT (another layout), SHMC_ECHECKSUM
 *         (truncated, or a checksum or the contents wrong), -EEXIST (NAME
 *         exists), -EINVAL (PATH NULL or empty, OUT NULL, OPTS out of
 *         range; NAME empty or too long), -EFBIG (a file over 2^40 bytes),
 *         SHMC_EFULL (the arena is too small for the contents), -ENOMEM,
 *         SHMC_ETHREADS, and the errors of open(2), read(2) and
 *         shmc_arena_create() */
SHMC_API int shmc_arena_load(const char *path, const char *name,
			     const shmc_arena_options_t *opts, shmc_arena_t **out);
/** @} */

#ifdef __cplusplus
}
#endif
#endif /* SHMC_H */
