/* bench_nn - how fast the nets train at HalfCheetah shapes (obs 17, act 6,
 * batch 256, hidden 256), at 1 and 2 threads, with each sgemm backend built
 * in (OpenBLAS, then oneDNN fp32). A figure, not a test.
 *
 *   sgemm ceiling   bare sgemm loops of the 256x256x256 shapes a layer uses
 *                   (NN forward, NT input gradient, TN weight gradient)
 *   critic step     twin Q (23 -> 256 -> 256 -> 256 -> 1, 2 members):
 *                   forward + backward (dparams) + Adam
 *   critic dQ/da    forward + backward to the input only (the policy update's
 *                   path through Q: dparams NULL)
 *   policy step     17 -> 256 -> 256 -> 12: forward + backward (dparams) + Adam
 *   SAC-shaped      the network compute of one SAC update in one process:
 *                   policy forward on s', target Q forward, critic step,
 *                   policy forward on s, critic dQ/da, policy backward +
 *                   Adam, Polyak (no sampling, log-prob or temperature:
 *                   those are O(B*d) and belong to the stages)
 *
 * Median (and minimum, which other processes on the machine disturb least)
 * over 200 steps after 20 warm-up; GFLOP/s from the median. GFLOP counts 2*M*N*K of every
 * sgemm/sgemv actually issued (the profiler's count, forward, backward
 * including input gradients); "in sgemm" is the profiler's share of the step
 * time, measured in a second, separate pass. "of ceiling" compares the
 * achieved rate with the mean of the three bare sgemm rows at the same
 * thread count; "floor ms" is the step's FLOPs at that ceiling (what a
 * perfect implementation of the same maths would take).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "nn/mlp.h"
#include "base/rng.h"
#include "nn/adam.h"
#include "nn/blas.h"

#define WARMUP 20
#define STEPS 200
#define B 256

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    pp_mlp q, pi;
    float *qp, *qg, *qt, *pp, *pg;
    pp_adam qa, pa;
    float *sa, *s, *s2, *dq, *dpi, *dsa, *sa2;
} bench;

static void critic_step(bench *b)
{
    const float *y = pp_mlp_forward(&b->q, b->qp, b->sa, B);
    for (int i = 0; i < 2 * B; i++) b->dq[i] = (y[i] - 0.5f) / B;
    memset(b->qg, 0, b->q.nparams * sizeof *b->qg);
    pp_mlp_backward(&b->q, b->qp, b->dq, b->qg, NULL);
    pp_adam_step(&b->qa, b->qp, b->qg);
}

static void critic_dqda(bench *b)
{
    pp_mlp_forward(&b->q, b->qp, b->sa, B);
    for (int i = 0; i < 2 * B; i++) b->dq[i] = i % 2 ? 0.0f : -1.0f / B;
    pp_mlp_backward(&b->q, b->qp, b->dq, NULL, b->dsa);
}

static void policy_step(bench *b)
{
    const float *y = pp_mlp_forward(&b->pi, b->pp, b->s, B);
    for (int i = 0; i < 12 * B; i++) b->dpi[i] = y[i] / B;
    memset(b->pg, 0, b->pi.nparams * sizeof *b->pg);
    pp_mlp_backward(&b->pi, b->pp, b->dpi, b->pg, NULL);
    pp_adam_step(&b->pa, b->pp, b->pg);
}

static void sac_update(bench *b)
{
    pp_mlp_forward(&b->pi, b->pp, b->s2, B);  /* a' ~ pi(s') */
    pp_mlp_forward(&b->q, b->qt, b->sa2, B); /* target Q(s', a') */
    critic_step(b);
    const float *y = pp_mlp_forward(&b->pi, b->pp, b->s, B); /* a ~ pi(s) */
    for (int i = 0; i < B; i++) memcpy(b->sa + (size_t)i * 23 + 17, y + (size_t)i * 12, 6 * sizeof(float));
    critic_dqda(b);
    for (int i = 0; i < 12 * B; i++) b->dpi[i] = i % 12 < 6 ? b->dsa[(i / 12) * 23 + 17 + i % 12] / B : 0.0f;
    memset(b->pg, 0, b->pi.nparams * sizeof *b->pg);
    pp_mlp_backward(&b->pi, b->pp, b->dpi, b->pg, NULL);
    pp_adam_step(&b->pa, b->pp, b->pg);
    pp_polyak(b->qt, b->qp, b->q.nparams, 0.005f);
}

static float *ga, *gb, *gc;
static int g_ta, g_tb;
static void bare_sgemm(bench *b)
{
    (void)b;
    pp_sgemm(g_ta, g_tb, 256, 256, 256, 1.0f, ga, 256, gb, 256, 0.0f, gc, 256);
}

typedef struct {
    double ms, best, gflop, insgemm;
} result;

static result run(bench *b, void (*fn)(bench *))
{
    static double t[STEPS];
    result r;
    for (int i = 0; i < WARMUP; i++) fn(b);
    for (int i = 0; i < STEPS; i++) {
        double t0 = pp_now();
        fn(b);
        t[i] = pp_now() - t0;
    }
    qsort(t, STEPS, sizeof t[0], cmp_double);
    r.ms = 1e3 * t[STEPS / 2];
    r.best = 1e3 * t[0];
    /* second pass with the profiler: sgemm share and exact flop count */
    pp_blas_profile(1);
    pp_blas_profile_reset();
    double t0 = pp_now();
    for (int i = 0; i < STEPS; i++) fn(b);
    double total = pp_now() - t0;
    r.insgemm = pp_blas_seconds() / total;
    r.gflop = 1e-9 * pp_blas_flops() / STEPS;
    pp_blas_profile(0);
    return r;
}

/* ceiling: GFLOP/s of the bare 256x256x256 sgemms at this thread count */
static double row(const char *name, int threads, result r, double ceiling)
{
    double rate = r.gflop / r.ms * 1e3;
    printf("%-34s %7d %10.3f %8.3f %11.4f %9.1f %9.0f%% %9.0f%% %9.3f\n", name, threads, r.ms, r.best, r.gflop, rate,
           100 * r.insgemm, ceiling > 0 ? 100 * rate / ceiling : 100.0, ceiling > 0 ? r.gflop / ceiling * 1e3 : r.ms);
    return rate;
}

int main(void)
{
    bench b;
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    int h3[3] = {256, 256, 256}, h2[2] = {256, 256};
    if (pp_mlp_init(&b.q, 23, 3, h3, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, B) ||
        pp_mlp_init(&b.pi, 17, 2, h2, 12, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, B)) {
        fprintf(stderr, "bench_nn: %s\n", pp_error());
        return 1;
    }
    b.qp = pp_xalloc_f32(b.q.nparams);
    b.qg = pp_xalloc_f32(b.q.nparams);
    b.qt = pp_xalloc_f32(b.q.nparams);
    b.pp = pp_xalloc_f32(b.pi.nparams);
    b.pg = pp_xalloc_f32(b.pi.nparams);
    pp_mlp_init_params(&b.q, b.qp, &rng);
    memcpy(b.qt, b.qp, b.q.nparams * sizeof *b.qt);
    pp_mlp_init_params(&b.pi, b.pp, &rng);
    pp_adam_init(&b.qa, b.q.nparams, 3e-4f);
    pp_adam_init(&b.pa, b.pi.nparams, 3e-4f);
    b.sa = pp_xalloc_f32((size_t)B * 23);
    b.sa2 = pp_xalloc_f32((size_t)B * 23);
    b.s = pp_xalloc_f32((size_t)B * 17);
    b.s2 = pp_xalloc_f32((size_t)B * 17);
    b.dq = pp_xalloc_f32((size_t)B * 2);
    b.dpi = pp_xalloc_f32((size_t)B * 12);
    b.dsa = pp_xalloc_f32((size_t)B * 23);
    pp_rng_fill_normal_f32(&rng, b.sa, (size_t)B * 23);
    pp_rng_fill_normal_f32(&rng, b.sa2, (size_t)B * 23);
    pp_rng_fill_normal_f32(&rng, b.s, (size_t)B * 17);
    pp_rng_fill_normal_f32(&rng, b.s2, (size_t)B * 17);
    ga = pp_xalloc_f32(256 * 256);
    gb = pp_xalloc_f32(256 * 256);
    gc = pp_xalloc_f32(256 * 256);
    pp_rng_fill_normal_f32(&rng, ga, 256 * 256);
    pp_rng_fill_normal_f32(&rng, gb, 256 * 256);

    double load[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
        fclose(f);
    }
    printf("bench_nn: HalfCheetah shapes, batch %d, hidden 256; median of %d steps after %d warm-up\n", B, STEPS,
           WARMUP);
    printf("critic params %zu floats, policy params %zu floats; load average %.2f\n\n", b.q.nparams, b.pi.nparams,
           load[0]);
    printf("%-34s %7s %10s %8s %11s %9s %10s %10s %9s\n", "case", "threads", "median ms", "min ms", "GFLOP/step", "GFLOP/s",
           "in sgemm", "of ceiling", "floor ms");
    for (int be = PP_GEMM_OPENBLAS; be <= PP_GEMM_DNNL; be++) {
    if (!pp_gemm_available(be)) {
        printf("backend %s: not built in\n\n", pp_gemm_name(be));
        continue;
    }
    pp_gemm_set_backend(be);
    printf("backend %s\n", pp_gemm_name(be));
    for (int threads = 1; threads <= 2; threads++) {
        pp_blas_set_threads(threads);
        const char *names[3] = {"sgemm 256x256x256 NN (forward)", "sgemm 256x256x256 NT (dx)",
                                "sgemm 256x256x256 TN (dW)"};
        int tas[3] = {0, 0, 1}, tbs[3] = {0, 1, 0};
        double ceiling = 0;
        for (int k = 0; k < 3; k++) {
            g_ta = tas[k];
            g_tb = tbs[k];
            ceiling += row(names[k], threads, run(&b, bare_sgemm), 0) / 3;
        }
        row("critic fwd+bwd+Adam (twin)", threads, run(&b, critic_step), ceiling);
        row("critic fwd+bwd to input (dQ/da)", threads, run(&b, critic_dqda), ceiling);
        row("policy fwd+bwd+Adam", threads, run(&b, policy_step), ceiling);
        row("SAC-shaped update", threads, run(&b, sac_update), ceiling);
        printf("\n");
    }
    }
    pp_gemm_set_backend(PP_GEMM_OPENBLAS);
    pp_blas_set_threads(1);
    return 0;
}
