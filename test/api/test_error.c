/*
 * test_error.c -- names and messages for every return code: success, each
 * SHMC_E* code, negated errno values and codes nobody defined.
 */
#include <criterion/criterion.h>
#include <limits.h>

#include "testutil.h"

TestSuite(error, .timeout = 30);

/* Every SHMC_E* code, straight from the X-macro in shmc.h. */
static const struct {
	int code;
	const char *name;
	const char *text;
} codes[] = {
#define ROW_(name, value, text) {SHMC_##name, "SHMC_" #name, text},
	SHMC_ERRORS(ROW_)
#undef ROW_
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

Test(error, zero_is_ok_and_success)
{
	cr_assert_str_eq(shmc_errname(0), "OK");
	const char *msg = shmc_strerror(0);
	cr_assert_not_null(msg);
	cr_assert_str_eq(msg, "success");
}

Test(error, every_shmc_code_has_its_name_and_text)
{
	/* Contiguous from -30901 down: a new code takes the next number. */
	for (size_t i = 0; i < NCODES; i++)
		cr_assert_eq(codes[i].code, -30901 - (int)i, "%s", codes[i].name);
	for (size_t i = 0; i < NCODES; i++) {
		/* Clear of errno, in the documented range. */
		cr_assert_lt(codes[i].code, -30900, "%s", codes[i].name);
		cr_assert_gt(codes[i].code, -31000, "%s", codes[i].name);
		const char *name = shmc_errname(codes[i].code);
		const char *text = shmc_strerror(codes[i].code);
		cr_assert_not_null(name);
		cr_assert_not_null(text);
		cr_assert_str_eq(name, codes[i].name, "code %d", codes[i].code);
		cr_assert_str_eq(text, codes[i].text, "code %d (%s)", codes[i].code,
				 codes[i].name);
	}
}

Test(error, codes_names_and_texts_are_distinct)
{
	for (size_t i = 0; i < NCODES; i++) {
		cr_assert_str_neq(shmc_errname(codes[i].code), "OK");
		cr_assert_str_neq(shmc_errname(codes[i].code), "UNKNOWN");
		for (size_t j = i + 1; j < NCODES; j++) {
			cr_assert_neq(codes[i].code, codes[j].code, "%s and %s",
				      codes[i].name, codes[j].name);
			cr_assert_str_neq(shmc_errname(codes[i].code),
					  shmc_errname(codes[j].code));
			cr_assert_str_neq(shmc_strerror(codes[i].code),
					  shmc_strerror(codes[j].code));
		}
	}
}

Test(error, enum_constants_match_the_table)
{
	cr_assert_eq(SHMC_EKIND, -30901);
	cr_assert_eq(SHMC_EKEY, -30904);
	cr_assert_eq(SHMC_EUNHASHABLE, -30906);
	cr_assert_eq(SHMC_EARENA, -30921);
	cr_assert_str_eq(shmc_errname(SHMC_EKEY), "SHMC_EKEY");
	cr_assert_str_eq(shmc_strerror(SHMC_EKEY), "key not found");
	cr_assert_str_eq(shmc_errname(SHMC_EOWNERDEAD), "SHMC_EOWNERDEAD");
}

/* Negated errno values: the errno name and strerror()'s text. */
Test(error, negated_errno_values)
{
	static const struct {
		int err;
		const char *name;
	} errs[] = {
		{ENOMEM, "ENOMEM"}, {EINVAL, "EINVAL"}, {ERANGE, "ERANGE"},
		{EILSEQ, "EILSEQ"}, {EEXIST, "EEXIST"}, {ENOENT, "ENOENT"},
		{EACCES, "EACCES"}, {ELOOP, "ELOOP"},   {EMFILE, "EMFILE"},
		{ENOSPC, "ENOSPC"}, {EDEADLK, "EDEADLK"}, {EIO, "EIO"},
	};
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		char want[256];
		snprintf(want, sizeof(want), "%s", strerror(errs[i].err));
		cr_assert_str_eq(shmc_errname(-errs[i].err), errs[i].name);
		const char *text = shmc_strerror(-errs[i].err);
		cr_assert_not_null(text);
		cr_assert_str_eq(text, want, "-%s", errs[i].name);
	}
	/* And they differ from the library's own codes. */
	for (size_t i = 0; i < NCODES; i++)
		cr_assert_str_neq(shmc_errname(codes[i].code), "ENOMEM");
}

Test(error, unknown_codes_still_get_a_message)
{
	static const int unknown[] = {
		1, 42, 12345, INT_MAX, INT_MIN, -4000, -4095, -30900, -30990,
		-30999, -31000, -29999,
	};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		int c = unknown[i];
		const char *text = shmc_strerror(c);
		const char *name = shmc_errname(c);
		cr_assert_not_null(text, "code %d", c);
		cr_assert_not_null(name, "code %d", c);
		cr_assert_gt(strlen(text), 0, "code %d", c);
		cr_assert_gt(strlen(name), 0, "code %d", c);
		cr_assert_str_neq(name, "OK", "code %d", c);
		cr_assert_str_neq(text, "success", "code %d", c);
		/* Not mistaken for one of the library's codes. */
		for (size_t j = 0; j < NCODES; j++) {
			cr_assert_str_neq(name, codes[j].name, "code %d", c);
			cr_assert_str_neq(text, codes[j].text, "code %d", c);
		}
	}
	/* Codes outside errno's range have no errno name either. */
	cr_assert_str_eq(shmc_errname(12345), "UNKNOWN");
	cr_assert_str_eq(shmc_errname(codes[NCODES - 1].code - 1), "UNKNOWN");
	cr_assert_str_eq(shmc_errname(INT_MIN), "UNKNOWN");
}

Test(error, messages_are_stable_across_calls)
{
	const char *a = shmc_strerror(SHMC_EFULL);
	const char *b = shmc_strerror(-ENOMEM);
	(void)shmc_strerror(SHMC_EKIND);
	(void)shmc_strerror(-EINVAL);
	cr_assert_str_eq(a, "arena is full");
	cr_assert_str_eq(shmc_strerror(SHMC_EFULL), a);
	cr_assert_str_eq(shmc_strerror(-ENOMEM), b);
}

Test(error, version_string)
{
	cr_assert_str_eq(shmc_version(), SHMC_VERSION_STRING);
	char want[32];
	snprintf(want, sizeof(want), "%d.%d.%d", SHMC_VERSION_MAJOR,
		 SHMC_VERSION_MINOR, SHMC_VERSION_PATCH);
	cr_assert_str_eq(shmc_version(), want);
}
