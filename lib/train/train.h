/* train.h - parpi-train's library: the plan of a run (its stages and their
 * options), the run directory's config file, and the two ways to run the
 * plan. The program (options, usage, main) is cmd/parpi-train.c.
 *
 * A plan is the ring of one algorithm (train_plan.c: one table row per
 * algorithm, e.g. collect, critic, [langevin, discrim,] policy, eval), each
 * stage with
 *   common  the options of every stage program (stage/stage_run.h):
 *           --checkpoint, --save-every, --threads, --drop, --resume
 *   own     the stage's own options (--env, --gamma, ...), which are also
 *           what pp_stage_create() takes in the in-process chain.
 * As a command line: parpi-<kind> <common...> -- <own...>
 * The plan is written to DIR/config (one line per stage, shell-quoted) and
 * read back by --resume, so a resumed run uses exactly the same flags.
 *
 * Paths in the plan and the config are relative to the run directory; the
 * stages get them joined to the directory the run is in now, so a run
 * directory can be moved or copied and resumed there.
 *
 * Run directory:
 *   config          the train options and each stage's full command line
 *   lock            flock'd by the driver for the whole run (train_lock.h)
 *   ring            the FIFO that closes the ring (piped mode)
 *   ckpt/snapshot   the last complete snapshot: run id, step, stages
 *   ckpt/<step>/    its files: <kind>.ckpt of every stage, replay.mp
 *   ckpt/latest     -> <step>;  ckpt/<kind>.ckpt -> latest/<kind>.ckpt
 *   replay.mp       -> ckpt/latest/replay.mp (collect's replay buffer)
 *   ckpt/best/policy.ckpt  the policy of the best evaluation so far (eval --best)
 *   progress.csv    step, time, recent return and the stages' metrics
 *   eval.csv        one row per evaluation
 *   episodes.csv    one row per training episode
 *   status          one line the driver reads for its progress display
 *   logs/<kind>.log each stage's stderr;  logs/train.log the driver's messages
 */
#ifndef PP_TRAIN_H
#define PP_TRAIN_H

#include <signal.h>
#include <stdio.h>

#include "stage/stage_run.h"

#define PP_TRAIN_MAX_STAGES 8
#define PP_TRAIN_MAX_ARGS 256
/* The snapshot folder, relative to the run directory. */
#define PP_TRAIN_SNAPSHOTS "ckpt"

/* ---- argument vectors (train_argv.c) ---- */

typedef struct {
    int argc;
    char *argv[PP_TRAIN_MAX_ARGS]; /* owned strings, NULL after the last */
} pp_argv;

void pp_argv_add(pp_argv *a, const char *s);
void pp_argv_addf(pp_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pp_argv_free(pp_argv *a);
/* Shell-quote one argument into out ('...' when needed). */
void pp_shell_quote(const char *s, char *out, size_t cap);
/* Split a line written with pp_shell_quote (words, '...' and '\'' only). */
int pp_shell_split(const char *line, pp_argv *out);

/* ---- the run ---- */

/* The choices of --algo, --base and --divergence (NULL-terminated); the
 * options hold indices into them. */
extern const char *const pp_train_algos[];
extern const char *const pp_train_bases[];
extern const char *const pp_train_divergences[];

/* What the user asked for: parpi-train's options (the table is in
 * cmd/parpi-train.c; the config file's train line holds them). */
typedef struct {
    char env[64], env_options[256];
    int algo;           /* pp_train_algos */
    int base;           /* pp_train_bases (parpi only) */
    char dataset[1024]; /* offline: the collector's --dataset, an absolute path; "" online */
    char behaviour[1024]; /* pi_beta of brac and parpi --base brac: a policy file (absolute);
                         * "": trained first by BC (pp_train_behaviour) into DIR/behaviour.ckpt */
    long long bc_steps; /* the gradient steps of that BC phase */
    int divergence;     /* pp_train_divergences (parpi only) */
    char preset[512];   /* path, "" = default for the env, "none" */
    char dir[1024];
    long long steps;
    unsigned long long seed;
    long long eval_every, log_every, save_every;
    int eval_episodes;
    int threads;
    char gemm[16];      /* "openblas", "dnnl": every stage's --gemm; "": not given */
    char precision[16]; /* "fp32", "bf16", "auto": every stage's --precision (auto resolved
                         * by the plan, so the config records what ran); "": not given */
    int in_process;
    int eval_sync;      /* the eval stage gets --sync (a run-time choice, not in the config) */
    int progress;       /* 1 on, 0 off, -1 auto: on (a live line on a terminal, else plain lines) */
    double print_every; /* seconds between plain progress lines (no terminal); 0: only at evaluations */
    int dry_run;
    int resume;
    pp_argv sets;       /* "kind.option=value" from --set and the shortcut options */
} pp_train_opts;

typedef struct {
    char kind[16];
    pp_stage_common common; /* the stage program's common options */
    pp_argv own;            /* the stage's own options */
} pp_train_stage;

typedef struct {
    pp_train_opts o;
    /* the plan */
    int nstages;
    pp_train_stage stage[PP_TRAIN_MAX_STAGES];
    int prime_index;    /* the stage that primes the ring (the one given --prime) */
    /* resume: the replay buffer of a parpi 0.1 run that collect loads
     * (relative to the run directory; "": none) */
    char legacy_replay[PP_STAGE_PATH_MAX];
    /* set by the program: the run stops once *stop is nonzero (the signal) */
    const volatile sig_atomic_t *stop;
} pp_train;

/* Does the algorithm read a behaviour policy (brac; parpi --base brac)? */
int pp_train_needs_behaviour(const pp_train_opts *o);
/* The behaviour policy the ring reads, as the plan names it: o->behaviour,
 * or PP_TRAIN_BEHAVIOUR (relative to the run directory). */
const char *pp_train_behaviour_name(const pp_train_opts *o);
#define PP_TRAIN_BEHAVIOUR "behaviour.ckpt"
/* The BC phase (train_behaviour.c): when the algorithm needs pi_beta and
 * none was given, and DIR/behaviour.ckpt is not there yet, train it as a
 * run of its own in DIR/behaviour (parpi-train --algo bc on the same data
 * set, --bc-steps steps, resumed if it was begun), then copy its final
 * policy to DIR/behaviour.ckpt. 0, or -1 with the message. */
int pp_train_behaviour(const pp_train *t);
/* That phase's command line into a (empty): 0 when there is no phase to run
 * (no pi_beta needed, --behaviour given, or behaviour.ckpt there), 1 for a
 * new BC run, 2 for one to resume. */
int pp_train_behaviour_argv(const pp_train *t, pp_argv *a);
/* Run parpi-train (next to this program, else on PATH) with a->argv (argv[0]
 * any name), forwarding SIGTERM to it once *stop is set (NULL: never).
 * 0 if it exited 0; else -1 naming how it ended. */
int pp_train_run_child(pp_argv *a, const volatile sig_atomic_t *stop);

/* Build the stages from the algorithm's ring, the preset and --set, with
 * each stage's --drop from the stages' contracts (train_plan.c). */
int pp_train_plan(pp_train *t);
/* The fields each stage drops (common.drop), computed from the reads and
 * owns lists of the stages in ring order: see train_plan.c. */
int pp_train_compute_drops(pp_train *t);
/* The preset file of these options (--preset FILE|NAME|none, else the
 * env's): 0 and its path; 1 for none; -1 if a named one is not found. */
int pp_train_preset_path(const pp_train_opts *o, char *path, size_t cap);
/* The run's id (16 hex digits) into buf: a hash of the stages and their own
 * options but the run's end (--until), i.e. of what fixes the run's course.
 * Every snapshot carries it; two runs with the same id and seed hold the
 * same state at the same step, which is what lets a resumed run end in the
 * very bytes of one never stopped. */
void pp_train_run_id(const pp_train *t, char *buf, size_t cap);
/* Override the ring's end (collect --until) after a resume with --steps. */
void pp_train_set_steps(pp_train *t, long long steps);
/* The snapshot cadence (collect --snapshot-every) and the BLAS threads. */
void pp_train_set_save_every(pp_train *t, long long every);
void pp_train_set_threads(pp_train *t, int threads);
/* A stage's full command line as program arguments: parpi-<kind> <common> -- <own>
 * (prog is argv[0]), its paths joined to t->o.dir. */
void pp_train_stage_argv(const pp_train *t, const pp_train_stage *s, const char *prog, pp_argv *out);
/* Its own options alone (what pp_stage_create takes), paths joined. */
void pp_train_stage_own(const pp_train *t, const pp_train_stage *s, pp_argv *out);
/* In words (options of this kind; NULL: the common stage options), the
 * paths under old_dir made relative to it (old_dir/x as x). */
void pp_train_paths_under(const char *kind, pp_argv *words, const char *old_dir);
void pp_train_free(pp_train *t);

/* The config file (train_config.c). Write DIR/config atomically. Read it
 * back: the stages into t's plan, and the words of its train line (the
 * options of the run, for the program's parser) into train_args. */
int pp_train_config_write(const pp_train *t);
int pp_train_config_read(pp_train *t, const char *dir, pp_argv *train_args);
/* A config of parpi 0.1 (stages with --checkpoint, paths as typed at its
 * start) into today's: paths relative to the run directory, snapshots, the
 * run id; collect's --replay (the old run's buffer) is dropped. 1 if it was
 * one, 0 if not, -1 on error. */
int pp_train_config_upgrade(pp_train *t);

/* ---- resume (train_snapshot.c) ---- */

/* Where a resumed run starts from: the last complete snapshot (the stages
 * get --resume of its checkpoints), after each file has been checked to
 * belong to it; a run that never completed one starts from step 0; a run of
 * parpi 0.1 resumes from its flat checkpoints. A missing or unreadable
 * checkpoint of a run that has saved is an error naming the file. Reads
 * only: *step is the step it starts from (-1: from the start). */
int pp_train_resume_point(pp_train *t, long long *step);
/* Make the run directory ready to resume from that point: leftover
 * temporary files and incomplete snapshot folders removed, the logs of a
 * run without a snapshot removed (they restart), status removed, the config
 * written (an extended --steps kept), the links made. After
 * pp_train_resume_point, with the run directory ours (locked). */
int pp_train_resume_prepare(pp_train *t, long long step);
/* The links of the run directory to its last snapshot (ckpt/latest,
 * ckpt/<kind>.ckpt, replay.mp); files of a parpi 0.1 run that a snapshot
 * has replaced become links too. Best effort: a failure is logged. */
void pp_train_links(const pp_train *t);

/* Run: piped ring of processes or the in-process chain. Returns the exit
 * status for the program (0 finished, 1 a stage failed, 128 + the signal
 * when stopped by *t->stop). */
int pp_train_run_ring(pp_train *t);
int pp_train_run_inprocess(pp_train *t);

/* Progress shared by both modes (train_progress.c): it reads DIR/status (the
 * step, episodes, recent return the eval stage rewrites about once a second)
 * and the new rows of DIR/eval.csv. On a terminal (stderr) one live line,
 * cut to the terminal's width; without one, a plain line every
 * o.print_every seconds and one at every evaluation; nothing with
 * --no-progress. steps/s and the ETA come from the recent rate (the last
 * window of about print_every seconds, 20 s on a terminal), not the
 * average since the start. */
#define PP_TRAIN_RATE_SAMPLES 64
typedef struct {
    int mode;                 /* 0 off, 1 live line, 2 plain lines */
    double t0, last, last_print, window;
    long long start_step;
    int shown;                /* a live line is on the terminal */
    double sample_t[PP_TRAIN_RATE_SAMPLES];
    long long sample_step[PP_TRAIN_RATE_SAMPLES];
    int nsamples, sample_pos;
    long long eval_offset;    /* bytes of eval.csv already read */
    long long eval_step;
    double eval_return;
    int have_eval;
} pp_train_progress;
void pp_train_progress_init(pp_train_progress *p, const pp_train *t);
void pp_train_progress_show(pp_train_progress *p, const pp_train *t, int force);
void pp_train_progress_end(pp_train_progress *p);
/* The step in DIR/status (-1: none yet). */
long long pp_train_status_step(const pp_train *t);
/* The line at the end of a run that finished (status 0) or was stopped by
 * a signal (128 + sig), on stderr and in logs/train.log: the step, the wall
 * time of this session and its steps/s, the last and the best evaluation
 * (from DIR/eval.csv) and where the best policy is. Nothing for a failure. */
void pp_train_summary(const pp_train *t, int status, double wall_s, long long start_step);
/* "SIGINT", "SIGTERM", "SIGHUP", else "signal N". */
const char *pp_train_signal_name(int sig);

/* Where the stage programs are: next to this program, else on PATH. */
void pp_train_program_path(const char *kind, char *buf, size_t cap);

/* Append a line to DIR/logs/train.log (and echo to stderr when echo). A
 * failed write is said once on stderr. */
void pp_train_log(const pp_train *t, int echo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
