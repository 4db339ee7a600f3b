/* blas.h - the one door to OpenBLAS (lib/nn/blas.c): thread control,
 * profiling counters, and the sgemm/sgemv every Linear goes through. */
#ifndef PP_BLAS_H
#define PP_BLAS_H

void pp_blas_set_threads(int n);
int pp_blas_threads(void);
/* Apply the idle-thread fix of pp_blas_set_threads once, keeping OpenBLAS's
 * thread count (pp_mlp_init calls it; a no-op after the first call). */
void pp_blas_quiet_once(void);
/* Seconds spent inside sgemm since start (counted when profiling is on).
 * The counters are plain process globals: profile from one thread. */
void pp_blas_profile(int on);
double pp_blas_seconds(void);
void pp_blas_profile_reset(void);      /* zero seconds, flops and calls */
double pp_blas_flops(void);            /* 2*M*N*K summed over profiled calls */
long long pp_blas_calls(void);

/* Row-major C[M,N] = alpha op(A)[M,K] op(B)[K,N] + beta C (ta/tb: 1 =
 * transposed). Every Linear goes through here (profiled). Shapes with one
 * row, one column or K = 1 are sent to sgemv/sger. */
void pp_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc);
/* Row-major y = alpha op(A) x + beta y, A [rows, cols] (profiled). */
void pp_sgemv(int ta, int rows, int cols, float alpha, const float *A, int lda, const float *x, int incx,
              float beta, float *y, int incy);

#endif
