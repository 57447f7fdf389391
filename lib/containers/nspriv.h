/*
 * nspriv.h -- a namespace handle's private attributes (nspriv.c).
 */
#ifndef SHMC_NSPRIV_H
#define SHMC_NSPRIV_H

#include "objects/obj.h"
#include "values/rmw.h"

/* Whether NAME (valid, non-empty) names a private attribute. */
static inline bool shmc__nspriv_is(const char *name)
{
	return name[0] == '_';
}

/* The operations on attribute NAME of namespace handle H, already checked
 * (a live namespace handle; NAME non-empty and private). Codes as the
 * public namespace calls. */
int shmc__nspriv_set(shmc_obj_t *h, const char *name, shmc_value_t v);
int shmc__nspriv_get(shmc_obj_t *h, const char *name, shmc_value_t *out);
int shmc__nspriv_del(shmc_obj_t *h, const char *name);
int shmc__nspriv_has(shmc_obj_t *h, const char *name);
int shmc__nspriv_rmw(shmc_obj_t *h, const char *name, const struct shmc__rmw *op);

#endif
