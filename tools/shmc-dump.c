/*
 * shmc-dump -- print what a live shmc arena holds, as Python prints it.
 *
 *   shmc-dump [--json] NAME [PATH]
 *
 * Without PATH, every named object, one "name: contents" line each. With
 * PATH -- a name, then '/'-separated steps through managed containers (a
 * list index, a dict or cache key, an attribute) -- the object or value there.
 * Managed objects inside are shown as references with their identity (their
 * offset in the arena), so cycles print finitely. Read-only: nothing is
 * written and no lock is taken. Exit status: 0, 1 when the arena or the
 * path cannot be read, 2 on a usage error.
 */
#include <getopt.h>
#include <shmc.h>
#include <stdio.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: shmc-dump [--json] NAME [PATH]\n"
		   "  Print the named objects of an shmc arena, or the one at PATH\n"
		   "  (e.g. jobs/3/name), in Python's text form or as JSON.\n"
		   "  -j, --json    JSON instead of Python's text form\n"
		   "  -h, --help    this text;  -V, --version  the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	unsigned flags = 0;
	int c;
	while ((c = getopt_long(argc, argv, "jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': flags |= SHMC_VIEW_JSON; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("shmc-dump %s\n", shmc_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 && optind != argc - 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[optind], *path = optind + 1 < argc ? argv[optind + 1] : NULL;
	shmc_view_t *v;
	char *text;
	int rc = shmc_view_open(name, &v);
	if (rc) {
		fprintf(stderr, "shmc-dump: %s: %s\n", name, shmc_strerror(rc));
		return 1;
	}
	rc = shmc_view_dump(v, path, flags, &text);
	shmc_view_close(v);
	if (rc) {
		fprintf(stderr, "shmc-dump: %s%s%s: %s\n", name, path ? " " : "",
			path ? path : "", shmc_strerror(rc));
		return 1;
	}
	fputs(text, stdout);
	if (path || (flags & SHMC_VIEW_JSON))
		fputc('\n', stdout);
	shmc_free(text);
	return 0;
}
