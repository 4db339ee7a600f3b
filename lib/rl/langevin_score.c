/* langevin_score.c - the Langevin score of a twin critic, min(Q1, Q2),
 * with or without the BRAC prior (formulas in langevin.h). */
#include "rl/langevin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int pp_qscore_init(pp_qscore *s, pp_mlp *q, int obs_dim, int act_dim, int max_batch)
{
    memset(s, 0, sizeof *s);
    if (q->members != 2 || q->width[q->nlayers] != 1 || q->width[0] != obs_dim + act_dim)
        return pp_fail("langevin: the critic has %d members, %d outputs and %d inputs, expected a "
                       "twin critic with 1 output and %d inputs",
                       q->members, q->width[q->nlayers], q->width[0], obs_dim + act_dim);
    if (max_batch < 1 || max_batch > q->max_batch)
        return pp_fail("langevin: batch of %d rows, the critic takes at most %d", max_batch,
                       q->max_batch);
    s->q = q;
    s->obs_dim = obs_dim;
    s->act_dim = act_dim;
    s->max_batch = max_batch;
    s->alpha = 1.0;
    size_t in = (size_t)(obs_dim + act_dim);
    s->x = pp_xalloc_f32((size_t)max_batch * in);
    s->dx = pp_xalloc_f32((size_t)max_batch * in);
    s->member = pp_xcalloc((size_t)max_batch, sizeof *s->member);
    s->qmin = pp_xalloc_f32((size_t)max_batch);
    return 0;
}

void pp_qscore_free(pp_qscore *s)
{
    free(s->x);
    free(s->dx);
    free(s->member);
    free(s->qmin);
    memset(s, 0, sizeof *s);
}

void pp_qscore_set_obs(pp_qscore *s, const float *obs, int B)
{
    int in = s->obs_dim + s->act_dim;
    for (int b = 0; b < B; b++)
        memcpy(s->x + (size_t)b * in, obs + (size_t)b * s->obs_dim, (size_t)s->obs_dim * sizeof(float));
    s->B = B;
}

/* Put tanh(u) into the action columns and run the twin critic; returns its
 * output [B, 2] and fills qmin. */
static const float *forward_q(pp_qscore *s, const float *u)
{
    int in = s->obs_dim + s->act_dim, d = s->act_dim;
    for (int b = 0; b < s->B; b++) {
        float *xa = s->x + (size_t)b * in + s->obs_dim;
        const float *ub = u + (size_t)b * d;
        for (int j = 0; j < d; j++) xa[j] = tanhf(ub[j]);
    }
    const float *y = pp_mlp_forward(s->q, s->qparams, s->x, s->B);
    /* min that propagates NaN (fminf would hide a broken member) */
    for (int b = 0; b < s->B; b++) {
        float q1 = y[2 * b], q2 = y[2 * b + 1];
        s->qmin[b] = (isnan(q1) || isnan(q2)) ? NAN : fminf(q1, q2);
    }
    return y;
}

void pp_qscore_eval(pp_qscore *s, const float *u, float *out)
{
    forward_q(s, u);
    if (out) memcpy(out, s->qmin, (size_t)s->B * sizeof(float));
}

int pp_qscore_fn(void *ctx, const float *u, int B, int d, float *g)
{
    pp_qscore *s = ctx;
    if (B != s->B || d != s->act_dim)
        return pp_fail("langevin: score asked for [%d,%d], expected [%d,%d]", B, d, s->B, s->act_dim);
    const float *y = forward_q(s, u);
    /* dx = dQmin/d(input): per row, the backward of the smaller member only (ties: Q1). */
    for (int b = 0; b < B; b++) s->member[b] = y[2 * b + 1] < y[2 * b];
    if (s->q_first) { /* the first forward is at u0: it gives q0 for free */
        memcpy(s->q_first, s->qmin, (size_t)B * sizeof(float));
        s->q_first = NULL;
    }
    pp_mlp_backward_input_select(s->q, s->qparams, s->member, s->dx);
    int in = s->obs_dim + d;
    double inv_alpha = 1.0 / s->alpha;
    for (int b = 0; b < B; b++) {
        const float *dqa = s->dx + (size_t)b * in + s->obs_dim;
        const float *ub = u + (size_t)b * d;
        float *gb = g + (size_t)b * d;
        double norm2 = 0.0;
        for (int j = 0; j < d; j++) {
            double uj = ub[j], a = tanh(uj), c = cosh(uj);
            double sech2 = 1.0 / (c * c); /* 1 - tanh^2 without cancellation */
            double gj = dqa[j] * sech2 * inv_alpha;
            if (s->prior_mu) {
                /* + grad_u log pi_beta(tanh u|s) = -(u-mu)/sigma^2 + 2 tanh u: cancels -2 tanh u */
                double sd = s->prior_std[(size_t)b * d + j];
                gj -= (uj - s->prior_mu[(size_t)b * d + j]) / (sd * sd);
            } else {
                gj -= 2.0 * a;
            }
            gb[j] = (float)gj;
            norm2 += gj * gj;
        }
        if (!isfinite(norm2))
            return pp_fail("langevin: the score of particle %d is not finite (min Q %g)", b,
                           (double)s->qmin[b]);
        s->score_norm_sum += sqrt(norm2);
    }
    s->score_rows += B;
    return 0;
}
