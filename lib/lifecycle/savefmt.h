/*
 * savefmt.h -- the format of save files (shmc_arena_save, save.c; read back
 * by shmc_arena_load, load.c).
 *
 * A save file is a header of 64 bytes, then a payload; every number is
 * little-endian, whatever the machine:
 *
 *   0  magic        "SHMCSAVE"
 *   8  u32 version  SHMC__SAVE_VERSION (another: SHMC_EVERSION)
 *  12  u32 hdrsize  64
 *  16  u64 layout   SHMC__SAVE_LAYOUT: what the payload's numbers mean (kind
 *                   and tag numbers); another is SHMC_ELAYOUT. It does not
 *                   depend on the arena's memory layout: a file saved by one
 *                   build loads into another whose arenas differ.
 *  24  u64 paylen   bytes of payload: the file is exactly 64 + paylen long
 *  32  u32 nobjects object records in the payload
 *  36  u32 nroots   named objects
 *  40  u32 paycrc   CRC-32C of the payload
 *  44  u32 flags    0
 *  48  u64 saved    when (CLOCK_REALTIME ns); information only
 *  56  u32 zero
 *  60  u32 hdrcrc   CRC-32C of bytes 0..59
 *
 * The payload: NOBJECTS object records, object i being record i, then
 * NROOTS names. A record is the kind (u8, a shmc_kind_t), its PARAMETERS
 * (one value, which holds no reference) and its CONTENTS (one value):
 *
 *   kind               parameters                  contents
 *   Namespace          None                        dict of str: value
 *   list               None                        list
 *   dict               None                        dict
 *   Lock, RLock, Event None                        None
 *   (Bounded)Semaphore int: its initial value      None
 *   Condition          int: record of its lock     None
 *   Barrier            int: parties                None
 *   (Joinable)Queue    int: maxsize (0: none)      list: the items, in order
 *   Value (C)          (typecode str, number)      None
 *   Array              (typecode str, list)        None
 *   Value (Manager)    typecode str                the value
 *   cache              [max entries, max bytes]    list of (key, value, ns
 *                                                  left, 0: none), in order
 *
 * A name is a str value followed by the u32 number of its object's record.
 *
 * A value is a tag byte (SHMC__ST_*), then: nothing (None, False, True);
 * 8 bytes (int: two's complement; float: IEEE 754 bits); 16 bytes (complex:
 * real, imaginary); u32 length and that many bytes (big int: two's
 * complement, as int.to_bytes(n, 'little', signed=True); str, UTF-8; bytes;
 * bytearray); u32 count and that many values (tuple, list, set, frozenset)
 * or key-value pairs (dict); u32 length, bytes, u32 length, repr (opaque);
 * u32 record number (a reference to a managed object). An object reached
 * twice is one record, referred to twice, so sharing (and cycles) survive.
 *
 * Every byte is checked on load before anything is created: lengths and
 * counts are bounded by the bytes that remain, nesting by
 * SHMC__SAVE_MAX_DEPTH, record numbers by NOBJECTS, str by UTF-8.
 */
#ifndef SHMC_SAVEFMT_H
#define SHMC_SAVEFMT_H

#include <stdint.h>

#define SHMC__SAVE_MAGIC "SHMCSAVE"
#define SHMC__SAVE_VERSION 1u
#define SHMC__SAVE_HDR 64u
/* The kinds 1..18 and tags 0..16 of version 1, as numbered below and in
 * shmc.h: change the numbering, change this. */
#define SHMC__SAVE_LAYOUT 0x3130303131303831ull /* "18101001" */
/* Values nest at most SHMC__MAX_DEPTH (512) deep; a record adds one (a
 * Namespace's contents are a dict of values), the list of names one more. */
#define SHMC__SAVE_MAX_DEPTH 514

enum {
	SHMC__ST_NONE = 0,
	SHMC__ST_FALSE,
	SHMC__ST_TRUE,
	SHMC__ST_INT,
	SHMC__ST_FLOAT,
	SHMC__ST_BIGINT,
	SHMC__ST_COMPLEX,
	SHMC__ST_STR,
	SHMC__ST_BYTES,
	SHMC__ST_BYTEARRAY,
	SHMC__ST_TUPLE,
	SHMC__ST_LIST,
	SHMC__ST_DICT,
	SHMC__ST_SET,
	SHMC__ST_FROZENSET,
	SHMC__ST_OPAQUE,
	SHMC__ST_REF,
	SHMC__ST_COUNT
};

static inline void shmc__put_le(unsigned char *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t shmc__get_le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif
