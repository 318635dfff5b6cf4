/* mma.c — tensor-core (tf32 or bf16 mma.sync) kernels for convolutions and matrix products:
 * implicit GEMM.
 *
 * Each kernel is a matrix product D[M,N] = A[M,K] * B[K,N] whose operands are read straight from
 * the tensors (no im2col buffer, no shared memory). One warp computes a 16x32 tile of D with four
 * mma per k-step: kn_mma_tf32_16x8x8 (k-step 8) or kn_mma_bf16_16x8x16 (k-step 16), chosen by the
 * last integer argument (kn_gpu.h has the fragment layouts); tiles are spread over the warps with
 * a warp-stride loop (kn_for_warp), so any grid is correct. The lowering launches 32 threads per
 * tile.
 *
 * Operands are loaded with kn_mma_ld: out-of-range elements (tails of M, N, K, padding, strided
 * gaps) read element 0 and are replaced by zero with a select, so the code between two mma
 * instructions has no lane-dependent branch and the mma is always executed by the whole warp
 * (clang cannot mark the inline asm convergent; keeping the control flow uniform means no pass
 * can move it under a divergent branch). Accumulation is float32; the operands are rounded to
 * tf32 (10 mantissa bits, like PyTorch's default for cuDNN convolutions) or to bf16 (8 mantissa
 * bits, round to nearest even).
 *
 * Arguments are those of the SIMT kernels they replace (conv.c, gemm.c) plus bf16 (0: tf32):
 *   conv kernels: i = {N, C, H, W, CO, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, G, has_bias, bf16}
 *   gemm:         i = {M, N, K, asm, ask, bsk, bsn, has_bias, bf16}
 */
#include "kn_gpu.h"

/* p[ok ? off : 0], or 0 when !ok: a load that is always in bounds and a select. */
static inline float kn_mma_ld(const float *p, long ok, long off) {
  float v = p[ok ? off : 0];
  return ok ? v : 0.f;
}

/* One warp: D[m0.., n0..] (16x32) = sum over k of LA(m, k) * LB(k, n); ST(m, n, v) stores one
 * element (and checks its bounds). LA, LB, ST are function-like macros of the calling kernel.
 * bf16 (warp-uniform: a constant in the PTX, where the other branch folds away) picks the
 * operand type: tf32 (k-step 8, kn_mma_tf32_16x8x8) or bf16 (k-step 16, kn_mma_bf16_16x8x16). */
#define KN_MMA_WARP_TILE(bf16, K, m0, n0, LA, LB, ST)                                                        \
  do {                                                                                                       \
    if (bf16) KN_MMA_WARP_TILE_T(BF16, K, m0, n0, LA, LB, ST);                                               \
    else KN_MMA_WARP_TILE_T(TF32, K, m0, n0, LA, LB, ST);                                                    \
  } while (0)
/* The tile for operand type T (TF32 or BF16): KN_MMA_KSTEP_T, KN_MMA_FRAG_T (register type),
 * KN_MMA_A_T / KN_MMA_B_T (this lane's fragments, kn_gpu.h has the layouts), KN_MMA_OP_T. */
#define KN_MMA_WARP_TILE_T(T, K, m0, n0, LA, LB, ST)                                                         \
  do {                                                                                                       \
    int g_ = kn_lane() >> 2, t_ = kn_lane() & 3;                                                             \
    float c0_[4] = {0.f, 0.f, 0.f, 0.f}, c1_[4] = {0.f, 0.f, 0.f, 0.f}, c2_[4] = {0.f, 0.f, 0.f, 0.f},     \
          c3_[4] = {0.f, 0.f, 0.f, 0.f};                                                                     \
    for (long k_ = 0; k_ < (K); k_ += KN_MMA_KSTEP_##T) {                                                    \
      KN_MMA_FRAG_##T a_[4] = KN_MMA_A_##T(LA, (m0) + g_, k_);                                               \
      KN_MMA_STEP(T, LB, k_, (n0) + g_, a_, c0_);                                                            \
      KN_MMA_STEP(T, LB, k_, (n0) + 8 + g_, a_, c1_);                                                        \
      KN_MMA_STEP(T, LB, k_, (n0) + 16 + g_, a_, c2_);                                                       \
      KN_MMA_STEP(T, LB, k_, (n0) + 24 + g_, a_, c3_);                                                       \
    }                                                                                                        \
    KN_MMA_STORE(ST, m0, (n0) + 2 * t_, g_, c0_);                                                            \
    KN_MMA_STORE(ST, m0, (n0) + 8 + 2 * t_, g_, c1_);                                                        \
    KN_MMA_STORE(ST, m0, (n0) + 16 + 2 * t_, g_, c2_);                                                       \
    KN_MMA_STORE(ST, m0, (n0) + 24 + 2 * t_, g_, c3_);                                                       \
  } while (0)
/* One 16x8 product of a k-step into accumulator c (n: this lane's column of B); written out, not
 * looped, so that the accumulators stay in registers. */
#define KN_MMA_STEP(T, LB, k, n, a, c)                                                                       \
  do {                                                                                                       \
    KN_MMA_FRAG_##T b_[2] = KN_MMA_B_##T(LB, k, n);                                                          \
    KN_MMA_OP_##T(c, a, b_, c);                                                                              \
  } while (0)
/* tf32: one element per register; m = m0 + g (row of a0), k the k-step's first column. */
#define KN_MMA_KSTEP_TF32 8
#define KN_MMA_FRAG_TF32 unsigned
#define KN_MMA_OP_TF32 kn_mma_tf32_16x8x8
#define KN_MMA_A_TF32(LA, m, k) \
  {kn_tf32(LA(m, (k) + t_)), kn_tf32(LA((m) + 8, (k) + t_)), kn_tf32(LA(m, (k) + t_ + 4)), kn_tf32(LA((m) + 8, (k) + t_ + 4))}
#define KN_MMA_B_TF32(LB, k, n) {kn_tf32(LB((k) + t_, n)), kn_tf32(LB((k) + t_ + 4, n))}
/* bf16: two consecutive k per register (columns of A, rows of B), lower k in the low half. */
#define KN_MMA_KSTEP_BF16 16
#define KN_MMA_FRAG_BF16 kn_bf16x2
#define KN_MMA_OP_BF16 kn_mma_bf16_16x8x16
#define KN_MMA_A_BF16(LA, m, k) \
  {KN_MMA_A2(LA, m, (k) + 2 * t_), KN_MMA_A2(LA, (m) + 8, (k) + 2 * t_), KN_MMA_A2(LA, m, (k) + 2 * t_ + 8), \
   KN_MMA_A2(LA, (m) + 8, (k) + 2 * t_ + 8)}
#define KN_MMA_A2(LA, m, k) kn_bf16x2_pack(LA(m, k), LA(m, (k) + 1))
#define KN_MMA_B_BF16(LB, k, n) \
  {kn_bf16x2_pack(LB((k) + 2 * t_, n), LB((k) + 2 * t_ + 1, n)), \
   kn_bf16x2_pack(LB((k) + 2 * t_ + 8, n), LB((k) + 2 * t_ + 9, n))}
/* The four elements of accumulator c: rows m0+g, m0+g+8, columns n and n+1. */
#define KN_MMA_STORE(ST, m0, n, g, c)                                                                        \
  do {                                                                                                       \
    ST((m0) + (g), n, (c)[0]);                                                                               \
    ST((m0) + (g), (n) + 1, (c)[1]);                                                                         \
    ST((m0) + (g) + 8, n, (c)[2]);                                                                           \
    ST((m0) + (g) + 8, (n) + 1, (c)[3]);                                                                     \
  } while (0)

#define KN_CONV_GEOM                                                                        \
  long N = i[0], C = i[1], H = i[2], W = i[3], CO = i[4], OH = i[5], OW = i[6], KH = i[7],  \
       KW = i[8], SH = i[9], SW = i[10], PH = i[11], PW = i[12], DH = i[13], DW = i[14],   \
       G = i[15];                                                                           \
  long CIG = C / G, COG = CO / G, KK = KH * KW;                                             \
  (void)(N + C + H + W + CO + OH + OW + KH + KW + SH + SW + PH + PW + DH + DW + CIG + COG + KK)

/* Tile t of G groups of ceil(M/16) x ceil(N/32) tiles: group gi, first row m0, first column n0. */
#define KN_MMA_TILE_COORDS(t, M, N)                                                         \
  long mt_ = ((M) + 15) / 16, nt_ = ((N) + 31) / 32;                                        \
  long gi = (t) / (mt_ * nt_), m0 = ((t) % (mt_ * nt_)) / nt_ * 16, n0 = (t) % nt_ * 32;    \
  (void)gi

/* Number of tiles (for the lowering: threads = 32 * tiles). */
#define KN_MMA_TILES(G, M, N) ((G) * (((M) + 15) / 16) * (((N) + 31) / 32))

/* x(k, n) of the forward product: k = (ci, kh, kw) of group gi, n = (batch, oh, ow). */
static inline float kn_mma_conv_x(const float *x, const long *i, long gi, long k, long n) {
  KN_CONV_GEOM;
  long P = OH * OW, kr = k % KK, pr = n % P;
  long ih = pr / OW * SH - PH + kr / KW * DH, iw = pr % OW * SW - PW + kr % KW * DW;
  long ok = (k < CIG * KK) & (n < N * P) & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W);
  return kn_mma_ld(x, ok, ((n / P * C + gi * CIG + k / KK) * H + ih) * W + iw);
}

/* forward: y[b, gi*COG+m, oh, ow] = sum_k w[gi*COG+m, k] * x(k, (b, oh, ow)) (+ bias).
 * M = CO/G, N = batch*OH*OW, K = C/G*KH*KW. p = {x, w, bias (NULL unless has_bias), y} */
void kn_gk_conv2d_mma(const long *i, const float *f, void *const *p) {
  KN_CONV_GEOM;
  const float *x = p[0], *w = p[1], *b = p[2];
  float *y = p[3];
  long Kd = CIG * KK, P = OH * OW, NP = N * P;
  kn_for_warp(t, KN_MMA_TILES(G, COG, NP)) {
    KN_MMA_TILE_COORDS(t, COG, NP);
    const float *wg = w + gi * COG * Kd;
#define LA(m, k) kn_mma_ld(wg, ((m) < COG) & ((k) < Kd), (m) * Kd + (k))
#define LB(k, n) kn_mma_conv_x(x, i, gi, k, n)
#define ST(m, n, v)                                                                                 \
  if (((m) < COG) & ((n) < NP))                                                                     \
  y[((n) / P * CO + gi * COG + (m)) * P + (n) % P] = (v) + (i[16] ? b[gi * COG + (m)] : 0.f)
    KN_MMA_WARP_TILE(i[17], Kd, m0, n0, LA, LB, ST);
#undef LA
#undef LB
#undef ST
  }
}

/* dy(k, n) of the input-gradient product: k = (co in group gi, kh, kw), n = (batch, ih, iw);
 * the output pixel that input pixel n meets through kernel tap (kh, kw), zero if none. */
static inline float kn_mma_conv_dy(const float *dy, const long *i, long gi, long k, long n) {
  KN_CONV_GEOM;
  long HW = H * W, kr = k % KK, pr = n % HW;
  long th = pr / W + PH - kr / KW * DH, tw = pr % W + PW - kr % KW * DW;
  long ok = (k < COG * KK) & (n < N * HW) & (th >= 0) & (tw >= 0);
  th = ok ? th : 0; /* keeps % and / on non-negative values */
  tw = ok ? tw : 0;
  long oh = th / SH, ow = tw / SW;
  ok = ok & (th % SH == 0) & (tw % SW == 0) & (oh < OH) & (ow < OW);
  return kn_mma_ld(dy, ok, ((n / HW * CO + gi * COG + k / KK) * OH + oh) * OW + ow);
}

/* gradient of the input: dx[b, gi*CIG+m, ih, iw] = sum_k w(k, m) * dy(k, (b, ih, iw)), gathering
 * (no atomics). M = C/G, N = batch*H*W, K = CO/G*KH*KW. p = {dy, w, dx} */
void kn_gk_conv2d_grad_input_mma(const long *i, const float *f, void *const *p) {
  KN_CONV_GEOM;
  const float *dy = p[0], *w = p[1];
  float *dx = p[2];
  long Kd = COG * KK, HW = H * W, NX = N * HW;
  kn_for_warp(t, KN_MMA_TILES(G, CIG, NX)) {
    KN_MMA_TILE_COORDS(t, CIG, NX);
    const float *wg = w + gi * COG * CIG * KK;
#define LA(m, k) kn_mma_ld(wg, ((m) < CIG) & ((k) < Kd), ((k) / KK * CIG + (m)) * KK + (k) % KK)
#define LB(k, n) kn_mma_conv_dy(dy, i, gi, k, n)
#define ST(m, n, v) \
  if (((m) < CIG) & ((n) < NX)) dx[((n) / HW * C + gi * CIG + (m)) * HW + (n) % HW] = (v)
    KN_MMA_WARP_TILE(i[17], Kd, m0, n0, LA, LB, ST);
#undef LA
#undef LB
#undef ST
  }
}

/* gradient of the weight: dw[gi*COG+m, n] = sum_k dy[(b, gi*COG+m, oh, ow)] * x(n, k) with
 * k = (b, oh, ow), n = (ci, kh, kw). M = CO/G, N = C/G*KH*KW, K = batch*OH*OW. p = {dy, x, dw} */
void kn_gk_conv2d_grad_weight_mma(const long *i, const float *f, void *const *p) {
  KN_CONV_GEOM;
  const float *dy = p[0], *x = p[1];
  float *dw = p[2];
  long P = OH * OW, Kr = N * P, NW = CIG * KK;
  kn_for_warp(t, KN_MMA_TILES(G, COG, NW)) {
    KN_MMA_TILE_COORDS(t, COG, NW);
#define LA(m, k) kn_mma_ld(dy, ((m) < COG) & ((k) < Kr), ((k) / P * CO + gi * COG + (m)) * P + (k) % P)
#define LB(k, n) kn_mma_conv_x(x, i, gi, n, k)
#define ST(m, n, v) \
  if (((m) < COG) & ((n) < NW)) dw[(gi * COG + (m)) * NW + (n)] = (v)
    KN_MMA_WARP_TILE(i[17], Kr, m0, n0, LA, LB, ST);
#undef LA
#undef LB
#undef ST
  }
}

/* C[m, n] = sum_k A[m*asm + k*ask] * B[k*bsk + n*bsn] (+ bias[n]) (see gemm.c).
 * i = {M, N, K, asm, ask, bsk, bsn, has_bias, bf16}; p = {A, B, bias (NULL unless has_bias), C} */
void kn_gk_gemm_mma(const long *i, const float *f, void *const *p) {
  long M = i[0], N = i[1], K = i[2], asm_ = i[3], ask = i[4], bsk = i[5], bsn = i[6];
  const float *A = p[0], *B = p[1], *bias = p[2];
  float *Cm = p[3];
  kn_for_warp(t, KN_MMA_TILES(1, M, N)) {
    KN_MMA_TILE_COORDS(t, M, N);
#define LA(m, k) kn_mma_ld(A, ((m) < M) & ((k) < K), (m) * asm_ + (k) * ask)
#define LB(k, n) kn_mma_ld(B, ((k) < K) & ((n) < N), (k) * bsk + (n) * bsn)
#define ST(m, n, v) \
  if (((m) < M) & ((n) < N)) Cm[(m) * N + (n)] = (v) + (i[7] ? bias[n] : 0.f)
    KN_MMA_WARP_TILE(i[8], K, m0, n0, LA, LB, ST);
#undef LA
#undef LB
#undef ST
  }
}
