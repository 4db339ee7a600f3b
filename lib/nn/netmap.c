/* netmap.c - read/check/write the parameter maps of frames (see netmap.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "nn/mlp.h"
#include "nn/netmap.h"
#include "nn/vec.h"

static int get_dim(pp_frame *f, const char *path, const char *field, int lo, int hi, int *out)
{
    char p[256];
    snprintf(p, sizeof p, "%s.%s", path, field);
    int64_t v;
    if (pp_frame_get_i64(f, p, &v) != 0) return -1;
    if (v < lo || v > hi) return pp_fail("%s is %lld, expected %d..%d", p, (long long)v, lo, hi);
    *out = (int)v;
    return 0;
}

int pp_netmap_read(pp_frame *f, const char *path, pp_netmap *m)
{
    memset(m, 0, sizeof *m);
    pp_node *node = pp_frame_get(f, path);
    if (!node) return pp_fail("missing field %s", path);
    if (pp_node_type_of(node) != PP_NODE_MAP)
        return pp_fail("field %s is %s, expected a map", path,
                       pp_node_type_name(pp_node_type_of(node)));
    char p[256];
    snprintf(p, sizeof p, "%s.arch", path);
    if (pp_frame_get(f, p)) {
        const char *s;
        size_t len;
        if (pp_frame_get_str(f, p, &s, &len) != 0) return -1;
        if (len >= sizeof m->arch) return pp_fail("%s is %zu bytes long, expected a short name", p, len);
        memcpy(m->arch, s, len);
        m->arch[len] = '\0';
    }
    if (get_dim(f, path, "obs_dim", 1, PP_NETMAP_MAX_DIM, &m->obs_dim) != 0 ||
        get_dim(f, path, "act_dim", 1, PP_NETMAP_MAX_DIM, &m->act_dim) != 0 ||
        get_dim(f, path, "hidden", 1, PP_NETMAP_MAX_DIM, &m->hidden) != 0 ||
        get_dim(f, path, "layers", 1, PP_MLP_MAX_LAYERS - 1, &m->layers) != 0)
        return -1;
    return 0;
}

int pp_netmap_check(const pp_netmap *got, const pp_netmap *want, const char *path)
{
    if (strcmp(got->arch, want->arch) != 0)
        return pp_fail("%s.arch is \"%s\", expected \"%s\"", path, got->arch, want->arch);
    const char *names[] = {"obs_dim", "act_dim", "hidden", "layers"};
    int g[] = {got->obs_dim, got->act_dim, got->hidden, got->layers};
    int w[] = {want->obs_dim, want->act_dim, want->hidden, want->layers};
    for (int i = 0; i < 4; i++)
        if (g[i] != w[i]) return pp_fail("%s.%s is %d, expected %d", path, names[i], g[i], w[i]);
    return 0;
}

int pp_netmap_check_dims(const pp_netmap *m, const char *path, int obs_dim, int act_dim)
{
    if (obs_dim > 0 && m->obs_dim != obs_dim)
        return pp_fail("%s.obs_dim is %d, expected %d", path, m->obs_dim, obs_dim);
    if (act_dim > 0 && m->act_dim != act_dim)
        return pp_fail("%s.act_dim is %d, expected %d", path, m->act_dim, act_dim);
    return 0;
}

size_t pp_netmap_mlp_floats(int in, int hidden, int layers, int out, int members)
{
    const double limit = 1099511627776.0; /* 2^40 */
    double total = 0;
    int w0 = in;
    for (int l = 0; l <= layers; l++) {
        int w1 = l == layers ? out : hidden;
        total += (double)members * ((double)w0 * w1 + w1);
        w0 = w1;
    }
    return total > limit ? 0 : (size_t)total;
}

int pp_netmap_check_size(pp_frame *f, const char *path, const pp_netmap *m, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s.params", path);
    pp_dtype dt;
    int nd;
    int64_t shape[PP_MAX_DIMS];
    if (pp_frame_get_tensor_info(f, p, &dt, &nd, shape) != 0) return -1;
    if (dt != PP_F32 || nd != 1)
        return pp_fail("%s is %s with %d dimensions, expected a 1-D f32 tensor", p,
                       pp_dtype_name(dt), nd);
    if (n == 0 || shape[0] != (int64_t)n)
        return pp_fail("%s has %lld floats, expected %zu for obs_dim %d, act_dim %d, hidden %d, "
                       "layers %d", p, (long long)shape[0], n, m->obs_dim, m->act_dim, m->hidden,
                       m->layers);
    return 0;
}

int pp_netmap_read_params(pp_frame *f, const char *path, float *dst, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s.params", path);
    int64_t shape[1] = {(int64_t)n};
    if (pp_frame_read_tensor(f, p, PP_F32, 1, shape, dst, NULL) != 0) return -1;
    return pp_vec_check_finite(dst, n, 0, p);
}

int pp_netmap_check_sn(const char *path, const float *sn, size_t n, int in, int hidden, int layers,
                       int out, int members)
{
    size_t want = 0;
    for (int l = 0; l <= layers; l++)
        want += (size_t)members * ((l == layers ? out : hidden) + (l == 0 ? in : hidden));
    if (n != want)
        return pp_fail("%s has %zu floats, expected %zu for these sizes", path, n, want);
    if (pp_vec_check_finite(sn, n, 0, path) != 0) return -1;
    size_t at = 0;
    for (int l = 0; l <= layers; l++) {
        const int w_in = l == 0 ? in : hidden, w_out = l == layers ? out : hidden;
        for (int part = 0; part < 2; part++) { /* u, then v */
            const int len = part == 0 ? w_out : w_in;
            for (int e = 0; e < members; e++, at += (size_t)len) {
                double s = 0;
                for (int i = 0; i < len; i++) s += (double)sn[at + i] * sn[at + i];
                if (!(fabs(sqrt(s) - 1.0) <= 1e-3))
                    return pp_fail("%s: layer %d's %s (floats %zu..%zu) has norm %g, expected a "
                                   "unit vector (the power iteration's)",
                                   path, l, part == 0 ? "u" : "v", at, at + (size_t)len - 1, sqrt(s));
            }
        }
    }
    return 0;
}

int pp_netmap_write(pp_frame *f, const char *path, const pp_netmap *m, const float *params,
                    size_t n)
{
    char p[256];
#define SET_I(field, v)                                                        \
    do {                                                                       \
        snprintf(p, sizeof p, "%s.%s", path, field);                           \
        if (pp_frame_set_i64(f, p, v) != 0) return -1;                         \
    } while (0)
    if (m->arch[0]) {
        snprintf(p, sizeof p, "%s.arch", path);
        if (pp_frame_set_str(f, p, m->arch) != 0) return -1;
    }
    SET_I("obs_dim", m->obs_dim);
    SET_I("act_dim", m->act_dim);
    SET_I("hidden", m->hidden);
    SET_I("layers", m->layers);
#undef SET_I
    snprintf(p, sizeof p, "%s.params", path);
    int64_t shape[1] = {(int64_t)n};
    return pp_frame_put_tensor(f, p, PP_F32, 1, shape, params);
}
