/* rows.h - rows of named columns in one file, as a stream of chunk frames:
 * the file of replay buffers (data/replay.h) and of data sets
 * (data/dataset.h). The layout is parpi-replay(5):
 *
 *   header  {format: "parpi-replay", version: 3, rows, chunk_rows,
 *            [obs_dim, act_dim, capacity, next, added: a replay buffer's ring],
 *            [env], [metadata: {...}],
 *            columns: [{name, dtype: "<f4", width}, ...]}
 *   chunk   {first, count, <name>: tensor [count] or [count, width], ...}
 *           for rows first .. first+count-1, every chunk_rows rows
 *   end     {rows, checksum}
 *
 * "checksum" ends the file and is the CRC-32C of every byte before its last
 * four, as in a checkpoint (frame/save.h, parpi-frame(5) "Checkpoint"), so
 * a file cut at any byte (a chunk boundary too: no end frame) or damaged
 * anywhere is refused, naming it. Saves are atomic (frame/save.h).
 *
 * Memory: saving streams each column straight from its array to the file;
 * loading reads one chunk frame at a time and copies (converting dtypes
 * where asked) into the caller's arrays. Peak memory is the caller's arrays
 * plus the reader's buffer, at most about twice one chunk frame (chunks are
 * at most PP_ROWS_CHUNK_BYTES: 16 MiB).
 *
 * Version 1 and 2 replay files (one frame, all rows in it, version 2 ending
 * in a checksum) read through the same reader, as one chunk.
 */
#ifndef PP_ROWS_H
#define PP_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "data/dataset.h"
#include "frame/frame.h"

#define PP_ROWS_FORMAT "parpi-replay"
#define PP_ROWS_VERSION 3 /* 3: the chunk stream; 2: one frame with a checksum; 1: without */
#define PP_ROWS_CHUNK_BYTES ((int64_t)16 << 20) /* a chunk frame, at most (but one row) */
/* Rows per chunk, for tests that want many small chunks (parpi-replay(5)). */
#define PP_ROWS_CHUNK_ENV "PARPI_CHUNK_ROWS"

typedef struct {
    int64_t rows;
    int ncols;
    pp_column col[PP_DATASET_MAX_COLS]; /* data: rows x width elements (NULL from a reader) */
    char env[64];                       /* "" none */
    pp_frame *meta;                     /* NULL or an empty map: none */
    /* a replay buffer's ring: rows in storage order, the oldest at next once full */
    bool ring;
    int64_t capacity, next, added;
    int obs_dim, act_dim;
    int version;    /* a reader's: the file's version */
    int64_t chunk_rows; /* a reader's: the file's rows per chunk (v1, v2: all) */
} pp_rows_head;

/* Rows per chunk for these columns: $PARPI_CHUNK_ROWS when set (1..2^40),
 * else as many as keep a chunk frame, rows and framing, within
 * PP_ROWS_CHUNK_BYTES (at least 1), so that a reader's buffer, which grows
 * by doubling, stops at 16 MiB. */
int64_t pp_rows_chunk_rows(const pp_rows_head *h);
/* Write h's rows (every col[].data) to path atomically, chunk_rows rows a
 * chunk (0: pp_rows_chunk_rows). Messages do not name path: the caller
 * adds what it saves ("saving replay buffer to PATH: ..."). */
int pp_rows_save(const char *path, const pp_rows_head *h, int64_t chunk_rows);

typedef struct pp_rows_reader pp_rows_reader;
/* Open a file and read its header (a version 1 or 2 file: all of it). */
int pp_rows_open(pp_rows_reader **out, const char *path);
/* The file's header, columns without data. meta is the reader's; a caller
 * may take it (and set it to NULL). */
pp_rows_head *pp_rows_head_of(pp_rows_reader *r);
/* The row of the file that is oldest: 0, or next for a full ring. */
int64_t pp_rows_oldest(const pp_rows_head *h);
/* Read every row into dst[0..ndst): each named as a column of the file, of
 * its width; its dtype the file's, or f32 from f64, bool or u8, or bool
 * from f32, f64 or u8 (nonzero is true). File row i goes to row
 * ((i - start) mod rows) - drop of dst (rows in time order from start,
 * the first drop of them left out), so dst holds rows - drop rows. Then
 * checks the end frame and the checksum. Once per reader. */
int pp_rows_read(pp_rows_reader *r, const pp_column *dst, int ndst, int64_t start, int64_t drop);
void pp_rows_close(pp_rows_reader *r);

#endif
