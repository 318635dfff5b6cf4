/* pool.c — GPU kernels for windowed ops: max/avg pooling and upsampling, forward and backward.
 * Pooling geometry: i = {N, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW}, x [N,C,H,W], y [N,C,OH,OW].
 * Backward kernels gather (one thread per input element), so they need no atomics. */
#include "kn_gpu.h"

#define KN_POOL_GEOM                                                                          \
  long N = i[0], C = i[1], H = i[2], W = i[3], OH = i[4], OW = i[5], KH = i[6], KW = i[7],    \
       SH = i[8], SW = i[9], PH = i[10], PW = i[11]

/* Index (ih*W + iw) of the first maximum of window (oh, ow) in plane xp; padding never wins. */
static inline long kn_pool_argmax(const float *xp, long H, long W, long KH, long KW, long SH, long SW,
                                  long PH, long PW, long oh, long ow) {
  float m = -KN_INF;
  long best = -1;
  for (long kh = 0; kh < KH; kh++) {
    long ih = oh * SH - PH + kh;
    if (ih < 0 || ih >= H) continue;
    for (long kw = 0; kw < KW; kw++) {
      long iw = ow * SW - PW + kw;
      if (iw < 0 || iw >= W) continue;
      float v = xp[ih * W + iw];
      if (best < 0 || v > m) {
        m = v;
        best = ih * W + iw;
      }
    }
  }
  return best;
}

/* First and last output index whose window covers input index ix (window k, stride s, pad pd). */
static inline long kn_win_lo(long ix, long k, long s, long pd) {
  long t = ix + pd - k + 1;
  return t <= 0 ? 0 : (t + s - 1) / s;
}
static inline long kn_win_hi(long ix, long s, long pd, long on) {
  long t = (ix + pd) / s;
  return t < on - 1 ? t : on - 1;
}

/* maxpool2d: p = {x, y} */
void kn_gk_maxpool2d(const long *i, const float *f, void *const *p) {
  KN_POOL_GEOM;
  const float *x = p[0];
  float *y = p[1];
  kn_for(k, N * C * OH * OW) {
    long ow = k % OW, oh = (k / OW) % OH, nc = k / (OW * OH);
    const float *xp = x + nc * H * W;
    y[k] = xp[kn_pool_argmax(xp, H, W, KH, KW, SH, SW, PH, PW, oh, ow)];
  }
}

/* maxpool2d_grad: p = {dy, x, dx}; dy goes to the first maximum of each window */
void kn_gk_maxpool2d_grad(const long *i, const float *f, void *const *p) {
  KN_POOL_GEOM;
  const float *dy = p[0], *x = p[1];
  float *dx = p[2];
  kn_for(k, N * C * H * W) {
    long iw = k % W, ih = (k / W) % H, nc = k / (W * H);
    const float *xp = x + nc * H * W;
    float acc = 0.f;
    for (long oh = kn_win_lo(ih, KH, SH, PH); oh <= kn_win_hi(ih, SH, PH, OH); oh++)
      for (long ow = kn_win_lo(iw, KW, SW, PW); ow <= kn_win_hi(iw, SW, PW, OW); ow++)
        if (kn_pool_argmax(xp, H, W, KH, KW, SH, SW, PH, PW, oh, ow) == ih * W + iw)
          acc += dy[(nc * OH + oh) * OW + ow];
    dx[k] = acc;
  }
}

/* avgpool2d (padding counts, divisor KH*KW, as PyTorch's default): p = {x, y} */
void kn_gk_avgpool2d(const long *i, const float *f, void *const *p) {
  KN_POOL_GEOM;
  const float *x = p[0];
  float *y = p[1];
  kn_for(k, N * C * OH * OW) {
    long ow = k % OW, oh = (k / OW) % OH, nc = k / (OW * OH);
    const float *xp = x + nc * H * W;
    float acc = 0.f;
    for (long kh = 0; kh < KH; kh++) {
      long ih = oh * SH - PH + kh;
      if (ih < 0 || ih >= H) continue;
      for (long kw = 0; kw < KW; kw++) {
        long iw = ow * SW - PW + kw;
        if (iw >= 0 && iw < W) acc += xp[ih * W + iw];
      }
    }
    y[k] = acc / (float)(KH * KW);
  }
}

/* avgpool2d_grad: p = {dy, dx} */
void kn_gk_avgpool2d_grad(const long *i, const float *f, void *const *p) {
  KN_POOL_GEOM;
  const float *dy = p[0];
  float *dx = p[1];
  kn_for(k, N * C * H * W) {
    long iw = k % W, ih = (k / W) % H, nc = k / (W * H);
    float acc = 0.f;
    for (long oh = kn_win_lo(ih, KH, SH, PH); oh <= kn_win_hi(ih, SH, PH, OH); oh++)
      for (long ow = kn_win_lo(iw, KW, SW, PW); ow <= kn_win_hi(iw, SW, PW, OW); ow++)
        acc += dy[(nc * OH + oh) * OW + ow];
    dx[k] = acc / (float)(KH * KW);
  }
}

/* Bilinear source of output index o (scale s, input length n; align_corners=False, as PyTorch):
 * the two taps i0 <= i1 and the weight l1 of i1. */
static inline void kn_bilinear_src(long o, long s, long n, long *i0, long *i1, float *l1) {
  float src = ((float)o + 0.5f) / (float)s - 0.5f;
  if (src < 0.f) src = 0.f;
  *i0 = (long)src;
  if (*i0 > n - 1) *i0 = n - 1;
  *i1 = *i0 < n - 1 ? *i0 + 1 : *i0;
  *l1 = src - (float)*i0;
}
/* Weight of input index ix in output index o. */
static inline float kn_bilinear_w(long o, long ix, long s, long n) {
  long i0, i1;
  float l1, w = 0.f;
  kn_bilinear_src(o, s, n, &i0, &i1, &l1);
  if (i0 == ix) w += 1.f - l1;
  if (i1 == ix) w += l1;
  return w;
}

/* upsample: i = {N, C, H, W, scale, mode (0 nearest, 1 bilinear)}; p = {x, y [N,C,H*s,W*s]} */
void kn_gk_upsample(const long *i, const float *f, void *const *p) {
  long N = i[0], C = i[1], H = i[2], W = i[3], S = i[4], OH = H * S, OW = W * S;
  const float *x = p[0];
  float *y = p[1];
  kn_for(k, N * C * OH * OW) {
    long ow = k % OW, oh = (k / OW) % OH, nc = k / (OW * OH);
    const float *xp = x + nc * H * W;
    if (i[5] == 0) {
      y[k] = xp[(oh / S) * W + ow / S];
    } else {
      long h0, h1, w0, w1;
      float lh, lw;
      kn_bilinear_src(oh, S, H, &h0, &h1, &lh);
      kn_bilinear_src(ow, S, W, &w0, &w1, &lw);
      y[k] = (1.f - lh) * ((1.f - lw) * xp[h0 * W + w0] + lw * xp[h0 * W + w1]) +
             lh * ((1.f - lw) * xp[h1 * W + w0] + lw * xp[h1 * W + w1]);
    }
  }
}

/* upsample_grad: i = {N, C, H, W, scale, mode} (H, W of the input); p = {dy, dx} */
void kn_gk_upsample_grad(const long *i, const float *f, void *const *p) {
  long N = i[0], C = i[1], H = i[2], W = i[3], S = i[4], OH = H * S, OW = W * S;
  const float *dy = p[0];
  float *dx = p[1];
  kn_for(k, N * C * H * W) {
    long iw = k % W, ih = (k / W) % H, nc = k / (W * H);
    const float *dyp = dy + nc * OH * OW;
    float acc = 0.f;
    if (i[5] == 0) {
      for (long a = 0; a < S; a++)
        for (long b = 0; b < S; b++) acc += dyp[(ih * S + a) * OW + iw * S + b];
    } else {
      long h_lo = (ih - 1) * S < 0 ? 0 : (ih - 1) * S, h_hi = (ih + 2) * S < OH ? (ih + 2) * S : OH;
      long w_lo = (iw - 1) * S < 0 ? 0 : (iw - 1) * S, w_hi = (iw + 2) * S < OW ? (iw + 2) * S : OW;
      for (long oh = h_lo; oh < h_hi; oh++) {
        float wh = kn_bilinear_w(oh, ih, S, H);
        if (wh == 0.f) continue;
        for (long ow = w_lo; ow < w_hi; ow++) acc += wh * kn_bilinear_w(ow, iw, S, W) * dyp[oh * OW + ow];
      }
    }
    dx[k] = acc;
  }
}
