/* kn_rng.c — xoshiro256** with splitmix64 seeding (see kn_rng.h). */
#include "kn_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void kn_rng_init(kn_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

void kn_rng_init3(kn_rng *r, uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t x = seed;
  uint64_t h = splitmix64(&x);
  x = h ^ a;
  h = splitmix64(&x);
  x = h ^ b;
  kn_rng_init(r, splitmix64(&x));
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t kn_rng_next(kn_rng *r) {
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

double kn_rng_uniform(kn_rng *r) { return (double)(kn_rng_next(r) >> 11) * 0x1.0p-53; }

double kn_rng_uniform_range(kn_rng *r, double lo, double hi) {
  return lo + (hi - lo) * kn_rng_uniform(r);
}

int64_t kn_rng_int(kn_rng *r, int64_t n) {
  if (n <= 1) return 0;
  uint64_t un = (uint64_t)n;
  uint64_t limit = UINT64_MAX - UINT64_MAX % un; /* reject the biased tail */
  uint64_t x;
  do x = kn_rng_next(r);
  while (x >= limit);
  return (int64_t)(x % un);
}

double kn_rng_normal(kn_rng *r) {
  double u1 = kn_rng_uniform(r), u2 = kn_rng_uniform(r);
  return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

void kn_rng_shuffle(kn_rng *r, int32_t *perm, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = kn_rng_int(r, i + 1);
    int32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}
