/*
 * diter.c -- live iterators over managed dicts: Python's iter(d),
 * iter(d.values()), iter(d.items()).
 *
 * An iterator is private (process-local heap) and holds a reference to its
 * dict. Each call reads one entry lock-free (dict.c: shmc__dict_next), as
 * Python's dict iterator does, with Python's rules:
 *   - the length at creation is remembered; a call that finds another
 *     length fails with SHMC_ECHANGED ("dictionary changed size during
 *     iteration"), and so does every call after it;
 *   - a call that finds an entry when as many as that length were given
 *     already fails the same way ("dictionary keys changed during
 *     iteration"), once: the iterator is exhausted after it. So does a
 *     call that cannot find its place again (its last key was deleted and
 *     the table rebuilt, with the length made up meanwhile);
 *   - once exhausted, it stays exhausted, whatever the dict does.
 */
#include <errno.h>

#include "base/heap.h"
#include "containers/dict.h"

#define ITER_MAGIC 0x52455449u /* "ITER" */

enum iter_state { LIVE, DONE, FAILED };

struct shmc_dict_iter {
	uint32_t magic;
	unsigned what;
	enum iter_state state;
	int64_t left; /* entries still to give: Python's di_len */
	int64_t len;  /* the length when made */
	shmc_obj_t *d;
	struct shmc__dict_cursor c;
};

int shmc_dict_iter_new(shmc_obj_t *h, shmc_iter_what_t what, shmc_dict_iter_t **out)
{
	struct shmc__obj *o;
	int rc = shmc__resolve(h, SHMC_KIND_DICT, &o);
	if (rc)
		return rc;
	if (out == NULL || (what != SHMC_ITER_KEYS && what != SHMC_ITER_VALUES &&
			    what != SHMC_ITER_ITEMS))
		return -EINVAL;
	struct shmc_dict_iter *it = shmc__heap_alloc(sizeof(*it));
	if (it == NULL)
		return -ENOMEM;
	int64_t len = shmc__dict_len(shmc__handle_arena(h), o);
	if (len < 0) {
		shmc__heap_free(it);
		return (int)len;
	}
	if ((rc = shmc_obj_dup(h, &it->d)) != 0) {
		shmc__heap_free(it);
		return rc;
	}
	it->magic = ITER_MAGIC;
	it->what = what;
	it->state = LIVE;
	it->left = it->len = len;
	it->c = (struct shmc__dict_cursor){0};
	*out = it;
	return 0;
}

int shmc_dict_iter_next(shmc_dict_iter_t *it, shmc_value_t *out)
{
	if (it == NULL || it->magic != ITER_MAGIC || out == NULL)
		return -EINVAL;
	if (it->state == DONE)
		return 0;
	if (it->state == FAILED)
		return SHMC_ECHANGED;
	struct shmc__obj *o;
	int rc = shmc__resolve(it->d, SHMC_KIND_DICT, &o);
	if (rc)
		return rc;
	shmc_value_t v;
	rc = shmc__dict_next(shmc__handle_arena(it->d), o, &it->c, it->len, it->what, &v);
	if (rc == 1 && it->left-- == 0) { /* an entry more than there were */
		shmc_value_free(&v);
		rc = SHMC_EKEY;
	}
	switch (rc) {
	case 1:
		*out = v;
		break;
	case 0:
		it->state = DONE;
		break;
	case SHMC_EKEY: /* the keys changed: Python then stops for good */
		it->state = DONE;
		rc = SHMC_ECHANGED;
		break;
	case SHMC_ECHANGED: /* the size changed: said again at every call */
		it->state = FAILED;
		break;
	default:
		break;
	}
	return rc;
}

void shmc_dict_iter_free(shmc_dict_iter_t *it)
{
	if (it == NULL || it->magic != ITER_MAGIC)
		return;
	it->magic = 0;
	shmc_obj_release(it->d);
	shmc__heap_free(it);
}
