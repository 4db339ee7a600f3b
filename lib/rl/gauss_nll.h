/* gauss_nll.h - MOPO's dynamics-model loss: a Gaussian negative log-likelihood
 * with a softly bounded log-variance (docs/algorithm.md section 18).
 *
 * Source: MOPO (Yu et al. 2020), official code mopo/models/bnn.py (on
 * softlearning): _compile_outputs bounds the log-variance, _compile_losses
 * with inc_var_loss=True is the training loss, with inc_var_loss=False the
 * holdout error; the training loss adds 0.01 (sum max_logvar - sum min_logvar).
 *
 * A network's output row holds, per member e (members side by side, as
 * pp_mlp's [B, E*2D] output: member e at columns e*2D ..), the mean mu [D]
 * then the raw log-variance r [D]. The log-variance used is
 *
 *   a  = max_lv - softplus(max_lv - r)
 *   lv = min_lv + softplus(a - min_lv)              softplus(t) = log(1 + e^t)
 *
 * with max_lv, min_lv [D] learned vectors shared by the members (MOPO's
 * [1, D] variables; initialised to 0.5 and -10, PP_GAUSS_MAX_LV_INIT and
 * PP_GAUSS_MIN_LV_INIT). lv > min_lv always, but lv < max_lv only
 * approximately: lv <= max_lv + softplus(min_lv - max_lv) (2.8e-5 at the
 * initial bounds, log 2 where the bounds meet).
 *
 * The loss, exactly as implemented (no 1/2 and no log 2 pi, as MOPO's):
 *
 *   L = sum_e mean_{b, d} [ (mu_ebd - y_bd)^2 exp(-lv_ebd) + lv_ebd ]
 *       + var_reg (sum_d max_lv_d - sum_d min_lv_d)          var_reg = 0.01
 *
 * (mean over the B rows and D dimensions per member, summed over members,
 * the regulariser once). y [B, D] is shared by the members, as pp_mlp's input
 * is. Its gradient, g = dL/dlv = (1 - (mu - y)^2 exp(-lv)) / (B D),
 * s1 = sigmoid(max_lv - r), s2 = sigmoid(a - min_lv):
 *
 *   dL/dmu     = 2 (mu - y) exp(-lv) / (B D)
 *   dL/dr      = g s2 s1
 *   dL/dmax_lv = sum_{e, b} g s2 (1 - s1) + var_reg
 *   dL/dmin_lv = sum_{e, b} g (1 - s2)    - var_reg
 *
 * Sums are taken in double; every element is computed in double and rounded
 * once.
 */
#ifndef PP_GAUSS_NLL_H
#define PP_GAUSS_NLL_H

#define PP_GAUSS_VAR_REG 0.01       /* MOPO's coefficient of the bounds' regulariser */
#define PP_GAUSS_MAX_LV_INIT 0.5f   /* MOPO's initial max_logvar */
#define PP_GAUSS_MIN_LV_INIT -10.0f /* MOPO's initial min_logvar */

/* The bounded log-variance of one raw output (in double, rounded once). */
float pp_gauss_bounded_logvar(float raw, float max_lv, float min_lv);

/* The loss above for out [B, E*2D], y [B, D], max_lv, min_lv [D]. dout
 * (nullable) [B, E*2D] is OVERWRITTEN with dL/dout (the dy of
 * pp_mlp_backward); dmax_lv, dmin_lv (nullable) [D] are ACCUMULATED into, the
 * regulariser's +-var_reg included. member_loss (nullable) [E] gets each
 * member's mean NLL, without the regulariser. Returns L. */
double pp_gauss_nll(const float *out, const float *y, const float *max_lv, const float *min_lv, int B, int D,
                    int E, double var_reg, float *dout, float *dmax_lv, float *dmin_lv, double *member_loss);

/* The holdout error of the means (MOPO's inc_var_loss=False): mse[e] =
 * mean_{b, d} (mu_ebd - y_bd)^2 for each member e of out [B, E*2D]. */
void pp_gauss_mse(const float *out, const float *y, int B, int D, int E, double *mse);

#endif
