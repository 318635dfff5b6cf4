/* reduce.c — GPU reductions over 4-d tensors and their gradients: global pools, channel pools,
 * bias gradients and sum_to. Geometry i = {.., id[4], od[4]}: the big tensor's dims and the
 * reduced tensor's dims (od[k] == id[k], or 1 where reduced); see kn_red_* in kn_gpu.h. */
#include "kn_gpu.h"

/* reduce: i = {mode (0 sum, 1 max), id[4], od[4]}; f = {scale (sum only)}; p = {x, y};
 * one warp per output element */
void kn_gk_reduce(const long *i, const float *f, void *const *p) {
  const long *id = i + 1, *od = i + 5;
  const float *x = p[0];
  float *y = p[1];
  long R = kn_red_count(id, od);
  kn_for_warp(o, od[0] * od[1] * od[2] * od[3]) {
    const float *xp = x + kn_red_base(id, od, o);
    if (i[0] == 0) {
      float acc = 0.f;
      for (long r = kn_lane(); r < R; r += 32) acc += xp[kn_red_off(id, od, r)];
      acc = kn_warp_sum(acc);
      if (kn_lane() == 0) y[o] = acc * f[0];
    } else {
      float m = -KN_INF;
      for (long r = kn_lane(); r < R; r += 32) {
        float v = xp[kn_red_off(id, od, r)];
        m = v > m ? v : m;
      }
      m = kn_warp_max(m);
      if (kn_lane() == 0) y[o] = m;
    }
  }
}

/* broadcast back (grads of mean reductions): dx[e] = dy[proj(e)] * scale.
 * i = {id[4] (dx), od[4] (dy)}; f = {scale}; p = {dy, dx}; one thread per dx element */
void kn_gk_broadcast(const long *i, const float *f, void *const *p) {
  const long *id = i, *od = i + 4;
  const float *dy = p[0];
  float *dx = p[1];
  kn_for(e, id[0] * id[1] * id[2] * id[3]) {
    long r = e, yo = 0, ys = 1;
    for (int k = 3; k >= 0; k--) {
      long c = r % id[k];
      r /= id[k];
      if (od[k] != 1) yo += c * ys;
      ys *= od[k];
    }
    dx[e] = dy[yo] * f[0];
  }
}

/* grads of max reductions: dy of each output goes to the first maximum of its inputs, the rest
 * get 0. i = {id[4], od[4]}; p = {dy, x, dx}; one warp per output element */
void kn_gk_argmax_scatter(const long *i, const float *f, void *const *p) {
  const long *id = i, *od = i + 4;
  const float *dy = p[0], *x = p[1];
  float *dx = p[2];
  long R = kn_red_count(id, od);
  kn_for_warp(o, od[0] * od[1] * od[2] * od[3]) {
    long base = kn_red_base(id, od, o);
    float m = -KN_INF;
    for (long r = kn_lane(); r < R; r += 32) {
      float v = x[base + kn_red_off(id, od, r)];
      m = v > m ? v : m;
    }
    m = kn_warp_max(m);
    int first = 0x7fffffff; /* lowest r holding the maximum */
    for (long r = kn_lane(); r < R; r += 32)
      if (x[base + kn_red_off(id, od, r)] == m) {
        first = (int)r;
        break;
      }
    first = kn_warp_min_i(first);
    for (long r = kn_lane(); r < R; r += 32) dx[base + kn_red_off(id, od, r)] = r == first ? dy[o] : 0.f;
  }
}
