/* env.c - the environment registry and the wrapper every env goes through.
 *
 * The registry maps a task name to its family's constructor. The wrapper
 * counts steps and applies the time limit (Gym's TimeLimit): a step that
 * reaches info.max_steps reports truncated = 1 unless the episode terminated
 * on that step, so a TD target bootstraps through truncation only.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "env/env_impl.h"
#include "base/err.h"
#include "base/optarg.h"

typedef enum { FAM_MUJOCO, FAM_PENDULUM, FAM_MULTIGOAL } family;

static const struct {
    const char *name;
    family fam;
} registry[] = {
    {"HalfCheetah-v3", FAM_MUJOCO}, {"HalfCheetah-v4", FAM_MUJOCO},
    {"Hopper-v3", FAM_MUJOCO},      {"Hopper-v4", FAM_MUJOCO},
    {"Walker2d-v3", FAM_MUJOCO},    {"Walker2d-v4", FAM_MUJOCO},
    {"Ant-v3", FAM_MUJOCO},         {"Ant-v4", FAM_MUJOCO},
    {"Humanoid-v3", FAM_MUJOCO},    {"Humanoid-v4", FAM_MUJOCO},
    {"Pendulum-v1", FAM_PENDULUM},  {"MultiGoal", FAM_MULTIGOAL},
};
#define NREG ((int)(sizeof registry / sizeof registry[0]))

/* Other spellings accepted by pp_env_create (not listed). */
static const struct {
    const char *alias, *name;
} aliases[] = {
    {"Pendulum", "Pendulum-v1"},
};
#define NALIAS ((int)(sizeof aliases / sizeof aliases[0]))

static const char *const names[NREG + 1] = {
    "HalfCheetah-v3", "HalfCheetah-v4", "Hopper-v3",   "Hopper-v4",
    "Walker2d-v3",    "Walker2d-v4",    "Ant-v3",      "Ant-v4",
    "Humanoid-v3",    "Humanoid-v4",    "Pendulum-v1", "MultiGoal",
    NULL,
};

const char *const *pp_env_names(void) { return names; }

/* ---- suggestions for unknown names ---- */

/* "Hopper" for "Hopper-v3": the input names the task without its version. */
static int is_base_name(const char *input, const char *name)
{
    const char *dash = strrchr(name, '-');
    size_t base = dash ? (size_t)(dash - name) : strlen(name);
    return strlen(input) == base && strncasecmp(input, name, base) == 0;
}

static int unknown_name(const char *name)
{
    char list[512] = "", hint[256] = "";
    for (int i = 0; i < NREG; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", registry[i].name);
    }
    /* Suggest the nearest names within 2 edits (case ignored), or every
     * version of a task named without its version. */
    int best = 3;
    for (int i = 0; i < NREG; i++) {
        int d = pp_edit_distance(name, registry[i].name, 1);
        if (d < best) best = d;
    }
    int nhint = 0;
    for (int i = 0; i < NREG && nhint < 3; i++) {
        const char *cand = registry[i].name;
        int close = is_base_name(name, cand) || pp_edit_distance(name, cand, 1) == best;
        if (!close) continue;
        size_t l = strlen(hint);
        snprintf(hint + l, sizeof hint - l, "%s%s", nhint ? " or " : " (did you mean ", cand);
        nhint++;
    }
    if (nhint) {
        size_t l = strlen(hint);
        snprintf(hint + l, sizeof hint - l, "?)");
    }
    return pp_fail("unknown environment '%s'%s; expected one of: %s", name, hint, list);
}

/* ---- create / reset / step ---- */

int pp_env_create(const char *name, const char *options, pp_env **out)
{
    *out = NULL;
    if (!name || !*name) return unknown_name("");
    const char *canon = NULL;
    family fam = FAM_MUJOCO;
    for (int i = 0; i < NALIAS; i++)
        if (strcmp(name, aliases[i].alias) == 0) name = aliases[i].name;
    for (int i = 0; i < NREG; i++)
        if (strcmp(name, registry[i].name) == 0) {
            canon = registry[i].name;
            fam = registry[i].fam;
        }
    if (!canon) return unknown_name(name);

    pp_env *e = NULL;
    int rc;
    switch (fam) {
    case FAM_MUJOCO:
        rc = pp_env_mujoco_create(canon, options, &e);
        break;
    case FAM_PENDULUM: rc = pp_env_pendulum_create(canon, options, &e); break;
    default: rc = pp_env_multigoal_create(canon, options, &e); break;
    }
    if (rc != 0) {
        /* name the task once: "Pendulum-v1: option g=x: expected a number" */
        if (strncmp(pp_error(), canon, strlen(canon)) != 0) pp_fail_prefix("%s: ", canon);
        return -1;
    }
    const pp_env_info *in = &e->info;
    if (in->obs_dim <= 0 || in->act_dim <= 0 || in->act_dim > PP_ENV_MAX_ACT ||
        in->max_steps <= 0) {
        pp_fail("%s: constructor gave obs_dim %d, act_dim %d, max_steps %d, expected "
                "obs_dim > 0, 1 <= act_dim <= %d, max_steps > 0",
                canon, in->obs_dim, in->act_dim, in->max_steps, PP_ENV_MAX_ACT);
        pp_env_free(e);
        return -1;
    }
    e->steps = -1; /* no episode yet: step() needs a reset first */
    *out = e;
    return 0;
}

void pp_env_free(pp_env *e)
{
    if (!e) return;
    e->ops->destroy(e);
}

const pp_env_info *pp_env_get_info(const pp_env *e) { return &e->info; }

int pp_env_reset(pp_env *e, pp_rng *rng, double *obs)
{
    if (e->ops->reset(e, rng, obs) != 0) return pp_fail_prefix("%s: reset: ", e->info.name);
    e->steps = 0;
    return 0;
}

int pp_env_step(pp_env *e, const double *act, double *obs, double *reward, int *terminated,
                int *truncated)
{
    if (e->steps < 0) return pp_fail("%s: step before the first reset", e->info.name);
    for (int i = 0; i < e->info.act_dim; i++)
        if (!isfinite(act[i]))
            return pp_fail("%s: action[%d] is %g, expected a finite number", e->info.name, i,
                           act[i]);
    int term = 0;
    if (e->ops->step(e, act, obs, reward, &term) != 0)
        return pp_fail_prefix("%s: step: ", e->info.name);
    e->steps++;
    *terminated = term != 0;
    *truncated = !term && e->steps >= e->info.max_steps;
    return 0;
}

int pp_env_goal_reached(const pp_env *e)
{
    return e && e->ops->goal_reached ? e->ops->goal_reached(e) : -1;
}

/* ---- state: word 0 is the wrapper's step count, then the family's words ---- */

size_t pp_env_state_size(const pp_env *e) { return 1 + e->ops->state_size(e); }

void pp_env_get_state(const pp_env *e, double *out)
{
    out[0] = (double)e->steps;
    e->ops->get_state(e, out + 1);
}

int pp_env_set_state(pp_env *e, const double *in, size_t n)
{
    size_t want = pp_env_state_size(e);
    if (n != want)
        return pp_fail("%s: the state has %zu words, expected %zu for this task and its options",
                       e->info.name, n, want);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(in[i])) return pp_fail("%s: state word %zu is %g, expected a finite number", e->info.name, i, in[i]);
    /* -1: no episode yet; a step that reaches the limit ends the episode, and
     * the collector resets at once, so a kept state is below it */
    if (in[0] != floor(in[0]) || in[0] < -1 || in[0] >= e->info.max_steps)
        return pp_fail("%s: the state's step count is %g, expected a whole number in -1..%d", e->info.name, in[0],
                       e->info.max_steps - 1);
    if (e->ops->set_state(e, in + 1) != 0) return pp_fail_prefix("%s: ", e->info.name);
    e->steps = (int)in[0];
    return 0;
}

void pp_env_scale_action(const pp_env_info *info, const float *a, double *act)
{
    /* centre + half-width * a: exact a * high for symmetric bounds */
    for (int i = 0; i < info->act_dim; i++) {
        double lo = info->act_low[i], hi = info->act_high[i];
        act[i] = 0.5 * (lo + hi) + 0.5 * (hi - lo) * (double)a[i];
    }
}

/* ---- listing ---- */

static void print_bounds(FILE *out, const pp_env_info *in)
{
    int same = 1;
    for (int i = 1; i < in->act_dim; i++)
        if (in->act_low[i] != in->act_low[0] || in->act_high[i] != in->act_high[0]) same = 0;
    if (same) {
        fprintf(out, "[%g, %g]", in->act_low[0], in->act_high[0]);
        return;
    }
    for (int i = 0; i < in->act_dim; i++)
        fprintf(out, "%s[%g, %g]", i ? " " : "", in->act_low[i], in->act_high[i]);
}

void pp_env_list(FILE *out)
{
    fprintf(out, "# %-14s %5s %4s %6s %7s  %s\n", "name", "obs", "act", "steps", "dt",
            "action bounds");
    for (int i = 0; i < NREG; i++) {
        pp_env *e;
        if (pp_env_create(registry[i].name, NULL, &e) != 0) {
            fprintf(out, "%-16s unavailable: %s\n", registry[i].name, pp_error());
            continue;
        }
        const pp_env_info *in = pp_env_get_info(e);
        fprintf(out, "%-16s %5d %4d %6d %7g  ", registry[i].name, in->obs_dim, in->act_dim,
                in->max_steps, in->dt);
        print_bounds(out, in);
        fputc('\n', out);
        pp_env_free(e);
    }
}
