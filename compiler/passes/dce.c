/* dce.c — dead-code elimination: keeps the nodes that update state (optimizer steps, running
 * statistics) or define what the caller reads (output, loss, parameter gradients), and every node
 * they depend on; the rest is marked dead and the graph compacted (ids renumbered). */
#include <stdlib.h>

#include "pass_util.h"
#include "pipeline.h"
#include "util.h"

bool kn_pass_dce(kn_graph *g, kn_diag *d) {
  (void)d;
  char *live = kn_xcalloc((size_t)g->n_vals + 1, 1);
  for (int v = 0; v < g->n_vals; v++) live[v] = kn_value_pinned(g, v);
  int removed = 0;
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    bool keep = (kn_op_table[n->op].flags & KN_OPF_UPDATE) != 0;
    for (int j = 0; j < n->n_out && !keep; j++) keep = live[n->out[j]];
    if (!keep) {
      n->dead = true;
      removed++;
      continue;
    }
    for (int j = 0; j < n->n_in; j++) live[n->in[j]] = 1;
  }
  free(live);
  if (removed) kn_graph_compact(g);
  return true;
}
