/* vec.h - elementwise checks over a float blob (parameters, gradients): one
 * door for the loops that stages would otherwise each write (lib/nn/vec.c). */
#ifndef PP_VEC_H
#define PP_VEC_H

#include <stddef.h>

/* 1 if none of x[0..n) is NaN or infinite, else 0 (1 for n = 0). */
int pp_vec_all_finite(const float *x, size_t n);

#endif
