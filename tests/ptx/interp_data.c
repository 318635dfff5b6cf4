/* interp_data.c — see interp_data.h. */
#include "interp_data.h"

void *kn_test_value_data(const kn_graph *g, kn_interp *it, int v) {
  return g->vals[v].dtype == KN_DT_I32 ? (void *)kn_interp_i32(it, v) : (void *)kn_interp_f32(it, v);
}

void kn_test_fill_inputs(const kn_graph *g, kn_interp *it, uint64_t seed) {
  kn_rng r;
  kn_rng_seed(&r, seed);
  for (int v = 0; v < g->n_vals; v++) {
    const kn_value *val = &g->vals[v];
    if (val->producer >= 0 || val->kind != KN_VAL_INPUT) continue;
    int64_t n = kn_shape_numel(val->shape);
    if (val->dtype == KN_DT_I32) {
      int32_t *p = kn_interp_i32(it, v);
      for (int64_t i = 0; i < n; i++) p[i] = (int32_t)kn_rng_uniform(&r, 0, 9.999);
    } else {
      float *p = kn_interp_f32(it, v);
      for (int64_t i = 0; i < n; i++) p[i] = (float)kn_rng_uniform(&r, -1, 1);
    }
  }
  if (g->lr >= 0) kn_interp_f32(it, g->lr)[0] = 0.05f;
  if (g->step >= 0) kn_interp_f32(it, g->step)[0] = 1.0f;
}
