/* model.c - MOPO's dynamics ensemble: training with early stopping, elites,
 * the checkpoint and evaluation (model.h, docs/algorithm.md section 18). */
#include "offline/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "frame/frame.h"
#include "nn/adam.h"
#include "rl/gauss_nll.h"

#define EVAL_CHUNK 512
#define RNG_MODEL 9 /* HACKING's RNG streams: children 1 weights, 2 holdout split, 3 batches */

void pp_model_norm_compute(const float *x, int64_t n, int w, float *mean, float *std)
{
    for (int j = 0; j < w; j++) {
        double s = 0, ss = 0;
        for (int64_t i = 0; i < n; i++) s += x[i * w + j];
        double mu = n > 0 ? s / (double)n : 0;
        for (int64_t i = 0; i < n; i++) {
            double t = x[i * w + j] - mu;
            ss += t * t;
        }
        double sd = n > 0 ? sqrt(ss / (double)n) : 1;
        mean[j] = (float)mu;
        std[j] = (float)(sd < PP_MODEL_STD_FLOOR ? PP_MODEL_STD_FLOOR : sd);
    }
}

double pp_model_decay(int l, int nlayers)
{
    static const double hidden[] = {2.5e-5, 5e-5, 7.5e-5};
    if (l == nlayers - 1) return 1e-4;
    return l < 3 ? hidden[l] : 7.5e-5;
}

void pp_model_add_weight_decay(const pp_mlp *m, const float *params, float *grads)
{
    for (int l = 0; l < m->nlayers; l++) {
        size_t n = (size_t)m->members * (size_t)m->width[l] * (size_t)m->width[l + 1];
        float k = (float)pp_model_decay(l, m->nlayers);
        const float *w = params + m->off_w[l];
        float *g = grads + m->off_w[l];
        for (size_t i = 0; i < n; i++) g[i] += k * w[i];
    }
}

int pp_model_early_stop(const double *loss, double *best, int *improved, int E, int *since, int patience)
{
    int any = 0;
    for (int e = 0; e < E; e++) {
        improved[e] = (best[e] - loss[e]) / best[e] > PP_MODEL_IMPROVE;
        if (improved[e]) best[e] = loss[e];
        any |= improved[e];
    }
    *since = any ? 0 : *since + 1;
    return *since > patience;
}

/* Copy member e's weights and biases from src to dst (blobs of m). */
static void copy_member(const pp_mlp *m, float *dst, const float *src, int e)
{
    int E = m->members;
    for (int l = 0; l < m->nlayers; l++) {
        int in = m->width[l], w = m->width[l + 1];
        if (l == 0)
            for (int i = 0; i < in; i++)
                memcpy(dst + m->off_w[0] + (size_t)i * E * w + (size_t)e * w,
                       src + m->off_w[0] + (size_t)i * E * w + (size_t)e * w, (size_t)w * sizeof *dst);
        else
            memcpy(dst + m->off_w[l] + (size_t)e * in * w, src + m->off_w[l] + (size_t)e * in * w,
                   (size_t)in * w * sizeof *dst);
        memcpy(dst + m->off_b[l] + (size_t)e * w, src + m->off_b[l] + (size_t)e * w, (size_t)w * sizeof *dst);
    }
}

/* The model's arrays for its config and sizes; params, bounds in one blob. */
static pp_model *model_new(const pp_model_config *c, int obs_dim, int act_dim, int max_batch)
{
    pp_model *m = pp_xcalloc(1, sizeof *m);
    m->c = *c;
    m->obs_dim = obs_dim;
    m->act_dim = act_dim;
    m->in_dim = obs_dim + act_dim;
    m->D = obs_dim + 1;
    int hidden[PP_MLP_MAX_LAYERS];
    for (int i = 0; i < c->layers; i++) hidden[i] = c->hidden;
    if (pp_mlp_init(&m->net, m->in_dim, c->layers, hidden, 2 * m->D, c->ensemble, PP_ACT_SWISH, PP_ACT_LINEAR, 0,
                    max_batch) != 0) {
        free(m);
        return NULL;
    }
    m->params = pp_xcalloc(m->net.nparams + 2 * (size_t)m->D, sizeof(float));
    m->max_lv = m->params + m->net.nparams;
    m->min_lv = m->max_lv + m->D;
    m->in_mean = pp_xcalloc((size_t)m->in_dim, sizeof(float));
    m->in_std = pp_xcalloc((size_t)m->in_dim, sizeof(float));
    m->holdout_mse = pp_xcalloc((size_t)c->ensemble, sizeof(double));
    m->holdout_nll = pp_xcalloc((size_t)c->ensemble, sizeof(double));
    m->elite = pp_xcalloc((size_t)c->ensemble, sizeof(int));
    return m;
}

void pp_model_free(pp_model *m)
{
    if (!m) return;
    pp_mlp_free(&m->net);
    free(m->params);
    free(m->in_mean);
    free(m->in_std);
    free(m->holdout_mse);
    free(m->holdout_nll);
    free(m->elite);
    free(m);
}

/* The columns a model needs, checked; their widths. */
static int need_columns(const pp_dataset *d, int *obs_dim, int *act_dim)
{
    pp_column *o = pp_dataset_need(d, "observations", PP_F32, -1);
    pp_column *a = o ? pp_dataset_need(d, "actions", PP_F32, -1) : NULL;
    if (!o || !a || !pp_dataset_need(d, "rewards", PP_F32, 0)) return -1;
    if (o->width < 1 || a->width < 1 || o->width + a->width > 1 << 16)
        return pp_fail("observations [N, %lld] and actions [N, %lld]: expected a width of 1 to 65536 each",
                       (long long)o->width, (long long)a->width);
    if (!pp_dataset_column(d, "next_observations"))
        return pp_fail("the data set has no next_observations column, which a dynamics model learns from "
                       "(parpi-dataset import pairs them from observations[i+1] within episodes)");
    if (!pp_dataset_need(d, "next_observations", PP_F32, o->width)) return -1;
    *obs_dim = (int)o->width;
    *act_dim = (int)a->width;
    return 0;
}

/* Rows idx[0..n) (idx NULL: 0..n) of d as inputs X [n, in] (raw) and targets
 * Y [n, D], in the order given; fails on a non-finite value. */
static int gather(const pp_dataset *d, const int64_t *idx, int64_t n, int obs_dim, int act_dim, float *X, float *Y)
{
    const float *o = pp_dataset_column(d, "observations")->data, *a = pp_dataset_column(d, "actions")->data;
    const float *r = pp_dataset_column(d, "rewards")->data, *o2 = pp_dataset_column(d, "next_observations")->data;
    int in = obs_dim + act_dim, D = obs_dim + 1;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = idx ? idx[i] : i;
        for (int j = 0; j < obs_dim; j++) {
            X[i * in + j] = o[k * obs_dim + j];
            Y[i * D + j] = o2[k * obs_dim + j] - o[k * obs_dim + j];
        }
        for (int j = 0; j < act_dim; j++) X[i * in + obs_dim + j] = a[k * act_dim + j];
        Y[i * D + obs_dim] = r[k];
        for (int j = 0; j < in; j++)
            if (!isfinite(X[i * in + j])) return pp_fail("row %lld: an observation or action is not finite", (long long)k);
        for (int j = 0; j < D; j++)
            if (!isfinite(Y[i * D + j]))
                return pp_fail("row %lld: a reward or next observation is not finite", (long long)k);
    }
    return 0;
}

static void normalise(float *X, int64_t n, int in, const float *mean, const float *std)
{
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < in; j++) X[i * in + j] = (X[i * in + j] - mean[j]) / std[j];
}

/* Per member MSE and NLL (nullable) over n rows of normalised X and Y. */
static void evaluate(pp_model *m, const float *X, const float *Y, int64_t n, double *mse, double *nll)
{
    int E = m->c.ensemble, D = m->D;
    double part[PP_MODEL_MAX_MEMBERS];
    for (int e = 0; e < E; e++) mse[e] = nll ? (nll[e] = 0) : 0;
    for (int64_t s = 0; s < n; s += EVAL_CHUNK) {
        int b = (int)(n - s < EVAL_CHUNK ? n - s : EVAL_CHUNK);
        const float *out = pp_mlp_forward(&m->net, m->params, X + s * m->in_dim, b);
        pp_gauss_mse(out, Y + s * D, b, D, E, part);
        for (int e = 0; e < E; e++) mse[e] += part[e] * b;
        if (nll) {
            pp_gauss_nll(out, Y + s * D, m->max_lv, m->min_lv, b, D, E, 0.0, NULL, NULL, NULL, part);
            for (int e = 0; e < E; e++) nll[e] += part[e] * b;
        }
    }
    for (int e = 0; e < E; e++) {
        mse[e] /= (double)n;
        if (nll) nll[e] /= (double)n;
    }
}

static void choose_elites(pp_model *m)
{
    int E = m->c.ensemble;
    memset(m->elite, 0, (size_t)E * sizeof *m->elite);
    for (int k = 0; k < m->c.elites; k++) {
        int best = -1;
        for (int e = 0; e < E; e++)
            if (!m->elite[e] && (best < 0 || m->holdout_mse[e] < m->holdout_mse[best])) best = e;
        m->elite[best] = 1;
    }
}

int pp_model_train(pp_model **out, const pp_dataset *d, const pp_model_config *c, pp_model_progress progress,
                   void *ctx)
{
    *out = NULL;
    int obs_dim, act_dim;
    if (need_columns(d, &obs_dim, &act_dim) != 0) return -1;
    if (c->ensemble < 1 || c->ensemble > PP_MODEL_MAX_MEMBERS || c->elites < 1 || c->elites > c->ensemble)
        return pp_fail("--elites %d: expected 1 to --ensemble (%d)", c->elites, c->ensemble);
    if (c->layers < 1 || c->layers >= PP_MLP_MAX_LAYERS) return pp_fail("--layers %d: expected 1 to %d", c->layers,
                                                                         PP_MLP_MAX_LAYERS - 1);
    int64_t N = d->rows, nh = (int64_t)((double)N * c->holdout);
    if (nh > PP_MODEL_MAX_HOLDOUT) nh = PP_MODEL_MAX_HOLDOUT;
    if (nh < 1 || N - nh < 1)
        return pp_fail("%lld rows with --holdout %g: expected at least one holdout row and one training row",
                       (long long)N, c->holdout);
    int in = obs_dim + act_dim, D = obs_dim + 1, E = c->ensemble;
    int max_batch = c->batch_size > EVAL_CHUNK ? c->batch_size : EVAL_CHUNK;
    if (pp_check_memory((double)N * (in + D + 1) * 8.0 +
                        (double)E * c->hidden * (c->hidden * c->layers + in) * 4.0 * 5 +
                        (double)max_batch * E * (c->hidden > 2 * D ? c->hidden : 2 * D) * 4.0 * (2 * c->layers + 4)) !=
        0) {
        pp_fail_prefix("--ensemble, --hidden, --layers and the data set's rows: ");
        return -1;
    }
    pp_model *m = model_new(c, obs_dim, act_dim, max_batch);
    if (!m) return -1;
    snprintf(m->env, sizeof m->env, "%s", d->env);
    pp_rng weights = pp_rng_stream(c->seed, RNG_MODEL), split = weights, batches = weights;
    weights = pp_rng_split(&split, 1);
    batches = pp_rng_split(&split, 3);
    split = pp_rng_split(&split, 2);
    pp_mlp_init_params(&m->net, m->params, &weights);
    for (int j = 0; j < D; j++) {
        m->max_lv[j] = PP_GAUSS_MAX_LV_INIT;
        m->min_lv[j] = PP_GAUSS_MIN_LV_INIT;
    }

    /* a seeded shuffle: the holdout is its first nh rows, the training split the rest */
    int64_t *perm = pp_xmalloc((size_t)N * sizeof *perm);
    for (int64_t i = 0; i < N; i++) perm[i] = i;
    for (int64_t i = N - 1; i > 0; i--) {
        int64_t k = (int64_t)pp_rng_below(&split, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
    float *X = pp_xmalloc((size_t)N * in * sizeof *X), *Y = pp_xmalloc((size_t)N * D * sizeof *Y);
    int rc = gather(d, perm, N, obs_dim, act_dim, X, Y);
    free(perm);
    int64_t nt = N - nh;
    const float *Xh = X, *Yh = Y, *Xt = X + nh * in, *Yt = Y + nh * D;
    if (rc == 0) {
        pp_model_norm_compute(Xt, nt, in, m->in_mean, m->in_std);
        normalise(X, N, in, m->in_mean, m->in_std);
        double s = 0;
        for (int64_t i = 0; i < nt; i++) s += Yt[i * D + obs_dim];
        m->reward_mean = s / (double)nt;
    }

    size_t nblob = m->net.nparams + 2 * (size_t)D;
    pp_adam adam;
    pp_adam_init(&adam, nblob, (float)c->lr);
    float *grads = pp_xmalloc(nblob * sizeof *grads), *snap = pp_xmalloc(m->net.nparams * sizeof *snap);
    float *xb = pp_xmalloc((size_t)c->batch_size * in * sizeof *xb), *yb = pp_xmalloc((size_t)c->batch_size * D * sizeof *yb);
    float *dout = pp_xmalloc((size_t)max_batch * E * 2 * D * sizeof *dout);
    int64_t *order = pp_xmalloc((size_t)nt * sizeof *order);
    double best[PP_MODEL_MAX_MEMBERS], mse[PP_MODEL_MAX_MEMBERS];
    int improved[PP_MODEL_MAX_MEMBERS], since = 0;
    for (int e = 0; e < E; e++) best[e] = 1e10; /* MOPO's initial snapshot loss */
    memcpy(snap, m->params, m->net.nparams * sizeof *snap);
    for (int64_t i = 0; i < nt; i++) order[i] = i;
    for (long long epoch = 1; rc == 0; epoch++) {
        for (int64_t i = nt - 1; i > 0; i--) {
            int64_t k = (int64_t)pp_rng_below(&batches, (uint64_t)i + 1), t = order[i];
            order[i] = order[k];
            order[k] = t;
        }
        double sum = 0;
        int64_t steps = 0;
        for (int64_t s = 0; s < nt && rc == 0; s += c->batch_size, steps++) {
            int b = (int)(nt - s < c->batch_size ? nt - s : c->batch_size);
            for (int i = 0; i < b; i++) {
                memcpy(xb + (size_t)i * in, Xt + order[s + i] * in, (size_t)in * sizeof *xb);
                memcpy(yb + (size_t)i * D, Yt + order[s + i] * D, (size_t)D * sizeof *yb);
            }
            const float *o = pp_mlp_forward(&m->net, m->params, xb, b);
            memset(grads, 0, nblob * sizeof *grads);
            double L = pp_gauss_nll(o, yb, m->max_lv, m->min_lv, b, D, E, PP_GAUSS_VAR_REG, dout,
                                    grads + m->net.nparams, grads + m->net.nparams + D, NULL);
            if (!isfinite(L)) {
                rc = pp_fail("the training loss is %s at epoch %lld, step %lld: try a smaller --lr (%g)",
                             isnan(L) ? "nan" : "infinite", epoch, (long long)steps + 1, c->lr);
                break;
            }
            sum += L;
            pp_mlp_backward(&m->net, m->params, dout, grads, NULL);
            pp_model_add_weight_decay(&m->net, m->params, grads);
            pp_adam_step(&adam, m->params, grads);
        }
        if (rc != 0) break;
        evaluate(m, Xh, Yh, nh, mse, NULL);
        for (int e = 0; e < E; e++)
            if (!isfinite(mse[e])) rc = pp_fail("member %d's holdout MSE is not finite at epoch %lld: try a smaller "
                                                "--lr (%g)", e, epoch, c->lr);
        if (rc != 0) break;
        m->epochs = epoch;
        if (progress) progress(ctx, epoch, sum / (double)steps, mse, E);
        int stop = pp_model_early_stop(mse, best, improved, E, &since, c->patience);
        for (int e = 0; e < E; e++)
            if (improved[e]) copy_member(&m->net, snap, m->params, e);
        if (stop || (c->max_epochs > 0 && epoch >= c->max_epochs)) break;
    }
    if (rc == 0) {
        memcpy(m->params, snap, m->net.nparams * sizeof *snap);
        evaluate(m, Xh, Yh, nh, m->holdout_mse, m->holdout_nll);
        choose_elites(m);
    }
    pp_adam_free(&adam);
    free(grads);
    free(snap);
    free(xb);
    free(yb);
    free(dout);
    free(order);
    free(X);
    free(Y);
    if (rc != 0) {
        pp_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int pp_model_eval(pp_model *m, const pp_dataset *d, int64_t rows, double *mse, double *nll, double *baseline)
{
    int obs_dim, act_dim;
    if (need_columns(d, &obs_dim, &act_dim) != 0) return -1;
    if (m->env[0] && d->env[0] && strcmp(m->env, d->env) != 0)
        return pp_fail("the model is for %s, the data set is of %s", m->env, d->env);
    if (obs_dim != m->obs_dim || act_dim != m->act_dim)
        return pp_fail("observations of %d and actions of %d, the model's are %d and %d", obs_dim, act_dim,
                       m->obs_dim, m->act_dim);
    int64_t n = rows > 0 && rows < d->rows ? rows : d->rows;
    if (n < 1) return pp_fail("the data set has no rows");
    int in = m->in_dim, D = m->D;
    float *X = pp_xmalloc((size_t)n * in * sizeof *X), *Y = pp_xmalloc((size_t)n * D * sizeof *Y);
    int rc = gather(d, NULL, n, obs_dim, act_dim, X, Y);
    if (rc == 0) {
        normalise(X, n, in, m->in_mean, m->in_std);
        evaluate(m, X, Y, n, mse, nll);
        double s = 0;
        for (int64_t i = 0; i < n; i++)
            for (int j = 0; j < D; j++) {
                double t = j < obs_dim ? Y[i * D + j] : Y[i * D + j] - m->reward_mean;
                s += t * t;
            }
        *baseline = s / ((double)n * D);
    }
    free(X);
    free(Y);
    return rc;
}

/* ---- the checkpoint ---- */

static int put_f32(pp_frame *f, const char *path, const float *x, int64_t n)
{
    return pp_frame_put_tensor(f, path, PP_F32, 1, &n, x);
}

int pp_model_save(const pp_model *m, const char *path)
{
    pp_frame *f = pp_frame_new();
    const pp_model_config *c = &m->c;
    int E = c->ensemble;
    int64_t e64 = E;
    int rc = pp_frame_set_i64(f, "config.ensemble", c->ensemble) | pp_frame_set_i64(f, "config.layers", c->layers) |
             pp_frame_set_i64(f, "config.hidden", c->hidden) | pp_frame_set_i64(f, "config.elites", c->elites) |
             pp_frame_set_i64(f, "config.batch_size", c->batch_size) |
             pp_frame_set_i64(f, "config.patience", c->patience) |
             pp_frame_set_i64(f, "config.max_epochs", c->max_epochs) | pp_frame_set_f64(f, "config.lr", c->lr) |
             pp_frame_set_f64(f, "config.holdout", c->holdout) |
             pp_frame_set_str(f, "env", m->env) |
             pp_frame_set_i64(f, "obs_dim", m->obs_dim) | pp_frame_set_i64(f, "act_dim", m->act_dim) |
             pp_frame_set_i64(f, "epochs", m->epochs) | pp_frame_set_f64(f, "reward_mean", m->reward_mean) |
             put_f32(f, "norm.in_mean", m->in_mean, m->in_dim) | put_f32(f, "norm.in_std", m->in_std, m->in_dim) |
             put_f32(f, "params", m->params, (int64_t)m->net.nparams) | put_f32(f, "max_lv", m->max_lv, m->D) |
             put_f32(f, "min_lv", m->min_lv, m->D) |
             pp_frame_put_tensor(f, "holdout.mse", PP_F64, 1, &e64, m->holdout_mse) |
             pp_frame_put_tensor(f, "holdout.nll", PP_F64, 1, &e64, m->holdout_nll);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
    rc |= pp_frame_set_str(f, "config.seed", seed);
    int64_t elites[PP_MODEL_MAX_MEMBERS], k = 0;
    for (int e = 0; e < E; e++)
        if (m->elite[e]) elites[k++] = e;
    rc |= pp_frame_put_tensor(f, "elites", PP_I64, 1, &k, elites);
    if (rc == 0) rc = pp_checkpoint_save(f, "model", path);
    else pp_fail_prefix("%s: ", path);
    pp_frame_free(f);
    return rc ? -1 : 0;
}

static int get_int(pp_frame *f, const char *path, int lo, int hi, int *out)
{
    int64_t v;
    if (pp_frame_get_i64(f, path, &v) != 0) return -1;
    if (v < lo || v > hi) return pp_fail("%s is %lld, expected %d to %d", path, (long long)v, lo, hi);
    *out = (int)v;
    return 0;
}

int pp_model_load(pp_model **out, const char *path)
{
    *out = NULL;
    pp_frame *f = pp_frame_new();
    uint8_t *buf = NULL;
    pp_model_config c = {0};
    int obs_dim = 0, act_dim = 0;
    int64_t v;
    double x;
    const char *s;
    size_t len;
    pp_model *m = NULL;
    int rc = pp_checkpoint_load(f, path, "model", &buf);
    if (rc == 0)
        rc = get_int(f, "config.ensemble", 1, PP_MODEL_MAX_MEMBERS, &c.ensemble) ||
             get_int(f, "config.layers", 1, PP_MLP_MAX_LAYERS - 1, &c.layers) ||
             get_int(f, "config.hidden", 1, 1 << 16, &c.hidden) ||
             get_int(f, "config.elites", 1, c.ensemble, &c.elites) ||
             get_int(f, "config.batch_size", 1, 1 << 24, &c.batch_size) ||
             get_int(f, "config.patience", 0, 1 << 30, &c.patience) ||
             get_int(f, "obs_dim", 1, 1 << 16, &obs_dim) || get_int(f, "act_dim", 1, 1 << 16, &act_dim) ||
             pp_frame_get_i64(f, "config.max_epochs", &v) || pp_frame_get_f64(f, "config.lr", &c.lr) ||
             pp_frame_get_f64(f, "config.holdout", &c.holdout) || pp_frame_get_str(f, "config.seed", &s, &len)
            ? -1
            : 0;
    if (rc == 0) {
        c.max_epochs = v;
        char seed[32];
        snprintf(seed, sizeof seed, "%.*s", (int)(len < 31 ? len : 31), s);
        c.seed = strtoull(seed, NULL, 10);
        if (pp_check_memory((double)c.ensemble * c.hidden * ((double)c.hidden * c.layers + obs_dim + act_dim) *
                            4.0 * 3) != 0)
            rc = -1;
    }
    if (rc == 0 && !(m = model_new(&c, obs_dim, act_dim, EVAL_CHUNK))) rc = -1;
    if (rc == 0) {
        int64_t in = m->in_dim, D = m->D, np = (int64_t)m->net.nparams, E = c.ensemble, k = c.elites, el[PP_MODEL_MAX_MEMBERS];
        rc = pp_frame_read_tensor(f, "norm.in_mean", PP_F32, 1, &in, m->in_mean, NULL) ||
             pp_frame_read_tensor(f, "norm.in_std", PP_F32, 1, &in, m->in_std, NULL) ||
             pp_frame_read_tensor(f, "params", PP_F32, 1, &np, m->params, NULL) ||
             pp_frame_read_tensor(f, "max_lv", PP_F32, 1, &D, m->max_lv, NULL) ||
             pp_frame_read_tensor(f, "min_lv", PP_F32, 1, &D, m->min_lv, NULL) ||
             pp_frame_read_tensor(f, "holdout.mse", PP_F64, 1, &E, m->holdout_mse, NULL) ||
             pp_frame_read_tensor(f, "holdout.nll", PP_F64, 1, &E, m->holdout_nll, NULL) ||
             pp_frame_read_tensor(f, "elites", PP_I64, 1, &k, el, NULL) || pp_frame_get_i64(f, "epochs", &v) ||
             pp_frame_get_f64(f, "reward_mean", &x) || pp_frame_get_str(f, "env", &s, &len)
                 ? -1
                 : 0;
        for (int i = 0; rc == 0 && i < k; i++) {
            if (el[i] < 0 || el[i] >= E || m->elite[el[i]]) rc = pp_fail("elites[%d] is %lld: expected a member", i,
                                                                          (long long)el[i]);
            else m->elite[el[i]] = 1;
        }
        if (rc == 0) {
            m->reward_mean = x;
            m->epochs = v;
            snprintf(m->env, sizeof m->env, "%.*s", (int)(len < sizeof m->env - 1 ? len : sizeof m->env - 1), s);
        }
    }
    if (rc != 0) {
        pp_fail_prefix("%s: ", path);
        pp_model_free(m);
        m = NULL;
    }
    pp_frame_free(f);
    free(buf);
    *out = m;
    return rc ? -1 : 0;
}
