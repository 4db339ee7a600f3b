/* --precision bf16: pp_sgemm with both operands rounded to bf16, fp32
 * accumulation and output (oneDNN), at every shape, transpose, leading
 * dimension, alpha and beta lib/nn uses, against a float64 product of the
 * fp32 operands; one layer's forward and backward against fp32; a 3x256 twin
 * critic's; the primitive cache; the selection (pp_gemm_set_precision,
 * PARPI_PRECISION, auto). Skipped without DNNL.
 *
 * Two kinds of CPU (nn/blas.h, pp_gemm_bf16_runs). Where oneDNN has a bf16
 * matmul (oneDNN 2.6.3: AVX-512 and later; the Intel Xeon with AMX of
 * docs/perf.md section 10) the operands must be rounded: some product lies
 * beyond fp32's bound, and no shape falls back. Where it has none (AVX2
 * only: the AMD EPYC of docs/perf.md section 12) --precision bf16 runs every
 * product in fp32 through oneDNN: each is checked to be the bytes of
 * --gemm dnnl at fp32 and within fp32's bound, and the rounding check is
 * skipped, saying why. A CPU that /proc/cpuinfo says has bf16 instructions
 * (avx512_bf16, amx_bf16) must be one of the first kind, so a probe that
 * wrongly said "none" cannot skip the rounding checks there.
 *
 * The bound. bf16 keeps 8 significant bits, so rounding to nearest gives
 * a' = a (1 + d1), b' = b (1 + d2), |d1|, |d2| <= u16 = 2^-8, and
 *   |a'b' - ab| <= (2 u16 + u16^2) |ab| = (2^-7 + 2^-16) |ab|.
 * The product of two 8-bit significands is exact in fp32 (16 <= 24 bits);
 * the fp32 sum of K of them, alpha and beta C add gamma_{K+2} (u = 2^-24) of
 * |alpha| sum |a'b'| + |beta C0| (Higham 3.1, as in test_gemm.c). So
 *   |C - C_exact| <= (2^-7 + 2^-16) (1 + gamma_{K+2}) |alpha| sum|ab|
 *                    + gamma_{K+2} (|alpha| sum|ab| (1 + 2^-7 + 2^-16) + |beta C0|)   (**)
 * Against fp32 (which is within gamma_{K+2} of exact by itself) a bf16
 * result is within (**) plus gamma_{K+2} (|alpha| sum|ab| + |beta C0|).
 * A layer's output y = x W + b and its gradients dx = dy W^T, dW = x^T dy are
 * one such product each (the bias is added in fp32, exactly the same way in
 * both), so each element is within that bound with sum |ab| = (|x||W|)[i,j],
 * (|dy||W|^T)[i,j], (|x|^T|dy|)[i,j]: the test gets those by running the same
 * layer in fp32 on |x|, |params|, |dy|. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gemm_cases.h"
#include "base/err.h"
#include "base/rng.h"
#include "nn/blas.h"
#include "nn/mlp.h"

static const double U16 = 1.0 / 256; /* 2^-8 */

/* (**)'s coefficient of |alpha| sum|ab| and of |beta C0|, against exact */
static double coef_ab(int K) { double g = gamma_n(K + 2); return (2 * U16 + U16 * U16) * (1 + g) + g * (1 + 2 * U16 + U16 * U16); }

/* worst |C - exact| / (**), and the worst |C - exact| / gamma_{K+2}(...) (the
 * fp32 bound: > 1 shows the operands were rounded); with same_as_fp32, also
 * whether C is the bytes of the same product at fp32 (the dnnl backend) */
static void run_case(const gcase *c, pp_rng *rng, double *ratio, double *vs_fp32_bound, int *pad_ok,
                     int *same_as_fp32)
{
    int arows = c->ta ? c->K : c->M, brows = c->tb ? c->N : c->K;
    float *A = pp_xalloc_f32((size_t)arows * c->lda), *Bm = pp_xalloc_f32((size_t)brows * c->ldb);
    float *C0 = pp_xalloc_f32((size_t)c->M * c->ldc), *C = pp_xalloc_f32((size_t)c->M * c->ldc);
    pp_rng_fill_normal_f32(rng, A, (size_t)arows * c->lda);
    pp_rng_fill_normal_f32(rng, Bm, (size_t)brows * c->ldb);
    pp_rng_fill_normal_f32(rng, C0, (size_t)c->M * c->ldc);
    if (c->beta == 0.0f)
        for (int i = 0; i < c->M; i++) C0[(size_t)i * c->ldc] = NAN; /* beta 0 must not read C */
    memcpy(C, C0, (size_t)c->M * c->ldc * sizeof *C0);
    pp_sgemm(c->ta, c->tb, c->M, c->N, c->K, c->alpha, A, c->lda, Bm, c->ldb, c->beta, C, c->ldc);
    if (same_as_fp32) {
        float *C32 = pp_xalloc_f32((size_t)c->M * c->ldc);
        memcpy(C32, C0, (size_t)c->M * c->ldc * sizeof *C0);
        int prec = pp_gemm_precision();
        pp_gemm_set_precision(PP_PREC_FP32); /* the dnnl backend stays */
        pp_sgemm(c->ta, c->tb, c->M, c->N, c->K, c->alpha, A, c->lda, Bm, c->ldb, c->beta, C32, c->ldc);
        pp_gemm_set_precision(prec);
        *same_as_fp32 = memcmp(C, C32, (size_t)c->M * c->ldc * sizeof *C) == 0;
        free(C32);
    }
    double g = gamma_n(c->K + 2), k = coef_ab(c->K);
    *ratio = *vs_fp32_bound = 0;
    *pad_ok = 1;
    for (int i = 0; i < c->M; i++) {
        for (int j = 0; j < c->N; j++) {
            double abs_s, c0;
            double want = gemm_ref(c, A, Bm, C0, i, j, &abs_s, &c0);
            double err = fabs(C[(size_t)i * c->ldc + j] - want);
            double e = err / (k * fabs(c->alpha) * abs_s + g * fabs(c->beta * c0) + 1e-30);
            double f = err / (g * (fabs(c->alpha) * abs_s + fabs(c->beta * c0)) + 1e-30);
            *ratio = isnan(e) ? INFINITY : fmax(*ratio, e);
            *vs_fp32_bound = isnan(f) ? INFINITY : fmax(*vs_fp32_bound, f);
        }
        for (int j = c->N; j < c->ldc; j++)
            if (memcmp(&C[(size_t)i * c->ldc + j], &C0[(size_t)i * c->ldc + j], sizeof(float)) != 0) *pad_ok = 0;
    }
    free(A), free(Bm), free(C0), free(C);
}

/* 1 if /proc/cpuinfo's flags name flag (0 if not, or no /proc/cpuinfo) */
static int cpu_flag(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[8192];
    int found = 0;
    size_t n = strlen(flag);
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        for (char *p = strstr(line, flag); p && !found; p = strstr(p + 1, flag))
            found = (p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == 0);
        break;
    }
    fclose(f);
    return found;
}

static void absv(float *d, const float *s, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = fabsf(s[i]);
}

/* worst |a - b| / (k * s + tiny) over n */
static double worst(const float *a, const float *b, const float *s, size_t n, double k)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (k * s[i] + 1e-30);
        w = isnan(e) ? INFINITY : fmax(w, e);
    }
    return w;
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, na = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        na += (double)b[i] * b[i];
    }
    return sqrt(d) / fmax(sqrt(na), 1e-30);
}

enum { SB = 256, IN = 23, OUT = 256, E = 2 };

/* one forward/backward of m at the set precision: y, dparams, dx */
static void fb(pp_mlp *m, const float *p, const float *x, const float *dy, float *y, float *dp, float *dx, int B,
               int nout)
{
    const float *o = pp_mlp_forward(m, p, x, B);
    memcpy(y, o, (size_t)B * nout * sizeof *y);
    memset(dp, 0, m->nparams * sizeof *dp);
    pp_mlp_backward(m, p, dy, dp, dx);
}

int main(void)
{
    int p;
    CHECK(pp_gemm_precision_parse("fp32", &p) == 0 && p == PP_PREC_FP32 && pp_gemm_precision_parse("bf16", &p) == 0 &&
              p == PP_PREC_BF16 && pp_gemm_precision_parse("auto", &p) == 0 && p == PP_PREC_AUTO &&
              pp_gemm_precision_parse("fp16", &p) == -1,
          "pp_gemm_precision_parse knows fp32, bf16 and auto");
    setenv("PARPI_PRECISION", "half", 1);
    CHECK(pp_gemm_check_env() == -1 && strstr(pp_error(), "PARPI_PRECISION"), "PARPI_PRECISION=half is refused: %s",
          pp_error());
    if (!pp_gemm_available(PP_GEMM_DNNL)) {
        setenv("PARPI_PRECISION", "bf16", 1);
        CHECK(pp_gemm_check_env() == -1 && pp_gemm_set_precision(PP_PREC_BF16) == -1 &&
                  pp_gemm_set_precision(PP_PREC_AUTO) == 0 && pp_gemm_precision() == PP_PREC_FP32,
              "without DNNL bf16 is refused and auto is fp32");
        SKIP("oneDNN not built in (DNNL=0)");
        return check_done();
    }
    setenv("PARPI_PRECISION", "bf16", 1);
    setenv("PARPI_GEMM", "openblas", 1);
    CHECK(pp_gemm_check_env() == -1 && strstr(pp_error(), "openblas"), "PARPI_PRECISION=bf16 with PARPI_GEMM=openblas "
          "is refused: %s", pp_error());
    unsetenv("PARPI_GEMM");
    CHECK(pp_gemm_check_env() == 0 && pp_gemm_precision() == PP_PREC_BF16 && pp_gemm_backend() == PP_GEMM_DNNL,
          "PARPI_PRECISION=bf16 selects bf16 and the dnnl backend");
    setenv("PARPI_PRECISION", "fp32", 1);
    CHECK(pp_gemm_precision() == PP_PREC_BF16, "PARPI_PRECISION is read once");
    unsetenv("PARPI_PRECISION");
    pp_gemm_set_backend(PP_GEMM_OPENBLAS);
    CHECK(pp_gemm_precision() == PP_PREC_FP32, "selecting OpenBLAS sets fp32 again");
    int amx = pp_gemm_has_amx();
    int set = pp_gemm_set_precision(PP_PREC_AUTO), got = pp_gemm_precision();
    CHECK(set == 0 && got == (amx ? PP_PREC_BF16 : PP_PREC_FP32), "auto: %s here (oneDNN %s AMX)",
          pp_gemm_precision_name(got), amx ? "reports" : "does not report");
    pp_gemm_set_precision(PP_PREC_BF16);
    CHECK(pp_gemm_backend() == PP_GEMM_DNNL && pp_gemm_precision() == PP_PREC_BF16, "pp_gemm_set_precision(bf16) "
          "selects dnnl");
    pp_blas_set_threads(1);
    int runs = pp_gemm_bf16_runs();
    int native = cpu_flag("avx512_bf16") || cpu_flag("amx_bf16");
    CHECK(runs || !native, "oneDNN has a bf16 matmul on this CPU: %s (cpuinfo: avx512f %s, avx512_bf16 %s, "
          "amx_bf16 %s)", runs ? "yes" : "no, --precision bf16 runs fp32 here", cpu_flag("avx512f") ? "yes" : "no",
          cpu_flag("avx512_bf16") ? "yes" : "no", cpu_flag("amx_bf16") ? "yes" : "no");

    const gcase *cases = gemm_cases;
    const int ncases = GEMM_NCASES;
    pp_rng rng;
    pp_rng_seed(&rng, 11);
    printf("# bound (**): (2^-7 + 2^-16)(1 + g) + g (1 + 2^-7 + 2^-16) of |alpha| sum|ab|, g = gamma_{K+2}, + g |beta C0|;"
           " K = 256: %.6g (fp32's g alone: %.3g)\n", coef_ab(256), gamma_n(258));
    double above_fp32 = 0;
    int all_same = 1;
    for (int i = 0; i < ncases; i++) {
        double r, f;
        int pad, same = 1;
        run_case(&cases[i], &rng, &r, &f, &pad, runs ? NULL : &same);
        above_fp32 = fmax(above_fp32, f);
        all_same &= same;
        CHECK(r <= 1 && pad, "bf16 %s %dx%dx%d: error / bound %.3g (/ fp32's bound %.3g)%s", cases[i].what, cases[i].M,
              cases[i].N, cases[i].K, r, f, pad ? "" : ", wrote past N");
    }
    if (runs) {
        CHECK(above_fp32 > 1, "the operands were rounded: worst error %.3g x fp32's bound", above_fp32);
        CHECK(pp_gemm_fallbacks() == 0, "oneDNN took every shape in bf16 (%lld fallbacks)", pp_gemm_fallbacks());
    } else {
        SKIP("the operands were rounded: oneDNN has no bf16 matmul on this CPU (it needs AVX-512), so bf16 "
             "rounds nothing here (worst error %.3g x fp32's bound)", above_fp32);
        CHECK(all_same && above_fp32 <= 1 && pp_gemm_fallbacks() == 0,
              "no bf16 matmul here: --precision bf16 ran every shape in fp32 through oneDNN, the bytes of --gemm dnnl "
              "(%s), within fp32's bound (worst %.3g), %lld fallbacks to OpenBLAS", all_same ? "all" : "NOT all",
              above_fp32, pp_gemm_fallbacks());
    }
    long long made = pp_gemm_primitives_created();
    for (int i = 0; i < ncases; i++) {
        double r, f;
        int pad;
        gcase c = cases[i];
        if (c.alpha != 1) c.alpha = 0.31f;
        run_case(&c, &rng, &r, &f, &pad, NULL);
    }
    CHECK(pp_gemm_primitives_created() == made, "second bf16 pass (new alphas): no primitive created");
    pp_gemm_set_precision(PP_PREC_FP32);
    double r, f;
    int pad;
    run_case(&cases[1], &rng, &r, &f, &pad, NULL);
    if (runs)
        CHECK(pp_gemm_primitives_created() == made + 1 && f <= 1,
              "fp32 again: the same shape is a primitive of its own (precision in the key), fp32's bound (%.3g)", f);
    else
        CHECK(pp_gemm_primitives_created() == made && f <= 1,
              "fp32 again: the fp32 primitive bf16 used on this CPU, none new, fp32's bound (%.3g)", f);

    /* one layer (2 members, 23 -> 256, linear), bf16 against fp32, each
     * element within (**) + fp32's bound, sum|ab| from the |.| run */
    pp_mlp m;
    if (pp_mlp_init(&m, IN, 0, NULL, OUT, E, PP_ACT_RELU, PP_ACT_LINEAR, 0, SB) != 0) {
        CHECK(0, "pp_mlp_init: %s", pp_error());
        return check_done();
    }
    size_t ny = (size_t)SB * E * OUT;
    float *par = pp_xalloc_f32(m.nparams), *x = pp_xalloc_f32((size_t)SB * IN), *dy = pp_xalloc_f32(ny);
    float *apar = pp_xalloc_f32(m.nparams), *ax = pp_xalloc_f32((size_t)SB * IN), *ady = pp_xalloc_f32(ny);
    float *y32 = pp_xalloc_f32(ny), *y16 = pp_xalloc_f32(ny), *ya = pp_xalloc_f32(ny);
    float *g32 = pp_xalloc_f32(m.nparams), *g16 = pp_xalloc_f32(m.nparams), *ga = pp_xalloc_f32(m.nparams);
    float *dx32 = pp_xalloc_f32((size_t)SB * IN), *dx16 = pp_xalloc_f32((size_t)SB * IN),
          *dxa = pp_xalloc_f32((size_t)SB * IN);
    pp_mlp_init_params(&m, par, &rng);
    pp_rng_fill_normal_f32(&rng, x, (size_t)SB * IN);
    pp_rng_fill_normal_f32(&rng, dy, ny);
    absv(apar, par, m.nparams), absv(ax, x, (size_t)SB * IN), absv(ady, dy, ny);
    fb(&m, par, x, dy, y32, g32, dx32, SB, E * OUT);
    fb(&m, apar, ax, ady, ya, ga, dxa, SB, E * OUT);
    pp_gemm_set_precision(PP_PREC_BF16);
    fb(&m, par, x, dy, y16, g16, dx16, SB, E * OUT);
    /* y: K = IN; dW: K = SB (the bias gradient is a column sum, fp32 in both:
     * its bound is fp32's, which (**) contains); dx: K = E*OUT */
    double ky = coef_ab(IN) + gamma_n(IN + 2), kw = coef_ab(SB) + gamma_n(SB + 2),
           kx = coef_ab(E * OUT) + gamma_n(E * OUT + 2);
    double wy = worst(y16, y32, ya, ny, ky), wg = worst(g16, g32, ga, m.nparams, kw),
           wx = worst(dx16, dx32, dxa, (size_t)SB * IN, kx);
    printf("# layer bound coefficients: y %.4g, dW %.4g, dx %.4g\n", ky, kw, kx);
    CHECK(wy <= 1 && wg <= 1 && wx <= 1,
          "one layer, bf16 vs fp32, worst error / bound: forward %.3g, dparams %.3g, dx %.3g", wy, wg, wx);
    pp_mlp_free(&m);

    /* a 3x256 twin critic (relu): bf16 vs fp32, relative L2, printed. Not a
     * derived bound: each product is within ~2^-7 of sum|ab| elementwise
     * (above), but relative to the result's own norm that grows with the
     * cancellation in the sums (a random dy cancels a lot) and ReLU masks can
     * flip; the check (1/8) only catches a broken path. */
    int h3[3] = {256, 256, 256};
    if (pp_mlp_init(&m, IN, 3, h3, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, SB) != 0) {
        CHECK(0, "pp_mlp_init: %s", pp_error());
        return check_done();
    }
    float *cp = pp_xalloc_f32(m.nparams), *cg32 = pp_xalloc_f32(m.nparams), *cg16 = pp_xalloc_f32(m.nparams);
    float *q32 = pp_xalloc_f32(2 * SB), *q16 = pp_xalloc_f32(2 * SB), *cdy = pp_xalloc_f32(2 * SB);
    pp_mlp_init_params(&m, cp, &rng);
    pp_rng_fill_normal_f32(&rng, cdy, 2 * SB);
    pp_gemm_set_precision(PP_PREC_FP32);
    fb(&m, cp, x, cdy, q32, cg32, dx32, SB, 2);
    pp_gemm_set_precision(PP_PREC_BF16);
    long long before = pp_gemm_primitives_created();
    fb(&m, cp, x, cdy, q16, cg16, dx16, SB, 2);
    long long warm = pp_gemm_primitives_created();
    fb(&m, cp, x, cdy, q16, cg16, dx16, SB, 2);
    CHECK(pp_gemm_primitives_created() == warm, "critic in bf16: %lld primitives at warm-up (its shapes seen above), "
          "none after", warm - before);
    double dq = rel_diff(q16, q32, 2 * SB), dg = rel_diff(cg16, cg32, m.nparams),
           dxx = rel_diff(dx16, dx32, (size_t)SB * IN);
    printf("# 3x256 twin critic, bf16 vs fp32, relative L2: Q %.3g, dL/dtheta %.3g, dL/dsa %.3g\n", dq, dg, dxx);
    CHECK(dq < 1.0 / 8 && dg < 1.0 / 8 && dxx < 1.0 / 8, "critic forward/backward in bf16 within 1/8 of fp32");
    pp_gemm_set_precision(PP_PREC_FP32);
    pp_gemm_set_backend(PP_GEMM_OPENBLAS);
    pp_mlp_free(&m);
    float *bufs[] = {par, x, dy, apar, ax, ady, y32, y16, ya, g32, g16, ga, dx32, dx16, dxa,
                     cp, cg32, cg16, q32, q16, cdy};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    return check_done();
}
