/* lsm_nll.c — the fused loss: log_softmax and nll_loss in one kernel (one pass over each row of
 * class scores: max, log-sum-exp, the label's term), and in a training graph their gradients too:
 * nll_loss_grad and log_softmax_grad read only the loss seed, the labels and the log-probabilities,
 * so the same kernel writes d(scores) = softmax - onehot(label) / N without storing anything in
 * between. The log-probabilities stay materialised (g->output). */
#include "kernel_groups.h"
#include "pass_util.h"
#include "pipeline.h"

static int find_grad(const kn_graph *g, kn_op op, int fwd) {
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i].dead && g->nodes[i].op == op && g->nodes[i].fwd == fwd) return i;
  return -1;
}

bool kn_pass_lsm_nll(kn_graph *g, kn_diag *d) {
  (void)d;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *nll = &g->nodes[i];
    if (nll->dead || nll->op != KN_OP_NLL_LOSS || nll->kernel) continue;
    int l = g->vals[nll->in[0]].producer;
    if (l < 0 || g->nodes[l].op != KN_OP_LOG_SOFTMAX || g->nodes[l].kernel) continue;
    if (!kn_kernels_can_join(g, l, i)) continue;
    kn_kernels_join(g, l, i);
    /* Backward: nll_loss_grad -> log_softmax_grad, the latter reading the former's output. */
    int ng = find_grad(g, KN_OP_NLL_LOSS_GRAD, i), lg = find_grad(g, KN_OP_LOG_SOFTMAX_GRAD, l);
    if (ng < 0 || lg < 0 || g->nodes[lg].in[0] != g->nodes[ng].out[0]) continue;
    if (g->nodes[ng].kernel || g->nodes[lg].kernel) continue;
    if (kn_kernels_can_join(g, i, ng)) {
      kn_kernels_join(g, i, ng);
      if (kn_kernels_can_join(g, i, lg)) kn_kernels_join(g, i, lg);
    }
  }
  return true;
}
