/* test_env_basic.c - Pendulum-v1 and MultiGoal against their specs, the
 * registry, the time limit, and option parsing.
 *
 * With --trace-pendulum SEED it prints a Pendulum trajectory instead (used by
 * dev/tools/pendulum_crosscheck.py to compare with Gymnasium).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "env/env.h"
#include "env/env_impl.h"
#include "env/env_multigoal.h"
#include "env/env_opt.h"
#include "base/err.h"
#include "data/d4rl.h"

static int has(const char *haystack, const char *needle) { return strstr(haystack, needle) != NULL; }

/* ---- Pendulum ---- */

/* The spec, written out independently of lib/env_pendulum.c. */
static void pendulum_oracle(double g, double th, double thdot, double a, double *th2,
                            double *thdot2, double *reward)
{
    double u = a > 2 ? 2 : a < -2 ? -2 : a;
    double n = th;
    while (n >= M_PI) n -= 2 * M_PI;
    while (n < -M_PI) n += 2 * M_PI;
    *reward = -(n * n + 0.1 * thdot * thdot + 0.001 * u * u);
    double v = thdot + (3 * g / 2 * sin(th) + 3 * u) * 0.05;
    if (v > 8) v = 8;
    if (v < -8) v = -8;
    *thdot2 = v;
    *th2 = th + v * 0.05;
}

static void test_pendulum_info(void)
{
    pp_env *e;
    CHECK(pp_env_create("Pendulum-v1", NULL, &e) == 0, "Pendulum-v1 created: %s", pp_error());
    const pp_env_info *in = pp_env_get_info(e);
    CHECK(in->obs_dim == 3 && in->act_dim == 1, "pendulum dims obs %d act %d", in->obs_dim,
          in->act_dim);
    CHECK(in->max_steps == 200, "pendulum episode limit %d", in->max_steps);
    CHECK(in->act_low[0] == -2 && in->act_high[0] == 2, "pendulum action bounds [-2, 2]");
    CHECK(in->dt == 0.05, "pendulum dt 0.05");
    CHECK(strcmp(in->name, "Pendulum-v1") == 0, "pendulum name");
    pp_env_free(e);
    CHECK(pp_env_create("Pendulum", "", &e) == 0 &&
              strcmp(pp_env_get_info(e)->name, "Pendulum-v1") == 0,
          "alias Pendulum gives Pendulum-v1");
    pp_env_free(e);
}

static void test_pendulum_steps(void)
{
    pp_env *e;
    pp_env_create("Pendulum-v1", NULL, &e);
    pp_rng rng;
    pp_rng_seed(&rng, 7);
    double obs[3], r;
    int term, trunc;
    CHECK(pp_env_reset(e, &rng, obs) == 0, "pendulum reset");
    double th = atan2(obs[1], obs[0]), thdot = obs[2];
    CHECK_NEAR(obs[0] * obs[0] + obs[1] * obs[1], 1.0, 1e-12, "obs is (cos, sin, thdot)");
    /* actions inside, at and beyond the torque limit; 300 steps so the speed clip
     * and many revolutions (angle normalisation) are reached */
    double max_err = 0, max_rerr = 0;
    int ok_flags = 1, hit_speed_limit = 0;
    for (int t = 0; t < 200; t++) {
        double a = t < 100 ? 5.0 : (t % 3 == 0 ? -0.7 : 1.3); /* 5 is clipped to 2 */
        double th2, thdot2, rw;
        pendulum_oracle(10.0, th, thdot, a, &th2, &thdot2, &rw);
        pp_env_step(e, &a, obs, &r, &term, &trunc);
        ok_flags &= term == 0 && trunc == (t == 199);
        max_err = fmax(max_err, fabs(obs[0] - cos(th2)) + fabs(obs[1] - sin(th2)) +
                                    fabs(obs[2] - thdot2));
        max_rerr = fmax(max_rerr, fabs(r - rw));
        if (fabs(thdot2) == 8) hit_speed_limit = 1;
        th = th2, thdot = thdot2;
    }
    printf("# pendulum vs spec over 200 steps: obs err %.3g, reward err %.3g, final th %.3g\n",
           max_err, max_rerr, th);
    CHECK(max_err <= 1e-12, "pendulum obs follow the spec (err %.3g)", max_err);
    CHECK(max_rerr <= 1e-12, "pendulum reward follows the spec (err %.3g)", max_rerr);
    CHECK(hit_speed_limit, "pendulum speed clipped at 8");
    CHECK(fabs(th) > 4 * M_PI, "pendulum spun past 2 revolutions (th %.3g): normalisation used",
          th);
    CHECK(ok_flags, "pendulum never terminates; truncated exactly on step 200");
    pp_env_free(e);
}

/* Hand-computed: g=0 removes gravity, so from any state thdot moves by
 * 3 u dt = 0.15 u and the reward is known in closed form. */
static void test_pendulum_hand(void)
{
    pp_env *e;
    CHECK(pp_env_create("Pendulum-v1", "g=0", &e) == 0, "pendulum g=0");
    pp_rng rng;
    pp_rng_seed(&rng, 3);
    double obs[3], r;
    int term, trunc;
    pp_env_reset(e, &rng, obs);
    double th0 = atan2(obs[1], obs[0]), w0 = obs[2];
    double a = 1.0;
    pp_env_step(e, &a, obs, &r, &term, &trunc);
    CHECK_NEAR(obs[2], w0 + 0.15, 1e-12, "g=0: thdot += 3*u*dt = 0.15");
    double th1 = th0 + (w0 + 0.15) * 0.05;
    CHECK_NEAR(fabs(obs[0] - cos(th1)) + fabs(obs[1] - sin(th1)), 0, 1e-12, "th += thdot' dt");
    CHECK_NEAR(r, -(th0 * th0 + 0.1 * w0 * w0 + 0.001), 1e-12,
               "reward = -(th^2 + 0.1 thdot^2 + 0.001 u^2) at the old state");
    a = -3.0; /* clipped to -2 */
    double w1 = obs[2];
    pp_env_step(e, &a, obs, &r, &term, &trunc);
    CHECK_NEAR(obs[2], w1 - 0.30, 1e-12, "action -3 acts as -2");
    pp_env_free(e);

    /* The gravity term, isolated by two envs that differ only in g and start
     * from the same state: thdot'(g=10) - thdot'(g=0) = 3*10/2 * dt * sin th
     * = 0.75 sin th (and sin th is obs[1]). */
    pp_env *e10, *e0;
    pp_env_create("Pendulum-v1", NULL, &e10);
    pp_env_create("Pendulum-v1", "g=0.0", &e0);
    pp_rng r1, r2;
    pp_rng_seed(&r1, 11);
    pp_rng_seed(&r2, 11);
    double o10[3], o0[3];
    pp_env_reset(e10, &r1, o10);
    pp_env_reset(e0, &r2, o0);
    double s = o10[1];
    a = 0.0;
    pp_env_step(e10, &a, o10, &r, &term, &trunc);
    pp_env_step(e0, &a, o0, &r, &term, &trunc);
    CHECK_NEAR(o10[2] - o0[2], 0.75 * s, 1e-12, "gravity term 3g/(2l) sin(th) dt = 0.75 sin th");
    pp_env_free(e10);
    pp_env_free(e0);
}

static void test_pendulum_reset_distribution(void)
{
    pp_env *e;
    pp_env_create("Pendulum-v1", NULL, &e);
    pp_rng rng;
    pp_rng_seed(&rng, 99);
    const int n = 40000;
    double obs[3], sth = 0, sth2 = 0, sw = 0, sw2 = 0, lo_th = 9, hi_th = -9, lo_w = 9,
                   hi_w = -9;
    int below_half = 0;
    for (int i = 0; i < n; i++) {
        pp_env_reset(e, &rng, obs);
        double th = atan2(obs[1], obs[0]), w = obs[2];
        sth += th, sth2 += th * th, sw += w, sw2 += w * w;
        lo_th = fmin(lo_th, th), hi_th = fmax(hi_th, th);
        lo_w = fmin(lo_w, w), hi_w = fmax(hi_w, w);
        below_half += w < 0.5;
    }
    double mth = sth / n, vth = sth2 / n - mth * mth, mw = sw / n, vw = sw2 / n - mw * mw;
    printf("# reset th mean %.4f var %.4f (pi^2/3 = %.4f); thdot mean %.4f var %.4f (1/3)\n",
           mth, vth, M_PI * M_PI / 3, mw, vw);
    /* standard errors: th sd pi/sqrt(3)/sqrt(n) ~ 0.009; thdot ~ 0.003 */
    CHECK(fabs(mth) < 0.04, "reset th mean ~ 0 (%.4f)", mth);
    CHECK(fabs(vth - M_PI * M_PI / 3) < 0.1, "reset th variance ~ pi^2/3 (%.4f)", vth);
    CHECK(fabs(mw) < 0.012, "reset thdot mean ~ 0 (%.4f)", mw);
    CHECK(fabs(vw - 1.0 / 3) < 0.012, "reset thdot variance ~ 1/3 (%.4f)", vw);
    CHECK(lo_th >= -M_PI && hi_th <= M_PI && lo_th < -3.1 && hi_th > 3.1,
          "reset th covers [-pi, pi] (%.4f..%.4f)", lo_th, hi_th);
    CHECK(lo_w >= -1 && hi_w < 1 && lo_w < -0.999 && hi_w > 0.999,
          "reset thdot covers [-1, 1) (%.4f..%.4f)", lo_w, hi_w);
    CHECK(fabs((double)below_half / n - 0.75) < 0.012, "P(thdot < 0.5) = 0.75 (%.4f)",
          (double)below_half / n);
    pp_env_free(e);
}

/* Same seed, same actions: bit-identical trajectory; another seed differs. */
static int trajectories_equal(const char *name, const char *opts, uint64_t s1, uint64_t s2)
{
    pp_env *a, *b;
    pp_env_create(name, opts, &a);
    pp_env_create(name, opts, &b);
    pp_rng r1, r2;
    pp_rng_seed(&r1, s1);
    pp_rng_seed(&r2, s2);
    double oa[8], ob[8], ra, rb, act[2];
    int ta, tra, tb, trb, same = 1;
    int na = pp_env_get_info(a)->act_dim;
    pp_env_reset(a, &r1, oa);
    pp_env_reset(b, &r2, ob);
    int od = pp_env_get_info(a)->obs_dim;
    same &= memcmp(oa, ob, od * sizeof(double)) == 0;
    for (int t = 0; t < 25; t++) {
        for (int i = 0; i < na; i++) act[i] = sin(t * 0.7 + i);
        pp_env_step(a, act, oa, &ra, &ta, &tra);
        pp_env_step(b, act, ob, &rb, &tb, &trb);
        same &= memcmp(oa, ob, od * sizeof(double)) == 0 && ra == rb && ta == tb;
        if (ta) break;
    }
    pp_env_free(a);
    pp_env_free(b);
    return same;
}

/* ---- MultiGoal ---- */

static pp_env *multigoal(const char *opts)
{
    pp_env *e = NULL;
    if (pp_env_create("MultiGoal", opts, &e) != 0)
        printf("# create MultiGoal %s: %s\n", opts ? opts : "", pp_error());
    return e;
}

static void test_multigoal_info(void)
{
    pp_env *e = multigoal(NULL);
    const pp_env_info *in = pp_env_get_info(e);
    CHECK(in->obs_dim == 2 && in->act_dim == 2, "multigoal dims obs %d act %d", in->obs_dim,
          in->act_dim);
    CHECK(in->max_steps == 30, "multigoal episode limit 30 (%d)", in->max_steps);
    CHECK(in->act_low[0] == -1 && in->act_high[0] == 1 && in->act_low[1] == -1 &&
              in->act_high[1] == 1,
          "multigoal action bounds [-1, 1]^2");
    CHECK(pp_env_multigoal_goal_reached(e) == -1, "no goal before the first episode");
    CHECK(in->goals == 4 && pp_env_goal_reached(e) == -1,
          "multigoal has 4 goals (info.goals %d), none reached yet", in->goals);
    double g[2];
    pp_env_multigoal_goal(2, g);
    CHECK(g[0] == 0 && g[1] == 5, "goal 2 is (0, 5)");
    pp_env_free(e);
}

static void test_multigoal_hand(void)
{
    /* init_sigma=0 puts the start exactly at the origin */
    pp_env *e = multigoal("init_sigma=0");
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    double obs[2], r;
    int term, trunc;
    pp_env_reset(e, &rng, obs);
    CHECK(obs[0] == 0 && obs[1] == 0, "init_sigma=0 starts at the origin");
    struct {
        double a[2], x, y, r;
        int term;
    } steps[] = {
        /* (1,0): -30*1 - |(1,0)-(5,0)|^2 = -30 - 16 */
        {{1, 0}, 1, 0, -46, 0},
        /* (2,0) is clipped to (1,0): at (2,0), -30 - 9 */
        {{2, 0}, 2, 0, -39, 0},
        {{1, 0}, 3, 0, -34, 0},
        /* (4,0): distance exactly 1 is not < 1: -30 - 1, no bonus */
        {{1, 0}, 4, 0, -31, 0},
        /* (4.5,0): -30*0.25 - 0.25 + 10 = 2.25, terminated at goal 0 */
        {{0.5, 0}, 4.5, 0, 2.25, 1},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        pp_env_step(e, steps[i].a, obs, &r, &term, &trunc);
        CHECK(obs[0] == steps[i].x && obs[1] == steps[i].y && term == steps[i].term &&
                  trunc == 0,
              "multigoal step %zu to (%g, %g), terminated %d", i + 1, obs[0], obs[1], term);
        CHECK_NEAR(r, steps[i].r, 1e-12, "multigoal step %zu reward %g", i + 1, steps[i].r);
    }
    CHECK(pp_env_multigoal_goal_reached(e) == 0, "episode ended at goal 0 (5, 0)");
    pp_env_reset(e, &rng, obs);
    CHECK(pp_env_multigoal_goal_reached(e) == -1, "reset clears the goal reached");

    /* Diagonal to the corner: (k,k) never comes within 1 of a goal; the wall
     * clips at 7. At (7,7) with a=(1,1): -30*2 - min(2^2+7^2, ...) = -113. */
    int steps_taken = 0;
    double a11[2] = {1, 1};
    do {
        pp_env_step(e, a11, obs, &r, &term, &trunc);
        steps_taken++;
    } while (steps_taken < 8);
    CHECK(obs[0] == 7 && obs[1] == 7 && !term, "position clipped to the (7, 7) corner");
    CHECK_NEAR(r, -113, 1e-12, "reward at the corner -113");
    /* stay there: truncated exactly on step 30 */
    int bad = 0;
    while (steps_taken < 30) {
        pp_env_step(e, a11, obs, &r, &term, &trunc);
        steps_taken++;
        bad |= term || trunc != (steps_taken == 30);
    }
    CHECK(!bad && trunc, "truncated on step 30, not before, never terminated");
    CHECK(pp_env_multigoal_goal_reached(e) == -1, "a truncated episode reached no goal");

    /* Each goal in turn: 5 unit steps from the origin land on it: -30 - 0 + 10. */
    static const double dir[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (int g = 0; g < 4; g++) {
        pp_env_reset(e, &rng, obs);
        for (int t = 0; t < 5; t++) pp_env_step(e, dir[g], obs, &r, &term, &trunc);
        CHECK(term && pp_env_multigoal_goal_reached(e) == g && r == -20,
              "walking (%g, %g) reaches goal %d with reward -20 (got goal %d, r %g)",
              dir[g][0], dir[g][1], g, pp_env_multigoal_goal_reached(e), r);
        CHECK(pp_env_goal_reached(e) == g, "pp_env_goal_reached says goal %d too (%d)", g,
              pp_env_goal_reached(e));
    }
    pp_env_free(e);

    /* The coefficients are options. */
    e = multigoal("init_sigma=0,goal_reward=100,actuation_cost_coeff=2,distance_cost_coeff=0.5");
    pp_env_reset(e, &rng, obs);
    double a[2] = {0.5, -0.5};
    pp_env_step(e, a, obs, &r, &term, &trunc);
    /* at (0.5,-0.5): nearest goal (5,0) or (0,-5): 20.25+0.25 = 20.5 */
    CHECK_NEAR(r, -2 * 0.5 - 0.5 * 20.5, 1e-12, "options change the cost coefficients");
    pp_env_free(e);
    e = multigoal("init_sigma=0,goal_threshold=4.5");
    pp_env_reset(e, &rng, obs);
    a[0] = 1, a[1] = 0;
    pp_env_step(e, a, obs, &r, &term, &trunc);
    CHECK(term && pp_env_multigoal_goal_reached(e) == 0 && r == -30 - 16 + 10,
          "goal_threshold=4.5 ends at (1, 0)");
    pp_env_free(e);
}

static void test_multigoal_reset_distribution(void)
{
    pp_env *e = multigoal(NULL);
    pp_rng rng;
    pp_rng_seed(&rng, 5);
    const int n = 20000;
    double obs[2], s[2] = {0, 0}, s2[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        pp_env_reset(e, &rng, obs);
        for (int k = 0; k < 2; k++) s[k] += obs[k], s2[k] += obs[k] * obs[k];
    }
    for (int k = 0; k < 2; k++) {
        double m = s[k] / n, sd = sqrt(s2[k] / n - m * m);
        printf("# multigoal reset coord %d: mean %.5f sd %.5f (0, 0.1)\n", k, m, sd);
        CHECK(fabs(m) < 0.003 && fabs(sd - 0.1) < 0.002, "reset coord %d ~ N(0, 0.1^2)", k);
    }
    pp_env_free(e);
    e = multigoal("init_sigma=100");
    int at_wall = 0, outside = 0;
    for (int i = 0; i < 2000; i++) {
        pp_env_reset(e, &rng, obs);
        for (int k = 0; k < 2; k++) {
            at_wall += fabs(obs[k]) == 7;
            outside += fabs(obs[k]) > 7;
        }
    }
    /* P(|100 N| >= 7) = P(|N| >= 0.07) = 0.944 */
    CHECK(outside == 0 && fabs(at_wall / 4000.0 - 0.944) < 0.02,
          "wide initial noise is clipped to [-7, 7] (%.3f at the wall)", at_wall / 4000.0);
    pp_env_free(e);
}

/* ---- registry, wrapper ---- */

static void expect_create_error(const char *name, const char *opts, const char *want)
{
    pp_env *e = (pp_env *)1;
    int rc = pp_env_create(name, opts, &e);
    CHECK(rc == -1 && e == NULL && has(pp_error(), want), "create('%s', '%s') fails: %s",
          name ? name : "(null)", opts ? opts : "(null)", pp_error());
}

static void test_registry(void)
{
    const char *const *names = pp_env_names();
    int n = 0;
    while (names[n]) n++;
    CHECK(n == 12, "12 task names (%d)", n);
    CHECK(strcmp(names[0], "HalfCheetah-v3") == 0 && strcmp(names[11], "MultiGoal") == 0,
          "names in order");

    expect_create_error("Foo", NULL, "expected one of: HalfCheetah-v3, HalfCheetah-v4");
    expect_create_error("Foo", NULL, "MultiGoal");
    expect_create_error("hopper-v3", NULL, "did you mean Hopper-v3?");
    expect_create_error("Hoper-v4", NULL, "did you mean Hopper-v4");
    expect_create_error("Hopper", NULL, "did you mean Hopper-v3 or Hopper-v4?");
    expect_create_error("multigoal", NULL, "did you mean MultiGoal?");
    expect_create_error("pendulum-v1", NULL, "did you mean Pendulum-v1?");
    expect_create_error("", NULL, "unknown environment ''");
    expect_create_error(NULL, NULL, "expected one of");
    /* no suggestion for something far from every name */
    pp_env *e;
    pp_env_create("CartPole-v1", NULL, &e);
    CHECK(!has(pp_error(), "did you mean"), "no suggestion for CartPole-v1: %s", pp_error());

    /* MuJoCo tasks: created, or a clear failure naming the task */
    if (pp_env_create("Hopper-v3", NULL, &e) == 0) {
        CHECK(pp_env_get_info(e)->obs_dim == 11 && pp_env_get_info(e)->act_dim == 3,
              "Hopper-v3 dims 11/3");
        pp_env_free(e);
    } else {
        CHECK(has(pp_error(), "Hopper-v3"), "Hopper-v3 unavailable, said clearly: %s",
              pp_error());
    }

    /* options errors name the task and the key */
    expect_create_error("Pendulum-v1", "g=abc", "Pendulum-v1: option g=abc: expected a finite number");
    expect_create_error("Pendulum-v1", "mass=2", "unknown option 'mass', expected one of: g");
    expect_create_error("Pendulum-v1", "g", "'g' has no value");
    expect_create_error("MultiGoal", "init_sigma=-1", "expected a number >= 0");
    expect_create_error("MultiGoal", "goal_reward=1,goal_reward=2", "given twice");
    expect_create_error("MultiGoal", "reward=3", "goal_reward, actuation_cost_coeff");
}

static void test_wrapper(void)
{
    pp_env *e;
    pp_env_create("Pendulum-v1", NULL, &e);
    double obs[3], r, a = 0;
    int term, trunc;
    CHECK(pp_env_step(e, &a, obs, &r, &term, &trunc) == -1 && has(pp_error(), "before the first reset"),
          "step before reset fails: %s", pp_error());
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    pp_env_reset(e, &rng, obs);
    a = NAN;
    CHECK(pp_env_step(e, &a, obs, &r, &term, &trunc) == -1 && has(pp_error(), "action[0] is nan"),
          "NaN action fails: %s", pp_error());
    a = 0;
    for (int t = 0; t < 150; t++) pp_env_step(e, &a, obs, &r, &term, &trunc);
    pp_env_reset(e, &rng, obs);
    int first_trunc = 0;
    for (int t = 1; t <= 200 && !first_trunc; t++) {
        pp_env_step(e, &a, obs, &r, &term, &trunc);
        if (trunc) first_trunc = t;
    }
    CHECK(first_trunc == 200, "reset restarts the step count (truncated at %d)", first_trunc);

    /* termination on the limit step is not a truncation: MultiGoal reaching a
     * goal with its 30th step */
    pp_env *m = multigoal("init_sigma=0");
    pp_env_reset(m, &rng, obs);
    double still[2] = {0, 0}, right[2] = {1, 0};
    for (int t = 0; t < 25; t++) pp_env_step(m, still, obs, &r, &term, &trunc);
    for (int t = 0; t < 5; t++) pp_env_step(m, right, obs, &r, &term, &trunc);
    CHECK(term == 1 && trunc == 0, "goal on step 30: terminated, not truncated");
    pp_env_free(m);

    pp_env_info in = *pp_env_get_info(e);
    float u[1] = {1.0f};
    double act[2];
    pp_env_scale_action(&in, u, act);
    CHECK(act[0] == 2, "scale 1 -> 2");
    u[0] = -1, pp_env_scale_action(&in, u, act);
    CHECK(act[0] == -2, "scale -1 -> -2");
    u[0] = 0.25f, pp_env_scale_action(&in, u, act);
    CHECK(act[0] == 0.5, "scale 0.25 -> 0.5");
    in.act_dim = 2;
    in.act_low[0] = 0, in.act_high[0] = 10, in.act_low[1] = -3, in.act_high[1] = 1;
    float u2[2] = {-1, 0};
    pp_env_scale_action(&in, u2, act);
    CHECK(act[0] == 0 && act[1] == -1, "asymmetric bounds: -1 -> low, 0 -> middle");
    pp_env_free(e);

    CHECK(trajectories_equal("Pendulum-v1", NULL, 42, 42), "pendulum: same seed, same run");
    CHECK(!trajectories_equal("Pendulum-v1", NULL, 42, 43), "pendulum: other seed differs");
    CHECK(trajectories_equal("MultiGoal", NULL, 42, 42), "multigoal: same seed, same run");
    CHECK(!trajectories_equal("MultiGoal", NULL, 42, 43), "multigoal: other seed differs");
    pp_env *p;
    pp_env_create("Pendulum-v1", NULL, &p);
    CHECK(pp_env_multigoal_goal_reached(p) == -1, "goal_reached on another env is -1");
    CHECK(pp_env_get_info(p)->goals == 0 && pp_env_goal_reached(p) == -1,
          "a task without goals: info.goals 0, pp_env_goal_reached -1");
    pp_env_free(p);
}

static void test_list_and_d4rl(void)
{
    FILE *f = tmpfile();
    pp_env_list(f);
    rewind(f);
    char line[512];
    int lines = 0, pend = 0, mg = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        char name[64];
        int obs, act, steps;
        if (sscanf(line, "%63s %d %d %d", name, &obs, &act, &steps) == 4) {
            if (!strcmp(name, "Pendulum-v1"))
                pend = obs == 3 && act == 1 && steps == 200 && has(line, "[-2, 2]");
            if (!strcmp(name, "MultiGoal"))
                mg = obs == 2 && act == 2 && steps == 30 && has(line, "[-1, 1]");
        }
    }
    fclose(f);
    CHECK(lines == 13, "list: header + 12 tasks (%d lines)", lines);
    CHECK(pend && mg, "list shows Pendulum-v1 3 1 200 [-2, 2] and MultiGoal 2 2 30 [-1, 1]");

    double lo, hi;
    CHECK(pp_d4rl_reference("Hopper-v3", &lo, &hi) == 1 && lo == -20.272305 && hi == 3234.3,
          "D4RL hopper -20.272305 / 3234.3");
    CHECK(pp_d4rl_reference("HalfCheetah-v4", &lo, &hi) == 1 && lo == -280.178953 &&
              hi == 12135.0,
          "D4RL halfcheetah -280.178953 / 12135");
    CHECK(pp_d4rl_reference("walker2d-medium-v2", &lo, &hi) == 1 && lo == 1.629008 &&
              hi == 4592.3,
          "D4RL walker2d by data set name");
    CHECK(pp_d4rl_reference("Ant-v3", &lo, &hi) == 1 && lo == -325.6 && hi == 3879.7,
          "D4RL ant -325.6 / 3879.7");
    CHECK(pp_d4rl_reference("antmaze-umaze-v0", &lo, &hi) == 0 && lo == 0 && hi == 0,
          "antmaze is not ant");
    CHECK(pp_d4rl_reference("Humanoid-v3", &lo, &hi) == 0, "no humanoid reference");
    CHECK(pp_d4rl_reference("Pendulum-v1", &lo, &hi) == 0, "no pendulum reference");
}

/* ---- option parsing ---- */

typedef struct {
    int n;
    char keys[8][32], values[8][32];
    int fail_on;
} recorder;

static int record(void *ctx, const char *key, const char *value)
{
    recorder *r = ctx;
    if (r->n == r->fail_on) return pp_fail("callback refused %s", key);
    snprintf(r->keys[r->n], 32, "%s", key);
    snprintf(r->values[r->n], 32, "%s", value);
    r->n++;
    return 0;
}

static int parse(const char *opts, recorder *r)
{
    memset(r, 0, sizeof *r);
    r->fail_on = -1;
    return pp_env_parse_options(opts, record, r);
}

static void expect_parse_error(const char *opts, const char *want)
{
    recorder r;
    int rc = parse(opts, &r);
    CHECK(rc == -1 && has(pp_error(), want), "options \"%s\" rejected: %s", opts, pp_error());
}

static void test_options(void)
{
    recorder r;
    CHECK(parse("a=1,b=x2", &r) == 0 && r.n == 2 && !strcmp(r.keys[0], "a") &&
              !strcmp(r.values[0], "1") && !strcmp(r.keys[1], "b") && !strcmp(r.values[1], "x2"),
          "a=1,b=x2 gives two pairs");
    CHECK(parse(" a = 1 , b=2 ", &r) == 0 && r.n == 2 && !strcmp(r.keys[0], "a") &&
              !strcmp(r.values[0], "1") && !strcmp(r.values[1], "2"),
          "spaces around keys and values are trimmed");
    CHECK(parse(NULL, &r) == 0 && r.n == 0, "NULL options: nothing");
    CHECK(parse("", &r) == 0 && r.n == 0, "empty options: nothing");
    CHECK(parse("  ", &r) == 0 && r.n == 0, "blank options: nothing");
    CHECK(parse("a=b,b=1", &r) == 0 && r.n == 2, "a value equal to a later key is fine");
    CHECK(parse("x=1=2", &r) == 0 && r.n == 1 && !strcmp(r.values[0], "1=2"),
          "the first '=' splits");
    expect_parse_error("a", "'a' has no value, expected key=value");
    expect_parse_error("=1", "has an empty key");
    expect_parse_error("a=", "has an empty value");
    expect_parse_error("a=1,,b=2", "empty entry");
    expect_parse_error("a=1,", "empty entry");
    expect_parse_error("a=1,a=2", "'a' given twice");
    memset(&r, 0, sizeof r);
    r.fail_on = 1;
    CHECK(pp_env_parse_options("a=1,b=2,c=3", record, &r) == -1 && r.n == 1 &&
              has(pp_error(), "callback refused b"),
          "a callback failure stops parsing: %s", pp_error());

    double d;
    CHECK(pp_env_opt_f64("k", "1e3", &d) == 0 && d == 1000, "f64 1e3");
    CHECK(pp_env_opt_f64("k", "-0.25", &d) == 0 && d == -0.25, "f64 -0.25");
    const char *bad[] = {"abc", "1x", "nan", "inf", "1e999", " "};
    for (int i = 0; i < 6; i++)
        CHECK(pp_env_opt_f64("k", bad[i], &d) == -1 && has(pp_error(), "expected a finite number"),
              "f64 rejects '%s'", bad[i]);
    long l;
    CHECK(pp_env_opt_int("n", "12", 0, 100, &l) == 0 && l == 12, "int 12");
    CHECK(pp_env_opt_int("n", "101", 0, 100, &l) == -1 && has(pp_error(), "[0, 100]"),
          "int out of range: %s", pp_error());
    CHECK(pp_env_opt_int("n", "1.5", 0, 100, &l) == -1, "int rejects 1.5");
    int b;
    CHECK(pp_env_opt_bool("t", "TRUE", &b) == 0 && b == 1, "bool TRUE");
    CHECK(pp_env_opt_bool("t", "0", &b) == 0 && b == 0, "bool 0");
    CHECK(pp_env_opt_bool("t", "off", &b) == 0 && b == 0, "bool off");
    CHECK(pp_env_opt_bool("t", "maybe", &b) == -1 && has(pp_error(), "t=maybe"), "bool maybe");
}

/* For dev/tools/pendulum_crosscheck.py: reset with SEED, then 200 steps of
 * a fixed action pattern (inside and beyond the torque limit). Lines:
 * "reset c s thdot" then "step a c s thdot reward terminated truncated". */
static int trace_pendulum(uint64_t seed)
{
    pp_env *e;
    if (pp_env_create("Pendulum-v1", NULL, &e) != 0) return 1;
    pp_rng rng;
    pp_rng_seed(&rng, seed);
    double obs[3], r;
    int term, trunc;
    pp_env_reset(e, &rng, obs);
    printf("reset %.17g %.17g %.17g\n", obs[0], obs[1], obs[2]);
    for (int t = 0; t < 200; t++) {
        double a = 2.5 * sin(0.37 * t + (double)seed);
        pp_env_step(e, &a, obs, &r, &term, &trunc);
        printf("step %.17g %.17g %.17g %.17g %.17g %d %d\n", a, obs[0], obs[1], obs[2], r, term,
               trunc);
    }
    pp_env_free(e);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--trace-pendulum") == 0)
        return trace_pendulum(strtoull(argv[2], NULL, 10));
    test_pendulum_info();
    test_pendulum_steps();
    test_pendulum_hand();
    test_pendulum_reset_distribution();
    test_multigoal_info();
    test_multigoal_hand();
    test_multigoal_reset_distribution();
    test_registry();
    test_wrapper();
    test_list_and_d4rl();
    test_options();
    return check_done();
}
