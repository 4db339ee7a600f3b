/* env_pendulum.c - Gym/Gymnasium Pendulum-v1, the same maths.
 *
 * Checked against gymnasium/envs/classic_control/pendulum.py
 * (Farama-Foundation/Gymnasium). State (th, thdot), th = 0 upright.
 *   u        = clip(a, -2, 2)
 *   reward   = -(angle_normalize(th)^2 + 0.1 thdot^2 + 0.001 u^2)   (old state)
 *   thdot'   = clip(thdot + (3g/(2l) sin th + 3/(m l^2) u) dt, -8, 8)
 *   th'      = th + thdot' dt                   (th' is not wrapped)
 *   obs      = (cos th', sin th', thdot')
 * dt 0.05, g 10 (option g=), m = l = 1. Reset: th ~ U(-pi, pi), thdot ~ U(-1, 1),
 * th drawn first. Never terminates; the registry's TimeLimit is 200 steps.
 * Gymnasium returns float32 observations; here they are float64.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "env/env_impl.h"
#include "env/env_opt.h"
#include "base/err.h"

#define MAX_SPEED 8.0
#define MAX_TORQUE 2.0
#define DT 0.05

typedef struct {
    double g, m, l;
    double th, thdot;
} pendulum;

/* Python's ((x + pi) % (2 pi)) - pi: the modulo takes the divisor's sign. */
static double angle_normalize(double x)
{
    double y = fmod(x + M_PI, 2.0 * M_PI);
    if (y < 0) y += 2.0 * M_PI;
    return y - M_PI;
}

static void observe(const pendulum *p, double *obs)
{
    obs[0] = cos(p->th);
    obs[1] = sin(p->th);
    obs[2] = p->thdot;
}

static int pendulum_reset(pp_env *e, pp_rng *rng, double *obs)
{
    pendulum *p = e->impl;
    p->th = -M_PI + 2.0 * M_PI * pp_rng_uniform(rng);
    p->thdot = -1.0 + 2.0 * pp_rng_uniform(rng);
    observe(p, obs);
    return 0;
}

static int pendulum_step(pp_env *e, const double *act, double *obs, double *reward,
                         int *terminated)
{
    pendulum *p = e->impl;
    double u = fmin(fmax(act[0], -MAX_TORQUE), MAX_TORQUE);
    double an = angle_normalize(p->th);
    double cost = an * an + 0.1 * p->thdot * p->thdot + 0.001 * u * u;
    double thdot = p->thdot +
                   (3.0 * p->g / (2.0 * p->l) * sin(p->th) + 3.0 / (p->m * p->l * p->l) * u) * DT;
    thdot = fmin(fmax(thdot, -MAX_SPEED), MAX_SPEED);
    p->th = p->th + thdot * DT;
    p->thdot = thdot;
    observe(p, obs);
    *reward = -cost;
    *terminated = 0;
    return 0;
}

static void pendulum_destroy(pp_env *e)
{
    free(e->impl);
    free(e);
}

/* The state is (th, thdot); g, m and l are options. */
static size_t pendulum_state_size(const pp_env *e)
{
    (void)e;
    return 2;
}

static void pendulum_get_state(const pp_env *e, double *out)
{
    const pendulum *p = e->impl;
    out[0] = p->th;
    out[1] = p->thdot;
}

static int pendulum_set_state(pp_env *e, const double *in)
{
    pendulum *p = e->impl;
    if (fabs(in[1]) > MAX_SPEED) return pp_fail("thdot %g is beyond the speed limit %g", in[1], MAX_SPEED);
    p->th = in[0];
    p->thdot = in[1];
    return 0;
}

static const pp_env_ops pendulum_ops = {.reset = pendulum_reset,
                                        .step = pendulum_step,
                                        .destroy = pendulum_destroy,
                                        .state_size = pendulum_state_size,
                                        .get_state = pendulum_get_state,
                                        .set_state = pendulum_set_state};

static int pendulum_option(void *ctx, const char *key, const char *value)
{
    pendulum *p = ctx;
    if (strcmp(key, "g") == 0) return pp_env_opt_f64(key, value, &p->g);
    return pp_env_opt_unknown("Pendulum-v1", key, "g");
}

int pp_env_pendulum_create(const char *name, const char *options, pp_env **out)
{
    pendulum cfg = {.g = 10.0, .m = 1.0, .l = 1.0};
    if (pp_env_parse_options(options, pendulum_option, &cfg) != 0) return -1;
    pp_env *e = pp_xcalloc(1, sizeof *e);
    pendulum *p = pp_xmalloc(sizeof *p);
    *p = cfg;
    e->ops = &pendulum_ops;
    e->impl = p;
    e->info.name = name;
    e->info.obs_dim = 3;
    e->info.act_dim = 1;
    e->info.max_steps = 200;
    e->info.act_low[0] = -MAX_TORQUE;
    e->info.act_high[0] = MAX_TORQUE;
    e->info.dt = DT;
    *out = e;
    return 0;
}
