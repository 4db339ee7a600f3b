/* train_plan.c - the plan of a run: the ring of the algorithm (a table row),
 * the preset and --set options, and the --drop of each stage computed from
 * the stages' contracts.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/share.h"
#include "nn/blas.h"
#include "env/env.h"
#include "stage/stage.h"
#include "train/train.h"

const char *const pp_train_algos[] = {"parpi", "sac", "sql", "bc", "brac", NULL};
const char *const pp_train_bases[] = {"sac", "sql", "brac", NULL};
const char *const pp_train_divergences[] = {"jsd", "wd", "rkl", "hinge", NULL};

/* ---- rings: one row per algorithm ---- */

/* A stage of a ring and the options the plan gives it, before the preset's
 * and --set's (which come after, so they win). Words are separated by
 * spaces; in a word, {name} is the run's value of
 *   seed steps divergence obs_dim act_dim eval_every eval_episodes log_every
 *   behaviour (pi_beta's policy file: pp_train_behaviour_name)
 * the word {env} is --env NAME [--env-options K=V,...], and the word
 * {dataset} is --dataset FILE offline and nothing online. The stage given
 * --prime starts the ring. Paths are relative to the run directory: the
 * plan keeps them so (and so does the config file), and the stages get them
 * joined to the directory the run is in now (pp_train_stage_argv). */
typedef struct {
    const char *kind;
    const char *args;
} ring_stage;

typedef struct {
    const char *algo;
    const char *base; /* NULL: the row serves every --base */
    ring_stage stages[PP_TRAIN_MAX_STAGES];
} ring;

/* The collector and the evaluator act in the same task. */
#define COLLECT {"collect", "{env} {dataset} --seed={seed} --until={steps} --log=episodes.csv"}
#define EVAL                                                                                     \
    {"eval", "{env} --seed={seed} --every={eval_every} --episodes={eval_episodes} --log=eval.csv " \
             "--progress-log=progress.csv --log-every={log_every} --status=status "            \
             "--best=ckpt/best/policy.ckpt"}
#define CRITIC(target) {"critic", "--seed={seed}" target}
#define POLICY(update) {"policy", "--seed={seed} --update=" update " --obs-dim={obs_dim} --act-dim={act_dim} --prime"}
#define LANGEVIN {"langevin", "--seed={seed}"}
#define DISCRIM {"discrim", "--seed={seed} --divergence={divergence}"}
/* Offline, BRAC (docs/algorithm.md sections 14-16): the KL dual critic
 * against pi_beta, the value penalty (BRAC's weight 1) in the critic, and
 * BRAC's actor: no entropy term (alpha 0), BC for its first 20000 steps.
 * ParPI on BRAC: the same critic, Langevin from pi_beta on the
 * prior-weighted target, a fixed temperature (0.1: ours). Behaviour
 * cloning: BRAC's learning rate for it, 5e-4. */
#define DUAL {"dual", "--seed={seed} --prior={behaviour} --obs-dim={obs_dim} --act-dim={act_dim}"}
#define BRAC_CRITIC CRITIC(" --penalty=1")
#define LANGEVIN_PRIOR {"langevin", "--seed={seed} --prior={behaviour}"}

static const ring rings[] = {
    {"sac", NULL, {COLLECT, CRITIC(""), POLICY("sac"), EVAL}},
    {"sql", NULL, {COLLECT, CRITIC(" --target=sql"), POLICY("svgd"), EVAL}},
    {"parpi", "sac", {COLLECT, CRITIC(""), LANGEVIN, DISCRIM, POLICY("parpi"), EVAL}},
    {"parpi", "sql", {COLLECT, CRITIC(" --target=sql"), LANGEVIN, DISCRIM, POLICY("parpi"), EVAL}},
    {"bc", NULL, {COLLECT, POLICY("bc --lr=5e-4"), EVAL}},
    {"brac", NULL, {COLLECT, DUAL, BRAC_CRITIC, POLICY("brac --alpha=0 --warm-start=20000"), EVAL}},
    {"parpi", "brac",
     {COLLECT, DUAL, BRAC_CRITIC, LANGEVIN_PRIOR, DISCRIM, POLICY("parpi --alpha=0.1 --prior={behaviour}"),
      EVAL}},
};

int pp_train_needs_behaviour(const pp_train_opts *o)
{
    return strcmp(pp_train_algos[o->algo], "brac") == 0 ||
           (strcmp(pp_train_algos[o->algo], "parpi") == 0 && strcmp(pp_train_bases[o->base], "brac") == 0);
}

const char *pp_train_behaviour_name(const pp_train_opts *o)
{
    return o->behaviour[0] ? o->behaviour : PP_TRAIN_BEHAVIOUR;
}

static const ring *find_ring(const char *algo, const char *base)
{
    for (size_t i = 0; i < sizeof rings / sizeof *rings; i++)
        if (strcmp(rings[i].algo, algo) == 0 && (!rings[i].base || strcmp(rings[i].base, base) == 0))
            return &rings[i];
    return NULL;
}

typedef struct {
    const pp_train *t;
    int obs_dim, act_dim;
} plan_values;

/* The value of {name} into buf: 0, or -1 for a name the table should not use. */
static int value_of(const plan_values *v, const char *name, size_t n, char *buf, size_t cap)
{
    const pp_train_opts *o = &v->t->o;
#define IS(s) (n == sizeof s - 1 && strncmp(name, s, n) == 0)
    if (IS("seed")) snprintf(buf, cap, "%llu", o->seed);
    else if (IS("steps")) snprintf(buf, cap, "%lld", o->steps);
    else if (IS("divergence")) snprintf(buf, cap, "%s", pp_train_divergences[o->divergence]);
    else if (IS("obs_dim")) snprintf(buf, cap, "%d", v->obs_dim);
    else if (IS("act_dim")) snprintf(buf, cap, "%d", v->act_dim);
    else if (IS("eval_every")) snprintf(buf, cap, "%lld", o->eval_every);
    else if (IS("eval_episodes")) snprintf(buf, cap, "%d", o->eval_episodes);
    else if (IS("log_every")) snprintf(buf, cap, "%lld", o->log_every);
    else if (IS("behaviour")) snprintf(buf, cap, "%s", pp_train_behaviour_name(o));
    else return pp_fail("the ring table names {%.*s}, which the plan does not know", (int)n, name);
#undef IS
    return 0;
}

/* One word of a ring row, its {name}s replaced, added to out. */
static int add_word(const plan_values *v, const char *word, size_t len, pp_argv *out)
{
    const pp_train_opts *o = &v->t->o;
    if (len == 5 && strncmp(word, "{env}", 5) == 0) {
        pp_argv_add(out, "--env");
        pp_argv_add(out, o->env);
        if (o->env_options[0]) {
            pp_argv_add(out, "--env-options");
            pp_argv_add(out, o->env_options);
        }
        return 0;
    }
    if (len == 9 && strncmp(word, "{dataset}", 9) == 0) {
        if (o->dataset[0]) {
            pp_argv_add(out, "--dataset");
            pp_argv_add(out, o->dataset);
        }
        return 0;
    }
    char buf[2048], val[1100];
    size_t b = 0;
    for (size_t i = 0; i < len;) {
        const char *close = word[i] == '{' ? memchr(word + i, '}', len - i) : NULL;
        size_t vlen;
        const char *piece;
        if (close) {
            if (value_of(v, word + i + 1, (size_t)(close - word - i - 1), val, sizeof val) != 0) return -1;
            piece = val;
            vlen = strlen(val);
            i = (size_t)(close - word) + 1;
        } else {
            piece = word + i;
            vlen = 1;
            i++;
        }
        if (b + vlen >= sizeof buf) return pp_fail("an option of the plan is too long");
        memcpy(buf + b, piece, vlen);
        b += vlen;
    }
    buf[b] = '\0';
    pp_argv_add(out, buf);
    return 0;
}

static int add_ring_args(const plan_values *v, const char *args, pp_argv *out)
{
    for (const char *p = args; *p;) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " ");
        if (n && add_word(v, p, n, out) != 0) return -1;
        p += n;
    }
    return 0;
}

/* ---- paths ---- */

/* Is --name (n bytes) a path in this option table? A row whose value is a
 * FILE, PATH or DIR (what --help calls it) is. *takes_value: whether the
 * option takes a value at all. */
static const pp_opt *path_row(const pp_opt *table, const char *name, size_t n, int *takes_value)
{
    *takes_value = 0;
    for (int i = 0; table && table[i].name; i++) {
        const pp_opt *row = &table[i];
        if (strlen(row->name) != n || strncmp(row->name, name, n) != 0) continue;
        *takes_value = row->type != PP_OPT_T_FLAG;
        if (row->type == PP_OPT_T_STRING && row->arg &&
            (strcmp(row->arg, "FILE") == 0 || strcmp(row->arg, "PATH") == 0 || strcmp(row->arg, "DIR") == 0))
            return row;
        return NULL;
    }
    return NULL;
}

/* words[0..n) (long options of table), each path value passed through
 * fn (NULL: kept as it is; else the value to use, in buf), added to out. */
typedef const char *(*path_fn)(const char *value, const char *arg, char *buf, size_t cap);

static void map_paths(const pp_opt *table, char *const *words, int n, path_fn fn, const char *arg, pp_argv *out)
{
    char buf[PP_STAGE_PATH_MAX + 1100];
    for (int i = 0; i < n; i++) {
        const char *w = words[i];
        if (strncmp(w, "--", 2) != 0) {
            pp_argv_add(out, w);
            continue;
        }
        const char *eq = strchr(w, '=');
        size_t len = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
        int takes;
        const pp_opt *row = path_row(table, w + 2, len, &takes);
        const char *value = eq ? eq + 1 : (takes && i + 1 < n ? words[i + 1] : NULL);
        const char *mapped = row && value && value[0] ? fn(value, arg, buf, sizeof buf) : NULL;
        if (eq) {
            if (mapped) pp_argv_addf(out, "%.*s=%s", (int)(eq - w), w, mapped);
            else pp_argv_add(out, w);
            continue;
        }
        pp_argv_add(out, w);
        if (!takes || i + 1 >= n) continue;
        i++;
        pp_argv_add(out, mapped ? mapped : value);
    }
}

/* A relative path joined to base. */
static const char *joined(const char *value, const char *base, char *buf, size_t cap)
{
    if (value[0] == '/') return NULL;
    snprintf(buf, cap, "%s/%s", base, value);
    return buf;
}

static void join_paths(const pp_opt *table, char *const *words, int n, const char *base, pp_argv *out)
{
    map_paths(table, words, n, joined, base, out);
}

/* A path under old (old/x) as x, relative to it. */
static const char *under(const char *value, const char *old, char *buf, size_t cap)
{
    size_t n = strlen(old);
    if (n == 0 || strncmp(value, old, n) != 0 || value[n] != '/' || !value[n + 1]) return NULL;
    snprintf(buf, cap, "%s", value + n + 1);
    return buf;
}

void pp_train_paths_under(const char *kind, pp_argv *words, const char *old_dir)
{
    const pp_stage_ops *ops = kind ? pp_stage_lookup(kind) : NULL;
    const pp_opt *table = kind ? (ops ? ops->options : NULL) : pp_stage_common_options;
    pp_argv out = {0};
    map_paths(table, words->argv, words->argc, under, old_dir, &out);
    pp_argv_free(words);
    *words = out;
}

/* The words of `own` from index `from` on, which came from a preset or
 * --set: a relative path there is the user's, relative to the working
 * directory now; made absolute, it stays right wherever the run is resumed
 * from later (the run's own paths are relative to the run directory). */
static int absolute_paths(const char *kind, pp_argv *own, int from)
{
    const pp_stage_ops *ops = pp_stage_lookup(kind);
    if (!ops || from >= own->argc) return 0;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return pp_fail("cannot find the working directory: %s", strerror(errno));
    pp_argv out = {0};
    join_paths(ops->options, own->argv + from, own->argc - from, cwd, &out);
    for (int i = 0; i < out.argc; i++) {
        free(own->argv[from + i]);
        own->argv[from + i] = out.argv[i];
    }
    return 0;
}

/* ---- presets and --set ---- */

static pp_train_stage *find_stage(pp_train *t, const char *kind)
{
    for (int i = 0; i < t->nstages; i++)
        if (strcmp(t->stage[i].kind, kind) == 0) return &t->stage[i];
    return NULL;
}

/* The kinds a preset or --set may name, and extra ("all", "train"), as "a, b, c". */
static void kinds_list(const char *extra, char *buf, size_t cap)
{
    const char *const *k = pp_stage_kinds();
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; k[i] && o < cap; i++) o += (size_t)snprintf(buf + o, cap - o, "%s, ", k[i]);
    if (o < cap) snprintf(buf + o, cap - o, "%s", extra);
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
    if (strcmp(kind, "all") == 0) { /* every stage of the ring that takes the option */
        char name[64];
        size_t len = strcspn(dot + 1, "=");
        if (len == 0 || len >= sizeof name) return pp_fail("%s: no option name in '%s'", where, set);
        memcpy(name, dot + 1, len);
        name[len] = '\0';
        int takers = 0;
        for (int i = 0; i < t->nstages; i++) {
            const pp_stage_ops *ops = pp_stage_lookup(t->stage[i].kind);
            if (!ops || !ops->options || !pp_opt_find(ops->options, name)) continue;
            char buf[600];
            snprintf(buf, sizeof buf, "%s%s", t->stage[i].kind, dot);
            if (apply_set(t, buf, where) != 0) return -1;
            takers++;
        }
        if (!takers) return pp_fail("%s: '%s': no stage of this ring takes --%s", where, set, name);
        return 0;
    }
    pp_train_stage *s = find_stage(t, kind);
    if (!s) {
        if (pp_stage_lookup(kind)) return 0;
        char list[256];
        kinds_list("all", list, sizeof list);
        return pp_fail("%s: unknown stage '%s' in '%s' (%s)", where, kind, set, list);
    }
    const char *opt = dot + 1;
    const char *eq = strchr(opt, '=');
    int from = s->own.argc;
    if (eq) {
        pp_argv_addf(&s->own, "--%.*s", (int)(eq - opt), opt);
        pp_argv_add(&s->own, eq + 1);
    } else pp_argv_addf(&s->own, "--%s", opt);
    return absolute_paths(s->kind, &s->own, from);
}

int pp_train_preset_path(const pp_train_opts *o, char *path, size_t cap)
{
    if (strcmp(o->preset, "none") == 0) return 1;
    char rel[600];
    if (o->preset[0]) {
        if (access(o->preset, R_OK) == 0) {
            snprintf(path, cap, "%s", o->preset);
            return 0;
        }
        /* there, but not readable (mode 600 of another user): say so */
        if (errno != ENOENT) return pp_fail("--preset %s: cannot read it: %s", o->preset, strerror(errno));
        snprintf(rel, sizeof rel, "presets/%s.conf", o->preset);
        if (pp_share_path(rel, path, cap) == 0) return 0;
        return pp_fail("--preset %s: no such file, and no %s in share/parpi", o->preset, rel);
    }
    /* offline runs have their own (presets/offline/): BRAC's settings */
    const char *sub = o->dataset[0] ? "offline/" : "";
    snprintf(rel, sizeof rel, "presets/%s%s.conf", sub, o->env);
    if (pp_share_path(rel, path, cap) == 0) return 0;
    snprintf(rel, sizeof rel, "presets/%sdefault.conf", sub);
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
            int from = s->own.argc;
            for (int i = 1; i < words.argc; i++) pp_argv_add(&s->own, words.argv[i]);
            rc = absolute_paths(kind, &s->own, from);
        } else if (strcmp(kind, "train") != 0 && !pp_stage_lookup(kind)) {
            char list[256];
            kinds_list("train", list, sizeof list);
            rc = pp_fail("%s:%d: unknown stage '%s' (%s)", path, lineno, kind, list);
        }
        pp_argv_free(&words);
    }
    fclose(fp);
    return rc;
}

/* ---- --drop from the contracts ---- */

static int in_list(const char *const *list, const char *name)
{
    for (int i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0) return 1;
    return 0;
}

static void append_field(char *drop, size_t cap, const char *field)
{
    size_t n = strlen(drop);
    snprintf(drop + n, cap - n, "%s%s", n ? "," : "", field);
}

/* The ring is a cycle: a field F that stage W owns is written anew by W on
 * every lap. Walking from W round the ring back to W, the last stage whose
 * reads list (for its options: reads_for) has F is the last to need this lap's F: it drops F after its
 * step, and the pipes after it carry less. When that last reader is W
 * itself (W reads the F of the lap before, then replaces it), or nobody
 * reads F, F is not dropped: a field without a reader may be there for a
 * tap on the ring. Fields nobody in the ring owns (metrics, say) are never
 * dropped. */
int pp_train_compute_drops(pp_train *t)
{
    const pp_stage_ops *ops[PP_TRAIN_MAX_STAGES];
    const char *const *reads[PP_TRAIN_MAX_STAGES];
    const int n = t->nstages;
    char drops[PP_TRAIN_MAX_STAGES][sizeof t->stage[0].common.drop];
    for (int i = 0; i < n; i++) {
        ops[i] = pp_stage_lookup(t->stage[i].kind);
        if (!ops[i]) return pp_fail("unknown stage kind '%s'", t->stage[i].kind);
        reads[i] = ops[i]->reads;
        if (ops[i]->reads_for) { /* what this stage reads with the options the plan gives it */
            char *argv[PP_TRAIN_MAX_ARGS + 2] = {t->stage[i].kind};
            const pp_argv *own = &t->stage[i].own;
            for (int a = 0; a < own->argc; a++) argv[a + 1] = own->argv[a];
            const char *const *r = ops[i]->reads_for(own->argc + 1, argv);
            if (r) reads[i] = r;
        }
        drops[i][0] = '\0';
    }
    for (int w = 0; w < n; w++) {
        for (int k = 0; ops[w]->owns && ops[w]->owns[k]; k++) {
            const char *field = ops[w]->owns[k];
            int last = -1;
            for (int step = 1; step <= n; step++) {
                int i = (w + step) % n; /* step == n is W itself */
                if (in_list(reads[i], field)) last = i;
            }
            if (last >= 0 && last != w) append_field(drops[last], sizeof drops[last], field);
        }
    }
    for (int i = 0; i < n; i++) {
        pp_stage_common_unset(&t->stage[i].common, "drop");
        if (drops[i][0] && pp_stage_common_set(&t->stage[i].common, "drop", drops[i]) != 0) return -1;
    }
    return 0;
}

/* ---- the plan ---- */

int pp_train_plan(pp_train *t)
{
    const pp_train_opts *o = &t->o;
    const char *algo = pp_train_algos[o->algo], *base = pp_train_bases[o->base];
    const ring *r = find_ring(algo, base);
    if (!r) return pp_fail("no ring for --algo %s --base %s", algo, base);

    pp_env *env = NULL; /* the dims of the task, for the policy */
    if (pp_env_create(o->env, o->env_options[0] ? o->env_options : NULL, &env) != 0)
        return pp_fail_prefix("--env %s: ", o->env);
    plan_values v = {.t = t, .obs_dim = pp_env_get_info(env)->obs_dim, .act_dim = pp_env_get_info(env)->act_dim};
    pp_env_free(env);

    t->prime_index = -1;
    for (int i = 0; i < PP_TRAIN_MAX_STAGES && r->stages[i].kind; i++) {
        pp_train_stage *s = &t->stage[t->nstages++];
        snprintf(s->kind, sizeof s->kind, "%s", r->stages[i].kind);
        if (pp_stage_common_init(&s->common) != 0 || add_ring_args(&v, r->stages[i].args, &s->own) != 0)
            return -1;
        if (strstr(r->stages[i].args, "--prime")) t->prime_index = i;
    }
    if (t->prime_index < 0) return pp_fail("the %s ring has no stage given --prime", algo);

    char preset[sizeof o->preset];
    int found = pp_train_preset_path(&t->o, preset, sizeof preset);
    if (found < 0) return -1;
    if (found == 0 && apply_preset(t, preset) != 0) return -1;
    if (found == 0) snprintf(t->o.preset, sizeof t->o.preset, "%s", preset);
    for (int i = 0; i < o->sets.argc; i++)
        if (apply_set(t, o->sets.argv[i], "--set") != 0) return -1;

    /* Snapshots (stage/stage_run.h): every stage saves into ckpt/ at the
     * ring's snapshot frames, which the first stage (the collector) starts
     * every --save-every steps. */
    /* --precision: auto resolved here (bf16 where oneDNN reports AMX and
     * OpenBLAS was not asked for), so that the config and a resume keep what
     * ran; bf16 needs oneDNN and is refused beside --gemm openblas */
    const char *prec = o->precision;
    if (prec[0]) {
        int p;
        if (pp_gemm_precision_parse(prec, &p) != 0) return pp_fail_prefix("--precision: ");
        int openblas = strcmp(o->gemm, "openblas") == 0;
        if (p == PP_PREC_AUTO) p = openblas ? PP_PREC_FP32 : pp_gemm_resolve_precision(p);
        if (p == PP_PREC_BF16 && openblas)
            return pp_fail("--precision bf16 runs the matmuls through oneDNN: give --gemm dnnl or no --gemm");
        if (p == PP_PREC_BF16 && !pp_gemm_available(PP_GEMM_DNNL))
            return pp_fail("--precision bf16: needs oneDNN, not built in (build with DNNL=1)");
        prec = pp_gemm_precision_name(p);
    }
    for (int i = 0; i < t->nstages; i++) {
        pp_stage_common *c = &t->stage[i].common;
        char buf[64];
        if (pp_stage_common_set(c, "snapshots", PP_TRAIN_SNAPSHOTS) != 0) return -1;
        snprintf(buf, sizeof buf, "%d", o->threads);
        if (pp_stage_common_set(c, "threads", buf) != 0) return -1;
        if (o->gemm[0] && pp_stage_common_set(c, "gemm", o->gemm) != 0) return -1;
        if (prec[0] && pp_stage_common_set(c, "precision", prec) != 0) return -1;
    }
    pp_train_set_save_every(t, o->save_every);
    if (pp_train_compute_drops(t) != 0) return -1;
    char id[PP_SNAPSHOT_RUN_MAX];
    pp_train_run_id(t, id, sizeof id);
    return pp_stage_common_set(&t->stage[0].common, "run-id", id);
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void pp_train_run_id(const pp_train *t, char *buf, size_t cap)
{
    uint64_t h = 14695981039346656037ull;
    for (int i = 0; i < t->nstages; i++) {
        const pp_train_stage *s = &t->stage[i];
        h = fnv(h, s->kind, strlen(s->kind) + 1);
        for (int k = 0; k < s->own.argc; k++) {
            const char *w = s->own.argv[k];
            if (strncmp(w, "--until=", 8) == 0) continue; /* --steps may move on a resume */
            if (strcmp(w, "--until") == 0) {
                k++;
                continue;
            }
            /* eval --sync (--set eval.sync) changes when evaluations run,
             * not what they give */
            if (strcmp(s->kind, "eval") == 0 && (strcmp(w, "--sync") == 0 || strncmp(w, "--sync=", 7) == 0))
                continue;
            h = fnv(h, w, strlen(w) + 1);
        }
    }
    snprintf(buf, cap, "%016llx", (unsigned long long)h);
}

void pp_train_set_save_every(pp_train *t, long long every)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", every);
    (void)pp_stage_common_set(&t->stage[0].common, "snapshot-every", buf); /* a count in range: it parses */
    t->o.save_every = every;
}

void pp_train_set_threads(pp_train *t, int threads)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", threads);
    for (int i = 0; i < t->nstages; i++) (void)pp_stage_common_set(&t->stage[i].common, "threads", buf);
    t->o.threads = threads;
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

void pp_train_stage_own(const pp_train *t, const pp_train_stage *s, pp_argv *out)
{
    const pp_stage_ops *ops = pp_stage_lookup(s->kind);
    join_paths(ops ? ops->options : NULL, s->own.argv, s->own.argc, t->o.dir, out);
    /* --eval-sync: how this session runs the evaluations, not the run's
     * course (the same results), so it is added here and not kept */
    if (t->o.eval_sync && strcmp(s->kind, "eval") == 0) pp_argv_add(out, "--sync");
}

void pp_train_stage_argv(const pp_train *t, const pp_train_stage *s, const char *prog, pp_argv *out)
{
    char word[PP_STAGE_PATH_MAX + 64];
    pp_argv common = {0};
    for (int i = 0; pp_stage_common_options[i].name; i++)
        if (pp_stage_common_word(&s->common, i, word, sizeof word)) pp_argv_add(&common, word);
    pp_argv_add(out, prog);
    join_paths(pp_stage_common_options, common.argv, common.argc, t->o.dir, out);
    pp_argv_free(&common);
    pp_argv_add(out, "--");
    pp_train_stage_own(t, s, out);
}

void pp_train_free(pp_train *t)
{
    for (int i = 0; i < t->nstages; i++) pp_argv_free(&t->stage[i].own);
    pp_argv_free(&t->o.sets);
    t->nstages = 0;
}
