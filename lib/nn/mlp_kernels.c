/* mlp_kernels.c - the elementwise passes of the nets and the optimiser: bias +
 * activation, activation derivative + bias gradient, column sums, Adam and
 * Polyak. Plain loops over restrict pointers, compiled with -O3
 * -fno-math-errno (a rule in the Makefile) so that GCC vectorises them: at
 * the project's -O2 they stay scalar (unknown trip counts; sqrtf keeps errno)
 * and took 30% of a critic update. target_clones adds AVX2 and AVX-512
 * versions chosen at load time, so the binary still runs on any x86-64.
 */
#include <math.h>
#include <string.h>

#include "nn/mlp_impl.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define PP_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PP_HOT
#endif

/* sigmoid(x) without overflow: exp of -|x| only, so e is in (0, 1] and
 * neither branch divides by an infinity; for large |x| it goes to 0 or 1
 * (NaN propagates). */
static inline float sigmoid_stable(float x)
{
    float e = expf(-fabsf(x)), r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}

/* swish(x) = x sigmoid(x) (MOPO's dynamics models, docs/algorithm.md section 18) */
static inline float swish(float x) { return x * sigmoid_stable(x); }

/* swish'(x) = sigmoid(x) (1 + x (1 - sigmoid(x))): 1 for large x, 0 for large -x */
static inline float swish_grad(float x)
{
    float s = sigmoid_stable(x);
    return s * (1.0f + x * (1.0f - s));
}

PP_HOT void pp_kern_bias_act(float *restrict pre, float *restrict post, const float *restrict b, int rows,
                             int cols, pp_act act)
{
    for (int i = 0; i < rows; i++) {
        float *restrict y = pre + (size_t)i * cols;
        if (act == PP_ACT_LINEAR) {
            for (int j = 0; j < cols; j++) y[j] += b[j];
        } else if (act == PP_ACT_RELU) {
            float *restrict p = post + (size_t)i * cols;
            for (int j = 0; j < cols; j++) {
                float v = y[j] + b[j];
                y[j] = v;
                p[j] = v < 0.0f ? 0.0f : v; /* NaN propagates, as in PyTorch */
            }
        } else if (act == PP_ACT_TANH) {
            float *restrict p = post + (size_t)i * cols;
            for (int j = 0; j < cols; j++) {
                float v = y[j] + b[j];
                y[j] = v;
                p[j] = tanhf(v);
            }
        } else {
            float *restrict p = post + (size_t)i * cols;
            for (int j = 0; j < cols; j++) {
                float v = y[j] + b[j];
                y[j] = v;
                p[j] = swish(v);
            }
        }
    }
}

/* One row through one layer, for pp_mlp_forward_row: y[j] = b[j] + sum_i
 * x[i] W[i, j] (W [in, out], leading dimension ldw), the sum taken in double
 * in the order i = 0, 1, ..., then rounded to float once. A product of two
 * floats is exact in double, so a fused multiply-add gives the same sum as a
 * multiply and an add, and the columns of a block are independent: every
 * clone (and any vector width) gives the same bits. Blocks of 64 columns keep
 * the accumulators on the stack and read W row by row. */
#define MATVEC_BLOCK 64
PP_HOT void pp_kern_matvec_f64(const float *restrict x, const float *restrict W, int ldw,
                               const float *restrict b, float *restrict y, int in, int out)
{
    double acc[MATVEC_BLOCK];
    for (int j0 = 0; j0 < out; j0 += MATVEC_BLOCK) {
        int n = out - j0 < MATVEC_BLOCK ? out - j0 : MATVEC_BLOCK;
        for (int j = 0; j < n; j++) acc[j] = 0.0;
        for (int i = 0; i < in; i++) {
            const double xi = x[i];
            const float *restrict w = W + (size_t)i * ldw + j0;
            for (int j = 0; j < n; j++) acc[j] += xi * (double)w[j];
        }
        for (int j = 0; j < n; j++) y[j0 + j] = (float)(acc[j] + (double)b[j0 + j]);
    }
}

/* y[i, :] = b for every row */
PP_HOT void pp_kern_fill_rows(float *restrict y, const float *restrict b, int rows, int cols)
{
    for (int i = 0; i < rows; i++) memcpy(y + (size_t)i * cols, b, (size_t)cols * sizeof *y);
}

/* post = act(pre); nothing for linear (post is pre). */
PP_HOT void pp_kern_act(const float *restrict pre, float *restrict post, size_t n, pp_act act)
{
    if (act == PP_ACT_RELU)
        for (size_t i = 0; i < n; i++) post[i] = pre[i] < 0.0f ? 0.0f : pre[i];
    else if (act == PP_ACT_TANH)
        for (size_t i = 0; i < n; i++) post[i] = tanhf(pre[i]);
    else if (act == PP_ACT_SWISH)
        for (size_t i = 0; i < n; i++) post[i] = swish(pre[i]);
}

/* delta = grad * act'(.), in place when delta == grad; db += column sums.
 * ReLU and tanh read their derivative off post (the activation); swish
 * recomputes it from pre (the pre-activation, kept by the forward). */
PP_HOT void pp_kern_act_backward(float *delta, const float *grad, const float *restrict pre,
                                 const float *restrict post, float *restrict db, int rows, int cols, pp_act act)
{
    for (int i = 0; i < rows; i++) {
        float *d = delta + (size_t)i * cols;
        const float *g = grad + (size_t)i * cols;
        const float *restrict p = post + (size_t)i * cols;
        const float *restrict x = pre + (size_t)i * cols;
        if (act == PP_ACT_RELU) {
            if (db)
                for (int j = 0; j < cols; j++) {
                    float v = p[j] > 0.0f ? g[j] : 0.0f;
                    d[j] = v;
                    db[j] += v;
                }
            else
                for (int j = 0; j < cols; j++) d[j] = p[j] > 0.0f ? g[j] : 0.0f;
        } else if (act == PP_ACT_TANH) {
            for (int j = 0; j < cols; j++) d[j] = g[j] * (1.0f - p[j] * p[j]);
            if (db)
                for (int j = 0; j < cols; j++) db[j] += d[j];
        } else if (act == PP_ACT_SWISH) {
            for (int j = 0; j < cols; j++) d[j] = g[j] * swish_grad(x[j]);
            if (db)
                for (int j = 0; j < cols; j++) db[j] += d[j];
        } else {
            if (d != g) memcpy(d, g, (size_t)cols * sizeof *d);
            if (db)
                for (int j = 0; j < cols; j++) db[j] += d[j];
        }
    }
}

PP_HOT void pp_kern_column_sums_add(float *restrict db, const float *restrict d, int rows, int cols)
{
    for (int i = 0; i < rows; i++) {
        const float *restrict r = d + (size_t)i * cols;
        for (int j = 0; j < cols; j++) db[j] += r[j];
    }
}

PP_HOT void pp_kern_relu_mask(float *restrict x, const float *restrict post, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = post[i] > 0.0f ? x[i] : 0.0f;
}

/* One element of Adam: the moments updated in place, the new parameter
 * returned (both kernels below use it, so their arithmetic is one). */
static inline float adam_element(float pi, float gi, float *restrict m, float *restrict v, float b1,
                                 float b2, float c1, float c2, float step, float inv_sqrt_bc2, float eps)
{
    float mi = b1 * *m + c1 * gi;
    float vi = b2 * *v + c2 * gi * gi;
    *m = mi;
    *v = vi;
    return pi - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
}

PP_HOT void pp_kern_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                         size_t n, float b1, float b2, float step, float inv_sqrt_bc2, float eps)
{
    const float c1 = 1.0f - b1, c2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++)
        p[i] = adam_element(p[i], g[i], &m[i], &v[i], b1, b2, c1, c2, step, inv_sqrt_bc2, eps);
}

/* pp_kern_adam then pp_kern_polyak(t, p) in one pass: each element's
 * arithmetic is exactly theirs, in their order (p is updated, then t moves
 * toward the new p), so the results are the same bytes; p is read once. */
PP_HOT void pp_kern_adam_polyak(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                                float *restrict t, size_t n, float b1, float b2, float step, float inv_sqrt_bc2,
                                float eps, float tau)
{
    const float c1 = 1.0f - b1, c2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        float pi = adam_element(p[i], g[i], &m[i], &v[i], b1, b2, c1, c2, step, inv_sqrt_bc2, eps);
        p[i] = pi;
        t[i] += tau * (pi - t[i]);
    }
}

PP_HOT void pp_kern_polyak(float *restrict t, const float *restrict s, size_t n, float tau)
{
    for (size_t i = 0; i < n; i++) t[i] += tau * (s[i] - t[i]);
}
