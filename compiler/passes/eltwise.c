/* eltwise.c — elementwise and reduction chain fusion: an elementwise node (relu, sigmoid, add,
 * mul, relu_grad, sigmoid_grad) joins the kernel of the elementwise node whose value it reads when
 * it is that value's next reader (pass_util.h) and has the same output shape — a consumer that
 * broadcasts to a larger shape starts a new kernel. A reduction (global pools, channel mean/max,
 * bias_grad, sum_to) reading such a chain's value ends the chain: the loop reduces as it goes. A
 * chain may also extend a group an earlier pass formed (an epilogue, the CBAM gate). */
#include "kernel_groups.h"
#include "pass_util.h"
#include "pipeline.h"

static bool elementwise(const kn_node *n) { return kn_op_table[n->op].cls == KN_CLASS_ELEMENTWISE; }

static bool reduction(const kn_node *n) {
  return n->op == KN_OP_GLOBAL_AVGPOOL || n->op == KN_OP_GLOBAL_MAXPOOL || n->op == KN_OP_CHANNEL_MEAN ||
         n->op == KN_OP_CHANNEL_MAX || n->op == KN_OP_BIAS_GRAD || n->op == KN_OP_SUM_TO;
}

/* Whether the group of node p already ends in a reduction. */
static bool group_reduces(const kn_graph *g, int p) {
  if (reduction(&g->nodes[p])) return true;
  int k = g->nodes[p].kernel;
  if (k <= 0) return false;
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i].dead && g->nodes[i].kernel == k && reduction(&g->nodes[i])) return true;
  return false;
}

bool kn_pass_eltwise(kn_graph *g, kn_diag *d) {
  (void)d;
  kn_uses u;
  kn_uses_build(g, &u);
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *p = &g->nodes[i];
    if (p->dead || !elementwise(p) || p->n_out != 1) continue;
    int v = p->out[0];
    int c = kn_next_user(g, &u, v);
    if (c < 0) continue;
    const kn_node *cn = &g->nodes[c];
    if (cn->kernel != 0 || group_reduces(g, i)) continue;
    bool fits = (elementwise(cn) && kn_shape_eq(g->vals[cn->out[0]].shape, g->vals[v].shape)) ||
                (reduction(cn) && cn->in[0] == v);
    if (!fits || !kn_kernels_can_join(g, i, c)) continue;
    kn_kernels_join(g, i, c);
    kn_uses_free(&u);
    kn_uses_build(g, &u);
    i--; /* nodes before i did not move; look at position i again */
  }
  kn_uses_free(&u);
  return true;
}
