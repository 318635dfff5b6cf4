/* kernel_cost.c — the work a kernel does, from the IR alone: FLOPs and bytes moved per kernel
 * (kernel_groups.h order). Used by `kiln compile --profile` to put GFLOP/s and GB/s next to each
 * kernel's measured time (docs/fusion.md, "Profiling a compiled step").
 *
 * FLOPs: the HEAVY class (conv2d, linear and their input/weight gradients) counts 2 per
 * multiply-add: numel(Y) * numel(W) / W.dims[0], Y being the op's output side (its output for a
 * forward op, dy for a gradient) and W the weight (input 1, or output 0 for a weight gradient);
 * bias terms are not counted. Every other op counts one FLOP per element of its largest operand
 * (a nominal figure: those ops are memory-bound, read their GB/s).
 * Bytes: each distinct value the kernel reads from outside (parameters included), each value it
 * defines that is materialised (kn_kernels_materialised), and the inputs an update op writes. */
#include <stdlib.h>

#include "kernel_groups.h"
#include "pass_util.h"
#include "util.h"

int64_t kn_node_flops(const kn_graph *g, const kn_node *n) {
  const kn_op_info *op = &kn_op_table[n->op];
  if (op->cls == KN_CLASS_HEAVY) {
    bool wgrad = n->op == KN_OP_CONV2D_GRAD_WEIGHT || n->op == KN_OP_LINEAR_GRAD_WEIGHT;
    bool fwd = n->op == KN_OP_CONV2D || n->op == KN_OP_LINEAR;
    kn_shape y = g->vals[fwd ? n->out[0] : n->in[0]].shape;
    kn_shape w = g->vals[wgrad ? n->out[0] : n->in[1]].shape;
    int64_t k = w.d[0] > 0 ? kn_shape_numel(w) / w.d[0] : 0;
    return 2 * kn_shape_numel(y) * k;
  }
  int64_t most = 0;
  for (int i = 0; i < n->n_in; i++) {
    int64_t e = kn_shape_numel(g->vals[n->in[i]].shape);
    most = e > most ? e : most;
  }
  for (int o = 0; o < n->n_out; o++) {
    int64_t e = kn_shape_numel(g->vals[n->out[o]].shape);
    most = e > most ? e : most;
  }
  return most;
}

static bool in_kernel(const kn_graph *g, const kn_kernel *K, int node) {
  if (node < 0) return false;
  if (K->group > 0) return g->nodes[node].kernel == K->group && !g->nodes[node].dead;
  return node == K->nodes[0];
}

void kn_kernels_cost(const kn_graph *g, const kn_kernel_list *kl, int64_t *flops, int64_t *bytes) {
  kn_uses u;
  kn_uses_build(g, &u);
  int *stamp = kn_xmalloc((size_t)(g->n_vals ? g->n_vals : 1) * sizeof *stamp);
  for (int v = 0; v < g->n_vals; v++) stamp[v] = -1;
  for (int k = 0; k < kl->n; k++) {
    const kn_kernel *K = &kl->k[k];
    flops[k] = bytes[k] = 0;
    for (int j = 0; j < K->n_nodes; j++) {
      const kn_node *n = &g->nodes[K->nodes[j]];
      flops[k] += kn_node_flops(g, n);
      for (int i = 0; i < n->n_in; i++) {
        int v = n->in[i];
        if (stamp[v] == k || in_kernel(g, K, g->vals[v].producer)) continue;
        stamp[v] = k;
        bytes[k] += kn_value_bytes(&g->vals[v]);
        if (kn_op_table[n->op].mutates & (1u << i)) bytes[k] += kn_value_bytes(&g->vals[v]);
      }
      for (int o = 0; o < n->n_out; o++) {
        int v = n->out[o];
        bool mat = kn_value_pinned(g, v);
        for (int r = u.start[v]; r < u.start[v + 1] && !mat; r++) mat = !in_kernel(g, K, u.node[r]);
        if (mat) bytes[k] += kn_value_bytes(&g->vals[v]);
      }
    }
  }
  free(stamp);
  kn_uses_free(&u);
}
