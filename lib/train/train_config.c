/* train_config.c - the run directory's config file: the run's options (the
 * train line) and each stage's full command line (the stage lines), written
 * for a new run and read back by --resume; and the same lines for --dry-run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "train/train.h"

static void write_argv(FILE *fp, const pp_argv *a)
{
    char q[4200];
    for (int i = 0; i < a->argc; i++) {
        pp_shell_quote(a->argv[i], q, sizeof q);
        fprintf(fp, " %s", q);
    }
}

void pp_train_print_plan(const pp_train *t, FILE *out)
{
    for (int i = 0; i < t->nstages; i++) {
        const pp_train_stage *s = &t->stage[i];
        fprintf(out, "parpi-%s", s->kind);
        write_argv(out, &s->common);
        fprintf(out, " --");
        write_argv(out, &s->own);
        fputc('\n', out);
    }
}

int pp_train_config_write(const pp_train *t)
{
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%s/config", t->dir);
    snprintf(tmp, sizeof tmp, "%s/.config.tmp", t->dir);
    FILE *fp = fopen(tmp, "w");
    if (!fp) return pp_fail("cannot write %s: %s", tmp, strerror(errno));
    char q[1200];
    fprintf(fp, "# parpi-train run (parpi %s). The stage lines are the full command lines\n"
                "# the ring runs (parpi-X COMMON-OPTIONS -- STAGE-OPTIONS); parpi-train --resume\n"
                "# reads this file back. The ring: stage 1 reads the FIFO 'ring', each stage\n"
                "# feeds the next, the last writes the FIFO; the stage given --prime starts it.\n",
            PARPI_VERSION);
    fprintf(fp, "train --env");
    pp_shell_quote(t->env, q, sizeof q);
    fprintf(fp, " %s", q);
    if (t->env_options[0]) {
        pp_shell_quote(t->env_options, q, sizeof q);
        fprintf(fp, " --env-options %s", q);
    }
    fprintf(fp, " --algo %s", t->algo);
    if (strcmp(t->algo, "parpi") == 0) fprintf(fp, " --base %s --divergence %s", t->base, t->divergence);
    fprintf(fp, " --steps %lld --seed %llu --eval-every %lld --eval-episodes %d --log-every %lld "
                "--save-every %lld --threads %d",
            t->steps, t->seed, t->eval_every, t->eval_episodes, t->log_every, t->save_every,
            t->threads);
    pp_shell_quote(t->preset[0] ? t->preset : "none", q, sizeof q);
    fprintf(fp, " --preset %s", q);
    for (int i = 0; i < t->sets.argc; i++) {
        pp_shell_quote(t->sets.argv[i], q, sizeof q);
        fprintf(fp, " --set %s", q);
    }
    fputc('\n', fp);
    for (int i = 0; i < t->nstages; i++) {
        const pp_train_stage *s = &t->stage[i];
        fprintf(fp, "stage parpi-%s", s->kind);
        write_argv(fp, &s->common);
        fprintf(fp, " --");
        write_argv(fp, &s->own);
        fputc('\n', fp);
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        fclose(fp);
        return pp_fail("writing %s: %s", tmp, strerror(errno));
    }
    fclose(fp);
    if (rename(tmp, path) != 0) return pp_fail("renaming %s to %s: %s", tmp, path, strerror(errno));
    return 0;
}

int pp_train_config_read(pp_train *t, const char *dir)
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
        if (pp_shell_split(line, &w) != 0 || w.argc < 1) {
            rc = pp_fail_prefix("%s:%d: ", path, lineno);
            pp_argv_free(&w);
            break;
        }
        if (strcmp(w.argv[0], "train") == 0) {
            /* keep what the caller parsed from its own command line */
            pp_train saved = *t;
            pp_train fresh;
            char *args[PP_TRAIN_MAX_ARGS + 4];
            int n = 0;
            args[n++] = "parpi-train";
            for (int i = 1; i < w.argc; i++) args[n++] = w.argv[i];
            args[n++] = "--out";
            args[n++] = (char *)dir;
            args[n] = NULL;
            if (pp_train_parse(&fresh, n, args) != 0) {
                rc = pp_fail_prefix("%s:%d: ", path, lineno);
                pp_argv_free(&fresh.sets);
            } else {
                pp_argv_free(&saved.sets); /* the run's own --set list wins */
                fresh.in_process = saved.in_process;
                fresh.progress = saved.progress;
                fresh.dry_run = saved.dry_run;
                fresh.resume = 1;
                *t = fresh;
                have_train = 1;
            }
        } else if (strcmp(w.argv[0], "stage") == 0 && w.argc >= 2 &&
                   strncmp(w.argv[1], "parpi-", 6) == 0) {
            if (t->nstages >= PP_TRAIN_MAX_STAGES) rc = pp_fail("%s: too many stages", path);
            else {
                pp_train_stage *s = &t->stage[t->nstages];
                memset(s, 0, sizeof *s);
                snprintf(s->kind, sizeof s->kind, "%s", w.argv[1] + 6);
                int i = 2, own = 0;
                for (; i < w.argc; i++) {
                    if (!own && strcmp(w.argv[i], "--") == 0) { own = 1; continue; }
                    if (own && strcmp(w.argv[i], "--prime") == 0) t->prime_index = t->nstages;
                    if (!own && strncmp(w.argv[i], "--resume", 8) == 0) continue;
                    pp_argv_add(own ? &s->own : &s->common, w.argv[i]);
                }
                t->nstages++;
            }
        } else rc = pp_fail("%s:%d: expected a 'train' or 'stage parpi-X' line", path, lineno);
        pp_argv_free(&w);
    }
    fclose(fp);
    if (rc == 0 && (!have_train || t->nstages < 3))
        rc = pp_fail("%s: incomplete (no train line or fewer than 3 stages)", path);
    return rc;
}
