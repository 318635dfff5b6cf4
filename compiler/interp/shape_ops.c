/* shape_ops.c — reference data-movement ops: concat along channels and its gradient
 * slice_channels, flatten/reshape (plain copies in NCHW order), and integer-factor upsampling
 * (nearest, and bilinear with align_corners=False as PyTorch) with its gradient. */
#include <string.h>

#include "kernels.h"

/* in: x_0..x_{k-1} [N,C_i,H,W] -> y[N,sum C_i,H,W] */
void kn_k_concat(const kn_kargs *a) {
  kn_shape ys = kn_k_oshape(a, 0);
  int64_t N = ys.d[0], C = ys.d[1], HW = ys.d[2] * ys.d[3];
  float *y = kn_k_out(a, 0);
  int64_t c0 = 0;
  for (int i = 0; i < a->n->n_in; i++) {
    int64_t ci = kn_k_ishape(a, i).d[1];
    const float *x = kn_k_in(a, i);
    for (int64_t n = 0; n < N; n++)
      memcpy(y + (n * C + c0) * HW, x + n * ci * HW, (size_t)(ci * HW) * sizeof *y);
    c0 += ci;
  }
  KN_ASSERT(c0 == C);
}

/* x[N,C,H,W] -> channels [OFFSET, OFFSET + COUNT) */
void kn_k_slice_channels(const kn_kargs *a) {
  kn_shape xs = kn_k_ishape(a, 0), ys = kn_k_oshape(a, 0);
  int64_t N = xs.d[0], C = xs.d[1], HW = xs.d[2] * xs.d[3], cnt = ys.d[1];
  int64_t off = kn_node_int(a->n, KN_ATTR_OFFSET);
  KN_ASSERT(off >= 0 && off + cnt <= C);
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    memcpy(y + n * cnt * HW, x + (n * C + off) * HW, (size_t)(cnt * HW) * sizeof *y);
}

/* flatten, reshape: same elements, same order. */
void kn_k_copy(const kn_kargs *a) {
  int64_t n = kn_shape_numel(kn_k_ishape(a, 0));
  KN_ASSERT(n == kn_shape_numel(kn_k_oshape(a, 0)));
  memmove(a->out[0], a->in[0], (size_t)n * 4);
}

/* Bilinear source taps of output index `dst` (align_corners=False): rows i0 and i1 with weight
 * (1 - l1) and l1. PyTorch: src = (dst + 0.5) / scale - 0.5, clamped at 0. */
static void bilinear_src(int64_t dst, int64_t scale, int64_t size, int64_t *i0, int64_t *i1, double *l1) {
  double src = ((double)dst + 0.5) / (double)scale - 0.5;
  if (src < 0) src = 0;
  *i0 = (int64_t)src;
  if (*i0 > size - 1) *i0 = size - 1;
  *i1 = *i0 < size - 1 ? *i0 + 1 : *i0;
  *l1 = src - (double)*i0;
}

/* The taps of an upsample by s; the small (forward input) shape is input 0's forward, output 0's
 * for the gradient. */
static void upsample_taps(const kn_kargs *a, kn_tap_fn tap, void *ctx) {
  bool grad = a->n->op == KN_OP_UPSAMPLE_GRAD;
  kn_shape small = grad ? kn_k_oshape(a, 0) : kn_k_ishape(a, 0);
  int64_t P = small.d[0] * small.d[1], H = small.d[2], W = small.d[3];
  int64_t s = kn_node_int(a->n, KN_ATTR_SCALE), Ho = H * s, Wo = W * s;
  bool bilinear = kn_node_int(a->n, KN_ATTR_MODE) == KN_MODE_BILINEAR;
  for (int64_t p = 0; p < P; p++)
    for (int64_t oh = 0; oh < Ho; oh++)
      for (int64_t ow = 0; ow < Wo; ow++) {
        int64_t out_at = (p * Ho + oh) * Wo + ow;
        if (!bilinear) {
          tap(ctx, out_at, (p * H + oh / s) * W + ow / s, 1.0);
          continue;
        }
        int64_t h0, h1, w0, w1;
        double lh, lw;
        bilinear_src(oh, s, H, &h0, &h1, &lh);
        bilinear_src(ow, s, W, &w0, &w1, &lw);
        tap(ctx, out_at, (p * H + h0) * W + w0, (1 - lh) * (1 - lw));
        tap(ctx, out_at, (p * H + h0) * W + w1, (1 - lh) * lw);
        tap(ctx, out_at, (p * H + h1) * W + w0, lh * (1 - lw));
        tap(ctx, out_at, (p * H + h1) * W + w1, lh * lw);
      }
}

/* x[N,C,H,W] -> y[N,C,H*s,W*s] */
void kn_k_upsample(const kn_kargs *a) { kn_k_run_taps(a, upsample_taps, false); }

/* dy[N,C,H*s,W*s] -> dx[N,C,H,W] */
void kn_k_upsample_grad(const kn_kargs *a) { kn_k_run_taps(a, upsample_taps, true); }
