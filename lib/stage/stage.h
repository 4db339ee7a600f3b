/* stage.h - a learning stage as a library object: create / step on a frame /
 * save / load / free. Each stage program in cmd/ runs one over a stream of
 * frames, and the driver can chain the same objects in one process with no
 * serialisation: both run them with stage/stage_run.h, and give the same
 * numbers for the same seed.
 *
 * Options: a stage is created from the same long options its program takes
 * ("--target", "sql", "--gamma", "0.99"), so the command line, the
 * in-process chain and the run's config file all speak one language.
 */
#ifndef PP_STAGE_H
#define PP_STAGE_H

#include <stdio.h>

#include "base/opt.h"
#include "frame/frame.h"

typedef struct pp_stage pp_stage;

typedef struct {
    const char *kind;          /* "critic", "langevin", "discrim", "policy", ... */
    const char *summary;       /* one line for --help */
    /* The stage's own options, one row each (base/opt.h): create parses with
     * it, --help prints it, save/load write and read config.* with it. */
    const pp_opt *options;
    /* The contract, as NULL-terminated lists (man/man5/parpi-frame.5 documents
     * the same; a test compares them):
     *   reads    top-level frame fields the step may read ("batch", "policy")
     *   owns     top-level fields the step writes or replaces ("q")
     *   metrics  the names it adds under metrics.<kind>. (step_ms is added by
     *            the runner for every stage)
     * parpi-train drops each field after its last reader in the ring, and the
     * evaluator's progress.csv takes its columns from the metrics lists. */
    const char *const *reads;
    const char *const *owns;
    const char *const *metrics;
    /* Optional: the reads list for these options (argv as create takes it),
     * where some fields are read only in some modes (the policy reads q for
     * --update sac and svgd, disc for parpi). NULL (or a NULL return, for
     * options that do not parse) means `reads`, which lists every mode's. */
    const char *const *(*reads_for)(int argc, char **argv);
    /* Parse the stage's long options (argv[0] ignored; getopt_long with
     * optind reset) and build the object. Unknown option: -1, message names it. */
    int (*create)(int argc, char **argv, pp_stage **out);
    /* One update on the frame: read the fields it needs, replace/add the ones
     * it owns, add metrics.<kind>.*; leave every other field untouched.
     * -1 on error (bad shapes, missing fields, NaN loss: state is left as it
     * was before the step, so the last good checkpoint stays good).
     * 1: the stream ends here: this frame is NOT written and the loop stops
     * cleanly (how parpi-collect --until ends a ring: downstream stages see
     * end of file, save their checkpoints and exit 0). */
    int (*step)(pp_stage *s, pp_frame *f);
    /* Add everything needed to resume bit-for-bit (config, params, optimiser
     * state, RNG state, step count) into ckpt. */
    int (*save)(pp_stage *s, pp_frame *ckpt);
    int (*load)(pp_stage *s, pp_frame *ckpt);
    /* Optional (NULL for most kinds): the stream has ended (or stopped):
     * complete the work still in flight and write what it gives (the
     * evaluator's evaluations, which run in a thread of their own). The
     * runners call it before the final save (pp_stage_finish); save must
     * complete that work too, as a snapshot needs it. 0 or -1. */
    int (*finish)(pp_stage *s);
    /* Free the stage; work still in flight (after a failure) is dropped. */
    void (*destroy)(pp_stage *s);
    /* Optional (NULL for most kinds): fill f with a frame to write before any
     * input is read; 1 if there is one, 0 if not, -1 on error. parpi-policy
     * --prime uses it to start the ring ({step: 0, policy, alpha}). */
    int (*prime)(pp_stage *s, pp_frame *f);
} pp_stage_ops;

struct pp_stage {
    const pp_stage_ops *ops;
    void *self;
    /* The folder of the checkpoint being written or read, while the runner
     * saves the stage into a snapshot (pp_stage_snapshot_save) or resumes it
     * (pp_stage_resume: the checkpoint file's folder, links resolved); NULL
     * otherwise. A stage that keeps part of its state in a file of its own
     * (the collector's replay buffer) writes it there and reads it back
     * from there, so the snapshot holds it too. */
    const char *snapshot_dir;
};

/* Create a stage of this kind from its long options (argv[0] is ignored,
 * like a program's). Unknown options: -1 with a message naming them. */
int pp_stage_create(const char *kind, int argc, char **argv, pp_stage **out);
/* The stage object around a kind's private state (for the kinds' create). */
pp_stage *pp_stage_new(const pp_stage_ops *ops, void *self);
/* The end of a kind's create: rc == 0 hands s to *out and returns 0; else s
 * is destroyed (ops->destroy) and -1 returned, the message kept. */
int pp_stage_created(pp_stage *s, int rc, pp_stage **out);
void pp_stage_free(pp_stage *s);
/* NULL-terminated list of kinds. */
const char *const *pp_stage_kinds(void);
const pp_stage_ops *pp_stage_lookup(const char *kind);

#endif
