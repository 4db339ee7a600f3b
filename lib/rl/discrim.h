/* discrim.h - the discriminator f_w of ParPI (docs/algorithm.md section 7), as a
 * plain object on rows of inputs: the stage (stage_discrim.c) fills the rows
 * from particles, the tests from two fixed distributions.
 *
 * Net: MLP in -> hidden x layers (ReLU) -> 1 (linear), members = 1.
 * Lipschitz control: none, spectral norm on every weight (one power
 * iteration per update, persistent vectors), or gradient penalty
 * gp_weight * mean (||grad_x f(x_hat)|| - 1)^2 on interpolates
 * x_hat = t x_p + (1 - t) x_pi, t ~ U(0,1) per row (WGAN-GP).
 * One update = one Adam step on the loss of pp_divergence_disc_loss (+ gp).
 */
#ifndef PP_DISCRIM_H
#define PP_DISCRIM_H

#include "rl/divergence.h"
#include "nn/mlp.h"
#include "base/rng.h"
#include "nn/adam.h"

typedef enum { PP_LIP_NONE = 0, PP_LIP_SN, PP_LIP_GP } pp_lipschitz;

int pp_lipschitz_parse(const char *name, pp_lipschitz *out); /* none, sn, gp */
const char *pp_lipschitz_name(pp_lipschitz l);

typedef struct {
    pp_divergence div;
    pp_lipschitz lip;
    float gp_weight;
    int in_dim, hidden, layers, max_batch; /* max_batch: rows per side */
    pp_mlp net;                            /* max_batch 2*max_batch rows */
    float *params, *grads;                 /* owned blobs [net.nparams] */
    pp_adam adam;
    float *x;        /* [2*max_batch, in]: p rows 0..B-1, then pi rows B..2B-1 */
    float *f;        /* [2*max_batch] f of the last update's forward */
    float *df;       /* [2*max_batch] */
    float *xgp;      /* [max_batch, in] interpolates */
    float *sn_keep;  /* [net.sn_state_floats] vectors before the update (restored on NaN) */
    long long updates;
} pp_discrim;

typedef struct {
    double loss;      /* divergence loss + penalty */
    double f_p_mean, f_pi_mean, gap; /* gap = f_p_mean - f_pi_mean */
    double gp;        /* the penalty term (0 unless gp) */
} pp_discrim_stats;

/* Build the net and Adam (lr); params initialised from init_rng. */
int pp_discrim_init(pp_discrim *d, pp_divergence div, pp_lipschitz lip, int in_dim, int hidden,
                    int layers, int max_batch, float lr, float gp_weight, pp_rng *init_rng);
void pp_discrim_free(pp_discrim *d);

/* Loss and gradient (into d->grads, overwritten) for the B p rows and B pi
 * rows in d->x and, for gp, the interpolates in d->xgp. Uses the cached
 * spectral-norm state as it is (no power step). Fills st (nullable). */
double pp_discrim_loss_grad(pp_discrim *d, int B, pp_discrim_stats *st);

/* One update: copy x_p, x_pi [B, in] into d->x (they may already be d->x and
 * d->x + B*in), power step (sn), interpolates from rng (gp), loss and
 * gradient, Adam step. Returns 0; -1 when the loss or a gradient is not
 * finite: then params, Adam, spectral vectors and rng are as before. */
int pp_discrim_update(pp_discrim *d, const float *x_p, const float *x_pi, int B, pp_rng *rng,
                      pp_discrim_stats *st);

/* f at rows x [B, in] (B <= 2*max_batch) into out, with the cached spectral state. */
void pp_discrim_eval(pp_discrim *d, const float *x, int B, float *out);

#endif
