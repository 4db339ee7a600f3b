/* frame_file.c - one frame per file: checked load, atomic save with a
 * checksum, and the housekeeping of save targets (stale temporary files, a
 * test write at start).
 *
 * The checksum is the root map's last entry, "checksum": a uint32 in its
 * 5-byte form, so the file stays one msgpack map that any reader takes
 * whole; its last 14 bytes are always
 *     a8 'c' 'h' 'e' 'c' 'k' 's' 'u' 'm' ce X X X X
 * and X (big-endian) is the CRC-32C of every byte before those four.
 */
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
#include "frame/mpk.h"

/* The checksum entry: fixstr "checksum", then uint32's marker byte; then
 * the four bytes of the value. */
static const uint8_t sum_head[10] = {0xa8, 'c', 'h', 'e', 'c', 'k', 's', 'u', 'm', 0xce};
#define SUM_BYTES 14 /* the entry: sum_head and the value */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int has_sum(const uint8_t *buf, size_t len)
{
    return len >= SUM_BYTES + 1 && memcmp(buf + len - SUM_BYTES, sum_head, sizeof sum_head) == 0;
}

/* A file that ends in a checksum entry: 1 when the checksum matches, 0
 * when the file has none, -1 (a message naming the file) when it differs. */
static int verify_sum(const uint8_t *buf, size_t len, const char *path)
{
    if (!has_sum(buf, len)) return 0;
    uint32_t want = be32(buf + len - 4), got = pp_crc32c(0, buf, len - 4);
    if (want != got)
        return pp_fail("%s: checksum mismatch (the file says %08x, its contents give %08x): the file was "
                       "damaged (on disk or in a copy) or edited",
                       path, (unsigned)want, (unsigned)got);
    return 1;
}

/* The checksum entry read by verify_sum is the root's last entry (not the
 * end of a nested map): drop it from the frame, which is then what was
 * saved. 1 dropped, 0 not the root's. */
static int drop_sum(pp_frame *f, const uint8_t *buf, size_t len)
{
    pp_node *root = f->root;
    if (root->type != PP_NODE_MAP || root->v.c.count == 0) return 0;
    pp_node *last = root->v.c.items[root->v.c.count - 1];
    if (last->keylen != 8 || memcmp(last->key, "checksum", 8) != 0 || last->raw != buf + len - 5) return 0;
    root->v.c.count--;
    root->changed = 1;
    return 1;
}

int pp_frame_load_file(pp_frame *f, const char *path, uint8_t **keep_buf)
{
    return pp_frame_load_file_sum(f, path, keep_buf, NULL);
}

int pp_frame_load_file_sum(pp_frame *f, const char *path, uint8_t **keep_buf, bool *had_sum)
{
    *keep_buf = NULL;
    if (had_sum) *had_sum = false;
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
    /* The checksum ends the first object: when that object is intact, what
     * follows it is trailing data (the decoder says so), not damage. Any
     * other file is checked whole. */
    size_t end = len;
    pp_mpk_scan scan;
    pp_mpk_scan_init(&scan);
    if (pp_mpk_scan_feed(&scan, buf, len, len) == 1 && scan.pos < len && verify_sum(buf, (size_t)scan.pos, path) == 1)
        end = (size_t)scan.pos;
    int sum = verify_sum(buf, end, path);
    if (sum < 0) {
        free(buf);
        return -1;
    }
    if (pp_frame_decode(f, buf, len, 0) != 0) {
        free(buf);
        return pp_fail_prefix("%s: ", path);
    }
    if (sum && drop_sum(f, buf, end) && had_sum) *had_sum = true;
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

int pp_frame_save_file_atomic(pp_frame *f, const char *path)
{
    if (regular_or_absent(path) != 0) return -1;
    /* The frame is encoded without a checksum (a loaded frame has none; one
     * set by hand would be stale); its map header then counts one entry
     * more, and the checksum entry follows the last. */
    if (pp_frame_remove(f, "checksum") != 0) return pp_fail_prefix("writing %s: ", path);
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    if (pp_frame_encode(f, &buf, &cap, &len) != 0) return pp_fail_prefix("writing %s: ", path);
    pp_mpk_head h;
    if (pp_mpk_head_read(buf, len, &h) != 1 || h.kind != PP_MPK_MAP) {
        free(buf);
        return pp_fail("writing %s: the encoded frame is not a map", path);
    }
    uint8_t head[9], sum[SUM_BYTES];
    size_t head_len = (size_t)(pp_mpk_put_map_hdr(head, h.len + 1) - head);
    memcpy(sum, sum_head, sizeof sum_head);
    uint32_t crc = pp_crc32c(0, head, head_len);
    crc = pp_crc32c(crc, buf + h.hdr, len - h.hdr);
    crc = pp_crc32c(crc, sum, sizeof sum_head);
    for (int k = 0; k < 4; k++) sum[sizeof sum_head + k] = (uint8_t)(crc >> (24 - 8 * k));

    char *tmp = NULL;
    int fd = make_temp(path, &tmp);
    if (fd < 0) {
        int e = errno;
        free(buf);
        free(tmp);
        return pp_fail("cannot create a temporary file next to %s: %s", path, strerror(e));
    }
    mode_t mask = umask(0);
    umask(mask);
    int rc = 0;
    if (fchmod(fd, 0666 & ~mask) != 0 || pp_write_all(fd, head, head_len) != 0 ||
        pp_write_all(fd, buf + h.hdr, len - h.hdr) != 0 || pp_write_all(fd, sum, sizeof sum) != 0 ||
        fsync(fd) != 0)
        rc = pp_fail("cannot write %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == 0) rc = pp_fail("cannot write %s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0) rc = pp_fail("cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc != 0) unlink(tmp);
    else rc = fsync_dir(path);
    free(buf);
    free(tmp);
    return rc;
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
    char *dcopy = pp_xmalloc(strlen(path) + 1), *bcopy = pp_xmalloc(strlen(path) + 1);
    strcpy(dcopy, path);
    strcpy(bcopy, path);
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
