/*
 * sbuf.c -- a growable string on the private heap, for building text a
 * piece at a time (Python's printed forms, JSON, messages).
 *
 * The first failure is remembered and later appends do nothing, so callers
 * append freely and check once, at shmc__sb_finish().
 */
#include <errno.h>
#include <string.h>

#include "base/heap.h"
#include "base/sbuf.h"

void shmc__sb_putn(struct shmc__sbuf *sb, const char *s, size_t n)
{
	if (sb->err)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t ncap = sb->cap ? sb->cap : 64;
		while (sb->len + n + 1 > ncap)
			ncap *= 2;
		char *p = shmc__heap_realloc(sb->p, ncap);
		if (p == NULL) {
			sb->err = -ENOMEM;
			return;
		}
		sb->p = p;
		sb->cap = ncap;
	}
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

void shmc__sb_puts(struct shmc__sbuf *sb, const char *s)
{
	shmc__sb_putn(sb, s, strlen(s));
}

void shmc__sb_putc(struct shmc__sbuf *sb, char c)
{
	shmc__sb_putn(sb, &c, 1);
}

int shmc__sb_finish(struct shmc__sbuf *sb, char **out)
{
	if (sb->err == 0 && sb->p == NULL)
		shmc__sb_putn(sb, "", 0);
	if (sb->err) {
		shmc__heap_free(sb->p);
		return sb->err;
	}
	*out = sb->p;
	return 0;
}
