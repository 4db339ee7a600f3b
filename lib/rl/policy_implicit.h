/* policy_implicit.h - SQL's implicit sampler (docs/algorithm.md section 9).
 *
 * a = tanh(g_phi(s, xi)), xi ~ N(0, I_d): an MLP (obs + d) -> hidden x layers
 * (ReLU) -> d (linear), squashed by tanh, as softqlearning's
 * StochasticNNPolicy (squash=True). It has no log-probability; SQL trains it
 * by amortised SVGD (stage_policy.c, --update svgd).
 *
 * Rows: pp_implicit_sample draws `per_state` actions for each of S states,
 * rows ordered state-major (row r = s * per_state + m uses obs[s]), so
 * max_batch bounds S * per_state. The parameters are a blob owned by the
 * caller, as for pp_policy.
 *
 * The deterministic action (evaluation) is tanh(g_phi(s, 0)): SQL has no
 * mean action; xi = 0 is the mode of the latent and the convention here.
 */
#ifndef PP_POLICY_IMPLICIT_H
#define PP_POLICY_IMPLICIT_H

#include "nn/mlp.h"
#include "base/rng.h"

typedef struct {
    int obs_dim, act_dim, max_batch;
    pp_mlp net;
    size_t nparams;
    float *x;      /* [max_batch, obs_dim + act_dim] network input (obs, xi) */
    float *xi;     /* [max_batch, act_dim] */
    float *a;      /* [max_batch, act_dim] tanh outputs of the last sample */
    float *dout;   /* [max_batch, act_dim] backward scratch */
    float *block;  /* the one allocation behind the buffers above */
    int last_batch;
} pp_policy_implicit;

int pp_implicit_init(pp_policy_implicit *p, int obs_dim, int act_dim, int hidden, int nhidden,
                     int max_batch);
void pp_implicit_free(pp_policy_implicit *p);
void pp_implicit_init_params(pp_policy_implicit *p, float *params, pp_rng *rng);

/* per_state actions for each of S states (S * per_state <= max_batch), xi
 * drawn from rng (S * per_state * d normals, row-major); fills p->xi, p->a. */
void pp_implicit_sample(pp_policy_implicit *p, const float *params, const float *obs, int S,
                        int per_state, pp_rng *rng);
/* One action for one state with pp_mlp_forward_row (no BLAS, the net's sums
 * in double: nn/mlp.h), xi drawn from rng as pp_implicit_sample(S = 1,
 * per_state = 1) draws it, or xi = 0 with rng NULL: the evaluator's, which
 * runs in a thread beside the training (lib/stage/stage_eval.c). */
void pp_implicit_act_row(pp_policy_implicit *p, const float *params, const float *obs, pp_rng *rng);
/* Same with the given xi [S * per_state, d] (NULL: xi = 0, the deterministic action). */
void pp_implicit_sample_xi(pp_policy_implicit *p, const float *params, const float *obs, int S,
                           int per_state, const float *xi);
/* Backward of the last sample: d_a [rows, d] = dL/da; ACCUMULATES into dparams. */
void pp_implicit_backward(pp_policy_implicit *p, const float *params, const float *d_a,
                          float *dparams);

#endif
