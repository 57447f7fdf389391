/*
 * test_check.c -- the arena check: clean arenas pass, every kind of damage
 * is reported (never a crash or a hang), leaks and dead processes are found
 * and released on request.
 */
#include <criterion/criterion.h>
#include <sys/stat.h>
#include <time.h>

#include "memory/alloc.h"
#include "objects/obj.h"
#include "testutil.h"

TestSuite(check, .timeout = 60);

static int check(shmc_arena_t *a, unsigned flags, shmc_check_report_t *rep)
{
	return shmc_arena_check(a, flags, rep, NULL, NULL);
}

/* A namespace holding a list and a dict with values of every type. */
static shmc_obj_t *populate(shmc_arena_t *a)
{
	shmc_obj_t *ns, *ls, *d;
	ASSERT_OK(shmc_namespace_new(a, &ns));
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_dict_new(a, &d));
	for (int i = 0; i < 200; i++) {
		ASSERT_OK(shmc_list_append(ls, shmc_int(i)));
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_str("value")));
	}
	shmc_value_t v = shmc_plist_of(3, shmc_float(1.5), shmc_ref(d),
				       shmc_tuple_of(1, shmc_bytes("b", 1)));
	ASSERT_OK(shmc_list_append(ls, v));
	shmc_value_free(&v);
	ASSERT_OK(shmc_namespace_set(ns, "ls", shmc_ref(ls)));
	ASSERT_OK(shmc_namespace_set(ns, "d", shmc_ref(d)));
	for (int i = 0; i < 50; i++)
		ASSERT_OK(shmc_dict_del(d, shmc_int(i)));
	shmc_obj_release(ls);
	shmc_obj_release(d);
	return ns;
}

Test(check, clean_arena_passes, .init = arena_setup, .fini = arena_teardown)
{
	shmc_check_report_t rep;
	shmc_obj_t *ns = populate(A);
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.objects, 3);
	cr_assert_eq(rep.leaked_blocks, 0);
	cr_assert_eq(rep.leaked_refs, 0);
	cr_assert_eq(rep.dead_processes, 0);
	cr_assert_gt(rep.blocks, 200);
	shmc_obj_release(ns);
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.objects, 0); /* nothing holds them any more */
}

Test(check, leaked_block_is_found_and_swept, .init = arena_setup, .fini = arena_teardown)
{
	shmc_check_report_t rep;
	uint64_t off;
	/* As if a process died between allocating and publishing. */
	ASSERT_OK(shmc__alloc(A, 100, &off));
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.leaked_blocks, 1);
	cr_assert_eq(rep.leaked_bytes, shmc__block_size(A, off));
	ASSERT_OK(check(A, SHMC_CHECK_SWEEP, &rep));
	cr_assert_eq(rep.swept_blocks, 1);
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.leaked_blocks, 0);
}

static int die_holding(int i, void *arg)
{
	(void)i;
	shmc_obj_t *dup;
	CHILD_OK(shmc_obj_dup(arg, &dup));
	raise(SIGKILL);
	return 1;
}

Test(check, dead_process_is_found_and_reaped, .init = arena_setup, .fini = arena_teardown)
{
	shmc_check_report_t rep;
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	cr_assert_eq(run_children_gated(1, die_holding, ls), 1);
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.dead_processes, 1);
	cr_assert_eq(rep.errors, 0);
	ASSERT_OK(check(A, SHMC_CHECK_REAP, &rep));
	cr_assert_eq(rep.reaped, 1);
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.dead_processes, 0);
	shmc_obj_release(ls);
}

Test(check, leaked_reference_is_found_and_fixed, .init = arena_setup, .fini = arena_teardown)
{
	shmc_check_report_t rep;
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(A, &ls));
	shmc__obj_incref(A, shmc__handle_off(ls)); /* as if a process died after an incref */
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.leaked_refs, 1);
	ASSERT_OK(check(A, SHMC_CHECK_SWEEP, &rep));
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.leaked_refs, 0);
	shmc_obj_release(ls); /* now frees it: nothing leaks */
}

/* Damage: each case is reported as an error, without a crash or a hang. */
static void collect(void *ctx, const char *msg)
{
	(*(int *)ctx)++;
	(void)msg;
}

static void expect_damage_reported(shmc_arena_t *a)
{
	shmc_check_report_t rep;
	int msgs = 0;
	cr_assert_eq(shmc_arena_check(a, 0, &rep, collect, &msgs), SHMC_ECORRUPT);
	cr_assert_gt(rep.errors, 0);
	cr_assert_geq(msgs, (int)rep.errors);
}

Test(check, reports_a_list_array_offset_out_of_range)
{
	shmc_arena_t *a = test_arena(8 << 20);
	shmc_obj_t *ns = populate(a), *ls;
	shmc_value_t v;
	ASSERT_OK(shmc_namespace_get(ns, "ls", &v));
	ls = v.ref;
	atomic_u64 *arr = (atomic_u64 *)(a->base + shmc__handle_off(ls) + sizeof(struct shmc__obj));
	uint64_t was = *arr;
	*arr = (uint64_t)a->capacity + 4096;
	expect_damage_reported(a);
	*arr = was;
	shmc_obj_release(ls);
	shmc_obj_release(ns);
	shmc_arena_close(a);
}

Test(check, reports_a_value_that_is_not_a_value)
{
	shmc_arena_t *a = test_arena(8 << 20);
	shmc_obj_t *ls;
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_list_append(a ? ls : NULL, shmc_str("a string in a block")));
	shmc_value_t v;
	ASSERT_OK(shmc_list_get(ls, 0, &v));
	shmc_value_free(&v);
	/* Find the item word and point it into the middle of a block. */
	atomic_u64 *arr_off = (atomic_u64 *)(a->base + shmc__handle_off(ls) + sizeof(struct shmc__obj));
	uint64_t *item = (uint64_t *)(a->base + *arr_off + 24);
	*item += 32;
	expect_damage_reported(a);
	*item -= 32;
	shmc_obj_release(ls);
	shmc_arena_close(a);
}

Test(check, reports_a_free_list_cycle_without_hanging)
{
	shmc_arena_t *a = test_arena(8 << 20);
	uint64_t x, y;
	ASSERT_OK(shmc__alloc(a, 48, &x));
	ASSERT_OK(shmc__alloc(a, 48, &y));
	shmc__free(a, x);
	shmc__free(a, y);
	*(uint64_t *)(a->base + x) = y; /* y -> x -> y -> ... */
	expect_damage_reported(a);
}

Test(check, reports_a_reference_count_too_low)
{
	shmc_arena_t *a = test_arena(8 << 20);
	shmc_obj_t *ls, *d;
	ASSERT_OK(shmc_list_new(a, &ls));
	ASSERT_OK(shmc_dict_new(a, &d));
	ASSERT_OK(shmc_list_append(ls, shmc_ref(d)));
	struct shmc__obj *o = (struct shmc__obj *)(a->base + shmc__handle_off(d));
	atomic_store(&o->refs, 1); /* two exist: the handle and the list item */
	expect_damage_reported(a);
	atomic_store(&o->refs, 2);
	shmc_obj_release(d);
	shmc_obj_release(ls);
	shmc_arena_close(a);
}

Test(check, reports_a_broken_pagemap)
{
	shmc_arena_t *a = test_arena(8 << 20);
	shmc_obj_t *ns = populate(a);
	uint16_t *pm = (uint16_t *)(a->base + a->hdr->pagemap_off);
	uint16_t was = pm[(a->hdr->data_off >> 12) + 3];
	pm[(a->hdr->data_off >> 12) + 3] = 0x7f; /* inside the first slab */
	expect_damage_reported(a);
	pm[(a->hdr->data_off >> 12) + 3] = was;
	shmc_obj_release(ns);
	shmc_arena_close(a);
}

/* A slab page that names another place in its slab than its own. */
Test(check, reports_a_slab_page_with_a_wrong_index)
{
	shmc_arena_t *a = test_arena(8 << 20);
	shmc_obj_t *ns = populate(a);
	uint16_t *pm = (uint16_t *)(a->base + a->hdr->pagemap_off);
	uint64_t p = (a->hdr->data_off >> 12) + 3; /* inside the first slab */
	uint16_t was = pm[p];
	cr_assert_eq((was & SHMC__PM_SLAB_IDX_MASK) >> SHMC__PM_SLAB_IDX_SHIFT, 3);
	pm[p] = (uint16_t)((was & ~SHMC__PM_SLAB_IDX_MASK) | 1u << SHMC__PM_SLAB_IDX_SHIFT);
	expect_damage_reported(a);
	pm[p] = was;
	/* The slab's first page, with an index: its blocks would be lost. */
	uint16_t first = pm[p - 3];
	cr_assert(first & SHMC__PM_RUN_START);
	pm[p - 3] = (uint16_t)(first | 2u << SHMC__PM_SLAB_IDX_SHIFT);
	expect_damage_reported(a);
	pm[p - 3] = first;
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check(a, 0, &rep, NULL, NULL));
	cr_assert_eq(rep.errors, 0);
	shmc_obj_release(ns);
	shmc_arena_close(a);
}

Test(check, checks_a_named_arena_file_read_only)
{
	char name[64];
	snprintf(name, sizeof(name), "shmc-test-check-%d", getpid());
	shmc_arena_unlink(name);
	shmc_arena_options_t o = {.capacity = 8 << 20};
	shmc_arena_t *a;
	ASSERT_OK(shmc_arena_create(name, &o, &a));
	shmc_obj_t *ns = populate(a);
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	struct stat before, after;
	cr_assert_eq(stat(path, &before), 0);
	shmc_check_report_t rep;
	ASSERT_OK(shmc_arena_check_file(name, &rep, NULL, NULL));
	cr_assert_eq(rep.objects, 3);
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	ASSERT_ERR(shmc_arena_check_file("shmc-test-check-none", &rep, NULL, NULL), -ENOENT);
	shmc_obj_release(ns);
	shmc_arena_close(a);
	ASSERT_OK(shmc_arena_unlink(name));
}

/* An index with no empty slot, and every entry's hash pointing just past its
 * own slot: probing for each entry from its hash would go round the whole
 * index, O(entries x slots) -- hours on a big table. The check must report
 * it in linear time. (Layout of a dict table, from dict.c: a 48-byte
 * header, nindex 32-bit slots, then 24-byte entries {hash, key, value}
 * 16-aligned.) */
Test(check, reports_an_index_without_empty_slots_in_linear_time)
{
	enum { N = 200000 };
	shmc_arena_t *a = test_arena(128 << 20);
	shmc_obj_t *d;
	ASSERT_OK(shmc_dict_new(a, &d));
	for (int i = 0; i < N; i++)
		ASSERT_OK(shmc_dict_set(d, shmc_int(i), shmc_none()));
	uint64_t toff = atomic_load((atomic_u64 *)(a->base + shmc__handle_off(d) + sizeof(struct shmc__obj)));
	char *t = a->base + toff;
	uint64_t nindex = *(uint64_t *)(t + 8), used = atomic_load((atomic_u64 *)(t + 24));
	atomic_uint *index = (atomic_uint *)(t + 48);
	char *ent = t + ALIGN_UP(48 + nindex * 4, 16);
	size_t bytes = ALIGN_UP(48 + nindex * 4, 16) + used * 24;
	char *was = malloc(bytes);
	memcpy(was, t, bytes);
	for (uint64_t j = 0; j < nindex; j++) {
		uint32_t x = atomic_load(&index[j]);
		if (x == 0)
			atomic_store(&index[j], (uint32_t)used + 1); /* garbage */
		else
			atomic_store((atomic_u64 *)(ent + (x - 1) * 24), j + 1); /* hash */
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_damage_reported(a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 10 * test_slow(), "the check took %ld s",
		     (long)(t1.tv_sec - t0.tv_sec));
	memcpy(t, was, bytes);
	free(was);
	shmc_obj_release(d);
	shmc_arena_close(a);
}

/* The check walks value blocks of every type: a reference stored after a
 * big int, a complex, a bytearray, a set and an opaque value is counted
 * (no leaked or missing reference), and dropping the values drops it. */
Test(check, references_after_values_of_the_new_types_are_counted, .init = arena_setup,
     .fini = arena_teardown)
{
	shmc_obj_t *ls, *d;
	ASSERT_OK(shmc_list_new(A, &ls));
	ASSERT_OK(shmc_dict_new(A, &d));
	shmc_value_t big;
	ASSERT_OK(shmc_int_from_str("-340282366920938463463374607431768211457", 40, 10, &big));
	shmc_value_t v = shmc_plist_of(
		6, big, shmc_complex(1, -2), shmc_bytearray("\0x", 2),
		shmc_set_of(2, shmc_frozenset_of(1, shmc_int(1)), shmc_str("s")),
		shmc_opaque("\x80\x04N.", 4, "None"), shmc_tuple_of(1, shmc_ref(d)));
	cr_assert_neq(v.type, SHMC_ERROR);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(shmc_list_append(ls, v));
	shmc_value_free(&v);
	shmc_check_report_t rep;
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.objects, 2);
	cr_assert_eq(rep.leaked_refs, 0);
	cr_assert_eq(rep.leaked_blocks, 0);
	shmc_obj_release(d); /* now held by the list's values only */
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.objects, 2);
	ASSERT_OK(shmc_list_clear(ls));
	arena_in_use(A); /* reclaims what the clear retired */
	ASSERT_OK(check(A, 0, &rep));
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.objects, 1); /* the values' references to d were dropped */
	shmc_obj_release(ls);
}
