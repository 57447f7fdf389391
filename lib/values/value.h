/*
 * value.h -- private (process-local) values: layout of the opaque parts and
 * the helpers other modules share.
 */
#ifndef SHMC_VALUE_H
#define SHMC_VALUE_H

#include <stdbool.h>
#include <stdint.h>

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

static inline shmc_value_t shmc__error_value(int err)
{
	shmc_value_t v = {SHMC_ERROR, 0, 0, 0, {.i = err}};
	return v;
}

/* Python's hash, consistent with shmc_value_eq (veq.c): equal values hash
 * equal.
 * @return 0, SHMC_EUNHASHABLE, SHMC_EDEPTH */
int shmc__value_hash(shmc_value_t v, uint64_t *out);

/* Hash building blocks, shared with the arena encoding. */
uint64_t shmc__hash_int(int64_t i);
uint64_t shmc__hash_float(double f);
uint64_t shmc__hash_bytes(const void *p, size_t n, uint64_t seed);
uint64_t shmc__hash_combine(uint64_t h, uint64_t item);
#define SHMC__SEED_STR 0x243f6a8885a308d3ull
#define SHMC__SEED_BYTES 0x13198a2e03707344ull
#define SHMC__SEED_TUPLE 0xa4093822299f31d0ull
#define SHMC__HASH_NONE 0x082efa98ec4e6c89ull

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

/* An owned copy of N bytes as a str or bytes value. */
int shmc__str_copy(shmc_type_t type, const char *p, size_t n, shmc_value_t *out);

#endif
