/* save.c - atomic saves with a running checksum (save.h), and the
 * housekeeping of save targets (frame.h: stale temporaries, a test write
 * at start). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/crc32c.h"
#include "frame/frame_impl.h"
#include "frame/save.h"

/* The checksum entry: fixstr "checksum", then uint32's marker byte; then
 * the four bytes of the value. */
static const uint8_t sum_head[10] = {0xa8, 'c', 'h', 'e', 'c', 'k', 's', 'u', 'm', 0xce};

#define BUF_BYTES ((size_t)64 << 10) /* small writes are gathered up to this */

struct pp_save {
    int fd;
    char *path, *tmp;
    uint32_t crc;        /* of every byte appended so far */
    uint8_t *buf;
    size_t used;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int pp_sum_check(uint32_t crc, const uint8_t *buf, size_t len, const char *path)
{
    if (len < PP_SUM_ENTRY_BYTES + 1 || memcmp(buf + len - PP_SUM_ENTRY_BYTES, sum_head, sizeof sum_head) != 0)
        return 0;
    uint32_t want = be32(buf + len - 4), got = pp_crc32c(crc, buf, len - 4);
    if (want != got)
        return pp_fail("%s: checksum mismatch (the file says %08x, its contents give %08x): the file was "
                       "damaged (on disk or in a copy) or edited",
                       path, (unsigned)want, (unsigned)got);
    return 1;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = pp_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

/* The rename of a save replaces whatever has this name: a device or a FIFO
 * (--checkpoint /dev/null, as root) would be destroyed, not written. */
static int regular_or_absent(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return pp_fail("%s exists and is not a regular file: a checkpoint or replay file replaces "
                       "its file whole, so it must be one (or not exist yet)",
                       path);
    return 0;
}

/* A temporary file next to path, PATH.tmp.XXXXXX (mkstemp's six letters
 * and digits): its fd, or -1 with errno. *tmp is malloc'd. */
static int make_temp(const char *path, char **tmp)
{
    size_t plen = strlen(path);
    *tmp = pp_xmalloc(plen + 16);
    snprintf(*tmp, plen + 16, "%s.tmp.XXXXXX", path);
    return mkstemp(*tmp);
}

static int fsync_dir(const char *path)
{
    char *copy = xstrdup(path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || fsync(fd) != 0) rc = pp_fail("cannot sync directory %s: %s", dir, strerror(errno));
    if (fd >= 0) close(fd);
    free(copy);
    return rc;
}

static void save_free(pp_save *s)
{
    free(s->path);
    free(s->tmp);
    free(s->buf);
    free(s);
}

int pp_save_open(pp_save **out, const char *path)
{
    *out = NULL;
    if (regular_or_absent(path) != 0) return -1;
    pp_save *s = pp_xcalloc(1, sizeof *s);
    s->fd = make_temp(path, &s->tmp);
    if (s->fd < 0) {
        int e = errno;
        save_free(s);
        return pp_fail("cannot create a temporary file next to %s: %s", path, strerror(e));
    }
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(s->fd, 0666 & ~mask) != 0) {
        pp_fail("cannot write %s: %s", s->tmp, strerror(errno));
        close(s->fd);
        unlink(s->tmp);
        save_free(s);
        return -1;
    }
    s->path = xstrdup(path);
    s->buf = pp_xmalloc(BUF_BYTES);
    *out = s;
    return 0;
}

static int flush(pp_save *s)
{
    if (s->used && pp_write_all(s->fd, s->buf, s->used) != 0)
        return pp_fail("cannot write %s: %s", s->tmp, strerror(errno));
    s->used = 0;
    return 0;
}

int pp_save_write(pp_save *s, const void *p, size_t n)
{
    s->crc = pp_crc32c(s->crc, p, n);
    if (s->used + n <= BUF_BYTES) {
        memcpy(s->buf + s->used, p, n);
        s->used += n;
        return 0;
    }
    if (flush(s) != 0) return -1;
    if (n < BUF_BYTES) {
        memcpy(s->buf, p, n);
        s->used = n;
        return 0;
    }
    if (pp_write_all(s->fd, p, n) != 0) return pp_fail("cannot write %s: %s", s->tmp, strerror(errno));
    return 0;
}

int pp_save_sum(pp_save *s)
{
    if (pp_save_write(s, sum_head, sizeof sum_head) != 0) return -1;
    uint8_t v[4];
    uint32_t crc = s->crc;
    for (int k = 0; k < 4; k++) v[k] = (uint8_t)(crc >> (24 - 8 * k));
    return pp_save_write(s, v, sizeof v);
}

int pp_save_commit(pp_save *s)
{
    int rc = flush(s);
    if (rc == 0 && fsync(s->fd) != 0) rc = pp_fail("cannot write %s: %s", s->tmp, strerror(errno));
    if (close(s->fd) != 0 && rc == 0) rc = pp_fail("cannot write %s: %s", s->tmp, strerror(errno));
    if (rc == 0 && rename(s->tmp, s->path) != 0)
        rc = pp_fail("cannot rename %s to %s: %s", s->tmp, s->path, strerror(errno));
    if (rc != 0) unlink(s->tmp);
    else rc = fsync_dir(s->path);
    save_free(s);
    return rc;
}

const char *pp_save_temp(const pp_save *s) { return s->tmp; }

void pp_save_abort(pp_save *s)
{
    if (!s) return;
    close(s->fd);
    unlink(s->tmp);
    save_free(s);
}

/* ---- save targets ---- */

/* name is base.tmp.XXXXXX, the XXXXXX of mkstemp (letters and digits). */
static int is_temp_of(const char *name, const char *base)
{
    size_t blen = strlen(base);
    if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0) return 0;
    const char *x = name + blen + 5;
    if (strlen(x) != 6) return 0;
    for (int i = 0; i < 6; i++)
        if (!((x[i] >= 'a' && x[i] <= 'z') || (x[i] >= 'A' && x[i] <= 'Z') || (x[i] >= '0' && x[i] <= '9')))
            return 0;
    return 1;
}

int pp_frame_remove_stale_temps(const char *path)
{
    char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
    const char *dir = dirname(dcopy), *base = basename(bcopy);
    int removed = 0;
    DIR *d = base[0] && strcmp(base, "/") != 0 ? opendir(dir) : NULL;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!is_temp_of(e->d_name, base)) continue;
            struct stat st;
            if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
            if (unlinkat(dirfd(d), e->d_name, 0) == 0) removed++;
        }
        closedir(d);
    }
    free(dcopy);
    free(bcopy);
    return removed;
}

int pp_frame_prepare_save(const char *path)
{
    if (!path || !path[0]) return pp_fail("an empty path to save to");
    if (regular_or_absent(path) != 0) return -1;
    pp_frame_remove_stale_temps(path);
    /* A test write of one block: a read-only or full file system, a missing
     * or unwritable directory, a file size limit below a block. */
    static const uint8_t block[512];
    char *tmp = NULL;
    int fd = make_temp(path, &tmp), rc = 0;
    if (fd < 0) rc = pp_fail("cannot save to %s: a test file next to it: %s", path, strerror(errno));
    else {
        if (pp_write_all(fd, block, sizeof block) != 0)
            rc = pp_fail("cannot save to %s: a test write next to it: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
