/* test_vec.c - the elementwise blob checks of nn/vec.h. */
#include <math.h>
#include <string.h>

#include "check.h"
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
    return check_done();
}
