/* test_policy.c - the Gaussian-tanh policy, the implicit policy and the actor
 * against float64 references. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/actor.h"
#include "check.h"
#include "base/err.h"
#include "rl/policy.h"
#include "rl/policy_implicit.h"
#include "ref_mlp.h"
#include "base/rng.h"

enum { O = 3, A = 2, H = 8, NL = 2, B = 5 };

static void fill_normal(pp_rng *r, float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(scale * pp_rng_normal(r));
}

/* log pi of pp_policy_sample_eps vs double, and the stable log(1 - tanh^2) at large |u| */
static void test_log_prob(void)
{
    pp_policy p;
    pp_rng r;
    pp_rng_seed(&r, 11);
    CHECK(pp_policy_init(&p, O, A, H, NL, B) == 0, "policy init");
    float *params = pp_xalloc_f32(p.nparams), obs[B * O], eps[B * A];
    pp_policy_init_params(&p, params, &r);
    fill_normal(&r, obs, B * O, 1.0f);
    fill_normal(&r, eps, B * A, 1.0f);
    pp_policy_sample_eps(&p, params, obs, B, eps);
    double *dp = ref_to_double(params, p.nparams), *dobs = ref_to_double(obs, B * O),
           *deps = ref_to_double(eps, B * A);
    double a[B * A], logp[B], worst = 0, worst_a = 0;
    ref_policy(&p.net, dp, dobs, deps, B, A, a, NULL, logp);
    for (int b = 0; b < B; b++) worst = fmax(worst, fabs(logp[b] - p.logp[b]));
    for (int k = 0; k < B * A; k++) worst_a = fmax(worst_a, fabs(a[k] - p.a[k]));
    printf("# log pi max abs error %.3g, a max abs error %.3g\n", worst, worst_a);
    CHECK(worst < 1e-4, "log pi of a sample matches the float64 reference (%.2g)", worst);
    CHECK(worst_a < 1e-5, "a = tanh(mu + sigma eps) matches the float64 reference (%.2g)", worst_a);

    /* pp_policy_log_prob at given u, including |u| = 12 where 1 - tanh^2 underflows in float */
    float u[B * A] = {0.3f, -0.7f, 12.0f, -12.0f, 2.5f, 0.0f, -3.0f, 8.0f, 1.0f, -1.0f};
    pp_policy_log_prob(&p, params, obs, u, B);
    double out[B * 2 * A];
    ref_mlp_forward(&p.net, dp, dobs, B, out);
    worst = 0;
    for (int b = 0; b < B; b++) {
        double lp = 0;
        for (int i = 0; i < A; i++) {
            double mu = out[b * 2 * A + i], ls = out[b * 2 * A + A + i];
            ls = ls < -20 ? -20 : (ls > 2 ? 2 : ls);
            double uu = u[b * A + i], z = (uu - mu) / exp(ls);
            /* naive double formula: fine in double for |u| <= 12 */
            double t = tanh(uu);
            lp += -0.5 * z * z - ls - 0.5 * log(2 * M_PI) - log(1 - t * t);
        }
        worst = fmax(worst, fabs(lp - p.logp[b]) / fmax(1.0, fabs(lp)));
    }
    printf("# log_prob(u) max relative error %.3g\n", worst);
    CHECK(worst < 1e-5, "log_prob of given u (|u| up to 12) matches the naive float64 formula");
    CHECK(isfinite(p.logp[1]) && isfinite(p.logp[3]), "log pi stays finite at |u| = 12, 8");
    free(dp);
    free(dobs);
    free(deps);
    free(params);
    pp_policy_free(&p);
}

/* Gradient check of pp_policy_backward: L = sum c.a + sum w logp with fixed eps. */
typedef struct {
    const pp_mlp *net;
    double *obs, *eps, *c, *w;
    int use_a, use_logp;
} chain_ctx;

static double chain_loss(const double *p, void *vctx)
{
    chain_ctx *x = vctx;
    double a[B * A], logp[B], L = 0;
    ref_policy(x->net, p, x->obs, x->eps, B, A, a, NULL, logp);
    if (x->use_a)
        for (int k = 0; k < B * A; k++) L += x->c[k] * a[k];
    if (x->use_logp)
        for (int b = 0; b < B; b++) L += x->w[b] * logp[b];
    return L;
}

static void test_backward(void)
{
    pp_policy p;
    pp_rng r;
    pp_rng_seed(&r, 12);
    pp_policy_init(&p, O, A, H, NL, B);
    float *params = pp_xalloc_f32(p.nparams), *grads = pp_xalloc_f32(p.nparams);
    float obs[B * O], eps[B * A], c[B * A], w[B];
    pp_policy_init_params(&p, params, &r);
    fill_normal(&r, obs, B * O, 1.0f);
    fill_normal(&r, eps, B * A, 1.0f);
    fill_normal(&r, c, B * A, 1.0f);
    fill_normal(&r, w, B, 1.0f);
    double *dp = ref_to_double(params, p.nparams);
    chain_ctx ctx = {&p.net, ref_to_double(obs, B * O), ref_to_double(eps, B * A),
                     ref_to_double(c, B * A), ref_to_double(w, B), 0, 0};
    const char *names[] = {"d_a path", "d_logp path", "both paths"};
    for (int mode = 0; mode < 3; mode++) {
        ctx.use_a = mode != 1;
        ctx.use_logp = mode != 0;
        memset(grads, 0, sizeof(float) * p.nparams);
        pp_policy_sample_eps(&p, params, obs, B, eps);
        pp_policy_backward(&p, params, ctx.use_a ? c : NULL, ctx.use_logp ? w : NULL, grads);
        double worst;
        double rel = ref_grad_check(chain_loss, &ctx, dp, p.nparams, grads, 1e-6, &worst);
        printf("# %s: relative error %.3g, worst coordinate %.3g\n", names[mode], rel, worst);
        CHECK(rel < 1e-4, "pp_policy_backward %s vs float64 finite differences (%.2g)",
              names[mode], rel);
    }
    /* accumulation: a second backward doubles the gradient */
    memset(grads, 0, sizeof(float) * p.nparams);
    pp_policy_sample_eps(&p, params, obs, B, eps);
    pp_policy_backward(&p, params, c, w, grads);
    float g0 = grads[0], gl = grads[p.nparams - 1];
    pp_policy_backward(&p, params, c, w, grads);
    CHECK(fabsf(grads[0] - 2 * g0) <= 1e-6f * fabsf(g0) + 1e-12f &&
              fabsf(grads[p.nparams - 1] - 2 * gl) <= 1e-6f * fabsf(gl) + 1e-12f,
          "pp_policy_backward accumulates into dparams");
    free(ctx.obs);
    free(ctx.eps);
    free(ctx.c);
    free(ctx.w);
    free(dp);
    free(params);
    free(grads);
    pp_policy_free(&p);
}

/* u ~ N(mu, sigma^2): sample moments over many rows of one state; mean action tanh(mu) */
static void test_moments(void)
{
    enum { N = 20000 };
    pp_policy p;
    pp_rng r;
    pp_rng_seed(&r, 13);
    pp_policy_init(&p, O, A, H, NL, N);
    float *params = pp_xalloc_f32(p.nparams), *obs = pp_xalloc_f32((size_t)N * O);
    pp_policy_init_params(&p, params, &r);
    float o1[O] = {0.5f, -1.0f, 0.25f};
    for (int b = 0; b < N; b++) memcpy(obs + (size_t)b * O, o1, sizeof o1);
    pp_policy_sample(&p, params, obs, N, &r);
    for (int i = 0; i < A; i++) {
        double s = 0, s2 = 0;
        for (int b = 0; b < N; b++) {
            double u = p.u[(size_t)b * A + i];
            s += u;
            s2 += u * u;
        }
        double mean = s / N, sd = sqrt(s2 / N - mean * mean);
        double mu = p.mu[i], sigma = p.std[i];
        printf("# dim %d: mean %.4f (mu %.4f), std %.4f (sigma %.4f)\n", i, mean, mu, sd, sigma);
        CHECK(fabs(mean - mu) < 5 * sigma / sqrt(N), "dim %d: sample mean of u is mu", i);
        CHECK(fabs(sd - sigma) < 5 * sigma / sqrt(2.0 * N), "dim %d: sample std of u is sigma", i);
    }
    pp_policy_mean(&p, params, obs, 3);
    int ok = 1;
    for (int k = 0; k < 3 * A; k++) ok &= p.a[k] == tanhf(p.mu[k]) && p.u[k] == p.mu[k];
    CHECK(ok, "deterministic action is tanh(mu)");
    free(params);
    free(obs);
    pp_policy_free(&p);
}

/* Implicit policy: a = tanh(g(s, xi)) vs double; backward vs finite differences. */
typedef struct {
    const pp_mlp *net;
    double *obs, *xi, *c;
    int S, M;
} impl_ctx;

static double impl_loss(const double *p, void *vctx)
{
    impl_ctx *x = vctx;
    int R = x->S * x->M, W = O + A;
    double *in = calloc((size_t)R * W, sizeof(double)), *out = calloc((size_t)R * A, sizeof(double)), L = 0;
    for (int r = 0; r < R; r++) {
        memcpy(in + r * W, x->obs + (r / x->M) * O, sizeof(double) * O);
        memcpy(in + r * W + O, x->xi + r * A, sizeof(double) * A);
    }
    ref_mlp_forward(x->net, p, in, R, out);
    for (int k = 0; k < R * A; k++) L += x->c[k] * tanh(out[k]);
    free(in);
    free(out);
    return L;
}

static void test_implicit(void)
{
    enum { S = 2, M = 3 };
    pp_policy_implicit p;
    pp_rng r;
    pp_rng_seed(&r, 14);
    CHECK(pp_implicit_init(&p, O, A, H, NL, S * M) == 0, "implicit init");
    float *params = pp_xalloc_f32(p.nparams), *grads = pp_xalloc_f32(p.nparams);
    float obs[S * O], xi[S * M * A], c[S * M * A];
    pp_implicit_init_params(&p, params, &r);
    fill_normal(&r, obs, S * O, 1.0f);
    fill_normal(&r, xi, S * M * A, 1.0f);
    fill_normal(&r, c, S * M * A, 1.0f);
    pp_implicit_sample_xi(&p, params, obs, S, M, xi);
    impl_ctx ctx = {&p.net, ref_to_double(obs, S * O), ref_to_double(xi, S * M * A),
                    ref_to_double(c, S * M * A), S, M};
    double *dp = ref_to_double(params, p.nparams);
    /* forward: compare a with the double net on (obs[r/M], xi_r) */
    double *in = malloc(sizeof(double) * S * M * (O + A)), out[S * M * A], worst = 0;
    for (int rr = 0; rr < S * M; rr++) {
        memcpy(in + rr * (O + A), ctx.obs + (rr / M) * O, sizeof(double) * O);
        memcpy(in + rr * (O + A) + O, ctx.xi + rr * A, sizeof(double) * A);
    }
    ref_mlp_forward(&p.net, dp, in, S * M, out);
    for (int k = 0; k < S * M * A; k++) worst = fmax(worst, fabs(tanh(out[k]) - p.a[k]));
    CHECK(worst < 1e-5, "implicit a = tanh(g(s, xi)) matches float64, rows state-major (%.2g)",
          worst);
    pp_implicit_backward(&p, params, c, grads);
    double maxe, rel = ref_grad_check(impl_loss, &ctx, dp, p.nparams, grads, 1e-6, &maxe);
    printf("# implicit backward: relative error %.3g\n", rel);
    CHECK(rel < 1e-4, "pp_implicit_backward vs float64 finite differences (%.2g)", rel);
    free(in);
    free(ctx.obs);
    free(ctx.xi);
    free(ctx.c);
    free(dp);
    free(params);
    free(grads);
    pp_implicit_free(&p);
}

/* Actor: both archs act; deterministic implicit = xi 0; bad arch / batch refused. */
static void test_actor(void)
{
    pp_netmap spec = {.obs_dim = O, .act_dim = A, .hidden = H, .layers = NL};
    strcpy(spec.arch, "gaussian-tanh");
    pp_actor *ac;
    pp_rng r;
    pp_rng_seed(&r, 15);
    CHECK(pp_actor_create(&spec, 4, &ac) == 0, "actor gaussian-tanh created");
    float obs[4 * O], a1[4 * A], a2[4 * A];
    fill_normal(&r, obs, 4 * O, 1.0f);
    pp_policy_init_params(pp_actor_gaussian(ac), pp_actor_params(ac), &r);
    pp_actor_act(ac, pp_actor_params(ac), obs, 4, 1, &r, a1);
    pp_policy *pi = pp_actor_gaussian(ac);
    int ok = 1;
    for (int k = 0; k < 4 * A; k++) ok &= a1[k] == tanhf(pi->mu[k]);
    CHECK(ok, "actor deterministic = tanh(mu)");
    pp_actor_act(ac, pp_actor_params(ac), obs, 4, 0, &r, a2);
    ok = 1;
    for (int k = 0; k < 4 * A; k++) ok &= a2[k] > -1 && a2[k] < 1 && a2[k] != a1[k];
    CHECK(ok, "actor stochastic actions lie in (-1,1) and differ from the mean");
    CHECK(pp_actor_act(ac, pp_actor_params(ac), obs, 5, 0, &r, a2) == -1 &&
              strstr(pp_error(), "1..4"),
          "actor refuses a batch above max_batch: %s", pp_error());
    pp_actor_free(ac);

    strcpy(spec.arch, "implicit");
    CHECK(pp_actor_create(&spec, 4, &ac) == 0, "actor implicit created");
    pp_implicit_init_params(pp_actor_implicit(ac), pp_actor_params(ac), &r);
    pp_actor_act(ac, pp_actor_params(ac), obs, 4, 1, &r, a1);
    float zero[4 * A] = {0};
    pp_policy_implicit *im = pp_actor_implicit(ac);
    pp_implicit_sample_xi(im, pp_actor_params(ac), obs, 4, 1, zero);
    CHECK(memcmp(a1, im->a, sizeof a1) == 0, "implicit deterministic action uses xi = 0");
    pp_actor_free(ac);

    /* the evaluator's one row (pp_actor_act_row): the same draws as a batch
     * of one, actions within float rounding of pp_actor_act's */
    for (int arch = 0; arch < 2; arch++) {
        strcpy(spec.arch, arch ? "implicit" : "gaussian-tanh");
        CHECK(pp_actor_create(&spec, 1, &ac) == 0, "%s actor of one row created", spec.arch);
        if (arch)
            pp_implicit_init_params(pp_actor_implicit(ac), pp_actor_params(ac), &r);
        else
            pp_policy_init_params(pp_actor_gaussian(ac), pp_actor_params(ac), &r);
        for (int det = 1; det >= 0; det--) {
            pp_rng r1, r2;
            pp_rng_seed(&r1, 77);
            pp_rng_seed(&r2, 77);
            float b1[A], b2[A];
            CHECK(pp_actor_act(ac, pp_actor_params(ac), obs, 1, det, &r1, b1) == 0 &&
                      pp_actor_act_row(ac, pp_actor_params(ac), obs, det, &r2, b2) == 0,
                  "%s %s: both act", spec.arch, det ? "mean" : "sample");
            double worst = 0;
            for (int k = 0; k < A; k++) worst = fmax(worst, fabs(b1[k] - b2[k]));
            CHECK(worst < 1e-6, "%s %s: one-row action within %.2g of pp_actor_act's", spec.arch,
                  det ? "mean" : "sample", worst);
            CHECK(pp_rng_u64(&r1) == pp_rng_u64(&r2), "%s %s: the same draws from the stream", spec.arch,
                  det ? "mean" : "sample");
        }
        pp_actor_free(ac);
    }

    strcpy(spec.arch, "gaussian");
    CHECK(pp_actor_create(&spec, 4, &ac) == -1 && strstr(pp_error(), "gaussian-tanh"),
          "unknown arch refused: %s", pp_error());
}

int main(void)
{
    test_log_prob();
    test_backward();
    test_moments();
    test_implicit();
    test_actor();
    return check_done();
}
