/* dataset_stats.h - what parpi-dataset info prints about a data set
 * (lib/data/dataset_stats.c).
 *
 * Episodes end at a row whose terminals or timeouts is true; rows after
 * the last such row (neither flag) are an episode cut by the end of the
 * data, counted as an episode and reported as the truncated tail (D4RL's
 * files usually end so: docs/design.md section 10). Episode returns are
 * sums of rewards over an episode's rows (the tail's included), summed in
 * double; return_std is the population standard deviation (numpy's
 * default, ddof 0). score is D4RL's normalised score of return_mean,
 * 100 (R - random) / (expert - random), for tasks with reference returns
 * (data/d4rl.h).
 */
#ifndef PP_DATASET_STATS_H
#define PP_DATASET_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"

typedef struct {
    int64_t rows, episodes, terminals, timeouts;
    int64_t tail_rows;  /* rows of the final episode that has neither flag; 0: none */
    double return_mean, return_std, return_min, return_max;
    int has_score;      /* the task has D4RL reference returns */
    double score;
    int obs_dim, act_dim;                          /* 0: no such column */
    float *obs_min, *obs_max, *act_min, *act_max;  /* per dimension (owned) */
} pp_dataset_stats;

/* The statistics of d (env: the task for the score; NULL or "": d->env).
 * Needs rewards f32 [N] and terminals bool [N] (timeouts bool [N] when
 * present); observations and actions, when present, f32 [N, width]. */
int pp_dataset_stats_compute(const pp_dataset *d, const char *env, pp_dataset_stats *s);
void pp_dataset_stats_free(pp_dataset_stats *s);

/* "name value" lines (rows, episodes, truncated_tail, terminals, timeouts,
 * return_mean ... return_max, score or "-"), then a line per observation
 * and action dimension ("obs[3] min max"), then a line per column ("column
 * infos/qpos f32 [1000,6]"); lines starting "#" explain. */
void pp_dataset_stats_print(const pp_dataset_stats *s, const pp_dataset *d, const char *env, FILE *out);

#endif
