/* rng.h - seeded, splittable random streams (xoshiro256**, SplitMix64 seeding).
 *
 * The same seed gives the same numbers on every run and machine. A stage
 * derives independent child streams with pp_rng_split(parent, id): the child
 * depends only on the parent's current state and the id, and the parent does
 * not advance, so adding a new consumer never shifts an existing stream.
 * The whole state (including the Box-Muller spare) is plain data: save it
 * in checkpoints with pp_rng_to_u64 / pp_rng_from_u64.
 */
#ifndef PP_RNG_H
#define PP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
    uint64_t has_spare;   /* 0 or 1 */
    double spare;         /* cached second Box-Muller normal */
} pp_rng;

#define PP_RNG_STATE_WORDS 6  /* s[4], has_spare, bits of spare */

/* The stream table: every stage seeds a root from its --seed and takes ONE
 * child stream of it, so that stages given the same seed draw independent
 * numbers (and a new stage takes the next free number). Inside a stage,
 * children of its stream are numbered locally; PP_STREAM_INIT is the child a
 * stage's network initialisation draws from (it does not advance the
 * stage's stream, so the step stream starts the same however the dims came).
 *   stream  stage     children
 *   1       critic    1000 init
 *   2       langevin
 *   3       discrim   1000 init
 *   4       policy    1000 init
 *   5       collect   1 env resets, 2 random actions and policy noise, 3 batches
 *   6       eval      1 env resets, 2 actions
 *   7       generate  1 env resets, 2 actions (parpi-dataset generate)
 *   8       dual      1000 init */
enum {
    PP_STREAM_CRITIC = 1,
    PP_STREAM_LANGEVIN = 2,
    PP_STREAM_DISCRIM = 3,
    PP_STREAM_POLICY = 4,
    PP_STREAM_COLLECT = 5,
    PP_STREAM_EVAL = 6,
    PP_STREAM_GENERATE = 7,
    PP_STREAM_DUAL = 8,
    PP_STREAM_INIT = 1000,
};

void pp_rng_seed(pp_rng *r, uint64_t seed);
pp_rng pp_rng_split(const pp_rng *parent, uint64_t stream_id);
/* The stream of a stage: pp_rng_split of the root seeded with seed. */
pp_rng pp_rng_stream(uint64_t seed, uint64_t stream_id);
uint64_t pp_rng_u64(pp_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double pp_rng_uniform(pp_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t pp_rng_below(pp_rng *r, uint64_t n);
/* Standard normal (Box-Muller, spare cached). */
double pp_rng_normal(pp_rng *r);
void pp_rng_fill_normal_f32(pp_rng *r, float *dst, size_t n);
void pp_rng_fill_uniform_f32(pp_rng *r, float *dst, size_t n, float lo, float hi);

void pp_rng_to_u64(const pp_rng *r, uint64_t out[PP_RNG_STATE_WORDS]);
void pp_rng_from_u64(pp_rng *r, const uint64_t in[PP_RNG_STATE_WORDS]);

#endif
