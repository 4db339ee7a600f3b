/* blas.h - the one door to the matmuls (lib/nn/blas.c): thread control,
 * profiling counters, the sgemm/sgemv every Linear goes through, and the
 * choice of the sgemm's backend (OpenBLAS, the reference and the default, or
 * oneDNN fp32 where built with DNNL=1). */
#ifndef PP_BLAS_H
#define PP_BLAS_H

/* The thread count of both backends (OpenBLAS's pool and oneDNN's OpenMP). */
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

/* The sgemm backend, process-wide. PP_GEMM_OPENBLAS is the default, so
 * results are those of OpenBLAS unless a program or PARPI_GEMM asks for
 * oneDNN. PARPI_GEMM=openblas|dnnl is read once, at the first pp_sgemm or
 * pp_gemm_* call, unless pp_gemm_set_backend came first. Degenerate shapes
 * (one row, one column, K = 1) go to OpenBLAS's sgemv/sger with either
 * backend. A shape oneDNN refuses falls back to OpenBLAS (pp_gemm_fallbacks). */
enum { PP_GEMM_OPENBLAS = 0, PP_GEMM_DNNL = 1 };
int pp_gemm_available(int backend);           /* 1 if built in */
int pp_gemm_set_backend(int backend);         /* -1 (pp_fail) if not built in */
int pp_gemm_backend(void);
const char *pp_gemm_name(int backend);        /* "openblas", "dnnl" */
int pp_gemm_parse(const char *name, int *backend); /* -1 (pp_fail) if unknown */
/* PARPI_GEMM's and PARPI_PRECISION's check for the programs: -1 (pp_fail)
 * if one is set to a name that is not a backend or precision, to one not
 * built in, or to bf16 beside PARPI_GEMM=openblas; 0 otherwise. */
int pp_gemm_check_env(void);

/* The matmul precision, process-wide. PP_PREC_FP32 (the default) leaves
 * every result as it was. PP_PREC_BF16 rounds both operands of each pp_sgemm
 * that reaches a matmul kernel to bf16 (8-bit significand) and accumulates
 * and writes C in fp32, through oneDNN, on a CPU where oneDNN has a bf16
 * matmul (pp_gemm_bf16_runs; elsewhere the products stay fp32, through
 * oneDNN); the degenerate shapes (sgemv/sger) and pp_sgemv stay fp32. bf16 is a mode of the dnnl backend: setting it
 * selects that backend (-1, pp_fail, if oneDNN is not built in), and
 * selecting OpenBLAS afterwards sets fp32 again. PP_PREC_AUTO resolves at
 * once: bf16 where oneDNN reports AMX (avx512_core_amx or later) and it is
 * built in, fp32 otherwise. PARPI_PRECISION=fp32|bf16|auto is read once, at
 * the first pp_sgemm or pp_gemm_* call, unless pp_gemm_set_precision came
 * first; with it set to bf16 (or auto on AMX), PARPI_GEMM defaults to dnnl. */
enum { PP_PREC_FP32 = 0, PP_PREC_BF16 = 1, PP_PREC_AUTO = 2 };
int pp_gemm_set_precision(int prec);          /* -1 (pp_fail) if bf16 is not available */
int pp_gemm_precision(void);                  /* PP_PREC_FP32 or PP_PREC_BF16, never AUTO */
const char *pp_gemm_precision_name(int prec); /* "fp32", "bf16", "auto" */
int pp_gemm_precision_parse(const char *name, int *prec); /* -1 (pp_fail) if unknown */
int pp_gemm_resolve_precision(int prec);      /* AUTO -> what it picks here; others unchanged */
int pp_gemm_has_amx(void);                    /* oneDNN reports AMX (0 without oneDNN) */
/* 1 if PP_PREC_BF16 rounds the operands on this CPU: oneDNN is built in and
 * creates a bf16 matmul here (oneDNN 2.6.3: an effective ISA of avx512_core
 * or later; none on AVX2-only CPUs such as the AMD EPYCs before Zen 4).
 * Where it is 0, PP_PREC_BF16 still selects the dnnl backend and stays the
 * precision pp_gemm_precision() reports (and a run's config keeps), but every
 * product runs in fp32 through oneDNN: the results of PP_GEMM_DNNL at
 * PP_PREC_FP32, bit for bit, and no fallback is counted. The programs warn
 * (pp_stage_common_warn_bf16). */
int pp_gemm_bf16_runs(void);
long long pp_gemm_primitives_created(void); /* oneDNN primitives created so far */
long long pp_gemm_fallbacks(void);

#endif
