/* test_ptx_models.c — `--target=cuda` on whole models: each spec given on the command line is
 * loaded, differentiated into its training step (autodiff), lowered to PTX, and must assemble
 * with ptxas for sm_80 and sm_90. Exits 77 (skipped) when ptxas is missing.
 * Usage: test_ptx_models PTXAS MODEL.yaml... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autodiff.h"
#include "ptx.h"
#include "ptxas_check.h"
#include "spec.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  if (argc < 2 || !kn_test_ptxas_found(argv[1])) {
    printf("ptxas not found (%s): skipped\n", argc > 1 ? argv[1] : "");
    return 77;
  }
  kn_ptx_options o;
  kn_ptx_options_default(&o);
  for (int k = 2; k < argc; k++) {
    kn_diag d;
    kn_diag_init(&d);
    kn_spec_options so = {0};
    double t0 = now();
    kn_spec *s = kn_spec_load(argv[k], &so, &d);
    kn_ptx_program *prog = NULL;
    bool ok = s && kn_autodiff(s->graph, &s->train, NULL, &d) && kn_ptx_compile_graph(s->graph, &o, &prog, &d);
    double t1 = now();
    if (!ok) kn_diag_print(&d, stderr);
    ok = ok && kn_test_ptxas(argv[1], prog->ptx, "sm_80", argv[k]);
    double t2 = now();
    ok = ok && kn_test_ptxas(argv[1], prog->ptx, "sm_90", argv[k]);
    printf("%s %s: %d launches, %zu KB PTX, compile %.1f s, ptxas %.1f s per arch\n", ok ? "ok  " : "FAIL", argv[k],
           prog ? prog->n_calls : 0, prog ? prog->ptx_len / 1024 : 0, t1 - t0, t2 - t1);
    if (ok) passed++;
    else failed++;
    kn_ptx_program_dispose(prog);
    kn_spec_dispose(s);
    kn_diag_free(&d);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
