/* blas.c - the one door to OpenBLAS: thread count, idle behaviour, sgemm
 * wrapper with an optional time/FLOP profiler.
 *
 * Idle threads. OpenBLAS's pthreads server keeps its worker threads spinning
 * (sched_yield loop) for OPENBLAS_THREAD_TIMEOUT = 2^28 TSC cycles (~0.1 s)
 * after every threaded call before they sleep on a condition variable. In a
 * parpi ring, each stage works in short bursts and then waits on a pipe, so
 * with the default every stage would burn a core for 0.1 s after each frame
 * (measured: 0.103 s CPU per 0.3 s of idle after a burst). The variable is
 * read once, when the library is loaded, and fixes the timeout when the
 * thread pool starts, so setting it from inside the program is too late by
 * itself. pp_blas_set_threads() (and pp_mlp_init(), once) therefore:
 *   1. sets OPENBLAS_THREAD_TIMEOUT (unless the user set it) to
 *      PP_BLAS_THREAD_TIMEOUT (2^18 cycles, ~0.1 ms: long enough to keep the
 *      workers awake between the sgemms of one update, short enough that an
 *      idle stage sleeps at once),
 *   2. asks OpenBLAS to re-read its environment (openblas_read_env),
 *   3. stops the thread pool (blas_thread_shutdown_); the next threaded call
 *      starts it again with the new timeout,
 *   4. sets the thread count.
 * Evidence: tests/unit/test_blas.c measures the process CPU time (all
 * threads, getrusage) over 0.3 s of sleep after a 2-thread burst: it is ~0.
 * The two internal symbols are referenced weakly: with a BLAS that lacks them
 * only the thread count is set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "nn/blas.h"
#include "nn/gemm_dnnl.h"
#include "base/clock.h"
#include "base/err.h"

#define PP_BLAS_THREAD_TIMEOUT "18"

extern void openblas_read_env(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));

static int quiet_done;
static int profiling;
static double prof_seconds, prof_flops;
static long long prof_calls;

static void make_idle_threads_sleep(void)
{
    if (!getenv("OPENBLAS_THREAD_TIMEOUT")) setenv("OPENBLAS_THREAD_TIMEOUT", PP_BLAS_THREAD_TIMEOUT, 1);
    if (openblas_read_env && blas_thread_shutdown_) {
        openblas_read_env();
        blas_thread_shutdown_();
    }
    quiet_done = 1;
}

/* ---- the backend ---- */

static int backend = -1; /* -1: PARPI_GEMM not read yet */
static int backend_chosen;  /* by pp_gemm_set_backend or PARPI_GEMM, not the default */
static int prec = -1;       /* PP_PREC_FP32 or _BF16; -1: PARPI_PRECISION not read yet */
static int nthreads;        /* the count asked for; 0: OpenBLAS's own, not read yet */
static int dnnl_threads_set; /* the thread counts were split for oneDNN */
static long long fallbacks;

int pp_gemm_available(int b) { return b == PP_GEMM_OPENBLAS || (b == PP_GEMM_DNNL && pp_dnnl_built()); }

const char *pp_gemm_name(int b) { return b == PP_GEMM_DNNL ? "dnnl" : "openblas"; }

int pp_gemm_parse(const char *name, int *b)
{
    if (strcmp(name, "openblas") == 0)
        *b = PP_GEMM_OPENBLAS;
    else if (strcmp(name, "dnnl") == 0)
        *b = PP_GEMM_DNNL;
    else
        return pp_fail("gemm backend '%s': expected openblas or dnnl", name);
    return 0;
}

/* One pool at a time. With oneDNN, its OpenMP workers do the sgemms and
 * OpenBLAS (sgemv, sger of the degenerate shapes) runs on one thread: two
 * pools of spinning workers on the same cores slowed a 2-thread SAC update
 * from ~9 ms to a median of 419 ms on a shared 2-core machine (docs/perf.md
 * section 8). With OpenBLAS, OpenBLAS has them all, as before. */
static void apply_threads(void)
{
    if (nthreads < 1) nthreads = openblas_get_num_threads();
    if (backend == PP_GEMM_DNNL) {
        openblas_set_num_threads(1);
        pp_dnnl_set_threads(nthreads);
        dnnl_threads_set = 1;
    } else {
        openblas_set_num_threads(nthreads);
    }
}

int pp_gemm_set_backend(int b)
{
    if (b != PP_GEMM_OPENBLAS && b != PP_GEMM_DNNL) return pp_fail("gemm backend %d: expected openblas or dnnl", b);
    if (!pp_gemm_available(b)) return pp_fail("gemm backend %s: not built in (build with DNNL=1)", pp_gemm_name(b));
    int was = backend;
    backend = b;
    backend_chosen = 1;
    if (b == PP_GEMM_OPENBLAS && prec == PP_PREC_BF16) prec = PP_PREC_FP32; /* bf16 is a dnnl mode */
    if ((was == PP_GEMM_DNNL) != (b == PP_GEMM_DNNL) && (dnnl_threads_set || nthreads)) apply_threads();
    return 0;
}

int pp_gemm_check_env(void)
{
    const char *v = getenv("PARPI_GEMM");
    int b = -1, p;
    if (v && *v && (pp_gemm_parse(v, &b) != 0 || !pp_gemm_available(b))) {
        if (pp_gemm_parse(v, &b) == 0) pp_fail("gemm backend %s: not built in (build with DNNL=1)", v);
        return pp_fail_prefix("PARPI_GEMM: ");
    }
    const char *w = getenv("PARPI_PRECISION");
    if (!w || !*w) return 0;
    if (pp_gemm_precision_parse(w, &p) != 0) return pp_fail_prefix("PARPI_PRECISION: ");
    if (p == PP_PREC_BF16 && !pp_dnnl_built())
        return pp_fail("PARPI_PRECISION: bf16 needs the dnnl backend, not built in (build with DNNL=1)");
    if (p == PP_PREC_BF16 && b == PP_GEMM_OPENBLAS)
        return pp_fail("PARPI_PRECISION: bf16 runs through oneDNN, not with PARPI_GEMM=openblas");
    return 0;
}

/* ---- the precision ---- */

const char *pp_gemm_precision_name(int p)
{
    return p == PP_PREC_BF16 ? "bf16" : p == PP_PREC_AUTO ? "auto" : "fp32";
}

int pp_gemm_precision_parse(const char *name, int *p)
{
    if (strcmp(name, "fp32") == 0)
        *p = PP_PREC_FP32;
    else if (strcmp(name, "bf16") == 0)
        *p = PP_PREC_BF16;
    else if (strcmp(name, "auto") == 0)
        *p = PP_PREC_AUTO;
    else
        return pp_fail("precision '%s': expected fp32, bf16 or auto", name);
    return 0;
}

int pp_gemm_has_amx(void) { return pp_dnnl_built() && pp_dnnl_has_amx(); }
int pp_gemm_bf16_runs(void) { return pp_dnnl_built() && pp_dnnl_bf16_runs(); }

int pp_gemm_resolve_precision(int p)
{
    if (p == PP_PREC_AUTO) return pp_gemm_has_amx() ? PP_PREC_BF16 : PP_PREC_FP32;
    return p;
}

int pp_gemm_set_precision(int p)
{
    if (p != PP_PREC_FP32 && p != PP_PREC_BF16 && p != PP_PREC_AUTO)
        return pp_fail("precision %d: expected fp32, bf16 or auto", p);
    p = pp_gemm_resolve_precision(p);
    if (p == PP_PREC_BF16) {
        if (!pp_dnnl_built()) return pp_fail("precision bf16: needs the dnnl backend, not built in (build with DNNL=1)");
        if (pp_gemm_set_backend(PP_GEMM_DNNL) != 0) return -1;
    }
    prec = p;
    return 0;
}

/* PARPI_GEMM, once: a value that is not a built backend leaves OpenBLAS
 * (programs refuse it first, with pp_gemm_check_env). */
static int current(void)
{
    if (backend < 0) {
        const char *v = getenv("PARPI_GEMM");
        int b = PP_GEMM_OPENBLAS;
        if (v && strcmp(v, "dnnl") == 0 && pp_dnnl_built()) b = PP_GEMM_DNNL;
        if (v && *v) backend_chosen = 1;
        backend = b;
    }
    if (prec < 0) {
        /* PARPI_PRECISION, once: bf16 (or auto on AMX) selects dnnl unless
         * OpenBLAS was chosen; a bad value leaves fp32 (programs refuse it
         * first, with pp_gemm_check_env) */
        const char *v = getenv("PARPI_PRECISION");
        int p = PP_PREC_FP32;
        if (v && pp_gemm_precision_parse(v, &p) != 0) {
            pp_error_clear();
            p = PP_PREC_FP32;
        }
        p = pp_gemm_resolve_precision(p);
        if (p == PP_PREC_BF16 && (!pp_dnnl_built() || (backend_chosen && backend == PP_GEMM_OPENBLAS)))
            p = PP_PREC_FP32;
        prec = p;
        if (p == PP_PREC_BF16 && backend != PP_GEMM_DNNL) pp_gemm_set_backend(PP_GEMM_DNNL);
    }
    return backend;
}

int pp_gemm_precision(void)
{
    current();
    return prec;
}

int pp_gemm_backend(void) { return current(); }
long long pp_gemm_primitives_created(void) { return pp_dnnl_created(); }
long long pp_gemm_fallbacks(void) { return fallbacks; }

void pp_blas_set_threads(int n)
{
    if (n < 1) n = openblas_get_num_procs();
    make_idle_threads_sleep();
    nthreads = n;
    if (backend == PP_GEMM_DNNL)
        apply_threads();
    else
        openblas_set_num_threads(n);
}

void pp_blas_quiet_once(void)
{
    if (quiet_done) return;
    int n = openblas_get_num_threads();
    make_idle_threads_sleep();
    openblas_set_num_threads(n);
}

int pp_blas_threads(void) { return nthreads ? nthreads : openblas_get_num_threads(); }

void pp_blas_profile(int on) { profiling = on; }

void pp_blas_profile_reset(void)
{
    prof_seconds = 0;
    prof_flops = 0;
    prof_calls = 0;
}

double pp_blas_seconds(void) { return prof_seconds; }
double pp_blas_flops(void) { return prof_flops; }
long long pp_blas_calls(void) { return prof_calls; }

/* Row-major C[M,N] = alpha op(A)[M,K] op(B)[K,N] + beta C. Degenerate shapes
 * (one row, one column, inner size one) go to sgemv / sger, which OpenBLAS
 * 0.3.21 does not do by itself and which run several times faster there. */
static void gemm_dispatch(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc)
{
    if (N == 1) {
        /* C[:,0] (stride ldc) = alpha op(A) x + beta C, x = op(B)[:,0] */
        int incx = tb ? 1 : ldb;
        if (ta)
            cblas_sgemv(CblasRowMajor, CblasTrans, K, M, alpha, A, lda, B, incx, beta, C, ldc);
        else
            cblas_sgemv(CblasRowMajor, CblasNoTrans, M, K, alpha, A, lda, B, incx, beta, C, ldc);
        return;
    }
    if (M == 1) {
        /* C[0,:] = alpha op(B)^T a + beta C, a = op(A)[0,:] */
        int incx = ta ? lda : 1;
        if (tb)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, ldb, A, incx, beta, C, 1);
        else
            cblas_sgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, ldb, A, incx, beta, C, 1);
        return;
    }
    if (K == 1) {
        /* C = beta C + alpha a b^T, a = op(A)[:,0], b = op(B)[0,:] */
        for (int i = 0; i < M; i++) {
            float *c = C + (size_t)i * ldc;
            if (beta == 0.0f)
                memset(c, 0, (size_t)N * sizeof *c);
            else if (beta != 1.0f)
                for (int j = 0; j < N; j++) c[j] *= beta;
        }
        int incx = ta ? 1 : lda, incy = tb ? ldb : 1;
        cblas_sger(CblasRowMajor, M, N, alpha, A, incx, B, incy, C, ldc);
        return;
    }
    if (current() == PP_GEMM_DNNL) {
        if (!dnnl_threads_set) apply_threads(); /* OpenBLAS's count, unless set */
        /* bf16 where oneDNN has a bf16 matmul on this CPU; where it has none
         * (AVX2 only), fp32 through oneDNN: the products of --gemm dnnl at
         * fp32, bit for bit, on oneDNN's threads (blas.h) */
        if (prec == PP_PREC_BF16 && pp_dnnl_bf16_runs()) {
            if (pp_dnnl_sgemm_bf16(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0) return;
        } else if (pp_dnnl_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0) {
            return;
        }
        fallbacks++;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
}

void pp_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    if (!profiling) {
        gemm_dispatch(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    double t0 = pp_now();
    gemm_dispatch(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    prof_seconds += pp_now() - t0;
    prof_flops += 2.0 * M * N * K;
    prof_calls++;
}

void pp_sgemv(int ta, int rows, int cols, float alpha, const float *A, int lda, const float *x, int incx,
              float beta, float *y, int incy)
{
    if (rows <= 0 || cols <= 0) return;
    double t0 = profiling ? pp_now() : 0;
    cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, rows, cols, alpha, A, lda, x, incx, beta, y,
                incy);
    if (profiling) {
        prof_seconds += pp_now() - t0;
        prof_flops += 2.0 * rows * cols;
        prof_calls++;
    }
}
