/* test_passes_structure.c — what each pass does to small graphs: the number of kernels and which
 * ops each kernel holds, with the cases that must not fuse (a producer with two forward readers,
 * a consumer of another shape, training-mode BN for bnfold, an illegal join) and the rewrites of
 * dce, cse, constfold and the inplace hints. Each case runs one pass (or -O2) with --verify-each. */
#include <string.h>

#include "ad_build.h"
#include "autodiff.h"
#include "kernel_groups.h"
#include "pm_check.h"

#define OPS(g, name) pm_kernel_ops(g, name, buf, sizeof buf)
static char buf[256];

static kn_graph *start(kn_shape s) {
  kn_graph *g = kn_graph_create("t");
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, s);
  return g;
}

static int live_nodes(const kn_graph *g) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead;
  return n;
}

/* conv -> bn -> relu and conv -> bn -> add(shortcut) -> relu. */
static void test_epilogue(void) {
  kn_graph *g = start(kn_shape4(2, 4, 8, 8));
  int y = adb_conv(g, "c1", g->input, 4, 3, 1, 1, true);
  y = adb_bn(g, "b1", y);
  y = adb_unary(g, KN_OP_RELU, "r1", y);
  int z = adb_conv(g, "c2", y, 4, 3, 1, 1, false);
  z = adb_bn(g, "b2", z);
  z = adb_binary(g, KN_OP_ADD, "add", z, y);
  z = adb_unary(g, KN_OP_RELU, "r2", z);
  g->output = z;
  CHECK(kn_kernels_count(g) == 7);
  pm_run(g, 0, KN_PASS_EPILOGUE, KN_PIPELINE_INFER);
  CHECK(kn_kernels_count(g) == 2);
  CHECK(!strcmp(OPS(g, "c1"), "conv2d+batchnorm2d+relu"));
  CHECK(!strcmp(OPS(g, "c2"), "conv2d+batchnorm2d+add+relu"));
  kn_graph_dispose(g);
}

/* Must not fuse: the conv output has two forward readers (relu and a mul). */
static void test_epilogue_branch(void) {
  kn_graph *g = start(kn_shape4(2, 4, 8, 8));
  int y = adb_conv(g, "c1", g->input, 4, 3, 1, 1, false);
  int r = adb_unary(g, KN_OP_RELU, "r1", y);
  g->output = adb_binary(g, KN_OP_MUL, "m", r, y);
  pm_run(g, 0, KN_PASS_EPILOGUE, KN_PIPELINE_INFER);
  CHECK(kn_kernels_count(g) == 3);
  CHECK(!strcmp(OPS(g, "c1"), "conv2d"));
  /* eltwise may chain relu into the mul (same shape; the mul is relu's only reader). */
  pm_run(g, 0, KN_PASS_ELTWISE, KN_PIPELINE_INFER);
  CHECK(!strcmp(OPS(g, "r1"), "relu+mul"));
  CHECK(kn_kernels_count(g) == 2);
  kn_graph_dispose(g);
}

/* Must not fuse: a consumer that broadcasts to a larger shape. Fuses: a chain ending in a reduction. */
static void test_eltwise(void) {
  kn_graph *g = start(kn_shape4(2, 4, 8, 8));
  int a = kn_graph_add_input(g, "a", KN_DT_F32, kn_shape4(2, 4, 1, 1));
  int b = kn_graph_add_input(g, "b", KN_DT_F32, kn_shape4(2, 4, 1, 1));
  int s = adb_binary(g, KN_OP_ADD, "s", a, b);
  int sg = adb_unary(g, KN_OP_SIGMOID, "sg", s);
  int m = adb_binary(g, KN_OP_MUL, "m", g->input, sg);
  int r = adb_unary(g, KN_OP_RELU, "r", m);
  g->output = adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "gap", r);
  pm_run(g, 0, KN_PASS_ELTWISE, KN_PIPELINE_INFER);
  CHECK(!strcmp(OPS(g, "s"), "add+sigmoid"));
  CHECK(!strcmp(OPS(g, "m"), "mul+relu+global_avgpool"));
  CHECK(kn_kernels_count(g) == 2);
  kn_graph_dispose(g);
}

/* bnfold: eval-mode BN after a conv; not when the conv output has another reader or BN trains. */
static void test_bnfold(void) {
  kn_graph *g = start(kn_shape4(2, 3, 8, 8));
  int y = adb_conv(g, "c1", g->input, 4, 3, 1, 1, true);
  y = adb_bn(g, "b1", y);
  int z = adb_conv(g, "c2", y, 4, 3, 1, 1, false);
  int w = adb_bn(g, "b2", z);
  int t = adb_conv(g, "c3", w, 4, 3, 1, 1, false);
  adb_bn(g, "b3", t);
  kn_node *bn = &g->nodes[g->n_nodes - 1];
  kn_node_set_int(bn, KN_ATTR_TRAINING, 1);
  kn_diag d;
  kn_diag_init(&d);
  CHECK(kn_node_infer(g, bn, &d));
  kn_diag_free(&d);
  g->output = adb_binary(g, KN_OP_ADD, "sum", g->nodes[g->n_nodes - 1].out[0], z); /* z: 2 readers */
  pm_run(g, 0, KN_PASS_BNFOLD, KN_PIPELINE_INFER);
  CHECK(!strcmp(OPS(g, "c1"), "conv2d+batchnorm2d"));
  CHECK(!strcmp(OPS(g, "c2"), "conv2d"));
  CHECK(!strcmp(OPS(g, "c3"), "conv2d"));
  CHECK(!strcmp(OPS(g, "b3"), "batchnorm2d"));
  kn_graph_dispose(g);
}

/* A training graph: conv -> bn -> relu -> conv -> head. */
static kn_graph *train_graph(void) {
  kn_graph *g = start(kn_shape4(2, 3, 8, 8));
  int y = adb_conv(g, "c1", g->input, 4, 3, 1, 1, false);
  y = adb_bn(g, "b1", y);
  y = adb_unary(g, KN_OP_RELU, "r1", y);
  y = adb_conv(g, "c2", y, 4, 3, 1, 1, false);
  y = adb_bn(g, "b2", y);
  y = adb_unary(g, KN_OP_RELU, "r2", y);
  adb_head(g, y, 10);
  pm_autodiff(g);
  return g;
}

static void test_lsm_nll_and_bwd(void) {
  kn_graph *g = train_graph();
  int before = kn_kernels_count(g);
  pm_run(g, 0, KN_PASS_LSM_NLL, KN_PIPELINE_TRAIN);
  int ls = -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op == KN_OP_LOG_SOFTMAX) ls = i;
  CHECK(ls >= 0);
  char name[128];
  snprintf(name, sizeof name, "%s", g->nodes[ls].name);
  CHECK(!strcmp(OPS(g, name), "log_softmax+nll_loss+nll_loss_grad+log_softmax_grad"));
  CHECK(kn_kernels_count(g) == before - 3);
  /* Backward epilogue: c2's dx -> relu_grad (r1) -> batchnorm2d_grad (b1). */
  pm_run(g, 0, KN_PASS_EPILOGUE_BWD, KN_PIPELINE_TRAIN);
  CHECK(!strcmp(OPS(g, "bwd.c2.dx"), "conv2d_grad_input+relu_grad+batchnorm2d_grad"));
  CHECK(!strcmp(OPS(g, "bwd.r2.dx"), "relu_grad+batchnorm2d_grad"));
  /* Forward epilogue in a training graph: BN trains, its input and ReLU's output are written through. */
  pm_run(g, 0, KN_PASS_EPILOGUE, KN_PIPELINE_TRAIN);
  CHECK(!strcmp(OPS(g, "c1"), "conv2d+batchnorm2d+relu"));
  /* Training-mode BN is not folded. */
  pm_run(g, 0, KN_PASS_BNFOLD, KN_PIPELINE_TRAIN);
  CHECK(!strcmp(OPS(g, "c2"), "conv2d+batchnorm2d+relu"));
  kn_diag d;
  kn_diag_init(&d);
  CHECK(kn_kernels_verify(g, &d));
  CHECK(kn_graph_verify(g, &d));
  kn_diag_free(&d);
  kn_graph_dispose(g);
}

/* The CBAM block of the tiny Sample ResNet, built as the spec loader does. */
static void test_cbam(void) {
  kn_graph *g = start(kn_shape4(2, 8, 4, 4));
  int x = g->input;
  int w1 = adb_param(g, "mlp.0", "weight", kn_shape4(2, 8, 1, 1), KN_INIT_KAIMING_UNIFORM);
  int w2 = adb_param(g, "mlp.2", "weight", kn_shape4(8, 2, 1, 1), KN_INIT_KAIMING_UNIFORM);
  int avg = adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "avg_pool", x);
  int branch[2];
  int pooled[2] = {avg, -1};
  for (int k = 0; k < 2; k++) {
    if (k == 1) pooled[1] = adb_unary(g, KN_OP_GLOBAL_MAXPOOL, "max_pool", x);
    kn_node *c = kn_graph_add_node(g, KN_OP_CONV2D, k ? "mlp_max.0" : "mlp.0", (int[]){pooled[k], w1}, 2, (kn_loc){0});
    kn_node_set_int(c, KN_ATTR_OUT_CHANNELS, 2);
    int h = adb_node(g, c);
    h = adb_unary(g, KN_OP_RELU, k ? "mlp_max.1" : "mlp.1", h);
    c = kn_graph_add_node(g, KN_OP_CONV2D, k ? "mlp_max.2" : "mlp.2", (int[]){h, w2}, 2, (kn_loc){0});
    kn_node_set_int(c, KN_ATTR_OUT_CHANNELS, 8);
    branch[k] = adb_node(g, c);
  }
  int gate = adb_unary(g, KN_OP_SIGMOID, "channel_gate", adb_binary(g, KN_OP_ADD, "add", branch[0], branch[1]));
  int co = adb_binary(g, KN_OP_MUL, "channel_out", x, gate);
  int mean = adb_unary(g, KN_OP_CHANNEL_MEAN, "mean_c", co), mx = adb_unary(g, KN_OP_CHANNEL_MAX, "max_c", co);
  int cat = adb_concat(g, "concat", (int[]){mean, mx}, 2);
  int sc = adb_conv(g, "spatial_conv", cat, 1, 7, 1, 3, false);
  int sg = adb_unary(g, KN_OP_SIGMOID, "spatial_gate", sc);
  int so = adb_binary(g, KN_OP_MUL, "spatial_out", co, sg);
  g->output = adb_unary(g, KN_OP_RELU, "relu", adb_binary(g, KN_OP_ADD, "res", so, x));
  CHECK(kn_kernels_count(g) == 19);
  pm_run(g, 0, KN_PASS_CBAM, KN_PIPELINE_INFER);
  CHECK(!strcmp(OPS(g, "avg_pool"), "global_avgpool+global_maxpool"));
  CHECK(!strcmp(OPS(g, "mlp.0"), "conv2d+relu+conv2d+conv2d+relu+conv2d+add+sigmoid"));
  CHECK(!strcmp(OPS(g, "channel_out"), "mul+channel_mean+channel_max+concat"));
  CHECK(!strcmp(OPS(g, "spatial_conv"), "conv2d+sigmoid"));
  CHECK(!strcmp(OPS(g, "spatial_out"), "mul"));
  pm_run(g, 0, KN_PASS_ELTWISE, KN_PIPELINE_INFER);
  CHECK(!strcmp(OPS(g, "spatial_out"), "mul+add+relu"));
  CHECK(kn_kernels_count(g) == 5);
  kn_graph_dispose(g);
}

/* A join that can be placed neither at the end nor at the start of its span. */
static void test_illegal_join(void) {
  kn_graph *g = start(kn_shape4(1, 2, 2, 2));
  int a = adb_unary(g, KN_OP_RELU, "a", g->input);
  int b = adb_unary(g, KN_OP_SIGMOID, "b", a);
  g->output = adb_binary(g, KN_OP_ADD, "c", b, a);
  CHECK(!kn_kernels_can_join(g, pm_node(g, "a"), pm_node(g, "c")));
  CHECK(kn_kernels_can_join(g, pm_node(g, "a"), pm_node(g, "b")));
  /* A hand-made group that is not contiguous fails the verifier. */
  g->nodes[pm_node(g, "a")].kernel = g->nodes[pm_node(g, "c")].kernel = 5;
  kn_diag d;
  kn_diag_init(&d);
  CHECK(!kn_kernels_verify(g, &d));
  kn_diag_free(&d);
  kn_graph_dispose(g);
}

static void test_cleanup(void) {
  kn_graph *g = start(kn_shape4(1, 2, 2, 2));
  int one = kn_graph_add_const(g, "one", kn_shape4(1, 2, 2, 2), 1.0f);
  int two = kn_graph_add_const(g, "two", kn_shape4(1, 2, 2, 2), 2.0f);
  int r1 = adb_unary(g, KN_OP_RELU, "r1", g->input);
  int r2 = adb_unary(g, KN_OP_RELU, "r2", g->input); /* same as r1: cse */
  int three = adb_binary(g, KN_OP_ADD, "three", one, two); /* folds to 3 */
  int m = adb_binary(g, KN_OP_MUL, "m", r2, one);      /* x * 1: folds away */
  adb_unary(g, KN_OP_SIGMOID, "unused", r1);           /* dce */
  int s = adb_binary(g, KN_OP_ADD, "s", r1, m);
  g->output = adb_binary(g, KN_OP_MUL, "out", s, three);
  CHECK(live_nodes(g) == 7);
  pm_run(g, 1, -1, KN_PIPELINE_INFER);
  CHECK(live_nodes(g) == 3); /* r1, s = r1 + r1, out = s * 3 */
  int out = g->vals[g->output].producer, sn = pm_node(g, "s");
  CHECK(out >= 0 && sn >= 0);
  if (out >= 0 && sn >= 0) {
    int c = g->nodes[out].in[1];
    CHECK(g->vals[c].kind == KN_VAL_CONST && g->vals[c].fill == 3.0f);
    CHECK(g->nodes[sn].in[0] == g->nodes[sn].in[1]);
  }
  CHECK(pm_node(g, "unused") < 0 && pm_node(g, "r2") < 0 && pm_node(g, "m") < 0);
  kn_graph_dispose(g);
}

static void test_inplace(void) {
  kn_graph *g = start(kn_shape4(1, 2, 4, 4));
  int c = adb_conv(g, "c", g->input, 2, 3, 1, 1, false);
  int r0 = adb_unary(g, KN_OP_RELU, "r0", g->input); /* reads a data input: no hint */
  int r = adb_unary(g, KN_OP_RELU, "r", c);          /* last reader of c: may overwrite it */
  int s = adb_unary(g, KN_OP_SIGMOID, "s", r);       /* r read again below: no hint */
  g->output = adb_binary(g, KN_OP_ADD, "out", s, adb_binary(g, KN_OP_ADD, "t", r, r0));
  pm_run(g, 0, KN_PASS_INPLACE, KN_PIPELINE_INFER);
  CHECK(g->nodes[pm_node(g, "r0")].inplace == 0);
  CHECK(g->nodes[pm_node(g, "r")].inplace == 1);
  CHECK(g->nodes[pm_node(g, "s")].inplace == 0);
  CHECK(g->nodes[pm_node(g, "t")].inplace == 1);
  kn_graph_dispose(g);
}

int main(void) {
  test_epilogue();
  test_epilogue_branch();
  test_eltwise();
  test_bnfold();
  test_lsm_nll_and_bwd();
  test_cbam();
  test_illegal_join();
  test_cleanup();
  test_inplace();
  return kn_check_summary();
}
