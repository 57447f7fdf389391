/*
 * shmc-save -- copy a live shmc arena's named objects into a file.
 *
 *   shmc-save [--skip-unsavable] NAME FILE
 *
 * Every named object and all it reaches, each copied at a moment of its own
 * while other processes go on working (shmc_arena_save). FILE is replaced
 * atomically: a crash leaves the old file or the new one. Attaches to the
 * arena for the copy (a process slot, for the time it takes). Exit status:
 * 0, 1 when the arena cannot be opened or the file written, 2 on a usage
 * error.
 */
#include <getopt.h>
#include <shmc.h>
#include <stdio.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: shmc-save [--skip-unsavable] NAME FILE\n"
		   "  Save the named objects of an shmc arena, and all they reach, to FILE\n"
		   "  (replaced atomically); shmc-load makes a new arena from it.\n"
		   "  -s, --skip-unsavable  leave out named Pools, AsyncResults, Iterators\n"
		   "  -h, --help    this text;  -V, --version  the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"skip-unsavable", no_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	unsigned flags = 0;
	int c;
	while ((c = getopt_long(argc, argv, "shV", opts, NULL)) != -1) {
		switch (c) {
		case 's': flags |= SHMC_SAVE_SKIP_UNSAVABLE; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("shmc-save %s\n", shmc_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[optind], *file = argv[optind + 1];
	shmc_arena_t *a;
	int rc = shmc_arena_open(name, &a);
	if (rc) {
		fprintf(stderr, "shmc-save: %s: %s\n", name, shmc_strerror(rc));
		return 1;
	}
	rc = shmc_arena_save(a, file, flags);
	shmc_arena_close(a);
	if (rc) {
		fprintf(stderr, "shmc-save: %s: %s\n", file, shmc_strerror(rc));
		return 1;
	}
	return 0;
}
