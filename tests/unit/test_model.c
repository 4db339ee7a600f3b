/* MOPO's dynamics ensemble as a job (offline/model.h, docs/algorithm.md
 * section 18): the input normalisation against float64, MOPO's per-layer
 * weight decays added to the weights' gradients only, the early-stopping
 * rule on a synthetic loss sequence, a short training run on a synthetic
 * data set whose checkpoint round-trips (params, bounds, normalisation,
 * elites and the evaluation), the same seed giving the same bytes, and the
 * refusal of a data set without next_observations (tests/cli/model.bats:
 * nothing written). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "base/rng.h"
#include "offline/model.h"
#include "tmpdir.h"

static void normalisation(void)
{
    enum { N = 50, W = 3 };
    float x[N * W], mean[W], std[W];
    pp_rng r;
    pp_rng_seed(&r, 3);
    for (int i = 0; i < N; i++) {
        x[i * W] = (float)(5 + 2 * pp_rng_normal(&r));
        x[i * W + 1] = 7.0f; /* constant: the std is floored */
        x[i * W + 2] = (float)(-1e3 + 1e2 * pp_rng_uniform(&r));
    }
    pp_model_norm_compute(x, N, W, mean, std);
    for (int j = 0; j < W; j++) {
        double s = 0, ss = 0;
        for (int i = 0; i < N; i++) s += x[i * W + j];
        s /= N;
        for (int i = 0; i < N; i++) ss += (x[i * W + j] - s) * (x[i * W + j] - s);
        double sd = sqrt(ss / N);
        if (sd < 1e-6) sd = 1e-6;
        CHECK_REL(mean[j], s, 1e-6, "norm: mean of column %d", j);
        CHECK_REL(std[j], sd, 1e-6, "norm: std of column %d (population std, floored at 1e-6)", j);
    }
}

static void weight_decay(void)
{
    static const double mopo[] = {2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4};
    for (int l = 0; l < 5; l++) CHECK(pp_model_decay(l, 5) == mopo[l], "decay: MOPO's layer %d of 5", l);
    CHECK(pp_model_decay(2, 3) == 1e-4 && pp_model_decay(6, 8) == 7.5e-5, "decay: output 1e-4, deep hidden 7.5e-5");
    pp_mlp m;
    int hidden[2] = {4, 5};
    CHECK(pp_mlp_init(&m, 3, 2, hidden, 2, 2, PP_ACT_SWISH, PP_ACT_LINEAR, 0, 4) == 0, "decay: the net");
    float *p = pp_xcalloc(m.nparams, sizeof *p), *g = pp_xcalloc(m.nparams, sizeof *g);
    pp_rng r;
    pp_rng_seed(&r, 1);
    pp_mlp_init_params(&m, p, &r);
    for (size_t i = 0; i < m.nparams; i++) g[i] = 0.5f;
    pp_model_add_weight_decay(&m, p, g);
    int bad = 0;
    for (int l = 0; l < m.nlayers; l++) {
        size_t nw = (size_t)m.members * m.width[l] * m.width[l + 1], nb = (size_t)m.members * m.width[l + 1];
        for (size_t i = 0; i < nw; i++)
            bad += g[m.off_w[l] + i] != 0.5f + (float)pp_model_decay(l, 3) * p[m.off_w[l] + i];
        for (size_t i = 0; i < nb; i++) bad += g[m.off_b[l] + i] != 0.5f;
    }
    CHECK(bad == 0, "decay: grads += decay(l) * W on every weight, biases untouched (%d wrong)", bad);
    free(p);
    free(g);
    pp_mlp_free(&m);
}

static void early_stop(void)
{
    /* two members, patience 2, improvements measured against each member's
     * best, not the last epoch: member 0's 8.95 and 8.92 are within 1% of 9,
     * its 8.9 is 1.1% below it; member 1's 18.0 counts, 17.9 does not */
    static const double loss[][2] = {{10, 20}, {9, 19}, {8.95, 18.9}, {8.92, 18.85}, {8.9, 18.0},
                                     {8.9, 18.0}, {8.9, 17.9}, {8.9, 17.9}, {1, 1}};
    static const int want_stop[] = {0, 0, 0, 0, 0, 0, 0, 1};
    double best[2] = {1e10, 1e10};
    int improved[2], since = 0, ok = 1, stopped_at = -1;
    for (int t = 0; t < 8; t++) {
        int stop = pp_model_early_stop(loss[t], best, improved, 2, &since, 2);
        ok &= stop == want_stop[t];
        if (stop && stopped_at < 0) stopped_at = t;
    }
    CHECK(ok && stopped_at == 7, "early stop: stops at the third epoch without a 1%% improvement (at %d)", stopped_at);
    CHECK(best[0] == 8.9 && best[1] == 18.0, "early stop: best losses are the last >1%% improvements (%g %g)", best[0],
          best[1]);
}

static pp_dataset *synthetic(int with_next)
{
    enum { N = 300, O = 2, A = 1 };
    pp_dataset *d;
    pp_dataset_new(&d, N);
    snprintf(d->env, sizeof d->env, "Synthetic-v0");
    float *o = pp_dataset_add_column(d, "observations", PP_F32, O)->data;
    float *a = pp_dataset_add_column(d, "actions", PP_F32, A)->data;
    float *rw = pp_dataset_add_column(d, "rewards", PP_F32, 0)->data;
    float *o2 = with_next ? pp_dataset_add_column(d, "next_observations", PP_F32, O)->data : NULL;
    pp_rng r;
    pp_rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        o[i * O] = (float)pp_rng_normal(&r);
        o[i * O + 1] = (float)(3 + 0.1 * pp_rng_normal(&r));
        a[i] = (float)(2 * pp_rng_uniform(&r) - 1);
        rw[i] = -o[i * O] * o[i * O] - 0.1f * a[i];
        if (o2) {
            o2[i * O] = o[i * O] + 0.1f * a[i];
            o2[i * O + 1] = 0.9f * o[i * O + 1];
        }
    }
    return d;
}

static void round_trip(void)
{
    pp_model_config c = {.ensemble = 3, .layers = 2, .hidden = 8, .elites = 2, .batch_size = 32, .patience = 5,
                         .max_epochs = 4, .lr = 1e-3, .holdout = 0.2, .seed = 5};
    pp_dataset *d = synthetic(1);
    pp_model *m = NULL, *m2 = NULL, *l = NULL;
    CHECK(pp_model_train(&m, d, &c, NULL, NULL) == 0, "train: %s", pp_error());
    CHECK(m->epochs == 4, "train: --max-epochs 4 ran 4 epochs (%lld)", m->epochs);
    int ne = 0;
    for (int e = 0; e < 3; e++) ne += m->elite[e];
    CHECK(ne == 2, "train: 2 elites (%d)", ne);
    CHECK(pp_model_save(m, tmp("m.ckpt")) == 0, "save: %s", pp_error());
    CHECK(pp_model_load(&l, tmp("m.ckpt")) == 0, "load: %s", pp_error());
    CHECK(l && l->net.nparams == m->net.nparams &&
              memcmp(l->params, m->params, (m->net.nparams + 2 * (size_t)m->D) * sizeof(float)) == 0 &&
              memcmp(l->in_mean, m->in_mean, (size_t)m->in_dim * sizeof(float)) == 0 &&
              memcmp(l->in_std, m->in_std, (size_t)m->in_dim * sizeof(float)) == 0 &&
              memcmp(l->elite, m->elite, 3 * sizeof(int)) == 0 &&
              memcmp(l->holdout_mse, m->holdout_mse, 3 * sizeof(double)) == 0 &&
              l->reward_mean == m->reward_mean && strcmp(l->env, "Synthetic-v0") == 0 && l->c.seed == 5,
          "round trip: params, bounds, normalisation, elites, holdout MSE, env, config");
    double a[3], b[3], na[3], nb[3], ba, bb;
    CHECK(pp_model_eval(m, d, 0, a, na, &ba) == 0 && pp_model_eval(l, d, 0, b, nb, &bb) == 0 &&
              memcmp(a, b, sizeof a) == 0 && memcmp(na, nb, sizeof na) == 0 && ba == bb,
          "round trip: the loaded model evaluates to the same bytes");
    CHECK(pp_model_train(&m2, d, &c, NULL, NULL) == 0 &&
              memcmp(m2->params, m->params, (m->net.nparams + 2 * (size_t)m->D) * sizeof(float)) == 0,
          "train: the same seed gives the same params");
    pp_model_free(m);
    pp_model_free(m2);
    pp_model_free(l);
    pp_dataset_free(d);

    d = synthetic(0);
    m = NULL;
    CHECK(pp_model_train(&m, d, &c, NULL, NULL) != 0 && strstr(pp_error(), "next_observations") &&
              strstr(pp_error(), "parpi-dataset import") && !m,
          "refusal: no next_observations, naming how to get them (%s)", pp_error());
    pp_dataset_free(d);
}

int main(void)
{
    if (tmpdir_make("model") != 0) return 1;
    normalisation();
    weight_decay();
    early_stop();
    round_trip();
    tmpdir_remove();
    return check_done();
}
