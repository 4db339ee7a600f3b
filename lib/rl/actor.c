/* actor.c - act with a frame's policy map, either arch (see actor.h). */
#include <stdlib.h>
#include <string.h>

#include "rl/actor.h"
#include "base/err.h"

struct pp_actor {
    pp_netmap spec;
    pp_policy_arch arch;
    int max_batch;
    pp_policy gauss;
    pp_policy_implicit impl;
    size_t nparams;
    float *params;
};

int pp_policy_arch_parse(const char *name, pp_policy_arch *out)
{
    if (strcmp(name, PP_ARCH_GAUSSIAN_TANH_NAME) == 0) {
        *out = PP_ARCH_GAUSSIAN_TANH;
        return 0;
    }
    if (strcmp(name, PP_ARCH_IMPLICIT_NAME) == 0) {
        *out = PP_ARCH_IMPLICIT;
        return 0;
    }
    return pp_fail("policy arch \"%s\" is unknown, expected \"%s\" or \"%s\"", name,
                   PP_ARCH_GAUSSIAN_TANH_NAME, PP_ARCH_IMPLICIT_NAME);
}

const char *pp_policy_arch_name(pp_policy_arch arch)
{
    return arch == PP_ARCH_IMPLICIT ? PP_ARCH_IMPLICIT_NAME : PP_ARCH_GAUSSIAN_TANH_NAME;
}

int pp_actor_create(const pp_netmap *spec, int max_batch, pp_actor **out)
{
    *out = NULL;
    pp_policy_arch arch;
    if (pp_policy_arch_parse(spec->arch, &arch) != 0) return -1;
    pp_actor *a = pp_xcalloc(1, sizeof *a);
    a->spec = *spec;
    a->arch = arch;
    a->max_batch = max_batch;
    int rc = arch == PP_ARCH_GAUSSIAN_TANH
                 ? pp_policy_init(&a->gauss, spec->obs_dim, spec->act_dim, spec->hidden,
                                  spec->layers, max_batch)
                 : pp_implicit_init(&a->impl, spec->obs_dim, spec->act_dim, spec->hidden,
                                    spec->layers, max_batch);
    if (rc != 0) {
        free(a);
        return -1;
    }
    a->nparams = arch == PP_ARCH_GAUSSIAN_TANH ? a->gauss.nparams : a->impl.nparams;
    a->params = pp_xalloc_f32(a->nparams);
    *out = a;
    return 0;
}

void pp_actor_free(pp_actor *a)
{
    if (!a) return;
    if (a->arch == PP_ARCH_GAUSSIAN_TANH)
        pp_policy_free(&a->gauss);
    else
        pp_implicit_free(&a->impl);
    free(a->params);
    free(a);
}

const pp_netmap *pp_actor_spec(const pp_actor *a) { return &a->spec; }
pp_policy_arch pp_actor_arch(const pp_actor *a) { return a->arch; }
size_t pp_actor_nparams(const pp_actor *a) { return a->nparams; }
float *pp_actor_params(pp_actor *a) { return a->params; }
pp_policy *pp_actor_gaussian(pp_actor *a)
{
    return a->arch == PP_ARCH_GAUSSIAN_TANH ? &a->gauss : NULL;
}
pp_policy_implicit *pp_actor_implicit(pp_actor *a)
{
    return a->arch == PP_ARCH_IMPLICIT ? &a->impl : NULL;
}

int pp_actor_from_frame(pp_frame *f, const char *path, int max_batch, pp_actor **actor)
{
    return pp_actor_from_frame_for(f, path, max_batch, 0, 0, actor);
}

int pp_actor_from_frame_for(pp_frame *f, const char *path, int max_batch, int obs_dim, int act_dim,
                            pp_actor **actor)
{
    pp_netmap m;
    if (pp_netmap_read(f, path, &m) != 0 || pp_netmap_check_dims(&m, path, obs_dim, act_dim) != 0)
        return -1;
    if (!m.arch[0]) return pp_fail("missing field %s.arch (\"%s\" or \"%s\")", path,
                                   PP_ARCH_GAUSSIAN_TANH_NAME, PP_ARCH_IMPLICIT_NAME);
    if (!*actor) {
        pp_policy_arch arch;
        if (pp_policy_arch_parse(m.arch, &arch) != 0) return pp_fail_prefix("%s: ", path);
        size_t n = arch == PP_ARCH_GAUSSIAN_TANH
                       ? pp_netmap_mlp_floats(m.obs_dim, m.hidden, m.layers, 2 * m.act_dim, 1)
                       : pp_netmap_mlp_floats(m.obs_dim + m.act_dim, m.hidden, m.layers,
                                              m.act_dim, 1);
        if (pp_netmap_check_size(f, path, &m, n) != 0) return -1;
        if (pp_actor_create(&m, max_batch, actor) != 0) return pp_fail_prefix("%s: ", path);
    } else if (pp_netmap_check(&m, &(*actor)->spec, path) != 0) {
        return -1;
    }
    return pp_netmap_read_params(f, path, (*actor)->params, (*actor)->nparams);
}

int pp_actor_act(pp_actor *a, const float *params, const float *obs, int B, int deterministic,
                 pp_rng *rng, float *a_out)
{
    if (B < 1 || B > a->max_batch)
        return pp_fail("actor: batch of %d rows, expected 1..%d", B, a->max_batch);
    const float *src;
    if (a->arch == PP_ARCH_GAUSSIAN_TANH) {
        if (deterministic)
            pp_policy_mean(&a->gauss, params, obs, B);
        else
            pp_policy_sample(&a->gauss, params, obs, B, rng);
        src = a->gauss.a;
    } else {
        if (deterministic)
            pp_implicit_sample_xi(&a->impl, params, obs, B, 1, NULL);
        else
            pp_implicit_sample(&a->impl, params, obs, B, 1, rng);
        src = a->impl.a;
    }
    memcpy(a_out, src, sizeof(float) * (size_t)B * a->spec.act_dim);
    return 0;
}

int pp_actor_act_row(pp_actor *a, const float *params, const float *obs, int deterministic, pp_rng *rng,
                     float *a_out)
{
    const float *src;
    if (a->arch == PP_ARCH_GAUSSIAN_TANH) {
        if (deterministic)
            pp_policy_mean_row(&a->gauss, params, obs);
        else
            pp_policy_sample_row(&a->gauss, params, obs, rng);
        src = a->gauss.a;
    } else {
        pp_implicit_act_row(&a->impl, params, obs, deterministic ? NULL : rng);
        src = a->impl.a;
    }
    memcpy(a_out, src, sizeof(float) * (size_t)a->spec.act_dim);
    return 0;
}
