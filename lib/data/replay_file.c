/* replay_file.c - replay buffers to and from parpi files, and sampled
 * batches into frames. The file layout is in replay.h and parpi-replay(5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "frame/frame.h"
#include "data/replay.h"

int pp_replay_sample_to_frame(pp_replay *r, pp_rng *rng, int64_t n, pp_frame *f,
                              const char *prefix)
{
    char path[256];
    int64_t s_obs[2] = {n, r->obs_dim}, s_act[2] = {n, r->act_dim}, s_1[1] = {n};
    pp_transitions out;
#define SLOT(field, name, nd, shape)                                                       \
    snprintf(path, sizeof path, "%s.%s", prefix, name);                                    \
    out.field = pp_frame_put_tensor_uninit(f, path, PP_F32, nd, shape);                    \
    if (!out.field) return pp_fail_prefix("replay batch: ");
    SLOT(obs, "obs", 2, s_obs)
    SLOT(act, "act", 2, s_act)
    SLOT(rew, "rew", 1, s_1)
    SLOT(next_obs, "next_obs", 2, s_obs)
    SLOT(terminated, "done", 1, s_1)
    SLOT(truncated, "truncated", 1, s_1)
#undef SLOT
    return pp_replay_sample(r, rng, n, &out);
}

/* ---- save ---- */

int pp_replay_save(const pp_replay *r, const char *path)
{
    pp_frame *f = pp_frame_new();
    int64_t n = r->size;
    int64_t s_obs[2] = {n, r->obs_dim}, s_act[2] = {n, r->act_dim}, s_1[1] = {n};
    int rc = pp_frame_set_str(f, "format", PP_REPLAY_FORMAT) |
             pp_frame_set_i64(f, "version", PP_REPLAY_VERSION) |
             pp_frame_set_i64(f, "obs_dim", r->obs_dim) |
             pp_frame_set_i64(f, "act_dim", r->act_dim) |
             pp_frame_set_i64(f, "capacity", r->capacity) |
             pp_frame_set_i64(f, "size", r->size) | pp_frame_set_i64(f, "next", r->next) |
             pp_frame_set_i64(f, "added", r->added) |
             pp_frame_put_tensor(f, "observations", PP_F32, 2, s_obs, r->data.obs) |
             pp_frame_put_tensor(f, "actions", PP_F32, 2, s_act, r->data.act) |
             pp_frame_put_tensor(f, "rewards", PP_F32, 1, s_1, r->data.rew) |
             pp_frame_put_tensor(f, "next_observations", PP_F32, 2, s_obs, r->data.next_obs) |
             pp_frame_put_tensor(f, "terminals", PP_F32, 1, s_1, r->data.terminated) |
             pp_frame_put_tensor(f, "timeouts", PP_F32, 1, s_1, r->data.truncated);
    if (rc == 0) rc = pp_frame_save_file_atomic(f, path);
    pp_frame_free(f);
    if (rc != 0) return pp_fail_prefix("saving replay buffer to %s: ", path);
    return 0;
}

/* ---- load ---- */

static int get_int(pp_frame *f, const char *path, const char *key, int64_t lo, int64_t hi,
                   int64_t *out)
{
    if (pp_frame_get_i64(f, key, out) != 0) return pp_fail_prefix("%s: ", path);
    if (*out < lo || *out > hi)
        return pp_fail("%s: %s is %lld, expected %lld..%lld", path, key, (long long)*out,
                       (long long)lo, (long long)hi);
    return 0;
}

/* Read tensor `key` of shape [rows, width] (width 0: [rows]) into dst as
 * float32, converting from f64, bool or u8 (flags stored as D4RL does). */
static int read_column(pp_frame *f, const char *path, const char *key, int64_t rows, int width,
                       float *dst)
{
    pp_node *n = pp_frame_get(f, key);
    if (!n) return pp_fail("%s: missing field %s", path, key);
    pp_dtype dt;
    int nd;
    int64_t shape[PP_MAX_DIMS];
    const void *data;
    if (pp_node_tensor(n, &dt, &nd, shape, &data) != 0)
        return pp_fail_prefix("%s: field %s: ", path, key);
    int want_nd = width ? 2 : 1;
    if (nd != want_nd || shape[0] != rows || (width && shape[1] != width)) {
        char got[64];
        pp_shape_str(nd, shape, got, sizeof got);
        if (width)
            return pp_fail("%s: %s is %s, expected [%lld,%d]", path, key, got, (long long)rows,
                           width);
        return pp_fail("%s: %s is %s, expected [%lld]", path, key, got, (long long)rows);
    }
    size_t count = (size_t)rows * (size_t)(width ? width : 1);
    const unsigned char *b = data;
    switch (dt) {
    case PP_F32: memcpy(dst, data, count * sizeof(float)); break;
    case PP_F64:
        for (size_t i = 0; i < count; i++) {
            double v;
            memcpy(&v, b + i * sizeof v, sizeof v);
            dst[i] = (float)v;
        }
        break;
    case PP_BOOL:
    case PP_U8:
        if (width) goto bad_type;
        for (size_t i = 0; i < count; i++) dst[i] = b[i] ? 1.0f : 0.0f;
        break;
    default: goto bad_type;
    }
    return 0;
bad_type:
    return pp_fail("%s: %s is %s, expected f32%s", path, key, pp_dtype_name(dt),
                   width ? " or f64" : ", f64, bool or u8");
}

int pp_replay_load(pp_replay **out, const char *path, int64_t capacity)
{
    *out = NULL;
    pp_frame *f = pp_frame_new();
    uint8_t *keep = NULL;
    pp_replay *file = NULL, *r = NULL;
    int rc = -1;
    bool had_sum = false;
    if (pp_frame_load_file_sum(f, path, &keep, &had_sum) != 0) goto done;
    const char *fmt;
    size_t fmtlen;
    if (pp_frame_get_str(f, "format", &fmt, &fmtlen) != 0 ||
        fmtlen != strlen(PP_REPLAY_FORMAT) || memcmp(fmt, PP_REPLAY_FORMAT, fmtlen) != 0) {
        pp_fail("%s: not a parpi replay file (expected \"format\": \"%s\")", path,
                PP_REPLAY_FORMAT);
        goto done;
    }
    int64_t version, obs_dim, act_dim, cap, size, next, added;
    if (get_int(f, path, "version", 1, INT64_MAX, &version) != 0) goto done;
    if (version > PP_REPLAY_VERSION) {
        pp_fail("%s: version %lld is newer than this parpi (%d)", path, (long long)version,
                PP_REPLAY_VERSION);
        goto done;
    }
    if (version >= 2 && !had_sum) {
        pp_fail("%s: no checksum: a version %lld replay file ends in its \"checksum\" field; the "
                "file was cut short, damaged or rewritten by another program",
                path, (long long)version);
        goto done;
    }
    if (get_int(f, path, "obs_dim", 1, 1 << 20, &obs_dim) != 0 ||
        get_int(f, path, "act_dim", 1, 1 << 20, &act_dim) != 0 ||
        get_int(f, path, "capacity", 1, (int64_t)1 << 40, &cap) != 0 ||
        get_int(f, path, "size", 0, cap, &size) != 0 ||
        get_int(f, path, "next", 0, cap - 1, &next) != 0 ||
        get_int(f, path, "added", size, INT64_MAX, &added) != 0)
        goto done;
    if (size < cap && next != size % cap) {
        pp_fail("%s: next is %lld with %lld of %lld rows filled, expected %lld", path,
                (long long)next, (long long)size, (long long)cap, (long long)(size % cap));
        goto done;
    }
    /* The file's rows, laid out as in the file, in a buffer of exactly size
     * rows would lose the ring position; read into the file's capacity only
     * when it is kept, else into a size-row staging buffer. */
    int keep_layout = capacity <= 0 || capacity == cap;
    if (pp_replay_create(&file, keep_layout ? cap : (size > 0 ? size : 1), (int)obs_dim,
                         (int)act_dim) != 0) {
        pp_fail_prefix("%s: ", path);
        goto done;
    }
    if (read_column(f, path, "observations", size, (int)obs_dim, file->data.obs) != 0 ||
        read_column(f, path, "actions", size, (int)act_dim, file->data.act) != 0 ||
        read_column(f, path, "rewards", size, 0, file->data.rew) != 0 ||
        read_column(f, path, "next_observations", size, (int)obs_dim, file->data.next_obs) != 0 ||
        read_column(f, path, "terminals", size, 0, file->data.terminated) != 0 ||
        read_column(f, path, "timeouts", size, 0, file->data.truncated) != 0)
        goto done;
    if (keep_layout) {
        file->size = size, file->next = next, file->added = added;
        r = file, file = NULL;
        rc = 0;
        goto done;
    }
    /* Re-pack oldest first into the requested capacity, keeping the newest. */
    if (pp_replay_create(&r, capacity, (int)obs_dim, (int)act_dim) != 0) {
        pp_fail_prefix("%s: ", path);
        goto done;
    }
    int64_t keep_n = size < capacity ? size : capacity;
    int64_t oldest = size < cap ? 0 : next; /* chronological start in the file */
    for (int64_t k = size - keep_n; k < size; k++) {
        int64_t i = (oldest + k) % cap;
        pp_replay_add(r, file->data.obs + i * obs_dim, file->data.act + i * act_dim,
                      file->data.rew[i], file->data.next_obs + i * obs_dim,
                      file->data.terminated[i] != 0, file->data.truncated[i] != 0);
    }
    r->added = added;
    rc = 0;
done:
    pp_replay_free(file);
    pp_frame_free(f);
    free(keep);
    if (rc == 0) *out = r;
    else pp_replay_free(r);
    return rc;
}
