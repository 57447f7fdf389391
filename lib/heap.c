/*
 * heap.c -- the private heap, a jemalloc arena created on first use.
 */
#include <jemalloc/jemalloc.h>
#include <pthread.h>

#include "heap.h"
#include "util.h"

static unsigned heap_arena;
static int heap_flags;
static pthread_once_t heap_once = PTHREAD_ONCE_INIT;

static void heap_init(void)
{
	size_t sz = sizeof(heap_arena);
	/* Without an arena of our own we still work, from the default ones. */
	if (mallctl("arenas.create", &heap_arena, &sz, NULL, 0) == 0)
		heap_flags = MALLOCX_ARENA(heap_arena);
}

void *shmc__heap_alloc(size_t size)
{
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

void shmc_free(void *p)
{
	shmc__heap_free(p);
}
