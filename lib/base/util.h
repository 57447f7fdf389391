/*
 * util.h -- small helpers every module uses: the internal assert, branch
 * hints, alignment, and the export/internal naming conventions.
 */
#ifndef SHMC_UTIL_H
#define SHMC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "shmc.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uint64_t)(a)-1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CACHE_LINE 64

/* Internal, non-static functions are named shmc__<module>_<verb>; they are
 * hidden from the shared library by -fvisibility=hidden. */

/* Report a broken internal invariant and abort. Uses write(2), not stdio, so
 * it is safe in a signal handler, in a fork child and with a corrupt heap. */
_Noreturn void shmc__assert_fail(const char *expr, const char *file, int line);

#define SHMC_ASSERT(e)                                                         \
	do {                                                                   \
		if (unlikely(!(e)))                                            \
			shmc__assert_fail(#e, __FILE__, __LINE__);             \
	} while (0)

#ifdef SHMC_DEBUG
#define SHMC_DASSERT(e) SHMC_ASSERT(e)
#else
#define SHMC_DASSERT(e) ((void)0)
#endif

#endif
