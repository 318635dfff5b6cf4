/* bnfold.c — BatchNorm folding: an eval-mode batchnorm2d (running statistics: every BN of an
 * inference graph, and frozen BN in eval mode in a training graph) whose input is a conv2d read by
 * nothing else in the forward pass joins that convolution's kernel. The backend applies it as a
 * per-channel scale and shift, s = gamma / sqrt(var + eps), t = beta - mean * s, in the conv's
 * epilogue (equivalently: w' = w * s, b' = b * s + t, computed once per weight change), so the BN
 * costs no pass over the activation. Weights are run-time data in kiln (loaded or trained), so the
 * fold is a kernel group, not a rewrite of the parameter values; the interpreter is unaffected. */
#include "kernel_groups.h"
#include "pass_util.h"
#include "pipeline.h"

bool kn_pass_bnfold(kn_graph *g, kn_diag *d) {
  (void)d;
  kn_uses u;
  kn_uses_build(g, &u);
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *bn = &g->nodes[i];
    if (bn->dead || bn->op != KN_OP_BATCHNORM2D || kn_node_int(bn, KN_ATTR_TRAINING) || bn->kernel) continue;
    int p = g->vals[bn->in[0]].producer;
    if (p < 0 || g->nodes[p].op != KN_OP_CONV2D || g->nodes[p].kernel) continue;
    if (kn_next_user(g, &u, bn->in[0]) != i) continue; /* the conv output feeds something else too */
    if (kn_kernels_can_join(g, p, i)) kn_kernels_join(g, p, i);
  }
  kn_uses_free(&u);
  return true;
}
