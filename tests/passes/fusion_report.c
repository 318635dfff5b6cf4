/* fusion_report.c — the static table of docs/fusion.md: for each model spec given, the inference
 * and training graphs at -O0 and -O2 (or with one pass disabled: --disable-pass=x), with nodes,
 * kernels, estimated activation bytes moved per run and the memory planner's arena size.
 *
 * Usage: fusion_report [--markdown] [pipeline flags...] MODEL.yaml...
 */
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "kernel_groups.h"
#include "pm_check.h"
#include "spec.h"

static int64_t arena(const kn_graph *g, void *ctx) { return kn_pipeline_memplan_arena(g, ctx); }

typedef struct {
  int nodes, kernels;
  int64_t bytes, arena;
} row;

static row measure(const kn_graph *g) {
  row r = {0, kn_kernels_count(g), kn_kernels_traffic_bytes(g), arena(g, NULL)};
  for (int i = 0; i < g->n_nodes; i++) r.nodes += !g->nodes[i].dead;
  return r;
}

static bool run(kn_graph *g, const kn_pipeline_options *base, int level, kn_pipeline_mode mode) {
  kn_pipeline_options o = *base;
  o.opt_level = level;
  o.verify_each = true;
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_pipeline_run(g, &o, mode, stderr, &d);
  kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  return ok;
}

int main(int argc, char **argv) {
  kn_pipeline_options po;
  kn_pipeline_options_init(&po);
  po.arena_size = arena;
  kn_diag d;
  kn_diag_init(&d);
  bool md = false;
  int n_models = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--markdown")) md = true;
    else if (!kn_pipeline_parse_arg(&po, argv[i], &d)) argv[++n_models] = argv[i];
  }
  if (kn_diag_has_errors(&d)) {
    kn_diag_print(&d, stderr);
    return 2;
  }
  kn_diag_free(&d);
  if (md)
    printf("| model | graph | nodes | kernels -O0 | kernels -O2 | traffic MB -O0 | traffic MB -O2 | arena MB -O0 | arena MB -O2 |\n"
           "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  int rc = 0;
  for (int i = 1; i <= n_models; i++) {
    kn_diag_init(&d);
    kn_spec_options so = {0};
    kn_spec *s = kn_spec_load(argv[i], &so, &d);
    kn_diag_print(&d, stderr);
    kn_diag_free(&d);
    if (!s) {
      rc = 1;
      continue;
    }
    for (int mode = 0; mode < 2; mode++) {
      kn_graph *g[2];
      for (int k = 0; k < 2; k++) {
        g[k] = mode == 0 ? kn_graph_inference_clone(s->graph) : kn_graph_clone(s->graph);
        kn_diag_init(&d);
        if (mode == 1 && !kn_autodiff(g[k], &s->train, NULL, &d)) rc = 1;
        kn_diag_print(&d, stderr);
        kn_diag_free(&d);
      }
      row a = measure(g[0]);
      if (!run(g[1], &po, po.opt_level ? po.opt_level : 2, mode ? KN_PIPELINE_TRAIN : KN_PIPELINE_INFER)) rc = 1;
      row b = measure(g[1]);
      const char *gn = mode ? "train" : "infer";
      if (md)
        printf("| %s | %s | %d | %d | %d | %.2f | %.2f | %.2f | %.2f |\n", s->model_name, gn, a.nodes, a.kernels,
               b.kernels, a.bytes / 1e6, b.bytes / 1e6, a.arena / 1e6, b.arena / 1e6);
      else
        printf("%-32s %-5s nodes %5d -> %5d  kernels %5d -> %5d  traffic %9.2f -> %9.2f MB  arena %8.2f -> %8.2f MB\n",
               s->model_name, gn, a.nodes, b.nodes, a.kernels, b.kernels, a.bytes / 1e6, b.bytes / 1e6,
               a.arena / 1e6, b.arena / 1e6);
      kn_graph_dispose(g[0]);
      kn_graph_dispose(g[1]);
    }
    kn_spec_dispose(s);
  }
  return rc;
}
