/* collect.c - the collector (env, replay, episode accounts) and the ring
 * stage "collect" (see collect.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage/ckpt_state.h"
#include "stage/collect.h"
#include "stage/csv_log.h"
#include "base/err.h"
#include "base/opt.h"
#include "stage/stage.h"
#include "stage/stage_config.h"

/* The options. Rows whose config.<key> a checkpoint holds: env and
 * env-options (the task: the env, the replay and the episode log are built
 * by create, before any --resume, so a checkpoint of another task is refused),
 * seed (its random streams come back from the checkpoint; the seed itself is
 * the checkpoint's unless given) and replay (the file named now is the one
 * read and written). The other rows are not saved: their value on resume is
 * the command line's (or the default). Checkpoints written before the table
 * hold the same four keys. */
#define STR_(x) #x
#define STR(x) STR_(x)
const pp_opt pp_collect_options[] = {
    PP_OPT_STRING("env", pp_collector, env_name, "NAME", NULL,
                  "task (--list-envs lists them); required", PP_OPT_SHAPE),
    PP_OPT_STRING("env-options", pp_collector, env_options, "K=V,...", NULL,
                  "the task's constructor options", PP_OPT_SHAPE),
    PP_OPT_SEED("seed", pp_collector, seed, "seed; collect uses stream 5 of it", 0),
    PP_OPT_STRING("replay", pp_collector, replay_path, "FILE", NULL,
                  "replay file: read if it exists, saved with checkpoints and at the end",
                  PP_OPT_KEEP),
    PP_OPT_STRING("dataset", pp_collector, dataset_path, "FILE", NULL,
                  "ring, offline: batches from this data set (parpi-dataset(1)) or replay file; no env steps",
                  PP_OPT_KEEP),
    PP_OPT_COUNT("capacity", pp_collector, capacity, 1, 1e10, STR(PP_REPLAY_DEFAULT_CAPACITY),
                 "replay capacity in transitions", PP_OPT_NOSAVE),
    PP_OPT_DOUBLE("reward-scale", pp_collector, reward_scale, -1e9, 1e9, "1",
                  "multiply rewards stored in the replay by X", PP_OPT_NOSAVE),
    PP_OPT_STRING("log", pp_collector, log_path, "FILE", NULL,
                  "append a CSV row per episode: step,episode,return,length",
                  PP_OPT_NOSAVE),
    PP_OPT_INT("batch-size", pp_collector, batch_size, 1, 1 << 20, "256",
               "ring: transitions per batch", PP_OPT_NOSAVE),
    PP_OPT_COUNT("learning-starts", pp_collector, learning_starts, 0, 1e15, "5000",
                 "ring: random actions, no batch, for the first N steps", PP_OPT_NOSAVE),
    PP_OPT_INT("env-steps-per-frame", pp_collector, steps_per_frame, 1, 1000000, "1",
               "ring: env steps per frame", PP_OPT_NOSAVE),
    PP_OPT_COUNT("until", pp_collector, until, 0, 1e15, "0",
                 "ring: stop after N env steps; 0: never",
                 PP_OPT_NOSAVE),
    PP_OPT_END};

/* The standalone program's own rows (with the ring's, which it also takes).
 * --steps and --episodes have no default: 0 until given. */
const pp_opt pp_collect_standalone_options[] = {
    PP_OPT_COUNT("steps", pp_collector, want_steps, 1, 1e15, NULL, "collect N transitions",
                 PP_OPT_NOSAVE),
    PP_OPT_COUNT("episodes", pp_collector, want_episodes, 1, 1e12, NULL, "collect N whole episodes",
                 PP_OPT_NOSAVE),
    PP_OPT_STRING("policy", pp_collector, policy_path, "FILE", NULL,
                  "act with this checkpoint's policy (default: random)",
                  PP_OPT_NOSAVE),
    PP_OPT_FLAG("deterministic", pp_collector, deterministic, "with --policy: the mean action, not a sample",
                PP_OPT_NOSAVE),
    PP_OPT_STRING("out", pp_collector, out_path, "FILE", NULL,
                  "the transition stream (default: stdout)", PP_OPT_NOSAVE),
    PP_OPT_INT("chunk", pp_collector, chunk, 1, 1 << 24, "1000",
               "at most N transitions per frame of the stream", PP_OPT_NOSAVE),
    PP_OPT_FLAG("list-envs", pp_collector, list_envs,
                "list the tasks: name, obs, act, episode limit", PP_OPT_NOSAVE),
    PP_OPT_END};

void pp_collect_help(FILE *out)
{
    pp_opt_help(pp_collect_options, out);
    fputs(" standalone mode (--steps N or --episodes N):\n", out);
    pp_opt_help(pp_collect_standalone_options, out);
}

int pp_collector_parse(pp_collector *c, int argc, char **argv, int standalone)
{
    /* One table: the ring's rows first (so bit i of the given mask is row i
     * of pp_collect_options, as collect_load needs), then the standalone
     * program's. */
    pp_opt all[PP_OPT_MAX_ROWS + 1], zero[PP_OPT_MAX_ROWS + 1];
    size_t nring;
    if (pp_opt_concat(all, pp_collect_options, pp_collect_standalone_options, &nring) != 0) return -1;
    const size_t nall = pp_opt_rows(all);
    /* a count without a default (--steps) starts at 0, below its range */
    memcpy(zero, all, (nall + 1) * sizeof *all);
    for (size_t i = 0; i < nall; i++)
        if (!zero[i].def && (zero[i].type == PP_OPT_T_INT || zero[i].type == PP_OPT_T_COUNT)) zero[i].lo = 0;
    memset(c, 0, sizeof *c);
    uint64_t given = 0;
    if (pp_opt_defaults(zero, c) != 0 || pp_opt_parse(all, c, argc, argv, &given) != 0) return -1;
    c->given = given & (((uint64_t)1 << nring) - 1);
    if (!standalone)
        for (size_t i = nring; i < nall; i++)
            if ((given >> i) & 1)
                return pp_fail("--%s is for standalone collection (with --steps or --episodes), "
                               "not the ring", all[i].name);
    if (!c->list_envs && !c->env_name[0])
        return pp_fail("--env NAME is required (--list-envs lists the tasks)");
    if (c->want_steps && c->want_episodes) return pp_fail("give --steps or --episodes, not both");
    if (c->dataset_path[0] && standalone)
        return pp_fail("--dataset is for the ring (offline batches), not standalone collection");
    if (c->dataset_path[0] && c->replay_path[0])
        return pp_fail("give --dataset or --replay, not both (a data set is read, never written)");
    if (c->deterministic && !c->policy_path[0])
        return pp_fail("--deterministic needs --policy FILE (random actions have no mean)");
    return 0;
}

static int log_error(const pp_collector *c, int err)
{
    return pp_fail("writing --log %s: %s", c->log_path, strerror(err ? err : EIO));
}

/* The episode log is appended to: it starts with the header unless it is a
 * file with rows already; a row that an earlier run left unfinished (a full
 * disk) is ended, so that the next one starts on its own line. */
static int open_log(pp_collector *c)
{
    c->log = fopen(c->log_path, "a");
    if (!c->log) return pp_fail("--log %s: %s", c->log_path, strerror(errno));
    struct stat st;
    int last = EOF;
    if (fstat(fileno(c->log), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        FILE *in = fopen(c->log_path, "r");
        last = '\n';
        if (in && fseek(in, -1, SEEK_END) == 0) {
            int ch = fgetc(in);
            if (ch != EOF) last = ch;
        }
        if (in) fclose(in);
    }
    errno = 0;
    if (last == EOF) fputs("step,episode,return,length\n", c->log);
    else if (last != '\n') fputc('\n', c->log);
    if (fflush(c->log) != 0 || ferror(c->log)) return log_error(c, errno);
    return 0;
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
    if (c->dataset_path[0]) {
        if (pp_replay_load(&c->replay, c->dataset_path, 0) != 0) return pp_fail_prefix("--dataset %s: ", c->dataset_path);
        if (c->replay->obs_dim != O || c->replay->act_dim != A)
            return pp_fail("--dataset %s holds obs %d / act %d transitions, but %s has obs %d / act %d",
                           c->dataset_path, c->replay->obs_dim, c->replay->act_dim, c->env_name, O, A);
        if (c->replay->size < c->batch_size)
            return pp_fail("--dataset %s has %lld rows, fewer than --batch-size %d", c->dataset_path,
                           (long long)c->replay->size, c->batch_size);
    }
    /* before the work: a torn save's temporaries go; a test write */
    if (c->replay_path[0] && pp_frame_prepare_save(c->replay_path) != 0) return pp_fail_prefix("--replay: ");
    if (c->dataset_path[0]) {
        /* the replay is the data set's (above) */
    } else if (c->replay_path[0] && access(c->replay_path, F_OK) == 0) {
        if (pp_replay_load(&c->replay, c->replay_path, c->capacity) != 0)
            return pp_fail_prefix("--replay %s: ", c->replay_path);
        if (c->replay->obs_dim != O || c->replay->act_dim != A)
            return pp_fail("--replay %s holds obs %d / act %d transitions, but %s has obs %d / act %d",
                           c->replay_path, c->replay->obs_dim, c->replay->act_dim, c->env_name, O, A);
    } else if (pp_replay_create(&c->replay, c->capacity, O, A) != 0) {
        return pp_fail_prefix("--capacity %lld: ", (long long)c->capacity);
    }
    if (c->log_path[0] && open_log(c) != 0) return -1;
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
            errno = 0;
            fprintf(c->log, "%lld,%lld,%.9g,%lld\n", c->step, c->episodes, c->ep_return, c->ep_len);
            if (fflush(c->log) != 0 || ferror(c->log)) return log_error(c, errno);
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

static void collect_destroy(pp_stage *s)
{
    pp_collector *c = s->self;
    pp_collector_close(c);
    free(c);
    free(s);
}

static int collect_create(int argc, char **argv, pp_stage **out)
{
    *out = NULL;
    pp_collector *c = pp_xcalloc(1, sizeof *c);
    pp_stage *s = pp_stage_new(&pp_stage_collect, c);
    if (pp_collector_parse(c, argc, argv, 0) != 0 || pp_collector_open(c) != 0) {
        collect_destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Past --learning-starts the frame has no policy to act with. parpi-policy
 * writes policy and alpha on every frame of a ring, from --prime on
 * (parpi-frame(5)): a frame with alpha but no policy, or after frames that
 * had one, comes from a ring that lost it (a stage or --drop upstream), an
 * error: a ring whose critic does not read the policy (--target sql) would
 * not notice otherwise, and one that lost alpha too stops at the critic. A
 * stream that never carried either (plain transitions, as 0.1.0 took them)
 * still gets uniform random actions, with one warning on stderr. */
static int no_policy(pp_collector *c, pp_frame *f)
{
    if (c->policy_seen || pp_frame_get(f, "alpha"))
        return pp_fail("missing field policy at step %lld, past --learning-starts %lld (%s: a "
                       "stage or --drop upstream removed it)", c->step + 1, c->learning_starts,
                       c->policy_seen ? "earlier frames carried one" : "the frame has alpha, "
                                                                        "which comes with it");
    if (!c->warned_no_policy)
        fprintf(stderr, "%s: warning: step %lld is past --learning-starts %lld, but the frames "
                        "carry no policy: the actions stay uniform random (a ring starts with "
                        "parpi-policy --prime)\n", pp_progname(), c->step + 1, c->learning_starts);
    c->warned_no_policy = 1;
    return 0;
}

/* Offline: one gradient step, a fresh batch from the data set. */
static int offline_step(pp_collector *c, pp_frame *f)
{
    c->step++;
    if (pp_frame_remove(f, "metrics.collect") != 0 || pp_frame_set_i64(f, "step", c->step) != 0) return -1;
    return pp_replay_sample_to_frame(c->replay, &c->batch_rng, c->batch_size, f, "batch");
}

static int collect_step(pp_stage *s, pp_frame *f)
{
    pp_collector *c = s->self;
    if (c->until > 0 && c->step >= c->until) return 1; /* the last frame has gone round */
    if (c->dataset_path[0]) return offline_step(c, f);
    const int O = c->info->obs_dim;
    int has_policy = pp_frame_get(f, "policy") != NULL;
    int use_policy = c->step + c->steps_per_frame > c->learning_starts && has_policy;
    if (c->step + c->steps_per_frame > c->learning_starts && !has_policy && no_policy(c, f) != 0)
        return -1;
    if (use_policy &&
        pp_actor_from_frame_for(f, "policy", 1, O, c->info->act_dim, &c->actor) != 0)
        return pp_fail_prefix("the frame's policy, to act in --env %s (obs %d, act %d): ",
                              c->env_name, O, c->info->act_dim);
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
    if (has_policy) c->policy_seen = 1;
    return 0;
}

/* The replay buffer of a snapshot, beside its checkpoint. */
#define SNAPSHOT_REPLAY "replay.mp"

static int collect_save(pp_stage *s, pp_frame *ck)
{
    pp_collector *c = s->self;
    int rc = pp_config_save(pp_collect_options, c, ck);
    rc |= pp_frame_set_i64(ck, "step", c->step);
    rc |= pp_frame_set_i64(ck, "episodes", c->episodes);
    rc |= pp_frame_set_i64(ck, "replay_size", c->replay->size);
    rc |= pp_frame_set_i64(ck, "replay_added", c->replay->added);
    if (rc) return -1;
    if (pp_ckpt_put_rng(ck, "rng.env", &c->env_rng) != 0 || pp_ckpt_put_rng(ck, "rng.act", &c->act_rng) != 0 ||
        pp_ckpt_put_rng(ck, "rng.batch", &c->batch_rng) != 0)
        return -1;
    /* offline: the data set is read again on resume, never written */
    if (c->dataset_path[0]) return pp_frame_set_bool(ck, "offline", true);
    /* The episode in progress: the env's state, the observation the next
     * action sees, and the episode's accounts, so that a resumed run goes on
     * with it as if never stopped. */
    size_t n = pp_env_state_size(c->env);
    double *state = pp_xcalloc(n, sizeof *state);
    pp_env_get_state(c->env, state);
    int64_t shape_state[1] = {(int64_t)n}, shape_obs[1] = {c->info->obs_dim};
    rc = pp_frame_put_tensor(ck, "episode.env_state", PP_F64, 1, shape_state, state);
    free(state);
    rc |= pp_frame_put_tensor(ck, "episode.obs", PP_F64, 1, shape_obs, c->obs);
    rc |= pp_frame_set_f64(ck, "episode.return", c->ep_return);
    rc |= pp_frame_set_i64(ck, "episode.length", c->ep_len);
    if (rc) return -1;
    /* The replay goes to its own file first, so a checkpoint never names
     * transitions that are not on disk: in a snapshot, beside the checkpoint
     * (named by replay_file); else to --replay. */
    if (s->snapshot_dir) {
        char path[PP_COLLECT_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", s->snapshot_dir, SNAPSHOT_REPLAY);
        if (pp_frame_set_str(ck, "replay_file", SNAPSHOT_REPLAY) != 0) return -1;
        if (pp_replay_save(c->replay, path) != 0) return pp_fail_prefix("saving the replay buffer %s: ", path);
        return 0;
    }
    return pp_collector_save_replay(c);
}

/* The replay buffer a checkpoint names (replay_file, beside it): into *out,
 * checked against the task and against the checkpoint's counts. */
static int load_snapshot_replay(pp_stage *s, pp_frame *ck, long long step, pp_replay **out)
{
    pp_collector *c = s->self;
    const char *name;
    size_t len;
    long long size, added;
    if (pp_frame_get_str(ck, "replay_file", &name, &len) != 0 ||
        pp_ckpt_get_int(ck, "replay_size", 0, INT64_MAX, &size) != 0 ||
        pp_ckpt_get_int(ck, "replay_added", 0, INT64_MAX, &added) != 0)
        return -1;
    if (len == 0 || len > 255 || memchr(name, '/', len))
        return pp_fail("replay_file is \"%.*s\", expected a file name", (int)(len > 64 ? 64 : len), name);
    if (!s->snapshot_dir) return pp_fail("the checkpoint names its replay buffer, but not where it lies");
    char path[PP_COLLECT_PATH_MAX];
    snprintf(path, sizeof path, "%s/%.*s", s->snapshot_dir, (int)len, name);
    if (pp_replay_load(out, path, c->capacity) != 0) return -1;
    const pp_replay *r = *out;
    if (r->obs_dim != c->info->obs_dim || r->act_dim != c->info->act_dim)
        return pp_fail("%s holds obs %d / act %d transitions, but %s has obs %d / act %d", path, r->obs_dim,
                       r->act_dim, c->env_name, c->info->obs_dim, c->info->act_dim);
    if (r->added != added || r->size != size)
        return pp_fail("%s holds %lld transitions (%lld added), but the checkpoint at step %lld says %lld (%lld "
                       "added): they are not of one snapshot",
                       path, (long long)r->size, (long long)r->added, step, size, added);
    return 0;
}

/* The episode in progress (episode.*), into the env and the buffers given;
 * 0 if the checkpoint has none (written before parpi kept it). */
static int load_episode(pp_collector *c, pp_frame *ck, double *obs, double *ret, long long *len)
{
    if (!pp_frame_get(ck, "episode")) return 0;
    size_t n = pp_env_state_size(c->env);
    int64_t shape[1] = {(int64_t)n}, shape_obs[1] = {c->info->obs_dim};
    double *state = pp_xcalloc(n, sizeof *state);
    int rc = pp_frame_read_tensor(ck, "episode.env_state", PP_F64, 1, shape, state, NULL);
    if (rc == 0) rc = pp_frame_read_tensor(ck, "episode.obs", PP_F64, 1, shape_obs, obs, NULL);
    if (rc == 0) rc = pp_frame_get_f64(ck, "episode.return", ret);
    if (rc == 0) rc = pp_ckpt_get_int(ck, "episode.length", 0, c->info->max_steps, len);
    for (int i = 0; rc == 0 && i < c->info->obs_dim; i++)
        if (!isfinite(obs[i])) rc = pp_fail("episode.obs[%d] is %g, expected a finite number", i, obs[i]);
    if (rc == 0 && !isfinite(*ret)) rc = pp_fail("episode.return is %g, expected a finite number", *ret);
    if (rc == 0) rc = pp_env_set_state(c->env, state, n);
    free(state);
    return rc == 0 ? 1 : pp_fail_prefix("episode: ");
}

static int collect_load(pp_stage *s, pp_frame *ck)
{
    pp_collector *c = s->self;
    /* the env, the replay and the log are built: the task must be the checkpoint's */
    pp_collector saved = *c;
    if (pp_config_load(pp_collect_options, c, sizeof *c, ck, c->given, 1) != 0) return -1;
    long long step, episodes, len = 0;
    double ret = 0;
    pp_rng env_rng, act_rng, batch_rng;
    pp_replay *replay = NULL;
    double *obs = pp_xcalloc((size_t)c->info->obs_dim, sizeof *obs);
    int rc = 0;
    if (pp_ckpt_get_int(ck, "step", 0, INT64_MAX, &step) != 0 ||
        pp_ckpt_get_int(ck, "episodes", 0, INT64_MAX, &episodes) != 0 ||
        pp_ckpt_get_rng(ck, "rng.env", &env_rng) != 0 || pp_ckpt_get_rng(ck, "rng.act", &act_rng) != 0 ||
        pp_ckpt_get_rng(ck, "rng.batch", &batch_rng) != 0)
        rc = -1;
    if (rc == 0 && c->dataset_path[0] && !pp_frame_get(ck, "offline"))
        rc = pp_fail("the checkpoint is of an online run, not of --dataset %s", c->dataset_path);
    if (rc == 0 && !c->dataset_path[0] && pp_frame_get(ck, "offline"))
        rc = pp_fail("the checkpoint is of an offline run: resume it with its --dataset FILE");
    if (rc == 0 && c->dataset_path[0]) {
        long long size;
        if (pp_ckpt_get_int(ck, "replay_size", 0, INT64_MAX, &size) != 0) rc = -1;
        else if (size != c->replay->size)
            rc = pp_fail("--dataset %s has %lld rows, the checkpoint's data set had %lld", c->dataset_path,
                         (long long)c->replay->size, size);
        if (rc == 0) {
            free(obs);
            c->batch_rng = batch_rng;
            c->step = step;
            return 0;
        }
    }
    if (rc == 0 && pp_frame_get(ck, "replay_file")) rc = load_snapshot_replay(s, ck, step, &replay);
    /* the env goes last: a failure before leaves the collector as it was */
    int episode = rc == 0 ? load_episode(c, ck, obs, &ret, &len) : -1;
    if (rc != 0 || episode < 0) {
        pp_replay_free(replay);
        free(obs);
        *c = saved;
        return -1;
    }
    c->env_rng = env_rng;
    c->act_rng = act_rng;
    c->batch_rng = batch_rng;
    c->step = step;
    c->episodes = episodes;
    if (replay) {
        pp_replay_free(c->replay);
        c->replay = replay;
    }
    if (c->replay->size == 0 && step > 0)
        fprintf(stderr, "%s: warning: resuming at step %lld with an empty replay buffer (no --replay "
                        "file)\n", pp_progname(), step);
    /* The episode log keeps its rows up to the checkpoint's step: the ones
     * after it are written again. */
    if (c->log && pp_csv_cut(c->log, c->log_path, step, NULL) != 0) {
        free(obs);
        return pp_fail_prefix("--log: ");
    }
    if (episode) {
        memcpy(c->obs, obs, (size_t)c->info->obs_dim * sizeof *obs);
        c->ep_return = ret;
        c->ep_len = len;
        free(obs);
        return 0;
    }
    free(obs);
    /* A checkpoint of parpi 0.1 holds no episode: a fresh one starts. */
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
    .options = pp_collect_options,
    .create = collect_create,
    .step = collect_step,
    .save = collect_save,
    .load = collect_load,
    .destroy = collect_destroy,
};
