/* conv.c — reference 2-D convolution (PyTorch's conv2d: stride, zero padding, dilation, groups,
 * optional bias) and its gradients with respect to the input and the weight.
 *
 * The convolution is written once, as the loop nest that visits every product
 * y[y_at] += x[x_at] * w[w_at]; the three kernels are the three contractions of that list:
 *   forward      y  [y_at] += x [x_at] * w[w_at]
 *   grad_input   dx [x_at] += dy[y_at] * w[w_at]
 *   grad_weight  dw [w_at] += dy[y_at] * x[x_at]
 * so the gradients are the exact transposes of the forward. Sums are in double.
 */
#include <stdlib.h>

#include "../support/util.h"
#include "kernels.h"

typedef enum { CONV_FORWARD, CONV_GRAD_INPUT, CONV_GRAD_WEIGHT } conv_mode;

typedef struct conv_acc {
  conv_mode mode;
  const float *x, *w, *dy; /* the two operands of the mode */
  double *acc;             /* the result, indexed like y, x or w */
} conv_acc;

static void product(conv_acc *c, int64_t y_at, int64_t x_at, int64_t w_at) {
  switch (c->mode) {
  case CONV_FORWARD: c->acc[y_at] += (double)c->x[x_at] * c->w[w_at]; break;
  case CONV_GRAD_INPUT: c->acc[x_at] += (double)c->dy[y_at] * c->w[w_at]; break;
  case CONV_GRAD_WEIGHT: c->acc[w_at] += (double)c->dy[y_at] * c->x[x_at]; break;
  }
}

/* Every product of a convolution of x [N,Ci,H,W] into y [N,Co,Ho,Wo] with the node's window,
 * dilation and groups; the weight is [Co, Ci/G, kh, kw]. */
static void conv_visit(const kn_node *n, kn_shape xs, kn_shape ys, conv_acc *c) {
  int64_t N = xs.d[0], Ci = xs.d[1], H = xs.d[2], W = xs.d[3], Co = ys.d[1], Ho = ys.d[2], Wo = ys.d[3];
  int64_t G = kn_node_int(n, KN_ATTR_GROUPS);
  KN_ASSERT(G >= 1 && Ci % G == 0 && Co % G == 0 && ys.d[0] == N);
  int64_t cig = Ci / G, cog = Co / G;
  kn_win k = kn_k_window(n, true);
  for (int64_t b = 0; b < N; b++)
    for (int64_t co = 0; co < Co; co++) {
      int64_t g = co / cog;
      for (int64_t oh = 0; oh < Ho; oh++)
        for (int64_t ow = 0; ow < Wo; ow++) {
          int64_t y_at = ((b * Co + co) * Ho + oh) * Wo + ow;
          for (int64_t ci = 0; ci < cig; ci++)
            for (int64_t i = 0; i < k.kh; i++) {
              int64_t ih = oh * k.sh - k.ph + i * k.dh;
              if (ih < 0 || ih >= H) continue;
              for (int64_t j = 0; j < k.kw; j++) {
                int64_t iw = ow * k.sw - k.pw + j * k.dw;
                if (iw < 0 || iw >= W) continue;
                product(c, y_at, ((b * Ci + g * cig + ci) * H + ih) * W + iw, ((co * cig + ci) * k.kh + i) * k.kw + j);
              }
            }
        }
    }
}

/* Runs the mode into output 0 (its element count sizes the accumulator); bias: added per channel
 * (dim 1) of the output. */
static void conv_run(const kn_kargs *a, conv_acc *c, kn_shape xs, kn_shape ys, const float *bias) {
  kn_shape os = kn_k_oshape(a, 0);
  int64_t n = kn_shape_numel(os);
  c->acc = kn_xcalloc((size_t)n, sizeof *c->acc);
  conv_visit(a->n, xs, ys, c);
  float *out = kn_k_out(a, 0);
  int64_t C = os.d[1], HW = os.rank == 4 ? os.d[2] * os.d[3] : 1;
  for (int64_t i = 0; i < n; i++) out[i] = (float)(c->acc[i] + (bias ? bias[(i / HW) % C] : 0.0));
  free(c->acc);
}

/* in: x[N,Ci,H,W], w[Co,Ci/G,kh,kw], (b[Co]) -> y[N,Co,Ho,Wo] */
void kn_k_conv2d(const kn_kargs *a) {
  conv_acc c = {CONV_FORWARD, kn_k_in(a, 0), kn_k_in(a, 1), NULL, NULL};
  conv_run(a, &c, kn_k_ishape(a, 0), kn_k_oshape(a, 0), a->n->n_in > 2 ? kn_k_in(a, 2) : NULL);
}

/* in: dy[N,Co,Ho,Wo], w -> dx[N,Ci,H,W] (the output value's shape, i.e. attr SHAPE) */
void kn_k_conv2d_grad_input(const kn_kargs *a) {
  conv_acc c = {CONV_GRAD_INPUT, NULL, kn_k_in(a, 1), kn_k_in(a, 0), NULL};
  conv_run(a, &c, kn_k_oshape(a, 0), kn_k_ishape(a, 0), NULL);
}

/* in: dy[N,Co,Ho,Wo], x[N,Ci,H,W] -> dw[Co,Ci/G,kh,kw] */
void kn_k_conv2d_grad_weight(const kn_kargs *a) {
  conv_acc c = {CONV_GRAD_WEIGHT, kn_k_in(a, 1), NULL, kn_k_in(a, 0), NULL};
  conv_run(a, &c, kn_k_ishape(a, 1), kn_k_ishape(a, 0), NULL);
}
