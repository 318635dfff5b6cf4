/* conv.c — convolution kernels (NCHW, groups, stride, padding, dilation) as implicit GEMM:
 * im2col panels packed straight from the image into the 6x32 micro-kernel's strip layout.
 *   forward      y[n, g, Co/G, P] = W_g[Co/G, K] * col_n,g[K, P]       (K = Ci/G * kh * kw)
 *   grad weight  dW_g[Co/G, K]    = sum_n dy_n,g[Co/G, P] * col_n,g^T
 *   grad input   dx = col2im(W_g^T * dy_n,g); 1x1 stride-1 unpadded convs write dx directly.
 * Work items follow kn_kernels.h. Compiled to bitcode and specialised per node by the compiler.
 */
#include <math.h>

#include "gemm.h"

typedef struct {
  int64_t H, W, OW, kh, kw, sh, sw, ph, pw, dh, dw;
} kn_geom;

/* Columns [t0, t1) of one output row segment whose input columns are ix0 + t * sw: those inside
 * [0, W). */
KN_INLINE void kn_seg_valid(int64_t ix0, int64_t seg, int64_t W, int64_t sw, int64_t *t0, int64_t *t1) {
  int64_t lo = ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw, hi = ix0 > W - 1 ? 0 : (W - 1 - ix0) / sw + 1;
  lo = lo < seg ? lo : seg;
  hi = hi < seg ? hi : seg;
  *t0 = lo;
  *t1 = hi > lo ? hi : lo;
}

/* dst[0 .. n) <- im2col row k (channel, ky, kx) at output pixels p0 .. p0+n of one image group;
 * add = 1 does the reverse (col2im): the image at those taps += dst. Runs of a row are copies. */
KN_INLINE void kn_col_row(float *xg, int64_t k, int64_t p0, int64_t n, kn_geom g, float *dst, int add) {
  int64_t kk = g.kh * g.kw, ci = k / kk, ky = (k % kk) / g.kw, kx = k % g.kw;
  float *xc = xg + ci * g.H * g.W;
  int64_t j = 0, oy = p0 / g.OW, ox = p0 % g.OW;
  while (j < n) {
    int64_t seg = g.OW - ox < n - j ? g.OW - ox : n - j, t0 = 0, t1 = 0;
    int64_t iy = oy * g.sh - g.ph + ky * g.dh, ix0 = ox * g.sw - g.pw + kx * g.dw;
    float *d = dst + j;
    if (iy >= 0 && iy < g.H) kn_seg_valid(ix0, seg, g.W, g.sw, &t0, &t1);
    if (t1 > t0) {
      float *row = xc + iy * g.W + ix0 + t0 * g.sw;
      if (add && g.sw == 1)
        kn_addf(row, d + t0, t1 - t0);
      else if (add)
        for (int64_t t = 0; t < t1 - t0; t++) row[t * g.sw] += d[t0 + t];
      else if (g.sw == 1)
        kn_copyf(d + t0, row, t1 - t0);
      else
        for (int64_t t = 0; t < t1 - t0; t++) d[t0 + t] = row[t * g.sw];
    }
    if (!add) {
      kn_zerof(d, t0);
      kn_zerof(d + t1, seg - t1);
    }
    j += seg;
    ox = 0;
    oy++;
  }
}

/* Bp strips <- col[r0 .. r0+kc, p0 .. p0+nc) of one image group xg[cig, H, W]. */
KN_INLINE void kn_pack_im2col(const float *xg, int64_t r0, int64_t kc, int64_t p0, int64_t nc, kn_geom g,
                              float *Bp) {
  int64_t ns = kn_cdiv(nc, KN_NR);
  float row[KN_NC + KN_NR] __attribute__((aligned(64)));
  for (int64_t r = 0; r < kc; r++) {
    kn_col_row((float *)xg, r0 + r, p0, nc, g, row, 0);
    for (int64_t j = nc; j < ns * KN_NR; j++) row[j] = 0.0f;
    for (int64_t s = 0; s < ns; s++) {
      kn_v16 *d = (kn_v16 *)(Bp + s * kc * KN_NR + r * KN_NR);
      d[0] = *(const kn_v16 *)(row + s * KN_NR);
      d[1] = *(const kn_v16 *)(row + s * KN_NR + 16);
    }
  }
}

/* Epilogue of the forward conv (kn_k_conv2d_ep): on each output row piece of a tile, while it is
 * in cache, y = relu2(relu1(bn(conv + bias)) + res) with each step optional; bn is eval-mode
 * (per-channel scale/shift from gamma, beta, running mean and variance, as kn_k_batchnorm2d). */
typedef struct {
  const float *gamma, *beta, *rm, *rv, *res; /* gamma 0: no BN; res 0: no residual add */
  const float *y;                            /* the output: res is read at d - y */
  double eps;
  int64_t relu1, relu2;
  /* Batch statistics for a training-mode BN that reads the output (part 0: none): per pixel tile
   * t = n * ceil(P / KN_NC) + tile and output channel co, part[(t * Co + co) * 4 ..] holds
   * (count, shift, sum, sum of squares) of the values written minus shift (kn_piece_stats);
   * the consumer (kn_k_fused's KN_FOP_BN_TRAIN) merges the tiles in order (Chan et al.). */
  double *part;
  int64_t Co, t;
} kn_conv_ep;

/* Adds the statistics of row piece d[0 .. len) to (count, shift, sum, sum of squares) at q: sums
 * of d - shift, where shift is the slot's first value (so |mean - shift| is of the order of the
 * standard deviation and the variance has no cancellation). One pass, 16 float lanes per piece
 * (vectorised without fast-math), added in double. */
KN_INLINE void kn_piece_stats(double *q, const float *d, int64_t len) {
  if (len <= 0) return;
  if (q[0] == 0) q[1] = d[0];
  float sh = (float)q[1], l[16] = {0}, m[16] = {0};
  int64_t k = 0;
  for (; k + 16 <= len; k += 16)
    for (int j = 0; j < 16; j++) {
      float v = d[k + j] - sh;
      l[j] += v;
      m[j] += v * v;
    }
  double s = 0, ss = 0;
  for (; k < len; k++) {
    double v = (double)d[k] - sh;
    s += v;
    ss += v * v;
  }
  for (int j = 0; j < 16; j++) s += l[j], ss += m[j];
  q[0] += (double)len;
  q[2] += s;
  q[3] += ss;
}

/* Row piece d[0 .. len) of the output, of output channel co. */
KN_INLINE void kn_conv_ep_row(const kn_conv_ep *e, int64_t co, float *d, int64_t len) {
  if (!e) return;
  if (e->part) { /* statistics only: the chain is just the conv */
    kn_piece_stats(e->part + (e->t * e->Co + co) * 4, d, len);
    return;
  }
  float sc = 1.0f, sh = 0.0f;
  if (e->gamma) {
    double is = 1.0 / sqrt((double)e->rv[co] + e->eps);
    sc = (float)(e->gamma[co] * is);
    sh = (float)(e->beta[co] - (double)e->rm[co] * e->gamma[co] * is);
  }
  const float *r = e->res ? e->res + (d - e->y) : 0;
  float lo1 = e->relu1 ? 0.0f : -INFINITY, lo2 = e->relu2 ? 0.0f : -INFINITY;
  if (r) {
    KN_SIMD
    for (int64_t j = 0; j < len; j++) {
      float v = d[j] * sc + sh;
      v = (v > lo1 ? v : lo1) + r[j];
      d[j] = v > lo2 ? v : lo2;
    }
  } else {
    KN_SIMD
    for (int64_t j = 0; j < len; j++) {
      float v = d[j] * sc + sh;
      d[j] = v > lo1 ? v : lo1;
    }
  }
}

/* Stride-1 forward on a zero-padded copy of the input rows a tile needs. In padded-width pixel
 * coordinates q = oy * Wp + ox (Wp = W + 2 pw) every im2col row is one contiguous run
 * xp[q + ky*dh*Wp + kx*dw], so packing is plain copies; the columns ox >= OW are computed and
 * dropped. Tiles are KN_NC consecutive q; the path is taken when they are no more than the
 * usual pixel tiles (so the item count is the same) and the rows fit KN_XPMAX. */
#define KN_XPMAX 65536
KN_INLINE int kn_conv_padded_ok(int64_t cig, kn_geom g, int64_t OH) {
  int64_t Wp = g.W + 2 * g.pw, Q = OH * Wp - (Wp - g.OW), rows = KN_NC / Wp + 2 + (g.kh - 1) * g.dh;
  return g.sh == 1 && g.sw == 1 && g.kh * g.kw > 1 && kn_cdiv(Q, KN_NC) <= kn_cdiv(OH * g.OW, KN_NC) &&
         cig * rows * Wp + KN_NR <= KN_XPMAX;
}

/* Tile qt of one image group: Y[i * P + p] for the mm output channels of A. */
KN_INLINE void kn_conv_fwd_padded(const float *xg, const float *A, const float *bias, int64_t K, int64_t mm,
                                  int64_t qt, int64_t cig, kn_geom g, int64_t OH, float *Y, int64_t P, float *Bp,
                                  float *xp, float *T, const kn_conv_ep *ep, int64_t co0) {
  int64_t Wp = g.W + 2 * g.pw, OW = g.OW, Q = OH * Wp - (Wp - OW), q0 = qt * KN_NC;
  if (q0 >= Q) return;
  int64_t nq = Q - q0 < KN_NC ? Q - q0 : KN_NC, ns = kn_cdiv(nq, KN_NR), oy0 = q0 / Wp, oy1 = (q0 + nq - 1) / Wp;
  int64_t R = oy1 - oy0 + 1 + (g.kh - 1) * g.dh, kk = g.kh * g.kw;
  /* xp[ci][r][0 .. Wp) = padded input row oy0 + r (input row oy0 + r - ph). */
  for (int64_t ci = 0; ci < cig; ci++)
    for (int64_t r = 0; r < R; r++) {
      float *d = xp + (ci * R + r) * Wp;
      int64_t iy = oy0 + r - g.ph;
      if (iy < 0 || iy >= g.H) {
        kn_zerof(d, Wp);
        continue;
      }
      kn_zerof(d, g.pw);
      kn_copyf(d + g.pw, xg + (ci * g.H + iy) * g.W, g.W);
      kn_zerof(d + g.pw + g.W, g.pw);
    }
  kn_zerof(xp + cig * R * Wp, KN_NR); /* the last strip may read past the last row */
  int64_t qb = q0 - oy0 * Wp;
  /* Output channels in chunks of KN_MC (T holds one); the panels are re-copied from xp per chunk
   * (plain vector copies), the padded rows are built once per tile. */
  for (int64_t c0 = 0; c0 < mm; c0 += KN_MC) {
    int64_t mc = mm - c0 < KN_MC ? mm - c0 : KN_MC;
    for (int64_t r0 = 0; r0 < K; r0 += KN_KC) {
      int64_t kc = K - r0 < KN_KC ? K - r0 : KN_KC;
      for (int64_t r = 0; r < kc; r++) {
        int64_t k = r0 + r, ci = k / kk, ky = (k % kk) / g.kw, kx = k % g.kw;
        const float *src = xp + ci * R * Wp + ky * g.dh * Wp + kx * g.dw + qb;
        for (int64_t st = 0; st < ns; st++) {
          kn_v16 *d = (kn_v16 *)(Bp + st * kc * KN_NR + r * KN_NR);
          d[0] = *(const kn_v16 *)(src + st * KN_NR);
          d[1] = *(const kn_v16 *)(src + st * KN_NR + 16);
        }
      }
      kn_gemm_panel(mc, ns * KN_NR, kc, A + c0 * K + r0, K, 1, Bp, T, KN_NC, r0 > 0);
    }
    /* T column j is q0 + j: copy the valid columns of each row piece to the output. */
    for (int64_t q = q0; q < q0 + nq;) {
      int64_t oy = q / Wp, ox = q % Wp, len = (oy + 1) * Wp - q < q0 + nq - q ? (oy + 1) * Wp - q : q0 + nq - q;
      int64_t valid = ox < OW ? (OW - ox < len ? OW - ox : len) : 0;
      for (int64_t i = 0; i < mc && valid > 0; i++) {
        float *d = Y + (c0 + i) * P + oy * OW + ox;
        kn_copyf(d, T + i * KN_NC + (q - q0), valid);
        if (bias)
          for (int64_t j = 0; j < valid; j++) d[j] += bias[c0 + i];
        kn_conv_ep_row(ep, co0 + c0 + i, d, valid);
      }
      q += len;
    }
  }
}

/* The forward conv over items [begin, end) with an optional epilogue (ep may be 0). */
KN_INLINE void kn_conv_fwd(const float *x, const float *w, const float *b, float *y, const kn_conv_ep *ep,
                           int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H, int64_t W, int64_t Co,
                           int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                           int64_t pw, int64_t dh, int64_t dw, int64_t G) {
  kn_geom geo = {H, W, OW, kh, kw, sh, sw, ph, pw, dh, dw};
  int64_t cig = Ci / G, cog = Co / G, P = OH * OW, K = cig * kh * kw, np = kn_cdiv(P, KN_NC);
  int64_t mc = kn_conv_fwd_mc(cog, N * G * np), nm = kn_cdiv(cog, mc);
  float Bp[KN_KC * KN_NC] __attribute__((aligned(64)));
  float xp[KN_XPMAX] __attribute__((aligned(64)));
  float T[KN_MC * KN_NC] __attribute__((aligned(64)));
  int padded = kn_conv_padded_ok(cig, geo, OH);
  for (int64_t it = begin; it < end; it++) {
    int64_t ic = it % nm, t = it / nm, pt = t % np;
    t /= np;
    int64_t g = t % G, n = t / G, i0 = ic * mc, p0 = pt * KN_NC;
    int64_t mm = cog - i0 < mc ? cog - i0 : mc, nn = P - p0 < KN_NC ? P - p0 : KN_NC;
    const float *xg = x + (n * Ci + g * cig) * H * W, *A = w + (g * cog + i0) * K;
    float *C = y + (n * Co + g * cog + i0) * P + p0;
    int64_t co0 = g * cog + i0;
    kn_conv_ep es;
    if (ep && ep->part) { /* this item's statistics slots start empty */
      es = *ep;
      es.t = n * np + pt;
      memset(es.part + (es.t * es.Co + co0) * 4, 0, (size_t)(4 * mm) * sizeof(double));
      ep = &es;
    }
    if (padded) {
      kn_conv_fwd_padded(xg, A, b ? b + co0 : 0, K, mm, pt, cig, geo, OH, C - p0, P, Bp, xp, T, ep, co0);
      continue;
    }
    for (int64_t r0 = 0; r0 < K; r0 += KN_KC) {
      int64_t kc = K - r0 < KN_KC ? K - r0 : KN_KC;
      kn_pack_im2col(xg, r0, kc, p0, nn, geo, Bp);
      kn_gemm_panel(mm, nn, kc, A + r0, K, 1, Bp, C, P, r0 > 0);
    }
    for (int64_t i = 0; i < mm && (b || ep); i++) {
      if (b) {
        float bi = b[co0 + i];
        for (int64_t j = 0; j < nn; j++) C[i * P + j] += bi;
      }
      kn_conv_ep_row(ep, co0 + i, C + i * P, nn);
    }
  }
}

/* p: x[N,Ci,H,W], w[Co,Ci/G,kh,kw], (b[Co]), y[N,Co,OH,OW]. Items: kn_conv_fwd_items. */
void kn_k_conv2d(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H, int64_t W,
                 int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                 int64_t pw, int64_t dh, int64_t dw, int64_t G, int64_t has_bias) {
  kn_conv_fwd(p[0], p[1], has_bias ? p[2] : 0, p[2 + has_bias], 0, begin, end, N, Ci, H, W, Co, OH, OW, kh, kw,
              sh, sw, ph, pw, dh, dw, G);
}

/* kn_k_conv2d with an epilogue (kn_conv_ep). p: x, w, (b if has_bias), (gamma, beta, running mean,
 * running var if has_bn), (res[N,Co,OH,OW] if has_res), y, (the statistics partials
 * [N * ceil(OH*OW / KN_NC)][Co][4] doubles if has_stats; then no other step may be on).
 * Items: kn_conv_fwd_items. */
void kn_k_conv2d_ep(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H, int64_t W,
                    int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                    int64_t pw, int64_t dh, int64_t dw, int64_t G, int64_t has_bias, int64_t has_bn, double eps,
                    int64_t relu1, int64_t has_res, int64_t relu2, int64_t has_stats) {
  int k = 2 + (int)has_bias;
  float *y = p[k + 4 * (has_bn != 0) + (has_res != 0)];
  kn_conv_ep ep = {0, 0, 0, 0, 0, y, eps, relu1, relu2, 0, Co, 0};
  if (has_bn) ep.gamma = p[k], ep.beta = p[k + 1], ep.rm = p[k + 2], ep.rv = p[k + 3], k += 4;
  if (has_res) ep.res = p[k++];
  if (has_stats) ep.part = p[k + 1]; /* after y */
  kn_conv_fwd(p[0], p[1], has_bias ? p[2] : 0, y, &ep, begin, end, N, Ci, H, W, Co, OH, OW, kh, kw, sh, sw, ph,
              pw, dh, dw, G);
}

/* p: dy[N,Co,OH,OW], x[N,Ci,H,W], dw[Co,Ci/G,kh,kw]. Items: kn_conv_gw_items, (g, tap tile).
 * Computed transposed, dW_g^T[taps, Co/G] = sum_n col_n,g * dy_n,g^T: the im2col rows are the
 * micro-kernel's broadcast operand (plain copies of image rows) and dy is packed transposed with
 * register transposes; the tile is transposed into dW at the end. */
void kn_k_conv2d_grad_weight(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H,
                             int64_t W, int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
                             int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t G) {
  const float *dy = p[0], *x = p[1];
  float *dW = p[2];
  kn_geom geo = {H, W, OW, kh, kw, sh, sw, ph, pw, dh, dw};
  int64_t cig = Ci / G, cog = Co / G, P = OH * OW, K = cig * kh * kw;
  int64_t mt = kn_conv_gw_mt(G, K), nt = kn_cdiv(K, mt);
  float colb[KN_NC * KN_KC] __attribute__((aligned(64))); /* KN_GW_MT taps, or KN_NC by_co */
  float Bp[KN_KC * KN_NC] __attribute__((aligned(64)));
  float T[KN_GW_MT * KN_NC] __attribute__((aligned(64)));
  if (kn_conv_gw_by_co(cog, K)) { /* dW_g[co chunk, taps] = sum_n dy_n,g * col_n,g^T */
    int64_t mc = kn_conv_gw_mc(G, cog), nc = kn_cdiv(cog, mc);
    int plain = kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; /* col = x */
    for (int64_t it = begin; it < end; it++) {
      int64_t g = it / nc, c0 = (it % nc) * mc, mm = cog - c0 < mc ? cog - c0 : mc;
      for (int64_t n = 0; n < N; n++) {
        const float *xg = x + (n * Ci + g * cig) * H * W, *dyg = dy + (n * Co + g * cog + c0) * P;
        for (int64_t p0 = 0; p0 < P; p0 += KN_KC) {
          int64_t kc = P - p0 < KN_KC ? P - p0 : KN_KC;
          if (plain) {
            kn_pack_t(kc, K, xg + p0, P, Bp);
          } else {
            for (int64_t i = 0; i < K; i++) kn_col_row((float *)xg, i, p0, kc, geo, colb + i * kc, 0);
            kn_pack_t(kc, K, colb, kc, Bp);
          }
          kn_gemm_panel(mm, K, kc, dyg + p0, P, 1, Bp, T, KN_NC, n > 0 || p0 > 0);
        }
      }
      for (int64_t i = 0; i < mm; i++) {
        float *d = dW + (g * cog + c0 + i) * K;
        if (N == 0 || P == 0)
          kn_zerof(d, K);
        else
          kn_copyf(d, T + i * KN_NC, K);
      }
    }
    return;
  }
  for (int64_t it = begin; it < end; it++) {
    int64_t g = it / nt, t0 = (it % nt) * mt, mm = K - t0 < mt ? K - t0 : mt;
    for (int64_t c0 = 0; c0 < cog; c0 += KN_NC) {
      int64_t nc = cog - c0 < KN_NC ? cog - c0 : KN_NC;
      for (int64_t n = 0; n < N; n++) {
        const float *xg = x + (n * Ci + g * cig) * H * W, *dyg = dy + (n * Co + g * cog + c0) * P;
        for (int64_t p0 = 0; p0 < P; p0 += KN_KC) {
          int64_t kc = P - p0 < KN_KC ? P - p0 : KN_KC;
          for (int64_t i = 0; i < mm; i++) kn_col_row((float *)xg, t0 + i, p0, kc, geo, colb + i * kc, 0);
          kn_pack_t(kc, nc, dyg + p0, P, Bp);
          kn_gemm_panel(mm, nc, kc, colb, kc, 1, Bp, T, KN_NC, n > 0 || p0 > 0);
        }
      }
      if (N == 0 || P == 0)
        for (int64_t i = 0; i < mm; i++) memset(T + i * KN_NC, 0, (size_t)nc * sizeof(float));
      for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < mm; i++) dW[(g * cog + c0 + c) * K + t0 + i] = T[i * KN_NC + c];
    }
  }
}

/* Epilogue of the grad-input conv for a batchnorm2d_grad that reads (a chain of) its output:
 * on each final piece of dx, g = relu_grad(dx + other_0 + ..., mask) (each step optional), and the
 * per-channel sums batchnorm2d_grad needs, sum g and sum g * (x - mean), go to
 * part[(t * Ci + ci) * 2 ..] for pixel tile t (direct path: n * ceil(P / KN_NC) + tile; else n).
 * Nothing is written to dx beyond the conv's own result. */
typedef struct {
  const float *other[3], *mask, *x, *mean;
  const float *dx; /* the output: the operands are read at d - dx */
  int64_t n_other, Ci, t;
  double *part;
} kn_gi_ep;

KN_INLINE void kn_gi_ep_row(const kn_gi_ep *e, int64_t ci, const float *d, int64_t len) {
  int64_t off = d - e->dx, k = 0;
  const float *o0 = e->n_other > 0 ? e->other[0] + off : d, *o1 = e->n_other > 1 ? e->other[1] + off : d;
  const float *o2 = e->n_other > 2 ? e->other[2] + off : d, *y = e->mask ? e->mask + off : d, *xv = e->x + off;
  float mu = e->mean[ci], a0 = e->n_other > 0 ? 1.0f : 0.0f, a1 = e->n_other > 1 ? 1.0f : 0.0f;
  float a2 = e->n_other > 2 ? 1.0f : 0.0f, lo = e->mask ? 0.0f : -INFINITY;
  float l[16] = {0}, q[16] = {0};
  for (; k + 16 <= len; k += 16)
    for (int j = 0; j < 16; j++) {
      float g = d[k + j] + a0 * o0[k + j] + a1 * o1[k + j] + a2 * o2[k + j];
      g = y[k + j] > lo ? g : 0.0f;
      l[j] += g;
      q[j] += g * (xv[k + j] - mu);
    }
  double s = 0, sx = 0;
  for (; k < len; k++) {
    float g = d[k] + a0 * o0[k] + a1 * o1[k] + a2 * o2[k];
    g = y[k] > lo ? g : 0.0f;
    s += g;
    sx += (double)g * ((double)xv[k] - mu);
  }
  for (int j = 0; j < 16; j++) s += l[j], sx += q[j];
  double *r = e->part + (e->t * e->Ci + ci) * 2;
  r[0] += s;
  r[1] += sx;
}

/* Floats of the packed dy panel of the grad input (1 MB): all of Co/G for one pixel tile. */
#define KN_GI_BP (4 * KN_KC * KN_NC)

/* p: dy[N,Co,OH,OW], w[Co,Ci/G,kh,kw], dx[N,Ci,H,W].
 * direct (1x1, stride 1, no padding): items kn_conv_fwd_items(N, G, Ci/G, P); else items N * G. */
KN_INLINE void kn_conv_gi(void *const *p, const kn_gi_ep *ep, int64_t begin, int64_t end, int64_t N, int64_t Ci,
                          int64_t H, int64_t W, int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw,
                          int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t G,
                          int64_t direct) {
  const float *dy = p[0], *w = p[1];
  float *dx = p[2];
  kn_gi_ep es;
  kn_geom geo = {H, W, OW, kh, kw, sh, sw, ph, pw, dh, dw};
  int64_t cig = Ci / G, cog = Co / G, P = OH * OW, K = cig * kh * kw;
  if (direct) {
    int64_t np = kn_cdiv(P, KN_NC), mc = kn_conv_fwd_mc(cig, N * G * np), nm = kn_cdiv(cig, mc);
    for (int64_t it = begin; it < end; it++) {
      int64_t ic = it % nm, t = it / nm, pt = t % np;
      t /= np;
      int64_t g = t % G, n = t / G, i0 = ic * mc, p0 = pt * KN_NC;
      int64_t mm = cig - i0 < mc ? cig - i0 : mc, nn = P - p0 < KN_NC ? P - p0 : KN_NC;
      kn_gemm_tile(mm, nn, cog, w + g * cog * K + i0, 1, K, dy + (n * Co + g * cog) * P + p0, P, 1,
                   dx + (n * Ci + g * cig + i0) * P + p0, P, 0);
      if (ep) {
        es = *ep;
        es.t = n * np + pt;
        int64_t ci0 = g * cig + i0;
        memset(es.part + (es.t * Ci + ci0) * 2, 0, (size_t)(2 * mm) * sizeof(double));
        for (int64_t i = 0; i < mm; i++) kn_gi_ep_row(&es, ci0 + i, dx + (n * Ci + ci0 + i) * P + p0, nn);
      }
    }
    return;
  }
  float T[KN_MC * KN_NC] __attribute__((aligned(64)));
  float Ap[KN_MC * KN_KC] __attribute__((aligned(64)));
  float Bp[KN_GI_BP] __attribute__((aligned(64)));
  for (int64_t it = begin; it < end; it++) {
    int64_t g = it % G, n = it / G;
    float *dxg = dx + (n * Ci + g * cig) * H * W;
    memset(dxg, 0, (size_t)(cig * H * W) * sizeof(float));
    /* Pixel tiles narrow enough that dy's panel for all of Co/G fits Bp: packed once per tile for
     * every tap chunk (in KN_KC blocks of kc x tile). */
    int64_t tile = KN_NC;
    while (tile > KN_NR && kn_cdiv(cog, KN_KC) * KN_KC * tile > KN_GI_BP) tile -= KN_NR;
    for (int64_t p0 = 0; p0 < P; p0 += tile) {
      int64_t nn = P - p0 < tile ? P - p0 : tile, ns = kn_cdiv(nn, KN_NR);
      const float *dyp = dy + (n * Co + g * cog) * P + p0;
      for (int64_t r0 = 0; r0 < cog; r0 += KN_KC) {
        int64_t kc = cog - r0 < KN_KC ? cog - r0 : KN_KC;
        kn_pack_strided(kc, nn, dyp + r0 * P, P, 1, Bp + r0 * ns * KN_NR);
      }
      for (int64_t i0 = 0; i0 < K; i0 += KN_MC) {
        int64_t mm = K - i0 < KN_MC ? K - i0 : KN_MC;
        for (int64_t r0 = 0; r0 < cog; r0 += KN_KC) {
          int64_t kc = cog - r0 < KN_KC ? cog - r0 : KN_KC;
          const float *A = w + (g * cog + r0) * K + i0;
          if (K >= KN_PACK_AT_STRIDE) { /* W^T rows: see kn_pack_at */
            kn_pack_at(mm, kc, A, K, Ap);
            kn_gemm_panel(mm, nn, kc, Ap, 1, mm, Bp + r0 * ns * KN_NR, T, KN_NC, r0 > 0);
          } else {
            kn_gemm_panel(mm, nn, kc, A, 1, K, Bp + r0 * ns * KN_NR, T, KN_NC, r0 > 0);
          }
        }
        if (cog == 0)
          for (int64_t i = 0; i < mm; i++) kn_zerof(T + i * KN_NC, nn);
        for (int64_t i = 0; i < mm; i++) kn_col_row(dxg, i0 + i, p0, nn, geo, T + i * KN_NC, 1);
      }
    }
    if (ep) { /* the image group's planes are final */
      es = *ep;
      es.t = n;
      memset(es.part + (n * Ci + g * cig) * 2, 0, (size_t)(2 * cig) * sizeof(double));
      for (int64_t ci = 0; ci < cig; ci++) kn_gi_ep_row(&es, g * cig + ci, dxg + ci * H * W, H * W);
    }
  }
}

void kn_k_conv2d_grad_input(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H,
                            int64_t W, int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
                            int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t G,
                            int64_t direct) {
  kn_conv_gi(p, 0, begin, end, N, Ci, H, W, Co, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, G, direct);
}

/* kn_k_conv2d_grad_input with the batchnorm2d_grad statistics epilogue (kn_gi_ep). p: dy, w, dx,
 * other[n_other], (mask if has_mask), x (the BN input), mean (its batch mean), part (doubles
 * [T][Ci][2], T = N * ceil(OH*OW / KN_NC) when direct, else N). Items as kn_k_conv2d_grad_input. */
void kn_k_conv2d_grad_input_st(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t Ci, int64_t H,
                               int64_t W, int64_t Co, int64_t OH, int64_t OW, int64_t kh, int64_t kw, int64_t sh,
                               int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t G,
                               int64_t direct, int64_t n_other, int64_t has_mask) {
  kn_gi_ep ep = {{0, 0, 0}, 0, 0, 0, p[2], n_other, Ci, 0, 0};
  int k = 3;
  for (int64_t i = 0; i < n_other; i++) ep.other[i] = p[k++];
  if (has_mask) ep.mask = p[k++];
  ep.x = p[k++];
  ep.mean = p[k++];
  ep.part = p[k];
  kn_conv_gi(p, &ep, begin, end, N, Ci, H, W, Co, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, G, direct);
}
