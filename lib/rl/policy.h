/* policy.h - the Gaussian-tanh policy (docs/algorithm.md section 3).
 *
 * u = mu(s) + sigma(s) * eps, eps ~ N(0, I), a = tanh(u).
 * Network: MLP obs -> hidden -> hidden (ReLU) -> 2d outputs: mean (first d
 * columns) and log_std (last d), log_std clamped to [-20, 2] (a hard clamp:
 * zero gradient outside, as in SAC's reference implementation).
 * log pi(a|s) = sum_i [ log N(u_i; mu_i, sigma_i) - log(1 - tanh(u_i)^2) ],
 * log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)).
 *
 * The policy object owns its network workspace and per-batch buffers; the
 * parameters are a blob owned by the caller (so a frame's "policy" tensor can
 * be used in place).
 */
#ifndef PP_POLICY_H
#define PP_POLICY_H

#include "nn/mlp.h"
#include "base/rng.h"

typedef struct {
    int obs_dim, act_dim, max_batch;
    pp_mlp net;
    size_t nparams;
    /* [max_batch, act_dim] buffers of the last sample/forward */
    float *mu, *log_std, *std, *eps, *u, *a;
    float *logp;          /* [max_batch] */
    float *dnet;          /* [max_batch, 2*act_dim] scratch for backward */
    float *block;         /* the one allocation behind the buffers above */
    int last_batch;
} pp_policy;

int pp_policy_init(pp_policy *p, int obs_dim, int act_dim, int hidden, int nhidden, int max_batch);
void pp_policy_free(pp_policy *p);
void pp_policy_init_params(pp_policy *p, float *params, pp_rng *rng);

/* Reparameterised sample for obs [B, obs_dim]: draws eps from rng (B*d normals,
 * row-major), fills p->u, p->a, p->logp. */
void pp_policy_sample(pp_policy *p, const float *params, const float *obs, int B, pp_rng *rng);
/* Same with the given eps [B, d] (copied in): for tests and for replaying. */
void pp_policy_sample_eps(pp_policy *p, const float *params, const float *obs, int B,
                          const float *eps);
/* Deterministic action tanh(mu(s)) into p->a (and mu into p->u). */
void pp_policy_mean(pp_policy *p, const float *params, const float *obs, int B);
/* pp_policy_mean and pp_policy_sample for one row with pp_mlp_forward_row
 * (no BLAS; the net's sums in double, nn/mlp.h): the evaluator's, which runs
 * in a thread beside the training (lib/stage/stage_eval.c). The same draws
 * from rng as pp_policy_sample with B = 1; the actions differ from those of
 * pp_policy_mean / _sample in the last bits. */
void pp_policy_mean_row(pp_policy *p, const float *params, const float *obs);
void pp_policy_sample_row(pp_policy *p, const float *params, const float *obs, pp_rng *rng);
/* log pi of given pre-tanh actions u [B, d] under the policy at obs (used for
 * the Gaussian score in the BRAC prior): fills p->logp and p->mu/log_std. */
void pp_policy_log_prob(pp_policy *p, const float *params, const float *obs, const float *u, int B);

/* log pi of given actions a [B, d] (behaviour cloning, docs/algorithm.md
 * section 14): each component clipped to [-(1 - clip), 1 - clip] into p->a,
 * u = atanh(a) into p->u, eps = (u - mu) / sigma, and
 * log pi = log N(u; mu, sigma) - sum_i log(1 - tanh(u_i)^2) into p->logp
 * (the stable form of section 3, from u). clip in (0, 1). */
void pp_policy_log_prob_act(pp_policy *p, const float *params, const float *obs, const float *a,
                            int B, double clip);
/* Backward of the last pp_policy_log_prob_act: u is fixed (it comes from the
 * data), so only mu and log_std carry gradient, and the log-det term none:
 *   dlog pi/dmu = eps / sigma,  dlog pi/dlog_sigma = eps^2 - 1
 * (0 where the log_std clamp is active, as in pp_policy_backward). Given
 * dL/dlogp [B], ACCUMULATE into dparams. */
void pp_policy_backward_fixed(pp_policy *p, const float *params, const float *d_logp,
                              float *dparams);

/* Backward of the last pp_policy_sample(_eps): given dL/da [B, d] (nullable)
 * and dL/dlogp [B] (nullable), chain through a = tanh(u), u = mu + sigma*eps
 * and log pi, and ACCUMULATE into dparams. */
void pp_policy_backward(pp_policy *p, const float *params, const float *d_a, const float *d_logp,
                        float *dparams);
/* The same with dL/du [B, d] (nullable) too, for a term that is a function
 * of u itself (ParPI's prior term, docs/algorithm.md section 17): added to
 * what d_a and d_logp give u. */
void pp_policy_backward_u(pp_policy *p, const float *params, const float *d_a, const float *d_u,
                          const float *d_logp, float *dparams);

#endif
