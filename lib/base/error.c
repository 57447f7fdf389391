/*
 * error.c -- messages and names for return codes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

const char *shmc_version(void)
{
	return SHMC_VERSION_STRING;
}

const char *shmc_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define SHMC_ERR_TEXT_(name, value, text)                                      \
	case SHMC_##name:                                                      \
		return text;
		SHMC_ERRORS(SHMC_ERR_TEXT_)
#undef SHMC_ERR_TEXT_
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

const char *shmc_errname(int err)
{
	switch (err) {
	case 0:
		return "OK";
#define SHMC_ERR_NAME_(name, value, text)                                      \
	case SHMC_##name:                                                      \
		return "SHMC_" #name;
		SHMC_ERRORS(SHMC_ERR_NAME_)
#undef SHMC_ERR_NAME_
	default:
		break;
	}
	if (err < 0 && err > -4096) {
		const char *name = strerrorname_np(-err);
		if (name)
			return name;
	}
	return "UNKNOWN";
}

static size_t cstrlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

_Noreturn void shmc__assert_fail(const char *expr, const char *file, int line)
{
	char num[16];
	int i = (int)sizeof(num);
	unsigned u = (unsigned)line;
	do {
		num[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u && i > 0);
	const char *parts[] = {"shmc: assertion failed: ", expr, " (", file, ":"};
	for (size_t k = 0; k < ARRAY_SIZE(parts); k++)
		(void)!write(2, parts[k], cstrlen(parts[k]));
	(void)!write(2, num + i, sizeof(num) - (size_t)i);
	(void)!write(2, ")\n", 2);
	abort();
}
