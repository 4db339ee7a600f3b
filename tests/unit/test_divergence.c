/* Divergences of the discriminator (docs/algorithm.md section 7): the per-sample
 * objectives and their derivatives, the gradient through the network (with
 * spectral norm and gradient penalty) against float64 finite differences,
 * and training on two fixed 1-D Gaussians whose optimum is known:
 *   jsd -> f = log(p/pi), rkl -> f = log(p/pi) - 1, wd -> gap = W1 = |mu|,
 *   hinge -> 0 < gap <= W1 (a 1-Lipschitz f cannot beat W1).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rl/discrim.h"
#include "rl/divergence.h"
#include "base/err.h"
#include "ref_mlp.h"

/* ---- the table, independently in double ---- */
static double sp(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double ref_disc_loss(pp_divergence k, const double *fp, int Bp, const double *fq, int Bq)
{
    double a = 0, b = 0;
    for (int i = 0; i < Bp; i++) {
        double f = fp[i];
        a += k == PP_DIV_JSD ? -log(1 / (1 + exp(-f)))   /* -log sig(f) */
           : k == PP_DIV_WD  ? -f
           : k == PP_DIV_HINGE ? fmax(0.0, 1 - f)
           : exp(-f - 1);
    }
    for (int i = 0; i < Bq; i++) {
        double f = fq[i];
        b += k == PP_DIV_JSD ? -log(1 / (1 + exp(f)))    /* -log sig(-f) */
           : k == PP_DIV_WD  ? f
           : k == PP_DIV_HINGE ? fmax(0.0, 1 + f)
           : f;
    }
    return a / Bp + b / Bq;
}

static double ref_policy_loss(pp_divergence k, const double *fq, int B)
{
    double s = 0;
    for (int i = 0; i < B; i++) s += k == PP_DIV_JSD ? sp(-fq[i]) : -fq[i];
    return s / B;
}

static void test_names(void)
{
    pp_divergence k;
    const char *names[] = {"jsd", "wd", "hinge", "rkl"};
    int ok = 1;
    for (int i = 0; i < 4; i++)
        ok &= pp_divergence_parse(names[i], &k) == 0 && (int)k == i &&
              strcmp(pp_divergence_name(k), names[i]) == 0;
    CHECK(ok, "divergence names round-trip");
    CHECK(pp_divergence_parse("kl", &k) == -1 && strstr(pp_error(), "jsd, wd, hinge, rkl"),
          "an unknown divergence lists the valid ones: %s", pp_error());
    pp_lipschitz l;
    CHECK(pp_lipschitz_parse("sn", &l) == 0 && l == PP_LIP_SN && pp_lipschitz_parse("gp", &l) == 0 &&
              l == PP_LIP_GP && pp_lipschitz_parse("none", &l) == 0 && l == PP_LIP_NONE &&
              pp_lipschitz_parse("clip", &l) == -1,
          "lipschitz names parse: %s", pp_error());
}

/* Per-sample derivatives against central differences of the double table.
 * f values are multiples of 2^-6 and h = 2^-10, so f +- h is exact in float
 * and the difference quotient sees only the O(h^2) truncation (~1e-7). */
static void test_loss_derivatives(void)
{
    enum { BP = 7, BQ = 5 };
    const double h = 0x1p-10;
    float fp[BP], fq[BQ], dfp[BP], dfq[BQ], dq2[BQ];
    for (int i = 0; i < BP; i++) fp[i] = (float)ldexp(-150 + 53 * i, -6); /* -2.34 .. 2.62 */
    for (int i = 0; i < BQ; i++) fq[i] = (float)ldexp(-170 + 71 * i, -6); /* -2.66 .. 1.78 */
    for (int k = 0; k < PP_DIV_COUNT; k++) {
        double dp[BP], dq[BQ], err = 0, scale = 0;
        for (int i = 0; i < BP; i++) dp[i] = fp[i];
        for (int i = 0; i < BQ; i++) dq[i] = fq[i];
        double L = pp_divergence_disc_loss(k, fp, BP, fq, BQ, dfp, dfq);
        double Lref = ref_disc_loss(k, dp, BP, dq, BQ);
        for (int i = 0; i < BP + BQ; i++) {
            double *v = i < BP ? &dp[i] : &dq[i - BP];
            double keep = *v;
            *v = keep + h;
            double lp = ref_disc_loss(k, dp, BP, dq, BQ);
            *v = keep - h;
            double lm = ref_disc_loss(k, dp, BP, dq, BQ);
            *v = keep;
            double fd = (lp - lm) / (2 * h), an = i < BP ? dfp[i] : dfq[i - BP];
            err = fmax(err, fabs(fd - an));
            scale = fmax(scale, fabs(fd));
        }
        CHECK_NEAR(L, Lref, 1e-12, "%s: discriminator loss equals the table", pp_divergence_name(k));
        printf("# %s: max |dL/df - finite difference| = %.3g (max |dL/df| %.3g)\n",
               pp_divergence_name(k), err, scale);
        CHECK(err <= 1e-6 * fmax(scale, 1.0), "%s: dL/df matches float64 finite differences",
              pp_divergence_name(k));
        double Lp = pp_divergence_policy_loss(k, fq, BQ, dq2), perr = 0;
        for (int i = 0; i < BQ; i++) {
            double keep = dq[i];
            dq[i] = keep + h;
            double lp = ref_policy_loss(k, dq, BQ);
            dq[i] = keep - h;
            double lm = ref_policy_loss(k, dq, BQ);
            dq[i] = keep;
            perr = fmax(perr, fabs((lp - lm) / (2 * h) - dq2[i]));
        }
        CHECK(fabs(Lp - ref_policy_loss(k, dq, BQ)) < 1e-12 && perr < 1e-6,
              "%s: policy loss and derivative (error %.3g)", pp_divergence_name(k), perr);
    }
    /* the optimum conditions, pointwise: with p/pi = r at a point, jsd's
     * dL/df vanishes at f = log r and rkl's at f = log r - 1 */
    float r = 2.5f, f1 = logf(r), f2 = logf(r) - 1.0f, d1, d2;
    float fpj[1] = {f1}, fqj[1] = {f1};
    pp_divergence_disc_loss(PP_DIV_JSD, fpj, 1, fqj, 1, &d1, &d2);
    CHECK_NEAR(r * d1 + d2, 0.0, 1e-6, "jsd: stationary at f = log(p/pi) (p dL/df_p + pi dL/df_pi = 0)");
    float fpr[1] = {f2}, fqr[1] = {f2};
    pp_divergence_disc_loss(PP_DIV_RKL, fpr, 1, fqr, 1, &d1, &d2);
    CHECK_NEAR(r * d1 + d2, 0.0, 1e-6, "rkl: stationary at f = log(p/pi) - 1");
}

/* ---- gradient through the network ---- */
static double ref_total_loss(pp_discrim *d, const double *P, int B)
{
    int in = d->in_dim;
    double fp[64], fq[64], x[64];
    for (int b = 0; b < 2 * B; b++) {
        for (int j = 0; j < in; j++) x[j] = d->x[(size_t)b * in + j];
        double f = ref_mlp_scalar(&d->net, P, x, 0, NULL);
        if (b < B) fp[b] = f;
        else fq[b - B] = f;
    }
    double L = ref_disc_loss(d->div, fp, B, fq, B);
    if (d->lip == PP_LIP_GP) {
        double g[64], pen = 0;
        for (int b = 0; b < B; b++) {
            for (int j = 0; j < in; j++) x[j] = d->xgp[(size_t)b * in + j];
            ref_mlp_scalar(&d->net, P, x, 0, g);
            double n2 = 0;
            for (int j = 0; j < in; j++) n2 += g[j] * g[j];
            pen += (sqrt(n2) - 1) * (sqrt(n2) - 1);
        }
        L += d->gp_weight * pen / B;
    }
    return L;
}

static void gradcheck(pp_divergence div, pp_lipschitz lip)
{
    enum { IN = 4, H = 12, B = 16 };
    pp_discrim d;
    pp_rng rng;
    pp_rng_seed(&rng, 100 + div * 3 + lip);
    if (pp_discrim_init(&d, div, lip, IN, H, 2, B, 1e-3f, 10.0f, &rng) != 0) {
        CHECK(0, "init: %s", pp_error());
        return;
    }
    pp_rng_fill_normal_f32(&rng, d.x, 2 * B * IN);
    for (int i = 0; i < B * IN; i++) d.x[i] += 0.5f; /* p rows shifted */
    for (int b = 0; b < B; b++) {
        float t = (float)pp_rng_uniform(&rng);
        for (int j = 0; j < IN; j++)
            d.xgp[b * IN + j] = t * d.x[b * IN + j] + (1 - t) * d.x[(B + b) * IN + j];
    }
    if (lip == PP_LIP_SN) pp_mlp_sn_update(&d.net, d.params);
    pp_discrim_stats st;
    double L = pp_discrim_loss_grad(&d, B, &st);
    size_t n = d.net.nparams;
    double *P = calloc(n, sizeof *P);
    for (size_t i = 0; i < n; i++) P[i] = d.params[i];
    double Lref = ref_total_loss(&d, P, B);
    double num = 0, den_a = 0, den_f = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = P[i], h = 1e-6 * fmax(1.0, fabs(keep));
        P[i] = keep + h;
        double lp = ref_total_loss(&d, P, B);
        P[i] = keep - h;
        double lm = ref_total_loss(&d, P, B);
        P[i] = keep;
        double fd = (lp - lm) / (2 * h), an = d.grads[i];
        num += (fd - an) * (fd - an);
        den_a += an * an;
        den_f += fd * fd;
    }
    double rel = sqrt(num) / fmax(sqrt(fmax(den_a, den_f)), 1e-30);
    printf("# %s/%s: loss %.6f (float64 reference %.6f), gradient relative error %.3g over %zu "
           "params\n",
           pp_divergence_name(div), pp_lipschitz_name(lip), L, Lref, rel, n);
    CHECK_NEAR(L, Lref, 1e-4 * fmax(1.0, fabs(Lref)), "%s/%s: loss matches the float64 net",
               pp_divergence_name(div), pp_lipschitz_name(lip));
    CHECK(rel < 2e-3, "%s/%s: gradient w.r.t. params matches float64 finite differences (%.3g)",
          pp_divergence_name(div), pp_lipschitz_name(lip), rel);
    if (lip == PP_LIP_GP) CHECK(st.gp > 0, "gp: the penalty is part of the loss (%.4f)", st.gp);
    free(P);
    pp_discrim_free(&d);
}

/* ---- training on two 1-D Gaussians ---- */
typedef struct {
    double mp, sp, mq, sq; /* p = N(mp, sp^2) (particles), pi = N(mq, sq^2) (policy) */
} two_gauss;

static double log_ratio(const two_gauss *g, double x)
{
    double zp = (x - g->mp) / g->sp, zq = (x - g->mq) / g->sq;
    return -0.5 * zp * zp - log(g->sp) + 0.5 * zq * zq + log(g->sq);
}

static void draw(const two_gauss *g, pp_rng *rng, float *xp, float *xq, int B)
{
    for (int b = 0; b < B; b++) {
        xp[b] = (float)(g->mp + g->sp * pp_rng_normal(rng));
        xq[b] = (float)(g->mq + g->sq * pp_rng_normal(rng));
    }
}

enum { TB = 256, GRID = 25 };

/* Train for steps updates with fresh samples; average f on the grid over the
 * last avg steps (Polyak averaging of the estimate, which removes most of the
 * SGD noise of the final iterate). */
static int train(pp_discrim *d, const two_gauss *g, int steps, int avg, const double *grid,
                 double *f_avg, pp_rng *rng)
{
    float xp[TB], xq[TB], xg[GRID], fg[GRID];
    for (int i = 0; i < GRID; i++) f_avg[i] = 0, xg[i] = (float)grid[i];
    for (int s = 0; s < steps; s++) {
        draw(g, rng, xp, xq, TB);
        if (pp_discrim_update(d, xp, xq, TB, rng, NULL) != 0) return -1;
        if (s >= steps - avg) {
            pp_discrim_eval(d, xg, GRID, fg);
            for (int i = 0; i < GRID; i++) f_avg[i] += fg[i] / avg;
        }
    }
    return 0;
}

static void test_density_ratio(pp_divergence div)
{
    /* unequal variances: the log-ratio is a parabola, not a line */
    const two_gauss g = {.mp = 0.5, .sp = 0.8, .mq = -0.3, .sq = 1.0};
    pp_discrim d;
    pp_rng rng;
    pp_rng_seed(&rng, 7 + div);
    pp_discrim_init(&d, div, PP_LIP_NONE, 1, 32, 2, TB, 2e-3f, 0, &rng);
    double grid[GRID], f[GRID];
    /* the bulk of both laws: [-1.3, 1.5] is within 1.8 sd of each mean */
    for (int i = 0; i < GRID; i++) grid[i] = -1.3 + 2.8 * i / (GRID - 1);
    int rc = train(&d, &g, 3000, 1000, grid, f, &rng);
    double maxerr = 0, rms = 0, off = div == PP_DIV_RKL ? 1.0 : 0.0;
    for (int i = 0; i < GRID; i++) {
        double e = f[i] - (log_ratio(&g, grid[i]) - off);
        maxerr = fmax(maxerr, fabs(e));
        rms += e * e / GRID;
    }
    rms = sqrt(rms);
    printf("# %s: f vs the closed-form %s over x in [-1.3, 1.5]: max error %.4f, rms %.4f "
           "(log-ratio spans %.2f .. %.2f)\n",
           pp_divergence_name(div), div == PP_DIV_JSD ? "log(p/pi)" : "log(p/pi) - 1", maxerr, rms,
           log_ratio(&g, grid[0]) - off, log_ratio(&g, grid[GRID - 1]) - off);
    /* Tolerance: each update sees 256 + 256 fresh samples; f's error in the
     * bulk is the SGD noise left after averaging 1000 iterates plus the bias
     * of a 32-unit ReLU net fitting a parabola. Across six seeds the errors
     * were 0.010-0.069 (max) and 0.006-0.026 (rms); the bounds 0.15 / 0.08
     * are 2-3x the worst of them and far below the 2.9-wide range of the
     * target (the best straight line misses the parabola by > 0.2 at the
     * ends, a constant by > 1). */
    CHECK(rc == 0 && maxerr < 0.15 && rms < 0.08,
          "%s: the trained f is the closed-form density ratio (max %.3f, rms %.3f)",
          pp_divergence_name(div), maxerr, rms);
    pp_discrim_free(&d);
}

/* 2-D: p = N(0, I), pi = N((mu, 0), I); W1(p, pi) = mu (a translation). In
 * 1-D the gradient penalty has two wells, slope +1 and -1, separated by a
 * barrier of height lambda at slope 0, and training can settle in the wrong
 * one; from two dimensions on the gradient rotates between them, as it does
 * for the stage's (s, a) inputs. */
static void draw2(double mu, pp_rng *rng, float *xp, float *xq, int B)
{
    for (int b = 0; b < B; b++) {
        xp[2 * b] = (float)pp_rng_normal(rng);
        xp[2 * b + 1] = (float)pp_rng_normal(rng);
        xq[2 * b] = (float)(mu + pp_rng_normal(rng));
        xq[2 * b + 1] = (float)pp_rng_normal(rng);
    }
}

static double fresh_gap(pp_discrim *d, double mu, pp_rng *rng, double *se)
{
    enum { N = 20480 };
    float x[2 * TB * 2], f[2 * TB];
    double s = 0, s2 = 0;
    for (int done = 0; done < N; done += TB) {
        draw2(mu, rng, x, x + 2 * TB, TB);
        pp_discrim_eval(d, x, 2 * TB, f);
        for (int b = 0; b < TB; b++) {
            double v = f[b] - f[TB + b];
            s += v;
            s2 += v * v;
        }
    }
    double m = s / N;
    *se = sqrt((s2 / N - m * m) / N);
    return m;
}

static void test_wasserstein(pp_lipschitz lip, pp_divergence div)
{
    const double mu = 1.5, lambda = 10.0;
    pp_discrim d;
    pp_rng rng;
    pp_rng_seed(&rng, 31 + lip + 5 * div);
    pp_discrim_init(&d, div, lip, 2, 32, 2, TB, 1e-3f, (float)lambda, &rng);
    float xp[2 * TB], xq[2 * TB];
    int rc = 0;
    for (int s = 0; s < 2000 && rc == 0; s++) {
        draw2(mu, &rng, xp, xq, TB);
        rc = pp_discrim_update(&d, xp, xq, TB, &rng, NULL);
    }
    double se, gap = fresh_gap(&d, mu, &rng, &se);
    printf("# %s/%s on N(0,I) vs N((%.1f,0),I): gap E_p f - E_pi f = %.4f (se %.4f) on 20480 "
           "fresh pairs; W1 = %.4f\n",
           pp_divergence_name(div), pp_lipschitz_name(lip), mu, gap, se, mu);
    if (div == PP_DIV_WD && lip == PP_LIP_SN) {
        /* Every 1-Lipschitz f has gap <= W1 = mu (Kantorovich-Rubinstein);
         * f(x) = -x_1 reaches it. A spectrally normalised ReLU net is
         * 1-Lipschitz, so its gap is at most W1 (+ sampling error). Below:
         * within 5% of W1 after 2000 updates. */
        CHECK(rc == 0 && gap > 0.95 * mu && gap <= mu + 4 * se,
              "wd/sn: gap %.4f approaches W1 = %.2f from below (in [%.3f, %.3f])", gap, mu,
              0.95 * mu, mu + 4 * se);
    } else if (div == PP_DIV_WD) {
        /* The penalty is soft: among linear f = -c x_1 the objective
         * c mu - lambda (c - 1)^2 peaks at c = 1 + mu/(2 lambda), so the
         * penalised optimum's gap is mu (1 + mu/(2 lambda)) = 1.6125 here,
         * above W1 by exactly that slack. Allow 3%. */
        double want = mu * (1 + mu / (2 * lambda));
        CHECK(rc == 0 && fabs(gap - want) <= 0.03 * want,
              "wd/gp: gap %.4f is the penalised optimum mu (1 + mu/(2 lambda)) = %.4f (W1 = %.2f)",
              gap, want, mu);
    } else {
        /* hinge with a 1-Lipschitz (spectral) f: gap > 0, and <= W1 */
        CHECK(rc == 0 && gap > 0.2 && gap <= mu + 4 * se,
              "hinge/sn: gap %.4f is positive and bounded by W1 = %.2f", gap, mu);
    }
    pp_discrim_free(&d);
}

/* A non-finite loss changes nothing. */
static void test_nan(void)
{
    enum { B = 8 };
    pp_discrim d;
    pp_rng rng;
    pp_rng_seed(&rng, 5);
    pp_discrim_init(&d, PP_DIV_WD, PP_LIP_SN, 2, 8, 2, B, 1e-3f, 10.0f, &rng);
    float xp[2 * B], xq[2 * B];
    pp_rng_fill_normal_f32(&rng, xp, 2 * B);
    pp_rng_fill_normal_f32(&rng, xq, 2 * B);
    CHECK(pp_discrim_update(&d, xp, xq, B, &rng, NULL) == 0, "a finite update works");
    size_t n = d.net.nparams;
    float *keep = malloc(n * sizeof *keep), *m = malloc(n * sizeof *m),
          *sn = malloc((d.net.sn_state_floats + 1) * sizeof *sn),
          *sn2 = malloc((d.net.sn_state_floats + 1) * sizeof *sn2);
    memcpy(keep, d.params, n * sizeof *keep);
    memcpy(m, d.adam.m, n * sizeof *m);
    pp_mlp_sn_get(&d.net, sn);
    pp_rng rk = rng;
    long long t = d.adam.t;
    xp[3] = NAN;
    int rc = pp_discrim_update(&d, xp, xq, B, &rng, NULL);
    pp_mlp_sn_get(&d.net, sn2);
    CHECK(rc == -1 && strstr(pp_error(), "not finite"), "NaN input: -1 (%s)", pp_error());
    CHECK(memcmp(keep, d.params, n * sizeof *keep) == 0 && memcmp(m, d.adam.m, n * sizeof *m) == 0 &&
              d.adam.t == t && memcmp(&rk, &rng, sizeof rng) == 0 &&
              memcmp(sn, sn2, d.net.sn_state_floats * sizeof *sn) == 0,
          "NaN input: params, Adam, spectral vectors and rng unchanged");
    free(keep);
    free(m);
    free(sn);
    free(sn2);
    pp_discrim_free(&d);
}

int main(void)
{
    test_names();
    test_loss_derivatives();
    gradcheck(PP_DIV_JSD, PP_LIP_NONE);
    gradcheck(PP_DIV_RKL, PP_LIP_NONE);
    gradcheck(PP_DIV_WD, PP_LIP_SN);
    gradcheck(PP_DIV_HINGE, PP_LIP_SN);
    gradcheck(PP_DIV_WD, PP_LIP_GP);
    test_density_ratio(PP_DIV_JSD);
    test_density_ratio(PP_DIV_RKL);
    test_wasserstein(PP_LIP_SN, PP_DIV_WD);
    test_wasserstein(PP_LIP_GP, PP_DIV_WD);
    test_wasserstein(PP_LIP_SN, PP_DIV_HINGE);
    test_nan();
    return check_done();
}
