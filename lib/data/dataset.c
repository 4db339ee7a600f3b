/* dataset.c - data sets in memory: named columns of rows (data/dataset.h). */
#include "data/dataset.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int pp_dataset_new(pp_dataset **out, int64_t rows)
{
    *out = NULL;
    if (rows < 0 || rows > ((int64_t)1 << 40))
        return pp_fail("data set: %lld rows, expected 0..2^40", (long long)rows);
    pp_dataset *d = pp_xcalloc(1, sizeof *d);
    d->rows = rows;
    d->meta = pp_frame_new();
    *out = d;
    return 0;
}

void pp_dataset_free(pp_dataset *d)
{
    if (!d) return;
    for (int i = 0; i < d->ncols; i++) free(d->col[i].data);
    pp_frame_free(d->meta);
    free(d);
}

size_t pp_column_row_bytes(const pp_column *c)
{
    return pp_dtype_size(c->dtype) * (size_t)(c->width > 0 ? c->width : 1);
}

/* Names are D4RL's: letters, digits, '_', '-', '.', and '/' between parts. */
static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= PP_COLUMN_NAME_MAX || name[0] == '/' || name[n - 1] == '/') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.' || (c == '/' && name[i + 1] != '/');
        if (!ok) return 0;
    }
    return 1;
}

pp_column *pp_dataset_add_column(pp_dataset *d, const char *name, pp_dtype dtype, int64_t width)
{
    if (!name_ok(name)) {
        pp_fail("data set: bad column name '%s'", name);
        return NULL;
    }
    if (pp_dataset_column(d, name)) {
        pp_fail("data set: two columns called %s", name);
        return NULL;
    }
    if (d->ncols == PP_DATASET_MAX_COLS) {
        pp_fail("data set: more than %d columns (at %s)", PP_DATASET_MAX_COLS, name);
        return NULL;
    }
    if ((int)dtype < 0 || dtype >= PP_DTYPE_COUNT || width < 0 || width > (1 << 20)) {
        pp_fail("data set: column %s has width %lld, expected 0..%d", name, (long long)width,
                1 << 20);
        return NULL;
    }
    pp_column *c = &d->col[d->ncols];
    memset(c, 0, sizeof *c);
    strcpy(c->name, name);
    c->dtype = dtype;
    c->width = width;
    double bytes = (double)d->rows * (double)pp_column_row_bytes(c);
    if (pp_check_memory(bytes) != 0) {
        pp_fail_prefix("data set column %s of %lld rows ", name, (long long)d->rows);
        return NULL;
    }
    size_t nbytes = (size_t)d->rows * pp_column_row_bytes(c);
    c->data = pp_xalloc_f32((nbytes + sizeof(float) - 1) / sizeof(float));
    d->ncols++;
    return c;
}

pp_column *pp_dataset_column(const pp_dataset *d, const char *name)
{
    for (int i = 0; i < d->ncols; i++)
        if (strcmp(d->col[i].name, name) == 0) return (pp_column *)&d->col[i];
    return NULL;
}

pp_column *pp_dataset_need(const pp_dataset *d, const char *name, pp_dtype dtype, int64_t width)
{
    pp_column *c = pp_dataset_column(d, name);
    if (!c) {
        pp_fail("data set has no column %s", name);
        return NULL;
    }
    if (c->dtype != dtype || (width >= 0 && c->width != width)) {
        char want[32], got[32];
        if (width >= 0)
            snprintf(want, sizeof want, width ? "[%lld,%lld]" : "[%lld]", (long long)d->rows,
                     (long long)width);
        else
            snprintf(want, sizeof want, "[%lld,...]", (long long)d->rows);
        snprintf(got, sizeof got, c->width ? "[%lld,%lld]" : "[%lld]", (long long)d->rows,
                 (long long)c->width);
        pp_fail("column %s is %s%s, expected %s%s", name, pp_dtype_name(c->dtype), got,
                pp_dtype_name(dtype), want);
        return NULL;
    }
    return c;
}

int pp_dataset_copy_rows(pp_dataset *dst, int64_t to, const pp_dataset *src, int64_t from, int64_t n)
{
    if (n < 0 || from < 0 || to < 0 || from + n > src->rows || to + n > dst->rows)
        return pp_fail("data set: copying rows %lld..%lld of %lld to %lld.. of %lld", (long long)from,
                       (long long)(from + n), (long long)src->rows, (long long)to, (long long)dst->rows);
    for (int i = 0; i < src->ncols; i++) {
        const pp_column *s = &src->col[i];
        pp_column *d = pp_dataset_column(dst, s->name);
        if (!d && !(d = pp_dataset_add_column(dst, s->name, s->dtype, s->width))) return -1;
        if (d->dtype != s->dtype || d->width != s->width)
            return pp_fail("data set: column %s is %s width %lld here, %s width %lld there", s->name,
                           pp_dtype_name(d->dtype), (long long)d->width, pp_dtype_name(s->dtype),
                           (long long)s->width);
        size_t rb = pp_column_row_bytes(s);
        memcpy((char *)d->data + (size_t)to * rb, (const char *)s->data + (size_t)from * rb,
               (size_t)n * rb);
    }
    return 0;
}
