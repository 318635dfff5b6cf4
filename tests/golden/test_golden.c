/* test_golden.c — kiln's autodiff + reference interpreter against PyTorch (make_golden.py):
 * log-probabilities, loss, every parameter gradient, the losses of 5 SGD-momentum steps and the
 * final BatchNorm running statistics of a tiny CIFAR-shaped network with conv, BN, ReLU, max
 * pool, CBAM, residual add, global pool, linear, log_softmax and nll_loss.
 *
 * Tolerance: |got - want| <= 1e-4 * (|want| + 0.01 * max|want| over the tensor), i.e. 1e-4
 * relative, with a floor at 1 % of the tensor's scale for elements near zero (the reference is
 * float64; the interpreter float32 with float64 accumulation). Prints the worst error per tensor;
 * exits non-zero on any mismatch. Usage: test_golden [file.bin]
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad_build.h"
#include "autodiff.h"
#include "golden_file.h"
#include "interp.h"

#ifndef KN_GOLDEN_FILE
#define KN_GOLDEN_FILE "tiny_cbam.bin"
#endif

static int passed, failed;
static double worst_all;
static const char *worst_name = "-";

static void compare(const char *name, const float *got, const kn_golden_tensor *want, kn_shape shape) {
  if (!want || want->dtype != 0 || kn_shape_numel(want->shape) != kn_shape_numel(shape)) {
    fprintf(stderr, "FAIL %s: missing from the golden file or wrong size\n", name);
    failed++;
    return;
  }
  const float *w = want->data;
  int64_t n = kn_shape_numel(shape), worst_i = 0;
  double scale = 0, worst = 0;
  for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(w[i]));
  for (int64_t i = 0; i < n; i++) {
    double tol = 1e-4 * (fabs(w[i]) + 0.01 * scale);
    double r = fabs((double)got[i] - w[i]) / (tol > 0 ? tol : 1e-30);
    if (!(r <= worst)) { /* also catches NaN */
      worst = isnan(r) ? INFINITY : r;
      worst_i = i;
    }
  }
  bool ok = worst <= 1.0;
  printf("%s %-28s worst %.3g of tolerance (got %.8g want %.8g at %lld)\n", ok ? "ok  " : "FAIL", name, worst,
         got[worst_i], w[worst_i], (long long)worst_i);
  if (worst > worst_all) {
    worst_all = worst;
    worst_name = name;
  }
  if (ok) passed++;
  else failed++;
}

static int conv(kn_graph *g, const char *name, int x, int co, int k) {
  return adb_conv(g, name, x, co, k, 1, k / 2, false);
}

/* The network of make_golden.py, with the same parameter names. */
static kn_graph *build(void) {
  kn_graph *g = kn_graph_create("tiny_cbam");
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(4, 3, 16, 16));
  int t = adb_unary(g, KN_OP_RELU, "relu", adb_bn(g, "bn1", conv(g, "conv1", g->input, 8, 3)));
  int x0 = adb_window(g, KN_OP_MAXPOOL2D, "maxpool", t, 2, 2, 0);
  t = adb_unary(g, KN_OP_RELU, "block.relu1", adb_bn(g, "block.bn1", conv(g, "block.conv1", x0, 8, 3)));
  int f = adb_bn(g, "block.bn2", conv(g, "block.conv2", t, 8, 3));
  /* channel attention: one shared MLP over both pools */
  int w1 = adb_param(g, "block.ca.fc1", "weight", kn_shape4(4, 8, 1, 1), KN_INIT_KAIMING_UNIFORM);
  int w2 = adb_param(g, "block.ca.fc2", "weight", kn_shape4(8, 4, 1, 1), KN_INIT_KAIMING_UNIFORM);
  int branch[2];
  for (int b = 0; b < 2; b++) {
    int p = adb_unary(g, b ? KN_OP_GLOBAL_MAXPOOL : KN_OP_GLOBAL_AVGPOOL, b ? "block.ca.max" : "block.ca.avg", f);
    for (int l = 0; l < 2; l++) {
      kn_node *n = kn_graph_add_node(g, KN_OP_CONV2D, l ? "block.ca.fc2" : "block.ca.fc1", (int[]){p, l ? w2 : w1}, 2,
                                     (kn_loc){0});
      kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, l ? 8 : 4);
      p = adb_node(g, n);
      if (!l) p = adb_unary(g, KN_OP_RELU, "block.ca.relu", p);
    }
    branch[b] = p;
  }
  int mc = adb_unary(g, KN_OP_SIGMOID, "block.ca.sigmoid", adb_binary(g, KN_OP_ADD, "block.ca.add", branch[0], branch[1]));
  int f1 = adb_binary(g, KN_OP_MUL, "block.ca.mul", f, mc);
  int s[2] = {adb_unary(g, KN_OP_CHANNEL_MEAN, "block.sa.mean", f1), adb_unary(g, KN_OP_CHANNEL_MAX, "block.sa.max", f1)};
  int ms = adb_unary(g, KN_OP_SIGMOID, "block.sa.sigmoid", conv(g, "block.sa.conv", adb_concat(g, "block.sa.cat", s, 2), 1, 7));
  int f2 = adb_binary(g, KN_OP_MUL, "block.sa.mul", f1, ms);
  t = adb_unary(g, KN_OP_RELU, "block.relu2", adb_binary(g, KN_OP_ADD, "block.add", f2, x0));
  adb_head(g, adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "avgpool", t), 10);
  return g;
}

static bool load_inputs(kn_graph *g, kn_interp *it, const kn_golden *gf) {
  bool ok = true;
  for (int v = 0; v < g->n_vals; v++) {
    const kn_value *val = &g->vals[v];
    if (val->kind != KN_VAL_PARAM && v != g->input && v != g->labels) continue;
    const kn_golden_tensor *t = kn_golden_find(gf, val->name);
    if (!t || !kn_shape_eq(t->shape, val->shape) || t->dtype != (val->dtype == KN_DT_I32)) {
      fprintf(stderr, "FAIL %s: missing from the golden file or wrong shape\n", val->name);
      ok = false;
      continue;
    }
    memcpy(val->dtype == KN_DT_I32 ? (void *)kn_interp_i32(it, v) : (void *)kn_interp_f32(it, v), t->data,
           (size_t)kn_shape_numel(val->shape) * 4);
  }
  return ok;
}

int main(int argc, char **argv) {
  kn_golden *gf = kn_golden_load(argc > 1 ? argv[1] : KN_GOLDEN_FILE);
  if (!gf) {
    printf("0 passed, 1 failed\n");
    return 1;
  }
  kn_graph *g = build();
  kn_train_config cfg;
  kn_train_config_defaults(&cfg);
  cfg.lr = 0.1;
  cfg.momentum = 0.9;
  kn_diag d;
  kn_diag_init(&d);
  if (!kn_autodiff(g, &cfg, NULL, &d)) {
    kn_diag_print(&d, stderr);
    return 1;
  }
  kn_diag_free(&d);
  kn_interp *it = kn_interp_create(g);
  kn_interp_init_params(it, 1);
  if (!load_inputs(g, it, gf)) failed++;
  float losses[5];
  for (int step = 0; step < 5; step++) {
    kn_interp_f32(it, g->lr)[0] = 0.1f;
    kn_interp_f32(it, g->step)[0] = (float)(step + 1);
    kn_interp_run(it);
    losses[step] = kn_interp_f32(it, g->loss)[0];
    if (step) continue;
    compare("logits", kn_interp_f32(it, g->output), kn_golden_find(gf, "logits"), g->vals[g->output].shape);
    compare("loss", kn_interp_f32(it, g->loss), kn_golden_find(gf, "loss"), kn_shape1(1));
    /* Every gradient PyTorch computed must exist in kiln's training graph, and no more. */
    int n_golden = 0, n_kiln = 0;
    for (int i = 0; i < gf->n; i++) {
      if (strncmp(gf->t[i].name, "grad:", 5) != 0) continue;
      n_golden++;
      int v = kn_graph_find_value(g, gf->t[i].name);
      if (v < 0) {
        fprintf(stderr, "FAIL %s: no such gradient in the training graph\n", gf->t[i].name);
        failed++;
      } else {
        compare(gf->t[i].name, kn_interp_f32(it, v), &gf->t[i], g->vals[v].shape);
      }
    }
    for (int v = 0; v < g->n_vals; v++) n_kiln += g->vals[v].kind == KN_VAL_PARAM;
    if (n_golden != n_kiln || n_golden == 0) {
      fprintf(stderr, "FAIL %d parameters in kiln's graph, %d gradients in the golden file\n", n_kiln, n_golden);
      failed++;
    }
  }
  compare("losses (5 SGD steps)", losses, kn_golden_find(gf, "losses"), kn_shape1(5));
  const char *stats[2] = {"bn1.running_mean", "bn1.running_var"};
  for (int i = 0; i < 2; i++) {
    char name[64];
    snprintf(name, sizeof name, "final:%s", stats[i]);
    int v = kn_graph_find_value(g, stats[i]);
    compare(name, kn_interp_f32(it, v), kn_golden_find(gf, name), g->vals[v].shape);
  }
  printf("worst error: %.3g of tolerance (%s)\n", worst_all, worst_name);
  printf("%d passed, %d failed\n", passed, failed);
  kn_interp_dispose(it);
  kn_graph_dispose(g);
  kn_golden_dispose(gf);
  return failed ? 1 : 0;
}
