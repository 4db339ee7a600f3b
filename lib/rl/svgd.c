/* svgd.c - the SVGD direction with softqlearning's median-bandwidth RBF kernel (svgd.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rl/svgd.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double pp_svgd_direction(const float *a, const float *g, int Mf, int Mu, int A, float *scratch,
                         float *delta)
{
    const float *au = a + (size_t)Mf * A;
    const int n = Mf * Mu;
    float *dist = scratch, *sorted = scratch + n;
    for (int j = 0; j < Mf; j++)
        for (int i = 0; i < Mu; i++) {
            double s = 0.0;
            for (int k = 0; k < A; k++) {
                double df = (double)a[(size_t)j * A + k] - au[(size_t)i * A + k];
                s += df * df;
            }
            dist[(size_t)j * Mu + i] = (float)s;
        }
    memcpy(sorted, dist, sizeof(float) * n);
    qsort(sorted, (size_t)n, sizeof(float), cmp_float);
    double med = sorted[n - (n / 2 + 1)];
    double h = fmax(med / log((double)Mf), 1e-3);
    for (int i = 0; i < Mu; i++) {
        float *d = delta + (size_t)i * A;
        for (int k = 0; k < A; k++) d[k] = 0.0f;
        for (int j = 0; j < Mf; j++) {
            double kap = exp(-(double)dist[(size_t)j * Mu + i] / h);
            for (int k = 0; k < A; k++) {
                double df = (double)a[(size_t)j * A + k] - au[(size_t)i * A + k];
                d[k] += (float)((kap * g[(size_t)j * A + k] - 2.0 * df / h * kap) / Mf);
            }
        }
    }
    return h;
}
