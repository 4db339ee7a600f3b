/* checkpoint.c - a checkpoint is one frame in a file, marked with
 * "format": "parpi-checkpoint", "version" and "kind", written atomically
 * with a checksum (frame_file.c). Loading checks the checksum (required
 * from version 2), format, version, kind, and that every float tensor is
 * finite. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "frame/frame.h"

#define CKPT_FORMAT "parpi-checkpoint"

int pp_checkpoint_save(pp_frame *f, const char *kind, const char *path)
{
    if (pp_frame_set_str(f, "format", CKPT_FORMAT) || pp_frame_set_i64(f, "version", PP_CKPT_VERSION) ||
        pp_frame_set_str(f, "kind", kind))
        return pp_fail_prefix("writing %s: ", path);
    return pp_frame_save_file_atomic(f, path);
}

static int check(pp_frame *f, const char *path, const char *kind, bool had_sum)
{
    const char *s;
    size_t len;
    pp_node *n = pp_frame_get(f, "format");
    if (!n) return pp_fail("%s: not a parpi checkpoint (no format field)", path);
    if (pp_frame_get_str(f, "format", &s, &len) != 0)
        return pp_fail("%s: not a parpi checkpoint (format is %s, expected the str \"%s\")", path,
                       pp_node_type_name(pp_node_type_of(n)), CKPT_FORMAT);
    if (len != strlen(CKPT_FORMAT) || memcmp(s, CKPT_FORMAT, len) != 0)
        return pp_fail("%s: not a parpi checkpoint (format is \"%.*s\", expected \"%s\")", path,
                       (int)(len > 64 ? 64 : len), s, CKPT_FORMAT);
    int64_t version;
    if (pp_frame_get_i64(f, "version", &version) != 0) return pp_fail_prefix("%s: ", path);
    if (version > PP_CKPT_VERSION)
        return pp_fail("%s: version %lld is newer than this parpi (%d): upgrade parpi to read it", path,
                       (long long)version, PP_CKPT_VERSION);
    if (version < 1) return pp_fail("%s: version %lld is not a valid checkpoint version", path, (long long)version);
    if (version >= 2 && !had_sum)
        return pp_fail("%s: no checksum: a version %lld checkpoint ends in its \"checksum\" field; the "
                       "file was cut short, damaged or rewritten by another program",
                       path, (long long)version);
    if (pp_frame_get_str(f, "kind", &s, &len) != 0) return pp_fail_prefix("%s: ", path);
    if (kind && (len != strlen(kind) || memcmp(s, kind, len) != 0))
        return pp_fail("%s: kind is %.*s, expected %s", path, (int)(len > 64 ? 64 : len), s, kind);
    return 0;
}

/* Every f32 and f64 tensor under map (a field path of name[0..nlen)) is
 * finite: parameters, optimiser moments, any float state. A version 1 file
 * has no checksum, and a flipped bit in a float's exponent would load and
 * surface steps later as a NaN loss, blamed on the loss. */
static int finite_tree(pp_node *map, const char *path, char *name, size_t nlen, size_t cap, int depth)
{
    const char *key;
    size_t klen;
    pp_node *v;
    for (int i = pp_node_map_next(map, 0, &key, &klen, &v); i >= 0; i = pp_node_map_next(map, i, &key, &klen, &v)) {
        size_t len = nlen;
        if (len + klen + 2 >= cap) continue; /* names this long are not a stage's */
        if (len) name[len++] = '.';
        memcpy(name + len, key, klen);
        len += klen;
        name[len] = '\0';
        pp_node_type t = pp_node_type_of(v);
        if (t == PP_NODE_MAP && depth < PP_MAX_DEPTH) {
            if (finite_tree(v, path, name, len, cap, depth + 1) != 0) return -1;
        } else if (t == PP_NODE_TENSOR) {
            pp_dtype dt;
            int nd;
            int64_t shape[PP_MAX_DIMS];
            const void *data;
            if (pp_node_tensor(v, &dt, &nd, shape, &data) != 0 || (dt != PP_F32 && dt != PP_F64)) continue;
            int64_t count = pp_shape_numel(nd, shape);
            const unsigned char *b = data;
            for (int64_t k = 0; k < count; k++) {
                double x;
                if (dt == PP_F32) {
                    float y;
                    memcpy(&y, b + k * 4, 4);
                    x = y;
                } else {
                    memcpy(&x, b + k * 8, 8);
                }
                if (!isfinite(x))
                    return pp_fail("%s: %s[%lld] is %s: a checkpoint holds finite numbers only (the file is "
                                   "damaged, or was written by another program)",
                                   path, name, (long long)k, isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf"));
            }
        }
    }
    return 0;
}

int pp_checkpoint_load(pp_frame *f, const char *path, const char *kind, uint8_t **keep_buf)
{
    bool had_sum = false;
    if (pp_frame_load_file_sum(f, path, keep_buf, &had_sum) != 0) return -1;
    char name[512] = "";
    if (check(f, path, kind, had_sum) != 0 || finite_tree(pp_frame_root(f), path, name, 0, sizeof name, 0) != 0) {
        free(*keep_buf);
        *keep_buf = NULL;
        pp_frame_clear(f);
        return -1;
    }
    return 0;
}
