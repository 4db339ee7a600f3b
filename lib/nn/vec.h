/* vec.h - float buffers: one allocation for a set of work buffers (llm.c's
 * sizes table), and elementwise checks over a blob (parameters, gradients):
 * one door for what stages and nets would otherwise each write (vec.c). */
#ifndef PP_VEC_H
#define PP_VEC_H

#include <stddef.h>

/* 1 if none of x[0..n) is NaN or infinite, else 0 (1 for n = 0). */
int pp_vec_all_finite(const float *x, size_t n);

/* One zeroed, 64-byte-aligned allocation for n buffers of sizes[i] floats;
 * *views[i] points at buffer i, each on a 64-byte boundary. Returns the
 * block, which one free() releases:
 *   float **views[] = {&p->mu, &p->std};  size_t sizes[] = {B * A, B * A};
 *   p->block = pp_vec_carve(views, sizes, 2); */
float *pp_vec_carve(float **const views[], const size_t sizes[], int n);

#endif
