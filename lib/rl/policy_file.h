/* policy_file.h - read a policy to act with from a file: a frame of the ring
 * (its `policy` map), or a parpi-policy checkpoint (its `policy` map if it has
 * one, else config.{obs_dim, act_dim, hidden, layers, update} and params).
 */
#ifndef PP_POLICY_FILE_H
#define PP_POLICY_FILE_H

#include <stdint.h>

#include "frame/frame.h"
#include "rl/actor.h"

/* Read the frame in path into f and make sure it has a `policy` map (a
 * parpi-policy checkpoint without one gets it from its config and params:
 * arch "implicit" for --update svgd, else "gaussian-tanh"). *buf holds the
 * file's bytes: free it after f. Errors name the file. */
int pp_policy_file_read(const char *path, pp_frame *f, uint8_t **buf);

/* Create *actor (max_batch rows) from the policy in path. Errors name the
 * file: "run/ckpt/policy.ckpt: no 'policy' map and not a parpi-policy checkpoint". */
int pp_actor_from_file(const char *path, int max_batch, pp_actor **actor);

/* The behaviour policy pi_beta of a --prior FILE (BRAC: parpi-langevin's
 * prior, parpi-dual's a'_b): pp_actor_from_file, but only a gaussian-tanh
 * policy (a density to score, a mean and std to read). Errors start
 * "--prior: FILE: " ("policy.arch is \"implicit\", expected \"gaussian-tanh\""). */
int pp_prior_from_file(const char *path, int max_batch, pp_actor **prior);

#endif
