/* dual.h - BRAC's KL dual critic c(s, a) (docs/algorithm.md section 15), as a
 * plain object on rows: the stage (stage_dual.c) fills them from the batch,
 * the current policy and the behaviour policy; the tests from two Gaussians.
 *
 * Net: MLP (obs + act) -> hidden x layers (ReLU) -> 1 (linear), no spectral
 * norm. With the per-sample terms of rl/kl_dual.h, one update is one Adam
 * step on
 *
 *   L = -( mean_b term_p(c(s_b, a_p,b)) + mean_b term_b(c(s_b, a_b,b)) )
 *       + gp_weight * mean_b max(||grad_a c(s_b, a~_b)|| - 1, 0)^2
 *
 * a~ = a_p + t (a_b - a_p), t ~ U(0,1) per row, the gradient with respect to
 * the action columns only and ||g|| = sqrt(1e-8 + sum g^2): BRAC's one-sided
 * gradient_penalty (nn/mlp.h, pp_mlp_grad_penalty_cols). The estimate D is
 * the bracket: a lower bound of KL(pi || pi_beta), averaged over the states.
 */
#ifndef PP_DUAL_H
#define PP_DUAL_H

#include "base/rng.h"
#include "nn/adam.h"
#include "nn/mlp.h"

typedef struct {
    int obs_dim, act_dim, hidden, layers, max_batch; /* max_batch: rows per side */
    float gp_weight;
    pp_mlp net;            /* 2*max_batch rows */
    float *params, *grads; /* owned blobs [net.nparams] */
    pp_adam adam;
    float *x;   /* [2*max_batch, in]: (s, a_p) rows 0..B-1, then (s, a_b) rows B..2B-1 */
    float *c;   /* [2*max_batch] c of the last loss */
    float *dc;  /* [2*max_batch] dL/dc */
    float *xgp; /* [max_batch, in] the interpolates (s, a~) */
    long long updates;
} pp_dual;

typedef struct {
    double loss;     /* -estimate + gp */
    double estimate; /* D = mean term_p + mean term_b, before the step */
    double gp;       /* the penalty term */
    double c_p_mean, c_b_mean;
} pp_dual_stats;

/* Build the net (checked for the penalty) and Adam (lr); params from init_rng. */
int pp_dual_init(pp_dual *d, int obs_dim, int act_dim, int hidden, int layers, int max_batch, float lr,
                 float gp_weight, pp_rng *init_rng);
void pp_dual_free(pp_dual *d);

/* d->x's rows for B states obs [B, obs_dim], policy actions a_p and behaviour
 * actions a_b [B, act_dim]. */
void pp_dual_fill(pp_dual *d, const float *obs, const float *a_p, const float *a_b, int B);

/* Loss and gradient (into d->grads, overwritten) on d->x's 2B rows and, with
 * gp_weight > 0, the interpolates in d->xgp. Fills st (nullable). */
double pp_dual_loss_grad(pp_dual *d, int B, pp_dual_stats *st);

/* One update: pp_dual_fill, interpolates from rng (one uniform per row), loss,
 * gradient, Adam step. 0; -1 when the loss or a gradient is not finite: then
 * params, Adam, updates and rng are as before. */
int pp_dual_update(pp_dual *d, const float *obs, const float *a_p, const float *a_b, int B, pp_rng *rng,
                   pp_dual_stats *st);

/* The per-state estimate D_b = term_p(c(s_b, a_p,b)) + term_b(c(s_b, a_b,b))
 * into out [B] (nullable); returns the mean (double sums). Overwrites d->x. */
double pp_dual_estimate(pp_dual *d, const float *obs, const float *a_p, const float *a_b, int B, float *out);

#endif
