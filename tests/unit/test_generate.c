/* test_generate.c - D4RL's collection rules (lib/offline/generate.c) and
 * its stitch, on Pendulum and Hopper episodes made here. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "check.h"
#include "env/env.h"
#include "env/env_mujoco.h"
#include "offline/generate.h"

#define POLICY "tests/fixtures/compat-0.1.0/run/ckpt/policy.ckpt" /* Pendulum, 16x2 */

static const float *f32(const pp_dataset *d, const char *name)
{
    pp_column *c = pp_dataset_column(d, name);
    return c ? c->data : NULL;
}
static const uint8_t *flags(const pp_dataset *d, const char *name)
{
    pp_column *c = pp_dataset_column(d, name);
    return c ? c->data : NULL;
}

static int same_rows(const pp_dataset *a, const pp_dataset *b)
{
    if (a->rows != b->rows || a->ncols != b->ncols) return 0;
    for (int i = 0; i < a->ncols; i++)
        if (memcmp(a->col[i].data, b->col[i].data, (size_t)a->rows * pp_column_row_bytes(&a->col[i])))
            return 0;
    return 1;
}

/* Within an episode next_observations[i] = observations[i+1]; no row has
 * both flags; episodes end at a flag; returns the episodes, -1 if broken. */
static int64_t check_episodes(const pp_dataset *d, int obs_dim)
{
    const float *o = f32(d, "observations"), *n = f32(d, "next_observations");
    const uint8_t *t = flags(d, "terminals"), *to = flags(d, "timeouts");
    int64_t eps = 0;
    for (int64_t i = 0; i < d->rows; i++) {
        if (t[i] && to[i]) return -1;
        if (t[i] || to[i]) eps++;
        else if (i + 1 < d->rows && memcmp(n + i * obs_dim, o + (i + 1) * obs_dim, sizeof(float) * obs_dim))
            return -1;
    }
    return eps;
}

static void pendulum_random(void)
{
    pp_generate_config c = {.env = "Pendulum-v1", .rows = 450, .seed = 3};
    pp_dataset *d = NULL, *again = NULL, *other = NULL;
    int rc = pp_generate_rollouts(&c, &d);
    CHECK(rc == 0 && d->rows == 450, "Pendulum random: 450 rows%s%s", rc ? ": " : "", rc ? pp_error() : "");
    if (!d) return;
    const uint8_t *t = flags(d, "terminals"), *to = flags(d, "timeouts");
    int ok = 1;
    for (int64_t i = 0; i < d->rows; i++) ok &= !t[i] && to[i] == ((i + 1) % 200 == 0);
    CHECK(ok, "Pendulum never terminates; timeouts at rows 199 and 399 only (200-step episodes)");
    CHECK(check_episodes(d, 3) == 2, "next_observations pair within episodes, never across");
    const float *a = f32(d, "actions"), *lp = f32(d, "infos/action_log_probs");
    int in_box = 1, lp_ok = 1;
    for (int64_t i = 0; i < d->rows; i++) {
        in_box &= a[i] >= -1.0f && a[i] <= 1.0f;
        lp_ok &= lp[i] == (float)-log(2.0);
    }
    CHECK(in_box, "uniform actions lie in [-1, 1] (policy space)");
    CHECK(lp_ok, "uniform log-density is -A log 2 = -log 2 for A = 1");
    CHECK(!pp_dataset_column(d, "infos/qpos"), "Pendulum (not MuJoCo) has no infos/qpos");
    int64_t trunc = -1, seed = -1;
    pp_frame_get_i64(d->meta, "collection.last_episode_truncated", &trunc);
    pp_frame_get_i64(d->meta, "collection.seed", &seed);
    CHECK(trunc == 1 && seed == 3, "metadata: last episode cut (450 = 2 x 200 + 50), seed 3");
    CHECK(pp_generate_rollouts(&c, &again) == 0 && same_rows(d, again), "same seed: the same rows, byte for byte");
    c.seed = 4;
    CHECK(pp_generate_rollouts(&c, &other) == 0 && !same_rows(d, other), "another seed: other rows");
    pp_dataset_free(d);
    pp_dataset_free(again);
    pp_dataset_free(other);
}

static void pendulum_policy(void)
{
    pp_generate_config c = {.env = "Pendulum-v1", .policy_path = POLICY, .rows = 400, .seed = 1};
    pp_dataset *d = NULL;
    int rc = pp_generate_rollouts(&c, &d);
    CHECK(rc == 0, "Pendulum with a policy checkpoint%s%s", rc ? ": " : "", rc ? pp_error() : "");
    if (!d) return;
    const float *lp = f32(d, "infos/action_log_probs");
    int finite = 1, varied = 0;
    for (int64_t i = 0; i < d->rows; i++) {
        finite &= isfinite(lp[i]);
        varied |= lp[i] != lp[0];
    }
    CHECK(finite && varied, "sampled actions carry finite, varying log-densities");
    const char *alg = NULL;
    size_t len = 0;
    CHECK(pp_frame_get_str(d->meta, "algorithm", &alg, &len) == 0 && len == 3 && !memcmp(alg, "SAC", 3),
          "metadata/algorithm is SAC, as D4RL's");
    int64_t trunc = -1;
    pp_frame_get_i64(d->meta, "collection.last_episode_truncated", &trunc);
    CHECK(trunc == 0, "400 rows = 2 whole episodes: the last is not cut");
    pp_dataset_free(d);

    c.env = "Hopper-v3";
    CHECK(pp_generate_rollouts(&c, &d) == -1 && strstr(pp_error(), "not a policy for Hopper-v3"),
          "a Pendulum policy for Hopper is refused: %s", pp_error());
    c.policy_path = "tests/fixtures/compat-0.1.0/run/ckpt/critic.ckpt";
    c.env = "Pendulum-v1";
    CHECK(pp_generate_rollouts(&c, &d) == -1, "a critic checkpoint is not a policy: %s", pp_error());
    c.policy_path = NULL;
    c.rows = 0;
    CHECK(pp_generate_rollouts(&c, &d) == -1 && strstr(pp_error(), "0 rows"), "0 rows refused: %s", pp_error());
}

static void hopper_random(void)
{
    pp_generate_config c = {.env = "Hopper-v3", .rows = 2000, .seed = 0};
    pp_dataset *d = NULL;
    int rc = pp_generate_rollouts(&c, &d);
    CHECK(rc == 0, "Hopper random%s%s", rc ? ": " : "", rc ? pp_error() : "");
    if (!d) return;
    int64_t eps = check_episodes(d, 11);
    const uint8_t *t = flags(d, "terminals");
    int64_t terms = 0;
    for (int64_t i = 0; i < d->rows; i++) terms += t[i];
    CHECK(eps > 10 && terms == eps, "random Hopper falls: %lld episodes, each ends in a terminal",
          (long long)eps);
    CHECK(pp_dataset_need(d, "infos/qpos", PP_F32, 6) && pp_dataset_need(d, "infos/qvel", PP_F32, 6),
          "infos/qpos [N,6] and infos/qvel [N,6]");
    /* qpos, qvel are the state before the step: setting them gives the row's observation */
    pp_env *e = NULL;
    double obs[11], qp[6], qv[6];
    int ok = pp_env_create("Hopper-v3", NULL, &e) == 0;
    const float *q = f32(d, "infos/qpos"), *v = f32(d, "infos/qvel"), *o = f32(d, "observations");
    double worst = 0;
    for (int64_t i = 0; ok && i < d->rows; i += 37) {
        for (int k = 0; k < 6; k++) qp[k] = q[i * 6 + k], qv[k] = v[i * 6 + k];
        ok = pp_env_mujoco_set_state(e, qp, qv, obs) == 0;
        for (int k = 0; k < 11; k++) worst = fmax(worst, fabs(obs[k] - o[i * 11 + k]));
    }
    CHECK(ok && worst < 1e-5, "infos/qpos, qvel reproduce the row's observation (max diff %.2g)", worst);
    pp_env_free(e);

    /* stitch: a is cut after its last flagged row, b appended, capped */
    pp_dataset *s = NULL;
    int64_t last = d->rows;
    while (last > 0 && !t[last - 1] && !flags(d, "timeouts")[last - 1]) last--;
    CHECK(pp_dataset_stitch(d, d, 3000, &s) == 0 && s->rows == 3000, "stitch capped at 3000 rows");
    int64_t first = -1;
    pp_frame_get_i64(s->meta, "stitch.first_rows", &first);
    CHECK(first == last && !memcmp(f32(s, "observations") + last * 11, o, 11 * sizeof(float)),
          "stitch: the first part ends at its last terminal (row %lld), the second starts at its row 0",
          (long long)last);
    pp_dataset_free(s);
    pp_dataset_free(d);
}

int main(void)
{
    pendulum_random();
    pendulum_policy();
    hopper_random();
    return check_done();
}
