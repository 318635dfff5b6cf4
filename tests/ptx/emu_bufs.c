/* emu_bufs.c — see emu_bufs.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_bufs.h"
#include "interp_data.h"
#include "util.h"

void **kn_test_emu_bufs(const kn_graph *g, kn_interp *it) {
  void **b = kn_xcalloc((size_t)g->n_vals, sizeof *b);
  for (int v = 0; v < g->n_vals; v++) {
    size_t n = (size_t)kn_shape_numel(g->vals[v].shape);
    b[v] = kn_xmalloc(n * 4 + 4);
    if (g->vals[v].producer < 0) memcpy(b[v], kn_test_value_data(g, it, v), n * 4);
    else
      for (size_t i = 0; i < n; i++) ((float *)b[v])[i] = NAN;
  }
  return b;
}

void kn_test_emu_bufs_free(const kn_graph *g, void **b) {
  for (int v = 0; v < g->n_vals; v++) free(b[v]);
  free(b);
}

bool kn_test_emu_same(const kn_graph *g, kn_interp *it, void **b, int v, double tol, const char *what) {
  size_t n = (size_t)kn_shape_numel(g->vals[v].shape);
  const float *got = b[v], *want = kn_interp_f32(it, v);
  for (size_t i = 0; i < n; i++) {
    double err = fabs((double)got[i] - want[i]) / (1.0 + fabs((double)want[i]));
    if (!(err <= tol)) {
      printf("  %s: %s[%zu] = %g, want %g\n", what, g->vals[v].name, i, got[i], want[i]);
      return false;
    }
  }
  return true;
}
