/* policy_loss.h - the policy losses of parpi-policy as plain functions
 * (docs/algorithm.md sections 7-9); stage_policy.c strings them together, the unit
 * tests check their gradients against float64 finite differences.
 *
 * Each takes the samples already drawn (pp_policy_sample(_eps) /
 * pp_implicit_sample(_xi) on obs, B states) so a test can fix the noise, and
 * ACCUMULATES the gradient w.r.t. the policy params into grads. The frozen
 * network (disc f, or twin q) is run on (obs, a) and back-propagated to its
 * input only (dparams NULL).
 */
#ifndef PP_POLICY_LOSS_H
#define PP_POLICY_LOSS_H

#include "nn/mlp.h"
#include "rl/policy.h"
#include "rl/policy_implicit.h"

/* The discriminator's divergence (parpi-frame(5): disc.divergence). */
enum { PP_PDIV_JSD = 0, PP_PDIV_WD, PP_PDIV_HINGE, PP_PDIV_RKL };
/* "jsd" "wd" "hinge" "rkl" -> 0..3; -1 (with a message) otherwise. */
int pp_policy_div_parse(const char *name, size_t len);
const char *pp_policy_div_name(int div);

/* Scratch for rows (obs, a) pairs. */
typedef struct {
    int obs_dim, act_dim, rows;
    float *x, *dx;     /* [rows, obs_dim + act_dim] */
    float *dy;         /* [rows, 2] */
    int *member;       /* [rows]: the smaller of the twin critics per row */
    float *d_a;        /* [rows_a, act_dim]: rows_a = rows * a_per_row (svgd: particles) */
    float *d_logp;     /* [rows] */
    float *d_u;        /* [rows_a, act_dim]: dL/du of the prior term */
    float *glogp;      /* [rows, act_dim] (svgd) */
    float *scratch;    /* svgd kernel scratch */
} pp_policy_work;

/* rows: largest number of (obs, a) rows the frozen net sees; a_rows: largest
 * number of policy rows (B for the Gaussian, B * M for svgd); kernel: M_fixed
 * * M_updated for svgd (0 otherwise). */
void pp_policy_work_init(pp_policy_work *w, int obs_dim, int act_dim, int rows, int a_rows,
                         int kernel);
void pp_policy_work_free(pp_policy_work *w);

/* ParPI: J = alpha mean_b log pi_b + D, D = mean_b softplus(-f) (jsd) or
 * -mean_b f (wd, hinge, rkl); f = disc(obs, a) with the last sample of pi.
 * With a behaviour policy (prior_mu, prior_std [B, d], its u-space Gaussian
 * at obs; NULL: none) also - alpha mean_b log pi_beta(a_b|s_b), so that the
 * temperature's term is alpha KL(pi || pi_beta) (docs/algorithm.md section
 * 17); *mlogb (nullable) = mean_b log pi_beta(a_b|s_b). *dterm = D.
 * Returns J. */
double pp_policy_loss_parpi(pp_policy *pi, const float *params, const float *obs, int B,
                            double alpha, pp_mlp *disc, const float *disc_params, int div,
                            const float *prior_mu, const float *prior_std, pp_policy_work *w,
                            float *grads, double *dterm, double *mlogb);

/* SAC: J = mean_b (alpha log pi_b - min_j Q_j(obs_b, a_b)); *qmean = mean min Q. */
double pp_policy_loss_sac(pp_policy *pi, const float *params, const float *obs, int B,
                          double alpha, pp_mlp *q, const float *q_params, pp_policy_work *w,
                          float *grads, double *qmean);

/* Behaviour cloning (docs/algorithm.md section 14): J = -mean_b log pi(a_b|s_b)
 * for the batch's actions act [B, d], each clipped to [-(1 - clip), 1 - clip]
 * before u = atanh(a) (pp_policy_log_prob_act; this one runs the policy
 * itself, no sample needed). *mlogp = mean_b log pi(a_b|s_b). Returns J. */
double pp_policy_loss_bc(pp_policy *pi, const float *params, const float *obs, const float *act,
                         int B, double clip, pp_policy_work *w, float *grads, double *mlogp);

/* BRAC's actor, value-penalty variant (docs/algorithm.md section 14), on
 * the last sample of pi:
 *   J = mean_b [ alpha log pi_b + alpha_v term_p(c(s_b, a_b)) - min_j Q_j(s_b, a_b) ]
 * with c the frozen KL dual critic (one member, scalar; rl/kl_dual.h).
 * *qmean = mean min Q, *dterm = mean alpha_v term_p. Returns J. */
double pp_policy_loss_brac(pp_policy *pi, const float *params, const float *obs, int B,
                           double alpha, double alpha_v, pp_mlp *q, const float *q_params,
                           pp_mlp *dual, const float *dual_params, pp_policy_work *w,
                           float *grads, double *qmean, double *dterm);

/* SQL's amortised SVGD on the last pp_implicit_sample(..., B, M, ...): grads
 * accumulate -mean_i Delta a_i . da_i/dphi over the updated particles (so an
 * optimiser minimising moves a along +Delta a). squash: add softqlearning's
 * grad log(1 - a^2 + 1e-6). Metrics: mean min Q of the fixed particles, mean
 * bandwidth h, mean |Delta a|. */
void pp_policy_svgd(pp_policy_implicit *pi, const float *params, const float *obs, int B, int M,
                    double alpha, int squash, pp_mlp *q, const float *q_params, pp_policy_work *w,
                    float *grads, double *qmean, double *hmean, double *dnorm);

#endif
