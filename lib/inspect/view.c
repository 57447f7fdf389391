/*
 * view.c -- a read-only look inside an arena, for tools.
 *
 * A view maps the arena file PROT_READ and never attaches: no slot, no
 * epoch record, no handle, no lock. So it cannot disturb the processes at
 * work and cannot be blocked by them. The price is that memory may be
 * reused under it while it reads; every read therefore goes through the
 * same validation as the arena check (bounded loops, checked offsets), and
 * what it shows of an arena being changed may be momentarily inconsistent.
 * Managed objects found inside values are shown by identity (their offset)
 * through stubs, which name an object without holding it.
 *
 * Decoding is bounded by what it reads, not only by what it finds: in a
 * sound arena every value block belongs to one word, so one pass over a
 * container decodes at most the arena's capacity in blocks. A corrupt arena
 * can make thousands of words name one huge block; a pass that would
 * decode more than the capacity stops with SHMC_ECORRUPT instead of
 * running for hours (struct budget).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "objects/handle.h"
#include "base/heap.h"
#include "objects/obj.h"
#include "arena/proc.h"
#include "values/repr.h"
#include "inspect/inspect.h"
#include "values/venc.h"

#define VIEW_MAGIC 0x57454956u /* "VIEW" */

struct shmc_view {
	uint32_t magic;
	bool borrowed;  /* the mapping is the caller's (shmc__view_of_mapping) */
	shmc_arena_t a; /* read-only: base, capacity, hdr, lock_fd */
};

static bool view_ok(const shmc_view_t *v)
{
	return v && v->magic == VIEW_MAGIC;
}

int shmc__view_of_mapping(void *base, uint64_t capacity, int lock_fd,
			  bool borrowed, shmc_view_t **out)
{
	shmc_view_t *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->magic = VIEW_MAGIC;
	v->borrowed = borrowed;
	v->a.base = base;
	v->a.capacity = capacity;
	v->a.hdr = base;
	v->a.fd = -1;
	v->a.lock_fd = lock_fd;
	v->a.slot = UINT32_MAX;
	shmc__arena_adopt_limits(&v->a);
	*out = v;
	return 0;
}

shmc_arena_t *shmc__view_arena(shmc_view_t *v)
{
	return &v->a;
}

void shmc_view_close(shmc_view_t *v)
{
	if (!view_ok(v))
		return;
	if (!v->borrowed) {
		munmap(v->a.base, v->a.capacity);
		close(v->a.lock_fd);
	}
	v->magic = 0;
	free(v);
}

int shmc_view_format_version(shmc_view_t *v, unsigned *version, uint64_t *fp)
{
	if (!view_ok(v))
		return SHMC_EHANDLE;
	if (version)
		*version = v->a.hdr->version;
	if (fp)
		*fp = v->a.hdr->fingerprint;
	return 0;
}

int shmc_view_stats(shmc_view_t *v, shmc_arena_stats_t *st)
{
	if (!view_ok(v) || st == NULL)
		return SHMC_EHANDLE;
	shmc__stats(&v->a, st);
	return 0;
}

int shmc_view_procs(shmc_view_t *v, int (*fn)(void *ctx, const shmc_proc_info_t *p),
		    void *ctx)
{
	if (!view_ok(v) || fn == NULL)
		return SHMC_EHANDLE;
	for (uint32_t s = 0; s < v->a.nprocs; s++) {
		struct shmc__proc *p = shmc__proc_at(&v->a, s);
		if (ld_acquire(&p->state) == SHMC__PROC_FREE)
			continue;
		shmc_proc_info_t info = {
			.slot = s,
			.pid = ld_relaxed(&p->pid),
			.alive = shmc__proc_alive(&v->a, s),
			.handles = shmc__handles_count(&v->a, s),
			.attached_ns = ld_relaxed(&p->attached_ns),
		};
		int rc = fn(ctx, &info);
		if (rc)
			return rc;
	}
	return 0;
}

/* Consistent reads ----------------------------------------------------------- */

#define VIEW_TRIES 64

/* The kind of the object at OFF, read once (a live arena may reuse the
 * memory at any moment), or NULL. */
static const struct shmc__kind *object_kind(shmc_arena_t *a, uint64_t off,
					    struct shmc__obj **op, unsigned *kindp)
{
	struct shmc__obj *o = shmc__at(a, off, sizeof(*o), 16);
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC)
		return NULL;
	unsigned kind = *(volatile uint16_t *)&o->kind;
	const struct shmc__kind *k = shmc__kind_of(kind);
	*op = o;
	*kindp = kind;
	return k;
}

/* Run READ as one reading of object O: a view takes no lock, so it checks
 * the object's sequence counter around the reading and tries again if a
 * writer changed the object meanwhile (a writer unlinks before it frees, so
 * a reading that saw no change read no freed memory). @return READ's code,
 * or -EAGAIN when writers never let it finish */
static int read_consistent(struct shmc__obj *o, int (*read)(void *ctx),
			   void (*reset)(void *ctx), void *ctx)
{
	for (int i = 0; i < VIEW_TRIES; i++) {
		uint64_t s = ld_acquire(&o->seq);
		if (s & 1) { /* a writer is mid-change (or died: not ours to fix) */
			sched_yield();
			continue;
		}
		int rc = read(ctx);
		atomic_thread_fence(memory_order_acquire);
		if (ld_relaxed(&o->seq) == s)
			return rc;
		reset(ctx);
	}
	/* Writers never paused: show a reading that is whole but may mix
	 * moments (everything read was validated), as documented. */
	for (int i = 0; i < VIEW_TRIES; i++) {
		int rc = read(ctx);
		if (rc == 0)
			return 0;
		reset(ctx);
	}
	return -EAGAIN;
}

/* What one pass may decode: the arena's capacity in value blocks. */
struct budget {
	uint64_t left;
};

static struct budget budget_for(const shmc_arena_t *a)
{
	struct budget b = {a->capacity};
	return b;
}

/* Whether decoding W fits in B (which it then pays for). */
static bool afford(const shmc_arena_t *a, struct budget *b, uint64_t w)
{
	uint64_t cost = shmc__word_block_bytes(a, w);
	if (cost > b->left)
		return false;
	b->left -= cost;
	return true;
}

/* Named objects ------------------------------------------------------------- */

struct named {
	uint64_t off;
	char *name;
};

struct names {
	struct named *e;
	size_t n, cap, max; /* max: the directory's length */
	shmc_arena_t *a;
	struct budget budget;
};

static int collect_name(void *ctx, uint64_t key, uint64_t val)
{
	struct names *ns = ctx;
	shmc_value_t k;
	if (ns->n == ns->max)
		return 1; /* more entries than the directory's length says */
	if (!afford(ns->a, &ns->budget, key))
		return 1; /* corrupt: the names found so far will do */
	if (!shmc__w_is_ref(val) || shmc__word_load_view(ns->a, key, &k) != 0)
		return 0;
	if (k.type == SHMC_STR && ns->n == ns->cap) {
		/* Room grows with the names found, not with the length the
		 * directory claims: a damaged length costs no memory. */
		size_t cap = ns->cap ? 2 * ns->cap : 16;
		cap = cap < ns->max ? cap : ns->max;
		struct named *e = realloc(ns->e, cap * sizeof(*e));
		if (e == NULL) {
			shmc_value_free(&k);
			return 1; /* the names found so far will do */
		}
		ns->e = e;
		ns->cap = cap;
	}
	if (k.type == SHMC_STR) {
		ns->e[ns->n].off = shmc__w_ref_off(val);
		ns->e[ns->n].name = (char *)k.str; /* owned: freed with names */
		ns->n++;
		return 0;
	}
	shmc_value_free(&k);
	return 0;
}

struct names_read {
	shmc_arena_t *a;
	struct shmc__obj *dir;
	const struct shmc__kind *k;
	struct names *ns;
};

static void names_free(struct names *ns);

static int names_read(void *p)
{
	struct names_read *r = p;
	struct names *ns = r->ns;
	int64_t n = r->k->length(r->a, r->dir);
	if (n <= 0)
		return 0;
	/* Each entry holds two words (key and value) in the arena: a length
	 * beyond what the arena could hold is damage. */
	if ((uint64_t)n > r->a->capacity / (2 * sizeof(uint64_t)))
		return SHMC_ECORRUPT;
	ns->max = (size_t)n;
	r->k->items(r->a, r->dir, collect_name, ns);
	return 0;
}

static void names_reset(void *p)
{
	struct names_read *r = p;
	shmc_arena_t *a = r->ns->a;
	names_free(r->ns);
	memset(r->ns, 0, sizeof(*r->ns));
	r->ns->a = a;
	r->ns->budget = budget_for(a); /* a second pass */
}

/* The named objects: one consistent reading of the directory. */
static int names_load(shmc_arena_t *a, struct names *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->a = a;
	ns->budget = budget_for(a);
	uint64_t off = ld_acquire(&a->hdr->roots_off);
	if (off == 0)
		return 0;
	struct shmc__obj *dir;
	unsigned kind;
	const struct shmc__kind *k = object_kind(a, off, &dir, &kind);
	if (k == NULL || kind != SHMC_KIND_DICT)
		return SHMC_ECORRUPT;
	struct names_read r = {a, dir, k, ns};
	return read_consistent(dir, names_read, names_reset, &r);
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		shmc__heap_free(ns->e[i].name);
	free(ns->e);
}

static const char *name_of(const struct names *ns, uint64_t off)
{
	for (size_t i = 0; i < ns->n; i++)
		if (ns->e[i].off == off)
			return ns->e[i].name;
	return NULL;
}

/* Objects ------------------------------------------------------------------------ */

static bool fill_info(shmc_arena_t *a, uint64_t off, const struct names *ns,
		      shmc_object_info_t *info)
{
	struct shmc__obj *o = (struct shmc__obj *)(a->base + off);
	const struct shmc__kind *k = shmc__kind_of(o->kind);
	memset(info, 0, sizeof(*info));
	if (k == NULL) /* reused while walked */
		return false;
	info->offset = off;
	info->id = o->id;
	info->kind = (shmc_kind_t)o->kind;
	info->typeid = k->typeid;
	info->proxy = k->proxy;
	info->refs = ld_relaxed(&o->refs);
	info->length = k->length ? k->length(a, o) : -1;
	uint32_t word = ld_relaxed(&o->lock.word);
	uint32_t token = word & ~SHMC__OLOCK_WAITERS;
	info->locked = token != 0;
	info->waiters = (word & SHMC__OLOCK_WAITERS) != 0 ||
			(ld_relaxed(&o->flags) & SHMC__OBJ_SLEEPERS) != 0;
	info->lock_slot = -1;
	if (token) {
		uint32_t slot = (token & ((1u << SHMC__TOKEN_SLOT_BITS) - 1)) - 1;
		if (slot < a->nprocs) {
			info->lock_slot = (int)slot;
			info->lock_pid = ld_relaxed(&shmc__proc_at(a, slot)->pid);
		}
		info->lock_owner_alive = shmc__token_alive(a, token);
	}
	info->name = name_of(ns, off);
	return true;
}

struct object_walk {
	shmc_arena_t *a;
	struct names names;
	int (*fn)(void *ctx, const shmc_object_info_t *o);
	void *ctx;
	int rc;
	uint64_t dir;
};

static void on_object(void *p, uint64_t off)
{
	struct object_walk *ow = p;
	if (ow->rc || off == ow->dir) /* the directory is bookkeeping */
		return;
	shmc_object_info_t info;
	if (fill_info(ow->a, off, &ow->names, &info))
		ow->rc = ow->fn(ow->ctx, &info);
}

int shmc_view_objects(shmc_view_t *v, int (*fn)(void *ctx, const shmc_object_info_t *o),
		      void *ctx)
{
	if (!view_ok(v) || fn == NULL)
		return SHMC_EHANDLE;
	struct object_walk ow = {.a = &v->a, .fn = fn, .ctx = ctx,
				 .dir = ld_acquire(&v->a.hdr->roots_off)};
	(void)names_load(&v->a, &ow.names); /* names are a courtesy here */
	int rc = shmc__check_walk(&v->a, 0, NULL, NULL, NULL, on_object, &ow);
	names_free(&ow.names);
	if (rc == SHMC_ECORRUPT)
		rc = 0; /* what could be walked was shown */
	return ow.rc ? ow.rc : rc;
}

/* Dumping ------------------------------------------------------------------------- */

/* The value an item's value word VAL holds, in a container of kind K (a
 * cache wraps it with its deadline). @return 0, SHMC_EKEY (an expired
 * entry), -ENOMEM, SHMC_ECORRUPT */
static int item_load(shmc_arena_t *a, const struct shmc__kind *k, uint64_t val,
		     shmc_value_t *out)
{
	if (k->item_load_view)
		return k->item_load_view(a, val, out);
	return shmc__word_load_view(a, val, out);
}

/* A container's items copied out once, as a plain list or plain dict, so
 * that what is printed is one reading even if the arena changes. */
struct snap {
	shmc_arena_t *a;
	const struct shmc__kind *k;
	shmc_value_t out;
	int err;
	struct budget budget; /* of the pass under way */
};

static int snap_item(void *ctx, uint64_t key, uint64_t val)
{
	struct snap *sn = ctx;
	shmc_value_t v;
	if (!afford(sn->a, &sn->budget, val) ||
	    (sn->out.type != SHMC_LIST && !afford(sn->a, &sn->budget, key))) {
		sn->err = SHMC_ECORRUPT; /* words sharing blocks: not sound */
		return 1;
	}
	if ((sn->err = item_load(sn->a, sn->k, val, &v)) != 0) {
		if (sn->err != SHMC_EKEY)
			return 1;
		sn->err = 0; /* expired: left out, as every read does */
		return 0;
	}
	if (sn->out.type == SHMC_LIST) {
		sn->err = shmc_plist_append(&sn->out, v);
	} else {
		shmc_value_t k;
		if ((sn->err = shmc__word_load_view(sn->a, key, &k)) != 0) {
			shmc_value_free(&v);
			return 1;
		}
		sn->err = shmc_pdict_set(&sn->out, k, v);
	}
	return sn->err != 0;
}

struct snap_read {
	struct snap sn;
	struct shmc__obj *o;
	const struct shmc__kind *k;
	bool list;
};

static int snap_read(void *p)
{
	struct snap_read *r = p;
	int rc = r->list ? shmc__seq_new(SHMC_LIST, 0, &r->sn.out)
			 : shmc__pmap_new(&r->sn.out);
	if (rc)
		return rc;
	r->k->items(r->sn.a, r->o, snap_item, &r->sn);
	if (r->sn.err) {
		shmc_value_free(&r->sn.out);
		return r->sn.err == SHMC_EUNHASHABLE ? SHMC_ECORRUPT : r->sn.err;
	}
	return 0;
}

static void snap_reset(void *p)
{
	struct snap_read *r = p;
	shmc_value_free(&r->sn.out);
	r->sn.err = 0;
	r->sn.budget = budget_for(r->sn.a); /* a second pass */
}

/* Object O's items, copied out in one consistent reading. */
static int snapshot(shmc_arena_t *a, struct shmc__obj *o, const struct shmc__kind *k,
		    bool list, shmc_value_t *out)
{
	struct snap_read r = {.sn = {.a = a, .k = k, .budget = budget_for(a)}, .o = o, .k = k,
			      .list = list};
	int rc = read_consistent(o, snap_read, snap_reset, &r);
	if (rc == 0)
		*out = r.sn.out;
	return rc;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Namespace(a=1, b=2): the "name=repr" strings of the attributes not
 * starting with '_', sorted (Python's rule); in JSON, an object. */
static int render_namespace(shmc_value_t d, bool json, struct shmc__sbuf *sb)
{
	size_t n = d.map->len, m = 0;
	char **items = calloc(n + 1, sizeof(char *));
	int rc = items ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		shmc_value_t k = d.map->e[i].key, v = d.map->e[i].val;
		if (k.type != SHMC_STR) {
			rc = SHMC_ECORRUPT;
			break;
		}
		if (!json && k.len && k.str[0] == '_')
			continue;
		struct shmc__sbuf one = {0};
		if (json) {
			shmc__json(&one, k);
			shmc__sb_puts(&one, ": ");
			shmc__json(&one, v);
		} else {
			shmc__sb_putn(&one, k.str, k.len);
			shmc__sb_putc(&one, '=');
			shmc__repr(&one, v);
		}
		if ((rc = shmc__sb_finish(&one, &items[m])) == 0)
			m++;
	}
	if (rc == 0) {
		qsort(items, m, sizeof(char *), cmp_str);
		shmc__sb_puts(sb, json ? "{" : "Namespace(");
		for (size_t i = 0; i < m; i++) {
			if (i)
				shmc__sb_puts(sb, ", ");
			shmc__sb_puts(sb, items[i]);
		}
		shmc__sb_puts(sb, json ? "}" : ")");
	}
	for (size_t i = 0; i < m; i++)
		shmc__heap_free(items[i]);
	free(items);
	return rc;
}

/* The contents of object OFF, as str(proxy) prints them, or as JSON. */
static int render_object(shmc_arena_t *a, uint64_t off, bool json, struct shmc__sbuf *sb)
{
	struct shmc__obj *o;
	unsigned kind;
	const struct shmc__kind *k = object_kind(a, off, &o, &kind);
	if (k == NULL)
		return SHMC_ECORRUPT;
	shmc_value_t v;
	int rc = 0;
	if (k->items && (kind == SHMC_KIND_LIST || kind == SHMC_KIND_DICT ||
			 kind == SHMC_KIND_CACHE || kind == SHMC_KIND_NAMESPACE)) {
		if ((rc = snapshot(a, o, k, kind == SHMC_KIND_LIST, &v)) != 0)
			return rc;
		if (kind == SHMC_KIND_NAMESPACE)
			rc = render_namespace(v, json, sb);
		else if (json)
			shmc__json_snapshot(sb, v);
		else
			shmc__repr_snapshot(sb, v);
		shmc_value_free(&v);
	} else { /* other kinds show their proxy form */
		shmc_obj_t *stub;
		if ((rc = shmc__obj_stub(a, off, &stub)) != 0)
			return rc;
		shmc_value_t ref = {SHMC_REF, 0, 0, 0, {.ref = stub}};
		if (json)
			shmc__json(sb, ref);
		else
			shmc__repr_proxy(sb, stub);
		shmc_obj_release(stub);
	}
	return rc ? rc : sb->err;
}

/* Finding the word a path step names. */
struct find {
	shmc_arena_t *a;
	shmc_value_t key;
	int64_t index;
	uint64_t found;
	bool by_index, hit;
};

static int find_step(void *ctx, uint64_t key, uint64_t val)
{
	struct find *f = ctx;
	bool match = f->by_index ? (shmc__w_is_int(key) && shmc__w_int(key) == f->index)
				 : shmc__word_eq(f->a, key, f->key);
	if (match) {
		f->found = val;
		f->hit = true;
	}
	return match;
}

static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno)
		return false;
	*out = x;
	return true;
}

struct step_read {
	shmc_arena_t *a;
	struct shmc__obj *o;
	const struct shmc__kind *k;
	struct find f;
	bool from_end; /* a negative list index, counted from the length */
};

static int step_read(void *p)
{
	struct step_read *r = p;
	if (r->from_end)
		r->f.index = r->f.index + r->k->length(r->a, r->o);
	r->k->items(r->a, r->o, find_step, &r->f);
	return 0;
}

/* A dict step's key: an int of any size if S reads as one (a sign, then
 * decimal digits), else a str. *KEY out: shmc_value_free().
 * @return 0, -ENOMEM */
static int dict_key(const char *s, shmc_value_t *key)
{
	int64_t i;
	if (parse_int(s, &i)) {
		*key = shmc_int(i);
		return 0;
	}
	const char *d = s + (*s == '-' || *s == '+');
	size_t n = strspn(d, "0123456789");
	if (n && d[n] == '\0') /* digits beyond int64: a big int key */
		return shmc_int_from_str(s, strlen(s), 10, key);
	*key = shmc_str(s);
	return 0;
}

static int step_find(struct step_read *r, unsigned kind, uint64_t *word);

/* Follow step S inside the container at OFF: *VAL the value it names
 * (managed objects as stubs). */
static int step(shmc_arena_t *a, uint64_t off, const char *s, shmc_value_t *val)
{
	uint64_t word;
	struct step_read r = {.a = a, .f = {.a = a}};
	unsigned kind;
	int64_t i;
	int rc;
	if ((r.k = object_kind(a, off, &r.o, &kind)) == NULL)
		return SHMC_ECORRUPT;
	switch (kind) {
	case SHMC_KIND_LIST:
		if (!parse_int(s, &i))
			return SHMC_EINDEX;
		r.f.by_index = true;
		r.f.index = i;
		r.from_end = i < 0;
		break;
	case SHMC_KIND_DICT:
	case SHMC_KIND_CACHE: /* a cache prints like a dict, and is reached so */
		if ((rc = dict_key(s, &r.f.key)) != 0)
			return rc;
		break;
	case SHMC_KIND_NAMESPACE:
		r.f.key = shmc_str(s);
		break;
	default:
		return SHMC_ETYPE;
	}
	rc = r.k->items ? step_find(&r, kind, &word) : SHMC_ETYPE;
	shmc_value_free(&r.f.key);
	if (rc == 0)
		rc = item_load(a, r.k, word, val); /* SHMC_EKEY: an expired entry */
	return rc;
}

static int step_find(struct step_read *r0, unsigned kind, uint64_t *word)
{
	struct step_read r = *r0;
	int64_t asked = r.f.index;
	for (int t = 0; t < VIEW_TRIES; t++) {
		r.f.index = asked;
		r.f.hit = false;
		uint64_t sq = ld_acquire(&r.o->seq);
		bool last = t == VIEW_TRIES - 1; /* then take the reading as it is */
		if ((sq & 1) && !last) {
			sched_yield();
			continue;
		}
		step_read(&r);
		atomic_thread_fence(memory_order_acquire);
		if (ld_relaxed(&r.o->seq) != sq && !last)
			continue;
		if (!r.f.hit)
			return kind == SHMC_KIND_LIST ? SHMC_EINDEX : SHMC_EKEY;
		*word = r.f.found;
		return 0;
	}
	return -EAGAIN;
}

static int dump_path(shmc_arena_t *a, const struct names *ns, const char *path,
		     bool json, struct shmc__sbuf *sb)
{
	char *copy = strdup(path), *save = NULL;
	if (copy == NULL)
		return -ENOMEM;
	char *seg = strtok_r(copy, "/", &save);
	uint64_t off = 0;
	shmc_value_t val = shmc_none();
	int rc = SHMC_EKEY;
	for (size_t i = 0; seg && i < ns->n; i++)
		if (strcmp(ns->e[i].name, seg) == 0) {
			off = ns->e[i].off;
			rc = 0;
		}
	while (rc == 0 && (seg = strtok_r(NULL, "/", &save)) != NULL) {
		if ((rc = step(a, off, seg, &val)) == 0) {
			if (val.type == SHMC_REF) {
				off = shmc__handle_off(val.ref);
				shmc_value_free(&val);
				if (off == 0)
					rc = SHMC_ECORRUPT;
			} else if (strtok_r(NULL, "/", &save) != NULL) {
				rc = SHMC_ETYPE; /* a step into a plain value */
			} else {
				off = 0; /* the path ends on a plain value */
			}
		}
	}
	free(copy);
	if (rc == 0) {
		if (off)
			rc = render_object(a, off, json, sb);
		else if (json)
			shmc__json(sb, val);
		else
			shmc__repr(sb, val);
	}
	shmc_value_free(&val);
	return rc ? rc : sb->err;
}

static int dump_once(shmc_view_t *v, const char *path, bool json, char **out)
{
	struct names ns;
	struct shmc__sbuf sb = {0};
	int rc = names_load(&v->a, &ns);
	if (rc) {
		names_free(&ns);
		return rc;
	}
	if (path && *path) {
		rc = dump_path(&v->a, &ns, path, json, &sb);
	} else {
		/* Every named object, by name. */
		struct named *by_name = calloc(ns.n + 1, sizeof(*by_name));
		if (by_name == NULL)
			rc = -ENOMEM;
		for (size_t i = 0; rc == 0 && i < ns.n; i++)
			by_name[i] = ns.e[i];
		for (size_t i = 1; rc == 0 && i < ns.n; i++) { /* insertion sort */
			struct named x = by_name[i];
			size_t j = i;
			for (; j > 0 && strcmp(by_name[j - 1].name, x.name) > 0; j--)
				by_name[j] = by_name[j - 1];
			by_name[j] = x;
		}
		if (json)
			shmc__sb_putc(&sb, '{');
		for (size_t i = 0; rc == 0 && i < ns.n; i++) {
			if (json) {
				if (i)
					shmc__sb_puts(&sb, ", ");
				shmc__json(&sb, shmc_str(by_name[i].name));
				shmc__sb_puts(&sb, ": ");
			} else {
				shmc__sb_puts(&sb, by_name[i].name);
				shmc__sb_puts(&sb, ": ");
			}
			rc = render_object(&v->a, by_name[i].off, json, &sb);
			if (!json)
				shmc__sb_putc(&sb, '\n');
		}
		if (json)
			shmc__sb_putc(&sb, '}');
		free(by_name);
	}
	names_free(&ns);
	if (rc) {
		shmc__heap_free(sb.p);
		return rc;
	}
	return shmc__sb_finish(&sb, out);
}

int shmc_view_dump(shmc_view_t *v, const char *path, unsigned flags, char **out)
{
	if (!view_ok(v) || out == NULL)
		return SHMC_EHANDLE;
	/* What looks corrupt in a live arena may only have changed under us:
	 * read it again before saying so. */
	int rc = SHMC_ECORRUPT;
	for (int i = 0; i < 8 && (rc == SHMC_ECORRUPT || rc == -EAGAIN); i++)
		rc = dump_once(v, path, flags & SHMC_VIEW_JSON, out);
	return rc;
}
