/* Adam against a hand-computed float64 reference (bias correction included),
 * Polyak averaging against its formula, and Adam minimising a quadratic. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "nn/mlp.h"
#include "base/rng.h"
#include "nn/adam.h"

#define N 7

int main(void)
{
    pp_rng rng;
    pp_rng_seed(&rng, 5);

    /* --- Adam vs textbook double reference, 6 steps --- */
    pp_adam a;
    CHECK(pp_adam_init(&a, N, 3e-4f) == 0, "adam init");
    CHECK(a.beta1 == 0.9f && a.beta2 == 0.999f && a.eps == 1e-8f && a.t == 0, "defaults 0.9 / 0.999 / 1e-8");
    float p[N], g[N];
    double pd[N], md[N] = {0}, vd[N] = {0};
    for (int i = 0; i < N; i++) pd[i] = p[i] = 0; /* small values: float rounding of p stays far below a step */
    double worst = 0;
    for (int t = 1; t <= 6; t++) {
        pp_rng_fill_normal_f32(&rng, g, N);
        if (t == 3) g[2] = 0; /* a zero gradient after non-zero ones */
        pp_adam_step(&a, p, g);
        for (int i = 0; i < N; i++) {
            md[i] = 0.9 * md[i] + 0.1 * g[i];
            vd[i] = 0.999 * vd[i] + 0.001 * (double)g[i] * g[i];
            double mhat = md[i] / (1 - pow(0.9, t)), vhat = vd[i] / (1 - pow(0.999, t));
            pd[i] -= 3e-4 * mhat / (sqrt(vhat) + 1e-8);
        }
        for (int i = 0; i < N; i++) worst = fmax(worst, fabs(p[i] - pd[i]) / 3e-4); /* relative to one step */
    }
    printf("#   worst deviation %.3g of a step (bound 1e-4)\n", worst);
    CHECK(worst < 1e-4, "Adam matches float64 reference over 6 steps (deviation in units of lr)");
    CHECK(a.t == 6, "step counter is 6");
    double mdev = 0;
    for (int i = 0; i < N; i++) mdev = fmax(mdev, fabs(a.m[i] - md[i]) + fabs(a.v[i] - vd[i]));
    CHECK(mdev < 1e-6, "moments m, v match the reference (max dev %.2g)", mdev);

    /* first step: bias correction makes every coordinate move by lr * g / (|g| + eps) */
    pp_adam b;
    pp_adam_init(&b, N, 1e-2f);
    float q[N] = {0};
    float gg[N] = {1e-3f, -5.0f, 2.0f, -1e-2f, 100.0f, 0.3f, -0.7f};
    pp_adam_step(&b, q, gg);
    double dev = 0;
    for (int i = 0; i < N; i++) dev = fmax(dev, fabs(q[i] + 1e-2 * gg[i] / (fabs(gg[i]) + 1e-8)));
    CHECK(dev < 1e-8, "first step is -lr * g / (|g| + eps), ~ -lr * sign(g), whatever the scale (max dev %.2g)", dev);
    pp_adam_free(&b);
    pp_adam_free(&a);
    CHECK(pp_adam_init(&b, 3, -1.0f) == -1 && strstr(pp_error(), "learning rate"), "negative lr refused: %s",
          pp_error());

    /* --- Polyak --- */
    float tgt[N], src[N];
    double want[N];
    pp_rng_fill_normal_f32(&rng, tgt, N);
    pp_rng_fill_normal_f32(&rng, src, N);
    for (int i = 0; i < N; i++) want[i] = (1 - 0.005) * tgt[i] + 0.005 * src[i];
    pp_polyak(tgt, src, N, 0.005f);
    double pdev = 0;
    for (int i = 0; i < N; i++) pdev = fmax(pdev, fabs(tgt[i] - want[i]));
    CHECK(pdev < 1e-6, "Polyak: target = (1 - tau) target + tau src (max dev %.2g)", pdev);
    memcpy(tgt, src, sizeof tgt);
    pp_polyak(tgt, src, N, 0.3f);
    CHECK(memcmp(tgt, src, sizeof tgt) == 0, "Polyak leaves a target equal to its source unchanged");
    pp_polyak(tgt, (float[N]){0}, N, 1.0f);
    int zero = 1;
    for (int i = 0; i < N; i++) zero &= tgt[i] == 0.0f;
    CHECK(zero, "Polyak with tau = 1 copies the source");

    /* --- the fused Adam + Polyak pass: the same bytes as the two calls --- */
    {
        enum { F = 1029 }; /* not a multiple of any vector width */
        static float p1[F], p2[F], t1[F], t2[F], gr[F];
        pp_adam a1, a2;
        pp_adam_init(&a1, F, 3e-4f);
        pp_adam_init(&a2, F, 3e-4f);
        pp_rng_fill_normal_f32(&rng, p1, F);
        pp_rng_fill_normal_f32(&rng, t1, F);
        memcpy(p2, p1, sizeof p1);
        memcpy(t2, t1, sizeof t1);
        for (int t = 0; t < 5; t++) {
            pp_rng_fill_normal_f32(&rng, gr, F);
            pp_adam_step(&a1, p1, gr);
            pp_polyak(t1, p1, F, 0.005f);
            pp_adam_step_polyak(&a2, p2, gr, t2, 0.005f);
        }
        CHECK(memcmp(p1, p2, sizeof p1) == 0 && memcmp(t1, t2, sizeof t1) == 0 &&
                  memcmp(a1.m, a2.m, F * sizeof(float)) == 0 && memcmp(a1.v, a2.v, F * sizeof(float)) == 0 &&
                  a1.t == a2.t,
              "pp_adam_step_polyak: params, target, moments and t byte-identical to pp_adam_step + pp_polyak");
        pp_adam_free(&a1);
        pp_adam_free(&a2);
    }

    /* --- Adam minimises an ill-conditioned quadratic --- */
    enum { D = 50 };
    float x[D], grad[D], scale[D], centre[D];
    pp_rng_fill_uniform_f32(&rng, centre, D, -3, 3);
    for (int i = 0; i < D; i++) {
        scale[i] = powf(10.0f, -2.0f + 4.0f * i / (D - 1)); /* curvatures 1e-2 .. 1e2 */
        x[i] = 0;
    }
    pp_adam c;
    pp_adam_init(&c, D, 0.05f);
    double f0 = 0, f = 0;
    for (int i = 0; i < D; i++) f0 += 0.5 * scale[i] * centre[i] * centre[i];
    for (int step = 0; step < 4000; step++) {
        for (int i = 0; i < D; i++) grad[i] = scale[i] * (x[i] - centre[i]);
        pp_adam_step(&c, x, grad);
        if (step == 3000) c.lr = 0.005f;
    }
    for (int i = 0; i < D; i++) f += 0.5 * scale[i] * (x[i] - centre[i]) * (x[i] - centre[i]);
    printf("#   quadratic: f from %.4g to %.3g\n", f0, f);
    CHECK(f < 1e-5 * f0, "Adam reduces the quadratic by 1e5 in 4000 steps");
    pp_adam_free(&c);
    return check_done();
}
