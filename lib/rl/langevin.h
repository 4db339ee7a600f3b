/* langevin.h - unadjusted Langevin dynamics in pre-tanh action space
 * (docs/algorithm.md section 6).
 *
 * Target in action space p(a|s) ∝ exp(Q(s,a)/alpha), Q = min(Q1, Q2); in
 * u-space (a = tanh u) the log-density is
 *     log p(u|s) = Q(s, tanh u)/alpha + sum_i log(1 - tanh(u_i)^2) + const,
 * so the score is
 *     g(u) = grad_a Q(s,a)|_{a=tanh u} * (1 - tanh(u)^2)/alpha - 2 tanh(u).
 * One step: u <- u + eps * g(u) + sqrt(2 eps) * xi, xi ~ N(0, I).
 *
 * BRAC prior (offline, section 6): target ∝ pi_beta(a|s) exp(Q/alpha). With
 * pi_beta Gaussian-tanh, its a-space density at a = tanh u is
 * N(u; mu, sigma) / (1 - tanh(u)^2), so adding grad_u log pi_beta(tanh u|s)
 * = -(u - mu)/sigma^2 + 2 tanh u to g cancels the Jacobian term: the u-space
 * target is exactly N(u; mu_beta, sigma_beta) exp(Q(s, tanh u)/alpha) and
 *     g(u) = grad_a Q * (1 - tanh(u)^2)/alpha - (u - mu_beta)/sigma_beta^2.
 *
 * The sampler takes the score as a function, so it is tested on analytic
 * targets; pp_qscore is the score of the twin critic used by the stage.
 */
#ifndef PP_LANGEVIN_H
#define PP_LANGEVIN_H

#include "nn/mlp.h"
#include "base/rng.h"

/* Fill g [B, d] with the score at u [B, d]. 0, or -1 with pp_fail. */
typedef int (*pp_langevin_score_fn)(void *ctx, const float *u, int B, int d, float *g);

/* K steps of u <- u + eps g(u) + sqrt(2 eps) xi on u [B, d], in place.
 * g and xi are caller scratch of B*d floats. Normals are drawn B*d per step,
 * row-major. Returns 0; -1 if the score fails or a particle becomes
 * non-finite (u is then partly updated: callers keep a copy). */
int pp_langevin_run(float *u, int B, int d, int K, float eps, pp_langevin_score_fn score,
                    void *ctx, pp_rng *rng, float *g, float *xi);

/* The score of min(Q1, Q2) of a twin critic (pp_mlp with members = 2,
 * out = 1, input [obs | act]: obs columns first, then the d action columns). */
typedef struct {
    pp_mlp *q;                 /* not owned */
    const float *qparams;      /* not owned, set before use */
    int obs_dim, act_dim, max_batch;
    double alpha;              /* > 0 */
    /* BRAC prior: mu, sigma [B, d] of pi_beta at the batch's states, or NULL */
    const float *prior_mu, *prior_std;
    /* owned scratch */
    float *x;                  /* [max_batch, obs_dim + act_dim]: obs filled by set_obs */
    int *member;               /* [max_batch]: the smaller member per row (0 or 1) */
    float *dx;                 /* [max_batch, obs_dim + act_dim] */
    float *qmin;               /* [max_batch]: min(Q1,Q2) at the last u scored/evaluated */
    int B;                     /* rows set by set_obs */
    /* when set, the next score call copies its min Q (at the u it was given)
     * here and clears this: the first Langevin step's forward gives q0 */
    float *q_first;
    /* statistics of the score calls since the last reset */
    double score_norm_sum;     /* sum over rows of ||g||_2 */
    long score_rows;
} pp_qscore;

int pp_qscore_init(pp_qscore *s, pp_mlp *q, int obs_dim, int act_dim, int max_batch);
void pp_qscore_free(pp_qscore *s);
/* Copy the states obs [B, obs_dim] into the input rows (B <= max_batch). */
void pp_qscore_set_obs(pp_qscore *s, const float *obs, int B);
/* min(Q1, Q2)(s, tanh u) for the B rows set by set_obs into s->qmin (and out, nullable). */
void pp_qscore_eval(pp_qscore *s, const float *u, float *out);
/* pp_langevin_score_fn for a pp_qscore ctx (B must equal the rows set by set_obs). */
int pp_qscore_fn(void *ctx, const float *u, int B, int d, float *g);

#endif
