/* optim.c — reference in-place updates: SGD (momentum, dampening, weight decay, Nesterov) and
 * Adam/AdamW exactly as PyTorch's torch.optim formulas, and BatchNorm's running statistics.
 *
 * SGD differs from PyTorch in one documented way: PyTorch sets buf = g on the first step, we
 * always compute buf = momentum * buf + (1 - dampening) * g from a zero-initialised buffer. The two
 * agree whenever dampening = 0 (PyTorch's default); with dampening > 0 our first step is smaller.
 */
#include <math.h>

#include "kernels.h"

/* in: param, grad, lr[1], (momentum_buf); writes param and momentum_buf.
 *   g = grad + weight_decay * p
 *   buf = momentum * buf + (1 - dampening) * g          (momentum != 0 and a buffer given)
 *   g = nesterov ? g + momentum * buf : buf
 *   p -= lr * g */
void kn_k_sgd_update(const kn_kargs *a) {
  int64_t n = kn_shape_numel(kn_k_ishape(a, 0));
  float *p = kn_k_in(a, 0), *buf = a->n->n_in > 3 ? kn_k_in(a, 3) : NULL;
  const float *grad = kn_k_in(a, 1);
  double lr = kn_k_in(a, 2)[0];
  double mom = kn_node_float(a->n, KN_ATTR_MOMENTUM), damp = kn_node_float(a->n, KN_ATTR_DAMPENING);
  double wd = kn_node_float(a->n, KN_ATTR_WEIGHT_DECAY);
  bool nesterov = kn_node_int(a->n, KN_ATTR_NESTEROV) != 0;
  for (int64_t i = 0; i < n; i++) {
    double g = (double)grad[i] + wd * p[i];
    if (buf && mom != 0.0) {
      double b = mom * buf[i] + (1.0 - damp) * g;
      buf[i] = (float)b;
      g = nesterov ? g + mom * b : b;
    }
    p[i] = (float)(p[i] - lr * g);
  }
}

/* in: param, grad, lr[1], step[1] (count including this step, >= 1), m, v; writes param, m, v.
 *   Adam:  g = grad + weight_decay * p          AdamW (DECOUPLED): p *= 1 - lr * weight_decay
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps) */
void kn_k_adam_update(const kn_kargs *a) {
  int64_t n = kn_shape_numel(kn_k_ishape(a, 0));
  float *p = kn_k_in(a, 0), *m = kn_k_in(a, 4), *v = kn_k_in(a, 5);
  const float *grad = kn_k_in(a, 1);
  double lr = kn_k_in(a, 2)[0], t = kn_k_in(a, 3)[0];
  double b1 = kn_node_float(a->n, KN_ATTR_BETA1), b2 = kn_node_float(a->n, KN_ATTR_BETA2);
  double eps = kn_node_float(a->n, KN_ATTR_EPS), wd = kn_node_float(a->n, KN_ATTR_WEIGHT_DECAY);
  bool decoupled = kn_node_int(a->n, KN_ATTR_DECOUPLED) != 0;
  KN_ASSERT(t >= 1.0);
  double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
  for (int64_t i = 0; i < n; i++) {
    double pi = p[i], g = grad[i];
    if (decoupled) pi *= 1.0 - lr * wd;
    else g += wd * pi;
    double mi = b1 * m[i] + (1.0 - b1) * g, vi = b2 * v[i] + (1.0 - b2) * g * g;
    m[i] = (float)mi;
    v[i] = (float)vi;
    p[i] = (float)(pi - lr / bc1 * mi / (sqrt(vi) / sqrt(bc2) + eps));
  }
}

/* in: running_mean, running_var, batch_mean, batch_var (biased); attr COUNT = N*H*W.
 *   running_mean = (1 - momentum) running_mean + momentum batch_mean
 *   running_var  = (1 - momentum) running_var  + momentum batch_var * COUNT / (COUNT - 1) */
void kn_k_bn_running_update(const kn_kargs *a) {
  int64_t n = kn_shape_numel(kn_k_ishape(a, 0));
  float *rm = kn_k_in(a, 0), *rv = kn_k_in(a, 1);
  const float *bm = kn_k_in(a, 2), *bv = kn_k_in(a, 3);
  double mom = kn_node_float(a->n, KN_ATTR_MOMENTUM);
  int64_t count = kn_node_int(a->n, KN_ATTR_COUNT);
  double unbias = count > 1 ? (double)count / (double)(count - 1) : 1.0;
  for (int64_t i = 0; i < n; i++) {
    rm[i] = (float)((1.0 - mom) * rm[i] + mom * bm[i]);
    rv[i] = (float)((1.0 - mom) * rv[i] + mom * bv[i] * unbias);
  }
}
