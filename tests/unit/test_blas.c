/* pp_sgemm against a naive float64 product for every transpose combination,
 * the degenerate shapes it sends to sgemv / sger, and beta 0 / 1 / other;
 * the profiler's counts; and idle OpenBLAS threads not spinning after a burst
 * (process CPU time over 0.3 s of sleep, with a control run that shows the
 * measurement does see the spin when OpenBLAS's default timeout is used). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "check.h"
#include "base/err.h"
#include "nn/mlp.h"
#include "base/rng.h"
#include "nn/blas.h"

static double naive_err(int ta, int tb, int M, int N, int K, float alpha, float beta, pp_rng *rng)
{
    int lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1, ldc = N + 3;
    int arows = ta ? K : M, brows = tb ? N : K;
    float *A = pp_xalloc_f32((size_t)arows * lda), *B = pp_xalloc_f32((size_t)brows * ldb);
    float *C = pp_xalloc_f32((size_t)M * ldc);
    double *want = calloc((size_t)M * N, sizeof *want);
    pp_rng_fill_normal_f32(rng, A, (size_t)arows * lda);
    pp_rng_fill_normal_f32(rng, B, (size_t)brows * ldb);
    pp_rng_fill_normal_f32(rng, C, (size_t)M * ldc);
    if (beta == 0.0f)
        for (int i = 0; i < M; i++) C[(size_t)i * ldc] = NAN; /* beta = 0 must not read C */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            want[i * N + j] = alpha * s + (beta == 0.0f ? 0 : beta * (double)C[(size_t)i * ldc + j]);
        }
    float pad = C[ldc - 1];
    pp_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    double err = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double d = fabs(C[(size_t)i * ldc + j] - want[i * N + j]);
            err = isnan(d) ? INFINITY : fmax(err, d);
        }
    if (N < ldc && C[ldc - 1] != pad) err = INFINITY; /* wrote outside the N columns */
    free(A);
    free(B);
    free(C);
    free(want);
    return err;
}

static double cpu_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + 1e-6 * r.ru_utime.tv_usec + (double)r.ru_stime.tv_sec +
           1e-6 * r.ru_stime.tv_usec;
}

/* A burst of 2-thread sgemms, then 0.3 s of sleep: CPU seconds used while asleep. */
static double idle_cpu_after_burst(float *a, float *b, float *c)
{
    for (int i = 0; i < 40; i++) pp_sgemm(0, 0, 256, 512, 256, 1.0f, a, 256, b, 512, 0.0f, c, 512);
    double c0 = cpu_seconds();
    struct timespec t = {0, 300000000};
    nanosleep(&t, NULL);
    return cpu_seconds() - c0;
}

int main(void)
{
    pp_rng rng;
    pp_rng_seed(&rng, 3);
    int shapes[][3] = {{6, 5, 4}, {1, 5, 4}, {6, 1, 4}, {6, 5, 1}, {1, 1, 3}, {1, 5, 1}, {6, 1, 1}, {33, 17, 9}};
    float betas[] = {0.0f, 1.0f, 0.5f};
    int bad = 0, total = 0;
    double worst = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int k = 0; k < 3; k++) {
                    double e = naive_err(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], 0.7f, betas[k], &rng);
                    total++;
                    worst = fmax(worst, e);
                    if (!(e < 1e-5)) {
                        bad++;
                        printf("#   M=%d N=%d K=%d ta=%d tb=%d beta=%g: error %g\n", shapes[s][0], shapes[s][1],
                               shapes[s][2], ta, tb, betas[k], e);
                    }
                }
    printf("#   worst abs error %.3g over %d cases (bound 1e-5)\n", worst, total);
    CHECK(bad == 0, "pp_sgemm matches float64 for all transposes, 1-row/1-column/K=1 shapes, beta 0/1/0.5");

    /* profiler */
    float *a = pp_xalloc_f32(256 * 256), *b = pp_xalloc_f32(256 * 512), *c = pp_xalloc_f32(256 * 512);
    pp_rng_fill_normal_f32(&rng, a, 256 * 256);
    pp_rng_fill_normal_f32(&rng, b, 256 * 512);
    pp_blas_profile(1);
    pp_blas_profile_reset();
    pp_sgemm(0, 0, 64, 32, 16, 1.0f, a, 16, b, 32, 0.0f, c, 32);
    pp_sgemm(1, 0, 16, 1, 64, 1.0f, a, 16, b, 1, 0.0f, c, 1);
    CHECK(pp_blas_calls() == 2, "profiler counts 2 calls");
    CHECK(pp_blas_flops() == 2.0 * 64 * 32 * 16 + 2.0 * 16 * 64, "profiler counts 2*M*N*K flops");
    CHECK(pp_blas_seconds() > 0, "profiler measures time (%.3g s)", pp_blas_seconds());
    pp_blas_profile(0);
    pp_sgemm(0, 0, 64, 32, 16, 1.0f, a, 16, b, 32, 0.0f, c, 32);
    CHECK(pp_blas_calls() == 2, "profiling off: nothing counted");

    /* idle threads */
    const char *user = getenv("OPENBLAS_THREAD_TIMEOUT");
    char *saved = user ? strdup(user) : NULL;
    setenv("OPENBLAS_THREAD_TIMEOUT", "28", 1); /* OpenBLAS's own default */
    pp_blas_set_threads(2);
    CHECK(pp_blas_threads() == 2, "pp_blas_set_threads(2) gives 2 threads");
    double spin = idle_cpu_after_burst(a, b, c);
    unsetenv("OPENBLAS_THREAD_TIMEOUT");
    pp_blas_set_threads(2);
    double quiet = idle_cpu_after_burst(a, b, c);
    printf("#   CPU seconds during 0.3 s idle after a 2-thread burst: default timeout %.3f, parpi %.3f\n", spin,
           quiet);
    if (spin > 0.02) {
        CHECK(spin > 0.02, "control: with OpenBLAS's default timeout the idle pool spins (%.3f s CPU)", spin);
        CHECK(quiet < 0.01, "with pp_blas_set_threads the idle pool sleeps (%.3f s CPU in 0.3 s)", quiet);
    } else {
        /* On a machine whose cores are all busy the spinning workers get no
         * CPU either, so the measurement cannot tell spin from sleep. */
        SKIP("idle-pool check: the control saw no spin (%.3f s CPU), the cores are too busy to measure", spin);
        SKIP("idle-pool check: needs the control above");
    }
    pp_blas_set_threads(1);
    if (saved) {
        setenv("OPENBLAS_THREAD_TIMEOUT", saved, 1);
        free(saved);
    }
    free(a);
    free(b);
    free(c);
    return check_done();
}
