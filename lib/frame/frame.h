/* frame.h - frames (msgpack maps with string keys) and streams of them.
 *
 * A frame is a tree of nodes. Nodes parsed from input keep a pointer to their
 * original bytes; when a frame is written, every node that was not changed is
 * copied out byte for byte, so fields a stage does not know pass through it
 * untouched. Changing a node (set/put/remove) marks it and its ancestors as
 * changed; those are re-encoded.
 *
 * Paths name nested fields with dots: "batch.obs", "metrics.critic.q_loss";
 * "" is the root. Keys are str; a map with an "nd" key is a tensor (or a
 * numpy scalar {nd: false}, read as a number), so no other map may use "nd".
 * A one-element tensor also reads as a number through get_f64/get_i64.
 *
 * Memory: every node, string and copied tensor of a frame lives in the
 * frame's arena. pp_frame_clear() empties a frame and keeps the arena's
 * memory, so a stage that loops over a stream allocates nothing once warm.
 * Nodes parsed by a reader point into the reader's buffer: they are valid
 * until the next pp_reader_next() on that reader.
 *
 * Hostile input: every declared length is checked against the bytes present
 * before anything is allocated (so memory is bounded by a constant times the
 * input size), nesting deeper than PP_MAX_DEPTH is refused, and each error
 * names the byte offset in the stream and the field path:
 *   "byte 1234 (batch.obs.shape[1]): expected an integer, got str"
 */
#ifndef PP_FRAME_H
#define PP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "frame/tensor.h"

#define PP_MAX_DEPTH 32
#define PP_DEFAULT_MAX_FRAME ((size_t)1 << 30) /* 1 GiB; readers take a limit */

typedef enum {
    PP_NODE_NIL = 0,
    PP_NODE_BOOL,
    PP_NODE_INT,     /* signed or unsigned integer that fits int64 */
    PP_NODE_UINT,    /* unsigned integer above INT64_MAX */
    PP_NODE_FLOAT,   /* float32 or float64 (value kept as double) */
    PP_NODE_STR,
    PP_NODE_BIN,
    PP_NODE_EXT,
    PP_NODE_ARRAY,
    PP_NODE_MAP,
    PP_NODE_TENSOR   /* a map in the msgpack-numpy form, recognised on parse */
} pp_node_type;

typedef struct pp_node pp_node;
typedef struct pp_frame pp_frame;

/* ---- frames ---- */
pp_frame *pp_frame_new(void);
void pp_frame_free(pp_frame *f);
void pp_frame_clear(pp_frame *f);   /* empty map; memory kept */
pp_node *pp_frame_root(pp_frame *f); /* always a map */

/* Lookup by dotted path; NULL if absent. */
pp_node *pp_frame_get(pp_frame *f, const char *path);
pp_node_type pp_node_type_of(const pp_node *n);
const char *pp_node_type_name(pp_node_type t);

/* Typed getters: return 0 and fill *out, or -1 with a message naming the path
 * ("missing field batch.obs" / "field alpha is str, expected a number"). */
int pp_frame_get_f64(pp_frame *f, const char *path, double *out);  /* int or float */
int pp_frame_get_i64(pp_frame *f, const char *path, int64_t *out);
int pp_frame_get_str(pp_frame *f, const char *path, const char **s, size_t *len);
/* Tensor header without copying data. */
int pp_frame_get_tensor_info(pp_frame *f, const char *path, pp_dtype *dtype, int *ndim,
                             int64_t shape[PP_MAX_DIMS]);
/* Copy a tensor's data into dst, checking dtype and shape. A -1 in
 * expected_shape matches any size and is reported back through got_shape
 * (may be NULL). Error: "batch.obs is f32[256,11], expected f32[256,17]". */
int pp_frame_read_tensor(pp_frame *f, const char *path, pp_dtype dtype, int ndim,
                         const int64_t *expected_shape, void *dst, int64_t *got_shape);

/* Setters create intermediate maps as needed and replace an existing field. */
int pp_frame_set_f64(pp_frame *f, const char *path, double v);
int pp_frame_set_i64(pp_frame *f, const char *path, int64_t v);
int pp_frame_set_bool(pp_frame *f, const char *path, bool v);
int pp_frame_set_str(pp_frame *f, const char *path, const char *s);
/* Copy data into the frame (arena) as a tensor. */
int pp_frame_put_tensor(pp_frame *f, const char *path, pp_dtype dtype, int ndim,
                        const int64_t *shape, const void *data);
/* Reserve a tensor in the frame and return a pointer to fill (aligned, zeroed). */
void *pp_frame_put_tensor_uninit(pp_frame *f, const char *path, pp_dtype dtype, int ndim,
                                 const int64_t *shape);
int pp_frame_remove(pp_frame *f, const char *path);  /* 0 whether or not it existed */
/* Remove each path of a comma-separated list ("q,disc,particles"); no allocation. */
int pp_frame_remove_list(pp_frame *f, const char *list);
/* Copy the subtree at src_path of src into dst at dst_path (raw bytes kept). */
int pp_frame_copy(pp_frame *dst, const char *dst_path, pp_frame *src, const char *src_path);

/* Iterate the entries of a map node: key (not NUL-terminated) and value.
 * Returns the next entry index or -1 at the end; start with idx = 0. */
int pp_node_map_next(const pp_node *map, int idx, const char **key, size_t *keylen,
                     pp_node **value);
size_t pp_node_len(const pp_node *n);               /* entries of map/array, bytes of str/bin */
pp_node *pp_node_array_at(const pp_node *arr, size_t i);
int pp_node_as_f64(const pp_node *n, double *out);   /* int/uint/float/bool */
/* Tensor node access: header and a pointer to the (possibly unaligned) data bytes. */
int pp_node_tensor(const pp_node *n, pp_dtype *dtype, int *ndim, int64_t shape[PP_MAX_DIMS],
                   const void **data);
/* Bytes of a str/bin node. */
const char *pp_node_bytes(const pp_node *n, size_t *len);

/* ---- encoding ---- */
/* Encode the frame into a growable buffer (*buf, *cap reused across calls). */
int pp_frame_encode(pp_frame *f, uint8_t **buf, size_t *cap, size_t *len);
/* A tensor's encoding up to its data: the msgpack-numpy map, its keys, type
 * and shape, and the data's bin header (at most PP_TENSOR_HEAD_MAX bytes);
 * its length. The data's bytes follow: for writers that stream a tensor's
 * data from memory of their own (data/rows.c). */
#define PP_TENSOR_HEAD_MAX (48 + 9 * PP_MAX_DIMS)
size_t pp_tensor_head_encode(uint8_t *buf, pp_dtype dtype, int ndim, const int64_t *shape);
/* Parse exactly one msgpack map occupying data[0..len); base_offset is added to
 * byte offsets in error messages. The frame points into data. */
int pp_frame_decode(pp_frame *f, const uint8_t *data, size_t len, size_t base_offset);

/* ---- streams ---- */
typedef struct pp_reader pp_reader;
/* name is used in messages ("stdin", a path). max_frame bounds one frame. */
pp_reader *pp_reader_open_fd(int fd, const char *name, size_t max_frame);
pp_reader *pp_reader_open_path(const char *path, size_t max_frame); /* NULL + pp_fail on error */
/* 1: a frame was read into f; 0: clean end of stream; -1: error (truncated
 * frame, corrupt data, read error) with byte offset in the message. Retries EINTR.
 * Handles partial reads, frames larger than the pipe buffer. */
int pp_reader_next(pp_reader *r, pp_frame *f);
uint64_t pp_reader_offset(const pp_reader *r); /* bytes consumed so far */
/* The bytes of the frame pp_reader_next last returned (valid until the next
 * call), for a reader that checks a checksum over a stream. */
const uint8_t *pp_reader_frame_bytes(const pp_reader *r, size_t *len);
void pp_reader_close(pp_reader *r);            /* closes the fd if opened from a path */

typedef struct pp_writer pp_writer;
pp_writer *pp_writer_open_fd(int fd, const char *name);
/* Write one frame fully (loops over partial writes; EPIPE is an error, not a signal
 * death: programs ignore SIGPIPE). */
int pp_writer_put(pp_writer *w, pp_frame *f);
void pp_writer_close(pp_writer *w); /* does not close the fd */

/* Whole-file helpers: read one frame from a file (must contain exactly one),
 * or write one frame atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory. A crash never leaves a torn file.
 * A saved file ends in a checksum, the root map's last entry "checksum"
 * (uint32): the CRC-32C of every byte of the file before its last four
 * (parpi-frame(5), "Checkpoint"). */
/* load_file: *keep_buf receives the file's bytes, which the frame points into:
 * free() it once the frame is no longer used (NULL on error). A file that
 * ends in a checksum is checked before it is parsed ("PATH: checksum
 * mismatch ..."), and the field is not part of the frame. */
int pp_frame_load_file(pp_frame *f, const char *path, uint8_t **keep_buf);
/* The same; *had_sum (may be NULL): whether the file had a checksum, for
 * formats whose newer versions must have one. */
int pp_frame_load_file_sum(pp_frame *f, const char *path, uint8_t **keep_buf, bool *had_sum);
/* Saving replaces a "checksum" field of f by the file's own. */
int pp_frame_save_file_atomic(pp_frame *f, const char *path);
/* Remove PATH.tmp.XXXXXX, the temporaries a save killed half way leaves
 * (regular files only). The number removed. */
int pp_frame_remove_stale_temps(const char *path);
/* At the start of a program that will save to path: remove its stale
 * temporaries, refuse a path that is not a regular file, and write and
 * remove a test file next to it, so a missing or read-only directory, a full
 * disk or a file size limit is found before the work, not after it.
 * 0, or -1 with a message naming path. */
int pp_frame_prepare_save(const char *path);

/* ---- checkpoints ---- */
/* A checkpoint is a frame with "format": "parpi-checkpoint", "version": PP_CKPT_VERSION,
 * "kind": <stage kind>, plus whatever the stage stores. */
#define PP_CKPT_VERSION 2 /* 2: ends in a checksum (1: none, still read) */
/* Set format/version/kind on f and save atomically. */
int pp_checkpoint_save(pp_frame *f, const char *kind, const char *path);
/* Load and check the checksum (required from version 2), format, version
 * and kind (kind NULL: any), and that every f32/f64 tensor is finite. Messages:
 * "run/q.ckpt: checksum mismatch (...)", "run/q.ckpt: not a parpi checkpoint (format is ...)",
 * "...: kind is policy, expected critic", "...: version 3 is newer than this parpi (2)",
 * "...: adam.v[17] is nan: ...". *keep_buf must be freed by the caller
 * after the frame is no longer used (the frame points into it). */
int pp_checkpoint_load(pp_frame *f, const char *path, const char *kind, uint8_t **keep_buf);

/* ---- text output (parpi-cat) ---- */
/* Human summary: one line per field path with dtype, shape, min/mean/max. */
int pp_frame_print_summary(pp_frame *f, FILE *out);
/* Whole frame as JSON on one line (tensors as nested arrays; NaN/Inf as
 * null; bin as a base64 string; ext as {"ext": type, "data": base64}). */
int pp_frame_print_json(pp_frame *f, FILE *out);
#define PP_JSON_TENSOR_OBJECT 1 /* tensors as {"dtype":"f32","shape":[..],"data":[flat]} */
int pp_frame_print_json_opts(pp_frame *f, FILE *out, int flags);
/* Field paths, one per line (maps are walked; tensors, arrays and scalars are leaves). */
int pp_frame_print_fields(pp_frame *f, FILE *out);
/* Fields as CSV columns: a number or str is one row, a 1-D tensor one column,
 * a 2-D tensor [rows, cols] cols columns; every field must have the same
 * number of rows. header: first a line of names (the last path component,
 * or the whole path when two fields end alike; 2-D columns get 0, 1, ...). */
int pp_frame_print_csv(pp_frame *f, const char *const *fields, int nfields, bool header, FILE *out);

#endif
