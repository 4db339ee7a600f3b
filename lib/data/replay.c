/* replay.c - the replay buffer in memory: ring storage and uniform sampling.
 * (Files: replay_file.c.) */
#include "data/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"

/* Every field in one block, each field 64-byte aligned. */
static size_t padded(size_t nfloats) { return (nfloats + 15) & ~(size_t)15; }

static int check_fits(int64_t capacity, int obs_dim, int act_dim, size_t *total)
{
    if (obs_dim <= 0 || act_dim <= 0 || obs_dim > (1 << 20) || act_dim > (1 << 20))
        return pp_fail("replay buffer: obs_dim %d, act_dim %d, expected 1..%d each", obs_dim,
                       act_dim, 1 << 20);
    if (capacity <= 0 || capacity > ((int64_t)1 << 40))
        return pp_fail("replay buffer: capacity %lld, expected 1..2^40 rows",
                       (long long)capacity);
    size_t rows = (size_t)capacity;
    size_t n = 2 * padded(rows * (size_t)obs_dim) + padded(rows * (size_t)act_dim) +
               3 * padded(rows);
    if (pp_check_memory((double)n * sizeof(float)) != 0)
        return pp_fail_prefix("replay buffer of %lld rows x (2x%d obs + %d act + 3) floats ",
                              (long long)capacity, obs_dim, act_dim);
    *total = n;
    return 0;
}

int pp_replay_create(pp_replay **out, int64_t capacity, int obs_dim, int act_dim)
{
    *out = NULL;
    if (capacity <= 0) capacity = PP_REPLAY_DEFAULT_CAPACITY;
    size_t total = 0;
    if (check_fits(capacity, obs_dim, act_dim, &total) != 0) return -1;
    pp_replay *r = pp_xcalloc(1, sizeof *r);
    r->obs_dim = obs_dim;
    r->act_dim = act_dim;
    r->capacity = capacity;
    size_t rows = (size_t)capacity;
    /* Anonymous pages: zero, and not resident until a row is written, so
     * a large capacity costs memory only as it fills, and a collector that
     * resumes (a fresh buffer, then the snapshot's) does not hold two. */
    r->block_bytes = total * sizeof(float);
    void *block = mmap(NULL, r->block_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED) {
        int err = errno;
        free(r);
        return pp_fail("replay buffer of %lld rows: %s", (long long)capacity, strerror(err));
    }
    float *p = block;
    r->data.obs = p, p += padded(rows * (size_t)obs_dim);
    r->data.next_obs = p, p += padded(rows * (size_t)obs_dim);
    r->data.act = p, p += padded(rows * (size_t)act_dim);
    r->data.rew = p, p += padded(rows);
    r->data.terminated = p, p += padded(rows);
    r->data.truncated = p;
    *out = r;
    return 0;
}

void pp_replay_free(pp_replay *r)
{
    if (!r) return;
    munmap(r->data.obs, r->block_bytes); /* the block */
    free(r->scratch);
    free(r);
}

void pp_replay_clear(pp_replay *r) { r->size = r->next = r->added = 0; }

/* Claim the row the next add writes, advancing the ring. */
static int64_t claim(pp_replay *r)
{
    int64_t i = r->next;
    r->next = (r->next + 1) % r->capacity;
    if (r->size < r->capacity) r->size++;
    r->added++;
    return i;
}

void pp_replay_add(pp_replay *r, const float *obs, const float *act, float rew,
                   const float *next_obs, int terminated, int truncated)
{
    int64_t i = claim(r);
    memcpy(r->data.obs + i * r->obs_dim, obs, (size_t)r->obs_dim * sizeof(float));
    memcpy(r->data.next_obs + i * r->obs_dim, next_obs, (size_t)r->obs_dim * sizeof(float));
    memcpy(r->data.act + i * r->act_dim, act, (size_t)r->act_dim * sizeof(float));
    r->data.rew[i] = rew;
    r->data.terminated[i] = terminated ? 1.0f : 0.0f;
    r->data.truncated[i] = truncated ? 1.0f : 0.0f;
}

void pp_replay_add_env(pp_replay *r, const double *obs, const float *act, double rew,
                       const double *next_obs, int terminated, int truncated)
{
    int64_t i = claim(r);
    float *o = r->data.obs + i * r->obs_dim, *no = r->data.next_obs + i * r->obs_dim;
    for (int k = 0; k < r->obs_dim; k++) {
        o[k] = (float)obs[k];
        no[k] = (float)next_obs[k];
    }
    memcpy(r->data.act + i * r->act_dim, act, (size_t)r->act_dim * sizeof(float));
    r->data.rew[i] = (float)rew;
    r->data.terminated[i] = terminated ? 1.0f : 0.0f;
    r->data.truncated[i] = truncated ? 1.0f : 0.0f;
}

int pp_replay_sample_indices(const pp_replay *r, pp_rng *rng, int64_t n, int64_t *idx)
{
    if (r->size == 0) return pp_fail("replay buffer is empty: nothing to sample");
    if (n < 0) return pp_fail("replay sample of %lld rows, expected >= 0", (long long)n);
    for (int64_t i = 0; i < n; i++) idx[i] = (int64_t)pp_rng_below(rng, (uint64_t)r->size);
    return 0;
}

static void copy_rows(float *dst, const float *src, const int64_t *idx, int64_t n, int width)
{
    if (!dst) return;
    for (int64_t i = 0; i < n; i++)
        memcpy(dst + i * width, src + idx[i] * width, (size_t)width * sizeof(float));
}

void pp_replay_gather(const pp_replay *r, const int64_t *idx, int64_t n,
                      const pp_transitions *out)
{
    copy_rows(out->obs, r->data.obs, idx, n, r->obs_dim);
    copy_rows(out->act, r->data.act, idx, n, r->act_dim);
    copy_rows(out->rew, r->data.rew, idx, n, 1);
    copy_rows(out->next_obs, r->data.next_obs, idx, n, r->obs_dim);
    copy_rows(out->terminated, r->data.terminated, idx, n, 1);
    copy_rows(out->truncated, r->data.truncated, idx, n, 1);
}

int pp_replay_sample(pp_replay *r, pp_rng *rng, int64_t n, const pp_transitions *out)
{
    if (n > r->scratch_cap) {
        free(r->scratch);
        r->scratch = pp_xmalloc((size_t)n * sizeof *r->scratch);
        r->scratch_cap = n;
    }
    if (pp_replay_sample_indices(r, rng, n, r->scratch) != 0) return -1;
    pp_replay_gather(r, r->scratch, n, out);
    return 0;
}
