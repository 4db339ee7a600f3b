/* Spectral normalisation: sigma converges to the top singular value (checked
 * with a Jacobi eigen-solver in double written here), every normalised layer
 * ends with spectral norm 1, saving / restoring (u, v) continues the run
 * bit for bit, and the (u, v) state a frame carries is checked (netmap.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "nn/mlp.h"
#include "nn/mlp_impl.h"
#include "nn/netmap.h"
#include "base/rng.h"

/* Largest singular value of the [rows, cols] block (leading dimension ld):
 * sqrt of the largest eigenvalue of W^T W by cyclic Jacobi rotations. */
static double top_singular_value(const float *W, int rows, int cols, int ld)
{
    int n = cols;
    double *S = calloc((size_t)n * n, sizeof *S);
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            double s = 0;
            for (int i = 0; i < rows; i++) s += (double)W[(size_t)i * ld + a] * W[(size_t)i * ld + b];
            S[a * n + b] = s;
        }
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) off += S[p * n + q] * S[p * n + q];
        if (off < 1e-30) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = S[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double theta = (S[q * n + q] - S[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double akp = S[k * n + p], akq = S[k * n + q];
                    S[k * n + p] = c * akp - s * akq;
                    S[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double apk = S[p * n + k], aqk = S[q * n + k];
                    S[p * n + k] = c * apk - s * aqk;
                    S[q * n + k] = s * apk + c * aqk;
                }
            }
    }
    double best = 0;
    for (int i = 0; i < n; i++) best = fmax(best, S[i * n + i]);
    free(S);
    return sqrt(best);
}

static void sigma_converges(int in, int out, int members, uint64_t seed)
{
    pp_mlp m;
    pp_mlp_init(&m, in, 0, NULL, out, members, PP_ACT_RELU, PP_ACT_LINEAR, 1, 4);
    pp_rng rng;
    pp_rng_seed(&rng, seed);
    float *p = pp_xalloc_f32(m.nparams);
    pp_mlp_init_params(&m, p, &rng);
    for (int k = 0; k < 2000; k++) pp_mlp_sn_update(&m, p);
    for (int e = 0; e < members; e++) {
        int ld;
        size_t off = pp_mlp_wblock(&m, 0, e, &ld);
        double want = top_singular_value(p + m.off_w[0] + off, in, out, ld);
        printf("# %dx%d member %d: sigma %.7g, Jacobi %.7g\n", in, out, e, m.sn_sigma[0][e], want);
        CHECK_REL(m.sn_sigma[0][e], want, 1e-5, "%dx%d member %d: sigma converges to the top singular value", in,
                  out, e);
    }
    free(p);
    pp_mlp_free(&m);
}

int main(void)
{
    sigma_converges(7, 5, 2, 1);
    sigma_converges(30, 20, 1, 2);
    sigma_converges(23, 64, 3, 3);

    /* every layer of a normalised net has spectral norm 1 */
    int hidden[2] = {16, 12};
    pp_mlp m, m2;
    pp_mlp_init(&m, 6, 2, hidden, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 1, 8);
    pp_rng rng;
    pp_rng_seed(&rng, 9);
    float *p = pp_xalloc_f32(m.nparams);
    pp_mlp_init_params(&m, p, &rng);
    for (int k = 0; k < 200; k++) pp_mlp_sn_update(&m, p);
    double worst = 0;
    for (int l = 0; l < m.nlayers; l++)
        for (int e = 0; e < m.members; e++) {
            int ld;
            size_t off = pp_mlp_wblock(&m, l, e, &ld);
            double s = top_singular_value(m.sn_w[l] + off, m.width[l], m.width[l + 1], ld);
            worst = fmax(worst, fabs(s - 1));
        }
    printf("#   worst |sigma(W_sn) - 1| = %.3g over %d blocks (bound 1e-4)\n", worst, m.nlayers * m.members);
    CHECK(worst < 1e-4, "after spectral normalisation every layer has spectral norm 1");

    size_t want_state = 0;
    for (int l = 0; l < m.nlayers; l++) want_state += (size_t)m.members * (m.width[l] + m.width[l + 1]);
    CHECK(m.sn_state_floats == want_state, "sn_state_floats = sum E*(in+out) = %zu", want_state);

    /* (u, v) get / set: a restored net continues identically */
    pp_mlp_init(&m2, 6, 2, hidden, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 1, 8);
    for (int k = 0; k < 3; k++) pp_mlp_sn_update(&m, p);
    float *state = pp_xalloc_f32(m.sn_state_floats), *state2 = pp_xalloc_f32(m.sn_state_floats);
    pp_mlp_sn_get(&m, state);
    pp_mlp_sn_set(&m2, state, p);
    int same_sigma = 1;
    for (int l = 0; l < m.nlayers; l++)
        same_sigma &= memcmp(m.sn_sigma[l], m2.sn_sigma[l], (size_t)m.members * sizeof(float)) == 0;
    CHECK(same_sigma, "sn_set reproduces sigma bit for bit");
    float x[8 * 6];
    pp_rng_fill_normal_f32(&rng, x, 8 * 6);
    float *noisep = pp_xalloc_f32(m.nparams);
    int same = 1;
    for (int step = 0; step < 5; step++) {
        pp_mlp_sn_update(&m, p);
        pp_mlp_sn_update(&m2, p);
        float y1[16];
        memcpy(y1, pp_mlp_forward(&m, p, x, 8), sizeof y1);
        same &= memcmp(y1, pp_mlp_forward(&m2, p, x, 8), sizeof y1) == 0;
        pp_rng_fill_normal_f32(&rng, noisep, m.nparams);
        for (size_t i = 0; i < m.nparams; i++) p[i] += 0.01f * noisep[i];
    }
    CHECK(same, "after sn_get / sn_set two nets give identical outputs over 5 further steps");
    pp_mlp_sn_get(&m, state);
    pp_mlp_sn_get(&m2, state2);
    CHECK(memcmp(state, state2, m.sn_state_floats * sizeof *state) == 0, "and identical (u, v) state");

    /* The state a frame's disc.sn carries passes nn/netmap.h's check (twin
     * members here); a short, NaN or scaled one does not: a reader computes
     * W / sigma from it, so a vector that is not a unit one scales f without
     * bound (R2). */
    pp_mlp t;
    int ht[2] = {16, 16};
    pp_mlp_init(&t, 6, 2, ht, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 1, 8);
    float *tp = pp_xalloc_f32(t.nparams), *ts = pp_xalloc_f32(t.sn_state_floats);
    pp_mlp_init_params(&t, tp, &rng);
    for (int k = 0; k < 3; k++) pp_mlp_sn_update(&t, tp);
    pp_mlp_sn_get(&t, ts);
    size_t nt = t.sn_state_floats;
    CHECK(nt == 142 && pp_netmap_check_sn("q.sn", ts, nt, 6, 16, 2, 1, 2) == 0,
          "the power iteration's state passes the check: %s", nt == 142 ? pp_error() : "size");
    CHECK(pp_netmap_check_sn("q.sn", ts, nt - 1, 6, 16, 2, 1, 2) == -1 &&
              strcmp(pp_error(), "q.sn has 141 floats, expected 142 for these sizes") == 0,
          "one float short: %s", pp_error());
    ts[100] = NAN;
    CHECK(pp_netmap_check_sn("q.sn", ts, nt, 6, 16, 2, 1, 2) == -1 &&
              strcmp(pp_error(), "q.sn[100] is not finite (nan)") == 0,
          "a NaN is named: %s", pp_error());
    pp_mlp_sn_get(&t, ts);
    for (int k = 92; k < 108; k++) ts[k] *= 2; /* layer 1, v of member 1 */
    CHECK(pp_netmap_check_sn("q.sn", ts, nt, 6, 16, 2, 1, 2) == -1 &&
              strstr(pp_error(), "q.sn: layer 1's v (floats 92..107) has norm 2, expected a unit vector"),
          "a vector twice a unit one is named: %s", pp_error());

    free(tp);
    free(ts);
    pp_mlp_free(&t);
    free(noisep);
    free(state);
    free(state2);
    free(p);
    pp_mlp_free(&m);
    pp_mlp_free(&m2);
    return check_done();
}
