/* epilogue_bwd.c — backward epilogue fusion, the mirror of epilogue.c in a training graph:
 *     conv2d_grad_input / linear_grad_input -> [add (gradient accumulation)]* -> [relu_grad]
 *         -> [batchnorm2d_grad]
 * and, where no heavy gradient heads the chain, relu_grad -> batchnorm2d_grad alone. The heavy
 * gradient's epilogue accumulates, masks with ReLU's saved output and gathers the two per-channel
 * sums batchnorm2d_grad needs (sum dy, sum dy * x_hat); one more sweep then writes dx. Each link is
 * the first reader of the previous value; later readers read the written-through copy (the join
 * is refused when one of them runs inside the group's span). */
#include "kernel_groups.h"
#include "pass_util.h"
#include "pipeline.h"

enum { ST_HEAD, ST_ACC, ST_RELU, ST_BN };

static int stage_of(const kn_graph *g, const kn_node *c, int cur, int st) {
  if (c->n_out < 1 || !kn_shape_eq(g->vals[c->out[0]].shape, g->vals[cur].shape)) return -1;
  if (c->op == KN_OP_ADD && st <= ST_ACC && kn_node_is_backward(c) &&
      kn_shape_eq(g->vals[c->in[0]].shape, g->vals[c->in[1]].shape))
    return ST_ACC;
  if (c->op == KN_OP_RELU_GRAD && st < ST_RELU && c->in[0] == cur) return ST_RELU;
  if (c->op == KN_OP_BATCHNORM2D_GRAD && st < ST_BN && c->in[0] == cur && !kn_node_int(c, KN_ATTR_SYNC)) return ST_BN;
  return -1;
}

static bool grow(kn_graph *g, int h, int st) {
  bool joined = false;
  int cur = g->nodes[h].out[0];
  while (st < ST_BN) {
    kn_uses u;
    kn_uses_build(g, &u);
    int c = kn_next_user(g, &u, cur);
    kn_uses_free(&u);
    if (c < 0) break;
    const kn_node *cn = &g->nodes[c];
    int ns = stage_of(g, cn, cur, st);
    if (ns < 0 || cn->kernel != 0 || !kn_kernels_can_join(g, h, c)) break;
    int next = cn->out[0];
    h = kn_kernels_join(g, h, c);
    joined = true;
    cur = next;
    st = ns;
  }
  return joined;
}

bool kn_pass_epilogue_bwd(kn_graph *g, kn_diag *d) {
  (void)d;
  for (int i = 0; i < g->n_nodes;) {
    const kn_node *n = &g->nodes[i];
    bool heavy = n->op == KN_OP_CONV2D_GRAD_INPUT || n->op == KN_OP_LINEAR_GRAD_INPUT;
    if (!n->dead && n->kernel == 0 && heavy && grow(g, i, ST_HEAD)) continue;
    i++;
  }
  for (int i = 0; i < g->n_nodes;) {
    const kn_node *n = &g->nodes[i];
    if (!n->dead && n->kernel == 0 && n->op == KN_OP_RELU_GRAD && grow(g, i, ST_RELU)) continue;
    i++;
  }
  return true;
}
