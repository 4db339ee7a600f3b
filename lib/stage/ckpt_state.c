/* ckpt_state.c - stage state in checkpoint frames (see ckpt_state.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stage/ckpt_state.h"
#include "base/err.h"
#include "nn/adam.h"
#include "nn/vec.h"

int pp_ckpt_put_blob(pp_frame *f, const char *path, const float *data, size_t n)
{
    int64_t shape[1] = {(int64_t)n};
    return pp_frame_put_tensor(f, path, PP_F32, 1, shape, data);
}

int pp_ckpt_get_blob(pp_frame *f, const char *path, float *data, size_t n)
{
    int64_t shape[1] = {(int64_t)n};
    if (pp_frame_read_tensor(f, path, PP_F32, 1, shape, data, NULL) != 0) return -1;
    if (pp_vec_all_finite(data, n)) return 0;
    /* A NaN here would load and surface steps later as a NaN loss. */
    size_t i = 0;
    while (i < n && isfinite(data[i])) i++;
    return pp_fail("%s[%zu] is %s: the checkpoint is damaged (its parameters and Adam moments are finite)",
                   path, i, isnan(data[i]) ? "nan" : (data[i] > 0 ? "inf" : "-inf"));
}

int pp_ckpt_put_rng(pp_frame *f, const char *path, const pp_rng *r)
{
    uint64_t w[PP_RNG_STATE_WORDS];
    pp_rng_to_u64(r, w);
    int64_t shape[1] = {PP_RNG_STATE_WORDS};
    return pp_frame_put_tensor(f, path, PP_I64, 1, shape, w);
}

int pp_ckpt_get_rng(pp_frame *f, const char *path, pp_rng *r)
{
    uint64_t w[PP_RNG_STATE_WORDS];
    int64_t shape[1] = {PP_RNG_STATE_WORDS};
    if (pp_frame_read_tensor(f, path, PP_I64, 1, shape, w, NULL) != 0) return -1;
    if (w[4] > 1) return pp_fail("%s: Box-Muller flag is %llu, expected 0 or 1", path,
                                 (unsigned long long)w[4]);
    if ((w[0] | w[1] | w[2] | w[3]) == 0) return pp_fail("%s: all-zero generator state", path);
    pp_rng_from_u64(r, w);
    return 0;
}

int pp_ckpt_put_adam(pp_frame *f, const char *prefix, const pp_adam *a)
{
    char p[256];
    snprintf(p, sizeof p, "%s.m", prefix);
    if (pp_ckpt_put_blob(f, p, a->m, a->n) != 0) return -1;
    snprintf(p, sizeof p, "%s.v", prefix);
    if (pp_ckpt_put_blob(f, p, a->v, a->n) != 0) return -1;
    snprintf(p, sizeof p, "%s.t", prefix);
    return pp_frame_set_i64(f, p, a->t);
}

int pp_ckpt_get_adam(pp_frame *f, const char *prefix, pp_adam *a)
{
    char p[256];
    long long t;
    snprintf(p, sizeof p, "%s.m", prefix);
    if (pp_ckpt_get_blob(f, p, a->m, a->n) != 0) return -1;
    snprintf(p, sizeof p, "%s.v", prefix);
    if (pp_ckpt_get_blob(f, p, a->v, a->n) != 0) return -1;
    snprintf(p, sizeof p, "%s.t", prefix);
    if (pp_ckpt_get_int(f, p, 0, (long long)1 << 62, &t) != 0) return -1;
    a->t = t;
    return 0;
}

int pp_ckpt_get_int(pp_frame *f, const char *path, long long lo, long long hi, long long *out)
{
    int64_t v;
    if (pp_frame_get_i64(f, path, &v) != 0) return -1;
    if (v < lo || v > hi)
        return pp_fail("%s is %lld, expected %lld..%lld", path, (long long)v, lo, hi);
    *out = v;
    return 0;
}

int pp_ckpt_check_blob_len(pp_frame *f, const char *path, size_t want)
{
    pp_dtype dt;
    int nd;
    int64_t shape[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, path, &dt, &nd, shape) != 0) return -1;
    if (dt != PP_F32 || nd != 1 || want == 0 || shape[0] != (int64_t)want)
        return pp_fail("%s is %s%s, expected f32[%zu] for the config's sizes", path, pp_dtype_name(dt),
                       pp_shape_str(nd, shape, (char[64]){0}, 64), want);
    return 0;
}
