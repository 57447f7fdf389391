/*
 * proxy.c -- the proxies of managed containers: BaseProxy (a handle, its
 * Arena, repr, pickling) and NamespaceProxy, ListProxy, DictProxy,
 * ValueProxy, ArrayProxy, with the Manager's methods and printed forms.
 *
 * Each operation is one call of the C library, which makes it atomic
 * against other processes, as one call to the Manager's server is. The hot
 * ones (d[k], d[k] = v, ns.x, ns.x = v, ls[i], ls.append) go through type
 * slots or METH_O/METH_FASTCALL and convert scalars inline, without the
 * GIL being released (they never block).
 *
 * list.sort() with a key function (or items stored pickled, whose order
 * is Python's) computes the order in Python, outside the list's lock,
 * and has the C library apply it only if the list is still what the keys
 * were computed from (list_sort, below).
 */
#include "shmcmodule.h"

#include <structmember.h>

/* The base proxy -------------------------------------------------------------- */

static const struct {
	const char *typeid;
} proxy_info[P_NTYPES] = {
	[P_NAMESPACE] = {"Namespace"}, [P_LIST] = {"list"},    [P_DICT] = {"dict"},
	[P_VALUE] = {"Value"},         [P_ARRAY] = {"Array"},  [P_ACQUIRER] = {"Lock"},
	[P_CONDITION] = {"Condition"}, [P_EVENT] = {"Event"},  [P_BARRIER] = {"Barrier"},
	[P_QUEUE] = {"Queue"},         [P_JQUEUE] = {"JoinableQueue"},
};

PyObject *shmc_py_proxy_new(ArenaObject *arena, shmc_obj_t *h, const char *typeid)
{
	shmc_state *st = arena->st;
	int p;
	const char *tid = NULL;
	shmc_kind_t kind = shmc_obj_kind(h);
	switch (kind) {
	case SHMC_KIND_NAMESPACE:
		p = P_NAMESPACE;
		break;
	case SHMC_KIND_MVALUE:
		p = P_VALUE;
		break;
	case SHMC_KIND_LIST:
		p = P_LIST;
		break;
	case SHMC_KIND_DICT:
		p = P_DICT;
		break;
	case SHMC_KIND_ARRAY:
		p = P_ARRAY;
		break;
	case SHMC_KIND_LOCK:
		p = P_ACQUIRER;
		tid = "Lock";
		break;
	case SHMC_KIND_RLOCK:
		p = P_ACQUIRER;
		tid = "RLock";
		break;
	case SHMC_KIND_SEMAPHORE:
		p = P_ACQUIRER;
		tid = "Semaphore";
		break;
	case SHMC_KIND_BOUNDED_SEMAPHORE:
		p = P_ACQUIRER;
		tid = "BoundedSemaphore";
		break;
	case SHMC_KIND_CONDITION:
		p = P_CONDITION;
		break;
	case SHMC_KIND_EVENT:
		p = P_EVENT;
		break;
	case SHMC_KIND_BARRIER:
		p = P_BARRIER;
		break;
	case SHMC_KIND_QUEUE:
		p = P_QUEUE;
		break;
	case SHMC_KIND_JOINABLE_QUEUE:
		/* Both of Python's queues are joinable ones here. */
		p = typeid && strcmp(typeid, "Queue") == 0 ? P_QUEUE : P_JQUEUE;
		break;
	default:
		shmc_obj_release(h);
		PyErr_Format(st->Error, "shmc: no proxy for objects of kind %d", (int)kind);
		return NULL;
	}
	PyTypeObject *type = st->types[p];
	ProxyObject *self = (ProxyObject *)type->tp_alloc(type, 0);
	if (self == NULL) {
		shmc_obj_release(h);
		return NULL;
	}
	self->h = h;
	self->arena = (ArenaObject *)Py_NewRef(arena);
	self->proxy = p;
	self->kind = kind;
	self->typeid = tid ? tid : proxy_info[p].typeid;
	return (PyObject *)self;
}

static void proxy_dealloc(ProxyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	PyObject_GC_UnTrack(self);
	if (self->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)self);
	Py_CLEAR(self->dict);
	if (self->proxy == P_BARRIER)
		shmc_py_barrier_release(self);
	else
		shmc_obj_release(self->h);
	Py_XDECREF(self->arena);
	tp->tp_free(self);
	Py_DECREF(tp);
}

static int proxy_traverse(ProxyObject *self, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(self));
	Py_VISIT(self->dict);
	return 0;
}

static int proxy_clear(ProxyObject *self)
{
	Py_CLEAR(self->dict);
	return 0;
}

static PyObject *proxy_repr(ProxyObject *self)
{
	shmc_ident_t id;
	int rc = shmc_obj_ident(self->h, &id);
	if (rc)
		return err(self, rc);
	PyObject *name = PyType_GetName(Py_TYPE(self));
	if (name == NULL)
		return NULL;
	char addr[32];
	snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)id.offset);
	PyObject *r = PyUnicode_FromFormat("<%U object, typeid '%s' at %s>", name, self->typeid,
					   addr);
	Py_DECREF(name);
	return r;
}

/* Pickled as the arena's path and the object's identity, which any
 * process can turn back into a proxy (module.c: _rebuild); the proxy's
 * own attributes travel along. */
static PyObject *proxy_reduce(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_ident_t id;
	int rc = shmc_obj_ident(self->h, &id);
	if (rc)
		return err(self, rc);
	/* A barrier's action in this process travels with it; a namespace's
	 * private ('_') attributes belong to this proxy, as in Python. */
	PyObject *state = Py_None;
	if (self->proxy == P_BARRIER) {
		PyObject *key = Py_BuildValue("(OKK)", self->arena->path,
					      (unsigned long long)id.offset,
					      (unsigned long long)id.id);
		if (key == NULL)
			return NULL;
		PyObject *action = PyDict_GetItemWithError(ST(self)->barrier_actions, key);
		Py_DECREF(key);
		if (action == NULL && PyErr_Occurred())
			return NULL;
		if (action)
			state = action;
	}
	return Py_BuildValue("O(OKKsO)", ST(self)->rebuild, self->arena->path,
			     (unsigned long long)id.offset, (unsigned long long)id.id, self->typeid,
			     state);
}

static PyObject *proxy_get_arena(ProxyObject *self, void *Py_UNUSED(c))
{
	return Py_NewRef((PyObject *)self->arena);
}

static PyObject *proxy_get_typeid(ProxyObject *self, void *Py_UNUSED(c))
{
	return PyUnicode_FromString(self->typeid);
}

static PyObject *proxy_get_id(ProxyObject *self, void *Py_UNUSED(c))
{
	shmc_ident_t id;
	int rc = shmc_obj_ident(self->h, &id);
	if (rc)
		return err(self, rc);
	return Py_BuildValue("(KK)", (unsigned long long)id.offset, (unsigned long long)id.id);
}

/* Whether two proxies name the same managed object. */
static PyObject *proxy_same(ProxyObject *self, PyObject *other)
{
	if (!shmc_py_is_proxy(ST(self), other))
		Py_RETURN_FALSE;
	shmc_ident_t a, b;
	if (shmc_obj_ident(self->h, &a) || shmc_obj_ident(((ProxyObject *)other)->h, &b))
		Py_RETURN_FALSE;
	return PyBool_FromLong(a.offset == b.offset && a.id == b.id &&
			       PyUnicode_Compare(self->arena->path,
						 ((ProxyObject *)other)->arena->path) == 0);
}

/* BaseProxy._callmethod(name, args=(), kwds={}): call the proxy's method
 * NAME, as the Manager's proxies send a call to their server. */
static PyObject *proxy_callmethod(ProxyObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"methodname", "args", "kwds", NULL};
	PyObject *name, *cargs = NULL, *ckwds = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "U|O!O!:_callmethod", kwlist, &name,
					 &PyTuple_Type, &cargs, &PyDict_Type, &ckwds))
		return NULL;
	if (PyUnicode_CompareWithASCIIString(name, "__getattribute__") == 0 && cargs &&
	    PyTuple_GET_SIZE(cargs) == 1)
		return PyObject_GetAttr((PyObject *)self, PyTuple_GET_ITEM(cargs, 0));
	PyObject *m = PyObject_GetAttr((PyObject *)self, name);
	if (m == NULL)
		return NULL;
	PyObject *empty = cargs ? NULL : PyTuple_New(0);
	PyObject *r = (cargs || empty) ? PyObject_Call(m, cargs ? cargs : empty, ckwds) : NULL;
	Py_XDECREF(empty);
	Py_DECREF(m);
	return r;
}

/* copy.deepcopy(proxy): a copy of the referent, as BaseProxy gives. */
static PyObject *proxy_deepcopy(ProxyObject *self, PyObject *memo)
{
	(void)memo;
	return PyObject_CallMethod((PyObject *)self, "_getvalue", NULL);
}

static PyMethodDef base_methods[] = {
	{"__reduce__", (PyCFunction)proxy_reduce, METH_NOARGS, NULL},
	{"_callmethod", (PyCFunction)(void (*)(void))proxy_callmethod,
	 METH_VARARGS | METH_KEYWORDS, "_callmethod(methodname, args=(), kwds={})"},
	{"__deepcopy__", (PyCFunction)proxy_deepcopy, METH_O, NULL},
	{"_same", (PyCFunction)proxy_same, METH_O,
	 "Whether OTHER is a proxy of the same managed object."},
	{NULL, NULL, 0, NULL}};

static PyGetSetDef base_getset[] = {
	{"_arena", (getter)proxy_get_arena, NULL, "The Arena of the object.", NULL},
	{"_typeid", (getter)proxy_get_typeid, NULL, "Python's typeid.", NULL},
	{"_id", (getter)proxy_get_id, NULL, "(offset, serial): the object's identity.", NULL},
	{"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef base_members[] = {
	{"__weaklistoffset__", T_PYSSIZET, offsetof(ProxyObject, weakreflist), READONLY, NULL},
	{"__dictoffset__", T_PYSSIZET, offsetof(ProxyObject, dict), READONLY, NULL},
	{NULL, 0, 0, 0, NULL}};

static PyType_Slot base_slots[] = {
	{Py_tp_dealloc, proxy_dealloc},
	{Py_tp_traverse, proxy_traverse},
	{Py_tp_clear, proxy_clear},
	{Py_tp_repr, proxy_repr},
	{Py_tp_methods, base_methods},
	{Py_tp_getset, base_getset},
	{Py_tp_members, base_members},
	{Py_tp_doc, "A proxy of a managed object in a shmc arena."},
	{0, NULL}};

/* Subtypes inherit the base's garbage collection support. */
#define PROXY_FLAGS                                                                  \
	(Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION)

static PyType_Spec base_spec = {
	.name = "shmc.BaseProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS | Py_TPFLAGS_HAVE_GC,
	.slots = base_slots,
};

/* A snapshot of a list or dict as a plain Python list or dict. */
static PyObject *list_copy(ProxyObject *self)
{
	shmc_value_t v;
	int rc = shmc_list_copy(self->h, &v);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *dict_copy(ProxyObject *self)
{
	shmc_value_t v;
	int rc = shmc_dict_copy(self->h, &v);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

/* Python's str() of a container proxy: repr() of a copy of it. */
static PyObject *copy_repr(ProxyObject *self, PyObject *(*copy)(ProxyObject *))
{
	PyObject *c = copy(self);
	if (c == NULL)
		return NULL;
	PyObject *r = PyObject_Repr(c);
	Py_DECREF(c);
	return r;
}

/* Namespace ------------------------------------------------------------------- */

/* A non-private attribute name as UTF-8, or NULL (private, or an error). */
static const char *shared_name(PyObject *name, int *private)
{
	*private = 1;
	if (!PyUnicode_Check(name))
		return NULL;
	Py_ssize_t n;
	const char *s = PyUnicode_AsUTF8AndSize(name, &n);
	if (s == NULL)
		return NULL;
	if (n == 0 || s[0] == '_')
		return NULL;
	*private = 0;
	if ((size_t)n != strlen(s)) {
		PyErr_SetString(PyExc_ValueError, "attribute name contains a NUL");
		return NULL;
	}
	return s;
}

static PyObject *attr_error(PyObject *name)
{
	return PyErr_Format(PyExc_AttributeError, "'Namespace' object has no attribute '%U'",
			    name);
}

static PyObject *ns_getattro(ProxyObject *self, PyObject *name)
{
	int private;
	const char *s = shared_name(name, &private);
	if (private)
		return PyErr_Occurred() ? NULL : PyObject_GenericGetAttr((PyObject *)self, name);
	if (s == NULL)
		return NULL;
	shmc_value_t v;
	int rc = shmc_namespace_get(self->h, s, &v);
	if (rc == SHMC_EATTR || rc == -EINVAL || rc == -EOVERFLOW)
		return attr_error(name);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static int ns_setattro(ProxyObject *self, PyObject *name, PyObject *value)
{
	int private;
	const char *s = shared_name(name, &private);
	if (private)
		return PyErr_Occurred() ? -1 : PyObject_GenericSetAttr((PyObject *)self, name, value);
	if (s == NULL)
		return -1;
	int rc;
	if (value == NULL) {
		rc = shmc_namespace_del(self->h, s);
		if (rc == SHMC_EATTR) {
			attr_error(name);
			return -1;
		}
	} else {
		shmc_value_t v;
		if (in(self, value, &v) < 0)
			return -1;
		rc = shmc_namespace_set(self->h, s, v);
		vfree(&v);
	}
	return rc ? shmc_py_error_int(ST(self), rc) : 0;
}

/* The attributes as a plain dict (BaseProxy._getvalue()). */
static PyObject *ns_getvalue(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_value_t names;
	int rc = shmc_namespace_names(self->h, &names);
	if (rc)
		return err(self, rc);
	PyObject *d = PyDict_New();
	size_t n = shmc_seq_len(names);
	for (size_t i = 0; d && i < n; i++) {
		shmc_value_t *nm = shmc_seq_at(names, (int64_t)i), v;
		if ((rc = shmc_namespace_get(self->h, nm->str, &v)) == SHMC_EATTR)
			continue; /* deleted meanwhile */
		PyObject *key = PyUnicode_DecodeUTF8(nm->str, nm->len, NULL);
		PyObject *val = key ? (rc ? err(self, rc) : out(self, &v)) : NULL;
		if (val == NULL || PyDict_SetItem(d, key, val) < 0)
			Py_CLEAR(d);
		Py_XDECREF(key);
		Py_XDECREF(val);
	}
	shmc_value_free(&names);
	return d;
}

/* Namespace(a=1, b=[2]): names sorted by their 'name=repr' text, as
 * multiprocessing.managers.Namespace.__repr__ sorts them. */
static PyObject *ns_str(ProxyObject *self)
{
	PyObject *d = ns_getvalue(self, NULL);
	if (d == NULL)
		return NULL;
	PyObject *parts = PyList_New(0), *k, *v;
	Py_ssize_t pos = 0;
	while (parts && PyDict_Next(d, &pos, &k, &v)) {
		PyObject *s = PyUnicode_FromFormat("%U=%R", k, v);
		if (s == NULL || PyList_Append(parts, s) < 0)
			Py_CLEAR(parts);
		Py_XDECREF(s);
	}
	Py_DECREF(d);
	if (parts == NULL || PyList_Sort(parts) < 0) {
		Py_XDECREF(parts);
		return NULL;
	}
	PyObject *sep = PyUnicode_FromString(", ");
	PyObject *body = sep ? PyUnicode_Join(sep, parts) : NULL;
	Py_XDECREF(sep);
	Py_DECREF(parts);
	if (body == NULL)
		return NULL;
	PyObject *r = PyUnicode_FromFormat("Namespace(%U)", body);
	Py_DECREF(body);
	return r;
}

static PyMethodDef ns_methods[] = {
	{"_getvalue", (PyCFunction)ns_getvalue, METH_NOARGS, "The attributes, as a dict."},
	{NULL, NULL, 0, NULL}};

static PyType_Slot ns_slots[] = {
	{Py_tp_getattro, ns_getattro},
	{Py_tp_setattro, ns_setattro},
	{Py_tp_str, ns_str},
	{Py_tp_methods, ns_methods},
	{0, NULL}};

static PyType_Spec ns_spec = {
	.name = "shmc.NamespaceProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS,
	.slots = ns_slots,
};

/* List -------------------------------------------------------------------------- */

static Py_ssize_t list_len(ProxyObject *self)
{
	int64_t n = shmc_list_len(self->h);
	return n < 0 ? shmc_py_error_int(ST(self), (int)n) : (Py_ssize_t)n;
}

static PyObject *list_item(ProxyObject *self, Py_ssize_t i)
{
	shmc_value_t v;
	int rc = shmc_list_get(self->h, i, &v);
	if (rc == SHMC_EINDEX) {
		PyErr_SetString(PyExc_IndexError, "list index out of range");
		return NULL;
	}
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

/* A slice as the C library's START, STOP, STEP: an omitted start or stop
 * is SHMC_SLICE_NONE; one given, however negative, is not. */
static int slice_of(PyObject *key, int64_t *start, int64_t *stop, int64_t *step)
{
	Py_ssize_t a, b, c;
	if (PySlice_Unpack(key, &a, &b, &c) < 0)
		return -1;
	PySliceObject *sl = (PySliceObject *)key;
	*start = sl->start == Py_None ? SHMC_SLICE_NONE : a == PY_SSIZE_T_MIN ? a + 1 : a;
	*stop = sl->stop == Py_None ? SHMC_SLICE_NONE : b == PY_SSIZE_T_MIN ? b + 1 : b;
	*step = c;
	return 0;
}

static PyObject *list_subscript(ProxyObject *self, PyObject *key)
{
	if (PyLong_CheckExact(key)) {
		Py_ssize_t i = PyLong_AsSsize_t(key);
		if (i != -1 || !PyErr_Occurred())
			return list_item(self, i);
		PyErr_Clear(); /* too big: IndexError, as Python says it */
	}
	if (PyIndex_Check(key)) {
		Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
		if (i == -1 && PyErr_Occurred())
			return NULL;
		return list_item(self, i);
	}
	if (PySlice_Check(key)) {
		int64_t start, stop, step;
		if (slice_of(key, &start, &stop, &step) < 0)
			return NULL;
		shmc_value_t v;
		int rc = shmc_list_slice_get(self->h, start, stop, step, &v);
		if (rc)
			return err(self, rc);
		return out(self, &v);
	}
	return PyErr_Format(PyExc_TypeError, "list indices must be integers or slices, not %.200s",
			    Py_TYPE(key)->tp_name);
}

/* ls[KEY] = VALUE or del ls[KEY], KEY a slice, in one call. VALUE: any
 * iterable, as Python takes it; a managed list of this arena (the list
 * itself included) is read by the C library in the same step. */
static int list_ass_slice(ProxyObject *self, PyObject *key, PyObject *value)
{
	int64_t start, stop, step;
	if (slice_of(key, &start, &stop, &step) < 0)
		return -1;
	if (value == NULL) {
		int rc = shmc_list_slice_del(self->h, start, stop, step);
		return rc ? shmc_py_error_int(ST(self), rc) : 0;
	}
	PyObject *items;
	if (Py_TYPE(value) == ST(self)->types[P_LIST] &&
	    ((ProxyObject *)value)->arena == self->arena) {
		items = Py_NewRef(value);
	} else if (PyList_CheckExact(value) || PyTuple_CheckExact(value)) {
		items = Py_NewRef(value);
	} else {
		items = PySequence_Fast(value, step == 1 ? "can only assign an iterable"
							 : "must assign iterable to extended slice");
		if (items == NULL)
			return -1;
	}
	shmc_value_t v;
	int rc = shmc_py_to_value(ST(self), self->arena, items, &v, 0);
	if (rc < 0) {
		Py_DECREF(items);
		return -1;
	}
	rc = shmc_list_slice_set(self->h, start, stop, step, v);
	vfree(&v);
	if (rc == SHMC_ESIZE) {
		/* The sizes, for the message: the list's length now. */
		Py_ssize_t a, b, c, n = list_len(self), have = PyObject_Length(items);
		Py_DECREF(items);
		if (n < 0 || have < 0 || PySlice_Unpack(key, &a, &b, &c) < 0)
			return -1;
		PyErr_Format(PyExc_ValueError,
			     "attempt to assign sequence of size %zd to extended slice of size %zd",
			     have, PySlice_AdjustIndices(n, &a, &b, c));
		return -1;
	}
	Py_DECREF(items);
	return rc ? shmc_py_error_int(ST(self), rc) : 0;
}

static int list_ass_subscript(ProxyObject *self, PyObject *key, PyObject *value)
{
	if (PyIndex_Check(key)) {
		Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
		if (i == -1 && PyErr_Occurred())
			return -1;
		int rc;
		if (value == NULL) {
			rc = shmc_list_del(self->h, i);
		} else {
			shmc_value_t v;
			if (in(self, value, &v) < 0)
				return -1;
			rc = shmc_list_set(self->h, i, v);
			vfree(&v);
		}
		if (rc == SHMC_EINDEX) {
			PyErr_SetString(PyExc_IndexError, "list assignment index out of range");
			return -1;
		}
		return rc ? shmc_py_error_int(ST(self), rc) : 0;
	}
	if (PySlice_Check(key))
		return list_ass_slice(self, key, value);
	PyErr_Format(PyExc_TypeError, "list indices must be integers or slices, not %.200s",
		     Py_TYPE(key)->tp_name);
	return -1;
}

/* Whether V holds a pickled part, whose == is Python's, not shmc's. */
static bool has_pickled(shmc_state *st, shmc_value_t v)
{
	switch (v.type) {
	case SHMC_TUPLE: {
		shmc_value_t *m = shmc_seq_len(v) == 3 ? shmc_seq_at(v, 0) : NULL;
		if (m && m->type == SHMC_BYTES && m->len == (uint32_t)PyBytes_GET_SIZE(st->marker) &&
		    memcmp(m->str, PyBytes_AS_STRING(st->marker), m->len) == 0)
			return true;
	} /* fall through */
	case SHMC_LIST:
		for (size_t i = 0; i < shmc_seq_len(v); i++)
			if (has_pickled(st, *shmc_seq_at(v, (int64_t)i)))
				return true;
		return false;
	case SHMC_DICT:
		for (size_t i = 0; i < shmc_pdict_len(v); i++) {
			shmc_value_t *k, *val;
			shmc_pdict_entry(v, i, &k, &val);
			if (has_pickled(st, *k) || has_pickled(st, *val))
				return true;
		}
		return false;
	default:
		return false;
	}
}

/* The first index of X in ls[START:STOP] (SHMC_SLICE_NONE: left out), -1
 * when absent, -2 on error. Values stored natively are compared by the C
 * library in one call; a value with pickled parts is compared by Python's
 * == on a snapshot. */
static Py_ssize_t list_find_in(ProxyObject *self, PyObject *x, int64_t start, int64_t stop)
{
	shmc_value_t v;
	if (in(self, x, &v) < 0)
		return -2;
	if (!has_pickled(ST(self), v)) {
		int64_t i = shmc_list_index_range(self->h, v, start, stop);
		vfree(&v);
		if (i == SHMC_EINDEX)
			return -1;
		if (i < 0) {
			err(self, (int)i);
			return -2;
		}
		return (Py_ssize_t)i;
	}
	vfree(&v);
	PyObject *c = list_copy(self);
	if (c == NULL)
		return -2;
	Py_ssize_t n = PyList_GET_SIZE(c), found = -1;
	Py_ssize_t a = start == SHMC_SLICE_NONE ? 0 : (Py_ssize_t)start;
	Py_ssize_t b = stop == SHMC_SLICE_NONE ? n : (Py_ssize_t)stop;
	if (a < 0 && (a += n) < 0)
		a = 0;
	if (b < 0 && (b += n) < 0)
		b = 0;
	for (Py_ssize_t i = a; i < b && i < PyList_GET_SIZE(c); i++) {
		int eq = PyObject_RichCompareBool(PyList_GET_ITEM(c, i), x, Py_EQ);
		if (eq < 0) {
			found = -2;
			break;
		}
		if (eq) {
			found = i;
			break;
		}
	}
	Py_DECREF(c);
	return found;
}

static Py_ssize_t list_find(ProxyObject *self, PyObject *x)
{
	return list_find_in(self, x, SHMC_SLICE_NONE, SHMC_SLICE_NONE);
}

static int list_contains(ProxyObject *self, PyObject *x)
{
	Py_ssize_t i = list_find(self, x);
	return i == -2 ? -1 : i >= 0;
}

static PyObject *list_append(ProxyObject *self, PyObject *x)
{
	shmc_value_t v;
	hot_method(self);
	if (in(self, x, &v) < 0)
		return NULL;
	int rc = shmc_list_append(self->h, v);
	vfree(&v);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

/* Any iterable as a plain list (a list proxy: its snapshot). */
static PyObject *as_list(ProxyObject *self, PyObject *it)
{
	if (PyList_CheckExact(it) || PyTuple_CheckExact(it))
		return Py_NewRef(it);
	if (Py_TYPE(it) == ST(self)->types[P_LIST])
		return list_copy((ProxyObject *)it);
	return PySequence_List(it);
}

static PyObject *list_extend(ProxyObject *self, PyObject *iterable)
{
	PyObject *l = as_list(self, iterable);
	if (l == NULL)
		return NULL;
	shmc_value_t v;
	int rc = shmc_py_to_value(ST(self), self->arena, l, &v, 0);
	Py_DECREF(l);
	if (rc < 0)
		return NULL;
	rc = shmc_list_extend(self->h, v);
	vfree(&v);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *list_insert(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("insert", nargs, 2, 2))
		return NULL;
	Py_ssize_t i = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
	if (i == -1 && PyErr_Occurred())
		return NULL;
	shmc_value_t v;
	if (in(self, args[1], &v) < 0)
		return NULL;
	int rc = shmc_list_insert(self->h, i, v);
	vfree(&v);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *list_pop(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("pop", nargs, 0, 1))
		return NULL;
	Py_ssize_t i = -1;
	if (nargs && (i = PyNumber_AsSsize_t(args[0], PyExc_IndexError)) == -1 && PyErr_Occurred())
		return NULL;
	shmc_value_t v;
	int rc = shmc_list_pop(self->h, i, &v);
	if (rc == SHMC_EINDEX) {
		PyErr_SetString(PyExc_IndexError, shmc_list_len(self->h) == 0
							  ? "pop from empty list"
							  : "pop index out of range");
		return NULL;
	}
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *list_remove(ProxyObject *self, PyObject *x)
{
	Py_ssize_t i = list_find(self, x);
	if (i == -2)
		return NULL;
	if (i == -1) {
		PyErr_SetString(PyExc_ValueError, "list.remove(x): x not in list");
		return NULL;
	}
	int rc = shmc_list_del(self->h, i);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

/* A start or stop of list.index(), as Python reads it: clamped. */
static int bound_of(PyObject *o, int64_t *out)
{
	if (!PyIndex_Check(o)) {
		PyErr_SetString(PyExc_TypeError,
				"slice indices must be integers or have an __index__ method");
		return -1;
	}
	Py_ssize_t i = PyNumber_AsSsize_t(o, NULL);
	if (i == -1 && PyErr_Occurred())
		return -1;
	*out = i == PY_SSIZE_T_MIN ? i + 1 : i; /* not SHMC_SLICE_NONE */
	return 0;
}

static PyObject *list_index(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("index", nargs, 1, 3))
		return NULL;
	int64_t start = SHMC_SLICE_NONE, stop = SHMC_SLICE_NONE;
	if ((nargs > 1 && bound_of(args[1], &start) < 0) ||
	    (nargs > 2 && bound_of(args[2], &stop) < 0))
		return NULL;
	Py_ssize_t i = list_find_in(self, args[0], start, stop);
	if (i == -2)
		return NULL;
	if (i == -1)
		return PyErr_Format(PyExc_ValueError, "%R is not in list", args[0]);
	return PyLong_FromSsize_t(i);
}

static PyObject *list_count(ProxyObject *self, PyObject *x)
{
	shmc_value_t v;
	if (in(self, x, &v) < 0)
		return NULL;
	if (!has_pickled(ST(self), v)) {
		int64_t n = shmc_list_count(self->h, v);
		vfree(&v);
		return n < 0 ? err(self, (int)n) : PyLong_FromLongLong(n);
	}
	vfree(&v); /* Python's == on a snapshot, as list_find_in */
	PyObject *c = list_copy(self);
	if (c == NULL)
		return NULL;
	Py_ssize_t n = 0;
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(c); i++) {
		int eq = PyObject_RichCompareBool(PyList_GET_ITEM(c, i), x, Py_EQ);
		if (eq < 0) {
			Py_DECREF(c);
			return NULL;
		}
		n += eq;
	}
	Py_DECREF(c);
	return PyLong_FromSsize_t(n);
}

static PyObject *list_reverse(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_list_reverse(self->h);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

/* list.sort(key=None, reverse=False).
 *
 * Without a key, on items stored natively, the C library sorts in one
 * call with Python's order (shmc_value_lt). A key function is Python code,
 * and so are the comparisons of pickled items: run under the list's
 * writer lock, they could let another thread of this process take the GIL
 * and then wait for that lock while holding the GIL, a deadlock. So they
 * run outside it: the order is computed in Python from a snapshot (keys,
 * then a stable sort of the positions, as list.sort orders them), and
 * shmc_list_sort applies it as keys 0..n-1 -- each key call first checks
 * that its item is the snapshot's. If the list changed in between, nothing
 * is changed and the whole is done again on a new snapshot: the sort is
 * atomic, as one call of the Manager is, at the price of the retries. */

#define SORT_CHANGED (INT_MIN + 1) /* the list is not the snapshot any more */
#define SORT_PICKLED (INT_MIN + 2) /* an item's order is Python's to say */

/* Whether A and B are the same value (not Python's ==: NaN is itself,
 * 1 is not 1.0). */
static bool same_value(shmc_value_t a, shmc_value_t b)
{
	if (a.type != b.type)
		return false;
	switch (a.type) {
	case SHMC_NONE:
		return true;
	case SHMC_BOOL:
		return a.b == b.b;
	case SHMC_INT:
		return a.i == b.i;
	case SHMC_FLOAT:
		return memcmp(&a.f, &b.f, sizeof(a.f)) == 0;
	case SHMC_STR:
	case SHMC_BYTES:
	case SHMC_BYTEARRAY:
		return a.len == b.len && (a.len == 0 || memcmp(a.str, b.str, a.len) == 0);
	case SHMC_TUPLE:
	case SHMC_LIST: {
		size_t n = shmc_seq_len(a);
		if (n != shmc_seq_len(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!same_value(*shmc_seq_at(a, (int64_t)i), *shmc_seq_at(b, (int64_t)i)))
				return false;
		return true;
	}
	default:
		return shmc_value_eq(a, b);
	}
}

struct sort_ctx {
	shmc_state *st;
	shmc_obj_t *h;
	shmc_value_t snap; /* the list the order was computed from */
	int64_t *rank;     /* rank[i]: where snap's item i goes */
	int64_t n, next;
};

static int lt_native(const shmc_value_t *a, const shmc_value_t *b, void *ctx)
{
	shmc_state *st = ctx;
	if (has_pickled(st, *a) || has_pickled(st, *b))
		return SORT_PICKLED;
	return shmc_value_lt(*a, *b);
}

static int rank_key(const shmc_value_t *item, shmc_value_t *key, void *ctx)
{
	struct sort_ctx *c = ctx;
	if (c->next == 0 && shmc_list_len(c->h) != c->n)
		return SORT_CHANGED;
	if (c->next >= c->n || !same_value(*item, *shmc_seq_at(c->snap, c->next)))
		return SORT_CHANGED;
	*key = shmc_int(c->rank[c->next++]);
	return 0;
}

/* One attempt of the sort in Python: 0, SORT_CHANGED, or -1 with an
 * exception set. */
static int sort_once(ProxyObject *self, PyObject *key, int reverse)
{
	struct sort_ctx c = {.st = ST(self), .h = self->h};
	shmc_value_t v;
	int rc = shmc_list_copy(self->h, &v);
	if (rc == 0 && (rc = shmc_value_copy(v, &c.snap)) != 0)
		vfree(&v);
	if (rc) {
		err(self, rc);
		return -1;
	}
	PyObject *items = out(self, &v), *keys = NULL, *pos = NULL, *getitem = NULL;
	int result = -1;
	if (items == NULL)
		goto done;
	c.n = PyList_GET_SIZE(items);
	keys = key == Py_None ? Py_NewRef(items) : PyList_New(c.n);
	pos = keys ? PyList_New(c.n) : NULL;
	if (pos == NULL)
		goto done;
	for (Py_ssize_t i = 0; i < c.n; i++) {
		if (key != Py_None) {
			PyObject *k = PyObject_CallOneArg(key, PyList_GET_ITEM(items, i));
			if (k == NULL)
				goto done;
			PyList_SET_ITEM(keys, i, k);
		}
		PyObject *ix = PyLong_FromSsize_t(i);
		if (ix == NULL)
			goto done;
		PyList_SET_ITEM(pos, i, ix);
	}
	/* pos.sort(key=keys.__getitem__, reverse=reverse): Python's order */
	getitem = PyObject_GetAttrString(keys, "__getitem__");
	PyObject *rev = PyBool_FromLong(reverse);
	PyObject *kw = getitem ? Py_BuildValue("(ss)", "key", "reverse") : NULL;
	PyObject *argv[] = {pos, getitem, rev};
	PyObject *name = kw ? PyUnicode_InternFromString("sort") : NULL;
	PyObject *r = name ? PyObject_VectorcallMethod(name, argv, 1, kw) : NULL;
	Py_XDECREF(name);
	Py_XDECREF(kw);
	Py_DECREF(rev);
	if (r == NULL)
		goto done;
	Py_DECREF(r);
	c.rank = PyMem_Malloc(sizeof(int64_t) * (size_t)(c.n ? c.n : 1));
	if (c.rank == NULL) {
		PyErr_NoMemory();
		goto done;
	}
	for (Py_ssize_t j = 0; j < c.n; j++)
		c.rank[PyLong_AsSsize_t(PyList_GET_ITEM(pos, j))] = j;
	rc = shmc_list_sort(self->h, rank_key, NULL, &c, false);
	if (rc == 0 || rc == SORT_CHANGED)
		result = rc;
	else
		err(self, rc);
done:
	PyMem_Free(c.rank);
	shmc_value_free(&c.snap);
	Py_XDECREF(items);
	Py_XDECREF(keys);
	Py_XDECREF(pos);
	Py_XDECREF(getitem);
	return result;
}

static PyObject *list_sort(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	if (nargs) {
		PyErr_SetString(PyExc_TypeError, "sort() takes no positional arguments");
		return NULL;
	}
	PyObject *key = Py_None;
	int reverse = 0;
	for (Py_ssize_t k = 0; kwnames && k < PyTuple_GET_SIZE(kwnames); k++) {
		PyObject *name = PyTuple_GET_ITEM(kwnames, k), *o = args[k];
		if (PyUnicode_CompareWithASCIIString(name, "key") == 0) {
			key = o;
		} else if (PyUnicode_CompareWithASCIIString(name, "reverse") == 0) {
			int overflow;
			PyObject *ix = PyNumber_Index(o);
			long r = ix ? PyLong_AsLongAndOverflow(ix, &overflow) : -1;
			Py_XDECREF(ix);
			if (ix == NULL)
				return NULL;
			if (overflow || r < INT_MIN || r > INT_MAX) {
				PyErr_SetString(PyExc_OverflowError,
						"Python int too large to convert to C int");
				return NULL;
			}
			reverse = r != 0;
		} else {
			return PyErr_Format(PyExc_TypeError,
					    "'%U' is an invalid keyword argument for sort()", name);
		}
	}
	if (key == Py_None) {
		int rc = shmc_list_sort(self->h, NULL, lt_native, ST(self), reverse);
		if (rc == 0)
			Py_RETURN_NONE;
		/* Pickled items, or a TypeError whose message Python's sort gives. */
		if (rc != SORT_PICKLED && rc != SHMC_ETYPE)
			return err(self, rc);
	}
	for (;;) {
		int rc = sort_once(self, key, reverse);
		if (rc == 0)
			Py_RETURN_NONE;
		if (rc < 0 && rc != SORT_CHANGED)
			return NULL;
		if (PyErr_CheckSignals() < 0)
			return NULL;
	}
}

static PyObject *list_getvalue(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return list_copy(self);
}

static PyObject *list_reversed(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	PyObject *c = list_copy(self);
	if (c == NULL)
		return NULL;
	PyObject *r = PyObject_CallMethod(c, "__reversed__", NULL);
	Py_DECREF(c);
	return r;
}

/* ls + other: list + other, as Python's list does it (TypeError unless
 * OTHER is a list). */
static PyObject *list_concat(ProxyObject *self, PyObject *other)
{
	PyObject *c = list_copy(self);
	if (c == NULL)
		return NULL;
	PyObject *r = PySequence_Concat(c, other);
	Py_DECREF(c);
	return r;
}

static PyObject *list_repeat(ProxyObject *self, Py_ssize_t n)
{
	PyObject *c = list_copy(self);
	if (c == NULL)
		return NULL;
	PyObject *r = PySequence_Repeat(c, n);
	Py_DECREF(c);
	return r;
}

static PyObject *list_inplace_concat(ProxyObject *self, PyObject *other)
{
	PyObject *r = list_extend(self, other);
	if (r == NULL)
		return NULL;
	Py_DECREF(r);
	return Py_NewRef((PyObject *)self);
}

static PyObject *list_inplace_repeat(ProxyObject *self, Py_ssize_t n)
{
	int rc = shmc_list_inplace_repeat(self->h, n);
	if (rc)
		return err(self, rc);
	return Py_NewRef((PyObject *)self);
}

static PyObject *list_str(ProxyObject *self)
{
	return copy_repr(self, list_copy);
}

static PyMethodDef list_methods[] = {
	{"append", (PyCFunction)list_append, METH_O, "L.append(object): append to the end."},
	{"extend", (PyCFunction)list_extend, METH_O, "L.extend(iterable)."},
	{"insert", (PyCFunction)(void (*)(void))list_insert, METH_FASTCALL,
	 "L.insert(index, object)."},
	{"pop", (PyCFunction)(void (*)(void))list_pop, METH_FASTCALL, "L.pop([index]) -> item."},
	{"remove", (PyCFunction)list_remove, METH_O, "L.remove(value)."},
	{"index", (PyCFunction)(void (*)(void))list_index, METH_FASTCALL,
	 "L.index(value, [start, [stop]]) -> integer."},
	{"count", (PyCFunction)list_count, METH_O, "L.count(value) -> integer."},
	{"reverse", (PyCFunction)list_reverse, METH_NOARGS, "L.reverse(): in place."},
	{"sort", (PyCFunction)(void (*)(void))list_sort, METH_FASTCALL | METH_KEYWORDS,
	 "L.sort(*, key=None, reverse=False): in place."},
	{"__reversed__", (PyCFunction)list_reversed, METH_NOARGS, NULL},
	{"_getvalue", (PyCFunction)list_getvalue, METH_NOARGS, "A copy, as a list."},
	{"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, NULL},
	{NULL, NULL, 0, NULL}};

static PyType_Slot list_slots[] = {
	{Py_sq_length, list_len},
	{Py_sq_item, list_item},
	{Py_sq_contains, list_contains},
	{Py_sq_concat, list_concat},
	{Py_sq_repeat, list_repeat},
	{Py_sq_inplace_concat, list_inplace_concat},
	{Py_sq_inplace_repeat, list_inplace_repeat},
	{Py_mp_length, list_len},
	{Py_mp_subscript, list_subscript},
	{Py_mp_ass_subscript, list_ass_subscript},
	{Py_tp_str, list_str},
	{Py_tp_methods, list_methods},
	{0, NULL}};

static PyType_Spec list_spec = {
	.name = "shmc.ListProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS | Py_TPFLAGS_SEQUENCE,
	.slots = list_slots,
};

/* Dict -------------------------------------------------------------------------- */

static Py_ssize_t dict_len(ProxyObject *self)
{
	int64_t n = shmc_dict_len(self->h);
	return n < 0 ? shmc_py_error_int(ST(self), (int)n) : (Py_ssize_t)n;
}

static PyObject *dict_subscript(ProxyObject *self, PyObject *key)
{
	shmc_value_t k, v;
	if (in_key(self, key, &k) < 0)
		return NULL;
	int rc = shmc_dict_get(self->h, k, &v);
	vfree(&k);
	if (rc == SHMC_EKEY)
		return key_error(key);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static int dict_ass_subscript(ProxyObject *self, PyObject *key, PyObject *value)
{
	shmc_value_t k, v;
	if (in_key(self, key, &k) < 0)
		return -1;
	int rc;
	if (value == NULL) {
		rc = shmc_dict_del(self->h, k);
	} else if (in(self, value, &v) < 0) {
		vfree(&k);
		return -1;
	} else {
		rc = shmc_dict_set(self->h, k, v);
		vfree(&v);
	}
	vfree(&k);
	if (rc == SHMC_EKEY) {
		key_error(key);
		return -1;
	}
	return rc ? shmc_py_error_int(ST(self), rc) : 0;
}

static int dict_contains(ProxyObject *self, PyObject *key)
{
	shmc_value_t k;
	if (in_key(self, key, &k) < 0)
		return -1;
	int rc = shmc_dict_has(self->h, k);
	vfree(&k);
	return rc < 0 ? shmc_py_error_int(ST(self), rc) : rc;
}

static PyObject *dict_get(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("get", nargs, 1, 2))
		return NULL;
	shmc_value_t k, v;
	hot_method(self);
	if (in_key(self, args[0], &k) < 0)
		return NULL;
	int rc = shmc_dict_get(self->h, k, &v);
	vfree(&k);
	if (rc == SHMC_EKEY)
		return Py_NewRef(nargs > 1 ? args[1] : Py_None);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *dict_pop(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("pop", nargs, 1, 2))
		return NULL;
	shmc_value_t k, v;
	if (in_key(self, args[0], &k) < 0)
		return NULL;
	int rc = shmc_dict_pop(self->h, k, &v);
	vfree(&k);
	if (rc == SHMC_EKEY)
		return nargs > 1 ? Py_NewRef(args[1]) : key_error(args[0]);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *dict_setdefault(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("setdefault", nargs, 1, 2))
		return NULL;
	shmc_value_t k, d, v;
	if (in_key(self, args[0], &k) < 0)
		return NULL;
	if (in(self, nargs > 1 ? args[1] : Py_None, &d) < 0) {
		vfree(&k);
		return NULL;
	}
	int rc = shmc_dict_setdefault(self->h, k, d, &v);
	vfree(&k);
	vfree(&d);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *dict_popitem(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_value_t k, v;
	int rc = shmc_dict_popitem(self->h, &k, &v);
	if (rc == SHMC_EKEY) {
		PyErr_SetString(PyExc_KeyError, "popitem(): dictionary is empty");
		return NULL;
	}
	if (rc)
		return err(self, rc);
	PyObject *pk = out(self, &k);
	if (pk == NULL) {
		vfree(&v);
		return NULL;
	}
	PyObject *pv = out(self, &v);
	PyObject *r = pv ? PyTuple_Pack(2, pk, pv) : NULL;
	Py_DECREF(pk);
	Py_XDECREF(pv);
	return r;
}

static PyObject *dict_clear(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = shmc_dict_clear(self->h);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *dict_copy_m(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return dict_copy(self);
}

static PyObject *dict_view(ProxyObject *self, int (*fn)(shmc_obj_t *, shmc_value_t *))
{
	shmc_value_t v;
	int rc = fn(self->h, &v);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *dict_keys(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return dict_view(self, shmc_dict_keys);
}

static PyObject *dict_values(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return dict_view(self, shmc_dict_values);
}

static PyObject *dict_items(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return dict_view(self, shmc_dict_items);
}

/* d.update(...): the arguments gathered by Python's own dict.update (its
 * errors and their messages; a managed dict is read as one snapshot),
 * then stored in one atomic step. */
static PyObject *dict_update(ProxyObject *self, PyObject *args, PyObject *kwds)
{
	PyObject *src = PyDict_New(), *a = NULL;
	if (src == NULL)
		return NULL;
	if (PyTuple_GET_SIZE(args) == 1 && shmc_py_is_proxy(ST(self), PyTuple_GET_ITEM(args, 0)) &&
	    ((ProxyObject *)PyTuple_GET_ITEM(args, 0))->proxy == P_DICT) {
		PyObject *c = dict_copy((ProxyObject *)PyTuple_GET_ITEM(args, 0));
		a = c ? PyTuple_Pack(1, c) : NULL;
		Py_XDECREF(c);
	} else {
		a = Py_NewRef(args);
	}
	PyObject *update = a ? PyObject_GetAttrString(src, "update") : NULL;
	PyObject *r = update ? PyObject_Call(update, a, kwds) : NULL;
	Py_XDECREF(update);
	Py_XDECREF(a);
	if (r == NULL) {
		Py_DECREF(src);
		return NULL;
	}
	Py_DECREF(r);
	shmc_value_t v;
	int rc = shmc_py_to_value(ST(self), self->arena, src, &v, 0);
	Py_DECREF(src);
	if (rc < 0)
		return NULL;
	rc = shmc_dict_merge(self->h, v);
	vfree(&v);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *dict_str(ProxyObject *self)
{
	return copy_repr(self, dict_copy);
}

/* iter(d): live, through the C library's iterator, which fails as
 * Python's does when the dict's size changes. */
typedef struct {
	PyObject_HEAD
	ProxyObject *d; /* keeps the arena open */
	shmc_dict_iter_t *it;
	int64_t len;    /* the length when made, to tell the two errors apart */
} DictIterObject;

static PyObject *dict_iter(ProxyObject *self)
{
	DictIterObject *it = PyObject_GC_New(DictIterObject, ST(self)->dictiter_type);
	if (it == NULL)
		return NULL;
	it->d = (ProxyObject *)Py_NewRef((PyObject *)self);
	it->it = NULL;
	it->len = shmc_dict_len(self->h);
	PyObject_GC_Track(it);
	int rc = shmc_dict_iter_new(self->h, SHMC_ITER_KEYS, &it->it);
	if (rc) {
		Py_DECREF(it);
		return err(self, rc);
	}
	return (PyObject *)it;
}

static PyObject *dictiter_next(DictIterObject *it)
{
	if (it->it == NULL)
		return NULL;
	shmc_value_t v;
	int rc = shmc_dict_iter_next(it->it, &v);
	if (rc == 1)
		return out(it->d, &v);
	if (rc == 0)
		return NULL;
	if (rc == SHMC_ECHANGED) {
		PyErr_SetString(PyExc_RuntimeError, shmc_dict_len(it->d->h) != it->len
							    ? "dictionary changed size during iteration"
							    : "dictionary keys changed during iteration");
		return NULL;
	}
	return err(it->d, rc);
}

static void dictiter_dealloc(DictIterObject *it)
{
	PyTypeObject *tp = Py_TYPE(it);
	PyObject_GC_UnTrack(it);
	shmc_dict_iter_free(it->it);
	Py_XDECREF(it->d);
	PyObject_GC_Del(it);
	Py_DECREF(tp);
}

static int dictiter_traverse(DictIterObject *it, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(it));
	Py_VISIT(it->d);
	return 0;
}

static PyType_Slot dictiter_slots[] = {
	{Py_tp_dealloc, dictiter_dealloc},
	{Py_tp_traverse, dictiter_traverse},
	{Py_tp_iter, PyObject_SelfIter},
	{Py_tp_iternext, dictiter_next},
	{0, NULL}};

static PyType_Spec dictiter_spec = {
	.name = "shmc.DictKeyIterator",
	.basicsize = sizeof(DictIterObject),
	.flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
	.slots = dictiter_slots,
};

static PyMethodDef dict_methods[] = {
	{"get", (PyCFunction)(void (*)(void))dict_get, METH_FASTCALL, "D.get(k[, d])."},
	{"pop", (PyCFunction)(void (*)(void))dict_pop, METH_FASTCALL, "D.pop(k[, d])."},
	{"popitem", (PyCFunction)dict_popitem, METH_NOARGS, "D.popitem() -> (k, v), last first."},
	{"setdefault", (PyCFunction)(void (*)(void))dict_setdefault, METH_FASTCALL,
	 "D.setdefault(k[, d]), atomically."},
	{"clear", (PyCFunction)dict_clear, METH_NOARGS, NULL},
	{"copy", (PyCFunction)dict_copy_m, METH_NOARGS, "A copy, as a dict."},
	{"keys", (PyCFunction)dict_keys, METH_NOARGS, "The keys, as a list."},
	{"values", (PyCFunction)dict_values, METH_NOARGS, "The values, as a list."},
	{"items", (PyCFunction)dict_items, METH_NOARGS, "The (key, value) pairs, as a list."},
	{"update", (PyCFunction)(void (*)(void))dict_update, METH_VARARGS | METH_KEYWORDS,
	 "D.update([E, ]**F)."},
	{"_getvalue", (PyCFunction)dict_copy_m, METH_NOARGS, "A copy, as a dict."},
	{"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, NULL},
	{NULL, NULL, 0, NULL}};

static PyType_Slot dict_slots[] = {
	{Py_mp_length, dict_len},
	{Py_mp_subscript, dict_subscript},
	{Py_mp_ass_subscript, dict_ass_subscript},
	{Py_sq_contains, dict_contains},
	{Py_tp_iter, dict_iter},
	{Py_tp_str, dict_str},
	{Py_tp_methods, dict_methods},
	{0, NULL}};

static PyType_Spec dict_spec = {
	.name = "shmc.DictProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS | Py_TPFLAGS_MAPPING,
	.slots = dict_slots,
};

/* Value ------------------------------------------------------------------------- */

static PyObject *value_get(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_value_t v;
	int rc = shmc_mvalue_get(self->h, &v);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *value_set(ProxyObject *self, PyObject *x)
{
	shmc_value_t v;
	if (in(self, x, &v) < 0)
		return NULL;
	int rc = shmc_mvalue_set(self->h, v);
	vfree(&v);
	if (rc)
		return err(self, rc);
	Py_RETURN_NONE;
}

static PyObject *value_getter(ProxyObject *self, void *Py_UNUSED(c))
{
	return value_get(self, NULL);
}

static int value_setter(ProxyObject *self, PyObject *x, void *Py_UNUSED(c))
{
	if (x == NULL) {
		PyErr_SetString(PyExc_AttributeError,
				"property 'value' of 'ValueProxy' object has no deleter");
		return -1;
	}
	PyObject *r = value_set(self, x);
	Py_XDECREF(r);
	return r ? 0 : -1;
}

static PyObject *value_str(ProxyObject *self)
{
	shmc_value_t tc;
	int rc = shmc_mvalue_typecode(self->h, &tc);
	if (rc)
		return err(self, rc);
	PyObject *t = out(self, &tc);
	PyObject *v = t ? value_get(self, NULL) : NULL;
	PyObject *r = v ? PyUnicode_FromFormat("Value(%R, %R)", t, v) : NULL;
	Py_XDECREF(t);
	Py_XDECREF(v);
	return r;
}

static PyMethodDef value_methods[] = {
	{"get", (PyCFunction)value_get, METH_NOARGS, NULL},
	{"set", (PyCFunction)value_set, METH_O, NULL},
	{"_getvalue", (PyCFunction)value_get, METH_NOARGS, NULL},
	{"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, NULL},
	{NULL, NULL, 0, NULL}};

static PyGetSetDef value_getset[] = {
	{"value", (getter)value_getter, (setter)value_setter, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot value_slots[] = {
	{Py_tp_str, value_str},
	{Py_tp_methods, value_methods},
	{Py_tp_getset, value_getset},
	{0, NULL}};

static PyType_Spec value_spec = {
	.name = "shmc.ValueProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS,
	.slots = value_slots,
};

/* Array ------------------------------------------------------------------------- */

static Py_ssize_t array_len(ProxyObject *self)
{
	int64_t n = shmc_array_len(self->h);
	return n < 0 ? shmc_py_error_int(ST(self), (int)n) : (Py_ssize_t)n;
}

static PyObject *array_item(ProxyObject *self, Py_ssize_t i)
{
	shmc_value_t v;
	int rc = shmc_array_get(self->h, i, &v);
	if (rc == SHMC_EINDEX) {
		PyErr_SetString(PyExc_IndexError, "array index out of range");
		return NULL;
	}
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

/* A snapshot as array.array. */
static PyObject *array_copy(ProxyObject *self)
{
	shmc_value_t v;
	int rc = shmc_array_copy(self->h, &v);
	if (rc)
		return err(self, rc);
	int tc = shmc_array_typecode(self->h);
	if (tc < 0) {
		vfree(&v);
		return err(self, tc);
	}
	PyObject *items = out(self, &v);
	if (items == NULL)
		return NULL;
	PyObject *array = PyImport_ImportModule("array");
	PyObject *r = array ? PyObject_CallMethod(array, "array", "CO", tc, items) : NULL;
	Py_XDECREF(array);
	Py_DECREF(items);
	return r;
}

static PyObject *array_subscript(ProxyObject *self, PyObject *key)
{
	if (PyIndex_Check(key)) {
		Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
		if (i == -1 && PyErr_Occurred())
			return NULL;
		return array_item(self, i);
	}
	PyObject *c = array_copy(self);
	if (c == NULL)
		return NULL;
	PyObject *r = PyObject_GetItem(c, key);
	Py_DECREF(c);
	return r;
}

static int array_set(ProxyObject *self, Py_ssize_t i, PyObject *value)
{
	shmc_value_t v;
	if (in(self, value, &v) < 0)
		return -1;
	int rc = shmc_array_set(self->h, i, v);
	vfree(&v);
	switch (rc) {
	case 0:
		return 0;
	case SHMC_EINDEX:
		PyErr_SetString(PyExc_IndexError, "array assignment index out of range");
		return -1;
	case SHMC_ETYPE:
		PyErr_Format(PyExc_TypeError, "an array item of typecode '%c' cannot be a %.200s",
			     shmc_array_typecode(self->h), Py_TYPE(value)->tp_name);
		return -1;
	case -ERANGE:
		PyErr_SetString(PyExc_OverflowError, "the number does not fit the array's type");
		return -1;
	default:
		return shmc_py_error_int(ST(self), rc);
	}
}

static int array_ass_subscript(ProxyObject *self, PyObject *key, PyObject *value)
{
	if (value == NULL) {
		PyErr_SetString(PyExc_TypeError, "a managed Array's items cannot be deleted");
		return -1;
	}
	if (PyIndex_Check(key)) {
		Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
		if (i == -1 && PyErr_Occurred())
			return -1;
		return array_set(self, i, value);
	}
	/* A slice: checked on a copy (lengths, types), then stored item by
	 * item; each store is atomic, the whole is not. */
	PyObject *c = array_copy(self);
	if (c == NULL)
		return -1;
	Py_ssize_t n = PyObject_Length(c);
	int rc = PyObject_SetItem(c, key, value);
	if (rc == 0 && PyObject_Length(c) != n) {
		PyErr_SetString(PyExc_ValueError, "a managed Array cannot change its length");
		rc = -1;
	}
	for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {
		PyObject *x = PySequence_GetItem(c, i);
		rc = x ? array_set(self, i, x) : -1;
		Py_XDECREF(x);
	}
	Py_DECREF(c);
	return rc;
}

static PyObject *array_str(ProxyObject *self)
{
	PyObject *c = array_copy(self);
	if (c == NULL)
		return NULL;
	PyObject *r = PyObject_Repr(c);
	Py_DECREF(c);
	return r;
}

static PyObject *array_getvalue(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	return array_copy(self);
}

static PyMethodDef array_methods[] = {
	{"_getvalue", (PyCFunction)array_getvalue, METH_NOARGS, "A copy, as an array.array."},
	{NULL, NULL, 0, NULL}};

static PyType_Slot array_slots[] = {
	{Py_sq_length, array_len},
	{Py_sq_item, array_item},
	{Py_mp_length, array_len},
	{Py_mp_subscript, array_subscript},
	{Py_mp_ass_subscript, array_ass_subscript},
	{Py_tp_str, array_str},
	{Py_tp_methods, array_methods},
	{0, NULL}};

static PyType_Spec array_spec = {
	.name = "shmc.ArrayProxy",
	.basicsize = sizeof(ProxyObject),
	.flags = PROXY_FLAGS | Py_TPFLAGS_SEQUENCE,
	.slots = array_slots,
};

/* Types ------------------------------------------------------------------------- */

static PyTypeObject *subtype(PyObject *m, PyType_Spec *spec, PyTypeObject *base)
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

int shmc_py_proxy_types(PyObject *m, shmc_state *st)
{
	if ((st->base_type = subtype(m, &base_spec, NULL)) == NULL)
		return -1;
	static const struct {
		int p;
		PyType_Spec *spec;
	} specs[] = {{P_NAMESPACE, &ns_spec},
		     {P_LIST, &list_spec},
		     {P_DICT, &dict_spec},
		     {P_VALUE, &value_spec},
		     {P_ARRAY, &array_spec}};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if ((st->types[specs[i].p] = subtype(m, specs[i].spec, st->base_type)) == NULL)
			return -1;
	st->dictiter_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &dictiter_spec, NULL);
	return st->dictiter_type ? 0 : -1;
}
