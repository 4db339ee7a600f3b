/* D4RL HDF5 import and export (lib/data/hdf5_d4rl.c, hdf5_export.c) on a
 * hopper-shaped data set of 1M rows: observations and next_observations
 * [N, 11], actions [N, 3], rewards, terminals and timeouts [N], infos/qpos
 * and infos/qvel [N, 6] (152 MB of column data). The values are Gaussian
 * noise, which gzip hardly shrinks: a worst case for the file's size and
 * the compressor's time. Reports the median and the best of REPS runs in
 * seconds and MB/s of column data, and the pairing of next observations
 * (dataset_next.c) alone. The file goes to $TMPDIR (default /tmp). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/rng.h"
#include "data/dataset.h"
#include "data/dataset_next.h"
#include "data/hdf5_d4rl.h"

#define ROWS 1000000
#define REPS 3

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static pp_dataset *hopper(int with_next)
{
    static const struct {
        const char *name;
        int width;
    } cols[] = {{"observations", 11}, {"actions", 3},     {"rewards", 0},    {"next_observations", 11},
                {"infos/qpos", 6},    {"infos/qvel", 6}};
    pp_dataset *d;
    pp_dataset_new(&d, ROWS);
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
        if (!with_next && strcmp(cols[c].name, "next_observations") == 0) continue;
        pp_column *col = pp_dataset_add_column(d, cols[c].name, PP_F32, cols[c].width);
        pp_rng_fill_normal_f32(&rng, col->data, (size_t)ROWS * (size_t)(cols[c].width ? cols[c].width : 1));
    }
    uint8_t *t = pp_dataset_add_column(d, "terminals", PP_BOOL, 0)->data;
    uint8_t *u = pp_dataset_add_column(d, "timeouts", PP_BOOL, 0)->data;
    /* episodes of 1000 steps, one in ten ending in a fall at step 400 */
    for (int64_t e = 0; e * 1000 < ROWS; e++) {
        if (e % 10 == 3) t[e * 1000 + 399] = 1;
        else u[e * 1000 + 999] = 1;
    }
    return d;
}

static double column_mb(const pp_dataset *d)
{
    double b = 0;
    for (int i = 0; i < d->ncols; i++) b += (double)d->rows * (double)pp_column_row_bytes(&d->col[i]);
    return b / 1e6;
}

int main(void)
{
    if (!pp_hdf5_built()) {
        printf("bench_hdf5: skipped, this parpi was built without HDF5 (make HDF5=0)\n");
        return 0;
    }
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_hdf5.%d.hdf5", tmp, (int)getpid());
    pp_dataset *d = hopper(1);
    double mb = column_mb(d), te[REPS], ti[REPS];
    struct stat st = {0};
    for (int r = 0; r < REPS; r++) {
        double t0 = pp_now();
        if (pp_hdf5_export(d, path) != 0) {
            fprintf(stderr, "bench_hdf5: %s\n", pp_error());
            return 1;
        }
        te[r] = pp_now() - t0;
        stat(path, &st);
        pp_dataset *back = NULL;
        pp_hdf5_import_opts o = {.obs_dim = 11, .act_dim = 3};
        t0 = pp_now();
        if (pp_hdf5_import(path, &o, &back, NULL) != 0) {
            fprintf(stderr, "bench_hdf5: %s\n", pp_error());
            return 1;
        }
        ti[r] = pp_now() - t0;
        pp_dataset_free(back);
    }
    unlink(path);
    pp_dataset_free(d);
    qsort(te, REPS, sizeof *te, cmp);
    qsort(ti, REPS, sizeof *ti, cmp);
    printf("hdf5 D4RL file, %d hopper rows (obs 11, act 3, qpos 6, qvel 6, next_observations): %.1f MB of "
           "columns, file %.1f MB (gzip 4)\n",
           ROWS, mb, (double)st.st_size / 1e6);
    printf("  export: median %.2f s (%.0f MB/s), best %.2f s, of %d\n", te[REPS / 2], mb / te[REPS / 2], te[0],
           REPS);
    printf("  import: median %.2f s (%.0f MB/s), best %.2f s, of %d (read, convert, check finite)\n",
           ti[REPS / 2], mb / ti[REPS / 2], ti[0], REPS);
    d = hopper(0);
    double t0 = pp_now();
    pp_next_report rep;
    if (pp_dataset_pair_next(d, &rep) != 0) return 1;
    printf("  pairing next_observations in memory (no file): %.3f s, %lld rows dropped, %lld terminal rows "
           "kept with a placeholder next\n",
           pp_now() - t0, (long long)(rep.dropped_timeout + rep.dropped_tail), (long long)rep.terminal_placeholder);
    pp_dataset_free(d);
    return 0;
}
