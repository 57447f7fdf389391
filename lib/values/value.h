/*
 * value.h -- private (process-local) values: layout of the opaque parts and
 * the helpers other modules share.
 */
#ifndef SHMC_VALUE_H
#define SHMC_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/util.h"
#include "shmc.h"

/* A plain value nests at most SHMC__MAX_DEPTH containers (tuples, lists,
 * dicts) one inside the other: [[1]] nests 2. Every reader and writer of
 * values applies the same test to each container it meets, DEPTH being the
 * number of containers around it, so that what may be stored may also be
 * copied, compared, printed, checked and viewed, and nothing more. */
#define SHMC__MAX_DEPTH 512
static inline bool shmc__too_deep(int depth)
{
	return depth >= SHMC__MAX_DEPTH;
}

/* A tuple or plain list. */
struct shmc_seq {
	size_t len, cap;
	shmc_value_t items[];
};

/* A plain dict: entries in insertion order; an open-addressing index over
 * them once there are more than a few. */
struct shmc_pmap_entry {
	uint64_t hash;
	shmc_value_t key, val;
};
struct shmc_pmap {
	size_t len, cap;
	struct shmc_pmap_entry *e;
	uint32_t *index; /* entry + 1, or 0 when empty; NULL while small */
	size_t nindex;   /* a power of two */
};

/* An int outside int64 (canonical: one inside is always an SHMC_INT):
 * its magnitude in N 64-bit limbs, least significant first, the last
 * non-zero, and its sign. */
struct shmc_bigint {
	uint32_t n;
	bool neg;
	uint64_t limb[];
};

struct shmc_complex {
	double re, im;
};

/* A set or frozenset: CPython's table (setobject.c), slot for slot, so
 * that iteration follows CPython's order (pset.c). */
enum { SHMC__PSET_UNUSED, SHMC__PSET_DUMMY, SHMC__PSET_ACTIVE };
struct shmc_pset_entry {
	int64_t hash; /* Python's hash of key; -1 on a dummy */
	uint8_t state;
	shmc_value_t key;
};
struct shmc_pset {
	size_t fill; /* active and dummy slots */
	size_t used; /* active slots */
	size_t mask; /* slots - 1 */
	struct shmc_pset_entry *table;
	int depth;   /* nesting: 1 + the deepest member's (never lowered) */
};

/* An opaque value: LEN bytes, then the repr (RLEN bytes and a NUL). */
struct shmc_opaque {
	uint32_t len, rlen;
	char data[];
};
static inline const char *shmc__opaque_repr(const struct shmc_opaque *o)
{
	return o->data + o->len;
}
/* An owned opaque value of LEN bytes at DATA and the repr [REPR, +RLEN),
 * not checked (boxed.c). @return 0, -EOVERFLOW, -ENOMEM */
int shmc__opaque_new(const void *data, size_t len, const char *repr, size_t rlen,
		     shmc_value_t *out);

static inline shmc_value_t shmc__error_value(int err)
{
	shmc_value_t v = {SHMC_ERROR, 0, 0, 0, {.i = err}};
	return v;
}

/* Hashing (hash.c). Two functions, both consistent with shmc_value_eq
 * (veq.c): equal values hash equal.
 *
 * shmc__py_hash is Python's hash(): for numbers, tuples and frozensets
 * CPython's exact value (its set order depends on it); for str, bytes,
 * None and opaque values a fixed function of shmc's own (CPython's is
 * seeded per process, or an address).
 *
 * shmc__value_hash is what tables of the arena and plain dicts store and
 * probe: a str's is shmc__hash_bytes(SHMC__SEED_STR), as namespace names
 * are hashed; an int's (and an equal float's, bool's or complex's) the
 * int mixed (shmc__hash_int); any other value's is Python's hash, mixed
 * (a bijection), so that linear probing on its low bits spreads numbers.
 * @return 0, SHMC_EUNHASHABLE, SHMC_EDEPTH, V's error */
int shmc__value_hash(shmc_value_t v, uint64_t *out);
int shmc__py_hash(shmc_value_t v, int depth, int64_t *out);

/* Hash building blocks, shared with the dict tables. */
uint64_t shmc__hash_bytes(const void *p, size_t n, uint64_t seed);

#define SHMC__P61 (((uint64_t)1 << 61) - 1) /* Python's _PyHASH_MODULUS */

/* Python's hash() of an int: itself, below P61 in magnitude (but -1 is
 * -2); the residue beyond (shmc__py_hash_int_far). */
int64_t shmc__py_hash_int_far(int64_t i);
static inline int64_t shmc__py_hash_int(int64_t i)
{
	if (__builtin_expect((uint64_t)i + (SHMC__P61 - 1) > 2 * (SHMC__P61 - 1), 0))
		return shmc__py_hash_int_far(i); /* |i| >= P61 */
	return i == -1 ? -2 : i;
}

/* A bijection of 64-bit words: one multiply, then the well-mixed high half
 * folded into the low bits that index a table. */
static inline uint64_t shmc__hash_mix(uint64_t x)
{
	uint64_t h = (x ^ 0x5bd1e9955bd1e995ull) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29) ^ (h >> 47);
}

/* shmc__value_hash of the int I (and of the float, bool or complex equal
 * to it), inline for the dict tables' int keys. */
static inline uint64_t shmc__hash_int(int64_t i)
{
	return shmc__hash_mix((uint64_t)i);
}
#define SHMC__SEED_STR 0x243f6a8885a308d3ull
#define SHMC__SEED_BYTES 0x13198a2e03707344ull
#define SHMC__SEED_OPAQUE 0xa4093822299f31d0ull
#define SHMC__HASH_NONE 0x082efa98ec4e6c89ll

/* Python's ==, with the nesting DEPTH of A and B (veq.c). */
bool shmc__value_eq_depth(shmc_value_t a, shmc_value_t b, int depth);

/* Whether [p, p+n) is valid UTF-8. */
bool shmc__utf8_valid(const char *p, size_t n);

/* Take V over: an owned value is moved, a view is copied.
 * @return 0, -ENOMEM, or V's error for an SHMC_ERROR value */
int shmc__value_take(shmc_value_t v, shmc_value_t *out);

/* New empty containers (owned). */
int shmc__seq_new(shmc_type_t type, size_t cap, shmc_value_t *out);
int shmc__pmap_new(shmc_value_t *out);
/* Append without checks; the sequence must have room (see seq_new). */
void shmc__seq_push(shmc_value_t *seq, shmc_value_t item);
/* Make DST the int or float (TYPE) whose 8 bytes are BITS, written where
 * it goes in whole words: a value built in a local and copied costs a stalled
 * load per item (its head is written a byte at a time, then read back as
 * one word), which was most of decoding a list of numbers. */
_Static_assert(offsetof(shmc_value_t, i) == 8 && sizeof(shmc_value_t) == 16 &&
		       __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "a value's head is its first word, type in the low byte");
static inline void shmc__value_set_number(shmc_value_t *dst, shmc_type_t type, uint64_t bits)
{
	uint64_t head = (uint64_t)type; /* type, owned 0, reserved 0, len 0 */
	memcpy(dst, &head, 8);
	memcpy((char *)dst + 8, &bits, 8);
}

/* An owned copy of N bytes as a str, bytes or bytearray value. */
int shmc__str_copy(shmc_type_t type, const char *p, size_t n, shmc_value_t *out);

/* Big ints (bigint.c). Numbers with N limbs at L (least significant
 * first; any alignment) and a sign, as the arena stores them too. */
/* The canonical int of magnitude L[0..N) and sign NEG: an SHMC_INT when it
 * fits, else an owned SHMC_BIGINT. @return 0, -ENOMEM */
int shmc__bigint_make(const void *l, size_t n, bool neg, shmc_value_t *out);
/* Whether the magnitude L[0..N) with sign NEG is canonical for a big int:
 * N > 0, its last limb non-zero, and outside int64. */
bool shmc__bigint_canonical(const void *l, size_t n, bool neg);
/* Python's hash() of a big int. */
int64_t shmc__bigint_hash(const void *l, size_t n, bool neg);
/* Whether the big int equals the double F exactly. */
bool shmc__bigint_eq_double(const void *l, size_t n, bool neg, double f);
/* The big int against the double F, exactly as Python orders them: -1
 * (less), 0, 1, or 2 when F is NaN (unordered). */
int shmc__bigint_cmp_double(const void *l, size_t n, bool neg, double f);
/* Two integers (bool, int, big int) A and B: -1, 0, 1; 2 when either is
 * not an integer. */
int shmc__int_cmp(shmc_value_t a, shmc_value_t b);
/* The big int as the nearest double (ties to even), or -ERANGE when it
 * is too large (Python's OverflowError). */
int shmc__bigint_to_double(const void *l, size_t n, bool neg, double *out);
/* A + B for integers (bool, int, big int), exact. @return 0, -ENOMEM */
int shmc__int_add(shmc_value_t a, shmc_value_t b, shmc_value_t *out);
/* The decimal digits of the big int B, appended to SB. */
struct shmc__sbuf;
void shmc__bigint_repr(struct shmc__sbuf *sb, const struct shmc_bigint *b);

/* Sets (pset.c). */
/* A new empty set or frozenset (TYPE). @return 0, -ENOMEM */
int shmc__pset_new(shmc_type_t type, shmc_value_t *out);
/* Add KEY (owned, of Python hash HASH) to S, nested DEPTH deep: on 1 (added)
 * S owns KEY; on 0 (an equal member is there) and on failure the caller
 * still does. @return 1, 0, -ENOMEM */
int shmc__pset_add(struct shmc_pset *s, shmc_value_t key, int64_t hash, int depth);
/* The member of S equal to KEY (of hash HASH), or NULL. */
const shmc_value_t *shmc__pset_find(const struct shmc_pset *s, shmc_value_t key,
				    int64_t hash, int depth);
/* Python's hash() of a frozenset with S's members. */
int64_t shmc__pset_hash(const struct shmc_pset *s);
/* Free S's members and table, and S. */
void shmc__pset_free(struct shmc_pset *s);
/* A deep copy of S, slot for slot, as a TYPE. @return 0, -ENOMEM, a
 * member's copy error */
int shmc__pset_clone(const struct shmc_pset *s, shmc_type_t type, shmc_value_t *out);

#endif
