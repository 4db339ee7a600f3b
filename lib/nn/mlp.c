/* mlp.c - MLP forward and backward on one parameter blob, layer by layer.
 *
 * Every Linear is one pp_sgemm per member (layer 0: one sgemm for all
 * members, their weights side by side). After each sgemm one fused pass adds
 * the bias and applies the activation; in the backward one fused pass
 * multiplies by the activation's derivative and accumulates the bias
 * gradient. The weight-gradient sgemms are skipped when dparams is NULL and
 * the input gradient (layer 0's dx sgemm) when dx is NULL.
 * Layout and blob order: see mlp.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "nn/mlp_impl.h"
#include "nn/blas.h"

static int act_valid(pp_act a)
{
    return a == PP_ACT_LINEAR || a == PP_ACT_RELU || a == PP_ACT_TANH || a == PP_ACT_SWISH;
}

int pp_mlp_init(pp_mlp *m, int in, int nhidden, const int *hidden, int out, int members,
                pp_act hidden_act, pp_act out_act, int spectral, int max_batch)
{
    memset(m, 0, sizeof *m);
    if (in < 1 || out < 1) return pp_fail("mlp: input width %d, output width %d, expected >= 1", in, out);
    if (nhidden < 0 || nhidden > PP_MLP_MAX_LAYERS - 1)
        return pp_fail("mlp: %d hidden layers, expected 0..%d", nhidden, PP_MLP_MAX_LAYERS - 1);
    if (nhidden > 0 && !hidden) return pp_fail("mlp: hidden widths missing");
    for (int i = 0; i < nhidden; i++)
        if (hidden[i] < 1) return pp_fail("mlp: hidden layer %d has width %d, expected >= 1", i, hidden[i]);
    if (members < 1) return pp_fail("mlp: %d members, expected >= 1", members);
    if (max_batch < 1) return pp_fail("mlp: max batch %d, expected >= 1", max_batch);
    if (!act_valid(hidden_act) || !act_valid(out_act)) return pp_fail("mlp: unknown activation");

    int L = nhidden + 1, E = members;
    m->nlayers = L;
    m->width[0] = in;
    for (int i = 0; i < nhidden; i++) m->width[i + 1] = hidden[i];
    m->width[L] = out;
    m->members = E;
    m->hidden_act = hidden_act;
    m->out_act = out_act;
    m->spectral = spectral != 0;
    m->max_batch = max_batch;

    /* Widths come from options (--hidden, --layers): a net that cannot fit
     * is refused here, before any allocation, not by the allocator. Its
     * parameters come with a gradient and Adam's two moments. */
    double nparams = 0;
    for (int l = 0; l < L; l++) nparams += (double)E * ((double)m->width[l] + 1) * m->width[l + 1];
    if (pp_check_memory(nparams * sizeof(float) * 4) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", pp_error());
        return pp_fail("a net of %d hidden layers of width %d (%.3g parameters, each with a gradient and two Adam "
                       "moments) %s: lower --hidden or --layers",
                       nhidden, nhidden > 0 ? hidden[0] : 0, nparams, msg);
    }

    size_t off = 0;
    int maxw = 0;
    for (int l = 0; l <= L; l++)
        if (m->width[l] > maxw) maxw = m->width[l];
    m->max_width = maxw;
    for (int l = 0; l < L; l++) {
        size_t wi = (size_t)m->width[l], wo = (size_t)m->width[l + 1];
        m->off_w[l] = off;
        off += (size_t)E * wi * wo;
        m->off_b[l] = off;
        off += (size_t)E * wo;
        size_t act_n = (size_t)max_batch * E * wo;
        m->pre[l] = pp_xalloc_f32(act_n);
        m->post[l] = pp_mlp_layer_act(m, l) == PP_ACT_LINEAR ? m->pre[l] : pp_xalloc_f32(act_n);
        if (m->spectral) {
            m->sn_u[l] = pp_xalloc_f32((size_t)E * wo);
            m->sn_v[l] = pp_xalloc_f32((size_t)E * wi);
            m->sn_sigma[l] = pp_xalloc_f32((size_t)E);
            m->sn_w[l] = pp_xalloc_f32((size_t)E * wi * wo);
            m->sn_state_floats += (size_t)E * (wi + wo);
        }
    }
    m->nparams = off;
    m->delta_a = pp_xalloc_f32((size_t)max_batch * E * maxw);
    m->delta_b = pp_xalloc_f32((size_t)max_batch * E * maxw);
    m->sel_rows = pp_xcalloc((size_t)max_batch, sizeof *m->sel_rows);
    pp_blas_quiet_once();
    return 0;
}

void pp_mlp_free(pp_mlp *m)
{
    for (int l = 0; l < m->nlayers; l++) {
        if (m->post[l] != m->pre[l]) free(m->post[l]);
        free(m->pre[l]);
        free(m->sn_u[l]);
        free(m->sn_v[l]);
        free(m->sn_sigma[l]);
        free(m->sn_w[l]);
    }
    free(m->delta_a);
    free(m->delta_b);
    free(m->sel_rows);
    memset(m, 0, sizeof *m);
}

void pp_mlp_init_params(pp_mlp *m, float *params, pp_rng *rng)
{
    int E = m->members;
    for (int l = 0; l < m->nlayers; l++) {
        int in = m->width[l], out = m->width[l + 1];
        float bound = 1.0f / sqrtf((float)in);
        pp_rng_fill_uniform_f32(rng, params + m->off_w[l], (size_t)E * in * out, -bound, bound);
        pp_rng_fill_uniform_f32(rng, params + m->off_b[l], (size_t)E * out, -bound, bound);
    }
    if (m->spectral) pp_mlp_sn_init(m, params, rng);
}

const float *pp_mlp_forward(pp_mlp *m, const float *params, const float *x, int B)
{
    PP_MLP_REQUIRE(B >= 1 && B <= m->max_batch, "pp_mlp_forward: batch %d, expected 1..%d", B, m->max_batch);
    PP_MLP_REQUIRE(!m->spectral || m->sn_ready,
                   "pp_mlp_forward: spectral norm not computed (call pp_mlp_init_params, _sn_update or _sn_set)");
    int E = m->members;
    m->input = x;
    m->last_batch = B;
    const float *X = x;
    for (int l = 0; l < m->nlayers; l++) {
        int in = m->width[l], out = m->width[l + 1];
        const float *W = pp_mlp_weights(m, params, l);
        float *Y = m->pre[l];
        /* Y = b (rows), then Y += X W: the sgemm with beta = 1 needs no
         * separate zeroing pass, and the bias costs no pass of its own. */
        pp_kern_fill_rows(Y, params + m->off_b[l], B, E * out);
        if (l == 0) {
            pp_sgemm(0, 0, B, E * out, in, 1.0f, X, in, W, E * out, 1.0f, Y, E * out);
        } else {
            for (int e = 0; e < E; e++)
                pp_sgemm(0, 0, B, out, in, 1.0f, X + (size_t)e * in, E * in, W + (size_t)e * in * out, out, 1.0f,
                         Y + (size_t)e * out, E * out);
        }
        pp_kern_act(Y, m->post[l], (size_t)B * E * out, pp_mlp_layer_act(m, l));
        X = m->post[l];
    }
    return m->post[m->nlayers - 1];
}

const float *pp_mlp_forward_row(pp_mlp *m, const float *params, const float *x)
{
    PP_MLP_REQUIRE(m->max_batch >= 1, "pp_mlp_forward_row: the net has no buffers");
    PP_MLP_REQUIRE(!m->spectral || m->sn_ready,
                   "pp_mlp_forward_row: spectral norm not computed (call pp_mlp_init_params, _sn_update or _sn_set)");
    int E = m->members;
    m->input = x;
    m->last_batch = 1;
    const float *X = x;
    for (int l = 0; l < m->nlayers; l++) {
        int in = m->width[l], out = m->width[l + 1];
        const float *W = pp_mlp_weights(m, params, l), *b = params + m->off_b[l];
        float *Y = m->pre[l];
        if (l == 0) {
            pp_kern_matvec_f64(X, W, E * out, b, Y, in, E * out);
        } else {
            for (int e = 0; e < E; e++)
                pp_kern_matvec_f64(X + (size_t)e * in, W + (size_t)e * in * out, out, b + (size_t)e * out,
                                   Y + (size_t)e * out, in, out);
        }
        pp_kern_act(Y, m->post[l], (size_t)E * out, pp_mlp_layer_act(m, l));
        X = m->post[l];
    }
    return m->post[m->nlayers - 1];
}

/* Spectral norm: dL/dW = (G - <G, W_sn> v u^T) / sigma per member, with
 * G = X^T delta. <G, W_sn> = sum over rows of <x W_sn, delta> = <pre - b, delta>,
 * so it costs one pass over pre and no scratch. */
static void sn_weight_grad(pp_mlp *m, const float *params, int l, const float *X, int ldx,
                           const float *delta, float *dparams, int B)
{
    int E = m->members, in = m->width[l], out = m->width[l + 1];
    const float *b = params + m->off_b[l];
    for (int e = 0; e < E; e++) {
        double c = 0;
        for (int i = 0; i < B; i++) {
            const float *p = m->pre[l] + (size_t)i * E * out + (size_t)e * out;
            const float *d = delta + (size_t)i * E * out + (size_t)e * out;
            const float *be = b + (size_t)e * out;
            float s = 0;
            for (int j = 0; j < out; j++) s += (p[j] - be[j]) * d[j];
            c += s;
        }
        int ld;
        float *dW = dparams + m->off_w[l] + pp_mlp_wblock(m, l, e, &ld);
        float sigma = m->sn_sigma[l][e];
        pp_sgemm(1, 0, in, out, B, 1.0f / sigma, X + (size_t)e * (l == 0 ? 0 : in), ldx, delta + (size_t)e * out,
                 E * out, 1.0f, dW, ld);
        const float *u = m->sn_u[l] + (size_t)e * out, *v = m->sn_v[l] + (size_t)e * in;
        float k = (float)(c / sigma);
        for (int i = 0; i < in; i++)
            for (int j = 0; j < out; j++) dW[(size_t)i * ld + j] -= k * v[i] * u[j];
    }
}

void pp_mlp_backward(pp_mlp *m, const float *params, const float *dy, float *dparams, float *dx)
{
    int E = m->members, L = m->nlayers, B = m->last_batch;
    PP_MLP_REQUIRE(B >= 1, "pp_mlp_backward without a forward");
    if (!dparams && !dx) return;

    /* output layer's delta */
    int wl = E * m->width[L];
    const float *delta;
    float *spare;
    if (m->out_act == PP_ACT_LINEAR) {
        if (dparams) pp_kern_column_sums_add(dparams + m->off_b[L - 1], dy, B, wl);
        delta = dy;
        spare = m->delta_a;
    } else {
        pp_kern_act_backward(m->delta_a, dy, m->pre[L - 1], m->post[L - 1],
                             dparams ? dparams + m->off_b[L - 1] : NULL, B, wl, m->out_act);
        delta = m->delta_a;
        spare = m->delta_b;
    }

    for (int l = L - 1; l >= 0; l--) {
        int in = m->width[l], out = m->width[l + 1];
        const float *W = pp_mlp_weights(m, params, l);
        const float *X = l == 0 ? m->input : m->post[l - 1];
        int ldx = l == 0 ? in : E * in;
        if (dparams) {
            if (m->spectral) {
                sn_weight_grad(m, params, l, X, ldx, delta, dparams, B);
            } else if (l == 0) {
                pp_sgemm(1, 0, in, E * out, B, 1.0f, X, in, delta, E * out, 1.0f, dparams + m->off_w[0], E * out);
            } else {
                for (int e = 0; e < E; e++)
                    pp_sgemm(1, 0, in, out, B, 1.0f, X + (size_t)e * in, ldx, delta + (size_t)e * out, E * out, 1.0f,
                             dparams + m->off_w[l] + (size_t)e * in * out, out);
            }
        }
        if (l > 0) {
            float *next = spare;
            for (int e = 0; e < E; e++)
                pp_sgemm(0, 1, B, in, out, 1.0f, delta + (size_t)e * out, E * out, W + (size_t)e * in * out, out,
                         0.0f, next + (size_t)e * in, E * in);
            pp_kern_act_backward(next, next, m->pre[l - 1], m->post[l - 1],
                                 dparams ? dparams + m->off_b[l - 1] : NULL, B, E * in, m->hidden_act);
            spare = next == m->delta_a ? m->delta_b : m->delta_a;
            delta = next;
        } else if (dx) {
            pp_sgemm(0, 1, B, in, E * out, 1.0f, delta, E * out, W, E * out, 0.0f, dx, in);
        }
    }
}

double pp_mlp_forward_flops(const pp_mlp *m, int B)
{
    double f = 0;
    for (int l = 0; l < m->nlayers; l++) f += 2.0 * B * m->members * m->width[l] * m->width[l + 1];
    return f;
}

double pp_mlp_backward_flops(const pp_mlp *m, int B, int with_dparams, int with_dx)
{
    double f = 0;
    for (int l = 0; l < m->nlayers; l++) {
        double layer = 2.0 * B * m->members * m->width[l] * m->width[l + 1];
        if (with_dparams) f += layer;
        if (l > 0 || with_dx) f += layer;
    }
    if (!with_dparams && !with_dx) return 0;
    return f;
}
