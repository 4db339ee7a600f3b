/* Checkpoints: atomic save (no temp file left, old file kept on failure),
 * checked load (format, version, kind), truncated files refused; the
 * checksum (every flipped byte refused, version 1 files without one still
 * read), finiteness, stale temporaries, the test write at start. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "base/err.h"
#include "frame/crc32c.h"
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


static void put_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n) printf("# cannot write %s\n", path);
    if (fd >= 0) close(fd);
}

/* The file's layout: one map whose last entry is "checksum": uint32, the
 * CRC-32C of every byte before its last four (parpi-frame(5)). */
static void test_layout(const char *path)
{
    static uint8_t b[8192];
    size_t n = file_bytes(path, b, sizeof b);
    static const uint8_t head[10] = {0xa8, 'c', 'h', 'e', 'c', 'k', 's', 'u', 'm', 0xce};
    uint32_t want = (uint32_t)b[n - 4] << 24 | (uint32_t)b[n - 3] << 16 | (uint32_t)b[n - 2] << 8 | b[n - 1];
    CHECK(n > 14 && memcmp(b + n - 14, head, 10) == 0, "the file ends in \"checksum\" and a uint32's marker");
    CHECK(want == pp_crc32c(0, b, n - 4), "its value is the CRC-32C of the bytes before it (%08x)", want);
    CHECK(b[0] == 0x87, "one map of the six fields and the checksum (%02x)", b[0]);
    /* Another reader sees the field; parpi's reader keeps it out of the frame. */
    pp_frame *f = pp_frame_new();
    CHECK(pp_frame_decode(f, b, n, 0) == 0 && pp_frame_get(f, "checksum"), "a plain msgpack read sees the field");
    uint8_t *keep = NULL;
    CHECK(pp_frame_load_file(f, path, &keep) == 0 && !pp_frame_get(f, "checksum"),
          "a loaded frame has no checksum field");
    /* Saving a frame that carries one (stale) writes the right one. */
    pp_frame_set_i64(f, "checksum", 12345);
    char again[512];
    snprintf(again, sizeof again, "%s/again.ckpt", dir);
    uint8_t *keep2 = NULL;
    CHECK(pp_frame_save_file_atomic(f, again) == 0 && pp_checkpoint_load(f, again, "critic", &keep2) == 0,
          "a frame with a stale checksum field saves and loads: %s", pp_error());
    free(keep2);
    static uint8_t c[8192];
    CHECK(file_bytes(again, c, sizeof c) == n && memcmp(b, c, n) == 0, "and the file is the same bytes");
    free(keep);
    unlink(again);
    pp_frame_free(f);
}

/* Every byte of the checkpoint XOR 0xff, one at a time: each load fails
 * and names the file. */
static void test_flips(const char *path)
{
    static uint8_t b[8192];
    size_t n = file_bytes(path, b, sizeof b);
    char bad[512];
    snprintf(bad, sizeof bad, "%s/flip.ckpt", dir);
    pp_frame *g = pp_frame_new();
    int accepted = 0, unnamed = 0, sum_msgs = 0;
    for (size_t i = 0; i < n; i++) {
        b[i] ^= 0xff;
        put_file(bad, b, n);
        b[i] ^= 0xff;
        uint8_t *keep = NULL;
        if (pp_checkpoint_load(g, bad, "critic", &keep) == 0) {
            if (accepted++ < 3) printf("#   byte %zu flipped: accepted\n", i);
            free(keep);
        } else if (!strstr(pp_error(), bad)) {
            if (unnamed++ < 3) printf("#   byte %zu flipped: %s\n", i, pp_error());
        } else if (strstr(pp_error(), "checksum")) {
            sum_msgs++;
        }
    }
    CHECK(accepted == 0 && unnamed == 0, "each of the %zu one-byte flips is refused naming the file "
          "(%d accepted, %d without the name; %d by the checksum)", n, accepted, unnamed, sum_msgs);
    CHECK(sum_msgs >= (int)n - 14, "the checksum catches every flip before its own entry (%d of %zu)", sum_msgs, n);
    pp_frame_free(g);
    unlink(bad);
}

/* Files without a checksum: version 1 (parpi 0.1) still reads, version 2
 * must have one; a version 1 file with a wrong checksum is refused. */
static void test_versions(void)
{
    pp_frame *f = pp_frame_new();
    make_state(f, 1.0f);
    pp_frame_set_str(f, "format", "parpi-checkpoint");
    pp_frame_set_str(f, "kind", "critic");
    uint8_t *buf = NULL, *keep = NULL;
    size_t cap = 0, len = 0;
    char p1[512];
    snprintf(p1, sizeof p1, "%s/old.ckpt", dir);
    pp_frame_set_i64(f, "version", 1);
    pp_frame_encode(f, &buf, &cap, &len);
    put_file(p1, buf, len);
    pp_frame *g = pp_frame_new();
    pp_error_clear();
    CHECK(pp_checkpoint_load(g, p1, "critic", &keep) == 0, "version 1 without a checksum loads%s", pp_error());
    free(keep);
    pp_frame_set_i64(f, "version", 2);
    pp_frame_encode(f, &buf, &cap, &len);
    put_file(p1, buf, len);
    CHECK(pp_checkpoint_load(g, p1, "critic", &keep) == -1 && strstr(pp_error(), "old.ckpt: no checksum"),
          "version 2 without a checksum is refused: %s", pp_error());
    /* version 1 with a checksum, then that checksum made wrong */
    pp_frame_set_i64(f, "version", 1);
    pp_frame_save_file_atomic(f, p1);
    CHECK(pp_checkpoint_load(g, p1, "critic", &keep) == 0, "version 1 with a checksum loads");
    free(keep);
    static uint8_t b[8192];
    size_t n = file_bytes(p1, b, sizeof b);
    b[n - 1] ^= 1;
    put_file(p1, b, n);
    CHECK(pp_checkpoint_load(g, p1, "critic", &keep) == -1 && strstr(pp_error(), "old.ckpt: checksum mismatch"),
          "version 1 with a wrong checksum is refused: %s", pp_error());
    unlink(p1);
    free(buf);
    pp_frame_free(f);
    pp_frame_free(g);

    /* The checkpoints parpi 0.1 wrote (no checksum) still load. */
    const char *pats[] = {"tests/cli/data/*-v0.1.ckpt", "tests/fixtures/compat-0.1.0/*/ckpt/*.ckpt"};
    for (int k = 0; k < 2; k++) {
        glob_t gl;
        if (glob(pats[k], 0, NULL, &gl) != 0) {
            CHECK(0, "%s: no files (run the tests from the source tree)", pats[k]);
            continue;
        }
        int ok = 0;
        g = pp_frame_new();
        for (size_t i = 0; i < gl.gl_pathc; i++) {
            if (pp_checkpoint_load(g, gl.gl_pathv[i], NULL, &keep) == 0) ok++;
            else printf("#   %s\n", pp_error());
            free(keep);
        }
        CHECK(ok == (int)gl.gl_pathc && ok >= 5, "the %d checkpoints %s of parpi 0.1 load", ok, pats[k]);
        pp_frame_free(g);
        globfree(&gl);
    }
}

/* A non-finite float in a checkpoint is refused, naming file and field. */
static void test_finite(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/nan.ckpt", dir);
    pp_frame *f = pp_frame_new(), *g = pp_frame_new();
    uint8_t *keep = NULL;
    const float bads[3] = {NAN, INFINITY, -INFINITY};
    const char *names[3] = {"nan", "inf", "-inf"};
    for (int k = 0; k < 3; k++) {
        make_state(f, 1.0f);
        int64_t sh[1] = {4};
        float *m = pp_frame_put_tensor_uninit(f, "adam.v", PP_F32, 1, sh);
        m[0] = m[1] = m[3] = 1.0f;
        m[2] = bads[k];
        pp_checkpoint_save(f, "critic", p);
        char want[600];
        snprintf(want, sizeof want, "%s: adam.v[2] is %s", p, names[k]);
        CHECK(pp_checkpoint_load(g, p, "critic", &keep) == -1 && keep == NULL && strstr(pp_error(), want),
              "%s in adam.v is refused: %s", names[k], pp_error());
    }
    unlink(p);
    pp_frame_free(f);
    pp_frame_free(g);
}

static int exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* Stale temporaries of one target go; nothing else does. */
static void test_stale_temps(void)
{
    char target[512], p[600];
    snprintf(target, sizeof target, "%s/t.ckpt", dir);
    const char *stale[] = {"t.ckpt.tmp.AbC123", "t.ckpt.tmp.zzzzzz"};
    const char *keep[] = {"t.ckpt", "t.ckpt.tmp.toolong1", "t.ckpt.tmp.ab", "u.ckpt.tmp.abcdef",
                          "xt.ckpt.tmp.abcdef", "t.ckpt.tmp.ab-def"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, stale[i]);
        put_file(p, (const uint8_t *)"x", 1);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, keep[i]);
        put_file(p, (const uint8_t *)"x", 1);
    }
    snprintf(p, sizeof p, "%s/t.ckpt.tmp.dir123", dir);
    mkdir(p, 0755);
    CHECK(pp_frame_remove_stale_temps(target) == 2, "two stale temporaries removed");
    int gone = 0, kept = 0;
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, stale[i]);
        gone += !exists(p);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, keep[i]);
        kept += exists(p);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/t.ckpt.tmp.dir123", dir);
    kept += exists(p);
    rmdir(p);
    CHECK(gone == 2 && kept == 7, "only t.ckpt.tmp.XXXXXX files went (%d gone, %d of 7 others kept)", gone, kept);
    CHECK(pp_frame_remove_stale_temps("/nonexistent/dir/t.ckpt") == 0, "a missing directory has none");
}

/* The test write at start. */
static void test_prepare(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/ok.ckpt", dir);
    pp_error_clear();
    CHECK(pp_frame_prepare_save(p) == 0 && !exists(p) && count_temp_files() == 0,
          "a writable target: nothing left behind%s", pp_error());
    snprintf(p, sizeof p, "%s/no/such/dir.ckpt", dir);
    CHECK(pp_frame_prepare_save(p) == -1 && strstr(pp_error(), p) && strstr(pp_error(), "No such file"),
          "a missing directory is named: %s", pp_error());
    snprintf(p, sizeof p, "%s/fifo2.ckpt", dir);
    mkfifo(p, 0600);
    CHECK(pp_frame_prepare_save(p) == -1 && strstr(pp_error(), "is not a regular file"),
          "a FIFO target is refused at start: %s", pp_error());
    unlink(p);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/ro", dir);
    mkdir(sub, 0555);
    snprintf(p, sizeof p, "%s/x.ckpt", sub);
    if (geteuid() == 0) {
        SKIP("a read-only directory (mode 555) is writable by root: tests/cli/faults.bats mounts a read-only tmpfs");
    } else {
        CHECK(pp_frame_prepare_save(p) == -1 && strstr(pp_error(), p) && strstr(pp_error(), "Permission denied"),
              "a read-only directory is named: %s", pp_error());
    }
    rmdir(sub);
    /* A file size limit below one block (run in a child: the limit stays) */
    fflush(stdout); /* the child must not print this process's buffer again */
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {.rlim_cur = 100, .rlim_max = RLIM_INFINITY};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        snprintf(p, sizeof p, "%s/ok.ckpt", dir);
        int rc = pp_frame_prepare_save(p);
        printf("# child: %s\n", pp_error());
        fflush(stdout);
        _exit(rc == -1 && strstr(pp_error(), "File too large") ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && count_temp_files() == 0,
          "a 100-byte file size limit is found by the test write, which leaves nothing");
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
        {"version", 'i', 3, NULL, "new.ckpt: version 3 is newer than this parpi (2)", "newer version"},
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

    make_state(f, 0.5f);
    pp_checkpoint_save(f, "critic", path);
    test_layout(path);
    test_flips(path);
    test_versions();
    test_finite();
    test_stale_temps();
    test_prepare();

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
