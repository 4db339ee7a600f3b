#define _GNU_SOURCE
/* Frames and streams: round trips of every dtype and rank, byte-exact
 * pass-through, setters and paths, streams through pipes in odd chunks,
 * frames bigger than the pipe buffer, EINTR, arena reuse. */
#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/err.h"
#include "frame/frame.h"
#include "frame/frame_impl.h"
#include "frame/mpk.h"

/* ---- a writer thread feeding a pipe in chunks of the given sizes ---- */
typedef struct {
    int fd;
    const uint8_t *data;
    size_t len;
    const size_t *chunks; /* cycled; NULL: all at once */
    int nchunks;
    useconds_t pause_us;  /* before writing anything */
    pthread_t kick;       /* if set: signal this thread before writing */
    int kick_set;
} wjob;

static void *writer(void *arg)
{
    wjob *j = arg;
    if (j->pause_us) usleep(j->pause_us);
    if (j->kick_set) {
        pthread_kill(j->kick, SIGUSR1);
        usleep(20000);
    }
    size_t at = 0;
    for (int k = 0; at < j->len; k++) {
        size_t n = j->chunks ? j->chunks[k % j->nchunks] : j->len - at;
        if (n > j->len - at) n = j->len - at;
        if (pp_write_all(j->fd, j->data + at, n) != 0) break;
        at += n;
    }
    close(j->fd);
    return NULL;
}

static size_t encode(pp_frame *f, uint8_t **buf, size_t *cap)
{
    size_t len = 0;
    if (pp_frame_encode(f, buf, cap, &len) != 0) return 0;
    return len;
}

static void fill(void *p, pp_dtype dt, int64_t n, int seed)
{
    for (int64_t i = 0; i < n; i++) {
        double v = (double)((i * 7 + seed) % 23) - 11.5;
        switch (dt) {
        case PP_F32: ((float *)p)[i] = (float)v * 0.37f; break;
        case PP_F64: ((double *)p)[i] = v * 1e-3 + 1e-17; break;
        case PP_I32: ((int32_t *)p)[i] = (int32_t)(v * 1e6); break;
        case PP_I64: ((int64_t *)p)[i] = (int64_t)(v * 1e15); break;
        case PP_U8: ((uint8_t *)p)[i] = (uint8_t)(i * 13 + (uint64_t)seed); break;
        default: ((uint8_t *)p)[i] = (uint8_t)((i + seed) % 3 == 0); break;
        }
    }
}

static void test_round_trips(void)
{
    pp_frame *f = pp_frame_new(), *g = pp_frame_new();
    uint8_t *buf = NULL;
    size_t cap = 0;
    int64_t shapes[9][8] = {{0}, {5}, {3, 4}, {2, 3, 2}, {1, 2, 1, 3}, {2, 1, 1, 1, 2}, {0, 3}, {1, 1, 1, 1, 1, 1, 1, 2}};
    int ndims[] = {0, 1, 2, 3, 4, 5, 2, 8};
    for (int t = 0; t < PP_DTYPE_COUNT; t++) {
        int all_ok = 1;
        for (int s = 0; s < 8; s++) {
            pp_frame_clear(f);
            int64_t n = pp_shape_numel(ndims[s], shapes[s]);
            size_t bytes = (size_t)n * pp_dtype_size((pp_dtype)t);
            uint8_t src[512], dst[512];
            fill(src, (pp_dtype)t, n, s);
            all_ok &= pp_frame_put_tensor(f, "a.b.x", (pp_dtype)t, ndims[s], shapes[s], src) == 0;
            size_t len = encode(f, &buf, &cap);
            all_ok &= len > 0 && pp_frame_decode(g, buf, len, 0) == 0;
            pp_dtype got;
            int nd;
            int64_t sh[PP_MAX_DIMS];
            all_ok &= pp_frame_get_tensor_info(g, "a.b.x", &got, &nd, sh) == 0 && got == (pp_dtype)t &&
                      nd == ndims[s];
            for (int i = 0; i < nd; i++) all_ok &= sh[i] == shapes[s][i];
            memset(dst, 0xee, sizeof dst);
            all_ok &= pp_frame_read_tensor(g, "a.b.x", (pp_dtype)t, ndims[s], shapes[s], dst, NULL) == 0;
            all_ok &= memcmp(src, dst, bytes) == 0 && dst[bytes] == 0xee;
            if (!all_ok) printf("# failed at dtype %s shape %d: %s\n", pp_dtype_name((pp_dtype)t), s, pp_error());
        }
        CHECK(all_ok, "round trip %s at ranks 0,1,2,3,4,5,8 and an empty tensor", pp_dtype_name((pp_dtype)t));
    }
    /* Scalars of every kind. */
    pp_frame_clear(f);
    pp_frame_set_i64(f, "i", -1234567890123LL);
    pp_frame_set_i64(f, "small", -3);
    pp_frame_set_f64(f, "x", 0.1);
    pp_frame_set_bool(f, "b", true);
    pp_frame_set_str(f, "s", "héllo \"world\"");
    size_t len = encode(f, &buf, &cap);
    CHECK(pp_frame_decode(g, buf, len, 0) == 0, "decode scalars");
    int64_t i;
    double x;
    const char *s;
    size_t sl;
    CHECK(pp_frame_get_i64(g, "i", &i) == 0 && i == -1234567890123LL, "int64 round trip");
    CHECK(pp_frame_get_i64(g, "small", &i) == 0 && i == -3, "negative fixint round trip");
    CHECK(pp_frame_get_f64(g, "x", &x) == 0 && x == 0.1, "float64 round trip is exact");
    CHECK(pp_node_as_f64(pp_frame_get(g, "b"), &x) == 0 && x == 1.0, "bool as f64 is 1");
    CHECK(pp_frame_get_str(g, "s", &s, &sl) == 0 && sl == strlen("héllo \"world\"") && memcmp(s, "héllo", 6) == 0,
          "str round trip");
    free(buf);
    pp_frame_free(f);
    pp_frame_free(g);
}

/* A frame with every msgpack type, some in encodings parpi would not choose
 * (float32, uint8 for a small int, str8 for a short string). */
static size_t build_odd_frame(uint8_t *p0)
{
    uint8_t *p = p0;
    p = pp_mpk_put_map_hdr(p, 11);
    p = pp_mpk_put_str(p, "step", 4);
    *p++ = 0xcc; *p++ = 5;                          /* uint8 5, not fixint */
    p = pp_mpk_put_str(p, "f32", 3);
    *p++ = 0xca; *p++ = 0x3e; *p++ = 0x20; *p++ = 0; *p++ = 0; /* float32 0.15625 */
    p = pp_mpk_put_str(p, "big", 3);
    p = pp_mpk_put_uint(p, UINT64_MAX);
    p = pp_mpk_put_str(p, "name", 4);
    *p++ = 0xd9; *p++ = 2; *p++ = 'h'; *p++ = 'i';  /* str8 "hi" */
    p = pp_mpk_put_str(p, "blob", 4);
    p = pp_mpk_put_bin(p, "\x00\x01\x02", 3);
    p = pp_mpk_put_str(p, "ext", 3);
    p = pp_mpk_put_ext_hdr(p, 7, 3);
    *p++ = 9; *p++ = 8; *p++ = 7;
    p = pp_mpk_put_str(p, "nil", 3);
    p = pp_mpk_put_nil(p);
    p = pp_mpk_put_str(p, "list", 4);
    p = pp_mpk_put_array_hdr(p, 3);
    p = pp_mpk_put_int(p, -100000);
    p = pp_mpk_put_map_hdr(p, 1);
    p = pp_mpk_put_str(p, "k", 1);
    p = pp_mpk_put_bool(p, false);
    p = pp_mpk_put_array_hdr(p, 0);
    p = pp_mpk_put_str(p, "cfg", 3);
    p = pp_mpk_put_map_hdr(p, 2);
    p = pp_mpk_put_str(p, "lr", 2);
    p = pp_mpk_put_f64(p, 3e-4);
    p = pp_mpk_put_str(p, "env", 3);
    p = pp_mpk_put_str(p, "hopper", 6);
    /* a tensor written with str keys and a different key order */
    p = pp_mpk_put_str(p, "w", 1);
    p = pp_mpk_put_map_hdr(p, 4);
    p = pp_mpk_put_str(p, "shape", 5);
    p = pp_mpk_put_array_hdr(p, 1);
    p = pp_mpk_put_int(p, 2);
    p = pp_mpk_put_str(p, "nd", 2);
    p = pp_mpk_put_bool(p, true);
    p = pp_mpk_put_str(p, "data", 4);
    float w[2] = {1.5f, -2.0f};
    p = pp_mpk_put_bin(p, w, 8);
    p = pp_mpk_put_str(p, "type", 4);
    p = pp_mpk_put_bin(p, "<f4", 3);
    /* a numpy scalar, as msgpack-numpy writes np.float64(2.5) */
    p = pp_mpk_put_str(p, "npscalar", 8);
    p = pp_mpk_put_map_hdr(p, 3);
    p = pp_mpk_put_bin(p, "nd", 2);
    p = pp_mpk_put_bool(p, false);
    p = pp_mpk_put_bin(p, "type", 4);
    p = pp_mpk_put_str(p, "<f8", 3);
    p = pp_mpk_put_bin(p, "data", 4);
    double d = 2.5;
    p = pp_mpk_put_bin(p, &d, 8);
    return (size_t)(p - p0);
}

static void test_pass_through(void)
{
    uint8_t in[512];
    size_t n = build_odd_frame(in);
    pp_frame *f = pp_frame_new(), *g = pp_frame_new(), *h = pp_frame_new();
    uint8_t *buf = NULL, *buf2 = NULL;
    size_t cap = 0, cap2 = 0;
    CHECK(pp_frame_decode(f, in, n, 0) == 0, "decode a frame with every msgpack type: %s", pp_error());
    size_t len = encode(f, &buf, &cap);
    CHECK(len == n && memcmp(buf, in, n) == 0, "an untouched frame encodes to the same bytes (%zu of %zu)", len, n);

    double x;
    int64_t i;
    CHECK(pp_frame_get_f64(f, "f32", &x) == 0 && x == 0.15625, "float32 field reads as 0.15625");
    CHECK(pp_node_type_of(pp_frame_get(f, "big")) == PP_NODE_UINT, "uint64 max is a UINT node");
    CHECK(pp_frame_get_i64(f, "big", &i) == -1 && strstr(pp_error(), "too large"), "uint64 max as i64 fails: %s",
          pp_error());
    CHECK(pp_frame_get_f64(f, "npscalar", &x) == 0 && x == 2.5, "a numpy scalar {nd: false} reads as 2.5");
    float w[2];
    int64_t wsh[1] = {2};
    CHECK(pp_frame_read_tensor(f, "w", PP_F32, 1, wsh, w, NULL) == 0 && w[0] == 1.5f && w[1] == -2.0f,
          "a tensor with str keys in another order is recognised");

    /* Change one field: every other field must come out byte for byte. */
    CHECK(pp_frame_set_i64(f, "step", 6) == 0 && pp_frame_set_f64(f, "cfg.lr", 1e-3) == 0, "set step and cfg.lr");
    len = encode(f, &buf, &cap);
    CHECK(pp_frame_decode(g, buf, len, 0) == 0, "decode the changed frame");
    CHECK(pp_frame_get_i64(g, "step", &i) == 0 && i == 6, "step is 6 after the change");
    CHECK(pp_frame_get_f64(g, "cfg.lr", &x) == 0 && x == 1e-3, "cfg.lr is 1e-3 after the change");
    /* Compare the untouched fields: both frames without step and cfg re-encode
     * the root from their children's raw bytes. */
    pp_frame_decode(h, in, n, 0);
    pp_frame_remove(h, "step");
    pp_frame_remove(h, "cfg");
    pp_frame_remove(g, "step");
    pp_frame_remove(g, "cfg");
    size_t l1 = encode(h, &buf2, &cap2);
    uint8_t *keep = malloc(l1);
    memcpy(keep, buf2, l1);
    size_t l2 = encode(g, &buf2, &cap2);
    CHECK(l1 == l2 && memcmp(keep, buf2, l1) == 0, "the 9 untouched fields pass through byte for byte");
    CHECK(memmem(buf, len, "\xca\x3e\x20\x00\x00", 5) != NULL, "the float32 field kept its 5-byte encoding");
    CHECK(memmem(buf, len, "\xcc\x05", 2) == NULL && memmem(buf, len, "\x06", 1) != NULL,
          "the changed step was re-encoded");
    free(keep);

    /* pp_frame_copy keeps raw bytes and survives the source's buffer. */
    pp_frame *c = pp_frame_new();
    uint8_t *tmp = malloc(n);
    memcpy(tmp, in, n);
    pp_frame_decode(h, tmp, n, 0);
    CHECK(pp_frame_copy(c, "saved.cfg", h, "cfg") == 0 && pp_frame_copy(c, "list", h, "list") == 0, "copy subtrees");
    memset(tmp, 0xff, n);
    free(tmp);
    const char *s;
    size_t sl;
    CHECK(pp_frame_get_str(c, "saved.cfg.env", &s, &sl) == 0 && sl == 6 && memcmp(s, "hopper", 6) == 0,
          "copied subtree is independent of the source buffer");
    CHECK(pp_node_len(pp_frame_get(c, "list")) == 3, "copied array has 3 elements");
    pp_frame_free(c);

    free(buf);
    free(buf2);
    pp_frame_free(f);
    pp_frame_free(g);
    pp_frame_free(h);
}

static void test_setters_and_paths(void)
{
    pp_frame *f = pp_frame_new();
    CHECK(pp_node_type_of(pp_frame_root(f)) == PP_NODE_MAP && pp_node_len(pp_frame_root(f)) == 0,
          "a new frame is an empty map");
    pp_frame_set_i64(f, "step", 1);
    pp_frame_set_f64(f, "metrics.critic.q_loss", 0.5);
    pp_frame_set_f64(f, "metrics.critic.q_mean", 2.0);
    pp_frame_set_str(f, "metrics.policy.note", "ok");
    CHECK(pp_node_type_of(pp_frame_get(f, "metrics")) == PP_NODE_MAP, "intermediate maps are created");
    CHECK(pp_node_len(pp_frame_get(f, "metrics.critic")) == 2, "metrics.critic has 2 entries");
    const char *key;
    size_t kl;
    pp_node *v;
    int idx = 0, count = 0;
    char keys[64] = "";
    while ((idx = pp_node_map_next(pp_frame_get(f, "metrics.critic"), idx, &key, &kl, &v)) > 0) {
        strncat(keys, key, kl);
        strcat(keys, ";");
        count++;
    }
    CHECK(count == 2 && strcmp(keys, "q_loss;q_mean;") == 0, "map iteration in insertion order: %s", keys);

    double x;
    int64_t i;
    pp_frame_set_str(f, "step", "now a string");
    CHECK(pp_frame_get_i64(f, "step", &i) == -1 && strstr(pp_error(), "field step is str, expected an integer"),
          "replacing a field changes its type: %s", pp_error());
    CHECK(pp_node_len(pp_frame_root(f)) == 2, "replacing does not add an entry");
    CHECK(pp_frame_get_f64(f, "alpha", &x) == -1 && strcmp(pp_error(), "missing field alpha") == 0,
          "missing field message: %s", pp_error());
    CHECK(pp_frame_get_f64(f, "metrics.policy.note", &x) == -1 &&
              strstr(pp_error(), "metrics.policy.note is str, expected a number"),
          "wrong type message: %s", pp_error());
    CHECK(pp_frame_set_f64(f, "step.x", 1) == -1 && strstr(pp_error(), "step is str, expected a map"),
          "setting below a non-map fails: %s", pp_error());
    char deep[200] = "x";
    for (int k = 1; k < PP_MAX_DEPTH; k++) strcat(deep, ".x");
    CHECK(pp_frame_set_f64(f, deep, 1) == -1 && strstr(pp_error(), "32 components, at most 31"),
          "a path deeper than readers accept is refused: %s", pp_error());
    deep[strlen(deep) - 2] = '\0';
    CHECK(pp_frame_set_f64(f, deep, 1) == 0, "a path of 31 components is accepted");
    uint8_t *dbuf = NULL;
    size_t dcap = 0, dlen = encode(f, &dbuf, &dcap);
    pp_frame *dg = pp_frame_new();
    CHECK(dlen && pp_frame_decode(dg, dbuf, dlen, 0) == 0, "and the frame reads back: %s", pp_error());
    pp_frame_free(dg);
    free(dbuf);
    pp_frame_remove(f, "x");
    CHECK(pp_frame_set_f64(f, "a..b", 1) == -1 && strstr(pp_error(), "empty component"),
          "an empty path component is refused: %s", pp_error());

    float obs[6] = {1, 2, 3, 4, 5, 6};
    int64_t sh[2] = {2, 3};
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, sh, obs);
    float out[6];
    int64_t want[2] = {2, 17}, got[2];
    CHECK(pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, want, out, NULL) == -1 &&
              strcmp(pp_error(), "batch.obs is f32[2,3], expected f32[2,17]") == 0,
          "shape mismatch message: %s", pp_error());
    CHECK(pp_frame_read_tensor(f, "batch.obs", PP_F64, 2, sh, out, NULL) == -1 &&
              strcmp(pp_error(), "batch.obs is f32[2,3], expected f64[2,3]") == 0,
          "dtype mismatch message: %s", pp_error());
    int64_t any[2] = {-1, 3};
    CHECK(pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, any, out, got) == 0 && got[0] == 2 && out[5] == 6,
          "a -1 dimension matches any size and is reported back");
    CHECK(pp_frame_read_tensor(f, "metrics", PP_F32, 2, any, out, got) == -1 &&
              strstr(pp_error(), "metrics is map, expected a tensor"),
          "reading a map as a tensor fails: %s", pp_error());
    float *u = pp_frame_put_tensor_uninit(f, "particles.uK", PP_F32, 2, sh);
    CHECK(u && ((uintptr_t)u & 63) == 0 && u[0] == 0 && u[5] == 0, "uninit tensor is aligned and zeroed");
    int64_t bad[2] = {-2, 3};
    CHECK(pp_frame_put_tensor_uninit(f, "p", PP_F32, 2, bad) == NULL && strstr(pp_error(), "[*,3]"),
          "a negative shape is refused: %s", pp_error());
    CHECK(pp_frame_put_tensor_uninit(f, "p", PP_F32, 9, sh) == NULL && strstr(pp_error(), "9 dimensions"),
          "9 dimensions are refused: %s", pp_error());

    /* A one-element tensor reads as a number. */
    double one = 0.25;
    pp_frame_put_tensor(f, "alpha", PP_F64, 0, NULL, &one);
    CHECK(pp_frame_get_f64(f, "alpha", &x) == 0 && x == 0.25, "a 0-d tensor reads as a number");

    CHECK(pp_frame_remove(f, "metrics.critic.q_loss") == 0 && pp_frame_get(f, "metrics.critic.q_loss") == NULL &&
              pp_frame_get(f, "metrics.critic.q_mean") != NULL,
          "remove one entry of a nested map");
    CHECK(pp_frame_remove(f, "no.such.field") == 0 && pp_frame_remove(f, "nothing") == 0,
          "removing an absent field is not an error");

    /* The changes survive an encode/decode. */
    pp_frame *g = pp_frame_new();
    uint8_t *buf = NULL;
    size_t cap = 0, len = encode(f, &buf, &cap);
    CHECK(pp_frame_decode(g, buf, len, 0) == 0 && pp_frame_get(g, "metrics.critic.q_loss") == NULL &&
              pp_frame_get_f64(g, "metrics.critic.q_mean", &x) == 0 && x == 2.0,
          "removal and nested setters survive encoding");
    pp_node *arr = pp_frame_get(g, "batch.obs");
    CHECK(pp_node_array_at(arr, 0) == NULL && pp_node_bytes(arr, NULL) == NULL, "array/bytes access on a tensor is NULL");
    const void *data;
    pp_dtype dt;
    int nd;
    int64_t shp[8];
    CHECK(pp_node_tensor(arr, &dt, &nd, shp, &data) == 0 && dt == PP_F32 && nd == 2 && shp[1] == 3 &&
              memcmp(data, obs, sizeof obs) == 0,
          "pp_node_tensor gives header and data");
    free(buf);
    pp_frame_free(g);
    pp_frame_free(f);
}

/* Streams: many frames, chunked writers, big frames, EINTR, arena reuse. */
static uint8_t *make_stream(int nframes, size_t tensor_floats, size_t *len_out)
{
    pp_frame *f = pp_frame_new();
    uint8_t *all = NULL, *buf = NULL;
    size_t total = 0, cap = 0;
    float *w = calloc(tensor_floats ? tensor_floats : 1, sizeof *w);
    for (int k = 0; k < nframes; k++) {
        pp_frame_clear(f);
        pp_frame_set_i64(f, "step", k);
        for (size_t i = 0; i < tensor_floats; i++) w[i] = (float)(i % 1000) + (float)k;
        int64_t sh[1] = {(int64_t)tensor_floats};
        pp_frame_put_tensor(f, "policy.w", PP_F32, 1, sh, w);
        size_t len = encode(f, &buf, &cap);
        all = realloc(all, total + len);
        memcpy(all + total, buf, len);
        total += len;
    }
    free(w);
    free(buf);
    pp_frame_free(f);
    *len_out = total;
    return all;
}

static int read_stream(int fd, int nframes, size_t tensor_floats, uint64_t expect_bytes, char *why, size_t whycap)
{
    pp_reader *r = pp_reader_open_fd(fd, "pipe", PP_DEFAULT_MAX_FRAME);
    pp_frame *f = pp_frame_new();
    float *w = malloc((tensor_floats ? tensor_floats : 1) * sizeof *w);
    int k = 0, ok = 1, got;
    while ((got = pp_reader_next(r, f)) == 1) {
        int64_t step = -1, sh[1] = {(int64_t)tensor_floats};
        if (pp_frame_get_i64(f, "step", &step) || step != k ||
            pp_frame_read_tensor(f, "policy.w", PP_F32, 1, sh, w, NULL)) {
            snprintf(why, whycap, "frame %d: step %lld: %s", k, (long long)step, pp_error());
            ok = 0;
            break;
        }
        for (size_t i = 0; i < tensor_floats; i += 997)
            if (w[i] != (float)(i % 1000) + (float)k) ok = 0;
        k++;
    }
    if (got < 0) {
        snprintf(why, whycap, "%s", pp_error());
        ok = 0;
    }
    if (ok && k != nframes) {
        snprintf(why, whycap, "read %d frames, expected %d", k, nframes);
        ok = 0;
    }
    if (ok && pp_reader_offset(r) != expect_bytes) {
        snprintf(why, whycap, "offset %llu, expected %llu", (unsigned long long)pp_reader_offset(r),
                 (unsigned long long)expect_bytes);
        ok = 0;
    }
    free(w);
    pp_frame_free(f);
    pp_reader_close(r);
    return ok;
}

static int pipe_test(int nframes, size_t floats, const size_t *chunks, int nchunks, char *why, size_t whycap)
{
    size_t len;
    uint8_t *data = make_stream(nframes, floats, &len);
    int p[2];
    if (pipe(p) != 0) return 0;
    wjob j = {.fd = p[1], .data = data, .len = len, .chunks = chunks, .nchunks = nchunks};
    pthread_t th;
    pthread_create(&th, NULL, writer, &j);
    int ok = read_stream(p[0], nframes, floats, len, why, whycap);
    pthread_join(th, NULL);
    close(p[0]);
    free(data);
    return ok;
}

static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig) { (void)sig; usr1_seen++; }

static void test_streams(void)
{
    char why[1024] = "";
    static const size_t one[] = {1};
    static const size_t odd[] = {7, 4093, 3, 65537, 1, 12289};
    CHECK(pipe_test(1000, 3, NULL, 0, why, sizeof why), "1000 small frames back to back through a pipe %s", why);
    CHECK(pipe_test(20, 50, one, 1, why, sizeof why), "20 frames written 1 byte at a time %s", why);
    CHECK(pipe_test(30, 3000, odd, 6, why, sizeof why), "30 frames written in odd-size chunks %s", why);
    CHECK(pipe_test(3, 300000, odd, 6, why, sizeof why), "three 1.2 MB frames (> pipe buffer) in odd chunks %s", why);
    CHECK(pipe_test(2, 700000, NULL, 0, why, sizeof why), "two 2.8 MB frames written whole %s", why);
    CHECK(pipe_test(0, 0, NULL, 0, why, sizeof why), "an empty stream gives 0 frames and no error %s", why);

    /* EINTR: a signal without SA_RESTART interrupts the blocked read. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    size_t len;
    uint8_t *data = make_stream(5, 10, &len);
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    wjob j = {.fd = p[1], .data = data, .len = len, .pause_us = 50000, .kick = pthread_self(), .kick_set = 1};
    pthread_t th;
    pthread_create(&th, NULL, writer, &j);
    int ok = read_stream(p[0], 5, 10, len, why, sizeof why);
    pthread_join(th, NULL);
    close(p[0]);
    free(data);
    CHECK(ok && usr1_seen == 1, "a read interrupted by a signal (EINTR) is retried %s", why);

    /* Writer: EPIPE is an error, not a death (SIGPIPE ignored as programs do). */
    signal(SIGPIPE, SIG_IGN);
    CHECK(pipe(p) == 0, "pipe");
    close(p[0]);
    pp_writer *w = pp_writer_open_fd(p[1], "stdout");
    pp_frame *f = pp_frame_new();
    pp_frame_set_i64(f, "step", 1);
    CHECK(pp_writer_put(w, f) == -1 && strstr(pp_error(), "stdout: write error") && strstr(pp_error(), "broken pipe"),
          "writing to a closed pipe fails with a message: %s", pp_error());
    pp_writer_close(w);
    close(p[1]);

    /* Writer then reader through a pipe with pp_writer_put on a > 1 MiB frame. */
    CHECK(pipe(p) == 0, "pipe");
    pp_frame_clear(f);
    int64_t sh[2] = {512, 1024};
    float *big = pp_frame_put_tensor_uninit(f, "policy.params", PP_F32, 2, sh);
    for (int i = 0; i < 512 * 1024; i++) big[i] = (float)i * 0.5f;
    pp_frame_set_i64(f, "step", 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        pp_writer *cw = pp_writer_open_fd(p[1], "pipe");
        int rc = pp_writer_put(cw, f) || pp_writer_put(cw, f);
        _exit(rc ? 1 : 0);
    }
    close(p[1]);
    pp_reader *r = pp_reader_open_fd(p[0], "pipe", PP_DEFAULT_MAX_FRAME);
    pp_frame *g = pp_frame_new();
    int frames = 0, same = 1;
    while (pp_reader_next(r, g) == 1) {
        const void *d;
        same &= pp_node_tensor(pp_frame_get(g, "policy.params"), NULL, NULL, NULL, &d) == 0 &&
                memcmp(d, big, 512 * 1024 * 4) == 0;
        frames++;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(frames == 2 && same && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "two 2 MiB frames from pp_writer_put in a child process arrive intact (%d frames)", frames);
    pp_reader_close(r);
    close(p[0]);

    /* Arena reuse: decoding the same stream again allocates no new chunks. */
    data = make_stream(1, 100000, &len);
    pp_frame_decode(g, data, len, 0);
    pp_frame_set_f64(g, "metrics.x.y", 1);
    pp_frame_put_tensor_uninit(g, "particles.uK", PP_F32, 2, sh);
    int chunks = g->arena.n;
    size_t capsum = 0;
    for (int i = 0; i < g->arena.n; i++) capsum += g->arena.chunks[i].cap;
    for (int k = 0; k < 50; k++) {
        pp_frame_decode(g, data, len, 0);
        pp_frame_set_f64(g, "metrics.x.y", k);
        pp_frame_put_tensor_uninit(g, "particles.uK", PP_F32, 2, sh);
    }
    size_t capsum2 = 0;
    for (int i = 0; i < g->arena.n; i++) capsum2 += g->arena.chunks[i].cap;
    CHECK(g->arena.n == chunks && capsum == capsum2, "a warm frame allocates nothing over 50 more frames (%d chunks, %zu bytes)",
          chunks, capsum);
    free(data);
    pp_frame_free(g);
    pp_frame_free(f);
}

static void test_print(void)
{
    pp_frame *f = pp_frame_new();
    float obs[6] = {1, 2, 3, 4, 5, -6};
    int64_t sh[2] = {2, 3};
    pp_frame_set_i64(f, "step", 3);
    pp_frame_put_tensor(f, "batch.obs", PP_F32, 2, sh, obs);
    pp_frame_set_f64(f, "alpha", 0.1);
    pp_frame_set_str(f, "env", "a\"b");
    char *text = NULL;
    size_t tl = 0;
    FILE *m = open_memstream(&text, &tl);
    pp_frame_print_json(f, m);
    fclose(m);
    CHECK(strcmp(text, "{\"step\":3,\"batch\":{\"obs\":[[1.0,2.0,3.0],[4.0,5.0,-6.0]]},\"alpha\":0.1,\"env\":\"a\\\"b\"}\n") == 0,
          "JSON of a small frame: %s", text);
    free(text);
    m = open_memstream(&text, &tl);
    pp_frame_print_json_opts(f, m, PP_JSON_TENSOR_OBJECT);
    fclose(m);
    CHECK(strstr(text, "\"obs\":{\"dtype\":\"f32\",\"shape\":[2,3],\"data\":[1.0,2.0,3.0,4.0,5.0,-6.0]}") != NULL,
          "JSON with tensor objects: %s", text);
    free(text);
    m = open_memstream(&text, &tl);
    pp_frame_print_summary(f, m);
    fclose(m);
    CHECK(strstr(text, "batch.obs") && strstr(text, "f32[2,3]") && strstr(text, "min -6") && strstr(text, "max 5") &&
              strstr(text, "mean 1.5"),
          "summary names the path, dtype, shape and stats:\n%s", text);
    free(text);
    m = open_memstream(&text, &tl);
    const char *fields[] = {"batch.obs"};
    pp_frame_print_csv(f, fields, 1, true, m);
    fclose(m);
    CHECK(strcmp(text, "obs0,obs1,obs2\n1,2,3\n4,5,-6\n") == 0, "CSV of a 2-D tensor: %s", text);
    free(text);
    m = open_memstream(&text, &tl);
    const char *two[] = {"step", "alpha"};
    pp_frame_print_csv(f, two, 2, true, m);
    fclose(m);
    CHECK(strcmp(text, "step,alpha\n3,0.1\n") == 0, "CSV of two scalars: %s", text);
    free(text);
    const char *mixed[] = {"step", "batch.obs"};
    m = open_memstream(&text, &tl);
    CHECK(pp_frame_print_csv(f, mixed, 2, true, m) == -1 && strstr(pp_error(), "different numbers of rows"),
          "CSV of fields with different row counts fails: %s", pp_error());
    fclose(m);
    free(text);
    pp_frame_free(f);
}

int main(void)
{
    test_round_trips();
    test_pass_through();
    test_setters_and_paths();
    test_streams();
    test_print();
    return check_done();
}
