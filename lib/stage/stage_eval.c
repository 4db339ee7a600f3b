/* stage_eval.c - evaluation episodes, the ring stage "eval" (and the
 * progress log of the ring's metrics it writes), and parpi-eval's
 * standalone mode (see eval.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/opt.h"
#include "data/d4rl.h"
#include "frame/frame.h"
#include "rl/policy_file.h"
#include "stage/ckpt_state.h"
#include "stage/csv_log.h"
#include "stage/eval.h"
#include "stage/eval_worker.h"
#include "stage/stage.h"
#include "stage/stage_config.h"

/* ---- episodes ---- */

int pp_evaluate(pp_env *env, const char *env_name, pp_actor *actor, const float *params, int K,
                int deterministic, unsigned long long seed, double *returns, double *lengths,
                pp_eval_result *out)
{
    return pp_evaluate_until(env, env_name, actor, params, K, deterministic, seed, returns, lengths, out, NULL);
}

int pp_evaluate_until(pp_env *env, const char *env_name, pp_actor *actor, const float *params, int K,
                      int deterministic, unsigned long long seed, double *returns, double *lengths,
                      pp_eval_result *out, atomic_int *cancel)
{
    const pp_env_info *info = pp_env_get_info(env);
    const int O = info->obs_dim, A = info->act_dim;
    if (A > PP_ENV_MAX_ACT || O > 65536) return pp_fail("env dims out of range");
    pp_rng root, mine, reset_rng, act_rng;
    pp_rng_seed(&root, seed);
    mine = pp_rng_split(&root, PP_STREAM_EVAL);
    reset_rng = pp_rng_split(&mine, 1);
    act_rng = pp_rng_split(&mine, 2);
    double *obs = pp_xcalloc((size_t)O, sizeof(double));
    float *obs_f = pp_xalloc_f32((size_t)O);
    float a[PP_ENV_MAX_ACT];
    double act[PP_ENV_MAX_ACT];
    memset(out, 0, sizeof *out);
    out->episodes = K;
    out->return_min = out->length_min = INFINITY;
    out->return_max = out->length_max = -INFINITY;
    out->goals = info->goals < PP_EVAL_MAX_GOALS ? info->goals : PP_EVAL_MAX_GOALS;
    double rs = 0, rs2 = 0, ls = 0, ls2 = 0;
    int rc = 0;
    for (int k = 0; k < K && rc == 0; k++) {
        if (pp_env_reset(env, &reset_rng, obs) != 0) {
            rc = pp_fail_prefix("%s reset: ", env_name);
            break;
        }
        double ret = 0, len = 0;
        for (;;) {
            if (cancel && atomic_load_explicit(cancel, memory_order_relaxed)) {
                rc = pp_fail("evaluation cancelled");
                break;
            }
            for (int i = 0; i < O; i++) obs_f[i] = (float)obs[i];
            /* one row, no BLAS: the evaluation may run beside the training
             * (pp_actor_act_row, rl/actor.h) */
            if (pp_actor_act_row(actor, params, obs_f, deterministic, &act_rng, a) != 0) {
                rc = -1;
                break;
            }
            pp_env_scale_action(info, a, act);
            double r;
            int term, trunc;
            if (pp_env_step(env, act, obs, &r, &term, &trunc) != 0) {
                rc = pp_fail_prefix("%s step: ", env_name);
                break;
            }
            ret += r;
            len += 1;
            if (term || trunc) {
                int g = pp_env_goal_reached(env);
                if (g >= 0 && g < out->goals) out->goal_count[g]++;
                break;
            }
        }
        if (returns) returns[k] = ret;
        if (lengths) lengths[k] = len;
        rs += ret;
        rs2 += ret * ret;
        ls += len;
        ls2 += len * len;
        if (ret < out->return_min) out->return_min = ret;
        if (ret > out->return_max) out->return_max = ret;
        if (len < out->length_min) out->length_min = len;
        if (len > out->length_max) out->length_max = len;
    }
    free(obs);
    free(obs_f);
    if (rc != 0) return -1;
    out->return_mean = rs / K;
    out->length_mean = ls / K;
    double rv = rs2 / K - out->return_mean * out->return_mean, lv = ls2 / K - out->length_mean * out->length_mean;
    out->return_std = sqrt(rv > 0 ? rv : 0);
    out->length_std = sqrt(lv > 0 ? lv : 0);
    double lo, hi;
    if (pp_d4rl_reference(env_name, &lo, &hi) == 1 && hi != lo) {
        out->have_score = 1;
        out->score = 100.0 * (out->return_mean - lo) / (hi - lo);
    }
    for (int g = 0; g < out->goals; g++) out->goals_reached += out->goal_count[g] > 0;
    return 0;
}

void pp_eval_print(const pp_eval_result *r, FILE *out)
{
    fprintf(out, "episodes %d\n", r->episodes);
    fprintf(out, "return_mean %.6g\nreturn_std %.6g\nreturn_min %.6g\nreturn_max %.6g\n", r->return_mean,
            r->return_std, r->return_min, r->return_max);
    fprintf(out, "length_mean %.6g\nlength_std %.6g\nlength_min %.6g\nlength_max %.6g\n", r->length_mean,
            r->length_std, r->length_min, r->length_max);
    if (r->have_score) fprintf(out, "score %.6g\n", r->score);
    if (r->goals > 0) {
        fprintf(out, "goals_reached %d\ngoal_counts", r->goals_reached);
        for (int g = 0; g < r->goals; g++) fprintf(out, " %d", r->goal_count[g]);
        fputc('\n', out);
    }
}

/* ---- CSV files: appended to, every write checked ---- */

/* 0 if everything written to fp so far has reached the file, else -1 with a
 * message naming it (a full disk must not truncate a log silently). */
static int csv_flush(FILE *fp, const char *path)
{
    errno = 0;
    if (fflush(fp) == 0 && !ferror(fp)) return 0;
    return pp_fail("writing %s: %s", path, strerror(errno ? errno : EIO));
}

/* Open path for appending. A file with rows already keeps them: its first
 * line goes to *first (malloc'd; first may be NULL) and, if an earlier run
 * left its last row unfinished (a full disk), that row is ended so the next
 * starts on a line of its own. Anything else (a new or empty file, a pipe)
 * gets header and *first = NULL. NULL on error, with the message. */
static FILE *csv_open(const char *path, const char *header, char **first)
{
    if (first) *first = NULL;
    FILE *fp = fopen(path, "a");
    if (!fp) {
        pp_fail("cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    int last = EOF;
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        FILE *in = fopen(path, "r");
        last = '\n';
        if (in) {
            char *line = NULL;
            size_t cap = 0;
            if (getline(&line, &cap, in) > 0 && first) {
                line[strcspn(line, "\r\n")] = '\0';
                *first = line;
                line = NULL;
            }
            free(line);
            if (fseek(in, -1, SEEK_END) == 0) {
                int ch = fgetc(in);
                if (ch != EOF) last = ch;
            }
            fclose(in);
        }
    }
    if (last == EOF) fprintf(fp, "%s\n", header);
    else if (last != '\n') fputc('\n', fp);
    if (csv_flush(fp, path) != 0) {
        fclose(fp);
        if (first) {
            free(*first);
            *first = NULL;
        }
        return NULL;
    }
    return fp;
}

const char pp_eval_csv_columns[] = "step,episodes,return_mean,return_std,return_min,return_max,length_mean,"
                                   "length_std,length_min,length_max,score,goals_reached";

FILE *pp_eval_log_open(const char *path) { return csv_open(path, pp_eval_csv_columns, NULL); }

int pp_eval_csv_row(FILE *out, const char *path, long long step, const pp_eval_result *r)
{
    fprintf(out, "%lld,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,", step, r->episodes, r->return_mean,
            r->return_std, r->return_min, r->return_max, r->length_mean, r->length_std, r->length_min,
            r->length_max);
    if (r->have_score) fprintf(out, "%.9g", r->score);
    fputc(',', out);
    if (r->goals > 0) fprintf(out, "%d", r->goals_reached);
    fputc('\n', out);
    return csv_flush(out, path);
}

/* ---- options ---- */

/* Resume: the checkpoint holds config.env only (as before the table): the
 * env is built by create, so a checkpoint of another task is refused. Every
 * other option is not saved and is the command line's (or the default). */
const pp_opt pp_eval_options[] = {
    PP_OPT_STRING("env", pp_eval_config, env_name, "NAME", NULL,
                  "task (parpi-collect --list-envs); required", PP_OPT_SHAPE),
    PP_OPT_STRING("env-options", pp_eval_config, env_options, "K=V,...", NULL,
                  "the task's constructor options", PP_OPT_NOSAVE),
    PP_OPT_ROW("episodes", PP_OPT_T_INT, pp_eval_config, episodes, 1, PP_EVAL_MAX_EPISODES, "10", NULL,
               "K", "episodes per evaluation", NULL, PP_OPT_NOSAVE),
    PP_OPT_FLAG("stochastic", pp_eval_config, stochastic,
                "sample actions from the policy (default: the mean action)", PP_OPT_NOSAVE),
    PP_OPT_FLAG("deterministic", pp_eval_config, deterministic, "the mean action (the default)",
                PP_OPT_NOSAVE),
    PP_OPT_SEED("seed", pp_eval_config, seed, "seed; eval uses stream 6 of it", PP_OPT_NOSAVE),
    PP_OPT_STRING("log", pp_eval_config, log_path, "FILE", NULL, "append one CSV row per evaluation",
                  PP_OPT_NOSAVE),
    PP_OPT_COUNT("every", pp_eval_config, every, 0, 1e15, "1000",
                 "ring: evaluate when the step crosses a multiple of N; 0: never", PP_OPT_NOSAVE),
    PP_OPT_STRING("progress-log", pp_eval_config, progress_path, "FILE", NULL,
                  "ring: append a progress row every --log-every steps", PP_OPT_NOSAVE),
    PP_OPT_COUNT("log-every", pp_eval_config, log_every, 1, 1e15, "1000", "ring: steps between progress rows",
                 PP_OPT_NOSAVE),
    PP_OPT_STRING("status", pp_eval_config, status_path, "FILE", NULL,
                  "ring: rewrite one status line about once a second", PP_OPT_NOSAVE),
    PP_OPT_STRING("best", pp_eval_config, best_path, "FILE", NULL,
                  "ring: keep the best evaluation's policy in FILE (a checkpoint --policy reads)", PP_OPT_NOSAVE),
    PP_OPT_FLAG("sync", pp_eval_config, sync,
                "ring: evaluate in the frames' own thread, the frames waiting (default: in a thread of its "
                "own while they go on; the same results)",
                PP_OPT_NOSAVE),
    PP_OPT_END};

const pp_opt pp_eval_standalone_options[] = {
    PP_OPT_STRING("policy", pp_eval_config, policy_path, "FILE", NULL,
                  "evaluate this checkpoint's (or frame file's) policy", PP_OPT_NOSAVE),
    PP_OPT_END};

void pp_eval_help(FILE *out)
{
    pp_opt_help(pp_eval_options, out);
    fputs(" standalone mode:\n", out);
    pp_opt_help(pp_eval_standalone_options, out);
}

int pp_eval_parse(pp_eval_config *o, int argc, char **argv, int standalone, uint64_t *given)
{
    /* One table: the ring's rows first (bit i of the given mask is row i of
     * pp_eval_options), then the standalone program's. */
    pp_opt all[PP_OPT_MAX_ROWS + 1];
    size_t nring;
    if (pp_opt_concat(all, pp_eval_options, pp_eval_standalone_options, &nring) != 0) return -1;
    memset(o, 0, sizeof *o);
    uint64_t seen = 0;
    if (pp_opt_defaults(all, o) != 0 || pp_opt_parse(all, o, argc, argv, &seen) != 0) return -1;
    if (given) *given = seen & (((uint64_t)1 << nring) - 1);
    if (!standalone && o->policy_path[0])
        return pp_fail("--policy is for standalone evaluation; in the ring the frame's policy is used");
    if (!o->env_name[0]) return pp_fail("--env NAME is required (parpi-collect --list-envs lists the tasks)");
    if (o->stochastic && o->deterministic) return pp_fail("give --stochastic or --deterministic, not both");
    o->deterministic = !o->stochastic;
    return 0;
}

/* ---- the ring stage ---- */

extern const pp_stage_ops pp_stage_eval;

#define RECENT 10

/* progress.csv: these columns first, then every other stage's metrics in ring
 * order, each kind's list (pp_stage_ops.metrics) and its step_ms. A column
 * X other than the leading ones is the frame's metrics.X. */
enum { COL_STEP, COL_WALL, COL_EPISODES, COL_RETURN, COL_LENGTH, COL_EVAL };
static const char *const progress_lead[] = {"step", "wall_s", "episodes", "return_recent", "length_recent",
                                            "eval_return", NULL};
/* collect's metrics that the leading columns summarise already */
static const char *const progress_summarised[] = {"collect.episode_return", "collect.episode_length",
                                                  "collect.episodes", NULL};

static int listed(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0) return 1;
    return 0;
}

static void append_column(char **h, size_t *n, size_t *cap, const char *name)
{
    size_t need = strlen(name) + 2;
    if (*n + need > *cap) *h = pp_xrealloc(*h, *cap = 2 * (*cap + need));
    *n += (size_t)snprintf(*h + *n, *cap - *n, "%s%s", *n ? "," : "", name);
}

/* The header of a new progress log (malloc'd), from the stage contract. */
static char *progress_header(void)
{
    size_t n = 0, cap = 512;
    char *h = pp_xmalloc(cap), name[128];
    h[0] = '\0';
    for (int i = 0; progress_lead[i]; i++) append_column(&h, &n, &cap, progress_lead[i]);
    const char *const *kinds = pp_stage_kinds();
    for (int k = 0; kinds[k]; k++) {
        const pp_stage_ops *ops = pp_stage_lookup(kinds[k]);
        if (ops == &pp_stage_eval) continue;
        for (int m = 0; ops->metrics && ops->metrics[m]; m++) {
            snprintf(name, sizeof name, "%s.%s", kinds[k], ops->metrics[m]);
            if (!listed(progress_summarised, name)) append_column(&h, &n, &cap, name);
        }
        snprintf(name, sizeof name, "%s.step_ms", kinds[k]);
        append_column(&h, &n, &cap, name);
    }
    return h;
}

typedef struct {
    int lead;       /* COL_* for a leading column, else -1 */
    char path[112]; /* else metrics.<column> */
} progress_col;

/* A progress row formatted at its step, waiting to be written until the
 * evaluations started at or before it are taken (its eval_return is theirs).
 * text holds the row but that column's value, which goes in at hole (-1: no
 * such column). */
typedef struct {
    long long step;
    char *text;
    size_t len, cap;
    long hole;
} progress_row;

/* Rows that wait for an evaluation: with --log-every as --every (the
 * default) one or two; a full queue waits for the oldest evaluation. */
#define PROGRESS_QUEUE 64

typedef struct {
    pp_eval_config o;
    uint64_t given;
    pp_env *env;              /* the worker's from its start (eval_worker.h) */
    pp_eval_worker *worker;   /* the evaluations in flight */
    long long taken;          /* the step of the last evaluation whose result was taken */
    progress_row rows[PROGRESS_QUEUE], now; /* waiting rows (a ring from rows_head); a row written at once */
    int rows_head, nrows;
    FILE *log, *progress;
    progress_col *cols;
    int ncols;
    long long last_eval, last_log, episodes;
    double recent_ret[RECENT], recent_len[RECENT];
    int nrecent, recent_pos;
    /* last_eval: the step of the last evaluation started; last_eval_return,
     * have_eval: of the last one taken (in step order) */
    double last_eval_return;
    int have_eval;
    int policy_seen, warned_no_policy; /* a frame carried a policy; the warning of no_policy */
    double best_return; /* of --best FILE (have_best), read at the first evaluation (best_read) */
    int have_best, best_read;
    double t0, wall_offset, last_status;
    long long status_step, last_step; /* the step status says; the last step seen (-1: none) */
    char tmp_status[1100];
} evaluator;

/* The columns named by a progress log's header: a log that a resumed run
 * (or another version) started keeps its own columns. */
static int progress_columns(evaluator *e, const char *header)
{
    const char *path = e->o.progress_path;
    if (strncmp(header, "step,", 5) != 0 && strcmp(header, "step") != 0)
        return pp_fail("%s is not a progress log: its first column is not 'step'", path);
    int n = 1;
    for (const char *p = header; *p; p++) n += *p == ',';
    e->cols = pp_xcalloc((size_t)n, sizeof *e->cols);
    for (const char *p = header;; p++) {
        size_t len = strcspn(p, ",");
        progress_col *c = &e->cols[e->ncols++];
        c->lead = -1;
        for (int i = 0; progress_lead[i]; i++)
            if (strlen(progress_lead[i]) == len && strncmp(progress_lead[i], p, len) == 0) c->lead = i;
        if (c->lead < 0) {
            if (len == 0 || len > sizeof c->path - 9)
                return pp_fail("%s: column %d of the header is %s", path, e->ncols,
                               len ? "too long" : "empty");
            snprintf(c->path, sizeof c->path, "metrics.%.*s", (int)len, p);
        }
        p += len;
        if (!*p) break;
    }
    return 0;
}

static void evaluator_free(evaluator *e)
{
    pp_eval_worker_free(e->worker); /* first: the thread uses env */
    if (e->log) fclose(e->log);
    if (e->progress) fclose(e->progress);
    pp_env_free(e->env);
    for (int i = 0; i < PROGRESS_QUEUE; i++) free(e->rows[i].text);
    free(e->now.text);
    free(e->cols);
    free(e);
}

static int open_files(evaluator *e)
{
    if (e->o.log_path[0] && !(e->log = pp_eval_log_open(e->o.log_path))) return -1;
    if (e->o.progress_path[0]) {
        char *header = progress_header(), *first = NULL;
        e->progress = csv_open(e->o.progress_path, header, &first);
        int rc = e->progress ? progress_columns(e, first ? first : header) : -1;
        free(header);
        free(first);
        if (rc != 0) return -1;
    }
    snprintf(e->tmp_status, sizeof e->tmp_status, "%s.tmp", e->o.status_path);
    return 0;
}

static void write_status(evaluator *e, long long step);

static void eval_destroy(pp_stage *s)
{
    evaluator *e = s->self;
    /* evaluations still in flight (a run that failed: a run that ends or
     * stops takes them first, eval_finish) are dropped */
    pp_eval_worker_discard(e->worker);
    /* status is rewritten about once a second: at the end it says the last step */
    if (e->last_step >= 0 && e->last_step != e->status_step) write_status(e, e->last_step);
    evaluator_free(s->self);
    free(s);
}

static int eval_create(int argc, char **argv, pp_stage **out)
{
    *out = NULL;
    evaluator *e = pp_xcalloc(1, sizeof *e);
    pp_stage *s = pp_stage_new(&pp_stage_eval, e);
    int rc = pp_eval_parse(&e->o, argc, argv, 0, &e->given);
    if (rc == 0 && pp_env_create(e->o.env_name, e->o.env_options[0] ? e->o.env_options : NULL, &e->env) != 0)
        rc = pp_fail_prefix("--env %s: ", e->o.env_name);
    if (rc == 0) rc = open_files(e);
    /* the thread only where there is something to evaluate */
    if (rc == 0 && pp_eval_worker_start(&e->worker, e->env, e->o.env_name, e->o.episodes, e->o.deterministic,
                                        e->o.seed, !e->o.sync && e->o.every > 0) != 0)
        rc = -1;
    /* a test write next to --best, and the temporaries of a save cut short */
    if (rc == 0 && e->o.best_path[0] && pp_frame_prepare_save(e->o.best_path) != 0)
        rc = pp_fail_prefix("--best: ");
    if (rc != 0) {
        eval_destroy(s);
        return -1;
    }
    e->t0 = pp_now();
    e->last_eval = e->taken = 0;
    e->last_log = 0;
    e->last_status = -1e9;
    e->status_step = e->last_step = -1;
    *out = s;
    return 0;
}

static double recent_mean(const double *x, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++) m += x[i];
    return n ? m / n : NAN;
}

static void write_status(evaluator *e, long long step)
{
    if (!e->o.status_path[0]) return;
    char line[256];
    int n = snprintf(line, sizeof line, "step %lld episodes %lld", step, e->episodes);
    if (e->nrecent) n += snprintf(line + n, sizeof line - (size_t)n, " return %.6g", recent_mean(e->recent_ret, e->nrecent));
    if (e->have_eval) n += snprintf(line + n, sizeof line - (size_t)n, " eval %.6g", e->last_eval_return);
    n += snprintf(line + n, sizeof line - (size_t)n, "\n");
    int fd = open(e->tmp_status, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return; /* the status line is a courtesy; never fail the ring for it */
    ssize_t w = write(fd, line, (size_t)n);
    close(fd);
    if (w == n) rename(e->tmp_status, e->o.status_path);
}

static void row_printf(progress_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void row_printf(progress_row *r, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(r->text + r->len, r->cap - r->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < r->cap - r->len) {
            r->len += (size_t)n;
            return;
        }
        /* rare: a row longer than any before (the buffers only grow) */
        r->cap = 2 * r->cap + (n > 0 ? (size_t)n : 0) + 256;
        r->text = pp_xrealloc(r->text, r->cap);
    }
}

/* The row of step from the frame's metrics, into r, with the hole of
 * eval_return (the last evaluation taken when the row is written). */
static void format_progress(evaluator *e, pp_frame *f, long long step, progress_row *r)
{
    if (!r->text) r->text = pp_xmalloc(r->cap = 1024);
    r->len = 0;
    r->text[0] = '\0';
    r->hole = -1;
    r->step = step;
    for (int i = 0; i < e->ncols; i++) {
        const progress_col *c = &e->cols[i];
        if (i) row_printf(r, ",");
        double v;
        switch (c->lead) {
        case COL_STEP: row_printf(r, "%lld", step); break;
        case COL_WALL: row_printf(r, "%.3f", e->wall_offset + pp_now() - e->t0); break;
        case COL_EPISODES: row_printf(r, "%lld", e->episodes); break;
        case COL_RETURN:
            if (e->nrecent) row_printf(r, "%.6g", recent_mean(e->recent_ret, e->nrecent));
            break;
        case COL_LENGTH:
            if (e->nrecent) row_printf(r, "%.6g", recent_mean(e->recent_len, e->nrecent));
            break;
        case COL_EVAL: r->hole = (long)r->len; break;
        default: {
            pp_node *n = pp_frame_get(f, c->path);
            if (n && pp_node_as_f64(n, &v) == 0) row_printf(r, "%.6g", v);
        }
        }
    }
    row_printf(r, "\n");
}

static int write_row(evaluator *e, const progress_row *r)
{
    FILE *fp = e->progress;
    size_t hole = r->hole < 0 ? r->len : (size_t)r->hole;
    fwrite(r->text, 1, hole, fp);
    if (r->hole >= 0 && e->have_eval) fprintf(fp, "%.6g", e->last_eval_return);
    fwrite(r->text + hole, 1, r->len - hole, fp);
    return csv_flush(fp, e->o.progress_path);
}

/* Write the waiting rows that no evaluation in flight comes before: a row's
 * eval_return is then that of the last evaluation at or before its step, as
 * when the evaluations ran in the frames' thread. */
static int write_rows_ready(evaluator *e)
{
    while (e->nrows > 0) {
        progress_row *r = &e->rows[e->rows_head];
        if (pp_eval_worker_pending(e->worker) > 0 && pp_eval_worker_oldest_step(e->worker) <= r->step) break;
        if (write_row(e, r) != 0) return -1;
        e->rows_head = (e->rows_head + 1) % PROGRESS_QUEUE;
        e->nrows--;
    }
    return 0;
}

/* An evaluation is due but the frame has no policy. parpi-policy writes
 * policy and alpha on every frame of a ring, from --prime on (parpi-frame(5)):
 * a frame with alpha but no policy, or after frames that had one, comes from
 * a ring that lost it (a stage or --drop upstream), an error. A stream that
 * has carried neither yet (a ring not started with --prime, whose policy
 * appears with the first batch) skips the evaluation with one warning, so
 * that a missing policy is never silent. */
static int no_policy(evaluator *e, pp_frame *f, long long step)
{
    if (e->policy_seen || pp_frame_get(f, "alpha"))
        return pp_fail("missing field policy at step %lld, the frame of an evaluation (%s: a "
                       "stage or --drop upstream removed it)", step,
                       e->policy_seen ? "earlier frames carried one" : "the frame has alpha, "
                                                                        "which comes with it");
    if (!e->warned_no_policy)
        fprintf(stderr, "%s: warning: no evaluation at step %lld: the frames carry no policy yet "
                        "(a ring starts with parpi-policy --prime); evaluations are skipped until "
                        "one comes\n", pp_progname(), step);
    e->warned_no_policy = 1;
    return 0;
}

#define BEST_KIND "best-policy"

/* The return of the policy in --best FILE, when there is one (an earlier
 * session of the run wrote it). A file of another task is an error. */
static int read_best(evaluator *e)
{
    e->best_read = 1;
    if (access(e->o.best_path, F_OK) != 0) return 0;
    pp_frame *ck = pp_frame_new();
    uint8_t *buf = NULL;
    const char *env;
    size_t len;
    int rc = pp_checkpoint_load(ck, e->o.best_path, BEST_KIND, &buf);
    if (rc == 0 && (pp_frame_get_str(ck, "env", &env, &len) != 0 ||
                    pp_frame_get_f64(ck, "eval.return_mean", &e->best_return) != 0))
        rc = pp_fail_prefix("%s: ", e->o.best_path);
    if (rc == 0 && (len != strlen(e->o.env_name) || memcmp(env, e->o.env_name, len) != 0))
        rc = pp_fail("%s holds a policy for %.*s, but --env is %s", e->o.best_path, (int)(len > 64 ? 64 : len), env,
                     e->o.env_name);
    pp_frame_free(ck);
    free(buf);
    e->have_best = rc == 0;
    return rc;
}

/* After an evaluation: the evaluated policy (the map "policy" of f, a copy of
 * the frame's) into --best FILE if it beats every evaluation before (FILE's
 * included). */
static int keep_best(evaluator *e, pp_frame *f, long long step, const pp_eval_result *r)
{
    if (!e->best_read && read_best(e) != 0) return pp_fail_prefix("--best: ");
    if (e->have_best && !(r->return_mean > e->best_return)) return 0;
    pp_frame *b = pp_frame_new();
    int rc = 0;
    rc |= pp_frame_set_i64(b, "step", step);
    rc |= pp_frame_set_str(b, "env", e->o.env_name);
    rc |= pp_frame_set_i64(b, "eval.episodes", r->episodes);
    rc |= pp_frame_set_f64(b, "eval.return_mean", r->return_mean);
    rc |= pp_frame_set_f64(b, "eval.return_std", r->return_std);
    rc |= pp_frame_set_f64(b, "eval.return_min", r->return_min);
    rc |= pp_frame_set_f64(b, "eval.return_max", r->return_max);
    rc |= pp_frame_set_f64(b, "eval.length_mean", r->length_mean);
    if (r->have_score) rc |= pp_frame_set_f64(b, "eval.score", r->score);
    if (rc == 0) rc = pp_frame_copy(b, "policy", f, "policy");
    if (rc == 0) rc = pp_checkpoint_save(b, BEST_KIND, e->o.best_path);
    pp_frame_free(b);
    if (rc != 0) return pp_fail_prefix("--best %s: ", e->o.best_path);
    e->best_return = r->return_mean;
    e->have_best = 1;
    return 0;
}

/* The result of the oldest evaluation in flight: metrics.eval.* on f (when
 * there is a frame: the one passing as it is taken; with --sync the frame of
 * its step), its eval.csv row, --best, then the progress rows that waited for
 * it. A failed evaluation fails the stage: the later ones in flight are
 * dropped and last_eval goes back to the last evaluation taken, so that a
 * checkpoint saved after the failure holds what the logs hold. */
static int take_result(evaluator *e, pp_eval_job *j, pp_frame *f)
{
    long long step = j->step;
    int rc = j->rc;
    pp_eval_result r = j->r;
    if (rc != 0) {
        pp_fail("the evaluation of step %lld: %s", step, j->err);
    } else {
        if (f) {
            rc |= pp_frame_set_f64(f, "metrics.eval.return_mean", r.return_mean);
            rc |= pp_frame_set_f64(f, "metrics.eval.return_std", r.return_std);
            rc |= pp_frame_set_f64(f, "metrics.eval.return_min", r.return_min);
            rc |= pp_frame_set_f64(f, "metrics.eval.return_max", r.return_max);
            rc |= pp_frame_set_f64(f, "metrics.eval.length_mean", r.length_mean);
            if (r.have_score) rc |= pp_frame_set_f64(f, "metrics.eval.score", r.score);
            if (r.goals > 0) rc |= pp_frame_set_f64(f, "metrics.eval.goals_reached", r.goals_reached);
        }
        if (rc == 0 && e->log) rc = pp_eval_csv_row(e->log, e->o.log_path, step, &r);
        if (rc == 0 && e->o.best_path[0]) rc = keep_best(e, j->policy, step, &r);
    }
    pp_eval_worker_release(e->worker);
    if (rc != 0) {
        pp_eval_worker_discard(e->worker);
        e->last_eval = e->taken;
        return -1;
    }
    e->taken = step;
    e->last_eval_return = r.return_mean;
    e->have_eval = 1;
    return write_rows_ready(e);
}

/* Take the results of the evaluations in flight that are done, oldest first
 * (all: wait for every one); *taken is set when one was. */
static int take_results(evaluator *e, pp_frame *f, int all, int *taken)
{
    pp_eval_job *j;
    while ((j = pp_eval_worker_oldest(e->worker, all)) != NULL) {
        if (take_result(e, j, f) != 0) return -1;
        *taken = 1;
    }
    return 0;
}

/* Start the evaluation of step's policy: a copy of its parameters (and, for
 * --best, of its map) in a free slot, handed to the worker. With
 * PP_EVAL_QUEUE evaluations in flight, the oldest is waited for first. */
static int start_evaluation(evaluator *e, pp_frame *f, long long step, int *taken)
{
    pp_eval_job *j;
    while ((j = pp_eval_worker_slot(e->worker)) == NULL) {
        pp_eval_job *old = pp_eval_worker_oldest(e->worker, 1);
        if (take_result(e, old, f) != 0) return -1;
        *taken = 1;
    }
    const pp_env_info *info = pp_env_get_info(e->env);
    if (pp_actor_from_frame_for(f, "policy", 1, info->obs_dim, info->act_dim, &j->actor) != 0)
        return pp_fail_prefix("the frame's policy, to evaluate on --env %s (obs %d, act %d): ", e->o.env_name,
                              info->obs_dim, info->act_dim);
    if (e->o.best_path[0]) {
        if (!j->policy) j->policy = pp_frame_new();
        pp_frame_clear(j->policy);
        if (pp_frame_copy(j->policy, "policy", f, "policy") != 0) return pp_fail_prefix("the frame's policy: ");
    }
    j->step = step;
    pp_eval_worker_submit(e->worker);
    e->last_eval = step;
    return 0;
}

/* The progress row of step: written now when no evaluation in flight comes
 * before it, else queued behind them (a full queue waits for the oldest). */
static int progress_row_at(evaluator *e, pp_frame *f, long long step, int *taken)
{
    if (e->nrows == 0 && pp_eval_worker_pending(e->worker) == 0) {
        format_progress(e, f, step, &e->now);
        return write_row(e, &e->now);
    }
    while (e->nrows == PROGRESS_QUEUE) {
        pp_eval_job *old = pp_eval_worker_oldest(e->worker, 1);
        if (!old) return write_rows_ready(e); /* cannot happen: a waiting row waits for one */
        if (take_result(e, old, f) != 0) return -1;
        *taken = 1;
    }
    format_progress(e, f, step, &e->rows[(e->rows_head + e->nrows) % PROGRESS_QUEUE]);
    e->nrows++;
    return 0;
}

/* Every evaluation in flight taken, every waiting progress row written: at a
 * snapshot or checkpoint (so that it holds them, as the logs do) and at the
 * end of the stream. */
static int eval_finish(pp_stage *s)
{
    evaluator *e = s->self;
    int taken = 0;
    if (take_results(e, NULL, 1, &taken) != 0 || write_rows_ready(e) != 0) return -1;
    if (taken && e->last_step >= 0) {
        write_status(e, e->last_step);
        e->last_status = pp_now();
        e->status_step = e->last_step;
    }
    return 0;
}

static int eval_step(pp_stage *s, pp_frame *f)
{
    evaluator *e = s->self;
    int64_t step = 0;
    if (pp_frame_get(f, "step") && pp_frame_get_i64(f, "step", &step) != 0) return -1;
    if (pp_frame_remove(f, "metrics.eval") != 0) return -1;
    pp_node *n = pp_frame_get(f, "metrics.collect.episode_return");
    double v;
    if (n && pp_node_as_f64(n, &v) == 0) {
        e->recent_ret[e->recent_pos] = v;
        double len = 0;
        pp_node *ln = pp_frame_get(f, "metrics.collect.episode_length");
        if (ln) pp_node_as_f64(ln, &len);
        e->recent_len[e->recent_pos] = len;
        e->recent_pos = (e->recent_pos + 1) % RECENT;
        if (e->nrecent < RECENT) e->nrecent++;
        e->episodes++;
    }
    int taken = 0, has_policy = pp_frame_get(f, "policy") != NULL;
    int due = e->o.every > 0 && step / e->o.every > e->last_eval / e->o.every;
    if (due && !has_policy && no_policy(e, f, step) != 0) return -1;
    /* the evaluations finished since the last frame, in step order */
    if (take_results(e, f, 0, &taken) != 0) return -1;
    if (due && has_policy) {
        if (start_evaluation(e, f, step, &taken) != 0) return -1;
        /* --sync: it ran in submit; its result goes on this frame */
        if (e->o.sync && take_results(e, f, 1, &taken) != 0) return -1;
    }
    if (e->progress && step / e->o.log_every > e->last_log / e->o.log_every) {
        if (progress_row_at(e, f, step, &taken) != 0) return -1;
        e->last_log = step;
    }
    double now = pp_now();
    if (taken || now - e->last_status >= 1.0) {
        write_status(e, step);
        e->last_status = now;
        e->status_step = step;
    }
    e->last_step = step;
    if (has_policy) e->policy_seen = 1;
    return 0;
}

/* The checkpoint holds the counters and the recent training returns, and no
 * wall time, so that the checkpoints of a run stopped and resumed are the
 * bytes of the run that never stopped; progress.csv's wall_s goes on from
 * its last row. */
static int eval_save(pp_stage *s, pp_frame *ck)
{
    evaluator *e = s->self;
    /* the evaluations in flight first: all started at or before the step
     * saved, their rows and --best belong to it */
    if (eval_finish(s) != 0) return -1;
    int rc = pp_config_save(pp_eval_options, &e->o, ck);
    rc |= pp_frame_set_i64(ck, "last_eval", e->last_eval);
    rc |= pp_frame_set_i64(ck, "last_log", e->last_log);
    rc |= pp_frame_set_i64(ck, "episodes", e->episodes);
    if (e->have_eval) rc |= pp_frame_set_f64(ck, "last_eval_return", e->last_eval_return);
    /* the last (up to RECENT) training episodes, oldest first */
    double ret[RECENT], len[RECENT];
    for (int i = 0; i < e->nrecent; i++) {
        int k = (e->recent_pos - e->nrecent + i + RECENT) % RECENT;
        ret[i] = e->recent_ret[k];
        len[i] = e->recent_len[k];
    }
    int64_t shape[1] = {e->nrecent};
    rc |= pp_frame_put_tensor(ck, "recent.return", PP_F64, 1, shape, ret);
    rc |= pp_frame_put_tensor(ck, "recent.length", PP_F64, 1, shape, len);
    return rc ? -1 : 0;
}

/* The recent training episodes of a checkpoint (none in one of parpi 0.1). */
static int load_recent(pp_frame *ck, double *ret, double *len, int *n)
{
    *n = 0;
    if (!pp_frame_get(ck, "recent")) return 0;
    pp_dtype dt;
    int nd;
    int64_t shape[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(ck, "recent.return", &dt, &nd, shape) != 0) return -1;
    if (nd != 1 || shape[0] < 0 || shape[0] > RECENT)
        return pp_fail("recent.return has %d dimensions of %lld, expected [0..%d]", nd, (long long)shape[0], RECENT);
    if (pp_frame_read_tensor(ck, "recent.return", PP_F64, 1, shape, ret, NULL) != 0 ||
        pp_frame_read_tensor(ck, "recent.length", PP_F64, 1, shape, len, NULL) != 0)
        return -1;
    *n = (int)shape[0];
    return 0;
}

/* The logs keep their rows up to the checkpoint: evaluations up to
 * last_eval, progress rows up to last_log (nothing else lies between them
 * and the step the checkpoint was taken at). The wall time goes on from
 * progress.csv's last row (from wall_s in a checkpoint of parpi 0.1). */
static int cut_logs(evaluator *e, pp_frame *ck)
{
    if (e->log && pp_csv_cut(e->log, e->o.log_path, e->last_eval, NULL) != 0) return -1;
    char *row = NULL;
    if (e->progress && pp_csv_cut(e->progress, e->o.progress_path, e->last_log, &row) != 0) return -1;
    double wall = 0;
    if (pp_frame_get(ck, "wall_s")) {
        if (pp_frame_get_f64(ck, "wall_s", &wall) != 0) {
            free(row);
            return -1;
        }
    } else if (row) {
        for (int i = 0; i < e->ncols; i++)
            if (e->cols[i].lead == COL_WALL && pp_csv_field(row, i, &wall) != 0) wall = 0;
    }
    free(row);
    e->wall_offset = isfinite(wall) && wall > 0 ? wall : 0;
    e->t0 = pp_now();
    return 0;
}

static int eval_load(pp_stage *s, pp_frame *ck)
{
    evaluator *e = s->self;
    /* the env is built: the task must be the checkpoint's */
    pp_eval_config saved = e->o;
    /* a stage is loaded before it steps; nothing of another state is kept */
    pp_eval_worker_discard(e->worker);
    e->nrows = 0;
    if (pp_config_load(pp_eval_options, &e->o, sizeof e->o, ck, e->given, 1) != 0) return -1;
    long long a, b, c;
    double ret = 0, rec_ret[RECENT], rec_len[RECENT];
    int nrec = 0;
    int have = pp_frame_get(ck, "last_eval_return") != NULL;
    if (pp_ckpt_get_int(ck, "last_eval", 0, INT64_MAX, &a) != 0 ||
        pp_ckpt_get_int(ck, "last_log", 0, INT64_MAX, &b) != 0 ||
        pp_ckpt_get_int(ck, "episodes", 0, INT64_MAX, &c) != 0 ||
        (have && pp_frame_get_f64(ck, "last_eval_return", &ret) != 0) || load_recent(ck, rec_ret, rec_len, &nrec) != 0) {
        e->o = saved;
        return -1;
    }
    e->last_eval = e->taken = a;
    e->last_log = b;
    e->episodes = c;
    e->have_eval = have;
    e->last_eval_return = ret;
    e->nrecent = nrec;
    e->recent_pos = nrec % RECENT;
    memcpy(e->recent_ret, rec_ret, (size_t)nrec * sizeof *rec_ret);
    memcpy(e->recent_len, rec_len, (size_t)nrec * sizeof *rec_len);
    return cut_logs(e, ck);
}

/* The contract (stage.h; man/man5/parpi-frame.5). */
static const char *const eval_reads[] = {"step", "policy", "metrics", NULL};
static const char *const eval_owns[] = {NULL};
static const char *const eval_metrics[] = {"return_mean", "return_std", "return_min", "return_max", "length_mean", "score", "goals_reached", NULL};

const pp_stage_ops pp_stage_eval = {
    .kind = "eval",
    .reads = eval_reads,
    .owns = eval_owns,
    .metrics = eval_metrics,
    .summary = "Evaluation episodes of the frame's policy every --every steps (frames pass\n"
               "through); standalone with --policy CKPT.",
    .options = pp_eval_options,
    .create = eval_create,
    .step = eval_step,
    .save = eval_save,
    .load = eval_load,
    .finish = eval_finish,
    .destroy = eval_destroy,
};
