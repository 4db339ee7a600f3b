/* recipe.c - D4RL-named data sets from the manifest of behaviour policies
 * (recipe.h, docs/offline.md "Generating data sets"). */
#include "offline/recipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/share.h"
#include "offline/generate.h"
#include "train/train.h"

/* buf = a + b + c, or -1 (message) when it does not fit. */
static int join3(char *buf, size_t cap, const char *a, const char *b, const char *c)
{
    int n = snprintf(buf, cap, "%s%s%s", a, b, c);
    if (n < 0 || (size_t)n >= cap) return pp_fail("path too long: %s%s%s", a, b, c);
    return 0;
}

static const char *const kinds[] = {"random", "medium", "expert", "medium-replay", "medium-expert", NULL};

/* "hopper-medium-replay-v2" -> task "hopper", kind "medium-replay". */
static int split_name(const char *name, char *task, size_t tcap, char *kind, size_t kcap)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", name);
    size_t n = strlen(buf);
    if (n > 3 && buf[n - 3] == '-' && buf[n - 2] == 'v' && buf[n - 1] >= '0' && buf[n - 1] <= '9')
        buf[n - 3] = '\0';
    char *dash = strchr(buf, '-');
    if (!dash || dash == buf) return pp_fail("%s: expected TASK-KIND, e.g. hopper-medium", name);
    *dash = '\0';
    size_t tlen = strlen(buf);
    if (tlen >= tcap) return pp_fail("%s: the task name is longer than %zu characters", name, tcap - 1);
    for (int i = 0; kinds[i]; i++)
        if (strcmp(dash + 1, kinds[i]) == 0 && strlen(kinds[i]) < kcap) {
            memcpy(task, buf, tlen + 1);
            memcpy(kind, kinds[i], strlen(kinds[i]) + 1);
            return 0;
        }
    return pp_fail("%s: unknown kind '%s' (random, medium, expert, medium-replay, medium-expert)", name,
                   dash + 1);
}

static int parse_i64(const char *v, int64_t lo, int64_t *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || *end || d < (double)lo || d > 9e15 || d != (double)(int64_t)d) return -1;
    *out = (int64_t)d;
    return 0;
}

/* A file named in a manifest: absolute, or relative to its folder dir. */
static int file_key(char *buf, size_t cap, const char *dir, const char *v)
{
    return v[0] == '/' ? join3(buf, cap, v, "", "") : join3(buf, cap, dir, "/", v);
}

/* One key=value of a manifest line into r; dir: the manifest's folder. */
static int set_key(pp_recipe *r, const char *dir, const char *key, const char *v)
{
    int64_t i;
    if (!strcmp(key, "env")) snprintf(r->env, sizeof r->env, "%s", v);
    else if (!strcmp(key, "policy")) return file_key(r->policy, sizeof r->policy, dir, v);
    else if (!strcmp(key, "train")) return file_key(r->train, sizeof r->train, dir, v);
    else if (!strcmp(key, "first")) snprintf(r->first, sizeof r->first, "%s", v);
    else if (!strcmp(key, "second")) snprintf(r->second, sizeof r->second, "%s", v);
    else if (!strcmp(key, "return")) {
        char *end;
        r->ret = strtod(v, &end);
        if (*end || end == v) return pp_fail("return=%s: expected a number", v);
        r->has_return = 1;
    } else if (!strcmp(key, "rows") || !strcmp(key, "step") || !strcmp(key, "steps") || !strcmp(key, "seed")) {
        if (parse_i64(v, 0, &i) != 0) return pp_fail("%s=%s: expected a whole number", key, v);
        if (!strcmp(key, "rows")) r->rows = i;
        else if (!strcmp(key, "step")) r->step = i;
        else if (!strcmp(key, "steps")) r->steps = i;
        else r->seed = (uint64_t)i;
    } else {
        return pp_fail("unknown key '%s' (env, rows, seed, policy, step, return, train, steps, first, second)",
                       key);
    }
    return 0;
}

int pp_recipe_find(const char *manifest, const char *name, pp_recipe *out)
{
    memset(out, 0, sizeof *out);
    char task[32], kind[32];
    if (split_name(name, task, sizeof task, kind, sizeof kind) != 0) return -1;
    FILE *fp = fopen(manifest, "r");
    if (!fp) return pp_fail("%s: %s", manifest, strerror(errno));
    char dir[PP_RECIPE_PATH_MAX], line[2048], names[1024] = "";
    snprintf(dir, sizeof dir, "%s", manifest);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    int lineno = 0, found = 0, rc = 0;
    while (rc == 0 && !found && fgets(line, sizeof line, fp)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *save = NULL, *t = strtok_r(line, " \t\r\n", &save), *k = strtok_r(NULL, " \t\r\n", &save);
        if (!t) continue;
        if (!k) {
            rc = pp_fail("%s:%d: expected TASK KIND key=value...", manifest, lineno);
            break;
        }
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s-%s", used ? ", " : "", t, k);
        if (strcmp(t, task) != 0 || strcmp(k, kind) != 0) continue;
        found = 1;
        snprintf(out->task, sizeof out->task, "%s", t);
        snprintf(out->kind, sizeof out->kind, "%s", k);
        for (char *kv; rc == 0 && (kv = strtok_r(NULL, " \t\r\n", &save));) {
            char *eq = strchr(kv, '=');
            if (!eq) rc = pp_fail("%s:%d: '%s' is not key=value", manifest, lineno, kv);
            else {
                *eq = '\0';
                if (set_key(out, dir, kv, eq + 1) != 0) rc = pp_fail_prefix("%s:%d: ", manifest, lineno);
            }
        }
    }
    fclose(fp);
    if (rc != 0) return -1;
    if (!found) return pp_fail("%s: no data set %s-%s in %s (it has: %s)", name, task, kind, manifest, names);
    int mixed = !strcmp(kind, "medium-expert");
    if (!mixed && !out->env[0]) return pp_fail("%s: %s-%s has no env=", manifest, task, kind);
    if (!strcmp(kind, "medium-replay") && (!out->train[0] || out->steps <= 0))
        return pp_fail("%s: %s-medium-replay needs train=FILE and steps=N", manifest, task);
    if (mixed && (!out->first[0] || !out->second[0]))
        return pp_fail("%s: %s-medium-expert needs first=KIND and second=KIND", manifest, task);
    if ((!strcmp(kind, "medium") || !strcmp(kind, "expert")) && !out->policy[0])
        return pp_fail("%s: %s-%s needs policy=FILE", manifest, task, kind);
    if (!out->rows) out->rows = mixed ? 2000000 : 1000000;
    return 0;
}

/* ---- medium-replay: the training run up to the medium policy ---- */

/* parpi-train's arguments from the train= file, one per line. */
static int read_args(const char *path, pp_argv *a)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return pp_fail("%s: %s", path, strerror(errno));
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] && line[0] != '#') {
            if (a->argc >= PP_TRAIN_MAX_ARGS - 16) {
                fclose(fp);
                return pp_fail("%s: too many arguments", path);
            }
            pp_argv_add(a, line);
        }
    }
    fclose(fp);
    return 0;
}

/* Run parpi-train with argv; 0 if it exited 0. */
static int run_train(pp_argv *a)
{
    if (pp_train_run_child(a, NULL) == 0) return 0;
    return pp_fail_prefix("(see its logs/train.log) ");
}

static int medium_replay(const pp_recipe *r, const char *run_dir, pp_dataset **out)
{
    pp_argv a = {0};
    char steps[32], path[PP_RECIPE_PATH_MAX];
    snprintf(steps, sizeof steps, "%lld", (long long)r->steps);
    if (join3(path, sizeof path, run_dir, "/config", "") != 0) return -1;
    pp_argv_add(&a, "parpi-train");
    int rc = 0;
    if (access(path, F_OK) == 0) { /* a run begun earlier goes on */
        pp_argv_add(&a, "--resume");
        pp_argv_add(&a, run_dir);
    } else {
        rc = read_args(r->train, &a);
        pp_argv_add(&a, "--out");
        pp_argv_add(&a, run_dir);
    }
    pp_argv_add(&a, "--steps");
    pp_argv_add(&a, steps);
    if (rc == 0) rc = run_train(&a);
    pp_argv_free(&a);
    if (rc != 0) return pp_fail_prefix("medium-replay, training to step %lld in %s: ", (long long)r->steps, run_dir);
    char sub[64];
    snprintf(sub, sizeof sub, "/ckpt/%lld/replay.mp", (long long)r->steps);
    if (join3(path, sizeof path, run_dir, sub, "") != 0) return -1;
    if (pp_dataset_load(out, path) != 0) return pp_fail_prefix("medium-replay: ");
    /* the buffer must hold every transition from the first step on */
    int64_t size = (*out)->rows;
    if (size != r->steps)
        return pp_fail("medium-replay: %s holds %lld rows, expected all %lld transitions of the run "
                       "(a capacity below the step count?)", path, (long long)size, (long long)r->steps);
    pp_frame *m = (*out)->meta;
    if (pp_frame_set_str(m, "algorithm", "SAC") || pp_frame_set_i64(m, "iteration", r->steps) ||
        pp_frame_set_str(m, "collection.recipe", "D4RL convert_buffer.py, parpi-generated") ||
        pp_frame_set_str(m, "collection.source", "the replay buffer of the behaviour policy's training run "
                                                  "up to the medium policy") ||
        pp_frame_set_i64(m, "collection.rows", size))
        return pp_fail_prefix("medium-replay metadata: ");
    snprintf((*out)->env, sizeof (*out)->env, "%s", r->env);
    return 0;
}

/* ---- the rest ---- */

typedef struct {
    const pp_recipe_config *c;
    const char *what;
} progress_ctx;

static void progress_rows(void *ctx, int64_t done, int64_t total)
{
    progress_ctx *p = ctx;
    p->c->progress(p->c->ctx, p->what, done, total);
}

static int policy_rows(const pp_recipe_config *c, const char *manifest, const pp_recipe *r, int64_t rows,
                       pp_dataset **out)
{
    progress_ctx pc = {c, r->kind};
    pp_generate_config g = {.env = r->env,
                            .policy_path = r->policy[0] ? r->policy : NULL,
                            .rows = rows,
                            .seed = r->seed,
                            .progress = c->progress ? progress_rows : NULL,
                            .ctx = &pc};
    if (pp_generate_rollouts(&g, out) != 0) return -1;
    pp_frame *m = (*out)->meta;
    int rc = 0;
    if (r->policy[0]) {
        rc |= pp_frame_set_i64(m, "iteration", r->step);
        if (r->has_return) rc |= pp_frame_set_f64(m, "policy.eval_return", r->ret);
    }
    if (!strcmp(r->kind, "medium")) {
        rc |= pp_frame_set_str(m, "policy.definition",
                               "medium: the first checkpoint whose evaluation (10 deterministic episodes) "
                               "reaches a third of the expert's");
        /* the other return of the rule, from the manifest's expert line */
        char name[96];
        pp_recipe e;
        snprintf(name, sizeof name, "%s-expert", r->task);
        if (pp_recipe_find(manifest, name, &e) == 0 && e.has_return)
            rc |= pp_frame_set_f64(m, "policy.expert_return", e.ret) |
                  pp_frame_set_i64(m, "policy.expert_step", e.step);
        else
            pp_error_clear();
    }
    if (!strcmp(r->kind, "expert"))
        rc |= pp_frame_set_str(m, "policy.definition", "expert: the best evaluation of the training run");
    return rc ? pp_fail_prefix("metadata: ") : 0;
}

int pp_recipe_generate(const pp_recipe_config *c, pp_dataset **out)
{
    *out = NULL;
    char manifest[PP_RECIPE_PATH_MAX];
    if (c->manifest) snprintf(manifest, sizeof manifest, "%s", c->manifest);
    else if (pp_share_path("d4rl/manifest", manifest, sizeof manifest) != 0) return -1;
    pp_recipe r;
    if (pp_recipe_find(manifest, c->name, &r) != 0) return -1;
    int64_t rows = c->rows > 0 ? c->rows : r.rows;
    if (c->has_seed) r.seed = c->seed;
    int rc;
    if (!strcmp(r.kind, "medium-replay")) {
        char dir[PP_RECIPE_PATH_MAX];
        if (c->run_dir) snprintf(dir, sizeof dir, "%s", c->run_dir);
        else snprintf(dir, sizeof dir, "%s-medium-replay.run", r.task);
        rc = medium_replay(&r, dir, out);
    } else if (!strcmp(r.kind, "medium-expert")) {
        pp_recipe_config half = *c;
        pp_dataset *a = NULL, *b = NULL;
        char name[96];
        snprintf(name, sizeof name, "%s-%s", r.task, r.first);
        half.name = name;
        half.rows = rows / 2; /* D4RL: 1M + 1M, capped at 2M */
        half.manifest = manifest;
        rc = pp_recipe_generate(&half, &a);
        snprintf(name, sizeof name, "%s-%s", r.task, r.second);
        if (rc == 0) rc = pp_recipe_generate(&half, &b);
        if (rc == 0) rc = pp_dataset_stitch(a, b, rows, out);
        pp_dataset_free(a);
        pp_dataset_free(b);
    } else {
        rc = policy_rows(c, manifest, &r, rows, out);
    }
    if (rc == 0) {
        char canonical[96];
        snprintf(canonical, sizeof canonical, "%s-%s", r.task, r.kind);
        rc = pp_frame_set_str((*out)->meta, "collection.name", canonical) |
             pp_frame_set_str((*out)->meta, "collection.label", "parpi-generated, D4RL recipe");
        if (rc) rc = pp_fail_prefix("metadata: ");
    }
    if (rc != 0) {
        pp_dataset_free(*out);
        *out = NULL;
        return pp_fail_prefix("%s: ", c->name);
    }
    return 0;
}
