/* reduce.c — reference reductions and their gradients: global average/max pooling over H*W,
 * channel mean/max over C (CBAM's spatial attention), bias_grad (sum over every dim but 1) and
 * sum_to (sum over the dims where the target shape is 1, the gradient of a broadcast).
 * Max reductions route the gradient to the first maximum (PyTorch's index); NaN wins. */
#include <math.h>
#include <stdlib.h>

#include "../support/util.h"
#include "kernels.h"

/* Index of the first maximum of n values spaced by `stride`. */
static int64_t argmax(const float *x, int64_t n, int64_t stride) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++) {
    float v = x[i * stride];
    if (isnan(x[best * stride])) break;
    if (v > x[best * stride] || isnan(v)) best = i;
  }
  return best;
}

/* The taps of the global pools (reduce H*W of each plane, output [N,C,1,1]) and of the channel
 * reductions (reduce C at each pixel, output [N,1,H,W]): mean reads every element with weight
 * 1/count, max reads the first maximum with weight 1. The x of the forward is input 0 of the
 * forward op, input 1 of a max gradient (after dy); a mean gradient has only the shape (output 0). */
static void reduce_taps(const kn_kargs *a, kn_tap_fn tap, void *ctx) {
  kn_op op = a->n->op;
  bool grad = op == KN_OP_GLOBAL_AVGPOOL_GRAD || op == KN_OP_GLOBAL_MAXPOOL_GRAD || op == KN_OP_CHANNEL_MEAN_GRAD ||
              op == KN_OP_CHANNEL_MAX_GRAD;
  bool max = op == KN_OP_GLOBAL_MAXPOOL || op == KN_OP_GLOBAL_MAXPOOL_GRAD || op == KN_OP_CHANNEL_MAX ||
             op == KN_OP_CHANNEL_MAX_GRAD;
  bool spatial = op == KN_OP_GLOBAL_AVGPOOL || op == KN_OP_GLOBAL_AVGPOOL_GRAD || op == KN_OP_GLOBAL_MAXPOOL ||
                 op == KN_OP_GLOBAL_MAXPOOL_GRAD;
  kn_shape xs = !grad ? kn_k_ishape(a, 0) : max ? kn_k_ishape(a, 1) : kn_k_oshape(a, 0);
  const float *x = max ? kn_k_in(a, grad ? 1 : 0) : NULL;
  int64_t N = xs.d[0], C = xs.d[1], HW = xs.d[2] * xs.d[3];
  /* Reduce `count` elements spaced by `stride`; `outer` groups of `inner` reductions each. */
  int64_t outer = spatial ? N * C : N, inner = spatial ? 1 : HW, count = spatial ? HW : C, stride = spatial ? 1 : HW;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t out_at = o * inner + i, base = o * count * inner + i;
      if (max) tap(ctx, out_at, base + argmax(x + base, count, stride) * stride, 1.0);
      else
        for (int64_t k = 0; k < count; k++) tap(ctx, out_at, base + k * stride, 1.0 / (double)count);
    }
}

/* x[N,C,H,W] -> y[N,C,1,1] */
void kn_k_global_avgpool(const kn_kargs *a) { kn_k_run_taps(a, reduce_taps, false); }
void kn_k_global_maxpool(const kn_kargs *a) { kn_k_run_taps(a, reduce_taps, false); }
/* x[N,C,H,W] -> y[N,1,H,W] */
void kn_k_channel_mean(const kn_kargs *a) { kn_k_run_taps(a, reduce_taps, false); }
void kn_k_channel_max(const kn_kargs *a) { kn_k_run_taps(a, reduce_taps, false); }
/* dy -> dx (SHAPE) for means; dy, x -> dx for maxima */
void kn_k_global_avgpool_grad(const kn_kargs *a) { kn_k_run_taps(a, reduce_taps, true); }
void kn_k_global_maxpool_grad(const kn_kargs *a) { kn_k_run_taps(a, reduce_taps, true); }
void kn_k_channel_mean_grad(const kn_kargs *a) { kn_k_run_taps(a, reduce_taps, true); }
void kn_k_channel_max_grad(const kn_kargs *a) { kn_k_run_taps(a, reduce_taps, true); }

/* dy[N,C,...] -> db[C]: sum over every dimension but 1. */
void kn_k_bias_grad(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t N = s.d[0], C = kn_k_dim(s, 1), R = kn_shape_numel(s) / (N * C);
  const float *dy = kn_k_in(a, 0);
  float *db = kn_k_out(a, 0);
  for (int64_t c = 0; c < C; c++) {
    double sum = 0.0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t r = 0; r < R; r++) sum += dy[(n * C + c) * R + r];
    db[c] = (float)sum;
  }
}

/* x (any rank) -> y (same rank, each dim equal to x's or 1): sums the dims where y has 1. */
void kn_k_sum_to(const kn_kargs *a) {
  kn_shape xs = kn_k_ishape(a, 0), ys = kn_k_oshape(a, 0);
  KN_ASSERT(xs.rank == ys.rank);
  int64_t nx = kn_shape_numel(xs), ny = kn_shape_numel(ys);
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  double *acc = kn_xcalloc((size_t)(ny > 0 ? ny : 1), sizeof *acc);
  for (int64_t i = 0; i < nx; i++) {
    int64_t rest = i, at = 0, mul = 1;
    for (int d = xs.rank - 1; d >= 0; d--) {
      int64_t idx = rest % xs.d[d];
      rest /= xs.d[d];
      if (ys.d[d] != 1) at += idx * mul;
      mul *= ys.d[d];
    }
    acc[at] += x[i];
  }
  for (int64_t i = 0; i < ny; i++) y[i] = (float)acc[i];
  free(acc);
}
