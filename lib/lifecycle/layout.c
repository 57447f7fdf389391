/*
 * layout.c -- the layout fingerprint stored in every arena header.
 *
 * Two builds may share an arena only if they agree on the size and position
 * of everything in it. The fingerprint hashes those numbers; opening an
 * arena made by a build with another layout fails with SHMC_ELAYOUT.
 */
#include <stddef.h>

#include "lifecycle/lifecycle.h"
#include "memory/alloc.h"
#include "objects/obj.h"
#include "values/venc.h"

uint64_t shmc__layout_fingerprint(void)
{
	shmc__kinds_install();
	const uint64_t facts[] = {
		sizeof(void *), sizeof(struct shmc__hdr), sizeof(struct shmc__proc),
		sizeof(struct shmc__rec), sizeof(struct shmc__class_head),
		offsetof(struct shmc__hdr, committed), offsetof(struct shmc__hdr, classes),
		sizeof(struct shmc__obj), offsetof(struct shmc__obj, lock),
		sizeof(struct shmc__olock), SHMC__NCLASSES, SHMC__PAGE, SHMC__SLAB_PAGES,
		SHMC_MAX_PROCS, SHMC_MAX_THREADS, SHMC__W_DELETED, SHMC__MAX_DEPTH,
		shmc__class_count(), shmc__class_size(shmc__class_count() - 1),
		SHMC__FORMAT_VERSION /* byte order, value encodings: they move together */
	};
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		h ^= facts[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	/* The kinds of objects, and the size of each one's body. */
	for (unsigned k = 1; shmc__kind_of(k); k++) {
		h ^= (uint64_t)k << 32 | shmc__kind_of(k)->body_size << 8 |
		     shmc__kind_of(k)->per_proc;
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}
