/*
 * test_arena.c -- arenas: anonymous and named creation, opening by name from
 * an unrelated process (test/helper_peer, started with fork+exec), every
 * refusal of shmc_arena_open (each with its own code, the file untouched), a
 * full arena, growth while attached, and shmc_arena_stats.
 *
 * Named arenas get a name unique to the test process (its pid); every file a
 * test makes is recorded and removed by the fixture.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "arena/arena.h"
#include "objects/obj.h"
#include "arena/proc.h"
#include "lifecycle/lifecycle.h"

#define SHMC_TEST_NAMED_FIXTURE
#include "testutil.h"

TestSuite(arena, .timeout = 120);

/* Fixtures: the named one (NA) is testutil.h's. */

/* Helpers --------------------------------------------------------------------- */

static uint64_t obj_off(const shmc_obj_t *h)
{
	return shmc__handle_off(h);
}

/* Item K of a "fill" (the same as in helper_peer.c). */
static void fill_pattern(char *buf, size_t size, long k)
{
	int n = snprintf(buf, size + 1, "%ld:", k);
	for (size_t i = (size_t)n; i < size; i++)
		buf[i] = (char)('a' + (i + (size_t)k) % 26);
	buf[size] = '\0';
}

static void expect_str_item(shmc_obj_t *ls, int64_t i, const char *want,
			    size_t len)
{
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, i, &v));
	cr_assert_eq(v.type, SHMC_STR, "item %lld", (long long)i);
	cr_assert_eq(v.len, len, "item %lld", (long long)i);
	cr_assert(memcmp(v.str, want, len) == 0, "item %lld differs", (long long)i);
	shmc_value_free(&v);
}

static int64_t get_int(shmc_obj_t *ls, int64_t i)
{
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, i, &v));
	cr_assert_eq(v.type, SHMC_INT);
	return v.i;
}

static shmc_arena_stats_t stats_of(shmc_arena_t *a)
{
	shmc_arena_stats_t st;
	ASSERT_OK(shmc_arena_stats(a, &st));
	return st;
}

/* Use arena A a little and check that it leaks nothing. */
static void exercise(shmc_arena_t *a)
{
	arena_warm(a);
	size_t base = arena_in_use(a);
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(a, &ls));
	for (int i = 0; i < 1000; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
	cr_assert_eq(shmc_list_len(ls), 1000);
	cr_assert_eq(get_int(ls, 999), 999);
	shmc_obj_release(ls);
	cr_assert_eq(arena_in_use(a), base);
}

static unsigned live_processes(shmc_arena_t *a)
{
	shmc_arena_reclaim(a);
	return stats_of(a).processes;
}

/* The peer program --------------------------------------------------------- */

static const char *peer_exe(void)
{
	static char path[4096];
	cr_assert(build_program("test", "helper_peer", path, sizeof(path)),
		  "no helper_peer (set SHMC_BUILD)");
	return path;
}

/* fork+exec the peer with ARGV (argv[0] filled in); its stdin and stdout
 * are pipes. */
static pid_t peer_spawn(char **argv, int *to, int *from)
{
	int in[2], out[2];
	cr_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
	argv[0] = (char *)peer_exe();
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to = in[1];
	*from = out[0];
	return pid;
}

/* Run the peer to completion; OUT gets its output, without the last
 * newline. Returns its exit status. */
static int peer_run(char *out, size_t n, const char *cmd, const char *name,
		    const char *x, const char *y)
{
	char *argv[] = {NULL, (char *)cmd, (char *)name, (char *)x, (char *)y, NULL};
	int to, from;
	pid_t pid = peer_spawn(argv, &to, &from);
	close(to);
	size_t len = 0;
	ssize_t r;
	while (len + 1 < n && (r = read(from, out + len, n - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	if (len && out[len - 1] == '\n')
		out[len - 1] = '\0';
	close(from);
	return wait_exit(pid, TEST_DEADLINE);
}

/* A peer attached to an arena, answering commands. */
struct peer {
	pid_t pid;
	FILE *in, *out;
};

static void peer_cmd(struct peer *p, char *reply, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void peer_cmd(struct peer *p, char *reply, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(p->in, fmt, ap);
	va_end(ap);
	fputc('\n', p->in);
	fflush(p->in);
	cr_assert(fgets(reply, (int)n, p->out) != NULL, "peer hung up");
	reply[strcspn(reply, "\n")] = '\0';
}

static void peer_start(struct peer *p, const char *name)
{
	char *argv[] = {NULL, "serve", (char *)name, NULL};
	int to, from;
	p->pid = peer_spawn(argv, &to, &from);
	p->in = fdopen(to, "w");
	p->out = fdopen(from, "r");
	cr_assert(p->in && p->out);
	char line[128];
	cr_assert(fgets(line, sizeof(line), p->out) != NULL, "peer did not start");
	cr_assert_str_eq(line, "ready\n");
}

static int peer_stop(struct peer *p)
{
	fputs("quit\n", p->in);
	fclose(p->in);
	fclose(p->out);
	return wait_exit(p->pid, TEST_DEADLINE);
}

static unsigned peer_processes(const char *stats_line)
{
	unsigned n = 0;
	cr_assert(sscanf(stats_line, "processes=%u", &n) == 1, "stats: %s", stats_line);
	return n;
}

/* Anonymous arenas ---------------------------------------------------------- */

Test(arena, anon_default_capacity)
{
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_create_anon(NULL, &a));
	shmc_arena_stats_t st = stats_of(a);
	cr_assert_eq(st.capacity, SHMC_DEFAULT_CAPACITY);
	/* Reserved address space costs nothing until it is used. */
	cr_assert_lt(st.committed, (size_t)16 << 20);
	cr_assert_eq(st.processes, 1);
	exercise(a);
	shmc_arena_close(a);

	shmc_arena_options_t zero = {0};
	ASSERT_OK(shmc_arena_create_anon(&zero, &a));
	cr_assert_eq(stats_of(a).capacity, SHMC_DEFAULT_CAPACITY);
	exercise(a);
	shmc_arena_close(a);
}

Test(arena, anon_custom_capacity)
{
	const size_t caps[] = {SHMC_MIN_CAPACITY, 8 << 20, (5 << 20) + 1,
			       (size_t)64 << 30};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		shmc_arena_options_t o = {.capacity = caps[i]};
		shmc_arena_t *a;
		ASSERT_OK(shmc_arena_create_anon(&o, &a));
		size_t cap = stats_of(a).capacity;
		cr_assert_geq(cap, caps[i], "asked %zu, got %zu", caps[i], cap);
		cr_assert_lt(cap, caps[i] + (4 << 20), "asked %zu, got %zu", caps[i], cap);
		if (caps[i] % (2 << 20) == 0)
			cr_assert_eq(cap, caps[i]);
		exercise(a);
		shmc_arena_close(a);
	}
}

Test(arena, anon_maximum_capacity_is_accepted)
{
	shmc_arena_options_t o = {.capacity = SHMC__MAX_CAPACITY};
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_create_anon(&o, &a));
	cr_assert_eq(stats_of(a).capacity, SHMC__MAX_CAPACITY);
	exercise(a);
	shmc_arena_close(a);
}

Test(arena, capacity_out_of_range_is_einval, .fini = files_cleanup)
{
	const size_t bad[] = {1, 4096, SHMC_MIN_CAPACITY - 1,
			      SHMC__MAX_CAPACITY + 1, SHMC__MAX_CAPACITY * 2, SIZE_MAX};
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "badcap");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		shmc_arena_options_t o = {.capacity = bad[i]};
		shmc_arena_t *a = (shmc_arena_t *)&o; /* must stay untouched */
		ASSERT_ERR(shmc_arena_create_anon(&o, &a), -EINVAL);
		cr_assert_eq(a, (shmc_arena_t *)&o);
		ASSERT_ERR(shmc_arena_create(name, &o, &a), -EINVAL);
		cr_assert_eq(a, (shmc_arena_t *)&o);
		struct stat st;
		cr_assert(lstat(path, &st) != 0 && errno == ENOENT,
			  "a refused create left %s", path);
	}
	ASSERT_ERR(shmc_arena_create_anon(NULL, NULL), -EINVAL);
	ASSERT_ERR(shmc_arena_create(name, NULL, NULL), -EINVAL);
	shmc_arena_t *a;
	ASSERT_ERR(shmc_arena_create("", NULL, &a), -EINVAL);
	ASSERT_ERR(shmc_arena_create(NULL, NULL, &a), -EINVAL);
	ASSERT_ERR(shmc_arena_open(NULL, &a), -EINVAL);
}

/* Named arenas ---------------------------------------------------------------- */

static void create_named(const char *name, unsigned mode, size_t cap,
			 shmc_arena_t **out)
{
	shmc_arena_options_t o = {.capacity = cap, .mode = mode};
	ASSERT_OK(shmc_arena_create(name, &o, out));
}

Test(arena, named_file_mode_is_0600_by_default, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "mode");
	umask(0); /* the default must not depend on the umask */
	shmc_arena_t *a;
	create_named(name, 0, 8 << 20, &a);
	struct stat st;
	cr_assert(lstat(path, &st) == 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	cr_assert_eq(st.st_uid, geteuid());
	cr_assert_eq((size_t)st.st_size, (size_t)8 << 20);
	exercise(a);
	shmc_arena_close(a);
}

Test(arena, named_file_mode_option, .fini = files_cleanup)
{
	struct {
		unsigned asked, want;
	} cases[] = {{0640, 0640}, {0400 | 0200, 0600}, {04644, 0644}};
	umask(077); /* the mode asked for is not narrowed by the umask */
	for (int i = 0; i < 3; i++) {
		char name[128], path[256], tag[16];
		snprintf(tag, sizeof(tag), "mode%d", i);
		unique_name(name, sizeof(name), path, sizeof(path), tag);
		shmc_arena_t *a;
		create_named(name, cases[i].asked, 8 << 20, &a);
		struct stat st;
		cr_assert(lstat(path, &st) == 0);
		cr_assert_eq(st.st_mode & 07777, cases[i].want, "asked %o, mode %o",
			     cases[i].asked, st.st_mode & 07777);
		shmc_arena_close(a);
		/* Not world-writable: it opens. */
		ASSERT_OK(shmc_arena_open(name, &a));
		shmc_arena_close(a);
	}
}

Test(arena, named_create_is_exclusive, .init = named_setup, .fini = named_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(NA, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(7)));

	shmc_arena_t *b = (shmc_arena_t *)&ls; /* must stay untouched */
	ASSERT_ERR(shmc_arena_create(NA_name, NULL, &b), -EEXIST);
	cr_assert_eq(b, (shmc_arena_t *)&ls);
	/* The existing arena is intact, here and for a newcomer. */
	struct stat st;
	cr_assert(stat(NA_path, &st) == 0);
	cr_assert_eq((size_t)st.st_size, (size_t)64 << 20);
	cr_assert_eq(get_int(ls, 0), 7);
	char out[256];
	cr_assert_eq(peer_run(out, sizeof(out), "open", NA_name, NULL, NULL), 0, "%s", out);
	cr_assert_str_eq(out, "OK");

	/* An existing file that is no arena is not overwritten either. */
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "plain");
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs("not an arena\n", f);
	fclose(f);
	ASSERT_ERR(shmc_arena_create(name, NULL, &b), -EEXIST);
	cr_assert(stat(path, &st) == 0);
	cr_assert_eq(st.st_size, 13);
	shmc_obj_release(ls);
}

Test(arena, name_with_a_slash_is_a_path, .fini = files_cleanup)
{
	char path[256];
	snprintf(path, sizeof(path), "/tmp/shmc-test-%d.arena", (int)getpid());
	track(path);
	shmc_arena_t *a, *b;
	create_named(path, 0, 8 << 20, &a);
	struct stat st;
	cr_assert(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600);
	ASSERT_OK(shmc_arena_open(path, &b));
	cr_assert_eq(stats_of(a).processes, 2);
	shmc_arena_close(b);
	exercise(a);
	ASSERT_OK(shmc_arena_unlink(path));
	cr_assert(lstat(path, &st) != 0 && errno == ENOENT);
	shmc_arena_close(a);
}

Test(arena, open_from_an_unrelated_process, .init = named_setup, .fini = named_teardown)
{
	char out[256], off[32];
	cr_assert_eq(peer_run(out, sizeof(out), "open", NA_name, NULL, NULL), 0, "%s", out);
	cr_assert_str_eq(out, "OK");
	cr_assert_eq(peer_run(out, sizeof(out), "stats", NA_name, NULL, NULL), 0, "%s", out);
	cr_assert_eq(peer_processes(out), 2, "%s", out); /* we and the peer */

	/* A list shared by its offset: the peer appends, we see it. */
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(NA, &ls));
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	snprintf(off, sizeof(off), "%llu", (unsigned long long)obj_off(ls));
	cr_assert_eq(peer_run(out, sizeof(out), "append", NA_name, off, "42"), 0, "%s", out);
	cr_assert_eq(peer_run(out, sizeof(out), "append", NA_name, off, "hello"), 0, "%s", out);
	char *s = obj_str(ls);
	cr_assert_str_eq(s, "[1, 42, 'hello']");
	shmc_free(s);
	shmc_obj_release(ls);
	/* The peers detached: only we are left. */
	cr_assert_eq(live_processes(NA), 1);
}

Test(arena, unrelated_process_counts_while_attached, .init = named_setup,
     .fini = named_teardown)
{
	cr_assert_eq(live_processes(NA), 1);
	struct peer p;
	peer_start(&p, NA_name);
	char reply[256];
	peer_cmd(&p, reply, sizeof(reply), "stats");
	cr_assert_eq(peer_processes(reply), 2, "%s", reply);
	cr_assert_eq(live_processes(NA), 2);
	struct peer q;
	peer_start(&q, NA_name);
	cr_assert_eq(live_processes(NA), 3);
	cr_assert_eq(peer_stop(&q), 0);
	cr_assert_eq(live_processes(NA), 2);
	cr_assert_eq(peer_stop(&p), 0);
	cr_assert_eq(live_processes(NA), 1);
}

Test(arena, unlink_keeps_attached_processes_working, .init = named_setup,
     .fini = named_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(NA, &ls));
	char reply[256], out[256];
	struct peer p;
	peer_start(&p, NA_name);

	ASSERT_OK(shmc_arena_unlink(NA_name));
	struct stat st;
	cr_assert(lstat(NA_path, &st) != 0 && errno == ENOENT);
	shmc_arena_t *b = (shmc_arena_t *)&st;
	ASSERT_ERR(shmc_arena_open(NA_name, &b), -ENOENT);
	cr_assert_eq(b, (shmc_arena_t *)&st);
	cr_assert_eq(peer_run(out, sizeof(out), "open", NA_name, NULL, NULL), 3);
	cr_assert_str_eq(out, "ENOENT");
	ASSERT_ERR(shmc_arena_unlink(NA_name), -ENOENT);

	/* Both processes still attached keep working on the same memory. */
	ASSERT_OK(shmc_list_append(ls, shmc_int(1)));
	peer_cmd(&p, reply, sizeof(reply), "append %llu 2",
		 (unsigned long long)obj_off(ls));
	cr_assert_str_eq(reply, "OK");
	peer_cmd(&p, reply, sizeof(reply), "len %llu", (unsigned long long)obj_off(ls));
	cr_assert_str_eq(reply, "2");
	ASSERT_OK(shmc_list_append(ls, shmc_int(3)));
	peer_cmd(&p, reply, sizeof(reply), "len %llu", (unsigned long long)obj_off(ls));
	cr_assert_str_eq(reply, "3");
	cr_assert_eq(peer_stop(&p), 0);
	char *s = obj_str(ls);
	cr_assert_str_eq(s, "[1, 2, 3]");
	shmc_free(s);
	shmc_obj_release(ls);
	/* A new arena may take the name again. */
	shmc_arena_t *c;
	create_named(NA_name, 0, 8 << 20, &c);
	cr_assert_eq(stats_of(c).processes, 1);
	shmc_arena_close(c);
}

Test(arena, unrelated_process_grows_the_arena, .init = named_setup,
     .fini = named_teardown)
{
	enum { N = 200, SIZE = 65536 };
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(NA, &ls));
	size_t before = stats_of(NA).committed;
	struct peer p;
	peer_start(&p, NA_name);
	char reply[256];
	peer_cmd(&p, reply, sizeof(reply), "fill %llu %d %d",
		 (unsigned long long)obj_off(ls), N, SIZE);
	cr_assert_str_eq(reply, "OK");
	cr_assert_eq(peer_stop(&p), 0);
	shmc_arena_stats_t st = stats_of(NA);
	cr_assert_geq(st.committed, before + (size_t)N * SIZE, "committed %zu -> %zu",
		      before, st.committed);
	cr_assert_eq(shmc_list_len(ls), N);
	char *buf = malloc(SIZE + 32);
	for (long k = 0; k < N; k++) {
		fill_pattern(buf, SIZE, k);
		expect_str_item(ls, k, buf, SIZE);
	}
	free(buf);
	shmc_obj_release(ls);
}

/* Refusals of shmc_arena_open ------------------------------------------------ */

/* A valid, closed arena file of the minimum capacity. */
static void make_arena_file(char *name, size_t n, char *path, size_t pn,
			    const char *tag)
{
	unique_name(name, n, path, pn, tag);
	shmc_arena_t *a;
	create_named(name, 0, SHMC_MIN_CAPACITY, &a);
	shmc_arena_close(a);
}

static void patch(const char *path, size_t off, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert(pwrite(fd, p, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	cr_assert(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Opening NAME fails with CODE, leaves the bytes of PATH as they were and
 * keeps no descriptor open. */
static void expect_refused(const char *name, const char *path, int code)
{
	size_t n0, n1;
	char *before = read_file(path, &n0);
	shmc_arena_t *a = (shmc_arena_t *)&n0; /* must stay untouched */
	int fds = count_fds();
	ASSERT_ERR(shmc_arena_open(name, &a), code);
	cr_assert_eq(count_fds(), fds, "a refused open left descriptors open");
	cr_assert_eq(a, (shmc_arena_t *)&n0);
	char *after = read_file(path, &n1);
	cr_assert_eq(n0, n1, "size changed by a refused open");
	cr_assert(memcmp(before, after, n0) == 0, "bytes changed by a refused open");
	free(before);
	free(after);
}

static void expect_opens(const char *name)
{
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_open(name, &a));
	shmc_arena_close(a);
}

Test(arena, open_missing_is_enoent, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "missing");
	shmc_arena_t *a;
	ASSERT_ERR(shmc_arena_open(name, &a), -ENOENT);
	ASSERT_ERR(shmc_arena_unlink(name), -ENOENT);
}

Test(arena, refuses_a_file_that_is_not_an_arena, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "text");
	FILE *f = fopen(path, "w");
	cr_assert(f);
	for (int i = 0; i < 4096; i++)
		fprintf(f, "line %d of a file that is no arena\n", i);
	fclose(f);
	chmod(path, 0600);
	expect_refused(name, path, SHMC_ENOTARENA);
}

Test(arena, refuses_an_arena_without_magic, .fini = files_cleanup)
{
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "nomagic");
	patch(path, offsetof(struct shmc__hdr, magic), "XXXXXXXX", 8);
	expect_refused(name, path, SHMC_ENOTARENA);
}

Test(arena, refuses_an_empty_file, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "empty");
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	cr_assert(fd >= 0);
	close(fd);
	expect_refused(name, path, SHMC_ENOTARENA);
}

Test(arena, refuses_another_format_version, .fini = files_cleanup)
{
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "version");
	expect_opens(name); /* the control: unpatched, it opens */
	uint32_t v = SHMC__FORMAT_VERSION + 1;
	patch(path, offsetof(struct shmc__hdr, version), &v, sizeof(v));
	expect_refused(name, path, SHMC_EVERSION);
}

Test(arena, refuses_another_layout, .fini = files_cleanup)
{
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "layout");
	uint64_t fp = shmc__layout_fingerprint() ^ 1;
	patch(path, offsetof(struct shmc__hdr, fingerprint), &fp, sizeof(fp));
	expect_refused(name, path, SHMC_ELAYOUT);
}

/* A header as a creator leaves it when it dies before storing the magic. */
static void make_half_initialised(const char *path)
{
	char zero[8] = {0};
	uint32_t state = SHMC__ARENA_INITIALISING;
	patch(path, offsetof(struct shmc__hdr, magic), zero, sizeof(zero));
	patch(path, offsetof(struct shmc__hdr, state), &state, sizeof(state));
}

static void finish_initialisation(const char *path)
{
	uint32_t state = SHMC__ARENA_READY;
	patch(path, offsetof(struct shmc__hdr, magic), SHMC__MAGIC, 8);
	patch(path, offsetof(struct shmc__hdr, state), &state, sizeof(state));
}

Test(arena, refuses_an_arena_whose_creator_died, .fini = files_cleanup)
{
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "init");
	make_half_initialised(path);
	expect_refused(name, path, SHMC_EINIT);
}

/* A creator at work holds the init lock; open waits for it. CHILD plays the
 * creator: it takes the lock, says so on the pipe, works for 300 ms, then
 * finishes the header (FINISH) or dies holding the lock. */
/* A creator at work on PATH for 300 ms, holding the init lock; FINISH:
 * then it stores the magic number and READY (else it dies). MAGIC_FIRST:
 * it stores the magic number before it says it holds the lock, and READY
 * only after the 300 ms -- the moment between a real creator's two last
 * stores (init_header), made long. */
static pid_t fake_creator(const char *path, bool finish, bool magic_first)
{
	int p[2];
	cr_assert(pipe(p) == 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		int fd = open(path, O_RDWR);
		CHILD_CHECK(fd >= 0);
		int lfd = shmc__proc_open_lockfd(fd);
		CHILD_CHECK(lfd >= 0);
		CHILD_OK(shmc__proc_trylock(lfd, SHMC__LOCK_INIT));
		if (magic_first)
			CHILD_CHECK(pwrite(fd, SHMC__MAGIC, 8, offsetof(struct shmc__hdr, magic)) == 8);
		CHILD_CHECK(write(p[1], "L", 1) == 1);
		/* Not synchronisation: the creator's work, which open must wait
		 * out (the pipe above says when the lock is held). */
		struct timespec ts = {0, 300 * 1000000};
		nanosleep(&ts, NULL);
		if (!finish)
			raise(SIGKILL);
		uint32_t state = SHMC__ARENA_READY;
		CHILD_CHECK(pwrite(fd, SHMC__MAGIC, 8, offsetof(struct shmc__hdr, magic)) == 8);
		CHILD_CHECK(pwrite(fd, &state, 4, offsetof(struct shmc__hdr, state)) == 4);
		shmc__proc_unlock(lfd, SHMC__LOCK_INIT);
		_exit(0);
	}
	close(p[1]);
	char c;
	cr_assert(read(p[0], &c, 1) == 1, "creator did not start");
	close(p[0]);
	return pid;
}

/* Open a half-initialised arena while a fake creator works on it for
 * 300 ms (MAGIC_FIRST: with the magic number already stored): open waits
 * for it and succeeds. Timed from before the creator starts: it holds the
 * lock for 300 ms from then on, however late this process gets to run
 * again. A half-initialised arena with no creator at work is refused, so
 * that open succeeds at all shows that it waited. */
static void expect_open_waits(const char *tag, bool magic_first)
{
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), tag);
	make_half_initialised(path);
	double t0 = now_s();
	pid_t pid = fake_creator(path, true, magic_first);
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_open(name, &a));
	cr_assert_geq(now_s() - t0, 0.29, "open did not wait for the creator");
	cr_assert_eq(wait_exit(pid, TEST_DEADLINE), 0);
	exercise(a);
	shmc_arena_close(a);
}

Test(arena, open_waits_for_a_creator_at_work, .fini = files_cleanup)
{
	expect_open_waits("slowinit", false);
}

/* The header validates (the magic number is there) but is not READY yet:
 * open waits for that too (it answered SHMC_EINIT at once). */
Test(arena, open_waits_for_a_creator_between_magic_and_ready, .fini = files_cleanup)
{
	expect_open_waits("magicfirst", true);
}

Test(arena, open_fails_when_the_creator_dies_at_work, .fini = files_cleanup)
{
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "deadinit");
	make_half_initialised(path);
	size_t n0, n1;
	char *before = read_file(path, &n0);
	pid_t pid = fake_creator(path, false, false);
	shmc_arena_t *a;
	ASSERT_ERR(shmc_arena_open(name, &a), SHMC_EINIT);
	int st;
	cr_assert(waitpid(pid, &st, 0) == pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	char *after = read_file(path, &n1);
	cr_assert(n0 == n1 && memcmp(before, after, n0) == 0);
	free(before);
	free(after);
	/* Had it finished, the arena would open. */
	finish_initialisation(path);
	expect_opens(name);
}

Test(arena, refuses_a_symlink, .fini = files_cleanup)
{
	char name[128], path[256], lname[128], lpath[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "target");
	unique_name(lname, sizeof(lname), lpath, sizeof(lpath), "link");
	cr_assert(symlink(path, lpath) == 0);
	expect_refused(lname, path, -ELOOP);
	expect_opens(name);
}

Test(arena, refuses_a_fifo, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "fifo");
	cr_assert(mkfifo(path, 0600) == 0);
	shmc_arena_t *a;
	ASSERT_ERR(shmc_arena_open(name, &a), SHMC_ENOTREG);
	struct stat st;
	cr_assert(lstat(path, &st) == 0 && S_ISFIFO(st.st_mode));
}

Test(arena, refuses_a_world_writable_file, .fini = files_cleanup)
{
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "wmode");
	cr_assert(chmod(path, 0666) == 0);
	expect_refused(name, path, SHMC_EMODE);
	cr_assert(chmod(path, 0602) == 0);
	expect_refused(name, path, SHMC_EMODE);
	cr_assert(chmod(path, 0600) == 0);
	expect_opens(name);
}

Test(arena, refuses_a_file_of_another_owner, .fini = files_cleanup)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give a file away");
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "owner");
	cr_assert(chown(path, 65534, 65534) == 0);
	expect_refused(name, path, SHMC_EOWNER);
	cr_assert(chown(path, 0, 0) == 0);
	expect_opens(name);
}

/* A header that contradicts the file's size or its own geometry would make
 * the mapping fault: refused as corrupt (a code shmc.h does not list for
 * shmc_arena_open yet). */
Test(arena, refuses_a_truncated_or_inconsistent_arena, .fini = files_cleanup)
{
	char name[128], path[256];
	make_arena_file(name, sizeof(name), path, sizeof(path), "trunc");
	cr_assert(truncate(path, SHMC_MIN_CAPACITY / 2) == 0);
	expect_refused(name, path, SHMC_ECORRUPT);
	cr_assert(truncate(path, SHMC_MIN_CAPACITY) == 0);
	expect_opens(name);

	uint64_t cap = SHMC_MIN_CAPACITY * 2;
	patch(path, offsetof(struct shmc__hdr, capacity), &cap, sizeof(cap));
	expect_refused(name, path, SHMC_ECORRUPT);
	cap = SHMC_MIN_CAPACITY;
	patch(path, offsetof(struct shmc__hdr, capacity), &cap, sizeof(cap));
	expect_opens(name);

	uint64_t data_off;
	int fd = open(path, O_RDONLY);
	cr_assert(pread(fd, &data_off, 8, offsetof(struct shmc__hdr, data_off)) == 8);
	close(fd);
	data_off += SHMC__PAGE;
	patch(path, offsetof(struct shmc__hdr, data_off), &data_off, sizeof(data_off));
	expect_refused(name, path, SHMC_ECORRUPT);
}

Test(arena, every_process_slot_taken_is_eprocs, .fini = files_cleanup)
{
	char name[128], path[256];
	unique_name(name, sizeof(name), path, sizeof(path), "procs");
	static shmc_arena_t *h[SHMC_DEFAULT_PROCS];
	create_named(name, 0, SHMC_MIN_CAPACITY, &h[0]);
	for (unsigned i = 1; i < SHMC_DEFAULT_PROCS; i++)
		ASSERT_OK(shmc_arena_open(name, &h[i]));
	cr_assert_eq(stats_of(h[0]).processes, SHMC_DEFAULT_PROCS);
	expect_refused(name, path, SHMC_EPROCS);
	char out[256];
	cr_assert_eq(peer_run(out, sizeof(out), "open", name, NULL, NULL), 3);
	cr_assert_str_eq(out, "SHMC_EPROCS");
	/* A slot let go serves the next comer. */
	shmc_arena_close(h[77]);
	ASSERT_OK(shmc_arena_open(name, &h[77]));
	exercise(h[77]);
	for (unsigned i = 0; i < SHMC_DEFAULT_PROCS; i++)
		shmc_arena_close(h[i]);
}

/* A full arena ------------------------------------------------------------------ */

Test(arena, full_arena_fails_cleanly_and_space_is_reused)
{
	enum { SIZE = 64 << 10 };
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY};
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_create_anon(&o, &a));
	arena_warm(a);
	size_t base = arena_in_use(a);
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(a, &ls));
	char *buf = malloc(SIZE + 32);
	int rc = 0;
	long n = 0;
	for (;; n++) {
		fill_pattern(buf, SIZE, n);
		if ((rc = shmc_list_append(ls, shmc_strn(buf, SIZE))) != 0)
			break;
		cr_assert_lt(n, 1000, "a 4 MiB arena took %ld strings of 64 KiB", n);
	}
	ASSERT_ERR(rc, SHMC_EFULL);
	cr_assert_gt(n, 10, "only %ld strings of 64 KiB fit", n);
	shmc_arena_stats_t st = stats_of(a);
	cr_assert_leq(st.committed, st.capacity);
	cr_assert_leq(st.used, st.capacity);

	/* Failing again, or with two strings at once, changes nothing. */
	fill_pattern(buf, SIZE, n);
	ASSERT_ERR(shmc_list_append(ls, shmc_strn(buf, SIZE)), SHMC_EFULL);
	shmc_value_t two = shmc_plist_of(2, shmc_strn(buf, SIZE), shmc_strn(buf, SIZE));
	ASSERT_ERR(shmc_list_extend(ls, two), SHMC_EFULL);
	shmc_value_free(&two);
	cr_assert_eq(shmc_list_len(ls), n);
	for (long k = 0; k < n; k++) {
		fill_pattern(buf, SIZE, k);
		expect_str_item(ls, k, buf, SIZE);
	}

	/* Cleared, the space serves again: as many strings fit as before. */
	ASSERT_OK(shmc_list_clear(ls));
	for (int i = 0; i < 4; i++)
		shmc_arena_reclaim(a);
	for (long k = 0; k < n; k++) {
		fill_pattern(buf, SIZE, k + 1000);
		rc = shmc_list_append(ls, shmc_strn(buf, SIZE));
		cr_assert_eq(rc, 0, "refill %ld of %ld: %s", k, n, shmc_errname(rc));
	}
	for (long k = 0; k < n; k++) {
		fill_pattern(buf, SIZE, k + 1000);
		expect_str_item(ls, k, buf, SIZE);
	}
	free(buf);
	shmc_obj_release(ls);
	arena_leak_check(a, base);
	shmc_arena_close(a);
}

/* Growth while attached ----------------------------------------------------------- */

static int grow_child(int i, void *arg)
{
	(void)i;
	shmc_obj_t *ls = arg;
	char *buf = malloc(65536 + 32);
	CHILD_CHECK(buf != NULL);
	for (long k = 0; k < 300; k++) {
		fill_pattern(buf, 65536, k);
		CHILD_OK(shmc_list_append(ls, shmc_strn(buf, 65536)));
	}
	free(buf);
	return 0;
}

Test(arena, growth_in_a_forked_child_is_seen_by_the_parent, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	size_t before = stats_of(A).committed;
	cr_assert_eq(run_children(1, grow_child, ls), 0);
	size_t after = stats_of(A).committed;
	cr_assert_geq(after, before + (size_t)300 * 65536, "committed %zu -> %zu",
		      before, after);
	cr_assert_eq(shmc_list_len(ls), 300);
	char *buf = malloc(65536 + 32);
	for (long k = 0; k < 300; k++) {
		fill_pattern(buf, 65536, k);
		expect_str_item(ls, k, buf, 65536);
	}
	free(buf);
	shmc_obj_release(ls);
}

/* Stats ------------------------------------------------------------------------------ */

/* A list of 100 strings of 1000 bytes, cleared (and released unless KEEP). */
static shmc_obj_t *hundred_strings(bool keep, shmc_arena_stats_t *full)
{
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	char buf[1001];
	memset(buf, 'x', 1000);
	buf[1000] = 0;
	for (int i = 0; i < 100; i++)
		ASSERT_OK(shmc_list_append(ls, shmc_str(buf)));
	if (full)
		*full = stats_of(A);
	ASSERT_OK(shmc_list_clear(ls));
	if (!keep) {
		shmc_obj_release(ls);
		ls = NULL;
	}
	return ls;
}

Test(arena, stats_bytes_in_use_rises_and_falls, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_arena_stats_t s0 = stats_of(A);
	cr_assert_eq(s0.bytes_in_use, A_base);
	cr_assert_gt(s0.blocks_in_use, 0); /* the warm-up's bookkeeping */
	cr_assert_eq(s0.capacity, (size_t)64 << 20);
	cr_assert_gt(s0.nclasses, 0);
	cr_assert_leq(s0.nclasses, SHMC_STATS_CLASSES);
	size_t sum = 0;
	uint64_t blocks = 0;
	for (unsigned c = 0; c < s0.nclasses; c++) {
		sum += s0.classes[c].in_use * s0.classes[c].block_size;
		blocks += s0.classes[c].in_use;
		cr_assert_leq(s0.classes[c].in_use, s0.classes[c].carved);
	}
	cr_assert_eq(blocks, s0.blocks_in_use);
	cr_assert_eq(sum, s0.bytes_in_use); /* nothing in the summed classes yet */

	/* Clearing 100 items retires them at once, which grows this process's
	 * retire queue for good (bookkeeping, not a leak): a first round makes
	 * it grow, and the baseline is taken after it. */
	hundred_strings(false, NULL);
	A_base = arena_in_use(A);
	s0 = stats_of(A);

	shmc_arena_stats_t s1;
	shmc_obj_t *ls = hundred_strings(true, &s1);
	cr_assert_geq(s1.bytes_in_use, s0.bytes_in_use + 100 * 1000);
	cr_assert_geq(s1.blocks_in_use, s0.blocks_in_use + 101);
	cr_assert_geq(s1.used, s0.used);
	cr_assert_lt(arena_in_use(A), s1.bytes_in_use - 100 * 1000);
	shmc_obj_release(ls);
	cr_assert_eq(arena_in_use(A), A_base);
	cr_assert_eq(stats_of(A).blocks_in_use, s0.blocks_in_use);
}

/* Children that wait on a pipe until the parent closes it. */
static int waiting_child(int i, void *arg)
{
	(void)i;
	int fd = *(int *)arg;
	char c;
	return read(fd, &c, 1) == 0 ? 0 : 1;
}

Test(arena, stats_count_processes_while_they_live, .init = arena_setup,
     .fini = arena_teardown)
{
	cr_assert_eq(stats_of(A).processes, 1);
	int p[2];
	cr_assert(pipe(p) == 0);
	pid_t pids[3];
	fflush(NULL);
	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			close(p[1]);
			_exit(waiting_child(i, &p[0]));
		}
	}
	close(p[0]);
	cr_assert_eq(stats_of(A).processes, 4);
	cr_assert_eq(live_processes(A), 4); /* reclaim spares the living */
	close(p[1]);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(wait_exit(pids[i], TEST_DEADLINE), 0);
	shmc_arena_reclaim(A);
	cr_assert_eq(stats_of(A).processes, 1);
}

static int abandon_child(int i, void *arg)
{
	(void)i;
	(void)arg;
	shmc_obj_t *ls, *d;
	CHILD_OK(shmc_list_new(A, &ls));
	CHILD_OK(shmc_dict_new(A, &d));
	for (int k = 0; k < 1000; k++)
		CHILD_OK(shmc_list_append(ls, shmc_int(k)));
	CHILD_OK(shmc_dict_set(d, shmc_str("list"), shmc_ref(ls)));
	CHILD_OK(shmc_list_append(ls, shmc_str("a string of some length, not inline")));
	return 0; /* dies holding both handles */
}

Test(arena, reclaim_frees_what_dead_children_held, .init = arena_setup,
     .fini = arena_teardown)
{
	cr_assert_eq(run_children_gated(2, abandon_child, NULL), 0);
	shmc_arena_stats_t st = stats_of(A);
	cr_assert_gt(st.bytes_in_use, A_base + 2 * 1000 * 8);
	cr_assert_geq(shmc_arena_reclaim(A), 0);
	cr_assert_eq(stats_of(A).processes, 1);
	cr_assert_eq(arena_in_use(A), A_base);
}

/* A child that retires memory (overwrites replace their blocks), says so,
 * and waits to be killed. */
struct churn {
	shmc_obj_t *ns;
	int ready[2];
};

static int churn_child(void *arg)
{
	struct churn *c = arg;
	for (int i = 0; i < 500; i++)
		CHILD_OK(shmc_namespace_set(c->ns, "x", shmc_str(i % 2 ? "a string, not inline"
									 : "another string, not inline")));
	if (!say(c->ready[1]))
		return 1;
	for (;;)
		pause(); /* until the kill */
}

/* A program that forks and kills workers in a loop, and does nothing else
 * with the arena: each fork reaps dead slots, so the dead do not pile up
 * with what they retired (slots are claimed free ones first). */
Test(arena, forking_reaps_the_killed_children_of_earlier_forks, .init = arena_setup,
     .fini = arena_teardown)
{
	struct churn c;
	ASSERT_OK(shmc_namespace_new(A, &c.ns));
	cr_assert_eq(pipe(c.ready), 0);
	unsigned most = 0;
	for (int k = 0; k < 40; k++) {
		pid_t pid = fork_fn(churn_child, &c);
		cr_assert(hear(c.ready[0]), "child %d failed", k);
		unsigned procs = stats_of(A).processes;
		most = procs > most ? procs : most;
		cr_assert(kill_wait(pid));
	}
	cr_log_info("40 children forked and killed: at most %u process slots in use", most);
	/* Us, the live child and the one killed last (reaped at the next
	 * fork); without the reaping, one more slot per child. */
	cr_assert_leq(most, 3);
	close(c.ready[0]);
	close(c.ready[1]);
	cr_assert_geq(shmc_arena_reclaim(A), 0);
	shmc_obj_release(c.ns);
}

Test(arena, stats_and_reclaim_refuse_bad_handles, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_arena_stats_t st;
	ASSERT_ERR(shmc_arena_stats(NULL, &st), SHMC_EHANDLE);
	ASSERT_ERR(shmc_arena_stats(A, NULL), SHMC_EHANDLE);
	cr_assert_eq(shmc_arena_reclaim(NULL), SHMC_EHANDLE);
	shmc_arena_t fake;
	memset(&fake, 0, sizeof(fake));
	ASSERT_ERR(shmc_arena_stats(&fake, &st), SHMC_EHANDLE);
}
