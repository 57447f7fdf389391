/*
 * append_example.c -- shared/reference/append_example.py, in C.
 *
 * Mutating a plain value held by a managed Namespace: appending to the copy
 * that a read returns is lost; storing the copy back is kept.
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

/* ns.x.append(10): the read returns a private copy; the append is lost. */
static void lost(shmc_obj_t *ns)
{
	shmc_value_t x;
	CHECK(shmc_namespace_get(ns, "x", &x));
	CHECK(shmc_plist_append(&x, shmc_int(10)));
	shmc_value_free(&x);
}

/* tmp = ns.x; tmp.append(10); ns.x = tmp: the store publishes it. */
static void kept(shmc_obj_t *ns)
{
	shmc_value_t tmp;
	CHECK(shmc_namespace_get(ns, "x", &tmp));
	CHECK(shmc_plist_append(&tmp, shmc_int(10)));
	CHECK(shmc_namespace_set(ns, "x", tmp));
	shmc_value_free(&tmp);
}

int main(void)
{
	shmc_arena_t *arena;
	shmc_obj_t *ns;
	CHECK(shmc_arena_create_anon(NULL, &arena));
	CHECK(shmc_namespace_new(arena, &ns));
	shmc_value_t empty = shmc_plist_of(0);
	CHECK(shmc_namespace_set(ns, "x", empty));
	shmc_value_free(&empty);

	struct {
		const char *name;
		void (*target)(shmc_obj_t *);
	} targets[] = {{"lost", lost}, {"kept", kept}};
	for (size_t i = 0; i < 2; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			targets[i].target(ns);
			_exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return 1;
		char *s;
		CHECK(shmc_obj_str(ns, &s));
		printf("%s %s\n", targets[i].name, s);
		shmc_free(s);
	}
	shmc_obj_release(ns);
	shmc_arena_close(arena);
	return 0;
}
