/* train_inproc.c - the same stages chained in one process: one frame object
 * goes round the pp_stage objects with no serialisation. Same options, same
 * checkpoints, same files as the piped ring; each stage is resumed, stepped
 * (timing, --drop) and saved by the runner the stage programs use
 * (stage/stage_run.h), so both give the same parameters for the same seed
 * (tests/learn/equivalence.bats).
 *
 * The frame is compacted once per round (its fields copied into a second
 * frame whose arena is reused), so memory stays flat and, once warm, the
 * loop allocates nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "frame/frame.h"
#include "nn/blas.h"
#include "stage/stage.h"
#include "stage/stage_run.h"
#include "train/train.h"

static int save_all(pp_train *t, pp_stage **st)
{
    for (int i = 0; i < t->nstages; i++) {
        const char *path = t->stage[i].common.checkpoint;
        if (path[0] && pp_stage_save(st[i], path) != 0) return pp_fail_prefix("stage %s: ", t->stage[i].kind);
    }
    return 0;
}

/* Copy every top-level field of src into dst (cleared first). */
static int compact(pp_frame *dst, pp_frame *src)
{
    pp_frame_clear(dst);
    pp_node *root = pp_frame_root(src);
    const char *key;
    size_t keylen;
    pp_node *val;
    char name[256];
    for (int idx = pp_node_map_next(root, 0, &key, &keylen, &val); idx >= 0;
         idx = pp_node_map_next(root, idx, &key, &keylen, &val)) {
        if (keylen >= sizeof name || memchr(key, '.', keylen)) continue;
        memcpy(name, key, keylen);
        name[keylen] = '\0';
        if (pp_frame_copy(dst, name, src, name) != 0) return -1;
    }
    return 0;
}

/* Create every stage from its own options, and resume it where the plan
 * says. 0, or -1 with the message naming the stage. */
static int open_stages(pp_train *t, pp_stage **st)
{
    for (int i = 0; i < t->nstages; i++) {
        pp_train_stage *s = &t->stage[i];
        char *argv[PP_TRAIN_MAX_ARGS + 2];
        char prog[64];
        snprintf(prog, sizeof prog, "parpi-%s", s->kind);
        int n = 0;
        argv[n++] = prog;
        for (int k = 0; k < s->own.argc; k++) argv[n++] = s->own.argv[k];
        argv[n] = NULL;
        if (pp_stage_create(s->kind, n, argv, &st[i]) != 0 ||
            (s->common.checkpoint[0] && pp_frame_prepare_save(s->common.checkpoint) != 0) ||
            (s->common.resume[0] && pp_stage_resume(st[i], s->common.resume) != 0))
            return pp_fail_prefix("stage %s: ", s->kind);
    }
    if (!st[t->prime_index]->ops->prime)
        return pp_fail("stage %s cannot prime the ring", t->stage[t->prime_index].kind);
    return 0;
}

/* Round after round until the collector ends the stream, a stage fails or
 * *t->stop is set; then every stage's checkpoint. The status for the program. */
static int run_rounds(pp_train *t, pp_stage **st)
{
    pp_frame *f = pp_frame_new(), *g = pp_frame_new();
    pp_stage *primer = st[t->prime_index];
    int status = PP_EXIT_OK;
    if (primer->ops->prime(primer, f) != 1) {
        pp_train_log(t, 1, "stage %s: priming the ring: %s", t->stage[t->prime_index].kind, pp_error());
        pp_frame_free(f);
        pp_frame_free(g);
        return PP_EXIT_FAILURE;
    }
    pp_train_progress prog;
    pp_train_progress_init(&prog, t);
    long long rounds = 0;
    for (int k = (t->prime_index + 1) % t->nstages;; k = (k + 1) % t->nstages) {
        if (t->stop && *t->stop) {
            status = 128 + *t->stop;
            break;
        }
        int rc = pp_stage_step(st[k], f, t->stage[k].common.drop);
        if (rc < 0) {
            pp_train_progress_end(&prog);
            pp_train_log(t, 1, "stage %s failed: %s", t->stage[k].kind, pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        if (rc > 0) break; /* collect ended the run */
        if (k < t->nstages - 1) continue;
        /* a round is complete */
        rounds++;
        if (compact(g, f) != 0) {
            pp_train_log(t, 1, "compacting the frame: %s", pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        pp_frame *tmp = f;
        f = g;
        g = tmp;
        if (t->o.save_every > 0 && rounds % t->o.save_every == 0 && save_all(t, st) != 0) {
            pp_train_log(t, 1, "%s", pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        pp_train_progress_show(&prog, t, 0);
    }
    pp_train_progress_show(&prog, t, 1);
    pp_train_progress_end(&prog);
    pp_frame_free(f);
    pp_frame_free(g);
    /* Stages leave their state unchanged on a failed step, so saving is safe. */
    if (save_all(t, st) != 0) {
        pp_train_log(t, 1, "%s", pp_error());
        status = PP_EXIT_FAILURE;
    }
    if (status > 128)
        pp_train_log(t, 1, "stopped by %s; checkpoints saved. Resume with: parpi-train --resume %s",
                     pp_train_signal_name(status - 128), t->o.dir);
    return status;
}

int pp_train_run_inprocess(pp_train *t)
{
    pp_stage *st[PP_TRAIN_MAX_STAGES] = {0};
    pp_blas_set_threads(t->o.threads);
    int status = PP_EXIT_OK;
    if (open_stages(t, st) != 0) {
        pp_train_log(t, 1, "%s", pp_error());
        status = PP_EXIT_FAILURE;
    } else {
        status = run_rounds(t, st);
    }
    for (int i = 0; i < t->nstages; i++) pp_stage_free(st[i]);
    return status;
}
