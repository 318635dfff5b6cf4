/* fused.c — the GPU elementwise-chain kernel: one launch evaluates a run of elementwise ops of a
 * kernel group (relu, sigmoid, their gradients, add/mul with broadcast operands, BatchNorm apply
 * and BatchNorm-grad's input part) per element, in registers; only values read outside the run
 * are written. Program format: kn_gfused.h. The arithmetic of each op is that of its single-op
 * kernel (eltwise.c, norm.c), so a fused run computes the same floats as the unfused launches. */
#include "kn_gfused.h"
#include "kn_gpu.h"

/* Operand `code` at element k. */
__attribute__((always_inline)) static inline float kn_gf_in(void *const *p, long code, long k, long C, long HW, const float *r) {
  if (code < KN_GF_EXT) return r[code];
  long q = code - KN_GF_EXT;
  const float *b = p[q >> 2];
  switch (q & 3) {
  case KN_GF_FULL: return b[k];
  case KN_GF_NC: return b[k / HW];
  case KN_GF_NHW: return b[(k / (C * HW)) * HW + k % HW];
  default: return b[(k / HW) % C];
  }
}

/* Op j of the program at element k; its result goes to r[j] (and memory when asked). */
__attribute__((always_inline)) static inline void kn_gf_op(const long *i, const float *f, void *const *p, int j, long k, float *r) {
  const long *o = i + KN_GF_HDR + j * KN_GF_OPSZ, *a = o + 2;
  long C = i[1], HW = i[2];
#define A(t) kn_gf_in(p, a[t], k, C, HW, r)
  float v;
  switch (o[0]) {
  case KN_GF_RELU: {
    float x = A(0);
    v = x > 0.f ? x : 0.f;
    break;
  }
  case KN_GF_SIGMOID: v = 1.f / (1.f + kn_exp(-A(0))); break;
  case KN_GF_RELU_GRAD: v = A(1) > 0.f ? A(0) : 0.f; break;
  case KN_GF_SIGMOID_GRAD: {
    float y = A(1);
    v = A(0) * y * (1.f - y);
    break;
  }
  case KN_GF_ADD: v = A(0) + A(1); break;
  case KN_GF_MUL: v = A(0) * A(1); break;
  case KN_GF_BN_APPLY: {
    float inv = 1.f / kn_sqrt(A(4) + f[j]);
    v = (A(0) - A(3)) * inv * A(1) + A(2);
    break;
  }
  case KN_GF_BN_GRAD: {
    float M = (float)(i[0] / C), inv = 1.f / kn_sqrt(A(4) + f[j]);
    float xhat = (A(1) - A(3)) * inv;
    v = A(2) * inv * (A(0) - A(6) / M - xhat * A(5) / M);
    break;
  }
  default: { /* KN_GF_BN_GRAD_EVAL */
    float inv = 1.f / kn_sqrt(A(4) + f[j]);
    v = A(2) * inv * A(0);
    break;
  }
  }
#undef A
  r[j] = v;
  if (o[1] >= 0) ((float *)p[o[1]])[k] = v;
}

_Static_assert(KN_GF_MAXOPS == 8, "kn_gk_fused unrolls exactly KN_GF_MAXOPS steps");

/* i, f, p: see kn_gfused.h. Every op is a separate, constant-indexed step so that, with the
 * program constant, each folds to straight-line code (no loop over ops remains). */
void kn_gk_fused(const long *i, const float *f, void *const *p) {
  long n = i[0], nops = i[3];
  kn_for(k, n) {
    float r[KN_GF_MAXOPS];
#define KN_GF_STEP(j) \
  if ((j) < nops) kn_gf_op(i, f, p, (j), k, r)
    KN_GF_STEP(0);
    KN_GF_STEP(1);
    KN_GF_STEP(2);
    KN_GF_STEP(3);
    KN_GF_STEP(4);
    KN_GF_STEP(5);
    KN_GF_STEP(6);
    KN_GF_STEP(7);
#undef KN_GF_STEP
  }
}
