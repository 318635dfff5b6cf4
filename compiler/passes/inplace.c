/* inplace.c — in-place reuse hints for the memory planner: an elementwise node whose output has
 * the shape of input k (or a gradient all-reduce), where input k is an activation (not a data input, not a value the caller
 * reads) that this node reads for the last time, gets n->inplace = k + 1: the planner may give the
 * output the input's buffer instead of a new slot. Runs last, on the final node order. */
#include <stdlib.h>

#include "pass_util.h"
#include "pipeline.h"
#include "util.h"

bool kn_pass_inplace(kn_graph *g, kn_diag *d) {
  (void)d;
  int *last = kn_xmalloc((size_t)(g->n_vals ? g->n_vals : 1) * sizeof *last);
  for (int v = 0; v < g->n_vals; v++) last[v] = -1;
  for (int i = 0; i < g->n_nodes; i++) {
    kn_node *n = &g->nodes[i];
    n->inplace = 0;
    if (n->dead) continue;
    for (int j = 0; j < n->n_in; j++) last[n->in[j]] = i;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    kn_node *n = &g->nodes[i];
    bool copy = n->op == KN_OP_ALLREDUCE_MEAN; /* identity with one process (allreduce.c) */
    if (n->dead || (kn_op_table[n->op].cls != KN_CLASS_ELEMENTWISE && !copy) || n->n_out != 1) continue;
    const kn_value *o = &g->vals[n->out[0]];
    for (int j = 0; j < n->n_in; j++) {
      int v = n->in[j];
      const kn_value *x = &g->vals[v];
      if (x->kind != KN_VAL_ACT || kn_value_pinned(g, v) || last[v] != i) continue;
      if (!kn_shape_eq(x->shape, o->shape) || x->dtype != o->dtype) continue;
      n->inplace = j + 1;
      break;
    }
  }
  free(last);
  return true;
}
