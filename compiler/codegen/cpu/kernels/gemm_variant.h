/* gemm_variant.h — makes the fp32 kernel sources run on another GEMM panel (bf16: gemm_bf16.h,
 * AMX: gemm_amx.h). The includer defines KN_GEMM_VARIANT_PANEL, a function with kn_gemm_panel's
 * signature and meaning; this header adds kn_gemm_tile / kn_gemm_item over it (gemm.h's, with the
 * panel replaced) and redirects the three names, so conv.c and linear.c included afterwards use the
 * variant everywhere. Their kernels are renamed kn_k_<name>_<variant> when the bitcode is linked
 * (cpu_math.c), so the variants sit beside the fp32 kernels in one module.
 */
#ifndef KN_GEMM_VARIANT_H
#define KN_GEMM_VARIANT_H

#include "gemm.h"

/* gemm.h's kn_gemm_tile on the variant panel. */
KN_INLINE void kn_gemm_tile_variant(int64_t m, int64_t n, int64_t k, const float *A, int64_t ars, int64_t acs,
                                    const float *B, int64_t brs, int64_t bcs, float *C, int64_t ldc, int acc) {
  float Bp[KN_KC * KN_NC] __attribute__((aligned(64)));
  for (int64_t r0 = 0; r0 < k; r0 += KN_KC) {
    int64_t kc = k - r0 < KN_KC ? k - r0 : KN_KC;
    kn_pack_strided(kc, n, B + r0 * brs, brs, bcs, Bp);
    KN_GEMM_VARIANT_PANEL(m, n, kc, A + r0 * acs, ars, acs, Bp, C, ldc, acc || r0 > 0);
  }
  if (k == 0 && !acc)
    for (int64_t i = 0; i < m; i++) memset(C + i * ldc, 0, (size_t)n * sizeof(float));
}

/* gemm.h's kn_gemm_item on the variant tile. */
KN_INLINE void kn_gemm_item_variant(int64_t it, int64_t m, int64_t n, int64_t k, const float *A, int64_t ars,
                                    int64_t acs, const float *B, int64_t brs, int64_t bcs, float *C, int64_t ldc,
                                    int acc) {
  int64_t mc = kn_gemm_mc(m, kn_cdiv(n, KN_NC)), nm = kn_cdiv(m, mc);
  int64_t jt = it / nm, ic = it % nm;
  int64_t i0 = ic * mc, j0 = jt * KN_NC;
  int64_t mm = m - i0 < mc ? m - i0 : mc, nn = n - j0 < KN_NC ? n - j0 : KN_NC;
  kn_gemm_tile_variant(mm, nn, k, A + i0 * ars, ars, acs, B + j0 * bcs, brs, bcs, C + i0 * ldc + j0, ldc, acc);
}

#define kn_gemm_panel KN_GEMM_VARIANT_PANEL
#define kn_gemm_tile kn_gemm_tile_variant
#define kn_gemm_item kn_gemm_item_variant

#endif
