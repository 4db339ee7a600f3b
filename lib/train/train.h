/* train.h - parpi-train: wire the stages into the training loop and own the
 * run directory.
 *
 * A plan is the list of stages of one configuration (collect, critic,
 * [langevin, discrim,] policy, eval), each with two argument vectors:
 *   common  the options pp_stage_main takes (--checkpoint, --save-every, ...)
 *   own     the stage's own options (--env, --gamma, ...), which are also what
 *           pp_stage_create() takes in the in-process chain.
 * As a command line: parpi-<kind> <common...> -- <own...>
 * The plan is written to DIR/config (one line per stage, shell-quoted) and
 * read back by --resume, so a resumed run uses exactly the same flags.
 *
 * Run directory:
 *   config          the train options and each stage's full command line
 *   ring            the FIFO that closes the ring (piped mode)
 *   ckpt/<kind>.ckpt  each stage's checkpoint (atomic)
 *   replay.mp       collect's replay buffer (saved with its checkpoint)
 *   progress.csv    step, time, recent return and the stages' metrics
 *   eval.csv        one row per evaluation
 *   episodes.csv    one row per training episode
 *   status          one line the driver reads for its progress display
 *   logs/<kind>.log each stage's stderr;  logs/train.log the driver's messages
 */
#ifndef PP_TRAIN_H
#define PP_TRAIN_H

#include <stdio.h>

#define PP_TRAIN_MAX_STAGES 8
#define PP_TRAIN_MAX_ARGS 256

typedef struct {
    int argc;
    char *argv[PP_TRAIN_MAX_ARGS]; /* owned strings */
} pp_argv;

void pp_argv_add(pp_argv *a, const char *s);
void pp_argv_addf(pp_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pp_argv_free(pp_argv *a);
/* Shell-quote one argument into out ('...' when needed). */
void pp_shell_quote(const char *s, char *out, size_t cap);
/* Split a line written with pp_shell_quote (words, '...' and '\'' only). */
int pp_shell_split(const char *line, pp_argv *out);

typedef struct {
    char kind[16];
    pp_argv common; /* pp_stage_main's options */
    pp_argv own;    /* the stage's own options */
} pp_train_stage;

typedef struct {
    /* what the user asked for */
    char env[64], env_options[256];
    char algo[8];       /* parpi | sac | sql */
    char base[8];       /* sac | sql (parpi only) */
    char divergence[8]; /* jsd | wd | rkl | hinge */
    char preset[512];   /* path, "" = default for the env, "none" */
    char dir[1024];
    long long steps;
    unsigned long long seed;
    long long eval_every, log_every, save_every;
    int eval_episodes;
    int threads;
    int in_process;
    int progress;       /* 1 on, 0 off, -1 auto (stderr is a tty) */
    int dry_run;
    int resume;
    pp_argv sets;       /* "kind.option=value" from --set and the shortcut options */
    /* the plan */
    int nstages;
    pp_train_stage stage[PP_TRAIN_MAX_STAGES];
    int prime_index;    /* the stage that primes the ring (policy) */
} pp_train;

/* Parse argv into t (usage errors: -1 with a message; the caller exits 2). */
int pp_train_parse(pp_train *t, int argc, char **argv);
/* Build the stages' argument vectors from algo, preset and --set. */
int pp_train_plan(pp_train *t);
/* Write DIR/config; read it back (for --resume). */
int pp_train_config_write(const pp_train *t);
int pp_train_config_read(pp_train *t, const char *dir);
/* Add --resume <ckpt> for each stage whose checkpoint exists. */
void pp_train_add_resume(pp_train *t);
/* Override the ring's end (collect --until) after a resume with --steps. */
void pp_train_set_steps(pp_train *t, long long steps);
/* Print the full command lines (one per stage). */
void pp_train_print_plan(const pp_train *t, FILE *out);
void pp_train_free(pp_train *t);

/* Run: piped ring of processes or the in-process chain. Returns the exit
 * status for the program (0 finished, 1 a stage failed, 130 interrupted). */
int pp_train_run_ring(pp_train *t);
int pp_train_run_inprocess(pp_train *t);

/* Progress display shared by both modes: reads DIR/status. */
typedef struct {
    double t0, last;
    long long start_step;
    int shown;
} pp_train_progress;
void pp_train_progress_init(pp_train_progress *p, const pp_train *t);
void pp_train_progress_show(pp_train_progress *p, const pp_train *t, int force);
void pp_train_progress_end(pp_train_progress *p);

/* Where the stage programs are: next to this program, else on PATH. */
void pp_train_program_path(const char *kind, char *buf, size_t cap);

/* Append a line to DIR/logs/train.log (and echo to stderr when echo). */
void pp_train_log(const pp_train *t, int echo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
