/* test_replay_file.c - replay buffers through files: round trip (bit-exact,
 * same sampling afterwards), capacity changes, D4RL-style flags, corrupt and
 * foreign files, the checksum (every flipped byte refused; parpi 0.1's files
 * without one still read), and sampled batches in frames. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/err.h"
#include "frame/frame.h"
#include "data/replay.h"

static char dir[] = "/tmp/parpi-test-replay-XXXXXX";

static const char *tmp(const char *name)
{
    static char buf[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

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

static void test_file_is_a_frame(void)
{
    pp_frame *f = pp_frame_new();
    uint8_t *keep = NULL;
    CHECK(pp_frame_load_file(f, tmp("a.replay"), &keep) == 0, "replay file reads as a frame");
    const char *s;
    size_t n;
    int64_t dt_shape[PP_MAX_DIMS];
    pp_dtype dt;
    int nd;
    CHECK(pp_frame_get_str(f, "format", &s, &n) == 0 && n == 12 && !memcmp(s, "parpi-replay", 12),
          "format parpi-replay");
    CHECK(pp_frame_get_tensor_info(f, "observations", &dt, &nd, dt_shape) == 0 && dt == PP_F32 &&
              nd == 2 && dt_shape[0] == 50 && dt_shape[1] == 3,
          "observations f32[50,3]");

    /* D4RL stores flags as bool: rewrite terminals as bool and load */
    uint8_t flags[50];
    for (int i = 0; i < 50; i++) flags[i] = i % 2;
    int64_t shape[1] = {50};
    pp_frame_put_tensor(f, "terminals", PP_BOOL, 1, shape, flags);
    CHECK(pp_frame_save_file_atomic(f, tmp("bool.replay")) == 0, "save with bool terminals");
    pp_replay *r;
    CHECK(pp_replay_load(&r, tmp("bool.replay"), 0) == 0 && r->data.terminated[0] == 0 &&
              r->data.terminated[1] == 1,
          "bool terminals read as 0/1: %s", pp_error());
    pp_replay_free(r);

    /* wrong shape */
    int64_t bad[1] = {49};
    float badrew[49] = {0};
    pp_frame_put_tensor(f, "rewards", PP_F32, 1, bad, badrew);
    pp_frame_save_file_atomic(f, tmp("bad.replay"));
    CHECK(pp_replay_load(&r, tmp("bad.replay"), 0) == -1 && strstr(pp_error(), "rewards") &&
              strstr(pp_error(), "expected [50]"),
          "wrong shape named: %s", pp_error());
    /* inconsistent header */
    pp_frame_set_i64(f, "size", 51);
    pp_frame_save_file_atomic(f, tmp("bad2.replay"));
    CHECK(pp_replay_load(&r, tmp("bad2.replay"), 0) == -1 && strstr(pp_error(), "size"),
          "size beyond capacity refused: %s", pp_error());
    /* not a replay file */
    pp_frame_set_str(f, "format", "parpi-checkpoint");
    pp_frame_save_file_atomic(f, tmp("ckpt"));
    CHECK(pp_replay_load(&r, tmp("ckpt"), 0) == -1 && strstr(pp_error(), "not a parpi replay"),
          "foreign format refused: %s", pp_error());
    pp_frame_set_str(f, "format", "parpi-replay");
    pp_frame_set_i64(f, "version", 99);
    pp_frame_save_file_atomic(f, tmp("v99"));
    CHECK(pp_replay_load(&r, tmp("v99"), 0) == -1 && strstr(pp_error(), "newer"),
          "newer version refused: %s", pp_error());
    CHECK(pp_replay_load(&r, tmp("missing"), 0) == -1, "missing file: %s", pp_error());
    pp_frame_free(f);
    free(keep);

    /* truncated file */
    FILE *in = fopen(tmp("a.replay"), "rb"), *out = fopen(tmp("torn.replay"), "wb");
    char buf[300];
    size_t got = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, got, out);
    fclose(in);
    fclose(out);
    CHECK(pp_replay_load(&r, tmp("torn.replay"), 0) == -1, "torn file refused: %s", pp_error());
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

static void test_checksum(void)
{
    pp_replay *r, *back = NULL;
    pp_replay_create(&r, 12, 3, 2);
    for (int k = 0; k < 17; k++) add_k(r, k);
    CHECK(pp_replay_save(r, tmp("s.replay")) == 0, "save a small wrapped buffer");
    static uint8_t b[4096];
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
          "each of the %zu one-byte flips of a replay file is refused naming the file (%d accepted, %d unnamed)", n,
          accepted, unnamed);

    /* version 1 without a checksum reads; version 2 without one does not */
    pp_frame *f = pp_frame_new();
    uint8_t *keep = NULL, *enc = NULL;
    size_t cap = 0, len = 0;
    CHECK(pp_frame_load_file(f, tmp("s.replay"), &keep) == 0, "the replay file loads as a frame");
    pp_frame_set_i64(f, "version", 1);
    pp_frame_encode(f, &enc, &cap, &len);
    spit(tmp("old.replay"), enc, len);
    CHECK(pp_replay_load(&back, tmp("old.replay"), 0) == 0 && same_contents(r, back),
          "version 1 without a checksum loads, the same buffer: %s", pp_error());
    pp_replay_free(back);
    pp_frame_set_i64(f, "version", 2);
    pp_frame_encode(f, &enc, &cap, &len);
    spit(tmp("old.replay"), enc, len);
    CHECK(pp_replay_load(&back, tmp("old.replay"), 0) == -1 && strstr(pp_error(), "old.replay: no checksum"),
          "version 2 without a checksum is refused: %s", pp_error());
    free(enc);
    free(keep);
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
    if (!mkdtemp(dir)) return 1;
    test_round_trip();
    test_file_is_a_frame();
    test_checksum();
    test_batch_frame();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return check_done();
}
