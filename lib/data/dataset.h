/* dataset.h - a data set in memory: rows of transitions as named columns.
 *
 * A data set is what D4RL's HDF5 files hold and what parpi-dataset(1)
 * imports, generates, exports and describes: N rows, and per row the
 * columns D4RL names (observations [N, obs_dim], actions [N, act_dim],
 * rewards [N], next_observations [N, obs_dim], terminals [N] and
 * timeouts [N] as bool), optionally infos/qpos, infos/qvel,
 * infos/action_log_probs and any other [N] or [N, width] column, plus a
 * metadata frame (strings, numbers, small tensors: D4RL's metadata/ group).
 *
 * Column names are D4RL's, with '/' for its groups ("infos/qpos"). The
 * columns the replay buffer has are f32 except terminals and timeouts,
 * which are PP_BOOL (one byte, 0 or 1), as in D4RL's files.
 *
 * Files: a data set is stored as a stream of chunk frames (a header frame
 * with the schema, chunks of rows, an end frame with the checksum), the same
 * stream a replay buffer is saved as (data/rows.h, parpi-replay(5)), so a
 * replay file loads as a data set and a data set with the six replay
 * columns loads into a replay buffer.
 */
#ifndef PP_DATASET_H
#define PP_DATASET_H

#include <stdint.h>

#include "frame/frame.h"
#include "frame/tensor.h"

#define PP_DATASET_MAX_COLS 32
#define PP_COLUMN_NAME_MAX 64

typedef struct {
    char name[PP_COLUMN_NAME_MAX]; /* "observations", "infos/qpos" */
    pp_dtype dtype;
    int64_t width;                 /* 0: one value per row ([N]); else [N, width] */
    void *data;                    /* rows * max(width, 1) elements, 64-byte aligned */
} pp_column;

typedef struct {
    int64_t rows;
    int ncols;
    pp_column col[PP_DATASET_MAX_COLS];
    char env[64];   /* the task the rows were recorded on ("Hopper-v3"); "" unknown */
    pp_frame *meta; /* metadata (D4RL's metadata/ group); an empty map when none */
} pp_dataset;

/* A data set of `rows` rows and no columns yet. */
int pp_dataset_new(pp_dataset **out, int64_t rows);
void pp_dataset_free(pp_dataset *d);
/* Add a zeroed column (owned by the data set). Fails on a duplicate or bad
 * name, a full table, or a size that does not fit in memory. */
pp_column *pp_dataset_add_column(pp_dataset *d, const char *name, pp_dtype dtype, int64_t width);
/* The column called name, or NULL. */
pp_column *pp_dataset_column(const pp_dataset *d, const char *name);
/* The same, failing (pp_fail, naming the column and what was expected) when
 * absent or of another dtype or width (width < 0: any). */
pp_column *pp_dataset_need(const pp_dataset *d, const char *name, pp_dtype dtype, int64_t width);
/* Bytes of one row of a column. */
size_t pp_column_row_bytes(const pp_column *c);
/* Give dst every column of src that it lacks (same dtype and width), then
 * copy rows src[from, from + n) to dst[to, to + n) in every column of src;
 * fails on a column of another dtype or width, or rows out of range. */
int pp_dataset_copy_rows(pp_dataset *dst, int64_t to, const pp_dataset *src, int64_t from, int64_t n);

/* ---- files (data/rows.c: the chunk stream of parpi-replay(5)) ---- */
/* Write every column, env and meta atomically (temp file, fsync, rename). */
int pp_dataset_save(const pp_dataset *d, const char *path);
/* Read a data set stream, or a replay file of any version (its six
 * columns, terminals and timeouts as bool). Peak memory: the data set plus
 * one chunk. Errors name the file, the column and the row. */
int pp_dataset_load(pp_dataset **out, const char *path);

#endif
