/*
 * boxed.c -- the values whose payload does not fit in a shmc_value_t's
 * 8 bytes, held in one private heap block each: complex numbers (two
 * doubles) and opaque values (bytes shmc stores without interpreting, and
 * the repr to print for them). Big ints are boxed too, in bigint.c.
 */
#include <errno.h>
#include <string.h>

#include "base/heap.h"
#include "values/value.h"

shmc_value_t shmc_complex(double re, double im)
{
	struct shmc_complex *c = shmc__heap_alloc(sizeof(*c));
	if (c == NULL)
		return shmc__error_value(-ENOMEM);
	c->re = re;
	c->im = im;
	return (shmc_value_t){.type = SHMC_COMPLEX, .owned = 1, .cx = c};
}

int shmc_complex_parts(shmc_value_t v, double *re, double *im)
{
	if (v.type != SHMC_COMPLEX)
		return SHMC_ETYPE;
	if (re)
		*re = v.cx->re;
	if (im)
		*im = v.cx->im;
	return 0;
}

int shmc__opaque_new(const void *data, size_t len, const char *repr, size_t rlen,
		     shmc_value_t *out)
{
	if (len > SHMC_MAX_LEN || rlen > SHMC_MAX_LEN)
		return -EOVERFLOW;
	struct shmc_opaque *o = shmc__heap_alloc(sizeof(*o) + len + rlen + 1);
	if (o == NULL)
		return -ENOMEM;
	o->len = (uint32_t)len;
	o->rlen = (uint32_t)rlen;
	if (len)
		memcpy(o->data, data, len);
	memcpy(o->data + len, repr, rlen);
	o->data[len + rlen] = '\0';
	*out = (shmc_value_t){.type = SHMC_OPAQUE, .owned = 1, .opq = o};
	return 0;
}

shmc_value_t shmc_opaque(const void *data, size_t len, const char *repr)
{
	shmc_value_t v;
	if (repr == NULL || (data == NULL && len))
		return shmc__error_value(-EINVAL);
	size_t rlen = strlen(repr);
	if (!shmc__utf8_valid(repr, rlen))
		return shmc__error_value(-EILSEQ);
	int rc = shmc__opaque_new(data, len, repr, rlen, &v);
	return rc ? shmc__error_value(rc) : v;
}

const void *shmc_opaque_data(shmc_value_t v, size_t *len)
{
	if (v.type != SHMC_OPAQUE)
		return NULL;
	if (len)
		*len = v.opq->len;
	return v.opq->data;
}

const char *shmc_opaque_repr(shmc_value_t v)
{
	return v.type == SHMC_OPAQUE ? shmc__opaque_repr(v.opq) : NULL;
}
