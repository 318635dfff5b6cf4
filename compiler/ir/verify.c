/* verify.c — structural invariants of a graph, checked after every pass with --verify-each. */
#include <stdlib.h>

#include "../support/util.h"
#include "ir.h"

static bool bad(kn_diag *d, const kn_graph *g, const kn_node *n, const char *what) {
  kn_diag_error(d, (kn_loc){0}, NULL, "internal: graph '%s' node %d (%s '%s'): %s", g->name, n ? n->id : -1,
                n ? kn_op_table[n->op].name : "-", n ? n->name : "-", what);
  return false;
}

bool kn_graph_verify(kn_graph *g, kn_diag *d) {
  /* defined[v] = the value is available before the current node. */
  char *defined = kn_xcalloc((size_t)g->n_vals + 1, 1);
  bool ok = true;
  for (int v = 0; v < g->n_vals; v++) {
    if (g->vals[v].id != v) ok = bad(d, g, NULL, "value id out of place");
    if (g->vals[v].producer < 0) defined[v] = 1;
  }
  for (int i = 0; ok && i < g->n_nodes; i++) {
    kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    const kn_op_info *oi = &kn_op_table[n->op];
    if (n->id != i) ok = bad(d, g, n, "node id out of place");
    if (n->n_in < oi->in_min || n->n_in > oi->in_max) ok = bad(d, g, n, "wrong number of inputs");
    if (n->n_out > oi->out_max) ok = bad(d, g, n, "too many outputs");
    if (n->attr_set & ~oi->attrs) ok = bad(d, g, n, "attribute not accepted by this op");
    for (int j = 0; ok && j < n->n_in; j++) {
      if (n->in[j] < 0 || n->in[j] >= g->n_vals) ok = bad(d, g, n, "input id out of range");
      else if (!defined[n->in[j]]) ok = bad(d, g, n, "input used before it is defined (not topological)");
    }
    for (int j = 0; ok && j < n->n_out; j++) {
      int v = n->out[j];
      if (v < 0 || v >= g->n_vals) ok = bad(d, g, n, "output id out of range");
      else if (g->vals[v].producer != i || g->vals[v].out_index != j) ok = bad(d, g, n, "output's producer link broken");
      else if (defined[v]) ok = bad(d, g, n, "value defined twice");
      else defined[v] = 1;
    }
    if (ok) {
      /* Re-inferring must reproduce the recorded shapes. */
      kn_shape before[KN_MAX_OUT];
      int nb = n->n_out;
      for (int j = 0; j < nb; j++) before[j] = g->vals[n->out[j]].shape;
      kn_diag tmp;
      kn_diag_init(&tmp);
      if (!kn_node_infer(g, n, &tmp)) ok = bad(d, g, n, "shape inference fails");
      else if (n->n_out != nb) ok = bad(d, g, n, "output count changed on re-inference");
      else
        for (int j = 0; j < nb; j++)
          if (!kn_shape_eq(before[j], g->vals[n->out[j]].shape)) ok = bad(d, g, n, "recorded shape is stale");
      kn_diag_free(&tmp);
    }
  }
  free(defined);
  return ok;
}
