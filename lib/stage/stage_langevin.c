/* stage_langevin.c - the langevin stage: K steps of unadjusted Langevin from
 * the current policy's pre-tanh samples towards exp(Q/alpha) (docs/algorithm.md
 * section 6); emits particles {obs, u0, uK, q0, qK} and metrics.langevin.
 *
 * Reads batch.obs, policy {arch, obs_dim, act_dim, hidden, layers, params},
 * q {arch "twin-mlp", ...}, alpha. A frame without batch passes untouched.
 * With --prior (offline BRAC) u0 ~ pi_beta and the score carries pi_beta's;
 * then particles.upi holds independent samples of the current policy, the
 * policy side of the discriminator.
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
#include "rl/langevin.h"
#include "rl/policy.h"
#include "rl/policy_file.h"
#include "stage/ckpt_state.h"
#include "stage/stage.h"
#include "stage/stage_config.h"


extern const pp_stage_ops pp_stage_langevin;

/* The options (one row each in langevin_options). */
typedef struct {
    int steps;                /* K */
    double eps;               /* kept at float precision: the sampler's step is a float */
    unsigned long long seed;
    int max_batch;
    char prior[4096];         /* "" when none */
} langevin_config;

/* The order of the rows is the order of config.* in the checkpoint.
 * steps, eps, seed and max-batch are tunables (on --resume the checkpoint's
 * value unless given again: the buffers are sized after the resume); --prior
 * is a path, given again on every resume. */
static const pp_opt langevin_options[] = {
    PP_OPT_ROW("steps", PP_OPT_T_INT, langevin_config, steps, 0, 1000000, "5", NULL, "K",
               "Langevin steps per particle, 0 leaves uK = u0", NULL, 0),
    PP_OPT_ROW("eps", PP_OPT_T_DOUBLE, langevin_config, eps, 1e-12, 1, "3e-4", NULL,
               "EPS", "step size (the noise's variance is 2 EPS)", NULL, PP_OPT_F32),
    PP_OPT_SEED("seed", langevin_config, seed, "seed of the noise and policy samples, stream 2", 0),
    PP_OPT_INT("max-batch", langevin_config, max_batch, 1, 1 << 20, "256",
               "largest batch accepted", 0),
    PP_OPT_STRING("prior", langevin_config, prior, "FILE", NULL,
                  "offline BRAC prior: a gaussian-tanh policy checkpoint or frame",
                  PP_OPT_KEEP),
    PP_OPT_END};

typedef struct {
    langevin_config cfg;
    uint64_t given; /* the rows given on the command line (pp_opt_parse) */
    /* state */
    pp_rng rng;
    long long frames;
    /* built at the first frame with a batch */
    int ready, obs_dim, act_dim;
    /* the sizes a resumed checkpoint was written for (0: not known): the
     * first frame must have them, so a checkpoint of another task is refused */
    int ck_obs_dim, ck_act_dim;
    pp_netmap pol_map, q_map;
    pp_policy pol;
    float *pol_params;
    pp_mlp q;
    float *q_params;
    pp_qscore qs;
    float *obs, *u0, *u, *g, *xi, *q0, *qK, *upi;
    /* BRAC prior pi_beta, loaded at create (a gaussian-tanh actor) */
    pp_actor *prior;
    float *beta_mu, *beta_std;
} langevin;

/* path's map {arch, obs_dim, act_dim, hidden, layers} with this arch. */
static int langevin_read_map(pp_frame *f, const char *path, const char *arch, pp_netmap *m)
{
    if (pp_netmap_read(f, path, m) != 0) return -1;
    if (!m->arch[0]) return pp_fail("missing field %s.arch (\"%s\")", path, arch);
    if (strcmp(m->arch, arch) != 0)
        return pp_fail("%s.arch is \"%s\", expected \"%s\"", path, m->arch, arch);
    return 0;
}

/* The behaviour policy of --prior (a frame with a 'policy' map, or a
 * parpi-policy checkpoint: policy_file.h), for batches of max_batch rows. */
static int langevin_open_prior(const char *path, int max_batch, pp_actor **prior, float **mu,
                               float **std)
{
    if (pp_prior_from_file(path, max_batch, prior) != 0) return -1;
    int act_dim = pp_actor_spec(*prior)->act_dim;
    *mu = pp_xalloc_f32((size_t)max_batch * act_dim);
    *std = pp_xalloc_f32((size_t)max_batch * act_dim);
    return 0;
}

/* ---- create / destroy ---- */
static void langevin_destroy(pp_stage *st);

static int langevin_create(int argc, char **argv, pp_stage **out)
{
    langevin *L = pp_xcalloc(1, sizeof *L);
    pp_stage *st = pp_stage_new(&pp_stage_langevin, L);
    int rc = pp_opt_read(langevin_options, &L->cfg, argc, argv, &L->given);
    L->rng = pp_rng_stream(L->cfg.seed, PP_STREAM_LANGEVIN);
    if (rc == 0 && L->cfg.prior[0])
        rc = langevin_open_prior(L->cfg.prior, L->cfg.max_batch, &L->prior, &L->beta_mu,
                                 &L->beta_std);
    return pp_stage_created(st, rc, out);
}

static void langevin_destroy(pp_stage *st)
{
    if (!st) return;
    langevin *L = st->self;
    if (L->ready) {
        pp_policy_free(&L->pol);
        pp_qscore_free(&L->qs);
        pp_mlp_free(&L->q);
    }
    pp_actor_free(L->prior);
    float *bufs[] = {L->pol_params, L->q_params, L->obs, L->u0, L->u, L->g, L->xi, L->q0, L->qK,
                     L->upi, L->beta_mu, L->beta_std};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(L);
    free(st);
}

/* ---- step ---- */
static int langevin_build(langevin *L, const pp_netmap *pm, const pp_netmap *qm)
{
    int obs_dim = pm->obs_dim, act_dim = pm->act_dim, nb_max = L->cfg.max_batch;
    int hq[PP_MLP_MAX_LAYERS];
    for (int i = 0; i < PP_MLP_MAX_LAYERS; i++) hq[i] = qm->hidden;
    if (L->ck_obs_dim && (L->ck_obs_dim != obs_dim || L->ck_act_dim != act_dim))
        return pp_fail("the frame's policy is for obs %d, act %d, but the checkpoint resumed "
                       "(config.obs_dim, config.act_dim) was written for obs %d, act %d: a "
                       "checkpoint of another task", obs_dim, act_dim, L->ck_obs_dim,
                       L->ck_act_dim);
    if (L->prior) {
        const pp_netmap *bm = pp_actor_spec(L->prior);
        if (bm->obs_dim != obs_dim || bm->act_dim != act_dim)
            return pp_fail("--prior %s is a policy for obs %d, act %d; the frame's is obs %d, act %d",
                           L->cfg.prior, bm->obs_dim, bm->act_dim, obs_dim, act_dim);
    }
    if (pp_policy_init(&L->pol, obs_dim, act_dim, pm->hidden, pm->layers, nb_max) != 0)
        return pp_fail_prefix("policy: ");
    if (pp_mlp_init(&L->q, obs_dim + act_dim, qm->layers, hq, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0,
                    nb_max) != 0) {
        pp_policy_free(&L->pol);
        return pp_fail_prefix("q: ");
    }
    if (pp_qscore_init(&L->qs, &L->q, obs_dim, act_dim, nb_max) != 0) {
        pp_policy_free(&L->pol);
        pp_mlp_free(&L->q);
        return -1;
    }
    L->obs_dim = obs_dim;
    L->act_dim = act_dim;
    L->pol_map = *pm;
    L->q_map = *qm;
    size_t nb = (size_t)nb_max, na = nb * act_dim;
    L->pol_params = pp_xalloc_f32(L->pol.nparams);
    L->q_params = pp_xalloc_f32(L->q.nparams);
    L->obs = pp_xalloc_f32(nb * obs_dim + 1);
    L->u0 = pp_xalloc_f32(na);
    L->u = pp_xalloc_f32(na);
    L->g = pp_xalloc_f32(na);
    L->xi = pp_xalloc_f32(na);
    L->upi = pp_xalloc_f32(na);
    L->q0 = pp_xalloc_f32(nb);
    L->qK = pp_xalloc_f32(nb);
    L->ready = 1;
    return 0;
}

static double mean_of(const float *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

static int langevin_step(pp_stage *st, pp_frame *f)
{
    langevin *L = st->self;
    if (!pp_frame_get(f, "batch")) return 0; /* warm-up frame: pass through */

    pp_netmap pm, qm;
    if (langevin_read_map(f, "policy", PP_ARCH_GAUSSIAN_TANH_NAME, &pm) != 0 ||
        langevin_read_map(f, "q", "twin-mlp", &qm) != 0)
        return -1;
    if (qm.obs_dim != pm.obs_dim || qm.act_dim != pm.act_dim)
        return pp_fail("q is for obs %d, act %d but policy is for obs %d, act %d", qm.obs_dim,
                       qm.act_dim, pm.obs_dim, pm.act_dim);
    if (!L->ready) {
        /* the params must fill the maps' sizes before anything is allocated */
        size_t np = pp_netmap_mlp_floats(pm.obs_dim, pm.hidden, pm.layers, 2 * pm.act_dim, 1);
        size_t nq = pp_netmap_mlp_floats(qm.obs_dim + qm.act_dim, qm.hidden, qm.layers, 1, 2);
        if (pp_netmap_check_size(f, "policy", &pm, np) != 0 ||
            pp_netmap_check_size(f, "q", &qm, nq) != 0 || langevin_build(L, &pm, &qm) != 0)
            return -1;
    } else if (pp_netmap_check(&pm, &L->pol_map, "policy") != 0 ||
               pp_netmap_check(&qm, &L->q_map, "q") != 0) {
        return pp_fail_prefix("the networks changed since the first frame: ");
    }

    pp_dtype dt;
    int nd;
    int64_t shape[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, "batch.obs", &dt, &nd, shape) != 0) return -1;
    if (nd != 2 || shape[1] != L->obs_dim || shape[0] < 1 || shape[0] > L->cfg.max_batch)
        return pp_fail("batch.obs is %s, expected [B,%d] with 1 <= B <= %d (--max-batch)",
                       pp_shape_str(nd, shape, (char[64]){0}, 64), L->obs_dim, L->cfg.max_batch);
    int B = (int)shape[0], d = L->act_dim;
    /* a NaN state would be silently masked by the ReLUs: refuse it by name
     * (the params are checked as they are read) */
    if (pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, shape, L->obs, NULL) != 0 ||
        pp_vec_check_finite(L->obs, (size_t)B * L->obs_dim, (size_t)L->obs_dim, "batch.obs") != 0)
        return -1;
    if (pp_netmap_read_params(f, "policy", L->pol_params, L->pol.nparams) != 0 ||
        pp_netmap_read_params(f, "q", L->q_params, L->q.nparams) != 0)
        return -1;
    double alpha;
    if (pp_frame_get_f64(f, "alpha", &alpha) != 0) return -1;
    if (!(alpha > 0) || !isfinite(alpha))
        return pp_fail("alpha is %g, expected a positive temperature", alpha);

    pp_rng keep = L->rng; /* restored if the step fails */
    size_t na = (size_t)B * d;
    if (L->prior) {
        pp_policy *beta = pp_actor_gaussian(L->prior);
        pp_policy_sample(beta, pp_actor_params(L->prior), L->obs, B, &L->rng);
        memcpy(L->u0, beta->u, na * sizeof(float));
        memcpy(L->beta_mu, beta->mu, na * sizeof(float));
        for (size_t i = 0; i < na; i++) L->beta_std[i] = expf(beta->log_std[i]);
        pp_policy_sample(&L->pol, L->pol_params, L->obs, B, &L->rng);
        memcpy(L->upi, L->pol.u, na * sizeof(float));
        L->qs.prior_mu = L->beta_mu;
        L->qs.prior_std = L->beta_std;
    } else {
        pp_policy_sample(&L->pol, L->pol_params, L->obs, B, &L->rng);
        memcpy(L->u0, L->pol.u, na * sizeof(float));
    }
    memcpy(L->u, L->u0, na * sizeof(float));
    L->qs.qparams = L->q_params;
    L->qs.alpha = alpha;
    L->qs.score_norm_sum = 0;
    L->qs.score_rows = 0;
    pp_qscore_set_obs(&L->qs, L->obs, B);
    if (L->cfg.steps > 0) L->qs.q_first = L->q0; /* filled by the first score call, at u0 */
    else pp_qscore_eval(&L->qs, L->u0, L->q0);
    int rc = pp_langevin_run(L->u, B, d, L->cfg.steps, (float)L->cfg.eps, pp_qscore_fn, &L->qs,
                             &L->rng, L->g, L->xi);
    if (rc == 0) {
        pp_qscore_eval(&L->qs, L->u, L->qK);
        for (int b = 0; b < B && rc == 0; b++)
            if (!isfinite(L->q0[b]) || !isfinite(L->qK[b]))
                rc = pp_fail("particle %d: Q is not finite (q0 %g, qK %g)", b, (double)L->q0[b],
                             (double)L->qK[b]);
    }
    if (rc != 0) {
        L->rng = keep;
        return -1;
    }

    /* emit */
    double step_norm = 0;
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int j = 0; j < d; j++) {
            double e = L->u[(size_t)b * d + j] - L->u0[(size_t)b * d + j];
            s += e * e;
        }
        step_norm += sqrt(s) / B;
    }
    int64_t sh_bo[2] = {B, L->obs_dim}, sh_ba[2] = {B, d}, sh_b[1] = {B};
    pp_frame_remove(f, "particles");
    if (pp_frame_put_tensor(f, "particles.obs", PP_F32, 2, sh_bo, L->obs) != 0 ||
        pp_frame_put_tensor(f, "particles.u0", PP_F32, 2, sh_ba, L->u0) != 0 ||
        pp_frame_put_tensor(f, "particles.uK", PP_F32, 2, sh_ba, L->u) != 0 ||
        pp_frame_put_tensor(f, "particles.q0", PP_F32, 1, sh_b, L->q0) != 0 ||
        pp_frame_put_tensor(f, "particles.qK", PP_F32, 1, sh_b, L->qK) != 0 ||
        (L->prior && pp_frame_put_tensor(f, "particles.upi", PP_F32, 2, sh_ba, L->upi) != 0)) {
        L->rng = keep;
        return -1;
    }
    double q0m = mean_of(L->q0, B), qKm = mean_of(L->qK, B);
    pp_frame_set_f64(f, "metrics.langevin.q0_mean", q0m);
    pp_frame_set_f64(f, "metrics.langevin.qK_mean", qKm);
    pp_frame_set_f64(f, "metrics.langevin.q_gain", qKm - q0m);
    pp_frame_set_f64(f, "metrics.langevin.score_norm",
                     L->qs.score_rows ? L->qs.score_norm_sum / L->qs.score_rows : 0.0);
    pp_frame_set_f64(f, "metrics.langevin.step_norm", step_norm);
    pp_frame_set_f64(f, "metrics.langevin.steps", L->cfg.steps);
    pp_frame_set_f64(f, "metrics.langevin.eps", L->cfg.eps);
    L->frames++;
    return 0;
}

/* ---- checkpoints ---- */
/* config.{steps, eps, seed, max_batch, prior (only with a prior)}, rng,
 * frames: the stage has no parameters. Once the sizes are known (a frame
 * built the stage, or the checkpoint it resumed had them) also
 * config.{obs_dim, act_dim}, which a resumed stage compares with its first
 * frame. */
static int langevin_save(pp_stage *st, pp_frame *ck)
{
    langevin *L = st->self;
    if (pp_config_save(langevin_options, &L->cfg, ck) != 0) return -1;
    if (!L->cfg.prior[0]) pp_frame_remove(ck, "config.prior"); /* no key without a prior */
    int od = L->ready ? L->obs_dim : L->ck_obs_dim, ad = L->ready ? L->act_dim : L->ck_act_dim;
    if (od > 0 && (pp_frame_set_i64(ck, "config.obs_dim", od) != 0 ||
                   pp_frame_set_i64(ck, "config.act_dim", ad) != 0))
        return -1;
    if (pp_ckpt_put_rng(ck, "rng", &L->rng) != 0 || pp_frame_set_i64(ck, "frames", L->frames) != 0)
        return -1;
    return 0;
}

static int langevin_load(pp_stage *st, pp_frame *ck)
{
    langevin *L = st->self;
    langevin_config cfg = L->cfg;
    pp_rng rng;
    int64_t frames;
    long long od = 0, ad = 0;
    if (pp_config_load(langevin_options, &cfg, sizeof cfg, ck, L->given, L->ready) != 0 ||
        pp_ckpt_get_rng(ck, "rng", &rng) != 0 || pp_frame_get_i64(ck, "frames", &frames) != 0)
        return -1;
    /* the sizes (checkpoints before them have none: then nothing to compare) */
    if (pp_frame_get(ck, "config.obs_dim") || pp_frame_get(ck, "config.act_dim")) {
        if (pp_ckpt_get_int(ck, "config.obs_dim", 1, PP_NETMAP_MAX_DIM, &od) != 0 ||
            pp_ckpt_get_int(ck, "config.act_dim", 1, PP_NETMAP_MAX_DIM, &ad) != 0)
            return -1;
        if (L->ready && (od != L->obs_dim || ad != L->act_dim))
            return pp_fail("the checkpoint was written for obs %lld, act %lld, but this stage is "
                           "built for obs %d, act %d", od, ad, L->obs_dim, L->act_dim);
    }
    if (cfg.max_batch != L->cfg.max_batch) {
        if (L->ready)
            return pp_fail("config.max_batch is %d, but this stage was built for --max-batch %d",
                           cfg.max_batch, L->cfg.max_batch);
        if (L->prior) { /* the prior's buffers are sized by --max-batch: open it again */
            pp_actor *prior;
            float *mu, *std;
            if (langevin_open_prior(cfg.prior, cfg.max_batch, &prior, &mu, &std) != 0) return -1;
            pp_actor_free(L->prior);
            free(L->beta_mu);
            free(L->beta_std);
            L->prior = prior;
            L->beta_mu = mu;
            L->beta_std = std;
        }
    }
    L->cfg = cfg;
    L->rng = rng;
    L->frames = frames;
    L->ck_obs_dim = (int)od;
    L->ck_act_dim = (int)ad;
    return 0;
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
static const char *const langevin_reads[] = {"batch", "alpha", "policy", "q", NULL};
static const char *const langevin_owns[] = {"particles", NULL};
static const char *const langevin_metrics[] = {"q0_mean", "qK_mean", "q_gain", "score_norm", "step_norm", "steps", "eps", NULL};

const pp_stage_ops pp_stage_langevin = {
    .kind = "langevin",
    .reads = langevin_reads,
    .owns = langevin_owns,
    .metrics = langevin_metrics,
    .summary = "K steps of Langevin dynamics from policy samples towards exp(Q/alpha) in "
               "pre-tanh space; emits particles {obs, u0, uK, q0, qK}.",
    .options = langevin_options,
    .create = langevin_create,
    .step = langevin_step,
    .save = langevin_save,
    .load = langevin_load,
    .destroy = langevin_destroy,
};
