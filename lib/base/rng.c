#include "base/rng.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void pp_rng_seed(pp_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

pp_rng pp_rng_split(const pp_rng *parent, uint64_t stream_id)
{
    uint64_t x = stream_id * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL;
    uint64_t h = splitmix64(&x);
    for (int i = 0; i < 4; i++) {
        uint64_t y = parent->s[i] ^ h;
        h = splitmix64(&y) ^ rotl(h, 17);
    }
    pp_rng child;
    pp_rng_seed(&child, h);
    return child;
}

uint64_t pp_rng_u64(pp_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double pp_rng_uniform(pp_rng *r) { return (double)(pp_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t pp_rng_below(pp_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = pp_rng_u64(r); while (x >= limit);
    return x % n;
}

double pp_rng_normal(pp_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = 1.0 - pp_rng_uniform(r); /* (0, 1] */
    double u2 = pp_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    double th = 2.0 * M_PI * u2;
    r->spare = rad * sin(th);
    r->has_spare = 1;
    return rad * cos(th);
}

void pp_rng_fill_normal_f32(pp_rng *r, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (float)pp_rng_normal(r);
}

void pp_rng_fill_uniform_f32(pp_rng *r, float *dst, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) dst[i] = lo + (hi - lo) * (float)pp_rng_uniform(r);
}

void pp_rng_to_u64(const pp_rng *r, uint64_t out[PP_RNG_STATE_WORDS])
{
    for (int i = 0; i < 4; i++) out[i] = r->s[i];
    out[4] = r->has_spare;
    memcpy(&out[5], &r->spare, sizeof(double));
}

void pp_rng_from_u64(pp_rng *r, const uint64_t in[PP_RNG_STATE_WORDS])
{
    for (int i = 0; i < 4; i++) r->s[i] = in[i];
    r->has_spare = in[4] ? 1 : 0;
    memcpy(&r->spare, &in[5], sizeof(double));
}

pp_rng pp_rng_stream(uint64_t seed, uint64_t stream_id)
{
    pp_rng root;
    pp_rng_seed(&root, seed);
    return pp_rng_split(&root, stream_id);
}
