/* loss.c — log_softmax over class scores [N, K], softmax over dim 1 of [N, C, (H, W)], NLL loss (mean over the batch) and their
 * gradients. Units of work: rows n (one item for the loss itself).
 */
#include <math.h>

#include "kn_kernels.h"

/* p: x[N,K], y[N,K]. */
void kn_k_log_softmax(void *const *p, int64_t b, int64_t e, int64_t N, int64_t K, int64_t items) {
  const float *x = p[0];
  float *y = p[1];
  int64_t lo, hi;
  kn_range(b, e, items, N, &lo, &hi);
  for (int64_t n = lo; n < hi; n++) {
    const float *xr = x + n * K;
    float m = xr[0];
    for (int64_t k = 1; k < K; k++) m = xr[k] > m ? xr[k] : m;
    double s = 0;
    for (int64_t k = 0; k < K; k++) s += exp((double)(xr[k] - m));
    float lse = m + (float)log(s);
    for (int64_t k = 0; k < K; k++) y[n * K + k] = xr[k] - lse;
  }
}

/* dx = dy - exp(y) * sum(dy). p: dy, y, dx. */
void kn_k_log_softmax_grad(void *const *p, int64_t b, int64_t e, int64_t N, int64_t K, int64_t items) {
  const float *dy = p[0], *y = p[1];
  float *dx = p[2];
  int64_t lo, hi;
  kn_range(b, e, items, N, &lo, &hi);
  for (int64_t n = lo; n < hi; n++) {
    double s = 0;
    for (int64_t k = 0; k < K; k++) s += dy[n * K + k];
    for (int64_t k = 0; k < K; k++) dx[n * K + k] = dy[n * K + k] - expf(y[n * K + k]) * (float)s;
  }
}

/* softmax over dim 1 of [N, C, inner]: units are the N * inner columns, C values at stride inner.
 * p: x, y. */
void kn_k_softmax(void *const *p, int64_t b, int64_t e, int64_t N, int64_t C, int64_t inner, int64_t items) {
  const float *x = p[0];
  float *y = p[1];
  int64_t lo, hi;
  kn_range(b, e, items, N * inner, &lo, &hi);
  for (int64_t j = lo; j < hi; j++) {
    int64_t o = (j / inner) * C * inner + j % inner;
    float m = x[o];
    for (int64_t c = 1; c < C; c++) m = x[o + c * inner] > m ? x[o + c * inner] : m;
    double s = 0;
    for (int64_t c = 0; c < C; c++) s += exp((double)(x[o + c * inner] - m));
    float r = (float)(1.0 / s);
    for (int64_t c = 0; c < C; c++) y[o + c * inner] = expf(x[o + c * inner] - m) * r;
  }
}

/* dx = y * (dy - sum_c dy * y). p: dy, y, dx. */
void kn_k_softmax_grad(void *const *p, int64_t b, int64_t e, int64_t N, int64_t C, int64_t inner, int64_t items) {
  const float *dy = p[0], *y = p[1];
  float *dx = p[2];
  int64_t lo, hi;
  kn_range(b, e, items, N * inner, &lo, &hi);
  for (int64_t j = lo; j < hi; j++) {
    int64_t o = (j / inner) * C * inner + j % inner;
    double s = 0;
    for (int64_t c = 0; c < C; c++) s += (double)dy[o + c * inner] * y[o + c * inner];
    for (int64_t c = 0; c < C; c++) dx[o + c * inner] = y[o + c * inner] * (dy[o + c * inner] - (float)s);
  }
}

/* loss = -mean_n logp[n, label_n]. p: logp[N,K], labels[N] (int32), loss[1]. */
void kn_k_nll_loss(void *const *p, int64_t b, int64_t e, int64_t N, int64_t K) {
  const float *lp = p[0];
  const int32_t *lab = p[1];
  float *loss = p[2];
  double s = 0;
  for (int64_t n = 0; n < N; n++) {
    int64_t l = lab[n];
    if (l >= 0 && l < K) s += lp[n * K + l];
  }
  loss[0] = (float)(-s / (double)N);
}

/* dx[n, k] = -dloss / N where k is the label, else 0. p: dloss[1], labels[N], dx[N,K]. */
void kn_k_nll_loss_grad(void *const *p, int64_t b, int64_t e, int64_t N, int64_t K) {
  const float *dl = p[0];
  const int32_t *lab = p[1];
  float *dx = p[2];
  float g = -dl[0] / (float)N;
  for (int64_t n = 0; n < N; n++)
    for (int64_t k = 0; k < K; k++) dx[n * K + k] = k == lab[n] ? g : 0.0f;
}
