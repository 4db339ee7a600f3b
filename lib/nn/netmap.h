/* netmap.h - the parameter maps that frames carry: policy, q, disc.
 *
 * Each is a map {arch?: str, obs_dim: int, act_dim: int, hidden: int,
 * layers: int, params: f32[n], ...} (parpi-frame(5)). These helpers read the
 * dims with bounds (a hostile frame cannot make a stage allocate without
 * limit), compare them with the ones a stage was built for, and read/write
 * the params tensor. Messages name the field:
 *   "policy.obs_dim is 11, expected 17", "q.params is f32[10], expected f32[12]".
 */
#ifndef PP_NETMAP_H
#define PP_NETMAP_H

#include <stddef.h>

#include "frame/frame.h"

#define PP_NETMAP_MAX_DIM 65536   /* obs_dim, act_dim, hidden */

typedef struct {
    char arch[32];                /* "" when the map has no arch field (disc) */
    int obs_dim, act_dim, hidden, layers;
} pp_netmap;

/* Read path.{arch (optional), obs_dim, act_dim, hidden, layers}. */
int pp_netmap_read(pp_frame *f, const char *path, pp_netmap *m);
/* 0 if got matches want in every field, else -1 naming the first difference. */
int pp_netmap_check(const pp_netmap *got, const pp_netmap *want, const char *path);
/* 0 if the map is for obs_dim x act_dim (what the reading stage was set up
 * for: its env, its batch or its own network), else -1 naming the field:
 * "policy.obs_dim is 17, expected 11". A want of 0 is not compared. */
int pp_netmap_check_dims(const pp_netmap *m, const char *path, int obs_dim, int act_dim);
/* Floats in a pp_mlp blob: in -> hidden x layers -> out, members side by side
 * (0 if the count would not fit 2^40: no real network is that large). */
size_t pp_netmap_mlp_floats(int in, int hidden, int layers, int out, int members);
/* Check, before allocating anything, that path.params is f32 with exactly n
 * elements: a frame cannot make a stage build a network its params do not fill
 * ("q.params has 10 floats, expected 258 for obs_dim 3, act_dim 2, hidden 8, layers 2"). */
int pp_netmap_check_size(pp_frame *f, const char *path, const pp_netmap *m, size_t n);
/* Copy path.params (must be f32 of exactly n elements, 1-D) into dst, and
 * check that every one is finite ("q.params[7] is not finite (inf)"): no
 * stage acts on or through a network with a NaN or infinite weight. */
int pp_netmap_read_params(pp_frame *f, const char *path, float *dst, size_t n);
/* Check a spectral-norm state (pp_mlp_sn_get's layout for an MLP in -> hidden x
 * layers -> out, members side by side: per layer u [members * width out], then
 * v [members * width in]) of n floats: the size, every float finite, and every
 * u and v a unit vector, as the power iteration leaves them (a zero or huge
 * vector would scale W / sigma without bound). -1 naming path and the layer. */
int pp_netmap_check_sn(const char *path, const float *sn, size_t n, int in, int hidden, int layers,
                       int out, int members);
/* Write path.{arch (if non-empty), obs_dim, act_dim, hidden, layers, params f32[n]}. */
int pp_netmap_write(pp_frame *f, const char *path, const pp_netmap *m, const float *params,
                    size_t n);

#endif
