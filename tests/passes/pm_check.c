/* pm_check.c — helpers shared by the pass tests (pm_check.h). */
#include "pm_check.h"

#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "kernel_groups.h"
#include "util.h"

KN_CHECK_COUNTERS;

void pm_run(kn_graph *g, int o_level, int only, kn_pipeline_mode mode) {
  kn_pipeline_options o;
  kn_pipeline_options_init(&o);
  o.opt_level = o_level;
  o.verify_each = true;
  if (only >= 0) {
    o.list[0] = only;
    o.n_list = 1;
    o.list_given = true;
  }
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_pipeline_run(g, &o, mode, NULL, &d);
  if (!ok) kn_diag_print(&d, stderr);
  CHECK(ok);
  kn_diag_free(&d);
}

int pm_node(const kn_graph *g, const char *name) {
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i].dead && !strcmp(g->nodes[i].name, name)) return i;
  return -1;
}

const char *pm_kernel_ops(const kn_graph *g, const char *node_name, char *buf, size_t cap) {
  buf[0] = 0;
  int id = pm_node(g, node_name);
  if (id < 0) return "(no such node)";
  int *m = kn_xmalloc((size_t)g->n_nodes * sizeof *m);
  int n = kn_kernels_members(g, id, m);
  size_t len = 0;
  for (int j = 0; j < n; j++) len += (size_t)snprintf(buf + len, cap - len, "%s%s", j ? "+" : "", kn_op_table[g->nodes[m[j]].op].name);
  free(m);
  return buf;
}

void pm_autodiff(kn_graph *g) {
  kn_train_config c;
  kn_train_config_defaults(&c);
  kn_diag d;
  kn_diag_init(&d);
  CHECK(kn_autodiff(g, &c, NULL, &d));
  kn_diag_print(&d, stderr);
  kn_diag_free(&d);
}
