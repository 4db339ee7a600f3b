/* stage_run.c - the one runner of stages (stage_run.h): resume, step with
 * its timing and --drop, save, and the filter loop; and the table of the
 * options every stage program takes besides its own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "frame/frame.h"
#include "nn/blas.h"
#include "stage/stage.h"
#include "stage/stage_run.h"

/* ---- the common options ---- */

#define PATH_ROW(n, f, arg, help) \
    PP_OPT_ROW(n, PP_OPT_T_STRING, pp_stage_common, f, 0, PP_STAGE_PATH_MAX, NULL, NULL, arg, help, NULL, PP_OPT_NOSAVE)

/* in PP_GEMM_* order (nn/blas.h) */
static const char *const gemm_names[] = {"openblas", "dnnl", NULL};
/* in PP_PREC_* order */
static const char *const precision_names[] = {"fp32", "bf16", "auto", NULL};

const pp_opt pp_stage_common_options[] = {
    PATH_ROW("checkpoint", checkpoint, "PATH",
             "save the stage here (atomically) at the end and on a signal"),
    PP_OPT_COUNT("save-every", pp_stage_common, save_every, 0, 1e15, "0",
                 "also every N frames (0: only at the end)", PP_OPT_NOSAVE),
    PATH_ROW("resume", resume, "PATH", "load this checkpoint first (of this stage's kind)"),
    PATH_ROW("in", in, "FILE", "read frames from FILE instead of stdin"),
    PATH_ROW("out", out, "FILE", "write frames to FILE instead of stdout"),
    PP_OPT_INT("threads", pp_stage_common, threads, 1, 256, "1", "BLAS threads", PP_OPT_NOSAVE),
    PP_OPT_CHOICE("gemm", pp_stage_common, gemm, gemm_names, "openblas",
                  "matmul backend (not given: PARPI_GEMM if set)", PP_OPT_NOSAVE),
    PP_OPT_CHOICE("precision", pp_stage_common, precision, precision_names, "fp32",
                  "matmul operands: fp32, bf16 (through oneDNN, fp32 accumulation; fp32 on a CPU without "
                  "AVX-512, with a warning) or auto (bf16 where oneDNN reports AMX) (not given: "
                  "PARPI_PRECISION if set)",
                  PP_OPT_NOSAVE),
    PP_OPT_ROW("max-frame", PP_OPT_T_COUNT, pp_stage_common, max_frame, 1024, 1e12, "1073741824", NULL,
               "BYTES", "refuse larger frames", NULL, PP_OPT_NOSAVE),
    PP_OPT_ROW("drop", PP_OPT_T_STRING, pp_stage_common, drop, 0, sizeof(((pp_stage_common *)0)->drop),
               NULL, NULL, "F1,F2,..",
               "remove these fields before writing each frame",
               NULL, PP_OPT_NOSAVE),
    PP_OPT_FLAG("progress", pp_stage_common, progress,
                "frames/s on stderr (default: if it is a terminal and stdout is not a pipe)", PP_OPT_NOSAVE),
    PP_OPT_FLAG("no-progress", pp_stage_common, no_progress, "no progress line", PP_OPT_NOSAVE),
    PATH_ROW("snapshots", snapshots, "DIR",
             "a ring's snapshots: save at its snapshot frames into DIR/STEP/KIND.ckpt, and only there"),
    PP_OPT_COUNT("snapshot-every", pp_stage_common, snapshot_every, 0, 1e15, "0",
                 "start the ring's snapshots (its first stage): every N steps, at the end and on a signal "
                 "(0: only those two)",
                 PP_OPT_NOSAVE),
    PP_OPT_ROW("run-id", PP_OPT_T_STRING, pp_stage_common, run_id, 0, PP_SNAPSHOT_RUN_MAX, NULL, NULL, "ID",
               "the run's id, which the snapshots carry (with --snapshot-every)", NULL, PP_OPT_NOSAVE),
    PP_OPT_END,
};

static int row_index(const char *name)
{
    for (int i = 0; pp_stage_common_options[i].name; i++)
        if (strcmp(pp_stage_common_options[i].name, name) == 0) return i;
    return -1;
}

int pp_stage_common_gemm(const pp_stage_common *c)
{
    if (pp_gemm_check_env() != 0) return -1;
    int gemm_given = pp_stage_common_given(c, "gemm");
    if (gemm_given && pp_gemm_set_backend(c->gemm) != 0) return pp_fail_prefix("--gemm: ");
    if (!pp_stage_common_given(c, "precision")) return 0;
    int p = pp_gemm_resolve_precision(c->precision);
    if (p == PP_PREC_BF16 && gemm_given && c->gemm == PP_GEMM_OPENBLAS) {
        if (c->precision == PP_PREC_AUTO) return pp_gemm_set_precision(PP_PREC_FP32); /* auto: OpenBLAS is fp32 */
        return pp_fail("--precision bf16 runs the matmuls through oneDNN: give --gemm dnnl or no --gemm");
    }
    if (pp_gemm_set_precision(p) != 0) return pp_fail_prefix("--precision: ");
    return 0;
}

void pp_stage_common_warn_bf16(const pp_stage_common *c)
{
    int p = pp_stage_common_given(c, "precision") ? pp_gemm_resolve_precision(c->precision) : pp_gemm_precision();
    if (p != PP_PREC_BF16 || pp_gemm_bf16_runs() || !pp_gemm_available(PP_GEMM_DNNL)) return;
    fprintf(stderr, "%s: warning: --precision bf16: oneDNN has no bf16 matmul on this CPU (it needs AVX-512); "
            "the matmuls run in fp32 through oneDNN, as with --gemm dnnl\n", pp_progname());
}

int pp_stage_common_init(pp_stage_common *c)
{
    memset(c, 0, sizeof *c);
    return pp_opt_defaults(pp_stage_common_options, c);
}

int pp_stage_common_given(const pp_stage_common *c, const char *name)
{
    int i = row_index(name);
    return i >= 0 && (c->given >> i & 1);
}

/* --drop "" would drop nothing and is surely a mistake; snapshots replace
 * --checkpoint, and their other options need them. */
static int check(const pp_stage_common *c)
{
    int d = row_index("drop");
    if ((c->given >> d & 1) && !c->drop[0]) return pp_fail("--drop: '', expected field paths separated by commas");
    if (c->snapshots[0] && (c->checkpoint[0] || pp_stage_common_given(c, "save-every")))
        return pp_fail("--snapshots saves the stage at the ring's snapshot frames: give it or --checkpoint "
                       "and --save-every, not both");
    if (!c->snapshots[0] && (pp_stage_common_given(c, "snapshot-every") || c->run_id[0]))
        return pp_fail("--%s needs --snapshots DIR", c->run_id[0] ? "run-id" : "snapshot-every");
    return 0;
}

int pp_stage_common_parse(pp_stage_common *c, int argc, char **argv)
{
    uint64_t given = 0;
    if (pp_opt_parse(pp_stage_common_options, c, argc, argv, &given) != 0) return -1;
    c->given |= given;
    /* --progress and --no-progress: the last one wins */
    uint64_t on = (uint64_t)1 << row_index("progress"), off = (uint64_t)1 << row_index("no-progress");
    if ((c->given & on) && (c->given & off)) {
        for (int i = argc - 1; i > 0; i--) {
            if (strcmp(argv[i], "--progress") == 0) {
                c->no_progress = 0;
                c->given &= ~off;
                break;
            }
            if (strcmp(argv[i], "--no-progress") == 0) {
                c->progress = 0;
                c->given &= ~on;
                break;
            }
        }
    }
    return check(c);
}

int pp_stage_common_set(pp_stage_common *c, const char *name, const char *value)
{
    int i = row_index(name);
    if (i < 0) return pp_fail("unknown option --%s", name);
    if (pp_opt_set(&pp_stage_common_options[i], c, value) != 0) return -1;
    c->given |= (uint64_t)1 << i;
    return check(c);
}

void pp_stage_common_unset(pp_stage_common *c, const char *name)
{
    int i = row_index(name);
    if (i < 0) return;
    const pp_opt one[2] = {pp_stage_common_options[i], PP_OPT_END};
    (void)pp_opt_defaults(one, c); /* the table's defaults parse (pp_stage_common_init) */
    c->given &= ~((uint64_t)1 << i);
}

int pp_stage_common_word(const pp_stage_common *c, int i, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!(c->given >> i & 1)) return 0;
    const pp_opt *row = &pp_stage_common_options[i];
    if (row->type == PP_OPT_T_FLAG) {
        snprintf(buf, cap, "--%s", row->name);
        return 1;
    }
    char value[PP_STAGE_PATH_MAX];
    pp_opt_format(row, c, value, sizeof value);
    snprintf(buf, cap, "--%s=%s", row->name, value);
    return 1;
}

int pp_stage_common_progress(const pp_stage_common *c)
{
    if (c->progress) return 1;
    if (c->no_progress) return 0;
    /* By default only a stage whose frames do not go on down a pipe: in a
     * ring built by hand every stage writes a pipe, and their lines would
     * fight over one terminal line (give --progress to the one to watch);
     * in a chain the last stage shows it, and a reader that prints
     * (| parpi-cat) is not written over. */
    struct stat st;
    int rc = c->out[0] ? stat(c->out, &st) : fstat(STDOUT_FILENO, &st);
    if (rc == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) return 0;
    return isatty(STDERR_FILENO);
}

/* ---- running ---- */

/* The folder of a file (links resolved): into buf. */
static int folder_of(const char *path, char *buf, size_t cap)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) return pp_fail("%s: %s", path, strerror(errno));
    char *slash = strrchr(real, '/');
    if (slash == real) slash[1] = '\0';
    else if (slash) *slash = '\0';
    if (strlen(real) >= cap) return pp_fail("%s: path too long", path);
    snprintf(buf, cap, "%s", real);
    return 0;
}

int pp_checkpoint_mark(pp_frame *ck, pp_snapshot_mark *m)
{
    memset(m, 0, sizeof *m);
    m->step = -1;
    if (!pp_frame_get(ck, "snapshot")) return 0;
    const char *run;
    size_t n;
    int64_t step;
    if (pp_frame_get_str(ck, "snapshot.run", &run, &n) != 0 || pp_frame_get_i64(ck, "snapshot.step", &step) != 0)
        return -1;
    if (n >= sizeof m->run || step < 0)
        return pp_fail("snapshot.run of %zu bytes, snapshot.step %lld: expected under %zu bytes and a step >= 0", n,
                       (long long)step, sizeof m->run);
    memcpy(m->run, run, n);
    m->run[n] = '\0';
    m->step = step;
    return 0;
}

int pp_stage_resume_mark(pp_stage *s, const char *path, pp_snapshot_mark *m)
{
    pp_frame *ck = pp_frame_new();
    uint8_t *buf = NULL;
    char dir[PATH_MAX];
    pp_snapshot_mark mark;
    int rc = pp_checkpoint_load(ck, path, s->ops->kind, &buf);
    if (rc == 0 && (pp_checkpoint_mark(ck, &mark) != 0 || folder_of(path, dir, sizeof dir) != 0))
        rc = pp_fail_prefix("resuming from %s: ", path);
    if (rc == 0) {
        s->snapshot_dir = dir;
        if (s->ops->load(s, ck) != 0) rc = pp_fail_prefix("resuming from %s: ", path);
        s->snapshot_dir = NULL;
    }
    if (rc == 0 && m) *m = mark;
    pp_frame_free(ck);
    free(buf);
    return rc;
}

int pp_stage_resume(pp_stage *s, const char *path) { return pp_stage_resume_mark(s, path, NULL); }

int pp_stage_save(pp_stage *s, const char *path)
{
    pp_frame *ck = pp_frame_new();
    int rc = s->ops->save(s, ck);
    if (rc == 0) rc = pp_checkpoint_save(ck, s->ops->kind, path);
    pp_frame_free(ck);
    if (rc != 0) return pp_fail_prefix("saving checkpoint %s: ", path);
    return 0;
}

int pp_stage_step(pp_stage *s, pp_frame *f, const char *drop)
{
    double t0 = pp_now();
    int rc = s->ops->step(s, f);
    if (rc != 0) return rc; /* an error, or the end of the stream */
    char key[96];
    snprintf(key, sizeof key, "metrics.%s.step_ms", s->ops->kind);
    if (pp_frame_set_f64(f, key, (pp_now() - t0) * 1e3) != 0) return -1;
    if (drop && drop[0] && pp_frame_remove_list(f, drop) != 0) return pp_fail_prefix("--drop: ");
    return 0;
}

int pp_stage_finish(pp_stage *s)
{
    if (!s->ops->finish || s->ops->finish(s) == 0) return 0;
    return pp_fail_prefix("%s: ", s->ops->kind);
}

int pp_stage_prime(pp_stage *s, pp_frame *f, const pp_snapshot_mark *resumed)
{
    if (!s->ops->prime) return 0;
    int primed = s->ops->prime(s, f);
    if (primed > 0 && resumed && resumed->step >= 0 && pp_frame_set_i64(f, "step", resumed->step) != 0) return -1;
    return primed;
}

/* ---- snapshots ---- */

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || fsync(fd) != 0) rc = pp_fail("cannot sync directory %s: %s", dir, strerror(errno));
    if (fd >= 0) close(fd);
    return rc;
}

int pp_snapshot_due(long long last, long long step, long long every)
{
    return every > 0 && step / every > last / every;
}

int pp_stage_snapshot_save(pp_stage *s, const char *dir, const pp_snapshot_mark *m)
{
    char sub[PP_STAGE_PATH_MAX + 32], path[PP_STAGE_PATH_MAX + 64];
    snprintf(sub, sizeof sub, "%s/%lld", dir, m->step);
    snprintf(path, sizeof path, "%s/%s.ckpt", sub, s->ops->kind);
    int rc = 0;
    if (mkdir(sub, 0777) == 0) rc = sync_dir(dir);
    else if (errno != EEXIST) rc = pp_fail("cannot make %s: %s", sub, strerror(errno));
    pp_frame *ck = pp_frame_new();
    if (rc == 0) {
        s->snapshot_dir = sub;
        rc = s->ops->save(s, ck);
        s->snapshot_dir = NULL;
    }
    if (rc == 0 && (pp_frame_set_str(ck, "snapshot.run", m->run) != 0 ||
                    pp_frame_set_i64(ck, "snapshot.step", m->step) != 0))
        rc = -1;
    if (rc == 0) rc = pp_checkpoint_save(ck, s->ops->kind, path);
    pp_frame_free(ck);
    if (rc != 0) return pp_fail_prefix("saving snapshot %lld: %s: ", m->step, path);
    return 0;
}

long long pp_snapshot_folder_step(const char *name)
{
    if (!*name || strlen(name) > 18) return -1;
    for (const char *p = name; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    return atoll(name);
}

int pp_snapshot_remove_folder(const char *dir, const char *name)
{
    char sub[PP_STAGE_PATH_MAX + 32], path[PP_STAGE_PATH_MAX + 320];
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    DIR *d = opendir(sub);
    if (!d) return pp_fail("cannot read %s: %s", sub, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", sub, de->d_name);
        unlink(path);
    }
    closedir(d);
    if (rmdir(sub) != 0) return pp_fail("cannot remove %s: %s", sub, strerror(errno));
    return 0;
}

int pp_snapshot_commit(const char *dir, const pp_snapshot_mark *m, const char *stages)
{
    char path[PP_STAGE_PATH_MAX + 32], tmp[PP_STAGE_PATH_MAX + 48];
    snprintf(path, sizeof path, "%s/" PP_SNAPSHOT_FILE, dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return pp_fail("cannot create a temporary file next to %s: %s", path, strerror(errno));
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "# the last complete snapshot of this run: every stage saved at this step\n"
                     "# (parpi-train(1), FILES); --resume loads it\n"
                     "run %s\nstep %lld\nstages %s\n",
                     m->run, m->step, stages);
    int rc = 0;
    mode_t mask = umask(0);
    umask(mask);
    if (n >= (int)sizeof text || fchmod(fd, 0666 & ~mask) != 0 || write(fd, text, (size_t)n) != n || fsync(fd) != 0)
        rc = pp_fail("cannot write %s: %s", tmp, n >= (int)sizeof text ? "too long" : strerror(errno));
    if (close(fd) != 0 && rc == 0) rc = pp_fail("cannot write %s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0) rc = pp_fail("cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    if (sync_dir(dir) != 0) return -1;
    /* latest -> <step>, for people and tools (ckpt/KIND.ckpt are links through
     * it); resume reads the record above, so a failure here is only said */
    char link[PP_STAGE_PATH_MAX + 32], target[32];
    snprintf(link, sizeof link, "%s/latest.tmp.%ld", dir, (long)getpid());
    snprintf(target, sizeof target, "%lld", m->step);
    snprintf(path, sizeof path, "%s/latest", dir);
    unlink(link);
    if (symlink(target, link) != 0 || rename(link, path) != 0) {
        fprintf(stderr, "%s: warning: cannot point %s at %s: %s\n", pp_progname(), path, target, strerror(errno));
        unlink(link);
    }
    /* the snapshots before this one are no longer needed */
    DIR *d = opendir(dir);
    if (!d) return pp_fail("cannot read %s: %s", dir, strerror(errno));
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        long long st = pp_snapshot_folder_step(de->d_name);
        if (st >= 0 && st < m->step) rc = pp_snapshot_remove_folder(dir, de->d_name);
    }
    closedir(d);
    return rc;
}

int pp_snapshot_read(const char *dir, pp_snapshot_mark *m, char *stages, size_t cap)
{
    char path[PP_STAGE_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/" PP_SNAPSHOT_FILE, dir);
    memset(m, 0, sizeof *m);
    m->step = -1;
    if (cap) stages[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (errno == ENOENT) return 0;
        return pp_fail("cannot read %s: %s", path, strerror(errno));
    }
    char line[1024];
    int have_run = 0, have_step = 0, have_stages = 0, lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *sp = strchr(line, ' ');
        if (!sp) {
            rc = pp_fail("%s:%d: '%s', expected 'run ID', 'step N' or 'stages K1,K2,...'", path, lineno, line);
            break;
        }
        *sp = '\0';
        const char *v = sp + 1;
        if (strcmp(line, "run") == 0 && strlen(v) < sizeof m->run) {
            snprintf(m->run, sizeof m->run, "%s", v);
            have_run = 1;
        } else if (strcmp(line, "step") == 0 && pp_snapshot_folder_step(v) >= 0) {
            m->step = pp_snapshot_folder_step(v);
            have_step = 1;
        } else if (strcmp(line, "stages") == 0 && strlen(v) < cap) {
            snprintf(stages, cap, "%s", v);
            have_stages = 1;
        } else rc = pp_fail("%s:%d: '%s %s' is not a run id, a step or a list of stages", path, lineno, line, v);
    }
    fclose(fp);
    if (rc == 0 && !(have_run && have_step && have_stages))
        rc = pp_fail("%s: incomplete (it needs a run, a step and the stages)", path);
    return rc == 0 ? 1 : -1;
}

/* ---- the filter loop ---- */

static int stopped(const pp_run_opts *o) { return o->stop && *o->stop; }

static long long frame_step(pp_frame *f)
{
    int64_t v;
    if (!pp_frame_get(f, "step") || pp_frame_get_i64(f, "step", &v) != 0 || v < 0) return -1;
    return v;
}

/* The mark and the stages of a snapshot frame. */
static int frame_mark(pp_frame *f, pp_snapshot_mark *m, char *stages, size_t cap)
{
    const char *list;
    size_t n;
    if (pp_checkpoint_mark(f, m) != 0 || pp_frame_get_str(f, "snapshot.stages", &list, &n) != 0)
        return pp_fail_prefix("a snapshot frame: ");
    if (n >= cap) return pp_fail("a snapshot frame: snapshot.stages is longer than %zu bytes", cap - 1);
    memcpy(stages, list, n);
    stages[n] = '\0';
    return 0;
}

#define MAX_PENDING 8

/* The state of the stage that starts the snapshots. */
typedef struct {
    long long last_step;   /* the step of the last frame it wrote */
    long long last_marked; /* the step of its last snapshot started */
    long long committed;   /* the step of the last complete snapshot (-1: none) */
    long long pending[MAX_PENDING];
    int npending;          /* snapshots going round, oldest first */
} origin_state;

/* Start snapshot `step`: save this stage, then the snapshot frame behind
 * the frame of that step. */
static int start_snapshot(pp_stage *s, pp_writer *w, const pp_run_opts *o, origin_state *st, long long step)
{
    if (st->npending == MAX_PENDING) return pp_fail("%d snapshots going round at once", MAX_PENDING);
    pp_snapshot_mark m = {.step = step};
    snprintf(m.run, sizeof m.run, "%s", o->run_id ? o->run_id : "");
    if (pp_stage_snapshot_save(s, o->snapshots, &m) != 0) return -1;
    pp_frame *g = pp_frame_new();
    int rc = pp_frame_set_str(g, "snapshot.run", m.run) | pp_frame_set_i64(g, "snapshot.step", step) |
             pp_frame_set_str(g, "snapshot.stages", s->ops->kind);
    if (rc == 0) rc = pp_writer_put(w, g);
    pp_frame_free(g);
    if (rc != 0) return -1;
    st->pending[st->npending++] = step;
    st->last_marked = step;
    return 0;
}

/* A snapshot frame came back round to the stage that started it: every
 * stage has saved that step. */
static int snapshot_back(const pp_run_opts *o, origin_state *st, pp_frame *f)
{
    pp_snapshot_mark m;
    char stages[512];
    if (frame_mark(f, &m, stages, sizeof stages) != 0) return -1;
    if (st->npending == 0 || m.step != st->pending[0] || strcmp(m.run, o->run_id ? o->run_id : "") != 0)
        return pp_fail("a snapshot frame of step %lld (run '%s') came round, but the snapshot going round is %s%lld",
                       m.step, m.run, st->npending ? "step " : "none ", st->npending ? st->pending[0] : 0LL);
    memmove(st->pending, st->pending + 1, (size_t)(st->npending - 1) * sizeof *st->pending);
    st->npending--;
    if (pp_snapshot_commit(o->snapshots, &m, stages) != 0) return pp_fail_prefix("snapshot %lld: ", m.step);
    st->committed = m.step;
    return 0;
}

/* Another stage's view of a snapshot frame: save at its step, add this
 * stage to its list, pass it on (without snapshots: pass it on as it is). */
static int pass_snapshot(pp_stage *s, pp_writer *w, const pp_run_opts *o, pp_frame *f)
{
    if (o->snapshots && o->snapshots[0]) {
        pp_snapshot_mark m;
        char stages[512];
        if (frame_mark(f, &m, stages, sizeof stages) != 0 || pp_stage_snapshot_save(s, o->snapshots, &m) != 0)
            return -1;
        size_t n = strlen(stages);
        if (n + strlen(s->ops->kind) + 2 > sizeof stages) return pp_fail("a snapshot frame: too many stages");
        snprintf(stages + n, sizeof stages - n, "%s%s", n ? "," : "", s->ops->kind);
        if (pp_frame_set_str(f, "snapshot.stages", stages) != 0) return -1;
    }
    return pp_writer_put(w, f);
}

/* The first stage ends the ring: the frame of st->last_step went round, so
 * every stage holds that step; wait for the snapshots going round, take one
 * at that step if it has none, and wait for that too. */
static int finish_ring(pp_stage *s, pp_reader *r, pp_writer *w, const pp_run_opts *o, origin_state *st, pp_frame *f)
{
    for (int pass = 0; pass < 2; pass++) {
        while (st->npending > 0) {
            pp_frame_clear(f);
            int got = pp_reader_next(r, f);
            if (got < 0) return -1;
            if (got == 0)
                return pp_fail("end of file before snapshot %lld came back round (the last complete snapshot "
                               "stays)",
                               st->pending[0]);
            if (!pp_frame_get(f, "snapshot")) return pp_fail("a frame came round while the ring was ending");
            if (snapshot_back(o, st, f) != 0) return -1;
        }
        if (pass == 0 && st->committed != st->last_step && start_snapshot(s, w, o, st, st->last_step) != 0)
            return -1;
    }
    return 0;
}

/* The loop proper: 0 at the end, -1 at the first failure. */
static int filter(pp_stage *s, pp_reader *r, pp_writer *w, const pp_run_opts *o, pp_frame *f)
{
    const int saving = o->checkpoint && o->checkpoint[0];
    const int snapshots = o->snapshots && o->snapshots[0];
    const int origin = snapshots && o->snapshot_origin;
    origin_state st = {.committed = o->resumed.step};
    st.last_step = st.last_marked = o->resumed.step >= 0 ? o->resumed.step : 0;
    /* a frame written before any input is read (parpi-policy --prime) */
    int primed = pp_stage_prime(s, f, &o->resumed);
    if (primed < 0 || (primed > 0 && pp_writer_put(w, f) != 0)) return -1;
    pp_frame_clear(f);
    long long frames = 0;
    double t0 = pp_now(), last_report = t0;
    int rc = 0, ending = 0;
    for (;;) {
        if (stopped(o)) {
            if (!snapshots) break;
            /* the first stage of a ring ends it with a snapshot; the others
             * go on to its end */
            if (origin) ending = 1;
        }
        uint64_t offset = pp_reader_offset(r);
        int got = pp_reader_next(r, f);
        if (got == 0) {
            if (origin && st.npending)
                rc = pp_fail("end of file before snapshot %lld came back round (the last complete snapshot stays)",
                             st.pending[0]);
            break;
        }
        if (got < 0) {
            rc = -1;
            break;
        }
        if (pp_frame_get(f, "snapshot")) {
            if ((origin ? snapshot_back(o, &st, f) : pass_snapshot(s, w, o, f)) != 0) {
                rc = pp_fail_prefix("frame %lld (byte %llu): ", frames, (unsigned long long)offset);
                break;
            }
            continue;
        }
        if (ending) { /* the frame went round: end with a snapshot of it */
            rc = finish_ring(s, r, w, o, &st, f);
            break;
        }
        int stepped = pp_stage_step(s, f, o->drop);
        if (stepped < 0) {
            rc = pp_fail_prefix("frame %lld (byte %llu): ", frames, (unsigned long long)offset);
            break;
        }
        if (stepped > 0) { /* the stage ended the stream; this frame is not written */
            if (origin) rc = finish_ring(s, r, w, o, &st, f);
            break;
        }
        if (pp_writer_put(w, f) != 0) {
            rc = -1;
            break;
        }
        frames++;
        if (saving && o->save_every > 0 && frames % o->save_every == 0 &&
            pp_stage_save(s, o->checkpoint) != 0) {
            rc = -1;
            break;
        }
        if (origin) {
            long long step = frame_step(f);
            if (step >= 0) {
                st.last_step = step;
                if (pp_snapshot_due(st.last_marked, step, o->snapshot_every) &&
                    start_snapshot(s, w, o, &st, step) != 0) {
                    rc = -1;
                    break;
                }
            }
        }
        double now = pp_now();
        if (o->progress && now - last_report >= 1.0) {
            fprintf(stderr, "\r%s: %lld frames, %.1f frames/s   ", pp_progname(), frames,
                    (double)frames / (now - t0));
            last_report = now;
        }
    }
    if (o->progress && frames > 0) fputc('\n', stderr);
    return rc;
}

int pp_stage_run(pp_stage *s, pp_reader *r, pp_writer *w, const pp_run_opts *o)
{
    /* Before any work: a torn save's temporaries go, and a test write finds
     * a read-only, missing or full destination now, not at the end. */
    if (o->checkpoint && o->checkpoint[0] && pp_frame_prepare_save(o->checkpoint) != 0)
        return pp_fail_prefix("--checkpoint: ");
    pp_frame *f = pp_frame_new();
    int rc = filter(s, r, w, o, f);
    pp_frame_free(f);
    if (rc == 0) rc = pp_stage_finish(s);
    if (!(o->checkpoint && o->checkpoint[0])) return rc;
    /* Steps leave the state as it was when they fail: the last good state is
     * always safe to save, even after an error. */
    char first[1024] = "";
    if (rc != 0) snprintf(first, sizeof first, "%s", pp_error());
    if (pp_stage_save(s, o->checkpoint) != 0) {
        if (rc != 0) {
            char second[1024];
            snprintf(second, sizeof second, "%s", pp_error());
            pp_fail("%s; and %s", first, second);
        }
        return -1;
    }
    if (rc != 0) pp_fail("%s", first); /* the first failure's message, as it was */
    return rc;
}
