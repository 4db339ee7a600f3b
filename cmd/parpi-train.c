/* parpi-train - the driver: wires the stages into the training loop (a ring
 * of processes through a FIFO, or --in-process) and owns the run directory.
 * The work is in lib/train*.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "train/train.h"

static const char usage_text[] =
    "Usage: parpi-train --env NAME --out DIR [OPTIONS]\n"
    "       parpi-train --resume DIR [--steps N] [--in-process]\n"
    "Train a policy: SAC, SQL, or ParPI on top of either, as a ring of parpi stages.\n"
    "\n"
    "  --env NAME            task (parpi-collect --list-envs)\n"
    "  --env-options K=V,..  the task's constructor options\n"
    "  --algo parpi|sac|sql  algorithm (default parpi)\n"
    "  --base sac|sql        ParPI's critic target: SAC's or SQL's soft value (default sac)\n"
    "  --divergence D        ParPI's divergence: jsd, wd, rkl or hinge (default wd)\n"
    "  --steps N             environment steps (default 1000000)\n"
    "  --seed S              seed of every stage (default 0)\n"
    "  --out DIR             run directory (created; must not hold a run already)\n"
    "  --resume DIR          continue the run in DIR from its checkpoints\n"
    "  --preset FILE|NAME|none  stage options (default share/parpi/presets/<env>.conf)\n"
    "  --set STAGE.OPT[=V]   one more option for one stage (e.g. critic.gamma=0.98;\n"
    "                        STAGE 'all' gives it to every stage); repeatable\n"
    "  --batch-size N        collect's batch size (default 256)\n"
    "  --learning-starts N   random-action steps before learning (default 5000)\n"
    "  --eval-every N        evaluate every N steps (default 1000)\n"
    "  --eval-episodes K     deterministic episodes per evaluation (default 10)\n"
    "  --log-every N         a progress.csv row every N steps (default 1000)\n"
    "  --save-every N        checkpoints every N steps (default 10000; 0: only at the end)\n"
    "  --threads N           BLAS threads per stage (default 1)\n"
    "  --in-process          chain the stages in this process (no pipes, no serialisation)\n"
    "  --progress, --no-progress  progress line on stderr (default when it is a terminal)\n"
    "  --dry-run             print the stages' command lines and exit\n"
    "  -h, --help            this text;  --version  the version\n"
    "\n"
    "Run directory: config, ckpt/, replay.mp, progress.csv, eval.csv, episodes.csv,\n"
    "logs/<stage>.log. See parpi-train(1).\n";

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

int main(int argc, char **argv)
{
    pp_set_progname(argv[0]);
    pp_train t;
    int rc = pp_train_parse(&t, argc, argv);
    if (rc == 1) {
        fputs(usage_text, stdout);
        return PP_EXIT_OK;
    }
    if (rc == 2) {
        printf("parpi-train %s\n", PARPI_VERSION);
        return PP_EXIT_OK;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s\nTry 'parpi-train --help'.\n", pp_progname(), pp_error());
        pp_argv_free(&t.sets);
        return PP_EXIT_USAGE;
    }
    long long steps_asked = -1;
    for (int i = 1; i < argc; i++) /* an explicit --steps on --resume extends the run */
        if (strcmp(argv[i], "--steps") == 0 || strncmp(argv[i], "--steps=", 8) == 0) steps_asked = t.steps;

    char logs[1200], ckpt[1200];
    if (t.resume) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", t.dir);
        if (pp_train_config_read(&t, dir) != 0) {
            pp_train_free(&t);
            pp_die_error(PP_EXIT_FAILURE);
        }
        if (steps_asked > 0) pp_train_set_steps(&t, steps_asked);
        pp_train_add_resume(&t);
    } else {
        char cfg[1200];
        snprintf(cfg, sizeof cfg, "%s/config", t.dir);
        if (access(cfg, F_OK) == 0 && !t.dry_run) {
            pp_train_free(&t);
            pp_die(PP_EXIT_FAILURE, "%s already holds a run (%s exists): continue it with --resume %s, "
                   "or choose another --out", t.dir, cfg, t.dir);
        }
        if (pp_train_plan(&t) != 0) {
            fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
            pp_train_free(&t);
            return PP_EXIT_USAGE;
        }
    }
    if (t.dry_run) {
        pp_train_print_plan(&t, stdout);
        pp_train_free(&t);
        return PP_EXIT_OK;
    }
    snprintf(logs, sizeof logs, "%s/logs", t.dir);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", t.dir);
    if (mkdir_p(logs) != 0 || mkdir_p(ckpt) != 0 || (!t.resume && pp_train_config_write(&t) != 0)) {
        pp_train_free(&t);
        pp_die_error(PP_EXIT_FAILURE);
    }
    pp_train_log(&t, 0, "%s %s: %s %s%s%s, %lld steps, seed %llu, %s", t.resume ? "resume" : "start",
                 t.dir, t.env, t.algo, strcmp(t.algo, "parpi") == 0 ? "-" : "",
                 strcmp(t.algo, "parpi") == 0 ? t.divergence : "", t.steps, t.seed,
                 t.in_process ? "in-process" : "ring");
    int status = t.in_process ? pp_train_run_inprocess(&t) : pp_train_run_ring(&t);
    if (status == PP_EXIT_OK) pp_train_log(&t, 0, "finished");
    pp_train_free(&t);
    return status;
}
