/* cpu_lower.c — lowering of every op in ops.def to calls of the C kernels (kernels/<family>.c): the
 * node's data pointers go into an array, its shapes and attributes become the constant arguments
 * of a specialised wrapper, and the work-item count (kn_kernels.h) decides whether the call goes
 * through the runtime's kn_parallel_for. */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "kernels/kn_kernels.h"
#include "util.h"

LLVMValueRef kn_cg_ptr(kn_cg *cg, int v) {
  if (v == KN_CG_SCRATCH) {
    LLVMValueRef idx = LLVMConstInt(cg->i64, (unsigned long long)cg->scratch_off, 0);
    return LLVMBuildInBoundsGEP2(cg->b, cg->i8, cg->work, &idx, 1, "");
  }
  int64_t off = cg->persist_off[v];
  LLVMValueRef base = cg->persist;
  if (off < 0) {
    off = cg->work_off[v];
    base = cg->work;
  }
  KN_ASSERT(off >= 0 && "value has no memory");
  LLVMValueRef idx = LLVMConstInt(cg->i64, (unsigned long long)off, 0);
  return LLVMBuildInBoundsGEP2(cg->b, cg->i8, base, &idx, 1, "");
}

void kn_cg_call(kn_cg *cg, const char *name, const int *vals, int n_vals, const double *c, int n_c, int64_t items) {
  kn_cg_call_wrapper(cg, kn_cg_wrapper(cg, name, c, n_c, false), vals, n_vals, items);
}

void kn_cg_call_wrapper(kn_cg *cg, LLVMValueRef w, const int *vals, int n_vals, int64_t items) {
  KN_ASSERT(n_vals <= KN_CG_MAXPTR);
  LLVMTypeRef arr = LLVMArrayType(cg->i8p, KN_CG_MAXPTR);
  for (int i = 0; i < n_vals; i++) {
    LLVMValueRef idx[2] = {LLVMConstInt(cg->i64, 0, 0), LLVMConstInt(cg->i64, (unsigned)i, 0)};
    LLVMValueRef slot = LLVMBuildInBoundsGEP2(cg->b, arr, cg->ptrs, idx, 2, "");
    LLVMBuildStore(cg->b, kn_cg_ptr(cg, vals[i]), slot);
  }
  LLVMValueRef argp = LLVMBuildBitCast(cg->b, cg->ptrs, cg->i8p, "");
  if (items <= 1) {
    LLVMValueRef a[3] = {argp, LLVMConstInt(cg->i64, 0, 0), LLVMConstInt(cg->i64, 1, 0)};
    LLVMBuildCall2(cg->b, cg->wrap_ty, w, a, 3, "");
  } else {
    LLVMValueRef a[3] = {w, argp, LLVMConstInt(cg->i64, (unsigned long long)items, 0)};
    LLVMBuildCall2(cg->b, cg->pfor_ty, cg->pfor, a, 3, "");
    cg->parallel_calls++;
  }
  cg->calls++;
}

/* ---- helpers over the node being lowered ---- */
static kn_shape in_shape(kn_cg *cg, const kn_node *n, int i) { return cg->g->vals[n->in[i]].shape; }
static kn_shape out_shape(kn_cg *cg, const kn_node *n, int j) { return cg->g->vals[n->out[j]].shape; }
static int64_t dim(kn_shape s, int i) { return i < s.rank ? s.d[i] : 1; }
static int64_t numel(kn_shape s) { return kn_shape_numel(s); }
static int64_t items_for(int64_t total, int64_t unit) { return kn_items_for(total, unit); }

/* Node inputs then outputs, in the kernel's pointer order. */
static int io(const kn_node *n, int *ids) {
  int k = 0;
  for (int i = 0; i < n->n_in; i++) ids[k++] = n->in[i];
  for (int j = 0; j < n->n_out; j++) ids[k++] = n->out[j];
  return k;
}

bool kn_cg_conv_geom(const kn_node *n, kn_shape x, kn_shape y, double c[16]) {
  int64_t kh = kn_node_pair(n, KN_ATTR_KERNEL, 0), kw = kn_node_pair(n, KN_ATTR_KERNEL, 1);
  int64_t sh = kn_node_pair(n, KN_ATTR_STRIDE, 0), sw = kn_node_pair(n, KN_ATTR_STRIDE, 1);
  int64_t ph = kn_node_pair(n, KN_ATTR_PADDING, 0), pw = kn_node_pair(n, KN_ATTR_PADDING, 1);
  double g[16] = {x.d[0], x.d[1], x.d[2], x.d[3], y.d[1], y.d[2], y.d[3], kh, kw, sh, sw, ph, pw,
                  kn_node_pair(n, KN_ATTR_DILATION, 0), kn_node_pair(n, KN_ATTR_DILATION, 1),
                  kn_node_int(n, KN_ATTR_GROUPS)};
  memcpy(c, g, sizeof g);
  return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
}

int64_t kn_cg_conv_gi_items(const double c[16], bool direct) {
  int64_t N = (int64_t)c[0], Ci = (int64_t)c[1], P = (int64_t)(c[5] * c[6]), G = (int64_t)c[15];
  return direct ? kn_conv_fwd_items(N, G, Ci / G, P) : N * G;
}

static void lower_conv(kn_cg *cg, const kn_node *n, kn_shape x, kn_shape y) {
  int ids[KN_CG_MAXPTR], k = io(n, ids);
  double c[20];
  bool direct = kn_cg_conv_geom(n, x, y, c);
  int64_t N = x.d[0], Ci = x.d[1], Co = y.d[1], P = y.d[2] * y.d[3], G = (int64_t)c[15];
  if (n->op == KN_OP_CONV2D) {
    c[16] = n->n_in == 3;
    kn_cg_call(cg, "kn_k_conv2d", ids, k, c, 17, kn_conv_fwd_items(N, G, Co / G, P));
  } else if (n->op == KN_OP_CONV2D_GRAD_WEIGHT) {
    kn_cg_call(cg, "kn_k_conv2d_grad_weight", ids, k, c, 16, kn_conv_gw_items(G, Co / G, Ci / G * (int64_t)(c[7] * c[8])));
  } else {
    KN_ASSERT(n->op == KN_OP_CONV2D_GRAD_INPUT);
    c[16] = direct;
    kn_cg_call(cg, "kn_k_conv2d_grad_input", ids, k, c, 17, kn_cg_conv_gi_items(c, direct));
  }
}

static void lower_window(kn_cg *cg, const kn_node *n, const char *kern, kn_shape x, kn_shape y) {
  int ids[KN_CG_MAXPTR], k = io(n, ids);
  int64_t kh = kn_node_pair(n, KN_ATTR_KERNEL, 0), kw = kn_node_pair(n, KN_ATTR_KERNEL, 1), NC = x.d[0] * x.d[1];
  bool avg = n->op == KN_OP_AVGPOOL2D || n->op == KN_OP_AVGPOOL2D_GRAD;
  double c[13] = {NC, x.d[2], x.d[3], y.d[2], y.d[3], kh, kw, kn_node_pair(n, KN_ATTR_STRIDE, 0),
                  kn_node_pair(n, KN_ATTR_STRIDE, 1), kn_node_pair(n, KN_ATTR_PADDING, 0),
                  kn_node_pair(n, KN_ATTR_PADDING, 1), avg, 0};
  c[12] = items_for(NC, y.d[2] * y.d[3] * kh * kw);
  kn_cg_call(cg, kern, ids, k, c, 13, (int64_t)c[12]);
}

/* Unary elementwise kernels over numel (the ops of eltwise.def and their grads). */
static void lower_eltwise(kn_cg *cg, const kn_node *n, const char *kern) {
  int ids[KN_CG_MAXPTR], k = io(n, ids);
  int64_t ne = numel(out_shape(cg, n, 0));
  double c[3] = {ne, items_for(ne, 1), kn_ew_param(n)};
  kn_cg_call(cg, kern, ids, k, c, 3, (int64_t)c[1]);
}

static void lower_binary(kn_cg *cg, const kn_node *n, int op) {
  int ids[KN_CG_MAXPTR], k = io(n, ids);
  kn_shape a = in_shape(cg, n, 0), b = in_shape(cg, n, 1), y = out_shape(cg, n, 0);
  double c[14];
  int64_t sa = 1, sb = 1;
  for (int i = 3; i >= 0; i--) {
    c[i] = dim(y, i);
    c[4 + i] = dim(a, i) == 1 && dim(y, i) != 1 ? 0 : sa;
    c[8 + i] = dim(b, i) == 1 && dim(y, i) != 1 ? 0 : sb;
    sa *= dim(a, i);
    sb *= dim(b, i);
  }
  c[12] = op;
  c[13] = items_for(dim(y, 0) * dim(y, 1) * dim(y, 2), dim(y, 3));
  kn_cg_call(cg, "kn_k_binary", ids, k, c, 14, (int64_t)c[13]);
}

/* nblk blocks of len floats from src[soff + k*sstride] to dst[doff + k*dstride]. */
static void lower_copy(kn_cg *cg, int src, int dst, int64_t nblk, int64_t len, int64_t ss, int64_t soff, int64_t ds,
                       int64_t doff) {
  int ids[2] = {src, dst};
  double c[7] = {nblk, len, ss, soff, ds, doff, items_for(nblk * len, 1)};
  kn_cg_call(cg, "kn_k_copy", ids, 2, c, 7, (int64_t)c[6]);
}

void kn_cg_lower_node(kn_cg *cg, const kn_node *n) {
  int ids[KN_CG_MAXPTR], k = io(n, ids);
  kn_shape x = n->n_in ? in_shape(cg, n, 0) : (kn_shape){0, {0}};
  kn_shape y = n->n_out ? out_shape(cg, n, 0) : (kn_shape){0, {0}};
  double c[16];
  kn_cg_wait_allreduce_inputs(cg, n);
  switch (n->op) {
  case KN_OP_CONV2D:
    lower_conv(cg, n, x, y);
    return;
  case KN_OP_CONV2D_GRAD_INPUT:
    lower_conv(cg, n, y, x);
    return;
  case KN_OP_CONV2D_GRAD_WEIGHT:
    lower_conv(cg, n, in_shape(cg, n, 1), x);
    return;
  case KN_OP_BATCHNORM2D:
  case KN_OP_BATCHNORM2D_GRAD: {
    int64_t N = x.d[0], C = x.d[1], HW = x.d[2] * x.d[3];
    const char *kname = n->op == KN_OP_BATCHNORM2D ? "kn_k_batchnorm2d" : "kn_k_batchnorm2d_grad";
    bool sync = kn_node_int(n, KN_ATTR_SYNC) && kn_node_int(n, KN_ATTR_TRAINING);
    c[0] = N, c[1] = C, c[2] = HW, c[3] = kn_node_float(n, KN_ATTR_EPS), c[4] = kn_node_int(n, KN_ATTR_TRAINING) != 0;
    c[5] = sync, c[6] = items_for(C, N * HW);
    kn_cg_call(cg, kname, ids, k, c, 7, (int64_t)c[6]);
    if (!sync) return;
    kn_cg_sync_bn(cg, n); /* averages the statistics or the gradient sums over the ranks */
    c[5] = 2;
    kn_cg_call(cg, kname, ids, k, c, 7, (int64_t)c[6]);
    return;
  }
#define KN_EW_LOWER(ID, nm, S, AT, V, F, G)        \
  case KN_OP_##ID:                              \
    lower_eltwise(cg, n, "kn_k_" #nm);          \
    return;                                     \
  case KN_OP_##ID##_GRAD:                       \
    lower_eltwise(cg, n, "kn_k_" #nm "_grad");  \
    return;
    KN_ELTWISE_OPS(KN_EW_LOWER)
#undef KN_EW_LOWER
  case KN_OP_MAXPOOL2D:
    lower_window(cg, n, "kn_k_pool2d", x, y);
    return;
  case KN_OP_AVGPOOL2D:
    lower_window(cg, n, "kn_k_pool2d", x, y);
    return;
  case KN_OP_MAXPOOL2D_GRAD:
    lower_window(cg, n, "kn_k_pool2d_grad", y, x);
    return;
  case KN_OP_AVGPOOL2D_GRAD:
    lower_window(cg, n, "kn_k_pool2d_grad", y, x);
    return;
  case KN_OP_GLOBAL_AVGPOOL:
  case KN_OP_GLOBAL_MAXPOOL:
  case KN_OP_GLOBAL_AVGPOOL_GRAD:
  case KN_OP_GLOBAL_MAXPOOL_GRAD: {
    bool fwd = n->op == KN_OP_GLOBAL_AVGPOOL || n->op == KN_OP_GLOBAL_MAXPOOL;
    kn_shape big = fwd ? x : y;
    int64_t NC = big.d[0] * big.d[1], HW = big.d[2] * big.d[3];
    c[0] = NC, c[1] = HW, c[2] = n->op == KN_OP_GLOBAL_MAXPOOL || n->op == KN_OP_GLOBAL_MAXPOOL_GRAD;
    c[3] = items_for(NC, HW);
    kn_cg_call(cg, fwd ? "kn_k_global_pool" : "kn_k_global_pool_grad", ids, k, c, 4, (int64_t)c[3]);
    return;
  }
  case KN_OP_CHANNEL_MEAN:
  case KN_OP_CHANNEL_MAX:
  case KN_OP_CHANNEL_MEAN_GRAD:
  case KN_OP_CHANNEL_MAX_GRAD: {
    bool fwd = n->op == KN_OP_CHANNEL_MEAN || n->op == KN_OP_CHANNEL_MAX;
    kn_shape big = fwd ? x : y;
    c[0] = big.d[0], c[1] = big.d[1], c[2] = big.d[2] * big.d[3];
    c[3] = n->op == KN_OP_CHANNEL_MAX || n->op == KN_OP_CHANNEL_MAX_GRAD;
    c[4] = items_for(big.d[0], big.d[1] * big.d[2] * big.d[3]);
    kn_cg_call(cg, fwd ? "kn_k_channel_pool" : "kn_k_channel_pool_grad", ids, k, c, 5, (int64_t)c[4]);
    return;
  }
  case KN_OP_CONCAT: {
    int64_t HW = y.d[2] * y.d[3], off = 0;
    for (int i = 0; i < n->n_in; i++) {
      int64_t ci = in_shape(cg, n, i).d[1];
      lower_copy(cg, n->in[i], n->out[0], y.d[0], ci * HW, ci * HW, 0, y.d[1] * HW, off * HW);
      off += ci;
    }
    return;
  }
  case KN_OP_SLICE_CHANNELS: {
    int64_t HW = x.d[2] * x.d[3], off = kn_node_int(n, KN_ATTR_OFFSET), cnt = y.d[1];
    lower_copy(cg, n->in[0], n->out[0], x.d[0], cnt * HW, x.d[1] * HW, off * HW, cnt * HW, 0);
    return;
  }
  case KN_OP_FLATTEN:
  case KN_OP_RESHAPE:
    lower_copy(cg, n->in[0], n->out[0], 1, numel(x), 0, 0, 0, 0);
    return;
  case KN_OP_ADD:
    lower_binary(cg, n, 0);
    return;
  case KN_OP_MUL:
    lower_binary(cg, n, 1);
    return;
  case KN_OP_LINEAR: {
    int64_t N = x.d[0], F = numel(x) / N, O = y.d[1];
    c[0] = N, c[1] = F, c[2] = O, c[3] = n->n_in == 3;
    kn_cg_call(cg, "kn_k_linear", ids, k, c, 4, kn_gemm_items(N, O));
    return;
  }
  case KN_OP_LINEAR_GRAD_INPUT: {
    int64_t N = x.d[0], O = x.d[1], F = in_shape(cg, n, 1).d[1];
    c[0] = N, c[1] = F, c[2] = O;
    kn_cg_call(cg, "kn_k_linear_grad_input", ids, k, c, 3, kn_gemm_items(N, F));
    return;
  }
  case KN_OP_LINEAR_GRAD_WEIGHT: {
    int64_t N = x.d[0], O = x.d[1], F = y.d[1];
    c[0] = N, c[1] = F, c[2] = O;
    kn_cg_call(cg, "kn_k_linear_grad_weight", ids, k, c, 3, kn_gemm_items(O, F));
    return;
  }
  case KN_OP_BIAS_GRAD: {
    int64_t N = x.d[0], C = x.d[1], HW = numel(x) / (N * C);
    c[0] = N, c[1] = C, c[2] = HW, c[3] = items_for(C, N * HW);
    kn_cg_call(cg, "kn_k_bias_grad", ids, k, c, 4, (int64_t)c[3]);
    return;
  }
  case KN_OP_SUM_TO: {
    for (int i = 0; i < 4; i++) c[i] = dim(x, i), c[4 + i] = dim(y, i);
    c[8] = items_for(numel(y), numel(x) / numel(y));
    kn_cg_call(cg, "kn_k_sum_to", ids, k, c, 9, (int64_t)c[8]);
    return;
  }
  case KN_OP_UPSAMPLE:
  case KN_OP_UPSAMPLE_GRAD: {
    kn_shape small = n->op == KN_OP_UPSAMPLE ? x : y;
    int64_t NC = small.d[0] * small.d[1], s = kn_node_int(n, KN_ATTR_SCALE);
    c[0] = NC, c[1] = small.d[2], c[2] = small.d[3], c[3] = s, c[4] = kn_node_int(n, KN_ATTR_MODE);
    c[5] = items_for(NC, small.d[2] * small.d[3] * s * s);
    kn_cg_call(cg, n->op == KN_OP_UPSAMPLE ? "kn_k_upsample" : "kn_k_upsample_grad", ids, k, c, 6, (int64_t)c[5]);
    return;
  }
  case KN_OP_LOG_SOFTMAX:
  case KN_OP_LOG_SOFTMAX_GRAD:
    c[0] = x.d[0], c[1] = x.d[1], c[2] = items_for(x.d[0], x.d[1]);
    kn_cg_call(cg, n->op == KN_OP_LOG_SOFTMAX ? "kn_k_log_softmax" : "kn_k_log_softmax_grad", ids, k, c, 3,
               (int64_t)c[2]);
    return;
  case KN_OP_SOFTMAX:
  case KN_OP_SOFTMAX_GRAD: {
    int64_t inner = x.rank == 4 ? x.d[2] * x.d[3] : 1;
    c[0] = x.d[0], c[1] = x.d[1], c[2] = inner, c[3] = items_for(x.d[0] * inner, x.d[1]);
    kn_cg_call(cg, n->op == KN_OP_SOFTMAX ? "kn_k_softmax" : "kn_k_softmax_grad", ids, k, c, 4, (int64_t)c[3]);
    return;
  }
  case KN_OP_NLL_LOSS:
    c[0] = x.d[0], c[1] = x.d[1];
    kn_cg_call(cg, "kn_k_nll_loss", ids, k, c, 2, 1);
    return;
  case KN_OP_NLL_LOSS_GRAD:
    c[0] = y.d[0], c[1] = y.d[1];
    kn_cg_call(cg, "kn_k_nll_loss_grad", ids, k, c, 2, 1);
    return;
  case KN_OP_SGD_UPDATE: {
    int64_t ne = numel(x);
    c[0] = ne, c[1] = kn_node_float(n, KN_ATTR_MOMENTUM), c[2] = kn_node_float(n, KN_ATTR_DAMPENING);
    c[3] = kn_node_float(n, KN_ATTR_WEIGHT_DECAY), c[4] = kn_node_int(n, KN_ATTR_NESTEROV) != 0;
    c[5] = n->n_in == 4, c[6] = items_for(ne, 1);
    kn_cg_call(cg, "kn_k_sgd_update", ids, k, c, 7, (int64_t)c[6]);
    return;
  }
  case KN_OP_ADAM_UPDATE: {
    int64_t ne = numel(x);
    c[0] = ne, c[1] = kn_node_float(n, KN_ATTR_BETA1), c[2] = kn_node_float(n, KN_ATTR_BETA2);
    c[3] = kn_node_float(n, KN_ATTR_EPS), c[4] = kn_node_float(n, KN_ATTR_WEIGHT_DECAY);
    c[5] = kn_node_int(n, KN_ATTR_DECOUPLED) != 0, c[6] = cg->g->vals[n->in[3]].dtype == KN_DT_I32;
    c[7] = items_for(ne, 1);
    kn_cg_call(cg, "kn_k_adam_update", ids, k, c, 8, (int64_t)c[7]);
    return;
  }
  case KN_OP_ALLREDUCE_MEAN:
    kn_cg_lower_allreduce(cg, n);
    return;
  case KN_OP_BN_RUNNING_UPDATE:
    if (kn_node_int(n, KN_ATTR_SYNC)) { /* statistics over every rank's batch: unbiased by their count */
      kn_cg_sync_bn_running_update(cg, n);
      return;
    }
    c[0] = x.d[0], c[1] = kn_node_float(n, KN_ATTR_MOMENTUM), c[2] = kn_node_int(n, KN_ATTR_COUNT);
    kn_cg_call(cg, "kn_k_bn_running_update", ids, k, c, 3, 1);
    return;
  case KN_OP_COUNT:
    break;
  }
  KN_ASSERT(!"unknown op");
}
