/* interp.c — the reference interpreter's executor: storage for every value of a graph, running
 * nodes in order, and kn_interp_exec, the one switch over every op in ops.def. */
#include <stdlib.h>
#include <string.h>

#include "../support/util.h"
#include "interp.h"
#include "kernels.h"

struct kn_interp {
  const kn_graph *g;
  int n_vals;  /* values that had storage when created */
  void **buf;  /* buf[value id]: numel elements of 4 bytes (float or int32), zeroed */
};

kn_interp *kn_interp_create(const kn_graph *g) {
  kn_interp *it = kn_xcalloc(1, sizeof *it);
  it->g = g;
  it->n_vals = g->n_vals;
  it->buf = kn_xcalloc((size_t)(g->n_vals ? g->n_vals : 1), sizeof *it->buf);
  for (int v = 0; v < g->n_vals; v++) {
    int64_t n = kn_shape_numel(g->vals[v].shape);
    it->buf[v] = kn_xcalloc((size_t)(n > 0 ? n : 1), 4);
  }
  return it;
}

void kn_interp_dispose(kn_interp *it) {
  if (!it) return;
  for (int v = 0; v < it->n_vals; v++) free(it->buf[v]);
  free(it->buf);
  free(it);
}

float *kn_interp_f32(kn_interp *it, int value) {
  KN_ASSERT(value >= 0 && value < it->n_vals);
  KN_ASSERT(it->g->vals[value].dtype == KN_DT_F32);
  return it->buf[value];
}

int32_t *kn_interp_i32(kn_interp *it, int value) {
  KN_ASSERT(value >= 0 && value < it->n_vals);
  KN_ASSERT(it->g->vals[value].dtype == KN_DT_I32);
  return it->buf[value];
}

/* Storage of any value, whatever its dtype (used by init.c). */
void *kn_interp_data(kn_interp *it, int value) {
  KN_ASSERT(value >= 0 && value < it->n_vals);
  return it->buf[value];
}

const kn_graph *kn_interp_graph(const kn_interp *it) { return it->g; }

void kn_interp_run_node(kn_interp *it, int node) {
  const kn_graph *g = it->g;
  KN_ASSERT(node >= 0 && node < g->n_nodes);
  const kn_node *n = &g->nodes[node];
  KN_ASSERT(!n->dead);
  void *in[KN_MAX_IN], *out[KN_MAX_OUT];
  for (int i = 0; i < n->n_in; i++) {
    KN_ASSERT(n->in[i] >= 0 && n->in[i] < it->n_vals);
    in[i] = it->buf[n->in[i]];
  }
  for (int j = 0; j < n->n_out; j++) {
    KN_ASSERT(n->out[j] >= 0 && n->out[j] < it->n_vals);
    out[j] = it->buf[n->out[j]];
  }
  kn_interp_exec(g, n, in, out);
}

void kn_interp_run(kn_interp *it) {
  for (int i = 0; i < it->g->n_nodes; i++)
    if (!it->g->nodes[i].dead) kn_interp_run_node(it, i);
}

kn_win kn_k_window(const kn_node *n, bool dilated) {
  kn_win w;
  w.kh = kn_node_pair(n, KN_ATTR_KERNEL, 0);
  w.kw = kn_node_pair(n, KN_ATTR_KERNEL, 1);
  w.sh = kn_node_pair(n, KN_ATTR_STRIDE, 0);
  w.sw = kn_node_pair(n, KN_ATTR_STRIDE, 1);
  w.ph = kn_node_pair(n, KN_ATTR_PADDING, 0);
  w.pw = kn_node_pair(n, KN_ATTR_PADDING, 1);
  w.dh = dilated ? kn_node_pair(n, KN_ATTR_DILATION, 0) : 1;
  w.dw = dilated ? kn_node_pair(n, KN_ATTR_DILATION, 1) : 1;
  return w;
}

void kn_interp_exec(const kn_graph *g, const kn_node *n, void *const *in, void *const *out) {
  const kn_kargs a = {g, n, in, out};
  const kn_kargs *k = &a;
  switch (n->op) {
  case KN_OP_CONV2D: kn_k_conv2d(k); return;
  case KN_OP_BATCHNORM2D: kn_k_batchnorm2d(k); return;
#define KN_EW_EXEC(ID, nm, S, AT, V, F, G)                                    \
  case KN_OP_##ID: kn_k_unary(k, kn_ref_##nm); return;                     \
  case KN_OP_##ID##_GRAD: kn_k_unary_grad(k, kn_ref_##nm##_grad); return;
    KN_ELTWISE_OPS(KN_EW_EXEC)
#undef KN_EW_EXEC
  case KN_OP_MAXPOOL2D: kn_k_maxpool2d(k); return;
  case KN_OP_AVGPOOL2D: kn_k_avgpool2d(k); return;
  case KN_OP_GLOBAL_AVGPOOL: kn_k_global_avgpool(k); return;
  case KN_OP_GLOBAL_MAXPOOL: kn_k_global_maxpool(k); return;
  case KN_OP_CHANNEL_MEAN: kn_k_channel_mean(k); return;
  case KN_OP_CHANNEL_MAX: kn_k_channel_max(k); return;
  case KN_OP_CONCAT: kn_k_concat(k); return;
  case KN_OP_ADD: kn_k_add(k); return;
  case KN_OP_MUL: kn_k_mul(k); return;
  case KN_OP_LINEAR: kn_k_linear(k); return;
  case KN_OP_FLATTEN: kn_k_copy(k); return;
  case KN_OP_UPSAMPLE: kn_k_upsample(k); return;
  case KN_OP_LOG_SOFTMAX: kn_k_log_softmax(k); return;
  case KN_OP_SOFTMAX: kn_k_softmax(k); return;
  case KN_OP_NLL_LOSS: kn_k_nll_loss(k); return;
  case KN_OP_CONV2D_GRAD_INPUT: kn_k_conv2d_grad_input(k); return;
  case KN_OP_CONV2D_GRAD_WEIGHT: kn_k_conv2d_grad_weight(k); return;
  case KN_OP_BIAS_GRAD: kn_k_bias_grad(k); return;
  case KN_OP_BATCHNORM2D_GRAD: kn_k_batchnorm2d_grad(k); return;
  case KN_OP_MAXPOOL2D_GRAD: kn_k_maxpool2d_grad(k); return;
  case KN_OP_AVGPOOL2D_GRAD: kn_k_avgpool2d_grad(k); return;
  case KN_OP_GLOBAL_AVGPOOL_GRAD: kn_k_global_avgpool_grad(k); return;
  case KN_OP_GLOBAL_MAXPOOL_GRAD: kn_k_global_maxpool_grad(k); return;
  case KN_OP_CHANNEL_MEAN_GRAD: kn_k_channel_mean_grad(k); return;
  case KN_OP_CHANNEL_MAX_GRAD: kn_k_channel_max_grad(k); return;
  case KN_OP_SLICE_CHANNELS: kn_k_slice_channels(k); return;
  case KN_OP_SUM_TO: kn_k_sum_to(k); return;
  case KN_OP_LINEAR_GRAD_INPUT: kn_k_linear_grad_input(k); return;
  case KN_OP_LINEAR_GRAD_WEIGHT: kn_k_linear_grad_weight(k); return;
  case KN_OP_RESHAPE: kn_k_copy(k); return;
  case KN_OP_UPSAMPLE_GRAD: kn_k_upsample_grad(k); return;
  case KN_OP_LOG_SOFTMAX_GRAD: kn_k_log_softmax_grad(k); return;
  case KN_OP_SOFTMAX_GRAD: kn_k_softmax_grad(k); return;
  case KN_OP_NLL_LOSS_GRAD: kn_k_nll_loss_grad(k); return;
  case KN_OP_ALLREDUCE_MEAN: kn_k_copy(k); return; /* the reference is one process: the mean of one */
  case KN_OP_SGD_UPDATE: kn_k_sgd_update(k); return;
  case KN_OP_ADAM_UPDATE: kn_k_adam_update(k); return;
  case KN_OP_BN_RUNNING_UPDATE: kn_k_bn_running_update(k); return;
  case KN_OP_COUNT: break;
  }
  KN_ASSERT(!"kn_interp_exec: not an op");
}
