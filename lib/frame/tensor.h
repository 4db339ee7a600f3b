/* tensor.h - n-dimensional arrays, C order, little-endian, as msgpack-numpy
 * encodes them: {"nd": true, "type": "<f4", "kind": "", "shape": [..], "data": bin}
 * (the five keys written as msgpack bin; str keys accepted on reading;
 * kind "O" (pickled objects) refused).
 */
#ifndef PP_TENSOR_H
#define PP_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define PP_MAX_DIMS 8

typedef enum {
    PP_F32 = 0, /* "<f4" */
    PP_F64,     /* "<f8" */
    PP_I32,     /* "<i4" */
    PP_I64,     /* "<i8" */
    PP_U8,      /* "|u1" */
    PP_BOOL,    /* "|b1" */
    PP_DTYPE_COUNT
} pp_dtype;

typedef struct {
    pp_dtype dtype;
    int ndim;
    int64_t shape[PP_MAX_DIMS];
    void *data;   /* numel * pp_dtype_size(dtype) bytes, aligned when owned */
} pp_tensor;

size_t pp_dtype_size(pp_dtype t);
const char *pp_dtype_numpy(pp_dtype t);     /* "<f4" ... */
const char *pp_dtype_name(pp_dtype t);      /* "f32" ... */
/* Parse a numpy dtype.str ("<f4"; "=f4" too, and "<u1"/"|u1" alike for one-byte
 * types); big-endian (">f4") and names ("float32") are refused: -1. */
int pp_dtype_parse(const char *s, size_t len, pp_dtype *out);

int64_t pp_shape_numel(int ndim, const int64_t *shape);
int64_t pp_tensor_numel(const pp_tensor *t);
size_t pp_tensor_nbytes(const pp_tensor *t);
/* "[256,17]" into buf. */
const char *pp_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap);

/* Allocate owned, zeroed, 64-byte-aligned data. Fails (pp_fail) on absurd shapes. */
int pp_tensor_alloc(pp_tensor *t, pp_dtype dtype, int ndim, const int64_t *shape);
void pp_tensor_free(pp_tensor *t);

#endif
