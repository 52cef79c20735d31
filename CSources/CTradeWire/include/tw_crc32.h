#ifndef TW_CRC32_H
#define TW_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * CRC-32 (IEEE 802.3, the zlib polynomial, reflected 0xEDB88320), continuing from crc (0 to start): what
 * Kraken's book checksums use. On x86-64 with carry-less multiplication (PCLMULQDQ) the 16-byte blocks of an
 * input of 64 bytes or more are folded 64 bytes at a time; the rest goes through a table, 8 bytes at a time.
 */
uint32_t tw_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* The table path alone (for tests: both paths must agree). */
uint32_t tw_crc32_table(uint32_t crc, const uint8_t *p, size_t n);

#endif
