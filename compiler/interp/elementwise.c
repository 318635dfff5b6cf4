/* elementwise.c — reference add/mul with broadcasting (same rank; where shapes differ one side
 * is 1). The unary pointwise ops are in activations.c. */
#include <math.h>

#include "kernels.h"

/* y = a + b or a * b over the broadcast of inputs 0 and 1 into output 0. */
static void broadcast2(const kn_kargs *a, bool mul) {
  kn_shape as = kn_k_ishape(a, 0), bs = kn_k_ishape(a, 1), ys = kn_k_oshape(a, 0);
  KN_ASSERT(as.rank == ys.rank && bs.rank == ys.rank);
  const float *x0 = kn_k_in(a, 0), *x1 = kn_k_in(a, 1);
  float *y = kn_k_out(a, 0);
  int64_t n = kn_shape_numel(ys);
  for (int64_t i = 0; i < n; i++) {
    int64_t rest = i, ia = 0, ib = 0, ma = 1, mb = 1;
    for (int d = ys.rank - 1; d >= 0; d--) {
      int64_t idx = rest % ys.d[d];
      rest /= ys.d[d];
      if (as.d[d] != 1) ia += idx * ma;
      if (bs.d[d] != 1) ib += idx * mb;
      ma *= as.d[d];
      mb *= bs.d[d];
    }
    y[i] = mul ? x0[ia] * x1[ib] : x0[ia] + x1[ib];
  }
}

void kn_k_add(const kn_kargs *a) { broadcast2(a, false); }
void kn_k_mul(const kn_kargs *a) { broadcast2(a, true); }
