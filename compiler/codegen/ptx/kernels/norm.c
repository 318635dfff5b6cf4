/* norm.c — GPU kernels for batchnorm2d: batch statistics, normalisation, backward and the
 * running-statistics update. Geometry i = {N, C, HW} on x [N,C,H,W]; M = N*HW per channel. */
#include "kn_gpu.h"

/* batch mean and biased variance per channel (two passes): p = {x, mean, var}; warp per channel */
void kn_gk_bn_stats(const long *i, const float *f, void *const *p) {
  long N = i[0], C = i[1], HW = i[2], M = N * HW;
  const float *x = p[0];
  float *mean = p[1], *var = p[2];
  kn_for_warp(c, C) {
    float s = 0.f;
    for (long r = kn_lane(); r < M; r += 32) s += x[((r / HW) * C + c) * HW + r % HW];
    float mu = kn_warp_sum(s) / (float)M;
    float q = 0.f;
    for (long r = kn_lane(); r < M; r += 32) {
      float d = x[((r / HW) * C + c) * HW + r % HW] - mu;
      q += d * d;
    }
    q = kn_warp_sum(q);
    if (kn_lane() == 0) {
      mean[c] = mu;
      var[c] = q / (float)M;
    }
  }
}

/* y = (x - mean) / sqrt(var + eps) * gamma + beta: f = {eps};
 * p = {x, gamma, beta, mean, var, y}; thread per element */
void kn_gk_bn_apply(const long *i, const float *f, void *const *p) {
  long N = i[0], C = i[1], HW = i[2];
  const float *x = p[0], *gamma = p[1], *beta = p[2], *mean = p[3], *var = p[4];
  float *y = p[5];
  kn_for(k, N * C * HW) {
    long c = (k / HW) % C;
    float inv = 1.f / kn_sqrt(var[c] + f[0]);
    y[k] = (x[k] - mean[c]) * inv * gamma[c] + beta[c];
  }
}

/* dgamma = sum dy * xhat, dbeta = sum dy: f = {eps};
 * p = {dy, x, mean, var, dgamma, dbeta}; warp per channel */
void kn_gk_bn_grad_reduce(const long *i, const float *f, void *const *p) {
  long N = i[0], C = i[1], HW = i[2], M = N * HW;
  const float *dy = p[0], *x = p[1], *mean = p[2], *var = p[3];
  float *dgamma = p[4], *dbeta = p[5];
  kn_for_warp(c, C) {
    float inv = 1.f / kn_sqrt(var[c] + f[0]), mu = mean[c], sg = 0.f, sb = 0.f;
    for (long r = kn_lane(); r < M; r += 32) {
      long k = ((r / HW) * C + c) * HW + r % HW;
      sb += dy[k];
      sg += dy[k] * (x[k] - mu) * inv;
    }
    sg = kn_warp_sum(sg);
    sb = kn_warp_sum(sb);
    if (kn_lane() == 0) {
      dgamma[c] = sg;
      dbeta[c] = sb;
    }
  }
}

/* dx: training (batch statistics) dx = gamma*inv*(dy - dbeta/M - xhat*dgamma/M), else gamma*inv*dy.
 * i = {N, C, HW, training}; f = {eps}; p = {dy, x, gamma, mean, var, dgamma, dbeta, dx} */
void kn_gk_bn_grad_input(const long *i, const float *f, void *const *p) {
  long N = i[0], C = i[1], HW = i[2];
  float M = (float)(N * HW);
  const float *dy = p[0], *x = p[1], *gamma = p[2], *mean = p[3], *var = p[4], *dgamma = p[5],
              *dbeta = p[6];
  float *dx = p[7];
  kn_for(k, N * C * HW) {
    long c = (k / HW) % C;
    float inv = 1.f / kn_sqrt(var[c] + f[0]);
    if (i[3]) {
      float xhat = (x[k] - mean[c]) * inv;
      dx[k] = gamma[c] * inv * (dy[k] - dbeta[c] / M - xhat * dgamma[c] / M);
    } else {
      dx[k] = gamma[c] * inv * dy[k];
    }
  }
}

/* running stats (PyTorch: the running variance takes the unbiased batch variance):
 * i = {C, count}; f = {momentum}; p = {running_mean, running_var, batch_mean, batch_var} */
void kn_gk_bn_running(const long *i, const float *f, void *const *p) {
  float *rm = p[0], *rv = p[1];
  const float *bm = p[2], *bv = p[3];
  float m = f[0], unbias = i[1] > 1 ? (float)i[1] / (float)(i[1] - 1) : 1.f;
  kn_for(c, i[0]) {
    rm[c] = (1.f - m) * rm[c] + m * bm[c];
    rv[c] = (1.f - m) * rv[c] + m * bv[c] * unbias;
  }
}
