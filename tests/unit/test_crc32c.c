/* CRC-32C (frame/crc32c.h): the published check values (the "123456789"
 * check of the CRC catalogue, RFC 3720's iSCSI vectors), and the CPU's
 * instruction (where used) and slicing by 8 against a bit-at-a-time
 * reference at every length, alignment and split. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "frame/crc32c.h"

/* The definition, one bit at a time. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

int main(void)
{
    CHECK(pp_crc32c(0, "123456789", 9) == 0xE3069283u, "CRC-32C(\"123456789\") = 0xE3069283 (got 0x%08X)",
          pp_crc32c(0, "123456789", 9));
    CHECK(pp_crc32c(0, "", 0) == 0, "the CRC of nothing is 0");
    CHECK(pp_crc32c(0x1234u, "", 0) == 0x1234u, "no bytes leave a running CRC as it was");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    CHECK(pp_crc32c(0, fox, strlen(fox)) == 0x22620404u, "CRC-32C of the quick brown fox is 0x22620404");

    /* RFC 3720 B.4 */
    uint8_t b[32];
    memset(b, 0, sizeof b);
    CHECK(pp_crc32c(0, b, 32) == 0x8A9136AAu, "RFC 3720: 32 zero bytes give 0x8A9136AA");
    memset(b, 0xff, sizeof b);
    CHECK(pp_crc32c(0, b, 32) == 0x62A8AB43u, "RFC 3720: 32 bytes of 0xFF give 0x62A8AB43");
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)i;
    CHECK(pp_crc32c(0, b, 32) == 0x46DD794Eu, "RFC 3720: 00..1F give 0x46DD794E");
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)(31 - i);
    CHECK(pp_crc32c(0, b, 32) == 0x113FDB5Cu, "RFC 3720: 1F..00 give 0x113FDB5C");

    /* Slicing by 8 against the bitwise definition: every length 0..300 at
     * every alignment 0..7, and the CRC of a run continued at every split. */
    static uint8_t buf[320];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    int bad_len = 0, bad_split = 0;
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= 308; n++) {
            uint32_t want = crc_bitwise(buf + off, n);
            if (pp_crc32c(0, buf + off, n) != want || pp_crc32c_portable(0, buf + off, n) != want) bad_len++;
        }
    uint32_t whole = crc_bitwise(buf, 300);
    for (size_t k = 0; k <= 300; k++)
        if (pp_crc32c(pp_crc32c(0, buf, k), buf + k, 300 - k) != whole ||
            pp_crc32c_portable(pp_crc32c_portable(0, buf, k), buf + k, 300 - k) != whole)
            bad_split++;
    CHECK(bad_len == 0,
          "every length 0..300 at every alignment agrees with the bitwise CRC, the CPU's way and slicing by 8 (%d "
          "differ)",
          bad_len);
    CHECK(bad_split == 0, "continuing at any split gives the CRC of the whole (%d differ)", bad_split);

    /* One flipped bit anywhere changes it. */
    int missed = 0;
    for (size_t i = 0; i < 300; i++)
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            if (pp_crc32c(0, buf, 300) == whole) missed++;
            buf[i] ^= (uint8_t)(1u << bit);
        }
    CHECK(missed == 0, "each of the 2400 one-bit flips of 300 bytes changes the CRC (%d missed)", missed);
    return check_done();
}
