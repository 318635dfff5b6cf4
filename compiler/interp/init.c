/* init.c — the deterministic generator (kn_rng) and PyTorch-default initialisation of parameters,
 * state and constants (kn_interp_init_params).
 *
 * Each parameter/state value draws from its own stream, seeded with splitmix64(seed ^ hash(name)),
 * so a parameter's initial values depend only on the seed and its name, not on what else is in
 * the graph (a training graph and its forward graph start from the same weights).
 */
#include <math.h>
#include <string.h>

#include "interp.h"
#include "kernels.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void kn_rng_seed(kn_rng *r, uint64_t seed) {
  uint64_t x = seed;
  r->s = splitmix64(&x);
  if (r->s == 0) r->s = 0x2545f4914f6cdd1dull; /* xorshift must not start at 0 */
}

/* xorshift64*: 53 high bits give a double in [0, 1). */
double kn_rng_uniform(kn_rng *r, double lo, double hi) {
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  uint64_t v = x * 0x2545f4914f6cdd1dull;
  double u = (double)(v >> 11) * (1.0 / 9007199254740992.0);
  return lo + (hi - lo) * u;
}

static uint64_t hash_name(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

/* fan_in of a weight: product of every dimension but the first. */
static int64_t fan_in(kn_shape s) {
  int64_t f = 1;
  for (int i = 1; i < s.rank; i++) f *= s.d[i];
  return f;
}

/* The fan_in a bias is initialised with: that of the weight of the conv/linear node that takes
 * it (its input 1). A bias used by no such node falls back to its own size. */
static int64_t bias_fan_in(const kn_graph *g, int v) {
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead || (n->op != KN_OP_CONV2D && n->op != KN_OP_LINEAR)) continue;
    if (n->n_in == 3 && n->in[2] == v) return fan_in(g->vals[n->in[1]].shape);
  }
  return kn_shape_numel(g->vals[v].shape);
}

void kn_interp_init_params(kn_interp *it, uint64_t seed) {
  const kn_graph *g = kn_interp_graph(it);
  for (int v = 0; v < g->n_vals; v++) {
    const kn_value *val = &g->vals[v];
    int64_t n = kn_shape_numel(val->shape);
    if (val->kind == KN_VAL_CONST) {
      if (val->dtype == KN_DT_I32) {
        int32_t *p = kn_interp_data(it, v);
        for (int64_t i = 0; i < n; i++) p[i] = (int32_t)val->fill;
      } else {
        float *p = kn_interp_data(it, v);
        for (int64_t i = 0; i < n; i++) p[i] = val->fill;
      }
      continue;
    }
    if (val->kind != KN_VAL_PARAM && val->kind != KN_VAL_STATE) continue;
    KN_ASSERT(val->dtype == KN_DT_F32);
    float *p = kn_interp_data(it, v);
    kn_rng r;
    kn_rng_seed(&r, seed ^ hash_name(val->name));
    double bound = 0;
    switch ((kn_init_kind)val->init) {
    case KN_INIT_ZERO:
      memset(p, 0, (size_t)n * sizeof *p);
      continue;
    case KN_INIT_ONE:
      for (int64_t i = 0; i < n; i++) p[i] = 1.0f;
      continue;
    case KN_INIT_KAIMING_UNIFORM:
      bound = 1.0 / sqrt((double)fan_in(val->shape));
      break;
    case KN_INIT_FAN_IN_UNIFORM:
      bound = 1.0 / sqrt((double)bias_fan_in(g, v));
      break;
    }
    for (int64_t i = 0; i < n; i++) p[i] = (float)kn_rng_uniform(&r, -bound, bound);
  }
}
