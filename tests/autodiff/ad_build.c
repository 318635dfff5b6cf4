/* ad_build.c — graph builders for the autodiff tests (see ad_build.h). */
#include "ad_build.h"

#include <stdio.h>
#include <stdlib.h>

#include "kn_test_graph.h"
#include "util.h"

int adb_node(kn_graph *g, kn_node *n) {
  kn_test_infer(g, n);
  return g->nodes[g->n_nodes - 1].out[0];
}

int adb_param(kn_graph *g, const char *scope, const char *what, kn_shape s, kn_init_kind init) {
  char *name = kn_fmt("%s.%s", scope, what);
  int v = kn_graph_add_param(g, name, s, init);
  free(name);
  return v;
}

int adb_conv(kn_graph *g, const char *name, int x, int co, int k, int stride, int pad, bool bias) {
  int ci = (int)g->vals[x].shape.d[1];
  int in[3] = {x, adb_param(g, name, "weight", kn_shape4(co, ci, k, k), KN_INIT_KAIMING_UNIFORM), -1};
  if (bias) in[2] = adb_param(g, name, "bias", kn_shape1(co), KN_INIT_FAN_IN_UNIFORM);
  kn_node *n = kn_graph_add_node(g, KN_OP_CONV2D, name, in, bias ? 3 : 2, (kn_loc){0});
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, co);
  kn_node_set_pair(n, KN_ATTR_KERNEL, k, k);
  kn_node_set_pair(n, KN_ATTR_STRIDE, stride, stride);
  kn_node_set_pair(n, KN_ATTR_PADDING, pad, pad);
  if (bias) kn_node_set_int(n, KN_ATTR_BIAS, 1);
  return adb_node(g, n);
}

int adb_bn(kn_graph *g, const char *name, int x) {
  kn_shape c = kn_shape1(g->vals[x].shape.d[1]);
  int in[5] = {x, adb_param(g, name, "weight", c, KN_INIT_ONE), adb_param(g, name, "bias", c, KN_INIT_ZERO)};
  char *rm = kn_fmt("%s.running_mean", name), *rv = kn_fmt("%s.running_var", name);
  in[3] = kn_graph_add_state(g, rm, c, KN_INIT_ZERO);
  in[4] = kn_graph_add_state(g, rv, c, KN_INIT_ONE);
  free(rm);
  free(rv);
  kn_node *n = kn_graph_add_node(g, KN_OP_BATCHNORM2D, name, in, 5, (kn_loc){0});
  kn_node_set_int(n, KN_ATTR_TRAINING, 0);
  return adb_node(g, n);
}

int adb_unary(kn_graph *g, kn_op op, const char *name, int x) {
  return adb_node(g, kn_graph_add_node(g, op, name, &x, 1, (kn_loc){0}));
}

int adb_window(kn_graph *g, kn_op op, const char *name, int x, int k, int stride, int pad) {
  kn_node *n = kn_graph_add_node(g, op, name, &x, 1, (kn_loc){0});
  kn_node_set_pair(n, KN_ATTR_KERNEL, k, k);
  kn_node_set_pair(n, KN_ATTR_STRIDE, stride, stride);
  kn_node_set_pair(n, KN_ATTR_PADDING, pad, pad);
  return adb_node(g, n);
}

int adb_binary(kn_graph *g, kn_op op, const char *name, int a, int b) {
  return adb_node(g, kn_graph_add_node(g, op, name, (int[]){a, b}, 2, (kn_loc){0}));
}

int adb_linear(kn_graph *g, const char *name, int x, int out, bool bias) {
  kn_shape s = g->vals[x].shape;
  int64_t f = kn_shape_numel(s) / s.d[0];
  int in[3] = {x, adb_param(g, name, "weight", kn_shape2(out, f), KN_INIT_KAIMING_UNIFORM), -1};
  if (bias) in[2] = adb_param(g, name, "bias", kn_shape1(out), KN_INIT_FAN_IN_UNIFORM);
  kn_node *n = kn_graph_add_node(g, KN_OP_LINEAR, name, in, bias ? 3 : 2, (kn_loc){0});
  kn_node_set_int(n, KN_ATTR_OUT_FEATURES, out);
  if (bias) kn_node_set_int(n, KN_ATTR_BIAS, 1);
  return adb_node(g, n);
}

int adb_upsample(kn_graph *g, const char *name, int x, int scale, int mode) {
  kn_node *n = kn_graph_add_node(g, KN_OP_UPSAMPLE, name, &x, 1, (kn_loc){0});
  kn_node_set_int(n, KN_ATTR_SCALE, scale);
  kn_node_set_int(n, KN_ATTR_MODE, mode);
  return adb_node(g, n);
}

int adb_concat(kn_graph *g, const char *name, const int *xs, int n) {
  return adb_node(g, kn_graph_add_node(g, KN_OP_CONCAT, name, xs, n, (kn_loc){0}));
}

void adb_head(kn_graph *g, int x, int classes) {
  int64_t n = g->vals[x].shape.d[0];
  if (g->vals[x].shape.rank != 2) x = adb_unary(g, KN_OP_FLATTEN, "flatten", x);
  int logits = adb_linear(g, "fc", x, classes, true);
  g->output = adb_unary(g, KN_OP_LOG_SOFTMAX, "log_softmax", logits);
  g->labels = kn_graph_add_input(g, "labels", KN_DT_I32, kn_shape1(n));
  g->loss = adb_binary(g, KN_OP_NLL_LOSS, "loss", g->output, g->labels);
}

int adb_separate(kn_graph *g, const char *kind, int x) {
  char *name = kn_fmt("sep.%s.%d", kind, g->n_vals);
  int r = kn_graph_add_input(g, name, KN_DT_F32, g->vals[x].shape);
  free(name);
  char *node = kn_fmt("sep%d", r);
  int y = adb_binary(g, KN_OP_ADD, node, x, r);
  free(node);
  return y;
}
