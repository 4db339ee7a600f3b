/* stage_dual.c - the dual stage: BRAC's KL dual critic c(s, a) and the
 * per-state estimate of KL(pi || pi_beta) that the Q critic's value penalty
 * reads (docs/algorithm.md section 15); emits the `dual` map, `penalty` and
 * metrics.dual.
 *
 * Reads batch {obs, act, next_obs} and the frame's current policy (any arch:
 * only its samples are used). The behaviour policy pi_beta is --prior FILE (a
 * gaussian-tanh policy, opened at create). Per frame: --iters updates on the
 * frame's batch (fresh a_p ~ pi(.|s) and t each), then penalty_b =
 * term_p(c(s'_b, a'_p)) + term_b(c(s'_b, a'_b)), a'_p ~ pi(.|s'), a'_b ~
 * pi_beta(.|s'). A frame without batch passes untouched.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/opt.h"
#include "frame/frame.h"
#include "nn/netmap.h"
#include "nn/vec.h"
#include "rl/actor.h"
#include "rl/dual.h"
#include "rl/policy_file.h"
#include "stage/ckpt_state.h"
#include "stage/stage.h"
#include "stage/stage_config.h"

extern const pp_stage_ops pp_stage_dual;

typedef struct {
    int hidden, layers;
    double lr, gp_weight; /* kept at float precision: the network's are floats */
    int iters;
    char prior[4096];
    int max_batch;
    unsigned long long seed;
    int obs_dim, act_dim; /* 0: from the first batch */
} dual_config;

/* The order of the rows is the order of config.* in the checkpoint. The
 * sizes are SHAPE (the checkpoint's on --resume; a contradicting option is an
 * error); lr, gp-weight, iters, seed and max-batch are tunables; --prior is a
 * path, given again on every resume. */
static const pp_opt dual_options[] = {
    PP_OPT_INT("hidden", dual_config, hidden, 1, PP_NETMAP_MAX_DIM, "256",
               "width of the critic's hidden layers", PP_OPT_SHAPE),
    PP_OPT_INT("layers", dual_config, layers, 1, PP_MLP_MAX_LAYERS - 1, "2",
               "number of hidden layers", PP_OPT_SHAPE),
    PP_OPT_ROW("lr", PP_OPT_T_DOUBLE, dual_config, lr, 1e-12, 1, "1e-3", NULL, "RATE",
               "Adam learning rate (BRAC's)", NULL, PP_OPT_F32),
    PP_OPT_ROW("gp-weight", PP_OPT_T_DOUBLE, dual_config, gp_weight, 0, 1e6, "5", NULL, "W",
               "weight of the one-sided gradient penalty on the actions", NULL, PP_OPT_F32),
    PP_OPT_INT("iters", dual_config, iters, 1, 1000000, "3",
               "critic updates per frame on its batch (BRAC's c_iter)", 0),
    PP_OPT_STRING("prior", dual_config, prior, "FILE", NULL,
                  "the behaviour policy pi_beta: a gaussian-tanh policy checkpoint or frame (required)",
                  PP_OPT_KEEP),
    PP_OPT_INT("max-batch", dual_config, max_batch, 1, 1 << 20, "256", "largest batch accepted", 0),
    PP_OPT_SEED("seed", dual_config, seed,
                "seed of the initial weights, policy samples and interpolates, stream 8", 0),
    PP_OPT_INT("obs-dim", dual_config, obs_dim, 0, PP_NETMAP_MAX_DIM, "0",
               "observation size to build c at start-up (0: at the first batch)", PP_OPT_SHAPE),
    PP_OPT_INT("act-dim", dual_config, act_dim, 0, PP_NETMAP_MAX_DIM, "0",
               "action size to build c at start-up (with --obs-dim)", PP_OPT_SHAPE),
    PP_OPT_END};

typedef struct {
    dual_config cfg;
    uint64_t given;
    /* state */
    pp_rng rng;
    long long frames;
    int ready;
    pp_dual d;
    pp_actor *prior;  /* pi_beta, opened at create */
    pp_actor *actor;  /* the frame's policy, from the first batch on */
    float *obs, *act, *next, *ap, *ab, *pen;
    float *keep_params, *keep_m, *keep_v; /* the state before the frame's updates */
} dual;

static int dual_check_prior(dual *D, int O, int A, const char *what)
{
    const pp_netmap *bm = pp_actor_spec(D->prior);
    if (bm->obs_dim != O || bm->act_dim != A)
        return pp_fail("--prior %s is a policy for obs %d, act %d; %s is obs %d, act %d", D->cfg.prior,
                       bm->obs_dim, bm->act_dim, what, O, A);
    return 0;
}

static int dual_build(dual *D)
{
    const dual_config *c = &D->cfg;
    pp_rng init = pp_rng_split(&D->rng, PP_STREAM_INIT); /* does not advance D->rng */
    if (pp_dual_init(&D->d, c->obs_dim, c->act_dim, c->hidden, c->layers, c->max_batch, (float)c->lr,
                     (float)c->gp_weight, &init) != 0)
        return -1;
    size_t nb = (size_t)c->max_batch, n = D->d.net.nparams;
    D->obs = pp_xalloc_f32(nb * c->obs_dim);
    D->next = pp_xalloc_f32(nb * c->obs_dim);
    D->act = pp_xalloc_f32(nb * c->act_dim);
    D->ap = pp_xalloc_f32(nb * c->act_dim);
    D->ab = pp_xalloc_f32(nb * c->act_dim);
    D->pen = pp_xalloc_f32(nb);
    D->keep_params = pp_xalloc_f32(n);
    D->keep_m = pp_xalloc_f32(n);
    D->keep_v = pp_xalloc_f32(n);
    D->ready = 1;
    return 0;
}

static void dual_unbuild(dual *D)
{
    if (D->ready) pp_dual_free(&D->d);
    float *bufs[] = {D->obs, D->next, D->act, D->ap, D->ab, D->pen, D->keep_params, D->keep_m, D->keep_v};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    D->obs = D->next = D->act = D->ap = D->ab = D->pen = D->keep_params = D->keep_m = D->keep_v = NULL;
    D->ready = 0;
}

static void dual_destroy(pp_stage *st)
{
    if (!st) return;
    dual *D = st->self;
    dual_unbuild(D);
    pp_actor_free(D->prior);
    pp_actor_free(D->actor);
    free(D);
    free(st);
}

static int dual_create(int argc, char **argv, pp_stage **out)
{
    dual *D = pp_xcalloc(1, sizeof *D);
    pp_stage *st = pp_stage_new(&pp_stage_dual, D);
    dual_config *c = &D->cfg;
    int rc = pp_opt_read(dual_options, c, argc, argv, &D->given);
    if (rc == 0 && !c->prior[0])
        rc = pp_fail("--prior FILE is required: the penalty is KL(pi || pi_beta) and pi_beta is the "
                     "behaviour policy (a gaussian-tanh policy checkpoint or frame, e.g. one fitted by "
                     "behaviour cloning)");
    if (rc == 0 && (c->obs_dim == 0) != (c->act_dim == 0))
        rc = pp_fail("--obs-dim and --act-dim go together");
    D->rng = pp_rng_stream(c->seed, PP_STREAM_DUAL);
    if (rc == 0) rc = pp_prior_from_file(c->prior, c->max_batch, &D->prior);
    if (rc == 0 && c->obs_dim > 0) {
        rc = dual_check_prior(D, c->obs_dim, c->act_dim, "--obs-dim/--act-dim say");
        if (rc == 0) rc = dual_build(D);
    }
    return pp_stage_created(st, rc, out);
}

/* ---- step ---- */
static int dual_read(pp_frame *f, const char *path, int B, int cols, float *dst)
{
    int64_t shape[2] = {B, cols};
    if (pp_frame_read_tensor(f, path, PP_F32, 2, shape, dst, NULL) != 0) return -1;
    return pp_vec_check_finite(dst, (size_t)B * cols, (size_t)cols, path);
}

static int dual_emit(dual *D, pp_frame *f, int B, const pp_dual_stats *s, double estimate, double pen_mean)
{
    const dual_config *c = &D->cfg;
    int64_t np[1] = {(int64_t)D->d.net.nparams}, nb[1] = {B};
    pp_frame_remove(f, "dual");
    pp_frame_remove(f, "penalty");
    if (pp_frame_set_str(f, "dual.divergence", "kl") != 0 ||
        pp_frame_set_str(f, "dual.lipschitz", "gp") != 0 ||
        pp_frame_set_i64(f, "dual.obs_dim", c->obs_dim) != 0 ||
        pp_frame_set_i64(f, "dual.act_dim", c->act_dim) != 0 ||
        pp_frame_set_i64(f, "dual.hidden", c->hidden) != 0 ||
        pp_frame_set_i64(f, "dual.layers", c->layers) != 0 ||
        pp_frame_set_bool(f, "dual.spectral", 0) != 0 ||
        pp_frame_put_tensor(f, "dual.params", PP_F32, 1, np, D->d.params) != 0 ||
        pp_frame_put_tensor(f, "penalty", PP_F32, 1, nb, D->pen) != 0)
        return -1;
    pp_frame_set_f64(f, "metrics.dual.loss", s->loss);
    pp_frame_set_f64(f, "metrics.dual.estimate", estimate);
    pp_frame_set_f64(f, "metrics.dual.gp", s->gp);
    pp_frame_set_f64(f, "metrics.dual.penalty_mean", pen_mean);
    return 0;
}

/* The frame's updates and the penalty; on failure the caller restores. */
static int dual_run(dual *D, int B, pp_dual_stats *s, double *estimate, double *pen_mean)
{
    pp_dual *d = &D->d;
    float *pp = pp_actor_params(D->actor);
    for (int k = 0; k < D->cfg.iters; k++) {
        if (pp_actor_act(D->actor, pp, D->obs, B, 0, &D->rng, D->ap) != 0 ||
            pp_dual_update(d, D->obs, D->ap, D->act, B, &D->rng, s) != 0)
            return pp_fail_prefix("update %d of this frame: ", k + 1);
    }
    *estimate = pp_dual_estimate(d, D->obs, D->ap, D->act, B, NULL);
    /* a'_p ~ pi(.|s'), then a'_b ~ pi_beta(.|s'), from the same stream */
    if (pp_actor_act(D->actor, pp, D->next, B, 0, &D->rng, D->ap) != 0 ||
        pp_actor_act(D->prior, pp_actor_params(D->prior), D->next, B, 0, &D->rng, D->ab) != 0)
        return -1;
    *pen_mean = pp_dual_estimate(d, D->next, D->ap, D->ab, B, D->pen);
    if (!isfinite(*estimate) || !isfinite(*pen_mean))
        return pp_fail("the estimate (%g) or the penalty's mean (%g) is not finite: parameters left "
                       "unchanged", *estimate, *pen_mean);
    return 0;
}

static int dual_step(pp_stage *st, pp_frame *f)
{
    dual *D = st->self;
    dual_config *c = &D->cfg;
    if (!pp_frame_get(f, "batch")) return 0; /* warm-up frame: pass through */
    pp_dtype dt;
    int no, na;
    int64_t so[PP_MAX_DIMS], sa[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, "batch.obs", &dt, &no, so) != 0) return -1;
    if (no != 2 || so[0] < 1 || so[1] < 1 || so[0] > c->max_batch)
        return pp_fail("batch.obs is %s, expected [B,obs_dim] with 1 <= B <= %d (--max-batch)",
                       pp_shape_str(no, so, (char[64]){0}, 64), c->max_batch);
    if (pp_frame_get_tensor_info(f, "batch.act", &dt, &na, sa) != 0) return -1;
    if (na != 2 || sa[0] != so[0] || sa[1] < 1)
        return pp_fail("batch.act is %s, expected [%lld,act_dim]", pp_shape_str(na, sa, (char[64]){0}, 64),
                       (long long)so[0]);
    if (!pp_frame_get(f, "batch.next_obs"))
        return pp_fail("missing field batch.next_obs: the penalty is the KL estimate at the next states "
                       "(a data set without next_observations cannot feed parpi-dual)");
    int B = (int)so[0], O = (int)so[1], A = (int)sa[1];
    if (!D->ready) {
        if (dual_check_prior(D, O, A, "the batch") != 0) return -1;
        c->obs_dim = O;
        c->act_dim = A;
        if (dual_build(D) != 0) {
            c->obs_dim = c->act_dim = 0;
            return -1;
        }
    } else if (O != c->obs_dim || A != c->act_dim) {
        return pp_fail("the batch is for obs %d, act %d, expected obs %d, act %d (as the dual critic "
                       "was built)", O, A, c->obs_dim, c->act_dim);
    }
    if (dual_read(f, "batch.obs", B, O, D->obs) != 0 || dual_read(f, "batch.act", B, A, D->act) != 0 ||
        dual_read(f, "batch.next_obs", B, O, D->next) != 0)
        return -1;
    if (!pp_frame_get(f, "policy"))
        return pp_fail("missing field policy: parpi-dual samples a_p ~ pi(.|s) from the frame's "
                       "current policy (parpi-policy writes it; --prime starts a ring with it)");
    if (pp_actor_from_frame_for(f, "policy", c->max_batch, O, A, &D->actor) != 0)
        return pp_fail_prefix("the frame's policy: ");

    pp_dual *d = &D->d;
    size_t n = d->net.nparams;
    pp_rng rng_keep = D->rng;
    long long t_keep = d->adam.t, upd_keep = d->updates;
    memcpy(D->keep_params, d->params, n * sizeof(float));
    memcpy(D->keep_m, d->adam.m, n * sizeof(float));
    memcpy(D->keep_v, d->adam.v, n * sizeof(float));
    pp_dual_stats s = {0};
    double estimate = 0, pen_mean = 0;
    if (dual_run(D, B, &s, &estimate, &pen_mean) != 0) { /* undo the frame's updates */
        memcpy(d->params, D->keep_params, n * sizeof(float));
        memcpy(d->adam.m, D->keep_m, n * sizeof(float));
        memcpy(d->adam.v, D->keep_v, n * sizeof(float));
        d->adam.t = t_keep;
        d->updates = upd_keep;
        D->rng = rng_keep;
        return -1;
    }
    if (dual_emit(D, f, B, &s, estimate, pen_mean) != 0) return -1;
    D->frames++;
    return 0;
}

/* ---- checkpoints ---- */
/* config.* (obs_dim and act_dim once built), rng, frames, built; once built
 * also params, adam.{m, v, t} and updates. */
static int dual_save(pp_stage *st, pp_frame *ck)
{
    dual *D = st->self;
    if (pp_config_save(dual_options, &D->cfg, ck) != 0) return -1;
    if (pp_ckpt_put_rng(ck, "rng", &D->rng) != 0 || pp_frame_set_i64(ck, "frames", D->frames) != 0 ||
        pp_frame_set_bool(ck, "built", D->ready) != 0)
        return -1;
    if (!D->ready) return 0;
    pp_dual *d = &D->d;
    int64_t np[1] = {(int64_t)d->net.nparams};
    if (pp_frame_put_tensor(ck, "params", PP_F32, 1, np, d->params) != 0 ||
        pp_frame_put_tensor(ck, "adam.m", PP_F32, 1, np, d->adam.m) != 0 ||
        pp_frame_put_tensor(ck, "adam.v", PP_F32, 1, np, d->adam.v) != 0 ||
        pp_frame_set_i64(ck, "adam.t", d->adam.t) != 0 || pp_frame_set_i64(ck, "updates", d->updates) != 0)
        return -1;
    return 0;
}

/* The rule of stage_config.h for config.*; the network is then (re)built to
 * the checkpoint's sizes and its state read. */
static int dual_load(pp_stage *st, pp_frame *ck)
{
    dual *D = st->self;
    dual_config cfg = D->cfg;
    pp_rng rng;
    int64_t frames;
    double is_built = 0;
    pp_node *built = pp_frame_get(ck, "built");
    if (!built || pp_node_as_f64(built, &is_built) != 0) return pp_fail("missing field built");
    if (pp_config_load(dual_options, &cfg, sizeof cfg, ck, D->given, 0) != 0 ||
        pp_ckpt_get_rng(ck, "rng", &rng) != 0 || pp_frame_get_i64(ck, "frames", &frames) != 0)
        return -1;
    if (is_built) {
        if (cfg.obs_dim < 1 || cfg.act_dim < 1)
            return pp_fail("config.obs_dim is %d and config.act_dim %d, expected sizes >= 1", cfg.obs_dim,
                           cfg.act_dim);
        size_t want = pp_netmap_mlp_floats(cfg.obs_dim + cfg.act_dim, cfg.hidden, cfg.layers, 1, 1);
        if (pp_ckpt_check_blob_len(ck, "params", want) != 0) return -1;
        const pp_netmap *bm = pp_actor_spec(D->prior);
        if (bm->obs_dim != cfg.obs_dim || bm->act_dim != cfg.act_dim)
            return pp_fail("--prior %s is a policy for obs %d, act %d; the checkpoint's critic is for obs "
                           "%d, act %d", D->cfg.prior, bm->obs_dim, bm->act_dim, cfg.obs_dim, cfg.act_dim);
    }
    dual_unbuild(D);
    D->cfg = cfg;
    D->rng = rng;
    D->frames = frames;
    if (!is_built) return cfg.obs_dim > 0 ? dual_build(D) : 0;
    if (dual_build(D) != 0) return -1;
    pp_dual *d = &D->d;
    int64_t np[1] = {(int64_t)d->net.nparams}, t, upd;
    if (pp_frame_read_tensor(ck, "params", PP_F32, 1, np, d->params, NULL) != 0 ||
        pp_frame_read_tensor(ck, "adam.m", PP_F32, 1, np, d->adam.m, NULL) != 0 ||
        pp_frame_read_tensor(ck, "adam.v", PP_F32, 1, np, d->adam.v, NULL) != 0 ||
        pp_frame_get_i64(ck, "adam.t", &t) != 0 || pp_frame_get_i64(ck, "updates", &upd) != 0)
        return -1;
    d->adam.t = t;
    d->updates = upd;
    return 0;
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
static const char *const dual_reads[] = {"batch", "policy", NULL};
static const char *const dual_owns[] = {"dual", "penalty", NULL};
static const char *const dual_metrics[] = {"loss", "estimate", "gp", "penalty_mean", NULL};

const pp_stage_ops pp_stage_dual = {
    .kind = "dual",
    .reads = dual_reads,
    .owns = dual_owns,
    .metrics = dual_metrics,
    .summary = "Trains BRAC's KL dual critic c(s,a) between the current policy and the behaviour "
               "policy (--prior); emits the dual map and the per-state penalty at the next states.",
    .options = dual_options,
    .create = dual_create,
    .step = dual_step,
    .save = dual_save,
    .load = dual_load,
    .destroy = dual_destroy,
};
