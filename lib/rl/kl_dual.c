/* kl_dual.c - the per-sample terms of the KL dual estimate (kl_dual.h). */
#include "rl/kl_dual.h"

#include <math.h>

double pp_softrelu(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }

static double sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double pp_kl_dual_term_p(double c, double *d)
{
    double g = pp_softrelu(c);
    if (d) *d = sigmoid(c) / (g + PP_KL_DUAL_EPS);
    return log(g + PP_KL_DUAL_EPS) + 1.0;
}

double pp_kl_dual_term_b(double c, double *d)
{
    if (d) *d = -sigmoid(c);
    return -pp_softrelu(c);
}
