/* test_replay_long.c - a replay file over 1 GiB at Humanoid shapes (obs 376,
 * act 17: 3088 bytes a row; a ring of 420000 rows, wrapped, 1.30 GB) saves
 * and loads with every row back, and peak memory (VmHWM, reset through
 * /proc/self/clear_refs before each step) stays within the buffer plus one
 * chunk (16 MiB) plus 16 MiB of slack (docs/perf.md has the figures).
 *
 * A long test: PARPI_LONG_TESTS=1 runs it (make check-long does), else it
 * is skipped. It writes a 1.3 GB file in $TMPDIR (default /tmp) and needs
 * about 3 GB of memory and a minute. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "peak.h"
#include "base/err.h"
#include "data/replay.h"

#define OBS 376
#define ACT 17
#define CAP 420000
#define ADDS 450000 /* wrapped: next = 30000 */
#define MIB (1024.0 * 1024.0)
#define CHUNK_MIB 16.0
#define SLACK_MIB 16.0

/* Transition k, the same every time it is asked for. */
static float val(int64_t k, int j) { return (float)((k * 7 + (int64_t)j * 13) % 100003); }

static void add_k(pp_replay *r, int64_t k, float *obs, float *nobs, float *act)
{
    for (int j = 0; j < OBS; j++) obs[j] = val(k, j), nobs[j] = val(k + 1, j);
    for (int j = 0; j < ACT; j++) act[j] = val(k, j + 1000) / 100003.0f;
    pp_replay_add(r, obs, act, (float)(k % 1000), nobs, k % 7 == 0, k % 11 == 0);
}

/* Row i of a buffer holds transition k? */
static int row_is(const pp_replay *r, int64_t i, int64_t k)
{
    const float *o = r->data.obs + i * OBS, *no = r->data.next_obs + i * OBS, *a = r->data.act + i * ACT;
    for (int j = 0; j < OBS; j++)
        if (o[j] != val(k, j) || no[j] != val(k + 1, j)) return 0;
    for (int j = 0; j < ACT; j++)
        if (a[j] != val(k, j + 1000) / 100003.0f) return 0;
    return r->data.rew[i] == (float)(k % 1000) && r->data.terminated[i] == (k % 7 == 0) &&
           r->data.truncated[i] == (k % 11 == 0);
}

int main(void)
{
    const char *on = getenv("PARPI_LONG_TESTS");
    if (!on || strcmp(on, "1") != 0) {
        SKIP("a long test: PARPI_LONG_TESTS=1 runs it (a 1.3 GB replay file at Humanoid shapes, about a minute)");
        return check_done();
    }
    const char *base = getenv("TMPDIR");
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/parpi-test-replay-long-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/humanoid.replay", dir);
    int peaks = pk_reset_peak() == 0 && pk_status_bytes("VmHWM") > 0;
    if (!peaks) printf("# /proc/self/clear_refs cannot reset the peak: memory is not checked\n");

    pp_replay *r;
    float obs[OBS], nobs[OBS], act[ACT];
    CHECK(pp_replay_create(&r, CAP, OBS, ACT) == 0, "a ring of %d rows at obs %d, act %d: %s", CAP, OBS, ACT,
          pp_error());
    double buffer = (double)CAP * (2 * OBS + ACT + 3) * sizeof(float);
    for (int64_t k = 0; k < ADDS; k++) add_k(r, k, obs, nobs, act);

    /* save: the buffer, and no copy of it */
    double rss = pk_status_bytes("VmRSS");
    pk_reset_peak();
    double t0 = pp_now();
    CHECK(pp_replay_save(r, path) == 0, "save: %s", pp_error());
    double t_save = pp_now() - t0, peak = pk_status_bytes("VmHWM");
    struct stat st;
    double bytes = stat(path, &st) == 0 ? (double)st.st_size : 0;
    printf("# buffer %.0f MiB (%.2f GB), file %.2f GB; save %.2f s (%.0f MB/s), peak RSS %.0f MiB, %.1f MiB above "
           "the filled buffer's RSS\n",
           buffer / MIB, buffer / 1e9, bytes / 1e9, t_save, bytes / 1e6 / t_save, peak / MIB, (peak - rss) / MIB);
    CHECK(bytes > (double)(1u << 30), "the file is over 1 GiB (%.2f GB)", bytes / 1e9);
    if (peaks)
        CHECK(peak - rss <= (CHUNK_MIB + SLACK_MIB) * MIB,
              "save's peak is within the buffer + one chunk + slack: %.1f MiB above the buffer (bound %.0f)",
              (peak - rss) / MIB, CHUNK_MIB + SLACK_MIB);
    pp_replay_free(r);

    /* load with the file's capacity: the layout as saved */
    pk_reset_peak();
    rss = pk_status_bytes("VmRSS");
    t0 = pp_now();
    int rc = pp_replay_load(&r, path, 0);
    double t_load = pp_now() - t0;
    peak = pk_status_bytes("VmHWM");
    CHECK(rc == 0 && r->capacity == CAP && r->size == CAP && r->next == ADDS - CAP && r->added == ADDS,
          "load: capacity, size, next and added as saved: %s", pp_error());
    printf("# load %.2f s (%.0f MB/s), peak RSS %.0f MiB: %.1f MiB above the buffer\n", t_load, bytes / 1e6 / t_load,
           (peak - rss) / MIB, (peak - rss - buffer) / MIB);
    if (peaks)
        CHECK(peak - rss <= buffer + (CHUNK_MIB + SLACK_MIB) * MIB,
              "load's peak is within the buffer + one chunk + slack: %.1f MiB above the buffer (bound %.0f)",
              (peak - rss - buffer) / MIB, CHUNK_MIB + SLACK_MIB);
    int64_t wrong = 0;
    for (int64_t i = 0; rc == 0 && i < CAP; i++) wrong += !row_is(r, i, i < ADDS - CAP ? i + CAP : i);
    CHECK(rc == 0 && wrong == 0, "every row back (%lld wrong)", (long long)wrong);
    pp_replay_free(r);

    /* load the newest 100000: a smaller buffer, the same bound */
    pk_reset_peak();
    rss = pk_status_bytes("VmRSS");
    rc = pp_replay_load(&r, path, 100000);
    peak = pk_status_bytes("VmHWM");
    double small = 100000.0 * (2 * OBS + ACT + 3) * sizeof(float);
    wrong = 0;
    for (int64_t i = 0; rc == 0 && i < 100000; i++) wrong += !row_is(r, i, ADDS - 100000 + i);
    CHECK(rc == 0 && r->size == 100000 && r->next == 0 && wrong == 0,
          "load into capacity 100000: the newest rows, oldest first: %s", pp_error());
    if (peaks)
        CHECK(peak - rss <= small + (CHUNK_MIB + SLACK_MIB) * MIB,
              "its peak is within that buffer + one chunk + slack: %.1f MiB above it", (peak - rss - small) / MIB);
    pp_replay_free(r);

    unlink(path);
    rmdir(dir);
    return check_done();
}
