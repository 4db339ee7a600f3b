/* frame_file.c - one frame per file: checked load, atomic save. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame_impl.h"

int pp_frame_load_file(pp_frame *f, const char *path, uint8_t **keep_buf)
{
    *keep_buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pp_fail("cannot open %s: %s", path, strerror(errno));
    struct stat st;
    size_t cap = 1 << 16, len = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > PP_DEFAULT_MAX_FRAME) {
            close(fd);
            return pp_fail("%s: %lld bytes, larger than the %zu-byte frame limit", path,
                           (long long)st.st_size, PP_DEFAULT_MAX_FRAME);
        }
        cap = (size_t)st.st_size + 1;
    }
    uint8_t *buf = pp_xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap >= PP_DEFAULT_MAX_FRAME) {
                free(buf);
                close(fd);
                return pp_fail("%s: larger than the %zu-byte frame limit", path, PP_DEFAULT_MAX_FRAME);
            }
            cap *= 2;
            buf = pp_xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            return pp_fail("%s: read error: %s", path, strerror(e));
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    if (len == 0) {
        free(buf);
        return pp_fail("%s: empty file, expected one frame", path);
    }
    if (pp_frame_decode(f, buf, len, 0) != 0) {
        free(buf);
        return pp_fail_prefix("%s: ", path);
    }
    *keep_buf = buf;
    return 0;
}

static int fsync_dir(const char *path)
{
    char *copy = pp_xmalloc(strlen(path) + 1);
    strcpy(copy, path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || fsync(fd) != 0) rc = pp_fail("cannot sync directory %s: %s", dir, strerror(errno));
    if (fd >= 0) close(fd);
    free(copy);
    return rc;
}

int pp_frame_save_file_atomic(pp_frame *f, const char *path)
{
    /* The rename below replaces whatever has this name: a device or a FIFO
     * (--checkpoint /dev/null, as root) would be destroyed, not written. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return pp_fail("%s exists and is not a regular file: a checkpoint or replay file replaces "
                       "its file whole, so it must be one (or not exist yet)",
                       path);
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    if (pp_frame_encode(f, &buf, &cap, &len) != 0) return pp_fail_prefix("writing %s: ", path);
    size_t plen = strlen(path);
    char *tmp = pp_xmalloc(plen + 16);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(buf);
        free(tmp);
        return pp_fail("cannot create a temporary file next to %s: %s", path, strerror(e));
    }
    mode_t mask = umask(0);
    umask(mask);
    int rc = 0;
    if (fchmod(fd, 0666 & ~mask) != 0 || pp_write_all(fd, buf, len) != 0 || fsync(fd) != 0)
        rc = pp_fail("cannot write %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == 0) rc = pp_fail("cannot write %s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0) rc = pp_fail("cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc != 0) unlink(tmp);
    else rc = fsync_dir(path);
    free(buf);
    free(tmp);
    return rc;
}
