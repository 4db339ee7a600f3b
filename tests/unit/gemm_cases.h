/* gemm_cases.h - what test_gemm.c (fp32 backends) and test_gemm_bf16.c
 * share: the fp32 rounding bound gamma_n (Higham 3.1) and every pp_sgemm
 * call lib/nn makes (mlp.c, mlp_penalty.c, mlp_select.c; E = 2 members,
 * batch 256, obs 17 + act 6, hidden 256, and odd sizes), the same with odd
 * leading dimensions, and the 4th transpose pair; and the float64
 * reference of one element of a case's product (gemm_ref). */
#ifndef PP_TEST_GEMM_CASES_H
#define PP_TEST_GEMM_CASES_H

#include <math.h>

/* n u / (1 - n u), u = 2^-24 */
static inline double gamma_n(int n)
{
    double u = ldexp(1.0, -24);
    return n * u / (1 - n * u);
}

typedef struct {
    int ta, tb, M, N, K, lda, ldb, ldc;
    float alpha, beta;
    const char *what;
} gcase;

static const gcase gemm_cases[] = {
    {0, 0, 256, 512, 23, 23, 512, 512, 1, 1, "forward layer 0, all members (NN, beta 1)"},
    {0, 0, 256, 256, 256, 512, 256, 512, 1, 1, "forward member block (NN, strided X and Y)"},
    {0, 0, 37, 12, 256, 256, 12, 12, 1, 1, "forward policy head (NN, odd batch)"},
    {1, 0, 23, 512, 256, 23, 512, 512, 1, 1, "dW layer 0 (TN, beta 1)"},
    {1, 0, 256, 256, 256, 512, 512, 256, 1, 1, "dW member block (TN, strided)"},
    {1, 0, 256, 256, 256, 512, 512, 256, 0.73f, 1, "dW spectral 1/sigma (TN, alpha 0.73)"},
    {1, 0, 256, 256, 256, 512, 512, 256, 1.9f, 1, "dW spectral another sigma (TN, alpha 1.9)"},
    {0, 1, 256, 256, 256, 512, 256, 512, 1, 0, "dx member block (NT, beta 0)"},
    {0, 1, 256, 23, 512, 512, 512, 23, 1, 0, "dx to the input (NT, beta 0)"},
    {0, 1, 100, 40, 30, 60, 60, 40, 1, 0, "select rows (NT, ldb E*wout)"},
    {0, 0, 256, 256, 256, 256, 256, 256, 1, 0, "penalty dz (NN, beta 0)"},
    {0, 0, 31, 29, 17, 19, 33, 35, 0.5f, 0.5f, "odd lds (NN, alpha 0.5, beta 0.5)"},
    {1, 0, 29, 31, 17, 33, 35, 37, 1, 0.5f, "odd lds (TN, beta 0.5)"},
    {0, 1, 31, 29, 17, 19, 20, 35, 2, 0, "odd lds (NT, alpha 2)"},
    {1, 1, 31, 29, 17, 35, 20, 35, 1, 1, "odd lds (TT)"},
};
enum { GEMM_NCASES = (int)(sizeof gemm_cases / sizeof gemm_cases[0]) };

/* Element (i, j) of alpha op(A) op(B) + beta C0 in float64 (*c0_out: the
 * C0 term's value, 0 when beta is 0), and *abs_s the sum of |a b| that the
 * rounding bounds scale with. */
static inline double gemm_ref(const gcase *c, const float *A, const float *Bm, const float *C0, int i, int j,
                              double *abs_s, double *c0_out)
{
    double s = 0, as = 0;
    for (int q = 0; q < c->K; q++) {
        double a = c->ta ? A[(size_t)q * c->lda + i] : A[(size_t)i * c->lda + q];
        double b = c->tb ? Bm[(size_t)j * c->ldb + q] : Bm[(size_t)q * c->ldb + j];
        s += a * b;
        as += fabs(a * b);
    }
    double c0 = c->beta == 0.0f ? 0 : C0[(size_t)i * c->ldc + j];
    *abs_s = as;
    *c0_out = c0;
    return c->alpha * s + c->beta * c0;
}

#endif
