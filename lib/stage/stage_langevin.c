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
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stage/ckpt_state.h"
#include "base/err.h"
#include "frame/frame.h"
#include "rl/langevin.h"
#include "rl/policy.h"
#include "stage/stage.h"


extern const pp_stage_ops pp_stage_langevin;

typedef struct {
    int hidden, layers;
} net_shape;

typedef struct {
    /* config */
    int K;
    float eps;
    uint64_t seed;
    int max_batch;
    char *prior_path;
    /* state */
    pp_rng rng;
    long long frames;
    /* built at the first frame with a batch */
    int ready, obs_dim, act_dim;
    net_shape pol_shape, q_shape;
    pp_policy pol;
    float *pol_params;
    pp_mlp q;
    float *q_params;
    pp_qscore qs;
    float *obs, *u0, *u, *g, *xi, *q0, *qK, *upi;
    /* BRAC prior, loaded at create */
    int has_prior, beta_obs, beta_act;
    net_shape beta_shape;
    pp_policy beta;
    float *beta_params, *beta_mu, *beta_std;
} langevin;

static const char options_help[] =
    "  --steps K           Langevin steps per particle (default 5)\n"
    "  --eps EPS           step size (default 3e-4)\n"
    "  --seed N            seed of the noise and policy samples (default 0; stream 2)\n"
    "  --max-batch N       largest batch accepted (default 256)\n"
    "  --prior FILE        offline BRAC prior: a parpi-policy checkpoint or a frame with a\n"
    "                      gaussian-tanh 'policy' map (the behaviour policy pi_beta);\n"
    "                      particles start from pi_beta, target pi_beta(a|s) exp(Q(s,a)/alpha)\n";

/* ---- option values ---- */
static int parse_long(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return pp_fail("--%s takes an integer from %ld to %ld, got '%s'", opt, lo, hi, v);
    *out = x;
    return 0;
}

static int parse_pos_double(const char *opt, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x <= 0)
        return pp_fail("--%s takes a positive number, got '%s'", opt, v);
    *out = x;
    return 0;
}

/* Read {arch, obs_dim, act_dim, hidden, layers} of a network map. */
static int read_net_map(pp_frame *f, const char *map, const char *want_arch, int *obs_dim,
                        int *act_dim, net_shape *sh)
{
    char path[64];
    const char *arch;
    size_t len;
    int64_t v[4];
    const char *keys[4] = {"obs_dim", "act_dim", "hidden", "layers"};
    snprintf(path, sizeof path, "%s.arch", map);
    if (pp_frame_get_str(f, path, &arch, &len) != 0) return -1;
    if (len != strlen(want_arch) || memcmp(arch, want_arch, len) != 0)
        return pp_fail("%s is '%.*s', expected '%s'", path, (int)len, arch, want_arch);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s.%s", map, keys[i]);
        if (pp_frame_get_i64(f, path, &v[i]) != 0) return -1;
        int64_t hi = i == 3 ? PP_MLP_MAX_LAYERS - 1 : 1 << 16;
        if (v[i] < 1 || v[i] > hi)
            return pp_fail("%s is %lld, expected 1 to %lld", path, (long long)v[i], (long long)hi);
    }
    *obs_dim = (int)v[0];
    *act_dim = (int)v[1];
    sh->hidden = (int)v[2];
    sh->layers = (int)v[3];
    return 0;
}

/* Floats of an MLP in -> hidden x layers -> out with E members (mlp.h layout). */
static int64_t mlp_floats(int64_t in, int64_t hidden, int layers, int64_t out, int64_t E)
{
    return E * (in * hidden + hidden + (layers - 1) * (hidden * hidden + hidden) + hidden * out + out);
}

/* The params tensor at path must hold exactly n floats: checked against the
 * frame before anything is allocated for it, so a hostile shape in the map
 * cannot make the stage allocate more than the frame's own size. */
static int check_params_size(pp_frame *f, const char *path, int64_t n)
{
    pp_dtype dt;
    int nd;
    int64_t shape[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, path, &dt, &nd, shape) != 0) return -1;
    if (dt != PP_F32 || nd != 1 || shape[0] != n)
        return pp_fail("%s is %s%s, expected f32[%lld] for the map's sizes", path, pp_dtype_name(dt),
                       pp_shape_str(nd, shape, (char[64]){0}, 64), (long long)n);
    return 0;
}

static int read_params(pp_frame *f, const char *path, size_t n, float *dst)
{
    int64_t shape[1] = {(int64_t)n};
    return pp_frame_read_tensor(f, path, PP_F32, 1, shape, dst, NULL);
}

/* ---- create / destroy ---- */
static void lg_destroy(pp_stage *st);

/* The behaviour policy: a frame with a 'policy' map (as in the ring), or a
 * parpi-policy checkpoint (config.{obs_dim, act_dim, hidden, layers} and
 * params; not an implicit "svgd" policy). */
static int load_prior(langevin *L)
{
    pp_frame *f = pp_frame_new();
    uint8_t *buf = NULL;
    const char *params_path = "policy.params";
    int rc = pp_frame_load_file(f, L->prior_path, &buf);
    if (rc == 0 && pp_frame_get(f, "policy")) {
        rc = read_net_map(f, "policy", "gaussian-tanh", &L->beta_obs, &L->beta_act, &L->beta_shape);
    } else if (rc == 0 && pp_frame_get(f, "config.obs_dim") && pp_frame_get(f, "params")) {
        int64_t v[4];
        const char *keys[4] = {"config.obs_dim", "config.act_dim", "config.hidden", "config.layers"};
        for (int i = 0; i < 4 && rc == 0; i++) {
            rc = pp_frame_get_i64(f, keys[i], &v[i]);
            int64_t hi = i == 3 ? PP_MLP_MAX_LAYERS - 1 : 1 << 16;
            if (rc == 0 && (v[i] < 1 || v[i] > hi))
                rc = pp_fail("%s is %lld, expected 1 to %lld (a policy checkpoint made before its "
                             "first frame has no network)", keys[i], (long long)v[i], (long long)hi);
        }
        const char *upd;
        size_t len;
        if (rc == 0 && pp_frame_get(f, "config.update") &&
            pp_frame_get_str(f, "config.update", &upd, &len) == 0 && len == 4 &&
            memcmp(upd, "svgd", 4) == 0)
            rc = pp_fail("config.update is svgd: an implicit policy, expected a gaussian-tanh one");
        if (rc == 0) {
            L->beta_obs = (int)v[0];
            L->beta_act = (int)v[1];
            L->beta_shape.hidden = (int)v[2];
            L->beta_shape.layers = (int)v[3];
            params_path = "params";
        }
    } else if (rc == 0) {
        rc = pp_fail("expected a 'policy' map (gaussian-tanh) or a parpi-policy checkpoint");
    }
    if (rc == 0) {
        rc = pp_policy_init(&L->beta, L->beta_obs, L->beta_act, L->beta_shape.hidden,
                            L->beta_shape.layers, L->max_batch);
        if (rc == 0) {
            L->has_prior = 1;
            L->beta_params = pp_xalloc_f32(L->beta.nparams);
            L->beta_mu = pp_xalloc_f32((size_t)L->max_batch * L->beta_act);
            L->beta_std = pp_xalloc_f32((size_t)L->max_batch * L->beta_act);
            rc = read_params(f, params_path, L->beta.nparams, L->beta_params);
        }
    }
    pp_frame_free(f);
    free(buf);
    if (rc != 0) pp_fail_prefix("--prior %s: ", L->prior_path);
    return rc;
}

static int lg_create(int argc, char **argv, pp_stage **out)
{
    static const struct option longopts[] = {
        {"steps", required_argument, 0, 'k'}, {"eps", required_argument, 0, 'e'},
        {"seed", required_argument, 0, 's'},  {"max-batch", required_argument, 0, 'b'},
        {"prior", required_argument, 0, 'p'}, {0, 0, 0, 0}};
    langevin *L = pp_xcalloc(1, sizeof *L);
    L->K = 5;
    L->eps = 3e-4f;
    L->max_batch = 256;
    pp_stage *st = pp_xcalloc(1, sizeof *st);
    st->ops = &pp_stage_langevin;
    st->self = L;
    int rc = 0, c;
    long v = 0;
    double d = 0;
    optind = 0;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': rc = parse_long("steps", optarg, 0, 1000000, &v); L->K = (int)v; break;
        case 'e': rc = parse_pos_double("eps", optarg, &d); L->eps = (float)d; break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                rc = pp_fail("--seed takes a non-negative integer, got '%s'", optarg);
            L->seed = s;
            break;
        }
        case 'b': rc = parse_long("max-batch", optarg, 1, 1 << 20, &v); L->max_batch = (int)v; break;
        case 'p': free(L->prior_path); L->prior_path = strdup(optarg); break;
        case ':': rc = pp_fail("option %s needs a value", argv[optind - 1]); break;
        default: rc = pp_fail("unknown option '%s' for the langevin stage", argv[optind - 1]); break;
        }
    }
    if (rc == 0 && optind < argc) rc = pp_fail("unexpected argument '%s'", argv[optind]);
    pp_rng root;
    pp_rng_seed(&root, L->seed);
    L->rng = pp_rng_split(&root, PP_STREAM_LANGEVIN);
    if (rc == 0 && L->prior_path) rc = load_prior(L);
    if (rc != 0) {
        lg_destroy(st);
        return -1;
    }
    *out = st;
    return 0;
}

static void lg_destroy(pp_stage *st)
{
    if (!st) return;
    langevin *L = st->self;
    if (L->ready) {
        pp_policy_free(&L->pol);
        pp_qscore_free(&L->qs);
        pp_mlp_free(&L->q);
    }
    if (L->has_prior) pp_policy_free(&L->beta);
    float *bufs[] = {L->pol_params, L->q_params, L->obs, L->u0, L->u, L->g, L->xi, L->q0, L->qK,
                     L->upi, L->beta_params, L->beta_mu, L->beta_std};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(L->prior_path);
    free(L);
    free(st);
}

/* ---- step ---- */
static int build(langevin *L, int obs_dim, int act_dim, net_shape ps, net_shape qs)
{
    int hq[PP_MLP_MAX_LAYERS];
    for (int i = 0; i < PP_MLP_MAX_LAYERS; i++) hq[i] = qs.hidden;
    if (L->has_prior && (L->beta_obs != obs_dim || L->beta_act != act_dim))
        return pp_fail("--prior %s is a policy for obs %d, act %d; the frame's is obs %d, act %d",
                       L->prior_path, L->beta_obs, L->beta_act, obs_dim, act_dim);
    if (pp_policy_init(&L->pol, obs_dim, act_dim, ps.hidden, ps.layers, L->max_batch) != 0)
        return pp_fail_prefix("policy: ");
    if (pp_mlp_init(&L->q, obs_dim + act_dim, qs.layers, hq, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0,
                    L->max_batch) != 0) {
        pp_policy_free(&L->pol);
        return pp_fail_prefix("q: ");
    }
    if (pp_qscore_init(&L->qs, &L->q, obs_dim, act_dim, L->max_batch) != 0) {
        pp_policy_free(&L->pol);
        pp_mlp_free(&L->q);
        return -1;
    }
    L->obs_dim = obs_dim;
    L->act_dim = act_dim;
    L->pol_shape = ps;
    L->q_shape = qs;
    size_t nb = (size_t)L->max_batch, na = nb * act_dim;
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

static int lg_step(pp_stage *st, pp_frame *f)
{
    langevin *L = st->self;
    if (!pp_frame_get(f, "batch")) return 0; /* warm-up frame: pass through */

    int po, pa, qo, qa;
    net_shape ps, qsh;
    if (read_net_map(f, "policy", "gaussian-tanh", &po, &pa, &ps) != 0) return -1;
    if (read_net_map(f, "q", "twin-mlp", &qo, &qa, &qsh) != 0) return -1;
    if (qo != po || qa != pa)
        return pp_fail("q is for obs %d, act %d but policy is for obs %d, act %d", qo, qa, po, pa);
    if (!L->ready) {
        if (check_params_size(f, "policy.params", mlp_floats(po, ps.hidden, ps.layers, 2 * pa, 1)) != 0 ||
            check_params_size(f, "q.params", mlp_floats(po + pa, qsh.hidden, qsh.layers, 1, 2)) != 0)
            return -1;
        if (build(L, po, pa, ps, qsh) != 0) return -1;
    } else if (po != L->obs_dim || pa != L->act_dim || ps.hidden != L->pol_shape.hidden ||
               ps.layers != L->pol_shape.layers || qsh.hidden != L->q_shape.hidden ||
               qsh.layers != L->q_shape.layers) {
        return pp_fail("policy/q shapes changed: policy obs %d act %d %dx%d, q %dx%d; expected "
                       "obs %d act %d, policy %dx%d, q %dx%d (as in the first frame)",
                       po, pa, ps.layers, ps.hidden, qsh.layers, qsh.hidden, L->obs_dim,
                       L->act_dim, L->pol_shape.layers, L->pol_shape.hidden, L->q_shape.layers,
                       L->q_shape.hidden);
    }

    pp_dtype dt;
    int nd;
    int64_t shape[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, "batch.obs", &dt, &nd, shape) != 0) return -1;
    if (nd != 2 || shape[1] != L->obs_dim || shape[0] < 1 || shape[0] > L->max_batch)
        return pp_fail("batch.obs is %s, expected [B,%d] with 1 <= B <= %d (--max-batch)",
                       pp_shape_str(nd, shape, (char[64]){0}, 64), L->obs_dim, L->max_batch);
    int B = (int)shape[0], d = L->act_dim;
    if (pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, shape, L->obs, NULL) != 0) return -1;
    /* a NaN state would be silently masked by the ReLUs: refuse it by name */
    for (size_t i = 0; i < (size_t)B * L->obs_dim; i++)
        if (!isfinite(L->obs[i]))
            return pp_fail("batch.obs[%zu][%zu] is %g, expected a finite number", i / L->obs_dim,
                           i % L->obs_dim, (double)L->obs[i]);
    if (read_params(f, "policy.params", L->pol.nparams, L->pol_params) != 0) return -1;
    if (read_params(f, "q.params", L->q.nparams, L->q_params) != 0) return -1;
    double alpha;
    if (pp_frame_get_f64(f, "alpha", &alpha) != 0) return -1;
    if (!(alpha > 0) || !isfinite(alpha))
        return pp_fail("alpha is %g, expected a positive temperature", alpha);

    pp_rng keep = L->rng; /* restored if the step fails */
    size_t na = (size_t)B * d;
    if (L->has_prior) {
        pp_policy_sample(&L->beta, L->beta_params, L->obs, B, &L->rng);
        memcpy(L->u0, L->beta.u, na * sizeof(float));
        memcpy(L->beta_mu, L->beta.mu, na * sizeof(float));
        for (size_t i = 0; i < na; i++) L->beta_std[i] = expf(L->beta.log_std[i]);
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
    if (L->K > 0) L->qs.q_first = L->q0; /* filled by the first score call, at u0 */
    else pp_qscore_eval(&L->qs, L->u0, L->q0);
    int rc = pp_langevin_run(L->u, B, d, L->K, L->eps, pp_qscore_fn, &L->qs, &L->rng, L->g, L->xi);
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
        (L->has_prior && pp_frame_put_tensor(f, "particles.upi", PP_F32, 2, sh_ba, L->upi) != 0)) {
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
    pp_frame_set_f64(f, "metrics.langevin.steps", L->K);
    pp_frame_set_f64(f, "metrics.langevin.eps", L->eps);
    L->frames++;
    return 0;
}

/* ---- checkpoints ---- */
static int lg_save(pp_stage *st, pp_frame *ck)
{
    langevin *L = st->self;
    if (pp_frame_set_i64(ck, "config.steps", L->K) != 0 ||
        pp_frame_set_f64(ck, "config.eps", L->eps) != 0 ||
        pp_frame_set_i64(ck, "config.seed", (int64_t)L->seed) != 0 ||
        pp_frame_set_i64(ck, "config.max_batch", L->max_batch) != 0 ||
        (L->prior_path && pp_frame_set_str(ck, "config.prior", L->prior_path) != 0) ||
        pp_ckpt_put_rng(ck, "rng", &L->rng) != 0 ||
        pp_frame_set_i64(ck, "frames", L->frames) != 0)
        return -1;
    return 0;
}

static int lg_load(pp_stage *st, pp_frame *ck)
{
    langevin *L = st->self;
    pp_rng rng;
    int64_t frames;
    if (pp_ckpt_get_rng(ck, "rng", &rng) != 0 || pp_frame_get_i64(ck, "frames", &frames) != 0)
        return -1;
    L->rng = rng;
    L->frames = frames;
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
    .options_help = options_help,
    .create = lg_create,
    .step = lg_step,
    .save = lg_save,
    .load = lg_load,
    .destroy = lg_destroy,
};
