/*
 * shmc-stat -- what is inside a live shmc arena, at a glance.
 *
 *   shmc-stat NAME
 *
 * Format and version, size and capacity, memory in use by size class and
 * free in the page pool,
 * managed objects by kind, attached processes (alive or dead), and the
 * locks held and by whom. Read-only: the arena is mapped without attaching,
 * nothing is written and no lock is taken. Exit status: 0, 1 when the arena
 * cannot be read, 2 on a usage error.
 */
#include <getopt.h>
#include <shmc.h>
#include <stdio.h>
#include <string.h>

#define MAX_KINDS 32

static void usage(FILE *f)
{
	fprintf(f, "usage: shmc-stat NAME\n"
		   "  Show what an shmc arena holds: memory, objects, processes, locks.\n"
		   "  NAME is a name under /dev/shm or a path to an arena file.\n"
		   "  -h, --help    this text;  -V, --version  the version\n");
}

static void human(char *buf, size_t n, double bytes)
{
	const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

static int print_proc(void *ctx, const shmc_proc_info_t *p)
{
	(void)ctx;
	printf("  slot %3u  pid %-8u %-5s  %llu handles\n", p->slot, p->pid,
	       p->alive ? "alive" : "DEAD", (unsigned long long)p->handles);
	return 0;
}

struct tally {
	const char *typeid[MAX_KINDS];
	unsigned long count[MAX_KINDS];
	unsigned long locked;
};

static int count_object(void *ctx, const shmc_object_info_t *o)
{
	struct tally *t = ctx;
	if ((unsigned)o->kind < MAX_KINDS) {
		t->typeid[o->kind] = o->typeid;
		t->count[o->kind]++;
	}
	t->locked += o->locked;
	return 0;
}

static int print_lock(void *ctx, const shmc_object_info_t *o)
{
	(void)ctx;
	if (!o->locked)
		return 0;
	printf("  %s %#llx%s%s%s: held by slot %d (pid %u, %s)%s\n", o->typeid,
	       (unsigned long long)o->offset, o->name ? " \"" : "",
	       o->name ? o->name : "", o->name ? "\"" : "", o->lock_slot, o->lock_pid,
	       o->lock_owner_alive ? "alive" : "DEAD: the next locker recovers it",
	       o->waiters ? ", waiters" : "");
	return 0;
}

static int print_named(void *ctx, const shmc_object_info_t *o)
{
	(void)ctx;
	if (o->name && o->length >= 0)
		printf("  %-20s %-14s %#llx  %lld items, %llu refs\n", o->name, o->typeid,
		       (unsigned long long)o->offset, (long long)o->length,
		       (unsigned long long)o->refs);
	else if (o->name)
		printf("  %-20s %-14s %#llx  %llu refs\n", o->name, o->typeid,
		       (unsigned long long)o->offset, (unsigned long long)o->refs);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		case 'V': printf("shmc-stat %s\n", shmc_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	shmc_view_t *v;
	int rc = shmc_view_open(name, &v);
	if (rc) {
		fprintf(stderr, "shmc-stat: %s: %s\n", name, shmc_strerror(rc));
		return 1;
	}
	unsigned version;
	uint64_t fp;
	shmc_arena_stats_t st;
	char a[32], b[32], d[32], e[32];
	shmc_view_format_version(v, &version, &fp);
	shmc_view_stats(v, &st);
	human(a, sizeof(a), (double)st.capacity);
	human(b, sizeof(b), (double)st.committed);
	human(d, sizeof(d), (double)st.used);
	human(e, sizeof(e), (double)st.bytes_in_use);
	printf("arena %s: shmc format %u (layout %016llx), library %s\n", name, version,
	       (unsigned long long)fp, shmc_version());
	printf("  capacity %s, committed %s, carved %s, in use %s in %llu blocks\n", a, b,
	       d, e, (unsigned long long)st.blocks_in_use);
	human(a, sizeof(a), (double)st.pool_bytes);
	human(b, sizeof(b), (double)st.released_bytes);
	human(d, sizeof(d), (double)st.released_total);
	printf("  page pool %s free, %s of it given back to the system (%s since creation)\n",
	       a, b, d);
	printf("  locks recovered from dead holders: %llu\n",
	       (unsigned long long)st.lock_recoveries);
	printf("  room for %u processes and %u threads\n", st.max_procs, st.max_threads);
	printf("memory by size class (bytes: blocks in use / free):\n");
	for (unsigned i = 0; i < st.nclasses; i++) {
		const shmc_class_stats_t *k = &st.classes[i];
		if (k->carved == 0)
			continue;
		printf("  %8zu%s: %llu / %llu\n", k->block_size,
		       i == st.nclasses - 1 ? "+" : " ", (unsigned long long)k->in_use,
		       (unsigned long long)(k->carved - k->in_use));
	}
	struct tally t = {0};
	shmc_view_objects(v, count_object, &t);
	printf("objects by kind:\n");
	for (int k = 0; k < MAX_KINDS; k++)
		if (t.count[k])
			printf("  %-18s %lu\n", t.typeid[k], t.count[k]);
	printf("named objects:\n");
	shmc_view_objects(v, print_named, NULL);
	printf("processes (%u slots in use):\n", st.processes);
	shmc_view_procs(v, print_proc, NULL);
	printf("locks held: %lu\n", t.locked);
	shmc_view_objects(v, print_lock, NULL);
	shmc_view_close(v);
	return 0;
}
