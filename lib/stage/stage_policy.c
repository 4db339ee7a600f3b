/* stage_policy.c - the policy update (docs/algorithm.md sections 3, 5, 8, 9), stage kind "policy".
 *
 *   --update parpi (default): J = alpha E[log pi(a|s)] + D_hat, a = tanh(u) reparameterised,
 *       D_hat through the frame's frozen discriminator f (disc map):
 *       jsd: -E log sig(f(s,a)) (non-saturating); wd, hinge, rkl: -E f(s,a).
 *   --update sac: J = E[alpha log pi(a|s) - min_j Q_j(s,a)] through the frame's q map.
 *   --update svgd: SQL's amortised SVGD on the implicit policy a = tanh(g(s, xi)).
 *   --update bc: behaviour cloning, J = -E log pi(a_b|s) of the batch's actions
 *       (clipped to |a| <= 1 - --bc-clip before atanh); no temperature step.
 *   --update brac: BRAC's actor (value penalty), J = E[alpha log pi(a|s)
 *       + alpha_v term_p(c(s,a)) - min_j Q_j(s,a)] through q and the frame's
 *       frozen KL dual critic c (dual map), alpha_v = --penalty.
 *   --warm-start N: the first N steps of parpi, sac or brac are bc steps.
 *   (docs/algorithm.md section 14 for bc, brac and the warm start.)
 *
 * One Adam step per frame with a batch, then (parpi, sac, brac) one temperature step
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
#include "rl/policy_file.h"
#include "rl/policy_implicit.h"
#include "rl/policy_loss.h"
#include "stage/stage.h"
#include "stage/stage_config.h"
#include "rl/temperature.h"
#include "nn/adam.h"
#include "nn/vec.h"

enum { UPD_PARPI = 0, UPD_SAC, UPD_SVGD, UPD_BC, UPD_BRAC };
static const char *const update_names[] = {"parpi", "sac", "svgd", "bc", "brac", NULL};
extern const pp_stage_ops pp_stage_policy;

/* The options (policy_options below). obs_dim and act_dim stay 0 until known:
 * from the options, --env or the first batch. */
typedef struct {
    int update, hidden, layers, particles, squash_corr, obs_dim, act_dim, max_batch, prime;
    int warm_start;
    double alpha, init_alpha, target_entropy, alpha_lr, lr, bc_clip, penalty;
    char env[128];
    char prior[4096]; /* "" when none */
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
                  "the loss: parpi through disc, sac/svgd through q, bc the batch's actions, "
                  "brac through q and dual", PP_OPT_SHAPE),
    PP_OPT_DOUBLE("alpha", policy_config, alpha, 0, 1e12, "1",
                  "fixed temperature, 0 allowed (not given: learned; svgd: fixed, > 0)",
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
    PP_OPT_DOUBLE("bc-clip", policy_config, bc_clip, 1e-6, 0.5, "1e-3",
                  "bc: clip the batch's actions to |a| <= 1 - X before atanh", PP_OPT_NEWKEY),
    PP_OPT_DOUBLE("penalty", policy_config, penalty, 0, 1e6, "1",
                  "brac: weight alpha_v of the KL dual term in the loss", PP_OPT_NEWKEY),
    PP_OPT_INT("warm-start", policy_config, warm_start, 0, 1 << 30, "0",
               "BRAC's warm start: the first N steps are bc steps (not svgd)", PP_OPT_NEWKEY),
    PP_OPT_STRING("prior", policy_config, prior, "FILE", NULL,
                  "parpi, offline: the behaviour policy pi_beta (a gaussian-tanh policy checkpoint or "
                  "frame); the loss gains -alpha E log pi_beta",
                  PP_OPT_NEWKEY),
    PP_OPT_END};

/* A network read from each frame and held fixed: sized on the first frame,
 * the same map on later ones (load_frozen). */
typedef struct {
    int ready;
    pp_netmap spec;
    pp_mlp net;
    float *params;
} frozen;

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
    frozen disc, q, dual;
    pp_actor *prior;                 /* --prior: pi_beta, read once */
    int disc_div, disc_spectral;
    float *disc_sn;
    /* buffers */
    int rows_q;                      /* rows of the frozen nets: max_batch (x M_fixed for svgd) */
    float *obs;                      /* [max_batch, O] */
    float *act;                      /* [max_batch, A]: the batch's actions (bc) */
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
    p->act = pp_xalloc_f32((size_t)B * A);
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

/* --prior's sizes against the policy's, once those are known. */
static int check_prior(const pol *p)
{
    if (!p->prior || !p->cfg.obs_dim) return 0;
    const pp_netmap *bm = pp_actor_spec(p->prior);
    if (bm->obs_dim != p->cfg.obs_dim || bm->act_dim != p->cfg.act_dim)
        return pp_fail("--prior %s is a policy for obs %d, act %d; this policy's are obs %d, act %d",
                       p->cfg.prior, bm->obs_dim, bm->act_dim, p->cfg.obs_dim, p->cfg.act_dim);
    return 0;
}

static void policy_destroy(pp_stage *s);

static void frozen_free(frozen *z)
{
    if (z->ready) pp_mlp_free(&z->net);
    free(z->params);
    memset(z, 0, sizeof *z);
}

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
    if (rc == 0 && k->update == UPD_SVGD && k->alpha == 0.0)
        rc = pp_fail("--alpha 0: --update svgd divides the critic's gradient by the temperature; "
                     "give --alpha > 0");
    if (rc == 0 && k->update == UPD_SVGD && k->warm_start > 0)
        rc = pp_fail("--warm-start: --update svgd's implicit policy has no likelihood to clone "
                     "the batch with");
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
    if (rc == 0 && k->prior[0] && k->update != UPD_PARPI)
        rc = pp_fail("--prior: the behaviour policy's term is for --update parpi (ParPI on BRAC)");
    if (rc == 0 && k->prior[0]) rc = pp_prior_from_file(k->prior, k->max_batch, &p->prior);
    if (rc == 0) rc = check_prior(p);
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
    frozen_free(&p->disc);
    frozen_free(&p->q);
    frozen_free(&p->dual);
    pp_actor_free(p->prior);
    free(p->disc_sn);
    free(p->act);
    free(p->params);
    free(p->grads);
    free(p->obs);
    if (p->ready) pp_policy_work_free(&p->work);
    free(p);
    free(s);
}

/* ---- frozen networks from the frame ---- */

/* The map `field` of the frame, checked: present (else `missing`, a sentence
 * naming who makes it), its arch (arch NULL: a plain MLP's map, which has no
 * arch field: disc, dual), and the policy's sizes. */
static int read_map(pol *p, pp_frame *f, const char *field, const char *arch, const char *missing,
                    pp_netmap *m)
{
    if (!pp_frame_get(f, field)) return pp_fail("missing field %s: %s", field, missing);
    if (pp_netmap_read(f, field, m) != 0) return -1;
    if (arch && strcmp(m->arch, arch) != 0)
        return pp_fail("%s.arch is \"%s\", expected \"%s\"", field, m->arch, arch);
    if (!arch && m->arch[0])
        return pp_fail("%s.arch is \"%s\", but a %s map has no arch (it is a plain MLP)", field,
                       m->arch, field);
    if (pp_netmap_check_dims(m, field, p->cfg.obs_dim, p->cfg.act_dim) != 0)
        return pp_fail_prefix("%s is not for the policy's obs %d, act %d: ", field,
                              p->cfg.obs_dim, p->cfg.act_dim);
    return 0;
}

/* The net of map m as z: obs+act -> hidden x layers (ReLU) -> 1 per member
 * (linear), built on the first frame (spectral: with spectral norm, whose
 * vectors the caller sets), the same map on later ones; then its params. */
static int load_frozen(pol *p, pp_frame *f, const char *field, const pp_netmap *m, int members,
                       int spectral, frozen *z)
{
    if (!z->ready) {
        size_t want = pp_netmap_mlp_floats(m->obs_dim + m->act_dim, m->hidden, m->layers, 1,
                                           members);
        if (pp_netmap_check_size(f, field, m, want) != 0) return -1;
        int widths[PP_MLP_MAX_LAYERS];
        for (int l = 0; l < m->layers; l++) widths[l] = m->hidden;
        if (pp_mlp_init(&z->net, m->obs_dim + m->act_dim, m->layers, widths, 1, members,
                        PP_ACT_RELU, PP_ACT_LINEAR, spectral, p->rows_q) != 0)
            return pp_fail_prefix("%s: ", field);
        z->spec = *m;
        z->params = pp_xalloc_f32(z->net.nparams);
        z->ready = 1;
    } else if (pp_netmap_check(m, &z->spec, field) != 0) {
        return -1;
    }
    return pp_netmap_read_params(f, field, z->params, z->net.nparams);
}

static int load_q(pol *p, pp_frame *f)
{
    char missing[160];
    snprintf(missing, sizeof missing, "--update %s needs the critic (run parpi-critic before "
             "parpi-policy)", update_names[p->cfg.update]);
    pp_netmap m;
    if (read_map(p, f, "q", "twin-mlp", missing, &m) != 0) return -1;
    return load_frozen(p, f, "q", &m, 2, 0, &p->q);
}

/* BRAC's KL dual critic c(s, a) (parpi-dual): a plain MLP like disc. */
static int load_dual(pol *p, pp_frame *f)
{
    pp_netmap m;
    if (read_map(p, f, "dual", NULL,
                 "--update brac needs the KL dual critic (run parpi-dual before parpi-policy)",
                 &m) != 0)
        return -1;
    const char *dv;
    size_t dlen;
    if (pp_frame_get_str(f, "dual.divergence", &dv, &dlen) != 0) return -1;
    if (dlen != 2 || memcmp(dv, "kl", 2) != 0)
        return pp_fail("dual.divergence is \"%.*s\", expected \"kl\" (the penalty of --update "
                       "brac is the KL dual's term, rl/kl_dual.h)", (int)(dlen < 64 ? dlen : 64), dv);
    return load_frozen(p, f, "dual", &m, 1, 0, &p->dual);
}

static int load_disc(pol *p, pp_frame *f)
{
    pp_netmap m;
    /* parpi-discrim's f is a plain MLP, and its map has no arch */
    if (read_map(p, f, "disc", NULL,
                 "--update parpi needs the discriminator (run parpi-discrim before parpi-policy, "
                 "or use --update sac)", &m) != 0)
        return -1;
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
    if (p->disc.ready && spectral != p->disc_spectral)
        return pp_fail("disc.spectral is %s, expected %s (as on the first frame)",
                       spectral ? "true" : "false", p->disc_spectral ? "true" : "false");
    if (!p->disc.ready) p->disc_spectral = spectral;
    if (load_frozen(p, f, "disc", &m, 1, spectral, &p->disc) != 0) return -1;
    if (spectral && !p->disc_sn) p->disc_sn = pp_xalloc_f32(p->disc.net.sn_state_floats);
    p->disc_div = div;
    if (spectral) {
        int64_t shape[1] = {(int64_t)p->disc.net.sn_state_floats};
        if (pp_frame_read_tensor(f, "disc.sn", PP_F32, 1, shape, p->disc_sn, NULL) != 0 ||
            pp_netmap_check_sn("disc.sn", p->disc_sn, p->disc.net.sn_state_floats,
                               m.obs_dim + m.act_dim, m.hidden, m.layers, 1, 1) != 0)
            return -1;
        pp_mlp_sn_set(&p->disc.net, p->disc_sn, p->disc.params);
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

/* batch.act [B, act_dim], finite, into p->act (bc). */
static int read_act(pol *p, pp_frame *f, int B)
{
    int64_t sh[2] = {B, p->cfg.act_dim};
    if (pp_frame_read_tensor(f, "batch.act", PP_F32, 2, sh, p->act, NULL) != 0 ||
        pp_vec_check_finite(p->act, (size_t)B * p->cfg.act_dim, (size_t)p->cfg.act_dim,
                            "batch.act") != 0)
        return -1;
    return 0;
}

/* Is this step a behaviour-cloning one? --update bc, or inside the warm start
 * (docs/algorithm.md section 14). */
static int bc_step(const pol *p)
{
    return p->cfg.update == UPD_BC ||
           (p->cfg.update != UPD_SVGD && p->steps < (long long)p->cfg.warm_start);
}

/* The frozen networks this step's loss goes through. */
static int load_nets(pol *p, pp_frame *f)
{
    switch (p->cfg.update) {
    case UPD_PARPI: return load_disc(p, f);
    case UPD_BRAC: return load_q(p, f) != 0 || load_dual(p, f) != 0 ? -1 : 0;
    default: return load_q(p, f);
    }
}

static int policy_step(pp_stage *s, pp_frame *f)
{
    pol *p = s->self;
    if (!pp_frame_get(f, "batch")) return p->ready ? write_policy(p, f) : 0;
    int B = 0;
    if (read_obs(p, f, &B) != 0 || check_prior(p) != 0) return -1;
    const int bc = bc_step(p);
    if (bc ? read_act(p, f, B) != 0 : load_nets(p, f) != 0) return -1;

    pp_rng saved = p->rng;
    const double alpha = pp_temperature_alpha(&p->temp);
    size_t n = nparams(p);
    memset(p->grads, 0, sizeof(float) * n);
    double loss = 0.0, extra = 0.0, hmean = 0.0, dnorm = 0.0, mlogp = 0.0, dterm = 0.0, mlogb = 0.0;
    if (bc) {
        /* no noise drawn: a bc step leaves the stream where it was */
        loss = pp_policy_loss_bc(&p->pi, p->params, p->obs, p->act, B, p->cfg.bc_clip, &p->work,
                                 p->grads, &mlogp);
    } else if (is_implicit(p)) {
        pp_implicit_sample(&p->impl, p->params, p->obs, B, p->cfg.particles, &p->rng);
        pp_policy_svgd(&p->impl, p->params, p->obs, B, p->cfg.particles, alpha, p->cfg.squash_corr,
                       &p->q.net, p->q.params, &p->work, p->grads, &extra, &hmean, &dnorm);
    } else {
        pp_policy_sample(&p->pi, p->params, p->obs, B, &p->rng);
        const float *beta_mu = NULL, *beta_std = NULL;
        if (p->cfg.update == UPD_PARPI && p->prior) { /* pi_beta's Gaussian at the batch's states */
            pp_policy *beta = pp_actor_gaussian(p->prior);
            pp_policy_log_prob(beta, pp_actor_params(p->prior), p->obs, p->pi.u, B);
            beta_mu = beta->mu;
            beta_std = beta->std;
        }
        if (p->cfg.update == UPD_PARPI)
            loss = pp_policy_loss_parpi(&p->pi, p->params, p->obs, B, alpha, &p->disc.net,
                                        p->disc.params, p->disc_div, beta_mu, beta_std, &p->work,
                                        p->grads, &extra, &mlogb);
        else if (p->cfg.update == UPD_BRAC)
            loss = pp_policy_loss_brac(&p->pi, p->params, p->obs, B, alpha, p->cfg.penalty,
                                       &p->q.net, p->q.params, &p->dual.net, p->dual.params,
                                       &p->work, p->grads, &extra, &dterm);
        else
            loss = pp_policy_loss_sac(&p->pi, p->params, p->obs, B, alpha, &p->q.net, p->q.params,
                                      &p->work, p->grads, &extra);
        for (int b = 0; b < B; b++) mlogp += p->pi.logp[b];
        mlogp /= B;
    }
    if (!isfinite(loss) || !isfinite(extra) || !isfinite(mlogp) || !isfinite(dterm) ||
        !pp_vec_all_finite(p->grads, n)) {
        p->rng = saved;
        return pp_fail("policy %s is not finite at step %lld (loss %g): params left as they were",
                       isfinite(loss) ? "gradient" : "loss", p->steps, loss);
    }
    double alpha_loss = 0.0;
    if (!is_implicit(p) && !bc) {
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
    if (bc) {
        rc |= pp_frame_set_f64(f, "metrics.policy.loss", loss);
        rc |= pp_frame_set_f64(f, "metrics.policy.bc_logp", mlogp);
    } else if (p->cfg.update == UPD_SVGD) {
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
        if (p->cfg.update == UPD_BRAC) rc |= pp_frame_set_f64(f, "metrics.policy.dual_term", dterm);
        if (p->prior) rc |= pp_frame_set_f64(f, "metrics.policy.prior_logp", mlogb);
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
    if (!k->prior[0]) pp_frame_remove(ck, "config.prior"); /* no key without a prior */
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
    /* a fixed temperature may be 0 (BRAC's default: no entropy term) */
    if (!isfinite(alpha) || alpha < 0.0 || (!fixed && alpha == 0.0))
        return pp_fail("config.alpha is %g, expected > 0 (or >= 0 for a fixed temperature)",
                       alpha);
    /* Built from --obs-dim/--act-dim or --env already: the dims must be the same. */
    if (p->ready && (od != p->cfg.obs_dim || ad != p->cfg.act_dim))
        return pp_fail("the checkpoint has --obs-dim %lld --act-dim %lld, but this stage has "
                       "--obs-dim %d --act-dim %d",
                       od, ad, p->cfg.obs_dim, p->cfg.act_dim);
    policy_config k = p->cfg;
    if (pp_config_load(policy_options, &k, sizeof k, ck, p->given, p->ready) != 0) return -1;
    if (!p->prior && k.prior[0] && k.update == UPD_PARPI &&
        pp_prior_from_file(k.prior, k.max_batch, &p->prior) != 0) /* the checkpoint's --prior */
        return -1;
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
    if (k.update == UPD_SVGD && k.warm_start > 0)
        return pp_fail("--warm-start %d: --update svgd has no warm start", k.warm_start);
    /* The temperature's options, as the table's plain rows: the checkpoint's
     * values unless given again. */
    if (fixed && !was_given(p, "alpha")) k.alpha = alpha;
    if (k.update == UPD_SVGD && fixed && k.alpha == 0.0)
        return pp_fail("--alpha 0: --update svgd needs a temperature > 0");
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
static const char *const policy_reads[] = {"batch", "q", "disc", "dual", NULL};
static const char *const policy_owns[] = {"policy", "alpha", NULL};
static const char *const policy_metrics[] = {"loss", "entropy", "alpha", "alpha_loss", "q_mean", "disc_term", "bandwidth", "direction_norm", "bc_logp", "dual_term", "prior_logp", NULL};

/* The parpi update reads the discriminator, the sac and svgd updates the
 * critic, bc the batch alone, brac the critic and the KL dual critic: a ring
 * drops each field after its real last reader. */
static const char *const *policy_reads_for(int argc, char **argv)
{
    static const char *const parpi_reads[] = {"batch", "disc", NULL};
    static const char *const q_reads[] = {"batch", "q", NULL};
    static const char *const bc_reads[] = {"batch", NULL};
    static const char *const brac_reads[] = {"batch", "q", "dual", NULL};
    policy_config k;
    if (pp_opt_read(policy_options, &k, argc, argv, NULL) != 0) return NULL;
    switch (k.update) {
    case UPD_PARPI: return parpi_reads;
    case UPD_BC: return bc_reads;
    case UPD_BRAC: return brac_reads;
    default: return q_reads;
    }
}

const pp_stage_ops pp_stage_policy = {
    .kind = "policy",
    .reads = policy_reads,
    .owns = policy_owns,
    .metrics = policy_metrics,
    .reads_for = policy_reads_for,
    .summary = "policy update: ParPI through the discriminator, the SAC / SQL (SVGD) baselines, "
               "or offline: behaviour cloning and BRAC's actor",
    .options = policy_options,
    .create = policy_create,
    .step = policy_step,
    .save = policy_save,
    .load = policy_load,
    .destroy = policy_destroy,
    .prime = policy_prime,
};
