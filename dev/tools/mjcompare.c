/* mjcompare.c - developer aid: do two MJCF files compile to the same physics?
 *
 * NOT part of the build or of `make check`; build it by hand:
 *
 *   cc -O2 -std=gnu11 -Wall -o build/mjcompare dev/tools/mjcompare.c -lmujoco -lm
 *
 *   build/mjcompare [-v] OURS.xml REFERENCE.xml FRAME_SKIP
 *       Compares every physics array of the two compiled models (body_*,
 *       jnt_*, dof_*, geom_*, actuator_*, tendon_*, opt.*, qpos0, ...) and
 *       prints the largest absolute difference per field (-v: every field,
 *       including zero differences). Then runs two 1000-env-step rollouts
 *       (FRAME_SKIP mj_steps each) from qpos0: one with a fixed sinusoidal
 *       action sequence, one with seeded uniform random actions, and prints
 *       the largest difference in qpos, qvel and the derived quantities the
 *       envs read (xpos, xipos, cinert, cvel, qfrc_actuator, cfrc_ext).
 *       Exit status 0 when all physics fields differ by at most 1e-12.
 *
 *   build/mjcompare --fixture REFDIR
 *       Writes tests/fixtures/mujoco-reference.txt (to stdout) from the five
 *       reference models REFDIR/{half_cheetah,hopper,walker2d,ant,humanoid}.xml.
 *
 * The reference models are read only from the path given on the command
 * line; nothing in the build or the tests reads them.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mujoco/mujoco.h>
#include <mujoco/mjxmacro.h>

static int verbose;

static mjModel *load(const char *path)
{
    char err[1000] = "";
    mjModel *m = mj_loadXML(path, NULL, err, sizeof err);
    if (!m) {
        fprintf(stderr, "mjcompare: %s: %s\n", path, err);
        exit(1);
    }
    if (err[0]) fprintf(stderr, "mjcompare: %s: warning: %s\n", path, err);
    return m;
}

/* Fields that only matter for rendering or bookkeeping: compared only when
 * their sizes agree, and never counted as a physics difference. */
static int is_visual(const char *f)
{
    static const char *prefix[] = {"site_", "cam_", "light_", "mesh_", "skin_", "hfield_", "tex_",
                                   "mat_", "sensor_", "numeric_", "text_", "tuple_", "name_",
                                   "names", "key_", NULL};
    static const char *exact[] = {"geom_rgba", "geom_matid", "geom_user", "geom_group",
                                  "geom_dataid", "tendon_rgba", "tendon_matid", "tendon_width",
                                  "tendon_group", "tendon_user", "body_user", "jnt_user",
                                  "jnt_group", "actuator_group", "actuator_user", NULL};
    for (int i = 0; prefix[i]; i++)
        if (!strncmp(f, prefix[i], strlen(prefix[i]))) return 1;
    for (int i = 0; exact[i]; i++)
        if (!strcmp(f, exact[i])) return 1;
    return 0;
}

static double worst_physics;
static const char *worst_field = "(none)";

static void report(const char *field, double d, int n, int visual)
{
    if (!visual && d > worst_physics) {
        worst_physics = d;
        worst_field = field;
    }
    if (verbose || d != 0)
        printf("  %-26s %6d values  max|diff| %.3g%s\n", field, n, d, visual ? "  (visual)" : "");
}

static void compare_models(const mjModel *a, const mjModel *b)
{
    int sizes_ok = 1;
#define X(name)                                                                            \
    if (a->name != b->name) {                                                              \
        printf("  size %-20s %d vs %d\n", #name, a->name, b->name);                        \
        if (strcmp(#name, "nlight") && strcmp(#name, "ncam") && strcmp(#name, "ntex") &&   \
            strcmp(#name, "nmat") && strcmp(#name, "ntexdata") && strcmp(#name, "nkey") && \
            strcmp(#name, "nnames") && strcmp(#name, "nuser_geom") &&                      \
            strcmp(#name, "nsite") && strcmp(#name, "nstack") && strcmp(#name, "nbuffer") && \
            strcmp(#name, "nnumeric") && strcmp(#name, "nnumericdata"))                    \
            sizes_ok = 0;                                                                  \
    }
    MJMODEL_INTS
#undef X
    if (!sizes_ok) {
        printf("physics sizes differ: no field comparison\n");
        worst_physics = INFINITY;
        worst_field = "sizes";
        return;
    }
#define X(type, name)                                                                      \
    report("opt." #name, fabs((double)a->opt.name - (double)b->opt.name), 1, 0);
    MJOPTION_SCALARS
#undef X
#define X(name, n)                                                                         \
    {                                                                                      \
        double d = 0;                                                                      \
        for (int i = 0; i < n; i++) d = fmax(d, fabs(a->opt.name[i] - b->opt.name[i]));   \
        report("opt." #name, d, n, 0);                                                     \
    }
    MJOPTION_VECTORS
#undef X
    {
        MJMODEL_POINTERS_PREAMBLE(a)
        (void)nq; (void)nv; (void)na; (void)nu; (void)nmocap;
        (void)nuser_body; (void)nuser_jnt; (void)nuser_geom; (void)nuser_site;
        (void)nuser_cam; (void)nuser_tendon; (void)nuser_actuator; (void)nuser_sensor;
#define X(type, name, nr, nc)                                                              \
    {                                                                                      \
        long na_ = (long)a->nr * (nc), nb_ = (long)b->nr * (nc);                           \
        int vis_ = is_visual(#name);                                                       \
        if (!strcmp(#name, "geom_user") || !strcmp(#name, "key_qpos") ||                   \
            !strcmp(#name, "key_qvel") || !strcmp(#name, "key_act") ||                     \
            !strcmp(#name, "key_ctrl"))                                                    \
            nb_ = na_ = -1; /* widths differ per model: skip */                           \
        if (na_ != nb_ && na_ >= 0) {                                                      \
            if (verbose || !vis_) printf("  %-26s sizes %ld vs %ld%s\n", #name, na_, nb_,  \
                                         vis_ ? "  (visual)" : "");                        \
        } else if (na_ >= 0) {                                                             \
            double d_ = 0;                                                                 \
            for (long i = 0; i < na_; i++)                                                 \
                d_ = fmax(d_, fabs((double)a->name[i] - (double)b->name[i]));              \
            report(#name, d_, (int)na_, vis_);                                             \
        }                                                                                  \
    }
        MJMODEL_POINTERS
#undef X
    }
    report("totalmass", fabs(mj_getTotalmass((mjModel *)a) - mj_getTotalmass((mjModel *)b)), 1, 0);
}

/* SplitMix64: a tiny seeded generator for the random-action rollout. */
static uint64_t sm_state;
static double sm_uniform(void)
{
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* Action of actuator i at env step t: fixed pattern or seeded random, in ctrlrange. */
static double action(const mjModel *m, int i, int t, int random)
{
    double lo = m->actuator_ctrlrange[2 * i], hi = m->actuator_ctrlrange[2 * i + 1];
    double u = random ? 2 * sm_uniform() - 1 : 0.8 * sin(0.37 * t + 1.1 * i);
    return 0.5 * (lo + hi) + 0.5 * (hi - lo) * u;
}

static double maxdiff(const mjtNum *x, const mjtNum *y, int n)
{
    double d = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs(x[i] - y[i]));
    return d;
}

static void rollout(const mjModel *ma, const mjModel *mb, int frame_skip, int random)
{
    mjData *a = mj_makeData(ma), *b = mj_makeData(mb);
    mj_forward(ma, a);
    mj_forward(mb, b);
    double dq = 0, dv = 0, dx = 0, dxi = 0, dci = 0, dcv = 0, dqa = 0, dcf = 0;
    int first = -1;
    sm_state = 12345;
    for (int t = 0; t < 1000; t++) {
        for (int i = 0; i < ma->nu; i++) a->ctrl[i] = b->ctrl[i] = action(ma, i, t, random);
        for (int k = 0; k < frame_skip; k++) {
            mj_step(ma, a);
            mj_step(mb, b);
        }
        /* The derived quantities as the envs read them: v3 sees them straight
         * after the step, v4 after one mj_rnePostConstraint. */
        dx = fmax(dx, maxdiff(a->xpos, b->xpos, 3 * ma->nbody));
        dxi = fmax(dxi, maxdiff(a->xipos, b->xipos, 3 * ma->nbody));
        dci = fmax(dci, maxdiff(a->cinert, b->cinert, 10 * ma->nbody));
        dcv = fmax(dcv, maxdiff(a->cvel, b->cvel, 6 * ma->nbody));
        dqa = fmax(dqa, maxdiff(a->qfrc_actuator, b->qfrc_actuator, ma->nv));
        mj_rnePostConstraint(ma, a);
        mj_rnePostConstraint(mb, b);
        dcf = fmax(dcf, maxdiff(a->cfrc_ext, b->cfrc_ext, 6 * ma->nbody));
        double q = maxdiff(a->qpos, b->qpos, ma->nq), v = maxdiff(a->qvel, b->qvel, ma->nv);
        if ((q > 0 || v > 0) && first < 0) first = t;
        dq = fmax(dq, q);
        dv = fmax(dv, v);
    }
    printf("  rollout (%s actions, 1000 env steps x %d): max|diff| qpos %.3g qvel %.3g "
           "xpos %.3g xipos %.3g cinert %.3g cvel %.3g qfrc_actuator %.3g cfrc_ext %.3g; "
           "first differing step %d\n",
           random ? "seeded random" : "fixed sinusoid", frame_skip, dq, dv, dx, dxi, dci, dcv, dqa,
           dcf, first);
    mj_deleteData(a);
    mj_deleteData(b);
}

/* ---- fixture ---- */

static void row(const char *model, const char *key, const mjtNum *v, int n)
{
    printf("%s %s %d", model, key, n);
    for (int i = 0; i < n; i++) printf(" %.17g", v[i]);
    printf("\n");
}

static void rowi(const char *model, const char *key, const int *v, int n)
{
    printf("%s %s %d", model, key, n);
    for (int i = 0; i < n; i++) printf(" %d", v[i]);
    printf("\n");
}

static void fixture(const char *dir)
{
    static const char *names[] = {"half_cheetah", "hopper", "walker2d", "ant", "humanoid"};
    static const int skip[] = {5, 4, 4, 5, 5};
    printf("# mujoco-reference.txt: compiled figures and a 50-env-step rollout of the Gym\n"
           "# reference models, generated with MuJoCo %s by\n"
           "#   build/mjcompare --fixture /work/shared/reference/mujoco\n"
           "# (dev/tools/mjcompare.c). Line: MODEL KEY N VALUES...\n"
           "# Rollout: from qpos0, qvel 0; env step t (0-based) sets ctrl[i] =\n"
           "# mid + half*0.8*sin(0.37 t + 1.1 i) then FRAME_SKIP mj_steps; qpos@T/qvel@T are\n"
           "# the state after T env steps, cfrc_ext2@T the sum of squares of cfrc_ext after\n"
           "# one mj_rnePostConstraint at that point.\n",
           mj_versionString());
    for (int k = 0; k < 5; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.xml", dir, names[k]);
        mjModel *m = load(path);
        const char *n = names[k];
        int sizes[] = {m->nq, m->nv, m->nu, m->nbody, m->njnt, m->ngeom, m->ntendon};
        rowi(n, "sizes(nq,nv,nu,nbody,njnt,ngeom,ntendon)", sizes, 7);
        int opts[] = {m->opt.integrator, m->opt.solver, m->opt.iterations, skip[k]};
        rowi(n, "opt(integrator,solver,iterations,frame_skip)", opts, 4);
        mjtNum ts = m->opt.timestep, tm = mj_getTotalmass(m);
        row(n, "timestep", &ts, 1);
        row(n, "totalmass", &tm, 1);
        row(n, "body_mass", m->body_mass, m->nbody);
        row(n, "body_inertia", m->body_inertia, 3 * m->nbody);
        row(n, "body_ipos", m->body_ipos, 3 * m->nbody);
        row(n, "body_iquat", m->body_iquat, 4 * m->nbody);
        row(n, "body_pos", m->body_pos, 3 * m->nbody);
        row(n, "body_quat", m->body_quat, 4 * m->nbody);
        row(n, "qpos0", m->qpos0, m->nq);
        rowi(n, "jnt_type", m->jnt_type, m->njnt);
        int lim[64];
        for (int i = 0; i < m->njnt; i++) lim[i] = m->jnt_limited[i];
        rowi(n, "jnt_limited", lim, m->njnt);
        row(n, "jnt_pos", m->jnt_pos, 3 * m->njnt);
        row(n, "jnt_axis", m->jnt_axis, 3 * m->njnt);
        row(n, "jnt_range", m->jnt_range, 2 * m->njnt);
        row(n, "jnt_stiffness", m->jnt_stiffness, m->njnt);
        row(n, "dof_damping", m->dof_damping, m->nv);
        row(n, "dof_armature", m->dof_armature, m->nv);
        row(n, "geom_size", m->geom_size, 3 * m->ngeom);
        row(n, "geom_pos", m->geom_pos, 3 * m->ngeom);
        row(n, "geom_quat", m->geom_quat, 4 * m->ngeom);
        row(n, "geom_friction", m->geom_friction, 3 * m->ngeom);
        rowi(n, "geom_contype", m->geom_contype, m->ngeom);
        rowi(n, "geom_conaffinity", m->geom_conaffinity, m->ngeom);
        rowi(n, "geom_condim", m->geom_condim, m->ngeom);
        row(n, "geom_margin", m->geom_margin, m->ngeom);
        row(n, "geom_solref", m->geom_solref, mjNREF * m->ngeom);
        row(n, "geom_solimp", m->geom_solimp, mjNIMP * m->ngeom);
        row(n, "jnt_solref", m->jnt_solref, mjNREF * m->njnt);
        row(n, "jnt_solimp", m->jnt_solimp, mjNIMP * m->njnt);
        rowi(n, "tendon_num", m->tendon_num, m->ntendon);
        row(n, "wrap_prm", m->wrap_prm, m->nwrap);
        rowi(n, "actuator_trnid", m->actuator_trnid, 2 * m->nu);
        mjtNum gear[64];
        for (int i = 0; i < m->nu; i++) gear[i] = m->actuator_gear[6 * i];
        row(n, "actuator_gear", gear, m->nu);
        row(n, "actuator_ctrlrange", m->actuator_ctrlrange, 2 * m->nu);
        mjData *d = mj_makeData(m);
        mj_forward(m, d);
        for (int t = 0; t < 50; t++) {
            for (int i = 0; i < m->nu; i++) d->ctrl[i] = action(m, i, t, 0);
            for (int s = 0; s < skip[k]; s++) mj_step(m, d);
            int T = t + 1;
            if (T == 1 || T == 2 || T == 5 || T % 10 == 0) {
                char key[32];
                snprintf(key, sizeof key, "qpos@%d", T);
                row(n, key, d->qpos, m->nq);
                snprintf(key, sizeof key, "qvel@%d", T);
                row(n, key, d->qvel, m->nv);
                mj_rnePostConstraint(m, d);
                mjtNum c2 = 0;
                for (int i = 0; i < 6 * m->nbody; i++) c2 += d->cfrc_ext[i] * d->cfrc_ext[i];
                snprintf(key, sizeof key, "cfrc_ext2@%d", T);
                row(n, key, &c2, 1);
            }
        }
        mj_deleteData(d);
        mj_deleteModel(m);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--fixture")) {
        fixture(argv[2]);
        return 0;
    }
    int ai = 1;
    if (argc > 1 && !strcmp(argv[1], "-v")) verbose = 1, ai++;
    if (argc - ai != 3) {
        fprintf(stderr, "usage: mjcompare [-v] OURS.xml REFERENCE.xml FRAME_SKIP\n"
                        "       mjcompare --fixture REFDIR\n");
        return 2;
    }
    mjModel *a = load(argv[ai]), *b = load(argv[ai + 1]);
    int frame_skip = atoi(argv[ai + 2]);
    printf("%s vs %s (MuJoCo %s)\n", argv[ai], argv[ai + 1], mj_versionString());
    compare_models(a, b);
    printf("  worst physics field: %s, max|diff| %.3g\n", worst_field, worst_physics);
    if (isfinite(worst_physics)) {
        rollout(a, b, frame_skip, 0);
        rollout(a, b, frame_skip, 1);
    }
    mj_deleteModel(a);
    mj_deleteModel(b);
    return worst_physics <= 1e-12 ? 0 : 1;
}
