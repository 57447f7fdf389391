/* A program built by CMake against the installed shmc: a namespace shared
 * with a forked child, printed as Python prints it. */
#include <shmc.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	shmc_arena_t *a;
	shmc_obj_t *ns;
	if (shmc_arena_create_anon(NULL, &a) || shmc_namespace_new(a, &ns))
		return 1;
	pid_t pid = fork();
	if (pid == 0)
		_exit(shmc_namespace_set(ns, "x", shmc_int(42)) != 0);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	char *s;
	if (shmc_obj_str(ns, &s))
		return 1;
	printf("%s\n", s);
	shmc_free(s);
	shmc_obj_release(ns);
	shmc_arena_close(a);
	return 0;
}
