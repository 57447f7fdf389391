/*
 * crc32c.c -- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one
 * byte at a time through a table made once. Ours rather than zlib's crc32,
 * so that the library gains no dependency for its save files.
 */
#include <pthread.h>

#include "base/crc32c.h"

static uint32_t table[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		table[i] = c;
	}
}

uint32_t shmc__crc32c(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&once, make_table);
	const unsigned char *b = p;
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
