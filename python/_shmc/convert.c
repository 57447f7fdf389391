/*
 * convert.c -- Python values to shmc values and back: the one place where
 * the binding decides how each Python value is stored.
 *
 * Stored natively, one to one: None, bool, int of any size (an exact int
 * that fits int64 is an SHMC_INT, any other an SHMC_BIGINT), float,
 * complex, str, bytes, bytearray, and tuple, list, dict, set and frozenset
 * of exactly those types, nested; a proxy of the same arena becomes a
 * reference, so managed objects nested anywhere are shared. Everything
 * else -- subclasses included, so that a namedtuple or an IntEnum comes
 * back as itself -- is pickled as the Manager pickles it (ForkingPickler),
 * and comes back as an equal object. So is a set or dict whose members or
 * keys shmc would merge where Python does not (objects equal only to
 * themselves pickle to equal bytes). Proxies inside a pickled value are
 * kept out of the pickle (its persistent ids) and stored beside it as
 * references, so they stay shared and keep their objects alive.
 *
 * A pickled value is stored as the tuple (MARKER, payload, refs), MARKER a
 * bytes that no ordinary value starts with. (SHMC_OPAQUE could hold the
 * payload, but not the references beside it.)
 *
 * Depth: plain values nest at most 512 deep in shmc. A value nested
 * deeper than PICKLE_DEPTH is pickled from there on (pickle raises
 * RecursionError if it is too deep for Python itself). The recursion here
 * is bounded by that depth.
 */
#include "shmcmodule.h"

#define PICKLE_DEPTH 500

static int to_value(shmc_state *st, ArenaObject *arena, PyObject *o, shmc_value_t *out,
		    int key, int depth);

/* Store RC's error for a builder or mutator of plain values. */
static int fail(shmc_state *st, int rc)
{
	shmc_py_error(st, rc);
	return -1;
}

/* An exact int past int64 as an SHMC_BIGINT: its two's-complement bytes. */
static int bigint(shmc_state *st, PyObject *o, shmc_value_t *out)
{
	size_t bits = _PyLong_NumBits(o);
	if (bits == (size_t)-1 && PyErr_Occurred())
		return -1;
	size_t n = bits / 8 + 1; /* room for the sign bit */
	unsigned char *buf = PyMem_Malloc(n);
	if (buf == NULL) {
		PyErr_NoMemory();
		return -1;
	}
#if PY_VERSION_HEX >= 0x030D0000
	int r = PyLong_AsNativeBytes(o, buf, (Py_ssize_t)n, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
	r = r < 0 ? -1 : 0;
#else
	int r = _PyLong_AsByteArray((PyLongObject *)o, buf, n, 1, 1);
#endif
	if (r < 0) {
		PyMem_Free(buf);
		return -1;
	}
	int rc = shmc_int_from_bytes(buf, n, out);
	PyMem_Free(buf);
	return rc ? fail(st, rc) : 0;
}

static PyObject *bigint_out(shmc_state *st, shmc_value_t v)
{
	size_t n = shmc_int_byte_len(v);
	unsigned char *buf = PyMem_Malloc(n ? n : 1);
	if (buf == NULL)
		return PyErr_NoMemory();
	int rc = shmc_int_to_bytes(v, buf, n);
	PyObject *r = NULL;
	if (rc)
		shmc_py_error(st, rc);
	else
#if PY_VERSION_HEX >= 0x030D0000
		r = PyLong_FromNativeBytes(buf, n, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
		r = _PyLong_FromByteArray(buf, n, 1, 1);
#endif
	PyMem_Free(buf);
	return r;
}

static int pickled(shmc_state *st, ArenaObject *arena, PyObject *o, shmc_value_t *out,
		   int depth)
{
	if (st->pickle_dumps == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "shmc: the pickle helpers are not installed");
		return -1;
	}
	PyObject *r = PyObject_CallFunctionObjArgs(st->pickle_dumps, o,
						   arena ? (PyObject *)arena : Py_None, NULL);
	if (r == NULL)
		return -1;
	if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 2 ||
	    !PyBytes_Check(PyTuple_GET_ITEM(r, 0)) || !PyTuple_Check(PyTuple_GET_ITEM(r, 1))) {
		Py_DECREF(r);
		PyErr_SetString(PyExc_TypeError, "shmc: bad result from the pickle helper");
		return -1;
	}
	shmc_value_t refs, payload;
	PyObject *pb = PyTuple_GET_ITEM(r, 0);
	payload = shmc_bytes(PyBytes_AS_STRING(pb), (size_t)PyBytes_GET_SIZE(pb));
	/* The refs are proxies of ARENA only: a flat tuple of references,
	 * converted from depth 0 (it nests nothing). */
	(void)depth;
	if (to_value(st, arena, PyTuple_GET_ITEM(r, 1), &refs, 0, 0) < 0) {
		Py_DECREF(r);
		return -1;
	}
	shmc_value_t t = shmc_tuple_of(3, shmc_bytes(PyBytes_AS_STRING(st->marker),
						     (size_t)PyBytes_GET_SIZE(st->marker)),
				       payload, refs);
	Py_DECREF(r);
	if (t.type == SHMC_ERROR)
		return fail(st, (int)t.i);
	*out = t;
	return 0;
}

static int sequence(shmc_state *st, ArenaObject *arena, PyObject *o, shmc_value_t *out,
		    int key, int depth)
{
	/* Converting an item may run Python code (a pickle) that changes a
	 * list: work on a tuple of its items. */
	PyObject *items = PySequence_Tuple(o);
	if (items == NULL)
		return -1;
	Py_ssize_t n = PyTuple_GET_SIZE(items);
	shmc_value_t *vs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(shmc_value_t));
	if (vs == NULL) {
		Py_DECREF(items);
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++)
		if (to_value(st, arena, PyTuple_GET_ITEM(items, i), &vs[i], key, depth + 1) < 0) {
			while (i--)
				shmc_value_free(&vs[i]);
			PyMem_Free(vs);
			Py_DECREF(items);
			return -1;
		}
	/* The builders take every item, views included (copied). */
	shmc_value_t v = PyTuple_CheckExact(o) ? shmc_tuple_from((size_t)n, vs)
					       : shmc_plist_from((size_t)n, vs);
	PyMem_Free(vs);
	Py_DECREF(items);
	if (v.type == SHMC_ERROR)
		return fail(st, (int)v.i);
	*out = v;
	return 0;
}

static int mapping(shmc_state *st, ArenaObject *arena, PyObject *o, shmc_value_t *out,
		   int depth)
{
	shmc_value_t d = shmc_pdict_of(0);
	if (d.type == SHMC_ERROR)
		return fail(st, (int)d.i);
	PyObject *k, *v;
	Py_ssize_t pos = 0;
	/* Take the items first: converting a value may run Python code. */
	PyObject *items = PyDict_Items(o);
	if (items == NULL) {
		shmc_value_free(&d);
		return -1;
	}
	Py_ssize_t n = PyList_GET_SIZE(items);
	for (pos = 0; pos < n; pos++) {
		PyObject *pair = PyList_GET_ITEM(items, pos);
		k = PyTuple_GET_ITEM(pair, 0);
		v = PyTuple_GET_ITEM(pair, 1);
		shmc_value_t kv, vv;
		if (to_value(st, arena, k, &kv, 1, depth + 1) < 0)
			goto fail;
		if (to_value(st, arena, v, &vv, 0, depth + 1) < 0) {
			shmc_value_free(&kv);
			goto fail;
		}
		int rc = shmc_pdict_set(&d, kv, vv);
		if (rc) {
			fail(st, rc);
			goto fail;
		}
	}
	Py_DECREF(items);
	if (shmc_pdict_len(d) != (size_t)n) { /* keys merged: see the top */
		shmc_value_free(&d);
		return pickled(st, arena, o, out, depth);
	}
	*out = d;
	return 0;
fail:
	Py_DECREF(items);
	shmc_value_free(&d);
	return -1;
}

/* A set or frozenset, member by member. Its members are hashable in
 * Python; if shmc finds two of them equal (objects equal only to
 * themselves pickle alike) the whole set is pickled instead. */
static int set_value(shmc_state *st, ArenaObject *arena, PyObject *o, shmc_value_t *out,
		     int depth)
{
	/* Converting a member may run Python code (a pickle) that changes a
	 * set: work on a tuple of its members. */
	PyObject *items = PySequence_Tuple(o);
	if (items == NULL)
		return -1;
	Py_ssize_t n = PyTuple_GET_SIZE(items);
	shmc_value_t s = shmc_set_of(0);
	if (s.type == SHMC_ERROR) {
		Py_DECREF(items);
		return fail(st, (int)s.i);
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		shmc_value_t m;
		int rc;
		if (to_value(st, arena, PyTuple_GET_ITEM(items, i), &m, 1, depth + 1) < 0)
			goto fail;
		if ((rc = shmc_set_add(&s, m)) != 0) {
			fail(st, rc);
			goto fail;
		}
	}
	Py_DECREF(items);
	if (shmc_set_len(s) != (size_t)n) {
		shmc_value_free(&s);
		return pickled(st, arena, o, out, depth);
	}
	if (PyFrozenSet_CheckExact(o))
		shmc_set_freeze(&s);
	*out = s;
	return 0;
fail:
	Py_DECREF(items);
	shmc_value_free(&s);
	return -1;
}

static int to_value(shmc_state *st, ArenaObject *arena, PyObject *o, shmc_value_t *out,
		    int key, int depth)
{
	PyTypeObject *t = Py_TYPE(o);
	if (o == Py_None) {
		*out = shmc_none();
		return 0;
	}
	if (t == &PyBool_Type) {
		*out = shmc_bool(o == Py_True);
		return 0;
	}
	if (t == &PyLong_Type) {
		int overflow;
		long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
		if (!overflow) {
			*out = shmc_int(i);
			return 0;
		}
		return bigint(st, o, out);
	}
	if (t == &PyFloat_Type) {
		*out = shmc_float(PyFloat_AS_DOUBLE(o));
		return 0;
	}
	if (t == &PyComplex_Type) {
		Py_complex c = PyComplex_AsCComplex(o);
		shmc_value_t v = shmc_complex(c.real, c.imag);
		if (v.type == SHMC_ERROR)
			return fail(st, (int)v.i);
		*out = v;
		return 0;
	}
	if (t == &PyUnicode_Type) {
		Py_ssize_t n;
		const char *s = PyUnicode_AsUTF8AndSize(o, &n);
		if (s) {
			*out = shmc_strn(s, (size_t)n);
			return 0;
		}
		/* Lone surrogates have no UTF-8: the pickle keeps them. */
		if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
			return -1;
		PyErr_Clear();
		return pickled(st, arena, o, out, depth);
	}
	if (t == &PyBytes_Type) {
		*out = shmc_bytes(PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o));
		return 0;
	}
	/* A key is hashed first, as Python would: an unhashable key fails
	 * with Python's own message. */
	if (key && PyObject_Hash(o) == -1)
		return -1;
	if (depth >= PICKLE_DEPTH)
		return pickled(st, arena, o, out, depth);
	if (t == &PyByteArray_Type) {
		/* A copy: converting the next item may run code that resizes it. */
		int rc = shmc_value_copy(shmc_bytearray(PyByteArray_AS_STRING(o),
						       (size_t)PyByteArray_GET_SIZE(o)), out);
		return rc ? fail(st, rc) : 0;
	}
	if (t == &PyTuple_Type || t == &PyList_Type)
		return sequence(st, arena, o, out, key, depth);
	if (t == &PyDict_Type)
		return mapping(st, arena, o, out, depth);
	if (t == &PySet_Type || t == &PyFrozenSet_Type)
		return set_value(st, arena, o, out, depth);
	if (!key && arena && shmc_py_is_proxy(st, o) && ((ProxyObject *)o)->arena == arena) {
		*out = shmc_ref(((ProxyObject *)o)->h);
		return 0;
	}
	return pickled(st, arena, o, out, depth);
}

int shmc_py_to_value(shmc_state *st, ArenaObject *arena, PyObject *o, shmc_value_t *out,
		     int key)
{
	return to_value(st, arena, o, out, key, 0);
}

/* Out ----------------------------------------------------------------------- */

static PyObject *from_value(shmc_state *st, ArenaObject *arena, shmc_value_t *v);

static bool is_pickled(shmc_state *st, shmc_value_t v)
{
	if (v.type != SHMC_TUPLE || shmc_seq_len(v) != 3)
		return false;
	shmc_value_t *m = shmc_seq_at(v, 0);
	return m->type == SHMC_BYTES && m->len == (uint32_t)PyBytes_GET_SIZE(st->marker) &&
	       memcmp(m->str, PyBytes_AS_STRING(st->marker), m->len) == 0 &&
	       shmc_seq_at(v, 1)->type == SHMC_BYTES && shmc_seq_at(v, 2)->type == SHMC_TUPLE;
}

static PyObject *unpickle(shmc_state *st, ArenaObject *arena, shmc_value_t *v)
{
	shmc_value_t *p = shmc_seq_at(*v, 1);
	PyObject *payload = PyBytes_FromStringAndSize(p->str, p->len);
	if (payload == NULL)
		return NULL;
	PyObject *refs = from_value(st, arena, shmc_seq_at(*v, 2));
	if (refs == NULL) {
		Py_DECREF(payload);
		return NULL;
	}
	PyObject *r = PyObject_CallFunctionObjArgs(st->pickle_loads, payload, refs, NULL);
	Py_DECREF(payload);
	Py_DECREF(refs);
	return r;
}

static PyObject *from_value(shmc_state *st, ArenaObject *arena, shmc_value_t *v)
{
	switch (v->type) {
	case SHMC_NONE:
		Py_RETURN_NONE;
	case SHMC_BOOL:
		return PyBool_FromLong(v->b);
	case SHMC_INT:
		return PyLong_FromLongLong(v->i);
	case SHMC_FLOAT:
		return PyFloat_FromDouble(v->f);
	case SHMC_STR:
		return PyUnicode_DecodeUTF8(v->str, v->len, "surrogatepass");
	case SHMC_BYTES:
		return PyBytes_FromStringAndSize(v->str, v->len);
	case SHMC_BIGINT:
		return bigint_out(st, *v);
	case SHMC_COMPLEX: {
		double re, im;
		int rc = shmc_complex_parts(*v, &re, &im);
		return rc ? shmc_py_error(st, rc) : PyComplex_FromDoubles(re, im);
	}
	case SHMC_BYTEARRAY:
		return PyByteArray_FromStringAndSize(v->str, v->len);
	case SHMC_SET:
	case SHMC_FROZENSET: {
		PyObject *r = v->type == SHMC_SET ? PySet_New(NULL) : PyFrozenSet_New(NULL);
		shmc_value_t *m;
		size_t pos = 0;
		/* PySet_Add fills a new frozenset too, before anyone sees it. */
		while (r && (m = shmc_set_next(*v, &pos)) != NULL) {
			PyObject *pm = from_value(st, arena, m);
			if (pm == NULL || PySet_Add(r, pm) < 0)
				Py_CLEAR(r);
			Py_XDECREF(pm);
		}
		return r;
	}
	case SHMC_TUPLE:
	case SHMC_LIST: {
		if (v->type == SHMC_TUPLE && is_pickled(st, *v))
			return unpickle(st, arena, v);
		Py_ssize_t n = (Py_ssize_t)shmc_seq_len(*v);
		PyObject *r = v->type == SHMC_TUPLE ? PyTuple_New(n) : PyList_New(n);
		if (r == NULL)
			return NULL;
		for (Py_ssize_t i = 0; i < n; i++) {
			PyObject *item = from_value(st, arena, shmc_seq_at(*v, i));
			if (item == NULL) {
				Py_DECREF(r);
				return NULL;
			}
			if (v->type == SHMC_TUPLE)
				PyTuple_SET_ITEM(r, i, item);
			else
				PyList_SET_ITEM(r, i, item);
		}
		return r;
	}
	case SHMC_DICT: {
		PyObject *r = PyDict_New();
		if (r == NULL)
			return NULL;
		size_t n = shmc_pdict_len(*v);
		for (size_t i = 0; i < n; i++) {
			shmc_value_t *k, *val;
			if (shmc_pdict_entry(*v, i, &k, &val) != 0)
				break;
			PyObject *pk = from_value(st, arena, k);
			PyObject *pv = pk ? from_value(st, arena, val) : NULL;
			if (pv == NULL || PyDict_SetItem(r, pk, pv) < 0) {
				Py_XDECREF(pk);
				Py_XDECREF(pv);
				Py_DECREF(r);
				return NULL;
			}
			Py_DECREF(pk);
			Py_DECREF(pv);
		}
		return r;
	}
	case SHMC_REF: {
		shmc_obj_t *h = v->ref;
		if (!v->owned) { /* a view: the proxy needs a handle of its own */
			int rc = shmc_obj_dup(v->ref, &h);
			if (rc)
				return shmc_py_error(st, rc);
		} else {
			*v = shmc_none(); /* the proxy takes the handle over */
		}
		return shmc_py_proxy_new(arena, h, NULL);
	}
	default:
		return PyErr_Format(st->Error, "shmc: a value of unknown type %d", (int)v->type);
	}
}

PyObject *shmc_py_from_value(shmc_state *st, ArenaObject *arena, shmc_value_t *v)
{
	return from_value(st, arena, v);
}
