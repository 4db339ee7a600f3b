/* stage_discrim.c - the discrim stage: trains f_w(s, a) high on the target
 * particles (s, tanh uK) and low on the policy samples (s, tanh u0) for the
 * chosen divergence (docs/algorithm.md section 7); emits the `disc` map and
 * metrics.discrim.
 *
 * Reads particles {obs, u0, uK} (and particles.upi, the policy side, when
 * langevin ran with --prior). A frame with neither batch nor particles (a
 * warm-up frame) passes untouched; a batch without particles is an error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/opt.h"
#include "frame/frame.h"
#include "nn/netmap.h"
#include "nn/vec.h"
#include "rl/discrim.h"
#include "stage/ckpt_state.h"
#include "stage/stage.h"
#include "stage/stage_config.h"


extern const pp_stage_ops pp_stage_discrim;

/* The options (one row each in discrim_options). */
typedef struct {
    int div;                  /* pp_divergence: the index in divergences[] */
    int lip;                  /* pp_lipschitz: the index in lipschitzes[] */
    int hidden, layers;
    double lr, gp_weight;     /* kept at float precision: the network's are floats */
    int updates;
    unsigned long long seed;
    int max_batch;
    int obs_dim, act_dim;     /* 0: from the first frame */
} discrim_config;

/* In the order of pp_divergence and pp_lipschitz. */
static const char *const divergences[] = {"jsd", "wd", "hinge", "rkl", NULL};
static const char *const lipschitzes[] = {"none", "sn", "gp", NULL};

/* The order of the rows is the order of config.* in the checkpoint. The
 * architecture (divergence, Lipschitz control, sizes) is SHAPE: on --resume
 * it comes from the checkpoint, and an option given that contradicts it is an
 * error. obs_dim/act_dim are in the checkpoint only once the network is built
 * (NEWKEY: a checkpoint without them keeps the options'). The others are
 * tunables: the checkpoint's value unless given again. */
enum { ROW_LIPSCHITZ = 1 };
static const pp_opt discrim_options[] = {
    PP_OPT_CHOICE("divergence", discrim_config, div, divergences, "wd",
                  "the divergence f estimates between particles and policy", PP_OPT_SHAPE),
    PP_OPT_CHOICE("lipschitz", discrim_config, lip, lipschitzes, "sn",
                  "Lipschitz control of f; jsd and rkl default to none", PP_OPT_SHAPE),
    PP_OPT_INT("hidden", discrim_config, hidden, 1, PP_NETMAP_MAX_DIM, "256",
               "width of the hidden layers", PP_OPT_SHAPE),
    PP_OPT_INT("layers", discrim_config, layers, 1, PP_MLP_MAX_LAYERS - 1, "2",
               "number of hidden layers", PP_OPT_SHAPE),
    PP_OPT_ROW("lr", PP_OPT_T_DOUBLE, discrim_config, lr, 1e-12, 1, "3e-4", NULL, "RATE",
               "Adam learning rate", NULL, PP_OPT_F32),
    PP_OPT_ROW("gp-weight", PP_OPT_T_DOUBLE, discrim_config, gp_weight, 0, 1e6, "10", NULL, "W",
               "gradient-penalty weight", NULL, PP_OPT_F32),
    PP_OPT_INT("updates", discrim_config, updates, 1, 1000000, "1", "Adam updates per frame", 0),
    PP_OPT_SEED("seed", discrim_config, seed,
                "seed of the initial weights and interpolates, stream 3", 0),
    PP_OPT_INT("max-batch", discrim_config, max_batch, 1, 1 << 20, "256", "largest batch accepted",
               0),
    PP_OPT_INT("obs-dim", discrim_config, obs_dim, 0, PP_NETMAP_MAX_DIM, "0",
               "observation size to build f at start-up (0: at the first frame)",
               PP_OPT_SHAPE | PP_OPT_NEWKEY),
    PP_OPT_INT("act-dim", discrim_config, act_dim, 0, PP_NETMAP_MAX_DIM, "0",
               "action size to build f at start-up (with --obs-dim)", PP_OPT_SHAPE | PP_OPT_NEWKEY),
    PP_OPT_END};

typedef struct {
    discrim_config cfg;
    uint64_t given; /* the rows given on the command line (pp_opt_parse) */
    /* state */
    pp_rng rng;
    long long frames;
    int ready;
    pp_discrim d;
    float *obs, *uk, *upi;
    /* backup for --updates > 1 (all-or-nothing on a non-finite loss) */
    float *keep_params, *keep_m, *keep_v, *keep_sn;
} discrim;

static void discrim_destroy(pp_stage *st);

/* The network and buffers for cfg's sizes and obs_dim x act_dim inputs. */
static int discrim_build(discrim *D)
{
    const discrim_config *c = &D->cfg;
    pp_rng init = pp_rng_split(&D->rng, PP_STREAM_INIT); /* does not advance D->rng */
    if (pp_discrim_init(&D->d, (pp_divergence)c->div, (pp_lipschitz)c->lip,
                        c->obs_dim + c->act_dim, c->hidden, c->layers, c->max_batch,
                        (float)c->lr, (float)c->gp_weight, &init) != 0)
        return -1;
    size_t nb = (size_t)c->max_batch, n = D->d.net.nparams;
    D->obs = pp_xalloc_f32(nb * c->obs_dim);
    D->uk = pp_xalloc_f32(nb * c->act_dim);
    D->upi = pp_xalloc_f32(nb * c->act_dim);
    D->keep_params = pp_xalloc_f32(n);
    D->keep_m = pp_xalloc_f32(n);
    D->keep_v = pp_xalloc_f32(n);
    D->keep_sn = pp_xalloc_f32(D->d.net.sn_state_floats + 1);
    D->ready = 1;
    return 0;
}

static void discrim_unbuild(discrim *D)
{
    if (D->ready) pp_discrim_free(&D->d);
    float *bufs[] = {D->obs, D->uk, D->upi, D->keep_params, D->keep_m, D->keep_v, D->keep_sn};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    D->obs = D->uk = D->upi = D->keep_params = D->keep_m = D->keep_v = D->keep_sn = NULL;
    D->ready = 0;
}

static int discrim_create(int argc, char **argv, pp_stage **out)
{
    discrim *D = pp_xcalloc(1, sizeof *D);
    pp_stage *st = pp_stage_new(&pp_stage_discrim, D);
    discrim_config *c = &D->cfg;
    int rc = pp_opt_read(discrim_options, c, argc, argv, &D->given);
    if (rc == 0 && !(D->given >> ROW_LIPSCHITZ & 1))
        c->lip = (c->div == PP_DIV_WD || c->div == PP_DIV_HINGE) ? PP_LIP_SN : PP_LIP_NONE;
    if (rc == 0 && c->div == PP_DIV_WD && c->lip == PP_LIP_NONE)
        rc = pp_fail("--divergence wd needs a Lipschitz critic: --lipschitz sn or gp, not none");
    if (rc == 0 && (c->obs_dim == 0) != (c->act_dim == 0))
        rc = pp_fail("--obs-dim and --act-dim go together");
    D->rng = pp_rng_stream(c->seed, PP_STREAM_DISCRIM);
    if (rc == 0 && c->obs_dim > 0) rc = discrim_build(D);
    return pp_stage_created(st, rc, out);
}

static void discrim_destroy(pp_stage *st)
{
    if (!st) return;
    discrim *D = st->self;
    discrim_unbuild(D);
    free(D);
    free(st);
}

/* ---- step ---- */
static int discrim_emit(discrim *D, pp_frame *f, const pp_discrim_stats *s)
{
    const discrim_config *c = &D->cfg;
    pp_discrim *d = &D->d;
    int64_t np[1] = {(int64_t)d->net.nparams};
    pp_frame_remove(f, "disc");
    if (pp_frame_set_str(f, "disc.divergence", pp_divergence_name((pp_divergence)c->div)) != 0 ||
        pp_frame_set_str(f, "disc.lipschitz", pp_lipschitz_name((pp_lipschitz)c->lip)) != 0 ||
        pp_frame_set_i64(f, "disc.obs_dim", c->obs_dim) != 0 ||
        pp_frame_set_i64(f, "disc.act_dim", c->act_dim) != 0 ||
        pp_frame_set_i64(f, "disc.hidden", c->hidden) != 0 ||
        pp_frame_set_i64(f, "disc.layers", c->layers) != 0 ||
        pp_frame_set_bool(f, "disc.spectral", c->lip == PP_LIP_SN) != 0 ||
        pp_frame_put_tensor(f, "disc.params", PP_F32, 1, np, d->params) != 0)
        return -1;
    if (c->lip == PP_LIP_SN) {
        int64_t ns[1] = {(int64_t)d->net.sn_state_floats};
        float *sn = pp_frame_put_tensor_uninit(f, "disc.sn", PP_F32, 1, ns);
        if (!sn) return -1;
        pp_mlp_sn_get(&d->net, sn);
    }
    pp_frame_set_f64(f, "metrics.discrim.loss", s->loss);
    pp_frame_set_f64(f, "metrics.discrim.f_p_mean", s->f_p_mean);
    pp_frame_set_f64(f, "metrics.discrim.f_pi_mean", s->f_pi_mean);
    pp_frame_set_f64(f, "metrics.discrim.gap", s->gap);
    if (c->lip == PP_LIP_GP) pp_frame_set_f64(f, "metrics.discrim.gp", s->gp);
    pp_frame_set_f64(f, "metrics.discrim.updates", (double)d->updates);
    return 0;
}

static int discrim_read_rows(pp_frame *f, const char *path, int B, int cols, float *dst)
{
    int64_t shape[2] = {B, cols};
    return pp_frame_read_tensor(f, path, PP_F32, 2, shape, dst, NULL);
}

static int discrim_step(pp_stage *st, pp_frame *f)
{
    discrim *D = st->self;
    discrim_config *c = &D->cfg;
    if (!pp_frame_get(f, "particles")) {
        if (!pp_frame_get(f, "batch")) return 0; /* warm-up frame: pass through */
        return pp_fail("missing field particles, expected {obs, u0, uK} from parpi-langevin "
                       "upstream of parpi-discrim");
    }
    pp_dtype dt;
    int nd, na;
    int64_t so[PP_MAX_DIMS], sa[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, "particles.obs", &dt, &nd, so) != 0) return -1;
    if (nd != 2 || so[0] < 1 || so[1] < 1 || so[0] > c->max_batch)
        return pp_fail("particles.obs is %s, expected [B,obs_dim] with 1 <= B <= %d (--max-batch)",
                       pp_shape_str(nd, so, (char[64]){0}, 64), c->max_batch);
    if (pp_frame_get_tensor_info(f, "particles.uK", &dt, &na, sa) != 0) return -1;
    if (na != 2 || sa[0] != so[0] || sa[1] < 1)
        return pp_fail("particles.uK is %s, expected [%lld,act_dim]",
                       pp_shape_str(na, sa, (char[64]){0}, 64), (long long)so[0]);
    int B = (int)so[0], O = (int)so[1], A = (int)sa[1];
    if (!D->ready) {
        c->obs_dim = O;
        c->act_dim = A;
        if (discrim_build(D) != 0) {
            c->obs_dim = c->act_dim = 0;
            return -1;
        }
    } else if (O != c->obs_dim || A != c->act_dim) {
        return pp_fail("particles are for obs %d, act %d, expected obs %d, act %d (as the "
                       "discriminator was built)", O, A, c->obs_dim, c->act_dim);
    }
    const char *pi_path = pp_frame_get(f, "particles.upi") ? "particles.upi" : "particles.u0";
    if (discrim_read_rows(f, "particles.obs", B, O, D->obs) != 0 ||
        discrim_read_rows(f, "particles.uK", B, A, D->uk) != 0 ||
        discrim_read_rows(f, pi_path, B, A, D->upi) != 0)
        return -1;

    /* a NaN would be masked by the ReLUs in f but poison the gradients: name it */
    if (pp_vec_check_finite(D->obs, (size_t)B * O, (size_t)O, "particles.obs") != 0 ||
        pp_vec_check_finite(D->uk, (size_t)B * A, (size_t)A, "particles.uK") != 0 ||
        pp_vec_check_finite(D->upi, (size_t)B * A, (size_t)A, pi_path) != 0)
        return -1;
    pp_discrim *d = &D->d;
    int in = O + A;
    for (int b = 0; b < B; b++) {
        float *xp = d->x + (size_t)b * in, *xq = d->x + (size_t)(B + b) * in;
        memcpy(xp, D->obs + (size_t)b * O, (size_t)O * sizeof(float));
        memcpy(xq, D->obs + (size_t)b * O, (size_t)O * sizeof(float));
        for (int j = 0; j < A; j++) {
            xp[O + j] = tanhf(D->uk[(size_t)b * A + j]);
            xq[O + j] = tanhf(D->upi[(size_t)b * A + j]);
        }
    }
    int multi = c->updates > 1;
    pp_rng rng_keep = D->rng;
    long long t_keep = d->adam.t, upd_keep = d->updates;
    size_t n = d->net.nparams;
    if (multi) {
        memcpy(D->keep_params, d->params, n * sizeof(float));
        memcpy(D->keep_m, d->adam.m, n * sizeof(float));
        memcpy(D->keep_v, d->adam.v, n * sizeof(float));
        if (c->lip == PP_LIP_SN) pp_mlp_sn_get(&d->net, D->keep_sn);
    }
    pp_discrim_stats s = {0};
    for (int k = 0; k < c->updates; k++) {
        if (pp_discrim_update(d, d->x, d->x + (size_t)B * in, B, &D->rng, &s) != 0) {
            if (multi) { /* undo the updates already made on this frame */
                memcpy(d->params, D->keep_params, n * sizeof(float));
                memcpy(d->adam.m, D->keep_m, n * sizeof(float));
                memcpy(d->adam.v, D->keep_v, n * sizeof(float));
                d->adam.t = t_keep;
                d->updates = upd_keep;
                if (c->lip == PP_LIP_SN) pp_mlp_sn_set(&d->net, D->keep_sn, d->params);
                D->rng = rng_keep;
            }
            return pp_fail_prefix("update %d of this frame: ", k + 1);
        }
    }
    if (discrim_emit(D, f, &s) != 0) return -1;
    D->frames++;
    return 0;
}

/* ---- checkpoints ---- */
/* config.* (obs_dim and act_dim once built), rng, frames, built; once built
 * also params, adam.{m, v, t}, updates and sn (with sn). */
static int discrim_save(pp_stage *st, pp_frame *ck)
{
    discrim *D = st->self;
    if (pp_config_save(discrim_options, &D->cfg, ck) != 0) return -1;
    if (!D->ready) { /* no sizes before the network is built */
        pp_frame_remove(ck, "config.obs_dim");
        pp_frame_remove(ck, "config.act_dim");
    }
    if (pp_ckpt_put_rng(ck, "rng", &D->rng) != 0 ||
        pp_frame_set_i64(ck, "frames", D->frames) != 0 ||
        pp_frame_set_bool(ck, "built", D->ready) != 0)
        return -1;
    if (!D->ready) return 0;
    pp_discrim *d = &D->d;
    int64_t np[1] = {(int64_t)d->net.nparams};
    if (pp_frame_put_tensor(ck, "params", PP_F32, 1, np, d->params) != 0 ||
        pp_frame_put_tensor(ck, "adam.m", PP_F32, 1, np, d->adam.m) != 0 ||
        pp_frame_put_tensor(ck, "adam.v", PP_F32, 1, np, d->adam.v) != 0 ||
        pp_frame_set_i64(ck, "adam.t", d->adam.t) != 0 ||
        pp_frame_set_i64(ck, "updates", d->updates) != 0)
        return -1;
    if (D->cfg.lip == PP_LIP_SN) {
        int64_t ns[1] = {(int64_t)d->net.sn_state_floats};
        float *sn = pp_frame_put_tensor_uninit(ck, "sn", PP_F32, 1, ns);
        if (!sn) return -1;
        pp_mlp_sn_get(&d->net, sn);
    }
    return 0;
}

/* The rule of stage_config.h for config.*; the network is then (re)built to
 * the checkpoint's sizes (also when --obs-dim/--act-dim built it at create:
 * nothing of it was used yet) and its state read. */
static int discrim_load(pp_stage *st, pp_frame *ck)
{
    discrim *D = st->self;
    discrim_config cfg = D->cfg;
    pp_rng rng;
    int64_t frames;
    double is_built = 0;
    pp_node *built = pp_frame_get(ck, "built");
    if (!built || pp_node_as_f64(built, &is_built) != 0) return pp_fail("missing field built");
    if (pp_config_load(discrim_options, &cfg, sizeof cfg, ck, D->given, 0) != 0 ||
        pp_ckpt_get_rng(ck, "rng", &rng) != 0 || pp_frame_get_i64(ck, "frames", &frames) != 0)
        return -1;
    if (is_built) {
        if (!pp_frame_get(ck, "config.obs_dim") || !pp_frame_get(ck, "config.act_dim"))
            return pp_fail("missing field config.%s (the checkpoint says built)",
                           pp_frame_get(ck, "config.obs_dim") ? "act_dim" : "obs_dim");
        if (cfg.obs_dim < 1 || cfg.act_dim < 1)
            return pp_fail("config.obs_dim is %d and config.act_dim %d, expected sizes >= 1",
                           cfg.obs_dim, cfg.act_dim);
        /* the sizes must match the params tensor before anything is allocated */
        size_t want = pp_netmap_mlp_floats(cfg.obs_dim + cfg.act_dim, cfg.hidden, cfg.layers, 1, 1);
        if (pp_ckpt_check_blob_len(ck, "params", want) != 0) return -1;
    }
    /* from here the stage takes the checkpoint's config and rng */
    discrim_unbuild(D);
    D->cfg = cfg;
    D->rng = rng;
    D->frames = frames;
    if (!is_built) return cfg.obs_dim > 0 ? discrim_build(D) : 0;
    if (discrim_build(D) != 0) return -1;
    pp_discrim *d = &D->d;
    int64_t np[1] = {(int64_t)d->net.nparams}, t, upd;
    if (pp_frame_read_tensor(ck, "params", PP_F32, 1, np, d->params, NULL) != 0 ||
        pp_frame_read_tensor(ck, "adam.m", PP_F32, 1, np, d->adam.m, NULL) != 0 ||
        pp_frame_read_tensor(ck, "adam.v", PP_F32, 1, np, d->adam.v, NULL) != 0 ||
        pp_frame_get_i64(ck, "adam.t", &t) != 0 || pp_frame_get_i64(ck, "updates", &upd) != 0)
        return -1;
    d->adam.t = t;
    d->updates = upd;
    if (cfg.lip == PP_LIP_SN) {
        int64_t ns[1] = {(int64_t)d->net.sn_state_floats};
        if (pp_frame_read_tensor(ck, "sn", PP_F32, 1, ns, D->keep_sn, NULL) != 0) return -1;
        pp_mlp_sn_set(&d->net, D->keep_sn, d->params);
    }
    return 0;
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
static const char *const discrim_reads[] = {"batch", "particles", NULL};
static const char *const discrim_owns[] = {"disc", NULL};
static const char *const discrim_metrics[] = {"loss", "f_p_mean", "f_pi_mean", "gap", "gp", "updates", NULL};

const pp_stage_ops pp_stage_discrim = {
    .kind = "discrim",
    .reads = discrim_reads,
    .owns = discrim_owns,
    .metrics = discrim_metrics,
    .summary = "Trains the discriminator f_w(s,a), high on Langevin particles and low on policy "
               "samples, for jsd, wd, hinge or rkl; emits the disc map.",
    .options = discrim_options,
    .create = discrim_create,
    .step = discrim_step,
    .save = discrim_save,
    .load = discrim_load,
    .destroy = discrim_destroy,
};
