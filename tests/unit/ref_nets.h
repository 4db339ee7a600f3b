/* ref_nets.h - float64 references for the unit tests of the policy and the
 * critic: a pp_mlp's blob run in double, the Gaussian-tanh chain, and
 * finite-difference gradient checks over a whole blob.
 *
 * The blob layout is pp_mlp's (mlp.h): W_l at off_w[l], layer 0 as one
 * [in, E*out] matrix, deeper layers member by member ([in, out] each at
 * off_w[l] + e*in*out), biases at off_b[l] + e*out.
 */
#ifndef PP_REF_NETS_H
#define PP_REF_NETS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/mlp.h"

static double ref_act(pp_act a, double v)
{
    if (a == PP_ACT_RELU) return v > 0 ? v : 0;
    if (a == PP_ACT_TANH) return tanh(v);
    return v;
}

/* out [B, E*w_out] = net(x [B, in]) with double params p. */
static void ref_mlp_forward(const pp_mlp *m, const double *p, const double *x, int B, double *out)
{
    const int E = m->members, L = m->nlayers, wout = m->width[L];
    int maxw = 0;
    for (int l = 0; l <= L; l++) maxw = m->width[l] > maxw ? m->width[l] : maxw;
    double *h = malloc(sizeof(double) * maxw), *g = malloc(sizeof(double) * maxw);
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++) {
            memcpy(h, x + (size_t)b * m->width[0], sizeof(double) * m->width[0]);
            for (int l = 0; l < L; l++) {
                int in = m->width[l], o = m->width[l + 1];
                pp_act act = l == L - 1 ? m->out_act : m->hidden_act;
                for (int j = 0; j < o; j++) {
                    double s = p[m->off_b[l] + (size_t)e * o + j];
                    for (int i = 0; i < in; i++) {
                        size_t wi = l == 0 ? m->off_w[0] + (size_t)i * E * o + (size_t)e * o + j
                                           : m->off_w[l] + (size_t)e * in * o + (size_t)i * o + j;
                        s += p[wi] * h[i];
                    }
                    g[j] = ref_act(act, s);
                }
                memcpy(h, g, sizeof(double) * o);
            }
            memcpy(out + (size_t)b * E * wout + (size_t)e * wout, h, sizeof(double) * wout);
        }
    free(h);
    free(g);
}

static double *ref_to_double(const float *src, size_t n)
{
    double *d = malloc(sizeof(double) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) d[i] = src[i];
    return d;
}

/* log(1 - tanh(u)^2) in double, stable */
static double ref_log1m_tanh2(double u)
{
    double x = -2.0 * u;
    double sp = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    return 2.0 * (log(2.0) - u - sp);
}

/* The Gaussian-tanh chain in double for given eps: a [B, d], logp [B].
 * net: obs -> 2d (mean | log_std), log_std clamped to [-20, 2]. */
static void ref_policy(const pp_mlp *net, const double *p, const double *obs, const double *eps,
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

/* Central differences of loss(p) over every coordinate of a double blob;
 * returns ||g - fd|| / max(||fd||, tiny) and the worst coordinate's error. */
typedef double (*ref_loss_fn)(const double *p, void *ctx);
static double ref_grad_check(ref_loss_fn loss, void *ctx, double *p, size_t n, const float *g,
                             double h, double *max_abs_err)
{
    double num = 0, den = 0, worst = 0;
    for (size_t k = 0; k < n; k++) {
        double keep = p[k];
        p[k] = keep + h;
        double lp = loss(p, ctx);
        p[k] = keep - h;
        double lm = loss(p, ctx);
        p[k] = keep;
        double fd = (lp - lm) / (2 * h), e = fabs(fd - (double)g[k]);
        num += e * e;
        den += fd * fd;
        if (e > worst) worst = e;
    }
    if (max_abs_err) *max_abs_err = worst;
    return sqrt(num) / fmax(sqrt(den), 1e-30);
}

#endif
