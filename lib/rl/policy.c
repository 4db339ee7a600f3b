/* policy.c - the Gaussian-tanh policy (docs/algorithm.md section 3; see policy.h).
 *
 * Per row b and action dimension i (net output o = [mu | log_std_raw]):
 *   log_std = clamp(log_std_raw, -20, 2), std = exp(log_std)
 *   u = mu + std * eps, a = tanh(u)
 *   log pi = sum_i [ -eps_i^2/2 - log_std_i - log(2 pi)/2 - log(1 - tanh(u_i)^2) ]
 * ((u - mu)/std is eps itself, so the Gaussian term uses eps directly.)
 *
 * Backward, with d_a = dL/da and g = dL/dlogpi:
 *   dL/du       = d_a * (1 - a^2) + g * 2a          (d/du -log(1-tanh^2 u) = 2 tanh u)
 *   dL/dmu      = dL/du
 *   dL/dlog_std = dL/du * std * eps - g             (zero where the clamp is active,
 *                                                    i.e. log_std sits on a bound)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "nn/vec.h"
#include "rl/policy.h"

#define LOG_STD_MIN (-20.0f)
#define LOG_STD_MAX 2.0f
#define HALF_LOG_2PI 0.91893853320467274178f

/* log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable for any u. */
static inline float log1m_tanh2(float u)
{
    float x = -2.0f * u;
    float sp = x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
    return 2.0f * (0.69314718055994530942f - u - sp);
}

int pp_policy_init(pp_policy *p, int obs_dim, int act_dim, int hidden, int nhidden, int max_batch)
{
    memset(p, 0, sizeof *p);
    if (obs_dim < 1 || act_dim < 1 || hidden < 1 || nhidden < 1 || max_batch < 1)
        return pp_fail("policy: obs_dim %d, act_dim %d, hidden %d, layers %d, max_batch %d: "
                       "expected all >= 1", obs_dim, act_dim, hidden, nhidden, max_batch);
    if (nhidden + 1 > PP_MLP_MAX_LAYERS)
        return pp_fail("policy: %d hidden layers, expected at most %d", nhidden,
                       PP_MLP_MAX_LAYERS - 1);
    int widths[PP_MLP_MAX_LAYERS];
    for (int l = 0; l < nhidden; l++) widths[l] = hidden;
    if (pp_mlp_init(&p->net, obs_dim, nhidden, widths, 2 * act_dim, 1, PP_ACT_RELU, PP_ACT_LINEAR,
                    0, max_batch) != 0)
        return pp_fail_prefix("policy network: ");
    p->obs_dim = obs_dim;
    p->act_dim = act_dim;
    p->max_batch = max_batch;
    p->nparams = p->net.nparams;
    const size_t n = (size_t)max_batch * (size_t)act_dim;
    float **views[] = {&p->mu, &p->log_std, &p->std, &p->eps, &p->u, &p->a, &p->logp, &p->dnet};
    const size_t sizes[] = {n, n, n, n, n, n, (size_t)max_batch, 2 * n};
    p->block = pp_vec_carve(views, sizes, 8);
    return 0;
}

void pp_policy_free(pp_policy *p)
{
    if (!p) return;
    pp_mlp_free(&p->net);
    free(p->block);
    memset(p, 0, sizeof *p);
}

void pp_policy_init_params(pp_policy *p, float *params, pp_rng *rng)
{
    pp_mlp_init_params(&p->net, params, rng);
}

/* Split the net's output [B, 2d] into mu and the clamped log_std / std. */
static void split_heads(pp_policy *p, const float *out, int B)
{
    const int d = p->act_dim;
    for (int b = 0; b < B; b++) {
        const float *o = out + (size_t)b * 2 * d;
        float *mu = p->mu + (size_t)b * d, *ls = p->log_std + (size_t)b * d,
              *sd = p->std + (size_t)b * d;
        for (int i = 0; i < d; i++) {
            float l = o[d + i];
            l = l < LOG_STD_MIN ? LOG_STD_MIN : (l > LOG_STD_MAX ? LOG_STD_MAX : l);
            mu[i] = o[i];
            ls[i] = l;
            sd[i] = expf(l);
        }
    }
    p->last_batch = B;
}

/* Run the net and split its output. */
static void heads(pp_policy *p, const float *params, const float *obs, int B)
{
    split_heads(p, pp_mlp_forward(&p->net, params, obs, B), B);
}

/* u, a and log pi from mu, log_std, std and eps (all filled). */
static void finish_sample(pp_policy *p, int B)
{
    const int d = p->act_dim;
    for (int b = 0; b < B; b++) {
        size_t r = (size_t)b * d;
        float lp = 0.0f;
        for (int i = 0; i < d; i++) {
            float e = p->eps[r + i];
            float u = p->mu[r + i] + p->std[r + i] * e;
            p->u[r + i] = u;
            p->a[r + i] = tanhf(u);
            lp += -0.5f * e * e - p->log_std[r + i] - HALF_LOG_2PI - log1m_tanh2(u);
        }
        p->logp[b] = lp;
    }
}

void pp_policy_sample_eps(pp_policy *p, const float *params, const float *obs, int B,
                          const float *eps)
{
    heads(p, params, obs, B);
    memcpy(p->eps, eps, sizeof(float) * (size_t)B * p->act_dim);
    finish_sample(p, B);
}

void pp_policy_sample(pp_policy *p, const float *params, const float *obs, int B, pp_rng *rng)
{
    heads(p, params, obs, B);
    pp_rng_fill_normal_f32(rng, p->eps, (size_t)B * p->act_dim);
    finish_sample(p, B);
}

void pp_policy_mean(pp_policy *p, const float *params, const float *obs, int B)
{
    heads(p, params, obs, B);
    size_t n = (size_t)B * p->act_dim;
    for (size_t k = 0; k < n; k++) {
        p->u[k] = p->mu[k];
        p->a[k] = tanhf(p->mu[k]);
    }
}

/* The evaluator's one row (policy.h): the same heads on pp_mlp_forward_row. */
void pp_policy_mean_row(pp_policy *p, const float *params, const float *obs)
{
    split_heads(p, pp_mlp_forward_row(&p->net, params, obs), 1);
    for (int k = 0; k < p->act_dim; k++) {
        p->u[k] = p->mu[k];
        p->a[k] = tanhf(p->mu[k]);
    }
}

void pp_policy_sample_row(pp_policy *p, const float *params, const float *obs, pp_rng *rng)
{
    split_heads(p, pp_mlp_forward_row(&p->net, params, obs), 1);
    pp_rng_fill_normal_f32(rng, p->eps, (size_t)p->act_dim);
    finish_sample(p, 1);
}

void pp_policy_log_prob(pp_policy *p, const float *params, const float *obs, const float *u, int B)
{
    heads(p, params, obs, B);
    size_t n = (size_t)B * p->act_dim;
    for (size_t k = 0; k < n; k++) p->eps[k] = (u[k] - p->mu[k]) / p->std[k];
    finish_sample(p, B);
    /* finish_sample recomputed u = mu + std*eps; keep the caller's exactly. */
    memcpy(p->u, u, sizeof(float) * n);
}

/* Behaviour cloning (docs/algorithm.md section 14). */
void pp_policy_log_prob_act(pp_policy *p, const float *params, const float *obs, const float *a,
                            int B, double clip)
{
    heads(p, params, obs, B);
    const int d = p->act_dim;
    const double hi = 1.0 - clip;
    for (int b = 0; b < B; b++) {
        size_t r = (size_t)b * d;
        float lp = 0.0f;
        for (int i = 0; i < d; i++) {
            double x = a[r + i];
            x = x < -hi ? -hi : (x > hi ? hi : x);
            float u = (float)atanh(x);
            float e = (u - p->mu[r + i]) / p->std[r + i];
            p->a[r + i] = (float)x;
            p->u[r + i] = u;
            p->eps[r + i] = e;
            lp += -0.5f * e * e - p->log_std[r + i] - HALF_LOG_2PI - log1m_tanh2(u);
        }
        p->logp[b] = lp;
    }
}

void pp_policy_backward_fixed(pp_policy *p, const float *params, const float *d_logp,
                              float *dparams)
{
    const int d = p->act_dim, B = p->last_batch;
    for (int b = 0; b < B; b++) {
        size_t r = (size_t)b * d;
        float g = d_logp[b];
        float *dmu = p->dnet + (size_t)b * 2 * d, *dls = dmu + d;
        for (int i = 0; i < d; i++) {
            float e = p->eps[r + i], ls = p->log_std[r + i];
            dmu[i] = g * e / p->std[r + i];
            int active = ls > LOG_STD_MIN && ls < LOG_STD_MAX;
            dls[i] = active ? g * (e * e - 1.0f) : 0.0f;
        }
    }
    pp_mlp_backward(&p->net, params, p->dnet, dparams, NULL);
}

void pp_policy_backward(pp_policy *p, const float *params, const float *d_a, const float *d_logp,
                        float *dparams)
{
    pp_policy_backward_u(p, params, d_a, NULL, d_logp, dparams);
}

void pp_policy_backward_u(pp_policy *p, const float *params, const float *d_a, const float *d_u,
                          const float *d_logp, float *dparams)
{
    const int d = p->act_dim, B = p->last_batch;
    for (int b = 0; b < B; b++) {
        size_t r = (size_t)b * d;
        float g = d_logp ? d_logp[b] : 0.0f;
        float *dmu = p->dnet + (size_t)b * 2 * d, *dls = dmu + d;
        for (int i = 0; i < d; i++) {
            float u = p->u[r + i], a = p->a[r + i];
            float sech2 = expf(log1m_tanh2(u));
            float du = 2.0f * a * g;
            if (d_a) du += d_a[r + i] * sech2;
            if (d_u) du += d_u[r + i];
            dmu[i] = du;
            float ls = p->log_std[r + i];
            int active = ls > LOG_STD_MIN && ls < LOG_STD_MAX;
            dls[i] = active ? du * p->std[r + i] * p->eps[r + i] - g : 0.0f;
        }
    }
    pp_mlp_backward(&p->net, params, p->dnet, dparams, NULL);
}
