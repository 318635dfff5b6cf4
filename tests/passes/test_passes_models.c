/* test_passes_models.c — -O0 against -O2 on the reduced seed models (tests/models/, the *_tiny.yaml files),
 * in the reference interpreter:
 *   - inference graph: the log-probabilities are equal;
 *   - training graph (kn_autodiff of the spec's forward graph): loss of 3 optimizer steps, every
 *     parameter gradient after step 1, and every parameter and state tensor after step 3 are equal;
 *   - the -O2 graphs run once more as a group-honouring backend would: kernel by kernel, with every
 *     value internal to a kernel (kn_kernels_materialised false) overwritten by NaN as soon as its
 *     kernel finishes, so a kernel boundary that reads a value the grouping said stays in registers
 *     shows up as NaN; the results must be the same.
 * Values are matched by name (dce and cse renumber ids). Params start from the same seed (the
 * interpreter initialises each from its name).
 *
 * Usage: test_passes_models MODEL.yaml...
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "interp.h"
#include "kernel_groups.h"
#include "pm_check.h"
#include "spec.h"

typedef struct {
  kn_graph *g;
  kn_interp *it;
  bool poison; /* run kernel by kernel, NaN-filling internal values */
  char *internal; /* [n_vals] */
} runner;

static void runner_init(runner *r, kn_graph *g, bool poison) {
  r->g = g;
  r->it = kn_interp_create(g);
  kn_interp_init_params(r->it, 7);
  r->poison = poison;
  r->internal = calloc((size_t)g->n_vals + 1, 1);
  for (int v = 0; v < g->n_vals; v++)
    r->internal[v] = g->vals[v].producer >= 0 && !kn_kernels_materialised(g, v);
}

static void runner_free(runner *r) {
  kn_interp_dispose(r->it);
  free(r->internal);
}

static void run(runner *r) {
  kn_graph *g = r->g;
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i].dead) continue;
    kn_interp_run_node(r->it, i);
    if (!r->poison) continue;
    /* End of a kernel: the next live node is in another group. */
    int k = g->nodes[i].kernel, j = i + 1;
    while (j < g->n_nodes && g->nodes[j].dead) j++;
    if (k && j < g->n_nodes && g->nodes[j].kernel == k) continue;
    int first = i;
    while (k && first > 0 && (g->nodes[first - 1].dead || g->nodes[first - 1].kernel == k)) first--;
    for (int m = first; m <= i; m++) {
      const kn_node *n = &g->nodes[m];
      if (n->dead) continue;
      for (int o = 0; o < n->n_out; o++) {
        int v = n->out[o];
        if (!r->internal[v] || g->vals[v].dtype != KN_DT_F32) continue;
        float *p = kn_interp_f32(r->it, v);
        for (int64_t e = 0; e < kn_shape_numel(g->vals[v].shape); e++) p[e] = NAN;
      }
    }
  }
}

static int find(const kn_graph *g, const char *name) { return kn_graph_find_value(g, name); }

/* max |a - b| over a value present in both graphs; INFINITY when missing or NaN. */
static double diff(runner *a, runner *b, const char *name) {
  int va = find(a->g, name), vb = find(b->g, name);
  if (va < 0 || vb < 0) return INFINITY;
  if (a->g->vals[va].dtype != KN_DT_F32) return 0;
  const float *x = kn_interp_f32(a->it, va), *y = kn_interp_f32(b->it, vb);
  double m = 0;
  for (int64_t e = 0; e < kn_shape_numel(a->g->vals[va].shape); e++) {
    double dd = fabs((double)x[e] - (double)y[e]);
    if (isnan(dd)) return INFINITY;
    if (dd > m) m = dd;
  }
  return m;
}

static void feed(runner *r, int step, uint64_t seed) {
  kn_graph *g = r->g;
  kn_rng rng;
  kn_rng_seed(&rng, seed + (uint64_t)step);
  float *x = kn_interp_f32(r->it, g->input);
  for (int64_t e = 0; e < kn_shape_numel(g->vals[g->input].shape); e++) x[e] = (float)kn_rng_uniform(&rng, -1, 1);
  if (g->labels >= 0) {
    int32_t *l = kn_interp_i32(r->it, g->labels);
    for (int64_t e = 0; e < g->vals[g->labels].shape.d[0]; e++) l[e] = (int32_t)kn_rng_uniform(&rng, 0, 10) % 10;
  }
  if (g->lr >= 0) kn_interp_f32(r->it, g->lr)[0] = 0.05f;
  if (g->step >= 0) kn_interp_f32(r->it, g->step)[0] = (float)(step + 1);
}

static const double TOL = 1e-6;

static void check_inference(const kn_graph *fwd, const char *model) {
  kn_graph *g0 = kn_graph_inference_clone(fwd), *g2 = kn_graph_inference_clone(fwd);
  pm_run(g2, 2, -1, KN_PIPELINE_INFER);
  runner r[3];
  runner_init(&r[0], g0, false);
  runner_init(&r[1], g2, false);
  runner_init(&r[2], g2, true);
  const char *out = g0->vals[g0->output].name;
  for (int k = 0; k < 3; k++) {
    feed(&r[k], 0, 99);
    run(&r[k]);
  }
  double d1 = diff(&r[0], &r[1], out), d2 = diff(&r[0], &r[2], out);
  if (d1 > TOL || d2 > TOL) fprintf(stderr, "%s inference: output differs by %g (plain) %g (by kernel)\n", model, d1, d2);
  CHECK(d1 <= TOL);
  CHECK(d2 <= TOL);
  CHECK(kn_kernels_count(g2) < kn_kernels_count(g0));
  for (int k = 0; k < 3; k++) runner_free(&r[k]);
  kn_graph_dispose(g0);
  kn_graph_dispose(g2);
}

static void check_training(const kn_spec *s, const char *model) {
  kn_graph *g0 = kn_graph_clone(s->graph), *g2 = kn_graph_clone(s->graph);
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_autodiff(g0, &s->train, NULL, &d) && kn_autodiff(g2, &s->train, NULL, &d);
  kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  CHECK(ok);
  if (!ok) {
    kn_graph_dispose(g0);
    kn_graph_dispose(g2);
    return;
  }
  pm_run(g2, 2, -1, KN_PIPELINE_TRAIN);
  CHECK(kn_kernels_count(g2) < kn_kernels_count(g0));
  runner r[3];
  runner_init(&r[0], g0, false);
  runner_init(&r[1], g2, false);
  runner_init(&r[2], g2, true);
  const char *loss = g0->vals[g0->loss].name;
  for (int step = 0; step < 3; step++) {
    for (int k = 0; k < 3; k++) {
      feed(&r[k], step, 1234);
      run(&r[k]);
    }
    for (int k = 1; k < 3; k++) {
      double dl = diff(&r[0], &r[k], loss);
      if (dl > TOL) fprintf(stderr, "%s step %d: loss differs by %g (runner %d)\n", model, step, dl, k);
      CHECK(dl <= TOL);
    }
    if (step == 0) {
      int grads = 0, bad = 0;
      for (int v = 0; v < g0->n_vals; v++) {
        if (g0->vals[v].grad_of < 0 || g0->vals[g0->vals[v].grad_of].kind != KN_VAL_PARAM) continue;
        grads++;
        for (int k = 1; k < 3; k++)
          if (diff(&r[0], &r[k], g0->vals[v].name) > TOL) {
            if (!bad++) fprintf(stderr, "%s: gradient %s differs (runner %d)\n", model, g0->vals[v].name, k);
          }
      }
      CHECK(grads > 0);
      CHECK(bad == 0);
    }
  }
  int persist = 0, bad = 0;
  for (int v = 0; v < g0->n_vals; v++) {
    if (g0->vals[v].kind != KN_VAL_PARAM && g0->vals[v].kind != KN_VAL_STATE) continue;
    persist++;
    for (int k = 1; k < 3; k++)
      if (diff(&r[0], &r[k], g0->vals[v].name) > TOL) {
        if (!bad++) fprintf(stderr, "%s: %s differs after 3 steps (runner %d)\n", model, g0->vals[v].name, k);
      }
  }
  CHECK(persist > 0);
  CHECK(bad == 0);
  for (int k = 0; k < 3; k++) runner_free(&r[k]);
  kn_graph_dispose(g0);
  kn_graph_dispose(g2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    kn_diag d;
    kn_diag_init(&d);
    kn_spec_options o = {0};
    kn_spec *s = kn_spec_load(argv[i], &o, &d);
    kn_diag_print(&d, stderr);
    kn_diag_free(&d);
    CHECK(s != NULL);
    if (!s) continue;
    check_inference(s->graph, argv[i]);
    check_training(s, argv[i]);
    kn_spec_dispose(s);
  }
  CHECK(argc > 1);
  return kn_check_summary();
}
