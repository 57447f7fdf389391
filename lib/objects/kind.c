/*
 * kind.c -- the table of kinds of managed objects, and finding the kind of
 * an object or of a detached body block.
 *
 * The table is written once per process, before the first arena is created,
 * opened or mapped (lifecycle/kinds.c, under pthread_once), and only read
 * after that, so readers need no synchronisation beyond the once.
 */
#include "objects/obj.h"

/* The kinds, filled in by the lifecycle before any arena is attached or
 * mapped (lifecycle/kinds.c): the table names no kind itself, so that this
 * layer does not depend on the containers above it. */
static const struct shmc__kind *kinds[SHMC__MAX_KINDS];

void shmc__kind_register(unsigned kind, const struct shmc__kind *k)
{
	SHMC_ASSERT(kind > 0 && kind < SHMC__MAX_KINDS);
	kinds[kind] = k;
}

const struct shmc__kind *shmc__kind_of(unsigned kind)
{
	return kind < SHMC__MAX_KINDS ? kinds[kind] : NULL;
}

const struct shmc__kind *shmc__kind_of_body(const shmc_arena_t *a, uint64_t off)
{
	const uint32_t *magic = shmc__at(a, off, sizeof(*magic), 16);
	if (magic == NULL)
		return NULL;
	for (unsigned i = 1; i < SHMC__MAX_KINDS; i++)
		if (kinds[i] && kinds[i]->body_magic && kinds[i]->body_magic == *magic)
			return kinds[i];
	return NULL;
}
