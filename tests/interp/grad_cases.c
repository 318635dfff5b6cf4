/* grad_cases.c — finite-difference cases for every backward op (KN_OPF_GRAD), each against the
 * forward op it differentiates, on small random tensors with odd sizes, strides, padding, groups
 * and dilation. kn_grad_rows names the op each row checks. */
#include "op_tests.h"

static void pair_attr(kn_node *n, kn_attr_id a, int64_t h, int64_t w) { kn_node_set_pair(n, a, h, w); }

/* ---- conv2d: grad_input, grad_weight, bias_grad ---- */
typedef struct conv_cfg {
  int N, Ci, H, W, Co, kh, kw, sh, sw, ph, pw, dh, dw, G, bias;
} conv_cfg;

static const conv_cfg conv_cfgs[] = {
    {2, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    /* 0: 3x3, pad 1 */
    {1, 4, 13, 13, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2, 1},  /* 1: stride 2, groups 2 */
    {2, 2, 7, 5, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0},    /* 2: 1x1, no bias */
    {1, 4, 9, 9, 4, 3, 3, 1, 1, 2, 2, 2, 2, 4, 1},    /* 3: depthwise, dilation 2 */
    {1, 3, 8, 7, 2, 3, 2, 2, 1, 1, 0, 1, 1, 1, 0},    /* 4: 3x2 kernel, stride 2x1, pad 1x0 */
    {3, 2, 1, 1, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},    /* 5: 1x1 spatial */
    {1, 3, 13, 13, 2, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1},  /* 6: 7x7 stride 2 pad 3 (ResNet stem) */
};

static void set_conv(kn_node *n, const conv_cfg *k) {
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, k->Co);
  pair_attr(n, KN_ATTR_KERNEL, k->kh, k->kw);
  pair_attr(n, KN_ATTR_STRIDE, k->sh, k->sw);
  pair_attr(n, KN_ATTR_PADDING, k->ph, k->pw);
  pair_attr(n, KN_ATTR_DILATION, k->dh, k->dw);
  kn_node_set_int(n, KN_ATTR_GROUPS, k->G);
  kn_node_set_int(n, KN_ATTR_BIAS, k->bias);
}

static void conv_case(fd_case *c, int arg) {
  const conv_cfg *k = &conv_cfgs[arg];
  kn_shape xs = kn_shape4(k->N, k->Ci, k->H, k->W);
  int x = fd_input(c, xs, FD_UNIFORM);
  int w = fd_input(c, kn_shape4(k->Co, k->Ci / k->G, k->kh, k->kw), FD_UNIFORM);
  int b = k->bias ? fd_input(c, kn_shape1(k->Co), FD_UNIFORM) : -1;
  kn_node *n = fd_add(c, KN_OP_CONV2D, (int[]){x, w, b}, k->bias ? 3 : 2);
  set_conv(n, k);
  fd_end_forward(c, fd_infer(c, n));
  n = fd_add(c, KN_OP_CONV2D_GRAD_INPUT, (int[]){c->dy, w}, 2);
  set_conv(n, k);
  kn_node_set_shape(n, KN_ATTR_SHAPE, xs);
  fd_pair(c, x, fd_infer(c, n));
  n = fd_add(c, KN_OP_CONV2D_GRAD_WEIGHT, (int[]){c->dy, x}, 2);
  set_conv(n, k);
  fd_pair(c, w, fd_infer(c, n));
  if (k->bias) fd_pair(c, b, fd_infer(c, fd_add(c, KN_OP_BIAS_GRAD, (int[]){c->dy}, 1)));
}

/* ---- batchnorm2d: arg bit 0 = training, bit 1 = second shape ---- */
static void bn_case(fd_case *c, int arg) {
  bool training = arg & 1;
  kn_shape xs = arg & 2 ? kn_shape4(3, 2, 7, 1) : kn_shape4(2, 3, 5, 4);
  int C = (int)xs.d[1];
  int x = fd_input(c, xs, FD_UNIFORM), gamma = fd_input(c, kn_shape1(C), FD_UNIFORM);
  int beta = fd_input(c, kn_shape1(C), FD_UNIFORM), rm = fd_input(c, kn_shape1(C), FD_UNIFORM);
  int rv = fd_input(c, kn_shape1(C), FD_POSITIVE);
  kn_node *n = fd_add(c, KN_OP_BATCHNORM2D, (int[]){x, gamma, beta, rm, rv}, 5);
  kn_node_set_int(n, KN_ATTR_TRAINING, training);
  int y = fd_infer(c, n);
  int mean = training ? n->out[1] : rm, var = training ? n->out[2] : rv;
  fd_end_forward(c, y);
  n = fd_add(c, KN_OP_BATCHNORM2D_GRAD, (int[]){c->dy, x, gamma, mean, var}, 5);
  kn_node_set_int(n, KN_ATTR_TRAINING, training);
  fd_infer(c, n);
  fd_pair(c, x, n->out[0]);
  fd_pair(c, gamma, n->out[1]);
  fd_pair(c, beta, n->out[2]);
}

/* ---- relu, sigmoid (gradients from the saved output) ---- */
static void act_case(fd_case *c, int arg) {
  bool relu = arg == 0;
  int x = fd_input(c, kn_shape4(2, 3, 5, 5), relu ? FD_AWAY0 : FD_UNIFORM);
  int y = fd_infer(c, fd_add(c, relu ? KN_OP_RELU : KN_OP_SIGMOID, (int[]){x}, 1));
  fd_end_forward(c, y);
  fd_pair(c, x, fd_infer(c, fd_add(c, relu ? KN_OP_RELU_GRAD : KN_OP_SIGMOID_GRAD, (int[]){c->dy, y}, 2)));
}

/* ---- max/avg pooling: {kernel, stride, padding, H, W} ---- */
static const int pool_cfgs[][5] = {
    {2, 2, 0, 7, 7}, {3, 2, 1, 7, 7}, {3, 1, 1, 5, 6}, {3, 2, 0, 13, 13}, {5, 3, 2, 7, 7}, {2, 1, 1, 1, 3},
};

static void pool_case(fd_case *c, int arg, bool max) {
  const int *k = pool_cfgs[arg];
  kn_shape xs = kn_shape4(2, 3, k[3], k[4]);
  int x = fd_input(c, xs, max ? FD_DISTINCT : FD_UNIFORM);
  kn_node *n = fd_add(c, max ? KN_OP_MAXPOOL2D : KN_OP_AVGPOOL2D, (int[]){x}, 1);
  pair_attr(n, KN_ATTR_KERNEL, k[0], k[0]);
  pair_attr(n, KN_ATTR_STRIDE, k[1], k[1]);
  pair_attr(n, KN_ATTR_PADDING, k[2], k[2]);
  fd_end_forward(c, fd_infer(c, n));
  if (max) n = fd_add(c, KN_OP_MAXPOOL2D_GRAD, (int[]){c->dy, x}, 2);
  else n = fd_add(c, KN_OP_AVGPOOL2D_GRAD, (int[]){c->dy}, 1);
  pair_attr(n, KN_ATTR_KERNEL, k[0], k[0]);
  pair_attr(n, KN_ATTR_STRIDE, k[1], k[1]);
  pair_attr(n, KN_ATTR_PADDING, k[2], k[2]);
  if (!max) kn_node_set_shape(n, KN_ATTR_SHAPE, xs);
  fd_pair(c, x, fd_infer(c, n));
}
static void maxpool_case(fd_case *c, int arg) { pool_case(c, arg, true); }
static void avgpool_case(fd_case *c, int arg) { pool_case(c, arg, false); }

/* ---- global pools and channel reductions: arg bit 0 = shape variant ---- */
static void reduce_case(fd_case *c, kn_op fwd, kn_op bwd, bool max, bool needs_x, kn_shape xs) {
  int x = fd_input(c, xs, max ? FD_DISTINCT : FD_UNIFORM);
  fd_end_forward(c, fd_infer(c, fd_add(c, fwd, (int[]){x}, 1)));
  kn_node *n = fd_add(c, bwd, (int[]){c->dy, x}, needs_x ? 2 : 1);
  if (!needs_x) kn_node_set_shape(n, KN_ATTR_SHAPE, xs);
  fd_pair(c, x, fd_infer(c, n));
}
static kn_shape red_shape(int arg) { return arg ? kn_shape4(1, 1, 7, 3) : kn_shape4(2, 4, 5, 5); }
static void gavg_case(fd_case *c, int arg) {
  reduce_case(c, KN_OP_GLOBAL_AVGPOOL, KN_OP_GLOBAL_AVGPOOL_GRAD, false, false, red_shape(arg));
}
static void gmax_case(fd_case *c, int arg) {
  reduce_case(c, KN_OP_GLOBAL_MAXPOOL, KN_OP_GLOBAL_MAXPOOL_GRAD, true, true, red_shape(arg));
}
static void cmean_case(fd_case *c, int arg) {
  reduce_case(c, KN_OP_CHANNEL_MEAN, KN_OP_CHANNEL_MEAN_GRAD, false, false, red_shape(arg));
}
static void cmax_case(fd_case *c, int arg) {
  reduce_case(c, KN_OP_CHANNEL_MAX, KN_OP_CHANNEL_MAX_GRAD, true, true, red_shape(arg));
}

/* ---- concat: each input's gradient is a channel slice of dy ---- */
static void concat_case(fd_case *c, int arg) {
  static const int chans[] = {2, 1, 3};
  int x[3];
  for (int i = 0; i < 3; i++) x[i] = fd_input(c, kn_shape4(2, chans[i], 3, 5), FD_UNIFORM);
  fd_end_forward(c, fd_infer(c, fd_add(c, KN_OP_CONCAT, x, 3)));
  for (int i = 0, off = 0; i < 3; off += chans[i], i++) {
    kn_node *n = fd_add(c, KN_OP_SLICE_CHANNELS, (int[]){c->dy}, 1);
    kn_node_set_int(n, KN_ATTR_OFFSET, off);
    kn_node_set_int(n, KN_ATTR_COUNT, chans[i]);
    fd_pair(c, x[i], fd_infer(c, n));
  }
}

/* ---- broadcast add / mul: gradients are sum_to of dy (add) or of dy times the other side ---- */
static void bcast_shapes(int arg, kn_shape *a, kn_shape *b) {
  *a = *b = kn_shape4(2, 3, 4, 5);
  if (arg == 0) *b = kn_shape4(1, 3, 1, 1);
  if (arg == 1) *b = kn_shape4(2, 1, 4, 5);
  if (arg == 2) *a = kn_shape4(2, 3, 1, 1);
}

static int sum_to(fd_case *c, int v, kn_shape to) {
  kn_node *n = fd_add(c, KN_OP_SUM_TO, (int[]){v}, 1);
  kn_node_set_shape(n, KN_ATTR_SHAPE, to);
  return fd_infer(c, n);
}

static void add_case(fd_case *c, int arg) {
  kn_shape as, bs;
  bcast_shapes(arg, &as, &bs);
  int a = fd_input(c, as, FD_UNIFORM), b = fd_input(c, bs, FD_UNIFORM);
  fd_end_forward(c, fd_infer(c, fd_add(c, KN_OP_ADD, (int[]){a, b}, 2)));
  fd_pair(c, a, sum_to(c, c->dy, as));
  fd_pair(c, b, sum_to(c, c->dy, bs));
}

static void mul_case(fd_case *c, int arg) {
  kn_shape as, bs;
  bcast_shapes(arg, &as, &bs);
  int a = fd_input(c, as, FD_UNIFORM), b = fd_input(c, bs, FD_UNIFORM);
  fd_end_forward(c, fd_infer(c, fd_add(c, KN_OP_MUL, (int[]){a, b}, 2)));
  fd_pair(c, a, sum_to(c, fd_infer(c, fd_add(c, KN_OP_MUL, (int[]){c->dy, b}, 2)), as));
  fd_pair(c, b, sum_to(c, fd_infer(c, fd_add(c, KN_OP_MUL, (int[]){c->dy, a}, 2)), bs));
}

/* ---- linear: arg 0 [3,8] -> 5 with bias; 1 [2,2,3,3] -> 4 with bias; 2 [1,7] -> 1 ---- */
static void linear_case(fd_case *c, int arg) {
  kn_shape xs = arg == 0 ? kn_shape2(3, 8) : arg == 1 ? kn_shape4(2, 2, 3, 3) : kn_shape2(1, 7);
  int O = arg == 0 ? 5 : arg == 1 ? 4 : 1, F = (int)(kn_shape_numel(xs) / xs.d[0]);
  bool bias = arg != 2;
  int x = fd_input(c, xs, FD_UNIFORM), w = fd_input(c, kn_shape2(O, F), FD_UNIFORM);
  int b = bias ? fd_input(c, kn_shape1(O), FD_UNIFORM) : -1;
  kn_node *n = fd_add(c, KN_OP_LINEAR, (int[]){x, w, b}, bias ? 3 : 2);
  kn_node_set_int(n, KN_ATTR_OUT_FEATURES, O);
  fd_end_forward(c, fd_infer(c, n));
  n = fd_add(c, KN_OP_LINEAR_GRAD_INPUT, (int[]){c->dy, w}, 2);
  kn_node_set_shape(n, KN_ATTR_SHAPE, xs);
  fd_pair(c, x, fd_infer(c, n));
  fd_pair(c, w, fd_infer(c, fd_add(c, KN_OP_LINEAR_GRAD_WEIGHT, (int[]){c->dy, x}, 2)));
  if (bias) fd_pair(c, b, fd_infer(c, fd_add(c, KN_OP_BIAS_GRAD, (int[]){c->dy}, 1)));
}

/* ---- flatten: its gradient reshapes dy back ---- */
static void flatten_case(fd_case *c, int arg) {
  kn_shape xs = kn_shape4(2, 3, 2, 2);
  int x = fd_input(c, xs, FD_UNIFORM);
  fd_end_forward(c, fd_infer(c, fd_add(c, KN_OP_FLATTEN, (int[]){x}, 1)));
  kn_node *n = fd_add(c, KN_OP_RESHAPE, (int[]){c->dy}, 1);
  kn_node_set_shape(n, KN_ATTR_SHAPE, xs);
  fd_pair(c, x, fd_infer(c, n));
}

/* ---- allreduce_mean: the gradient average of data-parallel training, the identity in one process;
 * checked as the backward of a same-shape reshape (whose gradient is the identity) ---- */
static void allreduce_case(fd_case *c, int arg) {
  (void)arg;
  kn_shape xs = kn_shape2(3, 5);
  int x = fd_input(c, xs, FD_UNIFORM);
  kn_node *f = fd_add(c, KN_OP_RESHAPE, (int[]){x}, 1);
  kn_node_set_shape(f, KN_ATTR_SHAPE, xs);
  fd_end_forward(c, fd_infer(c, f));
  kn_node *n = fd_add(c, KN_OP_ALLREDUCE_MEAN, (int[]){c->dy}, 1);
  kn_node_set_int(n, KN_ATTR_COUNT, 15);
  fd_pair(c, x, fd_infer(c, n));
}

/* ---- upsample: arg bit 0 = bilinear, bit 1 = scale 3 (else 2) ---- */
static void upsample_case(fd_case *c, int arg) {
  int x = fd_input(c, kn_shape4(2, 2, 3, 5), FD_UNIFORM);
  kn_node *n = fd_add(c, KN_OP_UPSAMPLE, (int[]){x}, 1);
  kn_node_set_int(n, KN_ATTR_MODE, arg & 1 ? KN_MODE_BILINEAR : KN_MODE_NEAREST);
  kn_node_set_int(n, KN_ATTR_SCALE, arg & 2 ? 3 : 2);
  fd_end_forward(c, fd_infer(c, n));
  n = fd_add(c, KN_OP_UPSAMPLE_GRAD, (int[]){c->dy}, 1);
  kn_node_set_int(n, KN_ATTR_MODE, arg & 1 ? KN_MODE_BILINEAR : KN_MODE_NEAREST);
  kn_node_set_int(n, KN_ATTR_SCALE, arg & 2 ? 3 : 2);
  fd_pair(c, x, fd_infer(c, n));
}

/* ---- log_softmax and nll_loss ---- */
static void log_softmax_case(fd_case *c, int arg) {
  int x = fd_input(c, arg ? kn_shape2(1, 10) : kn_shape2(3, 7), FD_UNIFORM);
  int y = fd_infer(c, fd_add(c, KN_OP_LOG_SOFTMAX, (int[]){x}, 1));
  fd_end_forward(c, y);
  fd_pair(c, x, fd_infer(c, fd_add(c, KN_OP_LOG_SOFTMAX_GRAD, (int[]){c->dy, y}, 2)));
}

/* softmax over dim 1: [3,7] scores, [2,5,3,4] channels, [1,3,1,5] */
static void softmax_case(fd_case *c, int arg) {
  kn_shape s = arg == 0 ? kn_shape2(3, 7) : arg == 1 ? kn_shape4(2, 5, 3, 4) : kn_shape4(1, 3, 1, 5);
  int x = fd_input(c, s, FD_UNIFORM);
  int y = fd_infer(c, fd_add(c, KN_OP_SOFTMAX, (int[]){x}, 1));
  fd_end_forward(c, y);
  fd_pair(c, x, fd_infer(c, fd_add(c, KN_OP_SOFTMAX_GRAD, (int[]){c->dy, y}, 2)));
}

static void nll_case(fd_case *c, int arg) {
  int N = arg ? 1 : 4, K = arg ? 3 : 5;
  int logp = fd_input(c, kn_shape2(N, K), FD_UNIFORM), labels = fd_labels(c, N, K);
  fd_end_forward(c, fd_infer(c, fd_add(c, KN_OP_NLL_LOSS, (int[]){logp, labels}, 2)));
  kn_node *n = fd_add(c, KN_OP_NLL_LOSS_GRAD, (int[]){c->dy, labels}, 2);
  kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape2(N, K));
  fd_pair(c, logp, fd_infer(c, n));
}

/* ---- every op of eltwise.def (arg: the forward op): all regions of the formulas, parameter 0.2 ---- */
static void eltwise_case(fd_case *c, int arg) {
  kn_op op = (kn_op)arg;
  const kn_ew_info *e = kn_ew_find(op);
  int x = fd_input(c, kn_shape4(2, 3, 5, 7), FD_WIDE);
  kn_node *n = fd_add(c, op, (int[]){x}, 1);
  if (kn_op_table[op].attrs & (1u << KN_ATTR_NEGATIVE_SLOPE)) kn_node_set_float(n, KN_ATTR_NEGATIVE_SLOPE, 0.2);
  int y = fd_infer(c, n);
  fd_end_forward(c, y);
  n = fd_add(c, e->grad, (int[]){c->dy, e->saves_y ? y : x}, 2);
  if (kn_op_table[op].attrs & (1u << KN_ATTR_NEGATIVE_SLOPE)) kn_node_set_float(n, KN_ATTR_NEGATIVE_SLOPE, 0.2);
  fd_pair(c, x, fd_infer(c, n));
}

#define G(op, what, fn, arg) {KN_OP_##op, what, fn, arg, NULL}
#define KN_EW_GRAD_ROW(ID, nm, S, AT, V, F, GR) G(ID##_GRAD, #nm " on [2,3,5,7], |x| up to 4.5", eltwise_case, KN_OP_##ID),
const op_row kn_grad_rows[] = {
    G(CONV2D_GRAD_INPUT, "3x3 pad 1", conv_case, 0),
    G(CONV2D_GRAD_INPUT, "stride 2 groups 2, 13x13", conv_case, 1),
    G(CONV2D_GRAD_INPUT, "1x1 on 7x5", conv_case, 2),
    G(CONV2D_GRAD_INPUT, "depthwise dilation 2", conv_case, 3),
    G(CONV2D_GRAD_INPUT, "3x2 kernel stride 2x1", conv_case, 4),
    G(CONV2D_GRAD_INPUT, "1x1 spatial", conv_case, 5),
    G(CONV2D_GRAD_INPUT, "7x7 stride 2 pad 3", conv_case, 6),
    G(CONV2D_GRAD_WEIGHT, "3x3 pad 1", conv_case, 0),
    G(CONV2D_GRAD_WEIGHT, "stride 2 groups 2, 13x13", conv_case, 1),
    G(CONV2D_GRAD_WEIGHT, "1x1 on 7x5", conv_case, 2),
    G(CONV2D_GRAD_WEIGHT, "depthwise dilation 2", conv_case, 3),
    G(CONV2D_GRAD_WEIGHT, "3x2 kernel stride 2x1", conv_case, 4),
    G(CONV2D_GRAD_WEIGHT, "1x1 spatial", conv_case, 5),
    G(CONV2D_GRAD_WEIGHT, "7x7 stride 2 pad 3", conv_case, 6),
    G(BIAS_GRAD, "conv bias", conv_case, 0),
    G(BIAS_GRAD, "conv bias, groups 2", conv_case, 1),
    G(BIAS_GRAD, "linear bias", linear_case, 0),
    G(BATCHNORM2D_GRAD, "eval mode", bn_case, 0),
    G(BATCHNORM2D_GRAD, "training mode", bn_case, 1),
    G(BATCHNORM2D_GRAD, "eval mode [3,2,7,1]", bn_case, 2),
    G(BATCHNORM2D_GRAD, "training mode [3,2,7,1]", bn_case, 3),
    G(RELU_GRAD, "relu", act_case, 0),
    G(SIGMOID_GRAD, "sigmoid", act_case, 1),
    KN_ELTWISE_OPS(KN_EW_GRAD_ROW)
    G(MAXPOOL2D_GRAD, "k2 s2 on 7x7", maxpool_case, 0),
    G(MAXPOOL2D_GRAD, "k3 s2 p1 on 7x7", maxpool_case, 1),
    G(MAXPOOL2D_GRAD, "k3 s1 p1 on 5x6", maxpool_case, 2),
    G(MAXPOOL2D_GRAD, "k3 s2 on 13x13", maxpool_case, 3),
    G(MAXPOOL2D_GRAD, "k5 s3 p2 on 7x7", maxpool_case, 4),
    G(MAXPOOL2D_GRAD, "k2 s1 p1 on 1x3", maxpool_case, 5),
    G(AVGPOOL2D_GRAD, "k2 s2 on 7x7", avgpool_case, 0),
    G(AVGPOOL2D_GRAD, "k3 s2 p1 on 7x7", avgpool_case, 1),
    G(AVGPOOL2D_GRAD, "k3 s1 p1 on 5x6", avgpool_case, 2),
    G(AVGPOOL2D_GRAD, "k5 s3 p2 on 7x7", avgpool_case, 4),
    G(AVGPOOL2D_GRAD, "k2 s1 p1 on 1x3", avgpool_case, 5),
    G(GLOBAL_AVGPOOL_GRAD, "[2,4,5,5]", gavg_case, 0),
    G(GLOBAL_AVGPOOL_GRAD, "[1,1,7,3]", gavg_case, 1),
    G(GLOBAL_MAXPOOL_GRAD, "[2,4,5,5]", gmax_case, 0),
    G(GLOBAL_MAXPOOL_GRAD, "[1,1,7,3]", gmax_case, 1),
    G(CHANNEL_MEAN_GRAD, "[2,4,5,5]", cmean_case, 0),
    G(CHANNEL_MEAN_GRAD, "[1,1,7,3]", cmean_case, 1),
    G(CHANNEL_MAX_GRAD, "[2,4,5,5]", cmax_case, 0),
    G(CHANNEL_MAX_GRAD, "[1,1,7,3]", cmax_case, 1),
    G(SLICE_CHANNELS, "concat of 2+1+3 channels", concat_case, 0),
    G(SUM_TO, "add, b [1,C,1,1]", add_case, 0),
    G(SUM_TO, "add, b [N,1,H,W]", add_case, 1),
    G(SUM_TO, "add, a [N,C,1,1]", add_case, 2),
    G(SUM_TO, "add, same shapes", add_case, 3),
    G(SUM_TO, "mul, b [1,C,1,1]", mul_case, 0),
    G(SUM_TO, "mul, b [N,1,H,W]", mul_case, 1),
    G(SUM_TO, "mul, a [N,C,1,1]", mul_case, 2),
    G(SUM_TO, "mul, same shapes", mul_case, 3),
    G(LINEAR_GRAD_INPUT, "[3,8] -> 5", linear_case, 0),
    G(LINEAR_GRAD_INPUT, "[2,2,3,3] -> 4", linear_case, 1),
    G(LINEAR_GRAD_INPUT, "[1,7] -> 1", linear_case, 2),
    G(LINEAR_GRAD_WEIGHT, "[3,8] -> 5", linear_case, 0),
    G(LINEAR_GRAD_WEIGHT, "[2,2,3,3] -> 4", linear_case, 1),
    G(LINEAR_GRAD_WEIGHT, "[1,7] -> 1", linear_case, 2),
    G(RESHAPE, "flatten [2,3,2,2]", flatten_case, 0),
    G(ALLREDUCE_MEAN, "one process: identity", allreduce_case, 0),
    G(UPSAMPLE_GRAD, "nearest x2", upsample_case, 0),
    G(UPSAMPLE_GRAD, "bilinear x2", upsample_case, 1),
    G(UPSAMPLE_GRAD, "nearest x3", upsample_case, 2),
    G(UPSAMPLE_GRAD, "bilinear x3", upsample_case, 3),
    G(LOG_SOFTMAX_GRAD, "[3,7]", log_softmax_case, 0),
    G(LOG_SOFTMAX_GRAD, "[1,10]", log_softmax_case, 1),
    G(SOFTMAX_GRAD, "[3,7]", softmax_case, 0),
    G(SOFTMAX_GRAD, "over channels of [2,5,3,4]", softmax_case, 1),
    G(SOFTMAX_GRAD, "over channels of [1,3,1,5]", softmax_case, 2),
    G(NLL_LOSS_GRAD, "[4,5]", nll_case, 0),
    G(NLL_LOSS_GRAD, "[1,3]", nll_case, 1),
};
const int kn_n_grad_rows = (int)(sizeof kn_grad_rows / sizeof kn_grad_rows[0]);
