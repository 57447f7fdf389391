/*
 * repr.h -- Python's text forms, and the growable string they are built in.
 */
#ifndef SHMC_REPR_H
#define SHMC_REPR_H

#include <stdbool.h>
#include <stddef.h>

#include "shmc.h"

struct shmc__sbuf {
	char *p;
	size_t len, cap;
	int err; /* first failure; later appends are no-ops */
};

void shmc__sb_putn(struct shmc__sbuf *sb, const char *s, size_t n);
void shmc__sb_puts(struct shmc__sbuf *sb, const char *s);
void shmc__sb_putc(struct shmc__sbuf *sb, char c);
/* Hand the string over (NUL-terminated) or report the first error. */
int shmc__sb_finish(struct shmc__sbuf *sb, char **out);

/* Python's repr() of V appended to SB. */
void shmc__repr(struct shmc__sbuf *sb, shmc_value_t v);
/* Python's repr() of a float: shortest round-trip digits. */
void shmc__repr_float(struct shmc__sbuf *sb, double f);
/* Python's repr() of str text (quoted, escaped). */
void shmc__repr_str(struct shmc__sbuf *sb, const char *s, size_t n);
/* Python's repr() of bytes. */
void shmc__repr_bytes(struct shmc__sbuf *sb, const char *s, size_t n);
/* V as JSON: tuples as {"tuple": [...]}, bytes as {"bytes": "hex"}, dicts
 * with other than str keys as {"items": [[k, v], ...]}, references as
 * {"ref": "0xOFFSET", "typeid": "list"}. */
void shmc__json(struct shmc__sbuf *sb, shmc_value_t v);
/* The proxy form: <ListProxy object, typeid 'list' at 0x...>. */
void shmc__repr_proxy(struct shmc__sbuf *sb, const shmc_obj_t *h);

#endif
