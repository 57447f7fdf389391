/*
 * save.c -- shmc_arena_save: a copy of every named object, and of all it
 * reaches, in a file (the format: savefmt.h).
 *
 * Consistency. Each object is copied at one moment of its own, by the path
 * its kind already has for a whole copy: a list or dict (and a Namespace's
 * table) by its sequence-locked snapshot, a queue under its owner lock, a
 * Value by one atomic read. Nothing holds across objects: other processes
 * keep working, and two objects may be copied before and after one change
 * that touched both. An Array is copied element by element, each atomically,
 * as shmc_array_copy() does.
 *
 * Objects are numbered as they are first reached (the names, sorted, then
 * breadth first), by identity (shmc_obj_ident), so an object reached twice
 * is written once.
 *
 * Durability. The file is written to a temporary file in the target's
 * directory -- unnamed (O_TMPFILE) where the file system allows, named
 * "<file>.tmp.<pid>.<n>" only at the last moment -- synced, renamed over the
 * target, and the directory synced: a crash leaves the old file or the new
 * one, never half of one. The temporary file is flock()ed before it gets a
 * name; a save removes the named temporary files of that target whose lock
 * it can take, i.e. those a dead saver left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/heap.h"
#include "base/sbuf.h"
#include "containers/cache.h"
#include "containers/dict.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/savefmt.h"
#include "objects/obj.h"
#include "sync/sync.h"

#define FLUSH_AT (1u << 20)

struct sobj {
	shmc_obj_t *h; /* ours */
	shmc_ident_t id;
	shmc_kind_t kind;
};

struct saver {
	unsigned flags;
	struct sobj *obj;
	uint32_t nobj, capobj;
	uint32_t *index; /* open addressing: record + 1, 0 empty */
	uint32_t nindex; /* a power of two */
	struct shmc__sbuf sb;
	int fd;
	uint64_t paylen;
	uint32_t crc;
	int err;
};

static uint64_t ident_hash(shmc_ident_t id)
{
	uint64_t h = id.offset * 0x9e3779b97f4a7c15ull ^ id.id;
	return h ^ (h >> 31);
}

static int grow_index(struct saver *s)
{
	uint32_t n = s->nindex ? s->nindex * 2 : 64;
	uint32_t *ix = shmc__heap_alloc((size_t)n * sizeof(*ix));
	if (ix == NULL)
		return -ENOMEM;
	memset(ix, 0, (size_t)n * sizeof(*ix));
	for (uint32_t i = 0; i < s->nobj; i++) {
		uint64_t j = ident_hash(s->obj[i].id);
		while (ix[j & (n - 1)])
			j++;
		ix[j & (n - 1)] = i + 1;
	}
	shmc__heap_free(s->index);
	s->index = ix;
	s->nindex = n;
	return 0;
}

/* The record number of the object H names, adding it if new (with a handle
 * of our own). @return 0, SHMC_EKIND (a kind that cannot be saved), and the
 * errors of shmc_obj_ident, shmc_obj_dup */
static int intern(struct saver *s, shmc_obj_t *h, uint32_t *out)
{
	shmc_ident_t id;
	int rc = shmc_obj_ident(h, &id);
	if (rc)
		return rc;
	uint64_t j = ident_hash(id);
	for (; s->nindex; j++) {
		uint32_t e = s->index[j & (s->nindex - 1)];
		if (e == 0)
			break;
		if (s->obj[e - 1].id.offset == id.offset && s->obj[e - 1].id.id == id.id) {
			*out = e - 1;
			return 0;
		}
	}
	shmc_kind_t kind = shmc_obj_kind(h);
	switch (kind) {
	case SHMC_KIND_POOL:
	case SHMC_KIND_ASYNC_RESULT:
	case SHMC_KIND_ITERATOR:
		return SHMC_EKIND; /* processes and their tasks: nothing to restore */
	default:
		break;
	}
	if (s->nobj == UINT32_MAX - 1)
		return SHMC_EFULL;
	if (s->nobj == s->capobj) {
		uint32_t n = s->capobj ? s->capobj * 2 : 64;
		struct sobj *o = shmc__heap_realloc(s->obj, (size_t)n * sizeof(*o));
		if (o == NULL)
			return -ENOMEM;
		s->obj = o;
		s->capobj = n;
	}
	if ((uint64_t)(s->nobj + 1) * 2 > s->nindex && (rc = grow_index(s)) != 0)
		return rc;
	shmc_obj_t *mine;
	if ((rc = shmc_obj_dup(h, &mine)) != 0)
		return rc;
	s->obj[s->nobj] = (struct sobj){.h = mine, .id = id, .kind = kind};
	for (j = ident_hash(id); s->index[j & (s->nindex - 1)]; j++)
		;
	s->index[j & (s->nindex - 1)] = s->nobj + 1;
	*out = s->nobj++;
	return 0;
}

/* Output: buffered, checksummed, written to the temporary file. ------------ */

static void flush(struct saver *s)
{
	if (s->sb.err && !s->err)
		s->err = s->sb.err;
	if (s->err || s->sb.len == 0)
		return;
	s->crc = shmc__crc32c(s->crc, s->sb.p, s->sb.len);
	s->paylen += s->sb.len;
	const char *p = s->sb.p;
	size_t n = s->sb.len;
	while (n) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->err = w < 0 ? -errno : -EIO;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
	s->sb.len = 0;
}

static void put(struct saver *s, const void *p, size_t n)
{
	shmc__sb_putn(&s->sb, p, n);
	if (s->sb.len >= FLUSH_AT)
		flush(s);
}

static void put_u8(struct saver *s, unsigned v)
{
	unsigned char b = (unsigned char)v;
	put(s, &b, 1);
}

static void put_uint(struct saver *s, uint64_t v, unsigned n)
{
	unsigned char b[8];
	shmc__put_le(b, v, n);
	put(s, b, n);
}

static void put_blob(struct saver *s, unsigned tag, const void *p, size_t n)
{
	put_u8(s, tag);
	put_uint(s, n, 4);
	put(s, p, n);
}

/* Encode V (savefmt.h), interning the objects it refers to. */
static int put_value(struct saver *s, shmc_value_t v, int depth)
{
	if (depth > SHMC__SAVE_MAX_DEPTH)
		return SHMC_EDEPTH;
	int rc = 0;
	switch (v.type) {
	case SHMC_NONE:
		put_u8(s, SHMC__ST_NONE);
		break;
	case SHMC_BOOL:
		put_u8(s, v.b ? SHMC__ST_TRUE : SHMC__ST_FALSE);
		break;
	case SHMC_INT:
		put_u8(s, SHMC__ST_INT);
		put_uint(s, (uint64_t)v.i, 8);
		break;
	case SHMC_FLOAT: {
		uint64_t bits;
		memcpy(&bits, &v.f, 8);
		put_u8(s, SHMC__ST_FLOAT);
		put_uint(s, bits, 8);
		break;
	}
	case SHMC_BIGINT: {
		size_t n = shmc_int_byte_len(v);
		unsigned char *b = shmc__heap_alloc(n ? n : 1);
		if (b == NULL)
			return -ENOMEM;
		if ((rc = shmc_int_to_bytes(v, b, n)) == 0)
			put_blob(s, SHMC__ST_BIGINT, b, n);
		shmc__heap_free(b);
		break;
	}
	case SHMC_COMPLEX: {
		double re, im;
		uint64_t a, b;
		if ((rc = shmc_complex_parts(v, &re, &im)) != 0)
			return rc;
		memcpy(&a, &re, 8);
		memcpy(&b, &im, 8);
		put_u8(s, SHMC__ST_COMPLEX);
		put_uint(s, a, 8);
		put_uint(s, b, 8);
		break;
	}
	case SHMC_STR:
		put_blob(s, SHMC__ST_STR, v.str, v.len);
		break;
	case SHMC_BYTES:
		put_blob(s, SHMC__ST_BYTES, v.str, v.len);
		break;
	case SHMC_BYTEARRAY:
		put_blob(s, SHMC__ST_BYTEARRAY, v.str, v.len);
		break;
	case SHMC_TUPLE:
	case SHMC_LIST: {
		size_t n = shmc_seq_len(v);
		put_u8(s, v.type == SHMC_TUPLE ? SHMC__ST_TUPLE : SHMC__ST_LIST);
		put_uint(s, n, 4);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = put_value(s, *shmc_seq_at(v, (int64_t)i), depth + 1);
		break;
	}
	case SHMC_DICT: {
		size_t n = shmc_pdict_len(v);
		put_u8(s, SHMC__ST_DICT);
		put_uint(s, n, 4);
		for (size_t i = 0; i < n && rc == 0; i++) {
			shmc_value_t *k, *x;
			if ((rc = shmc_pdict_entry(v, i, &k, &x)) == 0 &&
			    (rc = put_value(s, *k, depth + 1)) == 0)
				rc = put_value(s, *x, depth + 1);
		}
		break;
	}
	case SHMC_SET:
	case SHMC_FROZENSET: {
		size_t n = shmc_set_len(v), pos = 0, seen = 0;
		shmc_value_t *m;
		put_u8(s, v.type == SHMC_SET ? SHMC__ST_SET : SHMC__ST_FROZENSET);
		put_uint(s, n, 4);
		while (rc == 0 && seen < n && (m = shmc_set_next(v, &pos)) != NULL) {
			rc = put_value(s, *m, depth + 1);
			seen++;
		}
		if (rc == 0 && seen != n)
			rc = SHMC_ECORRUPT;
		break;
	}
	case SHMC_OPAQUE: {
		size_t n;
		const void *d = shmc_opaque_data(v, &n);
		const char *r = shmc_opaque_repr(v);
		put_blob(s, SHMC__ST_OPAQUE, d, n);
		put_uint(s, strlen(r), 4);
		put(s, r, strlen(r));
		break;
	}
	case SHMC_REF: {
		uint32_t idx;
		if ((rc = intern(s, v.ref, &idx)) == 0) {
			put_u8(s, SHMC__ST_REF);
			put_uint(s, idx, 4);
		}
		break;
	}
	default:
		return SHMC_ECORRUPT;
	}
	return rc;
}

/* A value built here (owned, or a failed builder's SHMC_ERROR), written
 * and freed; RC the error of making it. */
static int put_made(struct saver *s, int rc, shmc_value_t v)
{
	if (rc == 0 && v.type == SHMC_ERROR)
		rc = (int)v.i;
	if (rc == 0)
		rc = put_value(s, v, 1);
	shmc_value_free(&v);
	return rc;
}

/* An int parameter, or the error N stands for when negative. */
static int count_param(int64_t n, shmc_value_t *out)
{
	if (n < 0)
		return (int)n;
	*out = shmc_int(n);
	return 0;
}

/* (TYPECODE, V) as a tuple; V taken. */
static int typed_param(int tc, int rc, shmc_value_t v, shmc_value_t *out)
{
	if (tc < 0 || rc) {
		shmc_value_free(&v);
		return tc < 0 ? tc : rc;
	}
	char c = (char)tc;
	*out = shmc_tuple_of(2, shmc_strn(&c, 1), v);
	return 0;
}

/* Record I: the kind, its parameters, its contents (savefmt.h). */
static int put_record(struct saver *s, uint32_t i)
{
	shmc_obj_t *h = s->obj[i].h;
	shmc_value_t par = shmc_none(), con = shmc_none();
	struct shmc__obj *o;
	int64_t n = 0;
	int rc = 0;
	switch (s->obj[i].kind) {
	case SHMC_KIND_NAMESPACE:
		rc = shmc__resolve(h, SHMC_KIND_NAMESPACE, &o);
		if (rc == 0)
			rc = shmc__dict_snapshot(shmc__handle_arena(h), o, &con);
		break;
	case SHMC_KIND_LIST:
		rc = shmc_list_copy(h, &con);
		break;
	case SHMC_KIND_DICT:
		rc = shmc_dict_copy(h, &con);
		break;
	case SHMC_KIND_LOCK:
	case SHMC_KIND_RLOCK:
	case SHMC_KIND_EVENT:
		break; /* back in their initial state: nothing to keep */
	case SHMC_KIND_SEMAPHORE:
	case SHMC_KIND_BOUNDED_SEMAPHORE:
		rc = count_param(shmc__semaphore_initial(h), &par);
		break;
	case SHMC_KIND_BARRIER:
		rc = count_param(shmc_barrier_parties(h), &par);
		break;
	case SHMC_KIND_CONDITION: {
		shmc_obj_t *lk;
		uint32_t idx = 0;
		if ((rc = shmc_condition_lock(h, &lk)) == 0) {
			rc = intern(s, lk, &idx);
			shmc_obj_release(lk);
		}
		par = shmc_int(idx);
		break;
	}
	case SHMC_KIND_QUEUE:
	case SHMC_KIND_JOINABLE_QUEUE:
		if ((rc = shmc__queue_snapshot(h, &n, &con)) == 0)
			par = shmc_int(n);
		break;
	case SHMC_KIND_CVALUE: {
		shmc_value_t v = shmc_none();
		int r = shmc_cvalue_get(h, &v);
		rc = typed_param(shmc_cvalue_typecode(h), r, v, &par);
		break;
	}
	case SHMC_KIND_ARRAY: {
		shmc_value_t v = shmc_none();
		int r = shmc_array_copy(h, &v);
		rc = typed_param(shmc_array_typecode(h), r, v, &par);
		break;
	}
	case SHMC_KIND_MVALUE:
		if ((rc = shmc_mvalue_typecode(h, &par)) == 0)
			rc = shmc_mvalue_get(h, &con);
		break;
	case SHMC_KIND_CACHE: { /* [max entries, max bytes]; [(key, value, ns left)] */
		uint64_t me, mb;
		if ((rc = shmc__cache_export(h, &me, &mb, &con)) == 0) {
			par = shmc_plist_of(2, shmc_int((int64_t)me), shmc_int((int64_t)mb));
			rc = par.type == SHMC_ERROR ? (int)par.i : 0;
		}
		break;
	}
	default:
		rc = SHMC_EKIND;
		break;
	}
	if (rc == 0) {
		put_u8(s, s->obj[i].kind);
		rc = put_made(s, 0, par);
		par = shmc_none();
		if (rc == 0)
			rc = put_made(s, 0, con);
		con = shmc_none();
	}
	shmc_value_free(&par);
	shmc_value_free(&con);
	return rc;
}

/* The file ----------------------------------------------------------------- */

/* The directory of PATH, and its last component. @return 0, -ENOMEM */
static int split_path(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 1;
	*dir = shmc__heap_alloc(n + 1);
	if (*dir == NULL)
		return -ENOMEM;
	if (slash == NULL)
		memcpy(*dir, ".", 2);
	else if (n == 0)
		memcpy(*dir, "/", 2);
	else {
		memcpy(*dir, path, n);
		(*dir)[n] = 0;
	}
	*base = slash ? slash + 1 : path;
	return 0;
}

/* Whether S is ".tmp.<pid>.<n>", the suffix of our temporary files (and
 * nobody else's file is removed). */
static bool temp_suffix(const char *s)
{
	if (strncmp(s, ".tmp.", 5) != 0)
		return false;
	s += 5;
	for (int part = 0; part < 2; part++) {
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
		if (part == 0 && *s++ != '.')
			return false;
	}
	return *s == 0;
}

/* Remove the temporary files of BASE in DIR that dead savers left: those
 * whose lock we can take (a live saver holds its lock from before the
 * file has a name until it is renamed). */
static void sweep_temps(int dirfd, const char *base)
{
	DIR *d = fdopendir(dup(dirfd));
	if (d == NULL)
		return;
	size_t bl = strlen(base);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, base, bl) != 0 || !temp_suffix(e->d_name + bl))
			continue;
		int fd = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd, e->d_name, 0);
		close(fd);
	}
	closedir(d);
}

static int write_all_at(int fd, const void *p, size_t n, off_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p = (const char *)p + w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static void make_header(unsigned char *h, const struct saver *s, uint32_t nroots)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(h, 0, SHMC__SAVE_HDR);
	memcpy(h, SHMC__SAVE_MAGIC, 8);
	shmc__put_le(h + 8, SHMC__SAVE_VERSION, 4);
	shmc__put_le(h + 12, SHMC__SAVE_HDR, 4);
	shmc__put_le(h + 16, SHMC__SAVE_LAYOUT, 8);
	shmc__put_le(h + 24, s->paylen, 8);
	shmc__put_le(h + 32, s->nobj, 4);
	shmc__put_le(h + 36, nroots, 4);
	shmc__put_le(h + 40, s->crc, 4);
	shmc__put_le(h + 48, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, 8);
	shmc__put_le(h + 60, shmc__crc32c(0, h, 60), 4);
}

/* The payload: the objects named, all they reach, then the names. */
static int write_payload(struct saver *s, shmc_arena_t *arena, uint32_t *nroots)
{
	shmc_value_t names;
	int rc = shmc_root_names(arena, &names);
	if (rc)
		return rc;
	size_t nn = shmc_seq_len(names);
	uint32_t *root = shmc__heap_alloc((nn ? nn : 1) * sizeof(*root));
	shmc_value_t kept = shmc_plist_of(0);
	if (root == NULL || kept.type == SHMC_ERROR)
		rc = -ENOMEM;
	for (size_t i = 0; i < nn && rc == 0; i++) {
		shmc_value_t *nm = shmc_seq_at(names, (int64_t)i);
		shmc_obj_t *h;
		rc = shmc_root_find(arena, nm->str, &h);
		if (rc == SHMC_EKEY) { /* removed meanwhile: not in the copy */
			rc = 0;
			continue;
		}
		if (rc)
			break;
		rc = intern(s, h, &root[shmc_seq_len(kept)]);
		shmc_obj_release(h);
		if (rc == SHMC_EKIND && (s->flags & SHMC_SAVE_SKIP_UNSAVABLE)) {
			rc = 0;
			continue;
		}
		if (rc == 0) {
			shmc_value_t copy;
			rc = shmc_value_copy(*nm, &copy);
			if (rc == 0)
				rc = shmc_plist_append(&kept, copy);
		}
	}
	/* Records: interning appends, so this reaches everything. */
	for (uint32_t i = 0; rc == 0 && i < s->nobj; i++)
		rc = put_record(s, i);
	for (size_t i = 0; rc == 0 && i < shmc_seq_len(kept); i++) {
		rc = put_value(s, *shmc_seq_at(kept, (int64_t)i), 1);
		put_uint(s, root[i], 4);
	}
	if (rc == 0)
		*nroots = (uint32_t)shmc_seq_len(kept);
	shmc__heap_free(root);
	shmc_value_free(&kept);
	shmc_value_free(&names);
	return rc;
}

/* An unnamed file in DIR, or one named NAME there when the file system
 * cannot make unnamed ones; locked either way before it has a name. */
static int open_temp(int dirfd, const char *name, bool *named)
{
	int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	*named = false;
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE: a dead saver's file may be named yet unlocked
		 * for an instant; the sweep may then remove a live one's,
		 * whose rename then fails (no half file either way). */
		fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		*named = true;
	}
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) != 0) {
		int e = -errno;
		close(fd);
		if (*named)
			unlinkat(dirfd, name, 0);
		return e;
	}
	return fd;
}

int shmc_arena_save(shmc_arena_t *arena, const char *path, unsigned flags)
{
	if (!shmc__arena_ok(arena))
		return SHMC_EHANDLE;
	if (path == NULL || path[0] == 0 || strlen(path) > 4000 || (flags & ~SHMC_SAVE_SKIP_UNSAVABLE))
		return -EINVAL;
	char *dir;
	const char *base;
	int rc = split_path(path, &dir, &base);
	if (rc)
		return rc;
	char tmp[4096 + 32];
	if (base[0] == 0) {
		shmc__heap_free(dir);
		return -EINVAL;
	}
	/* Unique among the threads of this process too. */
	static atomic_uint serial;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%u", base, (long)getpid(),
		 atomic_fetch_add(&serial, 1));
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	shmc__heap_free(dir);
	if (dirfd < 0)
		return -errno;
	sweep_temps(dirfd, base);

	struct saver s = {.flags = flags, .fd = -1};
	bool named = false;
	uint32_t nroots = 0;
	unsigned char hdr[SHMC__SAVE_HDR] = {0};
	s.fd = open_temp(dirfd, tmp, &named);
	if (s.fd < 0)
		rc = s.fd;
	/* The header last, once the payload's length and checksum are known. */
	if (rc == 0 && lseek(s.fd, SHMC__SAVE_HDR, SEEK_SET) < 0)
		rc = -errno;
	if (rc == 0)
		rc = write_payload(&s, arena, &nroots);
	flush(&s);
	if (rc == 0)
		rc = s.err;
	if (rc == 0) {
		make_header(hdr, &s, nroots);
		rc = write_all_at(s.fd, hdr, sizeof(hdr), 0);
	}
	if (rc == 0 && fsync(s.fd) != 0)
		rc = -errno;
	if (rc == 0 && !named) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", s.fd);
		if (linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW) != 0)
			rc = -errno;
		else
			named = true;
	}
	if (rc == 0 && renameat(dirfd, tmp, dirfd, base) != 0)
		rc = -errno;
	else if (rc == 0)
		named = false; /* it is the file now */
	if (rc == 0 && fsync(dirfd) != 0)
		rc = -errno;
	if (named)
		unlinkat(dirfd, tmp, 0);
	if (s.fd >= 0)
		close(s.fd);
	close(dirfd);
	for (uint32_t i = 0; i < s.nobj; i++)
		shmc_obj_release(s.obj[i].h);
	shmc__heap_free(s.obj);
	shmc__heap_free(s.index);
	shmc__heap_free(s.sb.p);
	return rc;
}
