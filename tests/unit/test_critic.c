/* test_critic.c - the critic stage's targets, loss and Polyak averaging
 * against hand computations in float64. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rl/critic_math.h"
#include "base/err.h"
#include "frame/frame.h"
#include "nn/netmap.h"
#include "rl/policy.h"
#include "ref_mlp.h"
#include "base/rng.h"
#include "stage/stage.h"
#include "fixtures.h"

extern const pp_stage_ops pp_stage_critic;

enum { O = 3, A = 2, H = 16, NL = 2, PH = 8, B = 6 };
static const double ALPHA = 0.3, GAMMA = 0.99, TAU = 0.005;
static const unsigned SEED = 7;

typedef struct {
    float obs[B * O], act[B * A], rew[B], next_obs[B * O], done[B];
    pp_policy pi;
    float *pi_params;
} batch_t;

static void make_batch(batch_t *bt, unsigned seed)
{
    pp_rng r;
    pp_rng_seed(&r, seed);
    for (int k = 0; k < B * O; k++) bt->obs[k] = (float)pp_rng_normal(&r);
    for (int k = 0; k < B * O; k++) bt->next_obs[k] = (float)pp_rng_normal(&r);
    for (int k = 0; k < B * A; k++) bt->act[k] = (float)(2 * pp_rng_uniform(&r) - 1);
    for (int k = 0; k < B; k++) bt->rew[k] = (float)pp_rng_normal(&r);
    for (int k = 0; k < B; k++) bt->done[k] = (float)(k % 3 == 0);
    bt->pi_params = fx_policy(&bt->pi, O, A, PH, NL, B, &r);
}

static void put_frame(pp_frame *f, const batch_t *bt)
{
    int64_t so[2] = {B, O}, sa[2] = {B, A}, s1[1] = {B};
    pp_frame_clear(f);
    pp_frame_set_i64(f, "step", 1);
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, so, bt->obs);
    pp_frame_put_tensor(f, "batch.act", PP_F32, 2, sa, bt->act);
    pp_frame_put_tensor(f, "batch.rew", PP_F32, 1, s1, bt->rew);
    pp_frame_put_tensor(f, "batch.next_obs", PP_F32, 2, so, bt->next_obs);
    pp_frame_put_tensor(f, "batch.done", PP_F32, 1, s1, bt->done);
    pp_netmap m = {.arch = "gaussian-tanh", .obs_dim = O, .act_dim = A, .hidden = PH, .layers = NL};
    pp_netmap_write(f, "policy", &m, bt->pi_params, bt->pi.nparams);
    pp_frame_set_f64(f, "alpha", ALPHA);
}

static pp_stage *make_critic(const char *target)
{
    char *argv[] = {"critic", "--obs-dim", "3", "--act-dim", "2", "--hidden", "16", "--layers",
                    "2", "--max-batch", "8", "--seed", "7", "--target", (char *)target, NULL};
    pp_stage *s = NULL;
    if (pp_stage_critic.create(15, argv, &s) != 0) printf("# create: %s\n", pp_error());
    return s;
}

/* The critic's initial params as the stage makes them (stream 1 of the seed, child 1000). */
static void initial_q(pp_mlp *q, float **p0, pp_rng *step_rng, int max_rows)
{
    pp_rng root;
    pp_rng_seed(&root, SEED);
    *step_rng = pp_rng_split(&root, 1);
    pp_rng init = pp_rng_split(step_rng, 1000);
    *p0 = fx_twin_q(q, O + A, H, NL, max_rows, &init);
}

static double get(pp_frame *f, const char *path)
{
    double v = NAN;
    if (pp_frame_get_f64(f, path, &v) != 0) printf("# %s\n", pp_error());
    return v;
}

/* loss sum_j mean (Q_j - y)^2 / 2 in double at p */
static double ref_q_loss(const pp_mlp *q, const double *p, const batch_t *bt, const double *y)
{
    double x[B * (O + A)], qv[B * 2], L = 0;
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < O; i++) x[b * (O + A) + i] = bt->obs[b * O + i];
        for (int i = 0; i < A; i++) x[b * (O + A) + O + i] = bt->act[b * A + i];
    }
    ref_mlp_forward(q, p, x, B, qv);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < 2; j++) L += 0.5 * (qv[2 * b + j] - y[b]) * (qv[2 * b + j] - y[b]);
    return L / B;
}

/* SAC target by hand: a' ~ pi(.|s') with the critic's stream, min of targets, - alpha log pi. */
static void test_sac_target(void)
{
    batch_t bt;
    make_batch(&bt, 100);
    pp_mlp q;
    float *p0;
    pp_rng rng;
    initial_q(&q, &p0, &rng, B);
    double *dp0 = ref_to_double(p0, q.nparams);
    float eps[B * A];
    pp_rng_fill_normal_f32(&rng, eps, B * A);
    double *dpi = ref_to_double(bt.pi_params, bt.pi.nparams), *dno = ref_to_double(bt.next_obs, B * O),
           *deps = ref_to_double(eps, B * A);
    double a[B * A], logp[B], x[B * (O + A)], qn[B * 2], y[B], ymean = 0, rmean = 0;
    ref_policy(&bt.pi.net, dpi, dno, deps, B, A, a, NULL, logp);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < O; i++) x[b * (O + A) + i] = bt.next_obs[b * O + i];
        for (int i = 0; i < A; i++) x[b * (O + A) + O + i] = a[b * A + i];
    }
    ref_mlp_forward(&q, dp0, x, B, qn);
    for (int b = 0; b < B; b++) {
        double v = fmin(qn[2 * b], qn[2 * b + 1]) - ALPHA * logp[b];
        y[b] = bt.rew[b] + GAMMA * (1 - bt.done[b]) * v;
        ymean += y[b] / B;
        rmean += bt.rew[b] / B;
    }
    double loss = ref_q_loss(&q, dp0, &bt, y);

    pp_stage *s = make_critic("sac");
    pp_frame *f = pp_frame_new();
    put_frame(f, &bt);
    CHECK(s && pp_stage_critic.step(s, f) == 0, "critic step (sac) %s", pp_error());
    CHECK_NEAR(get(f, "metrics.critic.target_mean"), ymean, 1e-5 * (1 + fabs(ymean)),
               "SAC target mean equals the hand computation (terminal rows 0, 3 stop)");
    CHECK_NEAR(get(f, "metrics.critic.q_loss"), loss, 1e-5 * (1 + loss),
               "critic loss sum_j mean (Q_j - y)^2/2 equals the hand computation");
    pp_stage_free(s);

    /* every row terminal: y = r exactly */
    for (int b = 0; b < B; b++) bt.done[b] = 1;
    s = make_critic("sac");
    put_frame(f, &bt);
    pp_stage_critic.step(s, f);
    CHECK_NEAR(get(f, "metrics.critic.target_mean"), rmean, 1e-6,
               "done = 1 everywhere: no bootstrap, y = r");
    pp_stage_free(s);

    /* no row terminal (truncations arrive as done = 0): y = r + gamma V */
    for (int b = 0; b < B; b++) bt.done[b] = 0;
    double boot = 0;
    for (int b = 0; b < B; b++)
        boot += (bt.rew[b] + GAMMA * (fmin(qn[2 * b], qn[2 * b + 1]) - ALPHA * logp[b])) / B;
    s = make_critic("sac");
    put_frame(f, &bt);
    pp_stage_critic.step(s, f);
    double got = get(f, "metrics.critic.target_mean");
    CHECK_NEAR(got, boot, 1e-5 * (1 + fabs(boot)), "done = 0 (truncation): bootstraps");
    CHECK(fabs(got - rmean) > 1e-3, "bootstrapped target differs from r (%.4f vs %.4f)", got, rmean);
    pp_stage_free(s);

    pp_frame_free(f);
    free(dp0);
    free(dpi);
    free(dno);
    free(deps);
    free(p0);
    pp_mlp_free(&q);
    free(bt.pi_params);
    pp_policy_free(&bt.pi);
}

/* SQL target through the stage, by hand with the same uniform draws. */
static void test_sql_target_stage(void)
{
    enum { M = 16 };
    batch_t bt;
    make_batch(&bt, 101);
    pp_mlp q;
    float *p0;
    pp_rng rng;
    initial_q(&q, &p0, &rng, B * M);
    double *dp0 = ref_to_double(p0, q.nparams);
    float *u = pp_xalloc_f32(B * M * A);
    pp_rng_fill_uniform_f32(&rng, u, B * M * A, -1, 1);
    double *x = malloc(sizeof(double) * B * M * (O + A)), *qn = malloc(sizeof(double) * B * M * 2);
    for (int r = 0; r < B * M; r++) {
        for (int i = 0; i < O; i++) x[r * (O + A) + i] = bt.next_obs[(r / M) * O + i];
        for (int i = 0; i < A; i++) x[r * (O + A) + O + i] = u[r * A + i];
    }
    ref_mlp_forward(&q, dp0, x, B * M, qn);
    double ymean = 0;
    for (int b = 0; b < B; b++) {
        double mx = -INFINITY, s = 0;
        for (int m = 0; m < M; m++) mx = fmax(mx, fmin(qn[(b * M + m) * 2], qn[(b * M + m) * 2 + 1]) / ALPHA);
        for (int m = 0; m < M; m++) s += exp(fmin(qn[(b * M + m) * 2], qn[(b * M + m) * 2 + 1]) / ALPHA - mx);
        double v = ALPHA * (mx + log(s) - log(M) + A * log(2));
        ymean += (bt.rew[b] + GAMMA * (1 - bt.done[b]) * v) / B;
    }
    pp_stage *s = make_critic("sql");
    pp_frame *f = pp_frame_new();
    put_frame(f, &bt);
    pp_frame_remove(f, "policy"); /* the SQL target needs no policy */
    CHECK(s && pp_stage_critic.step(s, f) == 0, "critic step (sql, no policy in the frame) %s",
          pp_error());
    CHECK_NEAR(get(f, "metrics.critic.target_mean"), ymean, 1e-5 * (1 + fabs(ymean)),
               "SQL target mean equals the hand computation");
    pp_stage_free(s);
    pp_frame_free(f);
    free(x);
    free(qn);
    free(u);
    free(dp0);
    free(p0);
    pp_mlp_free(&q);
    free(bt.pi_params);
    pp_policy_free(&bt.pi);
}

/* The soft value by importance sampling vs alpha log int exp(Q/alpha) da by quadrature. */
static double qfun(const double *a, int d)
{
    if (d == 1) return -2.0 * (a[0] - 0.3) * (a[0] - 0.3) + 0.5 * a[0];
    return -(a[0] - 0.2) * (a[0] - 0.2) - 1.5 * (a[1] + 0.4) * (a[1] + 0.4) + 0.3 * a[0] * a[1];
}

static void test_sql_soft_value(void)
{
    const double alpha = 0.5;
    for (int d = 1; d <= 2; d++) {
        /* midpoint rule on [-1,1]^d */
        int N = d == 1 ? 20000 : 1000;
        double hstep = 2.0 / N, s = 0, mx = -INFINITY;
        double a[2];
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < N; i++)
                for (int j = 0; j < (d == 2 ? N : 1); j++) {
                    a[0] = -1 + (i + 0.5) * hstep;
                    a[1] = -1 + (j + 0.5) * hstep;
                    double v = qfun(a, d) / alpha;
                    if (pass == 0) mx = fmax(mx, v);
                    else s += exp(v - mx) * pow(hstep, d);
                }
        double exact = alpha * (mx + log(s));
        printf("# d=%d: alpha log integral exp(Q/alpha) = %.6f\n", d, exact);
        pp_rng r;
        pp_rng_seed(&r, 40 + d);
        double prev = INFINITY;
        int Ms[] = {16, 256, 4096, 65536};
        for (int mi = 0; mi < 4; mi++) {
            int M = Ms[mi], reps = 20;
            float *q = pp_xalloc_f32((size_t)2 * M);
            double se = 0;
            for (int rep = 0; rep < reps; rep++) {
                for (int m = 0; m < M; m++) {
                    for (int k = 0; k < d; k++) a[k] = 2 * pp_rng_uniform(&r) - 1;
                    q[2 * m] = (float)qfun(a, d);
                    q[2 * m + 1] = q[2 * m] + 0.25f; /* the min of the twins is Q */
                }
                double v = pp_sql_soft_value(q, M, d, alpha), e = v - exact;
                se += e * e;
            }
            double rms = sqrt(se / reps), tol = 1.0 / sqrt((double)M);
            printf("# d=%d M=%d: rms error %.5f (bound %.5f)\n", d, M, rms, tol);
            CHECK(rms < tol, "d=%d, M=%d: soft value within %.4f of the integral", d, M, tol);
            if (mi > 0) CHECK(rms < prev, "d=%d: error shrinks from M=%d to M=%d", d, Ms[mi - 1], M);
            prev = rms;
            free(q);
        }
    }
}

/* Gradient of the twin-Q loss w.r.t. params vs float64 finite differences. */
typedef struct {
    const pp_mlp *q;
    double *x, *y;
    int n;
} qctx;

static double q_loss_fn(const double *p, void *vctx)
{
    qctx *c = vctx;
    double *qv = malloc(sizeof(double) * c->n * 2), L = 0;
    ref_mlp_forward(c->q, p, c->x, c->n, qv);
    for (int b = 0; b < c->n; b++)
        for (int j = 0; j < 2; j++) L += 0.5 * (qv[2 * b + j] - c->y[b]) * (qv[2 * b + j] - c->y[b]);
    free(qv);
    return L / c->n;
}

static void test_loss_grad(void)
{
    pp_mlp q;
    int widths[3] = {H, H, H};
    pp_mlp_init(&q, O + A, 3, widths, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, B);
    pp_rng r;
    pp_rng_seed(&r, 50);
    float *p = pp_xalloc_f32(q.nparams), *g = pp_xalloc_f32(q.nparams), x[B * (O + A)], y[B],
          dy[B * 2];
    pp_mlp_init_params(&q, p, &r);
    for (int k = 0; k < B * (O + A); k++) x[k] = (float)pp_rng_normal(&r);
    for (int k = 0; k < B; k++) y[k] = (float)pp_rng_normal(&r);
    double q1, q2;
    double L = pp_twin_q_loss(&q, p, x, y, B, dy, g, &q1, &q2);
    qctx c = {&q, ref_to_double(x, B * (O + A)), ref_to_double(y, B), B};
    double *dp = ref_to_double(p, q.nparams);
    CHECK_NEAR(L, q_loss_fn(dp, &c), 1e-5 * (1 + L), "twin-Q loss value vs float64");
    double worst, rel = ref_grad_check(q_loss_fn, &c, dp, q.nparams, g, 1e-6, &worst);
    printf("# critic loss gradient: relative error %.3g over %zu params\n", rel, q.nparams);
    CHECK(rel < 1e-4, "twin-Q loss gradient vs float64 finite differences (%.2g)", rel);
    free(c.x);
    free(c.y);
    free(dp);
    free(p);
    free(g);
    pp_mlp_free(&q);
}

/* After one step the targets are (1 - tau) p0 + tau p1; NaN leaves everything as it was. */
static void test_polyak_and_nan(void)
{
    batch_t bt;
    make_batch(&bt, 102);
    pp_mlp q;
    float *p0;
    pp_rng rng;
    initial_q(&q, &p0, &rng, B);
    size_t n = q.nparams;
    pp_stage *s = make_critic("sac");
    pp_frame *f = pp_frame_new(), *ck = pp_frame_new();
    put_frame(f, &bt);
    CHECK(pp_stage_critic.step(s, f) == 0, "step for Polyak");
    float *p1 = pp_xalloc_f32(n), *t1 = pp_xalloc_f32(n);
    int64_t sh[1] = {(int64_t)n};
    CHECK(pp_frame_read_tensor(f, "q.params", PP_F32, 1, sh, p1, NULL) == 0, "q.params emitted");
    pp_stage_critic.save(s, ck);
    CHECK(pp_frame_read_tensor(ck, "target_params", PP_F32, 1, sh, t1, NULL) == 0,
          "target params in the checkpoint");
    double worst = 0, moved = 0;
    for (size_t k = 0; k < n; k++) {
        double want = (1 - TAU) * p0[k] + TAU * p1[k];
        worst = fmax(worst, fabs(t1[k] - want));
        moved = fmax(moved, fabs(p1[k] - p0[k]));
    }
    CHECK(moved > 1e-5, "the online params moved (%.3g)", moved);
    CHECK(worst < 1e-7, "targets = (1 - tau) p0 + tau p1 after one step (%.2g)", worst);

    /* NaN reward: -1, nothing changes */
    bt.rew[2] = NAN;
    put_frame(f, &bt);
    CHECK(pp_stage_critic.step(s, f) == -1, "NaN in the loss fails the step: %s", pp_error());
    pp_frame *ck2 = pp_frame_new();
    pp_stage_critic.save(s, ck2);
    float *p2 = pp_xalloc_f32(n), *t2 = pp_xalloc_f32(n);
    pp_frame_read_tensor(ck2, "params", PP_F32, 1, sh, p2, NULL);
    pp_frame_read_tensor(ck2, "target_params", PP_F32, 1, sh, t2, NULL);
    CHECK(memcmp(p1, p2, n * sizeof(float)) == 0 && memcmp(t1, t2, n * sizeof(float)) == 0,
          "params and targets unchanged after the NaN step");
    int64_t st1, st2;
    pp_frame_get_i64(ck, "steps", &st1);
    pp_frame_get_i64(ck2, "steps", &st2);
    int64_t shr[1] = {PP_RNG_STATE_WORDS};
    uint64_t r1[PP_RNG_STATE_WORDS], r2[PP_RNG_STATE_WORDS];
    pp_frame_read_tensor(ck, "rng", PP_I64, 1, shr, r1, NULL);
    pp_frame_read_tensor(ck2, "rng", PP_I64, 1, shr, r2, NULL);
    CHECK(st1 == st2 && memcmp(r1, r2, sizeof r1) == 0, "step count and RNG unchanged too");

    pp_frame_free(ck2);
    pp_frame_free(ck);
    pp_frame_free(f);
    pp_stage_free(s);
    free(p0);
    free(p1);
    free(t1);
    free(p2);
    free(t2);
    pp_mlp_free(&q);
    free(bt.pi_params);
    pp_policy_free(&bt.pi);
}

/* BRAC's value penalty (docs/algorithm.md section 16) in pp_sac_targets on
 * hand-built rows against float64: y = r + gamma (1 - done) (min q - alpha logp
 * - alpha_v D), done = 1 rows exactly r; a NULL penalty or alpha_v = 0 is the
 * target of before the penalty, bit for bit. */
static void test_sac_penalty_math(void)
{
    enum { N = 6 };
    const float rew[N] = {0.5f, -1.25f, 2.0f, 0.0f, -0.3f, 1.0f};
    const float done[N] = {0, 1, 0, 1, 0, 0};
    const float qn[2 * N] = {1.0f, 1.5f, -2.0f, -3.0f, 0.25f, 0.2f, 4.0f, 3.5f, -1.0f, 1.0f, 7.0f, 7.0f};
    const float logp[N] = {-0.7f, 0.2f, 1.3f, -2.0f, 0.0f, 0.9f};
    const float pen[N] = {0.4f, 100.0f, -0.2f, 3.0f, 1e3f, 0.0f}; /* D may be < 0 (a dual bound) */
    const double alpha = 0.2, alpha_v = 1.5, gamma = 0.99;
    float y[N], y0[N], ynull[N];
    pp_sac_targets(y, rew, done, qn, logp, pen, alpha_v, N, alpha, gamma);
    pp_sac_targets(y0, rew, done, qn, logp, pen, 0.0, N, alpha, gamma);
    pp_sac_targets(ynull, rew, done, qn, logp, NULL, alpha_v, N, alpha, gamma);
    double worst = 0;
    int terminal_exact = 1, old_exact = 1;
    for (int b = 0; b < N; b++) {
        double qmin = fmin(qn[2 * b], qn[2 * b + 1]);
        double want = rew[b] + gamma * (1 - done[b]) * (qmin - alpha * logp[b] - alpha_v * pen[b]);
        worst = fmax(worst, fabs(y[b] - want) / (1 + fabs(want)));
        if (done[b] == 1 && y[b] != rew[b]) terminal_exact = 0;
        /* the expression of pp_sac_targets before the penalty, as it was */
        double v = qmin - alpha * (double)logp[b];
        float old = (float)((double)rew[b] + gamma * (1.0 - (double)done[b]) * v);
        if (memcmp(&old, &y0[b], sizeof old) != 0 || memcmp(&old, &ynull[b], sizeof old) != 0)
            old_exact = 0;
    }
    CHECK(worst < 1e-6, "penalised SAC targets vs float64 (worst relative error %.2g)", worst);
    CHECK(terminal_exact, "done = 1 rows: y = r exactly, whatever their penalty (100, 3)");
    CHECK(old_exact, "alpha_v = 0 or no penalty: the target of before, bit for bit");
    /* the sign: a positive D lowers a bootstrapped target by gamma alpha_v D */
    CHECK_NEAR(y0[0] - y[0], gamma * alpha_v * pen[0], 1e-6, "D > 0 lowers y by gamma alpha_v D");
    CHECK(y[2] > y0[2], "D < 0 raises y (%.4f > %.4f)", y[2], y0[2]);
}

static pp_stage *make_critic_pen(const char *target, const char *penalty)
{
    char *argv[] = {"critic", "--obs-dim", "3", "--act-dim", "2", "--hidden", "16", "--layers",
                    "2", "--max-batch", "8", "--seed", "7", "--target", (char *)target,
                    "--penalty", (char *)penalty, NULL};
    pp_stage *s = NULL;
    if (pp_stage_critic.create(17, argv, &s) != 0) printf("# create: %s\n", pp_error());
    return s;
}

static int lists(const char *const *l, const char *name)
{
    for (int i = 0; l && l[i]; i++)
        if (strcmp(l[i], name) == 0) return 1;
    return 0;
}

/* The stage with --penalty: the same a' as without (the penalty draws
 * nothing), so the target mean moves by -gamma alpha_v mean((1 - done) D);
 * the field's checks; --penalty 0 ignores it; sql refuses it; reads_for. */
static void test_sac_penalty_stage(void)
{
    const double AV = 2.5;
    batch_t bt;
    make_batch(&bt, 104); /* done on rows 0 and 3 */
    float pen[B] = {0.8f, 50.0f, -0.3f, 7.0f, 1.2f, 0.05f};
    int64_t s1[1] = {B};
    double shift = 0, pmean = 0;
    for (int b = 0; b < B; b++) {
        shift += GAMMA * (1 - bt.done[b]) * AV * pen[b] / B;
        pmean += AV * pen[b] / B;
    }
    pp_frame *f = pp_frame_new();

    pp_stage *s0 = make_critic_pen("sac", "0");
    put_frame(f, &bt);
    CHECK(s0 && pp_stage_critic.step(s0, f) == 0, "step with --penalty 0");
    double y0 = get(f, "metrics.critic.target_mean");
    CHECK(!pp_frame_get(f, "metrics.critic.penalty_mean"), "--penalty 0: no penalty_mean");
    pp_stage_free(s0);

    pp_stage *s = make_critic_pen("sac", "2.5");
    put_frame(f, &bt);
    pp_frame_put_tensor(f, "penalty", PP_F32, 1, s1, pen);
    CHECK(s && pp_stage_critic.step(s, f) == 0, "step with --penalty 2.5 and a penalty field");
    double y1 = get(f, "metrics.critic.target_mean");
    CHECK_NEAR(y0 - y1, shift, 1e-5 * (1 + fabs(y0)),
               "target mean lowered by gamma alpha_v mean((1 - done) D) = %.4f (terminal rows 0, 3 "
               "carry no penalty)", shift);
    CHECK_NEAR(get(f, "metrics.critic.penalty_mean"), pmean, 1e-6 * (1 + pmean),
               "penalty_mean = mean alpha_v D over the batch");

    /* the field's checks, each leaving the stage as it was */
    pp_frame *ck1 = pp_frame_new(), *ck2 = pp_frame_new();
    pp_stage_critic.save(s, ck1);
    put_frame(f, &bt);
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "missing field penalty") &&
              strstr(pp_error(), "parpi-dual"),
          "a batch without penalty names the field and its writer: %s", pp_error());
    int64_t s5[1] = {B - 1};
    put_frame(f, &bt);
    pp_frame_put_tensor(f, "penalty", PP_F32, 1, s5, pen);
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "penalty is f32[5], expected f32[6]"),
          "a penalty of the wrong shape is refused: %s", pp_error());
    float bad[B];
    memcpy(bad, pen, sizeof bad);
    bad[4] = NAN;
    put_frame(f, &bt);
    pp_frame_put_tensor(f, "penalty", PP_F32, 1, s1, bad);
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "penalty[4] is not finite"),
          "a NaN penalty is refused naming the element: %s", pp_error());
    bad[4] = -INFINITY;
    put_frame(f, &bt);
    pp_frame_put_tensor(f, "penalty", PP_F32, 1, s1, bad);
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "penalty[4] is not finite"),
          "an infinite penalty is refused naming the element: %s", pp_error());
    pp_frame_clear(f);
    pp_frame_set_i64(f, "step", 9);
    CHECK(pp_stage_critic.step(s, f) == 0 && !pp_frame_get(f, "metrics"),
          "a frame without batch (nor penalty) passes through");
    pp_stage_critic.save(s, ck2);
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t c1 = 0, c2 = 0, n1 = 0, n2 = 0;
    CHECK(pp_frame_encode(ck1, &b1, &c1, &n1) == 0 && pp_frame_encode(ck2, &b2, &c2, &n2) == 0 &&
              n1 == n2 && memcmp(b1, b2, n1) == 0,
          "refused frames leave the critic as it was (checkpoints byte for byte)");
    free(b1);
    free(b2);
    pp_frame_free(ck1);
    pp_frame_free(ck2);
    pp_stage_free(s);

    /* --penalty 0 ignores the field, even a NaN one: the numbers of no field */
    s0 = make_critic_pen("sac", "0");
    put_frame(f, &bt);
    pp_frame_put_tensor(f, "penalty", PP_F32, 1, s1, bad);
    CHECK(pp_stage_critic.step(s0, f) == 0, "--penalty 0 steps past a NaN penalty field");
    double y2 = get(f, "metrics.critic.target_mean");
    CHECK(memcmp(&y2, &y0, sizeof y0) == 0, "--penalty 0: the field is ignored (%.17g)", y2);
    pp_stage_free(s0);

    /* sql refuses it at create, clearly */
    char *sqlp[] = {"critic", "--target", "sql", "--penalty", "1", NULL};
    pp_stage *bad_s = NULL;
    CHECK(pp_stage_critic.create(5, sqlp, &bad_s) == -1 && strstr(pp_error(), "--penalty") &&
              strstr(pp_error(), "--target sac only"),
          "--penalty with --target sql refused: %s", pp_error());
    char *neg[] = {"critic", "--penalty", "-1", NULL};
    CHECK(pp_stage_critic.create(3, neg, &bad_s) == -1 && strstr(pp_error(), "--penalty"),
          "--penalty below 0 refused: %s", pp_error());

    /* the contract: penalty among the reads, but read for --penalty > 0 only */
    CHECK(lists(pp_stage_critic.reads, "penalty") && lists(pp_stage_critic.metrics, "penalty_mean"),
          "reads lists penalty, metrics penalty_mean");
    char *a0[] = {"critic", NULL}, *a1[] = {"critic", "--penalty", "1", NULL},
         *a2[] = {"critic", "--penalty", "0", NULL}, *a3[] = {"critic", "--target", "sql", NULL};
    const char *const *r0 = pp_stage_critic.reads_for(1, a0), *const *r1 = pp_stage_critic.reads_for(3, a1),
                      *const *r2 = pp_stage_critic.reads_for(3, a2), *const *r3 = pp_stage_critic.reads_for(3, a3);
    CHECK(r0 && !lists(r0, "penalty") && lists(r0, "policy"), "sac, no --penalty: no penalty read");
    CHECK(r2 && !lists(r2, "penalty"), "--penalty 0: no penalty read");
    CHECK(r1 && lists(r1, "penalty") && lists(r1, "policy") && lists(r1, "batch"),
          "--penalty 1: reads penalty (and batch, policy)");
    CHECK(r3 && !lists(r3, "penalty") && !lists(r3, "policy"), "sql: neither policy nor penalty");

    pp_frame_free(f);
    free(bt.pi_params);
    pp_policy_free(&bt.pi);
}

/* Missing fields, shape mismatches, warm-up pass-through, bad options. */
static void test_errors(void)
{
    batch_t bt;
    make_batch(&bt, 103);
    pp_stage *s = make_critic("sac");
    pp_frame *f = pp_frame_new();

    pp_frame_set_i64(f, "step", 3);
    CHECK(pp_stage_critic.step(s, f) == 0 && !pp_frame_get(f, "q") && !pp_frame_get(f, "metrics"),
          "a frame without batch passes through untouched");

    put_frame(f, &bt);
    pp_frame_remove(f, "batch.rew");
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "batch.rew"),
          "missing batch.rew named: %s", pp_error());

    put_frame(f, &bt);
    pp_frame_remove(f, "alpha");
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "alpha"),
          "missing alpha named: %s", pp_error());

    put_frame(f, &bt);
    pp_frame_remove(f, "policy");
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "policy"),
          "missing policy (sac target) named: %s", pp_error());

    float wide[B * 4] = {0};
    int64_t s4[2] = {B, 4};
    put_frame(f, &bt);
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, s4, wide);
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "batch.obs") &&
              strstr(pp_error(), "[6,3]"),
          "shape mismatch names the field and the expected shape: %s", pp_error());
    pp_stage_free(s);

    char *bad[] = {"critic", "--frobnicate", NULL};
    CHECK(pp_stage_critic.create(2, bad, &s) == -1 && strstr(pp_error(), "--frobnicate"),
          "unknown option named: %s", pp_error());
    char *bad2[] = {"critic", "--target", "dqn", NULL};
    CHECK(pp_stage_critic.create(3, bad2, &s) == -1 && strstr(pp_error(), "sac"),
          "bad --target lists the choices: %s", pp_error());
    char *bad3[] = {"critic", "--gamma", NULL};
    CHECK(pp_stage_critic.create(2, bad3, &s) == -1 && strstr(pp_error(), "--gamma"),
          "missing option argument named: %s", pp_error());

    pp_frame_free(f);
    free(bt.pi_params);
    pp_policy_free(&bt.pi);
}

int main(void)
{
    test_sac_target();
    test_sql_target_stage();
    test_sql_soft_value();
    test_loss_grad();
    test_polyak_and_nan();
    test_errors();
    test_sac_penalty_math();
    test_sac_penalty_stage();
    return check_done();
}
