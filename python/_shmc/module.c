/*
 * module.c -- shmc._shmc: the module, its state and errors, and the Arena
 * type: one attachment to a named arena, which creates managed objects,
 * keeps the directory of named objects, and is what every proxy of it
 * refers to. The arena is closed when the Arena object goes, which is
 * after its last proxy (each holds a reference to it).
 *
 * Unpickling a proxy (_rebuild) finds the Arena of that path already open
 * in this process (a registry of weak references, which a forked child
 * inherits with its attachments) or opens it, then turns the object's
 * identity back into a handle (shmc_obj_from_ident).
 */
#include "shmcmodule.h"

#include <errno.h>
#include <math.h>
#include <time.h>

#include <structmember.h>

static PyModuleDef shmc_module;

static shmc_state *state_of_module(PyObject *m)
{
	return (shmc_state *)PyModule_GetState(m);
}

/* Errors ---------------------------------------------------------------- */

PyObject *shmc_py_error(shmc_state *st, int rc)
{
	const char *msg = shmc_strerror(rc);
	PyObject *exc;
	switch (rc) {
	case SHMC_EFULL:
		exc = st->ArenaFullError;
		break;
	case SHMC_ECORRUPT:
		exc = st->CorruptError;
		break;
	case SHMC_EINDEX:
		exc = PyExc_IndexError;
		break;
	case SHMC_EKEY:
		exc = PyExc_KeyError;
		break;
	case SHMC_EATTR:
		exc = PyExc_AttributeError;
		break;
	case SHMC_ETYPE:
	case SHMC_EUNHASHABLE:
		exc = PyExc_TypeError;
		break;
	case SHMC_EDEPTH:
		exc = PyExc_RecursionError;
		break;
	case SHMC_EBOUND:
		PyErr_SetString(PyExc_ValueError, "Semaphore released too many times");
		return NULL;
	case SHMC_ENOTASK:
		PyErr_SetString(PyExc_ValueError, "task_done() called too many times");
		return NULL;
	case SHMC_EBROKEN:
		PyErr_SetNone(st->BrokenBarrierError);
		return NULL;
	case SHMC_EQUEUEEMPTY:
		PyErr_SetNone(st->Empty);
		return NULL;
	case SHMC_EQUEUEFULL:
		PyErr_SetNone(st->Full);
		return NULL;
	case -ENOMEM:
		return PyErr_NoMemory();
	case -ERANGE:
	case -EOVERFLOW:
		exc = PyExc_OverflowError;
		break;
	case -EINVAL:
		exc = PyExc_ValueError;
		break;
	case -EILSEQ:
		exc = PyExc_UnicodeError;
		break;
	default:
		if (rc < 0 && rc > -4096) {
			errno = -rc;
			return PyErr_SetFromErrno(PyExc_OSError);
		}
		exc = st->Error;
	}
	PyObject *args = Py_BuildValue("(si)", msg, rc);
	if (args) {
		PyErr_SetObject(exc, exc == st->Error || exc == st->ArenaFullError ||
				exc == st->CorruptError ? args : PyTuple_GET_ITEM(args, 0));
		Py_DECREF(args);
	}
	return NULL;
}

int shmc_py_error_int(shmc_state *st, int rc)
{
	shmc_py_error(st, rc);
	return -1;
}

int shmc_py_timeout(PyObject *o, double neg_as, const char *msg, double *out)
{
	if (o == NULL || o == Py_None) {
		*out = SHMC_FOREVER;
		return 0;
	}
	double t = PyFloat_AsDouble(o);
	if (t == -1.0 && PyErr_Occurred())
		return -1;
	if (isnan(t)) {
		PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
		return -1;
	}
	if (t < 0) {
		if (isnan(neg_as)) {
			PyErr_SetString(PyExc_ValueError, msg);
			return -1;
		}
		t = neg_as;
	}
	*out = t;
	return 0;
}

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Signals are looked at between slices of a wait: this long at most. */
#define SLICE 0.1

int shmc_py_wait(shmc_py_wait_fn fn, shmc_obj_t *h, double timeout, void *ctx, int wait_rc)
{
	int rc = fn(h, SHMC_NOWAIT, ctx);
	if (rc != wait_rc || timeout == 0)
		return rc;
	bool forever = timeout < 0 || isinf(timeout) || timeout > 1e9;
	double end = forever ? 0 : monotonic() + timeout;
	for (;;) {
		double slice = SLICE;
		if (!forever) {
			double left = end - monotonic();
			if (left <= 0)
				return wait_rc;
			if (left < slice)
				slice = left;
		}
		Py_BEGIN_ALLOW_THREADS
		rc = fn(h, slice, ctx);
		Py_END_ALLOW_THREADS
		if (rc != wait_rc)
			return rc;
		if (PyErr_CheckSignals() < 0)
			return INT_MIN;
	}
}

/* The Arena type --------------------------------------------------------- */

static int register_arena(shmc_state *st, ArenaObject *a)
{
	PyObject *ref = PyWeakref_NewRef((PyObject *)a, NULL);
	if (ref == NULL)
		return -1;
	int rc = PyDict_SetItem(st->arenas, a->path, ref);
	Py_DECREF(ref);
	return rc;
}

/* Arena(name, create=False, capacity=0): attach to (or create) the named
 * arena NAME (a file under /dev/shm, or a path). */
static PyObject *arena_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"name", "create", "capacity", NULL};
	const char *name;
	int create = 0;
	Py_ssize_t capacity = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "s|pn:Arena", kwlist, &name, &create,
					 &capacity))
		return NULL;
	shmc_state *st = PyType_GetModuleState(type);
	if (st == NULL)
		return NULL;
	if (capacity < 0) {
		PyErr_SetString(PyExc_ValueError, "capacity must be >= 0");
		return NULL;
	}
	ArenaObject *self = (ArenaObject *)type->tp_alloc(type, 0);
	if (self == NULL)
		return NULL;
	self->st = st;
	shmc_arena_t *a = NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	if (create) {
		shmc_arena_options_t o = {.capacity = (size_t)capacity};
		rc = shmc_arena_create(name, &o, &a);
	} else {
		rc = shmc_arena_open(name, &a);
	}
	Py_END_ALLOW_THREADS
	if (rc) {
		Py_DECREF(self);
		if (rc == -EEXIST || rc == -ENOENT) {
			errno = -rc;
			return PyErr_SetFromErrnoWithFilename(PyExc_OSError, name);
		}
		return shmc_py_error(st, rc);
	}
	self->arena = a;
	const char *path;
	if ((rc = shmc_arena_name(a, &path)) != 0) {
		Py_DECREF(self);
		return shmc_py_error(st, rc);
	}
	self->path = PyUnicode_DecodeFSDefault(path);
	if (self->path == NULL || register_arena(st, self) < 0) {
		Py_DECREF(self);
		return NULL;
	}
	return (PyObject *)self;
}

static void arena_dealloc(ArenaObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_GC_UnTrack(self);
	if (self->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)self);
	if (self->arena)
		shmc_arena_close(self->arena);
	Py_XDECREF(self->path);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static int arena_traverse(ArenaObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	return 0;
}

/* The Arena object for PATH: the one open in this process, or a new
 * attachment. A new reference. */
static PyObject *attach_path(shmc_state *st, PyObject *path)
{
	PyObject *ref = PyDict_GetItemWithError(st->arenas, path);
	if (ref) {
		PyObject *a = PyWeakref_GetObject(ref);
		if (a != Py_None) {
			Py_INCREF(a);
			return a;
		}
	} else if (PyErr_Occurred()) {
		return NULL;
	}
	return PyObject_CallFunctionObjArgs((PyObject *)st->arena_type, path, NULL);
}

static PyObject *attach(shmc_state *st, PyObject *name)
{
	/* One attachment per arena: a name means its file under /dev/shm, as
	 * shmc_arena_open() reads it, so a name and its path find the same. */
	PyObject *path = PyUnicode_FindChar(name, '/', 0, PyUnicode_GET_LENGTH(name), 1) == -1
				 ? PyUnicode_FromFormat("/dev/shm/%U", name)
				 : Py_NewRef(name);
	if (path == NULL)
		return NULL;
	PyObject *a = attach_path(st, path);
	Py_DECREF(path);
	return a;
}

static PyObject *made(ArenaObject *self, int rc, shmc_obj_t *h, const char *typeid)
{
	if (rc)
		return shmc_py_error(self->st, rc);
	return shmc_py_proxy_new(self, h, typeid);
}

static PyObject *arena_Namespace(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_obj_t *h;
	int rc = shmc_namespace_new(self->arena, &h);
	return made(self, rc, h, NULL);
}

/* A plain list or dict value from a Python object of that exact type
 * (the Python layer turns other iterables into one first). */
static int plain(ArenaObject *self, PyObject *o, shmc_value_t *v)
{
	return shmc_py_to_value(self->st, self, o, v, 0);
}

static PyObject *arena_list(ArenaObject *self, PyObject *items)
{
	if (!PyList_CheckExact(items)) {
		PyErr_SetString(PyExc_TypeError, "Arena.list() takes a list");
		return NULL;
	}
	shmc_value_t v;
	shmc_obj_t *h = NULL;
	if (plain(self, items, &v) < 0)
		return NULL;
	int rc = v.type == SHMC_LIST ? shmc_list_new_from(self->arena, v, &h) : SHMC_ETYPE;
	shmc_value_free(&v);
	return made(self, rc, h, NULL);
}

static PyObject *arena_dict(ArenaObject *self, PyObject *items)
{
	if (!PyDict_CheckExact(items)) {
		PyErr_SetString(PyExc_TypeError, "Arena.dict() takes a dict");
		return NULL;
	}
	shmc_value_t v;
	shmc_obj_t *h = NULL;
	if (plain(self, items, &v) < 0)
		return NULL;
	int rc = v.type == SHMC_DICT ? shmc_dict_new_from(self->arena, v, &h) : SHMC_ETYPE;
	shmc_value_free(&v);
	return made(self, rc, h, NULL);
}

/* The Manager's Value: any value, under a typecode that is only a label
 * (a str here). */
static PyObject *arena_Value(ArenaObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("Value", nargs, 2, 2))
		return NULL;
	if (!PyUnicode_Check(args[0])) {
		PyErr_Format(PyExc_TypeError, "a Value's typecode must be a str, not %.200s",
			     Py_TYPE(args[0])->tp_name);
		return NULL;
	}
	const char *tc = PyUnicode_AsUTF8(args[0]);
	shmc_value_t v;
	shmc_obj_t *h;
	if (tc == NULL || shmc_py_to_value(self->st, self, args[1], &v, 0) < 0)
		return NULL;
	int rc = shmc_mvalue_new(self->arena, tc, v, &h);
	shmc_value_free(&v);
	return made(self, rc, h, NULL);
}

static int typecode_of(PyObject *o, char *out)
{
	if (!PyUnicode_Check(o) || PyUnicode_GET_LENGTH(o) != 1) {
		PyErr_SetString(PyExc_TypeError, "array() argument 1 must be a unicode character");
		return -1;
	}
	Py_UCS4 c = PyUnicode_READ_CHAR(o, 0);
	if (c >= 128 || !strchr("bBhHiIlLqQfd", (int)c)) {
		PyErr_Format(PyExc_ValueError,
			     "bad typecode (must be b, B, h, H, i, I, l, L, q, Q, f or d)");
		return -1;
	}
	*out = (char)c;
	return 0;
}

static PyObject *arena_Array(ArenaObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	char tc;
	if (!shmc_py_nargs("Array", nargs, 2, 2) || typecode_of(args[0], &tc) < 0)
		return NULL;
	shmc_value_t init;
	shmc_obj_t *h;
	if (shmc_py_to_value(self->st, self, args[1], &init, 0) < 0)
		return NULL;
	int rc = shmc_array_new(self->arena, tc, init, &h);
	shmc_value_free(&init);
	if (rc == SHMC_ETYPE) {
		PyErr_SetString(PyExc_TypeError, "an array's items must be numbers of its type");
		return NULL;
	}
	if (rc == -ERANGE) {
		PyErr_SetString(PyExc_OverflowError, "a number does not fit the array's type");
		return NULL;
	}
	return made(self, rc, h, NULL);
}

static PyObject *arena_Lock(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_obj_t *h;
	int rc = shmc_lock_new(self->arena, &h);
	return made(self, rc, h, NULL);
}

static PyObject *arena_RLock(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_obj_t *h;
	int rc = shmc_rlock_new(self->arena, &h);
	return made(self, rc, h, NULL);
}

static PyObject *semaphore(ArenaObject *self, PyObject *arg, bool bounded)
{
	long long n = PyLong_AsLongLong(arg);
	if (n == -1 && PyErr_Occurred())
		return NULL;
	if (n < 0) {
		PyErr_SetString(PyExc_ValueError, "semaphore initial value must be >= 0");
		return NULL;
	}
	shmc_obj_t *h;
	int rc = bounded ? shmc_bounded_semaphore_new(self->arena, n, &h)
			 : shmc_semaphore_new(self->arena, n, &h);
	return made(self, rc, h, NULL);
}

static PyObject *arena_Semaphore(ArenaObject *self, PyObject *arg)
{
	return semaphore(self, arg, false);
}

static PyObject *arena_BoundedSemaphore(ArenaObject *self, PyObject *arg)
{
	return semaphore(self, arg, true);
}

static PyObject *arena_Condition(ArenaObject *self, PyObject *lock)
{
	shmc_obj_t *lh = NULL, *h;
	if (lock != Py_None) {
		if (!shmc_py_is_proxy(self->st, lock) ||
		    ((ProxyObject *)lock)->proxy != P_ACQUIRER) {
			PyErr_SetString(PyExc_TypeError,
					"Condition() takes a Lock or an RLock of the manager");
			return NULL;
		}
		lh = ((ProxyObject *)lock)->h;
	}
	int rc = shmc_condition_new(self->arena, lh, &h);
	if (rc == SHMC_EKIND) {
		PyErr_SetString(PyExc_TypeError, "Condition() takes a Lock or an RLock");
		return NULL;
	}
	if (rc == SHMC_EARENA) {
		PyErr_SetString(PyExc_ValueError, "the lock belongs to another manager");
		return NULL;
	}
	return made(self, rc, h, NULL);
}

static PyObject *arena_Event(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_obj_t *h;
	int rc = shmc_event_new(self->arena, &h);
	return made(self, rc, h, NULL);
}

/* Barrier(parties, action=None, timeout=None): ACTION, a callable, is the
 * barrier's action in this process and its forked children (a pickled
 * proxy carries it to others); a negative TIMEOUT times out at once, as in
 * threading. */
static PyObject *arena_Barrier(ArenaObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("Barrier", nargs, 1, 3))
		return NULL;
	long n = PyLong_AsLong(args[0]);
	if (n == -1 && PyErr_Occurred())
		return NULL;
	if (n < 1 || n >= (1L << 20)) {
		PyErr_SetString(PyExc_ValueError, "parties must be > 0 (and < 2**20)");
		return NULL;
	}
	PyObject *action = nargs > 1 && args[1] != Py_None ? args[1] : NULL;
	double t = SHMC_FOREVER;
	if (nargs > 2 && shmc_py_timeout(args[2], 0, NULL, &t) < 0)
		return NULL;
	shmc_obj_t *h;
	int rc = shmc_barrier_new_ex(self->arena, (unsigned)n,
				     action ? shmc_py_barrier_action : NULL, action, t, &h);
	shmc_py_barrier_prune(self);
	if (rc == 0 && action && shmc_py_barrier_keep(self, h, action, false) < 0) {
		shmc_obj_release(h);
		return NULL;
	}
	return made(self, rc, h, NULL);
}

/* Python's manager.Queue() is a queue.Queue, which has task_done() and
 * join() too: both are the C library's JoinableQueue. */
static PyObject *queue(ArenaObject *self, PyObject *arg, const char *typeid)
{
	long long n = PyLong_AsLongLong(arg);
	if (n == -1 && PyErr_Occurred())
		return NULL;
	shmc_obj_t *h;
	int rc = shmc_joinable_queue_new(self->arena, n, &h);
	return made(self, rc, h, typeid);
}

static PyObject *arena_Queue(ArenaObject *self, PyObject *arg)
{
	return queue(self, arg, "Queue");
}

static PyObject *arena_JoinableQueue(ArenaObject *self, PyObject *arg)
{
	return queue(self, arg, "JoinableQueue");
}

/* Named objects */

static PyObject *arena_find(ArenaObject *self, PyObject *arg)
{
	const char *name = PyUnicode_AsUTF8(arg);
	if (name == NULL)
		return NULL;
	shmc_obj_t *h;
	int rc = shmc_root_find(self->arena, name, &h);
	if (rc == SHMC_EKEY) {
		PyErr_SetObject(PyExc_KeyError, arg);
		return NULL;
	}
	return made(self, rc, h, NULL);
}

static PyObject *arena_setdefault(ArenaObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("setdefault", nargs, 2, 2))
		return NULL;
	const char *name = PyUnicode_AsUTF8(args[0]);
	if (name == NULL)
		return NULL;
	if (!shmc_py_is_proxy(self->st, args[1])) {
		PyErr_SetString(PyExc_TypeError, "only managed objects can be named");
		return NULL;
	}
	shmc_obj_t *h;
	int rc = shmc_root_setdefault(self->arena, name, ((ProxyObject *)args[1])->h, &h);
	return made(self, rc, h, ((ProxyObject *)args[1])->typeid);
}

static PyObject *arena_remove(ArenaObject *self, PyObject *arg)
{
	const char *name = PyUnicode_AsUTF8(arg);
	if (name == NULL)
		return NULL;
	int rc = shmc_root_remove(self->arena, name);
	if (rc == SHMC_EKEY) {
		PyErr_SetObject(PyExc_KeyError, arg);
		return NULL;
	}
	if (rc)
		return shmc_py_error(self->st, rc);
	Py_RETURN_NONE;
}

static PyObject *arena_names(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_value_t v;
	int rc = shmc_root_names(self->arena, &v);
	if (rc)
		return shmc_py_error(self->st, rc);
	PyObject *r = shmc_py_from_value(self->st, self, &v);
	shmc_value_free(&v);
	return r;
}

/* Housekeeping */

static int count_one(void *ctx, const shmc_object_info_t *o)
{
	(void)o;
	++*(Py_ssize_t *)ctx;
	return 0;
}

static PyObject *arena_count_objects(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	const char *path;
	shmc_view_t *view;
	Py_ssize_t n = 0;
	int rc = shmc_arena_name(self->arena, &path);
	for (int i = 0; rc == 0 && i < 4; i++) /* what dead processes held, too */
		rc = shmc_arena_reclaim(self->arena) < 0 ? SHMC_EHANDLE : 0;
	shmc_py_barrier_prune(self); /* with the proxies their actions held */
	if (rc || (rc = shmc_view_open(path, &view)) != 0)
		return shmc_py_error(self->st, rc);
	rc = shmc_view_objects(view, count_one, &n);
	shmc_view_close(view);
	if (rc)
		return shmc_py_error(self->st, rc);
	return PyLong_FromSsize_t(n);
}

static int describe_one(void *ctx, const shmc_object_info_t *o)
{
	PyObject *item = Py_BuildValue(
		"{s:K,s:K,s:s,s:s,s:K,s:L,s:z}", "offset", (unsigned long long)o->offset, "id",
		(unsigned long long)o->id, "typeid", o->typeid, "proxy", o->proxy, "refs",
		(unsigned long long)o->refs, "length", (long long)o->length, "name", o->name);
	if (item == NULL)
		return -1;
	int rc = PyList_Append((PyObject *)ctx, item);
	Py_DECREF(item);
	return rc;
}

static PyObject *arena_objects(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	const char *path;
	shmc_view_t *view;
	int rc = shmc_arena_name(self->arena, &path);
	if (rc == 0)
		shmc_arena_reclaim(self->arena);
	if (rc || (rc = shmc_view_open(path, &view)) != 0)
		return shmc_py_error(self->st, rc);
	PyObject *list = PyList_New(0);
	if (list == NULL) {
		shmc_view_close(view);
		return NULL;
	}
	rc = shmc_view_objects(view, describe_one, list);
	shmc_view_close(view);
	if (rc) {
		Py_DECREF(list);
		return rc == -1 ? NULL : shmc_py_error(self->st, rc);
	}
	return list;
}

static PyObject *arena_reclaim(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	int64_t n = shmc_arena_reclaim(self->arena);
	if (n < 0)
		return shmc_py_error(self->st, (int)n);
	return PyLong_FromLongLong(n);
}

static PyObject *arena_stats(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_arena_stats_t s;
	int rc = shmc_arena_stats(self->arena, &s);
	if (rc)
		return shmc_py_error(self->st, rc);
	return Py_BuildValue("{s:n,s:n,s:n,s:n,s:K,s:I,s:K}", "capacity", (Py_ssize_t)s.capacity,
			     "committed", (Py_ssize_t)s.committed, "used", (Py_ssize_t)s.used,
			     "bytes_in_use", (Py_ssize_t)s.bytes_in_use, "blocks_in_use",
			     (unsigned long long)s.blocks_in_use, "processes", s.processes,
			     "lock_recoveries", (unsigned long long)s.lock_recoveries);
}

static void check_line(void *ctx, const char *msg)
{
	PyObject *s = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
	if (s) {
		PyList_Append((PyObject *)ctx, s);
		Py_DECREF(s);
	}
	PyErr_Clear();
}

/* check(sweep=False) -> (errors, leaked blocks, [findings]): the arena
 * check, releasing what dead processes left; SWEEP also frees leaked blocks
 * (only while no other process is in the middle of an operation). */
static PyObject *arena_check(ArenaObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"sweep", NULL};
	int sweep = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|p:check", kwlist, &sweep))
		return NULL;
	PyObject *lines = PyList_New(0);
	if (lines == NULL)
		return NULL;
	shmc_check_report_t r;
	int rc = shmc_arena_check(self->arena, SHMC_CHECK_REAP | (sweep ? SHMC_CHECK_SWEEP : 0),
				  &r, check_line, lines);
	if (rc && rc != SHMC_ECORRUPT) {
		Py_DECREF(lines);
		return shmc_py_error(self->st, rc);
	}
	return Py_BuildValue("(KKN)", (unsigned long long)r.errors,
			     (unsigned long long)(sweep ? r.leaked_blocks - r.swept_blocks
							: r.leaked_blocks),
			     lines);
}

static PyObject *arena_unlink(ArenaObject *self, PyObject *Py_UNUSED(ignored))
{
	const char *path;
	int rc = shmc_arena_name(self->arena, &path);
	if (rc == 0)
		rc = shmc_arena_unlink(path);
	if (rc && rc != -ENOENT)
		return shmc_py_error(self->st, rc);
	Py_RETURN_NONE;
}

static PyObject *arena_get_path(ArenaObject *self, void *Py_UNUSED(closure))
{
	return Py_NewRef(self->path);
}

static PyObject *arena_repr(ArenaObject *self)
{
	return PyUnicode_FromFormat("<shmc.Arena %R>", self->path);
}

static PyMethodDef arena_methods[] = {
	{"Namespace", (PyCFunction)arena_Namespace, METH_NOARGS, "A new Namespace."},
	{"list", (PyCFunction)arena_list, METH_O, "A new list holding a plain list's items."},
	{"dict", (PyCFunction)arena_dict, METH_O, "A new dict holding a plain dict's entries."},
	{"Value", (PyCFunction)(void (*)(void))arena_Value, METH_FASTCALL, "Value(typecode, value)"},
	{"Array", (PyCFunction)(void (*)(void))arena_Array, METH_FASTCALL, "Array(typecode, init)"},
	{"Lock", (PyCFunction)arena_Lock, METH_NOARGS, NULL},
	{"RLock", (PyCFunction)arena_RLock, METH_NOARGS, NULL},
	{"Semaphore", (PyCFunction)arena_Semaphore, METH_O, NULL},
	{"BoundedSemaphore", (PyCFunction)arena_BoundedSemaphore, METH_O, NULL},
	{"Condition", (PyCFunction)arena_Condition, METH_O, NULL},
	{"Event", (PyCFunction)arena_Event, METH_NOARGS, NULL},
	{"Barrier", (PyCFunction)(void (*)(void))arena_Barrier, METH_FASTCALL, NULL},
	{"Queue", (PyCFunction)arena_Queue, METH_O, NULL},
	{"JoinableQueue", (PyCFunction)arena_JoinableQueue, METH_O, NULL},
	{"find", (PyCFunction)arena_find, METH_O, "The object named NAME (KeyError if none)."},
	{"setdefault", (PyCFunction)(void (*)(void))arena_setdefault, METH_FASTCALL,
	 "setdefault(name, obj): the object named NAME, naming OBJ so if none is."},
	{"remove", (PyCFunction)arena_remove, METH_O, "Remove a name."},
	{"names", (PyCFunction)arena_names, METH_NOARGS, "The names, sorted."},
	{"count_objects", (PyCFunction)arena_count_objects, METH_NOARGS,
	 "Managed objects alive (after reaping what dead processes held)."},
	{"objects", (PyCFunction)arena_objects, METH_NOARGS, "The objects alive, described."},
	{"reclaim", (PyCFunction)arena_reclaim, METH_NOARGS, NULL},
	{"stats", (PyCFunction)arena_stats, METH_NOARGS, NULL},
	{"check", (PyCFunction)(void (*)(void))arena_check, METH_VARARGS | METH_KEYWORDS,
	 "check(sweep=False) -> (errors, leaked blocks, [findings])"},
	{"unlink", (PyCFunction)arena_unlink, METH_NOARGS, "Remove the arena's name."},
	{NULL, NULL, 0, NULL}};

static PyGetSetDef arena_getset[] = {
	{"path", (getter)arena_get_path, NULL, "The arena file's path.", NULL},
	{NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef arena_members[] = {
	{"__weaklistoffset__", T_PYSSIZET, offsetof(ArenaObject, weakreflist), READONLY, NULL},
	{NULL, 0, 0, 0, NULL}};

static PyType_Slot arena_slots[] = {
	{Py_tp_new, arena_new},
	{Py_tp_dealloc, arena_dealloc},
	{Py_tp_traverse, arena_traverse},
	{Py_tp_repr, arena_repr},
	{Py_tp_methods, arena_methods},
	{Py_tp_getset, arena_getset},
	{Py_tp_members, arena_members},
	{Py_tp_doc, "An attachment to a named shmc arena."},
	{0, NULL}};

static PyType_Spec arena_spec = {
	.name = "shmc._shmc.Arena",
	.basicsize = sizeof(ArenaObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
	.slots = arena_slots,
};

/* Module functions ------------------------------------------------------- */

/* _rebuild(path, offset, serial, typeid, state): the proxy a pickle names. */
static PyObject *rebuild(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
	shmc_state *st = state_of_module(module);
	if (!shmc_py_nargs("_rebuild", nargs, 5, 5))
		return NULL;
	shmc_ident_t id;
	id.offset = PyLong_AsUnsignedLongLong(args[1]);
	if (PyErr_Occurred())
		return NULL;
	id.id = PyLong_AsUnsignedLongLong(args[2]);
	if (PyErr_Occurred())
		return NULL;
	const char *typeid = args[3] == Py_None ? NULL : PyUnicode_AsUTF8(args[3]);
	if (args[3] != Py_None && typeid == NULL)
		return NULL;
	ArenaObject *a = (ArenaObject *)attach(st, args[0]);
	if (a == NULL)
		return NULL;
	shmc_obj_t *h;
	int rc = shmc_obj_from_ident(a->arena, id, &h);
	if (rc) {
		Py_DECREF(a);
		if (rc == SHMC_EKEY)
			return PyErr_Format(PyExc_ReferenceError,
					    "the managed object at %#llx of %R no longer exists",
					    (unsigned long long)id.offset, args[0]);
		return shmc_py_error(st, rc);
	}
	PyObject *p = shmc_py_proxy_new(a, h, typeid);
	if (p && ((ProxyObject *)p)->proxy == P_BARRIER && PyCallable_Check(args[4]) &&
	    shmc_py_barrier_keep(a, ((ProxyObject *)p)->h, args[4], true) < 0)
		Py_CLEAR(p);
	Py_DECREF(a);
	if (p && args[4] != Py_None) {
		PyObject **dictptr = _PyObject_GetDictPtr(p);
		if (dictptr && PyDict_Check(args[4])) {
			if (*dictptr == NULL && (*dictptr = PyDict_New()) == NULL) {
				Py_DECREF(p);
				return NULL;
			}
			if (PyDict_Update(*dictptr, args[4]) < 0) {
				Py_DECREF(p);
				return NULL;
			}
		}
	}
	return p;
}

static PyObject *attach_fn(PyObject *module, PyObject *path)
{
	if (!PyUnicode_Check(path)) {
		PyErr_SetString(PyExc_TypeError, "attach() takes the arena's path or name");
		return NULL;
	}
	return attach(state_of_module(module), path);
}

static PyObject *set_pickle_helpers(PyObject *module, PyObject *const *args,
				    Py_ssize_t nargs)
{
	shmc_state *st = state_of_module(module);
	if (!shmc_py_nargs("_set_pickle_helpers", nargs, 2, 2))
		return NULL;
	Py_XSETREF(st->pickle_dumps, Py_NewRef(args[0]));
	Py_XSETREF(st->pickle_loads, Py_NewRef(args[1]));
	Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
	{"_set_pickle_helpers", (PyCFunction)(void (*)(void))set_pickle_helpers, METH_FASTCALL,
	 "Install dumps(obj, arena) -> (payload, proxies) and loads(payload, proxies)."},
	{"_rebuild", (PyCFunction)(void (*)(void))rebuild, METH_FASTCALL,
	 "Unpickle a proxy: _rebuild(path, offset, serial, typeid, state)."},
	{"attach", (PyCFunction)attach_fn, METH_O,
	 "The Arena of this path or name, open already in this process or opened now."},
	{NULL, NULL, 0, NULL}};

/* The module -------------------------------------------------------------- */

static PyObject *import_attr(const char *module, const char *name)
{
	PyObject *m = PyImport_ImportModule(module);
	if (m == NULL)
		return NULL;
	PyObject *a = PyObject_GetAttrString(m, name);
	Py_DECREF(m);
	return a;
}

static int add_exception(PyObject *m, PyObject **slot, const char *name, PyObject *base,
			 const char *doc)
{
	char full[96];
	snprintf(full, sizeof(full), "shmc.%s", name);
	*slot = PyErr_NewExceptionWithDoc(full, doc, base, NULL);
	if (*slot == NULL)
		return -1;
	return PyModule_AddObjectRef(m, name, *slot);
}

static int module_exec(PyObject *m)
{
	shmc_state *st = state_of_module(m);
	if ((st->arenas = PyDict_New()) == NULL || (st->barrier_actions = PyDict_New()) == NULL)
		return -1;
	st->marker = PyBytes_FromStringAndSize("\0shmc:pickle\0", 13);
	if (st->marker == NULL)
		return -1;
	if ((st->Empty = import_attr("queue", "Empty")) == NULL ||
	    (st->Full = import_attr("queue", "Full")) == NULL ||
	    (st->BrokenBarrierError = import_attr("threading", "BrokenBarrierError")) == NULL)
		return -1;
	if (add_exception(m, &st->Error, "Error", NULL,
			  "An error of the shmc library: args are (message, code).") < 0)
		return -1;
	PyObject *bases = PyTuple_Pack(2, st->Error, PyExc_MemoryError);
	if (bases == NULL)
		return -1;
	int rc = add_exception(m, &st->ArenaFullError, "ArenaFullError", bases,
			       "The arena has no memory left (SHMC_EFULL).");
	Py_DECREF(bases);
	if (rc < 0 ||
	    add_exception(m, &st->CorruptError, "CorruptError", st->Error,
			  "The arena failed validation (SHMC_ECORRUPT).") < 0 ||
	    add_exception(m, &st->OwnerDeadWarning, "OwnerDeadWarning", PyExc_RuntimeWarning,
			  "Acquired a lock or a permit whose holder died: what it "
			  "protected may be half changed.") < 0)
		return -1;
	st->arena_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &arena_spec, NULL);
	if (st->arena_type == NULL ||
	    PyModule_AddObjectRef(m, "Arena", (PyObject *)st->arena_type) < 0)
		return -1;
	if (shmc_py_proxy_types(m, st) < 0 || shmc_py_sync_types(m, st) < 0 ||
	    PyModule_AddFunctions(m, shmc_py_atomic_methods) < 0)
		return -1;
	st->rebuild = PyObject_GetAttrString(m, "_rebuild");
	if (st->rebuild == NULL)
		return -1;
	return PyModule_AddStringConstant(m, "LIBRARY_VERSION", shmc_version());
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
	shmc_state *st = state_of_module(m);
	Py_VISIT(st->arena_type);
	Py_VISIT(st->base_type);
	for (int i = 0; i < P_NTYPES; i++)
		Py_VISIT(st->types[i]);
	Py_VISIT(st->dictiter_type);
	Py_VISIT(st->arenas);
	Py_VISIT(st->rebuild);
	Py_VISIT(st->pickle_dumps);
	Py_VISIT(st->pickle_loads);
	Py_VISIT(st->Error);
	Py_VISIT(st->ArenaFullError);
	Py_VISIT(st->CorruptError);
	Py_VISIT(st->OwnerDeadWarning);
	Py_VISIT(st->Empty);
	Py_VISIT(st->Full);
	Py_VISIT(st->BrokenBarrierError);
	Py_VISIT(st->marker);
	Py_VISIT(st->barrier_actions);
	return 0;
}

static int module_clear(PyObject *m)
{
	shmc_state *st = state_of_module(m);
	Py_CLEAR(st->arena_type);
	Py_CLEAR(st->base_type);
	for (int i = 0; i < P_NTYPES; i++)
		Py_CLEAR(st->types[i]);
	Py_CLEAR(st->dictiter_type);
	Py_CLEAR(st->arenas);
	Py_CLEAR(st->rebuild);
	Py_CLEAR(st->pickle_dumps);
	Py_CLEAR(st->pickle_loads);
	Py_CLEAR(st->Error);
	Py_CLEAR(st->ArenaFullError);
	Py_CLEAR(st->CorruptError);
	Py_CLEAR(st->OwnerDeadWarning);
	Py_CLEAR(st->Empty);
	Py_CLEAR(st->Full);
	Py_CLEAR(st->BrokenBarrierError);
	Py_CLEAR(st->marker);
	Py_CLEAR(st->barrier_actions);
	return 0;
}

static void module_free(void *m)
{
	module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
	{Py_mod_exec, module_exec},
	{0, NULL}};

static PyModuleDef shmc_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "shmc._shmc",
	.m_doc = "The C part of shmc's Python binding: managed objects in shared memory.",
	.m_size = sizeof(shmc_state),
	.m_methods = module_methods,
	.m_slots = module_slots,
	.m_traverse = module_traverse,
	.m_clear = module_clear,
	.m_free = module_free,
};

PyMODINIT_FUNC PyInit__shmc(void);
PyMODINIT_FUNC PyInit__shmc(void)
{
	return PyModuleDef_Init(&shmc_module);
}
