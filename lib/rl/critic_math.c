/* critic_math.c - SAC / SQL targets (SAC's with BRAC's value penalty) and the
 * twin-Q loss (see critic_math.h). */
#include <math.h>

#include "rl/critic_math.h"

/* With a penalty: BRAC's value penalty, docs/algorithm.md section 16. Without
 * one, v is the same expression as before the penalty existed (bit for bit). */
void pp_sac_targets(float *y, const float *rew, const float *done, const float *qnext,
                    const float *logp, const float *pen, double alpha_v, int B, double alpha,
                    double gamma)
{
    const int with_pen = pen && alpha_v != 0.0;
    for (int b = 0; b < B; b++) {
        double qmin = fmin((double)qnext[2 * b], (double)qnext[2 * b + 1]);
        double v = qmin - alpha * (double)logp[b];
        if (with_pen) v -= alpha_v * (double)pen[b];
        y[b] = (float)((double)rew[b] + gamma * (1.0 - (double)done[b]) * v);
    }
}

double pp_sql_soft_value(const float *q, int M, int d, double alpha)
{
    double mx = -INFINITY;
    for (int m = 0; m < M; m++) mx = fmax(mx, fmin((double)q[2 * m], (double)q[2 * m + 1]) / alpha);
    double s = 0.0;
    for (int m = 0; m < M; m++) s += exp(fmin((double)q[2 * m], (double)q[2 * m + 1]) / alpha - mx);
    return alpha * (mx + log(s) - log((double)M) + d * log(2.0));
}

void pp_sql_targets(float *y, const float *rew, const float *done, const float *qnext, int B,
                    int M, int d, double alpha, double gamma)
{
    for (int b = 0; b < B; b++) {
        double v = pp_sql_soft_value(qnext + (size_t)b * M * 2, M, d, alpha);
        y[b] = (float)((double)rew[b] + gamma * (1.0 - (double)done[b]) * v);
    }
}

double pp_twin_q_loss(pp_mlp *q, const float *params, const float *x, const float *y, int B,
                      float *dy, float *grads, double *q1m, double *q2m)
{
    const float *qv = pp_mlp_forward(q, params, x, B);
    double loss = 0.0, s1 = 0.0, s2 = 0.0;
    for (int b = 0; b < B; b++) {
        double e1 = (double)qv[2 * b] - y[b], e2 = (double)qv[2 * b + 1] - y[b];
        loss += 0.5 * (e1 * e1 + e2 * e2);
        s1 += qv[2 * b];
        s2 += qv[2 * b + 1];
        dy[2 * b] = (float)(e1 / B);
        dy[2 * b + 1] = (float)(e2 / B);
    }
    if (isfinite(loss)) pp_mlp_backward(q, params, dy, grads, NULL);
    if (q1m) *q1m = s1 / B;
    if (q2m) *q2m = s2 / B;
    return loss / B;
}
