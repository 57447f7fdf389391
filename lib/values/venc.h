/*
 * venc.h -- how a value is held in one 64-bit word of shared memory.
 *
 * Every slot of a managed container (a list item, a dict key or value, a
 * namespace attribute) is one word, so that storing a value is one atomic
 * store. Low three bits:
 *
 *   ...000  offset of an immutable value block (never 0: 0 is "empty")
 *   ...001  a small int, in the upper 61 bits
 *   ...010  None (2), False (10), True (18); 26 marks a deleted dict key
 *   ...011  offset of a managed object, | 3: a reference to it
 *
 * A value block holds a plain value serialised (see venc.c). Blocks are
 * never changed once published; replacing a value publishes a new word and
 * retires the old block.
 */
#ifndef SHMC_VENC_H
#define SHMC_VENC_H

#include "arena/arena.h"
#include "memory/epoch.h"
#include "shmc.h"

#define SHMC__W_EMPTY 0ull
#define SHMC__W_NONE 2ull
#define SHMC__W_FALSE 10ull
#define SHMC__W_TRUE 18ull
#define SHMC__W_DELETED 26ull
#define SHMC__W_INT_MIN (-((int64_t)1 << 60))
#define SHMC__W_INT_MAX (((int64_t)1 << 60) - 1)

static inline bool shmc__w_is_int(uint64_t w) { return (w & 7) == 1; }
static inline bool shmc__w_is_ref(uint64_t w) { return (w & 7) == 3; }
static inline bool shmc__w_is_block(uint64_t w) { return w != 0 && (w & 15) == 0; }
static inline int64_t shmc__w_int(uint64_t w) { return (int64_t)w >> 3; }
static inline uint64_t shmc__w_from_int(int64_t i) { return ((uint64_t)i << 3) | 1; }
static inline uint64_t shmc__w_ref_off(uint64_t w) { return w & ~(uint64_t)15; }

/* The word for a value that needs no block, or 0 when V needs one. */
static inline uint64_t shmc__word_immediate(shmc_value_t v)
{
	switch (v.type) {
	case SHMC_NONE:
		return SHMC__W_NONE;
	case SHMC_BOOL:
		return v.b ? SHMC__W_TRUE : SHMC__W_FALSE;
	case SHMC_INT:
		if (v.i >= SHMC__W_INT_MIN && v.i <= SHMC__W_INT_MAX)
			return shmc__w_from_int(v.i);
		return 0;
	default:
		return 0;
	}
}

/* Encode V into a word, allocating a value block if needed and taking a
 * reference to every managed object V holds. Nothing is changed on failure.
 * @return 0, SHMC_EFULL, SHMC_EARENA, SHMC_EHANDLE, SHMC_EDEPTH, -EILSEQ,
 *         -EINVAL, or the error of an SHMC_ERROR value */
int shmc__word_store_slow(shmc_arena_t *a, shmc_value_t v, uint64_t *w);
static inline int shmc__word_store(shmc_arena_t *a, shmc_value_t v, uint64_t *w)
{
	uint64_t imm = shmc__word_immediate(v);
	if (likely(imm)) {
		*w = imm;
		return 0;
	}
	return shmc__word_store_slow(a, v, w);
}

/* Decode word W into a private value. Inside an epoch section (or with the
 * object locked). @return 0, -ENOMEM, SHMC_ECORRUPT */
int shmc__word_load(shmc_arena_t *a, uint64_t w, shmc_value_t *out);

/* The same for a read-only view: managed objects come out as stubs, which
 * name an object without holding it (and write nothing to the arena). */
int shmc__word_load_view(shmc_arena_t *a, uint64_t w, shmc_value_t *out);

/* The bytes of arena block that decoding W reads: the size of its value
 * block, 0 for a word that needs none (or names no valid block). */
uint64_t shmc__word_block_bytes(const shmc_arena_t *a, uint64_t w);

/* Python's == between the value in word W and V (inside a section). */
bool shmc__word_eq(shmc_arena_t *a, uint64_t w, shmc_value_t v);

/* A value block's header (the stream format is venc.c's). */
#define SHMC__VBLOCK_MAGIC 0x4c4156u /* "VAL" */
#define SHMC__T_STR 6
struct shmc__vblock {
	uint32_t magic;
	uint32_t nrefs;
	uint64_t len;
	unsigned char data[];
};

/* Whether word W holds exactly the str [P, P+N): the usual dict and
 * namespace key, compared where it lies. */
static inline bool shmc__word_is_str(shmc_arena_t *a, uint64_t w, const char *p, size_t n)
{
	if (!shmc__w_is_block(w))
		return false;
	const struct shmc__vblock *b = shmc__at(a, w, sizeof(*b) + 9 + n, 16);
	if (b == NULL || b->magic != SHMC__VBLOCK_MAGIC || b->len != 9 + n ||
	    b->data[0] != SHMC__T_STR)
		return false;
	const unsigned char *s = b->data + 9;
	for (size_t i = 0; i < n; i++) /* keys are short: no call */
		if (s[i] != (unsigned char)p[i])
			return false;
	return true;
}

/* Release what W holds, now: nobody else can reach it. */
void shmc__word_drop(shmc_arena_t *a, uint64_t w);

/* Release what W holds once no reader can see it; needs one reserved limbo
 * slot when shmc__word_needs_retire(W). */
static inline bool shmc__word_needs_retire(uint64_t w)
{
	return shmc__w_is_block(w) || shmc__w_is_ref(w);
}
static inline void shmc__word_retire(shmc_arena_t *a, struct shmc__rec *r, uint64_t w)
{
	if (shmc__w_is_block(w))
		shmc__epoch_retire(a, r, w | SHMC__RETIRE_VALUE);
	else if (shmc__w_is_ref(w))
		shmc__epoch_retire(a, r, shmc__w_ref_off(w) | SHMC__RETIRE_DECREF);
}

/* Drop the references inside value block OFF and free it. */
void shmc__vblock_drop(shmc_arena_t *a, uint64_t off);

/* Whether V can be a dict key, and its hash. */
int shmc__key_hash(shmc_value_t v, uint64_t *h);

#endif
