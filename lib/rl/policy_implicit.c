/* policy_implicit.c - SQL's implicit sampler a = tanh(g_phi(s, xi)); see policy_implicit.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "nn/vec.h"
#include "rl/policy_implicit.h"

int pp_implicit_init(pp_policy_implicit *p, int obs_dim, int act_dim, int hidden, int nhidden,
                     int max_batch)
{
    memset(p, 0, sizeof *p);
    if (obs_dim < 1 || act_dim < 1 || hidden < 1 || nhidden < 1 || max_batch < 1)
        return pp_fail("implicit policy: obs_dim %d, act_dim %d, hidden %d, layers %d, "
                       "max_batch %d: expected all >= 1",
                       obs_dim, act_dim, hidden, nhidden, max_batch);
    if (nhidden + 1 > PP_MLP_MAX_LAYERS)
        return pp_fail("implicit policy: %d hidden layers, expected at most %d", nhidden,
                       PP_MLP_MAX_LAYERS - 1);
    int widths[PP_MLP_MAX_LAYERS];
    for (int l = 0; l < nhidden; l++) widths[l] = hidden;
    if (pp_mlp_init(&p->net, obs_dim + act_dim, nhidden, widths, act_dim, 1, PP_ACT_RELU,
                    PP_ACT_LINEAR, 0, max_batch) != 0)
        return pp_fail_prefix("implicit policy network: ");
    p->obs_dim = obs_dim;
    p->act_dim = act_dim;
    p->max_batch = max_batch;
    p->nparams = p->net.nparams;
    const size_t n = (size_t)max_batch * (size_t)act_dim;
    float **views[] = {&p->x, &p->xi, &p->a, &p->dout};
    const size_t sizes[] = {(size_t)max_batch * (size_t)(obs_dim + act_dim), n, n, n};
    p->block = pp_vec_carve(views, sizes, 4);
    return 0;
}

void pp_implicit_free(pp_policy_implicit *p)
{
    if (!p) return;
    pp_mlp_free(&p->net);
    free(p->block);
    memset(p, 0, sizeof *p);
}

void pp_implicit_init_params(pp_policy_implicit *p, float *params, pp_rng *rng)
{
    pp_mlp_init_params(&p->net, params, rng);
}

/* row: one row through pp_mlp_forward_row (S = per_state = 1). */
static void forward_how(pp_policy_implicit *p, const float *params, const float *obs, int S, int per_state,
                        int row)
{
    const int O = p->obs_dim, d = p->act_dim, W = O + d, rows = S * per_state;
    for (int r = 0; r < rows; r++) {
        float *x = p->x + (size_t)r * W;
        memcpy(x, obs + (size_t)(r / per_state) * O, sizeof(float) * O);
        memcpy(x + O, p->xi + (size_t)r * d, sizeof(float) * d);
    }
    const float *out = row ? pp_mlp_forward_row(&p->net, params, p->x) : pp_mlp_forward(&p->net, params, p->x, rows);
    for (size_t k = 0; k < (size_t)rows * d; k++) p->a[k] = tanhf(out[k]);
    p->last_batch = rows;
}

static void forward(pp_policy_implicit *p, const float *params, const float *obs, int S, int per_state)
{
    forward_how(p, params, obs, S, per_state, 0);
}

void pp_implicit_act_row(pp_policy_implicit *p, const float *params, const float *obs, pp_rng *rng)
{
    if (rng)
        pp_rng_fill_normal_f32(rng, p->xi, (size_t)p->act_dim);
    else
        memset(p->xi, 0, sizeof(float) * (size_t)p->act_dim);
    forward_how(p, params, obs, 1, 1, 1);
}

void pp_implicit_sample_xi(pp_policy_implicit *p, const float *params, const float *obs, int S,
                           int per_state, const float *xi)
{
    size_t n = (size_t)S * per_state * p->act_dim;
    if (xi)
        memcpy(p->xi, xi, sizeof(float) * n);
    else
        memset(p->xi, 0, sizeof(float) * n);
    forward(p, params, obs, S, per_state);
}

void pp_implicit_sample(pp_policy_implicit *p, const float *params, const float *obs, int S,
                        int per_state, pp_rng *rng)
{
    pp_rng_fill_normal_f32(rng, p->xi, (size_t)S * per_state * p->act_dim);
    forward(p, params, obs, S, per_state);
}

void pp_implicit_backward(pp_policy_implicit *p, const float *params, const float *d_a,
                          float *dparams)
{
    size_t n = (size_t)p->last_batch * p->act_dim;
    for (size_t k = 0; k < n; k++) p->dout[k] = d_a[k] * (1.0f - p->a[k] * p->a[k]);
    pp_mlp_backward(&p->net, params, p->dout, dparams, NULL);
}
