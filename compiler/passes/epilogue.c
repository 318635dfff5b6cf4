/* epilogue.c — forward epilogue fusion: a conv2d or linear (its bias is part of the node) absorbs
 * the chain that follows it,
 *     conv/linear -> [batchnorm2d] -> [relu] -> [add residual] -> [relu]
 * each step optional but in this order, each link the single forward reader of the previous value
 * (a forward branch point stays a kernel boundary; backward readers read the copy the kernel writes
 * through) and of the same shape (an add that broadcasts is not a residual add). A training-mode
 * BN in the group means: the conv's epilogue gathers the per-channel sums, then one sweep applies
 * normalisation and the rest of the chain. A BN already given to the conv by bnfold is extended. */
#include "kernel_groups.h"
#include "pass_util.h"
#include "pipeline.h"

enum { ST_HEAD, ST_BN, ST_RELU, ST_ADD, ST_RELU2 };

/* The chain stage of node c continuing from value cur at stage st, or -1 if it does not fit. */
static int stage_of(const kn_graph *g, const kn_node *head, const kn_node *c, int cur, int st) {
  if (c->n_out < 1 || !kn_shape_eq(g->vals[c->out[0]].shape, g->vals[cur].shape)) return -1;
  /* Only these three ops extend a chain; every other op ends it. */
  if (c->op == KN_OP_BATCHNORM2D)
    return st == ST_HEAD && head->op == KN_OP_CONV2D && c->in[0] == cur && !kn_node_int(c, KN_ATTR_SYNC) ? ST_BN : -1;
  if (c->op == KN_OP_RELU) return st < ST_RELU ? ST_RELU : st == ST_ADD ? ST_RELU2 : -1;
  if (c->op == KN_OP_ADD)
    return st < ST_ADD && kn_shape_eq(g->vals[c->in[0]].shape, g->vals[c->in[1]].shape) ? ST_ADD : -1;
  return -1;
}

/* Grows the chain of head node h; returns true when it joined anything. */
static bool grow(kn_graph *g, int h) {
  bool joined = false;
  int cur = g->nodes[h].out[0], st = ST_HEAD;
  for (;;) {
    kn_uses u;
    kn_uses_build(g, &u);
    int c = kn_next_user(g, &u, cur);
    kn_uses_free(&u);
    if (c < 0) break;
    const kn_node *head = &g->nodes[h], *cn = &g->nodes[c];
    int ns = stage_of(g, head, cn, cur, st);
    if (ns < 0) break;
    int next = cn->out[0];
    if (cn->kernel == 0 || cn->kernel != head->kernel) {
      if (cn->kernel != 0 || !kn_kernels_can_join(g, h, c)) break;
      h = kn_kernels_join(g, h, c);
      joined = true;
    }
    cur = next;
    st = ns;
  }
  return joined;
}

bool kn_pass_epilogue(kn_graph *g, kn_diag *d) {
  (void)d;
  for (int i = 0; i < g->n_nodes;) {
    const kn_node *n = &g->nodes[i];
    bool head = !n->dead && (n->op == KN_OP_CONV2D || n->op == KN_OP_LINEAR) && !kn_node_is_backward(n);
    /* A head may already hold its BN (bnfold) but nothing else of another kind. */
    if (head && grow(g, i)) continue; /* nodes moved: look at position i again */
    i++;
  }
  return true;
}
