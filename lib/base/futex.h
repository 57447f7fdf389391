/*
 * futex.h -- sleeping on a 32-bit word of shared memory.
 *
 * Shared (not private) futexes: the word may be mapped at different
 * addresses in different processes; the kernel keys it by page and offset.
 */
#ifndef SHMC_FUTEX_H
#define SHMC_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/atomics.h"

/* Sleep while *w == val, at most TIMEOUT_NS (negative: no limit).
 * @return 0 (woken, or the word had changed), -ETIMEDOUT, -EINTR */
static inline int shmc__futex_wait(atomic_u32 *w, uint32_t val, int64_t timeout_ns)
{
	struct timespec ts, *tp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tp = &ts;
	}
	long rc = syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, tp, NULL, 0);
	if (rc == 0 || errno == EAGAIN)
		return 0;
	return -errno;
}

/* Wake up to N sleepers on W. */
static inline void shmc__futex_wake(atomic_u32 *w, int n)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* Monotonic time in nanoseconds. */
static inline int64_t shmc__now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

#endif
