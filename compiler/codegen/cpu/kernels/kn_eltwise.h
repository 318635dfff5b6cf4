/* kn_eltwise.h — the loops of the unary elementwise ops of compiler/ir/eltwise.def, generated
 * from its formulas, shared by the single-op kernels (eltwise.c: kn_k_<op>, kn_k_<op>_grad) and
 * the fused sweep (fused.c), so both compute the same floats:
 *   kn_ew_<op>(y, x, len, a)           y[k] = FWD(x[k])
 *   kn_ew_<op>_grad(dx, dy, s, len, a)  dx[k] = GRAD(dy[k], s[k])
 * Outputs may equal an input exactly (in-place), never overlap it otherwise: rows marked SIMD
 * carry KN_SIMD; CALLS rows (expf, erff, tanhf) cannot vectorise and stay plain loops. */
#ifndef KN_ELTWISE_H
#define KN_ELTWISE_H

#include <math.h>
#include <stdint.h>

#include "../../../ir/eltwise.def"
#include "kn_kernels.h"

#define KN_EW_FWD_LOOP_SIMD KN_SIMD
#define KN_EW_GRAD_LOOP_SIMD KN_SIMD
#define KN_EW_FWD_LOOP_CALLS
#define KN_EW_GRAD_LOOP_CALLS
#define KN_EW_FWD_LOOP_FWD_CALLS
#define KN_EW_GRAD_LOOP_FWD_CALLS KN_SIMD
#define KN_EW_LOOPS(ID, nm, S, AT, V, F, G)                                                             \
  static inline __attribute__((always_inline)) void kn_ew_##nm(float *y_, const float *x_, int64_t len, \
                                                                float a) {                          \
    (void)a;                                                                                         \
    KN_EW_FWD_LOOP_##V                                                                               \
    for (int64_t k_ = 0; k_ < len; k_++) {                                                           \
      const float x = x_[k_];                                                                        \
      y_[k_] = (F);                                                                                  \
    }                                                                                                \
  }                                                                                                  \
  static inline __attribute__((always_inline)) void kn_ew_##nm##_grad(                               \
      float *dx_, const float *dy_, const float *s_, int64_t len, float a) {                         \
    (void)a;                                                                                         \
    KN_EW_GRAD_LOOP_##V                                                                               \
    for (int64_t k_ = 0; k_ < len; k_++) {                                                           \
      const float dy = dy_[k_], s = s_[k_];                                                          \
      dx_[k_] = (G);                                                                                 \
    }                                                                                                \
  }
KN_ELTWISE_OPS(KN_EW_LOOPS)
#undef KN_EW_LOOPS

#endif
