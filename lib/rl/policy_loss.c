/* policy_loss.c - ParPI, SAC and SVGD policy gradients (see policy_loss.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rl/kl_dual.h"
#include "rl/policy_loss.h"
#include "rl/svgd.h"

static const char *const div_names[] = {"jsd", "wd", "hinge", "rkl"};

int pp_policy_div_parse(const char *name, size_t len)
{
    for (int i = 0; i < 4; i++)
        if (strlen(div_names[i]) == len && memcmp(div_names[i], name, len) == 0) return i;
    return pp_fail("divergence \"%.*s\" is unknown, expected jsd, wd, hinge or rkl", (int)len, name);
}

const char *pp_policy_div_name(int div) { return div >= 0 && div < 4 ? div_names[div] : "?"; }

void pp_policy_work_init(pp_policy_work *w, int obs_dim, int act_dim, int rows, int a_rows,
                         int kernel)
{
    memset(w, 0, sizeof *w);
    w->obs_dim = obs_dim;
    w->act_dim = act_dim;
    w->rows = rows;
    size_t W = (size_t)(obs_dim + act_dim);
    w->x = pp_xalloc_f32((size_t)rows * W);
    w->dx = pp_xalloc_f32((size_t)rows * W);
    w->dy = pp_xalloc_f32((size_t)rows * 2);
    w->member = pp_xcalloc((size_t)rows, sizeof *w->member);
    w->d_a = pp_xalloc_f32((size_t)a_rows * act_dim);
    w->d_logp = pp_xalloc_f32((size_t)a_rows);
    w->d_u = pp_xalloc_f32((size_t)a_rows * act_dim);
    w->glogp = pp_xalloc_f32((size_t)rows * act_dim);
    w->scratch = pp_xalloc_f32(2 * (size_t)(kernel > 0 ? kernel : 1));
}

void pp_policy_work_free(pp_policy_work *w)
{
    free(w->x);
    free(w->dx);
    free(w->dy);
    free(w->member);
    free(w->d_a);
    free(w->d_logp);
    free(w->d_u);
    free(w->glogp);
    free(w->scratch);
    memset(w, 0, sizeof *w);
}

/* x rows (obs[r / per], a[src_row(r)]) */
static void concat(float *x, const float *obs, int O, const float *a, int A, int B)
{
    for (int b = 0; b < B; b++) {
        memcpy(x + (size_t)b * (O + A), obs + (size_t)b * O, sizeof(float) * O);
        memcpy(x + (size_t)b * (O + A) + O, a + (size_t)b * A, sizeof(float) * A);
    }
}

static void action_columns(const float *dx, int O, int A, int rows, float *d_a)
{
    for (int r = 0; r < rows; r++)
        memcpy(d_a + (size_t)r * A, dx + (size_t)r * (O + A) + O, sizeof(float) * A);
}

static double mean_logp(const pp_policy *pi, int B)
{
    double s = 0.0;
    for (int b = 0; b < B; b++) s += pi->logp[b];
    return s / B;
}

/* - alpha mean_b log pi_beta(tanh u_b | s_b), pi_beta's density in a-space:
 * log N(u; mu_b, sd_b) - sum_i log(1 - tanh(u_i)^2); its u-gradient into d_u:
 * (alpha / B) ((u - mu_b) / sd_b^2 - 2 tanh u). Returns the term; *mlogb the
 * mean log pi_beta. */
static double prior_term(const pp_policy *pi, const float *mu, const float *sd, int B, double alpha,
                         float *d_u, double *mlogb)
{
    const int d = pi->act_dim;
    double sum = 0.0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < d; i++) {
            size_t k = (size_t)b * d + i;
            double u = pi->u[k], s = sd[k], z = (u - mu[k]) / s;
            double log1m = 2.0 * (log(2.0) - u - pp_softrelu(-2.0 * u)); /* log(1 - tanh^2 u) */
            sum += -0.5 * z * z - log(s) - 0.5 * log(2.0 * M_PI) - log1m;
            d_u[k] = (float)(alpha / B * (z / s - 2.0 * tanh(u)));
        }
    *mlogb = sum / B;
    return -alpha * sum / B;
}

double pp_policy_loss_parpi(pp_policy *pi, const float *params, const float *obs, int B,
                            double alpha, pp_mlp *disc, const float *disc_params, int div,
                            const float *prior_mu, const float *prior_std, pp_policy_work *w,
                            float *grads, double *dterm, double *mlogb)
{
    const int O = w->obs_dim, A = w->act_dim;
    concat(w->x, obs, O, pi->a, A, B);
    const float *fv = pp_mlp_forward(disc, disc_params, w->x, B);
    double d = 0.0;
    for (int b = 0; b < B; b++) {
        double v = fv[b];
        if (div == PP_PDIV_JSD) {
            /* -log sig(f) = softplus(-f), d/df = -sig(-f) */
            d += v > 0 ? log1p(exp(-v)) : -v + log1p(exp(v));
            w->dy[b] = (float)(-1.0 / (1.0 + exp(v)) / B);
        } else {
            d -= v;
            w->dy[b] = (float)(-1.0 / B);
        }
    }
    d /= B;
    pp_mlp_backward(disc, disc_params, w->dy, NULL, w->dx);
    action_columns(w->dx, O, A, B, w->d_a);
    for (int b = 0; b < B; b++) w->d_logp[b] = (float)(alpha / B);
    double prior = 0.0, logb = 0.0;
    if (prior_mu) prior = prior_term(pi, prior_mu, prior_std, B, alpha, w->d_u, &logb);
    pp_policy_backward_u(pi, params, w->d_a, prior_mu ? w->d_u : NULL, w->d_logp, grads);
    *dterm = d;
    if (mlogb) *mlogb = logb;
    return alpha * mean_logp(pi, B) + d + prior;
}

/* The twin critic's output [rows, 2]: per row, which member is smaller
 * (ties: Q1) into member; returns the sum of the minima. */
static double twin_min(const float *qv, int rows, int *member)
{
    double sum = 0.0;
    for (int r = 0; r < rows; r++) {
        int j = qv[2 * r + 1] < qv[2 * r];
        sum += qv[2 * r + j];
        member[r] = j;
    }
    return sum;
}

/* -mean_b min_j Q_j(s_b, a_b) at the policy's last sample: the (s, a) rows
 * into w->x, d/da (one member's backward per row, then the -1/B) into
 * w->d_a. Returns sum_b min Q. */
static double neg_min_q(const pp_policy *pi, const float *obs, int B, pp_mlp *q, const float *q_params,
                        pp_policy_work *w)
{
    const int O = w->obs_dim, A = w->act_dim;
    concat(w->x, obs, O, pi->a, A, B);
    const float *qv = pp_mlp_forward(q, q_params, w->x, B);
    double qs = twin_min(qv, B, w->member);
    pp_mlp_backward_input_select(q, q_params, w->member, w->dx);
    action_columns(w->dx, O, A, B, w->d_a);
    for (size_t i = 0; i < (size_t)B * A; i++) w->d_a[i] *= (float)(-1.0 / B);
    return qs;
}

double pp_policy_loss_sac(pp_policy *pi, const float *params, const float *obs, int B,
                          double alpha, pp_mlp *q, const float *q_params, pp_policy_work *w,
                          float *grads, double *qmean)
{
    double qs = neg_min_q(pi, obs, B, q, q_params, w);
    for (int b = 0; b < B; b++) w->d_logp[b] = (float)(alpha / B);
    pp_policy_backward(pi, params, w->d_a, w->d_logp, grads);
    *qmean = qs / B;
    return alpha * mean_logp(pi, B) - qs / B;
}

double pp_policy_loss_bc(pp_policy *pi, const float *params, const float *obs, const float *act,
                         int B, double clip, pp_policy_work *w, float *grads, double *mlogp)
{
    pp_policy_log_prob_act(pi, params, obs, act, B, clip);
    for (int b = 0; b < B; b++) w->d_logp[b] = (float)(-1.0 / B);
    pp_policy_backward_fixed(pi, params, w->d_logp, grads);
    double m = mean_logp(pi, B);
    *mlogp = m;
    return -m;
}

double pp_policy_loss_brac(pp_policy *pi, const float *params, const float *obs, int B,
                           double alpha, double alpha_v, pp_mlp *q, const float *q_params,
                           pp_mlp *dual, const float *dual_params, pp_policy_work *w,
                           float *grads, double *qmean, double *dterm)
{
    const int O = w->obs_dim, A = w->act_dim;
    double qs = neg_min_q(pi, obs, B, q, q_params, w); /* as the SAC loss; w->x holds (s, a) */
    /* + alpha_v mean_b term_p(c): the same x, the dual's own input gradient */
    const float *cv = pp_mlp_forward(dual, dual_params, w->x, B);
    double ds = 0.0;
    for (int b = 0; b < B; b++) {
        double dd;
        ds += pp_kl_dual_term_p(cv[b], &dd);
        w->dy[b] = (float)(alpha_v * dd / B);
    }
    pp_mlp_backward(dual, dual_params, w->dy, NULL, w->dx);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < A; i++) w->d_a[(size_t)b * A + i] += w->dx[(size_t)b * (O + A) + O + i];
    for (int b = 0; b < B; b++) w->d_logp[b] = (float)(alpha / B);
    pp_policy_backward(pi, params, w->d_a, w->d_logp, grads);
    *qmean = qs / B;
    *dterm = alpha_v * ds / B;
    return alpha * mean_logp(pi, B) + *dterm - qs / B;
}

void pp_policy_svgd(pp_policy_implicit *pi, const float *params, const float *obs, int B, int M,
                    double alpha, int squash, pp_mlp *q, const float *q_params, pp_policy_work *w,
                    float *grads, double *qmean, double *hmean, double *dnorm)
{
    const int O = w->obs_dim, A = w->act_dim, Mu = M / 2, Mf = M - M / 2, R = B * Mf;
    const float *a = pi->a;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < Mf; j++) {
            float *x = w->x + ((size_t)b * Mf + j) * (O + A);
            memcpy(x, obs + (size_t)b * O, sizeof(float) * O);
            memcpy(x + O, a + ((size_t)b * M + j) * A, sizeof(float) * A);
        }
    const float *qv = pp_mlp_forward(q, q_params, w->x, R);
    double qs = twin_min(qv, R, w->member);
    pp_mlp_backward_input_select(q, q_params, w->member, w->dx);
    action_columns(w->dx, O, A, R, w->glogp);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < Mf; j++) {
            float *g = w->glogp + ((size_t)b * Mf + j) * A;
            const float *aj = a + ((size_t)b * M + j) * A;
            for (int k = 0; k < A; k++) {
                double v = g[k] / alpha;
                if (squash) v += -2.0 * aj[k] / (1.0 - (double)aj[k] * aj[k] + 1e-6);
                g[k] = (float)v;
            }
        }
    /* d_a = -Delta a / (B Mu) on the updated rows, 0 on the fixed rows */
    double hs = 0.0, ns = 0.0;
    const double scale = -1.0 / ((double)B * Mu);
    for (int b = 0; b < B; b++) {
        float *da = w->d_a + (size_t)b * M * A;
        memset(da, 0, sizeof(float) * (size_t)Mf * A);
        float *delta = da + (size_t)Mf * A;
        hs += pp_svgd_direction(a + (size_t)b * M * A, w->glogp + (size_t)b * Mf * A, Mf, Mu, A,
                                w->scratch, delta);
        for (int i = 0; i < Mu; i++) {
            double nn = 0.0;
            for (int k = 0; k < A; k++) {
                float *v = delta + (size_t)i * A + k;
                nn += (double)*v * *v;
                *v = (float)(*v * scale);
            }
            ns += sqrt(nn);
        }
    }
    pp_implicit_backward(pi, params, w->d_a, grads);
    *qmean = qs / R;
    *hmean = hs / B;
    *dnorm = ns / ((double)B * Mu);
}
