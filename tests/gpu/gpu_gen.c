/* gpu_gen.c — `kn_gpu_gen OUTDIR [--train SPEC]... [--time SPEC]...`: writes the GPU check's test
 * bundles (runtime/cuda/kn_gpu_bundle.h) on a machine with LLVM, for kn_gpu_check to run on a
 * machine with a GPU:
 *   op_<name>_<variant>.kgb  every op of ops.def (op_graphs.c) with random inputs; expected values
 *                            from the reference interpreter;
 *   train_<model>.kgb        a spec's training step run 3 times on one fixed random batch;
 *                            expected: every parameter and the loss after the 3 interpreter steps;
 *   time_<model>.kgb         a spec's training step with no data, for timing only.
 * Prints the bundles written and "N passed, 0 failed" (each bundle written is a pass). */
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "bundle_write.h"
#include "interp.h"
#include "interp_data.h"
#include "op_graphs.h"
#include "spec.h"
#include "util.h"

enum { KN_TRAIN_STEPS = 3 };
static int passed, failed;

/* Copies of the values with no producer: what the GPU starts from. */
static void **snapshot(const kn_graph *g, kn_interp *it, bool sources) {
  void **s = kn_xcalloc((size_t)g->n_vals, sizeof *s);
  for (int v = 0; v < g->n_vals; v++) {
    if (sources != (g->vals[v].producer < 0)) continue;
    size_t bytes = (size_t)kn_shape_numel(g->vals[v].shape) * 4;
    s[v] = kn_xmalloc(bytes);
    memcpy(s[v], kn_test_value_data(g, it, v), bytes);
  }
  return s;
}
static void free_all(const kn_graph *g, void **s) {
  for (int v = 0; v < g->n_vals; v++) free(s[v]);
  free(s);
}

static void write_bundle(const char *path, const kn_graph *g, void **init, void **expect, float tol, unsigned steps,
                         int step_value) {
  kn_diag d;
  kn_diag_init(&d);
  kn_ptx_options o;
  kn_ptx_options_default(&o);
  kn_ptx_program *prog;
  bool ok = kn_ptx_compile_graph(g, &o, &prog, &d) &&
            kn_test_bundle_write(path, prog, g, init, expect, tol, steps, step_value);
  if (!ok) kn_diag_print(&d, stderr);
  printf("%s %s\n", ok ? "wrote" : "FAILED", path);
  ok ? passed++ : failed++;
  if (prog) kn_ptx_program_dispose(prog);
  kn_diag_free(&d);
}

static void gen_ops(const char *dir) {
  for (int op = 0; op < KN_OP_COUNT; op++)
    for (int var = 0; var < kn_test_op_variants(op); var++) {
      int node;
      kn_graph *g = kn_test_op_graph(op, var, &node);
      kn_interp *it = kn_interp_create(g);
      kn_interp_init_params(it, 7);
      kn_test_fill_inputs(g, it, 100 + (uint64_t)op);
      void **init = snapshot(g, it, true);
      kn_interp_run_node(it, node);
      void **expect = snapshot(g, it, false);
      const kn_node *n = &g->nodes[node];
      for (int k = 0; k < n->n_in; k++) /* in-place updates: the mutated inputs */
        if (kn_op_table[op].mutates >> k & 1) {
          int v = n->in[k];
          expect[v] = kn_xmalloc((size_t)kn_shape_numel(g->vals[v].shape) * 4);
          memcpy(expect[v], kn_test_value_data(g, it, v), (size_t)kn_shape_numel(g->vals[v].shape) * 4);
        }
      char *path = kn_fmt("%s/op_%s_%d.kgb", dir, kn_op_table[op].name, var);
      write_bundle(path, g, init, expect, 2e-4f, 1, -1);
      free(path);
      free_all(g, init);
      free_all(g, expect);
      kn_interp_dispose(it);
      kn_graph_dispose(g);
    }
}

static kn_spec *load_train(const char *spec, kn_diag *d) {
  kn_spec_options so = {0};
  kn_spec *s = kn_spec_load(spec, &so, d);
  if (s && !kn_autodiff(s->graph, &s->train, NULL, d)) {
    kn_spec_dispose(s);
    s = NULL;
  }
  if (!s) kn_diag_print(d, stderr);
  return s;
}

static char *stem(const char *path) {
  const char *b = strrchr(path, '/');
  char *s = kn_xstrdup(b ? b + 1 : path), *dot = strrchr(s, '.');
  if (dot) *dot = 0;
  return s;
}

static void gen_model(const char *dir, const char *spec, bool timing) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec *s = load_train(spec, &d);
  char *name = stem(spec), *path = kn_fmt("%s/%s_%s.kgb", dir, timing ? "time" : "train", name);
  if (!s) {
    failed++;
  } else if (timing) {
    void **none = kn_xcalloc((size_t)s->graph->n_vals, sizeof *none);
    write_bundle(path, s->graph, none, none, 0, 0, s->graph->step);
    free(none);
  } else {
    kn_graph *g = s->graph;
    kn_interp *it = kn_interp_create(g);
    kn_interp_init_params(it, 42);
    kn_test_fill_inputs(g, it, 1234);
    void **init = snapshot(g, it, true);
    for (int k = 0; k < KN_TRAIN_STEPS; k++) {
      if (g->step >= 0) kn_interp_f32(it, g->step)[0] = (float)(k + 1);
      kn_interp_run(it);
    }
    void **expect = kn_xcalloc((size_t)g->n_vals, sizeof *expect);
    for (int v = 0; v < g->n_vals; v++)
      if (g->vals[v].kind == KN_VAL_PARAM || v == g->loss) {
        size_t bytes = (size_t)kn_shape_numel(g->vals[v].shape) * 4;
        expect[v] = kn_xmalloc(bytes);
        memcpy(expect[v], kn_interp_f32(it, v), bytes);
      }
    write_bundle(path, g, init, expect, 2e-3f, KN_TRAIN_STEPS, g->step);
    free_all(g, init);
    free_all(g, expect);
    kn_interp_dispose(it);
  }
  free(name);
  free(path);
  kn_spec_dispose(s);
  kn_diag_free(&d);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: kn_gpu_gen OUTDIR [--train SPEC]... [--time SPEC]...\n");
    return 2;
  }
  gen_ops(argv[1]);
  for (int k = 2; k + 1 < argc; k += 2) gen_model(argv[1], argv[k + 1], !strcmp(argv[k], "--time"));
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
