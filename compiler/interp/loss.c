/* loss.c — reference log_softmax over dim 1 of [N,K], the negative log-likelihood loss (mean over
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
