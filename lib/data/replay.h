/* replay.h - the replay buffer: a ring of transitions, sampled uniformly.
 *
 * Every field is a float32 array allocated once at create time (capacity
 * rows); adding overwrites the oldest transition once the ring is full.
 * Actions are stored as given: parpi stores the policy-space action in
 * [-1, 1] (what the critic and the policy see), not the env-unit action.
 * terminated and truncated are 0.0 / 1.0: a TD target bootstraps unless
 * terminated.
 *
 * A replay file (parpi-replay(5)) is a stream of frames in one file: a
 * header (the columns, the ring's capacity, next and added), chunk frames
 * of at most 16 MiB of rows each, and an end frame whose checksum covers
 * the whole file (data/rows.h). It is written atomically, so a collector
 * stopped with Ctrl-C leaves the last complete file, never a torn one; and
 * saved and loaded a chunk at a time, so saving takes no memory beyond the
 * buffer's and loading the buffer plus about one chunk, at any size. Its
 * columns carry D4RL's names (observations, actions, rewards,
 * next_observations, terminals, timeouts), so a replay file also reads as a
 * data set (data/dataset.h), and a data set with those columns loads as a
 * replay buffer; rows are in storage order, and "next" is the row the next
 * add overwrites (when the ring is full, the oldest row). Version 1 and 2
 * files (one frame, at most 1 GiB) still load.
 */
#ifndef PP_REPLAY_H
#define PP_REPLAY_H

#include <stdint.h>

#include "frame/frame.h"
#include "base/rng.h"

#define PP_REPLAY_DEFAULT_CAPACITY 1000000

/* Rows of transitions: obs [n, obs_dim], act [n, act_dim], rew [n],
 * next_obs [n, obs_dim], terminated [n], truncated [n]. The buffer's own
 * storage has this shape; so has a sampled batch (caller's buffers: any
 * pointer may be NULL to skip that field). */
typedef struct {
    float *obs, *act, *rew, *next_obs, *terminated, *truncated;
} pp_transitions;

typedef struct {
    int obs_dim, act_dim;
    int64_t capacity;  /* rows allocated */
    int64_t size;      /* rows filled, <= capacity */
    int64_t next;      /* row the next add writes */
    int64_t added;     /* transitions added over the buffer's life */
    pp_transitions data;  /* one mmap'd block of block_bytes, obs first */
    size_t block_bytes;
    int64_t *scratch;  /* indices for pp_replay_sample */
    int64_t scratch_cap;
} pp_replay;

/* capacity <= 0: PP_REPLAY_DEFAULT_CAPACITY. Fails (pp_fail) on bad dims or a
 * size that does not fit in memory arithmetic. */
int pp_replay_create(pp_replay **out, int64_t capacity, int obs_dim, int act_dim);
void pp_replay_free(pp_replay *r);
void pp_replay_clear(pp_replay *r);

/* Add one transition (float32 rows). */
void pp_replay_add(pp_replay *r, const float *obs, const float *act, float rew,
                   const float *next_obs, int terminated, int truncated);
/* The same with float64 observations and reward straight from pp_env_step. */
void pp_replay_add_env(pp_replay *r, const double *obs, const float *act, double rew,
                       const double *next_obs, int terminated, int truncated);

/* Draw n row indices uniformly (with replacement) from the filled rows.
 * Fails if the buffer is empty. */
int pp_replay_sample_indices(const pp_replay *r, pp_rng *rng, int64_t n, int64_t *idx);
/* Copy rows idx[0..n) into out (contiguous, row after row). */
void pp_replay_gather(const pp_replay *r, const int64_t *idx, int64_t n,
                      const pp_transitions *out);
/* sample_indices + gather, with indices in a scratch array the buffer keeps
 * (grown, not reallocated per call, once it has reached n). */
int pp_replay_sample(pp_replay *r, pp_rng *rng, int64_t n, const pp_transitions *out);
/* Sample n transitions into frame f as the canonical batch under prefix
 * ("batch"): prefix.obs [n,obs_dim], .act [n,act_dim], .rew [n],
 * .next_obs [n,obs_dim], .done [n] (= terminated), .truncated [n], all f32. */
int pp_replay_sample_to_frame(pp_replay *r, pp_rng *rng, int64_t n, pp_frame *f,
                              const char *prefix);

/* ---- files ---- */
#define PP_REPLAY_FORMAT "parpi-replay"
#define PP_REPLAY_VERSION 3 /* 3: a stream of chunk frames; 2: one frame with a checksum; 1: without (still read) */
/* Write the filled rows atomically (temp file, fsync, rename), in chunks of
 * at most 16 MiB ($PARPI_CHUNK_ROWS rows when set, for tests). */
int pp_replay_save(const pp_replay *r, const char *path);
/* Read a replay file (any version) into a new buffer. capacity <= 0 keeps
 * the file's capacity (and row order, so sampling continues as if never
 * saved); a different capacity keeps the newest min(size, capacity)
 * transitions, oldest first. Also reads a data set file with the six
 * columns (rows in time order; capacity <= 0: its row count). Terminals and
 * timeouts may be f32, f64, bool or u8 in the file. */
int pp_replay_load(pp_replay **out, const char *path, int64_t capacity);

#endif
