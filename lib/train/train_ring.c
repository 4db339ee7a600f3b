/* train_ring.c - run the stages as a ring of processes:
 *
 *   parpi-collect <ring | parpi-critic | ... | parpi-policy --prime | parpi-eval >ring
 *
 * The driver makes the FIFO DIR/ring, opens both ends itself (read end
 * non-blocking first, so neither open waits for the other), and forks one
 * child per stage with plain pipes between neighbours. The children get
 * their own process group, so a Ctrl-C at the terminal reaches the driver
 * only; the driver then sends one SIGTERM to the group, each stage finishes
 * its frame, saves its checkpoint and exits, and the ring drains (end of file
 * travels downstream, EPIPE upstream). Each stage's stderr goes to
 * DIR/logs/<kind>.log. When a stage dies, the driver names it, shows the end
 * of its log, stops the others (SIGTERM, then SIGKILL after a grace period)
 * and exits 1: no orphans, no hang.
 *
 * The driver's own signals are the program's (cmd/common.c): it looks at
 * *t->stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "train/train.h"
#include "base/clock.h"

typedef struct {
    pid_t pid;
    int running;
    int status;     /* waitpid status once reaped */
    double ended;   /* when reaped */
    int order;      /* reaping order */
} child;

/* Last lines of a stage's log, indented, into buf. */
static void log_tail(const pp_train *t, const char *kind, char *buf, size_t cap, int lines)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/logs/%s.log", t->o.dir, kind);
    buf[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    char text[8192];
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    long from = size > (long)sizeof text - 1 ? size - (long)sizeof text + 1 : 0;
    fseek(fp, from, SEEK_SET);
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    /* keep the last `lines` non-empty lines (progress lines end in \r: take the last segment) */
    char *starts[64];
    int count = 0;
    char *p = text;
    while (*p) {
        char *e = strchr(p, '\n');
        if (e) *e = '\0';
        char *cr = strrchr(p, '\r');
        char *seg = cr ? cr + 1 : p;
        while (*seg == ' ') seg++;
        if (*seg) {
            if (count == 64) {
                memmove(starts, starts + 1, sizeof starts[0] * 63);
                count = 63;
            }
            starts[count++] = seg;
        }
        if (!e) break;
        p = e + 1;
    }
    size_t o = 0;
    for (int i = count > lines ? count - lines : 0; i < count && o + 8 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "    %s\n", starts[i]);
}

static void describe_status(int st, char *buf, size_t cap)
{
    if (WIFSIGNALED(st))
        snprintf(buf, cap, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else if (WIFEXITED(st))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(st));
    else snprintf(buf, cap, "stopped (status %d)", st);
}

static int log_mentions_pipe(const pp_train *t, const char *kind)
{
    char tail[2048];
    log_tail(t, kind, tail, sizeof tail, 3);
    return strstr(tail, "roken pipe") || strstr(tail, "EPIPE") || strstr(tail, "end of file") ||
           strstr(tail, "truncated");
}

/* Stage i ended with status st while the driver was stopping the ring: did
 * it end because of the stop (our SIGTERM, or the pipe its neighbour closed)?
 * Not if it could not save its checkpoint: that is a failure to report. */
static int stopped_by_us(const pp_train *t, int i, int st)
{
    if (WIFSIGNALED(st)) return WTERMSIG(st) == SIGTERM;
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 1) || !log_mentions_pipe(t, t->stage[i].kind)) return 0;
    char tail[2048];
    log_tail(t, t->stage[i].kind, tail, sizeof tail, 3);
    return !strstr(tail, "saving checkpoint");
}

/* A frame of the ring carries every network's parameters (about 1.7 MB for
 * HalfCheetah's ParPI). Through the default 64 KiB pipe that is some thirty
 * writer/reader hand-overs per stage per frame; a pipe as large as the
 * system allows (/proc/sys/fs/pipe-max-size, 1 MiB by default) takes most
 * of a frame in one go. Best effort: a smaller pipe still works. */
static void grow_pipe(int fd)
{
    int want = 1 << 20;
    FILE *fp = fopen("/proc/sys/fs/pipe-max-size", "r");
    if (fp) {
        int max = 0;
        if (fscanf(fp, "%d", &max) == 1 && max > 0 && max < want) want = max;
        fclose(fp);
    }
    (void)fcntl(fd, F_SETPIPE_SZ, want);
}

void pp_train_program_path(const char *kind, char *buf, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, cap, "%s/parpi-%s", exe, kind);
            if (access(buf, X_OK) == 0) return;
        }
    }
    snprintf(buf, cap, "parpi-%s", kind); /* execvp searches PATH */
}

/* The FIFO DIR/ring, both ends open: the read end (the first stage's stdin)
 * and the write end (the last stage's stdout). 0, or -1 with the message. */
static int open_fifo(const char *ring, int *rfd, int *wfd)
{
    unlink(ring);
    if (mkfifo(ring, 0600) != 0) {
        int err = errno;
        struct stat st;
        if (err == EEXIST && lstat(ring, &st) == 0 && S_ISDIR(st.st_mode))
            return pp_fail("cannot make the FIFO %s: a directory of that name is in the way", ring);
        return pp_fail("cannot make the FIFO %s: %s", ring, strerror(err));
    }
    /* read end non-blocking first, so that neither open waits for the other */
    *rfd = open(ring, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    *wfd = *rfd >= 0 ? open(ring, O_WRONLY | O_CLOEXEC) : -1;
    if (*rfd < 0 || *wfd < 0) {
        int err = errno;
        if (*rfd >= 0) close(*rfd);
        return pp_fail("cannot open the FIFO %s: %s", ring, strerror(err));
    }
    fcntl(*rfd, F_SETFL, fcntl(*rfd, F_GETFL) & ~O_NONBLOCK);
    grow_pipe(*wfd);
    return 0;
}

/* Fork and exec stage s with stdin in_fd, stdout out_fd and stderr its log,
 * in process group *group (0: a new one, led by this child). The child's
 * pid, or -1 with the message. */
static pid_t spawn_stage(const pp_train *t, const pp_train_stage *s, int in_fd, int out_fd, pid_t *group)
{
    char logpath[1200];
    snprintf(logpath, sizeof logpath, "%s/logs/%s.log", t->o.dir, s->kind);
    int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) return pp_fail("cannot write %s: %s", logpath, strerror(errno));
    char prog[1400];
    pp_train_program_path(s->kind, prog, sizeof prog);
    pp_argv args = {0};
    pp_train_stage_argv(t, s, prog, &args);

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, *group);
        /* if the driver dies, so does the stage (it saves its checkpoint on SIGTERM) */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(128 + SIGTERM);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(logfd, 2) < 0) _exit(127);
        execvp(prog, args.argv);
        dprintf(2, "parpi-train: cannot run %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    int err = errno;
    close(logfd);
    pp_argv_free(&args);
    if (pid < 0) return pp_fail("fork: %s", strerror(err));
    if (*group == 0) *group = pid;
    setpgid(pid, *group); /* both sides, so there is no race */
    return pid;
}

/* Start the stages with plain pipes between neighbours, the first reading
 * rfd and the last writing wfd (both closed here). The number started; on a
 * failure (*failed set, message kept) the ones started are sent SIGTERM. */
static int spawn_all(const pp_train *t, child *kids, int rfd, int wfd, pid_t *group, int *failed)
{
    int prev = rfd, started = 0;
    *failed = 0;
    for (int i = 0; i < t->nstages; i++) {
        int p[2] = {-1, -1}, out = wfd;
        if (i < t->nstages - 1) {
            if (pipe2(p, O_CLOEXEC) != 0) {
                pp_fail("pipe: %s", strerror(errno));
                *failed = 1;
                break;
            }
            grow_pipe(p[1]);
            out = p[1];
        }
        pid_t pid = spawn_stage(t, &t->stage[i], prev, out, group);
        close(prev);
        if (out != wfd) close(out);
        prev = p[0];
        if (pid < 0) {
            *failed = 1;
            break;
        }
        kids[i].pid = pid;
        kids[i].running = 1;
        started++;
    }
    close(wfd);
    if (*failed) {
        if (prev >= 0) close(prev);
        if (*group) killpg(*group, SIGTERM);
    }
    return started;
}

typedef struct {
    int first_bad;   /* the first stage to end badly; -1: none */
    int interrupted; /* the signal that stopped the driver; 0: none */
} ring_outcome;

/* Wait for the stages, showing progress. When one ends badly, let the ring
 * drain a moment and stop the rest; on the driver's signal stop them at
 * once; SIGKILL whatever still runs a minute after SIGTERM. */
static ring_outcome supervise(const pp_train *t, child *kids, int running, pid_t group, int stop_now)
{
    ring_outcome out = {.first_bad = -1};
    pp_train_progress prog;
    pp_train_progress_init(&prog, t);
    int reaped = 0, killed = 0;
    /* term_due: when to send SIGTERM to the group (0: not planned);
     * term_sent: when it was sent (0: not yet). */
    double term_due = stop_now ? pp_now() : 0, term_sent = 0;
    const double drain_s = 2.0, kill_grace_s = 60.0;
    while (running > 0) {
        int st;
        pid_t pid = waitpid(-group, &st, WNOHANG);
        if (pid > 0) {
            for (int i = 0; i < t->nstages; i++) {
                if (kids[i].pid != pid || !kids[i].running) continue;
                kids[i].running = 0;
                kids[i].status = st;
                kids[i].ended = pp_now();
                kids[i].order = reaped++;
                running--;
                int bad = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                /* After our own SIGTERM, 130 / 143 are the expected exits. */
                if (bad && term_sent > 0 && WIFEXITED(st) &&
                    (WEXITSTATUS(st) == 128 + SIGINT || WEXITSTATUS(st) == 128 + SIGTERM))
                    bad = 0;
                /* Stopped by a signal to the driver, the ring drains: a stage
                 * that finished one more frame finds its neighbour gone (EPIPE,
                 * end of file) and exits 1 for it, and one that had no handler
                 * yet dies of our SIGTERM. Neither is a failure of the run. */
                if (bad && (out.interrupted || (t->stop && *t->stop)) && stopped_by_us(t, i, st)) bad = 0;
                if (bad && out.first_bad < 0) out.first_bad = i;
                if (bad && term_due == 0) term_due = pp_now() + drain_s;
            }
            continue;
        }
        if (pid < 0 && errno != EINTR) break; /* no children left */
        double now = pp_now();
        if (t->stop && *t->stop && !out.interrupted) {
            out.interrupted = *t->stop;
            pp_train_progress_end(&prog);
            pp_train_log(t, 1, "%s: stopping the stages (each saves its checkpoint)",
                         pp_train_signal_name(out.interrupted));
            if (term_due == 0 || term_due > now) term_due = now;
        }
        if (term_due > 0 && term_sent == 0 && now >= term_due) {
            killpg(group, SIGTERM);
            term_sent = now;
        }
        if (term_sent > 0 && !killed && now - term_sent > kill_grace_s) {
            pp_train_log(t, 1, "stages still running %.0f s after SIGTERM: killing them", kill_grace_s);
            killpg(group, SIGKILL);
            killed = 1;
        }
        if (!out.interrupted) pp_train_progress_show(&prog, t, 0);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pp_train_progress_show(&prog, t, 1);
    pp_train_progress_end(&prog);
    return out;
}

/* Name the stage that stopped the ring, with the end of its log. The first
 * to die is usually the cause; but a stage that only saw EPIPE or end of
 * file was a victim: prefer one that was not. */
static void report_failure(const pp_train *t, const child *kids, int first_bad)
{
    int cause = first_bad;
    if (!WIFSIGNALED(kids[cause].status) && log_mentions_pipe(t, t->stage[cause].kind)) {
        for (int i = 0; i < t->nstages; i++) {
            int st = kids[i].status;
            int bad = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
            if (i != cause && bad && (WIFSIGNALED(st) || !log_mentions_pipe(t, t->stage[i].kind))) {
                cause = i;
                break;
            }
        }
    }
    const char *kind = t->stage[cause].kind;
    char how[128], tail[4096];
    describe_status(kids[cause].status, how, sizeof how);
    log_tail(t, kind, tail, sizeof tail, 5);
    pp_train_log(t, 1, "stage %s (parpi-%s, pid %d) %s; the ring stopped.%s%s%s", kind, kind,
                 (int)kids[cause].pid, how, tail[0] ? " The end of " : "", tail[0] ? kind : "",
                 tail[0] ? ".log:" : "");
    if (tail[0]) {
        fputs(tail, stderr);
        tail[strlen(tail) - 1] = '\0'; /* pp_train_log ends the line */
        pp_train_log(t, 0, "%s", tail);
    }
    for (int i = 0; i < t->nstages; i++) {
        if (i == cause) continue;
        describe_status(kids[i].status, how, sizeof how);
        pp_train_log(t, 0, "  %s %s", t->stage[i].kind, how);
    }
    pp_train_log(t, 1, "logs in %s/logs/; resume with: parpi-train --resume %s", t->o.dir, t->o.dir);
}

int pp_train_run_ring(pp_train *t)
{
    char ring[1200];
    snprintf(ring, sizeof ring, "%s/ring", t->o.dir);
    int rfd = -1, wfd = -1;
    if (open_fifo(ring, &rfd, &wfd) != 0) {
        pp_train_log(t, 1, "%s", pp_error());
        return PP_EXIT_FAILURE;
    }
    child kids[PP_TRAIN_MAX_STAGES];
    memset(kids, 0, sizeof kids);
    pid_t group = 0;
    int spawn_failed;
    int started = spawn_all(t, kids, rfd, wfd, &group, &spawn_failed);
    char spawn_error[1024] = "";
    if (spawn_failed) snprintf(spawn_error, sizeof spawn_error, "%s", pp_error());
    ring_outcome out = started > 0 ? supervise(t, kids, started, group, spawn_failed)
                                   : (ring_outcome){.first_bad = -1};
    unlink(ring);

    if (spawn_failed) {
        pp_train_log(t, 1, "%s", spawn_error);
        return PP_EXIT_FAILURE;
    }
    if (out.first_bad >= 0) {
        report_failure(t, kids, out.first_bad);
        return PP_EXIT_FAILURE;
    }
    if (out.interrupted) {
        pp_train_log(t, 1, "stopped by %s; checkpoints saved. Resume with: parpi-train --resume %s",
                     pp_train_signal_name(out.interrupted), t->o.dir);
        return 128 + out.interrupted;
    }
    return PP_EXIT_OK;
}
