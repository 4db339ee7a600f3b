/* test_replay_file.c - replay buffers through files (the chunk stream,
 * parpi-replay(5)): round trip (bit-exact, same sampling afterwards), chunk
 * sizes against capacity changes of a wrapped ring, the header, version 1
 * and 2 files (D4RL-style flags, foreign and newer files), damage (every
 * flipped byte, every cut, cuts at chunk boundaries), and sampled batches
 * in frames. Data sets: test_dataset_file.c. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/err.h"
#include "frame/frame.h"
#include "data/replay.h"

#include "tmpdir.h"

static void add_k(pp_replay *r, int k)
{
    float obs[3] = {k, k + 0.5f, -k}, nobs[3] = {k + 1, k + 1.5f, -k - 1};
    float act[2] = {0.001f * k, -0.5f};
    pp_replay_add(r, obs, act, 0.1f * k, nobs, k % 7 == 0, k % 5 == 0);
}

static int same_contents(const pp_replay *a, const pp_replay *b)
{
    if (a->obs_dim != b->obs_dim || a->act_dim != b->act_dim || a->size != b->size ||
        a->capacity != b->capacity || a->next != b->next || a->added != b->added)
        return 0;
    size_t n = (size_t)a->size;
    return !memcmp(a->data.obs, b->data.obs, n * a->obs_dim * 4) &&
           !memcmp(a->data.next_obs, b->data.next_obs, n * a->obs_dim * 4) &&
           !memcmp(a->data.act, b->data.act, n * a->act_dim * 4) &&
           !memcmp(a->data.rew, b->data.rew, n * 4) &&
           !memcmp(a->data.terminated, b->data.terminated, n * 4) &&
           !memcmp(a->data.truncated, b->data.truncated, n * 4);
}

static void test_round_trip(void)
{
    pp_replay *r, *back;
    pp_replay_create(&r, 50, 3, 2);
    for (int k = 0; k < 123; k++) add_k(r, k); /* wrapped */
    CHECK(pp_replay_save(r, tmp("a.replay")) == 0, "save wrapped buffer: %s", pp_error());
    CHECK(pp_replay_load(&back, tmp("a.replay"), 0) == 0, "load: %s", pp_error());
    CHECK(back && same_contents(r, back), "round trip is bit-exact, ring position kept");
    /* sampling continues identically */
    pp_rng r1, r2;
    pp_rng_seed(&r1, 5);
    pp_rng_seed(&r2, 5);
    float o1[3 * 32], o2[3 * 32];
    pp_transitions t1 = {o1, NULL, NULL, NULL, NULL, NULL}, t2 = {o2, NULL, NULL, NULL, NULL, NULL};
    pp_replay_sample(r, &r1, 32, &t1);
    pp_replay_sample(back, &r2, 32, &t2);
    CHECK(memcmp(o1, o2, sizeof o1) == 0, "same samples from the loaded buffer");
    add_k(r, 500);
    add_k(back, 500);
    CHECK(same_contents(r, back), "adding after load overwrites the same row");
    pp_replay_free(back);

    /* a smaller capacity keeps the newest, oldest first */
    CHECK(pp_replay_load(&back, tmp("a.replay"), 10) == 0 && back->capacity == 10 &&
              back->size == 10 && back->next == 0,
          "load into capacity 10");
    /* newest 10 of 0..122 are 113..122 */
    int ok = 1;
    for (int i = 0; i < 10; i++) ok &= back->data.obs[3 * i] == 113 + i;
    CHECK(ok, "kept transitions 113..122 in order");
    pp_replay_free(back);
    /* a larger one keeps all 50, oldest first, and room to grow */
    CHECK(pp_replay_load(&back, tmp("a.replay"), 1000) == 0 && back->size == 50 &&
              back->next == 50 && back->data.obs[0] == 73 && back->data.obs[3 * 49] == 122,
          "load into capacity 1000: 73..122");
    pp_replay_free(back);
    pp_replay_free(r);

    /* empty and partly filled buffers */
    pp_replay_create(&r, 8, 1, 1);
    CHECK(pp_replay_save(r, tmp("empty.replay")) == 0 &&
              pp_replay_load(&back, tmp("empty.replay"), 0) == 0 && back->size == 0,
          "empty buffer round trip: %s", pp_error());
    pp_replay_free(back);
    pp_replay_free(r);
}

/* chunk_rows 0: the default (16 MiB chunks); else PARPI_CHUNK_ROWS */
static void chunks_of(int rows)
{
    char v[32];
    snprintf(v, sizeof v, "%d", rows);
    if (rows > 0) setenv("PARPI_CHUNK_ROWS", v, 1);
    else unsetenv("PARPI_CHUNK_ROWS");
}

/* The frames of a stream: their count, and each one's offset in at[]. */
static int frames_of(const char *path, uint64_t *at, int cap, pp_frame *last_header)
{
    pp_reader *in = pp_reader_open_path(path, 0);
    pp_frame *f = pp_frame_new();
    int n = 0;
    for (;;) {
        uint64_t off = pp_reader_offset(in);
        if (pp_reader_next(in, f) != 1) break;
        if (n == 0 && last_header) pp_frame_copy(last_header, "", f, "");
        if (n < cap) at[n] = off;
        n++;
    }
    pp_frame_free(f);
    pp_reader_close(in);
    return n;
}

/* A wrapped ring, saved in chunks of every size, loads into every
 * capacity as pp_replay_add of its newest rows would have filled it. */
static void test_chunks_and_capacities(void)
{
    pp_replay *r, *back, *want;
    pp_replay_create(&r, 23, 3, 2);
    for (int k = 0; k < 61; k++) add_k(r, k); /* wrapped: next 15 */
    const int chunk_rows[] = {1, 2, 7, 15, 16, 22, 23, 0};
    const int64_t caps[] = {0, 1, 5, 8, 15, 22, 23, 24, 100};
    int bad = 0, frames_ok = 1;
    for (size_t c = 0; c < sizeof chunk_rows / sizeof *chunk_rows; c++) {
        chunks_of(chunk_rows[c]);
        CHECK(pp_replay_save(r, tmp("c.replay")) == 0, "save in chunks of %d rows: %s", chunk_rows[c], pp_error());
        uint64_t at[64];
        int want_frames = 2 + (chunk_rows[c] ? (23 + chunk_rows[c] - 1) / chunk_rows[c] : 1);
        frames_ok &= frames_of(tmp("c.replay"), at, 64, NULL) == want_frames;
        for (size_t k = 0; k < sizeof caps / sizeof *caps; k++) {
            int64_t cap = caps[k];
            if (pp_replay_load(&back, tmp("c.replay"), cap) != 0) {
                printf("#   chunks %d, capacity %lld: %s\n", chunk_rows[c], (long long)cap, pp_error());
                bad++;
                continue;
            }
            if (cap <= 0 || cap == 23) {
                bad += !same_contents(r, back);
            } else {
                pp_replay_create(&want, cap, 3, 2);
                int64_t keep = cap < 23 ? cap : 23;
                for (int64_t j = 61 - keep; j < 61; j++) add_k(want, (int)j);
                want->added = 61;
                if (!same_contents(want, back)) {
                    printf("#   chunks %d, capacity %lld: not the newest rows\n", chunk_rows[c], (long long)cap);
                    bad++;
                }
                pp_replay_free(want);
            }
            pp_replay_free(back);
        }
    }
    CHECK(frames_ok, "a header, ceil(23 / chunk_rows) chunks and an end frame");
    CHECK(bad == 0, "a wrapped ring in chunks of 1..23 rows loads into capacities 1..100, as adds of its newest rows");
    chunks_of(0);
    pp_replay_free(r);
}

/* The header says what the stream holds; chunk frames cut where asked. */
static void test_stream_layout(void)
{
    pp_replay *r;
    pp_replay_create(&r, 50, 3, 2);
    for (int k = 0; k < 123; k++) add_k(r, k);
    chunks_of(16);
    CHECK(pp_replay_save(r, tmp("l.replay")) == 0, "save in chunks of 16");
    chunks_of(0);
    pp_frame *h = pp_frame_new();
    uint64_t at[8];
    int n = frames_of(tmp("l.replay"), at, 8, h);
    const char *s;
    size_t len;
    int64_t v[8];
    CHECK(n == 6, "50 rows in chunks of 16: header, 4 chunks, end (%d frames)", n);
    CHECK(pp_frame_get_str(h, "format", &s, &len) == 0 && len == 12 && !memcmp(s, "parpi-replay", 12) &&
              pp_frame_get_i64(h, "version", &v[0]) == 0 && v[0] == 3 && pp_frame_get_i64(h, "rows", &v[1]) == 0 &&
              v[1] == 50 && pp_frame_get_i64(h, "chunk_rows", &v[2]) == 0 && v[2] == 16 &&
              pp_frame_get_i64(h, "capacity", &v[3]) == 0 && v[3] == 50 && pp_frame_get_i64(h, "next", &v[4]) == 0 &&
              v[4] == 23 && pp_frame_get_i64(h, "added", &v[5]) == 0 && v[5] == 123 &&
              pp_frame_get_i64(h, "obs_dim", &v[6]) == 0 && v[6] == 3,
          "header: format, version 3, rows, chunk_rows, the ring");
    pp_node *cols = pp_frame_get(h, "columns");
    CHECK(cols && pp_node_len(cols) == 6, "header: six columns");
    pp_frame_free(h);
    pp_replay_free(r);
}

/* A version 2 file, one frame, written as parpi 0.2 wrote it. */
static void v2_frame(const pp_replay *r, pp_frame *f, int version)
{
    int64_t n = r->size, s_obs[2] = {n, r->obs_dim}, s_act[2] = {n, r->act_dim}, s_1[1] = {n};
    pp_frame_clear(f);
    pp_frame_set_str(f, "format", "parpi-replay");
    pp_frame_set_i64(f, "version", version);
    pp_frame_set_i64(f, "obs_dim", r->obs_dim);
    pp_frame_set_i64(f, "act_dim", r->act_dim);
    pp_frame_set_i64(f, "capacity", r->capacity);
    pp_frame_set_i64(f, "size", r->size);
    pp_frame_set_i64(f, "next", r->next);
    pp_frame_set_i64(f, "added", r->added);
    pp_frame_put_tensor(f, "observations", PP_F32, 2, s_obs, r->data.obs);
    pp_frame_put_tensor(f, "actions", PP_F32, 2, s_act, r->data.act);
    pp_frame_put_tensor(f, "rewards", PP_F32, 1, s_1, r->data.rew);
    pp_frame_put_tensor(f, "next_observations", PP_F32, 2, s_obs, r->data.next_obs);
    pp_frame_put_tensor(f, "terminals", PP_F32, 1, s_1, r->data.terminated);
    pp_frame_put_tensor(f, "timeouts", PP_F32, 1, s_1, r->data.truncated);
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, cap);
    if (fd >= 0) close(fd);
    return n < 0 ? 0 : (size_t)n;
}

static void spit(const char *path, const uint8_t *buf, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, n) != (ssize_t)n) printf("# cannot write %s\n", path);
    if (fd >= 0) close(fd);
}

/* parpi 0.1 and 0.2's files (versions 1 and 2, one frame) still load. */
static void test_version_2(void)
{
    pp_replay *r, *back = NULL;
    pp_replay_create(&r, 50, 3, 2);
    for (int k = 0; k < 123; k++) add_k(r, k);
    pp_frame *f = pp_frame_new();
    v2_frame(r, f, 2);
    CHECK(pp_frame_save_file_atomic(f, tmp("v2.replay")) == 0 && pp_replay_load(&back, tmp("v2.replay"), 0) == 0 &&
              same_contents(r, back),
          "a version 2 file loads, the same buffer: %s", pp_error());
    pp_replay_free(back);
    CHECK(pp_replay_load(&back, tmp("v2.replay"), 10) == 0 && back->size == 10 && back->data.obs[0] == 113,
          "a version 2 file into capacity 10: the newest rows");
    pp_replay_free(back);

    /* D4RL stores flags as bool */
    uint8_t flags[50];
    for (int i = 0; i < 50; i++) flags[i] = i % 2;
    int64_t shape[1] = {50};
    pp_frame_put_tensor(f, "terminals", PP_BOOL, 1, shape, flags);
    CHECK(pp_frame_save_file_atomic(f, tmp("bool.replay")) == 0, "save with bool terminals");
    CHECK(pp_replay_load(&back, tmp("bool.replay"), 0) == 0 && back->data.terminated[0] == 0 &&
              back->data.terminated[1] == 1,
          "bool terminals read as 0/1: %s", pp_error());
    pp_replay_free(back);
    /* wrong shape */
    int64_t bad[1] = {49};
    float badrew[49] = {0};
    pp_frame_put_tensor(f, "rewards", PP_F32, 1, bad, badrew);
    pp_frame_save_file_atomic(f, tmp("bad.replay"));
    CHECK(pp_replay_load(&back, tmp("bad.replay"), 0) == -1 && strstr(pp_error(), "rewards") &&
              strstr(pp_error(), "expected [50]"),
          "wrong shape named: %s", pp_error());
    /* inconsistent header */
    pp_frame_set_i64(f, "size", 51);
    pp_frame_save_file_atomic(f, tmp("bad2.replay"));
    CHECK(pp_replay_load(&back, tmp("bad2.replay"), 0) == -1 && strstr(pp_error(), "size"),
          "size beyond capacity refused: %s", pp_error());
    /* not a replay file */
    pp_frame_set_str(f, "format", "parpi-checkpoint");
    pp_frame_save_file_atomic(f, tmp("ckpt"));
    CHECK(pp_replay_load(&back, tmp("ckpt"), 0) == -1 && strstr(pp_error(), "not a parpi replay"),
          "foreign format refused: %s", pp_error());
    pp_frame_set_str(f, "format", "parpi-replay");
    pp_frame_set_i64(f, "version", 99);
    pp_frame_save_file_atomic(f, tmp("v99"));
    CHECK(pp_replay_load(&back, tmp("v99"), 0) == -1 && strstr(pp_error(), "newer"),
          "newer version refused: %s", pp_error());
    CHECK(pp_replay_load(&back, tmp("missing"), 0) == -1 && strstr(pp_error(), "missing"), "missing file: %s",
          pp_error());

    /* version 1 without a checksum reads; version 2 without one does not */
    uint8_t *enc = NULL;
    size_t cap = 0, len = 0;
    v2_frame(r, f, 1);
    pp_frame_encode(f, &enc, &cap, &len);
    spit(tmp("old.replay"), enc, len);
    CHECK(pp_replay_load(&back, tmp("old.replay"), 0) == 0 && same_contents(r, back),
          "version 1 without a checksum loads, the same buffer: %s", pp_error());
    pp_replay_free(back);
    v2_frame(r, f, 2);
    pp_frame_encode(f, &enc, &cap, &len);
    spit(tmp("old.replay"), enc, len);
    CHECK(pp_replay_load(&back, tmp("old.replay"), 0) == -1 && strstr(pp_error(), "old.replay: no checksum"),
          "version 2 without a checksum is refused: %s", pp_error());
    /* one frame, then more bytes */
    static uint8_t two[2 * 8192];
    len = slurp(tmp("v2.replay"), two, 8192);
    memcpy(two + len, two, len);
    spit(tmp("two.replay"), two, 2 * len);
    CHECK(pp_replay_load(&back, tmp("two.replay"), 0) == -1 && strstr(pp_error(), "follow the replay frame"),
          "a version 2 file with a second frame is refused: %s", pp_error());
    free(enc);
    pp_frame_free(f);
    pp_replay_free(r);

    /* parpi 0.1's replay files */
    const char *old[] = {"tests/cli/data/collect-v0.1-replay.mp", "tests/fixtures/compat-0.1.0/run/replay.mp",
                         "tests/fixtures/compat-0.1.0/expected/replay.mp"};
    for (int k = 0; k < 3; k++) {
        CHECK(pp_replay_load(&back, old[k], 0) == 0 && back->size > 0, "%s (parpi 0.1, no checksum) loads: %s",
              old[k], pp_error());
        pp_replay_free(back);
    }
}

/* Every one-byte flip and every cut of a small stream is refused, naming
 * the file; a cut at a frame boundary says the end frame is missing. */
static void test_damage(void)
{
    pp_replay *r, *back = NULL;
    pp_replay_create(&r, 12, 3, 2);
    for (int k = 0; k < 17; k++) add_k(r, k);
    chunks_of(5);
    CHECK(pp_replay_save(r, tmp("s.replay")) == 0, "save a small wrapped buffer in chunks of 5");
    chunks_of(0);
    static uint8_t b[8192];
    size_t n = slurp(tmp("s.replay"), b, sizeof b);
    int accepted = 0, unnamed = 0;
    const char *bad = tmp("flip.replay");
    for (size_t i = 0; i < n; i++) {
        b[i] ^= 0xff;
        spit(bad, b, n);
        b[i] ^= 0xff;
        if (pp_replay_load(&back, bad, 0) == 0) {
            if (accepted++ < 3) printf("#   byte %zu flipped: accepted\n", i);
            pp_replay_free(back);
        } else if (!strstr(pp_error(), bad)) {
            if (unnamed++ < 3) printf("#   byte %zu flipped: %s\n", i, pp_error());
        }
    }
    CHECK(n > 500 && accepted == 0 && unnamed == 0,
          "each of the %zu one-byte flips of a replay stream is refused naming the file (%d accepted, %d unnamed)",
          n, accepted, unnamed);
    b[n - 1] ^= 1;
    spit(bad, b, n);
    b[n - 1] ^= 1;
    CHECK(pp_replay_load(&back, bad, 0) == -1 && strstr(pp_error(), "checksum mismatch"),
          "a wrong checksum is named: %s", pp_error());

    accepted = unnamed = 0;
    for (size_t i = 0; i < n; i++) {
        spit(bad, b, i);
        if (pp_replay_load(&back, bad, 0) == 0) {
            if (accepted++ < 3) printf("#   cut at byte %zu: accepted\n", i);
            pp_replay_free(back);
        } else if (!strstr(pp_error(), bad)) {
            if (unnamed++ < 3) printf("#   cut at byte %zu: %s\n", i, pp_error());
        }
    }
    CHECK(accepted == 0 && unnamed == 0, "each of the %zu cuts of a replay stream is refused naming the file", n);
    uint64_t at[16];
    int frames = frames_of(tmp("s.replay"), at, 16, NULL), said = 0;
    for (int k = 1; k < frames; k++) {
        spit(bad, b, (size_t)at[k]);
        said += pp_replay_load(&back, bad, 0) == -1 && strstr(pp_error(), "without its end frame: the file was cut short");
        if (k == 2) printf("#   cut after the first chunk: %s\n", pp_error());
    }
    CHECK(frames == 5 && said == frames - 1,
          "a cut at each of the %d frame boundaries: the end frame is missing (%d said so)", frames - 1, said);
    spit(bad, b, 0);
    CHECK(pp_replay_load(&back, bad, 0) == -1 && strstr(pp_error(), "empty file"), "an empty file: %s", pp_error());
    /* a stream, then more */
    memcpy(b + n, b, n);
    spit(bad, b, 2 * n);
    CHECK(pp_replay_load(&back, bad, 0) == -1 && strstr(pp_error(), "follows the end frame"),
          "a frame after the end frame: %s", pp_error());
    pp_replay_free(r);
}

static void test_batch_frame(void)
{
    pp_replay *r;
    pp_replay_create(&r, 20, 3, 2);
    for (int k = 0; k < 20; k++) add_k(r, k);
    pp_frame *f = pp_frame_new();
    pp_rng rng;
    pp_rng_seed(&rng, 8);
    CHECK(pp_replay_sample_to_frame(r, &rng, 16, f, "batch") == 0, "sample into a frame: %s",
          pp_error());
    float obs[48], nobs[48], rew[16], done[16];
    int64_t s2[2] = {16, 3}, s1[1] = {16};
    CHECK(pp_frame_read_tensor(f, "batch.obs", PP_F32, 2, s2, obs, NULL) == 0 &&
              pp_frame_read_tensor(f, "batch.next_obs", PP_F32, 2, s2, nobs, NULL) == 0 &&
              pp_frame_read_tensor(f, "batch.rew", PP_F32, 1, s1, rew, NULL) == 0 &&
              pp_frame_read_tensor(f, "batch.done", PP_F32, 1, s1, done, NULL) == 0,
          "batch.obs/next_obs/rew/done present: %s", pp_error());
    int ok = 1;
    for (int i = 0; i < 16; i++) {
        int k = (int)obs[3 * i];
        ok &= nobs[3 * i] == k + 1 && rew[i] == 0.1f * k && done[i] == (k % 7 == 0);
    }
    CHECK(ok, "batch rows are consistent transitions");
    pp_frame_free(f);
    pp_replay_free(r);
}

int main(void)
{
    if (tmpdir_make("replay") != 0) return 1;
    test_round_trip();
    test_chunks_and_capacities();
    test_stream_layout();
    test_version_2();
    test_damage();
    test_batch_frame();
    tmpdir_remove();
    return check_done();
}
