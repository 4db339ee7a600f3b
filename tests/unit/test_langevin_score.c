/* The Langevin score of a twin critic (pp_qscore): its gradient against
 * float64 finite differences of the u-space log-density, the BRAC prior's
 * score (its stationary law is pi_beta when Q is flat), and particles' Q
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
    test_q_rises();
    return check_done();
}
