/* mlp_ref.h - a plain float64 reference of the MLP in mlp.h, for the tests.
 *
 * Written from the layout documented in mlp.h, element by element, with no
 * BLAS and nothing shared with lib/mlp.c, so the two can disagree. With
 * spectral normalisation the (u, v) vectors are taken from the pp_mlp
 * (fixed) and sigma = u . (W^T v) is recomputed from the double parameters,
 * so finite differences see sigma move with W as the backward assumes.
 */
#ifndef PP_MLP_REF_H
#define PP_MLP_REF_H

#include <math.h>
#include <stdlib.h>

#include "nn/mlp.h"

#define REF_MAXW 512

/* Weight (i -> j) of layer l, member e, in the blob p. */
static double ref_w(const pp_mlp *m, const double *p, int l, int e, int i, int j)
{
    int E = m->members, in = m->width[l], out = m->width[l + 1];
    if (l == 0) return p[m->off_w[0] + (size_t)i * E * out + (size_t)e * out + j];
    return p[m->off_w[l] + (size_t)e * in * out + (size_t)i * out + j];
}

static double ref_b(const pp_mlp *m, const double *p, int l, int e, int j)
{
    return p[m->off_b[l] + (size_t)e * m->width[l + 1] + j];
}

static double ref_sigma(const pp_mlp *m, const double *p, int l, int e)
{
    int in = m->width[l], out = m->width[l + 1];
    const float *u = m->sn_u[l] + (size_t)e * out, *v = m->sn_v[l] + (size_t)e * in;
    double s = 0;
    for (int j = 0; j < out; j++)
        for (int i = 0; i < in; i++) s += u[j] * ref_w(m, p, l, e, i, j) * v[i];
    return s;
}

static double ref_act(pp_act a, double x)
{
    if (a == PP_ACT_RELU) return x > 0 ? x : 0;
    if (a == PP_ACT_TANH) return tanh(x);
    return x;
}

static double ref_dact(pp_act a, double x)
{
    if (a == PP_ACT_RELU) return x > 0 ? 1 : 0;
    if (a == PP_ACT_TANH) return 1 - tanh(x) * tanh(x);
    return 1;
}

/* One row, one member. pre[l][j] receives the pre-activations (may be NULL).
 * Returns nothing; y[0..out) the member's output. */
static void ref_forward_row(const pp_mlp *m, const double *p, const double *x, int e, double *y,
                            double pre[][REF_MAXW])
{
    double h[REF_MAXW], t[REF_MAXW];
    int L = m->nlayers;
    for (int i = 0; i < m->width[0]; i++) h[i] = x[i];
    for (int l = 0; l < L; l++) {
        int in = m->width[l], out = m->width[l + 1];
        double k = m->spectral ? 1.0 / ref_sigma(m, p, l, e) : 1.0;
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

/* y [B, E*out] */
static void ref_forward(const pp_mlp *m, const double *p, const double *x, int B, double *y)
{
    int E = m->members, in = m->width[0], out = m->width[m->nlayers];
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++) ref_forward_row(m, p, x + (size_t)b * in, e, y + (size_t)b * E * out + (size_t)e * out, NULL);
}

/* Smallest |pre-activation| of ReLU units over the batch (distance to a kink). */
static double ref_kink_margin(const pp_mlp *m, const double *p, const double *x, int B)
{
    static double pre[PP_MLP_MAX_LAYERS][REF_MAXW];
    double y[REF_MAXW], margin = INFINITY;
    for (int b = 0; b < B; b++)
        for (int e = 0; e < m->members; e++) {
            ref_forward_row(m, p, x + (size_t)b * m->width[0], e, y, pre);
            for (int l = 0; l < m->nlayers; l++) {
                pp_act a = l == m->nlayers - 1 ? m->out_act : m->hidden_act;
                if (a != PP_ACT_RELU) continue;
                for (int j = 0; j < m->width[l + 1]; j++) margin = fmin(margin, fabs(pre[l][j]));
            }
        }
    return margin;
}

/* grad_x f for members = 1, out = 1 (exact, by a double reverse pass). */
static void ref_input_grad(const pp_mlp *m, const double *p, const double *x, double *g)
{
    static double pre[PP_MLP_MAX_LAYERS][REF_MAXW];
    double y[1], d[REF_MAXW], dh[REF_MAXW];
    int L = m->nlayers;
    ref_forward_row(m, p, x, 0, y, pre);
    d[0] = ref_dact(m->out_act, pre[L - 1][0]);
    for (int l = L - 1; l >= 0; l--) {
        int in = m->width[l], out = m->width[l + 1];
        for (int i = 0; i < in; i++) {
            double s = 0;
            for (int j = 0; j < out; j++) s += ref_w(m, p, l, 0, i, j) * d[j];
            dh[i] = s;
        }
        if (l > 0)
            for (int i = 0; i < in; i++) d[i] = dh[i] * ref_dact(m->hidden_act, pre[l - 1][i]);
    }
    for (int i = 0; i < m->width[0]; i++) g[i] = dh[i];
}

/* lambda * mean_b (||grad_x f(x_b)|| - 1)^2 */
static double ref_penalty(const pp_mlp *m, const double *p, const double *x, int B, double lambda)
{
    double g[REF_MAXW], P = 0;
    for (int b = 0; b < B; b++) {
        ref_input_grad(m, p, x + (size_t)b * m->width[0], g);
        double s = 0;
        for (int i = 0; i < m->width[0]; i++) s += g[i] * g[i];
        P += (sqrt(s) - 1) * (sqrt(s) - 1);
    }
    return lambda * P / B;
}

/* ||a - b|| / max(||a||, ||b||) over n entries. */
static double rel_err_fd(const float *a, const double *b, size_t n)
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
