/* dataset_next.c - next_observations paired within episodes (data/dataset_next.h). */
#include "data/dataset_next.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int pp_dataset_pair_next(pp_dataset *d, pp_next_report *r)
{
    pp_next_report rep = {0};
    if (r) *r = rep;
    if (pp_dataset_column(d, "next_observations")) return 0;
    pp_column *obs = pp_dataset_need(d, "observations", PP_F32, -1);
    pp_column *term = obs ? pp_dataset_need(d, "terminals", PP_BOOL, 0) : NULL;
    pp_column *tout = term ? pp_dataset_need(d, "timeouts", PP_BOOL, 0) : NULL;
    if (!tout) return pp_fail_prefix("pairing next observations: ");
    if (obs->width < 1) return pp_fail("pairing next observations: observations is [N], expected [N, obs_dim]");
    const int64_t n = d->rows, O = obs->width;
    /* added with n rows (col[] is an array in d: obs, term, tout stay valid);
     * it is filled with the k rows that stay */
    pp_column *next = pp_dataset_add_column(d, "next_observations", PP_F32, O);
    if (!next) return pp_fail_prefix("pairing next observations: ");
    const uint8_t *t = term->data, *u = tout->data;
    const float *ob = obs->data;
    float *nx = next->data;
    int64_t *keep = pp_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *keep);
    uint8_t *cut = pp_xcalloc((size_t)(n > 0 ? n : 1), 1);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (t[i]) {
            /* stays, ends its episode: a placeholder next (its own
             * observation), never read behind (1 - terminal) */
            memcpy(nx + k * O, ob + i * O, (size_t)O * sizeof *nx);
            rep.terminal_placeholder++;
            keep[k++] = i;
        } else if (u[i])
            rep.dropped_timeout++;
        else if (i + 1 == n)
            rep.dropped_tail++;
        else {
            memcpy(nx + k * O, ob + (i + 1) * O, (size_t)O * sizeof *nx);
            /* the row after it is a timeout and goes: this row is the
             * episode's new last row (a terminal row after it stays and
             * ends the episode; the tail's row stays without a flag) */
            cut[k] = !t[i + 1] && u[i + 1];
            keep[k++] = i;
        }
    }
    /* every other column keeps rows keep[0..k), moved down in place (keep[j] >= j) */
    for (int c = 0; c < d->ncols; c++) {
        pp_column *col = &d->col[c];
        if (col == next) continue;
        size_t rb = pp_column_row_bytes(col);
        uint8_t *p = col->data;
        for (int64_t j = 0; j < k; j++)
            if (keep[j] != j) memmove(p + (size_t)j * rb, p + (size_t)keep[j] * rb, rb);
    }
    /* the rows that stay are terminal or had neither flag; the new last
     * rows of the episodes whose timeout row went are timeouts */
    uint8_t *uk = tout->data;
    for (int64_t j = 0; j < k; j++)
        if (cut[j]) {
            uk[j] = 1;
            rep.marked_timeout++;
        }
    free(keep);
    free(cut);
    d->rows = k;
    rep.derived = 1;
    if (r) *r = rep;
    return 0;
}
