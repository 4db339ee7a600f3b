/* generate.c - data sets collected by acting: D4RL's recipe (generate.h,
 * docs/offline.md "Generating data sets"). */
#include "offline/generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "env/env.h"
#include "env/env_mujoco.h"
#include "rl/actor.h"
#include "rl/policy_file.h"

/* An episode refused by the simulator this many times in a row is an error. */
#define MAX_DROPPED_IN_A_ROW 100

typedef struct {
    pp_column *obs, *act, *rew, *next_obs, *term, *tout, *logp, *qpos, *qvel;
} columns;

/* The columns of a data set of this task: D4RL's nine (qpos and qvel only
 * for a MuJoCo task). */
static int add_columns(pp_dataset *d, int obs_dim, int act_dim, int nq, int nv, columns *c)
{
    memset(c, 0, sizeof *c);
    if (!(c->obs = pp_dataset_add_column(d, "observations", PP_F32, obs_dim)) ||
        !(c->act = pp_dataset_add_column(d, "actions", PP_F32, act_dim)) ||
        !(c->rew = pp_dataset_add_column(d, "rewards", PP_F32, 0)) ||
        !(c->next_obs = pp_dataset_add_column(d, "next_observations", PP_F32, obs_dim)) ||
        !(c->term = pp_dataset_add_column(d, "terminals", PP_BOOL, 0)) ||
        !(c->tout = pp_dataset_add_column(d, "timeouts", PP_BOOL, 0)) ||
        !(c->logp = pp_dataset_add_column(d, "infos/action_log_probs", PP_F32, 0)))
        return -1;
    if (nq > 0 && (!(c->qpos = pp_dataset_add_column(d, "infos/qpos", PP_F32, nq)) ||
                   !(c->qvel = pp_dataset_add_column(d, "infos/qvel", PP_F32, nv))))
        return -1;
    return 0;
}

static void to_f32(float *dst, const double *src, int n)
{
    for (int i = 0; i < n; i++) dst[i] = (float)src[i];
}

typedef struct {
    pp_env *env;
    const pp_env_info *info;
    const mjModel *m; /* NULL: not a MuJoCo task */
    mjData *md;
    pp_actor *actor;  /* NULL: uniform actions */
    pp_rng resets, actions;
    double *obs, *next, *act_env;
    float *obs_f;
} player;

/* Play one episode into the columns c (rows from 0). Returns its length, 0 when the
 * simulator refused a step (the episode is dropped), -1 on another error. */
static int64_t play_episode(player *p, const columns *c)
{
    const int od = p->info->obs_dim, ad = p->info->act_dim;
    if (pp_env_reset(p->env, &p->resets, p->obs) != 0) return -1;
    for (int64_t t = 0;; t++) {
        float *a = (float *)c->act->data + t * ad;
        float logp;
        to_f32(p->obs_f, p->obs, od);
        if (p->actor) {
            pp_policy *pol = pp_actor_gaussian(p->actor);
            pp_policy_sample(pol, pp_actor_params(p->actor), p->obs_f, 1, &p->actions);
            memcpy(a, pol->a, sizeof(float) * (size_t)ad);
            logp = pol->logp[0];
        } else {
            pp_rng_fill_uniform_f32(&p->actions, a, (size_t)ad, -1.0f, 1.0f);
            logp = (float)(-ad * log(2.0));
        }
        if (p->m) {
            to_f32((float *)c->qpos->data + t * p->m->nq, p->md->qpos, p->m->nq);
            to_f32((float *)c->qvel->data + t * p->m->nv, p->md->qvel, p->m->nv);
        }
        pp_env_scale_action(p->info, a, p->act_env);
        double r;
        int terminated, truncated;
        if (pp_env_step(p->env, p->act_env, p->next, &r, &terminated, &truncated) != 0) {
            pp_error_clear();
            return 0;
        }
        memcpy((float *)c->obs->data + t * od, p->obs_f, sizeof(float) * (size_t)od);
        to_f32((float *)c->next_obs->data + t * od, p->next, od);
        ((float *)c->rew->data)[t] = (float)r;
        ((float *)c->logp->data)[t] = logp;
        /* D4RL: timeout = (t == max_path), terminal = done and not timeout */
        ((uint8_t *)c->tout->data)[t] = truncated != 0;
        ((uint8_t *)c->term->data)[t] = terminated && !truncated;
        if (terminated || truncated) return t + 1;
        memcpy(p->obs, p->next, sizeof(double) * (size_t)od);
    }
}

static int open_player(const pp_generate_config *c, player *p)
{
    memset(p, 0, sizeof *p);
    if (pp_env_create(c->env, c->env_options, &p->env) != 0) return -1;
    p->info = pp_env_get_info(p->env);
    if (pp_env_mujoco_model(p->env, &p->m, &p->md) != 0) {
        p->m = NULL; /* not a MuJoCo task: no infos/qpos, qvel */
        p->md = NULL;
        pp_error_clear();
    }
    if (c->policy_path) {
        if (pp_actor_from_file(c->policy_path, 1, &p->actor) != 0) return -1;
        const pp_netmap *spec = pp_actor_spec(p->actor);
        if (pp_actor_arch(p->actor) != PP_ARCH_GAUSSIAN_TANH)
            return pp_fail("%s: a %s policy has no action density; generate needs a "
                           "gaussian-tanh policy", c->policy_path,
                           pp_policy_arch_name(pp_actor_arch(p->actor)));
        if (pp_netmap_check_dims(spec, "policy", p->info->obs_dim, p->info->act_dim) != 0)
            return pp_fail_prefix("%s is not a policy for %s: ", c->policy_path, c->env);
    }
    pp_rng root = pp_rng_stream(c->seed, PP_STREAM_GENERATE);
    p->resets = pp_rng_split(&root, 1);
    p->actions = pp_rng_split(&root, 2);
    int od = p->info->obs_dim;
    p->obs = pp_xcalloc((size_t)od, sizeof(double));
    p->next = pp_xcalloc((size_t)od, sizeof(double));
    p->act_env = pp_xcalloc(PP_ENV_MAX_ACT, sizeof(double));
    p->obs_f = pp_xcalloc((size_t)od, sizeof(float));
    return 0;
}

static void close_player(player *p)
{
    pp_env_free(p->env);
    pp_actor_free(p->actor);
    free(p->obs);
    free(p->next);
    free(p->act_env);
    free(p->obs_f);
}

static int write_meta(const pp_generate_config *c, pp_dataset *d, int64_t episodes, int truncated_tail)
{
    pp_frame *m = d->meta;
    int rc = pp_frame_set_str(m, "collection.recipe", "D4RL collect_data.py, parpi-generated") |
             pp_frame_set_str(m, "collection.env", c->env) |
             pp_frame_set_str(m, "collection.actions",
                              c->policy_path ? "sampled from the policy" : "uniform in [-1,1]") |
             pp_frame_set_i64(m, "collection.seed", (int64_t)c->seed) |
             pp_frame_set_i64(m, "collection.rows", d->rows) |
             pp_frame_set_i64(m, "collection.episodes", episodes) |
             pp_frame_set_i64(m, "collection.last_episode_truncated", truncated_tail);
    if (c->policy_path) {
        const char *base = strrchr(c->policy_path, '/');
        rc |= pp_frame_set_str(m, "algorithm", "SAC") |
              pp_frame_set_str(m, "collection.policy", base ? base + 1 : c->policy_path) |
              pp_frame_set_str(m, "policy.nonlinearity", "relu") |
              pp_frame_set_str(m, "policy.output_distribution", "tanh_gaussian");
    }
    return rc ? pp_fail_prefix("data set metadata: ") : 0;
}

int pp_generate_rollouts(const pp_generate_config *c, pp_dataset **out)
{
    *out = NULL;
    if (c->rows <= 0) return pp_fail("generate: %lld rows, expected at least 1", (long long)c->rows);
    player p;
    pp_dataset *d = NULL, *ep = NULL;
    columns dc, ec;
    int rc = -1;
    if (open_player(c, &p) != 0) goto done;
    int nq = p.m ? p.m->nq : 0, nv = p.m ? p.m->nv : 0;
    if (pp_dataset_new(&d, c->rows) != 0 || pp_dataset_new(&ep, p.info->max_steps) != 0 ||
        add_columns(d, p.info->obs_dim, p.info->act_dim, nq, nv, &dc) != 0 ||
        add_columns(ep, p.info->obs_dim, p.info->act_dim, nq, nv, &ec) != 0)
        goto done;
    snprintf(d->env, sizeof d->env, "%s", c->env);
    int64_t filled = 0, episodes = 0;
    int dropped = 0, tail_cut = 0;
    while (filled < c->rows) {
        int64_t len = play_episode(&p, &ec);
        if (len < 0) goto done;
        if (len == 0) {
            if (++dropped == MAX_DROPPED_IN_A_ROW) {
                pp_fail("generate: the simulator refused %d episodes in a row", dropped);
                goto done;
            }
            continue;
        }
        dropped = 0;
        int64_t n = len < c->rows - filled ? len : c->rows - filled;
        tail_cut = n < len;
        if (pp_dataset_copy_rows(d, filled, ep, 0, n) != 0) goto done;
        filled += n;
        episodes++;
        if (c->progress) c->progress(c->ctx, filled, c->rows);
    }
    if (write_meta(c, d, episodes, tail_cut) != 0) goto done;
    *out = d;
    d = NULL;
    rc = 0;
done:
    if (rc != 0) pp_fail_prefix("generating %s rows: ", c->env);
    pp_dataset_free(d);
    pp_dataset_free(ep);
    close_player(&p);
    return rc;
}

/* The row after a's last terminal or timeout (0 if it has none). */
static int64_t end_of_last_episode(const pp_dataset *a)
{
    const pp_column *t = pp_dataset_column(a, "terminals"), *o = pp_dataset_column(a, "timeouts");
    for (int64_t i = a->rows - 1; i >= 0; i--)
        if ((t && ((const uint8_t *)t->data)[i]) || (o && ((const uint8_t *)o->data)[i])) return i + 1;
    return 0;
}

int pp_dataset_stitch(const pp_dataset *a, const pp_dataset *b, int64_t max_rows, pp_dataset **out)
{
    *out = NULL;
    if (!pp_dataset_need(a, "terminals", PP_BOOL, 0) || !pp_dataset_need(a, "timeouts", PP_BOOL, 0))
        return pp_fail_prefix("stitching: the first data set: ");
    for (int i = 0; i < a->ncols; i++)
        if (!pp_dataset_need(b, a->col[i].name, a->col[i].dtype, a->col[i].width))
            return pp_fail_prefix("stitching: the second data set: ");
    int64_t na = end_of_last_episode(a);
    if (na > max_rows) na = max_rows;
    int64_t nb = b->rows < max_rows - na ? b->rows : max_rows - na;
    pp_dataset *d;
    if (pp_dataset_new(&d, na + nb) != 0) return -1;
    for (int i = 0; i < a->ncols; i++)
        if (!pp_dataset_add_column(d, a->col[i].name, a->col[i].dtype, a->col[i].width)) goto fail;
    if (pp_dataset_copy_rows(d, 0, a, 0, na) != 0 || pp_dataset_copy_rows(d, na, b, 0, nb) != 0 ||
        pp_frame_copy(d->meta, "first", a->meta, "") != 0 ||
        pp_frame_copy(d->meta, "second", b->meta, "") != 0 ||
        pp_frame_set_i64(d->meta, "stitch.first_rows", na) != 0 ||
        pp_frame_set_i64(d->meta, "stitch.second_rows", nb) != 0)
        goto fail;
    snprintf(d->env, sizeof d->env, "%s", a->env);
    *out = d;
    return 0;
fail:
    pp_dataset_free(d);
    return pp_fail_prefix("stitching: ");
}
