/* stage_eval.c - evaluation episodes, the ring stage "eval" (and the
 * progress log of the ring's metrics it writes), and parpi-eval's
 * standalone mode (see eval.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "stage/ckpt_state.h"
#include "env/env_multigoal.h"
#include "base/err.h"
#include "stage/eval.h"
#include "frame/frame.h"
#include "base/optarg.h"
#include "rl/policy_file.h"
#include "stage/stage.h"
#include "data/d4rl.h"
#include "base/clock.h"

/* ---- episodes ---- */

int pp_evaluate(pp_env *env, const char *env_name, pp_actor *actor, const float *params, int K,
                int deterministic, unsigned long long seed, double *returns, double *lengths,
                pp_eval_result *out)
{
    const pp_env_info *info = pp_env_get_info(env);
    const int O = info->obs_dim, A = info->act_dim;
    if (A > PP_ENV_MAX_ACT || O > 65536) return pp_fail("env dims out of range");
    pp_rng root, mine, reset_rng, act_rng;
    pp_rng_seed(&root, seed);
    mine = pp_rng_split(&root, PP_STREAM_EVAL);
    reset_rng = pp_rng_split(&mine, 1);
    act_rng = pp_rng_split(&mine, 2);
    double *obs = pp_xcalloc((size_t)O, sizeof(double));
    float *obs_f = pp_xalloc_f32((size_t)O);
    float a[PP_ENV_MAX_ACT];
    double act[PP_ENV_MAX_ACT];
    memset(out, 0, sizeof *out);
    out->episodes = K;
    out->return_min = out->length_min = INFINITY;
    out->return_max = out->length_max = -INFINITY;
    out->have_goals = strncasecmp(env_name, "MultiGoal", 9) == 0;
    double rs = 0, rs2 = 0, ls = 0, ls2 = 0;
    int rc = 0;
    for (int k = 0; k < K && rc == 0; k++) {
        if (pp_env_reset(env, &reset_rng, obs) != 0) {
            rc = pp_fail_prefix("%s reset: ", env_name);
            break;
        }
        double ret = 0, len = 0;
        for (;;) {
            for (int i = 0; i < O; i++) obs_f[i] = (float)obs[i];
            if (pp_actor_act(actor, params, obs_f, 1, deterministic, &act_rng, a) != 0) {
                rc = -1;
                break;
            }
            pp_env_scale_action(info, a, act);
            double r;
            int term, trunc;
            if (pp_env_step(env, act, obs, &r, &term, &trunc) != 0) {
                rc = pp_fail_prefix("%s step: ", env_name);
                break;
            }
            ret += r;
            len += 1;
            if (term || trunc) {
                if (out->have_goals) {
                    int g = pp_env_multigoal_goal_reached(env);
                    if (g >= 0 && g < 4) out->goal_count[g]++;
                }
                break;
            }
        }
        if (returns) returns[k] = ret;
        if (lengths) lengths[k] = len;
        rs += ret;
        rs2 += ret * ret;
        ls += len;
        ls2 += len * len;
        if (ret < out->return_min) out->return_min = ret;
        if (ret > out->return_max) out->return_max = ret;
        if (len < out->length_min) out->length_min = len;
        if (len > out->length_max) out->length_max = len;
    }
    free(obs);
    free(obs_f);
    if (rc != 0) return -1;
    out->return_mean = rs / K;
    out->length_mean = ls / K;
    double rv = rs2 / K - out->return_mean * out->return_mean, lv = ls2 / K - out->length_mean * out->length_mean;
    out->return_std = sqrt(rv > 0 ? rv : 0);
    out->length_std = sqrt(lv > 0 ? lv : 0);
    double lo, hi;
    if (pp_d4rl_reference(env_name, &lo, &hi) == 1 && hi != lo) {
        out->have_score = 1;
        out->score = 100.0 * (out->return_mean - lo) / (hi - lo);
    }
    for (int g = 0; g < 4; g++) out->goals_reached += out->goal_count[g] > 0;
    return 0;
}

void pp_eval_print(const pp_eval_result *r, FILE *out)
{
    fprintf(out, "episodes %d\n", r->episodes);
    fprintf(out, "return_mean %.6g\nreturn_std %.6g\nreturn_min %.6g\nreturn_max %.6g\n", r->return_mean,
            r->return_std, r->return_min, r->return_max);
    fprintf(out, "length_mean %.6g\nlength_std %.6g\nlength_min %.6g\nlength_max %.6g\n", r->length_mean,
            r->length_std, r->length_min, r->length_max);
    if (r->have_score) fprintf(out, "score %.6g\n", r->score);
    if (r->have_goals)
        fprintf(out, "goals_reached %d\ngoal_counts %d %d %d %d\n", r->goals_reached, r->goal_count[0],
                r->goal_count[1], r->goal_count[2], r->goal_count[3]);
}

void pp_eval_csv_header(FILE *out)
{
    fprintf(out, "step,episodes,return_mean,return_std,return_min,return_max,length_mean,length_std,"
                 "length_min,length_max,score,goals_reached\n");
}

void pp_eval_csv_row(FILE *out, long long step, const pp_eval_result *r)
{
    fprintf(out, "%lld,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,", step, r->episodes, r->return_mean,
            r->return_std, r->return_min, r->return_max, r->length_mean, r->length_std, r->length_min,
            r->length_max);
    if (r->have_score) fprintf(out, "%.9g", r->score);
    fputc(',', out);
    if (r->have_goals) fprintf(out, "%d", r->goals_reached);
    fputc('\n', out);
}

/* ---- options ---- */

typedef struct {
    char env_name[64], env_options[512];
    unsigned long long seed;
    int episodes, deterministic;
    long long every, log_every;
    char policy_path[1024], log_path[1024], progress_path[1024], status_path[1024];
} eval_opts;

static const char eval_options_help[] =
    "  --env NAME             task (parpi-collect --list-envs)\n"
    "  --env-options K=V,...  the task's constructor options\n"
    "  --episodes K           episodes per evaluation (10)\n"
    "  --stochastic           sample actions from the policy (default: the mean action)\n"
    "  --seed N               seed; eval uses stream 6 of it (0)\n"
    "  --log FILE             append one CSV row per evaluation\n"
    "  --policy FILE          standalone: evaluate this checkpoint (or frame file)\n"
    " ring mode (frames on stdin, passed through):\n"
    "  --every N              evaluate when the frame's step crosses a multiple of N (1000; 0: never)\n"
    "  --progress-log FILE    append a progress row every --log-every steps\n"
    "  --log-every N          steps between progress rows (1000)\n"
    "  --status FILE          rewrite one status line about once a second (for parpi-train)\n";

enum { E_ENV = 256, E_ENV_OPTIONS, E_EPISODES, E_STOCHASTIC, E_DETERMINISTIC, E_SEED, E_LOG, E_POLICY,
       E_EVERY, E_PROGRESS, E_LOG_EVERY, E_STATUS };

static int copy_opt(char *dst, size_t cap, const char *opt, const char *v)
{
    if (strlen(v) >= cap) return pp_fail("%s: value too long (%zu bytes at most)", opt, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int parse_eval(eval_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"env", required_argument, 0, E_ENV},
        {"env-options", required_argument, 0, E_ENV_OPTIONS},
        {"episodes", required_argument, 0, E_EPISODES},
        {"stochastic", no_argument, 0, E_STOCHASTIC},
        {"deterministic", no_argument, 0, E_DETERMINISTIC},
        {"seed", required_argument, 0, E_SEED},
        {"log", required_argument, 0, E_LOG},
        {"policy", required_argument, 0, E_POLICY},
        {"every", required_argument, 0, E_EVERY},
        {"progress-log", required_argument, 0, E_PROGRESS},
        {"log-every", required_argument, 0, E_LOG_EVERY},
        {"status", required_argument, 0, E_STATUS},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->episodes = 10;
    o->deterministic = 1;
    o->every = 1000;
    o->log_every = 1000;
    int rc = 0, opt;
    double v;
    optind = 0;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (opt) {
        case E_ENV: rc = copy_opt(o->env_name, sizeof o->env_name, "--env", optarg); break;
        case E_ENV_OPTIONS: rc = copy_opt(o->env_options, sizeof o->env_options, "--env-options", optarg); break;
        case E_EPISODES: rc = pp_optarg_int("--episodes", optarg, 1, PP_EVAL_MAX_EPISODES, &o->episodes); break;
        case E_STOCHASTIC: o->deterministic = 0; break;
        case E_DETERMINISTIC: o->deterministic = 1; break;
        case E_SEED:
            rc = pp_optarg_double("--seed", optarg, 0, 9007199254740992.0, &v);
            if (rc == 0 && v != floor(v)) rc = pp_fail("--seed: '%s', expected a whole number", optarg);
            o->seed = (unsigned long long)v;
            break;
        case E_LOG: rc = copy_opt(o->log_path, sizeof o->log_path, "--log", optarg); break;
        case E_POLICY: rc = copy_opt(o->policy_path, sizeof o->policy_path, "--policy", optarg); break;
        case E_EVERY:
            rc = pp_optarg_double("--every", optarg, 0, 1e15, &v);
            o->every = (long long)v;
            break;
        case E_PROGRESS: rc = copy_opt(o->progress_path, sizeof o->progress_path, "--progress-log", optarg); break;
        case E_LOG_EVERY:
            rc = pp_optarg_double("--log-every", optarg, 1, 1e15, &v);
            o->log_every = (long long)v;
            break;
        case E_STATUS: rc = copy_opt(o->status_path, sizeof o->status_path, "--status", optarg); break;
        case ':': rc = pp_optarg_unknown(argv, optind, optopt, 1); break;
        default: rc = pp_optarg_unknown(argv, optind, optopt, 0); break;
        }
    }
    if (rc == 0 && optind < argc) rc = pp_fail("unexpected argument '%s'", argv[optind]);
    if (rc == 0 && !o->env_name[0]) rc = pp_fail("--env NAME is required (parpi-collect --list-envs lists the tasks)");
    return rc;
}

static FILE *open_csv(const char *path, void (*header)(FILE *))
{
    FILE *fp = fopen(path, "a");
    if (!fp) {
        pp_fail("cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    if (ftell(fp) == 0) header(fp);
    fflush(fp);
    return fp;
}

/* ---- the ring stage ---- */

extern const pp_stage_ops pp_stage_eval;

#define RECENT 10
static const char *const progress_metrics[] = {
    "critic.q_loss",   "critic.q1_mean", "langevin.q0_mean", "langevin.qK_mean", "discrim.loss",
    "discrim.gap",     "policy.loss",    "policy.alpha",     "policy.entropy",   "collect.step_ms",
    "critic.step_ms",  "langevin.step_ms", "discrim.step_ms", "policy.step_ms",  NULL};

static void progress_header(FILE *fp)
{
    fprintf(fp, "step,wall_s,episodes,return_recent,length_recent,eval_return");
    for (int i = 0; progress_metrics[i]; i++) fprintf(fp, ",%s", progress_metrics[i]);
    fputc('\n', fp);
}

typedef struct {
    eval_opts o;
    pp_env *env;
    pp_actor *actor;
    FILE *log, *progress;
    long long last_eval, last_log, episodes;
    double recent_ret[RECENT], recent_len[RECENT];
    int nrecent, recent_pos;
    double last_eval_return;
    int have_eval;
    double t0, wall_offset, last_status;
    char tmp_status[1100];
} ev;

static void ev_free(ev *e)
{
    if (e->log) fclose(e->log);
    if (e->progress) fclose(e->progress);
    pp_env_free(e->env);
    pp_actor_free(e->actor);
    free(e);
}

static int ev_open_files(ev *e)
{
    if (e->o.log_path[0] && !(e->log = open_csv(e->o.log_path, pp_eval_csv_header))) return -1;
    if (e->o.progress_path[0] && !(e->progress = open_csv(e->o.progress_path, progress_header))) return -1;
    snprintf(e->tmp_status, sizeof e->tmp_status, "%s.tmp", e->o.status_path);
    return 0;
}

static int ev_create(int argc, char **argv, pp_stage **out)
{
    *out = NULL;
    ev *e = pp_xcalloc(1, sizeof *e);
    if (parse_eval(&e->o, argc, argv) != 0) {
        ev_free(e);
        return -1;
    }
    if (e->o.policy_path[0]) {
        ev_free(e);
        return pp_fail("--policy is for standalone evaluation; in the ring the frame's policy is used");
    }
    if (pp_env_create(e->o.env_name, e->o.env_options[0] ? e->o.env_options : NULL, &e->env) != 0) {
        pp_fail_prefix("--env %s: ", e->o.env_name);
        ev_free(e);
        return -1;
    }
    if (ev_open_files(e) != 0) {
        ev_free(e);
        return -1;
    }
    e->t0 = pp_now();
    e->last_eval = 0;
    e->last_log = 0;
    e->last_status = -1e9;
    pp_stage *s = pp_xcalloc(1, sizeof *s);
    s->ops = &pp_stage_eval;
    s->self = e;
    *out = s;
    return 0;
}

static void ev_destroy(pp_stage *s)
{
    ev_free(s->self);
    free(s);
}

static double recent_mean(const double *x, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++) m += x[i];
    return n ? m / n : NAN;
}

static void write_status(ev *e, long long step)
{
    if (!e->o.status_path[0]) return;
    char line[256];
    int n = snprintf(line, sizeof line, "step %lld episodes %lld", step, e->episodes);
    if (e->nrecent) n += snprintf(line + n, sizeof line - (size_t)n, " return %.6g", recent_mean(e->recent_ret, e->nrecent));
    if (e->have_eval) n += snprintf(line + n, sizeof line - (size_t)n, " eval %.6g", e->last_eval_return);
    n += snprintf(line + n, sizeof line - (size_t)n, "\n");
    int fd = open(e->tmp_status, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return; /* the status line is a courtesy; never fail the ring for it */
    ssize_t w = write(fd, line, (size_t)n);
    close(fd);
    if (w == n) rename(e->tmp_status, e->o.status_path);
}

static void write_progress(ev *e, pp_frame *f, long long step)
{
    FILE *fp = e->progress;
    fprintf(fp, "%lld,%.3f,%lld,", step, e->wall_offset + pp_now() - e->t0, e->episodes);
    if (e->nrecent) fprintf(fp, "%.6g,%.6g", recent_mean(e->recent_ret, e->nrecent), recent_mean(e->recent_len, e->nrecent));
    else fputc(',', fp);
    fputc(',', fp);
    if (e->have_eval) fprintf(fp, "%.6g", e->last_eval_return);
    for (int i = 0; progress_metrics[i]; i++) {
        char path[64];
        double v;
        snprintf(path, sizeof path, "metrics.%s", progress_metrics[i]);
        fputc(',', fp);
        pp_node *n = pp_frame_get(f, path);
        if (n && pp_node_as_f64(n, &v) == 0) fprintf(fp, "%.6g", v);
    }
    fputc('\n', fp);
    fflush(fp);
}

static int ev_step(pp_stage *s, pp_frame *f)
{
    ev *e = s->self;
    int64_t step = 0;
    if (pp_frame_get(f, "step") && pp_frame_get_i64(f, "step", &step) != 0) return -1;
    if (pp_frame_remove(f, "metrics.eval") != 0) return -1;
    pp_node *n = pp_frame_get(f, "metrics.collect.episode_return");
    double v;
    if (n && pp_node_as_f64(n, &v) == 0) {
        e->recent_ret[e->recent_pos] = v;
        double len = 0;
        pp_node *ln = pp_frame_get(f, "metrics.collect.episode_length");
        if (ln) pp_node_as_f64(ln, &len);
        e->recent_len[e->recent_pos] = len;
        e->recent_pos = (e->recent_pos + 1) % RECENT;
        if (e->nrecent < RECENT) e->nrecent++;
        e->episodes++;
    }
    int evaluated = 0;
    if (e->o.every > 0 && step / e->o.every > e->last_eval / e->o.every && pp_frame_get(f, "policy")) {
        if (pp_actor_from_frame(f, "policy", 1, &e->actor) != 0) return -1;
        pp_eval_result r;
        if (pp_evaluate(e->env, e->o.env_name, e->actor, pp_actor_params(e->actor), e->o.episodes,
                        e->o.deterministic, e->o.seed, NULL, NULL, &r) != 0)
            return -1;
        int rc = 0;
        rc |= pp_frame_set_f64(f, "metrics.eval.return_mean", r.return_mean);
        rc |= pp_frame_set_f64(f, "metrics.eval.return_std", r.return_std);
        rc |= pp_frame_set_f64(f, "metrics.eval.return_min", r.return_min);
        rc |= pp_frame_set_f64(f, "metrics.eval.return_max", r.return_max);
        rc |= pp_frame_set_f64(f, "metrics.eval.length_mean", r.length_mean);
        if (r.have_score) rc |= pp_frame_set_f64(f, "metrics.eval.score", r.score);
        if (r.have_goals) rc |= pp_frame_set_f64(f, "metrics.eval.goals_reached", r.goals_reached);
        if (rc) return -1;
        if (e->log) {
            pp_eval_csv_row(e->log, step, &r);
            fflush(e->log);
        }
        e->last_eval = step;
        e->last_eval_return = r.return_mean;
        e->have_eval = 1;
        evaluated = 1;
    }
    if (e->progress && step / e->o.log_every > e->last_log / e->o.log_every) {
        write_progress(e, f, step);
        e->last_log = step;
    }
    double now = pp_now();
    if (evaluated || now - e->last_status >= 1.0) {
        write_status(e, step);
        e->last_status = now;
    }
    return 0;
}

static int ev_save(pp_stage *s, pp_frame *ck)
{
    ev *e = s->self;
    int rc = 0;
    rc |= pp_frame_set_str(ck, "config.env", e->o.env_name);
    rc |= pp_frame_set_i64(ck, "last_eval", e->last_eval);
    rc |= pp_frame_set_i64(ck, "last_log", e->last_log);
    rc |= pp_frame_set_i64(ck, "episodes", e->episodes);
    rc |= pp_frame_set_f64(ck, "wall_s", e->wall_offset + pp_now() - e->t0);
    if (e->have_eval) rc |= pp_frame_set_f64(ck, "last_eval_return", e->last_eval_return);
    return rc ? -1 : 0;
}

static int ev_load(pp_stage *s, pp_frame *ck)
{
    ev *e = s->self;
    long long a, b, c;
    if (pp_ckpt_get_int(ck, "last_eval", 0, INT64_MAX, &a) != 0 ||
        pp_ckpt_get_int(ck, "last_log", 0, INT64_MAX, &b) != 0 ||
        pp_ckpt_get_int(ck, "episodes", 0, INT64_MAX, &c) != 0 ||
        pp_frame_get_f64(ck, "wall_s", &e->wall_offset) != 0)
        return -1;
    e->last_eval = a;
    e->last_log = b;
    e->episodes = c;
    e->t0 = pp_now();
    if (pp_frame_get(ck, "last_eval_return")) {
        if (pp_frame_get_f64(ck, "last_eval_return", &e->last_eval_return) != 0) return -1;
        e->have_eval = 1;
    }
    return 0;
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
static const char *const eval_reads[] = {"step", "policy", "metrics", NULL};
static const char *const eval_owns[] = {NULL};
static const char *const eval_metrics[] = {"return_mean", "return_std", "return_min", "return_max", "length_mean", "score", "goals_reached", NULL};

const pp_stage_ops pp_stage_eval = {
    .kind = "eval",
    .reads = eval_reads,
    .owns = eval_owns,
    .metrics = eval_metrics,
    .summary = "Evaluation episodes of the frame's policy every --every steps (frames pass\n"
               "through); standalone with --policy CKPT.",
    .options_help = eval_options_help,
    .create = ev_create,
    .step = ev_step,
    .save = ev_save,
    .load = ev_load,
    .destroy = ev_destroy,
};

/* ---- standalone ---- */

static int is_standalone(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--policy") == 0 || strncmp(argv[i], "--policy=", 9) == 0) return 1;
    }
    return 0;
}

int pp_eval_main(int argc, char **argv)
{
    pp_set_progname(argv[0]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("Usage: parpi-eval --env NAME --policy CKPT [--episodes K] [--log CSV]\n"
                   "       parpi-eval --env NAME --every N [OPTIONS] <frames >frames   (ring mode)\n"
                   "Evaluation episodes of a policy (the mean action unless --stochastic): mean, std,\n"
                   "min and max of return and length, and the D4RL-normalised score where the task\n"
                   "has reference returns. Standalone prints one 'name value' line per figure.\n\n"
                   "Options:\n%s\nRing mode also takes the options of every stage: --checkpoint PATH,\n"
                   "--save-every N, --resume PATH, --in FILE, --out FILE, --threads N, --drop F1,F2,\n"
                   "--max-frame BYTES, --progress.\n"
                   "  -h, --help  this text;  --version  the version\n",
                   eval_options_help);
            return PP_EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("parpi-eval %s\n", PARPI_VERSION);
            return PP_EXIT_OK;
        }
    }
    if (!is_standalone(argc, argv)) {
        if (isatty(STDIN_FILENO)) {
            fprintf(stderr, "%s: no --policy, and stdin is a terminal: give --policy CKPT to evaluate "
                            "a checkpoint, or pipe frames in (ring mode; see --help)\n",
                    pp_progname());
            return PP_EXIT_USAGE;
        }
        return pp_stage_main("eval", argc, argv);
    }
    signal(SIGPIPE, SIG_IGN);
    eval_opts o;
    if (parse_eval(&o, argc, argv) != 0) {
        fprintf(stderr, "%s: %s\nTry 'parpi-eval --help'.\n", pp_progname(), pp_error());
        return PP_EXIT_USAGE;
    }
    pp_env *env = NULL;
    if (pp_env_create(o.env_name, o.env_options[0] ? o.env_options : NULL, &env) != 0) {
        fprintf(stderr, "%s: --env %s: %s\n", pp_progname(), o.env_name, pp_error());
        return PP_EXIT_USAGE;
    }
    pp_actor *actor = NULL;
    int rc = 0;
    if (pp_actor_from_file(o.policy_path, 1, &actor) != 0) rc = pp_fail_prefix("--policy: ");
    int64_t step = -1;
    if (rc == 0) { /* the step of a checkpoint, when it says */
        pp_frame *pf = pp_frame_new();
        uint8_t *buf = NULL;
        if (pp_frame_load_file(pf, o.policy_path, &buf) == 0 && pp_frame_get(pf, "step"))
            pp_frame_get_i64(pf, "step", &step);
        pp_frame_free(pf);
        free(buf);
    }
    const pp_env_info *info = pp_env_get_info(env);
    if (rc == 0 && (pp_actor_spec(actor)->obs_dim != info->obs_dim || pp_actor_spec(actor)->act_dim != info->act_dim))
        rc = pp_fail("--policy %s is for obs %d / act %d, but %s has obs %d / act %d", o.policy_path,
                     pp_actor_spec(actor)->obs_dim, pp_actor_spec(actor)->act_dim, o.env_name, info->obs_dim,
                     info->act_dim);
    pp_eval_result r;
    if (rc == 0)
        rc = pp_evaluate(env, o.env_name, actor, pp_actor_params(actor), o.episodes, o.deterministic, o.seed,
                         NULL, NULL, &r);
    if (rc == 0) {
        pp_eval_print(&r, stdout);
        if (fflush(stdout) != 0) rc = pp_fail("writing stdout: %s", strerror(errno));
    }
    if (rc == 0 && o.log_path[0]) {
        FILE *fp = open_csv(o.log_path, pp_eval_csv_header);
        if (!fp) rc = -1;
        else {
            pp_eval_csv_row(fp, step, &r);
            if (fclose(fp) != 0) rc = pp_fail("writing %s: %s", o.log_path, strerror(errno));
        }
    }
    pp_actor_free(actor);
    pp_env_free(env);
    if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
    return PP_EXIT_OK;
}
