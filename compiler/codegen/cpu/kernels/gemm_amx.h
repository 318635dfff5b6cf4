/* gemm_amx.h — the GEMM panel of `--cpu-math=bf16` on CPUs with AMX (amx-tile, amx-bf16; Sapphire
 * Rapids and later, which also have AVX512-BF16 for the conversions of gemm_bf16.h).
 *
 * Per panel: B (the fp32 kernels' 32-column float strips) is converted once to bf16, nearest even,
 * in the VNNI pair layout of gemm_bf16.h, its pair rows padded with zeros to a multiple of 16: row
 * q of a strip is 32 dwords (B[2q][j], B[2q+1][j]), so the B tile of columns 0-15 (16-31) is the
 * first (second) 64 bytes of 16 consecutive 128-byte rows. A is converted per block of 32 rows to
 * row-major bf16, k padded with zeros to a multiple of 32 (one 64-byte tile row per 32 k). Tiles
 * (palette 1, all 16 rows x 64 bytes): tmm0-3 the fp32 accumulators of a 32x32 block, tmm4-5 two
 * A tiles (rows 0-15, 16-31), tmm6-7 two B tiles (columns 0-15, 16-31); each k step of 32 is four
 * TDPBF16PS. The block is stored to a 32x32 float buffer and added (or copied) into C for the rows
 * and columns that exist. The process must have been granted the tile state (kn_cpu_math_setup in
 * the runtime asks Linux at start).
 * NOT RUN on the development machine (AMD Zen 4, no AMX): compiled, its instructions checked
 * (tests/codegen test_bf16.c asm), its run test reports SKIPPED there.
 */
#ifndef KN_GEMM_AMX_H
#define KN_GEMM_AMX_H

#include "gemm_bf16.h"

typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} kn_amx_cfg;

/* Aa[i][0 .. kp) <- bf16 of A(i, r), r < kc (zero beyond), for rows i < mb (rows mb .. 32 zero). */
KN_INLINE void kn_amx_pack_a(int64_t mb, int64_t kc, int64_t kp, const float *A, int64_t ars, int64_t acs,
                             uint16_t *Aa) {
  for (int64_t i = 0; i < 32; i++) {
    uint16_t *d = Aa + i * kp;
    int64_t r = 0;
    if (i < mb && acs == 1)
      for (; r + 32 <= kc; r += 32) {
        const float *a = A + i * ars + r;
        _mm512_storeu_si512((void *)(d + r), (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(a + 16), _mm512_loadu_ps(a)));
      }
    for (; i < mb && r < kc; r++) d[r] = (uint16_t)kn_bf16_bits(A[i * ars + r * acs]);
    for (; r < kp; r++) d[r] = 0;
  }
}

/* kn_gemm_panel with bf16 operands on AMX tiles: C[0..m, 0..nc) (+)= A(m x kc) * Bp. */
KN_INLINE void kn_gemm_panel_amx(int64_t m, int64_t nc, int64_t kc, const float *A, int64_t ars, int64_t acs,
                                 const float *Bp, float *C, int64_t ldc, int acc) {
  uint16_t Bv[KN_BQ * 2 * KN_NC] __attribute__((aligned(64)));
  uint16_t Aa[32 * KN_KC] __attribute__((aligned(64)));
  float T[32 * 32] __attribute__((aligned(64)));
  kn_amx_cfg cfg __attribute__((aligned(64)));
  memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int t = 0; t < 8; t++) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  int64_t ns = kn_cdiv(nc, KN_NR), nqp = kn_cdiv((kc + 1) / 2, 16) * 16, kp = 2 * nqp;
  kn_bf16_pack_b(ns, kc, nqp, Bp, Bv);
  _tile_loadconfig(&cfg);
  for (int64_t i0 = 0; i0 < m; i0 += 32) {
    int64_t mb = m - i0 < 32 ? m - i0 : 32;
    kn_amx_pack_a(mb, kc, kp, A + i0 * ars, ars, acs, Aa);
    for (int64_t s = 0; s < ns; s++) {
      int64_t nr = nc - s * KN_NR < KN_NR ? nc - s * KN_NR : KN_NR;
      const uint16_t *bs = Bv + s * nqp * 2 * KN_NR;
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (int64_t q0 = 0; q0 < nqp; q0 += 16) {
        _tile_loadd(4, Aa + 2 * q0, kp * 2);
        _tile_loadd(5, Aa + 16 * kp + 2 * q0, kp * 2);
        _tile_loadd(6, bs + q0 * 2 * KN_NR, 4 * KN_NR);
        _tile_loadd(7, bs + q0 * 2 * KN_NR + 32, 4 * KN_NR);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      _tile_stored(0, T, 128);
      _tile_stored(1, T + 16, 128);
      _tile_stored(2, T + 16 * 32, 128);
      _tile_stored(3, T + 16 * 32 + 16, 128);
      float *c = C + i0 * ldc + s * KN_NR;
      for (int64_t i = 0; i < mb; i++)
        for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + T[i * 32 + j] : T[i * 32 + j];
    }
  }
  _tile_release();
}

#endif
