/* fused.c — the GPU elementwise-chain kernel: one launch evaluates a run of elementwise ops of a
 * kernel group (the ops of compiler/ir/eltwise.def and their gradients, add/mul with broadcast operands, BatchNorm apply
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
__attribute__((always_inline)) static inline void kn_gf_op(const long *i, const float *f, void *const *p, int j, long k, float *r,
                                                          int write) {
  const long *o = i + KN_GF_HDR + j * KN_GF_OPSZ, *a = o + 2;
  long C = i[1], HW = i[2];
#define A(t) kn_gf_in(p, a[t], k, C, HW, r)
  float v;
  switch (o[0]) {
/* the formulas' x, dy, s and a are locals here; `a` hides the operand list, read before it */
#define KN_GF_EVAL(ID, nm, S, AT, V, F, G)          \
  case KN_GF_##ID: {                             \
    const float x = A(0);                        \
    const float a = f[j];                        \
    (void)a;                                     \
    v = (F);                                     \
    break;                                       \
  }                                              \
  case KN_GF_##ID##_GRAD: {                      \
    const float dy = A(0), s = A(1);             \
    const float a = f[j];                        \
    (void)a;                                     \
    v = (G);                                     \
    break;                                       \
  }
    KN_ELTWISE_OPS(KN_GF_EVAL)
#undef KN_GF_EVAL
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
  if (write && o[1] >= 0) ((float *)p[o[1]])[k] = v;
}

_Static_assert(KN_GF_MAXOPS == 8, "kn_gk_fused unrolls exactly KN_GF_MAXOPS steps");

/* i, f, p: see kn_gfused.h. Every op is a separate, constant-indexed step so that, with the
 * program constant, each folds to straight-line code (no loop over ops remains). */
void kn_gk_fused(const long *i, const float *f, void *const *p) {
  long n = i[0], nops = i[3];
  kn_for(k, n) {
    float r[KN_GF_MAXOPS];
#define KN_GF_STEP(j) \
  if ((j) < nops) kn_gf_op(i, f, p, (j), k, r, 1)
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

/* The sums of a run whose last op is KN_GF_BN_GRAD (batch statistics), for the same program:
 * dgamma[c] = sum dy * xhat, dbeta[c] = sum dy, with dy recomputed from the ops before it (nothing
 * is written but the sums), one warp per channel. The arithmetic is kn_gk_bn_grad_reduce's. */
void kn_gk_fused_bn_grad_sums(const long *i, const float *f, void *const *p) {
  long C = i[1], HW = i[2], nops = i[3], M = i[0] / C, last = nops - 1;
  const long *a = i + KN_GF_HDR + last * KN_GF_OPSZ + 2;
  float *dgamma = p[(a[5] - KN_GF_EXT) >> 2], *dbeta = p[(a[6] - KN_GF_EXT) >> 2];
  kn_for_warp(c, C) {
    float r[KN_GF_MAXOPS], sg = 0.f, sb = 0.f, inv = 0.f, mu = 0.f;
    for (long q = kn_lane(); q < M; q += 32) {
      long k = ((q / HW) * C + c) * HW + q % HW;
#define KN_GF_STEP(j) \
  if ((j) < last) kn_gf_op(i, f, p, (j), k, r, 0)
      KN_GF_STEP(0);
      KN_GF_STEP(1);
      KN_GF_STEP(2);
      KN_GF_STEP(3);
      KN_GF_STEP(4);
      KN_GF_STEP(5);
      KN_GF_STEP(6);
#undef KN_GF_STEP
      float dy = kn_gf_in(p, a[0], k, C, HW, r);
      inv = 1.f / kn_sqrt(kn_gf_in(p, a[4], k, C, HW, r) + f[last]);
      mu = kn_gf_in(p, a[3], k, C, HW, r);
      sb += dy;
      sg += dy * (kn_gf_in(p, a[1], k, C, HW, r) - mu) * inv;
    }
    sg = kn_warp_sum(sg);
    sb = kn_warp_sum(sb);
    if (kn_lane() == 0) {
      dgamma[c] = sg;
      dbeta[c] = sb;
    }
  }
}
