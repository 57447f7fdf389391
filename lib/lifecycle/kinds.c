/*
 * kinds.c -- the table of kinds: every kind of managed object, registered
 * with the object layer.
 *
 * The object layer (objects/obj.c) dispatches through a table of kinds
 * (destroy, repair, str, walk, body handling) but names no kind: the kinds
 * are defined by the containers and the synchronisation objects above it.
 * This file, at the top, names them all and fills the table, once per
 * process, before the first arena is created, opened or mapped. A process
 * must know every kind even if it never creates one: another process may
 * hand it a reference to any kind, and the last reference it drops must be
 * able to destroy the object.
 */
#include <pthread.h>

#include "lifecycle/lifecycle.h"
#include "objects/obj.h"

extern const struct shmc__kind shmc__namespace_kind;
extern const struct shmc__kind shmc__list_kind;
extern const struct shmc__kind shmc__dict_kind;
extern const struct shmc__kind shmc__lock_kind;
extern const struct shmc__kind shmc__rlock_kind;
extern const struct shmc__kind shmc__semaphore_kind;
extern const struct shmc__kind shmc__bounded_semaphore_kind;
extern const struct shmc__kind shmc__condition_kind;
extern const struct shmc__kind shmc__event_kind;
extern const struct shmc__kind shmc__barrier_kind;
extern const struct shmc__kind shmc__queue_kind;
extern const struct shmc__kind shmc__joinable_queue_kind;
extern const struct shmc__kind shmc__cvalue_kind;
extern const struct shmc__kind shmc__array_kind;
extern const struct shmc__kind shmc__mvalue_kind;
extern const struct shmc__kind shmc__pool_kind;
extern const struct shmc__kind shmc__async_result_kind;
extern const struct shmc__kind shmc__iterator_kind;
extern const struct shmc__kind shmc__cache_kind;

static void install(void)
{
	static const struct {
		unsigned kind;
		const struct shmc__kind *k;
	} table[] = {
		{SHMC_KIND_NAMESPACE, &shmc__namespace_kind},
		{SHMC_KIND_LIST, &shmc__list_kind},
		{SHMC_KIND_DICT, &shmc__dict_kind},
		{SHMC_KIND_LOCK, &shmc__lock_kind},
		{SHMC_KIND_RLOCK, &shmc__rlock_kind},
		{SHMC_KIND_SEMAPHORE, &shmc__semaphore_kind},
		{SHMC_KIND_BOUNDED_SEMAPHORE, &shmc__bounded_semaphore_kind},
		{SHMC_KIND_CONDITION, &shmc__condition_kind},
		{SHMC_KIND_EVENT, &shmc__event_kind},
		{SHMC_KIND_BARRIER, &shmc__barrier_kind},
		{SHMC_KIND_QUEUE, &shmc__queue_kind},
		{SHMC_KIND_JOINABLE_QUEUE, &shmc__joinable_queue_kind},
		{SHMC_KIND_CVALUE, &shmc__cvalue_kind},
		{SHMC_KIND_ARRAY, &shmc__array_kind},
		{SHMC_KIND_MVALUE, &shmc__mvalue_kind},
		{SHMC_KIND_POOL, &shmc__pool_kind},
		{SHMC_KIND_ASYNC_RESULT, &shmc__async_result_kind},
		{SHMC_KIND_ITERATOR, &shmc__iterator_kind},
		{SHMC_KIND_CACHE, &shmc__cache_kind},
	};
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		shmc__kind_register(table[i].kind, table[i].k);
}

void shmc__kinds_install(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, install);
}
