/* pool.c — reference windowed pooling over [N,C,H,W] (PyTorch's MaxPool2d / AvgPool2d with
 * ceil_mode=False) and their gradients.
 *   max: padding counts as -inf; the gradient goes to the first maximum of each window in
 *        row-major order (as PyTorch's index), and NaN wins like in PyTorch.
 *   avg: count_include_pad=True, so every window divides by kh*kw.
 * Each is described once by its taps (taps.c; max's taps depend on x), which give both the
 * forward and the gradient.
 */
#include <math.h>

#include "kernels.h"

/* Index (into one H*W plane) of the first maximum of window (oh, ow), -1 when it is all padding. */
static int64_t window_argmax(const float *plane, int64_t H, int64_t W, kn_win k, int64_t oh, int64_t ow) {
  int64_t best_at = -1;
  float best = -INFINITY;
  for (int64_t i = 0; i < k.kh; i++) {
    int64_t ih = oh * k.sh - k.ph + i;
    if (ih < 0 || ih >= H) continue;
    for (int64_t j = 0; j < k.kw; j++) {
      int64_t iw = ow * k.sw - k.pw + j;
      if (iw < 0 || iw >= W) continue;
      float v = plane[ih * W + iw];
      if (best_at < 0 || v > best || isnan(v)) {
        best = v;
        best_at = ih * W + iw;
      }
    }
  }
  return best_at;
}

/* The taps of a max pool: each output reads the first maximum of its window with weight 1.
 * x is input 0 for the forward, input 1 (after dy) for the gradient. */
static void maxpool_taps(const kn_kargs *a, kn_tap_fn tap, void *ctx) {
  bool grad = a->n->op == KN_OP_MAXPOOL2D_GRAD;
  kn_shape xs = kn_k_ishape(a, grad ? 1 : 0), ys = grad ? kn_k_ishape(a, 0) : kn_k_oshape(a, 0);
  int64_t P = xs.d[0] * xs.d[1], H = xs.d[2], W = xs.d[3], Ho = ys.d[2], Wo = ys.d[3];
  const float *x = kn_k_in(a, grad ? 1 : 0);
  kn_win k = kn_k_window(a->n, false);
  for (int64_t p = 0; p < P; p++)
    for (int64_t oh = 0; oh < Ho; oh++)
      for (int64_t ow = 0; ow < Wo; ow++) {
        int64_t at = window_argmax(x + p * H * W, H, W, k, oh, ow);
        if (at >= 0) tap(ctx, (p * Ho + oh) * Wo + ow, p * H * W + at, 1.0);
      }
}

void kn_k_maxpool2d(const kn_kargs *a) { kn_k_run_taps(a, maxpool_taps, false); }

/* in: dy[N,C,Ho,Wo], x[N,C,H,W] -> dx[N,C,H,W] */
void kn_k_maxpool2d_grad(const kn_kargs *a) { kn_k_run_taps(a, maxpool_taps, true); }

/* The taps of an average pool: each output reads its in-range window with weight 1/(kh*kw).
 * The [N,C,H,W] input is input 0's for the forward, output 0's for the gradient. */
static void avgpool_taps(const kn_kargs *a, kn_tap_fn tap, void *ctx) {
  bool grad = a->n->op == KN_OP_AVGPOOL2D_GRAD;
  kn_shape xs = grad ? kn_k_oshape(a, 0) : kn_k_ishape(a, 0), ys = grad ? kn_k_ishape(a, 0) : kn_k_oshape(a, 0);
  int64_t P = xs.d[0] * xs.d[1], H = xs.d[2], W = xs.d[3], Ho = ys.d[2], Wo = ys.d[3];
  kn_win k = kn_k_window(a->n, false);
  double wgt = 1.0 / (double)(k.kh * k.kw);
  for (int64_t p = 0; p < P; p++)
    for (int64_t oh = 0; oh < Ho; oh++)
      for (int64_t ow = 0; ow < Wo; ow++)
        for (int64_t i = 0; i < k.kh; i++) {
          int64_t ih = oh * k.sh - k.ph + i;
          if (ih < 0 || ih >= H) continue;
          for (int64_t j = 0; j < k.kw; j++) {
            int64_t iw = ow * k.sw - k.pw + j;
            if (iw >= 0 && iw < W) tap(ctx, (p * Ho + oh) * Wo + ow, (p * H + ih) * W + iw, wgt);
          }
        }
}

void kn_k_avgpool2d(const kn_kargs *a) { kn_k_run_taps(a, avgpool_taps, false); }

/* in: dy[N,C,Ho,Wo] -> dx (shape attr SHAPE) */
void kn_k_avgpool2d_grad(const kn_kargs *a) { kn_k_run_taps(a, avgpool_taps, true); }
