/* dataset_stats.c - the statistics of a data set (data/dataset_stats.h). */
#include "data/dataset_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "data/d4rl.h"

/* Per-dimension min and max of an f32 [N, w] column into new arrays. */
static void ranges(const pp_column *c, int64_t rows, int *dim, float **lo, float **hi)
{
    int w = (int)c->width;
    const float *x = c->data;
    *dim = w;
    *lo = pp_xmalloc((size_t)w * sizeof **lo);
    *hi = pp_xmalloc((size_t)w * sizeof **hi);
    for (int k = 0; k < w; k++) (*lo)[k] = (*hi)[k] = rows ? x[k] : NAN;
    for (int64_t i = 1; i < rows; i++)
        for (int k = 0; k < w; k++) {
            float v = x[i * w + k];
            if (v < (*lo)[k]) (*lo)[k] = v;
            if (v > (*hi)[k]) (*hi)[k] = v;
        }
}

int pp_dataset_stats_compute(const pp_dataset *d, const char *env, pp_dataset_stats *s)
{
    memset(s, 0, sizeof *s);
    const pp_column *rew = pp_dataset_need(d, "rewards", PP_F32, 0);
    const pp_column *term = rew ? pp_dataset_need(d, "terminals", PP_BOOL, 0) : NULL;
    const pp_column *tout = pp_dataset_column(d, "timeouts");
    if (!term || (tout && !pp_dataset_need(d, "timeouts", PP_BOOL, 0))) return pp_fail_prefix("statistics: ");
    const pp_column *obs = pp_dataset_column(d, "observations"), *act = pp_dataset_column(d, "actions");
    if ((obs && !pp_dataset_need(d, "observations", PP_F32, -1)) || (act && !pp_dataset_need(d, "actions", PP_F32, -1)))
        return pp_fail_prefix("statistics: ");
    const float *r = rew->data;
    const uint8_t *t = term->data, *u = tout ? tout->data : NULL;
    s->rows = d->rows;
    double mean = 0, m2 = 0, ret = 0; /* Welford: returns of 1e6 with a std of 0.5 stay exact */
    s->return_min = INFINITY;
    s->return_max = -INFINITY;
    int64_t len = 0;
    for (int64_t i = 0; i < d->rows; i++) {
        ret += r[i];
        len++;
        int end_t = t[i] != 0, end_u = u && u[i];
        s->terminals += end_t;
        s->timeouts += end_u;
        /* an episode ends at a flag, or (the tail) at the last row */
        if (end_t || end_u || i + 1 == d->rows) {
            if (!end_t && !end_u) s->tail_rows = len;
            s->episodes++;
            double delta = ret - mean;
            mean += delta / (double)s->episodes;
            m2 += delta * (ret - mean);
            if (ret < s->return_min) s->return_min = ret;
            if (ret > s->return_max) s->return_max = ret;
            ret = 0;
            len = 0;
        }
    }
    if (s->episodes) {
        s->return_mean = mean;
        s->return_std = sqrt(m2 / (double)s->episodes);
    } else
        s->return_mean = s->return_std = s->return_min = s->return_max = NAN;
    double lo, hi;
    const char *task = env && env[0] ? env : d->env;
    if (s->episodes && pp_d4rl_reference(task, &lo, &hi)) {
        s->has_score = 1;
        s->score = 100.0 * (s->return_mean - lo) / (hi - lo);
    }
    if (obs && obs->width > 0) ranges(obs, d->rows, &s->obs_dim, &s->obs_min, &s->obs_max);
    if (act && act->width > 0) ranges(act, d->rows, &s->act_dim, &s->act_min, &s->act_max);
    return 0;
}

void pp_dataset_stats_free(pp_dataset_stats *s)
{
    free(s->obs_min);
    free(s->obs_max);
    free(s->act_min);
    free(s->act_max);
    memset(s, 0, sizeof *s);
}

void pp_dataset_stats_print(const pp_dataset_stats *s, const pp_dataset *d, const char *env, FILE *out)
{
    const char *task = env && env[0] ? env : d->env;
    fprintf(out, "env %s\n", task[0] ? task : "-");
    fprintf(out, "rows %lld\n", (long long)s->rows);
    fprintf(out, "episodes %lld\n", (long long)s->episodes);
    fprintf(out, "truncated_tail %lld\n", (long long)s->tail_rows);
    if (s->tail_rows)
        fprintf(out, "# the last %lld rows end with neither flag: an episode cut by the end of the data, "
                     "counted in episodes and in the returns\n",
                (long long)s->tail_rows);
    fprintf(out, "terminals %lld\n", (long long)s->terminals);
    fprintf(out, "timeouts %lld\n", (long long)s->timeouts);
    if (s->episodes)
        fprintf(out, "return_mean %.9g\nreturn_std %.9g\nreturn_min %.9g\nreturn_max %.9g\n", s->return_mean,
                s->return_std, s->return_min, s->return_max);
    else
        fprintf(out, "return_mean -\nreturn_std -\nreturn_min -\nreturn_max -\n");
    if (s->has_score) fprintf(out, "score %.6g\n", s->score);
    else fprintf(out, "score -\n");
    /* + 0.0: -0 prints as 0 */
    fprintf(out, "# dimension min max\n");
    for (int k = 0; k < s->obs_dim; k++)
        fprintf(out, "obs[%d] %.9g %.9g\n", k, s->obs_min[k] + 0.0, s->obs_max[k] + 0.0);
    for (int k = 0; k < s->act_dim; k++)
        fprintf(out, "act[%d] %.9g %.9g\n", k, s->act_min[k] + 0.0, s->act_max[k] + 0.0);
    fprintf(out, "# column dtype shape\n");
    for (int i = 0; i < d->ncols; i++) {
        const pp_column *c = &d->col[i];
        int64_t shape[2] = {d->rows, c->width};
        char sh[64];
        fprintf(out, "column %s %s %s\n", c->name, pp_dtype_name(c->dtype), pp_shape_str(c->width ? 2 : 1, shape, sh, sizeof sh));
    }
}
