/* dual.c - one update of BRAC's KL dual critic (dual.h; docs/algorithm.md
 * section 15): the terms of rl/kl_dual.h, the one-sided penalty of
 * nn/mlp_penalty.c on the action columns, Adam. */
#include "rl/dual.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rl/kl_dual.h"

int pp_dual_init(pp_dual *d, int obs_dim, int act_dim, int hidden, int layers, int max_batch, float lr,
                 float gp_weight, pp_rng *init_rng)
{
    memset(d, 0, sizeof *d);
    if (layers < 1 || layers > PP_MLP_MAX_LAYERS - 1)
        return pp_fail("dual critic: %d hidden layers, expected 1 to %d", layers, PP_MLP_MAX_LAYERS - 1);
    if (obs_dim < 1 || act_dim < 1)
        return pp_fail("dual critic: obs %d, act %d, expected sizes >= 1", obs_dim, act_dim);
    int widths[PP_MLP_MAX_LAYERS];
    for (int l = 0; l < layers; l++) widths[l] = hidden;
    int in = obs_dim + act_dim;
    if (pp_mlp_init(&d->net, in, layers, widths, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, 2 * max_batch) != 0)
        return pp_fail_prefix("dual critic: ");
    if (pp_mlp_grad_penalty_check(&d->net) != 0) {
        pp_mlp_free(&d->net);
        return pp_fail_prefix("dual critic: ");
    }
    d->obs_dim = obs_dim;
    d->act_dim = act_dim;
    d->hidden = hidden;
    d->layers = layers;
    d->max_batch = max_batch;
    d->gp_weight = gp_weight;
    size_t n = d->net.nparams, rows = 2 * (size_t)max_batch;
    if (pp_adam_init(&d->adam, n, lr) != 0) {
        pp_mlp_free(&d->net);
        return pp_fail_prefix("dual critic: ");
    }
    d->params = pp_xalloc_f32(n);
    d->grads = pp_xalloc_f32(n);
    d->x = pp_xalloc_f32(rows * in);
    d->c = pp_xalloc_f32(rows);
    d->dc = pp_xalloc_f32(rows);
    d->xgp = pp_xalloc_f32((size_t)max_batch * in);
    pp_mlp_init_params(&d->net, d->params, init_rng);
    return 0;
}

void pp_dual_free(pp_dual *d)
{
    pp_mlp_free(&d->net);
    pp_adam_free(&d->adam);
    free(d->params);
    free(d->grads);
    free(d->x);
    free(d->c);
    free(d->dc);
    free(d->xgp);
    memset(d, 0, sizeof *d);
}

void pp_dual_fill(pp_dual *d, const float *obs, const float *a_p, const float *a_b, int B)
{
    size_t O = (size_t)d->obs_dim, A = (size_t)d->act_dim, in = O + A;
    for (int b = 0; b < B; b++) {
        float *xp = d->x + (size_t)b * in, *xb = d->x + (size_t)(B + b) * in;
        memcpy(xp, obs + b * O, O * sizeof(float));
        memcpy(xb, obs + b * O, O * sizeof(float));
        memcpy(xp + O, a_p + b * A, A * sizeof(float));
        memcpy(xb + O, a_b + b * A, A * sizeof(float));
    }
}

double pp_dual_loss_grad(pp_dual *d, int B, pp_dual_stats *st)
{
    const float *y = pp_mlp_forward(&d->net, d->params, d->x, 2 * B);
    memcpy(d->c, y, 2 * (size_t)B * sizeof(float));
    double sp = 0, sb = 0, cp = 0, cb = 0, ib = 1.0 / B, dv;
    for (int b = 0; b < B; b++) {
        sp += pp_kl_dual_term_p(d->c[b], &dv);
        d->dc[b] = (float)(-dv * ib);
        sb += pp_kl_dual_term_b(d->c[B + b], &dv);
        d->dc[B + b] = (float)(-dv * ib);
        cp += d->c[b];
        cb += d->c[B + b];
    }
    double est = (sp + sb) * ib;
    memset(d->grads, 0, d->net.nparams * sizeof(float));
    pp_mlp_backward(&d->net, d->params, d->dc, d->grads, NULL);
    double gp = 0.0;
    if (d->gp_weight > 0)
        gp = pp_mlp_grad_penalty_cols(&d->net, d->params, d->xgp, B, d->gp_weight, d->obs_dim, 1, d->grads);
    if (st) {
        st->estimate = est;
        st->gp = gp;
        st->loss = -est + gp;
        st->c_p_mean = cp * ib;
        st->c_b_mean = cb * ib;
    }
    return -est + gp;
}

int pp_dual_update(pp_dual *d, const float *obs, const float *a_p, const float *a_b, int B, pp_rng *rng,
                   pp_dual_stats *st)
{
    if (B < 1 || B > d->max_batch)
        return pp_fail("dual critic: batch of %d rows, expected 1 to %d", B, d->max_batch);
    pp_dual_fill(d, obs, a_p, a_b, B);
    size_t O = (size_t)d->obs_dim, A = (size_t)d->act_dim, in = O + A;
    pp_rng rng_keep = *rng;
    if (d->gp_weight > 0) /* a~ = a_p + t (a_b - a_p) at the same state */
        for (int b = 0; b < B; b++) {
            float t = (float)pp_rng_uniform(rng);
            const float *p = a_p + b * A, *q = a_b + b * A;
            float *o = d->xgp + b * in;
            memcpy(o, obs + b * O, O * sizeof(float));
            for (size_t j = 0; j < A; j++) o[O + j] = p[j] + t * (q[j] - p[j]);
        }
    pp_dual_stats s;
    double loss = pp_dual_loss_grad(d, B, &s);
    int finite = isfinite(loss);
    for (size_t i = 0; finite && i < d->net.nparams; i++) finite = isfinite(d->grads[i]);
    if (!finite) {
        *rng = rng_keep;
        return pp_fail("dual critic: the loss or its gradient is not finite (loss %g; mean c at policy "
                       "actions %g, at behaviour actions %g): parameters left unchanged",
                       loss, s.c_p_mean, s.c_b_mean);
    }
    pp_adam_step(&d->adam, d->params, d->grads);
    d->updates++;
    if (st) *st = s;
    return 0;
}

double pp_dual_estimate(pp_dual *d, const float *obs, const float *a_p, const float *a_b, int B, float *out)
{
    pp_dual_fill(d, obs, a_p, a_b, B);
    const float *y = pp_mlp_forward(&d->net, d->params, d->x, 2 * B);
    double s = 0;
    for (int b = 0; b < B; b++) {
        double v = pp_kl_dual_term_p(y[b], NULL) + pp_kl_dual_term_b(y[B + b], NULL);
        if (out) out[b] = (float)v;
        s += v;
    }
    return s / B;
}
