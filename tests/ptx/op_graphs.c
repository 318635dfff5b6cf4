/* op_graphs.c — small single-op graphs for every op in ops.def (see op_graphs.h). The switch has
 * no default, so an op added to ops.def without a test graph is a compile error (-Wswitch). */
#include <stdlib.h>

#include "op_graphs.h"

enum { N = 2, C = 4, H = 6, W = 6 };

static int in4(kn_graph *g, const char *name, int64_t n, int64_t c, int64_t h, int64_t w) {
  return kn_graph_add_input(g, name, KN_DT_F32, kn_shape4(n, c, h, w));
}
static int vec(kn_graph *g, const char *name, int64_t n) { return kn_graph_add_input(g, name, KN_DT_F32, kn_shape1(n)); }

int kn_test_op_variants(kn_op op) {
  return op == KN_OP_CONV2D || op == KN_OP_CONV2D_GRAD_INPUT || op == KN_OP_CONV2D_GRAD_WEIGHT ||
                 op == KN_OP_UPSAMPLE || op == KN_OP_UPSAMPLE_GRAD || op == KN_OP_SGD_UPDATE ||
                 op == KN_OP_ADAM_UPDATE || op == KN_OP_BATCHNORM2D || op == KN_OP_BATCHNORM2D_GRAD
             ? 2
             : 1;
}

/* Convolution attributes: variant 0 grouped, strided, with bias; 1 dilated, no bias. */
static void conv_attrs(kn_node *n, int v, int co) {
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, co);
  kn_node_set_pair(n, KN_ATTR_KERNEL, 3, 3);
  kn_node_set_pair(n, KN_ATTR_STRIDE, v ? 1 : 2, v ? 1 : 2);
  kn_node_set_pair(n, KN_ATTR_PADDING, v ? 2 : 1, v ? 2 : 1);
  kn_node_set_pair(n, KN_ATTR_DILATION, v ? 2 : 1, v ? 2 : 1);
  kn_node_set_int(n, KN_ATTR_GROUPS, v ? 1 : 2);
  if (!v) kn_node_set_int(n, KN_ATTR_BIAS, 1);
}

static void pool_attrs(kn_node *n, int k, int s, int p) {
  kn_node_set_pair(n, KN_ATTR_KERNEL, k, k);
  kn_node_set_pair(n, KN_ATTR_STRIDE, s, s);
  kn_node_set_pair(n, KN_ATTR_PADDING, p, p);
}

kn_graph *kn_test_op_graph(kn_op op, int v, int *node) {
  kn_graph *g = kn_graph_create(kn_op_table[op].name);
  int x = in4(g, "x", N, C, H, W), ins[KN_MAX_IN], n_in = 1;
  ins[0] = x;
  int co = v ? 5 : 6, oh = v ? 6 : 3; /* conv outputs per variant (see conv_attrs) */
  switch (op) {
  case KN_OP_CONV2D:
    ins[1] = kn_graph_add_param(g, "w", kn_shape4(co, v ? C : C / 2, 3, 3), KN_INIT_KAIMING_UNIFORM);
    n_in = 2;
    if (!v) ins[n_in++] = kn_graph_add_param(g, "b", kn_shape1(co), KN_INIT_FAN_IN_UNIFORM);
    break;
  case KN_OP_CONV2D_GRAD_INPUT:
    ins[0] = in4(g, "dy", N, co, oh, oh);
    ins[1] = kn_graph_add_param(g, "w", kn_shape4(co, v ? C : C / 2, 3, 3), KN_INIT_KAIMING_UNIFORM);
    n_in = 2;
    break;
  case KN_OP_CONV2D_GRAD_WEIGHT:
    ins[0] = in4(g, "dy", N, co, oh, oh);
    ins[1] = x;
    n_in = 2;
    break;
  case KN_OP_BATCHNORM2D:
  case KN_OP_BATCHNORM2D_GRAD:
    n_in = 5;
    if (op == KN_OP_BATCHNORM2D_GRAD) {
      ins[0] = in4(g, "dy", N, C, H, W);
      ins[1] = x;
      ins[2] = vec(g, "gamma", C);
    } else {
      ins[1] = vec(g, "gamma", C);
      ins[2] = vec(g, "beta", C);
    }
    ins[3] = vec(g, "mean", C);
    ins[4] = kn_graph_add_const(g, "var", kn_shape1(C), 0.75f);
    break;
  case KN_OP_CONCAT:
    ins[1] = in4(g, "x2", N, 3, H, W);
    ins[2] = in4(g, "x3", N, 1, H, W);
    n_in = 3;
    break;
  case KN_OP_ADD:
    ins[1] = in4(g, "b", N, C, 1, 1);
    n_in = 2;
    break;
  case KN_OP_MUL:
    ins[0] = in4(g, "a", N, 1, H, W); /* a broadcasts over b */
    ins[1] = x;
    n_in = 2;
    break;
  case KN_OP_LINEAR:
    ins[1] = kn_graph_add_param(g, "w", kn_shape2(5, C * H * W), KN_INIT_KAIMING_UNIFORM);
    ins[2] = kn_graph_add_param(g, "b", kn_shape1(5), KN_INIT_FAN_IN_UNIFORM);
    n_in = 3;
    break;
  case KN_OP_LOG_SOFTMAX:
    ins[0] = kn_graph_add_input(g, "scores", KN_DT_F32, kn_shape2(N, 10));
    break;
  case KN_OP_NLL_LOSS:
    ins[0] = kn_graph_add_input(g, "logp", KN_DT_F32, kn_shape2(N, 10));
    ins[1] = g->labels = kn_graph_add_input(g, "labels", KN_DT_I32, kn_shape1(N));
    n_in = 2;
    break;
  KN_EW_GRAD_CASES
  case KN_OP_SOFTMAX_GRAD:
    ins[0] = in4(g, "dy", N, C, H, W);
    ins[1] = x;
    n_in = 2;
    break;
  case KN_OP_MAXPOOL2D_GRAD:
    ins[0] = in4(g, "dy", N, C, 3, 3);
    ins[1] = x;
    n_in = 2;
    break;
  case KN_OP_AVGPOOL2D_GRAD:
    ins[0] = in4(g, "dy", N, C, 3, 3);
    break;
  case KN_OP_GLOBAL_AVGPOOL_GRAD:
    ins[0] = in4(g, "dy", N, C, 1, 1);
    break;
  case KN_OP_GLOBAL_MAXPOOL_GRAD:
    ins[0] = in4(g, "dy", N, C, 1, 1);
    ins[1] = x;
    n_in = 2;
    break;
  case KN_OP_CHANNEL_MEAN_GRAD:
    ins[0] = in4(g, "dy", N, 1, H, W);
    break;
  case KN_OP_CHANNEL_MAX_GRAD:
    ins[0] = in4(g, "dy", N, 1, H, W);
    ins[1] = x;
    n_in = 2;
    break;
  case KN_OP_BIAS_GRAD:
    ins[0] = in4(g, "dy", N, 6, 3, 3);
    break;
  case KN_OP_LINEAR_GRAD_INPUT:
    ins[0] = kn_graph_add_input(g, "dy", KN_DT_F32, kn_shape2(N, 5));
    ins[1] = kn_graph_add_param(g, "w", kn_shape2(5, C * H * W), KN_INIT_KAIMING_UNIFORM);
    n_in = 2;
    break;
  case KN_OP_LINEAR_GRAD_WEIGHT:
    ins[0] = kn_graph_add_input(g, "dy", KN_DT_F32, kn_shape2(N, 5));
    ins[1] = x;
    n_in = 2;
    break;
  case KN_OP_UPSAMPLE_GRAD:
    ins[0] = in4(g, "dy", N, C, 2 * H, 2 * W);
    break;
  case KN_OP_LOG_SOFTMAX_GRAD:
    ins[0] = kn_graph_add_input(g, "dy", KN_DT_F32, kn_shape2(N, 10));
    ins[1] = kn_graph_add_input(g, "y", KN_DT_F32, kn_shape2(N, 10));
    n_in = 2;
    break;
  case KN_OP_NLL_LOSS_GRAD:
    ins[0] = kn_graph_add_input(g, "dloss", KN_DT_F32, kn_shape1(1));
    ins[1] = g->labels = kn_graph_add_input(g, "labels", KN_DT_I32, kn_shape1(N));
    n_in = 2;
    break;
  case KN_OP_SGD_UPDATE:
  case KN_OP_ADAM_UPDATE:
    ins[0] = kn_graph_add_param(g, "p", kn_shape2(5, 7), KN_INIT_KAIMING_UNIFORM);
    ins[1] = kn_graph_add_input(g, "grad", KN_DT_F32, kn_shape2(5, 7));
    ins[2] = g->lr = kn_graph_add_input(g, "lr", KN_DT_F32, kn_shape1(1));
    n_in = 3;
    if (op == KN_OP_ADAM_UPDATE) {
      ins[3] = g->step = kn_graph_add_const(g, "step", kn_shape1(1), 3.0f);
      ins[4] = kn_graph_add_state(g, "m", kn_shape2(5, 7), KN_INIT_ZERO);
      ins[5] = kn_graph_add_const(g, "v", kn_shape2(5, 7), 0.01f);
      n_in = 6;
    } else if (v == 0) {
      ins[n_in++] = kn_graph_add_input(g, "buf", KN_DT_F32, kn_shape2(5, 7));
    }
    break;
  case KN_OP_BN_RUNNING_UPDATE:
    for (int k = 0; k < 4; k++) ins[k] = k == 3 ? kn_graph_add_const(g, "bv", kn_shape1(C), 0.5f) : vec(g, "s", C);
    n_in = 4;
    break;
  KN_EW_FWD_CASES
  case KN_OP_SOFTMAX:
  case KN_OP_MAXPOOL2D:
  case KN_OP_AVGPOOL2D:
  case KN_OP_GLOBAL_AVGPOOL:
  case KN_OP_GLOBAL_MAXPOOL:
  case KN_OP_CHANNEL_MEAN:
  case KN_OP_CHANNEL_MAX:
  case KN_OP_FLATTEN:
  case KN_OP_UPSAMPLE:
  case KN_OP_SLICE_CHANNELS:
  case KN_OP_SUM_TO:
  case KN_OP_RESHAPE:
  case KN_OP_ALLREDUCE_MEAN:
    break;
  case KN_OP_COUNT:
    abort();
  }
  kn_node *n = kn_graph_add_node(g, op, kn_op_table[op].name, ins, n_in, (kn_loc){0});
  switch (op) {
  case KN_OP_CONV2D:
  case KN_OP_CONV2D_GRAD_INPUT:
  case KN_OP_CONV2D_GRAD_WEIGHT:
    conv_attrs(n, v, co);
    if (op == KN_OP_CONV2D_GRAD_INPUT) kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape4(N, C, H, W));
    break;
  case KN_OP_BATCHNORM2D:
  case KN_OP_BATCHNORM2D_GRAD:
    kn_node_set_int(n, KN_ATTR_TRAINING, v == 0);
    kn_node_set_float(n, KN_ATTR_EPS, 1e-3);
    break;
  case KN_OP_MAXPOOL2D:
  case KN_OP_MAXPOOL2D_GRAD:
    pool_attrs(n, 3, 2, 1);
    break;
  case KN_OP_AVGPOOL2D:
  case KN_OP_AVGPOOL2D_GRAD:
    pool_attrs(n, 3, 2, 1);
    if (op == KN_OP_AVGPOOL2D_GRAD) kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape4(N, C, H, W));
    break;
  case KN_OP_GLOBAL_AVGPOOL_GRAD:
  case KN_OP_CHANNEL_MEAN_GRAD:
    kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape4(N, C, H, W));
    break;
  case KN_OP_LINEAR:
    kn_node_set_int(n, KN_ATTR_OUT_FEATURES, 5);
    kn_node_set_int(n, KN_ATTR_BIAS, 1);
    break;
  case KN_OP_LINEAR_GRAD_INPUT:
    kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape4(N, C, H, W));
    break;
  case KN_OP_UPSAMPLE:
  case KN_OP_UPSAMPLE_GRAD:
    kn_node_set_int(n, KN_ATTR_SCALE, 2);
    kn_node_set_int(n, KN_ATTR_MODE, v ? KN_MODE_BILINEAR : KN_MODE_NEAREST);
    break;
  case KN_OP_SLICE_CHANNELS:
    kn_node_set_int(n, KN_ATTR_OFFSET, 1);
    kn_node_set_int(n, KN_ATTR_COUNT, 2);
    break;
  case KN_OP_SUM_TO:
    kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape4(1, C, 1, W));
    break;
  case KN_OP_RESHAPE:
    kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape2(N * C, H * W));
    break;
  case KN_OP_NLL_LOSS_GRAD:
    kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape2(N, 10));
    break;
  case KN_OP_SGD_UPDATE:
    kn_node_set_float(n, KN_ATTR_MOMENTUM, 0.9);
    kn_node_set_float(n, KN_ATTR_WEIGHT_DECAY, 1e-2);
    kn_node_set_int(n, KN_ATTR_NESTEROV, v == 0);
    break;
  case KN_OP_ADAM_UPDATE:
    kn_node_set_float(n, KN_ATTR_WEIGHT_DECAY, 1e-2);
    kn_node_set_int(n, KN_ATTR_DECOUPLED, v);
    break;
  case KN_OP_BN_RUNNING_UPDATE:
    kn_node_set_int(n, KN_ATTR_COUNT, N * H * W);
    break;
  KN_EW_FWD_CASES
  case KN_OP_GLOBAL_AVGPOOL:
  case KN_OP_GLOBAL_MAXPOOL:
  case KN_OP_CHANNEL_MEAN:
  case KN_OP_CHANNEL_MAX:
  case KN_OP_CONCAT:
  case KN_OP_ADD:
  case KN_OP_MUL:
  case KN_OP_FLATTEN:
  case KN_OP_LOG_SOFTMAX:
  case KN_OP_NLL_LOSS:
  case KN_OP_BIAS_GRAD:
  KN_EW_GRAD_CASES
  case KN_OP_GLOBAL_MAXPOOL_GRAD:
  case KN_OP_CHANNEL_MAX_GRAD:
  case KN_OP_LINEAR_GRAD_WEIGHT:
  case KN_OP_LOG_SOFTMAX_GRAD:
  case KN_OP_SOFTMAX:
  case KN_OP_SOFTMAX_GRAD:
  case KN_OP_ALLREDUCE_MEAN:
  case KN_OP_COUNT:
    break;
  }
  *node = n->id;
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_node_infer(g, n, &d);
  if (!ok) {
    kn_diag_print(&d, stderr);
    kn_graph_dispose(g);
    g = NULL;
  }
  kn_diag_free(&d);
  return g;
}
