/* parpi-train - the driver: wires the stages into the training loop (a ring
 * of processes through a FIFO, or --in-process) and owns the run directory.
 * Its options are the table below (parsing and --help); the plan, the config
 * file and the two ways of running are lib/train/.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/opt.h"
#include "base/optarg.h"
#include "train/train.h"

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
    PP_OPT_CHOICE("algo", cli, o.algo, pp_train_algos, "parpi", "algorithm", 0),
    PP_OPT_CHOICE("base", cli, o.base, pp_train_bases, "sac", "ParPI's critic target: SAC's or SQL's", 0),
    PP_OPT_CHOICE("divergence", cli, o.divergence, pp_train_divergences, "wd", "ParPI's divergence", 0),
    PP_OPT_COUNT("steps", cli, o.steps, 1, 1e15, "1000000", "environment steps", 0),
    PP_OPT_SEED("seed", cli, o.seed, "seed of every stage", 0),
    PP_OPT_STRING("out", cli, o.dir, "DIR", NULL, "run directory (created; must not hold a run)", 0),
    PP_OPT_STRING("resume", cli, resume_dir, "DIR", NULL, "continue the run in DIR from its last snapshot", 0),
    PP_OPT_STRING("preset", cli, o.preset, "FILE|NAME|none", NULL,
                  "stage options (default: share/parpi/presets/<env>.conf)", 0),
    PP_OPT_STRING("set", cli, set, "STAGE.OPT[=V]", NULL,
                  "one more stage option, e.g. critic.gamma=0.98 (repeatable)", 0),
    PP_OPT_COUNT("batch-size", cli, batch_size, 1, 1e9, "256", "collect's batch size", 0),
    PP_OPT_COUNT("learning-starts", cli, learning_starts, 0, 1e15, "5000", "random-action steps before learning",
                 0),
    PP_OPT_COUNT("eval-every", cli, o.eval_every, 1, 1e15, "1000", "evaluate every N steps", 0),
    PP_OPT_INT("eval-episodes", cli, o.eval_episodes, 1, 100000, "10", "deterministic episodes per evaluation", 0),
    PP_OPT_COUNT("log-every", cli, o.log_every, 1, 1e15, "1000", "a progress.csv row every N steps", 0),
    PP_OPT_COUNT("save-every", cli, o.save_every, 0, 1e15, "10000", "a snapshot of every stage every N steps (0: at the end)", 0),
    PP_OPT_INT("threads", cli, o.threads, 1, 256, "1", "BLAS threads per stage", 0),
    PP_OPT_FLAG("in-process", cli, o.in_process, "chain the stages in this process (no pipes)", 0),
    PP_OPT_FLAG("progress", cli, progress, "progress line on stderr (default: if it is a terminal)", 0),
    PP_OPT_FLAG("no-progress", cli, no_progress, "no progress line", 0),
    PP_OPT_FLAG("dry-run", cli, o.dry_run, "print the stages' command lines and exit", 0),
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
          "       parpi-train --resume DIR [--steps N] [--save-every N] [--threads N] [--in-process]\n"
          "Train a policy: SAC, SQL, or ParPI on top of either, as a ring of parpi stages.\n\n",
          out);
    pp_opt_help(options, out);
    fputs("\nRun directory: config, ckpt/ (the last snapshot), replay.mp, progress.csv, eval.csv,\n"
          "episodes.csv, status, logs/<stage>.log. See parpi-train(1).\n",
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

/* Parse argv into c (usage errors: -1 with a message). *given: bit i for
 * each row i met. */
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
        if (ch < 256 || ch >= 256 + n) return pp_optarg_unknown(argv, optind, optopt, ch == ':');
        const pp_opt *row = &options[ch - 256];
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

static int mkdir_p(const char *path)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return pp_fail("cannot make %s: %s", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return pp_fail("cannot make %s: %s", buf, strerror(errno));
    return 0;
}

/* The options a resume may give besides --resume: how the run goes on
 * from here (its end, its cadence of snapshots, its threads, how it runs),
 * not its course. */
static const char *const resume_may[] = {"resume", "steps", "save-every", "threads", "in-process", "progress",
                                         "no-progress", "dry-run", "help", "version", NULL};

static int listed(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0) return 1;
    return 0;
}

/* The preset as the plan resolved it (a path, or "none"). */
static void resolved_preset(const char *preset, const char *env, char *buf, size_t cap)
{
    pp_train_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.preset, sizeof o.preset, "%s", preset);
    snprintf(o.env, sizeof o.env, "%s", env);
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
            resolved_preset(c->o.preset, run->o.env, mine, sizeof mine);
            snprintf(theirs, sizeof theirs, "%s", run->o.preset[0] ? run->o.preset : "none");
            const char *a = strrchr(mine, '/'), *b = strrchr(theirs, '/');
            if (strcmp(a ? a + 1 : mine, b ? b + 1 : theirs) == 0) continue;
        } else {
            pp_opt_format(row, c, mine, sizeof mine);
            pp_opt_format(row, run, theirs, sizeof theirs);
        }
        if (strcmp(mine, theirs) != 0)
            return pp_fail("--%s %s: the run in %s was started with --%s %s, and a resume goes on as the run was "
                           "started (it may change --steps, --save-every, --threads, --in-process)",
                           row->name, mine, dir, row->name, theirs);
    }
    return 0;
}

/* --resume DIR: the plan and the run's options from DIR/config; of this
 * command line only --steps (which moves the end of the run, and is kept in
 * the config), --save-every, --threads, --in-process, --progress and
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
    t->o.progress = c->o.progress;
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
    if (parse(&c, argc, argv, &given) != 0 ||
        (!c.o.dir[0] && pp_fail("--out DIR (a new run) or --resume DIR is required") != 0) ||
        (!c.o.resume && !c.o.env[0] && pp_fail("--env NAME is required (parpi-collect --list-envs lists them)") != 0)) {
        fprintf(stderr, "%s: %s\nTry 'parpi-train --help'.\n", pp_progname(), pp_error());
        pp_argv_free(&c.o.sets);
        return PP_EXIT_USAGE;
    }

    long long from = -1; /* the step a resumed run goes on from */
    if (c.o.resume) {
        int rc = load_run(&t, &c, given, &from);
        pp_argv_free(&c.o.sets); /* the run's own --set list counts */
        if (rc == 2) {
            fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
            pp_train_free(&t);
            return PP_EXIT_USAGE;
        }
        if (rc != 0) {
            pp_train_free(&t);
            pp_die_error(PP_EXIT_FAILURE);
        }
    } else {
        t.o = c.o;
        char cfg[1200];
        snprintf(cfg, sizeof cfg, "%s/config", t.o.dir);
        if (access(cfg, F_OK) == 0 && !t.o.dry_run) {
            pp_train_free(&t);
            pp_die(PP_EXIT_FAILURE, "%s already holds a run (%s exists): continue it with --resume %s, "
                   "or choose another --out", c.o.dir, cfg, c.o.dir);
        }
        if (pp_train_plan(&t) != 0) {
            fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
            pp_train_free(&t);
            return PP_EXIT_USAGE;
        }
    }
    if (t.o.dry_run) {
        int rc = pp_train_print_plan(&t, stdout);
        pp_train_free(&t);
        return rc != 0 ? PP_EXIT_FAILURE : pp_cmd_flush_stdout();
    }
    char logs[1200], ckpt[1200];
    snprintf(logs, sizeof logs, "%s/logs", t.o.dir);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", t.o.dir);
    if (mkdir_p(logs) != 0 || mkdir_p(ckpt) != 0 ||
        (t.o.resume ? pp_train_resume_prepare(&t, from) : pp_train_config_write(&t)) != 0) {
        pp_train_free(&t);
        pp_die_error(PP_EXIT_FAILURE);
    }
    if (!t.o.resume) pp_train_links(&t);
    const char *algo = pp_train_algos[t.o.algo];
    int parpi = strcmp(algo, "parpi") == 0;
    pp_train_log(&t, 0, "%s %s: %s %s%s%s, %lld steps, seed %llu, %s", t.o.resume ? "resume" : "start",
                 t.o.dir, t.o.env, algo, parpi ? "-" : "", parpi ? pp_train_divergences[t.o.divergence] : "",
                 t.o.steps, t.o.seed, t.o.in_process ? "in-process" : "ring");
    if (t.o.resume && from >= 0) pp_train_log(&t, 0, "going on from the snapshot at step %lld", from);
    if (t.o.resume && from < 0) pp_train_log(&t, 0, "no snapshot yet: from step 0");
    /* A signal stops the run: the ring ends with a last snapshot, and the
     * driver exits 128 + the signal. */
    pp_stop_on_signals(PP_STOP_HUP);
    t.stop = &pp_stop_signal;
    int status = t.o.in_process ? pp_train_run_inprocess(&t) : pp_train_run_ring(&t);
    if (status == PP_EXIT_OK) pp_train_log(&t, 0, "finished");
    pp_train_links(&t); /* a run of parpi 0.1: its files are now the snapshot's links */
    pp_train_free(&t);
    return status;
}
