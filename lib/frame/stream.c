/* stream.c - streams of frames on file descriptors.
 *
 * The reader keeps one buffer. It reads what the fd offers, feeds the new
 * bytes to the measuring scanner (mpk.h) until one whole frame is present,
 * then decodes it in place: partial reads, frames far larger than a pipe's
 * 64 KiB and many frames per read all take the same path, each byte is
 * scanned once, and the buffer grows (by doubling) only while a frame is
 * incomplete and never beyond max_frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame_impl.h"
#include "frame/mpk.h"

#define READ_CHUNK ((size_t)64 << 10)

struct pp_reader {
    int fd;
    bool own_fd, eof, failed;
    char *name;
    size_t max_frame;
    uint8_t *buf;
    size_t cap, start, end; /* unread bytes are buf[start..end) */
    uint64_t base;          /* stream offset of buf[0] */
};

struct pp_writer {
    int fd;
    char *name;
    uint8_t *buf;
    size_t cap;
};

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = pp_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

pp_reader *pp_reader_open_fd(int fd, const char *name, size_t max_frame)
{
    pp_reader *r = pp_xcalloc(1, sizeof *r);
    r->fd = fd;
    r->name = xstrdup(name ? name : "input");
    r->max_frame = max_frame ? max_frame : PP_DEFAULT_MAX_FRAME;
    r->cap = READ_CHUNK;
    r->buf = pp_xmalloc(r->cap);
    return r;
}

pp_reader *pp_reader_open_path(const char *path, size_t max_frame)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pp_fail("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    pp_reader *r = pp_reader_open_fd(fd, path, max_frame);
    r->own_fd = true;
    return r;
}

uint64_t pp_reader_offset(const pp_reader *r) { return r->base + r->start; }

const uint8_t *pp_reader_frame_bytes(const pp_reader *r, size_t *len)
{
    *len = r->start; /* the frame is buf[0..start) until the next call */
    return r->buf;
}

void pp_reader_close(pp_reader *r)
{
    if (!r) return;
    if (r->own_fd) close(r->fd);
    free(r->buf);
    free(r->name);
    free(r);
}

static int reader_fail(pp_reader *r)
{
    r->failed = true;
    return pp_fail_prefix("%s: ", r->name);
}

/* A path-naming message for a bad or incomplete prefix: decode what is there. */
static int diagnose(pp_reader *r, pp_frame *f, const char *fallback)
{
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", fallback);
    if (pp_frame_decode(f, r->buf, r->end, r->base) == 0) pp_fail("%s", saved);
    pp_frame_clear(f);
    return -1;
}

int pp_reader_next(pp_reader *r, pp_frame *f)
{
    if (r->failed) return pp_fail("%s: the stream had an error before byte %llu", r->name,
                                  (unsigned long long)(r->base + r->start));
    if (r->start > 0) { /* the previous frame is no longer needed */
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->base += r->start;
        r->end -= r->start;
        r->start = 0;
    }
    pp_mpk_scan s;
    pp_mpk_scan_init(&s);
    bool checked_first = false;
    for (;;) {
        if (r->end > 0) {
            if (!checked_first) {
                uint8_t b = r->buf[0];
                if (!((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf)) {
                    pp_fail("byte %llu: a frame must be a map, got %s", (unsigned long long)r->base,
                            pp_mpk_byte_name(b));
                    return reader_fail(r);
                }
                checked_first = true;
            }
            int rc = pp_mpk_scan_feed(&s, r->buf, r->end, r->max_frame);
            if (rc > 0) {
                size_t len = (size_t)s.pos;
                if (pp_frame_decode(f, r->buf, len, r->base) != 0) return reader_fail(r);
                r->start = len;
                return 1;
            }
            if (rc < 0) {
                char m[1024];
                snprintf(m, sizeof m, "%s", pp_error());
                diagnose(r, f, m);
                if (strstr(m, "frame limit"))
                    pp_fail_prefix("frame larger than the %zu-byte limit (--max-frame): ", r->max_frame);
                return reader_fail(r);
            }
        }
        if (r->eof) {
            if (r->end == 0) return 0;
            diagnose(r, f, "the stream ends inside it");
            pp_fail_prefix("truncated frame at byte %llu (the frame starts at byte %llu): ",
                           (unsigned long long)(r->base + r->end), (unsigned long long)r->base);
            return reader_fail(r);
        }
        if (r->end == r->cap) {
            size_t ncap = r->cap * 2;
            if (ncap > r->max_frame && r->max_frame > r->cap) ncap = r->max_frame;
            if (ncap <= r->cap) {
                pp_fail("frame at byte %llu is larger than the %zu-byte limit (--max-frame)",
                        (unsigned long long)r->base, r->max_frame);
                return reader_fail(r);
            }
            r->buf = pp_xrealloc(r->buf, ncap);
            r->cap = ncap;
        }
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0) {
            if (errno == EINTR) continue;
            pp_fail("read error at byte %llu: %s", (unsigned long long)(r->base + r->end), strerror(errno));
            return reader_fail(r);
        }
        if (n == 0) r->eof = true;
        r->end += (size_t)n;
    }
}

/* ---- writer ---- */
pp_writer *pp_writer_open_fd(int fd, const char *name)
{
    pp_writer *w = pp_xcalloc(1, sizeof *w);
    w->fd = fd;
    w->name = xstrdup(name ? name : "output");
    return w;
}

void pp_writer_close(pp_writer *w)
{
    if (!w) return;
    free(w->buf);
    free(w->name);
    free(w);
}

/* Write all of p[0..n) to fd; -1 with errno set on failure. */
int pp_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int pp_writer_put(pp_writer *w, pp_frame *f)
{
    size_t len;
    if (pp_frame_encode(f, &w->buf, &w->cap, &len) != 0) return pp_fail_prefix("%s: ", w->name);
    if (pp_write_all(w->fd, w->buf, len) != 0) {
        if (errno == EPIPE) return pp_fail("%s: write error: the reader has gone (broken pipe)", w->name);
        return pp_fail("%s: write error: %s", w->name, strerror(errno));
    }
    return 0;
}
