/* fd.c — finite-difference gradient checks (see fd.h). */
#include "fd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "util.h"

/* A random permutation of 0..n-1 (n <= 64). */
static void permute(kn_rng *r, int *p, int n) {
  for (int i = 0; i < n; i++) p[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)kn_rng_uniform(r, 0, i + 1) % (i + 1), t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
}

/* Offsets of the "sep.<kind>.*" inputs (adb_separate): spacing 2 against activations of spread
 * ~0.3 (at most ~1), so no finite-difference step crosses a kink or switches a maximum. */
static void fill_separation(kn_rng *r, const char *kind, kn_shape s, float *x) {
  int64_t N = s.d[0], C = s.d[1], H = s.d[2], W = s.d[3], HW = H * W;
  int p[64];
  KN_ASSERT(s.rank == 4 && C <= 64);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++) {
      float *o = x + (n * C + c) * HW;
      if (!strcmp(kind, "relu")) {
        for (int64_t i = 0; i < HW; i++) o[i] = kn_rng_uniform(r, 0, 1) < 0.5 ? -2.0f : 2.0f;
      } else if (!strcmp(kind, "act")) { /* the four regions around the kinks at -3, 0, 3 */
        static const float off[4] = {-4.5f, -1.5f, 1.5f, 4.5f};
        for (int64_t i = 0; i < HW; i++) o[i] = off[(int)kn_rng_uniform(r, 0, 4) & 3];
      } else if (!strcmp(kind, "window")) { /* every 3x3 window holds each residue pair once */
        permute(r, p, 9);
        for (int64_t h = 0; h < H; h++)
          for (int64_t w = 0; w < W; w++) o[h * W + w] = 2.0f * (float)p[(h % 3) * 3 + w % 3] - 8.0f;
      } else if (!strcmp(kind, "global")) {
        for (int64_t i = 0; i < HW; i++) o[i] = 0.0f;
        o[(int64_t)kn_rng_uniform(r, 0, (double)HW) % HW] = 4.0f;
      } else {
        KN_ASSERT(!strcmp(kind, "channel"));
      }
    }
  if (!strcmp(kind, "channel"))
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < HW; i++) {
        permute(r, p, (int)C);
        for (int64_t c = 0; c < C; c++) x[(n * C + c) * HW + i] = 2.0f * (float)p[c] - (float)(C - 1);
      }
}

bool fd_case_init(fd_case *c, kn_graph *g, const kn_train_config *cfg, uint64_t seed) {
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_autodiff(g, cfg, NULL, &d);
  if (!ok) {
    kn_diag_print(&d, stderr);
    kn_graph_dispose(g);
  }
  kn_diag_free(&d);
  if (!ok) return false;
  c->g = g;
  c->it = kn_interp_create(g);
  kn_interp_init_params(c->it, seed);
  kn_rng r;
  kn_rng_seed(&r, seed * 7919 + 1);
  float *x = kn_interp_f32(c->it, g->input);
  for (int64_t i = 0; i < kn_shape_numel(g->vals[g->input].shape); i++) x[i] = (float)kn_rng_uniform(&r, -1, 1);
  int32_t *lab = kn_interp_i32(c->it, g->labels);
  int64_t k = g->vals[g->output].shape.d[1];
  for (int64_t i = 0; i < kn_shape_numel(g->vals[g->labels].shape); i++)
    lab[i] = (int32_t)kn_rng_uniform(&r, 0, (double)k) % (int32_t)k;
  for (int v = 0; v < g->n_vals; v++) {
    char kind[32];
    if (g->vals[v].kind == KN_VAL_INPUT && sscanf(g->vals[v].name, "sep.%31[a-z].", kind) == 1)
      fill_separation(&r, kind, g->vals[v].shape, kn_interp_f32(c->it, v));
  }
  kn_interp_f32(c->it, g->lr)[0] = 0.0f;
  kn_interp_f32(c->it, g->step)[0] = 1.0f;
  return true;
}

void fd_case_free(fd_case *c) {
  kn_interp_dispose(c->it);
  kn_graph_dispose(c->g);
}

float fd_run(fd_case *c, bool backward) {
  for (int i = 0; i < c->g->n_nodes; i++) {
    const kn_node *n = &c->g->nodes[i];
    if (n->dead || (kn_op_table[n->op].flags & KN_OPF_UPDATE)) continue;
    if (!backward && n->fwd >= 0) continue;
    kn_interp_run_node(c->it, i);
  }
  return kn_interp_f32(c->it, c->g->loss)[0];
}

/* Central difference of the loss along u (n entries of parameter p). */
static double central(fd_case *c, int p, const float *u, int64_t n, double h) {
  float *w = kn_interp_f32(c->it, p);
  float *orig = kn_xmalloc((size_t)n * sizeof *orig);
  memcpy(orig, w, (size_t)n * sizeof *orig);
  for (int64_t i = 0; i < n; i++) w[i] = orig[i] + (float)h * u[i];
  double lp = fd_run(c, false);
  for (int64_t i = 0; i < n; i++) w[i] = orig[i] - (float)h * u[i];
  double lm = fd_run(c, false);
  memcpy(w, orig, (size_t)n * sizeof *orig);
  free(orig);
  return (lp - lm) / (2 * h);
}

/* Checks ad against the central differences at every step size; passes when one agrees. */
static void judge(fd_case *c, fd_stats *s, const char *label, const char *what, int p, const float *u,
                  int64_t n, double ad) {
  double best = INFINITY, best_fd = NAN;
  for (int k = 0; k < FD_NSTEPS && !(best <= 0.2); k++) {
    double fd = central(c, p, u, n, fd_steps[k]);
    double r = fabs(fd - ad) / ((s->rtol > 0 ? s->rtol : FD_RTOL) * fmax(fabs(fd), fabs(ad)) + FD_ATOL);
    if (r < best || k == 0) {
      best = isnan(r) ? INFINITY : r;
      best_fd = fd;
    }
  }
  s->checks++;
  if (!(best <= 1.0)) {
    s->failures++;
    fprintf(stderr, "FAIL %s: %s: finite difference %.6g, autodiff %.6g\n", label, what, best_fd, ad);
  }
  if (best > s->worst) s->worst = best;
  if (getenv("KN_FD_VERBOSE")) fprintf(stderr, "  %s: ad %.6g fd %.6g ratio %.3f\n", what, ad, best_fd, best);
}

/* The `entries` largest entries of grad (n of them; destroyed), one at a time; u is n zeros. */
static void check_largest(fd_case *c, fd_stats *s, const char *label, int p, float *grad, float *u, int64_t n,
                          int entries) {
  char what[160];
  for (int e = 0; e < entries && e < n; e++) {
    int64_t best = -1;
    for (int64_t i = 0; i < n; i++)
      if (!isnan(grad[i]) && (best < 0 || fabsf(grad[i]) > fabsf(grad[best]))) best = i;
    if (best < 0) break;
    u[best] = 1.0f;
    snprintf(what, sizeof what, "%s[%lld]", c->g->vals[p].name, (long long)best);
    judge(c, s, label, what, p, u, n, grad[best]);
    u[best] = 0.0f;
    grad[best] = NAN; /* not picked again */
  }
}

void fd_check_entries(fd_case *c, const char *label, int p, int entries, fd_stats *s) {
  char name[160];
  snprintf(name, sizeof name, "grad:%s", c->g->vals[p].name);
  int gv = kn_graph_find_value(c->g, name);
  KN_ASSERT(gv >= 0);
  int64_t n = kn_shape_numel(c->g->vals[p].shape);
  float *grad = kn_xmalloc((size_t)n * sizeof *grad), *u = kn_xcalloc((size_t)n, sizeof *u);
  memcpy(grad, kn_interp_f32(c->it, gv), (size_t)n * sizeof *grad);
  check_largest(c, s, label, p, grad, u, n, entries);
  free(grad);
  free(u);
}

void fd_check_params(fd_case *c, const char *label, const char *only_prefix, int entries, fd_stats *s) {
  kn_graph *g = c->g;
  fd_run(c, true);
  kn_rng r;
  kn_rng_seed(&r, 12345);
  for (int gv = 0; gv < g->n_vals; gv++) {
    int p = g->vals[gv].grad_of;
    if (p < 0 || g->vals[p].kind != KN_VAL_PARAM) continue;
    if (only_prefix && strncmp(g->vals[p].name, only_prefix, strlen(only_prefix)) != 0) continue;
    int64_t n = kn_shape_numel(g->vals[p].shape);
    float *grad = kn_xmalloc((size_t)n * sizeof *grad), *u = kn_xcalloc((size_t)n, sizeof *u);
    memcpy(grad, kn_interp_f32(c->it, gv), (size_t)n * sizeof *grad);
    double ad = 0;
    for (int64_t i = 0; i < n; i++) {
      u[i] = kn_rng_uniform(&r, 0, 1) < 0.5 ? -1.0f : 1.0f;
      ad += (double)u[i] * grad[i];
    }
    char what[160];
    snprintf(what, sizeof what, "%s along a random direction", g->vals[p].name);
    judge(c, s, label, what, p, u, n, ad);
    s->largest_dir = fmax(s->largest_dir, fabs(ad));
    memset(u, 0, (size_t)n * sizeof *u);
    check_largest(c, s, label, p, grad, u, n, entries);
    free(grad);
    free(u);
  }
}
