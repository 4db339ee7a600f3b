/* stage_policy.c - the policy update (docs/algorithm.md sections 3, 5, 8, 9), stage kind "policy".
 *
 *   --update parpi (default): J = alpha E[log pi(a|s)] + D_hat, a = tanh(u) reparameterised,
 *       D_hat through the frame's frozen discriminator f (disc map):
 *       jsd: -E log sig(f(s,a)) (non-saturating); wd, hinge, rkl: -E f(s,a).
 *   --update sac: J = E[alpha log pi(a|s) - min_j Q_j(s,a)] through the frame's q map.
 *   --update svgd: SQL's amortised SVGD on the implicit policy a = tanh(g(s, xi)).
 *
 * One Adam step per frame with a batch, then (parpi, sac) one temperature step
 * on -alpha (mean log pi + target entropy) with the same samples. Every frame
 * leaves with `policy` and `alpha` (also warm-up frames without a batch).
 *
 * SVGD, as softqlearning (haarnoja/softqlearning, sql.py and misc/kernel.py):
 * M actions per state (--svgd-particles, 32), the first M - M/2 "fixed" (j),
 * the last M/2 "updated" (i); RBF kernel k(a_j, a_i) = exp(-|a_j - a_i|^2 / h)
 * with h = max(med / log(M_fixed), 1e-3), med the median of the M_fixed*M/2
 * squared distances (the (n/2+1)-th largest, as its top_k does);
 *   Delta a_i = mean_j [ k(a_j,a_i) grad_{a_j} log p(a_j) + grad_{a_j} k(a_j,a_i) ],
 *   grad log p(a) = grad_a min_j Q_j(s,a) / alpha   (Q of the squashed action, twin min),
 * plus softqlearning's squash correction grad sum log(1 - a^2 + 1e-6) with
 * --svgd-squash-correction. The params move along +Delta a: the gradient
 * handed to Adam is -mean_i Delta a_i . da_i/dphi.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/actor.h"
#include "stage/ckpt_state.h"
#include "env/env.h"
#include "base/err.h"
#include "nn/mlp.h"
#include "nn/netmap.h"
#include "base/optarg.h"
#include "rl/policy.h"
#include "rl/policy_implicit.h"
#include "rl/policy_loss.h"
#include "stage/stage.h"
#include "rl/temperature.h"
#include "nn/adam.h"

enum { UPD_PARPI = 0, UPD_SAC, UPD_SVGD };
static const char *const update_names[] = {"parpi", "sac", "svgd", NULL};
extern const pp_stage_ops pp_stage_policy;

typedef struct {
    /* config */
    int obs_dim, act_dim, hidden, layers, max_batch, update, particles, squash_corr, prime;
    int alpha_fixed;                 /* --alpha given (or svgd) */
    double alpha, init_alpha, target_entropy, alpha_lr, lr;
    int target_entropy_set, init_alpha_set;
    unsigned long long seed;
    /* state */
    int ready;
    pp_policy pi;
    pp_policy_implicit impl;
    float *params, *grads;
    pp_adam adam;
    pp_temperature temp;
    pp_rng rng;
    long long steps;
    /* frozen networks read from each frame */
    int disc_ready, disc_div, disc_spectral;
    pp_netmap disc_spec;
    pp_mlp disc;
    float *disc_params, *disc_sn;
    int q_ready;
    pp_netmap q_spec;
    pp_mlp qnet;
    float *q_params;
    /* buffers */
    int rows_q;                      /* rows of the frozen nets: max_batch (x M_fixed for svgd) */
    float *obs;                      /* [max_batch, O] */
    pp_policy_work work;
} pol;

#define OPT_HELP                                                                              \
    "  --update parpi|sac|svgd   the policy loss (default parpi: through the frame's disc)\n"   \
    "  --alpha X              fixed temperature (default: learned; svgd: fixed, 1)\n"        \
    "  --init-alpha X         initial learned temperature (1.0)\n"                           \
    "  --target-entropy X     entropy target of the learned temperature (-act_dim)\n"        \
    "  --alpha-lr X           Adam learning rate of log alpha (3e-4)\n"                      \
    "  --lr X                 Adam learning rate of the policy (3e-4)\n"                     \
    "  --hidden N             width of each hidden layer (256)\n"                            \
    "  --layers N             number of hidden layers (2)\n"                                 \
    "  --svgd-particles M     actions per state for --update svgd (32)\n"                    \
    "  --svgd-squash-correction  add softqlearning's grad log(1 - a^2) to the SVGD score\n"  \
    "  --obs-dim N            observation size (needed by --prime unless --env)\n"           \
    "  --act-dim N            action size (needed by --prime unless --env)\n"                \
    "  --env NAME             take --obs-dim/--act-dim from this environment\n"              \
    "  --max-batch N          largest batch accepted (256)\n"                                \
    "  --prime                write one initial frame {step: 0, policy, alpha} first\n"      \
    "  --seed N               seed; the policy uses stream 4 of it (0)\n"

static int is_implicit(const pol *p) { return p->update == UPD_SVGD; }
static int n_updated(const pol *p) { return p->particles / 2; }
static int n_fixed(const pol *p) { return p->particles - p->particles / 2; }

static size_t nparams(const pol *p) { return is_implicit(p) ? p->impl.nparams : p->pi.nparams; }

static int pol_alloc(pol *p)
{
    const int O = p->obs_dim, A = p->act_dim;
    const int B = p->max_batch, M = is_implicit(p) ? p->particles : 1;
    if (is_implicit(p)) {
        if (pp_implicit_init(&p->impl, O, A, p->hidden, p->layers, B * M) != 0) return -1;
    } else if (pp_policy_init(&p->pi, O, A, p->hidden, p->layers, B) != 0) {
        return -1;
    }
    size_t n = nparams(p);
    p->params = pp_xalloc_f32(n);
    p->grads = pp_xalloc_f32(n);
    if (pp_adam_init(&p->adam, n, (float)p->lr) != 0) return -1;
    double target = p->target_entropy_set ? p->target_entropy : -(double)A;
    p->target_entropy = target;
    if (pp_temperature_init(&p->temp, !p->alpha_fixed, p->alpha_fixed ? p->alpha : p->init_alpha,
                            target, (float)p->alpha_lr) != 0)
        return -1;
    p->rows_q = is_implicit(p) ? B * n_fixed(p) : B;
    p->obs = pp_xalloc_f32((size_t)B * O);
    pp_policy_work_init(&p->work, O, A, p->rows_q, B * M,
                        is_implicit(p) ? n_fixed(p) * n_updated(p) : 0);
    pp_rng init = pp_rng_split(&p->rng, PP_STREAM_INIT);
    if (is_implicit(p))
        pp_implicit_init_params(&p->impl, p->params, &init);
    else
        pp_policy_init_params(&p->pi, p->params, &init);
    p->ready = 1;
    return 0;
}

static int dims_from_env(pol *p, const char *name)
{
    pp_env *e;
    if (pp_env_create(name, NULL, &e) != 0) return pp_fail_prefix("--env: ");
    const pp_env_info *info = pp_env_get_info(e);
    int O = info->obs_dim, A = info->act_dim;
    pp_env_free(e);
    if ((p->obs_dim && p->obs_dim != O) || (p->act_dim && p->act_dim != A))
        return pp_fail("--env %s has obs_dim %d, act_dim %d; --obs-dim/--act-dim say %d, %d", name,
                       O, A, p->obs_dim, p->act_dim);
    p->obs_dim = O;
    p->act_dim = A;
    return 0;
}

static void pol_destroy(pp_stage *s);

static int pol_create(int argc, char **argv, pp_stage **out)
{
    static const struct option opts[] = {
        {"update", required_argument, 0, 'u'},       {"alpha", required_argument, 0, 'a'},
        {"init-alpha", required_argument, 0, 'i'},   {"target-entropy", required_argument, 0, 'e'},
        {"alpha-lr", required_argument, 0, 'L'},     {"lr", required_argument, 0, 'r'},
        {"hidden", required_argument, 0, 'h'},       {"layers", required_argument, 0, 'l'},
        {"svgd-particles", required_argument, 0, 'M'},
        {"svgd-squash-correction", no_argument, 0, 'q'},
        {"obs-dim", required_argument, 0, 'O'},      {"act-dim", required_argument, 0, 'A'},
        {"env", required_argument, 0, 'E'},          {"max-batch", required_argument, 0, 'B'},
        {"prime", no_argument, 0, 'p'},              {"seed", required_argument, 0, 's'},
        {0, 0, 0, 0}};
    *out = NULL;
    pol *p = pp_xcalloc(1, sizeof *p);
    p->hidden = 256;
    p->layers = 2;
    p->max_batch = 256;
    p->particles = 32;
    p->alpha = 1.0;
    p->init_alpha = 1.0;
    p->alpha_lr = 3e-4;
    p->lr = 3e-4;
    const char *env = NULL;
    int rc = 0, opt;
    optind = 0;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': rc = pp_optarg_choice("--update", optarg, update_names, &p->update); break;
        case 'a':
            rc = pp_optarg_double("--alpha", optarg, 1e-12, 1e12, &p->alpha);
            p->alpha_fixed = 1;
            break;
        case 'i':
            rc = pp_optarg_double("--init-alpha", optarg, 1e-12, 1e12, &p->init_alpha);
            p->init_alpha_set = 1;
            break;
        case 'e':
            rc = pp_optarg_double("--target-entropy", optarg, -1e6, 1e6, &p->target_entropy);
            p->target_entropy_set = 1;
            break;
        case 'L': rc = pp_optarg_double("--alpha-lr", optarg, 0.0, 1.0, &p->alpha_lr); break;
        case 'r': rc = pp_optarg_double("--lr", optarg, 0.0, 1.0, &p->lr); break;
        case 'h': rc = pp_optarg_int("--hidden", optarg, 1, PP_NETMAP_MAX_DIM, &p->hidden); break;
        case 'l': rc = pp_optarg_int("--layers", optarg, 1, PP_MLP_MAX_LAYERS - 1, &p->layers); break;
        case 'M': rc = pp_optarg_int("--svgd-particles", optarg, 4, 1024, &p->particles); break;
        case 'q': p->squash_corr = 1; break;
        case 'O': rc = pp_optarg_int("--obs-dim", optarg, 1, PP_NETMAP_MAX_DIM, &p->obs_dim); break;
        case 'A': rc = pp_optarg_int("--act-dim", optarg, 1, PP_NETMAP_MAX_DIM, &p->act_dim); break;
        case 'E': env = optarg; break;
        case 'B': rc = pp_optarg_int("--max-batch", optarg, 1, 1 << 20, &p->max_batch); break;
        case 'p': p->prime = 1; break;
        case 's': {
            double v;
            rc = pp_optarg_double("--seed", optarg, 0, 9007199254740992.0, &v);
            p->seed = (unsigned long long)v;
            break;
        }
        case ':': rc = pp_optarg_unknown(argv, optind, optopt, 1); break;
        default: rc = pp_optarg_unknown(argv, optind, optopt, 0); break;
        }
    }
    if (rc == 0 && optind < argc) rc = pp_fail("unexpected argument '%s'", argv[optind]);
    if (rc == 0 && p->update == UPD_SVGD) {
        if (p->init_alpha_set)
            rc = pp_fail("--init-alpha: --update svgd uses a fixed temperature (SQL's); use --alpha");
        p->alpha_fixed = 1;
    }
    if (rc == 0 && p->alpha_fixed && p->init_alpha_set)
        rc = pp_fail("--alpha fixes the temperature; --init-alpha is for a learned one: give one");
    if (rc == 0 && (long long)p->max_batch * p->particles > (1 << 22))
        rc = pp_fail("--max-batch %d times --svgd-particles %d is too large", p->max_batch,
                     p->particles);
    if (rc == 0 && env) rc = dims_from_env(p, env);
    if (rc == 0 && (p->obs_dim > 0) != (p->act_dim > 0))
        rc = pp_fail("--obs-dim and --act-dim go together");
    if (rc == 0 && p->prime && !p->obs_dim)
        rc = pp_fail("--prime writes the initial policy, which needs --obs-dim and --act-dim "
                     "(or --env NAME)");
    pp_rng root;
    pp_rng_seed(&root, p->seed);
    p->rng = pp_rng_split(&root, PP_STREAM_POLICY);
    if (rc == 0 && p->obs_dim > 0) rc = pol_alloc(p);
    pp_stage *s = pp_xcalloc(1, sizeof *s);
    s->ops = &pp_stage_policy;
    s->self = p;
    if (rc != 0) {
        pol_destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

static void pol_destroy(pp_stage *s)
{
    if (!s) return;
    pol *p = s->self;
    if (p->ready) {
        if (is_implicit(p))
            pp_implicit_free(&p->impl);
        else
            pp_policy_free(&p->pi);
        pp_adam_free(&p->adam);
        pp_temperature_free(&p->temp);
    }
    if (p->disc_ready) pp_mlp_free(&p->disc);
    if (p->q_ready) pp_mlp_free(&p->qnet);
    free(p->disc_params);
    free(p->disc_sn);
    free(p->q_params);
    free(p->params);
    free(p->grads);
    free(p->obs);
    if (p->ready) pp_policy_work_free(&p->work);
    free(p);
    free(s);
}

/* ---- frozen networks from the frame ---- */

static int load_q(pol *p, pp_frame *f)
{
    if (!pp_frame_get(f, "q"))
        return pp_fail("missing field q: --update %s needs the critic (run parpi-critic before "
                       "parpi-policy)", update_names[p->update]);
    pp_netmap m;
    if (pp_netmap_read(f, "q", &m) != 0) return -1;
    if (strcmp(m.arch, "twin-mlp") != 0)
        return pp_fail("q.arch is \"%s\", expected \"twin-mlp\"", m.arch);
    if (m.obs_dim != p->obs_dim || m.act_dim != p->act_dim)
        return pp_fail("q is for obs_dim %d, act_dim %d, expected %d, %d (the policy's)",
                       m.obs_dim, m.act_dim, p->obs_dim, p->act_dim);
    if (!p->q_ready) {
        size_t want = pp_netmap_mlp_floats(m.obs_dim + m.act_dim, m.hidden, m.layers, 1, 2);
        if (pp_netmap_check_size(f, "q", &m, want) != 0) return -1;
        int widths[PP_MLP_MAX_LAYERS];
        for (int l = 0; l < m.layers; l++) widths[l] = m.hidden;
        if (pp_mlp_init(&p->qnet, m.obs_dim + m.act_dim, m.layers, widths, 1, 2, PP_ACT_RELU,
                        PP_ACT_LINEAR, 0, p->rows_q) != 0)
            return pp_fail_prefix("q: ");
        p->q_spec = m;
        p->q_params = pp_xalloc_f32(p->qnet.nparams);
        p->q_ready = 1;
    } else if (pp_netmap_check(&m, &p->q_spec, "q") != 0) {
        return -1;
    }
    return pp_netmap_read_params(f, "q", p->q_params, p->qnet.nparams);
}

static int load_disc(pol *p, pp_frame *f)
{
    if (!pp_frame_get(f, "disc"))
        return pp_fail("missing field disc: --update parpi needs the discriminator (run "
                       "parpi-discrim before parpi-policy, or use --update sac)");
    pp_netmap m;
    if (pp_netmap_read(f, "disc", &m) != 0) return -1;
    if (m.obs_dim != p->obs_dim || m.act_dim != p->act_dim)
        return pp_fail("disc is for obs_dim %d, act_dim %d, expected %d, %d (the policy's)",
                       m.obs_dim, m.act_dim, p->obs_dim, p->act_dim);
    const char *dv;
    size_t dlen;
    if (pp_frame_get_str(f, "disc.divergence", &dv, &dlen) != 0) return -1;
    int div = pp_policy_div_parse(dv, dlen);
    if (div < 0) return pp_fail_prefix("disc.divergence: ");
    double spec = 0.0;
    pp_node *sn = pp_frame_get(f, "disc.spectral");
    if (sn && pp_node_as_f64(sn, &spec) != 0)
        return pp_fail("disc.spectral is %s, expected a bool", pp_node_type_name(pp_node_type_of(sn)));
    int spectral = spec != 0.0;
    if (!p->disc_ready) {
        size_t want = pp_netmap_mlp_floats(m.obs_dim + m.act_dim, m.hidden, m.layers, 1, 1);
        if (pp_netmap_check_size(f, "disc", &m, want) != 0) return -1;
        int widths[PP_MLP_MAX_LAYERS];
        for (int l = 0; l < m.layers; l++) widths[l] = m.hidden;
        if (pp_mlp_init(&p->disc, m.obs_dim + m.act_dim, m.layers, widths, 1, 1, PP_ACT_RELU,
                        PP_ACT_LINEAR, spectral, p->rows_q) != 0)
            return pp_fail_prefix("disc: ");
        p->disc_spec = m;
        p->disc_spectral = spectral;
        p->disc_params = pp_xalloc_f32(p->disc.nparams);
        if (spectral) p->disc_sn = pp_xalloc_f32(p->disc.sn_state_floats);
        p->disc_ready = 1;
    } else {
        if (pp_netmap_check(&m, &p->disc_spec, "disc") != 0) return -1;
        if (spectral != p->disc_spectral)
            return pp_fail("disc.spectral is %s, expected %s (as on the first frame)",
                           spectral ? "true" : "false", p->disc_spectral ? "true" : "false");
    }
    p->disc_div = div;
    if (pp_netmap_read_params(f, "disc", p->disc_params, p->disc.nparams) != 0) return -1;
    if (spectral) {
        int64_t shape[1] = {(int64_t)p->disc.sn_state_floats};
        if (pp_frame_read_tensor(f, "disc.sn", PP_F32, 1, shape, p->disc_sn, NULL) != 0)
            return -1;
        pp_mlp_sn_set(&p->disc, p->disc_sn, p->disc_params);
    }
    return 0;
}

/* ---- the stage ---- */

static int write_policy(pol *p, pp_frame *f)
{
    pp_netmap m = {.obs_dim = p->obs_dim, .act_dim = p->act_dim, .hidden = p->hidden,
                   .layers = p->layers};
    snprintf(m.arch, sizeof m.arch, "%s",
             is_implicit(p) ? PP_ARCH_IMPLICIT_NAME : PP_ARCH_GAUSSIAN_TANH_NAME);
    if (pp_netmap_write(f, "policy", &m, p->params, nparams(p)) != 0) return -1;
    return pp_frame_set_f64(f, "alpha", pp_temperature_alpha(&p->temp));
}

static int read_obs(pol *p, pp_frame *f, int *Bout)
{
    pp_dtype dt;
    int nd;
    int64_t so[PP_MAX_DIMS], sa[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, "batch.obs", &dt, &nd, so) != 0) return -1;
    if (nd != 2) return pp_fail("batch.obs has %d dimensions, expected 2 ([B, obs_dim])", nd);
    if (so[0] < 1 || so[0] > p->max_batch)
        return pp_fail("batch.obs has %lld rows, expected 1..%d (--max-batch)", (long long)so[0],
                       p->max_batch);
    if (!p->ready) {
        if (pp_frame_get_tensor_info(f, "batch.act", &dt, &nd, sa) != 0) return -1;
        if (nd != 2) return pp_fail("batch.act has %d dimensions, expected 2 ([B, act_dim])", nd);
        if (so[1] < 1 || so[1] > PP_NETMAP_MAX_DIM || sa[1] < 1 || sa[1] > PP_NETMAP_MAX_DIM)
            return pp_fail("batch.obs/act widths %lld/%lld, expected 1..%d", (long long)so[1],
                           (long long)sa[1], PP_NETMAP_MAX_DIM);
        p->obs_dim = (int)so[1];
        p->act_dim = (int)sa[1];
        if (pol_alloc(p) != 0) return -1;
    }
    int64_t sh[2] = {so[0], p->obs_dim};
    if (pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, sh, p->obs, NULL) != 0) return -1;
    *Bout = (int)so[0];
    return 0;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!isfinite(x[k])) return 0;
    return 1;
}

static int pol_step(pp_stage *s, pp_frame *f)
{
    pol *p = s->self;
    if (!pp_frame_get(f, "batch")) return p->ready ? write_policy(p, f) : 0;
    int B = 0;
    if (read_obs(p, f, &B) != 0) return -1;
    if (p->update == UPD_PARPI ? load_disc(p, f) != 0 : load_q(p, f) != 0) return -1;

    pp_rng saved = p->rng;
    const double alpha = pp_temperature_alpha(&p->temp);
    size_t n = nparams(p);
    memset(p->grads, 0, sizeof(float) * n);
    double loss = 0.0, extra = 0.0, hmean = 0.0, dnorm = 0.0, mlogp = 0.0;
    if (is_implicit(p)) {
        pp_implicit_sample(&p->impl, p->params, p->obs, B, p->particles, &p->rng);
        pp_policy_svgd(&p->impl, p->params, p->obs, B, p->particles, alpha, p->squash_corr,
                       &p->qnet, p->q_params, &p->work, p->grads, &extra, &hmean, &dnorm);
    } else {
        pp_policy_sample(&p->pi, p->params, p->obs, B, &p->rng);
        if (p->update == UPD_PARPI)
            loss = pp_policy_loss_parpi(&p->pi, p->params, p->obs, B, alpha, &p->disc,
                                        p->disc_params, p->disc_div, &p->work, p->grads, &extra);
        else
            loss = pp_policy_loss_sac(&p->pi, p->params, p->obs, B, alpha, &p->qnet, p->q_params,
                                      &p->work, p->grads, &extra);
        for (int b = 0; b < B; b++) mlogp += p->pi.logp[b];
        mlogp /= B;
    }
    if (!isfinite(loss) || !isfinite(extra) || !isfinite(mlogp) || !all_finite(p->grads, n)) {
        p->rng = saved;
        return pp_fail("policy %s is not finite at step %lld (loss %g): params left as they were",
                       isfinite(loss) ? "gradient" : "loss", p->steps, loss);
    }
    double alpha_loss = 0.0;
    if (!is_implicit(p)) {
        alpha_loss = pp_temperature_loss(&p->temp, mlogp);
        if (pp_temperature_step(&p->temp, mlogp) != 0) {
            p->rng = saved;
            return -1;
        }
    }
    pp_adam_step(&p->adam, p->params, p->grads);
    p->steps++;

    if (write_policy(p, f) != 0) return -1;
    int rc = pp_frame_set_f64(f, "metrics.policy.alpha", alpha);
    if (p->update == UPD_SVGD) {
        rc |= pp_frame_set_f64(f, "metrics.policy.q_mean", extra);
        rc |= pp_frame_set_f64(f, "metrics.policy.bandwidth", hmean);
        rc |= pp_frame_set_f64(f, "metrics.policy.direction_norm", dnorm);
    } else {
        rc |= pp_frame_set_f64(f, "metrics.policy.loss", loss);
        rc |= pp_frame_set_f64(f, "metrics.policy.entropy", -mlogp);
        rc |= pp_frame_set_f64(f, "metrics.policy.alpha_loss", alpha_loss);
        rc |= pp_frame_set_f64(f, p->update == UPD_PARPI ? "metrics.policy.disc_term"
                                                         : "metrics.policy.q_mean",
                               extra);
    }
    return rc ? -1 : 0;
}

static int pol_prime(pp_stage *s, pp_frame *f)
{
    pol *p = s->self;
    if (!p->prime) return 0;
    if (!p->ready) return pp_fail("--prime: the policy has no dims (give --obs-dim/--act-dim)");
    if (pp_frame_set_i64(f, "step", 0) != 0 || write_policy(p, f) != 0) return -1;
    return 1;
}

/* ---- checkpoints ---- */

static int pol_save(pp_stage *s, pp_frame *ck)
{
    pol *p = s->self;
    int rc = 0;
    rc |= pp_frame_set_i64(ck, "config.obs_dim", p->ready ? p->obs_dim : 0);
    rc |= pp_frame_set_i64(ck, "config.act_dim", p->ready ? p->act_dim : 0);
    rc |= pp_frame_set_i64(ck, "config.hidden", p->hidden);
    rc |= pp_frame_set_i64(ck, "config.layers", p->layers);
    rc |= pp_frame_set_str(ck, "config.update", update_names[p->update]);
    rc |= pp_frame_set_i64(ck, "config.svgd_particles", p->particles);
    rc |= pp_frame_set_bool(ck, "config.svgd_squash_correction", p->squash_corr != 0);
    rc |= pp_frame_set_i64(ck, "config.max_batch", p->max_batch);
    rc |= pp_frame_set_f64(ck, "config.lr", p->lr);
    rc |= pp_frame_set_f64(ck, "config.alpha_lr", p->alpha_lr);
    rc |= pp_frame_set_bool(ck, "config.alpha_fixed", p->alpha_fixed != 0);
    rc |= pp_frame_set_f64(ck, "config.alpha", p->alpha_fixed ? p->alpha : p->init_alpha);
    rc |= pp_frame_set_i64(ck, "config.seed", (int64_t)p->seed);
    rc |= pp_frame_set_i64(ck, "steps", p->steps);
    if (rc || pp_ckpt_put_rng(ck, "rng", &p->rng) != 0) return -1;
    if (!p->ready) return 0;
    if (pp_frame_set_f64(ck, "config.target_entropy", p->target_entropy) != 0 ||
        pp_ckpt_put_blob(ck, "params", p->params, nparams(p)) != 0 ||
        pp_ckpt_put_adam(ck, "adam", &p->adam) != 0 ||
        pp_temperature_save(&p->temp, ck, "temperature") != 0)
        return -1;
    return 0;
}

static int get_bool(pp_frame *f, const char *path, int *out)
{
    pp_node *n = pp_frame_get(f, path);
    double v;
    if (!n) return pp_fail("missing field %s", path);
    if (pp_node_as_f64(n, &v) != 0) return pp_fail("field %s is %s, expected a bool", path,
                                                   pp_node_type_name(pp_node_type_of(n)));
    *out = v != 0.0;
    return 0;
}

static int pol_load(pp_stage *s, pp_frame *ck)
{
    pol *p = s->self;
    long long od, ad, hid, lay, part, mb, steps;
    const char *upd;
    size_t ulen;
    double lr, alr, alpha;
    int fixed, sq;
    if (pp_ckpt_get_int(ck, "config.obs_dim", 0, PP_NETMAP_MAX_DIM, &od) != 0 ||
        pp_ckpt_get_int(ck, "config.act_dim", 0, PP_NETMAP_MAX_DIM, &ad) != 0 ||
        pp_ckpt_get_int(ck, "config.hidden", 1, PP_NETMAP_MAX_DIM, &hid) != 0 ||
        pp_ckpt_get_int(ck, "config.layers", 1, PP_MLP_MAX_LAYERS - 1, &lay) != 0 ||
        pp_ckpt_get_int(ck, "config.svgd_particles", 4, 1024, &part) != 0 ||
        pp_ckpt_get_int(ck, "config.max_batch", 1, 1 << 20, &mb) != 0 ||
        pp_frame_get_str(ck, "config.update", &upd, &ulen) != 0 ||
        get_bool(ck, "config.svgd_squash_correction", &sq) != 0 ||
        get_bool(ck, "config.alpha_fixed", &fixed) != 0 ||
        pp_frame_get_f64(ck, "config.lr", &lr) != 0 ||
        pp_frame_get_f64(ck, "config.alpha_lr", &alr) != 0 ||
        pp_frame_get_f64(ck, "config.alpha", &alpha) != 0 ||
        pp_ckpt_get_int(ck, "steps", 0, (long long)1 << 62, &steps) != 0)
        return -1;
    int update = -1;
    for (int i = 0; update_names[i]; i++)
        if (strlen(update_names[i]) == ulen && memcmp(update_names[i], upd, ulen) == 0) update = i;
    if (update < 0) return pp_fail("config.update is \"%.*s\", expected parpi, sac or svgd",
                                   (int)ulen, upd);
    if (!(alpha > 0.0)) return pp_fail("config.alpha is %g, expected > 0", alpha);
    if (p->ready && (od != p->obs_dim || ad != p->act_dim || hid != p->hidden ||
                     lay != p->layers || mb != p->max_batch || update != p->update ||
                     part != p->particles))
        return pp_fail("checkpoint policy is obs %lld act %lld hidden %lld layers %lld "
                       "max-batch %lld update %s particles %lld, expected obs %d act %d hidden %d "
                       "layers %d max-batch %d update %s particles %d",
                       od, ad, hid, lay, mb, update_names[update], part, p->obs_dim, p->act_dim,
                       p->hidden, p->layers, p->max_batch, update_names[p->update], p->particles);
    if (p->ready && fixed != p->alpha_fixed)
        return pp_fail("checkpoint temperature is %s, expected %s", fixed ? "fixed" : "learned",
                       p->alpha_fixed ? "fixed" : "learned");
    double target = 0.0;
    if (od > 0 && pp_frame_get_f64(ck, "config.target_entropy", &target) != 0) return -1;
    if (p->ready) {
        /* rebuild the temperature from the checkpoint's settings */
        pp_temperature_free(&p->temp);
        memset(&p->temp, 0, sizeof p->temp);
    }
    p->hidden = (int)hid;
    p->layers = (int)lay;
    p->particles = (int)part;
    p->max_batch = (int)mb;
    p->update = update;
    p->squash_corr = sq;
    p->lr = lr;
    p->alpha_lr = alr;
    p->alpha_fixed = fixed;
    if (fixed) p->alpha = alpha; else p->init_alpha = alpha;
    p->target_entropy = target;
    p->target_entropy_set = 1;
    p->steps = steps;
    if (pp_ckpt_get_rng(ck, "rng", &p->rng) != 0) return -1;
    if (od == 0) {
        p->target_entropy_set = 0;
        return 0;
    }
    if (!p->ready) {
        p->obs_dim = (int)od;
        p->act_dim = (int)ad;
        if (pol_alloc(p) != 0) return -1;
    } else if (pp_temperature_init(&p->temp, !fixed, alpha, target, (float)alr) != 0) {
        return -1;
    }
    p->adam.lr = (float)lr;
    if (pp_ckpt_get_blob(ck, "params", p->params, nparams(p)) != 0 ||
        pp_ckpt_get_adam(ck, "adam", &p->adam) != 0 ||
        pp_temperature_load(&p->temp, ck, "temperature") != 0)
        return -1;
    return 0;
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
static const char *const policy_reads[] = {"batch", "alpha", "q", "disc", NULL};
static const char *const policy_owns[] = {"policy", "alpha", NULL};
static const char *const policy_metrics[] = {"loss", "entropy", "alpha", "alpha_loss", "q_mean", "disc_term", "bandwidth", "direction_norm", NULL};

const pp_stage_ops pp_stage_policy = {
    .kind = "policy",
    .reads = policy_reads,
    .owns = policy_owns,
    .metrics = policy_metrics,
    .summary = "policy update: ParPI through the discriminator, or the SAC / SQL (SVGD) baselines",
    .options_help = OPT_HELP,
    .create = pol_create,
    .step = pol_step,
    .save = pol_save,
    .load = pol_load,
    .destroy = pol_destroy,
    .prime = pol_prime,
};
