/* crc32c.c - CRC-32C by slicing by 8 (see crc32c.h), or by the CPU's
 * instruction where it has one.
 *
 * table[0] is the byte-at-a-time table of the reflected polynomial;
 * table[k][b] is the CRC of byte b followed by k zero bytes, so eight
 * lookups fold eight bytes at once. The input is read byte by byte (no
 * unaligned or endian-dependent loads); compilers merge the four byte
 * reads into one load on little-endian machines.
 */
#include <pthread.h>
#include <string.h>

#include "frame/crc32c.h"

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void make_table(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (POLY & (0u - (c & 1)));
        table[0][b] = c;
    }
    for (int k = 1; k < 8; k++)
        for (uint32_t b = 0; b < 256; b++)
            table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xff];
}

uint32_t pp_crc32c_portable(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&table_once, make_table);
    const uint8_t *p = data;
    crc = ~crc;
    for (; n > 0 && ((uintptr_t)p & 7) != 0; n--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
              table[4][lo >> 24] ^ table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
    }
    for (; n > 0; n--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

/* x86-64 since SSE4.2 (Nehalem, Bulldozer) computes CRC-32C in one
 * instruction, 8 bytes at a time: about four times slicing by 8 (a replay
 * file's load and save check every byte, docs/perf.md). Chosen at run time;
 * the build stays portable (no -march). */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;
    uint64_t c = ~crc;
    for (; n > 0 && ((uintptr_t)p & 7) != 0; n--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
    }
    for (; n > 0; n--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

static uint32_t (*crc_best)(uint32_t, const void *, size_t);
static pthread_once_t best_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    __builtin_cpu_init();
    crc_best = __builtin_cpu_supports("sse4.2") ? crc_sse42 : pp_crc32c_portable;
}

uint32_t pp_crc32c(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&best_once, choose);
    return crc_best(crc, data, n);
}
#else
uint32_t pp_crc32c(uint32_t crc, const void *data, size_t n) { return pp_crc32c_portable(crc, data, n); }
#endif
