/* test_ir.c — graph construction, shape inference errors, verifier and compaction. */
#include <stdio.h>
#include <string.h>

#include "ir.h"
#include "kn_check.h"

static kn_loc L(int line) { return (kn_loc){"t.yaml", line, 1}; }

static void test_conv_chain(void) {
  kn_graph *g = kn_graph_create("t");
  kn_diag d;
  kn_diag_init(&d);
  int x = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(2, 3, 32, 32));
  int w = kn_graph_add_param(g, "conv1.weight", kn_shape4(16, 3, 3, 3), KN_INIT_KAIMING_UNIFORM);
  kn_node *n = kn_graph_add_node(g, KN_OP_CONV2D, "conv1", (int[]){x, w}, 2, L(3));
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, 16);
  kn_node_set_pair(n, KN_ATTR_KERNEL, 3, 3);
  kn_node_set_pair(n, KN_ATTR_STRIDE, 2, 2);
  kn_node_set_pair(n, KN_ATTR_PADDING, 1, 1);
  CHECK(kn_node_infer(g, n, &d));
  int y = g->nodes[0].out[0];
  CHECK(kn_shape_eq(g->vals[y].shape, kn_shape4(2, 16, 16, 16)));
  int r = kn_graph_emit(g, KN_OP_RELU, "relu", (int[]){y}, 1, L(4), &d);
  CHECK(r == 1);
  int gp = kn_graph_emit(g, KN_OP_GLOBAL_AVGPOOL, "pool", (int[]){g->nodes[1].out[0]}, 1, L(5), &d);
  int fw = kn_graph_add_param(g, "fc.weight", kn_shape2(10, 16), KN_INIT_KAIMING_UNIFORM);
  int fb = kn_graph_add_param(g, "fc.bias", kn_shape1(10), KN_INIT_FAN_IN_UNIFORM);
  kn_node *fc = kn_graph_add_node(g, KN_OP_LINEAR, "fc", (int[]){g->nodes[gp].out[0], fw, fb}, 3, L(6));
  kn_node_set_int(fc, KN_ATTR_OUT_FEATURES, 10);
  CHECK(kn_node_infer(g, fc, &d));
  CHECK(kn_shape_eq(g->vals[g->nodes[3].out[0]].shape, kn_shape2(2, 10)));
  CHECK(kn_graph_verify(g, &d));
  CHECK(!kn_diag_has_errors(&d));
  int64_t total, trainable;
  kn_graph_count_params(g, &total, &trainable);
  CHECK(total == 16 * 27 + 170 && trainable == total);
  /* Broadcast error names both shapes at the node's line. */
  int bad = kn_graph_add_input(g, "other", KN_DT_F32, kn_shape4(2, 8, 1, 1));
  CHECK(kn_graph_emit(g, KN_OP_MUL, "scale", (int[]){y, bad}, 2, L(9), &d) < 0);
  CHECK(d.n_errors == 1 && d.items[0].loc.line == 9 && strstr(d.items[0].msg, "[2, 16, 16, 16]") &&
        strstr(d.items[0].msg, "[2, 8, 1, 1]"));
  g->nodes[g->n_nodes - 1].dead = true;
  kn_graph_compact(g);
  CHECK(g->n_nodes == 4);
  kn_diag_free(&d);
  kn_diag_init(&d);
  CHECK(kn_graph_verify(g, &d));
  kn_graph *c = kn_graph_clone(g);
  CHECK(c->n_nodes == g->n_nodes && strcmp(c->vals[w].name, "conv1.weight") == 0);
  kn_graph_dispose(c);
  kn_diag_free(&d);
  kn_graph_dispose(g);
}

static void test_suggest(void) {
  const char *keys[] = {"stride", "padding", "kernel"};
  CHECK(strcmp(kn_diag_suggest("strid", keys, 3), "stride") == 0);
  CHECK(kn_diag_suggest("zzzzzz", keys, 3) == NULL);
  CHECK(kn_op_lookup("conv2d") == KN_OP_CONV2D && kn_attr_lookup("stride") == KN_ATTR_STRIDE);
}

int main(void) {
  test_conv_chain();
  test_suggest();
  return kn_check_summary();
}
