/* mlp.h - multi-layer perceptrons on one float32 parameter blob (the llm.c way).
 *
 * A pp_mlp describes the shape and owns the work buffers (activations sized
 * for max_batch, spectral-norm vectors); the parameters and their gradients
 * live in blobs the caller owns, so the same pp_mlp runs an online network
 * and its Polyak target, and Adam/Polyak/serialisation are single loops.
 *
 * Layout: Linear layers l = 0..nlayers-1, input width w[0], output width
 * w[nlayers]. Weights are stored [in, out] row-major so y = x W + b is one
 * sgemm (x is [B, in] row-major). With members = E > 1 the E networks share
 * the input: layer 0's weights of all members sit side by side as one
 * [in, E*w1] matrix (one wider sgemm); deeper layers are E separate blocks.
 * Activations are [B, E*w[l]], member e in columns e*w[l] .. (e+1)*w[l]-1.
 * The output is [B, E*out] (twin Q: column 0 = Q1, column 1 = Q2).
 *
 * Blob order: for l in layers: W_l (all members, layer 0 as one [in, E*w1]
 * block; deeper layers member by member), then b_l (E*w[l+1]).
 *
 * Initialisation (pp_mlp_init_params): fan-in uniform, as PyTorch's
 * nn.Linear: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
 *
 * Spectral normalisation (spectral != 0): every weight matrix (per member) is
 * used as W / sigma(W), sigma from a persistent power iteration. Call
 * pp_mlp_sn_update() once per optimiser step (one power iteration on the
 * current params, caching sigma and the vectors u, v); forward and backward
 * use the cached values. The backward treats u, v as constants, as PyTorch's
 * spectral_norm does: dL/dW = (G - <G, W_sn> u v^T) / sigma, G = dL/dW_sn.
 *
 * Threads: pp_blas_set_threads(n) sets OpenBLAS's thread count; call once at
 * start-up (the --threads flag). OpenBLAS threads sleep when idle (we set
 * OPENBLAS's thread timeout low in pp_blas_set_threads, see blas.c).
 *
 * Buffers: pre[l] holds x W + b, post[l] = act(pre[l]); where the layer's
 * activation is linear post[l] == pre[l] (same buffer). Nothing is allocated
 * after pp_mlp_init. The gradient penalty clobbers pre[] with its deltas.
 */
#ifndef PP_MLP_H
#define PP_MLP_H

#include <stddef.h>

#include "base/rng.h"

#define PP_MLP_MAX_LAYERS 8

/* Swish x sigmoid(x) (MOPO's dynamics ensemble, docs/algorithm.md section
 * 18): its backward recomputes sigmoid from pre[l], which the forward keeps. */
typedef enum { PP_ACT_LINEAR = 0, PP_ACT_RELU, PP_ACT_TANH, PP_ACT_SWISH } pp_act;

typedef struct {
    int nlayers;                          /* number of Linear layers */
    int width[PP_MLP_MAX_LAYERS + 1];     /* width[0] = in, width[nlayers] = out (per member) */
    int members;                          /* E parallel networks sharing the input */
    pp_act hidden_act, out_act;
    int spectral;
    int max_batch;
    size_t nparams;                       /* floats in the blob */
    size_t off_w[PP_MLP_MAX_LAYERS], off_b[PP_MLP_MAX_LAYERS];
    /* work buffers, owned */
    float *pre[PP_MLP_MAX_LAYERS];        /* pre-activations per layer [max_batch, E*w[l+1]] */
    float *post[PP_MLP_MAX_LAYERS];       /* post-activations (the last one is the output) */
    float *delta_a, *delta_b;             /* backward scratch [max_batch, E*max width] */
    const float *input;                   /* the x of the last forward (not owned) */
    int last_batch;
    /* spectral norm state, per layer and member: u [out], v [in], sigma; and scaled weights */
    float *sn_u[PP_MLP_MAX_LAYERS], *sn_v[PP_MLP_MAX_LAYERS];
    float *sn_sigma[PP_MLP_MAX_LAYERS];   /* [E] */
    float *sn_w[PP_MLP_MAX_LAYERS];       /* W / sigma, same layout as the blob's W_l */
    size_t sn_state_floats;               /* floats of (u, v) state over all layers, for checkpoints */
    /* added by the nn implementation */
    int max_width;                        /* max over width[0..nlayers] */
    int sn_ready;                         /* sn_w/sn_sigma computed (init_params, sn_update, sn_set) */
    int *sel_rows;                        /* [max_batch] scratch of pp_mlp_backward_input_select */
} pp_mlp;

/* hidden: array of nhidden widths. Returns 0 or -1 (bad shapes). */
int pp_mlp_init(pp_mlp *m, int in, int nhidden, const int *hidden, int out, int members,
                pp_act hidden_act, pp_act out_act, int spectral, int max_batch);
void pp_mlp_free(pp_mlp *m);
void pp_mlp_init_params(pp_mlp *m, float *params, pp_rng *rng); /* also seeds SN vectors */

/* y = f(x), x [B, in] row-major, B <= max_batch; returns a pointer to the
 * output [B, E*out] inside m (valid until the next forward). */
const float *pp_mlp_forward(pp_mlp *m, const float *params, const float *x, int B);
/* The same for one row x [in], with no BLAS and no thread but the caller's:
 * each output is its bias plus the products summed in double, in input
 * order, and rounded to float once (pp_kern_matvec_f64), so the result does
 * not depend on the BLAS, its thread count or the CPU's vector width, and
 * is within one float rounding of the exact value of each layer. It differs
 * from pp_mlp_forward's in the last bits. For the evaluator, which acts in
 * a thread of its own beside the training's BLAS (lib/stage/stage_eval.c,
 * docs/design.md section 7); the collector and the updates use
 * pp_mlp_forward. Uses the same buffers (valid until the next forward). */
const float *pp_mlp_forward_row(pp_mlp *m, const float *params, const float *x);
/* Backward of the last forward: dy [B, E*out]. dparams (nullable) is
 * ACCUMULATED into; dx (nullable) [B, in] is overwritten (sum over members). */
void pp_mlp_backward(pp_mlp *m, const float *params, const float *dy, float *dparams, float *dx);

/* dx [B, in] = d/dx of sum_b y[b, member[b]]: the input gradient of one chosen
 * member per row (the Langevin score of min(Q1, Q2)). For nets with one
 * output per member and a linear output. Each member's backward runs only on
 * the rows that chose it, so it costs one member's backward, not E of them.
 * Uses the buffers of the last forward; dparams are not computed. */
void pp_mlp_backward_input_select(pp_mlp *m, const float *params, const int *member, float *dx);

/* Spectral norm: one power-iteration step on params; caches sigma and W/sigma. */
void pp_mlp_sn_update(pp_mlp *m, const float *params);
/* Copy the (u, v) vectors out / in, sn_state_floats floats (checkpoints). */
void pp_mlp_sn_get(const pp_mlp *m, float *dst);
void pp_mlp_sn_set(pp_mlp *m, const float *src, const float *params);

/* Gradient penalty lambda * mean_b (||grad_x f(x_b)||_2 - 1)^2 on the rows of
 * x [B, in], for members = 1, out = 1, ReLU or linear hidden layers, linear output
 * (the exact double-backward of a piecewise-linear net: biases get no gradient).
 * Accumulates into dparams; returns the penalty. Uses (and clobbers) the
 * forward buffers. */
float pp_mlp_grad_penalty(pp_mlp *m, const float *params, const float *x, int B, float lambda,
                          float *dparams);

/* The same on the input columns col0..in-1 only (g_b = grad of f with respect
 * to x_b[col0:], the other columns held fixed: e.g. the action part of (s, a)),
 * two-sided as above (one_sided 0; col0 0 is pp_mlp_grad_penalty exactly) or
 * one-sided as BRAC's gradient_penalty (one_sided 1):
 *   lambda * mean_b max(||g_b|| - 1, 0)^2,   ||g|| = sqrt(PP_MLP_GP_EPS + sum g^2),
 * exactly 0, with nothing added to dparams, when every ||g_b|| <= 1. */
#define PP_MLP_GP_EPS 1e-8
float pp_mlp_grad_penalty_cols(pp_mlp *m, const float *params, const float *x, int B, float lambda, int col0,
                               int one_sided, float *dparams);

/* 0 if pp_mlp_grad_penalty supports this net (members 1, out 1, ReLU or
 * linear hidden, linear output, no spectral norm); -1 and pp_fail otherwise.
 * pp_mlp_grad_penalty aborts on an unsupported net (a programming error):
 * stages check once at create time. */
int pp_mlp_grad_penalty_check(const pp_mlp *m);

/* FLOPs of one forward of B rows (2 per multiply-add). Backward ~ 2x. */
double pp_mlp_forward_flops(const pp_mlp *m, int B);
/* Exact FLOPs of pp_mlp_backward for B rows with / without dparams and dx. */
double pp_mlp_backward_flops(const pp_mlp *m, int B, int with_dparams, int with_dx);

#endif
