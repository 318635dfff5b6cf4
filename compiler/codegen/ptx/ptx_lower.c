/* ptx_lower.c — the GPU backend's op table: every op of ops.def lowered to launches of the C
 * kernels in kernels/ (forward, backward and updates). One `switch` with no default, so -Wswitch
 * reports an op added to ops.def without a lowering here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_groups.h"
#include "ptx.h"
#include "ptx_fuse.h"
#include "util.h"

typedef struct {
  const kn_graph *g;
  const kn_node *n;
  kn_ptx_program *prog;
  int k; /* launches of this node so far */
} kn_lowering;

static kn_ptx_call *call(kn_lowering *l, const char *kernel, int64_t threads) {
  kn_ptx_program *pr = l->prog;
  if (pr->n_calls == pr->cap_calls) {
    pr->cap_calls = pr->cap_calls ? 2 * pr->cap_calls : 64;
    pr->calls = kn_xrealloc(pr->calls, (size_t)pr->cap_calls * sizeof *pr->calls);
  }
  kn_ptx_call *c = &pr->calls[pr->n_calls++];
  memset(c, 0, sizeof *c);
  c->node = l->n->id;
  c->kernel = kernel;
  snprintf(c->entry, sizeof c->entry, "kn_%d_%d", l->n->id, l->k++);
  c->threads = threads < 1 ? 1 : threads;
  c->block = KN_PTX_BLOCK;
  int64_t grid = (c->threads + KN_PTX_BLOCK - 1) / KN_PTX_BLOCK;
  c->grid = (unsigned)(grid > KN_PTX_MAX_GRID ? KN_PTX_MAX_GRID : grid);
  return c;
}

static void push_i(kn_ptx_call *c, const int64_t *v, int n) {
  KN_ASSERT(c->n_i + n <= KN_PTX_MAX_I);
  for (int k = 0; k < n; k++) c->i[c->n_i++] = v[k];
}
static void push_f(kn_ptx_call *c, const double *v, int n) {
  KN_ASSERT(c->n_f + n <= KN_PTX_MAX_F);
  for (int k = 0; k < n; k++) c->f[c->n_f++] = (float)v[k];
}
static void push_p(kn_ptx_call *c, const int *v, int n) {
  KN_ASSERT(c->n_p + n <= KN_PTX_MAX_P);
  for (int k = 0; k < n; k++) c->p[c->n_p++] = v[k];
}
#define KN_NARGS(T, ...) ((int)(sizeof((T[]){__VA_ARGS__}) / sizeof(T)))
#define I(c, ...) push_i(c, (int64_t[]){__VA_ARGS__}, KN_NARGS(int64_t, __VA_ARGS__))
#define F(c, ...) push_f(c, (double[]){__VA_ARGS__}, KN_NARGS(double, __VA_ARGS__))
#define P(c, ...) push_p(c, (int[]){__VA_ARGS__}, KN_NARGS(int, __VA_ARGS__))

static kn_shape shp(kn_lowering *l, int v) { return l->g->vals[v].shape; }
static int in(kn_lowering *l, int k) { return k < l->n->n_in ? l->n->in[k] : -1; }
static int out(kn_lowering *l, int k) { return k < l->n->n_out ? l->n->out[k] : -1; }
static int64_t numel(kn_lowering *l, int v) { return kn_shape_numel(shp(l, v)); }
static int64_t pair(kn_lowering *l, kn_attr_id a, int w) { return kn_node_pair(l->n, a, w); }

/* Shape padded to 4 dims with trailing 1s ([N,C] -> [N,C,1,1]). */
static void dims4(kn_shape s, int64_t *d) {
  for (int k = 0; k < 4; k++) d[k] = k < s.rank ? s.d[k] : 1;
}

/* Elementwise: one thread per element, buffers in order. */
static kn_ptx_call *eltwise(kn_lowering *l, const char *kernel, int a, int b, int y) {
  kn_ptx_call *c = call(l, kernel, numel(l, y));
  I(c, numel(l, y));
  if (b >= 0) P(c, a, b, y);
  else P(c, a, y);
  return c;
}

/* Tensor cores (prog->math TF32 or BF16): kernels/mma.c computes G products of M x N in warp tiles
 * of 16 x 32, 32 threads per tile; its last integer argument is 1 for bf16 operands. */
static bool mma(kn_lowering *l) { return l->prog->math != KN_PTX_MATH_FP32; }

/* Convolution geometry from x [N,C,H,W], y [N,CO,OH,OW], the weight's kernel size and attrs; for
 * the tensor-core kernels (see conv_call) then bf16. */
static void conv_geom(kn_lowering *l, kn_ptx_call *c, kn_shape x, kn_shape y, kn_shape w, bool bias) {
  I(c, x.d[0], x.d[1], x.d[2], x.d[3], y.d[1], y.d[2], y.d[3], w.d[2], w.d[3], pair(l, KN_ATTR_STRIDE, 0),
    pair(l, KN_ATTR_STRIDE, 1), pair(l, KN_ATTR_PADDING, 0), pair(l, KN_ATTR_PADDING, 1),
    pair(l, KN_ATTR_DILATION, 0), pair(l, KN_ATTR_DILATION, 1), kn_node_int(l->n, KN_ATTR_GROUPS), bias);
  if (mma(l)) I(c, l->prog->math == KN_PTX_MATH_BF16);
}

static void pool_geom(kn_lowering *l, kn_ptx_call *c, kn_shape x, kn_shape y) {
  I(c, x.d[0], x.d[1], x.d[2], x.d[3], y.d[2], y.d[3], pair(l, KN_ATTR_KERNEL, 0), pair(l, KN_ATTR_KERNEL, 1),
    pair(l, KN_ATTR_STRIDE, 0), pair(l, KN_ATTR_STRIDE, 1), pair(l, KN_ATTR_PADDING, 0),
    pair(l, KN_ATTR_PADDING, 1));
}

/* Reduction of x to y (sum times scale, or max); one warp per output element. */
static void reduce(kn_lowering *l, int x, int y, int mode, double scale, kn_shape ys) {
  int64_t id[4], od[4];
  dims4(shp(l, x), id);
  dims4(ys, od);
  kn_ptx_call *c = call(l, "kn_gk_reduce", 32 * kn_shape_numel(ys));
  I(c, mode, id[0], id[1], id[2], id[3], od[0], od[1], od[2], od[3]);
  F(c, scale);
  P(c, x, y);
}

/* Gradient of a reduction: broadcast (mean) or scatter to the first maximum (max). */
static void reduce_grad(kn_lowering *l, int dy, int x, int dx, double scale) {
  int64_t id[4], od[4];
  dims4(shp(l, dx), id);
  dims4(shp(l, dy), od);
  kn_ptx_call *c = call(l, x < 0 ? "kn_gk_broadcast" : "kn_gk_argmax_scatter",
                        x < 0 ? kn_shape_numel(shp(l, dx)) : 32 * kn_shape_numel(shp(l, dy)));
  I(c, id[0], id[1], id[2], id[3], od[0], od[1], od[2], od[3]);
  if (x < 0) {
    F(c, scale);
    P(c, dy, dx);
  } else {
    P(c, dy, x, dx);
  }
}

/* Tensor cores (see mma): kernels/mma.c computes G products of M x N in warp tiles of 16 x 32,
 * 32 threads per tile. */
static int64_t mma_threads(int64_t G, int64_t M, int64_t N) { return 32 * G * ((M + 15) / 16) * ((N + 31) / 32); }

/* A convolution launch: the SIMT kernel with `threads`, or its tensor-core twin (same arguments,
 * see conv_geom) over G products of M x N. */
static kn_ptx_call *conv_call(kn_lowering *l, const char *simt, const char *mma_kernel, int64_t threads, int64_t G,
                              int64_t M, int64_t N) {
  return mma(l) ? call(l, mma_kernel, mma_threads(G, M, N)) : call(l, simt, threads);
}

/* C[M,N] = A * B (+ bias) with element strides. */
static void gemm(kn_lowering *l, int64_t M, int64_t N, int64_t K, int64_t asm_, int64_t ask, int64_t bsk,
                 int64_t bsn, int a, int b, int bias, int y) {
  kn_ptx_call *c = mma(l) ? call(l, "kn_gk_gemm_mma", mma_threads(1, M, N)) : call(l, "kn_gk_gemm", M * N);
  I(c, M, N, K, asm_, ask, bsk, bsn, bias >= 0);
  if (mma(l)) I(c, l->prog->math == KN_PTX_MATH_BF16);
  P(c, a, b, bias, y);
}

static void copy_channels(kn_lowering *l, int src, int dst, int64_t s0, int64_t d0, int64_t count) {
  kn_shape s = shp(l, src), t = shp(l, dst);
  int64_t hw = s.d[2] * s.d[3];
  kn_ptx_call *c = call(l, "kn_gk_copy_channels", s.d[0] * count * hw);
  I(c, s.d[0], hw, s.d[1], s0, t.d[1], d0, count);
  P(c, src, dst);
}

/* Broadcasting add/mul: strides of an operand against the output, 0 where it broadcasts. */
static void binary(kn_lowering *l, int op) {
  int a = in(l, 0), b = in(l, 1), y = out(l, 0);
  int64_t d[4], ad[4], bd[4], as[4], bs[4], sa = 1, sb = 1;
  dims4(shp(l, y), d);
  dims4(shp(l, a), ad);
  dims4(shp(l, b), bd);
  for (int k = 3; k >= 0; k--) {
    as[k] = ad[k] == d[k] ? sa : 0;
    bs[k] = bd[k] == d[k] ? sb : 0;
    sa *= ad[k];
    sb *= bd[k];
  }
  kn_ptx_call *c = call(l, "kn_gk_binary", numel(l, y));
  I(c, op, d[0], d[1], d[2], d[3], as[0], as[1], as[2], as[3], bs[0], bs[1], bs[2], bs[3]);
  P(c, a, b, y);
}

static void batchnorm_forward(kn_lowering *l) {
  kn_shape x = shp(l, in(l, 0));
  int64_t hw = x.d[2] * x.d[3];
  double eps = kn_node_float(l->n, KN_ATTR_EPS);
  int mean = in(l, 3), var = in(l, 4);
  if (l->n->n_out == 3) { /* training: batch statistics */
    mean = out(l, 1);
    var = out(l, 2);
    kn_ptx_call *c = call(l, "kn_gk_bn_stats", 32 * x.d[1]);
    I(c, x.d[0], x.d[1], hw);
    P(c, in(l, 0), mean, var);
  }
  kn_ptx_call *c = call(l, "kn_gk_bn_apply", kn_shape_numel(x));
  I(c, x.d[0], x.d[1], hw);
  F(c, eps);
  P(c, in(l, 0), in(l, 1), in(l, 2), mean, var, out(l, 0));
}

static void batchnorm_backward(kn_lowering *l) {
  kn_shape x = shp(l, in(l, 1));
  int64_t hw = x.d[2] * x.d[3];
  double eps = kn_node_float(l->n, KN_ATTR_EPS);
  kn_ptx_call *c = call(l, "kn_gk_bn_grad_reduce", 32 * x.d[1]);
  I(c, x.d[0], x.d[1], hw);
  F(c, eps);
  P(c, in(l, 0), in(l, 1), in(l, 3), in(l, 4), out(l, 1), out(l, 2));
  c = call(l, "kn_gk_bn_grad_input", kn_shape_numel(x));
  I(c, x.d[0], x.d[1], hw, kn_node_int(l->n, KN_ATTR_TRAINING));
  F(c, eps);
  P(c, in(l, 0), in(l, 1), in(l, 2), in(l, 3), in(l, 4), out(l, 1), out(l, 2), out(l, 0));
}

static bool updates(kn_lowering *l, kn_diag *d) {
  const kn_node *n = l->n;
  int w = in(l, 0);
  if (n->op == KN_OP_SGD_UPDATE) {
    kn_ptx_call *c = call(l, "kn_gk_sgd", numel(l, w));
    I(c, numel(l, w), n->n_in == 4, kn_node_int(n, KN_ATTR_NESTEROV));
    F(c, kn_node_float(n, KN_ATTR_MOMENTUM), kn_node_float(n, KN_ATTR_DAMPENING),
      kn_node_float(n, KN_ATTR_WEIGHT_DECAY));
    P(c, w, in(l, 1), in(l, 2), in(l, 3));
    return true;
  }
  if (n->op == KN_OP_ADAM_UPDATE) {
    if (l->g->vals[in(l, 3)].dtype != KN_DT_F32) {
      kn_diag_error(d, n->loc, NULL, "adam_update '%s': the GPU backend needs a float32 step count", n->name);
      return false;
    }
    double b1 = kn_node_float(n, KN_ATTR_BETA1), b2 = kn_node_float(n, KN_ATTR_BETA2);
    kn_ptx_call *c = call(l, "kn_gk_adam", numel(l, w));
    I(c, numel(l, w), kn_node_int(n, KN_ATTR_DECOUPLED));
    F(c, b1, b2, kn_node_float(n, KN_ATTR_EPS), kn_node_float(n, KN_ATTR_WEIGHT_DECAY), log2(b1), log2(b2));
    P(c, w, in(l, 1), in(l, 2), in(l, 3), in(l, 4), in(l, 5));
    return true;
  }
  kn_ptx_call *c = call(l, "kn_gk_bn_running", numel(l, w)); /* BN_RUNNING_UPDATE */
  I(c, numel(l, w), kn_node_int(n, KN_ATTR_COUNT));
  F(c, kn_node_float(n, KN_ATTR_MOMENTUM));
  P(c, w, in(l, 1), in(l, 2), in(l, 3));
  return true;
}

static bool lower_node(kn_lowering *l, kn_diag *d) {
  const kn_node *n = l->n;
  int x = in(l, 0), y = out(l, 0);
  kn_shape xs = shp(l, x), ys = y >= 0 ? shp(l, y) : xs;
  switch (n->op) {
  case KN_OP_CONV2D: { /* M = CO/G, N = batch*OH*OW */
    int64_t G = kn_node_int(n, KN_ATTR_GROUPS);
    kn_ptx_call *c = conv_call(l, "kn_gk_conv2d", "kn_gk_conv2d_mma", kn_shape_numel(ys), G, ys.d[1] / G,
                               ys.d[0] * ys.d[2] * ys.d[3]);
    conv_geom(l, c, xs, ys, shp(l, in(l, 1)), n->n_in == 3);
    P(c, x, in(l, 1), in(l, 2), y);
    return true;
  }
  case KN_OP_BATCHNORM2D: batchnorm_forward(l); return true;
#define KN_GK_EW_LOWER(ID, nm, S_, AT_, V_, F_, G_)                                         \
  case KN_OP_##ID: F(eltwise(l, "kn_gk_" #nm, x, -1, y), kn_ew_param(n)); return true; \
  case KN_OP_##ID##_GRAD: F(eltwise(l, "kn_gk_" #nm "_grad", x, in(l, 1), y), kn_ew_param(n)); return true;
    KN_ELTWISE_OPS(KN_GK_EW_LOWER)
#undef KN_GK_EW_LOWER
  case KN_OP_MAXPOOL2D:
  case KN_OP_AVGPOOL2D: {
    kn_ptx_call *c = call(l, n->op == KN_OP_MAXPOOL2D ? "kn_gk_maxpool2d" : "kn_gk_avgpool2d", kn_shape_numel(ys));
    pool_geom(l, c, xs, ys);
    P(c, x, y);
    return true;
  }
  case KN_OP_GLOBAL_AVGPOOL: reduce(l, x, y, 0, 1.0 / (double)(xs.d[2] * xs.d[3]), ys); return true;
  case KN_OP_GLOBAL_MAXPOOL: reduce(l, x, y, 1, 1.0, ys); return true;
  case KN_OP_CHANNEL_MEAN: reduce(l, x, y, 0, 1.0 / (double)xs.d[1], ys); return true;
  case KN_OP_CHANNEL_MAX: reduce(l, x, y, 1, 1.0, ys); return true;
  case KN_OP_CONCAT: {
    int64_t off = 0;
    for (int k = 0; k < n->n_in; k++) {
      copy_channels(l, in(l, k), y, 0, off, shp(l, in(l, k)).d[1]);
      off += shp(l, in(l, k)).d[1];
    }
    return true;
  }
  case KN_OP_ADD: binary(l, 0); return true;
  case KN_OP_MUL: binary(l, 1); return true;
  case KN_OP_LINEAR: {
    int64_t f = kn_shape_numel(xs) / xs.d[0], o = ys.d[1];
    gemm(l, xs.d[0], o, f, f, 1, 1, f, x, in(l, 1), in(l, 2), y);
    return true;
  }
  case KN_OP_FLATTEN:
  case KN_OP_RESHAPE: eltwise(l, "kn_gk_copy", x, -1, y); return true;
  /* One process per GPU only: the CUDA runtime refuses data-parallel runs (docs/distributed.md). */
  case KN_OP_ALLREDUCE_MEAN: eltwise(l, "kn_gk_copy", x, -1, y); return true;
  case KN_OP_UPSAMPLE:
  case KN_OP_UPSAMPLE_GRAD: {
    kn_shape s = n->op == KN_OP_UPSAMPLE ? xs : ys; /* the small side */
    kn_ptx_call *c = call(l, n->op == KN_OP_UPSAMPLE ? "kn_gk_upsample" : "kn_gk_upsample_grad", kn_shape_numel(ys));
    I(c, s.d[0], s.d[1], s.d[2], s.d[3], kn_node_int(n, KN_ATTR_SCALE), kn_node_int(n, KN_ATTR_MODE));
    P(c, x, y);
    return true;
  }
  case KN_OP_LOG_SOFTMAX:
  case KN_OP_LOG_SOFTMAX_GRAD: {
    bool fwd = n->op == KN_OP_LOG_SOFTMAX;
    kn_ptx_call *c = call(l, fwd ? "kn_gk_log_softmax" : "kn_gk_log_softmax_grad", 32 * ys.d[0]);
    I(c, ys.d[0], ys.d[1]);
    if (fwd) P(c, x, y);
    else P(c, x, in(l, 1), y);
    return true;
  }
  case KN_OP_SOFTMAX:
  case KN_OP_SOFTMAX_GRAD: {
    int64_t inner = xs.rank == 4 ? xs.d[2] * xs.d[3] : 1;
    kn_ptx_call *c = call(l, n->op == KN_OP_SOFTMAX ? "kn_gk_softmax" : "kn_gk_softmax_grad", xs.d[0] * inner);
    I(c, xs.d[0], xs.d[1], inner);
    if (n->op == KN_OP_SOFTMAX) P(c, x, y);
    else P(c, x, in(l, 1), y);
    return true;
  }
  case KN_OP_NLL_LOSS: {
    kn_ptx_call *c = call(l, "kn_gk_nll_loss", 32);
    I(c, xs.d[0], xs.d[1]);
    P(c, x, in(l, 1), y);
    return true;
  }
  case KN_OP_CONV2D_GRAD_INPUT: { /* M = C/G, N = batch*H*W */
    int64_t G = kn_node_int(n, KN_ATTR_GROUPS);
    kn_ptx_call *c = conv_call(l, "kn_gk_conv2d_grad_input", "kn_gk_conv2d_grad_input_mma", kn_shape_numel(ys), G,
                               ys.d[1] / G, ys.d[0] * ys.d[2] * ys.d[3]);
    conv_geom(l, c, ys, xs, shp(l, in(l, 1)), false);
    P(c, x, in(l, 1), y);
    return true;
  }
  case KN_OP_CONV2D_GRAD_WEIGHT: { /* M = CO/G, N = C/G*KH*KW */
    int64_t G = kn_node_int(n, KN_ATTR_GROUPS);
    kn_ptx_call *c = conv_call(l, "kn_gk_conv2d_grad_weight", "kn_gk_conv2d_grad_weight_mma", 32 * kn_shape_numel(ys),
                               G, ys.d[0] / G, ys.d[1] * ys.d[2] * ys.d[3]);
    conv_geom(l, c, shp(l, in(l, 1)), xs, ys, false);
    P(c, x, in(l, 1), y);
    return true;
  }
  case KN_OP_BIAS_GRAD: {
    kn_shape o = xs;
    for (int k = 0; k < o.rank; k++) o.d[k] = k == 1 ? xs.d[1] : 1;
    reduce(l, x, y, 0, 1.0, o);
    return true;
  }
  case KN_OP_BATCHNORM2D_GRAD: batchnorm_backward(l); return true;
  case KN_OP_MAXPOOL2D_GRAD:
  case KN_OP_AVGPOOL2D_GRAD: {
    bool mx = n->op == KN_OP_MAXPOOL2D_GRAD;
    kn_ptx_call *c = call(l, mx ? "kn_gk_maxpool2d_grad" : "kn_gk_avgpool2d_grad", kn_shape_numel(ys));
    pool_geom(l, c, ys, xs);
    if (mx) P(c, x, in(l, 1), y);
    else P(c, x, y);
    return true;
  }
  case KN_OP_GLOBAL_AVGPOOL_GRAD: reduce_grad(l, x, -1, y, 1.0 / (double)(ys.d[2] * ys.d[3])); return true;
  case KN_OP_CHANNEL_MEAN_GRAD: reduce_grad(l, x, -1, y, 1.0 / (double)ys.d[1]); return true;
  case KN_OP_GLOBAL_MAXPOOL_GRAD:
  case KN_OP_CHANNEL_MAX_GRAD: reduce_grad(l, x, in(l, 1), y, 1.0); return true;
  case KN_OP_SLICE_CHANNELS:
    copy_channels(l, x, y, kn_node_int(n, KN_ATTR_OFFSET), 0, ys.d[1]);
    return true;
  case KN_OP_SUM_TO: reduce(l, x, y, 0, 1.0, ys); return true;
  case KN_OP_LINEAR_GRAD_INPUT: { /* dx[N,F] = dy[N,O] * w[O,F] */
    int64_t o = xs.d[1], f = kn_shape_numel(ys) / ys.d[0];
    gemm(l, ys.d[0], f, o, o, 1, f, 1, x, in(l, 1), -1, y);
    return true;
  }
  case KN_OP_LINEAR_GRAD_WEIGHT: { /* dw[O,F] = dy[N,O]^T * x[N,F] */
    int64_t o = xs.d[1], f = ys.d[1];
    gemm(l, o, f, xs.d[0], 1, o, f, 1, x, in(l, 1), -1, y);
    return true;
  }
  case KN_OP_NLL_LOSS_GRAD: {
    kn_ptx_call *c = call(l, "kn_gk_nll_loss_grad", kn_shape_numel(ys));
    I(c, ys.d[0], ys.d[1]);
    P(c, x, in(l, 1), y);
    return true;
  }
  case KN_OP_SGD_UPDATE:
  case KN_OP_ADAM_UPDATE:
  case KN_OP_BN_RUNNING_UPDATE: return updates(l, d);
  case KN_OP_COUNT: break;
  }
  KN_ASSERT(!"unknown op");
  return false;
}

static bool lower_one(const kn_graph *g, int node, kn_ptx_program *prog, kn_diag *d) {
  kn_lowering l = {g, &g->nodes[node], prog, 0};
  return lower_node(&l, d);
}

/* Kernel by kernel (kn_kernels_build order, which is node order since groups are contiguous): a
 * multi-node group goes through ptx_fuse.c, a lone node gets its usual launches. */
bool kn_ptx_lower_graph_ex(const kn_graph *g, const kn_ptx_options *o, kn_ptx_program *prog, kn_diag *d) {
  if (o && o->no_fuse) {
    for (int k = 0; k < g->n_nodes; k++)
      if (!g->nodes[k].dead && !lower_one(g, k, prog, d)) return false;
    return true;
  }
  kn_kernel_list kl;
  kn_kernels_build(g, &kl);
  bool ok = true;
  for (int k = 0; ok && k < kl.n; k++) {
    const kn_kernel *K = &kl.k[k];
    ok = K->n_nodes > 1 ? kn_ptx_fuse_group(g, K->nodes, K->n_nodes, prog, lower_one, d)
                        : lower_one(g, K->nodes[0], prog, d);
  }
  kn_kernels_free(&kl);
  return ok;
}

bool kn_ptx_lower_graph(const kn_graph *g, kn_ptx_program *prog, kn_diag *d) {
  return kn_ptx_lower_graph_ex(g, NULL, prog, d);
}

void kn_ptx_program_dispose(kn_ptx_program *prog) {
  if (!prog) return;
  free(prog->calls);
  free(prog->ptx);
  free(prog);
}
