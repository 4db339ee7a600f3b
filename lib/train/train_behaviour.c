/* train_behaviour.c - the BC phase of an offline run that needs pi_beta
 * (BRAC, ParPI on BRAC): a run of its own, DIR/behaviour, of parpi-train
 * --algo bc on the same data set, then its final policy copied to
 * DIR/behaviour.ckpt, which the ring's dual and Langevin stages read
 * (docs/design.md section 11). Both steps resume: a begun BC run goes on
 * from its snapshot, and a present behaviour.ckpt means the phase is done.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame.h"
#include "train/train.h"

int pp_train_run_child(pp_argv *a, const volatile sig_atomic_t *stop)
{
    char prog[PP_STAGE_PATH_MAX];
    pp_train_program_path("train", prog, sizeof prog);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return pp_fail("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the driver dies: so does its phase */
        if (getppid() != parent) _exit(128 + SIGTERM);
        execvp(prog, a->argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", pp_progname(), prog, strerror(errno));
        _exit(127);
    }
    int st, told = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return pp_fail("waiting for parpi-train: %s", strerror(errno));
        if (stop && *stop && !told) { /* it saves a snapshot and stops */
            kill(pid, SIGTERM);
            told = 1;
        }
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
    if (WIFEXITED(st)) return pp_fail("parpi-train exited %d", WEXITSTATUS(st));
    return pp_fail("parpi-train was killed by signal %d", WTERMSIG(st));
}

/* Copy the BC run's final policy checkpoint to path, atomically: the file
 * is read and checked (its checksum) and saved whole. */
static int copy_policy(const char *from, const char *to)
{
    pp_frame *f = pp_frame_new();
    uint8_t *buf = NULL;
    int rc = pp_checkpoint_load(f, from, "policy", &buf);
    if (rc == 0) rc = pp_checkpoint_save(f, "policy", to);
    pp_frame_free(f);
    free(buf);
    return rc;
}

int pp_train_behaviour_argv(const pp_train *t, pp_argv *a)
{
    const pp_train_opts *o = &t->o;
    if (!pp_train_needs_behaviour(o) || o->behaviour[0]) return 0;
    char out[1200], run[1200], cfg[1300];
    snprintf(out, sizeof out, "%s/%s", o->dir, PP_TRAIN_BEHAVIOUR);
    if (access(out, F_OK) == 0) return 0;
    snprintf(run, sizeof run, "%s/behaviour", o->dir);
    snprintf(cfg, sizeof cfg, "%s/config", run);
    pp_argv_add(a, "parpi-train");
    int resume = access(cfg, F_OK) == 0;
    if (resume) {
        pp_argv_add(a, "--resume");
        pp_argv_add(a, run);
    } else {
        pp_argv_add(a, "--out");
        pp_argv_add(a, run);
        pp_argv_add(a, "--dataset");
        pp_argv_add(a, o->dataset);
        pp_argv_add(a, "--env");
        pp_argv_add(a, o->env);
        if (o->env_options[0]) {
            pp_argv_add(a, "--env-options");
            pp_argv_add(a, o->env_options);
        }
        pp_argv_add(a, "--algo");
        pp_argv_add(a, "bc");
        pp_argv_addf(a, "--seed=%llu", o->seed);
        pp_argv_addf(a, "--eval-every=%lld", o->eval_every);
        pp_argv_addf(a, "--eval-episodes=%d", o->eval_episodes);
        pp_argv_addf(a, "--log-every=%lld", o->log_every);
        pp_argv_add(a, "--preset");
        pp_argv_add(a, o->preset[0] ? o->preset : "none");
        /* the run's stage options that a BC ring has a stage for */
        for (int i = 0; i < o->sets.argc; i++) {
            const char *s = o->sets.argv[i];
            if (strncmp(s, "collect.", 8) == 0 || strncmp(s, "policy.", 7) == 0 ||
                strncmp(s, "eval.", 5) == 0) {
                pp_argv_add(a, "--set");
                pp_argv_add(a, s);
            }
        }
        if (o->gemm[0]) pp_argv_addf(a, "--gemm=%s", o->gemm);
        if (o->precision[0]) pp_argv_addf(a, "--precision=%s", o->precision);
    }
    pp_argv_addf(a, "--steps=%lld", o->bc_steps);
    pp_argv_addf(a, "--save-every=%lld", o->save_every);
    pp_argv_addf(a, "--threads=%d", o->threads);
    if (o->in_process) pp_argv_add(a, "--in-process");
    if (o->eval_sync) pp_argv_add(a, "--eval-sync");
    if (o->progress == 0) pp_argv_add(a, "--no-progress");
    return resume ? 2 : 1;
}

int pp_train_behaviour(const pp_train *t)
{
    const pp_train_opts *o = &t->o;
    pp_argv a = {0};
    int phase = pp_train_behaviour_argv(t, &a);
    if (phase == 0) return 0;
    char out[1200], run[1200], from[1300];
    snprintf(out, sizeof out, "%s/%s", o->dir, PP_TRAIN_BEHAVIOUR);
    snprintf(run, sizeof run, "%s/behaviour", o->dir);
    pp_train_log(t, o->progress != 0, "behaviour policy: %s BC in %s (%lld steps)",
                 phase == 2 ? "going on with" : "training it by", run, o->bc_steps);
    int rc = pp_train_run_child(&a, t->stop);
    pp_argv_free(&a);
    if (rc != 0) return pp_fail_prefix("the BC phase (%s, logs/train.log there): ", run);
    snprintf(from, sizeof from, "%s/ckpt/policy.ckpt", run);
    if (copy_policy(from, out) != 0) return pp_fail_prefix("the BC phase's policy: ");
    pp_train_log(t, 0, "behaviour policy: %s", out);
    return 0;
}
