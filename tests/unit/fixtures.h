/* fixtures.h - what the stage tests build by hand, once: the policy and twin
 * critic nets a frame carries, a stage made from its options, and a frame
 * carried through bytes as a checkpoint file would carry it.
 *
 *   fx_policy        a Gaussian-tanh policy and its params, drawn from r
 *   fx_twin_q        a twin critic in -> H x L -> 1 (ReLU) and its params
 *   fx_stage         pp_stage_create, the reason printed as a TAP comment
 *   fx_through_bytes encode, then decode into a new frame
 */
#ifndef PP_TEST_FIXTURES_H
#define PP_TEST_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/rng.h"
#include "frame/frame.h"
#include "nn/mlp.h"
#include "rl/policy.h"
#include "stage/stage.h"

/* p: obs_dim -> H x L -> 2 act_dim; returns its params (pp_xalloc_f32), drawn from r. */
static inline float *fx_policy(pp_policy *p, int obs_dim, int act_dim, int H, int L, int max_batch,
                               pp_rng *r)
{
    pp_policy_init(p, obs_dim, act_dim, H, L, max_batch);
    float *params = pp_xalloc_f32(p->nparams);
    pp_policy_init_params(p, params, r);
    return params;
}

/* q: two members in -> H x L -> 1, ReLU, no spectral norm; returns its params, drawn from r. */
static inline float *fx_twin_q(pp_mlp *q, int in, int H, int L, int max_rows, pp_rng *r)
{
    int widths[PP_MLP_MAX_LAYERS];
    for (int l = 0; l < L; l++) widths[l] = H;
    pp_mlp_init(q, in, L, widths, 1, 2, PP_ACT_RELU, PP_ACT_LINEAR, 0, max_rows);
    float *params = pp_xalloc_f32(q->nparams);
    pp_mlp_init_params(q, params, r);
    return params;
}

/* The stage `name` made from argv (argv[0] its name), or NULL. */
static inline pp_stage *fx_stage(const char *name, int argc, char **argv)
{
    pp_stage *s = NULL;
    if (pp_stage_create(name, argc, argv, &s) != 0) {
        printf("# create %s: %s\n", name, pp_error());
        return NULL;
    }
    return s;
}

/* f encoded and decoded into a new frame, or NULL (the reason printed);
 * *bytes keeps the encoding (free it after the frame). */
static inline pp_frame *fx_through_bytes(pp_frame *f, uint8_t **bytes)
{
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    pp_frame *back = pp_frame_new();
    *bytes = NULL;
    if (pp_frame_encode(f, &buf, &cap, &len) != 0 || pp_frame_decode(back, buf, len, 0) != 0) {
        printf("# through bytes: %s\n", pp_error());
        pp_frame_free(back);
        free(buf);
        return NULL;
    }
    *bytes = buf;
    return back;
}

#endif
