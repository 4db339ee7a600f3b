/* divergence.h - the objectives of the discriminator f_w and of the policy
 * for each divergence (docs/algorithm.md section 7). f is HIGH on target
 * particles (samples of p) and LOW on policy samples (samples of pi);
 * sig is the logistic sigmoid, softplus(x) = log(1 + e^x).
 *
 *  kind   discriminator loss L_f (minimised = -objective)        policy loss
 *  jsd    mean_p softplus(-f) + mean_pi softplus(f)                mean_pi softplus(-f)
 *  wd     -mean_p f + mean_pi f                                    -mean_pi f
 *  hinge  mean_p relu(1 - f) + mean_pi relu(1 + f)                 -mean_pi f
 *  rkl    mean_pi f + mean_p exp(-f - 1)                           -mean_pi f
 *
 * (-log sig(x) = softplus(-x).) At the optimum f = log(p/pi) for jsd and
 * f = log(p/pi) - 1 for rkl; wd needs a Lipschitz f (spectral norm or
 * gradient penalty) and then mean_p f - mean_pi f estimates W1(p, pi).
 * At a kink (relu at 0) the derivative taken is 0.
 */
#ifndef PP_DIVERGENCE_H
#define PP_DIVERGENCE_H

typedef enum { PP_DIV_JSD = 0, PP_DIV_WD, PP_DIV_HINGE, PP_DIV_RKL, PP_DIV_COUNT } pp_divergence;

/* "jsd" ... ; -1 with "unknown divergence 'x', expected one of jsd, wd, hinge, rkl". */
int pp_divergence_parse(const char *name, pp_divergence *out);
const char *pp_divergence_name(pp_divergence k);
/* The valid names, comma separated: "jsd, wd, hinge, rkl". */
const char *pp_divergence_names(void);

/* Discriminator loss on f_p [Bp] (f at samples of p) and f_pi [Bpi]: returns
 * L_f (double accumulation) and writes dL/df_p, dL/df_pi (the 1/B factors
 * included) when the pointers are not NULL. */
double pp_divergence_disc_loss(pp_divergence k, const float *f_p, int Bp, const float *f_pi,
                               int Bpi, float *df_p, float *df_pi);
/* Policy loss on f at policy samples f_pi [B] and dL/df_pi (nullable). */
double pp_divergence_policy_loss(pp_divergence k, const float *f_pi, int B, float *df_pi);

#endif
