/* The unadjusted Langevin sampler on analytic scores: its stationary law.
 *
 * 1. A Gaussian target in u-space, score -(u - m)/s^2. ULA is then an AR(1)
 *    process u' = r u + (1 - r) m + sqrt(2 eps) xi with r = 1 - eps/s^2, whose
 *    stationary law is exactly N(m, V), V = 2 eps / (1 - r^2)
 *    = s^2 / (1 - eps/(2 s^2)). The step is large enough that V differs from
 *    s^2 by many standard errors, so the test sees ULA's own bias, exactly.
 * 2. The pre-tanh target of docs/algorithm.md section 6 with a quadratic Q:
 *    p(u) ∝ exp(Q(tanh u)/alpha) (1 - tanh^2 u), Q(a) = -(a - m)^2 / (2c):
 *    mean and variance of u by quadrature, against many chains with a small
 *    step.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "rl/langevin.h"

/* ---- 1. Gaussian in u-space, per-dimension mean and sd ---- */
typedef struct {
    const double *m, *s;
} gauss_ctx;

static int gauss_score(void *ctx, const float *u, int B, int d, float *g)
{
    gauss_ctx *c = ctx;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < d; j++) {
            size_t i = (size_t)b * d + j;
            g[i] = (float)(-(u[i] - c->m[j]) / (c->s[j] * c->s[j]));
        }
    return 0;
}

/* Mean and variance of column j over the B rows, in double. */
static void moments(const float *u, int B, int d, int j, double *mean, double *var)
{
    double s = 0, s2 = 0;
    for (int b = 0; b < B; b++) s += u[(size_t)b * d + j];
    double m = s / B;
    for (int b = 0; b < B; b++) {
        double e = u[(size_t)b * d + j] - m;
        s2 += e * e;
    }
    *mean = m;
    *var = s2 / (B - 1);
}

static void test_gaussian_ar1(void)
{
    enum { B = 20000, D = 2, BURN = 200, SNAPS = 10, GAP = 100 };
    const double m[D] = {0.7, -1.0}, s[D] = {1.0, 1.5};
    const float eps = 0.2f;
    gauss_ctx ctx = {m, s};
    float *u = pp_xalloc_f32((size_t)B * D), *g = pp_xalloc_f32((size_t)B * D),
          *xi = pp_xalloc_f32((size_t)B * D);
    pp_rng rng;
    pp_rng_seed(&rng, 11);
    /* start far from the target (u = 3) to see convergence, not just stationarity */
    for (int i = 0; i < B * D; i++) u[i] = 3.0f;
    CHECK(pp_langevin_run(u, B, D, BURN, eps, gauss_score, &ctx, &rng, g, xi) == 0, "burn-in ran");
    /* SNAPS snapshots GAP steps apart: the AR(1) correlation between them is
     * r^GAP <= 0.92^100 < 1e-3, so they are nearly independent samples. */
    double mean[D] = {0}, var[D] = {0};
    for (int k = 0; k < SNAPS; k++) {
        pp_langevin_run(u, B, D, GAP, eps, gauss_score, &ctx, &rng, g, xi);
        for (int j = 0; j < D; j++) {
            double mm, vv;
            moments(u, B, D, j, &mm, &vv);
            mean[j] += mm / SNAPS;
            var[j] += vv / SNAPS;
        }
    }
    for (int j = 0; j < D; j++) {
        double r = 1.0 - eps / (s[j] * s[j]);
        double v_exact = 2.0 * eps / (1.0 - r * r);
        double v_formula = s[j] * s[j] / (1.0 - eps / (2.0 * s[j] * s[j]));
        /* standard errors over B*SNAPS nearly independent draws from N(m, V) */
        double n = (double)B * SNAPS;
        double se_mean = sqrt(v_exact / n), se_var = v_exact * sqrt(2.0 / n);
        printf("# dim %d: mean %.5f (exact %.5f, se %.5f), var %.5f (exact AR(1) %.5f, se %.5f; "
               "target s^2 = %.3f)\n",
               j, mean[j], m[j], se_mean, var[j], v_exact, se_var, s[j] * s[j]);
        CHECK_NEAR(v_formula, v_exact, 1e-12, "dim %d: s^2/(1 - eps/(2 s^2)) is the AR(1) variance", j);
        CHECK_NEAR(mean[j], m[j], 5 * se_mean, "dim %d: stationary mean within 5 se of m", j);
        CHECK_NEAR(var[j], v_exact, 5 * se_var, "dim %d: stationary variance within 5 se of the exact AR(1) value", j);
        CHECK(fabs(var[j] - s[j] * s[j]) > 10 * se_var,
              "dim %d: and the ULA bias (V - s^2 = %.4f) is resolved (> 10 se)", j,
              v_exact - s[j] * s[j]);
    }
    free(u);
    free(g);
    free(xi);
}

/* ---- 2. Pre-tanh target with quadratic Q ---- */
typedef struct {
    double m, c, alpha;
} tanh_ctx;

static double log_target(const tanh_ctx *t, double u)
{
    double a = tanh(u), ch = cosh(u);
    return -(a - t->m) * (a - t->m) / (2 * t->c) / t->alpha - 2.0 * log(ch);
}

/* g = Q'(a) (1 - a^2)/alpha - 2a, Q'(a) = -(a - m)/c: exactly the section-3 formula. */
static int tanh_score(void *ctx, const float *u, int B, int d, float *g)
{
    tanh_ctx *t = ctx;
    for (int i = 0; i < B * d; i++) {
        double a = tanh(u[i]), ch = cosh(u[i]);
        g[i] = (float)(-(a - t->m) / t->c / (ch * ch) / t->alpha - 2.0 * a);
    }
    return 0;
}

/* Mean and variance of u under exp(log_target) by Simpson's rule on [-40, 40]
 * (the density falls like 4 exp(-2|u|): e^-80 at the ends). */
static void quadrature(const tanh_ctx *t, double *mean, double *var)
{
    const int n = 400000; /* even */
    const double lo = -40, hi = 40, h = (hi - lo) / n;
    double z = 0, s1 = 0, s2 = 0;
    for (int i = 0; i <= n; i++) {
        double u = lo + i * h, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
        double p = exp(log_target(t, u));
        z += w * p;
        s1 += w * p * u;
        s2 += w * p * u * u;
    }
    *mean = s1 / z;
    *var = s2 / z - *mean * *mean;
}

static void test_tanh_quadratic(void)
{
    enum { B = 10000, BURN = 2500, SNAPS = 4, GAP = 500 };
    const tanh_ctx t = {.m = 0.5, .c = 0.2, .alpha = 0.5};
    const float eps = 2e-3f;
    double qm, qv;
    quadrature(&t, &qm, &qv);
    float *u = pp_xalloc_f32(B), *g = pp_xalloc_f32(B), *xi = pp_xalloc_f32(B);
    pp_rng rng;
    pp_rng_seed(&rng, 12);
    for (int i = 0; i < B; i++) u[i] = -1.0f; /* start on the wrong side */
    pp_langevin_run(u, B, 1, BURN, eps, tanh_score, (void *)&t, &rng, g, xi);
    double mean = 0, var = 0, m4 = 0;
    for (int k = 0; k < SNAPS; k++) {
        pp_langevin_run(u, B, 1, GAP, eps, tanh_score, (void *)&t, &rng, g, xi);
        double mm, vv;
        moments(u, B, 1, 0, &mm, &vv);
        mean += mm / SNAPS;
        var += vv / SNAPS;
        for (int b = 0; b < B; b++) m4 += pow(u[b] - mm, 4) / ((double)B * SNAPS);
    }
    /* Tolerance: Monte Carlo plus discretisation.
     * - MC: B*SNAPS draws; snapshots GAP*eps = 1 time unit apart are not
     *   independent, so count only the B chains (conservative): se of the
     *   mean sqrt(var/B), of the variance sqrt((m4 - var^2)/B).
     * - ULA bias: first order in eps, of size ~ eps * L * var with L the
     *   score's Lipschitz constant (|g'| <= (1/(c alpha)) + 2 ~ 12 here),
     *   i.e. ~ 2.4% of var at eps = 2e-3. (Test 1 shows the same order:
     *   V/s^2 - 1 = eps/(2 s^2) for a Gaussian.) Allow 4 se + 3% of var. */
    double se_mean = sqrt(var / B), se_var = sqrt((m4 - var * var) / B);
    double bias = 0.03 * qv;
    printf("# tanh target: mean %.5f (quadrature %.5f, se %.5f), var %.5f (quadrature %.5f, "
           "se %.5f), eps bias allowance %.5f\n",
           mean, qm, se_mean, var, qv, se_var, bias);
    CHECK_NEAR(mean, qm, 4 * se_mean + bias, "pre-tanh target: stationary mean of u matches quadrature");
    CHECK_NEAR(var, qv, 4 * se_var + bias, "pre-tanh target: stationary variance of u matches quadrature");
    free(u);
    free(g);
    free(xi);
}

/* A failing score and a blow-up are errors, not silent NaNs. */
static int bad_score(void *ctx, const float *u, int B, int d, float *g)
{
    (void)ctx;
    (void)u;
    (void)B;
    (void)d;
    (void)g;
    return pp_fail("no score here");
}

static int explode_score(void *ctx, const float *u, int B, int d, float *g)
{
    (void)ctx;
    for (int i = 0; i < B * d; i++) g[i] = u[i] * 1e30f;
    return 0;
}

static void test_errors(void)
{
    float u[4] = {1, 2, 3, 4}, g[4], xi[4];
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    CHECK(pp_langevin_run(u, 2, 2, 3, 0.1f, bad_score, NULL, &rng, g, xi) == -1 &&
              strstr(pp_error(), "no score here") != NULL,
          "a failing score stops the sampler: %s", pp_error());
    CHECK(pp_langevin_run(u, 2, 2, 50, 0.5f, explode_score, NULL, &rng, g, xi) == -1 &&
              strstr(pp_error(), "not finite") != NULL,
          "a diverging particle is reported: %s", pp_error());
}

int main(void)
{
    test_gaussian_ar1();
    test_tanh_quadratic();
    test_errors();
    return check_done();
}
