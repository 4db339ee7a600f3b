/* mlp_select.c - input gradient of one chosen member per row.
 *
 * The Langevin score needs d min(Q1, Q2) / d input: per row, the gradient of
 * whichever member is smaller. The plain backward with a one-hot dy computes
 * both members' backward over all B rows and throws half of it away; here
 * each member runs its backward only over the rows that chose it (gathered
 * into contiguous scratch), so the hidden-layer products cost one member's
 * worth instead of E.
 */
#include <string.h>

#include "nn/mlp.h"
#include "nn/mlp_impl.h"
#include "nn/blas.h"

/* delta[r, :] *= act'(rows[r], e-th block): off post for ReLU and tanh, off
 * pre for swish (through the backward kernel, one row at a time) */
static void mask_rows(float *delta, const float *pre, const float *post, const int *rows, int n, int e, int E,
                      int w, pp_act act)
{
    for (int r = 0; r < n; r++) {
        size_t at = (size_t)rows[r] * E * w + (size_t)e * w;
        const float *p = post + at;
        float *d = delta + (size_t)r * w;
        if (act == PP_ACT_RELU)
            pp_kern_relu_mask(d, p, (size_t)w); /* vectorised, branch-free */
        else if (act == PP_ACT_TANH)
            for (int j = 0; j < w; j++) d[j] *= 1.0f - p[j] * p[j];
        else if (act == PP_ACT_SWISH)
            pp_kern_act_backward(d, d, pre + at, p, NULL, 1, w, act);
    }
}

void pp_mlp_backward_input_select(pp_mlp *m, const float *params, const int *member, float *dx)
{
    int E = m->members, L = m->nlayers, B = m->last_batch;
    PP_MLP_REQUIRE(B >= 1, "pp_mlp_backward_input_select without a forward");
    PP_MLP_REQUIRE(m->width[L] == 1 && m->out_act == PP_ACT_LINEAR,
                   "pp_mlp_backward_input_select needs one linear output per member");
    for (int b = 0; b < B; b++)
        PP_MLP_REQUIRE(member[b] >= 0 && member[b] < E, "row %d selects member %d of %d", b, member[b], E);

    for (int e = 0; e < E; e++) {
        int n = 0;
        for (int b = 0; b < B; b++)
            if (member[b] == e) m->sel_rows[n++] = b;
        if (n == 0) continue;
        const int *rows = m->sel_rows;
        float *delta = m->delta_a, *next = m->delta_b;
        for (int r = 0; r < n; r++) delta[r] = 1.0f; /* d y_e / d y_e, linear output */
        for (int l = L - 1; l >= 0; l--) {
            int win = m->width[l], wout = m->width[l + 1];
            const float *W = pp_mlp_weights(m, params, l);
            if (l > 0) {
                pp_sgemm(0, 1, n, win, wout, 1.0f, delta, wout, W + (size_t)e * win * wout, wout, 0.0f,
                         next, win);
                mask_rows(next, m->pre[l - 1], m->post[l - 1], rows, n, e, E, win, m->hidden_act);
                float *t = delta;
                delta = next;
                next = t;
            } else {
                /* layer 0 is [in, E*w1]: member e's columns at e*w1 */
                pp_sgemm(0, 1, n, win, wout, 1.0f, delta, wout, W + (size_t)e * wout, E * wout, 0.0f, next,
                         win);
                for (int r = 0; r < n; r++)
                    memcpy(dx + (size_t)rows[r] * win, next + (size_t)r * win, (size_t)win * sizeof *dx);
            }
        }
    }
}
