/* gemm_dnnl.c - pp_sgemm's oneDNN fp32 backend: one dnnl_matmul primitive
 * per (M, N, K, transposes, lda/ldb/ldc, alpha == 1, beta, threads), created
 * the first time that call is made and kept in a small cache, so that after
 * the first step of a stage no primitive is created in the step loop.
 *
 * Row-major operands with leading dimensions map onto oneDNN's strided
 * memory descriptors: op(A) [M,K] has strides {lda, 1}, or {1, lda} when A is
 * stored transposed; op(B) likewise; C [M,N] {ldc, 1}. beta is a sum post-op
 * (dst = alpha A B + beta dst; beta 0 never reads C). alpha 1 is the plain
 * product; any other alpha is a runtime output scale passed at execution, so
 * spectral norm's 1/sigma, which changes every step, does not make a new
 * primitive every step. The thread count is part of the key: oneDNN's
 * kernels fix their work split when the primitive is created.
 *
 * The cache holds PP_DNNL_CACHE entries; past that the oldest entry is
 * replaced (round robin). The whole suite uses a few dozen shapes.
 * Process-wide and not thread-safe, like blas.c's profiler.
 *
 * pp_dnnl_sgemm_bf16 (--precision bf16) rounds the operands to bf16 into
 * scratch and runs a bf16 x bf16 -> f32 primitive (its own cache entries):
 * see the section at the end. Not every CPU has one: pp_dnnl_bf16_runs asks
 * oneDNN once (there too).
 */
#include "nn/gemm_dnnl.h"

#ifndef PARPI_DNNL

int pp_dnnl_built(void) { return 0; }
int pp_dnnl_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc)
{
    (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb,
        (void)beta, (void)C, (void)ldc;
    return -1;
}
int pp_dnnl_sgemm_bf16(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc)
{
    return pp_dnnl_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
int pp_dnnl_has_amx(void) { return 0; }
int pp_dnnl_bf16_runs(void) { return 0; }
void pp_dnnl_set_threads(int n) { (void)n; }
long long pp_dnnl_created(void) { return 0; }
int pp_dnnl_cached(void) { return 0; }

#else

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dnnl.h>
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#endif

#define PP_DNNL_CACHE 128

typedef struct {
    int used;
    int ta, tb, M, N, K, lda, ldb, ldc, scaled, nthr, bf16;
    float beta;
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, c, scale;
} entry;

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int ready = 0; /* 1 ok, -1 engine or stream failed */
static entry cache[PP_DNNL_CACHE];
static int next_slot, ncached;
static long long created;
static int nthr_set; /* 0: the runtime's default */

int pp_dnnl_built(void) { return 1; }
long long pp_dnnl_created(void) { return created; }
int pp_dnnl_cached(void) { return ncached; }

static int threads(void)
{
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
    return omp_get_max_threads();
#else
    return nthr_set;
#endif
}

void pp_dnnl_set_threads(int n)
{
    nthr_set = n;
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
    if (n >= 1) omp_set_num_threads(n);
#endif
}

static int start(void)
{
    if (ready) return ready;
    ready = -1;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return ready;
    if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        dnnl_engine_destroy(engine);
        return ready;
    }
    ready = 1;
    return ready;
}

static void drop(entry *e)
{
    if (!e->used) return;
    dnnl_primitive_destroy(e->prim);
    dnnl_memory_destroy(e->a);
    dnnl_memory_destroy(e->b);
    dnnl_memory_destroy(e->c);
    if (e->scale) dnnl_memory_destroy(e->scale);
    memset(e, 0, sizeof *e);
    ncached--;
}

static int make(entry *e)
{
    dnnl_memory_desc_t amd, bmd, cmd, smd;
    dnnl_dims_t ad = {e->M, e->K}, bd = {e->K, e->N}, cd = {e->M, e->N}, sd = {1};
    dnnl_dims_t as = {e->ta ? 1 : e->lda, e->ta ? e->lda : 1};
    dnnl_dims_t bs = {e->tb ? 1 : e->ldb, e->tb ? e->ldb : 1};
    dnnl_dims_t cs = {e->ldc, 1};
    dnnl_data_type_t in = e->bf16 ? dnnl_bf16 : dnnl_f32;
    if (dnnl_memory_desc_init_by_strides(&amd, 2, ad, in, as) != dnnl_success ||
        dnnl_memory_desc_init_by_strides(&bmd, 2, bd, in, bs) != dnnl_success ||
        dnnl_memory_desc_init_by_strides(&cmd, 2, cd, dnnl_f32, cs) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&smd, 1, sd, dnnl_f32, dnnl_a) != dnnl_success)
        return -1;
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &amd, &bmd, NULL, &cmd) != dnnl_success) return -1;
    dnnl_primitive_attr_t attr;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success) return -1;
    int ok = 1;
    if (e->scaled) {
        float runtime = DNNL_RUNTIME_F32_VAL;
        ok = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &runtime) == dnnl_success;
    }
    if (ok && e->beta != 0.0f) {
        dnnl_post_ops_t po;
        ok = dnnl_post_ops_create(&po) == dnnl_success;
        if (ok) {
            ok = dnnl_post_ops_append_sum(po, e->beta) == dnnl_success &&
                 dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
            dnnl_post_ops_destroy(po);
        }
    }
    dnnl_primitive_desc_t pd = NULL;
    if (ok) ok = dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL) == dnnl_success;
    dnnl_primitive_attr_destroy(attr);
    if (!ok) return -1;
    ok = dnnl_primitive_create(&e->prim, pd) == dnnl_success;
    dnnl_primitive_desc_destroy(pd);
    if (!ok) return -1;
    e->scale = NULL;
    if (dnnl_memory_create(&e->a, &amd, engine, DNNL_MEMORY_NONE) != dnnl_success) goto fail_prim;
    if (dnnl_memory_create(&e->b, &bmd, engine, DNNL_MEMORY_NONE) != dnnl_success) goto fail_a;
    if (dnnl_memory_create(&e->c, &cmd, engine, DNNL_MEMORY_NONE) != dnnl_success) goto fail_b;
    if (e->scaled && dnnl_memory_create(&e->scale, &smd, engine, DNNL_MEMORY_NONE) != dnnl_success) goto fail_c;
    created++;
    return 0;
fail_c:
    dnnl_memory_destroy(e->c);
fail_b:
    dnnl_memory_destroy(e->b);
fail_a:
    dnnl_memory_destroy(e->a);
fail_prim:
    dnnl_primitive_destroy(e->prim);
    return -1;
}

static entry *lookup(int ta, int tb, int M, int N, int K, int lda, int ldb, int ldc, int scaled, float beta,
                     int bf16)
{
    int nthr = threads();
    for (int i = 0; i < PP_DNNL_CACHE; i++) {
        entry *e = &cache[i];
        if (e->used && e->M == M && e->N == N && e->K == K && e->ta == ta && e->tb == tb && e->lda == lda &&
            e->ldb == ldb && e->ldc == ldc && e->scaled == scaled && e->beta == beta && e->nthr == nthr &&
            e->bf16 == bf16)
            return e;
    }
    entry *e = &cache[next_slot];
    next_slot = (next_slot + 1) % PP_DNNL_CACHE;
    drop(e);
    *e = (entry){.ta = ta, .tb = tb, .M = M, .N = N, .K = K, .lda = lda, .ldb = ldb, .ldc = ldc,
                 .scaled = scaled, .nthr = nthr, .beta = beta, .bf16 = bf16};
    if (make(e) != 0) {
        memset(e, 0, sizeof *e);
        return NULL;
    }
    e->used = 1;
    ncached++;
    return e;
}

static int run(entry *e, float alpha, const void *A, const void *B, float *C);

int pp_dnnl_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc)
{
    if (start() < 0) return -1;
    int scaled = alpha != 1.0f;
    entry *e = lookup(ta, tb, M, N, K, lda, ldb, ldc, scaled, beta, 0);
    if (!e) return -1;
    return run(e, alpha, A, B, C);
}

static int run(entry *e, float alpha, const void *A, const void *B, float *C)
{
    int scaled = e->scaled;
    dnnl_memory_set_data_handle(e->a, (void *)A);
    dnnl_memory_set_data_handle(e->b, (void *)B);
    dnnl_memory_set_data_handle(e->c, C);
    dnnl_exec_arg_t args[4] = {
        {DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}, {DNNL_ARG_ATTR_OUTPUT_SCALES, e->scale}};
    if (scaled) dnnl_memory_set_data_handle(e->scale, &alpha);
    if (dnnl_primitive_execute(e->prim, stream, scaled ? 4 : 3, args) != dnnl_success) return -1;
    return dnnl_stream_wait(stream) == dnnl_success ? 0 : -1;
}

/* ---- bf16 operands, fp32 accumulation and output ----
 *
 * op(A) and op(B) are rounded to bf16 (round to nearest even, NaN kept
 * quiet) into two scratch buffers, packed in their stored layout (A is M x K,
 * or K x M when transposed, with leading dimension K or M; B likewise), and a
 * matmul primitive with bf16 src/weights and an f32 dst does the product.
 * The buffers only grow: after the first step has seen the largest operands
 * nothing is allocated. The primitive's key carries bf16 = 1 and the packed
 * leading dimensions. */

static uint16_t *scratch_a, *scratch_b;
static size_t cap_a, cap_b;

static inline uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* rows x cols of X (leading dimension ld) into dst, packed */
static void pack(uint16_t *restrict dst, const float *restrict X, int rows, int cols, int ld)
{
    for (int i = 0; i < rows; i++) {
        const float *x = X + (size_t)i * ld;
        uint16_t *d = dst + (size_t)i * cols;
        for (int j = 0; j < cols; j++) d[j] = to_bf16(x[j]);
    }
}

static int reserve(uint16_t **buf, size_t *cap, size_t n)
{
    if (n <= *cap) return 0;
    uint16_t *p = realloc(*buf, n * sizeof *p);
    if (!p) return -1;
    *buf = p;
    *cap = n;
    return 0;
}

int pp_dnnl_sgemm_bf16(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc)
{
    if (start() < 0) return -1;
    int arows = ta ? K : M, acols = ta ? M : K, brows = tb ? N : K, bcols = tb ? K : N;
    if (reserve(&scratch_a, &cap_a, (size_t)arows * acols) != 0 ||
        reserve(&scratch_b, &cap_b, (size_t)brows * bcols) != 0)
        return -1;
    entry *e = lookup(ta, tb, M, N, K, acols, bcols, ldc, alpha != 1.0f, beta, 1);
    if (!e) return -1;
    pack(scratch_a, A, arows, acols, lda);
    pack(scratch_b, B, brows, bcols, ldb);
    return run(e, alpha, scratch_a, scratch_b, C);
}

int pp_dnnl_has_amx(void) { return dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core_amx; }

/* Whether this CPU has a bf16 matmul at all: oneDNN 2.6.3 creates none where
 * its effective ISA is below avx512_core (it emulates bf16 with AVX-512
 * before avx512_core_bf16 and AMX; on AVX2, e.g. an AMD EPYC before Zen 4,
 * dnnl_primitive_desc_create answers dnnl_unimplemented for every shape).
 * Asked once, with a 16x16x16 bf16 x bf16 -> f32 matmul, so that a process
 * without bf16 does not try (and fail, ~16 us on that EPYC) to create a
 * primitive at every call. */
int pp_dnnl_bf16_runs(void)
{
    static int runs = -1;
    if (runs >= 0) return runs;
    runs = 0;
    if (start() < 0) return runs;
    dnnl_memory_desc_t amd, bmd, cmd;
    dnnl_dims_t d = {16, 16};
    dnnl_matmul_desc_t md;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_memory_desc_init_by_tag(&amd, 2, d, dnnl_bf16, dnnl_ab) == dnnl_success &&
        dnnl_memory_desc_init_by_tag(&bmd, 2, d, dnnl_bf16, dnnl_ab) == dnnl_success &&
        dnnl_memory_desc_init_by_tag(&cmd, 2, d, dnnl_f32, dnnl_ab) == dnnl_success &&
        dnnl_matmul_desc_init(&md, &amd, &bmd, NULL, &cmd) == dnnl_success &&
        dnnl_primitive_desc_create(&pd, &md, NULL, engine, NULL) == dnnl_success) {
        dnnl_primitive_desc_destroy(pd);
        runs = 1;
    }
    return runs;
}

#endif
