/* checkpoint.c - a checkpoint is one frame in a file, marked with
 * "format": "parpi-checkpoint", "version" and "kind", written atomically. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "frame/frame.h"

#define CKPT_FORMAT "parpi-checkpoint"

int pp_checkpoint_save(pp_frame *f, const char *kind, const char *path)
{
    if (pp_frame_set_str(f, "format", CKPT_FORMAT) || pp_frame_set_i64(f, "version", PP_CKPT_VERSION) ||
        pp_frame_set_str(f, "kind", kind))
        return -1;
    return pp_frame_save_file_atomic(f, path);
}

static int check(pp_frame *f, const char *path, const char *kind)
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
    if (pp_frame_get_str(f, "kind", &s, &len) != 0) return pp_fail_prefix("%s: ", path);
    if (kind && (len != strlen(kind) || memcmp(s, kind, len) != 0))
        return pp_fail("%s: kind is %.*s, expected %s", path, (int)(len > 64 ? 64 : len), s, kind);
    return 0;
}

int pp_checkpoint_load(pp_frame *f, const char *path, const char *kind, uint8_t **keep_buf)
{
    if (pp_frame_load_file(f, path, keep_buf) != 0) return -1;
    if (check(f, path, kind) != 0) {
        free(*keep_buf);
        *keep_buf = NULL;
        pp_frame_clear(f);
        return -1;
    }
    return 0;
}
