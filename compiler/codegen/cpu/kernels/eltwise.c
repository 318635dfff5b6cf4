/* eltwise.c — elementwise kernels (the ops of compiler/ir/eltwise.def, generated), broadcast kernels, copies, and the reductions of broadcasts
 * (sum_to, bias_grad). Shapes are padded to rank 4 by the compiler; broadcast inputs get stride 0
 * on the broadcast dimensions. Work split: kn_split over the unit named in each comment.
 */
#include <math.h>
#include <stdint.h>

#include "kn_eltwise.h"
#include "kn_kernels.h"

typedef double kn_v8d __attribute__((vector_size(64), aligned(8)));
typedef float kn_v8f __attribute__((vector_size(32), aligned(4)));

/* sum of x[0 .. n) in double, 8 lanes at a time. */
static inline __attribute__((always_inline)) double kn_dsum(const float *x, int64_t n) {
  kn_v8d a = {0}, b = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a += __builtin_convertvector(*(const kn_v8f *)(x + i), kn_v8d);
    b += __builtin_convertvector(*(const kn_v8f *)(x + i + 8), kn_v8d);
  }
  a += b;
  double s = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
  for (; i < n; i++) s += x[i];
  return s;
}

/* The ops of eltwise.def, units: elements. kn_k_<op>: p = x, y; kn_k_<op>_grad: p = dy, saved, dx;
 * a = the op's parameter (leaky_relu's negative_slope). */
#define KN_EW_KERNELS(ID, nm, S, AT, V, F, G)                                                          \
  void kn_k_##nm(void *const *p, int64_t b, int64_t e, int64_t numel, int64_t items, double a) {   \
    int64_t lo, hi;                                                                                 \
    kn_range(b, e, items, numel, &lo, &hi);                                                         \
    kn_ew_##nm((float *)p[1] + lo, (const float *)p[0] + lo, hi - lo, (float)a);                    \
  }                                                                                                 \
  void kn_k_##nm##_grad(void *const *p, int64_t b, int64_t e, int64_t numel, int64_t items, double a) { \
    int64_t lo, hi;                                                                                 \
    kn_range(b, e, items, numel, &lo, &hi);                                                         \
    kn_ew_##nm##_grad((float *)p[2] + lo, (const float *)p[0] + lo, (const float *)p[1] + lo, hi - lo, (float)a); \
  }
KN_ELTWISE_OPS(KN_EW_KERNELS)
#undef KN_EW_KERNELS

/* y = a (op) b with broadcasting. Units: rows of the output (d0 * d1 * d2), d3 inner.
 * p: a, b, y. op 0 = add, 1 = mul. */
void kn_k_binary(void *const *p, int64_t b, int64_t e, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                 int64_t sa0, int64_t sa1, int64_t sa2, int64_t sa3, int64_t sb0, int64_t sb1, int64_t sb2,
                 int64_t sb3, int64_t op, int64_t items) {
  const float *A = p[0], *B = p[1];
  float *y = p[2];
  int64_t lo, hi, rows = d0 * d1 * d2;
  kn_range(b, e, items, rows, &lo, &hi);
  for (int64_t r = lo; r < hi; r++) {
    int64_t i2 = r % d2, i1 = (r / d2) % d1, i0 = r / (d1 * d2);
    const float *a = A + i0 * sa0 + i1 * sa1 + i2 * sa2, *c = B + i0 * sb0 + i1 * sb1 + i2 * sb2;
    float *o = y + r * d3;
    if (op == 0)
      KN_SIMD
      for (int64_t j = 0; j < d3; j++) o[j] = a[j * sa3] + c[j * sb3];
    else
      KN_SIMD
      for (int64_t j = 0; j < d3; j++) o[j] = a[j * sa3] * c[j * sb3];
  }
}

/* y[t] = sum of x over the dimensions where t is 1 (x [x0..x3], t [t0..t3]). Units: output
 * elements. p: x, y. */
void kn_k_sum_to(void *const *p, int64_t b, int64_t e, int64_t x0, int64_t x1, int64_t x2, int64_t x3,
                 int64_t t0, int64_t t1, int64_t t2, int64_t t3, int64_t items) {
  const float *x = p[0];
  float *y = p[1];
  int64_t lo, hi, total = t0 * t1 * t2 * t3;
  kn_range(b, e, items, total, &lo, &hi);
  int64_t e0 = t0 == 1 ? x0 : 1, e1 = t1 == 1 ? x1 : 1, e2 = t2 == 1 ? x2 : 1, e3 = t3 == 1 ? x3 : 1;
  if (t3 == x3 && x3 > 1) {
    /* The last dimension is kept: sum whole runs of it at once (vectorised over w), in the
     * same order per output element as below. */
    double acc[256];
    for (int64_t o = lo; o < hi;) {
      int64_t o3 = o % t3, o2 = (o / t3) % t2, o1 = (o / (t3 * t2)) % t1, o0 = o / (t3 * t2 * t1);
      int64_t len = t3 - o3 < hi - o ? t3 - o3 : hi - o;
      len = len < 256 ? len : 256;
      for (int64_t w = 0; w < len; w++) acc[w] = 0;
      for (int64_t a = 0; a < e0; a++)
        for (int64_t c = 0; c < e1; c++)
          for (int64_t h = 0; h < e2; h++) {
            const float *row = x + (((o0 + a) * x1 + o1 + c) * x2 + o2 + h) * x3 + o3;
            for (int64_t w = 0; w < len; w++) acc[w] += row[w];
          }
      for (int64_t w = 0; w < len; w++) y[o + w] = (float)acc[w];
      o += len;
    }
    return;
  }
  for (int64_t o = lo; o < hi; o++) {
    int64_t o3 = o % t3, o2 = (o / t3) % t2, o1 = (o / (t3 * t2)) % t1, o0 = o / (t3 * t2 * t1);
    double s = 0;
    for (int64_t a = 0; a < e0; a++)
      for (int64_t c = 0; c < e1; c++)
        for (int64_t h = 0; h < e2; h++) {
          const float *row = x + (((o0 + a) * x1 + o1 + c) * x2 + o2 + h) * x3 + o3;
          s += kn_dsum(row, e3);
        }
    y[o] = (float)s;
  }
}

/* db[c] = sum over n, hw of dy[n, c, hw]. Units: channels. p: dy, db. */
void kn_k_bias_grad(void *const *p, int64_t b, int64_t e, int64_t N, int64_t C, int64_t HW, int64_t items) {
  const float *dy = p[0];
  float *db = p[1];
  int64_t lo, hi;
  kn_range(b, e, items, C, &lo, &hi);
  for (int64_t c = lo; c < hi; c++) {
    double s = 0;
    for (int64_t n = 0; n < N; n++) s += kn_dsum(dy + (n * C + c) * HW, HW);
    db[c] = (float)s;
  }
}

/* nblk blocks of len floats: dst[k * dstride + doff + i] = src[k * sstride + soff + i].
 * Units: elements (nblk * len). Serves concat, slice_channels, flatten and reshape. p: src, dst. */
void kn_k_copy(void *const *p, int64_t b, int64_t e, int64_t nblk, int64_t len, int64_t sstride, int64_t soff,
               int64_t dstride, int64_t doff, int64_t items) {
  const float *src = p[0];
  float *dst = p[1];
  int64_t lo, hi;
  kn_range(b, e, items, nblk * len, &lo, &hi);
  while (lo < hi) {
    int64_t k = lo / len, i = lo % len, n = len - i < hi - lo ? len - i : hi - lo;
    const float *s = src + k * sstride + soff + i;
    float *d = dst + k * dstride + doff + i;
    KN_SIMD
    for (int64_t j = 0; j < n; j++) d[j] = s[j];
    lo += n;
  }
}
