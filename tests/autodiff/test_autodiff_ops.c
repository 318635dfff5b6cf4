/* test_autodiff_ops.c — table-driven finite-difference checks: one row (or more) per op a spec
 * may use (KN_OPF_USER in ops.def). Each row builds input -> `pre` (a 3x3 conv with bias, so
 * the op's input gradient reaches a parameter) -> the op -> flatten -> fc -> log_softmax ->
 * nll_loss, runs autodiff and compares every parameter gradient with central differences of the
 * interpreted loss (fd.h). A user op without a row fails the suite.
 */
#include <stdlib.h>
#include <string.h>

#include "ad_build.h"
#include "kn_check.h"
#include "fd.h"

typedef struct {
  kn_op op;
  const char *label;
  int (*build)(kn_graph *g, int pre, int input); /* returns the value fed to the head */
} row;

static int b_conv(kn_graph *g, int x, int in) { return adb_conv(g, "op", x, 6, 3, 2, 1, true); }

static int b_conv_grouped(kn_graph *g, int x, int in) {
  int w = adb_param(g, "op", "weight", kn_shape4(4, 2, 3, 3), KN_INIT_KAIMING_UNIFORM);
  kn_node *n = kn_graph_add_node(g, KN_OP_CONV2D, "op", (int[]){x, w}, 2, (kn_loc){0});
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, 4);
  kn_node_set_pair(n, KN_ATTR_KERNEL, 3, 3);
  kn_node_set_pair(n, KN_ATTR_DILATION, 2, 2);
  kn_node_set_pair(n, KN_ATTR_PADDING, 2, 1);
  kn_node_set_int(n, KN_ATTR_GROUPS, 2);
  return adb_node(g, n);
}

static int b_bn(kn_graph *g, int x, int in) { return adb_bn(g, "op", x); }
static int b_relu(kn_graph *g, int x, int in) { return adb_unary(g, KN_OP_RELU, "op", adb_separate(g, "relu", x)); }
static int b_sigmoid(kn_graph *g, int x, int in) { return adb_unary(g, KN_OP_SIGMOID, "op", x); }
static int b_maxpool(kn_graph *g, int x, int in) {
  return adb_window(g, KN_OP_MAXPOOL2D, "op", adb_separate(g, "window", x), 3, 2, 1);
}
static int b_avgpool(kn_graph *g, int x, int in) { return adb_window(g, KN_OP_AVGPOOL2D, "op", x, 3, 2, 1); }
static int b_gavg(kn_graph *g, int x, int in) { return adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "op", x); }
static int b_gmax(kn_graph *g, int x, int in) {
  return adb_unary(g, KN_OP_GLOBAL_MAXPOOL, "op", adb_separate(g, "global", x));
}
static int b_cmean(kn_graph *g, int x, int in) { return adb_unary(g, KN_OP_CHANNEL_MEAN, "op", x); }
static int b_cmax(kn_graph *g, int x, int in) {
  return adb_unary(g, KN_OP_CHANNEL_MAX, "op", adb_separate(g, "channel", x));
}
static int b_flatten(kn_graph *g, int x, int in) { return adb_unary(g, KN_OP_FLATTEN, "op", x); }
static int b_up_nearest(kn_graph *g, int x, int in) { return adb_upsample(g, "op", x, 2, KN_MODE_NEAREST); }
static int b_up_bilinear(kn_graph *g, int x, int in) { return adb_upsample(g, "op", x, 2, KN_MODE_BILINEAR); }
static int b_softmax(kn_graph *g, int x, int in) { return adb_unary(g, KN_OP_SOFTMAX, "op", x); }
/* The head itself holds linear (on [N, F]), log_softmax and nll_loss. */
static int b_head(kn_graph *g, int x, int in) { return adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "op", x); }
/* linear straight on a [N, C, H, W] tensor (flattened by the op), then sigmoid. */
static int b_linear4d(kn_graph *g, int x, int in) {
  return adb_unary(g, KN_OP_SIGMOID, "op.sigmoid", adb_linear(g, "op", x, 8, true));
}

/* A second branch from the image, for the two-input ops. */
static int other(kn_graph *g, int in, int channels) { return adb_conv(g, "other", in, channels, 3, 1, 1, true); }

static int b_concat(kn_graph *g, int x, int in) {
  int xs[3] = {x, other(g, in, 2), x};
  return adb_concat(g, "op", xs, 3);
}

static int b_add_same(kn_graph *g, int x, int in) { return adb_binary(g, KN_OP_ADD, "op", x, other(g, in, 4)); }

/* [N,C,H,W] + [N,1,H,W], then + a [1,C,1,1] parameter, then [N,C,1,1] + [N,C,H,W]. */
static int b_add_broadcast(kn_graph *g, int x, int in) {
  int y = adb_binary(g, KN_OP_ADD, "op", x, adb_unary(g, KN_OP_CHANNEL_MEAN, "other.mean", other(g, in, 3)));
  int p = adb_param(g, "shift", "weight", kn_shape4(1, 4, 1, 1), KN_INIT_FAN_IN_UNIFORM);
  y = adb_binary(g, KN_OP_ADD, "op2", y, p);
  return adb_binary(g, KN_OP_ADD, "op3", adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "op3.pool", y), y);
}

static int b_mul_same(kn_graph *g, int x, int in) { return adb_binary(g, KN_OP_MUL, "op", x, other(g, in, 4)); }

/* [N,C,H,W] * sigmoid([N,C,1,1]) (channel attention), then [N,1,H,W] * [N,C,H,W] and a
 * [1,C,1,1] parameter scale. */
static int b_mul_broadcast(kn_graph *g, int x, int in) {
  int o = other(g, in, 4);
  int att = adb_unary(g, KN_OP_SIGMOID, "att", adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "att.pool", o));
  int y = adb_binary(g, KN_OP_MUL, "op", x, att);
  y = adb_binary(g, KN_OP_MUL, "op2", adb_unary(g, KN_OP_CHANNEL_MAX, "op2.max", adb_separate(g, "channel", o)), y);
  int p = adb_param(g, "scale", "weight", kn_shape4(1, 4, 1, 1), KN_INIT_FAN_IN_UNIFORM);
  return adb_binary(g, KN_OP_MUL, "op3", y, p);
}

static const row rows[] = {
    {KN_OP_CONV2D, "conv2d", b_conv},
    {KN_OP_CONV2D, "conv2d grouped dilated", b_conv_grouped},
    {KN_OP_BATCHNORM2D, "batchnorm2d", b_bn},
    {KN_OP_RELU, "relu", b_relu},
    {KN_OP_SIGMOID, "sigmoid", b_sigmoid},
    {KN_OP_MAXPOOL2D, "maxpool2d", b_maxpool},
    {KN_OP_AVGPOOL2D, "avgpool2d", b_avgpool},
    {KN_OP_GLOBAL_AVGPOOL, "global_avgpool", b_gavg},
    {KN_OP_GLOBAL_MAXPOOL, "global_maxpool", b_gmax},
    {KN_OP_CHANNEL_MEAN, "channel_mean", b_cmean},
    {KN_OP_CHANNEL_MAX, "channel_max", b_cmax},
    {KN_OP_CONCAT, "concat", b_concat},
    {KN_OP_ADD, "add", b_add_same},
    {KN_OP_ADD, "add broadcast", b_add_broadcast},
    {KN_OP_MUL, "mul", b_mul_same},
    {KN_OP_MUL, "mul broadcast", b_mul_broadcast},
    {KN_OP_LINEAR, "linear on [N,C,H,W]", b_linear4d},
    {KN_OP_FLATTEN, "flatten", b_flatten},
    {KN_OP_UPSAMPLE, "upsample nearest", b_up_nearest},
    {KN_OP_UPSAMPLE, "upsample bilinear", b_up_bilinear},
    {KN_OP_LOG_SOFTMAX, "log_softmax (head)", b_head},
    {KN_OP_NLL_LOSS, "nll_loss (head)", b_head},
    {KN_OP_SOFTMAX, "softmax over channels", b_softmax},
    /* every op of eltwise.def on inputs spread over the regions between its kinks (build NULL) */
#define AD_EW_ROW(ID, nm, S, AT, V, F, G) {KN_OP_##ID, #nm " (all regions)", NULL},
    KN_ELTWISE_OPS(AD_EW_ROW)
#undef AD_EW_ROW
};
#define N_ROWS ((int)(sizeof rows / sizeof rows[0]))

static void run_row(const row *r, uint64_t seed) {
  kn_graph *g = kn_graph_create(r->label);
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(2, 3, 6, 6));
  int pre = adb_conv(g, "pre", g->input, 4, 3, 1, 1, true);
  adb_head(g, r->build ? r->build(g, pre, g->input) : adb_unary(g, r->op, "op", adb_separate(g, "act", pre)), 5);
  kn_train_config cfg;
  kn_train_config_defaults(&cfg);
  fd_case c;
  CHECK(fd_case_init(&c, g, &cfg, seed));
  fd_stats s = {0};
  fd_check_params(&c, r->label, NULL, 3, &s);
  /* The op's input gradient must reach `pre`, and be large enough to tell a wrong rule. */
  fd_stats pre_s = {0};
  fd_check_params(&c, r->label, "pre.", 0, &pre_s);
  printf("%-26s %3d checks, worst %.3f of tolerance, |<grad pre, u>| %.3g\n", r->label, s.checks, s.worst,
         pre_s.largest_dir);
  CHECK(s.checks >= 6 && s.failures == 0);
  CHECK(pre_s.largest_dir > 10 * FD_ATOL);
  fd_case_free(&c);
}

/* Usage: test_autodiff_ops [seed] (another seed draws other weights and data). */
int main(int argc, char **argv) {
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
  /* Coverage: every op a spec may use has a row. */
  for (int op = 0; op < KN_OP_COUNT; op++) {
    if (!(kn_op_table[op].flags & KN_OPF_USER)) continue;
    bool found = false;
    for (int i = 0; i < N_ROWS; i++) found |= (int)rows[i].op == op;
    if (!found) fprintf(stderr, "FAIL op '%s' has no finite-difference row\n", kn_op_table[op].name);
    CHECK(found);
  }
  for (int i = 0; i < N_ROWS; i++) run_row(&rows[i], seed + (uint64_t)i);
  return kn_check_summary();
}
