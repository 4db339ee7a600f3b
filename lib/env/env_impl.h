/* env_impl.h - what an environment implementation provides (private to lib/). */
#ifndef PP_ENV_IMPL_H
#define PP_ENV_IMPL_H

#include "env/env.h"

typedef struct {
    int (*reset)(pp_env *e, pp_rng *rng, double *obs);
    /* Physics step only: writes obs, reward, terminated. The time limit is
     * applied by env.c (it counts steps and sets truncated). */
    int (*step)(pp_env *e, const double *act, double *obs, double *reward, int *terminated);
    void (*destroy)(pp_env *e);
    /* Optional, for a task with info.goals > 0: pp_env_goal_reached. */
    int (*goal_reached)(const pp_env *e);
    /* The family's part of pp_env_get_state / pp_env_set_state: state_size
     * float64 words that get_state writes and set_state reads back, so that
     * the env steps on bit for bit (set_state may check them: -1 with a
     * message; env.c has checked that they are finite). */
    size_t (*state_size)(const pp_env *e);
    void (*get_state)(const pp_env *e, double *out);
    int (*set_state)(pp_env *e, const double *in);
} pp_env_ops;

struct pp_env {
    const pp_env_ops *ops;
    pp_env_info info;
    int steps;      /* steps since reset, maintained by env.c */
    void *impl;
};

/* Constructors per family; each parses its own options (key=value,...). */
int pp_env_mujoco_create(const char *name, const char *options, pp_env **out);
int pp_env_pendulum_create(const char *name, const char *options, pp_env **out);
int pp_env_multigoal_create(const char *name, const char *options, pp_env **out);

/* Option parsing shared by constructors: iterate "k=v,k=v". Calls fn for each;
 * fn returns 0 or -1 (unknown key: pp_fail listing the accepted keys). */
int pp_env_parse_options(const char *options,
                         int (*fn)(void *ctx, const char *key, const char *value), void *ctx);

#endif
