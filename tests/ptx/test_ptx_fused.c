/* test_ptx_fused.c — the GPU backend honouring kernel groups (ptx_fuse.c, kernels/fused.c), without
 * a GPU. Each tiny seed model goes through the -O2 pipeline and is lowered with fusion; the
 * launches run on emulated warps (emu.c) against the reference interpreter (which ignores groups):
 * inference output; training loss, every parameter gradient and every parameter / state tensor
 * after each optimizer step (each step starts from the interpreter's parameters and state, so
 * float32-vs-float64 drift does not accumulate). Emulation buffers start as NaN, so a value a
 * fused launch keeps in registers but something reads from memory poisons the results. Also:
 * fewer launches than without fusion (kn_ptx_options.no_fuse), structure checks on small graphs
 * (fused_structure.c), and with --ptxas the fused PTX of every model (training and inference)
 * through ptxas for sm_80 and sm_90.
 * Usage: test_ptx_fused [--structure] [--ptxas PTXAS] [--steps N] MODEL.yaml...
 *   (--steps applies to the models after it; with --ptxas the models are only assembled) */
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "emu.h"
#include "emu_bufs.h"
#include "interp_data.h"
#include "kernel_groups.h"
#include "kn_test_passes.h"
#include "pipeline.h"
#include "ptxas_check.h"
#include "spec.h"
#include "util.h"

static int passed, failed;

static void result(bool ok, const char *what) {
  if (ok) passed++;
  else failed++;
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

static bool lower(const kn_graph *g, bool fuse, kn_ptx_program *prog) {
  kn_ptx_options o;
  kn_ptx_options_default(&o);
  o.no_fuse = !fuse;
  kn_diag d;
  kn_diag_init(&d);
  memset(prog, 0, sizeof *prog);
  bool ok = kn_ptx_lower_graph_ex(g, &o, prog, &d);
  if (!ok) kn_diag_print(&d, stdout);
  kn_diag_free(&d);
  return ok;
}

static bool run_prog(const kn_ptx_program *prog, void **bufs) {
  for (int k = 0; k < prog->n_calls; k++)
    if (!kn_emu_run_call(&prog->calls[k], bufs)) return false;
  return true;
}

/* Lowers g with and without fusion: fused has fewer launches and fused launches exist. */
static bool check_launches(const kn_graph *g, kn_ptx_program *fused, const char *what) {
  kn_ptx_program plain;
  bool ok = lower(g, true, fused) && lower(g, false, &plain);
  char w[512];
  snprintf(w, sizeof w, "%s: launches %d fused vs %d unfused (%d fused launches over %d nodes, %d internal values)",
           what, fused->n_calls, plain.n_calls, fused->fused_launches, fused->fused_nodes, fused->internal_values);
  ok = ok && fused->n_calls < plain.n_calls && fused->fused_launches > 0 &&
       fused->n_calls == plain.n_calls - (fused->fused_nodes - fused->fused_launches) && plain.fused_launches == 0;
  result(ok, w);
  free(plain.calls);
  return ok;
}

static void check_infer(const kn_spec *s, const char *path) {
  char what[512];
  snprintf(what, sizeof what, "%s: -O2 inference", path);
  kn_graph *g = kn_graph_inference_clone(s->graph);
  kn_ptx_program prog = {0};
  if (kn_test_run_passes(g, 2, KN_PIPELINE_INFER) && check_launches(g, &prog, what)) {
    kn_interp *it = kn_interp_create(g);
    kn_interp_init_params(it, 42);
    kn_test_fill_inputs(g, it, 1234);
    void **bufs = kn_test_emu_bufs(g, it);
    kn_interp_run(it);
    bool ok = run_prog(&prog, bufs) && kn_test_emu_same(g, it, bufs, g->output, 1e-4, what);
    snprintf(what, sizeof what, "%s: -O2 inference output equals the interpreter", path);
    result(ok, what);
    kn_test_emu_bufs_free(g, bufs);
    kn_interp_dispose(it);
  } else {
    result(false, what);
  }
  free(prog.calls);
  kn_graph_dispose(g);
}

static void check_train(const kn_spec *s, const char *path, int steps) {
  char what[512];
  snprintf(what, sizeof what, "%s: -O2 training", path);
  kn_graph *g = kn_graph_clone(s->graph);
  kn_diag d;
  kn_diag_init(&d);
  kn_ptx_program prog = {0};
  bool ok = kn_autodiff(g, &s->train, NULL, &d) && kn_test_run_passes(g, 2, KN_PIPELINE_TRAIN);
  if (!ok) kn_diag_print(&d, stdout);
  if (ok && check_launches(g, &prog, what)) {
    kn_interp *it = kn_interp_create(g);
    kn_interp_init_params(it, 42);
    kn_test_fill_inputs(g, it, 1234);
    void **bufs = kn_test_emu_bufs(g, it);
    for (int k = 0; ok && k < steps; k++) {
      if (g->step >= 0) kn_interp_f32(it, g->step)[0] = (float)(k + 1);
      /* Each step starts from the interpreter's parameters and state, so float32-vs-float64 drift
       * (BatchNorm on batch 2 amplifies it) does not accumulate over the steps. */
      for (int v = 0; v < g->n_vals; v++)
        if (g->vals[v].producer < 0)
          memcpy(bufs[v], kn_test_value_data(g, it, v), (size_t)kn_shape_numel(g->vals[v].shape) * 4);
      kn_interp_run(it);
      ok = run_prog(&prog, bufs) && kn_test_emu_same(g, it, bufs, g->loss, 1e-3, "loss");
      for (int v = 0; ok && v < g->n_vals; v++)
        if (g->vals[v].grad_of >= 0) ok = kn_test_emu_same(g, it, bufs, v, 1e-3, "gradient");
      printf("  step %d: loss %.6f (interpreter %.6f)\n", k + 1, ((float *)bufs[g->loss])[0],
             kn_interp_f32(it, g->loss)[0]);
    }
    for (int v = 0; ok && v < g->n_vals; v++)
      if (g->vals[v].kind == KN_VAL_PARAM || g->vals[v].kind == KN_VAL_STATE) ok = kn_test_emu_same(g, it, bufs, v, 1e-3, "parameter");
    snprintf(what, sizeof what, "%s: -O2 training, %d steps: loss, gradients, parameters and state equal the interpreter",
             path, steps);
    result(ok, what);
    kn_test_emu_bufs_free(g, bufs);
    kn_interp_dispose(it);
  } else {
    result(false, what);
  }
  free(prog.calls);
  kn_diag_free(&d);
  kn_graph_dispose(g);
}

/* The fused PTX of the model's training step and inference through ptxas. */
static void check_ptxas(const kn_spec *s, const char *ptxas, const char *path) {
  for (int mode = 0; mode < 2; mode++) {
    kn_graph *g = mode ? kn_graph_clone(s->graph) : kn_graph_inference_clone(s->graph);
    kn_diag d;
    kn_diag_init(&d);
    kn_ptx_options o;
    kn_ptx_options_default(&o);
    kn_ptx_program *prog = NULL;
    bool ok = (!mode || kn_autodiff(g, &s->train, NULL, &d)) && kn_test_run_passes(g, 2, mode ? KN_PIPELINE_TRAIN : KN_PIPELINE_INFER) &&
              kn_ptx_compile_graph(g, &o, &prog, &d);
    if (!ok) kn_diag_print(&d, stdout);
    ok = ok && prog->fused_launches > 0 && kn_test_ptxas(ptxas, prog->ptx, "sm_80", path) &&
         kn_test_ptxas(ptxas, prog->ptx, "sm_90", path);
    char what[512];
    snprintf(what, sizeof what, "%s: -O2 %s with fusion through ptxas sm_80 and sm_90 (%d launches, %d fused)", path,
             mode ? "training" : "inference", prog ? prog->n_calls : 0, prog ? prog->fused_launches : 0);
    result(ok, what);
    kn_ptx_program_dispose(prog);
    kn_diag_free(&d);
    kn_graph_dispose(g);
  }
}

void kn_test_fused_structure(void (*result_fn)(bool, const char *));

int main(int argc, char **argv) {
  const char *ptxas = NULL;
  int steps = 3;
  for (int k = 1; k < argc; k++) {
    if (!strcmp(argv[k], "--steps") && k + 1 < argc) {
      steps = atoi(argv[++k]);
      continue;
    }
    if (!strcmp(argv[k], "--ptxas") && k + 1 < argc) {
      ptxas = argv[++k];
      if (!kn_test_ptxas_found(ptxas)) {
        printf("ptxas not found (%s): skipped\n", ptxas);
        return 77;
      }
      continue;
    }
    if (!strcmp(argv[k], "--structure")) {
      kn_test_fused_structure(result);
      continue;
    }
    kn_diag d;
    kn_diag_init(&d);
    kn_spec_options so = {0};
    kn_spec *s = kn_spec_load(argv[k], &so, &d);
    if (!s) {
      kn_diag_print(&d, stdout);
      result(false, argv[k]);
    } else if (ptxas) {
      check_ptxas(s, ptxas, argv[k]);
    } else {
      check_infer(s, argv[k]);
      check_train(s, argv[k], steps);
    }
    kn_spec_dispose(s);
    kn_diag_free(&d);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
