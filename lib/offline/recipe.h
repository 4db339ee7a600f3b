/* recipe.h - D4RL-named data sets (hopper-medium, ...) from a manifest of
 * behaviour policies: what `parpi-dataset generate TASK-KIND` runs
 * (docs/offline.md, "Generating data sets").
 *
 * The manifest (share/parpi/d4rl/manifest) has one line per data set:
 *   TASK KIND key=value ...
 * with the keys
 *   env=NAME        the task played (hopper: Hopper-v3, gym's v2-era dynamics)
 *   rows=N          rows to collect (D4RL: 1000000; medium-expert: 2000000)
 *   seed=N          the collection's seed
 *   policy=FILE     random/medium/expert: the behaviour policy (none: uniform)
 *   step=N return=X the policy's training step and its evaluation return
 *   train=FILE      medium-replay: parpi-train's arguments, one per line,
 *   steps=N           and the step to train to (the medium policy's)
 *   first=K second=K  medium-expert: the kinds stitched
 * FILE names are relative to the manifest's folder. '#' starts a comment.
 */
#ifndef PP_RECIPE_H
#define PP_RECIPE_H

#include <stdint.h>

#include "data/dataset.h"

#define PP_RECIPE_PATH_MAX 4096

typedef struct {
    char task[32], kind[32], env[64];
    char policy[PP_RECIPE_PATH_MAX], train[PP_RECIPE_PATH_MAX];
    char first[32], second[32];
    int64_t rows, step, steps;
    uint64_t seed;
    double ret;
    int has_return;
} pp_recipe;

/* The manifest's line for name ("hopper-medium", also "hopper-medium-v2").
 * Errors name the manifest and line, or list the names it has. */
int pp_recipe_find(const char *manifest, const char *name, pp_recipe *out);

typedef struct {
    const char *manifest;   /* NULL: share/parpi/d4rl/manifest */
    const char *name;       /* "hopper-medium" */
    int64_t rows;           /* > 0: instead of the manifest's */
    int has_seed;           /* seed instead of the manifest's */
    uint64_t seed;
    const char *run_dir;    /* medium-replay: the training run, kept (resumed if it exists);
                               NULL: TASK-medium-replay.run */
    void (*progress)(void *ctx, const char *what, int64_t done, int64_t total);
    void *ctx;
} pp_recipe_config;

int pp_recipe_generate(const pp_recipe_config *c, pp_dataset **out);

#endif
