/* stage_discrim.c - the discrim stage: trains f_w(s, a) high on the target
 * particles (s, tanh uK) and low on the policy samples (s, tanh u0) for the
 * chosen divergence (docs/algorithm.md section 7); emits the `disc` map and
 * metrics.discrim.
 *
 * Reads particles {obs, u0, uK} (and particles.upi, the policy side, when
 * langevin ran with --prior). A frame with neither batch nor particles (a
 * warm-up frame) passes untouched; a batch without particles is an error.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rl/discrim.h"
#include "stage/ckpt_state.h"
#include "base/err.h"
#include "frame/frame.h"
#include "stage/stage.h"


extern const pp_stage_ops pp_stage_discrim;

enum { EXPLICIT_DIV = 1, EXPLICIT_LIP = 2, EXPLICIT_HIDDEN = 4, EXPLICIT_LAYERS = 8,
       EXPLICIT_OBS = 16, EXPLICIT_ACT = 32 };

typedef struct {
    /* config */
    pp_divergence div;
    pp_lipschitz lip;
    int hidden, layers, max_batch, updates_per_frame, obs_dim, act_dim;
    float lr, gp_weight;
    uint64_t seed;
    unsigned explicit_flags;
    /* state */
    pp_rng rng;
    long long frames;
    int ready;
    pp_discrim d;
    float *obs, *uk, *upi;
    /* backup for --updates > 1 (all-or-nothing on a non-finite loss) */
    float *keep_params, *keep_m, *keep_v, *keep_sn;
} discrim;

static const char options_help[] =
    "  --divergence NAME   jsd, wd, hinge or rkl (default wd)\n"
    "  --lipschitz KIND    none, sn (spectral norm) or gp (gradient penalty); default sn for\n"
    "                      wd and hinge, none for jsd and rkl (wd refuses none)\n"
    "  --gp-weight W       gradient-penalty weight (default 10)\n"
    "  --hidden N          width of the hidden layers (default 256)\n"
    "  --layers N          number of hidden layers (default 2)\n"
    "  --lr RATE           Adam learning rate (default 3e-4)\n"
    "  --updates N         Adam updates per frame (default 1)\n"
    "  --seed N            seed of the initial weights and interpolates (default 0; stream 3)\n"
    "  --max-batch N       largest batch accepted (default 256)\n"
    "  --obs-dim N         build the network at start-up for this observation size\n"
    "  --act-dim N         ... and this action size (default: from the first frame)\n";

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

static int parse_nonneg_double(const char *opt, const char *v, int allow_zero, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < 0 || (!allow_zero && x == 0))
        return pp_fail("--%s takes a %s number, got '%s'", opt, allow_zero ? "non-negative" : "positive", v);
    *out = x;
    return 0;
}

static void dc_destroy(pp_stage *st);

static int build(discrim *D, int obs_dim, int act_dim)
{
    pp_rng init = pp_rng_split(&D->rng, PP_STREAM_INIT); /* does not advance D->rng */
    if (pp_discrim_init(&D->d, D->div, D->lip, obs_dim + act_dim, D->hidden, D->layers,
                        D->max_batch, D->lr, D->gp_weight, &init) != 0)
        return -1;
    D->obs_dim = obs_dim;
    D->act_dim = act_dim;
    size_t nb = (size_t)D->max_batch, n = D->d.net.nparams;
    D->obs = pp_xalloc_f32(nb * obs_dim);
    D->uk = pp_xalloc_f32(nb * act_dim);
    D->upi = pp_xalloc_f32(nb * act_dim);
    D->keep_params = pp_xalloc_f32(n);
    D->keep_m = pp_xalloc_f32(n);
    D->keep_v = pp_xalloc_f32(n);
    D->keep_sn = pp_xalloc_f32(D->d.net.sn_state_floats + 1);
    D->ready = 1;
    return 0;
}

static int dc_create(int argc, char **argv, pp_stage **out)
{
    static const struct option longopts[] = {
        {"divergence", required_argument, 0, 'D'}, {"lipschitz", required_argument, 0, 'L'},
        {"gp-weight", required_argument, 0, 'g'},  {"hidden", required_argument, 0, 'h'},
        {"layers", required_argument, 0, 'l'},     {"lr", required_argument, 0, 'r'},
        {"updates", required_argument, 0, 'u'},    {"seed", required_argument, 0, 's'},
        {"max-batch", required_argument, 0, 'b'},  {"obs-dim", required_argument, 0, 'o'},
        {"act-dim", required_argument, 0, 'a'},    {0, 0, 0, 0}};
    discrim *D = pp_xcalloc(1, sizeof *D);
    D->div = PP_DIV_WD;
    D->hidden = 256;
    D->layers = 2;
    D->max_batch = 256;
    D->updates_per_frame = 1;
    D->lr = 3e-4f;
    D->gp_weight = 10.0f;
    pp_stage *st = pp_xcalloc(1, sizeof *st);
    st->ops = &pp_stage_discrim;
    st->self = D;
    int rc = 0, c;
    long v = 0;
    double x = 0;
    optind = 0;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'D': rc = pp_divergence_parse(optarg, &D->div); D->explicit_flags |= EXPLICIT_DIV; break;
        case 'L': rc = pp_lipschitz_parse(optarg, &D->lip); D->explicit_flags |= EXPLICIT_LIP; break;
        case 'g': rc = parse_nonneg_double("gp-weight", optarg, 1, &x); D->gp_weight = (float)x; break;
        case 'h': rc = parse_long("hidden", optarg, 1, 65536, &v); D->hidden = (int)v; D->explicit_flags |= EXPLICIT_HIDDEN; break;
        case 'l': rc = parse_long("layers", optarg, 1, PP_MLP_MAX_LAYERS - 1, &v); D->layers = (int)v; D->explicit_flags |= EXPLICIT_LAYERS; break;
        case 'r': rc = parse_nonneg_double("lr", optarg, 0, &x); D->lr = (float)x; break;
        case 'u': rc = parse_long("updates", optarg, 1, 1000000, &v); D->updates_per_frame = (int)v; break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                rc = pp_fail("--seed takes a non-negative integer, got '%s'", optarg);
            D->seed = s;
            break;
        }
        case 'b': rc = parse_long("max-batch", optarg, 1, 1 << 20, &v); D->max_batch = (int)v; break;
        case 'o': rc = parse_long("obs-dim", optarg, 1, 1 << 20, &v); D->obs_dim = (int)v; D->explicit_flags |= EXPLICIT_OBS; break;
        case 'a': rc = parse_long("act-dim", optarg, 1, 1 << 20, &v); D->act_dim = (int)v; D->explicit_flags |= EXPLICIT_ACT; break;
        case ':': rc = pp_fail("option %s needs a value", argv[optind - 1]); break;
        default: rc = pp_fail("unknown option '%s' for the discrim stage", argv[optind - 1]); break;
        }
    }
    if (rc == 0 && optind < argc) rc = pp_fail("unexpected argument '%s'", argv[optind]);
    if (rc == 0 && !(D->explicit_flags & EXPLICIT_LIP))
        D->lip = (D->div == PP_DIV_WD || D->div == PP_DIV_HINGE) ? PP_LIP_SN : PP_LIP_NONE;
    if (rc == 0 && D->div == PP_DIV_WD && D->lip == PP_LIP_NONE)
        rc = pp_fail("--divergence wd needs a Lipschitz critic: --lipschitz sn or gp, not none");
    if (rc == 0 && !!(D->explicit_flags & EXPLICIT_OBS) != !!(D->explicit_flags & EXPLICIT_ACT))
        rc = pp_fail("--obs-dim and --act-dim go together");
    pp_rng root;
    pp_rng_seed(&root, D->seed);
    D->rng = pp_rng_split(&root, PP_STREAM_DISCRIM);
    if (rc == 0 && (D->explicit_flags & EXPLICIT_OBS)) rc = build(D, D->obs_dim, D->act_dim);
    if (rc != 0) {
        dc_destroy(st);
        return -1;
    }
    *out = st;
    return 0;
}

static void dc_destroy(pp_stage *st)
{
    if (!st) return;
    discrim *D = st->self;
    if (D->ready) pp_discrim_free(&D->d);
    float *bufs[] = {D->obs, D->uk, D->upi, D->keep_params, D->keep_m, D->keep_v, D->keep_sn};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(D);
    free(st);
}

/* ---- step ---- */
static int emit(discrim *D, pp_frame *f, const pp_discrim_stats *s)
{
    pp_discrim *d = &D->d;
    int64_t np[1] = {(int64_t)d->net.nparams};
    pp_frame_remove(f, "disc");
    if (pp_frame_set_str(f, "disc.divergence", pp_divergence_name(D->div)) != 0 ||
        pp_frame_set_str(f, "disc.lipschitz", pp_lipschitz_name(D->lip)) != 0 ||
        pp_frame_set_i64(f, "disc.obs_dim", D->obs_dim) != 0 ||
        pp_frame_set_i64(f, "disc.act_dim", D->act_dim) != 0 ||
        pp_frame_set_i64(f, "disc.hidden", D->hidden) != 0 ||
        pp_frame_set_i64(f, "disc.layers", D->layers) != 0 ||
        pp_frame_set_bool(f, "disc.spectral", D->lip == PP_LIP_SN) != 0 ||
        pp_frame_put_tensor(f, "disc.params", PP_F32, 1, np, d->params) != 0)
        return -1;
    if (D->lip == PP_LIP_SN) {
        int64_t ns[1] = {(int64_t)d->net.sn_state_floats};
        float *sn = pp_frame_put_tensor_uninit(f, "disc.sn", PP_F32, 1, ns);
        if (!sn) return -1;
        pp_mlp_sn_get(&d->net, sn);
    }
    pp_frame_set_f64(f, "metrics.discrim.loss", s->loss);
    pp_frame_set_f64(f, "metrics.discrim.f_p_mean", s->f_p_mean);
    pp_frame_set_f64(f, "metrics.discrim.f_pi_mean", s->f_pi_mean);
    pp_frame_set_f64(f, "metrics.discrim.gap", s->gap);
    if (D->lip == PP_LIP_GP) pp_frame_set_f64(f, "metrics.discrim.gp", s->gp);
    pp_frame_set_f64(f, "metrics.discrim.updates", (double)d->updates);
    return 0;
}

static int read_rows(pp_frame *f, const char *path, int B, int cols, float *dst)
{
    int64_t shape[2] = {B, cols};
    return pp_frame_read_tensor(f, path, PP_F32, 2, shape, dst, NULL);
}

static int dc_step(pp_stage *st, pp_frame *f)
{
    discrim *D = st->self;
    if (!pp_frame_get(f, "particles")) {
        if (!pp_frame_get(f, "batch")) return 0; /* warm-up frame: pass through */
        return pp_fail("missing field particles, expected {obs, u0, uK} from parpi-langevin "
                       "upstream of parpi-discrim");
    }
    pp_dtype dt;
    int nd, na;
    int64_t so[PP_MAX_DIMS], sa[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, "particles.obs", &dt, &nd, so) != 0) return -1;
    if (nd != 2 || so[0] < 1 || so[1] < 1 || so[0] > D->max_batch)
        return pp_fail("particles.obs is %s, expected [B,obs_dim] with 1 <= B <= %d (--max-batch)",
                       pp_shape_str(nd, so, (char[64]){0}, 64), D->max_batch);
    if (pp_frame_get_tensor_info(f, "particles.uK", &dt, &na, sa) != 0) return -1;
    if (na != 2 || sa[0] != so[0] || sa[1] < 1)
        return pp_fail("particles.uK is %s, expected [%lld,act_dim]",
                       pp_shape_str(na, sa, (char[64]){0}, 64), (long long)so[0]);
    int B = (int)so[0], O = (int)so[1], A = (int)sa[1];
    if (!D->ready) {
        if (build(D, O, A) != 0) return -1;
    } else if (O != D->obs_dim || A != D->act_dim) {
        return pp_fail("particles are for obs %d, act %d, expected obs %d, act %d (as the "
                       "discriminator was built)", O, A, D->obs_dim, D->act_dim);
    }
    const char *pi_path = pp_frame_get(f, "particles.upi") ? "particles.upi" : "particles.u0";
    if (read_rows(f, "particles.obs", B, O, D->obs) != 0 ||
        read_rows(f, "particles.uK", B, A, D->uk) != 0 || read_rows(f, pi_path, B, A, D->upi) != 0)
        return -1;

    /* a NaN would be masked by the ReLUs in f but poison the gradients: name it */
    const float *arrays[3] = {D->obs, D->uk, D->upi};
    const char *names[3] = {"particles.obs", "particles.uK", pi_path};
    for (int k = 0; k < 3; k++) {
        int cols = k == 0 ? O : A;
        for (size_t i = 0; i < (size_t)B * cols; i++)
            if (!isfinite(arrays[k][i]))
                return pp_fail("%s[%zu][%zu] is not finite (%g)", names[k], i / cols, i % cols,
                               (double)arrays[k][i]);
    }
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
    int multi = D->updates_per_frame > 1;
    pp_rng rng_keep = D->rng;
    long long t_keep = d->adam.t, upd_keep = d->updates;
    size_t n = d->net.nparams;
    if (multi) {
        memcpy(D->keep_params, d->params, n * sizeof(float));
        memcpy(D->keep_m, d->adam.m, n * sizeof(float));
        memcpy(D->keep_v, d->adam.v, n * sizeof(float));
        if (D->lip == PP_LIP_SN) pp_mlp_sn_get(&d->net, D->keep_sn);
    }
    pp_discrim_stats s = {0};
    for (int k = 0; k < D->updates_per_frame; k++) {
        if (pp_discrim_update(d, d->x, d->x + (size_t)B * in, B, &D->rng, &s) != 0) {
            if (multi) { /* undo the updates already made on this frame */
                memcpy(d->params, D->keep_params, n * sizeof(float));
                memcpy(d->adam.m, D->keep_m, n * sizeof(float));
                memcpy(d->adam.v, D->keep_v, n * sizeof(float));
                d->adam.t = t_keep;
                d->updates = upd_keep;
                if (D->lip == PP_LIP_SN) pp_mlp_sn_set(&d->net, D->keep_sn, d->params);
                D->rng = rng_keep;
            }
            return pp_fail_prefix("update %d of this frame: ", k + 1);
        }
    }
    if (emit(D, f, &s) != 0) return -1;
    D->frames++;
    return 0;
}

/* ---- checkpoints ---- */
static int dc_save(pp_stage *st, pp_frame *ck)
{
    discrim *D = st->self;
    if (pp_frame_set_str(ck, "config.divergence", pp_divergence_name(D->div)) != 0 ||
        pp_frame_set_str(ck, "config.lipschitz", pp_lipschitz_name(D->lip)) != 0 ||
        pp_frame_set_i64(ck, "config.hidden", D->hidden) != 0 ||
        pp_frame_set_i64(ck, "config.layers", D->layers) != 0 ||
        pp_frame_set_f64(ck, "config.lr", D->lr) != 0 ||
        pp_frame_set_f64(ck, "config.gp_weight", D->gp_weight) != 0 ||
        pp_frame_set_i64(ck, "config.updates", D->updates_per_frame) != 0 ||
        pp_frame_set_i64(ck, "config.seed", (int64_t)D->seed) != 0 ||
        pp_frame_set_i64(ck, "config.max_batch", D->max_batch) != 0 ||
        pp_ckpt_put_rng(ck, "rng", &D->rng) != 0 ||
        pp_frame_set_i64(ck, "frames", D->frames) != 0 ||
        pp_frame_set_bool(ck, "built", D->ready) != 0)
        return -1;
    if (!D->ready) return 0;
    pp_discrim *d = &D->d;
    int64_t np[1] = {(int64_t)d->net.nparams};
    if (pp_frame_set_i64(ck, "config.obs_dim", D->obs_dim) != 0 ||
        pp_frame_set_i64(ck, "config.act_dim", D->act_dim) != 0 ||
        pp_frame_put_tensor(ck, "params", PP_F32, 1, np, d->params) != 0 ||
        pp_frame_put_tensor(ck, "adam.m", PP_F32, 1, np, d->adam.m) != 0 ||
        pp_frame_put_tensor(ck, "adam.v", PP_F32, 1, np, d->adam.v) != 0 ||
        pp_frame_set_i64(ck, "adam.t", d->adam.t) != 0 ||
        pp_frame_set_i64(ck, "updates", d->updates) != 0)
        return -1;
    if (D->lip == PP_LIP_SN) {
        int64_t ns[1] = {(int64_t)d->net.sn_state_floats};
        float *sn = pp_frame_put_tensor_uninit(ck, "sn", PP_F32, 1, ns);
        if (!sn) return -1;
        pp_mlp_sn_get(&d->net, sn);
    }
    return 0;
}

/* An architecture field of the checkpoint: adopted, unless the command line
 * set it to something else. */
static int adopt_int(pp_frame *ck, const char *key, int *val, int explicit_set, const char *flag)
{
    int64_t v;
    if (pp_frame_get_i64(ck, key, &v) != 0) return -1;
    if (explicit_set && v != *val)
        return pp_fail("%s is %lld but %s %d was given", key, (long long)v, flag, *val);
    if (v < 1 || v > (1 << 20)) return pp_fail("%s is %lld, expected 1 to %d", key, (long long)v, 1 << 20);
    *val = (int)v;
    return 0;
}

static int dc_load(pp_stage *st, pp_frame *ck)
{
    discrim *D = st->self;
    const char *s;
    size_t len;
    char name[16];
    pp_divergence div;
    pp_lipschitz lip;
    if (pp_frame_get_str(ck, "config.divergence", &s, &len) != 0) return -1;
    snprintf(name, sizeof name, "%.*s", (int)(len < 15 ? len : 15), s);
    if (pp_divergence_parse(name, &div) != 0) return pp_fail_prefix("config.divergence: ");
    if ((D->explicit_flags & EXPLICIT_DIV) && div != D->div)
        return pp_fail("config.divergence is %s but --divergence %s was given", name,
                       pp_divergence_name(D->div));
    if (pp_frame_get_str(ck, "config.lipschitz", &s, &len) != 0) return -1;
    snprintf(name, sizeof name, "%.*s", (int)(len < 15 ? len : 15), s);
    if (pp_lipschitz_parse(name, &lip) != 0) return pp_fail_prefix("config.lipschitz: ");
    if ((D->explicit_flags & EXPLICIT_LIP) && lip != D->lip)
        return pp_fail("config.lipschitz is %s but --lipschitz %s was given", name,
                       pp_lipschitz_name(D->lip));
    int hidden = D->hidden, layers = D->layers;
    if (adopt_int(ck, "config.hidden", &hidden, D->explicit_flags & EXPLICIT_HIDDEN, "--hidden") != 0 ||
        adopt_int(ck, "config.layers", &layers, D->explicit_flags & EXPLICIT_LAYERS, "--layers") != 0)
        return -1;
    if (layers > PP_MLP_MAX_LAYERS - 1) return pp_fail("config.layers is %d, too many", layers);
    pp_rng rng;
    int64_t frames;
    if (pp_ckpt_get_rng(ck, "rng", &rng) != 0 || pp_frame_get_i64(ck, "frames", &frames) != 0)
        return -1;
    pp_node *built = pp_frame_get(ck, "built");
    double is_built = 0;
    if (!built || pp_node_as_f64(built, &is_built) != 0) return pp_fail("missing field built");
    if (is_built) {
        int obs = D->obs_dim, act = D->act_dim;
        if (adopt_int(ck, "config.obs_dim", &obs, D->explicit_flags & EXPLICIT_OBS, "--obs-dim") != 0 ||
            adopt_int(ck, "config.act_dim", &act, D->explicit_flags & EXPLICIT_ACT, "--act-dim") != 0)
            return -1;
        /* the sizes must match the params tensor before anything is allocated */
        int64_t want = (int64_t)(obs + act) * hidden + hidden +
                       (int64_t)(layers - 1) * ((int64_t)hidden * hidden + hidden) + hidden + 1;
        pp_dtype dt;
        int nd;
        int64_t shape[PP_MAX_DIMS];
        if (pp_frame_get_tensor_info(ck, "params", &dt, &nd, shape) != 0) return -1;
        if (dt != PP_F32 || nd != 1 || shape[0] != want)
            return pp_fail("params is %s%s, expected f32[%lld] for the config's sizes",
                           pp_dtype_name(dt), pp_shape_str(nd, shape, (char[64]){0}, 64),
                           (long long)want);
        if (D->ready) { /* built at create from --obs-dim/--act-dim: rebuild to the checkpoint's */
            pp_discrim_free(&D->d);
            float *bufs[] = {D->obs, D->uk, D->upi, D->keep_params, D->keep_m, D->keep_v, D->keep_sn};
            for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
            D->ready = 0;
        }
        D->div = div;
        D->lip = lip;
        D->hidden = hidden;
        D->layers = layers;
        if (build(D, obs, act) != 0) return -1;
        pp_discrim *d = &D->d;
        int64_t np[1] = {(int64_t)d->net.nparams}, t, upd;
        if (pp_frame_read_tensor(ck, "params", PP_F32, 1, np, d->params, NULL) != 0 ||
            pp_frame_read_tensor(ck, "adam.m", PP_F32, 1, np, d->adam.m, NULL) != 0 ||
            pp_frame_read_tensor(ck, "adam.v", PP_F32, 1, np, d->adam.v, NULL) != 0 ||
            pp_frame_get_i64(ck, "adam.t", &t) != 0 || pp_frame_get_i64(ck, "updates", &upd) != 0)
            return -1;
        d->adam.t = t;
        d->updates = upd;
        if (lip == PP_LIP_SN) {
            int64_t ns[1] = {(int64_t)d->net.sn_state_floats};
            if (pp_frame_read_tensor(ck, "sn", PP_F32, 1, ns, D->keep_sn, NULL) != 0) return -1;
            pp_mlp_sn_set(&d->net, D->keep_sn, d->params);
        }
    } else {
        D->div = div;
        D->lip = lip;
        D->hidden = hidden;
        D->layers = layers;
    }
    D->rng = rng;
    D->frames = frames;
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
    .options_help = options_help,
    .create = dc_create,
    .step = dc_step,
    .save = dc_save,
    .load = dc_load,
    .destroy = dc_destroy,
};
