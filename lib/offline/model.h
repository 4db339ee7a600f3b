/* model.h - MOPO's dynamics ensemble as a job (parpi-model(1),
 * docs/algorithm.md section 18): train on a data set, save, load, evaluate.
 *
 * Source: MOPO (Yu et al. 2020), official code mopo/models/bnn.py and
 * constructor.py (on softlearning). The ensemble is one pp_mlp with
 * members = E: (s, a) -> layers x hidden swish -> per member 2 D outputs,
 * D = obs_dim + 1, the mean and raw log-variance of the target y = (s' - s, r)
 * (MOPO's order is (r, s' - s); the order does not change the maths).
 *
 * Normalisation: the inputs (s, a) by the training split's mean and std (std
 * floored at 1e-6), as bnn.py's TensorStandardScaler, fitted once on the
 * training inputs. The targets are NOT normalised, as in MOPO's bnn.py (its
 * scaler sees the inputs only): the MSE and NLL are in the data's units.
 *
 * Training (pp_model_train): Adam over the params and the bounds max_lv,
 * min_lv; batches are drawn without replacement from a seeded permutation of
 * the training rows each epoch, one batch shared by every member (MOPO
 * bootstraps a batch per member; pp_mlp's members share their input rows);
 * MOPO's weight decays added to the weights' gradients (decay * W, the
 * gradient of decay * l2_loss(W)); a seeded holdout of min(holdout * N,
 * 5000) rows; after each epoch the holdout MSE per member and MOPO's early
 * stop (pp_model_early_stop); each member's best params restored at the end;
 * the elites are the members of lowest holdout MSE. Not resumable mid-run.
 */
#ifndef PP_MODEL_H
#define PP_MODEL_H

#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"
#include "nn/mlp.h"

#define PP_MODEL_MAX_HOLDOUT 5000 /* MOPO's max_logging */
#define PP_MODEL_IMPROVE 0.01     /* MOPO's relative improvement that counts */
#define PP_MODEL_STD_FLOOR 1e-6
#define PP_MODEL_MAX_MEMBERS 64

typedef struct {
    int ensemble, layers, hidden, elites, batch_size, patience;
    long long max_epochs; /* 0: until the early stop */
    double lr, holdout;
    uint64_t seed;
} pp_model_config;

typedef struct {
    pp_model_config c;
    char env[64];
    int obs_dim, act_dim, in_dim, D;
    pp_mlp net;
    float *params, *max_lv, *min_lv; /* [nparams], [D], [D] */
    float *in_mean, *in_std;         /* [in_dim] */
    double reward_mean;              /* of the training split (eval's baseline) */
    double *holdout_mse, *holdout_nll; /* [E], at the end of training */
    int *elite;                      /* [E]: 1 for an elite */
    long long epochs;                /* epochs trained */
} pp_model;

/* What one epoch reports to a caller (nullable). */
typedef void (*pp_model_progress)(void *ctx, long long epoch, double train_loss, const double *mse, int E);

/* Mean and std of the n rows of x [n, w] (in double; std floored at
 * PP_MODEL_STD_FLOOR). */
void pp_model_norm_compute(const float *x, int64_t n, int w, float *mean, float *std);
/* MOPO's weight decay of layer l of an nlayers net: 2.5e-5, 5e-5, 7.5e-5, ...
 * 7.5e-5 for the hidden layers and 1e-4 for the output layer. */
double pp_model_decay(int l, int nlayers);
/* grads += decay(l) * W_l for every layer's weights (not the biases). */
void pp_model_add_weight_decay(const pp_mlp *m, const float *params, float *grads);
/* MOPO's _save_best: for each member whose loss improved on best[e] by more
 * than PP_MODEL_IMPROVE relatively, best[e] = loss[e] and improved[e] = 1
 * (else 0); *since counts the epochs without any improvement. Returns 1 when
 * training should stop (*since > patience). */
int pp_model_early_stop(const double *loss, double *best, int *improved, int E, int *since, int patience);

/* Train on d (observations, actions, rewards, next_observations). On failure
 * (a missing column, a non-finite loss) -1 with a message. */
int pp_model_train(pp_model **out, const pp_dataset *d, const pp_model_config *c, pp_model_progress progress,
                   void *ctx);
/* The mse and nll [E] of the first rows rows of d (rows <= 0: all) and the
 * baseline MSE of predicting s' = s and r = reward_mean. */
int pp_model_eval(pp_model *m, const pp_dataset *d, int64_t rows, double *mse, double *nll, double *baseline);
int pp_model_save(const pp_model *m, const char *path);
int pp_model_load(pp_model **out, const char *path);
void pp_model_free(pp_model *m);

#endif
