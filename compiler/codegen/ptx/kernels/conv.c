/* conv.c — GPU kernels for 2-d convolution: forward, gradient of the input, gradient of the weight.
 * Direct (SIMT) loops; every kernel takes the same geometry
 *   i = {N, C, H, W, CO, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, G, has_bias}
 * with x [N,C,H,W], w [CO,C/G,KH,KW], y [N,CO,OH,OW]. */
#include "kn_gpu.h"

#define KN_CONV_GEOM                                                                        \
  long N = i[0], C = i[1], H = i[2], W = i[3], CO = i[4], OH = i[5], OW = i[6], KH = i[7],  \
       KW = i[8], SH = i[9], SW = i[10], PH = i[11], PW = i[12], DH = i[13], DW = i[14],   \
       G = i[15];                                                                           \
  long CIG = C / G, COG = CO / G;                                                           \
  (void)N

/* forward: p = {x, w, bias (NULL unless has_bias), y}; one thread per output element */
void kn_gk_conv2d(const long *i, const float *f, void *const *p) {
  KN_CONV_GEOM;
  const float *x = p[0], *w = p[1], *b = p[2];
  float *y = p[3];
  kn_for(k, N * CO * OH * OW) {
    long ow = k % OW, oh = (k / OW) % OH, co = (k / (OW * OH)) % CO, n = k / (OW * OH * CO);
    long g = co / COG;
    float acc = i[16] ? b[co] : 0.f;
    for (long ci = 0; ci < CIG; ci++) {
      const float *xp = x + (n * C + g * CIG + ci) * H * W;
      const float *wp = w + (co * CIG + ci) * KH * KW;
      for (long kh = 0; kh < KH; kh++) {
        long ih = oh * SH - PH + kh * DH;
        if (ih < 0 || ih >= H) continue;
        for (long kw = 0; kw < KW; kw++) {
          long iw = ow * SW - PW + kw * DW;
          if (iw < 0 || iw >= W) continue;
          acc += xp[ih * W + iw] * wp[kh * KW + kw];
        }
      }
    }
    y[k] = acc;
  }
}

/* gradient of the input: p = {dy, w, dx}; one thread per input element (gather, no atomics) */
void kn_gk_conv2d_grad_input(const long *i, const float *f, void *const *p) {
  KN_CONV_GEOM;
  const float *dy = p[0], *w = p[1];
  float *dx = p[2];
  kn_for(k, N * C * H * W) {
    long iw = k % W, ih = (k / W) % H, c = (k / (W * H)) % C, n = k / (W * H * C);
    long g = c / CIG, cl = c % CIG;
    float acc = 0.f;
    for (long co = g * COG; co < (g + 1) * COG; co++) {
      const float *dyp = dy + (n * CO + co) * OH * OW;
      const float *wp = w + (co * CIG + cl) * KH * KW;
      for (long kh = 0; kh < KH; kh++) {
        long th = ih + PH - kh * DH;
        if (th < 0 || th % SH) continue;
        long oh = th / SH;
        if (oh >= OH) continue;
        for (long kw = 0; kw < KW; kw++) {
          long tw = iw + PW - kw * DW;
          if (tw < 0 || tw % SW) continue;
          long ow = tw / SW;
          if (ow >= OW) continue;
          acc += dyp[oh * OW + ow] * wp[kh * KW + kw];
        }
      }
    }
    dx[k] = acc;
  }
}

/* gradient of the weight: p = {dy, x, dw}; one warp per weight element, lanes split N*OH*OW */
void kn_gk_conv2d_grad_weight(const long *i, const float *f, void *const *p) {
  KN_CONV_GEOM;
  const float *dy = p[0], *x = p[1];
  float *dw = p[2];
  kn_for_warp(e, CO * CIG * KH * KW) {
    long kw = e % KW, kh = (e / KW) % KH, cl = (e / (KW * KH)) % CIG, co = e / (KW * KH * CIG);
    long ci = (co / COG) * CIG + cl;
    float acc = 0.f;
    for (long r = kn_lane(); r < N * OH * OW; r += 32) {
      long ow = r % OW, oh = (r / OW) % OH, n = r / (OW * OH);
      long ih = oh * SH - PH + kh * DH, iw = ow * SW - PW + kw * DW;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      acc += dy[((n * CO + co) * OH + oh) * OW + ow] * x[((n * C + ci) * H + ih) * W + iw];
    }
    acc = kn_warp_sum(acc);
    if (kn_lane() == 0) dw[e] = acc;
  }
}
