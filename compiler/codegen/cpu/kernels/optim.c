/* optim.c — optimizer updates, in place, with PyTorch's semantics. The learning rate (and Adam's
 * step count) are read from run-time inputs; hyper-parameters are constants. Units: elements.
 */
#include <math.h>

#include "kn_kernels.h"

/* SGD: g = grad + wd * w; with momentum: buf = momentum * buf + (1 - dampening) * g, then
 * g = nesterov ? g + momentum * buf : buf; w -= lr * g. p: w, grad, lr[1], (buf). */
void kn_k_sgd_update(void *const *p, int64_t b, int64_t e, int64_t numel, double momentum, double dampening,
                     double wd, int64_t nesterov, int64_t has_buf, int64_t items) {
  float *w = p[0], *buf = has_buf ? p[3] : 0;
  const float *grad = p[1];
  float lr = *(const float *)p[2], mo = (float)momentum, dm = (float)(1.0 - dampening), fwd = (float)wd;
  int64_t lo, hi;
  kn_range(b, e, items, numel, &lo, &hi);
  KN_SIMD
  for (int64_t i = lo; i < hi; i++) {
    float g = grad[i] + fwd * w[i];
    if (has_buf) {
      float v = mo * buf[i] + dm * g;
      buf[i] = v;
      g = nesterov ? g + mo * v : v;
    }
    w[i] = w[i] - lr * g;
  }
}

/* Adam / AdamW. p: w, grad, lr[1], step[1], m, v. step is float (step_i32 = 0) or int32. */
void kn_k_adam_update(void *const *p, int64_t b, int64_t e, int64_t numel, double beta1, double beta2, double eps,
                      double wd, int64_t decoupled, int64_t step_i32, int64_t items) {
  float *w = p[0], *m = p[4], *v = p[5];
  const float *grad = p[1];
  float lr = *(const float *)p[2];
  double t = step_i32 ? (double)*(const int32_t *)p[3] : (double)*(const float *)p[3];
  float bc1 = (float)(1.0 - pow(beta1, t)), bc2s = (float)sqrt(1.0 - pow(beta2, t));
  float b1 = (float)beta1, b2 = (float)beta2, fe = (float)eps, fwd = (float)wd, step = lr / bc1;
  int64_t lo, hi;
  kn_range(b, e, items, numel, &lo, &hi);
  KN_SIMD
  for (int64_t i = lo; i < hi; i++) {
    float g = grad[i], wi = w[i];
    if (decoupled) wi = wi * (1.0f - lr * fwd);
    else g = g + fwd * wi;
    float mi = b1 * m[i] + (1.0f - b1) * g, vi = b2 * v[i] + (1.0f - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi - step * mi / (sqrtf(vi) / bc2s + fe);
  }
}
