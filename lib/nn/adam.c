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

#include "base/err.h"
#include "nn/mlp_impl.h"
#include "nn/adam.h"

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

/* t++ and the step's two scalars (bias corrections folded in). */
static void next_step(pp_adam *a, float *step, float *inv_sqrt_bc2)
{
    a->t++;
    double bc1 = 1.0 - pow(a->beta1, (double)a->t), bc2 = 1.0 - pow(a->beta2, (double)a->t);
    *step = (float)(a->lr / bc1);
    *inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
}

void pp_adam_step(pp_adam *a, float *params, const float *grads)
{
    float step, inv_sqrt_bc2;
    next_step(a, &step, &inv_sqrt_bc2);
    pp_kern_adam(params, grads, a->m, a->v, a->n, a->beta1, a->beta2, step, inv_sqrt_bc2, a->eps);
}

void pp_adam_step_polyak(pp_adam *a, float *params, const float *grads, float *target, float tau)
{
    float step, inv_sqrt_bc2;
    next_step(a, &step, &inv_sqrt_bc2);
    pp_kern_adam_polyak(params, grads, a->m, a->v, target, a->n, a->beta1, a->beta2, step, inv_sqrt_bc2, a->eps,
                        tau);
}

void pp_polyak(float *target, const float *src, size_t n, float tau) { pp_kern_polyak(target, src, n, tau); }
