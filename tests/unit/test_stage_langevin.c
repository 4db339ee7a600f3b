/* The langevin stage on frames: particles are the policy's samples moved by
 * K steps (u0 reproduced from the documented stream, q0/qK = min(Q1,Q2) of
 * the frame's critic), Q rises, K = 0 leaves them, checkpoints resume the
 * stream, a bad frame changes nothing, and the --prior plumbing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/err.h"
#include "frame/frame.h"
#include "rl/policy.h"
#include "stage/stage.h"
#include "fixtures.h"


enum { O = 3, A = 2, H = 16, L = 2, B = 64 };

typedef struct {
    pp_policy pol;
    float *pp;
    pp_mlp q;
    float *qp;
} nets;

static void make_nets(nets *n, uint64_t seed)
{
    pp_rng r;
    pp_rng_seed(&r, seed);
    n->pp = fx_policy(&n->pol, O, A, H, L, B, &r);
    n->qp = fx_twin_q(&n->q, O + A, H, L, B, &r);
    /* slopes of a trained critic, not a fresh net's */
    for (size_t i = n->q.off_w[L]; i < n->q.nparams; i++) n->qp[i] *= 30.0f;
}

static void free_nets(nets *n)
{
    pp_policy_free(&n->pol);
    pp_mlp_free(&n->q);
    free(n->pp);
    free(n->qp);
}

static void put_map(pp_frame *f, const char *map, const char *arch, const float *params, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "%s.arch", map);
    pp_frame_set_str(f, path, arch);
    const char *k[4] = {"obs_dim", "act_dim", "hidden", "layers"};
    int v[4] = {O, A, H, L};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s.%s", map, k[i]);
        pp_frame_set_i64(f, path, v[i]);
    }
    snprintf(path, sizeof path, "%s.params", map);
    int64_t s[1] = {(int64_t)n};
    pp_frame_put_tensor(f, path, PP_F32, 1, s, params);
}

static pp_frame *ring_frame(const nets *n, uint64_t seed, double alpha)
{
    pp_frame *f = pp_frame_new();
    pp_rng r;
    pp_rng_seed(&r, seed);
    float obs[B * O];
    pp_rng_fill_normal_f32(&r, obs, B * O);
    int64_t so[2] = {B, O};
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, so, obs);
    put_map(f, "policy", "gaussian-tanh", n->pp, n->pol.nparams);
    put_map(f, "q", "twin-mlp", n->qp, n->q.nparams);
    pp_frame_set_f64(f, "alpha", alpha);
    return f;
}

static int read2(pp_frame *f, const char *path, int cols, float *dst)
{
    int64_t s[2] = {B, cols};
    return pp_frame_read_tensor(f, path, PP_F32, cols ? 2 : 1, s, dst, NULL);
}

/* min(Q1, Q2) at (obs, tanh u) for all rows */
static void qmin(nets *n, const float *obs, const float *u, float *out)
{
    float x[B * (O + A)];
    for (int b = 0; b < B; b++) {
        memcpy(x + b * (O + A), obs + b * O, O * sizeof(float));
        for (int j = 0; j < A; j++) x[b * (O + A) + O + j] = tanhf(u[b * A + j]);
    }
    const float *y = pp_mlp_forward(&n->q, n->qp, x, B);
    for (int b = 0; b < B; b++) out[b] = fminf(y[2 * b], y[2 * b + 1]);
}

static void test_particles(void)
{
    nets n;
    make_nets(&n, 1);
    char *argv[] = {"langevin", "--seed", "5", NULL};
    pp_stage *s = fx_stage("langevin", 3, argv);
    pp_frame *f = ring_frame(&n, 2, 0.2);
    CHECK(s && s->ops->step(s, f) == 0, "step");
    float obs[B * O], pobs[B * O], u0[B * A], uK[B * A], q0[B], qK[B], want[B];
    int ok = read2(f, "batch.obs", O, obs) == 0 && read2(f, "particles.obs", O, pobs) == 0 &&
             read2(f, "particles.u0", A, u0) == 0 && read2(f, "particles.uK", A, uK) == 0 &&
             read2(f, "particles.q0", 0, q0) == 0 && read2(f, "particles.qK", 0, qK) == 0;
    CHECK(ok, "particles {obs [%d,%d], u0, uK [%d,%d], q0, qK [%d]}", B, O, B, A, B);
    CHECK(memcmp(obs, pobs, sizeof obs) == 0, "particles.obs is batch.obs");
    /* u0 is the policy's sample from stream 2 of the seed */
    pp_rng root, r;
    pp_rng_seed(&root, 5);
    r = pp_rng_split(&root, 2);
    pp_policy_sample(&n.pol, n.pp, obs, B, &r);
    CHECK(memcmp(u0, n.pol.u, sizeof u0) == 0, "u0 = pp_policy_sample with stream 2 of --seed");
    qmin(&n, obs, u0, want);
    CHECK(memcmp(q0, want, sizeof q0) == 0, "q0 = min(Q1, Q2)(s, tanh u0)");
    qmin(&n, obs, uK, want);
    CHECK(memcmp(qK, want, sizeof qK) == 0, "qK = min(Q1, Q2)(s, tanh uK)");
    double q0m = 0, qKm = 0, gain = 0, steps = 0, norm = 0;
    ok = pp_frame_get_f64(f, "metrics.langevin.q0_mean", &q0m) == 0 &&
         pp_frame_get_f64(f, "metrics.langevin.qK_mean", &qKm) == 0 &&
         pp_frame_get_f64(f, "metrics.langevin.q_gain", &gain) == 0 &&
         pp_frame_get_f64(f, "metrics.langevin.steps", &steps) == 0 &&
         pp_frame_get_f64(f, "metrics.langevin.score_norm", &norm) == 0;
    CHECK(ok && steps == 5 && norm > 0 && fabs(gain - (qKm - q0m)) < 1e-12,
          "metrics.langevin: q0_mean %.4f, qK_mean %.4f, score_norm %.3f", q0m, qKm, norm);
    double moved = 0;
    for (int i = 0; i < B * A; i++) moved = fmax(moved, fabs(uK[i] - u0[i]));
    CHECK(moved > 0 && moved < 0.5, "uK moved from u0 by small steps (max %.4f)", moved);
    pp_frame_free(f);
    pp_stage_free(s);

    /* K = 0 leaves the particles where they start */
    char *argv0[] = {"langevin", "--steps", "0", NULL};
    s = fx_stage("langevin", 3, argv0);
    f = ring_frame(&n, 2, 0.2);
    ok = s && s->ops->step(s, f) == 0 && read2(f, "particles.u0", A, u0) == 0 &&
         read2(f, "particles.uK", A, uK) == 0;
    CHECK(ok && memcmp(u0, uK, sizeof u0) == 0, "--steps 0: uK = u0");
    pp_frame_free(f);
    pp_stage_free(s);
    free_nets(&n);
}

/* Fig. 3b through the stage: over frames the mean Q of the particles rises,
 * more with more steps and a larger step. */
static void test_q_rises(void)
{
    nets n;
    make_nets(&n, 3);
    const char *ks[3] = {"5", "20", "20"}, *es[3] = {"3e-4", "3e-4", "1e-3"};
    double gain[3];
    for (int c = 0; c < 3; c++) {
        char *argv[] = {"langevin", "--steps", (char *)ks[c], "--eps", (char *)es[c], NULL};
        pp_stage *s = fx_stage("langevin", 5, argv);
        gain[c] = 0;
        for (int i = 0; i < 16; i++) {
            pp_frame *f = ring_frame(&n, 100 + i, 0.2);
            double g = 0;
            s->ops->step(s, f);
            pp_frame_get_f64(f, "metrics.langevin.q_gain", &g);
            gain[c] += g / 16;
            pp_frame_free(f);
        }
        pp_stage_free(s);
    }
    printf("# stage, mean q_gain over 16 frames of %d: K=5 eps=3e-4 %.5f, K=20 %.5f, K=20 eps=1e-3 %.5f\n",
           B, gain[0], gain[1], gain[2]);
    CHECK(gain[0] > 0 && gain[1] > gain[0] && gain[2] > gain[1],
          "the particles' Q rises, more with K and eps");
    free_nets(&n);
}

static void test_resume_and_errors(void)
{
    nets n;
    make_nets(&n, 4);
    char *argv[] = {"langevin", "--seed", "11", NULL};
    pp_stage *a = fx_stage("langevin", 3, argv), *b = fx_stage("langevin", 3, argv), *c = fx_stage("langevin", 1, argv);
    pp_frame *fa[3];
    int ok = a && b && c;
    for (int i = 0; i < 3 && ok; i++) ok &= a->ops->step(a, fa[i] = ring_frame(&n, 30 + i, 0.2)) == 0;
    /* b: bad frames first, which must change nothing, then frame 0. alpha 0
     * fails before any draw; a NaN state fails in the score, after u0 and
     * some noise were drawn: the stream must be rewound. */
    pp_frame *bad = ring_frame(&n, 99, 0.0);
    CHECK(b->ops->step(b, bad) == -1 && strstr(pp_error(), "alpha"), "alpha 0 is an error: %s", pp_error());
    pp_frame_free(bad);
    bad = ring_frame(&n, 98, 0.2);
    float *qbad = pp_xalloc_f32(n.q.nparams);
    memcpy(qbad, n.qp, n.q.nparams * sizeof(float));
    qbad[n.q.nparams - 1] = NAN; /* Q2's output bias: qK is NaN, the score is not */
    int64_t sq[1] = {(int64_t)n.q.nparams};
    pp_frame_put_tensor(bad, "q.params", PP_F32, 1, sq, qbad);
    free(qbad);
    CHECK(b->ops->step(b, bad) == -1 && strstr(pp_error(), "not finite"),
          "a NaN critic is an error after the draws: %s", pp_error());
    CHECK(pp_frame_get(bad, "particles") == NULL, "and writes no particles");
    pp_frame *fb = ring_frame(&n, 30, 0.2);
    ok &= b->ops->step(b, fb) == 0;
    pp_frame *ck = pp_frame_new();
    ok &= b->ops->save(b, ck) == 0;
    uint8_t *enc;
    pp_frame *back = fx_through_bytes(ck, &enc);
    ok &= back && c->ops->load(c, back) == 0;
    float x[B * A], y[B * A];
    int same = ok && read2(fb, "particles.uK", A, x) == 0 && read2(fa[0], "particles.uK", A, y) == 0 &&
               memcmp(x, y, sizeof x) == 0;
    CHECK(same, "a failed frame leaves the stream where it was");
    for (int i = 1; i < 3 && same; i++) {
        pp_frame *fc = ring_frame(&n, 30 + i, 0.2);
        same &= c->ops->step(c, fc) == 0 && read2(fc, "particles.uK", A, x) == 0 &&
                read2(fa[i], "particles.uK", A, y) == 0 && memcmp(x, y, sizeof x) == 0;
        pp_frame_free(fc);
    }
    CHECK(same, "resumed from a checkpoint (through bytes), the particles continue bit for bit");

    /* a frame whose critic does not fit the policy */
    pp_frame *mis = ring_frame(&n, 40, 0.2);
    pp_frame_set_i64(mis, "q.obs_dim", O + 1);
    CHECK(a->ops->step(a, mis) == -1 && strstr(pp_error(), "q is for obs"), "mismatched q: %s", pp_error());
    /* a map claiming a huge net is checked against its params tensor before
     * anything is allocated (a fresh stage: nothing built yet) */
    char *fresh_argv[] = {"langevin", NULL};
    pp_stage *fresh = fx_stage("langevin", 1, fresh_argv);
    pp_frame *huge = ring_frame(&n, 41, 0.2);
    pp_frame_set_i64(huge, "policy.hidden", 60000);
    pp_frame_set_i64(huge, "policy.layers", 7);
    CHECK(fresh && fresh->ops->step(fresh, huge) == -1 && strstr(pp_error(), "policy.params has 404 floats, expected 21600840004 for"),
          "a map's sizes must match its params before allocation: %s", pp_error());
    pp_frame_free(huge);
    pp_stage_free(fresh);
    pp_frame *warm = pp_frame_new();
    pp_frame_set_i64(warm, "step", 1);
    CHECK(a->ops->step(a, warm) == 0 && pp_frame_get(warm, "particles") == NULL,
          "a frame without batch passes untouched");
    pp_frame *fs[] = {fa[0], fa[1], fa[2], bad, fb, ck, back, mis, warm};
    for (int i = 0; i < 9; i++) pp_frame_free(fs[i]);
    free(enc);
    pp_stage_free(a);
    pp_stage_free(b);
    pp_stage_free(c);
    free_nets(&n);
}

/* --prior: u0 from pi_beta (stream 2), upi from the current policy. */
static void test_prior(void)
{
    nets n, beta;
    make_nets(&n, 5);
    make_nets(&beta, 6);
    char path[] = "/tmp/parpi-test-prior-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    pp_frame *pf = pp_frame_new();
    put_map(pf, "policy", "gaussian-tanh", beta.pp, beta.pol.nparams);
    CHECK(pp_frame_save_file_atomic(pf, path) == 0, "prior file written");
    char *argv[] = {"langevin", "--prior", path, "--steps", "0", NULL};
    pp_stage *s = fx_stage("langevin", 5, argv);
    pp_frame *f = ring_frame(&n, 7, 0.2);
    float obs[B * O], u0[B * A], upi[B * A];
    int ok = s && s->ops->step(s, f) == 0 && read2(f, "batch.obs", O, obs) == 0 &&
             read2(f, "particles.u0", A, u0) == 0 && read2(f, "particles.upi", A, upi) == 0;
    CHECK(ok, "with --prior the stage writes particles.upi");
    pp_rng root, r;
    pp_rng_seed(&root, 0);
    r = pp_rng_split(&root, 2);
    pp_policy_sample(&beta.pol, beta.pp, obs, B, &r);
    int from_beta = memcmp(u0, beta.pol.u, sizeof u0) == 0;
    pp_policy_sample(&n.pol, n.pp, obs, B, &r);
    CHECK(ok && from_beta && memcmp(upi, n.pol.u, sizeof upi) == 0,
          "u0 ~ pi_beta, then upi ~ the current policy, from stream 2");
    pp_frame_free(f);
    pp_stage_free(s);

    /* the same behaviour policy as a parpi-policy checkpoint (config + params) */
    pp_frame *ck = pp_frame_new();
    const char *k[4] = {"config.obs_dim", "config.act_dim", "config.hidden", "config.layers"};
    int v[4] = {O, A, H, L};
    for (int i = 0; i < 4; i++) pp_frame_set_i64(ck, k[i], v[i]);
    pp_frame_set_str(ck, "config.update", "parpi");
    int64_t np[1] = {(int64_t)beta.pol.nparams};
    pp_frame_put_tensor(ck, "params", PP_F32, 1, np, beta.pp);
    CHECK(pp_checkpoint_save(ck, "policy", path) == 0, "policy checkpoint written");
    s = fx_stage("langevin", 5, argv);
    f = ring_frame(&n, 7, 0.2);
    float u0c[B * A];
    ok = s && s->ops->step(s, f) == 0 && read2(f, "particles.u0", A, u0c) == 0;
    CHECK(ok && memcmp(u0, u0c, sizeof u0) == 0, "--prior reads a parpi-policy checkpoint too");
    pp_frame_set_str(ck, "config.update", "svgd");
    pp_checkpoint_save(ck, "policy", path);
    pp_stage *t = NULL;
    CHECK(pp_stage_create("langevin", 5, argv, &t) == -1 && strstr(pp_error(), "implicit"),
          "an implicit (svgd) policy is refused as a prior: %s", pp_error());
    pp_frame_free(ck);

    char *bad[] = {"langevin", "--prior", "/nonexistent/prior.ckpt", NULL};
    CHECK(pp_stage_create("langevin", 3, bad, &t) == -1 && strstr(pp_error(), "/nonexistent/prior.ckpt"),
          "an unreadable prior is named: %s", pp_error());
    unlink(path);
    pp_frame_free(pf);
    pp_frame_free(f);
    pp_stage_free(s);
    free_nets(&n);
    free_nets(&beta);
}

/* The resume rule of the option table: the checkpoint's tunables unless given
 * again; a --max-batch taken from the checkpoint reopens the prior for it. */
static void test_resume_options(void)
{
    nets n, beta;
    make_nets(&n, 8);
    make_nets(&beta, 9);
    char path[] = "/tmp/parpi-test-prior-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    pp_frame *pf = pp_frame_new();
    put_map(pf, "policy", "gaussian-tanh", beta.pp, beta.pol.nparams);
    pp_frame_save_file_atomic(pf, path);
    char *argv_a[] = {"langevin", "--prior", path, "--steps", "2", "--eps", "1e-3", "--max-batch", "64",
                      "--seed", "3", NULL};
    char *argv_b[] = {"langevin", "--prior", path, NULL};
    char *argv_c[] = {"langevin", "--prior", path, "--steps", "0", NULL};
    pp_stage *a = fx_stage("langevin", 11, argv_a), *b = fx_stage("langevin", 3, argv_b), *c = fx_stage("langevin", 5, argv_c);
    pp_frame *fa = ring_frame(&n, 50, 0.2), *fb = ring_frame(&n, 51, 0.2), *fc = ring_frame(&n, 51, 0.2);
    pp_frame *ck = pp_frame_new();
    int ok = a && b && c && a->ops->step(a, fa) == 0 && a->ops->save(a, ck) == 0 &&
             b->ops->load(b, ck) == 0 && c->ops->load(c, ck) == 0;
    pp_frame_free(fa);
    fa = ring_frame(&n, 51, 0.2);
    ok = ok && a->ops->step(a, fa) == 0 && b->ops->step(b, fb) == 0 && c->ops->step(c, fc) == 0;
    float x[B * A], y[B * A];
    double steps = -1, eps = 0;
    CHECK(ok && read2(fa, "particles.uK", A, x) == 0 && read2(fb, "particles.uK", A, y) == 0 &&
              memcmp(x, y, sizeof x) == 0 && pp_frame_get_f64(fb, "metrics.langevin.steps", &steps) == 0 &&
              pp_frame_get_f64(fb, "metrics.langevin.eps", &eps) == 0 && steps == 2 && eps == 1e-3f,
          "resumed without options: the checkpoint's steps, eps and max-batch (64 rows through "
          "the reopened prior), the same particles");
    CHECK(ok && pp_frame_get_f64(fc, "metrics.langevin.steps", &steps) == 0 && steps == 0 &&
              pp_frame_get_f64(fc, "metrics.langevin.eps", &eps) == 0 && eps == 1e-3f,
          "a tunable given again wins (--steps 0), the others are the checkpoint's");
    unlink(path);
    pp_frame *fs[] = {pf, fa, fb, fc, ck};
    for (int i = 0; i < 5; i++) pp_frame_free(fs[i]);
    pp_stage_free(a);
    pp_stage_free(b);
    pp_stage_free(c);
    free_nets(&n);
    free_nets(&beta);
}

int main(void)
{
    pp_stage *probe = NULL;
    char *none[] = {"langevin", NULL};
    if (pp_stage_create("langevin", 1, none, &probe) != 0) {
        CHECK(0, "the langevin stage is built: %s", pp_error());
        return check_done();
    }
    pp_stage_free(probe);
    test_particles();
    test_q_rises();
    test_resume_and_errors();
    test_prior();
    test_resume_options();
    return check_done();
}
