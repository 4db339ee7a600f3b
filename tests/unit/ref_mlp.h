/* ref_mlp.h - the float64 reference of pp_mlp (nn/mlp.h) for the unit tests:
 * the one reference every test that checks a net against double uses (static
 * inline: a test takes what it needs).
 *
 * Written from the layout documented in nn/mlp.h, element by element, with
 * no BLAS and nothing shared with lib/nn/mlp.c, so the two can disagree:
 * layer 0 of all E members is one [in, E*out] block, deeper layers are
 * member blocks [in, out] at off_w[l] + e*in*out, biases at off_b[l] + e*out.
 * With spectral normalisation the (u, v) vectors are taken from the pp_mlp
 * (held fixed, as the library's backward assumes) and sigma = u . (W^T v) is
 * recomputed from the double parameters, so finite differences see sigma
 * move with W.
 *
 *   ref_mlp_forward     y [B, E*out] = net(x [B, in]), any activations
 *   ref_mlp_row         one row, one member; the pre-activations if asked
 *   ref_mlp_scalar      f(x) of member e (out = 1) and d f / d x (backprop)
 *   ref_kink_margin     how far a batch keeps every ReLU unit from its kink
 *   ref_penalty         the gradient penalty lambda * mean (||d f/d x|| - 1)^2
 *   ref_penalty_cols    the same on the columns from col0, two- or one-sided (BRAC's)
 *   ref_policy          the Gaussian-tanh chain: a, u and log pi for given eps
 *   ref_fd_grad         central differences of a loss over a double vector
 *   ref_grad_check      those against a float gradient, as one relative error
 *   ref_rel_err         ||a - b|| / max(||a||, ||b||), float against double
 *   ref_to_double       a malloc'd double copy of a float array
 */
#ifndef PP_REF_MLP_H
#define PP_REF_MLP_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/mlp.h"

#define REF_MAXW 512 /* widest layer the reference runs */

/* Weight (i -> j) of layer l, member e, in the blob p. */
static inline double ref_w(const pp_mlp *m, const double *p, int l, int e, int i, int j)
{
    int E = m->members, in = m->width[l], out = m->width[l + 1];
    if (l == 0) return p[m->off_w[0] + (size_t)i * E * out + (size_t)e * out + j];
    return p[m->off_w[l] + (size_t)e * in * out + (size_t)i * out + j];
}

static inline double ref_b(const pp_mlp *m, const double *p, int l, int e, int j)
{
    return p[m->off_b[l] + (size_t)e * m->width[l + 1] + j];
}

/* 1 / sigma(W_l) of member e with spectral normalisation, else 1. */
static inline double ref_inv_sigma(const pp_mlp *m, const double *p, int l, int e)
{
    if (!m->spectral) return 1.0;
    int in = m->width[l], out = m->width[l + 1];
    const float *u = m->sn_u[l] + (size_t)e * out, *v = m->sn_v[l] + (size_t)e * in;
    double s = 0;
    for (int j = 0; j < out; j++)
        for (int i = 0; i < in; i++) s += u[j] * ref_w(m, p, l, e, i, j) * v[i];
    return 1.0 / s;
}

/* sigmoid in double, written the other way round from the library's
 * (1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below) */
static inline double ref_sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

static inline double ref_act(pp_act a, double x)
{
    if (a == PP_ACT_RELU) return x > 0 ? x : 0;
    if (a == PP_ACT_TANH) return tanh(x);
    if (a == PP_ACT_SWISH) return x * ref_sigmoid(x);
    return x;
}

static inline double ref_dact(pp_act a, double x)
{
    if (a == PP_ACT_RELU) return x > 0 ? 1 : 0;
    if (a == PP_ACT_TANH) return 1 - tanh(x) * tanh(x);
    if (a == PP_ACT_SWISH) return ref_sigmoid(x) * (1 + x * (1 - ref_sigmoid(x)));
    return 1;
}

static inline void ref_check_widths(const pp_mlp *m)
{
    for (int l = 0; l <= m->nlayers; l++)
        if (m->width[l] > REF_MAXW) {
            fprintf(stderr, "ref_mlp.h: width %d of layer %d is above REF_MAXW %d\n", m->width[l], l,
                    REF_MAXW);
            abort();
        }
}

/* One row x, member e: y[0..out) gets the member's output; pre[l][j] (may be
 * NULL) the pre-activations. */
static inline void ref_mlp_row(const pp_mlp *m, const double *p, const double *x, int e, double *y,
                        double pre[][REF_MAXW])
{
    double h[REF_MAXW], t[REF_MAXW];
    int L = m->nlayers;
    ref_check_widths(m);
    for (int i = 0; i < m->width[0]; i++) h[i] = x[i];
    for (int l = 0; l < L; l++) {
        int in = m->width[l], out = m->width[l + 1];
        double k = ref_inv_sigma(m, p, l, e);
        pp_act a = l == L - 1 ? m->out_act : m->hidden_act;
        for (int j = 0; j < out; j++) {
            double s = 0;
            for (int i = 0; i < in; i++) s += h[i] * ref_w(m, p, l, e, i, j);
            t[j] = s * k + ref_b(m, p, l, e, j);
            if (pre) pre[l][j] = t[j];
        }
        for (int j = 0; j < out; j++) h[j] = ref_act(a, t[j]);
    }
    for (int j = 0; j < m->width[L]; j++) y[j] = h[j];
}

/* y [B, E*out] = net(x [B, in]) with double params p. */
static inline void ref_mlp_forward(const pp_mlp *m, const double *p, const double *x, int B, double *y)
{
    int E = m->members, in = m->width[0], out = m->width[m->nlayers];
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++)
            ref_mlp_row(m, p, x + (size_t)b * in, e, y + (size_t)b * E * out + (size_t)e * out, NULL);
}

/* Scalar output (out = 1) of member e at row x; grad_x [in] (may be NULL)
 * gets d f / d x, by a reverse pass in double. */
static inline double ref_mlp_scalar(const pp_mlp *m, const double *p, const double *x, int e, double *grad_x)
{
    double pre[PP_MLP_MAX_LAYERS][REF_MAXW], y[REF_MAXW], d[REF_MAXW], dh[REF_MAXW];
    int L = m->nlayers;
    ref_mlp_row(m, p, x, e, y, pre);
    if (!grad_x) return y[0];
    d[0] = ref_dact(m->out_act, pre[L - 1][0]); /* d f / d pre[L-1] */
    for (int l = L - 1; l >= 0; l--) {
        int in = m->width[l], out = m->width[l + 1];
        double k = ref_inv_sigma(m, p, l, e);
        for (int i = 0; i < in; i++) {
            double s = 0;
            for (int j = 0; j < out; j++) s += d[j] * ref_w(m, p, l, e, i, j) * k;
            dh[i] = s;
        }
        if (l > 0)
            for (int i = 0; i < in; i++) d[i] = dh[i] * ref_dact(m->hidden_act, pre[l - 1][i]);
    }
    for (int i = 0; i < m->width[0]; i++) grad_x[i] = dh[i];
    return y[0];
}

/* Smallest |pre-activation| of ReLU units over the batch (distance to a kink). */
static inline double ref_kink_margin(const pp_mlp *m, const double *p, const double *x, int B)
{
    static double pre[PP_MLP_MAX_LAYERS][REF_MAXW];
    double y[REF_MAXW], margin = INFINITY;
    for (int b = 0; b < B; b++)
        for (int e = 0; e < m->members; e++) {
            ref_mlp_row(m, p, x + (size_t)b * m->width[0], e, y, pre);
            for (int l = 0; l < m->nlayers; l++) {
                pp_act a = l == m->nlayers - 1 ? m->out_act : m->hidden_act;
                if (a != PP_ACT_RELU) continue;
                for (int j = 0; j < m->width[l + 1]; j++) margin = fmin(margin, fabs(pre[l][j]));
            }
        }
    return margin;
}

/* lambda * mean_b (||grad_x f(x_b)|| - 1)^2 for members = 1, out = 1. */
static inline double ref_penalty(const pp_mlp *m, const double *p, const double *x, int B, double lambda)
{
    double g[REF_MAXW], P = 0;
    for (int b = 0; b < B; b++) {
        ref_mlp_scalar(m, p, x + (size_t)b * m->width[0], 0, g);
        double s = 0;
        for (int i = 0; i < m->width[0]; i++) s += g[i] * g[i];
        P += (sqrt(s) - 1) * (sqrt(s) - 1);
    }
    return lambda * P / B;
}

/* lambda * mean_b h(||d f / d x_b[col0:]||): two-sided h(n) = (n - 1)^2 with
 * n = sqrt(sum g^2), or one-sided h(n) = max(n - 1, 0)^2 with n = sqrt(1e-8 +
 * sum g^2) (BRAC's gradient_penalty). */
static inline double ref_penalty_cols(const pp_mlp *m, const double *p, const double *x, int B, double lambda,
                                      int col0, int one_sided)
{
    double g[REF_MAXW], P = 0;
    for (int b = 0; b < B; b++) {
        ref_mlp_scalar(m, p, x + (size_t)b * m->width[0], 0, g);
        double s = 0;
        for (int i = col0; i < m->width[0]; i++) s += g[i] * g[i];
        double n = sqrt((one_sided ? 1e-8 : 0.0) + s), e = one_sided ? fmax(n - 1, 0.0) : n - 1;
        P += e * e;
    }
    return lambda * P / B;
}

static inline double *ref_to_double(const float *src, size_t n)
{
    double *d = malloc(sizeof(double) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) d[i] = src[i];
    return d;
}

/* log(1 - tanh(u)^2) in double, stable */
static inline double ref_log1m_tanh2(double u)
{
    double x = -2.0 * u;
    double sp = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    return 2.0 * (log(2.0) - u - sp);
}

/* The Gaussian-tanh chain in double for given eps: a, u [B, d] and logp [B]
 * (each may be NULL). net: obs -> 2d (mean | log_std), log_std clamped to
 * [-20, 2]. */
static inline void ref_policy(const pp_mlp *net, const double *p, const double *obs, const double *eps,
                       int B, int d, double *a, double *u, double *logp)
{
    double *out = malloc(sizeof(double) * (size_t)B * 2 * d);
    ref_mlp_forward(net, p, obs, B, out);
    for (int b = 0; b < B; b++) {
        double lp = 0;
        for (int i = 0; i < d; i++) {
            double mu = out[(size_t)b * 2 * d + i], ls = out[(size_t)b * 2 * d + d + i];
            ls = ls < -20 ? -20 : (ls > 2 ? 2 : ls);
            double e = eps[(size_t)b * d + i], uu = mu + exp(ls) * e;
            if (u) u[(size_t)b * d + i] = uu;
            if (a) a[(size_t)b * d + i] = tanh(uu);
            lp += -0.5 * e * e - ls - 0.5 * log(2 * M_PI) - ref_log1m_tanh2(uu);
        }
        if (logp) logp[b] = lp;
    }
    free(out);
}

/* fd[k] = (loss(p + h e_k) - loss(p - h e_k)) / 2h for every coordinate k of
 * the double vector p, which is moved in place and put back. */
typedef double (*ref_loss_fn)(const double *p, void *ctx);
static inline void ref_fd_grad(ref_loss_fn loss, void *ctx, double *p, size_t n, double h, double *fd)
{
    for (size_t k = 0; k < n; k++) {
        double keep = p[k];
        p[k] = keep + h;
        double lp = loss(p, ctx);
        p[k] = keep - h;
        double lm = loss(p, ctx);
        p[k] = keep;
        fd[k] = (lp - lm) / (2 * h);
    }
}

/* ref_fd_grad of loss at p against the gradient g: returns
 * ||g - fd|| / max(||fd||, tiny) and the worst coordinate's error. */
static inline double ref_grad_check(ref_loss_fn loss, void *ctx, double *p, size_t n, const float *g,
                                    double h, double *max_abs_err)
{
    double *fd = malloc(sizeof(double) * (n ? n : 1)), num = 0, den = 0, worst = 0;
    ref_fd_grad(loss, ctx, p, n, h, fd);
    for (size_t k = 0; k < n; k++) {
        double e = fabs(fd[k] - (double)g[k]);
        num += e * e;
        den += fd[k] * fd[k];
        if (e > worst) worst = e;
    }
    free(fd);
    if (max_abs_err) *max_abs_err = worst;
    return sqrt(num) / fmax(sqrt(den), 1e-30);
}

/* ||a - b|| / max(||a||, ||b||) over n entries. */
static inline double ref_rel_err(const float *a, const double *b, size_t n)
{
    double d = 0, na = 0, nb = 0;
    for (size_t i = 0; i < n; i++) {
        d += (a[i] - b[i]) * (a[i] - b[i]);
        na += (double)a[i] * a[i];
        nb += b[i] * b[i];
    }
    double den = fmax(sqrt(na), sqrt(nb));
    return den > 0 ? sqrt(d) / den : sqrt(d);
}

#endif
