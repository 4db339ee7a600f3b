/* The discrim stage on frames: the disc map it writes, resuming from a
 * checkpoint bit for bit (params, Adam, spectral vectors, RNG), a NaN frame
 * that changes nothing, warm-up pass-through and the missing-particles error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rl/discrim.h"
#include "base/err.h"
#include "frame/frame.h"
#include "stage/stage.h"
#include "fixtures.h"


enum { O = 3, A = 2, B = 32 };

/* A frame with batch.obs and particles {obs, u0, uK, q0, qK}; uK shifted so
 * the two sides differ. */
static pp_frame *particle_frame(uint64_t seed, int poison)
{
    pp_frame *f = pp_frame_new();
    pp_rng r;
    pp_rng_seed(&r, seed);
    float obs[B * O], u0[B * A], uK[B * A], q[B] = {0};
    pp_rng_fill_normal_f32(&r, obs, B * O);
    pp_rng_fill_normal_f32(&r, u0, B * A);
    for (int i = 0; i < B * A; i++) uK[i] = u0[i] + 0.7f;
    if (poison) uK[5] = NAN;
    int64_t so[2] = {B, O}, sa[2] = {B, A}, sb[1] = {B};
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, so, obs);
    pp_frame_put_tensor(f, "particles.obs", PP_F32, 2, so, obs);
    pp_frame_put_tensor(f, "particles.u0", PP_F32, 2, sa, u0);
    pp_frame_put_tensor(f, "particles.uK", PP_F32, 2, sa, uK);
    pp_frame_put_tensor(f, "particles.q0", PP_F32, 1, sb, q);
    pp_frame_put_tensor(f, "particles.qK", PP_F32, 1, sb, q);
    return f;
}

/* Copy of the disc.<name> f32 tensor of f (n floats), or NULL. */
static float *get_f32(pp_frame *f, const char *path, size_t *n)
{
    pp_dtype dt;
    int nd;
    int64_t shape[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, path, &dt, &nd, shape) != 0 || nd != 1 || dt != PP_F32) return NULL;
    *n = (size_t)shape[0];
    float *x = malloc(*n * sizeof *x + 1);
    pp_frame_read_tensor(f, path, PP_F32, 1, shape, x, NULL);
    return x;
}

static int same_f32(pp_frame *a, pp_frame *b, const char *path)
{
    size_t na, nb;
    float *x = get_f32(a, path, &na), *y = get_f32(b, path, &nb);
    int same = x && y && na == nb && memcmp(x, y, na * sizeof *x) == 0;
    free(x);
    free(y);
    return same;
}

/* Save a stage into a checkpoint frame, through bytes (as a file would). */
static pp_frame *roundtrip_ckpt(pp_stage *s, uint8_t **buf)
{
    pp_frame *ck = pp_frame_new();
    pp_frame *back = s->ops->save(s, ck) == 0 ? fx_through_bytes(ck, buf) : NULL;
    pp_frame_free(ck);
    return back;
}

static void test_disc_map(void)
{
    char *argv[] = {"discrim", "--hidden", "16", "--divergence", "hinge", NULL};
    pp_stage *s = fx_stage("discrim", 5, argv);
    pp_frame *f = particle_frame(1, 0);
    CHECK(s && s->ops->step(s, f) == 0, "hinge/sn step");
    const char *str;
    size_t len;
    int64_t v;
    double gap, fp, fq;
    CHECK(pp_frame_get_str(f, "disc.divergence", &str, &len) == 0 && len == 5 &&
              memcmp(str, "hinge", 5) == 0,
          "disc.divergence is hinge");
    CHECK(pp_frame_get_i64(f, "disc.obs_dim", &v) == 0 && v == O &&
              pp_frame_get_i64(f, "disc.act_dim", &v) == 0 && v == A &&
              pp_frame_get_i64(f, "disc.hidden", &v) == 0 && v == 16 &&
              pp_frame_get_i64(f, "disc.layers", &v) == 0 && v == 2,
          "disc dims");
    size_t np = 0, ns = 0;
    float *p = get_f32(f, "disc.params", &np), *sn = get_f32(f, "disc.sn", &ns);
    size_t want_np = (O + A) * 16 + 16 + 16 * 16 + 16 + 16 + 1, want_ns = 16 + 5 + 16 + 16 + 1 + 16;
    CHECK(p && np == want_np && sn && ns == want_ns, "disc.params [%zu] and disc.sn [%zu] (want %zu, %zu)",
          np, ns, want_np, want_ns);
    CHECK(pp_frame_get_f64(f, "metrics.discrim.gap", &gap) == 0 &&
              pp_frame_get_f64(f, "metrics.discrim.f_p_mean", &fp) == 0 &&
              pp_frame_get_f64(f, "metrics.discrim.f_pi_mean", &fq) == 0 && fabs(gap - (fp - fq)) < 1e-9,
          "metrics.discrim.gap = f_p_mean - f_pi_mean");
    CHECK(pp_frame_get(f, "particles.uK") != NULL && pp_frame_get(f, "batch.obs") != NULL,
          "other fields pass through");
    free(p);
    free(sn);
    pp_frame_free(f);
    pp_stage_free(s);
}

/* What the policy stage does with a spectral disc map (pp_mlp_sn_set with
 * the map's sn and params, then a forward without a power step) gives
 * exactly the discriminator's own f after its update. */
static void test_reader_matches(void)
{
    pp_discrim d;
    pp_rng r;
    pp_rng_seed(&r, 3);
    pp_discrim_init(&d, PP_DIV_WD, PP_LIP_SN, O + A, 16, 2, B, 1e-3f, 10.0f, &r);
    float x[2 * B * (O + A)], f_own[2 * B], sn[256];
    pp_rng_fill_normal_f32(&r, x, 2 * B * (O + A));
    for (int k = 0; k < 3; k++) pp_discrim_update(&d, x, x + B * (O + A), B, &r, NULL);
    pp_discrim_eval(&d, x, 2 * B, f_own);
    pp_mlp_sn_get(&d.net, sn);
    pp_mlp m;
    int hid[2] = {16, 16};
    pp_mlp_init(&m, O + A, 2, hid, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR, 1, 2 * B);
    pp_mlp_sn_set(&m, sn, d.params);
    const float *f_reader = pp_mlp_forward(&m, d.params, x, 2 * B);
    CHECK(d.net.sn_state_floats <= 256 && memcmp(f_reader, f_own, sizeof f_own) == 0,
          "a reader of the disc map (sn_set + forward) computes the discriminator's f bit for bit");
    pp_mlp_free(&m);
    pp_discrim_free(&d);
}


/* A runs frames 1..4; B runs 1..2, is saved, and C resumes from that
 * checkpoint for 3..4: C's disc maps equal A's, bit for bit. */
static void test_resume(const char *lip, const char *div)
{
    char *argv[] = {"discrim", "--hidden", "16", "--lipschitz", (char *)lip, "--divergence",
                    (char *)div, "--seed", "9", NULL};
    pp_stage *a = fx_stage("discrim", 9, argv), *b = fx_stage("discrim", 9, argv);
    char *argv_c[] = {"discrim", NULL};
    pp_stage *c = fx_stage("discrim", 1, argv_c);
    pp_frame *fa[4], *fb[2], *fc[2];
    int ok = a && b && c;
    for (int i = 0; i < 4 && ok; i++) ok &= a->ops->step(a, fa[i] = particle_frame(10 + i, 0)) == 0;
    for (int i = 0; i < 2 && ok; i++) ok &= b->ops->step(b, fb[i] = particle_frame(10 + i, 0)) == 0;
    uint8_t *buf = NULL;
    pp_frame *ck = ok ? roundtrip_ckpt(b, &buf) : NULL;
    ok &= ck && c->ops->load(c, ck) == 0;
    if (!ok) printf("# %s\n", pp_error());
    for (int i = 0; i < 2 && ok; i++) ok &= c->ops->step(c, fc[i] = particle_frame(12 + i, 0)) == 0;
    int same = ok;
    for (int i = 0; i < 2 && same; i++) {
        same &= same_f32(fa[2 + i], fc[i], "disc.params");
        if (strcmp(lip, "sn") == 0) same &= same_f32(fa[2 + i], fc[i], "disc.sn");
    }
    double la, lc;
    same &= pp_frame_get_f64(fa[3], "metrics.discrim.loss", &la) == 0 &&
            pp_frame_get_f64(fc[1], "metrics.discrim.loss", &lc) == 0 && la == lc;
    CHECK(same, "%s/%s: resumed from a checkpoint, the next frames' disc maps are bit-identical", div, lip);
    for (int i = 0; i < 4 && ok; i++) pp_frame_free(fa[i]);
    for (int i = 0; i < 2 && ok; i++) pp_frame_free(fb[i]), pp_frame_free(fc[i]);
    pp_frame_free(ck);
    free(buf);
    pp_stage_free(a);
    pp_stage_free(b);
    pp_stage_free(c);
}

/* A NaN in the particles is refused by name, and the state is as before:
 * the next good frame gives exactly what it gives without the bad one. */
static void test_nan_frame(void)
{
    char *argv[] = {"discrim", "--hidden", "16", "--lipschitz", "gp", "--updates", "3", NULL};
    pp_stage *a = fx_stage("discrim", 7, argv), *b = fx_stage("discrim", 7, argv);
    pp_frame *a1 = particle_frame(20, 0), *bad = particle_frame(21, 1), *a2 = particle_frame(22, 0);
    pp_frame *b1 = particle_frame(20, 0), *b2 = particle_frame(22, 0);
    int ok = a && b && a->ops->step(a, a1) == 0 && b->ops->step(b, b1) == 0;
    int rc = a->ops->step(a, bad);
    CHECK(rc == -1 && strstr(pp_error(), "particles.uK[2][1] is not finite"),
          "a NaN particle fails the step, named: %s", pp_error());
    CHECK(pp_frame_get(bad, "disc") == NULL, "and writes no disc map");
    ok &= a->ops->step(a, a2) == 0 && b->ops->step(b, b2) == 0;
    CHECK(ok && same_f32(a2, b2, "disc.params"),
          "after the failed frame the stage is exactly as before it (params, Adam, rng)");
    pp_frame *fs[] = {a1, bad, a2, b1, b2};
    for (int i = 0; i < 5; i++) pp_frame_free(fs[i]);
    pp_stage_free(a);
    pp_stage_free(b);
}

static uint8_t *ckpt_bytes(pp_stage *s, size_t *len)
{
    pp_frame *ck = pp_frame_new();
    uint8_t *buf = NULL;
    size_t cap = 0;
    *len = 0;
    if (s->ops->save(s, ck) != 0 || pp_frame_encode(ck, &buf, &cap, len) != 0) *len = 0;
    pp_frame_free(ck);
    return buf;
}

/* Divergence inside a frame. --lr is at most 1, so the weights cannot be sent
 * to overflow by the rate; instead the checkpoint s resumes holds an Adam
 * first moment near FLT_MAX (finite, so it loads): the first update's loss is
 * finite, its step sends the weights to infinity, and the second update's
 * loss overflows. With --updates 3 the frame fails at update 2 and the stage
 * is rolled back to before the frame (the checkpoint bytes are identical). */
static void test_divergence_mid_frame(const char *lip)
{
    char *argv[] = {"discrim", "--hidden", "16", "--lr", "1", "--updates", "3",
                    "--lipschitz", (char *)lip, NULL};
    pp_stage *s = fx_stage("discrim", 9, argv);
    pp_frame *f = particle_frame(30, 0);
    size_t n0 = 0, n1 = 0;
    /* build the net first with a frame of one good update */
    char *argv1[] = {"discrim", "--hidden", "16", "--lipschitz", (char *)lip, NULL};
    pp_stage *t = fx_stage("discrim", 5, argv1);
    pp_frame *g = particle_frame(31, 0);
    int ok = s && t && t->ops->step(t, g) == 0;
    /* s: resume t's state, with the huge first moment, so it is built; then a
     * frame that diverges */
    size_t nt = 0, nm = 0;
    uint8_t *bt = ok ? ckpt_bytes(t, &nt) : NULL;
    pp_frame *ck = pp_frame_new();
    ok = ok && bt && pp_frame_decode(ck, bt, nt, 0) == 0;
    float *m = ok ? get_f32(ck, "adam.m", &nm) : NULL;
    for (size_t i = 0; m && i < nm; i++) m[i] = 3e38f;
    int64_t shape[1] = {(int64_t)nm};
    ok = ok && m && pp_frame_put_tensor(ck, "adam.m", PP_F32, 1, shape, m) == 0 &&
         s->ops->load(s, ck) == 0;
    free(m);
    if (!ok) {
        CHECK(0, "%s: the diverging stage is set up: %s", lip, pp_error());
        free(bt);
        pp_frame_free(ck);
        pp_frame_free(f);
        pp_frame_free(g);
        pp_stage_free(s);
        pp_stage_free(t);
        return;
    }
    uint8_t *before = ckpt_bytes(s, &n0);
    int rc = s->ops->step(s, f);
    uint8_t *after = ckpt_bytes(s, &n1);
    CHECK(ok && rc == -1 && strstr(pp_error(), "update 2 of this frame") && strstr(pp_error(), "not finite"),
          "%s: the first update sends the weights to infinity, the second fails: %s", lip,
          pp_error());
    CHECK(n0 > 0 && n0 == n1 && memcmp(before, after, n0) == 0,
          "%s: the stage is rolled back to before the frame (checkpoint bytes identical)", lip);
    free(before);
    free(after);
    free(bt);
    pp_frame_free(ck);
    pp_frame_free(f);
    pp_frame_free(g);
    pp_stage_free(s);
    pp_stage_free(t);
}

static void test_pass_and_missing(void)
{
    char *argv[] = {"discrim", NULL};
    pp_stage *s = fx_stage("discrim", 1, argv);
    pp_frame *f = pp_frame_new();
    pp_frame_set_i64(f, "step", 3);
    CHECK(s && s->ops->step(s, f) == 0 && pp_frame_get(f, "disc") == NULL,
          "a frame without batch or particles passes untouched");
    float obs[O] = {0};
    int64_t so[2] = {1, O};
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, so, obs);
    CHECK(s->ops->step(s, f) == -1 && strstr(pp_error(), "missing field particles"),
          "a batch without particles is an error: %s", pp_error());
    pp_frame_free(f);
    pp_stage_free(s);
}

static void test_options(void)
{
    pp_stage *s = NULL;
    char *a1[] = {"discrim", "--divergence", "kl", NULL};
    CHECK(pp_stage_create("discrim", 3, a1, &s) == -1 && strstr(pp_error(), "jsd, wd, hinge, rkl"),
          "bad divergence: %s", pp_error());
    char *a2[] = {"discrim", "--frobnicate", NULL};
    CHECK(pp_stage_create("discrim", 2, a2, &s) == -1 && strstr(pp_error(), "--frobnicate"),
          "unknown option named: %s", pp_error());
    char *a3[] = {"discrim", "--divergence", "wd", "--lipschitz", "none", NULL};
    CHECK(pp_stage_create("discrim", 5, a3, &s) == -1, "wd without Lipschitz refused: %s", pp_error());
    char *a4[] = {"discrim", "--divergence", "jsd", "--obs-dim", "3", "--act-dim", "2", NULL};
    CHECK(pp_stage_create("discrim", 7, a4, &s) == 0, "jsd built at create from --obs-dim/--act-dim");
    pp_stage_free(s);
}

/* Resuming: a network built at create from --obs-dim/--act-dim takes the
 * architecture of an unbuilt checkpoint (options not given); a tunable given
 * on the command line wins over the checkpoint's, the others are its. */
static void test_resume_options(void)
{
    char *argv_a[] = {"discrim", "--divergence", "jsd", "--hidden", "16", "--lr", "1e-3", "--seed", "5", NULL};
    char *argv_b[] = {"discrim", "--obs-dim", "3", "--act-dim", "2", NULL};
    char *argv_c[] = {"discrim", "--updates", "2", NULL};
    pp_stage *a = fx_stage("discrim", 9, argv_a), *saved = fx_stage("discrim", 9, argv_a), *b = fx_stage("discrim", 5, argv_b), *c = fx_stage("discrim", 3, argv_c);
    uint8_t *buf = NULL;
    pp_frame *ck = saved ? roundtrip_ckpt(saved, &buf) : NULL;
    int ok = a && b && c && ck && b->ops->load(b, ck) == 0 && c->ops->load(c, ck) == 0;
    if (!ok) printf("# %s\n", pp_error());
    pp_frame *fa = particle_frame(40, 0), *fb = particle_frame(40, 0), *fc = particle_frame(40, 0);
    ok = ok && a->ops->step(a, fa) == 0 && b->ops->step(b, fb) == 0 && c->ops->step(c, fc) == 0;
    const char *str;
    size_t len;
    int64_t hidden = 0;
    double upd = 0;
    CHECK(ok && pp_frame_get_str(fb, "disc.divergence", &str, &len) == 0 && len == 3 &&
              memcmp(str, "jsd", 3) == 0 && pp_frame_get_i64(fb, "disc.hidden", &hidden) == 0 &&
              hidden == 16 && same_f32(fa, fb, "disc.params"),
          "built at create, resumed from an unbuilt jsd/16 checkpoint: rebuilt as jsd/16 (params as a "
          "fresh jsd/16 stage's)");
    CHECK(ok && pp_frame_get_f64(fc, "metrics.discrim.updates", &upd) == 0 && upd == 2,
          "--updates given on resume wins over the checkpoint's 1");
    pp_frame *fs[] = {ck, fa, fb, fc};
    for (int i = 0; i < 4; i++) pp_frame_free(fs[i]);
    free(buf);
    pp_stage *ss[] = {a, saved, b, c};
    for (int i = 0; i < 4; i++) pp_stage_free(ss[i]);
}

int main(void)
{
    pp_stage *probe = NULL;
    char *none[] = {"discrim", NULL};
    if (pp_stage_create("discrim", 1, none, &probe) != 0) {
        CHECK(0, "the discrim stage is built: %s", pp_error());
        return check_done();
    }
    pp_stage_free(probe);
    test_disc_map();
    test_reader_matches();
    test_resume("sn", "wd");
    test_resume("gp", "wd");
    test_resume("none", "jsd");
    test_nan_frame();
    test_divergence_mid_frame("sn");
    test_divergence_mid_frame("gp");
    test_pass_and_missing();
    test_options();
    test_resume_options();
    return check_done();
}
