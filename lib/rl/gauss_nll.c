/* gauss_nll.c - MOPO's Gaussian NLL with soft log-variance bounds, and the
 * holdout MSE (see gauss_nll.h; docs/algorithm.md section 18). */
#include <math.h>
#include <stddef.h>

#include "rl/gauss_nll.h"

/* log(1 + e^t) without overflow */
static double softplus(double t) { return fmax(t, 0.0) + log1p(exp(-fabs(t))); }

/* 1 / (1 + e^-t) without overflow */
static double sigmoid(double t)
{
    double e = exp(-fabs(t));
    return t >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

/* lv from raw r; s1, s2 (nullable) the two softplus slopes */
static double bounded(double r, double mx, double mn, double *s1, double *s2)
{
    double a = mx - softplus(mx - r);
    if (s1) *s1 = sigmoid(mx - r);
    if (s2) *s2 = sigmoid(a - mn);
    return mn + softplus(a - mn);
}

float pp_gauss_bounded_logvar(float raw, float max_lv, float min_lv)
{
    return (float)bounded(raw, max_lv, min_lv, NULL, NULL);
}

double pp_gauss_nll(const float *out, const float *y, const float *max_lv, const float *min_lv, int B, int D,
                    int E, double var_reg, float *dout, float *dmax_lv, float *dmin_lv, double *member_loss)
{
    const double inv_n = 1.0 / ((double)B * D);
    const size_t w = (size_t)2 * D * E;
    double total = 0;
    if (member_loss)
        for (int e = 0; e < E; e++) member_loss[e] = 0;
    /* dimension by dimension, so that each bound's gradient is one double sum */
    for (int d = 0; d < D; d++) {
        const double mx = max_lv[d], mn = min_lv[d];
        double gmax = 0, gmin = 0;
        for (int e = 0; e < E; e++) {
            double sum = 0;
            for (int b = 0; b < B; b++) {
                size_t at = (size_t)b * w + (size_t)e * 2 * D + d;
                double s1, s2, lv = bounded(out[at + D], mx, mn, &s1, &s2);
                double diff = (double)out[at] - y[(size_t)b * D + d], iv = exp(-lv), sq = diff * diff * iv;
                sum += sq + lv;
                double g = (1.0 - sq) * inv_n; /* dL/dlv */
                if (dout) {
                    dout[at] = (float)(2.0 * diff * iv * inv_n);
                    dout[at + D] = (float)(g * s2 * s1);
                }
                gmax += g * s2 * (1.0 - s1);
                gmin += g * (1.0 - s2);
            }
            if (member_loss) member_loss[e] += sum * inv_n;
            total += sum * inv_n;
        }
        if (dmax_lv) dmax_lv[d] += (float)(gmax + var_reg);
        if (dmin_lv) dmin_lv[d] += (float)(gmin - var_reg);
        total += var_reg * (mx - mn);
    }
    return total;
}

void pp_gauss_mse(const float *out, const float *y, int B, int D, int E, double *mse)
{
    const int w = 2 * D * E;
    for (int e = 0; e < E; e++) {
        double sum = 0;
        for (int b = 0; b < B; b++) {
            const float *mu = out + (size_t)b * w + (size_t)e * 2 * D, *yb = y + (size_t)b * D;
            for (int d = 0; d < D; d++) {
                double diff = (double)mu[d] - yb[d];
                sum += diff * diff;
            }
        }
        mse[e] = sum / ((double)B * D);
    }
}
