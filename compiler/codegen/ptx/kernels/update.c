/* update.c — GPU optimizer steps (PyTorch semantics), in place on the parameter and its state.
 * The learning rate and the step count are device buffers so that schedules need no recompile. */
#include "kn_gpu.h"

/* SGD: g = grad + wd*param; with momentum buf = momentum*buf + (1-dampening)*g and
 * g = nesterov ? g + momentum*buf : buf; param -= lr*g.
 * i = {n, has_buf, nesterov}; f = {momentum, dampening, weight_decay};
 * p = {param, grad, lr[1], momentum_buf (NULL unless has_buf)} */
void kn_gk_sgd(const long *i, const float *f, void *const *p) {
  float *w = p[0], *buf = p[3];
  const float *grad = p[1], *lr = p[2];
  kn_for(k, i[0]) {
    float g = grad[k] + f[2] * w[k];
    if (i[1]) {
      buf[k] = f[0] * buf[k] + (1.f - f[1]) * g;
      g = i[2] ? g + f[0] * buf[k] : buf[k];
    }
    w[k] -= lr[0] * g;
  }
}

/* Adam / AdamW: i = {n, decoupled}; f = {beta1, beta2, eps, weight_decay, log2(beta1), log2(beta2)};
 * p = {param, grad, lr[1], step[1] (float, 1-based), exp_avg, exp_avg_sq} */
void kn_gk_adam(const long *i, const float *f, void *const *p) {
  float *w = p[0], *m = p[4], *v = p[5];
  const float *grad = p[1], *lr = p[2], *step = p[3];
  float b1 = f[0], b2 = f[1];
  float bc1 = 1.f - kn_exp2(step[0] * f[4]), bc2 = 1.f - kn_exp2(step[0] * f[5]);
  kn_for(k, i[0]) {
    float g = grad[k];
    if (i[1]) w[k] *= 1.f - lr[0] * f[3];
    else g += f[3] * w[k];
    m[k] = b1 * m[k] + (1.f - b1) * g;
    v[k] = b2 * v[k] + (1.f - b2) * g * g;
    float denom = kn_sqrt(v[k]) / kn_sqrt(bc2) + f[2];
    w[k] -= lr[0] / bc1 * m[k] / denom;
  }
}
