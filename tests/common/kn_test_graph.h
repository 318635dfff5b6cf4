/* kn_test_graph.h — graph-building helper shared by the test harnesses (interp, autodiff).
 *
 *   int y = kn_test_infer(g, kn_graph_add_node(g, KN_OP_RELU, "relu", &x, 1, (kn_loc){0}));
 *
 * Tests build only valid graphs, so a failed shape inference prints its diagnostic and aborts. */
#ifndef KN_TEST_GRAPH_H
#define KN_TEST_GRAPH_H

#include <stdio.h>

#include "diag.h"
#include "ir.h"

/* Infers node n (kn_node_infer); returns its output 0, -1 when it has none. */
static inline int kn_test_infer(kn_graph *g, kn_node *n) {
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_node_infer(g, n, &d);
  if (!ok) kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  KN_ASSERT(ok);
  return n->n_out ? n->out[0] : -1;
}

#endif
