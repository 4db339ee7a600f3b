/* discrim.c - one discriminator update: divergence loss, Lipschitz control, Adam. */
#include "rl/discrim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "nn/adam.h"

static const char *const lip_names[] = {"none", "sn", "gp"};

int pp_lipschitz_parse(const char *name, pp_lipschitz *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, lip_names[i]) == 0) {
            *out = (pp_lipschitz)i;
            return 0;
        }
    return pp_fail("unknown Lipschitz control '%s', expected one of none, sn, gp", name);
}

const char *pp_lipschitz_name(pp_lipschitz l) { return (unsigned)l < 3 ? lip_names[l] : "?"; }

int pp_discrim_init(pp_discrim *d, pp_divergence div, pp_lipschitz lip, int in_dim, int hidden,
                    int layers, int max_batch, float lr, float gp_weight, pp_rng *init_rng)
{
    memset(d, 0, sizeof *d);
    if (layers < 1 || layers > PP_MLP_MAX_LAYERS - 1)
        return pp_fail("discriminator: %d hidden layers, expected 1 to %d", layers, PP_MLP_MAX_LAYERS - 1);
    int widths[PP_MLP_MAX_LAYERS];
    for (int l = 0; l < layers; l++) widths[l] = hidden;
    if (pp_mlp_init(&d->net, in_dim, layers, widths, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR,
                    lip == PP_LIP_SN, 2 * max_batch) != 0)
        return pp_fail_prefix("discriminator: ");
    if (lip == PP_LIP_GP && pp_mlp_grad_penalty_check(&d->net) != 0) {
        pp_mlp_free(&d->net);
        return pp_fail_prefix("discriminator: --lipschitz gp: ");
    }
    d->div = div;
    d->lip = lip;
    d->gp_weight = gp_weight;
    d->in_dim = in_dim;
    d->hidden = hidden;
    d->layers = layers;
    d->max_batch = max_batch;
    size_t n = d->net.nparams, rows = 2 * (size_t)max_batch;
    d->params = pp_xalloc_f32(n);
    d->grads = pp_xalloc_f32(n);
    if (pp_adam_init(&d->adam, n, lr) != 0) {
        pp_discrim_free(d);
        return pp_fail_prefix("discriminator: ");
    }
    d->x = pp_xalloc_f32(rows * in_dim);
    d->f = pp_xalloc_f32(rows);
    d->df = pp_xalloc_f32(rows);
    d->xgp = pp_xalloc_f32((size_t)max_batch * in_dim);
    d->sn_keep = pp_xalloc_f32(d->net.sn_state_floats + 1);
    pp_mlp_init_params(&d->net, d->params, init_rng);
    if (lip == PP_LIP_SN) pp_mlp_sn_update(&d->net, d->params); /* sigma cached for eval */
    return 0;
}

void pp_discrim_free(pp_discrim *d)
{
    pp_mlp_free(&d->net);
    pp_adam_free(&d->adam);
    free(d->params);
    free(d->grads);
    free(d->x);
    free(d->f);
    free(d->df);
    free(d->xgp);
    free(d->sn_keep);
    memset(d, 0, sizeof *d);
}

double pp_discrim_loss_grad(pp_discrim *d, int B, pp_discrim_stats *st)
{
    const float *y = pp_mlp_forward(&d->net, d->params, d->x, 2 * B);
    memcpy(d->f, y, 2 * (size_t)B * sizeof(float));
    double loss = pp_divergence_disc_loss(d->div, d->f, B, d->f + B, B, d->df, d->df + B);
    memset(d->grads, 0, d->net.nparams * sizeof(float));
    pp_mlp_backward(&d->net, d->params, d->df, d->grads, NULL);
    double gp = 0.0;
    if (d->lip == PP_LIP_GP)
        gp = pp_mlp_grad_penalty(&d->net, d->params, d->xgp, B, d->gp_weight, d->grads);
    if (st) {
        double sp = 0, spi = 0;
        for (int i = 0; i < B; i++) {
            sp += d->f[i];
            spi += d->f[B + i];
        }
        st->f_p_mean = sp / B;
        st->f_pi_mean = spi / B;
        st->gap = st->f_p_mean - st->f_pi_mean;
        st->gp = gp;
        st->loss = loss + gp;
    }
    return loss + gp;
}

int pp_discrim_update(pp_discrim *d, const float *x_p, const float *x_pi, int B, pp_rng *rng,
                      pp_discrim_stats *st)
{
    if (B < 1 || B > d->max_batch)
        return pp_fail("discriminator: batch of %d rows, expected 1 to %d", B, d->max_batch);
    size_t in = (size_t)d->in_dim, half = (size_t)B * in;
    if (x_p != d->x) memmove(d->x, x_p, half * sizeof(float));
    if (x_pi != d->x + half) memmove(d->x + half, x_pi, half * sizeof(float));
    pp_rng rng_keep = *rng;
    if (d->lip == PP_LIP_SN) {
        pp_mlp_sn_get(&d->net, d->sn_keep);
        pp_mlp_sn_update(&d->net, d->params);
    }
    if (d->lip == PP_LIP_GP) {
        for (int b = 0; b < B; b++) {
            float t = (float)pp_rng_uniform(rng);
            const float *p = d->x + b * in, *q = d->x + half + b * in;
            float *o = d->xgp + b * in;
            for (size_t j = 0; j < in; j++) o[j] = t * p[j] + (1.0f - t) * q[j];
        }
    }
    pp_discrim_stats s;
    double loss = pp_discrim_loss_grad(d, B, &s);
    int finite = isfinite(loss);
    for (size_t i = 0; finite && i < d->net.nparams; i++) finite = isfinite(d->grads[i]);
    if (!finite) {
        *rng = rng_keep;
        if (d->lip == PP_LIP_SN) pp_mlp_sn_set(&d->net, d->sn_keep, d->params);
        return pp_fail("discriminator: the %s loss or its gradient is not finite (loss %g; mean f "
                       "on particles %g, on policy samples %g): parameters left unchanged",
                       pp_divergence_name(d->div), loss, s.f_p_mean, s.f_pi_mean);
    }
    pp_adam_step(&d->adam, d->params, d->grads);
    d->updates++;
    if (d->lip == PP_LIP_SN) {
        /* refresh the cached W/sigma for the new weights with the same vectors
         * (no power step): what a reader of the disc map computes */
        pp_mlp_sn_get(&d->net, d->sn_keep);
        pp_mlp_sn_set(&d->net, d->sn_keep, d->params);
    }
    if (st) *st = s;
    return 0;
}

void pp_discrim_eval(pp_discrim *d, const float *x, int B, float *out)
{
    const float *y = pp_mlp_forward(&d->net, d->params, x, B);
    memcpy(out, y, (size_t)B * sizeof(float));
}
