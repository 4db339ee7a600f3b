/* MOPO's Gaussian NLL with soft log-variance bounds (rl/gauss_nll.h,
 * docs/algorithm.md section 18) against float64: the value written out
 * directly, every gradient (outputs, max_lv, min_lv) against central finite
 * differences with raw log-variances on both sides of both bounds, out to
 * where the softplus saturates; the accumulation and NULL paths; the bounded
 * log-variance's range over a sweep (above min_lv, below max_lv +
 * softplus(min_lv - max_lv), which is a little above max_lv); the holdout MSE. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "base/rng.h"
#include "rl/gauss_nll.h"
#include "ref_mlp.h"

enum { B = 4, D = 3, E = 2, NOUT = B * E * 2 * D, NP = NOUT + 2 * D };

/* log(1 + e^t), written differently from the library's */
static double ref_softplus(double t) { return t > 30 ? t + exp(-t) : log(1.0 + exp(t)); }

static double ref_logvar(double r, double mx, double mn)
{
    double a = mx - ref_softplus(mx - r);
    return mn + ref_softplus(a - mn);
}

/* p = [out (B, E*2D), max_lv (D), min_lv (D)]; y [B, D] */
static double ref_loss(const double *p, const double *y, double reg)
{
    const double *out = p, *mx = p + NOUT, *mn = mx + D;
    double L = 0;
    for (int e = 0; e < E; e++) {
        double s = 0;
        for (int b = 0; b < B; b++)
            for (int d = 0; d < D; d++) {
                double mu = out[b * E * 2 * D + e * 2 * D + d], r = out[b * E * 2 * D + e * 2 * D + D + d];
                double lv = ref_logvar(r, mx[d], mn[d]), diff = mu - y[b * D + d];
                s += diff * diff * exp(-lv) + lv;
            }
        L += s / (B * D);
    }
    for (int d = 0; d < D; d++) L += reg * (mx[d] - mn[d]);
    return L;
}

typedef struct {
    double *full; /* the whole vector, whichever block ref_fd_grad moves */
    const double *y;
    double reg;
} ctx_t;

static double loss_fn(const double *p, void *v)
{
    (void)p;
    ctx_t *c = v;
    return ref_loss(c->full, c->y, c->reg);
}

static void value_and_gradients(void)
{
    const float max_lv[D] = {0.5f, 0.2f, 1.5f}, min_lv[D] = {-10.0f, -2.0f, 0.8f};
    /* raw log-variances around the bounds: far below min (softplus saturated),
     * below, just below, just above min, between, just below, just above max,
     * above, far above max (saturated) */
    const double off[9] = {-30, -3, -0.2, 0.3, 0.5, -0.2, 0.2, 3, 30};
    float out[NOUT], y[B * D];
    pp_rng rng;
    pp_rng_seed(&rng, 5);
    pp_rng_fill_normal_f32(&rng, out, NOUT);
    pp_rng_fill_normal_f32(&rng, y, B * D);
    int seen[9] = {0};
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++)
            for (int d = 0; d < D; d++) {
                int k = (b * E + e + 3 * d) % 9;
                seen[k]++;
                double base = k < 4 ? min_lv[d] : k == 4 ? 0.5 * (min_lv[d] + max_lv[d]) : max_lv[d];
                out[b * E * 2 * D + e * 2 * D + D + d] = (float)(base + off[k]);
            }
    /* means one standard deviation or so from the targets, as a trained
     * model's: the loss stays O(1) (exp(-lv) is up to e^10 here), so finite
     * differences are not drowned by its rounding */
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++)
            for (int d = 0; d < D; d++) {
                int i = b * E * 2 * D + e * 2 * D + d;
                double lv = ref_logvar(out[i + D], max_lv[d], min_lv[d]);
                out[i] = (float)(y[b * D + d] + out[i] * exp(0.5 * lv));
            }
    int all = 1;
    for (int k = 0; k < 9; k++) all &= seen[k] > 0;
    CHECK(all, "raw log-variances on both sides of both bounds, saturated ones included");

    float dout[NOUT], g[NP];
    float *dmax = g + NOUT, *dmin = dmax + D;
    double ml[E];
    for (int d = 0; d < D; d++) dmax[d] = dmin[d] = 0.0f;
    double L = pp_gauss_nll(out, y, max_lv, min_lv, B, D, E, PP_GAUSS_VAR_REG, dout, dmax, dmin, ml);
    memcpy(g, dout, sizeof dout);

    double p[NP], yd[B * D];
    for (int i = 0; i < NOUT; i++) p[i] = out[i];
    for (int d = 0; d < D; d++) {
        p[NOUT + d] = max_lv[d];
        p[NOUT + D + d] = min_lv[d];
    }
    for (int i = 0; i < B * D; i++) yd[i] = y[i];
    double Lref = ref_loss(p, yd, PP_GAUSS_VAR_REG);
    printf("# loss %.12g, float64 %.12g\n", L, Lref);
    CHECK_REL(L, Lref, 1e-12, "loss matches the float64 computation");
    double reg = 0;
    for (int d = 0; d < D; d++) reg += PP_GAUSS_VAR_REG * ((double)max_lv[d] - min_lv[d]);
    CHECK_REL(ml[0] + ml[1] + reg, L, 1e-12, "members' losses plus the regulariser are the loss");

    ctx_t c = {.full = p, .y = yd, .reg = PP_GAUSS_VAR_REG};
    const char *what[3] = {"d/d outputs (means and raw log-variances)", "d/d max_lv", "d/d min_lv"};
    size_t at[3] = {0, NOUT, NOUT + D}, n[3] = {NOUT, D, D};
    for (int k = 0; k < 3; k++) {
        double worst, r = ref_grad_check(loss_fn, &c, p + at[k], n[k], g + at[k], 1e-6, &worst);
        printf("#   %s: relative error %.3g, worst entry %.3g (bound 1e-6)\n", what[k], r, worst);
        CHECK(r <= 1e-6, "%s matches float64 finite differences", what[k]);
    }
    /* raw log-variances only, the saturated entries included: absolute error */
    double fd[NOUT], worst = 0;
    ref_fd_grad(loss_fn, &c, p, NOUT, 1e-6, fd);
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++)
            for (int d = 0; d < D; d++) {
                int i = b * E * 2 * D + e * 2 * D + D + d;
                worst = fmax(worst, fabs(fd[i] - g[i]));
            }
    printf("#   d/d raw log-variance: worst absolute error %.3g (bound 1e-8)\n", worst);
    CHECK(worst <= 1e-8, "d/d raw log-variance matches finite differences entry by entry, saturated ones too");

    /* bounds' gradients accumulate; dout NULL gives the same loss and bounds' gradients */
    float amax[D], amin[D];
    for (int d = 0; d < D; d++) amax[d] = amin[d] = 0.25f;
    double L2 = pp_gauss_nll(out, y, max_lv, min_lv, B, D, E, PP_GAUSS_VAR_REG, NULL, amax, amin, NULL);
    int acc = L2 == L;
    for (int d = 0; d < D; d++) acc &= amax[d] == 0.25f + dmax[d] && amin[d] == 0.25f + dmin[d];
    CHECK(acc, "dout NULL: same loss; max_lv, min_lv gradients accumulated into");
    CHECK(pp_gauss_nll(out, y, max_lv, min_lv, B, D, E, PP_GAUSS_VAR_REG, NULL, NULL, NULL, NULL) == L,
          "no gradients asked: same loss");

    /* holdout MSE of the means, per member */
    double mse[E];
    pp_gauss_mse(out, y, B, D, E, mse);
    int mse_ok = 1;
    for (int e = 0; e < E; e++) {
        double s = 0;
        for (int b = 0; b < B; b++)
            for (int d = 0; d < D; d++) {
                double diff = (double)out[b * E * 2 * D + e * 2 * D + d] - y[b * D + d];
                s += diff * diff;
            }
        mse_ok &= fabs(mse[e] - s / (B * D)) <= 1e-12 * fmax(1.0, s);
    }
    CHECK(mse_ok, "holdout MSE per member matches float64 (%.6g, %.6g)", mse[0], mse[1]);
}

/* The bounded log-variance over raw in [-60, 60]: >= min_lv, <= max_lv +
 * softplus(min_lv - max_lv) (the rounding to float is monotone, so both are
 * exact checks), non-decreasing in raw. At MOPO's initial bounds it does go
 * above max_lv, by at most softplus(-10.5) = 2.75e-5. */
static void range_check(void)
{
    const float bounds[5][2] = {{0.5f, -10.0f}, {0.2f, -2.0f}, {1.5f, 0.8f}, {0.0f, 0.0f}, {-1.0f, -1.001f}};
    int in_range = 1, monotone = 1;
    float top_mopo = -INFINITY;
    for (int k = 0; k < 5; k++) {
        float mx = bounds[k][0], mn = bounds[k][1];
        float hi = (float)((double)mx + log1p(exp((double)mn - mx))), prev = -INFINITY;
        for (int i = -6000; i <= 6000; i++) {
            float lv = pp_gauss_bounded_logvar(0.01f * i, mx, mn);
            in_range &= lv >= mn && lv <= hi;
            monotone &= lv >= prev;
            prev = lv;
            if (k == 0) top_mopo = fmaxf(top_mopo, lv);
        }
    }
    CHECK(in_range, "bounded log-variance in [min_lv, max_lv + softplus(min_lv - max_lv)] over raw in [-60, 60]");
    CHECK(monotone, "bounded log-variance non-decreasing in raw");
    printf("# at max_lv 0.5, min_lv -10: largest log-variance %.9g\n", top_mopo);
    CHECK(top_mopo > 0.5f && top_mopo <= 0.5f + 2.8e-5f,
          "at MOPO's initial bounds the log-variance exceeds max_lv by at most 2.8e-5 (%.3g)", top_mopo - 0.5f);
    float mid = pp_gauss_bounded_logvar(-4.0f, PP_GAUSS_MAX_LV_INIT, PP_GAUSS_MIN_LV_INIT);
    CHECK(fabsf(mid + 4.0f) < 0.02f, "well inside the bounds the log-variance is nearly the raw one (%.6g)", mid);
}

int main(void)
{
    value_and_gradients();
    range_check();
    return check_done();
}
