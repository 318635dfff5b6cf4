/* pool.c — window and global pooling, channel reductions (CBAM) and upsampling, forward and
 * backward. Units of work: planes (n, c) unless noted; each plane is independent, so backward
 * scatters need no locks. Max ties go to the first maximum in scan order.
 */
#include <math.h>
#include <string.h>

#include "kn_kernels.h"

/* Clipped window of output pixel (oy, ox): rows [*y0, *y1), columns [*x0, *x1). */
static inline void kn_window(int64_t oy, int64_t ox, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t sh,
                             int64_t sw, int64_t ph, int64_t pw, int64_t *y0, int64_t *y1, int64_t *x0, int64_t *x1) {
  int64_t a = oy * sh - ph, c = ox * sw - pw;
  *y0 = a < 0 ? 0 : a;
  *y1 = a + kh > H ? H : a + kh;
  *x0 = c < 0 ? 0 : c;
  *x1 = c + kw > W ? W : c + kw;
}

/* Window scan of output row oy of one plane: acc[ox] = max (op 0) or sum (op 1) over the clipped
 * window, arg[ox] = offset of the first maximum (op 0). Taps go in scan order (rows, then
 * columns) for every ox; the interior columns, whose windows do not cross the left or right
 * edge, run with ox innermost so that they vectorise. */
static inline __attribute__((always_inline)) void kn_pool_row(const float *xp, int64_t oy, int64_t H, int64_t W, int64_t OW, int64_t kh,
                               int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t op, float *acc,
                               int32_t *arg, int want_arg) {
  int64_t y0, y1, x0, x1;
  int64_t oxa = (pw + sw - 1) / sw, oxb = W - kw + pw < 0 ? 0 : (W - kw + pw) / sw + 1;
  oxb = oxb < OW ? oxb : OW;
  oxa = oxa < oxb ? oxa : oxb;
  for (int64_t ox = 0; ox < OW; ox++) {
    if (ox == oxa) ox = oxb;
    if (ox >= OW) break;
    kn_window(oy, ox, H, W, kh, kw, sh, sw, ph, pw, &y0, &y1, &x0, &x1);
    float m = op ? 0.0f : -INFINITY;
    int32_t am = -1;
    for (int64_t iy = y0; iy < y1; iy++)
      for (int64_t ix = x0; ix < x1; ix++) {
        float v = xp[iy * W + ix];
        if (op) m += v;
        else if (am < 0 || v > m) {
          m = v;
          am = (int32_t)(iy * W + ix);
        }
      }
    acc[ox] = m;
    arg[ox] = am;
  }
  if (oxa >= oxb) return;
  kn_window(oy, oxa, H, W, kh, kw, sh, sw, ph, pw, &y0, &y1, &x0, &x1);
  for (int64_t ox = oxa; ox < oxb; ox++) {
    acc[ox] = op ? 0.0f : -INFINITY;
    arg[ox] = -1;
  }
  for (int64_t iy = y0; iy < y1; iy++)
    for (int64_t kx = 0; kx < kw; kx++) {
      const float *row = xp + iy * W + kx - pw;
      int32_t base = (int32_t)(iy * W + kx - pw);
      if (op) {
        for (int64_t ox = oxa; ox < oxb; ox++) acc[ox] += row[ox * sw];
      } else if (iy == y0 && kx == 0) {
        for (int64_t ox = oxa; ox < oxb; ox++) {
          acc[ox] = row[ox * sw];
          arg[ox] = base + (int32_t)(ox * sw);
        }
      } else if (!want_arg) {
        for (int64_t ox = oxa; ox < oxb; ox++) {
          float v = row[ox * sw];
          acc[ox] = v > acc[ox] ? v : acc[ox];
        }
      } else {
        for (int64_t ox = oxa; ox < oxb; ox++) {
          float v = row[ox * sw];
          int gt = v > acc[ox];
          acc[ox] = gt ? v : acc[ox];
          arg[ox] = gt ? base + (int32_t)(ox * sw) : arg[ox];
        }
      }
    }
}

/* op 0: max (padding is -inf), 1: average over the window including padding (PyTorch's
 * count_include_pad). p: x[NC,H,W], y[NC,OH,OW]. */
void kn_k_pool2d(void *const *p, int64_t b, int64_t e, int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW,
                 int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t op, int64_t items) {
  const float *x = p[0];
  float *y = p[1];
  int64_t lo, hi;
  kn_range(b, e, items, NC, &lo, &hi);
  float inv = 1.0f / (float)(kh * kw), acc[OW];
  int32_t arg[OW];
  for (int64_t c = lo; c < hi; c++)
    for (int64_t oy = 0; oy < OH; oy++) {
      kn_pool_row(x + c * H * W, oy, H, W, OW, kh, kw, sh, sw, ph, pw, op, acc, arg, 0);
      float *yr = y + (c * OH + oy) * OW;
      for (int64_t ox = 0; ox < OW; ox++) yr[ox] = op ? acc[ox] * inv : acc[ox];
    }
}

/* op 0: dy to the first maximum of each window (p: dy, x, dx); 1: dy / (kh * kw) to every tap
 * (p: dy, dx). */
void kn_k_pool2d_grad(void *const *p, int64_t b, int64_t e, int64_t NC, int64_t H, int64_t W, int64_t OH,
                      int64_t OW, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t op,
                      int64_t items) {
  const float *dy = p[0], *x = op ? 0 : p[1];
  float *dx = p[op ? 1 : 2];
  int64_t lo, hi, y0, y1, x0, x1;
  kn_range(b, e, items, NC, &lo, &hi);
  float inv = 1.0f / (float)(kh * kw), acc[OW];
  int32_t arg[OW];
  for (int64_t c = lo; c < hi; c++) {
    float *dp = dx + c * H * W;
    memset(dp, 0, (size_t)(H * W) * sizeof(float));
    for (int64_t oy = 0; oy < OH; oy++) {
      const float *g = dy + (c * OH + oy) * OW;
      if (op) {
        for (int64_t ox = 0; ox < OW; ox++) {
          kn_window(oy, ox, H, W, kh, kw, sh, sw, ph, pw, &y0, &y1, &x0, &x1);
          for (int64_t iy = y0; iy < y1; iy++)
            for (int64_t ix = x0; ix < x1; ix++) dp[iy * W + ix] += g[ox] * inv;
        }
        continue;
      }
      kn_pool_row(x + c * H * W, oy, H, W, OW, kh, kw, sh, sw, ph, pw, 0, acc, arg, 1);
      for (int64_t ox = 0; ox < OW; ox++)
        if (arg[ox] >= 0) dp[arg[ox]] += g[ox];
    }
  }
}

/* Global pooling over HW. op 0 = mean, 1 = max. p: x[NC,HW], y[NC]. */
void kn_k_global_pool(void *const *p, int64_t b, int64_t e, int64_t NC, int64_t HW, int64_t op, int64_t items) {
  const float *x = p[0];
  float *y = p[1];
  int64_t lo, hi;
  kn_range(b, e, items, NC, &lo, &hi);
  for (int64_t c = lo; c < hi; c++) {
    const float *xp = x + c * HW;
    if (op == 0) {
      double s = 0;
      for (int64_t i = 0; i < HW; i++) s += xp[i];
      y[c] = (float)(s / (double)HW);
    } else {
      float m = xp[0];
      for (int64_t i = 1; i < HW; i++) m = xp[i] > m ? xp[i] : m;
      y[c] = m;
    }
  }
}

/* op 0: dx = dy / HW everywhere (p: dy, dx); op 1: dy to the first maximum (p: dy, x, dx). */
void kn_k_global_pool_grad(void *const *p, int64_t b, int64_t e, int64_t NC, int64_t HW, int64_t op,
                           int64_t items) {
  const float *dy = p[0], *x = op ? p[1] : 0;
  float *dx = p[op ? 2 : 1];
  int64_t lo, hi;
  kn_range(b, e, items, NC, &lo, &hi);
  for (int64_t c = lo; c < hi; c++) {
    float *dp = dx + c * HW;
    if (op == 0) {
      float g = dy[c] / (float)HW;
      for (int64_t i = 0; i < HW; i++) dp[i] = g;
    } else {
      const float *xp = x + c * HW;
      int64_t arg = 0;
      for (int64_t i = 1; i < HW; i++)
        if (xp[i] > xp[arg]) arg = i;
      for (int64_t i = 0; i < HW; i++) dp[i] = 0.0f;
      dp[arg] = dy[c];
    }
  }
}

/* Reduction over channels at each pixel: y[n, hw] = mean or max over c of x[n, c, hw].
 * Units: images n. op 0 = mean, 1 = max. p: x, y. */
void kn_k_channel_pool(void *const *p, int64_t b, int64_t e, int64_t N, int64_t C, int64_t HW, int64_t op,
                       int64_t items) {
  const float *x = p[0];
  float *y = p[1];
  int64_t lo, hi;
  kn_range(b, e, items, N, &lo, &hi);
  for (int64_t n = lo; n < hi; n++) {
    float *yp = y + n * HW;
    const float *xp = x + n * C * HW;
    KN_SIMD
    for (int64_t i = 0; i < HW; i++) yp[i] = xp[i];
    for (int64_t c = 1; c < C; c++)
      KN_SIMD
      for (int64_t i = 0; i < HW; i++) yp[i] = op ? (xp[c * HW + i] > yp[i] ? xp[c * HW + i] : yp[i]) : yp[i] + xp[c * HW + i];
    if (op == 0)
      for (int64_t i = 0; i < HW; i++) yp[i] = yp[i] / (float)C;
  }
}

/* op 0: dx[n, c, hw] = dy[n, hw] / C (p: dy, dx); op 1: dy to the first maximal channel
 * (p: dy, x, dx). Units: images n. */
void kn_k_channel_pool_grad(void *const *p, int64_t b, int64_t e, int64_t N, int64_t C, int64_t HW, int64_t op,
                            int64_t items) {
  const float *dy = p[0], *x = op ? p[1] : 0;
  float *dx = p[op ? 2 : 1];
  int64_t lo, hi;
  kn_range(b, e, items, N, &lo, &hi);
  for (int64_t n = lo; n < hi; n++) {
    const float *dyp = dy + n * HW;
    float *dp = dx + n * C * HW;
    if (op == 0) {
      for (int64_t c = 0; c < C; c++)
        KN_SIMD
        for (int64_t i = 0; i < HW; i++) dp[c * HW + i] = dyp[i] / (float)C;
      continue;
    }
    const float *xp = x + n * C * HW;
    /* Pixels in blocks, channels outer: the first maximal channel of each pixel, then the rows. */
    for (int64_t i0 = 0; i0 < HW; i0 += 256) {
      int64_t m = HW - i0 < 256 ? HW - i0 : 256;
      float best[256];
      int32_t arg[256];
      for (int64_t i = 0; i < m; i++) {
        best[i] = xp[i0 + i];
        arg[i] = 0;
      }
      for (int64_t c = 1; c < C; c++)
        for (int64_t i = 0; i < m; i++) {
          float v = xp[c * HW + i0 + i];
          int gt = v > best[i];
          best[i] = gt ? v : best[i];
          arg[i] = gt ? (int32_t)c : arg[i];
        }
      for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < m; i++) dp[c * HW + i0 + i] = arg[i] == c ? dyp[i0 + i] : 0.0f;
    }
  }
}

/* Source coordinate of bilinear upsampling (align_corners = false, PyTorch). */
static inline void kn_bilinear_src(int64_t o, int64_t s, int64_t in, int64_t *i0, int64_t *i1, float *l1) {
  float src = ((float)o + 0.5f) / (float)s - 0.5f;
  if (src < 0) src = 0;
  int64_t a = (int64_t)src;
  if (a > in - 1) a = in - 1;
  *i0 = a;
  *i1 = a < in - 1 ? a + 1 : a;
  *l1 = src - (float)a;
}

/* Upsampling by an integer factor s; mode 0 nearest, 1 bilinear. p: x[NC,H,W], y[NC,H*s,W*s]. */
void kn_k_upsample(void *const *p, int64_t b, int64_t e, int64_t NC, int64_t H, int64_t W, int64_t s,
                   int64_t mode, int64_t items) {
  const float *x = p[0];
  float *y = p[1];
  int64_t lo, hi, OH = H * s, OW = W * s;
  kn_range(b, e, items, NC, &lo, &hi);
  for (int64_t c = lo; c < hi; c++) {
    const float *xp = x + c * H * W;
    float *yp = y + c * OH * OW;
    for (int64_t oy = 0; oy < OH; oy++)
      for (int64_t ox = 0; ox < OW; ox++) {
        if (mode == 0) {
          yp[oy * OW + ox] = xp[(oy / s) * W + ox / s];
          continue;
        }
        int64_t y0, y1, x0, x1;
        float ly, lx;
        kn_bilinear_src(oy, s, H, &y0, &y1, &ly);
        kn_bilinear_src(ox, s, W, &x0, &x1, &lx);
        yp[oy * OW + ox] = (1 - ly) * ((1 - lx) * xp[y0 * W + x0] + lx * xp[y0 * W + x1]) +
                           ly * ((1 - lx) * xp[y1 * W + x0] + lx * xp[y1 * W + x1]);
      }
  }
}

/* p: dy[NC,H*s,W*s], dx[NC,H,W]. */
void kn_k_upsample_grad(void *const *p, int64_t b, int64_t e, int64_t NC, int64_t H, int64_t W, int64_t s,
                        int64_t mode, int64_t items) {
  const float *dy = p[0];
  float *dx = p[1];
  int64_t lo, hi, OH = H * s, OW = W * s;
  kn_range(b, e, items, NC, &lo, &hi);
  for (int64_t c = lo; c < hi; c++) {
    const float *gp = dy + c * OH * OW;
    float *dp = dx + c * H * W;
    memset(dp, 0, (size_t)(H * W) * sizeof(float));
    for (int64_t oy = 0; oy < OH; oy++)
      for (int64_t ox = 0; ox < OW; ox++) {
        float g = gp[oy * OW + ox];
        if (mode == 0) {
          dp[(oy / s) * W + ox / s] += g;
          continue;
        }
        int64_t y0, y1, x0, x1;
        float ly, lx;
        kn_bilinear_src(oy, s, H, &y0, &y1, &ly);
        kn_bilinear_src(ox, s, W, &x0, &x1, &lx);
        dp[y0 * W + x0] += (1 - ly) * (1 - lx) * g;
        dp[y0 * W + x1] += (1 - ly) * lx * g;
        dp[y1 * W + x0] += ly * (1 - lx) * g;
        dp[y1 * W + x1] += ly * lx * g;
      }
  }
}
