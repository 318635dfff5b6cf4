/* test_ptx_emu.c — the GPU kernels and their lowered arguments against the reference interpreter,
 * without a GPU: every op of ops.def (forward, backward, update; op_graphs.c) and three training
 * steps (--steps N, default 3) of the models given on the command line are run with the kernels compiled for the host on
 * emulated warps (emu.c), and every output must match the interpreter.
 * Usage: test_ptx_emu [--steps N] [MODEL.yaml...] */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "emu.h"
#include "interp_data.h"
#include "op_graphs.h"
#include "spec.h"
#include "emu_bufs.h"
#include "util.h"

static int passed, failed, n_steps = 3;

static bool run_node(const kn_graph *g, const kn_ptx_program *prog, int node, void **bufs) {
  for (int k = 0; k < prog->n_calls; k++)
    if ((node < 0 || prog->calls[k].node == node) && !kn_emu_run_call(&prog->calls[k], bufs)) return false;
  return true;
}

static void check_ops(void) {
  for (int op = 0; op < KN_OP_COUNT; op++)
    for (int var = 0; var < kn_test_op_variants(op); var++) {
      char what[64];
      snprintf(what, sizeof what, "%s#%d", kn_op_table[op].name, var);
      int node;
      kn_graph *g = kn_test_op_graph(op, var, &node);
      kn_diag d;
      kn_diag_init(&d);
      kn_ptx_program prog = {0};
      bool ok = kn_ptx_lower_graph(g, &prog, &d);
      kn_interp *it = kn_interp_create(g);
      kn_interp_init_params(it, 7);
      kn_test_fill_inputs(g, it, 100 + (uint64_t)op);
      void **bufs = kn_test_emu_bufs(g, it);
      kn_interp_run_node(it, node);
      ok = ok && run_node(g, &prog, node, bufs);
      const kn_node *n = &g->nodes[node];
      for (int k = 0; ok && k < n->n_out; k++) ok = kn_test_emu_same(g, it, bufs, n->out[k], 1e-4, what);
      for (int k = 0; ok && k < n->n_in; k++)
        if (kn_op_table[op].mutates >> k & 1) ok = kn_test_emu_same(g, it, bufs, n->in[k], 1e-4, what);
      if (!ok) fprintf(stderr, "FAIL %s\n", what);
      ok ? passed++ : failed++;
      kn_test_emu_bufs_free(g, bufs);
      kn_interp_dispose(it);
      free(prog.calls);
      kn_diag_free(&d);
      kn_graph_dispose(g);
    }
}

static void check_model(const char *path) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec_options so = {0};
  kn_spec *s = kn_spec_load(path, &so, &d);
  kn_ptx_program prog = {0};
  bool ok = s && kn_autodiff(s->graph, &s->train, NULL, &d) && kn_ptx_lower_graph(s->graph, &prog, &d);
  if (!ok) kn_diag_print(&d, stderr);
  if (ok) {
    kn_graph *g = s->graph;
    kn_interp *it = kn_interp_create(g);
    kn_interp_init_params(it, 42);
    kn_test_fill_inputs(g, it, 1234);
    void **bufs = kn_test_emu_bufs(g, it);
    for (int k = 0; ok && k < n_steps; k++) {
      if (g->step >= 0) kn_interp_f32(it, g->step)[0] = ((float *)bufs[g->step])[0] = (float)(k + 1);
      kn_interp_run(it);
      ok = run_node(g, &prog, -1, bufs);
      ok = ok && kn_test_emu_same(g, it, bufs, g->loss, 1e-3, path);
      printf("%s step %d: loss %.6f (interpreter %.6f)\n", path, k + 1, ((float *)bufs[g->loss])[0],
             kn_interp_f32(it, g->loss)[0]);
    }
    for (int v = 0; ok && v < g->n_vals; v++)
      if (g->vals[v].kind == KN_VAL_PARAM || g->vals[v].kind == KN_VAL_STATE) ok = kn_test_emu_same(g, it, bufs, v, 1e-3, path);
    kn_test_emu_bufs_free(g, bufs);
    kn_interp_dispose(it);
  }
  ok ? passed++ : failed++;
  free(prog.calls);
  kn_spec_dispose(s);
  kn_diag_free(&d);
}

int main(int argc, char **argv) {
  check_ops();
  for (int k = 1; k < argc; k++) {
    if (!strcmp(argv[k], "--steps") && k + 1 < argc) n_steps = atoi(argv[++k]);
    else check_model(argv[k]);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
