/* train_plan.c - the plan of a run: the stages of each configuration, the
 * preset and --set options.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/share.h"
#include "env/env.h"
#include "stage/stage.h"
#include "train/train.h"

const char *const pp_train_algos[] = {"parpi", "sac", "sql", NULL};
const char *const pp_train_bases[] = {"sac", "sql", NULL};
const char *const pp_train_divergences[] = {"jsd", "wd", "rkl", "hinge", NULL};

/* ---- presets and --set ---- */

static pp_train_stage *find_stage(pp_train *t, const char *kind)
{
    for (int i = 0; i < t->nstages; i++)
        if (strcmp(t->stage[i].kind, kind) == 0) return &t->stage[i];
    return NULL;
}

/* "critic.gamma=0.98" -> critic gets "--gamma" "0.98". Options for a stage
 * this algorithm does not run are not an error (a preset serves every
 * algorithm); an unknown kind is. */
static int apply_set(pp_train *t, const char *set, const char *where)
{
    char kind[32];
    const char *dot = strchr(set, '.');
    size_t n = (size_t)(dot - set);
    if (n >= sizeof kind) return pp_fail("%s: stage name too long in '%s'", where, set);
    memcpy(kind, set, n);
    kind[n] = '\0';
    if (strcmp(kind, "all") == 0) {
        for (int i = 0; i < t->nstages; i++) {
            char buf[600];
            snprintf(buf, sizeof buf, "%s%s", t->stage[i].kind, dot);
            if (apply_set(t, buf, where) != 0) return -1;
        }
        return 0;
    }
    pp_train_stage *s = find_stage(t, kind);
    if (!s) {
        static const char *const any[] = {"collect", "critic", "langevin", "discrim", "policy",
                                          "eval", NULL};
        for (int i = 0; any[i]; i++)
            if (strcmp(kind, any[i]) == 0) return 0;
        return pp_fail("%s: unknown stage '%s' in '%s' (collect, critic, langevin, discrim, "
                       "policy, eval, all)",
                       where, kind, set);
    }
    const char *opt = dot + 1;
    const char *eq = strchr(opt, '=');
    if (eq) {
        pp_argv_addf(&s->own, "--%.*s", (int)(eq - opt), opt);
        pp_argv_add(&s->own, eq + 1);
    } else pp_argv_addf(&s->own, "--%s", opt);
    return 0;
}

static int find_preset(const pp_train *t, char *path, size_t cap)
{
    const pp_train_opts *o = &t->o;
    if (strcmp(o->preset, "none") == 0) return 1;
    char rel[600];
    if (o->preset[0]) {
        if (access(o->preset, R_OK) == 0) {
            snprintf(path, cap, "%s", o->preset);
            return 0;
        }
        snprintf(rel, sizeof rel, "presets/%s.conf", o->preset);
        if (pp_share_path(rel, path, cap) == 0) return 0;
        return pp_fail("--preset %s: no such file, and no %s in share/parpi", o->preset, rel);
    }
    snprintf(rel, sizeof rel, "presets/%s.conf", o->env);
    if (pp_share_path(rel, path, cap) == 0) return 0;
    snprintf(rel, sizeof rel, "presets/default.conf");
    if (pp_share_path(rel, path, cap) == 0) return 0;
    return 1; /* no preset: built-in defaults */
}

/* Preset file: "# comment" lines and "STAGE --option value ..." lines;
 * "train ..." lines are for the driver (ignored here). Lines are added to
 * the stage's own options in order. */
static int apply_preset(pp_train *t, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return pp_fail("cannot read preset %s: %s", path, strerror(errno));
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        pp_argv words = {0};
        if (pp_shell_split(p, &words) != 0) {
            rc = pp_fail_prefix("%s:%d: ", path, lineno);
            break;
        }
        const char *kind = words.argv[0];
        pp_train_stage *s = find_stage(t, kind);
        if (s) {
            for (int i = 1; i < words.argc; i++) pp_argv_add(&s->own, words.argv[i]);
        } else if (strcmp(kind, "train") && strcmp(kind, "collect") && strcmp(kind, "critic") &&
                   strcmp(kind, "langevin") && strcmp(kind, "discrim") && strcmp(kind, "policy") &&
                   strcmp(kind, "eval")) {
            rc = pp_fail("%s:%d: unknown stage '%s' (collect, critic, langevin, discrim, policy, "
                         "eval, train)",
                         path, lineno, kind);
        }
        pp_argv_free(&words);
    }
    fclose(fp);
    return rc;
}

/* ---- the plan ---- */

static pp_train_stage *add_stage(pp_train *t, const char *kind)
{
    pp_train_stage *s = &t->stage[t->nstages++];
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    pp_stage_common_init(&s->common);
    return s;
}

/* --env NAME [--env-options K=V,...]: the collector and the evaluator act in the same task. */
static void add_env_args(const pp_train *t, pp_train_stage *s)
{
    pp_argv_add(&s->own, "--env");
    pp_argv_add(&s->own, t->o.env);
    if (t->o.env_options[0]) {
        pp_argv_add(&s->own, "--env-options");
        pp_argv_add(&s->own, t->o.env_options);
    }
}

int pp_train_plan(pp_train *t)
{
    const pp_train_opts *o = &t->o;
    pp_env *env = NULL;
    if (pp_env_create(o->env, o->env_options[0] ? o->env_options : NULL, &env) != 0)
        return pp_fail_prefix("--env %s: ", o->env);
    const pp_env_info *info = pp_env_get_info(env);
    int obs_dim = info->obs_dim, act_dim = info->act_dim;
    pp_env_free(env);

    const char *D = o->dir, *algo = pp_train_algos[o->algo];
    int parpi = strcmp(algo, "parpi") == 0;
    int sql_target = strcmp(algo, "sql") == 0 || (parpi && strcmp(pp_train_bases[o->base], "sql") == 0);

    pp_train_stage *s = add_stage(t, "collect");
    add_env_args(t, s);
    pp_argv_addf(&s->own, "--seed=%llu", o->seed);
    pp_argv_addf(&s->own, "--until=%lld", o->steps);
    pp_argv_addf(&s->own, "--replay=%s/replay.mp", D);
    pp_argv_addf(&s->own, "--log=%s/episodes.csv", D);

    s = add_stage(t, "critic");
    pp_argv_addf(&s->own, "--seed=%llu", o->seed);
    if (sql_target) pp_argv_add(&s->own, "--target=sql");

    if (parpi) {
        s = add_stage(t, "langevin");
        pp_argv_addf(&s->own, "--seed=%llu", o->seed);
        s = add_stage(t, "discrim");
        pp_argv_addf(&s->own, "--seed=%llu", o->seed);
        pp_argv_addf(&s->own, "--divergence=%s", pp_train_divergences[o->divergence]);
    }

    t->prime_index = t->nstages;
    s = add_stage(t, "policy");
    pp_argv_addf(&s->own, "--seed=%llu", o->seed);
    pp_argv_addf(&s->own, "--update=%s", parpi ? "parpi" : strcmp(algo, "sac") == 0 ? "sac" : "svgd");
    pp_argv_addf(&s->own, "--obs-dim=%d", obs_dim);
    pp_argv_addf(&s->own, "--act-dim=%d", act_dim);
    pp_argv_add(&s->own, "--prime");

    s = add_stage(t, "eval");
    add_env_args(t, s);
    pp_argv_addf(&s->own, "--seed=%llu", o->seed);
    pp_argv_addf(&s->own, "--every=%lld", o->eval_every);
    pp_argv_addf(&s->own, "--episodes=%d", o->eval_episodes);
    pp_argv_addf(&s->own, "--log=%s/eval.csv", D);
    pp_argv_addf(&s->own, "--progress-log=%s/progress.csv", D);
    pp_argv_addf(&s->own, "--log-every=%lld", o->log_every);
    pp_argv_addf(&s->own, "--status=%s/status", D);

    char preset[sizeof o->preset];
    int found = find_preset(t, preset, sizeof preset);
    if (found < 0) return -1;
    if (found == 0 && apply_preset(t, preset) != 0) return -1;
    if (found == 0) snprintf(t->o.preset, sizeof t->o.preset, "%s", preset);
    for (int i = 0; i < o->sets.argc; i++)
        if (apply_set(t, o->sets.argv[i], "--set") != 0) return -1;

    for (int i = 0; i < t->nstages; i++) {
        pp_stage_common *c = &t->stage[i].common;
        char buf[PP_STAGE_PATH_MAX];
        snprintf(buf, sizeof buf, "%s/ckpt/%s.ckpt", o->dir, t->stage[i].kind);
        if (pp_stage_common_set(c, "checkpoint", buf) != 0) return -1;
        if (o->save_every > 0) {
            snprintf(buf, sizeof buf, "%lld", o->save_every);
            if (pp_stage_common_set(c, "save-every", buf) != 0) return -1;
        }
        snprintf(buf, sizeof buf, "%d", o->threads);
        if (pp_stage_common_set(c, "threads", buf) != 0) return -1;
    }
    /* The policy stage is the last reader of the critic's q, the
     * discriminator's disc, the particles and the batch in a lap (the next
     * lap brings new ones): dropping them there halves what the pipes carry
     * and changes no number. */
    pp_stage_common_set(&t->stage[t->prime_index].common, "drop", "q,disc,particles,batch");
    /* Likewise the Langevin stage is the last reader of q and of the policy
     * (the policy stage keeps its own parameters and emits them anew):
     * nothing after it needs them, so the two largest tensors stop there. */
    pp_train_stage *l = find_stage(t, "langevin");
    if (l) pp_stage_common_set(&l->common, "drop", "q,policy");
    /* In the baselines the critic is the last reader of the frame's policy
     * (the SAC and SVGD updates use their own parameters). */
    if (!parpi) pp_stage_common_set(&find_stage(t, "critic")->common, "drop", "policy");
    return 0;
}

void pp_train_add_resume(pp_train *t)
{
    for (int i = 0; i < t->nstages; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/ckpt/%s.ckpt", t->o.dir, t->stage[i].kind);
        if (access(path, R_OK) == 0) pp_stage_common_set(&t->stage[i].common, "resume", path);
    }
}

void pp_train_set_steps(pp_train *t, long long steps)
{
    pp_train_stage *s = find_stage(t, "collect");
    if (!s) return;
    for (int i = 0; i < s->own.argc; i++)
        if (strncmp(s->own.argv[i], "--until=", 8) == 0) {
            free(s->own.argv[i]);
            char buf[64];
            snprintf(buf, sizeof buf, "--until=%lld", steps);
            s->own.argv[i] = strcpy(pp_xmalloc(strlen(buf) + 1), buf);
        }
    t->o.steps = steps;
}

void pp_train_stage_argv(const pp_train_stage *s, const char *prog, pp_argv *out)
{
    char word[PP_STAGE_PATH_MAX + 64];
    pp_argv_add(out, prog);
    for (int i = 0; pp_stage_common_options[i].name; i++)
        if (pp_stage_common_word(&s->common, i, word, sizeof word)) pp_argv_add(out, word);
    pp_argv_add(out, "--");
    for (int i = 0; i < s->own.argc; i++) pp_argv_add(out, s->own.argv[i]);
}

int pp_train_print_plan(const pp_train *t, FILE *out)
{
    char q[PP_STAGE_PATH_MAX + 512];
    for (int i = 0; i < t->nstages; i++) {
        char prog[32];
        snprintf(prog, sizeof prog, "parpi-%s", t->stage[i].kind);
        pp_argv a = {0};
        pp_train_stage_argv(&t->stage[i], prog, &a);
        for (int k = 0; k < a.argc; k++) {
            pp_shell_quote(a.argv[k], q, sizeof q);
            fprintf(out, "%s%s", k ? " " : "", q);
        }
        fputc('\n', out);
        pp_argv_free(&a);
    }
    return ferror(out) ? pp_fail("writing the plan: %s", strerror(errno)) : 0;
}

void pp_train_free(pp_train *t)
{
    for (int i = 0; i < t->nstages; i++) pp_argv_free(&t->stage[i].own);
    pp_argv_free(&t->o.sets);
    t->nstages = 0;
}
