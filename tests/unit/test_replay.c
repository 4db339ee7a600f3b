/* test_replay.c - the replay buffer in memory: ring overwrite, uniform
 * sampling (chi-square), gather, errors. Files: test_replay_file.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "data/replay.h"

/* Transition k: obs = (k, k+0.5, k+0.25), act = (-k, 2k), rew = 10k,
 * next_obs = obs + 1, terminated = k%7==0, truncated = k%5==0. */
static void add_k(pp_replay *r, int k)
{
    float obs[3] = {k, k + 0.5f, k + 0.25f}, nobs[3] = {k + 1, k + 1.5f, k + 1.25f};
    float act[2] = {-k, 2 * k};
    pp_replay_add(r, obs, act, 10.0f * k, nobs, k % 7 == 0, k % 5 == 0);
}

/* Row i of r holds transition k exactly? */
static int row_is(const float *obs, const float *act, float rew, const float *nobs, float term,
                  float trunc, int k)
{
    return obs[0] == k && obs[1] == k + 0.5f && obs[2] == k + 0.25f && act[0] == -k &&
           act[1] == 2 * k && rew == 10.0f * k && nobs[0] == k + 1 && nobs[2] == k + 1.25f &&
           term == (k % 7 == 0) && trunc == (k % 5 == 0);
}

static void test_create(void)
{
    pp_replay *r;
    CHECK(pp_replay_create(&r, 0, 3, 2) == 0 && r->capacity == PP_REPLAY_DEFAULT_CAPACITY,
          "capacity 0 means the default 1e6");
    CHECK(r->size == 0 && r->next == 0, "new buffer empty");
    CHECK(((uintptr_t)r->data.obs % 64) == 0 && ((uintptr_t)r->data.act % 64) == 0 &&
              ((uintptr_t)r->data.truncated % 64) == 0,
          "fields 64-byte aligned");
    pp_rng rng;
    pp_rng_seed(&rng, 1);
    int64_t idx[4];
    CHECK(pp_replay_sample_indices(r, &rng, 4, idx) == -1 && strstr(pp_error(), "empty"),
          "sampling an empty buffer fails: %s", pp_error());
    pp_replay_free(r);
    CHECK(pp_replay_create(&r, 10, 0, 2) == -1 && strstr(pp_error(), "obs_dim 0"),
          "obs_dim 0 refused: %s", pp_error());
    CHECK(pp_replay_create(&r, (int64_t)1 << 39, 376, 17) == -1 &&
              strstr(pp_error(), "GiB"),
          "a buffer larger than memory is refused: %s", pp_error());
}

static void test_ring(void)
{
    pp_replay *r;
    pp_replay_create(&r, 5, 3, 2);
    for (int k = 1; k <= 3; k++) add_k(r, k);
    CHECK(r->size == 3 && r->next == 3 && r->added == 3, "3 of 5 filled");
    int ok = 1;
    for (int i = 0; i < 3; i++)
        ok &= row_is(r->data.obs + 3 * i, r->data.act + 2 * i, r->data.rew[i],
                     r->data.next_obs + 3 * i, r->data.terminated[i], r->data.truncated[i], i + 1);
    CHECK(ok, "rows hold what was added, every field");
    for (int k = 4; k <= 12; k++) add_k(r, k);
    /* 12 added into 5 rows: rows hold 11, 12, 8, 9, 10 and row 2 (8) is the oldest */
    CHECK(r->size == 5 && r->next == 2 && r->added == 12, "wrapped: size 5, next 2, added 12");
    int want[5] = {11, 12, 8, 9, 10};
    ok = 1;
    for (int i = 0; i < 5; i++)
        ok &= row_is(r->data.obs + 3 * i, r->data.act + 2 * i, r->data.rew[i],
                     r->data.next_obs + 3 * i, r->data.terminated[i], r->data.truncated[i],
                     want[i]);
    CHECK(ok, "ring overwrote the oldest rows: 11 12 8 9 10");

    /* samples only ever return the 5 live transitions, intact */
    pp_rng rng;
    pp_rng_seed(&rng, 3);
    float obs[3 * 64], act[2 * 64], rew[64], nobs[3 * 64], term[64], trunc[64];
    pp_transitions out = {obs, act, rew, nobs, term, trunc};
    CHECK(pp_replay_sample(r, &rng, 64, &out) == 0, "sample 64");
    int seen[13] = {0};
    ok = 1;
    for (int i = 0; i < 64; i++) {
        int k = (int)obs[3 * i];
        ok &= k >= 8 && k <= 12 &&
              row_is(obs + 3 * i, act + 2 * i, rew[i], nobs + 3 * i, term[i], trunc[i], k);
        if (k >= 0 && k <= 12) seen[k] = 1;
    }
    CHECK(ok, "sampled rows are whole live transitions (8..12)");
    CHECK(seen[8] && seen[9] && seen[10] && seen[11] && seen[12], "every live row sampled");

    /* NULL outputs are skipped */
    pp_transitions only_rew = {NULL, NULL, rew, NULL, NULL, NULL};
    CHECK(pp_replay_sample(r, &rng, 8, &only_rew) == 0 && rew[0] >= 80 && rew[0] <= 120,
          "sample with only rew requested");
    pp_replay_clear(r);
    CHECK(r->size == 0 && r->next == 0, "clear empties");
    pp_replay_free(r);
}

static void test_add_env(void)
{
    pp_replay *r;
    pp_replay_create(&r, 4, 2, 1);
    double obs[2] = {0.1, -3.0}, nobs[2] = {1e-3, 7.25};
    float act[1] = {0.5f};
    pp_replay_add_env(r, obs, act, -1.5, nobs, 1, 0);
    CHECK(r->data.obs[0] == 0.1f && r->data.obs[1] == -3.0f && r->data.next_obs[0] == 1e-3f &&
              r->data.next_obs[1] == 7.25f && r->data.rew[0] == -1.5f &&
              r->data.act[0] == 0.5f && r->data.terminated[0] == 1 &&
              r->data.truncated[0] == 0,
          "add_env converts float64 obs/reward to float32");
    pp_replay_free(r);
}

/* Uniformity: 100 filled rows (of capacity 150) and a wrapped buffer, 200000
 * draws, Pearson chi-square with 99 degrees of freedom (mean 99, sd 14). */
static void chi_square_case(int64_t capacity, int adds, const char *what)
{
    pp_replay *r;
    pp_replay_create(&r, capacity, 1, 1);
    for (int k = 0; k < adds; k++) {
        float o = (float)k, a = 0;
        pp_replay_add(r, &o, &a, 0, &o, 0, 0);
    }
    int64_t rows = r->size;
    pp_rng rng;
    pp_rng_seed(&rng, 2024 + (uint64_t)capacity);
    const int64_t n = 200000, chunk = 1000;
    int64_t *counts = calloc((size_t)rows, sizeof *counts);
    int64_t idx[1000];
    int in_range = 1;
    for (int64_t done = 0; done < n; done += chunk) {
        pp_replay_sample_indices(r, &rng, chunk, idx);
        for (int64_t i = 0; i < chunk; i++) {
            in_range &= idx[i] >= 0 && idx[i] < rows;
            if (idx[i] >= 0 && idx[i] < rows) counts[idx[i]]++;
        }
    }
    double expect = (double)n / rows, chi2 = 0;
    for (int64_t i = 0; i < rows; i++) chi2 += (counts[i] - expect) * (counts[i] - expect) / expect;
    printf("# %s: %lld rows, chi-square %.1f with %lld df\n", what, (long long)rows, chi2,
           (long long)(rows - 1));
    CHECK(in_range, "%s: indices within the filled rows", what);
    /* df 99: P(chi2 > 170) ~ 3e-5, P(chi2 < 50) ~ 1e-5 */
    CHECK(chi2 > 50 && chi2 < 170, "%s: chi-square %.1f in (50, 170)", what, chi2);
    free(counts);
    pp_replay_free(r);
}

static void test_uniform(void)
{
    chi_square_case(150, 100, "partly filled");
    chi_square_case(100, 1234, "wrapped");
    /* a sampler that ignores the last row would be caught: */
    pp_replay *r;
    pp_replay_create(&r, 3, 1, 1);
    float z = 0;
    for (int k = 0; k < 3; k++) pp_replay_add(r, &z, &z, 0, &z, 0, 0);
    pp_rng rng;
    pp_rng_seed(&rng, 9);
    int64_t idx[3000];
    pp_replay_sample_indices(r, &rng, 3000, idx);
    int c[3] = {0, 0, 0};
    for (int i = 0; i < 3000; i++) c[idx[i]]++;
    CHECK(c[0] > 900 && c[1] > 900 && c[2] > 900, "3 rows drawn %d/%d/%d of 3000", c[0], c[1],
          c[2]);
    /* same seed, same indices */
    int64_t a[50], b[50];
    pp_rng r1, r2;
    pp_rng_seed(&r1, 77);
    pp_rng_seed(&r2, 77);
    pp_replay_sample_indices(r, &r1, 50, a);
    pp_replay_sample_indices(r, &r2, 50, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed, same samples");
    pp_replay_free(r);
}

int main(void)
{
    test_create();
    test_ring();
    test_add_env();
    test_uniform();
    return check_done();
}
