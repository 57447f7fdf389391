/*
 * sync.c -- the proxies of the synchronisation objects: AcquirerProxy
 * (Lock, RLock, Semaphore, BoundedSemaphore), ConditionProxy, EventProxy,
 * BarrierProxy, AutoProxy[Queue] and AutoProxy[JoinableQueue], with the
 * arguments, results and exceptions of threading's and queue's objects,
 * which is what the Manager serves.
 *
 * Blocking: a call first tries without waiting, holding the GIL (the
 * uncontended lock, a queue with room or items: no thread switch). Then it
 * waits without the GIL in slices of 100 ms, looking for signals between
 * them, so that Ctrl-C interrupts a wait (module.c: shmc_py_wait).
 * Condition.wait and Barrier.wait are single calls: a slice that ended
 * would re-take the lock or break the barrier.
 *
 * A lock or permit taken over from a process that died holding it
 * (SHMC_EOWNERDEAD) is acquired, and shmc.OwnerDeadWarning (a
 * RuntimeWarning) says so; under a filter that turns it into an exception
 * the lock is released again before the exception propagates.
 */
#include "shmcmodule.h"

#include <errno.h>
#include <math.h>
#include <time.h>

/* Arguments by position or keyword: NAMES[i] fills OUT[i] (left NULL when
 * not given); the first MIN are required. */
static int parse(const char *fname, PyObject *const *args, Py_ssize_t nargs,
		 PyObject *kwnames, const char *const *names, int n, int min, PyObject **out)
{
	for (int i = 0; i < n; i++)
		out[i] = NULL;
	if (nargs > n) {
		PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)", fname,
			     n, nargs);
		return -1;
	}
	for (Py_ssize_t i = 0; i < nargs; i++)
		out[i] = args[i];
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	for (Py_ssize_t k = 0; k < nkw; k++) {
		const char *kw = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
		if (kw == NULL)
			return -1;
		int i = 0;
		while (i < n && strcmp(kw, names[i]) != 0)
			i++;
		if (i == n) {
			PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%s'",
				     fname, kw);
			return -1;
		}
		if (out[i]) {
			PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'",
				     fname, kw);
			return -1;
		}
		out[i] = args[nargs + k];
	}
	for (int i = 0; i < min; i++)
		if (out[i] == NULL) {
			PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname,
				     names[i]);
			return -1;
		}
	return 0;
}

static int truth(PyObject *o, int dflt)
{
	return o ? PyObject_IsTrue(o) : dflt;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Acquiring --------------------------------------------------------------------- */

typedef int (*acquire_fn)(shmc_obj_t *, double);

/* A Lock this thread holds: the C call waits, within its timeout, for
 * another thread or process to release it, as Python's does;
 * shmc_py_wait's slices always give it one. */
static int lock_fn(shmc_obj_t *h, double t, void *ctx)
{
	(void)ctx;
	return shmc_lock_acquire(h, t);
}

static int cond_fn(shmc_obj_t *h, double t, void *ctx)
{
	(void)ctx;
	return shmc_condition_acquire(h, t);
}

static int sem_fn(shmc_obj_t *h, double t, void *ctx)
{
	(void)ctx;
	return shmc_semaphore_acquire(h, t);
}

static shmc_py_wait_fn acquire_fn_of(shmc_kind_t kind)
{
	switch (kind) {
	case SHMC_KIND_SEMAPHORE:
	case SHMC_KIND_BOUNDED_SEMAPHORE:
		return sem_fn;
	case SHMC_KIND_CONDITION:
		return cond_fn;
	default:
		return lock_fn;
	}
}

static PyObject *release_impl(ProxyObject *self);

/* Acquired from a dead holder: say so. @return 0, or -1 (the warning was
 * raised as an exception: the lock is released again) */
static int owner_died(ProxyObject *self)
{
	if (PyErr_WarnEx(ST(self)->OwnerDeadWarning,
			 "acquired from a process that died holding it: what it protected "
			 "may be half changed",
			 1) == 0)
		return 0;
	PyObject *exc, *val, *tb;
	PyErr_Fetch(&exc, &val, &tb);
	Py_XDECREF(release_impl(self));
	PyErr_Restore(exc, val, tb);
	return -1;
}

static PyObject *acquired(ProxyObject *self, int rc)
{
	switch (rc) {
	case 0:
		Py_RETURN_TRUE;
	case -ETIMEDOUT:
		Py_RETURN_FALSE;
	case SHMC_EOWNERDEAD:
		if (owner_died(self) < 0)
			return NULL;
		Py_RETURN_TRUE;
	case INT_MIN:
		return NULL;
	default:
		return err(self, rc);
	}
}

static PyObject *acquire_impl(ProxyObject *self, PyObject *blocking_o, PyObject *timeout_o)
{
	int blocking = truth(blocking_o, 1);
	if (blocking < 0)
		return NULL;
	shmc_kind_t kind = self->kind;
	bool sem = kind == SHMC_KIND_SEMAPHORE || kind == SHMC_KIND_BOUNDED_SEMAPHORE;
	bool given = timeout_o && timeout_o != Py_None;
	double t = SHMC_FOREVER;
	if (sem) { /* threading.Semaphore's rules */
		if (!blocking && given) {
			PyErr_SetString(PyExc_ValueError,
					"can't specify timeout for non-blocking acquire");
			return NULL;
		}
		if (given && shmc_py_timeout(timeout_o, 0, NULL, &t) < 0)
			return NULL;
	} else { /* threading.Lock's and RLock's */
		if (given) {
			t = PyFloat_AsDouble(timeout_o);
			if (t == -1.0 && PyErr_Occurred())
				return NULL;
			if (!blocking && t != -1) {
				PyErr_SetString(PyExc_ValueError,
						"can't specify a timeout for a non-blocking call");
				return NULL;
			}
			if (t < 0 && t != -1) {
				PyErr_SetString(PyExc_ValueError, "timeout value must be positive");
				return NULL;
			}
			if (t == -1)
				t = SHMC_FOREVER;
		}
	}
	if (!blocking)
		t = SHMC_NOWAIT;
	return acquired(self, shmc_py_wait(acquire_fn_of(kind), self->h, t, NULL, -ETIMEDOUT));
}

static PyObject *acq_acquire(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames)
{
	static const char *const names[] = {"blocking", "timeout"};
	PyObject *a[2];
	hot_method(self);
	if (nargs == 0 && kwnames == NULL) /* the common case */
		return acquired(self, shmc_py_wait(acquire_fn_of(self->kind), self->h,
						   SHMC_FOREVER, NULL, -ETIMEDOUT));
	if (parse("acquire", args, nargs, kwnames, names, 2, 0, a) < 0)
		return NULL;
	return acquire_impl(self, a[0], a[1]);
}

/* The message Python gives for releasing an unheld Lock or RLock. */
static PyObject *not_held(shmc_kind_t kind)
{
	PyErr_SetString(PyExc_RuntimeError, kind == SHMC_KIND_LOCK
						    ? "release unlocked lock"
						    : "cannot release un-acquired lock");
	return NULL;
}

static shmc_kind_t condition_lock_kind(ProxyObject *self)
{
	shmc_obj_t *l;
	if (shmc_condition_lock(self->h, &l) != 0)
		return SHMC_KIND_RLOCK;
	shmc_kind_t k = shmc_obj_kind(l);
	shmc_obj_release(l);
	return k;
}

static PyObject *release_impl(ProxyObject *self)
{
	shmc_kind_t kind = self->kind;
	int rc;
	switch (kind) {
	case SHMC_KIND_SEMAPHORE:
	case SHMC_KIND_BOUNDED_SEMAPHORE:
		rc = shmc_semaphore_release(self->h);
		break;
	case SHMC_KIND_CONDITION:
		rc = shmc_condition_release(self->h);
		if (rc == SHMC_ENOTHELD)
			return not_held(condition_lock_kind(self));
		break;
	default:
		rc = shmc_lock_release(self->h);
		if (rc == SHMC_ENOTHELD)
			return not_held(kind);
	}
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *acq_release(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	hot_method(self);
	return release_impl(self);
}

static PyObject *acq_enter(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return acq_acquire(self, NULL, 0, NULL);
}

static PyObject *acq_exit(ProxyObject *self, PyObject *args)
{
	(void)args;
	return release_impl(self);
}

/* str() of a sync object: Python's form of the object (the library's). */
static PyObject *sync_str(ProxyObject *self)
{
	char *s;
	int rc = shmc_obj_str(self->h, &s);
	if (rc)
		return err(self, rc);
	PyObject *r = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
	shmc_free(s);
	return r;
}

static PyMethodDef acq_methods[] = {
	{"acquire", (PyCFunction)(void (*)(void))acq_acquire, METH_FASTCALL | METH_KEYWORDS,
	 "acquire(blocking=True, timeout=None) -> bool"},
	{"release", (PyCFunction)acq_release, METH_NOARGS, NULL},
	{"__enter__", (PyCFunction)acq_enter, METH_NOARGS, NULL},
	{"__exit__", (PyCFunction)acq_exit, METH_VARARGS, NULL},
	{NULL, NULL, 0, NULL}};

static PyType_Slot acq_slots[] = {
	{Py_tp_str, sync_str},
	{Py_tp_methods, acq_methods},
	{0, NULL}};

/* Subtypes inherit the base's garbage collection support. */
#define PROXY_FLAGS                                                                  \
	(Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION)

static PyType_Spec acq_spec = {
	.name = "shmc.AcquirerProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS,
	.slots = acq_slots,
};

/* Condition ----------------------------------------------------------------------- */

static PyObject *cond_wait_impl(ProxyObject *self, double t)
{
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = shmc_condition_wait(self->h, t);
	Py_END_ALLOW_THREADS
	switch (rc) {
	case 0:
		Py_RETURN_TRUE;
	case -ETIMEDOUT:
		Py_RETURN_FALSE;
	case SHMC_EOWNERDEAD: /* a spurious wake-up, holding the lock */
		if (PyErr_WarnEx(ST(self)->OwnerDeadWarning,
				 "the condition's lock was re-taken from a process that died "
				 "holding it",
				 1) < 0)
			return NULL;
		Py_RETURN_TRUE;
	case SHMC_ENOTHELD:
		PyErr_SetString(PyExc_RuntimeError, "cannot wait on un-acquired lock");
		return NULL;
	default:
		return err(self, rc);
	}
}

static PyObject *cond_wait(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	static const char *const names[] = {"timeout"};
	PyObject *a[1];
	double t;
	if (parse("wait", args, nargs, kwnames, names, 1, 0, a) < 0 ||
	    shmc_py_timeout(a[0], 0, NULL, &t) < 0)
		return NULL;
	return cond_wait_impl(self, t);
}

static PyObject *notified(ProxyObject *self, int rc)
{
	if (rc == SHMC_ENOTHELD) {
		PyErr_SetString(PyExc_RuntimeError, "cannot notify on un-acquired lock");
		return NULL;
	}
	if (rc < 0)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *cond_notify(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames)
{
	static const char *const names[] = {"n"};
	PyObject *a[1];
	if (parse("notify", args, nargs, kwnames, names, 1, 0, a) < 0)
		return NULL;
	long long n = 1;
	if (a[0] && (n = PyLong_AsLongLong(a[0])) == -1 && PyErr_Occurred())
		return NULL;
	if (n > INT_MAX)
		n = INT_MAX;
	return notified(self, shmc_condition_notify(self->h, n < 0 ? 0 : (int)n));
}

static PyObject *cond_notify_all(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return notified(self, shmc_condition_notify_all(self->h));
}

/* wait_for as multiprocessing.managers.ConditionProxy has it: the
 * predicate is evaluated here, with the lock held. */
static PyObject *cond_wait_for(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			       PyObject *kwnames)
{
	static const char *const names[] = {"predicate", "timeout"};
	PyObject *a[2];
	double t;
	if (parse("wait_for", args, nargs, kwnames, names, 2, 1, a) < 0 ||
	    shmc_py_timeout(a[1], 0, NULL, &t) < 0)
		return NULL;
	PyObject *result = PyObject_CallNoArgs(a[0]);
	if (result == NULL)
		return NULL;
	double end = t < 0 ? 0 : now() + t;
	for (;;) {
		int ok = PyObject_IsTrue(result);
		if (ok < 0) {
			Py_DECREF(result);
			return NULL;
		}
		if (ok)
			return result;
		double wait = SHMC_FOREVER;
		if (t >= 0 && (wait = end - now()) <= 0)
			return result;
		PyObject *w = cond_wait_impl(self, wait);
		if (w == NULL) {
			Py_DECREF(result);
			return NULL;
		}
		Py_DECREF(w);
		Py_SETREF(result, PyObject_CallNoArgs(a[0]));
		if (result == NULL)
			return NULL;
	}
}

static PyMethodDef cond_methods[] = {
	{"wait", (PyCFunction)(void (*)(void))cond_wait, METH_FASTCALL | METH_KEYWORDS,
	 "wait(timeout=None) -> bool"},
	{"wait_for", (PyCFunction)(void (*)(void))cond_wait_for, METH_FASTCALL | METH_KEYWORDS,
	 "wait_for(predicate, timeout=None) -> the predicate's last result"},
	{"notify", (PyCFunction)(void (*)(void))cond_notify, METH_FASTCALL | METH_KEYWORDS,
	 "notify(n=1)"},
	{"notify_all", (PyCFunction)cond_notify_all, METH_NOARGS, NULL},
	{NULL, NULL, 0, NULL}};

static PyType_Slot cond_slots[] = {
	{Py_tp_methods, cond_methods},
	{0, NULL}};

static PyType_Spec cond_spec = {
	.name = "shmc.ConditionProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS,
	.slots = cond_slots,
};

/* Event ----------------------------------------------------------------------------- */

static int event_fn(shmc_obj_t *h, double t, void *ctx)
{
	(void)ctx;
	return shmc_event_wait(h, t);
}

static PyObject *event_is_set(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_event_is_set(self->h);
	if (rc < 0)
		return err(self, rc);
	return PyBool_FromLong(rc);
}

static PyObject *event_set(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_event_set(self->h);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *event_clear(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_event_clear(self->h);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *event_wait(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			    PyObject *kwnames)
{
	static const char *const names[] = {"timeout"};
	PyObject *a[1];
	double t;
	if (parse("wait", args, nargs, kwnames, names, 1, 0, a) < 0 ||
	    shmc_py_timeout(a[0], 0, NULL, &t) < 0)
		return NULL;
	int rc = shmc_py_wait(event_fn, self->h, t, NULL, -ETIMEDOUT);
	if (rc == 0)
		Py_RETURN_TRUE;
	if (rc == -ETIMEDOUT)
		Py_RETURN_FALSE;
	return rc == INT_MIN ? NULL : err(self, rc);
}

static PyMethodDef event_methods[] = {
	{"is_set", (PyCFunction)event_is_set, METH_NOARGS, NULL},
	{"set", (PyCFunction)event_set, METH_NOARGS, NULL},
	{"clear", (PyCFunction)event_clear, METH_NOARGS, NULL},
	{"wait", (PyCFunction)(void (*)(void))event_wait, METH_FASTCALL | METH_KEYWORDS,
	 "wait(timeout=None) -> bool"},
	{NULL, NULL, 0, NULL}};

static PyType_Slot event_slots[] = {
	{Py_tp_str, sync_str},
	{Py_tp_methods, event_methods},
	{0, NULL}};

static PyType_Spec event_spec = {
	.name = "shmc.EventProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS,
	.slots = event_slots,
};

/* Barrier --------------------------------------------------------------------------- */

/* The action's exception, from the trampoline to the wait that tripped
 * the barrier: the same thread. */
#define ACTION_RAISED (INT_MIN + 1)
static _Thread_local PyObject *action_exc[3];

int shmc_py_barrier_action(void *ctx)
{
	PyGILState_STATE g = PyGILState_Ensure();
	PyObject *r = PyObject_CallNoArgs((PyObject *)ctx);
	int rc = 0;
	if (r == NULL) {
		PyErr_Fetch(&action_exc[0], &action_exc[1], &action_exc[2]);
		rc = ACTION_RAISED;
	}
	Py_XDECREF(r);
	PyGILState_Release(g);
	return rc;
}

int shmc_py_barrier_keep(ArenaObject *arena, shmc_obj_t *h, PyObject *action, bool set)
{
	shmc_ident_t id;
	int rc = shmc_obj_ident(h, &id);
	if (rc) {
		shmc_py_error(arena->st, rc);
		return -1;
	}
	PyObject *key = Py_BuildValue("(OKK)", arena->path, (unsigned long long)id.offset,
				      (unsigned long long)id.id);
	if (key == NULL)
		return -1;
	PyObject *d = arena->st->barrier_actions;
	int has = PyDict_Contains(d, key);
	if (has == 0 && set) {
		/* the C library holds ACTION, which D keeps alive, from now on */
		rc = shmc_barrier_set_action(h, shmc_py_barrier_action, action);
		if (rc == -EINVAL) { /* a barrier made without an action */
			Py_DECREF(key);
			return 0;
		}
		if (rc) {
			Py_DECREF(key);
			shmc_py_error(arena->st, rc);
			return -1;
		}
	}
	if (has == 0)
		has = PyDict_SetItem(d, key, action);
	Py_DECREF(key);
	return has < 0 ? -1 : 0;
}

void shmc_py_barrier_prune(ArenaObject *arena)
{
	PyObject *d = arena->st->barrier_actions;
	if (d == NULL || PyDict_GET_SIZE(d) == 0)
		return;
	PyObject *exc, *val, *tb;
	PyErr_Fetch(&exc, &val, &tb);
	shmc_arena_reclaim(arena->arena); /* what dead processes held, first */
	PyObject *gone = PyList_New(0), *key, *v;
	Py_ssize_t pos = 0;
	while (gone && PyDict_Next(d, &pos, &key, &v)) {
		shmc_ident_t id;
		shmc_obj_t *h;
		if (PyUnicode_Compare(PyTuple_GET_ITEM(key, 0), arena->path) != 0)
			continue;
		id.offset = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(key, 1));
		id.id = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(key, 2));
		int rc = shmc_obj_from_ident(arena->arena, id, &h);
		if (rc == 0)
			shmc_obj_release(h);
		else if (rc == SHMC_EKEY && PyList_Append(gone, key) < 0)
			Py_CLEAR(gone);
	}
	for (Py_ssize_t i = 0; gone && i < PyList_GET_SIZE(gone); i++)
		if (PyDict_DelItem(d, PyList_GET_ITEM(gone, i)) < 0)
			PyErr_Clear();
	Py_XDECREF(gone);
	if (PyErr_Occurred())
		PyErr_WriteUnraisable((PyObject *)arena);
	PyErr_Restore(exc, val, tb);
}

void shmc_py_barrier_release(ProxyObject *p)
{
	shmc_obj_release(p->h);
	shmc_py_barrier_prune(p->arena);
}

static PyObject *barrier_wait(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			      PyObject *kwnames)
{
	static const char *const names[] = {"timeout"};
	PyObject *a[1];
	double t = SHMC_FOREVER; /* None: the barrier's default */
	if (parse("wait", args, nargs, kwnames, names, 1, 0, a) < 0)
		return NULL;
	if (a[0] && a[0] != Py_None && shmc_py_timeout(a[0], 0, NULL, &t) < 0)
		return NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = shmc_barrier_wait(self->h, t);
	Py_END_ALLOW_THREADS
	if (rc >= 0)
		return PyLong_FromLong(rc);
	if (rc == ACTION_RAISED) { /* the others get BrokenBarrierError */
		PyErr_Restore(action_exc[0], action_exc[1], action_exc[2]);
		action_exc[0] = action_exc[1] = action_exc[2] = NULL;
		return NULL;
	}
	if (rc == SHMC_EBROKEN || rc == -ETIMEDOUT) {
		PyErr_SetNone(ST(self)->BrokenBarrierError);
		return NULL;
	}
	if (rc == -ENOENT) {
		PyErr_SetString(PyExc_RuntimeError,
				"this process has no action for the barrier it tripped (a proxy "
				"read out of a container by a process not forked from its maker)");
		return NULL;
	}
	return err(self, rc);
}

static PyObject *barrier_abort(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_barrier_abort(self->h);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *barrier_reset(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_barrier_reset(self->h);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *barrier_parties(ProxyObject *self, void *Py_UNUSED(c))
{
	int64_t n = shmc_barrier_parties(self->h);
	return n < 0 ? err(self, (int)n) : PyLong_FromLongLong(n);
}

static PyObject *barrier_n_waiting(ProxyObject *self, void *Py_UNUSED(c))
{
	int64_t n = shmc_barrier_n_waiting(self->h);
	return n < 0 ? err(self, (int)n) : PyLong_FromLongLong(n);
}

static PyObject *barrier_broken(ProxyObject *self, void *Py_UNUSED(c))
{
	int rc = shmc_barrier_broken(self->h);
	return rc < 0 ? err(self, rc) : PyBool_FromLong(rc);
}

static PyMethodDef barrier_methods[] = {
	{"wait", (PyCFunction)(void (*)(void))barrier_wait, METH_FASTCALL | METH_KEYWORDS,
	 "wait(timeout=None) -> the arrival index"},
	{"abort", (PyCFunction)barrier_abort, METH_NOARGS, NULL},
	{"reset", (PyCFunction)barrier_reset, METH_NOARGS, NULL},
	{NULL, NULL, 0, NULL}};

static PyGetSetDef barrier_getset[] = {
	{"parties", (getter)barrier_parties, NULL, NULL, NULL},
	{"n_waiting", (getter)barrier_n_waiting, NULL, NULL, NULL},
	{"broken", (getter)barrier_broken, NULL, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot barrier_slots[] = {
	{Py_tp_str, sync_str},
	{Py_tp_methods, barrier_methods},
	{Py_tp_getset, barrier_getset},
	{0, NULL}};

static PyType_Spec barrier_spec = {
	.name = "shmc.BarrierProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS,
	.slots = barrier_slots,
};

/* Queues ---------------------------------------------------------------------------- */

static int put_fn(shmc_obj_t *h, double t, void *ctx)
{
	return shmc_queue_put(h, *(shmc_value_t *)ctx, t);
}

static int get_fn(shmc_obj_t *h, double t, void *ctx)
{
	return shmc_queue_get(h, t, (shmc_value_t *)ctx);
}

static int join_fn(shmc_obj_t *h, double t, void *ctx)
{
	(void)ctx;
	return shmc_queue_join(h, t);
}

/* queue.Queue's (block, timeout): block false ignores the timeout; a
 * negative timeout is an error. */
static int block_timeout(PyObject *block_o, PyObject *timeout_o, double *t)
{
	int block = truth(block_o, 1);
	if (block < 0)
		return -1;
	if (!block) {
		*t = SHMC_NOWAIT;
		return 0;
	}
	return shmc_py_timeout(timeout_o, NAN, "'timeout' must be a non-negative number", t);
}

static PyObject *put_impl(ProxyObject *self, PyObject *item, double t)
{
	shmc_value_t v;
	if (in(self, item, &v) < 0)
		return NULL;
	int rc = shmc_py_wait(put_fn, self->h, t, &v, SHMC_EQUEUEFULL);
	vfree(&v);
	if (rc == INT_MIN)
		return NULL;
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *queue_put(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	hot_method(self);
	if (nargs == 1 && kwnames == NULL)
		return put_impl(self, args[0], SHMC_FOREVER);
	static const char *const names[] = {"item", "block", "timeout"};
	PyObject *a[3];
	double t;
	if (parse("put", args, nargs, kwnames, names, 3, 1, a) < 0 ||
	    block_timeout(a[1], a[2], &t) < 0)
		return NULL;
	return put_impl(self, a[0], t);
}

static PyObject *queue_put_nowait(ProxyObject *self, PyObject *item)
{
	return put_impl(self, item, SHMC_NOWAIT);
}

static PyObject *get_impl(ProxyObject *self, double t)
{
	shmc_value_t v;
	int rc = shmc_py_wait(get_fn, self->h, t, &v, SHMC_EQUEUEEMPTY);
	if (rc == INT_MIN)
		return NULL;
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *queue_get(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	hot_method(self);
	if (nargs == 0 && kwnames == NULL)
		return get_impl(self, SHMC_FOREVER);
	static const char *const names[] = {"block", "timeout"};
	PyObject *a[2];
	double t;
	if (parse("get", args, nargs, kwnames, names, 2, 0, a) < 0 ||
	    block_timeout(a[0], a[1], &t) < 0)
		return NULL;
	return get_impl(self, t);
}

static PyObject *queue_get_nowait(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return get_impl(self, SHMC_NOWAIT);
}

static PyObject *queue_qsize(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int64_t n = shmc_queue_qsize(self->h);
	return n < 0 ? err(self, (int)n) : PyLong_FromLongLong(n);
}

static PyObject *queue_empty(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_queue_empty(self->h);
	return rc < 0 ? err(self, rc) : PyBool_FromLong(rc);
}

static PyObject *queue_full(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_queue_full(self->h);
	return rc < 0 ? err(self, rc) : PyBool_FromLong(rc);
}

static PyObject *queue_task_done(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_queue_task_done(self->h);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *queue_join(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_py_wait(join_fn, self->h, SHMC_FOREVER, NULL, -ETIMEDOUT);
	if (rc == INT_MIN)
		return NULL;
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyMethodDef queue_methods[] = {
	{"put", (PyCFunction)(void (*)(void))queue_put, METH_FASTCALL | METH_KEYWORDS,
	 "put(item, block=True, timeout=None)"},
	{"put_nowait", (PyCFunction)queue_put_nowait, METH_O, NULL},
	{"get", (PyCFunction)(void (*)(void))queue_get, METH_FASTCALL | METH_KEYWORDS,
	 "get(block=True, timeout=None) -> item"},
	{"get_nowait", (PyCFunction)queue_get_nowait, METH_NOARGS, NULL},
	{"qsize", (PyCFunction)queue_qsize, METH_NOARGS, NULL},
	{"empty", (PyCFunction)queue_empty, METH_NOARGS, NULL},
	{"full", (PyCFunction)queue_full, METH_NOARGS, NULL},
	{"task_done", (PyCFunction)queue_task_done, METH_NOARGS, NULL},
	{"join", (PyCFunction)queue_join, METH_NOARGS, NULL},
	{NULL, NULL, 0, NULL}};

static PyType_Slot queue_slots[] = {
	{Py_tp_str, sync_str},
	{Py_tp_methods, queue_methods},
	{0, NULL}};

static PyType_Spec queue_spec = {
	.name = "shmc.AutoProxy[Queue]",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS,
	.slots = queue_slots,
};

static PyType_Spec jqueue_spec = {
	.name = "shmc.AutoProxy[JoinableQueue]",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS,
	.slots = queue_slots,
};

/* Types --------------------------------------------------------------------------------- */

static PyTypeObject *make(PyObject *m, PyType_Spec *spec, PyTypeObject *base)
{
	PyTypeObject *t = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, (PyObject *)base);
	if (t == NULL)
		return NULL;
	const char *dot = strrchr(spec->name, '.');
	if (PyModule_AddObjectRef(m, dot + 1, (PyObject *)t) < 0) {
		Py_DECREF(t);
		return NULL;
	}
	return t;
}

int shmc_py_sync_types(PyObject *m, shmc_state *st)
{
	if ((st->types[P_ACQUIRER] = make(m, &acq_spec, st->base_type)) == NULL ||
	    (st->types[P_CONDITION] = make(m, &cond_spec, st->types[P_ACQUIRER])) == NULL ||
	    (st->types[P_EVENT] = make(m, &event_spec, st->base_type)) == NULL ||
	    (st->types[P_BARRIER] = make(m, &barrier_spec, st->base_type)) == NULL ||
	    (st->types[P_QUEUE] = make(m, &queue_spec, st->base_type)) == NULL ||
	    (st->types[P_JQUEUE] = make(m, &jqueue_spec, st->base_type)) == NULL)
		return -1;
	return 0;
}
