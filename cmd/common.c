/* common.c - what the parpi programs share (common.h): the prologue, signals,
 * and the program of a stage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/optarg.h"
#include "frame/frame.h"
#include "nn/blas.h"
#include "stage/stage.h"
#include "stage/stage_run.h"

#include "common.h"

/* ---- the prologue ---- */

void pp_cmd_start(const char *argv0)
{
    pp_set_progname(argv0);
    signal(SIGPIPE, SIG_IGN);
    /* Past a file size limit (ulimit -f) a write fails with EFBIG, which the
     * writer reports with the file's name, instead of killing the program. */
    signal(SIGXFSZ, SIG_IGN);
}

int pp_cmd_help_or_version(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return PP_CMD_HELP;
        if (strcmp(argv[i], "--version") == 0) return PP_CMD_VERSION;
    }
    return PP_CMD_RUN;
}

int pp_cmd_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing stdout: %s\n", pp_progname(), strerror(errno));
        return PP_EXIT_FAILURE;
    }
    return PP_EXIT_OK;
}

int pp_cmd_version(const char *name)
{
    printf("%s %s\n", name, PARPI_VERSION);
    return pp_cmd_flush_stdout();
}

int pp_cmd_has_option(int argc, char **argv, const char *const *names)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) break;
        if (strncmp(a, "--", 2) != 0) continue;
        size_t n = strcspn(a + 2, "=");
        for (int k = 0; names[k]; k++)
            if (strlen(names[k]) == n && strncmp(a + 2, names[k], n) == 0) return 1;
    }
    return 0;
}

int pp_cmd_refuse_tty(int fd, const char *why)
{
    if (!isatty(fd)) return 0;
    fprintf(stderr, "%s: %s\n", pp_progname(), why);
    return -1;
}

int pp_cmd_ring_mode(const char *kind, int argc, char **argv, const char *const *standalone,
                     const char *why)
{
    if (pp_cmd_has_option(argc, argv, standalone)) return -1;
    if (pp_cmd_refuse_tty(STDIN_FILENO, why) != 0) return PP_EXIT_USAGE;
    return pp_stage_main(kind, argc, argv);
}

/* ---- a closed pipe on stdout ---- */

int pp_cmd_stdout_closed(void)
{
    static const char msg[] = "stdout: write error: the reader has gone";
    if (strncmp(pp_error(), msg, sizeof msg - 1) != 0 || strstr(pp_error(), "; and ")) return 0;
    /* a pipe whose every reader has gone polls as an error */
    struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* Frames come from a pipe, a FIFO or a socket (a ring or a chain), not a file. */
static int input_is_pipe(const pp_stage_common *c)
{
    struct stat st;
    int rc = c->in[0] ? stat(c->in, &st) : fstat(STDIN_FILENO, &st);
    return rc == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* ---- signals ---- */

volatile sig_atomic_t pp_stop_signal;

static void on_stop_signal(int sig) { pp_stop_signal = sig; }

void pp_stop_on_signals(unsigned flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART: a read or write the signal interrupts goes on; the loop
     * looks at pp_stop_signal between frames. */
    sa.sa_flags = SA_RESTART | ((flags & PP_STOP_SECOND_KILLS) ? SA_RESETHAND : 0);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (flags & PP_STOP_HUP) sigaction(SIGHUP, &sa, NULL);
}

int pp_stop_status(void) { return pp_stop_signal ? 128 + pp_stop_signal : 0; }

/* ---- the program of a stage ---- */

void pp_stage_common_help(const char *heading, FILE *out)
{
    fprintf(out, "%s\n", heading);
    pp_opt_help(pp_stage_common_options, out);
    fprintf(out, "%-25s%s\n", "  -h, --help", "this text;  --version  the version");
}

static void stage_usage(const pp_stage_ops *ops, FILE *out)
{
    fprintf(out,
            "Usage: parpi-%s [OPTIONS] <frames >frames\n"
            "%s\n\n"
            "Filter mode reads a stream of frames on stdin (or --in FILE) and writes them,\n"
            "updated, on stdout (or --out FILE); fields it does not own pass through untouched.\n\n",
            ops->kind, ops->summary);
    pp_stage_common_help("Common options:", out);
    fprintf(out, "\nOptions of the %s stage (also after --):\n", ops->kind);
    if (ops->options) pp_opt_help(ops->options, out);
}

/* The common options before "--" go to common (with argv[0]), everything
 * else to own (with argv[0]); after "--" everything is the stage's. A common
 * option's value is the next word unless given as --name=VALUE. */
static void split_args(int argc, char **argv, char **common, int *nc, char **own, int *no)
{
    *nc = *no = 0;
    common[(*nc)++] = argv[0];
    own[(*no)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc) own[(*no)++] = argv[i];
            break;
        }
        const pp_opt *row = NULL;
        if (strncmp(a, "--", 2) == 0) {
            char name[64];
            size_t n = strcspn(a + 2, "=");
            if (n < sizeof name) {
                memcpy(name, a + 2, n);
                name[n] = '\0';
                row = pp_opt_find(pp_stage_common_options, name);
            }
        }
        if (!row) {
            own[(*no)++] = argv[i];
            continue;
        }
        common[(*nc)++] = argv[i];
        if (!strchr(a, '=') && row->type != PP_OPT_T_FLAG && i + 1 < argc) common[(*nc)++] = argv[++i];
    }
    common[*nc] = own[*no] = NULL;
}

static int usage_error(const char *kind)
{
    fprintf(stderr, "%s: %s\nTry 'parpi-%s --help'.\n", pp_progname(), pp_error(), kind);
    return PP_EXIT_USAGE;
}

/* Where the frames come from and go: 0, or -1 with the message. */
static int open_streams(const pp_stage_common *c, pp_reader **r, pp_writer **w, int *out_fd)
{
    *r = c->in[0] ? pp_reader_open_path(c->in, (size_t)c->max_frame)
                  : pp_reader_open_fd(STDIN_FILENO, "stdin", (size_t)c->max_frame);
    if (!*r) return -1;
    *out_fd = STDOUT_FILENO;
    if (c->out[0]) {
        *out_fd = open(c->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (*out_fd < 0) {
            pp_reader_close(*r);
            return pp_fail("cannot write %s: %s", c->out, strerror(errno));
        }
    }
    *w = pp_writer_open_fd(*out_fd, c->out[0] ? c->out : "stdout");
    return 0;
}

int pp_stage_main(const char *kind, int argc, char **argv)
{
    pp_cmd_start(argv[0]);
    const pp_stage_ops *ops = pp_stage_lookup(kind);
    if (!ops) pp_die(PP_EXIT_FAILURE, "unknown stage kind '%s'", kind);
    switch (pp_cmd_help_or_version(argc, argv)) {
    case PP_CMD_HELP: stage_usage(ops, stdout); return pp_cmd_flush_stdout();
    case PP_CMD_VERSION: {
        char name[64];
        snprintf(name, sizeof name, "parpi-%s", kind);
        return pp_cmd_version(name);
    }
    }

    char **common_argv = pp_xcalloc((size_t)argc + 1, sizeof *common_argv);
    char **own_argv = pp_xcalloc((size_t)argc + 1, sizeof *own_argv);
    int nc, no;
    split_args(argc, argv, common_argv, &nc, own_argv, &no);
    pp_stage_common c;
    int rc = pp_stage_common_init(&c);
    if (rc == 0) rc = pp_stage_common_parse(&c, nc, common_argv);
    pp_stage *s = NULL;
    if (rc == 0) rc = ops->create(no, own_argv, &s);
    free(common_argv);
    free(own_argv);
    if (rc != 0) return usage_error(kind);
    if (!c.out[0] && pp_cmd_refuse_tty(STDOUT_FILENO, "stdout is a terminal: give --out FILE, or pipe the "
                                                      "frames on (e.g. into parpi-cat)") != 0) {
        pp_stage_free(s);
        return PP_EXIT_USAGE;
    }
    pp_blas_set_threads(c.threads);
    if (pp_stage_common_gemm(&c) != 0) {
        pp_stage_free(s);
        return usage_error(kind);
    }
    pp_stage_common_warn_bf16(&c);

    pp_reader *r = NULL;
    pp_writer *w = NULL;
    int out_fd = -1;
    pp_run_opts run = {.checkpoint = c.checkpoint,
                       .save_every = c.save_every,
                       .drop = c.drop,
                       .progress = pp_stage_common_progress(&c),
                       .stop = &pp_stop_signal,
                       .snapshots = c.snapshots,
                       .snapshot_origin = pp_stage_common_given(&c, "snapshot-every"),
                       .snapshot_every = c.snapshot_every,
                       .run_id = c.run_id,
                       .resumed = {.step = -1}};
    if ((c.resume[0] && pp_stage_resume_mark(s, c.resume, &run.resumed) != 0) ||
        open_streams(&c, &r, &w, &out_fd) != 0) {
        pp_stage_free(s);
        pp_die_error(PP_EXIT_FAILURE);
    }
    pp_stop_on_signals(PP_STOP_SECOND_KILLS);
    int status = PP_EXIT_OK;
    /* A reader that stopped reading (| head) ends a stage that reads a file
     * quietly, its checkpoint saved. A stage that reads a pipe may be in a
     * ring, where a closed pipe means the ring broke: that stays an error. */
    if (pp_stage_run(s, r, w, &run) != 0 && !(pp_cmd_stdout_closed() && !input_is_pipe(&c))) {
        fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
        status = PP_EXIT_FAILURE;
    }
    pp_writer_close(w);
    pp_reader_close(r);
    if (c.out[0]) close(out_fd);
    pp_stage_free(s);
    if (status == PP_EXIT_OK && pp_stop_signal) status = pp_stop_status();
    return status;
}

/* ---- programs of subcommands ---- */

static const char *sub_name(const void *table, size_t size, int i)
{
    return *(const char *const *)((const char *)table + (size_t)i * size);
}

int pp_cmd_usage_error(const char *prog, const char *sub)
{
    fprintf(stderr, "%s: %s\nTry '%s %s%s--help'.\n", pp_progname(), pp_error(), prog, sub ? sub : "",
            sub ? " " : "");
    return PP_EXIT_USAGE;
}

int pp_cmd_subcommand(int argc, char **argv, const char *prog, const void *table, int n, size_t size,
                      void (*usage)(FILE *out), void (*sub_usage)(int index, FILE *out), int *status)
{
    int index = -1;
    for (int i = 0; argc > 1 && i < n; i++)
        if (strcmp(sub_name(table, size, i), argv[1]) == 0) index = i;
    switch (pp_cmd_help_or_version(argc, argv)) {
    case PP_CMD_HELP:
        if (index >= 0) sub_usage(index, stdout);
        else usage(stdout);
        *status = pp_cmd_flush_stdout();
        return -1;
    case PP_CMD_VERSION: *status = pp_cmd_version(prog); return -1;
    }
    if (index >= 0) return index;
    if (argc < 2) {
        char list[256] = "";
        for (int i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", sub_name(table, size, i));
        pp_fail("no command: expected one of %s", list);
    } else {
        const char *near = NULL;
        for (int i = 0; i < n; i++)
            if (pp_edit_distance(argv[1], sub_name(table, size, i), 1) <= 2) near = sub_name(table, size, i);
        pp_fail("unknown command '%s'%s%s%s", argv[1], near ? " (did you mean " : "", near ? near : "",
                near ? "?)" : "");
    }
    *status = pp_cmd_usage_error(prog, NULL);
    return -1;
}
