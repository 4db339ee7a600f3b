/* train_plan.c - parpi-train's options, the stages of each configuration,
 * presets. The argument vectors are train_argv.c, the config file
 * train_config.c.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env/env.h"
#include "env/env_impl.h"
#include "base/err.h"
#include "train/train.h"
#include "base/share.h"

/* ---- options ---- */

enum {
    O_ENV = 256, O_ENV_OPTIONS, O_ALGO, O_BASE, O_DIVERGENCE, O_STEPS, O_SEED, O_OUT, O_RESUME,
    O_PRESET, O_EVAL_EVERY, O_EVAL_EPISODES, O_LOG_EVERY, O_SAVE_EVERY, O_THREADS, O_IN_PROCESS,
    O_PROGRESS, O_NO_PROGRESS, O_DRY_RUN, O_SET, O_BATCH_SIZE, O_LEARNING_STARTS, O_HELP,
    O_VERSION
};

static const struct option long_opts[] = {
    {"env", required_argument, 0, O_ENV},
    {"env-options", required_argument, 0, O_ENV_OPTIONS},
    {"algo", required_argument, 0, O_ALGO},
    {"base", required_argument, 0, O_BASE},
    {"divergence", required_argument, 0, O_DIVERGENCE},
    {"steps", required_argument, 0, O_STEPS},
    {"seed", required_argument, 0, O_SEED},
    {"out", required_argument, 0, O_OUT},
    {"resume", required_argument, 0, O_RESUME},
    {"preset", required_argument, 0, O_PRESET},
    {"eval-every", required_argument, 0, O_EVAL_EVERY},
    {"eval-episodes", required_argument, 0, O_EVAL_EPISODES},
    {"log-every", required_argument, 0, O_LOG_EVERY},
    {"save-every", required_argument, 0, O_SAVE_EVERY},
    {"threads", required_argument, 0, O_THREADS},
    {"in-process", no_argument, 0, O_IN_PROCESS},
    {"progress", no_argument, 0, O_PROGRESS},
    {"no-progress", no_argument, 0, O_NO_PROGRESS},
    {"dry-run", no_argument, 0, O_DRY_RUN},
    {"set", required_argument, 0, O_SET},
    {"batch-size", required_argument, 0, O_BATCH_SIZE},
    {"learning-starts", required_argument, 0, O_LEARNING_STARTS},
    {"help", no_argument, 0, O_HELP},
    {"version", no_argument, 0, O_VERSION},
    {0, 0, 0, 0},
};

static int parse_count(const char *opt, const char *v, long long lo, long long *out)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end); /* accepts 1e6 */
    if (errno || end == v || *end || d < (double)lo || d > 9e15 || d != (double)(long long)d)
        return pp_fail("--%s takes a whole number >= %lld, got '%s'", opt, lo, v);
    *out = (long long)d;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *opt, const char *v)
{
    if (strlen(v) >= cap) return pp_fail("--%s value is too long (%zu bytes at most)", opt, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int one_of(const char *opt, const char *v, const char *const *allowed)
{
    for (int i = 0; allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0) return 0;
    char list[256] = "";
    for (int i = 0; allowed[i]; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, allowed[i], sizeof list - strlen(list) - 1);
    }
    return pp_fail("--%s %s is not known, expected one of %s", opt, v, list);
}

static const char *const algos[] = {"parpi", "sac", "sql", NULL};
static const char *const bases[] = {"sac", "sql", NULL};
static const char *const divergences[] = {"jsd", "wd", "rkl", "hinge", NULL};

int pp_train_parse(pp_train *t, int argc, char **argv)
{
    memset(t, 0, sizeof *t);
    strcpy(t->algo, "parpi");
    strcpy(t->base, "sac");
    strcpy(t->divergence, "wd");
    t->steps = 1000000;
    t->eval_every = 1000;
    t->eval_episodes = 10;
    t->log_every = 1000;
    t->save_every = 10000;
    t->threads = 1;
    t->progress = -1;
    long long v;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
        const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case O_ENV: if (copy_str(t->env, sizeof t->env, "env", optarg)) return -1; break;
        case O_ENV_OPTIONS:
            if (copy_str(t->env_options, sizeof t->env_options, "env-options", optarg)) return -1;
            break;
        case O_ALGO:
            if (one_of("algo", optarg, algos) || copy_str(t->algo, sizeof t->algo, "algo", optarg))
                return -1;
            break;
        case O_BASE:
            if (one_of("base", optarg, bases) || copy_str(t->base, sizeof t->base, "base", optarg))
                return -1;
            break;
        case O_DIVERGENCE:
            if (one_of("divergence", optarg, divergences) ||
                copy_str(t->divergence, sizeof t->divergence, "divergence", optarg))
                return -1;
            break;
        case O_STEPS: if (parse_count("steps", optarg, 1, &t->steps)) return -1; break;
        case O_SEED:
            if (parse_count("seed", optarg, 0, &v)) return -1;
            t->seed = (unsigned long long)v;
            break;
        case O_OUT: if (copy_str(t->dir, sizeof t->dir, "out", optarg)) return -1; break;
        case O_RESUME:
            if (copy_str(t->dir, sizeof t->dir, "resume", optarg)) return -1;
            t->resume = 1;
            break;
        case O_PRESET: if (copy_str(t->preset, sizeof t->preset, "preset", optarg)) return -1; break;
        case O_EVAL_EVERY: if (parse_count("eval-every", optarg, 1, &t->eval_every)) return -1; break;
        case O_EVAL_EPISODES:
            if (parse_count("eval-episodes", optarg, 1, &v) || v > 100000)
                return pp_fail("--eval-episodes takes a count from 1 to 100000, got '%s'", optarg);
            t->eval_episodes = (int)v;
            break;
        case O_LOG_EVERY: if (parse_count("log-every", optarg, 1, &t->log_every)) return -1; break;
        case O_SAVE_EVERY: if (parse_count("save-every", optarg, 0, &t->save_every)) return -1; break;
        case O_THREADS:
            if (parse_count("threads", optarg, 1, &v) || v > 256)
                return pp_fail("--threads takes a count from 1 to 256, got '%s'", optarg);
            t->threads = (int)v;
            break;
        case O_IN_PROCESS: t->in_process = 1; break;
        case O_PROGRESS: t->progress = 1; break;
        case O_NO_PROGRESS: t->progress = 0; break;
        case O_DRY_RUN: t->dry_run = 1; break;
        case O_SET:
            if (!strchr(optarg, '.') || optarg[0] == '.')
                return pp_fail("--set takes STAGE.OPTION[=VALUE] (e.g. critic.gamma=0.98), got '%s'",
                               optarg);
            pp_argv_add(&t->sets, optarg);
            break;
        case O_BATCH_SIZE:
            if (parse_count("batch-size", optarg, 1, &v)) return -1;
            pp_argv_addf(&t->sets, "collect.batch-size=%lld", v);
            break;
        case O_LEARNING_STARTS:
            if (parse_count("learning-starts", optarg, 0, &v)) return -1;
            pp_argv_addf(&t->sets, "collect.learning-starts=%lld", v);
            break;
        case O_HELP: return 1;
        case O_VERSION: return 2;
        case ':': return pp_fail("option %s needs a value (see --help)", name);
        default: return pp_fail("unknown option %s (see --help)", name);
        }
    }
    if (optind < argc) return pp_fail("unexpected argument '%s' (see --help)", argv[optind]);
    if (!t->dir[0]) return pp_fail("--out DIR (a new run) or --resume DIR is required");
    if (!t->resume && !t->env[0]) return pp_fail("--env NAME is required (parpi-collect --list-envs lists them)");
    return 0;
}

/* ---- the plan ---- */

static pp_train_stage *add_stage(pp_train *t, const char *kind)
{
    pp_train_stage *s = &t->stage[t->nstages++];
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    return s;
}

/* --env NAME [--env-options K=V,...]: the collector and the evaluator act in the same task. */
static void add_env_args(const pp_train *t, pp_train_stage *s)
{
    pp_argv_add(&s->own, "--env");
    pp_argv_add(&s->own, t->env);
    if (t->env_options[0]) {
        pp_argv_add(&s->own, "--env-options");
        pp_argv_add(&s->own, t->env_options);
    }
}

static pp_train_stage *find_stage(pp_train *t, const char *kind)
{
    for (int i = 0; i < t->nstages; i++)
        if (strcmp(t->stage[i].kind, kind) == 0) return &t->stage[i];
    return NULL;
}

/* "critic.gamma=0.98" -> critic gets "--gamma" "0.98"; "train.X" is ignored here. */
static int apply_set(pp_train *t, const char *set, const char *where)
{
    char kind[32];
    const char *dot = strchr(set, '.');
    size_t n = (size_t)(dot - set);
    if (n >= sizeof kind) return pp_fail("%s: stage name too long in '%s'", where, set);
    memcpy(kind, set, n);
    kind[n] = '\0';
    if (strcmp(kind, "all") == 0) {
        for (int i = 0; i < t->nstages; i++) {
            char buf[600];
            snprintf(buf, sizeof buf, "%s%s", t->stage[i].kind, dot);
            if (apply_set(t, buf, where) != 0) return -1;
        }
        return 0;
    }
    pp_train_stage *s = find_stage(t, kind);
    if (!s) {
        /* Options for a stage this algorithm does not run are not an error
         * (a preset serves every algorithm); an unknown name is. */
        static const char *const any[] = {"collect", "critic", "langevin", "discrim", "policy",
                                          "eval", NULL};
        for (int i = 0; any[i]; i++)
            if (strcmp(kind, any[i]) == 0) return 0;
        return pp_fail("%s: unknown stage '%s' in '%s' (collect, critic, langevin, discrim, "
                       "policy, eval, all)",
                       where, kind, set);
    }
    const char *opt = dot + 1;
    const char *eq = strchr(opt, '=');
    if (eq) {
        pp_argv_addf(&s->own, "--%.*s", (int)(eq - opt), opt);
        pp_argv_add(&s->own, eq + 1);
    } else pp_argv_addf(&s->own, "--%s", opt);
    return 0;
}

static int find_preset(const pp_train *t, char *path, size_t cap)
{
    if (strcmp(t->preset, "none") == 0) return 1;
    if (t->preset[0]) {
        if (access(t->preset, R_OK) == 0) {
            snprintf(path, cap, "%s", t->preset);
            return 0;
        }
        char rel[600];
        snprintf(rel, sizeof rel, "presets/%s.conf", t->preset);
        if (pp_share_path(rel, path, cap) == 0) return 0;
        return pp_fail("--preset %s: no such file, and no %s in share/parpi", t->preset, rel);
    }
    char rel[600];
    snprintf(rel, sizeof rel, "presets/%s.conf", t->env);
    if (pp_share_path(rel, path, cap) == 0) return 0;
    snprintf(rel, sizeof rel, "presets/default.conf");
    if (pp_share_path(rel, path, cap) == 0) return 0;
    return 1; /* no preset: built-in defaults */
}

/* Preset file: "# comment" lines and "STAGE --option value ..." lines;
 * "train --steps N" style lines set the driver's defaults (read by parse).
 * Lines are added to the stage's own options in order. */
static int apply_preset(pp_train *t, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return pp_fail("cannot read preset %s: %s", path, strerror(errno));
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        pp_argv words = {0};
        if (pp_shell_split(p, &words) != 0) {
            rc = pp_fail_prefix("%s:%d: ", path, lineno);
            break;
        }
        const char *kind = words.argv[0];
        if (strcmp(kind, "train") != 0) {
            pp_train_stage *s = find_stage(t, kind);
            if (!s && strcmp(kind, "collect") && strcmp(kind, "critic") && strcmp(kind, "langevin") &&
                strcmp(kind, "discrim") && strcmp(kind, "policy") && strcmp(kind, "eval"))
                rc = pp_fail("%s:%d: unknown stage '%s' (collect, critic, langevin, discrim, policy, "
                             "eval, train)",
                             path, lineno, kind);
            else if (s)
                for (int i = 1; i < words.argc; i++) pp_argv_add(&s->own, words.argv[i]);
        }
        pp_argv_free(&words);
    }
    fclose(fp);
    return rc;
}

int pp_train_plan(pp_train *t)
{
    pp_env *env = NULL;
    if (pp_env_create(t->env, t->env_options[0] ? t->env_options : NULL, &env) != 0)
        return pp_fail_prefix("--env %s: ", t->env);
    const pp_env_info *info = pp_env_get_info(env);
    int obs_dim = info->obs_dim, act_dim = info->act_dim;
    pp_env_free(env);

    const char *D = t->dir;
    int parpi = strcmp(t->algo, "parpi") == 0;
    int sql_target = strcmp(t->algo, "sql") == 0 || (parpi && strcmp(t->base, "sql") == 0);

    pp_train_stage *s = add_stage(t, "collect");
    add_env_args(t, s);
    pp_argv_addf(&s->own, "--seed=%llu", t->seed);
    pp_argv_addf(&s->own, "--until=%lld", t->steps);
    pp_argv_addf(&s->own, "--replay=%s/replay.mp", D);
    pp_argv_addf(&s->own, "--log=%s/episodes.csv", D);

    s = add_stage(t, "critic");
    pp_argv_addf(&s->own, "--seed=%llu", t->seed);
    if (sql_target) pp_argv_add(&s->own, "--target=sql");

    if (parpi) {
        s = add_stage(t, "langevin");
        pp_argv_addf(&s->own, "--seed=%llu", t->seed);
        s = add_stage(t, "discrim");
        pp_argv_addf(&s->own, "--seed=%llu", t->seed);
        pp_argv_addf(&s->own, "--divergence=%s", t->divergence);
    }

    t->prime_index = t->nstages;
    s = add_stage(t, "policy");
    pp_argv_addf(&s->own, "--seed=%llu", t->seed);
    pp_argv_addf(&s->own, "--update=%s", parpi ? "parpi" : strcmp(t->algo, "sac") == 0 ? "sac" : "svgd");
    pp_argv_addf(&s->own, "--obs-dim=%d", obs_dim);
    pp_argv_addf(&s->own, "--act-dim=%d", act_dim);
    pp_argv_add(&s->own, "--prime");

    s = add_stage(t, "eval");
    add_env_args(t, s);
    pp_argv_addf(&s->own, "--seed=%llu", t->seed);
    pp_argv_addf(&s->own, "--every=%lld", t->eval_every);
    pp_argv_addf(&s->own, "--episodes=%d", t->eval_episodes);
    pp_argv_addf(&s->own, "--log=%s/eval.csv", D);
    pp_argv_addf(&s->own, "--progress-log=%s/progress.csv", D);
    pp_argv_addf(&s->own, "--log-every=%lld", t->log_every);
    pp_argv_addf(&s->own, "--status=%s/status", D);

    char preset[sizeof t->preset];
    int found = find_preset(t, preset, sizeof preset);
    if (found < 0) return -1;
    if (found == 0 && apply_preset(t, preset) != 0) return -1;
    if (found == 0) snprintf(t->preset, sizeof t->preset, "%s", preset);
    for (int i = 0; i < t->sets.argc; i++)
        if (apply_set(t, t->sets.argv[i], "--set") != 0) return -1;

    for (int i = 0; i < t->nstages; i++) {
        s = &t->stage[i];
        pp_argv_addf(&s->common, "--checkpoint=%s/ckpt/%s.ckpt", D, s->kind);
        if (t->save_every > 0) pp_argv_addf(&s->common, "--save-every=%lld", t->save_every);
        pp_argv_addf(&s->common, "--threads=%d", t->threads);
    }
    /* The policy stage is the last reader of the critic's q, the
     * discriminator's disc, the particles and the batch in a lap (the next
     * lap brings new ones): dropping them there halves what the pipes carry
     * and changes no number. */
    pp_argv_add(&t->stage[t->prime_index].common, "--drop=q,disc,particles,batch");
    /* Likewise the Langevin stage is the last reader of q and of the policy
     * (the policy stage keeps its own parameters and emits them anew):
     * nothing after it needs them, so the two largest tensors stop there. */
    for (int i = 0; i < t->nstages; i++)
        if (strcmp(t->stage[i].kind, "langevin") == 0)
            pp_argv_add(&t->stage[i].common, "--drop=q,policy");
    /* In the baselines the critic is the last reader of the frame's policy
     * (the SAC and SVGD updates use their own parameters). */
    if (strcmp(t->algo, "parpi") != 0)
        for (int i = 0; i < t->nstages; i++)
            if (strcmp(t->stage[i].kind, "critic") == 0) pp_argv_add(&t->stage[i].common, "--drop=policy");
    return 0;
}

void pp_train_add_resume(pp_train *t)
{
    for (int i = 0; i < t->nstages; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/ckpt/%s.ckpt", t->dir, t->stage[i].kind);
        if (access(path, R_OK) == 0) pp_argv_addf(&t->stage[i].common, "--resume=%s", path);
    }
}

void pp_train_set_steps(pp_train *t, long long steps)
{
    pp_train_stage *s = find_stage(t, "collect");
    if (!s) return;
    for (int i = 0; i < s->own.argc; i++)
        if (strncmp(s->own.argv[i], "--until=", 8) == 0) {
            free(s->own.argv[i]);
            char buf[64];
            snprintf(buf, sizeof buf, "--until=%lld", steps);
            s->own.argv[i] = strcpy(pp_xmalloc(strlen(buf) + 1), buf);
        }
    t->steps = steps;
}

void pp_train_free(pp_train *t)
{
    for (int i = 0; i < t->nstages; i++) {
        pp_argv_free(&t->stage[i].common);
        pp_argv_free(&t->stage[i].own);
    }
    pp_argv_free(&t->sets);
    t->nstages = 0;
}

void pp_train_program_path(const char *kind, char *buf, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, cap, "%s/parpi-%s", exe, kind);
            if (access(buf, X_OK) == 0) return;
        }
    }
    snprintf(buf, cap, "parpi-%s", kind); /* execvp searches PATH */
}

void pp_train_log(const pp_train *t, int echo, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char path[1200];
    snprintf(path, sizeof path, "%s/logs/train.log", t->dir);
    FILE *fp = fopen(path, "a");
    if (fp) {
        fprintf(fp, "%s\n", msg);
        fclose(fp);
    }
    if (echo) fprintf(stderr, "%s: %s\n", pp_progname(), msg);
}
