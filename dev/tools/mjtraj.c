/* mjtraj.c - developer aid: replay an episode in a parpi MuJoCo env from a
 * given start state and print what the env returns. Used by
 * dev/tools/gym_crosscheck.py; not part of the build or of make check.
 *
 *   cc -O2 -std=gnu11 -Ilib -o build/mjtraj dev/tools/mjtraj.c lib/libparpi.a \
 *      -lmujoco -lopenblas -lpthread -lm
 *
 * stdin (whitespace separated): ENV OPTIONS|- NQ qpos... NV qvel... N ACTDIM
 * then N actions of ACTDIM numbers. stdout: "reset OBSDIM obs..." then per
 * step "step REWARD TERMINATED obs..." (numbers as %.17g).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env/env_mujoco.h"
#include "base/err.h"

int main(void)
{
    char name[64], opts[1024];
    int nq, nv, n, na;
    if (scanf("%63s %1023s %d", name, opts, &nq) != 3) return 2;
    double *q = calloc(nq, sizeof *q);
    for (int i = 0; i < nq; i++)
        if (scanf("%lf", &q[i]) != 1) return 2;
    if (scanf("%d", &nv) != 1) return 2;
    double *v = calloc(nv, sizeof *v);
    for (int i = 0; i < nv; i++)
        if (scanf("%lf", &v[i]) != 1) return 2;
    if (scanf("%d %d", &n, &na) != 2) return 2;
    pp_env *e;
    if (pp_env_mujoco_create(name, strcmp(opts, "-") ? opts : NULL, &e) != 0) {
        fprintf(stderr, "mjtraj: %s\n", pp_error());
        return 1;
    }
    const mjModel *m;
    mjData *d;
    pp_env_mujoco_model(e, &m, &d);
    if (m->nq != nq || m->nv != nv || e->info.act_dim != na) {
        fprintf(stderr, "mjtraj: %s has nq %d nv %d nu %d, input has %d %d %d\n", name, m->nq,
                m->nv, e->info.act_dim, nq, nv, na);
        return 1;
    }
    int od = e->info.obs_dim;
    double *obs = calloc(od, sizeof *obs), act[PP_ENV_MAX_ACT], r;
    pp_env_mujoco_set_state(e, q, v, obs);
    printf("reset %d", od);
    for (int i = 0; i < od; i++) printf(" %.17g", obs[i]);
    printf("\n");
    for (int t = 0; t < n; t++) {
        for (int i = 0; i < na; i++)
            if (scanf("%lf", &act[i]) != 1) return 2;
        int term;
        e->ops->step(e, act, obs, &r, &term);
        printf("step %.17g %d", r, term);
        for (int i = 0; i < od; i++) printf(" %.17g", obs[i]);
        printf("\n");
    }
    e->ops->destroy(e);
    free(obs), free(q), free(v);
    return 0;
}
