/* train_progress.c - parpi-train's messages: its log (logs/train.log), its
 * progress on stderr and the summary line at the end.
 *
 * On a terminal, one live line, cut to the terminal's width:
 *   parpi-train: step 12000/1000000 (1.2%)  85.3 steps/s  elapsed 2m21s  ETA 3h12m  return -150.3  eval -140.2
 * Without one (a batch job's log), the same as plain lines: one every
 * --print-every seconds and one at every evaluation (at its step, with its
 * return as eval):
 *   parpi-train: step 12000/1000000 (1.2%)  85.3 steps/s  elapsed 2m21s  ETA 3h12m  return -150.3  eval -140.2
 * Both modes read DIR/status, the one line the eval stage rewrites about once
 * a second ("step N episodes E return R eval R2"), and the new rows of
 * DIR/eval.csv, so the display is the same whether the stages run as
 * processes or in this one. steps/s and the ETA use the rate over the last
 * window, not since the start (the random warm-up is many times faster than
 * learning).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "data/d4rl.h"
#include "frame/frame.h"
#include "stage/eval.h"
#include "train/train.h"

enum { MODE_OFF, MODE_LIVE, MODE_PLAIN };

typedef struct {
    long long step, episodes;
    double ret, eval;
    int have_ret, have_eval;
} status_line;

static int read_status(const pp_train *t, status_line *s)
{
    char path[1200], line[512];
    snprintf(path, sizeof path, "%s/status", t->o.dir);
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    int ok = fgets(line, sizeof line, fp) != NULL;
    fclose(fp);
    if (!ok) return -1;
    memset(s, 0, sizeof *s);
    char key[32], val[64];
    const char *p = line;
    int n;
    while (sscanf(p, "%31s %63s%n", key, val, &n) == 2) {
        p += n;
        if (strcmp(key, "step") == 0) sscanf(val, "%lld", &s->step);
        else if (strcmp(key, "episodes") == 0) sscanf(val, "%lld", &s->episodes);
        else if (strcmp(key, "return") == 0) s->have_ret = sscanf(val, "%lf", &s->ret) == 1;
        else if (strcmp(key, "eval") == 0) s->have_eval = sscanf(val, "%lf", &s->eval) == 1;
    }
    return 0;
}

long long pp_train_status_step(const pp_train *t)
{
    status_line s;
    return read_status(t, &s) == 0 ? s.step : -1;
}

const char *pp_train_signal_name(int sig)
{
    static char buf[32];
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: snprintf(buf, sizeof buf, "signal %d", sig); return buf;
    }
}

/* ---- DIR/eval.csv ---- */

/* The column of return_mean in an eval.csv row (from 0). */
static int return_column(void)
{
    int col = 0;
    for (const char *p = pp_eval_csv_columns; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 11 && strncmp(p, "return_mean", n) == 0) return col;
        p += n;
        if (*p) p++;
        col++;
    }
    return 2;
}

/* One row of eval.csv: its step and return_mean. 0, or -1 for the header or a
 * line that is not a row. */
static int parse_eval_row(const char *line, long long *step, double *ret)
{
    char *end;
    errno = 0;
    long long s = strtoll(line, &end, 10);
    if (end == line || *end != ',' || errno) return -1;
    const char *p = line;
    for (int c = return_column(); c > 0 && p; c--) {
        p = strchr(p, ',');
        if (p) p++;
    }
    if (!p) return -1;
    double v = strtod(p, &end);
    if (end == p || (*end != ',' && *end != '\n' && *end)) return -1;
    *step = s;
    *ret = v;
    return 0;
}

static void eval_path(const pp_train *t, char *buf, size_t cap) { snprintf(buf, cap, "%s/eval.csv", t->o.dir); }

/* The rows of eval.csv after *offset (whole lines only), each passed to fn;
 * *offset moves past them. A file shorter than *offset (cut back on resume)
 * is read again from the start. */
static void read_eval_rows(const pp_train *t, long long *offset, void (*fn)(void *, long long, double), void *arg)
{
    char path[1200];
    eval_path(t, path, sizeof path);
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && st.st_size < *offset) *offset = 0;
    if (fseek(fp, *offset, SEEK_SET) != 0) {
        fclose(fp);
        return;
    }
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n') break; /* a row being written: next time */
        *offset += (long long)n;
        long long step;
        double ret;
        if (parse_eval_row(line, &step, &ret) == 0) fn(arg, step, ret);
    }
    fclose(fp);
}

/* ---- the display ---- */

static void fmt_duration(double s, char *buf, size_t cap)
{
    long long x = (long long)(s + 0.5);
    if (s < 9.95) snprintf(buf, cap, "%.1fs", s > 0 ? s : 0);
    else if (x >= 86400) snprintf(buf, cap, "%lldd%02lldh", x / 86400, (x % 86400) / 3600);
    else if (x >= 3600) snprintf(buf, cap, "%lldh%02lldm", x / 3600, (x % 3600) / 60);
    else if (x >= 60) snprintf(buf, cap, "%lldm%02llds", x / 60, x % 60);
    else snprintf(buf, cap, "%llds", x);
}

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int w = c ? atoi(c) : 0;
    return w > 0 ? w : 80;
}

void pp_train_progress_init(pp_train_progress *p, const pp_train *t)
{
    memset(p, 0, sizeof *p);
    p->t0 = pp_now();
    p->last = -1e9;
    p->start_step = -1;
    if (t->o.progress == 0) p->mode = MODE_OFF;
    else p->mode = isatty(STDERR_FILENO) ? MODE_LIVE : MODE_PLAIN;
    double every = t->o.print_every;
    p->window = p->mode == MODE_PLAIN && every > 0 ? (every < 5 ? 5 : every > 300 ? 300 : every) : 20;
    p->last_print = p->t0; /* the first plain line after print_every seconds */
    /* rows an earlier session wrote are not shown again */
    char path[1200];
    struct stat st;
    eval_path(t, path, sizeof path);
    if (stat(path, &st) == 0) p->eval_offset = st.st_size;
}

static void add_sample(pp_train_progress *p, double now, long long step)
{
    int newest = (p->sample_pos + PP_TRAIN_RATE_SAMPLES - 1) % PP_TRAIN_RATE_SAMPLES;
    if (p->nsamples && now - p->sample_t[newest] < p->window / (PP_TRAIN_RATE_SAMPLES / 2)) return;
    p->sample_t[p->sample_pos] = now;
    p->sample_step[p->sample_pos] = step;
    p->sample_pos = (p->sample_pos + 1) % PP_TRAIN_RATE_SAMPLES;
    if (p->nsamples < PP_TRAIN_RATE_SAMPLES) p->nsamples++;
}

/* Steps per second over the last window: from the oldest sample in it (or,
 * when that is the newest, the one before), so the warm-up's pace leaves the
 * figure once it is a window old. 0: unknown yet. */
static double recent_rate(const pp_train_progress *p, double now, long long step)
{
    if (p->nsamples == 0) return 0;
    int from = -1;
    for (int k = p->nsamples; k >= 1; k--) { /* oldest first */
        int i = (p->sample_pos + PP_TRAIN_RATE_SAMPLES - k) % PP_TRAIN_RATE_SAMPLES;
        if (now - p->sample_t[i] <= p->window) {
            from = k;
            break;
        }
    }
    if (from < 0 || (from == 1 && p->nsamples > 1)) from = from < 0 ? 1 : 2;
    int i = (p->sample_pos + PP_TRAIN_RATE_SAMPLES - from) % PP_TRAIN_RATE_SAMPLES;
    double dt = now - p->sample_t[i];
    return dt >= 0.5 ? (double)(step - p->sample_step[i]) / dt : 0;
}

/* The fields of a progress line, in display order; the live line drops the
 * least useful first when the terminal is narrow. */
enum { F_STEP, F_RATE, F_ELAPSED, F_ETA, F_RETURN, F_EVAL, NFIELDS };
static const int drop_order[] = {F_ELAPSED, F_RETURN, F_RATE, F_EVAL, F_ETA};

static void compose(const pp_train_progress *p, const pp_train *t, const status_line *s, double now,
                    char field[NFIELDS][96])
{
    double rate = recent_rate(p, now, s->step);
    char eta[32] = "?", el[32];
    if (s->step >= t->o.steps) snprintf(eta, sizeof eta, "0s");
    else if (rate > 0) fmt_duration((double)(t->o.steps - s->step) / rate, eta, sizeof eta);
    fmt_duration(now - p->t0, el, sizeof el);
    snprintf(field[F_STEP], 96, "step %lld/%lld (%.1f%%)", s->step, t->o.steps,
             100.0 * (double)s->step / (double)t->o.steps);
    if (rate > 0) snprintf(field[F_RATE], 96, "%.1f steps/s", rate);
    else snprintf(field[F_RATE], 96, "? steps/s");
    snprintf(field[F_ELAPSED], 96, "elapsed %s", el);
    snprintf(field[F_ETA], 96, "ETA %s", eta);
    field[F_RETURN][0] = field[F_EVAL][0] = '\0';
    if (s->have_ret) snprintf(field[F_RETURN], 96, "return %.1f", s->ret);
    if (p->have_eval) snprintf(field[F_EVAL], 96, "eval %.1f", p->eval_return);
    else if (s->have_eval) snprintf(field[F_EVAL], 96, "eval %.1f", s->eval);
}

static size_t join(char field[NFIELDS][96], const int *on, char *line, size_t cap)
{
    size_t o = 0;
    line[0] = '\0';
    for (int i = 0; i < NFIELDS && o < cap; i++)
        if (on[i] && field[i][0]) o += (size_t)snprintf(line + o, cap - o, "%s%s", o ? "  " : "", field[i]);
    return o < cap ? o : cap - 1;
}

static void print_plain(const pp_train_progress *p, const pp_train *t, const status_line *s, double now)
{
    char field[NFIELDS][96], line[640];
    int on[NFIELDS] = {1, 1, 1, 1, 1, 1};
    compose(p, t, s, now, field);
    join(field, on, line, sizeof line);
    fprintf(stderr, "%s: %s\n", pp_progname(), line);
    fflush(stderr);
}

static void print_live(pp_train_progress *p, const pp_train *t, const status_line *s, double now)
{
    char field[NFIELDS][96], line[640];
    int on[NFIELDS] = {1, 1, 1, 1, 1, 1};
    compose(p, t, s, now, field);
    /* one column less than the width: a full last column makes some terminals wrap */
    int room = terminal_width() - 1 - (int)strlen(pp_progname()) - 2;
    if (room < 10) room = 10;
    size_t n = join(field, on, line, sizeof line);
    for (size_t k = 0; k < sizeof drop_order / sizeof *drop_order && (int)n > room; k++) {
        on[drop_order[k]] = 0;
        n = join(field, on, line, sizeof line);
    }
    if ((int)n > room) line[room] = '\0';
    /* \033[K clears what a longer line before left */
    fprintf(stderr, "\r%s: %s\033[K", pp_progname(), line);
    fflush(stderr);
    p->shown = 1;
}

typedef struct {
    pp_train_progress *p;
    const pp_train *t;
    const status_line *s;
    double now;
} eval_seen;

static void on_eval_row(void *arg, long long step, double ret)
{
    eval_seen *e = arg;
    e->p->eval_step = step;
    e->p->eval_return = ret;
    e->p->have_eval = 1;
    if (e->p->mode == MODE_PLAIN) { /* the line of the evaluation: at its step */
        status_line at = *e->s;
        if (step < at.step) at.step = step;
        print_plain(e->p, e->t, &at, e->now);
        e->p->last_print = e->now;
    }
}

void pp_train_progress_show(pp_train_progress *p, const pp_train *t, int force)
{
    if (p->mode == MODE_OFF) return;
    double now = pp_now();
    if (!force && now - p->last < 1.0) return;
    p->last = now;
    status_line s;
    if (read_status(t, &s) != 0) return;
    if (p->start_step < 0) p->start_step = s.step;
    add_sample(p, now, s.step);
    eval_seen seen = {p, t, &s, now};
    read_eval_rows(t, &p->eval_offset, on_eval_row, &seen);
    if (p->mode == MODE_LIVE) print_live(p, t, &s, now);
    else if (!force && t->o.print_every > 0 && now - p->last_print >= t->o.print_every) {
        print_plain(p, t, &s, now);
        p->last_print = now;
    }
}

void pp_train_progress_end(pp_train_progress *p)
{
    if (p->shown) fputc('\n', stderr);
    p->shown = 0;
}

/* ---- the summary ---- */

typedef struct {
    int n;
    long long last_step, best_step;
    double last, best;
} eval_summary;

static void on_summary_row(void *arg, long long step, double ret)
{
    eval_summary *e = arg;
    if (e->n == 0 || ret > e->best) {
        e->best = ret;
        e->best_step = step;
    }
    e->last = ret;
    e->last_step = step;
    e->n++;
}

/* The step the run got to: the collector's checkpoint's (saved at the end),
 * else the status line's (rewritten at most once a second). */
static long long final_step(const pp_train *t)
{
    long long step = pp_train_status_step(t);
    for (int i = 0; i < t->nstages; i++) {
        if (strcmp(t->stage[i].kind, "collect") != 0 || !t->stage[i].common.checkpoint[0]) continue;
        pp_frame *f = pp_frame_new();
        uint8_t *buf = NULL;
        int64_t v;
        if (pp_checkpoint_load(f, t->stage[i].common.checkpoint, "collect", &buf) == 0 &&
            pp_frame_get_i64(f, "step", &v) == 0 && v >= 0)
            step = v;
        pp_frame_free(f);
        free(buf);
        pp_error_clear();
    }
    return step;
}

void pp_train_summary(const pp_train *t, int status, double wall_s, long long start_step)
{
    if (status != PP_EXIT_OK && status <= 128) return;
    long long step = final_step(t);
    char msg[2048], wall[32];
    fmt_duration(wall_s, wall, sizeof wall);
    int o;
    if (status == PP_EXIT_OK) o = snprintf(msg, sizeof msg, "finished: step %lld of %lld", step, t->o.steps);
    else o = snprintf(msg, sizeof msg, "stopped by %s at step %lld of %lld", pp_train_signal_name(status - 128),
                      step, t->o.steps);
    if (step >= 0 && start_step >= 0 && step > start_step && wall_s > 0)
        o += snprintf(msg + o, sizeof msg - (size_t)o, " in %s (%.1f steps/s)", wall,
                      (double)(step - start_step) / wall_s);
    else o += snprintf(msg + o, sizeof msg - (size_t)o, " in %s", wall);
    eval_summary e = {0};
    long long offset = 0;
    read_eval_rows(t, &offset, on_summary_row, &e);
    if (e.n == 0) {
        snprintf(msg + o, sizeof msg - (size_t)o, "; no evaluation yet");
    } else {
        double lo, hi; /* the D4RL normalised scores, where the task has them */
        if (pp_d4rl_reference(t->o.env, &lo, &hi) == 1 && hi != lo)
            o += snprintf(msg + o, sizeof msg - (size_t)o,
                          "; eval %.6g (D4RL score %.1f) at step %lld, best %.6g (%.1f) at step %lld", e.last,
                          100.0 * (e.last - lo) / (hi - lo), e.last_step, e.best, 100.0 * (e.best - lo) / (hi - lo),
                          e.best_step);
        else
            o += snprintf(msg + o, sizeof msg - (size_t)o, "; eval %.6g at step %lld, best %.6g at step %lld",
                          e.last, e.last_step, e.best, e.best_step);
        char best[1200];
        snprintf(best, sizeof best, "%s/ckpt/best/policy.ckpt", t->o.dir);
        if (access(best, F_OK) == 0) snprintf(msg + o, sizeof msg - (size_t)o, " (its policy: %s)", best);
    }
    pp_train_log(t, 1, "%s", msg);
}

void pp_train_log(const pp_train *t, int echo, const char *fmt, ...)
{
    char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char path[1200];
    snprintf(path, sizeof path, "%s/logs/train.log", t->o.dir);
    FILE *fp = fopen(path, "a");
    int ok = fp != NULL;
    if (fp) {
        fprintf(fp, "%s\n", msg);
        ok = !ferror(fp);
        ok = (fclose(fp) == 0) && ok;
    }
    static int said; /* a log that cannot be written is said once */
    if (!ok && !said) {
        said = 1;
        fprintf(stderr, "%s: cannot write %s: %s\n", pp_progname(), path, strerror(errno));
    }
    if (echo) fprintf(stderr, "%s: %s\n", pp_progname(), msg);
}
