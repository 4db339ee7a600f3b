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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/actor.h"
#include "rl/discrim.h"
#include "stage/ckpt_state.h"
#include "env/env.h"
#include "base/err.h"
#include "nn/mlp.h"
#include "nn/netmap.h"
#include "base/opt.h"
#include "rl/policy.h"
#include "rl/policy_implicit.h"
#include "rl/policy_loss.h"
#include "stage/stage.h"
#include "stage/stage_config.h"
#include "rl/temperature.h"
#include "nn/adam.h"
#include "nn/vec.h"

enum { UPD_PARPI = 0, UPD_SAC, UPD_SVGD };
static const char *const update_names[] = {"parpi", "sac", "svgd", NULL};
extern const pp_stage_ops pp_stage_policy;

/* The options (policy_options below). obs_dim and act_dim stay 0 until known:
 * from the options, --env or the first batch. */
typedef struct {
    int update, hidden, layers, particles, squash_corr, obs_dim, act_dim, max_batch, prime;
    double alpha, init_alpha, target_entropy, alpha_lr, lr;
    char env[128];
    unsigned long long seed;
} policy_config;

/* Resume (stage/stage_config.h): the network's shape (update, sizes,
 * particles, max-batch) must match the checkpoint; lr, alpha-lr, the squash
 * correction and seed are the checkpoint's unless given again. Saved and
 * loaded by hand (policy_save, policy_load), with the same rules:
 * config.obs_dim/act_dim (0: not known yet), and the temperature:
 * config.alpha_fixed (fixed or learned: shape), config.alpha (the fixed
 * --alpha, or the --init-alpha of a learned one) and config.target_entropy
 * (once the dims, which give its default, are known). */
static const pp_opt policy_options[] = {
    PP_OPT_CHOICE("update", policy_config, update, update_names, "parpi",
                  "the loss: parpi through disc, sac/svgd through q", PP_OPT_SHAPE),
    PP_OPT_DOUBLE("alpha", policy_config, alpha, 1e-12, 1e12, "1",
                  "fixed temperature (not given: learned; svgd: fixed)",
                  PP_OPT_NOSAVE),
    PP_OPT_DOUBLE("init-alpha", policy_config, init_alpha, 1e-12, 1e12, "1",
                  "initial learned temperature", PP_OPT_NOSAVE),
    PP_OPT_DOUBLE("target-entropy", policy_config, target_entropy, -1e6, 1e6, NULL,
                  "entropy target of the learned temperature (default -act_dim)", PP_OPT_NOSAVE),
    PP_OPT_DOUBLE("alpha-lr", policy_config, alpha_lr, 0, 1, "3e-4",
                  "Adam learning rate of log alpha", 0),
    PP_OPT_DOUBLE("lr", policy_config, lr, 0, 1, "3e-4", "Adam learning rate of the policy", 0),
    PP_OPT_INT("hidden", policy_config, hidden, 1, PP_NETMAP_MAX_DIM, "256",
               "width of each hidden layer", PP_OPT_SHAPE),
    PP_OPT_INT("layers", policy_config, layers, 1, PP_MLP_MAX_LAYERS - 1, "2",
               "number of hidden layers", PP_OPT_SHAPE),
    PP_OPT_ROW("svgd-particles", PP_OPT_T_INT, policy_config, particles, 4, 1024, "32", NULL, "M",
               "actions per state for --update svgd", NULL, PP_OPT_SHAPE),
    PP_OPT_FLAG("svgd-squash-correction", policy_config, squash_corr,
                "add softqlearning's grad log(1 - a^2) to the SVGD score", 0),
    PP_OPT_INT("obs-dim", policy_config, obs_dim, 0, PP_NETMAP_MAX_DIM, NULL,
               "observation size (needed by --prime unless --env)", PP_OPT_NOSAVE),
    PP_OPT_INT("act-dim", policy_config, act_dim, 0, PP_NETMAP_MAX_DIM, NULL,
               "action size (needed by --prime unless --env)", PP_OPT_NOSAVE),
    PP_OPT_STRING("env", policy_config, env, "NAME", NULL,
                  "take --obs-dim/--act-dim from this environment", PP_OPT_NOSAVE),
    PP_OPT_INT("max-batch", policy_config, max_batch, 1, 1 << 20, "256",
               "largest batch accepted", PP_OPT_SHAPE),
    PP_OPT_FLAG("prime", policy_config, prime,
                "write one initial frame {step: 0, policy, alpha} first", PP_OPT_NOSAVE),
    PP_OPT_SEED("seed", policy_config, seed, "seed; the policy uses stream 4 of it", 0),
    PP_OPT_END};

typedef struct {
    policy_config cfg;
    uint64_t given;                  /* the rows given to create (pp_opt_parse) */
    int alpha_fixed;                 /* --alpha given (or svgd) */
    int target_entropy_set;          /* cfg.target_entropy holds a value (else -act_dim) */
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

/* Was the option of this name on create's command line? */
static int was_given(const pol *p, const char *name)
{
    const pp_opt *row = pp_opt_find(policy_options, name);
    return row && ((p->given >> (row - policy_options)) & 1);
}

static int is_implicit(const pol *p) { return p->cfg.update == UPD_SVGD; }
static int n_updated(const pol *p) { return p->cfg.particles / 2; }
static int n_fixed(const pol *p) { return p->cfg.particles - p->cfg.particles / 2; }

static size_t nparams(const pol *p) { return is_implicit(p) ? p->impl.nparams : p->pi.nparams; }

static int policy_alloc(pol *p)
{
    const int O = p->cfg.obs_dim, A = p->cfg.act_dim;
    const int B = p->cfg.max_batch, M = is_implicit(p) ? p->cfg.particles : 1;
    if (is_implicit(p)) {
        if (pp_implicit_init(&p->impl, O, A, p->cfg.hidden, p->cfg.layers, B * M) != 0) return -1;
    } else if (pp_policy_init(&p->pi, O, A, p->cfg.hidden, p->cfg.layers, B) != 0) {
        return -1;
    }
    size_t n = nparams(p);
    p->params = pp_xalloc_f32(n);
    p->grads = pp_xalloc_f32(n);
    if (pp_adam_init(&p->adam, n, (float)p->cfg.lr) != 0) return -1;
    double target = p->target_entropy_set ? p->cfg.target_entropy : -(double)A;
    p->cfg.target_entropy = target;
    double alpha0 = p->alpha_fixed ? p->cfg.alpha : p->cfg.init_alpha;
    if (pp_temperature_init(&p->temp, !p->alpha_fixed, alpha0, target, (float)p->cfg.alpha_lr) != 0)
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

/* --env NAME: the sizes of that task. It builds the environment only to read
 * them (the registry has no other way to tell); parpi-train passes
 * --obs-dim/--act-dim instead, so only a hand-made ring pays this. */
static int dims_from_env(pol *p, const char *name)
{
    pp_env *e;
    if (pp_env_create(name, NULL, &e) != 0) return pp_fail_prefix("--env: ");
    const pp_env_info *info = pp_env_get_info(e);
    int O = info->obs_dim, A = info->act_dim;
    pp_env_free(e);
    if ((p->cfg.obs_dim && p->cfg.obs_dim != O) || (p->cfg.act_dim && p->cfg.act_dim != A))
        return pp_fail("--env %s has obs_dim %d, act_dim %d; --obs-dim/--act-dim say %d, %d", name,
                       O, A, p->cfg.obs_dim, p->cfg.act_dim);
    p->cfg.obs_dim = O;
    p->cfg.act_dim = A;
    return 0;
}

static void policy_destroy(pp_stage *s);

static int policy_create(int argc, char **argv, pp_stage **out)
{
    *out = NULL;
    pol *p = pp_xcalloc(1, sizeof *p);
    policy_config *k = &p->cfg;
    int rc = pp_opt_read(policy_options, k, argc, argv, &p->given);
    p->alpha_fixed = was_given(p, "alpha");
    p->target_entropy_set = was_given(p, "target-entropy");
    if (rc == 0 && k->update == UPD_SVGD) {
        if (was_given(p, "init-alpha"))
            rc = pp_fail("--init-alpha: --update svgd uses a fixed temperature (SQL's); use --alpha");
        p->alpha_fixed = 1;
    }
    if (rc == 0 && p->alpha_fixed && was_given(p, "init-alpha"))
        rc = pp_fail("--alpha fixes the temperature; --init-alpha is for a learned one: give one");
    if (rc == 0 && (long long)k->max_batch * k->particles > (1 << 22))
        rc = pp_fail("--max-batch %d times --svgd-particles %d is too large", k->max_batch,
                     k->particles);
    if (rc == 0 && k->env[0]) rc = dims_from_env(p, k->env);
    if (rc == 0 && (k->obs_dim > 0) != (k->act_dim > 0))
        rc = pp_fail("--obs-dim and --act-dim go together");
    if (rc == 0 && k->prime && !k->obs_dim)
        rc = pp_fail("--prime writes the initial policy, which needs --obs-dim and --act-dim "
                     "(or --env NAME)");
    p->rng = pp_rng_stream(k->seed, PP_STREAM_POLICY);
    if (rc == 0 && k->obs_dim > 0) rc = policy_alloc(p);
    pp_stage *s = pp_stage_new(&pp_stage_policy, p);
    return pp_stage_created(s, rc, out);
}

static void policy_destroy(pp_stage *s)
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
                       "parpi-policy)", update_names[p->cfg.update]);
    pp_netmap m;
    if (pp_netmap_read(f, "q", &m) != 0) return -1;
    if (strcmp(m.arch, "twin-mlp") != 0)
        return pp_fail("q.arch is \"%s\", expected \"twin-mlp\"", m.arch);
    if (pp_netmap_check_dims(&m, "q", p->cfg.obs_dim, p->cfg.act_dim) != 0)
        return pp_fail_prefix("q is not for the policy's obs %d, act %d: ", p->cfg.obs_dim,
                              p->cfg.act_dim);
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
    /* parpi-discrim's f is a plain MLP, and its map has no arch */
    if (m.arch[0])
        return pp_fail("disc.arch is \"%s\", but a disc map has no arch (parpi-discrim's f is an "
                       "MLP)", m.arch);
    if (pp_netmap_check_dims(&m, "disc", p->cfg.obs_dim, p->cfg.act_dim) != 0)
        return pp_fail_prefix("disc is not for the policy's obs %d, act %d: ", p->cfg.obs_dim,
                              p->cfg.act_dim);
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
    /* disc.lipschitz (written since the option table; optional before):
     * known, and spectral exactly when it is sn */
    if (pp_frame_get(f, "disc.lipschitz")) {
        const char *ls;
        size_t llen;
        char name[16];
        pp_lipschitz lip;
        if (pp_frame_get_str(f, "disc.lipschitz", &ls, &llen) != 0) return -1;
        snprintf(name, sizeof name, "%.*s", (int)(llen < sizeof name ? llen : sizeof name - 1), ls);
        if (llen >= sizeof name || memchr(ls, '\0', llen) || pp_lipschitz_parse(name, &lip) != 0)
            return pp_fail("disc.lipschitz is \"%.*s\", expected none, sn or gp",
                           (int)(llen < 64 ? llen : 64), ls);
        if ((lip == PP_LIP_SN) != spectral)
            return pp_fail("disc.spectral is %s, but disc.lipschitz is %s (spectral exactly "
                           "with sn)", spectral ? "true" : "false", name);
    }
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
        if (pp_frame_read_tensor(f, "disc.sn", PP_F32, 1, shape, p->disc_sn, NULL) != 0 ||
            pp_netmap_check_sn("disc.sn", p->disc_sn, p->disc.sn_state_floats,
                               m.obs_dim + m.act_dim, m.hidden, m.layers, 1, 1) != 0)
            return -1;
        pp_mlp_sn_set(&p->disc, p->disc_sn, p->disc_params);
    }
    return 0;
}

/* ---- the stage ---- */

static int write_policy(pol *p, pp_frame *f)
{
    pp_netmap m = {.obs_dim = p->cfg.obs_dim, .act_dim = p->cfg.act_dim, .hidden = p->cfg.hidden,
                   .layers = p->cfg.layers};
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
    if (so[0] < 1 || so[0] > p->cfg.max_batch)
        return pp_fail("batch.obs has %lld rows, expected 1..%d (--max-batch)", (long long)so[0],
                       p->cfg.max_batch);
    if (!p->ready) {
        if (pp_frame_get_tensor_info(f, "batch.act", &dt, &nd, sa) != 0) return -1;
        if (nd != 2) return pp_fail("batch.act has %d dimensions, expected 2 ([B, act_dim])", nd);
        if (so[1] < 1 || so[1] > PP_NETMAP_MAX_DIM || sa[1] < 1 || sa[1] > PP_NETMAP_MAX_DIM)
            return pp_fail("batch.obs/act widths %lld/%lld, expected 1..%d", (long long)so[1],
                           (long long)sa[1], PP_NETMAP_MAX_DIM);
        p->cfg.obs_dim = (int)so[1];
        p->cfg.act_dim = (int)sa[1];
        if (policy_alloc(p) != 0) return -1;
    }
    int64_t sh[2] = {so[0], p->cfg.obs_dim};
    if (pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, sh, p->obs, NULL) != 0 ||
        pp_vec_check_finite(p->obs, (size_t)(so[0] * p->cfg.obs_dim), (size_t)p->cfg.obs_dim,
                            "batch.obs") != 0)
        return -1;
    *Bout = (int)so[0];
    return 0;
}

static int policy_step(pp_stage *s, pp_frame *f)
{
    pol *p = s->self;
    if (!pp_frame_get(f, "batch")) return p->ready ? write_policy(p, f) : 0;
    int B = 0;
    if (read_obs(p, f, &B) != 0) return -1;
    if (p->cfg.update == UPD_PARPI ? load_disc(p, f) != 0 : load_q(p, f) != 0) return -1;

    pp_rng saved = p->rng;
    const double alpha = pp_temperature_alpha(&p->temp);
    size_t n = nparams(p);
    memset(p->grads, 0, sizeof(float) * n);
    double loss = 0.0, extra = 0.0, hmean = 0.0, dnorm = 0.0, mlogp = 0.0;
    if (is_implicit(p)) {
        pp_implicit_sample(&p->impl, p->params, p->obs, B, p->cfg.particles, &p->rng);
        pp_policy_svgd(&p->impl, p->params, p->obs, B, p->cfg.particles, alpha, p->cfg.squash_corr,
                       &p->qnet, p->q_params, &p->work, p->grads, &extra, &hmean, &dnorm);
    } else {
        pp_policy_sample(&p->pi, p->params, p->obs, B, &p->rng);
        if (p->cfg.update == UPD_PARPI)
            loss = pp_policy_loss_parpi(&p->pi, p->params, p->obs, B, alpha, &p->disc,
                                        p->disc_params, p->disc_div, &p->work, p->grads, &extra);
        else
            loss = pp_policy_loss_sac(&p->pi, p->params, p->obs, B, alpha, &p->qnet, p->q_params,
                                      &p->work, p->grads, &extra);
        for (int b = 0; b < B; b++) mlogp += p->pi.logp[b];
        mlogp /= B;
    }
    if (!isfinite(loss) || !isfinite(extra) || !isfinite(mlogp) ||
        !pp_vec_all_finite(p->grads, n)) {
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
    if (p->cfg.update == UPD_SVGD) {
        rc |= pp_frame_set_f64(f, "metrics.policy.q_mean", extra);
        rc |= pp_frame_set_f64(f, "metrics.policy.bandwidth", hmean);
        rc |= pp_frame_set_f64(f, "metrics.policy.direction_norm", dnorm);
    } else {
        rc |= pp_frame_set_f64(f, "metrics.policy.loss", loss);
        rc |= pp_frame_set_f64(f, "metrics.policy.entropy", -mlogp);
        rc |= pp_frame_set_f64(f, "metrics.policy.alpha_loss", alpha_loss);
        rc |= pp_frame_set_f64(f, p->cfg.update == UPD_PARPI ? "metrics.policy.disc_term"
                                                         : "metrics.policy.q_mean",
                               extra);
    }
    return rc ? -1 : 0;
}

static int policy_prime(pp_stage *s, pp_frame *f)
{
    pol *p = s->self;
    if (!p->cfg.prime) return 0;
    if (!p->ready) return pp_fail("--prime: the policy has no dims (give --obs-dim/--act-dim)");
    if (pp_frame_set_i64(f, "step", 0) != 0 || write_policy(p, f) != 0) return -1;
    return 1;
}

/* ---- checkpoints ---- */

static int policy_save(pp_stage *s, pp_frame *ck)
{
    pol *p = s->self;
    const policy_config *k = &p->cfg;
    int rc = pp_config_save(policy_options, k, ck);
    rc |= pp_frame_set_i64(ck, "config.obs_dim", p->ready ? k->obs_dim : 0);
    rc |= pp_frame_set_i64(ck, "config.act_dim", p->ready ? k->act_dim : 0);
    rc |= pp_frame_set_bool(ck, "config.alpha_fixed", p->alpha_fixed != 0);
    rc |= pp_frame_set_f64(ck, "config.alpha", p->alpha_fixed ? k->alpha : k->init_alpha);
    rc |= pp_frame_set_i64(ck, "steps", p->steps);
    if (rc || pp_ckpt_put_rng(ck, "rng", &p->rng) != 0) return -1;
    if (!p->ready) return 0;
    if (pp_frame_set_f64(ck, "config.target_entropy", k->target_entropy) != 0 ||
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

static int policy_load(pp_stage *s, pp_frame *ck)
{
    pol *p = s->self;
    long long od, ad, steps;
    double alpha = 0.0, target = 0.0;
    int fixed = 0;
    pp_rng rng;
    if (pp_ckpt_get_int(ck, "config.obs_dim", 0, PP_NETMAP_MAX_DIM, &od) != 0 ||
        pp_ckpt_get_int(ck, "config.act_dim", 0, PP_NETMAP_MAX_DIM, &ad) != 0 ||
        get_bool(ck, "config.alpha_fixed", &fixed) != 0 ||
        pp_frame_get_f64(ck, "config.alpha", &alpha) != 0 ||
        (od > 0 && pp_frame_get_f64(ck, "config.target_entropy", &target) != 0) ||
        pp_ckpt_get_int(ck, "steps", 0, (long long)1 << 62, &steps) != 0 ||
        pp_ckpt_get_rng(ck, "rng", &rng) != 0)
        return -1;
    if (!(alpha > 0.0) || !isfinite(alpha))
        return pp_fail("config.alpha is %g, expected > 0", alpha);
    /* Built from --obs-dim/--act-dim or --env already: the dims must be the same. */
    if (p->ready && (od != p->cfg.obs_dim || ad != p->cfg.act_dim))
        return pp_fail("the checkpoint has --obs-dim %lld --act-dim %lld, but this stage has "
                       "--obs-dim %d --act-dim %d",
                       od, ad, p->cfg.obs_dim, p->cfg.act_dim);
    policy_config k = p->cfg;
    if (pp_config_load(policy_options, &k, sizeof k, ck, p->given, p->ready) != 0) return -1;
    /* A fixed or a learned temperature is part of the shape: the stage's
     * must match when built or when --alpha/--init-alpha said which. */
    int said = was_given(p, "alpha") || was_given(p, "init-alpha");
    if ((p->ready || said) && fixed != p->alpha_fixed)
        return pp_fail("the checkpoint's temperature is %s, but this stage's is %s%s",
                       fixed ? "fixed" : "learned", p->alpha_fixed ? "fixed" : "learned",
                       !said             ? " (its default)"
                       : p->alpha_fixed ? " (--alpha)"
                                        : " (--init-alpha)");
    if (k.update == UPD_SVGD && !fixed)
        return pp_fail("config.alpha_fixed is false, but --update svgd has a fixed temperature");
    /* The temperature's options, as the table's plain rows: the checkpoint's
     * values unless given again. */
    if (fixed && !was_given(p, "alpha")) k.alpha = alpha;
    if (!fixed && !was_given(p, "init-alpha")) k.init_alpha = alpha;
    if (od > 0 && !was_given(p, "target-entropy")) k.target_entropy = target;
    p->cfg = k;
    p->alpha_fixed = fixed;
    p->target_entropy_set = od > 0 || was_given(p, "target-entropy");
    p->steps = steps;
    p->rng = rng;
    if (od == 0) return 0; /* saved before the first batch */
    if (!p->ready) {
        p->cfg.obs_dim = (int)od;
        p->cfg.act_dim = (int)ad;
        if (policy_alloc(p) != 0) return -1;
    } else {
        /* rebuild the temperature from the loaded settings */
        pp_temperature_free(&p->temp);
        memset(&p->temp, 0, sizeof p->temp);
        if (pp_temperature_init(&p->temp, !fixed, fixed ? k.alpha : k.init_alpha,
                                k.target_entropy, (float)k.alpha_lr) != 0)
            return -1;
    }
    p->adam.lr = (float)p->cfg.lr;
    if (pp_ckpt_get_blob(ck, "params", p->params, nparams(p)) != 0 ||
        pp_ckpt_get_adam(ck, "adam", &p->adam) != 0 ||
        pp_temperature_load(&p->temp, ck, "temperature") != 0)
        return -1;
    return 0;
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
/* alpha is not read: the stage owns it and writes its own temperature. */
static const char *const policy_reads[] = {"batch", "q", "disc", NULL};
static const char *const policy_owns[] = {"policy", "alpha", NULL};
static const char *const policy_metrics[] = {"loss", "entropy", "alpha", "alpha_loss", "q_mean", "disc_term", "bandwidth", "direction_norm", NULL};

/* The parpi update reads the discriminator, the sac and svgd updates the
 * critic: a ring drops each field after its real last reader. */
static const char *const *policy_reads_for(int argc, char **argv)
{
    static const char *const parpi_reads[] = {"batch", "disc", NULL};
    static const char *const q_reads[] = {"batch", "q", NULL};
    policy_config k;
    if (pp_opt_read(policy_options, &k, argc, argv, NULL) != 0) return NULL;
    return k.update == UPD_PARPI ? parpi_reads : q_reads;
}

const pp_stage_ops pp_stage_policy = {
    .kind = "policy",
    .reads = policy_reads,
    .owns = policy_owns,
    .metrics = policy_metrics,
    .reads_for = policy_reads_for,
    .summary = "policy update: ParPI through the discriminator, or the SAC / SQL (SVGD) baselines",
    .options = policy_options,
    .create = policy_create,
    .step = policy_step,
    .save = policy_save,
    .load = policy_load,
    .destroy = policy_destroy,
    .prime = policy_prime,
};
