/* stage_run.h - running a stage: the one runner behind every way of running
 * stages. The piped program (parpi-critic, ...: cmd/common.c) and parpi-train's
 * in-process chain (lib/train) both resume, step, time, drop and save through
 * these functions, so the two modes agree by construction.
 *
 *   pp_stage_resume  load a checkpoint file into a created stage
 *   pp_stage_save    write the stage's checkpoint file (atomically)
 *   pp_stage_step    one step on a frame, as every runner does it: the
 *                    stage's step, metrics.<kind>.step_ms, then --drop
 *   pp_stage_run     the filter loop over a stream of frames
 *   pp_stage_snapshot_save, pp_snapshot_commit, pp_snapshot_read
 *                    the ring's snapshots (below)
 *
 * The options every stage program takes besides its own (--checkpoint,
 * --save-every, --resume, --in, --out, --threads, --max-frame, --drop,
 * --progress) are one option table, pp_stage_common_options: the programs
 * parse and print it, and parpi-train writes and reads its run's config
 * file with it.
 */
#ifndef PP_STAGE_RUN_H
#define PP_STAGE_RUN_H

#include <signal.h>
#include <stdint.h>

#include "base/opt.h"
#include "frame/frame.h"
#include "stage/stage.h"

/* ---- the common options ---- */

#define PP_STAGE_PATH_MAX 4096
#define PP_SNAPSHOT_RUN_MAX 64

typedef struct {
    char checkpoint[PP_STAGE_PATH_MAX]; /* "": none */
    long long save_every;               /* frames between checkpoints; 0: only at the end */
    char resume[PP_STAGE_PATH_MAX];     /* "": a new stage */
    char in[PP_STAGE_PATH_MAX], out[PP_STAGE_PATH_MAX]; /* "": stdin, stdout */
    int threads;                        /* BLAS threads */
    int gemm;                           /* PP_GEMM_*, applied only if given */
    int precision;                      /* PP_PREC_*, applied only if given */
    long long max_frame;                /* bytes */
    char drop[1024];                    /* "q,disc": fields removed after the step; "": none */
    int progress, no_progress;          /* the two flags as given */
    char snapshots[PP_STAGE_PATH_MAX];  /* "": not in a ring with snapshots */
    long long snapshot_every;           /* given: this stage starts the snapshots */
    char run_id[PP_SNAPSHOT_RUN_MAX];
    uint64_t given;                     /* bit i: row i of the table was given or set */
} pp_stage_common;

/* The table (PP_OPT_END-terminated); its rows are in the order --help and
 * parpi-train's config lines show them. */
extern const pp_opt pp_stage_common_options[];

/* The sgemm backend and precision of this process (nn/blas.h): PARPI_GEMM
 * and PARPI_PRECISION checked, then --gemm and --precision applied if given
 * (else the variables, else OpenBLAS fp32). --precision bf16 selects dnnl;
 * beside --gemm openblas it is refused, and auto is fp32 there. 0 or -1
 * (pp_fail: a bad variable, a backend not built in, bf16 with openblas). */
int pp_stage_common_gemm(const pp_stage_common *c);
/* --precision bf16 (given, or PARPI_PRECISION) on a CPU where oneDNN has no
 * bf16 matmul (nn/blas.h: pp_gemm_bf16_runs): one warning on stderr that the
 * matmuls run in fp32 through oneDNN. The stage programs call it after
 * pp_stage_common_gemm, parpi-train once for the run (stage 0's options). */
void pp_stage_common_warn_bf16(const pp_stage_common *c);

/* Defaults, nothing given. 0 or -1. */
int pp_stage_common_init(pp_stage_common *c);
/* Parse "--name=value" / "--name value" words (argv[0] is ignored); the rows
 * met are added to c->given. Of --progress and --no-progress the last wins. */
int pp_stage_common_parse(pp_stage_common *c, int argc, char **argv);
/* Set one option by name (no dashes), as if given: the same checks. */
int pp_stage_common_set(pp_stage_common *c, const char *name, const char *value);
/* Forget an option (back to its default, not given). */
void pp_stage_common_unset(pp_stage_common *c, const char *name);
/* Row i as a command-line word ("--threads=2", "--progress") in buf when it
 * was given: 1; 0 when it was not (buf is then ""). */
int pp_stage_common_word(const pp_stage_common *c, int i, char *buf, size_t cap);
/* Whether the progress line is on: the flags as given, else when stderr is a
 * terminal and the frames do not go to a pipe or FIFO (in a ring every stage
 * writes one: only a stage given --progress shows its line). */
int pp_stage_common_progress(const pp_stage_common *c);
/* Whether the option named name (no dashes) was given or set. */
int pp_stage_common_given(const pp_stage_common *c, const char *name);

/* ---- snapshots ----
 *
 * A ring's stages save at the same frame, so that their checkpoints are one
 * state of the run. The ring's first stage (given --snapshot-every; in
 * parpi-train the collector) starts a snapshot right after it has written
 * the frame of a step S that is due (a multiple of N, the end of the run,
 * or a stop): it saves itself into DIR/S/KIND.ckpt and writes a snapshot
 * frame, {snapshot: {run, step: S, stages: "collect"}}, behind the frame of
 * S. Every other stage (given --snapshots DIR) takes that frame after the
 * frame of S, saves itself into DIR/S/KIND.ckpt, adds its kind to stages and
 * passes it on without stepping. When the snapshot frame is back at the
 * first stage, every stage has saved step S: it records the snapshot as
 * complete (pp_snapshot_commit: DIR/snapshot names the run, the step and the
 * stages; DIR/latest points at DIR/S; older snapshot folders go). Each
 * checkpoint carries the mark (snapshot.run, snapshot.step), so a set can be
 * checked file by file. Resume loads only a complete snapshot.
 *
 * With --snapshots a stage saves at nothing else, not at the end of its
 * input nor on a signal: a signal makes the first stage finish the frame
 * going round, take a last snapshot and end the stream, and the others stop
 * at its end. A stage without --snapshots passes snapshot frames on as they
 * are. */

typedef struct {
    char run[PP_SNAPSHOT_RUN_MAX]; /* the run's id ("": none) */
    long long step;                /* -1: none */
} pp_snapshot_mark;

/* The record of the last complete snapshot in a snapshot folder. */
#define PP_SNAPSHOT_FILE "snapshot"

/* Save s into dir/<m->step>/<kind>.ckpt (the folder is made), its mark in
 * the checkpoint; the stage sees the folder as s->snapshot_dir meanwhile.
 * Message: "saving snapshot S: PATH: ...". */
int pp_stage_snapshot_save(pp_stage *s, const char *dir, const pp_snapshot_mark *m);
/* Record snapshot m of these stages ("collect,critic,...") as the complete
 * one of dir: dir/snapshot written atomically, dir/latest -> <step>, the
 * snapshot folders of earlier steps removed. 0 or -1. */
int pp_snapshot_commit(const char *dir, const pp_snapshot_mark *m, const char *stages);
/* Read dir/snapshot: 1 (m and stages filled), 0 if there is none, -1 if it
 * cannot be read or is malformed (the message names it). */
int pp_snapshot_read(const char *dir, pp_snapshot_mark *m, char *stages, size_t cap);
/* The mark a checkpoint frame carries (m->step -1: none); -1 if malformed. */
int pp_checkpoint_mark(pp_frame *ck, pp_snapshot_mark *m);
/* A snapshot folder's name is its step: the step, or -1 for another name. */
long long pp_snapshot_folder_step(const char *name);
/* Remove the snapshot folder dir/name and its files. 0 or -1. */
int pp_snapshot_remove_folder(const char *dir, const char *name);
/* Is a snapshot due at step after one at last? (every 0: never) */
int pp_snapshot_due(long long last, long long step, long long every);

/* ---- running ---- */

/* Load the checkpoint at path into s (its kind must be s's). On failure s
 * is as it was and the message starts "resuming from PATH: " where the stage
 * refused it. */
int pp_stage_resume(pp_stage *s, const char *path);
/* The same, and the checkpoint's snapshot mark into *m (step -1: none). */
int pp_stage_resume_mark(pp_stage *s, const char *path, pp_snapshot_mark *m);
/* Save s's checkpoint at path (atomically). Message: "saving checkpoint PATH: ...". */
int pp_stage_save(pp_stage *s, const char *path);
/* One step on f as every runner does it: the stage's step, then
 * metrics.<kind>.step_ms (the step's wall time in ms), then the fields of
 * drop ("q,disc"; NULL or "": none) removed. Returns what the step returned:
 * 0; 1 (the stage ended the stream: f is not to be written, nothing was
 * added); -1 with the message ("--drop: ..." when dropping failed). */
int pp_stage_step(pp_stage *s, pp_frame *f, const char *drop);
/* The end of the stream: ops->finish when the kind has one (the evaluator
 * takes its evaluations in flight), else nothing. 0 or -1 with the message. */
int pp_stage_finish(pp_stage *s);
/* The stage's prime frame into f (ops->prime; 0 if it has none, 1 if it
 * wrote one, -1). After a resume from snapshot `resumed` (step >= 0) the
 * frame's step is the snapshot's: it is the frame that left the stage then. */
int pp_stage_prime(pp_stage *s, pp_frame *f, const pp_snapshot_mark *resumed);

typedef struct {
    const char *checkpoint; /* NULL or "": never saved */
    long long save_every;   /* also every this many frames (0: only at the end) */
    const char *drop;       /* NULL or "": nothing dropped */
    int progress;           /* "prog: N frames, R frames/s" on stderr every second */
    const volatile sig_atomic_t *stop; /* NULL, or stop before the next frame once nonzero */
    /* snapshots (above): */
    const char *snapshots;  /* NULL or "": none */
    int snapshot_origin;    /* this stage starts them (the ring's first) */
    long long snapshot_every; /* the origin: every N steps; 0: at the end and when stopped */
    const char *run_id;     /* the origin: the id its snapshots carry */
    pp_snapshot_mark resumed; /* the snapshot the stage was resumed from (step -1: none) */
} pp_run_opts;

/* The filter loop: the stage's prime frame first (if it has one), then for
 * each frame of r a pp_stage_step, the frame written to w; a checkpoint
 * every save_every frames and at the end. The end comes at the end of r,
 * when the stage ends the stream, when *stop is set, or at the first error;
 * the final checkpoint is saved in every case (a failed step leaves the
 * stage's state as it was). After a loop that did not fail, the stage
 * finishes its work in flight (pp_stage_finish) before that save. With
 * snapshots, saving and stopping are as described above instead. 0, or -1
 * with the message of the first failure
 * (a step's prefixed "frame N (byte B): "). */
int pp_stage_run(pp_stage *s, pp_reader *r, pp_writer *w, const pp_run_opts *o);

#endif
