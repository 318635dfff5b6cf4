/* test_models.c — the reduced seed models (tests/models/<name>_tiny.yaml) compiled by the CPU
 * backend and compared with the reference interpreter (cg_harness.h):
 *   forward   the inference graph: every activation and the log-probabilities;
 *   train     three training steps (step count going up), each from the interpreter's state;
 *             after each: activations, loss, every parameter gradient, updated parameters,
 *             running statistics and optimizer state.
 * Usage: test_codegen_models DIR [model-file-name]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "cg_harness.h"
#include "kn_check.h"
#include "codegen_cpu.h"
#include "spec.h"
#include "util.h"


static void check_model(const char *path) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec_options so = {0};
  kn_spec *s = kn_spec_load(path, &so, &d);
  char what[512];
  if (!s) {
    kn_diag_print(&d, stdout);
    snprintf(what, sizeof what, "%s: load", path);
    kn_check_named(false, what);
    kn_diag_free(&d);
    return;
  }
  /* forward (inference) */
  kn_graph *infer = kn_graph_inference_clone(s->graph);
  cg_case c;
  cg_begin(&c, infer);
  cg_setup_model_inputs(&c, c.g);
  snprintf(what, sizeof what, "%s: forward", path);
  kn_check_named(cg_check(&c, what), what);
  cg_end(&c);
  kn_graph_dispose(infer);
  /* training steps */
  kn_graph *train = kn_graph_clone(s->graph);
  bool ok = kn_autodiff(train, &s->train, NULL, &d);
  if (!ok) kn_diag_print(&d, stdout);
  if (ok) {
    cg_begin(&c, train);
    cg_setup_model_inputs(&c, c.g);
    c.keep_grads = true;
    c.steps = 3;
    snprintf(what, sizeof what, "%s: 3 training steps", path);
    kn_check_named(cg_check(&c, what), what);
    cg_end(&c);
  }
  if (!ok) {
    snprintf(what, sizeof what, "%s: autodiff", path);
    kn_check_named(false, what);
  }
  kn_graph_dispose(train);
  kn_spec_dispose(s);
  kn_diag_free(&d);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_codegen_models DIR [FILE]\n");
    return 2;
  }
  if (argc > 2) {
    char *p = kn_fmt("%s/%s", argv[1], argv[2]);
    check_model(p);
    free(p);
  } else {
    DIR *dir = opendir(argv[1]);
    struct dirent *e;
    int n = 0;
    while (dir && (e = readdir(dir))) {
      size_t len = strlen(e->d_name);
      if (len < 10 || strcmp(e->d_name + len - 10, "_tiny.yaml")) continue;
      char *p = kn_fmt("%s/%s", argv[1], e->d_name);
      check_model(p);
      free(p);
      n++;
    }
    if (dir) closedir(dir);
    if (!n) kn_check_named(false, "no *_tiny.yaml models found");
  }
  return kn_check_summary();
}
