/* conv.c — convolution kernels (NCHW, groups, stride, padding, dilation) as implicit GEMM:
 * im2col panels packed straight from the image into the 6x32 micro-kernel's strip layout.
 *   forward      y[n, g, Co/G, P] = W_g[Co/G, K] * col_n,g[K, P]       (K = Ci/G * kh * kw)
 *   grad weight  dW_g[Co/G, K]    = sum_n dy_n,g[Co/G, P] * col_n,g^T
 *   grad input   dx = col2im(W_g^T * dy_n,g); 1x1 stride-1 unpadded convs write dx directly.
 * Work items follow kn_kernels.h. Compiled to bitcode and specialised per node by the compiler.
 */
#include "gemm.h"

typedef struct {
  int64_t H, W, OW, kh, kw, sh, sw, ph, pw, dh, dw;
} kn_geom;

/* Bp strips <- col[r0 .. r0+kc, p0 .. p0+nc) of one image group xg[cig, H, W]. */
KN_INLINE void kn_pack_im2col(const float *xg, int64_t r0, int64_t kc, int64_t p0, int64_t nc, kn_geom g,
                              float *Bp) {
  int64_t kk = g.kh * g.kw, ncp = kn_cdiv(nc, KN_NR) * KN_NR;
  for (int64_t r = 0; r < kc; r++) {
    int64_t k = r0 + r, ci = k / kk, ky = (k % kk) / g.kw, kx = k % g.kw;
    const float *xc = xg + ci * g.H * g.W;
    int64_t j = 0, oy = p0 / g.OW, ox = p0 % g.OW;
    while (j < nc) {
      int64_t seg = g.OW - ox < nc - j ? g.OW - ox : nc - j;
      int64_t iy = oy * g.sh - g.ph + ky * g.dh;
      for (int64_t t = 0; t < seg; t++) {
        int64_t ix = (ox + t) * g.sw - g.pw + kx * g.dw, jj = j + t;
        float v = (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) ? xc[iy * g.W + ix] : 0.0f;
        Bp[(jj / KN_NR) * kc * KN_NR + r * KN_NR + jj % KN_NR] = v;
      }
      j += seg;
      ox = 0;
      oy++;
    }
    for (int64_t jj = nc; jj < ncp; jj++) Bp[(jj / KN_NR) * kc * KN_NR + r * KN_NR + jj % KN_NR] = 0.0f;
  }
}

/* Bp strips <- col^T: rows are pixels p0 .. p0+kc, columns are taps j0 .. j0+nc. */
KN_INLINE void kn_pack_im2col_t(const float *xg, int64_t p0, int64_t kc, int64_t j0, int64_t nc, kn_geom g,
                                float *Bp) {
  int64_t kk = g.kh * g.kw;
  for (int64_t s = 0; s * KN_NR < nc; s++) {
    float *d = Bp + s * kc * KN_NR;
    for (int64_t jj = 0; jj < KN_NR; jj++) {
      int64_t j = s * KN_NR + jj;
      if (j >= nc) {
        for (int64_t r = 0; r < kc; r++) d[r * KN_NR + jj] = 0.0f;
        continue;
      }
      int64_t k = j0 + j, ci = k / kk, ky = (k % kk) / g.kw, kx = k % g.kw;
      const float *xc = xg + ci * g.H * g.W;
      int64_t oy = p0 / g.OW, ox = p0 % g.OW;
      for (int64_t r = 0; r < kc; r++) {
        int64_t iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
        d[r * KN_NR + jj] = (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) ? xc[iy * g.W + ix] : 0.0f;
        if (++ox == g.OW) {
          ox = 0;
          oy++;
        }
      }
    }
  }
}

/* p: x[N,Ci,H,W], w[Co,Ci/G,kh,kw], (b[Co]), y[N,Co,OH,OW]. Items: kn_conv_fwd_items. */
void kn_k_conv2d(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H, int64_t W,
                 int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                 int64_t pw, int64_t dh, int64_t dw, int64_t G, int64_t has_bias) {
  const float *x = p[0], *w = p[1], *b = has_bias ? p[2] : 0;
  float *y = p[2 + has_bias];
  kn_geom geo = {H, W, OW, kh, kw, sh, sw, ph, pw, dh, dw};
  int64_t cig = Ci / G, cog = Co / G, P = OH * OW, K = cig * kh * kw, np = kn_cdiv(P, KN_NC);
  int64_t mc = kn_gemm_mc(cog, N * G * np), nm = kn_cdiv(cog, mc);
  float Bp[KN_KC * KN_NC] __attribute__((aligned(64)));
  for (int64_t it = begin; it < end; it++) {
    int64_t ic = it % nm, t = it / nm, pt = t % np;
    t /= np;
    int64_t g = t % G, n = t / G, i0 = ic * mc, p0 = pt * KN_NC;
    int64_t mm = cog - i0 < mc ? cog - i0 : mc, nn = P - p0 < KN_NC ? P - p0 : KN_NC;
    const float *xg = x + (n * Ci + g * cig) * H * W, *A = w + (g * cog + i0) * K;
    float *C = y + (n * Co + g * cog + i0) * P + p0;
    for (int64_t r0 = 0; r0 < K; r0 += KN_KC) {
      int64_t kc = K - r0 < KN_KC ? K - r0 : KN_KC;
      kn_pack_im2col(xg, r0, kc, p0, nn, geo, Bp);
      kn_gemm_panel(mm, nn, kc, A + r0, K, 1, Bp, C, P, r0 > 0);
    }
    if (b)
      for (int64_t i = 0; i < mm; i++) {
        float bi = b[g * cog + i0 + i];
        for (int64_t j = 0; j < nn; j++) C[i * P + j] += bi;
      }
  }
}

/* p: dy[N,Co,OH,OW], x[N,Ci,H,W], dw[Co,Ci/G,kh,kw]. Items: kn_conv_gw_items. */
void kn_k_conv2d_grad_weight(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H,
                             int64_t W, int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
                             int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t G) {
  const float *dy = p[0], *x = p[1];
  float *dW = p[2];
  kn_geom geo = {H, W, OW, kh, kw, sh, sw, ph, pw, dh, dw};
  int64_t cig = Ci / G, cog = Co / G, P = OH * OW, K = cig * kh * kw, nj = kn_cdiv(K, KN_NC);
  int64_t mc = kn_gemm_mc(cog, G * nj), nm = kn_cdiv(cog, mc);
  float Bp[KN_KC * KN_NC] __attribute__((aligned(64)));
  for (int64_t it = begin; it < end; it++) {
    int64_t ic = it % nm, t = it / nm, jt = t % nj, g = t / nj;
    int64_t i0 = ic * mc, j0 = jt * KN_NC;
    int64_t mm = cog - i0 < mc ? cog - i0 : mc, nn = K - j0 < KN_NC ? K - j0 : KN_NC;
    float *C = dW + (g * cog + i0) * K + j0;
    for (int64_t n = 0; n < N; n++) {
      const float *xg = x + (n * Ci + g * cig) * H * W, *A = dy + (n * Co + g * cog + i0) * P;
      for (int64_t p0 = 0; p0 < P; p0 += KN_KC) {
        int64_t kc = P - p0 < KN_KC ? P - p0 : KN_KC;
        kn_pack_im2col_t(xg, p0, kc, j0, nn, geo, Bp);
        kn_gemm_panel(mm, nn, kc, A + p0, P, 1, Bp, C, K, n > 0 || p0 > 0);
      }
    }
  }
}

/* p: dy[N,Co,OH,OW], w[Co,Ci/G,kh,kw], dx[N,Ci,H,W].
 * direct (1x1, stride 1, no padding): items kn_conv_fwd_items(N, G, Ci/G, P); else items N * G. */
void kn_k_conv2d_grad_input(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H,
                            int64_t W, int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
                            int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t G,
                            int64_t direct) {
  const float *dy = p[0], *w = p[1];
  float *dx = p[2];
  int64_t cig = Ci / G, cog = Co / G, P = OH * OW, K = cig * kh * kw, kk = kh * kw;
  if (direct) {
    int64_t np = kn_cdiv(P, KN_NC), mc = kn_gemm_mc(cig, N * G * np), nm = kn_cdiv(cig, mc);
    for (int64_t it = begin; it < end; it++) {
      int64_t ic = it % nm, t = it / nm, pt = t % np;
      t /= np;
      int64_t g = t % G, n = t / G, i0 = ic * mc, p0 = pt * KN_NC;
      int64_t mm = cig - i0 < mc ? cig - i0 : mc, nn = P - p0 < KN_NC ? P - p0 : KN_NC;
      kn_gemm_tile(mm, nn, cog, w + g * cog * K + i0, 1, K, dy + (n * Co + g * cog) * P + p0, P, 1,
                   dx + (n * Ci + g * cig + i0) * P + p0, P, 0);
    }
    return;
  }
  float T[KN_MC * KN_NC] __attribute__((aligned(64)));
  for (int64_t it = begin; it < end; it++) {
    int64_t g = it % G, n = it / G;
    float *dxg = dx + (n * Ci + g * cig) * H * W;
    memset(dxg, 0, (size_t)(cig * H * W) * sizeof(float));
    for (int64_t p0 = 0; p0 < P; p0 += KN_NC) {
      int64_t nn = P - p0 < KN_NC ? P - p0 : KN_NC;
      for (int64_t i0 = 0; i0 < K; i0 += KN_MC) {
        int64_t mm = K - i0 < KN_MC ? K - i0 : KN_MC;
        kn_gemm_tile(mm, nn, cog, w + g * cog * K + i0, 1, K, dy + (n * Co + g * cog) * P + p0, P, 1, T,
                     KN_NC, 0);
        for (int64_t i = 0; i < mm; i++) {
          int64_t k = i0 + i, ci = k / kk, ky = (k % kk) / kw, kx = k % kw;
          float *xc = dxg + ci * H * W;
          int64_t oy = p0 / OW, ox = p0 % OW;
          for (int64_t j = 0; j < nn; j++) {
            int64_t iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) xc[iy * W + ix] += T[i * KN_NC + j];
            if (++ox == OW) {
              ox = 0;
              oy++;
            }
          }
        }
      }
    }
  }
}
