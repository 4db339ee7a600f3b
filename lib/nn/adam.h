/* adam.h - the Adam optimiser and Polyak averaging: single passes over a
 * parameter blob (lib/nn/adam.c). */
#ifndef PP_ADAM_H
#define PP_ADAM_H

#include <stddef.h>

typedef struct {
    size_t n;
    float lr, beta1, beta2, eps;
    long long t;       /* steps taken */
    float *m, *v;      /* owned moments */
} pp_adam;

int pp_adam_init(pp_adam *a, size_t n, float lr);  /* betas 0.9/0.999, eps 1e-8 */
void pp_adam_free(pp_adam *a);
/* One step with bias correction: params -= lr * mhat / (sqrt(vhat) + eps). */
void pp_adam_step(pp_adam *a, float *params, const float *grads);
/* pp_adam_step then pp_polyak(target, params, a->n, tau), in one pass over
 * the blob: the same bytes as the two calls. */
void pp_adam_step_polyak(pp_adam *a, float *params, const float *grads, float *target, float tau);
/* target = (1 - tau) * target + tau * src */
void pp_polyak(float *target, const float *src, size_t n, float tau);

#endif
