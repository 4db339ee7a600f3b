/* test_vec.c - the elementwise blob checks of nn/vec.h, and the message that
 * names a field's first non-finite element. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "nn/vec.h"

int main(void)
{
    float x[37];
    for (int k = 0; k < 37; k++) x[k] = (float)(k - 18) * 1e30f;
    x[5] = 0.0f;
    x[6] = -0.0f;
    x[7] = 1e-45f;     /* denormal */
    x[8] = 3.4028235e38f; /* FLT_MAX */
    CHECK(pp_vec_all_finite(x, 37) == 1, "zeros, denormals, FLT_MAX and large values are finite");
    CHECK(pp_vec_all_finite(x, 0) == 1 && pp_vec_all_finite(NULL, 0) == 1, "an empty blob is finite");
    const float bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    for (int b = 0; b < 4; b++)
        for (int at = 0; at < 37; at += 12) {
            float y[37];
            memcpy(y, x, sizeof y);
            y[at] = bad[b];
            CHECK(pp_vec_all_finite(y, 37) == 0 && pp_vec_all_finite(y, (size_t)at) == 1,
                  "%g at %d is caught, and only within n", (double)bad[b], at);
        }

    /* pp_vec_check_finite names the first bad element of a field */
    CHECK(pp_vec_check_finite(x, 37, 0, "x") == 0, "a finite blob passes");
    float z[12] = {0};
    z[7] = NAN;
    z[9] = INFINITY;
    CHECK(pp_vec_check_finite(z, 12, 3, "batch.obs") == -1 &&
              strcmp(pp_error(), "batch.obs[2][1] is not finite (nan)") == 0,
          "rows of 3: the first bad one as [row][col]: %s", pp_error());
    CHECK(pp_vec_check_finite(z, 12, 0, "q.params") == -1 &&
              strcmp(pp_error(), "q.params[7] is not finite (nan)") == 0,
          "1-D: as [i]: %s", pp_error());
    CHECK(pp_vec_check_finite(z + 8, 4, 0, "batch.rew") == -1 &&
              strcmp(pp_error(), "batch.rew[1] is not finite (inf)") == 0,
          "an infinity: %s", pp_error());
    CHECK(pp_vec_check_finite(z, 7, 3, "batch.obs") == 0, "only within n");
    return check_done();
}
