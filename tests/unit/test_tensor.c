/* Tensors: dtype table, numpy type strings, shapes, owned allocation. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "frame/tensor.h"

int main(void)
{
    static const char *const numpy[] = {"<f4", "<f8", "<i4", "<i8", "|u1", "|b1"};
    static const char *const names[] = {"f32", "f64", "i32", "i64", "u8", "bool"};
    static const size_t sizes[] = {4, 8, 4, 8, 1, 1};
    for (int t = 0; t < PP_DTYPE_COUNT; t++) {
        pp_dtype got = PP_DTYPE_COUNT;
        CHECK(pp_dtype_size((pp_dtype)t) == sizes[t], "%s is %zu bytes", names[t], sizes[t]);
        CHECK(strcmp(pp_dtype_numpy((pp_dtype)t), numpy[t]) == 0, "%s is numpy %s", names[t], numpy[t]);
        CHECK(strcmp(pp_dtype_name((pp_dtype)t), names[t]) == 0, "name of dtype %d is %s", t, names[t]);
        CHECK(pp_dtype_parse(numpy[t], 3, &got) == 0 && got == (pp_dtype)t, "parse %s", numpy[t]);
    }
    pp_dtype d;
    CHECK(pp_dtype_parse("=f4", 3, &d) == 0 && d == PP_F32, "'=f4' (native, little-endian here) is f32");
    CHECK(pp_dtype_parse("<u1", 3, &d) == 0 && d == PP_U8, "'<u1' is u8 like '|u1'");
    CHECK(pp_dtype_parse(">f4", 3, &d) == -1, "big-endian '>f4' is refused");
    CHECK(pp_dtype_parse("|f4", 3, &d) == -1, "'|f4' is refused");
    CHECK(pp_dtype_parse("<c8", 3, &d) == -1, "complex '<c8' is refused");
    CHECK(pp_dtype_parse("float32", 7, &d) == -1, "'float32' is refused");
    CHECK(pp_dtype_parse("<f", 2, &d) == -1, "a short string is refused");
    CHECK(pp_dtype_parse("|O8", 3, &d) == -1, "object dtype is refused");

    int64_t s1[] = {256, 17};
    CHECK(pp_shape_numel(2, s1) == 4352, "numel [256,17] = 4352");
    CHECK(pp_shape_numel(0, s1) == 1, "numel of a 0-d shape is 1");
    int64_t s0[] = {5, 0, 7};
    CHECK(pp_shape_numel(3, s0) == 0, "numel with a zero dimension is 0");
    int64_t neg[] = {3, -1};
    CHECK(pp_shape_numel(2, neg) == -1, "a negative dimension gives -1");
    int64_t big[] = {(int64_t)1 << 40, (int64_t)1 << 40};
    CHECK(pp_shape_numel(2, big) == -1, "2^40 x 2^40 overflows: -1");
    int64_t edge[] = {INT64_MAX, 1};
    CHECK(pp_shape_numel(2, edge) == INT64_MAX, "INT64_MAX x 1 does not overflow");

    char buf[64];
    CHECK(strcmp(pp_shape_str(2, s1, buf, sizeof buf), "[256,17]") == 0, "shape string [256,17]");
    CHECK(strcmp(pp_shape_str(0, s1, buf, sizeof buf), "[]") == 0, "0-d shape string []");
    int64_t wild[] = {-1, 17};
    CHECK(strcmp(pp_shape_str(2, wild, buf, sizeof buf), "[*,17]") == 0, "a wildcard prints as *");
    char tiny[5];
    pp_shape_str(2, s1, tiny, sizeof tiny);
    CHECK(strlen(tiny) < sizeof tiny, "shape string is truncated to the buffer ('%s')", tiny);

    pp_tensor t;
    int64_t sh[] = {3, 5, 7};
    CHECK(pp_tensor_alloc(&t, PP_F64, 3, sh) == 0, "allocate f64[3,5,7]");
    CHECK(((uintptr_t)t.data & 63) == 0, "data is 64-byte aligned");
    CHECK(pp_tensor_numel(&t) == 105 && pp_tensor_nbytes(&t) == 840, "numel 105, 840 bytes");
    int zero = 1;
    for (int i = 0; i < 105; i++) zero &= ((double *)t.data)[i] == 0.0;
    CHECK(zero, "data is zeroed");
    pp_tensor_free(&t);
    CHECK(t.data == NULL, "free clears the pointer");
    pp_tensor_free(&t); /* twice is harmless */

    CHECK(pp_tensor_alloc(&t, PP_F32, 2, big) == -1 && strstr(pp_error(), "[1099511627776,1099511627776]"),
          "an overflowing shape is refused, naming it: %s", pp_error());
    CHECK(pp_tensor_alloc(&t, PP_F32, 2, neg) == -1 && strstr(pp_error(), "negative or too large"),
          "a negative shape is refused: %s", pp_error());
    CHECK(pp_tensor_alloc(&t, PP_F32, 9, s1) == -1 && strstr(pp_error(), "9 dimensions"),
          "9 dimensions are refused: %s", pp_error());
    int64_t e0[] = {0};
    CHECK(pp_tensor_alloc(&t, PP_U8, 1, e0) == 0 && t.data != NULL, "an empty tensor allocates");
    pp_tensor_free(&t);
    return check_done();
}
