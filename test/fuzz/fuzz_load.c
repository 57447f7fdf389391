/*
 * fuzz_load.c -- a save file of any content gives shmc_arena_load an error
 * or a sound arena, never a crash, a hang or a leak: the loader's checks
 * of the header, its walk of the payload (tags, lengths, counts, nesting,
 * references, kinds, shapes) and its passes that build the arena.
 *
 * Each input is one of two forms, by its first byte:
 *
 *   even   the rest is the file, as it is (mostly refused by the header's
 *          checks: magic, version, checksums)
 *   odd    byte 1 is the number of records, byte 2 the number of names,
 *          the rest the payload, under a header made right (magic,
 *          version, layout, length, both checksums): so that the payload
 *          is what gets fuzzed
 *
 * A load that succeeds is checked (shmc_arena_check: no errors) and every
 * named object printed, then the arena is closed. Loads make anonymous
 * arenas: nothing is left in /dev/shm.
 *
 * Built with libFuzzer for `make fuzz` / `make fuzz-ci` (seeds in
 * corpus_load/), and with fuzz_replay.c (any compiler) to replay them in
 * `make test`.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "lifecycle/savefmt.h"
#include "shmc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[128];

static void write_file(const uint8_t *hdr, size_t hn, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hdr, hn) != (ssize_t)hn || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void ignore(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (path[0] == 0)
		snprintf(path, sizeof(path), "/dev/shm/shmc-fuzz-load-%d", (int)getpid());
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		write_file(data + 1, size - 1, NULL, 0);
	} else {
		if (size < 3)
			return 0;
		const uint8_t *p = data + 3;
		size_t n = size - 3;
		uint8_t h[SHMC__SAVE_HDR] = {0};
		memcpy(h, SHMC__SAVE_MAGIC, 8);
		shmc__put_le(h + 8, SHMC__SAVE_VERSION, 4);
		shmc__put_le(h + 12, SHMC__SAVE_HDR, 4);
		shmc__put_le(h + 16, SHMC__SAVE_LAYOUT, 8);
		shmc__put_le(h + 24, n, 8);
		shmc__put_le(h + 32, data[1], 4);
		shmc__put_le(h + 36, data[2], 4);
		shmc__put_le(h + 40, shmc__crc32c(0, p, n), 4);
		shmc__put_le(h + 60, shmc__crc32c(0, h, 60), 4);
		write_file(h, sizeof(h), p, n);
	}
	shmc_arena_options_t o = {.capacity = SHMC_MIN_CAPACITY, .max_procs = 4,
				  .max_threads = 16};
	shmc_arena_t *a;
	int rc = shmc_arena_load(path, NULL, &o, &a);
	unlink(path);
	if (rc)
		return 0;
	shmc_check_report_t rep;
	if (shmc_arena_check(a, 0, &rep, ignore, NULL) != 0 || rep.errors) {
		fprintf(stderr, "fuzz_load: a loaded arena fails its check\n");
		abort();
	}
	shmc_value_t names;
	if (shmc_root_names(a, &names) == 0) {
		for (size_t i = 0; i < shmc_seq_len(names); i++) {
			shmc_obj_t *h;
			char *s;
			if (shmc_root_find(a, shmc_seq_at(names, (int64_t)i)->str, &h) != 0)
				continue;
			if (shmc_obj_str(h, &s) == 0)
				shmc_free(s);
			shmc_obj_release(h);
		}
		shmc_value_free(&names);
	}
	shmc_arena_close(a);
	return 0;
}
