/* test_ptx_ops.c — the GPU backend on every op of ops.def: each small single-op graph (forward,
 * backward, update; see op_graphs.c) is lowered and emitted as PTX, which must contain one
 * `.entry` per launch and assemble with ptxas for sm_80 and sm_90. Exits 77 (skipped) when
 * ptxas is missing. Usage: test_ptx_ops PTXAS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_graphs.h"
#include "ptx.h"
#include "ptxas_check.h"
#include "util.h"

static int passed, failed;

static void check(bool ok, const char *what, const char *detail) {
  if (ok) passed++;
  else {
    failed++;
    fprintf(stderr, "FAIL %s: %s\n", what, detail);
  }
}

int main(int argc, char **argv) {
  const char *ptxas = argc > 1 ? argv[1] : "";
  if (!kn_test_ptxas_found(ptxas)) {
    printf("ptxas not found (%s): skipped\n", ptxas);
    return 77;
  }
  kn_ptx_options o;
  kn_ptx_options_default(&o);
  for (int op = 0; op < KN_OP_COUNT; op++) {
    for (int v = 0; v < kn_test_op_variants(op); v++) {
      char what[64];
      snprintf(what, sizeof what, "%s#%d", kn_op_table[op].name, v);
      int node;
      kn_graph *g = kn_test_op_graph(op, v, &node);
      check(g != NULL, what, "test graph did not build");
      if (!g) continue;
      kn_diag d;
      kn_diag_init(&d);
      kn_ptx_program *prog;
      bool ok = kn_ptx_compile_graph(g, &o, &prog, &d);
      if (!ok) kn_diag_print(&d, stderr);
      check(ok, what, "PTX compilation failed");
      if (ok) {
        bool entries = prog->n_calls > 0;
        for (int k = 0; k < prog->n_calls; k++) {
          char *want = kn_fmt(".entry %s(", prog->calls[k].entry);
          entries = entries && strstr(prog->ptx, want) != NULL;
          free(want);
        }
        check(entries, what, "a launch has no .entry in the PTX");
        check(strstr(prog->ptx, ".target sm_80") && strstr(prog->ptx, ".version 7.5"), what, "wrong target");
        check(!strstr(prog->ptx, ".local"), what, "kernel uses local memory (arguments not folded?)");
        check(kn_test_ptxas(ptxas, prog->ptx, "sm_80", what), what, "ptxas sm_80");
        check(kn_test_ptxas(ptxas, prog->ptx, "sm_90", what), what, "ptxas sm_90");
        kn_ptx_program_dispose(prog);
      }
      kn_diag_free(&d);
      kn_graph_dispose(g);
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
