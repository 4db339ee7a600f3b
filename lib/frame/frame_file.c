/* frame_file.c - one frame per file: checked load, and atomic save with a
 * checksum (save.h: the root map's last entry, "checksum", so the file
 * stays one msgpack map that any reader takes whole).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame_impl.h"
#include "frame/mpk.h"
#include "frame/save.h"

/* The checksum entry read by pp_sum_check is the root's last entry (not the
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
    if (pp_mpk_scan_feed(&scan, buf, len, len) == 1 && scan.pos < len && pp_sum_check(0, buf, (size_t)scan.pos, path) == 1)
        end = (size_t)scan.pos;
    int sum = pp_sum_check(0, buf, end, path);
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

int pp_frame_save_file_atomic(pp_frame *f, const char *path)
{
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
    uint8_t head[9];
    size_t head_len = (size_t)(pp_mpk_put_map_hdr(head, h.len + 1) - head);
    pp_save *s = NULL;
    int rc = pp_save_open(&s, path);
    if (rc == 0 && (pp_save_write(s, head, head_len) != 0 || pp_save_write(s, buf + h.hdr, len - h.hdr) != 0 ||
                    pp_save_sum(s) != 0)) {
        pp_save_abort(s);
        rc = -1;
    } else if (rc == 0) {
        rc = pp_save_commit(s);
    }
    free(buf);
    return rc;
}
