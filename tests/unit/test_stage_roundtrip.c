/* test_stage_roundtrip.c - save -> load -> step gives bit-identical params to
 * an uninterrupted run (critic and policy stages, every update kind), plus the
 * policy stage's frame contract: --prime, warm-up frames, NaN, missing fields. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "frame/frame.h"
#include "nn/mlp.h"
#include "nn/netmap.h"
#include "rl/policy.h"
#include "base/rng.h"
#include "stage/stage.h"
#include "fixtures.h"

extern const pp_stage_ops pp_stage_critic, pp_stage_policy;

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)

enum { O = 4, A = 2, B = 8, NFRAMES = 4, CUT = 2 };

/* A frame with a batch, a policy, alpha, a q map, a disc map (spectral or
 * not) and a KL dual map (BRAC's c, plain like disc). */
typedef struct {
    pp_policy pi;
    float *pi_params;
    pp_mlp q, disc, dual;
    float *q_params, *disc_params, *sn, *dual_params;
} world;

static void world_init(world *w, int spectral)
{
    pp_rng r;
    pp_rng_seed(&r, 5);
    w->pi_params = fx_policy(&w->pi, O, A, 16, 2, B, &r);
    w->q_params = fx_twin_q(&w->q, O + A, 16, 2, B, &r);
    int wq[2] = {16, 16};
    pp_mlp_init(&w->disc, O + A, 2, wq, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR, spectral, B);
    w->disc_params = pp_xalloc_f32(w->disc.nparams);
    pp_mlp_init_params(&w->disc, w->disc_params, &r);
    pp_mlp_init(&w->dual, O + A, 2, wq, 1, 1, PP_ACT_RELU, PP_ACT_LINEAR, 0, B);
    w->dual_params = pp_xalloc_f32(w->dual.nparams);
    pp_mlp_init_params(&w->dual, w->dual_params, &r);
    w->sn = NULL;
    if (spectral) {
        pp_mlp_sn_update(&w->disc, w->disc_params);
        w->sn = pp_xalloc_f32(w->disc.sn_state_floats);
        pp_mlp_sn_get(&w->disc, w->sn);
    }
}

static void world_free(world *w)
{
    pp_policy_free(&w->pi);
    pp_mlp_free(&w->q);
    pp_mlp_free(&w->disc);
    pp_mlp_free(&w->dual);
    free(w->dual_params);
    free(w->pi_params);
    free(w->q_params);
    free(w->disc_params);
    free(w->sn);
}

static void build_frame(pp_frame *f, const world *w, int i, const char *divergence)
{
    pp_rng r;
    pp_rng_seed(&r, 1000 + i);
    float obs[B * O], act[B * A], rew[B], nobs[B * O], done[B];
    for (int k = 0; k < B * O; k++) obs[k] = (float)pp_rng_normal(&r);
    for (int k = 0; k < B * O; k++) nobs[k] = (float)pp_rng_normal(&r);
    for (int k = 0; k < B * A; k++) act[k] = (float)(2 * pp_rng_uniform(&r) - 1);
    for (int k = 0; k < B; k++) rew[k] = (float)pp_rng_normal(&r);
    for (int k = 0; k < B; k++) done[k] = (float)(pp_rng_uniform(&r) < 0.2);
    int64_t so[2] = {B, O}, sa[2] = {B, A}, s1[1] = {B};
    pp_frame_clear(f);
    pp_frame_set_i64(f, "step", 100 + i);
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, so, obs);
    pp_frame_put_tensor(f, "batch.act", PP_F32, 2, sa, act);
    pp_frame_put_tensor(f, "batch.rew", PP_F32, 1, s1, rew);
    pp_frame_put_tensor(f, "batch.next_obs", PP_F32, 2, so, nobs);
    pp_frame_put_tensor(f, "batch.done", PP_F32, 1, s1, done);
    pp_netmap pm = {.arch = "gaussian-tanh", .obs_dim = O, .act_dim = A, .hidden = 16, .layers = 2};
    pp_netmap_write(f, "policy", &pm, w->pi_params, w->pi.nparams);
    pp_frame_set_f64(f, "alpha", 0.2);
    pp_netmap qm = {.arch = "twin-mlp", .obs_dim = O, .act_dim = A, .hidden = 16, .layers = 2};
    pp_netmap_write(f, "q", &qm, w->q_params, w->q.nparams);
    pp_netmap dm = {.obs_dim = O, .act_dim = A, .hidden = 16, .layers = 2};
    pp_netmap_write(f, "disc", &dm, w->disc_params, w->disc.nparams);
    pp_frame_set_str(f, "disc.divergence", divergence);
    pp_frame_set_bool(f, "disc.spectral", w->sn != NULL);
    if (w->sn) {
        int64_t sh[1] = {(int64_t)w->disc.sn_state_floats};
        pp_frame_put_tensor(f, "disc.sn", PP_F32, 1, sh, w->sn);
    }
    pp_netmap cm = {.obs_dim = O, .act_dim = A, .hidden = 16, .layers = 2};
    pp_netmap_write(f, "dual", &cm, w->dual_params, w->dual.nparams);
    pp_frame_set_str(f, "dual.divergence", "kl");
}

/* Copy of a tensor field as bytes (NULL if absent). */
static void *grab(pp_frame *f, const char *path, size_t *nbytes)
{
    pp_dtype dt;
    int nd;
    int64_t sh[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, path, &dt, &nd, sh) != 0) return NULL;
    *nbytes = (size_t)pp_shape_numel(nd, sh) * pp_dtype_size(dt);
    void *buf = malloc(*nbytes ? *nbytes : 1);
    pp_frame_read_tensor(f, path, dt, nd, sh, buf, NULL);
    return buf;
}

static void roundtrip(const pp_stage_ops *ops, int argc, char **argv, int argc2, char **argv2,
                      const char *field, const char *divergence, int spectral, const char *name)
{
    world w;
    world_init(&w, spectral);
    pp_frame *f = pp_frame_new();
    pp_stage *s1 = NULL, *s2 = NULL;
    if (ops->create(argc, argv, &s1) != 0) {
        CHECK(0, "%s: create: %s", name, pp_error());
        return;
    }
    /* uninterrupted */
    int ok = 1;
    double alpha1 = 0, alpha2 = 0;
    for (int i = 0; i < NFRAMES; i++) {
        build_frame(f, &w, i, divergence);
        if (ops->step(s1, f) != 0) {
            ok = 0;
            printf("# %s step %d: %s\n", name, i, pp_error());
        }
    }
    size_t n1 = 0, n2 = 0;
    void *p1 = grab(f, field, &n1);
    pp_frame_get_f64(f, "alpha", &alpha1);
    CHECK(ok && p1, "%s: uninterrupted run of %d frames", name, NFRAMES);

    /* interrupted after CUT frames */
    pp_stage *sa = NULL;
    ops->create(argc, argv, &sa);
    for (int i = 0; i < CUT; i++) {
        build_frame(f, &w, i, divergence);
        ops->step(sa, f);
    }
    pp_frame *ck = pp_frame_new();
    CHECK(ops->save(sa, ck) == 0, "%s: save", name);
    pp_stage_free(sa);
    uint8_t *keep;
    pp_frame *ck2 = fx_through_bytes(ck, &keep);
    CHECK(ops->create(argc2, argv2, &s2) == 0 && ck2 && ops->load(s2, ck2) == 0, "%s: create + load %s",
          name, pp_error());
    for (int i = CUT; i < NFRAMES; i++) {
        build_frame(f, &w, i, divergence);
        if (ops->step(s2, f) != 0) printf("# %s resumed step %d: %s\n", name, i, pp_error());
    }
    void *p2 = grab(f, field, &n2);
    pp_frame_get_f64(f, "alpha", &alpha2);
    CHECK(p1 && p2 && n1 == n2 && memcmp(p1, p2, n1) == 0,
          "%s: save -> load -> step is bit-identical to the uninterrupted run (%zu bytes)", name,
          n1);
    CHECK(alpha1 == alpha2, "%s: alpha identical too (%.9g)", name, alpha1);
    free(p1);
    free(p2);
    free(keep);
    pp_frame_free(ck);
    pp_frame_free(ck2);
    pp_frame_free(f);
    pp_stage_free(s1);
    pp_stage_free(s2);
    world_free(&w);
}

static void test_roundtrips(void)
{
    char *c_sac[] = {"critic", "--obs-dim", "4", "--act-dim", "2", "--hidden", "16", "--layers",
                     "2", "--max-batch", "8", "--seed", "3", NULL};
    /* resumed without dims: the checkpoint sizes it */
    char *c_sac2[] = {"critic", "--hidden", "16", "--layers", "2", "--max-batch", "8", NULL};
    roundtrip(&pp_stage_critic, ARGC(c_sac), c_sac, ARGC(c_sac2), c_sac2, "q.params", "jsd", 0, "critic sac");
    char *c_sql[] = {"critic", "--target", "sql", "--hidden", "16", "--layers", "2",
                     "--max-batch", "8", "--seed", "3", "--value-particles", "8", NULL};
    roundtrip(&pp_stage_critic, ARGC(c_sql), c_sql, ARGC(c_sql), c_sql, "q.params", "jsd", 0, "critic sql");

    char *p_jsd[] = {"policy", "--obs-dim", "4", "--act-dim", "2", "--hidden", "16",
                     "--max-batch", "8", "--seed", "9", NULL};
    char *p_jsd2[] = {"policy", "--hidden", "16", "--max-batch", "8", NULL};
    roundtrip(&pp_stage_policy, ARGC(p_jsd), p_jsd, ARGC(p_jsd2), p_jsd2, "policy.params", "jsd", 0,
              "policy parpi jsd");
    roundtrip(&pp_stage_policy, ARGC(p_jsd), p_jsd, ARGC(p_jsd), p_jsd, "policy.params", "wd", 1,
              "policy parpi wd (spectral disc)");
    char *p_sac[] = {"policy", "--update", "sac", "--hidden", "16", "--max-batch", "8",
                     "--seed", "9", NULL};
    roundtrip(&pp_stage_policy, ARGC(p_sac), p_sac, ARGC(p_sac), p_sac, "policy.params", "jsd", 0, "policy sac");
    char *p_fix[] = {"policy", "--update", "sac", "--alpha", "0.05", "--hidden", "16",
                     "--max-batch", "8", NULL};
    roundtrip(&pp_stage_policy, ARGC(p_fix), p_fix, ARGC(p_fix), p_fix, "policy.params", "jsd", 0,
              "policy sac fixed alpha");
    char *p_svgd[] = {"policy", "--update", "svgd", "--svgd-particles", "8", "--hidden", "16",
                      "--max-batch", "8", "--seed", "9", NULL};
    roundtrip(&pp_stage_policy, ARGC(p_svgd), p_svgd, ARGC(p_svgd), p_svgd, "policy.params", "jsd", 0,
              "policy svgd");
    char *p_bc[] = {"policy", "--update", "bc", "--hidden", "16", "--max-batch", "8", NULL};
    roundtrip(&pp_stage_policy, ARGC(p_bc), p_bc, ARGC(p_bc), p_bc, "policy.params", "jsd", 0,
              "policy bc");
    char *p_brac[] = {"policy", "--update", "brac", "--penalty", "0.5", "--hidden", "16",
                      "--max-batch", "8", "--seed", "9", NULL};
    roundtrip(&pp_stage_policy, ARGC(p_brac), p_brac, ARGC(p_brac), p_brac, "policy.params", "jsd",
              0, "policy brac");
    char *p_brac0[] = {"policy", "--update", "brac", "--alpha", "0", "--hidden", "16",
                       "--max-batch", "8", "--seed", "9", NULL};
    /* resumed without --alpha: the checkpoint's fixed 0 */
    char *p_brac02[] = {"policy", "--update", "brac", "--hidden", "16", "--max-batch", "8", NULL};
    roundtrip(&pp_stage_policy, ARGC(p_brac0), p_brac0, ARGC(p_brac02), p_brac02, "policy.params",
              "jsd", 0, "policy brac --alpha 0");
    /* the warm start ends after the cut: the resumed stage takes it from the checkpoint */
    char *p_warm[] = {"policy", "--update", "sac", "--warm-start", "3", "--hidden", "16",
                      "--max-batch", "8", "--seed", "9", NULL};
    char *p_warm2[] = {"policy", "--update", "sac", "--hidden", "16", "--max-batch", "8", NULL};
    roundtrip(&pp_stage_policy, ARGC(p_warm), p_warm, ARGC(p_warm2), p_warm2, "policy.params",
              "jsd", 0, "policy sac --warm-start 3");
}

/* The offline updates: bc needs the batch alone, brac names the missing
 * dual and its stage, the warm start's steps are bc steps, alpha 0. */
static void test_policy_offline(void)
{
    world w;
    world_init(&w, 0);
    pp_frame *f = pp_frame_new();
    pp_stage *s = NULL;
    double v = NAN;

    char *bc[] = {"policy", "--update", "bc", "--hidden", "16", "--max-batch", "8", NULL};
    pp_stage_policy.create(ARGC(bc), bc, &s);
    build_frame(f, &w, 0, "jsd");
    pp_frame_remove(f, "q");
    pp_frame_remove(f, "disc");
    pp_frame_remove(f, "dual");
    CHECK(pp_stage_policy.step(s, f) == 0, "bc: a frame with the batch alone");
    int got = pp_frame_get_f64(f, "metrics.policy.bc_logp", &v) == 0;
    CHECK(got && isfinite(v) &&
              !pp_frame_get(f, "metrics.policy.alpha_loss"),
          "bc: metrics.policy.bc_logp (%.4f), no temperature step", v);
    pp_stage_free(s);

    char *brac[] = {"policy", "--update", "brac", "--hidden", "16", "--max-batch", "8", NULL};
    pp_stage_policy.create(ARGC(brac), brac, &s);
    build_frame(f, &w, 0, "jsd");
    pp_frame_remove(f, "dual");
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "missing field dual") &&
              strstr(pp_error(), "parpi-dual"),
          "brac: missing dual named with its stage: %s", pp_error());
    build_frame(f, &w, 0, "jsd");
    pp_frame_set_str(f, "dual.divergence", "jsd");
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "dual.divergence"),
          "brac: a dual of another divergence refused: %s", pp_error());
    build_frame(f, &w, 0, "jsd");
    pp_frame_set_str(f, "dual.arch", "twin-mlp");
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "dual.arch"),
          "brac: a dual map with an arch refused: %s", pp_error());
    build_frame(f, &w, 0, "jsd");
    CHECK(pp_stage_policy.step(s, f) == 0, "brac step");
    double q = NAN, d = NAN;
    pp_frame_get_f64(f, "metrics.policy.q_mean", &q);
    pp_frame_get_f64(f, "metrics.policy.dual_term", &d);
    CHECK(isfinite(q) && isfinite(d), "brac: metrics q_mean %.4f, dual_term %.4f", q, d);
    pp_stage_free(s);

    /* --warm-start 1: the first step clones (no q needed), the second is sac's */
    char *warm[] = {"policy", "--update", "sac", "--warm-start", "1", "--hidden", "16",
                    "--max-batch", "8", NULL};
    pp_stage_policy.create(ARGC(warm), warm, &s);
    build_frame(f, &w, 0, "jsd");
    pp_frame_remove(f, "q");
    CHECK(pp_stage_policy.step(s, f) == 0 && pp_frame_get(f, "metrics.policy.bc_logp") &&
              !pp_frame_get(f, "metrics.policy.q_mean"),
          "warm start: step 1 is a bc step");
    build_frame(f, &w, 1, "jsd");
    pp_frame_remove(f, "q");
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "missing field q"),
          "warm start over: step 2 is sac's and needs q: %s", pp_error());
    pp_stage_free(s);

    char *fix0[] = {"policy", "--update", "sac", "--alpha", "0", "--hidden", "16", "--max-batch",
                    "8", NULL};
    CHECK(pp_stage_policy.create(ARGC(fix0), fix0, &s) == 0, "--alpha 0 fixed accepted");
    build_frame(f, &w, 0, "jsd");
    v = NAN;
    got = pp_stage_policy.step(s, f) == 0 && pp_frame_get_f64(f, "alpha", &v) == 0;
    CHECK(got && v == 0.0, "--alpha 0: the frame leaves with alpha 0 (%g)", v);
    pp_stage_free(s);
    s = NULL;
    char *init0[] = {"policy", "--init-alpha", "0", NULL};
    CHECK(pp_stage_policy.create(ARGC(init0), init0, &s) == -1 && strstr(pp_error(), "init-alpha"),
          "--init-alpha 0 refused (a learned alpha needs > 0): %s", pp_error());
    char *svgd0[] = {"policy", "--update", "svgd", "--alpha", "0", NULL};
    CHECK(pp_stage_policy.create(ARGC(svgd0), svgd0, &s) == -1 && strstr(pp_error(), "--alpha 0"),
          "svgd --alpha 0 refused: %s", pp_error());
    char *svgdw[] = {"policy", "--update", "svgd", "--warm-start", "5", NULL};
    CHECK(pp_stage_policy.create(ARGC(svgdw), svgdw, &s) == -1 && strstr(pp_error(), "--warm-start"),
          "svgd --warm-start refused: %s", pp_error());
    pp_frame_free(f);
    world_free(&w);
}

/* --prime, warm-up frames, metrics, NaN and missing fields of the policy stage. */
static void test_policy_contract(void)
{
    world w;
    world_init(&w, 0);
    char *argv[] = {"policy", "--prime", "--obs-dim", "4", "--act-dim", "2", "--hidden", "16",
                    "--max-batch", "8", NULL};
    pp_stage *s = NULL;
    CHECK(pp_stage_policy.create(ARGC(argv), argv, &s) == 0, "policy --prime created %s", pp_error());
    pp_frame *f = pp_frame_new();
    CHECK(pp_stage_policy.prime && pp_stage_policy.prime(s, f) == 1, "prime writes a frame");
    int64_t step = -1;
    double alpha = 0;
    const char *arch;
    size_t alen;
    pp_frame_get_i64(f, "step", &step);
    pp_frame_get_f64(f, "alpha", &alpha);
    pp_frame_get_str(f, "policy.arch", &arch, &alen);
    size_t n0;
    void *p0 = grab(f, "policy.params", &n0);
    CHECK(step == 0 && alpha == 1.0 && alen == 13 && memcmp(arch, "gaussian-tanh", 13) == 0 && p0,
          "primed frame is {step: 0, policy (gaussian-tanh), alpha: 1}");

    pp_frame_clear(f);
    pp_frame_set_i64(f, "step", 7);
    CHECK(pp_stage_policy.step(s, f) == 0 && pp_frame_get(f, "policy.params") &&
              pp_frame_get(f, "alpha") && !pp_frame_get(f, "metrics"),
          "warm-up frame (no batch) leaves with policy and alpha, no update");

    build_frame(f, &w, 0, "jsd");
    CHECK(pp_stage_policy.step(s, f) == 0, "parpi step");
    double ent = NAN, loss = NAN, dterm = NAN;
    pp_frame_get_f64(f, "metrics.policy.entropy", &ent);
    pp_frame_get_f64(f, "metrics.policy.loss", &loss);
    pp_frame_get_f64(f, "metrics.policy.disc_term", &dterm);
    CHECK(isfinite(ent) && isfinite(loss) && isfinite(dterm),
          "metrics.policy {loss %.4f, entropy %.4f, disc_term %.4f}", loss, ent, dterm);
    size_t n1;
    void *p1 = grab(f, "policy.params", &n1);
    CHECK(n1 == n0 && memcmp(p0, p1, n0) != 0, "the policy params moved");

    /* NaN in the discriminator: -1, params unchanged */
    /* (the output bias: a NaN inside a hidden layer may be zeroed by a ReLU) */
    w.disc_params[w.disc.nparams - 1] = NAN;
    build_frame(f, &w, 1, "jsd");
    CHECK(pp_stage_policy.step(s, f) == -1, "NaN loss fails the step: %s", pp_error());
    w.disc_params[w.disc.nparams - 1] = 0.1f;
    pp_frame_clear(f);
    pp_stage_policy.step(s, f);
    size_t n2;
    void *p2 = grab(f, "policy.params", &n2);
    CHECK(p2 && memcmp(p1, p2, n1) == 0, "params unchanged after the NaN step");

    build_frame(f, &w, 2, "jsd");
    pp_frame_remove(f, "disc");
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "disc"),
          "missing disc named: %s", pp_error());
    build_frame(f, &w, 2, "kl");
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "divergence"),
          "unknown divergence named: %s", pp_error());
    pp_stage_free(s);

    char *sac[] = {"policy", "--update", "sac", "--obs-dim", "4", "--act-dim", "2", NULL};
    pp_stage_policy.create(ARGC(sac), sac, &s);
    build_frame(f, &w, 2, "jsd");
    pp_frame_remove(f, "q");
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "missing field q"),
          "sac: missing q named: %s", pp_error());
    build_frame(f, &w, 2, "jsd");
    pp_frame_set_i64(f, "q.hidden", 60000);
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "q.params has 802 floats"),
          "sac: q dims its params do not fill are refused before allocating: %s", pp_error());
    build_frame(f, &w, 2, "jsd");
    pp_frame_set_i64(f, "q.act_dim", 3);
    CHECK(pp_stage_policy.step(s, f) == -1 && strstr(pp_error(), "act_dim"),
          "sac: q of other dims refused: %s", pp_error());
    pp_stage_free(s);

    char *crit[] = {"critic", "--hidden", "16", "--layers", "2", "--max-batch", "8", NULL};
    pp_stage_critic.create(ARGC(crit), crit, &s);
    build_frame(f, &w, 2, "jsd");
    pp_frame_set_i64(f, "policy.hidden", 50000);
    CHECK(pp_stage_critic.step(s, f) == -1 && strstr(pp_error(), "policy.params has"),
          "critic: a policy map its params do not fill is refused: %s", pp_error());
    pp_stage_free(s);

    char *noprime[] = {"policy", "--prime", NULL};
    CHECK(pp_stage_policy.create(ARGC(noprime), noprime, &s) == -1 && strstr(pp_error(), "--obs-dim"),
          "--prime without dims is a usage error: %s", pp_error());
    char *both[] = {"policy", "--alpha", "0.1", "--init-alpha", "0.5", NULL};
    CHECK(pp_stage_policy.create(ARGC(both), both, &s) == -1, "--alpha with --init-alpha refused: %s",
          pp_error());
    char *few[] = {"policy", "--update", "svgd", "--svgd-particles", "2", NULL};
    CHECK(pp_stage_policy.create(ARGC(few), few, &s) == -1 && strstr(pp_error(), "svgd-particles"),
          "--svgd-particles below 4 refused: %s", pp_error());

    free(p0);
    free(p1);
    free(p2);
    pp_frame_free(f);
    world_free(&w);
}

int main(void)
{
    test_roundtrips();
    test_policy_contract();
    test_policy_offline();
    return check_done();
}
