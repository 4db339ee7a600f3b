/* d4rl.h - D4RL normalised scores (lib/data/d4rl.c). */
#ifndef PP_D4RL_H
#define PP_D4RL_H

/* D4RL reference returns (random, expert) for normalised scores
 * 100 (R - random) / (expert - random). name: a task ("Hopper-v3") or a D4RL
 * data set ("hopper-medium-v2"), case ignored. Returns 1 and fills both, or 0
 * (both set to 0) when the task has none (Humanoid, Pendulum, MultiGoal). */
int pp_d4rl_reference(const char *name, double *random_return, double *expert_return);

#endif
