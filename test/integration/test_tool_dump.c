/*
 * test_tool_dump.c -- shmc-dump's exact output on a known arena: Python's text form, JSON, paths into containers.
 * Fixtures: tooltest.h.
 */
#include "tooltest.h"

#include "containers/dict.h"
#include "values/venc.h"

Test(tools, dump_prints_every_named_object_as_python_does, .init = named_setup,
     .fini = named_teardown)
{
	struct known k = populate(NA);
	const char *want = fmt(
		"config: {'threads': 4, 'name': \"x'y\", 7: None, (1, 2): 'tuple key', "
		"'jobs': <ListProxy object, typeid 'list' at %#" PRIx64 ">}\n"
		"jobs: " JOBS_TEXT "\n"
		"settings: {'mode': 'fast', 'level': 3}\n"
		"state: Namespace(a0=2, a=1, done=True, ratio=inf, text='line\\nbreak')\n",
		k.jobs, k.inner);
	expect_run(0, want, "", "shmc-dump", NA_name, NULL);
	expect_run(0, want, "", "shmc-dump", NA_path, NULL); /* by path */
	struct records rs = {0};
	record(&rs, "lines", want, strlen(want));
	records_check(&rs);
}

Test(tools, dump_json_is_exact_and_parses, .init = named_setup, .fini = named_teardown)
{
	struct known k = populate(NA);
	const char *want = fmt(
		"{\"config\": {\"items\": [[\"threads\", 4], [\"name\", \"x'y\"], [7, null], "
		"[{\"tuple\": [1, 2]}, \"tuple key\"], [\"jobs\", {\"ref\": \"%#" PRIx64
		"\", \"typeid\": \"list\"}]]}, "
		"\"jobs\": " JOBS_JSON ", "
		"\"settings\": {\"mode\": \"fast\", \"level\": 3}, "
		"\"state\": {\"a\": 1, \"a0\": 2, \"done\": true, "
		"\"ratio\": \"inf\", \"text\": \"line\\u000abreak\"}}\n",
		k.jobs, k.inner);
	expect_run(0, want, "", "shmc-dump", "--json", NA_name, NULL);
	expect_run(0, want, "", "shmc-dump", "-j", NA_name, NULL);
	expect_run(0, want, "", "shmc-dump", NA_name, "--json", NULL); /* options anywhere */
	cr_assert(json_ok(want, strlen(want)));
	struct records rs = {0};
	record(&rs, "json", want, strlen(want));
	records_check(&rs);
}

/* shmc-dump NAME PATH prints WANT and exits 0, for each row. */
struct path_want {
	const char *path, *want;
};

static void expect_paths(const char *name, const struct path_want *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_run(0, rows[i].want, "", "shmc-dump", name, rows[i].path, NULL);
}

Test(tools, dump_paths_reach_into_containers, .init = named_setup, .fini = named_teardown)
{
	struct known k = populate(NA);
	const char *n = NA_name;
	expect_run(0, fmt(JOBS_TEXT "\n", k.inner), "", "shmc-dump", n, "jobs", NULL);
	static const struct path_want rows[] = {
		{"jobs/0", "1\n"},
		{"jobs/1", "{'name': 'build', 'id': 7}\n"},
		{"jobs/2", "('a\"b', 2.5)\n"},
		{"jobs/-1", "-0.0\n"},
		{"jobs/-3", "'caf\xc3\xa9'\n"},
		{"jobs/-10", "1\n"},
		{"jobs/1/name", "'build'\n"},
		{"jobs/-9/id", "7\n"},
		{"config/threads", "4\n"},
		{"config/7", "None\n"},
		{"config/name", "\"x'y\"\n"},
	};
	expect_paths(n, rows, sizeof(rows) / sizeof(rows[0]));
	/* Through a reference to another named object. */
	expect_run(0, fmt(JOBS_TEXT "\n", k.inner), "", "shmc-dump", n, "config/jobs", NULL);
	expect_run(0, "'build'\n", "", "shmc-dump", n, "config/jobs/1/name", NULL);
	expect_run(0, "{'mode': 'fast', 'level': 3}\n", "", "shmc-dump", n, "settings", NULL);
	expect_run(0, "Namespace(a0=2, a=1, done=True, ratio=inf, text='line\\nbreak')\n", "",
		   "shmc-dump", n, "state", NULL);
	expect_run(0, "2\n", "", "shmc-dump", n, "state/a0", NULL);
	/* A '_' attribute is the handle's own, never in the arena. */
	expect_run(1, "", fmt("shmc-dump: %s state/_hidden: %s\n", n, shmc_strerror(SHMC_EKEY)),
		   "shmc-dump", n, "state/_hidden", NULL);
	expect_run(0, "'line\\nbreak'\n", "", "shmc-dump", n, "state/text", NULL);
	/* JSON. */
	expect_run(0, "4\n", "", "shmc-dump", "--json", n, "config/threads", NULL);
	expect_run(0, fmt(JOBS_JSON "\n", k.inner), "", "shmc-dump", "--json", n, "jobs", NULL);
	expect_run(0, "{\"name\": \"build\", \"id\": 7}\n", "", "shmc-dump", "--json", n,
		   "jobs/1", NULL);
	expect_run(0, "{\"tuple\": [\"a\\\"b\", 2.5]}\n", "", "shmc-dump", "--json", n,
		   "jobs/-8", NULL);
	expect_run(0, "\"line\\u000abreak\"\n", "", "shmc-dump", "--json", n, "state/text", NULL);
	expect_run(0, "\"inf\"\n", "", "shmc-dump", "--json", n, "state/ratio", NULL);
	expect_run(0, "{\"mode\": \"fast\", \"level\": 3}\n", "", "shmc-dump", "-j", n,
		   "settings", NULL);
	expect_run(0, "null\n", "", "shmc-dump", "--json", n, "config/7", NULL);
}

Test(tools, dump_paths_that_lead_nowhere_exit_1, .init = named_setup, .fini = named_teardown)
{
	populate(NA);
	const char *n = NA_name;
	const char *key = shmc_strerror(SHMC_EKEY), *index = shmc_strerror(SHMC_EINDEX),
		   *type = shmc_strerror(SHMC_ETYPE);
	expect_run(1, "", fmt("shmc-dump: %s config/nope: %s\n", n, key), "shmc-dump", n,
		   "config/nope", NULL);
	expect_run(1, "", fmt("shmc-dump: %s config/8: %s\n", n, key), "shmc-dump", n,
		   "config/8", NULL);
	expect_run(1, "", fmt("shmc-dump: %s nosuch: %s\n", n, key), "shmc-dump", n, "nosuch",
		   NULL);
	expect_run(1, "", fmt("shmc-dump: %s nosuch/1: %s\n", n, key), "shmc-dump", n,
		   "nosuch/1", NULL);
	expect_run(1, "", fmt("shmc-dump: %s state/nope: %s\n", n, key), "shmc-dump", n,
		   "state/nope", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/1/nope: %s\n", n, key), "shmc-dump", n,
		   "jobs/1/nope", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/10: %s\n", n, index), "shmc-dump", n,
		   "jobs/10", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/-11: %s\n", n, index), "shmc-dump", n,
		   "jobs/-11", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/x: %s\n", n, index), "shmc-dump", n,
		   "jobs/x", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/0/x: %s\n", n, type), "shmc-dump", n,
		   "jobs/0/x", NULL);
	expect_run(1, "", fmt("shmc-dump: %s jobs/2/0: %s\n", n, type), "shmc-dump", n,
		   "jobs/2/0", NULL); /* a step into a plain tuple */
	expect_run(1, "", fmt("shmc-dump: %s config/nope: %s\n", n, key), "shmc-dump",
		   "--json", n, "config/nope", NULL);
}

Test(tools, dump_shows_empty_containers, .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *o;
	ASSERT_OK(shmc_root_find_or_create(NA, "e_dict", SHMC_KIND_DICT, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find_or_create(NA, "e_list", SHMC_KIND_LIST, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find_or_create(NA, "e_ns", SHMC_KIND_NAMESPACE, &o));
	ASSERT_OK(shmc_namespace_set(o, "_only_hidden", shmc_int(1)));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find_or_create(NA, "e_ns2", SHMC_KIND_NAMESPACE, &o));
	shmc_obj_release(o);
	expect_run(0, "e_dict: {}\ne_list: []\ne_ns: Namespace()\ne_ns2: Namespace()\n", "",
		   "shmc-dump", NA_name, NULL);
	expect_run(0, "{\"e_dict\": {}, \"e_list\": [], \"e_ns\": {}, "
		   "\"e_ns2\": {}}\n", "", "shmc-dump", "--json", NA_name, NULL);
	expect_run(0, "Namespace()\n", "", "shmc-dump", NA_name, "e_ns2", NULL);
	expect_run(0, "{}\n", "", "shmc-dump", "--json", NA_name, "e_ns2", NULL);
	expect_run(0, "[]\n", "", "shmc-dump", "--json", NA_name, "e_list", NULL);
	expect_run(1, "", fmt("shmc-dump: %s e_list/0: %s\n", NA_name,
			      shmc_strerror(SHMC_EINDEX)), "shmc-dump", NA_name, "e_list/0", NULL);
	expect_run(1, "", fmt("shmc-dump: %s e_list/-1: %s\n", NA_name,
			      shmc_strerror(SHMC_EINDEX)), "shmc-dump", NA_name, "e_list/-1", NULL);
}


/* Objects that are not containers show as Python shows their proxies. */
Test(tools, dump_shows_other_kinds_as_proxies, .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *q, *lk, *ev, *holder, *o;
	ASSERT_OK(shmc_queue_new(NA, 5, &q));
	ASSERT_OK(shmc_queue_put(q, shmc_int(1), SHMC_NOWAIT));
	ASSERT_OK(shmc_lock_new(NA, &lk));
	ASSERT_OK(shmc_event_new(NA, &ev));
	ASSERT_OK(shmc_root_setdefault(NA, "q", q, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_setdefault(NA, "lk", lk, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_setdefault(NA, "ev", ev, &o));
	shmc_obj_release(o);
	ASSERT_OK(shmc_root_find_or_create(NA, "holder", SHMC_KIND_LIST, &holder));
	ASSERT_OK(shmc_list_append(holder, shmc_ref(q)));
	uint64_t qo = shmc__handle_off(q), lo = shmc__handle_off(lk), eo = shmc__handle_off(ev), holder_off = shmc__handle_off(holder);
	shmc_obj_release(q);
	shmc_obj_release(lk);
	shmc_obj_release(ev);
	shmc_obj_release(holder);
	const char *n = NA_name;
	const char *want = fmt("ev: <EventProxy object, typeid 'Event' at %#" PRIx64 ">\n"
			       "holder: [<AutoProxy[Queue] object, typeid 'Queue' at %#" PRIx64 ">]\n"
			       "lk: <AcquirerProxy object, typeid 'Lock' at %#" PRIx64 ">\n"
			       "q: <AutoProxy[Queue] object, typeid 'Queue' at %#" PRIx64 ">\n",
			       eo, qo, lo, qo);
	expect_run(0, want, "", "shmc-dump", n, NULL);
	struct records rs = {0};
	record(&rs, "lines", want, strlen(want));
	records_check(&rs);
	expect_run(0, fmt("{\"ev\": {\"ref\": \"%#" PRIx64 "\", \"typeid\": \"Event\"}, "
			  "\"holder\": [{\"ref\": \"%#" PRIx64 "\", \"typeid\": \"Queue\"}], "
			  "\"lk\": {\"ref\": \"%#" PRIx64 "\", \"typeid\": \"Lock\"}, "
			  "\"q\": {\"ref\": \"%#" PRIx64 "\", \"typeid\": \"Queue\"}}\n",
			  eo, qo, lo, qo),
		   "", "shmc-dump", "--json", n, NULL);
	expect_run(0, fmt("<AutoProxy[Queue] object, typeid 'Queue' at %#" PRIx64 ">\n", qo), "",
		   "shmc-dump", n, "holder/0", NULL);
	expect_run(1, "", fmt("shmc-dump: %s q/0: %s\n", n, shmc_strerror(SHMC_ETYPE)),
		   "shmc-dump", n, "q/0", NULL);
	char *out = stat_out(n);
	cr_assert(strstr(out, "objects by kind:\n"
			      "  list               1\n"
			      "  Lock               1\n"
			      "  Event              1\n"
			      "  Queue              1\n"
			      "named objects:\n"), "%s", out);
	/* Named objects that are not containers: no count of items. */
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d refs", "q", "Queue", qo, 2)),
		  "%s", out);
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d refs", "lk", "Lock", lo, 1)),
		  "%s", out);
	cr_assert(has_line(out, fmt("  %-20s %-14s %#" PRIx64 "  %d items, %d refs", "holder",
				    "list", holder_off, 1, 1)), "%s", out);
	cr_assert(strstr(out, "-1 items") == NULL, "%s", out);
	buf_release(out);
}

Test(tools, dump_of_an_arena_without_names, .init = named_setup, .fini = named_teardown)
{
	expect_run(0, "", "", "shmc-dump", NA_name, NULL);
	expect_run(0, "{}\n", "", "shmc-dump", "--json", NA_name, NULL);
	expect_run(1, "", fmt("shmc-dump: %s x: %s\n", NA_name, shmc_strerror(SHMC_EKEY)),
		   "shmc-dump", NA_name, "x", NULL);
	/* A brand-new arena, whose directory was never made. */
	char name[128], path[256];
	snprintf(name, sizeof(name), "shmc-test-%d-fresh", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	track(path);
	shmc_arena_t *b;
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY};
	ASSERT_OK(shmc_arena_create(name, &o, &b));
	cr_assert_eq(atomic_load(&b->hdr->roots_off), 0);
	expect_run(0, "", "", "shmc-dump", name, NULL);
	expect_run(0, "{}\n", "", "shmc-dump", "--json", name, NULL);
	struct run r = run_tool("shmc-stat", name, NULL);
	cr_assert_eq(exited(&r, "shmc-stat"), 0, "%s", r.err);
	cr_assert(strstr(r.out, "objects by kind:\nnamed objects:\nprocesses (1 slots in use):\n"),
		  "%s", r.out);
	run_free(&r);
	expect_run(0, NULL, "", "shmc-check", name, NULL);
	shmc_arena_close(b);
}

/* Caches ---------------------------------------------------------------------- */

/* A named cache "c" with live entries of several kinds -- an int, a str
 * under an int key, a managed list, a big int, a str with a deadline --
 * and one entry ('gone') expired but not swept. *LIST: the list's offset;
 * *C out: the cache (shmc_obj_release()). */
static void cache_populate(uint64_t *list, shmc_obj_t **c)
{
	shmc_obj_t *l;
	ASSERT_OK(shmc_cache_new(NA, "c", 16, 0, c));
	ASSERT_OK(shmc_list_new(NA, &l));
	ASSERT_OK(shmc_list_append(l, shmc_int(1)));
	ASSERT_OK(shmc_list_append(l, shmc_str("x")));
	shmc_value_t big;
	ASSERT_OK(shmc_int_from_str("1180591620717411303424", 22, 10, &big)); /* 2**70 */
	ASSERT_OK(shmc_cache_set(*c, shmc_str("n"), shmc_int(1), 0));
	ASSERT_OK(shmc_cache_set(*c, shmc_str("gone"), shmc_str("soon"), 0));
	ASSERT_OK(shmc_cache_set(*c, shmc_int(2), shmc_str("two"), 0));
	ASSERT_OK(shmc_cache_set(*c, shmc_str("l"), shmc_ref(l), 0));
	ASSERT_OK(shmc_cache_set(*c, shmc_str("big"), big, 0));
	ASSERT_OK(shmc_cache_set(*c, shmc_str("t"), shmc_str("tee"), 3600 * (int64_t)1000000000));
	shmc_value_free(&big);
	*list = shmc__handle_off(l);
	shmc_obj_release(l);
	/* The last write: 'gone' (itself no sweep's victim) expires in 1 ms,
	 * and no write comes after to sweep it. */
	ASSERT_OK(shmc_cache_expire(*c, shmc_str("gone"), 1000000));
	int64_t ttl;
	double end = now_s() + TEST_DEADLINE;
	int rc;
	while ((rc = shmc_cache_ttl(*c, shmc_str("gone"), &ttl)) == 0 && now_s() < end)
		usleep(200); /* a poll interval */
	cr_assert_eq(rc, SHMC_EKEY, "'gone' did not expire: %d", rc);
	shmc_cache_stats_t st;
	ASSERT_OK(shmc_cache_stats(*c, &st));
	cr_assert_eq(st.entries, 6, "the expired entry was swept: %" PRIu64, st.entries);
	cr_assert_eq(shmc_cache_len(*c), 5);
}

Test(tools, dump_shows_a_caches_live_entries_as_a_dict, .init = named_setup,
     .fini = named_teardown)
{
	uint64_t l;
	shmc_obj_t *c;
	cache_populate(&l, &c);
	const char *n = NA_name;
	const char *items = fmt("{'n': 1, 2: 'two', 'l': <ListProxy object, typeid 'list' at %#" PRIx64
				">, 'big': 1180591620717411303424, 't': 'tee'}", l);
	/* The dump prints the cache as the API does. */
	char *str;
	ASSERT_OK(shmc_obj_str(c, &str));
	cr_assert_str_eq(str, items);
	shmc_free(str);
	shmc_obj_release(c);
	const char *want = fmt("c: %s\n", items);
	expect_run(0, want, "", "shmc-dump", n, NULL);
	struct records rs = {0};
	record(&rs, "lines", want, strlen(want));
	const char *json = fmt("{\"c\": {\"items\": [[\"n\", 1], [2, \"two\"], [\"l\", {\"ref\": \"%#"
			       PRIx64 "\", \"typeid\": \"list\"}], [\"big\", "
			       "1180591620717411303424], [\"t\", \"tee\"]]}}\n", l);
	expect_run(0, json, "", "shmc-dump", "--json", n, NULL);
	cr_assert(json_ok(json, strlen(json)));
	record(&rs, "json", json, strlen(json));
	records_check(&rs);
	/* Paths: into the cache, through its list, not to the expired entry. */
	expect_run(0, fmt("%s\n", items), "", "shmc-dump", n, "c", NULL);
	static const struct path_want rows[] = {
		{"c/n", "1\n"},
		{"c/2", "'two'\n"},
		{"c/t", "'tee'\n"},
		{"c/big", "1180591620717411303424\n"},
		{"c/l", "[1, 'x']\n"},
		{"c/l/1", "'x'\n"},
	};
	expect_paths(n, rows, sizeof(rows) / sizeof(rows[0]));
	expect_run(0, "[1, \"x\"]\n", "", "shmc-dump", "--json", n, "c/l", NULL);
	expect_run(0, "\"tee\"\n", "", "shmc-dump", "--json", n, "c/t", NULL);
	expect_run(1, "", fmt("shmc-dump: %s c/gone: %s\n", n, shmc_strerror(SHMC_EKEY)),
		   "shmc-dump", n, "c/gone", NULL);
	expect_run(1, "", fmt("shmc-dump: %s c/nope: %s\n", n, shmc_strerror(SHMC_EKEY)),
		   "shmc-dump", n, "c/nope", NULL);
	expect_run(1, "", fmt("shmc-dump: %s c/n/0: %s\n", n, shmc_strerror(SHMC_ETYPE)),
		   "shmc-dump", n, "c/n/0", NULL);
}

/* White box: cache.c keeps an entry with a deadline, or with a value that
 * needs a block, as a value block holding the tuple (deadline, value):
 * [0] the tuple's tag, [1..8] its length 2, [9] the deadline's int tag. */
Test(tools, dump_of_a_damaged_cache_entry_exits_1, .init = named_setup,
     .fini = named_teardown)
{
	uint64_t l;
	shmc_obj_t *c;
	cache_populate(&l, &c);
	struct shmc__obj *o = shmc__obj_of(c);
	uint64_t vw = 0, used = shmc__dict_used_locked(NA, o), kw, w;
	for (uint64_t i = 0; i < used; i++) /* 't', by its str key */
		if (shmc__dict_entry_locked(NA, o, i, NULL, &kw, &w) &&
		    shmc__word_eq(NA, kw, shmc_str("t")))
			vw = w;
	shmc_obj_release(c);
	cr_assert(shmc__w_is_block(vw));
	struct shmc__vblock *b = (struct shmc__vblock *)shmc__vblock_at(NA, vw);
	cr_assert(b && b->len >= 19);
	const struct {
		const char *what;
		unsigned char *at;
		unsigned char v;
	} damage[] = {
		{"the block's magic", (unsigned char *)&b->magic, 0},
		{"the tuple's tag", &b->data[0], 0xee},
		{"the tuple's length", &b->data[1], 3},
		{"the deadline's tag", &b->data[9], 0xee},
		{"the value's tag", &b->data[18], 0xee},
	};
	const char *n = NA_name, *bad = shmc_strerror(SHMC_ECORRUPT);
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		unsigned char gold = *damage[i].at;
		*damage[i].at = damage[i].v;
		cr_log_info("damaged: %s", damage[i].what);
		expect_run(1, "", fmt("shmc-dump: %s: %s\n", n, bad), "shmc-dump", n, NULL);
		expect_run(1, "", fmt("shmc-dump: %s: %s\n", n, bad), "shmc-dump", "--json", n,
			   NULL);
		expect_run(1, "", fmt("shmc-dump: %s c: %s\n", n, bad), "shmc-dump", n, "c", NULL);
		expect_run(1, "", fmt("shmc-dump: %s c/t: %s\n", n, bad), "shmc-dump", n, "c/t",
			   NULL);
		/* The sound entries are still reached. */
		expect_run(0, "'two'\n", "", "shmc-dump", n, "c/2", NULL);
		*damage[i].at = gold;
	}
	expect_run(0, "'tee'\n", "", "shmc-dump", n, "c/t", NULL);
}

/* shmc-stat ------------------------------------------------------------------- */
