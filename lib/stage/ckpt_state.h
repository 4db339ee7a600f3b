/* ckpt_state.h - store a stage's state in a checkpoint frame and read it back.
 *
 * Blobs are 1-D f32 tensors of an exact length; the RNG is its
 * PP_RNG_STATE_WORDS words as an i64 tensor (bits kept); Adam is
 * prefix.{m, v} (f32[n]) and prefix.t (int). Reading checks every shape,
 * so a checkpoint of another network size fails with the field named, and
 * that blobs (parameters, Adam's moments) are finite: "adam.v[17] is nan: ...".
 */
#ifndef PP_CKPT_STATE_H
#define PP_CKPT_STATE_H

#include <stddef.h>

#include "frame/frame.h"
#include "nn/mlp.h"
#include "base/rng.h"
#include "nn/adam.h"

int pp_ckpt_put_blob(pp_frame *f, const char *path, const float *data, size_t n);
int pp_ckpt_get_blob(pp_frame *f, const char *path, float *data, size_t n);
int pp_ckpt_put_rng(pp_frame *f, const char *path, const pp_rng *r);
int pp_ckpt_get_rng(pp_frame *f, const char *path, pp_rng *r);
int pp_ckpt_put_adam(pp_frame *f, const char *prefix, const pp_adam *a);
int pp_ckpt_get_adam(pp_frame *f, const char *prefix, pp_adam *a);
/* Before anything is allocated to a checkpoint's sizes: is the 1-D f32
 * tensor at path of length want? -1 with "params is f32[10], expected
 * f32[12] for the config's sizes" if not (want 0: never). */
int pp_ckpt_check_blob_len(pp_frame *f, const char *path, size_t want);
/* An int field within [lo, hi]. */
int pp_ckpt_get_int(pp_frame *f, const char *path, long long lo, long long hi, long long *out);

#endif
