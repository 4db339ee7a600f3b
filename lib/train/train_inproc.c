/* train_inproc.c - the same stages chained in one process: one frame object
 * goes round the pp_stage objects with no serialisation. Same options, same
 * checkpoints, same files as the piped ring, and the same parameters for the
 * same seed (tests/learn/equivalence.bats).
 *
 * The frame is compacted once per round (its fields copied into a second
 * frame whose arena is reused), so memory stays flat and, once warm, the
 * loop allocates nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame.h"
#include "nn/mlp.h"
#include "stage/stage.h"
#include "train/train.h"
#include "nn/blas.h"
#include "base/clock.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Value of --name=value or --name value in a, or NULL. */
static const char *option_value(const pp_argv *a, const char *name)
{
    size_t n = strlen(name);
    const char *v = NULL;
    for (int i = 0; i < a->argc; i++) {
        const char *s = a->argv[i];
        if (strncmp(s, "--", 2) != 0 || strncmp(s + 2, name, n) != 0) continue;
        if (s[2 + n] == '=') v = s + 3 + n;
        else if (s[2 + n] == '\0' && i + 1 < a->argc) v = a->argv[++i];
    }
    return v;
}

static int save_all(pp_train *t, pp_stage **st)
{
    for (int i = 0; i < t->nstages; i++) {
        const char *path = option_value(&t->stage[i].common, "checkpoint");
        if (!path) continue;
        pp_frame *ck = pp_frame_new();
        int rc = st[i]->ops->save(st[i], ck);
        if (rc == 0) rc = pp_checkpoint_save(ck, t->stage[i].kind, path);
        pp_frame_free(ck);
        if (rc != 0) return pp_fail_prefix("stage %s: saving %s: ", t->stage[i].kind, path);
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

int pp_train_run_inprocess(pp_train *t)
{
    pp_stage *st[PP_TRAIN_MAX_STAGES] = {0};
    pp_blas_set_threads(t->threads);
    int status = PP_EXIT_OK;
    for (int i = 0; i < t->nstages; i++) {
        pp_train_stage *s = &t->stage[i];
        char *argv[PP_TRAIN_MAX_ARGS + 2];
        char prog[64];
        snprintf(prog, sizeof prog, "parpi-%s", s->kind);
        int n = 0;
        argv[n++] = prog;
        for (int k = 0; k < s->own.argc; k++) argv[n++] = s->own.argv[k];
        argv[n] = NULL;
        if (pp_stage_create(s->kind, n, argv, &st[i]) != 0) {
            pp_train_log(t, 1, "stage %s: %s", s->kind, pp_error());
            status = PP_EXIT_FAILURE;
            goto out;
        }
        const char *resume = option_value(&s->common, "resume");
        if (resume) {
            pp_frame *ck = pp_frame_new();
            uint8_t *buf = NULL;
            int rc = pp_checkpoint_load(ck, resume, s->kind, &buf);
            if (rc == 0 && st[i]->ops->load(st[i], ck) != 0) rc = pp_fail_prefix("resuming from %s: ", resume);
            pp_frame_free(ck);
            free(buf);
            if (rc != 0) {
                pp_train_log(t, 1, "stage %s: %s", s->kind, pp_error());
                status = PP_EXIT_FAILURE;
                goto out;
            }
        }
    }
    pp_stage *primer = st[t->prime_index];
    if (!primer->ops->prime) {
        pp_train_log(t, 1, "stage %s cannot prime the ring", t->stage[t->prime_index].kind);
        status = PP_EXIT_FAILURE;
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    pp_frame *f = pp_frame_new(), *g = pp_frame_new();
    if (primer->ops->prime(primer, f) != 1) {
        pp_train_log(t, 1, "stage %s: priming the ring: %s", t->stage[t->prime_index].kind, pp_error());
        status = PP_EXIT_FAILURE;
        goto out_frames;
    }
    pp_train_progress prog;
    pp_train_progress_init(&prog, t);
    long long rounds = 0;
    char keys[PP_TRAIN_MAX_STAGES][64];
    for (int i = 0; i < t->nstages; i++)
        snprintf(keys[i], sizeof keys[i], "metrics.%s.step_ms", t->stage[i].kind);
    int k = (t->prime_index + 1) % t->nstages, done = 0;
    while (!done) {
        if (stop_flag) {
            status = 128 + SIGINT;
            break;
        }
        double t0 = pp_now();
        int rc = st[k]->ops->step(st[k], f);
        if (rc < 0) {
            pp_train_progress_end(&prog);
            pp_train_log(t, 1, "stage %s failed: %s", t->stage[k].kind, pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        if (rc > 0) break; /* collect ended the run */
        pp_frame_set_f64(f, keys[k], (pp_now() - t0) * 1e3);
        const char *drop = option_value(&t->stage[k].common, "drop");
        /* as the piped stage does (and less to copy when compacting) */
        if (drop && pp_frame_remove_list(f, drop) != 0) {
            pp_train_log(t, 1, "stage %s: --drop: %s", t->stage[k].kind, pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        if (k == t->nstages - 1) { /* a round is complete */
            rounds++;
            if (compact(g, f) != 0) {
                pp_train_log(t, 1, "compacting the frame: %s", pp_error());
                status = PP_EXIT_FAILURE;
                break;
            }
            pp_frame *tmp = f;
            f = g;
            g = tmp;
            if (t->save_every > 0 && rounds % t->save_every == 0 && save_all(t, st) != 0) {
                pp_train_log(t, 1, "%s", pp_error());
                status = PP_EXIT_FAILURE;
                break;
            }
            pp_train_progress_show(&prog, t, 0);
        }
        k = (k + 1) % t->nstages;
    }
    pp_train_progress_show(&prog, t, 1);
    pp_train_progress_end(&prog);
    /* Stages leave their state unchanged on a failed step, so saving is safe. */
    if (save_all(t, st) != 0) {
        pp_train_log(t, 1, "%s", pp_error());
        status = PP_EXIT_FAILURE;
    }
    if (status == 128 + SIGINT)
        pp_train_log(t, 1, "stopped; checkpoints saved. Resume with: parpi-train --resume %s", t->dir);
out_frames:
    pp_frame_free(f);
    pp_frame_free(g);
out:
    for (int i = 0; i < t->nstages; i++) pp_stage_free(st[i]);
    return status;
}
