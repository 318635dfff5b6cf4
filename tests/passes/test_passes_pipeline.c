/* test_passes_pipeline.c — the pass manager: flag parsing (levels, pass lists, did-you-mean on a
 * misspelt pass), which passes run at each level and for each kind of graph, --print-after and
 * --stats output, and the pass table itself. */
#include <stdlib.h>
#include <string.h>

#include "ad_build.h"
#include "autodiff.h"
#include "kernel_groups.h"
#include "pm_check.h"
#include "util.h"

static bool parse(kn_pipeline_options *o, const char *arg, bool *err) {
  kn_diag d;
  kn_diag_init(&d);
  bool r = kn_pipeline_parse_arg(o, arg, &d);
  *err = kn_diag_has_errors(&d);
  kn_diag_free(&d);
  return r;
}

static void test_parse(void) {
  kn_pipeline_options o;
  kn_pipeline_options_init(&o);
  bool err;
  CHECK(o.opt_level == 2);
  CHECK(parse(&o, "-O1", &err) && !err && o.opt_level == 1);
  CHECK(parse(&o, "-O7", &err) && err && o.opt_level == 1);
  CHECK(parse(&o, "--passes=cse,dce,epilogue", &err) && !err);
  CHECK(o.list_given && o.n_list == 3 && o.list[0] == KN_PASS_CSE && o.list[2] == KN_PASS_EPILOGUE);
  CHECK(parse(&o, "--disable-pass=cbam,eltwise", &err) && !err && o.disabled[KN_PASS_CBAM] && o.disabled[KN_PASS_ELTWISE]);
  CHECK(parse(&o, "--print-after=dce", &err) && !err && o.print_after[KN_PASS_DCE] && !o.print_after[KN_PASS_CSE]);
  CHECK(parse(&o, "--print-after-all", &err) && o.print_after_all);
  CHECK(parse(&o, "--verify-each", &err) && o.verify_each);
  CHECK(parse(&o, "--stats", &err) && o.stats);
  CHECK(!parse(&o, "--batch", &err) && !err);
  CHECK(!parse(&o, "model.yaml", &err) && !err);
  CHECK(parse(&o, "--passes=", &err) && err);
  /* A misspelt pass: an error with a suggestion. */
  kn_diag d;
  kn_diag_init(&d);
  CHECK(kn_pipeline_parse_arg(&o, "--disable-pass=epilog", &d));
  CHECK(d.n == 1 && d.items[0].hint && strstr(d.items[0].hint, "'epilogue'"));
  kn_diag_free(&d);
  for (int i = 0; i < KN_PASS_COUNT; i++) {
    CHECK(kn_pass_lookup(kn_pass_table[i].name) == i);
    CHECK(kn_pass_table[i].fn && kn_pass_table[i].why && kn_pass_table[i].why[0]);
  }
  CHECK(kn_pass_lookup("nope") == -1);
}

static kn_graph *train_graph(void) {
  kn_graph *g = kn_graph_create("t");
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(2, 3, 8, 8));
  int y = adb_conv(g, "c1", g->input, 4, 3, 1, 1, false);
  y = adb_bn(g, "b1", y);
  y = adb_unary(g, KN_OP_RELU, "r1", y);
  adb_head(g, y, 10);
  pm_autodiff(g);
  return g;
}

static int64_t fake_arena(const kn_graph *g, void *ctx) {
  (*(int *)ctx)++;
  return 1000 * (int64_t)g->n_nodes;
}

/* Runs the pipeline with `args`; returns the stats and print output in *text (caller frees). */
static bool run(kn_graph *g, const char *const *args, int n, kn_pipeline_mode mode, char **text) {
  kn_pipeline_options o;
  kn_pipeline_options_init(&o);
  kn_diag d;
  kn_diag_init(&d);
  for (int i = 0; i < n; i++) CHECK(kn_pipeline_parse_arg(&o, args[i], &d));
  FILE *f = tmpfile();
  o.print_to = f;
  int calls = 0;
  o.arena_size = fake_arena;
  o.arena_ctx = &calls;
  bool ok = kn_pipeline_run(g, &o, mode, f, &d);
  kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  long len = ftell(f);
  rewind(f);
  *text = kn_xcalloc((size_t)len + 1, 1);
  CHECK(fread(*text, 1, (size_t)len, f) == (size_t)len);
  fclose(f);
  if (o.stats) CHECK(calls > 0);
  return ok;
}

static void test_run(void) {
  char *t;
  kn_graph *g = train_graph();
  int k0 = kn_kernels_count(g);
  /* -O0: nothing runs. */
  CHECK(run(g, (const char *[]){"-O0", "--stats"}, 2, KN_PIPELINE_TRAIN, &t));
  CHECK(kn_kernels_count(g) == k0 && !strstr(t, "epilogue"));
  free(t);
  /* -O1: cleanup only, no fusion. */
  CHECK(run(g, (const char *[]){"-O1", "--stats"}, 2, KN_PIPELINE_TRAIN, &t));
  CHECK(kn_kernels_count(g) == k0 && strstr(t, "dce") && !strstr(t, "epilogue"));
  free(t);
  /* -O2 with one pass disabled and printing after another. */
  CHECK(run(g, (const char *[]){"--stats", "--verify-each", "--disable-pass=eltwise", "--print-after=epilogue"}, 4,
            KN_PIPELINE_TRAIN, &t));
  CHECK(strstr(t, "after pass 'epilogue'") && !strstr(t, "after pass 'cbam'"));
  CHECK(strstr(t, "kernel ") && strstr(t, "conv2d+batchnorm2d+relu"));
  CHECK(strstr(t, "epilogue_bwd") && !strstr(t, "eltwise "));
  CHECK(strstr(t, "traffic MB") && strstr(t, "arena MB") && strstr(t, "total"));
  CHECK(kn_kernels_count(g) < k0);
  free(t);
  kn_graph_dispose(g);
  /* An inference graph skips the training-only pass even when asked for it. */
  g = kn_graph_create("i");
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(2, 3, 8, 8));
  g->output = adb_unary(g, KN_OP_RELU, "r", adb_conv(g, "c", g->input, 4, 3, 1, 1, false));
  CHECK(run(g, (const char *[]){"--passes=epilogue_bwd,epilogue", "--print-after-all"}, 2, KN_PIPELINE_INFER, &t));
  CHECK(!strstr(t, "'epilogue_bwd'") && strstr(t, "after pass 'epilogue'"));
  CHECK(kn_kernels_count(g) == 1);
  free(t);
  kn_graph_dispose(g);
}

static void test_table(void) {
  FILE *f = tmpfile();
  kn_pipeline_print_passes(f);
  kn_pipeline_print_usage(f);
  long len = ftell(f);
  fclose(f);
  CHECK(len > 200);
  /* Cleanup passes loop to a fixed point at -O1; fusion passes run once at -O2. */
  CHECK(kn_pass_table[KN_PASS_DCE].fixed_point && kn_pass_table[KN_PASS_DCE].level == 1);
  CHECK(!kn_pass_table[KN_PASS_EPILOGUE].fixed_point && kn_pass_table[KN_PASS_EPILOGUE].level == 2);
  CHECK(kn_pass_table[KN_PASS_EPILOGUE_BWD].modes == KN_PIPELINE_TRAIN);
}

int main(void) {
  test_parse();
  test_run();
  test_table();
  return kn_check_summary();
}
