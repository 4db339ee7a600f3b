/* test_env_state.c - pp_env_get_state / pp_env_set_state: an env of the same
 * task set to another's state continues bit for bit (observations, rewards,
 * ends, and the resets after them), for every task; a state is checked
 * before it is set. A collector resumes the episode it was in with this.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "check.h"
#include "env/env.h"

#define MAXO 512

typedef struct {
    pp_env *e;
    pp_rng reset_rng;
    double obs[MAXO];
} runner;

/* One step with action a in [-1, 1]; a reset after an episode's end. The
 * step's results go to out (obs, reward, terminated, truncated). */
static int step(runner *r, const float *a, double *out)
{
    const pp_env_info *in = pp_env_get_info(r->e);
    double act[PP_ENV_MAX_ACT], rew;
    int term, trunc;
    pp_env_scale_action(in, a, act);
    if (pp_env_step(r->e, act, r->obs, &rew, &term, &trunc) != 0) return -1;
    memcpy(out, r->obs, (size_t)in->obs_dim * sizeof(double));
    out[in->obs_dim] = rew;
    out[in->obs_dim + 1] = term;
    out[in->obs_dim + 2] = trunc;
    if ((term || trunc) && pp_env_reset(r->e, &r->reset_rng, r->obs) != 0) return -1;
    return 0;
}

/* Run `before` steps, copy the state into a second env of the task, then
 * step both `after` steps with the same actions: bit for bit the same. */
static void check_continues(const char *name, int before, int after)
{
    runner a = {0}, b = {0};
    if (pp_env_create(name, NULL, &a.e) != 0 || pp_env_create(name, NULL, &b.e) != 0) {
        CHECK(0, "%s: created (%s)", name, pp_error());
        pp_env_free(a.e);
        return;
    }
    const pp_env_info *in = pp_env_get_info(a.e);
    pp_rng act_rng;
    pp_rng_seed(&act_rng, 99);
    pp_rng_seed(&a.reset_rng, 7);
    pp_env_reset(a.e, &a.reset_rng, a.obs);
    float act[PP_ENV_MAX_ACT];
    double out_a[MAXO + 3], out_b[MAXO + 3];
    int ok = 1;
    for (int t = 0; t < before && ok; t++) {
        pp_rng_fill_uniform_f32(&act_rng, act, (size_t)in->act_dim, -1.0f, 1.0f);
        ok = step(&a, act, out_a) == 0;
    }
    size_t n = pp_env_state_size(a.e);
    double *state = malloc(n * sizeof *state);
    pp_env_get_state(a.e, state);
    /* b starts elsewhere (its own reset), then takes a's state */
    pp_rng_seed(&b.reset_rng, 12345);
    pp_env_reset(b.e, &b.reset_rng, b.obs);
    ok = ok && pp_env_set_state(b.e, state, n) == 0;
    CHECK(ok, "%s: state of %zu words set after %d steps (%s)", name, n, before, ok ? "ok" : pp_error());
    b.reset_rng = a.reset_rng;
    memcpy(b.obs, a.obs, sizeof a.obs);
    int same = ok, at = -1;
    for (int t = 0; t < after && same; t++) {
        pp_rng_fill_uniform_f32(&act_rng, act, (size_t)in->act_dim, -1.0f, 1.0f);
        if (step(&a, act, out_a) != 0 || step(&b, act, out_b) != 0) {
            same = 0;
            break;
        }
        if (memcmp(out_a, out_b, (size_t)(in->obs_dim + 3) * sizeof(double)) != 0) {
            same = 0;
            at = t;
        }
    }
    CHECK(same, "%s: %d steps after the copy are bit for bit the same (first difference at %d)", name, after, at);
    double *sa = malloc(n * sizeof *sa), *sb = malloc(n * sizeof *sb);
    pp_env_get_state(a.e, sa);
    pp_env_get_state(b.e, sb);
    CHECK(memcmp(sa, sb, n * sizeof *sa) == 0, "%s: and so are the states", name);
    free(sa);
    free(sb);
    free(state);
    pp_env_free(a.e);
    pp_env_free(b.e);
}

static void check_refused(const char *name)
{
    pp_env *e;
    if (pp_env_create(name, NULL, &e) != 0) {
        CHECK(0, "%s: created (%s)", name, pp_error());
        return;
    }
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    double obs[MAXO];
    pp_env_reset(e, &rng, obs);
    size_t n = pp_env_state_size(e);
    double *s = calloc(n + 1, sizeof *s);
    pp_env_get_state(e, s);
    CHECK(pp_env_set_state(e, s, n + 1) != 0 && strstr(pp_error(), "words"), "%s: a state of the wrong size is refused: %s",
          name, pp_error());
    s[n - 1] = NAN;
    CHECK(pp_env_set_state(e, s, n) != 0 && strstr(pp_error(), "finite"), "%s: a NaN word is refused: %s", name,
          pp_error());
    pp_env_get_state(e, s);
    s[0] = pp_env_get_info(e)->max_steps;
    CHECK(pp_env_set_state(e, s, n) != 0 && strstr(pp_error(), "step count"),
          "%s: a step count at the episode limit is refused: %s", name, pp_error());
    free(s);
    pp_env_free(e);
}

int main(void)
{
    const char *const *names = pp_env_names();
    for (int i = 0; names[i]; i++) {
        /* a copy in the middle of an episode, and one long enough to cross ends */
        check_continues(names[i], 3, 40);
        check_continues(names[i], 57, 300);
    }
    check_refused("Pendulum-v1");
    check_refused("Hopper-v4");
    check_refused("MultiGoal");
    /* a pendulum faster than its limit cannot be a state it reached */
    pp_env *e;
    pp_env_create("Pendulum-v1", NULL, &e);
    double s[3] = {0, 0.5, 9};
    CHECK(pp_env_set_state(e, s, 3) != 0 && strstr(pp_error(), "speed"), "Pendulum-v1: thdot 9 is refused: %s",
          pp_error());
    pp_env_free(e);
    return check_done();
}
