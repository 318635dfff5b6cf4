/* norm.c — reference batch normalisation over [N,C,H,W] (PyTorch's BatchNorm2d) and its gradient.
 *
 * Training mode (TRAINING=1): y = (x - mean) / sqrt(var + eps) * gamma + beta with the batch mean
 * and the biased batch variance, which are also returned (outputs 1 and 2) for the backward pass and
 * for bn_running_update. The running statistics are not touched here.
 * Eval mode (TRAINING=0): the same with running_mean / running_var.
 */
#include <math.h>

#include "kernels.h"

/* in: x, gamma[C], beta[C], running_mean[C], running_var[C] -> y, (mean[C], var[C]) */
void kn_k_batchnorm2d(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 0);
  int64_t N = s.d[0], C = s.d[1], HW = s.d[2] * s.d[3], M = N * HW;
  const float *x = kn_k_in(a, 0), *gamma = kn_k_in(a, 1), *beta = kn_k_in(a, 2);
  const float *rmean = kn_k_in(a, 3), *rvar = kn_k_in(a, 4);
  float *y = kn_k_out(a, 0);
  bool training = kn_node_int(a->n, KN_ATTR_TRAINING) != 0;
  double eps = kn_node_float(a->n, KN_ATTR_EPS);
  for (int64_t c = 0; c < C; c++) {
    double mean, var;
    if (training) {
      double sum = 0.0, sq = 0.0;
      for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < HW; i++) sum += x[(n * C + c) * HW + i];
      mean = sum / (double)M;
      for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < HW; i++) {
          double d = x[(n * C + c) * HW + i] - mean;
          sq += d * d;
        }
      var = sq / (double)M;
      if (a->n->n_out >= 3) {
        kn_k_out(a, 1)[c] = (float)mean;
        kn_k_out(a, 2)[c] = (float)var;
      }
    } else {
      mean = rmean[c];
      var = rvar[c];
    }
    double scale = gamma[c] / sqrt(var + eps);
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < HW; i++) {
        int64_t at = (n * C + c) * HW + i;
        y[at] = (float)((x[at] - mean) * scale + beta[c]);
      }
  }
}

/* in: dy, x, gamma, mean, var -> dx, dgamma, dbeta.
 * Training: mean/var are the batch statistics of x, so dx carries their dependence on x:
 *   dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat)).
 * Eval: mean/var are the running statistics (constants): dx = dy * gamma / sqrt(var + eps). */
void kn_k_batchnorm2d_grad(const kn_kargs *a) {
  kn_shape s = kn_k_ishape(a, 1);
  int64_t N = s.d[0], C = s.d[1], HW = s.d[2] * s.d[3], M = N * HW;
  const float *dy = kn_k_in(a, 0), *x = kn_k_in(a, 1), *gamma = kn_k_in(a, 2);
  const float *mean = kn_k_in(a, 3), *var = kn_k_in(a, 4);
  float *dx = kn_k_out(a, 0), *dgamma = kn_k_out(a, 1), *dbeta = kn_k_out(a, 2);
  bool training = kn_node_int(a->n, KN_ATTR_TRAINING) != 0;
  double eps = kn_node_float(a->n, KN_ATTR_EPS);
  for (int64_t c = 0; c < C; c++) {
    double istd = 1.0 / sqrt((double)var[c] + eps), sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < HW; i++) {
        int64_t at = (n * C + c) * HW + i;
        sum_dy += dy[at];
        sum_dy_xhat += dy[at] * (x[at] - mean[c]) * istd;
      }
    dbeta[c] = (float)sum_dy;
    dgamma[c] = (float)sum_dy_xhat;
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < HW; i++) {
        int64_t at = (n * C + c) * HW + i;
        double g = dy[at];
        if (training) {
          double xhat = (x[at] - mean[c]) * istd;
          g = g - sum_dy / (double)M - xhat * sum_dy_xhat / (double)M;
        }
        dx[at] = (float)(g * gamma[c] * istd);
      }
  }
}
