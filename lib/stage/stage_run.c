/* stage_run.c - the one runner of stages (stage_run.h): resume, step with
 * its timing and --drop, save, and the filter loop; and the table of the
 * options every stage program takes besides its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "frame/frame.h"
#include "stage/stage.h"
#include "stage/stage_run.h"

/* ---- the common options ---- */

#define PATH_ROW(n, f, arg, help) \
    PP_OPT_ROW(n, PP_OPT_T_STRING, pp_stage_common, f, 0, PP_STAGE_PATH_MAX, NULL, NULL, arg, help, NULL, PP_OPT_NOSAVE)

const pp_opt pp_stage_common_options[] = {
    PATH_ROW("checkpoint", checkpoint, "PATH",
             "save the stage here (atomically) at the end and on a signal"),
    PP_OPT_COUNT("save-every", pp_stage_common, save_every, 0, 1e15, "0",
                 "also every N frames (0: only at the end)", PP_OPT_NOSAVE),
    PATH_ROW("resume", resume, "PATH", "load this checkpoint first (of this stage's kind)"),
    PATH_ROW("in", in, "FILE", "read frames from FILE instead of stdin"),
    PATH_ROW("out", out, "FILE", "write frames to FILE instead of stdout"),
    PP_OPT_INT("threads", pp_stage_common, threads, 1, 256, "1", "BLAS threads", PP_OPT_NOSAVE),
    PP_OPT_ROW("max-frame", PP_OPT_T_COUNT, pp_stage_common, max_frame, 1024, 1e12, "1073741824", NULL,
               "BYTES", "refuse larger frames", NULL, PP_OPT_NOSAVE),
    PP_OPT_ROW("drop", PP_OPT_T_STRING, pp_stage_common, drop, 0, sizeof(((pp_stage_common *)0)->drop),
               NULL, NULL, "F1,F2,..",
               "remove these fields before writing each frame",
               NULL, PP_OPT_NOSAVE),
    PP_OPT_FLAG("progress", pp_stage_common, progress,
                "frames/s on stderr (default: if it is a terminal and stdout is not a pipe)", PP_OPT_NOSAVE),
    PP_OPT_FLAG("no-progress", pp_stage_common, no_progress, "no progress line", PP_OPT_NOSAVE),
    PP_OPT_END,
};

static int row_index(const char *name)
{
    for (int i = 0; pp_stage_common_options[i].name; i++)
        if (strcmp(pp_stage_common_options[i].name, name) == 0) return i;
    return -1;
}

int pp_stage_common_init(pp_stage_common *c)
{
    memset(c, 0, sizeof *c);
    return pp_opt_defaults(pp_stage_common_options, c);
}

/* --drop "" would drop nothing and is surely a mistake. */
static int check(const pp_stage_common *c)
{
    int d = row_index("drop");
    if ((c->given >> d & 1) && !c->drop[0]) return pp_fail("--drop: '', expected field paths separated by commas");
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

int pp_stage_resume(pp_stage *s, const char *path)
{
    pp_frame *ck = pp_frame_new();
    uint8_t *buf = NULL;
    int rc = pp_checkpoint_load(ck, path, s->ops->kind, &buf);
    if (rc == 0 && s->ops->load(s, ck) != 0) rc = pp_fail_prefix("resuming from %s: ", path);
    pp_frame_free(ck);
    free(buf);
    return rc;
}

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

static int stopped(const pp_run_opts *o) { return o->stop && *o->stop; }

/* The loop proper: 0 at the end, -1 at the first failure. */
static int filter(pp_stage *s, pp_reader *r, pp_writer *w, const pp_run_opts *o, pp_frame *f)
{
    const int saving = o->checkpoint && o->checkpoint[0];
    if (s->ops->prime) { /* a frame written before any input is read (parpi-policy --prime) */
        int primed = s->ops->prime(s, f);
        if (primed < 0 || (primed > 0 && pp_writer_put(w, f) != 0)) return -1;
        pp_frame_clear(f);
    }
    long long frames = 0;
    double t0 = pp_now(), last_report = t0;
    int rc = 0;
    while (!stopped(o)) {
        uint64_t offset = pp_reader_offset(r);
        int got = pp_reader_next(r, f);
        if (got == 0) break;
        if (got < 0) {
            rc = -1;
            break;
        }
        int stepped = pp_stage_step(s, f, o->drop);
        if (stepped < 0) {
            rc = pp_fail_prefix("frame %lld (byte %llu): ", frames, (unsigned long long)offset);
            break;
        }
        if (stepped > 0) break; /* the stage ended the stream; this frame is not written */
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
