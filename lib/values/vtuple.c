/*
 * vtuple.c -- a plain list made a tuple in place: the way to build a tuple
 * of a length known only at run time (shmc_tuple_of takes its items as
 * arguments). Both are one sequence (struct shmc_seq); only the type
 * differs.
 */
#include <errno.h>

#include "values/value.h"

int shmc_plist_to_tuple(shmc_value_t *l)
{
	if (l == NULL)
		return -EINVAL;
	if (l->type != SHMC_LIST || !l->owned)
		return SHMC_ETYPE;
	l->type = SHMC_TUPLE;
	return 0;
}
