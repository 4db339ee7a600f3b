/* actor.h - act with a frame's `policy` map, whatever its arch.
 *
 * parpi-collect, parpi-eval and the stages that need policy samples use this:
 *
 *   pp_actor *actor = NULL;
 *   if (pp_actor_from_frame(f, "policy", 256, &actor) != 0) ...   (first frame creates it)
 *   pp_actor_act(actor, pp_actor_params(actor), obs, B, deterministic, &rng, a);
 *
 * Archs (parpi-frame(5)): "gaussian-tanh" (pp_policy: a = tanh(mu + sigma eps);
 * deterministic: tanh(mu)) and "implicit" (pp_policy_implicit: a =
 * tanh(g(s, xi)); deterministic: xi = 0). Actions are in [-1,1]^d (policy
 * space); the env scales them.
 *
 * pp_actor_from_frame reads the map's dims; on the first call (*actor NULL)
 * it creates the actor, afterwards it checks the dims did not change
 * ("policy.act_dim is 3, expected 6"), and it copies policy.params into the
 * actor's own aligned buffer (pp_actor_params), so the frame may be reused.
 * A stage that acts in an env or on a batch uses pp_actor_from_frame_for,
 * which also checks the dims against its own.
 */
#ifndef PP_ACTOR_H
#define PP_ACTOR_H

#include "frame/frame.h"
#include "nn/netmap.h"
#include "rl/policy.h"
#include "rl/policy_implicit.h"
#include "base/rng.h"

typedef enum { PP_ARCH_GAUSSIAN_TANH = 0, PP_ARCH_IMPLICIT } pp_policy_arch;

#define PP_ARCH_GAUSSIAN_TANH_NAME "gaussian-tanh"
#define PP_ARCH_IMPLICIT_NAME "implicit"

/* "gaussian-tanh" / "implicit"; -1 with a message listing both otherwise. */
int pp_policy_arch_parse(const char *name, pp_policy_arch *out);
const char *pp_policy_arch_name(pp_policy_arch arch);

typedef struct pp_actor pp_actor;

/* spec->arch must name an arch; max_batch bounds B of pp_actor_act. */
int pp_actor_create(const pp_netmap *spec, int max_batch, pp_actor **out);
void pp_actor_free(pp_actor *a);
const pp_netmap *pp_actor_spec(const pp_actor *a);
pp_policy_arch pp_actor_arch(const pp_actor *a);
size_t pp_actor_nparams(const pp_actor *a);
/* The actor's own parameter buffer (filled by pp_actor_from_frame). */
float *pp_actor_params(pp_actor *a);
/* The underlying policy objects (NULL when the arch differs). */
pp_policy *pp_actor_gaussian(pp_actor *a);
pp_policy_implicit *pp_actor_implicit(pp_actor *a);

/* Create (*actor NULL) or check (*actor set) from the map at path, then copy
 * its params into the actor (refused if one is not finite). */
int pp_actor_from_frame(pp_frame *f, const char *path, int max_batch, pp_actor **actor);
/* The same, for a stage that knows the sizes it acts on (its env, its
 * batch): the map's obs_dim and act_dim are checked against them before
 * anything is built or read ("policy.obs_dim is 17, expected 11"), on every
 * frame, so a policy for another task is never run. 0 is not compared. */
int pp_actor_from_frame_for(pp_frame *f, const char *path, int max_batch, int obs_dim, int act_dim,
                            pp_actor **actor);

/* Actions for obs [B, obs_dim] into a_out [B, act_dim]. deterministic: the
 * mean/mode action (no rng draws); otherwise one sample per row from rng.
 * -1 if B is outside 1..max_batch. */
int pp_actor_act(pp_actor *a, const float *params, const float *obs, int B, int deterministic,
                 pp_rng *rng, float *a_out);

/* One action for one observation [obs_dim], as pp_actor_act with B = 1
 * (the same draws from rng), but with no BLAS: the net runs on
 * pp_mlp_forward_row, its sums in double (nn/mlp.h), in the calling thread
 * only. The evaluator's (lib/stage/stage_eval.c), which acts in a thread of
 * its own beside the training's BLAS threads; its actions differ from
 * pp_actor_act's in the last bits, so the collector, whose actions the
 * replay and a re-run depend on, keeps pp_actor_act. */
int pp_actor_act_row(pp_actor *a, const float *params, const float *obs, int deterministic, pp_rng *rng,
                     float *a_out);

#endif
