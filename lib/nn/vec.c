/* vec.c - elementwise checks over a float blob, and one block for work
 * buffers (vec.h).
 *
 * A float is NaN or infinite exactly when its exponent bits are all ones, so
 * the check ORs that test over the blob without branching: GCC vectorises the
 * loop, and one pass costs about as much as reading the blob.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
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

int pp_vec_check_finite(const float *x, size_t n, size_t cols, const char *name)
{
    if (pp_vec_all_finite(x, n)) return 0;
    size_t k = 0;
    while (k < n && isfinite(x[k])) k++;
    if (cols == 0) return pp_fail("%s[%zu] is not finite (%g)", name, k, (double)x[k]);
    return pp_fail("%s[%zu][%zu] is not finite (%g)", name, k / cols, k % cols, (double)x[k]);
}

float *pp_vec_carve(float **const views[], const size_t sizes[], int n)
{
    const size_t line = 64 / sizeof(float);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (sizes[i] + line - 1) / line * line;
    float *block = pp_xalloc_f32(total ? total : 1), *at = block;
    for (int i = 0; i < n; i++) {
        *views[i] = at;
        at += (sizes[i] + line - 1) / line * line;
    }
    return block;
}
