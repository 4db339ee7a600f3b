/* env_multigoal.c - the multi-goal 2D point mass of Soft Q-Learning
 * (Haarnoja et al. 2017): haarnoja/softqlearning's and
 * rail-berkeley/softlearning's MultiGoalEnv, which agree.
 *
 *   a'     = clip(a, -1, 1)                 (per coordinate)
 *   s'     = clip(s + a', -7, 7)            (no noise, no time step)
 *   d_g    = |s' - g|^2 for the goals (5,0), (-5,0), (0,5), (0,-5)
 *   reward = -actuation_cost_coeff |a'|^2 - distance_cost_coeff min_g d_g
 *            + goal_reward if min_g sqrt(d_g) < goal_threshold (then terminated)
 *   reset  : s = clip(init_sigma * N(0, I), -7, 7)
 * Defaults 30, 1, 10, 0.1, threshold 1; 30-step episodes (the examples'
 * max_path_length; the env has no limit of its own).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "env/env_impl.h"
#include "env/env_multigoal.h"
#include "env/env_opt.h"
#include "base/err.h"

#define BOUND 7.0
#define VEL_BOUND 1.0

static const double goals[PP_MULTIGOAL_NGOALS][2] = {{5, 0}, {-5, 0}, {0, 5}, {0, -5}};

typedef struct {
    double goal_reward, actuation_cost_coeff, distance_cost_coeff, init_sigma, goal_threshold;
    double s[2];
    int goal_reached;
} multigoal;

static double clip(double x, double lo, double hi) { return fmin(fmax(x, lo), hi); }

static int multigoal_reset(pp_env *e, pp_rng *rng, double *obs)
{
    multigoal *m = e->impl;
    for (int i = 0; i < 2; i++) {
        m->s[i] = clip(m->init_sigma * pp_rng_normal(rng), -BOUND, BOUND);
        obs[i] = m->s[i];
    }
    m->goal_reached = -1;
    return 0;
}

static int multigoal_step(pp_env *e, const double *act, double *obs, double *reward,
                          int *terminated)
{
    multigoal *m = e->impl;
    double a[2], act_cost = 0.0;
    for (int i = 0; i < 2; i++) {
        a[i] = clip(act[i], -VEL_BOUND, VEL_BOUND);
        act_cost += a[i] * a[i];
        m->s[i] = clip(m->s[i] + a[i], -BOUND, BOUND);
        obs[i] = m->s[i];
    }
    int best = 0;
    double best_d2 = INFINITY;
    for (int g = 0; g < PP_MULTIGOAL_NGOALS; g++) {
        double dx = m->s[0] - goals[g][0], dy = m->s[1] - goals[g][1];
        double d2 = dx * dx + dy * dy;
        if (d2 < best_d2) best_d2 = d2, best = g;
    }
    double r = -m->actuation_cost_coeff * act_cost - m->distance_cost_coeff * best_d2;
    int done = sqrt(best_d2) < m->goal_threshold;
    if (done) {
        r += m->goal_reward;
        m->goal_reached = best;
    }
    *reward = r;
    *terminated = done;
    return 0;
}

static void multigoal_destroy(pp_env *e)
{
    free(e->impl);
    free(e);
}

static int multigoal_goal_reached(const pp_env *e) { return ((const multigoal *)e->impl)->goal_reached; }

/* The state is the position and the goal the last step reached (-1: none). */
static size_t multigoal_state_size(const pp_env *e)
{
    (void)e;
    return 3;
}

static void multigoal_get_state(const pp_env *e, double *out)
{
    const multigoal *m = e->impl;
    out[0] = m->s[0];
    out[1] = m->s[1];
    out[2] = m->goal_reached;
}

static int multigoal_set_state(pp_env *e, const double *in)
{
    multigoal *m = e->impl;
    for (int i = 0; i < 2; i++)
        if (fabs(in[i]) > BOUND) return pp_fail("position %g is outside [-%g, %g]", in[i], BOUND, BOUND);
    if (in[2] != floor(in[2]) || in[2] < -1 || in[2] >= PP_MULTIGOAL_NGOALS)
        return pp_fail("goal reached %g, expected -1..%d", in[2], PP_MULTIGOAL_NGOALS - 1);
    m->s[0] = in[0];
    m->s[1] = in[1];
    m->goal_reached = (int)in[2];
    return 0;
}

static const pp_env_ops multigoal_ops = {.reset = multigoal_reset,
                                         .step = multigoal_step,
                                         .destroy = multigoal_destroy,
                                         .goal_reached = multigoal_goal_reached,
                                         .state_size = multigoal_state_size,
                                         .get_state = multigoal_get_state,
                                         .set_state = multigoal_set_state};

int pp_env_multigoal_goal_reached(const pp_env *e)
{
    if (!e || e->ops != &multigoal_ops) return -1;
    return multigoal_goal_reached(e);
}

void pp_env_multigoal_goal(int i, double xy[2])
{
    xy[0] = goals[i][0];
    xy[1] = goals[i][1];
}

static int multigoal_option(void *ctx, const char *key, const char *value)
{
    multigoal *m = ctx;
    double *field = NULL;
    if (strcmp(key, "goal_reward") == 0) field = &m->goal_reward;
    else if (strcmp(key, "actuation_cost_coeff") == 0) field = &m->actuation_cost_coeff;
    else if (strcmp(key, "distance_cost_coeff") == 0) field = &m->distance_cost_coeff;
    else if (strcmp(key, "init_sigma") == 0) field = &m->init_sigma;
    else if (strcmp(key, "goal_threshold") == 0) field = &m->goal_threshold;
    else
        return pp_env_opt_unknown("MultiGoal", key,
                                  "goal_reward, actuation_cost_coeff, distance_cost_coeff, "
                                  "init_sigma, goal_threshold");
    if (pp_env_opt_f64(key, value, field) != 0) return -1;
    if ((field == &m->init_sigma || field == &m->goal_threshold) && *field < 0)
        return pp_fail("option %s=%s: expected a number >= 0", key, value);
    return 0;
}

int pp_env_multigoal_create(const char *name, const char *options, pp_env **out)
{
    multigoal cfg = {.goal_reward = 10.0,
                     .actuation_cost_coeff = 30.0,
                     .distance_cost_coeff = 1.0,
                     .init_sigma = 0.1,
                     .goal_threshold = 1.0,
                     .goal_reached = -1};
    if (pp_env_parse_options(options, multigoal_option, &cfg) != 0) return -1;
    pp_env *e = pp_xcalloc(1, sizeof *e);
    multigoal *m = pp_xmalloc(sizeof *m);
    *m = cfg;
    e->ops = &multigoal_ops;
    e->impl = m;
    e->info.name = name;
    e->info.obs_dim = 2;
    e->info.act_dim = 2;
    e->info.max_steps = 30;
    for (int i = 0; i < 2; i++) {
        e->info.act_low[i] = -VEL_BOUND;
        e->info.act_high[i] = VEL_BOUND;
    }
    e->info.dt = 0.0;
    e->info.goals = PP_MULTIGOAL_NGOALS;
    *out = e;
    return 0;
}
