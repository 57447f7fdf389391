/*
 * test_tool_corrupt.c -- corrupt copies of an arena: refused clearly, never a crash or a hang.
 * Fixtures: tooltest.h.
 */
#include "tooltest.h"

/* Corrupt copies -------------------------------------------------------------------- */

/* Layouts private to list.c and dict.c, as the corruption needs them. */
struct t_list_arr {
	uint32_t magic, pad_;
	uint64_t cap, len;
	uint64_t item[];
};
struct t_dict_table {
	uint32_t magic, pad_;
	uint64_t nindex, cap, used, live, pad2_;
	uint32_t index[];
};

static void corpus_setup(struct corpus *c)
{
	memset(c, 0, sizeof(*c));
	c->k = populate(NA);
	/* More to damage: a long list and a big dict. */
	shmc_obj_t *jobs, *config;
	ASSERT_OK(shmc_root_find(NA, "jobs", &jobs));
	ASSERT_OK(shmc_root_find(NA, "config", &config));
	for (int i = 0; i < 300; i++) {
		ASSERT_OK(shmc_list_append(jobs, shmc_str(i % 2 ? "some text" : "x")));
		ASSERT_OK(shmc_dict_set(config, shmc_int(1000 + i), shmc_float(i / 3.0)));
	}
	shmc_obj_release(jobs);
	shmc_obj_release(config);
	shmc_arena_reclaim(NA);
	int fd = open(NA_path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	struct stat sb;
	cr_assert(fstat(fd, &sb) == 0);
	c->size = (size_t)sb.st_size;
	c->gold = malloc(c->size);
	c->work = malloc(c->size);
	cr_assert(c->gold && c->work);
	cr_assert_eq(pread(fd, c->gold, c->size, 0), (ssize_t)c->size);
	close(fd);
	struct shmc__hdr *h = (struct shmc__hdr *)c->gold;
	c->data_off = h->data_off;
	c->brk = atomic_load(&h->brk);
	c->pagemap_off = h->pagemap_off;
	c->procs_off = h->procs_off;
	c->recs_off = h->recs_off;
	c->roots = atomic_load(&h->roots_off);
	snprintf(c->path, sizeof(c->path), "/dev/shm/shmc-test-%d-corrupt", (int)getpid());
	track(c->path);
	live_corpus = *c;
}

static void corpus_free(struct corpus *c)
{
	(void)c;
	corpus_cleanup();
}

static void variant_begin(struct corpus *c)
{
	memcpy(c->work, c->gold, c->size);
}

/* A tool on the damaged copy: exit 0 or 1 with something to say, never a
 * signal or a hang. Returns the exit status. */
static int corrupt_run(struct corpus *c, const char *desc, const char *t, const char *a1,
		       const char *a2)
{
	char *argv[6];
	int n = 0;
	argv[n++] = (char *)tool(t);
	if (a1)
		argv[n++] = (char *)a1;
	argv[n++] = c->path;
	if (a2)
		argv[n++] = (char *)a2;
	argv[n] = NULL;
	char what[512];
	snprintf(what, sizeof(what), "[%s] %s %s %s", desc, t, a1 ? a1 : "", a2 ? a2 : "");
	struct run r = run_input(argv, NULL, 0, TOOL_TIMEOUT_MS);
	int st = exited(&r, what);
	cr_assert(st == 0 || st == 1, "%s: exit %d\n%s", what, st, r.err);
	if (st == 1) {
		/* A clear message: "tool: NAME: reason" on stderr, or the
		 * check's findings and a count of errors. */
		char head[300];
		snprintf(head, sizeof(head), "%s: %s", t, c->path);
		bool said = strncmp(r.err, head, strlen(head)) == 0 && r.err[r.errlen - 1] == '\n';
		if (!said && strcmp(t, "shmc-check") == 0) {
			const char *s = strstr(r.out, fmt("%s: ", c->path));
			unsigned long long errors = 0;
			said = s && sscanf(s + strlen(c->path) + 2, "%llu errors", &errors) == 1 &&
			       errors > 0;
		}
		cr_assert(said, "%s: exit 1 without a clear message\nstdout: %s\nstderr: %s", what,
			  r.out, r.err);
	} else if (strcmp(t, "shmc-dump") == 0 && a1 && strcmp(a1, "--json") == 0) {
		cr_assert(json_ok(r.out, r.outlen), "%s: exit 0 with output that is not JSON: %s",
			  what, r.out);
	} else if (strcmp(t, "shmc-dump") == 0) {
		cr_assert(text_balanced(r.out, r.outlen), "%s: exit 0 with garbled output: %s", what,
			  r.out);
	}
	run_free(&r);
	return st;
}

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer's scan at exit costs each tool run about 40 ms here, four
 * times the run itself: under ASan every 8th variant is checked for leaks
 * (the tools' error paths free what they took on all of them alike), the
 * others only for memory errors. The header refusals are all checked. */
static void leak_check_sample(const struct corpus *c, bool always)
{
	static char keep[256];
	static bool saved;
	if (!saved) {
		const char *o = getenv("ASAN_OPTIONS");
		snprintf(keep, sizeof(keep), "%s", o ? o : "");
		saved = true;
	}
	if (always || c->variants % 8 == 0)
		setenv("ASAN_OPTIONS", keep, 1);
	else
		setenv("ASAN_OPTIONS", fmt("%s%sdetect_leaks=0", keep, keep[0] ? ":" : ""), 1);
}
#else
static void leak_check_sample(const struct corpus *c, bool always)
{
	(void)c, (void)always;
}
#endif

/* Write the damaged copy and run every tool on it. */
static void variant_run(struct corpus *c, const char *desc)
{
	leak_check_sample(c, false);
	int fd = open(c->path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, c->work, c->size), (ssize_t)c->size);
	close(fd);
	corrupt_run(c, desc, "shmc-stat", NULL, NULL);
	corrupt_run(c, desc, "shmc-dump", NULL, NULL);
	corrupt_run(c, desc, "shmc-dump", "--json", NULL);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	/* Under a sanitizer every tool run costs ten times as much (the suite
	 * hit its timeouts): there the whole dump, the stats and the check
	 * still read every variant; the paths into it run in the release
	 * suite. */
	corrupt_run(c, desc, "shmc-dump", NULL, "jobs/1/name");
	corrupt_run(c, desc, "shmc-dump", "--json", "config/threads");
	corrupt_run(c, desc, "shmc-dump", NULL, "state/a");
#endif
	if (corrupt_run(c, desc, "shmc-check", NULL, NULL))
		c->detected++;
	c->variants++;
}

/* Damage that breaks an invariant outright: shmc-check must find it. */
static void variant_detected(struct corpus *c, const char *desc)
{
	int before = c->detected;
	variant_run(c, desc);
	cr_assert_eq(c->detected, before + 1, "[%s] shmc-check finds nothing wrong", desc);
}

/* The header refusals have their own messages, the same from every tool.
 * shmc-check may instead report a corrupt header as a finding: exit 1 and
 * a summary counting it as an error. */
static void expect_refusal(struct corpus *c, const char *desc, int code)
{
	leak_check_sample(c, true);
	int fd = open(c->path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, c->work, c->size), (ssize_t)c->size);
	close(fd);
	for (int i = 0; i < 3; i++) {
		struct run r = run_tool(TOOLS[i], c->path, NULL);
		char what[256];
		snprintf(what, sizeof(what), "[%s] %s", desc, TOOLS[i]);
		int st = exited(&r, what);
		const char *want = fmt("%s: %s: %s\n", TOOLS[i], c->path, shmc_strerror(code));
		if (i == 2 && code == SHMC_ECORRUPT && strcmp(r.err, want) != 0) {
			const char *s = strstr(r.out, fmt("%s: ", c->path));
			unsigned long long errors = 0;
			cr_assert(st == 1 && s && sscanf(s + strlen(c->path) + 2, "%llu errors",
							 &errors) == 1 && errors > 0,
				  "%s: a corrupt header passes: exit %d\nstdout: %sstderr: %s", what,
				  st, r.out, r.err);
		} else {
			cr_assert_eq(st, 1, "%s: %s", what, r.out);
			cr_assert_str_eq(r.err, want, "%s", what);
		}
		run_free(&r);
	}
}

Test(tools, header_damage_is_refused_clearly, .init = named_setup, .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	const size_t H_MAGIC = offsetof(struct shmc__hdr, magic),
		     H_VERSION = offsetof(struct shmc__hdr, version),
		     H_HDRSIZE = offsetof(struct shmc__hdr, hdr_size),
		     H_FP = offsetof(struct shmc__hdr, fingerprint),
		     H_CAP = offsetof(struct shmc__hdr, capacity),
		     H_STATE = offsetof(struct shmc__hdr, state),
		     H_NPROCS = offsetof(struct shmc__hdr, nprocs),
		     H_DATA = offsetof(struct shmc__hdr, data_off);
	variant_begin(&c);
	c.work[H_MAGIC] ^= 0x20;
	expect_refusal(&c, "magic", SHMC_ENOTARENA);
	variant_begin(&c);
	put(&c, H_VERSION, SHMC__FORMAT_VERSION + 1, 4);
	expect_refusal(&c, "version", SHMC_EVERSION);
	variant_begin(&c);
	put(&c, H_FP, rd64(&c, H_FP) ^ 1, 8);
	expect_refusal(&c, "fingerprint", SHMC_ELAYOUT);
	variant_begin(&c);
	put(&c, H_HDRSIZE, 64, 4);
	expect_refusal(&c, "hdr_size", SHMC_ELAYOUT);
	variant_begin(&c);
	put(&c, H_STATE, SHMC__ARENA_INITIALISING, 4);
	expect_refusal(&c, "state", SHMC_EINIT);
	const uint64_t caps[] = {0, 4096, c.size / 2, c.size * 2, c.size + 4096, UINT64_MAX};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		variant_begin(&c);
		put(&c, H_CAP, caps[i], 8);
		expect_refusal(&c, fmt("capacity %#" PRIx64, caps[i]), SHMC_ECORRUPT);
	}
	variant_begin(&c);
	put(&c, H_NPROCS, 1000, 4);
	expect_refusal(&c, "nprocs", SHMC_ECORRUPT);
	variant_begin(&c);
	put(&c, H_DATA, rd64(&c, H_DATA) + 4096, 8);
	expect_refusal(&c, "data_off", SHMC_ECORRUPT);
	corpus_free(&c);
}

Test(tools, damaged_header_fields_never_crash_the_tools, .init = named_setup,
     .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	struct field {
		const char *name;
		size_t off;
		int width;
	} fields[] = {
#define F(f, w) {#f, offsetof(struct shmc__hdr, f), w}
		F(version, 4),     F(hdr_size, 4),  F(fingerprint, 8), F(capacity, 8),
		F(state, 4),       F(nprocs, 4),    F(nrecs, 4),       F(nclasses, 4),
		F(procs_off, 8),   F(recs_off, 8),  F(pagemap_off, 8), F(data_off, 8),
		F(roots_off, 8),   F(next_id, 8),   F(lock_recoveries, 8), F(features, 8),
		F(committed, 8),   F(brk, 8),       F(epoch, 8),       F(rec_hwm, 4),
#undef F
	};
	uint64_t seed = 0x5eed0001;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t gold = rd64(&c, fields[i].off);
		if (fields[i].width == 4)
			gold &= 0xffffffffu;
		const uint64_t values[] = {0, 1, 8, gold + 16, gold - 16, gold * 2, c.size,
					   c.size - 16, c.data_off, UINT64_MAX,
					   (uint64_t)1 << 63, rng(&seed)};
		for (size_t j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
			variant_begin(&c);
			put(&c, fields[i].off, values[j], fields[i].width);
			variant_run(&c, fmt("hdr.%s = %#" PRIx64, fields[i].name, values[j]));
		}
	}
	/* The allocator's class heads. */
	for (unsigned cls = 0; cls < 8; cls++) {
		size_t off = offsetof(struct shmc__hdr, classes) +
			     cls * sizeof(struct shmc__class_head);
		variant_begin(&c);
		put(&c, off, c.data_off + 16 * (cls + 1), 8);               /* free list head */
		put(&c, off + offsetof(struct shmc__class_head, in_use), UINT64_MAX, 8);
		variant_run(&c, fmt("class %u free head and in_use", cls));
		variant_begin(&c);
		put(&c, off + offsetof(struct shmc__class_head, carved), (uint64_t)1 << 40, 8);
		variant_run(&c, fmt("class %u carved", cls));
	}
	cr_log_info("%d header variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}

Test(tools, damaged_slots_and_records_never_crash_the_tools, .init = named_setup,
     .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	uint64_t seed = 0x5eed0002;
	for (unsigned s = 0; s < 6; s++) {
		uint64_t p = c.procs_off + s * sizeof(struct shmc__proc);
		const uint64_t offs[] = {0, 1, c.size - 8, c.k.jobs, rng(&seed)};
		for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			variant_begin(&c);
			put(&c, p + offsetof(struct shmc__proc, state), SHMC__PROC_LIVE, 4);
			put(&c, p + offsetof(struct shmc__proc, pid), rng(&seed), 4);
			put(&c, p + offsetof(struct shmc__proc, handles_off), offs[j], 8);
			variant_run(&c, fmt("slot %u handles_off %#" PRIx64, s, offs[j]));
		}
		variant_begin(&c);
		put(&c, p + offsetof(struct shmc__proc, state), 0xdeadbeef, 4);
		variant_run(&c, fmt("slot %u state", s));
	}
	for (unsigned i = 0; i < 4; i++) {
		uint64_t rec = c.recs_off + i * sizeof(struct shmc__rec);
		variant_begin(&c);
		put(&c, rec + offsetof(struct shmc__rec, owner), 1 + i, 4);
		put(&c, rec + offsetof(struct shmc__rec, limbo_off), rng(&seed) % c.size & ~15ull, 8);
		put(&c, rec + offsetof(struct shmc__rec, epoch), UINT64_MAX, 8);
		variant_run(&c, fmt("record %u limbo", i));
		variant_begin(&c);
		put(&c, rec + offsetof(struct shmc__rec, owner), SHMC__REC_ORPHAN, 4);
		put(&c, rec + offsetof(struct shmc__rec, limbo_off), c.k.config, 8);
		variant_run(&c, fmt("record %u orphan limbo at an object", i));
	}
	cr_log_info("%d slot variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}

Test(tools, damaged_objects_never_crash_the_tools, .init = named_setup, .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	const uint64_t body = sizeof(struct shmc__obj);
	const struct {
		const char *name;
		uint64_t off;
	} objs[] = {{"jobs", c.k.jobs},   {"config", c.k.config}, {"state", c.k.state},
		    {"inner", c.k.inner}, {"directory", c.roots}};
	uint64_t seed = 0x5eed0003;
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		uint64_t o = objs[i].off;
		/* MUST: damage the check has to find (no magic, no kind, or no
		 * reference counted while references exist). */
		const struct {
			const char *f;
			size_t off;
			int width;
			uint64_t v;
			bool must;
		} hv[] = {
			{"magic", offsetof(struct shmc__obj, magic), 4, 0, true},
			{"kind", offsetof(struct shmc__obj, kind), 2, 0, true},
			{"kind", offsetof(struct shmc__obj, kind), 2, 0x1234, true},
			{"kind", offsetof(struct shmc__obj, kind), 2, 0xffff, true},
			{"kind", offsetof(struct shmc__obj, kind), 2, SHMC_KIND_QUEUE, false},
			{"kind", offsetof(struct shmc__obj, kind), 2, SHMC_KIND_LIST, false},
			{"kind", offsetof(struct shmc__obj, kind), 2, SHMC_KIND_NAMESPACE, false},
			{"refs", offsetof(struct shmc__obj, refs), 8, 0, o != c.roots},
			{"refs", offsetof(struct shmc__obj, refs), 8, UINT64_MAX, false},
			{"seq (odd: a writer forever)", offsetof(struct shmc__obj, seq), 8, 12345,
			 false},
			{"flags", offsetof(struct shmc__obj, flags), 2, 0xffff, false},
			{"lock", offsetof(struct shmc__obj, lock), 4, 0x7fffffff, false},
			{"lock", offsetof(struct shmc__obj, lock), 4, 0xffffffff, false},
			{"lock", offsetof(struct shmc__obj, lock), 4, 1, false},
		};
		for (size_t j = 0; j < sizeof(hv) / sizeof(hv[0]); j++) {
			variant_begin(&c);
			put(&c, o + hv[j].off, hv[j].v, hv[j].width);
			const char *d = fmt("%s.%s = %#" PRIx64, objs[i].name, hv[j].f, hv[j].v);
			if (hv[j].must)
				variant_detected(&c, d);
			else
				variant_run(&c, d);
		}
		/* The body's one offset: the list's array or the dict's table. */
		uint64_t gold = rd64(&c, o + body);
		const uint64_t bodies[] = {0, 1, 8, 16, gold + 16, gold - 16, c.k.jobs, c.k.config,
					   o, c.size - 16, c.size, UINT64_MAX, c.data_off,
					   rng(&seed) & ~15ull, (rng(&seed) % c.brk) & ~15ull};
		for (size_t j = 0; j < sizeof(bodies) / sizeof(bodies[0]); j++) {
			variant_begin(&c);
			put(&c, o + body, bodies[j], 8);
			/* Anything but 0 (empty) and the other real array or
			 * table is not a block of the object's own. */
			const char *d = fmt("%s body offset = %#" PRIx64, objs[i].name, bodies[j]);
			if (j >= 1 && j <= 5)
				variant_detected(&c, d);
			else
				variant_run(&c, d);
		}
	}
	/* The list's array: its header and items. */
	uint64_t arr = rd64(&c, c.k.jobs + body);
	const size_t A_CAP = offsetof(struct t_list_arr, cap),
		     A_LEN = offsetof(struct t_list_arr, len),
		     A_ITEM = offsetof(struct t_list_arr, item);
	const uint64_t counts[] = {0, 1, 1000, 1u << 20, (uint64_t)1 << 40, UINT64_MAX,
				   UINT64_MAX / 8, (c.size - arr) / 8};
	for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
		variant_begin(&c);
		put(&c, arr + A_CAP, counts[j], 8);
		if (counts[j] >= 1u << 20) /* larger than its block */
			variant_detected(&c, fmt("list cap = %#" PRIx64, counts[j]));
		else
			variant_run(&c, fmt("list cap = %#" PRIx64, counts[j]));
		variant_begin(&c);
		put(&c, arr + A_LEN, counts[j], 8);
		variant_run(&c, fmt("list len = %#" PRIx64, counts[j]));
		variant_begin(&c);
		put(&c, arr + A_CAP, counts[j], 8);
		put(&c, arr + A_LEN, counts[j], 8);
		variant_run(&c, fmt("list cap = len = %#" PRIx64, counts[j]));
	}
	variant_begin(&c);
	put(&c, arr, 0, 4);
	variant_detected(&c, "list array magic");
	for (int round = 0; round < 12; round++) {
		variant_begin(&c);
		for (int i = 0; i < 12; i++) /* item words: references, strings, garbage */
			put(&c, arr + A_ITEM + 8 * (rng(&seed) % 12), rng(&seed) >> (round % 4 * 16), 8);
		variant_run(&c, fmt("list items, round %d", round));
	}
	/* The dicts' tables: header, index and entries. */
	const uint64_t tables[] = {rd64(&c, c.k.config + body), rd64(&c, c.k.state + body),
				   rd64(&c, c.roots + body)};
	const size_t T_NINDEX = offsetof(struct t_dict_table, nindex),
		     T_CAP = offsetof(struct t_dict_table, cap),
		     T_USED = offsetof(struct t_dict_table, used),
		     T_LIVE = offsetof(struct t_dict_table, live),
		     T_INDEX = offsetof(struct t_dict_table, index);
	for (size_t t = 0; t < 3; t++) {
		uint64_t tb = tables[t];
		uint64_t nindex = rd64(&c, tb + T_NINDEX);
		const uint64_t ns[] = {0, 1, 3, 6, nindex * 2, nindex / 2, (uint64_t)1 << 40,
				       UINT64_MAX, (uint64_t)1 << 63};
		for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
			variant_begin(&c);
			put(&c, tb + T_NINDEX, ns[j], 8);
			/* Not a power of two, or larger than the table's block. */
			if (ns[j] != nindex / 2)
				variant_detected(&c, fmt("table %zu nindex = %#" PRIx64, t, ns[j]));
			else
				variant_run(&c, fmt("table %zu nindex = %#" PRIx64, t, ns[j]));
			variant_begin(&c);
			put(&c, tb + T_CAP, ns[j], 8);
			put(&c, tb + T_USED, ns[j], 8);
			variant_run(&c, fmt("table %zu cap = used = %#" PRIx64, t, ns[j]));
			variant_begin(&c);
			put(&c, tb + T_USED, ns[j], 8);
			put(&c, tb + T_LIVE, ns[j], 8);
			variant_run(&c, fmt("table %zu used = live = %#" PRIx64, t, ns[j]));
		}
		variant_begin(&c);
		for (uint64_t i = 0; i < nindex && i < 4096; i++)
			put(&c, tb + T_INDEX + 4 * i, 0xffffffff, 4);
		variant_run(&c, fmt("table %zu index all 0xffffffff", t));
		variant_begin(&c);
		for (uint64_t i = 0; i < nindex && i < 4096; i++)
			put(&c, tb + T_INDEX + 4 * i, 1, 4); /* every slot: entry 0 */
		variant_run(&c, fmt("table %zu index all entry 0", t));
		uint64_t ent = (tb + T_INDEX + 4 * nindex + 15) & ~15ull;
		for (int round = 0; round < 10; round++) {
			variant_begin(&c);
			for (int i = 0; i < 8; i++) /* hash, key and value words */
				put(&c, ent + 8 * (rng(&seed) % 30), rng(&seed) >> (round % 4 * 16), 8);
			variant_run(&c, fmt("table %zu entries, round %d", t, round));
		}
	}
	cr_log_info("%d object variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}

Test(tools, damaged_pagemap_never_crashes_the_tools, .init = named_setup,
     .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
	uint64_t pages = c.brk / SHMC__PAGE, first = c.data_off / SHMC__PAGE;
	uint64_t seed = 0x5eed0004;
	/* Entries are pagemap_off-relative; their width is the allocator's
	 * business: damage bytes. */
	const uint8_t fills[] = {0x00, 0xff, 0x01, 0x7f};
	for (size_t f = 0; f < sizeof(fills); f++) {
		variant_begin(&c);
		for (uint64_t p = 0; p < 2 * pages + 8; p++)
			c.work[c.pagemap_off + p] = fills[f];
		variant_run(&c, fmt("pagemap all %#x", fills[f]));
	}
	for (int round = 0; round < 30; round++) {
		variant_begin(&c);
		for (int i = 0; i < 1 + round % 8; i++) {
			uint64_t p = c.pagemap_off + (first + rng(&seed) % (pages - first + 2)) * 2 +
				     rng(&seed) % 2;
			c.work[p] = (uint8_t)rng(&seed);
		}
		variant_run(&c, fmt("pagemap random, round %d", round));
	}
	cr_log_info("%d pagemap variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}

Test(tools, random_damage_never_crashes_the_tools, .init = named_setup, .fini = named_teardown)
{
	struct corpus c;
	corpus_setup(&c);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	const uint64_t seeds = 120;
#else
	const uint64_t seeds = 40; /* ten times the cost a run: fuzz_arena does the rest */
#endif
	for (uint64_t s = 1; s <= seeds; s++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull * s;
		variant_begin(&c);
		int n = 1 + (int)(rng(&seed) % 64);
		/* Mostly in the data region (blocks and values), some anywhere
		 * below the break (header, slots, records, pagemap). */
		for (int i = 0; i < n; i++) {
			uint64_t lo = s % 4 ? c.data_off : 0;
			uint64_t off = lo + rng(&seed) % (c.brk - lo);
			c.work[off] = (uint8_t)rng(&seed);
		}
		variant_run(&c, fmt("seed %" PRIu64 ": %d random bytes", s, n));
	}
	cr_log_info("%d random variants, %d found by shmc-check", c.variants, c.detected);
	corpus_free(&c);
}
