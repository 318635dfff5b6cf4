/* cse.c — common-subexpression elimination: a node with the same op, inputs and attributes as an
 * earlier live node is dropped and its readers read the earlier node's outputs. Update ops are
 * never merged (they write state), nor nodes defining values the caller reads by name (output,
 * loss, parameter gradients). */
#include <string.h>

#include "pass_util.h"
#include "pipeline.h"

static bool same_node(const kn_node *a, const kn_node *b) {
  if (a->op != b->op || a->n_in != b->n_in || a->n_out != b->n_out || a->attr_set != b->attr_set) return false;
  if (memcmp(a->in, b->in, (size_t)a->n_in * sizeof a->in[0])) return false;
  for (int k = 0; k < KN_NUM_ATTRS; k++) {
    if (!(a->attr_set & (1u << k))) continue;
    const kn_attr_val *x = &a->attr[k], *y = &b->attr[k];
    if (x->n != y->n || x->f != y->f || memcmp(x->i, y->i, sizeof x->i)) return false;
  }
  return true;
}

bool kn_pass_cse(kn_graph *g, kn_diag *d) {
  (void)d;
  for (int i = 0; i < g->n_nodes; i++) {
    kn_node *n = &g->nodes[i];
    if (n->dead || (kn_op_table[n->op].flags & KN_OPF_UPDATE)) continue;
    bool pinned = false;
    for (int j = 0; j < n->n_out; j++) pinned |= kn_value_pinned(g, n->out[j]);
    if (pinned) continue;
    for (int e = 0; e < i; e++) {
      const kn_node *m = &g->nodes[e];
      if (m->dead || !same_node(m, n)) continue;
      for (int j = 0; j < n->n_out; j++) kn_replace_uses(g, n->out[j], m->out[j], i);
      n->dead = true;
      break;
    }
  }
  return true;
}
