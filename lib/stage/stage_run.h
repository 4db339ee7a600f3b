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

typedef struct {
    char checkpoint[PP_STAGE_PATH_MAX]; /* "": none */
    long long save_every;               /* frames between checkpoints; 0: only at the end */
    char resume[PP_STAGE_PATH_MAX];     /* "": a new stage */
    char in[PP_STAGE_PATH_MAX], out[PP_STAGE_PATH_MAX]; /* "": stdin, stdout */
    int threads;                        /* BLAS threads */
    long long max_frame;                /* bytes */
    char drop[1024];                    /* "q,disc": fields removed after the step; "": none */
    int progress, no_progress;          /* the two flags as given */
    uint64_t given;                     /* bit i: row i of the table was given or set */
} pp_stage_common;

/* The table (PP_OPT_END-terminated); its rows are in the order --help and
 * parpi-train's config lines show them. */
extern const pp_opt pp_stage_common_options[];

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

/* ---- running ---- */

/* Load the checkpoint at path into s (its kind must be s's). On failure s
 * is as it was and the message starts "resuming from PATH: " where the stage
 * refused it. */
int pp_stage_resume(pp_stage *s, const char *path);
/* Save s's checkpoint at path (atomically). Message: "saving checkpoint PATH: ...". */
int pp_stage_save(pp_stage *s, const char *path);
/* One step on f as every runner does it: the stage's step, then
 * metrics.<kind>.step_ms (the step's wall time in ms), then the fields of
 * drop ("q,disc"; NULL or "": none) removed. Returns what the step returned:
 * 0; 1 (the stage ended the stream: f is not to be written, nothing was
 * added); -1 with the message ("--drop: ..." when dropping failed). */
int pp_stage_step(pp_stage *s, pp_frame *f, const char *drop);

typedef struct {
    const char *checkpoint; /* NULL or "": never saved */
    long long save_every;   /* also every this many frames (0: only at the end) */
    const char *drop;       /* NULL or "": nothing dropped */
    int progress;           /* "prog: N frames, R frames/s" on stderr every second */
    const volatile sig_atomic_t *stop; /* NULL, or stop before the next frame once nonzero */
} pp_run_opts;

/* The filter loop: the stage's prime frame first (if it has one), then for
 * each frame of r a pp_stage_step, the frame written to w; a checkpoint
 * every save_every frames and at the end. The end comes at the end of r,
 * when the stage ends the stream, when *stop is set, or at the first error;
 * the final checkpoint is saved in every case (a failed step leaves the
 * stage's state as it was). 0, or -1 with the message of the first failure
 * (a step's prefixed "frame N (byte B): "). */
int pp_stage_run(pp_stage *s, pp_reader *r, pp_writer *w, const pp_run_opts *o);

#endif
