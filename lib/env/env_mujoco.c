/* env_mujoco.c - the Gym MuJoCo locomotion tasks, v3 and v4 flavours:
 * HalfCheetah, Hopper, Walker2d, Ant, Humanoid.
 *
 * Behaviour follows the spec in shared/reference/ENVS.md (a reading of
 * gym's *_v3.py / *_v4.py), which docs-envs.md summarises. The points that
 * are easy to get wrong, all done here as Gym does them:
 *  - the action goes into d->ctrl unclipped (MuJoCo clamps the force, the
 *    control cost sees the raw action);
 *  - frame_skip mj_steps; v4 then calls mj_rnePostConstraint once (that is
 *    what makes cfrc_ext non-zero); v3 does not, so under MuJoCo >= 2.0
 *    cfrc_ext stays 0 and Ant-v3/Humanoid-v3 contact terms are 0 (the
 *    "modern v3" flavour: mujoco-py 2.x, D4RL);
 *  - no mj_forward after stepping: position-derived quantities (xpos,
 *    xipos, cinert, cvel, qfrc_actuator) lag the new state by one substep
 *    (Euler) or one RK4 stage, as in Gym;
 *  - "before" positions are read just before stepping, so the first step
 *    after a reset uses the reset's mj_forward;
 *  - healthy reward = w * (healthy || terminate_when_unhealthy);
 *  - reset: mj_resetData, qpos0 + noise, 0 + noise, one mj_forward.
 * Sums of squares round as numpy's np.sum does (pp_np_sum_squares), so
 * rewards can match Gym's to the last bit on the same MuJoCo.
 *
 * Each env owns one mjModel (loaded from share/parpi/envs/<task>.xml) and
 * one mjData; stepping allocates nothing.
 */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/env_mujoco.h"
#include "base/err.h"
#include "base/share.h"

typedef enum { CHEETAH, HOPPER, WALKER, ANT, HUMANOID } task_kind;

typedef struct {
    const char *name;
    task_kind kind;
    int v4;
    const char *model;   /* under share/parpi/envs */
    int frame_skip;
} task_spec;

static const task_spec tasks[] = {
    {"HalfCheetah-v3", CHEETAH, 0, "envs/half_cheetah.xml", 5},
    {"HalfCheetah-v4", CHEETAH, 1, "envs/half_cheetah.xml", 5},
    {"Hopper-v3", HOPPER, 0, "envs/hopper.xml", 4},
    {"Hopper-v4", HOPPER, 1, "envs/hopper.xml", 4},
    {"Walker2d-v3", WALKER, 0, "envs/walker2d.xml", 4},
    {"Walker2d-v4", WALKER, 1, "envs/walker2d.xml", 4},
    {"Ant-v3", ANT, 0, "envs/ant.xml", 5},
    {"Ant-v4", ANT, 1, "envs/ant.xml", 5},
    {"Humanoid-v3", HUMANOID, 0, "envs/humanoid.xml", 5},
    {"Humanoid-v4", HUMANOID, 1, "envs/humanoid.xml", 5},
};
#define NTASKS ((int)(sizeof tasks / sizeof tasks[0]))

/* Gym's constructor arguments. A range argument (healthy_z_range=(a, b))
 * is split into two keys, *_min and *_max, since options are "k=v,k=v". */
typedef struct {
    double forward_w, ctrl_w, contact_w;
    double healthy_reward;
    int terminate_when_unhealthy;
    double z_min, z_max;            /* healthy_z_range */
    double angle_min, angle_max;    /* healthy_angle_range (Hopper, Walker2d) */
    double state_min, state_max;    /* healthy_state_range (Hopper) */
    double cforce_min, cforce_max;  /* contact_force_range (Ant) */
    double ccost_min, ccost_max;    /* contact_cost_range (Humanoid-v3) */
    double reset_noise;
    int exclude_positions;          /* exclude_current_positions_from_observation */
    int use_contact_forces;         /* Ant-v4 */
} task_options;

typedef struct {
    const task_spec *spec;
    task_options o;
    mjModel *m;
    mjData *d;
    int torso;          /* body id of "torso" (Ant) */
    double dt;          /* timestep * frame_skip, as Gym computes it */
    int contact_obs;    /* cfrc_ext in the observation and contact cost (Ant) */
} mj_env;

/* ---- numpy-compatible sums ---- */

/* np.sum(np.square(x)) for a contiguous float64 array of n <= 128 values:
 * below 8 values a plain loop from 0; from 8 up, eight running sums
 * combined pairwise, then the remainder (numpy's pairwise_sum). */
double pp_np_sum_squares(const double *x, int n)
{
    if (n < 8) {
        double s = 0.0;
        for (int i = 0; i < n; i++) s += x[i] * x[i];
        return s;
    }
    if (n > 128) { /* numpy recurses on halves; split as it does */
        int n2 = n / 2;
        n2 -= n2 % 8;
        return pp_np_sum_squares(x, n2) + pp_np_sum_squares(x + n2, n - n2);
    }
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = x[j] * x[j];
    int i = 8;
    for (; i < n - (n % 8); i += 8)
        for (int j = 0; j < 8; j++) r[j] += x[i + j] * x[i + j];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) s += x[i] * x[i];
    return s;
}

/* Plain sum with numpy's rounding (same scheme as above). */
static double np_sum(const double *x, int n)
{
    if (n < 8) {
        double s = 0.0;
        for (int i = 0; i < n; i++) s += x[i];
        return s;
    }
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = x[j];
    int i = 8;
    for (; i < n - (n % 8); i += 8)
        for (int j = 0; j < 8; j++) r[j] += x[i + j];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) s += x[i];
    return s;
}

static double clip(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* ---- positions the forward velocity is measured on ---- */

/* Humanoid: mass-weighted mean of the body COMs (xipos), as Gym's
 * mass_center: np.sum(mass * xipos, axis=0) / np.sum(mass). */
static void mass_center(const mjModel *m, const mjData *d, double xy[2])
{
    double sx = 0, sy = 0;
    for (int b = 0; b < m->nbody; b++) {
        sx += m->body_mass[b] * d->xipos[3 * b];
        sy += m->body_mass[b] * d->xipos[3 * b + 1];
    }
    double total = np_sum(m->body_mass, m->nbody);
    xy[0] = sx / total;
    xy[1] = sy / total;
}

/* The x (and y) the task rewards progress along. */
static void progress_xy(const mj_env *me, double xy[2])
{
    const mjData *d = me->d;
    switch (me->spec->kind) {
    case ANT: /* get_body_com("torso") is the body frame origin, xpos */
        xy[0] = d->xpos[3 * me->torso];
        xy[1] = d->xpos[3 * me->torso + 1];
        break;
    case HUMANOID:
        mass_center(me->m, d, xy);
        break;
    default: /* planar robots: the rootx slide joint */
        xy[0] = d->qpos[0];
        xy[1] = 0;
        break;
    }
}

/* ---- health ---- */

static int is_healthy(const mj_env *me)
{
    const mjModel *m = me->m;
    const mjData *d = me->d;
    const task_options *o = &me->o;
    switch (me->spec->kind) {
    case HOPPER: {
        /* concat(q, v)[2:] strictly inside healthy_state_range (unclipped v) */
        for (int i = 2; i < m->nq + m->nv; i++) {
            double s = i < m->nq ? d->qpos[i] : d->qvel[i - m->nq];
            if (!(o->state_min < s && s < o->state_max)) return 0;
        }
        double z = d->qpos[1], angle = d->qpos[2];
        return o->z_min < z && z < o->z_max && o->angle_min < angle && angle < o->angle_max;
    }
    case WALKER: {
        double z = d->qpos[1], angle = d->qpos[2];
        return o->z_min < z && z < o->z_max && o->angle_min < angle && angle < o->angle_max;
    }
    case ANT: { /* finite state, inclusive z range */
        for (int i = 0; i < m->nq; i++)
            if (!isfinite(d->qpos[i])) return 0;
        for (int i = 0; i < m->nv; i++)
            if (!isfinite(d->qvel[i])) return 0;
        return o->z_min <= d->qpos[2] && d->qpos[2] <= o->z_max;
    }
    case HUMANOID:
        return o->z_min < d->qpos[2] && d->qpos[2] < o->z_max;
    case CHEETAH:
        break;
    }
    return 1;
}

/* Ant: clip(cfrc_ext) into out [6 * nbody]. */
static void clipped_contact_forces(const mj_env *me, double *out)
{
    int n = 6 * me->m->nbody;
    for (int i = 0; i < n; i++) out[i] = clip(me->d->cfrc_ext[i], me->o.cforce_min, me->o.cforce_max);
}

/* ---- observation ---- */

static void observe(const mj_env *me, double *obs)
{
    const mjModel *m = me->m;
    const mjData *d = me->d;
    int k = 0;
    switch (me->spec->kind) {
    case CHEETAH:
    case HOPPER:
    case WALKER: {
        for (int i = me->o.exclude_positions ? 1 : 0; i < m->nq; i++) obs[k++] = d->qpos[i];
        int clip_v = me->spec->kind != CHEETAH; /* Hopper and Walker2d clip v to [-10, 10] */
        for (int i = 0; i < m->nv; i++) obs[k++] = clip_v ? clip(d->qvel[i], -10, 10) : d->qvel[i];
        break;
    }
    case ANT:
        for (int i = me->o.exclude_positions ? 2 : 0; i < m->nq; i++) obs[k++] = d->qpos[i];
        for (int i = 0; i < m->nv; i++) obs[k++] = d->qvel[i];
        if (me->contact_obs) {
            clipped_contact_forces(me, obs + k);
            k += 6 * m->nbody;
        }
        break;
    case HUMANOID:
        for (int i = me->o.exclude_positions ? 2 : 0; i < m->nq; i++) obs[k++] = d->qpos[i];
        memcpy(obs + k, d->qvel, sizeof(double) * m->nv), k += m->nv;
        memcpy(obs + k, d->cinert, sizeof(double) * 10 * m->nbody), k += 10 * m->nbody;
        memcpy(obs + k, d->cvel, sizeof(double) * 6 * m->nbody), k += 6 * m->nbody;
        memcpy(obs + k, d->qfrc_actuator, sizeof(double) * m->nv), k += m->nv;
        memcpy(obs + k, d->cfrc_ext, sizeof(double) * 6 * m->nbody), k += 6 * m->nbody;
        break;
    }
}

static int obs_dim(const mj_env *me)
{
    const mjModel *m = me->m;
    int ex = me->o.exclude_positions;
    switch (me->spec->kind) {
    case CHEETAH:
    case HOPPER:
    case WALKER:
        return m->nq - ex + m->nv;
    case ANT:
        return m->nq - 2 * ex + m->nv + (me->contact_obs ? 6 * m->nbody : 0);
    case HUMANOID:
        return m->nq - 2 * ex + m->nv + 10 * m->nbody + 6 * m->nbody + m->nv + 6 * m->nbody;
    }
    return 0;
}

/* ---- ops ---- */

static int mujoco_reset(pp_env *e, pp_rng *rng, double *obs)
{
    mj_env *me = e->impl;
    const mjModel *m = me->m;
    mjData *d = me->d;
    double s = me->o.reset_noise;
    /* HalfCheetah and Ant: velocity noise s * N(0, 1); the others uniform. */
    int normal_v = me->spec->kind == CHEETAH || me->spec->kind == ANT;
    mj_resetData(m, d);
    for (int i = 0; i < m->nq; i++) d->qpos[i] = m->qpos0[i] + (-s + 2 * s * pp_rng_uniform(rng));
    for (int i = 0; i < m->nv; i++)
        d->qvel[i] = normal_v ? s * pp_rng_normal(rng) : -s + 2 * s * pp_rng_uniform(rng);
    mj_forward(m, d);
    observe(me, obs);
    return 0;
}

int pp_env_mujoco_set_state(pp_env *e, const double *qpos, const double *qvel, double *obs)
{
    const mjModel *m;
    mjData *d;
    if (pp_env_mujoco_model(e, &m, &d) != 0) return -1;
    mj_resetData(m, d);
    memcpy(d->qpos, qpos, sizeof(double) * m->nq);
    memcpy(d->qvel, qvel, sizeof(double) * m->nv);
    mj_forward(m, d);
    observe(e->impl, obs);
    return 0;
}

static int mujoco_step(pp_env *e, const double *act, double *obs, double *reward, int *terminated)
{
    mj_env *me = e->impl;
    const mjModel *m = me->m;
    mjData *d = me->d;
    const task_options *o = &me->o;
    task_kind kind = me->spec->kind;

    double before[2], after[2];
    progress_xy(me, before);
    for (int i = 0; i < m->nu; i++) d->ctrl[i] = act[i]; /* raw: MuJoCo clamps the force */
    for (int k = 0; k < me->spec->frame_skip; k++) mj_step(m, d);
    if (me->spec->v4) mj_rnePostConstraint(m, d); /* no mj_forward: derived data lag */
    progress_xy(me, after);
    double vx = (after[0] - before[0]) / me->dt;

    /* the control cost sees the action as given (Humanoid reads d->ctrl: the same values) */
    double ctrl_cost = o->ctrl_w * pp_np_sum_squares(kind == HUMANOID ? d->ctrl : act, m->nu);
    int healthy = is_healthy(me);
    double healthy_reward = (double)(healthy || o->terminate_when_unhealthy) * o->healthy_reward;

    switch (kind) {
    case CHEETAH:
        *reward = o->forward_w * vx - ctrl_cost;
        break;
    case HOPPER:
    case WALKER:
        *reward = (o->forward_w * vx + healthy_reward) - ctrl_cost;
        break;
    case ANT: {
        double costs = ctrl_cost;
        if (me->contact_obs) { /* the clipped forces are the last 6 * nbody entries of obs */
            observe(me, obs);
            const double *f = obs + obs_dim(me) - 6 * m->nbody;
            costs = ctrl_cost + o->contact_w * pp_np_sum_squares(f, 6 * m->nbody);
        }
        *reward = (vx + healthy_reward) - costs; /* forward weight is fixed at 1 */
        break;
    }
    case HUMANOID:
        if (me->spec->v4) {
            *reward = (o->forward_w * vx + healthy_reward) - ctrl_cost;
        } else {
            double contact = o->contact_w * pp_np_sum_squares(d->cfrc_ext, 6 * m->nbody);
            contact = clip(contact, o->ccost_min, o->ccost_max);
            *reward = (o->forward_w * vx + healthy_reward) - (ctrl_cost + contact);
        }
        break;
    }
    *terminated = kind != CHEETAH && o->terminate_when_unhealthy && !healthy;
    observe(me, obs);
    return 0;
}

static void mujoco_destroy(pp_env *e)
{
    if (!e) return;
    mj_env *me = e->impl;
    if (me) {
        if (me->d) mj_deleteData(me->d);
        if (me->m) mj_deleteModel(me->m);
        free(me);
    }
    free(e);
}

/* ---- state ----
 *
 * What mj_step reads from mjData besides the model: time, qpos, qvel, act,
 * qacc_warmstart (the constraint solver's warm start), ctrl, the applied
 * forces, the mocap poses and userdata; it recomputes everything else from
 * them. A step here also reads two derived arrays before mj_step refreshes
 * them (xpos for Ant's torso, xipos for Humanoid's centre of mass: they lag
 * the state by a substep, as in Gym), so those are kept too. set_state
 * clears the data (mj_resetData) and copies the words back, with no
 * mj_forward, which would refresh the lagging arrays. */
typedef struct {
    size_t off;   /* of the mjtNum * in mjData */
    int per;      /* words per unit */
    int unit;     /* 0 one, 1 nq, 2 nv, 3 na, 4 nu, 5 nbody, 6 nmocap, 7 nuserdata */
} state_part;

static const state_part state_parts[] = {
    {offsetof(mjData, qpos), 1, 1},           {offsetof(mjData, qvel), 1, 2},
    {offsetof(mjData, act), 1, 3},            {offsetof(mjData, qacc_warmstart), 1, 2},
    {offsetof(mjData, ctrl), 1, 4},           {offsetof(mjData, qfrc_applied), 1, 2},
    {offsetof(mjData, xfrc_applied), 6, 5},   {offsetof(mjData, mocap_pos), 3, 6},
    {offsetof(mjData, mocap_quat), 4, 6},     {offsetof(mjData, userdata), 1, 7},
    {offsetof(mjData, xpos), 3, 5},           {offsetof(mjData, xipos), 3, 5},
};
#define NPARTS (sizeof state_parts / sizeof state_parts[0])

static size_t part_words(const mjModel *m, const state_part *p)
{
    const int units[] = {1, m->nq, m->nv, m->na, m->nu, m->nbody, m->nmocap, m->nuserdata};
    return (size_t)p->per * (size_t)units[p->unit];
}

static mjtNum *part_ptr(mjData *d, const state_part *p) { return *(mjtNum **)((char *)d + p->off); }

static size_t mujoco_state_size(const pp_env *e)
{
    const mj_env *me = e->impl;
    size_t n = 1; /* time */
    for (size_t i = 0; i < NPARTS; i++) n += part_words(me->m, &state_parts[i]);
    return n;
}

static void mujoco_get_state(const pp_env *e, double *out)
{
    const mj_env *me = e->impl;
    size_t k = 0;
    out[k++] = me->d->time;
    for (size_t i = 0; i < NPARTS; i++) {
        size_t n = part_words(me->m, &state_parts[i]);
        if (n) memcpy(out + k, part_ptr(me->d, &state_parts[i]), n * sizeof(double));
        k += n;
    }
}

static int mujoco_set_state(pp_env *e, const double *in)
{
    mj_env *me = e->impl;
    mj_resetData(me->m, me->d);
    size_t k = 0;
    me->d->time = in[k++];
    for (size_t i = 0; i < NPARTS; i++) {
        size_t n = part_words(me->m, &state_parts[i]);
        if (n) memcpy(part_ptr(me->d, &state_parts[i]), in + k, n * sizeof(double));
        k += n;
    }
    return 0;
}

static const pp_env_ops mujoco_ops = {.reset = mujoco_reset,
                                      .step = mujoco_step,
                                      .destroy = mujoco_destroy,
                                      .state_size = mujoco_state_size,
                                      .get_state = mujoco_get_state,
                                      .set_state = mujoco_set_state};

int pp_env_mujoco_model(pp_env *e, const mjModel **m, mjData **d)
{
    if (!e || e->ops != &mujoco_ops) {
        *m = NULL;
        *d = NULL;
        return pp_fail("not a MuJoCo environment");
    }
    mj_env *me = e->impl;
    *m = me->m;
    *d = me->d;
    return 0;
}

/* ---- options ---- */

static void default_options(task_kind kind, int v4, task_options *o)
{
    memset(o, 0, sizeof *o);
    o->terminate_when_unhealthy = 1;
    o->exclude_positions = 1;
    o->forward_w = 1.0;
    o->healthy_reward = 1.0;
    o->z_min = -INFINITY;
    o->z_max = INFINITY;
    o->angle_min = -INFINITY;
    o->angle_max = INFINITY;
    o->state_min = -INFINITY;
    o->state_max = INFINITY;
    o->ccost_min = -INFINITY;
    o->ccost_max = INFINITY;
    switch (kind) {
    case CHEETAH:
        o->ctrl_w = 0.1;
        o->reset_noise = 0.1;
        break;
    case HOPPER:
        o->ctrl_w = 1e-3;
        o->state_min = -100.0, o->state_max = 100.0;
        o->z_min = 0.7;
        o->angle_min = -0.2, o->angle_max = 0.2;
        o->reset_noise = 5e-3;
        break;
    case WALKER:
        o->ctrl_w = 1e-3;
        o->z_min = 0.8, o->z_max = 2.0;
        o->angle_min = -1.0, o->angle_max = 1.0;
        o->reset_noise = 5e-3;
        break;
    case ANT:
        o->ctrl_w = 0.5;
        o->contact_w = 5e-4;
        o->cforce_min = -1.0, o->cforce_max = 1.0;
        o->z_min = 0.2, o->z_max = 1.0;
        o->reset_noise = 0.1;
        break;
    case HUMANOID:
        o->forward_w = 1.25;
        o->ctrl_w = 0.1;
        o->contact_w = v4 ? 0.0 : 5e-7;
        o->ccost_max = 10.0;
        o->healthy_reward = 5.0;
        o->z_min = 1.0, o->z_max = 2.0;
        o->reset_noise = 1e-2;
        break;
    }
}

/* Which keys a task accepts: a space-separated list per task. */
static const char *accepted_keys(task_kind kind, int v4)
{
    switch (kind) {
    case CHEETAH:
        return "forward_reward_weight ctrl_cost_weight reset_noise_scale "
               "exclude_current_positions_from_observation";
    case HOPPER:
        return "forward_reward_weight ctrl_cost_weight healthy_reward terminate_when_unhealthy "
               "healthy_state_min healthy_state_max healthy_z_min healthy_z_max "
               "healthy_angle_min healthy_angle_max reset_noise_scale "
               "exclude_current_positions_from_observation";
    case WALKER:
        return "forward_reward_weight ctrl_cost_weight healthy_reward terminate_when_unhealthy "
               "healthy_z_min healthy_z_max healthy_angle_min healthy_angle_max "
               "reset_noise_scale exclude_current_positions_from_observation";
    case ANT:
        return v4 ? "ctrl_cost_weight use_contact_forces contact_cost_weight healthy_reward "
                    "terminate_when_unhealthy healthy_z_min healthy_z_max contact_force_min "
                    "contact_force_max reset_noise_scale "
                    "exclude_current_positions_from_observation"
                  : "ctrl_cost_weight contact_cost_weight healthy_reward "
                    "terminate_when_unhealthy healthy_z_min healthy_z_max contact_force_min "
                    "contact_force_max reset_noise_scale "
                    "exclude_current_positions_from_observation";
    case HUMANOID:
        return v4 ? "forward_reward_weight ctrl_cost_weight healthy_reward "
                    "terminate_when_unhealthy healthy_z_min healthy_z_max reset_noise_scale "
                    "exclude_current_positions_from_observation"
                  : "forward_reward_weight ctrl_cost_weight contact_cost_weight "
                    "contact_cost_min contact_cost_max healthy_reward terminate_when_unhealthy "
                    "healthy_z_min healthy_z_max reset_noise_scale "
                    "exclude_current_positions_from_observation";
    }
    return "";
}

static int key_accepted(const char *list, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = list; (p = strstr(p, key)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
    return 0;
}

typedef struct {
    const task_spec *spec;
    task_options *o;
} option_ctx;

static int parse_number(const char *key, const char *value, double *out)
{
    char *end;
    double x = strtod(value, &end);
    if (end == value || *end != '\0' || isnan(x))
        return pp_fail("option %s=%s: expected a number", key, value);
    *out = x;
    return 0;
}

static int parse_bool(const char *key, const char *value, int *out)
{
    static const char *yes[] = {"1", "true", "True", "yes", "on"};
    static const char *no[] = {"0", "false", "False", "no", "off"};
    for (int i = 0; i < 5; i++) {
        if (!strcmp(value, yes[i])) return *out = 1, 0;
        if (!strcmp(value, no[i])) return *out = 0, 0;
    }
    return pp_fail("option %s=%s: expected 0/1/true/false", key, value);
}

static int mujoco_option(void *vctx, const char *key, const char *value)
{
    option_ctx *c = vctx;
    task_options *o = c->o;
    const char *list = accepted_keys(c->spec->kind, c->spec->v4);
    if (!key_accepted(list, key))
        return pp_fail("%s: unknown option '%s', expected one of: %s", c->spec->name, key, list);
    static const struct {
        const char *key;
        size_t off;
    } numbers[] = {
        {"forward_reward_weight", offsetof(task_options, forward_w)},
        {"ctrl_cost_weight", offsetof(task_options, ctrl_w)},
        {"contact_cost_weight", offsetof(task_options, contact_w)},
        {"healthy_reward", offsetof(task_options, healthy_reward)},
        {"healthy_z_min", offsetof(task_options, z_min)},
        {"healthy_z_max", offsetof(task_options, z_max)},
        {"healthy_angle_min", offsetof(task_options, angle_min)},
        {"healthy_angle_max", offsetof(task_options, angle_max)},
        {"healthy_state_min", offsetof(task_options, state_min)},
        {"healthy_state_max", offsetof(task_options, state_max)},
        {"contact_force_min", offsetof(task_options, cforce_min)},
        {"contact_force_max", offsetof(task_options, cforce_max)},
        {"contact_cost_min", offsetof(task_options, ccost_min)},
        {"contact_cost_max", offsetof(task_options, ccost_max)},
        {"reset_noise_scale", offsetof(task_options, reset_noise)},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (!strcmp(key, numbers[i].key))
            return parse_number(key, value, (double *)((char *)o + numbers[i].off));
    if (!strcmp(key, "terminate_when_unhealthy"))
        return parse_bool(key, value, &o->terminate_when_unhealthy);
    if (!strcmp(key, "exclude_current_positions_from_observation"))
        return parse_bool(key, value, &o->exclude_positions);
    if (!strcmp(key, "use_contact_forces")) return parse_bool(key, value, &o->use_contact_forces);
    return pp_fail("%s: option '%s' is listed but not handled", c->spec->name, key);
}

/* ---- MuJoCo messages ---- */

/* MuJoCo's default handlers print to stdout (where parpi programs write
 * frames) and append to MUJOCO_LOG.TXT in the working directory: send
 * them to stderr instead. */
static void mj_warning_to_stderr(const char *msg) { fprintf(stderr, "MuJoCo warning: %s\n", msg); }
static void mj_error_to_stderr(const char *msg)
{
    fprintf(stderr, "MuJoCo error: %s\n", msg);
    exit(EXIT_FAILURE); /* MuJoCo errors must not return */
}
static void install_handlers(void)
{
    if (!mju_user_warning) mju_user_warning = mj_warning_to_stderr;
    if (!mju_user_error) mju_user_error = mj_error_to_stderr;
}

/* ---- constructor ---- */

int pp_env_mujoco_create(const char *name, const char *options, pp_env **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_handlers);
    *out = NULL;
    const task_spec *spec = NULL;
    for (int i = 0; i < NTASKS; i++)
        if (!strcmp(tasks[i].name, name)) spec = &tasks[i];
    if (!spec) return pp_fail("%s: not a MuJoCo task (HalfCheetah, Hopper, Walker2d, Ant, "
                              "Humanoid; -v3 or -v4)", name);

    task_options o;
    default_options(spec->kind, spec->v4, &o);
    option_ctx ctx = {spec, &o};
    if (pp_env_parse_options(options, mujoco_option, &ctx) != 0) return -1;
    if (o.reset_noise < 0)
        return pp_fail("%s: option reset_noise_scale=%g: expected >= 0", name, o.reset_noise);

    char path[4096];
    if (pp_share_path(spec->model, path, sizeof path) != 0) return pp_fail_prefix("%s: ", name);
    char err[1000] = "";
    mjModel *m = mj_loadXML(path, NULL, err, sizeof err);
    if (!m) return pp_fail("%s: loading %s: %s", name, path, err);
    if (m->nu > PP_ENV_MAX_ACT) {
        mj_deleteModel(m);
        return pp_fail("%s: %s has %d actuators, expected at most %d", name, path, m->nu,
                       PP_ENV_MAX_ACT);
    }
    mj_env *me = pp_xcalloc(1, sizeof *me);
    me->spec = spec;
    me->o = o;
    me->m = m;
    me->d = mj_makeData(m);
    me->dt = m->opt.timestep * spec->frame_skip;
    me->torso = mj_name2id(m, mjOBJ_BODY, "torso");
    me->contact_obs = spec->kind == ANT && (!spec->v4 || o.use_contact_forces);

    pp_env *e = pp_xcalloc(1, sizeof *e);
    e->ops = &mujoco_ops;
    e->impl = me;
    if (me->torso < 0) {
        mujoco_destroy(e);
        return pp_fail("%s: %s has no body named torso", name, path);
    }
    pp_env_info *in = &e->info;
    in->name = spec->name;
    in->obs_dim = obs_dim(me);
    in->act_dim = m->nu;
    in->max_steps = 1000;
    in->dt = me->dt;
    for (int i = 0; i < m->nu; i++) {
        in->act_low[i] = m->actuator_ctrlrange[2 * i];
        in->act_high[i] = m->actuator_ctrlrange[2 * i + 1];
    }
    *out = e;
    return 0;
}
