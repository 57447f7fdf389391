/*
 * test_tool_live.c -- the tools beside processes changing the arena: they never crash, block or print invalid JSON.
 * Fixtures: tooltest.h.
 */
#include "tooltest.h"

/* A live arena changing under the tools ------------------------------------------ */

static shmc_value_t some_value(unsigned long r)
{
	static const double floats[] = {0.5, -0.0, 1e300, 1.0 / 0.0, -1.0 / 0.0, 1e-7};
	char s[64];
	switch (r % 9) {
	case 0: return shmc_int((int64_t)(r * 2654435761u));
	case 1: return shmc_float(floats[r % 6]);
	case 2:
		snprintf(s, sizeof(s), "it's \"%lu\"\n\t\\ caf\xc3\xa9 \xe2\x82\xac", r);
		return shmc_tuple_of(1, shmc_str(s));
	case 3: return shmc_bytes("\x00\x01'\"\\\xff", 6);
	case 4: return shmc_plist_of(3, shmc_none(), shmc_bool(r & 1), shmc_plist_of(0));
	case 5: return shmc_pdict_of(2, shmc_int((int64_t)r), shmc_str("x"),
				     shmc_tuple_of(2, shmc_int(1), shmc_str("k")), shmc_float(0.25));
	case 6: return shmc_tuple_of(0);
	case 7: return shmc_float(0.0 / 0.0);
	default: return shmc_str("");
	}
}

/* Change every named object as fast as possible until told to stop: plain
 * values of every type, containers that grow past their capacity and are
 * rebuilt, managed objects replaced (so freed and their memory reused), and
 * names that come and go. */
static int mutator(void *p)
{
	struct flag *f = p;
	shmc_obj_t *jobs, *config, *state;
	CHILD_OK(shmc_root_find_or_create(NA, "jobs", SHMC_KIND_LIST, &jobs));
	CHILD_OK(shmc_root_find_or_create(NA, "config", SHMC_KIND_DICT, &config));
	CHILD_OK(shmc_root_find_or_create(NA, "state", SHMC_KIND_NAMESPACE, &state));
	/* A dict whose keys are all str, then not: its JSON form changes. */
	shmc_obj_t *flip;
	CHILD_OK(shmc_root_find_or_create(NA, "flip", SHMC_KIND_DICT, &flip));
	for (int i = 0; i < 300; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		CHILD_OK(shmc_dict_set(flip, shmc_str(key), shmc_int(i)));
	}
	for (unsigned long r = 0; !atomic_load(&f->stop); r++) {
		if (r & 1)
			CHILD_OK(shmc_dict_del(flip, shmc_int((int64_t)r - 1)));
		else
			CHILD_OK(shmc_dict_set(flip, shmc_int((int64_t)r), shmc_int(1)));
		shmc_value_t v = some_value(r);
		CHILD_OK(shmc_list_append(jobs, v));
		if (shmc_list_len(jobs) > 40)
			CHILD_OK(r % 7 ? shmc_list_pop(jobs, 0, NULL) : shmc_list_clear(jobs));
		if (shmc_list_len(jobs) > 3)
			CHILD_OK(shmc_list_set(jobs, (int64_t)(r % 3), v));
		CHILD_OK(shmc_dict_set(config, shmc_int((int64_t)(r % 50)), v));
		CHILD_OK(shmc_dict_set(config, shmc_str(r & 1 ? "odd" : "even"), v));
		if (r % 5 == 0)
			shmc_dict_del(config, shmc_int((int64_t)((r / 5) % 50)));
		if (r % 97 == 0)
			CHILD_OK(shmc_dict_clear(config));
		shmc_value_free(&v);
		CHILD_OK(shmc_namespace_set(state, r % 3 ? "count" : "other", shmc_int((int64_t)r)));
		if (r % 10 == 0) { /* a managed object inside, replaced */
			shmc_obj_t *inner;
			CHILD_OK(shmc_dict_new(NA, &inner));
			CHILD_OK(shmc_dict_set(inner, shmc_str("round"), shmc_int((int64_t)r)));
			CHILD_OK(shmc_namespace_set(state, "inner", shmc_ref(inner)));
			CHILD_OK(shmc_list_append(jobs, shmc_ref(inner)));
			shmc_obj_release(inner);
		}
		if (r % 25 == 0) { /* names come and go */
			char name[32];
			shmc_obj_t *t;
			snprintf(name, sizeof(name), "tmp-%lu", (r / 25) % 4);
			if (shmc_root_remove(NA, name) == SHMC_EKEY) {
				CHILD_OK(shmc_root_find_or_create(NA, name, SHMC_KIND_LIST, &t));
				CHILD_OK(shmc_list_append(t, shmc_str(name)));
				shmc_obj_release(t);
			}
		}
		atomic_fetch_add(&f->rounds, 1);
	}
	shmc_obj_release(jobs);
	shmc_obj_release(config);
	shmc_obj_release(state);
	shmc_obj_release(flip);
	return 0;
}

/* Fork the mutator and return once it has done 100 rounds (waiting at
 * most TEST_DEADLINE); mut_pid is its pid, and the fixture stops it if the
 * test fails first. */
static struct flag *mutator_start(void)
{
	struct flag *f = shared_page(sizeof(*f));
	mut_flag = f;
	mut_pid = fork_fn(mutator, f);
	double end = now_s() + TEST_DEADLINE;
	while (atomic_load(&f->rounds) < 100) {
		int st;
		cr_assert_eq(waitpid(mut_pid, &st, WNOHANG), 0, "the mutator failed");
		cr_assert(now_s() < end, "the mutator did not get going");
		usleep(1000); /* a poll interval */
	}
	return f;
}

Test(tools, tools_never_crash_or_block_on_a_changing_arena, .init = named_setup,
     .fini = named_teardown)
{
	struct flag *f = mutator_start();
	struct records rs = {0};
	/* Every kind of run, with what went wrong, so that one report names
	 * every tool that crashed, hung or printed garbage. */
	struct tally {
		const char *what;
		int runs, ok, crashed, hung, bad;
		char first[600];
	} t[6] = {{.what = "shmc-stat"}, {.what = "shmc-dump"}, {.what = "shmc-dump --json"},
		  {.what = "shmc-dump PATH"},
		  {.what = "shmc-dump --json PATH"}, {.what = "shmc-check"}};
	static const char *paths[] = {"jobs", "flip", "config/even", "state/inner", "flip",
				      "state/inner/round", "jobs/-1", "config/3", "flip", "tmp-1"};
	int runs = 0;
	double until = now_s() + 8;
	for (int i = 0; i < 400 && (i < 20 || now_s() < until); i++, runs++) {
		const char *path = paths[i % 10];
		for (int k = 0; k < 6; k++) {
			struct tally *x = &t[k];
			bool json = k == 2 || k == 4;
			struct run r;
			switch (k) {
			case 0: r = run_tool("shmc-stat", NA_name, NULL); break;
			case 1: r = run_tool("shmc-dump", NA_name, NULL); break;
			case 2: r = run_tool("shmc-dump", "--json", NA_name, NULL); break;
			case 3: r = run_tool("shmc-dump", NA_name, path, NULL); break;
			case 4: r = run_tool("shmc-dump", "--json", NA_name, path, NULL); break;
			default: r = run_tool("shmc-check", "-q", NA_name, NULL); break;
			}
			x->runs++;
			const char *fault = NULL;
			int st = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
			if (r.timed_out) {
				x->hung++;
				fault = "still running after the timeout";
			} else if (WIFSIGNALED(r.status)) {
				x->crashed++;
				fault = strsignal(WTERMSIG(r.status));
			} else if (st == 0 && k == 0 && !strstr(r.out, "\nlocks held: ")) {
				x->bad++;
				fault = "incomplete output";
			} else if (st == 0 && k >= 1 && k <= 4 &&
				   !(json ? json_ok(r.out, r.outlen)
					  : text_balanced(r.out, r.outlen))) {
				x->bad++;
				fault = json ? "output is not JSON" : "output is not Python's text form";
			} else if (st == 1 && k >= 1 && k <= 4 &&
				   strncmp(r.err, "shmc-dump: ", 11) != 0) {
				x->bad++;
				fault = "exit 1 without a message";
			} else if (st == 0 || (st == 1 && k != 0)) {
				/* The check is exact only on a quiet arena: any
				 * verdict. A dump may meet a momentary tear. */
				x->ok += st == 0;
				if (st == 0 && k >= 1 && k <= 4)
					record(&rs, json ? "json" : k == 1 ? "lines" : "value", r.out,
					       r.outlen);
			} else {
				x->bad++;
				fault = "unexpected exit status";
			}
			if (fault && !x->first[0])
				snprintf(x->first, sizeof(x->first), "%s (exit %d): %.200s%.200s",
					 fault, st, r.err, r.out);
			run_free(&r);
		}
	}
	/* Then the JSON form of one dict whose keys keep changing between all
	 * str (a JSON object) and not (pairs): never a mixture. */
	struct tally *x = &t[4];
	double flip_until = now_s() + 3;
	for (int i = 0; i < 2000 && now_s() < flip_until; i++) {
		struct run r = run_tool("shmc-dump", "--json", NA_name, "flip", NULL);
		x->runs++;
		const char *fault = NULL;
		if (r.timed_out) {
			x->hung++;
			fault = "still running after the timeout";
		} else if (WIFSIGNALED(r.status)) {
			x->crashed++;
			fault = strsignal(WTERMSIG(r.status));
		} else if (WEXITSTATUS(r.status) == 0 && !json_ok(r.out, r.outlen)) {
			x->bad++;
			fault = "output is not JSON";
		} else if (WEXITSTATUS(r.status) > 1) {
			x->bad++;
			fault = "unexpected exit status";
		} else {
			x->ok += WEXITSTATUS(r.status) == 0;
		}
		if (fault && !x->first[0])
			snprintf(x->first, sizeof(x->first), "flip: %s: %.300s%.100s", fault, r.out,
				 r.err);
		run_free(&r);
	}
	long rounds = atomic_load(&f->rounds);
	atomic_store(&f->stop, 1);
	int st = wait_exit(mut_pid, TEST_DEADLINE);
	mut_pid = 0;
	cr_assert_eq(st, 0, "the mutator failed (%d)", st);
	char report[4096] = "";
	bool failed = false;
	for (int k = 0; k < 6; k++) {
		snprintf(report + strlen(report), sizeof(report) - strlen(report),
			 "\n  %-22s %3d runs: %3d ok, %d crashed, %d hung, %d bad%s%s", t[k].what,
			 t[k].runs, t[k].ok, t[k].crashed, t[k].hung, t[k].bad,
			 t[k].first[0] ? "; first: " : "", t[k].first);
		failed |= t[k].crashed || t[k].hung || t[k].bad;
	}
	cr_log_info("%d rounds of tools over %ld mutations:%s", runs, rounds, report);
	cr_assert(!failed, "tools on an arena being changed:%s", report);
	/* Reading a changing arena may fail ("arena is corrupt": a torn
	 * read), but not always: what succeeded is checked below. */
	cr_assert_gt(t[1].ok, 0, "shmc-dump always fails:%s", report);
	cr_assert_gt(t[2].ok, 0, "shmc-dump --json always fails:%s", report);
	records_check(&rs);
	/* Once it is quiet, the arena is sound. */
	expect_run(0, NULL, "", "shmc-check", NA_name, NULL);
	munmap(f, sizeof(*f));
}

/* The same through the library call the tool is built on, many times a
 * second: a dict whose keys flip between all str and not must always come
 * out as valid JSON (or an error), never a mixture of the two forms. */
Test(tools, view_dump_json_of_a_changing_dict_is_valid, .init = named_setup,
     .fini = named_teardown)
{
	struct flag *f = mutator_start();
	shmc_view_t *v;
	ASSERT_OK(shmc_view_open(NA_name, &v));
	int dumps = 0, ok = 0, bad = 0;
	static char first[600];
	first[0] = '\0';
	static const char *paths[] = {"flip", "config", NULL};
	double until = now_s() + 5;
	for (int i = 0; now_s() < until; i++) {
		char *out;
		const char *path = paths[i % 3];
		int rc = shmc_view_dump(v, path, SHMC_VIEW_JSON, &out);
		dumps++;
		if (rc == 0) {
			ok++;
			if (!json_ok(out, strlen(out)) && bad++ == 0)
				snprintf(first, sizeof(first), "%s: %.500s", path ? path : "(all)", out);
			shmc_free(out);
		} else if (rc != SHMC_ECORRUPT && bad++ == 0) { /* a torn read, at worst */
			snprintf(first, sizeof(first), "%s: %s", path ? path : "(all)",
				 shmc_errname(rc));
		}
	}
	shmc_view_close(v);
	mutator_stop();
	cr_log_info("%d JSON dumps of a changing arena: %d ok, %d not JSON", dumps, ok, bad);
	cr_assert_gt(ok, 0);
	cr_assert_eq(bad, 0, "%d of %d JSON dumps are not JSON (or failed oddly); the first: %s",
		     bad, dumps, first);
	munmap(f, sizeof(*f));
}
