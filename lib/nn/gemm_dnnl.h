/* gemm_dnnl.h - the oneDNN fp32 backend of pp_sgemm (lib/nn/gemm_dnnl.c),
 * private to lib/nn (blas.c is its one caller). Built only with DNNL=1
 * (PARPI_DNNL); without it pp_dnnl_built() is 0 and the rest is never called. */
#ifndef PP_GEMM_DNNL_H
#define PP_GEMM_DNNL_H

int pp_dnnl_built(void);
/* Row-major C = alpha op(A) op(B) + beta C through a cached dnnl_matmul
 * primitive. 0 on success; -1 if oneDNN refused the shape (the caller falls
 * back to OpenBLAS; nothing was written to C). */
int pp_dnnl_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc);
/* The same product with op(A) and op(B) rounded to bf16 (into scratch that
 * only grows), fp32 accumulation and fp32 C. 0 on success; -1 as above. */
int pp_dnnl_sgemm_bf16(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc);
/* 1 if oneDNN's effective ISA has AMX (avx512_core_amx or later). */
int pp_dnnl_has_amx(void);
/* 1 if oneDNN creates a bf16 matmul on this CPU (asked once; 0 on AVX2-only
 * CPUs and without DNNL). Where it is 0, pp_dnnl_sgemm_bf16 is not called. */
int pp_dnnl_bf16_runs(void);
void pp_dnnl_set_threads(int n);
long long pp_dnnl_created(void);  /* primitives created since start */
int pp_dnnl_cached(void);         /* primitives in the cache now */

#endif
