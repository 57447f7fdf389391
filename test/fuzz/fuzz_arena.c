/*
 * fuzz_arena.c -- a corrupt arena image gives errors, never a crash or a
 * hang, to the code that reads arenas without attaching: the validation of
 * shmc_arena_open/shmc_arena_check_file, the arena check (shmc__check_mapping)
 * and the read-only views (shmc_view_*: stats, processes, objects, dumps).
 *
 * A template arena is made once: a small capacity, holding a namespace,
 * lists and dicts, nested references, plain values of every type (big
 * ints, complex, bytearray, sets and opaque values too), deleted
 * entries, a handle table and a retire queue with items in it. It is
 * snapshotted while attached, so that its process slot and epoch record are
 * in use. Each input is a list of patches laid over the image:
 *
 *   offset (4 bytes, little-endian)
 *   length (1 byte)
 *   that many bytes (fewer if the input ends)
 *
 * An offset with its top bit clear is taken modulo the image's length. One
 * with its top bit set names a landmark -- bits 16-30 pick one of the
 * structures found in the template (the header, the process slot, the epoch
 * record, every object, list array, dict table, value block, handle table
 * and retire queue) and bits 0-15 are an offset into it -- so that patches
 * land on what matters more often than at random.
 *
 * The patched image is mapped read-only, so that anything that writes to it
 * crashes, and, if its header passes validation, is checked and viewed.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer,address,undefined) for
 * `make fuzz` / `make fuzz-ci`, and with fuzz_replay.c (any compiler) to
 * replay the regression inputs under test/fuzz/ in `make test`.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena/arena.h"
#include "inspect/inspect.h"
#include "lifecycle/lifecycle.h"
#include "testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PATCHES 64

static uint8_t *image;   /* the template, as snapshotted */
static uint64_t image_len, capacity;
static uint8_t *mapping; /* capacity bytes: the image, patched */
static uint64_t landmark[1024];
static unsigned nlandmarks;

static void add_landmark(uint64_t off)
{
	if (off && off < image_len && nlandmarks < sizeof(landmark) / sizeof(landmark[0]))
		landmark[nlandmarks++] = off;
}

/* Where the template's structures start: the fixed parts, then every
 * 16-aligned block that begins with one of the format's magic numbers. */
static void find_landmarks(const shmc_arena_t *a)
{
	const struct shmc__hdr *h = a->hdr;
	landmark[nlandmarks++] = 0;
	add_landmark(h->procs_off);
	add_landmark(h->recs_off);
	add_landmark(h->pagemap_off + (h->data_off >> SHMC__PAGE_SHIFT) * 2);
	add_landmark(atomic_load(&shmc__proc_at(a, a->slot)->handles_off));
	for (uint32_t i = 0; i < atomic_load(&h->rec_hwm); i++)
		add_landmark(atomic_load(&shmc__rec_at(a, i)->limbo_off));
	static const char *const magic[] = {"SMCO", "LIST", "DICT", "VAL"};
	for (uint64_t off = h->data_off; off + 4 <= image_len; off += 16)
		for (size_t m = 0; m < sizeof(magic) / sizeof(magic[0]); m++)
			if (memcmp(image + off, magic[m], 4) == 0)
				add_landmark(off);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_arena: %s: %s\n", what, shmc_strerror(rc));
	abort();
}

#define MUST(call)                                                             \
	do {                                                                   \
		int rc_ = (int)(call);                                         \
		if (rc_ < 0)                                                   \
			die(#call, rc_);                                       \
	} while (0)

/* The template ------------------------------------------------------------ */

static shmc_obj_t *named(shmc_arena_t *a, const char *name, shmc_kind_t kind)
{
	shmc_obj_t *o;
	MUST(shmc_root_find_or_create(a, name, kind, &o));
	return o;
}

static void set_attr(shmc_obj_t *ns, const char *name, shmc_value_t v)
{
	MUST(shmc_namespace_set(ns, name, v));
	shmc_value_free(&v);
}

static void build_template(void)
{
	shmc_arena_options_t opts = {.capacity = SHMC_MIN_CAPACITY};
	shmc_arena_t *a;
	MUST(shmc_arena_create_anon(&opts, &a));
	shmc_obj_t *ns = named(a, "ns", SHMC_KIND_NAMESPACE);
	shmc_obj_t *ls = named(a, "ls", SHMC_KIND_LIST);
	shmc_obj_t *d = named(a, "d", SHMC_KIND_DICT);
	shmc_obj_t *e1 = named(a, "empty list", SHMC_KIND_LIST);
	shmc_obj_t *e2 = named(a, "empty dict", SHMC_KIND_DICT);
	shmc_obj_t *e3 = named(a, "empty ns", SHMC_KIND_NAMESPACE);
	shmc_obj_t *inner;
	MUST(shmc_list_new(a, &inner)); /* reachable only through d */

	static const char bytes[] = {0, 1, 'x', '\'', '"', '\\', (char)0x7f, (char)0xff};
	set_attr(ns, "none", shmc_none());
	set_attr(ns, "yes", shmc_bool(true));
	set_attr(ns, "no", shmc_bool(false));
	set_attr(ns, "small", shmc_int(42));
	set_attr(ns, "negative", shmc_int(-7));
	set_attr(ns, "big", shmc_int(INT64_MAX)); /* too big for a word */
	set_attr(ns, "float", shmc_float(-3.25e-300));
	set_attr(ns, "str", shmc_str("h\xc3\xa9llo \n\t\x01 \xe2\x98\x83 'q' \"d\""));
	set_attr(ns, "bytes", shmc_bytes(bytes, sizeof(bytes)));
	set_attr(ns, "tuple", shmc_tuple_of(3, shmc_int(1), shmc_str("a"), shmc_none()));
	set_attr(ns, "plist", shmc_plist_of(2, shmc_int(1),
					    shmc_plist_of(2, shmc_int(2), shmc_tuple_of(0))));
	set_attr(ns, "pdict", shmc_pdict_of(3, shmc_str("k"), shmc_float(0.5), shmc_int(2),
					    shmc_tuple_of(1, shmc_int(3)),
					    shmc_tuple_of(2, shmc_int(1), shmc_bool(true)),
					    shmc_bytes("x", 1)));
	set_attr(ns, "refs", shmc_tuple_of(2, shmc_ref(ls), shmc_plist_of(1, shmc_ref(d))));
	set_attr(ns, "ls", shmc_ref(ls));
	static const char big[] = "-340282366920938463463374607431768211457"; /* -2**128 - 1 */
	shmc_value_t v;
	MUST(shmc_int_from_str(big, strlen(big), 10, &v));
	set_attr(ns, "bigint", v);
	set_attr(ns, "complex", shmc_complex(1.5, -2));
	set_attr(ns, "bytearray", shmc_bytearray(bytes, sizeof(bytes)));
	set_attr(ns, "set", shmc_set_of(3, shmc_int(1), shmc_str("s"), shmc_tuple_of(1, shmc_int(2))));
	set_attr(ns, "frozenset",
		 shmc_frozenset_of(2, shmc_int(-1), shmc_frozenset_of(1, shmc_float(0.5))));
	set_attr(ns, "opaque", shmc_opaque("\x80\x04N.", 4, "None"));
	set_attr(ns, "_hidden", shmc_int(1));
	set_attr(ns, "gone", shmc_int(0));
	MUST(shmc_namespace_del(ns, "gone"));

	for (int i = 0; i < 10; i++)
		MUST(shmc_list_append(ls, shmc_int(i * i)));
	MUST(shmc_list_append(ls, shmc_str("a string item")));
	MUST(shmc_list_append(ls, shmc_ref(ns)));
	v = shmc_plist_of(3, shmc_float(1.5), shmc_ref(inner),
			  shmc_pdict_of(1, shmc_none(), shmc_ref(d)));
	MUST(shmc_list_append(ls, v));
	shmc_value_free(&v);

	for (int i = 0; i < 12; i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "value %d", i);
		MUST(shmc_dict_set(d, shmc_int(i), shmc_str(buf)));
	}
	MUST(shmc_dict_set(d, shmc_str("k"), shmc_ref(inner)));
	MUST(shmc_dict_set(d, shmc_float(2.5), shmc_bytes(bytes, 3)));
	v = shmc_tuple_of(2, shmc_str("t"), shmc_int(-1));
	MUST(shmc_dict_set(d, v, shmc_ref(ls)));
	shmc_value_free(&v);
	MUST(shmc_dict_set(d, shmc_bool(false), shmc_none()));
	v = shmc_frozenset_of(2, shmc_int(3), shmc_complex(0, 1));
	MUST(shmc_dict_set(d, v, shmc_bytearray("ba", 2)));
	shmc_value_free(&v);
	MUST(shmc_int_from_str(big + 1, strlen(big + 1), 10, &v));
	shmc_value_t empty = shmc_set_of(0);
	MUST(shmc_dict_set(d, v, empty));
	shmc_value_free(&empty);
	shmc_value_free(&v);
	for (int i = 0; i < 12; i += 3)
		MUST(shmc_dict_del(d, shmc_int(i)));

	MUST(shmc_list_append(inner, shmc_str("inner")));
	MUST(shmc_list_append(inner, shmc_ref(e1)));

	/* Items left in this thread's retire queue. */
	for (int i = 0; i < 5; i++)
		MUST(shmc_list_set(inner, 0, shmc_str("replaced, retired")));

	/* Snapshot while attached: our slot, handle table and retire queue
	 * are part of the image. */
	capacity = a->capacity;
	image_len = atomic_load(&a->hdr->brk);
	image = malloc(image_len);
	if (image == NULL)
		abort();
	memcpy(image, a->base, image_len);
	find_landmarks(a);

	shmc_obj_t *all[] = {ns, ls, d, e1, e2, e3, inner};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		shmc_obj_release(all[i]);
	shmc_arena_close(a);

	mapping = mmap(NULL, capacity, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mapping == MAP_FAILED)
		abort();
	memcpy(mapping, image, image_len);
	if (mprotect(mapping, capacity, PROT_READ) != 0)
		abort();
}

/* Running one image ----------------------------------------------------- */

static void sink(void *ctx, const char *msg)
{
	size_t *n = ctx;
	*n += strlen(msg);
}

struct names {
	char name[8][64];
	int n;
	uint64_t sum;
};

static int on_proc(void *ctx, const shmc_proc_info_t *p)
{
	struct names *ns = ctx;
	ns->sum += p->slot + p->pid + p->handles + p->alive;
	return 0;
}

static int on_object(void *ctx, const shmc_object_info_t *o)
{
	struct names *ns = ctx;
	ns->sum += o->offset + o->id + o->refs + (uint64_t)o->length + strlen(o->typeid) +
		   strlen(o->proxy) + o->locked + (uint64_t)o->lock_slot + o->lock_pid;
	if (o->name && ns->n < 8) {
		snprintf(ns->name[ns->n], sizeof(ns->name[0]), "%s", o->name);
		ns->n++;
	}
	return 0;
}

static void dump(shmc_view_t *v, const char *path)
{
	for (unsigned flags = 0; flags <= SHMC_VIEW_JSON; flags += SHMC_VIEW_JSON) {
		char *s;
		if (shmc_view_dump(v, path, flags, &s) == 0)
			shmc_free(s);
	}
}

static void examine(void)
{
	/* What shmc_arena_open and shmc_arena_check_file refuse, we do not read. */
	struct shmc__hdr h;
	uint64_t cap;
	memcpy(&h, mapping, sizeof(h));
	if (shmc__arena_validate_header(&h, capacity, &cap, shmc__layout_fingerprint()) != 0 ||
	    atomic_load(&h.state) != SHMC__ARENA_READY)
		return;

	shmc_check_report_t rep;
	size_t said = 0;
	shmc__check_mapping(mapping, cap, -1, &rep, sink, &said);

	shmc_view_t *v;
	if (shmc__view_of_mapping(mapping, cap, -1, true, &v) != 0)
		abort();
	shmc_arena_stats_t st;
	unsigned version;
	uint64_t fp;
	struct names ns = {.n = 0};
	shmc_view_stats(v, &st);
	shmc_view_format_version(v, &version, &fp);
	shmc_view_procs(v, on_proc, &ns);
	shmc_view_objects(v, on_object, &ns);
	dump(v, NULL);
	for (int i = 0; i < ns.n; i++)
		dump(v, ns.name[i]);
	static const char *const paths[] = {
		"ns/ls", "ns/refs", "ns/pdict", "ns/str", "ls/0", "ls/-1", "ls/12/x",
		"ls/11/ls/11", "d/1", "d/k", "d/k/1", "nope", "ns/nope/x",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		dump(v, paths[i]);
	shmc_view_close(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (image == NULL)
		build_template();
	struct { uint64_t off, len; } patch[MAX_PATCHES];
	int npatches = 0;
	if (mprotect(mapping, capacity, PROT_READ | PROT_WRITE) != 0)
		abort();
	while (size >= 5 && npatches < MAX_PATCHES) {
		uint32_t off;
		memcpy(&off, data, 4);
		size_t len = data[4];
		data += 5;
		size -= 5;
		if (len > size)
			len = size;
		uint64_t at = off & 0x80000000u
				      ? (landmark[((off >> 16) & 0x7fff) % nlandmarks] +
					 (off & 0xffff)) % image_len
				      : off % image_len;
		if (len > image_len - at)
			len = image_len - at;
		memcpy(mapping + at, data, len);
		patch[npatches].off = at;
		patch[npatches].len = len;
		npatches++;
		data += len;
		size -= len;
	}
	if (mprotect(mapping, capacity, PROT_READ) != 0)
		abort();

	examine();

	if (mprotect(mapping, capacity, PROT_READ | PROT_WRITE) != 0)
		abort();
	for (int i = 0; i < npatches; i++)
		memcpy(mapping + patch[i].off, image + patch[i].off, patch[i].len);
	if (mprotect(mapping, capacity, PROT_READ) != 0)
		abort();
	return 0;
}
