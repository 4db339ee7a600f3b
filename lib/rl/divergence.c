/* divergence.c - per-sample objectives of the divergences and their derivatives. */
#include "rl/divergence.h"

#include <math.h>
#include <string.h>

#include "base/err.h"

static const char *const names[PP_DIV_COUNT] = {"jsd", "wd", "hinge", "rkl"};

int pp_divergence_parse(const char *name, pp_divergence *out)
{
    for (int i = 0; i < PP_DIV_COUNT; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (pp_divergence)i;
            return 0;
        }
    return pp_fail("unknown divergence '%s', expected one of %s", name, pp_divergence_names());
}

const char *pp_divergence_name(pp_divergence k)
{
    return (unsigned)k < PP_DIV_COUNT ? names[k] : "?";
}

const char *pp_divergence_names(void) { return "jsd, wd, hinge, rkl"; }

/* log(1 + e^x) without overflow or loss for large |x| */
static double softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }
static double sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double pp_divergence_disc_loss(pp_divergence k, const float *f_p, int Bp, const float *f_pi,
                               int Bpi, float *df_p, float *df_pi)
{
    double lp = 0.0, lpi = 0.0, ip = 1.0 / Bp, ipi = 1.0 / Bpi;
    for (int i = 0; i < Bp; i++) {
        double f = f_p[i], l, d;
        switch (k) {
        case PP_DIV_JSD: l = softplus(-f); d = -sigmoid(-f); break;
        case PP_DIV_WD: l = -f; d = -1.0; break;
        case PP_DIV_HINGE: l = f < 1.0 ? 1.0 - f : 0.0; d = f < 1.0 ? -1.0 : 0.0; break;
        default: /* rkl */ l = exp(-f - 1.0); d = -l; break;
        }
        lp += l;
        if (df_p) df_p[i] = (float)(d * ip);
    }
    for (int i = 0; i < Bpi; i++) {
        double f = f_pi[i], l, d;
        switch (k) {
        case PP_DIV_JSD: l = softplus(f); d = sigmoid(f); break;
        case PP_DIV_WD: l = f; d = 1.0; break;
        case PP_DIV_HINGE: l = f > -1.0 ? 1.0 + f : 0.0; d = f > -1.0 ? 1.0 : 0.0; break;
        default: /* rkl */ l = f; d = 1.0; break;
        }
        lpi += l;
        if (df_pi) df_pi[i] = (float)(d * ipi);
    }
    return lp * ip + lpi * ipi;
}

double pp_divergence_policy_loss(pp_divergence k, const float *f_pi, int B, float *df_pi)
{
    double l = 0.0, ib = 1.0 / B;
    for (int i = 0; i < B; i++) {
        double f = f_pi[i];
        if (k == PP_DIV_JSD) {
            l += softplus(-f);
            if (df_pi) df_pi[i] = (float)(-sigmoid(-f) * ib);
        } else {
            l -= f;
            if (df_pi) df_pi[i] = (float)(-ib);
        }
    }
    return l * ib;
}
