/* adam.c - Adam (Kingma & Ba, with bias correction, as torch.optim.Adam) and
 * Polyak averaging, each one pass over the parameter blob.
 *
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * which is lr * mhat / (sqrt(vhat) + eps) written the way PyTorch evaluates it.
 */
#include <math.h>
#include <stdlib.h>

#include "err.h"
#include "mlp.h"

int pp_adam_init(pp_adam *a, size_t n, float lr)
{
    if (!(lr >= 0.0f) || !isfinite(lr)) return pp_fail("adam: learning rate %g, expected a finite value >= 0", lr);
    a->n = n;
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    a->t = 0;
    a->m = pp_xalloc_f32(n);
    a->v = pp_xalloc_f32(n);
    return 0;
}

void pp_adam_free(pp_adam *a)
{
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

void pp_adam_step(pp_adam *a, float *restrict params, const float *restrict grads)
{
    a->t++;
    double bc1 = 1.0 - pow(a->beta1, (double)a->t), bc2 = 1.0 - pow(a->beta2, (double)a->t);
    const float step = (float)(a->lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    const float b1 = a->beta1, b2 = a->beta2, c1 = 1.0f - a->beta1, c2 = 1.0f - a->beta2, eps = a->eps;
    float *restrict mm = a->m, *restrict vv = a->v;
    size_t n = a->n;
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        float mi = b1 * mm[i] + c1 * g;
        float vi = b2 * vv[i] + c2 * g * g;
        mm[i] = mi;
        vv[i] = vi;
        params[i] -= step * mi / (__builtin_sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

void pp_polyak(float *restrict target, const float *restrict src, size_t n, float tau)
{
    for (size_t i = 0; i < n; i++) target[i] += tau * (src[i] - target[i]);
}
