/* eltwise.c — GPU kernels for elementwise ops, their gradients and plain copies (see kn_gpu.h). */
#include "kn_gpu.h"
#include "../../../ir/eltwise.def"

/* The ops of compiler/ir/eltwise.def: kn_gk_<op>: i = {n}; f = {a}; p = {x, y};
 * kn_gk_<op>_grad: i = {n}; f = {a}; p = {dy, saved, dx}. */
#define KN_GK_EW(ID, nm, S, AT, V, F, G)                                           \
  void kn_gk_##nm(const long *i, const float *f, void *const *p) {              \
    const float *x_ = p[0], a = f[0];                                           \
    float *y_ = p[1];                                                           \
    (void)a;                                                                    \
    kn_for(k, i[0]) {                                                           \
      const float x = x_[k];                                                    \
      y_[k] = (F);                                                              \
    }                                                                           \
  }                                                                             \
  void kn_gk_##nm##_grad(const long *i, const float *f, void *const *p) {       \
    const float *dy_ = p[0], *s_ = p[1], a = f[0];                              \
    float *dx_ = p[2];                                                          \
    (void)a;                                                                    \
    kn_for(k, i[0]) {                                                           \
      const float dy = dy_[k], s = s_[k];                                       \
      dx_[k] = (G);                                                             \
    }                                                                           \
  }
KN_ELTWISE_OPS(KN_GK_EW)
#undef KN_GK_EW

/* Broadcasting add (op 0) or mul (op 1) on 4-d shapes:
 * i = {op, d[4] (output dims), as[4], bs[4] (element strides of a and b, 0 where broadcast)};
 * p = {a, b, y} */
void kn_gk_binary(const long *i, const float *f, void *const *p) {
  const long *d = i + 1, *as = i + 5, *bs = i + 9;
  const float *a = p[0], *b = p[1];
  float *y = p[2];
  kn_for(k, d[0] * d[1] * d[2] * d[3]) {
    long r = k, ao = 0, bo = 0;
    for (int j = 3; j >= 0; j--) {
      long c = r % d[j];
      r /= d[j];
      ao += c * as[j];
      bo += c * bs[j];
    }
    y[k] = i[0] == 0 ? a[ao] + b[bo] : a[ao] * b[bo];
  }
}

/* fill: i = {n}; f = {value}; p = {y} */
void kn_gk_fill(const long *i, const float *f, void *const *p) {
  float *y = p[0];
  kn_for(k, i[0]) y[k] = f[0];
}

/* copy (flatten, reshape): i = {n}; p = {x, y} */
void kn_gk_copy(const long *i, const float *f, void *const *p) {
  const float *x = p[0];
  float *y = p[1];
  kn_for(k, i[0]) y[k] = x[k];
}

/* Copies `count` channels (concat, slice_channels):
 * i = {N, HW, src_channels, src_first, dst_channels, dst_first, count}; p = {src, dst} */
void kn_gk_copy_channels(const long *i, const float *f, void *const *p) {
  long N = i[0], HW = i[1], cs = i[2], s0 = i[3], cd = i[4], d0 = i[5], cnt = i[6];
  const float *src = p[0];
  float *dst = p[1];
  kn_for(k, N * cnt * HW) {
    long s = k % HW, c = (k / HW) % cnt, n = k / (HW * cnt);
    dst[(n * cd + d0 + c) * HW + s] = src[(n * cs + s0 + c) * HW + s];
  }
}
