/* eval.h - parpi-eval: evaluation episodes of a policy.
 *
 * Standalone (--policy CKPT): K episodes (--episodes, default 10), mean
 * action tanh(mu(s)) unless --stochastic; prints one "name value" line per
 * statistic and appends a row to --log CSV.
 * Ring (filter) mode, the stage "eval" (pp_stage_eval): passes every frame
 * through; on the frame whose step crosses a multiple of --every it runs the
 * K episodes on the frame's policy and adds metrics.eval.{return_mean,
 * return_std, return_min, return_max, length_mean, score?, goals?}. It is
 * the last stage of parpi-train's ring, so it also writes the run's
 * progress.csv (--progress-log, a row every --log-every steps) and the
 * one-line status file the driver's progress display reads (--status).
 *
 * Each evaluation restarts the same random streams (stream 6 of --seed:
 * child 1 resets, child 2 stochastic actions), so successive evaluations of
 * a run face the same initial states.
 */
#ifndef PP_EVAL_H
#define PP_EVAL_H

#include "rl/actor.h"
#include "env/env.h"

#define PP_EVAL_MAX_EPISODES 100000

typedef struct {
    int episodes;
    double return_mean, return_std, return_min, return_max;
    double length_mean, length_std, length_min, length_max;
    int have_score;
    double score;            /* D4RL-normalised mean return */
    int have_goals;          /* MultiGoal: episodes ending in each goal */
    int goal_count[4], goals_reached;
} pp_eval_result;

/* Run K episodes of the actor (params) in env. returns/lengths (nullable)
 * receive each episode's figures. */
int pp_evaluate(pp_env *env, const char *env_name, pp_actor *actor, const float *params, int K,
                int deterministic, unsigned long long seed, double *returns, double *lengths,
                pp_eval_result *out);

/* Print "name value" lines. */
void pp_eval_print(const pp_eval_result *r, FILE *out);
/* CSV header and row (step may be -1: standalone). */
void pp_eval_csv_header(FILE *out);
void pp_eval_csv_row(FILE *out, long long step, const pp_eval_result *r);

int pp_eval_main(int argc, char **argv);

#endif
