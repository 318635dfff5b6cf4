/* interp.h — the reference interpreter: a naive, obviously-correct C implementation of every op
 * in ops.def, forward and backward, in float32 with float64 accumulation. It is the oracle that
 * both backends and every gradient are checked against; it is never optimised for speed.
 *
 *   kn_interp *it = kn_interp_create(g);     // storage for every value of g, zeroed
 *   kn_interp_init_params(it, 42);            // PyTorch-style init of params/state, consts filled
 *   memcpy(kn_interp_f32(it, g->input), images, ...);
 *   kn_interp_run(it);                        // every live node, in order
 *   float loss = kn_interp_f32(it, g->loss)[0];
 *   kn_interp_dispose(it);
 */
#ifndef KN_INTERP_H
#define KN_INTERP_H

#include <stdint.h>

#include "ir.h"

typedef struct kn_interp kn_interp;

/* g must outlive the interpreter and keep its values (no compaction while in use). */
kn_interp *kn_interp_create(const kn_graph *g);
void kn_interp_dispose(kn_interp *it);
float *kn_interp_f32(kn_interp *it, int value);   /* KN_DT_F32 values */
int32_t *kn_interp_i32(kn_interp *it, int value); /* KN_DT_I32 values */
/* Params: kn_init_kind with a deterministic generator seeded by `seed`; state per its init;
 * consts filled with their `fill`. */
void kn_interp_init_params(kn_interp *it, uint64_t seed);
void kn_interp_run(kn_interp *it);
void kn_interp_run_node(kn_interp *it, int node);

/* The reference kernel of one node on raw buffers (f32 or i32 per value dtype): in[i] is the data
 * of n->in[i], out[j] of n->out[j]; update ops write their MUTATES inputs. Usable by backend tests. */
void kn_interp_exec(const kn_graph *g, const kn_node *n, void *const *in, void *const *out);

/* Deterministic generator shared by tests: uniform in [lo, hi). */
typedef struct kn_rng { uint64_t s; } kn_rng;
void kn_rng_seed(kn_rng *r, uint64_t seed);
double kn_rng_uniform(kn_rng *r, double lo, double hi);

#endif
