/* taps.c — ops that are fixed linear maps (average pooling, upsampling) are described once, as
 * the list of taps (output element, input element, weight) a visitor enumerates; the same list
 * gives the forward (y[out] += w x[in]) and its exact transpose, the gradient (dx[in] += w dy[out]).
 * Sums are in double. */
#include <stdlib.h>

#include "../support/util.h"
#include "kernels.h"

typedef struct tap_acc {
  const float *src;
  double *dst;
  bool transpose;
} tap_acc;

static void accumulate(void *ctx, int64_t out_at, int64_t in_at, double wgt) {
  tap_acc *t = ctx;
  if (t->transpose) t->dst[in_at] += wgt * t->src[out_at];
  else t->dst[out_at] += wgt * t->src[in_at];
}

void kn_k_run_taps(const kn_kargs *a, kn_tap_visitor visit, bool transpose) {
  int64_t n_out = kn_shape_numel(kn_k_oshape(a, 0));
  tap_acc t = {kn_k_in(a, 0), kn_xcalloc((size_t)(n_out > 0 ? n_out : 1), sizeof(double)), transpose};
  visit(a, accumulate, &t);
  float *y = kn_k_out(a, 0);
  for (int64_t i = 0; i < n_out; i++) y[i] = (float)t.dst[i];
  free(t.dst);
}
