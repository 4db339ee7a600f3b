/* fuzz_frame.c - libFuzzer target for the frame reader (make fuzz).
 *
 * Each input is decoded as one frame and read as a stream (through a memfd,
 * so the real fd reader runs). Whatever decodes must encode back to exactly
 * the input bytes, survive a setter and a re-decode, and print; whatever does
 * not must fail with a message that names a byte offset. A broken invariant
 * aborts, which libFuzzer (and the corpus test, tests/unit/test_fuzz_corpus.c,
 * which includes this file) report as a crash. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"
#include "frame/frame.h"

static void fuzz_assert(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_frame: invariant broken: %s (last error: %s)\n", what, pp_error());
        abort();
    }
}

static FILE *devnull(void)
{
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    return f;
}

/* Returns 1 if the input decoded as one frame, 0 if not. */
int fuzz_frame_one(const uint8_t *data, size_t size)
{
    static pp_frame *f, *g, *c;
    static uint8_t *buf;
    static size_t cap;
    if (!f) {
        f = pp_frame_new();
        g = pp_frame_new();
        c = pp_frame_new();
    }
    size_t len;
    int decoded = pp_frame_decode(f, data, size, 0) == 0;
    if (decoded) {
        fuzz_assert(pp_frame_encode(f, &buf, &cap, &len) == 0, "encode a decoded frame");
        fuzz_assert(len == size && memcmp(buf, data, size) == 0, "an untouched frame encodes to its input bytes");
        pp_frame_print_summary(f, devnull());
        pp_frame_print_json(f, devnull());
        pp_frame_print_json_opts(f, devnull(), PP_JSON_TENSOR_OBJECT);
        pp_frame_print_fields(f, devnull());
        pp_frame_clear(c);
        fuzz_assert(pp_frame_copy(c, "copy", f, "") == 0, "copy a decoded frame");
        if (pp_frame_set_i64(f, "fuzz.step", 1) == 0) {
            fuzz_assert(pp_frame_encode(f, &buf, &cap, &len) == 0, "encode after a setter");
            fuzz_assert(pp_frame_decode(g, buf, len, 0) == 0, "re-decode after a setter");
            int64_t v = 0;
            fuzz_assert(pp_frame_get_i64(g, "fuzz.step", &v) == 0 && v == 1, "the set value reads back");
        } else { /* the input has a "fuzz" that is not a map */
            fuzz_assert(strstr(pp_error(), "fuzz is ") && strstr(pp_error(), "expected a map"),
                        "a setter fails only below a non-map");
        }
    } else {
        fuzz_assert(strncmp(pp_error(), "byte ", 5) == 0, "a decode error starts with a byte offset");
    }

    int fd = memfd_create("fuzz", 0);
    if (fd < 0) return decoded;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return decoded;
    }
    lseek(fd, 0, SEEK_SET);
    pp_reader *r = pp_reader_open_fd(fd, "in", (size_t)1 << 20);
    int got;
    uint64_t at = 0;
    while ((got = pp_reader_next(r, f)) == 1) {
        uint64_t end = pp_reader_offset(r);
        fuzz_assert(pp_frame_encode(f, &buf, &cap, &len) == 0, "encode a streamed frame");
        fuzz_assert(len == end - at && memcmp(buf, data + at, len) == 0, "a streamed frame encodes to its bytes");
        pp_frame_print_summary(f, devnull());
        at = end;
    }
    if (got < 0) fuzz_assert(strncmp(pp_error(), "in: ", 4) == 0, "a stream error names the stream");
    else fuzz_assert(at == size, "a clean stream end consumed every byte");
    pp_reader_close(r);
    close(fd);
    return decoded;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_frame_one(data, size);
    return 0;
}
