/*
 * test_readme.c -- the README's API tour compiles as written and prints
 * what the README says it prints.
 */
#include <criterion/criterion.h>
#include <libgen.h>

#include "testutil.h"

TestSuite(readme, .timeout = 120);

/* The repository's root, from this file's path or the working directory. */
static void repo_root(char *out, size_t n)
{
	char here[1024];
	snprintf(here, sizeof(here), "%s", __FILE__);
	char *dir = dirname(here); /* .../test/integration */
	snprintf(out, n, "%s/../..", dir);
	char probe[1100];
	snprintf(probe, sizeof(probe), "%s/README.md", out);
	if (access(probe, R_OK) != 0)
		snprintf(out, n, ".");
}

/* The first ```c block after the "## API tour" heading. */
static char *extract_tour(const char *readme)
{
	FILE *f = fopen(readme, "r");
	cr_assert_not_null(f, "cannot read %s", readme);
	char line[1024];
	size_t cap = 1 << 16, len = 0;
	char *code = calloc(cap, 1);
	int state = 0; /* 0: before the heading, 1: before the block, 2: in it */
	while (fgets(line, sizeof(line), f)) {
		if (state == 0 && strncmp(line, "## API tour", 11) == 0)
			state = 1;
		else if (state == 1 && strncmp(line, "```c", 4) == 0)
			state = 2;
		else if (state == 2 && strncmp(line, "```", 3) == 0)
			break;
		else if (state == 2 && len + strlen(line) < cap) {
			strcpy(code + len, line);
			len += strlen(line);
		}
	}
	fclose(f);
	cr_assert_gt(len, 100, "no API tour found in %s", readme);
	return code;
}

Test(readme, api_tour_compiles_and_prints_what_it_says)
{
	char root[1024], readme[1100], src[64], bin[64], cmd[4096];
	repo_root(root, sizeof(root));
	snprintf(readme, sizeof(readme), "%s/README.md", root);
	char *code = extract_tour(readme);
	snprintf(src, sizeof(src), "/tmp/shmc-tour-%d.c", getpid());
	snprintf(bin, sizeof(bin), "/tmp/shmc-tour-%d", getpid());
	FILE *f = fopen(src, "w");
	fputs(code, f);
	fclose(f);
	free(code);
	const char *build = getenv("SHMC_BUILD") ? getenv("SHMC_BUILD") : "build/release";
	char lib[1200];
	if (build[0] == '/')
		snprintf(lib, sizeof(lib), "%s/libshmc.a", build);
	else
		snprintf(lib, sizeof(lib), "%s/%s/libshmc.a", root, build);
	/* A sanitizer build's library needs the sanitizer's runtime. */
	const char *san = getenv("SHMC_SANFLAGS") ? getenv("SHMC_SANFLAGS") : "";
	snprintf(cmd, sizeof(cmd),
		 "cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror %s -I%s/include -o %s %s %s "
		 "-ljemalloc -lgmp -lpthread -lm 2>&1",
		 san, root, bin, src, lib);
	int rc = system(cmd);
	cr_assert_eq(rc, 0, "the API tour does not compile: %s", cmd);
	FILE *p = popen(bin, "r");
	char out[3][256] = {{0}};
	for (int i = 0; i < 3; i++)
		cr_assert_not_null(fgets(out[i], sizeof(out[i]), p), "line %d missing", i);
	cr_assert_eq(pclose(p), 0);
	cr_assert_str_eq(out[0], "Namespace(x=2, y=[1])\n");
	cr_assert(strncmp(out[1], "[1, <ListProxy object, typeid 'list' at 0x", 42) == 0,
		  "got %s", out[1]);
	cr_assert_str_eq(out[2], "[2]\n");
	unlink(src);
	unlink(bin);
}
