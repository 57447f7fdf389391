/*
 * pages.h -- the page pool: free runs of pages that any size class or large
 * block is carved from, and the pages given back to the system (pages.c).
 */
#ifndef SHMC_PAGES_H
#define SHMC_PAGES_H

#include "arena/arena.h"

/* NPAGES pages from the pool, marked in the pagemap for class CLS; *off
 * receives the first. @return 0, SHMC_EFULL (no run fits, or their memory
 * cannot be reserved again) */
int shmc__pool_take(shmc_arena_t *a, uint64_t npages, unsigned cls, uint64_t *off);

/* Return N runs of NPAGES pages each, at OFFS, to the pool; then give pages
 * back to the system if the pool holds more than its threshold (see
 * pages.c: which pages, and when). The runs
 * must hold no live block. @return false when the pool could not be locked
 * (this process is not attached yet): nothing was done */
bool shmc__pool_put(shmc_arena_t *a, const uint64_t *offs, size_t n, uint64_t npages);

/* Give pages back to the system if the pool holds more than its threshold:
 * those of runs free for a while, or any when FORCE (see pages.c). */
void shmc__pool_trim(shmc_arena_t *a, bool force);

/* Called now and then by frees (every SHMC__POOL_TICK operations on a
 * class's list): trim if the pool may hold runs old enough. Cheap when not.
 * @return true when the caller should empty the large classes' caches into
 * the pool (once a second, for one caller) */
#define SHMC__POOL_TICK 65536u
bool shmc__pool_tick(shmc_arena_t *a);

/* Rebuild the pool's index from the pagemap (the arena check's sweep). */
void shmc__pool_repair(shmc_arena_t *a);

/* Failure injection for tests: the (N+1)-th reservation of punched pages
 * from now fails, once (as when memory is short). Negative: off. */
void shmc__pool_fail_reserve_after(long n);

/* Mark NPAGES pages at OFF as a run of class CLS, its first page last. */
void shmc__pages_mark(shmc_arena_t *a, uint64_t off, uint64_t npages, unsigned cls);

/* Reading the pool without its lock (the arena check; views), every word
 * untrusted. -------------------------------------------------------------- */

/* The free run starting at OFF below BRK: its pages, and in *npunched how
 * many of them were given back; 0 when OFF starts no sound run. */
uint64_t shmc__pool_run(const shmc_arena_t *a, uint64_t off, uint64_t brk,
			uint64_t *npunched);

/* The pool's lock: 0 free, 1 held by a live process, -1 held by a dead one
 * (the next pool operation rebuilds the pool). */
int shmc__pool_lock_state(shmc_arena_t *a);

/* Visit every run of every bin: RUN(ctx, off, npages, bin) for each, ERROR
 * for a malformed list; at most MAX_RUNS runs in all. @return 0, or -1 when
 * a list is malformed */
struct shmc__pool_visitor {
	bool (*run)(void *ctx, uint64_t off, uint64_t npages, unsigned bin);
	void (*error)(void *ctx, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
};
int shmc__pool_visit(const shmc_arena_t *a, uint64_t brk, uint64_t max_runs,
		     const struct shmc__pool_visitor *v, void *ctx);
unsigned shmc__pool_bin_of(uint64_t npages);

#endif
