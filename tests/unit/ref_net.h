/* ref_net.h - a float64 reference of a pp_mlp (ReLU hidden, linear output),
 * written from the layout documented in mlp.h, element by element, for the
 * discriminator and Langevin tests: forward of one row and one member, and
 * the gradient of the output with respect to the input (backprop in double).
 * With spectral normalisation the (u, v) vectors are taken from the pp_mlp
 * (held fixed, as the library's backward assumes) and sigma = u . (W^T v) is
 * recomputed from the double parameters.
 */
#ifndef REF_NET_H
#define REF_NET_H

#include <math.h>

#include "nn/mlp.h"

#define REFN_MAXW 128

/* Weight (i -> j) of layer l, member e: layer 0 of all members is one
 * [in, E*out] block; deeper layers are member blocks [in, out]. */
static double refn_w(const pp_mlp *m, const double *p, int l, int e, int i, int j)
{
    int E = m->members, in = m->width[l], out = m->width[l + 1];
    if (l == 0) return p[m->off_w[0] + (size_t)i * E * out + (size_t)e * out + j];
    return p[m->off_w[l] + (size_t)e * in * out + (size_t)i * out + j];
}

static double refn_b(const pp_mlp *m, const double *p, int l, int e, int j)
{
    return p[m->off_b[l] + (size_t)e * m->width[l + 1] + j];
}

static double refn_inv_sigma(const pp_mlp *m, const double *p, int l, int e)
{
    if (!m->spectral) return 1.0;
    int in = m->width[l], out = m->width[l + 1];
    const float *u = m->sn_u[l] + (size_t)e * out, *v = m->sn_v[l] + (size_t)e * in;
    double s = 0;
    for (int i = 0; i < in; i++)
        for (int j = 0; j < out; j++) s += v[i] * refn_w(m, p, l, e, i, j) * u[j];
    return 1.0 / s;
}

/* Scalar output (out = 1) of member e at row x; grad_x [in] (nullable) gets
 * d f / d x. */
static double refn_forward(const pp_mlp *m, const double *p, const double *x, int e,
                           double *grad_x)
{
    int L = m->nlayers;
    double h[PP_MLP_MAX_LAYERS + 1][REFN_MAXW] = {{0}}, pre[PP_MLP_MAX_LAYERS][REFN_MAXW];
    double k[PP_MLP_MAX_LAYERS];
    for (int i = 0; i < m->width[0]; i++) h[0][i] = x[i];
    for (int l = 0; l < L; l++) {
        int in = m->width[l], out = m->width[l + 1];
        k[l] = refn_inv_sigma(m, p, l, e);
        for (int j = 0; j < out; j++) {
            double s = 0;
            for (int i = 0; i < in; i++) s += h[l][i] * refn_w(m, p, l, e, i, j);
            pre[l][j] = s * k[l] + refn_b(m, p, l, e, j);
            h[l + 1][j] = (l < L - 1 && pre[l][j] <= 0) ? 0.0 : pre[l][j];
        }
    }
    double f = h[L][0];
    if (grad_x) {
        double d[REFN_MAXW], dn[REFN_MAXW];
        d[0] = 1.0; /* d f / d pre[L-1] */
        for (int l = L - 1; l >= 0; l--) {
            int in = m->width[l], out = m->width[l + 1];
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int j = 0; j < out; j++) s += d[j] * refn_w(m, p, l, e, i, j) * k[l];
                dn[i] = s;
            }
            for (int i = 0; i < in; i++) d[i] = (l > 0 && pre[l - 1][i] <= 0) ? 0.0 : dn[i];
        }
        for (int i = 0; i < m->width[0]; i++) grad_x[i] = d[i];
    }
    return f;
}

#endif
