/*
 * ident.c -- an object's identity, the same in every process, and the way
 * back from it to a handle; the arena's name.
 *
 * A managed object is named across processes by its offset in the arena
 * and its serial number (struct shmc__obj's id, given once at creation
 * and never reused within an arena). A process that received both (through
 * a pipe, a file, a pickle) and has the arena open asks for a handle with
 * shmc_obj_from_ident(): the offset must hold a live object whose serial
 * is the one given, else the answer is SHMC_EKEY.
 *
 * Why this is safe against the object dying meanwhile: objects are freed
 * at once when their count of references reaches zero, and the block may
 * then be reused. Every word at OFFSET is read through the checked
 * accessor, so a reused block is only odd data. The reference is taken by
 * shmc__obj_wrap(), which checks the magic number and increments the count
 * only from a non-zero value (a compare-and-swap): a dead object (count 0,
 * magic cleared by its destruction) is refused. Should the block have been
 * freed and reused as a new object between our check of the serial and
 * that increment, the serial is checked again afterwards and the reference
 * dropped: it was a reference to a live object, so dropping it is correct.
 * What remains is the caller's contract, as with any handle: the object
 * must be kept alive by someone (a handle, a container, a name) while its
 * identity travels, or the answer may be SHMC_EKEY.
 */
#include <errno.h>

#include "objects/obj.h"

int shmc_obj_ident(const shmc_obj_t *h, shmc_ident_t *out)
{
	struct shmc__reader rd;
	if (out == NULL)
		return shmc__resolve(h, 0, &rd.o) ? SHMC_EHANDLE : -EINVAL;
	int rc = shmc__reader_enter(h, 0, &rd);
	if (rc)
		return rc;
	out->offset = shmc__off(rd.a, rd.o);
	out->id = rd.o->id;
	shmc__reader_exit(&rd);
	return 0;
}

/* Whether OFF holds a live object (magic, a registered kind) of serial ID. */
static bool alive(shmc_arena_t *a, uint64_t off, uint64_t id)
{
	const struct shmc__obj *o = shmc__at(a, off, sizeof(struct shmc__obj), 16);
	return o && o->magic == SHMC__OBJ_MAGIC && o->id == id &&
	       shmc__kind_of(o->kind) != NULL;
}

int shmc_obj_from_ident(shmc_arena_t *arena, shmc_ident_t ident, shmc_obj_t **out)
{
	if (!shmc__arena_ok(arena))
		return SHMC_EHANDLE;
	if (out == NULL)
		return -EINVAL;
	if (!alive(arena, ident.offset, ident.id))
		return SHMC_EKEY;
	shmc_obj_t *h;
	int rc = shmc__obj_wrap(arena, ident.offset, &h);
	if (rc == SHMC_ECORRUPT) /* died since: no object of that identity */
		return SHMC_EKEY;
	if (rc)
		return rc;
	if (!alive(arena, ident.offset, ident.id)) {
		shmc_obj_release(h);
		return SHMC_EKEY;
	}
	*out = h;
	return 0;
}

int shmc_arena_name(shmc_arena_t *arena, const char **out)
{
	if (!shmc__arena_ok(arena))
		return SHMC_EHANDLE;
	if (out == NULL)
		return -EINVAL;
	if (arena->path == NULL)
		return -ENOENT;
	*out = arena->path;
	return 0;
}
