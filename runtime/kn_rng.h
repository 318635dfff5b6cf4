/* kn_rng.h — the runtime's random numbers: a small, fast, splittable generator (xoshiro256**
 * seeded through splitmix64). Every random decision of the data pipeline derives from
 * (seed, stream, index) so results never depend on thread scheduling:
 *
 *   kn_rng r;
 *   kn_rng_init3(&r, seed, epoch, image_index);   // the stream of one image in one epoch
 *   double u = kn_rng_uniform(&r);                 // [0, 1)
 *   int k = kn_rng_int(&r, 10);                    // [0, 10)
 *
 * The state is four uint64 words so a checkpoint can store it (kn_rng_state / kn_rng_set_state).
 */
#ifndef KN_RNG_H
#define KN_RNG_H

#include <stdint.h>

typedef struct kn_rng {
  uint64_t s[4];
} kn_rng;

/* Seeds from one 64-bit value. */
void kn_rng_init(kn_rng *r, uint64_t seed);
/* Seeds from a (seed, a, b) triple, e.g. (seed, epoch, image index); distinct triples give
 * independent-looking streams. */
void kn_rng_init3(kn_rng *r, uint64_t seed, uint64_t a, uint64_t b);
/* Next raw 64 random bits. */
uint64_t kn_rng_next(kn_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double kn_rng_uniform(kn_rng *r);
/* Uniform double in [lo, hi). */
double kn_rng_uniform_range(kn_rng *r, double lo, double hi);
/* Uniform integer in [0, n) without modulo bias; n >= 1. */
int64_t kn_rng_int(kn_rng *r, int64_t n);
/* Standard normal (Box-Muller, one draw per call: always consumes two uniforms). */
double kn_rng_normal(kn_rng *r);
/* Fisher-Yates shuffle of perm[0..n). */
void kn_rng_shuffle(kn_rng *r, int32_t *perm, int64_t n);

#endif
