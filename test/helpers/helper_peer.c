/*
 * helper_peer.c -- an UNRELATED process for the arena tests: started with
 * fork+exec, it shares nothing with the test but an arena's name.
 *
 * Named roots do not exist yet, so a container is shared by its offset in
 * the arena (the test reads it from its handle; this program wraps it with
 * the internal shmc__obj_wrap()).
 *
 * Usage (exit status: 0 ok, 2 usage, 3 open failed, 4 an operation failed):
 *   helper_peer open NAME          print shmc_errname() of shmc_arena_open
 *   helper_peer stats NAME         print "processes=P bytes_in_use=B
 *                                  capacity=C committed=M" (after a reclaim)
 *   helper_peer append NAME OFF V  append V (an int if it parses as one, else
 *                                  a str) to the list at offset OFF
 *   helper_peer serve NAME         open, print "ready", then answer commands
 *                                  read from stdin, one line each:
 *       stats                      as above
 *       append OFF V               "ok" or the error name
 *       fill OFF COUNT SIZE        append COUNT strings of SIZE bytes, item k
 *                                  made by fill_pattern(k) below; "ok"
 *       len OFF                    the list's length
 *       quit                       close the arena and exit 0
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena/arena.h"

#define SHMC_TEST_WHITEBOX /* wrap_off; memory/alloc.h, objects/obj.h */
#include "testutil.h"

/* Item K of a "fill": "<k>:" followed by letters, SIZE bytes in all. The
 * tests build the same strings to compare. */
static void fill_pattern(char *buf, size_t size, long k)
{
	int n = snprintf(buf, size + 1, "%ld:", k);
	for (size_t i = (size_t)n; i < size; i++)
		buf[i] = (char)('a' + (i + (size_t)k) % 26);
	buf[size] = '\0';
}

static int wrap_list(shmc_arena_t *a, uint64_t off, shmc_obj_t **out)
{
	int rc = wrap_off(a, off, out);
	if (rc == 0 && shmc_obj_kind(*out) != SHMC_KIND_LIST) {
		shmc_obj_release(*out);
		rc = SHMC_EKIND;
	}
	return rc;
}

static shmc_value_t parse_value(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s && *end == '\0' && errno == 0)
		return shmc_int(v);
	return shmc_str(s);
}

static int do_append(shmc_arena_t *a, const char *offs, const char *val)
{
	shmc_obj_t *ls;
	int rc = wrap_list(a, strtoull(offs, NULL, 0), &ls);
	if (rc)
		return rc;
	rc = shmc_list_append(ls, parse_value(val));
	shmc_obj_release(ls);
	return rc;
}

static int do_fill(shmc_arena_t *a, const char *offs, long count, size_t size)
{
	shmc_obj_t *ls;
	int rc = wrap_list(a, strtoull(offs, NULL, 0), &ls);
	if (rc)
		return rc;
	char *buf = malloc(size + 32);
	if (buf == NULL) {
		shmc_obj_release(ls);
		return -ENOMEM;
	}
	for (long k = 0; k < count && rc == 0; k++) {
		fill_pattern(buf, size, k);
		rc = shmc_list_append(ls, shmc_strn(buf, size));
	}
	free(buf);
	shmc_obj_release(ls);
	return rc;
}

static int64_t do_len(shmc_arena_t *a, const char *offs)
{
	shmc_obj_t *ls;
	int rc = wrap_list(a, strtoull(offs, NULL, 0), &ls);
	if (rc)
		return rc;
	int64_t n = shmc_list_len(ls);
	shmc_obj_release(ls);
	return n;
}

static int print_stats(shmc_arena_t *a)
{
	shmc_arena_stats_t st;
	shmc_arena_reclaim(a); /* dead slots (e.g. a fork before exec) go */
	int rc = shmc_arena_stats(a, &st);
	if (rc)
		return rc;
	printf("processes=%u bytes_in_use=%zu capacity=%zu committed=%zu\n",
	       st.processes, st.bytes_in_use, st.capacity, st.committed);
	return 0;
}

static int serve(shmc_arena_t *a)
{
	char line[512];
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[32] = "", x[128] = "", y[128] = "", z[128] = "";
		int n = sscanf(line, "%31s %127s %127s %127s", cmd, x, y, z);
		int rc;
		if (n >= 1 && strcmp(cmd, "quit") == 0) {
			break;
		} else if (n >= 1 && strcmp(cmd, "stats") == 0) {
			if ((rc = print_stats(a)) != 0)
				printf("%s\n", shmc_errname(rc));
		} else if (n == 3 && strcmp(cmd, "append") == 0) {
			printf("%s\n", shmc_errname(do_append(a, x, y)));
		} else if (n == 4 && strcmp(cmd, "fill") == 0) {
			rc = do_fill(a, x, atol(y), (size_t)atol(z));
			printf("%s\n", shmc_errname(rc));
		} else if (n == 2 && strcmp(cmd, "len") == 0) {
			int64_t len = do_len(a, x);
			if (len < 0)
				printf("%s\n", shmc_errname((int)len));
			else
				printf("%" PRId64 "\n", len);
		} else {
			printf("usage\n");
		}
		fflush(stdout);
	}
	shmc_arena_close(a);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: helper_peer open|stats|serve NAME\n"
			"       helper_peer append NAME OFF VALUE\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *cmd = argv[1], *name = argv[2];
	bool known = (strcmp(cmd, "open") == 0 || strcmp(cmd, "stats") == 0 ||
		      strcmp(cmd, "serve") == 0) ? argc == 3
		     : strcmp(cmd, "append") == 0 ? argc == 5
						  : false;
	if (!known)
		return usage();
	shmc_arena_t *a;
	int rc = shmc_arena_open(name, &a);
	if (strcmp(cmd, "open") == 0 || rc != 0) {
		printf("%s\n", shmc_errname(rc));
		if (rc == 0)
			shmc_arena_close(a);
		return rc == 0 ? 0 : 3;
	}
	if (strcmp(cmd, "serve") == 0)
		return serve(a);
	if (strcmp(cmd, "stats") == 0)
		rc = print_stats(a);
	else
		rc = do_append(a, argv[3], argv[4]);
	if (rc)
		printf("%s\n", shmc_errname(rc));
	shmc_arena_close(a);
	return rc == 0 ? 0 : 4;
}
