/* policy_file.c - see policy_file.h. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "frame/frame.h"
#include "nn/netmap.h"
#include "rl/policy_file.h"

/* A parpi-policy checkpoint without a `policy` map: write one into f. */
static int policy_map_from_checkpoint(pp_frame *f, const char *path)
{
    const char *kind, *update;
    size_t klen, ulen;
    if (pp_frame_get_str(f, "kind", &kind, &klen) != 0 || klen != 6 || memcmp(kind, "policy", 6) != 0)
        return pp_fail("%s: no 'policy' field (expected a parpi-policy checkpoint or a frame of the "
                       "ring)",
                       path);
    int64_t obs, act, hidden, layers;
    if (pp_frame_get_i64(f, "config.obs_dim", &obs) != 0 || pp_frame_get_i64(f, "config.act_dim", &act) != 0 ||
        pp_frame_get_i64(f, "config.hidden", &hidden) != 0 || pp_frame_get_i64(f, "config.layers", &layers) != 0 ||
        pp_frame_get_str(f, "config.update", &update, &ulen) != 0)
        return pp_fail_prefix("%s: ", path);
    if (obs <= 0 || act <= 0)
        return pp_fail("%s: the policy checkpoint has no dims yet (the stage never saw a frame)", path);
    int implicit = ulen == 4 && memcmp(update, "svgd", 4) == 0;
    int rc = 0;
    rc |= pp_frame_set_str(f, "policy.arch", implicit ? "implicit" : "gaussian-tanh");
    rc |= pp_frame_set_i64(f, "policy.obs_dim", obs);
    rc |= pp_frame_set_i64(f, "policy.act_dim", act);
    rc |= pp_frame_set_i64(f, "policy.hidden", hidden);
    rc |= pp_frame_set_i64(f, "policy.layers", layers);
    if (rc == 0 && pp_frame_copy(f, "policy.params", f, "params") != 0) rc = -1;
    return rc ? pp_fail_prefix("%s: ", path) : 0;
}

int pp_policy_file_read(const char *path, pp_frame *f, uint8_t **buf)
{
    int rc = pp_frame_load_file(f, path, buf);
    if (rc == 0 && !pp_frame_get(f, "policy")) rc = policy_map_from_checkpoint(f, path);
    return rc;
}

int pp_actor_from_file(const char *path, int max_batch, pp_actor **actor)
{
    pp_frame *f = pp_frame_new();
    uint8_t *buf = NULL;
    int rc = pp_policy_file_read(path, f, &buf);
    if (rc == 0 && pp_actor_from_frame(f, "policy", max_batch, actor) != 0) rc = pp_fail_prefix("%s: ", path);
    pp_frame_free(f);
    free(buf);
    return rc;
}

int pp_prior_from_file(const char *path, int max_batch, pp_actor **prior)
{
    *prior = NULL;
    pp_frame *f = pp_frame_new();
    uint8_t *buf = NULL;
    pp_netmap m;
    int rc = pp_policy_file_read(path, f, &buf);
    if (rc == 0) {
        if (pp_netmap_read(f, "policy", &m) != 0)
            rc = -1;
        else if (!m.arch[0])
            rc = pp_fail("missing field policy.arch (\"%s\")", PP_ARCH_GAUSSIAN_TANH_NAME);
        else if (strcmp(m.arch, PP_ARCH_GAUSSIAN_TANH_NAME) != 0)
            rc = pp_fail("policy.arch is \"%s\", expected \"%s\"", m.arch, PP_ARCH_GAUSSIAN_TANH_NAME);
        if (rc == 0 && pp_actor_from_frame(f, "policy", max_batch, prior) != 0) rc = -1;
        if (rc != 0) pp_fail_prefix("%s: ", path);
    }
    pp_frame_free(f);
    free(buf);
    return rc != 0 ? pp_fail_prefix("--prior: ") : 0;
}
