/* loss.c — reference log_softmax over dim 1 of [N,K], softmax over dim 1 of [N,K] or [N,C,H,W], the negative log-likelihood loss (mean over
 * the batch, int32 labels in [0, K)) and their gradients. */
#include <math.h>

#include "kernels.h"

void kn_k_log_softmax(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t N = s.d[0], K = s.d[1];
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++) {
    const float *row = x + n * K;
    double mx = row[0], sum = 0.0;
    for (int64_t k = 1; k < K; k++)
      if (row[k] > mx) mx = row[k];
    for (int64_t k = 0; k < K; k++) sum += exp(row[k] - mx);
    double lse = mx + log(sum);
    for (int64_t k = 0; k < K; k++) y[n * K + k] = (float)(row[k] - lse);
  }
}

/* in: dy, y (the log-probabilities) -> dx = dy - exp(y) * sum_k dy */
void kn_k_log_softmax_grad(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t N = s.d[0], K = s.d[1];
  const float *dy = kn_k_in(a, 0), *y = kn_k_in(a, 1);
  float *dx = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++) {
    double sum = 0.0;
    for (int64_t k = 0; k < K; k++) sum += dy[n * K + k];
    for (int64_t k = 0; k < K; k++) dx[n * K + k] = (float)(dy[n * K + k] - exp((double)y[n * K + k]) * sum);
  }
}

/* softmax over dim 1 of [N, C, (H, W)]: for each (n, h, w) the C values at stride H*W. */
static void softmax_dims(kn_shape s, int64_t *N, int64_t *C, int64_t *inner) {
  *N = s.d[0], *C = s.d[1];
  *inner = s.rank == 4 ? s.d[2] * s.d[3] : 1;
}

void kn_k_softmax(const kn_kargs *a) {
  int64_t N, C, in;
  softmax_dims(kn_k_ishape(a, 0), &N, &C, &in);
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < in; i++) {
      const float *xc = x + n * C * in + i;
      double mx = xc[0], sum = 0.0;
      for (int64_t c = 1; c < C; c++)
        if (xc[c * in] > mx) mx = xc[c * in];
      for (int64_t c = 0; c < C; c++) sum += exp(xc[c * in] - mx);
      for (int64_t c = 0; c < C; c++) y[n * C * in + c * in + i] = (float)(exp(xc[c * in] - mx) / sum);
    }
}

/* in: dy, y -> dx = y * (dy - sum_c dy * y) */
void kn_k_softmax_grad(const kn_kargs *a) {
  int64_t N, C, in;
  softmax_dims(kn_k_ishape(a, 0), &N, &C, &in);
  const float *dy = kn_k_in(a, 0), *y = kn_k_in(a, 1);
  float *dx = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < in; i++) {
      int64_t o = n * C * in + i;
      double dot = 0.0;
      for (int64_t c = 0; c < C; c++) dot += (double)dy[o + c * in] * y[o + c * in];
      for (int64_t c = 0; c < C; c++) dx[o + c * in] = (float)(y[o + c * in] * (dy[o + c * in] - dot));
    }
}

/* in: logp[N,K], labels[N] (i32) -> loss[1] = -mean_n logp[n, labels[n]] */
void kn_k_nll_loss(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t N = s.d[0], K = s.d[1];
  const float *logp = kn_k_in(a, 0);
  const int32_t *labels = (const int32_t *)a->in[1];
  double sum = 0.0;
  for (int64_t n = 0; n < N; n++) {
    KN_ASSERT(labels[n] >= 0 && labels[n] < K);
    sum += logp[n * K + labels[n]];
  }
  kn_k_out(a, 0)[0] = (float)(-sum / (double)N);
}

/* in: dloss[1], labels[N] -> dlogp[N,K] (SHAPE): -dloss/N at each label, 0 elsewhere */
void kn_k_nll_loss_grad(const kn_kargs *a) {
  kn_shape s = kn_k_oshape(a, 0);
  int64_t N = s.d[0], K = s.d[1];
  double g = -(double)kn_k_in(a, 0)[0] / (double)N;
  const int32_t *labels = (const int32_t *)a->in[1];
  float *dx = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++) {
    KN_ASSERT(labels[n] >= 0 && labels[n] < K);
    for (int64_t k = 0; k < K; k++) dx[n * K + k] = k == labels[n] ? (float)g : 0.0f;
  }
}
