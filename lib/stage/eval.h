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
 * progress.csv (--progress-log, a row every --log-every steps: step, wall_s,
 * episodes, return_recent, length_recent, eval_return, then every other
 * stage's metrics and step_ms, named kind.metric, from the stage contract in
 * ring order) and the one-line status file the driver's progress display
 * reads (--status). With --best FILE it keeps the policy of the best
 * evaluation so far in FILE (a checkpoint of kind best-policy: step, env,
 * eval.* and the frame's policy map, which parpi-eval --policy and
 * parpi-collect --policy read), written atomically whenever an evaluation's
 * return_mean beats every earlier one, FILE's included.
 *
 * The ring stage evaluates in a thread of its own (eval_worker.h), on a
 * copy of the frame's policy, while the frames go on; it takes the results
 * back in step order (the log row, --best, the status line, and the
 * metrics on the frame passing then), writes each progress row once the
 * evaluations at or before its step are in, and waits for the evaluations
 * in flight (at most two) before it saves and at the end of the stream, so
 * its files and checkpoints are the bytes of --sync, which evaluates in the
 * frames' thread (docs/design.md section 7).
 *
 * Each evaluation restarts the same random streams (stream 6 of --seed:
 * child 1 resets, child 2 stochastic actions), so successive evaluations of
 * a run face the same initial states. Actions come from pp_actor_act_row
 * (no BLAS, sums in double: rl/actor.h), standalone too.
 */
#ifndef PP_EVAL_H
#define PP_EVAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "base/opt.h"
#include "rl/actor.h"
#include "env/env.h"

#define PP_EVAL_MAX_EPISODES 100000
#define PP_EVAL_MAX_GOALS 16

typedef struct {
    int episodes;
    double return_mean, return_std, return_min, return_max;
    double length_mean, length_std, length_min, length_max;
    int have_score;
    double score;            /* D4RL-normalised mean return */
    int goals;               /* the task's goals (info.goals, at most PP_EVAL_MAX_GOALS); 0: none */
    int goal_count[PP_EVAL_MAX_GOALS], goals_reached; /* episodes ending in each goal; goals hit */
} pp_eval_result;

/* Run K episodes of the actor (params) in env. returns/lengths (nullable)
 * receive each episode's figures. */
int pp_evaluate(pp_env *env, const char *env_name, pp_actor *actor, const float *params, int K,
                int deterministic, unsigned long long seed, double *returns, double *lengths,
                pp_eval_result *out);

/* The same, stopping with -1 ("evaluation cancelled") at the next
 * environment step once *cancel is nonzero (NULL: never); the evaluator's
 * thread (eval_worker.h) runs it. */
int pp_evaluate_until(pp_env *env, const char *env_name, pp_actor *actor, const float *params, int K,
                      int deterministic, unsigned long long seed, double *returns, double *lengths,
                      pp_eval_result *out, atomic_int *cancel);

/* Print "name value" lines. */
void pp_eval_print(const pp_eval_result *r, FILE *out);

/* The --log CSV: its header line (without the newline), opening it for
 * appending (a new file gets the header; a row an earlier run left unfinished
 * is ended first), and one row (step may be -1: standalone). Every write is
 * checked: -1 (NULL) with a message naming path. */
extern const char pp_eval_csv_columns[];
FILE *pp_eval_log_open(const char *path);
int pp_eval_csv_row(FILE *out, const char *path, long long step, const pp_eval_result *r);

/* The options (base/opt.h). */
typedef struct {
    char env_name[64], env_options[512];
    int episodes;
    int stochastic, deterministic; /* after pp_eval_parse: deterministic = !stochastic */
    unsigned long long seed;
    char log_path[1024];
    long long every, log_every;                       /* ring */
    char progress_path[1024], status_path[1024];      /* ring */
    char best_path[1024];                             /* ring: the best evaluation's policy */
    int sync;                                         /* ring: evaluate in the frames' thread */
    char policy_path[1024];                           /* standalone */
} pp_eval_config;

/* The ring stage's (pp_stage_eval.options), which the standalone program
 * takes too, and the standalone program's own (--policy). */
extern const pp_opt pp_eval_options[];
extern const pp_opt pp_eval_standalone_options[];
/* Both tables as parpi-eval --help lists them. */
void pp_eval_help(FILE *out);
/* Parse the options of both tables (argv[0] ignored) into o (cleared
 * first); *given (may be NULL) gets the rows of pp_eval_options given. Not
 * standalone: --policy is an error. -1 on a usage error. */
int pp_eval_parse(pp_eval_config *o, int argc, char **argv, int standalone, uint64_t *given);

#endif
