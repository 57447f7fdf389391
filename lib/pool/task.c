/*
 * task.c -- which task functions a pool's workers may call: the registry of
 * named functions, and the identity of a program image.
 *
 * A function pointer means something only in the program image it comes
 * from, at the addresses that image was loaded at: the creator of a pool
 * and the processes forked from it (the workers among them) share one, an
 * unrelated process does not. The image's identity is the 16 random bytes
 * the kernel hands every program at exec (getauxval(AT_RANDOM)): fork
 * copies them, exec makes new ones. They are never written to the arena;
 * what is written is derived from them with SipHash-2-4 keyed by them:
 *
 *   image_id   = SipHash(key, "image")   in the pool: a submitter whose own
 *                                        image_id differs may not submit
 *                                        pointers (SHMC_ENOFUNC)
 *   mac(fn)    = SipHash(key, "fn", fn)  in each job given by pointer: a
 *                                        worker calls the pointer only if
 *                                        it computes the same mac
 *
 * so a word scribbled into a job cannot make a worker jump anywhere: the
 * arena is untrusted input, and only the image's processes know the key.
 *
 * The registry is process-local: the creator registers names before it
 * creates the pool, its supervisor and workers are forked with a copy, and
 * the pool records the names so that any process can check one before
 * submitting it. A fork handler holds the registry's mutex across fork(),
 * so a child never inherits it locked by another thread.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>

#include "pool/pool.h"
#include "values/value.h"

/* SipHash-2-4 of whole words ------------------------------------------------ */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1, v1 = ROTL(v1, 13), v1 ^= v0, v0 = ROTL(v0, 32);     \
		v2 += v3, v3 = ROTL(v3, 16), v3 ^= v2;                         \
		v0 += v3, v3 = ROTL(v3, 21), v3 ^= v0;                         \
		v2 += v1, v1 = ROTL(v1, 17), v1 ^= v2, v2 = ROTL(v2, 32);     \
	} while (0)

static uint64_t siphash(const uint64_t k[2], const uint64_t *m, size_t n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k[0], v1 = 0x646f72616e646f6dull ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ k[0], v3 = 0x7465646279746573ull ^ k[1];
	for (size_t i = 0; i < n; i++) {
		v3 ^= m[i];
		SIPROUND;
		SIPROUND;
		v0 ^= m[i];
	}
	uint64_t b = (uint64_t)(n * 8) << 56;
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* This image's key: the kernel's AT_RANDOM bytes (always there on Linux;
 * without them, the address of this variable, which at least differs
 * between images under ASLR). */
static void image_key(uint64_t k[2])
{
	const void *r = (const void *)getauxval(AT_RANDOM);
	if (r) {
		memcpy(k, r, 16);
	} else {
		static const char here;
		k[0] = (uint64_t)(uintptr_t)&here;
		k[1] = ~k[0];
	}
}

#define TAG_IMAGE 0x6567616d69ull /* "image" */
#define TAG_FN 0x6e66ull          /* "fn" */

uint64_t shmc__task_image_id(void)
{
	uint64_t k[2], m = TAG_IMAGE;
	image_key(k);
	return siphash(k, &m, 1);
}

uint64_t shmc__task_mac(uint64_t fn)
{
	uint64_t k[2], m[2] = {TAG_FN, fn};
	image_key(k);
	return siphash(k, m, 2);
}

/* The registry -------------------------------------------------------------- */

#define MAX_NAMES 256
#define MAX_NAME_LEN 255

static struct entry {
	char name[MAX_NAME_LEN + 1];
	size_t len;
	shmc_task_fn fn;
	void *ctx;
} reg[MAX_NAMES];
static unsigned nreg;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;

static void reg_lock(void)
{
	pthread_mutex_lock(&reg_mu);
}

static void reg_unlock(void)
{
	pthread_mutex_unlock(&reg_mu);
}

static void install_fork_handlers(void)
{
	pthread_atfork(reg_lock, reg_unlock, reg_unlock);
}

static void locked(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, install_fork_handlers);
	reg_lock();
}

static struct entry *find_locked(const char *name, size_t len)
{
	for (unsigned i = 0; i < nreg; i++)
		if (reg[i].len == len && memcmp(reg[i].name, name, len) == 0)
			return &reg[i];
	return NULL;
}

int shmc_pool_register(const char *name, shmc_task_fn fn, void *ctx)
{
	if (name == NULL || fn == NULL)
		return -EINVAL;
	size_t len = strlen(name);
	if (len == 0 || len > MAX_NAME_LEN)
		return -EINVAL;
	if (!shmc__utf8_valid(name, len))
		return -EILSEQ;
	locked();
	struct entry *e = find_locked(name, len);
	int rc = 0;
	if (e == NULL && nreg == MAX_NAMES) {
		rc = -ENOSPC;
	} else {
		if (e == NULL) {
			e = &reg[nreg++];
			memcpy(e->name, name, len + 1);
			e->len = len;
		}
		e->fn = fn;
		e->ctx = ctx;
	}
	reg_unlock();
	return rc;
}

int shmc__task_lookup(const char *name, size_t len, shmc_task_fn *fn, void **ctx)
{
	locked();
	struct entry *e = find_locked(name, len);
	if (e) {
		*fn = e->fn;
		*ctx = e->ctx;
	}
	reg_unlock();
	return e ? 0 : SHMC_ENOFUNC;
}

int shmc__task_names(shmc_value_t *out)
{
	shmc_value_t t = shmc_none();
	locked();
	int rc = shmc__seq_new(SHMC_TUPLE, nreg, &t);
	for (unsigned i = 0; rc == 0 && i < nreg; i++) {
		shmc_value_t s;
		if ((rc = shmc__str_copy(SHMC_STR, reg[i].name, reg[i].len, &s)) == 0)
			shmc__seq_push(&t, s);
	}
	reg_unlock();
	if (rc == 0)
		*out = t;
	else
		shmc_value_free(&t);
	return rc;
}
