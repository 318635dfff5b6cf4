/* linear.c — fully connected layer and its gradients on the shared SGEMM core.
 *   forward      y[N,O]  = x[N,F] * W[O,F]^T (+ b)
 *   grad input   dx[N,F] = dy[N,O] * W[O,F]
 *   grad weight  dW[O,F] = dy[N,O]^T * x[N,F]
 * Items: kn_gemm_items(rows, cols) of the product computed.
 */
#include "gemm.h"

/* p: x, w, (b), y. */
void kn_k_linear(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t F, int64_t O, int64_t has_bias) {
  const float *x = p[0], *w = p[1], *b = has_bias ? p[2] : 0;
  float *y = p[2 + has_bias];
  int64_t mc = kn_gemm_mc(N, kn_cdiv(O, KN_NC)), nm = kn_cdiv(N, mc);
  for (int64_t it = begin; it < end; it++) {
    kn_gemm_item(it, N, O, F, x, F, 1, w, 1, F, y, O, 0);
    if (!b) continue;
    int64_t i0 = (it % nm) * mc, j0 = (it / nm) * KN_NC;
    int64_t mm = N - i0 < mc ? N - i0 : mc, nn = O - j0 < KN_NC ? O - j0 : KN_NC;
    for (int64_t i = 0; i < mm; i++)
      for (int64_t j = 0; j < nn; j++) y[(i0 + i) * O + j0 + j] += b[j0 + j];
  }
}

/* p: dy[N,O], w[O,F], dx[N,F]. */
void kn_k_linear_grad_input(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t F, int64_t O) {
  const float *dy = p[0], *w = p[1];
  float *dx = p[2];
  for (int64_t it = begin; it < end; it++) kn_gemm_item(it, N, F, O, dy, O, 1, w, F, 1, dx, F, 0);
}

/* p: dy[N,O], x[N,F], dw[O,F]. */
void kn_k_linear_grad_weight(void *const *p, int64_t begin, int64_t end, int64_t N, int64_t F, int64_t O) {
  const float *dy = p[0], *x = p[1];
  float *dw = p[2];
  for (int64_t it = begin; it < end; it++) kn_gemm_item(it, O, F, N, dy, 1, O, x, F, 1, dw, F, 0);
}
