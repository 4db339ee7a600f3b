/* BRAC's KL dual critic (docs/algorithm.md section 15): the per-sample terms
 * of rl/kl_dual.h and their derivatives against float64 finite differences,
 * the whole loss (terms and one-sided action penalty) through the network
 * against float64 finite differences, a non-finite input leaving the state
 * as it was, and the estimate D after training on two Gaussians in action
 * space at a fixed state against the closed form of KL(pi || pi_beta).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "rl/dual.h"
#include "rl/kl_dual.h"
#include "ref_mlp.h"

/* ---- the terms, independently in double (moderate c only) ---- */
static double ref_term_p(double c) { return log(log1p(exp(c)) + 1e-8) + 1.0; }
static double ref_term_b(double c) { return -log1p(exp(c)); }

static void test_terms(void)
{
    const double cs[] = {-30, -12, -3, -0.5, 0, 0.7, 2, 5, 18, 40};
    const double h = 1e-5;
    double err_v = 0, err_p = 0, err_b = 0;
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        double c = cs[i], dp, db;
        double tp = pp_kl_dual_term_p(c, &dp), tb = pp_kl_dual_term_b(c, &db);
        if (fabs(c) < 30) { /* the naive reference is exact enough here */
            err_v = fmax(err_v, fabs(tp - ref_term_p(c)) / fmax(1, fabs(tp)));
            err_v = fmax(err_v, fabs(tb - ref_term_b(c)) / fmax(1, fabs(tb)));
        }
        double fp = (pp_kl_dual_term_p(c + h, NULL) - pp_kl_dual_term_p(c - h, NULL)) / (2 * h);
        double fb = (pp_kl_dual_term_b(c + h, NULL) - pp_kl_dual_term_b(c - h, NULL)) / (2 * h);
        err_p = fmax(err_p, fabs(dp - fp) / fmax(1, fabs(fp)));
        err_b = fmax(err_b, fabs(db - fb) / fmax(1, fabs(fb)));
    }
    printf("# terms: values %.3g, d term_p %.3g, d term_b %.3g (relative to max(1, |.|))\n", err_v, err_p,
           err_b);
    CHECK(err_v < 1e-12, "term_p = log(softrelu(c) + 1e-8) + 1 and term_b = -softrelu(c) (%.3g)", err_v);
    CHECK(err_p < 1e-6, "d term_p / dc matches float64 finite differences (%.3g)", err_p);
    CHECK(err_b < 1e-8, "d term_b / dc matches float64 finite differences (%.3g)", err_b);
    /* tight at g = ratio r: term_p = log(r) + 1, term_b = -r; large c does not overflow */
    double r = 2.5, c = log(expm1(r));
    CHECK_NEAR(pp_kl_dual_term_p(c, NULL), log(r + 1e-8) + 1, 1e-12, "term_p at softrelu(c) = r is log r + 1");
    CHECK_NEAR(pp_kl_dual_term_b(c, NULL), -r, 1e-12, "term_b at softrelu(c) = r is -r");
    CHECK(isfinite(pp_kl_dual_term_b(800, NULL)) && isfinite(pp_kl_dual_term_p(-800, NULL)),
          "no overflow at |c| = 800");
}

/* ---- the loss through the network ---- */
typedef struct {
    pp_dual *d;
    int B;
} loss_ctx;

static double ref_loss(const double *P, void *v)
{
    loss_ctx *k = v;
    pp_dual *d = k->d;
    int in = d->obs_dim + d->act_dim, B = k->B;
    double x[64], sp = 0, sb = 0;
    for (int b = 0; b < 2 * B; b++) {
        for (int j = 0; j < in; j++) x[j] = d->x[(size_t)b * in + j];
        double c = ref_mlp_scalar(&d->net, P, x, 0, NULL);
        if (b < B) sp += ref_term_p(c);
        else sb += ref_term_b(c);
    }
    double *xg = malloc((size_t)B * in * sizeof *xg);
    for (size_t i = 0; i < (size_t)B * in; i++) xg[i] = d->xgp[i];
    double gp = ref_penalty_cols(&d->net, P, xg, B, d->gp_weight, d->obs_dim, 1);
    free(xg);
    return -(sp + sb) / B + gp;
}

static void test_gradient(void)
{
    enum { O = 3, A = 2, B = 6 };
    pp_rng rng;
    pp_rng_seed(&rng, 21);
    pp_dual d;
    CHECK(pp_dual_init(&d, O, A, 8, 2, B, 1e-3f, 5.0f, &rng) == 0, "init: %s", pp_error());
    for (size_t i = 0; i < d.net.nparams; i++) d.params[i] *= 4.0f; /* action slopes either side of 1 */
    float obs[B * O], ap[B * A], ab[B * A];
    pp_rng_fill_normal_f32(&rng, obs, B * O);
    pp_rng_fill_normal_f32(&rng, ap, B * A);
    pp_rng_fill_normal_f32(&rng, ab, B * A);
    pp_dual_fill(&d, obs, ap, ab, B);
    int in = O + A;
    for (int b = 0; b < B; b++) { /* a~ = a_p + t (a_b - a_p), fixed t */
        float t = (b + 0.5f) / B;
        memcpy(d.xgp + b * in, obs + b * O, O * sizeof(float));
        for (int j = 0; j < A; j++) d.xgp[b * in + O + j] = ap[b * A + j] + t * (ab[b * A + j] - ap[b * A + j]);
    }
    pp_dual_stats st;
    double L = pp_dual_loss_grad(&d, B, &st);
    double *P = ref_to_double(d.params, d.net.nparams);
    loss_ctx k = {&d, B};
    double Lref = ref_loss(P, &k), worst;
    double rel = ref_grad_check(ref_loss, &k, P, d.net.nparams, d.grads, 1e-6, &worst);
    printf("# dual loss %.6g (float64 %.6g), estimate %.4g, gp %.4g; gradient relative error %.3g\n", L, Lref,
           st.estimate, st.gp, rel);
    CHECK(st.gp > 0, "the one-sided penalty is active on this batch (%.4g)", st.gp);
    CHECK_REL(L, Lref, 1e-5, "dual loss matches float64");
    CHECK(rel < 1e-4, "d loss / d params (terms + one-sided action penalty) matches float64 finite "
                      "differences (%.3g)", rel);
    CHECK_NEAR(st.loss, -st.estimate + st.gp, 1e-12, "loss = -estimate + gp");
    free(P);

    /* a NaN action: -1, and params, Adam, updates and rng as before */
    float *keep = pp_xalloc_f32(d.net.nparams);
    memcpy(keep, d.params, d.net.nparams * sizeof(float));
    ap[3] = NAN;
    pp_rng r0 = rng;
    long long t0 = d.adam.t;
    int rc = pp_dual_update(&d, obs, ap, ab, B, &rng, NULL);
    CHECK(rc == -1 && strstr(pp_error(), "not finite"), "a NaN action fails the update: %s", pp_error());
    CHECK(memcmp(keep, d.params, d.net.nparams * sizeof(float)) == 0 && d.adam.t == t0 && d.updates == 0 &&
              memcmp(&r0, &rng, sizeof rng) == 0,
          "after the failure: params, Adam, updates and rng unchanged");
    ap[3] = 0.1f;
    CHECK(pp_dual_update(&d, obs, ap, ab, B, &rng, NULL) == 0 && d.updates == 1, "then an update goes");
    CHECK(pp_dual_update(&d, obs, ap, ab, B + 1, &rng, NULL) == -1, "a batch over max_batch is refused");
    free(keep);
    pp_dual_free(&d);
}

/* ---- the estimate against the closed form ---- */
/* KL(N(m1, s1^2) || N(m2, s2^2)) */
static double kl_gauss(double m1, double s1, double m2, double s2)
{
    return log(s2 / s1) + (s1 * s1 + (m1 - m2) * (m1 - m2)) / (2 * s2 * s2) - 0.5;
}

static void draw(pp_rng *rng, float *a, int n, double m, double s)
{
    for (int i = 0; i < n; i++) a[i] = (float)(m + s * pp_rng_normal(rng));
}

/* Train the critic on fresh samples of pi = N(m1, s1^2) and pi_beta =
 * N(m2, s2^2) (1-D actions, sampled directly, no tanh) at one fixed state,
 * then D over N fresh pairs. */
static void test_closed_form(const char *name, double m1, double s1, double m2, double s2, float gp_weight,
                             double tol)
{
    enum { B = 256, ITERS = 3000, N = 256 * B };
    pp_rng rng;
    pp_rng_seed(&rng, 5);
    pp_dual d;
    pp_dual_init(&d, 1, 1, 64, 2, B, 1e-3f, gp_weight, &rng);
    float obs[B], ap[B], ab[B], per[B];
    for (int b = 0; b < B; b++) obs[b] = 0.5f;
    pp_dual_stats st;
    int ok = 1;
    for (int it = 0; it < ITERS && ok; it++) {
        draw(&rng, ap, B, m1, s1);
        draw(&rng, ab, B, m2, s2);
        ok = pp_dual_update(&d, obs, ap, ab, B, &rng, &st) == 0;
    }
    CHECK(ok, "%s: %d updates", name, ITERS);
    double s = 0, s2sum = 0;
    for (int k = 0; k < N / B; k++) {
        draw(&rng, ap, B, m1, s1);
        draw(&rng, ab, B, m2, s2);
        pp_dual_estimate(&d, obs, ap, ab, B, per);
        for (int b = 0; b < B; b++) {
            s += per[b];
            s2sum += (double)per[b] * per[b];
        }
    }
    double D = s / N, se = sqrt(fmax(s2sum / N - D * D, 0) / N), kl = kl_gauss(m1, s1, m2, s2);
    printf("# %s: estimate D %.4f +- %.4f (standard error), exact KL %.4f, gap %.4f; gp in the last "
           "update %.3g\n", name, D, se, kl, kl - D, st.gp);
    CHECK(fabs(D - kl) <= tol + 3 * se, "%s: D within %.3g + 3 se of the closed-form KL", name, tol);
    CHECK(D <= kl + 3 * se, "%s: D is a lower bound (within 3 se)", name);
    pp_dual_free(&d);
}

int main(void)
{
    test_terms();
    test_gradient();
    /* log pi/pi_beta has slope (m1 - m2)/s^2 = 0.6 in a: KL 0.18 */
    test_closed_form("equal widths, means 0.6 apart, no penalty", 0.6, 1.0, 0.0, 1.0, 0.0f, 0.02);
    test_closed_form("equal widths, means 0.6 apart, gp 5", 0.6, 1.0, 0.0, 1.0, 5.0f, 0.03);
    /* widths 0.8 and 1: KL 0.26, the log-ratio's slope 0.5 - 0.56 a */
    test_closed_form("widths 0.8 and 1, means 0.5 apart, gp 5", 0.5, 0.8, 0.0, 1.0, 5.0f, 0.03);
    return check_done();
}
