/* rows_read.c - reading the chunk stream of rows.h (parpi-replay(5)) one
 * chunk frame at a time into the caller's arrays, checking the running
 * CRC-32C against the end frame's checksum; and version 1 and 2 replay
 * files, one frame each, read as one chunk. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "data/rows.h"
#include "frame/crc32c.h"
#include "frame/save.h"

struct pp_rows_reader {
    char *path;
    int fd;
    pp_reader *in;
    pp_frame *f;     /* the frame last read (versions 1, 2: the file) */
    pp_rows_head head;
    uint32_t crc;    /* of the file's bytes read so far */
    bool done;
};

/* A destination column and where its data comes from. */
typedef struct {
    const pp_column *dst;
    int src;         /* the file's column */
    size_t src_row, dst_row; /* bytes of a row */
} plan;

static int get_int(pp_frame *f, const char *path, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    if (pp_frame_get_i64(f, key, out) != 0) return pp_fail_prefix("%s: ", path);
    if (*out < lo || *out > hi)
        return pp_fail("%s: %s is %lld, expected %lld..%lld", path, key, (long long)*out, (long long)lo,
                       (long long)hi);
    return 0;
}

/* The value of key in a map node, or NULL. */
static pp_node *entry(const pp_node *map, const char *key)
{
    const char *k;
    size_t kl;
    pp_node *v;
    for (int i = 0; (i = pp_node_map_next(map, i, &k, &kl, &v)) > 0;)
        if (kl == strlen(key) && memcmp(k, key, kl) == 0) return v;
    return NULL;
}

/* The str at node n into dst[cap] (NUL-free, shorter than cap). */
static int copy_str(const pp_node *n, char *dst, size_t cap, const char *path, const char *what)
{
    size_t len;
    const char *s = pp_node_type_of(n) == PP_NODE_STR ? pp_node_bytes(n, &len) : NULL;
    if (!s || len >= cap || memchr(s, 0, len))
        return pp_fail("%s: %s is not a str of fewer than %zu bytes", path, what, cap);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int check_ring(const pp_rows_head *h, const char *path)
{
    if (h->rows > h->capacity)
        return pp_fail("%s: %lld rows in a ring of capacity %lld", path, (long long)h->rows, (long long)h->capacity);
    if (h->rows < h->capacity && h->next != h->rows)
        return pp_fail("%s: next is %lld with %lld of %lld rows filled, expected %lld", path, (long long)h->next,
                       (long long)h->rows, (long long)h->capacity, (long long)h->rows);
    return 0;
}

/* ---- version 3: the header frame ---- */

static int read_columns(pp_rows_reader *r)
{
    pp_rows_head *h = &r->head;
    pp_node *cols = pp_frame_get(r->f, "columns");
    size_t n = cols && pp_node_type_of(cols) == PP_NODE_ARRAY ? pp_node_len(cols) : 0;
    if (n < 1 || n > PP_DATASET_MAX_COLS)
        return pp_fail("%s: columns is not a list of 1 to %d columns", r->path, PP_DATASET_MAX_COLS);
    for (size_t i = 0; i < n; i++) {
        pp_node *c = pp_node_array_at(cols, i), *name = entry(c, "name"), *dtype = entry(c, "dtype"),
                *width = entry(c, "width");
        pp_column *col = &h->col[i];
        char what[32], ds[8];
        double w;
        snprintf(what, sizeof what, "columns[%zu].name", i);
        if (!name || copy_str(name, col->name, sizeof col->name, r->path, what) != 0) {
            if (!name) pp_fail("%s: columns[%zu] has no name", r->path, i);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(h->col[j].name, col->name) == 0) return pp_fail("%s: two columns called %s", r->path, col->name);
        if (!col->name[0] || strcmp(col->name, "first") == 0 || strcmp(col->name, "count") == 0)
            return pp_fail("%s: columns[%zu] is called '%s', expected a column name", r->path, i, col->name);
        snprintf(what, sizeof what, "column %s's dtype", col->name);
        if (!dtype || copy_str(dtype, ds, sizeof ds, r->path, what) != 0 ||
            pp_dtype_parse(ds, strlen(ds), &col->dtype) != 0)
            return pp_fail("%s: column %s has no dtype parpi reads (\"<f4\", \"<f8\", \"<i4\", \"<i8\", \"|u1\", "
                           "\"|b1\")",
                           r->path, col->name);
        if (!width || pp_node_as_f64(width, &w) != 0 || w != (double)(int64_t)w || w < 0 || w > (1 << 20))
            return pp_fail("%s: column %s has no width 0..%d", r->path, col->name, 1 << 20);
        col->width = (int64_t)w;
        h->ncols++;
    }
    return 0;
}


/* obs_dim and act_dim of a replay buffer's header. */
static int read_dims(pp_frame *f, const char *path, pp_rows_head *h)
{
    int64_t v;
    if (get_int(f, path, "obs_dim", 1, 1 << 20, &v) != 0) return -1;
    h->obs_dim = (int)v;
    if (get_int(f, path, "act_dim", 1, 1 << 20, &v) != 0) return -1;
    h->act_dim = (int)v;
    return 0;
}

static int open_v3(pp_rows_reader *r)
{
    pp_rows_head *h = &r->head;
    pp_frame *f = r->f;
    if (get_int(f, r->path, "rows", 0, (int64_t)1 << 40, &h->rows) != 0 ||
        get_int(f, r->path, "chunk_rows", 1, (int64_t)1 << 40, &h->chunk_rows) != 0)
        return -1;
    if (pp_frame_get(f, "capacity")) {
        h->ring = true;
        if (read_dims(f, r->path, h) != 0) return -1;
        if (get_int(f, r->path, "capacity", 1, (int64_t)1 << 40, &h->capacity) != 0 ||
            get_int(f, r->path, "next", 0, h->capacity - 1, &h->next) != 0 ||
            get_int(f, r->path, "added", h->rows, INT64_MAX, &h->added) != 0 || check_ring(h, r->path) != 0)
            return -1;
    }
    pp_node *env = pp_frame_get(f, "env");
    if (env && copy_str(env, h->env, sizeof h->env, r->path, "env") != 0) return -1;
    h->meta = pp_frame_new();
    pp_node *meta = pp_frame_get(f, "metadata");
    if (meta && pp_node_type_of(meta) != PP_NODE_MAP)
        return pp_fail("%s: metadata is %s, expected a map", r->path, pp_node_type_name(pp_node_type_of(meta)));
    if (meta && pp_frame_copy(h->meta, "", f, "metadata") != 0) return pp_fail_prefix("%s: ", r->path);
    return read_columns(r);
}

/* ---- versions 1 and 2: one frame ---- */

static const char *const v2_names[6] = {"observations", "actions", "rewards", "next_observations", "terminals",
                                        "timeouts"};

static int open_v2(pp_rows_reader *r, int64_t version)
{
    pp_rows_head *h = &r->head;
    pp_frame *f = r->f;
    size_t len;
    const uint8_t *bytes = pp_reader_frame_bytes(r->in, &len);
    int sum = pp_sum_check(0, bytes, len, r->path);
    if (sum < 0) return -1;
    if (version >= 2 && sum == 0)
        return pp_fail("%s: no checksum: a version %lld replay file ends in its \"checksum\" field; the "
                       "file was cut short, damaged or rewritten by another program",
                       r->path, (long long)version);
    struct stat st;
    if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size != pp_reader_offset(r->in))
        return pp_fail("%s: %llu bytes follow the replay frame (byte %llu): a version %lld file is one frame",
                       r->path, (unsigned long long)st.st_size - pp_reader_offset(r->in),
                       (unsigned long long)pp_reader_offset(r->in), (long long)version);
    h->ring = true;
    if (read_dims(f, r->path, h) != 0) return -1;
    if (get_int(f, r->path, "capacity", 1, (int64_t)1 << 40, &h->capacity) != 0 ||
        get_int(f, r->path, "size", 0, h->capacity, &h->rows) != 0 ||
        get_int(f, r->path, "next", 0, h->capacity - 1, &h->next) != 0 ||
        get_int(f, r->path, "added", h->rows, INT64_MAX, &h->added) != 0 || check_ring(h, r->path) != 0)
        return -1;
    h->chunk_rows = h->rows > 0 ? h->rows : 1;
    h->meta = pp_frame_new();
    for (int i = 0; i < 6; i++) {
        pp_column *c = &h->col[h->ncols++];
        int64_t width = i == 1 ? h->act_dim : i == 0 || i == 3 ? h->obs_dim : 0, shape[PP_MAX_DIMS];
        int nd;
        strcpy(c->name, v2_names[i]);
        c->width = width;
        if (!pp_frame_get(f, c->name)) return pp_fail("%s: missing field %s", r->path, c->name);
        if (pp_frame_get_tensor_info(f, c->name, &c->dtype, &nd, shape) != 0) return pp_fail_prefix("%s: ", r->path);
        if (nd != (width ? 2 : 1) || shape[0] != h->rows || (width && shape[1] != width)) {
            char got[64];
            pp_shape_str(nd, shape, got, sizeof got);
            if (width)
                return pp_fail("%s: %s is %s, expected [%lld,%lld]", r->path, c->name, got, (long long)h->rows,
                               (long long)width);
            return pp_fail("%s: %s is %s, expected [%lld]", r->path, c->name, got, (long long)h->rows);
        }
    }
    return 0;
}

/* ---- open ---- */

void pp_rows_close(pp_rows_reader *r)
{
    if (!r) return;
    pp_reader_close(r->in);
    if (r->fd >= 0) close(r->fd);
    pp_frame_free(r->f);
    pp_frame_free(r->head.meta);
    free(r->path);
    free(r);
}

pp_rows_head *pp_rows_head_of(pp_rows_reader *r) { return &r->head; }

int64_t pp_rows_oldest(const pp_rows_head *h) { return h->ring && h->rows == h->capacity ? h->next : 0; }

/* The file's first frame, a parpi replay file's of a version this parpi reads. */
static int first_frame(pp_rows_reader *r, int64_t *version)
{
    const char *fmt;
    size_t fmtlen;
    int got = pp_reader_next(r->in, r->f);
    if (got < 0) return -1;
    if (got == 0) return pp_fail("%s: empty file, expected a parpi replay file", r->path);
    if (!pp_frame_get(r->f, "format") || pp_frame_get_str(r->f, "format", &fmt, &fmtlen) != 0 ||
        fmtlen != strlen(PP_ROWS_FORMAT) || memcmp(fmt, PP_ROWS_FORMAT, fmtlen) != 0)
        return pp_fail("%s: not a parpi replay file (expected \"format\": \"%s\")", r->path, PP_ROWS_FORMAT);
    if (get_int(r->f, r->path, "version", 1, INT64_MAX, version) != 0) return -1;
    if (*version > PP_ROWS_VERSION)
        return pp_fail("%s: version %lld is newer than this parpi (%d): upgrade parpi to read it", r->path,
                       (long long)*version, PP_ROWS_VERSION);
    return 0;
}

int pp_rows_open(pp_rows_reader **out, const char *path)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pp_fail("cannot open %s: %s", path, strerror(errno));
    pp_rows_reader *r = pp_xcalloc(1, sizeof *r);
    size_t n = strlen(path) + 1;
    r->path = pp_xmalloc(n);
    memcpy(r->path, path, n);
    r->fd = fd;
    r->in = pp_reader_open_fd(fd, path, PP_DEFAULT_MAX_FRAME);
    r->f = pp_frame_new();
    int64_t version = 0;
    int rc = first_frame(r, &version);
    if (rc == 0) {
        r->head.version = (int)version;
        if (version <= 2) rc = open_v2(r, version);
        else {
            size_t len;
            const uint8_t *bytes = pp_reader_frame_bytes(r->in, &len);
            r->crc = pp_crc32c(0, bytes, len);
            rc = open_v3(r);
        }
    }
    if (rc != 0) {
        pp_rows_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* ---- rows into the caller's arrays ---- */

static int can_convert(pp_dtype from, pp_dtype to)
{
    if (from == to) return 1;
    int from_num = from == PP_F32 || from == PP_F64 || from == PP_BOOL || from == PP_U8;
    return (to == PP_F32 || to == PP_BOOL) && from_num;
}

/* count elements from src (any alignment) into dst. */
static void convert(void *dst, pp_dtype to, const uint8_t *src, pp_dtype from, size_t count)
{
    if (from == to) {
        memcpy(dst, src, count * pp_dtype_size(to));
        return;
    }
    float *df = dst;
    uint8_t *db = dst;
    for (size_t i = 0; i < count; i++) {
        double v;
        float x;
        switch (from) {
        case PP_F32: memcpy(&x, src + 4 * i, 4), v = x; break;
        case PP_F64: memcpy(&v, src + 8 * i, 8); break;
        default: v = src[i] != 0; break; /* bool, u8 */
        }
        if (to == PP_F32) df[i] = (float)v;
        else db[i] = v != 0;
    }
}

/* File rows [a, a+n) of one column (src) into its destination: row i goes
 * to ((i - start) mod rows) - drop, left out when negative. The rows split
 * where i passes start; each part lands contiguously. */
static void place(const plan *p, const pp_rows_head *h, const uint8_t *src, int64_t a, int64_t n, int64_t start,
                  int64_t drop)
{
    int64_t cut[3] = {a, a < start && start < a + n ? start : a + n, a + n};
    size_t width = (size_t)(p->dst->width ? p->dst->width : 1);
    for (int part = 0; part < 2; part++) {
        int64_t i0 = cut[part], i1 = cut[part + 1];
        if (i1 <= i0) continue;
        int64_t d0 = ((i0 - start) % h->rows + h->rows) % h->rows - drop, skip = d0 < 0 ? -d0 : 0;
        if (skip >= i1 - i0) continue;
        convert((uint8_t *)p->dst->data + (size_t)(d0 + skip) * p->dst_row, p->dst->dtype,
                src + (size_t)(i0 - a + skip) * p->src_row, h->col[p->src].dtype, (size_t)(i1 - i0 - skip) * width);
    }
}

static int find_column(const pp_rows_head *h, const char *name, size_t len)
{
    for (int j = 0; j < h->ncols; j++)
        if (strlen(h->col[j].name) == len && memcmp(h->col[j].name, name, len) == 0) return j;
    return -1;
}

/* The tensors of the chunk frame in r->f, checked against the header and
 * its place: src[j] the data of column j. */
static int chunk(pp_rows_reader *r, int64_t want_first, uint64_t at, const uint8_t *src[], int64_t *count)
{
    const pp_rows_head *h = &r->head;
    int64_t first, n, want_n = h->rows - want_first < h->chunk_rows ? h->rows - want_first : h->chunk_rows;
    if (!pp_frame_get(r->f, "first"))
        return pp_fail("%s: the frame at byte %llu is not the chunk of row %lld (no field first)", r->path,
                       (unsigned long long)at, (long long)want_first);
    if (pp_frame_get_i64(r->f, "first", &first) != 0 || pp_frame_get_i64(r->f, "count", &n) != 0)
        return pp_fail_prefix("%s: the chunk at byte %llu: ", r->path, (unsigned long long)at);
    if (first != want_first || n != want_n)
        return pp_fail("%s: the chunk at byte %llu holds rows %lld..%lld, expected %lld..%lld", r->path,
                       (unsigned long long)at, (long long)first, (long long)(first + n - 1), (long long)want_first,
                       (long long)(want_first + want_n - 1));
    pp_node *root = pp_frame_root(r->f);
    if (pp_node_len(root) != 2 + (size_t)h->ncols)
        return pp_fail("%s: the chunk of row %lld (byte %llu) has %zu fields, expected first, count and the %d "
                       "columns",
                       r->path, (long long)first, (unsigned long long)at, pp_node_len(root), h->ncols);
    for (int j = 0; j < h->ncols; j++) src[j] = NULL;
    const char *key;
    size_t kl;
    pp_node *v;
    for (int i = 0; (i = pp_node_map_next(root, i, &key, &kl, &v)) > 0;) {
        if ((kl == 5 && memcmp(key, "first", 5) == 0) || (kl == 5 && memcmp(key, "count", 5) == 0)) continue;
        int j = find_column(h, key, kl);
        if (j < 0 || src[j])
            return pp_fail("%s: the chunk of row %lld (byte %llu) has %s field %.*s", r->path, (long long)first,
                           (unsigned long long)at, j < 0 ? "a column the header does not name:" : "a second",
                           (int)(kl > 64 ? 64 : kl), key);
        const pp_column *c = &h->col[j];
        pp_dtype dt;
        int nd;
        int64_t shape[PP_MAX_DIMS];
        const void *data;
        if (pp_node_tensor(v, &dt, &nd, shape, &data) != 0)
            return pp_fail("%s: row %lld (the chunk at byte %llu): column %s is %s, expected a tensor", r->path,
                           (long long)first, (unsigned long long)at, c->name, pp_node_type_name(pp_node_type_of(v)));
        if (dt != c->dtype || nd != (c->width ? 2 : 1) || shape[0] != n || (c->width && shape[1] != c->width)) {
            char got[64], want[64];
            int64_t ws[2] = {n, c->width};
            pp_shape_str(nd, shape, got, sizeof got);
            pp_shape_str(c->width ? 2 : 1, ws, want, sizeof want);
            return pp_fail("%s: row %lld (the chunk at byte %llu): column %s is %s%s, expected %s%s", r->path,
                           (long long)first, (unsigned long long)at, c->name, pp_dtype_name(dt), got,
                           pp_dtype_name(c->dtype), want);
        }
        src[j] = data;
    }
    *count = n;
    return 0;
}

/* The end frame in r->f: the row count and the checksum, then nothing. */
static int end(pp_rows_reader *r, uint64_t at)
{
    int64_t rows;
    size_t len;
    const uint8_t *bytes = pp_reader_frame_bytes(r->in, &len);
    if (pp_frame_get(r->f, "first"))
        return pp_fail("%s: a chunk at byte %llu after the last row (%lld), expected the end frame", r->path,
                       (unsigned long long)at, (long long)r->head.rows);
    if (!pp_frame_get(r->f, "rows") || pp_frame_get_i64(r->f, "rows", &rows) != 0 || rows != r->head.rows)
        return pp_fail("%s: the end frame (byte %llu) does not say the header's %lld rows", r->path,
                       (unsigned long long)at, (long long)r->head.rows);
    int sum = pp_sum_check(r->crc, bytes, len, r->path);
    if (sum < 0) return -1;
    if (sum == 0) return pp_fail("%s: the end frame (byte %llu) has no checksum", r->path, (unsigned long long)at);
    uint64_t after = pp_reader_offset(r->in);
    int got = pp_reader_next(r->in, r->f);
    if (got < 0) return -1;
    if (got > 0)
        return pp_fail("%s: a frame follows the end frame (byte %llu): the file is not one stream", r->path,
                       (unsigned long long)after);
    return 0;
}

int pp_rows_read(pp_rows_reader *r, const pp_column *dst, int ndst, int64_t start, int64_t drop)
{
    const pp_rows_head *h = &r->head;
    if (r->done) return pp_fail("%s: read twice", r->path);
    r->done = true;
    if (ndst > PP_DATASET_MAX_COLS || start < 0 || (h->rows > 0 && start >= h->rows) || drop < 0 || drop > h->rows)
        return pp_fail("%s: reading rows from %lld, leaving out %lld, of %lld", r->path, (long long)start,
                       (long long)drop, (long long)h->rows);
    plan p[PP_DATASET_MAX_COLS];
    for (int k = 0; k < ndst; k++) {
        const pp_column *d = &dst[k];
        int j = find_column(h, d->name, strlen(d->name));
        if (j < 0) return pp_fail("%s: no column %s", r->path, d->name);
        const pp_column *c = &h->col[j];
        if (c->width != d->width)
            return pp_fail("%s: column %s has width %lld, expected %lld", r->path, d->name, (long long)c->width,
                           (long long)d->width);
        if (!can_convert(c->dtype, d->dtype))
            return pp_fail("%s: column %s is %s, expected %s%s", r->path, d->name, pp_dtype_name(c->dtype),
                           pp_dtype_name(d->dtype),
                           d->dtype == PP_F32 || d->dtype == PP_BOOL ? " (or f32, f64, bool, u8)" : "");
        p[k] = (plan){d, j, pp_column_row_bytes(c), pp_column_row_bytes(d)};
    }
    const uint8_t *src[PP_DATASET_MAX_COLS];
    if (h->version <= 2) { /* the one frame holds every row */
        for (int k = 0; k < ndst; k++) {
            const void *data = NULL;
            pp_node_tensor(pp_frame_get(r->f, h->col[p[k].src].name), NULL, NULL, NULL, &data);
            if (h->rows > 0) place(&p[k], h, data, 0, h->rows, start, drop);
        }
        return 0;
    }
    for (int64_t row = 0;;) {
        uint64_t at = pp_reader_offset(r->in);
        int got = pp_reader_next(r->in, r->f);
        if (got < 0) return -1;
        if (got == 0)
            return pp_fail("%s: ends after row %lld of %lld (byte %llu) without its end frame: the file was cut "
                           "short",
                           r->path, (long long)row, (long long)h->rows, (unsigned long long)at);
        size_t len;
        const uint8_t *bytes = pp_reader_frame_bytes(r->in, &len);
        if (row == h->rows) return end(r, at);
        r->crc = pp_crc32c(r->crc, bytes, len);
        int64_t n = 0;
        if (chunk(r, row, at, src, &n) != 0) return -1;
        for (int k = 0; k < ndst; k++) place(&p[k], h, src[p[k].src], row, n, start, drop);
        row += n;
    }
}
