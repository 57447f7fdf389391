/*
 * manager_example.c -- shared/reference/manager_example.py, in C.
 *
 * A Namespace, a list and a dict, each holding an int, two plain lists and a
 * nested managed list, mutated by a forked child. Prints what Python prints
 * (but for the addresses in the proxy forms).
 */
#include <shmc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(call)                                                            \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ < 0) {                                                 \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__,  \
				#call, shmc_strerror(rc_));                    \
			exit(1);                                               \
		}                                                              \
	} while (0)

/* t[0] += 1 on a private plain list. */
static void bump_first(shmc_value_t t)
{
	shmc_seq_at(t, 0)->i += 1;
}

static void f(shmc_obj_t *ns, shmc_obj_t *ls, shmc_obj_t *di)
{
	shmc_value_t v;

	/* ns.x += 1: a read, then a store */
	CHECK(shmc_namespace_get(ns, "x", &v));
	CHECK(shmc_namespace_set(ns, "x", shmc_int(v.i + 1)));
	/* ns.y[0] += 1: changes a private copy, which is then dropped */
	CHECK(shmc_namespace_get(ns, "y", &v));
	bump_first(v);
	shmc_value_free(&v);
	/* ns_z = ns.z; ns_z[0] += 1; ns.z = ns_z */
	CHECK(shmc_namespace_get(ns, "z", &v));
	bump_first(v);
	CHECK(shmc_namespace_set(ns, "z", v));
	shmc_value_free(&v);

	/* ls[0] += 1 */
	CHECK(shmc_list_get(ls, 0, &v));
	CHECK(shmc_list_set(ls, 0, shmc_int(v.i + 1)));
	/* ls[1][0] += 1: unmanaged, not assigned back */
	CHECK(shmc_list_get(ls, 1, &v));
	bump_first(v);
	shmc_value_free(&v);
	/* ls_2 = ls[2]; ls_2[0] += 1; ls[2] = ls_2: unmanaged, assigned back */
	CHECK(shmc_list_get(ls, 2, &v));
	bump_first(v);
	CHECK(shmc_list_set(ls, 2, v));
	shmc_value_free(&v);
	/* ls[3][0] += 1: managed, changed in place */
	CHECK(shmc_list_get(ls, 3, &v));
	shmc_value_t x;
	CHECK(shmc_list_get(v.ref, 0, &x));
	CHECK(shmc_list_set(v.ref, 0, shmc_int(x.i + 1)));
	shmc_value_free(&v);

	/* The same for the dict. */
	CHECK(shmc_dict_get(di, shmc_int(0), &v));
	CHECK(shmc_dict_set(di, shmc_int(0), shmc_int(v.i + 1)));
	CHECK(shmc_dict_get(di, shmc_int(1), &v));
	bump_first(v);
	shmc_value_free(&v);
	CHECK(shmc_dict_get(di, shmc_int(2), &v));
	bump_first(v);
	CHECK(shmc_dict_set(di, shmc_int(2), v));
	shmc_value_free(&v);
	CHECK(shmc_dict_get(di, shmc_int(3), &v));
	CHECK(shmc_list_get(v.ref, 0, &x));
	CHECK(shmc_list_set(v.ref, 0, shmc_int(x.i + 1)));
	shmc_value_free(&v);
}

/* print(title, ns, ls, ls[2], di, di[2], sep='\n') */
static void show(const char *title, shmc_obj_t *ns, shmc_obj_t *ls, shmc_obj_t *di)
{
	shmc_value_t v;
	puts(title);
	CHECK(shmc_obj_print(ns, stdout));
	CHECK(shmc_obj_print(ls, stdout));
	CHECK(shmc_list_get(ls, 2, &v));
	CHECK(shmc_value_print(v, stdout));
	shmc_value_free(&v);
	CHECK(shmc_obj_print(di, stdout));
	CHECK(shmc_dict_get(di, shmc_int(2), &v));
	CHECK(shmc_value_print(v, stdout));
	shmc_value_free(&v);
}

int main(void)
{
	shmc_arena_t *arena;
	shmc_obj_t *ns, *ls, *di, *inner;

	CHECK(shmc_arena_create_anon(NULL, &arena));
	CHECK(shmc_namespace_new(arena, &ns));
	CHECK(shmc_namespace_set(ns, "x", shmc_int(1)));
	shmc_value_t one = shmc_plist_of(1, shmc_int(1)); /* [1] */
	CHECK(shmc_namespace_set(ns, "y", one));
	CHECK(shmc_namespace_set(ns, "z", one));

	/* ls = manager.list([1, [1], [1], manager.list([1])]) */
	CHECK(shmc_list_new_from(arena, one, &inner));
	shmc_value_t items = shmc_plist_of(4, shmc_int(1), shmc_plist_of(1, shmc_int(1)),
					   shmc_plist_of(1, shmc_int(1)), shmc_ref(inner));
	CHECK(shmc_list_new_from(arena, items, &ls));
	shmc_value_free(&items);
	shmc_obj_release(inner);

	/* di = manager.dict({0: 1, 1: [1], 2: [1], 3: manager.list([1])}) */
	CHECK(shmc_list_new_from(arena, one, &inner));
	shmc_value_t entries = shmc_pdict_of(
		4, shmc_int(0), shmc_int(1), shmc_int(1), shmc_plist_of(1, shmc_int(1)),
		shmc_int(2), shmc_plist_of(1, shmc_int(1)), shmc_int(3), shmc_ref(inner));
	CHECK(shmc_dict_new_from(arena, entries, &di));
	shmc_value_free(&entries);
	shmc_obj_release(inner);
	shmc_value_free(&one);

	show("before", ns, ls, di);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		f(ns, ls, di);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "child failed\n");
		return 1;
	}
	show("after", ns, ls, di);

	shmc_obj_release(ns);
	shmc_obj_release(ls);
	shmc_obj_release(di);
	shmc_arena_close(arena);
	return 0;
}
