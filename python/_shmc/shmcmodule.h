/*
 * shmcmodule.h -- what the files of the extension module shmc._shmc share.
 *
 *   module.c     the module: its state, the Arena type (an attachment, the
 *                objects it creates, named objects), errors, unpickling
 *   convert.c    Python values <-> shmc_value_t, and pickled values
 *   proxy.c      the proxy base and the container proxies: Namespace,
 *                list, dict, Value, Array
 *   sync.c       Lock, RLock, Semaphore, BoundedSemaphore, Condition,
 *                Event, Barrier, Queue, JoinableQueue
 *   atomic.c     shmc.add() and shmc.cas(): atomic updates of one item
 *
 * Ownership: a proxy owns one shmc handle (released in its dealloc) and a
 * strong reference to its Arena, so an arena is closed only once no proxy
 * of it is left. Every type is a heap type of this module; each Arena keeps
 * a borrowed pointer to the module state, which lives as long as the types
 * (each holds its module) and hence as long as any instance.
 */
#ifndef SHMC_PYMODULE_H
#define SHMC_PYMODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <shmc.h>

/* Proxies, by what Python calls them. */
enum shmc_py_proxy {
	P_NAMESPACE,
	P_LIST,
	P_DICT,
	P_VALUE,
	P_ARRAY,
	P_ACQUIRER,
	P_CONDITION,
	P_EVENT,
	P_BARRIER,
	P_QUEUE,
	P_JQUEUE,
	P_NTYPES
};

typedef struct {
	PyTypeObject *arena_type;
	PyTypeObject *base_type; /* BaseProxy */
	PyTypeObject *types[P_NTYPES];
	PyTypeObject *dictiter_type;
	PyObject *arenas;     /* path -> weakref to Arena, to unpickle */
	PyObject *rebuild;    /* _rebuild, named by every pickled proxy */
	/* Installed by the Python layer (shmc/_pickle.py):
	 * dumps(obj, arena) -> (payload, proxies); loads(payload, proxies) */
	PyObject *pickle_dumps, *pickle_loads;
	PyObject *Error, *ArenaFullError, *CorruptError, *OwnerDeadWarning;
	PyObject *Empty, *Full, *BrokenBarrierError;
	PyObject *marker;     /* bytes tagging a pickled value */
	/* (path, offset, serial) -> the callable that is the action of that
	 * barrier in this process: kept alive here, since the C library holds
	 * it as a bare pointer (its barrier's action context). */
	PyObject *barrier_actions;
} shmc_state;

typedef struct {
	PyObject_HEAD
	shmc_arena_t *arena;
	PyObject *path; /* str */
	shmc_state *st;
	PyObject *weakreflist;
} ArenaObject;

typedef struct {
	PyObject_HEAD
	shmc_obj_t *h;
	ArenaObject *arena;
	PyObject *dict;
	PyObject *weakreflist;
	int proxy;      /* enum shmc_py_proxy */
	shmc_kind_t kind; /* the object's kind, which never changes */
	const char *typeid;
} ProxyObject;

/* module.c ------------------------------------------------------------- */

/* Set the Python exception for shmc code RC and return NULL. */
PyObject *shmc_py_error(shmc_state *st, int rc);
/* The same, returning -1 (for slots that return int). */
int shmc_py_error_int(shmc_state *st, int rc);
/* A timeout in seconds from a Python number or None (None: forever); a
 * negative number is NEG_AS (a value, or NAN to raise ValueError MSG).
 * @return 0, -1 with an exception set */
int shmc_py_timeout(PyObject *o, double neg_as, const char *msg, double *out);

/* proxy.c -------------------------------------------------------------- */

/* A new proxy of the right type for handle H of ARENA, taking H over (on
 * failure too). TYPEID may name the proxy where the kind alone does not
 * ("Queue" or "JoinableQueue"), or be NULL. */
PyObject *shmc_py_proxy_new(ArenaObject *arena, shmc_obj_t *h, const char *typeid);
int shmc_py_proxy_types(PyObject *module, shmc_state *st);
static inline int shmc_py_is_proxy(shmc_state *st, PyObject *o)
{
	return PyObject_TypeCheck(o, st->base_type);
}

/* sync.c --------------------------------------------------------------- */

int shmc_py_sync_types(PyObject *module, shmc_state *st);
/* A barrier's action as the C library calls it: CTX, a Python callable,
 * called in the thread that trips the barrier (which does not hold the
 * GIL then); an exception it raises is raised by that thread's wait(). */
int shmc_py_barrier_action(void *ctx);
/* Keep ACTION (a callable) alive as barrier H's action in this process;
 * with SET, also give it to the C library (shmc_barrier_set_action), unless
 * this process has one for H already (made it, forked from its maker, or
 * unpickled it before). @return 0, -1 with an exception set */
int shmc_py_barrier_keep(ArenaObject *arena, shmc_obj_t *h, PyObject *action, bool set);
/* Release barrier proxy P's handle, then drop the actions of ARENA's
 * barriers that no longer exist (an action may hold proxies, which must
 * not outlive it). */
void shmc_py_barrier_release(ProxyObject *p);
/* Drop the actions of ARENA's barriers that no longer exist (freed by
 * this process or another). Keeps the exception being raised, if any. */
void shmc_py_barrier_prune(ArenaObject *arena);

/* atomic.c: the module's add() and cas(). */
extern PyMethodDef shmc_py_atomic_methods[];

/* convert.c ------------------------------------------------------------ */

/* Python object O as a value to store in ARENA (NULL: no arena, as for a
 * key). *OUT is a view borrowing from O or an owned value: free it with
 * shmc_value_free() once stored. Values shmc does not hold natively are
 * pickled. KEY: O is a dict key (hashed first, as Python does).
 * @return 0, -1 with an exception set */
int shmc_py_to_value(shmc_state *st, ArenaObject *arena, PyObject *o, shmc_value_t *out,
		     int key);
/* *V as a new Python object; the handles inside are taken over by the
 * proxies made for them (their places in *V become None). The caller still
 * frees *V. @return a new reference, or NULL with an exception set */
PyObject *shmc_py_from_value(shmc_state *st, ArenaObject *arena, shmc_value_t *v);

/* Blocking calls ------------------------------------------------------- */

/* Call FN(H, timeout, CTX), first without waiting while holding the GIL,
 * then, while it answers WAIT_RC, in slices of at most 100 ms without the
 * GIL, checking for signals between slices (so that Ctrl-C interrupts a
 * wait), until TIMEOUT (SHMC_FOREVER: none) has passed.
 * @return FN's last answer, or INT_MIN with an exception set (a signal
 *         handler raised) */
typedef int (*shmc_py_wait_fn)(shmc_obj_t *h, double timeout, void *ctx);
int shmc_py_wait(shmc_py_wait_fn fn, shmc_obj_t *h, double timeout, void *ctx, int wait_rc);

/* Helpers of the proxies (proxy.c, sync.c) ---------------------------- */

/* shmc_value_free(), without the call for what owns nothing (scalars,
 * views): the hot paths store and read mostly those. */
static inline void vfree(shmc_value_t *v)
{
	if (v->owned)
		shmc_value_free(v);
}

/* CPython 3.11 specialises `proxy.method(...)` (LOAD_METHOD_WITH_DICT) for
 * an instance with a tp_dictoffset only once its __dict__ exists; until then
 * every call looks the method up the generic way (about 5 ns of a 40 ns
 * ls.append). The hot methods make the (empty) dict on their first call.
 * 3.12 specialises the other case (no dict yet), so there this is nothing. */
static inline void hot_method(ProxyObject *p)
{
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
	if (__builtin_expect(p->dict == NULL, 0) && (p->dict = PyDict_New()) == NULL)
		PyErr_Clear(); /* only an optimisation */
#else
	(void)p;
#endif
}

static inline shmc_state *ST(ProxyObject *p)
{
	return p->arena->st;
}

static inline PyObject *err(ProxyObject *p, int rc)
{
	return shmc_py_error(ST(p), rc);
}

/* KeyError(key), with a tuple key wrapped as Python does. */
static inline PyObject *key_error(PyObject *key)
{
	PyObject *t = PyTuple_Pack(1, key);
	if (t) {
		PyErr_SetObject(PyExc_KeyError, t);
		Py_DECREF(t);
	}
	return NULL;
}

/* A value read out of the arena as a Python object; frees V. */
static inline PyObject *out(ProxyObject *p, shmc_value_t *v)
{
	if (v->type == SHMC_INT)
		return PyLong_FromLongLong(v->i);
	PyObject *r = shmc_py_from_value(ST(p), p->arena, v);
	vfree(v);
	return r;
}

/* O as a value to store through P. */
static inline int in(ProxyObject *p, PyObject *o, shmc_value_t *v)
{
	if (PyLong_CheckExact(o)) {
		int overflow;
		long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
		if (!overflow) {
			*v = shmc_int(i);
			return 0;
		}
	}
	return shmc_py_to_value(ST(p), p->arena, o, v, 0);
}

static inline int in_key(ProxyObject *p, PyObject *o, shmc_value_t *v)
{
	if (PyLong_CheckExact(o)) {
		int overflow;
		long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
		if (!overflow) {
			*v = shmc_int(i);
			return 0;
		}
	}
	return shmc_py_to_value(ST(p), p->arena, o, v, 1);
}

/* Like the private _PyArg_CheckPositional, which newer Pythons hide. */
static inline int shmc_py_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t min,
				Py_ssize_t max)
{
	if (nargs >= min && nargs <= max)
		return 1;
	if (min == max)
		PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd argument%s (%zd given)",
			     name, min, min == 1 ? "" : "s", nargs);
	else
		PyErr_Format(PyExc_TypeError, "%s() takes from %zd to %zd arguments (%zd given)",
			     name, min, max, nargs);
	return 0;
}

#endif
