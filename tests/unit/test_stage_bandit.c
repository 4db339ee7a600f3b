/* test_stage_bandit.c - the critic and policy stages learn together, in process,
 * on a one-step bandit: r = -4 (a - 0.4)^2 (every step terminal, so y = r).
 * The critic is fed uniformly random actions (off-policy, like a replay
 * buffer); the policy must move its actions to about 0.4.
 *   SAC:  critic --target sac | policy --update sac --alpha 0.01
 *   SQL:  critic --target sql | policy --update svgd --alpha 0.01
 * The frames travel between the stages as in the ring (policy -> critic next frame). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/actor.h"
#include "check.h"
#include "base/err.h"
#include "frame/frame.h"
#include "stage/stage.h"

extern const pp_stage_ops pp_stage_critic, pp_stage_policy;

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)
enum { B = 64, STEPS = 1500 };
static const double TARGET = 0.4;

static double run(char **cargv, int cargc, char **pargv, int pargc, const char *name, int steps)
{
    pp_stage *critic = NULL, *policy = NULL;
    if (pp_stage_critic.create(cargc, cargv, &critic) != 0 ||
        pp_stage_policy.create(pargc, pargv, &policy) != 0) {
        printf("# %s: %s\n", name, pp_error());
        return NAN;
    }
    pp_frame *f = pp_frame_new(), *carry = pp_frame_new();
    pp_rng r;
    pp_rng_seed(&r, 77);
    /* prime: the policy's first frame */
    if (pp_stage_policy.prime(policy, carry) != 1) printf("# %s: no primed frame\n", name);
    float obs[B], act[B], rew[B], done[B];
    int64_t s2[2] = {B, 1}, s1[1] = {B};
    for (int t = 0; t < steps; t++) {
        pp_frame_clear(f);
        pp_frame_copy(f, "policy", carry, "policy");
        pp_frame_copy(f, "alpha", carry, "alpha");
        for (int b = 0; b < B; b++) {
            obs[b] = 0.0f;
            act[b] = (float)(2 * pp_rng_uniform(&r) - 1);
            rew[b] = (float)(-4 * (act[b] - TARGET) * (act[b] - TARGET));
            done[b] = 1.0f;
        }
        pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, s2, obs);
        pp_frame_put_tensor(f, "batch.act", PP_F32, 2, s2, act);
        pp_frame_put_tensor(f, "batch.rew", PP_F32, 1, s1, rew);
        pp_frame_put_tensor(f, "batch.next_obs", PP_F32, 2, s2, obs);
        pp_frame_put_tensor(f, "batch.done", PP_F32, 1, s1, done);
        if (pp_stage_critic.step(critic, f) != 0 || pp_stage_policy.step(policy, f) != 0) {
            printf("# %s step %d: %s\n", name, t, pp_error());
            break;
        }
        pp_frame_clear(carry);
        pp_frame_copy(carry, "policy", f, "policy");
        pp_frame_copy(carry, "alpha", f, "alpha");
    }
    /* act with the learned policy: mean of 256 stochastic actions at s = 0 */
    pp_actor *actor = NULL;
    double mean = NAN;
    if (pp_actor_from_frame(carry, "policy", 256, &actor) == 0) {
        float o[256] = {0}, a[256];
        pp_actor_act(actor, pp_actor_params(actor), o, 256, 0, &r, a);
        mean = 0;
        for (int i = 0; i < 256; i++) mean += a[i] / 256.0;
        pp_actor_act(actor, pp_actor_params(actor), o, 1, 1, &r, a);
        printf("# %s: mean action %.4f, deterministic %.4f (optimum %.2f)\n", name, mean, a[0],
               TARGET);
    }
    pp_actor_free(actor);
    pp_frame_free(f);
    pp_frame_free(carry);
    pp_stage_free(critic);
    pp_stage_free(policy);
    return mean;
}

int main(void)
{
    char *c_sac[] = {"critic", "--hidden", "32", "--layers", "2", "--max-batch", "64",
                     "--lr", "3e-3", NULL};
    char *p_sac[] = {"policy", "--prime", "--update", "sac", "--alpha", "0.01", "--obs-dim", "1",
                     "--act-dim", "1", "--hidden", "32", "--max-batch", "64", "--lr", "3e-3", NULL};
    double m0 = run(c_sac, ARGC(c_sac), p_sac, ARGC(p_sac), "sac untrained", 0);
    CHECK(fabs(m0 - TARGET) > 0.25, "SAC: the untrained policy is off the optimum (%.3f)", m0);
    double m = run(c_sac, ARGC(c_sac), p_sac, ARGC(p_sac), "sac", STEPS);
    CHECK(fabs(m - TARGET) < 0.1, "SAC: critic + policy stages learn the bandit (%.3f)", m);

    char *c_sql[] = {"critic", "--target", "sql", "--value-particles", "8", "--hidden", "32",
                     "--layers", "2", "--max-batch", "64", "--lr", "3e-3", NULL};
    char *p_svgd[] = {"policy", "--prime", "--update", "svgd", "--alpha", "0.01", "--svgd-particles", "16",
                      "--obs-dim", "1", "--act-dim", "1", "--hidden", "32", "--max-batch", "64",
                      "--lr", "3e-3", NULL};
    m0 = run(c_sql, ARGC(c_sql), p_svgd, ARGC(p_svgd), "svgd untrained", 0);
    CHECK(fabs(m0 - TARGET) > 0.25, "SQL: the untrained policy is off the optimum (%.3f)", m0);
    m = run(c_sql, ARGC(c_sql), p_svgd, ARGC(p_svgd), "sql/svgd", STEPS);
    CHECK(fabs(m - TARGET) < 0.1, "SQL: critic + SVGD policy stages learn the bandit (%.3f)", m);
    return check_done();
}
