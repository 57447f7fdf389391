/*
 * fuzz_live.c -- an attached process survives its arena being scribbled
 * on: whatever bytes land in the header, the process slots, the epoch
 * records, the page map, the handle table, the allocator's free lists or
 * the objects' bodies, every public operation returns (any code) without
 * a crash, a hang or a sanitizer report.
 *
 * Each input makes a fresh arena (small: 4 process slots, 4 records)
 * holding a namespace, a list, a dict, a queue, a lock, a list nested in
 * the dict and values of most types, all under named roots, and then runs
 * the input as a script of steps:
 *
 *   byte b < 0x80: public operation b % NOPS, its argument the next byte
 *   byte b >= 0x80: a write of (b & 15) + 1 bytes, at the 4-byte offset
 *                   that follows (as fuzz_arena.c: top bit clear, modulo
 *                   the arena's used length; top bit set, bits 16-30 pick
 *                   a landmark and bits 0-15 an offset from it), of the
 *                   bytes after it; with d = (b >> 4) & 7 not 0, a byte k
 *                   comes first and the write lands DURING the next
 *                   operation, at its (1 + k * d)-th checked access
 *
 * The operations cover every kind: namespace, list and dict set, get and
 * delete, append, pop, insert, sort, slices, merge, dict iterators, queue
 * put and get, lock acquire and release, named roots, identities, reprs,
 * the arena check, stats, a view of the live mapping, reclaim, release and
 * re-find of handles, new objects; at the end every handle is released and
 * the arena closed, which are operations too.
 *
 * Writes land between operations, and in the middle of one: the fuzz
 * build's checked accessor (shmc__at) calls a hook, which counts the
 * operation's accesses and makes an armed write at the chosen one -- as
 * another process scribbling at that instant would, while the operation
 * holds its lock, a half-built array or a block just taken from a free
 * list. A scribbler thread would do the same irreproducibly. (The replay
 * build has no hook: there an armed write lands after its operation.)
 *
 * Blocking calls are given no wait (timeout 0): a lock or a queue that the
 * scribbles make look held or empty is a legitimate reason to wait. Lists
 * double (a list assigned into itself, ls *= 2) only while short: a script
 * of doublings is legitimately slow, not a hang.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena/arena.h"
#include "inspect/inspect.h"
#include "testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS 256

static shmc_arena_t *A;
static uint64_t used; /* the arena's brk after the set-up */
static uint64_t landmark[512];
static unsigned nlandmarks;

enum { NS, LS, D, Q, LK, INNER, NHANDLES };
static shmc_obj_t *h[NHANDLES];
static const char *const root_name[NHANDLES] = {"ns", "ls", "d", "q", "lk", "inner"};
static const shmc_kind_t root_kind[NHANDLES] = {
	SHMC_KIND_NAMESPACE, SHMC_KIND_LIST, SHMC_KIND_DICT,
	SHMC_KIND_QUEUE, SHMC_KIND_LOCK, SHMC_KIND_LIST,
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_live: %s: %s\n", what, shmc_strerror(rc));
	abort();
}

#define MUST(call)                                                             \
	do {                                                                   \
		int rc_ = (int)(call);                                         \
		if (rc_ < 0)                                                   \
			die(#call, rc_);                                       \
	} while (0)

static void add_landmark(uint64_t off)
{
	if (off && off < used && nlandmarks < sizeof(landmark) / sizeof(landmark[0]))
		landmark[nlandmarks++] = off;
}

/* A value from an argument byte: every type, references included. */
static shmc_value_t value_of(uint8_t x)
{
	static const char bytes[] = {0, 1, 'x', (char)0xff};
	switch (x % 14) {
	case 0: return shmc_none();
	case 1: return shmc_bool(x & 16);
	case 2: return shmc_int((int64_t)x - 100);
	case 3: return shmc_int(INT64_MAX - x);
	case 4: return shmc_float(x / 3.0);
	case 5: return shmc_str(x & 16 ? "a longer string, not inlined in a word" : "s");
	case 6: return shmc_bytes(bytes, x % 4);
	case 7: return shmc_tuple_of(2, shmc_int(x), shmc_str("t"));
	case 8: return shmc_plist_of(2, shmc_int(x), shmc_plist_of(1, shmc_none()));
	case 9: return shmc_pdict_of(1, shmc_int(x & 3), shmc_str("v"));
	case 10: return h[LS] ? shmc_ref(h[LS]) : shmc_none();
	case 11: return h[D] ? shmc_ref(h[D]) : shmc_none();
	case 12: return shmc_set_of(2, shmc_int(x & 7), shmc_str("e"));
	default: return h[INNER] ? shmc_ref(h[INNER]) : shmc_complex(x, -1);
	}
}

/* A hashable key. */
static shmc_value_t key_of(uint8_t x)
{
	switch (x % 4) {
	case 0: return shmc_int(x & 15);
	case 1: return shmc_str(x & 16 ? "k" : "key");
	case 2: return shmc_tuple_of(1, shmc_int(x & 3));
	default: return shmc_float((x & 7) / 2.0);
	}
}

static const char *attr_of(uint8_t x)
{
	static const char *const names[] = {"a", "b", "long_attribute_name", "_x"};
	return names[x % 4];
}

static int64_t index_of(uint8_t x)
{
	return (int64_t)(x % 16) - 8;
}

static int64_t slice_end(uint8_t x)
{
	return x & 8 ? SHMC_SLICE_NONE : (int64_t)(x & 7) - 3;
}

static void drop(shmc_value_t *v)
{
	shmc_value_free(v);
}

static void with_value(int rc, shmc_value_t *out)
{
	if (rc >= 0 || rc == 1)
		drop(out);
}

static int bump(shmc_value_t *v, void *ctx)
{
	(void)ctx;
	shmc_value_free(v);
	*v = shmc_int(1);
	return 0;
}

static void sink(void *ctx, const char *msg)
{
	*(size_t *)ctx += strlen(msg);
}

static int on_object(void *ctx, const shmc_object_info_t *o)
{
	*(uint64_t *)ctx += o->offset + o->refs + (uint64_t)o->length;
	return 0;
}

static void view_live(void)
{
	shmc_view_t *v;
	if (shmc__view_of_mapping(A->base, A->capacity, -1, true, &v) != 0)
		return;
	shmc_arena_stats_t st;
	uint64_t sum = 0;
	shmc_view_stats(v, &st);
	shmc_view_objects(v, on_object, &sum);
	static const char *const paths[] = {NULL, "ns", "d/k", "ls/0"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *s;
		if (shmc_view_dump(v, paths[i], 0, &s) == 0)
			shmc_free(s);
	}
	shmc_view_close(v);
}

static void refind(int k)
{
	shmc_obj_release(h[k]);
	h[k] = NULL;
	shmc_obj_t *o;
	if (shmc_root_find(A, root_name[k], &o) == 0)
		h[k] = o;
}

#define NOPS 48
#define SMALL 64 /* a list that may still double */

static void operate(uint8_t op, uint8_t x)
{
	shmc_value_t v, w, out;
	int rc;
	switch (op % NOPS) {
	/* Namespace. */
	case 0:
		v = value_of(x);
		shmc_namespace_set(h[NS], attr_of(x >> 4), v);
		drop(&v);
		break;
	case 1:
		with_value(shmc_namespace_get(h[NS], attr_of(x), &out), &out);
		break;
	case 2:
		shmc_namespace_del(h[NS], attr_of(x));
		break;
	case 3:
		with_value(shmc_namespace_names(h[NS], &out), &out);
		break;
	case 4:
		v = shmc_int(x);
		with_value(shmc_namespace_add(h[NS], attr_of(x), v, &out), &out);
		break;
	/* List. */
	case 5:
		v = value_of(x);
		shmc_list_append(h[x & 32 ? INNER : LS], v);
		drop(&v);
		break;
	case 6:
		with_value(shmc_list_get(h[LS], index_of(x), &out), &out);
		break;
	case 7:
		v = value_of(x >> 4);
		shmc_list_set(h[LS], index_of(x), v);
		drop(&v);
		break;
	case 8:
		with_value(shmc_list_pop(h[LS], index_of(x), &out), &out);
		break;
	case 9:
		shmc_list_del(h[x & 32 ? INNER : LS], index_of(x));
		break;
	case 10:
		v = value_of(x >> 4);
		shmc_list_insert(h[LS], index_of(x), v);
		drop(&v);
		break;
	case 11:
		shmc_list_sort(h[x & 1 ? INNER : LS], NULL, NULL, NULL, x & 2);
		break;
	case 12:
		with_value(shmc_list_slice_get(h[LS], slice_end(x), slice_end(x >> 4),
					       x & 128 ? -1 : 1, &out),
			   &out);
		break;
	case 13:
		/* A list assigned into itself doubles: kept small, or a
		 * script of doublings is a legitimately slow input. */
		v = x & 64 && shmc_list_len(h[LS]) < SMALL ? shmc_ref(h[LS] ? h[LS] : h[INNER])
			   : shmc_plist_of(2, shmc_int(x), value_of(x >> 2));
		shmc_list_slice_set(h[LS], slice_end(x), slice_end(x >> 4), 1, v);
		drop(&v);
		break;
	case 14:
		shmc_list_slice_del(h[LS], slice_end(x), slice_end(x >> 4), x & 128 ? 2 : 1);
		break;
	case 15:
		v = shmc_tuple_of(2, value_of(x), value_of(x >> 3));
		shmc_list_extend(h[LS], v);
		drop(&v);
		break;
	case 16:
		v = value_of(x);
		shmc_list_index(h[LS], v);
		shmc_list_count(h[LS], v);
		shmc_list_contains(h[LS], v);
		shmc_list_remove(h[LS], v);
		drop(&v);
		break;
	case 17:
		with_value(shmc_list_copy(h[x & 1 ? INNER : LS], &out), &out);
		shmc_list_len(h[LS]);
		break;
	case 18:
		if (x & 1)
			shmc_list_reverse(h[LS]);
		else if (x & 2)
			shmc_list_inplace_repeat(h[INNER],
						 x & 4 && shmc_list_len(h[INNER]) < SMALL ? 2 : 0);
		else
			shmc_list_clear(h[INNER]);
		break;
	case 19:
		v = shmc_int(1);
		with_value(shmc_list_add(h[LS], index_of(x), v, &out), &out);
		shmc_list_update(h[LS], index_of(x >> 4), bump, NULL);
		break;
	/* Dict. */
	case 20:
		v = key_of(x);
		w = value_of(x >> 2);
		shmc_dict_set(h[D], v, w);
		drop(&v);
		drop(&w);
		break;
	case 21:
		v = key_of(x);
		with_value(shmc_dict_get(h[D], v, &out), &out);
		shmc_dict_has(h[D], v);
		drop(&v);
		break;
	case 22:
		v = key_of(x);
		shmc_dict_del(h[D], v);
		drop(&v);
		break;
	case 23:
		v = key_of(x);
		if (x & 64) {
			shmc_value_t k2;
			rc = shmc_dict_popitem(h[D], &k2, &out);
			if (rc == 0) {
				drop(&k2);
				drop(&out);
			}
		} else {
			with_value(shmc_dict_pop(h[D], v, &out), &out);
		}
		drop(&v);
		break;
	case 24:
		v = shmc_pdict_of(2, key_of(x), value_of(x >> 1), key_of(x >> 2),
				  value_of(x >> 3));
		shmc_dict_merge(h[D], v);
		drop(&v);
		break;
	case 25:
		if (x & 1)
			with_value(shmc_dict_keys(h[D], &out), &out);
		else if (x & 2)
			with_value(shmc_dict_items(h[D], &out), &out);
		else if (x & 4)
			with_value(shmc_dict_values(h[D], &out), &out);
		else
			with_value(shmc_dict_copy(h[D], &out), &out);
		break;
	case 26: {
		shmc_dict_iter_t *it;
		if (shmc_dict_iter_new(h[D], SHMC_ITER_KEYS + x % 3, &it) != 0)
			break;
		for (int i = 0; i < 64; i++) {
			rc = shmc_dict_iter_next(it, &out);
			if (rc != 1)
				break;
			drop(&out);
		}
		shmc_dict_iter_free(it);
		break;
	}
	case 27:
		v = key_of(x);
		w = value_of(x >> 3);
		with_value(shmc_dict_setdefault(h[D], v, w, &out), &out);
		drop(&v);
		drop(&w);
		break;
	case 28:
		if (x & 1)
			shmc_dict_clear(h[D]);
		else {
			v = key_of(x);
			shmc_dict_update(h[D], v, bump, NULL);
			drop(&v);
		}
		shmc_dict_len(h[D]);
		break;
	case 29:
		v = x & 1 ? shmc_ref(h[D] ? h[D] : h[LS]) : shmc_pdict_of(1, key_of(x), shmc_int(x));
		with_value(shmc_dict_or(h[D], v, &out), &out);
		drop(&v);
		break;
	/* Queue and lock. */
	case 30:
		v = value_of(x);
		shmc_queue_put(h[Q], v, 0);
		drop(&v);
		break;
	case 31:
		with_value(shmc_queue_get_nowait(h[Q], &out), &out);
		shmc_queue_qsize(h[Q]);
		shmc_queue_empty(h[Q]);
		break;
	case 32:
		if (shmc_lock_acquire(h[LK], 0) == 1 && (x & 1))
			shmc_lock_release(h[LK]);
		break;
	case 33:
		shmc_lock_release(h[LK]);
		break;
	/* The arena. */
	case 34: {
		shmc_check_report_t rep;
		size_t said = 0;
		shmc_arena_check(A, x & 1 ? SHMC_CHECK_REAP : 0, &rep, sink, &said);
		break;
	}
	case 35: {
		shmc_arena_stats_t st;
		shmc_arena_stats(A, &st);
		break;
	}
	case 36:
		view_live();
		break;
	case 37:
		shmc_arena_reclaim(A);
		break;
	/* Handles and roots. */
	case 38:
		refind(x % NHANDLES);
		break;
	case 39:
		with_value(shmc_root_names(A, &out), &out);
		break;
	case 40: {
		shmc_obj_t *o;
		if (shmc_root_find_or_create(A, x & 1 ? "extra" : root_name[x % NHANDLES],
					     root_kind[x % NHANDLES], &o) == 0)
			shmc_obj_release(o);
		break;
	}
	case 41:
		shmc_root_remove(A, x & 1 ? "extra" : root_name[x % NHANDLES]);
		break;
	case 42: {
		shmc_obj_t *o = NULL;
		rc = x & 1 ? shmc_list_new(A, &o) : x & 2 ? shmc_dict_new(A, &o)
				: x & 4 ? shmc_queue_new(A, x >> 4, &o) : shmc_lock_new(A, &o);
		if (rc == 0) {
			v = shmc_ref(o);
			shmc_list_append(h[LS], v); /* nested, to be dropped later */
			drop(&v);
			shmc_obj_release(o);
		}
		break;
	}
	case 43: {
		shmc_ident_t id;
		shmc_obj_t *o;
		if (h[x % NHANDLES] && shmc_obj_ident(h[x % NHANDLES], &id) == 0 &&
		    shmc_obj_from_ident(A, id, &o) == 0)
			shmc_obj_release(o);
		break;
	}
	case 44: {
		char *s;
		if (shmc_obj_repr(h[x % NHANDLES], &s) == 0)
			shmc_free(s);
		if (shmc_obj_str(h[x % NHANDLES], &s) == 0)
			shmc_free(s);
		break;
	}
	case 45: {
		shmc_obj_t *o;
		if (h[x % NHANDLES] && shmc_obj_dup(h[x % NHANDLES], &o) == 0)
			shmc_obj_release(o);
		break;
	}
	case 46:
		v = shmc_plist_of(1, value_of(x));
		with_value(shmc_list_concat(h[LS], v, &out), &out);
		drop(&v);
		with_value(shmc_list_repeat(h[INNER], x & 3, &out), &out);
		break;
	default:
		v = value_of(x);
		w = value_of(x >> 1);
		shmc_list_cas(h[LS], index_of(x), v, w);
		shmc_namespace_cas(h[NS], attr_of(x), v, w);
		drop(&v);
		drop(&w);
		break;
	}
}

/* The arena and its objects ------------------------------------------------ */

static void set_up(void)
{
	shmc_arena_options_t opts = {.capacity = SHMC_MIN_CAPACITY, .max_procs = 4,
				     .max_threads = 4};
	MUST(shmc_arena_create_anon(&opts, &A));
	for (int k = 0; k < NHANDLES; k++)
		MUST(shmc_root_find_or_create(A, root_name[k], root_kind[k], &h[k]));
	for (uint8_t x = 0; x < 14; x++) {
		shmc_value_t v = value_of(x);
		MUST(shmc_list_append(h[LS], v));
		if (x != 10 && x != 11 && x != 13)
			MUST(shmc_namespace_set(h[NS], attr_of(x), v));
		shmc_value_t k = key_of(x);
		MUST(shmc_dict_set(h[D], k, v));
		shmc_value_free(&k);
		if (x < 6)
			MUST(shmc_queue_put(h[Q], v, 0));
		shmc_value_free(&v);
	}
	MUST(shmc_list_append(h[INNER], shmc_str("inner")));
	shmc_value_t k = shmc_str("k");
	MUST(shmc_dict_set(h[D], k, shmc_ref(h[INNER])));
	shmc_value_free(&k);
	for (int i = 0; i < 4; i++) /* retired blocks waiting */
		MUST(shmc_list_set(h[INNER], 0, shmc_str("replaced, retired")));
	MUST(shmc_list_pop(h[LS], 0, NULL)); /* a free block in a class */

	/* Landmarks: the header's parts, our slot and record, the data. */
	const struct shmc__hdr *hd = A->hdr;
	used = atomic_load(&hd->brk);
	nlandmarks = 0;
	landmark[nlandmarks++] = 0;
	add_landmark(offsetof(struct shmc__hdr, committed));
	add_landmark(offsetof(struct shmc__hdr, classes));
	for (unsigned c = 0; c < SHMC__NCLASSES; c += 8)
		add_landmark(offsetof(struct shmc__hdr, classes) +
			     c * sizeof(struct shmc__class_head));
	add_landmark(offsetof(struct shmc__hdr, pool));
	add_landmark(hd->procs_off);
	add_landmark(hd->recs_off);
	add_landmark(hd->pagemap_off + (hd->data_off >> SHMC__PAGE_SHIFT) * 2);
	add_landmark(atomic_load(&shmc__proc_at(A, A->slot)->handles_off));
	add_landmark(atomic_load(&shmc__rec_at(A, 0)->limbo_off));
	static const char *const magic[] = {"SMCO", "LIST", "DICT", "VAL"};
	for (uint64_t off = hd->data_off; off + 4 <= used; off += 16)
		for (size_t m = 0; m < sizeof(magic) / sizeof(magic[0]); m++)
			if (memcmp(A->base + off, magic[m], 4) == 0)
				add_landmark(off);
}

static void tear_down(void)
{
	for (int k = 0; k < NHANDLES; k++) {
		shmc_obj_release(h[k]);
		h[k] = NULL;
	}
	shmc_arena_close(A);
	A = NULL;
}

/* Writes armed to land during the next operation, at its WHEN-th checked
 * access; those its accesses did not reach land after it. */
struct armed {
	uint64_t at;
	size_t len;
	uint32_t when;
	uint8_t bytes[16];
};
static struct armed armed[4];
static unsigned narmed;
static uint32_t accesses;

static void land(struct armed *w)
{
	memcpy(A->base + w->at, w->bytes, w->len);
	w->len = 0;
}

#ifdef SHMC_FUZZ_DURING
static void on_access(void)
{
	accesses++;
	for (unsigned i = 0; i < narmed; i++)
		if (armed[i].when == accesses && armed[i].len)
			land(&armed[i]);
}
#endif

static void operate_armed(uint8_t op, uint8_t x)
{
	accesses = 0;
#ifdef SHMC_FUZZ_DURING
	shmc__fuzz_hook = narmed ? on_access : NULL;
#endif
	operate(op, x);
#ifdef SHMC_FUZZ_DURING
	shmc__fuzz_hook = NULL;
#endif
	for (unsigned i = 0; i < narmed; i++)
		if (armed[i].len)
			land(&armed[i]);
	narmed = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	set_up();
	narmed = 0;
	for (int steps = 0; size > 0 && steps < MAX_STEPS; steps++) {
		uint8_t b = *data++;
		size--;
		if (b < 0x80) {
			uint8_t x = size ? *data : 0;
			if (size) {
				data++;
				size--;
			}
			operate_armed(b, x);
			continue;
		}
		uint32_t during = (b >> 4) & 7, when = 0;
		if (during) {
			if (size < 1)
				break;
			when = 1 + (uint32_t)*data++ * during;
			size--;
		}
		if (size < 4)
			break;
		uint32_t off;
		memcpy(&off, data, 4);
		data += 4;
		size -= 4;
		size_t len = (size_t)(b & 15) + 1;
		if (len > size)
			len = size;
		uint64_t at = off & 0x80000000u
				      ? (landmark[((off >> 16) & 0x7fff) % nlandmarks] +
					 (off & 0xffff)) % used
				      : off % used;
		if (len > used - at)
			len = used - at;
		if (!during) {
			memcpy(A->base + at, data, len);
		} else if (narmed < sizeof(armed) / sizeof(armed[0])) {
			struct armed *w = &armed[narmed++];
			*w = (struct armed){.at = at, .len = len, .when = when};
			memcpy(w->bytes, data, len);
		}
		data += len;
		size -= len;
	}
	for (unsigned i = 0; i < narmed; i++) /* armed, but no operation came */
		if (armed[i].len)
			land(&armed[i]);
	tear_down();
	return 0;
}
