/*
 * pdict.c -- plain (private) dicts: insertion-ordered entries, with an
 * open-addressing index once a linear scan would be slow.
 */
#include <errno.h>
#include <string.h>

#include "base/heap.h"
#include "base/util.h"
#include "values/value.h"

#define SMALL 8 /* entries searched linearly before an index is built */

static int rebuild_index(struct shmc_pmap *m, size_t nindex)
{
	uint32_t *ix = shmc__heap_alloc(nindex * sizeof(uint32_t));
	if (ix == NULL)
		return -ENOMEM;
	memset(ix, 0, nindex * sizeof(uint32_t));
	for (size_t i = 0; i < m->len; i++) {
		size_t j = m->e[i].hash & (nindex - 1);
		while (ix[j])
			j = (j + 1) & (nindex - 1);
		ix[j] = (uint32_t)(i + 1);
	}
	shmc__heap_free(m->index);
	m->index = ix;
	m->nindex = nindex;
	return 0;
}

/* The entry index of KEY, or -1. */
static ssize_t find(const struct shmc_pmap *m, shmc_value_t key, uint64_t h)
{
	if (m->index == NULL) {
		for (size_t i = 0; i < m->len; i++)
			if (m->e[i].hash == h && shmc_value_eq(m->e[i].key, key))
				return (ssize_t)i;
		return -1;
	}
	for (size_t j = h & (m->nindex - 1);; j = (j + 1) & (m->nindex - 1)) {
		uint32_t x = m->index[j];
		if (x == 0)
			return -1;
		const struct shmc_pmap_entry *e = &m->e[x - 1];
		if (e->hash == h && shmc_value_eq(e->key, key))
			return (ssize_t)(x - 1);
	}
}

size_t shmc_pdict_len(shmc_value_t d)
{
	return d.type == SHMC_DICT ? d.map->len : 0;
}

shmc_value_t *shmc_pdict_get(shmc_value_t d, shmc_value_t key)
{
	uint64_t h;
	if (d.type != SHMC_DICT || shmc__value_hash(key, &h) != 0)
		return NULL;
	ssize_t i = find(d.map, key, h);
	return i < 0 ? NULL : &d.map->e[i].val;
}

int shmc_pdict_set(shmc_value_t *d, shmc_value_t key, shmc_value_t val)
{
	uint64_t h;
	int rc = d ? SHMC_ETYPE : -EINVAL;
	shmc_value_t k, v;
	if (d == NULL || d->type != SHMC_DICT || !d->owned)
		goto fail;
	if ((rc = shmc__value_hash(key, &h)) != 0)
		goto fail;
	struct shmc_pmap *m = d->map;
	ssize_t i = find(m, key, h);
	if (i >= 0) { /* Python keeps the first key object and replaces the value */
		if ((rc = shmc__value_take(val, &v)) != 0) {
			shmc_value_free(&key);
			return rc;
		}
		shmc_value_free(&m->e[i].val);
		m->e[i].val = v;
		shmc_value_free(&key);
		return 0;
	}
	if (m->len == m->cap) {
		size_t ncap = m->cap ? 2 * m->cap : 4;
		struct shmc_pmap_entry *ne =
			shmc__heap_realloc(m->e, ncap * sizeof(*ne));
		rc = -ENOMEM;
		if (ne == NULL)
			goto fail;
		m->e = ne;
		m->cap = ncap;
	}
	if (m->len + 1 > SMALL && (m->len + 1) * 3 > m->nindex * 2) {
		size_t n = m->nindex ? m->nindex : 16;
		while ((m->len + 1) * 3 > n * 2)
			n *= 2;
		if ((rc = rebuild_index(m, n)) != 0)
			goto fail;
	}
	if ((rc = shmc__value_take(key, &k)) != 0) {
		shmc_value_free(&val);
		return rc;
	}
	if ((rc = shmc__value_take(val, &v)) != 0) {
		shmc_value_free(&k);
		return rc;
	}
	m->e[m->len] = (struct shmc_pmap_entry){h, k, v};
	m->len++;
	if (m->index) {
		size_t j = h & (m->nindex - 1);
		while (m->index[j])
			j = (j + 1) & (m->nindex - 1);
		m->index[j] = (uint32_t)m->len;
	}
	return 0;
fail:
	shmc_value_free(&key);
	shmc_value_free(&val);
	return rc;
}

int shmc_pdict_del(shmc_value_t *d, shmc_value_t key)
{
	uint64_t h;
	if (d == NULL || d->type != SHMC_DICT || !d->owned)
		return d ? SHMC_ETYPE : -EINVAL;
	int rc = shmc__value_hash(key, &h);
	if (rc)
		return rc;
	struct shmc_pmap *m = d->map;
	ssize_t i = find(m, key, h);
	if (i < 0)
		return SHMC_EKEY;
	if (m->index) { /* rebuild first: the only step that can fail */
		struct shmc_pmap_entry gone = m->e[i];
		memmove(&m->e[i], &m->e[i + 1], (m->len - (size_t)i - 1) * sizeof(gone));
		m->len--;
		if ((rc = rebuild_index(m, m->nindex)) != 0) {
			memmove(&m->e[i + 1], &m->e[i], (m->len - (size_t)i) * sizeof(gone));
			m->e[i] = gone;
			m->len++;
			return rc;
		}
		shmc_value_free(&gone.key);
		shmc_value_free(&gone.val);
		return 0;
	}
	shmc_value_free(&m->e[i].key);
	shmc_value_free(&m->e[i].val);
	memmove(&m->e[i], &m->e[i + 1], (m->len - (size_t)i - 1) * sizeof(m->e[0]));
	m->len--;
	return 0;
}

int shmc_pdict_entry(shmc_value_t d, size_t i, shmc_value_t **key,
		     shmc_value_t **val)
{
	if (d.type != SHMC_DICT)
		return SHMC_ETYPE;
	if (i >= d.map->len)
		return SHMC_EINDEX;
	if (key)
		*key = &d.map->e[i].key;
	if (val)
		*val = &d.map->e[i].val;
	return 0;
}
