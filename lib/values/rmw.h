/*
 * rmw.h -- atomic read-modify-write of one slot of a managed container.
 */
#ifndef SHMC_RMW_H
#define SHMC_RMW_H

#include "objects/obj.h"

enum shmc__rmw_kind { SHMC__RMW_ADD, SHMC__RMW_CAS, SHMC__RMW_UPDATE };

struct shmc__rmw {
	enum shmc__rmw_kind kind;
	shmc_value_t arg;     /* ADD: delta; CAS: expected */
	shmc_value_t desired; /* CAS */
	shmc_update_fn fn;    /* UPDATE */
	void *ctx;
	shmc_value_t *result; /* ADD: the new value (may be NULL) */
};

/* Python's A + B for numbers (*OUT, a number). @return 0, SHMC_ETYPE,
 * -ERANGE */
int shmc__rmw_add_numbers(shmc_value_t a, shmc_value_t b, shmc_value_t *out);

/* Apply OP to the word at SLOT of the object W has locked (with one limbo
 * slot reserved). @return 0 (1/0 for CAS), or an error with nothing changed */
int shmc__rmw_locked(struct shmc__writer *w, atomic_u64 *slot,
		     const struct shmc__rmw *op);

#endif
