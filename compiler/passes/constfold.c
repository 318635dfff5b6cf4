/* constfold.c — constant folding. Constants in kiln are uniform (every element equals `fill`), so:
 *   - an elementwise node whose inputs are all constants becomes a new constant of its output
 *     shape (add, mul and every op of eltwise.def with its gradient, by the formulas there);
 *   - x * 1 and x + 0 (constant 1 or 0, the result having x's shape) read x directly.
 * Values the caller reads (output, loss, parameter gradients) are left alone. */
#include <math.h>
#include <stdlib.h>

#include "pass_util.h"
#include "pipeline.h"
#include "util.h"

static bool is_const(const kn_graph *g, int v) { return g->vals[v].kind == KN_VAL_CONST; }

/* The folded value of an elementwise op on uniform inputs; false for ops not folded. */
static bool fold(const kn_node *n, const float *in, float *out) {
  float a = kn_ew_param(n);
  (void)a;
  switch (n->op) {
#define KN_EW_FOLD(ID, nm, S, AT, V, F, G)                                                          \
  case KN_OP_##ID: {                                                                            \
    float x = in[0];                                                                            \
    *out = (F);                                                                                 \
    return true;                                                                                \
  }                                                                                             \
  case KN_OP_##ID##_GRAD: {                                                                     \
    float dy = in[0], s = in[1];                                                                \
    *out = (G);                                                                                 \
    return true;                                                                                \
  }
    KN_ELTWISE_OPS(KN_EW_FOLD)
#undef KN_EW_FOLD
  case KN_OP_ADD: *out = in[0] + in[1]; return true;
  case KN_OP_MUL: *out = in[0] * in[1]; return true;
  case KN_OP_CONV2D: case KN_OP_BATCHNORM2D: case KN_OP_MAXPOOL2D: case KN_OP_AVGPOOL2D:
  case KN_OP_GLOBAL_AVGPOOL: case KN_OP_GLOBAL_MAXPOOL: case KN_OP_CHANNEL_MEAN: case KN_OP_CHANNEL_MAX:
  case KN_OP_CONCAT: case KN_OP_LINEAR: case KN_OP_FLATTEN: case KN_OP_UPSAMPLE: case KN_OP_LOG_SOFTMAX: case KN_OP_SOFTMAX: case KN_OP_SOFTMAX_GRAD:
  case KN_OP_NLL_LOSS: case KN_OP_CONV2D_GRAD_INPUT: case KN_OP_CONV2D_GRAD_WEIGHT: case KN_OP_BIAS_GRAD:
  case KN_OP_BATCHNORM2D_GRAD: case KN_OP_MAXPOOL2D_GRAD: case KN_OP_AVGPOOL2D_GRAD:
  case KN_OP_GLOBAL_AVGPOOL_GRAD: case KN_OP_GLOBAL_MAXPOOL_GRAD: case KN_OP_CHANNEL_MEAN_GRAD:
  case KN_OP_CHANNEL_MAX_GRAD: case KN_OP_SLICE_CHANNELS: case KN_OP_SUM_TO: case KN_OP_LINEAR_GRAD_INPUT:
  case KN_OP_LINEAR_GRAD_WEIGHT: case KN_OP_RESHAPE: case KN_OP_UPSAMPLE_GRAD: case KN_OP_LOG_SOFTMAX_GRAD:
  case KN_OP_NLL_LOSS_GRAD: case KN_OP_ALLREDUCE_MEAN: case KN_OP_SGD_UPDATE: case KN_OP_ADAM_UPDATE: case KN_OP_BN_RUNNING_UPDATE:
  case KN_OP_COUNT:
    return false;
  }
  return false;
}

bool kn_pass_constfold(kn_graph *g, kn_diag *d) {
  (void)d;
  for (int i = 0; i < g->n_nodes; i++) {
    kn_node *n = &g->nodes[i];
    if (n->dead || n->n_out != 1 || kn_value_pinned(g, n->out[0])) continue;
    int out = n->out[0];
    bool all_const = n->n_in > 0;
    float x[KN_MAX_IN];
    for (int j = 0; j < n->n_in; j++) {
      all_const &= is_const(g, n->in[j]);
      x[j] = all_const ? g->vals[n->in[j]].fill : 0;
    }
    float r;
    if (all_const && fold(n, x, &r)) {
      char *name = kn_fmt("%s.folded", g->vals[out].name);
      int c = kn_graph_add_const(g, name, g->vals[out].shape, r);
      free(name);
      n = &g->nodes[i];
      kn_replace_uses(g, out, c, i);
      n->dead = true;
      continue;
    }
    /* x * 1, x + 0 */
    if (n->op != KN_OP_MUL && n->op != KN_OP_ADD) continue;
    float unit = n->op == KN_OP_MUL ? 1.0f : 0.0f;
    for (int j = 0; j < 2; j++) {
      int c = n->in[j], other = n->in[1 - j];
      if (!is_const(g, c) || g->vals[c].fill != unit) continue;
      if (!kn_shape_eq(g->vals[other].shape, g->vals[out].shape)) continue;
      kn_replace_uses(g, out, other, i);
      n->dead = true;
      break;
    }
  }
  return true;
}
