/* test_policy_losses.c - gradients of the ParPI and SAC policy losses, the SVGD
 * direction and update, and the temperature, against float64 references. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "rl/policy.h"
#include "rl/policy_implicit.h"
#include "rl/policy_loss.h"
#include "ref_mlp.h"
#include "base/rng.h"
#include "rl/svgd.h"
#include "rl/temperature.h"

enum { O = 3, A = 2, H = 8, NL = 2, B = 5 };
static const double ALPHA = 0.2;

static void fill_normal(pp_rng *r, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)pp_rng_normal(r);
}

/* ---- ParPI and SAC losses through a frozen net ---- */
typedef struct {
    const pp_mlp *pi_net, *net;
    double *obs, *eps, *net_params;
    int kind; /* 0 jsd, 1 wd, 2 sac, 3 wd with a behaviour policy's term */
    const float *prior_mu, *prior_sd; /* kind 3: pi_beta's u-space Gaussian [B, A] */
} loss_ctx;

static double ref_loss(const double *p, void *vctx)
{
    loss_ctx *c = vctx;
    double a[B * A], u[B * A], logp[B], x[B * (O + A)], out[B * 2], J = 0;
    ref_policy(c->pi_net, p, c->obs, c->eps, B, A, a, u, logp);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < O; i++) x[b * (O + A) + i] = c->obs[b * O + i];
        for (int i = 0; i < A; i++) x[b * (O + A) + O + i] = a[b * A + i];
    }
    ref_mlp_forward(c->net, c->net_params, x, B, out);
    for (int b = 0; b < B; b++) {
        J += ALPHA * logp[b];
        if (c->kind == 0) J += log1p(exp(-out[b]));        /* -log sig(f) */
        else if (c->kind == 1 || c->kind == 3) J -= out[b]; /* -f */
        else J -= fmin(out[2 * b], out[2 * b + 1]);       /* -min Q */
        if (c->kind == 3) /* - alpha log pi_beta(tanh u): N(u; mu_b, sd_b) over the Jacobian */
            for (int i = 0; i < A; i++) {
                double m = c->prior_mu[b * A + i], sd = c->prior_sd[b * A + i], z = (u[b * A + i] - m) / sd;
                J -= ALPHA * (-0.5 * z * z - log(sd) - 0.5 * log(2 * M_PI) - ref_log1m_tanh2(u[b * A + i]));
            }
    }
    return J / B;
}

static void test_loss_grads(void)
{
    const char *names[] = {"parpi jsd", "parpi wd", "sac", "parpi wd with pi_beta"};
    for (int kind = 0; kind < 4; kind++) {
        pp_rng r;
        pp_rng_seed(&r, 60 + kind);
        pp_policy pi;
        pp_policy_init(&pi, O, A, H, NL, B);
        pp_mlp net;
        int widths[3] = {16, 16, 16};
        int members = kind == 2 ? 2 : 1, nl = kind == 2 ? 3 : 2;
        pp_mlp_init(&net, O + A, nl, widths, 1, members, PP_ACT_RELU, PP_ACT_LINEAR, 0, B);
        float *pp_ = pp_xalloc_f32(pi.nparams), *g = pp_xalloc_f32(pi.nparams),
              *np_ = pp_xalloc_f32(net.nparams), obs[B * O], eps[B * A];
        pp_policy_init_params(&pi, pp_, &r);
        pp_mlp_init_params(&net, np_, &r);
        /* larger output weights so f and Q depend visibly on a */
        for (size_t k = 0; k < net.nparams; k++) np_[k] *= 2.0f;
        fill_normal(&r, obs, B * O);
        fill_normal(&r, eps, B * A);
        pp_policy_work w;
        pp_policy_work_init(&w, O, A, B, B, 0);
        pp_policy_sample_eps(&pi, pp_, obs, B, eps);
        double extra, J, mlogb = 0.0;
        float pmu[B * A], psd[B * A]; /* pi_beta at the states: means and spreads in u */
        for (int k = 0; k < B * A; k++) {
            pmu[k] = (float)(0.5 * pp_rng_normal(&r));
            psd[k] = (float)(0.3 + 0.5 * pp_rng_uniform(&r));
        }
        if (kind != 2)
            J = pp_policy_loss_parpi(&pi, pp_, obs, B, ALPHA, &net, np_,
                                     kind == 0 ? PP_PDIV_JSD : PP_PDIV_WD, kind == 3 ? pmu : NULL,
                                     kind == 3 ? psd : NULL, &w, g, &extra, &mlogb);
        else
            J = pp_policy_loss_sac(&pi, pp_, obs, B, ALPHA, &net, np_, &w, g, &extra);
        loss_ctx c = {&pi.net, &net, ref_to_double(obs, B * O), ref_to_double(eps, B * A),
                      ref_to_double(np_, net.nparams), kind, pmu, psd};
        double *dp = ref_to_double(pp_, pi.nparams);
        double Jref = ref_loss(dp, &c);
        CHECK_NEAR(J, Jref, 1e-5 * (1 + fabs(Jref)), "%s: loss value vs float64 (%.6f)", names[kind],
                   Jref);
        double worst, rel = ref_grad_check(ref_loss, &c, dp, pi.nparams, g, 1e-6, &worst);
        printf("# %s: gradient relative error %.3g (worst coordinate %.3g)\n", names[kind], rel,
               worst);
        CHECK(rel < 1e-4, "%s: policy gradient vs float64 finite differences (%.2g)", names[kind],
              rel);
        free(c.obs);
        free(c.eps);
        free(c.net_params);
        free(dp);
        free(pp_);
        free(g);
        free(np_);
        pp_policy_work_free(&w);
        pp_mlp_free(&net);
        pp_policy_free(&pi);
    }
}

/* ---- SVGD ---- */

/* Direct double computation of softqlearning's direction. */
static double ref_direction(const double *a, const double *g, int Mf, int Mu, int d, double *delta)
{
    int n = Mf * Mu;
    double *dist = malloc(sizeof(double) * n), *sorted = malloc(sizeof(double) * n);
    for (int j = 0; j < Mf; j++)
        for (int i = 0; i < Mu; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                double df = a[j * d + k] - a[(Mf + i) * d + k];
                s += df * df;
            }
            dist[j * Mu + i] = s;
        }
    /* top_k(k = n/2 + 1) then the last: sort descending, take index n/2 */
    memcpy(sorted, dist, sizeof(double) * n);
    for (int x = 0; x < n; x++)
        for (int y = x + 1; y < n; y++)
            if (sorted[y] > sorted[x]) {
                double t = sorted[x];
                sorted[x] = sorted[y];
                sorted[y] = t;
            }
    double h = fmax(sorted[n / 2] / log((double)Mf), 1e-3);
    for (int i = 0; i < Mu; i++)
        for (int k = 0; k < d; k++) {
            double s = 0;
            for (int j = 0; j < Mf; j++) {
                double kap = exp(-dist[j * Mu + i] / h);
                s += kap * g[j * d + k] + (-2.0 / h) * (a[j * d + k] - a[(Mf + i) * d + k]) * kap;
            }
            delta[i * d + k] = s / Mf;
        }
    free(dist);
    free(sorted);
    return h;
}

static void test_svgd_direction(void)
{
    enum { Mf = 4, Mu = 3, d = 2 };
    pp_rng r;
    pp_rng_seed(&r, 70);
    float a[(Mf + Mu) * d], g[Mf * d], scratch[2 * Mf * Mu], delta[Mu * d];
    for (int k = 0; k < (Mf + Mu) * d; k++) a[k] = (float)(0.6 * pp_rng_normal(&r));
    fill_normal(&r, g, Mf * d);
    double h = pp_svgd_direction(a, g, Mf, Mu, d, scratch, delta);
    double *da = ref_to_double(a, (Mf + Mu) * d), *dg = ref_to_double(g, Mf * d), dd[Mu * d];
    double href = ref_direction(da, dg, Mf, Mu, d, dd), worst = 0;
    for (int k = 0; k < Mu * d; k++) worst = fmax(worst, fabs(dd[k] - delta[k]));
    printf("# svgd: h %.6f (ref %.6f), direction max abs error %.3g\n", h, href, worst);
    CHECK_NEAR(h, href, 1e-6 * href, "SVGD bandwidth = median / log(M_fixed) as softqlearning");
    CHECK(worst < 1e-5, "SVGD direction vs a direct float64 computation (%.2g)", worst);
    /* a repulsive-only check: g = 0, three particles on a line: updated particle pushed away from fixed ones */
    float a2[3 * 2] = {0.0f, 0.0f, -0.1f, 0.0f, 0.1f, 0.0f}, g2[4] = {0, 0, 0, 0}, s2[4], d2[2];
    pp_svgd_direction(a2, g2, 2, 1, 2, s2, d2);
    CHECK(d2[0] > 0 && d2[1] == 0, "kernel gradient repels the updated particle (%.3g, %.3g)",
          d2[0], d2[1]);
    free(da);
    free(dg);
}

/* pp_policy_svgd end to end: grads = -mean_i Delta a_i . da_i/dphi, Delta a from
 * float64 Q gradients (central differences) and the float64 direction. */
typedef struct {
    const pp_mlp *net;
    double *obs, *xi, *delta; /* delta [S*M, d], zero on fixed rows */
    int S, M;
} surr_ctx;

static void ref_implicit_actions(const pp_mlp *net, const double *p, const double *obs,
                                 const double *xi, int S, int M, double *a)
{
    int R = S * M, W = O + A;
    double *in = calloc((size_t)R * W, sizeof(double)), *out = calloc((size_t)R * A, sizeof(double));
    for (int rr = 0; rr < R; rr++) {
        memcpy(in + rr * W, obs + (rr / M) * O, sizeof(double) * O);
        memcpy(in + rr * W + O, xi + rr * A, sizeof(double) * A);
    }
    ref_mlp_forward(net, p, in, R, out);
    for (int k = 0; k < R * A; k++) a[k] = tanh(out[k]);
    free(in);
    free(out);
}

static double surrogate(const double *p, void *vctx)
{
    surr_ctx *c = vctx;
    int R = c->S * c->M, Mu = c->M / 2;
    double *a = malloc(sizeof(double) * R * A), s = 0;
    ref_implicit_actions(c->net, p, c->obs, c->xi, c->S, c->M, a);
    for (int k = 0; k < R * A; k++) s += c->delta[k] * a[k];
    free(a);
    return -s / ((double)c->S * Mu);
}

static double ref_minq(const pp_mlp *q, const double *qp, const double *obs, const double *a)
{
    double x[O + A], out[2] = {0}; /* {0}: gcc cannot see through the inlined reference */
    memcpy(x, obs, sizeof(double) * O);
    memcpy(x + O, a, sizeof(double) * A);
    ref_mlp_forward(q, qp, x, 1, out);
    return fmin(out[0], out[1]);
}

static void test_svgd_update(int squash)
{
    enum { S = 2, M = 6 };
    const int Mf = M - M / 2, Mu = M / 2;
    pp_rng r;
    pp_rng_seed(&r, 80 + squash);
    pp_policy_implicit pi;
    pp_implicit_init(&pi, O, A, H, NL, S * M);
    pp_mlp q;
    int widths[2] = {16, 16};
    pp_mlp_init(&q, O + A, 2, widths, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, S * Mf);
    float *p = pp_xalloc_f32(pi.nparams), *g = pp_xalloc_f32(pi.nparams),
          *qp = pp_xalloc_f32(q.nparams), obs[S * O];
    pp_implicit_init_params(&pi, p, &r);
    pp_mlp_init_params(&q, qp, &r);
    fill_normal(&r, obs, S * O);
    pp_policy_work w;
    pp_policy_work_init(&w, O, A, S * Mf, S * M, Mf * Mu);
    pp_implicit_sample(&pi, p, obs, S, M, &r);
    double qmean, hmean, dnorm;
    pp_policy_svgd(&pi, p, obs, S, M, ALPHA, squash, &q, qp, &w, g, &qmean, &hmean, &dnorm);

    /* reference Delta a in double */
    double *dp = ref_to_double(p, pi.nparams), *dq = ref_to_double(qp, q.nparams);
    surr_ctx c = {&pi.net, ref_to_double(obs, S * O), ref_to_double(pi.xi, S * M * A),
                  calloc(S * M * A, sizeof(double)), S, M};
    double a[S * M * A];
    ref_implicit_actions(&pi.net, dp, c.obs, c.xi, S, M, a);
    for (int s = 0; s < S; s++) {
        double gl[Mf * A], dl[Mu * A];
        for (int j = 0; j < Mf; j++)
            for (int k = 0; k < A; k++) {
                double aa[A];
                memcpy(aa, a + (s * M + j) * A, sizeof aa);
                double keep = aa[k], e = 1e-6;
                aa[k] = keep + e;
                double qp1 = ref_minq(&q, dq, c.obs + s * O, aa);
                aa[k] = keep - e;
                double qm1 = ref_minq(&q, dq, c.obs + s * O, aa);
                double v = (qp1 - qm1) / (2 * e) / ALPHA;
                if (squash) v += -2 * keep / (1 - keep * keep + 1e-6);
                gl[j * A + k] = v;
            }
        ref_direction(a + s * M * A, gl, Mf, Mu, A, dl);
        memcpy(c.delta + (s * M + Mf) * A, dl, sizeof dl);
    }
    double worst, rel = ref_grad_check(surrogate, &c, dp, pi.nparams, g, 1e-6, &worst);
    printf("# svgd update%s: gradient relative error %.3g (h mean %.4f, |delta| %.4f)\n",
           squash ? " (squash correction)" : "", rel, hmean, dnorm);
    CHECK(rel < 1e-4, "SVGD%s: grads = -mean Delta a . da/dphi vs float64 (%.2g)",
          squash ? " with squash correction" : "", rel);
    free(c.obs);
    free(c.xi);
    free(c.delta);
    free(dp);
    free(dq);
    free(p);
    free(g);
    free(qp);
    pp_policy_work_free(&w);
    pp_mlp_free(&q);
    pp_implicit_free(&pi);
}

/* ---- temperature ---- */
static void test_temperature(void)
{
    const int d = 3;
    pp_temperature t;
    pp_temperature_init(&t, 1, 1.0, -d, 3e-4f);
    /* entropy -mean log pi = -5 < -3: below target, alpha rises */
    for (int i = 0; i < 10; i++) pp_temperature_step(&t, 5.0);
    double up = pp_temperature_alpha(&t);
    CHECK(up > 1.0, "entropy below target: alpha rises (%.6f)", up);
    pp_temperature_free(&t);
    pp_temperature_init(&t, 1, 1.0, -d, 3e-4f);
    for (int i = 0; i < 10; i++) pp_temperature_step(&t, -5.0); /* entropy 5 > -3 */
    double down = pp_temperature_alpha(&t);
    CHECK(down < 1.0, "entropy above target: alpha falls (%.6f)", down);
    /* Adam's first steps move log alpha by about lr each */
    CHECK_NEAR(log(down), -10 * 3e-4, 1e-5, "ten Adam steps move log alpha by ~10 lr");
    CHECK_NEAR(pp_temperature_loss(&t, 1.0), -down * (1.0 - d), 1e-12,
               "loss = -alpha (log pi + target)");
    pp_temperature_free(&t);
    pp_temperature_init(&t, 0, 0.7, -d, 3e-4f);
    pp_temperature_step(&t, 5.0);
    CHECK(pp_temperature_alpha(&t) == 0.7, "fixed alpha never moves");
    pp_temperature_free(&t);
    CHECK(pp_temperature_init(&t, 1, 0.0, -d, 3e-4f) == -1, "learned alpha 0 refused: %s",
          pp_error());
    /* a fixed 0 is BRAC's no-entropy temperature (docs/algorithm.md section 14) */
    CHECK(pp_temperature_init(&t, 0, 0.0, -d, 3e-4f) == 0 && pp_temperature_step(&t, 5.0) == 0 &&
              pp_temperature_alpha(&t) == 0.0 && pp_temperature_loss(&t, 1.0) == 0.0,
          "fixed alpha 0 accepted, stays 0, loss 0");
    pp_temperature_free(&t);
    CHECK(pp_temperature_init(&t, 0, -1e-3, -d, 3e-4f) == -1, "fixed alpha < 0 refused: %s",
          pp_error());
}

int main(void)
{
    test_loss_grads();
    test_svgd_direction();
    test_svgd_update(0);
    test_svgd_update(1);
    test_temperature();
    return check_done();
}
