/* test_fused.c — the CPU backend honouring kernel groups (cpu_fuse.c): each tiny seed model is run
 * through the -O2 pass pipeline and compiled with fusion on, then compared with the reference
 * interpreter (which ignores groups): inference output; training loss, every parameter gradient,
 * parameters, running statistics and optimizer state over 3 steps. Internal values are not
 * exported, so they get no memory and a wrong "internal" decision cannot be hidden by an export.
 * Also: one kernel function per kernel (kn_kernels_count), the emitted calls equal the unfused calls minus what the sweeps merged, every model has
 * fused sweeps and internal values, and a -O0 graph (no groups) compiles to exactly the same calls.
 * `--conv-ep`: a conv->bn->relu->conv->bn->add->relu net: at -O2 inference each conv and its chain
 * is one kn_k_conv2d_ep call (cpu_conv_ep.c, counted by the stats) matching the interpreter; at -O0
 * none; in training (batch-statistics BN) each conv is a conv epilogue that gathers its BN's
 * statistics and each grad-input conv one that gathers batchnorm2d_grad's sums (the sweeps merge
 * them), still matching.
 * `--load-pass=PLUGIN` first: the -O2 pipeline also runs that pass plugin's passes (tests/plugin).
 * Usage: test_codegen_fused [--load-pass=PLUGIN] DIR MODEL_tiny.yaml | test_codegen_fused --conv-ep
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "cg_harness.h"
#include "kn_check.h"
#include "codegen_cpu.h"
#include "kernel_groups.h"
#include "pass_plugin.h"
#include "kn_test_passes.h"
#include "pipeline.h"
#include "spec.h"
#include "util.h"


static kn_cpu_entry_stats compile_stats(kn_graph *g, bool no_fuse) {
  kn_cpu_options o;
  kn_cpu_options_defaults(&o);
  o.opt_level = 0;
  o.keep_grads = true;
  o.no_fuse = no_fuse;
  o.fuse_min_plane = 1; /* the tiny models' planes are small */
  o.bn_stats = KN_BN_STATS_ALL; /* as cg_harness: every fused path */
  kn_diag d;
  kn_diag_init(&d);
  kn_cpu_entry e = {"forward", g};
  kn_cpu_module *m = kn_cpu_compile("test", &e, 1, &o, &d);
  kn_cpu_entry_stats st = {0};
  if (m) st = kn_cpu_module_stats(m)->entry[0];
  else kn_diag_print(&d, stdout);
  kn_cpu_module_dispose(m);
  kn_diag_free(&d);
  return st;
}

static void setup(cg_case *c, const kn_graph *g) {
  cg_setup_model_inputs(c, g);
  c->no_export = true;
}

/* Calls with fusion = calls without - (fused nodes - sweeps); sweeps and internal values exist. */
static void check_calls(kn_graph *g, const char *what) {
  char w[512];
  kn_cpu_entry_stats f = compile_stats(g, false), u = compile_stats(g, true);
  snprintf(w, sizeof w, "%s: calls %d = unfused %d - (fused nodes %d - sweeps %d); kernel functions %d = %d kernels",
           what, f.calls, u.calls, f.fused_nodes, f.fused_runs, f.kernel_fns, kn_kernels_count(g));
  printf("%s; internal values %d, arena %lld -> %lld bytes\n", w, f.internal_values, (long long)u.work_size,
         (long long)f.work_size);
  kn_check_named(f.calls == u.calls - (f.fused_nodes - f.fused_runs) && f.fused_runs > 0 && f.internal_values > 0 &&
             f.calls >= kn_kernels_count(g) && u.fused_runs == 0 && f.kernel_fns == kn_kernels_count(g),
         w);
}

static void check_model(const char *path) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec_options so = {0};
  kn_spec *s = kn_spec_load(path, &so, &d);
  char what[512];
  if (!s) {
    kn_diag_print(&d, stdout);
    kn_check_named(false, path);
    kn_diag_free(&d);
    return;
  }
  /* -O0: no groups, so fusion changes nothing. */
  kn_graph *plain = kn_graph_inference_clone(s->graph);
  kn_cpu_entry_stats a = compile_stats(plain, false), b = compile_stats(plain, true);
  snprintf(what, sizeof what, "%s: -O0 graph: same calls with and without fusion (%d, %d)", path, a.calls, b.calls);
  kn_check_named(a.calls == b.calls && a.fused_runs == 0 && a.work_size <= b.work_size, what);
  kn_graph_dispose(plain);

  kn_graph *infer = kn_graph_inference_clone(s->graph);
  if (kn_test_run_passes(infer, 2, KN_PIPELINE_INFER)) {
    snprintf(what, sizeof what, "%s: -O2 inference", path);
    check_calls(infer, what);
    cg_case c;
    cg_begin(&c, infer);
    setup(&c, c.g);
    kn_check_named(cg_check(&c, what), what);
    cg_end(&c);
  } else
    kn_check_named(false, "inference passes");
  kn_graph_dispose(infer);

  kn_graph *train = kn_graph_clone(s->graph);
  bool ok = kn_autodiff(train, &s->train, NULL, &d) && kn_test_run_passes(train, 2, KN_PIPELINE_TRAIN);
  if (!ok) kn_diag_print(&d, stdout);
  if (ok) {
    snprintf(what, sizeof what, "%s: -O2 training, 3 steps", path);
    check_calls(train, what);
    cg_case c;
    cg_begin(&c, train);
    setup(&c, c.g);
    c.keep_grads = true;
    c.steps = 3;
    kn_check_named(cg_check(&c, what), what);
    cg_end(&c);
  } else
    kn_check_named(false, "autodiff/passes");
  kn_graph_dispose(train);
  kn_spec_dispose(s);
  kn_diag_free(&d);
}

static const char conv_ep_spec[] =
    "name: conv_ep\n"
    "layers:\n"
    "  - conv2d: {out_channels: 8, kernel: 3, padding: 1}\n"
    "  - batchnorm2d:\n"
    "  - relu:\n"
    "    name: r0\n"
    "  - conv2d: {out_channels: 8, kernel: 3, padding: 1, bias: true}\n"
    "  - batchnorm2d:\n"
    "  - relu\n"
    "  - conv2d: {out_channels: 8, kernel: 1}\n"
    "  - batchnorm2d:\n"
    "    name: b2\n"
    "  - add:\n"
    "    inputs: [b2, r0]\n"
    "  - relu\n"
    "  - global_avgpool\n"
    "  - linear: {out_features: 10, bias: true}\n"
    "  - log_softmax\n"
    "train:\n"
    "  optimizer: {type: sgd, lr: 0.01, momentum: 0.9}\n"
    "  batch_size: 2\n"
    "  epochs: 1\n"
    "  input_size: 12\n";

static int last_conv_stats; /* conv_ep_case: of its conv epilogues, those gathering BN statistics */

/* Compiles and checks g against the interpreter; returns its conv epilogue count (-1: failed). */
static int conv_ep_case(kn_graph *g, int level, kn_pipeline_mode mode, int steps, const char *what) {
  if (!kn_test_run_passes(g, level, mode)) return -1;
  kn_cpu_entry_stats st = compile_stats(g, false), u = compile_stats(g, true);
  printf("%s: %d conv epilogues (%d gathering BN statistics), %d sweeps over %d nodes, calls %d (unfused %d)\n",
         what, st.conv_epilogues, st.conv_stats, st.fused_runs, st.fused_nodes, st.calls, u.calls);
  last_conv_stats = st.conv_stats;
  if (st.calls != u.calls - (st.fused_nodes - st.fused_runs)) return -1;
  cg_case c;
  cg_begin(&c, g);
  setup(&c, c.g);
  if (steps > 0) { /* training; else cg_begin's defaults: one forward run */
    c.keep_grads = true;
    c.steps = steps;
  }
  bool ok = cg_check(&c, what);
  cg_end(&c);
  return ok ? st.conv_epilogues : -1;
}

static void check_conv_ep(void) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec_options so = {0};
  kn_spec *s = kn_spec_load_string("conv_ep.yaml", conv_ep_spec, &so, &d);
  if (!s) {
    kn_diag_print(&d, stdout);
    kn_check_named(false, "conv_ep spec");
    kn_diag_free(&d);
    return;
  }
  kn_graph *g = kn_graph_inference_clone(s->graph);
  kn_check_named(conv_ep_case(g, 2, KN_PIPELINE_INFER, 0, "conv_ep -O2 inference") == 3,
         "conv_ep -O2 inference: 3 conv epilogues (bn+relu, bias+bn+relu, bn+add+relu), interpreter equal");
  kn_graph_dispose(g);
  g = kn_graph_inference_clone(s->graph);
  kn_check_named(conv_ep_case(g, 0, KN_PIPELINE_INFER, 0, "conv_ep -O0 inference") == 0, "conv_ep -O0: no conv epilogue");
  kn_graph_dispose(g);
  g = kn_graph_clone(s->graph);
  bool ok = kn_autodiff(g, &s->train, NULL, &d);
  if (!ok) kn_diag_print(&d, stdout);
  kn_check_named(ok && conv_ep_case(g, 2, KN_PIPELINE_TRAIN, 3, "conv_ep -O2 training, 3 steps") == 5 && last_conv_stats == 5,
         "conv_ep -O2 training: 5 conv epilogues gathering BN statistics (3 forward convs: batch mean and "
         "variance; the 2 grad-input convs not on the image: batchnorm2d_grad's sums), interpreter equal");
  kn_graph_dispose(g);
  kn_spec_dispose(s);
  kn_diag_free(&d);
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--conv-ep")) {
    check_conv_ep();
    return kn_check_summary();
  }
  if (argc >= 2 && !strncmp(argv[1], "--load-pass=", 12)) {
    kn_diag d;
    kn_diag_init(&d);
    bool ok = kn_plugin_load(argv[1] + 12, &d);
    kn_diag_print(&d, stdout);
    kn_diag_free(&d);
    if (!ok) return 1;
    argc--, argv++;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: test_codegen_fused [--load-pass=PLUGIN] DIR MODEL_tiny.yaml\n");
    return 2;
  }
  char *p = kn_fmt("%s/%s", argv[1], argv[2]);
  check_model(p);
  free(p);
  return kn_check_summary();
}
