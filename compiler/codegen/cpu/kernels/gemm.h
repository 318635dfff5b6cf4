/* gemm.h — the SGEMM core shared by the convolution and linear kernels: panel packing and a
 * register-blocked 6x32 micro-kernel written with clang vector extensions (two 16-float vectors
 * per row: zmm registers under AVX-512, pairs of ymm under AVX2).
 *
 * Operands are described by strides, so one routine serves A, A^T, B and B^T:
 *   A(i, r) = A[i * ars + r * acs]   (M x K)
 *   B(r, j) = B[r * brs + j * bcs]   (K x N), packed into strips Bp[s][r][0..NR) zero-padded.
 * Everything here is static inline: after specialisation every stride and size is a constant.
 */
#ifndef KN_GEMM_H
#define KN_GEMM_H

#include <stdint.h>
#include <string.h>

#include "kn_kernels.h"

typedef float kn_v16 __attribute__((vector_size(64), aligned(4)));
typedef float kn_v8 __attribute__((vector_size(32), aligned(4)));
typedef float kn_v4 __attribute__((vector_size(16), aligned(4)));
#define KN_INLINE static inline __attribute__((always_inline))

/* Makes i opaque to the optimiser (no instruction): loops over it are not turned into calls to
 * memcpy/memset, which cost more than the few vector moves of a short run. */
#define KN_OPAQUE(i) __asm__("" : "+r"(i))

/* d[0 .. n) += s[0 .. n) for short runs, vectorised down to the last few elements. */
KN_INLINE void kn_addf(float *d, const float *s, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) *(kn_v16 *)(d + i) += *(const kn_v16 *)(s + i);
  if (i + 8 <= n) {
    *(kn_v8 *)(d + i) += *(const kn_v8 *)(s + i);
    i += 8;
  }
  if (i + 4 <= n) {
    *(kn_v4 *)(d + i) += *(const kn_v4 *)(s + i);
    i += 4;
  }
  for (; i < n; i++) d[i] += s[i];
}

/* d[0 .. n) = 0 for short runs, inline. */
KN_INLINE void kn_zerof(float *d, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    KN_OPAQUE(i);
    *(kn_v16 *)(d + i) = (kn_v16){0};
  }
  for (; i < n; i++) {
    KN_OPAQUE(i);
    d[i] = 0.0f;
  }
}

/* d[0 .. n) = s[0 .. n) for short runs, inline. */
KN_INLINE void kn_copyf(float *d, const float *s, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    KN_OPAQUE(i);
    *(kn_v16 *)(d + i) = *(const kn_v16 *)(s + i);
  }
  if (i + 8 <= n) {
    *(kn_v8 *)(d + i) = *(const kn_v8 *)(s + i);
    i += 8;
  }
  if (i + 4 <= n) {
    *(kn_v4 *)(d + i) = *(const kn_v4 *)(s + i);
    i += 4;
  }
  if (i < n) d[i] = s[i];
  if (i + 1 < n) d[i + 1] = s[i + 1];
  if (i + 2 < n) d[i + 2] = s[i + 2];
}

/* C[0..mr, 0..nr) (+)= the micro-kernel accumulators c (KN_MR rows of two 16-float vectors):
 * whole vectors when the strip is full, through a staging tile otherwise. Shared by every panel's
 * micro-kernel (fp32 here, bf16 in gemm_bf16.h). */
KN_INLINE void kn_ukernel_store(kn_v16 c[KN_MR][2], int64_t mr, float *C, int64_t ldc, int64_t nr, int acc) {
  if (nr == KN_NR) {
    for (int i = 0; i < KN_MR; i++) {
      if (i >= mr) break;
      kn_v16 *d0 = (kn_v16 *)(C + i * ldc), *d1 = (kn_v16 *)(C + i * ldc + 16);
      if (acc) {
        *d0 = *d0 + c[i][0];
        *d1 = *d1 + c[i][1];
      } else {
        *d0 = c[i][0];
        *d1 = c[i][1];
      }
    }
    return;
  }
  float t[KN_MR][KN_NR] __attribute__((aligned(64)));
  for (int i = 0; i < KN_MR; i++) {
    *(kn_v16 *)&t[i][0] = c[i][0];
    *(kn_v16 *)&t[i][16] = c[i][1];
  }
  for (int64_t i = 0; i < mr; i++)
    for (int64_t j = 0; j < nr; j++) C[i * ldc + j] = acc ? C[i * ldc + j] + t[i][j] : t[i][j];
}

/* C[0..mr, 0..nr) (+)= A(mr x kc) * Bp(kc x NR strip). */
KN_INLINE void kn_ukernel(int64_t kc, const float *A, int64_t ars, int64_t acs, int64_t mr,
                          const float *Bp, float *C, int64_t ldc, int64_t nr, int acc) {
  kn_v16 c[KN_MR][2];
  const float *a[KN_MR];
  for (int i = 0; i < KN_MR; i++) {
    c[i][0] = (kn_v16){0};
    c[i][1] = (kn_v16){0};
    a[i] = A + (i < mr ? i : mr - 1) * ars;
  }
  for (int64_t r = 0; r < kc; r++) {
    kn_v16 b0 = *(const kn_v16 *)(Bp + r * KN_NR);
    kn_v16 b1 = *(const kn_v16 *)(Bp + r * KN_NR + 16);
    for (int i = 0; i < KN_MR; i++) {
      float ai = a[i][r * acs];
      c[i][0] = c[i][0] + ai * b0;
      c[i][1] = c[i][1] + ai * b1;
    }
  }
  kn_ukernel_store(c, mr, C, ldc, nr, acc);
}

/* C[0..m, 0..nc) (+)= A(m x kc) * Bp, Bp holding ceil(nc / NR) strips of kc x NR. Rows go in
 * chunks of KN_MC, each swept over every strip, so a chunk of A stays in L2 beside Bp however
 * large m is. */
KN_INLINE void kn_gemm_panel(int64_t m, int64_t nc, int64_t kc, const float *A, int64_t ars,
                             int64_t acs, const float *Bp, float *C, int64_t ldc, int acc) {
  for (int64_t i0 = 0; i0 < m; i0 += KN_MC) {
    int64_t i1 = m - i0 < KN_MC ? m : i0 + KN_MC;
    for (int64_t s = 0; s * KN_NR < nc; s++) {
      int64_t nr = nc - s * KN_NR < KN_NR ? nc - s * KN_NR : KN_NR;
      for (int64_t i = i0; i < i1; i += KN_MR) {
        int64_t mr = i1 - i < KN_MR ? i1 - i : KN_MR;
        kn_ukernel(kc, A + i * ars, ars, acs, mr, Bp + s * kc * KN_NR, C + i * ldc + s * KN_NR, ldc, nr, acc);
      }
    }
  }
}

/* Packs B(r0.., j0..) of kc x nc from a strided matrix into strips. */
KN_INLINE void kn_pack_strided(int64_t kc, int64_t nc, const float *B, int64_t brs, int64_t bcs, float *Bp) {
  for (int64_t s = 0; s * KN_NR < nc; s++) {
    int64_t nr = nc - s * KN_NR < KN_NR ? nc - s * KN_NR : KN_NR;
    float *d = Bp + s * kc * KN_NR;
    const float *src = B + s * KN_NR * bcs;
    if (bcs == 1 && nr == KN_NR) {
      for (int64_t r = 0; r < kc; r++) kn_copyf(d + r * KN_NR, src + r * brs, KN_NR);
      continue;
    }
    for (int64_t r = 0; r < kc; r++) {
      int64_t j = 0;
      for (; j < nr; j++) d[r * KN_NR + j] = src[r * brs + j * bcs];
      for (; j < KN_NR; j++) d[r * KN_NR + j] = 0.0f;
    }
  }
}

/* 16x16 transpose in registers: four rounds that swap the off-diagonal b x b blocks (b = 8, 4, 2, 1),
 * each a two-source shuffle per pair of rows. */
#define KN_TR_LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define KN_TR_HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define KN_TR_LO4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define KN_TR_HI4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define KN_TR_LO2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define KN_TR_HI2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define KN_TR_LO1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define KN_TR_HI1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define KN_TR_ROUND(B, LO, HI)                                                                      \
  for (int i = 0; i < 16; i++)                                                                     \
    if (!(i & B)) {                                                                                \
      kn_v16 lo = __builtin_shufflevector(v[i], v[i + B], LO);                                     \
      kn_v16 hi = __builtin_shufflevector(v[i], v[i + B], HI);                                     \
      v[i] = lo;                                                                                   \
      v[i + B] = hi;                                                                               \
    }

/* dst[c * dld + r] = src[r * sld + c] for r, c < 16. */
KN_INLINE void kn_transpose16(const float *src, int64_t sld, float *dst, int64_t dld) {
  kn_v16 v[16];
  for (int i = 0; i < 16; i++) v[i] = *(const kn_v16 *)(src + i * sld);
  KN_TR_ROUND(8, KN_TR_LO8, KN_TR_HI8)
  KN_TR_ROUND(4, KN_TR_LO4, KN_TR_HI4)
  KN_TR_ROUND(2, KN_TR_LO2, KN_TR_HI2)
  KN_TR_ROUND(1, KN_TR_LO1, KN_TR_HI1)
  for (int i = 0; i < 16; i++) *(kn_v16 *)(dst + i * dld) = v[i];
}

/* Packs B(r, j) = S[j * sld + r] (r < kc, j < nc: a row-major S read transposed) into strips. */
KN_INLINE void kn_pack_t(int64_t kc, int64_t nc, const float *S, int64_t sld, float *Bp) {
  for (int64_t s = 0; s * KN_NR < nc; s++) {
    int64_t nr = nc - s * KN_NR < KN_NR ? nc - s * KN_NR : KN_NR;
    float *d = Bp + s * kc * KN_NR;
    const float *src = S + s * KN_NR * sld;
    int64_t r = 0;
    if (nr == KN_NR)
      for (; r + 16 <= kc; r += 16) {
        kn_transpose16(src + r, sld, d + r * KN_NR, KN_NR);
        kn_transpose16(src + 16 * sld + r, sld, d + r * KN_NR + 16, KN_NR);
      }
    for (; r < kc; r++) {
      int64_t j = 0;
      for (; j < nr; j++) d[r * KN_NR + j] = src[j * sld + r];
      for (; j < KN_NR; j++) d[r * KN_NR + j] = 0.0f;
    }
  }
}

/* Ap[r * mc + i] = A(i, r) for i < mc, r < kc, from an A stored transposed (ars 1, column stride
 * acs): row copies. The micro-kernel then reads A's k steps mc floats apart instead of acs apart.
 * Worth it only for very long strides (measured on Zen 4: -7% at a 4608-float stride from the
 * copies, +10% at 18432 from fewer TLB misses): used from KN_PACK_AT_STRIDE floats. */
#define KN_PACK_AT_STRIDE 16384
KN_INLINE void kn_pack_at(int64_t mc, int64_t kc, const float *A, int64_t acs, float *Ap) {
  for (int64_t r = 0; r < kc; r++) kn_copyf(Ap + r * mc, A + r * acs, mc);
}

#include "gemm_tile.h"

#endif
