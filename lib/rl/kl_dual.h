/* kl_dual.h - the dual (Donsker-Varadhan / f-divergence) estimate of
 * KL(pi || pi_beta) that BRAC's value and policy penalties read
 * (docs/algorithm.md section 15). A critic c(s, a) (an MLP, scalar output)
 * is turned into a positive ratio g = softrelu(c) = log(1 + e^c), and
 *
 *   D(s) = E_{a ~ pi}[ log(g(s, a) + eps) + 1 ] - E_{a ~ pi_beta}[ g(s, a) ]
 *
 * is a lower bound of KL(pi(.|s) || pi_beta(.|s)) for every c, tight at
 * g = pi / pi_beta (then the first term is KL + 1 and the second is 1).
 * The critic maximises the batch mean of D (minimises -D plus a one-sided
 * gradient penalty on interpolates, rl/dual.h); the policy minimises the
 * pi term through its reparameterised actions; the critic of Q subtracts
 * alpha_v D(s') from its target.
 *
 * Per sample: term_p(c) = log(softrelu(c) + eps) + 1 (at a policy action),
 * term_b(c) = -softrelu(c) (at a behaviour action); D = term_p + term_b.
 */
#ifndef PP_KL_DUAL_H
#define PP_KL_DUAL_H

/* BRAC's epsilon inside the log (divergences.py: EPS = 1e-8). */
#define PP_KL_DUAL_EPS 1e-8

/* log(1 + e^x) without overflow or loss for large |x|. */
double pp_softrelu(double x);
/* log(softrelu(c) + eps) + 1, and d/dc of it into *d (nullable). */
double pp_kl_dual_term_p(double c, double *d);
/* -softrelu(c), and d/dc of it (-sigmoid(c)) into *d (nullable). */
double pp_kl_dual_term_b(double c, double *d);

#endif
