/* generate.h - data sets collected by acting in a task: D4RL's recipe
 * (docs/offline.md, "Generating data sets").
 *
 * Rows are whole episodes, in the order they were played, with D4RL's rules:
 *  - the action is sampled from the behaviour policy's tanh-Gaussian (or
 *    uniform in [-1,1]^A without a policy), and its log-density recorded
 *    (infos/action_log_probs; uniform: -A log 2);
 *  - infos/qpos and infos/qvel (MuJoCo tasks) are the state before the step;
 *  - timeouts (the step limit) take precedence over terminals: an episode
 *    that falls at its last step is a timeout;
 *  - an episode is appended only when complete, and the rows are cut at
 *    `rows`, so the last episode usually ends with neither flag
 *    (meta collection.last_episode_truncated says which);
 *  - a step the simulator refuses drops the episode being played.
 * The same config and seed give the same rows, byte for byte, on the same
 * platform.
 */
#ifndef PP_GENERATE_H
#define PP_GENERATE_H

#include <stdint.h>

#include "data/dataset.h"

typedef struct {
    const char *env;          /* "Hopper-v3" */
    const char *env_options;  /* NULL: the task's defaults */
    const char *policy_path;  /* a policy checkpoint (gaussian-tanh); NULL: uniform actions */
    int64_t rows;             /* rows wanted (> 0) */
    uint64_t seed;            /* env resets: stream 1, actions: stream 2 of pp_rng_stream(seed, PP_STREAM_GENERATE) */
    /* optional: called after each episode kept, with rows so far */
    void (*progress)(void *ctx, int64_t rows_done, int64_t rows_wanted);
    void *ctx;
} pp_generate_config;

int pp_generate_rollouts(const pp_generate_config *c, pp_dataset **out);

/* D4RL's stitch (medium-expert): the rows of a up to its last terminal or
 * timeout row, then b's rows, at most max_rows in all. The columns of a
 * (every one b has too, same dtype and width); meta of a under "first",
 * of b under "second". */
int pp_dataset_stitch(const pp_dataset *a, const pp_dataset *b, int64_t max_rows, pp_dataset **out);

#endif
