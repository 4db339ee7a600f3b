/* stage_critic.c - the soft Q update (docs/algorithm.md section 4), stage kind "critic".
 *
 * Twin Q as ONE pp_mlp with members = 2: (obs, act) -> hidden x layers (ReLU)
 * -> 1 per member, so layer 0 of both critics is one wider sgemm. Targets are
 * a second blob run through the same shape, Polyak-averaged every step.
 *
 *   --target sac: a' ~ pi(.|s') (the frame's policy, gaussian-tanh),
 *       y = r + gamma (1 - done) (min_j Qtarg_j(s', a') - alpha log pi(a'|s'))
 *     and with --penalty ALPHA_V > 0, BRAC's value penalty (docs/algorithm.md
 *     section 16): the frame's `penalty` [B] is D(s'), a KL estimate at the
 *     row's next state (parpi-dual writes it), and
 *       y = r + gamma (1 - done) (min_j Qtarg_j(s', a') - alpha log pi(a'|s')
 *                                 - ALPHA_V D(s'))
 *     (done = 1: y = r, no bootstrap and no penalty). --penalty 0 ignores
 *     the field and computes today's target bit for bit.
 *   --target sql: M actions a_m ~ U[-1,1]^d per next state (drawn per state),
 *       V(s') = alpha (logsumexp_m Qtarg(s', a_m)/alpha - log M + d log 2),
 *       Qtarg = min of the twin targets, y = r + gamma (1 - done) V(s')
 *   loss = sum_j mean_b (Q_j(s_b, a_b) - y_b)^2 / 2, one Adam step.
 *
 * alpha is read from the frame (parpi-policy owns it). done is termination
 * only: a time-limit truncation arrives as done = 0 and bootstraps.
 * A frame without `batch` passes through untouched. The batch is checked
 * before any loss (every value finite, done 0 or 1, each refusal naming the
 * element), and the SAC target's policy against the batch's sizes. A
 * non-finite loss or gradient returns -1 with params, targets, Adam and RNG
 * as they were.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/actor.h"
#include "stage/ckpt_state.h"
#include "rl/critic_math.h"
#include "base/err.h"
#include "nn/mlp.h"
#include "nn/netmap.h"
#include "base/opt.h"
#include "stage/stage.h"
#include "stage/stage_config.h"
#include "nn/adam.h"
#include "nn/vec.h"

enum { TARGET_SAC = 0, TARGET_SQL = 1 };
static const char *const target_names[] = {"sac", "sql", NULL};
extern const pp_stage_ops pp_stage_critic;

/* The options (critic_options below). obs_dim and act_dim stay 0 until known:
 * from the options or from the first batch. */
typedef struct {
    int target, particles, hidden, layers, max_batch, obs_dim, act_dim;
    double lr, gamma, tau, penalty;
    unsigned long long seed;
} critic_config;

/* Resume (stage/stage_config.h): the network's shape (target, particles,
 * sizes, max-batch) must match the checkpoint; lr, gamma, tau and seed are
 * the checkpoint's unless given again. The dims are saved by hand
 * (config.obs_dim, config.act_dim): 0 there means "not known yet". */
static const pp_opt critic_options[] = {
    PP_OPT_CHOICE("target", critic_config, target, target_names, "sac",
                  "bootstrap target: SAC's or SQL's soft value", PP_OPT_SHAPE),
    PP_OPT_ROW("value-particles", PP_OPT_T_INT, critic_config, particles, 1, 4096, "16", NULL,
               "M", "uniform actions per next state for --target sql", NULL, PP_OPT_SHAPE),
    PP_OPT_INT("hidden", critic_config, hidden, 1, PP_NETMAP_MAX_DIM, "256",
               "width of each hidden layer", PP_OPT_SHAPE),
    PP_OPT_INT("layers", critic_config, layers, 1, PP_MLP_MAX_LAYERS - 1, "3",
               "number of hidden layers", PP_OPT_SHAPE),
    PP_OPT_DOUBLE("lr", critic_config, lr, 0, 1, "3e-4", "Adam learning rate", 0),
    PP_OPT_DOUBLE("gamma", critic_config, gamma, 0, 1, "0.99", "discount", 0),
    PP_OPT_DOUBLE("tau", critic_config, tau, 0, 1, "0.005",
                  "Polyak rate of the target networks, every step", 0),
    /* NEWKEY: checkpoints from before the option have no config.penalty: 0 */
    PP_OPT_ROW("penalty", PP_OPT_T_DOUBLE, critic_config, penalty, 0, 1e6, "0", NULL, "ALPHA_V",
               "BRAC's value penalty weight: subtract ALPHA_V times the frame's penalty "
               "D(s') from the SAC target (0: off)", NULL, PP_OPT_NEWKEY),
    PP_OPT_INT("max-batch", critic_config, max_batch, 1, 1 << 20, "256",
               "largest batch accepted", PP_OPT_SHAPE),
    PP_OPT_INT("obs-dim", critic_config, obs_dim, 0, PP_NETMAP_MAX_DIM, NULL,
               "observation size (default: from the first batch)", PP_OPT_NOSAVE),
    PP_OPT_INT("act-dim", critic_config, act_dim, 0, PP_NETMAP_MAX_DIM, NULL,
               "action size (default: from the first batch)", PP_OPT_NOSAVE),
    PP_OPT_SEED("seed", critic_config, seed, "seed; the critic uses stream 1 of it", 0),
    PP_OPT_END};

typedef struct {
    critic_config cfg;
    uint64_t given;                /* the rows given to create (pp_opt_parse) */
    /* state */
    int ready;
    pp_mlp q;                      /* online: max_batch rows */
    pp_mlp qt;                     /* targets: max_batch * particles rows (sql) */
    float *params, *targ, *grads;
    pp_adam adam;
    pp_rng rng;
    long long steps;
    /* per-batch buffers, max_batch (times particles where said) rows */
    float *obs, *act, *rew, *next_obs, *done;
    float *pen;                    /* [max_batch]: the frame's penalty, with --penalty */
    float *x;                      /* [max_batch, O + A] */
    float *xt;                     /* [max_batch * particles, O + A] */
    float *unif;                   /* [max_batch * particles, A] */
    float *y, *dy;                 /* [max_batch], [max_batch, 2] */
    pp_actor *actor;               /* sac target: the frame's policy */
} critic;

static int critic_alloc(critic *c)
{
    const int O = c->cfg.obs_dim, A = c->cfg.act_dim, W = O + A;
    const int M = c->cfg.target == TARGET_SQL ? c->cfg.particles : 1;
    int widths[PP_MLP_MAX_LAYERS];
    for (int l = 0; l < c->cfg.layers; l++) widths[l] = c->cfg.hidden;
    if (pp_mlp_init(&c->q, W, c->cfg.layers, widths, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0,
                    c->cfg.max_batch) != 0)
        return pp_fail_prefix("critic network: ");
    if (pp_mlp_init(&c->qt, W, c->cfg.layers, widths, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0,
                    c->cfg.max_batch * M) != 0) {
        pp_mlp_free(&c->q);
        return pp_fail_prefix("critic target network: ");
    }
    size_t n = c->q.nparams, B = (size_t)c->cfg.max_batch;
    c->params = pp_xalloc_f32(n);
    c->targ = pp_xalloc_f32(n);
    c->grads = pp_xalloc_f32(n);
    if (pp_adam_init(&c->adam, n, (float)c->cfg.lr) != 0) return -1;
    c->obs = pp_xalloc_f32(B * O);
    c->act = pp_xalloc_f32(B * A);
    c->rew = pp_xalloc_f32(B);
    c->next_obs = pp_xalloc_f32(B * O);
    c->done = pp_xalloc_f32(B);
    c->pen = pp_xalloc_f32(B);
    c->x = pp_xalloc_f32(B * W);
    c->xt = pp_xalloc_f32(B * M * W);
    c->unif = pp_xalloc_f32(B * M * A);
    c->y = pp_xalloc_f32(B);
    c->dy = pp_xalloc_f32(B * 2);
    /* Initial params from a child stream, so the step stream starts the same
     * whether the dims came from options or from the first batch. */
    pp_rng init = pp_rng_split(&c->rng, PP_STREAM_INIT);
    pp_mlp_init_params(&c->q, c->params, &init);
    memcpy(c->targ, c->params, sizeof(float) * n);
    c->ready = 1;
    return 0;
}

static void critic_destroy(pp_stage *s);

static int critic_create(int argc, char **argv, pp_stage **out)
{
    *out = NULL;
    critic *c = pp_xcalloc(1, sizeof *c);
    critic_config *k = &c->cfg;
    int rc = pp_opt_read(critic_options, k, argc, argv, &c->given);
    if (rc == 0 && (k->obs_dim > 0) != (k->act_dim > 0))
        rc = pp_fail("--obs-dim and --act-dim go together");
    if (rc == 0 && (long long)k->max_batch * k->particles > (1 << 22))
        rc = pp_fail("--max-batch %d times --value-particles %d is too large (at most %d rows)",
                     k->max_batch, k->particles, 1 << 22);
    if (rc == 0 && k->penalty > 0 && k->target != TARGET_SAC)
        rc = pp_fail("--penalty %g goes with --target sac only (BRAC's value penalty is "
                     "subtracted from SAC's target; --target %s has none)",
                     k->penalty, target_names[k->target]);
    c->rng = pp_rng_stream(k->seed, PP_STREAM_CRITIC);
    if (rc == 0 && k->obs_dim > 0) rc = critic_alloc(c);
    pp_stage *s = pp_stage_new(&pp_stage_critic, c);
    return pp_stage_created(s, rc, out);
}

static void critic_destroy(pp_stage *s)
{
    if (!s) return;
    critic *c = s->self;
    if (c->ready) {
        pp_mlp_free(&c->q);
        pp_mlp_free(&c->qt);
        pp_adam_free(&c->adam);
    }
    free(c->params);
    free(c->targ);
    free(c->grads);
    free(c->obs);
    free(c->act);
    free(c->rew);
    free(c->next_obs);
    free(c->done);
    free(c->pen);
    free(c->x);
    free(c->xt);
    free(c->unif);
    free(c->y);
    free(c->dy);
    pp_actor_free(c->actor);
    free(c);
    free(s);
}

/* Read the batch (sizing the critic on the first one); sets *B. */
static int read_batch(critic *c, pp_frame *f, int *Bout)
{
    pp_dtype dt;
    int nd;
    int64_t so[PP_MAX_DIMS], sa[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, "batch.obs", &dt, &nd, so) != 0) return -1;
    if (nd != 2) return pp_fail("batch.obs has %d dimensions, expected 2 ([B, obs_dim])", nd);
    if (pp_frame_get_tensor_info(f, "batch.act", &dt, &nd, sa) != 0) return -1;
    if (nd != 2) return pp_fail("batch.act has %d dimensions, expected 2 ([B, act_dim])", nd);
    if (so[0] < 1 || so[0] > c->cfg.max_batch)
        return pp_fail("batch.obs has %lld rows, expected 1..%d (--max-batch)", (long long)so[0],
                       c->cfg.max_batch);
    if (!c->ready) {
        if (so[1] < 1 || so[1] > PP_NETMAP_MAX_DIM || sa[1] < 1 || sa[1] > PP_NETMAP_MAX_DIM)
            return pp_fail("batch.obs/act widths %lld/%lld, expected 1..%d", (long long)so[1],
                           (long long)sa[1], PP_NETMAP_MAX_DIM);
        c->cfg.obs_dim = (int)so[1];
        c->cfg.act_dim = (int)sa[1];
        if (critic_alloc(c) != 0) return -1;
    }
    const int64_t B = so[0], O = c->cfg.obs_dim, A = c->cfg.act_dim;
    int64_t sh_o[2] = {B, O}, sh_a[2] = {B, A}, sh_1[1] = {B};
    if (pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, sh_o, c->obs, NULL) != 0 ||
        pp_frame_read_tensor(f, "batch.act", PP_F32, 2, sh_a, c->act, NULL) != 0 ||
        pp_frame_read_tensor(f, "batch.rew", PP_F32, 1, sh_1, c->rew, NULL) != 0 ||
        pp_frame_read_tensor(f, "batch.next_obs", PP_F32, 2, sh_o, c->next_obs, NULL) != 0 ||
        pp_frame_read_tensor(f, "batch.done", PP_F32, 1, sh_1, c->done, NULL) != 0)
        return -1;
    /* refused by name before any loss: a NaN would otherwise surface only as
     * "critic loss is nan", and a done of 7 would weigh the bootstrap by -6 */
    if (pp_vec_check_finite(c->obs, (size_t)(B * O), (size_t)O, "batch.obs") != 0 ||
        pp_vec_check_finite(c->act, (size_t)(B * A), (size_t)A, "batch.act") != 0 ||
        pp_vec_check_finite(c->rew, (size_t)B, 0, "batch.rew") != 0 ||
        pp_vec_check_finite(c->next_obs, (size_t)(B * O), (size_t)O, "batch.next_obs") != 0)
        return -1;
    for (int64_t b = 0; b < B; b++)
        if (c->done[b] != 0.0f && c->done[b] != 1.0f)
            return pp_fail("batch.done[%lld] is %g, expected 0 or 1 (1: the episode terminated)",
                           (long long)b, (double)c->done[b]);
    *Bout = (int)B;
    return 0;
}

static void concat_rows(float *x, const float *obs, int O, const float *act, int A, int rows,
                        int per_obs)
{
    for (int r = 0; r < rows; r++) {
        memcpy(x + (size_t)r * (O + A), obs + (size_t)(r / per_obs) * O, sizeof(float) * O);
        memcpy(x + (size_t)r * (O + A) + O, act + (size_t)r * A, sizeof(float) * A);
    }
}

/* With --penalty: the frame's penalty [B] (D(s') per row, parpi-dual's),
 * checked like the batch: its shape, then every value finite, naming the
 * element. D is a dual lower bound of a KL and may be negative. */
static int read_penalty(critic *c, pp_frame *f, int B)
{
    if (!pp_frame_get(f, "penalty"))
        return pp_fail("missing field penalty: --penalty %g subtracts %g D(s') from the target, "
                       "D from the frame's penalty (parpi-dual writes it; docs/algorithm.md "
                       "section 16)",
                       c->cfg.penalty, c->cfg.penalty);
    int64_t sh[1] = {B};
    if (pp_frame_read_tensor(f, "penalty", PP_F32, 1, sh, c->pen, NULL) != 0 ||
        pp_vec_check_finite(c->pen, (size_t)B, 0, "penalty") != 0)
        return -1;
    return 0;
}

/* y for the SAC target (with BRAC's value penalty when --penalty > 0). */
static int sac_targets(critic *c, pp_frame *f, int B, double alpha)
{
    if (!pp_frame_get(f, "policy"))
        return pp_fail("missing field policy: --target sac samples a' from the frame's policy "
                       "(parpi-policy writes it; the ring is primed with parpi-policy --prime)");
    if (pp_actor_from_frame_for(f, "policy", c->cfg.max_batch, c->cfg.obs_dim, c->cfg.act_dim,
                                &c->actor) != 0)
        return pp_fail_prefix("the frame's policy, for --target sac on obs %d, act %d (the "
                              "critic's): ", c->cfg.obs_dim, c->cfg.act_dim);
    const pp_netmap *ps = pp_actor_spec(c->actor);
    pp_policy *pi = pp_actor_gaussian(c->actor);
    if (!pi)
        return pp_fail("policy.arch is \"%s\": --target sac needs log pi, expected \"%s\" "
                       "(use --target sql with the implicit policy)",
                       ps->arch, PP_ARCH_GAUSSIAN_TANH_NAME);
    pp_policy_sample(pi, pp_actor_params(c->actor), c->next_obs, B, &c->rng);
    concat_rows(c->xt, c->next_obs, c->cfg.obs_dim, pi->a, c->cfg.act_dim, B, 1);
    const float *qn = pp_mlp_forward(&c->qt, c->targ, c->xt, B);
    const int pen = c->cfg.penalty > 0;
    pp_sac_targets(c->y, c->rew, c->done, qn, pi->logp, pen ? c->pen : NULL, c->cfg.penalty, B,
                   alpha, c->cfg.gamma);
    return 0;
}

/* y for the SQL soft-value target. */
static void sql_targets(critic *c, int B, double alpha)
{
    const int M = c->cfg.particles, A = c->cfg.act_dim;
    pp_rng_fill_uniform_f32(&c->rng, c->unif, (size_t)B * M * A, -1.0f, 1.0f);
    concat_rows(c->xt, c->next_obs, c->cfg.obs_dim, c->unif, A, B * M, M);
    const float *qn = pp_mlp_forward(&c->qt, c->targ, c->xt, B * M);
    pp_sql_targets(c->y, c->rew, c->done, qn, B, M, A, alpha, c->cfg.gamma);
}

static int critic_step(pp_stage *s, pp_frame *f)
{
    critic *c = s->self;
    if (!pp_frame_get(f, "batch")) return 0; /* warm-up frame: pass through */
    int B = 0;
    if (read_batch(c, f, &B) != 0) return -1;
    double alpha;
    if (pp_frame_get_f64(f, "alpha", &alpha) != 0)
        return pp_fail_prefix("the critic's target needs the temperature: ");
    /* SQL's soft value divides by alpha; SAC's target takes 0 (BRAC's actor
     * has no entropy term: docs/algorithm.md section 14) */
    if (c->cfg.target == TARGET_SQL ? !(alpha > 0.0) : !(alpha >= 0.0) || !isfinite(alpha))
        return pp_fail("alpha is %g, expected %s", alpha, c->cfg.target == TARGET_SQL ? "> 0" : ">= 0");
    if (c->cfg.penalty > 0 && read_penalty(c, f, B) != 0) return -1;

    pp_rng saved = c->rng;
    if (c->cfg.target == TARGET_SAC) {
        if (sac_targets(c, f, B, alpha) != 0) {
            c->rng = saved;
            return -1;
        }
    } else {
        sql_targets(c, B, alpha);
    }

    const int O = c->cfg.obs_dim, A = c->cfg.act_dim;
    concat_rows(c->x, c->obs, O, c->act, A, B, 1);
    size_t n = c->q.nparams;
    memset(c->grads, 0, sizeof(float) * n);
    double q1, q2, ym = 0.0;
    double loss = pp_twin_q_loss(&c->q, c->params, c->x, c->y, B, c->dy, c->grads, &q1, &q2);
    for (int b = 0; b < B; b++) ym += c->y[b];
    if (!isfinite(loss)) {
        c->rng = saved;
        return pp_fail("critic loss is %g at step %lld (targets mean %g): params left as they were",
                       loss, c->steps, ym / B);
    }
    if (!pp_vec_all_finite(c->grads, n)) {
        c->rng = saved;
        return pp_fail("critic gradient is not finite at step %lld: params left as they were",
                       c->steps);
    }
    pp_adam_step_polyak(&c->adam, c->params, c->grads, c->targ, (float)c->cfg.tau);
    c->steps++;

    pp_netmap m = {.arch = "twin-mlp", .obs_dim = O, .act_dim = A, .hidden = c->cfg.hidden,
                   .layers = c->cfg.layers};
    if (pp_netmap_write(f, "q", &m, c->params, n) != 0 ||
        pp_frame_set_f64(f, "metrics.critic.q_loss", loss) != 0 ||
        pp_frame_set_f64(f, "metrics.critic.q1_mean", q1) != 0 ||
        pp_frame_set_f64(f, "metrics.critic.q2_mean", q2) != 0 ||
        pp_frame_set_f64(f, "metrics.critic.target_mean", ym / B) != 0)
        return -1;
    if (c->cfg.penalty > 0) { /* mean alpha_v D(s') over the batch, done rows too */
        double pm = 0.0;
        for (int b = 0; b < B; b++) pm += c->cfg.penalty * (double)c->pen[b];
        if (pp_frame_set_f64(f, "metrics.critic.penalty_mean", pm / B) != 0) return -1;
    }
    return 0;
}

static int critic_save(pp_stage *s, pp_frame *ck)
{
    critic *c = s->self;
    if (pp_config_save(critic_options, &c->cfg, ck) != 0 ||
        pp_frame_set_i64(ck, "config.obs_dim", c->ready ? c->cfg.obs_dim : 0) != 0 ||
        pp_frame_set_i64(ck, "config.act_dim", c->ready ? c->cfg.act_dim : 0) != 0 ||
        pp_frame_set_i64(ck, "steps", c->steps) != 0 || pp_ckpt_put_rng(ck, "rng", &c->rng) != 0)
        return -1;
    if (!c->ready) return 0;
    size_t n = c->q.nparams;
    if (pp_ckpt_put_blob(ck, "params", c->params, n) != 0 ||
        pp_ckpt_put_blob(ck, "target_params", c->targ, n) != 0 ||
        pp_ckpt_put_adam(ck, "adam", &c->adam) != 0)
        return -1;
    return 0;
}

static int critic_load(pp_stage *s, pp_frame *ck)
{
    critic *c = s->self;
    long long od, ad, steps;
    pp_rng rng;
    if (pp_ckpt_get_int(ck, "config.obs_dim", 0, PP_NETMAP_MAX_DIM, &od) != 0 ||
        pp_ckpt_get_int(ck, "config.act_dim", 0, PP_NETMAP_MAX_DIM, &ad) != 0 ||
        pp_ckpt_get_int(ck, "steps", 0, (long long)1 << 62, &steps) != 0 ||
        pp_ckpt_get_rng(ck, "rng", &rng) != 0)
        return -1;
    /* Built from --obs-dim/--act-dim already: the dims must be the same. */
    if (c->ready && (od != c->cfg.obs_dim || ad != c->cfg.act_dim))
        return pp_fail("the checkpoint has --obs-dim %lld --act-dim %lld, but this stage has "
                       "--obs-dim %d --act-dim %d",
                       od, ad, c->cfg.obs_dim, c->cfg.act_dim);
    critic_config before = c->cfg;
    if (pp_config_load(critic_options, &c->cfg, sizeof c->cfg, ck, c->given, c->ready) != 0)
        return -1;
    if (c->cfg.penalty > 0 && c->cfg.target != TARGET_SAC) { /* --penalty given to an sql run */
        double pen = c->cfg.penalty;
        c->cfg = before;
        return pp_fail("--penalty %g goes with --target sac only, but the checkpoint has "
                       "--target %s", pen, target_names[TARGET_SQL]);
    }
    c->steps = steps;
    c->rng = rng;
    if (od == 0) return 0; /* saved before the first batch */
    if (!c->ready) {
        c->cfg.obs_dim = (int)od;
        c->cfg.act_dim = (int)ad;
        if (critic_alloc(c) != 0) return -1;
    }
    c->adam.lr = (float)c->cfg.lr;
    size_t n = c->q.nparams;
    if (pp_ckpt_get_blob(ck, "params", c->params, n) != 0 ||
        pp_ckpt_get_blob(ck, "target_params", c->targ, n) != 0 ||
        pp_ckpt_get_adam(ck, "adam", &c->adam) != 0)
        return -1;
    return 0;
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
static const char *const critic_reads[] = {"batch", "alpha", "policy", "penalty", NULL};
static const char *const critic_owns[] = {"q", NULL};
static const char *const critic_metrics[] = {"q_loss", "q1_mean", "q2_mean", "target_mean",
                                             "penalty_mean", NULL};

/* The SAC target samples a' from the frame's policy; SQL's soft value does not.
 * penalty (parpi-dual's) only with --penalty > 0, so a ring without the dual
 * stage carries nothing new. */
static const char *const *critic_reads_for(int argc, char **argv)
{
    static const char *const sql_reads[] = {"batch", "alpha", NULL};
    static const char *const sac_reads[] = {"batch", "alpha", "policy", NULL};
    critic_config k;
    if (pp_opt_read(critic_options, &k, argc, argv, NULL) != 0) return NULL;
    if (k.target == TARGET_SQL) return sql_reads;
    return k.penalty > 0 ? critic_reads : sac_reads;
}

const pp_stage_ops pp_stage_critic = {
    .kind = "critic",
    .reads = critic_reads,
    .owns = critic_owns,
    .metrics = critic_metrics,
    .reads_for = critic_reads_for,
    .summary = "soft Q update of twin critics (SAC or SQL target), Polyak targets",
    .options = critic_options,
    .create = critic_create,
    .step = critic_step,
    .save = critic_save,
    .load = critic_load,
    .destroy = critic_destroy,
};
