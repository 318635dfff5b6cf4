/* linear.c — reference fully connected layer y = x W^T + b (x flattened to [N,F]) and its
 * gradients with respect to the input and the weight. Double accumulation. */
#include "kernels.h"

/* in: x[N,...], w[O,F], (b[O]) -> y[N,O] */
void kn_k_linear(const kn_kargs *a) {
  kn_shape xs = kn_k_ishape(a, 0), ws = kn_k_ishape(a, 1);
  int64_t N = xs.d[0], O = ws.d[0], F = ws.d[1];
  KN_ASSERT(kn_shape_numel(xs) == N * F);
  const float *x = kn_k_in(a, 0), *w = kn_k_in(a, 1), *b = a->n->n_in > 2 ? kn_k_in(a, 2) : NULL;
  float *y = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < O; o++) {
      double acc = b ? b[o] : 0.0;
      for (int64_t f = 0; f < F; f++) acc += (double)x[n * F + f] * w[o * F + f];
      y[n * O + o] = (float)acc;
    }
}

/* in: dy[N,O], w[O,F] -> dx (SHAPE, numel N*F) = dy W */
void kn_k_linear_grad_input(const kn_kargs *a) {
  kn_shape ys = kn_k_ishape(a, 0), ws = kn_k_ishape(a, 1);
  int64_t N = ys.d[0], O = ws.d[0], F = ws.d[1];
  KN_ASSERT(kn_shape_numel(kn_k_oshape(a, 0)) == N * F);
  const float *dy = kn_k_in(a, 0), *w = kn_k_in(a, 1);
  float *dx = kn_k_out(a, 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t f = 0; f < F; f++) {
      double acc = 0.0;
      for (int64_t o = 0; o < O; o++) acc += (double)dy[n * O + o] * w[o * F + f];
      dx[n * F + f] = (float)acc;
    }
}

/* in: dy[N,O], x[N,...] -> dw[O,F] = dy^T x */
void kn_k_linear_grad_weight(const kn_kargs *a) {
  kn_shape ys = kn_k_ishape(a, 0), xs = kn_k_ishape(a, 1);
  int64_t N = ys.d[0], O = ys.d[1], F = kn_shape_numel(xs) / xs.d[0];
  const float *dy = kn_k_in(a, 0), *x = kn_k_in(a, 1);
  float *dw = kn_k_out(a, 0);
  for (int64_t o = 0; o < O; o++)
    for (int64_t f = 0; f < F; f++) {
      double acc = 0.0;
      for (int64_t n = 0; n < N; n++) acc += (double)dy[n * O + o] * x[n * F + f];
      dw[o * F + f] = (float)acc;
    }
}
