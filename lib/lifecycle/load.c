/*
 * load.c -- shmc_arena_load: a new arena from a save file (savefmt.h).
 *
 * Every byte of the file is untrusted. The file is read whole into private
 * memory (so that nobody can change it under the checks), then checked in
 * full before anything is created: the header (magic: SHMC_ENOTARENA;
 * version: SHMC_EVERSION; its checksum; layout: SHMC_ELAYOUT; the payload's
 * length and checksum: SHMC_ECHECKSUM), then a walk of every record and
 * name that builds nothing: every tag known, every length and count within
 * the bytes that remain, nesting bounded, str valid UTF-8, references to
 * records that exist, kinds that can be loaded, parameters of the shape
 * their kind needs, nothing left over.
 *
 * Then the arena is created and filled in three passes: every object is
 * created empty, from its parameters (a Condition once the other objects
 * exist, bound to its lock); then filled, its contents decoded with
 * references made into views of the handles of the first pass (so sharing
 * and cycles come back); then named. A failure in the passes (a value the
 * arena refuses, which the walk let through: an unhashable key, say; or a
 * full arena) closes and removes the new arena: nothing is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/heap.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/savefmt.h"
#include "values/value.h"

#define MAX_FILE ((uint64_t)1 << 40)

struct loader {
	const unsigned char *end;
	uint32_t nobj;
	uint8_t *kind;             /* per record */
	const unsigned char **par; /* per record: its parameters */
	const unsigned char **con; /* per record: its contents */
	shmc_obj_t **h;            /* per record, once created */
	const unsigned char *names; /* after the last record */
};

/* What the arena refused of a file that passed the walk: the file is
 * wrong, unless the arena ran out of something. */
static int fix_rc(int rc)
{
	if (rc == 0 || rc == -ENOMEM || rc == SHMC_EFULL || rc == SHMC_ETHREADS)
		return rc;
	return SHMC_ECHECKSUM;
}

static bool take(const struct loader *L, const unsigned char **p, size_t n,
		 const unsigned char **out)
{
	if ((size_t)(L->end - *p) < n)
		return false;
	*out = *p;
	*p += n;
	return true;
}

static bool take_uint(const struct loader *L, const unsigned char **p, unsigned n, uint64_t *v)
{
	const unsigned char *b;
	if (!take(L, p, n, &b))
		return false;
	*v = shmc__get_le(b, n);
	return true;
}

/* A length or count, at most what remains after it divided by PER. */
static bool take_count(const struct loader *L, const unsigned char **p, size_t per, uint64_t *n)
{
	return take_uint(L, p, 4, n) && *n <= (size_t)(L->end - *p) / per;
}

static int get_value(const struct loader *L, const unsigned char **p, int depth, bool refs,
		     shmc_value_t *out, unsigned *tag);

/* N items into a tuple or plain list (TYPE), or only walked (OUT NULL). */
static int get_seq(const struct loader *L, const unsigned char **p, int depth, bool refs,
		   uint64_t n, shmc_type_t type, shmc_value_t *out)
{
	shmc_value_t *items = NULL;
	if (out && (items = shmc__heap_alloc((n ? n : 1) * sizeof(*items))) == NULL)
		return -ENOMEM;
	int rc = 0;
	uint64_t i;
	for (i = 0; i < n && rc == 0; i++)
		rc = get_value(L, p, depth + 1, refs, items ? &items[i] : NULL, NULL);
	if (out == NULL)
		return rc;
	if (rc) {
		for (uint64_t j = 0; j + 1 < i; j++)
			shmc_value_free(&items[j]);
		shmc__heap_free(items);
		return rc;
	}
	shmc_value_t v = type == SHMC_TUPLE ? shmc_tuple_from(n, items) : shmc_plist_from(n, items);
	shmc__heap_free(items);
	if (v.type == SHMC_ERROR)
		return fix_rc((int)v.i);
	*out = v;
	return 0;
}

/* N key-value pairs into a plain dict, or N members into a set (SET). */
static int get_map(const struct loader *L, const unsigned char **p, int depth, bool refs,
		   uint64_t n, bool set, shmc_value_t *out)
{
	shmc_value_t m = shmc_none();
	if (out) {
		m = set ? shmc_set_of(0) : shmc_pdict_of(0);
		if (m.type == SHMC_ERROR)
			return (int)m.i;
	}
	int rc = 0;
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		shmc_value_t k, v;
		if ((rc = get_value(L, p, depth + 1, refs, out ? &k : NULL, NULL)) != 0)
			break;
		if (set) {
			if (out)
				rc = fix_rc(shmc_set_add(&m, k));
			continue;
		}
		if ((rc = get_value(L, p, depth + 1, refs, out ? &v : NULL, NULL)) != 0) {
			if (out)
				shmc_value_free(&k);
			break;
		}
		if (out)
			rc = fix_rc(shmc_pdict_set(&m, k, v));
	}
	if (out == NULL)
		return rc;
	if (rc) {
		shmc_value_free(&m);
		return rc;
	}
	*out = m;
	return 0;
}

/* A copy of the LEN bytes at B as TYPE (str: checked UTF-8). */
static int get_blob(const unsigned char *b, uint64_t len, shmc_type_t type, shmc_value_t *out)
{
	if (type == SHMC_STR && !shmc__utf8_valid((const char *)b, len))
		return SHMC_ECHECKSUM;
	if (out == NULL)
		return 0;
	shmc_value_t view = shmc_bytes(b, len);
	view.type = (uint8_t)type;
	return shmc_value_copy(view, out);
}

/* Decode one value at *P (savefmt.h), advancing *P; into *OUT (owned; a
 * reference is a view of the record's handle), or only walked when OUT is
 * NULL. *TAG (may be NULL) gets its tag. REFS: references allowed. */
static int get_value(const struct loader *L, const unsigned char **p, int depth, bool refs,
		     shmc_value_t *out, unsigned *tag)
{
	const unsigned char *b;
	uint64_t n, x, y;
	if (depth > SHMC__SAVE_MAX_DEPTH || !take(L, p, 1, &b))
		return SHMC_ECHECKSUM;
	unsigned t = *b;
	if (tag)
		*tag = t;
	shmc_value_t v = shmc_none();
	switch (t) {
	case SHMC__ST_NONE:
		break;
	case SHMC__ST_FALSE:
	case SHMC__ST_TRUE:
		v = shmc_bool(t == SHMC__ST_TRUE);
		break;
	case SHMC__ST_INT:
		if (!take_uint(L, p, 8, &x))
			return SHMC_ECHECKSUM;
		v = shmc_int((int64_t)x);
		break;
	case SHMC__ST_FLOAT: {
		double f;
		if (!take_uint(L, p, 8, &x))
			return SHMC_ECHECKSUM;
		memcpy(&f, &x, 8);
		v = shmc_float(f);
		break;
	}
	case SHMC__ST_COMPLEX: {
		double re, im;
		if (!take_uint(L, p, 8, &x) || !take_uint(L, p, 8, &y))
			return SHMC_ECHECKSUM;
		memcpy(&re, &x, 8);
		memcpy(&im, &y, 8);
		if (out) {
			v = shmc_complex(re, im);
			if (v.type == SHMC_ERROR)
				return (int)v.i;
		}
		break;
	}
	case SHMC__ST_BIGINT:
		if (!take_count(L, p, 1, &n) || !take(L, p, n, &b))
			return SHMC_ECHECKSUM;
		if (out)
			return shmc_int_from_bytes(b, n, out);
		return 0;
	case SHMC__ST_STR:
	case SHMC__ST_BYTES:
	case SHMC__ST_BYTEARRAY:
		if (!take_count(L, p, 1, &n) || !take(L, p, n, &b))
			return SHMC_ECHECKSUM;
		return get_blob(b, n,
				t == SHMC__ST_STR ? SHMC_STR
				: t == SHMC__ST_BYTES ? SHMC_BYTES : SHMC_BYTEARRAY,
				out);
	case SHMC__ST_TUPLE:
	case SHMC__ST_LIST:
		if (!take_count(L, p, 1, &n))
			return SHMC_ECHECKSUM;
		return get_seq(L, p, depth, refs, n, t == SHMC__ST_TUPLE ? SHMC_TUPLE : SHMC_LIST,
			       out);
	case SHMC__ST_DICT:
		if (!take_count(L, p, 2, &n))
			return SHMC_ECHECKSUM;
		return get_map(L, p, depth, refs, n, false, out);
	case SHMC__ST_SET:
	case SHMC__ST_FROZENSET: {
		if (!take_count(L, p, 1, &n))
			return SHMC_ECHECKSUM;
		int rc = get_map(L, p, depth, refs, n, true, out);
		if (rc == 0 && out && t == SHMC__ST_FROZENSET)
			shmc_set_freeze(out);
		return rc;
	}
	case SHMC__ST_OPAQUE: {
		const unsigned char *r;
		if (!take_count(L, p, 1, &n) || !take(L, p, n, &b) || !take_count(L, p, 1, &x) ||
		    !take(L, p, x, &r) || memchr(r, 0, x) || !shmc__utf8_valid((const char *)r, x))
			return SHMC_ECHECKSUM;
		if (out == NULL)
			return 0;
		char *repr = shmc__heap_alloc(x + 1);
		if (repr == NULL)
			return -ENOMEM;
		memcpy(repr, r, x);
		repr[x] = 0;
		v = shmc_opaque(b, n, repr);
		shmc__heap_free(repr);
		if (v.type == SHMC_ERROR)
			return fix_rc((int)v.i);
		break;
	}
	case SHMC__ST_REF:
		if (!refs || !take_uint(L, p, 4, &x) || x >= L->nobj)
			return SHMC_ECHECKSUM;
		if (out)
			v = shmc_ref(L->h[x]);
		break;
	default:
		return SHMC_ECHECKSUM;
	}
	if (out)
		*out = v;
	return 0;
}

/* The walk ------------------------------------------------------------------ */

/* The tags a kind's parameters and contents must have. */
static bool shape_ok(unsigned kind, unsigned par, unsigned con)
{
	switch (kind) {
	case SHMC_KIND_NAMESPACE:
	case SHMC_KIND_DICT:
		return par == SHMC__ST_NONE && con == SHMC__ST_DICT;
	case SHMC_KIND_LIST:
		return par == SHMC__ST_NONE && con == SHMC__ST_LIST;
	case SHMC_KIND_LOCK:
	case SHMC_KIND_RLOCK:
	case SHMC_KIND_EVENT:
		return par == SHMC__ST_NONE && con == SHMC__ST_NONE;
	case SHMC_KIND_SEMAPHORE:
	case SHMC_KIND_BOUNDED_SEMAPHORE:
	case SHMC_KIND_CONDITION:
	case SHMC_KIND_BARRIER:
		return par == SHMC__ST_INT && con == SHMC__ST_NONE;
	case SHMC_KIND_QUEUE:
	case SHMC_KIND_JOINABLE_QUEUE:
		return par == SHMC__ST_INT && con == SHMC__ST_LIST;
	case SHMC_KIND_CVALUE:
	case SHMC_KIND_ARRAY:
		return par == SHMC__ST_TUPLE && con == SHMC__ST_NONE;
	case SHMC_KIND_MVALUE:
		return par == SHMC__ST_STR;
	case SHMC_KIND_CACHE:
		return par == SHMC__ST_LIST && con == SHMC__ST_LIST;
	default:
		return false; /* Pool, AsyncResult, Iterator, unknown */
	}
}

/* Walk the payload [P, END): NOBJ records, then NROOTS names. */
static int walk(struct loader *L, const unsigned char *p, uint32_t nroots)
{
	for (uint32_t i = 0; i < L->nobj; i++) {
		const unsigned char *b;
		unsigned tp, tc;
		if (!take(L, &p, 1, &b))
			return SHMC_ECHECKSUM;
		L->kind[i] = *b;
		L->par[i] = p;
		int rc = get_value(L, &p, 1, false, NULL, &tp);
		if (rc)
			return rc;
		L->con[i] = p;
		if ((rc = get_value(L, &p, 1, true, NULL, &tc)) != 0)
			return rc;
		if (!shape_ok(*b, tp, tc))
			return SHMC_ECHECKSUM;
	}
	/* A Condition's lock is a Lock or RLock record. */
	for (uint32_t i = 0; i < L->nobj; i++) {
		if (L->kind[i] != SHMC_KIND_CONDITION)
			continue;
		uint64_t lk = shmc__get_le(L->par[i] + 1, 8);
		if (lk >= L->nobj ||
		    (L->kind[lk] != SHMC_KIND_LOCK && L->kind[lk] != SHMC_KIND_RLOCK))
			return SHMC_ECHECKSUM;
	}
	L->names = p;
	for (uint32_t i = 0; i < nroots; i++) {
		unsigned t;
		uint64_t x;
		const unsigned char *name = p;
		int rc = get_value(L, &p, 1, false, NULL, &t);
		if (rc)
			return rc;
		if (t != SHMC__ST_STR) /* only then are its length's bytes there */
			return SHMC_ECHECKSUM;
		uint64_t len = shmc__get_le(name + 1, 4);
		if (len == 0 || memchr(name + 5, 0, len) || !take_uint(L, &p, 4, &x) ||
		    x >= L->nobj)
			return SHMC_ECHECKSUM;
	}
	return p == L->end ? 0 : SHMC_ECHECKSUM;
}

/* The passes ---------------------------------------------------------------- */

/* Create record I from its parameters (a Condition: its lock exists). */
static int create(struct loader *L, shmc_arena_t *a, uint32_t i)
{
	const unsigned char *p = L->par[i];
	shmc_value_t par;
	int rc = get_value(L, &p, 1, false, &par, NULL);
	if (rc)
		return rc;
	const shmc_value_t *x = NULL, *y = NULL;
	if (par.type == SHMC_TUPLE) {
		if (shmc_seq_len(par) != 2 || shmc_seq_at(par, 0)->type != SHMC_STR ||
		    shmc_seq_at(par, 0)->len != 1) {
			shmc_value_free(&par);
			return SHMC_ECHECKSUM;
		}
		x = shmc_seq_at(par, 0);
		y = shmc_seq_at(par, 1);
	}
	shmc_obj_t **out = &L->h[i];
	switch (L->kind[i]) {
	case SHMC_KIND_NAMESPACE: rc = shmc_namespace_new(a, out); break;
	case SHMC_KIND_LIST: rc = shmc_list_new(a, out); break;
	case SHMC_KIND_DICT: rc = shmc_dict_new(a, out); break;
	case SHMC_KIND_LOCK: rc = shmc_lock_new(a, out); break;
	case SHMC_KIND_RLOCK: rc = shmc_rlock_new(a, out); break;
	case SHMC_KIND_EVENT: rc = shmc_event_new(a, out); break;
	case SHMC_KIND_SEMAPHORE: rc = shmc_semaphore_new(a, par.i, out); break;
	case SHMC_KIND_BOUNDED_SEMAPHORE: rc = shmc_bounded_semaphore_new(a, par.i, out); break;
	case SHMC_KIND_BARRIER:
		rc = par.i < 1 || par.i > UINT32_MAX ? -EINVAL
						     : shmc_barrier_new(a, (unsigned)par.i, out);
		break;
	case SHMC_KIND_CONDITION: rc = shmc_condition_new(a, L->h[par.i], out); break;
	case SHMC_KIND_QUEUE: rc = shmc_queue_new(a, par.i, out); break;
	case SHMC_KIND_JOINABLE_QUEUE: rc = shmc_joinable_queue_new(a, par.i, out); break;
	case SHMC_KIND_CVALUE: rc = shmc_cvalue_new(a, x->str[0], *y, out); break;
	case SHMC_KIND_ARRAY: rc = shmc_array_new(a, x->str[0], *y, out); break;
	case SHMC_KIND_MVALUE:
		rc = strlen(par.str) != par.len ? -EINVAL
						: shmc_mvalue_new(a, par.str, shmc_none(), out);
		break;
	case SHMC_KIND_CACHE:
		if (shmc_seq_len(par) != 2 || shmc_seq_at(par, 0)->type != SHMC_INT ||
		    shmc_seq_at(par, 1)->type != SHMC_INT || shmc_seq_at(par, 0)->i < 0 ||
		    shmc_seq_at(par, 1)->i < 0)
			rc = SHMC_ECHECKSUM;
		else
			rc = shmc_cache_new(a, NULL, (uint64_t)shmc_seq_at(par, 0)->i,
					    (uint64_t)shmc_seq_at(par, 1)->i, out);
		break;
	default: rc = SHMC_ECHECKSUM; break;
	}
	shmc_value_free(&par);
	return fix_rc(rc);
}

/* Fill record I with its contents. */
static int fill(struct loader *L, uint32_t i)
{
	const unsigned char *p = L->con[i];
	shmc_value_t con;
	int rc = get_value(L, &p, 1, true, &con, NULL);
	if (rc)
		return rc;
	shmc_obj_t *h = L->h[i];
	shmc_value_t *k, *v;
	switch (L->kind[i]) {
	case SHMC_KIND_NAMESPACE:
		for (size_t j = 0; rc == 0 && j < shmc_pdict_len(con); j++) {
			if ((rc = shmc_pdict_entry(con, j, &k, &v)) != 0)
				break;
			if (k->type != SHMC_STR || strlen(k->str) != k->len)
				rc = SHMC_ECHECKSUM;
			else
				rc = shmc_namespace_set(h, k->str, *v);
		}
		break;
	case SHMC_KIND_DICT:
		for (size_t j = 0; rc == 0 && j < shmc_pdict_len(con); j++)
			if ((rc = shmc_pdict_entry(con, j, &k, &v)) == 0)
				rc = shmc_dict_set(h, *k, *v);
		break;
	case SHMC_KIND_LIST:
		rc = shmc_list_extend(h, con);
		break;
	case SHMC_KIND_QUEUE:
	case SHMC_KIND_JOINABLE_QUEUE:
		for (size_t j = 0; rc == 0 && j < shmc_seq_len(con); j++)
			rc = shmc_queue_put_nowait(h, *shmc_seq_at(con, (int64_t)j));
		break;
	case SHMC_KIND_MVALUE:
		rc = shmc_mvalue_set(h, con);
		break;
	case SHMC_KIND_CACHE: /* in insertion order, each with its time left */
		for (size_t j = 0; rc == 0 && j < shmc_seq_len(con); j++) {
			const shmc_value_t *t = shmc_seq_at(con, (int64_t)j);
			if (t->type != SHMC_TUPLE || shmc_seq_len(*t) != 3 ||
			    shmc_seq_at(*t, 2)->type != SHMC_INT || shmc_seq_at(*t, 2)->i < 0)
				rc = SHMC_ECHECKSUM;
			else
				rc = shmc_cache_set(h, *shmc_seq_at(*t, 0), *shmc_seq_at(*t, 1),
						    shmc_seq_at(*t, 2)->i);
		}
		break;
	default:
		break; /* nothing (the walk saw None) */
	}
	shmc_value_free(&con);
	return fix_rc(rc);
}

/* Name the objects: the names after the last record. */
static int name_all(struct loader *L, shmc_arena_t *a, const unsigned char *p, uint32_t nroots)
{
	for (uint32_t i = 0; i < nroots; i++) {
		shmc_value_t name;
		uint64_t x = 0;
		int rc = get_value(L, &p, 1, false, &name, NULL);
		if (rc)
			return rc;
		take_uint(L, &p, 4, &x); /* the walk saw it */
		shmc_obj_t *got;
		rc = shmc_root_setdefault(a, name.str, L->h[x], &got);
		shmc_value_free(&name);
		if (rc)
			return fix_rc(rc);
		bool same = shmc_obj_same(got, L->h[x]);
		shmc_obj_release(got);
		if (!same) /* one name twice */
			return SHMC_ECHECKSUM;
	}
	return 0;
}

/* The header ---------------------------------------------------------------- */

static int check_header(const unsigned char *f, size_t n, uint32_t *nobj, uint32_t *nroots)
{
	size_t m = n < 8 ? n : 8;
	if (memcmp(f, SHMC__SAVE_MAGIC, m) != 0)
		return SHMC_ENOTARENA;
	if (n < 12)
		return SHMC_ECHECKSUM; /* the start of one, cut short */
	if (shmc__get_le(f + 8, 4) != SHMC__SAVE_VERSION)
		return SHMC_EVERSION;
	if (n < SHMC__SAVE_HDR || shmc__get_le(f + 60, 4) != shmc__crc32c(0, f, 60) ||
	    shmc__get_le(f + 12, 4) != SHMC__SAVE_HDR)
		return SHMC_ECHECKSUM;
	if (shmc__get_le(f + 16, 8) != SHMC__SAVE_LAYOUT)
		return SHMC_ELAYOUT;
	uint64_t paylen = shmc__get_le(f + 24, 8);
	if (paylen != n - SHMC__SAVE_HDR ||
	    shmc__get_le(f + 40, 4) != shmc__crc32c(0, f + SHMC__SAVE_HDR, paylen) ||
	    shmc__get_le(f + 44, 4) != 0 || shmc__get_le(f + 56, 4) != 0)
		return SHMC_ECHECKSUM;
	*nobj = (uint32_t)shmc__get_le(f + 32, 4);
	*nroots = (uint32_t)shmc__get_le(f + 36, 4);
	/* A record takes 3 bytes at least, a name 10. */
	if (*nobj > paylen / 3 || *nroots > paylen / 10)
		return SHMC_ECHECKSUM;
	return 0;
}

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = SHMC_ENOTREG;
	else if ((uint64_t)st.st_size > MAX_FILE)
		rc = -EFBIG;
	size_t n = rc ? 0 : (size_t)st.st_size, got = 0;
	unsigned char *b = rc ? NULL : shmc__heap_alloc(n ? n : 1);
	if (rc == 0 && b == NULL)
		rc = -ENOMEM;
	while (rc == 0 && got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		else if (r == 0)
			break; /* shrank meanwhile: checked as cut short */
		else
			got += (size_t)r;
	}
	close(fd);
	if (rc) {
		shmc__heap_free(b);
		return rc;
	}
	*buf = b;
	*len = got;
	return 0;
}

int shmc_arena_load(const char *path, const char *name, const shmc_arena_options_t *opts,
		    shmc_arena_t **out)
{
	if (path == NULL || path[0] == 0 || out == NULL)
		return -EINVAL;
	unsigned char *f = NULL;
	size_t n = 0;
	int rc = read_file(path, &f, &n);
	if (rc)
		return rc;
	struct loader L = {.end = f + n};
	uint32_t nroots = 0;
	if ((rc = check_header(f, n, &L.nobj, &nroots)) == 0) {
		size_t k = L.nobj ? L.nobj : 1;
		L.kind = shmc__heap_alloc(k);
		L.par = shmc__heap_alloc(k * sizeof(*L.par));
		L.con = shmc__heap_alloc(k * sizeof(*L.con));
		L.h = shmc__heap_alloc(k * sizeof(*L.h));
		if (!L.kind || !L.par || !L.con || !L.h)
			rc = -ENOMEM;
		else
			memset(L.h, 0, k * sizeof(*L.h));
	}
	if (rc == 0)
		rc = walk(&L, f + SHMC__SAVE_HDR, nroots);
	shmc_arena_t *a = NULL;
	if (rc == 0)
		rc = name ? shmc_arena_create(name, opts, &a) : shmc_arena_create_anon(opts, &a);
	/* Conditions last: their locks must exist. */
	for (uint32_t i = 0; rc == 0 && i < L.nobj; i++)
		if (L.kind[i] != SHMC_KIND_CONDITION)
			rc = create(&L, a, i);
	for (uint32_t i = 0; rc == 0 && i < L.nobj; i++)
		if (L.kind[i] == SHMC_KIND_CONDITION)
			rc = create(&L, a, i);
	for (uint32_t i = 0; rc == 0 && i < L.nobj; i++)
		rc = fill(&L, i);
	if (rc == 0)
		rc = name_all(&L, a, L.names, nroots);
	for (uint32_t i = 0; L.h && i < L.nobj; i++)
		shmc_obj_release(L.h[i]);
	if (rc && a) {
		shmc_arena_close(a);
		if (name)
			shmc_arena_unlink(name);
		a = NULL;
	}
	shmc__heap_free(L.kind);
	shmc__heap_free(L.par);
	shmc__heap_free(L.con);
	shmc__heap_free(L.h);
	shmc__heap_free(f);
	if (rc == 0)
		*out = a;
	return rc;
}
