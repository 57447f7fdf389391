/*
 * heap.c -- the private heap, a jemalloc arena created on first use.
 *
 * Under AddressSanitizer or ThreadSanitizer the private heap is the C
 * library's malloc, which the sanitizer intercepts: memory served by
 * jemalloc's mallocx() is invisible to ASan (no redzones, no use-after-free
 * detection), and jemalloc's internal synchronisation is invisible to TSan,
 * which would then report every reuse of a block by another thread as a race.
 * A build with JEMALLOC=0 (SHMC_NO_JEMALLOC) does the same, so that
 * programs can run under valgrind, which follows malloc but not jemalloc.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/heap.h"
#include "base/util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SHMC_HEAP_LIBC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
	defined(SHMC_NO_JEMALLOC)
#define SHMC_HEAP_LIBC 1
#endif

#ifdef SHMC_HEAP_LIBC

void *shmc__heap_alloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *shmc__heap_realloc(void *p, size_t size)
{
	return realloc(p, size ? size : 1);
}

void shmc__heap_free(void *p)
{
	free(p);
}

#else
#include <jemalloc/jemalloc.h>

static unsigned heap_arena;
static int heap_flags;
static pthread_once_t heap_once = PTHREAD_ONCE_INIT;

static atomic_bool heap_done;

static void heap_init(void)
{
	size_t sz = sizeof(heap_arena);
	/* Without an arena of our own we still work, from the default ones. */
	if (mallctl("arenas.create", &heap_arena, &sz, NULL, 0) == 0)
		heap_flags = MALLOCX_ARENA(heap_arena);
	atomic_store_explicit(&heap_done, true, memory_order_release);
}

void *shmc__heap_alloc(size_t size)
{
	/* A load where pthread_once() was a call (every value read out). */
	if (unlikely(!atomic_load_explicit(&heap_done, memory_order_acquire)))
		pthread_once(&heap_once, heap_init);
	return mallocx(size ? size : 1, heap_flags);
}

void *shmc__heap_realloc(void *p, size_t size)
{
	if (p == NULL)
		return shmc__heap_alloc(size);
	return rallocx(p, size ? size : 1, heap_flags);
}

void shmc__heap_free(void *p)
{
	if (p)
		dallocx(p, 0);
}
#endif

void shmc_free(void *p)
{
	shmc__heap_free(p);
}
