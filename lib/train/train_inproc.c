/* train_inproc.c - the same stages chained in one process: one frame object
 * goes round the pp_stage objects with no serialisation. Same options, same
 * checkpoints, same files as the piped ring; each stage is resumed, stepped
 * (timing, --drop) and saved by the runner the stage programs use
 * (stage/stage_run.h), so both give the same parameters for the same seed
 * (tests/learn/equivalence.bats).
 *
 * The frame is compacted once per round (its fields copied into a second
 * frame whose arena is reused), so memory stays flat and, once warm, the
 * loop allocates nothing. Snapshots are taken between rounds, into the same
 * files the ring writes.
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
 * says (*resumed: the snapshot the ring's first stage came from). 0, or -1
 * with the message naming the stage. */
static int open_stages(pp_train *t, pp_stage **st, pp_snapshot_mark *resumed)
{
    for (int i = 0; i < t->nstages; i++) {
        pp_train_stage *s = &t->stage[i];
        char *argv[PP_TRAIN_MAX_ARGS + 2];
        char prog[64], path[PP_STAGE_PATH_MAX + 1100];
        snprintf(prog, sizeof prog, "parpi-%s", s->kind);
        pp_argv own = {0};
        pp_train_stage_own(t, s, &own);
        int n = 0;
        argv[n++] = prog;
        for (int k = 0; k < own.argc; k++) argv[n++] = own.argv[k];
        argv[n] = NULL;
        int rc = pp_stage_create(s->kind, n, argv, &st[i]);
        pp_argv_free(&own);
        pp_snapshot_mark m = {.step = -1};
        if (rc == 0 && s->common.resume[0]) {
            snprintf(path, sizeof path, "%s/%s", t->o.dir, s->common.resume);
            rc = pp_stage_resume_mark(st[i], s->common.resume[0] == '/' ? s->common.resume : path, &m);
        }
        if (rc != 0) return pp_fail_prefix("stage %s: ", s->kind);
        if (i == 0) *resumed = m;
    }
    if (!st[t->prime_index]->ops->prime)
        return pp_fail("stage %s cannot prime the ring", t->stage[t->prime_index].kind);
    return 0;
}

/* The snapshots of the chain: the same files as the ring's (stage/stage_run.h),
 * taken at the end of a round, when every stage holds the same step. */
typedef struct {
    char dir[PP_STAGE_PATH_MAX + 1100];
    pp_snapshot_mark mark; /* run id; step: the last complete one (-1: none) */
    long long every, last_marked;
} chain_snapshots;

static int snapshot_all(pp_train *t, pp_stage **st, chain_snapshots *cs, long long step)
{
    pp_snapshot_mark m = cs->mark;
    m.step = step;
    char stages[512] = "";
    for (int i = 0; i < t->nstages; i++) {
        if (pp_stage_snapshot_save(st[i], cs->dir, &m) != 0) return pp_fail_prefix("stage %s: ", t->stage[i].kind);
        size_t n = strlen(stages);
        snprintf(stages + n, sizeof stages - n, "%s%s", n ? "," : "", t->stage[i].kind);
    }
    if (pp_snapshot_commit(cs->dir, &m, stages) != 0) return pp_fail_prefix("snapshot %lld: ", step);
    cs->mark.step = step;
    cs->last_marked = step;
    return 0;
}

/* Round after round until the collector ends the stream, a stage fails or
 * *t->stop is set. The ring's first stage (index 0) starts each round; when
 * it is about to step, every stage holds the step of the frame that went
 * round: a snapshot is taken there when one is due, and at the end (the
 * collector's, or a stop). A failure takes none: the last complete snapshot
 * stays. The status for the program. */
static int run_rounds(pp_train *t, pp_stage **st, const pp_snapshot_mark *resumed)
{
    const pp_stage_common *first = &t->stage[0].common;
    chain_snapshots cs = {.mark = *resumed, .every = first->snapshot_every};
    snprintf(cs.dir, sizeof cs.dir, "%s%s%s", first->snapshots[0] == '/' ? "" : t->o.dir,
             first->snapshots[0] == '/' ? "" : "/", first->snapshots);
    snprintf(cs.mark.run, sizeof cs.mark.run, "%s", first->run_id);
    if (!first->snapshots[0] || !pp_stage_common_given(first, "snapshot-every")) {
        pp_train_log(t, 1, "stage %s does not start the snapshots (--snapshots, --snapshot-every)", t->stage[0].kind);
        return PP_EXIT_FAILURE;
    }
    long long step = resumed->step >= 0 ? resumed->step : 0; /* of the frame going round */
    cs.last_marked = step;
    pp_frame *f = pp_frame_new(), *g = pp_frame_new();
    pp_stage *primer = st[t->prime_index];
    int status = PP_EXIT_OK, end = 0;
    if (pp_stage_prime(primer, f, resumed) != 1) {
        pp_train_log(t, 1, "stage %s: priming the ring: %s", t->stage[t->prime_index].kind, pp_error());
        pp_frame_free(f);
        pp_frame_free(g);
        return PP_EXIT_FAILURE;
    }
    pp_train_progress prog;
    pp_train_progress_init(&prog, t);
    for (int k = (t->prime_index + 1) % t->nstages;; k = (k + 1) % t->nstages) {
        if (k == 0) { /* the frame went round */
            if (t->stop && *t->stop) {
                status = 128 + *t->stop;
                end = 1;
                break;
            }
            if (pp_snapshot_due(cs.last_marked, step, cs.every) && snapshot_all(t, st, &cs, step) != 0) {
                pp_train_log(t, 1, "%s", pp_error());
                status = PP_EXIT_FAILURE;
                break;
            }
        }
        int rc = pp_stage_step(st[k], f, t->stage[k].common.drop);
        if (rc < 0) {
            pp_train_progress_end(&prog);
            pp_train_log(t, 1, "stage %s failed: %s", t->stage[k].kind, pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        if (rc > 0) { /* collect ended the run */
            end = 1;
            break;
        }
        if (k == 0) {
            int64_t v;
            if (pp_frame_get(f, "step") && pp_frame_get_i64(f, "step", &v) == 0 && v >= 0) step = v;
        }
        if (k < t->nstages - 1) continue;
        /* a round is complete */
        if (compact(g, f) != 0) {
            pp_train_log(t, 1, "compacting the frame: %s", pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        pp_frame *tmp = f;
        f = g;
        g = tmp;
        pp_train_progress_show(&prog, t, 0);
    }
    pp_frame_free(f);
    pp_frame_free(g);
    /* the end (or a stop): the stages finish their work in flight (the
     * evaluator's evaluations, which run beside the chain) before the last
     * snapshot and the last progress line, which shows them */
    for (int i = 0; end && i < t->nstages; i++)
        if (pp_stage_finish(st[i]) != 0) {
            pp_train_log(t, 1, "stage %s: %s", t->stage[i].kind, pp_error());
            status = PP_EXIT_FAILURE;
            end = 0;
        }
    if (end && cs.mark.step != step && snapshot_all(t, st, &cs, step) != 0) {
        pp_train_log(t, 1, "%s", pp_error());
        status = PP_EXIT_FAILURE;
    }
    pp_train_progress_show(&prog, t, 1);
    pp_train_progress_end(&prog);
    if (status > 128)
        pp_train_log(t, 1, "stopped by %s; checkpoints saved. Resume with: parpi-train --resume %s",
                     pp_train_signal_name(status - 128), t->o.dir);
    return status;
}

int pp_train_run_inprocess(pp_train *t)
{
    pp_stage *st[PP_TRAIN_MAX_STAGES] = {0};
    pp_blas_set_threads(t->o.threads);
    /* one process, one backend and precision: the first stage's --gemm and
     * --precision (the plan gives every stage the same) */
    if (t->nstages > 0 && pp_stage_common_gemm(&t->stage[0].common) != 0) {
        pp_train_log(t, 1, "%s", pp_error());
        return PP_EXIT_FAILURE;
    }
    int status = PP_EXIT_OK;
    pp_snapshot_mark resumed = {.step = -1};
    if (open_stages(t, st, &resumed) != 0) {
        pp_train_log(t, 1, "%s", pp_error());
        status = PP_EXIT_FAILURE;
    } else {
        status = run_rounds(t, st, &resumed);
    }
    for (int i = 0; i < t->nstages; i++) pp_stage_free(st[i]);
    return status;
}
