/* train_config.c - the run directory's config file: the run's options (the
 * train line) and each stage's full command line (the stage lines), written
 * for a new run and read back by --resume.
 *
 *   # comments
 *   train --env Pendulum-v1 --algo sac --steps 300 ... --set critic.hidden=16
 *   stage parpi-collect --checkpoint=DIR/ckpt/collect.ckpt --threads=1 -- --env Pendulum-v1 ...
 *   stage parpi-critic --checkpoint=... --drop=policy -- --seed=0 ...
 *
 * Words are shell-quoted (pp_shell_quote). A stage line's words before "--"
 * are the common stage options (stage/stage_run.h), after it the stage's
 * own; a stage's --resume is never written (the driver adds it on resume).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "train/train.h"

static void write_word(FILE *fp, const char *word)
{
    char q[PP_STAGE_PATH_MAX + 512];
    pp_shell_quote(word, q, sizeof q);
    fprintf(fp, " %s", q);
}

static void write_train_line(FILE *fp, const pp_train_opts *o)
{
    fprintf(fp, "train --env");
    write_word(fp, o->env);
    if (o->env_options[0]) {
        fprintf(fp, " --env-options");
        write_word(fp, o->env_options);
    }
    if (o->dataset[0]) {
        fprintf(fp, " --dataset");
        write_word(fp, o->dataset);
    }
    fprintf(fp, " --algo %s", pp_train_algos[o->algo]);
    if (strcmp(pp_train_algos[o->algo], "parpi") == 0)
        fprintf(fp, " --base %s --divergence %s", pp_train_bases[o->base], pp_train_divergences[o->divergence]);
    if (pp_train_needs_behaviour(o)) {
        if (o->behaviour[0]) {
            fprintf(fp, " --behaviour");
            write_word(fp, o->behaviour);
        } else {
            fprintf(fp, " --bc-steps %lld", o->bc_steps);
        }
    }
    fprintf(fp, " --steps %lld --seed %llu --eval-every %lld --eval-episodes %d --log-every %lld "
                "--save-every %lld --threads %d --preset",
            o->steps, o->seed, o->eval_every, o->eval_episodes, o->log_every, o->save_every, o->threads);
    write_word(fp, o->preset[0] ? o->preset : "none");
    for (int i = 0; i < o->sets.argc; i++) {
        fprintf(fp, " --set");
        write_word(fp, o->sets.argv[i]);
    }
    fputc('\n', fp);
}

static void write_stage_line(FILE *fp, const pp_train_stage *s)
{
    fprintf(fp, "stage parpi-%s", s->kind);
    pp_stage_common c = s->common;
    pp_stage_common_unset(&c, "resume");
    char word[PP_STAGE_PATH_MAX + 64];
    for (int i = 0; pp_stage_common_options[i].name; i++)
        if (pp_stage_common_word(&c, i, word, sizeof word)) write_word(fp, word);
    fprintf(fp, " --");
    for (int i = 0; i < s->own.argc; i++) write_word(fp, s->own.argv[i]);
    fputc('\n', fp);
}

int pp_train_config_write(const pp_train *t)
{
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%s/config", t->o.dir);
    snprintf(tmp, sizeof tmp, "%s/.config.tmp", t->o.dir);
    FILE *fp = fopen(tmp, "w");
    if (!fp) return pp_fail("cannot write %s: %s", tmp, strerror(errno));
    fprintf(fp, "# parpi-train run (parpi %s). The stage lines are the full command lines\n"
                "# the ring runs (parpi-X COMMON-OPTIONS -- STAGE-OPTIONS); parpi-train --resume\n"
                "# reads this file back. The ring: stage 1 reads the FIFO 'ring', each stage\n"
                "# feeds the next, the last writes the FIFO; the stage given --prime starts it.\n",
            PARPI_VERSION);
    write_train_line(fp, &t->o);
    for (int i = 0; i < t->nstages; i++) write_stage_line(fp, &t->stage[i]);
    int bad = ferror(fp) || fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    int err = errno;
    if (fclose(fp) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (bad) {
        unlink(tmp);
        return pp_fail("writing %s: %s", tmp, strerror(err));
    }
    if (rename(tmp, path) != 0) return pp_fail("renaming %s to %s: %s", tmp, path, strerror(errno));
    return 0;
}

/* "stage parpi-X COMMON... -- OWN..." (w holds its words) as stage i of t. */
static int read_stage_line(pp_train *t, const pp_argv *w)
{
    if (t->nstages >= PP_TRAIN_MAX_STAGES) return pp_fail("more than %d stages", PP_TRAIN_MAX_STAGES);
    pp_train_stage *s = &t->stage[t->nstages];
    memset(s, 0, sizeof *s);
    snprintf(s->kind, sizeof s->kind, "%s", w->argv[1] + 6);
    int dashes = 2;
    while (dashes < w->argc && strcmp(w->argv[dashes], "--") != 0) dashes++;
    char *common[PP_TRAIN_MAX_ARGS + 1];
    int n = 0;
    common[n++] = w->argv[1];
    for (int i = 2; i < dashes; i++) common[n++] = w->argv[i];
    common[n] = NULL;
    if (pp_stage_common_init(&s->common) != 0 || pp_stage_common_parse(&s->common, n, common) != 0)
        return pp_fail_prefix("parpi-%s: ", s->kind);
    pp_stage_common_unset(&s->common, "resume"); /* the driver adds it where a checkpoint is */
    for (int i = dashes + 1; i < w->argc; i++) {
        if (strcmp(w->argv[i], "--prime") == 0) t->prime_index = t->nstages;
        pp_argv_add(&s->own, w->argv[i]);
    }
    t->nstages++;
    return 0;
}

int pp_train_config_read(pp_train *t, const char *dir, pp_argv *train_args)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/config", dir);
    FILE *fp = fopen(path, "r");
    if (!fp) return pp_fail("--resume %s: cannot read %s: %s (is it a parpi-train run directory?)",
                            dir, path, strerror(errno));
    char line[16384];
    int lineno = 0, rc = 0, have_train = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        pp_argv w = {0};
        if (pp_shell_split(line, &w) != 0 || w.argc < 1) rc = -1;
        else if (strcmp(w.argv[0], "train") == 0) {
            pp_argv_free(train_args);
            for (int i = 1; i < w.argc; i++) pp_argv_add(train_args, w.argv[i]);
            have_train = 1;
        } else if (strcmp(w.argv[0], "stage") == 0 && w.argc >= 2 && strncmp(w.argv[1], "parpi-", 6) == 0)
            rc = read_stage_line(t, &w);
        else rc = pp_fail("expected a 'train' or 'stage parpi-X' line");
        if (rc != 0) pp_fail_prefix("%s:%d: ", path, lineno);
        pp_argv_free(&w);
    }
    fclose(fp);
    if (rc == 0 && (!have_train || t->nstages < 3))
        rc = pp_fail("%s: incomplete (no train line or fewer than 3 stages)", path);
    return rc;
}

/* ---- configs of parpi 0.1 ---- */

/* Its stage lines: --checkpoint=OLD/ckpt/KIND.ckpt --save-every=N, and the
 * stages' paths (--replay, --log, ...) as OLD/..., OLD being --out as typed
 * at the run's start, relative to the working directory of then. */
int pp_train_config_upgrade(pp_train *t)
{
    if (t->nstages < 1 || !t->stage[0].common.checkpoint[0] || t->stage[0].common.snapshots[0]) return 0;
    /* OLD from the first stage's checkpoint */
    char old[PP_STAGE_PATH_MAX], tail[64];
    snprintf(old, sizeof old, "%s", t->stage[0].common.checkpoint);
    snprintf(tail, sizeof tail, "/ckpt/%s.ckpt", t->stage[0].kind);
    size_t n = strlen(old), k = strlen(tail);
    if (n > k && strcmp(old + n - k, tail) == 0) old[n - k] = '\0';
    else old[0] = '\0'; /* paths stay as they are */
    t->legacy_replay[0] = '\0';
    for (int i = 0; i < t->nstages; i++) {
        pp_train_stage *s = &t->stage[i];
        pp_stage_common_unset(&s->common, "checkpoint");
        pp_stage_common_unset(&s->common, "save-every");
        pp_stage_common_unset(&s->common, "resume");
        if (pp_stage_common_set(&s->common, "snapshots", PP_TRAIN_SNAPSHOTS) != 0)
            return pp_fail_prefix("parpi-%s: ", s->kind);
        pp_train_paths_under(s->kind, &s->own, old);
        if (strcmp(s->kind, "collect") != 0) continue;
        /* its replay buffer is read this once; snapshots hold it from now on */
        pp_argv kept = {0};
        for (int a = 0; a < s->own.argc; a++) {
            const char *w = s->own.argv[a];
            const char *v = strncmp(w, "--replay=", 9) == 0 ? w + 9
                            : strcmp(w, "--replay") == 0 && a + 1 < s->own.argc ? s->own.argv[++a]
                                                                                : NULL;
            if (v) snprintf(t->legacy_replay, sizeof t->legacy_replay, "%s", v);
            else pp_argv_add(&kept, w);
        }
        pp_argv_free(&s->own);
        s->own = kept;
    }
    pp_train_set_save_every(t, t->o.save_every);
    pp_train_set_threads(t, t->o.threads);
    char id[PP_SNAPSHOT_RUN_MAX];
    pp_train_run_id(t, id, sizeof id);
    if (pp_stage_common_set(&t->stage[0].common, "run-id", id) != 0) return -1;
    return 1;
}
