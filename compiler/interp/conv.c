/* conv.c — reference 2-D convolution (PyTorch's conv2d: stride, zero padding, dilation, groups,
 * optional bias) and its gradients with respect to the input and the weight. Direct loops,
 * double accumulation. */
#include "kernels.h"

typedef struct conv_geom {
  int64_t N, Ci, H, W, Co, Ho, Wo, G, cig, cog; /* cig/cog: channels per group */
  kn_win k;
} conv_geom;

static conv_geom geom(const kn_node *n, kn_shape x, kn_shape y) {
  conv_geom c;
  c.N = x.d[0];
  c.Ci = x.d[1];
  c.H = x.d[2];
  c.W = x.d[3];
  c.Co = y.d[1];
  c.Ho = y.d[2];
  c.Wo = y.d[3];
  c.G = kn_node_int(n, KN_ATTR_GROUPS);
  KN_ASSERT(c.G >= 1 && c.Ci % c.G == 0 && c.Co % c.G == 0);
  c.cig = c.Ci / c.G;
  c.cog = c.Co / c.G;
  c.k = kn_k_window(n, true);
  return c;
}

/* in: x[N,Ci,H,W], w[Co,Ci/G,kh,kw], (b[Co]) -> y[N,Co,Ho,Wo] */
void kn_k_conv2d(const kn_kargs *a) {
  conv_geom c = geom(a->n, kn_k_ishape(a, 0), kn_k_oshape(a, 0));
  const float *x = kn_k_in(a, 0), *w = kn_k_in(a, 1), *b = a->n->n_in > 2 ? kn_k_in(a, 2) : NULL;
  float *y = kn_k_out(a, 0);
  kn_win k = c.k;
  for (int64_t n = 0; n < c.N; n++)
    for (int64_t co = 0; co < c.Co; co++) {
      int64_t g = co / c.cog;
      for (int64_t oh = 0; oh < c.Ho; oh++)
        for (int64_t ow = 0; ow < c.Wo; ow++) {
          double acc = b ? b[co] : 0.0;
          for (int64_t ci = 0; ci < c.cig; ci++)
            for (int64_t i = 0; i < k.kh; i++) {
              int64_t ih = oh * k.sh - k.ph + i * k.dh;
              if (ih < 0 || ih >= c.H) continue;
              for (int64_t j = 0; j < k.kw; j++) {
                int64_t iw = ow * k.sw - k.pw + j * k.dw;
                if (iw < 0 || iw >= c.W) continue;
                acc += (double)x[((n * c.Ci + g * c.cig + ci) * c.H + ih) * c.W + iw] *
                       w[((co * c.cig + ci) * k.kh + i) * k.kw + j];
              }
            }
          y[((n * c.Co + co) * c.Ho + oh) * c.Wo + ow] = (float)acc;
        }
    }
}

/* in: dy[N,Co,Ho,Wo], w -> dx[N,Ci,H,W] (shape from the output value, i.e. attr SHAPE).
 * Gathers, for each input pixel, every (output pixel, tap) that read it. */
void kn_k_conv2d_grad_input(const kn_kargs *a) {
  conv_geom c = geom(a->n, kn_k_oshape(a, 0), kn_k_ishape(a, 0));
  const float *dy = kn_k_in(a, 0), *w = kn_k_in(a, 1);
  float *dx = kn_k_out(a, 0);
  kn_win k = c.k;
  for (int64_t n = 0; n < c.N; n++)
    for (int64_t ci = 0; ci < c.Ci; ci++) {
      int64_t g = ci / c.cig, cl = ci % c.cig;
      for (int64_t ih = 0; ih < c.H; ih++)
        for (int64_t iw = 0; iw < c.W; iw++) {
          double acc = 0.0;
          for (int64_t co = g * c.cog; co < (g + 1) * c.cog; co++)
            for (int64_t i = 0; i < k.kh; i++) {
              int64_t th = ih + k.ph - i * k.dh;
              if (th < 0 || th % k.sh) continue;
              int64_t oh = th / k.sh;
              if (oh >= c.Ho) continue;
              for (int64_t j = 0; j < k.kw; j++) {
                int64_t tw = iw + k.pw - j * k.dw;
                if (tw < 0 || tw % k.sw) continue;
                int64_t ow = tw / k.sw;
                if (ow >= c.Wo) continue;
                acc += (double)dy[((n * c.Co + co) * c.Ho + oh) * c.Wo + ow] *
                       w[((co * c.cig + cl) * k.kh + i) * k.kw + j];
              }
            }
          dx[((n * c.Ci + ci) * c.H + ih) * c.W + iw] = (float)acc;
        }
    }
}

/* in: dy[N,Co,Ho,Wo], x[N,Ci,H,W] -> dw[Co,Ci/G,kh,kw] */
void kn_k_conv2d_grad_weight(const kn_kargs *a) {
  conv_geom c = geom(a->n, kn_k_ishape(a, 1), kn_k_ishape(a, 0));
  const float *dy = kn_k_in(a, 0), *x = kn_k_in(a, 1);
  float *dw = kn_k_out(a, 0);
  kn_win k = c.k;
  for (int64_t co = 0; co < c.Co; co++) {
    int64_t g = co / c.cog;
    for (int64_t ci = 0; ci < c.cig; ci++)
      for (int64_t i = 0; i < k.kh; i++)
        for (int64_t j = 0; j < k.kw; j++) {
          double acc = 0.0;
          for (int64_t n = 0; n < c.N; n++)
            for (int64_t oh = 0; oh < c.Ho; oh++) {
              int64_t ih = oh * k.sh - k.ph + i * k.dh;
              if (ih < 0 || ih >= c.H) continue;
              for (int64_t ow = 0; ow < c.Wo; ow++) {
                int64_t iw = ow * k.sw - k.pw + j * k.dw;
                if (iw < 0 || iw >= c.W) continue;
                acc += (double)dy[((n * c.Co + co) * c.Ho + oh) * c.Wo + ow] *
                       x[((n * c.Ci + g * c.cig + ci) * c.H + ih) * c.W + iw];
              }
            }
          dw[((co * c.cig + ci) * k.kh + i) * k.kw + j] = (float)acc;
        }
  }
}
