/* loss.c — GPU kernels for log_softmax and the NLL loss, forward and backward (rows are [N, K]),
 * and softmax over dim 1 of [N, C, (H, W)]. */
#include "kn_gpu.h"

/* log_softmax: i = {N, K}; p = {x, y}; warp per row */
void kn_gk_log_softmax(const long *i, const float *f, void *const *p) {
  long K = i[1];
  const float *x = p[0];
  float *y = p[1];
  kn_for_warp(n, i[0]) {
    const float *xr = x + n * K;
    float m = -KN_INF, s = 0.f;
    for (long k = kn_lane(); k < K; k += 32) m = xr[k] > m ? xr[k] : m;
    m = kn_warp_max(m);
    for (long k = kn_lane(); k < K; k += 32) s += kn_exp(xr[k] - m);
    float lse = m + kn_log(kn_warp_sum(s));
    for (long k = kn_lane(); k < K; k += 32) y[n * K + k] = xr[k] - lse;
  }
}

/* log_softmax_grad: dx = dy - exp(y) * sum(dy). i = {N, K}; p = {dy, y, dx}; warp per row */
void kn_gk_log_softmax_grad(const long *i, const float *f, void *const *p) {
  long K = i[1];
  const float *dy = p[0], *y = p[1];
  float *dx = p[2];
  kn_for_warp(n, i[0]) {
    float s = 0.f;
    for (long k = kn_lane(); k < K; k += 32) s += dy[n * K + k];
    s = kn_warp_sum(s);
    for (long k = kn_lane(); k < K; k += 32) dx[n * K + k] = dy[n * K + k] - kn_exp(y[n * K + k]) * s;
  }
}

/* softmax over dim 1 of [N, C, inner]: i = {N, C, inner}; p = {x, y}; thread per column (n, inner) */
void kn_gk_softmax(const long *i, const float *f, void *const *p) {
  long C = i[1], in = i[2];
  const float *x = p[0];
  float *y = p[1];
  kn_for(j, i[0] * in) {
    long o = (j / in) * C * in + j % in;
    float m = x[o], s = 0.f;
    for (long c = 1; c < C; c++) m = x[o + c * in] > m ? x[o + c * in] : m;
    for (long c = 0; c < C; c++) s += kn_exp(x[o + c * in] - m);
    float r = 1.f / s;
    for (long c = 0; c < C; c++) y[o + c * in] = kn_exp(x[o + c * in] - m) * r;
  }
}

/* softmax_grad: dx = y * (dy - sum_c dy * y). i = {N, C, inner}; p = {dy, y, dx}; thread per column */
void kn_gk_softmax_grad(const long *i, const float *f, void *const *p) {
  long C = i[1], in = i[2];
  const float *dy = p[0], *y = p[1];
  float *dx = p[2];
  kn_for(j, i[0] * in) {
    long o = (j / in) * C * in + j % in;
    float s = 0.f;
    for (long c = 0; c < C; c++) s += dy[o + c * in] * y[o + c * in];
    for (long c = 0; c < C; c++) dx[o + c * in] = y[o + c * in] * (dy[o + c * in] - s);
  }
}

/* mean NLL: loss = -1/N sum_n logp[n, label[n]]; labels outside [0, K) count as 0.
 * i = {N, K}; p = {logp, labels (int32), loss[1]}; one warp */
void kn_gk_nll_loss(const long *i, const float *f, void *const *p) {
  long N = i[0], K = i[1];
  const float *logp = p[0];
  const int *labels = p[1];
  float *loss = p[2];
  kn_for_warp(o, 1) {
    float s = 0.f;
    for (long n = kn_lane(); n < N; n += 32) {
      int l = labels[n];
      if (l >= 0 && l < K) s -= logp[n * K + l];
    }
    s = kn_warp_sum(s);
    if (kn_lane() == 0) loss[o] = s / (float)N;
  }
}

/* nll_loss_grad: dx[n, k] = -dloss / N where k is the label, else 0.
 * i = {N, K}; p = {dloss[1], labels (int32), dx} */
void kn_gk_nll_loss_grad(const long *i, const float *f, void *const *p) {
  long N = i[0], K = i[1];
  const float *dloss = p[0];
  const int *labels = p[1];
  float *dx = p[2];
  kn_for(e, N * K) dx[e] = labels[e / K] == (int)(e % K) ? -dloss[0] / (float)N : 0.f;
}
