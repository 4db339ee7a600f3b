/* crc32c.h - CRC-32C (Castagnoli), the checksum of checkpoint and replay
 * files (parpi-frame(5), "Checkpoint").
 *
 * Reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF:
 * the CRC of iSCSI, ext4 and Python's crc32c package;
 * pp_crc32c(0, "123456789", 9) == 0xE3069283. Slicing by 8 in portable C, or
 * the SSE4.2 instruction on x86-64 CPUs that have it.
 */
#ifndef PP_CRC32C_H
#define PP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of data[0..n) continued from crc, the CRC of what came before (0
 * to start): pp_crc32c(pp_crc32c(0, a, na), b, nb) is the CRC of a then b. */
uint32_t pp_crc32c(uint32_t crc, const void *data, size_t n);
/* The same by slicing by 8 alone, whatever the CPU has (for tests). */
uint32_t pp_crc32c_portable(uint32_t crc, const void *data, size_t n);

#endif
