/* critic_math.h - the critic's targets and loss as plain functions (stage_critic.c
 * strings them together; the unit tests check each against double references).
 *
 * Twin Q outputs are [rows, 2] (column 0 = Q1, column 1 = Q2, one pp_mlp with
 * members = 2). done = termination only: 1 stops the bootstrap, a time-limit
 * truncation arrives as 0 and bootstraps.
 */
#ifndef PP_CRITIC_MATH_H
#define PP_CRITIC_MATH_H

#include "nn/mlp.h"

/* SAC: y_b = r_b + gamma (1 - done_b) (min(qn_b1, qn_b2) - alpha logp_b - alpha_v pen_b).
 * pen [B] is BRAC's value penalty D(s'_b) (docs/algorithm.md section 16),
 * nullable: NULL (or alpha_v = 0) is the plain SAC target, computed exactly as
 * without the term. done_b = 1 drops the penalty with the bootstrap. */
void pp_sac_targets(float *y, const float *rew, const float *done, const float *qnext,
                    const float *logp, const float *pen, double alpha_v, int B, double alpha,
                    double gamma);

/* SQL soft value of one state from the twin target Q at M proposal actions
 * drawn uniformly on [-1,1]^d (q [M, 2]; the min of the twins is used):
 * V = alpha (logsumexp_m min_j q_mj / alpha - log M + d log 2). */
double pp_sql_soft_value(const float *q, int M, int d, double alpha);

/* SQL: y_b = r_b + gamma (1 - done_b) V(s'_b), qnext [B*M, 2] state-major. */
void pp_sql_targets(float *y, const float *rew, const float *done, const float *qnext, int B,
                    int M, int d, double alpha, double gamma);

/* Loss sum_j mean_b (Q_j(x_b) - y_b)^2 / 2 at params: forward on x [B, in],
 * dy scratch [B, 2], gradient ACCUMULATED into grads. Returns the loss; means
 * of Q1, Q2 into q1m, q2m (nullable). */
double pp_twin_q_loss(pp_mlp *q, const float *params, const float *x, const float *y, int B,
                      float *dy, float *grads, double *q1m, double *q2m);

#endif
