/* mlp_impl.h - helpers shared by mlp.c, mlp_spectral.c and mlp_penalty.c
 * (not installed API). */
#ifndef PP_MLP_IMPL_H
#define PP_MLP_IMPL_H

#include <stdio.h>
#include <stdlib.h>

#include "nn/mlp.h"

/* Member e's block of weight matrix l inside a blob-shaped array (params,
 * dparams or sn_w): a [width[l], width[l+1]] matrix with leading dimension
 * *ld. Layer 0 is one [in, E*w1] matrix, so its blocks are column slices. */
static inline size_t pp_mlp_wblock(const pp_mlp *m, int l, int e, int *ld)
{
    int in = m->width[l], out = m->width[l + 1];
    if (l == 0) {
        *ld = m->members * out;
        return (size_t)e * out;
    }
    *ld = out;
    return (size_t)e * in * out;
}

/* The weights the forward uses for layer l (all members): W or W / sigma. */
static inline const float *pp_mlp_weights(const pp_mlp *m, const float *params, int l)
{
    return m->spectral ? m->sn_w[l] : params + m->off_w[l];
}

static inline pp_act pp_mlp_layer_act(const pp_mlp *m, int l)
{
    return l == m->nlayers - 1 ? m->out_act : m->hidden_act;
}

/* Seed u, v from rng and run the initial power iterations (mlp_spectral.c). */
void pp_mlp_sn_init(pp_mlp *m, const float *params, pp_rng *rng);

/* Elementwise kernels (mlp_kernels.c, vectorised). */
void pp_kern_bias_act(float *pre, float *post, const float *b, int rows, int cols, pp_act act);
void pp_kern_fill_rows(float *y, const float *b, int rows, int cols);
void pp_kern_act(const float *pre, float *post, size_t n, pp_act act);
void pp_kern_matvec_f64(const float *x, const float *W, int ldw, const float *b, float *y, int in, int out);
void pp_kern_act_backward(float *delta, const float *grad, const float *pre, const float *post, float *db, int rows,
                          int cols, pp_act act);
void pp_kern_column_sums_add(float *db, const float *d, int rows, int cols);
void pp_kern_relu_mask(float *x, const float *post, size_t n);
void pp_kern_adam(float *p, const float *g, float *m, float *v, size_t n, float b1, float b2, float step,
                  float inv_sqrt_bc2, float eps);
void pp_kern_polyak(float *t, const float *s, size_t n, float tau);
void pp_kern_adam_polyak(float *p, const float *g, float *m, float *v, float *t, size_t n, float b1, float b2,
                         float step, float inv_sqrt_bc2, float eps, float tau);

/* Contract violations (programming errors) abort with a message. */
#define PP_MLP_REQUIRE(cond, ...)                                                           \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "libparpi: " __VA_ARGS__);                                      \
            fputc('\n', stderr);                                                            \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#endif
