/* env_mujoco.h - hooks into the MuJoCo locomotion envs for tests and developer
 * tools (private to lib/ and tests/; programs use env.h only).
 */
#ifndef PP_ENV_MUJOCO_H
#define PP_ENV_MUJOCO_H

#include <mujoco/mujoco.h>

#include "env/env_impl.h"

/* The model and data behind a MuJoCo env (NULL, -1 if e is another family). */
int pp_env_mujoco_model(pp_env *e, const mjModel **m, mjData **d);

/* Reset to the given state instead of a noisy one: mj_resetData, qpos and
 * qvel copied in, one mj_forward (what Gym's reset does after drawing its
 * noise); writes the reset observation. Used to replay another
 * implementation's episode from the same start. */
int pp_env_mujoco_set_state(pp_env *e, const double *qpos, const double *qvel, double *obs);

/* numpy's sum of a contiguous float64 array (pairwise with 8 accumulators
 * from 8 elements up), so our costs round exactly as Gym's np.sum does. */
double pp_np_sum_squares(const double *x, int n);

#endif
