/*
 * rng.c — xoshiro256** seeded through splitmix64, plus the few distributions moemap
 * needs. Results are identical on every platform for a given seed, which is what makes
 * the generator, the strategies and the simulator deterministic.
 */
#include "moemap/base.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void moemap_rng_seed(moemap_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

uint64_t moemap_rng_next(moemap_rng *rng)
{
    uint64_t *s = rng->s;
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

double moemap_rng_uniform(moemap_rng *rng)
{
    return (double)(moemap_rng_next(rng) >> 11) * 0x1.0p-53;
}

double moemap_rng_normal(moemap_rng *rng)
{
    /* Box-Muller; the second value is discarded to keep the state a single stream. */
    double u1 = moemap_rng_uniform(rng);
    double u2 = moemap_rng_uniform(rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t moemap_rng_below(moemap_rng *rng, uint64_t n)
{
    MOEMAP_ASSERT(n > 0);
    /* Lemire's method would be faster; rejection keeps it exactly uniform and simple. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = moemap_rng_next(rng);
    } while (x >= limit);
    return x % n;
}

double moemap_rng_exponential(moemap_rng *rng, double rate)
{
    double u = moemap_rng_uniform(rng);
    return -log1p(-u) / rate;
}

long moemap_rng_poisson(moemap_rng *rng, double mean)
{
    if (mean <= 0)
        return 0;
    if (mean > 60) {
        /* Normal approximation: exact enough for the load noise it is used for. */
        double x = mean + sqrt(mean) * moemap_rng_normal(rng) + 0.5;
        return x < 0 ? 0 : (long)x;
    }
    double l = exp(-mean), p = 1.0;
    long k = 0;
    do {
        k++;
        p *= moemap_rng_uniform(rng);
    } while (p > l);
    return k - 1;
}
