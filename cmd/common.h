/* common.h - what the parpi programs share (cmd/common.c, linked into each).
 *
 * The prologue of every program:
 *
 *   pp_cmd_start(argv[0]);
 *   switch (pp_cmd_help_or_version(argc, argv)) {
 *   case PP_CMD_HELP: usage(stdout); return PP_EXIT_OK;
 *   case PP_CMD_VERSION: return pp_cmd_version("parpi-X");
 *   }
 *
 * A stage program (parpi-critic, ...) is one call, pp_stage_main("critic",
 * argc, argv). A program with two modes (parpi-collect, parpi-eval) starts
 * with pp_cmd_ring_mode, which runs the ring stage unless one of its
 * standalone options is given; its --help lists the common stage options
 * with pp_stage_common_help.
 */
#ifndef PP_CMD_COMMON_H
#define PP_CMD_COMMON_H

#include <signal.h>
#include <stdio.h>

/* The program's name in messages (the basename of argv0), and SIGPIPE
 * and SIGXFSZ ignored: a closed pipe is an EPIPE error the program reports
 * (or not: pp_cmd_stdout_closed), and a write past a file size limit
 * (ulimit -f) an EFBIG error it reports. */
void pp_cmd_start(const char *argv0);

/* -h, --help or --version among the options before "--" (the first one met). */
enum { PP_CMD_RUN, PP_CMD_HELP, PP_CMD_VERSION };
int pp_cmd_help_or_version(int argc, char **argv);
/* Print "NAME VERSION" on stdout; the exit status (1 if stdout failed). */
int pp_cmd_version(const char *name);
/* Flush stdout after --help or --dry-run output: the exit status (1 with a
 * message if the output could not be written). */
int pp_cmd_flush_stdout(void);

/* Programs of subcommands (parpi-dataset, parpi-model), whose table is an
 * array of n structs of `size` bytes, each starting with its name (const
 * char *). The prologue of main: --help (usage(stdout), or sub_usage of the
 * subcommand named first), --version, and then the subcommand argv[1] by
 * name. Returns its index, or -1 with *status the exit status to return
 * (help and version: 0 or 1; no or an unknown command: a usage error said,
 * with the nearest name). */
int pp_cmd_subcommand(int argc, char **argv, const char *prog, const void *table, int n, size_t size,
                      void (*usage)(FILE *out), void (*sub_usage)(int index, FILE *out), int *status);
/* A usage error of PROG [SUB]: "PROG: <pp_error()>" and "Try 'PROG [SUB ]--help'."
 * on stderr; returns PP_EXIT_USAGE. */
int pp_cmd_usage_error(const char *prog, const char *sub);

/* 1 if one of names (NULL-terminated, without dashes) is given before "--",
 * as --name or --name=VALUE. */
int pp_cmd_has_option(int argc, char **argv, const char *const *names);

/* A program with two modes: without any of the standalone options (as
 * pp_cmd_has_option), the ring stage of kind (pp_stage_main), after refusing
 * a terminal on stdin with the message why; returns its exit status. With
 * one of them: -1, and the program goes on standalone. */
int pp_cmd_ring_mode(const char *kind, int argc, char **argv, const char *const *standalone,
                     const char *why);

/* 0 if fd is not a terminal; else print "PROG: <why>" and return -1 (the
 * caller exits PP_EXIT_USAGE). For frames, which a terminal cannot show or
 * type. */
int pp_cmd_refuse_tty(int fd, const char *why);

/* After a failure: 1 if pp_error() is stdout's "the reader has gone" and
 * stdout is a pipe that nobody reads any more (`parpi-cat FILE | head`):
 * the program may stop quietly, with status 0, as Unix filters do. A stage
 * does so only when its frames come from a file (--in, or stdin redirected
 * from one): one that reads a pipe may be in a ring, where a closed pipe is
 * a broken ring and stays an error (exit 1, "the reader has gone"). */
int pp_cmd_stdout_closed(void);

/* Stop on SIGINT and SIGTERM (and SIGHUP with PP_STOP_HUP): the handler only
 * records the signal in pp_stop_signal; the program finishes what it is doing
 * (the frame, the checkpoint) and exits pp_stop_status(). With
 * PP_STOP_SECOND_KILLS a second signal kills at once (a stage program: a
 * second Ctrl-C); without, further signals are ignored while stopping (the
 * driver, which waits for its stages to save). */
enum { PP_STOP_HUP = 1, PP_STOP_SECOND_KILLS = 2 };
void pp_stop_on_signals(unsigned flags);
extern volatile sig_atomic_t pp_stop_signal; /* the signal received; 0: none */
/* 128 + the signal (130 for SIGINT, 143 for SIGTERM); 0 if none came. */
int pp_stop_status(void);

/* The common stage options (--checkpoint, --save-every, ...) as --help
 * lists them, under the heading given. */
void pp_stage_common_help(const char *heading, FILE *out);

/* The whole program of a stage kind: the common options (stage/stage_run.h)
 * and the stage's own (after them, or after "--"), --help and --version,
 * the stage created and resumed, the filter loop (pp_stage_run) from stdin or
 * --in to stdout or --out, checkpoints at the end, every --save-every frames
 * and on SIGINT/SIGTERM. The exit status: 0, 1 (failure), 2 (usage), 130 or
 * 143 (stopped by SIGINT or SIGTERM, checkpoint saved). */
int pp_stage_main(const char *kind, int argc, char **argv);

#endif
