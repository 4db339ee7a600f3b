/* MLP forward/backward against a float64 reference: gradients w.r.t. params
 * and input by central finite differences in double (Linear, ReLU, Tanh, a
 * twin 3-hidden-layer critic, tanh output, spectral norm with u, v fixed, the
 * gradient penalty, two- and one-sided, on all columns or from an offset), the twin net against two separate nets, full-size
 * forward in float against double, the NULL-dparams / NULL-dx paths, and
 * the one-row forward of the evaluator (pp_mlp_forward_row): the bits of a
 * per-layer double sum, near the sgemm forward. Swish (MOPO's dynamics
 * models): the gradient checks, its values and slopes out to |x| = 1e4, and
 * an E = 7 ensemble against seven separately built nets. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "nn/mlp.h"
#include "ref_mlp.h"
#include "base/rng.h"

#define FD_H 1e-6

/* L = sum c .* f(x) in double */
static double ref_loss(const pp_mlp *m, const double *p, const double *x, int B, const double *c, double *y)
{
    ref_mlp_forward(m, p, x, B, y);
    double s = 0;
    for (size_t i = 0; i < (size_t)B * m->members * m->width[m->nlayers]; i++) s += c[i] * y[i];
    return s;
}

/* The losses whose finite differences are taken, as functions of the params
 * or of the input. */
typedef struct {
    const pp_mlp *m;
    const double *p, *x, *c;
    double *y, lambda;
    int B;
} fd_ctx;

static double loss_of_params(const double *p, void *v)
{
    fd_ctx *k = v;
    return ref_loss(k->m, p, k->x, k->B, k->c, k->y);
}

static double loss_of_input(const double *x, void *v)
{
    fd_ctx *k = v;
    return ref_loss(k->m, k->p, x, k->B, k->c, k->y);
}

static double penalty_of_params(const double *p, void *v)
{
    fd_ctx *k = v;
    return ref_penalty(k->m, p, k->x, k->B, k->lambda);
}

/* the column-restricted penalty: col0 and one_sided ride in fd_ctx.c[0..1] */
static double penalty_cols_of_params(const double *p, void *v)
{
    fd_ctx *k = v;
    return ref_penalty_cols(k->m, p, k->x, k->B, k->lambda, (int)k->c[0], (int)k->c[1]);
}

/* Draw x until every ReLU unit is at least `margin` away from its kink. */
static void draw_input_off_kinks(const pp_mlp *m, const double *pd, float *x, double *xd, int B, pp_rng *rng)
{
    size_t n = (size_t)B * m->width[0];
    for (int tries = 0; tries < 100; tries++) {
        pp_rng_fill_normal_f32(rng, x, n);
        for (size_t i = 0; i < n; i++) xd[i] = x[i];
        if (ref_kink_margin(m, pd, xd, B) > 1e-3) return;
    }
    printf("# warning: no input found 1e-3 away from every ReLU kink\n");
}

static void check_vec(const char *what, const float *got, const double *want, size_t n, double bound)
{
    double r = ref_rel_err(got, want, n);
    printf("#   relative error %.3g (bound %.3g)\n", r, bound);
    CHECK(r <= bound, "%s", what);
}

static void grad_check(const char *name, int in, int nhidden, const int *hidden, int out, int E, pp_act ha,
                       pp_act oa, int spectral, int B, uint64_t seed)
{
    pp_mlp m;
    if (pp_mlp_init(&m, in, nhidden, hidden, out, E, ha, oa, spectral, B) != 0) {
        CHECK(0, "%s: init", name);
        return;
    }
    pp_rng rng;
    pp_rng_seed(&rng, seed);
    float *params = pp_xalloc_f32(m.nparams), *dparams = pp_xalloc_f32(m.nparams);
    pp_mlp_init_params(&m, params, &rng);
    if (spectral) pp_mlp_sn_update(&m, params); /* u, v as a training step would leave them */
    size_t nx = (size_t)B * in, ny = (size_t)B * E * out;
    float *x = pp_xalloc_f32(nx), *dy = pp_xalloc_f32(ny), *dx = pp_xalloc_f32(nx);
    double *pd = ref_to_double(params, m.nparams), *xd = malloc(nx * sizeof *xd), *yd = malloc(ny * sizeof *yd);
    draw_input_off_kinks(&m, pd, x, xd, B, &rng);
    pp_rng_fill_normal_f32(&rng, dy, ny);
    double *c = ref_to_double(dy, ny);

    const float *y = pp_mlp_forward(&m, params, x, B);
    ref_mlp_forward(&m, pd, xd, B, yd);
    char what[160];
    snprintf(what, sizeof what, "%s: forward matches float64", name);
    check_vec(what, y, yd, ny, 1e-5);

    pp_mlp_backward(&m, params, dy, dparams, dx);

    fd_ctx k = {.m = &m, .p = pd, .x = xd, .c = c, .y = yd, .B = B};
    double *num = malloc(m.nparams * sizeof *num);
    ref_fd_grad(loss_of_params, &k, pd, m.nparams, FD_H, num);
    snprintf(what, sizeof what, "%s: d/dparams matches float64 finite differences (%zu params)", name, m.nparams);
    check_vec(what, dparams, num, m.nparams, 1e-4);

    double *numx = malloc(nx * sizeof *numx);
    ref_fd_grad(loss_of_input, &k, xd, nx, FD_H, numx);
    snprintf(what, sizeof what, "%s: d/dx matches float64 finite differences", name);
    check_vec(what, dx, numx, nx, 1e-4);

    free(num);
    free(numx);
    free(c);
    free(pd);
    free(xd);
    free(yd);
    free(x);
    free(dy);
    free(dx);
    free(params);
    free(dparams);
    pp_mlp_free(&m);
}

static void penalty_check(const char *name, pp_act ha, uint64_t seed)
{
    int hidden[2] = {8, 6}, in = 4, B = 5;
    float lambda = 10.0f;
    pp_mlp m;
    pp_mlp_init(&m, in, 2, hidden, 1, 1, ha, PP_ACT_LINEAR, 0, B);
    CHECK(pp_mlp_grad_penalty_check(&m) == 0, "%s: net accepted by pp_mlp_grad_penalty_check", name);
    pp_rng rng;
    pp_rng_seed(&rng, seed);
    float *params = pp_xalloc_f32(m.nparams), *dparams = pp_xalloc_f32(m.nparams);
    pp_mlp_init_params(&m, params, &rng);
    /* scale the weights up so that ||g|| straddles 1 across the batch */
    for (size_t i = 0; i < m.nparams; i++) params[i] *= 1.7f;
    double *pd = ref_to_double(params, m.nparams), *xd = malloc((size_t)B * in * sizeof *xd);
    float *x = pp_xalloc_f32((size_t)B * in);
    draw_input_off_kinks(&m, pd, x, xd, B, &rng);

    float P = pp_mlp_grad_penalty(&m, params, x, B, lambda, dparams);
    double Pd = ref_penalty(&m, pd, xd, B, lambda);
    printf("# %s: penalty %.6g (float64 %.6g)\n", name, P, Pd);
    CHECK_REL(P, Pd, 1e-5, "%s: penalty value matches float64", name);

    fd_ctx k = {.m = &m, .x = xd, .lambda = lambda, .B = B};
    double *num = malloc(m.nparams * sizeof *num);
    ref_fd_grad(penalty_of_params, &k, pd, m.nparams, FD_H, num);
    char what[160];
    snprintf(what, sizeof what, "%s: d penalty / d params matches float64 finite differences", name);
    check_vec(what, dparams, num, m.nparams, 1e-4);
    int bias_zero = 1;
    for (int l = 0; l < m.nlayers; l++)
        for (int j = 0; j < m.width[l + 1]; j++) bias_zero &= dparams[m.off_b[l] + j] == 0.0f;
    CHECK(bias_zero, "%s: biases get no penalty gradient", name);

    /* accumulation: a second call adds the same gradient again */
    float *twice = pp_xalloc_f32(m.nparams);
    memcpy(twice, dparams, m.nparams * sizeof *twice);
    pp_mlp_grad_penalty(&m, params, x, B, lambda, twice);
    double d = 0;
    for (size_t i = 0; i < m.nparams; i++) d = fmax(d, fabs(twice[i] - 2 * dparams[i]));
    CHECK(d < 1e-5, "%s: dparams is accumulated into (max dev %.2g)", name, d);

    free(twice);
    free(num);
    free(pd);
    free(xd);
    free(x);
    free(params);
    free(dparams);
    pp_mlp_free(&m);
}

/* pp_mlp_grad_penalty_cols on the columns from col0 (the action part of (s, a)),
 * one- or two-sided, against float64: value and d/dparams by finite
 * differences; the two-sided one with col0 = 0 is pp_mlp_grad_penalty to the
 * bit; the one-sided one is exactly 0, with nothing added, when every slope is
 * under 1. */
static void penalty_cols_check(const char *name, int col0, int one_sided, uint64_t seed)
{
    int hidden[2] = {8, 6}, in = 5, B = 6;
    float lambda = 5.0f;
    pp_mlp m;
    pp_mlp_init(&m, in, 2, hidden, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, B);
    pp_rng rng;
    pp_rng_seed(&rng, seed);
    float *params = pp_xalloc_f32(m.nparams), *dparams = pp_xalloc_f32(m.nparams);
    pp_mlp_init_params(&m, params, &rng);
    for (size_t i = 0; i < m.nparams; i++) params[i] *= 2.2f; /* slopes either side of 1 */
    double *pd = ref_to_double(params, m.nparams), *xd = malloc((size_t)B * in * sizeof *xd);
    float *x = pp_xalloc_f32((size_t)B * in);
    draw_input_off_kinks(&m, pd, x, xd, B, &rng);

    double g[REF_MAXW];
    int over = 0;
    for (int b = 0; b < B; b++) {
        ref_mlp_scalar(&m, pd, xd + (size_t)b * in, 0, g);
        double s = 0;
        for (int i = col0; i < in; i++) s += g[i] * g[i];
        over += sqrt(s) > 1;
    }
    printf("# %s: %d of %d rows with a slope over 1\n", name, over, B);
    if (one_sided) /* the kink of max(n - 1, 0) is inside the batch */
        CHECK(over > 0 && over < B, "%s: the batch straddles slope 1 (%d of %d over)", name, over, B);

    float P = pp_mlp_grad_penalty_cols(&m, params, x, B, lambda, col0, one_sided, dparams);
    double Pd = ref_penalty_cols(&m, pd, xd, B, lambda, col0, one_sided);
    printf("# %s: penalty %.6g (float64 %.6g)\n", name, P, Pd);
    CHECK_REL(P, Pd, 1e-5, "%s: penalty value matches float64", name);
    double cc[2] = {col0, one_sided};
    fd_ctx k = {.m = &m, .x = xd, .c = cc, .lambda = lambda, .B = B};
    double *num = malloc(m.nparams * sizeof *num);
    ref_fd_grad(penalty_cols_of_params, &k, pd, m.nparams, FD_H, num);
    char what[160];
    snprintf(what, sizeof what, "%s: d penalty / d params matches float64 finite differences", name);
    check_vec(what, dparams, num, m.nparams, 1e-4);

    if (!one_sided && col0 == 0) {
        float *plain = pp_xalloc_f32(m.nparams);
        memset(plain, 0, m.nparams * sizeof *plain);
        float P2 = pp_mlp_grad_penalty(&m, params, x, B, lambda, plain);
        CHECK(P2 == P && memcmp(plain, dparams, m.nparams * sizeof *plain) == 0,
              "%s: col0 0, two-sided is pp_mlp_grad_penalty to the bit", name);
        free(plain);
    }
    if (one_sided) {
        /* weights scaled down: every slope under 1, so the penalty is 0 exactly */
        for (size_t i = 0; i < m.nparams; i++) params[i] *= 0.3f;
        for (size_t i = 0; i < m.nparams; i++) dparams[i] = 0.25f;
        float Z = pp_mlp_grad_penalty_cols(&m, params, x, B, lambda, col0, 1, dparams);
        int untouched = 1;
        for (size_t i = 0; i < m.nparams; i++) untouched &= dparams[i] == 0.25f;
        CHECK(Z == 0.0f && untouched, "%s: every slope under 1: penalty exactly 0 (%g), dparams untouched",
              name, Z);
    }
    free(num);
    free(pd);
    free(xd);
    free(x);
    free(params);
    free(dparams);
    pp_mlp_free(&m);
}

/* Member e of a twin blob as the blob of a single net of the same shape. */
static void split_member(const pp_mlp *twin, const pp_mlp *single, const float *src, int e, float *dst)
{
    int E = twin->members;
    for (int l = 0; l < twin->nlayers; l++) {
        int in = twin->width[l], out = twin->width[l + 1];
        for (int i = 0; i < in; i++)
            for (int j = 0; j < out; j++) {
                size_t s = l == 0 ? twin->off_w[0] + (size_t)i * E * out + (size_t)e * out + j
                                  : twin->off_w[l] + (size_t)e * in * out + (size_t)i * out + j;
                dst[single->off_w[l] + (size_t)i * out + j] = src[s];
            }
        for (int j = 0; j < out; j++) dst[single->off_b[l] + j] = src[twin->off_b[l] + (size_t)e * out + j];
    }
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return s > 0 ? d / s : d;
}

/* HalfCheetah critic at full size: twin against two nets, float against double. */
static void full_size_checks(void)
{
    int hidden[3] = {256, 256, 256}, in = 23, B = 256;
    pp_mlp twin, one;
    pp_mlp_init(&twin, in, 3, hidden, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, B);
    pp_mlp_init(&one, in, 3, hidden, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, B);
    CHECK(twin.nparams == 2 * one.nparams, "twin blob holds two nets (%zu floats)", twin.nparams);
    pp_rng rng;
    pp_rng_seed(&rng, 99);
    float *p2 = pp_xalloc_f32(twin.nparams), *g2 = pp_xalloc_f32(twin.nparams);
    float *p1[2], *g1[2], *dx1[2];
    pp_mlp_init_params(&twin, p2, &rng);
    float *x = pp_xalloc_f32((size_t)B * in), *dy = pp_xalloc_f32((size_t)B * 2), *dx2 = pp_xalloc_f32((size_t)B * in);
    pp_rng_fill_normal_f32(&rng, x, (size_t)B * in);
    pp_rng_fill_normal_f32(&rng, dy, (size_t)B * 2);

    float *y2 = pp_xalloc_f32((size_t)B * 2);
    memcpy(y2, pp_mlp_forward(&twin, p2, x, B), (size_t)B * 2 * sizeof *y2);
    pp_mlp_backward(&twin, p2, dy, g2, dx2);

    double *pd = ref_to_double(p2, twin.nparams), *xd = ref_to_double(x, (size_t)B * in), *yd = malloc((size_t)B * 2 * sizeof *yd);
    ref_mlp_forward(&twin, pd, xd, B, yd);
    double r = ref_rel_err(y2, yd, (size_t)B * 2);
    printf("#   relative error %.3g (bound 1e-05)\n", r);
    CHECK(r <= 1e-5, "critic 23-256-256-256-1 x2, batch 256: float forward matches float64");

    float ys[2][256], dys[256];
    double dev_y = 0, dev_g = 0;
    float *dxsum = pp_xalloc_f32((size_t)B * in);
    for (int e = 0; e < 2; e++) {
        p1[e] = pp_xalloc_f32(one.nparams);
        g1[e] = pp_xalloc_f32(one.nparams);
        dx1[e] = pp_xalloc_f32((size_t)B * in);
        split_member(&twin, &one, p2, e, p1[e]);
        const float *y = pp_mlp_forward(&one, p1[e], x, B);
        for (int b = 0; b < B; b++) {
            ys[e][b] = y[b];
            dys[b] = dy[b * 2 + e];
        }
        pp_mlp_backward(&one, p1[e], dys, g1[e], dx1[e]);
        for (int b = 0; b < B; b++) dev_y = fmax(dev_y, fabs(ys[e][b] - y2[b * 2 + e]) / fmax(fabs(y2[b * 2 + e]), 1e-3));
        float *g2e = pp_xalloc_f32(one.nparams);
        split_member(&twin, &one, g2, e, g2e);
        dev_g = fmax(dev_g, max_rel(g2e, g1[e], one.nparams));
        free(g2e);
    }
    for (size_t i = 0; i < (size_t)B * in; i++) dxsum[i] = dx1[0][i] + dx1[1][i];
    double dev_x = max_rel(dx2, dxsum, (size_t)B * in);
    printf("#   twin vs separate: output %.3g, dparams %.3g, dx %.3g (bound 1e-05)\n", dev_y, dev_g, dev_x);
    CHECK(dev_y <= 1e-5, "twin output equals two separate nets");
    CHECK(dev_g <= 1e-5, "twin dparams equal the two nets' dparams");
    CHECK(dev_x <= 1e-5, "twin dx equals the sum of the two nets' dx");

    /* dparams NULL / dx NULL give the same remaining result; dparams accumulates */
    float *gonly = pp_xalloc_f32(twin.nparams), *dxonly = pp_xalloc_f32((size_t)B * in);
    pp_mlp_forward(&twin, p2, x, B);
    pp_mlp_backward(&twin, p2, dy, gonly, NULL);
    pp_mlp_backward(&twin, p2, dy, NULL, dxonly);
    CHECK(memcmp(gonly, g2, twin.nparams * sizeof *g2) == 0, "backward with dx = NULL gives the same dparams");
    CHECK(memcmp(dxonly, dx2, (size_t)B * in * sizeof *dx2) == 0, "backward with dparams = NULL gives the same dx");
    pp_mlp_backward(&twin, p2, dy, gonly, NULL);
    double dacc = 0;
    for (size_t i = 0; i < twin.nparams; i++) dacc = fmax(dacc, fabs(gonly[i] - 2 * g2[i]));
    CHECK(dacc < 1e-4, "dparams is accumulated into (max dev %.2g)", dacc);

    /* one chosen member per row (the Langevin score of min(Q1, Q2)) equals the
     * full backward with a one-hot dy on that member */
    {
        int *member = calloc((size_t)B, sizeof *member);
        float *onehot = pp_xalloc_f32((size_t)B * 2), *dxsel = pp_xalloc_f32((size_t)B * in);
        pp_mlp_forward(&twin, p2, x, B);
        int n1 = 0;
        for (int b = 0; b < B; b++) {
            member[b] = y2[2 * b + 1] < y2[2 * b];
            n1 += member[b];
            onehot[2 * b + member[b]] = 1.0f;
        }
        pp_mlp_backward(&twin, p2, onehot, NULL, dxonly);
        pp_mlp_backward_input_select(&twin, p2, member, dxsel);
        double dsel = max_rel(dxsel, dxonly, (size_t)B * in);
        printf("#   rows choosing member 1: %d of %d; max relative difference %.3g (bound 1e-05)\n", n1, B, dsel);
        CHECK(n1 > 0 && n1 < B && dsel <= 1e-5, "input gradient of the chosen member per row equals the one-hot backward");
        free(member);
        free(onehot);
        free(dxsel);
    }

    /* batch 1 (acting): the one-row sgemm path */
    const float *yb = pp_mlp_forward(&twin, p2, x + 5 * in, 1);
    double y1d[2] = {yd[10], yd[11]};
    r = ref_rel_err(yb, y1d, 2);
    printf("#   relative error %.3g (bound 1e-05)\n", r);
    CHECK(r <= 1e-5, "batch of one row matches float64");

    for (int e = 0; e < 2; e++) {
        free(p1[e]);
        free(g1[e]);
        free(dx1[e]);
    }
    free(gonly);
    free(dxonly);
    free(dxsum);
    free(pd);
    free(xd);
    free(yd);
    free(y2);
    free(x);
    free(dy);
    free(dx2);
    free(p2);
    free(g2);
    pp_mlp_free(&twin);
    pp_mlp_free(&one);
}

/* the library's float sigmoid, written out (mlp_kernels.c), for the bits of
 * the one-row forward */
static float swish_sigmoid(float x)
{
    float e = expf(-fabsf(x)), r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}

/* pp_mlp_forward_row (the evaluator's, nn/mlp.h): each layer's sum in double,
 * in input order, rounded once; written out here element by element, it must
 * give the very bits. And it stays near pp_mlp_forward's one-row sgemm. */
static void row_check(const char *name, int in, int nhidden, const int *hidden, int out, int E, pp_act ha,
                      pp_act oa, int spectral, uint64_t seed)
{
    pp_mlp m;
    pp_mlp_init(&m, in, nhidden, hidden, out, E, ha, oa, spectral, 2);
    pp_rng rng;
    pp_rng_seed(&rng, seed);
    float *params = pp_xalloc_f32(m.nparams), *x = pp_xalloc_f32((size_t)in);
    pp_mlp_init_params(&m, params, &rng);
    if (spectral) pp_mlp_sn_update(&m, params);
    pp_rng_fill_normal_f32(&rng, x, (size_t)in);
    int maxw = in;
    for (int l = 1; l <= m.nlayers; l++) maxw = m.width[l] * E > maxw ? m.width[l] * E : maxw;
    float *h = pp_xalloc_f32((size_t)maxw * E), *t = pp_xalloc_f32((size_t)maxw * E);
    memcpy(h, x, (size_t)in * sizeof *h);
    for (int l = 0; l < m.nlayers; l++) {
        int w_in = m.width[l], w_out = m.width[l + 1];
        const float *W = spectral ? m.sn_w[l] : params + m.off_w[l], *b = params + m.off_b[l];
        pp_act act = l == m.nlayers - 1 ? oa : ha;
        for (int e = 0; e < E; e++)
            for (int j = 0; j < w_out; j++) {
                double s = 0;
                for (int i = 0; i < w_in; i++) {
                    /* layer 0: one [in, E*out] block; deeper: member blocks, member inputs */
                    double xi = l == 0 ? h[i] : h[(size_t)e * w_in + i];
                    double w = l == 0 ? W[(size_t)i * E * w_out + (size_t)e * w_out + j]
                                      : W[(size_t)e * w_in * w_out + (size_t)i * w_out + j];
                    s += xi * w;
                }
                float v = (float)(s + (double)b[(size_t)e * w_out + j]);
                t[(size_t)e * w_out + j] = act == PP_ACT_RELU   ? (v < 0.0f ? 0.0f : v)
                                           : act == PP_ACT_TANH ? tanhf(v)
                                           : act == PP_ACT_SWISH ? v * swish_sigmoid(v)
                                                                 : v;
            }
        memcpy(h, t, (size_t)E * w_out * sizeof *h);
    }
    size_t n = (size_t)E * out;
    float *row = pp_xalloc_f32(n);
    memcpy(row, pp_mlp_forward_row(&m, params, x), n * sizeof *row);
    CHECK(memcmp(row, h, n * sizeof *row) == 0, "%s: one-row forward is the per-layer double sum, bit for bit", name);
    const float *y = pp_mlp_forward(&m, params, x, 1);
    double worst = 0;
    for (size_t k = 0; k < n; k++) worst = fmax(worst, fabs(row[k] - y[k]) / fmax(fabs(y[k]), 1e-3));
    printf("#   against the sgemm forward: max relative difference %.3g (bound 1e-05)\n", worst);
    CHECK(worst <= 1e-5, "%s: one-row forward agrees with pp_mlp_forward", name);
    free(row);
    free(h);
    free(t);
    free(x);
    free(params);
    pp_mlp_free(&m);
}

/* Swish far out: a 1 -> 1 -> 1 net with unit weights and zero biases puts
 * x itself through one swish, so y = swish(x) and dx = swish'(x) for dy = 1;
 * both finite and within a few float roundings of double at |x| up to 1e4
 * (exp(-x) alone would overflow a float from x = -89). */
static void swish_far_check(void)
{
    enum { B = 11 };
    const float xs[B] = {-1e4f, -1000.0f, -100.0f, -88.0f, -20.0f, -1e-3f, 0.0f, 1e-3f, 20.0f, 100.0f, 1e4f};
    int h[1] = {1};
    pp_mlp m;
    pp_mlp_init(&m, 1, 1, h, 1, 1, PP_ACT_SWISH, PP_ACT_LINEAR, 0, B);
    float params[4] = {1.0f, 0.0f, 1.0f, 0.0f}; /* W0, b0, W1, b1 */
    CHECK(m.nparams == 4, "1->1->1 net has four parameters");
    float y[B], dy[B], dx[B];
    memcpy(y, pp_mlp_forward(&m, params, xs, B), sizeof y);
    for (int b = 0; b < B; b++) dy[b] = 1.0f;
    pp_mlp_backward(&m, params, dy, NULL, dx);
    double worst_y = 0, worst_d = 0;
    int finite = 1;
    for (int b = 0; b < B; b++) {
        double x = xs[b];
        double ey = ref_act(PP_ACT_SWISH, x), ed = ref_dact(PP_ACT_SWISH, x);
        finite &= isfinite(y[b]) && isfinite(dx[b]);
        worst_y = fmax(worst_y, fabs(y[b] - ey) / fmax(fabs(ey), 1e-30));
        worst_d = fmax(worst_d, fabs(dx[b] - ed));
    }
    printf("#   swish at |x| <= 1e4: value max relative error %.3g, slope max abs error %.3g\n", worst_y, worst_d);
    CHECK(finite, "swish: value and slope finite out to |x| = 1e4");
    CHECK(worst_y <= 1e-6, "swish: value within float rounding of float64 out to |x| = 1e4");
    CHECK(worst_d <= 1e-6, "swish: slope within float rounding of float64 out to |x| = 1e4");
    pp_mlp_free(&m);
}

/* MOPO's ensemble shape (obs 11 + act 3 -> 4 x 200 swish -> 2 (11 + 1)),
 * E = 7 members side by side in one pp_mlp, against seven single nets built
 * from the member blocks (blob order of mlp.h, split_member): outputs,
 * dparams and dx (the ensemble's is the sum over members). Then the input
 * gradient of one chosen member per row with swish hidden layers (a 7-member
 * 14->200->200->1 net) against the one-hot backward. */
static void ensemble_check(void)
{
    enum { E = 7, IN = 14, OUT = 24, B = 32 };
    int hidden[4] = {200, 200, 200, 200};
    pp_mlp ens, one;
    pp_mlp_init(&ens, IN, 4, hidden, OUT, E, PP_ACT_SWISH, PP_ACT_LINEAR, 0, B);
    pp_mlp_init(&one, IN, 4, hidden, OUT, 1, PP_ACT_SWISH, PP_ACT_LINEAR, 0, B);
    CHECK(ens.nparams == (size_t)E * one.nparams, "ensemble blob holds seven nets (%zu floats)", ens.nparams);
    pp_rng rng;
    pp_rng_seed(&rng, 31);
    float *pe = pp_xalloc_f32(ens.nparams), *ge = pp_xalloc_f32(ens.nparams);
    float *p1 = pp_xalloc_f32(one.nparams), *g1 = pp_xalloc_f32(one.nparams), *ge1 = pp_xalloc_f32(one.nparams);
    pp_mlp_init_params(&ens, pe, &rng);
    float *x = pp_xalloc_f32((size_t)B * IN), *dy = pp_xalloc_f32((size_t)B * E * OUT);
    float *ye = pp_xalloc_f32((size_t)B * E * OUT), *dxe = pp_xalloc_f32((size_t)B * IN);
    float *dy1 = pp_xalloc_f32((size_t)B * OUT), *dx1 = pp_xalloc_f32((size_t)B * IN);
    float *dxsum = pp_xalloc_f32((size_t)B * IN), *ysep = pp_xalloc_f32((size_t)B * E * OUT);
    pp_rng_fill_normal_f32(&rng, x, (size_t)B * IN);
    for (size_t i = 0; i < (size_t)B * IN; i++) x[i] *= 3.0f; /* pre-activations well into both tails */
    pp_rng_fill_normal_f32(&rng, dy, (size_t)B * E * OUT);
    memcpy(ye, pp_mlp_forward(&ens, pe, x, B), (size_t)B * E * OUT * sizeof *ye);
    pp_mlp_backward(&ens, pe, dy, ge, dxe);

    double dev_y = 0, dev_g = 0;
    for (int e = 0; e < E; e++) {
        split_member(&ens, &one, pe, e, p1);
        memset(g1, 0, one.nparams * sizeof *g1);
        const float *y = pp_mlp_forward(&one, p1, x, B);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < OUT; j++) {
                ysep[(size_t)b * E * OUT + (size_t)e * OUT + j] = y[(size_t)b * OUT + j];
                dy1[(size_t)b * OUT + j] = dy[(size_t)b * E * OUT + (size_t)e * OUT + j];
            }
        pp_mlp_backward(&one, p1, dy1, g1, dx1);
        split_member(&ens, &one, ge, e, ge1);
        dev_g = fmax(dev_g, max_rel(ge1, g1, one.nparams));
        for (size_t i = 0; i < (size_t)B * IN; i++) dxsum[i] += dx1[i];
    }
    /* max |difference| over the largest |output|: the wider layer-0 sgemm
     * sums in another order than seven narrow ones, so small outputs differ
     * in their last bits relative to themselves */
    dev_y = max_rel(ye, ysep, (size_t)B * E * OUT);
    double dev_x = max_rel(dxe, dxsum, (size_t)B * IN);
    printf("#   ensemble x7 vs separate: output %.3g, dparams %.3g, dx %.3g (bound 1e-05)\n", dev_y, dev_g, dev_x);
    CHECK(dev_y <= 1e-5, "swish ensemble 14->4x200->24 x7: outputs equal seven separate nets");
    CHECK(dev_g <= 1e-5, "swish ensemble x7: dparams equal the seven nets' dparams");
    CHECK(dev_x <= 1e-5, "swish ensemble x7: dx equals the sum of the seven nets' dx");

    /* one chosen member per row, swish hidden layers */
    pp_mlp q;
    int hq[2] = {200, 200};
    pp_mlp_init(&q, IN, 2, hq, 1, E, PP_ACT_SWISH, PP_ACT_LINEAR, 0, B);
    float *pq = pp_xalloc_f32(q.nparams), *onehot = pp_xalloc_f32((size_t)B * E);
    float *dxsel = pp_xalloc_f32((size_t)B * IN), *dxhot = pp_xalloc_f32((size_t)B * IN);
    int member[B];
    pp_mlp_init_params(&q, pq, &rng);
    pp_mlp_forward(&q, pq, x, B);
    for (int b = 0; b < B; b++) {
        member[b] = b % E;
        onehot[(size_t)b * E + member[b]] = 1.0f;
    }
    pp_mlp_backward(&q, pq, onehot, NULL, dxhot);
    pp_mlp_backward_input_select(&q, pq, member, dxsel);
    double dsel = max_rel(dxsel, dxhot, (size_t)B * IN);
    printf("#   chosen member per row, swish x7: max relative difference %.3g (bound 1e-05)\n", dsel);
    CHECK(dsel <= 1e-5, "swish x7: input gradient of the chosen member per row equals the one-hot backward");

    free(pq);
    free(onehot);
    free(dxsel);
    free(dxhot);
    pp_mlp_free(&q);
    free(pe);
    free(ge);
    free(p1);
    free(g1);
    free(ge1);
    free(x);
    free(dy);
    free(ye);
    free(dxe);
    free(dy1);
    free(dx1);
    free(dxsum);
    free(ysep);
    pp_mlp_free(&ens);
    pp_mlp_free(&one);
}

int main(void)
{
    int h1[1] = {7}, h3[3] = {9, 8, 7}, h2[2] = {7, 6};
    grad_check("Linear 5->3", 5, 0, NULL, 3, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, 4, 1);
    grad_check("ReLU 5->7->3", 5, 1, h1, 3, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, 4, 2);
    grad_check("Tanh 5->7->3", 5, 1, h1, 3, 1, PP_ACT_TANH, PP_ACT_LINEAR, 0, 4, 3);
    grad_check("twin critic 6->9->8->7->1 x2", 6, 3, h3, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, 5, 4);
    grad_check("twin critic, batch 1", 6, 3, h3, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, 1, 5);
    grad_check("tanh output 5->7->4 x3", 5, 1, h1, 4, 3, PP_ACT_RELU, PP_ACT_TANH, 0, 4, 6);
    grad_check("spectral 5->7->6->1 x2 (u, v fixed)", 5, 2, h2, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 1, 4, 7);
    grad_check("spectral tanh 5->7->3, tanh output", 5, 1, h1, 3, 1, PP_ACT_TANH, PP_ACT_TANH, 1, 3, 8);
    grad_check("Swish 5->7->3", 5, 1, h1, 3, 1, PP_ACT_SWISH, PP_ACT_LINEAR, 0, 4, 41);
    grad_check("swish ensemble 5->9->8->7->4 x7", 5, 3, h3, 4, 7, PP_ACT_SWISH, PP_ACT_LINEAR, 0, 4, 42);
    grad_check("swish ensemble, batch 1", 5, 3, h3, 4, 7, PP_ACT_SWISH, PP_ACT_LINEAR, 0, 1, 43);
    grad_check("swish output 5->7->4 x3", 5, 1, h1, 4, 3, PP_ACT_TANH, PP_ACT_SWISH, 0, 4, 44);
    grad_check("spectral swish 5->7->6->1 x2", 5, 2, h2, 1, 2, PP_ACT_SWISH, PP_ACT_LINEAR, 1, 4, 45);
    penalty_check("gradient penalty, ReLU 4->8->6->1", PP_ACT_RELU, 11);
    penalty_check("gradient penalty, linear 4->8->6->1", PP_ACT_LINEAR, 12);
    penalty_cols_check("one-sided penalty on columns 3.. of 5->8->6->1", 3, 1, 13);
    penalty_cols_check("two-sided penalty on columns 2.. of 5->8->6->1", 2, 0, 14);
    penalty_cols_check("two-sided penalty, col0 0 (the plain one)", 0, 0, 15);
    penalty_cols_check("one-sided penalty on all columns", 0, 1, 16);

    pp_mlp bad;
    pp_mlp_init(&bad, 4, 1, h1, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, 4);
    CHECK(pp_mlp_grad_penalty_check(&bad) == -1, "gradient penalty refuses a twin net");
    pp_mlp_free(&bad);
    pp_mlp_init(&bad, 4, 1, h1, 1, 1, PP_ACT_TANH, PP_ACT_LINEAR, 0, 4);
    CHECK(pp_mlp_grad_penalty_check(&bad) == -1, "gradient penalty refuses tanh hidden layers");
    pp_mlp_free(&bad);
    pp_mlp_init(&bad, 4, 1, h1, 1, 1, PP_ACT_SWISH, PP_ACT_LINEAR, 0, 4);
    CHECK(pp_mlp_grad_penalty_check(&bad) == -1, "gradient penalty refuses swish hidden layers");
    pp_mlp_free(&bad);
    CHECK(pp_mlp_init(&bad, 4, 1, h1, 1, 1, (pp_act)(PP_ACT_SWISH + 1), PP_ACT_LINEAR, 0, 4) == -1,
          "an unknown activation is refused");
    CHECK(pp_mlp_init(&bad, 0, 1, h1, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, 4) == -1, "input width 0 is refused");

    full_size_checks();
    swish_far_check();
    ensemble_check();

    int h256[2] = {256, 256}, h300[3] = {300, 70, 130};
    row_check("policy 11->256->256->6", 11, 2, h256, 6, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, 21);
    row_check("twin 6->300->70->130->1 x2, tanh hidden", 6, 3, h300, 1, 2, PP_ACT_TANH, PP_ACT_LINEAR, 0, 22);
    row_check("spectral 5->7->6->1 x2", 5, 2, h2, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 1, 23);
    int h200[4] = {200, 200, 200, 200};
    row_check("swish ensemble 14->4x200->24 x7", 14, 4, h200, 24, 7, PP_ACT_SWISH, PP_ACT_LINEAR, 0, 24);
    return check_done();
}
