/* train_snapshot.c - where a resumed run starts from, and the links of the
 * run directory to its last snapshot (train.h, "resume").
 *
 * The stages write the snapshots (stage/stage_run.h): ckpt/<step>/ holds a
 * checkpoint of every stage saved at that step and collect's replay.mp, and
 * ckpt/snapshot records the last complete one. Resume checks that record
 * against the config and every file against the record before a stage is
 * started, so a set that is not one snapshot, a missing file or an
 * unreadable one stops the run with the file named instead of restarting a
 * stage from scratch.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame.h"
#include "stage/stage_run.h"
#include "train/train.h"

#define PATH_CAP (sizeof ((pp_train_opts *)0)->dir + 600)

/* DIR/<rel> into buf. */
static const char *in_dir(const pp_train *t, char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *in_dir(const pp_train *t, char *buf, size_t cap, const char *fmt, ...)
{
    int n = snprintf(buf, cap, "%s/", t->o.dir);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < cap) vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    return buf;
}

static void stage_list(const pp_train *t, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int i = 0; i < t->nstages; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", i ? "," : "", t->stage[i].kind);
    }
}

static int listed(const char *list, const char *kind)
{
    size_t n = strlen(kind);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, kind, n) == 0) return 1;
        p += len;
        if (*p) p++;
    }
    return 0;
}

/* Load stage kind's checkpoint at DIR/rel and check it: its kind, and when
 * want is given, that it carries want's mark. *got: its mark; *step (may be
 * NULL): collect's step. */
static int check_ckpt(const pp_train *t, const char *kind, const char *rel, const pp_snapshot_mark *want,
                      pp_snapshot_mark *got, long long *step)
{
    char path[PATH_CAP];
    in_dir(t, path, sizeof path, "%s", rel);
    pp_frame *ck = pp_frame_new();
    uint8_t *buf = NULL;
    int rc = pp_checkpoint_load(ck, path, kind, &buf);
    if (rc == 0 && pp_checkpoint_mark(ck, got) != 0) rc = pp_fail_prefix("%s: ", path);
    if (rc == 0 && want && got->step < 0)
        rc = pp_fail("%s carries no snapshot mark, but the snapshot is step %lld of run %s: the files are not one "
                     "snapshot",
                     path, want->step, want->run);
    else if (rc == 0 && want && (got->step != want->step || strcmp(got->run, want->run) != 0))
        rc = pp_fail("%s is the checkpoint of step %lld of run %s, but the snapshot is step %lld of run %s: the "
                     "files are not one snapshot",
                     path, got->step, got->run, want->step, want->run);
    int64_t v;
    if (rc == 0 && step && pp_frame_get(ck, "step") && pp_frame_get_i64(ck, "step", &v) == 0) *step = v;
    /* the replay buffer the collector's checkpoint names lies beside it */
    const char *name;
    size_t len;
    if (rc == 0 && pp_frame_get(ck, "replay_file") && pp_frame_get_str(ck, "replay_file", &name, &len) == 0) {
        char rpath[PATH_CAP + 300];
        const char *slash = strrchr(path, '/');
        snprintf(rpath, sizeof rpath, "%.*s/%.*s", (int)(slash - path), path, (int)(len > 255 ? 255 : len), name);
        if (access(rpath, R_OK) != 0)
            rc = pp_fail("cannot read %s, the replay buffer %s names: %s", rpath, path, strerror(errno));
    }
    pp_frame_free(ck);
    free(buf);
    return rc;
}

/* Does folder ckpt/<step> hold every stage's checkpoint of one run and that
 * step? 1 (*m its mark), 0 if not. */
static int complete_folder(const pp_train *t, long long step, pp_snapshot_mark *m)
{
    char rel[128];
    for (int i = 0; i < t->nstages; i++) {
        pp_snapshot_mark got;
        snprintf(rel, sizeof rel, PP_TRAIN_SNAPSHOTS "/%lld/%s.ckpt", step, t->stage[i].kind);
        if (check_ckpt(t, t->stage[i].kind, rel, i ? m : NULL, &got, NULL) != 0 || got.step != step) return 0;
        if (i == 0) *m = got;
    }
    return 1;
}

/* The newest complete snapshot folder without a record: *m, 1; 0 if none. */
static int newest_complete(const pp_train *t, pp_snapshot_mark *m)
{
    char dir[PATH_CAP];
    DIR *d = opendir(in_dir(t, dir, sizeof dir, PP_TRAIN_SNAPSHOTS));
    if (!d) return 0;
    long long steps[256];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 256) {
        long long s = pp_snapshot_folder_step(de->d_name);
        if (s >= 0) steps[n++] = s;
    }
    closedir(d);
    for (;;) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (steps[i] >= 0 && (best < 0 || steps[i] > steps[best])) best = i;
        if (best < 0) return 0;
        if (complete_folder(t, steps[best], m)) return 1;
        steps[best] = -1;
    }
}

static void set_resume(pp_train *t, int i, const char *rel)
{
    pp_stage_common_unset(&t->stage[i].common, "resume");
    (void)pp_stage_common_set(&t->stage[i].common, "resume", rel); /* a short path: it fits */
}

int pp_train_resume_point(pp_train *t, long long *step)
{
    *step = -1;
    char ckdir[PATH_CAP], rel[128], stages[512];
    in_dir(t, ckdir, sizeof ckdir, PP_TRAIN_SNAPSHOTS);
    pp_snapshot_mark m;
    int found = pp_snapshot_read(ckdir, &m, stages, sizeof stages);
    if (found < 0) return -1;
    if (found == 0 && newest_complete(t, &m)) { /* saved by every stage, not yet recorded */
        found = 1;
        stage_list(t, stages, sizeof stages);
    }
    const char *run_id = t->stage[0].common.run_id;
    if (found) {
        if (run_id[0] && strcmp(m.run, run_id) != 0)
            return pp_fail("%s/" PP_SNAPSHOT_FILE " is a snapshot of run %s, but %s/config describes run %s", ckdir,
                           m.run, t->o.dir, run_id);
        for (int i = 0; i < t->nstages; i++) {
            const char *kind = t->stage[i].kind;
            if (!listed(stages, kind))
                return pp_fail("the snapshot at step %lld in %s has no checkpoint of stage %s (it has %s)", m.step,
                               ckdir, kind, stages);
            pp_snapshot_mark got;
            snprintf(rel, sizeof rel, PP_TRAIN_SNAPSHOTS "/%lld/%s.ckpt", m.step, kind);
            if (check_ckpt(t, kind, rel, &m, &got, NULL) != 0) return -1;
        }
        for (int i = 0; i < t->nstages; i++) {
            snprintf(rel, sizeof rel, PP_TRAIN_SNAPSHOTS "/%lld/%s.ckpt", m.step, t->stage[i].kind);
            set_resume(t, i, rel);
        }
        t->legacy_replay[0] = '\0';
        *step = m.step;
        return 0;
    }
    /* A run of parpi 0.1: a checkpoint per stage, ckpt/KIND.ckpt, each saved
     * on its own; all of them or none (it never saved). */
    int have = 0;
    const char *missing = NULL;
    char path[PATH_CAP];
    for (int i = 0; i < t->nstages; i++) {
        struct stat st;
        in_dir(t, path, sizeof path, PP_TRAIN_SNAPSHOTS "/%s.ckpt", t->stage[i].kind);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) have++;
        else if (!missing) missing = t->stage[i].kind;
    }
    if (have == 0) return 0; /* never saved: from the start */
    if (missing)
        return pp_fail("%s/%s.ckpt is missing, and the run's other stages have checkpoints: a run resumes from "
                       "every stage's checkpoint",
                       ckdir, missing);
    long long collected = 0;
    for (int i = 0; i < t->nstages; i++) {
        pp_snapshot_mark got;
        snprintf(rel, sizeof rel, PP_TRAIN_SNAPSHOTS "/%s.ckpt", t->stage[i].kind);
        if (check_ckpt(t, t->stage[i].kind, rel, NULL, &got, i == 0 ? &collected : NULL) != 0) return -1;
        set_resume(t, i, rel);
    }
    struct stat st;
    if (!t->legacy_replay[0] && lstat(in_dir(t, path, sizeof path, "replay.mp"), &st) == 0 && S_ISREG(st.st_mode))
        snprintf(t->legacy_replay, sizeof t->legacy_replay, "replay.mp");
    *step = collected;
    return 0;
}

/* ---- making the directory ready ---- */

/* Remove the temporary files a torn save left in dir ("NAME.tmp.XXXXXX" of
 * the atomic saves, the status line's and the config's). */
static void remove_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char path[PATH_CAP + 300];
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strstr(n, ".tmp.") || strcmp(n, "status.tmp") == 0 || strcmp(n, ".config.tmp") == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, n);
            struct stat st;
            if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) unlink(path);
        }
    }
    closedir(d);
}

int pp_train_resume_prepare(pp_train *t, long long step)
{
    char ckdir[PATH_CAP], path[PATH_CAP];
    in_dir(t, ckdir, sizeof ckdir, PP_TRAIN_SNAPSHOTS);
    remove_temps(t->o.dir);
    remove_temps(ckdir);
    /* snapshot folders other than the one resumed from were not completed */
    int resumed_folder = 0;
    DIR *d = opendir(ckdir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            long long s = pp_snapshot_folder_step(de->d_name);
            if (s < 0) continue;
            char sub[PATH_CAP + 300];
            snprintf(sub, sizeof sub, "%s/%s", ckdir, de->d_name);
            if (s == step && strncmp(t->stage[0].common.resume, PP_TRAIN_SNAPSHOTS "/", 5) == 0 &&
                strchr(t->stage[0].common.resume + 5, '/')) {
                remove_temps(sub);
                resumed_folder = 1;
            } else if (pp_snapshot_remove_folder(ckdir, de->d_name) != 0) {
                closedir(d);
                return -1;
            }
        }
        closedir(d);
    }
    /* a folder every stage completed but nobody recorded: record it now */
    pp_snapshot_mark m;
    char stages[512];
    int found = pp_snapshot_read(ckdir, &m, stages, sizeof stages);
    if (found < 0) return -1;
    if (!found && resumed_folder) {
        m.step = step;
        snprintf(m.run, sizeof m.run, "%s", t->stage[0].common.run_id);
        stage_list(t, stages, sizeof stages);
        if (pp_snapshot_commit(ckdir, &m, stages) != 0) return -1;
    }
    /* a run that never saved starts again: so do its logs */
    if (step < 0) {
        const char *logs[] = {"eval.csv", "progress.csv", "episodes.csv", NULL};
        for (int i = 0; logs[i]; i++)
            if (unlink(in_dir(t, path, sizeof path, "%s", logs[i])) != 0 && errno != ENOENT)
                return pp_fail("cannot remove %s: %s", path, strerror(errno));
    }
    /* the status line is the eval stage's to write again, from the snapshot */
    unlink(in_dir(t, path, sizeof path, "status"));
    if (pp_train_config_write(t) != 0) return -1;
    /* a run of parpi 0.1: its replay buffer, read this once (not in the config) */
    if (t->legacy_replay[0])
        for (int i = 0; i < t->nstages; i++)
            if (strcmp(t->stage[i].kind, "collect") == 0) pp_argv_addf(&t->stage[i].own, "--replay=%s", t->legacy_replay);
    pp_train_links(t);
    return 0;
}

/* ---- links ---- */

/* name -> target, unless it is that already; a regular file is replaced
 * only when replace_file (a parpi 0.1 file a snapshot has superseded). */
static void link_to(const pp_train *t, const char *name, const char *target, int replace_file)
{
    char cur[PATH_CAP];
    struct stat st;
    if (lstat(name, &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(name, cur, sizeof cur - 1);
            if (n >= 0 && (size_t)n == strlen(target) && memcmp(cur, target, (size_t)n) == 0) return;
        } else if (!S_ISREG(st.st_mode) || !replace_file)
            return;
    }
    char tmp[PATH_CAP + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", name, (long)getpid());
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, name) != 0) {
        pp_train_log(t, 0, "cannot link %s to %s: %s", name, target, strerror(errno));
        unlink(tmp);
    }
}

void pp_train_links(const pp_train *t)
{
    char ckdir[PATH_CAP], name[PATH_CAP], target[128], stages[512];
    in_dir(t, ckdir, sizeof ckdir, PP_TRAIN_SNAPSHOTS);
    pp_snapshot_mark m;
    int have = pp_snapshot_read(ckdir, &m, stages, sizeof stages) == 1;
    if (have) {
        snprintf(target, sizeof target, "%lld", m.step);
        link_to(t, in_dir(t, name, sizeof name, PP_TRAIN_SNAPSHOTS "/latest"), target, 0);
    }
    for (int i = 0; i < t->nstages; i++) {
        snprintf(target, sizeof target, "latest/%s.ckpt", t->stage[i].kind);
        link_to(t, in_dir(t, name, sizeof name, PP_TRAIN_SNAPSHOTS "/%s.ckpt", t->stage[i].kind), target, have);
    }
    link_to(t, in_dir(t, name, sizeof name, "replay.mp"), PP_TRAIN_SNAPSHOTS "/latest/replay.mp", have);
}
