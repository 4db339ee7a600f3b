/* parpi-train - the driver: wires the stages into the training loop (a ring
 * of processes through a FIFO, or --in-process) and owns the run directory.
 * Its options are the table below (parsing and --help); the plan, the config
 * file and the two ways of running are lib/train/.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/opt.h"
#include "base/optarg.h"
#include "data/rows.h"
#include "env/env.h"
#include "stage/stage.h"
#include "train/train.h"
#include "train/train_lock.h"

#include "common.h"

/* The command line: the run's options (lib/train) and what only the
 * command line has. */
typedef struct {
    pp_train_opts o;
    char resume_dir[sizeof ((pp_train_opts *)0)->dir];
    char set[600];
    long long batch_size, learning_starts;
    int progress, no_progress, help, version;
} cli;

static const pp_opt options[] = {
    PP_OPT_STRING("env", cli, o.env, "NAME", NULL, "task (parpi-collect --list-envs)", 0),
    PP_OPT_STRING("env-options", cli, o.env_options, "K=V,..", NULL, "the task's constructor options", 0),
    PP_OPT_STRING("dataset", cli, o.dataset, "FILE", NULL,
                  "offline: learn from this data set (parpi-dataset(1)), no env steps; --env defaults to its task", 0),
    PP_OPT_CHOICE("algo", cli, o.algo, pp_train_algos, "parpi",
                  "algorithm (bc and brac: offline, with --dataset)", 0),
    PP_OPT_CHOICE("base", cli, o.base, pp_train_bases, "sac",
                  "ParPI's critic: SAC's or SQL's target, or BRAC's value penalty (offline)", 0),
    PP_OPT_CHOICE("divergence", cli, o.divergence, pp_train_divergences, "wd", "ParPI's divergence", 0),
    PP_OPT_STRING("behaviour", cli, o.behaviour, "FILE", NULL,
                  "brac, --base brac: the behaviour policy pi_beta (a policy checkpoint; default: trained "
                  "by BC first, into DIR/behaviour.ckpt)", 0),
    PP_OPT_COUNT("bc-steps", cli, o.bc_steps, 1, 1e15, "300000",
                 "brac, --base brac: gradient steps of that BC (BRAC's 300000)", 0),
    PP_OPT_COUNT("steps", cli, o.steps, 1, 1e15, "1000000", "environment steps (offline: gradient steps)", 0),
    PP_OPT_SEED("seed", cli, o.seed, "seed of every stage", 0),
    PP_OPT_STRING("out", cli, o.dir, "DIR", NULL, "run directory (created; must not hold a run)", 0),
    PP_OPT_STRING("resume", cli, resume_dir, "DIR", NULL, "continue the run in DIR from its last snapshot", 0),
    PP_OPT_STRING("preset", cli, o.preset, "FILE|NAME|none", NULL,
                  "stage options (default: share/parpi/presets/<env>.conf; offline: presets/offline/)", 0),
    PP_OPT_STRING("set", cli, set, "STAGE.OPT[=V]", NULL,
                  "one more stage option, e.g. critic.gamma=0.98; all.OPT: every stage that takes it",
                  0),
    PP_OPT_COUNT("batch-size", cli, batch_size, 1, 1e9, "256", "collect's batch size", 0),
    PP_OPT_COUNT("learning-starts", cli, learning_starts, 0, 1e15, "5000", "random-action steps before learning",
                 0),
    PP_OPT_COUNT("eval-every", cli, o.eval_every, 1, 1e15, "1000", "evaluate every N steps (offline: 5000)", 0),
    PP_OPT_INT("eval-episodes", cli, o.eval_episodes, 1, 100000, "10", "deterministic episodes per evaluation", 0),
    PP_OPT_COUNT("log-every", cli, o.log_every, 1, 1e15, "1000", "a progress.csv row every N steps", 0),
    PP_OPT_COUNT("save-every", cli, o.save_every, 0, 1e15, "10000", "a snapshot of every stage every N steps (0: at the end)", 0),
    PP_OPT_INT("threads", cli, o.threads, 1, 256, "1", "BLAS threads per stage", 0),
    PP_OPT_STRING("gemm", cli, o.gemm, "openblas|dnnl", NULL,
                  "every stage's matmul backend (default: PARPI_GEMM if set, else openblas)", 0),
    PP_OPT_STRING("precision", cli, o.precision, "fp32|bf16|auto", NULL,
                  "every stage's matmul operands (default: PARPI_PRECISION if set, else fp32); bf16 runs "
                  "through oneDNN (fp32 on a CPU without AVX-512, with a warning); auto: bf16 where oneDNN "
                  "reports AMX, resolved into the run's config",
                  0),
    PP_OPT_FLAG("in-process", cli, o.in_process, "chain the stages in this process (no pipes)", 0),
    PP_OPT_FLAG("eval-sync", cli, o.eval_sync,
                "evaluate in the ring's order of work, training waiting for each evaluation (default: "
                "beside the training, in a thread of the eval stage; the same results)",
                0),
    PP_OPT_FLAG("progress", cli, progress,
                "progress on stderr (the default): a live line on a terminal, else lines", 0),
    PP_OPT_FLAG("no-progress", cli, no_progress, "no progress lines (the summary line stays)", 0),
    PP_OPT_ROW("print-every", PP_OPT_T_DOUBLE, cli, o.print_every, 0, 86400, "30", NULL, "SECONDS",
               "no terminal: a line every SECONDS and at each evaluation (0: evaluations only)", NULL, 0),
    PP_OPT_FLAG("dry-run", cli, o.dry_run, "print the ring as a pipeline to paste (mkfifo, the stages) and exit",
                0),
    PP_OPT_FLAG("help", cli, help, "this text (also -h)", 0),
    PP_OPT_FLAG("version", cli, version, "the version", 0),
    PP_OPT_END,
};

/* Options that add to --set, in order with it (the last one wins). */
static const struct {
    const char *name, *set;
} shortcuts[] = {{"batch-size", "collect.batch-size"}, {"learning-starts", "collect.learning-starts"}};

static void usage(FILE *out)
{
    fputs("Usage: parpi-train --env NAME --out DIR [OPTIONS]\n"
          "       parpi-train --resume DIR [--steps N] [--save-every N] [--threads N] [--in-process] [--eval-sync]\n"
          "Train a policy: SAC, SQL, or ParPI on top of either, as a ring of parpi stages;\n"
          "offline from a data set (--dataset FILE): BC, BRAC, or ParPI on BRAC (--base brac).\n\n",
          out);
    pp_opt_help(options, out);
    fputs("\nRun directory: config, lock, ckpt/ (the last snapshot; ckpt/best/policy.ckpt: the best\n"
          "evaluation's policy), replay.mp, progress.csv, eval.csv, episodes.csv, status,\n"
          "logs/<stage>.log. See parpi-train(1).\n",
          out);
}

/* After pp_opt_set of row: what else the row means. */
static int take(cli *c, const pp_opt *row)
{
    if (strcmp(row->name, "set") == 0) {
        if (!strchr(c->set, '.') || c->set[0] == '.')
            return pp_fail("--set: '%s', expected STAGE.OPTION[=VALUE] (e.g. critic.gamma=0.98)", c->set);
        pp_argv_add(&c->o.sets, c->set);
    } else if (strcmp(row->name, "resume") == 0) {
        memcpy(c->o.dir, c->resume_dir, sizeof c->o.dir);
        c->o.resume = 1;
    } else if (strcmp(row->name, "progress") == 0) {
        c->o.progress = 1;
    } else if (strcmp(row->name, "no-progress") == 0) {
        c->o.progress = 0;
    } else {
        for (size_t i = 0; i < sizeof shortcuts / sizeof *shortcuts; i++)
            if (strcmp(row->name, shortcuts[i].name) == 0)
                pp_argv_addf(&c->o.sets, "%s=%lld", shortcuts[i].set,
                             strcmp(row->name, "batch-size") == 0 ? c->batch_size : c->learning_starts);
    }
    return 0;
}

/* An option word that is no row's name (an unknown or abbreviated one):
 * the message, with the nearest names (within 2 edits, or those it begins). */
static int unknown_option(const char *word)
{
    char name[64], hint[256] = "";
    snprintf(name, sizeof name, "%.*s", (int)strcspn(word + 2, "="), word + 2);
    int best = strlen(name) >= 4 ? 3 : 2, k = 0; /* at most 2 edits (1 for a short name) */
    for (int i = 0; options[i].name; i++) {
        int d = pp_edit_distance(name, options[i].name, 0);
        if (d < best) best = d;
    }
    if (best == (strlen(name) >= 4 ? 3 : 2)) best = -1; /* none near */
    for (int i = 0; options[i].name && k < 3; i++)
        if (pp_edit_distance(name, options[i].name, 0) == best ||
            (name[0] && strncmp(options[i].name, name, strlen(name)) == 0)) {
            size_t o = strlen(hint);
            snprintf(hint + o, sizeof hint - o, "%s--%s", k++ ? " or " : " (did you mean ", options[i].name);
        }
    if (k) strncat(hint, "?)", sizeof hint - strlen(hint) - 1);
    return pp_fail("unknown option --%s%s", name, hint);
}

/* Parse argv into c (usage errors: -1 with a message). *given: bit i for
 * each row i met. Options are not abbreviated (--step is not --steps). */
static int parse(cli *c, int argc, char **argv, uint64_t *given)
{
    memset(c, 0, sizeof *c);
    if (pp_opt_defaults(options, c) != 0) return -1;
    c->o.progress = -1;
    *given = 0;
    struct option lo[PP_OPT_MAX_ROWS + 1];
    int n = 0;
    for (; options[n].name; n++)
        lo[n] = (struct option){options[n].name, options[n].type == PP_OPT_T_FLAG ? no_argument : required_argument,
                                NULL, 256 + n};
    lo[n] = (struct option){0, 0, 0, 0};
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        if (ch == 'h') {
            c->help = 1;
            continue;
        }
        if (ch == '?' && optind > 0 && strncmp(argv[optind - 1], "--", 2) == 0 && argv[optind - 1][2])
            return unknown_option(argv[optind - 1]);
        if (ch < 256 || ch >= 256 + n) return pp_optarg_unknown(argv, optind, optopt, ch == ':');
        const pp_opt *row = &options[ch - 256];
        /* the word as typed: getopt_long takes a unique prefix, we do not */
        const char *word = optarg && optind >= 2 && optarg == argv[optind - 1] ? argv[optind - 2] : argv[optind - 1];
        size_t len = strcspn(word + 2, "=");
        if (strncmp(word, "--", 2) == 0 && (len != strlen(row->name) || strncmp(word + 2, row->name, len) != 0))
            return unknown_option(word);
        if (pp_opt_set(row, c, optarg ? optarg : "") != 0 || take(c, row) != 0) return -1;
        *given |= (uint64_t)1 << (ch - 256);
    }
    if (optind < argc) return pp_fail("unexpected argument '%s'", argv[optind]);
    return 0;
}

static int given_row(uint64_t given, const char *name)
{
    for (int i = 0; options[i].name; i++)
        if (strcmp(options[i].name, name) == 0) return (int)(given >> i & 1);
    return 0;
}

/* ---- the run directory ---- */

/* Directories this start made (to take away again if it fails before the
 * run exists), deepest last. */
typedef struct {
    char path[8][1200];
    int n;
} made_dirs;

static int make_dir(const char *path, made_dirs *made)
{
    if (mkdir(path, 0755) == 0) {
        if (made && made->n < 8) snprintf(made->path[made->n++], sizeof made->path[0], "%s", path);
        return 0;
    }
    if (errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) return pp_fail("cannot make %s: a file is in the way", path);
        return 0;
    }
    return pp_fail("cannot make %s: %s", path, strerror(errno));
}

static int mkdir_p(const char *path, made_dirs *made)
{
    char buf[1200];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return pp_fail("%s: the name is too long", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/' && p[-1] != '/') {
            *p = '\0';
            if (make_dir(buf, made) != 0) return -1;
            *p = '/';
        }
    return make_dir(buf, made);
}

/* A start that failed before the run existed leaves nothing: what it made,
 * deepest first (a directory that is not empty stays). */
static void undo_dirs(const char *dir, made_dirs *made)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/.config.tmp", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock", dir);
    unlink(path);
    while (made->n > 0) rmdir(made->path[--made->n]);
}

/* Can this process make files in dir? A read-only or full file system is
 * found now, not at the first checkpoint. */
static int probe_write(const char *dir)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/.parpi-write-test.%ld", dir, (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return pp_fail("cannot write in %s: %s", dir, strerror(errno));
    int bad = write(fd, "x", 1) != 1;
    int err = errno;
    close(fd);
    unlink(path);
    if (bad) return pp_fail("cannot write in %s: %s", dir, strerror(err));
    return 0;
}

/* The folders the stages write into: logs/, ckpt/, ckpt/best/. */
static int make_subdirs(const char *dir, made_dirs *made)
{
    static const char *const sub[] = {"logs", "ckpt", "ckpt/best", NULL};
    char path[1200];
    for (int i = 0; sub[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, sub[i]);
        if (make_dir(path, made) != 0) return -1;
    }
    if (probe_write(dir) != 0) return -1;
    snprintf(path, sizeof path, "%s/ckpt", dir);
    return probe_write(path);
}

/* ---- checking a plan before anything is made ---- */

/* The file options the stages write: left out of the check (they are made
 * only when the run starts). */
static const char *const output_options[] = {"replay", "log", "progress-log", "status", "best", NULL};

/* The row of option word w ("--name" or "--name=V") in the stage's table
 * (name copied into name), or NULL. */
static const pp_opt *option_row(const pp_stage_ops *ops, const char *w, char *name, size_t cap)
{
    if (strncmp(w, "--", 2) != 0) return NULL;
    size_t n = strcspn(w + 2, "=");
    if (n == 0 || n >= cap) return NULL;
    memcpy(name, w + 2, n);
    name[n] = '\0';
    return ops->options ? pp_opt_find(ops->options, name) : NULL;
}

/* The options a resume may give besides --resume: how the run goes on
 * from here (its end, its cadence of snapshots, its threads, how it runs),
 * not its course. */
static const char *const resume_may[] = {"resume", "steps", "save-every", "threads", "in-process", "eval-sync",
                                         "progress", "no-progress", "dry-run", "help", "version", NULL};

static int listed(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0) return 1;
    return 0;
}

/* Create each stage of the plan from its own options, as the run will (but
 * with no output files), and free it: a bad --set or preset value, an
 * unknown option or a stage's own check fails here, before the run
 * directory exists. The message names the stage. */
static int check_stages(const pp_train *t, const char *prior)
{
    for (int i = 0; i < t->nstages; i++) {
        const pp_train_stage *s = &t->stage[i];
        const pp_stage_ops *ops = pp_stage_lookup(s->kind);
        if (!ops) return pp_fail("unknown stage kind '%s'", s->kind);
        pp_argv a = {0};
        pp_argv_addf(&a, "parpi-%s", s->kind);
        for (int k = 0; k < s->own.argc; k++) {
            const char *w = s->own.argv[k];
            char name[64];
            const pp_opt *row = option_row(ops, w, name, sizeof name);
            if (row && row->type == PP_OPT_T_STRING && listed(output_options, name)) {
                pp_argv_addf(&a, "--%s=", name);
                if (!strchr(w, '=') && k + 1 < s->own.argc) k++; /* its value */
                continue;
            }
            if (prior && strcmp(w, "--prior=" PP_TRAIN_BEHAVIOUR) == 0) { /* not trained yet */
                pp_argv_addf(&a, "--prior=%s", prior);
                continue;
            }
            pp_argv_add(&a, w);
        }
        pp_stage *st = NULL;
        int rc = pp_stage_create(s->kind, a.argc, a.argv, &st);
        pp_stage_free(st);
        pp_argv_free(&a);
        if (rc != 0) return pp_fail_prefix("stage %s: ", s->kind);
    }
    return 0;
}

/* A policy of the task's sizes, freshly made (parpi-policy --prime's frame),
 * in a temporary file: what check_stages gives the stages that read
 * behaviour.ckpt before the BC phase has made it. 0 with the path in buf
 * (the caller unlinks it), or -1. */
static int standin_prior(const pp_train *t, char *buf, size_t cap)
{
    pp_env *env = NULL;
    if (pp_env_create(t->o.env, t->o.env_options[0] ? t->o.env_options : NULL, &env) != 0) return -1;
    char od[32], ad[32];
    snprintf(od, sizeof od, "--obs-dim=%d", pp_env_get_info(env)->obs_dim);
    snprintf(ad, sizeof ad, "--act-dim=%d", pp_env_get_info(env)->act_dim);
    pp_env_free(env);
    char *argv[] = {"parpi-policy", od, ad, "--prime", "--hidden=1", "--layers=1", NULL};
    pp_stage *st = NULL;
    if (pp_stage_create("policy", 6, argv, &st) != 0) return -1;
    pp_frame *f = pp_frame_new();
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, cap, "%s/parpi-train-prior.%ld", tmp && tmp[0] ? tmp : "/tmp", (long)getpid());
    int rc = st->ops->prime(st, f) == 1 ? pp_frame_save_file_atomic(f, buf) : -1;
    pp_frame_free(f);
    pp_stage_free(st);
    return rc == 0 ? 0 : pp_fail_prefix("checking the plan: ");
}

/* check_stages, with a stand-in for a behaviour policy not made yet. */
static int check_plan_stages(const pp_train *t)
{
    char path[1300], prior[1100];
    snprintf(path, sizeof path, "%s/%s", t->o.dir, PP_TRAIN_BEHAVIOUR);
    if (!pp_train_needs_behaviour(&t->o) || t->o.behaviour[0]) return check_stages(t, NULL);
    if (access(path, F_OK) == 0) return check_stages(t, path);
    if (standin_prior(t, prior, sizeof prior) != 0) return -1;
    int rc = check_stages(t, prior);
    unlink(prior);
    return rc;
}

/* The value stage kind gets for option name in the plan (its last
 * occurrence, else the row's default) into buf: 1, or 0 when the ring has
 * no such stage or the stage no such option. */
static int plan_value(const pp_train *t, const char *kind, const char *name, char *buf, size_t cap)
{
    for (int i = 0; i < t->nstages; i++) {
        const pp_train_stage *s = &t->stage[i];
        if (strcmp(s->kind, kind) != 0) continue;
        const pp_stage_ops *ops = pp_stage_lookup(kind);
        const pp_opt *row = ops && ops->options ? pp_opt_find(ops->options, name) : NULL;
        if (!row) return 0;
        snprintf(buf, cap, "%s", row->def ? row->def : "");
        for (int k = 0; k < s->own.argc; k++) {
            char n[64];
            const char *w = s->own.argv[k];
            if (!option_row(ops, w, n, sizeof n) || strcmp(n, name) != 0) continue;
            const char *eq = strchr(w, '=');
            if (eq) snprintf(buf, cap, "%s", eq + 1);
            else if (row->type == PP_OPT_T_FLAG) snprintf(buf, cap, "1");
            else if (k + 1 < s->own.argc) snprintf(buf, cap, "%s", s->own.argv[++k]);
        }
        return 1;
    }
    return 0;
}

static long long plan_count(const pp_train *t, const char *kind, const char *name, long long dflt)
{
    char v[64];
    return plan_value(t, kind, name, v, sizeof v) ? (long long)strtod(v, NULL) : dflt;
}

/* The first step with an update: the collector gives a batch from step
 * --learning-starts on, once its replay holds --batch-size transitions. */
static long long first_update(const pp_train *t)
{
    char v[600];
    if (plan_value(t, "collect", "dataset", v, sizeof v) && v[0]) return 1; /* offline: every step */
    long long ls = plan_count(t, "collect", "learning-starts", 0), bs = plan_count(t, "collect", "batch-size", 1);
    return ls > bs ? ls : bs;
}

/* What the stages' options must agree on (R10): every stage's task is the
 * run's; the collector's batch fits every learner's --max-batch and the
 * replay. Usage errors. */
static int check_agree(const pp_train *t)
{
    for (int i = 0; i < t->nstages; i++) {
        const char *kind = t->stage[i].kind;
        char v[600];
        if (plan_value(t, kind, "env", v, sizeof v) && v[0] && strcmp(v, t->o.env) != 0)
            return pp_fail("stage %s is given --env %s, but the run's is %s: every stage acts in the run's "
                           "task (give --env)", kind, v, t->o.env);
        if (plan_value(t, kind, "env-options", v, sizeof v) && v[0] && strcmp(v, t->o.env_options) != 0)
            return pp_fail("stage %s is given --env-options %s, but the run's are '%s' (give --env-options)",
                           kind, v, t->o.env_options);
    }
    long long bs = plan_count(t, "collect", "batch-size", 0), cap = plan_count(t, "collect", "capacity", 0);
    if (bs > 0 && cap > 0 && bs > cap)
        return pp_fail("--batch-size %lld is larger than the replay buffer (collect --capacity %lld): "
                       "no batch would ever fill", bs, cap);
    for (int i = 0; i < t->nstages; i++) {
        long long max = plan_count(t, t->stage[i].kind, "max-batch", 0);
        if (max > 0 && bs > max)
            return pp_fail("--batch-size %lld is above parpi-%s's --max-batch %lld: raise it with "
                           "--set %s.max-batch=%lld (or --set all.max-batch=%lld)",
                           bs, t->stage[i].kind, max, t->stage[i].kind, bs, bs);
    }
    return 0;
}

/* A run that ends before its first update trains nothing: say so. */
static void warn_no_learning(const pp_train *t)
{
    long long first = first_update(t);
    if (t->o.steps > first) return;
    fprintf(stderr, "%s: warning: --steps %lld ends the run before learning starts (step %lld: "
            "--learning-starts %lld, --batch-size %lld): the policy will not be trained; give more "
            "--steps or a smaller --learning-starts\n",
            pp_progname(), t->o.steps, first, plan_count(t, "collect", "learning-starts", 0),
            plan_count(t, "collect", "batch-size", 0));
}

/* ---- --dry-run ---- */

static void put_quoted(FILE *out, const char *word)
{
    char q[PP_STAGE_PATH_MAX + 512];
    pp_shell_quote(word, q, sizeof q);
    fputs(q, out);
}

/* The ring as a shell pipeline to paste: the folders and the FIFO, then one
 * stage a line, each but the last ending in '|'. */
static int print_pipeline(const pp_train *t, FILE *out)
{
    char path[1200];
    pp_argv bc = {0}; /* BRAC's pi_beta first: the BC run, its policy copied */
    if (pp_train_behaviour_argv(t, &bc) != 0) {
        for (int k = 0; k < bc.argc; k++) {
            if (k) fputc(' ', out);
            put_quoted(out, bc.argv[k]);
        }
        snprintf(path, sizeof path, "%s/behaviour/ckpt/policy.ckpt", t->o.dir);
        fputs("\ncp ", out);
        put_quoted(out, path);
        snprintf(path, sizeof path, "%s/%s", t->o.dir, PP_TRAIN_BEHAVIOUR);
        fputc(' ', out);
        put_quoted(out, path);
        fputc('\n', out);
    }
    pp_argv_free(&bc);
    snprintf(path, sizeof path, "%s/ckpt/best", t->o.dir);
    fputs("mkdir -p ", out);
    put_quoted(out, path);
    snprintf(path, sizeof path, "%s/ring", t->o.dir);
    fputs(" && rm -f ", out);
    put_quoted(out, path);
    fputs(" && mkfifo ", out);
    put_quoted(out, path);
    fputc('\n', out);
    for (int i = 0; i < t->nstages; i++) {
        char prog[32];
        snprintf(prog, sizeof prog, "parpi-%s", t->stage[i].kind);
        pp_argv a = {0};
        pp_train_stage_argv(t, &t->stage[i], prog, &a);
        for (int k = 0; k < a.argc; k++) {
            if (k) fputc(' ', out);
            put_quoted(out, a.argv[k]);
        }
        pp_argv_free(&a);
        if (i == 0) {
            fputs(" <", out);
            put_quoted(out, path);
        }
        if (i == t->nstages - 1) {
            fputs(" >", out);
            put_quoted(out, path);
        } else {
            fputs(" |", out);
        }
        fputc('\n', out);
    }
    return ferror(out) ? pp_fail("writing the plan: %s", strerror(errno)) : 0;
}

/* The preset as the plan resolved it (a path, or "none"). */
static void resolved_preset(const char *preset, const pp_train_opts *run, char *buf, size_t cap)
{
    static pp_train_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.preset, sizeof o.preset, "%s", preset);
    snprintf(o.env, sizeof o.env, "%s", run->env);
    snprintf(o.dataset, sizeof o.dataset, "%s", run->dataset);
    int found = pp_train_preset_path(&o, buf, cap);
    if (found != 0) snprintf(buf, cap, "%s", found > 0 ? "none" : preset);
}

/* A resumed run goes on as it was started: an option of this command line
 * that fixes its course (--env, --algo, --seed, --set, ...) must be the
 * run's. -1 with the difference named. */
static int check_fixed(const cli *c, uint64_t given, const cli *run, const char *dir)
{
    for (int i = 0; options[i].name; i++) {
        const pp_opt *row = &options[i];
        if (!(given >> i & 1) || listed(resume_may, row->name)) continue;
        if (strcmp(row->name, "out") == 0)
            return pp_fail("--out and --resume: --out starts a new run, --resume %s continues one in its own "
                           "directory",
                           dir);
        if (strcmp(row->name, "set") == 0 || strcmp(row->name, "batch-size") == 0 ||
            strcmp(row->name, "learning-starts") == 0) {
            for (int k = 0; k < c->o.sets.argc; k++) {
                int found = 0;
                for (int j = 0; j < run->o.sets.argc && !found; j++)
                    found = strcmp(c->o.sets.argv[k], run->o.sets.argv[j]) == 0;
                if (!found)
                    return pp_fail("--set %s: the run in %s was started without it, and a resume goes on with the "
                                   "run's stage options (%s/config)",
                                   c->o.sets.argv[k], dir, dir);
            }
            continue;
        }
        char mine[1100], theirs[1100];
        if (strcmp(row->name, "preset") == 0) {
            /* the run keeps the file the name found at its start; the same
             * file name will do (the share folder may be elsewhere now) */
            resolved_preset(c->o.preset, &run->o, mine, sizeof mine);
            snprintf(theirs, sizeof theirs, "%s", run->o.preset[0] ? run->o.preset : "none");
            const char *a = strrchr(mine, '/'), *b = strrchr(theirs, '/');
            if (strcmp(a ? a + 1 : mine, b ? b + 1 : theirs) == 0) continue;
        } else {
            pp_opt_format(row, c, mine, sizeof mine);
            pp_opt_format(row, run, theirs, sizeof theirs);
        }
        if (strcmp(mine, theirs) != 0)
            return pp_fail("--%s %s: the run in %s was started with --%s %s, and a resume goes on as the run was "
                           "started (it may change --steps, --save-every, --threads, --in-process, --eval-sync)",
                           row->name, mine, dir, row->name, theirs);
    }
    return 0;
}

/* --resume DIR: the plan and the run's options from DIR/config; of this
 * command line only --steps (which moves the end of the run, and is kept in
 * the config), --save-every, --threads, --in-process, --eval-sync, --progress and
 * --dry-run count, and any other option must be the run's. *from: the step
 * of the snapshot it goes on from (-1: from the start). 0; 2 for a usage
 * error; -1 for another (the message kept). */
static int load_run(pp_train *t, const cli *c, uint64_t given, long long *from)
{
    char dir[sizeof t->o.dir];
    memcpy(dir, c->resume_dir, sizeof dir);
    pp_argv words = {0};
    if (pp_train_config_read(t, dir, &words) != 0) {
        pp_argv_free(&words);
        return -1;
    }
    char *argv[PP_TRAIN_MAX_ARGS + 4];
    int n = 0;
    argv[n++] = "parpi-train";
    for (int i = 0; i < words.argc; i++) argv[n++] = words.argv[i];
    argv[n++] = "--out";
    argv[n++] = dir;
    argv[n] = NULL;
    cli run;
    uint64_t run_given;
    int rc = parse(&run, n, argv, &run_given);
    pp_argv_free(&words);
    if (rc != 0) {
        pp_argv_free(&run.o.sets);
        return pp_fail_prefix("%s/config, the train line: ", dir);
    }
    if (check_fixed(c, given, &run, dir) != 0) {
        pp_argv_free(&run.o.sets);
        return 2;
    }
    t->o = run.o;
    t->o.in_process = c->o.in_process;
    t->o.eval_sync = c->o.eval_sync;
    t->o.progress = c->o.progress;
    t->o.print_every = c->o.print_every;
    t->o.dry_run = c->o.dry_run;
    t->o.resume = 1;
    if (pp_train_config_upgrade(t) < 0) return pp_fail_prefix("%s/config: ", dir);
    if (given_row(given, "steps")) pp_train_set_steps(t, c->o.steps);
    if (given_row(given, "save-every")) pp_train_set_save_every(t, c->o.save_every);
    if (given_row(given, "threads")) pp_train_set_threads(t, c->o.threads);
    if (pp_train_resume_point(t, from) != 0) return pp_fail_prefix("--resume %s: ", dir);
    if (given_row(given, "steps") && c->o.steps < *from) {
        pp_fail("--steps %lld: the run in %s is at step %lld already", c->o.steps, dir, *from);
        return 2;
    }
    return 0;
}

/* Usage errors found after parsing. */
static int check_cli(const cli *c, uint64_t given)
{
    if (!c->o.dir[0]) return pp_fail("--out DIR (a new run) or --resume DIR is required");
    if (c->o.resume && given_row(given, "out"))
        return pp_fail("give --out DIR (a new run) or --resume DIR (an old one), not both");
    if (c->o.resume) return 0;
    if (!c->o.env[0] && !c->o.dataset[0])
        return pp_fail("--env NAME is required (parpi-collect --list-envs lists them), or --dataset FILE");
    const char *algo = pp_train_algos[c->o.algo];
    int brac_base = strcmp(algo, "parpi") == 0 && strcmp(pp_train_bases[c->o.base], "brac") == 0;
    if (!c->o.dataset[0] && (strcmp(algo, "bc") == 0 || strcmp(algo, "brac") == 0 || brac_base))
        return pp_fail("--algo %s%s learns from a data set: give --dataset FILE (parpi-dataset(1) makes one)",
                       algo, brac_base ? " --base brac" : "");
    if (!pp_train_needs_behaviour(&c->o))
        for (int i = 0; i < 2; i++) {
            const char *flag = i ? "bc-steps" : "behaviour";
            if (given_row(given, flag))
                return pp_fail("--%s is for the runs that read a behaviour policy (--algo brac, --base brac)",
                               flag);
        }
    if (given_row(given, "behaviour") && given_row(given, "bc-steps"))
        return pp_fail("--behaviour gives pi_beta, --bc-steps trains it: give one");
    if (strcmp(pp_train_algos[c->o.algo], "parpi") != 0)
        for (int i = 0; i < 2; i++) {
            const char *flag = i ? "base" : "divergence";
            if (given_row(given, flag))
                return pp_fail("--%s is for --algo parpi: --algo %s has no %s", flag, pp_train_algos[c->o.algo],
                               i ? "ParPI base (its critic target is its own)" : "divergence");
        }
    /* the config file is one line per stage */
    if (strpbrk(c->o.dir, "\n\r"))
        return pp_fail("--out: a run directory's name cannot hold a line break");
    return 0;
}

/* --env by its registered name (the alias Pendulum is Pendulum-v1), so the
 * preset and every stage see the same task. */
static int canonical_env(pp_train_opts *o)
{
    pp_env *env = NULL;
    if (pp_env_create(o->env, o->env_options[0] ? o->env_options : NULL, &env) != 0)
        return pp_fail_prefix("--env %s: ", o->env);
    snprintf(o->env, sizeof o->env, "%s", pp_env_get_info(env)->name);
    pp_env_free(env);
    return 0;
}

/* An offline run's data set by its absolute path (the run may be resumed
 * from elsewhere), and its task for --env when not given; --eval-every
 * 5000 unless given (offline runs count gradient steps); --behaviour by
 * its absolute path. */
/* The path of option --opt in place, made absolute (path holds cap bytes). */
static int make_absolute(const char *opt, char *path, size_t cap)
{
    char abs[PATH_MAX];
    if (!realpath(path, abs)) return pp_fail("--%s %s: %s", opt, path, strerror(errno));
    if (strlen(abs) >= cap) return pp_fail("--%s %s: the path is too long", opt, abs);
    memcpy(path, abs, strlen(abs) + 1);
    return 0;
}

static int offline_defaults(pp_train_opts *o, uint64_t given)
{
    if (o->behaviour[0] && make_absolute("behaviour", o->behaviour, sizeof o->behaviour) != 0) return -1;
    if (!o->dataset[0]) return 0;
    if (make_absolute("dataset", o->dataset, sizeof o->dataset) != 0) return -1;
    if (!given_row(given, "eval-every")) o->eval_every = 5000;
    if (o->env[0]) return 0;
    pp_rows_reader *r;
    if (pp_rows_open(&r, o->dataset) != 0) return pp_fail_prefix("--dataset %s: ", o->dataset);
    snprintf(o->env, sizeof o->env, "%s", pp_rows_head_of(r)->env);
    pp_rows_close(r);
    if (!o->env[0])
        return pp_fail("--dataset %s does not say its task: give --env NAME (parpi-dataset import --env sets it)",
                       o->dataset);
    return 0;
}

/* A new run: check it all, then make the directory, lock it and write the
 * config. A failure before the config is written takes away what it made.
 * The exit status on failure (2: usage, 1: the directory), or 0 with *lock. */
static int start_run(pp_train *t, int *lock)
{
    *lock = -1;
    char cfg[1200], lockpath[1200];
    snprintf(cfg, sizeof cfg, "%s/config", t->o.dir);
    snprintf(lockpath, sizeof lockpath, "%s/lock", t->o.dir);
    if (access(cfg, F_OK) == 0) {
        /* a run that is going says who runs it */
        if (access(lockpath, F_OK) == 0 && pp_train_lock(t->o.dir, lock) == 1) return PP_EXIT_FAILURE;
        pp_train_unlock(*lock);
        *lock = -1;
        pp_fail("%s already holds a run (%s exists): continue it with --resume %s, or choose another --out",
                t->o.dir, cfg, t->o.dir);
        return PP_EXIT_FAILURE;
    }
    if (canonical_env(&t->o) != 0 || pp_train_plan(t) != 0 || check_plan_stages(t) != 0 || check_agree(t) != 0)
        return PP_EXIT_USAGE;
    warn_no_learning(t);
    if (t->o.dry_run) return 0;

    made_dirs made = {.n = 0};
    if (mkdir_p(t->o.dir, &made) != 0) {
        undo_dirs(t->o.dir, &made);
        return PP_EXIT_FAILURE;
    }
    if (pp_train_lock(t->o.dir, lock) != 0) { /* someone else's: touch nothing */
        while (made.n > 0) rmdir(made.path[--made.n]);
        return PP_EXIT_FAILURE;
    }
    int rc = 0;
    if (access(cfg, F_OK) == 0) /* made while we were checking */
        rc = pp_fail("%s already holds a run (%s exists): continue it with --resume %s, or choose another --out",
                     t->o.dir, cfg, t->o.dir);
    if (rc == 0) rc = make_subdirs(t->o.dir, &made);
    if (rc == 0) rc = pp_train_config_write(t);
    if (rc != 0) {
        undo_dirs(t->o.dir, &made);
        pp_train_unlock(*lock);
        *lock = -1;
        return PP_EXIT_FAILURE;
    }
    return 0;
}

/* --resume: lock the directory (when there is one; else reading its config
 * says what is wrong), then read its plan. */
static int resume_run(pp_train *t, const cli *c, uint64_t given, int *lock, long long *from)
{
    *lock = -1;
    struct stat st;
    if (!c->o.dry_run && stat(c->resume_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
        pp_train_lock(c->resume_dir, lock) != 0)
        return PP_EXIT_FAILURE;
    int rc = load_run(t, c, given, from);
    if (rc == 2) return PP_EXIT_USAGE;
    if (rc != 0) return PP_EXIT_FAILURE;
    if (given_row(given, "steps")) warn_no_learning(t);
    if (!t->o.dry_run && make_subdirs(t->o.dir, NULL) != 0) return PP_EXIT_FAILURE;
    return 0;
}

int main(int argc, char **argv)
{
    pp_cmd_start(argv[0]);
    switch (pp_cmd_help_or_version(argc, argv)) {
    case PP_CMD_HELP: usage(stdout); return pp_cmd_flush_stdout();
    case PP_CMD_VERSION: return pp_cmd_version("parpi-train");
    }
    static cli c;
    static pp_train t; /* large: the stages' paths */
    uint64_t given;
    if (parse(&c, argc, argv, &given) != 0 || check_cli(&c, given) != 0) {
        fprintf(stderr, "%s: %s\nTry 'parpi-train --help'.\n", pp_progname(), pp_error());
        pp_argv_free(&c.o.sets);
        return PP_EXIT_USAGE;
    }
    double t0 = pp_now();
    int lock = -1, rc;
    long long from = -1; /* the step a resumed run goes on from */
    if (c.o.resume) {
        rc = resume_run(&t, &c, given, &lock, &from);
        pp_argv_free(&c.o.sets); /* the run's own --set list counts */
    } else {
        t.o = c.o;
        rc = offline_defaults(&t.o, given) != 0 ? PP_EXIT_USAGE : start_run(&t, &lock);
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
        if (rc == PP_EXIT_USAGE) fprintf(stderr, "Try 'parpi-train --help'.\n");
        pp_train_free(&t);
        pp_train_unlock(lock);
        return rc;
    }
    if (t.nstages > 0) pp_stage_common_warn_bf16(&t.stage[0].common); /* once for the run */
    if (t.o.dry_run) {
        rc = print_pipeline(&t, stdout);
        pp_train_free(&t);
        if (rc != 0) pp_die_error(PP_EXIT_FAILURE);
        return pp_cmd_flush_stdout();
    }
    if (t.o.resume && pp_train_resume_prepare(&t, from) != 0) {
        pp_train_free(&t);
        pp_train_unlock(lock);
        pp_die_error(PP_EXIT_FAILURE);
    }
    if (!t.o.resume) pp_train_links(&t);
    const char *algo = pp_train_algos[t.o.algo];
    int parpi = strcmp(algo, "parpi") == 0;
    /* a batch log gets the start line too */
    int echo = t.o.progress != 0 && !isatty(STDERR_FILENO);
    pp_train_log(&t, echo, "%s %s: %s %s%s%s, %lld steps, seed %llu, %s", t.o.resume ? "resume" : "start",
                 t.o.dir, t.o.env, algo, parpi ? "-" : "", parpi ? pp_train_divergences[t.o.divergence] : "",
                 t.o.steps, t.o.seed, t.o.in_process ? "in-process" : "ring");
    if (t.o.resume && from >= 0) pp_train_log(&t, 0, "going on from the snapshot at step %lld", from);
    if (t.o.resume && from < 0) pp_train_log(&t, 0, "no snapshot yet: from step 0");
    /* A signal stops the run: the ring ends with a last snapshot, and the
     * driver exits 128 + the signal. */
    pp_stop_on_signals(PP_STOP_HUP);
    t.stop = &pp_stop_signal;
    if (pp_train_behaviour(&t) != 0) { /* BRAC's pi_beta, by BC first */
        int sig = pp_stop_signal;
        pp_train_log(&t, 1, "%s", pp_error());
        pp_train_free(&t);
        pp_train_unlock(lock);
        return sig ? 128 + sig : PP_EXIT_FAILURE;
    }
    long long start_step = pp_train_status_step(&t);
    int status = t.o.in_process ? pp_train_run_inprocess(&t) : pp_train_run_ring(&t);
    if (status == PP_EXIT_OK) pp_train_log(&t, 0, "finished");
    pp_train_summary(&t, status, pp_now() - t0, start_step < 0 ? 0 : start_step);
    pp_train_links(&t); /* a run of parpi 0.1: its files are now the snapshot's links */
    pp_train_free(&t);
    pp_train_unlock(lock);
    return status;
}
