/*
 * nspriv.c -- a namespace handle's private attributes.
 *
 * Python's NamespaceProxy keeps the attributes whose names begin with '_'
 * on the proxy object itself: they are never sent to the manager, so no
 * other proxy (another process's, or a second one in the same process)
 * sees them, str() does not print them, and they go with the proxy. Here
 * the proxy is the handle: such attributes live in a plain dict on the
 * process-local heap, hung on the handle's entry (objects/htab.h:
 * shmc__handle_local) and freed by shmc_obj_release(). A handle made by
 * shmc_obj_dup() or read out of a container starts without any; a forked
 * child has a copy of its parent's, as a forked Python child has a copy of
 * the proxy object.
 *
 * Values are stored as private copies, like the shared attributes, and
 * read back as copies. A handle may be used by several threads at once, so
 * one process-wide mutex guards every handle's dict: private attributes
 * are rare, and never on a path that must be fast. It is recursive, so
 * that an update callback may use private attributes of the same handle
 * (whose dict it then must not assume unchanged); fork handlers keep it
 * consistent in the child.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "base/heap.h"
#include "containers/nspriv.h"

struct ns_local {
	shmc_value_t attrs; /* a plain dict: str -> value */
};

static pthread_mutex_t mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
	pthread_mutex_lock(&mu);
}

static void after_fork(void)
{
	pthread_mutex_unlock(&mu);
}

/* The child's only thread is not the one that took the mutex: make it new. */
static void after_fork_child(void)
{
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&mu, &at);
	pthread_mutexattr_destroy(&at);
}

static void install(void)
{
	pthread_atfork(before_fork, after_fork, after_fork_child);
}

static void lock(void)
{
	pthread_once(&once, install);
	pthread_mutex_lock(&mu);
}

static void unlock(void)
{
	pthread_mutex_unlock(&mu);
}

static void local_free(void *l)
{
	struct ns_local *n = l;
	shmc_value_free(&n->attrs);
	shmc__heap_free(n);
}

/* H's dict (mutex held), made if CREATE; NULL if none (or no memory). */
static shmc_value_t *attrs_of(shmc_obj_t *h, bool create)
{
	struct ns_local *n = shmc__handle_local(h);
	if (n == NULL && create) {
		if ((n = shmc__heap_alloc(sizeof(*n))) == NULL)
			return NULL;
		if (shmc__pmap_new(&n->attrs) != 0) {
			shmc__heap_free(n);
			return NULL;
		}
		if (shmc__handle_local_set(h, n, local_free) != 0) {
			local_free(n);
			return NULL;
		}
	}
	return n ? &n->attrs : NULL;
}

/* The value of NAME in H's dict (mutex held), or NULL. */
static shmc_value_t *find(shmc_obj_t *h, const char *name)
{
	shmc_value_t *d = attrs_of(h, false);
	return d ? shmc_pdict_get(*d, shmc_strn(name, strlen(name))) : NULL;
}

/* A private str holding NAME. */
static int name_value(const char *name, shmc_value_t *out)
{
	size_t n = strlen(name);
	if (!shmc__utf8_valid(name, n))
		return -EILSEQ;
	return shmc__str_copy(SHMC_STR, name, n, out);
}

/* Set NAME to V (taken, on failure too), mutex held. */
static int put_locked(shmc_obj_t *h, const char *name, shmc_value_t v)
{
	shmc_value_t k, *d = attrs_of(h, true);
	int rc = d ? name_value(name, &k) : -ENOMEM;
	if (rc) {
		shmc_value_free(&v);
		return rc;
	}
	return shmc_pdict_set(d, k, v); /* takes both */
}

int shmc__nspriv_set(shmc_obj_t *h, const char *name, shmc_value_t v)
{
	shmc_value_t c;
	int rc = shmc_value_copy(v, &c);
	if (rc)
		return rc;
	lock();
	rc = put_locked(h, name, c);
	unlock();
	return rc;
}

int shmc__nspriv_get(shmc_obj_t *h, const char *name, shmc_value_t *out)
{
	lock();
	shmc_value_t *v = find(h, name);
	int rc = v ? shmc_value_copy(*v, out) : SHMC_EATTR;
	unlock();
	return rc;
}

int shmc__nspriv_has(shmc_obj_t *h, const char *name)
{
	lock();
	int rc = find(h, name) != NULL;
	unlock();
	return rc;
}

int shmc__nspriv_del(shmc_obj_t *h, const char *name)
{
	lock();
	shmc_value_t *d = attrs_of(h, false);
	int rc = d ? shmc_pdict_del(d, shmc_strn(name, strlen(name))) : SHMC_EKEY;
	unlock();
	return rc == SHMC_EKEY ? SHMC_EATTR : rc;
}

int shmc__nspriv_rmw(shmc_obj_t *h, const char *name, const struct shmc__rmw *op)
{
	shmc_value_t next, *v;
	int rc;
	lock();
	if ((v = find(h, name)) == NULL) {
		unlock();
		return SHMC_EATTR;
	}
	switch (op->kind) {
	case SHMC__RMW_ADD:
		/* A big int or a complex owns memory: the old number is
		 * freed, and the caller's result is a copy of its own. */
		if ((rc = shmc__rmw_add_numbers(*v, op->arg, &next)) != 0)
			break;
		shmc_value_t mine = next;
		if (op->result && (rc = shmc_value_copy(next, &mine)) != 0) {
			shmc_value_free(&next);
			break;
		}
		shmc_value_free(v);
		*v = next;
		if (op->result)
			*op->result = mine;
		break;
	case SHMC__RMW_CAS:
		rc = 0;
		if (shmc_value_eq(*v, op->arg) &&
		    (rc = shmc_value_copy(op->desired, &next)) == 0) {
			shmc_value_free(v);
			*v = next;
			rc = 1;
		}
		break;
	case SHMC__RMW_UPDATE:
		/* FN may use this handle's private attributes (the mutex is
		 * recursive), so V is looked up again afterwards. */
		if ((rc = shmc_value_copy(*v, &next)) != 0)
			break;
		if ((rc = op->fn(&next, op->ctx)) != 0) {
			shmc_value_free(&next);
			break;
		}
		shmc_value_t c;
		rc = shmc_value_copy(next, &c); /* what FN put there may be a view */
		shmc_value_free(&next);
		if (rc == 0)
			rc = put_locked(h, name, c);
		break;
	default:
		rc = -EINVAL;
	}
	unlock();
	return rc;
}
