/* mlp_spectral.c - spectral normalisation (Miyato et al. 2018), the PyTorch way.
 *
 * Per layer l and member e the weight block W ([in, out] as stored, i.e. the
 * map y = x W; in PyTorch's orientation A = W^T, [out, in]) is used as
 * W / sigma with sigma = u^T A v from a persistent power iteration:
 *     v <- normalise(A^T u) = normalise(W u)
 *     u <- normalise(A v)   = normalise(W^T v)
 *     sigma = u . (W^T v)
 * pp_mlp_sn_update does one such step for every block (call it once per
 * optimiser step, before the forward); pp_mlp_init_params seeds u and v from
 * the RNG and runs 15 steps, as torch.nn.utils.parametrizations.spectral_norm
 * does at construction. sigma is always computed from the stored (u, v) by
 * the same code, so restoring (u, v) with pp_mlp_sn_set reproduces sigma and
 * W / sigma bit for bit. The backward (mlp.c) treats u and v as constants.
 */
#include <math.h>
#include <string.h>

#include "nn/mlp_impl.h"
#include "nn/blas.h"

#define SN_INIT_ITERATIONS 15
#define SN_EPS 1e-12

static void normalise(float *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
    double norm = sqrt(s);
    float k = (float)(1.0 / (norm > SN_EPS ? norm : SN_EPS));
    for (int i = 0; i < n; i++) x[i] *= k;
}

/* sigma = u . (W^T v) from the stored u, v; then sn_w block = W / sigma. */
static void sigma_and_scale(pp_mlp *m, const float *params, int l, int e)
{
    int in = m->width[l], out = m->width[l + 1], ld;
    size_t off = pp_mlp_wblock(m, l, e, &ld);
    const float *W = params + m->off_w[l] + off;
    float *u = m->sn_u[l] + (size_t)e * out, *v = m->sn_v[l] + (size_t)e * in;
    float *t = m->delta_b; /* scratch: out floats */
    pp_sgemv(1, in, out, 1.0f, W, ld, v, 1, 0.0f, t, 1);
    double s = 0;
    for (int j = 0; j < out; j++) s += (double)u[j] * t[j];
    float sigma = (float)(s > SN_EPS ? s : SN_EPS);
    m->sn_sigma[l][e] = sigma;
    float k = 1.0f / sigma;
    float *Wsn = m->sn_w[l] + off;
    for (int i = 0; i < in; i++)
        for (int j = 0; j < out; j++) Wsn[(size_t)i * ld + j] = W[(size_t)i * ld + j] * k;
}

static void power_step(pp_mlp *m, const float *params, int l, int e)
{
    int in = m->width[l], out = m->width[l + 1], ld;
    const float *W = params + m->off_w[l] + pp_mlp_wblock(m, l, e, &ld);
    float *u = m->sn_u[l] + (size_t)e * out, *v = m->sn_v[l] + (size_t)e * in;
    pp_sgemv(0, in, out, 1.0f, W, ld, u, 1, 0.0f, v, 1);
    normalise(v, in);
    pp_sgemv(1, in, out, 1.0f, W, ld, v, 1, 0.0f, u, 1);
    normalise(u, out);
}

void pp_mlp_sn_update(pp_mlp *m, const float *params)
{
    if (!m->spectral) return;
    for (int l = 0; l < m->nlayers; l++)
        for (int e = 0; e < m->members; e++) {
            power_step(m, params, l, e);
            sigma_and_scale(m, params, l, e);
        }
    m->sn_ready = 1;
}

void pp_mlp_sn_init(pp_mlp *m, const float *params, pp_rng *rng)
{
    for (int l = 0; l < m->nlayers; l++) {
        int E = m->members, in = m->width[l], out = m->width[l + 1];
        pp_rng_fill_normal_f32(rng, m->sn_u[l], (size_t)E * out);
        pp_rng_fill_normal_f32(rng, m->sn_v[l], (size_t)E * in);
        for (int e = 0; e < E; e++) {
            normalise(m->sn_u[l] + (size_t)e * out, out);
            normalise(m->sn_v[l] + (size_t)e * in, in);
        }
    }
    for (int k = 0; k < SN_INIT_ITERATIONS; k++) pp_mlp_sn_update(m, params);
}

/* State order: for each layer, u of all members ([E*out]), then v ([E*in]). */
void pp_mlp_sn_get(const pp_mlp *m, float *dst)
{
    if (!m->spectral) return;
    for (int l = 0; l < m->nlayers; l++) {
        size_t nu = (size_t)m->members * m->width[l + 1], nv = (size_t)m->members * m->width[l];
        memcpy(dst, m->sn_u[l], nu * sizeof *dst);
        dst += nu;
        memcpy(dst, m->sn_v[l], nv * sizeof *dst);
        dst += nv;
    }
}

void pp_mlp_sn_set(pp_mlp *m, const float *src, const float *params)
{
    if (!m->spectral) return;
    for (int l = 0; l < m->nlayers; l++) {
        size_t nu = (size_t)m->members * m->width[l + 1], nv = (size_t)m->members * m->width[l];
        memcpy(m->sn_u[l], src, nu * sizeof *src);
        src += nu;
        memcpy(m->sn_v[l], src, nv * sizeof *src);
        src += nv;
        for (int e = 0; e < m->members; e++) sigma_and_scale(m, params, l, e);
    }
    m->sn_ready = 1;
}
