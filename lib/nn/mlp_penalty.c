/* mlp_penalty.c - gradient penalty P = lambda * mean_b (||g_b|| - 1)^2,
 * g_b = grad_x f(x_b), with its exact gradient in the weights; and its
 * variant on the input columns from col0 on (g_b = grad_{x[col0:]} f), one-
 * sided as BRAC's (P = lambda * mean_b max(||g_b|| - 1, 0)^2 with ||g|| =
 * sqrt(1e-8 + sum g^2)): r_b below is then (2 lambda / B) max(||g_b|| - 1, 0)
 * g_b / ||g_b|| on those columns and 0 on the others.
 *
 * For a piecewise-linear net (ReLU or linear hidden layers, linear scalar
 * output) and fixed ReLU masks D_l, g = W_0 D_0 W_1 D_1 ... D_{L-2} W_{L-1}
 * (weights stored [in, out]), which is linear in each W_l. With r_b = dP/dg_b
 * = (2 lambda / B) (||g_b|| - 1) g_b / ||g_b||:
 *     dP/dW_l = sum_b z_{l,b}^T delta_{l,b}
 * where z is r pushed forward through the linearised net
 *     z_0 = r,  z_{l+1} = (z_l W_l) * mask_l     (no biases)
 * and delta_l = df/d pre_l is the ordinary backward of f with df = 1.
 * Biases do not enter g, so they get no gradient; the masks are constant
 * almost everywhere, so this is the whole derivative. Cost: one forward, one
 * backward without weight gradients, one linear forward and L weight-gradient
 * sgemms: all sgemms over the batch.
 *
 * Buffers: delta_l is kept in pre[l] (the masks are read from post[l]);
 * g, r and z live in delta_a / delta_b.
 */
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "nn/mlp_impl.h"
#include "nn/blas.h"

int pp_mlp_grad_penalty_check(const pp_mlp *m)
{
    if (m->members != 1) return pp_fail("gradient penalty: net has %d members, expected 1", m->members);
    if (m->width[m->nlayers] != 1)
        return pp_fail("gradient penalty: output width %d, expected 1", m->width[m->nlayers]);
    if (m->out_act != PP_ACT_LINEAR) return pp_fail("gradient penalty: output activation must be linear");
    if (m->nlayers > 1 && m->hidden_act != PP_ACT_RELU && m->hidden_act != PP_ACT_LINEAR)
        return pp_fail("gradient penalty: hidden activation must be ReLU or linear (piecewise linear)");
    if (m->spectral) return pp_fail("gradient penalty: net is spectrally normalised, expected one or the other");
    return 0;
}

/* x *= mask(post) for ReLU; nothing for linear layers. */
static void apply_mask(float *x, const float *post, size_t n, pp_act act)
{
    if (act == PP_ACT_RELU) pp_kern_relu_mask(x, post, n);
}

float pp_mlp_grad_penalty(pp_mlp *m, const float *params, const float *x, int B, float lambda, float *dparams)
{
    return pp_mlp_grad_penalty_cols(m, params, x, B, lambda, 0, 0, dparams);
}

float pp_mlp_grad_penalty_cols(pp_mlp *m, const float *params, const float *x, int B, float lambda, int col0,
                               int one_sided, float *dparams)
{
    PP_MLP_REQUIRE(pp_mlp_grad_penalty_check(m) == 0, "pp_mlp_grad_penalty: %s", pp_error());
    int L = m->nlayers, in = m->width[0];
    PP_MLP_REQUIRE(col0 >= 0 && col0 < in, "pp_mlp_grad_penalty_cols: column %d of %d inputs", col0, in);
    pp_mlp_forward(m, params, x, B);

    /* backward of f with df = 1; delta_l into pre[l] */
    for (int i = 0; i < B; i++) m->pre[L - 1][i] = 1.0f;
    for (int l = L - 1; l >= 1; l--) {
        int wi = m->width[l], wo = m->width[l + 1];
        pp_sgemm(0, 1, B, wi, wo, 1.0f, m->pre[l], wo, params + m->off_w[l], wo, 0.0f, m->pre[l - 1], wi);
        apply_mask(m->pre[l - 1], m->post[l - 1], (size_t)B * wi, m->hidden_act);
    }
    float *g = m->delta_a;
    pp_sgemm(0, 1, B, in, m->width[1], 1.0f, m->pre[0], m->width[1], params + m->off_w[0], m->width[1], 0.0f,
             g, in);

    /* penalty and r = dP/dg, in place over g */
    double P = 0;
    int any = 0; /* one-sided: a row with a slope over 1 */
    for (int b = 0; b < B; b++) {
        float *gb = g + (size_t)b * in;
        double s = 0;
        for (int i = col0; i < in; i++) s += (double)gb[i] * gb[i];
        float k;
        if (one_sided) { /* BRAC's: ||g|| = sqrt(eps + sum g^2), max(||g|| - 1, 0)^2 */
            double norm = sqrt(PP_MLP_GP_EPS + s), e = norm > 1 ? norm - 1 : 0.0;
            P += e * e;
            k = (float)(2.0 * lambda / B * e / norm);
            any |= e > 0;
        } else {
            double norm = sqrt(s);
            P += (norm - 1) * (norm - 1);
            k = norm > 0 ? (float)(2.0 * lambda / B * (norm - 1) / norm) : 0.0f;
        }
        for (int i = 0; i < col0; i++) gb[i] = 0.0f; /* columns outside the norm: no pull */
        for (int i = col0; i < in; i++) gb[i] *= k;
    }
    P *= (double)lambda / B;
    if (!dparams || (one_sided && !any)) return (float)P; /* r = 0: nothing to add */

    /* z forward; dW_l += z_l^T delta_l */
    float *z = g, *other = m->delta_b;
    for (int l = 0; l < L; l++) {
        int wi = m->width[l], wo = m->width[l + 1];
        pp_sgemm(1, 0, wi, wo, B, 1.0f, z, wi, m->pre[l], wo, 1.0f, dparams + m->off_w[l], wo);
        if (l < L - 1) {
            pp_sgemm(0, 0, B, wo, wi, 1.0f, z, wi, params + m->off_w[l], wo, 0.0f, other, wo);
            apply_mask(other, m->post[l], (size_t)B * wo, m->hidden_act);
            float *t = z;
            z = other;
            other = t;
        }
    }
    return (float)P;
}
