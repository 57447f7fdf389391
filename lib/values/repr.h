/*
 * repr.h -- Python's text forms of values (built in a base/sbuf.h string).
 */
#ifndef SHMC_REPR_H
#define SHMC_REPR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sbuf.h"
#include "shmc.h"


/* Python's repr() of V appended to SB. */
void shmc__repr(struct shmc__sbuf *sb, shmc_value_t v);
/* The same for V, a private copy of a managed list's or dict's items (a
 * snapshot), whose items may each nest as deep as a stored value: one
 * level more than a plain value may. The second returns a new string. */
void shmc__repr_snapshot(struct shmc__sbuf *sb, shmc_value_t v);
int shmc__repr_snapshot_str(shmc_value_t v, char **out);
/* Python's repr() of a float: shortest round-trip digits. */
void shmc__repr_float(struct shmc__sbuf *sb, double f);
/* Python's repr() of str text (quoted, escaped). */
void shmc__repr_str(struct shmc__sbuf *sb, const char *s, size_t n);
/* Python's repr() of bytes. */
void shmc__repr_bytes(struct shmc__sbuf *sb, const char *s, size_t n);
/* V as JSON: tuples as {"tuple": [...]}, bytes as {"bytes": "hex"}, dicts
 * with other than str keys as {"items": [[k, v], ...]}, references as
 * {"ref": "0xOFFSET", "typeid": "list"}; big ints as plain numbers, complex
 * as {"complex": [re, im]}, bytearrays as {"bytearray": "hex"}, sets as
 * {"set": [...]} and {"frozenset": [...]} (iteration order), opaque values
 * as {"opaque": "hex", "repr": "..."}. */
void shmc__json(struct shmc__sbuf *sb, shmc_value_t v);
/* The JSON of a snapshot (see shmc__repr_snapshot). */
void shmc__json_snapshot(struct shmc__sbuf *sb, shmc_value_t v);
/* The proxy form: <ListProxy object, typeid 'list' at 0x...>. */
void shmc__repr_proxy(struct shmc__sbuf *sb, const shmc_obj_t *h);

#endif
