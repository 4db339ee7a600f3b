/* collect.h - parpi-collect: act in an environment and keep the replay buffer.
 *
 * Two modes, one collector object:
 *  - ring (filter) mode, the stage "collect" (pp_stage_collect): for each
 *    frame coming back round it takes the frame's newest `policy`, steps the
 *    env (--env-steps-per-frame times; uniform random actions for the first
 *    --learning-starts steps), stores the transitions, and writes the frame
 *    on with `step` and a fresh uniform `batch` of --batch-size from the
 *    replay (absent while warming up). metrics.collect.episode_return and
 *    episode_length appear on the frame where an episode ended. With --until
 *    N the stream ends once N steps have gone round (the stage's step returns
 *    1), which is how parpi-train ends a ring.
 *    With --dataset FILE (offline) the replay holds the data set's rows, no
 *    env step is taken and no policy read: each frame is one gradient step
 *    (`step` counts them) with a fresh batch; --until N ends the stream.
 *  - standalone (cmd/parpi-collect.c, --steps N or --episodes N): random actions
 *    or a policy checkpoint (--policy, stochastic unless --deterministic);
 *    transitions as a frame stream (one frame per episode, D4RL names) on
 *    stdout or --out, and/or appended to a replay file (--replay).
 *
 * Seeds: stream 5 of --seed; its children 1 (env resets), 2 (actions),
 * 3 (batches). Same seed, same flags: the same transitions, byte for byte.
 */
#ifndef PP_COLLECT_H
#define PP_COLLECT_H

#include <stdint.h>
#include <stdio.h>

#include "base/opt.h"
#include "rl/actor.h"
#include "env/env.h"
#include "frame/frame.h"
#include "data/replay.h"
#include "base/rng.h"

#define PP_COLLECT_PATH_MAX 4096

typedef struct {
    /* options: the rows of pp_collect_options and pp_collect_standalone_options */
    char env_name[64], env_options[512];
    unsigned long long seed;
    int batch_size, steps_per_frame, deterministic;
    long long learning_starts, until, capacity;
    double reward_scale;
    char replay_path[PP_COLLECT_PATH_MAX], log_path[PP_COLLECT_PATH_MAX], policy_path[PP_COLLECT_PATH_MAX],
        out_path[PP_COLLECT_PATH_MAX], dataset_path[PP_COLLECT_PATH_MAX];
    long long want_steps, want_episodes; /* standalone */
    int list_envs, chunk;
    uint64_t given;       /* the rows of pp_collect_options given (pp_opt_parse) */
    /* state */
    pp_env *env;
    const pp_env_info *info;
    pp_rng env_rng, act_rng, batch_rng;
    pp_replay *replay;
    pp_actor *actor;
    double *obs, *next_obs, *act_env;
    float *obs_f, *act;
    long long step, episodes;
    double ep_return;     /* unscaled */
    long long ep_len;
    FILE *log;
    /* the last env_step */
    double reward;
    int terminated, truncated, episode_ended;
    double last_return;
    long long last_length;
    /* ring: a frame has carried a policy; the warning of a stream without one */
    int policy_seen, warned_no_policy;
} pp_collector;

/* The options (base/opt.h; fields of pp_collector): those of the ring stage
 * (pp_stage_collect.options), which the standalone program takes too, and the
 * standalone program's own (--steps, --episodes, --policy, --deterministic,
 * --out, --chunk, --list-envs). */
extern const pp_opt pp_collect_options[];
extern const pp_opt pp_collect_standalone_options[];
/* Both tables as parpi-collect --help lists them. */
void pp_collect_help(FILE *out);

/* Parse the options of both tables (argv[0] ignored) into c, which is
 * cleared first. Not standalone: a standalone-only option is an error.
 * -1 on a usage error. */
int pp_collector_parse(pp_collector *c, int argc, char **argv, int standalone);
/* Make the env, the rng streams, the replay (loading --replay if it exists),
 * the episode log; reset the env. */
int pp_collector_open(pp_collector *c);
void pp_collector_close(pp_collector *c);
/* One env step with action a in [-1,1]^d (policy space): stores the
 * transition, keeps the episode accounts, resets at an episode's end. */
int pp_collector_env_step(pp_collector *c, const float *a);
/* Draw a uniform random action into c->act. */
void pp_collector_random_action(pp_collector *c);
/* Save the replay to --replay (atomically), if given. */
int pp_collector_save_replay(pp_collector *c);

#endif
