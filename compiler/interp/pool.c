/* pool.c — reference windowed pooling over [N,C,H,W] (PyTorch's MaxPool2d / AvgPool2d with
 * ceil_mode=False) and their gradients.
 *   max: padding counts as -inf; the gradient goes to the first maximum of each window in
 *        row-major order (as PyTorch's index), and NaN wins like in PyTorch.
 *   avg: count_include_pad=True, so every window divides by kh*kw.
 */
#include <math.h>
#include <stdlib.h>

#include "../support/util.h"
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

void kn_k_maxpool2d(const kn_kargs *a) {
  kn_shape xs = kn_k_ishape(a, 0), ys = kn_k_oshape(a, 0);
  int64_t P = xs.d[0] * xs.d[1], H = xs.d[2], W = xs.d[3], Ho = ys.d[2], Wo = ys.d[3];
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  kn_win k = kn_k_window(a->n, false);
  for (int64_t p = 0; p < P; p++)
    for (int64_t oh = 0; oh < Ho; oh++)
      for (int64_t ow = 0; ow < Wo; ow++) {
        int64_t at = window_argmax(x + p * H * W, H, W, k, oh, ow);
        y[(p * Ho + oh) * Wo + ow] = at < 0 ? -INFINITY : x[p * H * W + at];
      }
}

/* in: dy[N,C,Ho,Wo], x[N,C,H,W] -> dx[N,C,H,W] */
void kn_k_maxpool2d_grad(const kn_kargs *a) {
  kn_shape ys = kn_k_ishape(a, 0), xs = kn_k_ishape(a, 1);
  int64_t P = xs.d[0] * xs.d[1], H = xs.d[2], W = xs.d[3], Ho = ys.d[2], Wo = ys.d[3];
  const float *dy = kn_k_in(a, 0), *x = kn_k_in(a, 1);
  float *dx = kn_k_out(a, 0);
  kn_win k = kn_k_window(a->n, false);
  double *acc = kn_xcalloc((size_t)(P * H * W), sizeof *acc);
  for (int64_t p = 0; p < P; p++)
    for (int64_t oh = 0; oh < Ho; oh++)
      for (int64_t ow = 0; ow < Wo; ow++) {
        int64_t at = window_argmax(x + p * H * W, H, W, k, oh, ow);
        if (at >= 0) acc[p * H * W + at] += dy[(p * Ho + oh) * Wo + ow];
      }
  for (int64_t i = 0; i < P * H * W; i++) dx[i] = (float)acc[i];
  free(acc);
}

void kn_k_avgpool2d(const kn_kargs *a) {
  kn_shape xs = kn_k_ishape(a, 0), ys = kn_k_oshape(a, 0);
  int64_t P = xs.d[0] * xs.d[1], H = xs.d[2], W = xs.d[3], Ho = ys.d[2], Wo = ys.d[3];
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  kn_win k = kn_k_window(a->n, false);
  for (int64_t p = 0; p < P; p++)
    for (int64_t oh = 0; oh < Ho; oh++)
      for (int64_t ow = 0; ow < Wo; ow++) {
        double sum = 0.0;
        for (int64_t i = 0; i < k.kh; i++) {
          int64_t ih = oh * k.sh - k.ph + i;
          if (ih < 0 || ih >= H) continue;
          for (int64_t j = 0; j < k.kw; j++) {
            int64_t iw = ow * k.sw - k.pw + j;
            if (iw >= 0 && iw < W) sum += x[(p * H + ih) * W + iw];
          }
        }
        y[(p * Ho + oh) * Wo + ow] = (float)(sum / (double)(k.kh * k.kw));
      }
}

/* in: dy[N,C,Ho,Wo] -> dx (shape attr SHAPE) */
void kn_k_avgpool2d_grad(const kn_kargs *a) {
  kn_shape ys = kn_k_ishape(a, 0), xs = kn_k_oshape(a, 0);
  int64_t P = xs.d[0] * xs.d[1], H = xs.d[2], W = xs.d[3], Ho = ys.d[2], Wo = ys.d[3];
  const float *dy = kn_k_in(a, 0);
  float *dx = kn_k_out(a, 0);
  kn_win k = kn_k_window(a->n, false);
  double *acc = kn_xcalloc((size_t)(P * H * W), sizeof *acc);
  for (int64_t p = 0; p < P; p++)
    for (int64_t oh = 0; oh < Ho; oh++)
      for (int64_t ow = 0; ow < Wo; ow++) {
        double g = dy[(p * Ho + oh) * Wo + ow] / (double)(k.kh * k.kw);
        for (int64_t i = 0; i < k.kh; i++) {
          int64_t ih = oh * k.sh - k.ph + i;
          if (ih < 0 || ih >= H) continue;
          for (int64_t j = 0; j < k.kw; j++) {
            int64_t iw = ow * k.sw - k.pw + j;
            if (iw >= 0 && iw < W) acc[(p * H + ih) * W + iw] += g;
          }
        }
      }
  for (int64_t i = 0; i < P * H * W; i++) dx[i] = (float)acc[i];
  free(acc);
}
