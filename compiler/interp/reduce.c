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

/* x[N,C,H,W] -> y[N,C,1,1] */
void kn_k_global_avgpool(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t P = s.d[0] * s.d[1], HW = s.d[2] * s.d[3];
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  for (int64_t p = 0; p < P; p++) {
    double sum = 0.0;
    for (int64_t i = 0; i < HW; i++) sum += x[p * HW + i];
    y[p] = (float)(sum / (double)HW);
  }
}

/* dy[N,C,1,1] -> dx (SHAPE) */
void kn_k_global_avgpool_grad(const kn_kargs *a) {
  kn_shape s = kn_k_oshape(a, 0);
  int64_t P = s.d[0] * s.d[1], HW = s.d[2] * s.d[3];
  const float *dy = kn_k_in(a, 0);
  float *dx = kn_k_out(a, 0);
  for (int64_t p = 0; p < P; p++)
    for (int64_t i = 0; i < HW; i++) dx[p * HW + i] = (float)(dy[p] / (double)HW);
}

void kn_k_global_maxpool(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t P = s.d[0] * s.d[1], HW = s.d[2] * s.d[3];
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  for (int64_t p = 0; p < P; p++) y[p] = x[p * HW + argmax(x + p * HW, HW, 1)];
}

/* dy[N,C,1,1], x -> dx */
void kn_k_global_maxpool_grad(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 1);
  int64_t P = s.d[0] * s.d[1], HW = s.d[2] * s.d[3];
  const float *dy = kn_k_in(a, 0), *x = kn_k_in(a, 1);
  float *dx = kn_k_out(a, 0);
  for (int64_t p = 0; p < P; p++) {
    int64_t at = argmax(x + p * HW, HW, 1);
    for (int64_t i = 0; i < HW; i++) dx[p * HW + i] = i == at ? dy[p] : 0.0f;
  }
}

/* x[N,C,H,W] -> y[N,1,H,W] */
void kn_k_channel_mean(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t N = s.d[0], C = s.d[1], HW = s.d[2] * s.d[3];
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < HW; i++) {
      double sum = 0.0;
      for (int64_t c = 0; c < C; c++) sum += x[(n * C + c) * HW + i];
      y[n * HW + i] = (float)(sum / (double)C);
    }
}

/* dy[N,1,H,W] -> dx (SHAPE) */
void kn_k_channel_mean_grad(const kn_kargs *a) {
  kn_shape s = kn_k_oshape(a, 0);
  int64_t N = s.d[0], C = s.d[1], HW = s.d[2] * s.d[3];
  const float *dy = kn_k_in(a, 0);
  float *dx = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < HW; i++) dx[(n * C + c) * HW + i] = (float)(dy[n * HW + i] / (double)C);
}

void kn_k_channel_max(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t N = s.d[0], C = s.d[1], HW = s.d[2] * s.d[3];
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < HW; i++) {
      const float *col = x + n * C * HW + i;
      y[n * HW + i] = col[argmax(col, C, HW) * HW];
    }
}

/* dy[N,1,H,W], x -> dx */
void kn_k_channel_max_grad(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 1);
  int64_t N = s.d[0], C = s.d[1], HW = s.d[2] * s.d[3];
  const float *dy = kn_k_in(a, 0), *x = kn_k_in(a, 1);
  float *dx = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < HW; i++) {
      int64_t at = argmax(x + n * C * HW + i, C, HW);
      for (int64_t c = 0; c < C; c++) dx[(n * C + c) * HW + i] = c == at ? dy[n * HW + i] : 0.0f;
    }
}

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
