/* fused.c — kn_k_fused: one sweep for a run of elementwise ops of a kernel group (program format
 * in kn_fused.h). Per tile of at most KN_FTILE elements of one (n, c) plane, the ops run in order;
 * an op's output lives in a stack tile unless it is stored, in which case it is written straight
 * to memory and later ops read it there (still in cache). Per-channel statistics (training-mode
 * batchnorm, batchnorm_grad) are gathered by pre-passes over the channel that recompute the ops
 * before them without storing anything, so inputs are read again but nothing is written twice.
 * Arithmetic matches the single-op kernels (norm.c, eltwise.c, pool.c) op for op. Outputs either
 * are stack tiles or overlap an input exactly (in-place hints), so loops vectorise with KN_SIMD.
 */
#include <math.h>
#include <stdint.h>

#include "kn_eltwise.h"
#include "kn_fused.h"
#include "kn_kernels.h"

typedef struct {
  const double *prog;
  void *const *p;
  int64_t N, C, HW;
  float *val[KN_FMAXOPS];     /* this tile's output of each op */
  float (*tile)[KN_FTILE];    /* KN_FMAXOPS tiles */
  float (*tmp)[KN_FTILE];     /* broadcast operands */
  double st[KN_FMAXOPS][4];   /* per-channel constants of BN ops */
  double acc[KN_FMAXOPS];     /* reductions */
} kn_fctx;

static inline const double *op_at(const double *prog, int i) { return prog + KN_FP_OPS + i * KN_FOPSZ; }

static inline __attribute__((always_inline)) const float *operand(kn_fctx *x, double ref, int t, int64_t n, int64_t c, int64_t h0, int64_t len) {
  int r = (int)ref;
  if (r < KN_FREF_EXT) return x->val[r];
  r -= KN_FREF_EXT;
  const float *base = x->p[r / 4];
  switch (r % 4) {
  case KN_FB_FULL: return base + (n * x->C + c) * x->HW + h0;
  case KN_FB_NHW: return base + n * x->HW + h0;
  default: {
    float v = r % 4 == KN_FB_NC ? base[n * x->C + c] : base[c];
    float *o = x->tmp[t];
    KN_SIMD
    for (int64_t i = 0; i < len; i++) o[i] = v;
    return o;
  }
  }
}

/* Vectorisable sums without fast-math: 16 independent float lanes per tile, added in double. */
#define KN_FLANES 16
static double tile_sum(const float *a, int64_t len) {
  float l[KN_FLANES] = {0};
  int64_t k = 0;
  for (; k + KN_FLANES <= len; k += KN_FLANES)
    for (int j = 0; j < KN_FLANES; j++) l[j] += a[k + j];
  double s = 0;
  for (; k < len; k++) s += a[k];
  for (int j = 0; j < KN_FLANES; j++) s += l[j];
  return s;
}
/* s += sum(a - sh), ss += sum((a - sh)^2). */
static void tile_sum_sq(const float *a, int64_t len, float sh, double *s, double *ss) {
  float l[KN_FLANES] = {0}, q[KN_FLANES] = {0};
  int64_t k = 0;
  for (; k + KN_FLANES <= len; k += KN_FLANES)
    for (int j = 0; j < KN_FLANES; j++) {
      float d = a[k + j] - sh;
      l[j] += d;
      q[j] += d * d;
    }
  for (; k < len; k++) {
    double d = (double)a[k] - sh;
    *s += d;
    *ss += d * d;
  }
  for (int j = 0; j < KN_FLANES; j++) *s += l[j], *ss += q[j];
}
/* s += sum(dy), sx += sum(dy * (v - mu)). */
static void tile_sum_dot(const float *dy, const float *v, int64_t len, float mu, double *s, double *sx) {
  float l[KN_FLANES] = {0}, q[KN_FLANES] = {0};
  int64_t k = 0;
  for (; k + KN_FLANES <= len; k += KN_FLANES)
    for (int j = 0; j < KN_FLANES; j++) {
      l[j] += dy[k + j];
      q[j] += dy[k + j] * (v[k + j] - mu);
    }
  for (; k < len; k++) {
    *s += dy[k];
    *sx += (double)dy[k] * ((double)v[k] - mu);
  }
  for (int j = 0; j < KN_FLANES; j++) *s += l[j], *sx += q[j];
}

/* Per-channel constants of eval-mode BN ops (as kn_k_batchnorm2d computes them). */
static inline __attribute__((always_inline)) void setup_channel(kn_fctx *x, int64_t c) {
  int nops = (int)x->prog[KN_FP_NOPS];
  for (int i = 0; i < nops; i++) {
    const double *o = op_at(x->prog, i);
    if ((int)o[0] != KN_FOP_BN) continue;
    const float *gamma = x->p[(int)o[3]], *beta = x->p[(int)o[4]], *rm = x->p[(int)o[5]], *rv = x->p[(int)o[6]];
    double mean = rm[c], var = rv[c], eps = o[7];
    x->st[i][0] = (float)(gamma[c] / sqrt(var + eps));
    x->st[i][1] = (float)(beta[c] - mean * gamma[c] / sqrt(var + eps));
  }
}

/* Ops [0, upto) on one tile; `store`: stored outputs go to memory and reductions accumulate. */
static __attribute__((noinline)) void eval_tile(kn_fctx *x, int upto, int store, int64_t n, int64_t c, int64_t h0, int64_t len) {
  for (int i = 0; i < upto; i++) {
    const double *o = op_at(x->prog, i);
    int code = (int)o[0], sp = (int)o[1];
    float *y = x->tile[i];
    if (store && sp >= 0 && code != KN_FOP_POOL && code != KN_FOP_CSUM)
      y = (float *)x->p[sp] + (n * x->C + c) * x->HW + h0;
    x->val[i] = y;
    switch (code) {
#define KN_FOP_EVAL(ID, nm, S, AT, V, F, G)                                                             \
    case KN_FOP_##ID:                                                                               \
      kn_ew_##nm(y, operand(x, o[2], 0, n, c, h0, len), len, (float)o[4]);                          \
      break;                                                                                        \
    case KN_FOP_##ID##_GRAD:                                                                        \
      kn_ew_##nm##_grad(y, operand(x, o[2], 0, n, c, h0, len), operand(x, o[3], 1, n, c, h0, len), len, \
                        (float)o[4]);                                                               \
      break;
      KN_ELTWISE_OPS(KN_FOP_EVAL)
#undef KN_FOP_EVAL
    case KN_FOP_ADD: {
      const float *a = operand(x, o[2], 0, n, c, h0, len), *b = operand(x, o[3], 1, n, c, h0, len);
      KN_SIMD
      for (int64_t k = 0; k < len; k++) y[k] = a[k] + b[k];
      break;
    }
    case KN_FOP_MUL: {
      const float *a = operand(x, o[2], 0, n, c, h0, len), *b = operand(x, o[3], 1, n, c, h0, len);
      KN_SIMD
      for (int64_t k = 0; k < len; k++) y[k] = a[k] * b[k];
      break;
    }
    case KN_FOP_BN:
    case KN_FOP_BN_TRAIN: {
      const float *a = operand(x, o[2], 0, n, c, h0, len);
      float sc = (float)x->st[i][0], sh = (float)x->st[i][1];
      KN_SIMD
      for (int64_t k = 0; k < len; k++) y[k] = a[k] * sc + sh;
      break;
    }
    case KN_FOP_BN_GRAD: {
      const float *dy = operand(x, o[2], 0, n, c, h0, len), *v = operand(x, o[3], 1, n, c, h0, len);
      float g = (float)x->st[i][0], k1 = (float)x->st[i][1], k2 = (float)x->st[i][2], mu = (float)x->st[i][3];
      KN_SIMD
      for (int64_t k = 0; k < len; k++) y[k] = g * (dy[k] - k1 - (v[k] - mu) * k2);
      break;
    }
    case KN_FOP_POOL: {
      if (!store) break;
      const float *a = operand(x, o[2], 0, n, c, h0, len);
      if ((int)o[3] == 1) {
        float m = h0 ? (float)x->acc[i] : a[0];
        for (int64_t k = 0; k < len; k++) m = a[k] > m ? a[k] : m;
        x->acc[i] = m;
      } else
        x->acc[i] += tile_sum(a, len);
      break;
    }
    case KN_FOP_CSUM: {
      if (!store) break;
      x->acc[i] += tile_sum(operand(x, o[2], 0, n, c, h0, len), len);
      break;
    }
    }
  }
}

/* Batch statistics of the BN op i for channel c: pre-passes over all planes of the channel, or,
 * where the producing conv's epilogue gathered them, a merge of its per-tile partials. */
static __attribute__((noinline)) void gather_stats(kn_fctx *x, int i, int64_t c) {
  const double *o = op_at(x->prog, i);
  int64_t N = x->N, HW = x->HW;
  double m = (double)(N * HW);
  if ((int)o[0] == KN_FOP_BN_TRAIN) {
    /* One pass: sum and sum of squares in double (kn_k_batchnorm2d takes two; the difference is
     * far below float precision unless mean^2 / var exceeds ~1e8). */
    double mean, var, eps = o[7];
    if ((int)o[8] >= 0) { /* gathered by the producing conv's epilogue: merge its tiles in order */
      const double *q = (const double *)x->p[(int)o[8]];
      int64_t T = (int64_t)o[9];
      double cnt = 0, m2 = 0;
      mean = 0;
      for (int64_t t = 0; t < T; t++) {
        const double *r = q + (t * x->C + c) * 4; /* count, shift, sum, sum of squares */
        if (r[0] <= 0) continue;
        double mt = r[1] + r[2] / r[0], m2t = r[3] - r[2] * r[2] / r[0];
        double nn = cnt + r[0], delta = mt - mean;
        mean += delta * r[0] / nn;
        m2 += (m2t > 0 ? m2t : 0) + delta * delta * cnt * r[0] / nn;
        cnt = nn;
      }
      var = (m2 < 0 ? 0 : m2) / m;
    } else {
      double s = 0, ss = 0;
      float sh = 0;
      for (int64_t n = 0; n < N; n++)
        for (int64_t h0 = 0; h0 < HW; h0 += KN_FTILE) {
          int64_t len = HW - h0 < KN_FTILE ? HW - h0 : KN_FTILE;
          eval_tile(x, i, 0, n, c, h0, len);
          const float *a = operand(x, o[2], 0, n, c, h0, len);
          if (!n && !h0) sh = a[0]; /* shifted sums: no cancellation when |mean| >> std */
          tile_sum_sq(a, len, sh, &s, &ss);
        }
      mean = sh + s / m;
      ss = ss - s * s / m;
      if (ss < 0) ss = 0;
      var = ss / m;
    }
    const float *gamma = x->p[(int)o[3]], *beta = x->p[(int)o[4]];
    ((float *)x->p[(int)o[5]])[c] = (float)mean;
    ((float *)x->p[(int)o[6]])[c] = (float)var;
    x->st[i][0] = (float)(gamma[c] / sqrt(var + eps));
    x->st[i][1] = (float)(beta[c] - mean * gamma[c] / sqrt(var + eps));
    return;
  }
  const float *gamma = x->p[(int)o[4]], *mean = x->p[(int)o[5]], *var = x->p[(int)o[6]];
  double mu = mean[c], istd = 1.0 / sqrt((double)var[c] + o[9]), sdy = 0, sdyx = 0;
  if ((int)o[11] >= 0) { /* gathered by the producing grad-input conv's epilogue */
    const double *q = (const double *)x->p[(int)o[11]];
    for (int64_t t = 0; t < (int64_t)o[12]; t++) sdy += q[(t * x->C + c) * 2], sdyx += q[(t * x->C + c) * 2 + 1];
  } else {
    for (int64_t n = 0; n < N; n++)
      for (int64_t h0 = 0; h0 < HW; h0 += KN_FTILE) {
        int64_t len = HW - h0 < KN_FTILE ? HW - h0 : KN_FTILE;
        eval_tile(x, i, 0, n, c, h0, len);
        const float *dy = operand(x, o[2], 0, n, c, h0, len), *v = operand(x, o[3], 1, n, c, h0, len);
        tile_sum_dot(dy, v, len, (float)mu, &sdy, &sdyx);
      }
  }
  ((float *)x->p[(int)o[7]])[c] = (float)(sdyx * istd);
  ((float *)x->p[(int)o[8]])[c] = (float)sdy;
  int training = (int)o[10] != 0;
  x->st[i][0] = (float)(gamma[c] * istd);
  x->st[i][1] = training ? (float)(sdy / m) : 0.0f;
  x->st[i][2] = training ? (float)(sdyx * istd * istd / m) : 0.0f;
  x->st[i][3] = (float)mu;
}

/* Writes the per-plane reductions of plane (n, c) (after its last tile) and resets them. */
static inline __attribute__((always_inline)) void finish_plane(kn_fctx *x, int64_t n, int64_t c) {
  int nops = (int)x->prog[KN_FP_NOPS];
  for (int i = 0; i < nops; i++) {
    const double *o = op_at(x->prog, i);
    if ((int)o[0] != KN_FOP_POOL) continue;
    float *out = x->p[(int)o[1]];
    out[n * x->C + c] = (int)o[3] == 0 ? (float)(x->acc[i] / (double)x->HW) : (float)x->acc[i];
    x->acc[i] = 0;
  }
}

void kn_k_fused(void *const *p, int64_t b, int64_t e, const double *prog) {
  float tile[KN_FMAXOPS][KN_FTILE], tmp[2][KN_FTILE];
  kn_fctx x;
  x.prog = prog;
  x.p = p;
  x.N = (int64_t)prog[KN_FP_N], x.C = (int64_t)prog[KN_FP_C], x.HW = (int64_t)prog[KN_FP_HW];
  x.tile = tile;
  x.tmp = tmp;
  int nops = (int)prog[KN_FP_NOPS];
  int64_t items = (int64_t)prog[KN_FP_ITEMS], HW = x.HW, lo, hi;
  for (int i = 0; i < KN_FMAXOPS; i++) x.acc[i] = 0;
  if ((int)prog[KN_FP_MODE] == KN_FMODE_CHANNEL) {
    kn_range(b, e, items, x.C, &lo, &hi);
    for (int64_t c = lo; c < hi; c++) {
      setup_channel(&x, c);
      for (int i = 0; i < nops; i++) {
        int code = (int)op_at(prog, i)[0];
        if (code == KN_FOP_BN_TRAIN || code == KN_FOP_BN_GRAD) gather_stats(&x, i, c);
      }
      for (int64_t n = 0; n < x.N; n++) {
        for (int64_t h0 = 0; h0 < HW; h0 += KN_FTILE)
          eval_tile(&x, nops, 1, n, c, h0, HW - h0 < KN_FTILE ? HW - h0 : KN_FTILE);
        finish_plane(&x, n, c);
      }
      for (int i = 0; i < nops; i++) {
        const double *o = op_at(prog, i);
        if ((int)o[0] != KN_FOP_CSUM) continue;
        ((float *)p[(int)o[1]])[c] = (float)x.acc[i];
        x.acc[i] = 0;
      }
    }
    return;
  }
  int64_t chunk = (int64_t)prog[KN_FP_CHUNK], cpp = kn_cdiv(HW, chunk);
  kn_range(b, e, items, x.N * x.C * cpp, &lo, &hi);
  for (int64_t u = lo; u < hi; u++) {
    int64_t plane = u / cpp, part = u % cpp, n = plane / x.C, c = plane % x.C;
    int64_t end = (part + 1) * chunk < HW ? (part + 1) * chunk : HW;
    setup_channel(&x, c);
    for (int64_t h0 = part * chunk; h0 < end; h0 += KN_FTILE)
      eval_tile(&x, nops, 1, n, c, h0, end - h0 < KN_FTILE ? end - h0 : KN_FTILE);
    if (end == HW) finish_plane(&x, n, c);
  }
}
