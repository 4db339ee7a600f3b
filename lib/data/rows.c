/* rows.c - writing the chunk stream of rows.h (parpi-replay(5)): a header
 * frame, chunk frames whose column data goes from the caller's arrays
 * straight to the file, and the end frame with the checksum. The frames
 * are encoded here, not built as pp_frames, so that no row is copied. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "data/rows.h"
#include "frame/mpk.h"
#include "frame/save.h"

/* ---- a small growable buffer for the header ---- */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf;

static uint8_t *room(buf *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 1024;
        while (c < b->len + n) c *= 2;
        b->p = pp_xrealloc(b->p, c);
        b->cap = c;
    }
    return b->p + b->len;
}

/* Each encoder writes at room()'s pointer and returns the end: the length
 * is taken after the call, which may have moved the buffer. */
static void grew(buf *b, const uint8_t *end) { b->len = (size_t)(end - b->p); }
static void put_map(buf *b, uint64_t n) { grew(b, pp_mpk_put_map_hdr(room(b, 9), n)); }
static void put_array(buf *b, uint64_t n) { grew(b, pp_mpk_put_array_hdr(room(b, 9), n)); }
static void put_int(buf *b, int64_t v) { grew(b, pp_mpk_put_int(room(b, 9), v)); }
static void put_str(buf *b, const char *s)
{
    size_t n = strlen(s);
    grew(b, pp_mpk_put_str(room(b, n + 9), s, n));
}
static void put_raw(buf *b, const void *p, size_t n)
{
    memcpy(room(b, n), p, n);
    b->len += n;
}

/* A chunk frame's bytes beside its rows: the map, first and count, and
 * each column's name and tensor head. */
#define FRAMING ((int64_t)(32 + PP_DATASET_MAX_COLS * (PP_COLUMN_NAME_MAX + 9 + PP_TENSOR_HEAD_MAX)))

/* ---- checks ---- */

static int reserved(const char *name) { return strcmp(name, "first") == 0 || strcmp(name, "count") == 0; }

/* The caller names the file. */
static int check_head(const pp_rows_head *h)
{
    if (h->rows < 0 || h->rows > ((int64_t)1 << 40)) return pp_fail("%lld rows, expected 0..2^40", (long long)h->rows);
    if (h->ncols < 1 || h->ncols > PP_DATASET_MAX_COLS)
        return pp_fail("%d columns, expected 1..%d", h->ncols, PP_DATASET_MAX_COLS);
    for (int i = 0; i < h->ncols; i++) {
        const pp_column *c = &h->col[i];
        if (!c->name[0]) return pp_fail("column %d has no name", i);
        if (reserved(c->name))
            return pp_fail("a column called %s: a chunk frame holds first and count beside the columns", c->name);
        for (int j = 0; j < i; j++)
            if (strcmp(h->col[j].name, c->name) == 0) return pp_fail("two columns called %s", c->name);
        if ((int)c->dtype < 0 || c->dtype >= PP_DTYPE_COUNT || c->width < 0 || c->width > (1 << 20))
            return pp_fail("column %s has width %lld, expected 0..%d", c->name, (long long)c->width, 1 << 20);
        if (!c->data && h->rows > 0) return pp_fail("column %s has no data", c->name);
    }
    return 0;
}

static int64_t row_bytes(const pp_rows_head *h)
{
    int64_t b = 0;
    for (int i = 0; i < h->ncols; i++) b += (int64_t)pp_column_row_bytes(&h->col[i]);
    return b;
}

int64_t pp_rows_chunk_rows(const pp_rows_head *h)
{
    const char *env = getenv(PP_ROWS_CHUNK_ENV);
    if (env && env[0]) {
        char *end;
        errno = 0;
        long long v = strtoll(env, &end, 10);
        if (!errno && !*end && v >= 1 && v <= ((long long)1 << 40)) return v;
    }
    int64_t rb = row_bytes(h), n = rb > 0 ? (PP_ROWS_CHUNK_BYTES - FRAMING) / rb : 1;
    return n > 0 ? n : 1;
}

/* ---- frames ---- */

static void encode_header(buf *b, const pp_rows_head *h, int64_t chunk_rows, const uint8_t *meta, size_t meta_len)
{
    put_map(b, 5 + (h->ring ? 5 : 0) + (h->env[0] ? 1 : 0) + (meta ? 1 : 0));
    put_str(b, "format"), put_str(b, PP_ROWS_FORMAT);
    put_str(b, "version"), put_int(b, PP_ROWS_VERSION);
    put_str(b, "rows"), put_int(b, h->rows);
    put_str(b, "chunk_rows"), put_int(b, chunk_rows);
    if (h->ring) {
        put_str(b, "obs_dim"), put_int(b, h->obs_dim);
        put_str(b, "act_dim"), put_int(b, h->act_dim);
        put_str(b, "capacity"), put_int(b, h->capacity);
        put_str(b, "next"), put_int(b, h->next);
        put_str(b, "added"), put_int(b, h->added);
    }
    if (h->env[0]) put_str(b, "env"), put_str(b, h->env);
    if (meta) put_str(b, "metadata"), put_raw(b, meta, meta_len);
    put_str(b, "columns"), put_array(b, (uint64_t)h->ncols);
    for (int i = 0; i < h->ncols; i++) {
        const pp_column *c = &h->col[i];
        put_map(b, 3);
        put_str(b, "name"), put_str(b, c->name);
        put_str(b, "dtype"), put_str(b, pp_dtype_numpy(c->dtype));
        put_str(b, "width"), put_int(b, c->width);
    }
}

/* One chunk: rows first .. first+n-1 of every column, each column's
 * tensor head then its bytes straight from the column's array. */
static int write_chunk(pp_save *s, const pp_rows_head *h, int64_t first, int64_t n)
{
    uint8_t head[64 + PP_TENSOR_HEAD_MAX + PP_COLUMN_NAME_MAX], *p = head;
    p = pp_mpk_put_map_hdr(p, 2 + (uint64_t)h->ncols);
    p = pp_mpk_put_str(p, "first", 5), p = pp_mpk_put_int(p, first);
    p = pp_mpk_put_str(p, "count", 5), p = pp_mpk_put_int(p, n);
    if (pp_save_write(s, head, (size_t)(p - head)) != 0) return -1;
    for (int i = 0; i < h->ncols; i++) {
        const pp_column *c = &h->col[i];
        size_t rb = pp_column_row_bytes(c);
        int64_t shape[2] = {n, c->width};
        p = pp_mpk_put_str(head, c->name, strlen(c->name));
        p += pp_tensor_head_encode(p, c->dtype, c->width ? 2 : 1, shape);
        if (pp_save_write(s, head, (size_t)(p - head)) != 0 ||
            pp_save_write(s, (const uint8_t *)c->data + (size_t)first * rb, (size_t)n * rb) != 0)
            return -1;
    }
    return 0;
}

int pp_rows_save(const char *path, const pp_rows_head *h, int64_t chunk_rows)
{
    if (check_head(h) != 0) return -1;
    if (chunk_rows <= 0) chunk_rows = pp_rows_chunk_rows(h);
    /* a chunk frame stays well inside a reader's frame limit */
    int64_t rb = row_bytes(h), most = rb > 0 ? (int64_t)(PP_DEFAULT_MAX_FRAME / 4) / rb : chunk_rows;
    if (chunk_rows > most) chunk_rows = most > 0 ? most : 1;
    uint8_t *meta = NULL;
    size_t meta_cap = 0, meta_len = 0;
    if (h->meta && pp_node_len(pp_frame_root(h->meta)) > 0 &&
        pp_frame_encode(h->meta, &meta, &meta_cap, &meta_len) != 0)
        return pp_fail_prefix("metadata: ");
    buf b = {0};
    encode_header(&b, h, chunk_rows, meta, meta_len);
    free(meta);
    pp_save *s = NULL;
    int rc = pp_save_open(&s, path);
    if (rc == 0) rc = pp_save_write(s, b.p, b.len);
    for (int64_t first = 0; rc == 0 && first < h->rows; first += chunk_rows)
        rc = write_chunk(s, h, first, h->rows - first < chunk_rows ? h->rows - first : chunk_rows);
    if (rc == 0) {
        b.len = 0;
        put_map(&b, 2);
        put_str(&b, "rows"), put_int(&b, h->rows);
        rc = pp_save_write(s, b.p, b.len);
        if (rc == 0) rc = pp_save_sum(s);
    }
    free(b.p);
    if (rc != 0) {
        pp_save_abort(s);
        return -1;
    }
    return pp_save_commit(s);
}
