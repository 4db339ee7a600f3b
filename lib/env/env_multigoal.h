/* env_multigoal.h - what only the MultiGoal task can tell. */
#ifndef PP_ENV_MULTIGOAL_H
#define PP_ENV_MULTIGOAL_H

#include "env/env.h"

/* Goals in index order: (5, 0), (-5, 0), (0, 5), (0, -5). */
#define PP_MULTIGOAL_NGOALS 4

/* The goal (0..3) whose radius the current episode's last step entered,
 * ending the episode; -1 while no goal has been reached (also right after a
 * reset, after a truncated episode, and for an env that is not MultiGoal). */
int pp_env_multigoal_goal_reached(const pp_env *e);

/* Position of goal i (0..3). */
void pp_env_multigoal_goal(int i, double xy[2]);

#endif
