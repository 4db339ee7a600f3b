/* The sgemm backends: oneDNN fp32 (PARPI_GEMM=dnnl) against OpenBLAS and a
 * float64 product, at every shape, transpose, leading dimension, alpha and
 * beta lib/nn calls pp_sgemm with; its primitive cache (no creation once a
 * shape has been seen, 1/sigma not a new shape); the backend switch and
 * PARPI_GEMM; and one SAC-shaped critic update (twin 3x256 critic, forward,
 * backward to the weights and the input, Adam) with each backend.
 *
 * The bound. Any order of summation of a K-term fp32 dot product, with or
 * without FMA, is within gamma_K * sum |a_k b_k| of the exact sum (Higham,
 * Accuracy and Stability, 3.1), gamma_n = n u / (1 - n u), u = 2^-24. alpha
 * and beta C add at most two roundings, so each element of C satisfies
 *   |C - C_exact| <= gamma_{K+2} (|alpha| sum_k |a_k b_k| + |beta C0|)  (*)
 * whatever the backend's blocking. Both backends meet (*) against float64;
 * against each other they differ by at most twice it. The test prints the
 * worst ratio error / bound for each backend (about 1e-2 in practice: the
 * bound is a worst case, errors add at random). Skipped without DNNL. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gemm_cases.h"
#include "base/err.h"
#include "base/rng.h"
#include "nn/adam.h"
#include "nn/blas.h"
#include "nn/mlp.h"

extern int openblas_get_num_threads(void);

/* worst |C - exact| / bound (*) of one backend, and of oneDNN against OpenBLAS
 * (over twice the bound); pad columns past N must stay untouched */
static void run_case(const gcase *c, pp_rng *rng, double *r_blas, double *r_dnnl, double *r_cross, int *pad_ok)
{
    int arows = c->ta ? c->K : c->M, brows = c->tb ? c->N : c->K;
    float *A = pp_xalloc_f32((size_t)arows * c->lda), *Bm = pp_xalloc_f32((size_t)brows * c->ldb);
    float *C0 = pp_xalloc_f32((size_t)c->M * c->ldc), *C1 = pp_xalloc_f32((size_t)c->M * c->ldc),
          *C2 = pp_xalloc_f32((size_t)c->M * c->ldc);
    pp_rng_fill_normal_f32(rng, A, (size_t)arows * c->lda);
    pp_rng_fill_normal_f32(rng, Bm, (size_t)brows * c->ldb);
    pp_rng_fill_normal_f32(rng, C0, (size_t)c->M * c->ldc);
    if (c->beta == 0.0f)
        for (int i = 0; i < c->M; i++) C0[(size_t)i * c->ldc] = NAN; /* beta 0 must not read C */
    memcpy(C1, C0, (size_t)c->M * c->ldc * sizeof *C0);
    memcpy(C2, C0, (size_t)c->M * c->ldc * sizeof *C0);
    pp_gemm_set_backend(PP_GEMM_OPENBLAS);
    pp_sgemm(c->ta, c->tb, c->M, c->N, c->K, c->alpha, A, c->lda, Bm, c->ldb, c->beta, C1, c->ldc);
    pp_gemm_set_backend(PP_GEMM_DNNL);
    pp_sgemm(c->ta, c->tb, c->M, c->N, c->K, c->alpha, A, c->lda, Bm, c->ldb, c->beta, C2, c->ldc);
    double g = gamma_n(c->K + 2);
    *r_blas = *r_dnnl = *r_cross = 0;
    *pad_ok = 1;
    for (int i = 0; i < c->M; i++) {
        for (int j = 0; j < c->N; j++) {
            double abs_s, c0;
            double want = gemm_ref(c, A, Bm, C0, i, j, &abs_s, &c0);
            double bound = g * (fabs(c->alpha) * abs_s + fabs(c->beta * c0)) + 1e-30;
            double e1 = fabs(C1[(size_t)i * c->ldc + j] - want) / bound;
            double e2 = fabs(C2[(size_t)i * c->ldc + j] - want) / bound;
            double e3 = fabs((double)C2[(size_t)i * c->ldc + j] - C1[(size_t)i * c->ldc + j]) / (2 * bound);
            *r_blas = isnan(e1) ? INFINITY : fmax(*r_blas, e1);
            *r_dnnl = isnan(e2) ? INFINITY : fmax(*r_dnnl, e2);
            *r_cross = isnan(e3) ? INFINITY : fmax(*r_cross, e3);
        }
        for (int j = c->N; j < c->ldc; j++)
            if (memcmp(&C2[(size_t)i * c->ldc + j], &C0[(size_t)i * c->ldc + j], sizeof(float)) != 0) *pad_ok = 0;
    }
    free(A);
    free(Bm);
    free(C0);
    free(C1);
    free(C2);
}

/* ---- a SAC-shaped critic update ---- */

enum { SB = 256, OBS = 17, ACT = 6, IN = OBS + ACT };

typedef struct {
    float *q, *dq, *dx, *params;
} upd;

static void critic_update(int backend, pp_mlp *m, const float *p0, const float *sa, const float *y, int steps,
                          upd *o)
{
    pp_gemm_set_backend(backend);
    pp_adam adam;
    pp_adam_init(&adam, m->nparams, 3e-4f);
    float *p = pp_xalloc_f32(m->nparams), *g = pp_xalloc_f32(m->nparams), *dy = pp_xalloc_f32(2 * SB);
    memcpy(p, p0, m->nparams * sizeof *p);
    o->q = pp_xalloc_f32(2 * SB);
    o->dq = pp_xalloc_f32(m->nparams);
    o->dx = pp_xalloc_f32((size_t)SB * IN);
    for (int s = 0; s < steps; s++) {
        const float *q = pp_mlp_forward(m, p, sa, SB);
        for (int i = 0; i < 2 * SB; i++) dy[i] = 2 * (q[i] - y[i / 2]) / SB; /* both members: (Q - y)^2 mean */
        memset(g, 0, m->nparams * sizeof *g);
        pp_mlp_backward(m, p, dy, g, o->dx);
        if (s == 0) {
            memcpy(o->q, q, 2 * SB * sizeof *q);
            memcpy(o->dq, g, m->nparams * sizeof *g);
        }
        pp_adam_step(&adam, p, g);
    }
    o->params = p;
    pp_adam_free(&adam);
    free(g);
    free(dy);
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, na = 0, nb = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return sqrt(d) / fmax(sqrt(fmax(na, nb)), 1e-30);
}

int main(void)
{
    /* PARPI_GEMM is read once, before any pp_gemm_set_backend */
    setenv("PARPI_GEMM", "bogus", 1);
    CHECK(pp_gemm_check_env() == -1 && strstr(pp_error(), "PARPI_GEMM") && strstr(pp_error(), "bogus"),
          "PARPI_GEMM=bogus is refused by the programs' check: %s", pp_error());
    int b;
    CHECK(pp_gemm_parse("openblas", &b) == 0 && b == PP_GEMM_OPENBLAS && pp_gemm_parse("dnnl", &b) == 0 &&
              b == PP_GEMM_DNNL && pp_gemm_parse("mkl", &b) == -1,
          "pp_gemm_parse knows openblas and dnnl only");
    if (!pp_gemm_available(PP_GEMM_DNNL)) {
        CHECK(pp_gemm_backend() == PP_GEMM_OPENBLAS && pp_gemm_set_backend(PP_GEMM_DNNL) == -1,
              "without DNNL the backend stays OpenBLAS and dnnl is refused: %s", pp_error());
        SKIP("oneDNN not built in (DNNL=0)");
        return check_done();
    }
    setenv("PARPI_GEMM", "dnnl", 1);
    CHECK(pp_gemm_check_env() == 0 && pp_gemm_backend() == PP_GEMM_DNNL, "PARPI_GEMM=dnnl selects oneDNN");
    setenv("PARPI_GEMM", "openblas", 1);
    CHECK(pp_gemm_backend() == PP_GEMM_DNNL, "PARPI_GEMM is read once");
    unsetenv("PARPI_GEMM");
    pp_blas_set_threads(1);

    /* every call of lib/nn (gemm_cases.h) */
    const gcase *cases = gemm_cases;
    const int ncases = GEMM_NCASES;
    pp_rng rng;
    pp_rng_seed(&rng, 7);
    printf("# bound (*): gamma_{K+2} (|alpha| sum|ab| + |beta C0|), gamma_258 = %.3g; ratios must be <= 1\n",
           gamma_n(258));
    for (int i = 0; i < ncases; i++) {
        double rb, rd, rc;
        int pad;
        run_case(&cases[i], &rng, &rb, &rd, &rc, &pad);
        CHECK(rd <= 1 && rb <= 1 && rc <= 1 && pad,
              "%s %dx%dx%d: error/bound OpenBLAS %.3g, oneDNN %.3g, oneDNN-OpenBLAS %.3g%s", cases[i].what,
              cases[i].M, cases[i].N, cases[i].K, rb, rd, rc, pad ? "" : ", wrote past N");
    }
    CHECK(pp_gemm_fallbacks() == 0, "oneDNN took every shape (%lld fallbacks to OpenBLAS)", pp_gemm_fallbacks());

    /* the cache: a second pass over the same calls creates nothing; a new
     * alpha is a runtime scale, not a new primitive */
    long long made = pp_gemm_primitives_created();
    for (int i = 0; i < ncases; i++) {
        double rb, rd, rc;
        int pad;
        gcase c = cases[i];
        if (c.alpha != 1) c.alpha = 0.31f;
        run_case(&c, &rng, &rb, &rd, &rc, &pad);
    }
    CHECK(made > 0 && pp_gemm_primitives_created() == made,
          "second pass (new alphas): %lld primitives created before, none after", made);
    pp_blas_set_threads(2);
    double rb, rd, rc;
    int pad;
    run_case(&cases[1], &rng, &rb, &rd, &rc, &pad);
    CHECK(pp_gemm_primitives_created() == made + 1 && rd <= 1,
          "2 threads: a primitive of its own, same bound (%.3g)", rd);
    CHECK(pp_blas_threads() == 2 && openblas_get_num_threads() == 1,
          "with oneDNN, 2 threads are oneDNN's and OpenBLAS runs on 1 (one pool at a time)");
    pp_gemm_set_backend(PP_GEMM_OPENBLAS);
    CHECK(openblas_get_num_threads() == 2, "back to OpenBLAS: its 2 threads again");
    pp_gemm_set_backend(PP_GEMM_DNNL);
    pp_blas_set_threads(1);

    /* a SAC-shaped critic update */
    pp_mlp m;
    int h3[3] = {256, 256, 256};
    if (pp_mlp_init(&m, IN, 3, h3, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, SB) != 0) {
        CHECK(0, "pp_mlp_init: %s", pp_error());
        return check_done();
    }
    float *p0 = pp_xalloc_f32(m.nparams), *sa = pp_xalloc_f32((size_t)SB * IN), *y = pp_xalloc_f32(SB);
    pp_mlp_init_params(&m, p0, &rng);
    pp_rng_fill_normal_f32(&rng, sa, (size_t)SB * IN);
    pp_rng_fill_normal_f32(&rng, y, SB);
    upd ob, od;
    critic_update(PP_GEMM_OPENBLAS, &m, p0, sa, y, 5, &ob);
    long long before = pp_gemm_primitives_created();
    critic_update(PP_GEMM_DNNL, &m, p0, sa, y, 1, &od);
    long long warm = pp_gemm_primitives_created();
    free(od.q), free(od.dq), free(od.dx), free(od.params);
    critic_update(PP_GEMM_DNNL, &m, p0, sa, y, 5, &od);
    CHECK(pp_gemm_primitives_created() == warm, "critic update: %lld primitives at warm-up, none in 5 more steps",
          warm - before);
    /* Each layer's product is within gamma_{K+2} ~ 1.5e-5 of exact, relative
     * to sum |a b|; through 4 layers forward and back that is ~1e-4 worst
     * case, relative to the output's norm, for either backend, so they agree
     * within 2e-4; Adam's step is lr-sized, so parameters after 5 steps
     * differ by far less, relatively (5 lr / |p| ~ 1e-2 of that). */
    double dq = rel_diff(od.q, ob.q, 2 * SB), dg = rel_diff(od.dq, ob.dq, m.nparams),
           dx = rel_diff(od.dx, ob.dx, (size_t)SB * IN), dp = rel_diff(od.params, ob.params, m.nparams);
    printf("# critic update, oneDNN vs OpenBLAS, relative L2: Q %.3g, dL/dtheta %.3g, dL/dsa %.3g, "
           "params after 5 Adam steps %.3g\n", dq, dg, dx, dp);
    CHECK(dq < 2e-4 && dg < 2e-4 && dx < 2e-4, "critic forward/backward, oneDNN within 2e-4 of OpenBLAS");
    CHECK(dp < 1e-5, "critic parameters after 5 Adam steps within 1e-5 (%.3g)", dp);
    pp_gemm_set_backend(PP_GEMM_OPENBLAS);
    pp_mlp_free(&m);
    free(p0), free(sa), free(y);
    upd *runs[] = {&ob, &od};
    for (int i = 0; i < 2; i++) free(runs[i]->q), free(runs[i]->dq), free(runs[i]->dx), free(runs[i]->params);
    return check_done();
}
