/*
 * sbuf.h -- a growable string on the private heap (sbuf.c).
 */
#ifndef SHMC_SBUF_H
#define SHMC_SBUF_H

#include <stddef.h>

/* Start with {0}; append; finish once. */
struct shmc__sbuf {
	char *p;
	size_t len, cap;
	int err; /* first failure; later appends are no-ops */
};

void shmc__sb_putn(struct shmc__sbuf *sb, const char *s, size_t n);
void shmc__sb_puts(struct shmc__sbuf *sb, const char *s);
void shmc__sb_putc(struct shmc__sbuf *sb, char c);
/* Hand the string over (NUL-terminated, on the private heap: the caller
 * frees it with shmc_free/shmc__heap_free) or report the first error
 * (-ENOMEM), freeing what was built. @return 0, -ENOMEM */
int shmc__sb_finish(struct shmc__sbuf *sb, char **out);

#endif
