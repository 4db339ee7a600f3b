/* vec.h - float buffers: one allocation for a set of work buffers (llm.c's
 * sizes table), and elementwise checks over a blob (parameters, gradients):
 * one door for what stages and nets would otherwise each write (vec.c). */
#ifndef PP_VEC_H
#define PP_VEC_H

#include <stddef.h>

/* 1 if none of x[0..n) is NaN or infinite, else 0 (1 for n = 0). */
int pp_vec_all_finite(const float *x, size_t n);

/* 0 if x[0..n) is all finite; else -1 with a message naming the first bad
 * element of the field `name`, as name[i] (cols 0: a 1-D blob) or name[i][j]
 * (rows of cols floats): "batch.obs[3][1] is not finite (nan)". Inputs are
 * checked with it before any loss is computed, so a refusal names the field
 * rather than the loss it would have poisoned. */
int pp_vec_check_finite(const float *x, size_t n, size_t cols, const char *name);

/* One zeroed, 64-byte-aligned allocation for n buffers of sizes[i] floats;
 * *views[i] points at buffer i, each on a 64-byte boundary. Returns the
 * block, which one free() releases:
 *   float **views[] = {&p->mu, &p->std};  size_t sizes[] = {B * A, B * A};
 *   p->block = pp_vec_carve(views, sizes, 2); */
float *pp_vec_carve(float **const views[], const size_t sizes[], int n);

#endif
