/* env.h - the environment interface (MuJoCo locomotion, Pendulum, MultiGoal).
 *
 * Observations are float64 (as Gym's); actions are in the env's own units,
 * bounds in info->act_low/act_high (the policy's tanh output in [-1,1] is
 * scaled by pp_env_scale_action). step() reports termination and the
 * time-limit truncation separately: a truncation bootstraps, a termination
 * does not.
 */
#ifndef PP_ENV_H
#define PP_ENV_H

#include <stdio.h>

#include "base/rng.h"

#define PP_ENV_MAX_ACT 32

typedef struct {
    const char *name;       /* "Hopper-v3" */
    int obs_dim, act_dim;
    int max_steps;          /* episode limit (truncation) */
    double act_low[PP_ENV_MAX_ACT], act_high[PP_ENV_MAX_ACT];
    double dt;              /* seconds per env step (0 where meaningless) */
    int goals;              /* goals an episode can end in (MultiGoal: 4); 0: none */
} pp_env_info;

typedef struct pp_env pp_env;

/* name as listed by pp_env_list; options "key=value,key=value" for the Gym
 * constructor options (forward_reward_weight=..., terminate_when_unhealthy=0,
 * exclude_current_positions_from_observation=0, use_contact_forces=1, ...);
 * NULL or "" for defaults. Unknown names/options: -1 with a message that lists
 * what is accepted. */
int pp_env_create(const char *name, const char *options, pp_env **out);
void pp_env_free(pp_env *e);
const pp_env_info *pp_env_get_info(const pp_env *e);
/* Reset with reset noise drawn from rng; writes obs [obs_dim]. */
int pp_env_reset(pp_env *e, pp_rng *rng, double *obs);
/* One step. act [act_dim] in env units (not clipped here: the env does what
 * Gym does). Writes obs, reward, terminated, truncated (the step limit). */
int pp_env_step(pp_env *e, const double *act, double *obs, double *reward, int *terminated,
                int *truncated);
/* The goal (0 .. info->goals - 1) that the last step reached, ending the
 * episode; -1 otherwise (no goal reached yet, after a reset, a truncated
 * episode, or a task without goals). */
int pp_env_goal_reached(const pp_env *e);
/* The env's state as float64 words: everything its next steps depend on
 * (the physics, derived quantities a step reads before it recomputes them,
 * the step count of the episode), so that an env of the same task and
 * options set to it continues bit for bit: the same observations, rewards
 * and ends. A collector checkpoints it to resume the episode it was in.
 * pp_env_state_size words; set_state refuses another count, a word that is
 * not finite or a step count outside the episode limit (-1, message). */
size_t pp_env_state_size(const pp_env *e);
void pp_env_get_state(const pp_env *e, double *out);
int pp_env_set_state(pp_env *e, const double *in, size_t n);
/* Map a in [-1,1]^d to [low, high]. */
void pp_env_scale_action(const pp_env_info *info, const float *a, double *act);

/* Print every task, one per line after a "# name obs act steps dt action bounds"
 * header: name, obs dim, act dim, episode limit, dt, action bounds ("[-1, 1]"
 * when all dims agree). A task that cannot be created (MuJoCo models not
 * found, ...) is listed as "NAME unavailable: <why>". */
void pp_env_list(FILE *out);
/* Names for completion/validation: NULL-terminated. */
const char *const *pp_env_names(void);

#endif
