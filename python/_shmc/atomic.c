/*
 * atomic.c -- shmc.add() and shmc.cas(): the C library's atomic
 * read-modify-write of one item, from Python. `ns.x += 1` is a read, then a
 * store, in Python's Manager as here: two processes doing it at once lose
 * updates. shmc.add(ns, 'x', 1) is one step, and so exact; shmc.cas()
 * stores a value only if the item still equals (Python's ==) what was
 * read. Both work on a Namespace attribute, a list item, a dict entry, and
 * a Value's value.
 */
#include "shmcmodule.h"

#include <errno.h>

/* Where the item is: an attribute name, an index or a key. */
struct where {
	const char *name;
	int64_t index;
	shmc_value_t key;
};

static int where_of(ProxyObject *p, PyObject *o, struct where *w)
{
	w->key = shmc_none();
	switch (p->proxy) {
	case P_NAMESPACE:
		if (!PyUnicode_Check(o) || (w->name = PyUnicode_AsUTF8(o)) == NULL) {
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_TypeError, "a Namespace item is named by a str");
			return -1;
		}
		return 0;
	case P_LIST:
		w->index = PyNumber_AsSsize_t(o, PyExc_IndexError);
		return w->index == -1 && PyErr_Occurred() ? -1 : 0;
	case P_DICT:
		return in_key(p, o, &w->key);
	case P_VALUE:
		return 0;
	default:
		PyErr_Format(PyExc_TypeError, "no atomic update for a %s", p->typeid);
		return -1;
	}
}

static PyObject *not_found(ProxyObject *p, PyObject *where)
{
	switch (p->proxy) {
	case P_LIST:
		PyErr_SetString(PyExc_IndexError, "list index out of range");
		return NULL;
	case P_DICT:
		return key_error(where);
	default:
		return PyErr_Format(PyExc_AttributeError,
				    "'Namespace' object has no attribute '%U'", where);
	}
}

/* PROXY and the place of the item (none for a Value) from ARGS; the
 * remaining arguments in *REST. */
static ProxyObject *target(shmc_state *st, const char *fname, PyObject *const *args,
			   Py_ssize_t nargs, Py_ssize_t nrest, PyObject **where,
			   PyObject *const **rest, Py_ssize_t *nr)
{
	if (nargs < 1 || !shmc_py_is_proxy(st, args[0])) {
		PyErr_Format(PyExc_TypeError, "%s() takes a proxy of a manager first", fname);
		return NULL;
	}
	ProxyObject *p = (ProxyObject *)args[0];
	Py_ssize_t skip = p->proxy == P_VALUE ? 1 : 2;
	if (nargs < skip || nargs - skip > nrest) {
		PyErr_Format(PyExc_TypeError, "%s(): wrong number of arguments", fname);
		return NULL;
	}
	*where = p->proxy == P_VALUE ? Py_None : args[1];
	*rest = args + skip;
	*nr = nargs - skip;
	return p;
}

/* add(obj, where, delta=1) -> the new value; add(value, delta=1) for a
 * Value. An int or a float, as Python adds them. */
static PyObject *atomic_add(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
	shmc_state *st = PyModule_GetState(module);
	PyObject *where;
	PyObject *const *rest;
	Py_ssize_t nr;
	ProxyObject *p = target(st, "add", args, nargs, 1, &where, &rest, &nr);
	if (p == NULL)
		return NULL;
	struct where w;
	shmc_value_t delta, result;
	if (where_of(p, where, &w) < 0)
		return NULL;
	if (nr == 0)
		delta = shmc_int(1);
	else if (in(p, rest[0], &delta) < 0) {
		vfree(&w.key);
		return NULL;
	}
	int rc;
	switch (p->proxy) {
	case P_LIST:
		rc = shmc_list_add(p->h, w.index, delta, &result);
		break;
	case P_DICT:
		rc = shmc_dict_add(p->h, w.key, delta, &result);
		break;
	case P_VALUE:
		rc = shmc_mvalue_add(p->h, delta, &result);
		break;
	default:
		rc = shmc_namespace_add(p->h, w.name, delta, &result);
	}
	vfree(&w.key);
	vfree(&delta);
	if (rc == SHMC_EINDEX || rc == SHMC_EKEY || rc == SHMC_EATTR)
		return not_found(p, where);
	if (rc == SHMC_ETYPE) {
		PyErr_SetString(PyExc_TypeError, "add() needs a number in the item and as delta");
		return NULL;
	}
	if (rc)
		return err(p, rc);
	return out(p, &result);
}

/* cas(obj, where, expected, desired) -> True if stored; cas(value,
 * expected, desired) for a Value. */
static PyObject *atomic_cas(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
	shmc_state *st = PyModule_GetState(module);
	PyObject *where;
	PyObject *const *rest;
	Py_ssize_t nr;
	ProxyObject *p = target(st, "cas", args, nargs, 2, &where, &rest, &nr);
	if (p == NULL)
		return NULL;
	if (nr != 2) {
		PyErr_SetString(PyExc_TypeError, "cas() takes the expected and the desired value");
		return NULL;
	}
	struct where w;
	shmc_value_t expected, desired;
	if (where_of(p, where, &w) < 0)
		return NULL;
	if (in(p, rest[0], &expected) < 0) {
		vfree(&w.key);
		return NULL;
	}
	if (in(p, rest[1], &desired) < 0) {
		vfree(&w.key);
		vfree(&expected);
		return NULL;
	}
	int rc;
	switch (p->proxy) {
	case P_LIST:
		rc = shmc_list_cas(p->h, w.index, expected, desired);
		break;
	case P_DICT:
		rc = shmc_dict_cas(p->h, w.key, expected, desired);
		break;
	case P_VALUE:
		rc = shmc_mvalue_cas(p->h, expected, desired);
		break;
	default:
		rc = shmc_namespace_cas(p->h, w.name, expected, desired);
	}
	vfree(&w.key);
	vfree(&expected);
	vfree(&desired);
	if (rc == SHMC_EINDEX || rc == SHMC_EKEY || rc == SHMC_EATTR)
		return not_found(p, where);
	if (rc < 0)
		return err(p, rc);
	return PyBool_FromLong(rc);
}

PyMethodDef shmc_py_atomic_methods[] = {
	{"add", (PyCFunction)(void (*)(void))atomic_add, METH_FASTCALL,
	 "add(obj, where, delta=1) -> the new value: obj[where] += delta (or the\n"
	 "attribute WHERE of a Namespace) in one atomic step; add(value, delta=1)\n"
	 "for a Value."},
	{"cas", (PyCFunction)(void (*)(void))atomic_cas, METH_FASTCALL,
	 "cas(obj, where, expected, desired) -> True if obj[where] == expected\n"
	 "(Python's ==) and DESIRED was stored, False if not, in one atomic step;\n"
	 "cas(value, expected, desired) for a Value."},
	{NULL, NULL, 0, NULL}};
