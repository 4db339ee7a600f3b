/* Checkpoints: atomic save (no temp file left, old file kept on failure),
 * checked load (format, version, kind), truncated files refused. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "base/err.h"
#include "frame/frame.h"

static char dir[256];

static int count_temp_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

static size_t file_bytes(const char *path, uint8_t *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, cap);
    close(fd);
    return n < 0 ? 0 : (size_t)n;
}

static void make_state(pp_frame *f, float scale)
{
    pp_frame_clear(f);
    int64_t sh[1] = {1000};
    float *w = pp_frame_put_tensor_uninit(f, "params.q", PP_F32, 1, sh);
    for (int i = 0; i < 1000; i++) w[i] = (float)i * scale;
    pp_frame_set_i64(f, "step", 42);
    pp_frame_set_str(f, "config.target", "sac");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/parpi-test-ckpt.XXXXXX");
    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    char path[512], other[512];
    snprintf(path, sizeof path, "%s/q.ckpt", dir);
    pp_frame *f = pp_frame_new(), *g = pp_frame_new();
    uint8_t *keep = NULL;

    umask(027);
    make_state(f, 0.5f);
    CHECK(pp_checkpoint_save(f, "critic", path) == 0, "save a critic checkpoint: %s", pp_error());
    CHECK(count_temp_files() == 0, "no temporary file is left behind");
    struct stat st;
    int st_ok = stat(path, &st) == 0;
    CHECK(st_ok && (st.st_mode & 0777) == 0640, "file mode honours the umask 027 (%o, not mkstemp's 600)",
          st.st_mode & 0777);
    CHECK(pp_checkpoint_load(g, path, "critic", &keep) == 0, "load it back as a critic: %s", pp_error());
    int64_t step = 0, version = 0;
    float w[1000];
    int64_t sh[1] = {1000};
    CHECK(pp_frame_get_i64(g, "step", &step) == 0 && step == 42, "step survives");
    CHECK(pp_frame_get_i64(g, "version", &version) == 0 && version == PP_CKPT_VERSION, "version is %d", PP_CKPT_VERSION);
    CHECK(pp_frame_read_tensor(g, "params.q", PP_F32, 1, sh, w, NULL) == 0 && w[999] == 499.5f, "params survive");
    free(keep);
    CHECK(pp_checkpoint_load(g, path, NULL, &keep) == 0, "load with any kind (NULL)");
    free(keep);

    CHECK(pp_checkpoint_load(g, path, "policy", &keep) == -1 && keep == NULL &&
              strstr(pp_error(), "q.ckpt: kind is critic, expected policy"),
          "kind mismatch: %s", pp_error());

    /* Overwrite: the new contents replace the old atomically. */
    make_state(f, 2.0f);
    CHECK(pp_checkpoint_save(f, "critic", path) == 0 && count_temp_files() == 0, "overwrite, no temp file left");
    pp_checkpoint_load(g, path, "critic", &keep);
    CHECK(pp_frame_read_tensor(g, "params.q", PP_F32, 1, sh, w, NULL) == 0 && w[999] == 1998.0f, "new contents read");
    free(keep);

    /* Version, format: each row changes one field of the same frame (the
     * changes add up, in this order), and the load must fail naming it. */
    static const struct {
        const char *field;
        char how; /* 'i' set to the int, 's' to the str, '-' removed */
        int64_t i;
        const char *s, *want, *what;
    } bad[] = {
        {"version", 'i', 2, NULL, "new.ckpt: version 2 is newer than this parpi (1)", "newer version"},
        {"version", 'i', 0, NULL, "version 0 is not a valid checkpoint version", "version 0"},
        {"version", 's', 0, "1", "field version is str", "version as str"},
        {"format", 's', 0, "something-else", "new.ckpt: not a parpi checkpoint (format is \"something-else\"",
         "wrong format"},
        {"format", '-', 0, NULL, "not a parpi checkpoint (no format field)", "no format"},
        {"format", 'i', 7, NULL, "format is int", "format as int"},
    };
    snprintf(other, sizeof other, "%s/new.ckpt", dir);
    make_state(f, 1.0f);
    pp_frame_set_str(f, "format", "parpi-checkpoint");
    pp_frame_set_str(f, "kind", "critic");
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        if (bad[k].how == 'i') pp_frame_set_i64(f, bad[k].field, bad[k].i);
        else if (bad[k].how == 's') pp_frame_set_str(f, bad[k].field, bad[k].s);
        else pp_frame_remove(f, bad[k].field);
        pp_frame_save_file_atomic(f, other);
        CHECK(pp_checkpoint_load(g, other, "critic", &keep) == -1 && strstr(pp_error(), bad[k].want), "%s: %s",
              bad[k].what, pp_error());
    }

    /* Truncated and empty files. */
    static uint8_t bytes[8192];
    size_t n = file_bytes(path, bytes, sizeof bytes);
    CHECK(n > 4000, "checkpoint is %zu bytes", n);
    snprintf(other, sizeof other, "%s/cut.ckpt", dir);
    int fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, bytes, n / 2) == (ssize_t)(n / 2), "write half a checkpoint");
    close(fd);
    CHECK(pp_checkpoint_load(g, other, "critic", &keep) == -1 && keep == NULL && strstr(pp_error(), "cut.ckpt: byte ") &&
              strstr(pp_error(), "(params.q.data)"),
          "a truncated checkpoint is refused: %s", pp_error());
    fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(fd);
    CHECK(pp_checkpoint_load(g, other, "critic", &keep) == -1 && strstr(pp_error(), "cut.ckpt: empty file"),
          "an empty file is refused: %s", pp_error());
    CHECK(pp_checkpoint_load(g, "/nonexistent/x.ckpt", "critic", &keep) == -1 &&
              strstr(pp_error(), "cannot open /nonexistent/x.ckpt"),
          "a missing file: %s", pp_error());
    /* Two frames in one file: the second is trailing data. */
    fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, bytes, n) == (ssize_t)n && write(fd, bytes, n) == (ssize_t)n, "write two frames");
    close(fd);
    char want[96];
    snprintf(want, sizeof want, "byte %zu: %zu bytes of trailing data", n, n);
    CHECK(pp_checkpoint_load(g, other, "critic", &keep) == -1 && strstr(pp_error(), want),
          "two frames in a checkpoint: %s", pp_error());

    /* A save that fails half way (file size limit) leaves the old file intact
     * and no temporary file. Run in a child so the limit stays there. */
    uint8_t before[8192];
    size_t nb = file_bytes(path, before, sizeof before);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {.rlim_cur = 1000, .rlim_max = RLIM_INFINITY};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        make_state(f, 9.0f);
        int rc = pp_checkpoint_save(f, "critic", path);
        printf("# child: %s\n", pp_error());
        fflush(stdout);
        _exit(rc == -1 && strstr(pp_error(), "cannot write") ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the save fails with 'cannot write' under a 1000-byte file limit");
    uint8_t after[8192];
    size_t na = file_bytes(path, after, sizeof after);
    CHECK(na == nb && memcmp(before, after, nb) == 0, "the old checkpoint is intact after the failed save");
    CHECK(count_temp_files() == 0, "the failed save removed its temporary file");
    snprintf(other, sizeof other, "%s/no/such/dir.ckpt", dir);
    CHECK(pp_checkpoint_save(f, "critic", other) == -1 && strstr(pp_error(), "cannot create a temporary file next to"),
          "saving into a missing directory fails: %s", pp_error());
    /* A FIFO (like /dev/null, a device) under the checkpoint's name is not
     * replaced: the rename would destroy it. */
    snprintf(other, sizeof other, "%s/fifo.ckpt", dir);
    CHECK(mkfifo(other, 0600) == 0 && pp_checkpoint_save(f, "critic", other) == -1 &&
              strstr(pp_error(), "is not a regular file") && stat(other, &st) == 0 && S_ISFIFO(st.st_mode) &&
              count_temp_files() == 0,
          "a FIFO under the checkpoint's name is refused and left as it was: %s", pp_error());
    unlink(other);

    pp_frame_free(f);
    pp_frame_free(g);
    /* Clean up. */
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
    return check_done();
}
