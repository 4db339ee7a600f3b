/* bench_replay.c - saving and loading a replay file at Humanoid shapes
 * (obs 376, act 17: 3088 bytes a row), 1M rows (3.09 GB) by default
 * (BENCH_REPLAY_ROWS=N for another size; the file goes to $TMPDIR or /tmp).
 *
 * Reports, for the save, a load with the file in the page cache (what a
 * resume right after a snapshot sees) and a load from disk (the file's pages
 * dropped with posix_fadvise first): seconds, MB/s of file (a load's time
 * includes making the new buffer, timed alone first), and the peak RSS
 * above what the process held before (VmHWM, reset through
 * /proc/self/clear_refs), against the buffer's own size. Wall-clock times:
 * the disk and other processes move them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peak.h"
#include "base/err.h"
#include "data/replay.h"

#define OBS 376
#define ACT 17
#define MIB (1024.0 * 1024.0)

static void cpu(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096], model[256] = "?";
    int n = 0, avx2 = 0, avx512 = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 && n++ == 0) {
            char *c = strchr(line, ':');
            snprintf(model, sizeof model, "%.200s", c ? c + 2 : line);
            model[strcspn(model, "\n")] = 0;
        }
        if (strncmp(line, "flags", 5) == 0) avx2 = strstr(line, " avx2") != NULL, avx512 = strstr(line, " avx512f") != NULL;
    }
    if (f) fclose(f);
    printf("CPU: %s, %d CPUs%s%s\n", model, n, avx2 ? ", avx2" : "", avx512 ? ", avx512f" : "");
}

static void drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

static int load(const char *path, const char *what, double file, double buffer)
{
    pp_replay *r;
    pk_reset_peak();
    double rss = pk_status_bytes("VmRSS"), t0 = pp_now();
    if (pp_replay_load(&r, path, 0) != 0) {
        fprintf(stderr, "bench_replay: %s\n", pp_error());
        return -1;
    }
    double t = pp_now() - t0, peak = pk_status_bytes("VmHWM") - rss;
    printf("load, %-22s %6.2f s  %5.0f MB/s  peak RSS +%.0f MiB (the buffer %.0f MiB + %.1f MiB)\n", what, t,
           file / 1e6 / t, peak / MIB, buffer / MIB, (peak - buffer) / MIB);
    pp_replay_free(r);
    return 0;
}

int main(void)
{
    const char *env = getenv("BENCH_REPLAY_ROWS"), *base = getenv("TMPDIR");
    long long rows = env && atoll(env) > 0 ? atoll(env) : 1000000;
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/parpi-bench-replay-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/humanoid.replay", dir);
    cpu();

    pp_replay *r;
    double t0 = pp_now();
    if (pp_replay_create(&r, rows, OBS, ACT) != 0) {
        fprintf(stderr, "bench_replay: %s\n", pp_error());
        return 1;
    }
    double t_create = pp_now() - t0;
    /* a full ring of distinct values, the oldest row in the middle */
    for (long long i = 0; i < rows; i++) {
        for (int j = 0; j < OBS; j++) r->data.obs[i * OBS + j] = (float)(i + j), r->data.next_obs[i * OBS + j] = (float)(i - j);
        for (int j = 0; j < ACT; j++) r->data.act[i * ACT + j] = (float)j / (float)ACT;
        r->data.rew[i] = (float)i, r->data.terminated[i] = i % 1000 == 0, r->data.truncated[i] = 0;
    }
    r->size = rows, r->next = rows / 2, r->added = 3 * rows / 2;
    double buffer = (double)rows * (2 * OBS + ACT + 3) * sizeof(float);
    printf("replay at Humanoid shapes: %lld rows x (2x%d obs + %d act + 3) f32 = %.2f GB (%.0f MiB)\n", rows, OBS, ACT,
           buffer / 1e9, buffer / MIB);
    printf("the buffer alone (pp_replay_create: allocate, zero; every load and every fresh start) %.2f s\n", t_create);

    pk_reset_peak();
    double rss = pk_status_bytes("VmRSS");
    t0 = pp_now();
    if (pp_replay_save(r, path) != 0) {
        fprintf(stderr, "bench_replay: %s\n", pp_error());
        return 1;
    }
    double t = pp_now() - t0, peak = pk_status_bytes("VmHWM") - rss;
    struct stat st;
    double file = stat(path, &st) == 0 ? (double)st.st_size : 0;
    printf("save (write, fsync, rename) %6.2f s  %5.0f MB/s  peak RSS +%.1f MiB above the filled buffer; file %.2f GB\n",
           t, file / 1e6 / t, peak / MIB, file / 1e9);
    pp_replay_free(r);

    int rc = load(path, "file in the page cache", file, buffer);
    drop_cache(path);
    if (rc == 0) rc = load(path, "file from disk", file, buffer);
    unlink(path);
    rmdir(dir);
    return rc == 0 ? 0 : 1;
}
