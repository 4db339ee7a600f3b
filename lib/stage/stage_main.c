/* stage_main.c - the program around one stage: options, the filter loop over
 * frames, checkpoints, signals. Every cmd/parpi-<stage>.c is one call here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame.h"
#include "nn/mlp.h"
#include "stage/stage.h"
#include "nn/blas.h"
#include "base/clock.h"

typedef struct {
    int threads;
    const char *checkpoint, *resume, *in, *out;
    long save_every;
    size_t max_frame;
    int progress;
    const char *drop; /* "q,disc": fields removed before writing */
} common_opts;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(const pp_stage_ops *ops, const char *kind, FILE *out)
{
    fprintf(out,
            "Usage: parpi-%s [OPTIONS] <frames >frames\n"
            "%s\n\n"
            "Filter mode reads a stream of frames on stdin (or --in FILE) and writes them,\n"
            "updated, on stdout (or --out FILE); fields it does not own pass through untouched.\n\n"
            "Common options:\n"
            "  --checkpoint PATH   save the stage here (atomically) at the end, on SIGINT/SIGTERM\n"
            "                      and every --save-every frames\n"
            "  --save-every N      frames between checkpoints (default 0: only at the end)\n"
            "  --resume PATH       load this checkpoint first (kind must be %s)\n"
            "  --in FILE           read frames from FILE instead of stdin\n"
            "  --out FILE          write frames to FILE instead of stdout\n"
            "  --threads N         BLAS threads (default 1)\n"
            "  --max-frame BYTES   refuse frames larger than this (default 1 GiB)\n"
            "  --drop F1,F2,...    remove these fields from each frame before writing it (a ring's\n"
            "                      last consumer of q, disc, particles, batch: less to pipe)\n"
            "  --progress          frames/s on stderr every second (default when stderr is a tty)\n"
            "  -h, --help          this text;  --version  the version\n\n"
            "Options of the %s stage:\n%s",
            kind, ops->summary, kind, kind, ops->options_help ? ops->options_help : "");
    if (!ops->options_help && ops->options) pp_opt_help(ops->options, out);
}

/* Common options take a value unless listed in no_value. */
static int take_common(const char *name, const char *value, common_opts *c)
{
    char *end = NULL;
    if (strcmp(name, "checkpoint") == 0) c->checkpoint = value;
    else if (strcmp(name, "resume") == 0) c->resume = value;
    else if (strcmp(name, "in") == 0) c->in = value;
    else if (strcmp(name, "out") == 0) c->out = value;
    else if (strcmp(name, "save-every") == 0) {
        c->save_every = strtol(value, &end, 10);
        if (*end || c->save_every < 0) return pp_fail("--save-every takes a count >= 0, got '%s'", value);
    } else if (strcmp(name, "threads") == 0) {
        c->threads = (int)strtol(value, &end, 10);
        if (*end || c->threads < 1 || c->threads > 256)
            return pp_fail("--threads takes a count from 1 to 256, got '%s'", value);
    } else if (strcmp(name, "drop") == 0) {
        if (!*value) return pp_fail("--drop takes field paths separated by commas");
        c->drop = value;
    } else if (strcmp(name, "max-frame") == 0) {
        unsigned long long v = strtoull(value, &end, 10);
        if (*end || v < 1024) return pp_fail("--max-frame takes a byte count >= 1024, got '%s'", value);
        c->max_frame = (size_t)v;
    } else return 1; /* not common */
    return 0;
}

static const char *const common_with_value[] = {"checkpoint", "resume", "in", "out", "save-every",
                                                "threads", "max-frame", "drop", NULL};

static int is_common_with_value(const char *name)
{
    for (int i = 0; common_with_value[i]; i++)
        if (strcmp(name, common_with_value[i]) == 0) return 1;
    return 0;
}

static int save_checkpoint(pp_stage *s, const char *kind, const char *path)
{
    pp_frame *ck = pp_frame_new();
    int rc = s->ops->save(s, ck);
    if (rc == 0) rc = pp_checkpoint_save(ck, kind, path);
    pp_frame_free(ck);
    if (rc != 0) pp_fail_prefix("saving checkpoint %s: ", path);
    return rc;
}

int pp_stage_main(const char *kind, int argc, char **argv)
{
    pp_set_progname(argv[0]);
    signal(SIGPIPE, SIG_IGN);
    const pp_stage_ops *ops = pp_stage_lookup(kind);
    if (!ops) pp_die(PP_EXIT_FAILURE, "stage '%s' is not built into this libparpi", kind);

    common_opts c = {.threads = 1, .max_frame = PP_DEFAULT_MAX_FRAME};
    c.progress = isatty(STDERR_FILENO);
    char **stage_argv = pp_xcalloc((size_t)argc + 1, sizeof *stage_argv);
    int stage_argc = 0;
    stage_argv[stage_argc++] = argv[0];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(ops, kind, stdout);
            free(stage_argv);
            return PP_EXIT_OK;
        }
        if (strcmp(a, "--version") == 0) {
            printf("parpi-%s %s\n", kind, PARPI_VERSION);
            free(stage_argv);
            return PP_EXIT_OK;
        }
        if (strcmp(a, "--progress") == 0) { c.progress = 1; continue; }
        if (strcmp(a, "--no-progress") == 0) { c.progress = 0; continue; }
        if (strcmp(a, "--") == 0) { /* the rest is the stage's */
            while (++i < argc) stage_argv[stage_argc++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) == 0) {
            char name[64];
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            if (n < sizeof name) {
                memcpy(name, a + 2, n);
                name[n] = '\0';
                if (is_common_with_value(name)) {
                    const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
                    if (!value) pp_die(PP_EXIT_USAGE, "option --%s needs a value (see --help)", name);
                    if (take_common(name, value, &c) != 0) pp_die_error(PP_EXIT_USAGE);
                    continue;
                }
            }
        }
        stage_argv[stage_argc++] = argv[i];
    }
    stage_argv[stage_argc] = NULL;

    pp_blas_set_threads(c.threads);

    pp_stage *s = NULL;
    if (ops->create(stage_argc, stage_argv, &s) != 0) {
        free(stage_argv);
        fprintf(stderr, "%s: %s\nTry 'parpi-%s --help'.\n", pp_progname(), pp_error(), kind);
        return PP_EXIT_USAGE;
    }
    free(stage_argv);

    if (c.resume) {
        pp_frame *ck = pp_frame_new();
        uint8_t *buf = NULL;
        int rc = pp_checkpoint_load(ck, c.resume, kind, &buf);
        if (rc == 0 && ops->load(s, ck) != 0) rc = pp_fail_prefix("resuming from %s: ", c.resume);
        pp_frame_free(ck);
        free(buf);
        if (rc != 0) {
            pp_stage_free(s);
            pp_die_error(PP_EXIT_FAILURE);
        }
    }

    int in_fd = STDIN_FILENO, out_fd = STDOUT_FILENO;
    pp_reader *r = NULL;
    if (c.in) r = pp_reader_open_path(c.in, c.max_frame);
    else r = pp_reader_open_fd(in_fd, "stdin", c.max_frame);
    if (!r) {
        pp_stage_free(s);
        pp_die_error(PP_EXIT_FAILURE);
    }
    if (c.out) {
        out_fd = open(c.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_fd < 0) {
            pp_stage_free(s);
            pp_die(PP_EXIT_FAILURE, "cannot write %s: %s", c.out, strerror(errno));
        }
    }
    pp_writer *w = pp_writer_open_fd(out_fd, c.out ? c.out : "stdout");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND | SA_RESTART; /* a second Ctrl-C kills at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    pp_frame *f = pp_frame_new();
    int status = PP_EXIT_OK;
    long frames = 0;
    if (ops->prime) { /* a frame written before any input is read (parpi-policy --prime) */
        int primed = ops->prime(s, f);
        if (primed < 0 || (primed > 0 && pp_writer_put(w, f) != 0)) {
            fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
            status = PP_EXIT_FAILURE;
        }
        pp_frame_clear(f);
    }
    double t0 = pp_now(), last_report = t0;
    while (status == PP_EXIT_OK) {
        if (stop_requested) break;
        uint64_t offset = pp_reader_offset(r);
        int got = pp_reader_next(r, f);
        if (got == 0) break;
        if (got < 0) {
            fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        double ts = pp_now();
        int stepped = ops->step(s, f);
        if (stepped < 0) {
            fprintf(stderr, "%s: frame %ld (byte %llu): %s\n", pp_progname(), frames,
                    (unsigned long long)offset, pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        if (stepped > 0) break; /* the stage ended the stream; this frame is not written */
        double te = pp_now();
        char key[96];
        snprintf(key, sizeof key, "metrics.%s.step_ms", kind);
        pp_frame_set_f64(f, key, (te - ts) * 1e3);
        if (c.drop && pp_frame_remove_list(f, c.drop) != 0) {
            fprintf(stderr, "%s: --drop: %s\n", pp_progname(), pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        if (pp_writer_put(w, f) != 0) {
            fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        frames++;
        if (c.checkpoint && c.save_every > 0 && frames % c.save_every == 0 &&
            save_checkpoint(s, kind, c.checkpoint) != 0) {
            fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        if (c.progress && te - last_report >= 1.0) {
            fprintf(stderr, "\r%s: %ld frames, %.1f frames/s   ", pp_progname(), frames,
                    frames / (te - t0));
            last_report = te;
        }
    }
    if (c.progress && frames > 0) fputc('\n', stderr);
    /* The state is the last good one even after a failed step (steps leave
     * state unchanged on error), so it is always safe to save. */
    if (c.checkpoint && save_checkpoint(s, kind, c.checkpoint) != 0) {
        fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
        status = PP_EXIT_FAILURE;
    }
    pp_frame_free(f);
    pp_writer_close(w);
    pp_reader_close(r);
    if (c.out) close(out_fd);
    pp_stage_free(s);
    if (stop_requested && status == PP_EXIT_OK) status = 128 + SIGINT;
    return status;
}
