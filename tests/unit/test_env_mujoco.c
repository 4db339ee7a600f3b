/* MuJoCo locomotion envs: our MJCF models against figures recorded from the
 * Gym reference models (tests/fixtures/mujoco-reference.txt, made by
 * dev/tools/mjcompare.c), and the env behaviour against the spec
 * (docs-envs.md): observation layout, reward terms, health thresholds,
 * reset noise, determinism, v3/v4 contact forces.
 *
 * Drives the env through pp_env_mujoco_create and its ops (the step counter
 * and time limit live in env.c and are tested there).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "env/env_mujoco.h"
#include "base/err.h"

/* ---- the fixture ---- */

typedef struct {
    char model[32], key[64];
    int n;
    double *v;
} fixrow;

static fixrow *rows;
static int nrows;

static int load_fixture(void)
{
    const char *path = getenv("PARPI_FIXTURE_MUJOCO");
    if (!path) path = "tests/fixtures/mujoco-reference.txt";
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    static char line[1 << 16];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        fixrow r;
        int used;
        if (sscanf(line, "%31s %63s %d%n", r.model, r.key, &r.n, &used) != 3) continue;
        r.v = malloc(sizeof(double) * (r.n ? r.n : 1));
        char *p = line + used;
        for (int i = 0; i < r.n; i++) r.v[i] = strtod(p, &p);
        rows = realloc(rows, sizeof *rows * (nrows + 1));
        rows[nrows++] = r;
    }
    fclose(f);
    return 0;
}

static const fixrow *fix(const char *model, const char *key)
{
    for (int i = 0; i < nrows; i++)
        if (!strcmp(rows[i].model, model) && !strcmp(rows[i].key, key)) return &rows[i];
    return NULL;
}

/* max |ours - fixture| over a field, or INFINITY if missing/mis-sized */
static double field_diff(const char *model, const char *key, const double *ours, int n)
{
    const fixrow *r = fix(model, key);
    if (!r || r->n != n) return INFINITY;
    double d = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs(ours[i] - r->v[i]));
    return d;
}

static double field_diff_int(const char *model, const char *key, const int *ours, int n)
{
    double tmp[256] = {0};
    if (n > 256) return INFINITY;
    for (int i = 0; i < n; i++) tmp[i] = ours[i];
    return field_diff(model, key, tmp, n);
}

/* ---- helpers ---- */

static pp_env *make(const char *name, const char *options)
{
    pp_env *e = NULL;
    if (pp_env_mujoco_create(name, options, &e) != 0) {
        printf("# %s (%s): %s\n", name, options ? options : "", pp_error());
        return NULL;
    }
    return e;
}

static void destroy(pp_env *e)
{
    if (e) e->ops->destroy(e);
}

/* the fixture's action for actuator i at env step t */
static double fixture_action(const mjModel *m, int i, int t)
{
    double lo = m->actuator_ctrlrange[2 * i], hi = m->actuator_ctrlrange[2 * i + 1];
    return 0.5 * (lo + hi) + 0.5 * (hi - lo) * (0.8 * sin(0.37 * t + 1.1 * i));
}

static double sumsq(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i] * x[i];
    return s;
}

static const struct {
    const char *model, *v3, *v4;
    int frame_skip;
} models[] = {
    {"half_cheetah", "HalfCheetah-v3", "HalfCheetah-v4", 5},
    {"hopper", "Hopper-v3", "Hopper-v4", 4},
    {"walker2d", "Walker2d-v3", "Walker2d-v4", 4},
    {"ant", "Ant-v3", "Ant-v4", 5},
    {"humanoid", "Humanoid-v3", "Humanoid-v4", 5},
};

/* ---- 1. compiled model against the reference figures ---- */

static void test_model_against_fixture(int k)
{
    const char *mn = models[k].model;
    pp_env *e = make(models[k].v4, NULL);
    CHECK(e != NULL, "%s: env created", models[k].v4);
    if (!e) return;
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);

    int sizes[] = {m->nq, m->nv, m->nu, m->nbody, m->njnt, m->ngeom, m->ntendon};
    CHECK(field_diff_int(mn, "sizes(nq,nv,nu,nbody,njnt,ngeom,ntendon)", sizes, 7) == 0,
          "%s: nq %d nv %d nu %d nbody %d njnt %d ngeom %d ntendon %d as the reference", mn,
          m->nq, m->nv, m->nu, m->nbody, m->njnt, m->ngeom, m->ntendon);
    int opts[] = {m->opt.integrator, m->opt.solver, m->opt.iterations, models[k].frame_skip};
    CHECK(field_diff_int(mn, "opt(integrator,solver,iterations,frame_skip)", opts, 4) == 0,
          "%s: integrator %d, solver %d, %d iterations, frame_skip %d as the reference", mn,
          opts[0], opts[1], opts[2], opts[3]);
    CHECK(field_diff(mn, "timestep", &m->opt.timestep, 1) == 0, "%s: timestep %g", mn,
          m->opt.timestep);
    double tm = mj_getTotalmass((mjModel *)m);
    CHECK(field_diff(mn, "totalmass", &tm, 1) <= 1e-12, "%s: total mass %.6f kg", mn, tm);

    /* every recorded field: exact agreement expected (bit-identical compile),
     * 1e-12 allowed */
    struct {
        const char *key;
        const double *v;
        int n;
    } f[] = {
        {"body_mass", m->body_mass, m->nbody},
        {"body_inertia", m->body_inertia, 3 * m->nbody},
        {"body_ipos", m->body_ipos, 3 * m->nbody},
        {"body_iquat", m->body_iquat, 4 * m->nbody},
        {"body_pos", m->body_pos, 3 * m->nbody},
        {"body_quat", m->body_quat, 4 * m->nbody},
        {"qpos0", m->qpos0, m->nq},
        {"jnt_pos", m->jnt_pos, 3 * m->njnt},
        {"jnt_axis", m->jnt_axis, 3 * m->njnt},
        {"jnt_range", m->jnt_range, 2 * m->njnt},
        {"jnt_stiffness", m->jnt_stiffness, m->njnt},
        {"jnt_solref", m->jnt_solref, mjNREF * m->njnt},
        {"jnt_solimp", m->jnt_solimp, mjNIMP * m->njnt},
        {"dof_damping", m->dof_damping, m->nv},
        {"dof_armature", m->dof_armature, m->nv},
        {"geom_size", m->geom_size, 3 * m->ngeom},
        {"geom_pos", m->geom_pos, 3 * m->ngeom},
        {"geom_quat", m->geom_quat, 4 * m->ngeom},
        {"geom_friction", m->geom_friction, 3 * m->ngeom},
        {"geom_margin", m->geom_margin, m->ngeom},
        {"geom_solref", m->geom_solref, mjNREF * m->ngeom},
        {"geom_solimp", m->geom_solimp, mjNIMP * m->ngeom},
        {"actuator_ctrlrange", m->actuator_ctrlrange, 2 * m->nu},
        {"wrap_prm", m->wrap_prm, m->nwrap},
    };
    double worst = 0;
    const char *worst_key = "-";
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        double dd = field_diff(mn, f[i].key, f[i].v, f[i].n);
        if (!(dd <= 1e-12)) printf("#   %s %s: max|diff| %g\n", mn, f[i].key, dd);
        if (!(dd <= worst)) worst = dd, worst_key = f[i].key;
    }
    CHECK(worst <= 1e-12, "%s: %d model fields match the reference (worst %s, %.3g)", mn,
          (int)(sizeof f / sizeof f[0]), worst_key, worst);

    double gear[PP_ENV_MAX_ACT];
    for (int i = 0; i < m->nu; i++) gear[i] = m->actuator_gear[6 * i];
    CHECK(field_diff(mn, "actuator_gear", gear, m->nu) == 0, "%s: gears as the reference", mn);
    int ints[256];
    for (int i = 0; i < m->njnt; i++) ints[i] = m->jnt_limited[i];
    CHECK(field_diff_int(mn, "jnt_limited", ints, m->njnt) == 0 &&
              field_diff_int(mn, "jnt_type", m->jnt_type, m->njnt) == 0 &&
              field_diff_int(mn, "actuator_trnid", m->actuator_trnid, 2 * m->nu) == 0 &&
              field_diff_int(mn, "geom_contype", m->geom_contype, m->ngeom) == 0 &&
              field_diff_int(mn, "geom_conaffinity", m->geom_conaffinity, m->ngeom) == 0 &&
              field_diff_int(mn, "geom_condim", m->geom_condim, m->ngeom) == 0 &&
              field_diff_int(mn, "tendon_num", m->tendon_num, m->ntendon) == 0,
          "%s: joint types/limits, actuator joints (order), contact flags, tendons as the "
          "reference", mn);
    destroy(e);
}

/* ---- 2. a 50-step rollout through the env against the reference ---- */

static void test_rollout_against_fixture(int k)
{
    const char *mn = models[k].model;
    pp_env *e = make(models[k].v4, "reset_noise_scale=0");
    if (!e) {
        CHECK(0, "%s: env with reset_noise_scale=0", mn);
        return;
    }
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    double obs[512], act[PP_ENV_MAX_ACT], r;
    int term;
    e->ops->reset(e, &rng, obs);
    double worst_q = 0, worst_c = 0;
    int compared = 0;
    for (int t = 0; t < 50; t++) {
        for (int i = 0; i < m->nu; i++) act[i] = fixture_action(m, i, t);
        e->ops->step(e, act, obs, &r, &term);
        int T = t + 1;
        if (T == 1 || T == 2 || T == 5 || T % 10 == 0) {
            char key[32];
            snprintf(key, sizeof key, "qpos@%d", T);
            worst_q = fmax(worst_q, field_diff(mn, key, d->qpos, m->nq));
            snprintf(key, sizeof key, "qvel@%d", T);
            worst_q = fmax(worst_q, field_diff(mn, key, d->qvel, m->nv));
            /* v4 ran one mj_rnePostConstraint after the substeps, as the fixture did */
            double c2 = sumsq(d->cfrc_ext, 6 * m->nbody);
            snprintf(key, sizeof key, "cfrc_ext2@%d", T);
            const fixrow *fr = fix(mn, key);
            worst_c = fmax(worst_c, fr ? fabs(c2 - fr->v[0]) / fmax(1, fabs(fr->v[0])) : INFINITY);
            compared++;
        }
    }
    CHECK(compared == 8 && worst_q <= 1e-9,
          "%s: 50 env steps with the fixed actions: qpos/qvel as the reference at %d "
          "checkpoints, max|diff| %.3g", mn, compared, worst_q);
    CHECK(worst_c <= 1e-9, "%s: v4 cfrc_ext (after mj_rnePostConstraint) as the reference, "
          "relative diff %.3g", mn, worst_c);
    destroy(e);
}

/* ---- 3. dimensions, bounds, options ---- */

static void test_dimensions(void)
{
    static const struct {
        const char *name, *options;
        int obs, act;
        double lo, hi, dt;
    } c[] = {
        {"HalfCheetah-v3", NULL, 17, 6, -1, 1, 0.05},
        {"HalfCheetah-v4", NULL, 17, 6, -1, 1, 0.05},
        {"HalfCheetah-v4", "exclude_current_positions_from_observation=0", 18, 6, -1, 1, 0.05},
        {"Hopper-v3", NULL, 11, 3, -1, 1, 0.008},
        {"Hopper-v4", "exclude_current_positions_from_observation=false", 12, 3, -1, 1, 0.008},
        {"Walker2d-v3", NULL, 17, 6, -1, 1, 0.008},
        {"Walker2d-v4", "exclude_current_positions_from_observation=0", 18, 6, -1, 1, 0.008},
        {"Ant-v3", NULL, 111, 8, -1, 1, 0.05},
        {"Ant-v3", "exclude_current_positions_from_observation=0", 113, 8, -1, 1, 0.05},
        {"Ant-v4", NULL, 27, 8, -1, 1, 0.05},
        {"Ant-v4", "exclude_current_positions_from_observation=0", 29, 8, -1, 1, 0.05},
        {"Ant-v4", "use_contact_forces=1", 111, 8, -1, 1, 0.05},
        {"Ant-v4", "use_contact_forces=1,exclude_current_positions_from_observation=0", 113, 8,
         -1, 1, 0.05},
        {"Humanoid-v3", NULL, 376, 17, -0.4, 0.4, 0.015},
        {"Humanoid-v4", NULL, 376, 17, -0.4, 0.4, 0.015},
        {"Humanoid-v4", "exclude_current_positions_from_observation=0", 378, 17, -0.4, 0.4,
         0.015},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        pp_env *e = make(c[i].name, c[i].options);
        if (!e) {
            CHECK(0, "%s %s created", c[i].name, c[i].options ? c[i].options : "");
            continue;
        }
        const pp_env_info *in = &e->info;
        int bounds = 1;
        for (int j = 0; j < in->act_dim; j++)
            bounds &= in->act_low[j] == c[i].lo && in->act_high[j] == c[i].hi;
        CHECK(in->obs_dim == c[i].obs && in->act_dim == c[i].act && bounds &&
                  fabs(in->dt - c[i].dt) < 1e-15 && in->max_steps == 1000 &&
                  !strcmp(in->name, c[i].name),
              "%s %s: obs %d (want %d), act %d (want %d) in [%g, %g], dt %g, limit %d",
              c[i].name, c[i].options ? c[i].options : "(defaults)", in->obs_dim, c[i].obs,
              in->act_dim, c[i].act, in->act_low[0], in->act_high[0], in->dt, in->max_steps);
        destroy(e);
    }
    pp_env *e = NULL;
    CHECK(pp_env_mujoco_create("Hopper-v4", "healthy_z_mn=0.5", &e) != 0 &&
              strstr(pp_error(), "healthy_z_min") && strstr(pp_error(), "healthy_z_mn"),
          "unknown option refused, accepted keys listed: %s", pp_error());
    CHECK(pp_env_mujoco_create("Ant-v3", "use_contact_forces=1", &e) != 0,
          "Ant-v3 has no use_contact_forces option (v4 only)");
    CHECK(pp_env_mujoco_create("Humanoid-v4", "contact_cost_weight=1", &e) != 0,
          "Humanoid-v4 has no contact cost option");
    CHECK(pp_env_mujoco_create("Hopper-v3", "ctrl_cost_weight=abc", &e) != 0 &&
              strstr(pp_error(), "ctrl_cost_weight=abc"),
          "bad number refused: %s", pp_error());
    CHECK(pp_env_mujoco_create("Hopper-v3", "terminate_when_unhealthy=maybe", &e) != 0,
          "bad boolean refused: %s", pp_error());
    CHECK(pp_env_mujoco_create("Pendulum-v1", NULL, &e) != 0, "non-MuJoCo name refused");
}

/* ---- 4. reward decomposition on hand-computed steps ---- */

static double humanoid_com_x(const mjModel *m, const mjData *d)
{
    double s = 0, mass = 0;
    for (int b = 0; b < m->nbody; b++) s += m->body_mass[b] * d->xipos[3 * b], mass += m->body_mass[b];
    return s / mass;
}

/* A seeded random-action episode (actions up to 1.5x the bounds, to check
 * that the cost uses the raw action), up to 300 steps or termination. At
 * every step the reward is recomputed here from the spec's formula and the
 * state before/after, and terminated from the spec's health test with its
 * default thresholds. */
static void test_reward(const char *name)
{
    pp_env *e = make(name, NULL);
    if (!e) {
        CHECK(0, "%s created", name);
        return;
    }
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);
    pp_rng rng;
    pp_rng_seed(&rng, 11);
    pp_rng arng = pp_rng_split(&rng, 1);
    double obs[512], act[PP_ENV_MAX_ACT], r = 0;
    int term = 0;
    e->ops->reset(e, &rng, obs);
    int torso = mj_name2id(m, mjOBJ_BODY, "torso");
    const char *n = name;
    int ant = strstr(n, "Ant") != NULL, hum = strstr(n, "Humanoid") != NULL;
    int hop = strstr(n, "Hopper") != NULL, walk = strstr(n, "Walker") != NULL;
    int v4 = strstr(n, "-v4") != NULL;
    double dt = m->opt.timestep * (hop || walk ? 4 : 5);
    double worst = 0, raw_max = 0;
    int t, term_ok = 1, obs_ok = 1, raw_ok = 1;
    for (t = 0; t < 300; t++) {
        for (int i = 0; i < m->nu; i++)
            act[i] = 1.5 * e->info.act_high[i] * (2 * pp_rng_uniform(&arng) - 1);
        double before = ant ? d->xpos[3 * torso] : hum ? humanoid_com_x(m, d) : d->qpos[0];
        e->ops->step(e, act, obs, &r, &term);
        double after = ant ? d->xpos[3 * torso] : hum ? humanoid_com_x(m, d) : d->qpos[0];
        double vx = (after - before) / dt, a2 = sumsq(act, m->nu), want;
        double z = d->qpos[ant || hum ? 2 : 1];
        int healthy = 1;
        if (hop) {
            for (int i = 2; i < m->nq + m->nv; i++) {
                double s = i < m->nq ? d->qpos[i] : d->qvel[i - m->nq];
                healthy &= fabs(s) < 100;
            }
            healthy &= z > 0.7 && fabs(d->qpos[2]) < 0.2;
            want = vx + 1.0 - 1e-3 * a2;
        } else if (walk) {
            healthy = z > 0.8 && z < 2.0 && fabs(d->qpos[2]) < 1.0;
            want = vx + 1.0 - 1e-3 * a2;
        } else if (ant) {
            healthy = z >= 0.2 && z <= 1.0;
            double c = 0;
            for (int i = 0; i < 6 * m->nbody; i++) {
                double f = fmin(1, fmax(-1, d->cfrc_ext[i]));
                c += f * f;
            }
            want = vx + 1.0 - 0.5 * a2 - (v4 ? 0 : 5e-4 * c);
        } else if (hum) {
            healthy = z > 1.0 && z < 2.0;
            double c = v4 ? 0 : fmin(5e-7 * sumsq(d->cfrc_ext, 6 * m->nbody), 10);
            want = 1.25 * vx + 5.0 - 0.1 * sumsq(d->ctrl, m->nu) - c;
        } else {
            want = vx - 0.1 * a2;
        }
        worst = fmax(worst, fabs(r - want) / fmax(1, fabs(want)));
        term_ok &= term == !healthy;
        for (int i = 0; i < m->nu; i++) raw_ok &= d->ctrl[i] == act[i];
        raw_max = fmax(raw_max, fabs(act[0]));
        /* the observation is the new state (positions without x[, y]), Hopper
         * and Walker2d velocities clipped to [-10, 10] */
        int skipq = ant || hum ? 2 : 1;
        for (int i = skipq; i < m->nq; i++) obs_ok &= obs[i - skipq] == d->qpos[i];
        for (int i = 0; i < m->nv; i++) {
            double v = hop || walk ? fmin(10, fmax(-10, d->qvel[i])) : d->qvel[i];
            obs_ok &= obs[m->nq - skipq + i] == v;
        }
        if (term) break;
    }
    int steps = t < 300 ? t + 1 : 300;
    CHECK(worst <= 1e-10, "%s: reward = the spec's formula at each of %d steps from reset "
          "(worst relative diff %.3g)", name, steps, worst);
    CHECK(term_ok, "%s: terminated agrees with the spec's health test at every step (%s)", name,
          t < 300 ? "terminated on the last" : "never terminated");
    CHECK(raw_ok && raw_max > e->info.act_high[0],
          "%s: the raw action (up to %.3g, beyond the bound %g) is in d->ctrl and costed",
          name, raw_max, e->info.act_high[0]);
    CHECK(obs_ok, "%s: obs is q[%d:] then %sv of the new state", name, ant || hum ? 2 : 1,
          hop || walk ? "clip(v, -10, 10) " : "");
    destroy(e);
}

/* ---- 5. health thresholds: strict or inclusive, exactly at the bound ---- */

/* Step once from a fixed state with options `opts` and report terminated. */
static int terminated_after_step(const char *name, const char *opts, double *z_after,
                                 int zi, double qz)
{
    pp_env *e = make(name, opts);
    if (!e) return -1;
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);
    double q[64], v[64], obs[512], act[PP_ENV_MAX_ACT] = {0}, r;
    memcpy(q, m->qpos0, sizeof(double) * m->nq);
    memset(v, 0, sizeof(double) * m->nv);
    q[zi] = qz;
    pp_env_mujoco_set_state(e, q, v, obs);
    int term;
    e->ops->step(e, act, obs, &r, &term);
    if (z_after) *z_after = d->qpos[zi];
    destroy(e);
    return term;
}

static void test_health_bounds(void)
{
    static const struct {
        const char *name;
        int zi;
        double start;
        int inclusive;
    } c[] = {
        {"Hopper-v3", 1, 1.25, 0}, {"Walker2d-v4", 1, 1.25, 0},
        {"Ant-v3", 2, 0.75, 1},    {"Humanoid-v4", 2, 1.4, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        double z;
        int t0 = terminated_after_step(c[i].name, NULL, &z, c[i].zi, c[i].start);
        char at[128], below[128], above[128];
        snprintf(at, sizeof at, "healthy_z_min=%.17g", z);
        snprintf(below, sizeof below, "healthy_z_min=%.17g", nextafter(z, -INFINITY));
        snprintf(above, sizeof above, "healthy_z_min=%.17g", nextafter(z, INFINITY));
        int t_at = terminated_after_step(c[i].name, at, NULL, c[i].zi, c[i].start);
        int t_below = terminated_after_step(c[i].name, below, NULL, c[i].zi, c[i].start);
        int t_above = terminated_after_step(c[i].name, above, NULL, c[i].zi, c[i].start);
        CHECK(t0 == 0 && t_below == 0 && t_above == 1 && t_at == !c[i].inclusive,
              "%s: z %.6f; z_min just below: healthy; z_min == z: %s; just above: terminated",
              c[i].name, z, c[i].inclusive ? "healthy (inclusive)" : "terminated (strict)");
        snprintf(at, sizeof at, "healthy_z_max=%.17g", z);
        int t_max = terminated_after_step(c[i].name, at, NULL, c[i].zi, c[i].start);
        CHECK(t_max == !c[i].inclusive, "%s: z_max == z: %s", c[i].name,
              c[i].inclusive ? "healthy" : "terminated");
    }
    /* default upper and angle thresholds from a fixed start (the lower z
     * bounds are covered by the random episodes in test_reward: a robot put
     * below them is pushed up by the floor within the step) */
    CHECK(terminated_after_step("Walker2d-v3", NULL, NULL, 1, 2.2) == 1,
          "Walker2d: torso height 2.2 > 2.0 terminates");
    CHECK(terminated_after_step("Ant-v4", NULL, NULL, 2, 1.2) == 1,
          "Ant: torso z 1.2 > 1.0 terminates");
    CHECK(terminated_after_step("Hopper-v3", NULL, NULL, 2, 0.25) == 1,
          "Hopper: torso pitch 0.25 outside (-0.2, 0.2) terminates");
    CHECK(terminated_after_step("Walker2d-v3", NULL, NULL, 2, -1.1) == 1,
          "Walker2d: torso pitch -1.1 outside (-1, 1) terminates");
    CHECK(terminated_after_step("Hopper-v3", "terminate_when_unhealthy=0", NULL, 1, 0.5) == 0,
          "terminate_when_unhealthy=0: never terminated");
    CHECK(terminated_after_step("HalfCheetah-v3", NULL, NULL, 1, -3) == 0,
          "HalfCheetah never terminates");

    /* Hopper's state range applies to the unclipped velocity */
    pp_env *e = make("Hopper-v3", NULL);
    if (e) {
        const mjModel *m;
        mjData *d;
        pp_env_mujoco_model(e, &m, &d);
        double q[6], v[6] = {150, 0, 0, 0, 0, 0}, obs[16], act[3] = {0}, r;
        memcpy(q, m->qpos0, sizeof q);
        pp_env_mujoco_set_state(e, q, v, obs);
        int term;
        e->ops->step(e, act, obs, &r, &term);
        CHECK(term == 1 && fabs(d->qvel[0]) >= 100 && obs[5] == 10,
              "Hopper: |v_x| %.1f >= 100 terminates although the obs shows it clipped to 10",
              d->qvel[0]);
        destroy(e);
    }
}

/* ---- 6. the healthy-reward quirk ---- */

static void test_healthy_reward_quirk(void)
{
    double r_term = 0, r_keep = 0;
    for (int k = 0; k < 2; k++) {
        pp_env *e = make("Hopper-v4", k ? "terminate_when_unhealthy=0" : NULL);
        if (!e) continue;
        const mjModel *m;
        mjData *d;
        pp_env_mujoco_model(e, &m, &d);
        double q[6], v[6] = {0}, obs[16], act[3] = {0.1, 0.2, 0.3};
        memcpy(q, m->qpos0, sizeof q);
        q[1] = 0.5; /* unhealthy */
        pp_env_mujoco_set_state(e, q, v, obs);
        int term;
        e->ops->step(e, act, obs, k ? &r_keep : &r_term, &term);
        destroy(e);
    }
    CHECK_NEAR(r_term - r_keep, 1.0, 1e-12,
               "Hopper: the unhealthy terminating step still pays healthy_reward 1 "
               "(terminate_when_unhealthy=1: %.6f, =0: %.6f)", r_term, r_keep);
}

/* ---- 7. reset noise ---- */

static void test_reset_noise(void)
{
    static const struct {
        const char *name;
        double s;
        int normal_v;
    } c[] = {
        {"HalfCheetah-v4", 0.1, 1}, {"Hopper-v4", 5e-3, 0},    {"Walker2d-v3", 5e-3, 0},
        {"Ant-v4", 0.1, 1},         {"Humanoid-v3", 1e-2, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        pp_env *e = make(c[i].name, NULL);
        if (!e) continue;
        const mjModel *m;
        mjData *d;
        pp_env_mujoco_model(e, &m, &d);
        pp_rng rng;
        pp_rng_seed(&rng, 5 + i);
        double obs[512], qmax = 0, vmax = 0, qsum = 0, vsum = 0, vsq = 0;
        long nq = 0, nv = 0;
        int quat_normalised = 1;
        for (int rep = 0; rep < 500; rep++) {
            e->ops->reset(e, &rng, obs);
            int free_root = m->nq > m->nv;
            for (int j = 0; j < m->nq; j++) {
                if (free_root && j >= 3 && j < 7) continue; /* quaternion: below */
                double x = d->qpos[j] - m->qpos0[j];
                qmax = fmax(qmax, fabs(x)), qsum += x, nq++;
            }
            for (int j = 0; j < m->nv; j++) {
                double x = d->qvel[j];
                vmax = fmax(vmax, fabs(x)), vsum += x, vsq += x * x, nv++;
            }
            if (free_root) {
                double n2 = sumsq(d->qpos + 3, 4);
                quat_normalised &= fabs(n2 - 1) < 1e-12 && fabs(d->qpos[3] - 1) > 0;
            }
        }
        double s = c[i].s, vsd = sqrt(vsq / nv - (vsum / nv) * (vsum / nv));
        CHECK(qmax <= s && qmax > 0.98 * s && fabs(qsum / nq) < 0.05 * s,
              "%s: qpos - qpos0 ~ U(-%g, %g): max |.| %.3g, mean %.2g (%ld draws)", c[i].name,
              s, s, qmax, qsum / nq, nq);
        if (c[i].normal_v)
            CHECK(vmax > 3 * s && fabs(vsd - s) < 0.05 * s,
                  "%s: qvel ~ %g N(0,1): sd %.4g, max |.| %.3g", c[i].name, s, vsd, vmax);
        else
            CHECK(vmax <= s && vmax > 0.98 * s && fabs(vsd - s / sqrt(3)) < 0.05 * s,
                  "%s: qvel ~ U(-%g, %g): sd %.4g (want %.4g), max |.| %.3g", c[i].name, s, s,
                  vsd, s / sqrt(3), vmax);
        if (m->nq > m->nv)
            CHECK(quat_normalised, "%s: the noisy root quaternion reads back normalised after "
                  "the reset's mj_forward (MuJoCo 2.2.2 normalises qpos in place)", c[i].name);
        destroy(e);
    }
}

/* ---- 8. determinism ---- */

static void run_episode(pp_env *e, uint64_t seed, double *trace, int n)
{
    pp_rng rng, arng;
    pp_rng_seed(&rng, seed);
    arng = pp_rng_split(&rng, 99);
    double obs[512], act[PP_ENV_MAX_ACT], r;
    int term;
    e->ops->reset(e, &rng, obs);
    for (int t = 0; t < n; t++) {
        for (int i = 0; i < e->info.act_dim; i++)
            act[i] = e->info.act_low[i] +
                     (e->info.act_high[i] - e->info.act_low[i]) * pp_rng_uniform(&arng);
        e->ops->step(e, act, obs, &r, &term);
        trace[2 * t] = r;
        trace[2 * t + 1] = obs[e->info.obs_dim - 1] + obs[0];
        if (term) e->ops->reset(e, &rng, obs);
    }
}

static void test_determinism(void)
{
    static const char *names[] = {"HalfCheetah-v3", "Hopper-v4", "Walker2d-v4", "Ant-v4",
                                  "Humanoid-v3"};
    enum { N = 200 };
    for (int i = 0; i < 5; i++) {
        pp_env *a = make(names[i], NULL), *b = make(names[i], NULL);
        if (!a || !b) {
            CHECK(0, "%s: two envs", names[i]);
            destroy(a), destroy(b);
            continue;
        }
        static double ta[2 * N], tb[2 * N], tc[2 * N];
        run_episode(a, 2024, ta, N);
        run_episode(b, 2024, tb, N);
        run_episode(b, 2025, tc, N);
        CHECK(!memcmp(ta, tb, sizeof ta) && memcmp(ta, tc, sizeof ta),
              "%s: same seed, same %d steps bit for bit (two envs); another seed differs",
              names[i], N);
        destroy(a), destroy(b);
    }
}

/* ---- 9. contact forces: zero in v3, real in v4 ---- */

static void test_contact_forces(void)
{
    static const struct {
        const char *name, *opts;
        int off, want_nonzero;
    } c[] = {
        {"Ant-v3", NULL, 27, 0},
        {"Ant-v4", "use_contact_forces=1", 27, 1},
        {"Humanoid-v3", NULL, 376 - 84, 0},
        {"Humanoid-v4", NULL, 376 - 84, 1},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        pp_env *e = make(c[i].name, c[i].opts);
        if (!e) continue;
        const mjModel *m;
        mjData *d;
        pp_env_mujoco_model(e, &m, &d);
        pp_rng rng;
        pp_rng_seed(&rng, 3);
        double obs[512], act[PP_ENV_MAX_ACT] = {0}, r, s2 = 0, world = 0;
        int term, contacts = 0;
        e->ops->reset(e, &rng, obs);
        for (int t = 0; t < 10; t++) {
            e->ops->step(e, act, obs, &r, &term);
            contacts += d->ncon;
        }
        for (int j = 0; j < 84; j++) s2 += obs[c[i].off + j] * obs[c[i].off + j];
        for (int j = 0; j < 6; j++) world += fabs(obs[c[i].off + j]);
        if (c[i].want_nonzero)
            CHECK(contacts > 0 && s2 > 0 && world == 0,
                  "%s %s: contact forces in the obs are non-zero (sum sq %.4g, %d contacts), "
                  "world row 0", c[i].name, c[i].opts ? c[i].opts : "", s2, contacts);
        else
            CHECK(contacts > 0 && s2 == 0,
                  "%s: cfrc_ext entries are 0 with %d contacts (no mj_rnePostConstraint: the "
                  "modern v3 flavour)", c[i].name, contacts);
        destroy(e);
    }
    /* Ant-v4: the contact cost is subtracted only with use_contact_forces */
    double rr[2];
    for (int k = 0; k < 2; k++) {
        pp_env *e = make("Ant-v4", k ? "use_contact_forces=1" : NULL);
        if (!e) return;
        pp_rng rng;
        pp_rng_seed(&rng, 3);
        double obs[512], act[PP_ENV_MAX_ACT] = {0};
        int term;
        e->ops->reset(e, &rng, obs);
        for (int t = 0; t < 10; t++) e->ops->step(e, act, obs, &rr[k], &term);
        if (k) {
            double c2 = pp_np_sum_squares(obs + 27, 84);
            CHECK_NEAR(rr[0] - rr[1], 5e-4 * c2, 1e-12,
                       "Ant-v4: use_contact_forces subtracts 5e-4 * sum clip(cfrc_ext)^2 = %.3g",
                       5e-4 * c2);
        }
        destroy(e);
    }
}

/* ---- 10. derived quantities are not recomputed after the step ---- */

static void test_derived_lag(void)
{
    pp_env *e = make("Ant-v4", NULL);
    if (!e) return;
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);
    pp_rng rng;
    pp_rng_seed(&rng, 8);
    double obs[512], act[PP_ENV_MAX_ACT] = {0.5, -0.5, 0.5, -0.5, 0.5, -0.5, 0.5, -0.5}, r;
    int term;
    e->ops->reset(e, &rng, obs);
    for (int t = 0; t < 5; t++) e->ops->step(e, act, obs, &r, &term);
    mjData *fresh = mj_makeData(m);
    memcpy(fresh->qpos, d->qpos, sizeof(double) * m->nq);
    memcpy(fresh->qvel, d->qvel, sizeof(double) * m->nv);
    mj_forward(m, fresh);
    double lag = fabs(fresh->xpos[3] - d->xpos[3]) + fabs(fresh->xpos[5] - d->xpos[5]);
    CHECK(lag > 0 && lag < 1e-2,
          "Ant: torso xpos after a step is the last RK4 stage's, not recomputed (lag %.3g)", lag);
    mj_deleteData(fresh);
    destroy(e);

    /* Euler (HalfCheetah): xpos after a step is exactly the state before the last substep */
    e = make("HalfCheetah-v3", NULL);
    if (!e) return;
    pp_env_mujoco_model(e, &m, &d);
    e->ops->reset(e, &rng, obs);
    double a6[6] = {0.3, -0.2, 0.1, 0.5, -0.4, 0.2};
    e->ops->step(e, a6, obs, &r, &term);
    mjData *sim = mj_makeData(m);
    memcpy(sim->qpos, d->qpos, sizeof(double) * m->nq);
    memcpy(sim->qvel, d->qvel, sizeof(double) * m->nv);
    memcpy(sim->ctrl, a6, sizeof a6);
    /* replay: from the state after one env step, 4 substeps, keep, 1 more */
    e->ops->step(e, a6, obs, &r, &term);
    for (int k = 0; k < 4; k++) mj_step(m, sim);
    mj_forward(m, sim);
    CHECK(!memcmp(sim->xpos, d->xpos, sizeof(double) * 3 * m->nbody),
          "HalfCheetah (Euler): xpos after an env step is the kinematics of the state one "
          "substep earlier, bit for bit");
    mj_deleteData(sim);
    destroy(e);
}

int main(void)
{
    int have_fixture = load_fixture() == 0;
    CHECK(have_fixture, "tests/fixtures/mujoco-reference.txt read (%d rows; run from the "
          "source tree or set PARPI_FIXTURE_MUJOCO)", nrows);
    if (have_fixture) {
        for (int k = 0; k < 5; k++) test_model_against_fixture(k);
        for (int k = 0; k < 5; k++) test_rollout_against_fixture(k);
    }
    test_dimensions();
    static const char *names[] = {"HalfCheetah-v3", "HalfCheetah-v4", "Hopper-v3",
                                  "Hopper-v4",      "Walker2d-v3",    "Walker2d-v4",
                                  "Ant-v3",         "Ant-v4",         "Humanoid-v3",
                                  "Humanoid-v4"};
    for (int i = 0; i < 10; i++) test_reward(names[i]);
    test_health_bounds();
    test_healthy_reward_quirk();
    test_reset_noise();
    test_determinism();
    test_contact_forces();
    test_derived_lag();
    for (int i = 0; i < nrows; i++) free(rows[i].v);
    free(rows);
    return check_done();
}
