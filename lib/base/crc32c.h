/*
 * crc32c.h -- CRC-32C (Castagnoli), the checksum of save files (crc32c.c).
 */
#ifndef SHMC_CRC32C_H
#define SHMC_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend CRC (0 to start) over N bytes at P. */
uint32_t shmc__crc32c(uint32_t crc, const void *p, size_t n);

#endif
