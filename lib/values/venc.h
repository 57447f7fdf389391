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
 *
 * The modules behind this header: venc.c encodes a value into a word and
 * releases what a word holds, vdec.c decodes a word back into a private
 * value, veq.c implements Python's == (between private values, and between
 * a word and a private value, without decoding).
 */
#ifndef SHMC_VENC_H
#define SHMC_VENC_H

#include <string.h>

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

/* Whether V could be stored in A, without storing it: the checks of
 * shmc__word_store, no allocation. @return 0 or what storing would return
 * (but SHMC_EFULL) */
int shmc__word_check(shmc_arena_t *a, shmc_value_t v);

/* Decode word W into a private value. Inside an epoch section (or with the
 * object locked). @return 0, -ENOMEM, SHMC_ECORRUPT */
int shmc__word_load(shmc_arena_t *a, uint64_t w, shmc_value_t *out);

/* The same for a read-only view: managed objects come out as stubs, which
 * name an object without holding it (and write nothing to the arena). */
int shmc__word_load_view(shmc_arena_t *a, uint64_t w, shmc_value_t *out);

/* The bytes of arena block that decoding W reads: the size of its value
 * block, 0 for a word that needs none (or names no valid block). */
uint64_t shmc__word_block_bytes(const shmc_arena_t *a, uint64_t w);

/* Python's == between the value in word W and V (inside a section), read
 * where it lies: no allocation unless it holds a dict (veq.c). */
bool shmc__word_eq(shmc_arena_t *a, uint64_t w, shmc_value_t v);

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

/* The stream format -------------------------------------------------------
 *
 * Described at the top of venc.c; shared by the modules that read and write
 * it: venc.c encodes and releases, vdec.c decodes, veq.c compares (and the
 * fast path below). */

/* A value block's header. */
#define SHMC__VBLOCK_MAGIC 0x4c4156u /* "VAL" */
struct shmc__vblock {
	uint32_t magic;
	uint32_t nrefs;
	uint64_t len;
	unsigned char data[];
};

/* The type byte that starts each item of the stream. */
enum shmc__vtag {
	SHMC__T_NONE = 1, SHMC__T_FALSE, SHMC__T_TRUE, SHMC__T_INT, SHMC__T_FLOAT,
	SHMC__T_STR, SHMC__T_BYTES, SHMC__T_TUPLE, SHMC__T_LIST, SHMC__T_DICT,
	SHMC__T_REF, SHMC__T_BIGINT, SHMC__T_COMPLEX, SHMC__T_BYTEARRAY,
	SHMC__T_SET, SHMC__T_FROZENSET, SHMC__T_OPAQUE
};

/* A reader's place in a stream: [p, end) is what is left of the block. */
struct shmc__vcursor {
	const unsigned char *p, *end;
};

/* Read 8 bytes at C, or false when fewer are left. */
static inline bool shmc__vcursor_u64(struct shmc__vcursor *c, uint64_t *x)
{
	if (c->end - c->p < 8)
		return false;
	memcpy(x, c->p, 8);
	c->p += 8;
	return true;
}

/* A text's length (str, bytes, bytearray, an opaque value's two parts):
 * one byte below 0x80 -- keys and most strings are short, and an 8-byte
 * length put an 8-character key in a 48-byte block instead of 32 -- else
 * 0x80 and 8 bytes. */
#define SHMC__TEXT_LEN_SHORT 0x80u

static inline uint64_t shmc__text_len_size(uint64_t n)
{
	return n < SHMC__TEXT_LEN_SHORT ? 1 : 9;
}

static inline unsigned char *shmc__text_len_put(unsigned char *p, uint64_t n)
{
	if (n < SHMC__TEXT_LEN_SHORT) {
		*p = (unsigned char)n;
		return p + 1;
	}
	*p = SHMC__TEXT_LEN_SHORT;
	memcpy(p + 1, &n, 8);
	return p + 9;
}

/* Read a text's length at C, or false when the bytes left do not hold one. */
static inline bool shmc__vcursor_len(struct shmc__vcursor *c, uint64_t *n)
{
	if (c->p >= c->end)
		return false;
	unsigned char b = *c->p;
	if (b < SHMC__TEXT_LEN_SHORT) {
		*n = b;
		c->p++;
		return true;
	}
	if (b != SHMC__TEXT_LEN_SHORT || c->end - c->p < 9)
		return false;
	memcpy(n, c->p + 1, 8);
	c->p += 9;
	/* Only the shortest form: a text has one encoding, so that comparing
	 * blocks where they lie (shmc__word_is_str) agrees with decoding. */
	return *n >= SHMC__TEXT_LEN_SHORT;
}

/* Read a text at C: its length (bounded by the bytes left and by
 * SHMC_MAX_LEN) into *N and *S pointing at its bytes; C moves past it.
 * @return false when malformed */
static inline bool shmc__vcursor_text(struct shmc__vcursor *c, uint64_t *n, const char **s)
{
	if (!shmc__vcursor_len(c, n) || *n > (uint64_t)(c->end - c->p) || *n > SHMC_MAX_LEN)
		return false;
	*s = (const char *)c->p;
	c->p += *n;
	return true;
}

/* The value block at OFF, checked to lie inside the arena with its whole
 * stream, or NULL. */
static inline const struct shmc__vblock *shmc__vblock_at(const shmc_arena_t *a, uint64_t off)
{
	const struct shmc__vblock *b = shmc__at(a, off, sizeof(*b), 16);
	if (b == NULL || b->magic != SHMC__VBLOCK_MAGIC ||
	    b->len > a->capacity - off - sizeof(*b))
		return NULL;
	return b;
}

/* A cursor over the whole stream of B. */
static inline struct shmc__vcursor shmc__vblock_stream(const struct shmc__vblock *b)
{
	return (struct shmc__vcursor){b->data, b->data + b->len};
}

/* Decode the item at C (nested DEPTH deep) into a private value and move C
 * past it; with STUBS, managed objects come out as stubs (vdec.c).
 * @return 0, -ENOMEM, SHMC_ECORRUPT */
int shmc__vstream_decode(shmc_arena_t *a, struct shmc__vcursor *c, int depth,
			 bool stubs, shmc_value_t *out);

/* Whether word W holds exactly the str [P, P+N): the usual dict and
 * namespace key, compared where it lies. The shortcut of shmc__word_eq for
 * a str (a str equals only a str of the same bytes), inline for lookups. */
static inline bool shmc__word_is_str(shmc_arena_t *a, uint64_t w, const char *p, size_t n)
{
	if (!shmc__w_is_block(w))
		return false;
	/* The head the encoder writes for such a str: its tag and length. */
	unsigned char want[10];
	want[0] = SHMC__T_STR;
	uint64_t head = (uint64_t)(shmc__text_len_put(want + 1, n) - want);
	const struct shmc__vblock *b = shmc__at(a, w, sizeof(*b) + head + n, 16);
	if (b == NULL || b->magic != SHMC__VBLOCK_MAGIC || b->len != head + n)
		return false;
	/* Keys are short: no call (a call to memcmp for these 2 bytes cost a
	 * fifth of a namespace set). */
	for (uint64_t i = 0; i < head; i++)
		if (b->data[i] != want[i])
			return false;
	const unsigned char *s = b->data + head;
	for (size_t i = 0; i < n; i++)
		if (s[i] != (unsigned char)p[i])
			return false;
	return true;
}

#endif
