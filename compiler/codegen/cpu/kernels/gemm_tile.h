/* gemm_tile.h — kn_gemm_tile and kn_gemm_item, written over whatever kn_gemm_panel names. gemm.h
 * includes it once for the fp32 panel; gemm_variant.h includes it again with kn_gemm_panel,
 * kn_gemm_tile and kn_gemm_item renamed, so each other panel (bf16, AMX) gets the same tiling from
 * this one text. No include guard on purpose: each inclusion is a different set of functions.
 */

/* C(m x n) (+)= A(m x k) * B(k x n) for one tile: m <= any, n <= NC. Packs B in KC blocks, and A
 * too in KN_MC-row chunks when it is stored transposed with a long column stride. */
KN_INLINE void kn_gemm_tile(int64_t m, int64_t n, int64_t k, const float *A, int64_t ars, int64_t acs,
                            const float *B, int64_t brs, int64_t bcs, float *C, int64_t ldc, int acc) {
  float Bp[KN_KC * KN_NC] __attribute__((aligned(64)));
  float Ap[KN_MC * KN_KC] __attribute__((aligned(64)));
  for (int64_t r0 = 0; r0 < k; r0 += KN_KC) {
    int64_t kc = k - r0 < KN_KC ? k - r0 : KN_KC;
    kn_pack_strided(kc, n, B + r0 * brs, brs, bcs, Bp);
    if (ars != 1 || acs < KN_PACK_AT_STRIDE) {
      kn_gemm_panel(m, n, kc, A + r0 * acs, ars, acs, Bp, C, ldc, acc || r0 > 0);
      continue;
    }
    for (int64_t i0 = 0; i0 < m; i0 += KN_MC) {
      int64_t mc = m - i0 < KN_MC ? m - i0 : KN_MC;
      kn_pack_at(mc, kc, A + i0 + r0 * acs, acs, Ap);
      kn_gemm_panel(mc, n, kc, Ap, 1, mc, Bp, C + i0 * ldc, ldc, acc || r0 > 0);
    }
  }
  if (k == 0 && !acc)
    for (int64_t i = 0; i < m; i++) memset(C + i * ldc, 0, (size_t)n * sizeof(float));
}

/* Work item `it` of a generic GEMM (see kn_gemm_items): C[m x n] (+)= A * B. */
KN_INLINE void kn_gemm_item(int64_t it, int64_t m, int64_t n, int64_t k, const float *A, int64_t ars,
                            int64_t acs, const float *B, int64_t brs, int64_t bcs, float *C, int64_t ldc,
                            int acc) {
  int64_t mc = kn_gemm_mc(m, kn_cdiv(n, KN_NC)), nm = kn_cdiv(m, mc);
  int64_t jt = it / nm, ic = it % nm;
  int64_t i0 = ic * mc, j0 = jt * KN_NC;
  int64_t mm = m - i0 < mc ? m - i0 : mc, nn = n - j0 < KN_NC ? n - j0 : KN_NC;
  kn_gemm_tile(mm, nn, k, A + i0 * ars, ars, acs, B + j0 * bcs, brs, bcs, C + i0 * ldc + j0, ldc, acc);
}
