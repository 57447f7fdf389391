/*
 * atomics.h -- the atomic operations that shared memory may use.
 *
 * Every atomic object in the arena is touched by several processes, so it
 * must be lock-free and address-free: a lock-based fallback (libatomic's)
 * keeps its locks in process-private memory and silently stops being atomic
 * across processes. The static assertions below refuse to build otherwise.
 *
 * C11 offers no guaranteed lock-free 16-byte compare-and-swap (gcc routes
 * _Atomic __int128 through libatomic), so the one double-width primitive the
 * allocator's free lists need comes from libatomic_ops, which emits
 * cmpxchg16b inline; its lock-based emulation is refused.
 */
#ifndef SHMC_ATOMICS_H
#define SHMC_ATOMICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMC_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SHMC_TSAN 1
#endif
#ifdef SHMC_TSAN
/* libatomic_ops hides cmpxchg16b from TSan builds; the instruction is there. */
#define AO_CMPXCHG16B_AVAILABLE 1
#endif
#include <atomic_ops.h>

/*
 * ThreadSanitizer annotations, for the synchronisation it cannot see: the
 * 16-byte CAS is inline assembly, so TSan sees neither its load nor its
 * store, and would take every block handed from one thread to another
 * through a free list for a data race. SHMC_TSAN_RELEASE(p) before
 * publishing, SHMC_TSAN_ACQUIRE(p) after taking over, on the same address,
 * tell it what the CAS orders. Each use says what it pairs with. Nothing
 * in a non-TSan build.
 */
#ifdef SHMC_TSAN
#include <sanitizer/tsan_interface.h>
#define SHMC_TSAN_RELEASE(p) __tsan_release((void *)(p))
#define SHMC_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
/* A function whose plain memory accesses TSan does not watch; only for
 * the documented benign races (see alloc.c). */
#define SHMC_TSAN_IGNORE __attribute__((no_sanitize("thread")))
#else
#define SHMC_TSAN_RELEASE(p) ((void)(p))
#define SHMC_TSAN_ACQUIRE(p) ((void)(p))
#define SHMC_TSAN_IGNORE
#endif

_Static_assert(__atomic_always_lock_free(sizeof(uint32_t), 0),
	       "32-bit atomics must be lock-free");
_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
	       "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
	       "C11 atomics must be always lock-free");

#if !defined(AO_HAVE_compare_double_and_swap_double_full) ||                   \
	defined(AO_WEAK_DOUBLE_CAS_EMULATION)
#error "a lock-free double-width CAS is required (build with -mcx16)"
#endif
_Static_assert(sizeof(AO_double_t) == 16, "AO_double_t must be 16 bytes");

typedef _Atomic uint64_t atomic_u64;
typedef _Atomic uint32_t atomic_u32;

/* Shorthands; the memory order is always spelled out at the call site. */
#define ld_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define ld_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define st_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define st_release(p, v) atomic_store_explicit((p), (v), memory_order_release)

/* 16-byte compare-and-swap of {lo, hi}; full barrier. */
static inline bool shmc__cas2(AO_double_t *p, uint64_t old_lo, uint64_t old_hi,
			      uint64_t new_lo, uint64_t new_hi)
{
	return AO_compare_double_and_swap_double_full(p, old_lo, old_hi,
						      new_lo, new_hi) != 0;
}

static inline void shmc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#endif
