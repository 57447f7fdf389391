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
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "handle.h"
#include "heap.h"
#include "obj.h"
#include "proc.h"
#include "repr.h"
#include "walk.h"
#include "word.h"

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

int shmc_view_open(const char *name, shmc_view_t **out)
{
	char *path;
	struct shmc__hdr h;
	uint64_t cap;
	if (out == NULL)
		return -EINVAL;
	int fd = shmc__arena_open_fd(name, O_RDONLY, &path);
	if (fd < 0)
		return fd;
	free(path);
	int rc = shmc__arena_validate(fd, &h, &cap);
	if (rc == 0 && ld_relaxed(&h.state) != SHMC__ARENA_READY)
		rc = SHMC_EINIT;
	shmc_view_t *v = rc ? NULL : calloc(1, sizeof(*v));
	if (rc == 0 && v == NULL)
		rc = -ENOMEM;
	if (rc) {
		close(fd);
		return rc;
	}
	void *base = mmap(NULL, cap, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		close(fd);
		free(v);
		return rc;
	}
	v->magic = VIEW_MAGIC;
	v->a.base = base;
	v->a.capacity = cap;
	v->a.hdr = base;
	v->a.fd = -1;
	v->a.lock_fd = fd; /* liveness queries only: F_OFD_GETLK */
	v->a.slot = UINT32_MAX;
	*out = v;
	return 0;
}

int shmc__view_of_mapping(void *base, uint64_t capacity, int lock_fd,
			  shmc_view_t **out)
{
	shmc_view_t *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->magic = VIEW_MAGIC;
	v->borrowed = true;
	v->a.base = base;
	v->a.capacity = capacity;
	v->a.hdr = base;
	v->a.fd = -1;
	v->a.lock_fd = lock_fd;
	v->a.slot = UINT32_MAX;
	*out = v;
	return 0;
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
	for (uint32_t s = 0; s < SHMC__MAX_PROCS; s++) {
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
	size_t n, cap;
	shmc_arena_t *a;
	struct budget budget;
};

static int collect_name(void *ctx, uint64_t key, uint64_t val)
{
	struct names *ns = ctx;
	shmc_value_t k;
	if (!afford(ns->a, &ns->budget, key))
		return 1; /* corrupt: the names found so far will do */
	if (!shmc__w_is_ref(val) || shmc__word_load_view(ns->a, key, &k) != 0)
		return 0;
	if (k.type == SHMC_STR && ns->n < ns->cap) {
		ns->e[ns->n].off = shmc__w_ref_off(val);
		ns->e[ns->n].name = (char *)k.s.ptr; /* owned: freed with names */
		ns->n++;
		return 0;
	}
	shmc_value_free(&k);
	return 0;
}

/* The directory object, or NULL. */
static struct shmc__obj *directory(shmc_arena_t *a)
{
	uint64_t off = ld_acquire(&a->hdr->roots_off);
	struct shmc__obj *o = off ? shmc__at(a, off, sizeof(*o), 16) : NULL;
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC || o->kind != SHMC_KIND_DICT)
		return NULL;
	return o;
}

static void names_load(shmc_arena_t *a, struct names *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->a = a;
	ns->budget = budget_for(a);
	struct shmc__obj *dir = directory(a);
	if (dir == NULL)
		return;
	const struct shmc__kind *k = shmc__kind_of(dir->kind);
	int64_t n = k->length(a, dir);
	if (n <= 0 || n > 1 << 24)
		return;
	ns->cap = (size_t)n;
	ns->e = calloc(ns->cap, sizeof(*ns->e));
	if (ns->e == NULL)
		ns->cap = 0;
	else
		k->items(a, dir, collect_name, ns);
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

static void fill_info(shmc_arena_t *a, uint64_t off, const struct names *ns,
		      shmc_object_info_t *info)
{
	struct shmc__obj *o = (struct shmc__obj *)(a->base + off);
	const struct shmc__kind *k = shmc__kind_of(o->kind);
	memset(info, 0, sizeof(*info));
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
	info->waiters = (word & SHMC__OLOCK_WAITERS) != 0;
	info->lock_slot = -1;
	if (token) {
		uint32_t slot = (token & ((1u << SHMC__TOKEN_SLOT_BITS) - 1)) - 1;
		if (slot < SHMC__MAX_PROCS) {
			info->lock_slot = (int)slot;
			info->lock_pid = ld_relaxed(&shmc__proc_at(a, slot)->pid);
		}
		info->lock_owner_alive = shmc__token_alive(a, token);
	}
	info->name = name_of(ns, off);
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
	fill_info(ow->a, off, &ow->names, &info);
	ow->rc = ow->fn(ow->ctx, &info);
}

int shmc_view_objects(shmc_view_t *v, int (*fn)(void *ctx, const shmc_object_info_t *o),
		      void *ctx)
{
	if (!view_ok(v) || fn == NULL)
		return SHMC_EHANDLE;
	struct object_walk ow = {.a = &v->a, .fn = fn, .ctx = ctx,
				 .dir = ld_acquire(&v->a.hdr->roots_off)};
	names_load(&v->a, &ow.names);
	int rc = shmc__check_walk(&v->a, 0, NULL, NULL, NULL, on_object, &ow);
	names_free(&ow.names);
	if (rc == SHMC_ECORRUPT)
		rc = 0; /* what could be walked was shown */
	return ow.rc ? ow.rc : rc;
}

/* Dumping ------------------------------------------------------------------------- */

struct render {
	shmc_arena_t *a;
	struct shmc__sbuf *sb;
	bool json;
	bool str_keys;
	int n, err;
	char **pairs; /* namespaces: "name=repr" strings to sort */
	size_t npairs, cappairs;
	struct budget budget; /* of the pass under way */
};

/* Whether the pass may decode W; else the render fails as corrupt. */
static bool render_afford(struct render *r, uint64_t w)
{
	if (afford(r->a, &r->budget, w))
		return true;
	r->err = SHMC_ECORRUPT;
	return false;
}

/* A word rendered as Python text or JSON (a reference stays a reference). */
static void render_word(shmc_arena_t *a, uint64_t w, bool json, struct shmc__sbuf *sb)
{
	shmc_value_t v;
	int rc = shmc__word_load_view(a, w, &v);
	if (rc) {
		sb->err = sb->err ? sb->err : rc;
		return;
	}
	if (json)
		shmc__json(sb, v);
	else
		shmc__repr(sb, v);
	shmc_value_free(&v);
}

static int render_value(void *ctx, uint64_t key, uint64_t val)
{
	struct render *r = ctx;
	(void)key;
	if (!render_afford(r, val))
		return 1;
	if (r->n++)
		shmc__sb_puts(r->sb, ", ");
	render_word(r->a, val, r->json, r->sb);
	return r->sb->err != 0;
}

/* k: v in Python text; "k": v or [k, v] in JSON. */
static int render_entry(void *ctx, uint64_t key, uint64_t val)
{
	struct render *r = ctx;
	if (!render_afford(r, key) || !render_afford(r, val))
		return 1;
	if (r->n++)
		shmc__sb_puts(r->sb, ", ");
	bool pair = r->json && !r->str_keys;
	if (pair)
		shmc__sb_putc(r->sb, '[');
	render_word(r->a, key, r->json, r->sb);
	shmc__sb_puts(r->sb, pair ? ", " : ": ");
	render_word(r->a, val, r->json, r->sb);
	if (pair)
		shmc__sb_putc(r->sb, ']');
	return r->sb->err != 0;
}

static int check_str_key(void *ctx, uint64_t key, uint64_t val)
{
	struct render *r = ctx;
	shmc_value_t k = shmc_none(); /* a failed load leaves it unwritten */
	(void)val;
	if (!render_afford(r, key))
		return 1;
	if (shmc__word_load_view(r->a, key, &k) != 0 || k.type != SHMC_STR)
		r->str_keys = false;
	shmc_value_free(&k);
	return !r->str_keys;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int render_attr(void *ctx, uint64_t key, uint64_t val)
{
	struct render *r = ctx;
	shmc_value_t k = shmc_none(); /* a failed load leaves it unwritten */
	if (!render_afford(r, key) || !render_afford(r, val))
		return 1;
	if (shmc__word_load_view(r->a, key, &k) != 0 || k.type != SHMC_STR) {
		shmc_value_free(&k);
		r->err = SHMC_ECORRUPT;
		return 1;
	}
	if (!r->json && k.s.len && k.s.ptr[0] == '_') { /* hidden, as in Python */
		shmc_value_free(&k);
		return 0;
	}
	struct shmc__sbuf one = {0};
	if (r->json) {
		shmc__json(&one, k);
		shmc__sb_puts(&one, ": ");
	} else {
		shmc__sb_putn(&one, k.s.ptr, k.s.len);
		shmc__sb_putc(&one, '=');
	}
	shmc_value_free(&k);
	render_word(r->a, val, r->json, &one);
	char *s;
	if (shmc__sb_finish(&one, &s) != 0) {
		r->err = -ENOMEM;
		return 1;
	}
	if (r->npairs == r->cappairs) {
		size_t ncap = r->cappairs ? 2 * r->cappairs : 16;
		char **p = realloc(r->pairs, ncap * sizeof(char *));
		if (p == NULL) {
			shmc__heap_free(s);
			r->err = -ENOMEM;
			return 1;
		}
		r->pairs = p;
		r->cappairs = ncap;
	}
	r->pairs[r->npairs++] = s;
	return 0;
}

static struct shmc__obj *object_at(shmc_arena_t *a, uint64_t off)
{
	struct shmc__obj *o = shmc__at(a, off, sizeof(*o), 16);
	if (o == NULL || o->magic != SHMC__OBJ_MAGIC || !shmc__kind_of(o->kind))
		return NULL;
	return o;
}

/* The contents of object OFF, as str(proxy) prints them, or as JSON. */
static int render_object(shmc_arena_t *a, uint64_t off, bool json, struct shmc__sbuf *sb)
{
	struct shmc__obj *o = object_at(a, off);
	if (o == NULL)
		return SHMC_ECORRUPT;
	const struct shmc__kind *k = shmc__kind_of(o->kind);
	struct render r = {.a = a, .sb = sb, .json = json, .str_keys = true,
			   .budget = budget_for(a)};
	switch (o->kind) {
	case SHMC_KIND_LIST:
		shmc__sb_putc(sb, '[');
		k->items(a, o, render_value, &r);
		shmc__sb_putc(sb, ']');
		break;
	case SHMC_KIND_DICT:
		if (json) { /* an object when every key is a str, else pairs */
			k->items(a, o, check_str_key, &r);
			r.budget = budget_for(a); /* a second pass */
		}
		shmc__sb_puts(sb, json && !r.str_keys ? "{\"items\": [" : "{");
		k->items(a, o, render_entry, &r);
		shmc__sb_puts(sb, json && !r.str_keys ? "]}" : "}");
		break;
	case SHMC_KIND_NAMESPACE:
		k->items(a, o, render_attr, &r);
		if (r.npairs > 1) /* qsort(NULL, 0, ...) is undefined */
			qsort(r.pairs, r.npairs, sizeof(char *), cmp_str);
		shmc__sb_puts(sb, json ? "{" : "Namespace(");
		for (size_t i = 0; i < r.npairs; i++) {
			if (i)
				shmc__sb_puts(sb, ", ");
			shmc__sb_puts(sb, r.pairs[i]);
		}
		shmc__sb_puts(sb, json ? "}" : ")");
		break;
	default: { /* other kinds show their proxy form */
		shmc_obj_t *stub;
		int rc = shmc__obj_stub(a, off, &stub);
		if (rc)
			return rc;
		shmc_value_t ref = {SHMC_REF, 0, {.ref = stub}};
		if (json)
			shmc__json(sb, ref);
		else
			shmc__repr_proxy(sb, stub);
		shmc_obj_release(stub);
	}
	}
	for (size_t i = 0; i < r.npairs; i++)
		shmc__heap_free(r.pairs[i]);
	free(r.pairs);
	return r.err ? r.err : sb->err;
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

/* Follow STEP inside container O: the word it names. */
static int step(shmc_arena_t *a, struct shmc__obj *o, const char *s, uint64_t *word)
{
	const struct shmc__kind *k = shmc__kind_of(o->kind);
	struct find f = {.a = a};
	int64_t i;
	switch (o->kind) {
	case SHMC_KIND_LIST:
		if (!parse_int(s, &i))
			return SHMC_EINDEX;
		if (i < 0)
			i += k->length(a, o);
		f.by_index = true;
		f.index = i;
		break;
	case SHMC_KIND_DICT:
		f.key = parse_int(s, &i) ? shmc_int(i) : shmc_str(s);
		break;
	case SHMC_KIND_NAMESPACE:
		f.key = shmc_str(s);
		break;
	default:
		return SHMC_ETYPE;
	}
	k->items(a, o, find_step, &f);
	if (!f.hit)
		return o->kind == SHMC_KIND_LIST ? SHMC_EINDEX : SHMC_EKEY;
	*word = f.found;
	return 0;
}

static int dump_path(shmc_arena_t *a, const struct names *ns, const char *path,
		     bool json, struct shmc__sbuf *sb)
{
	char *copy = strdup(path), *save = NULL;
	if (copy == NULL)
		return -ENOMEM;
	char *seg = strtok_r(copy, "/", &save);
	uint64_t off = 0, word = 0;
	int rc = SHMC_EKEY;
	for (size_t i = 0; seg && i < ns->n; i++)
		if (strcmp(ns->e[i].name, seg) == 0) {
			off = ns->e[i].off;
			rc = 0;
		}
	while (rc == 0 && (seg = strtok_r(NULL, "/", &save)) != NULL) {
		struct shmc__obj *o = object_at(a, off);
		if (o == NULL) {
			rc = SHMC_ECORRUPT;
		} else if ((rc = step(a, o, seg, &word)) == 0) {
			if (shmc__w_is_ref(word))
				off = shmc__w_ref_off(word);
			else if (strtok_r(NULL, "/", &save) != NULL)
				rc = SHMC_ETYPE; /* a step into a plain value */
			else
				off = 0; /* the path ends on a plain value */
		}
	}
	free(copy);
	if (rc == 0) {
		if (off)
			rc = render_object(a, off, json, sb);
		else
			render_word(a, word, json, sb);
	}
	return rc ? rc : sb->err;
}

int shmc_view_dump(shmc_view_t *v, const char *path, unsigned flags, char **out)
{
	if (!view_ok(v) || out == NULL)
		return SHMC_EHANDLE;
	bool json = flags & SHMC_VIEW_JSON;
	struct names ns;
	struct shmc__sbuf sb = {0};
	int rc = 0;
	names_load(&v->a, &ns);
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
