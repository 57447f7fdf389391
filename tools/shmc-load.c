/*
 * shmc-load -- make a new shmc arena from a file shmc-save wrote.
 *
 *   shmc-load [--capacity BYTES] FILE NAME
 *
 * Creates the arena NAME (exclusively: it must not exist) and every object
 * of FILE in it, under its name (shmc_arena_load). The whole file is
 * checked first; a file that is not a save file, of another version or
 * layout, truncated or corrupt is refused and nothing is created. Exit
 * status: 0, 1 when the file is refused or the arena cannot be made, 2 on a
 * usage error.
 */
#include <getopt.h>
#include <shmc.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: shmc-load [--capacity BYTES] FILE NAME\n"
		   "  Create the shmc arena NAME (which must not exist) from FILE, a file\n"
		   "  shmc-save wrote, with every object under its name.\n"
		   "  -c, --capacity BYTES  the arena's capacity (default 4 GiB)\n"
		   "  -h, --help    this text;  -V, --version  the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"capacity", required_argument, NULL, 'c'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	shmc_arena_options_t o = {0};
	char *end;
	int c;
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.capacity = (size_t)strtoull(optarg, &end, 0);
			if (*optarg == '-' || *end || end == optarg) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("shmc-load %s\n", shmc_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 2) {
		usage(stderr);
		return 2;
	}
	const char *file = argv[optind], *name = argv[optind + 1];
	shmc_arena_t *a;
	int rc = shmc_arena_load(file, name, &o, &a);
	if (rc) {
		fprintf(stderr, "shmc-load: %s -> %s: %s\n", file, name, shmc_strerror(rc));
		return 1;
	}
	shmc_arena_close(a);
	return 0;
}
