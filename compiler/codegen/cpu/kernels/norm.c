/* norm.c — BatchNorm2d forward (batch or running statistics), backward, and the running
 * statistics update. Units of work: channels; per-channel sums in double.
 */
#include <math.h>

#include "kn_kernels.h"

/* The loops over the batch stay loops: with N and HW constant the unroller would otherwise
 * flatten N copies of the (vectorised, already unrolled) plane loop into one block of thousands
 * of instructions, which costs a second of instruction selection per kernel and runs no faster. */
#define KN_NO_UNROLL _Pragma("clang loop unroll(disable)")

typedef double kn_v8d __attribute__((vector_size(64), aligned(8)));
typedef float kn_v8f __attribute__((vector_size(32), aligned(4)));

static inline __attribute__((always_inline)) double kn_hsum8(const kn_v8d *p) {
  kn_v8d v = *p;
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/* *s += sum a[i], *sab += sum a[i] * (b[i] - mu) (b = a when b is null: the sum of squares
 * about mu), in double with 8-lane vectors. */
static inline __attribute__((always_inline)) void kn_sums(const float *a, const float *b, double mu, int64_t n,
                                                          double *s, double *sab) {
  kn_v8d s0 = {0}, s1 = {0}, q0 = {0}, q1 = {0}, m = {mu, mu, mu, mu, mu, mu, mu, mu};
  const float *bb = b ? b : a;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    kn_v8d a0 = __builtin_convertvector(*(const kn_v8f *)(a + i), kn_v8d);
    kn_v8d a1 = __builtin_convertvector(*(const kn_v8f *)(a + i + 8), kn_v8d);
    kn_v8d b0 = __builtin_convertvector(*(const kn_v8f *)(bb + i), kn_v8d) - m;
    kn_v8d b1 = __builtin_convertvector(*(const kn_v8f *)(bb + i + 8), kn_v8d) - m;
    s0 += a0;
    s1 += a1;
    q0 += a0 * b0;
    q1 += a1 * b1;
  }
  s0 += s1;
  q0 += q1;
  double ts = kn_hsum8(&s0), tq = kn_hsum8(&q0);
  for (; i < n; i++) {
    ts += a[i];
    tq += a[i] * ((double)bb[i] - mu);
  }
  *s += ts;
  *sab += tq;
}

/* training: p: x, gamma, beta, rmean, rvar, y, mean, var (biased); else p: x, gamma, beta, rmean,
 * rvar, y. phase (synchronised BatchNorm, codegen/cpu/cpu_dist.c): 0 all of it, 1 only the batch
 * statistics into mean/var, 2 only y, normalised by the statistics found in mean/var. */
void kn_k_batchnorm2d(void *const *p, int64_t b, int64_t e, int64_t N, int64_t C, int64_t HW, double eps,
                      int64_t training, int64_t phase, int64_t items) {
  const float *x = p[0], *gamma = p[1], *beta = p[2], *rm = p[3], *rv = p[4];
  float *y = p[5], *bm = training ? p[6] : 0, *bv = training ? p[7] : 0;
  int64_t lo, hi;
  kn_range(b, e, items, C, &lo, &hi);
  for (int64_t c = lo; c < hi; c++) {
    double mean = rm[c], var = rv[c];
    if (training && phase == 2) mean = bm[c], var = bv[c];
    if (training && phase != 2) {
      /* One pass in double: s = sum x, ss = sum x (x - k) with k = the first element, so
       * var = ss / m - k (mean - k) - (mean - k)^2 cancels little even when |mean| >> std. */
      double s = 0, ss = 0, m = (double)(N * HW), k = N * HW > 0 ? x[c * HW] : 0.0;
      KN_NO_UNROLL
      for (int64_t n = 0; n < N; n++) kn_sums(x + (n * C + c) * HW, 0, k, HW, &s, &ss);
      double ds = s / m - k;
      mean = s / m;
      var = ss / m - k * ds - ds * ds;
      var = var > 0 ? var : 0;
      bm[c] = (float)mean;
      bv[c] = (float)var;
      if (phase == 1) continue;
    }
    float sc = (float)(gamma[c] / sqrt(var + eps)), sh = (float)(beta[c] - mean * gamma[c] / sqrt(var + eps));
    KN_NO_UNROLL
    for (int64_t n = 0; n < N; n++) {
      const float *xp = x + (n * C + c) * HW;
      float *yp = y + (n * C + c) * HW;
      KN_SIMD
      for (int64_t i = 0; i < HW; i++) yp[i] = xp[i] * sc + sh;
    }
  }
}

/* p: dy, x, gamma, mean, var, dx, dgamma, dbeta. training = 1: mean/var are the batch statistics
 * and x's normalisation depends on them; 0: they are constants (running statistics). phase
 * (synchronised BatchNorm): 0 all of it, 1 only dgamma and dbeta, 2 only dx from the dgamma and
 * dbeta found in place (the sums averaged over the ranks in between). */
void kn_k_batchnorm2d_grad(void *const *p, int64_t b, int64_t e, int64_t N, int64_t C, int64_t HW, double eps,
                           int64_t training, int64_t phase, int64_t items) {
  const float *dy = p[0], *x = p[1], *gamma = p[2], *mean = p[3], *var = p[4];
  float *dx = p[5], *dgamma = p[6], *dbeta = p[7];
  int64_t lo, hi;
  kn_range(b, e, items, C, &lo, &hi);
  for (int64_t c = lo; c < hi; c++) {
    double mu = mean[c], istd = 1.0 / sqrt((double)var[c] + eps), sdy = 0, sdyx = 0, m = (double)(N * HW);
    if (phase == 2) {
      sdy = dbeta[c], sdyx = dgamma[c] / istd;
    } else {
      KN_NO_UNROLL
      for (int64_t n = 0; n < N; n++) kn_sums(dy + (n * C + c) * HW, x + (n * C + c) * HW, mu, HW, &sdy, &sdyx);
      dgamma[c] = (float)(sdyx * istd);
      dbeta[c] = (float)sdy;
      if (phase == 1) continue;
    }
    float g = (float)(gamma[c] * istd);
    float k1 = training ? (float)(sdy / m) : 0.0f, k2 = training ? (float)(sdyx * istd * istd / m) : 0.0f;
    float fmu = (float)mu;
    KN_NO_UNROLL
    for (int64_t n = 0; n < N; n++) {
      const float *dyp = dy + (n * C + c) * HW, *xp = x + (n * C + c) * HW;
      float *dxp = dx + (n * C + c) * HW;
      KN_SIMD
      for (int64_t i = 0; i < HW; i++) dxp[i] = g * (dyp[i] - k1 - (xp[i] - fmu) * k2);
    }
  }
}

/* running = (1 - momentum) * running + momentum * batch, the variance unbiased by count/(count-1).
 * p: rmean, rvar, bmean, bvar. One item. */
void kn_k_bn_running_update(void *const *p, int64_t b, int64_t e, int64_t C, double momentum, int64_t count) {
  float *rm = p[0], *rv = p[1];
  const float *bm = p[2], *bv = p[3];
  double unbias = count > 1 ? (double)count / (double)(count - 1) : 1.0;
  for (int64_t c = 0; c < C; c++) {
    rm[c] = (float)((1 - momentum) * rm[c] + momentum * bm[c]);
    rv[c] = (float)((1 - momentum) * rv[c] + momentum * bv[c] * unbias);
  }
}
