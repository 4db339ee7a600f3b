/* The Langevin score of a twin critic (pp_qscore): its gradient against
 * float64 finite differences of the u-space log-density, the BRAC prior's
 * score (its stationary law is pi_beta when Q is flat, and with a Q
 * quadratic in the action the exact product density N(u; mu_b, sd_b)
 * exp(Q(tanh u)/alpha), by quadrature), and particles' Q
 * rising from u0 to uK on a critic net (the paper's Fig. 3b: more with more
 * steps and with a larger step size).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "rl/langevin.h"
#include "ref_mlp.h"

enum { O = 3, A = 2, H = 16 };

static void make_critic(pp_mlp *q, float **params, int max_batch, uint64_t seed)
{
    int hid[2] = {H, H};
    pp_mlp_init(q, O + A, 2, hid, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, max_batch);
    *params = pp_xalloc_f32(q->nparams);
    pp_rng r;
    pp_rng_seed(&r, seed);
    pp_mlp_init_params(q, *params, &r);
}

/* log p(u|s) up to a constant, in double: min_e Q_e(s, tanh u)/alpha plus
 * either sum log(1 - tanh^2 u) or, with the prior, log N(u; mu, sd). */
static double ref_logp(const pp_mlp *q, const double *P, const float *obs, const double *u,
                       double alpha, const float *mu, const float *sd, double *gap)
{
    double x[O + A];
    for (int i = 0; i < O; i++) x[i] = obs[i];
    for (int j = 0; j < A; j++) x[O + j] = tanh(u[j]);
    double q1 = ref_mlp_scalar(q, P, x, 0, NULL), q2 = ref_mlp_scalar(q, P, x, 1, NULL);
    if (gap) *gap = fabs(q1 - q2);
    double lp = fmin(q1, q2) / alpha;
    for (int j = 0; j < A; j++) {
        if (mu) lp += -0.5 * (u[j] - mu[j]) * (u[j] - mu[j]) / (sd[j] * sd[j]);
        else lp += -2.0 * log(cosh(u[j]));
    }
    return lp;
}

static void test_score_gradient(int with_prior)
{
    enum { B = 32 };
    pp_mlp q;
    float *P32;
    make_critic(&q, &P32, B, 3);
    pp_qscore s;
    CHECK(pp_qscore_init(&s, &q, O, A, B) == 0, "qscore init");
    float obs[B * O], u[B * A], g[B * A], mu[B * A], sd[B * A];
    pp_rng r;
    pp_rng_seed(&r, 4);
    pp_rng_fill_normal_f32(&r, obs, B * O);
    pp_rng_fill_normal_f32(&r, u, B * A);
    for (int i = 0; i < B * A; i++) {
        mu[i] = (float)(0.5 * pp_rng_normal(&r));
        sd[i] = (float)(0.3 + pp_rng_uniform(&r));
    }
    s.qparams = P32;
    s.alpha = 0.2;
    if (with_prior) s.prior_mu = mu, s.prior_std = sd;
    pp_qscore_set_obs(&s, obs, B);
    CHECK(pp_qscore_fn(&s, u, B, A, g) == 0, "score ran");
    double *P = calloc(q.nparams, sizeof *P);
    for (size_t i = 0; i < q.nparams; i++) P[i] = P32[i];
    double num = 0, den = 0;
    int used = 0, minq_ok = 1;
    for (int b = 0; b < B; b++) {
        double ub[A], gap;
        for (int j = 0; j < A; j++) ub[j] = u[b * A + j];
        const float *m = with_prior ? mu + b * A : NULL, *d = with_prior ? sd + b * A : NULL;
        double x[O + A];
        for (int i = 0; i < O; i++) x[i] = obs[b * O + i];
        for (int j = 0; j < A; j++) x[O + j] = tanh(ub[j]);
        double qmin = fmin(ref_mlp_scalar(&q, P, x, 0, NULL), ref_mlp_scalar(&q, P, x, 1, NULL));
        minq_ok &= fabs(qmin - s.qmin[b]) < 1e-5;
        ref_logp(&q, P, obs + b * O, ub, s.alpha, m, d, &gap);
        if (gap < 1e-3) continue; /* too close to the min's kink for differences */
        used++;
        for (int j = 0; j < A; j++) {
            double keep = ub[j], h = 1e-5;
            ub[j] = keep + h;
            double lp = ref_logp(&q, P, obs + b * O, ub, s.alpha, m, d, NULL);
            ub[j] = keep - h;
            double lm = ref_logp(&q, P, obs + b * O, ub, s.alpha, m, d, NULL);
            ub[j] = keep;
            double fd = (lp - lm) / (2 * h), an = g[b * A + j];
            num += (fd - an) * (fd - an);
            den += fd * fd;
        }
    }
    double rel = sqrt(num / den);
    printf("# score%s: relative error %.3g against float64 differences over %d of %d particles\n",
           with_prior ? " with prior" : "", rel, used, B);
    CHECK(minq_ok, "qmin is min(Q1, Q2) of the float64 net");
    CHECK(used > B / 2 && rel < 1e-4, "score%s = grad_u log p(u|s) (relative error %.3g)",
          with_prior ? " with the BRAC prior" : "", rel);
    pp_qscore_free(&s);
    pp_mlp_free(&q);
    free(P32);
    free(P);
}

/* With Q flat (last layer zeroed: Q = its bias) the prior target is
 * N(u; mu, sd) exactly: the -2 tanh u of the Jacobian must cancel. ULA on a
 * Gaussian is the AR(1) of test_langevin: stationary N(mu, sd^2/(1 - eps/(2 sd^2))).
 * Started from that law, the particles must keep it. Were the Jacobian term
 * left in, the law would be N(mu, sd) (1 - tanh^2 u), whose mean for
 * mu = 1.5, sd = 0.5 is about 1.17: 60 standard errors away. */
static void test_prior_stationary(void)
{
    enum { B = 4096, K = 400 };
    pp_mlp q;
    float *P;
    make_critic(&q, &P, B, 5);
    int last = q.nlayers - 1;
    for (size_t i = q.off_w[last]; i < q.off_b[last]; i++) P[i] = 0.0f;
    pp_qscore s;
    pp_qscore_init(&s, &q, O, A, B);
    float *obs = pp_xalloc_f32(B * O), *u = pp_xalloc_f32(B * A), *g = pp_xalloc_f32(B * A),
          *xi = pp_xalloc_f32(B * A), *mu = pp_xalloc_f32(B * A), *sd = pp_xalloc_f32(B * A);
    const float m0 = 1.5f, s0 = 0.5f, eps = 0.01f;
    double v_exact = s0 * s0 / (1 - eps / (2 * s0 * s0));
    pp_rng r;
    pp_rng_seed(&r, 6);
    pp_rng_fill_normal_f32(&r, obs, B * O);
    for (int i = 0; i < B * A; i++) {
        mu[i] = m0, sd[i] = s0;
        u[i] = (float)(m0 + sqrt(v_exact) * pp_rng_normal(&r));
    }
    s.qparams = P;
    s.alpha = 0.1;
    s.prior_mu = mu;
    s.prior_std = sd;
    pp_qscore_set_obs(&s, obs, B);
    int rc = pp_langevin_run(u, B, A, K, eps, pp_qscore_fn, &s, &r, g, xi);
    double sum = 0, sum2 = 0;
    for (int i = 0; i < B * A; i++) sum += u[i];
    double mean = sum / (B * A);
    for (int i = 0; i < B * A; i++) sum2 += (u[i] - mean) * (u[i] - mean);
    double var = sum2 / (B * A - 1), n = B * A;
    double se_m = sqrt(v_exact / n), se_v = v_exact * sqrt(2 / n);
    printf("# prior, flat Q: mean %.4f (want %.4f, se %.4f), var %.5f (want %.5f, se %.5f)\n", mean,
           m0, se_m, var, v_exact, se_v);
    CHECK(rc == 0 && fabs(mean - m0) < 5 * se_m && fabs(var - v_exact) < 5 * se_v,
          "BRAC prior with flat Q: particles keep pi_beta's law (Jacobian term cancelled)");
    pp_qscore_free(&s);
    pp_mlp_free(&q);
    float *bufs[] = {P, obs, u, g, xi, mu, sd};
    for (int i = 0; i < 7; i++) free(bufs[i]);
}

/* ---- The prior-weighted target against the exact product density ----
 *
 * docs/algorithm.md section 6: with the BRAC prior the u-space target is
 * exactly p(u) ∝ N(u; mu_b, sd_b) exp(Q(s, tanh u)/alpha). Here Q is quadratic
 * in the action, as exactly as a ReLU net can be: the piecewise-linear
 * interpolant of f(a) = -(a - QM)^2 / (2 QC) on NK + 1 evenly spaced knots of
 * [-1, 1], built from ReLUs (one hidden layer of NK units):
 *     Q(a) = f(-1) + s_0 relu(a + 1) + sum_{j=1}^{NK-1} (s_j - s_{j-1}) relu(a - x_j),
 * s_j the slope on [x_j, x_{j+1}]; it equals the interpolant for a in [-1, 1],
 * where tanh puts every action. The chain runs the library's own score
 * (pp_qscore_fn: the net's forward, the backward of the smaller twin, the
 * prior term) and sampler (pp_langevin_run); the reference is the density
 * of THAT net, evaluated in double from its float parameters (ref_mlp.h), so
 * it is exact for the Q the chain uses. Q2 = Q1 + 0.5, so min(Q1, Q2) = Q1. */
enum { PQ_NK = 32 };
static const double PQ_M = -0.3, PQ_C = 0.5, PQ_ALPHA = 0.5, PQ_MU = 1.5, PQ_SD = 0.5;

static double pq_f(double a) { return -(a - PQ_M) * (a - PQ_M) / (2 * PQ_C); }

/* The twin net [obs (1, ignored) | act (1)] -> NK ReLUs -> 1, Q2 = Q1 + 0.5. */
static float *pq_net(pp_mlp *q, int max_batch)
{
    enum { E = 2, W = PQ_NK };
    int hid[1] = {W};
    pp_mlp_init(q, 2, 1, hid, 1, E, PP_ACT_RELU, PP_ACT_LINEAR, 0, max_batch);
    float *P = calloc(q->nparams, sizeof *P);
    const double h = 2.0 / PQ_NK;
    double slope[PQ_NK];
    for (int j = 0; j < PQ_NK; j++) slope[j] = (pq_f(-1 + (j + 1) * h) - pq_f(-1 + j * h)) / h;
    for (int e = 0; e < E; e++) {
        for (int k = 0; k < W; k++) {
            /* layer 0: row 0 (obs) stays 0; row 1 (act) weight 1; knot -1 + k h */
            P[q->off_w[0] + 1 * (E * W) + e * W + k] = 1.0f;
            P[q->off_b[0] + e * W + k] = (float)(1 - k * h); /* exact: h = 1/16 */
            P[q->off_w[1] + e * W + k] = (float)(k == 0 ? slope[0] : slope[k] - slope[k - 1]);
        }
        P[q->off_b[1] + e] = (float)(pq_f(-1) + 0.5 * e);
    }
    return P;
}

/* log of the unnormalised target at u, in double from the net's parameters:
 * log N(u; mu, sd) + Q1(tanh u)/alpha, plus jac * log(1 - tanh^2 u) and
 * with qw = 0 without Q (the two wrong targets the test must tell apart). */
static double pq_logp(const pp_mlp *q, const double *P, double u, double qw, double jac)
{
    double x[2] = {0.0, tanh(u)};
    double lp = -0.5 * (u - PQ_MU) * (u - PQ_MU) / (PQ_SD * PQ_SD);
    if (qw != 0) lp += qw * ref_mlp_scalar(q, P, x, 0, NULL) / PQ_ALPHA;
    if (jac != 0) lp -= jac * 2.0 * log(cosh(u));
    return lp;
}

/* Mean and variance of u under exp(pq_logp) by composite Simpson, n
 * intervals on each piece between the kinks u_j = atanh(x_j) (the integrand
 * is smooth on each piece, so the error is O(h^4) there), on
 * [mu - 14 sd, mu + 14 sd]: Q is bounded (|Q|/alpha <= 3.4), so the tails
 * beyond hold less than e^(2 * 3.4 - 98) of the mass. */
static void pq_moments(const pp_mlp *q, const double *P, double qw, double jac, int n,
                       double *mean, double *var)
{
    const double lo = PQ_MU - 14 * PQ_SD, hi = PQ_MU + 14 * PQ_SD;
    double br[PQ_NK + 2];
    int nb = 0;
    br[nb++] = lo;
    for (int j = 1; j < PQ_NK; j++) {
        double uj = atanh(-1 + j * (2.0 / PQ_NK));
        if (uj > lo && uj < hi) br[nb++] = uj;
    }
    br[nb++] = hi;
    double ref = pq_logp(q, P, PQ_MU, qw, jac), z = 0, s1 = 0, s2 = 0;
    for (int p = 0; p + 1 < nb; p++) {
        double h = (br[p + 1] - br[p]) / n;
        for (int i = 0; i <= n; i++) {
            double u = br[p] + i * h, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
            double d = w * h / 3 * exp(pq_logp(q, P, u, qw, jac) - ref);
            z += d;
            s1 += d * u;
            s2 += d * u * u;
        }
    }
    *mean = s1 / z;
    *var = s2 / z - *mean * *mean;
}

static void test_prior_quadratic_q(void)
{
    enum { B = 2048, BURN = 1000, SNAPS = 6, GAP = 300 };
    const float eps = 2e-3f;
    pp_mlp q;
    float *P32 = pq_net(&q, B);
    double *P = malloc(q.nparams * sizeof *P);
    for (size_t i = 0; i < q.nparams; i++) P[i] = P32[i];

    /* the net is the interpolant: at the knots f, between them linear, and Q2 = Q1 + 0.5 */
    double worst = 0;
    for (int i = 0; i <= 4 * PQ_NK; i++) {
        double a = -1 + i * (2.0 / (4 * PQ_NK)), x[2] = {0, a};
        int j = i / 4 < PQ_NK ? i / 4 : PQ_NK - 1;
        double xl = -1 + j * (2.0 / PQ_NK), xr = xl + 2.0 / PQ_NK;
        double want = pq_f(xl) + (pq_f(xr) - pq_f(xl)) * (a - xl) / (xr - xl);
        worst = fmax(worst, fabs(ref_mlp_scalar(&q, P, x, 0, NULL) - want));
        worst = fmax(worst, fabs(ref_mlp_scalar(&q, P, x, 1, NULL) - 0.5 - want));
    }
    CHECK(worst < 1e-6, "the ReLU net is f's piecewise-linear interpolant (within %.1g: float weights)",
          worst);

    /* The exact moments, and the quadrature's own error: Simpson with n and
     * 2n intervals per piece differ by 15/16 of the n error (O(h^4)). */
    double qm, qv, qm2, qv2;
    pq_moments(&q, P, 1, 0, 400, &qm, &qv);
    pq_moments(&q, P, 1, 0, 800, &qm2, &qv2);
    double quad_err = fmax(fabs(qm - qm2), fabs(qv - qv2));
    printf("# prior x exp(Q/alpha): quadrature mean %.7f var %.7f (n vs 2n: %.1e)\n", qm2, qv2,
           quad_err);
    CHECK(quad_err < 1e-8, "quadrature converged (n vs 2n differ by %.1e)", quad_err);

    /* The chains: u0 ~ pi_beta as the stage starts them, one fixed seed. */
    pp_qscore s;
    CHECK(pp_qscore_init(&s, &q, 1, 1, B) == 0, "qscore init (obs 1, act 1)");
    float *obs = calloc(B, sizeof *obs), *u = pp_xalloc_f32(B), *g = pp_xalloc_f32(B),
          *xi = pp_xalloc_f32(B), *mu = pp_xalloc_f32(B), *sd = pp_xalloc_f32(B),
          *prev = pp_xalloc_f32(B);
    pp_rng r;
    pp_rng_seed(&r, 21);
    for (int b = 0; b < B; b++) {
        mu[b] = (float)PQ_MU, sd[b] = (float)PQ_SD;
        u[b] = (float)(PQ_MU + PQ_SD * pp_rng_normal(&r));
    }
    s.qparams = P32;
    s.alpha = PQ_ALPHA;
    s.prior_mu = mu;
    s.prior_std = sd;
    pp_qscore_set_obs(&s, obs, B);
    int rc = pp_langevin_run(u, B, 1, BURN, eps, pp_qscore_fn, &s, &r, g, xi);
    /* SNAPS snapshots GAP steps apart; moments over all B * SNAPS values, and
     * the correlation of a chain's u between consecutive snapshots */
    double s1 = 0, s2 = 0, s4 = 0, cross = 0, sa = 0, sb = 0;
    for (int k = 0; rc == 0 && k < SNAPS; k++) {
        memcpy(prev, u, B * sizeof *u);
        rc = pp_langevin_run(u, B, 1, GAP, eps, pp_qscore_fn, &s, &r, g, xi);
        for (int b = 0; b < B; b++) {
            s1 += u[b];
            s2 += (double)u[b] * u[b];
            if (k == 0) continue;
            cross += (double)u[b] * prev[b];
            sa += u[b];
            sb += prev[b];
        }
    }
    CHECK(rc == 0, "the chains ran %d steps", BURN + SNAPS * GAP);
    const double n = (double)B * SNAPS;
    double mean = s1 / n, var = (s2 - n * mean * mean) / (n - 1);
    for (int b = 0; b < B; b++) s4 += pow(u[b] - mean, 4) / B; /* the last snapshot's m4 */
    const double m = (double)B * (SNAPS - 1);
    double rho = (cross / m - (sa / m) * (sb / m)) / var;

    /* Tolerance = Monte Carlo + ULA's discretisation bias + quadrature.
     * - MC: B independent chains, SNAPS snapshots each, GAP eps = 0.6 time
     *   units apart. The snapshots of a chain are correlated (rho, measured
     *   between consecutive ones; the slowest relaxation rate is about the
     *   prior's precision 1/sd_b^2 = 4, so rho ~ e^-2.4 ~ 0.1): as an AR(1)
     *   series their mean's variance is inflated by at most
     *   (1 + rho)/(1 - rho), so n_eff = B SNAPS (1 - rho)/(1 + rho), and
     *   se(mean) = sqrt(var/n_eff), se(var) = sqrt((m4 - var^2)/n_eff).
     *   The burn-in (2 time units from pi_beta: e^-8 of the initial gap) is
     *   far below that.
     * - ULA: the stationary law is off by O(eps L) relative, L the score's
     *   Lipschitz constant (for a Gaussian of precision L, exactly
     *   var (1 + eps L / 2) and an unbiased mean: test_langevin.c). On each
     *   piece between kinks Q is linear, so
     *   |d/du g| = |-1/sd_b^2 - 2 sech^2 u tanh u Q'(tanh u)/alpha|
     *            <= 1/sd_b^2 + 2 (2/(3 sqrt 3)) max|Q'|/alpha
     *            = 4 + 0.77 * 2.6 / 0.5 = 8.0 = L
     *   (max|Q'| = max|f'| on [-1, 1] = 1.3/QC: the interpolant's slopes are
     *   f's chords), so eps L = 0.016: allow eps L var and eps L sqrt(var).
     *   At the 31 kinks Q' steps by h/QC = 0.125 (g by <= 0.25): the
     *   quadratic's curvature spread out, not a jump of the target; the
     *   target is continuous and the chain sees the smooth bias.
     * - quadrature: < 1e-8 (checked above); float rounding of the net's
     *   weights and of tanhf: exact for the net (the reference reads the
     *   same float weights), ~1e-7 for tanhf.
     * The test must see the prior: dropping the Jacobian cancellation
     * (target N exp(Q/alpha) sech^2 u) or the Q term (target N) moves the
     * mean by many tolerances (checked below); dropping the prior term
     * leaves exp(Q(tanh u)/alpha), not normalisable in u (the chains wander
     * off: mean -0.17, variance 7), and flipping its sign repels the chains
     * from mu_b without bound (mean -1e8). Each was tried by breaking
     * langevin_score.c by hand: each fails here, as does keeping the
     * Jacobian (mean 0.76 against 1.147, tolerance 0.05). */
    const double L = 1 / (PQ_SD * PQ_SD) + 2 * (2 / (3 * sqrt(3.0))) * (1 + fabs(PQ_M)) / PQ_C / PQ_ALPHA;
    const double rc_ = fmin(fmax(rho, 0), 0.99);
    double n_eff = n * (1 - rc_) / (1 + rc_);
    double se_m = sqrt(var / n_eff), se_v = sqrt((s4 - var * var) / n_eff);
    double tol_m = 4 * se_m + eps * L * sqrt(qv2) + 1e-8, tol_v = 4 * se_v + eps * L * qv2 + 1e-8;
    printf("# prior x exp(Q/alpha), %d chains x %d snapshots (rho %.3f, n_eff %.0f), eps %g, "
           "L %.2f:\n#   mean %.5f (exact %.5f, tol %.5f = 4 se %.5f + bias %.5f)\n"
           "#   var %.5f (exact %.5f, tol %.5f = 4 se %.5f + bias %.5f)\n",
           B, SNAPS, rho, n_eff, (double)eps, L, mean, qm2, tol_m, 4 * se_m, eps * L * sqrt(qv2),
           var, qv2, tol_v, 4 * se_v, eps * L * qv2);
    CHECK(rho < 0.5, "snapshots %d steps apart are nearly independent (rho %.3f)", GAP, rho);
    CHECK_NEAR(mean, qm2, tol_m, "prior-weighted Langevin: mean of u_K = the product density's");
    CHECK_NEAR(var, qv2, tol_v, "prior-weighted Langevin: variance of u_K = the product density's");
    double jm, jv, nm, nv;
    pq_moments(&q, P, 1, 1, 800, &jm, &jv); /* Jacobian not cancelled */
    pq_moments(&q, P, 0, 0, 800, &nm, &nv); /* Q ignored: pi_beta alone */
    printf("# wrong targets: Jacobian kept: mean %.4f var %.4f; Q ignored: mean %.4f var %.4f\n",
           jm, jv, nm, nv);
    CHECK(fabs(jm - qm2) > 5 * tol_m && fabs(nm - qm2) > 5 * tol_m,
          "the test tells the target from a kept Jacobian (%.1f tol away) or a lost Q (%.1f tol)",
          fabs(jm - qm2) / tol_m, fabs(nm - qm2) / tol_m);
    pp_qscore_free(&s);
    pp_mlp_free(&q);
    float *bufs[] = {P32, obs, u, g, xi, mu, sd, prev};
    for (int i = 0; i < 8; i++) free(bufs[i]);
    free(P);
}

/* Fig. 3b: mean Q of particles rises from u0 to uK; more with more steps
 * and with a larger step. Same start and the same noise stream each time. */
static double q_gain(pp_qscore *s, const float *u0, int B, int K, float eps, double *se)
{
    float *u = pp_xalloc_f32(B * A), *g = pp_xalloc_f32(B * A), *xi = pp_xalloc_f32(B * A),
          *q0 = pp_xalloc_f32(B), *qK = pp_xalloc_f32(B);
    memcpy(u, u0, sizeof(float) * B * A);
    pp_rng r;
    pp_rng_seed(&r, 77);
    pp_qscore_eval(s, u, q0);
    pp_langevin_run(u, B, A, K, eps, pp_qscore_fn, s, &r, g, xi);
    pp_qscore_eval(s, u, qK);
    double m = 0, m2 = 0;
    for (int b = 0; b < B; b++) m += (qK[b] - q0[b]) / B;
    for (int b = 0; b < B; b++) m2 += (qK[b] - q0[b] - m) * (qK[b] - q0[b] - m) / (B - 1);
    *se = sqrt(m2 / B);
    float *bufs[] = {u, g, xi, q0, qK};
    for (int i = 0; i < 5; i++) free(bufs[i]);
    return m;
}

static void test_q_rises(void)
{
    /* Per particle the drift's gain eps K |grad_u Q|^2 / alpha is small beside the
     * noise's sqrt(2 eps K) |grad Q| at the paper's K = 5, eps = 3e-4, so
     * the mean over many particles is what rises (as in Fig. 3b's curves). */
    enum { B = 2048 };
    pp_mlp q;
    float *P;
    make_critic(&q, &P, B, 8);
    /* scale the output layer so Q has the slopes of a trained critic (tens of
     * units per unit of action, as in MuJoCo returns) rather than a fresh
     * net's ~0.1 */
    int last = q.nlayers - 1;
    for (size_t i = q.off_w[last]; i < q.nparams; i++) P[i] *= 30.0f;
    pp_qscore s;
    pp_qscore_init(&s, &q, O, A, B);
    static float obs[B * O], u0[B * A];
    pp_rng r;
    pp_rng_seed(&r, 9);
    pp_rng_fill_normal_f32(&r, obs, B * O);
    pp_rng_fill_normal_f32(&r, u0, B * A);
    s.qparams = P;
    s.alpha = 0.2;
    pp_qscore_set_obs(&s, obs, B);
    double se1, se2, se3;
    double g1 = q_gain(&s, u0, B, 5, 3e-4f, &se1);   /* the paper's defaults */
    double g2 = q_gain(&s, u0, B, 20, 3e-4f, &se2);  /* more steps */
    double g3 = q_gain(&s, u0, B, 20, 1e-3f, &se3);  /* and a larger step */
    printf("# mean Q gain qK - q0: K=5 eps=3e-4: %.5f (se %.5f); K=20: %.5f (se %.5f); K=20 "
           "eps=1e-3: %.5f (se %.5f)\n",
           g1, se1, g2, se2, g3, se3);
    CHECK(g1 > 3 * se1, "K=5, eps=3e-4: particles' mean Q rises (%.5f > 3 se)", g1);
    CHECK(g2 > g1 && g3 > g2, "the rise grows with K and with eps (Fig. 3b)");
    pp_qscore_free(&s);
    pp_mlp_free(&q);
    free(P);
}

int main(void)
{
    test_score_gradient(0);
    test_score_gradient(1);
    test_prior_stationary();
    test_prior_quadratic_q();
    test_q_rises();
    return check_done();
}
