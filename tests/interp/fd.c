/* fd.c — the finite-difference harness of fd.h.
 *
 * Metric: every checked element must satisfy |fd - an| <= FD_TOL * max(1, |fd|, |an|), with a
 * central difference of step FD_STEP on the float32 forward (L accumulated in double). The inputs
 * keep kinks (relu at 0, ties of max) farther than the step away. A pair also fails when its
 * analytic gradient is all but zero (max |an| < FD_MIN_SCALE), so a kernel writing zeros cannot
 * pass by the absolute floor.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd.h"
#include "kn_test_graph.h"

#define FD_STEP 1e-2
#define FD_TOL 1e-3
#define FD_MIN_SCALE 1e-2
#define FD_MAX_CHECK 300 /* elements checked per tensor (evenly spaced beyond that) */

void fd_begin(fd_case *c) {
  memset(c, 0, sizeof *c);
  c->g = kn_graph_create("fd");
  c->y = c->dy = -1;
  c->seed = 1234;
}

int fd_input(fd_case *c, kn_shape s, fd_gen gen) {
  int v = kn_graph_add_input(c->g, "in", KN_DT_F32, s);
  KN_ASSERT(v < FD_MAX_VALS);
  c->gen[v] = gen;
  return v;
}

int fd_labels(fd_case *c, int n, int k) {
  int v = kn_graph_add_input(c->g, "labels", KN_DT_I32, kn_shape1(n));
  KN_ASSERT(v < FD_MAX_VALS);
  c->gen[v] = FD_LABELS;
  c->label_k[v] = k;
  return v;
}

kn_node *fd_add(fd_case *c, kn_op op, const int *in, int n_in) {
  return kn_graph_add_node(c->g, op, kn_op_table[op].name, in, n_in, (kn_loc){0});
}

int fd_infer(fd_case *c, kn_node *n) {
  kn_test_infer(c->g, n);
  for (int j = 0; j < n->n_out; j++) KN_ASSERT(n->out[j] < FD_MAX_VALS);
  return n->n_out ? n->out[0] : -1;
}

void fd_end_forward(fd_case *c, int y) {
  c->n_fwd = c->g->n_nodes;
  c->y = y;
  c->dy = fd_input(c, c->g->vals[y].shape, FD_UNIFORM);
}

void fd_pair(fd_case *c, int wrt, int grad) {
  KN_ASSERT(c->n_pairs < FD_MAX_PAIRS);
  c->wrt[c->n_pairs] = wrt;
  c->grad[c->n_pairs] = grad;
  c->n_pairs++;
}

void fd_end(fd_case *c) { kn_graph_dispose(c->g); }

static void fill(fd_case *c, kn_interp *it, kn_rng *r) {
  for (int v = 0; v < c->g->n_vals; v++) {
    const kn_value *val = &c->g->vals[v];
    if (val->kind != KN_VAL_INPUT) continue;
    int64_t n = kn_shape_numel(val->shape);
    if (c->gen[v] == FD_LABELS) {
      int32_t *p = kn_interp_i32(it, v);
      for (int64_t i = 0; i < n; i++) p[i] = (int32_t)kn_rng_uniform(r, 0, c->label_k[v]);
      continue;
    }
    float *p = kn_interp_f32(it, v);
    for (int64_t i = 0; i < n; i++) {
      switch (c->gen[v]) {
      case FD_UNIFORM: p[i] = (float)kn_rng_uniform(r, -1, 1); break;
      case FD_AWAY0: {
        double m = kn_rng_uniform(r, 0.1, 1);
        p[i] = (float)(kn_rng_uniform(r, 0, 1) < 0.5 ? -m : m);
        break;
      }
      case FD_DISTINCT: p[i] = (float)(0.05 * ((double)i - (double)n / 2)); break;
      case FD_POSITIVE: p[i] = (float)kn_rng_uniform(r, 0.5, 1.5); break;
      case FD_WIDE: {
        double v = kn_rng_uniform(r, -4.5, 4.5), k = v < -1.5 ? -3 : v < 1.5 ? 0 : 3;
        if (fabs(v - k) < 0.1) v = k + (v < k ? -1 : 1) * (0.1 + fabs(v - k));
        p[i] = (float)v;
        break;
      }
      case FD_LABELS: break;
      }
    }
    if (c->gen[v] == FD_DISTINCT) /* Fisher-Yates shuffle */
      for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)kn_rng_uniform(r, 0, (double)(i + 1));
        if (j > i) j = i;
        float t = p[i];
        p[i] = p[j];
        p[j] = t;
      }
  }
}

/* L = sum(dy * y) after running the forward nodes. */
static double loss(fd_case *c, kn_interp *it) {
  for (int i = 0; i < c->n_fwd; i++) kn_interp_run_node(it, i);
  const float *y = kn_interp_f32(it, c->y), *dy = kn_interp_f32(it, c->dy);
  int64_t n = kn_shape_numel(c->g->vals[c->y].shape);
  double l = 0.0;
  for (int64_t i = 0; i < n; i++) l += (double)dy[i] * y[i];
  return l;
}

bool fd_check(fd_case *c, kn_op only, bool perturb, const char *what) {
  kn_interp *it = kn_interp_create(c->g);
  kn_rng r;
  kn_rng_seed(&r, c->seed);
  fill(c, it, &r);
  /* Node outputs start as NaN, so an element a kernel fails to write fails the check. */
  for (int v = 0; v < c->g->n_vals; v++)
    if (c->g->vals[v].kind == KN_VAL_ACT) {
      float *o = kn_interp_f32(it, v);
      for (int64_t i = 0; i < kn_shape_numel(c->g->vals[v].shape); i++) o[i] = NAN;
    }
  kn_interp_run(it);
  bool all_ok = true;
  int checked_pairs = 0;
  for (int p = 0; p < c->n_pairs; p++) {
    const kn_value *gv = &c->g->vals[c->grad[p]];
    if (only != KN_OP_COUNT && (gv->producer < 0 || c->g->nodes[gv->producer].op != only)) continue;
    checked_pairs++;
    int64_t n = kn_shape_numel(gv->shape);
    KN_ASSERT(n == kn_shape_numel(c->g->vals[c->wrt[p]].shape));
    float *an = malloc((size_t)n * sizeof *an);
    memcpy(an, kn_interp_f32(it, c->grad[p]), (size_t)n * sizeof *an);
    if (perturb) an[0] += (float)(0.05 * fmax(1.0, fabs(an[0])));
    float *x = kn_interp_f32(it, c->wrt[p]);
    int64_t step = n > FD_MAX_CHECK ? (n + FD_MAX_CHECK - 1) / FD_MAX_CHECK : 1;
    double worst = 0.0, scale = 0.0;
    int64_t worst_at = 0;
    double worst_fd = 0, worst_an = 0;
    int64_t count = (n - 1) / step + 1, extra = (count - 1) * step != n - 1; /* always check the last */
    for (int64_t k = 0; k < count + extra; k++) {
      int64_t i = k < count ? k * step : n - 1;
      float orig = x[i];
      float xp = (float)(orig + FD_STEP), xm = (float)(orig - FD_STEP);
      x[i] = xp;
      double lp = loss(c, it);
      x[i] = xm;
      double lm = loss(c, it);
      x[i] = orig;
      double fd = (lp - lm) / ((double)xp - (double)xm), a = an[i];
      double err = fabs(fd - a) / fmax(1.0, fmax(fabs(fd), fabs(a)));
      if (isnan(err)) err = INFINITY; /* an element left unwritten (NaN) */
      if (fabs(a) > scale) scale = fabs(a);
      if (err > worst) {
        worst = err;
        worst_at = i;
        worst_fd = fd;
        worst_an = a;
      }
    }
    bool ok = worst <= FD_TOL && scale >= FD_MIN_SCALE;
    if (getenv("KN_FD_VERBOSE"))
      printf("  %s: d/d(value %d): %lld elements, worst err %.2g, max|grad| %.3g\n", what, c->wrt[p],
             (long long)(count + extra), worst, scale);
    if (!ok && !perturb)
      printf("  FAIL %s: d/d(value %d) via %s: element %lld fd %.6g analytic %.6g (err %.2g, max|grad| %.3g)\n",
             what, c->wrt[p], kn_op_table[c->g->nodes[gv->producer].op].name, (long long)worst_at,
             worst_fd, worst_an, worst, scale);
    all_ok = all_ok && ok;
    free(an);
  }
  kn_interp_dispose(it);
  if (checked_pairs == 0) {
    printf("  FAIL %s: no gradient of op %s in this case\n", what, kn_op_table[only].name);
    return false;
  }
  return all_ok;
}
