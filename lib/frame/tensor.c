/* tensor.c - dtypes, shapes and owned tensors. */
#include "frame/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static const struct {
    size_t size;
    const char *numpy, *name;
} dtypes[PP_DTYPE_COUNT] = {
    [PP_F32] = {4, "<f4", "f32"}, [PP_F64] = {8, "<f8", "f64"}, [PP_I32] = {4, "<i4", "i32"},
    [PP_I64] = {8, "<i8", "i64"}, [PP_U8] = {1, "|u1", "u8"},   [PP_BOOL] = {1, "|b1", "bool"},
};

size_t pp_dtype_size(pp_dtype t) { return (unsigned)t < PP_DTYPE_COUNT ? dtypes[t].size : 0; }
const char *pp_dtype_numpy(pp_dtype t) { return (unsigned)t < PP_DTYPE_COUNT ? dtypes[t].numpy : "?"; }
const char *pp_dtype_name(pp_dtype t) { return (unsigned)t < PP_DTYPE_COUNT ? dtypes[t].name : "?"; }

int pp_dtype_parse(const char *s, size_t len, pp_dtype *out)
{
    /* numpy's dtype.str: byte order ('<' little, '|' not applicable, '=' native,
     * which is little on every machine parpi runs on), kind, item size. */
    if (len != 3) return -1;
    char order = s[0], kind = s[1], size = s[2];
    for (int t = 0; t < PP_DTYPE_COUNT; t++) {
        const char *n = dtypes[t].numpy;
        if (kind != n[1] || size != n[2]) continue;
        int ok = order == n[0] || order == '=' || (dtypes[t].size == 1 && (order == '<' || order == '|'));
        if (!ok) return -1;
        *out = (pp_dtype)t;
        return 0;
    }
    return -1;
}

int64_t pp_shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] != 0 && n > INT64_MAX / shape[i]) return -1;
        n *= shape[i];
    }
    return n;
}

int64_t pp_tensor_numel(const pp_tensor *t) { return pp_shape_numel(t->ndim, t->shape); }

size_t pp_tensor_nbytes(const pp_tensor *t)
{
    int64_t n = pp_tensor_numel(t);
    return n < 0 ? 0 : (size_t)n * pp_dtype_size(t->dtype);
}

const char *pp_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap)
{
    size_t at = 0;
    if (cap == 0) return buf;
    buf[0] = '\0';
    at += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && at < cap; i++) {
        if (shape[i] < 0)
            at += (size_t)snprintf(buf + at, cap - at, "%s*", i ? "," : "");
        else
            at += (size_t)snprintf(buf + at, cap - at, "%s%lld", i ? "," : "", (long long)shape[i]);
    }
    if (at < cap) snprintf(buf + at, cap - at, "]");
    return buf;
}

int pp_tensor_alloc(pp_tensor *t, pp_dtype dtype, int ndim, const int64_t *shape)
{
    memset(t, 0, sizeof *t);
    if ((unsigned)dtype >= PP_DTYPE_COUNT) return pp_fail("tensor: unknown dtype %d", (int)dtype);
    if (ndim < 0 || ndim > PP_MAX_DIMS)
        return pp_fail("tensor: %d dimensions, expected 0 to %d", ndim, PP_MAX_DIMS);
    int64_t n = pp_shape_numel(ndim, shape);
    size_t isz = pp_dtype_size(dtype);
    char sb[160];
    if (n < 0 || (uint64_t)n > (uint64_t)(SIZE_MAX / 2) / isz)
        return pp_fail("tensor: shape %s is negative or too large", pp_shape_str(ndim, shape, sb, sizeof sb));
    size_t bytes = ((size_t)n * isz + 63) & ~(size_t)63;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
        return pp_fail("tensor: out of memory allocating %zu bytes for %s%s", bytes,
                       pp_dtype_name(dtype), pp_shape_str(ndim, shape, sb, sizeof sb));
    memset(p, 0, bytes ? bytes : 64);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->data = p;
    return 0;
}

void pp_tensor_free(pp_tensor *t)
{
    if (!t) return;
    free(t->data);
    t->data = NULL;
}
