/* vec.c - elementwise checks over a float blob (vec.h).
 *
 * A float is NaN or infinite exactly when its exponent bits are all ones, so
 * the check ORs that test over the blob without branching: GCC vectorises the
 * loop, and one pass costs about as much as reading the blob.
 */
#include <stdint.h>
#include <string.h>

#include "nn/vec.h"

int pp_vec_all_finite(const float *x, size_t n)
{
    uint32_t bad = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t u;
        memcpy(&u, &x[k], sizeof u);
        bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    return bad == 0;
}
