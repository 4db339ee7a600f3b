/* Hostile input: truncation, wrong types, lying lengths, absurd shapes, deep
 * nesting, non-string keys, trailing garbage, refused dtypes and kinds. Each
 * must be an error naming the byte offset and the field path: never a crash,
 * a hang or an allocation out of proportion to the input. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "base/err.h"
#include "frame/frame.h"
#include "frame/frame_impl.h"
#include "frame/mpk.h"
#include "base/rng.h"

static pp_frame *F;

/* Decode as one frame; return the error text ("" on success). */
static const char *decode_err(const uint8_t *d, size_t n)
{
    pp_error_clear();
    if (pp_frame_decode(F, d, n, 0) == 0) return "";
    return pp_error();
}

/* Read as a stream (through a memfd); the error text of the first failure,
 * "" if the stream read cleanly. *frames counts good frames. */
static char stream_msg[2048];
static const char *stream_err(const uint8_t *d, size_t n, size_t max_frame, int *frames)
{
    int fd = memfd_create("hostile", 0);
    if (n && pp_write_all(fd, d, n) != 0) return "memfd write failed";
    lseek(fd, 0, SEEK_SET);
    pp_reader *r = pp_reader_open_fd(fd, "in", max_frame);
    int got, k = 0;
    stream_msg[0] = '\0';
    while ((got = pp_reader_next(r, F)) == 1) k++;
    if (got < 0) snprintf(stream_msg, sizeof stream_msg, "%s", pp_error());
    if (frames) *frames = k;
    pp_reader_close(r);
    close(fd);
    return stream_msg;
}

static int has(const char *s, const char *a) { return strstr(s, a) != NULL; }

/* {"step": 7, "batch": {"obs": tensor f32[3]}} with msgpack-numpy bin keys. */
static size_t good_frame(uint8_t *p0)
{
    uint8_t *p = p0;
    p = pp_mpk_put_map_hdr(p, 2);
    p = pp_mpk_put_str(p, "step", 4);
    p = pp_mpk_put_int(p, 7);
    p = pp_mpk_put_str(p, "batch", 5);
    p = pp_mpk_put_map_hdr(p, 1);
    p = pp_mpk_put_str(p, "obs", 3);
    p = pp_mpk_put_map_hdr(p, 5);
    p = pp_mpk_put_bin(p, "nd", 2);
    p = pp_mpk_put_bool(p, true);
    p = pp_mpk_put_bin(p, "type", 4);
    p = pp_mpk_put_str(p, "<f4", 3);
    p = pp_mpk_put_bin(p, "kind", 4);
    p = pp_mpk_put_bin(p, "", 0);
    p = pp_mpk_put_bin(p, "shape", 5);
    p = pp_mpk_put_array_hdr(p, 1);
    p = pp_mpk_put_int(p, 3);
    p = pp_mpk_put_bin(p, "data", 4);
    float v[3] = {1, 2, 3};
    p = pp_mpk_put_bin(p, v, 12);
    return (size_t)(p - p0);
}

/* A frame {"batch": {"obs": <tensor with the given pieces>}}; the caller's
 * writer fills the tensor map. Returns the offset where the tensor begins. */
typedef struct {
    const char *type, *kind;
    int ndim;
    const int64_t *shape;
    const char *shape_str_at; /* if set: dimension 1 is this str */
    size_t data_len;
    const char *extra_key;
} tspec;

static size_t tensor_frame(uint8_t *p0, const tspec *t, size_t *dim1_at, size_t *data_at, size_t *shape_at)
{
    uint8_t *p = p0;
    p = pp_mpk_put_map_hdr(p, 1);
    p = pp_mpk_put_str(p, "batch", 5);
    p = pp_mpk_put_map_hdr(p, 1);
    p = pp_mpk_put_str(p, "obs", 3);
    p = pp_mpk_put_map_hdr(p, t->extra_key ? 6 : 5);
    p = pp_mpk_put_bin(p, "nd", 2);
    p = pp_mpk_put_bool(p, true);
    p = pp_mpk_put_bin(p, "type", 4);
    p = pp_mpk_put_str(p, t->type, strlen(t->type));
    p = pp_mpk_put_bin(p, "kind", 4);
    p = pp_mpk_put_bin(p, t->kind, strlen(t->kind));
    p = pp_mpk_put_bin(p, "shape", 5);
    if (shape_at) *shape_at = (size_t)(p - p0);
    p = pp_mpk_put_array_hdr(p, (uint64_t)t->ndim);
    for (int i = 0; i < t->ndim; i++) {
        if (i == 1 && t->shape_str_at) {
            if (dim1_at) *dim1_at = (size_t)(p - p0);
            p = pp_mpk_put_str(p, t->shape_str_at, strlen(t->shape_str_at));
        } else {
            p = pp_mpk_put_int(p, t->shape[i]);
        }
    }
    p = pp_mpk_put_bin(p, "data", 4);
    if (data_at) *data_at = (size_t)(p - p0);
    p = pp_mpk_put_bin_hdr(p, t->data_len);
    memset(p, 0, t->data_len);
    p += t->data_len;
    if (t->extra_key) {
        p = pp_mpk_put_bin(p, t->extra_key, strlen(t->extra_key));
        p = pp_mpk_put_nil(p);
    }
    return (size_t)(p - p0);
}

static void test_truncation(void)
{
    uint8_t d[256];
    size_t n = good_frame(d);
    CHECK(decode_err(d, n)[0] == '\0', "the reference frame decodes");
    int all_dec = 1, all_stream = 1;
    for (size_t k = 1; k < n; k++) {
        const char *e = decode_err(d, k);
        if (!has(e, "byte ") || !(has(e, "truncated") || has(e, "remain"))) {
            printf("# prefix %zu: '%s'\n", k, e);
            all_dec = 0;
        }
        char want[64];
        snprintf(want, sizeof want, "in: truncated frame at byte %zu", k);
        const char *s = stream_err(d, k, PP_DEFAULT_MAX_FRAME, NULL);
        if (!has(s, want)) {
            printf("# stream prefix %zu: '%s'\n", k, s);
            all_stream = 0;
        }
    }
    CHECK(all_dec, "each of the %zu truncations of a frame is a decode error with a byte offset", n - 1);
    CHECK(all_stream, "each truncation read as a stream is 'truncated frame at byte N'");
    const char *s = stream_err(d, n - 5, PP_DEFAULT_MAX_FRAME, NULL);
    CHECK(has(s, "(batch.obs.data)") && has(s, "bin of 12 bytes, but only 7 bytes remain"),
          "a truncated stream names the field it stops in: %s", s);
    /* Two good frames and a truncated third: offset of the failure counts from the start. */
    uint8_t three[800];
    memcpy(three, d, n);
    memcpy(three + n, d, n);
    memcpy(three + 2 * n, d, n - 1);
    int frames = 0;
    char want[96];
    snprintf(want, sizeof want, "truncated frame at byte %zu (the frame starts at byte %zu)", 3 * n - 1, 2 * n);
    s = stream_err(three, 3 * n - 1, PP_DEFAULT_MAX_FRAME, &frames);
    CHECK(frames == 2 && has(s, want), "after 2 good frames: %s", s);
    CHECK(has(decode_err(d, 0), "empty input"), "empty input is an error: %s", pp_error());
}

static void test_wrong_types(void)
{
    uint8_t d[512];
    size_t dim1_at = 0, data_at = 0, shape_at = 0;
    int64_t sh[2] = {3, 4};
    char want[160];
    tspec t = {.type = "<f4", .kind = "", .ndim = 2, .shape = sh, .shape_str_at = "x", .data_len = 48};
    size_t n = tensor_frame(d, &t, &dim1_at, &data_at, &shape_at);
    snprintf(want, sizeof want, "byte %zu (batch.obs.shape[1]): expected a non-negative integer, got str", dim1_at);
    const char *e = decode_err(d, n);
    CHECK(has(e, want), "a str in a shape: %s", e);
    e = stream_err(d, n, PP_DEFAULT_MAX_FRAME, NULL);
    CHECK(has(e, "in: ") && has(e, want), "the same through a stream: %s", e);

    t.shape_str_at = NULL;
    int64_t neg[2] = {-3, 4};
    t.shape = neg;
    n = tensor_frame(d, &t, NULL, NULL, &shape_at);
    snprintf(want, sizeof want, "byte %zu (batch.obs.shape[0]): dimension -3 is negative", shape_at + 1);
    CHECK(has(decode_err(d, n), want), "a negative dimension: %s", pp_error());

    t.shape = sh;
    t.data_len = 40;
    n = tensor_frame(d, &t, NULL, &data_at, NULL);
    snprintf(want, sizeof want, "byte %zu (batch.obs.data): data has 40 bytes, expected 48 for f32[3,4]", data_at);
    CHECK(has(decode_err(d, n), want), "data of the wrong length: %s", pp_error());

    t.data_len = 48;
    t.type = ">f4";
    n = tensor_frame(d, &t, NULL, NULL, NULL);
    CHECK(has(decode_err(d, n), "(batch.obs.type): unsupported dtype '>f4'"), "big-endian dtype: %s", pp_error());
    t.type = "<c8";
    n = tensor_frame(d, &t, NULL, NULL, NULL);
    CHECK(has(decode_err(d, n), "unsupported dtype '<c8', expected <f4, <f8, <i4, <i8, |u1 or |b1"),
          "complex dtype: %s", pp_error());
    t.type = "|O";
    t.kind = "O";
    n = tensor_frame(d, &t, NULL, NULL, NULL);
    t.type = "<f4";
    n = tensor_frame(d, &t, NULL, NULL, NULL);
    CHECK(has(decode_err(d, n), "(batch.obs.kind): kind 'O' (pickled Python objects) is refused"),
          "kind O is refused: %s", pp_error());
    t.kind = "V";
    n = tensor_frame(d, &t, NULL, NULL, NULL);
    CHECK(has(decode_err(d, n), "(batch.obs.kind): kind 'V' is not supported"), "kind V: %s", pp_error());
    t.kind = "";
    t.extra_key = "evil";
    n = tensor_frame(d, &t, NULL, NULL, NULL);
    CHECK(has(decode_err(d, n), "(batch.obs.evil): unexpected key in a tensor"), "extra tensor key: %s", pp_error());

    /* nd is not a bool */
    uint8_t *p = d;
    p = pp_mpk_put_map_hdr(p, 1);
    p = pp_mpk_put_str(p, "t", 1);
    p = pp_mpk_put_map_hdr(p, 1);
    p = pp_mpk_put_str(p, "nd", 2);
    p = pp_mpk_put_int(p, 1);
    CHECK(has(decode_err(d, (size_t)(p - d)), "byte 7 (t.nd): expected true or false"), "nd: 1 is refused: %s",
          pp_error());
    /* A frame that is not a map. */
    p = pp_mpk_put_array_hdr(d, 2);
    p = pp_mpk_put_int(p, 1);
    p = pp_mpk_put_int(p, 2);
    CHECK(has(decode_err(d, (size_t)(p - d)), "byte 0: a frame must be a map, got array"), "array frame: %s", pp_error());
    CHECK(has(stream_err(d, (size_t)(p - d), PP_DEFAULT_MAX_FRAME, NULL), "in: byte 0: a frame must be a map, got array"),
          "array frame in a stream: %s", stream_msg);
    /* A tensor as the whole frame. */
    uint8_t tf[256];
    n = tensor_frame(tf, &t, NULL, NULL, NULL);
    t.extra_key = NULL;
    n = tensor_frame(tf, &t, NULL, NULL, NULL);
    CHECK(has(decode_err(tf + 12, n - 12), "a frame must be a map of fields, got a tensor"), "tensor as frame: %s",
          pp_error());
    /* Typed getters on hostile-but-valid content. */
    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "alpha", 5);
    p = pp_mpk_put_str(p, "0.2", 3);
    double x;
    decode_err(d, (size_t)(p - d));
    CHECK(pp_frame_get_f64(F, "alpha", &x) == -1 && has(pp_error(), "field alpha is str, expected a number"),
          "a str where a number is expected: %s", pp_error());
    /* The reserved byte. */
    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "x", 1);
    *p++ = 0xc1;
    CHECK(has(decode_err(d, (size_t)(p - d)), "byte 3 (x): invalid msgpack byte 0xc1"), "0xc1: %s", pp_error());
    CHECK(has(stream_err(d, (size_t)(p - d), PP_DEFAULT_MAX_FRAME, NULL), "byte 3 (x): invalid msgpack byte 0xc1"),
          "0xc1 in a stream: %s", stream_msg);
}

static void test_lying_lengths(void)
{
    uint8_t d[64];
    uint8_t *p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "name", 4);
    p = pp_mpk_put_str_hdr(p, 1000000000);
    memcpy(p, "abc", 3);
    p += 3;
    size_t n = (size_t)(p - d);
    CHECK(has(decode_err(d, n), "byte 6 (name): str of 1000000000 bytes, but only 3 bytes remain"), "str: %s",
          pp_error());
    const char *s = stream_err(d, n, PP_DEFAULT_MAX_FRAME, NULL);
    CHECK(has(s, "truncated frame at byte 14") && has(s, "(name): str of 1000000000 bytes"), "str in a stream: %s", s);
    s = stream_err(d, n, 4096, NULL);
    CHECK(has(s, "larger than the 4096-byte limit") && has(s, "byte 6 (name)"),
          "str beyond --max-frame is refused before reading on: %s", s);

    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "blob", 4);
    p = pp_mpk_put_bin_hdr(p, 0xffffffffu);
    *p++ = 1;
    n = (size_t)(p - d);
    CHECK(has(decode_err(d, n), "byte 6 (blob): bin of 4294967295 bytes, but only 1 bytes remain"), "bin: %s",
          pp_error());
    s = stream_err(d, n, PP_DEFAULT_MAX_FRAME, NULL);
    CHECK(has(s, "larger than the 1073741824-byte limit") && has(s, "(blob)"), "4 GiB bin vs 1 GiB limit: %s", s);

    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "list", 4);
    p = pp_mpk_put_array_hdr(p, 0xffffffffu);
    *p++ = 1;
    *p++ = 2;
    n = (size_t)(p - d);
    CHECK(has(decode_err(d, n), "byte 6 (list): array of 4294967295 elements, but only 2 bytes remain"), "array: %s",
          pp_error());
    CHECK(has(stream_err(d, n, PP_DEFAULT_MAX_FRAME, NULL), "larger than the 1073741824-byte limit"),
          "4-billion-element array vs 1 GiB limit: %s", stream_msg);

    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "m", 1);
    p = pp_mpk_put_map_hdr(p, 100000);
    p = pp_mpk_put_str(p, "k", 1);
    n = (size_t)(p - d);
    CHECK(has(decode_err(d, n), "byte 3 (m): map of 100000 entries, but only 2 bytes remain"), "map: %s", pp_error());
    s = stream_err(d, n, PP_DEFAULT_MAX_FRAME, NULL);
    CHECK(has(s, "truncated frame at byte") && has(s, "(m): map of 100000 entries"), "map in a stream: %s", s);

    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "e", 1);
    p = pp_mpk_put_ext_hdr(p, 3, 70000);
    n = (size_t)(p - d);
    CHECK(has(decode_err(d, n), "byte 3 (e): ext of 70000 bytes, but only 0 bytes remain"), "ext: %s", pp_error());

    /* The top-level map itself lies. */
    p = pp_mpk_put_map_hdr(d, 0xffffffffu);
    n = (size_t)(p - d);
    CHECK(has(decode_err(d, n), "byte 0: map of 4294967295 entries, but only 0 bytes remain"), "root map: %s",
          pp_error());
    CHECK(has(stream_err(d, n, PP_DEFAULT_MAX_FRAME, NULL), "larger than the 1073741824-byte limit"),
          "root map vs frame limit: %s", stream_msg);
    /* A key that lies. */
    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str_hdr(p, 200);
    memcpy(p, "ab", 2);
    p += 2;
    CHECK(has(decode_err(d, (size_t)(p - d)), "byte 1: map key of 200 bytes, but only 2 bytes remain"), "key: %s",
          pp_error());
}

static void test_absurd_shapes(void)
{
    uint8_t d[512];
    size_t shape_at;
    int64_t huge[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    tspec t = {.type = "<f4", .kind = "", .ndim = 2, .shape = huge, .data_len = 4};
    size_t n = tensor_frame(d, &t, NULL, NULL, &shape_at);
    char want[200];
    snprintf(want, sizeof want, "byte %zu (batch.obs.shape): shape [1099511627776,1099511627776] has too many elements",
             shape_at);
    CHECK(has(decode_err(d, n), want), "numel overflow: %s", pp_error());
    int64_t big1[1] = {(int64_t)1 << 62};
    t.shape = big1;
    t.ndim = 1;
    n = tensor_frame(d, &t, NULL, NULL, NULL);
    CHECK(has(decode_err(d, n), "has too many elements"), "numel * itemsize overflow (2^62 floats): %s", pp_error());
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    t.shape = nine;
    t.ndim = 9;
    n = tensor_frame(d, &t, NULL, NULL, &shape_at);
    snprintf(want, sizeof want, "byte %zu (batch.obs.shape): tensor has 9 dimensions, at most 8 are supported", shape_at);
    CHECK(has(decode_err(d, n), want), "9 dimensions: %s", pp_error());
    int64_t zero[3] = {0, 1 << 30, 1 << 30};
    t.shape = zero;
    t.ndim = 3;
    t.data_len = 0;
    n = tensor_frame(d, &t, NULL, NULL, NULL);
    CHECK(decode_err(d, n)[0] == '\0', "a [0, 2^30, 2^30] tensor with no data is valid: %s", pp_error());
}

static void test_nesting_keys_trailing(void)
{
    /* 40 nested maps {"a": {"a": ...}} */
    uint8_t d[4096];
    uint8_t *p = d;
    for (int i = 0; i < 40; i++) {
        p = pp_mpk_put_map_hdr(p, 1);
        p = pp_mpk_put_str(p, "a", 1);
    }
    p = pp_mpk_put_nil(p);
    char path[200] = "", want[300];
    for (int i = 0; i < 32; i++) strcat(path, i ? ".a" : "a");
    snprintf(want, sizeof want, "byte %d (%s): nested deeper than 32 levels", 32 * 3, path);
    CHECK(has(decode_err(d, (size_t)(p - d)), want), "40 nested maps: %s", pp_error());
    CHECK(has(stream_err(d, (size_t)(p - d), PP_DEFAULT_MAX_FRAME, NULL), want), "the same through a stream: %s",
          stream_msg);

    /* 200000 nested arrays under one key: the scanner keeps no stack. */
    size_t deep = 200000;
    uint8_t *big = malloc(deep + 16);
    p = pp_mpk_put_map_hdr(big, 1);
    p = pp_mpk_put_str(p, "x", 1);
    memset(p, 0x91, deep);
    p += deep;
    *p++ = 0xc0;
    size_t n = (size_t)(p - big);
    CHECK(has(decode_err(big, n), "(x[0][0][0]") && has(pp_error(), "nested deeper than 32 levels"),
          "200000 nested arrays: an error, no stack overflow");
    CHECK(has(stream_err(big, n, PP_DEFAULT_MAX_FRAME, NULL), "nested deeper than 32 levels"),
          "200000 nested arrays through a stream");
    free(big);

    /* Non-string keys. */
    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_int(p, 1);
    p = pp_mpk_put_int(p, 2);
    CHECK(has(decode_err(d, (size_t)(p - d)), "byte 1: map key is int, expected str"), "int key: %s", pp_error());
    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_bin(p, "step", 4);
    p = pp_mpk_put_int(p, 2);
    CHECK(has(decode_err(d, (size_t)(p - d)), "byte 1: map key is bin, expected str"), "bin key at frame level: %s",
          pp_error());
    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "m", 1);
    p = pp_mpk_put_map_hdr(p, 1);
    p = pp_mpk_put_nil(p);
    p = pp_mpk_put_int(p, 2);
    CHECK(has(decode_err(d, (size_t)(p - d)), "byte 4 (m): map key is nil, expected str"), "nil key nested: %s",
          pp_error());
    p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_array_hdr(p, 1);
    p = pp_mpk_put_int(p, 2);
    p = pp_mpk_put_int(p, 2);
    CHECK(has(decode_err(d, (size_t)(p - d)), "byte 1: map key is array, expected str"), "array key: %s", pp_error());

    /* Trailing garbage. */
    size_t n1 = good_frame(d);
    d[n1] = 0x01;
    d[n1 + 1] = 0x02;
    char w2[128];
    snprintf(w2, sizeof w2, "byte %zu: 2 bytes of trailing data after the frame", n1);
    CHECK(has(decode_err(d, n1 + 2), w2), "trailing bytes after one frame: %s", pp_error());
    int frames;
    snprintf(w2, sizeof w2, "in: byte %zu: a frame must be a map, got int", n1);
    CHECK(has(stream_err(d, n1 + 2, PP_DEFAULT_MAX_FRAME, &frames), w2) && frames == 1,
          "trailing bytes in a stream: %s", stream_msg);
    /* Frame larger than max_frame. */
    uint8_t *mid = calloc(1, 3000);
    p = pp_mpk_put_map_hdr(mid, 1);
    p = pp_mpk_put_str(p, "b", 1);
    p = pp_mpk_put_bin_hdr(p, 2000);
    p += 2000;
    CHECK(has(stream_err(mid, (size_t)(p - mid), 1024, NULL), "larger than the 1024-byte limit"),
          "a 2 KB frame with --max-frame 1024: %s", stream_msg);
    CHECK(stream_err(mid, (size_t)(p - mid), 4096, &frames)[0] == '\0' && frames == 1,
          "the same frame with --max-frame 4096 is read");
    free(mid);
}

static void test_memory_bound(void)
{
    /* 100000 nils in an array: nodes cost at most a constant per input byte. */
    size_t count = 100000;
    uint8_t *d = malloc(count + 16);
    uint8_t *p = pp_mpk_put_map_hdr(d, 1);
    p = pp_mpk_put_str(p, "a", 1);
    p = pp_mpk_put_array_hdr(p, count);
    memset(p, 0xc0, count);
    p += count;
    size_t n = (size_t)(p - d);
    pp_frame *f = pp_frame_new();
    CHECK(pp_frame_decode(f, d, n, 0) == 0, "an array of 100000 nils decodes");
    size_t total = 0;
    for (int i = 0; i < f->arena.n; i++) total += f->arena.chunks[i].cap;
    CHECK(total <= 160 * n + (64 << 10), "arena %zu bytes for %zu input bytes (%.0f per byte, bound 160)", total, n,
          (double)total / (double)n);
    pp_frame_free(f);
    free(d);
}

static void test_random_garbage(void)
{
    /* Random bytes and random mutations of a good frame: every outcome is a
     * clean frame or an error with a byte offset. */
    pp_rng r;
    pp_rng_seed(&r, 1234);
    uint8_t good[256], buf[300];
    size_t gn = good_frame(good);
    int bad_msgs = 0, oks = 0;
    for (int it = 0; it < 20000; it++) {
        size_t n;
        if (it % 2) {
            n = (size_t)pp_rng_below(&r, 64);
            for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)pp_rng_u64(&r);
            if (n) buf[0] = 0x80 | (buf[0] & 0x0f);
        } else {
            n = gn;
            memcpy(buf, good, gn);
            int flips = 1 + (int)pp_rng_below(&r, 4);
            for (int k = 0; k < flips; k++) buf[pp_rng_below(&r, gn)] = (uint8_t)pp_rng_u64(&r);
        }
        const char *e = decode_err(buf, n);
        if (!e[0]) oks++;
        else if (strncmp(e, "byte ", 5) != 0) {
            if (bad_msgs++ < 5) printf("# input %d: '%s'\n", it, e);
        }
        const char *s = stream_err(buf, n, 1 << 16, NULL);
        if (s[0] && strncmp(s, "in: ", 4) != 0) {
            if (bad_msgs++ < 5) printf("# stream %d: '%s'\n", it, s);
        }
    }
    CHECK(bad_msgs == 0, "20000 random and mutated inputs: no crash, every error has a byte offset (%d decoded)", oks);
}

int main(void)
{
    F = pp_frame_new();
    test_truncation();
    test_wrong_types();
    test_lying_lengths();
    test_absurd_shapes();
    test_nesting_keys_trailing();
    test_memory_bound();
    test_random_garbage();
    pp_frame_free(F);
    return check_done();
}
