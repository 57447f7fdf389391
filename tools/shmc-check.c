/*
 * shmc-check -- verify an shmc arena, and release what dead processes left.
 *
 *   shmc-check [-q] NAME            read-only: map the arena and walk it
 *   shmc-check --reap NAME          attach, release dead processes' leftovers
 *   shmc-check --sweep NAME         also free leaked blocks (only while no
 *                                   other process is mid-operation)
 *
 * NAME is a name under /dev/shm or a path to an arena file. Exit status: 0
 * when no invariant is broken, 1 when one is (or the arena cannot be read),
 * 2 on a usage error.
 */
#include <getopt.h>
#include <shmc.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: shmc-check [-q] [--reap] [--sweep] NAME\n"
		   "  Walk an shmc arena and report every broken invariant.\n"
		   "  -q, --quiet   print only the summary\n"
		   "  --reap        release what dead processes left (attaches)\n"
		   "  --sweep       --reap, and free leaked blocks: only while no\n"
		   "                other process is in the middle of an operation\n"
		   "  -h, --help    this text;  -V, --version  the version\n");
}

static void print_finding(void *ctx, const char *msg)
{
	(void)ctx;
	printf("  %s\n", msg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"quiet", no_argument, NULL, 'q'}, {"reap", no_argument, NULL, 'r'},
		{"sweep", no_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
	unsigned flags = 0;
	int quiet = 0, c;
	while ((c = getopt_long(argc, argv, "qhV", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'r': flags |= SHMC_CHECK_REAP; break;
		case 's': flags |= SHMC_CHECK_REAP | SHMC_CHECK_SWEEP; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("shmc-check %s\n", shmc_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	shmc_check_report_t rep, before;
	/* Read-only first: the verdict, and the dead processes as found (an
	 * attaching process releases what the dead left on its way in). */
	int rc = shmc_arena_check_file(name, &before, quiet || flags ? NULL : print_finding, NULL);
	rep = before;
	if (rc == SHMC_ECORRUPT && before.errors == 0) /* refused, not walked */
		rc = SHMC_ECORRUPT;
	else if (rc == SHMC_ECORRUPT)
		rc = 0; /* walked: the findings say what is wrong */
	if (rc == 0 && flags) {
		shmc_arena_t *a;
		if ((rc = shmc_arena_open(name, &a)) == 0) {
			rc = shmc_arena_check(a, flags, &rep, quiet ? NULL : print_finding, NULL);
			shmc_arena_close(a);
			/* Left dead after it, and released by it (or by
			 * attaching): the dead that were found before. */
			rep.reaped = before.dead_processes - rep.dead_processes;
			if (rc == SHMC_ECORRUPT)
				rc = 0;
		}
	}
	if (rc != 0) {
		fprintf(stderr, "shmc-check: %s: %s\n", name, shmc_strerror(rc));
		return 1;
	}
	printf("%s: %llu errors; %llu objects, %llu blocks in use, %llu free; "
	       "leaked: %llu blocks (%llu bytes), %llu references; "
	       "%llu dead processes",
	       name, (unsigned long long)rep.errors, (unsigned long long)rep.objects,
	       (unsigned long long)rep.blocks, (unsigned long long)rep.free_blocks,
	       (unsigned long long)rep.leaked_blocks,
	       (unsigned long long)rep.leaked_bytes,
	       (unsigned long long)rep.leaked_refs,
	       (unsigned long long)rep.dead_processes);
	if (flags)
		printf("; reaped %llu, swept %llu blocks", (unsigned long long)rep.reaped,
		       (unsigned long long)rep.swept_blocks);
	printf("\n");
	return rep.errors ? 1 : 0;
}
