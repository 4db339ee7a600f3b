/* bench_update.c - one full update for HalfCheetah shapes (obs 17, act 6,
 * batch 256, hidden 256, K = 5), SAC and ParPI-wd, median ms at 1 and 2
 * threads with each sgemm backend built in (OpenBLAS, oneDNN fp32) and, with
 * oneDNN, bf16 matmul operands (--precision bf16; the ISA oneDNN reports is
 * printed), the stages chained in this process; then the piped ring's
 * overhead: parpi-train on HalfCheetah-v3 as a ring of processes vs
 * --in-process, per frame.
 *
 * Reference (the task's): PyTorch 1.13 + OpenBLAS, 2 threads on a 2-core
 * machine: ~6 ms (SAC), ~14 ms (ParPI-wd).
 *
 *   build/bench/bench_update [--iters N] [--ring-frames N] [--no-ring]
 * Figures, not a test: other loads on the machine move them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame.h"
#include "nn/mlp.h"
#include "base/rng.h"
#include "stage/stage.h"
#include "nn/blas.h"
#include "base/clock.h"

enum { O = 17, A = 6, B = 256 };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void put_batch(pp_frame *f, pp_rng *rng, float *buf)
{
    int64_t so[2] = {B, O}, sa[2] = {B, A}, s1[1] = {B};
    pp_rng_fill_normal_f32(rng, buf, (size_t)B * O);
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, so, buf);
    pp_rng_fill_normal_f32(rng, buf, (size_t)B * O);
    pp_frame_put_tensor(f, "batch.next_obs", PP_F32, 2, so, buf);
    pp_rng_fill_uniform_f32(rng, buf, (size_t)B * A, -1, 1);
    pp_frame_put_tensor(f, "batch.act", PP_F32, 2, sa, buf);
    pp_rng_fill_normal_f32(rng, buf, B);
    pp_frame_put_tensor(f, "batch.rew", PP_F32, 1, s1, buf);
    memset(buf, 0, B * sizeof(float));
    pp_frame_put_tensor(f, "batch.done", PP_F32, 1, s1, buf);
}

static void compact(pp_frame *dst, pp_frame *src)
{
    pp_frame_clear(dst);
    pp_node *root = pp_frame_root(src);
    const char *key;
    size_t klen;
    pp_node *v;
    char name[128];
    for (int i = pp_node_map_next(root, 0, &key, &klen, &v); i >= 0; i = pp_node_map_next(root, i, &key, &klen, &v)) {
        if (klen >= sizeof name) continue;
        memcpy(name, key, klen);
        name[klen] = '\0';
        pp_frame_copy(dst, name, src, name);
    }
}

static pp_stage *make(const char *kind, const char *const *opts)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)kind;
    for (int i = 0; opts[i]; i++) argv[n++] = (char *)opts[i];
    argv[n] = NULL;
    pp_stage *s = NULL;
    if (pp_stage_create(kind, n, argv, &s) != 0) {
        fprintf(stderr, "bench_update: stage %s: %s\n", kind, pp_error());
        exit(1);
    }
    return s;
}

/* Median (and min) ms of one update through the chain of stages. */
static void bench_chain(const char *name, int parpi, int threads, int iters)
{
    pp_blas_set_threads(threads);
    static const char *const critic_o[] = {"--obs-dim", "17", "--act-dim", "6", NULL};
    static const char *const lang_o[] = {"--steps", "5", NULL};
    static const char *const disc_o[] = {"--divergence", "wd", "--obs-dim", "17", "--act-dim", "6", NULL};
    static const char *const pol_parpi[] = {"--update", "parpi", "--obs-dim", "17", "--act-dim", "6", "--prime", NULL};
    static const char *const pol_sac[] = {"--update", "sac", "--obs-dim", "17", "--act-dim", "6", "--prime", NULL};
    pp_stage *st[4];
    int n = 0;
    st[n++] = make("critic", critic_o);
    if (parpi) {
        st[n++] = make("langevin", lang_o);
        st[n++] = make("discrim", disc_o);
    }
    st[n++] = make("policy", parpi ? pol_parpi : pol_sac);
    pp_frame *f = pp_frame_new(), *g = pp_frame_new();
    if (st[n - 1]->ops->prime(st[n - 1], f) != 1) {
        fprintf(stderr, "bench_update: prime: %s\n", pp_error());
        exit(1);
    }
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    float *buf = pp_xalloc_f32((size_t)B * O);
    double *ms = pp_xcalloc((size_t)iters, sizeof(double));
    double *stage_ms[4];
    for (int k = 0; k < n; k++) stage_ms[k] = pp_xcalloc((size_t)iters, sizeof(double));
    const int warm = 3;
    for (int it = 0; it < iters + warm; it++) {
        put_batch(f, &rng, buf);
        double t0 = pp_now();
        for (int k = 0; k < n; k++) {
            double ts = pp_now();
            if (st[k]->ops->step(st[k], f) != 0) {
                fprintf(stderr, "bench_update: %s step: %s\n", st[k]->ops->kind, pp_error());
                exit(1);
            }
            if (it >= warm) stage_ms[k][it - warm] = (pp_now() - ts) * 1e3;
        }
        compact(g, f);
        pp_frame *t = f;
        f = g;
        g = t;
        if (it >= warm) ms[it - warm] = (pp_now() - t0) * 1e3;
    }
    qsort(ms, (size_t)iters, sizeof *ms, cmp_double);
    printf("%-10s %-8s %-4s threads %d  median %7.2f ms  min %7.2f ms  (%d updates, batch %d, hidden 256%s)\n",
           name, pp_gemm_name(pp_gemm_backend()), pp_gemm_precision_name(pp_gemm_precision()), threads, ms[iters / 2], ms[0], iters, B, parpi ? ", K 5" : "");
    printf("           where the time goes (median ms per stage):");
    for (int k = 0; k < n; k++) {
        qsort(stage_ms[k], (size_t)iters, sizeof(double), cmp_double);
        printf(" %s %.2f", st[k]->ops->kind, stage_ms[k][iters / 2]);
        free(stage_ms[k]);
    }
    printf("\n");
    fflush(stdout);
    free(ms);
    free(buf);
    pp_frame_free(f);
    pp_frame_free(g);
    for (int k = 0; k < n; k++) pp_stage_free(st[k]);
}

/* Seconds of a parpi-train run of `steps` env steps, `starts` of them warm-up. */
static double run_train(const char *dir, const char *algo, int steps, int starts, int inproc)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && parpi-train --env HalfCheetah-v3 %s --steps %d "
             "--learning-starts %d --eval-every 100000000 --log-every 100000000 --save-every 0 "
             "--no-progress --preset none --out %s %s >/dev/null 2>%s.err",
             dir, algo, steps, starts, dir, inproc ? "--in-process" : "", dir);
    double t0 = pp_now();
    int rc = system(cmd);
    double t = pp_now() - t0;
    if (rc != 0) {
        fprintf(stderr, "bench_update: '%s' failed (status %d); see %s.err\n", cmd, rc, dir);
        return NAN;
    }
    return t;
}

/* The ring vs the same stages in one process, whole parpi-train runs:
 * `starts` warm-up frames alone, then with `updates` update frames more;
 * the difference of the two lengths is the cost of the update frames. */
static int bench_ring(const char *name, const char *algo, int starts, int updates)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/parpi-bench-ring.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    double in0 = run_train(dir, algo, starts, starts, 1), in1 = run_train(dir, algo, starts + updates, starts, 1);
    double r0 = run_train(dir, algo, starts, starts, 0), r1 = run_train(dir, algo, starts + updates, starts, 0);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf %s %s.err", dir, dir);
    if (system(rm) != 0) fprintf(stderr, "bench_update: could not remove %s\n", dir);
    if (isnan(in0) || isnan(in1) || isnan(r0) || isnan(r1)) return 1;
    double in_u = 1e3 * (in1 - in0) / updates, r_u = 1e3 * (r1 - r0) / updates;
    printf("ring %-9s update frame: in-process %.2f ms, piped ring %.2f ms: overhead %.2f ms/frame (%+.1f%%); "
           "warm-up frame (no batch, params still travel): in-process %.2f ms, ring %.2f ms  [%d+%d frames]\n",
           name, in_u, r_u, r_u - in_u, 100.0 * (r_u - in_u) / in_u, 1e3 * in0 / starts, 1e3 * r0 / starts,
           starts, updates);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int iters = 30, ring_frames = 150, ring = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) iters = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ring-frames") == 0 && i + 1 < argc) ring_frames = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-ring") == 0) ring = 0;
        else {
            fprintf(stderr, "usage: bench_update [--iters N] [--ring-frames N] [--no-ring]\n");
            return 2;
        }
    }
    if (iters < 1) iters = 1;
    printf("# bench_update: one update, HalfCheetah shapes (obs %d, act %d, batch %d, hidden 256)\n", O, A, B);
    printf("# reference: PyTorch 1.13 + OpenBLAS, 2 threads: SAC ~6 ms, ParPI-wd ~14 ms\n");
    /* each sgemm backend built in, OpenBLAS (the default) first */
    for (int be = PP_GEMM_OPENBLAS; be <= PP_GEMM_DNNL; be++) {
        if (!pp_gemm_available(be)) {
            printf("# backend %s: not built in\n", pp_gemm_name(be));
            continue;
        }
        pp_gemm_set_backend(be);
        for (int threads = 1; threads <= 2; threads++) {
            bench_chain("SAC", 0, threads, iters);
            bench_chain("ParPI-wd", 1, threads, iters);
        }
    }
    /* bf16 operands through oneDNN, beside the fp32 figures above */
    if (pp_gemm_available(PP_GEMM_DNNL)) {
        printf("# bf16: oneDNN %s AMX\n", pp_gemm_has_amx() ? "reports" : "does not report");
        pp_gemm_set_precision(PP_PREC_BF16);
        for (int threads = 1; threads <= 2; threads++) {
            bench_chain("SAC", 0, threads, iters);
            bench_chain("ParPI-wd", 1, threads, iters);
        }
        pp_gemm_set_precision(PP_PREC_FP32);
    }
    pp_gemm_set_backend(PP_GEMM_OPENBLAS);
    if (!ring) return 0;
    int rc = bench_ring("SAC", "--algo sac", B, ring_frames);
    rc |= bench_ring("ParPI-wd", "--algo parpi --divergence wd", B, ring_frames);
    return rc;
}
