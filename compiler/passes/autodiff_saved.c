/* autodiff_saved.c — which forward values a training graph keeps alive for its backward pass.
 *
 * A value is "saved" when a forward node produced it (an activation, or BatchNorm's batch
 * statistics) and a backward node (n->fwd >= 0, not an in-place update) reads it. Parameters,
 * data inputs and constants are not counted: they live for the whole run anyway. Frozen parts of
 * a network save nothing, since autodiff builds no backward nodes there.
 */
#include <stdlib.h>

#include "autodiff_internal.h"
#include "util.h"

static bool is_backward(const kn_node *n) {
  return !n->dead && n->fwd >= 0 && !(kn_op_table[n->op].flags & KN_OPF_UPDATE);
}

static bool is_forward_act(const kn_graph *g, int v) {
  const kn_value *val = &g->vals[v];
  if (val->kind != KN_VAL_ACT || val->producer < 0) return false;
  const kn_node *p = &g->nodes[val->producer];
  return p->fwd < 0 && (kn_op_table[p->op].flags & KN_OPF_USER);
}

bool kn_autodiff_is_saved(const kn_graph *g, int v) {
  if (!is_forward_act(g, v)) return false;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (!is_backward(n)) continue;
    for (int j = 0; j < n->n_in; j++)
      if (n->in[j] == v) return true;
  }
  return false;
}

int64_t kn_autodiff_saved_bytes(const kn_graph *g) {
  char *seen = kn_xcalloc((size_t)g->n_vals + 1, 1);
  int64_t bytes = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (!is_backward(n)) continue;
    for (int j = 0; j < n->n_in; j++) {
      int v = n->in[j];
      if (seen[v] || !is_forward_act(g, v)) continue;
      seen[v] = 1;
      bytes += kn_shape_numel(g->vals[v].shape) * 4; /* f32 and i32 are both 4 bytes */
    }
  }
  free(seen);
  return bytes;
}
