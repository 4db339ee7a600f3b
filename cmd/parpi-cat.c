/* parpi-cat - show parpi files and streams (frames, checkpoints, datasets) as
 * a readable summary, JSON, CSV or a list of field paths. Read-only. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "data/replay.h"
#include "frame/frame.h"

enum { MODE_SUMMARY, MODE_JSON, MODE_CSV, MODE_FIELDS };

typedef struct {
    int mode, json_flags;
    bool header, header_done;
    long long frame; /* -1: every frame (or the last with want_last) */
    bool want_last;
    const char *fields[64];
    int nfields;
    size_t max_frame;
    long long index;  /* frames seen so far over all inputs */
    int printed;
    long long csv_skipped;    /* --csv over a stream: frames without every field */
    const char *csv_missing;  /* the first field such a frame lacked */
} opts;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: parpi-cat [OPTION]... [FILE]...\n"
            "Show the frames of parpi files or streams (FILE '-' or none: stdin).\n"
            "\n"
            "  -j, --json             one JSON object per frame, one per line\n"
            "      --tensor-object    with --json: tensors as {\"dtype\",\"shape\",\"data\"} (flat)\n"
            "                         instead of nested arrays\n"
            "  -c, --csv FIELD[,FIELD...]  those fields as CSV: a 2-D tensor gives rows and\n"
            "                         columns, a 1-D tensor one column, a number one row per frame;\n"
            "                         frames without every field are skipped\n"
            "      --no-header        with --csv: no line of column names\n"
            "  -n, --frame N          only frame N (from 0, counted over all inputs; -1: the last,\n"
            "                         the last complete one of a file still being written)\n"
            "  -f, --fields           list the field paths (of frame N, default the first)\n"
            "      --max-frame BYTES  refuse frames larger than this (default 1 GiB)\n"
            "  -h, --help             this help\n"
            "      --version          version\n"
            "\n"
            "The default output is a summary: one line per field with its type, shape,\n"
            "and min/mean/max of tensors. Errors name the byte offset; exit status 0 on\n"
            "success, 1 on a bad or unreadable input, 2 on a usage error.\n"
            "Example: parpi-cat --csv particles.uK run/particles.mp\n");
}

/* stdout is a pipe that nobody reads any more */
static bool reader_gone(void)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* A write error ends the program; a reader that has gone (parpi-cat FILE |
 * head) ends it quietly with status 0, as cat and jq do. */
static void check_output(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout)) return;
    int err = errno;
    if (err == EPIPE || reader_gone()) exit(PP_EXIT_OK);
    pp_die(PP_EXIT_FAILURE, "write error on stdout: %s", strerror(err));
}

/* The header and the end frame of a replay or data set stream
 * (parpi-replay(5)) hold no rows: --csv passes them by unsaid. */
static bool rows_frame(pp_frame *f)
{
    const char *s;
    size_t n;
    if (pp_frame_get(f, "chunk_rows") && pp_frame_get(f, "format") && pp_frame_get_str(f, "format", &s, &n) == 0 &&
        n == strlen(PP_REPLAY_FORMAT) && memcmp(s, PP_REPLAY_FORMAT, n) == 0)
        return true;
    return pp_node_len(pp_frame_root(f)) == 2 && pp_frame_get(f, "rows") && pp_frame_get(f, "checksum");
}

static int show(opts *o, pp_frame *f, const char *name, unsigned long long at, unsigned long long len)
{
    switch (o->mode) {
    case MODE_SUMMARY:
        printf("%s# frame %lld: %s, byte %llu, %llu bytes\n", o->printed ? "\n" : "", o->index, name, at, len);
        pp_frame_print_summary(f, stdout);
        break;
    case MODE_JSON: pp_frame_print_json_opts(f, stdout, o->json_flags); break;
    case MODE_FIELDS: pp_frame_print_fields(f, stdout); break;
    case MODE_CSV:
        /* Over a stream (no --frame), a frame that lacks one of the fields is
         * skipped: a ring's warm-up frames carry no metrics and no particles
         * yet, a replay file's header and end frame no rows. main() fails if
         * no frame had them all. A frame chosen with --frame must have them. */
        if (o->frame < 0 && !o->want_last) {
            for (int i = 0; i < o->nfields; i++)
                if (!pp_frame_get(f, o->fields[i])) {
                    if (rows_frame(f)) return 0;
                    if (!o->csv_missing) o->csv_missing = o->fields[i];
                    o->csv_skipped++;
                    return 0;
                }
        }
        if (pp_frame_print_csv(f, o->fields, o->nfields, o->header && !o->header_done, stdout) != 0)
            return pp_fail_prefix("%s: frame %lld: ", name, o->index);
        o->header_done = true;
        break;
    }
    o->printed++;
    check_output();
    return 0;
}

static bool is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* 1: done with all input (the wanted frame was shown), 0: go on, -1: error. */
static int cat_one(opts *o, const char *path, bool last_input, pp_frame *f, pp_frame *last,
                   const char **last_name, unsigned long long *last_at, unsigned long long *last_len)
{
    bool is_stdin = strcmp(path, "-") == 0;
    pp_reader *r = is_stdin ? pp_reader_open_fd(STDIN_FILENO, "stdin", o->max_frame)
                            : pp_reader_open_path(path, o->max_frame);
    if (!r) return -1;
    const char *name = is_stdin ? "stdin" : path;
    int rc = 0;
    for (;;) {
        unsigned long long at = pp_reader_offset(r);
        int got = pp_reader_next(r, f);
        if (got < 0 && o->want_last && *last_name && last_input && !is_stdin && is_regular(path) &&
            strstr(pp_error(), "truncated frame at byte")) {
            /* --frame -1 on a file a ring is still writing (a tee tap): its
             * end is usually a frame half written. The last frame is then
             * the last complete one. */
            fprintf(stderr, "%s: %s: frame %lld (byte %llu) is incomplete, perhaps still being written: "
                    "showing frame %lld\n", pp_progname(), name, o->index, at, o->index - 1);
            pp_error_clear();
            break;
        }
        if (got < 0) { rc = -1; break; }
        if (got == 0) break;
        unsigned long long len = pp_reader_offset(r) - at;
        if (o->want_last) {
            pp_frame_clear(last);
            if (pp_frame_copy(last, "", f, "") != 0) { rc = -1; break; }
            *last_name = name;
            *last_at = at;
            *last_len = len;
        } else if (o->frame < 0 || o->frame == o->index) {
            if (show(o, f, name, at, len) != 0) { rc = -1; break; }
            if (o->frame >= 0) { rc = 1; break; }
        }
        o->index++;
    }
    pp_reader_close(r);
    return rc;
}

int main(int argc, char **argv)
{
    pp_set_progname(argv[0]);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* past ulimit -f: EFBIG, reported as a write error */
    opts o = {.mode = MODE_SUMMARY, .header = true, .frame = -1, .max_frame = PP_DEFAULT_MAX_FRAME};
    bool fields_mode = false, frame_given = false;
    char *csv_arg = NULL;
    enum { OPT_TENSOR_OBJECT = 256, OPT_NO_HEADER, OPT_MAX_FRAME, OPT_VERSION };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"tensor-object", no_argument, NULL, OPT_TENSOR_OBJECT},
        {"csv", required_argument, NULL, 'c'},
        {"no-header", no_argument, NULL, OPT_NO_HEADER},
        {"frame", required_argument, NULL, 'n'},
        {"fields", no_argument, NULL, 'f'},
        {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":jc:n:fh", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'j': o.mode = MODE_JSON; break;
        case OPT_TENSOR_OBJECT: o.json_flags |= PP_JSON_TENSOR_OBJECT; break;
        case 'c': o.mode = MODE_CSV; csv_arg = optarg; break;
        case OPT_NO_HEADER: o.header = false; break;
        case 'n':
            errno = 0;
            o.frame = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || o.frame < -1)
                pp_die(PP_EXIT_USAGE, "--frame takes a frame number >= 0 (or -1 for the last), got '%s'", optarg);
            frame_given = true;
            break;
        case 'f': fields_mode = true; break;
        case OPT_MAX_FRAME: {
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 16 || optarg[0] == '-')
                pp_die(PP_EXIT_USAGE, "--max-frame takes a byte count >= 16, got '%s'", optarg);
            o.max_frame = (size_t)v;
            break;
        }
        case 'h': usage(stdout); return PP_EXIT_OK;
        case OPT_VERSION: printf("parpi-cat %s\n", PARPI_VERSION); return PP_EXIT_OK;
        case ':':
            fprintf(stderr, "%s: option %s needs a value\nTry 'parpi-cat --help'.\n", pp_progname(), argv[optind - 1]);
            return PP_EXIT_USAGE;
        default:
            fprintf(stderr, "%s: unknown option '%s'\nTry 'parpi-cat --help'.\n", pp_progname(), argv[optind - 1]);
            return PP_EXIT_USAGE;
        }
    }
    if (fields_mode) {
        if (o.mode != MODE_SUMMARY) pp_die(PP_EXIT_USAGE, "--fields cannot be combined with --json or --csv");
        o.mode = MODE_FIELDS;
        if (!frame_given) o.frame = 0;
    }
    if (o.json_flags && o.mode != MODE_JSON) pp_die(PP_EXIT_USAGE, "--tensor-object goes with --json");
    if (!o.header && o.mode != MODE_CSV) pp_die(PP_EXIT_USAGE, "--no-header goes with --csv");
    if (csv_arg) {
        for (char *tok = strtok(csv_arg, ","); tok; tok = strtok(NULL, ",")) {
            if (o.nfields == (int)(sizeof o.fields / sizeof *o.fields))
                pp_die(PP_EXIT_USAGE, "--csv takes at most %d fields", o.nfields);
            o.fields[o.nfields++] = tok;
        }
        if (o.nfields == 0) pp_die(PP_EXIT_USAGE, "--csv needs a field path, expected e.g. particles.uK");
    }
    if (o.frame == -1 && frame_given) o.want_last = true;

    pp_frame *f = pp_frame_new(), *last = pp_frame_new();
    const char *last_name = NULL;
    unsigned long long last_at = 0, last_len = 0;
    int status = PP_EXIT_OK;
    int nin = argc - optind;
    for (int i = 0; i < (nin ? nin : 1); i++) {
        const char *path = nin ? argv[optind + i] : "-";
        int rc = cat_one(&o, path, i == nin - 1, f, last, &last_name, &last_at, &last_len);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
            status = PP_EXIT_FAILURE;
            break;
        }
        if (rc > 0) break;
    }
    if (status == PP_EXIT_OK) {
        if (o.want_last && last_name) {
            o.index--;
            if (show(&o, last, last_name, last_at, last_len) != 0) {
                fprintf(stderr, "%s: %s\n", pp_progname(), pp_error());
                status = PP_EXIT_FAILURE;
            }
        } else if (o.frame >= 0 && o.printed == 0) {
            if (o.index == 0) fprintf(stderr, "%s: no frames in the input\n", pp_progname());
            else fprintf(stderr, "%s: no frame %lld: the input has %lld frames\n", pp_progname(), o.frame, o.index);
            status = PP_EXIT_FAILURE;
        } else if (o.want_last) {
            fprintf(stderr, "%s: no frames in the input\n", pp_progname());
            status = PP_EXIT_FAILURE;
        } else if (o.mode == MODE_CSV && o.printed == 0 && o.csv_skipped > 0) {
            fprintf(stderr, "%s: none of the %lld frames has the field %s (parpi-cat --fields lists a frame's fields)\n",
                    pp_progname(), o.csv_skipped, o.csv_missing);
            status = PP_EXIT_FAILURE;
        } else if (o.mode == MODE_CSV && o.csv_skipped > 0) {
            /* said after the rows, so that a tap's CSV stays clean */
            check_output();
            fprintf(stderr, "%s: --csv: skipped %lld of %lld frames, which lack %s%s%s\n", pp_progname(),
                    o.csv_skipped, o.csv_skipped + o.printed, o.nfields > 1 ? "one of the fields (first: " : "",
                    o.csv_missing, o.nfields > 1 ? ")" : "");
        }
    }
    check_output();
    pp_frame_free(f);
    pp_frame_free(last);
    return status;
}
