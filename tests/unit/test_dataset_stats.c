/* test_dataset_stats - parpi-dataset info's statistics (lib/data/dataset_stats.c)
 * against closed forms on data sets made by hand. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "check.h"
#include "data/dataset.h"
#include "data/dataset_stats.h"

/* n rows, rewards r[i] = i + 1, obs[i] = (i, -2i), act[i] = (sin i): flags
 * as given (-1: none) */
static pp_dataset *rows(int n, const int *terminal, const int *timeout, int with_timeouts)
{
    pp_dataset *d;
    pp_dataset_new(&d, n);
    float *o = pp_dataset_add_column(d, "observations", PP_F32, 2)->data;
    float *a = pp_dataset_add_column(d, "actions", PP_F32, 1)->data;
    float *r = pp_dataset_add_column(d, "rewards", PP_F32, 0)->data;
    uint8_t *t = pp_dataset_add_column(d, "terminals", PP_BOOL, 0)->data;
    uint8_t *u = with_timeouts ? pp_dataset_add_column(d, "timeouts", PP_BOOL, 0)->data : NULL;
    for (int i = 0; i < n; i++) {
        o[2 * i] = (float)i, o[2 * i + 1] = -2.0f * (float)i;
        a[i] = sinf((float)i);
        r[i] = (float)(i + 1);
    }
    for (int k = 0; terminal && terminal[k] >= 0; k++) t[terminal[k]] = 1;
    for (int k = 0; u && timeout && timeout[k] >= 0; k++) u[timeout[k]] = 1;
    return d;
}

static void test_three_episodes(void)
{
    /* episodes 0..2 (terminal), 3..6 (timeout), 7..9 (tail): returns 6, 22, 27 */
    int term[] = {2, -1}, tout[] = {6, -1};
    pp_dataset *d = rows(10, term, tout, 1);
    pp_dataset_stats s;
    CHECK(pp_dataset_stats_compute(d, "Hopper-v3", &s) == 0, "stats: computes (%s)", pp_error());
    double m = 55.0 / 3, var = ((6 - m) * (6 - m) + (22 - m) * (22 - m) + (27 - m) * (27 - m)) / 3;
    CHECK(s.rows == 10 && s.episodes == 3 && s.terminals == 1 && s.timeouts == 1 && s.tail_rows == 3,
          "stats: 10 rows, 3 episodes (the tail of 3 rows counted), 1 terminal, 1 timeout");
    CHECK_NEAR(s.return_mean, m, 1e-12, "stats: return_mean = (6 + 22 + 27) / 3");
    CHECK_NEAR(s.return_std, sqrt(var), 1e-12, "stats: return_std, the population std");
    CHECK(s.return_min == 6 && s.return_max == 27, "stats: return_min 6, return_max 27");
    CHECK(s.has_score, "stats: Hopper-v3 has D4RL reference returns");
    CHECK_NEAR(s.score, 100 * (m + 20.272305) / (3234.3 + 20.272305), 1e-9,
               "stats: score = 100 (mean - random) / (expert - random), hopper's");
    CHECK(s.obs_dim == 2 && s.obs_min[0] == 0 && s.obs_max[0] == 9 && s.obs_min[1] == -18 && s.obs_max[1] == 0,
          "stats: observation ranges per dimension");
    float lo = 1, hi = -1;
    for (int i = 0; i < 10; i++) lo = fminf(lo, sinf((float)i)), hi = fmaxf(hi, sinf((float)i));
    CHECK(s.act_dim == 1 && s.act_min[0] == lo && s.act_max[0] == hi, "stats: action range");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pp_dataset_stats_print(&s, d, "Hopper-v3", f);
    fclose(f);
    CHECK(strstr(buf, "rows 10\n") && strstr(buf, "episodes 3\n") && strstr(buf, "truncated_tail 3\n") &&
              strstr(buf, "# the last 3 rows end with neither flag") && strstr(buf, "return_min 6\n") &&
              strstr(buf, "obs[1] -18 0\n") && strstr(buf, "column terminals bool [10]\n") &&
              strstr(buf, "column observations f32 [10,2]\n"),
          "stats: the printed table");
    free(buf);
    pp_dataset_stats_free(&s);

    CHECK(pp_dataset_stats_compute(d, "Pendulum-v1", &s) == 0 && !s.has_score, "stats: Pendulum has no score");
    f = open_memstream(&buf, &len);
    pp_dataset_stats_print(&s, d, "Pendulum-v1", f);
    fclose(f);
    CHECK(strstr(buf, "score -\n") != NULL, "stats: a task without reference returns prints score -");
    free(buf);
    pp_dataset_stats_free(&s);
    pp_dataset_free(d);
}

static void test_edges(void)
{
    pp_dataset_stats s;
    /* no tail: the last row is terminal; a row both terminal and timeout ends one episode */
    int term[] = {4, 9, -1}, tout[] = {4, -1};
    pp_dataset *d = rows(10, term, tout, 1);
    CHECK(pp_dataset_stats_compute(d, NULL, &s) == 0 && s.episodes == 2 && s.tail_rows == 0 && s.terminals == 2 &&
              s.timeouts == 1 && s.return_min == 15 && s.return_max == 40 && !s.has_score,
          "stats: no tail; a row with both flags ends one episode; no env, no score");
    pp_dataset_stats_free(&s);
    pp_dataset_free(d);

    /* no timeouts column, no flag at all: one truncated episode */
    d = rows(5, NULL, NULL, 0);
    CHECK(pp_dataset_stats_compute(d, NULL, &s) == 0 && s.episodes == 1 && s.tail_rows == 5 && s.return_mean == 15 &&
              s.return_std == 0,
          "stats: without timeouts and flags the whole data is one truncated episode");
    pp_dataset_stats_free(&s);
    pp_dataset_free(d);

    /* returns near 1e7 alternating by 1: std 0.5 exactly (no cancellation) */
    int n = 2000, *tt = malloc((size_t)(n + 1) * sizeof *tt);
    for (int i = 0; i < n; i++) tt[i] = i;
    tt[n] = -1;
    d = rows(n, tt, NULL, 1);
    float *r = pp_dataset_column(d, "rewards")->data;
    for (int i = 0; i < n; i++) r[i] = 1e7f + (float)(i % 2);
    CHECK(pp_dataset_stats_compute(d, NULL, &s) == 0 && s.episodes == n, "stats: 2000 one-row episodes");
    CHECK_NEAR(s.return_std, 0.5, 1e-9, "stats: std of returns 1e7 and 1e7 + 1 is 0.5");
    CHECK_NEAR(s.return_mean, 1e7 + 0.5, 1e-6, "stats: their mean");
    pp_dataset_stats_free(&s);
    pp_dataset_free(d);
    free(tt);

    /* missing rewards: refused, naming it */
    pp_dataset_new(&d, 3);
    pp_dataset_add_column(d, "terminals", PP_BOOL, 0);
    CHECK(pp_dataset_stats_compute(d, NULL, &s) != 0 && strstr(pp_error(), "rewards"),
          "stats: a data set without rewards: \"%s\"", pp_error());
    pp_dataset_stats_free(&s);
    pp_dataset_free(d);
}

int main(void)
{
    test_three_episodes();
    test_edges();
    return check_done();
}
