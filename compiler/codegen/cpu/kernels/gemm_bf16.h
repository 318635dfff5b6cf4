/* gemm_bf16.h — the GEMM core of `--cpu-math=bf16` on AVX512-BF16 CPUs (VDPBF16PS), a drop-in for
 * gemm.h's panel: conv_bf16.c and linear_bf16.c include this header and then the fp32 kernel
 * sources, whose calls of kn_gemm_panel / kn_gemm_tile / kn_gemm_item land here (gemm_variant.h).
 * The conversions are shared with the AMX panel (gemm_amx.h).
 *
 * The fp32 kernels pack B (im2col rows, dy, x) into 32-column float strips as usual; each packed
 * panel is converted ONCE to bf16, rounded to nearest even (VCVTNE2PS2BF16: denormals become
 * zero), in the VNNI pair layout VDPBF16PS reads: strip s, k pair q holds
 * (B[2q][j], B[2q+1][j]) for j < 32 as 64 bf16. The A rows of the panel (weights, dy^T, im2col
 * rows) are converted once per panel (per 96-row chunk) into broadcast pairs (A(i,2q), A(i,2q+1))
 * as 32-bit words, row by row where A's rows are contiguous (plain vector conversions), else in
 * blocks of 6 rows [q][6] (kn_bf16_pack_a). The 6x32 micro-kernel keeps 12 zmm fp32 accumulators; each
 * VDPBF16PS adds a[2q]*b[2q] + a[2q+1]*b[2q+1] to 16 fp32 lanes (products of bf16 are exact in
 * fp32), and the result is written in fp32. An odd k gets a zero partner in both operands.
 */
#ifndef KN_GEMM_BF16_H
#define KN_GEMM_BF16_H

#include <immintrin.h>

#include "gemm.h"

#define KN_BQ (KN_KC / 2) /* k pairs per panel */
_Static_assert(KN_NR == 32, "gemm_bf16.h: B strips of 32 columns, two zmm of fp32 accumulators per row");

/* float -> bf16 bits as VCVTNE2PS2BF16 rounds: nearest even, denormal inputs as zero. */
KN_INLINE uint32_t kn_bf16_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0) return (u >> 16) & 0x8000u;
  if ((u & 0x7f800000u) == 0x7f800000u) return (u >> 16) | ((u & 0xffffu) ? 0x40u : 0u);
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

/* The pair word (lo = bf16(x0), hi = bf16(x1)). */
KN_INLINE uint32_t kn_bf16_pair(float x0, float x1) { return kn_bf16_bits(x0) | kn_bf16_bits(x1) << 16; }

/* 16 pair words (x0[j], x1[j]) of two 16-float vectors. */
KN_INLINE __m512i kn_bf16_interleave(__m512 x0, __m512 x1) {
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                       21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(x1, x0));
}

/* Bv <- the bf16 pair layout of the float strips Bp (ns strips of kc x KN_NR), nqp >= (kc + 1) / 2
 * pair rows per strip (the rows past the data are zero). */
KN_INLINE void kn_bf16_pack_b(int64_t ns, int64_t kc, int64_t nqp, const float *Bp, uint16_t *Bv) {
  int64_t nq = (kc + 1) / 2;
  const __m512 z = _mm512_setzero_ps();
  for (int64_t s = 0; s < ns; s++) {
    const float *b = Bp + s * kc * KN_NR;
    uint16_t *d = Bv + s * nqp * 2 * KN_NR;
    for (int64_t q = nq; q < nqp; q++) _mm512_storeu_si512((void *)(d + q * 2 * KN_NR), _mm512_setzero_si512()),
                                        _mm512_storeu_si512((void *)(d + q * 2 * KN_NR + 32), _mm512_setzero_si512());
    for (int64_t q = 0; q < nq; q++) {
      const float *r0 = b + 2 * q * KN_NR, *r1 = r0 + KN_NR;
      int odd = 2 * q + 1 < kc;
      for (int h = 0; h < 2; h++) {
        __m512 x0 = _mm512_loadu_ps(r0 + 16 * h), x1 = odd ? _mm512_loadu_ps(r1 + 16 * h) : z;
        _mm512_storeu_si512((void *)(d + q * 2 * KN_NR + 32 * h), kn_bf16_interleave(x0, x1));
      }
    }
  }
}

/* Ap <- the pair words of rows [0, m) of A(i, r) = A[i * ars + r * acs], r < kc (the odd partner
 * beyond kc zero). Pair (i, q) lands at Ap[i * *is + q * *qs]: rows contiguous in k (acs == 1, the
 * weights of a forward conv) keep their rows, [i][q], converted 32 floats at a time straight into
 * place; otherwise blocks of KN_MR rows, [i / KN_MR][q][i % KN_MR] (use Ap + i * nq for block i),
 * the rows past m zero. */
KN_INLINE void kn_bf16_pack_a(int64_t m, int64_t kc, const float *A, int64_t ars, int64_t acs, uint32_t *Ap,
                              int64_t *is, int64_t *qs) {
  int64_t nq = (kc + 1) / 2, mb = kn_cdiv(m, KN_MR);
  if (acs == 1) {
    *is = nq, *qs = 1;
    for (int64_t i = 0; i < m; i++) {
      const float *a = A + i * ars;
      uint32_t *d = Ap + i * nq;
      int64_t q = 0;
      for (; 2 * q + 32 <= kc; q += 16)
        _mm512_storeu_si512((void *)(d + q),
                            (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(a + 2 * q + 16), _mm512_loadu_ps(a + 2 * q)));
      for (; q < nq; q++) d[q] = kn_bf16_pair(a[2 * q], 2 * q + 1 < kc ? a[2 * q + 1] : 0.0f);
    }
    return;
  }
  *is = 1, *qs = KN_MR;
  uint32_t t[16] __attribute__((aligned(64)));
  for (int64_t i = m; i < mb * KN_MR; i++)
    for (int64_t q = 0; q < nq; q++) Ap[((i / KN_MR) * nq + q) * KN_MR + i % KN_MR] = 0;
  int64_t i = 0;
  if (ars == 1) /* columns contiguous in i: 16 rows at a time */
    for (; i + 16 <= m; i += 16)
      for (int64_t q = 0; q < nq; q++) {
        __m512 x0 = _mm512_loadu_ps(A + i + 2 * q * acs);
        __m512 x1 = 2 * q + 1 < kc ? _mm512_loadu_ps(A + i + (2 * q + 1) * acs) : _mm512_setzero_ps();
        _mm512_store_si512((void *)t, kn_bf16_interleave(x0, x1));
        for (int j = 0; j < 16; j++) Ap[(((i + j) / KN_MR) * nq + q) * KN_MR + (i + j) % KN_MR] = t[j];
      }
  for (; i < m; i++)
    for (int64_t q = 0; q < nq; q++) {
      const float *a = A + i * ars + 2 * q * acs;
      Ap[((i / KN_MR) * nq + q) * KN_MR + i % KN_MR] = kn_bf16_pair(a[0], 2 * q + 1 < kc ? a[acs] : 0.0f);
    }
}

/* C[0..mr, 0..nr) (+)= A rows (pair (i, q) at Ap[i * is + q * qs]) * one bf16 strip ([nq][2 * KN_NR]). */
KN_INLINE void kn_bf16_ukernel(int64_t nq, const uint32_t *Ap, int64_t is, int64_t qs, const uint16_t *Bv, int64_t mr,
                               float *C, int64_t ldc, int64_t nr, int acc) {
  kn_v16 c[KN_MR][2];
  const uint32_t *a[KN_MR];
  for (int i = 0; i < KN_MR; i++) {
    c[i][0] = c[i][1] = (kn_v16){0};
    a[i] = Ap + (i < mr ? i : mr - 1) * is; /* rows past mr: computed, never stored */
  }
  for (int64_t q = 0; q < nq; q++) {
    __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)(Bv + q * 2 * KN_NR));
    __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(Bv + q * 2 * KN_NR + 32));
    for (int i = 0; i < KN_MR; i++) {
      __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i][q * qs]);
      c[i][0] = (kn_v16)_mm512_dpbf16_ps((__m512)c[i][0], ai, b0);
      c[i][1] = (kn_v16)_mm512_dpbf16_ps((__m512)c[i][1], ai, b1);
    }
  }
  kn_ukernel_store(c, mr, C, ldc, nr, acc);
}

/* kn_gemm_panel with bf16 operands: C[0..m, 0..nc) (+)= A(m x kc) * Bp (float strips). */
KN_INLINE void kn_gemm_panel_bf16(int64_t m, int64_t nc, int64_t kc, const float *A, int64_t ars, int64_t acs,
                                  const float *Bp, float *C, int64_t ldc, int acc) {
  uint16_t Bv[KN_BQ * 2 * KN_NC] __attribute__((aligned(64)));
  uint32_t Ap[KN_MC * KN_BQ] __attribute__((aligned(64)));
  int64_t ns = kn_cdiv(nc, KN_NR), nq = (kc + 1) / 2;
  kn_bf16_pack_b(ns, kc, nq, Bp, Bv);
  for (int64_t i0 = 0; i0 < m; i0 += KN_MC) {
    int64_t mm = m - i0 < KN_MC ? m - i0 : KN_MC;
    int64_t is, qs;
    kn_bf16_pack_a(mm, kc, A + i0 * ars, ars, acs, Ap, &is, &qs);
    for (int64_t s = 0; s < ns; s++) {
      int64_t nr = nc - s * KN_NR < KN_NR ? nc - s * KN_NR : KN_NR;
      for (int64_t i = 0; i < mm; i += KN_MR) {
        int64_t mr = mm - i < KN_MR ? mm - i : KN_MR;
        kn_bf16_ukernel(nq, Ap + i * nq, is, qs, Bv + s * nq * 2 * KN_NR, mr, C + (i0 + i) * ldc + s * KN_NR, ldc, nr,
                        acc);
      }
    }
  }
}

#endif
