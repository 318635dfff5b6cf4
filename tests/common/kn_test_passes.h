/* kn_test_passes.h — runs the graph pass pipeline at one -O level with the verifier after every
 * pass, printing any diagnostic on stdout: the set-up step the codegen and PTX model tests share
 * before comparing a compiled graph with the interpreter. */
#ifndef KN_TEST_PASSES_H
#define KN_TEST_PASSES_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "pipeline.h"

static inline bool kn_test_run_passes(kn_graph *g, int level, kn_pipeline_mode mode) {
  kn_pipeline_options o;
  kn_pipeline_options_init(&o);
  o.opt_level = level;
  o.verify_each = true;
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_pipeline_run(g, &o, mode, NULL, &d);
  if (!ok) kn_diag_print(&d, stdout);
  kn_diag_free(&d);
  return ok;
}

#endif
