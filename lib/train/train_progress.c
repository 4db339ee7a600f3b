/* train_progress.c - parpi-train's messages: its log (logs/train.log) and its
 * progress line on stderr:
 *   parpi-train: step 12000/1000000 (1.2%)  85.3 steps/s  ETA 3h12m  return -150.3  eval -140.2
 * Both modes read DIR/status, the one line the eval stage rewrites about once
 * a second ("step N episodes E return R eval R2"), so the display is the same
 * whether the stages run as processes or in this one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "train/train.h"
#include "base/clock.h"

static int enabled(const pp_train *t)
{
    return t->o.progress == 1 || (t->o.progress < 0 && isatty(STDERR_FILENO));
}

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

void pp_train_progress_init(pp_train_progress *p, const pp_train *t)
{
    memset(p, 0, sizeof *p);
    p->t0 = pp_now();
    p->start_step = -1;
    (void)t;
}

static void fmt_duration(double s, char *buf, size_t cap)
{
    long long x = (long long)(s + 0.5);
    if (x >= 3600) snprintf(buf, cap, "%lldh%02lldm", x / 3600, (x % 3600) / 60);
    else if (x >= 60) snprintf(buf, cap, "%lldm%02llds", x / 60, x % 60);
    else snprintf(buf, cap, "%llds", x);
}

void pp_train_progress_show(pp_train_progress *p, const pp_train *t, int force)
{
    if (!enabled(t)) return;
    double now = pp_now();
    if (!force && now - p->last < 1.0) return;
    p->last = now;
    status_line s;
    if (read_status(t, &s) != 0) return;
    if (p->start_step < 0) {
        p->start_step = s.step;
        p->t0 = now;
    }
    double el = now - p->t0;
    double rate = el > 0.5 ? (double)(s.step - p->start_step) / el : 0;
    char line[256], eta[32] = "?";
    if (rate > 0 && t->o.steps > s.step) fmt_duration((double)(t->o.steps - s.step) / rate, eta, sizeof eta);
    int o = snprintf(line, sizeof line, "step %lld/%lld (%.1f%%)  %.1f steps/s  ETA %s", s.step,
                     t->o.steps, 100.0 * (double)s.step / (double)t->o.steps, rate, eta);
    if (s.have_ret && o < (int)sizeof line)
        o += snprintf(line + o, sizeof line - (size_t)o, "  return %.1f", s.ret);
    if (s.have_eval && o < (int)sizeof line)
        snprintf(line + o, sizeof line - (size_t)o, "  eval %.1f", s.eval);
    fprintf(stderr, "\rparpi-train: %s   ", line);
    fflush(stderr);
    p->shown = 1;
}

void pp_train_progress_end(pp_train_progress *p)
{
    if (p->shown) fputc('\n', stderr);
    p->shown = 0;
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
