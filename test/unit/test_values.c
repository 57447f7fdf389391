/*
 * test_values.c -- the values module from inside (lib/values/): Python's
 * hash bit for bit (against live python3), the table hash's consistency
 * with ==, storing each value type under allocation failure injection,
 * and the decoders' answer to malformed streams of the newer item kinds.
 * The public side of the same types is test/api/test_value_types.c.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>

#define SHMC_TEST_WHITEBOX
#include "testutil.h"
#include "values/value.h"
#include "objects/walk.h"
#include "values/venc.h"
#include "values/repr.h"

TestSuite(values, .timeout = 120);

static shmc_value_t num(const char *s)
{
	shmc_value_t v;
	if (shmc_int_from_str(s, strlen(s), 10, &v) != 0)
		abort();
	return v;
}

/* Python's hash ----------------------------------------------------------- */

/* Value I of the hash sample, and its Python form in SRC. */
static shmc_value_t hash_sample(int i, char *src, size_t n)
{
	uint64_t r = mix64((uint64_t)i * 7919);
	double f;
	switch (i % 8) {
	case 0: { /* an int64 of any size */
		int64_t x = (int64_t)(r >> (r % 64));
		x = r & 1 ? -x : x;
		if (i < 16) { /* the edges: around 0, P61, INT64 */
			static const int64_t e[] = {0, 1, -1, -2, (1LL << 61) - 1, -(1LL << 61) + 1,
						    1LL << 61, -(1LL << 61), INT64_MAX, INT64_MIN,
						    (1LL << 62) + 5, -(1LL << 62) - 5, 2, 1LL << 60,
						    ((1LL << 61) - 1) * 2, -((1LL << 61) - 1) * 3};
			x = e[i];
		}
		snprintf(src, n, "%lld", (long long)x);
		return shmc_int(x);
	}
	case 1: { /* a big int: random limbs */
		unsigned char b[40];
		size_t len = 9 + r % 31;
		for (size_t k = 0; k < len; k++)
			b[k] = (unsigned char)(mix64(r + k) >> 13);
		shmc_value_t v;
		if (shmc_int_from_bytes(b, len, &v) != 0)
			abort();
		char *t;
		if (shmc_int_to_str(v, 10, &t) != 0)
			abort();
		snprintf(src, n, "%s", t);
		shmc_free(t);
		return v;
	}
	case 2: /* a double from random bits, subnormals, infinities */
	case 3: {
		uint64_t bits = i % 8 == 2 ? r : r >> (11 + r % 40);
		memcpy(&f, &bits, 8);
		if (isnan(f))
			f = i % 3 ? INFINITY : -INFINITY;
		memcpy(&bits, &f, 8);
		snprintf(src, n, "struct.unpack('<d', (%llu).to_bytes(8, 'little'))[0]",
			 (unsigned long long)bits);
		return shmc_float(f);
	}
	case 4: { /* a complex of small or random parts */
		double re = (double)(int64_t)(r % 2001) - 1000, im = (double)(int64_t)(r >> 40) / 7.0;
		if (r & 2)
			im = 0;
		snprintf(src, n, "complex(%.17g, %.17g)", re, im);
		return shmc_complex(re, im);
	}
	case 5: /* a bool, a tuple of ints and floats */
		if (r % 3 == 0) {
			snprintf(src, n, "%s", r & 8 ? "True" : "False");
			return shmc_bool(r & 8);
		}
		snprintf(src, n, "(%lld, %.17g, (%lld,), ())", (long long)(r % 1000),
			 (double)(r % 77) / 4, (long long)-(int64_t)(r % 5));
		return shmc_tuple_of(4, shmc_int((int64_t)(r % 1000)), shmc_float((double)(r % 77) / 4),
				     shmc_tuple_of(1, shmc_int(-(int64_t)(r % 5))), shmc_tuple_of(0));
	default: { /* a frozenset of ints, and of frozensets */
		int m = (int)(r % 9);
		shmc_value_t s = shmc_set_of(0);
		size_t at = (size_t)snprintf(src, n, "frozenset([");
		for (int k = 0; k < m; k++) {
			int64_t x = (int64_t)(mix64(r + (uint64_t)k) % 100) - 50;
			at += (size_t)snprintf(src + at, n - at, "%lld, ", (long long)x);
			cr_assert_geq(shmc_set_add(&s, shmc_int(x)), 0);
		}
		if (i % 16 == 7) {
			at += (size_t)snprintf(src + at, n - at, "frozenset([1, 2]), ");
			cr_assert_geq(shmc_set_add(&s, shmc_frozenset_of(2, shmc_int(1), shmc_int(2))), 0);
		}
		snprintf(src + at, n - at, "])");
		shmc_set_freeze(&s);
		return s;
	}
	}
}

Test(values, python_hash_is_cpythons_for_numbers_tuples_and_frozensets)
{
	if (!have_python3())
		cr_skip("python3 is not on PATH");
	enum { N = 400 };
	char path[] = "/tmp/shmc_test_hash_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *py = fdopen(fd, "w");
	fputs("import struct\nfor v in [\n", py);
	int64_t mine[N];
	for (int i = 0; i < N; i++) {
		char src[512];
		shmc_value_t v = hash_sample(i, src, sizeof(src));
		fprintf(py, "    %s,\n", src);
		ASSERT_OK(shmc__py_hash(v, 0, &mine[i]));
		shmc_value_free(&v);
	}
	fputs("]:\n    print(hash(v))\n", py);
	fclose(py);
	char *argv[] = {"python3", "-I", "-S", path, NULL};
	struct run r = run_input(argv, NULL, 0, (int)(TEST_DEADLINE * 1e3));
	unlink(path);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s", r.err);
	char *p = r.out;
	for (int i = 0; i < N; i++) {
		char *end;
		long long h = strtoll(p, &end, 10);
		cr_assert_neq(end, p, "line %d missing", i);
		char src[512];
		shmc_value_t v = hash_sample(i, src, sizeof(src));
		shmc_value_free(&v);
		cr_expect_eq(mine[i], h, "hash(%s): python3 %lld, shmc %lld", src, h,
			     (long long)mine[i]);
		p = end;
	}
	run_free(&r);
}

Test(values, table_hash_agrees_with_equality_across_types)
{
	shmc_value_t groups[][4] = {
		{shmc_int(7), shmc_float(7.0), shmc_complex(7, 0), shmc_complex(7, -0.0)},
		{shmc_bool(true), shmc_int(1), shmc_float(1.0), shmc_complex(1, 0)},
		{shmc_int(-1), shmc_float(-1.0), shmc_complex(-1, 0), shmc_int(-1)},
		{num("36893488147419103232"), shmc_float(36893488147419103232.0),
		 shmc_complex(36893488147419103232.0, 0), num("36893488147419103232")},
		{shmc_int(1LL << 62), shmc_float(4611686018427387904.0),
		 shmc_complex(4611686018427387904.0, 0), shmc_int(1LL << 62)},
		{shmc_float(0.5), shmc_complex(0.5, 0), shmc_complex(0.5, -0.0), shmc_float(0.5)},
		{shmc_frozenset_of(2, shmc_int(1), shmc_float(2.5)),
		 shmc_frozenset_of(2, shmc_complex(2.5, 0), shmc_bool(true)),
		 shmc_frozenset_of(2, shmc_float(2.5), shmc_float(1.0)),
		 shmc_frozenset_of(3, shmc_int(1), shmc_float(2.5), shmc_int(1))},
		{shmc_tuple_of(1, shmc_int(3)), shmc_tuple_of(1, shmc_float(3.0)),
		 shmc_tuple_of(1, shmc_complex(3, 0)), shmc_tuple_of(1, shmc_bool(false))},
	};
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		uint64_t h0, h;
		int64_t p0, p;
		ASSERT_OK(shmc__value_hash(groups[g][0], &h0));
		ASSERT_OK(shmc__py_hash(groups[g][0], 0, &p0));
		for (int k = 1; k < 4; k++) {
			bool eq = shmc_value_eq(groups[g][0], groups[g][k]);
			if (g == 7 && k == 3) { /* (False,) differs from (3,) */
				cr_expect(!eq);
				continue;
			}
			cr_assert(eq, "group %zu, member %d", g, k);
			ASSERT_OK(shmc__value_hash(groups[g][k], &h));
			ASSERT_OK(shmc__py_hash(groups[g][k], 0, &p));
			cr_expect_eq(h, h0, "table hash, group %zu, member %d", g, k);
			cr_expect_eq(p, p0, "python hash, group %zu, member %d", g, k);
		}
		for (int k = 0; k < 4; k++)
			shmc_value_free(&groups[g][k]);
	}
	/* The int64 path is one multiply, as dict.c inlines it. */
	uint64_t h;
	ASSERT_OK(shmc__value_hash(shmc_int(-12345), &h));
	cr_expect_eq(h, shmc__hash_int(-12345));
	shmc_value_t unhashable[] = {shmc_set_of(0), shmc_bytearray("", 0), shmc_plist_of(0)};
	for (int k = 0; k < 3; k++) {
		ASSERT_ERR(shmc__value_hash(unhashable[k], &h), SHMC_EUNHASHABLE);
		shmc_value_free(&unhashable[k]);
	}
}

/* The tables probe from a str hash's low bits: they must look random for
 * the keys programs use, runs of names and numbers that differ in a byte
 * or two. A random function puts 2^20 keys into 2^20 * (1 - 1/e) = 662 826
 * distinct 20-bit slots on average; a hash that let some key byte miss the
 * low bits would fill a fraction of that. And no two texts that differ
 * only in length or in one byte's position may collide. */
Test(values, str_hashes_spread_runs_of_short_keys_over_the_low_bits)
{
	enum { BITS = 20, N = 1 << BITS };
	const char *fmts[] = {"k%07d", "%d", "key:%d:x", "a-rather-longer-name-of-%d-bytes"};
	/* The key of number I in form F. */
#define KEY(f, i)                                                                \
	((f) == 0   ? snprintf(key, sizeof(key), "k%07d", (i))                   \
	 : (f) == 1 ? snprintf(key, sizeof(key), "%d", (i))                      \
	 : (f) == 2 ? snprintf(key, sizeof(key), "key:%d:x", (i))                \
		    : snprintf(key, sizeof(key), "a-rather-longer-name-of-%d-bytes", (i)))
	uint8_t *seen = calloc(N / 8, 1);
	cr_assert_not_null(seen);
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		memset(seen, 0, N / 8);
		unsigned distinct = 0;
		char key[64];
		for (int i = 0; i < N; i++) {
			int n = KEY(f, i);
			uint64_t slot = shmc__hash_bytes(key, (size_t)n, 0) & (N - 1);
			if (!(seen[slot / 8] & (1u << (slot % 8)))) {
				seen[slot / 8] |= (uint8_t)(1u << (slot % 8));
				distinct++;
			}
		}
		cr_expect_geq(distinct, 650000, "\"%s\": %u distinct slots of %d", fmts[f],
			      distinct, N);
	}
#undef KEY
	free(seen);
	/* Zeros of every length up to 40, and one set byte at every place. */
	static const char zeros[40];
	for (size_t n = 0; n < 40; n++) {
		uint64_t h = shmc__hash_bytes(zeros, n, 0);
		for (size_t m = n + 1; m <= 40; m++)
			cr_expect_neq(h, shmc__hash_bytes(zeros, m, 0), "lengths %zu, %zu", n, m);
		char one[40] = {0}, other[40] = {0};
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++) {
				one[i] = other[j] = 1;
				cr_expect_neq(shmc__hash_bytes(one, n, 0),
					      shmc__hash_bytes(other, n, 0),
					      "length %zu: byte %zu vs byte %zu", n, i, j);
				one[i] = other[j] = 0;
			}
	}
}

/* shmc-dump --json of a damaged arena: a str decoded from it need not be
 * UTF-8 and then prints as bytes, an object, which cannot be a JSON key:
 * the dict takes the items form, as one with any other non-str key. */
Test(values, json_of_a_dict_whose_str_key_is_not_utf8_is_still_json)
{
	shmc_value_t d = shmc_pdict_of(0);
	shmc_value_t bad = {.type = SHMC_STR, .str = "l\xd2vel", .len = 5};
	ASSERT_OK(shmc_pdict_set(&d, shmc_str("ok"), shmc_int(1)));
	ASSERT_OK(shmc_pdict_set(&d, bad, shmc_int(3)));
	struct shmc__sbuf sb = {0};
	shmc__json(&sb, d);
	char *out;
	ASSERT_OK(shmc__sb_finish(&sb, &out));
	cr_assert_str_eq(out, "{\"items\": [[\"ok\", 1], [{\"bytes\": \"6cd276656c\"}, 3]]}");
	shmc_free(out);
	shmc_value_free(&d);
}

/* Failure injection -------------------------------------------------------- */

struct store_op {
	shmc_obj_t *ns, *ls, *d;
	shmc_value_t v;
	int where; /* 0 ns, 1 list append, 2 dict value, 3 dict key, 4 list add */
};

static int do_store(void *p)
{
	struct store_op *c = p;
	switch (c->where) {
	case 0: return shmc_namespace_set(c->ns, "x", c->v);
	case 1: return shmc_list_append(c->ls, c->v);
	case 2: return shmc_dict_set(c->d, shmc_str("k"), c->v);
	case 3: return shmc_dict_set(c->d, c->v, shmc_str("v"));
	default: {
		shmc_value_t res;
		int rc = shmc_list_add(c->ls, 0, c->v, &res);
		if (rc == 0)
			shmc_value_free(&res);
		return rc;
	}
	}
}

static char *contents(void *p)
{
	struct store_op *c = p;
	char *a = obj_str(c->ns), *b = obj_str(c->ls), *d = obj_str(c->d), *all;
	cr_assert_geq(asprintf(&all, "%s %s %s", a, b, d), 0);
	shmc_free(a);
	shmc_free(b);
	shmc_free(d);
	return all;
}

/* Store with the first, second ... arena allocation failing until it
 * succeeds: each failure is SHMC_EFULL and leaves the three containers and
 * the arena's bytes in use as they were (testutil.h). @return the failures
 * seen */
static int store_injected(struct store_op *c, const char *what)
{
	return inject_ok(A, what, 100, do_store, contents, c);
}

Test(values, storing_each_new_type_fails_cleanly_at_every_allocation, .init = arena_setup,
     .fini = arena_teardown)
{
	struct store_op c;
	ASSERT_OK(shmc_namespace_new(A, &c.ns));
	ASSERT_OK(shmc_list_new(A, &c.ls));
	ASSERT_OK(shmc_dict_new(A, &c.d));
	ASSERT_OK(shmc_list_append(c.ls, shmc_int(INT64_MAX - 5)));
	shmc_value_t vals[] = {
		num("-18446744073709551617"),
		shmc_complex(1, -2),
		shmc_bytearray("bytes", 5),
		shmc_set_of(3, shmc_int(1), shmc_str("two"), shmc_tuple_of(1, shmc_int(3))),
		shmc_frozenset_of(2, shmc_int(1), shmc_frozenset_of(1, shmc_float(0.5))),
		shmc_opaque("\x80\x04N.", 4, "None"),
		shmc_tuple_of(2, num("18446744073709551616"), shmc_complex(0, 1)),
	};
	bool hashable[] = {true, true, false, false, true, true, true};
	int stores = 0;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		for (c.where = 0; c.where < 4; c.where++) {
			if (c.where == 3 && !hashable[i])
				continue;
			c.v = vals[i];
			/* Replace what the first store put there, or insert. */
			for (int round = 0; round < 2; round++) {
				char *before = contents(&c), what[64];
				snprintf(what, sizeof(what), "value %zu, store %d", i, c.where);
				int nfail = store_injected(&c, what);
				cr_assert_geq(nfail, 1, "%s: no allocation", what);
				char *after = contents(&c);
				if (round == 0) /* the second stores it again */
					cr_assert_str_neq(before, after);
				free(before);
				free(after);
				stores++;
				if (c.where == 1) /* appends: once */
					break;
			}
		}
	}
	/* An add past INT64_MAX: the big result needs a block. */
	c.where = 4;
	c.v = shmc_int(100);
	cr_assert_geq(store_injected(&c, "list add past INT64_MAX"), 1);
	shmc_value_t got;
	ASSERT_OK(shmc_list_get(c.ls, 0, &got));
	char *s = value_repr(got);
	cr_assert_str_eq(s, "9223372036854775902");
	shmc_free(s);
	shmc_value_free(&got);

	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(A, 0, &rep, print_finding, NULL));
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.leaked_blocks, 0);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		shmc_value_free(&vals[i]);
	shmc_obj_release(c.ns);
	shmc_obj_release(c.ls);
	shmc_obj_release(c.d);
	cr_assert_gt(stores, 20);
}

/* Malformed streams -------------------------------------------------------- */

/* A value block holding the N bytes at P, as a writer would have made it
 * (wrongly): its word. */
static uint64_t block_of(const void *p, size_t n)
{
	uint64_t off;
	ASSERT_OK(shmc__alloc(A, sizeof(struct shmc__vblock) + n, &off));
	struct shmc__vblock *b = (struct shmc__vblock *)(A->base + off);
	b->magic = SHMC__VBLOCK_MAGIC;
	b->nrefs = 0;
	b->len = n;
	memcpy(b->data, p, n);
	return off;
}

/* Stream bytes: a tag, then 8-byte words and raw bytes. */
struct bytes {
	unsigned char b[256];
	size_t n;
};

static void put8(struct bytes *s, uint64_t x)
{
	memcpy(s->b + s->n, &x, 8);
	s->n += 8;
}

static void put1(struct bytes *s, unsigned char c)
{
	s->b[s->n++] = c;
}

/* A text's length: one byte below 0x80, else 0x80 and 8 bytes (venc.h). */
static void putlen(struct bytes *s, uint64_t n)
{
	if (n < 0x80) {
		put1(s, (unsigned char)n);
	} else {
		put1(s, 0x80);
		put8(s, n);
	}
}

static void putn(struct bytes *s, const void *p, size_t n)
{
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

/* Decoding S must give WANT (nothing leaks), and a malformed S equals
 * nothing; the arena check's walk finds the block well-formed or not
 * (WALK_OK: its structure is sound, only its meaning is wrong). */
static void expect_load(const struct bytes *s, int want, bool walk_ok, const char *what)
{
	uint64_t w = block_of(s->b, s->n);
	shmc_value_t v = shmc_none();
	struct shmc__rec *r = shmc__epoch_rec(A);
	shmc__epoch_enter(A, r);
	int rc = shmc__word_load(A, w, &v);
	bool eq_int = shmc__word_eq(A, w, shmc_int(1));
	shmc__epoch_exit(r);
	cr_expect_eq(rc, want, "%s: %s", what, shmc_errname(rc));
	if (want)
		cr_expect(!eq_int, "%s", what);
	uint64_t size;
	cr_expect_eq(shmc__vblock_visit(A, w, &size, NULL, NULL), walk_ok, "%s: walk", what);
	shmc_value_free(&v);
	shmc__free(A, w);
}

Test(values, malformed_items_of_the_new_kinds_are_corrupt_not_crashes, .init = arena_setup,
     .fini = arena_teardown)
{
	struct bytes s;
	uint64_t one = 1, top = (uint64_t)1 << 63;
	/* A canonical big int loads. */
	s.n = 0, put1(&s, SHMC__T_BIGINT), put8(&s, 2 << 1), put8(&s, 0), put8(&s, 1);
	expect_load(&s, 0, true, "2**64");
	/* Not canonical: fits in int64, a zero on top, no limbs, too few
	 * bytes. The walk sees these as malformed too. */
	s.n = 0, put1(&s, SHMC__T_BIGINT), put8(&s, 1 << 1), put8(&s, one);
	expect_load(&s, SHMC_ECORRUPT, false, "1 as a big int");
	s.n = 0, put1(&s, SHMC__T_BIGINT), put8(&s, 1 << 1 | 1), put8(&s, top);
	expect_load(&s, SHMC_ECORRUPT, false, "-2**63 as a big int");
	s.n = 0, put1(&s, SHMC__T_BIGINT), put8(&s, 2 << 1), put8(&s, top), put8(&s, 0);
	expect_load(&s, SHMC_ECORRUPT, false, "a zero limb on top");
	s.n = 0, put1(&s, SHMC__T_BIGINT), put8(&s, 0);
	expect_load(&s, SHMC_ECORRUPT, false, "no limbs");
	s.n = 0, put1(&s, SHMC__T_BIGINT), put8(&s, 3 << 1), put8(&s, 1), put8(&s, 1);
	expect_load(&s, SHMC_ECORRUPT, false, "limbs past the block");
	s.n = 0, put1(&s, SHMC__T_BIGINT), put8(&s, UINT64_MAX), put8(&s, 1);
	expect_load(&s, SHMC_ECORRUPT, false, "a huge count");
	/* A complex cut short. */
	s.n = 0, put1(&s, SHMC__T_COMPLEX), put8(&s, 0);
	expect_load(&s, SHMC_ECORRUPT, false, "half a complex");
	/* Sets: a duplicate member, an unhashable member, a count past the
	 * block; a good one loads. */
	s.n = 0, put1(&s, SHMC__T_SET), put8(&s, 2), put1(&s, SHMC__T_TRUE), put1(&s, SHMC__T_INT),
	put8(&s, 1);
	expect_load(&s, SHMC_ECORRUPT, true, "{True, 1}: a duplicate");
	s.n = 0, put1(&s, SHMC__T_FROZENSET), put8(&s, 1), put1(&s, SHMC__T_LIST), put8(&s, 0);
	expect_load(&s, SHMC_ECORRUPT, true, "a list member");
	s.n = 0, put1(&s, SHMC__T_SET), put8(&s, 1), put1(&s, SHMC__T_BYTEARRAY), putlen(&s, 0);
	expect_load(&s, SHMC_ECORRUPT, true, "a bytearray member");
	s.n = 0, put1(&s, SHMC__T_SET), put8(&s, 5), put1(&s, SHMC__T_NONE);
	expect_load(&s, SHMC_ECORRUPT, false, "five members, one there");
	s.n = 0, put1(&s, SHMC__T_FROZENSET), put8(&s, 2), put1(&s, SHMC__T_NONE),
	put1(&s, SHMC__T_FALSE);
	expect_load(&s, 0, true, "frozenset({None, False})");
	/* Opaque: a NUL or bad UTF-8 in the repr; lengths past the block. */
	s.n = 0, put1(&s, SHMC__T_OPAQUE), putlen(&s, 1), put1(&s, 'x'), putlen(&s, 2), putn(&s, "a\0", 2);
	expect_load(&s, SHMC_ECORRUPT, true, "a NUL in the repr");
	s.n = 0, put1(&s, SHMC__T_OPAQUE), putlen(&s, 1), put1(&s, 'x'), putlen(&s, 1), put1(&s, 0xff);
	expect_load(&s, SHMC_ECORRUPT, true, "a repr not UTF-8");
	s.n = 0, put1(&s, SHMC__T_OPAQUE), putlen(&s, 1), put1(&s, 'x'), putlen(&s, 9), put1(&s, 'r');
	expect_load(&s, SHMC_ECORRUPT, false, "a repr past the block");
	s.n = 0, put1(&s, SHMC__T_OPAQUE), putlen(&s, 1), put1(&s, 'x'), putlen(&s, 1), put1(&s, 'r');
	expect_load(&s, 0, true, "an opaque value");
	/* A bytearray longer than its block. */
	s.n = 0, put1(&s, SHMC__T_BYTEARRAY), putlen(&s, 2), put1(&s, 'x');
	expect_load(&s, SHMC_ECORRUPT, false, "a bytearray past the block");
	/* Text lengths have one form: a long form for a short length, a
	 * first byte above 0x80 and a long form cut short are corrupt. */
	s.n = 0, put1(&s, SHMC__T_BYTES), put1(&s, 0x80), put8(&s, 2), putn(&s, "ab", 2);
	expect_load(&s, SHMC_ECORRUPT, false, "b'ab' with a long length");
	s.n = 0, put1(&s, SHMC__T_BYTES), put1(&s, 0x81), putn(&s, "ab", 2);
	expect_load(&s, SHMC_ECORRUPT, false, "a length byte of 0x81");
	s.n = 0, put1(&s, SHMC__T_STR), put1(&s, 0x80), put1(&s, 2);
	expect_load(&s, SHMC_ECORRUPT, false, "a long length cut short");
}
