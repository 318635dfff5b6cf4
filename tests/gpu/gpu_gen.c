/* gpu_gen.c — `kn_gpu_gen OUTDIR [--train SPEC]... [--time SPEC]...`: writes the GPU check's test
 * bundles (runtime/cuda/kn_gpu_bundle.h) on a machine with LLVM, for kn_gpu_check to run on a
 * machine with a GPU:
 *   op_<name>_<variant>.kgb  every op of ops.def (op_graphs.c) with random inputs; expected values
 *                            from the reference interpreter (exact fp32 kernels, --gpu-math=fp32);
 *   op_<name>_<variant>_tf32.kgb  convolutions and matrix products on tensor cores (the default);
 *   train_<model>.kgb        a spec's training step run 3 times on one fixed random batch;
 *                            expected: every parameter and the loss after the 3 interpreter steps
 *                            (fp32 kernels; train_<model>_tf32.kgb: the same on tensor cores);
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

/* math: KN_PTX_MATH_FP32 for the exact checks; TF32 (tensor cores) bundles get a looser tol. */
static void write_bundle(const char *path, const kn_graph *g, void **init, void **expect, float tol, unsigned steps,
                         int step_value, kn_ptx_math math) {
  kn_diag d;
  kn_diag_init(&d);
  kn_ptx_options o;
  kn_ptx_options_default(&o);
  o.math = math;
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
      write_bundle(path, g, init, expect, 2e-4f, 1, -1, KN_PTX_MATH_FP32);
      free(path);
      if (op == KN_OP_CONV2D || op == KN_OP_CONV2D_GRAD_INPUT || op == KN_OP_CONV2D_GRAD_WEIGHT ||
          op == KN_OP_LINEAR || op == KN_OP_LINEAR_GRAD_INPUT || op == KN_OP_LINEAR_GRAD_WEIGHT) {
        /* the tensor-core kernels: tf32 operands (10 mantissa bits), see tests/ptx/test_ptx_mma.c */
        path = kn_fmt("%s/op_%s_%d_tf32.kgb", dir, kn_op_table[op].name, var);
        write_bundle(path, g, init, expect, 1e-2f, 1, -1, KN_PTX_MATH_TF32);
        free(path);
      }
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
    write_bundle(path, s->graph, none, none, 0, 0, s->graph->step, KN_PTX_MATH_TF32); /* the default */
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
    write_bundle(path, g, init, expect, 2e-3f, KN_TRAIN_STEPS, g->step, KN_PTX_MATH_FP32);
    char *tf = kn_fmt("%s/train_%s_tf32.kgb", dir, name); /* tensor cores: 3 steps with tf32 operands */
    write_bundle(tf, g, init, expect, 5e-3f, KN_TRAIN_STEPS, g->step, KN_PTX_MATH_TF32);
    free(tf);
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
