/* collect.c - the collector (env, replay, episode accounts) and the ring
 * stage "collect" (see collect.h).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stage/ckpt_state.h"
#include "stage/collect.h"
#include "base/err.h"
#include "base/optarg.h"
#include "stage/stage.h"

const char pp_collect_options_help[] =
    "  --env NAME             task (--list-envs lists them)\n"
    "  --env-options K=V,...  the task's constructor options\n"
    "  --seed N               seed; collect uses stream 5 of it (0)\n"
    "  --replay FILE          the replay buffer's file: loaded if it exists, saved with\n"
    "                         each checkpoint (ring) or at the end and on Ctrl-C (standalone)\n"
    "  --capacity N           replay capacity in transitions (1000000)\n"
    "  --reward-scale X       multiply rewards stored in the replay by X (1)\n"
    "  --log FILE             append one CSV row per finished episode (step,episode,return,length)\n"
    " ring mode (frames on stdin):\n"
    "  --batch-size N         transitions per batch (256)\n"
    "  --learning-starts N    uniform random actions, and no batch, for the first N steps (5000)\n"
    "  --env-steps-per-frame N  env steps per frame (1)\n"
    "  --until N              end the stream once N env steps have gone round (0: never)\n"
    " standalone mode:\n"
    "  --steps N              collect N transitions\n"
    "  --episodes N           collect N whole episodes\n"
    "  --policy FILE          act with the policy in this checkpoint or frame file\n"
    "                         (stochastic; default uniform random actions)\n"
    "  --deterministic        with --policy: the mean action tanh(mu(s))\n"
    "  --out FILE             write the transition stream here instead of stdout\n"
    "  --chunk N              at most N transitions per frame of the stream (1000)\n"
    "  --list-envs            print each task: name, obs dim, act dim, episode limit\n";

enum {
    O_ENV = 256, O_ENV_OPTIONS, O_SEED, O_REPLAY, O_CAPACITY, O_REWARD_SCALE, O_LOG, O_BATCH,
    O_LEARNING_STARTS, O_STEPS_PER_FRAME, O_UNTIL, O_STEPS, O_EPISODES, O_POLICY,
    O_DETERMINISTIC, O_OUT, O_CHUNK, O_LIST_ENVS
};

static int copy_opt(char *dst, size_t cap, const char *opt, const char *v)
{
    if (strlen(v) >= cap) return pp_fail("%s: value too long (%zu bytes at most)", opt, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int count_opt(const char *opt, const char *arg, double lo, double hi, long long *out)
{
    double v;
    if (pp_optarg_double(opt, arg, lo, hi, &v) != 0) return -1;
    if (v != floor(v)) return pp_fail("%s: '%s', expected a whole number", opt, arg);
    *out = (long long)v;
    return 0;
}

int pp_collector_parse(pp_collector *c, int argc, char **argv, int standalone)
{
    static const struct option opts[] = {
        {"env", required_argument, 0, O_ENV},
        {"env-options", required_argument, 0, O_ENV_OPTIONS},
        {"seed", required_argument, 0, O_SEED},
        {"replay", required_argument, 0, O_REPLAY},
        {"capacity", required_argument, 0, O_CAPACITY},
        {"reward-scale", required_argument, 0, O_REWARD_SCALE},
        {"log", required_argument, 0, O_LOG},
        {"batch-size", required_argument, 0, O_BATCH},
        {"learning-starts", required_argument, 0, O_LEARNING_STARTS},
        {"env-steps-per-frame", required_argument, 0, O_STEPS_PER_FRAME},
        {"until", required_argument, 0, O_UNTIL},
        {"steps", required_argument, 0, O_STEPS},
        {"episodes", required_argument, 0, O_EPISODES},
        {"policy", required_argument, 0, O_POLICY},
        {"deterministic", no_argument, 0, O_DETERMINISTIC},
        {"out", required_argument, 0, O_OUT},
        {"chunk", required_argument, 0, O_CHUNK},
        {"list-envs", no_argument, 0, O_LIST_ENVS},
        {0, 0, 0, 0}};
    memset(c, 0, sizeof *c);
    c->batch_size = 256;
    c->steps_per_frame = 1;
    c->learning_starts = 5000;
    c->capacity = PP_REPLAY_DEFAULT_CAPACITY;
    c->reward_scale = 1.0;
    c->chunk = 1000;
    int rc = 0, opt, v;
    long long n;
    double d;
    optind = 0;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        int standalone_only = opt >= O_STEPS && opt <= O_LIST_ENVS;
        if (standalone_only && !standalone)
            return pp_fail("%s is for standalone collection (with --steps or --episodes), not the "
                           "ring", argv[optind - 1]);
        switch (opt) {
        case O_ENV: rc = copy_opt(c->env_name, sizeof c->env_name, "--env", optarg); break;
        case O_ENV_OPTIONS: rc = copy_opt(c->env_options, sizeof c->env_options, "--env-options", optarg); break;
        case O_SEED:
            rc = count_opt("--seed", optarg, 0, 9007199254740992.0, &n);
            c->seed = (unsigned long long)n;
            break;
        case O_REPLAY: rc = copy_opt(c->replay_path, sizeof c->replay_path, "--replay", optarg); break;
        case O_CAPACITY: rc = count_opt("--capacity", optarg, 1, 1e10, &c->capacity); break;
        case O_REWARD_SCALE: rc = pp_optarg_double("--reward-scale", optarg, -1e9, 1e9, &c->reward_scale); break;
        case O_LOG: rc = copy_opt(c->log_path, sizeof c->log_path, "--log", optarg); break;
        case O_BATCH: rc = pp_optarg_int("--batch-size", optarg, 1, 1 << 20, &c->batch_size); break;
        case O_LEARNING_STARTS: rc = count_opt("--learning-starts", optarg, 0, 1e15, &c->learning_starts); break;
        case O_STEPS_PER_FRAME: rc = pp_optarg_int("--env-steps-per-frame", optarg, 1, 1000000, &c->steps_per_frame); break;
        case O_UNTIL: rc = count_opt("--until", optarg, 0, 1e15, &c->until); break;
        case O_STEPS: rc = count_opt("--steps", optarg, 1, 1e15, &c->want_steps); break;
        case O_EPISODES: rc = count_opt("--episodes", optarg, 1, 1e12, &c->want_episodes); break;
        case O_POLICY: rc = copy_opt(c->policy_path, sizeof c->policy_path, "--policy", optarg); break;
        case O_DETERMINISTIC: c->deterministic = 1; break;
        case O_OUT: rc = copy_opt(c->out_path, sizeof c->out_path, "--out", optarg); break;
        case O_CHUNK: rc = pp_optarg_int("--chunk", optarg, 1, 1 << 24, &c->chunk); break;
        case O_LIST_ENVS: c->list_envs = 1; break;
        case ':': rc = pp_optarg_unknown(argv, optind, optopt, 1); break;
        default: rc = pp_optarg_unknown(argv, optind, optopt, 0); break;
        }
    }
    (void)v;
    (void)d;
    if (rc == 0 && optind < argc) rc = pp_fail("unexpected argument '%s'", argv[optind]);
    if (rc == 0 && !c->list_envs && !c->env_name[0])
        rc = pp_fail("--env NAME is required (--list-envs lists the tasks)");
    if (rc == 0 && c->want_steps && c->want_episodes) rc = pp_fail("give --steps or --episodes, not both");
    if (rc == 0 && c->deterministic && !c->policy_path[0])
        rc = pp_fail("--deterministic needs --policy FILE (random actions have no mean)");
    return rc;
}

static void write_log_header(pp_collector *c)
{
    if (!c->log) return;
    fseek(c->log, 0, SEEK_END);
    if (ftell(c->log) == 0) fprintf(c->log, "step,episode,return,length\n");
    fflush(c->log);
}

int pp_collector_open(pp_collector *c)
{
    if (pp_env_create(c->env_name, c->env_options[0] ? c->env_options : NULL, &c->env) != 0)
        return pp_fail_prefix("--env %s: ", c->env_name);
    c->info = pp_env_get_info(c->env);
    const int O = c->info->obs_dim, A = c->info->act_dim;
    pp_rng root, mine;
    pp_rng_seed(&root, c->seed);
    mine = pp_rng_split(&root, PP_STREAM_COLLECT);
    c->env_rng = pp_rng_split(&mine, 1);
    c->act_rng = pp_rng_split(&mine, 2);
    c->batch_rng = pp_rng_split(&mine, 3);
    c->obs = pp_xcalloc((size_t)O, sizeof(double));
    c->next_obs = pp_xcalloc((size_t)O, sizeof(double));
    c->act_env = pp_xcalloc((size_t)A, sizeof(double));
    c->obs_f = pp_xalloc_f32((size_t)O);
    c->act = pp_xalloc_f32((size_t)A);
    if (c->replay_path[0] && access(c->replay_path, F_OK) == 0) {
        if (pp_replay_load(&c->replay, c->replay_path, c->capacity) != 0)
            return pp_fail_prefix("--replay %s: ", c->replay_path);
        if (c->replay->obs_dim != O || c->replay->act_dim != A)
            return pp_fail("--replay %s holds obs %d / act %d transitions, but %s has obs %d / act %d",
                           c->replay_path, c->replay->obs_dim, c->replay->act_dim, c->env_name, O, A);
    } else if (pp_replay_create(&c->replay, c->capacity, O, A) != 0) {
        return -1;
    }
    if (c->log_path[0]) {
        c->log = fopen(c->log_path, "a");
        if (!c->log) return pp_fail("--log %s: %s", c->log_path, strerror(errno));
        write_log_header(c);
    }
    if (pp_env_reset(c->env, &c->env_rng, c->obs) != 0) return pp_fail_prefix("%s reset: ", c->env_name);
    return 0;
}

void pp_collector_close(pp_collector *c)
{
    if (c->log) fclose(c->log);
    c->log = NULL;
    pp_env_free(c->env);
    pp_replay_free(c->replay);
    pp_actor_free(c->actor);
    free(c->obs);
    free(c->next_obs);
    free(c->act_env);
    free(c->obs_f);
    free(c->act);
    c->env = NULL;
    c->replay = NULL;
    c->actor = NULL;
    c->obs = c->next_obs = c->act_env = NULL;
    c->obs_f = c->act = NULL;
}

void pp_collector_random_action(pp_collector *c)
{
    pp_rng_fill_uniform_f32(&c->act_rng, c->act, (size_t)c->info->act_dim, -1.0f, 1.0f);
}

int pp_collector_env_step(pp_collector *c, const float *a)
{
    const int O = c->info->obs_dim;
    pp_env_scale_action(c->info, a, c->act_env);
    if (pp_env_step(c->env, c->act_env, c->next_obs, &c->reward, &c->terminated, &c->truncated) != 0)
        return pp_fail_prefix("%s step: ", c->env_name);
    pp_replay_add_env(c->replay, c->obs, a, c->reward * c->reward_scale, c->next_obs, c->terminated,
                      c->truncated);
    c->ep_return += c->reward;
    c->ep_len++;
    c->step++;
    c->episode_ended = c->terminated || c->truncated;
    if (c->episode_ended) {
        c->episodes++;
        c->last_return = c->ep_return;
        c->last_length = c->ep_len;
        if (c->log) {
            fprintf(c->log, "%lld,%lld,%.9g,%lld\n", c->step, c->episodes, c->ep_return, c->ep_len);
            fflush(c->log);
        }
        c->ep_return = 0;
        c->ep_len = 0;
        /* next_obs keeps the final observation for the caller; obs restarts */
        if (pp_env_reset(c->env, &c->env_rng, c->obs) != 0) return pp_fail_prefix("%s reset: ", c->env_name);
    } else {
        memcpy(c->obs, c->next_obs, (size_t)O * sizeof(double));
    }
    return 0;
}

int pp_collector_save_replay(pp_collector *c)
{
    if (!c->replay_path[0]) return 0;
    if (pp_replay_save(c->replay, c->replay_path) != 0) return pp_fail_prefix("saving --replay %s: ", c->replay_path);
    return 0;
}

/* ---- the ring stage ---- */

extern const pp_stage_ops pp_stage_collect;

static int col_create(int argc, char **argv, pp_stage **out)
{
    *out = NULL;
    pp_collector *c = pp_xcalloc(1, sizeof *c);
    if (pp_collector_parse(c, argc, argv, 0) != 0 || pp_collector_open(c) != 0) {
        pp_collector_close(c);
        free(c);
        return -1;
    }
    pp_stage *s = pp_xcalloc(1, sizeof *s);
    s->ops = &pp_stage_collect;
    s->self = c;
    *out = s;
    return 0;
}

static void col_destroy(pp_stage *s)
{
    pp_collector *c = s->self;
    pp_collector_close(c);
    free(c);
    free(s);
}

static int col_step(pp_stage *s, pp_frame *f)
{
    pp_collector *c = s->self;
    if (c->until > 0 && c->step >= c->until) return 1; /* the last frame has gone round */
    const int O = c->info->obs_dim;
    int use_policy = c->step + c->steps_per_frame > c->learning_starts && pp_frame_get(f, "policy");
    if (use_policy && pp_actor_from_frame(f, "policy", 1, &c->actor) != 0) return -1;
    if (use_policy) {
        const pp_netmap *spec = pp_actor_spec(c->actor);
        if (spec->obs_dim != O || spec->act_dim != c->info->act_dim)
            return pp_fail("policy is for obs %d / act %d, but %s has obs %d / act %d", spec->obs_dim,
                           spec->act_dim, c->env_name, O, c->info->act_dim);
    }
    if (pp_frame_remove(f, "metrics.collect") != 0) return -1;
    int ended = 0;
    double ret = 0;
    long long len = 0;
    for (int k = 0; k < c->steps_per_frame; k++) {
        if (c->until > 0 && c->step >= c->until) break;
        if (use_policy && c->step >= c->learning_starts) {
            for (int i = 0; i < O; i++) c->obs_f[i] = (float)c->obs[i];
            if (pp_actor_act(c->actor, pp_actor_params(c->actor), c->obs_f, 1, c->deterministic,
                             &c->act_rng, c->act) != 0)
                return -1;
        } else {
            pp_collector_random_action(c);
        }
        if (pp_collector_env_step(c, c->act) != 0) return -1;
        if (c->episode_ended) {
            ended = 1;
            ret = c->last_return;
            len = c->last_length;
        }
    }
    int rc = pp_frame_set_i64(f, "step", c->step);
    if (ended) {
        rc |= pp_frame_set_f64(f, "metrics.collect.episode_return", ret);
        rc |= pp_frame_set_f64(f, "metrics.collect.episode_length", (double)len);
    }
    rc |= pp_frame_set_f64(f, "metrics.collect.episodes", (double)c->episodes);
    if (rc) return -1;
    if (c->step >= c->learning_starts && c->replay->size >= c->batch_size) {
        if (pp_replay_sample_to_frame(c->replay, &c->batch_rng, c->batch_size, f, "batch") != 0) return -1;
    } else if (pp_frame_remove(f, "batch") != 0) {
        return -1;
    }
    return 0;
}

static int col_save(pp_stage *s, pp_frame *ck)
{
    pp_collector *c = s->self;
    int rc = 0;
    rc |= pp_frame_set_str(ck, "config.env", c->env_name);
    rc |= pp_frame_set_str(ck, "config.env_options", c->env_options);
    rc |= pp_frame_set_i64(ck, "config.seed", (int64_t)c->seed);
    rc |= pp_frame_set_str(ck, "config.replay", c->replay_path);
    rc |= pp_frame_set_i64(ck, "step", c->step);
    rc |= pp_frame_set_i64(ck, "episodes", c->episodes);
    rc |= pp_frame_set_i64(ck, "replay_size", c->replay->size);
    if (rc) return -1;
    if (pp_ckpt_put_rng(ck, "rng.env", &c->env_rng) != 0 || pp_ckpt_put_rng(ck, "rng.act", &c->act_rng) != 0 ||
        pp_ckpt_put_rng(ck, "rng.batch", &c->batch_rng) != 0)
        return -1;
    /* The replay goes to its own file first, so a checkpoint never names
     * transitions that are not on disk. */
    return pp_collector_save_replay(c);
}

static int col_load(pp_stage *s, pp_frame *ck)
{
    pp_collector *c = s->self;
    const char *env;
    size_t len;
    if (pp_frame_get_str(ck, "config.env", &env, &len) != 0) return -1;
    if (len != strlen(c->env_name) || memcmp(env, c->env_name, len) != 0)
        return pp_fail("checkpoint is for env %.*s, but --env is %s", (int)len, env, c->env_name);
    long long step, episodes;
    if (pp_ckpt_get_int(ck, "step", 0, INT64_MAX, &step) != 0 ||
        pp_ckpt_get_int(ck, "episodes", 0, INT64_MAX, &episodes) != 0)
        return -1;
    if (pp_ckpt_get_rng(ck, "rng.env", &c->env_rng) != 0 || pp_ckpt_get_rng(ck, "rng.act", &c->act_rng) != 0 ||
        pp_ckpt_get_rng(ck, "rng.batch", &c->batch_rng) != 0)
        return -1;
    c->step = step;
    c->episodes = episodes;
    if (c->replay->size == 0 && step > 0)
        fprintf(stderr, "%s: warning: resuming at step %lld with an empty replay buffer (no --replay "
                        "file)\n", pp_progname(), step);
    /* The env's physical state is not in the checkpoint: a resumed run
     * starts a fresh episode. */
    c->ep_return = 0;
    c->ep_len = 0;
    return pp_env_reset(c->env, &c->env_rng, c->obs);
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
static const char *const collect_reads[] = {"policy", NULL};
static const char *const collect_owns[] = {"step", "batch", NULL};
static const char *const collect_metrics[] = {"episode_return", "episode_length", "episodes", NULL};

const pp_stage_ops pp_stage_collect = {
    .kind = "collect",
    .reads = collect_reads,
    .owns = collect_owns,
    .metrics = collect_metrics,
    .summary = "Act in an environment, keep the replay buffer, emit batches (ring mode), or\n"
               "collect transitions on its own (--steps N / --episodes N).",
    .options_help = pp_collect_options_help,
    .create = col_create,
    .step = col_step,
    .save = col_save,
    .load = col_load,
    .destroy = col_destroy,
};
