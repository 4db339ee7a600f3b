/* langevin.c - the unadjusted Langevin sampler (the score is the caller's). */
#include "rl/langevin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int pp_langevin_run(float *u, int B, int d, int K, float eps, pp_langevin_score_fn score,
                    void *ctx, pp_rng *rng, float *g, float *xi)
{
    size_t n = (size_t)B * (size_t)d;
    float noise = sqrtf(2.0f * eps);
    for (int k = 0; k < K; k++) {
        if (score(ctx, u, B, d, g) != 0) return pp_fail_prefix("langevin step %d: ", k);
        pp_rng_fill_normal_f32(rng, xi, n);
        for (size_t i = 0; i < n; i++) u[i] += eps * g[i] + noise * xi[i];
        for (size_t i = 0; i < n; i++)
            if (!isfinite(u[i]))
                return pp_fail("langevin step %d: particle %zu is not finite (score %g); "
                               "expected a smaller --eps or a finite critic",
                               k, i / (size_t)d, (double)g[i]);
    }
    return 0;
}
