/* test_policy_bc.c - the offline policy losses (docs/algorithm.md section 14):
 * behaviour cloning's negative log-likelihood and BRAC's actor loss, their
 * gradients against float64 central finite differences (ref_mlp.h), the BC
 * value against a direct float64 computation, and a learning check: BC on
 * actions of a fixed linear Gaussian recovers its mean and spread. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "base/rng.h"
#include "nn/adam.h"
#include "rl/policy.h"
#include "rl/policy_loss.h"
#include "ref_mlp.h"

enum { O = 3, A = 2, H = 8, NL = 2, B = 6 };
static const double CLIP = 1e-3;

static void fill_normal(pp_rng *r, float *x, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(scale * pp_rng_normal(r));
}

/* ---- behaviour cloning ---- */

typedef struct {
    const pp_mlp *net;
    double *obs, *act;
} bc_ctx;

/* log pi(a_b|s_b) in double: each a clipped, u = atanh a,
 * sum_i log N(u; mu, sigma) - log(1 - tanh(u)^2) (the stable form). */
static void ref_bc_logp(const pp_mlp *net, const double *p, const double *obs, const double *act,
                        double *logp)
{
    double out[B * 2 * A];
    ref_mlp_forward(net, p, obs, B, out);
    for (int b = 0; b < B; b++) {
        double lp = 0;
        for (int i = 0; i < A; i++) {
            double mu = out[b * 2 * A + i], ls = out[b * 2 * A + A + i];
            ls = ls < -20 ? -20 : (ls > 2 ? 2 : ls);
            double a = fmin(fmax(act[b * A + i], -(1 - CLIP)), 1 - CLIP), u = atanh(a);
            double z = (u - mu) / exp(ls);
            lp += -0.5 * z * z - ls - 0.5 * log(2 * M_PI) - ref_log1m_tanh2(u);
        }
        logp[b] = lp;
    }
}

static double ref_bc_loss(const double *p, void *vctx)
{
    bc_ctx *c = vctx;
    double logp[B], s = 0;
    ref_bc_logp(c->net, p, c->obs, c->act, logp);
    for (int b = 0; b < B; b++) s += logp[b];
    return -s / B;
}

/* clamp_head: push dimension 0's raw log_std far above the clamp (bias 10),
 * so its gradient must be 0 as in sampling, and finite differences agree. */
static void test_bc(int clamp_head)
{
    const char *name = clamp_head ? "bc (log_std clamped on dim 0)" : "bc";
    pp_rng r;
    pp_rng_seed(&r, 90 + clamp_head);
    pp_policy pi;
    pp_policy_init(&pi, O, A, H, NL, B);
    float *p = pp_xalloc_f32(pi.nparams), *g = pp_xalloc_f32(pi.nparams), obs[B * O], act[B * A];
    pp_policy_init_params(&pi, p, &r);
    if (clamp_head) p[pi.net.off_b[NL] + A + 0] = 10.0f;
    fill_normal(&r, obs, B * O, 1.0);
    for (int k = 0; k < B * A; k++) act[k] = (float)tanh(pp_rng_normal(&r));
    /* actions at and beyond the ends: clipped to 1 - c (and one just inside) */
    act[0] = 1.0f;
    act[1] = -1.0f;
    act[2] = 0.99999f;
    act[3] = -1.5f;
    act[4] = 0.998f;
    act[5] = -0.9985f;
    pp_policy_work w;
    pp_policy_work_init(&w, O, A, B, B, 0);
    memset(g, 0, sizeof(float) * pi.nparams);
    double mlogp = 0;
    double J = pp_policy_loss_bc(&pi, p, obs, act, B, CLIP, &w, g, &mlogp);
    bc_ctx c = {&pi.net, ref_to_double(obs, B * O), ref_to_double(act, B * A)};
    double *dp = ref_to_double(p, pi.nparams);
    double Jref = ref_bc_loss(dp, &c);
    CHECK_NEAR(J, Jref, 1e-5 * (1 + fabs(Jref)), "%s: loss vs float64 (%.6f)", name, Jref);
    CHECK_NEAR(mlogp, -J, 1e-12, "%s: bc_logp is minus the loss", name);

    /* the value once more, written directly: -log N(atanh a) + log(1 - a^2) */
    double out[B * 2 * A], direct = 0;
    ref_mlp_forward(&pi.net, dp, c.obs, B, out);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < A; i++) {
            double a = fmin(fmax(c.act[b * A + i], -(1 - CLIP)), 1 - CLIP);
            double mu = out[b * 2 * A + i], ls = fmin(fmax(out[b * 2 * A + A + i], -20), 2);
            double sd = exp(ls), u = 0.5 * log((1 + a) / (1 - a));
            double logn = -0.5 * (u - mu) * (u - mu) / (sd * sd) - log(sd) - 0.5 * log(2 * M_PI);
            direct += -(logn - log(1 - a * a)) / B;
        }
    CHECK_NEAR(J, direct, 1e-5 * (1 + fabs(direct)),
               "%s: loss = mean -log N(atanh a; mu, sigma) + log(1 - a^2) (%.6f)", name, direct);
    double worst, rel = ref_grad_check(ref_bc_loss, &c, dp, pi.nparams, g, 1e-6, &worst);
    printf("# %s: gradient relative error %.3g (worst coordinate %.3g)\n", name, rel, worst);
    CHECK(rel < 1e-4, "%s: gradient vs float64 finite differences (%.2g)", name, rel);
    if (clamp_head) {
        /* the clamped head's bias and weights get nothing */
        size_t col = A + 0, zero = 1;
        int in = pi.net.width[NL], outw = pi.net.width[NL + 1];
        if (g[pi.net.off_b[NL] + col] != 0.0f) zero = 0;
        for (int i = 0; i < in; i++)
            if (g[pi.net.off_w[NL] + (size_t)i * outw + col] != 0.0f) zero = 0;
        CHECK(zero, "%s: no gradient through a clamped log_std", name);
    }
    free(c.obs);
    free(c.act);
    free(dp);
    free(p);
    free(g);
    pp_policy_work_free(&w);
    pp_policy_free(&pi);
}

/* ---- BRAC's actor ---- */

typedef struct {
    const pp_mlp *pi_net, *q, *dual;
    double *obs, *eps, *qp, *cp;
    double alpha, alpha_v;
} brac_ctx;

/* term_p(c) = log(softrelu(c) + 1e-8) + 1, written out in double */
static double ref_term_p(double c) { return log(log1p(exp(c)) + 1e-8) + 1; }

static double ref_brac(const double *p, void *vctx, double *qmean, double *dterm)
{
    brac_ctx *c = vctx;
    double a[B * A], logp[B], x[B * (O + A)], qo[B * 2], co[B], J = 0, qs = 0, ds = 0;
    ref_policy(c->pi_net, p, c->obs, c->eps, B, A, a, NULL, logp);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < O; i++) x[b * (O + A) + i] = c->obs[b * O + i];
        for (int i = 0; i < A; i++) x[b * (O + A) + O + i] = a[b * A + i];
    }
    ref_mlp_forward(c->q, c->qp, x, B, qo);
    ref_mlp_forward(c->dual, c->cp, x, B, co);
    for (int b = 0; b < B; b++) {
        double mq = fmin(qo[2 * b], qo[2 * b + 1]), t = c->alpha_v * ref_term_p(co[b]);
        J += c->alpha * logp[b] + t - mq;
        qs += mq;
        ds += t;
    }
    if (qmean) *qmean = qs / B;
    if (dterm) *dterm = ds / B;
    return J / B;
}

static double ref_brac_loss(const double *p, void *vctx) { return ref_brac(p, vctx, NULL, NULL); }

static void test_brac(double alpha)
{
    pp_rng r;
    pp_rng_seed(&r, alpha > 0 ? 100 : 101);
    pp_policy pi;
    pp_policy_init(&pi, O, A, H, NL, B);
    pp_mlp q, dual;
    int widths[2] = {16, 16};
    pp_mlp_init(&q, O + A, 2, widths, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, B);
    pp_mlp_init(&dual, O + A, 2, widths, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, B);
    float *p = pp_xalloc_f32(pi.nparams), *g = pp_xalloc_f32(pi.nparams),
          *qp = pp_xalloc_f32(q.nparams), *cp = pp_xalloc_f32(dual.nparams), obs[B * O],
          eps[B * A];
    pp_policy_init_params(&pi, p, &r);
    pp_mlp_init_params(&q, qp, &r);
    pp_mlp_init_params(&dual, cp, &r);
    /* larger weights so Q and c depend visibly on a */
    for (size_t k = 0; k < q.nparams; k++) qp[k] *= 2.0f;
    for (size_t k = 0; k < dual.nparams; k++) cp[k] *= 2.0f;
    fill_normal(&r, obs, B * O, 1.0);
    fill_normal(&r, eps, B * A, 1.0);
    pp_policy_work w;
    pp_policy_work_init(&w, O, A, B, B, 0);
    pp_policy_sample_eps(&pi, p, obs, B, eps);
    memset(g, 0, sizeof(float) * pi.nparams);
    const double alpha_v = 0.7;
    double qmean, dterm;
    double J = pp_policy_loss_brac(&pi, p, obs, B, alpha, alpha_v, &q, qp, &dual, cp, &w, g,
                                   &qmean, &dterm);
    brac_ctx c = {&pi.net, &q, &dual, ref_to_double(obs, B * O), ref_to_double(eps, B * A),
                  ref_to_double(qp, q.nparams), ref_to_double(cp, dual.nparams), alpha, alpha_v};
    double *dp = ref_to_double(p, pi.nparams), qref, dref;
    double Jref = ref_brac(dp, &c, &qref, &dref);
    CHECK_NEAR(J, Jref, 1e-5 * (1 + fabs(Jref)), "brac alpha %g: loss vs float64 (%.6f)", alpha,
               Jref);
    CHECK_NEAR(qmean, qref, 1e-5 * (1 + fabs(qref)), "brac alpha %g: q_mean (%.6f)", alpha, qref);
    CHECK_NEAR(dterm, dref, 1e-5 * (1 + fabs(dref)),
               "brac alpha %g: dual_term = mean alpha_v term_p (%.6f)", alpha, dref);
    double worst, rel = ref_grad_check(ref_brac_loss, &c, dp, pi.nparams, g, 1e-6, &worst);
    printf("# brac alpha %g: gradient relative error %.3g (worst coordinate %.3g)\n", alpha, rel,
           worst);
    CHECK(rel < 1e-4, "brac alpha %g: gradient vs float64 finite differences (%.2g)", alpha, rel);
    free(c.obs);
    free(c.eps);
    free(c.qp);
    free(c.cp);
    free(dp);
    free(p);
    free(g);
    free(qp);
    free(cp);
    pp_policy_work_free(&w);
    pp_mlp_free(&q);
    pp_mlp_free(&dual);
    pp_policy_free(&pi);
}

/* ---- learning: BC recovers a linear Gaussian behaviour ---- */

/* a = tanh(W s + SIG n), s ~ N(0, I), n ~ N(0, I). After BC, mu(s) should be
 * W s and sigma SIG on fresh states. The mean squared error of mu is compared
 * with the variance of W s itself (what a policy that learned nothing of s
 * scores); sigma within 25% of SIG. */
static void test_bc_learns(void)
{
    enum { LB = 128, STEPS = 3000, NT = 256 };
    const double W[A][O] = {{0.8, -0.5, 0.3}, {-0.2, 0.6, 0.7}}, SIG = 0.3;
    pp_rng r;
    pp_rng_seed(&r, 110);
    pp_policy pi;
    pp_policy_init(&pi, O, A, 32, 2, NT);
    float *p = pp_xalloc_f32(pi.nparams), *g = pp_xalloc_f32(pi.nparams);
    static float obs[NT * O], act[NT * A];
    pp_policy_init_params(&pi, p, &r);
    pp_adam adam;
    pp_adam_init(&adam, pi.nparams, 1e-3f);
    pp_policy_work w;
    pp_policy_work_init(&w, O, A, NT, NT, 0);
    double first = 0, last = 0, mlogp = 0;
    for (int t = 0; t < STEPS; t++) {
        fill_normal(&r, obs, LB * O, 1.0);
        for (int b = 0; b < LB; b++)
            for (int i = 0; i < A; i++) {
                double m = 0;
                for (int j = 0; j < O; j++) m += W[i][j] * obs[b * O + j];
                act[b * A + i] = (float)tanh(m + SIG * pp_rng_normal(&r));
            }
        memset(g, 0, sizeof(float) * pi.nparams);
        pp_policy_loss_bc(&pi, p, obs, act, LB, CLIP, &w, g, &mlogp);
        pp_adam_step(&adam, p, g);
        if (t == 0) first = mlogp;
        last = mlogp;
    }
    fill_normal(&r, obs, NT * O, 1.0);
    pp_policy_mean(&pi, p, obs, NT);
    double se = 0, var = 0, sd = 0;
    for (int b = 0; b < NT; b++)
        for (int i = 0; i < A; i++) {
            double m = 0;
            for (int j = 0; j < O; j++) m += W[i][j] * obs[b * O + j];
            se += (pi.mu[b * A + i] - m) * (pi.mu[b * A + i] - m);
            var += m * m;
            sd += pi.std[b * A + i];
        }
    se /= NT * A;
    var /= NT * A;
    sd /= NT * A;
    printf("# bc learning: bc_logp %.3f -> %.3f, mean squared error of mu %.4f (variance of W s "
           "%.3f), mean sigma %.3f (generator %.2f)\n", first, last, se, var, sd, SIG);
    CHECK(last > first + 1.0, "bc: the log-likelihood of the batch rises (%.3f -> %.3f)", first,
          last);
    CHECK(se < 0.02 * var, "bc: mu(s) close to the generator's W s (mse %.4f, var %.3f)", se, var);
    CHECK(fabs(sd - SIG) < 0.25 * SIG, "bc: sigma close to the generator's %.2f (%.3f)", SIG, sd);
    free(p);
    free(g);
    pp_adam_free(&adam);
    pp_policy_work_free(&w);
    pp_policy_free(&pi);
}

int main(void)
{
    test_bc(0);
    test_bc(1);
    test_brac(0.2);
    test_brac(0.0);
    test_bc_learns();
    return check_done();
}
