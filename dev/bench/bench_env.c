/* bench_env.c - MuJoCo env steps per second against the raw physics.
 *
 * For each task, three single-thread figures, all in env steps per second
 * (one env step = frame_skip mj_steps):
 *
 *   env        pp_env ops: seeded uniform random actions in the bounds,
 *              reset on termination (what parpi-collect does).
 *   physics    the same episode replayed without the wrapper: the same
 *              actions written to ctrl, frame_skip mj_steps (+ one
 *              mj_rnePostConstraint for v4, which the spec requires), the
 *              resets at the same steps. It visits exactly the same states,
 *              so the contact load is identical and the ratio env/physics is
 *              the wrapper's cost (observation, reward, health test).
 *   testspeed  MuJoCo's testspeed recipe: from qpos0, ctrl = 0.01 N(0,1)
 *              noise every mj_step, no resets; mj_steps/s / frame_skip. The
 *              robots fall and lie on the floor, with more contacts than the
 *              upright random-action episodes, so this is not the fair
 *              baseline; it is shown to compare with ENVS.md's table.
 *
 * Times are this thread's CPU time (other processes on a shared machine
 * do not count), best of 5 rounds, env and physics alternating.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "env/env_mujoco.h"
#include "base/err.h"

typedef struct {
    const char *name;
    int steps;
} task;

static void random_action(const pp_env_info *in, pp_rng *r, double *act)
{
    for (int i = 0; i < in->act_dim; i++)
        act[i] = in->act_low[i] + (in->act_high[i] - in->act_low[i]) * pp_rng_uniform(r);
}

/* The env loop; records which steps terminated (for the replay). */
static double run_env(pp_env *e, int n, unsigned char *term_at, double *contacts)
{
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);
    pp_rng rng, arng;
    pp_rng_seed(&rng, 1);
    arng = pp_rng_split(&rng, 7);
    static double obs[512], act[PP_ENV_MAX_ACT];
    double r, ncon = 0;
    int term;
    double t0 = pp_now();
    e->ops->reset(e, &rng, obs);
    for (int t = 0; t < n; t++) {
        random_action(&e->info, &arng, act);
        e->ops->step(e, act, obs, &r, &term);
        ncon += d->ncon;
        term_at[t] = (unsigned char)term;
        if (term) e->ops->reset(e, &rng, obs);
    }
    double dt = pp_now() - t0;
    *contacts = ncon / n;
    return n / dt;
}

/* The same episode as bare physics on the env's own model and data. */
static double run_physics(pp_env *e, int n, int frame_skip, int v4, const unsigned char *term_at)
{
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);
    pp_rng rng, arng;
    pp_rng_seed(&rng, 1);
    arng = pp_rng_split(&rng, 7);
    static double obs[512], act[PP_ENV_MAX_ACT];
    double t0 = pp_now();
    e->ops->reset(e, &rng, obs);
    for (int t = 0; t < n; t++) {
        random_action(&e->info, &arng, act);
        for (int i = 0; i < m->nu; i++) d->ctrl[i] = act[i];
        for (int k = 0; k < frame_skip; k++) mj_step(m, d);
        if (v4) mj_rnePostConstraint(m, d);
        if (term_at[t]) e->ops->reset(e, &rng, obs);
    }
    return n / (pp_now() - t0);
}

/* testspeed: qpos0, small control noise per mj_step, no resets. */
static double run_testspeed(pp_env *e, int n, int frame_skip, double *contacts)
{
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);
    mj_resetData(m, d);
    pp_rng rng;
    pp_rng_seed(&rng, 2);
    long steps = (long)n * frame_skip;
    double ncon = 0;
    double t0 = pp_now();
    for (long s = 0; s < steps; s++) {
        for (int i = 0; i < m->nu; i++) d->ctrl[i] = 0.01 * pp_rng_normal(&rng);
        mj_step(m, d);
        ncon += d->ncon;
    }
    double dt = pp_now() - t0;
    *contacts = ncon / steps;
    return steps / dt / frame_skip;
}

int main(void)
{
    static const task tasks[] = {
        {"HalfCheetah-v3", 8000}, {"HalfCheetah-v4", 8000}, {"Hopper-v3", 4000},
        {"Hopper-v4", 4000},      {"Walker2d-v3", 3000},    {"Walker2d-v4", 3000},
        {"Ant-v3", 1500},         {"Ant-v4", 1500},         {"Humanoid-v3", 1000},
        {"Humanoid-v4", 1000},
    };
    printf("# bench_env: MuJoCo %s, one thread, env steps per CPU second (best of 5)\n", mj_versionString());
    printf("# physics = the same episode (same actions, same resets, same states) without the\n"
           "# wrapper; overhead = physics/env - 1. testspeed = from qpos0 with 0.01 N(0,1)\n"
           "# control noise, robots lying on the floor: mj_step/s / frame_skip.\n");
    printf("%-15s %8s %10s %10s %9s %10s %8s %10s %8s\n", "task", "steps", "env/s", "physics/s",
           "overhead", "contacts", "", "testspeed", "contacts");
    int worst_over = 0;
    double worst = -1;
    for (size_t k = 0; k < sizeof tasks / sizeof tasks[0]; k++) {
        pp_env *e;
        if (pp_env_mujoco_create(tasks[k].name, NULL, &e) != 0) {
            fprintf(stderr, "bench_env: %s\n", pp_error());
            return 1;
        }
        int n = tasks[k].steps, v4 = strstr(tasks[k].name, "-v4") != NULL;
        const mjModel *m;
        mjData *d;
        pp_env_mujoco_model(e, &m, &d);
        int fs = (int)lround(e->info.dt / m->opt.timestep);
        unsigned char *term_at = pp_xmalloc(n);
        double env = 0, phys = 0, ts = 0, c_env = 0, c_ts = 0;
        for (int rep = 0; rep < 5; rep++) {
            env = fmax(env, run_env(e, n, term_at, &c_env));
            phys = fmax(phys, run_physics(e, n, fs, v4, term_at));
        }
        ts = run_testspeed(e, 2 * n, fs, &c_ts);
        double over = phys / env - 1;
        if (over > worst) worst = over, worst_over = (int)k;
        printf("%-15s %8d %10.0f %10.0f %8.1f%% %10.2f %8s %10.0f %8.2f\n", tasks[k].name, n, env,
               phys, 100 * over, c_env, "", ts, c_ts);
        free(term_at);
        e->ops->destroy(e);
    }
    printf("# largest wrapper overhead: %.1f%% (%s); the bound is 10%%: %s\n", 100 * worst,
           tasks[worst_over].name, worst <= 0.10 ? "within" : "OVER");
    return 0;
}
