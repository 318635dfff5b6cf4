/* vt.c — value-test helpers of vt.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kn_test_graph.h"
#include "vt.h"

void vt_begin(vt *t) {
  memset(t, 0, sizeof *t);
  t->g = kn_graph_create("vt");
}

static int add_input(vt *t, kn_shape s, kn_dtype dt, const void *data) {
  KN_ASSERT(t->n_inputs < VT_MAX_INPUTS);
  int v = kn_graph_add_input(t->g, "in", dt, s);
  t->input[t->n_inputs] = v;
  t->data[t->n_inputs++] = data;
  return v;
}

int vt_input(vt *t, kn_shape s, const float *data) { return add_input(t, s, KN_DT_F32, data); }
int vt_input_i32(vt *t, kn_shape s, const int32_t *data) { return add_input(t, s, KN_DT_I32, data); }

kn_node *vt_node(vt *t, kn_op op, const int *in, int n_in) {
  return kn_graph_add_node(t->g, op, kn_op_table[op].name, in, n_in, (kn_loc){0});
}

int vt_infer(vt *t, kn_node *n) { return kn_test_infer(t->g, n); }

void vt_run(vt *t) {
  t->it = kn_interp_create(t->g);
  /* Node outputs start as NaN, so an element a kernel fails to write shows up as a mismatch. */
  for (int v = 0; v < t->g->n_vals; v++)
    if (t->g->vals[v].kind == KN_VAL_ACT && t->g->vals[v].dtype == KN_DT_F32) {
      float *p = kn_interp_f32(t->it, v);
      for (int64_t i = 0; i < kn_shape_numel(t->g->vals[v].shape); i++) p[i] = NAN;
    }
  for (int i = 0; i < t->n_inputs; i++) {
    int v = t->input[i];
    size_t bytes = (size_t)kn_shape_numel(t->g->vals[v].shape) * 4;
    void *dst = t->g->vals[v].dtype == KN_DT_I32 ? (void *)kn_interp_i32(t->it, v) : (void *)kn_interp_f32(t->it, v);
    memcpy(dst, t->data[i], bytes);
  }
  kn_interp_run(t->it);
}

bool vt_check(vt *t, int v, const float *want, const char *what) {
  const float *got = kn_interp_f32(t->it, v);
  int64_t n = kn_shape_numel(t->g->vals[v].shape);
  bool ok = true;
  for (int64_t i = 0; i < n; i++) {
    if (fabs((double)got[i] - want[i]) <= 1e-5 * fmax(1.0, fabs(want[i]))) continue; /* false for NaN */
    printf("  FAIL %s: element %lld is %.8g, want %.8g\n", what, (long long)i, got[i], want[i]);
    ok = false;
  }
  return ok;
}

void vt_end(vt *t) {
  kn_interp_dispose(t->it);
  kn_graph_dispose(t->g);
}
