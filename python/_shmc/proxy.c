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
 * STOPGAPS, marked below, until the C calls land in main: list slices,
 * sort, reverse, count, *=, index with bounds (wip/list); dict popitem,
 * update and the live iterator (wip/dictsync). Each works on a consistent
 * snapshot; those that write publish with two calls (clear, extend), so
 * another process may see the list empty in between.
 */
#include "shmcmodule.h"

#include <structmember.h>

#define VALUE_TYPECODE "\x01typecode"

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
	case SHMC_KIND_NAMESPACE: {
		int rc = shmc_namespace_has(h, VALUE_TYPECODE);
		if (rc < 0) {
			shmc_obj_release(h);
			return shmc_py_error(st, rc);
		}
		p = rc ? P_VALUE : P_NAMESPACE;
		break;
	}
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
	/* Only a barrier's stopgap attributes travel; a namespace's private
	 * ('_') ones belong to this proxy, as in Python. */
	PyObject *state = self->proxy == P_BARRIER && self->dict && PyDict_GET_SIZE(self->dict)
				  ? self->dict
				  : Py_None;
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
	if (PySlice_Check(key)) { /* STOPGAP: slices of a snapshot (wip/list) */
		PyObject *c = list_copy(self);
		if (c == NULL)
			return NULL;
		PyObject *r = PyObject_GetItem(c, key);
		Py_DECREF(c);
		return r;
	}
	return PyErr_Format(PyExc_TypeError, "list indices must be integers or slices, not %.200s",
			    Py_TYPE(key)->tp_name);
}

/* STOPGAP (wip/list): make the list hold exactly the items of the plain
 * list L, in two steps (clear, then extend). */
static int list_replace(ProxyObject *self, PyObject *l)
{
	shmc_value_t v;
	if (shmc_py_to_value(ST(self), self->arena, l, &v, 0) < 0)
		return -1;
	int rc = shmc_list_clear(self->h);
	if (rc == 0 && shmc_seq_len(v))
		rc = shmc_list_extend(self->h, v);
	vfree(&v);
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
	if (PySlice_Check(key)) { /* STOPGAP (wip/list) */
		PyObject *c = list_copy(self);
		if (c == NULL)
			return -1;
		int rc = value ? PyObject_SetItem(c, key, value) : PyObject_DelItem(c, key);
		if (rc == 0)
			rc = list_replace(self, c);
		Py_DECREF(c);
		return rc;
	}
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

/* The first index of X in the list, -1 when absent, -2 on error. Values
 * stored natively are compared by the C library in one call; a value with
 * pickled parts is compared by Python's == on a snapshot. */
static Py_ssize_t list_find(ProxyObject *self, PyObject *x)
{
	shmc_value_t v;
	if (in(self, x, &v) < 0)
		return -2;
	if (!has_pickled(ST(self), v)) {
		int64_t i = shmc_list_index(self->h, v);
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
	for (Py_ssize_t i = 0; i < n; i++) {
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

static int list_contains(ProxyObject *self, PyObject *x)
{
	Py_ssize_t i = list_find(self, x);
	return i == -2 ? -1 : i >= 0;
}

static PyObject *list_append(ProxyObject *self, PyObject *x)
{
	shmc_value_t v;
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

static PyObject *list_index(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (!shmc_py_nargs("index", nargs, 1, 3))
		return NULL;
	if (nargs > 1) { /* STOPGAP (wip/list): bounds on a snapshot */
		PyObject *c = list_copy(self);
		if (c == NULL)
			return NULL;
		PyObject *index = PyObject_GetAttrString(c, "index");
		PyObject *r = index ? PyObject_Vectorcall(index, args, (size_t)nargs, NULL) : NULL;
		Py_XDECREF(index);
		Py_DECREF(c);
		return r;
	}
	Py_ssize_t i = list_find(self, args[0]);
	if (i == -2)
		return NULL;
	if (i == -1)
		return PyErr_Format(PyExc_ValueError, "%R is not in list", args[0]);
	return PyLong_FromSsize_t(i);
}

/* STOPGAP (wip/list): count, reverse, sort on a snapshot. */
static PyObject *list_count(ProxyObject *self, PyObject *x)
{
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
	PyObject *c = list_copy(self);
	if (c == NULL)
		return NULL;
	int rc = PyList_Reverse(c);
	if (rc == 0)
		rc = list_replace(self, c);
	Py_DECREF(c);
	if (rc < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *list_sort(ProxyObject *self, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	if (nargs) {
		PyErr_SetString(PyExc_TypeError, "sort() takes no positional arguments");
		return NULL;
	}
	PyObject *c = list_copy(self);
	if (c == NULL)
		return NULL;
	PyObject *sort = PyObject_GetAttrString(c, "sort");
	PyObject *r = sort ? PyObject_Vectorcall(sort, args, 0, kwnames) : NULL;
	Py_XDECREF(sort);
	if (r && list_replace(self, c) < 0)
		Py_CLEAR(r);
	Py_DECREF(c);
	return r;
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
	/* STOPGAP (wip/list): the snapshot repeated, written back. */
	PyObject *c = list_copy(self);
	if (c == NULL)
		return NULL;
	PyObject *r = PySequence_Repeat(c, n);
	Py_DECREF(c);
	if (r == NULL || list_replace(self, r) < 0) {
		Py_XDECREF(r);
		return NULL;
	}
	Py_DECREF(r);
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

/* STOPGAP (wip/dictsync: shmc_dict_popitem): the last key of a snapshot,
 * popped; another process may take it first, so try again. */
static PyObject *dict_popitem(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	for (int tries = 0; tries < 1000; tries++) {
		shmc_value_t keys, v;
		int rc = shmc_dict_keys(self->h, &keys);
		if (rc)
			return err(self, rc);
		size_t n = shmc_seq_len(keys);
		if (n == 0) {
			shmc_value_free(&keys);
			PyObject *m = PyUnicode_FromString("popitem(): dictionary is empty");
			if (m) {
				key_error(m);
				Py_DECREF(m);
			}
			return NULL;
		}
		shmc_value_t *k = shmc_seq_at(keys, (int64_t)n - 1);
		rc = shmc_dict_pop(self->h, *k, &v);
		if (rc == SHMC_EKEY) {
			shmc_value_free(&keys);
			continue;
		}
		if (rc) {
			shmc_value_free(&keys);
			return err(self, rc);
		}
		PyObject *pk = shmc_py_from_value(ST(self), self->arena, k);
		shmc_value_free(&keys);
		PyObject *pv = pk ? out(self, &v) : NULL;
		if (pv == NULL) {
			if (pk == NULL)
				vfree(&v);
			Py_XDECREF(pk);
			return NULL;
		}
		PyObject *r = PyTuple_Pack(2, pk, pv);
		Py_DECREF(pk);
		Py_DECREF(pv);
		return r;
	}
	PyErr_SetString(PyExc_RuntimeError, "popitem(): the dict kept changing");
	return NULL;
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

/* STOPGAP (wip/dictsync: shmc_dict_merge): d.update(...) as one set per
 * entry, not atomic. */
static PyObject *dict_update(ProxyObject *self, PyObject *args, PyObject *kwds)
{
	PyObject *src = PyObject_Call((PyObject *)&PyDict_Type, args, kwds);
	if (src == NULL)
		return NULL;
	PyObject *k, *v;
	Py_ssize_t pos = 0;
	while (PyDict_Next(src, &pos, &k, &v))
		if (dict_ass_subscript(self, k, v) < 0) {
			Py_DECREF(src);
			return NULL;
		}
	Py_DECREF(src);
	Py_RETURN_NONE;
}

static PyObject *dict_str(ProxyObject *self)
{
	return copy_repr(self, dict_copy);
}

/* STOPGAP (wip/dictsync: shmc_dict_iter_*): iter(d) walks a snapshot of
 * the keys, and fails as Python's does when the dict's size changes. */
typedef struct {
	PyObject_HEAD
	ProxyObject *d;
	PyObject *keys;
	Py_ssize_t pos, len;
} DictIterObject;

static PyObject *dict_iter(ProxyObject *self)
{
	DictIterObject *it = PyObject_GC_New(DictIterObject, ST(self)->dictiter_type);
	if (it == NULL)
		return NULL;
	it->d = (ProxyObject *)Py_NewRef((PyObject *)self);
	it->pos = 0;
	it->keys = dict_keys(self, NULL);
	it->len = it->keys ? PyList_GET_SIZE(it->keys) : 0;
	PyObject_GC_Track(it);
	if (it->keys == NULL) {
		Py_DECREF(it);
		return NULL;
	}
	return (PyObject *)it;
}

static PyObject *dictiter_next(DictIterObject *it)
{
	if (it->d == NULL)
		return NULL;
	int64_t n = shmc_dict_len(it->d->h);
	if (n < 0)
		return err(it->d, (int)n);
	if (n != it->len) {
		it->len = -1; /* stays broken, as Python's does */
		PyErr_SetString(PyExc_RuntimeError, "dictionary changed size during iteration");
		return NULL;
	}
	if (it->pos >= PyList_GET_SIZE(it->keys)) {
		Py_CLEAR(it->d);
		return NULL;
	}
	return Py_NewRef(PyList_GET_ITEM(it->keys, it->pos++));
}

static void dictiter_dealloc(DictIterObject *it)
{
	PyTypeObject *tp = Py_TYPE(it);
	PyObject_GC_UnTrack(it);
	Py_XDECREF(it->d);
	Py_XDECREF(it->keys);
	PyObject_GC_Del(it);
	Py_DECREF(tp);
}

static int dictiter_traverse(DictIterObject *it, visitproc visit, void *arg)
{
	Py_VISIT(Py_TYPE(it));
	Py_VISIT(it->d);
	Py_VISIT(it->keys);
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

/* Value (STOPGAP: a namespace, until shmc_mvalue_* lands) ---------------------- */

static PyObject *value_get(ProxyObject *self, PyObject *Py_UNUSED(ignored))
{
	shmc_value_t v;
	int rc = shmc_namespace_get(self->h, "value", &v);
	if (rc)
		return err(self, rc);
	return out(self, &v);
}

static PyObject *value_set(ProxyObject *self, PyObject *x)
{
	shmc_value_t v;
	if (in(self, x, &v) < 0)
		return NULL;
	int rc = shmc_namespace_set(self->h, "value", v);
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
		PyErr_SetString(PyExc_AttributeError, "can't delete attribute");
		return -1;
	}
	PyObject *r = value_set(self, x);
	Py_XDECREF(r);
	return r ? 0 : -1;
}

static PyObject *value_str(ProxyObject *self)
{
	shmc_value_t tc;
	int rc = shmc_namespace_get(self->h, VALUE_TYPECODE, &tc);
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
